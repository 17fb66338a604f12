// consul-template's Scratch: a key/value store that lives for one template execution.
#include "functions/helpers_internal.hpp"
#include "functions/render_state.hpp"

namespace templet {

namespace {

using Args = std::span<const Value>;
using helpers::go_quote;

std::map<std::string, Value>& values_of(CallContext& ctx) {
  return RenderState::of(ctx).scratch().values;
}

// Values are immutable, so MapSet rebuilds the map; templates see the same contents Go's
// shared map would hold from then on.
Value map_set(CallContext& ctx, Args args, bool overwrite) {
  auto& values = values_of(ctx);
  const std::string& k = args[0].as_string();
  auto it = values.find(k);
  if (it == values.end()) it = values.emplace(k, Value::map({})).first;
  if (it->second.type() != &types::map_any) throw FuncError(go_quote(k) + " is not a map");
  Value key = Value::string(args[1].as_string());
  if (!overwrite && !it->second.is_nil() && it->second.map_find(key)) return Value::string("");
  std::vector<std::pair<Value, Value>> entries;
  if (!it->second.is_nil()) entries = it->second.as_map();
  entries.emplace_back(std::move(key), args[2]);
  it->second = Value::map(std::move(entries));
  return Value::string("");
}

Value set(CallContext& ctx, Args args, bool overwrite) {
  auto& values = values_of(ctx);
  const std::string& k = args[0].as_string();
  if (overwrite || values.find(k) == values.end()) values[k] = args[1];
  return Value::string("");
}

Type make_scratch_type() {
  Type t;
  t.kind = Kind::Struct;
  t.name = "*template.Scratch";
  t.pointer = true;
  const Type* str = &types::string;
  t.methods.push_back(Method{"Key", {str}, false, [](CallContext& ctx, const Value&, Args a) {
                               return Value::boolean(values_of(ctx).count(a[0].as_string()) > 0);
                             }});
  t.methods.push_back(Method{"Get", {str}, false, [](CallContext& ctx, const Value&, Args a) {
                               auto& values = values_of(ctx);
                               auto it = values.find(a[0].as_string());
                               // An interface holding nil reads back as no value.
                               if (it == values.end() || it->second.kind() == Kind::Nil)
                                 return Value();
                               return it->second;
                             }});
  t.methods.push_back(
      Method{"Set", {str, nullptr}, false, [](CallContext& ctx, const Value&, Args a) {
               return set(ctx, a, true);
             }});
  t.methods.push_back(
      Method{"SetX", {str, nullptr}, false, [](CallContext& ctx, const Value&, Args a) {
               return set(ctx, a, false);
             }});
  t.methods.push_back(
      Method{"MapSet", {str, str, nullptr}, false, [](CallContext& ctx, const Value&, Args a) {
               return map_set(ctx, a, true);
             }});
  t.methods.push_back(
      Method{"MapSetX", {str, str, nullptr}, false, [](CallContext& ctx, const Value&, Args a) {
               return map_set(ctx, a, false);
             }});
  t.methods.push_back(Method{"MapValues", {str}, false, [](CallContext& ctx, const Value&, Args a) {
                               auto& values = values_of(ctx);
                               auto it = values.find(a[0].as_string());
                               if (it == values.end() || it->second.type() != &types::map_any ||
                                   it->second.is_nil())
                                 return Value::typed_nil(&types::list_any);
                               std::vector<Value> items;
                               for (const auto& [k, v] : it->second.as_map()) items.push_back(v);
                               return Value::list(std::move(items));
                             }});
  return t;
}

}  // namespace

const Type* scratch_type() {
  static const Type t = make_scratch_type();
  return &t;
}

}  // namespace templet
