// The InfluxDB data function `influxdbBuckets "ORG"`: the org's buckets as templates see them,
// so a template can range over application buckets and render one task per application.
//
//   *influxdb.Bucket {Name, ID, RetentionSeconds int64 (0 = forever), Type ("user"|"system"),
//                     Labels []string (label names, sorted)}
//
// sorted by name (system buckets `_monitoring` and `_tasks` included, as the API lists them).
// The answer (data_source.hpp) is `{"buckets": [...]}`, the concatenated pages of
// GET /api/v2/buckets?orgID=; until it arrives the dependency is missing and the function
// returns an empty list.
#pragma once

#include <nlohmann/json.hpp>

#include "renderer/function.hpp"
#include "renderer/value.hpp"

namespace templet {

const Type* influx_bucket_type();
const Type* influx_bucket_list_type();  // []*influxdb.Bucket
// The Value of an answer's body; throws FetchError when it is not a bucket list.
Value influx_buckets_value(const nlohmann::json& body);
void register_influxdb_functions(FunctionTable& table);

}  // namespace templet
