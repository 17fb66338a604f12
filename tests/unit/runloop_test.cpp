// The run loop end to end: the built `templet run` binary against the Vault and Consul emulators,
// driven only through the CLI and a config file (project issue 4). Skipped when python3 or the
// emulators are absent.
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "tests/unit/test_support.hpp"

using namespace templet;
using namespace templet::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string kSecretUser =
    R"({{ with secret "database/creds/readonly" }}{{ .Data.username }}{{ end }})";
const std::string kShortUser =
    R"({{ with secret "database/creds/short" }}{{ .Data.username }}{{ end }})";

// A daemon config with revoke_superseded and these (contents, destination) templates.
std::string revoking_config(const fs::path& dir,
                            const std::vector<std::pair<std::string, fs::path>>& templates) {
  return config_yaml(dir, templates, "vault: {revoke_superseded: true}\n");
}

}  // namespace

TEST_CASE("run --once: two templates share one dynamic secret and one command", "[runloop]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto p = d.path;
  std::string cmd = "cat " + (p / "a.conf").string() + " " + (p / "b.conf").string() + " >> " +
                    (p / "hook.log").string() + "; echo ran >> " + (p / "count").string();
  spit(p / "templet.yaml",
       R"(
state_dir: )" +
           (p / "state").string() + R"(
templates:
  - contents: "user=)" +
           std::string(
               R"({{ with secret \"database/creds/readonly\" }}{{ .Data.username }}{{ end }})") +
           R"(\nhost={{ key \"app/host\" }}\n"
    destination: )" +
           (p / "a.conf").string() + R"(
    command: ")" +
           cmd + R"("
  - contents: "{{ with secret \"database/creds/readonly\" }}{{ .Data.username }}:{{ .Data.password }}{{ end }}\n"
    destination: )" +
           (p / "b.conf").string() + R"(
    perms: "0640"
    command: ")" +
           cmd + R"("
  - contents: "host={{ key \"app/host\" }}\n"
    destination: )" +
           (p / "c.conf").string() + R"(
)");
  TempletProcess t({"run", "-c", (p / "templet.yaml").string(), "--once", "--timeout", "20s"},
                   s.env(), p);
  REQUIRE(t.wait(30s) == 0);
  INFO(t.stderr_text());

  CHECK(s.creds_reads("readonly") == 1);
  auto leases = s.leases_by_user();
  REQUIRE(leases.size() == 1);
  const auto& [user, lease] = *leases.begin();
  std::string password = lease["password"];
  CHECK(slurp(p / "a.conf") == "user=" + user + "\nhost=db.internal\n");
  CHECK(slurp(p / "b.conf") == user + ":" + password + "\n");
  CHECK(slurp(p / "c.conf") == "host=db.internal\n");
  CHECK(mode_of(p / "a.conf") == 0600);  // holds a secret, perms unset
  CHECK(mode_of(p / "b.conf") == 0640);  // explicit perms win
  CHECK(mode_of(p / "c.conf") == 0644);
  // The shared command ran once, after both files were in place.
  CHECK(slurp(p / "count") == "ran\n");
  CHECK(slurp(p / "hook.log") == slurp(p / "a.conf") + slurp(p / "b.conf"));
  // Secrets never reach the log.
  CHECK(t.stderr_text().find(password) == std::string::npos);
}

TEST_CASE("run --once --timeout: missing data exits 3 and names the key", "[runloop]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto p = d.path;
  spit(p / "templet.yaml", "state_dir: " + (p / "state").string() +
                               "\ntemplates:\n  - contents: '{{ key \"x/y\" }}'\n"
                               "    destination: " +
                               (p / "out").string() + "\n");
  auto start = std::chrono::steady_clock::now();
  TempletProcess t({"run", "-c", (p / "templet.yaml").string(), "--once", "--timeout", "2s"},
                   s.env(), p);
  REQUIRE(t.wait(15s) == 3);
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took >= 2s);
  // Not 2 s more: the watcher inside its blocking query for the key is let go, not waited for.
  CHECK(took < 3s);
  CHECK(t.stderr_text().find("key \"x/y\"") != std::string::npos);
  CHECK_FALSE(fs::exists(p / "out"));
}

