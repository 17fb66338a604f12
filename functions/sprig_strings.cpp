// Sprig's string family (strings.go, goutils, the path and hash helpers it wraps), as
// consul-template exposes it with the `sprig_` prefix. goutils works on bytes, each read as a
// Latin-1 rune, so initials and nospace turn non-ASCII input into Latin-1 mojibake exactly as
// Sprig does; strings.go's functions work on bytes (trunc, substr) or runes (trimAll, untitle).
#include <algorithm>
#include <cstdint>
#include <random>

#include "functions/dependency.hpp"
#include "functions/digest.hpp"
#include "functions/sprig_internal.hpp"
#include "renderer/lexer.hpp"

namespace templet::helpers::sprig {

namespace {

const Type* const S_ = &types::string;
const Type* const I_ = &types::int_;

Value S(std::string s) {
  return Value::string(std::move(s));
}

bool is_space(char32_t r) {
  return golang::is_space_rune(static_cast<int32_t>(r));
}

std::u32string runes(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    size_t w;
    out.push_back(decode_rune(s, i, w));
    i += w;
  }
  return out;
}

std::string utf8(const std::u32string& rs) {
  std::string out;
  for (char32_t r : rs) append_utf8(out, r);
  return out;
}

char32_t map_rune(char32_t r, bool upper) {
  std::string one;
  append_utf8(one, r);
  std::string m = upper ? to_upper(one) : to_lower(one);
  size_t w;
  return decode_rune(m, 0, w);
}
char32_t rune_upper(char32_t r) {
  return map_rune(r, true);
}
char32_t rune_lower(char32_t r) {
  return map_rune(r, false);
}
bool is_upper(char32_t r) {
  return rune_lower(r) != r;
}
bool is_lower(char32_t r) {
  return rune_upper(r) != r;
}

// goutils' abbreviation with a left offset (AbbreviateFull); errors become the empty string,
// as Sprig discards them.
std::string abbreviate(const std::string& s, int64_t offset, int64_t width) {
  if (s.empty() || width < 4) return "";
  const int64_t n = static_cast<int64_t>(s.size());
  if (n <= width) return s;
  if (offset > n) offset = n;
  if (n - offset < width - 3) offset = n - (width - 3);
  if (offset <= 4) return s.substr(0, static_cast<size_t>(width - 3)) + "...";
  if (width < 7) return "";
  if (offset + width - 3 < n)
    return "..." + abbreviate(s.substr(static_cast<size_t>(offset)), 0, width - 3);
  return "..." + s.substr(static_cast<size_t>(n - (width - 3)));
}

// goutils.WrapCustom: wraps at spaces, stripping a leading space on each new line.
std::string wrap(const std::string& s, int64_t width, std::string nl, bool long_words) {
  if (s.empty()) return "";
  if (nl.empty()) nl = "\n";
  if (width < 1) width = 1;
  const size_t w = static_cast<size_t>(width), n = s.size();
  size_t off = 0;
  std::string out;
  while (n - off > w) {
    if (s[off] == ' ') {
      ++off;
      continue;
    }
    size_t at = s.substr(off, w + 1).rfind(' ');
    if (at != std::string::npos) {
      out += s.substr(off, at) + nl;
      off += at + 1;
    } else if (long_words) {
      out += s.substr(off, w) + nl;
      off += w;
    } else {
      size_t next = s.find(' ', off + w);
      if (next == std::string::npos) {
        out += s.substr(off);
        off = n;
      } else {
        out += s.substr(off, next - off) + nl;
        off = next + 1;
      }
    }
  }
  return out + s.substr(off);
}

// Go's strings.Title: the first letter of each word, words being split at separators (ASCII
// other than letters, digits and '_'; Unicode spaces).
std::string title(const std::string& s) {
  std::u32string rs = runes(s);
  char32_t prev = ' ';
  for (auto& r : rs) {
    bool sep;
    if (prev < 0x80) {
      sep = !((prev >= '0' && prev <= '9') || (prev >= 'a' && prev <= 'z') ||
              (prev >= 'A' && prev <= 'Z') || prev == '_');
    } else {
      sep = is_space(prev);
    }
    char32_t cur = r;
    if (sep) r = rune_upper(r);
    prev = cur;
  }
  return utf8(rs);
}

std::string go_slice_error(int64_t lo, int64_t hi, size_t len, bool hi_given) {
  if (hi_given && (hi < 0 || hi > static_cast<int64_t>(len)))
    return "runtime error: slice bounds out of range [:" + std::to_string(hi) + "] with length " +
           std::to_string(len);
  return "runtime error: slice bounds out of range [" + std::to_string(lo) + ":" +
         std::to_string(hi) + "]";
}

std::string substr(int64_t start, int64_t end, const std::string& s) {
  const int64_t n = static_cast<int64_t>(s.size());
  if (start < 0) {
    if (end < 0 || end > n) throw FuncError(go_slice_error(0, end, s.size(), true));
    return s.substr(0, static_cast<size_t>(end));
  }
  if (end < 0 || end > n) {
    if (start > n) throw FuncError(go_slice_error(start, n, s.size(), false));
    return s.substr(static_cast<size_t>(start));
  }
  if (start > end) throw FuncError(go_slice_error(start, end, s.size(), false));
  return s.substr(static_cast<size_t>(start), static_cast<size_t>(end - start));
}

std::string base32_encode(const std::string& s) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  for (size_t i = 0; i < s.size(); i += 5) {
    uint64_t block = 0;
    size_t n = std::min<size_t>(5, s.size() - i);
    for (size_t k = 0; k < 5; ++k)
      block = (block << 8) | (k < n ? static_cast<unsigned char>(s[i + k]) : 0);
    static const size_t chars[] = {0, 2, 4, 5, 7, 8};
    for (size_t k = 0; k < 8; ++k)
      out += k < chars[n] ? alphabet[(block >> (35 - 5 * k)) & 31] : '=';
  }
  return out;
}

