// The Redash hook as it runs in production: the built `templet` binary renders the shipped
// templates/redash/datasources.yaml.tmpl from the Vault and Consul emulators and applies it to
// the Redash emulator through apply.redash (project issue 5): the issue's own check against a
// Redash seeded like a real install. Skipped when python3 or the emulators are absent.
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/unit/test_support.hpp"

using namespace templet::testing;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char* kKeyEnv = "TEMPLET_TEST_REDASH_KEY";

std::string shipped_template() {
  return std::string(TEMPLET_SOURCE_DIR) + "/templates/redash/datasources.yaml.tmpl";
}

// A config with the shipped template applied to `redash`.
std::string config_yaml(const fs::path& dir, const EmulatorProcess& redash,
                        const std::string& extra_redash_keys = "") {
  return "state_dir: " + (dir / "state").string() +
         "\n"
         "vault: {revoke_superseded: true}\n"
         "templates:\n"
         "  - source: " +
         shipped_template() +
         "\n"
         "    destination: " +
         (dir / "datasources.yaml").string() +
         "\n"
         "    apply:\n"
         "      redash: {url: " +
         redash.url() + ", api_key_env: " + kKeyEnv + ", ready_timeout: 10s" + extra_redash_keys +
         "}\n";
}

json redash_datasources(const EmulatorProcess& redash) {
  return call_json(redash, "GET", "/_emulator/state")["data_sources"];
}

json datasource_named(const EmulatorProcess& redash, const std::string& name) {
  for (const auto& d : redash_datasources(redash))
    if (d["name"] == name) return d;
  return nullptr;
}

size_t redash_writes(const EmulatorProcess& redash) {
  size_t n = 0;
  for (const auto& r : call_json(redash, "GET", "/_emulator/requests"))
    if (r["method"] != "GET") ++n;
  return n;
}

// The live Vault lease of the database user a Redash datasource holds.
json lease_held_by(const VaultAndConsul& s, const json& datasource) {
  auto leases = s.leases_by_user();
  auto it = leases.find(datasource["options"].value("user", ""));
  return it == leases.end() ? json() : it->second;
}

void check_no_secret(const std::string& output, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    INFO("secret " << secret);
    CHECK(output.find(secret) == std::string::npos);
  }
}

}  // namespace

