// Registration plumbing and the Go fmt/strconv behaviour shared by the helper modules: shortest
// float formatting ('g', 'f', 'e' and encoding/json's variant), %q/%v/%T text for error messages,
// strconv's integer and float parsers with their exact error strings, and UTF-8/whitespace helpers.
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "functions/helpers_internal.hpp"

namespace templet {

namespace types {
const Type loop_stream = [] {
  Type t;
  t.kind = Kind::List;
  t.name = "<-chan int64";
  t.elem = &types::int64;
  return t;
}();
}  // namespace types

void register_helper_functions(FunctionTable& table) {
  helpers::register_strings(table);
  helpers::register_encoding(table);
  helpers::register_yaml(table);
  helpers::register_toml(table);
  helpers::register_math(table);
  helpers::register_collections(table);
  helpers::register_sprig(table);
}

namespace helpers {

void define(FunctionTable& t, std::string name, std::vector<const Type*> params, Body body,
            bool variadic) {
  Function f;
  f.name = std::move(name);
  f.params = std::move(params);
  f.variadic = variadic;
  f.call = [body = std::move(body)](CallContext&, std::span<const Value> args) -> Value {
    Value out = body(args);
    for (const auto& a : args)
      if (a.tainted()) return out.with_taint();
    return out;
  };
  t.add(std::move(f));
}

// ---- floats ----

namespace {
// Shortest round-trip digits of |f| and the decimal exponent of the first digit.
void shortest(double f, std::string& digits, int& exp10) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, std::fabs(f), std::chars_format::scientific);
  std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
  size_t e = s.find('e');
  digits.clear();
  for (char c : s.substr(0, e))
    if (c != '.') digits.push_back(c);
  exp10 = std::atoi(std::string(s.substr(e + 1)).c_str());
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
}

std::string fmt_e(bool neg, const std::string& d, int exp10) {
  std::string out = neg ? "-" : "";
  out += d[0];
  if (d.size() > 1) out += "." + d.substr(1);
  out += exp10 < 0 ? "e-" : "e+";
  int a = std::abs(exp10);
  if (a < 10) out += "0";
  out += std::to_string(a);
  return out;
}

std::string fmt_f(bool neg, const std::string& d, int exp10) {
  std::string out = neg ? "-" : "";
  int dp = exp10 + 1;  // digits before the decimal point
  if (dp <= 0) {
    out += "0." + std::string(static_cast<size_t>(-dp), '0') + d;
  } else if (static_cast<size_t>(dp) >= d.size()) {
    out += d + std::string(static_cast<size_t>(dp) - d.size(), '0');
  } else {
    out += d.substr(0, static_cast<size_t>(dp)) + "." + d.substr(static_cast<size_t>(dp));
  }
  return out;
}
}  // namespace

std::string format_float(double f, char fmt) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "+Inf" : "-Inf";
  bool neg = std::signbit(f);
  std::string d;
  int exp10 = 0;
  if (f == 0) {
    d = "0";
  } else {
    shortest(f, d, exp10);
  }
  if (fmt == 'e') return fmt_e(neg, d, exp10);
  if (fmt == 'f') return fmt_f(neg, d, exp10);
  const int eprec = 6;  // Go uses 6 for the %e/%f decision at shortest precision
  if (exp10 < -4 || exp10 >= eprec) return fmt_e(neg, d, exp10);
  return fmt_f(neg, d, exp10);
}

std::string json_float(double f) {
  double a = std::fabs(f);
  if (a != 0 && (a < 1e-6 || a >= 1e21)) {
    std::string s = format_float(f, 'e');
    size_t n = s.size();
    if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') {
      s[n - 2] = s[n - 1];
      s.pop_back();
    }
    return s;
  }
  return format_float(f, 'f');
}

// ---- UTF-8 ----

char32_t decode_rune(std::string_view s, size_t i, size_t& width) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  width = 1;
  if (c < 0x80) return c;
  int n = 0;
  char32_t r = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    r = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    r = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    r = c & 0x07;
  } else {
    return 0xFFFD;
  }
  if (i + static_cast<size_t>(n) > s.size()) return 0xFFFD;
  for (int k = 1; k < n; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
    if ((cc & 0xC0) != 0x80) return 0xFFFD;
    r = (r << 6) | (cc & 0x3F);
  }
  if ((n == 2 && r < 0x80) || (n == 3 && r < 0x800) || (n == 4 && r < 0x10000) || r > 0x10FFFF ||
      (r >= 0xD800 && r <= 0xDFFF))
    return 0xFFFD;
  width = static_cast<size_t>(n);
  return r;
}

