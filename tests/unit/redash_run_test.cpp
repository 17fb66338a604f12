// The Redash hook as it runs in production: the built `templet` binary renders the shipped
// templates/redash/datasources.yaml.tmpl from the Vault and Consul emulators and applies it to
// the Redash emulator through apply.redash (project issue 5). First the issue's own check
// against a Redash seeded like a real install; then end to end with a real PostgreSQL server
// started by the test, whose logins prove that the credentials Redash holds work before and
// after a lease rotation. Skipped when python3, the emulators or (for the second) PostgreSQL's
// server binaries are absent.
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/unit/local_postgres.hpp"
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

// Redash's connection test of datasource `id`, as the API answers it.
json connection_test(const EmulatorProcess& redash, int64_t id) {
  return json::parse(call(redash, "POST",
                          "/api/data_sources/" + std::to_string(id) + "/test?api_key=admin-api-key")
                         .body);
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
  // verify: off: these database hosts do not exist; the plan and what is stored are the point.
  spit(p / "templet.yaml", config_yaml(p, redash, ", verify: off"));
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
  // A plan that refuses an entry fails, as `templet apply redash --plan` does.
  CHECK(plan_status == 1);
  CHECK(plan_err.find("redash plan for " + (p / "datasources.yaml").string() +
                      " would not apply cleanly") != std::string::npos);
  const std::string plan_text = "redash plan for " + (p / "datasources.yaml").string() + " -> " +
                                redash.url() +
                                "\n"
                                "  update \"App QA\"\n"
                                "      host: \"pg-old.qa.internal\" -> \"pg-app.qa.internal\"\n"
                                "      password: (secret) unknown\n"
                                "      sslmode: \"prefer\" -> \"require\"\n"
                                "      user: (secret) changed\n"
                                "  " +
                                type_refusal;
  INFO(plan_out);
  CHECK(plan_out.find(plan_text) != std::string::npos);
  CHECK(redash_writes(redash) == 0);
  CHECK_FALSE(fs::exists(p / "datasources.yaml"));

  // templet run --once: the match updated with exactly the rendered options, the type
  // mismatch refused and named (exit 1), everything else untouched.
  auto [qa_status, qa_out, qa_err] = run("data-qa", {"run", "--once"});
  INFO(qa_err);
  CHECK(qa_status == 1);
  // What was applied is logged at info, what was refused in the error line.
  CHECK(qa_err.find("datasources.yaml:\n  updated \"App QA\": id 1\n") != std::string::npos);
  CHECK(qa_err.find("datasources.yaml failed:\n  " + type_refusal) != std::string::npos);
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
                           "user (secret)\n") != std::string::npos);
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

