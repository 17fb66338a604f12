// The fault matrix of issue 8, local side: faults in writes, signals and apply hooks, each
// driven through the built CLI (`templet run`, `templet plan`, `templet apply redash|influxdb`)
// against the emulators. Every cell checks that the destination is never truncated or
// half-written (sampled while the fault lasts), that templet converges once the fault clears,
// that one clear log line names the fault, and that no secret reaches any output.
// docs/reliability.md lists the cells and these TEST_CASEs.
//
// Disk-full and read-only cells need a mount. They never touch the host's mount table: a
// sleeping process holds a private mount namespace with a small tmpfs (root with CAP_SYS_ADMIN:
// `unshare --mount`; anyone else: `unshare --user --map-root-user --mount`), templet runs in it
// through `nsenter`, and the test reaches the files through /proc/PID/root. When neither works
// (a container without those rights), those cells are skipped with a WARN saying why.
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <thread>

#include "tests/unit/test_support.hpp"

using namespace templet::testing;
using namespace std::chrono_literals;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// ---- Rendered contents whose every version is recognisable -------------------------------------

// A template rendering `blocks` x 500 lines (about 70 bytes each) around the Consul key big/v and
// a database password. The version is on each block's first line, so a file mixing two versions
// or cut short cannot pass for either.
std::string big_template(int blocks) {
  return "{{ with secret \"database/creds/readonly\" }}password={{ .Data.password }}{{ end }}\n"
         "{{ $v := key \"big/v\" }}{{ range $b := loop " +
         std::to_string(blocks) +
         " }}version={{ $v }} block={{ $b }}\n"
         "{{ range $i := loop 500 }}{{ $b }}.{{ $i }} "
         "the quick brown fox jumps over the lazy dog 0123456789abcdef\n"
         "{{ end }}{{ end }}";
}

std::string big_expected(const std::string& version, const std::string& password, int blocks) {
  std::string out = "password=" + password + "\n";
  for (int b = 0; b < blocks; ++b) {
    out += "version=" + version + " block=" + std::to_string(b) + "\n";
    for (int i = 0; i < 500; ++i)
      out += std::to_string(b) + "." + std::to_string(i) +
             " the quick brown fox jumps over the lazy dog 0123456789abcdef\n";
  }
  return out;
}

// Tells which version a whole, well-formed file holds; nullopt for anything else (empty, cut,
// mixed). Expected contents are built once per version, so a sampler can check often.
class Versions {
 public:
  Versions(std::string password, int blocks) : password_(std::move(password)), blocks_(blocks) {}
  std::optional<std::string> of(const std::string& text) {
    auto at = text.find("\nversion=");
    if (at == std::string::npos) return std::nullopt;
    auto end = text.find(' ', at);
    std::string v = text.substr(at + 9, end - at - 9);
    if (v.size() > 8) return std::nullopt;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = expected_.find(v);
    if (it == expected_.end()) it = expected_.emplace(v, big_expected(v, password_, blocks_)).first;
    if (text != it->second) return std::nullopt;
    return v;
  }
  const std::string& expected(const std::string& v) {
    of("\nversion=" + v + " ");  // caches it
    std::lock_guard<std::mutex> lock(mu_);
    return expected_.at(v);
  }

 private:
  std::string password_;
  int blocks_;
  std::mutex mu_;
  std::map<std::string, std::string> expected_;
};

// The database password the Vault emulator issued (the only lease of these tests).
std::string issued_password(const VaultAndConsul& s) {
  auto leases = s.leases_by_user();
  return leases.size() == 1 ? leases.begin()->second.value("password", "") : "";
}

// ---- Files and logs ----------------------------------------------------------------------------

// Names in `dir` that look like write_file's temporaries for `name`.
std::vector<std::string> temp_files(const fs::path& dir, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string n = e.path().filename();
    if (n.starts_with("." + name + ".templet-")) out.push_back(n);
  }
  return out;
}

size_t occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

void check_no_secret(const std::string& output, const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) {
    if (s.empty()) continue;
    INFO("secret " << s);
    CHECK(output.find(s) == std::string::npos);
  }
}

// inotify on one directory: tells when a file whose name starts with a prefix is created or
// renamed into place, to the microsecond, so a signal can be aimed at a write in progress.
class DirWatch {
 public:
  explicit DirWatch(const fs::path& dir) {
    fd_ = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    ::inotify_add_watch(fd_, dir.c_str(), IN_CREATE | IN_MOVED_TO);
  }
  ~DirWatch() { ::close(fd_); }
  DirWatch(const DirWatch&) = delete;
  DirWatch& operator=(const DirWatch&) = delete;

