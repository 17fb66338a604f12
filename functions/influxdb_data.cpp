// influxdbBuckets (see influxdb_data.hpp).
#include "functions/influxdb_data.hpp"

#include <algorithm>

#include "functions/data_types.hpp"
#include "functions/dependency.hpp"
#include "functions/render_state.hpp"

namespace templet {

namespace {

using json = nlohmann::json;

Type struct_type() {
  Type t;
  t.kind = Kind::Struct;
  t.name = "*influxdb.Bucket";
  t.fields = {"Name", "ID", "RetentionSeconds", "Type", "Labels"};
  t.pointer = true;
  return t;
}

Type list_type() {
  Type t;
  t.kind = Kind::List;
  t.name = "[]*influxdb.Bucket";
  t.elem = influx_bucket_type();
  return t;
}

int64_t retention_seconds(const json& b) {
  // The first expire rule; none (or everySeconds 0) is forever.
  const json rules = b.value("retentionRules", json::array());
  if (rules.is_array())
    for (const auto& r : rules)
      if (r.is_object() && r.value("type", "expire") == "expire" && r.contains("everySeconds") &&
          r["everySeconds"].is_number_integer())
        return r["everySeconds"].get<int64_t>();
  return 0;
}

std::string text(const json& b, const char* key) {
  return b.contains(key) && b[key].is_string() ? b[key].get<std::string>() : "";
}

Value buckets_fn(CallContext& ctx, std::span<const Value> args) {
  RenderState& st = RenderState::of(ctx);
  Dependency d;
  try {
    d = parse_influx_buckets(args[0].as_string());
  } catch (const DependencyError& e) {
    throw FuncError(e.what());
  }
  d.call = "influxdbBuckets \"" + d.target + "\"";
  std::optional<Response> r;
  try {
    r = st.lookup(d);
  } catch (const FetchError& e) {
    throw FuncError(e.what());  // the live source's message names the dependency
  }
  if (r) {
    try {
      return influx_buckets_value(dtypes::parse_json(r->body));
    } catch (const FetchError& e) {
      throw FuncError(d.id + ": " + e.what());
    }
  }
  st.missing(d);
  return Value::list({}, influx_bucket_list_type());
}

}  // namespace

const Type* influx_bucket_type() {
  static const Type t = struct_type();
  return &t;
}

const Type* influx_bucket_list_type() {
  static const Type t = list_type();
  return &t;
}

Value influx_buckets_value(const json& body) {
  if (!body.is_object() || !body.contains("buckets") || !body["buckets"].is_array())
    throw FetchError("not a bucket list");
  std::vector<json> buckets;
  for (const auto& b : body["buckets"])
    if (b.is_object()) buckets.push_back(b);
  std::stable_sort(buckets.begin(), buckets.end(),
                   [](const json& a, const json& b) { return text(a, "name") < text(b, "name"); });
  std::vector<Value> items;
  for (const auto& b : buckets) {
    std::vector<std::string> labels;
    for (const auto& l : b.value("labels", json::array()))
      if (l.is_object()) labels.push_back(text(l, "name"));
    std::sort(labels.begin(), labels.end());
    std::vector<Value> label_values;
    for (auto& l : labels) label_values.push_back(Value::string(std::move(l)));
    std::string type = text(b, "type");
    items.push_back(Value::structure(influx_bucket_type(),
                                     {Value::string(text(b, "name")), Value::string(text(b, "id")),
                                      Value::integer(retention_seconds(b), &types::int64),
                                      Value::string(type.empty() ? "user" : type),
                                      Value::list(std::move(label_values), &types::list_string)}));
  }
  return Value::list(std::move(items), influx_bucket_list_type());
}

void register_influxdb_functions(FunctionTable& table) {
  Function f;
  f.name = "influxdbBuckets";
  f.params = {&types::string};
  f.variadic = false;
  f.call = buckets_fn;
  table.add(std::move(f));
}

}  // namespace templet