TEST_CASE(
    "redash e2e: Redash's credentials log in to a real PostgreSQL before and after a "
    "rotation",
    "[redash][emulator][postgres]") {
  LocalPostgres pg({"app", "billing"});
  if (pg.bin_dir.empty()) {
    WARN("PostgreSQL server binaries not installed (Debian package postgresql); skipped");
    return;
  }
  REQUIRE(pg.error == "");
  // Leases of 6 s, renewable up to 12 s: renewed once, capped, then replaced; each lease is a
  // real role with VALID UNTIL, dropped when revoked.
  const json mount = {
      {"roles",
       {{"readonly", {{"default_ttl", 6}, {"max_ttl", 12}, {"postgres", pg.vault_conf()}}}}}};
  const std::string port = std::to_string(pg.port);
  const json kv = {{"redash/datasource_configs/app-qa/db_host", "127.0.0.1"},
                   {"redash/datasource_configs/app-qa/db_port", port},
                   {"redash/datasource_configs/billing-qa/db_host", "127.0.0.1"},
                   {"redash/datasource_configs/billing-qa/db_port", port}};
  VaultAndConsul s(
      json{{"database_mounts", {{"postgres-app-qa", mount}, {"postgres-billing-qa", mount}}}}
          .dump(),
      json{{"kv", kv}}.dump());
  SKIP_WITHOUT_EMULATORS(s);
  // Redash already has "App QA", with credentials that no longer work.
  EmulatorProcess redash("redash", json{{"psql", pg.psql()},
                                        {"data_sources",
                                         {{{"id", 1},
                                           {"name", "App QA"},
                                           {"type", "pg"},
                                           {"options",
                                            {{"host", "127.0.0.1"},
                                             {"port", pg.port},
                                             {"dbname", "app"},
                                             {"user", "v-readonly-gone"},
                                             {"password", "Gone-Pass-1"},
                                             {"sslmode", "require"}}}}}}}
                                       .dump());
  if (redash.port == 0 || !fs::exists(TEMPLET_BINARY)) {
    WARN("redash emulator or binary not available; skipped");
    return;
  }
  CHECK(connection_test(redash, 1) ==
        json{{"ok", false},
             {"message", "connection to server at \"127.0.0.1\", port " + port +
                             " failed: FATAL:  password authentication failed for user "
                             "\"v-readonly-gone\""}});

  TempDir d;
  const fs::path p = d.path;
  // No verify key: Redash's connection test of each changed datasource is the default.
  spit(p / "templet.yaml", config_yaml(p, redash));
  auto env = s.env();
  env[kKeyEnv] = "admin-api-key";
  env["ENVIRONMENT"] = "data-qa";
  TempletProcess t({"run", "-c", (p / "templet.yaml").string()}, env, p);

  // The credentials Redash holds once templet applied the first render.
  auto users = [&] {
    std::map<std::string, json> out;
    for (const auto& d : redash_datasources(redash)) out[d["name"]] = d["options"];
    return out;
  };
  REQUIRE(eventually(
      [&] {
        auto u = users();
        return u.count("Billing QA (read-only)") &&
               u["App QA"].value("user", "").rfind("v-readonly-", 0) == 0 &&
               u["App QA"]["user"] != "v-readonly-gone";
      },
      20s));
  INFO(t.stderr_text());
  const auto before = users();
  CHECK(eventually(
      [&] {
        return t.stderr_text().find("  updated \"App QA\": id 1; connection test ok\n") !=
               std::string::npos;
      },
      5s));
  const int64_t billing_id = datasource_named(redash, "Billing QA (read-only)")["id"];
  CHECK(connection_test(redash, 1) == json{{"ok", true}, {"message", "success"}});
  CHECK(connection_test(redash, billing_id) == json{{"ok", true}, {"message", "success"}});
  // Each login is a role whose VALID UNTIL is the lease's expiry (to the second).
  const std::string old_user = before.at("App QA")["user"];
  CHECK(eventually(
      [&] {
        auto lease = s.leases_by_user()[old_user];
        auto [rc, out] = pg.sql(
            "SELECT extract(epoch FROM rolvaliduntil)::bigint FROM pg_roles "
            "WHERE rolname = '" +
            old_user + "'");
        return rc == 0 && !lease.is_null() &&
               out == std::to_string(static_cast<long long>(lease["expire_time"].get<double>())) +
                          "\n";
      },
      5s));

  // The rotation: renewed, capped at the max TTL, replaced; Redash updated; the old role dropped.
  REQUIRE(eventually(
      [&] {
        auto u = users();
        return u["App QA"]["user"] != before.at("App QA")["user"] &&
               u["Billing QA (read-only)"]["user"] != before.at("Billing QA (read-only)")["user"];
      },
      25s));
  auto pg_log_of = [&](const std::string& user) {
    std::vector<std::string> actions;
    const json state = call_json(s.vault, "GET", "/_emulator/state");
    for (const auto& e : state["pg_log"])
      if (e["username"] == user)
        actions.push_back(
            e["action"].get<std::string>() + (e["ok"] == true ? "" : " failed") +
            (e.contains("reason") ? " (" + e["reason"].get<std::string>() + ")" : ""));
    return actions;
  };
  REQUIRE(eventually(
      [&] { return !pg_log_of(old_user).empty() && pg_log_of(old_user).back() == "drop (revoke)"; },
      10s));
  auto history = pg_log_of(old_user);
  REQUIRE(history.size() >= 3);
  CHECK(history.front() == "create");
  for (size_t i = 1; i + 1 < history.size(); ++i) CHECK(history[i] == "renew");
  CHECK(t.stderr_text().find("(capped by the max TTL)") != std::string::npos);
  CHECK(pg.sql("SELECT count(*) FROM pg_roles WHERE rolname = '" + old_user + "'") ==
        std::make_pair(0, std::string("0\n")));

  // Redash's new credentials log in; the old ones, tried through the same test, do not.
  CHECK(connection_test(redash, 1) == json{{"ok", true}, {"message", "success"}});
  CHECK(connection_test(redash, billing_id) == json{{"ok", true}, {"message", "success"}});
  json old = {
      {"name", "App QA, old credentials"}, {"type", "pg"}, {"options", before.at("App QA")}};
  const int64_t old_id = json::parse(
      call(redash, "POST", "/_emulator/seed", json{{"data_sources", {old}}}.dump()).body)["ids"][0];
  CHECK(connection_test(redash, old_id) ==
        json{{"ok", false},
             {"message", "connection to server at \"127.0.0.1\", port " + port +
                             " failed: FATAL:  password authentication failed for user \"" +
                             old_user + "\""}});

  t.signal(SIGTERM);
  CHECK(t.wait(10s) == 0);
  // templet printed no password it handled.
  std::vector<std::string> secrets = {"Gone-Pass-1"};
  for (const auto& [name, options] : before) secrets.push_back(options["password"]);
  for (const auto& [name, options] : users())
    if (options.contains("password")) secrets.push_back(options["password"]);
  check_no_secret(t.stdout_text() + t.stderr_text(), secrets);
}
