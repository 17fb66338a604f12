// The InfluxDB hook's org resources against the InfluxDB emulator: secrets kept in the org's
// secret store and planned from keyed digests in state_dir, buckets ensured with their
// retention, DBRP mappings for buckets without a physical one; a second apply writes nothing;
// prune deletes only what templet set; secret values appear in no plan, result or state file.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "hooks/influxdb.hpp"
#include "tests/unit/test_support.hpp"

using namespace templet;
using namespace templet::testing;
using json = nlohmann::json;

namespace {

const std::string kDest = "/etc/influxdb/tasks/alerts.flux";
const std::string kWebhook = "https://hooks.slack.example/services/T0/B0/webhook-s3cr3t-one";
const std::string kWebhook2 = "https://hooks.slack.example/services/T0/B0/webhook-s3cr3t-two";

json control(const EmulatorProcess& e, const std::string& method, const std::string& path,
             const json& body = nullptr) {
  auto r = call(e, method, "/_emulator/" + path, body.is_null() ? "" : body.dump());
  return r.body.empty() ? json() : json::parse(r.body);
}

size_t writes(const EmulatorProcess& e) {
  size_t n = 0;
  for (const auto& r : control(e, "GET", "requests"))
    if (r["path"].get<std::string>().rfind("/api/v2/", 0) == 0 && r["method"] != "GET") ++n;
  return n;
}

struct Org {
  EmulatorProcess emu{"influxdb"};
  TempDir dir{"templet-influx-org"};
  InfluxHookSettings settings(bool prune = false) const {
    InfluxHookSettings s;
    s.url = emu.url();
    s.org = "myorg";
    s.token = "admin-token";
    s.prune = prune;
    s.destination = kDest;
    s.state_dir = (dir.path / "state").string();
    s.ready_timeout = std::chrono::seconds(5);
    return s;
  }
  json state() const { return control(emu, "GET", "state"); }
  std::string org_id() const { return state()["default_org_id"].get<std::string>(); }
  json secrets() const { return state()["org_secrets"][org_id()]; }
  json bucket(const std::string& name) const {
    json st = state();  // kept alive: the loop reads inside it
    for (const auto& b : st["buckets"])
      if (b["name"] == name) return b;
    return nullptr;
  }
};

// Plans and applies `s`; the plan text and the result text.
std::pair<std::string, std::string> run(const InfluxHookSettings& s, const std::string& flux = "") {
  InfluxHook h(s, make_http_client());
  Plan p = h.plan(flux, kDest);
  ApplyResult r = h.apply(p);
  CHECK(r.ok());
  return {format_plan(p), format_result(r)};
}

}  // namespace

#define NEED_ORG(o)                                   \
  Org o;                                              \
  if (o.emu.port == 0) {                              \
    WARN("influxdb emulator not available; skipped"); \
    return;                                           \
  }

