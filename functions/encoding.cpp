// Encodings: base64 (standard and URL alphabets, Go's decoder and its error offsets), JSON
// output as encoding/json writes it (HTML escaping, sorted keys, Go float text, json.Number
// literals, Go's "unsupported type/value" errors) and JSON input as json.Unmarshal into
// interface{} reads it (float64 numbers, the scanner's exact syntax-error messages).
#include <cmath>
#include <cstdlib>

#include "functions/helpers_internal.hpp"

namespace templet::helpers {

namespace {

// ---- base64 ----

const char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string b64_encode(std::string_view in, const char* alphabet) {
  std::string out;
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint32_t{static_cast<uint8_t>(in[i])} << 16) |
                 (uint32_t{static_cast<uint8_t>(in[i + 1])} << 8) | static_cast<uint8_t>(in[i + 2]);
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  size_t rem = in.size() - i;
  if (rem) {
    uint32_t v = uint32_t{static_cast<uint8_t>(in[i])} << 16;
    if (rem == 2) v |= uint32_t{static_cast<uint8_t>(in[i + 1])} << 8;
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += rem == 2 ? alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Go's base64 Encoding.DecodeString (padded, non-strict): newlines are skipped, and an error
// reports the offset Go reports. Returns false with `err_at` set on corrupt input.
bool b64_decode(std::string_view src, const char* alphabet, std::string& out, size_t& err_at) {
  int8_t map[256];
  for (auto& m : map) m = -1;
  for (int i = 0; i < 64; ++i) map[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  size_t si = 0;
  while (si < src.size()) {
    uint8_t dbuf[4] = {0, 0, 0, 0};
    int dlen = 4;
    bool end = false;
    for (int j = 0; j < 4; ++j) {
      if (si == src.size()) {
        if (j == 0) return true;
        err_at = si - static_cast<size_t>(j);
        return false;  // padding required: any short quantum is corrupt
      }
      uint8_t in = static_cast<uint8_t>(src[si++]);
      if (map[in] >= 0) {
        dbuf[j] = static_cast<uint8_t>(map[in]);
        continue;
      }
      if (in == '\n' || in == '\r') {
        --j;
        continue;
      }
      if (in != '=') {
        err_at = si - 1;
        return false;
      }
      // Padding: only valid as "xx==" or "xxx=" at the end.
      if (j == 0 || j == 1) {
        err_at = si - 1;
        return false;
      }
      if (j == 2) {
        while (si < src.size() && (src[si] == '\n' || src[si] == '\r')) ++si;
        if (si == src.size()) {
          err_at = src.size();
          return false;
        }
        if (src[si] != '=') {
          err_at = si - 1;
          return false;
        }
        ++si;
      }
      while (si < src.size() && (src[si] == '\n' || src[si] == '\r')) ++si;
      if (si < src.size()) {
        err_at = si;
        return false;
      }
      dlen = j;
      end = true;
      break;
    }
    uint32_t v =
        (uint32_t{dbuf[0]} << 18) | (uint32_t{dbuf[1]} << 12) | (uint32_t{dbuf[2]} << 6) | dbuf[3];
    out += static_cast<char>(v >> 16);
    if (dlen >= 3) out += static_cast<char>((v >> 8) & 0xFF);
    if (dlen >= 4) out += static_cast<char>(v & 0xFF);
    if (end) return true;
  }
  return true;
}

Value b64_decode_fn(const std::string& name, const Value& v, const char* alphabet) {
  std::string out;
  size_t at = 0;
  if (!b64_decode(v.as_string(), alphabet, out, at))
    throw FuncError(name + ": illegal base64 data at input byte " + std::to_string(at));
  return Value::string(std::move(out));
}

// ---- JSON output ----

const char kHex[] = "0123456789abcdef";

void json_string(std::string& out, std::string_view s, bool escape_html) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else if (c == '\b') {
        out += "\\b";
      } else if (c == '\f') {
        out += "\\f";
      } else if (c < 0x20 || (escape_html && (c == '<' || c == '>' || c == '&'))) {
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
      } else {
        out += static_cast<char>(c);
      }
      continue;
    }
    size_t w;
    char32_t r = decode_rune(s, i, w);
    if (r == 0xFFFD && w == 1) {
      out += "\\ufffd";
    } else if (r == 0x2028 || r == 0x2029) {
      out += r == 0x2028 ? "\\u2028" : "\\u2029";
    } else {
      out.append(s, i, w);
    }
    i += w;
  }
  out += '"';
}

bool valid_json_number(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size()) return false;
  if (s[i] == '0') {
    ++i;
  } else if (s[i] >= '1' && s[i] <= '9') {
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  } else {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  return i == s.size();
}

// encoding/json's isEmptyValue, for omitempty.
bool is_empty_value(const Value& v) {
  switch (v.kind()) {
    case Kind::Invalid:
    case Kind::Nil:
      return true;
    case Kind::Bool:
      return !v.as_bool();
    case Kind::Int:
      return v.as_int() == 0;
    case Kind::Uint:
      return v.as_uint() == 0;
    case Kind::Float:
      return v.as_float() == 0;
    case Kind::String:
      return v.as_string().empty();
    case Kind::List:
      return v.is_nil() || v.as_list().empty();
    case Kind::Map:
      return v.is_nil() || v.as_map().empty();
    case Kind::Struct:
      return v.type()->pointer && v.is_nil();
    default:
      return false;
  }
}

struct JsonWriter {
  bool escape_html;
  bool pretty;
  std::string out;