void append_utf8(std::string& out, char32_t r) {
  if (r < 0x80) {
    out.push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (r >> 6)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (r >> 12)));
    out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (r >> 18)));
    out.push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
}

namespace {
bool is_unicode_space(char32_t r) {
  switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200A;
  }
}

// Go's unicode.IsPrint, approximated: controls, a few format characters and invalid runes are
// not printable; every other assigned-looking rune is.
bool is_print(char32_t r) {
  if (r < 0x20 || r == 0x7F) return false;
  if (r >= 0x80 && r < 0xA0) return false;
  if (r == 0xAD || r == 0x2028 || r == 0x2029 || r == 0xFEFF) return false;
  if (r >= 0x200B && r <= 0x200F) return false;
  if (r >= 0x2060 && r <= 0x206F) return false;
  if (r >= 0xD800 && r <= 0xDFFF) return false;
  if (r >= 0xE000 && r <= 0xF8FF) return false;
  return r <= 0x10FFFF;
}

const char kHex[] = "0123456789abcdef";

void quote_rune_into(std::string& out, char32_t r, char q) {
  if (r == static_cast<char32_t>(q) || r == '\\') {
    out += '\\';
    out += static_cast<char>(r);
    return;
  }
  if (is_print(r)) {
    append_utf8(out, r);
    return;
  }
  switch (r) {
    case '\a':
      out += "\\a";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\v':
      out += "\\v";
      return;
  }
  if (r < 0x20 || r == 0x7F) {
    out += "\\x";
    out += kHex[r >> 4];
    out += kHex[r & 15];
  } else if (r < 0x10000) {
    out += "\\u";
    for (int sh = 12; sh >= 0; sh -= 4) out += kHex[(r >> sh) & 15];
  } else {
    out += "\\U";
    for (int sh = 28; sh >= 0; sh -= 4) out += kHex[(r >> sh) & 15];
  }
}
}  // namespace

std::string go_quote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    size_t w;
    char32_t r = decode_rune(s, i, w);
    if (r == 0xFFFD && w == 1 && static_cast<unsigned char>(s[i]) >= 0x80) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      quote_rune_into(out, r, '"');
    }
    i += w;
  }
  return out + "\"";
}

std::string_view trim_space(std::string_view s) {
  size_t b = 0;
  while (b < s.size()) {
    size_t w;
    char32_t r = decode_rune(s, b, w);
    if (!is_unicode_space(r)) break;
    b += w;
  }
  size_t e = s.size();
  while (e > b) {
    // Step back to the start of the last rune.
    size_t st = e - 1;
    while (st > b && (static_cast<unsigned char>(s[st]) & 0xC0) == 0x80 && e - st < 4) --st;
    size_t w;
    char32_t r = decode_rune(s, st, w);
    if (st + w != e) {
      st = e - 1;
      r = decode_rune(s, st, w);
    }
    if (!is_unicode_space(r)) break;
    e = st;
  }
  return s.substr(b, e - b);
}

std::vector<std::string> split(std::string_view s, std::string_view sep) {
  std::vector<std::string> out;
  if (sep.empty()) {  // explode into UTF-8 sequences
    for (size_t i = 0; i < s.size();) {
      size_t w;
      decode_rune(s, i, w);
      out.emplace_back(s.substr(i, w));
      i += w;
    }
    return out;
  }
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    if (p == std::string_view::npos) break;
    out.emplace_back(s.substr(start, p - start));
    start = p + sep.size();
  }
  out.emplace_back(s.substr(start));
  return out;
}

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  if (from.empty()) {  // Go inserts `to` before every rune and at the end
    for (size_t i = 0; i < s.size();) {
      size_t w;
      decode_rune(s, i, w);
      out += to;
      out += s.substr(i, w);
      i += w;
    }
    out += to;
    return out;
  }
  size_t start = 0;
  while (true) {
    size_t p = s.find(from, start);
    if (p == std::string_view::npos) break;
    out += s.substr(start, p - start);
    out += to;
    start = p + from.size();
  }
  out += s.substr(start);
  return out;
}

// ---- %q / %v / %T ----

std::string go_type(const Value& v) {
  return v.valid() ? v.type()->name : "<nil>";
}

