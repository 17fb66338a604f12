// A Python emulator (tests/emulators/NAME.py) run as a child process on a random port for the
// length of a test, plus a small client for its /_emulator/ control API. `port` stays 0 when
// python3 or the emulator is missing, so a test can skip itself.
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

namespace templet_test {

struct Emulator {
  pid_t pid = -1;
  int port = 0;
  std::string dir;

  explicit Emulator(const std::string& name) {
    using namespace std::chrono_literals;
    std::string script = std::string(TEMPLET_SOURCE_DIR) + "/tests/emulators/" + name + ".py";
    if (!std::filesystem::exists(script) || ::access("/usr/bin/python3", X_OK) != 0) return;
    char tmpl[] = "/tmp/templet-emu-XXXXXX";
    dir = ::mkdtemp(tmpl);
    std::string port_file = dir + "/port";
    pid = ::fork();
    if (pid == 0) {
      ::execl("/usr/bin/python3", "python3", script.c_str(), "--port-file", port_file.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 200 && port == 0; ++i) {
      std::this_thread::sleep_for(50ms);
      std::ifstream in(port_file);
      in >> port;
    }
  }
  ~Emulator() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }

  // A control call (/_emulator/PATH); the answer's JSON body, or null when it has none.
  nlohmann::json control(const std::string& method, const std::string& path,
                         const nlohmann::json& body = nullptr) const {
    auto http = templet::make_curl_client();
    templet::HttpRequest req;
    req.method = method;
    req.url = url() + "/_emulator/" + path;
    if (!body.is_null()) {
      req.body = body.dump();
      req.headers.emplace_back("Content-Type", "application/json");
    }
    templet::HttpResponse resp = http->send(req);
    if (resp.status >= 300)
      throw std::runtime_error("emulator control " + path + ": " + std::to_string(resp.status) +
                               " " + resp.body);
    if (resp.body.empty()) return nullptr;
    return nlohmann::json::parse(resp.body);
  }
};

}  // namespace templet_test
