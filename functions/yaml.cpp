// YAML: toYAML reproduces gopkg.in/yaml.v2's Marshal output (libyaml emitter rules: which
// strings need quotes and which style, `|-` literal blocks, indentless lists under keys, folding
// of long plain/quoted scalars past column 80, natural key order); parseYAML reads with yaml-cpp
// and resolves plain scalars as yaml.v2 does (YAML 1.1 bools, base-0 ints, floats, maps as
// map[interface {}]interface {}). Parse errors keep yaml-cpp's wording as "yaml: line N: MSG".
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <regex>

#include "functions/helpers_internal.hpp"

namespace templet::helpers {

namespace {

// ---- YAML 1.1 plain-scalar resolution (yaml.v2 resolve.go) ----

enum class Resolved { Str, Null, Bool, Int, Float, Timestamp, Merge };

bool is_timestamp(std::string_view s) {
  static const std::regex re(
      R"(^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]*)?(Z|[-+][0-9]{1,2}(:[0-9]{2})?)?)?$)");
  return std::regex_match(s.begin(), s.end(), re);
}

const std::regex& float_re() {
  static const std::regex re(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
  return re;
}

// Resolves a plain scalar; `out` receives the typed value for non-strings.
Resolved resolve(const std::string& s, Value* out) {
  auto set = [&](Value v) {
    if (out) *out = std::move(v);
  };
  static const std::vector<std::string> nulls = {"", "~", "null", "Null", "NULL"};
  static const std::vector<std::string> trues = {"y",  "Y",  "yes",  "Yes",  "YES", "on",
                                                 "On", "ON", "true", "True", "TRUE"};
  static const std::vector<std::string> falses = {"n",   "N",   "no",    "No",    "NO",   "off",
                                                  "Off", "OFF", "false", "False", "FALSE"};
  auto has = [&](const std::vector<std::string>& v) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  if (has(nulls)) return set(Value::nil()), Resolved::Null;
  if (has(trues)) return set(Value::boolean(true)), Resolved::Bool;
  if (has(falses)) return set(Value::boolean(false)), Resolved::Bool;
  if (s == ".nan" || s == ".NaN" || s == ".NAN")
    return set(Value::floating(std::nan(""))), Resolved::Float;
  for (const char* inf : {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"})
    if (s == inf) return set(Value::floating(HUGE_VAL)), Resolved::Float;
  for (const char* inf : {"-.inf", "-.Inf", "-.INF"})
    if (s == inf) return set(Value::floating(-HUGE_VAL)), Resolved::Float;
  if (s == "<<") return Resolved::Merge;
  char c = s[0];
  bool digit_or_sign = (c >= '0' && c <= '9') || c == '+' || c == '-';
  if (digit_or_sign) {
    if (is_timestamp(s)) return Resolved::Timestamp;
    std::string plain;
    for (char ch : s)
      if (ch != '_') plain += ch;
    int64_t i;
    uint64_t u;
    double f;
    std::string err;
    if (parse_int(plain, 0, i, err)) return set(Value::integer(i)), Resolved::Int;
    if (parse_uint(plain, 0, u, err)) return set(Value::uinteger(u)), Resolved::Int;
    if (std::regex_match(plain, float_re()) && parse_float(plain, f, err))
      return set(Value::floating(f)), Resolved::Float;
    if (plain.rfind("0b", 0) == 0 || plain.rfind("-0b", 0) == 0) {
      bool neg = plain[0] == '-';
      if (parse_int(plain.substr(neg ? 3 : 2), 2, i, err))
        return set(Value::integer(neg ? -i : i)), Resolved::Int;
    }
  } else if (c == '.') {
    double f;
    std::string err;
    if (std::regex_match(s, float_re()) && parse_float(s, f, err))
      return set(Value::floating(f)), Resolved::Float;
  }
  return Resolved::Str;
}

bool is_base60_float(const std::string& s) {
  static const std::regex re(R"(^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$)");
  return std::regex_match(s, re);
}

// ---- emitter ----

bool is_printable(char32_t r) {
  return r == 0x0A || (r >= 0x20 && r <= 0x7E) || r == 0x85 || (r >= 0xA0 && r <= 0xD7FF) ||
         (r >= 0xE000 && r <= 0xFFFD && r != 0xFEFF) || (r >= 0x10000 && r <= 0x10FFFF);
}

enum class Style { Plain, Single, Double, Literal };

struct Analysis {
  bool multiline = false, flow_plain = true, block_plain = true, single = true, block = true;
};

// libyaml's yaml_emitter_analyze_scalar.
Analysis analyze(const std::string& s) {
  Analysis a;
  if (s.empty()) {
    a.flow_plain = false;
    a.block = false;
    return a;
  }
  bool block_ind = false, flow_ind = false, line_breaks = false, special = false;
  bool leading_space = false, leading_break = false, trailing_space = false, trailing_break = false,
       break_space = false, space_break = false;
  bool prev_space = false, prev_break = false;
  if (s.rfind("---", 0) == 0 || s.rfind("...", 0) == 0) block_ind = flow_ind = true;
  bool preceded_by_ws = true;
  std::vector<std::pair<char32_t, size_t>> runes;
  for (size_t i = 0; i < s.size();) {
    size_t w;
    char32_t r = decode_rune(s, i, w);
    runes.emplace_back(r, i);
    i += w;
  }
  auto blankz = [](char32_t r) {
    return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == 0 || r == 0x85 || r == 0x2028 ||
           r == 0x2029;
  };
  for (size_t k = 0; k < runes.size(); ++k) {
    char32_t r = runes[k].first;
    bool first = k == 0, last = k + 1 == runes.size();
    bool followed_by_ws = last || blankz(runes[k + 1].first);
    if (first) {
      switch (r) {
        case '#':
        case ',':
        case '[':
        case ']':
        case '{':
        case '}':
        case '&':
        case '*':
        case '!':
        case '|':
        case '>':
        case '\'':
        case '"':
        case '%':
        case '@':
        case '`':
          flow_ind = block_ind = true;
          break;
        case '?':
        case ':':
          flow_ind = true;
          if (followed_by_ws) block_ind = true;
          break;
        case '-':
          if (followed_by_ws) flow_ind = block_ind = true;
          break;
      }
    } else {
      switch (r) {
        case ',':
        case '?':
        case '[':
        case ']':
        case '{':
        case '}':
          flow_ind = true;
          break;
        case ':':
          flow_ind = true;
          if (followed_by_ws) block_ind = true;
          break;
        case '#':
          if (preceded_by_ws) flow_ind = block_ind = true;
          break;
      }
    }
    if (!is_printable(r)) special = true;
    bool is_break = r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029;
    if (is_break) line_breaks = true;
    if (r == ' ') {
      if (first) leading_space = true;
      if (last) trailing_space = true;
      if (prev_break) break_space = true;
      prev_space = true;
      prev_break = false;
    } else if (is_break) {
      if (first) leading_break = true;
      if (last) trailing_break = true;
      if (prev_space) space_break = true;
      prev_break = true;
      prev_space = false;
    } else {
      prev_space = prev_break = false;
    }
    preceded_by_ws = blankz(r);
  }
  a.multiline = line_breaks;
  if (leading_space || leading_break || trailing_space || trailing_break)
    a.flow_plain = a.block_plain = false;
  if (trailing_space) a.block = false;
  if (break_space) a.flow_plain = a.block_plain = a.single = false;
  if (space_break || special) a.flow_plain = a.block_plain = a.single = a.block = false;
  if (line_breaks) a.flow_plain = a.block_plain = false;
  if (flow_ind) a.flow_plain = false;
  if (block_ind) a.block_plain = false;
  return a;
}

constexpr int kBestWidth = 80;

struct YamlWriter {
  std::string out;
  int col = 0;  // characters on the current line

  void put(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
      size_t w;
      decode_rune(s, i, w);
      out.append(s, i, w);
      i += w;
      ++col;
    }
  }
  void put_char(char c) {
    out += c;
    ++col;
  }
  void newline() {
    out += '\n';
    col = 0;
  }
  // Starts an item at `indent`: a fresh line unless we are at that column already.
  void start_line(int indent) {
    if (col > 0) newline();
    out.append(static_cast<size_t>(indent), ' ');
    col = indent;
  }
  void write_indent(int indent) {
    newline();
    out.append(static_cast<size_t>(indent), ' ');
    col = indent;
  }

  // Writes a scalar after "key:" or "- " (a separating space is written first when `sep`).
  void scalar(const std::string& s, Style style, int indent, bool simple_key, bool sep) {
    bool allow_breaks = !simple_key;
    if (sep) put_char(' ');
    std::vector<std::pair<char32_t, std::string_view>> runes;
    for (size_t i = 0; i < s.size();) {
      size_t w;
      char32_t r = decode_rune(s, i, w);
      runes.emplace_back(r, std::string_view(s).substr(i, w));
      i += w;
    }
    auto is_space = [&](size_t k) { return k < runes.size() && runes[k].first == ' '; };
    switch (style) {
      case Style::Plain: {
        bool spaces = false;
        for (size_t k = 0; k < runes.size(); ++k) {
          if (is_space(k)) {
            if (allow_breaks && !spaces && col > kBestWidth && !is_space(k + 1))
              write_indent(indent);
            else
              put(" ");
            spaces = true;
          } else {
            put(runes[k].second);
            spaces = false;
          }
        }
        return;
      }
      case Style::Single: {
        put_char('\'');
        bool spaces = false;
        for (size_t k = 0; k < runes.size(); ++k) {
          if (is_space(k)) {
            if (allow_breaks && !spaces && col > kBestWidth && k != 0 && k + 1 != runes.size() &&
                !is_space(k + 1))
              write_indent(indent);
            else
              put(" ");
            spaces = true;
          } else {
            if (runes[k].first == '\'') put_char('\'');
            put(runes[k].second);
            spaces = false;
          }
        }
        put_char('\'');
        return;
      }
      case Style::Double: {
        put_char('"');
        bool spaces = false;
        static const char hex[] = "0123456789ABCDEF";
        for (size_t k = 0; k < runes.size(); ++k) {
          char32_t r = runes[k].first;
          bool is_break = r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029;
          if (!is_printable(r) || r == 0xFEFF || is_break || r == '"' || r == '\\') {
            std::string e = "\\";
            switch (r) {
              case 0:
                e += '0';
                break;
              case 7:
                e += 'a';
                break;
              case 8:
                e += 'b';
                break;
              case 9:
                e += 't';
                break;
              case 0xA:
                e += 'n';
                break;
              case 0xB:
                e += 'v';
                break;
              case 0xC:
                e += 'f';
                break;
              case 0xD:
                e += 'r';
                break;
              case 0x1B:
                e += 'e';
                break;
              case '"':
                e += '"';
                break;
              case '\\':
                e += '\\';
                break;
              case 0x85:
                e += 'N';
                break;
              case 0xA0:
                e += '_';
                break;
              case 0x2028:
                e += 'L';
                break;
              case 0x2029:
                e += 'P';
                break;
              default: {
                int width = r <= 0xFF ? 2 : r <= 0xFFFF ? 4 : 8;
                e += width == 2 ? 'x' : width == 4 ? 'u' : 'U';
                for (int sh = (width - 1) * 4; sh >= 0; sh -= 4) e += hex[(r >> sh) & 15];
              }
            }
            put(e);
            spaces = false;
          } else if (r == ' ') {
            if (allow_breaks && !spaces && col > kBestWidth && k != 0 && k + 1 != runes.size()) {
              write_indent(indent);
              if (is_space(k + 1)) put_char('\\');
            } else {
              put(" ");
            }
            spaces = true;
          } else {
            put(runes[k].second);
            spaces = false;
          }
        }
        put_char('"');
        return;
      }
      case Style::Literal: {
        put_char('|');
        if (!runes.empty() && (runes[0].first == ' ' || runes[0].first == '\n')) put_char('2');
        size_t n = s.size();
        if (n == 0 || s[n - 1] != '\n')
          put_char('-');
        else if (n == 1 || s[n - 2] == '\n')
          put_char('+');
        newline();
        bool breaks = true;
        for (size_t k = 0; k < runes.size(); ++k) {
          if (runes[k].first == '\n') {
            newline();
            breaks = true;
          } else {
            if (breaks) {
              out.append(static_cast<size_t>(indent), ' ');
              col = indent;
              breaks = false;
            }
            put(runes[k].second);
          }
        }
        return;
      }
    }
  }

  // yaml.v2 stringv + libyaml's style selection (block context).
  void string_scalar(const std::string& s, int indent, bool simple_key, bool sep) {
    Resolved r = resolve(s, nullptr);
    bool can_plain = r == Resolved::Str && !is_base60_float(s);
    Style style = s.find('\n') != std::string::npos ? Style::Literal
                  : can_plain                       ? Style::Plain
                                                    : Style::Double;
    Analysis a = analyze(s);
    if (style == Style::Plain) {
      if (!a.block_plain || (s.empty() && simple_key)) style = Style::Single;
    }
    if (style == Style::Single && !a.single) style = Style::Double;
    if (style == Style::Literal && (!a.block || simple_key)) style = Style::Double;
    scalar(s, style, indent, simple_key, sep);
  }

  // Scalar text for non-string scalars; returns false for containers.
  static bool plain_text(const Value& v, std::string& text) {
    switch (v.kind()) {
      case Kind::Invalid:
      case Kind::Nil:
        text = "null";
        return true;
      case Kind::Bool:
        text = v.as_bool() ? "true" : "false";
        return true;
      case Kind::Int:
        text = std::to_string(v.as_int());
        return true;
      case Kind::Uint:
        text = std::to_string(v.as_uint());
        return true;
      case Kind::Float: {
        double f = v.as_float();
        text = std::isnan(f)   ? ".nan"
               : std::isinf(f) ? (f > 0 ? ".inf" : "-.inf")
                               : format_float(f, 'g');
        return true;
      }
      default:
        return false;
    }
  }

  // A json.Number marshals as the int or float it holds (yaml.v2's jsonNumber case).
  static Value number_value(const Value& v) {
    int64_t i;
    double f;
    std::string err;
    if (parse_int(v.as_string(), 10, i, err)) return Value::integer(i, &types::int64);
    if (parse_float(v.as_string(), f, err)) return Value::floating(f);
    return Value::string(v.as_string());
  }

  static bool is_block_collection(const Value& v) {
    if (v.kind() == Kind::Map) return !v.as_map().empty();
    if (v.kind() == Kind::List) return !v.as_list().empty();
    if (v.kind() == Kind::Struct) return !v.is_nil() && !v.as_fields().empty();
    return false;
  }

  // Writes a value in "inline" position (after "key:" or "- "), whose nested scalars indent to
  // `indent`.
  void inline_value(const Value& in, int indent, bool simple_key) {
    Value v = in.kind() == Kind::String && in.type()->number_text ? number_value(in) : in;
    std::string text;
    if (plain_text(v, text)) {
      put_char(' ');
      put(text);
      return;
    }
    switch (v.kind()) {
      case Kind::String:
        string_scalar(v.as_string(), indent, simple_key, true);
        return;
      case Kind::Map:
      case Kind::List:
      case Kind::Struct:
        if (v.is_nil()) {
          put(v.kind() == Kind::Struct ? " null" : (v.kind() == Kind::Map ? " {}" : " []"));
          return;
        }
        put(v.kind() == Kind::List ? " []" : " {}");
        return;
      default:
        throw FuncError("cannot marshal type: " + v.type()->name);
    }
  }

  void mapping(const Value& v, int indent, bool first_inline);
  void sequence(const Value& v, int indent, bool first_inline);

  // Value after "key:" at mapping indent `indent`.
  void map_value(const Value& val, int indent) {
    if (is_block_collection(val)) {
      if (val.kind() == Kind::List)
        sequence(val, indent, false);  // indentless under a key
      else
        mapping(val, indent + 2, false);
      return;
    }
    inline_value(val, indent + 2, false);
  }

  void entry(const Value& key, const Value& val, int indent, bool inline_first) {
    if (!inline_first) start_line(indent);
    Value k = key.kind() == Kind::String && key.type()->number_text ? number_value(key) : key;
    std::string text;
    if (plain_text(k, text))
      put(text);
    else if (k.kind() == Kind::String)
      string_scalar(k.as_string(), indent + 2, true, false);
    else
      throw FuncError("cannot marshal type: " + k.type()->name);
    put_char(':');
    map_value(val, indent);
  }
};

// yaml.v2's keyList.Less: numbers numerically, strings in "natural" order (digit runs compared
// as numbers, letters before other characters after digits), otherwise by kind.
int reflect_kind_rank(const Value& v) {
  switch (v.kind()) {
    case Kind::Bool:
      return 1;
    case Kind::Int:
      return 2;
    case Kind::Uint:
      return 7;
    case Kind::Float:
      return 14;
    case Kind::String:
      return 24;
    default:
      return 30;
  }
}

bool key_float(const Value& v, double& f) {
  switch (v.kind()) {
    case Kind::Int:
      f = static_cast<double>(v.as_int());
      return true;
    case Kind::Uint:
      f = static_cast<double>(v.as_uint());
      return true;
    case Kind::Float:
      f = v.as_float();
      return true;
    case Kind::Bool:
      f = v.as_bool() ? 1 : 0;
      return true;
    default:
      return false;
  }
}

bool is_letter(char32_t r) {
  return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= 0xC0 && r != 0xD7 && r != 0xF7);
}
bool is_digit(char32_t r) {
  return r >= '0' && r <= '9';
}

bool key_less(const Value& a, const Value& b) {
  double af, bf;
  bool aok = key_float(a, af), bok = key_float(b, bf);
  if (aok && bok) {
    if (af != bf) return af < bf;
    return reflect_kind_rank(a) < reflect_kind_rank(b);
  }
  if (a.kind() != Kind::String || b.kind() != Kind::String)
    return reflect_kind_rank(a) < reflect_kind_rank(b);
  std::u32string ar, br;
  for (auto* p : {&a, &b}) {
    const std::string& s = p->as_string();
    std::u32string& dst = p == &a ? ar : br;
    for (size_t i = 0; i < s.size();) {
      size_t w;
      dst.push_back(decode_rune(s, i, w));
      i += w;
    }
  }
  bool digits = false;
  for (size_t i = 0; i < ar.size() && i < br.size(); ++i) {
    if (ar[i] == br[i]) {
      digits = is_digit(ar[i]);
      continue;
    }
    bool al = is_letter(ar[i]), bl = is_letter(br[i]);
    if (al && bl) return ar[i] < br[i];
    if (al || bl) return digits ? al : bl;
    int64_t an = 0, bn = 0;
    if (ar[i] == '0' || br[i] == '0') {
      for (size_t j = i; j-- > 0 && is_digit(ar[j]);) {
        if (ar[j] != '0') {
          an = 1;
          bn = 1;
          break;
        }
      }
    }
    size_t ai = i, bi = i;
    for (; ai < ar.size() && is_digit(ar[ai]); ++ai) an = an * 10 + (ar[ai] - '0');
    for (; bi < br.size() && is_digit(br[bi]); ++bi) bn = bn * 10 + (br[bi] - '0');
    if (an != bn) return an < bn;
    if (ai != bi) return ai < bi;
    return ar[i] < br[i];
  }
  return ar.size() < br.size();
}

std::vector<std::pair<Value, Value>> yaml_entries(const Value& v) {
  std::vector<std::pair<Value, Value>> entries;
  if (v.kind() == Kind::Struct) {
    const auto& f = v.as_fields();
    for (size_t i = 0; i < f.size() && i < v.type()->fields.size(); ++i) {
      std::string name = v.type()->fields[i];
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      entries.emplace_back(Value::string(name), f[i]);
    }
    return entries;
  }
  entries = v.as_map();
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& x, const auto& y) { return key_less(x.first, y.first); });
  return entries;
}

void YamlWriter::mapping(const Value& v, int indent, bool first_inline) {
  bool first = true;
  for (const auto& [k, val] : yaml_entries(v)) {
    entry(k, val, indent, first && first_inline);
    first = false;
  }
}

void YamlWriter::sequence(const Value& v, int indent, bool first_inline) {
  bool first = true;
  for (const auto& item : v.as_list()) {
    if (!(first && first_inline)) start_line(indent);
    first = false;
    put_char('-');
    if (is_block_collection(item)) {
      put_char(' ');
      if (item.kind() == Kind::List)
        sequence(item, indent + 2, true);
      else
        mapping(item, indent + 2, true);
    } else {
      inline_value(item, indent + 2, false);
    }
  }
}

std::string to_yaml(const Value& in) {
  YamlWriter w;
  Value v = in.kind() == Kind::String && in.type()->number_text ? YamlWriter::number_value(in) : in;
  if (YamlWriter::is_block_collection(v)) {
    if (v.kind() == Kind::List)
      w.sequence(v, 0, true);
    else
      w.mapping(v, 0, true);
  } else {
    w.col = -1;  // Go writes no separating space before a top-level scalar
    w.inline_value(v, 2, false);
    if (!w.out.empty() && w.out[0] == ' ') w.out.erase(0, 1);
  }
  return std::string(trim_space(w.out));
}

// ---- parsing ----

Value from_yaml(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return Value::nil();
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      const std::string& tag = n.Tag();
      if (tag == "!" || tag == "tag:yaml.org,2002:str") return Value::string(s);
      Value out;
      Resolved r = resolve(s, &out);
      if (r == Resolved::Str || r == Resolved::Timestamp || r == Resolved::Merge)
        return Value::string(s);
      return out;
    }
    case YAML::NodeType::Sequence: {
      std::vector<Value> items;
      for (const auto& e : n) items.push_back(from_yaml(e));
      return Value::list(std::move(items), &types::list_any);
    }
    case YAML::NodeType::Map: {
      std::vector<std::pair<Value, Value>> entries;
      for (const auto& e : n) entries.emplace_back(from_yaml(e.first), from_yaml(e.second));
      return Value::map(std::move(entries), &types::map_any_any);
    }
  }
  return Value::nil();
}

}  // namespace

void register_yaml(FunctionTable& t) {
  define(t, "toYAML", {nullptr}, [](Args a) { return Value::string(to_yaml(a[0])); });
  define(t, "parseYAML", {&types::string}, [](Args a) {
    const std::string& s = a[0].as_string();
    if (s.empty()) return Value::map({}, &types::map_any);
    try {
      return from_yaml(YAML::Load(s));
    } catch (const YAML::Exception& e) {
      throw FuncError("yaml: line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
  });
}

}  // namespace templet::helpers
