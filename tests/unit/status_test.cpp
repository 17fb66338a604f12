// What an operator sees of a running daemon (issue 20): the StatusBoard's status document and
// metrics in a scenario, the `templet status` table, and a daemon against the emulators read
// only through `templet status`, its metrics textfile, /metrics and /health.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>

#include "app/runner.hpp"
#include "app/status_board.hpp"
#include "app/status_command.hpp"
#include "functions/live/live_data_source.hpp"
#include "functions/live/mask.hpp"
#include "net/http_client.hpp"
#include "tests/unit/live_fakes.hpp"
#include "tests/unit/test_support.hpp"

using namespace templet;
using namespace templet::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

SystemTime at(long long unix_seconds) {
  return SystemTime(std::chrono::seconds(unix_seconds));
}

// A board over two templates, a renewable lease near its end and an older one still held.
LiveView scenario_view() {
  LiveView v;
  v.dependencies.push_back({"kv.block(app/n)", true, "", false});
  v.dependencies.push_back({"vault.read(database/creds/ro)", true, "", false});
  v.dependencies.push_back(
      {"vault.read(secret/missing)", false, "GET /v1/secret/missing: status 403", true});
  live::LiveDataSource::LeaseState current;
  current.identity = "vault.read(database/creds/ro)";
  current.lease_id = "database/creds/ro/NEW";
  current.expires_at = at(1800000041);
  current.renewable = true;
  live::LiveDataSource::LeaseState old = current;
  old.lease_id = "database/creds/ro/OLD";
  old.expires_at = at(1800000012);
  old.superseded = true;
  v.leases = {current, old};
  return v;
}

}  // namespace

