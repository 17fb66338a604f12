#include "functions/go_regexp.hpp"

#include <re2/re2.h>

#include "functions/helpers_internal.hpp"

namespace templet {

namespace {

// regexp/syntax's ErrorCode texts for RE2's codes.
const char* go_error_text(re2::RE2::ErrorCode code) {
  switch (code) {
    case re2::RE2::ErrorBadEscape:
      return "invalid escape sequence";
    case re2::RE2::ErrorBadCharClass:
      return "invalid character class";
    case re2::RE2::ErrorBadCharRange:
      return "invalid character class range";
    case re2::RE2::ErrorMissingBracket:
      return "missing closing ]";
    case re2::RE2::ErrorMissingParen:
      return "missing closing )";
    case re2::RE2::ErrorUnexpectedParen:
      return "unexpected )";
    case re2::RE2::ErrorTrailingBackslash:
      return "trailing backslash at end of expression";
    case re2::RE2::ErrorRepeatArgument:
      return "missing argument to repetition operator";
    case re2::RE2::ErrorRepeatSize:
      return "invalid repeat count";
    case re2::RE2::ErrorRepeatOp:
      return "invalid nested repetition operator";
    case re2::RE2::ErrorBadPerlOp:
      return "invalid or unsupported Perl syntax";
    case re2::RE2::ErrorBadUTF8:
      return "invalid UTF-8";
    case re2::RE2::ErrorBadNamedCapture:
      return "invalid named capture";
    case re2::RE2::ErrorPatternTooLarge:
      return "expression too large";
    default:
      return "regexp/syntax: internal error";
  }
}

// Go 1.22 also accepts (?<name>…), which this RE2 knows only as (?P<name>…). Classes and
// escapes are skipped so that a literal "(?<" inside them is left alone.
std::string to_re2_syntax(const std::string& p) {
  std::string out;
  out.reserve(p.size() + 8);
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      out += c;
      out += p[++i];
      if (p[i] == 'Q') {  // \Q…\E is literal text
        size_t end = p.find("\\E", i + 1);
        size_t stop = end == std::string::npos ? p.size() : end;
        out.append(p, i + 1, stop - i - 1);
        i = stop - 1;
      }
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      out += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
      continue;
    }
    if (c == '(' && p.compare(i, 3, "(?<") == 0 && i + 3 < p.size() && p[i + 3] != '=' &&
        p[i + 3] != '!') {
      out += "(?P<";
      i += 2;
      continue;
    }
    out += c;
  }
  return out;
}

bool is_word_rune(char32_t r) {
  return r == '_' || (r < 0x80 && std::isalnum(static_cast<int>(r))) || (r >= 0x80 && r != 0xFFFD);
}

}  // namespace

GoRegexp::GoRegexp(const std::string& pattern) {
  re2::RE2::Options o;
  o.set_log_errors(false);
  o.set_encoding(re2::RE2::Options::EncodingUTF8);
  // Go's regexp has no memory bound of its own; RE2's default (8 MiB) rejects patterns Go
  // compiles, such as a{1000} of a class.
  o.set_max_mem(int64_t{64} << 20);
  re_ = std::make_unique<re2::RE2>(to_re2_syntax(pattern), o);
  if (!re_->ok()) {
    std::string arg = re_->error_arg();
    // Go names the whole expression for an unclosed group.
    if (re_->error_code() == re2::RE2::ErrorMissingParen) arg = pattern;
    // A fragment of a (?<name> group, which was handed to RE2 as (?P<name>.
    if (arg.find("(?P<") != std::string::npos && pattern.find(arg) == std::string::npos)
      arg.replace(arg.find("(?P<"), 4, "(?<");
    throw FuncError(std::string("error parsing regexp: ") + go_error_text(re_->error_code()) +
                    ": `" + arg + "`");
  }
  names_.assign(static_cast<size_t>(re_->NumberOfCapturingGroups()) + 1, "");
  for (const auto& [i, name] : re_->CapturingGroupNames()) names_[static_cast<size_t>(i)] = name;
}

GoRegexp::~GoRegexp() = default;
GoRegexp::GoRegexp(GoRegexp&&) noexcept = default;
GoRegexp& GoRegexp::operator=(GoRegexp&&) noexcept = default;

bool GoRegexp::match(std::string_view s) const {
  return re_->Match(re2::StringPiece(s.data(), s.size()), 0, s.size(), re2::RE2::UNANCHORED,
                    nullptr, 0);
}

bool GoRegexp::find(std::string_view s, size_t pos, std::vector<std::string_view>& groups) const {
  std::vector<re2::StringPiece> sub(names_.size());
  if (!re_->Match(re2::StringPiece(s.data(), s.size()), pos, s.size(), re2::RE2::UNANCHORED,
                  sub.data(), static_cast<int>(sub.size())))
    return false;
  groups.clear();
  for (const auto& g : sub) groups.emplace_back(g.data(), g.size());
  return true;
}

namespace {

// Go's Regexp.Expand for ReplaceAllString.
void expand(std::string& dst, std::string_view tmpl, const std::vector<std::string>& names,
            const std::vector<std::string_view>& m) {
  auto group = [&](size_t g) {
    if (g < m.size() && m[g].data() != nullptr) dst += m[g];
  };
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
      char32_t r = helpers::decode_rune(str, i, w);
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
      group(static_cast<size_t>(num));
    } else {
      for (size_t g = 1; g < names.size(); ++g)
        if (names[g] == name) {
          group(g);
          break;
        }
    }
  }
  dst += tmpl;
}

}  // namespace

std::string GoRegexp::replace_all(std::string_view src, std::string_view repl) const {
  std::string buf;
  size_t last_end = 0, pos = 0;
  std::vector<std::string_view> m;
  while (pos <= src.size()) {
    if (!find(src, pos, m)) break;
    size_t a0 = static_cast<size_t>(m[0].data() - src.data());
    size_t a1 = a0 + m[0].size();
    buf.append(src.substr(last_end, a0 - last_end));
    // No replacement for an empty match right after another match.
    if (a1 > last_end || a0 == 0) expand(buf, repl, names_, m);
    last_end = a1;
    size_t w = 1;
    if (pos < src.size()) helpers::decode_rune(src, pos, w);
    if (pos + w > a1)
      pos += w;
    else if (pos + 1 > a1)
      ++pos;
    else
      pos = a1;
  }
  buf.append(src.substr(last_end));
  return buf;
}

}  // namespace templet