  // Waits for an event in `mask` on a name starting with `prefix`.
  bool wait_for(uint32_t mask, const std::string& prefix, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    alignas(inotify_event) char buf[4096];
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{fd_, POLLIN, 0};
      ::poll(&p, 1, 20);
      ssize_t n = ::read(fd_, buf, sizeof buf);
      for (ssize_t at = 0; n > 0 && at < n;) {
        auto* e = reinterpret_cast<inotify_event*>(buf + at);
        if ((e->mask & mask) && e->len > 0 && std::string(e->name).starts_with(prefix)) return true;
        at += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
      }
    }
    return false;
  }

 private:
  int fd_ = -1;
};

// ---- Processes ---------------------------------------------------------------------------------

std::string find_tool(const std::string& name) {
  for (const char* dir : {"/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"})
    if (::access((dir + name).c_str(), X_OK) == 0) return dir + name;
  return "";
}

// Starts argv (absolute path first) with its stdout and stderr in `output`; its pid.
pid_t spawn(const std::vector<std::string>& argv, const fs::path& output) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    ::execv(a[0], a.data());
    ::_exit(127);
  }
  return pid;
}

// Runs argv to completion; its exit status, and its output in `output`.
int run_tool(const std::vector<std::string>& argv, const fs::path& output) {
  pid_t pid = spawn(argv, output);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A tmpfs of `size` mounted at `dir` inside a private mount namespace held by a sleeping
// process; see the top of the file. TEMPLET_TEST_MOUNT=userns forces the user namespace.
class MountSandbox {
 public:
  MountSandbox(const fs::path& dir, const fs::path& work, const std::string& size) : dir_(dir) {
    fs::create_directories(dir);
    unshare_ = find_tool("unshare");
    nsenter_ = find_tool("nsenter");
    if (unshare_.empty() || nsenter_.empty() || find_tool("mount").empty()) {
      why_not_ = "unshare, nsenter or mount (util-linux) is missing";
      return;
    }
    const char* force = std::getenv("TEMPLET_TEST_MOUNT");
    bool only_userns = force && std::string(force) == "userns";
    for (bool userns : {false, true}) {
      if (!userns && only_userns) continue;
      if (start(userns, work, size)) return;
    }
  }
  ~MountSandbox() {
    if (holder_ > 0) {
      ::kill(holder_, SIGKILL);
      ::waitpid(holder_, nullptr, 0);
    }
  }
  MountSandbox(const MountSandbox&) = delete;
  MountSandbox& operator=(const MountSandbox&) = delete;

  bool available() const { return holder_ > 0; }
  const std::string& why_not() const { return why_not_; }
  std::string how() const { return userns_ ? "user and mount namespace" : "mount namespace"; }
  // The path templet uses for `name` (inside the namespace).
  fs::path inside(const std::string& name) const { return dir_ / name; }
  // The same file as this process reaches it.
  fs::path outside(const std::string& name = "") const {
    fs::path p = "/proc/" + std::to_string(holder_) + "/root" + dir_.string();
    return name.empty() ? p : p / name;
  }
  // Runs a command inside the namespace in place of the process that execs it.
  std::vector<std::string> launcher() const {
    std::vector<std::string> l = {nsenter_, "-t", std::to_string(holder_), "-m"};
    // Keep our uid (root inside the user namespace); without it nsenter calls setgroups, which
    // an unprivileged user namespace forbids.
    if (userns_) l.insert(l.end(), {"-U", "--preserve-credentials"});
    l.push_back("--");
    return l;
  }
  bool remount(bool read_only, const fs::path& work) const {
    auto argv = launcher();
    argv.insert(argv.end(),
                {find_tool("mount"), "-o", std::string("remount,bind,") + (read_only ? "ro" : "rw"),
                 dir_.string()});
    return run_tool(argv, work / "remount.out") == 0;
  }

 private:
  bool start(bool userns, const fs::path& work, const std::string& size) {
    fs::path ready = work / "sandbox.ready", err = work / "sandbox.err";
    fs::remove(ready);
    std::vector<std::string> argv = {unshare_, "--mount"};
    if (userns) argv.insert(argv.end(), {"--user", "--map-root-user"});
    argv.insert(argv.end(), {"--", "/bin/sh", "-c",
                             "mount -t tmpfs -o size=" + size +
                                 ",mode=0755 templet-test \"$0\" && : > \"$1\" && exec sleep 600",
                             dir_.string(), ready.string()});
    pid_t pid = spawn(argv, err);
    for (int i = 0; i < 200; ++i) {
      if (fs::exists(ready)) {
        holder_ = pid;
        userns_ = userns;
        return true;
      }
      if (::waitpid(pid, nullptr, WNOHANG) == pid) break;
      std::this_thread::sleep_for(25ms);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    std::string text = slurp(err);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    why_not_ += std::string(why_not_.empty() ? "" : "; ") + "unshare --mount" +
                (userns ? " --user --map-root-user" : "") + ": " +
                (text.empty() ? "no mount" : text);
    return false;
  }

  fs::path dir_;
  std::string unshare_, nsenter_;
  pid_t holder_ = -1;
  bool userns_ = false;
  std::string why_not_;
};

#define SKIP_WITHOUT_MOUNTS(sandbox)                                                \
  if (!(sandbox).available()) {                                                     \
    WARN("no private tmpfs can be mounted here, skipped: " << (sandbox).why_not()); \
    return;                                                                         \
  }

// The config of one big template; `extra` is added at the top level.
void write_big_config(const fs::path& p, const fs::path& destination, int blocks,
                      const std::string& extra = "") {
  spit(p / "big.tmpl", big_template(blocks));
  spit(p / "templet.yaml", "state_dir: " + (p / "state").string() + "\n" + extra +
                               "templates:\n  - source: " + (p / "big.tmpl").string() +
                               "\n    destination: " + destination.string() + "\n");
}

std::vector<std::string> run_args(const fs::path& p, std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {"run", "-c", (p / "templet.yaml").string()};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// ---- Emulator control --------------------------------------------------------------------------

json control(const EmulatorProcess& e, const std::string& method, const std::string& path,
             const json& body = nullptr) {
  auto r = call(e, method, "/_emulator/" + path, body.is_null() ? "" : body.dump());
  return r.body.empty() ? json() : json::parse(r.body);
}

json redash_datasource(const EmulatorProcess& redash, int64_t id) {
  json state = control(redash, "GET", "state");
  for (const auto& d : state["data_sources"])
    if (d["id"] == id) return d;
  return nullptr;
}

size_t count_named(const EmulatorProcess& redash, const std::string& name) {
  size_t n = 0;
  json state = control(redash, "GET", "state");
  for (const auto& d : state["data_sources"])
    if (d["name"] == name) ++n;
  return n;
}

}  // namespace

// ---- Apply hooks -------------------------------------------------------------------------------

TEST_CASE("faults: Redash 502 on one datasource mid-apply: the rest applied, then converges",
          "[faults]") {
  VaultAndConsul s;
  EmulatorProcess redash("redash", R"({"data_sources": [
      {"id": 1, "name": "ds-a", "type": "pg", "options": {"host": "old.internal", "dbname": "app", "password": "Old-Pw-1"}},
      {"id": 2, "name": "ds-b", "type": "pg", "options": {"host": "old.internal", "dbname": "app", "password": "Old-Pw-1"}},
      {"id": 3, "name": "ds-c", "type": "pg", "options": {"host": "old.internal", "dbname": "app", "password": "Old-Pw-1"}},
      {"id": 4, "name": "ds-d", "type": "pg", "options": {"host": "old.internal", "dbname": "app", "password": "Old-Pw-1"}}]})");
  SKIP_WITHOUT_EMULATORS(s);
  if (redash.port == 0) {
    WARN("redash emulator not available; skipped");
    return;
  }
  TempDir d;
  auto p = d.path;
  const fs::path dest = p / "datasources.yaml";
  spit(p / "ds.tmpl",
       "managed_datasources:\n"
       "{{- with secret \"database/creds/readonly\" }}{{ $pw := .Data.password }}\n"
       "{{- range $n := split \",\" \"a,b,c,d,e\" }}\n"
       "  - name: ds-{{ $n }}\n"
       "    type: pg\n"
       "    options: {host: {{ key \"app/host\" }}, dbname: app, password: \"{{ $pw }}\"}\n"
       "{{- end }}{{ end }}\n");
  spit(p / "templet.yaml", "state_dir: " + (p / "state").string() +
                               "\nretry: {backoff: 200ms, max_backoff: 400ms}\n"
                               "templates:\n  - source: " +
                               (p / "ds.tmpl").string() + "\n    destination: " + dest.string() +
                               "\n    apply:\n      redash: {url: \"" + redash.url() +
                               "\", ready_timeout: 500ms, verify: off}\n");
  auto env = s.env();
  env["REDASH_API_KEY"] = "admin-api-key";
  // A proxy in front of Redash fails every write of datasource 2 until the fault is cleared.
  control(redash, "POST", "fault",
          {{"path_regex", "^/api/data_sources/2$"},
           {"method", "POST"},
           {"status", 502},
           {"content_type", "text/plain"},
           {"body", "upstream prematurely closed connection\n"}});

  TempletProcess t(run_args(p), env, p);
  // The rendered file is written once, whole, before the apply, and stays as it is.
  REQUIRE(eventually([&] { return fs::exists(dest); }, 20s));
  const std::string rendered = slurp(dest);
  CHECK(occurrences(rendered, "  - name: ds-") == 5);
  DestinationSampler sampler(dest);
  const std::string failure = "failed \"ds-b\": POST /api/data_sources/2: Redash at " +
                              redash.url() +
                              " answered 502 until the ready timeout (500ms): upstream prematurely "
                              "closed connection";
  REQUIRE(eventually([&] { return t.stderr_text().find(failure) != std::string::npos; }, 15s));
  // Everything else in the plan was applied, and the result says so.
  for (int64_t id : {1, 3, 4})
    CHECK(redash_datasource(redash, id)["options"]["host"] == "db.internal");
  CHECK(redash_datasource(redash, 2)["options"]["host"] == "old.internal");
  CHECK(count_named(redash, "ds-e") == 1);
  std::string err = t.stderr_text();
  CHECK(err.find("updated \"ds-a\"") != std::string::npos);
  CHECK(err.find("created \"ds-e\"") != std::string::npos);

  // While the fault lasts, `templet plan` (read-only) shows exactly what is still to do.
  TempletProcess plan({"plan", "-c", (p / "templet.yaml").string()}, env, p);
  REQUIRE(plan.wait(20s) == 0);
  std::string planned = plan.stdout_text();
  INFO(planned);
  CHECK(planned.find("  unchanged \"ds-a\"\n  update \"ds-b\"\n") != std::string::npos);
  CHECK(planned.find("  unchanged \"ds-e\"\n") != std::string::npos);

  // The daemon keeps retrying without logging the same failure again.
  auto posts = [&] { return requests(redash, "^/api/data_sources/2$", "POST").size(); };
  size_t before = posts();
  REQUIRE(eventually([&] { return posts() >= before + 2; }, 10s));
  CHECK(occurrences(t.stderr_text(), failure) == 1);

  // The fault clears: the daemon converges without any change of data.
  control(redash, "POST", "clear_faults");
  CHECK(eventually([&] { return redash_datasource(redash, 2)["options"]["host"] == "db.internal"; },
                   10s));
  CHECK(eventually(
      [&] { return t.stderr_text().find("recovered from the failure above") != std::string::npos; },
      5s));
  TempletProcess again({"plan", "-c", (p / "templet.yaml").string()}, env, p);
  REQUIRE(again.wait(20s) == 0);
  CHECK(occurrences(again.stdout_text(), "  unchanged \"ds-") == 5);
  check_never_torn(sampler, one_of({rendered}));
  CHECK(sampler.absences() == 0);

  t.signal(SIGKILL);
  t.wait(5s);
  std::string everything = t.stdout_text() + t.stderr_text() + planned + plan.stderr_text() +
                           again.stdout_text() + again.stderr_text();
  check_no_secret(everything, {issued_password(s), "admin-api-key", "Old-Pw-1"});
}