  void newline(int depth) {
    if (!pretty) return;
    out += '\n';
    out.append(static_cast<size_t>(depth) * 2, ' ');
  }

  void write(const Value& v, int depth) {
    switch (v.kind()) {
      case Kind::Invalid:
      case Kind::Nil:
        out += "null";
        return;
      case Kind::Bool:
        out += v.as_bool() ? "true" : "false";
        return;
      case Kind::Int:
        out += std::to_string(v.as_int());
        return;
      case Kind::Uint:
        out += std::to_string(v.as_uint());
        return;
      case Kind::Float: {
        double f = v.as_float();
        if (std::isnan(f) || std::isinf(f))
          throw FuncError("json: unsupported value: " + format_float(f, 'g'));
        out += json_float(f);
        return;
      }
      case Kind::String:
        if (v.type()->marshal_json) {
          write(v.type()->marshal_json(v), depth);
        } else if (v.type()->number_text) {
          std::string n = v.as_string().empty() ? "0" : v.as_string();
          if (!valid_json_number(n)) throw FuncError("json: invalid number literal " + go_quote(n));
          out += n;
        } else {
          json_string(out, v.as_string(), escape_html);
        }
        return;
      case Kind::List: {
        if (v.is_nil()) {
          out += "null";
          return;
        }
        const auto& items = v.as_list();
        if (items.empty()) {
          out += "[]";
          return;
        }
        out += '[';
        for (size_t i = 0; i < items.size(); ++i) {
          if (i) out += ',';
          newline(depth + 1);
          write(items[i], depth + 1);
        }
        newline(depth);
        out += ']';
        return;
      }
      case Kind::Map: {
        const Type* kt = v.type()->key;
        Kind kk = kt ? kt->kind : Kind::String;
        if (kk != Kind::String && kk != Kind::Int && kk != Kind::Uint)
          throw FuncError("json: unsupported type: " + v.type()->name);
        if (v.is_nil()) {
          out += "null";
          return;
        }
        std::vector<std::pair<std::string, const Value*>> entries;
        for (const auto& [k, e] : v.as_map()) {
          std::string ks = k.kind() == Kind::String ? k.as_string()
                           : k.kind() == Kind::Int  ? std::to_string(k.as_int())
                                                    : std::to_string(k.as_uint());
          entries.emplace_back(std::move(ks), &e);
        }
        std::sort(entries.begin(), entries.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
        write_object(entries, depth);
        return;
      }
      case Kind::Struct: {
        if (v.is_nil()) {
          out += "null";
          return;
        }
        const Type* t = v.type();
        if (t->marshal_json) {
          write(t->marshal_json(v), depth);
          return;
        }
        std::vector<std::pair<std::string, const Value*>> entries;
        const auto& fields = v.as_fields();
        for (size_t i = 0; i < fields.size() && i < t->fields.size(); ++i) {
          char opt = i < t->json_options.size() ? t->json_options[i] : ' ';
          if (opt == '-' || (opt == 'o' && is_empty_value(fields[i]))) continue;
          entries.emplace_back(t->fields[i], &fields[i]);
        }
        write_object(entries, depth);
        return;
      }
      default:
        throw FuncError("json: unsupported type: " + v.type()->name);
    }
  }

  void write_object(const std::vector<std::pair<std::string, const Value*>>& entries, int depth) {
    if (entries.empty()) {
      out += "{}";
      return;
    }
    out += '{';
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i) out += ',';
      newline(depth + 1);
      json_string(out, entries[i].first, escape_html);
      out += pretty ? ": " : ":";
      write(*entries[i].second, depth + 1);
    }
    newline(depth);
    out += '}';
  }
};

// ---- JSON input ----