std::string go_v(const Value& v) {
  switch (v.kind()) {
    case Kind::Invalid:
    case Kind::Nil:
      return "<nil>";
    case Kind::Bool:
      return v.as_bool() ? "true" : "false";
    case Kind::Int:
      return std::to_string(v.as_int());
    case Kind::Uint:
      return std::to_string(v.as_uint());
    case Kind::Float:
      return format_float(v.as_float(), 'g');
    case Kind::Complex: {
      auto z = v.as_complex();
      std::string im = format_float(z.imag(), 'g');
      if (im[0] != '-' && im[0] != '+') im = "+" + im;
      return "(" + format_float(z.real(), 'g') + im + "i)";
    }
    case Kind::String:
      return v.as_string();
    case Kind::List: {
      if (v.is_nil()) return "[]";
      std::string out = "[";
      bool first = true;
      for (const auto& e : v.as_list()) {
        if (!first) out += " ";
        first = false;
        out += go_v(e);
      }
      return out + "]";
    }
    case Kind::Map: {
      std::string out = "map[";
      bool first = true;
      for (const auto& [k, e] : v.as_map()) {
        if (!first) out += " ";
        first = false;
        out += go_v(k) + ":" + go_v(e);
      }
      return out + "]";
    }
    case Kind::Struct: {
      if (v.is_nil()) return "<nil>";
      std::string out = v.type()->pointer ? "&{" : "{";
      bool first = true;
      for (const auto& e : v.as_fields()) {
        if (!first) out += " ";
        first = false;
        out += go_v(e);
      }
      return out + "}";
    }
    default:
      return "?";
  }
}

std::string go_q(const Value& v) {
  switch (v.kind()) {
    case Kind::String:
      return go_quote(v.as_string());
    case Kind::Int:
    case Kind::Uint: {
      int64_t i = v.as_int();
      char32_t r = (i < 0 || i > 0x10FFFF || (i >= 0xD800 && i <= 0xDFFF))
                       ? char32_t{0xFFFD}
                       : static_cast<char32_t>(i);
      std::string out = "'";
      quote_rune_into(out, r, '\'');
      return out + "'";
    }
    case Kind::List: {
      std::string out = "[";
      bool first = true;
      for (const auto& e : v.as_list()) {
        if (!first) out += " ";
        first = false;
        out += go_q(e);
      }
      return out + "]";
    }
    case Kind::Map: {
      std::string out = "map[";
      bool first = true;
      for (const auto& [k, e] : v.as_map()) {
        if (!first) out += " ";
        first = false;
        out += go_q(k) + ":" + go_q(e);
      }
      return out + "]";
    }
    case Kind::Invalid:
    case Kind::Nil:
      return "%!q(<nil>)";
    default:
      return "%!q(" + go_type(v) + "=" + go_v(v) + ")";
  }
}

// ---- strconv ----

namespace {
std::string num_error(const char* fn, std::string_view s, const char* what) {
  return std::string("strconv.") + fn + ": parsing " + go_quote(s) + ": " + what;
}

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

// Go's underscoreOK: underscores only between digits (or after a base prefix).
bool underscore_ok(std::string_view s) {
  char saw = '^';
  size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s = s.substr(1);
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0') {
    char c = static_cast<char>(s[1] | 0x20);
    if (c == 'b' || c == 'o' || c == 'x') {
      hex = c == 'x';
      i = 2;
      saw = '0';
    }
  }
  for (; i < s.size(); ++i) {
    char c = s[i];
    if ((c >= '0' && c <= '9') || (hex && digit_value(c) < 16)) {
      saw = '0';
      continue;
    }
    if (c == '_') {
      if (saw != '0') return false;
      saw = '_';
      continue;
    }
    if (saw == '_') return false;
    saw = '!';
  }
  return saw != '_';
}

enum class ParseStatus { Ok, Syntax, Range };

ParseStatus parse_uint_raw(std::string_view s, int base, uint64_t& out) {
  out = 0;
  if (s.empty()) return ParseStatus::Syntax;
  bool base0 = base == 0;
  std::string_view s0 = s;
  if (base == 0) {
    base = 10;
    if (s[0] == '0') {
      if (s.size() >= 3 && (s[1] | 0x20) == 'b') {
        base = 2;
        s = s.substr(2);
      } else if (s.size() >= 3 && (s[1] | 0x20) == 'o') {
        base = 8;
        s = s.substr(2);
      } else if (s.size() >= 3 && (s[1] | 0x20) == 'x') {
        base = 16;
        s = s.substr(2);
      } else {
        base = 8;
        s = s.substr(1);
      }
    }
  }
  uint64_t cutoff = UINT64_MAX / static_cast<uint64_t>(base) + 1;
  bool underscores = false;
  uint64_t n = 0;
  for (char c : s) {
    if (c == '_' && base0) {
      underscores = true;
      continue;
    }
    int d = digit_value(c);
    if (d >= base) return ParseStatus::Syntax;
    if (n >= cutoff) {
      out = UINT64_MAX;
      return ParseStatus::Range;
    }
    n *= static_cast<uint64_t>(base);
    uint64_t n1 = n + static_cast<uint64_t>(d);
    if (n1 < n) {
      out = UINT64_MAX;
      return ParseStatus::Range;
    }
    n = n1;
  }
  if (underscores && !underscore_ok(s0)) return ParseStatus::Syntax;
  out = n;
  return ParseStatus::Ok;
}
}  // namespace

