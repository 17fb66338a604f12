// The org-level resources the InfluxDB hook keeps beside its tasks: secrets (the org's secret
// store, so no credential is in a task's Flux), buckets ensured with their retention, and
// DBRP mappings (so InfluxQL clients such as Chronograf can read each bucket).
//
// plan_influx_org() reads the server and appends one plan entry and one op per secret, bucket
// and mapping, in the order they must be applied (secrets and buckets before the tasks that
// use them; a mapping after the bucket it maps). Only what the config lists is touched;
// `prune` deletes only secrets and buckets templet set for this destination (per the state
// file, influxdb_state.hpp). apply_influx_org_op() carries out one op.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hooks/apply_hook.hpp"
#include "hooks/influxdb_config.hpp"
#include "hooks/influxdb_state.hpp"
#include "net/influxdb_api.hpp"

namespace templet {

// What apply() needs for one plan entry, of any kind.
struct InfluxOp {
  enum class Kind { Task, Secret, Bucket, Dbrp };
  Kind kind = Kind::Task;
  PlanAction action = PlanAction::Unchanged;
  std::string name;     // the plan entry's name
  std::string reason;   // refused
  std::string task_id;  // task: update, delete
  std::string flux;     // task: create; update when the Flux changed
  bool send_flux = false;
  std::string status;  // task: create; update when the status changed
  bool send_status = false;
  std::string key;        // secret key; bucket name; dbrp database (= bucket name)
  std::string value;      // secret value
  std::string bucket_id;  // bucket: update, delete; dbrp: "" for a bucket created this apply
  int64_t retention_seconds = 0;
  std::string retention_policy;  // dbrp
  bool forget = false;  // a pruned secret or bucket already gone: only the state forgets it
};

struct InfluxOrgWanted {
  std::map<std::string, std::string> secrets;  // rendered values
  std::vector<InfluxBucketSpec> buckets;
  std::optional<InfluxDbrpSpec> dbrp;
  bool prune = false;
  std::string destination;
};

// Appends the entries and ops. Throws InfluxApiError or HttpTransportError when the server
// cannot be read.
void plan_influx_org(InfluxApi& api, const std::string& org_id, const InfluxOrgWanted& want,
                     const InfluxState& state, Plan& plan, std::vector<InfluxOp>& ops);

// Carries out one non-task op; records in `state` what was set or removed, and in
// `created_buckets` (name -> id) the buckets it created, for the mappings that follow.
ApplyEntry apply_influx_org_op(InfluxApi& api, const std::string& org_id, const InfluxOp& op,
                               const std::string& destination, InfluxState& state,
                               std::map<std::string, std::string>& created_buckets);

// "720h", "0s" (forever): how plans show a retention.
std::string influx_retention_text(int64_t seconds);

}  // namespace templet
