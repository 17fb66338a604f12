// How `templet run` stops, end to end against the Vault and Consul emulators: at once when the
// only requests under way are Consul blocking queries (their answers would be thrown away), but
// only after a Vault call in flight, whose lease state_dir must record. Skipped when python3 or
// the emulators are absent.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/unit/test_support.hpp"

using namespace templet;
using namespace templet::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// Blocking queries (with `index`) for `key` that the Consul emulator has received and not
// answered yet: it holds each for block_query_wait unless the key changes.
size_t held_queries(const VaultAndConsul& s, const std::string& key) {
  size_t n = 0;
  for (const auto& r : requests(s.consul, "^/v1/kv/" + key + "$", "GET"))
    if (r["query"].contains("index") && r["status"].is_null()) ++n;
  return n;
}

double seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// Sends SIGTERM to `t` and returns how long it took to exit; any status but 0 fails the test.
std::chrono::steady_clock::duration exit_time_on_sigterm(TempletProcess& t) {
  auto sent = std::chrono::steady_clock::now();
  t.signal(SIGTERM);
  int status = t.wait(10s);
  auto took = std::chrono::steady_clock::now() - sent;
  INFO(t.stderr_text());
  REQUIRE(status == 0);
  return took;
}

}  // namespace

TEST_CASE("run --once exits at once while a Consul watcher is inside a blocking query",
          "[runloop][stop]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto p = d.path;
  // The command keeps the pass going past the watcher's 100 ms gap between queries, so when the
  // pass ends the watcher is inside its next query, which the emulator holds for 60 s.
  spit(p / "templet.yaml", "state_dir: " + (p / "state").string() +
                               "\nblock_query_wait: 60s\ntemplates:\n"
                               "  - contents: '{{ key \"app/host\" }}'\n    destination: " +
                               (p / "out").string() + "\n    command: 'sleep 0.3'\n");
  auto start = std::chrono::steady_clock::now();
  TempletProcess t({"run", "-c", (p / "templet.yaml").string(), "--once"}, s.env(), p);
  REQUIRE(t.wait(20s) == 0);
  auto took = std::chrono::steady_clock::now() - start;
  INFO(t.stderr_text());
  CHECK(slurp(p / "out") == "db.internal");
  CHECK(held_queries(s, "app/host") == 1);  // still held after templet exited
  // Waiting up to 2 s for that watcher, as stop() used to, made it 2.4 s.
  INFO("took " << seconds(took) << " s");
  CHECK(took < 1500ms);
}

TEST_CASE("run daemon: SIGTERM while every watcher is in a Consul blocking query exits 0 at once",
          "[runloop][stop]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto p = d.path;
  fs::create_directories(p / "out");
  std::string yaml = "state_dir: " + (p / "state").string() + "\ntemplates:\n";
  for (std::string key : {"host", "n", "json"})
    yaml += "  - contents: '{{ key \"app/" + key +
            "\" }}'\n    destination: " + (p / "out" / key).string() + "\n";
  spit(p / "templet.yaml", yaml);
  TempletProcess t({"run", "-c", (p / "templet.yaml").string()}, s.env(), p);
  REQUIRE(eventually([&] { return names_in(p / "out").size() == 3; }, 10s));
  REQUIRE(eventually(
      [&] {
        return held_queries(s, "app/host") == 1 && held_queries(s, "app/n") == 1 &&
               held_queries(s, "app/json") == 1;
      },
      5s));

  auto took = exit_time_on_sigterm(t);
  INFO(t.stderr_text());
  INFO("took " << seconds(took) << " s");
  CHECK(took < 1500ms);  // it used to wait 2 s for the watchers
  CHECK(t.stderr_text().find("stopping on SIGTERM") != std::string::npos);
  CHECK(names_in(p / "out") == std::vector<std::string>{"host", "json", "n"});  // no temporary
  CHECK(slurp(p / "out" / "host") == "db.internal");
}

TEST_CASE("run daemon: SIGTERM waits for a slow Vault read and keeps its lease for the next run",
          "[runloop][stop]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto p = d.path;
  spit(p / "templet.yaml",
       "state_dir: " + (p / "state").string() +
           "\ntemplates:\n"
           "  - contents: '{{ with secret \"database/creds/readonly\" }}{{ .Data.username }}"
           "{{ end }}'\n    destination: " +
           (p / "user").string() + "\n  - contents: '{{ key \"app/host\" }}'\n    destination: " +
           (p / "host").string() + "\n");
  // Vault answers the creds read a second late.
  call(s.vault, "POST", "/_emulator/fault",
       R"({"path_regex": "^/v1/database/creds/readonly$", "method": "GET", "delay_ms": 1000,
           "count": 1})");
  TempletProcess t({"run", "-c", (p / "templet.yaml").string()}, s.env(), p);
  REQUIRE(eventually([&] { return s.creds_reads("readonly") == 1; }, 10s));  // in flight
  REQUIRE(eventually([&] { return held_queries(s, "app/host") == 1; }, 5s));

  auto took = exit_time_on_sigterm(t);
  INFO(t.stderr_text());
  INFO("took " << seconds(took) << " s");
  // The stop waited for the read, which had most of its second to go when SIGTERM came.
  CHECK(took >= 500ms);
  CHECK_FALSE(fs::exists(p / "user"));  // stopped before rendering it

  // The credentials Vault issued during the stop are on record: the next run reuses them.
  TempletProcess again({"run", "-c", (p / "templet.yaml").string(), "--once"}, s.env(), p);
  REQUIRE(again.wait(20s) == 0);
  INFO(again.stderr_text());
  CHECK(s.creds_reads("readonly") == 1);
  auto leases = s.leases_by_user();
  REQUIRE(leases.size() == 1);
  CHECK(slurp(p / "user") == leases.begin()->first);
}
