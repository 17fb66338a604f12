// consul-template's arithmetic helpers (add, subtract, multiply, divide, modulo, minimum,
// maximum). Operands are (b, a) and the result is `a OP b`, so the piped value is the left
// operand. Result types follow Go's reflect-based code: int64, uint64 or float64.
#include <cmath>

#include "functions/helpers_internal.hpp"

namespace templet::helpers {

namespace {

enum class NumKind { I, U, F, Other };

NumKind classify(const Value& v) {
  switch (v.kind()) {
    case Kind::Int:
      return NumKind::I;
    case Kind::Uint:
      return NumKind::U;
    case Kind::Float:
      return NumKind::F;
    default:
      return NumKind::Other;
  }
}

double as_f(const Value& v, NumKind k) {
  return k == NumKind::I   ? static_cast<double>(v.as_int())
         : k == NumKind::U ? static_cast<double>(v.as_uint())
                           : v.as_float();
}

// Go's reflect-based operand as int64 (uint values are reinterpreted, as int64(v.Uint()) does).
int64_t as_i(const Value& v, NumKind k) {
  return k == NumKind::U ? static_cast<int64_t>(v.as_uint()) : v.as_int();
}

// `%q (%T)` of an operand, as fmt prints a reflect.Value.
std::string describe(const Value& v) {
  std::string q =
      (v.kind() == Kind::Invalid || v.kind() == Kind::Nil) ? "<invalid reflect.Value>" : go_q(v);
  return q + " (" + go_type(v) + ")";
}

[[noreturn]] void unknown(const std::string& name, const Value& v) {
  throw FuncError(name + ": unknown type for " + describe(v));
}

[[noreturn]] void divide_by_zero() {
  throw FuncError("runtime error: integer divide by zero");
}

enum class Op { Add, Sub, Mul, Div, Mod };

int64_t int_op(Op op, int64_t x, int64_t y) {
  uint64_t ux = static_cast<uint64_t>(x), uy = static_cast<uint64_t>(y);
  switch (op) {
    case Op::Add:
      return static_cast<int64_t>(ux + uy);
    case Op::Sub:
      return static_cast<int64_t>(ux - uy);
    case Op::Mul:
      return static_cast<int64_t>(ux * uy);
    case Op::Div:
      if (y == 0) divide_by_zero();
      if (y == -1) return static_cast<int64_t>(0 - ux);  // Go wraps MinInt64 / -1
      return x / y;
    case Op::Mod:
      if (y == 0) divide_by_zero();
      if (y == -1) return 0;
      return x % y;
  }
  return 0;
}

uint64_t uint_op(Op op, uint64_t x, uint64_t y) {
  switch (op) {
    case Op::Add:
      return x + y;
    case Op::Sub:
      return x - y;
    case Op::Mul:
      return x * y;
    case Op::Div:
      if (y == 0) divide_by_zero();
      return x / y;
    case Op::Mod:
      if (y == 0) divide_by_zero();
      return x % y;
  }
  return 0;
}

double float_op(Op op, double x, double y) {
  switch (op) {
    case Op::Add:
      return x + y;
    case Op::Sub:
      return x - y;
    case Op::Mul:
      return x * y;
    case Op::Div:
      return x / y;
    case Op::Mod:
      return std::fmod(x, y);  // unreachable: modulo rejects floats
  }
  return 0;
}

Value arith(const std::string& name, Op op, const Value& b, const Value& a) {
  NumKind ak = classify(a), bk = classify(b);
  bool floats_ok = op != Op::Mod;
  if (ak == NumKind::Other || (ak == NumKind::F && !floats_ok)) unknown(name, a);
  if (bk == NumKind::Other || (bk == NumKind::F && !floats_ok)) unknown(name, b);
  if (ak == NumKind::F || bk == NumKind::F)
    return Value::floating(float_op(op, as_f(a, ak), as_f(b, bk)));
  if (ak == NumKind::U && bk == NumKind::U)
    return Value::uinteger(uint_op(op, a.as_uint(), b.as_uint()), &types::uint64);
  return Value::integer(int_op(op, as_i(a, ak), as_i(b, bk)), &types::int64);
}

// An operand re-typed the way Go's minimum/maximum return it (v.Int(), v.Uint(), v.Float()).
Value widened(const Value& v, NumKind k) {
  switch (k) {
    case NumKind::I:
      return Value::integer(v.as_int(), &types::int64);
    case NumKind::U:
      return Value::uinteger(v.as_uint(), &types::uint64);
    default:
      return Value::floating(v.as_float());
  }
}

Value extremum(const std::string& name, bool want_min, const Value& b, const Value& a) {
  NumKind ak = classify(a), bk = classify(b);
  if (ak == NumKind::Other) unknown(name, a);
  if (bk == NumKind::Other) unknown(name, b);
  bool a_wins;
  if (ak == NumKind::F || bk == NumKind::F) {
    double x = as_f(a, ak), y = as_f(b, bk);
    a_wins = want_min ? x < y : x > y;
  } else if (ak == NumKind::U && bk == NumKind::U) {
    a_wins = want_min ? a.as_uint() < b.as_uint() : a.as_uint() > b.as_uint();
  } else {
    int64_t x = as_i(a, ak), y = as_i(b, bk);
    a_wins = want_min ? x < y : x > y;
  }
  return a_wins ? widened(a, ak) : widened(b, bk);
}

}  // namespace

void register_math(FunctionTable& t) {
  struct Entry {
    const char* name;
    Op op;
  };
  for (auto e : {Entry{"add", Op::Add}, Entry{"subtract", Op::Sub}, Entry{"multiply", Op::Mul},
                 Entry{"divide", Op::Div}, Entry{"modulo", Op::Mod}}) {
    std::string name = e.name;
    Op op = e.op;
    define(t, name, {nullptr, nullptr}, [name, op](Args a) { return arith(name, op, a[0], a[1]); });
  }
  define(t, "minimum", {nullptr, nullptr},
         [](Args a) { return extremum("minimum", true, a[0], a[1]); });
  define(t, "maximum", {nullptr, nullptr},
         [](Args a) { return extremum("maximum", false, a[0], a[1]); });
}

}  // namespace templet::helpers
