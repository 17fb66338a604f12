// Starts one of the Python emulators (tests/emulators/NAME.py) on a random port for a test and
// stops it afterwards. `port` stays 0 when python3 or the script is missing: tests then skip.
// With an artifacts directory (test_artifacts.hpp) the emulator records there every secret it
// issues or accepts, for the leak scan.
#pragma once

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/test_artifacts.hpp"

#ifndef TEMPLET_SOURCE_DIR
#define TEMPLET_SOURCE_DIR "."
#endif

namespace templet::testing {

struct EmulatorProcess {
  pid_t pid = -1;
  int port = 0;
  std::string dir;

  std::string scheme = "http";
  std::string tls_cert;  // with https: the certificate, which a client must trust

  // `seed_json`, when not empty, is written to a file and passed as --seed-file (applied at
  // start and on every /_emulator/reset). `fixed_port` > 0 binds that port instead of a random
  // one (a test that starts templet before the server listens picks it beforehand). With
  // `tls` (a PEM certificate and key), it serves https.
  explicit EmulatorProcess(const std::string& name, const std::string& seed_json = "",
                           int fixed_port = 0, const std::string& artifacts = artifacts_dir(),
                           const std::pair<std::string, std::string>& tls = {}) {
    using namespace std::chrono_literals;
    std::string script = std::string(TEMPLET_SOURCE_DIR) + "/tests/emulators/" + name + ".py";
    if (!std::filesystem::exists(script) || ::access("/usr/bin/python3", X_OK) != 0) return;
    char tmpl[] = "/tmp/templet-emu-XXXXXX";
    dir = ::mkdtemp(tmpl);
    std::string port_file = dir + "/port";
    std::string seed_file = dir + "/seed.json";
    std::vector<std::string> args = {"python3", script, "--port-file", port_file};
    if (!seed_json.empty()) {
      std::ofstream(seed_file) << seed_json;
      args.insert(args.end(), {"--seed-file", seed_file});
    }
    if (fixed_port > 0) args.insert(args.end(), {"--port", std::to_string(fixed_port)});
    if (!artifacts.empty()) args.insert(args.end(), {"--artifacts-dir", artifacts});
    if (!tls.first.empty()) {
      args.insert(args.end(), {"--tls-cert", tls.first, "--tls-key", tls.second});
      scheme = "https";
      tls_cert = tls.first;
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid = ::fork();
    if (pid == 0) {
      // A test process that dies without unwinding (a sanitizer's halt_on_error) takes its
      // emulators with it: one left running holds ctest's output pipe, and ctest waits on it
      // until the test's timeout.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      ::execv("/usr/bin/python3", argv.data());
      ::_exit(127);
    }
    for (int i = 0; i < 100 && port == 0; ++i) {
      std::this_thread::sleep_for(50ms);
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
  std::string url() const { return scheme + "://127.0.0.1:" + std::to_string(port); }
};

}  // namespace templet::testing
