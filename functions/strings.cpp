// String helpers: trimming, splitting, joining, case mapping, indentation, parsing numbers and
// booleans, regular expressions and digests. Regexes use std::regex (ECMAScript) with Go's
// RE2 spellings translated: (?P<name>…) and (?<name>…) groups, a leading (?i)/(?s)/(?m) flag
// group, \A and \z. Differences that remain: matching is per byte, not per UTF-8 rune ('.' on
// "é" matches one byte); \p{…} classes and \Q…\E are unsupported; compile errors carry
// std::regex's wording after Go's "error parsing regexp: " prefix. Replacement strings follow
// Go's Regexp.Expand ($1, ${1}, $name, ${name}, $$; `$1x` names the group "1x").
#include <regex>
#include <set>

#include "functions/digest.hpp"
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

bool is_cased(char32_t r) {
  return upper_rune(r) != r || lower_rune(r) != r || r == 0xDF || r == 0x138 || r == 0x149;
}

// Unicode Case_Ignorable characters that keep a word going (apostrophes, periods, colons, middle
// dots, combining marks): "don't" is one word for x/text's title caser.
bool is_case_ignorable(char32_t r) {
  switch (r) {
    case '\'':
    case '.':
    case ':':
    case '^':
    case '`':
    case 0xA8:
    case 0xAD:
    case 0xAF:
    case 0xB4:
    case 0xB7:
    case 0xB8:
    case 0x2018:
    case 0x2019:
    case 0x2024:
    case 0x2027:
      return true;
    default:
      return (r >= 0x300 && r <= 0x36F) || (r >= 0x2B0 && r <= 0x2FF) ||
             (r >= 0x200B && r <= 0x200F);
  }
}

