// The InfluxDB apply hook's settings as the config file gives them (`apply.influxdb`): every value
// remembers whether it was set, so that files merge before defaults. app/config parses YAML into
// it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sys/duration.hpp"

namespace templet {

struct InfluxApplyConfig {
  std::optional<std::string> url;
  std::optional<std::string> org;
  std::optional<std::string> org_id;
  std::optional<std::string> token_env;
  std::optional<std::string> token_file;
  std::optional<std::string> status;
  std::optional<bool> prune;
  std::optional<Duration> ready_timeout;
  std::optional<std::string> verify;  // "run_on_change" or "off" (default)
};

}  // namespace templet
