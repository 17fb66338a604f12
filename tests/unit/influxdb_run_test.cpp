// The InfluxDB hook as it runs in production: the built `templet` binary renders Flux tasks and
// apply.influxdb.secrets from the Vault emulator and applies them to the InfluxDB emulator.
// The webhook lives only in the org's secret store: never in a task's Flux, never in templet's
// output; a second run writes nothing; a rotated value alone is sent again.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/unit/test_support.hpp"

using namespace templet::testing;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char* kTokenEnv = "TEMPLET_TEST_INFLUX_TOKEN";
const std::string kHook1 = "https://hooks.slack.example/services/T1/B1/vault-webhook-s3cr3t-1";
const std::string kHook2 = "https://hooks.slack.example/services/T1/B1/vault-webhook-s3cr3t-2";

json influx_state(const EmulatorProcess& influx) {
  return call_json(influx, "GET", "/_emulator/state");
}

size_t influx_writes(const EmulatorProcess& influx) {
  size_t n = 0;
  for (const auto& r : call_json(influx, "GET", "/_emulator/requests"))
    if (r["method"] != "GET" && r["path"].get<std::string>().rfind("/api/v2/", 0) == 0) ++n;
  return n;
}

const char* kAlertFlux = R"(option task = {name: "slack-alert", every: 1m}

import "influxdata/influxdb/secrets"
import "slack"

webhook = secrets.get(key: "SLACK_WEBHOOK")

from(bucket: "mybucket")
    |> range(start: -task.every)
)";

// The alert template applied with its webhook from Vault in apply.influxdb.secrets.
std::string alert_config(const fs::path& p, const EmulatorProcess& influx,
                         const std::string& extra = "") {
  return "state_dir: " + (p / "state").string() + "\n" + extra + "influxdb: {url: " + influx.url() +
         ", org: myorg, token_env: " + kTokenEnv +
         "}\n"
         "templates:\n"
         "  - source: " +
         (p / "alert.flux.tmpl").string() + "\n    destination: " + (p / "alert.flux").string() +
         "\n"
         "    apply:\n"
         "      influxdb:\n"
         "        ready_timeout: 10s\n"
         "        secrets:\n"
         "          SLACK_WEBHOOK: '{{ with secret \"secret/alerts\" }}"
         "{{ .Data.data.webhook }}{{ end }}'\n";
}

}  // namespace

TEST_CASE("influxdb run: apply.influxdb.secrets from Vault, kept out of Flux and output",
          "[influxdb][emulator][cli]") {
  EmulatorProcess vault("vault", json{{"kv", {{"secret/alerts", {{"webhook", kHook1}}}}}}.dump());
  EmulatorProcess influx("influxdb");
  if (vault.port == 0 || influx.port == 0 || !fs::exists(TEMPLET_BINARY)) {
    WARN("emulators or binary not available; skipped");
    return;
  }
  TempDir d;
  const fs::path p = d.path;
  spit(p / "alert.flux.tmpl", kAlertFlux);
  spit(p / "templet.yaml", alert_config(p, influx));
  std::map<std::string, std::string> env = {
      {"VAULT_ADDR", vault.url()}, {"VAULT_TOKEN", "root"}, {kTokenEnv, "admin-token"}};
  std::string all_output;
  auto run = [&]() {
    TempletProcess t({"run", "--once", "-c", (p / "templet.yaml").string()}, env, p);
    int status = t.wait(std::chrono::seconds(30));
    all_output += t.stdout_text() + t.stderr_text();
    INFO(t.stderr_text());
    CHECK(status == 0);
    return t.stderr_text();
  };
  std::string org;
  auto secret_value = [&]() {
    json st = influx_state(influx);
    org = st["default_org_id"];
    return st["org_secrets"][org].value("SLACK_WEBHOOK", "");
  };

  std::string first = run();
  CHECK(secret_value() == kHook1);
  CHECK(first.find("create \"secret SLACK_WEBHOOK\"\n      value: (secret) new") !=
        std::string::npos);
  json st = influx_state(influx);
  bool found = false;
  for (const auto& t : st["tasks"]) {
    if (t["name"] != "slack-alert") continue;
    found = true;
    CHECK(t["flux"] == kAlertFlux);
  }
  CHECK(found);

  call(influx, "DELETE", "/_emulator/requests");
  run();
  CHECK(influx_writes(influx) == 0);

  // The value rotates in Vault; the Flux file stays the same, the secret alone is sent.
  call(vault, "POST", "/_emulator/seed",
       json{{"kv", {{"secret/alerts", {{"webhook", kHook2}}}}}}.dump());
  std::string third = run();
  CHECK(third.find("update \"secret SLACK_WEBHOOK\"\n      value: (secret) changed") !=
        std::string::npos);
  CHECK(secret_value() == kHook2);
  CHECK(influx_writes(influx) == 1);

  CHECK(all_output.find("s3cr3t") == std::string::npos);
  CHECK(slurp(p / "alert.flux").find("s3cr3t") == std::string::npos);
}

