// `templet apply influxdb FILE`: plan (and unless --plan, apply) a rendered Flux file by hand.
//
// The same InfluxDB hook the run loop uses, configured from flags and the environment: URL from
// --url else INFLUXDB_URL, org from --org/--org-id else INFLUXDB_ORG, token from the variable
// named by --token-env (INFLUXDB_TOKEN by default). Tasks it creates are marked as managed for
// FILE's absolute path, so prune and the run loop agree on what templet owns. The plan, then the
// result, go to stdout; errors to stderr.
#pragma once

#include <string>

namespace templet {

struct ApplyInfluxOptions {
  std::string file;
  std::string url;
  std::string org;
  std::string org_id;
  std::string token_env = "INFLUXDB_TOKEN";
  std::string ready_timeout;  // e.g. "30s"; empty: 2m
  bool plan_only = false;
  bool prune = false;
};

// 0 when every task was applied or unchanged (with --plan: the plan holds no refusal); 1 when
// something failed or was refused; 2 for a usage error (no URL or org, unreadable FILE).
int run_apply_influxdb(const ApplyInfluxOptions& options);

}  // namespace templet