TEST_CASE("run --once stopped by SIGTERM while data is missing exits 3", "[runloop]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto p = d.path;
  spit(p / "templet.yaml", "state_dir: " + (p / "state").string() +
                               "\ntemplates:\n  - contents: '{{ key \"x/y\" }}'\n"
                               "    destination: " +
                               (p / "out").string() + "\n");
  TempletProcess t({"run", "-c", (p / "templet.yaml").string(), "--once"}, s.env(), p);
  std::this_thread::sleep_for(1s);
  t.signal(SIGTERM);
  REQUIRE(t.wait(10s) == 3);
  CHECK(t.stderr_text().find("key \"x/y\"") != std::string::npos);
  CHECK_FALSE(fs::exists(p / "out"));
}

TEST_CASE("run --once waits for a key created later", "[runloop]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto p = d.path;
  spit(p / "templet.yaml", "state_dir: " + (p / "state").string() +
                               "\ntemplates:\n  - contents: 'v={{ key \"late/key\" }}'\n"
                               "    destination: " +
                               (p / "out").string() + "\n");
  TempletProcess t({"run", "-c", (p / "templet.yaml").string(), "--once"}, s.env(), p);
  std::this_thread::sleep_for(1500ms);
  CHECK(t.wait(0ms) == -1);  // still waiting
  CHECK_FALSE(fs::exists(p / "out"));
  auto put_at = std::chrono::steady_clock::now();
  s.put_key("late/key", "here");
  REQUIRE(t.wait(10s) == 0);
  // Woken by the blocking query, not by a poll: well under a second.
  CHECK(std::chrono::steady_clock::now() - put_at < 1s);
  CHECK(slurp(p / "out") == "v=here");
}

TEST_CASE("run daemon: short leases rotate with no expired or revoked credential on disk",
          "[runloop][slow]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto p = d.path;
  spit(p / "templet.yaml",
       revoking_config(p, {{kShortUser, p / "creds"}, {kShortUser, p / "creds2"}}));
  TempletProcess t({"run", "-c", (p / "templet.yaml").string()}, s.env(), p);
  REQUIRE(eventually([&] { return fs::exists(p / "creds") && fs::exists(p / "creds2"); }, 10s));

  int good = 0, bad = 0;
  std::set<std::string> seen;
  std::vector<std::string> order;
  auto end = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < end) {
    // Both files (they share the secret) before and after the state read: equal means each held
    // that user throughout.
    for (const char* name : {"creds", "creds2"}) {
      std::string before = slurp(p / name);
      auto leases = s.leases_by_user();
      std::string after = slurp(p / name);
      if (before != after || before.empty()) continue;
      auto it = leases.find(before);
      if (it == leases.end() || it->second.value("expired", true)) {
        ++bad;
        UNSCOPED_INFO("bad sample in " << name << ": " << before
                                       << (it == leases.end() ? " revoked/reaped" : " expired"));
      } else {
        ++good;
      }
      if (seen.insert(before).second) order.push_back(before);
    }
    std::this_thread::sleep_for(200ms);
  }
  INFO(t.stderr_text());
  CHECK(bad == 0);
  CHECK(good > 200);
  // 30 s over 12 s max TTL with 6 s renewals: at least three credentials in turn.
  CHECK(order.size() >= 3);
  // Superseded leases are revoked after the new file is written, not left to expire.
  auto revokes = requests(s.vault, "^/v1/sys/leases/revoke", "PUT").size() +
                 requests(s.vault, "^/v1/sys/leases/revoke", "POST").size();
  CHECK(revokes >= order.size() - 1);
  auto leases = s.leases_by_user();
  for (size_t i = 0; i + 1 < order.size(); ++i) CHECK(leases.count(order[i]) == 0);

  t.signal(SIGTERM);
  CHECK(t.wait(10s) == 0);
}