namespace {

// A call to the emulated InfluxDB API with the admin token.
json influx_api(const EmulatorProcess& influx, const std::string& method, const std::string& path,
                const json& body = nullptr) {
  templet::HttpRequest req;
  req.method = method;
  req.url = influx.url() + path;
  req.headers = {{"Authorization", "Token admin-token"}, {"Content-Type", "application/json"}};
  if (!body.is_null()) req.body = body.dump();
  auto resp = templet::make_http_client()->send(req);
  return resp.body.empty() ? json() : json::parse(resp.body);
}

std::map<std::string, json> tasks_by_name(const EmulatorProcess& influx) {
  std::map<std::string, json> out;
  json st = influx_state(influx);  // kept alive: the loop reads inside it
  for (const auto& t : st["tasks"]) out[t["name"]] = t;
  return out;
}

std::string shipped(const std::string& name) {
  return std::string(TEMPLET_SOURCE_DIR) + "/templates/influxdb/" + name;
}

}  // namespace

TEST_CASE("influxdb run: the shipped taskmaker templates, live over influxdbBuckets",
          "[influxdb][emulator][cli]") {
  EmulatorProcess vault(
      "vault", json{{"kv", {{"secret/monitoring/alerting", {{"webhook_url", kHook1}}}}}}.dump());
  EmulatorProcess influx(
      "influxdb",
      json{{"buckets", json::array({{{"name", "checkout"}}, {{"name", "search"}}})}}.dump());
  if (vault.port == 0 || influx.port == 0 || !fs::exists(TEMPLET_BINARY)) {
    WARN("emulators or binary not available; skipped");
    return;
  }
  TempDir d;
  const fs::path p = d.path;
  const std::string org = influx_state(influx)["default_org_id"];
  spit(p / "templet.yaml",
       "state_dir: " + (p / "state").string() + "\n" + "influxdb: {url: " + influx.url() +
           ", org: myorg, token_env: " + kTokenEnv +
           ", poll_interval: 300ms}\n"
           "retry: {backoff: 100ms, max_backoff: 500ms}\n"
           "templates:\n"
           "  - source: " +
           shipped("taskmaker.flux.tmpl") + "\n" +
           "    destination: " + (p / "taskmaker.flux").string() + "\n" +
           "    apply:\n"
           "      influxdb:\n"
           "        prune: true\n"
           "        buckets: [{name: multiapp_, retention: 720h}]\n"
           "        dbrp: {buckets: all}\n"
           "  - source: " +
           shipped("alerting.flux.tmpl") + "\n" +
           "    destination: " + (p / "alerting.flux").string() + "\n" +
           "    apply:\n"
           "      influxdb:\n"
           "        secrets:\n"
           "          ALERT_WEBHOOK_URL: '{{ with secret \"secret/monitoring/alerting\" }}"
           "{{ .Data.data.webhook_url }}{{ end }}'\n");
  std::map<std::string, std::string> env = {{"VAULT_ADDR", vault.url()},
                                            {"VAULT_TOKEN", "root"},
                                            {kTokenEnv, "admin-token"},
                                            {"INFLUXDB_ORG", "myorg"},
                                            {"ENVIRONMENT", "qa"}};
  TempletProcess t({"run", "-c", (p / "templet.yaml").string()}, env, p);
  auto names = [&] {
    std::set<std::string> out;
    for (const auto& [name, task] : tasks_by_name(influx)) out.insert(name);
    return out;
  };
  const std::set<std::string> first = {
      "alerts: notify",     "checkout: not running", "checkout: restarts", "mybucket: not running",
      "mybucket: restarts", "search: not running",   "search: restarts"};
  REQUIRE(eventually([&] { return names() == first; }, 20s));
  // multiapp_ once, one physical DBRP mapping per user bucket, none for system buckets.
  auto buckets = influx_state(influx)["buckets"];
  CHECK(std::count_if(buckets.begin(), buckets.end(),
                      [](const json& b) { return b["name"] == "multiapp_"; }) == 1);
  REQUIRE(eventually([&] { return influx_state(influx)["dbrps"].size() == 4; }, 10s));
  std::set<std::string> mapped;
  json dbrps = influx_state(influx)["dbrps"];  // kept alive: the loop reads inside it
  for (const auto& m : dbrps) mapped.insert(m["database"]);
  CHECK(mapped == std::set<std::string>{"checkout", "multiapp_", "mybucket", "search"});
  // The webhook is only in the org's secrets.
  CHECK(influx_state(influx)["org_secrets"][org]["ALERT_WEBHOOK_URL"] == kHook1);
  for (const auto& [name, task] : tasks_by_name(influx))
    CHECK(task["flux"].get<std::string>().find("s3cr3t") == std::string::npos);

  // An operator pauses a task; a new bucket gets its tasks within a poll, the pause is kept.
  std::string paused = tasks_by_name(influx)["checkout: restarts"]["id"];
  influx_api(influx, "PATCH", "/api/v2/tasks/" + paused, {{"status", "inactive"}});
  influx_api(influx, "POST", "/api/v2/buckets", {{"orgID", org}, {"name", "payments"}});
  CHECK(eventually(
      [&] {
        return names().count("payments: restarts") + names().count("payments: not running") == 2;
      },
      10s));
  CHECK(tasks_by_name(influx)["checkout: restarts"]["status"] == "inactive");

  // A deleted bucket's tasks are pruned.
  std::string search_id;
  json now = influx_state(influx);  // kept alive: the loop reads inside it
  for (const auto& b : now["buckets"])
    if (b["name"] == "search") search_id = b["id"];
  influx_api(influx, "DELETE", "/api/v2/buckets/" + search_id);
  INFO(t.stderr_text());
  CHECK(eventually(
      [&] { return names().count("search: restarts") + names().count("search: not running") == 0; },
      10s));
  buckets = influx_state(influx)["buckets"];
  CHECK(std::count_if(buckets.begin(), buckets.end(),
                      [](const json& b) { return b["name"] == "multiapp_"; }) == 1);

  t.signal(SIGTERM);
  CHECK(t.wait(10s) == 0);
  std::string out = t.stdout_text() + t.stderr_text();
  CHECK(out.find("s3cr3t") == std::string::npos);
  CHECK(slurp(p / "alerting.flux").find("s3cr3t") == std::string::npos);
}