TEST_CASE("faults: Redash request hangs past the timeout mid-apply: not resent, converges",
          "[faults]") {
  EmulatorProcess redash("redash", R"({"data_sources": [
      {"id": 1, "name": "ds-a", "type": "pg", "options": {"host": "old.internal", "password": "Pw-A-0"}},
      {"id": 2, "name": "ds-b", "type": "pg", "options": {"host": "old.internal", "password": "Pw-B-0"}},
      {"id": 3, "name": "ds-c", "type": "pg", "options": {"host": "old.internal", "password": "Pw-C-0"}}]})");
  if (redash.port == 0) {
    WARN("redash emulator not available; skipped");
    return;
  }
  TempDir d;
  auto p = d.path;
  spit(
      p / "ds.yaml",
      "managed_datasources:\n"
      "  - {name: ds-a, type: pg, options: {host: new.internal, dbname: a, password: Pw-A-1}}\n"
      "  - {name: ds-b, type: pg, options: {host: new.internal, dbname: b, password: Pw-B-1}}\n"
      "  - {name: ds-c, type: pg, options: {host: new.internal, dbname: c, password: Pw-C-1}}\n"
      "  - {name: ds-new, type: pg, options: {host: new.internal, dbname: n, password: Pw-N-1}}\n");
  // Redash takes 3 s over the update of ds-b and over the create, then carries both out.
  for (const char* path : {"^/api/data_sources/2$", "^/api/data_sources$"})
    control(redash, "POST", "fault",
            {{"path_regex", path}, {"method", "POST"}, {"delay_ms", 3000}, {"count", 1}});
  std::map<std::string, std::string> env = {{"REDASH_URL", redash.url()},
                                            {"REDASH_API_KEY", "admin-api-key"}};
  auto apply = [&] {
    auto t = std::make_unique<TempletProcess>(
        std::vector<std::string>{"apply", "redash", (p / "ds.yaml").string(), "--state-dir",
                                 (p / "state").string(), "--request-timeout", "1s", "--verify",
                                 "off"},
        env, p);
    t->wait(30s);
    return t;
  };

  auto started = std::chrono::steady_clock::now();
  auto first = apply();
  auto took = std::chrono::steady_clock::now() - started;
  std::string out = first->stdout_text();
  INFO(out << first->stderr_text());
  CHECK(first->status == 1);
  CHECK(took < 3s);  // two 1 s timeouts, nothing waited for or resent
  const std::string timed_out = " no answer from Redash at " + redash.url() +
                                " within 1s; not resent, as Redash may have applied it\n";
  CHECK(out.find("  updated \"ds-a\": id 1\n  failed \"ds-b\": POST /api/data_sources/2:" +
                 timed_out + "  updated \"ds-c\": id 3\n  failed \"ds-new\": POST " +
                 "/api/data_sources:" + timed_out) != std::string::npos);
  CHECK(requests(redash, "^/api/data_sources/2$", "POST").size() == 1);
  CHECK(requests(redash, "^/api/data_sources$", "POST").size() == 1);

  // Redash finishes the two slow requests on its own; the next runs converge on what it did,
  // without a duplicate datasource.
  REQUIRE(eventually([&] { return count_named(redash, "ds-new") == 1; }, 5s));
  REQUIRE(eventually(
      [&] { return redash_datasource(redash, 2)["options"]["host"] == "new.internal"; }, 5s));
  auto second = apply();
  CHECK(second->status == 0);
  auto third = apply();
  CHECK(third->status == 0);
  const std::string unchanged =
      "  unchanged \"ds-a\"\n  unchanged \"ds-b\"\n  unchanged \"ds-c\"\n  unchanged \"ds-new\"\n";
  CHECK(third->stdout_text() == "redash plan for " + (p / "ds.yaml").string() + " -> " +
                                    redash.url() + "\n" + unchanged + unchanged);
  CHECK(count_named(redash, "ds-new") == 1);
  CHECK(redash_datasource(redash, 2)["options"]["password"] == "Pw-B-1");
  check_no_secret(out + first->stderr_text() + second->stdout_text() + second->stderr_text() +
                      third->stdout_text() + third->stderr_text(),
                  {"Pw-A-1", "Pw-B-1", "Pw-C-1", "Pw-N-1", "Pw-A-0", "admin-api-key"});
}