TEST_CASE("status board: each metric's value in a scenario", "[status]") {
  StatusBoard b;
  b.set_live([] { return scenario_view(); });
  b.set_templates({{"a.tmpl", "/etc/a.conf"}, {"(dynamic)", "/etc/b.conf"}});
  // a still holds the superseded lease (its check refused the new file); b has the new one.
  b.holds("/etc/a.conf", {{"vault.read(database/creds/ro)", "database/creds/ro/OLD"}});
  b.holds("/etc/b.conf", {{"vault.read(database/creds/ro)", "database/creds/ro/NEW"}});
  b.failed("/etc/a.conf", TemplateFailure::Check, "check refused");
  b.failed("/etc/b.conf", TemplateFailure::Render, "parse error");
  b.failed("/etc/b.conf", TemplateFailure::Write, "write /etc/b.conf: ENOSPC");
  b.applied("redash http://r", "/etc/b.conf", ApplyVerdict::Ok, "", false);
  b.applied("redash http://r", "/etc/b.conf", ApplyVerdict::Failed, "pg: 500 boom", false);
  b.applied("redash http://r", "/etc/b.conf", ApplyVerdict::Ok, "", true);
  CHECK(b.metrics_text(at(1800000000)) ==
        "# HELP templet_build_info Always 1; the version of the running templet.\n"
        "# TYPE templet_build_info gauge\n"
        "templet_build_info{version=\"" TEMPLET_VERSION
        "\"} 1\n"
        "# HELP templet_dependency_up 1 when the dependency has a current answer, 0 while "
        "pending or failing.\n"
        "# TYPE templet_dependency_up gauge\n"
        "templet_dependency_up{dependency=\"kv.block(app/n)\"} 1\n"
        "templet_dependency_up{dependency=\"vault.read(database/creds/ro)\"} 1\n"
        "templet_dependency_up{dependency=\"vault.read(secret/missing)\"} 0\n"
        "# HELP templet_lease_expiry_timestamp_seconds When the dependency's current Vault lease "
        "expires (Unix time).\n"
        "# TYPE templet_lease_expiry_timestamp_seconds gauge\n"
        "templet_lease_expiry_timestamp_seconds{dependency=\"vault.read(database/creds/ro)\"} "
        "1800000041\n"
        "# HELP templet_consumer_credential_expiry_timestamp_seconds The earliest expiry among "
        "the leases the destination's current file holds (Unix time).\n"
        "# TYPE templet_consumer_credential_expiry_timestamp_seconds gauge\n"
        "templet_consumer_credential_expiry_timestamp_seconds{destination=\"/etc/a.conf\"} "
        "1800000012\n"
        "templet_consumer_credential_expiry_timestamp_seconds{destination=\"/etc/b.conf\"} "
        "1800000041\n"
        "# HELP templet_render_failures_total Renders that failed, by template (its "
        "destination).\n"
        "# TYPE templet_render_failures_total counter\n"
        "templet_render_failures_total{template=\"/etc/a.conf\"} 0\n"
        "templet_render_failures_total{template=\"/etc/b.conf\"} 1\n"
        "# HELP templet_write_failures_total Writes that failed.\n"
        "# TYPE templet_write_failures_total counter\n"
        "templet_write_failures_total{destination=\"/etc/a.conf\"} 0\n"
        "templet_write_failures_total{destination=\"/etc/b.conf\"} 1\n"
        "# HELP templet_check_failures_total New contents a template's check refused.\n"
        "# TYPE templet_check_failures_total counter\n"
        "templet_check_failures_total{destination=\"/etc/a.conf\"} 1\n"
        "templet_check_failures_total{destination=\"/etc/b.conf\"} 0\n"
        "# HELP templet_apply_total Applies of a target, by result.\n"
        "# TYPE templet_apply_total counter\n"
        "templet_apply_total{target=\"redash http://r\",result=\"ok\"} 2\n"
        "templet_apply_total{target=\"redash http://r\",result=\"failed\"} 1\n"
        "templet_apply_total{target=\"redash http://r\",result=\"refused\"} 0\n"
        "# HELP templet_apply_drift_total Applies that changed a server although the file had "
        "not changed.\n"
        "# TYPE templet_apply_drift_total counter\n"
        "templet_apply_drift_total{target=\"redash http://r\"} 1\n"
        "# HELP templet_verify_failures_total Applies of a target whose verification (connection "
        "test) failed.\n"
        "# TYPE templet_verify_failures_total counter\n"
        "templet_verify_failures_total{target=\"redash http://r\"} 0\n"
        "# HELP templet_leader 1 when this node applies the target.\n"
        "# TYPE templet_leader gauge\n"
        "templet_leader{target=\"redash http://r\"} 1\n");
  CHECK(b.summary() == "0 templates ok, 2 failing: /etc/a.conf (check refused)");
  CHECK_FALSE(b.healthy());
  b.succeeded("/etc/a.conf");
  b.succeeded("/etc/b.conf");
  CHECK(b.summary() == "2 templates ok");
  CHECK_FALSE(b.healthy());  // the dependency still fails
  b.set_live([] { return LiveView{}; });
  CHECK(b.healthy());
}

TEST_CASE("status board: the JSON document, lease ids masked", "[status]") {
  StatusBoard b;
  b.set_live([] { return scenario_view(); });
  b.set_templates({{"a.tmpl", "/etc/a.conf"}});
  b.failed("/etc/a.conf", TemplateFailure::Render, "bad");
  b.applied("redash http://r", "/etc/a.conf", ApplyVerdict::Refused, "ds: refused", false);
  auto j = b.status_json(at(1800000000));
  // Times of the loop's reports are real ones; the rest is pinned.
  CHECK(j["templates"][0]["last_render"].is_null());
  j["targets"][0]["last_apply"] = "T";
  auto expected = nlohmann::json::parse(R"j({"dependencies": [
      {"dependency": "kv.block(app/n)", "kind": "kv.block", "last_error": null, "state": "ok"},
      {"dependency": "vault.read(database/creds/ro)", "kind": "vault.read", "last_error": null,
       "state": "ok"},
      {"dependency": "vault.read(secret/missing)", "kind": "vault.read",
       "last_error": "GET /v1/secret/missing: status 403", "state": "failing"}],
    "healthy": false,
    "leases": [
      {"dependency": "vault.read(database/creds/ro)", "expires_at": "2027-01-15T08:00:41Z",
       "capped": false, "expires_in_s": 41.0, "lease": "NEW", "renewable": true,
       "superseded": false,
       "token_expires_in_s": null},
      {"dependency": "vault.read(database/creds/ro)", "expires_at": "2027-01-15T08:00:12Z",
       "capped": false, "expires_in_s": 12.0, "lease": "OLD", "renewable": true,
       "superseded": true,
       "token_expires_in_s": null}],
    "targets": [{"destination": "/etc/a.conf", "last_apply": "T", "last_error": "ds: refused",
                 "last_plan": null,
                 "last_verification": null, "leader": null, "result": "refused",
                 "target": "redash http://r"}],
    "templates": [{"destination": "/etc/a.conf", "last_error": "bad", "last_render": null,
                   "last_write": null, "source": "a.tmpl", "state": "failing"}],
    "version": ""})j");
  expected["version"] = TEMPLET_VERSION;
  expected["leases"][0]["lease"] =
      "database/creds/ro/…#" + live::short_hash("database/creds/ro/NEW");
  expected["leases"][1]["lease"] =
      "database/creds/ro/…#" + live::short_hash("database/creds/ro/OLD");
  CHECK(j.dump() == expected.dump());
}

