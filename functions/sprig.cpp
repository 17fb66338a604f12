// The curated sprig v3 subset, registered as consul-template does with the `sprig_` prefix and
// sprig's own argument orders and forgiving error handling (toJson yields "" and fromJson nil on
// bad input; b64dec returns the error text). sprig_keys returns keys sorted, where Go's order is
// random.
#include <algorithm>

#include "functions/sprig_internal.hpp"
#include "sys/number_cast.hpp"

namespace templet::helpers {

namespace sprig {

std::string strval(const Value& v) {
  if (v.kind() == Kind::String) return v.as_string();
  return go_v(v);
}

bool empty(const Value& v) {
  return !truth(v);
}

std::vector<std::string> strslice(const Value& v) {
  std::vector<std::string> out;
  if (v.kind() == Kind::List) {
    for (const auto& e : v.as_list())
      if (e.kind() != Kind::Nil && e.valid()) out.push_back(strval(e));
    return out;
  }
  if (v.kind() == Kind::Nil || !v.valid()) return out;
  out.push_back(strval(v));
  return out;
}

Value string_list(const std::vector<std::string>& items) {
  std::vector<Value> vals;
  for (const auto& s : items) vals.push_back(Value::string(s));
  return Value::list(std::move(vals), &types::list_string);
}

// spf13/cast ToInt64: numbers truncate, strings parse (base 0, "1.0" allowed), bools are 0/1,
// anything else is 0.
int64_t to_int64(const Value& v) {
  switch (v.kind()) {
    case Kind::Int:
      return v.as_int();
    case Kind::Uint:
      return static_cast<int64_t>(v.as_uint());
    case Kind::Float:
      return go_int64_of_float(v.as_float());
    case Kind::Bool:
      return v.as_bool() ? 1 : 0;
    case Kind::String: {
      std::string s = v.as_string();
      bool zero = false;
      for (size_t i = s.size(); i > 0; --i) {
        char c = s[i - 1];
        if (c == '.') {
          if (zero) s = s.substr(0, i - 1);
          break;
        }
        if (c != '0') break;
        zero = true;
      }
      int64_t out;
      std::string err;
      return parse_int(s, 0, out, err) ? out : 0;
    }
    default:
      return 0;
  }
}

// spf13/cast ToFloat64: numbers convert, strings parse as ParseFloat (0 on error), bools are 0/1.
double to_float64(const Value& v) {
  switch (v.kind()) {
    case Kind::Int:
      return static_cast<double>(v.as_int());
    case Kind::Uint:
      return static_cast<double>(v.as_uint());
    case Kind::Float:
      return v.as_float();
    case Kind::Bool:
      return v.as_bool() ? 1 : 0;
    case Kind::String: {
      double out;
      std::string err;
      return parse_float(v.as_string(), out, err) ? out : 0;
    }
    default:
      return 0;
  }
}

std::string kind_name(const Value& v) {
  switch (v.kind()) {
    case Kind::Invalid:
    case Kind::Nil:
      return "invalid";
    case Kind::Bool:
      return "bool";
    case Kind::Int:
    case Kind::Uint:
    case Kind::Float:
    case Kind::Complex: {
      static const char* basic[] = {"int",     "int8",    "int16",     "int32",     "int64",
                                    "uint",    "uint8",   "uint16",    "uint32",    "uint64",
                                    "float32", "float64", "complex64", "complex128"};
      for (const char* b : basic)
        if (v.type()->name == b) return b;
      return v.kind() == Kind::Int ? "int64" : v.kind() == Kind::Uint ? "uint64" : "float64";
    }
    case Kind::String:
      return "string";
    case Kind::List:
      return "slice";
    case Kind::Map:
      return "map";
    case Kind::Struct:
      return v.type()->pointer ? "ptr" : "struct";
    case Kind::Func:
      return "func";
    case Kind::Interface:
      return "interface";
  }
  return "invalid";
}

bool deep_equal(const Value& a, const Value& b) {
  if (!a.valid() || !b.valid()) return a.valid() == b.valid();
  if (a.type() != b.type()) return false;
  switch (a.kind()) {
    case Kind::Nil:
      return true;
    case Kind::Bool:
      return a.as_bool() == b.as_bool();
    case Kind::Int:
      return a.as_int() == b.as_int();
    case Kind::Uint:
      return a.as_uint() == b.as_uint();
    case Kind::Float:
      return a.as_float() == b.as_float();
    case Kind::Complex:
      return a.as_complex() == b.as_complex();
    case Kind::String:
      return a.as_string() == b.as_string();
    case Kind::List: {
      if (a.is_nil() != b.is_nil()) return false;
      const auto &x = a.as_list(), &y = b.as_list();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!deep_equal(x[i], y[i])) return false;
      return true;
    }
    case Kind::Map: {
      if (a.is_nil() != b.is_nil()) return false;
      const auto &x = a.as_map(), &y = b.as_map();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!deep_equal(x[i].first, y[i].first) || !deep_equal(x[i].second, y[i].second))
          return false;
      return true;
    }
    case Kind::Struct: {
      if (a.is_nil() || b.is_nil()) return a.is_nil() == b.is_nil();
      const auto &x = a.as_fields(), &y = b.as_fields();
      for (size_t i = 0; i < x.size() && i < y.size(); ++i)
        if (!deep_equal(x[i], y[i])) return false;
      return true;
    }
    default:
      return a.is_nil() && b.is_nil();
  }
}

}  // namespace sprig