TEST_CASE("run daemon: SIGHUP re-reads templates, SIGTERM exits 0 leaving no temp files",
          "[runloop]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto p = d.path;
  fs::create_directories(p / "out");
  spit(p / "t.tmpl", "one {{ key \"app/host\" }}\n");
  spit(p / "templet.yaml", "state_dir: " + (p / "state").string() +
                               "\ntemplates:\n  - source: " + (p / "t.tmpl").string() +
                               "\n    destination: " + (p / "out" / "f").string() + "\n");
  TempletProcess t({"run", "-c", (p / "templet.yaml").string()}, s.env(), p);
  REQUIRE(eventually([&] { return slurp(p / "out" / "f") == "one db.internal\n"; }, 10s));
  spit(p / "t.tmpl", "two {{ key \"app/host\" }}\n");
  t.signal(SIGHUP);
  CHECK(eventually([&] { return slurp(p / "out" / "f") == "two db.internal\n"; }, 10s));
  // Still alive after the reload, and still watching.
  s.put_key("app/host", "db2");
  CHECK(eventually([&] { return slurp(p / "out" / "f") == "two db2\n"; }, 10s));
  t.signal(SIGTERM);
  CHECK(t.wait(10s) == 0);
  CHECK(names_in(p / "out") == std::vector<std::string>{"f"});
}

TEST_CASE("run --dry-run: masked diff on stdout, nothing written, no command", "[runloop]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto p = d.path;
  spit(p / "templet.yaml", R"(
state_dir: )" + (p / "state").string() +
                               R"(
templates:
  - contents: '{{ with secret "database/creds/readonly" }}{{ .Data.username }} {{ .Data.password }}{{ end }} {{ key "app/host" }}'
    destination: )" + (p / "dest").string() +
                               R"(
    command: "touch )" + (p / "ran").string() +
                               R"("
)");
  TempletProcess t({"run", "-c", (p / "templet.yaml").string(), "--once", "--dry-run"}, s.env(), p);
  REQUIRE(t.wait(20s) == 0);
  std::string out = t.stdout_text();
  INFO(out);
  auto leases = s.leases_by_user();
  REQUIRE(leases.size() == 1);
  std::string password = leases.begin()->second["password"];
  CHECK(out.rfind("> " + (p / "dest").string() + "\n", 0) == 0);
  CHECK(out.find("********") != std::string::npos);
  CHECK(out.find("db.internal") != std::string::npos);
  CHECK(out.find(password) == std::string::npos);
  CHECK(t.stderr_text().find(password) == std::string::npos);
  CHECK_FALSE(fs::exists(p / "dest"));
  CHECK_FALSE(fs::exists(p / "ran"));
}

TEST_CASE("run daemon: a failing template keeps its file, the others still render", "[runloop]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto p = d.path;
  spit(p / "host.tmpl", "host={{ key \"app/host\" }}\n");
  spit(p / "n.tmpl", "n={{ key \"app/n\" | parseInt }}\n");
  spit(p / "novalue.tmpl", "{{ (key \"app/json\" | parseJSON).missing }}\n");
  std::string yaml = "state_dir: " + (p / "state").string() + "\ntemplates:\n";
  for (std::string n : {"host", "n", "novalue"})
    yaml += "  - source: " + (p / (n + ".tmpl")).string() +
            "\n    destination: " + (p / (n + ".out")).string() + "\n";
  spit(p / "templet.yaml", yaml);
  TempletProcess t({"run", "-c", (p / "templet.yaml").string()}, s.env(), p);
  REQUIRE(eventually([&] { return fs::exists(p / "host.out") && fs::exists(p / "n.out"); }, 10s));
  CHECK(slurp(p / "n.out") == "n=5\n");
  CHECK(eventually([&] { return t.stderr_text().find("<no value>") != std::string::npos; }, 5s));
  std::string err = t.stderr_text();
  CHECK(err.find((p / "novalue.tmpl").string()) != std::string::npos);
  CHECK_FALSE(fs::exists(p / "novalue.out"));

  s.put_key("app/n", "not-a-number");
  s.put_key("app/host", "db2");
  CHECK(eventually([&] { return slurp(p / "host.out") == "host=db2\n"; }, 10s));
  CHECK(eventually(
      [&] { return t.stderr_text().find((p / "n.tmpl").string()) != std::string::npos; }, 5s));
  CHECK(slurp(p / "n.out") == "n=5\n");  // the last good file stays
  // And it recovers once the data is good again.
  s.put_key("app/n", "7");
  CHECK(eventually([&] { return slurp(p / "n.out") == "n=7\n"; }, 10s));
  t.signal(SIGTERM);
  CHECK(t.wait(10s) == 0);
}

