#include "renderer/value.hpp"

#include <algorithm>
#include <cmath>

namespace templet {

namespace {
Type make(Kind k, std::string name, const Type* elem = nullptr, const Type* key = nullptr) {
  Type t;
  t.kind = k;
  t.name = std::move(name);
  t.elem = elem;
  t.key = key;
  return t;
}
Type make_number() {
  Type t = make(Kind::String, "json.Number");
  t.number_text = true;
  return t;
}
}  // namespace

namespace types {
const Type nil = make(Kind::Nil, "<nil>");
const Type any = make(Kind::Interface, "interface {}");
const Type boolean = make(Kind::Bool, "bool");
const Type int_ = make(Kind::Int, "int");
const Type int64 = make(Kind::Int, "int64");
const Type int32 = make(Kind::Int, "int32");
const Type uint = make(Kind::Uint, "uint");
const Type uint8 = make(Kind::Uint, "uint8");
const Type uint64 = make(Kind::Uint, "uint64");
const Type float64 = make(Kind::Float, "float64");
const Type complex128 = make(Kind::Complex, "complex128");
const Type string = make(Kind::String, "string");
const Type json_number = make_number();
const Type list_any = make(Kind::List, "[]interface {}", &any);
const Type list_string = make(Kind::List, "[]string", &string);
const Type list_int = make(Kind::List, "[]int", &int_);
const Type map_any = make(Kind::Map, "map[string]interface {}", &any, &string);
const Type map_string = make(Kind::Map, "map[string]string", &string, &string);
const Type map_any_any = make(Kind::Map, "map[interface {}]interface {}", &any, &any);
const Type error = make(Kind::Interface, "error");
}  // namespace types

int Type::field_index(std::string_view f) const {
  for (size_t i = 0; i < fields.size(); ++i)
    if (fields[i] == f) return static_cast<int>(i);
  return -1;
}

const Method* Type::method(std::string_view m) const {
  for (const auto& x : methods)
    if (x.name == m) return &x;
  return nullptr;
}

void Value::destroy() {
  switch (kind()) {
    case Kind::String:
      delete static_cast<StringData*>(u_.p);
      break;
    case Kind::List:
      delete static_cast<ListData*>(u_.p);
      break;
    case Kind::Map:
      delete static_cast<MapData*>(u_.p);
      break;
    case Kind::Struct:
      delete static_cast<StructData*>(u_.p);
      break;
    case Kind::Func:
      delete static_cast<FuncData*>(u_.p);
      break;
    case Kind::Complex:
      delete static_cast<ComplexData*>(u_.p);
      break;
    default:
      break;
  }
}

Value Value::complex(std::complex<double> z) {
  U u;
  u.p = new ComplexData(z);
  return Value(&types::complex128, u);
}

Value Value::string(std::string s, const Type* t) {
  U u;
  u.p = new StringData(std::move(s));
  return Value(t, u);
}

Value Value::tainted_string(std::string s) {
  U u;
  u.p = new StringData(std::move(s));
  u.p->tainted = true;
  return Value(&types::string, u);
}

Value Value::list(std::vector<Value> items, const Type* t) {
  auto* d = new ListData;
  items.shrink_to_fit();
  d->items = std::move(items);
  U u;
  u.p = d;
  return Value(t, u);
}

Value Value::map(std::vector<std::pair<Value, Value>> entries, const Type* t) {
  bool all_strings = std::all_of(entries.begin(), entries.end(),
                                 [](const auto& e) { return e.first.kind() == Kind::String; });
  if (all_strings) {
    auto less = [](const auto& a, const auto& b) {
      return a.first.as_string() < b.first.as_string();
    };
    if (!std::is_sorted(entries.begin(), entries.end(), less))
      std::stable_sort(entries.begin(), entries.end(), less);
  } else {
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      return compare_keys(a.first, b.first) < 0;
    });
  }
  // Keep the last of equal keys, as a Go map literal built in order would.
  std::vector<std::pair<Value, Value>> unique;
  unique.reserve(entries.size());
  for (auto& e : entries) {
    if (!unique.empty() && compare_keys(unique.back().first, e.first) == 0)
      unique.back() = std::move(e);
    else
      unique.push_back(std::move(e));
  }
  auto* d = new MapData;
  d->entries = std::move(unique);
  U u;
  u.p = d;
  return Value(t, u);
}

Value Value::structure(const Type* t, std::vector<Value> fields) {
  auto* d = new StructData;
  d->fields = std::move(fields);
  U u;
  u.p = d;
  return Value(t, u);
}

Value Value::func(std::string name, std::vector<const Type*> params, bool variadic,
                  NativeFunc call) {
  static const Type func_type = [] {
    Type t;
    t.kind = Kind::Func;
    t.name = "func";
    return t;
  }();
  auto* d = new FuncData;
  d->name = std::move(name);
  d->params = std::move(params);
  d->variadic = variadic;
  d->call = std::move(call);
  U u;
  u.p = d;
  return Value(&func_type, u);
}

