// Sprig's numeric, default, JSON and reflection families (numeric.go, defaults.go, reflect.go).
// The integer functions convert with spf13/cast (a string that does not parse is 0); the *f
// functions go through shopspring/decimal: each operand becomes the shortest decimal that
// round-trips, the arithmetic is exact (division rounds half away from zero at 16 places), and
// the result is the float64 nearest that decimal.
#include <cmath>
#include <cstdlib>
#include <random>

#include "functions/sprig_internal.hpp"

namespace templet::helpers::sprig {

namespace {

const Type* const S_ = &types::string;
const Type* const I_ = &types::int_;

Value I64(int64_t v) {
  return Value::integer(v, &types::int64);
}
Value F(double v) {
  return Value::floating(v);
}

int64_t wrap_mul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}

// A decimal coef * 10^exp; `ok` turns false when a value outgrows 128 bits, and the operation
// then falls back to long double (far outside what templates compute with).
struct Decimal {
  __int128 coef = 0;
  int exp = 0;
  bool ok = true;
};

Decimal from_float(double f) {
  Decimal d;
  if (f == 0 || !std::isfinite(f)) return d;
  std::string e = format_float(f, 'e');  // shortest: [-]d[.ddd]e±XX
  size_t at = e.find('e');
  std::string mant = e.substr(0, at);
  int exp = std::atoi(e.c_str() + at + 1);
  bool neg = mant[0] == '-';
  if (neg) mant = mant.substr(1);
  std::string digits;
  int frac = 0;
  bool dot = false;
  for (char c : mant) {
    if (c == '.') {
      dot = true;
      continue;
    }
    digits += c;
    if (dot) ++frac;
  }
  for (char c : digits) d.coef = d.coef * 10 + (c - '0');
  if (neg) d.coef = -d.coef;
  d.exp = exp - frac;
  return d;
}

const __int128 kLimit = static_cast<__int128>(1) << 120;

bool scale(__int128& c, int by) {
  for (int i = 0; i < by; ++i) {
    if (c > kLimit / 10 || c < -kLimit / 10) return false;
    c *= 10;
  }
  return true;
}

double to_double(const Decimal& d) {
  __int128 c = d.coef;
  bool neg = c < 0;
  if (neg) c = -c;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(c % 10)));
    c /= 10;
  } while (c > 0);
  std::string text = (neg ? "-" : "") + digits + "e" + std::to_string(d.exp);
  return std::strtod(text.c_str(), nullptr);
}

double decimal_op(char op, double x, double y) {
  Decimal a = from_float(x), b = from_float(y), r;
  bool ok = true;
  switch (op) {
    case '+':
    case '-': {
      int exp = std::min(a.exp, b.exp);
      ok = scale(a.coef, a.exp - exp) && scale(b.coef, b.exp - exp);
      r.coef = op == '+' ? a.coef + b.coef : a.coef - b.coef;
      r.exp = exp;
      break;
    }
    case '*': {
      __int128 lim = static_cast<__int128>(1) << 62;
      ok = (a.coef < lim && a.coef > -lim) || (b.coef < lim && b.coef > -lim);
      if (ok) ok = (a.coef < lim && a.coef > -lim && b.coef < lim && b.coef > -lim);
      r.coef = a.coef * b.coef;
      r.exp = a.exp + b.exp;
      break;
    }
    case '/': {
      if (b.coef == 0) throw FuncError("decimal division by 0");
      // q = a / b rounded half away from zero at 16 decimal places.
      int shift = a.exp - b.exp + 16;
      __int128 num = a.coef, den = b.coef;
      if (shift >= 0)
        ok = scale(num, shift);
      else
        ok = scale(den, -shift);
      if (ok) {
        __int128 q = num / den, rem = num % den;
        __int128 r2 = rem < 0 ? -rem : rem, d2 = den < 0 ? -den : den;
        if (r2 * 2 >= d2) q += ((num < 0) != (den < 0)) ? -1 : 1;
        r.coef = q;
        r.exp = -16;
      }
      break;
    }
  }
  if (!ok) {
    long double lx = x, ly = y;
    long double v = op == '+' ? lx + ly : op == '-' ? lx - ly : op == '*' ? lx * ly : lx / ly;
    return static_cast<double>(v);
  }
  return to_double(r);
}

