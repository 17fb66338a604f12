// Command hooks: run a program after its template's file changed (consul-template's `command`).
//
// The command runs without a shell when given as argv (a config string was already turned into
// /bin/sh -c). It gets a timeout after which its whole process group is killed, its output is
// captured for the log, and secrets reach it only through its environment, never its argv.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace templet {

struct CommandResult {
  int exit_code = -1;  // -1 when it could not start or was killed
  bool timed_out = false;
  bool started = false;
  std::string output;  // stdout and stderr, interleaved, at most 64 KiB kept
  std::string error;   // why it could not start
};

// Runs `argv` and waits for it, up to `timeout` (zero: do not wait, like consul-template's
// command_timeout = 0). `extra_env` is added to the process environment.
CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const std::map<std::string, std::string>& extra_env = {});

// The command as one line for logs: arguments quoted when they hold spaces.
std::string describe_command(const std::vector<std::string>& argv);

}  // namespace templet