bool parse_uint(std::string_view s, int base, uint64_t& out, std::string& err) {
  switch (parse_uint_raw(s, base, out)) {
    case ParseStatus::Ok:
      return true;
    case ParseStatus::Syntax:
      err = num_error("ParseUint", s, "invalid syntax");
      return false;
    case ParseStatus::Range:
      err = num_error("ParseUint", s, "value out of range");
      return false;
  }
  return false;
}

bool parse_int(std::string_view s, int base, int64_t& out, std::string& err) {
  out = 0;
  if (s.empty()) {
    err = num_error("ParseInt", s, "invalid syntax");
    return false;
  }
  std::string_view body = s;
  bool neg = false;
  if (body[0] == '+' || body[0] == '-') {
    neg = body[0] == '-';
    body = body.substr(1);
  }
  uint64_t u;
  auto st = parse_uint_raw(body, base, u);
  if (st == ParseStatus::Syntax) {
    err = num_error("ParseInt", s, "invalid syntax");
    return false;
  }
  const uint64_t cutoff = uint64_t{1} << 63;
  if (st == ParseStatus::Range || (!neg && u >= cutoff) || (neg && u > cutoff)) {
    err = num_error("ParseInt", s, "value out of range");
    return false;
  }
  out = neg ? static_cast<int64_t>(0 - u) : static_cast<int64_t>(u);
  return true;
}

bool parse_float(std::string_view s, double& out, std::string& err) {
  out = 0;
  auto syntax = [&] {
    err = num_error("ParseFloat", s, "invalid syntax");
    return false;
  };
  std::string_view b = s;
  bool neg = false;
  if (!b.empty() && (b[0] == '+' || b[0] == '-')) {
    neg = b[0] == '-';
    b = b.substr(1);
  }
  auto ieq = [](std::string_view a, std::string_view lit) {
    if (a.size() != lit.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if ((a[i] | 0x20) != lit[i]) return false;
    return true;
  };
  if (ieq(b, "inf") || ieq(b, "infinity")) {
    out = neg ? -HUGE_VAL : HUGE_VAL;
    return true;
  }
  if (ieq(b, "nan") && b.size() == s.size()) {
    out = std::nan("");
    return true;
  }
  // Validate Go's grammar, then let strtod do the rounding.
  std::string clean = neg ? "-" : "";
  size_t i = 0;
  bool hex = b.size() >= 2 && b[0] == '0' && (b[1] | 0x20) == 'x';
  int base = hex ? 16 : 10;
  if (hex) {
    clean += "0x";
    i = 2;
  }
  bool digits = false, dot = false, underscores = false;
  for (; i < b.size(); ++i) {
    char c = b[i];
    if (c == '_') {
      underscores = true;
      continue;
    }
    if (c == '.') {
      if (dot) return syntax();
      dot = true;
      clean += c;
      continue;
    }
    if (digit_value(c) < base) {
      digits = true;
      clean += c;
      continue;
    }
    break;
  }
  if (!digits) return syntax();
  if (i < b.size()) {
    char e = static_cast<char>(b[i] | 0x20);
    if ((hex && e != 'p') || (!hex && e != 'e')) return syntax();
    clean += e;
    ++i;
    if (i < b.size() && (b[i] == '+' || b[i] == '-')) clean += b[i++];
    bool ed = false;
    for (; i < b.size(); ++i) {
      if (b[i] == '_') {
        underscores = true;
        continue;
      }
      if (b[i] < '0' || b[i] > '9') return syntax();
      ed = true;
      clean += b[i];
    }
    if (!ed) return syntax();
  } else if (hex) {
    return syntax();  // hex mantissa needs a 'p' exponent
  }
  if (underscores && !underscore_ok(s)) return syntax();
  errno = 0;
  out = std::strtod(clean.c_str(), nullptr);
  if (std::isinf(out)) {
    err = num_error("ParseFloat", s, "value out of range");
    return false;
  }
  return true;
}

}  // namespace helpers
}  // namespace templet
