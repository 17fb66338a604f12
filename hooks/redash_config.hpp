// The Redash apply hook's settings as the config file gives them (`apply.redash`): every value
// remembers whether it was set, so that files merge before defaults. app/config parses YAML into
// it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sys/duration.hpp"

namespace templet {

struct RedashApplyConfig {
  std::optional<std::string> url;
  std::optional<std::string> api_key_env;
  std::optional<std::string> api_key_file;
  std::optional<std::string> list_key;
  std::optional<std::string> mode;   // "api" or "manage_py"
  std::vector<std::string> command;  // manage.py argv prefix (`command`, or `manage_py.command`)
  std::optional<std::string> container;        // `manage_py.container`: run it by docker exec
  std::optional<std::string> forwarded_proto;  // sent as X-Forwarded-Proto (REDASH_ENFORCE_HTTPS)
  std::optional<bool> create_missing;
  std::optional<bool> prune;
  std::optional<bool> test_after_apply;  // `verify: test_on_change` (the default) or `off`
  std::optional<Duration> ready_timeout;
  std::optional<Duration> request_timeout;  // each HTTP request, start to end
};

}  // namespace templet
