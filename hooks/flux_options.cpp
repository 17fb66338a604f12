// The `option task` reader: a small Flux tokenizer, the top-level statement search, the object
// literal's properties and the server's validation rules (see flux_options.hpp).
#include "hooks/flux_options.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <optional>
#include <vector>

namespace templet {

FluxOptionsError::FluxOptionsError(std::string d, FluxPosition p, std::string n)
    : std::runtime_error(d), detail(std::move(d)), position(p), name(std::move(n)) {}

std::string FluxOptionsError::describe(const std::string& file) const {
  return file + ":" + std::to_string(position.line) + ":" + std::to_string(position.column) +
         ": " + detail;
}

namespace {

enum class Kind { Ident, String, Int, Float, Duration, Regex, Punct };

struct Token {
  Token(Kind k, std::string_view t, size_t o) : kind(k), text(t), offset(o) {}
  Kind kind;
  std::string_view text;  // as written
  size_t offset = 0;
  std::string value;  // decoded string value
  bool interpolated = false;
  size_t partner = 0;  // for brackets: index of the matching one
};

// Duration units, longest first where one is a prefix of another.
constexpr std::array<std::string_view, 11> kUnits = {"mo", "ms", "us", "\xc2\xb5s", "ns", "y",
                                                     "w",  "d",  "h",  "m",         "s"};

// Length of the duration literal starting at `s` (0: none).
size_t match_duration(std::string_view s) {
  size_t i = 0;
  bool any = false;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    size_t j = i;
    if (s[j] == '0') {
      ++j;
    } else {
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
    }
    std::string_view rest = s.substr(j);
    size_t ulen = 0;
    for (auto u : kUnits)
      if (rest.substr(0, u.size()) == u) {
        ulen = u.size();
        break;
      }
    if (ulen == 0) break;
    i = j + ulen;
    any = true;
  }
  return any ? i : 0;
}

bool ident_start(unsigned char c) { return std::isalpha(c) || c == '_' || c >= 0x80; }
bool ident_char(unsigned char c) { return ident_start(c) || std::isdigit(c); }

class Lexer {
 public:
  Lexer(std::string_view src, int first_line) : src_(src), first_line_(first_line) {}

  FluxPosition pos(size_t offset) const {
    FluxPosition p;
    p.line = first_line_;
    size_t line_start = 0;
    for (size_t i = 0; i < offset && i < src_.size(); ++i)
      if (src_[i] == '\n') {
        ++p.line;
        line_start = i + 1;
      }
    p.column = static_cast<int>(offset - line_start) + 1;
    return p;
  }

  [[noreturn]] void fail(const std::string& msg, size_t offset) const {
    throw FluxOptionsError(msg, pos(offset));
  }

