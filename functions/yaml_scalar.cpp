#include "functions/yaml_scalar.hpp"

#include <charconv>
#include <cmath>
#include <limits>

namespace templet {

namespace {

bool all_of(std::string_view s, bool (*digit)(char)) {
  if (s.empty()) return false;
  for (char c : s)
    if (!digit(c)) return false;
  return true;
}
bool is_dec(char c) {
  return c >= '0' && c <= '9';
}
bool is_oct(char c) {
  return c >= '0' && c <= '7';
}
bool is_hex(char c) {
  return is_dec(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Unsigned digits in `base` to an int64 with `negative` applied; false on overflow.
bool to_int64(std::string_view digits, int base, bool negative, int64_t& out) {
  uint64_t u;
  auto r = std::from_chars(digits.data(), digits.data() + digits.size(), u, base);
  if (r.ec != std::errc() || r.ptr != digits.data() + digits.size()) return false;
  constexpr auto max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (u > max + (negative ? 1 : 0)) return false;
  out = negative ? static_cast<int64_t>(0 - u) : static_cast<int64_t>(u);
  return true;
}

// The core schema's float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool is_core_float(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && is_dec(s[i])) ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_dec(s[i])) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (!all_of(s.substr(i), is_dec)) return false;
    i = s.size();
  }
  return i == s.size();
}

}  // namespace

YamlScalar resolve_plain_yaml_scalar(std::string_view s) {
  using Kind = YamlScalar::Kind;
  YamlScalar out;
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
    out.kind = Kind::Null;
  } else if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" ||
             s == "FALSE") {
    out.kind = Kind::Bool;
    out.boolean = s[0] == 't' || s[0] == 'T';
  } else if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o') &&
             all_of(s.substr(2), s[1] == 'x' ? is_hex : is_oct)) {
    if (to_int64(s.substr(2), s[1] == 'x' ? 16 : 8, false, out.integer)) out.kind = Kind::Int;
  } else if (bool sign = s[0] == '-' || s[0] == '+'; all_of(s.substr(sign ? 1 : 0), is_dec)) {
    if (to_int64(s.substr(sign ? 1 : 0), 10, s[0] == '-', out.integer)) out.kind = Kind::Int;
  } else if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf" || s == "+.Inf" ||
             s == "+.INF" || s == "-.inf" || s == "-.Inf" || s == "-.INF") {
    out.kind = Kind::Float;
    out.floating = (s[0] == '-' ? -1 : 1) * std::numeric_limits<double>::infinity();
  } else if (s == ".nan" || s == ".NaN" || s == ".NAN") {
    out.kind = Kind::Float;
    out.floating = std::nan("");
  } else if (is_core_float(s)) {
    std::string_view body = s[0] == '+' ? s.substr(1) : s;  // from_chars takes no '+'
    auto r = std::from_chars(body.data(), body.data() + body.size(), out.floating);
    if (r.ec == std::errc() && r.ptr == body.data() + body.size()) out.kind = Kind::Float;
  }
  return out;
}

YamlScalar resolve_yaml_scalar(const YAML::Node& n) {
  if (n.Tag() == "!") return {};  // quoted
  return resolve_plain_yaml_scalar(n.Scalar());
}

}  // namespace templet