TEST_CASE("influxdb run: the daemon sends a secret Vault rotated, the Flux unchanged",
          "[influxdb][emulator][cli]") {
  EmulatorProcess vault("vault", json{{"kv", {{"secret/alerts", {{"webhook", kHook1}}}}}}.dump());
  EmulatorProcess influx("influxdb");
  if (vault.port == 0 || influx.port == 0 || !fs::exists(TEMPLET_BINARY)) {
    WARN("emulators or binary not available; skipped");
    return;
  }
  TempDir d;
  const fs::path p = d.path;
  spit(p / "alert.flux.tmpl", kAlertFlux);
  // KV secrets have no lease: re-read at about 90 % of default_lease_duration.
  spit(p / "templet.yaml", alert_config(p, influx, "vault: {default_lease_duration: 1s}\n"));
  std::map<std::string, std::string> env = {
      {"VAULT_ADDR", vault.url()}, {"VAULT_TOKEN", "root"}, {kTokenEnv, "admin-token"}};
  TempletProcess t({"run", "-c", (p / "templet.yaml").string()}, env, p);
  auto secret_value = [&]() {
    json st = influx_state(influx);
    json secrets = st["org_secrets"][st["default_org_id"].get<std::string>()];
    return secrets.is_object() ? secrets.value("SLACK_WEBHOOK", "") : std::string();
  };
  REQUIRE(eventually([&] { return secret_value() == kHook1; }, 15s));
  call(influx, "DELETE", "/_emulator/requests");
  call(vault, "POST", "/_emulator/seed",
       json{{"kv", {{"secret/alerts", {{"webhook", kHook2}}}}}}.dump());
  CHECK(eventually([&] { return secret_value() == kHook2; }, 15s));
  // The file did not change: only the secret was sent, no task was touched.
  for (const auto& r : call_json(influx, "GET", "/_emulator/requests"))
    if (r["method"] != "GET")
      CHECK(r["path"].get<std::string>().find("/secrets") != std::string::npos);
  t.signal(SIGTERM);
  CHECK(t.wait(10s) == 0);
  CHECK((t.stdout_text() + t.stderr_text()).find("s3cr3t") == std::string::npos);
}