TEST_CASE("status: a lease whose renewal Vault capped at the max TTL shows as capped",
          "[status][live]") {
  // The live data source as the daemon wires it to the board, over a fake Vault.
  live::test::FakeHttp http;
  live::FakeClock clock;
  live::WatchContext ctx;
  live::VaultSettings vs;
  vs.address = "http://vault";
  ctx.vault = std::make_shared<live::VaultClient>(vs, http.pool(), clock);
  ctx.clock = &clock;
  ctx.random = [] { return 0.0; };
  http.on("GET", "/v1/sys/internal/ui/mounts/db/creds/ro", 200,
          live::test::mounts_body("db/", "database", ""));
  http.on("GET", "/v1/db/creds/ro", 200,
          R"({"lease_id":"db/creds/ro/AAA","renewable":true,"lease_duration":3600,)"
          R"("data":{"username":"u1","password":"p"},"warnings":null,"auth":null})");
  // Asked for 3600 s more, granted 2000 s: what sys/leases/renew answers near the max TTL.
  http.on("PUT", "/v1/sys/leases/renew", 200,
          R"({"lease_id":"db/creds/ro/AAA","renewable":true,"lease_duration":2000,"data":null,)"
          R"("warnings":["TTL of \"1h\" exceeded the effective max_ttl of \"33m20s\"; TTL )"
          R"(value is capped accordingly"]})");
  live::LiveDataSource src(ctx, false);
  src.ensure_watching({parse_vault_read("db/creds/ro")});
  auto next = src.run_due();
  StatusBoard board;
  board.set_live([&] { return LiveView{src.dependency_states(), src.lease_states()}; });
  auto lease = [&] {
    auto j = board.status_json(clock.now());
    REQUIRE(j["leases"].size() == 1);
    return std::make_tuple(j["leases"][0]["renewable"], j["leases"][0]["capped"],
                           j["leases"][0]["expires_in_s"], format_status_table(j));
  };
  const std::string head = "LEASE OF                 EXPIRES IN  RENEWABLE  TOKEN EXPIRES IN\n";
  auto [renewable, capped, left, table] = lease();
  CHECK(renewable == true);
  CHECK(capped == false);
  CHECK(left == 3600.0);
  CHECK(table.find(head + "vault.read(db/creds/ro)  1h 0m       yes        -\n") !=
        std::string::npos);

  REQUIRE(next);
  clock.set(*next);
  src.run_due();  // the renewal, capped
  std::tie(renewable, capped, left, table) = lease();
  CHECK(renewable == true);
  CHECK(capped == true);
  CHECK(left == 2000.0);
  CHECK(table.find(head + "vault.read(db/creds/ro)  33m 20s     capped     -\n") !=
        std::string::npos);
  src.stop();
}