TEST_CASE(
    "redash run: the shipped template from Vault and Consul, applied to a real-looking "
    "Redash",
    "[redash][emulator][cli]") {
  VaultAndConsul s(R"({"database_mounts": {
      "postgres-app-qa": {"roles": {"readonly": {}}},
      "postgres-billing-qa": {"roles": {"readonly": {}}},
      "postgres-app-prod": {"roles": {"readonly": {}}}}})",
                   R"({"kv": {
      "redash/datasource_configs/app-qa/db_host": "pg-app.qa.internal",
      "redash/datasource_configs/billing-qa/db_host": "pg-billing.qa.internal",
      "redash/datasource_configs/app-prod/db_host": "pg-app.prod.internal",
      "redash/datasource_configs/app-prod/db_port": "6432"}})");
  SKIP_WITHOUT_EMULATORS(s);
  // As a real install looks: capitals, spaces and punctuation, a name differing only in case,
  // one whose type differs from the template's, and no "App Production" yet.
  const json seed = json::parse(R"X({"data_sources": [
      {"id": 1, "name": "App QA", "type": "pg", "options": {"host": "pg-old.qa.internal",
       "port": 5432, "dbname": "app", "user": "v-readonly-old", "password": "Old-Qa-Pass-1",
       "sslmode": "prefer"}},
      {"id": 2, "name": "Billing QA (read-only)", "type": "mysql", "options": {
    "host" : "my.qa.internal", "db" : "billing", "user" : "billing", "passwd" : "My-Billing-Pass-2"}
},
      {"id": 3, "name": "app qa", "type": "pg", "options": {"dbname": "app",
       "password": "Lower-Case-Pass-3"}},
      {"id": 4, "name": "App Production (old)", "type": "pg", "options": {"dbname": "app"}}]
})X");
  EmulatorProcess redash("redash", seed.dump());
  if (redash.port == 0 || !fs::exists(TEMPLET_BINARY)) {
    WARN("redash emulator or binary not available; skipped");
    return;
  }
  TempDir d;
  const fs::path p = d.path;
  spit(p / "templet.yaml", config_yaml(p, redash));
  auto env = s.env();
  env[kKeyEnv] = "admin-api-key";
  std::string all_output;
  auto run = [&](const std::string& environment, std::vector<std::string> args) {
    env["ENVIRONMENT"] = environment;
    args.insert(args.end(), {"-c", (p / "templet.yaml").string(), "--timeout", "20s"});
    TempletProcess t(args, env, p);
    int status = t.wait(std::chrono::seconds(40));
    all_output += t.stdout_text() + t.stderr_text();
    return std::make_tuple(status, t.stdout_text(), t.stderr_text());
  };
  const std::string type_refusal =
      "refused \"Billing QA (read-only)\": type differs: Redash has \"mysql\" (id 2), the file "
      "says \"pg\"; templet never changes a datasource's type\n";

  // templet plan: the exact plan, and no write anywhere.
  auto [plan_status, plan_out, plan_err] = run("data-qa", {"plan"});
  INFO(plan_err);
  CHECK(plan_status == 0);
  const std::string plan_text = "redash plan for " + (p / "datasources.yaml").string() + " -> " +
                                redash.url() +
                                "\n"
                                "  update \"App QA\"\n"
                                "      host: \"pg-old.qa.internal\" -> \"pg-app.qa.internal\"\n"
                                "      password: (secret) unknown\n"
                                "      sslmode: \"prefer\" -> \"require\"\n"
                                "      user: \"v-readonly-old\" -> ********\n"
                                "  " +
                                type_refusal;
  CHECK(plan_out.find(plan_text) != std::string::npos);
  CHECK(redash_writes(redash) == 0);
  CHECK_FALSE(fs::exists(p / "datasources.yaml"));

  // templet run --once: the match updated with exactly the rendered options, the type
  // mismatch refused and named (exit 1), everything else untouched.
  auto [qa_status, qa_out, qa_err] = run("data-qa", {"run", "--once"});
  INFO(qa_err);
  CHECK(qa_status == 1);
  CHECK(qa_err.find("  updated \"App QA\": id 1\n  " + type_refusal) != std::string::npos);
  json stored = redash_datasources(redash);
  REQUIRE(stored.size() == 4);
  const json app_qa = lease_held_by(s, stored[0]);
  REQUIRE(app_qa.is_object());
  CHECK(app_qa["mount"] == "postgres-app-qa/");
  CHECK(stored[0]["options"] == json{{"host", "pg-app.qa.internal"},
                                     {"port", 5432},
                                     {"dbname", "app"},
                                     {"user", app_qa["username"]},
                                     {"password", app_qa["password"]},
                                     {"sslmode", "require"}});
  for (size_t i = 1; i < 4; ++i) {
    INFO("datasource " << seed["data_sources"][i]["name"]);
    CHECK(stored[i]["name"] == seed["data_sources"][i]["name"]);
    CHECK(stored[i]["type"] == seed["data_sources"][i]["type"]);
    CHECK(stored[i]["options"] == seed["data_sources"][i]["options"]);
  }

  // Production: "App Production" is missing, so plan says create (no write), run creates it.
  call(redash, "DELETE", "/_emulator/requests");
  auto [prod_plan_status, prod_plan_out, prod_plan_err] = run("data-prod", {"plan"});
  CHECK(prod_plan_status == 0);
  CHECK(prod_plan_out.find("  create \"App Production\"\n"
                           "      type: pg\n"
                           "      options: dbname, host, password (secret), port, sslmode, "
                           "user\n") != std::string::npos);
  CHECK(redash_writes(redash) == 0);
  auto [prod_status, prod_out, prod_err] = run("data-prod", {"run", "--once"});
  INFO(prod_err);
  CHECK(prod_status == 0);
  CHECK(prod_err.find("  created \"App Production\": id 5\n") != std::string::npos);
  const json created = datasource_named(redash, "App Production");
  REQUIRE(created.is_object());
  const json app_prod = lease_held_by(s, created);
  REQUIRE(app_prod.is_object());
  CHECK(app_prod["mount"] == "postgres-app-prod/");
  CHECK(created["type"] == "pg");
  CHECK(created["options"] == json{{"host", "pg-app.prod.internal"},
                                   {"port", 6432},
                                   {"dbname", "app"},
                                   {"user", app_prod["username"]},
                                   {"password", app_prod["password"]},
                                   {"sslmode", "verify-full"}});

  // No password, seeded or issued, in anything templet printed.
  std::vector<std::string> secrets = {"Old-Qa-Pass-1", "My-Billing-Pass-2", "Lower-Case-Pass-3"};
  for (const auto& [user, lease] : s.leases_by_user()) secrets.push_back(lease["password"]);
  CHECK(secrets.size() >= 5);
  check_no_secret(all_output, secrets);
}
