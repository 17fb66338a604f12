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
  spit(p / "templet.yaml", "state_dir: " + (p / "state").string() +
                               "\n"
                               "influxdb: {url: " +
                               influx.url() + ", org: myorg, token_env: " + kTokenEnv +
                               "}\n"
                               "templates:\n"
                               "  - source: " +
                               (p / "alert.flux.tmpl").string() +
                               "\n"
                               "    destination: " +
                               (p / "alert.flux").string() +
                               "\n"
                               "    apply:\n"
                               "      influxdb:\n"
                               "        ready_timeout: 10s\n"
                               "        secrets:\n"
                               "          SLACK_WEBHOOK: '{{ with secret \"secret/alerts\" }}"
                               "{{ .Data.data.webhook }}{{ end }}'\n");
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
