// What the integration tests share: temporary directories, file helpers, a `templet` child
// process with its output captured, HTTP calls to the emulators' control API, polling, and the
// Vault + Consul emulator pair. Header-only: each test file includes what it uses.
#pragma once

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.hpp"
#include "tests/unit/emulator_process.hpp"

#ifndef TEMPLET_BINARY
#define TEMPLET_BINARY "templet"
#endif

extern char** environ;

namespace templet::testing {

using namespace std::chrono_literals;

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix = "templet-test") {
    std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
    path = ::mkdtemp(tmpl.data());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() { std::filesystem::remove_all(path); }
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void spit(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

inline unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 07777;
}

// One `templet` child process with its stdout and stderr in files.
struct TempletProcess {
  pid_t pid = -1;
  int status = -1;
  std::filesystem::path out, err;

  TempletProcess(const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env, const std::filesystem::path& dir) {
    static int n = 0;
    ++n;
    out = dir / ("stdout." + std::to_string(n));
    err = dir / ("stderr." + std::to_string(n));
    std::vector<std::string> envs;
    for (char** e = environ; *e; ++e) {
      std::string s = *e;
      if (s.rfind("VAULT_", 0) == 0 || s.rfind("CONSUL_", 0) == 0) continue;
      envs.push_back(s);
    }
    for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
    std::vector<std::string> argv = {TEMPLET_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    std::fflush(stdout);  // or the child's exit would print the parent's buffered output again
    std::fflush(stderr);
    pid = ::fork();
    if (pid == 0) {
      FILE* o = std::freopen(out.c_str(), "w", stdout);
      FILE* e = std::freopen(err.c_str(), "w", stderr);
      (void)o;
      (void)e;
      std::vector<char*> a, ev;
      for (auto& s : argv) a.push_back(s.data());
      a.push_back(nullptr);
      for (auto& s : envs) ev.push_back(s.data());
      ev.push_back(nullptr);
      ::execve(a[0], a.data(), ev.data());
      ::_exit(127);
    }
  }
  ~TempletProcess() {
    if (pid > 0 && status == -1) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  // The exit status, or -1 when still running after `limit`.
  int wait(std::chrono::milliseconds limit) {
    if (status != -1) return status;
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      int st = 0;
      if (::waitpid(pid, &st, WNOHANG) == pid) {
        status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return status;
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }
  void signal(int sig) const { ::kill(pid, sig); }
  std::string stdout_text() const { return slurp(out); }
  std::string stderr_text() const { return slurp(err); }
};

// One HTTP exchange with an emulator (its control API or the emulated one).
inline templet::HttpResponse call(const EmulatorProcess& e, const std::string& method,
                                  const std::string& path, const std::string& body = "") {
  templet::HttpRequest req;
  req.method = method;
  req.url = e.url() + path;
  req.body = body;
  return templet::make_curl_client()->send(req);
}

inline nlohmann::json call_json(const EmulatorProcess& e, const std::string& method,
                                const std::string& path) {
  return nlohmann::json::parse(call(e, method, path).body);
}

// The emulator's request log entries whose path matches `path_regex` and `method`.
inline nlohmann::json requests(const EmulatorProcess& e, const std::string& path_regex,
                               const std::string& method) {
  return call_json(e, "GET", "/_emulator/requests?path_regex=" + path_regex + "&method=" + method);
}

// Polls `pred` every 50 ms up to `limit`.
template <class F>
bool eventually(F pred, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

// The two emulators, a database role seeded in Vault and some Consul keys.
struct VaultAndConsul {
  EmulatorProcess vault;
  EmulatorProcess consul;
  explicit VaultAndConsul(const std::string& vault_seed = "", const std::string& consul_seed = "")
      : vault("vault", vault_seed.empty() ? kVaultSeed : vault_seed),
        consul("consul", consul_seed.empty() ? kConsulSeed : consul_seed) {}
  bool available() const { return vault.port != 0 && consul.port != 0; }
  std::map<std::string, std::string> env() const {
    return {{"VAULT_ADDR", vault.url()},
            {"VAULT_TOKEN", "root"},
            {"CONSUL_HTTP_ADDR", "127.0.0.1:" + std::to_string(consul.port)}};
  }
  void put_key(const std::string& key, const std::string& value) const {
    call(consul, "PUT", "/v1/kv/" + key, value);
  }
  // GET reads of database/creds/ROLE seen by the Vault emulator.
  size_t creds_reads(const std::string& role) const {
    return requests(vault, "^/v1/database/creds/" + role + "$", "GET").size();
  }
  // The live leases of the Vault emulator by username.
  std::map<std::string, nlohmann::json> leases_by_user() const {
    std::map<std::string, nlohmann::json> out;
    nlohmann::json state =
        call_json(vault, "GET", "/_emulator/state");  // kept alive for the loop below
    for (auto& [id, l] : state["leases"].items()) out[l.value("username", "")] = l;
    return out;
  }

  static constexpr const char* kVaultSeed = R"({"database_mounts": {"database": {"roles": {
      "readonly": {"default_ttl": 3600, "max_ttl": 86400},
      "short": {"default_ttl": 6, "max_ttl": 12}}}}})";
  static constexpr const char* kConsulSeed =
      R"({"kv": {"app/host": "db.internal", "app/n": "5", "app/json": "{\"a\": 1}"}})";
};

#define SKIP_WITHOUT_EMULATORS(s)             \
  if (!(s).available()) {                     \
    WARN("emulators not available; skipped"); \
    return;                                   \
  }

}  // namespace templet::testing
