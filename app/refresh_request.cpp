// `templet refresh` and its daemon side (see refresh_request.hpp).
//
// A pid file and a signal rather than a socket: a signal reaches the daemon whatever it is busy
// with, and the request file carries the one argument a signal cannot. A stale pid file (the
// daemon died without removing it) is noticed by kill(pid, 0) failing.
#include "app/refresh_request.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/config.hpp"
#include "sys/private_files.hpp"

namespace templet {

namespace {

std::string pid_path(const std::string& state_dir) {
  return state_dir + "/templet.pid";
}
std::string request_path(const std::string& state_dir) {
  return state_dir + "/refresh-request";
}

std::string slurp_trimmed(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

void write_pid_file(const std::string& state_dir) {
  ensure_private_dir(state_dir, false);
  write_private_file(pid_path(state_dir), std::to_string(::getpid()) + "\n");
}

void remove_pid_file(const std::string& state_dir) {
  if (slurp_trimmed(pid_path(state_dir)) == std::to_string(::getpid()))
    ::unlink(pid_path(state_dir).c_str());
}

std::string take_refresh_request(const std::string& state_dir) {
  std::string path = request_path(state_dir);
  std::string target = slurp_trimmed(path);
  ::unlink(path.c_str());
  return target;
}

int run_refresh_command(const RefreshOptions& o) {
  std::string state_dir = o.state_dir;
  if (state_dir.empty()) {
    try {
      Config config = load_config(o.config_paths);
      finalize_config(config);
      state_dir = *config.state_dir;
    } catch (const ConfigError& e) {
      std::cerr << "templet: " << e.what() << "\n";
      return 2;
    }
  }
  std::string pid_text = slurp_trimmed(pid_path(state_dir));
  long pid = 0;
  try {
    pid = pid_text.empty() ? 0 : std::stol(pid_text);
  } catch (const std::exception&) {
  }
  if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) != 0) {
    std::cerr << "templet: refresh: no running templet daemon for state_dir " << state_dir << " ("
              << pid_path(state_dir)
              << (pid <= 0 ? " is missing)" : " names a process that is gone)") << "\n";
    return 1;
  }
  try {
    write_private_file(request_path(state_dir), o.target + "\n");
  } catch (const std::exception& e) {
    std::cerr << "templet: refresh: " << e.what() << "\n";
    return 1;
  }
  if (::kill(static_cast<pid_t>(pid), SIGUSR1) != 0) {
    std::cerr << "templet: refresh: signal to pid " << pid << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  std::cout << "asked templet (pid " << pid << ") to refresh "
            << (o.target.empty() ? std::string("everything") : o.target) << "\n";
  return 0;
}

}  // namespace templet