TEST_CASE("faults: InfluxDB 500 on one task of many: the others applied, then converges",
          "[faults]") {
  EmulatorProcess influx("influxdb");
  if (influx.port == 0) {
    WARN("influxdb emulator not available; skipped");
    return;
  }
  auto flux = [](const std::string& name, const std::string& bucket) {
    return "option task = {name: \"" + name + "\", every: 1h}\n\nfrom(bucket: \"" + bucket +
           "\")\n    |> range(start: -task.every)\n";
  };
  json tasks = json::array();
  for (int i = 1; i <= 6; ++i)
    tasks.push_back({{"flux", flux("t" + std::to_string(i), "old")}, {"org", "myorg"}});
  std::vector<std::string> ids = control(influx, "POST", "seed", {{"tasks", tasks}})["task_ids"];
  REQUIRE(ids.size() == 6);
  TempDir d;
  auto p = d.path;
  std::string rendered;
  for (int i = 1; i <= 8; ++i)
    rendered += (i > 1 ? "---\n" : "") + flux("t" + std::to_string(i), "new");
  spit(p / "tasks.flux", rendered);
  control(
      influx, "POST", "fault",
      {{"path_regex", "^/api/v2/tasks/" + ids[2] + "$"},
       {"method", "PATCH"},
       {"status", 500},
       {"body", R"({"code":"internal error","message":"failed to update task: disk I/O error"})"}});
  std::map<std::string, std::string> env = {{"INFLUXDB_TOKEN", "admin-token"}};
  std::vector<std::string> args = {
      "apply", "influxdb", (p / "tasks.flux").string(), "--url", influx.url(), "--org", "myorg"};

  auto result = [](const TempletProcess& t) {
    std::string out = t.stdout_text();
    return out.substr(std::min(out.size(), out.find("influxdb apply result:\n")));
  };
  TempletProcess first(args, env, p);
  REQUIRE(first.wait(30s) == 1);
  std::string out = first.stdout_text();
  INFO(out);
  CHECK(out.find("  failed \"t3\": PATCH /api/v2/tasks/" + ids[2] +
                 ": 500 failed to update task: disk I/O error\n") != std::string::npos);
  CHECK(occurrences(result(first), "  updated \"t") == 5);
  CHECK(occurrences(result(first), "  created \"t") == 2);
  CHECK(first.stderr_text() == "templet apply influxdb: not every task was applied\n");
  json state = control(influx, "GET", "state");
  for (const auto& t : state["tasks"])
    CHECK(t["flux"] == flux(t["name"], t["name"] == "t3" ? "old" : "new"));

  control(influx, "POST", "clear_faults");
  TempletProcess second(args, env, p);
  REQUIRE(second.wait(30s) == 0);
  CHECK(result(second).find("  updated \"t3\": task " + ids[2] + "\n") != std::string::npos);
  CHECK(occurrences(result(second), "  unchanged \"t") == 7);
  TempletProcess third(args, env, p);
  REQUIRE(third.wait(30s) == 0);
  CHECK(occurrences(result(third), "  unchanged \"t") == 8);
  check_no_secret(out + first.stderr_text() + second.stdout_text() + second.stderr_text() +
                      third.stdout_text() + third.stderr_text(),
                  {"admin-token"});
}