std::string to_title(std::string_view s) {
  std::string out;
  bool in_word = false;
  for (size_t i = 0; i < s.size();) {
    size_t w;
    char32_t r = decode_rune(s, i, w);
    if (is_cased(r)) {
      append_utf8(out, in_word ? r : upper_rune(r));
      in_word = true;
    } else {
      append_utf8(out, r);
      if (!is_case_ignorable(r)) in_word = false;
    }
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

// ---- regular expressions ----

struct Compiled {
  std::regex re;
  std::vector<std::string> names;  // index = group number; "" for unnamed
};

Compiled compile(const std::string& pattern) {
  Compiled c;
  auto flags = std::regex::ECMAScript;
  std::string p = pattern;
  bool dotall = false;
  // A leading flag group, as Go writes case-insensitivity and friends.
  if (p.size() >= 4 && p[0] == '(' && p[1] == '?') {
    size_t close = p.find(')');
    std::string f = close == std::string::npos ? "" : p.substr(2, close - 2);
    if (!f.empty() && f.find_first_not_of("ims") == std::string::npos) {
      if (f.find('i') != std::string::npos) flags |= std::regex::icase;
      if (f.find('m') != std::string::npos) flags |= std::regex::multiline;
      if (f.find('s') != std::string::npos) dotall = true;
      p = p.substr(close + 1);
    }
  }
  std::string out;
  c.names.push_back("");
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char ch = p[i];
    if (ch == '\\' && i + 1 < p.size()) {
      char n = p[i + 1];
      if (!in_class && n == 'A') {
        out += '^';
      } else if (!in_class && n == 'z') {
        out += '$';
      } else {
        out += ch;
        out += n;
      }
      ++i;
      continue;
    }
    if (in_class) {
      if (ch == ']') in_class = false;
      out += ch;
      continue;
    }
    if (ch == '[') {
      in_class = true;
      out += ch;
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
      continue;
    }
    if (ch == '.' && dotall) {
      out += "[\\s\\S]";
      continue;
    }
    if (ch == '(') {
      if (i + 1 < p.size() && p[i + 1] == '?') {
        size_t name_at = std::string::npos;
        if (p.compare(i, 4, "(?P<") == 0)
          name_at = i + 4;
        else if (p.compare(i, 3, "(?<") == 0 && i + 3 < p.size() && p[i + 3] != '=' &&
                 p[i + 3] != '!')
          name_at = i + 3;
        if (name_at != std::string::npos) {
          size_t end = p.find('>', name_at);
          if (end == std::string::npos)
            throw FuncError("error parsing regexp: invalid named capture: `" + p.substr(i) + "`");
          c.names.push_back(p.substr(name_at, end - name_at));
          out += '(';
          i = end;
          continue;
        }
      } else {
        c.names.push_back("");
      }
    }
    out += ch;
  }
  try {
    c.re = std::regex(out, flags);
  } catch (const std::regex_error& e) {
    throw FuncError("error parsing regexp: " + std::string(e.what()) + ": `" + pattern + "`");
  }
  return c;
}

bool is_word_rune(char32_t r) {
  return r == '_' || (r < 0x80 && std::isalnum(static_cast<int>(r))) || (r >= 0x80 && r != 0xFFFD);
}

// Go's Regexp.Expand for ReplaceAllString.
void expand(std::string& dst, std::string_view tmpl, const Compiled& c, const std::cmatch& m) {
  while (!tmpl.empty()) {
    size_t d = tmpl.find('$');
    if (d == std::string_view::npos) break;
    dst += tmpl.substr(0, d);
    tmpl = tmpl.substr(d + 1);
    if (!tmpl.empty() && tmpl[0] == '$') {
      dst += '$';
      tmpl = tmpl.substr(1);
      continue;
    }
    // extract(): a name of letters, digits and underscores, optionally in braces.
    std::string_view str = tmpl;
    bool brace = !str.empty() && str[0] == '{';
    if (brace) str = str.substr(1);
    size_t i = 0;
    while (i < str.size()) {
      size_t w;
      char32_t r = decode_rune(str, i, w);
      if (!is_word_rune(r)) break;
      i += w;
    }
    bool ok = i > 0 && (!brace || (i < str.size() && str[i] == '}'));
    if (!ok) {
      dst += '$';
      continue;
    }
    std::string name(str.substr(0, i));
    tmpl = str.substr(brace ? i + 1 : i);
    long num = 0;
    for (char ch : name) {
      if (ch < '0' || ch > '9' || num >= 100000000) {
        num = -1;
        break;
      }
      num = num * 10 + (ch - '0');
    }
    if (name[0] == '0' && name.size() > 1) num = -1;
    if (num >= 0) {
      if (static_cast<size_t>(num) < m.size() && m[static_cast<size_t>(num)].matched)
        dst += m[static_cast<size_t>(num)].str();
    } else {
      for (size_t g = 1; g < c.names.size(); ++g)
        if (c.names[g] == name) {
          if (g < m.size() && m[g].matched) dst += m[g].str();
          break;
        }
    }
  }
  dst += tmpl;
}

std::string regex_replace_all(const Compiled& c, const std::string& src, const std::string& repl,
                              bool literal = false) {
  std::string buf;
  size_t last_end = 0, pos = 0;
  const char* base = src.data();
  while (pos <= src.size()) {
    std::cmatch m;
    auto flags =
        pos > 0 ? std::regex_constants::match_prev_avail : std::regex_constants::match_default;
    if (!std::regex_search(base + pos, base + src.size(), m, c.re, flags)) break;
    size_t a0 = static_cast<size_t>(m[0].first - base),
           a1 = static_cast<size_t>(m[0].second - base);
    buf.append(src, last_end, a0 - last_end);
    if (a1 > last_end || a0 == 0) {
      if (literal)
        buf += repl;
      else
        expand(buf, repl, c, m);
    }
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
  buf.append(src, last_end, std::string::npos);
  return buf;
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
  Compiled c = compile(pattern);
  std::vector<std::pair<size_t, size_t>> out;
  size_t pos = 0, prev_end = std::string::npos;
  const char* base = s.data();
  while (pos <= s.size() && (n < 0 || static_cast<int64_t>(out.size()) < n)) {
    std::cmatch m;
    auto flags =
        pos > 0 ? std::regex_constants::match_prev_avail : std::regex_constants::match_default;
    if (!std::regex_search(base + pos, base + s.size(), m, c.re, flags)) break;
    size_t a0 = static_cast<size_t>(m[0].first - base),
           a1 = static_cast<size_t>(m[0].second - base);
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
  return regex_replace_all(compile(pattern), src, repl, literal);
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

  define(t, "regexMatch", {S_, S_}, [](Args a) {
    Compiled c = compile(str(a[0]));
    return Value::boolean(std::regex_search(str(a[1]), c.re));
  });
  define(t, "regexReplaceAll", {S_, S_, S_}, [](Args a) {
    Compiled c = compile(str(a[0]));
    return S(regex_replace_all(c, str(a[2]), str(a[1])));
  });

  define(t, "sha256Hex", {S_}, [](Args a) { return S(digest::hex(digest::sha256(str(a[0])))); });
  define(t, "md5sum", {S_}, [](Args a) { return S(digest::hex(digest::md5(str(a[0])))); });
  define(t, "hmacSHA256Hex", {S_, S_},
         [](Args a) { return S(digest::hex(digest::hmac_sha256(str(a[1]), str(a[0])))); });
}

}  // namespace templet::helpers