TEST_CASE("status: the table fits 80 columns, errors under their row", "[status]") {
  auto j = nlohmann::json::parse(R"j({"healthy": false, "version": "1.2.3",
    "dependencies": [
      {"dependency": "kv.block(app/n)", "kind": "kv.block", "state": "ok", "last_error": null},
      {"dependency": "vault.read(secret/data/a/very/long/path/that/goes/on/and/on/and/on/x)",
       "kind": "vault.read", "state": "failing",
       "last_error": "GET /v1/secret/data/a: status 403: permission denied\nsecond line"}],
    "leases": [{"dependency": "vault.read(database/creds/ro)", "lease": "database/creds/ro/…#abcdef",
                "expires_in_s": 3541.7, "renewable": true, "superseded": false,
                "token_expires_in_s": 90061},
               {"dependency": "vault.read(database/creds/rw)", "lease": "database/creds/rw/…#012345",
                "expires_in_s": 2000, "renewable": true, "capped": true, "superseded": false,
                "token_expires_in_s": 90061}],
    "templates": [{"source": "a.tmpl", "destination": "/etc/a.conf", "state": "ok",
                   "last_render": "2026-12-04T18:00:00Z", "last_write": "2026-12-04T18:00:00Z",
                   "last_error": null},
                  {"source": "b.tmpl", "destination": "/etc/b.conf", "state": "pending",
                   "last_render": null, "last_write": null, "last_error": null}],
    "targets": [{"target": "redash http://redash:5000", "result": "failed",
                 "last_apply": "2026-12-04T18:00:01Z", "leader": null,
                 "last_error": "pg: failed: 500 boom"}]
})j");
  std::string table = format_status_table(j);
  CHECK(table ==
        "templet 1.2.3: degraded\n"
        "\n"
        "DEPENDENCY                                                   KIND        STATE\n"
        "kv.block(app/n)                                              kv.block    ok\n"
        "...cret/data/a/very/long/path/that/goes/on/and/on/and/on/x)  vault.read  failing\n"
        "  error: GET /v1/secret/data/a: status 403: permission denied\n"
        "         second line\n"
        "\n"
        "LEASE OF                       EXPIRES IN  RENEWABLE  TOKEN EXPIRES IN\n"
        "vault.read(database/creds/ro)  59m 1s      yes        1d 1h\n"
        "  lease database/creds/ro/…#abcdef\n"
        "vault.read(database/creds/rw)  33m 20s     capped     1d 1h\n"
        "  lease database/creds/rw/…#012345\n"
        "\n"
        "DESTINATION  STATE    LAST WRITE\n"
        "/etc/a.conf  ok       2026-12-04T18:00:00Z\n"
        "/etc/b.conf  pending  -\n"
        "\n"
        "TARGET                     RESULT  LAST APPLY            LEADER\n"
        "redash http://redash:5000  failed  2026-12-04T18:00:01Z  -\n"
        "  error: pg: failed: 500 boom\n");
  std::istringstream lines(table);
  for (std::string l; std::getline(lines, l);) {
    INFO(l);
    size_t cols = 0;
    for (unsigned char c : l) cols += (c & 0xC0) != 0x80;
    CHECK(cols <= 80);
  }
}

namespace {

class FailingHook : public ApplyHook {
 public:
  explicit FailingHook(bool fail, bool verify = false) : fail_(fail), verify_(verify) {}
  Plan plan(const std::string&, const std::string& file) override {
    Plan p;
    p.hook = "redash";
    p.file = file;
    p.target = "http://redash";
    p.entries.push_back({"pg", PlanAction::Update, {}, ""});
    return p;
  }
  ApplyResult apply(const Plan&) override {
    ApplyResult r;
    r.entries.push_back({"pg", fail_ ? ApplyOutcome::Failed : ApplyOutcome::Updated,
                         fail_ ? "POST /api/data_sources/1: status 500: boom" : ""});
    // As the Redash hook reports its connection test: a failed test fails the entry.
    if (verify_) {
      r.verified = 1;
      r.verify_failures = fail_ ? 1 : 0;
    }
    return r;
  }

 private:
  bool fail_, verify_;
};

}  // namespace