  std::vector<Token> run() {
    std::vector<Token> toks;
    size_t i = 0, n = src_.size();
    while (i < n) {
      unsigned char c = static_cast<unsigned char>(src_[i]);
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        ++i;
        continue;
      }
      if (src_.substr(i, 2) == "//") {
        size_t j = src_.find('\n', i);
        i = j == std::string_view::npos ? n : j + 1;
        continue;
      }
      if (c == '"') {
        toks.push_back(string_token(i));
        i += toks.back().text.size();
        continue;
      }
      if (c == '/' && regex_allowed(toks)) {
        size_t j = i + 1;
        while (true) {
          if (j >= n || src_[j] == '\n') fail("unterminated regular expression", i);
          if (src_[j] == '\\' && j + 1 < n && src_[j + 1] != '\n') {
            j += 2;
            continue;
          }
          if (src_[j] == '/') break;
          ++j;
        }
        toks.push_back({Kind::Regex, src_.substr(i, j + 1 - i), i});
        i = j + 1;
        continue;
      }
      if (std::isdigit(c)) {
        size_t len = match_duration(src_.substr(i));
        if (len) {
          toks.push_back({Kind::Duration, src_.substr(i, len), i});
        } else if (c == '0' && i + 1 < n && std::isdigit(static_cast<unsigned char>(src_[i + 1]))) {
          toks.push_back({Kind::Int, src_.substr(i, 1), i});
          len = 1;
        } else {
          size_t j = i;
          while (j < n && std::isdigit(static_cast<unsigned char>(src_[j]))) ++j;
          Kind k = Kind::Int;
          if (j + 1 < n && src_[j] == '.' && std::isdigit(static_cast<unsigned char>(src_[j + 1]))) {
            ++j;
            while (j < n && std::isdigit(static_cast<unsigned char>(src_[j]))) ++j;
            k = Kind::Float;
          }
          len = j - i;
          toks.push_back({k, src_.substr(i, len), i});
        }
        i += len;
        continue;
      }
      if (ident_start(c)) {
        size_t j = i;
        while (j < n && ident_char(static_cast<unsigned char>(src_[j]))) ++j;
        toks.push_back({Kind::Ident, src_.substr(i, j - i), i});
        i = j;
        continue;
      }
      static constexpr std::array<std::string_view, 9> two = {"|>", "<-", "=>", "==", "!=",
                                                              "<=", ">=", "=~", "!~"};
      size_t len = 1;
      for (auto p : two)
        if (src_.substr(i, 2) == p) len = 2;
      toks.push_back({Kind::Punct, src_.substr(i, len), i});
      i += len;
    }
    match_brackets(toks);
    return toks;
  }

 private:
  // A `/` starts a regex unless it follows something a division could follow.
  static bool regex_allowed(const std::vector<Token>& toks) {
    if (toks.empty()) return true;
    const Token& t = toks.back();
    if (t.kind != Kind::Punct) return false;
    return !(t.text == ")" || t.text == "]" || t.text == "}");
  }

  Token string_token(size_t start) const {
    Token t{Kind::String, {}, start};
    size_t j = start + 1, n = src_.size();
    while (true) {
      if (j >= n) fail("unterminated string literal", start);
      char ch = src_[j];
      if (ch == '"') break;
      if (ch == '\\') {
        if (j + 1 >= n) fail("unterminated string literal", start);
        char e = src_[j + 1];
        switch (e) {
          case 'n':
            t.value += '\n';
            break;
          case 'r':
            t.value += '\r';
            break;
          case 't':
            t.value += '\t';
            break;
          case '\\':
          case '"':
          case '$':
            t.value += e;
            break;
          case 'x': {
            auto hex = [](char h) -> int {
              if (h >= '0' && h <= '9') return h - '0';
              if (h >= 'a' && h <= 'f') return h - 'a' + 10;
              if (h >= 'A' && h <= 'F') return h - 'A' + 10;
              return -1;
            };
            int hi = j + 2 < n ? hex(src_[j + 2]) : -1;
            int lo = j + 3 < n ? hex(src_[j + 3]) : -1;
            if (hi < 0 || lo < 0) fail("invalid escape sequence \\x (two hex digits expected)", j);
            t.value += static_cast<char>(hi * 16 + lo);
            j += 4;
            continue;
          }
          default:
            fail(std::string("invalid escape sequence \\") + e, j);
        }
        j += 2;
        continue;
      }
      if (ch == '$' && j + 1 < n && src_[j + 1] == '{') {
        t.interpolated = true;
        int depth = 0;
        while (j < n) {
          if (src_[j] == '{') ++depth;
          if (src_[j] == '}' && --depth == 0) break;
          ++j;
        }
        if (j >= n) fail("unterminated string literal", start);
        ++j;
        continue;
      }
      t.value += ch;
      ++j;
    }
    t.text = src_.substr(start, j + 1 - start);
    return t;
  }

