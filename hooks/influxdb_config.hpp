// The InfluxDB hook's settings as the config file gives them (`apply.influxdb`; the top-level
// `influxdb` block, which fills the keys a target leaves unset, is the live layer's
// InfluxServerConfig). Every value remembers whether it was set, so that files merge before
// defaults. app/config parses YAML into them.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sys/duration.hpp"

namespace templet {

// One of `apply.influxdb.buckets`: created when missing, retention kept equal.
struct InfluxBucketSpec {
  std::string name;
  Duration retention{0};  // 0 = forever
};

// `apply.influxdb.dbrp`.
struct InfluxDbrpSpec {
  bool all = false;                // every user bucket
  std::vector<std::string> names;  // else these buckets
  std::string default_rp = "autogen";
};

struct InfluxApplyConfig {
  std::optional<std::string> url;
  std::optional<std::string> org;
  std::optional<std::string> org_id;
  std::optional<std::string> token_env;
  std::optional<std::string> token_file;
  std::optional<std::string> status;  // unset: existing tasks keep the status they have
  std::optional<bool> prune;
  std::optional<Duration> ready_timeout;
  // key -> template text, rendered with the template's data into the org's secret store
  std::optional<std::map<std::string, std::string>> secrets;
  std::optional<std::vector<InfluxBucketSpec>> buckets;
  std::optional<InfluxDbrpSpec> dbrp;
  std::optional<std::string> verify;  // "run_on_change" or "off" (default)
};

}  // namespace templet