TEST_CASE("status board: the run loop reports a failing apply to status and metrics", "[status]") {
  TempDir dir;
  Config c;
  TemplateConfig t;
  t.origin = "test";
  t.contents = "x\n";
  t.destination = (dir.path / "ds.yaml").string();
  t.redash = RedashApplyConfig{};
  t.redash->url = "http://redash";
  c.templates.push_back(t);
  std::map<std::string, std::string> env;
  finalize_config(c, &env);
  StatusBoard board;
  for (bool fail : {true, false}) {
    StaticFeed feed(std::make_shared<EmptyDataSource>());
    RunOptions o;
    o.once = true;
    o.status = &board;
    o.make_hooks = [fail](const TemplateConfig&) {
      std::vector<std::unique_ptr<ApplyHook>> hooks;
      hooks.push_back(std::make_unique<FailingHook>(fail));
      return hooks;
    };
    CHECK(run_templates(c, feed, o) == (fail ? 1 : 0));
    auto j = board.status_json(std::chrono::system_clock::now());
    CHECK(j["targets"][0]["target"] == "redash http://redash");
    CHECK(j["targets"][0]["last_plan"] == "1 update");
    CHECK(j["targets"][0]["result"] == (fail ? "failed" : "ok"));
    CHECK(j["targets"][0]["last_error"] ==
          (fail ? nlohmann::json("failed \"pg\": POST /api/data_sources/1: status 500: boom")
                : nlohmann::json(nullptr)));
    CHECK(j["healthy"] == !fail);
  }
  std::string m = board.metrics_text(std::chrono::system_clock::now());
  CHECK(m.find("templet_apply_total{target=\"redash http://redash\",result=\"failed\"} 1\n") !=
        std::string::npos);
  CHECK(m.find("templet_apply_total{target=\"redash http://redash\",result=\"ok\"} 1\n") !=
        std::string::npos);
}

TEST_CASE("status board: a failed verification counts and shows as the last one", "[status]") {
  TempDir dir;
  Config c = parse_config(
      "templates:\n  - contents: x\n    destination: " + (dir.path / "ds.yaml").string() +
          "\n    apply: {redash: {url: http://redash, verify: test_on_change}}\n",
      "t.yaml");
  std::map<std::string, std::string> env;
  finalize_config(c, &env);
  REQUIRE(c.templates[0].redash->test_after_apply == true);
  StatusBoard board;
  std::vector<std::string> seen;
  for (bool fail : {true, false}) {
    StaticFeed feed(std::make_shared<EmptyDataSource>());
    RunOptions o;
    o.once = true;
    o.status = &board;
    o.make_hooks = [fail](const TemplateConfig&) {
      std::vector<std::unique_ptr<ApplyHook>> hooks;
      hooks.push_back(std::make_unique<FailingHook>(fail, true));
      return hooks;
    };
    run_templates(c, feed, o);
    auto j = board.status_json(std::chrono::system_clock::now());
    seen.push_back(j["targets"][0]["last_verification"]);
  }
  CHECK(seen == std::vector<std::string>{"failed", "ok"});
  CHECK(board.metrics_text(std::chrono::system_clock::now())
            .find("templet_verify_failures_total{target=\"redash http://redash\"} 1\n") !=
        std::string::npos);
  CHECK_THROWS_WITH(
      parse_config("templates:\n  - contents: x\n    destination: /x\n    apply: "
                   "{redash: {url: http://r, verify: always}}\n",
                   "t.yaml"),
      Catch::Contains("t.yaml:4") &&
          Catch::Contains("apply.redash.verify must be \"test_on_change\" or \"off\""));
}

TEST_CASE("status board: in a fleet, who applies each target", "[status][fleet]") {
  StatusBoard b;
  b.applied("redash http://r", "/etc/a.conf", ApplyVerdict::Ok, "", false);
  b.applied("influxdb http://i (org o)", "/etc/t.flux", ApplyVerdict::Ok, "", false);
  b.leader("redash http://r", "web-2", false);
  b.leader("influxdb http://i (org o)", "web-1", true);
  auto j = b.status_json(at(1800000000));
  REQUIRE(j["targets"].size() == 2);
  CHECK(j["targets"][0]["target"] == "influxdb http://i (org o)");
  CHECK(j["targets"][0]["leader"] == "web-1");
  CHECK(j["targets"][1]["leader"] == "web-2");
  std::string m = b.metrics_text(at(1800000000));
  CHECK(m.find("templet_leader{target=\"redash http://r\"} 0\n") != std::string::npos);
  CHECK(m.find("templet_leader{target=\"influxdb http://i (org o)\"} 1\n") != std::string::npos);
}
