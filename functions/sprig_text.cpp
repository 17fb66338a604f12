// Sprig's regex and duration functions (regex.go, date.go's duration, durationRound, ago). The
// regex functions take Sprig's argument order (pattern, input, replacement); the plain variants
// fail as Go's MustCompile panics, the must variants return the compile error. duration and
// durationRound only read strings and int64s, as Sprig's type switches do: an int constant counts
// as 0.
#include <chrono>
#include <cmath>

#include "functions/sprig_internal.hpp"
#include "renderer/lexer.hpp"

namespace templet::helpers::sprig {

namespace {

const Type* const S_ = &types::string;
const Type* const I_ = &types::int_;

Value S(std::string s) {
  return Value::string(std::move(s));
}

// strconv.CanBackquote, for MustCompile's panic text.
bool can_backquote(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    size_t w;
    char32_t r = decode_rune(s, i, w);
    if (r == 0xFFFD && w == 1) return false;
    if (r == '`' || r == 0xFEFF || (r < ' ' && r != '\t') || r == 0x7F) return false;
    i += w;
  }
  return true;
}

// Runs `f`; a compile error becomes MustCompile's panic text when `must` is false.
template <typename F>
auto with_compile(const std::string& pattern, bool must, F f) {
  try {
    return f();
  } catch (const FuncError& e) {
    if (must) throw;
    std::string q = can_backquote(pattern) ? "`" + pattern + "`" : go_quote(pattern);
    throw FuncError("regexp: Compile(" + q + "): " + e.what());
  }
}

Value find_all(const std::string& re, const std::string& s, int64_t n) {
  if (n == 0) return Value::typed_nil(&types::list_string);
  auto spans = regex_find_all(re, s, n);
  if (spans.empty()) return Value::typed_nil(&types::list_string);
  std::vector<std::string> out;
  for (auto [a, b] : spans) out.push_back(s.substr(a, b - a));
  return string_list(out);
}

Value split(const std::string& re, const std::string& s, int64_t n) {
  if (n == 0) return Value::typed_nil(&types::list_string);
  if (!re.empty() && s.empty()) return string_list({""});
  auto spans = regex_find_all(re, s, n);
  std::vector<std::string> out;
  size_t beg = 0, end = 0;
  for (auto [a, b] : spans) {
    if (n > 0 && static_cast<int64_t>(out.size()) == n - 1) break;
    end = a;
    if (b != 0) out.push_back(s.substr(beg, end - beg));
    beg = b;
  }
  if (end != s.size()) out.push_back(s.substr(beg));
  return string_list(out);
}

std::string quote_meta(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\.+*?()|[]{}^$").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// time.Duration's String.
std::string duration_string(int64_t d) {
  if (d == 0) return "0s";
  bool neg = d < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(d) : static_cast<uint64_t>(d);
  auto frac = [](uint64_t v, int prec, std::string& tail) {
    // v's last `prec` digits after a point, trailing zeros dropped.
    std::string digits;
    bool print = false;
    for (int i = 0; i < prec; ++i) {
      int digit = static_cast<int>(v % 10);
      print = print || digit != 0;
      if (print) digits.insert(digits.begin(), static_cast<char>('0' + digit));
      v /= 10;
    }
    if (print) tail = "." + digits + tail;
    return v;
  };
  std::string out;
  if (u < 1000000000ULL) {
    std::string unit;
    int prec;
    if (u < 1000) {
      return (neg ? "-" : "") + std::to_string(u) + "ns";
    } else if (u < 1000000) {
      unit = "\u00b5s";
      prec = 3;
    } else {
      unit = "ms";
      prec = 6;
    }
    std::string tail = unit;
    uint64_t whole = frac(u, prec, tail);
    out = std::to_string(whole) + tail;
  } else {
    std::string tail = "s";
    uint64_t secs = frac(u, 9, tail);
    out = std::to_string(secs % 60) + tail;
    uint64_t mins = secs / 60;
    if (mins > 0) {
      out = std::to_string(mins % 60) + "m" + out;
      uint64_t hours = mins / 60;
      if (hours > 0) out = std::to_string(hours) + "h" + out;
    }
  }
  return (neg ? "-" : "") + out;
}

// time.ParseDuration; false on any syntax error (durationRound then uses 0).
bool parse_duration(std::string s, int64_t& out) {
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s = s.substr(1);
  }
  if (s == "0") {
    out = 0;
    return true;
  }
  if (s.empty()) return false;
  long double total = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    long double v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0');
    bool pre = i > start, post = false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 1;
      size_t fs = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        scale /= 10;
        v += (s[i++] - '0') * scale;
      }
      post = i > fs;
    }
    if (!pre && !post) return false;
    size_t us = i;
    while (i < s.size() && s[i] != '.' && (s[i] < '0' || s[i] > '9')) ++i;
    std::string unit = s.substr(us, i - us);
    long double mult;
    if (unit == "ns")
      mult = 1;
    else if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs")
      mult = 1e3;
    else if (unit == "ms")
      mult = 1e6;
    else if (unit == "s")
      mult = 1e9;
    else if (unit == "m")
      mult = 60e9;
    else if (unit == "h")
      mult = 3600e9;
    else
      return false;
    total += v * mult;
  }
  if (total > 9.223372036854775807e18L) return false;
  out = static_cast<int64_t>(neg ? -total : total);
  return true;
}