// ---- Signals -----------------------------------------------------------------------------------

TEST_CASE("faults: SIGTERM during a write: exit 0, the whole new file, no temporary left",
          "[faults]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto p = d.path;
  const int blocks = 60;  // about 4 MB
  fs::create_directories(p / "out");
  const fs::path dest = p / "out" / "app.conf";
  write_big_config(p, dest, blocks);
  s.put_key("big/v", "1");
  // The first file comes from a quiet daemon (its diff would be the whole file), stopped while
  // idle.
  TempletProcess boot(run_args(p, {"--log-level", "warn"}), s.env(), p);
  REQUIRE(eventually([&] { return fs::exists(dest); }, 20s));
  const std::string password = issued_password(s);
  Versions versions(password, blocks);
  REQUIRE(eventually([&] { return versions.of(slurp(dest)) == "1"; }, 5s));
  boot.signal(SIGTERM);
  REQUIRE(boot.wait(5s) == 0);

  DestinationSampler sampler(dest);
  std::mt19937 rng(std::random_device{}());
  std::string outputs;
  for (int round = 2; round <= 3; ++round) {
    TempletProcess t(run_args(p), s.env(), p);
    DirWatch watch(p / "out");
    // Whether the daemon's first pass or its watch sees the new version, it writes it.
    s.put_key("big/v", std::to_string(round));
    REQUIRE(watch.wait_for(IN_CREATE, ".app.conf.templet-", 10s));
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));
    t.signal(SIGTERM);
    REQUIRE(t.wait(10s) == 0);
    INFO("round " << round << "\n" << t.stderr_text());
    // The write in progress was finished, not abandoned.
    CHECK(versions.of(slurp(dest)) == std::to_string(round));
    CHECK(temp_files(p / "out", "app.conf").empty());
    CHECK(occurrences(t.stderr_text(), "stopping on SIGTERM") == 1);
    outputs += t.stdout_text() + t.stderr_text();
  }
  // Two short rounds (SIGTERM now ends templet in milliseconds) of 4 MB reads, which take
  // milliseconds each under ASan: 83 reads there in one CI run, against the usual floor of 100.
  check_never_torn(
      sampler, [&](const std::string& text) { return versions.of(text).has_value(); }, 20);
  CHECK(sampler.absences() == 0);
  CHECK(names_in(p / "out") == std::vector<std::string>{"app.conf"});
  check_no_secret(outputs + boot.stderr_text(), {password});
}

