// `templet refresh`: how a running daemon is asked to fetch its data anew now (the way to push a
// manual Vault `rotate-role`). The daemon keeps its pid in <state_dir>/templet.pid; refresh
// writes what to refresh into <state_dir>/refresh-request (0600) and sends SIGUSR1. A bare
// SIGUSR1 (no request file) refreshes everything.
#pragma once

#include <string>
#include <vector>

namespace templet {

// The daemon side. write_pid_file throws std::runtime_error when it cannot write.
void write_pid_file(const std::string& state_dir);
void remove_pid_file(const std::string& state_dir);
// The request left by `templet refresh` (a dependency or destination; "" for everything), read
// and removed.
std::string take_refresh_request(const std::string& state_dir);

struct RefreshOptions {
  std::vector<std::string> config_paths;  // -c: where state_dir is configured
  std::string state_dir;                  // --state-dir wins
  std::string target;                     // DEPENDENCY or DESTINATION; empty: everything
};

// Returns 0 when the daemon was asked, 1 when none runs there, 2 on a configuration error.
int run_refresh_command(const RefreshOptions& options);

}  // namespace templet
