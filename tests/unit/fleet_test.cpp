// Fleets (project issue 19): three `templet run` daemons with one config (fleet.mode leader),
// one Consul, Vault and Redash emulator set. Each node has its own Redash API key, so the
// Redash emulator's request log says which node wrote. Short TTLs (session_ttl 1s, lock_delay
// 1s; the Consul emulator's session_ttl_min lowered to 1s, its 2 x TTL rule unchanged) keep
// each case a few seconds. The long faults (SIGSTOP, Consul unreachable) are hidden
// ([.fleet-faults]) and run by name.
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "functions/live/consul_lock.hpp"
#include "tests/unit/test_support.hpp"

using namespace templet::testing;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char* kTemplate = R"(managed_datasources:
{{- with secret "database/creds/readonly" }}
  - name: "App QA"
    type: pg
    options:
      host: {{ keyOrDefault "app/host" "db" | toJSON }}
      port: 5432
      dbname: "app"
      user: {{ .Data.username | toJSON }}
      password: {{ .Data.password | toJSON }}
{{- end }}
)";

const char* kConsulSeed = R"({"session_ttl_min": "1s", "kv": {"app/host": "db.internal"},
  "register_services": [{"Node": "web-1", "Service": "web"}, {"Node": "web-2", "Service": "web"},
                        {"Node": "web-3", "Service": "web"}]})";

// No database behind the datasource: its connection test passes unless a test says otherwise.
const char* kRedashSeed = R"({"api_keys": {"key-web-1": {"admin": true},
  "key-web-2": {"admin": true}, "key-web-3": {"admin": true}},
  "test_results": {"App QA": {"ok": true}}})";

const char* kInfluxSeed = R"({"tokens": [{"token": "tok-web-1"}, {"token": "tok-web-2"},
                                          {"token": "tok-web-3"}]})";

const char* kFlux = R"(option task = {name: "cpu", every: 1h}

from(bucket: "{{ keyOrDefault "app/host" "x" }}")
    |> range(start: -task.every)
)";

struct FleetSet {
  VaultAndConsul s{"", kConsulSeed};
  EmulatorProcess redash{"redash", kRedashSeed};
  EmulatorProcess influx{"influxdb", kInfluxSeed};
  TempDir d;
  std::map<std::string, std::unique_ptr<TempletProcess>> nodes;
  std::string extra;  // more top-level YAML

  bool available() const {
    return s.available() && redash.port != 0 && influx.port != 0 && fs::exists(TEMPLET_BINARY);
  }

  std::string config(const std::string& node) const {
    fs::path dir = d.path / node;
    return "state_dir: " + (dir / "state").string() +
           "\n"
           "vault: {revoke_superseded: true}\n"
           "fleet: {mode: leader, session_ttl: 1s, lock_delay: 1s, node_name: " +
           node + "}\n" + extra +
           "templates:\n"
           "  - source: " +
           (d.path / "ds.tmpl").string() + "\n    destination: " + (dir / "ds.yaml").string() +
           "\n    apply:\n      redash: {url: " + redash.url() +
           ", api_key_env: TEMPLET_TEST_REDASH_KEY, ready_timeout: 10s}\n"
           "  - source: " +
           (d.path / "cpu.flux.tmpl").string() +
           "\n    destination: " + (dir / "cpu.flux").string() +
           "\n    apply:\n      influxdb: {url: " + influx.url() +
           ", org: myorg, token_env: TEMPLET_TEST_INFLUX_TOKEN}\n";
  }

  void start(const std::string& node) {
    // Written once: another node may be reading it.
    if (!fs::exists(d.path / "ds.tmpl")) {
      spit(d.path / "ds.tmpl", kTemplate);
      spit(d.path / "cpu.flux.tmpl", kFlux);
    }
    fs::create_directories(d.path / node);
    spit(d.path / node / "templet.yaml", config(node));
    auto env = s.env();
    env["TEMPLET_TEST_REDASH_KEY"] = "key-" + node;
    env["TEMPLET_TEST_INFLUX_TOKEN"] = "tok-" + node;
    nodes[node] = std::make_unique<TempletProcess>(
        std::vector<std::string>{"run", "-c", (d.path / node / "templet.yaml").string()}, env,
        d.path);
  }