  void match_brackets(std::vector<Token>& toks) const {
    std::vector<size_t> stack;
    for (size_t k = 0; k < toks.size(); ++k) {
      if (toks[k].kind != Kind::Punct) continue;
      std::string_view t = toks[k].text;
      if (t == "(" || t == "[" || t == "{") {
        stack.push_back(k);
      } else if (t == ")" || t == "]" || t == "}") {
        char want = t == ")" ? '(' : t == "]" ? '[' : '{';
        if (stack.empty() || toks[stack.back()].text[0] != want)
          fail("unexpected " + std::string(t), toks[k].offset);
        toks[stack.back()].partner = k;
        toks[k].partner = stack.back();
        stack.pop_back();
      }
    }
    if (!stack.empty())
      fail("unclosed " + std::string(toks[stack.back()].text), toks[stack.back()].offset);
  }

  std::string_view src_;
  int first_line_;
};

bool is_open(const Token& t) {
  return t.kind == Kind::Punct && (t.text == "(" || t.text == "[" || t.text == "{");
}

// The AST node type the server names when `option task` is not an object literal.
std::string expression_type(const std::vector<Token>& toks, size_t k) {
  const Token& t = toks[k];
  auto next_is = [&](std::string_view p) {
    return k + 1 < toks.size() && toks[k + 1].kind == Kind::Punct && toks[k + 1].text == p;
  };
  switch (t.kind) {
    case Kind::String:
      return t.interpolated ? "StringExpression" : "StringLiteral";
    case Kind::Int:
      return "IntegerLiteral";
    case Kind::Float:
      return "FloatLiteral";
    case Kind::Duration:
      return "DurationLiteral";
    case Kind::Regex:
      return "RegexpLiteral";
    case Kind::Ident:
      if (next_is("(")) return "CallExpression";
      if (next_is(".")) return "MemberExpression";
      if (next_is("[")) return "IndexExpression";
      return "Identifier";
    case Kind::Punct:
      if (t.text == "[") return "ArrayExpression";
      if (t.text == "(") return "FunctionExpression";
      if (t.text == "-" || t.text == "+") return "UnaryExpression";
      return "BadExpression";
  }
  return "BadExpression";
}

struct Property {
  size_t key_tok;
  size_t begin, end;  // value tokens [begin, end)
};

// Nanoseconds of a duration literal (months as 28 days, years as 365 days: only the sign, the
// "at least 1s" and the whole-seconds checks use it, and those units are whole days anyway).
__int128 duration_ns(std::string_view text) {
  __int128 total = 0;
  size_t i = 0;
  while (i < text.size()) {
    __int128 v = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (v < (static_cast<__int128>(1) << 100)) v = v * 10 + (text[i] - '0');
      ++i;
    }
    std::string_view rest = text.substr(i);
    for (auto u : kUnits) {
      if (rest.substr(0, u.size()) != u) continue;
      __int128 mult = 1;
      if (u == "ns") mult = 1;
      else if (u == "us" || u == "\xc2\xb5s") mult = 1000;
      else if (u == "ms") mult = 1000000;
      else if (u == "s") mult = 1000000000;
      else if (u == "m") mult = 60LL * 1000000000;
      else if (u == "h") mult = 3600LL * 1000000000;
      else if (u == "d") mult = 86400LL * 1000000000;
      else if (u == "w") mult = 7 * 86400LL * 1000000000;
      else if (u == "mo") mult = 28 * 86400LL * 1000000000;
      else if (u == "y") mult = 365 * 86400LL * 1000000000;
      total += v * mult;
      i += u.size();
      break;
    }
  }
  return total;
}

constexpr __int128 kSecond = 1000000000;

bool has_calendar_unit(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(text[i]))) continue;
    std::string_view rest = text.substr(i);
    if (rest.substr(0, 2) == "mo" || rest[0] == 'd' || rest[0] == 'w' || rest[0] == 'y')
      return true;
    for (auto u : kUnits)
      if (rest.substr(0, u.size()) == u) {
        i += u.size() - 1;
        break;
      }
  }
  return false;
}

}  // namespace

bool is_flux_duration(std::string_view text) {
  return !text.empty() && match_duration(text) == text.size();
}

