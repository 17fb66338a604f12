// Registration plumbing and the Go fmt/strconv behaviour shared by the helper modules: shortest
// float formatting ('g', 'f', 'e' and encoding/json's variant), %q/%v/%T text for error messages,
// strconv's integer and float parsers with their exact error strings, and UTF-8/whitespace helpers.
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "functions/helpers_internal.hpp"
#include "renderer/gofmt.hpp"
#include "renderer/lexer.hpp"
#include "renderer/parse_literals.hpp"

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
  helpers::register_grouping(table);
  helpers::register_runtime(table);
  helpers::register_spew(table);
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

// ---- floats, %q, %v, %T: Go's fmt and strconv live in renderer/gofmt ----

std::string format_float(double f, char fmt) {
  std::string out;
  gofmt::format_float(out, f, fmt, -1);
  return out;
}

std::string json_float(double f) {
  std::string out;
  gofmt::json_float(out, f);
  return out;
}

std::string go_quote(std::string_view s) {
  std::string out;
  gofmt::quote(out, s);
  return out;
}

std::string go_type(const Value& v) {
  return v.valid() ? v.type()->name : "<nil>";
}

std::string go_v(const Value& v) {
  std::string out;
  gofmt::print_value(out, v);
  return out;
}

std::string go_q(const Value& v) {
  std::string out;
  Value args[] = {v.valid() ? v : Value::nil()};
  gofmt::sprintf(out, "%q", args);
  return out;
}

// ---- UTF-8 ----

char32_t decode_rune(std::string_view s, size_t i, size_t& width) {
  int w = 1;
  char32_t r = static_cast<char32_t>(golang::decode_rune(s, i, &w));
  width = static_cast<size_t>(w);
  return r;
}

void append_utf8(std::string& out, char32_t r) {
  golang::append_rune(out, static_cast<int32_t>(r));
}

namespace {
// unicode.IsSpace: the lexer's implementation.
bool is_unicode_space(char32_t r) {
  return golang::is_space_rune(static_cast<int32_t>(r));
}

}  // namespace

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

// strconv's messages around the shared parsers (renderer/parse_literals).
bool strconv_result(golang::NumStatus status, const char* fn, std::string_view s,
                    std::string& err) {
  if (status == golang::NumStatus::Ok) return true;
  err = num_error(fn, s,
                  status == golang::NumStatus::Range ? "value out of range" : "invalid syntax");
  return false;
}

}  // namespace

bool parse_uint(std::string_view s, int base, uint64_t& out, std::string& err) {
  out = 0;
  return strconv_result(golang::parse_uint(s, base, &out), "ParseUint", s, err);
}

bool parse_int(std::string_view s, int base, int64_t& out, std::string& err) {
  out = 0;
  return strconv_result(golang::parse_int(s, base, &out), "ParseInt", s, err);
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
  if (underscores && !golang::underscore_ok(s)) return syntax();
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