// encoding/base32's StdEncoding.DecodeString; newlines are skipped as Go does.
bool base32_decode(const std::string& in, std::string& out, size_t& err_at) {
  std::string s;
  std::vector<size_t> pos;
  for (size_t i = 0; i < in.size(); ++i)
    if (in[i] != '\r' && in[i] != '\n') {
      s += in[i];
      pos.push_back(i);
    }
  auto fail = [&](size_t at) {
    err_at = at < pos.size() ? pos[at] : in.size();
    return false;
  };
  out.clear();
  size_t i = 0;
  while (i < s.size()) {
    uint64_t block = 0;
    size_t got = 0;
    size_t k = 0;
    for (; k < 8; ++k) {
      if (i + k >= s.size()) return fail(i);  // Go reports the quantum's start
      char c = s[i + k];
      if (c == '=') break;
      int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= '2' && c <= '7' ? c - '2' + 26 : -1;
      if (v < 0) return fail(i + k);
      block = (block << 5) | static_cast<uint64_t>(v);
      ++got;
    }
    if (k < 8) {
      // Padding: only these lengths are valid, and the rest of the quantum must be '='.
      if (got != 2 && got != 4 && got != 5 && got != 7) return fail(i + k);
      for (size_t p = k; p < 8; ++p)
        if (i + p >= s.size() || s[i + p] != '=') return fail(i + p < s.size() ? i + p : i + k);
      if (i + 8 != s.size()) return fail(i + 8);
      block <<= 5 * (8 - got);
    }
    static const size_t bytes_for[] = {0, 0, 1, 0, 2, 3, 0, 4, 5};
    size_t nb = bytes_for[got];
    for (size_t b = 0; b < nb; ++b) out += static_cast<char>((block >> (32 - 8 * b)) & 0xFF);
    i += 8;
  }
  return true;
}

uint32_t adler32(const std::string& s) {
  uint32_t a = 1, b = 0;
  for (unsigned char c : s) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  return (b << 16) | a;
}

// Go's path.Base, path.Dir and path.Ext (path/filepath's are the same on Unix).
std::string path_base(std::string p) {
  if (p.empty()) return ".";
  while (p.size() > 0 && p.back() == '/') p.pop_back();
  if (auto at = p.rfind('/'); at != std::string::npos) p = p.substr(at + 1);
  return p.empty() ? "/" : p;
}
std::string path_dir(const std::string& p) {
  auto at = p.rfind('/');
  return go_clean_path(at == std::string::npos ? "" : p.substr(0, at + 1));
}
std::string path_ext(const std::string& p) {
  for (size_t i = p.size(); i > 0 && p[i - 1] != '/'; --i)
    if (p[i - 1] == '.') return p.substr(i - 1);
  return "";
}