TEST_CASE("influxdb run: influxdbBuckets waits out a failing poll, fails clearly unconfigured",
          "[influxdb][emulator][cli]") {
  EmulatorProcess influx("influxdb");
  if (influx.port == 0 || !fs::exists(TEMPLET_BINARY)) {
    WARN("emulator or binary not available; skipped");
    return;
  }
  TempDir d;
  const fs::path p = d.path;
  spit(p / "t.tmpl", "{{ range influxdbBuckets \"myorg\" }}{{ .Name }} {{ .Type }}\n{{ end }}");
  const std::string templates = "templates:\n  - {source: " + (p / "t.tmpl").string() +
                                ", destination: " + (p / "out").string() + "}\n";
  std::map<std::string, std::string> env = {{kTokenEnv, "admin-token"}};

  // Two failed polls: retried per `retry`, the file written once the list arrives.
  call(influx, "POST", "/_emulator/fault",
       json{{"path_regex", "^/api/v2/buckets$"}, {"status", 500}, {"count", 2}}.dump());
  spit(p / "templet.yaml", "state_dir: " + (p / "state").string() + "\ninfluxdb: {url: " +
                               influx.url() + ", org: myorg, token_env: " + kTokenEnv +
                               "}\nretry: {backoff: 50ms, max_backoff: 100ms}\n" + templates);
  TempletProcess ok({"run", "--once", "--timeout", "20s", "-c", (p / "templet.yaml").string()}, env,
                    p);
  CHECK(ok.wait(30s) == 0);
  CHECK(slurp(p / "out") == "_monitoring system\n_tasks system\nmybucket user\n");
  CHECK(ok.stderr_text().find("influxdb.buckets(myorg): GET /api/v2/buckets: 500") !=
        std::string::npos);

  // No influxdb.url: the template fails naming what to set.
  spit(p / "none.yaml", "state_dir: " + (p / "state").string() + "\n" + templates);
  TempletProcess none({"run", "--once", "--timeout", "5s", "-c", (p / "none.yaml").string()}, env,
                      p);
  CHECK(none.wait(20s) == 1);
  CHECK(none.stderr_text().find("error calling influxdbBuckets: influxdb.buckets(myorg): InfluxDB "
                                "is not configured (set influxdb.url)") != std::string::npos);
}
