// Go's strconv and fmt.Sscan as text/template/parse uses them for literals (see
// parse_literals.hpp).
#include "renderer/parse_literals.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

#include "renderer/lexer.hpp"

namespace templet::golang {

namespace {

char lower(char c) {
  return static_cast<char>(c | ('x' - 'X'));
}

}  // namespace

bool underscore_ok(std::string_view s) {
  char saw = '^';
  size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0' &&
      (lower(s[1]) == 'b' || lower(s[1]) == 'o' || lower(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    hex = lower(s[1]) == 'x';
  }
  for (; i < s.size(); ++i) {
    char c = s[i];
    if ((c >= '0' && c <= '9') || (hex && lower(c) >= 'a' && lower(c) <= 'f')) {
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

// strconv.ParseUint(s, 0, 64)
NumStatus parse_uint(std::string_view s, int base, uint64_t* out) {
  if (s.empty()) return NumStatus::Syntax;
  const bool base0 = base == 0;
  std::string_view s0 = s;
  if (base0) {
    base = 10;
    if (s[0] == '0') {
      if (s.size() >= 3 && lower(s[1]) == 'b') {
        base = 2;
        s.remove_prefix(2);
      } else if (s.size() >= 3 && lower(s[1]) == 'o') {
        base = 8;
        s.remove_prefix(2);
      } else if (s.size() >= 3 && lower(s[1]) == 'x') {
        base = 16;
        s.remove_prefix(2);
      } else {
        base = 8;
        s.remove_prefix(1);
      }
    }
  }
  const auto ubase = static_cast<unsigned>(base);
  bool underscores = false;
  uint64_t n = 0;
  const uint64_t cutoff = UINT64_MAX / ubase + 1;
  for (char c : s) {
    unsigned d;
    if (c == '_' && base0) {
      underscores = true;
      continue;
    } else if (c >= '0' && c <= '9') {
      d = static_cast<unsigned>(c - '0');
    } else if (lower(c) >= 'a' && lower(c) <= 'z') {
      d = static_cast<unsigned>(lower(c) - 'a' + 10);
    } else {
      return NumStatus::Syntax;
    }
    if (d >= ubase) return NumStatus::Syntax;
    if (n >= cutoff) return NumStatus::Range;
    n *= ubase;
    uint64_t n1 = n + d;
    if (n1 < n) return NumStatus::Range;
    n = n1;
  }
  if (underscores && !underscore_ok(s0)) return NumStatus::Syntax;
  *out = n;
  return NumStatus::Ok;
}

NumStatus parse_int(std::string_view s, int base, int64_t* out) {
  if (s.empty()) return NumStatus::Syntax;
  bool neg = false;
  if (s[0] == '+') {
    s.remove_prefix(1);
  } else if (s[0] == '-') {
    neg = true;
    s.remove_prefix(1);
  }
  uint64_t un = 0;
  NumStatus st = parse_uint(s, base, &un);
  if (st != NumStatus::Ok) return st;
  const uint64_t cutoff = uint64_t{1} << 63;
  if (!neg && un >= cutoff) return NumStatus::Range;
  if (neg && un > cutoff) return NumStatus::Range;
  *out = neg ? static_cast<int64_t>(0 - un) : static_cast<int64_t>(un);
  return NumStatus::Ok;
}

namespace {

// The syntax check of strconv.ParseFloat (readFloat plus "all of s consumed").
bool float_syntax_ok(std::string_view s) {
  size_t i = 0;
  bool underscores = false;
  if (i >= s.size()) return false;
  if (s[i] == '+' || s[i] == '-') ++i;
  bool hex = false;
  if (i + 2 < s.size() && s[i] == '0' && lower(s[i + 1]) == 'x') {
    hex = true;
    i += 2;
  }
  bool sawdot = false, sawdigits = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '_') {
      underscores = true;
    } else if (c == '.') {
      if (sawdot) break;
      sawdot = true;
    } else if (c >= '0' && c <= '9') {
      sawdigits = true;
    } else if (hex && lower(c) >= 'a' && lower(c) <= 'f') {
      sawdigits = true;
    } else {
      break;
    }
  }
  if (!sawdigits) return false;
  char exp_char = hex ? 'p' : 'e';
  if (i < s.size() && lower(s[i]) == exp_char) {
    ++i;
    if (i >= s.size()) return false;
    if (s[i] == '+' || s[i] == '-') ++i;
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
    for (; i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'); ++i) {
      if (s[i] == '_') underscores = true;
    }
  } else if (hex) {
    return false;
  }
  if (underscores && !underscore_ok(s.substr(0, i))) return false;
  return i == s.size();
}

}  // namespace

// strconv.ParseFloat(s, 64), for the texts the lexer produces (no inf/nan spellings).
NumStatus parse_float(std::string_view s, double* out) {
  if (!float_syntax_ok(s)) return NumStatus::Syntax;
  std::string clean;
  clean.reserve(s.size());
  for (char c : s) {
    if (c != '_') clean.push_back(c);
  }
  errno = 0;
  double f = std::strtod(clean.c_str(), nullptr);
  *out = f;
  if (std::isinf(f)) return NumStatus::Range;
  return NumStatus::Ok;
}

bool fits_int64(double f) {
  return f >= -9223372036854775808.0 && f < 9223372036854775808.0 && std::trunc(f) == f;
}
bool fits_uint64(double f) {
  return f >= 0 && f < 18446744073709551616.0 && std::trunc(f) == f;
}

namespace {

int unhex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// strconv.UnquoteChar: decodes one character or escape at s[*i]. False on a syntax error.
bool unquote_char(std::string_view s, size_t* i, char quote, int32_t* value, bool* multibyte) {
  *multibyte = false;
  if (*i >= s.size()) return false;
  char c = s[*i];
  if (c == quote && (quote == '\'' || quote == '"')) return false;
  if (static_cast<unsigned char>(c) >= 0x80) {
    int w;
    *value = golang::decode_rune(s, *i, &w);
    *i += static_cast<size_t>(w);
    *multibyte = true;
    return true;
  }
  if (c != '\\') {
    *value = static_cast<unsigned char>(c);
    ++*i;
    return true;
  }
  if (*i + 1 >= s.size()) return false;
  char e = s[*i + 1];
  size_t j = *i + 2;
  switch (e) {
    case 'a':
      *value = '\a';
      break;
    case 'b':
      *value = '\b';
      break;
    case 'f':
      *value = '\f';
      break;
    case 'n':
      *value = '\n';
      break;
    case 'r':
      *value = '\r';
      break;
    case 't':
      *value = '\t';
      break;
    case 'v':
      *value = '\v';
      break;
    case 'x':
    case 'u':
    case 'U': {
      size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
      if (s.size() - j < n) return false;
      int32_t v = 0;
      for (size_t k = 0; k < n; ++k) {
        int x = unhex(s[j + k]);
        if (x < 0) return false;
        v = static_cast<int32_t>((static_cast<uint32_t>(v) << 4) | static_cast<uint32_t>(x));
      }
      j += n;
      if (e != 'x') {
        if (v < 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return false;
        *multibyte = true;
      }
      *value = v;
      break;
    }
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7': {
      int32_t v = e - '0';
      if (s.size() - j < 2) return false;
      for (size_t k = 0; k < 2; ++k) {
        int x = s[j + k] - '0';
        if (x < 0 || x > 7) return false;
        v = (v << 3) | x;
      }
      j += 2;
      if (v > 255) return false;
      *value = v;
      break;
    }
    case '\\':
      *value = '\\';
      break;
    case '\'':
    case '"':
      if (e != quote) return false;
      *value = e;
      break;
    default:
      return false;
  }
  *i = j;
  return true;
}

namespace {

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    int w;
    if (golang::decode_rune(s, i, &w) == golang::kRuneError && w == 1) return false;
    i += static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

// strconv.Unquote for "..." and `...` tokens.
bool unquote(std::string_view in, std::string* out) {
  if (in.size() < 2) return false;
  char quote = in[0];
  size_t end = in.find(quote, 1);
  if (end == std::string_view::npos) return false;
  ++end;  // just past the (first) closing quote
  if (quote == '`') {
    if (end != in.size()) return false;
    out->clear();
    for (size_t i = 1; i + 1 < end; ++i) {
      if (in[i] != '\r') out->push_back(in[i]);
    }
    return true;
  }
  if (quote != '"' && quote != '\'') return false;
  std::string_view head = in.substr(0, end);
  if (head.find('\\') == std::string_view::npos && head.find('\n') == std::string_view::npos &&
      quote == '"' && valid_utf8(in.substr(1, end - 2))) {
    if (end != in.size()) return false;
    out->assign(in.substr(1, end - 2));
    return true;
  }
  out->clear();
  size_t i = 1;
  while (i < in.size() && in[i] != quote) {
    int32_t r;
    bool multibyte;
    if (in[i] == '\n') return false;
    if (!unquote_char(in, &i, quote, &r, &multibyte)) return false;
    if (r < 0x80 || !multibyte) {
      out->push_back(static_cast<char>(r));
    } else {
      golang::append_rune(*out, r);
    }
    if (quote == '\'') break;
  }
  if (!(i < in.size() && in[i] == quote)) return false;
  return i + 1 == in.size();
}

// fmt.Sscan of a complex128, as newNumber uses for itemComplex. Returns an error message or "".
std::string scan_complex(std::string_view s, std::complex<double>* out) {
  size_t i = 0;
  std::string buf;
  auto accept = [&](std::string_view set) {
    if (i < s.size() && set.find(s[i]) != std::string_view::npos) {
      buf.push_back(s[i++]);
      return true;
    }
    return false;
  };
  auto float_token = [&]() -> std::string {
    buf.clear();
    if (accept("nN") && accept("aA") && accept("nN")) return buf;
    accept("+-");
    if (accept("iI") && accept("nN") && accept("fF")) return buf;
    std::string_view digits = "0123456789_";
    std::string_view exp = "eEpP";
    if (accept("0") && accept("xX")) {
      digits = "0123456789aAbBcCdDeEfF_";
      exp = "pP";
    }
    while (accept(digits)) {
    }
    if (accept(".")) {
      while (accept(digits)) {
      }
    }
    if (accept(exp)) {
      accept("+-");
      while (accept("0123456789_")) {
      }
    }
    return buf;
  };
  const std::string err_complex = "syntax error scanning complex number";
  std::string real = float_token();
  buf.clear();
  if (!accept("+-")) return err_complex;
  std::string imag = buf;
  imag += float_token();
  buf.clear();
  if (!accept("i")) return err_complex;
  double re = 0, im = 0;
  for (auto [str, dst] : {std::pair<const std::string*, double*>{&real, &re}, {&imag, &im}}) {
    NumStatus st = parse_float(*str, dst);
    if (st != NumStatus::Ok) {
      return "strconv.ParseFloat: parsing " + golang::quote(*str) + ": " +
             (st == NumStatus::Range ? "value out of range" : "invalid syntax");
    }
  }
  *out = {re, im};
  return "";
}

}  // namespace templet::golang