std::string check_cron(std::string_view expr) {
  std::string e(expr);
  while (!e.empty() && std::isspace(static_cast<unsigned char>(e.back()))) e.pop_back();
  while (!e.empty() && std::isspace(static_cast<unsigned char>(e.front()))) e.erase(0, 1);
  std::string lower = e;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  static const char* descriptors[] = {"@yearly", "@annually", "@monthly", "@weekly",
                                      "@daily",  "@midnight", "@hourly"};
  for (auto* d : descriptors)
    if (lower == d) return "";
  if (lower.rfind("@every ", 0) == 0) {
    std::string d = e.substr(7);
    return is_flux_duration(d) ? "" : "invalid duration \"" + d + "\" in @every";
  }
  std::vector<std::string> fields;
  for (size_t i = 0; i < e.size();) {
    while (i < e.size() && std::isspace(static_cast<unsigned char>(e[i]))) ++i;
    size_t j = i;
    while (j < e.size() && !std::isspace(static_cast<unsigned char>(e[j]))) ++j;
    if (j > i) fields.push_back(e.substr(i, j - i));
    i = j;
  }
  struct Spec {
    const char* name;
    int lo, hi;
    int names;  // 0 none, 1 months, 2 days
  };
  static const Spec sec{"second", 0, 59, 0}, min{"minute", 0, 59, 0}, hour{"hour", 0, 23, 0},
      dom{"day of month", 1, 31, 0}, mon{"month", 1, 12, 1}, dow{"day of week", 0, 7, 2},
      year{"year", 1970, 2099, 0};
  std::vector<Spec> specs;
  if (fields.size() == 5) specs = {min, hour, dom, mon, dow};
  else if (fields.size() == 6) specs = {sec, min, hour, dom, mon, dow};
  else if (fields.size() == 7) specs = {sec, min, hour, dom, mon, dow, year};
  else
    return "cron expression must have 5, 6 or 7 fields, got " + std::to_string(fields.size());
  static const char* months[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                 "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  static const char* days[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};
  auto value_of = [&](const std::string& b, const Spec& s) -> std::optional<int> {
    if (!b.empty() && b.size() <= 4 &&
        std::all_of(b.begin(), b.end(), [](unsigned char c) { return std::isdigit(c); }))
      return std::stoi(b);
    std::string up = b;
    std::transform(up.begin(), up.end(), up.begin(),
                   [](unsigned char c) { return std::toupper(c); });
    if (s.names == 1)
      for (int k = 0; k < 12; ++k)
        if (up == months[k]) return k + 1;
    if (s.names == 2)
      for (int k = 0; k < 7; ++k)
        if (up == days[k]) return k;
    return std::nullopt;
  };
  for (size_t f = 0; f < fields.size(); ++f) {
    const Spec& s = specs[f];
    std::string field = fields[f];
    size_t start = 0;
    while (start <= field.size()) {
      size_t comma = field.find(',', start);
      std::string part =
          field.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      start = comma == std::string::npos ? field.size() + 1 : comma + 1;
      if (part == "*" || part == "?") continue;
      bool day_field = std::string_view(s.name) == "day of month" ||
                       std::string_view(s.name) == "day of week";
      if (day_field && (part == "L" || part == "LW" ||
                        (part.size() > 1 && (part.back() == 'W' || part.back() == 'L')) ||
                        part.find('#') != std::string::npos))
        continue;
      std::string range = part, step;
      if (auto slash = part.find('/'); slash != std::string::npos) {
        range = part.substr(0, slash);
        step = part.substr(slash + 1);
        if (step.empty() || step.size() > 4 ||
            !std::all_of(step.begin(), step.end(), [](unsigned char c) { return std::isdigit(c); }) ||
            std::stoi(step) == 0)
          return "invalid step \"" + step + "\" in " + s.name + " field";
        if (range == "*") continue;
      }
      std::vector<std::string> bounds;
      for (size_t b = 0; b <= range.size();) {
        size_t dash = range.find('-', b);
        bounds.push_back(range.substr(b, dash == std::string::npos ? std::string::npos : dash - b));
        b = dash == std::string::npos ? range.size() + 1 : dash + 1;
      }
      if (bounds.size() > 2) return "invalid range \"" + range + "\" in " + s.name + " field";
      for (const auto& b : bounds) {
        auto v = value_of(b, s);
        if (!v || *v < s.lo || *v > s.hi)
          return "invalid value \"" + b + "\" in " + s.name + " field";
      }
    }
  }
  return "";
}

FluxTaskOptions parse_flux_task_options(std::string_view script, int first_line) {
  Lexer lex(script, first_line);
  std::vector<Token> toks = lex.run();

  // Top-level `option task =` statements.
  std::vector<size_t> found;
  int depth = 0;
  for (size_t k = 0; k < toks.size(); ++k) {
    const Token& t = toks[k];
    if (t.kind == Kind::Punct && (t.text == "(" || t.text == "[" || t.text == "{")) ++depth;
    if (t.kind == Kind::Punct && (t.text == ")" || t.text == "]" || t.text == "}")) --depth;
    if (depth == 0 && t.kind == Kind::Ident && t.text == "option" && k + 2 < toks.size() &&
        toks[k + 1].kind == Kind::Ident && toks[k + 1].text == "task" &&
        toks[k + 2].kind == Kind::Punct && toks[k + 2].text == "=")
      found.push_back(k);
  }
  if (found.empty()) throw FluxOptionsError("no task options defined", lex.pos(0));
  if (found.size() > 1)
    throw FluxOptionsError("multiple task options defined", lex.pos(toks[found[1]].offset));

  FluxTaskOptions opts;
  size_t opt_k = found[0];
  size_t opt_off = toks[opt_k].offset;
  opts.position = lex.pos(opt_off);
  if (opt_k + 3 >= toks.size())
    throw FluxOptionsError("expected an expression after option task =", opts.position);
  size_t open = opt_k + 3;
  if (!(toks[open].kind == Kind::Punct && toks[open].text == "{"))
    throw FluxOptionsError("task option expected to be object literal, but found \"" +
                               expression_type(toks, open) + "\"",
                           lex.pos(toks[open].offset));
  size_t close = toks[open].partner;

  // Properties, in order; a later duplicate key wins.
  std::map<std::string, Property> props;
  size_t k = open + 1;
  if (k + 1 < close && toks[k].kind == Kind::Ident && toks[k + 1].kind == Kind::Ident &&
      toks[k + 1].text == "with")
    k += 2;
  while (k < close) {
    const Token& key = toks[k];
    std::string key_name;
    if (key.kind == Kind::Ident) key_name = std::string(key.text);
    else if (key.kind == Kind::String && !key.interpolated) key_name = key.value;
    else
      throw FluxOptionsError("unexpected " + std::string(key.text) + " in the task option record",
                             lex.pos(key.offset));
    Property p{k, k, k + 1};
    ++k;
    if (k < close && toks[k].kind == Kind::Punct && toks[k].text == ":") {
      ++k;
      p.begin = k;
      while (k < close && !(toks[k].kind == Kind::Punct && toks[k].text == ",")) {
        if (is_open(toks[k])) k = toks[k].partner;
        ++k;
      }
      p.end = k;
      if (p.begin == p.end)
        throw FluxOptionsError("missing value for " + key_name + " in the task option record",
                               lex.pos(toks[p.key_tok].offset));
    } else if (k < close && !(toks[k].kind == Kind::Punct && toks[k].text == ",")) {
      throw FluxOptionsError("expected : after " + key_name + " in the task option record",
                             lex.pos(toks[k].offset));
    }
    if (k < close) ++k;  // the comma
    props[key_name] = p;
  }

  auto value_pos = [&](const Property& p) { return lex.pos(toks[p.begin].offset); };
  auto single = [&](const std::string& key, Kind kind) -> const Token& {
    const Property& p = props.at(key);
    if (p.end - p.begin == 1 && toks[p.begin].kind == kind && !toks[p.begin].interpolated)
      return toks[p.begin];
    throw FluxOptionsError("failed to parse field '" + key + "' in task options", value_pos(p),
                           key == "name" ? std::string() : opts.name);
  };

  if (!props.count("name"))
    throw FluxOptionsError("missing required option: name", opts.position);
  opts.name = single("name", Kind::String).value;
  bool has_cron = props.count("cron") > 0, has_every = props.count("every") > 0;
  if (has_cron && has_every) {
    const Property& later =
        props["cron"].key_tok > props["every"].key_tok ? props["cron"] : props["every"];
    throw FluxOptionsError("cannot use both cron and every in task options",
                           lex.pos(toks[later.key_tok].offset), opts.name);
  }
  if (!has_cron && !has_every)
    throw FluxOptionsError("missing required option: cron or every", opts.position, opts.name);
  if (has_cron) opts.cron = single("cron", Kind::String).value;
  if (has_every) opts.every = std::string(single("every", Kind::Duration).text);
  if (props.count("offset")) {
    const Property& p = props["offset"];
    size_t len = p.end - p.begin;
    if (len == 1 && toks[p.begin].kind == Kind::Duration) {
      opts.offset = std::string(toks[p.begin].text);
    } else if (len == 2 && toks[p.begin].kind == Kind::Punct && toks[p.begin].text == "-" &&
               toks[p.begin + 1].kind == Kind::Duration) {
      opts.offset = "-" + std::string(toks[p.begin + 1].text);
    } else {
      throw FluxOptionsError("failed to parse field 'offset' in task options", value_pos(p),
                             opts.name);
    }
  }
  auto integer = [&](const std::string& key) -> int64_t {
    const Token& t = single(key, Kind::Int);
    if (t.text.size() > 18) return INT64_MAX;
    return std::stoll(std::string(t.text));
  };
  if (props.count("concurrency")) opts.concurrency = integer("concurrency");
  if (props.count("retry")) opts.retry = integer("retry");

  // Validate: every failure, joined, at the position of the first.
  std::vector<std::string> errs;
  std::optional<FluxPosition> first;
  auto add = [&](std::string msg, FluxPosition p) {
    errs.push_back(std::move(msg));
    if (!first) first = p;
  };
  auto key_pos = [&](const std::string& key) {
    return props.count(key) ? value_pos(props[key]) : opts.position;
  };
  if (opts.name.empty()) add("name required", key_pos("name"));
  if (has_cron) {
    if (opts.cron.empty()) {
      add("must specify exactly one of either cron or every", key_pos("cron"));
    } else if (std::string why = check_cron(opts.cron); !why.empty()) {
      add("cron invalid: " + why, key_pos("cron"));
    }
  } else {
    __int128 ns = duration_ns(opts.every);
    if (ns == 0) add("must specify exactly one of either cron or every", key_pos("every"));
    else if (ns < kSecond) add("every option must be at least 1 second", key_pos("every"));
    else if (ns % kSecond != 0)
      add("every option must be expressible as whole seconds", key_pos("every"));
  }
  if (!opts.offset.empty()) {
    std::string_view body = std::string_view(opts.offset).substr(opts.offset[0] == '-' ? 1 : 0);
    if (duration_ns(body) % kSecond != 0)
      add("offset option must be expressible as whole seconds", key_pos("offset"));
    else if (has_calendar_unit(body))
      add("offset " + opts.offset + " uses d, w, mo or y, which the server cannot store (use h)",
          key_pos("offset"));
  }
  if (opts.concurrency < 1) add("concurrency must be at least 1", key_pos("concurrency"));
  else if (opts.concurrency > 100)
    add("concurrency exceeded max of 100", key_pos("concurrency"));
  if (opts.retry < 1) add("retry must be at least 1", key_pos("retry"));
  else if (opts.retry > 10) add("retry exceeded max of 10", key_pos("retry"));
  if (!errs.empty()) {
    std::string msg;
    for (const auto& e : errs) msg += (msg.empty() ? "" : ", ") + e;
    throw FluxOptionsError(msg, *first, opts.name);
  }
  return opts;
}

}  // namespace templet