TEST_CASE("faults: SIGKILL during a write: old or new file, never a mix, stale temporaries go",
          "[faults]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto p = d.path;
  const int blocks = 60;  // about 4 MB
  const fs::path out = p / "out";
  fs::create_directories(out);
  const fs::path dest = out / "app.conf";
  write_big_config(p, dest, blocks);
  s.put_key("big/v", "1");
  auto daemon = [&] {
    return std::make_unique<TempletProcess>(run_args(p, {"--log-level", "warn"}), s.env(), p);
  };
  // The first write measures the window between the temporary's creation and its rename.
  std::chrono::microseconds window;
  {
    DirWatch watch(out);
    auto first = daemon();
    REQUIRE(watch.wait_for(IN_CREATE, ".app.conf.templet-", 20s));
    auto created = std::chrono::steady_clock::now();
    REQUIRE(watch.wait_for(IN_MOVED_TO, "app.conf", 10s));
    window = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - created);
    first->signal(SIGKILL);
    first->wait(5s);
  }
  auto t = daemon();
  const std::string password = issued_password(s);
  Versions versions(password, blocks);
  REQUIRE(versions.of(slurp(dest)) == "1");

  DestinationSampler sampler(dest);
  auto seed = std::random_device{}();
  std::mt19937 rng(seed);
  INFO("random seed " << seed << ", write window " << window.count() << " us");
  std::string outputs;
  int leftovers = 0;
  std::string current = "1";
  // Four rounds, and more (up to ten) until a kill has caught a write before its rename.
  for (int round = 2; round <= 5 || (leftovers == 0 && round <= 11); ++round) {
    DirWatch watch(out);
    std::string next = std::to_string(round);
    s.put_key("big/v", next);
    REQUIRE(watch.wait_for(IN_CREATE, ".app.conf.templet-", 10s));
    // Until a temporary has been left, the kill lands at once (inside the write); then anywhere
    // in one and a half times the measured window: during the write or after the rename.
    if (leftovers > 0)
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % (window.count() * 3 / 2 + 1)));
    t->signal(SIGKILL);
    REQUIRE(t->wait(10s) == 128 + SIGKILL);
    outputs += t->stdout_text() + t->stderr_text();
    auto v = versions.of(slurp(dest));
    INFO("round " << round);
    CHECK((v == current || v == next));
    auto left = temp_files(out, "app.conf");
    leftovers += static_cast<int>(left.size());

    // The next start clears what the killed writer left, and converges.
    t = daemon();
    REQUIRE(eventually([&] { return versions.of(slurp(dest)) == next; }, 20s));
    CHECK(temp_files(out, "app.conf").empty());
    for (const auto& name : left)
      CHECK(eventually(
          [&] {
            return t->stderr_text().find("removed " + (out / name).string() +
                                         ": a temporary file left by an interrupted write of " +
                                         dest.string()) != std::string::npos;
          },
          2s));
    current = next;
  }
  check_never_torn(sampler, [&](const std::string& text) { return versions.of(text).has_value(); });
  CHECK(sampler.absences() == 0);
  // A kill inside the write leaves its temporary file for the next start to remove.
  CHECK(leftovers >= 1);

  // Only templet's own stale temporaries of a destination (and of its backup) are removed: not a
  // live writer's (locked), not another name's, not a look-alike, not a symlink.
  t->signal(SIGKILL);
  REQUIRE(t->wait(10s) == 128 + SIGKILL);
  outputs += t->stdout_text() + t->stderr_text();
  for (const char* name :
       {".app.conf.templet-Stale1", ".app.conf.bak.templet-Stale2", ".app.conf.templet-Held01",
        ".app.conf.templet-abc", ".other.conf.templet-Stale3", "app.conf.templet-Stale4",
        ".app.conf.templet-Stale5x"})
    spit(out / name, "partial");
  spit(p / "elsewhere", "keep");
  fs::create_symlink(p / "elsewhere", out / ".app.conf.templet-Link01");
  int held = ::open((out / ".app.conf.templet-Held01").c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(::flock(held, LOCK_EX) == 0);
  t = daemon();
  REQUIRE(eventually([&] { return t->stderr_text().find("templet-Stale2") != std::string::npos; },
                     10s));
  std::this_thread::sleep_for(200ms);
  CHECK(names_in(out) == std::vector<std::string>{
                             ".app.conf.templet-Held01", ".app.conf.templet-Link01",
                             ".app.conf.templet-Stale5x", ".app.conf.templet-abc",
                             ".other.conf.templet-Stale3", "app.conf", "app.conf.templet-Stale4"});
  CHECK(slurp(p / "elsewhere") == "keep");
  CHECK(occurrences(t->stderr_text(), "removed ") == 2);
  ::close(held);
  t->signal(SIGKILL);
  REQUIRE(t->wait(10s) == 128 + SIGKILL);
  outputs += t->stdout_text() + t->stderr_text();
  check_no_secret(outputs, {password});
}

