// The manage.py backend: Redash's own CLI (`ds list`, `ds new`, `ds edit`, `ds delete`,
// `ds test`), for installs where the API key is not available, typically run as
// [docker, exec, -i, redash-server, python3, manage.py].
//
// `ds list` prints every datasource's options unmasked, so its output is parsed and then
// dropped, never logged. Options are passed as the --options argument (manage.py reads them
// nowhere else) and never appear in messages; errors quote only manage.py's last line, masked.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "hooks/redash_backend.hpp"

namespace templet {

struct RedashManageSettings {
  std::vector<std::string> command;  // argv prefix ending in manage.py
  std::string target;                // for people; defaults to the command
  std::chrono::milliseconds timeout{std::chrono::minutes(2)};
};

std::unique_ptr<RedashBackend> make_redash_manage_backend(RedashManageSettings settings);

// Parses `manage.py ds list` output into datasources and their (unmasked) options.
struct ManagedDatasource {
  int64_t id = 0;
  std::string name;
  std::string type;
  nlohmann::json options;
};
std::vector<ManagedDatasource> parse_ds_list(const std::string& output);

}  // namespace templet