  // Writes to Redash's datasources, in order, as the node whose key sent each.
  std::vector<std::string> writers() const {
    std::vector<std::string> out;
    json log = call_json(redash, "GET", "/_emulator/requests");
    for (const auto& r : log) {
      if (r["method"] == "GET" || r["path"].get<std::string>().rfind("/api/data_sources", 0) != 0)
        continue;
      if (r["path"].get<std::string>().find("/test") != std::string::npos) continue;
      if (r["query"].contains("api_key")) continue;  // the test's own edits, as an admin
      std::string auth = r["headers"].value("authorization", "");
      auto k = auth.find("key-");
      out.push_back(k == std::string::npos ? "?" : auth.substr(k + 4));
    }
    return out;
  }

  // Writes to InfluxDB's tasks, in order, as the node whose token sent each.
  std::vector<std::string> influx_writers() const {
    std::vector<std::string> out;
    json log = call_json(influx, "GET", "/_emulator/requests");
    for (const auto& r : log) {
      if (r["method"] == "GET" || r["path"].get<std::string>().rfind("/api/v2/tasks", 0) != 0)
        continue;
      std::string auth = r["headers"].value("authorization", "");
      auto k = auth.find("tok-");
      out.push_back(k == std::string::npos ? "?" : auth.substr(k + 4));
    }
    return out;
  }

  json datasource() const {
    json state = call_json(redash, "GET", "/_emulator/state");  // alive through the loop
    for (const auto& ds : state["data_sources"])
      if (ds["name"] == "App QA") return ds;
    return nullptr;
  }

  // The node whose live Vault lease the datasource's user belongs to ("" : none, or revoked).
  std::string holder_lease_user() const {
    json ds = datasource();
    if (!ds.is_object()) return "";
    auto leases = s.leases_by_user();
    auto it = leases.find(ds["options"].value("user", ""));
    return it == leases.end() ? "" : it->first;
  }

  std::string lock_holder_node(const std::string& kind = "redash") const {
    auto r = call(s.consul, "GET", "/v1/kv/templet/leader/" + kind + "-?recurse");
    if (r.status != 200) return "";
    json j = json::parse(r.body);
    if (!j.is_array() || j.empty() || !j[0].contains("Session")) return "";
    json info =
        call_json(s.consul, "GET", "/v1/session/info/" + j[0]["Session"].get<std::string>());
    return info.empty() ? "" : info[0].value("Node", "");
  }

  std::string log(const std::string& node) const { return nodes.at(node)->stderr_text(); }
};

// No interleaving: once another node has written, an earlier writer never writes again.
void check_one_writer_at_a_time(const std::vector<std::string>& writers) {
  std::vector<std::string> blocks;
  for (const auto& w : writers)
    if (blocks.empty() || blocks.back() != w) blocks.push_back(w);
  std::set<std::string> distinct(blocks.begin(), blocks.end());
  INFO("writers in order: " << [&] {
    std::string s;
    for (const auto& b : blocks) s += b + " ";
    return s;
  }());
  CHECK(distinct.size() == blocks.size());
  CHECK(distinct.count("?") == 0);
}

std::string redash_target(const FleetSet& f) {
  return "redash " + f.redash.url();
}

}  // namespace