// ---- The destination's file system -------------------------------------------------------------

// One file-system cell: a daemon writes a small file into a private tmpfs; `fault.inject` breaks
// the file system and a new version is rendered. The file must keep its old contents throughout
// (sampled), no temporary may stay, `fault.line` must be logged once however often the write is
// retried, and `fault.repair` must be enough for the new version to arrive. `fault.while_broken`
// adds checks while the fault lasts (appending any output it gets to `outputs`).
struct FileSystemFault {
  std::function<void(MountSandbox&, const fs::path&work)> inject, repair;
  std::function<std::string(const MountSandbox&)> line;
  std::function<void(MountSandbox&, const VaultAndConsul&, const fs::path& work,
                     std::string& outputs)>
      while_broken;
};

void run_file_system_fault(const FileSystemFault& fault) {
  TempDir d;
  auto p = d.path;
  MountSandbox box(p / "mnt", p, "1m");
  SKIP_WITHOUT_MOUNTS(box);
  INFO("tmpfs in a " << box.how());
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  const int blocks = 2;  // about 70 KB
  write_big_config(p, box.inside("app.conf"), blocks,
                   "retry: {backoff: 100ms, max_backoff: 300ms}\n");
  s.put_key("big/v", "1");
  TempletProcess t(run_args(p, {"--log-level", "debug"}), s.env(), p, box.launcher());
  REQUIRE(eventually([&] { return fs::exists(box.outside("app.conf")); }, 20s));
  const std::string password = issued_password(s);
  Versions versions(password, blocks);
  const std::string v1 = versions.expected("1");
  REQUIRE(eventually([&] { return slurp(box.outside("app.conf")) == v1; }, 5s));

  fault.inject(box, p);
  DestinationSampler sampler(box.outside("app.conf"));
  s.put_key("big/v", "2");
  const std::string line = fault.line(box);
  REQUIRE(eventually([&] { return t.stderr_text().find(line) != std::string::npos; }, 10s));
  // Retried (quietly) while the fault lasts: the destination keeps its old contents.
  REQUIRE(eventually([&] { return occurrences(t.stderr_text(), "retrying ") >= 3; }, 10s));
  CHECK(slurp(box.outside("app.conf")) == v1);
  CHECK(temp_files(box.outside(), "app.conf").empty());
  CHECK(occurrences(t.stderr_text(), line) == 1);
  std::string outputs;
  if (fault.while_broken) fault.while_broken(box, s, p, outputs);

  fault.repair(box, p);
  CHECK(eventually([&] { return slurp(box.outside("app.conf")) == versions.expected("2"); }, 10s));
  CHECK(eventually(
      [&] { return t.stderr_text().find("recovered from the failure above") != std::string::npos; },
      5s));
  check_never_torn(sampler, [&](const std::string& text) { return versions.of(text).has_value(); });
  CHECK(sampler.absences() == 0);
  CHECK(names_in(box.outside()) == std::vector<std::string>{"app.conf"});
  t.signal(SIGTERM);
  CHECK(t.wait(10s) == 0);
  check_no_secret(t.stdout_text() + t.stderr_text() + outputs, {password});
}

