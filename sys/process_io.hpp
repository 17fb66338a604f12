// Runs a program with text on its stdin and its stdout and stderr captured apart.
//
// For tools whose output is parsed (manage.py ds list): unlike run_command, which interleaves
// both streams for a log, the two are kept separate, and stdin or the environment can carry
// data that must not appear in argv (any local user can read a process's argv in /proc). No
// shell; the process gets its own group, killed on timeout.
#pragma once

#include <sys/types.h>

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

// Starts argv[0] (looked up in PATH) with these descriptors as its stdin (-1: /dev/null), stdout
// and stderr, `extra_env` added to templet's environment, every signal at its default and
// unblocked, in a process group of its own so that a timeout kills it and whatever it started.
// Returns 0 and sets `pid`, or the error number of the failure. Shared with run_command.
int spawn_in_own_group(const std::vector<std::string>& argv, int stdin_fd, int stdout_fd,
                       int stderr_fd, const std::map<std::string, std::string>& extra_env,
                       pid_t* pid);

// templet's environment with `extra` added, as NAME=VALUE strings for exec.
std::vector<std::string> environment_with(const std::map<std::string, std::string>& extra);

}  // namespace templet
