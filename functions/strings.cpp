// String helpers: trimming, splitting, joining, case mapping, indentation, parsing numbers and
// booleans, regular expressions (Go's regexp, functions/go_regexp.hpp) and digests.
#include <set>

#include "functions/digest.hpp"
#include "functions/go_regexp.hpp"
#include "functions/helpers_internal.hpp"

namespace templet::helpers {

namespace {

const std::string& str(const Value& v) {
  return v.as_string();
}
Value S(std::string s) {
  return Value::string(std::move(s));
}

// ---- case mapping ----

char32_t upper_rune(char32_t r) {
  if (r < 0x80) return (r >= 'a' && r <= 'z') ? r - 32 : r;
  if (r == 0xB5) return 0x39C;
  if (r == 0xFF) return 0x178;
  if ((r >= 0xE0 && r <= 0xFE && r != 0xF7)) return r - 32;
  if (r >= 0x100 && r <= 0x17F) {
    if (r == 0x131) return 'I';
    if (r == 0x17F) return 'S';
    if ((r >= 0x139 && r <= 0x148) || (r >= 0x179 && r <= 0x17E)) return (r % 2 == 0) ? r - 1 : r;
    if (r == 0x130 || r == 0x138 || r == 0x149 || r == 0x178) return r;
    return (r % 2 == 1) ? r - 1 : r;
  }
  if (r >= 0x3B1 && r <= 0x3C9 && r != 0x3C2) return r - 32;
  if (r == 0x3C2) return 0x3A3;
  if (r >= 0x3AC && r <= 0x3AF) {
    static const char32_t m[] = {0x386, 0x388, 0x389, 0x38A};
    return m[r - 0x3AC];
  }
  if (r >= 0x430 && r <= 0x44F) return r - 32;
  if (r >= 0x450 && r <= 0x45F) return r - 80;
  return r;
}

char32_t lower_rune(char32_t r) {
  if (r < 0x80) return (r >= 'A' && r <= 'Z') ? r + 32 : r;
  if (r >= 0xC0 && r <= 0xDE && r != 0xD7) return r + 32;
  if (r == 0x178) return 0xFF;
  if (r >= 0x100 && r <= 0x17F) {
    if (r == 0x130) return 'i';
    if ((r >= 0x139 && r <= 0x148) || (r >= 0x179 && r <= 0x17E)) return (r % 2 == 1) ? r + 1 : r;
    if (r == 0x131 || r == 0x138 || r == 0x149 || r == 0x17F) return r;
    return (r % 2 == 0) ? r + 1 : r;
  }
  if (r >= 0x391 && r <= 0x3A9 && r != 0x3A2) return r + 32;
  if (r == 0x386) return 0x3AC;
  if (r >= 0x388 && r <= 0x38A) return r + 37;
  if (r >= 0x410 && r <= 0x42F) return r + 32;
  if (r >= 0x400 && r <= 0x40F) return r + 80;
  return r;
}

template <typename F>
std::string map_runes(std::string_view s, F f) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t w;
    char32_t r = decode_rune(s, i, w);
    append_utf8(out, f(r));
    i += w;
  }
  return out;
}

// Title-case letters (the dz digraphs) and letters whose upper case is elsewhere in the tables.
char32_t title_rune(char32_t r) {
  switch (r) {
    case 0x1C4:
    case 0x1C5:
    case 0x1C6:
      return 0x1C5;  // ǅ
    case 0x1C7:
    case 0x1C8:
    case 0x1C9:
      return 0x1C8;  // ǈ
    case 0x1CA:
    case 0x1CB:
    case 0x1CC:
      return 0x1CB;  // ǋ
    case 0x1F1:
    case 0x1F2:
    case 0x1F3:
      return 0x1F2;  // ǲ
    default:
      break;
  }
  if (r == 0x1E9B) return 0x1E60;  // long s with dot above
  // Latin Extended Additional: upper even, lower odd.
  if (r >= 0x1E00 && r <= 0x1E95) return r & ~char32_t{1};
  if (r >= 0x1EA0 && r <= 0x1EFF) return r & ~char32_t{1};
  // Greek with ypogegrammeni: the title case keeps the prosgegrammeni.
  if ((r >= 0x1F80 && r <= 0x1F87) || (r >= 0x1F90 && r <= 0x1F97) || (r >= 0x1FA0 && r <= 0x1FA7))
    return r + 8;
  if (r == 0x1FB3 || r == 0x1FC3 || r == 0x1FF3) return r + 9;
  return upper_rune(r);
}

