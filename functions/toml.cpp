// toTOML: BurntSushi/toml's Encoder output for template values. Within each table, plain
// key/values come first and sub-tables ([a], [[a]]) after, each group in sorted key order;
// nested tables are indented two spaces per level; floats always carry a decimal point.
#include <algorithm>
#include <cmath>

#include "functions/helpers_internal.hpp"

namespace templet::helpers {

namespace {

enum class TomlType { None, Hash, ArrayHash, Other };

TomlType toml_type(const Value& v);

bool is_table_array(const Value& v) {
  if (v.kind() != Kind::List || v.is_nil() || v.as_list().empty()) return false;
  bool ret = true;
  for (const auto& e : v.as_list()) {
    TomlType t = toml_type(e);
    if (t == TomlType::None) throw FuncError("toml: cannot encode array with nil element");
    if (t != TomlType::Hash) ret = false;
  }
  return ret;
}

TomlType toml_type(const Value& v) {
  switch (v.kind()) {
    case Kind::Invalid:
    case Kind::Nil:
      return TomlType::None;
    case Kind::Map:
      return v.is_nil() ? TomlType::None : TomlType::Hash;
    case Kind::Struct:
      return v.is_nil() ? TomlType::None : TomlType::Hash;
    case Kind::List:
      if (v.is_nil()) return TomlType::None;
      return is_table_array(v) ? TomlType::ArrayHash : TomlType::Other;
    default:
      return TomlType::Other;
  }
}

std::string toml_escape(std::string_view s) {
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  return out;
}

bool is_bare_key(std::string_view k) {
  if (k.empty()) return false;
  for (char c : k)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  return true;
}

std::string maybe_quoted(const std::string& k) {
  return is_bare_key(k) ? k : "\"" + toml_escape(k) + "\"";
}

using Key = std::vector<std::string>;

std::string key_string(const Key& k) {
  std::string out;
  for (size_t i = 0; i < k.size(); ++i) {
    if (i) out += '.';
    out += maybe_quoted(k[i]);
  }
  return out;
}

struct TomlWriter {
  std::string out;
  bool has_written = false;

  void wf(std::string_view s) {
    out += s;
    has_written = true;
  }
  void newline() {
    if (has_written) wf("\n");
  }
  static std::string indent(const Key& k) {
    std::string s;
    for (size_t i = 1; i < k.size(); ++i) s += "  ";
    return s;
  }

  void element(const Value& v) {
    switch (v.kind()) {
      case Kind::Bool:
        wf(v.as_bool() ? "true" : "false");
        return;
      case Kind::Int:
        wf(std::to_string(v.as_int()));
        return;
      case Kind::Uint:
        wf(std::to_string(v.as_uint()));
        return;
      case Kind::Float: {
        double f = v.as_float();
        if (std::isnan(f) || std::isinf(f)) {
          if (std::signbit(f)) wf("-");
          wf(std::isnan(f) ? "nan" : "inf");
          return;
        }
        std::string s = format_float(f, 'f');
        if (s.find('.') == std::string::npos) s += ".0";
        wf(s);
        return;
      }
      case Kind::String: {
        if (v.type()->number_text) {
          int64_t i;
          double f;
          std::string err;
          if (v.as_string().empty()) return wf("0");
          if (parse_int(v.as_string(), 10, i, err)) return element(Value::integer(i));
          if (parse_float(v.as_string(), f, err)) return element(Value::floating(f));
          throw FuncError("unable to convert " + go_quote(v.as_string()) + " to int64 or float64");
        }
        wf("\"" + toml_escape(v.as_string()) + "\"");
        return;
      }
      case Kind::List: {
        wf("[");
        const auto& items = v.as_list();
        for (size_t i = 0; i < items.size(); ++i) {
          if (toml_type(items[i]) == TomlType::None)
            throw FuncError("toml: cannot encode array with nil element");
          element(items[i]);
          if (i + 1 != items.size()) wf(", ");
        }
        wf("]");
        return;
      }
      case Kind::Map:
      case Kind::Struct:
        map_or_struct({}, v, true);
        return;
      default:
        throw FuncError("unexpected type: " + go_type(v));
    }
  }