// strings.SplitN into Sprig's {"_0": ..., "_1": ...} map.
Value splitn(const std::string& sep, int64_t n, const std::string& s) {
  std::vector<std::string> parts;
  if (n != 0) {
    if (sep.empty()) {
      for (size_t i = 0; i < s.size();) {
        size_t w;
        decode_rune(s, i, w);
        if (n > 0 && static_cast<int64_t>(parts.size()) == n - 1) {
          parts.push_back(s.substr(i));
          break;
        }
        parts.push_back(s.substr(i, w));
        i += w;
      }
    } else {
      size_t from = 0;
      while (n < 0 || static_cast<int64_t>(parts.size()) < n - 1) {
        size_t at = s.find(sep, from);
        if (at == std::string::npos) break;
        parts.push_back(s.substr(from, at - from));
        from = at + sep.size();
      }
      parts.push_back(s.substr(from));
    }
  }
  std::vector<std::pair<Value, Value>> entries;
  for (size_t i = 0; i < parts.size(); ++i)
    entries.emplace_back(S("_" + std::to_string(i)), S(parts[i]));
  return Value::map(std::move(entries), &types::map_string);
}

}  // namespace

void register_strings(FunctionTable& t) {
  define(t, "sprig_hello", {}, [](Args) { return S("Hello!"); });
  define(
      t, "sprig_cat", {nullptr},
      [](Args a) {
        std::string out;
        bool first = true;
        for (const auto& v : a) {
          if (v.kind() == Kind::Nil || !v.valid()) continue;
          if (!first) out += " ";
          first = false;
          out += go_v(v);
        }
        return S(out);
      },
      true);
  define(t, "sprig_abbrev", {I_, S_}, [](Args a) {
    if (a[0].as_int() < 4) return a[1];
    return S(abbreviate(a[1].as_string(), 0, a[0].as_int()));
  });
  define(t, "sprig_abbrevboth", {I_, I_, S_}, [](Args a) {
    int64_t left = a[0].as_int(), right = a[1].as_int();
    if (right < 4 || (left > 0 && right < 7)) return a[2];
    return S(abbreviate(a[2].as_string(), left, right));
  });
  define(t, "sprig_trunc", {I_, S_}, [](Args a) {
    int64_t c = a[0].as_int();
    const std::string& s = a[1].as_string();
    int64_t n = static_cast<int64_t>(s.size());
    if (c < 0 && n + c > 0) return S(s.substr(static_cast<size_t>(n + c)));
    if (c >= 0 && n > c) return S(s.substr(0, static_cast<size_t>(c)));
    return a[1];
  });
  define(t, "sprig_substr", {I_, I_, S_},
         [](Args a) { return S(substr(a[0].as_int(), a[1].as_int(), a[2].as_string())); });
  define(t, "sprig_title", {S_}, [](Args a) { return S(title(a[0].as_string())); });
  define(t, "sprig_untitle", {S_}, [](Args a) {
    std::u32string rs = runes(a[0].as_string());
    bool next = true;
    for (auto& r : rs) {
      if (is_space(r)) {
        next = true;
      } else if (next) {
        r = rune_lower(r);
        next = false;
      }
    }
    return S(utf8(rs));
  });
  for (const char* name : {"sprig_trimAll", "sprig_trimall"})
    define(t, name, {S_, S_}, [](Args a) {
      std::u32string cut = runes(a[0].as_string()), rs = runes(a[1].as_string());
      size_t b = 0, e = rs.size();
      while (b < e && cut.find(rs[b]) != std::u32string::npos) ++b;
      while (e > b && cut.find(rs[e - 1]) != std::u32string::npos) --e;
      return S(utf8(rs.substr(b, e - b)));
    });
  define(t, "sprig_nospace", {S_}, [](Args a) {
    const std::string& s = a[0].as_string();
    std::string out;
    size_t kept = 0;
    for (unsigned char c : s)
      if (!is_space(c)) {
        append_utf8(out, c);
        ++kept;
      }
    return kept == s.size() ? a[0] : S(out);
  });
  define(t, "sprig_initials", {S_}, [](Args a) {
    std::string out;
    bool gap = true;
    for (unsigned char c : a[0].as_string()) {
      if (is_space(c)) {
        gap = true;
      } else if (gap) {
        append_utf8(out, c);
        gap = false;
      }
    }
    return S(out);
  });
  define(t, "sprig_swapcase", {S_}, [](Args a) {
    // goutils title-cases a lower-case letter after a space and upper-cases the others: the
    // same mapping for every letter the case tables here know.
    std::u32string rs = runes(a[0].as_string());
    for (auto& r : rs) r = is_upper(r) ? rune_lower(r) : is_lower(r) ? rune_upper(r) : r;
    return S(utf8(rs));
  });
  define(t, "sprig_wrap", {I_, S_},
         [](Args a) { return S(wrap(a[1].as_string(), a[0].as_int(), "", false)); });
  define(t, "sprig_wrapWith", {I_, S_, S_},
         [](Args a) { return S(wrap(a[2].as_string(), a[0].as_int(), a[1].as_string(), true)); });
  define(t, "sprig_plural", {S_, S_, I_}, [](Args a) { return a[2].as_int() == 1 ? a[0] : a[1]; });
  define(t, "sprig_sha1sum", {S_},
         [](Args a) { return S(digest::hex(digest::sha1(a[0].as_string()))); });
  define(t, "sprig_sha256sum", {S_},
         [](Args a) { return S(digest::hex(digest::sha256(a[0].as_string()))); });
  define(t, "sprig_sha512sum", {S_},
         [](Args a) { return S(digest::hex(digest::sha512(a[0].as_string()))); });
  define(t, "sprig_adler32sum", {S_},
         [](Args a) { return S(std::to_string(adler32(a[0].as_string()))); });
  define(t, "sprig_toString", {nullptr}, [](Args a) { return S(strval(a[0])); });
  define(t, "sprig_toStrings", {nullptr}, [](Args a) { return string_list(strslice(a[0])); });
  define(t, "sprig_splitn", {S_, I_, S_},
         [](Args a) { return splitn(a[0].as_string(), a[1].as_int(), a[2].as_string()); });
  define(t, "sprig_b32enc", {S_}, [](Args a) { return S(base32_encode(a[0].as_string())); });
  define(t, "sprig_b32dec", {S_}, [](Args a) {
    std::string out;
    size_t at = 0;
    if (!base32_decode(a[0].as_string(), out, at))
      return S("illegal base32 data at input byte " + std::to_string(at));
    return S(out);
  });
  define(t, "sprig_atoi", {S_}, [](Args a) {
    int64_t out = 0;
    std::string err;
    if (parse_int(a[0].as_string(), 10, out, err)) return Value::integer(out);
    // strconv.Atoi returns the clamped value alongside a range error; Sprig keeps it.
    if (err.find("out of range") != std::string::npos)
      return Value::integer(a[0].as_string().rfind('-', 0) == 0 ? INT64_MIN : INT64_MAX);
    return Value::integer(0);
  });
  define(t, "sprig_shuffle", {S_}, [](Args a) {
    // xstrings.Shuffle: a random permutation of the runes (not reproducible, as in Go).
    std::u32string rs = runes(a[0].as_string());
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    std::shuffle(rs.begin(), rs.end(), rng);
    return S(utf8(rs));
  });
  define(t, "sprig_fail", {S_}, [](Args a) -> Value { throw FuncError(a[0].as_string()); });
  for (std::string os : {"", "os"}) {
    auto name = [&](const char* n) {
      std::string s = os.empty() ? std::string(n) : os + char(n[0] - 'a' + 'A') + (n + 1);
      return "sprig_" + s;
    };
    define(t, name("base"), {S_}, [](Args a) { return S(path_base(a[0].as_string())); });
    define(t, name("dir"), {S_}, [](Args a) { return S(path_dir(a[0].as_string())); });
    define(t, name("clean"), {S_}, [](Args a) { return S(go_clean_path(a[0].as_string())); });
    define(t, name("ext"), {S_}, [](Args a) { return S(path_ext(a[0].as_string())); });
    define(t, name("isAbs"), {S_}, [](Args a) {
      return Value::boolean(!a[0].as_string().empty() && a[0].as_string()[0] == '/');
    });
  }
}

}  // namespace templet::helpers::sprig