std::string duration_round(const Value& v) {
  int64_t d = 0;
  if (v.kind() == Kind::String) {
    if (!parse_duration(v.as_string(), d)) d = 0;
  } else if (v.type() == &types::int64) {
    d = v.as_int();
  }
  uint64_t u = d < 0 ? 0 - static_cast<uint64_t>(d) : static_cast<uint64_t>(d);
  const uint64_t second = 1000000000ULL, minute = 60 * second, hour = 60 * minute, day = 24 * hour,
                 month = 30 * day, year = 365 * day;
  if (u > year) return std::to_string(u / year) + "y";
  if (u > month) return std::to_string(u / month) + "mo";
  if (u > day) return std::to_string(u / day) + "d";
  if (u > hour) return std::to_string(u / hour) + "h";
  if (u > minute) return std::to_string(u / minute) + "m";
  if (u > second) return std::to_string(u / second) + "s";
  return "0s";
}

}  // namespace

void register_text(FunctionTable& t) {
  for (bool must : {false, true}) {
    std::string p = must ? "sprig_mustRegex" : "sprig_regex";
    define(t, p + "Match", {S_, S_}, [must](Args a) {
      try {
        return Value::boolean(!regex_find_all(a[0].as_string(), a[1].as_string(), 1).empty());
      } catch (const FuncError&) {
        if (must) throw;
        return Value::boolean(false);
      }
    });
    define(t, p + "FindAll", {S_, S_, I_}, [must](Args a) {
      return with_compile(a[0].as_string(), must, [&] {
        return find_all(a[0].as_string(), a[1].as_string(), a[2].as_int());
      });
    });
    define(t, p + "Find", {S_, S_}, [must](Args a) {
      return with_compile(a[0].as_string(), must, [&] {
        auto spans = regex_find_all(a[0].as_string(), a[1].as_string(), 1);
        if (spans.empty()) return S("");
        return S(a[1].as_string().substr(spans[0].first, spans[0].second - spans[0].first));
      });
    });
    for (bool literal : {false, true})
      define(t, p + (literal ? "ReplaceAllLiteral" : "ReplaceAll"), {S_, S_, S_},
             [must, literal](Args a) {
               return with_compile(a[0].as_string(), must, [&] {
                 return S(
                     regex_replace(a[0].as_string(), a[1].as_string(), a[2].as_string(), literal));
               });
             });
    define(t, p + "Split", {S_, S_, I_}, [must](Args a) {
      return with_compile(a[0].as_string(), must,
                          [&] { return split(a[0].as_string(), a[1].as_string(), a[2].as_int()); });
    });
  }
  define(t, "sprig_regexQuoteMeta", {S_}, [](Args a) { return S(quote_meta(a[0].as_string())); });

  define(t, "sprig_duration", {nullptr}, [](Args a) {
    int64_t n = 0;
    if (a[0].kind() == Kind::String) {
      std::string err;
      if (!parse_int(a[0].as_string(), 10, n, err)) n = 0;
    } else if (a[0].type() == &types::int64) {
      n = a[0].as_int();
    }
    // time.Duration arithmetic wraps like Go's int64.
    return S(duration_string(
        static_cast<int64_t>(static_cast<uint64_t>(n) * static_cast<uint64_t>(1000000000))));
  });
  define(t, "sprig_durationRound", {nullptr}, [](Args a) { return S(duration_round(a[0])); });
  define(t, "sprig_ago", {nullptr}, [](Args a) {
    // Unix seconds (int or int64) since when; anything else (Sprig also takes a time.Time,
    // which templates here cannot make) counts as now. Rounded to the second, as Go rounds.
    using namespace std::chrono;
    const int64_t now_ns =
        duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
    int64_t since_ns = now_ns;
    if (a[0].kind() == Kind::Int) since_ns = a[0].as_int() * 1000000000LL;
    int64_t d = now_ns - since_ns;
    int64_t r = (d >= 0 ? d + 500000000LL : d - 500000000LL) / 1000000000LL * 1000000000LL;
    return S(duration_string(r));
  });
}

}  // namespace templet::helpers::sprig