TEST_CASE("influxdb secrets: set in the org's store, planned from keyed digests", "[influxdb]") {
  NEED_ORG(o);
  control(o.emu, "POST", "seed", {{"secrets", {{"THEIRS", "an-operator-secret-value"}}}});
  const std::string head = "influxdb plan for " + kDest + " -> " + o.emu.url() + " (org myorg)\n";
  auto s = o.settings(true);
  s.secrets = {{"SLACK_WEBHOOK", kWebhook}};
  auto [plan1, result1] = run(s);
  CHECK(plan1 == head + "  create \"secret SLACK_WEBHOOK\"\n      value: (secret) new\n" +
                     "  => 1 to CREATE (new, by exact name), 0 other\n");
  CHECK(result1 == "  created \"secret SLACK_WEBHOOK\"\n");
  CHECK(o.secrets() == json{{"SLACK_WEBHOOK", kWebhook}, {"THEIRS", "an-operator-secret-value"}});
  // The state holds a keyed digest, never the value.
  std::string state_text;
  for (const auto& f : std::filesystem::recursive_directory_iterator(o.dir.path))
    if (f.is_regular_file()) state_text += slurp(f.path());
  CHECK(state_text.find("s3cr3t") == std::string::npos);
  CHECK(state_text.find("SLACK_WEBHOOK") != std::string::npos);

  control(o.emu, "DELETE", "requests");
  auto [plan2, result2] = run(s);
  CHECK(plan2 == head + "  unchanged \"secret SLACK_WEBHOOK\"\n");
  CHECK(writes(o.emu) == 0);

  s.secrets = {{"SLACK_WEBHOOK", kWebhook2}};
  auto [plan3, result3] = run(s);
  CHECK(plan3 == head + "  update \"secret SLACK_WEBHOOK\"\n      value: (secret) changed\n");
  CHECK(o.secrets()["SLACK_WEBHOOK"] == kWebhook2);

  // A key templet did not send (set by hand, or the state lost) is sent once as unknown.
  std::filesystem::remove_all(o.dir.path / "state");
  auto [plan4, result4] = run(s);
  CHECK(plan4 == head + "  update \"secret SLACK_WEBHOOK\"\n      value: (secret) unknown\n");
  CHECK(run(s).first == head + "  unchanged \"secret SLACK_WEBHOOK\"\n");

  // Prune deletes what templet set and no longer configures; never an operator's secret.
  s.secrets.clear();
  auto [plan5, result5] = run(s);
  CHECK(plan5 == head +
                     "  delete \"secret SLACK_WEBHOOK\"\n"
                     "      set by templet, no longer configured\n");
  CHECK(o.secrets() == json{{"THEIRS", "an-operator-secret-value"}});
  for (const auto& text : {plan1, result1, plan3, result3, plan4, result4, plan5, result5})
    CHECK(text.find("s3cr3t") == std::string::npos);

  // Without prune nothing is ever deleted.
  s.secrets = {{"SLACK_WEBHOOK", kWebhook}};
  run(s);
  s.secrets.clear();
  s.prune = false;
  CHECK(run(s).first == head);
  CHECK(o.secrets().contains("SLACK_WEBHOOK"));
}

TEST_CASE("influxdb buckets: created when missing, retention kept, pruned only if templet made it",
          "[influxdb]") {
  NEED_ORG(o);
  control(o.emu, "POST", "seed",
          {{"buckets", json::array({{{"name", "theirs"}, {"retention_s", 3600}}})}});
  const std::string head = "influxdb plan for " + kDest + " -> " + o.emu.url() + " (org myorg)\n";
  auto s = o.settings(true);
  s.buckets = {{"multiapp_", std::chrono::hours(720)}, {"theirs", std::chrono::hours(2)}};
  auto [plan1, result1] = run(s);
  std::string theirs_id = o.bucket("theirs")["id"];
  CHECK(plan1 == head +
                     "  create \"bucket multiapp_\"\n"
                     "      retention: 720h\n"
                     "  update \"bucket theirs\"\n"
                     "      retention: 1h -> 2h (bucket " +
                     theirs_id + ")\n" + "  => 1 to CREATE (new, by exact name), 1 other\n");
  CHECK(result1 == "  created \"bucket multiapp_\": bucket " +
                       o.bucket("multiapp_")["id"].get<std::string>() +
                       "\n  updated \"bucket theirs\": bucket " + theirs_id + "\n");
  CHECK(o.bucket("multiapp_")["retentionRules"][0]["everySeconds"] == 720 * 3600);
  CHECK(o.bucket("theirs")["retentionRules"][0]["everySeconds"] == 7200);

  control(o.emu, "DELETE", "requests");
  CHECK(run(s).first == head + "  unchanged \"bucket multiapp_\"\n  unchanged \"bucket theirs\"\n");
  CHECK(writes(o.emu) == 0);

  s.buckets = {{"multiapp_", std::chrono::seconds(0)}};
  CHECK(run(s).first ==
        head + "  update \"bucket multiapp_\"\n      retention: 720h -> forever (bucket " +
            o.bucket("multiapp_")["id"].get<std::string>() + ")\n");
  CHECK(o.bucket("multiapp_")["retentionRules"][0]["everySeconds"] == 0);

  // Unlisted: templet's bucket is pruned, the operator's one is not.
  s.buckets.clear();
  std::string id = o.bucket("multiapp_")["id"];
  CHECK(run(s).first == head + "  delete \"bucket multiapp_\"\n      bucket " + id +
                            ", created by templet, no longer configured\n");
  CHECK(o.bucket("multiapp_").is_null());
  CHECK_FALSE(o.bucket("theirs").is_null());
}