// SpecialCasing.txt's title mappings that take more than one rune.
const char* title_special(char32_t r) {
  switch (r) {
    case 0xDF:
      return "Ss";
    case 0x149:
      return "\u02BCN";
    case 0x1F0:
      return "J\u030C";
    case 0x390:
      return "\u03AA\u0301";
    case 0x3B0:
      return "\u03A5\u0308\u0301";
    case 0x587:
      return "\u0535\u0582";
    case 0x1E96:
      return "H\u0331";
    case 0x1E97:
      return "T\u0308";
    case 0x1E98:
      return "W\u030A";
    case 0x1E99:
      return "Y\u030A";
    case 0x1E9A:
      return "A\u02BE";
    case 0xFB00:
      return "Ff";
    case 0xFB01:
      return "Fi";
    case 0xFB02:
      return "Fl";
    case 0xFB03:
      return "Ffi";
    case 0xFB04:
      return "Ffl";
    case 0xFB05:
      return "St";
    case 0xFB06:
      return "St";
    case 0xFB13:
      return "\u0544\u0576";
    case 0xFB14:
      return "\u0544\u0565";
    case 0xFB15:
      return "\u0544\u056B";
    case 0xFB16:
      return "\u054E\u0576";
    case 0xFB17:
      return "\u0544\u056D";
    default:
      return nullptr;
  }
}

// Unicode's Cased property, as far as the case tables reach.
bool is_cased(char32_t r) {
  return upper_rune(r) != r || lower_rune(r) != r || title_rune(r) != r ||
         title_special(r) != nullptr || r == 0x138 || (r >= 0x1E00 && r <= 0x1EFF) ||
         (r >= 0x180 && r <= 0x24F) || (r >= 0x250 && r <= 0x2AF) || (r >= 0x1F00 && r <= 0x1FFC);
}

// Word-break classes that keep a word going for x/text's title caser (Mid* and Single_Quote;
// two in a row end the word).
bool is_word_mid(char32_t r) {
  switch (r) {
    case '\'':
    case '.':
    case ':':
    case 0xB7:
    case 0x387:
    case 0x55F:
    case 0x5F4:
    case 0x2018:
    case 0x2019:
    case 0x2024:
    case 0x2027:
    case 0xFE13:
    case 0xFE52:
    case 0xFE55:
    case 0xFF07:
    case 0xFF0E:
    case 0xFF1A:
      return true;
    default:
      return false;
  }
}

// Not a word break: letters, digits, ExtendNumLet (`_`), Extend and Format marks, ZWJ, Mid*.
// (The Katakana and Ideographic classes, spaces and other punctuation break.)
bool continues_word(char32_t r) {
  if (r < 0x80)
    return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_' ||
           is_word_mid(r);
  if (is_cased(r) || is_word_mid(r)) return true;
  if (r == 0xAA || r == 0xBA || r == 0xAD || r == 0x202F || r == 0x203F || r == 0x2040 ||
      r == 0x2054 || r == 0xFE33 || r == 0xFE34 || (r >= 0xFE4D && r <= 0xFE4F) || r == 0xFF3F)
    return true;
  if ((r >= 0xC0 && r <= 0x2FF && r != 0xD7 && r != 0xF7) || (r >= 0x300 && r <= 0x36F) ||
      (r >= 0x370 && r <= 0x3FF && r != 0x37E && r != 0x387) || (r >= 0x400 && r <= 0x52F) ||
      (r >= 0x531 && r <= 0x58A && r != 0x589) || (r >= 0x591 && r <= 0x5F3 && r != 0x5BE) ||
      (r >= 0x600 && r <= 0x6FF && r != 0x60C && r != 0x61B && r != 0x61F && r != 0x6D4) ||
      (r >= 0x900 && r <= 0xDFF) || (r >= 0x10A0 && r <= 0x10FF) || (r >= 0x1AB0 && r <= 0x1AFF) ||
      (r >= 0x1D00 && r <= 0x1FFF) || (r >= 0x200B && r <= 0x200F) ||
      (r >= 0x202A && r <= 0x202E) || (r >= 0x2060 && r <= 0x2064) ||
      (r >= 0x20D0 && r <= 0x20FF) || (r >= 0xFB00 && r <= 0xFB4F) ||
      (r >= 0xFE00 && r <= 0xFE0F) || (r >= 0xFE20 && r <= 0xFE2F) || r == 0xFEFF ||
      (r >= 0xFF10 && r <= 0xFF19) || (r >= 0xFF21 && r <= 0xFF3A) || (r >= 0xFF41 && r <= 0xFF5A))
    return true;
  return false;
}

