// Starts one of the Python emulators (tests/emulators/NAME.py) on a random port for a test, and
// talks to its control API (/_emulator/...). Shared by the tests that need live servers.
//
// `available()` is false when python3 or the script is missing: such tests skip with a warning.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "net/http_client.hpp"

#ifndef TEMPLET_SOURCE_DIR
#define TEMPLET_SOURCE_DIR "."
#endif

namespace templet::testing {

struct EmulatorProcess {
  pid_t pid = -1;
  int port = 0;
  std::string dir;

  // `seed`: JSON applied at start-up (--seed-file), or empty.
  explicit EmulatorProcess(const std::string& name, const std::string& seed = "") {
    std::string script = std::string(TEMPLET_SOURCE_DIR) + "/tests/emulators/" + name + ".py";
    if (!std::filesystem::exists(script) || ::access("/usr/bin/python3", X_OK) != 0) return;
    char tmpl[] = "/tmp/templet-emu-XXXXXX";
    dir = ::mkdtemp(tmpl);
    std::string port_file = dir + "/port";
    std::string seed_file = dir + "/seed.json";
    if (!seed.empty()) std::ofstream(seed_file) << seed;
    pid = ::fork();
    if (pid == 0) {
      if (seed.empty())
        ::execl("/usr/bin/python3", "python3", script.c_str(), "--port-file", port_file.c_str(),
                static_cast<char*>(nullptr));
      else
        ::execl("/usr/bin/python3", "python3", script.c_str(), "--port-file", port_file.c_str(),
                "--seed-file", seed_file.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 200 && port == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::ifstream in(port_file);
      in >> port;
    }
  }
  ~EmulatorProcess() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
  EmulatorProcess(const EmulatorProcess&) = delete;
  EmulatorProcess& operator=(const EmulatorProcess&) = delete;

  bool available() const { return port != 0; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port); }
  std::string url() const { return "http://" + address(); }

  // One HTTP exchange with the emulator (control API or the emulated one).
  HttpResponse call(const std::string& method, const std::string& path,
                    const std::string& body = "",
                    std::vector<std::pair<std::string, std::string>> headers = {}) const {
    HttpRequest req;
    req.method = method;
    req.url = url() + path;
    req.body = body;
    req.headers = std::move(headers);
    return make_curl_client()->send(req);
  }
  nlohmann::json json(const std::string& method, const std::string& path,
                      const std::string& body = "") const {
    return nlohmann::json::parse(call(method, path, body).body);
  }
  // The request log entries whose path matches `path_regex` (and method, when given).
  nlohmann::json requests(const std::string& path_regex, const std::string& method = "") const {
    std::string q = "/_emulator/requests?path_regex=" + path_regex;
    if (!method.empty()) q += "&method=" + method;
    return json("GET", q);
  }
  nlohmann::json state() const { return json("GET", "/_emulator/state"); }
  void seed(const nlohmann::json& j) const { call("POST", "/_emulator/seed", j.dump()); }
};

}  // namespace templet::testing
