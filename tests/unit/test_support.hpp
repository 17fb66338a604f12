// What the integration tests share: temporary directories, file helpers, a `templet` child
// process with its output captured, HTTP calls to the emulators' control API, polling, a
// sampler that reads a destination while a fault lasts, and the Vault + Consul emulator pair.
// Header-only: each test file includes what it uses.
//
// Whatever templet prints through TempletProcess or run_shell, and the state_dir it used, is
// kept in the artifacts directory for the leak scan (test_artifacts.hpp); a test that runs
// templet another way must call keep_output itself.
#pragma once

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.hpp"
#include "tests/unit/emulator_process.hpp"
#include "tests/unit/test_artifacts.hpp"

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

// The names of the entries in `dir`, sorted: what a stop or a write left next to a destination.
inline std::vector<std::string> names_in(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

// The state_dir of a templet command line: `--state-dir DIR`, or the last `state_dir` of the
// config files named by -c (a directory stands for its *.yaml files in name order).
inline std::vector<std::filesystem::path> state_dirs_of(const std::vector<std::string>& args) {
  namespace fs = std::filesystem;
  std::vector<fs::path> dirs;
  std::string from_config;
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--state-dir") dirs.push_back(args[i + 1]);
    if (args[i] != "-c" && args[i] != "--config") continue;
    std::vector<fs::path> files;
    std::error_code ec;
    if (fs::is_directory(args[i + 1], ec)) {
      for (const auto& e : fs::directory_iterator(args[i + 1], ec))
        if (e.path().extension() == ".yaml") files.push_back(e.path());
      std::sort(files.begin(), files.end());
    } else {
      files.push_back(args[i + 1]);
    }
    for (const auto& f : files) {
      try {
        YAML::Node n = YAML::LoadFile(f.string());
        if (n.IsMap() && n["state_dir"]) from_config = n["state_dir"].as<std::string>();
      } catch (const std::exception&) {
        // A test of a broken config: templet will refuse it, so it keeps no state.
      }
    }
  }
  if (!from_config.empty()) dirs.push_back(from_config);
  return dirs;
}

// The state_dirs of a command line, each with whether it existed before the command ran, and
// their modes kept once it has (see keep_state_modes).
struct StateDirsOf {
  std::vector<std::pair<std::filesystem::path, bool>> dirs;
  explicit StateDirsOf(const std::vector<std::string>& args) {
    for (const auto& d : state_dirs_of(args)) dirs.emplace_back(d, std::filesystem::exists(d));
  }
  void keep() const {
    for (const auto& [d, existed] : dirs) keep_state_modes(d, !existed);
  }
};

// One `templet` child process with its stdout and stderr in files (in the artifacts directory
// when there is one, else in `dir`). `launcher`, when given, is a command (absolute path first)
// that runs templet in its place, e.g. nsenter into a namespace; it must exec templet so that
// `pid` is templet's.
struct TempletProcess {
  pid_t pid = -1;
  int status = -1;
  std::filesystem::path out, err;
  StateDirsOf state_dirs;

