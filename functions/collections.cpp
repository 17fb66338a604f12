// Collection helpers: membership tests (in, contains, containsAll/Any/None/NotAll), building
// nested maps from flat keys (explode, explodeMap), mergo-style deep merges (mergeMap,
// mergeMapWithOverride) and integer ranges (loop). consul-template mutates mergeMap's base
// map in place; templet's values are immutable, so the merged map is a new value (the result,
// which is what templates use, is the same).
#include <map>

#include "functions/helpers_internal.hpp"

namespace templet::helpers {

namespace {

[[noreturn]] void zero_value_type_panic() {
  throw FuncError("reflect: call of reflect.Value.Type on zero Value");
}

bool is_untyped_nil(const Value& v) {
  return v.kind() == Kind::Invalid || v.kind() == Kind::Nil;
}

// consul-template's `in(l, v)`.
bool in(const Value& l, const Value& v) {
  switch (l.kind()) {
    case Kind::List:
      for (const auto& e : l.as_list()) {
        switch (e.kind()) {
          case Kind::Int:
            if (v.kind() == Kind::Int && v.as_int() == e.as_int()) return true;
            break;
          case Kind::Float:
            if (v.kind() == Kind::Float && v.as_float() == e.as_float()) return true;
            break;
          case Kind::String:
            if (is_untyped_nil(v)) zero_value_type_panic();
            if (v.type() == e.type() && v.as_string() == e.as_string()) return true;
            break;
          default:
            break;
        }
      }
      return false;
    case Kind::String:
      if (is_untyped_nil(v)) zero_value_type_panic();
      return v.type() == l.type() && l.as_string().find(v.as_string()) != std::string::npos;
    default:
      return false;
  }
}

// explodeHelper's working tree: a node is either a leaf value or a map of children.
struct Node {
  bool is_map = true;
  Value leaf;
  std::map<std::string, Node> children;
};

void explode_into(Node& m, const std::string& k, const Value& v, const std::string& p) {
  size_t slash = k.find('/');
  if (slash != std::string::npos) {
    std::string top = k.substr(0, slash);
    std::string rest = k.substr(slash + 1);
    auto it = m.children.find(top);
    if (it == m.children.end()) it = m.children.emplace(top, Node{}).first;
    if (!it->second.is_map)
      throw FuncError("not a map: " + go_quote(p) + ": " + go_quote(top) + " already has value " +
                      go_q(it->second.leaf));
    explode_into(it->second, rest, v, k);
    return;
  }
  if (!k.empty()) {
    Node leaf;
    leaf.is_map = false;
    leaf.leaf = v;
    m.children[k] = std::move(leaf);
  }
}

Value to_value(const Node& n) {
  if (!n.is_map) return n.leaf;
  std::vector<std::pair<Value, Value>> entries;
  for (const auto& [k, child] : n.children) entries.emplace_back(Value::string(k), to_value(child));
  return Value::map(std::move(entries), &types::map_any);
}

// mergo's isEmptyValue with dereferencing.
bool mergo_empty(const Value& v) {
  switch (v.kind()) {
    case Kind::Invalid:
    case Kind::Nil:
      return true;
    case Kind::String:
      return v.as_string().empty();
    case Kind::List:
      return v.as_list().empty();
    case Kind::Map:
      return v.as_map().empty();
    case Kind::Bool:
      return !v.as_bool();
    case Kind::Int:
      return v.as_int() == 0;
    case Kind::Uint:
      return v.as_uint() == 0;
    case Kind::Float:
      return v.as_float() == 0;
    case Kind::Struct:
      return v.is_nil();
    case Kind::Func:
      return v.is_nil();
    default:
      return false;
  }
}

// mergo.Map(&dst, src[, WithOverride]) for map[string]interface{} values: keys missing from dst,
// or holding an empty value there, are taken from src; nested maps merge recursively; with
// override every non-nil src value replaces dst's, and nil src values are copied too.
Value merge(const Value& dst, const Value& src, bool overwrite) {
  std::vector<std::pair<Value, Value>> out(dst.as_map().begin(), dst.as_map().end());
  auto find = [&](const Value& key) -> Value* {
    for (auto& e : out)
      if (e.first.type() == key.type() && compare_keys(e.first, key) == 0) return &e.second;
    return nullptr;
  };
  for (const auto& [key, s] : src.as_map()) {
    Value* d = find(key);
    if (is_untyped_nil(s)) {
      if (overwrite) {
        if (d)
          *d = s;
        else
          out.emplace_back(key, s);
      }
      continue;
    }
    if (s.kind() == Kind::Map && d && d->kind() == Kind::Map && !d->as_map().empty() &&
        d->type() == s.type()) {
      *d = merge(*d, s, overwrite);
      continue;
    }
    if (d && !mergo_empty(*d)) {
      if (s.kind() == Kind::List) {
        if (overwrite) *d = s;
        continue;
      }
    }
    if (!d)
      out.emplace_back(key, s);
    else if (overwrite || mergo_empty(*d))
      *d = s;
  }
  return Value::map(std::move(out),
                    dst.type() && dst.kind() == Kind::Map ? dst.type() : &types::map_any);
}

const Type kMergoOption = [] {
  Type t;
  t.kind = Kind::Func;
  t.name = "func(*mergo.Config)";
  return t;
}();

int64_t loop_bound(const Value& v) {
  switch (v.kind()) {
    case Kind::Int:
      return v.as_int();
    case Kind::Uint:
      return static_cast<int64_t>(v.as_uint());
    case Kind::String: {
      int64_t out = 0;
      std::string err;
      if (!v.as_string().empty() && !parse_int(v.as_string(), 10, out, err))
        throw FuncError("parseInt: " + err);
      return out;
    }
    default:
      throw FuncError("loop: bad argument type: " + go_type(v));
  }
}

// Go streams the values through a channel; templet builds the list, so bound its size.
constexpr int64_t kMaxLoop = 10'000'000;

}  // namespace

void register_collections(FunctionTable& t) {
  define(t, "in", {nullptr, nullptr}, [](Args a) { return Value::boolean(in(a[0], a[1])); });
  define(t, "contains", {nullptr, nullptr}, [](Args a) { return Value::boolean(in(a[1], a[0])); });
  struct Some {
    const char* name;
    bool ret_true, invert;
  };
  for (auto s : {Some{"containsAll", true, true}, Some{"containsAny", false, false},
                 Some{"containsNone", true, false}, Some{"containsNotAll", false, true}}) {
    define(t, s.name, {&types::list_any, nullptr}, [s](Args a) {
      for (const auto& needle : a[0].as_list())
        if (in(a[1], needle) != s.invert) return Value::boolean(!s.ret_true);
      return Value::boolean(s.ret_true);
    });
  }

  define(t, "explode", {nullptr}, [](Args a) {
    const Value& pairs = a[0];
    if (pairs.kind() != Kind::List && !is_untyped_nil(pairs))
      throw FuncError("wrong type for value; expected []*dependency.KeyPair; got " +
                      go_type(pairs));
    Node root;
    for (const auto& pair : pairs.as_list()) {
      const Type* pt = pair.type();
      int ki = pt ? pt->field_index("Key") : -1, vi = pt ? pt->field_index("Value") : -1;
      if (pair.kind() != Kind::Struct || ki < 0 || vi < 0 || pair.is_nil())
        throw FuncError("wrong type for value; expected []*dependency.KeyPair; got " +
                        go_type(pairs));
      const auto& f = pair.as_fields();
      const std::string& key = f[static_cast<size_t>(ki)].as_string();
      try {
        explode_into(root, key, f[static_cast<size_t>(vi)], key);
      } catch (const FuncError& e) {
        throw FuncError(std::string("explode: ") + e.what());
      }
    }
    return to_value(root);
  });
  define(t, "explodeMap", {&types::map_any}, [](Args a) {
    Node root;
    for (const auto& [k, v] : a[0].as_map()) {  // entries are already in sorted key order
      try {
        explode_into(root, k.as_string(), v, k.as_string());
      } catch (const FuncError& e) {
        throw FuncError(std::string("explodeMap: ") + e.what());
      }
    }
    return to_value(root);
  });

  define(
      t, "mergeMap", {&types::map_any, &types::map_any, &kMergoOption},
      [](Args a) { return merge(a[0], a[1], false); }, true);
  define(t, "mergeMapWithOverride", {&types::map_any, &types::map_any},
         [](Args a) { return merge(a[0], a[1], true); });

  define(
      t, "loop", {nullptr},
      [](Args a) {
        if (a.size() != 1 && a.size() != 2)
          throw FuncError("loop: wrong number of arguments, expected 1 or 2, but got " +
                          std::to_string(a.size()));
        int64_t start = a.size() == 2 ? loop_bound(a[0]) : 0;
        int64_t stop = loop_bound(a.size() == 2 ? a[1] : a[0]);
        std::vector<Value> items;
        if (stop > start) {
          if (static_cast<uint64_t>(stop) - static_cast<uint64_t>(start) >
              static_cast<uint64_t>(kMaxLoop))
            throw FuncError("loop: range of more than " + std::to_string(kMaxLoop) +
                            " values is not supported");
          items.reserve(static_cast<size_t>(stop - start));
          for (int64_t i = start; i < stop; ++i) items.push_back(Value::integer(i, &types::int64));
        }
        return Value::list(std::move(items), &types::loop_stream);
      },
      true);
}

}  // namespace templet::helpers