TEST_CASE("fleet: of three nodes started at once exactly one applies and the others follow",
          "[fleet][emulator][cli]") {
  FleetSet f;
  if (!f.available()) {
    WARN("emulators or binary not available; skipped");
    return;
  }
  for (const char* n : {"web-1", "web-2", "web-3"}) f.start(n);
  REQUIRE(eventually([&] { return f.datasource().is_object(); }, 15s));
  std::string leader;
  REQUIRE(eventually(
      [&] {
        leader = f.lock_holder_node();
        return !leader.empty();
      },
      5s));
  // Every node has rendered its own file; followers name the applier.
  REQUIRE(eventually(
      [&] {
        for (const char* n : {"web-1", "web-2", "web-3"})
          if (!fs::exists(f.d.path / n / "ds.yaml")) return false;
        return true;
      },
      10s));
  std::this_thread::sleep_for(1500ms);  // renewals, and no second applier appearing
  auto w = f.writers();
  REQUIRE(!w.empty());
  CHECK(std::set<std::string>(w.begin(), w.end()) == std::set<std::string>{leader});
  CHECK(w.size() == 1);  // one create, nothing more: the fleet writes once per rotation
  // InfluxDB's task has a lock of its own, and one writer too.
  std::string influx_leader = f.lock_holder_node("influxdb");
  REQUIRE(!influx_leader.empty());
  auto iw = f.influx_writers();
  CHECK(iw == std::vector<std::string>{influx_leader});
  for (const char* n : {"web-1", "web-2", "web-3"}) {
    std::string log = f.log(n);
    INFO(n << ":\n" << log);
    if (n == leader) {
      CHECK(log.find("leader: " + redash_target(f) + " is applied by this node (" + leader + ")") !=
            std::string::npos);
      // While its session's renewal is late it holds back (and says the lock is its own); it
      // never follows another node.
      const std::string follows = "follower: " + redash_target(f) + " is applied by node ";
      for (size_t at = log.find(follows); at != std::string::npos; at = log.find(follows, at + 1))
        CHECK(log.substr(at + follows.size(), log.find('\n', at) - at - follows.size()) == leader);
    } else {
      CHECK(log.find("follower: " + redash_target(f) + " is applied by node " + leader + "\n") !=
            std::string::npos);
    }
  }
  // Every node's status names the applier of the Redash target.
  for (const char* n : {"web-1", "web-2", "web-3"}) {
    ShellRun st = run_shell(std::string(TEMPLET_BINARY) + " status --json --state-dir " +
                            (f.d.path / n / "state").string());
    INFO(n << ": " << st.out << st.err);
    json doc = json::parse(st.out, nullptr, false);
    REQUIRE(doc.is_object());
    std::string named;
    for (const auto& t : doc["targets"])
      if (t["target"] == redash_target(f) && t["leader"].is_string()) named = t["leader"];
    CHECK(named == leader);
  }
  // Followers wait in a blocking query and hold no session.
  json sessions = call_json(f.s.consul, "GET", "/v1/session/list");
  REQUIRE(sessions.size() == 2);  // one per lock, even when one node holds both
  std::set<std::string> session_nodes;
  for (const auto& x : sessions) session_nodes.insert(x["Node"].get<std::string>());
  CHECK(session_nodes == std::set<std::string>{leader, influx_leader});
  CHECK(sessions[0]["TTL"] == "1s");
  CHECK(sessions[0]["Behavior"] == "release");
  CHECK(sessions[0]["LockDelay"] == 1000000000);
  CHECK(f.holder_lease_user() != "");
  // Idle: the leaders renew every TTL/2; the followers sit in their blocking queries, so no
  // new request touches a lock key and nobody makes a session.
  call(f.s.consul, "DELETE", "/_emulator/requests");
  std::this_thread::sleep_for(2s);
  json idle = call_json(f.s.consul, "GET", "/_emulator/requests");
  size_t renewals = 0, others = 0;
  for (const auto& r : idle) {
    std::string path = r["path"];
    if (path.rfind("/v1/session/renew/", 0) == 0)
      ++renewals;
    else if (path.rfind("/v1/session/", 0) == 0 || path.rfind("/v1/kv/templet/", 0) == 0)
      ++others;
  }
  CHECK(renewals >= 2);   // both leaders renew (2 locks x 2 s / 0.5 s = 8 when unloaded)
  CHECK(renewals <= 10);  // and never a loop
  CHECK(others == 0);
  // `templet plan` on any node says who applies, without taking part.
  auto env = f.s.env();
  env["TEMPLET_TEST_REDASH_KEY"] = "key-web-3";
  env["TEMPLET_TEST_INFLUX_TOKEN"] = "tok-web-3";
  TempletProcess plan({"plan", "-c", (f.d.path / "web-3" / "templet.yaml").string()}, env,
                      f.d.path);
  REQUIRE(plan.wait(20s) == 0);
  INFO(plan.stdout_text());
  CHECK(plan.stdout_text().find("redash plan for " + (f.d.path / "web-3" / "ds.yaml").string() +
                                " -> " + f.redash.url() + "\n") != std::string::npos);
  CHECK(plan.stdout_text().find("  applied by node " + leader + "\n") != std::string::npos);
  CHECK(call_json(f.s.consul, "GET", "/v1/session/list").size() == 2);
}