  void key_value(const Key& key, const Value& v, bool inline_) {
    if (key.empty()) {
      element(v);
      return;
    }
    wf(indent(key) + maybe_quoted(key.back()) + " = ");
    element(v);
    if (!inline_) newline();
  }

  void encode(const Key& key, const Value& v) {
    switch (v.kind()) {
      case Kind::Invalid:
      case Kind::Nil:
        return;
      case Kind::Map:
        if (v.is_nil()) return;
        table(key, v);
        return;
      case Kind::Struct:
        if (v.is_nil()) return;
        table(key, v);
        return;
      case Kind::List:
        if (toml_type(v) == TomlType::ArrayHash)
          array_of_tables(key, v);
        else
          key_value(key, v, false);
        return;
      case Kind::Bool:
      case Kind::Int:
      case Kind::Uint:
      case Kind::Float:
      case Kind::String:
        key_value(key, v, false);
        return;
      default:
        throw FuncError("toml: unsupported type for key '" + key_string(key) + "': " + go_type(v));
    }
  }

  void table(const Key& key, const Value& v) {
    if (key.size() == 1) newline();
    if (!key.empty()) {
      wf(indent(key) + "[" + key_string(key) + "]");
      newline();
    }
    map_or_struct(key, v, false);
  }

  void array_of_tables(const Key& key, const Value& v) {
    if (key.empty()) throw FuncError("toml: top-level values must be Go maps or structs");
    for (const auto& e : v.as_list()) {
      if (toml_type(e) == TomlType::None) continue;
      newline();
      wf(indent(key) + "[[" + key_string(key) + "]]");
      newline();
      map_or_struct(key, e, false);
    }
  }

  void map_or_struct(const Key& key, const Value& v, bool inline_) {
    std::vector<std::pair<std::string, Value>> entries;
    if (v.kind() == Kind::Struct) {
      const auto& f = v.as_fields();
      for (size_t i = 0; i < f.size() && i < v.type()->fields.size(); ++i)
        entries.emplace_back(v.type()->fields[i], f[i]);
    } else {
      const Type* kt = v.type()->key;
      if (!kt || kt->kind != Kind::String)
        throw FuncError("toml: cannot encode a map with non-string key type");
      for (const auto& [k, e] : v.as_map()) entries.emplace_back(k.as_string(), e);
    }
    std::vector<std::pair<std::string, Value>> direct, sub;
    for (auto& e : entries) {
      TomlType t = toml_type(e.second);
      (t == TomlType::Hash || t == TomlType::ArrayHash ? sub : direct).push_back(e);
    }
    auto by_key = [](const auto& a, const auto& b) { return a.first < b.first; };
    if (v.kind() == Kind::Map) {
      std::stable_sort(direct.begin(), direct.end(), by_key);
      std::stable_sort(sub.begin(), sub.end(), by_key);
    }
    auto write = [&](const std::vector<std::pair<std::string, Value>>& keys, bool trail) {
      for (size_t i = 0; i < keys.size(); ++i) {
        const Value& val = keys[i].second;
        if (toml_type(val) == TomlType::None) continue;
        if (inline_) {
          key_value({keys[i].first}, val, true);
          if (trail || i + 1 != keys.size()) wf(", ");
        } else {
          Key k = key;
          k.push_back(keys[i].first);
          encode(k, val);
        }
      }
    };
    if (inline_) wf("{");
    write(direct, !sub.empty());
    write(sub, false);
    if (inline_) wf("}");
  }
};

}  // namespace

void register_toml(FunctionTable& t) {
  define(t, "toTOML", {nullptr}, [](Args a) {
    TomlWriter w;
    try {
      w.encode({}, a[0]);
    } catch (const FuncError& e) {
      throw FuncError(std::string("toTOML: ") + e.what());
    }
    return Value::string(std::string(trim_space(w.out)));
  });
}

}  // namespace templet::helpers
