// Runs a program with text on its stdin and its stdout and stderr captured apart.
//
// For tools whose output is parsed (manage.py ds list): unlike run_command, which interleaves
// both streams for a log, the two are kept separate, and stdin or the environment can carry
// data that must not appear in argv (any local user can read a process's argv in /proc). No
// shell; the process gets its own group, killed on timeout.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace templet {

struct ProcessResult {
  bool started = false;
  bool timed_out = false;
  int exit_code = -1;  // -1 when it could not start, was killed or died by a signal
  std::string out;
  std::string err;
  std::string error;  // why it could not start
};

// `extra_env` is added to templet's own environment (replacing variables of the same name).
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input,
                          std::chrono::milliseconds timeout,
                          const std::map<std::string, std::string>& extra_env = {});

// templet's environment with `extra` added, as NAME=VALUE strings for exec.
std::vector<std::string> environment_with(const std::map<std::string, std::string>& extra);

}  // namespace templet