TEST_CASE("faults: disk full on the destination: old file kept, ENOSPC named, heals", "[faults]") {
  FileSystemFault full;
  full.inject = [](MountSandbox& box, const fs::path&) {
    // Fill the file system to the last byte.
    std::ofstream filler(box.outside("filler"), std::ios::binary);
    std::string chunk(65536, 'x');
    for (int i = 0; i < 64 && filler.write(chunk.data(), chunk.size()); ++i) filler.flush();
  };
  full.line = [](const MountSandbox& box) {
    return "write " + box.inside("app.conf").string() + ": No space left on device (ENOSPC)";
  };
  full.repair = [](MountSandbox& box, const fs::path&) { fs::remove(box.outside("filler")); };
  run_file_system_fault(full);
}

TEST_CASE("faults: destination directory read-only: old file kept, path named, heals", "[faults]") {
  FileSystemFault read_only;
  read_only.inject = [](MountSandbox& box, const fs::path& work) {
    REQUIRE(box.remount(true, work));
  };
  read_only.line = [](const MountSandbox& box) {
    return "open " + box.inside("app.conf").string() + ": Read-only file system (EROFS)";
  };
  read_only.while_broken = [&](MountSandbox& box, const VaultAndConsul& s, const fs::path& work,
                               std::string& outputs) {
    // A boot-time run reports it and fails.
    TempletProcess once(run_args(work, {"--once"}), s.env(), work, box.launcher());
    REQUIRE(once.wait(20s) == 1);
    CHECK(occurrences(once.stderr_text(), read_only.line(box)) == 1);
    outputs += once.stdout_text() + once.stderr_text();
  };
  read_only.repair = [](MountSandbox& box, const fs::path& work) {
    REQUIRE(box.remount(false, work));
  };
  run_file_system_fault(read_only);
}