TEST_CASE("fleet: a SIGKILLed leader is replaced with the new leader's own credentials",
          "[fleet][emulator][cli]") {
  FleetSet f;
  if (!f.available()) {
    WARN("emulators or binary not available; skipped");
    return;
  }
  for (const char* n : {"web-1", "web-2", "web-3"}) f.start(n);
  std::string leader;
  REQUIRE(eventually(
      [&] {
        leader = f.lock_holder_node();
        return !leader.empty() && f.datasource().is_object();
      },
      15s));
  std::string first_user = f.datasource()["options"].value("user", "");
  auto killed = std::chrono::steady_clock::now();
  f.nodes[leader]->signal(SIGKILL);
  f.nodes[leader]->wait(5s);
  // lock_delay + 2 x session_ttl + a few seconds.
  std::string next;
  REQUIRE(eventually(
      [&] {
        next = f.lock_holder_node();
        json ds = f.datasource();
        return !next.empty() && next != leader && ds["options"].value("user", "") != first_user;
      },
      8s));
  auto took = std::chrono::steady_clock::now() - killed;
  CHECK(took < 6s);
  CHECK(took > 2s);  // not before Consul let the session die (2 x TTL)
  std::string log = f.log(next);
  INFO(log);
  CHECK(log.find("leader: took " + redash_target(f) + " from " + leader + " (session expired)") !=
        std::string::npos);
  auto w = f.writers();
  check_one_writer_at_a_time(w);
  CHECK(w.back() == next);
  CHECK(f.holder_lease_user() == f.datasource()["options"].value("user", ""));  // a live lease
}

TEST_CASE("fleet: a session destroyed by an operator moves the lock without two appliers",
          "[fleet][emulator][cli]") {
  FleetSet f;
  if (!f.available()) {
    WARN("emulators or binary not available; skipped");
    return;
  }
  for (const char* n : {"web-1", "web-2"}) f.start(n);
  std::string leader;
  REQUIRE(eventually(
      [&] {
        leader = f.lock_holder_node();
        return !leader.empty() && f.datasource().is_object();
      },
      15s));
  json lock = call_json(f.s.consul, "GET", "/v1/kv/templet/leader/redash-?recurse");
  REQUIRE(lock[0].contains("Session"));
  call(f.s.consul, "PUT", "/v1/session/destroy/" + lock[0]["Session"].get<std::string>());
  // The old leader notices at once (its watch wakes, its renewal finds no session); after the
  // lock-delay (1s) one of the two takes it and applies its own credentials from the server.
  REQUIRE(eventually(
      [&] {
        auto w = f.writers();
        return f.lock_holder_node() != "" && w.size() >= 2;
      },
      8s));
  std::this_thread::sleep_for(1s);
  std::string log = f.log(leader);
  INFO(log);
  CHECK(log.find("leader: lost " + redash_target(f)) != std::string::npos);
  check_one_writer_at_a_time(f.writers());
}

