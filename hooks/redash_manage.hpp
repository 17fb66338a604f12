// The manage.py backend: Redash's own CLI (`ds list`, `ds new`, `ds edit`, `ds delete`,
// `ds test`), for installs where the API key is not available, typically run as
// [docker, exec, -i, redash-server, python3, manage.py].
//
// `ds list` prints every datasource's options unmasked, so its output is parsed and then
// dropped, never logged. Options hold secrets, so they never go on manage.py's command line
// (readable by every local user) but in its environment, as FLASK_DS_NEW_OPTIONS and
// FLASK_DS_EDIT_OPTIONS (click's automatic variables for --options under Flask's FLASK
// prefix); an edit is checked with `ds list` afterwards, since manage.py silently changes
// nothing when the variable does not reach it. Errors quote only manage.py's last line, masked.
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