Value Value::typed_nil(const Type* t) {
  return Value(t, U{});
}

bool Value::is_nil() const {
  switch (kind()) {
    case Kind::Nil:
      return true;
    case Kind::List:
    case Kind::Map:
    case Kind::Func:
      return u_.p == nullptr;
    case Kind::Struct:
      return type_->pointer && u_.p == nullptr;
    default:
      return false;
  }
}

namespace {
const std::string kEmptyString;
const std::vector<Value> kEmptyList;
const std::vector<std::pair<Value, Value>> kEmptyMap;
}  // namespace

const std::string& Value::as_string() const {
  return u_.p ? static_cast<const StringData*>(u_.p)->text : kEmptyString;
}
const std::vector<Value>& Value::as_list() const {
  return u_.p ? static_cast<const ListData*>(u_.p)->items : kEmptyList;
}
const std::vector<std::pair<Value, Value>>& Value::as_map() const {
  return u_.p ? static_cast<const MapData*>(u_.p)->entries : kEmptyMap;
}
const std::vector<Value>& Value::as_fields() const {
  return u_.p ? static_cast<const StructData*>(u_.p)->fields : kEmptyList;
}

const Value* Value::map_find(std::string_view key) const {
  const auto& e = as_map();
  auto it = std::lower_bound(e.begin(), e.end(), key, [](const auto& entry, std::string_view k) {
    return entry.first.kind() == Kind::String ? entry.first.as_string() < k
                                              : entry.first.kind() < Kind::String;
  });
  if (it != e.end() && it->first.kind() == Kind::String && it->first.as_string() == key)
    return &it->second;
  return nullptr;
}

const Value* Value::map_find(const Value& key) const {
  const auto& e = as_map();
  auto it = std::lower_bound(e.begin(), e.end(), key, [](const auto& entry, const Value& k) {
    return compare_keys(entry.first, k) < 0;
  });
  if (it != e.end() && compare_keys(it->first, key) == 0 && it->first.type() == key.type())
    return &it->second;
  return nullptr;
}

Value Value::with_taint() const {
  switch (kind()) {
    case Kind::String: {
      Value v = Value::string(as_string(), type_);
      v.u_.p->tainted = true;
      return v;
    }
    case Kind::List: {
      Value v = Value::list(as_list(), type_);
      v.u_.p->tainted = true;
      return v;
    }
    case Kind::Map: {
      auto* d = new MapData;
      d->entries = as_map();
      d->tainted = true;
      U u;
      u.p = d;
      return Value(type_, u);
    }
    default:
      return *this;
  }
}

namespace {
template <typename T>
int cmp3(T a, T b) {
  return a < b ? -1 : (a > b ? 1 : 0);
}
int kind_rank(Kind k) {
  return static_cast<int>(k);
}
}  // namespace

int compare_keys(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) {
    // Keys of an interface-keyed map with different dynamic types. Go orders these by type
    // identity (an address); a stable order by kind is the closest deterministic equivalent.
    return cmp3(kind_rank(a.kind()), kind_rank(b.kind()));
  }
  switch (a.kind()) {
    case Kind::String:
      return a.as_string().compare(b.as_string()) < 0   ? -1
             : a.as_string().compare(b.as_string()) > 0 ? 1
                                                        : 0;
    case Kind::Int:
      return cmp3(a.as_int(), b.as_int());
    case Kind::Uint:
      return cmp3(a.as_uint(), b.as_uint());
    case Kind::Float: {
      double x = a.as_float(), y = b.as_float();
      if (std::isnan(x) || std::isnan(y)) {  // NaNs sort first, as in fmtsort
        if (std::isnan(x) && std::isnan(y)) return 0;
        return std::isnan(x) ? -1 : 1;
      }
      return cmp3(x, y);
    }
    case Kind::Bool:
      return cmp3(a.as_bool(), b.as_bool());
    case Kind::Complex: {
      auto x = a.as_complex(), y = b.as_complex();
      int c = cmp3(x.real(), y.real());
      return c ? c : cmp3(x.imag(), y.imag());
    }
    default:
      return 0;
  }
}

bool truth(const Value& v) {
  switch (v.kind()) {
    case Kind::Invalid:
    case Kind::Nil:
      return false;
    case Kind::Bool:
      return v.as_bool();
    case Kind::Int:
      return v.as_int() != 0;
    case Kind::Uint:
      return v.as_uint() != 0;
    case Kind::Float:
      return v.as_float() != 0;
    case Kind::Complex:
      return v.as_complex() != std::complex<double>(0, 0);
    case Kind::String:
      return !v.as_string().empty();
    case Kind::List:
      return !v.as_list().empty();
    case Kind::Map:
      return !v.as_map().empty();
    case Kind::Struct:
      return !(v.type()->pointer && v.is_nil());
    case Kind::Func:
      return !v.is_nil();
    case Kind::Interface:
      return false;
  }
  return false;
}

}  // namespace templet