TEST_CASE("run --once twice with one state_dir reuses the stored credentials", "[runloop]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto p = d.path;
  spit(p / "templet.yaml", "state_dir: " + (p / "state").string() +
                               "\ntemplates:\n  - contents: '" + kSecretUser +
                               "'\n    destination: " + (p / "out").string() + "\n");
  TempletProcess first({"run", "-c", (p / "templet.yaml").string(), "--once"}, s.env(), p);
  REQUIRE(first.wait(20s) == 0);
  std::string written = slurp(p / "out");
  CHECK(s.creds_reads("readonly") == 1);
  fs::remove(p / "out");
  TempletProcess second({"run", "-c", (p / "templet.yaml").string(), "--once"}, s.env(), p);
  REQUIRE(second.wait(20s) == 0);
  INFO(second.stderr_text());
  CHECK(s.creds_reads("readonly") == 1);
  CHECK(slurp(p / "out") == written);
  CHECK(s.leases_by_user().count(written) == 1);
}

TEST_CASE("run daemon: a superseded lease is kept while a template using it fails",
          "[runloop][slow]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto p = d.path;
  // Both templates use the same 6 s lease (max TTL 12 s); b also parses a number, which is
  // broken before the lease rotates, so only a gets the new credentials.
  spit(p / "templet.yaml",
       revoking_config(p, {{kShortUser, p / "a"},
                           {kShortUser + R"( n={{ key "app/n" | parseInt }})", p / "b"}}));
  TempletProcess t({"run", "-c", (p / "templet.yaml").string()}, s.env(), p);
  REQUIRE(eventually([&] { return fs::exists(p / "a") && fs::exists(p / "b"); }, 10s));
  std::string first = slurp(p / "a");
  REQUIRE(slurp(p / "b") == first + " n=5");

  s.put_key("app/n", "not-a-number");
  REQUIRE(eventually([&] { return t.stderr_text().find("parseInt") != std::string::npos; }, 5s));
  // The lease reaches its max TTL: a gets new credentials, b fails and keeps the first ones.
  REQUIRE(eventually([&] { return slurp(p / "a") != first; }, 20s));
  std::string second = slurp(p / "a");
  std::this_thread::sleep_for(300ms);  // a revocation would be done by now
  INFO(t.stderr_text());
  CHECK(slurp(p / "b") == first + " n=5");
  auto leases = s.leases_by_user();
  REQUIRE(leases.count(first) == 1);  // not revoked while b's file holds it
  CHECK_FALSE(leases[first].value("expired", true));

  // b recovers with the new credentials; only then may the first lease go.
  s.put_key("app/n", "7");
  REQUIRE(eventually([&] { return slurp(p / "b") == second + " n=7"; }, 5s));
  CHECK(eventually(
      [&] {
        auto now = s.leases_by_user();
        return now.count(first) == 0 || now[first].value("expired", false);
      },
      15s));
  CHECK(s.leases_by_user().count(second) == 1);
  t.signal(SIGTERM);
  CHECK(t.wait(10s) == 0);
}

TEST_CASE("run raises its open-file soft limit to the hard limit", "[runloop]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  rlimit limit{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_max == RLIM_INFINITY || limit.rlim_max <= 256) {
    WARN("no finite hard limit above 256 to raise to; skipped");
    return;
  }
  TempDir d;
  auto p = d.path;
  spit(p / "templet.yaml", config_yaml(p, {{R"({{ key "app/host" }})", p / "out"}}));
  // A soft limit of 256 as a login shell might set; prlimit execs templet in its place.
  TempletProcess t({"run", "-c", (p / "templet.yaml").string()}, s.env(), p,
                   {"/usr/bin/prlimit", "--nofile=256:"});
  REQUIRE(eventually([&] { return slurp(p / "out") == "db.internal"; }, 10s));
  std::string limits = slurp("/proc/" + std::to_string(t.pid) + "/limits");
  std::string hard = std::to_string(limit.rlim_max);
  std::string want = "Max open files";
  auto line = limits.substr(limits.find(want));
  line = line.substr(0, line.find('\n'));
  std::istringstream words(line.substr(want.size()));
  std::string soft_now, hard_now;
  words >> soft_now >> hard_now;
  CHECK(soft_now == hard);
  CHECK(hard_now == hard);
  t.signal(SIGTERM);
  CHECK(t.wait(10s) == 0);
}