TEST_CASE("fleet: a leader frozen past its session's death writes nothing when it resumes",
          "[.fleet-faults][fleet][emulator][cli]") {
  FleetSet f;
  if (!f.available()) {
    WARN("emulators or binary not available; skipped");
    return;
  }
  for (const char* n : {"web-1", "web-2", "web-3"}) f.start(n);
  std::string leader;
  REQUIRE(eventually(
      [&] {
        leader = f.lock_holder_node();
        return !leader.empty() && f.datasource().is_object();
      },
      15s));
  f.nodes[leader]->signal(SIGSTOP);
  std::string next;
  REQUIRE(eventually(
      [&] {
        next = f.lock_holder_node();
        return !next.empty() && next != leader && f.writers().back() == next;
      },
      10s));
  size_t before = f.writers().size();
  f.nodes[leader]->signal(SIGCONT);
  // A rotation-like change on every node: only the new leader may apply it.
  f.s.put_key("app/host", "db2.internal");
  REQUIRE(eventually([&] { return f.datasource()["options"].value("host", "") == "db2.internal"; },
                     10s));
  std::this_thread::sleep_for(3s);
  auto w = f.writers();
  for (size_t i = before; i < w.size(); ++i) CHECK(w[i] == next);
  check_one_writer_at_a_time(w);
  std::string log = f.log(leader);
  INFO(log);
  CHECK(log.find("leader: lost " + redash_target(f)) != std::string::npos);
}

TEST_CASE("fleet: Consul unreachable for 30 s: nobody applies without a live session",
          "[.fleet-faults][fleet][emulator][cli]") {
  FleetSet f;
  if (!f.available()) {
    WARN("emulators or binary not available; skipped");
    return;
  }
  for (const char* n : {"web-1", "web-2", "web-3"}) f.start(n);
  std::string leader;
  REQUIRE(eventually(
      [&] {
        leader = f.lock_holder_node();
        return !leader.empty() && f.datasource().is_object();
      },
      15s));
  call(f.s.consul, "POST", "/_emulator/fault",
       R"({"path_regex": "^/v1/", "drop_connection": true})");
  std::this_thread::sleep_for(30s);
  call(f.s.consul, "POST", "/_emulator/clear_faults");
  REQUIRE(eventually([&] { return !f.lock_holder_node().empty(); }, 10s));
  std::this_thread::sleep_for(3s);
  check_one_writer_at_a_time(f.writers());
  // No request loop against the unreachable Consul: the backoff caps each node's retries.
  size_t failed = 0;
  json log = call_json(f.s.consul, "GET", "/_emulator/requests");
  for (const auto& r : log)
    if (!r["fault"].is_null()) ++failed;
  CHECK(failed < 3 * 60);
}