double fold(char op, double start, Args rest) {
  double acc = start;
  for (const auto& v : rest) acc = decimal_op(op, acc, to_float64(v));
  return acc;
}

// fmt's %T of what Sprig sees (interface{} arguments hold the dynamic value).
std::string type_of(const Value& v) {
  if (!v.valid() || v.kind() == Kind::Nil) return "<nil>";
  return go_type(v);
}

Value json(const Value& v, bool pretty, bool escape, bool must) {
  try {
    return Value::string(to_json(v, escape, pretty));
  } catch (const FuncError& e) {
    if (must) throw FuncError(std::string("json: ") + e.what());
    return Value::string("");
  }
}

// Go's math.Max and math.Min: NaN wins, and +0 is larger than -0.
double go_math_max(double v, double x) {
  if (std::isnan(v) || std::isnan(x)) return NAN;
  if (v == x && v == 0) return std::signbit(v) ? x : v;
  return std::max(v, x);
}
double go_math_min(double v, double x) {
  if (std::isnan(v) || std::isnan(x)) return NAN;
  if (v == x && v == 0) return std::signbit(v) ? v : x;
  return std::min(v, x);
}

// Sprig's maxf/minf: every argument as float64, folded left.
double fold_float64(Args a, double (*pick)(double, double)) {
  double v = to_float64(a[0]);
  for (size_t i = 1; i < a.size(); ++i) v = pick(v, to_float64(a[i]));
  return v;
}

}  // namespace

