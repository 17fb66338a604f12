// Sprig's list and dict families (list.go, dict.go). Lists come back as []interface {} whatever
// went in; the non-must functions fail with the must variant's error (Sprig panics and
// text/template reports the panic), and a nil list argument fails as reflect does on nil.
// set, unset, merge and mergeOverwrite change the map they are given, as Go's maps are shared:
// `$_ := set $d "k" "v"` is how templates build dicts.
#include <algorithm>
#include <cmath>

#include "functions/sprig_internal.hpp"

namespace templet::helpers::sprig {

namespace {

const Type* const S_ = &types::string;
const Type* const I_ = &types::int_;
const Type* const M_ = &types::map_any;

const Type list_of_lists = [] {
  Type t;
  t.kind = Kind::List;
  t.name = "[][]interface {}";
  t.elem = &types::list_any;
  return t;
}();

Value L(std::vector<Value> items) {
  return Value::list(std::move(items), &types::list_any);
}

// The list argument's items, or the error Sprig's must variant returns ("Cannot <what> on type K").
const std::vector<Value>& items_of(const Value& v, const std::string& what) {
  if (!v.valid() || v.kind() == Kind::Nil) throw FuncError(kNilDeref);
  if (v.kind() != Kind::List) throw FuncError(what + " " + kind_name(v));
  return v.as_list();
}

bool in_list(const std::vector<Value>& hay, const Value& needle) {
  return std::any_of(hay.begin(), hay.end(), [&](const Value& h) { return deep_equal(needle, h); });
}

// Each list function under its name and its must- name: both fail the same way here, because
// Sprig's plain variant panics with the must variant's error.
void define_both(FunctionTable& t, const std::string& name, std::vector<const Type*> params,
                 Body body, bool variadic = false) {
  std::string must =
      "sprig_must" + std::string(1, static_cast<char>(name[0] - 'a' + 'A')) + name.substr(1);
  define(t, "sprig_" + name, params, body, variadic);
  define(t, must, params, body, variadic);
}

MapData& mutable_map(const Value& m) {
  // Go's maps are references: Sprig's set/unset/merge change the caller's map in place.
  return *const_cast<MapData*>(static_cast<const MapData*>(m.heap()));
}

void map_set(const Value& m, const std::string& key, const Value& v) {
  if (m.is_nil()) throw FuncError("assignment to entry in nil map");
  auto& entries = mutable_map(m).entries;
  auto it = std::lower_bound(entries.begin(), entries.end(), key,
                             [](const auto& e, const auto& k) { return e.first.as_string() < k; });
  if (it != entries.end() && it->first.as_string() == key)
    it->second = v;
  else
    entries.insert(it, {Value::string(key), v});
}

// mergo's rules for map[string]interface{}: a key missing or empty in dst takes src's value;
// two maps merge recursively; with overwrite, a non-empty src value replaces dst's.
void merge_into(const Value& dst, const Value& src, bool overwrite) {
  for (const auto& [k, sv] : src.as_map()) {
    const Value* dv = dst.map_find(k.as_string());
    if (dv && dv->kind() == Kind::Map && sv.kind() == Kind::Map && !dv->is_nil() &&
        dv->type() == &types::map_any && sv.type() == &types::map_any) {
      merge_into(*dv, sv, overwrite);
      continue;
    }
    if (!dv || empty(*dv) || (overwrite && !empty(sv))) map_set(dst, k.as_string(), sv);
  }
}

Value merge(Args a, bool overwrite) {
  if (a[0].is_nil()) {
    bool writes = false;
    for (size_t i = 1; i < a.size(); ++i) writes = writes || !a[i].as_map().empty();
    if (writes) throw FuncError("assignment to entry in nil map");
    return a[0];
  }
  for (size_t i = 1; i < a.size(); ++i) merge_into(a[0], a[i], overwrite);
  return a[0];
}

const Value& dig_dict(const Value& v) {
  if (v.type() != &types::map_any)
    throw FuncError("interface conversion: interface {} is " +
                    (v.valid() && v.kind() != Kind::Nil ? v.type()->name : std::string("nil")) +
                    ", not map[string]interface {}");
  return v;
}

// copystructure.Copy: fresh maps and lists all the way down, so a later set leaves the copy be.
Value deep_copy(const Value& v) {
  if (v.is_nil()) return v;
  if (v.kind() == Kind::List) {
    std::vector<Value> out;
    for (const auto& x : v.as_list()) out.push_back(deep_copy(x));
    return Value::list(std::move(out), v.type());
  }
  if (v.kind() == Kind::Map) {
    std::vector<std::pair<Value, Value>> out;
    for (const auto& [k, x] : v.as_map()) out.emplace_back(k, deep_copy(x));
    return Value::map(std::move(out), v.type());
  }
  return v;
}

std::vector<int64_t> until_step(int64_t start, int64_t stop, int64_t step) {
  std::vector<int64_t> v;
  if (stop < start) {
    if (step >= 0) return v;
    for (int64_t i = start; i > stop; i += step) v.push_back(i);
    return v;
  }
  if (step <= 0) return v;
  for (int64_t i = start; i < stop; i += step) v.push_back(i);
  return v;
}

Value int_list(const std::vector<int64_t>& xs) {
  std::vector<Value> out;
  for (auto x : xs) out.push_back(Value::integer(x));
  return Value::list(std::move(out), &types::list_int);
}

std::string seq(Args a) {
  std::vector<int64_t> p;
  for (const auto& v : a) p.push_back(v.as_int());
  std::vector<int64_t> xs;
  switch (p.size()) {
    case 1: {
      int64_t inc = p[0] < 1 ? -1 : 1;
      xs = until_step(1, p[0] + inc, inc);
      break;
    }
    case 2: {
      int64_t step = p[1] < p[0] ? -1 : 1;
      xs = until_step(p[0], p[1] + step, step);
      break;
    }
    case 3: {
      int64_t inc = 1;
      if (p[2] < p[0]) {
        inc = -1;
        if (p[1] > 0) return "";
      }
      xs = until_step(p[0], p[2] + inc, p[1]);
      break;
    }
    default:
      return "";
  }
  std::string out;
  for (size_t i = 0; i < xs.size(); ++i) out += (i ? " " : "") + std::to_string(xs[i]);
  return out;
}

}  // namespace

void register_lists(FunctionTable& t) {
  for (const char* name : {"sprig_tuple"})
    define(
        t, name, {nullptr}, [](Args a) { return L(std::vector<Value>(a.begin(), a.end())); }, true);
  for (const char* name : {"push", "append"})
    define_both(t, name, {nullptr, nullptr}, [](Args a) {
      auto out = items_of(a[0], "Cannot push on type");
      out.push_back(a[1]);
      return L(std::move(out));
    });
  define_both(t, "prepend", {nullptr, nullptr}, [](Args a) {
    auto out = items_of(a[0], "Cannot prepend on type");
    out.insert(out.begin(), a[1]);
    return L(std::move(out));
  });
  define_both(t, "chunk", {I_, nullptr}, [](Args a) {
    const auto& xs = items_of(a[1], "Cannot chunk type");
    const int64_t size = a[0].as_int(), n = static_cast<int64_t>(xs.size());
    if (size == 0) throw FuncError("runtime error: integer divide by zero");
    const double cs_f = std::floor(static_cast<double>(n - 1) / static_cast<double>(size)) + 1;
    const int64_t cs = static_cast<int64_t>(cs_f);
    if (cs < 0) throw FuncError("runtime error: makeslice: len out of range");
    std::vector<Value> chunks;
    for (int64_t i = 0; i < cs; ++i) {
      int64_t len = size;
      if (i == cs - 1) {
        len = static_cast<int64_t>(std::fmod(static_cast<double>(n), static_cast<double>(size)));
        if (len == 0) len = size;
      }
      if (len < 0) throw FuncError("runtime error: makeslice: len out of range");
      std::vector<Value> c;
      for (int64_t j = 0; j < len; ++j) {
        int64_t ix = i * size + j;
        if (ix < 0 || ix >= n) throw FuncError("reflect: slice index out of range");
        c.push_back(xs[static_cast<size_t>(ix)]);
      }
      chunks.push_back(L(std::move(c)));
    }
    return Value::list(std::move(chunks), &list_of_lists);
  });
  define_both(t, "first", {nullptr}, [](Args a) {
    const auto& xs = items_of(a[0], "Cannot find first on type");
    return xs.empty() ? Value::nil() : xs.front();
  });
  define_both(t, "last", {nullptr}, [](Args a) {
    const auto& xs = items_of(a[0], "Cannot find last on type");
    return xs.empty() ? Value::nil() : xs.back();
  });
  define_both(t, "rest", {nullptr}, [](Args a) {
    const auto& xs = items_of(a[0], "Cannot find rest on type");
    if (xs.empty()) return Value::typed_nil(&types::list_any);
    return L(std::vector<Value>(xs.begin() + 1, xs.end()));
  });
  define_both(t, "initial", {nullptr}, [](Args a) {
    const auto& xs = items_of(a[0], "Cannot find initial on type");
    if (xs.empty()) return Value::typed_nil(&types::list_any);
    return L(std::vector<Value>(xs.begin(), xs.end() - 1));
  });
  define_both(t, "reverse", {nullptr}, [](Args a) {
    auto xs = items_of(a[0], "Cannot find reverse on type");
    std::reverse(xs.begin(), xs.end());
    return L(std::move(xs));
  });
  define_both(t, "compact", {nullptr}, [](Args a) {
    std::vector<Value> out;
    for (const auto& x : items_of(a[0], "Cannot compact on type"))
      if (!empty(x)) out.push_back(x);
    return L(std::move(out));
  });
  define_both(t, "uniq", {nullptr}, [](Args a) {
    std::vector<Value> out;
    for (const auto& x : items_of(a[0], "Cannot find uniq on type"))
      if (!in_list(out, x)) out.push_back(x);
    return L(std::move(out));
  });
  define_both(
      t, "without", {nullptr, nullptr},
      [](Args a) {
        std::vector<Value> omit(a.begin() + 1, a.end()), out;
        for (const auto& x : items_of(a[0], "Cannot find without on type"))
          if (!in_list(omit, x)) out.push_back(x);
        return L(std::move(out));
      },
      true);
  define_both(t, "has", {nullptr, nullptr}, [](Args a) {
    if (!a[1].valid() || a[1].kind() == Kind::Nil) return Value::boolean(false);
    return Value::boolean(in_list(items_of(a[1], "Cannot find has on type"), a[0]));
  });
  define_both(
      t, "slice", {nullptr, nullptr},
      [](Args a) {
        const auto& xs = items_of(a[0], "list should be type of slice or array but");
        if (xs.empty()) return Value::nil();
        int64_t n = static_cast<int64_t>(xs.size());
        int64_t lo = a.size() > 1 ? to_int64(a[1]) : 0;
        int64_t hi = a.size() > 2 ? to_int64(a[2]) : n;
        if (lo < 0 || hi < lo || hi > n)
          throw FuncError("reflect.Value.Slice: slice index out of bounds");
        return Value::list(std::vector<Value>(xs.begin() + lo, xs.begin() + hi), a[0].type());
      },
      true);
  define(
      t, "sprig_concat", {nullptr},
      [](Args a) {
        std::vector<Value> out;
        for (const auto& l : a) {
          if (!l.valid() || l.kind() == Kind::Nil) throw FuncError(kNilDeref);
          if (l.kind() != Kind::List)
            throw FuncError("Cannot concat type " + kind_name(l) + " as list");
          out.insert(out.end(), l.as_list().begin(), l.as_list().end());
        }
        return out.empty() ? Value::typed_nil(&types::list_any) : L(std::move(out));
      },
      true);
  define(t, "sprig_until", {I_},
         [](Args a) { return int_list(until_step(0, a[0].as_int(), a[0].as_int() < 0 ? -1 : 1)); });
  define(t, "sprig_untilStep", {I_, I_, I_},
         [](Args a) { return int_list(until_step(a[0].as_int(), a[1].as_int(), a[2].as_int())); });
  define(
      t, "sprig_seq", {I_}, [](Args a) { return Value::string(seq(a)); }, true);

  // Dicts.
  define(t, "sprig_set", {M_, S_, nullptr}, [](Args a) {
    map_set(a[0], a[1].as_string(), a[2]);
    return a[0];
  });
  define(t, "sprig_unset", {M_, S_}, [](Args a) {
    if (a[0].is_nil()) return a[0];
    auto& entries = mutable_map(a[0]).entries;
    entries.erase(
        std::remove_if(entries.begin(), entries.end(),
                       [&](const auto& e) { return e.first.as_string() == a[1].as_string(); }),
        entries.end());
    return a[0];
  });
  define(
      t, "sprig_pluck", {S_, M_},
      [](Args a) {
        std::vector<Value> out;
        for (size_t i = 1; i < a.size(); ++i)
          if (const Value* v = a[i].map_find(a[0].as_string())) out.push_back(*v);
        return L(std::move(out));
      },
      true);
  define(
      t, "sprig_pick", {M_, S_},
      [](Args a) {
        std::vector<std::pair<Value, Value>> out;
        for (size_t i = 1; i < a.size(); ++i)
          if (const Value* v = a[0].map_find(a[i].as_string())) out.emplace_back(a[i], *v);
        return Value::map(std::move(out), M_);
      },
      true);
  define(
      t, "sprig_omit", {M_, S_},
      [](Args a) {
        std::vector<std::pair<Value, Value>> out;
        for (const auto& e : a[0].as_map()) {
          bool drop = false;
          for (size_t i = 1; i < a.size(); ++i)
            drop = drop || a[i].as_string() == e.first.as_string();
          if (!drop) out.push_back(e);
        }
        return Value::map(std::move(out), M_);
      },
      true);
  define(t, "sprig_values", {M_}, [](Args a) {
    // Go ranges over the map in random order; key order is the deterministic choice.
    std::vector<Value> out;
    for (const auto& e : a[0].as_map()) out.push_back(e.second);
    return L(std::move(out));
  });
  define(
      t, "sprig_dig", {nullptr},
      [](Args a) {
        if (a.size() < 3) throw FuncError("dig needs at least three arguments");
        const Value* dict = &dig_dict(a.back());
        const Value& def = a[a.size() - 2];
        for (size_t i = 0; i + 2 < a.size(); ++i)
          if (a[i].kind() != Kind::String)
            throw FuncError("interface conversion: interface {} is " +
                            (a[i].valid() && a[i].kind() != Kind::Nil ? a[i].type()->name
                                                                      : std::string("nil")) +
                            ", not string");
        for (size_t i = 0; i + 2 < a.size(); ++i) {
          const Value* step = dict->map_find(a[i].as_string());
          if (!step) return def;
          if (i + 3 == a.size()) return *step;
          dict = &dig_dict(*step);
        }
        return def;
      },
      true);
  for (bool must : {false, true}) {
    define(
        t, must ? "sprig_mustMerge" : "sprig_merge", {M_, M_},
        [](Args a) { return merge(a, false); }, true);
    define(
        t, must ? "sprig_mustMergeOverwrite" : "sprig_mergeOverwrite", {M_, M_},
        [](Args a) { return merge(a, true); }, true);
  }
  for (const char* name : {"sprig_deepCopy", "sprig_mustDeepCopy"})
    define(t, name, {nullptr}, [](Args a) { return deep_copy(a[0]); });
}

}  // namespace templet::helpers::sprig