TEST_CASE("fleet: reconcile puts a datasource edited behind templet's back right, once logged",
          "[fleet][reconcile][emulator][cli]") {
  FleetSet f;
  if (!f.available()) {
    WARN("emulators or binary not available; skipped");
    return;
  }
  f.extra = "reconcile_interval: 1s\n";
  f.start("web-1");
  REQUIRE(eventually([&] { return f.datasource().is_object() && !f.writers().empty(); }, 15s));
  json ds = f.datasource();
  const json good = ds["options"];
  auto edit = [&](const std::string& host, const std::string& password) {
    json body = {{"name", "App QA"},
                 {"type", "pg"},
                 {"options",
                  {{"host", host},
                   {"port", 5432},
                   {"dbname", "app"},
                   {"user", good["user"]},
                   {"password", password}}}};
    return call(f.redash, "POST",
                "/api/data_sources/" + std::to_string(ds["id"].get<int>()) +
                    "?api_key=admin-api-key",
                body.dump())
        .status;
  };
  // A host edited in the UI: back within one interval, the drift logged once.
  REQUIRE(edit("evil.internal", "--------") == 200);
  REQUIRE(eventually([&] { return f.datasource()["options"] == good; }, 5s));
  std::this_thread::sleep_for(1500ms);  // more reconcile passes: nothing more to say or write
  std::string log = f.log("web-1");
  const std::string host_drift =
      "drift: datasource \"App QA\" options.host changed on the server\n";
  INFO(log);
  auto count = [&](const std::string& what) {
    size_t n = 0;
    for (auto at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
    return n;
  };
  CHECK(count(host_drift) == 1);
  size_t writes = f.writers().size();
  CHECK(writes == 2);

  // A password changed in the UI is masked by Redash: the connection test finds it.
  call(
      f.redash, "POST", "/_emulator/seed",
      R"({"test_results": {"App QA": {"ok": false, "message": "password authentication failed"}}})");
  REQUIRE(edit("db.internal", "Changed-In-Ui-9") == 200);
  REQUIRE(eventually([&] { return f.writers().size() == writes + 1; }, 5s));
  CHECK(f.datasource()["options"] == good);
  // Fixed: the test passes again, and nothing more is sent.
  call(f.redash, "POST", "/_emulator/seed", R"({"test_results": {"App QA": {"ok": true}}})");
  std::this_thread::sleep_for(1500ms);
  log = f.log("web-1");
  CHECK(count("drift: datasource \"App QA\" options.password changed on the server\n") == 1);
  CHECK(f.writers().size() == writes + 1);
}

TEST_CASE("fleet: a lock key is the kind and a hash of the target (Consul refuses colons)",
          "[fleet]") {
  using templet::live::fleet_lock_id;
  using templet::live::FleetTarget;
  CHECK(fleet_lock_id(FleetTarget{"redash", "http://redash.internal:5000", ""}) ==
        "redash-36b2c2ff8f91");
  CHECK(fleet_lock_id(FleetTarget{"influxdb", "http://influx.internal:8086", "ops"}) ==
        "influxdb-e15801eccce6");
  CHECK(FleetTarget{"influxdb", "http://influx.internal:8086", "ops"}.describe() ==
        "influxdb http://influx.internal:8086 (org ops)");
}

TEST_CASE("fleet: reconcile creates an InfluxDB task deleted by hand again",
          "[fleet][reconcile][emulator][cli]") {
  VaultAndConsul s;
  EmulatorProcess influx("influxdb");
  if (!s.available() || influx.port == 0 || !fs::exists(TEMPLET_BINARY)) {
    WARN("emulators or binary not available; skipped");
    return;
  }
  TempDir d;
  spit(d.path / "cpu.flux.tmpl",
       "option task = {name: \"cpu\", every: 1h}\n\nfrom(bucket: \"{{ keyOrDefault \"app/host\" "
       "\"x\" }}\")\n    |> range(start: -task.every)\n");
  spit(d.path / "templet.yaml", "state_dir: " + (d.path / "state").string() +
                                    "\nreconcile_interval: 1s\ntemplates:\n  - source: " +
                                    (d.path / "cpu.flux.tmpl").string() +
                                    "\n    destination: " + (d.path / "cpu.flux").string() +
                                    "\n    apply:\n      influxdb: {url: " + influx.url() +
                                    ", org: myorg, token_env: TEMPLET_TEST_INFLUX_TOKEN}\n");
  auto env = s.env();
  env["TEMPLET_TEST_INFLUX_TOKEN"] = "admin-token";
  TempletProcess t({"run", "-c", (d.path / "templet.yaml").string()}, env, d.path);
  auto task_ids = [&] {
    std::vector<std::string> ids;
    json state = call_json(influx, "GET", "/_emulator/state");
    for (const auto& task : state["tasks"])
      if (task["name"] == "cpu") ids.push_back(task["id"]);
    return ids;
  };
  REQUIRE(eventually([&] { return task_ids().size() == 1; }, 15s));
  std::string first = task_ids()[0];
  templet::HttpRequest del;
  del.method = "DELETE";
  del.url = influx.url() + "/api/v2/tasks/" + first;
  del.headers.emplace_back("Authorization", "Token admin-token");
  REQUIRE(templet::make_http_client()->send(del).status == 204);
  REQUIRE(eventually([&] { return task_ids().size() == 1 && task_ids()[0] != first; }, 5s));
  std::this_thread::sleep_for(1500ms);
  std::string log = t.stderr_text();
  INFO(log);
  const std::string line = "drift: task \"cpu\" is missing on the server\n";
  auto at = log.find(line);
  CHECK(at != std::string::npos);
  CHECK(log.find(line, at + 1) == std::string::npos);
  CHECK(task_ids().size() == 1);
}