  TempletProcess(const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env, const std::filesystem::path& dir,
                 const std::vector<std::string>& launcher = {})
      : state_dirs(args) {
    static int n = 0;
    ++n;
    std::string kept = new_artifact("output").string();
    if (kept.empty()) kept = (dir / std::to_string(n)).string();
    out = kept + ".stdout";
    err = kept + ".stderr";
    std::vector<std::string> envs;
    for (char** e = environ; *e; ++e) {
      std::string s = *e;
      if (s.rfind("VAULT_", 0) == 0 || s.rfind("CONSUL_", 0) == 0) continue;
      envs.push_back(s);
    }
    for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
    std::vector<std::string> argv = launcher;
    argv.push_back(TEMPLET_BINARY);
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
      state_dirs.keep();
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
        state_dirs.keep();
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

// The result of a shell command line: its exit status, stdout and stderr.
struct ShellRun {
  int status = -1;
  std::string out, err;
};

// Runs `command` with /bin/sh (typically the built templet with some arguments) and captures
// stdout and stderr apart; both are kept for the leak scan, and so is the state_dir a
// `--state-dir DIR` or `-c FILE` among its words names.
inline ShellRun run_shell(const std::string& command) {
  std::vector<std::string> words;
  std::istringstream split(command);
  for (std::string w; split >> w;) words.push_back(w);
  StateDirsOf state_dirs(words);
  char err_path[] = "/tmp/templet-shell-err-XXXXXX";
  int fd = ::mkstemp(err_path);
  if (fd >= 0) ::close(fd);
  ShellRun r;
  std::fflush(stdout);
  FILE* p = ::popen((command + " 2>" + err_path).c_str(), "r");
  if (p != nullptr) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    int st = ::pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  r.err = slurp(err_path);
  std::remove(err_path);
  keep_output(r.out, "stdout");
  keep_output(r.err, "stderr");
  state_dirs.keep();
  return r;
}

// One HTTP exchange with an emulator (its control API or the emulated one).
inline templet::HttpResponse call(const EmulatorProcess& e, const std::string& method,
                                  const std::string& path, const std::string& body = "") {
  templet::HttpRequest req;
  req.method = method;
  req.url = e.url() + path;
  req.body = body;
  return templet::make_http_client({e.tls_cert, true, "", ""})->send(req);
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

// Reads `path` from a thread, as often as it can, until stopped; remembers every distinct
// content it saw (an absent file is not a content, but is counted).
class DestinationSampler {
 public:
  explicit DestinationSampler(std::filesystem::path path)
      : path_(std::move(path)), thread_([this] { run(); }) {}
  ~DestinationSampler() { stop(); }
  DestinationSampler(const DestinationSampler&) = delete;
  DestinationSampler& operator=(const DestinationSampler&) = delete;

  void stop() {
    if (!stopping_.exchange(true)) thread_.join();
  }
  std::set<std::string> contents() const {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }
  long reads() const { return reads_; }
  long absences() const { return absences_; }  // reads that found no file

 private:
  void run() {
    while (!stopping_) {
      int fd = ::open(path_.c_str(), O_RDONLY);
      if (fd >= 0) {
        std::string text;
        char buf[4096];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
        ::close(fd);
        std::lock_guard<std::mutex> lock(mu_);
        seen_.insert(text);
      } else {
        ++absences_;
      }
      ++reads_;
      std::this_thread::sleep_for(1ms);
    }
  }

  std::filesystem::path path_;
  std::atomic<bool> stopping_{false};
  std::atomic<long> reads_{0}, absences_{0};
  mutable std::mutex mu_;
  std::set<std::string> seen_;
  std::thread thread_;  // last: starts once everything above exists
};

// A `run` config: state_dir DIR/state (never the system default, which a test must not touch),
// the `extra` YAML lines, then one template per (contents, destination), contents in single
// quotes.
inline std::string config_yaml(
    const std::filesystem::path& dir,
    const std::vector<std::pair<std::string, std::filesystem::path>>& templates,
    const std::string& extra = "") {
  std::string yaml = "state_dir: " + (dir / "state").string() + "\n" + extra + "templates:\n";
  for (const auto& [contents, dest] : templates)
    yaml += "  - contents: '" + contents + "'\n    destination: " + dest.string() + "\n";
  return yaml;
}

// (a): every content sampled is a complete, valid one. A bad sample is described by its size
// only, since it may hold a secret. `min_reads` says the sampler did sample all along the fault.
inline void check_never_torn(DestinationSampler& sampler,
                             const std::function<bool(const std::string&)>& valid,
                             long min_reads = 100) {
  sampler.stop();
  CHECK(sampler.reads() > min_reads);
  for (const auto& c : sampler.contents()) {
    INFO("a sample of " << c.size() << " bytes is not a complete content");
    CHECK(valid(c));
  }
}

inline std::function<bool(const std::string&)> one_of(std::set<std::string> valid) {
  return [valid = std::move(valid)](const std::string& c) { return valid.count(c) > 0; };
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
