// The manage.py backend: Redash's own CLI (`ds list`, `ds new`, `ds edit`, `ds delete`,
// `ds test`), for installs where the API key is not available, typically run as
// [docker, exec, -i, redash-server, python3, manage.py].
//
// `ds list` prints every datasource's options unmasked, so its output is parsed and then
// dropped, never logged. Options hold secrets, so they never go on manage.py's command line
// (readable by every local user) but in its environment, as FLASK_DS_NEW_OPTIONS and
// FLASK_DS_EDIT_OPTIONS (click's automatic variables for --options under Flask's FLASK
// prefix); an edit is checked with `ds list` afterwards, since manage.py silently changes
// nothing when the variable does not reach it. Errors quote the one line that says why
// (manage_failure_reason), masked; `ds new` prints the options it got, so its output is as
// secret-bearing as `ds list`'s. Types are checked with `ds list_types` before a plan.
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

// The line of a failed manage.py run that says why: a traceback's exception line on stderr,
// else the last `Error:`, `Failure:`, `Couldn't find` or `Aborted!` line, else the last other
// line; never a log line (`[time][PID:n][INFO]...`), a progress line (`Updating type: ...`) or
// the options `ds new` prints after `Creating ... with options:`.
std::string manage_failure_reason(const std::string& out, const std::string& err);

// The query runner types `manage.py ds list_types` prints.
std::vector<std::string> parse_ds_list_types(const std::string& output);

// [docker, exec, -i, -e FLASK_DS_NEW_OPTIONS, -e FLASK_DS_EDIT_OPTIONS, NAME, python3, manage.py]
std::vector<std::string> docker_exec_manage_py(const std::string& container);

// Why a `docker exec` manage.py command cannot work (it does not pass both option variables
// with -e), for `templet validate`; "" when it is not docker exec or passes them.
std::string docker_exec_env_problem(const std::vector<std::string>& command);

}  // namespace templet
