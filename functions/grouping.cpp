// consul-template's grouping helpers over Consul results: byKey (KV pairs by their top-level
// folder), byTag, byPort and byMeta (services by tag, port or service metadata).
#include <algorithm>
#include <map>

#include "functions/data_types.hpp"
#include "functions/helpers_internal.hpp"

namespace templet::helpers {

namespace {

Type make_type(Kind kind, std::string name, const Type* elem, const Type* key) {
  Type t;
  t.kind = kind;
  t.name = std::move(name);
  t.elem = elem;
  t.key = key;
  return t;
}

const Type* key_pair_map() {
  static const Type t =
      make_type(Kind::Map, "map[string]*dependency.KeyPair", dtypes::key_pair(), &types::string);
  return &t;
}
const Type* key_pair_map_map() {
  static const Type t = make_type(Kind::Map, "map[string]map[string]*dependency.KeyPair",
                                  key_pair_map(), &types::string);
  return &t;
}
const Type* service_groups(const Type* list, const Type* key) {
  // One map type per (list type, key type), created on first use.
  static std::map<std::pair<const Type*, const Type*>, std::unique_ptr<Type>> cache;
  auto& slot = cache[{list, key}];
  if (!slot)
    slot = std::make_unique<Type>(
        make_type(Kind::Map, "map[" + key->name + "]" + list->name, list, key));
  return slot.get();
}

const Value& field(const Value& s, const char* name) {
  static const Value none;
  int i = s.type()->field_index(name);
  return i < 0 ? none : s.as_fields()[i];
}

// A list of structs that have `field_name`, as byTag/byPort/byMeta accept.
void check_services(const Value& v, const char* fn, const char* field_name) {
  bool ok = v.kind() == Kind::List && v.type()->elem && v.type()->elem->kind == Kind::Struct &&
            v.type()->elem->field_index(field_name) >= 0;
  if (!ok) throw FuncError(std::string(fn) + ": wrong argument type " + go_type(v));
}

Value group(const std::map<Value, std::vector<Value>, bool (*)(const Value&, const Value&)>& m,
            const Type* list, const Type* key) {
  std::vector<std::pair<Value, Value>> entries;
  for (const auto& [k, items] : m) entries.emplace_back(k, Value::list(items, list));
  return Value::map(std::move(entries), service_groups(list, key));
}

bool key_less(const Value& a, const Value& b) {
  return compare_keys(a, b) < 0;
}
using Groups = std::map<Value, std::vector<Value>, bool (*)(const Value&, const Value&)>;

std::string sanitize(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
  return out;
}

}  // namespace

void register_grouping(FunctionTable& t) {
  define(t, "byKey", {dtypes::key_pair_list()}, [](Args a) {
    std::map<std::string, std::vector<std::pair<Value, Value>>> tops;
    int key_field = dtypes::key_pair()->field_index("Key");
    for (const auto& pair : a[0].as_list()) {
      if (pair.is_nil()) continue;
      const std::string& key = pair.as_fields()[key_field].as_string();
      auto slash = key.find('/');
      std::string top = key.substr(0, slash);
      std::string rest = slash == std::string::npos ? "" : key.substr(slash + 1);
      if (rest.empty()) continue;  // the folder itself
      std::vector<Value> fields = pair.as_fields();
      fields[key_field] = Value::string(rest);
      tops[top].emplace_back(Value::string(rest),
                             Value::structure(dtypes::key_pair(), std::move(fields)));
    }
    std::vector<std::pair<Value, Value>> entries;
    for (auto& [top, pairs] : tops)
      entries.emplace_back(Value::string(top), Value::map(std::move(pairs), key_pair_map()));
    return Value::map(std::move(entries), key_pair_map_map());
  });

  define(t, "byTag", {nullptr}, [](Args a) {
    const Value& v = a[0];
    if (!v.valid() || v.is_nil())
      return Value::map({}, service_groups(dtypes::health_service_list(), &types::string));
    check_services(v, "byTag", "Tags");
    Groups groups(key_less);
    for (const auto& s : v.as_list()) {
      if (s.is_nil()) continue;
      std::vector<std::string> seen;
      for (const auto& tag : field(s, "Tags").as_list()) {
        if (std::find(seen.begin(), seen.end(), tag.as_string()) != seen.end()) continue;
        seen.push_back(tag.as_string());
        groups[tag].push_back(s);
      }
    }
    return group(groups, v.type(), &types::string);
  });

  define(t, "byPort", {nullptr}, [](Args a) {
    const Value& v = a[0];
    if (!v.valid() || v.is_nil())
      return Value::map({}, service_groups(dtypes::health_service_list(), &types::int_));
    check_services(v, "byPort", "Port");
    Groups groups(key_less);
    for (const auto& s : v.as_list()) {
      if (s.is_nil()) continue;
      const Value& port = field(s, "Port");
      int64_t p = port.kind() == Kind::Int ? port.as_int() : static_cast<int64_t>(port.as_uint());
      groups[Value::integer(p)].push_back(s);
    }
    return group(groups, v.type(), &types::int_);
  });

  define(t, "byMeta", {&types::string, nullptr}, [](Args a) {
    const Value& v = a[1];
    if (!v.valid() || v.is_nil())
      return Value::map({}, service_groups(dtypes::health_service_list(), &types::string));
    check_services(v, "byMeta", "ServiceMeta");
    struct MetaKey {
      std::string name;
      bool as_int;
    };
    std::vector<MetaKey> keys;
    for (const auto& raw : split(a[0].as_string(), ",")) {
      std::string k(trim_space(raw));
      bool as_int = false;
      if (auto bar = k.find('|'); bar != std::string::npos) {
        as_int = k.substr(bar + 1) == "int";
        k = k.substr(0, bar);
      }
      keys.push_back({k, as_int});
    }
    Groups groups(key_less);
    for (const auto& s : v.as_list()) {
      if (s.is_nil()) continue;
      const Value& meta = field(s, "ServiceMeta");
      std::vector<std::string> parts;
      for (const auto& k : keys) {
        const Value* found =
            meta.kind() == Kind::Map ? meta.map_find(std::string_view(k.name)) : nullptr;
        std::string value = found ? found->as_string() : "";
        if (k.as_int) {
          int64_t n = 0;
          std::string err;
          if (!value.empty() && !parse_int(value, 10, n, err))
            throw FuncError("byMeta: cannot parse " + value + " as number: " + err);
          char buf[32];
          std::snprintf(buf, sizeof buf, "%05lld", static_cast<long long>(n));
          parts.push_back(buf);
        } else {
          parts.push_back(found ? sanitize(value) : "_no_" + k.name + "_");
        }
      }
      std::string key;
      for (size_t i = 0; i < parts.size(); ++i) key += (i ? "_" : "") + parts[i];
      groups[Value::string(key)].push_back(s);
    }
    return group(groups, v.type(), &types::string);
  });
}

}  // namespace templet::helpers