void register_math(FunctionTable& t) {
  define(t, "sprig_add1", {nullptr}, [](Args a) { return I64(to_int64(a[0]) + 1); });
  define(t, "sprig_div", {nullptr, nullptr}, [](Args a) {
    int64_t x = to_int64(a[0]), y = to_int64(a[1]);
    if (y == 0) throw FuncError("runtime error: integer divide by zero");
    return I64(y == -1 ? static_cast<int64_t>(0 - static_cast<uint64_t>(x)) : x / y);
  });
  define(t, "sprig_mod", {nullptr, nullptr}, [](Args a) {
    int64_t x = to_int64(a[0]), y = to_int64(a[1]);
    if (y == 0) throw FuncError("runtime error: integer divide by zero");
    return I64(y == -1 ? 0 : x % y);
  });
  define(
      t, "sprig_mul", {nullptr, nullptr},
      [](Args a) {
        int64_t v = to_int64(a[0]);
        for (size_t i = 1; i < a.size(); ++i) v = wrap_mul(v, to_int64(a[i]));
        return I64(v);
      },
      true);
  for (const char* name : {"sprig_max", "sprig_biggest"})
    define(
        t, name, {nullptr, nullptr},
        [](Args a) {
          int64_t v = to_int64(a[0]);
          for (size_t i = 1; i < a.size(); ++i) v = std::max(v, to_int64(a[i]));
          return I64(v);
        },
        true);
  define(
      t, "sprig_min", {nullptr, nullptr},
      [](Args a) {
        int64_t v = to_int64(a[0]);
        for (size_t i = 1; i < a.size(); ++i) v = std::min(v, to_int64(a[i]));
        return I64(v);
      },
      true);
  define(
      t, "sprig_maxf", {nullptr, nullptr}, [](Args a) { return F(fold_float64(a, go_math_max)); },
      true);
  define(
      t, "sprig_minf", {nullptr, nullptr}, [](Args a) { return F(fold_float64(a, go_math_min)); },
      true);
  define(t, "sprig_int", {nullptr}, [](Args a) { return Value::integer(to_int64(a[0])); });
  define(t, "sprig_int64", {nullptr}, [](Args a) { return I64(to_int64(a[0])); });
  define(t, "sprig_float64", {nullptr}, [](Args a) { return F(to_float64(a[0])); });
  define(t, "sprig_floor", {nullptr}, [](Args a) { return F(std::floor(to_float64(a[0]))); });
  define(t, "sprig_ceil", {nullptr}, [](Args a) { return F(std::ceil(to_float64(a[0]))); });
  define(
      t, "sprig_round", {nullptr, I_, &types::float64},
      [](Args a) {
        double on = a.size() > 2 ? a[2].as_float() : .5;
        double pow = std::pow(10, static_cast<double>(a[1].as_int()));
        double digit = pow * to_float64(a[0]);
        double ip;
        double frac = std::modf(digit, &ip);
        return F((frac >= on ? std::ceil(digit) : std::floor(digit)) / pow);
      },
      true);
  define(t, "sprig_toDecimal", {nullptr}, [](Args a) {
    int64_t out;
    std::string err;
    return I64(parse_int(go_v(a[0]), 8, out, err) ? out : 0);
  });
  define(t, "sprig_randInt", {I_, I_}, [](Args a) {
    int64_t lo = a[0].as_int(), n = a[1].as_int() - lo;
    if (n <= 0) throw FuncError("invalid argument to Intn");
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    return Value::integer(lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(n)));
  });
  define(t, "sprig_add1f", {nullptr},
         [](Args a) { return F(decimal_op('+', to_float64(a[0]), 1)); });
  define(
      t, "sprig_addf", {nullptr}, [](Args a) { return F(fold('+', 0, a)); }, true);
  define(
      t, "sprig_subf", {nullptr, nullptr},
      [](Args a) { return F(fold('-', to_float64(a[0]), a.subspan(1))); }, true);
  define(
      t, "sprig_mulf", {nullptr, nullptr},
      [](Args a) { return F(fold('*', to_float64(a[0]), a.subspan(1))); }, true);
  define(
      t, "sprig_divf", {nullptr, nullptr},
      [](Args a) { return F(fold('/', to_float64(a[0]), a.subspan(1))); }, true);

  // Defaults and JSON.
  define(t, "sprig_empty", {nullptr}, [](Args a) { return Value::boolean(empty(a[0])); });
  define(
      t, "sprig_all", {nullptr},
      [](Args a) {
        for (const auto& v : a)
          if (empty(v)) return Value::boolean(false);
        return Value::boolean(true);
      },
      true);
  define(
      t, "sprig_any", {nullptr},
      [](Args a) {
        for (const auto& v : a)
          if (!empty(v)) return Value::boolean(true);
        return Value::boolean(false);
      },
      true);
  define(t, "sprig_toPrettyJson", {nullptr}, [](Args a) { return json(a[0], true, true, false); });
  define(t, "sprig_toRawJson", {nullptr}, [](Args a) { return json(a[0], false, false, true); });
  define(t, "sprig_mustToJson", {nullptr}, [](Args a) { return json(a[0], false, true, true); });
  define(t, "sprig_mustToPrettyJson", {nullptr},
         [](Args a) { return json(a[0], true, true, true); });
  define(t, "sprig_mustToRawJson", {nullptr},
         [](Args a) { return json(a[0], false, false, true); });
  define(t, "sprig_mustFromJson", {S_}, [](Args a) { return parse_json(a[0].as_string()); });

  // Reflection.
  define(t, "sprig_typeOf", {nullptr}, [](Args a) { return Value::string(type_of(a[0])); });
  define(t, "sprig_typeIs", {S_, nullptr},
         [](Args a) { return Value::boolean(a[0].as_string() == type_of(a[1])); });
  define(t, "sprig_typeIsLike", {S_, nullptr}, [](Args a) {
    std::string ty = type_of(a[1]);
    return Value::boolean(a[0].as_string() == ty || "*" + a[0].as_string() == ty);
  });
  define(t, "sprig_kindOf", {nullptr}, [](Args a) { return Value::string(kind_name(a[0])); });
  define(t, "sprig_kindIs", {S_, nullptr},
         [](Args a) { return Value::boolean(a[0].as_string() == kind_name(a[1])); });
  define(t, "sprig_deepEqual", {nullptr, nullptr},
         [](Args a) { return Value::boolean(deep_equal(a[0], a[1])); });
}

}  // namespace templet::helpers::sprig