TEST_CASE("influxdb dbrp: a physical mapping for every bucket that lacks one", "[influxdb]") {
  NEED_ORG(o);
  control(o.emu, "POST", "seed",
          {{"buckets", json::array({{{"name", "app1"}}, {{"name", "mapped"}}})}});
  std::string mapped = o.bucket("mapped")["id"];
  control(
      o.emu, "POST", "seed",
      {{"dbrps",
        json::array(
            {{{"bucketID", mapped}, {"database", "legacy"}, {"retention_policy", "weekly"}}})}});
  const std::string head = "influxdb plan for " + kDest + " -> " + o.emu.url() + " (org myorg)\n";
  auto s = o.settings();
  s.buckets = {{"multiapp_", std::chrono::seconds(0)}};
  s.dbrp = InfluxDbrpSpec{true, {}, "autogen"};
  auto [plan1, result1] = run(s);
  CHECK(plan1 == head +
                     "  create \"bucket multiapp_\"\n"
                     "      retention: forever\n"
                     "  create \"dbrp app1\"\n"
                     "      database: app1, retention_policy: autogen, default: true\n"
                     "  unchanged \"dbrp mapped\"\n"
                     "  create \"dbrp multiapp_\"\n"
                     "      database: multiapp_, retention_policy: autogen, default: true\n"
                     "  create \"dbrp mybucket\"\n"
                     "      database: mybucket, retention_policy: autogen, default: true\n"
                     "  => 4 to CREATE (new, by exact name), 1 other\n");
  // One physical mapping per user bucket; system buckets get none.
  std::map<std::string, std::string> by_bucket;
  json st = o.state();  // kept alive: the loop reads inside it
  for (const auto& d : st["dbrps"]) {
    CHECK(d["virtual"] == false);
    by_bucket[d["bucketID"]] =
        d["database"].get<std::string>() + "/" + d["retention_policy"].get<std::string>();
  }
  CHECK(by_bucket ==
        std::map<std::string, std::string>{{o.bucket("app1")["id"], "app1/autogen"},
                                           {mapped, "legacy/weekly"},
                                           {o.bucket("multiapp_")["id"], "multiapp_/autogen"},
                                           {o.bucket("mybucket")["id"], "mybucket/autogen"}});
  control(o.emu, "DELETE", "requests");
  auto [plan2, result2] = run(s);
  CHECK(plan2.find("create") == std::string::npos);
  CHECK(writes(o.emu) == 0);

  // A listed bucket that does not exist is refused, the others proceed.
  s.dbrp = InfluxDbrpSpec{false, {"nope", "app1"}, "autogen"};
  InfluxHook h(s, make_http_client());
  Plan p = h.plan("", kDest);
  CHECK(format_plan(p) == head +
                              "  unchanged \"bucket multiapp_\"\n"
                              "  refused \"dbrp nope\": no bucket named \"nope\" in the "
                              "organization\n"
                              "  unchanged \"dbrp app1\"\n");
}

TEST_CASE("influxdb buckets are paged with after= until a page is short", "[influxdb]") {
  NEED_ORG(o);
  json many = json::array();
  for (int i = 0; i < 150; ++i) many.push_back({{"name", "app" + std::to_string(1000 + i)}});
  control(o.emu, "POST", "seed", {{"buckets", many}});
  control(o.emu, "DELETE", "requests");
  auto s = o.settings();
  s.dbrp = InfluxDbrpSpec{true, {}, "autogen"};
  InfluxHook h(s, make_http_client());
  Plan p = h.plan("", kDest);
  REQUIRE(p.error.empty());
  CHECK(p.entries.size() == 151);  // 150 + mybucket; _monitoring and _tasks get no mapping
  std::vector<std::string> afters;
  for (const auto& r : control(o.emu, "GET", "requests")) {
    if (r["path"] != "/api/v2/buckets") continue;
    CHECK(r["query"]["limit"][0] == "100");
    afters.push_back(r["query"].contains("after") ? r["query"]["after"][0].get<std::string>() : "");
  }
  // 153 buckets: a full page of 100, then 53 after the 100th (in name order): no empty page.
  REQUIRE(afters.size() == 2);
  CHECK(afters[0] == "");
  CHECK(afters[1] == o.bucket("app1097")["id"]);
}