// consul-template's toTitle: cases.Title(language.Und, cases.NoLower) of golang.org/x/text.
// The first cased letter after a word break takes its title case (full mapping: "ß" -> "Ss",
// "ǆ" -> "ǅ"); the rest of the word is kept as written. Digits and `_` do not break a word
// ("a1b" -> "A1b", "foo_bar" -> "Foo_bar") but do not start one either ("42nd" -> "42Nd").
std::string to_title(std::string_view s) {
  std::string out;
  bool mid_word = false;
  bool was_mid = false;
  for (size_t i = 0; i < s.size();) {
    size_t w;
    char32_t r = decode_rune(s, i, w);
    bool mid = is_word_mid(r);
    if (was_mid && mid) mid_word = false;
    if (is_cased(r) && !mid) {
      if (!mid_word) {
        if (const char* special = title_special(r)) {
          out += special;
        } else {
          append_utf8(out, title_rune(r));
        }
        mid_word = true;
      } else {
        append_utf8(out, r);
      }
    } else {
      append_utf8(out, r);
      if (!continues_word(r)) mid_word = false;
    }
    was_mid = mid;
    i += w;
  }
  return out;
}

// ---- trimming ----

std::string go_trim(std::string_view s, std::string_view cutset) {
  std::set<char32_t> set;
  for (size_t i = 0; i < cutset.size();) {
    size_t w;
    set.insert(decode_rune(cutset, i, w));
    i += w;
  }
  size_t b = 0;
  while (b < s.size()) {
    size_t w;
    if (!set.count(decode_rune(s, b, w))) break;
    b += w;
  }
  size_t e = s.size();
  while (e > b) {
    size_t st = e - 1;
    while (st > b && (static_cast<unsigned char>(s[st]) & 0xC0) == 0x80 && e - st < 4) --st;
    size_t w;
    char32_t r = decode_rune(s, st, w);
    if (st + w != e) {
      st = e - 1;
      r = decode_rune(s, st, w);
    }
    if (!set.count(r)) break;
    e = st;
  }
  return std::string(s.substr(b, e - b));
}

// ---- indentation ----

std::string indent(int64_t spaces, std::string_view s) {
  std::string prefix(static_cast<size_t>(spaces), ' ');
  std::string out;
  bool at_line_start = true;
  for (char c : s) {
    if (at_line_start && c != '\n') out += prefix;
    out += c;
    at_line_start = c == '\n';
  }
  return out;
}

}  // namespace

std::string to_upper(std::string_view s) {
  return map_runes(s, upper_rune);
}
std::string to_lower(std::string_view s) {
  return map_runes(s, lower_rune);
}

// Sprig's regex family reaches the engine only through these two (helpers_internal.hpp).
std::vector<std::pair<size_t, size_t>> regex_find_all(const std::string& pattern,
                                                      const std::string& s, int64_t n) {
  GoRegexp re(pattern);
  std::vector<std::pair<size_t, size_t>> out;
  std::vector<std::string_view> groups;
  size_t pos = 0, prev_end = std::string::npos;
  while (pos <= s.size() && (n < 0 || static_cast<int64_t>(out.size()) < n)) {
    if (!re.find(s, pos, groups)) break;
    size_t a0 = static_cast<size_t>(groups[0].data() - s.data()), a1 = a0 + groups[0].size();
    // Go skips an empty match that starts where the previous match ended.
    if (!(a0 == a1 && a0 == prev_end)) out.emplace_back(a0, a1);
    prev_end = a1;
    size_t w = 1;
    if (a1 == a0) {
      if (a1 < s.size()) decode_rune(s, a1, w);
      pos = a1 + w;
    } else {
      pos = a1;
    }
  }
  return out;
}

std::string regex_replace(const std::string& pattern, const std::string& src,
                          const std::string& repl, bool literal) {
  GoRegexp re(pattern);
  if (!literal) return re.replace_all(src, repl);
  // Go's Regexp.replaceAll with ReplaceAllLiteralString's copy of `repl`.
  std::string out;
  std::vector<std::string_view> groups;
  size_t last_end = 0, pos = 0;
  while (pos <= src.size()) {
    if (!re.find(src, pos, groups)) break;
    size_t a0 = static_cast<size_t>(groups[0].data() - src.data()), a1 = a0 + groups[0].size();
    out.append(src, last_end, a0 - last_end);
    if (a1 > last_end || a0 == 0) out += repl;
    last_end = a1;
    size_t w = 1;
    if (pos < src.size()) decode_rune(src, pos, w);
    if (pos + w > a1)
      pos += w;
    else if (pos + 1 > a1)
      ++pos;
    else
      pos = a1;
  }
  out.append(src, last_end, std::string::npos);
  return out;
}