namespace {

using sprig::empty;
using sprig::string_list;
using sprig::strslice;
using sprig::strval;
using sprig::to_int64;

std::string sprig_indent(int64_t n, const std::string& s) {
  if (n < 0) throw FuncError("strings: negative Repeat count");
  std::string pad(static_cast<size_t>(n), ' ');
  return pad + replace_all(s, "\n", "\n" + pad);
}

}  // namespace

void register_sprig(FunctionTable& t) {
  sprig::register_strings(t);
  sprig::register_lists(t);
  sprig::register_math(t);
  sprig::register_text(t);
  sprig::register_url(t);
  sprig::register_semver(t);
  sprig::register_case(t);
  sprig::register_crypto(t);
  const Type* S_ = &types::string;
  define(
      t, "sprig_default", {nullptr, nullptr},
      [](Args a) {
        if (a.size() < 2 || empty(a[1])) return a[0];
        return a[1];
      },
      true);
  define(
      t, "sprig_coalesce", {nullptr},
      [](Args a) {
        for (const auto& v : a)
          if (!empty(v)) return v;
        return Value::nil();
      },
      true);
  define(t, "sprig_ternary", {nullptr, nullptr, &types::boolean},
         [](Args a) { return a[2].as_bool() ? a[0] : a[1]; });
  define(
      t, "sprig_list", {nullptr},
      [](Args a) { return Value::list(std::vector<Value>(a.begin(), a.end())); }, true);
  define(
      t, "sprig_dict", {nullptr},
      [](Args a) {
        std::vector<std::pair<Value, Value>> entries;
        for (size_t i = 0; i < a.size(); i += 2)
          entries.emplace_back(Value::string(strval(a[i])),
                               i + 1 < a.size() ? a[i + 1] : Value::string(""));
        return Value::map(std::move(entries), &types::map_any);
      },
      true);
  define(t, "sprig_get", {&types::map_any, S_}, [](Args a) {
    const Value* v = a[0].map_find(a[1].as_string());
    return v ? *v : Value::string("");
  });
  define(t, "sprig_hasKey", {&types::map_any, S_},
         [](Args a) { return Value::boolean(a[0].map_find(a[1].as_string()) != nullptr); });
  define(
      t, "sprig_keys", {&types::map_any},
      [](Args a) {
        std::vector<std::string> keys;
        for (const auto& m : a)
          for (const auto& [k, v] : m.as_map()) keys.push_back(k.as_string());
        std::stable_sort(keys.begin(), keys.end());
        return string_list(keys);
      },
      true);
  define(
      t, "sprig_quote", {nullptr},
      [](Args a) {
        std::string out;
        for (const auto& v : a) {
          if (v.kind() == Kind::Nil || !v.valid()) continue;
          if (!out.empty()) out += " ";
          out += go_quote(strval(v));
        }
        return Value::string(out);
      },
      true);
  define(
      t, "sprig_squote", {nullptr},
      [](Args a) {
        std::string out;
        bool first = true;
        for (const auto& v : a) {
          if (v.kind() == Kind::Nil || !v.valid()) continue;
          if (!first) out += " ";
          first = false;
          out += "'" + strval(v) + "'";
        }
        return Value::string(out);
      },
      true);
  define(t, "sprig_upper", {S_}, [](Args a) { return Value::string(to_upper(a[0].as_string())); });
  define(t, "sprig_lower", {S_}, [](Args a) { return Value::string(to_lower(a[0].as_string())); });
  define(t, "sprig_trim", {S_},
         [](Args a) { return Value::string(std::string(trim_space(a[0].as_string()))); });
  define(t, "sprig_indent", {&types::int_, S_},
         [](Args a) { return Value::string(sprig_indent(a[0].as_int(), a[1].as_string())); });
  define(t, "sprig_nindent", {&types::int_, S_}, [](Args a) {
    return Value::string("\n" + sprig_indent(a[0].as_int(), a[1].as_string()));
  });
  define(t, "sprig_replace", {S_, S_, S_}, [](Args a) {
    return Value::string(replace_all(a[2].as_string(), a[0].as_string(), a[1].as_string()));
  });
  define(t, "sprig_b64enc", {S_},
         [](Args a) { return Value::string(base64_std_encode(a[0].as_string())); });
  define(t, "sprig_b64dec", {S_}, [](Args a) {
    std::string out;
    size_t at = 0;
    if (!base64_std_decode(a[0].as_string(), out, at))
      return Value::string("illegal base64 data at input byte " + std::to_string(at));
    return Value::string(out);
  });
  define(t, "sprig_toJson", {nullptr}, [](Args a) {
    try {
      return Value::string(to_json(a[0], true, false));
    } catch (const FuncError&) {
      return Value::string("");
    }
  });
  define(t, "sprig_fromJson", {S_}, [](Args a) {
    try {
      return parse_json(a[0].as_string());
    } catch (const FuncError&) {
      return Value::nil();
    }
  });
  define(
      t, "sprig_add", {nullptr},
      [](Args a) {
        uint64_t sum = 0;
        for (const auto& v : a) sum += static_cast<uint64_t>(to_int64(v));
        return Value::integer(static_cast<int64_t>(sum), &types::int64);
      },
      true);
  define(t, "sprig_sub", {nullptr, nullptr}, [](Args a) {
    uint64_t d = static_cast<uint64_t>(to_int64(a[0])) - static_cast<uint64_t>(to_int64(a[1]));
    return Value::integer(static_cast<int64_t>(d), &types::int64);
  });
  define(t, "sprig_sortAlpha", {nullptr}, [](Args a) {
    if (a[0].kind() != Kind::List) return string_list({strval(a[0])});
    auto items = strslice(a[0]);
    std::sort(items.begin(), items.end());
    return string_list(items);
  });
  define(t, "sprig_contains", {S_, S_}, [](Args a) {
    return Value::boolean(a[1].as_string().find(a[0].as_string()) != std::string::npos);
  });
  define(t, "sprig_hasPrefix", {S_, S_},
         [](Args a) { return Value::boolean(a[1].as_string().rfind(a[0].as_string(), 0) == 0); });
  define(t, "sprig_hasSuffix", {S_, S_}, [](Args a) {
    const std::string &s = a[1].as_string(), &x = a[0].as_string();
    return Value::boolean(s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0);
  });
  define(t, "sprig_join", {S_, nullptr}, [](Args a) {
    std::string out;
    bool first = true;
    for (const auto& s : strslice(a[1])) {
      if (!first) out += a[0].as_string();
      first = false;
      out += s;
    }
    return Value::string(out);
  });
  define(t, "sprig_split", {S_, S_}, [](Args a) {
    std::vector<std::pair<Value, Value>> entries;
    auto parts = split(a[1].as_string(), a[0].as_string());
    for (size_t i = 0; i < parts.size(); ++i)
      entries.emplace_back(Value::string("_" + std::to_string(i)), Value::string(parts[i]));
    return Value::map(std::move(entries), &types::map_string);
  });
  define(t, "sprig_splitList", {S_, S_},
         [](Args a) { return string_list(split(a[1].as_string(), a[0].as_string())); });
  define(t, "sprig_trimPrefix", {S_, S_}, [](Args a) {
    const std::string &p = a[0].as_string(), &s = a[1].as_string();
    return Value::string(s.rfind(p, 0) == 0 ? s.substr(p.size()) : s);
  });
  define(t, "sprig_trimSuffix", {S_, S_}, [](Args a) {
    const std::string &x = a[0].as_string(), &s = a[1].as_string();
    bool has = s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
    return Value::string(has ? s.substr(0, s.size() - x.size()) : s);
  });
  define(t, "sprig_repeat", {&types::int_, S_}, [](Args a) {
    if (a[0].as_int() < 0) throw FuncError("strings: negative Repeat count");
    std::string out;
    for (int64_t i = 0; i < a[0].as_int(); ++i) out += a[1].as_string();
    return Value::string(out);
  });
}

}  // namespace templet::helpers