// Go's quoteChar for scanner errors.
std::string quote_char(unsigned char c) {
  if (c == '\'') return "'\\''";
  if (c == '"') return "'\"'";
  std::string r;
  append_utf8(r, c);
  std::string q = go_quote(r);
  return "'" + q.substr(1, q.size() - 2) + "'";
}

// json.Unmarshal into interface{}. Not nlohmann, which every other JSON reader in templet uses
// (API bodies, --data documents, state files): parseJSON's results and errors are visible in
// rendered output, and json.Unmarshal accepts what nlohmann rejects (bytes that are not UTF-8
// and lone surrogate escapes inside strings both become U+FFFD) and reports the scanner's own
// messages ("invalid character 'x' after object key"). The corpus and helpers tests pin both.
struct JsonParser {
  std::string_view s;
  size_t i = 0;
  std::string range_error;  // first "cannot unmarshal number" error, reported after parsing

  [[noreturn]] void fail(const std::string& context) {
    if (i >= s.size()) throw FuncError("unexpected end of JSON input");
    throw FuncError("invalid character " + quote_char(static_cast<unsigned char>(s[i])) + " " +
                    context);
  }
  // At end of input Go's scanner feeds a space: states that reject a space report it.
  [[noreturn]] void fail_eof_space(const std::string& context) {
    if (i >= s.size()) throw FuncError("invalid character ' ' " + context);
    fail(context);
  }

  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  }

  Value value() {
    ws();
    if (i >= s.size()) fail("");
    char c = s[i];
    if (c == '{') return object();
    if (c == '[') return array();
    if (c == '"') return Value::string(string_lit());
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    if (c == 't') return literal("true"), Value::boolean(true);
    if (c == 'f') return literal("false"), Value::boolean(false);
    if (c == 'n') return literal("null"), Value::nil();
    fail("looking for beginning of value");
  }

  void literal(std::string_view lit) {
    for (size_t k = 0; k < lit.size(); ++k, ++i) {
      if (i >= s.size() || s[i] != lit[k])
        fail_eof_space("in literal " + std::string(lit) + " (expecting " +
                       quote_char(static_cast<unsigned char>(lit[k])) + ")");
    }
  }

  static bool digit(char c) { return c >= '0' && c <= '9'; }

  Value number() {
    size_t start = i;
    if (s[i] == '-') {
      ++i;
      if (i >= s.size() || !digit(s[i])) fail_eof_space("in numeric literal");
    }
    if (s[i] == '0') {
      ++i;
    } else {
      while (i < s.size() && digit(s[i])) ++i;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      if (i >= s.size() || !digit(s[i])) fail_eof_space("after decimal point in numeric literal");
      while (i < s.size() && digit(s[i])) ++i;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
      if (i >= s.size() || !digit(s[i])) fail_eof_space("in exponent of numeric literal");
      while (i < s.size() && digit(s[i])) ++i;
    }
    std::string text(s.substr(start, i - start));
    double d = std::strtod(text.c_str(), nullptr);
    if (std::isinf(d) && range_error.empty())
      range_error = "json: cannot unmarshal number " + text + " into Go value of type float64";
    return Value::floating(d);
  }

  int hex4(size_t at) {
    int v = 0;
    for (size_t k = 0; k < 4; ++k) {
      if (at + k >= s.size()) return -1;
      char c = s[at + k];
      int d = (c >= '0' && c <= '9')   ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  }

  std::string string_lit() {
    ++i;  // opening quote
    std::string out;
    while (true) {
      if (i >= s.size()) fail("");
      unsigned char c = static_cast<unsigned char>(s[i]);
      if (c == '"') {
        ++i;
        return out;
      }
      if (c < 0x20) fail("in string literal");
      if (c == '\\') {
        ++i;
        if (i >= s.size()) fail("");
        char e = s[i];
        switch (e) {
          case '"':
          case '\\':
          case '/':
            out += e;
            ++i;
            continue;
          case 'b':
            out += '\b';
            ++i;
            continue;
          case 'f':
            out += '\f';
            ++i;
            continue;
          case 'n':
            out += '\n';
            ++i;
            continue;
          case 'r':
            out += '\r';
            ++i;
            continue;
          case 't':
            out += '\t';
            ++i;
            continue;
          case 'u': {
            ++i;
            for (size_t k = 0; k < 4; ++k) {
              if (i + k >= s.size()) {
                i += k;
                fail("");
              }
              char h = s[i + k];
              if (!std::isxdigit(static_cast<unsigned char>(h))) {
                i += k;
                fail("in \\u hexadecimal character escape");
              }
            }
            int r = hex4(i);
            i += 4;
            char32_t rune = static_cast<char32_t>(r);
            if (r >= 0xD800 && r < 0xDC00) {
              // A high surrogate must be followed by an escaped low surrogate.
              if (i + 6 <= s.size() && s[i] == '\\' && s[i + 1] == 'u') {
                int lo = hex4(i + 2);
                if (lo >= 0xDC00 && lo < 0xE000) {
                  rune = 0x10000 + ((static_cast<char32_t>(r) - 0xD800) << 10) +
                         (static_cast<char32_t>(lo) - 0xDC00);
                  i += 6;
                } else {
                  rune = 0xFFFD;
                }
              } else {
                rune = 0xFFFD;
              }
            } else if (r >= 0xDC00 && r < 0xE000) {
              rune = 0xFFFD;
            }
            append_utf8(out, rune);
            continue;
          }
          default:
            fail("in string escape code");
        }
      }
      if (c < 0x80) {
        out += static_cast<char>(c);
        ++i;
        continue;
      }
      size_t w;
      char32_t r = decode_rune(s, i, w);
      if (r == 0xFFFD && w == 1)
        append_utf8(out, 0xFFFD);
      else
        out.append(s, i, w);
      i += w;
    }
  }

  Value object() {
    ++i;
    std::vector<std::pair<Value, Value>> entries;
    ws();
    if (i < s.size() && s[i] == '}') {
      ++i;
      return Value::map({}, &types::map_any);
    }
    while (true) {
      ws();
      if (i >= s.size() || s[i] != '"') fail("looking for beginning of object key string");
      std::string key = string_lit();
      ws();
      if (i >= s.size() || s[i] != ':') fail("after object key");
      ++i;
      Value v = value();
      entries.emplace_back(Value::string(std::move(key)), std::move(v));
      ws();
      if (i < s.size() && s[i] == ',') {
        ++i;
        continue;
      }
      if (i < s.size() && s[i] == '}') {
        ++i;
        return Value::map(std::move(entries), &types::map_any);
      }
      fail("after object key:value pair");
    }
  }

  Value array() {
    ++i;
    std::vector<Value> items;
    ws();
    if (i < s.size() && s[i] == ']') {
      ++i;
      return Value::list({}, &types::list_any);
    }
    while (true) {
      items.push_back(value());
      ws();
      if (i < s.size() && s[i] == ',') {
        ++i;
        continue;
      }
      if (i < s.size() && s[i] == ']') {
        ++i;
        return Value::list(std::move(items), &types::list_any);
      }
      fail("after array element");
    }
  }
};

}  // namespace

