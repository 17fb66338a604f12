// `templet status`: asks the running daemon over its unix socket (`<state_dir>/status.sock`)
// for its status document and prints it as a table (80 columns) or as the JSON itself.
//
// Exit status: 0 healthy, 1 degraded (a dependency, template, check or target failing), 2 bad
// usage or config, 3 no daemon answers on the socket.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace templet {

struct StatusCommandOptions {
  std::vector<std::string> config_paths;  // -c: state_dir is read from the config
  std::string state_dir;                  // --state-dir wins over -c
  bool json = false;
};

int run_status_command(const StatusCommandOptions& options);

// The human table of a status document (StatusBoard::status_json's shape), lines of at most 80
// columns.
std::string format_status_table(const nlohmann::json& status);

}  // namespace templet