void register_strings(FunctionTable& t) {
  const Type* S_ = &types::string;
  define(t, "indent", {&types::int_, S_}, [](Args a) {
    if (a[0].as_int() < 0) throw FuncError("indent value must be a positive integer");
    return S(indent(a[0].as_int(), str(a[1])));
  });
  define(t, "join", {S_, &types::list_string}, [](Args a) {
    std::string out;
    bool first = true;
    for (const auto& e : a[1].as_list()) {
      if (!first) out += str(a[0]);
      first = false;
      out += e.as_string();
    }
    return S(out);
  });
  define(t, "split", {S_, S_}, [](Args a) {
    std::string_view s = trim_space(str(a[1]));
    std::vector<Value> items;
    if (!s.empty())
      for (auto& p : split(s, str(a[0]))) items.push_back(S(std::move(p)));
    return Value::list(std::move(items), &types::list_string);
  });
  define(t, "splitToMap", {S_, S_, S_}, [](Args a) {
    std::string_view s = trim_space(str(a[2]));
    std::vector<std::pair<Value, Value>> entries;
    if (!s.empty()) {
      for (auto& item : split(s, str(a[0]))) {
        const std::string& sep2 = str(a[1]);
        size_t p = item.find(sep2);
        if (p == std::string::npos) continue;
        entries.emplace_back(S(item.substr(0, p)), S(item.substr(p + sep2.size())));
      }
    }
    return Value::map(std::move(entries), &types::map_string);
  });
  define(t, "trim", {S_, S_}, [](Args a) { return S(go_trim(str(a[1]), str(a[0]))); });
  define(t, "trimPrefix", {S_, S_}, [](Args a) {
    const std::string &p = str(a[0]), &s = str(a[1]);
    return S(s.compare(0, p.size(), p) == 0 ? s.substr(p.size()) : s);
  });
  define(t, "trimSuffix", {S_, S_}, [](Args a) {
    const std::string &p = str(a[0]), &s = str(a[1]);
    bool has = s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
    return S(has ? s.substr(0, s.size() - p.size()) : s);
  });
  define(t, "trimSpace", {S_}, [](Args a) { return S(std::string(trim_space(str(a[0])))); });
  define(t, "replaceAll", {S_, S_, S_},
         [](Args a) { return S(replace_all(str(a[2]), str(a[0]), str(a[1]))); });
  define(t, "toLower", {S_}, [](Args a) { return S(to_lower(str(a[0]))); });
  define(t, "toUpper", {S_}, [](Args a) { return S(to_upper(str(a[0]))); });
  define(t, "toTitle", {S_}, [](Args a) { return S(to_title(str(a[0]))); });

  define(t, "parseBool", {S_}, [](Args a) {
    const std::string& s = str(a[0]);
    if (s.empty()) return Value::boolean(false);
    static const std::set<std::string> yes = {"1", "t", "T", "TRUE", "true", "True"};
    static const std::set<std::string> no = {"0", "f", "F", "FALSE", "false", "False"};
    if (yes.count(s)) return Value::boolean(true);
    if (no.count(s)) return Value::boolean(false);
    throw FuncError("parseBool: strconv.ParseBool: parsing " + go_quote(s) + ": invalid syntax");
  });
  define(t, "parseInt", {S_}, [](Args a) {
    int64_t v = 0;
    std::string err;
    if (!str(a[0]).empty() && !parse_int(str(a[0]), 10, v, err))
      throw FuncError("parseInt: " + err);
    return Value::integer(v, &types::int64);
  });
  define(t, "parseUint", {S_}, [](Args a) {
    uint64_t v = 0;
    std::string err;
    if (!str(a[0]).empty() && !parse_uint(str(a[0]), 10, v, err))
      throw FuncError("parseUint: " + err);
    return Value::uinteger(v, &types::uint64);
  });
  define(t, "parseFloat", {S_}, [](Args a) {
    double v = 0;
    std::string err;
    if (!str(a[0]).empty() && !parse_float(str(a[0]), v, err))
      throw FuncError("parseFloat: " + err);
    return Value::floating(v);
  });

  define(t, "regexMatch", {S_, S_},
         [](Args a) { return Value::boolean(GoRegexp(str(a[0])).match(str(a[1]))); });
  define(t, "regexReplaceAll", {S_, S_, S_},
         [](Args a) { return S(GoRegexp(str(a[0])).replace_all(str(a[2]), str(a[1]))); });

  define(t, "sha256Hex", {S_}, [](Args a) { return S(digest::hex(digest::sha256(str(a[0])))); });
  define(t, "md5sum", {S_}, [](Args a) { return S(digest::hex(digest::md5(str(a[0])))); });
  define(t, "hmacSHA256Hex", {S_, S_},
         [](Args a) { return S(digest::hex(digest::hmac_sha256(str(a[1]), str(a[0])))); });
}

}  // namespace templet::helpers