std::string to_json(const Value& v, bool escape_html, bool pretty) {
  JsonWriter w{escape_html, pretty, {}};
  w.write(v, 0);
  return w.out;
}

Value parse_json(std::string_view s) {
  JsonParser p{s, 0, {}};
  Value v = p.value();
  p.ws();
  if (p.i < s.size()) p.fail("after top-level value");
  if (!p.range_error.empty()) throw FuncError(p.range_error);
  return v;
}

void register_encoding(FunctionTable& t) {
  const Type* S_ = &types::string;
  define(t, "base64Encode", {S_},
         [](Args a) { return Value::string(b64_encode(a[0].as_string(), kStd)); });
  define(t, "base64Decode", {S_}, [](Args a) { return b64_decode_fn("base64Decode", a[0], kStd); });
  define(t, "base64URLEncode", {S_},
         [](Args a) { return Value::string(b64_encode(a[0].as_string(), kUrl)); });
  define(t, "base64URLDecode", {S_},
         [](Args a) { return b64_decode_fn("base64URLDecode", a[0], kUrl); });

  struct J {
    const char* name;
    bool escape, pretty;
  };
  for (auto j : {J{"toJSON", true, false}, J{"toJSONPretty", true, true},
                 J{"toUnescapedJSON", false, false}, J{"toUnescapedJSONPretty", false, true}}) {
    std::string name = j.name;
    define(t, name, {nullptr}, [name, j](Args a) {
      try {
        return Value::string(to_json(a[0], j.escape, j.pretty));
      } catch (const FuncError& e) {
        throw FuncError(name + ": " + e.what());
      }
    });
  }
  define(t, "parseJSON", {S_}, [](Args a) {
    if (a[0].as_string().empty()) return Value::map({}, &types::map_any);
    return parse_json(a[0].as_string());
  });
}

// Exposed for sprig's b64enc/b64dec.
std::string base64_std_encode(std::string_view s) {
  return b64_encode(s, kStd);
}
bool base64_std_decode(std::string_view s, std::string& out, size_t& err_at) {
  return b64_decode(s, kStd, out, err_at);
}

}  // namespace templet::helpers
