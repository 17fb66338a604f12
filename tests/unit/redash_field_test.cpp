// The Redash hook as deployments meet it (issue #18): Redash behind REDASH_ENFORCE_HTTPS, manage.py
// run through docker exec, manage.py's real output (INFO logs on stderr, `Creating ... with
// options:`, tracebacks), and secrets printed in encoded forms. Against tests/emulators/redash.py
// and tests/unit/fake_manage_py.py, which print what redash/cli/data_sources.py prints.
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "hooks/redash.hpp"
#include "hooks/redash_manage.hpp"
#include "renderer/diff.hpp"
#include "renderer/secret_forms.hpp"
#include "tests/unit/test_support.hpp"

using namespace templet;
using json = nlohmann::json;
using templet::testing::EmulatorProcess;
using templet::testing::TempDir;

namespace {

// Secrets with every character an encoding changes: quote, backslash, apostrophe, percent,
// ampersand, newline, non-ASCII.
const std::vector<std::string> kAwkward = {"tc-quote\"pw\\back", "it's&100%", "line1\nline2",
                                           "pässwörd-ü✓"};

RedashApplyConfig manage_py_config() {
  RedashApplyConfig cfg;
  cfg.mode = "manage_py";
  cfg.command = {"/usr/bin/python3",
                 std::string(TEMPLET_SOURCE_DIR) + "/tests/unit/fake_manage_py.py"};
  cfg.test_after_apply = false;  // verify: off; the one test that tests asks for it
  return cfg;
}

void post(const EmulatorProcess& emu, const std::string& path, const json& body) {
  templet::testing::call(emu, "POST", path, body.dump());
}

// Kept for the leak scan; and checked here against the awkward secrets in every form.
void check_masked(const std::string& output) {
  templet::testing::keep_output(output, "redash-field");
  for (const auto& s : kAwkward)
    for (const auto& form : secret_forms(s)) {
      INFO("secret form " << form);
      CHECK(output.find(form) == std::string::npos);
    }
}

}  // namespace

TEST_CASE("mask_secrets masks a secret's JSON, Go, Python, URL and YAML forms", "[redash][mask]") {
  const std::string pw = "tc-quote\"pw\\back";
  CHECK(mask_secrets(R"(Options: {"password": "tc-quote\"pw\\back"})", {pw}) ==
        R"(Options: {"password": "********"})");
  CHECK(mask_secrets("ValidationError: 'it\\'s&100%' is not", {"it's&100%"}) ==
        "ValidationError: '********' is not");
  CHECK(mask_secrets("postgres://u:it%27s%26100%25@h/db", {"it's&100%"}) ==
        "postgres://u:********@h/db");
  CHECK(mask_secrets("q=it%27s%26100%25&x=1 p=a+b", {"it's&100%", "a b"}) ==
        "q=********&x=1 p=********");
  CHECK(mask_secrets("password: 'it''s&100%'", {"it's&100%"}) == "password: '********'");
  CHECK(mask_secrets(R"({"p": "line1\nline2"})", {"line1\nline2"}) == R"({"p": "********"})");
  CHECK(mask_secrets(R"({"p": "p\u00e4ssw\u00f6rd-\u00fc\u2713"})", {"pässwörd-ü✓"}) ==
        R"({"p": "********"})");
  CHECK(mask_secrets("raw pässwörd-ü✓ here", {"pässwörd-ü✓"}) == "raw ******** here");
  // Go's %q of a control character.
  CHECK(mask_secrets(R"("a\x01b")", {std::string("a\x01") + "b"}) == R"("********")");
  // A diff masks the encoded forms too.
  CHECK(unified_diff("a\n", "{\"p\": \"tc-quote\\\"pw\\\\back\"}\n", "f", "f", {pw}) ==
        "--- f\n+++ f\n@@ -1 +1 @@\n-a\n+{\"p\": \"********\"}\n");
  CHECK(secret_forms("plain") == std::vector<std::string>{"plain"});
}

TEST_CASE("manage.py failures quote the line that says why", "[redash]") {
  const std::string log =
      "[2026-12-04 10:00:00,000][PID:7][INFO][xmlschema] Include schema from 'x.xsd'\n";
  // ds edit: the cause is on stderr, after a traceback; stdout's last line is progress.
  CHECK(manage_failure_reason(
            "Updating type: pg -> pg\n",
            log + "Traceback (most recent call last):\n  File \"/app/x.py\", line 1, in edit\n"
                  "    data_source.options.update(options)\n"
                  "jsonschema.exceptions.ValidationError: '48879' is not of type 'number'\n\n"
                  "Failed validating 'type' in schema['properties']['port']:\n"
                  "    {'type': 'number'}\n") ==
        "jsonschema.exceptions.ValidationError: '48879' is not of type 'number'");
  // ds test: Failure on stdout, an INFO log line last on stderr.
  CHECK(manage_failure_reason("Testing connection to data source: A (id=1)\n"
                              "Failure: FATAL: password authentication failed for user \"u\"\n",
                              log) ==
        "Failure: FATAL: password authentication failed for user \"u\"");
  // ds new: the options line after "Creating" is never the reason.
  CHECK(manage_failure_reason("Creating pg data source (A) with options:\n{\"password\": \"x\"}\n",
                              log) == "no message");
  CHECK(manage_failure_reason("Error: the type \"nosuch\" is not supported (supported types: "
                              "pg).\nOJNK\n",
                              log) ==
        "Error: the type \"nosuch\" is not supported (supported types: pg).");
  CHECK(manage_failure_reason("", log + "Aborted!\n") == "Aborted!");
  CHECK(parse_ds_list_types("Enabled Query Runners:\nmysql\npg\nTotal of 2.\n") ==
        std::vector<std::string>{"mysql", "pg"});
}

TEST_CASE("manage.py mode: awkward secrets stay masked, types are checked, url is optional",
          "[redash][emulator]") {
  EmulatorProcess emu("redash", R"({"data_sources": [
      {"id": 1, "name": "Edited", "type": "pg", "options": {"dbname": "a", "port": 5432}},
      {"id": 2, "name": "Twice", "type": "pg", "options": {"dbname": "b"}},
      {"id": 3, "name": "Twice", "type": "pg", "options": {"dbname": "c"}},
      {"id": 4, "name": "Tested", "type": "pg", "options": {"dbname": "t"}},
      {"id": 5, "name": "Stored", "type": "pg",
       "options": {"dbname": "s", "password": "nl\nand p\u00e4ssw\u00f6rd-\u2713%&'\"\\"}}],
    "test_results": {"Tested": {"ok": false,
                                "message": "FATAL: password authentication failed"}}})");
  if (emu.port == 0) {
    WARN("redash emulator not available; skipped");
    return;
  }
  ::setenv("REDASH_EMU_URL", emu.url().c_str(), 1);
  // Creates fail after manage.py has printed their options (the commit fails).
  post(emu, "/_emulator/fault",
       {{"path_regex", "^/api/data_sources$"}, {"method", "POST"}, {"status", 500}});
  TempDir state;
  RedashApplyConfig cfg = manage_py_config();  // no url
  auto hook = make_redash_hook(cfg, state.path);
  json pw = kAwkward[0], pw2 = kAwkward[1], pw3 = kAwkward[2], pw4 = kAwkward[3];
  const std::string rendered =
      "- {name: Fresh, type: pg, options: {dbname: f, password: " + pw.dump() +
      "}}\n"
      "- {name: Edited, type: pg, options: {dbname: a, port: \"48879\", password: " +
      pw2.dump() +
      "}}\n"
      "- {name: Twice, type: pg, options: {dbname: b, password: " +
      pw3.dump() +
      "}}\n"
      "- {name: Other, type: nosuch, options: {password: " +
      pw4.dump() +
      "}}\n"
      "- {name: Grouped, type: pg, options: {dbname: g}, groups: {Team: {}}}\n";
  Plan plan = hook->plan(rendered, "ds.yaml");
  REQUIRE(plan.error == "");
  CHECK(plan.target == "/usr/bin/python3 " + cfg.command[1]);
  REQUIRE(plan.entries.size() == 5);
  CHECK(plan.entries[4].reason ==
        "groups are managed through the API only (manage.py has no group commands)");
  CHECK(plan.entries[0].action == PlanAction::Create);
  CHECK(plan.entries[3].action == PlanAction::Refused);
  CHECK(
      plan.entries[3].reason.starts_with("type \"nosuch\" is not enabled in this Redash (it "
                                         "has: influxdb, influxdbv2, mysql, pg, redshift)"));
  ApplyResult r = hook->apply(plan);
  REQUIRE(r.entries.size() == 5);
  CHECK(r.entries[0].message ==
        "manage.py ds new \"Fresh\" failed (exit 1: sqlalchemy.exc.OperationalError: "
        "(psycopg2.OperationalError) server closed the connection unexpectedly)");
  CHECK(r.entries[1].message ==
        "manage.py ds edit \"Edited\" failed (exit 1: jsonschema.exceptions.ValidationError: "
        "'48879' is not of type 'number')");
  CHECK(r.entries[2].outcome == ApplyOutcome::Refused);
  std::string out = format_plan(plan) + format_result(r);

  // Redash works again: the create succeeds (and the emulator records the secret for the
  // suite's leak scan); the plan around it is masked as well.
  post(emu, "/_emulator/clear_faults", json::object());
  auto again = make_redash_hook(cfg, state.path);
  Plan p2 = again->plan(rendered, "ds.yaml");
  ApplyResult r2 = again->apply(p2);
  CHECK(r2.entries[0].outcome == ApplyOutcome::Created);
  out += format_plan(p2) + format_result(r2);

  // ds test's Failure line, not the INFO log line that ends stderr.
  cfg.test_after_apply = true;
  auto tester = make_redash_hook(cfg, state.path);
  Plan tp = tester->plan("- {name: Tested, type: pg, options: {dbname: t2}}\n", "ds.yaml");
  ApplyResult tr = tester->apply(tp);
  REQUIRE(tr.entries.size() == 1);
  CHECK(tr.entries[0].message ==
        "updated id 4, but the connection test failed: Failure: FATAL: password authentication "
        "failed");
  out += format_plan(tp) + format_result(tr);
  check_masked(out);
}

TEST_CASE("redash behind REDASH_ENFORCE_HTTPS: the redirect is explained, forwarded_proto works",
          "[redash][emulator]") {
  EmulatorProcess emu("redash", R"({"enforce_https": true})");
  if (emu.port == 0) {
    WARN("redash emulator not available; skipped");
    return;
  }
  ::setenv("TEMPLET_TEST_REDASH_KEY", "admin-api-key", 1);
  TempDir state;
  RedashApplyConfig cfg;
  cfg.url = emu.url();
  cfg.api_key_env = "TEMPLET_TEST_REDASH_KEY";
  cfg.ready_timeout = std::chrono::seconds(5);
  cfg.test_after_apply = false;  // verify: off: the redirect is the point, no database exists
  const std::string rendered = "- {name: A, type: pg, options: {dbname: a}}\n";
  Plan plan = make_redash_hook(cfg, state.path)->plan(rendered, "ds.yaml");
  const std::string https = "https" + emu.url().substr(4);
  CHECK(plan.error == "Redash at " + emu.url() + " redirects to " + https +
                          "/api/data_sources (REDASH_ENFORCE_HTTPS?): use the https URL, or set "
                          "forwarded_proto: https for a local http address");
  // Asked once, and the redirect was not followed (there is no https listener to follow to).
  CHECK(templet::testing::requests(emu, "^/api/", "GET").size() == 1);
  const std::string import = std::string(TEMPLET_BINARY) + " redash import --url " + emu.url() +
                             " --api-key-env TEMPLET_TEST_REDASH_KEY";
  auto refused = templet::testing::run_shell(import);
  CHECK(refused.status == 1);
  CHECK(refused.err == "templet: redash import: " + plan.error + "\n");
  auto imported = templet::testing::run_shell(import + " --forwarded-proto https");
  CHECK(imported.status == 0);
  CHECK(imported.out.ends_with("managed_datasources: []\n"));
  cfg.forwarded_proto = "https";
  auto hook = make_redash_hook(cfg, state.path);
  Plan ok = hook->plan(rendered, "ds.yaml");
  REQUIRE(ok.error == "");
  CHECK(hook->apply(ok).ok());
  json reqs = templet::testing::requests(emu, "^/api/data_sources$", "POST");
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0]["headers"]["x-forwarded-proto"] == "https");
  CHECK(reqs[0]["status"] == 200);
}

TEST_CASE("manage_py: {container: NAME} is docker exec with both option variables",
          "[redash][config]") {
  CHECK(docker_exec_manage_py("redash-server") ==
        std::vector<std::string>{"docker", "exec", "-i", "-e", "FLASK_DS_NEW_OPTIONS", "-e",
                                 "FLASK_DS_EDIT_OPTIONS", "redash-server", "python3", "manage.py"});
  CHECK(docker_exec_env_problem(docker_exec_manage_py("x")) == "");
  CHECK(docker_exec_env_problem({"python3", "manage.py"}) == "");
  CHECK(docker_exec_env_problem({"/usr/bin/docker", "exec", "-i", "--env=FLASK_DS_NEW_OPTIONS",
                                 "redash", "python3", "manage.py"}) ==
        "the manage.py command runs docker exec without -e FLASK_DS_EDIT_OPTIONS: docker exec "
        "does not pass the environment on, so manage.py never sees the options (use manage_py: "
        "{container: NAME}, or add the flags)");
  RedashApplyConfig cfg;
  cfg.container = "redash-server";
  auto hook = make_redash_hook(cfg, "/nonexistent-state");
  // A file that does not parse stops the plan before docker runs.
  Plan p = hook->plan("- [", "f");
  CHECK_FALSE(p.error.empty());
  CHECK(p.target ==
        "docker exec -i -e FLASK_DS_NEW_OPTIONS -e FLASK_DS_EDIT_OPTIONS redash-server python3 "
        "manage.py");
}

TEST_CASE("redash: a near-miss name is refused on the first apply, and creates are counted",
          "[redash][emulator]") {
  EmulatorProcess emu("redash", R"({"data_sources": [
      {"id": 1, "name": "MITx Online RC", "type": "pg", "options": {"dbname": "a"}}]})");
  if (emu.port == 0) {
    WARN("redash emulator not available; skipped");
    return;
  }
  ::setenv("TEMPLET_TEST_REDASH_KEY", "admin-api-key", 1);
  TempDir state;
  RedashApplyConfig cfg;
  cfg.url = emu.url();
  cfg.api_key_env = "TEMPLET_TEST_REDASH_KEY";
  const std::string rendered =
      "- {name: MITx online-RC , type: pg, options: {dbname: a}}\n"
      "- {name: Brand New, type: pg, options: {dbname: b}}\n";
  auto hook = make_redash_hook(cfg, state.path);
  Plan plan = hook->plan(rendered, "ds.yaml");
  const std::string text = format_plan(plan);
  CHECK(text.substr(text.find('\n') + 1) ==
        "  refused \"MITx online-RC\": no datasource has this exact name; did you mean \"MITx "
        "Online RC\"? (names match byte for byte; on a first apply templet does not create a near "
        "match)\n"
        "  create \"Brand New\"\n      type: pg\n      options: dbname\n"
        "  => 1 to CREATE (new, by exact name), 1 other\n");
  hook->apply(plan);
  // With state for this Redash, the create is what the file asks for.
  auto later = make_redash_hook(cfg, state.path);
  Plan second = later->plan(rendered, "ds.yaml");
  CHECK(second.entries[0].action == PlanAction::Create);
  CHECK(redash_name_key("MITx  Online_RC!") == "mitxonlinerc");
}

TEST_CASE("templet validate -c warns about docker exec without the option variables",
          "[redash][cli]") {
  TempDir dir;
  const auto cfg = dir.path / "templet.yaml";
  templet::testing::spit(
      cfg,
      "templates:\n  - source: a\n    destination: b\n    apply:\n      redash:\n"
      "        mode: manage_py\n"
      "        command: [docker, exec, -i, redash, python3, manage.py]\n");
  auto r =
      templet::testing::run_shell(std::string(TEMPLET_BINARY) + " validate -c " + cfg.string());
  CHECK(r.status == 0);
  CHECK(r.out == "config: ok\n");
  CHECK(r.err == "templet: warning: " + cfg.string() +
                     ":2: apply.redash: the manage.py command runs docker exec without -e "
                     "FLASK_DS_NEW_OPTIONS -e FLASK_DS_EDIT_OPTIONS: docker exec does not pass "
                     "the environment on, so manage.py never sees the options (use manage_py: "
                     "{container: NAME}, or add the flags)\n");
}

TEST_CASE("redash: group memberships are planned like options, only templet's removed",
          "[redash][emulator]") {
  EmulatorProcess emu("redash", R"({"groups": [{"id": 7, "name": "Data Team"}],
    "data_sources": [{"id": 1, "name": "A", "type": "pg", "options": {"dbname": "a"}}],
    "test_results": {"B": {"ok": true}}})");
  if (emu.port == 0) {
    WARN("redash emulator not available; skipped");
    return;
  }
  ::setenv("TEMPLET_TEST_REDASH_KEY", "admin-api-key", 1);
  TempDir state;
  RedashApplyConfig cfg;
  cfg.url = emu.url();
  cfg.api_key_env = "TEMPLET_TEST_REDASH_KEY";
  // Plans, applies, and returns the plan without its header line.
  auto step = [&](const std::string& rendered) {
    auto hook = make_redash_hook(cfg, state.path);
    Plan p = hook->plan(rendered, "f");
    INFO(format_result(hook->apply(p)));
    std::string text = format_plan(p);
    return text.substr(text.find('\n') + 1);
  };
  auto groups_of = [&](int id) {
    const json st = templet::testing::call_json(emu, "GET", "/_emulator/state");
    for (const auto& d : st["data_sources"])
      if (d["id"] == id) return d["groups"];
    return json();
  };

  const std::string a = "- {name: A, type: pg, options: {dbname: a}";
  CHECK(step(a + ", groups: {Data Team: {view_only: true}}}\n") ==
        "  update \"A\"\n      group \"Data Team\": (absent) -> view only\n");
  CHECK(groups_of(1) == json{{"2", false}, {"7", true}});
  CHECK(step(a + ", groups: {Data Team: {view_only: true}}}\n") == "  unchanged \"A\"\n");
  CHECK(step(a + ", groups: {Data Team: {view_only: false}, default: {view_only: true}}}\n") ==
        "  update \"A\"\n      group \"default\": full access -> view only\n"
        "      group \"Data Team\": view only -> full access\n");
  CHECK(groups_of(1) == json{{"2", true}, {"7", false}});
  // Dropped from the file: the membership templet added goes, the one Redash made stays.
  CHECK(step(a + "}\n") ==
        "  update \"A\"\n      group \"Data Team\": full access -> (absent), added by templet\n");
  CHECK(groups_of(1) == json{{"2", true}});
  CHECK(step(a + "}\n") == "  unchanged \"A\"\n");
  CHECK(step("- {name: B, type: pg, options: {dbname: b}, groups: {Data Team: {view_only: "
             "true}}}\n") ==
        "  create \"B\"\n      type: pg\n      options: dbname\n"
        "      groups: Data Team (view only)\n  => 1 to CREATE (new, by exact name), 0 other\n");
  CHECK(groups_of(2) == json{{"2", false}, {"7", true}});
  // verify: test_on_change (the default) tested the datasource created, not the ones whose
  // memberships alone changed: no credential of theirs did.
  const json emu_state = templet::testing::call_json(emu, "GET", "/_emulator/state");
  std::vector<std::string> tested;
  for (const auto& t : emu_state["test_log"]) tested.push_back(t["name"]);
  CHECK(tested == std::vector<std::string>{"B"});
  CHECK(step(a + ", groups: {Nobody: {}}}\n") ==
        "  refused \"A\": group \"Nobody\" is not in Redash (it has: admin, default, Data Team)\n");
}

namespace {

const char* kImportSeed = R"X({"data_sources": [
  {"id": 1, "name": "MITx Online RC", "type": "pg",
   "options": {"host": "db1.internal", "port": 5432, "dbname": "app", "user": "app",
               "password": "tc-quote\"pw\\back", "sslmode": "require"}},
  {"id": 2, "name": "Analytics  (old)", "type": "mysql",
   "options": {"host": "my.internal", "db": "stats", "passwd": "it's&100%"}},
  {"id": 3, "name": "Influx", "type": "influxdb", "options": {"url": "http://influx:8086"}}]})X";

// The importer's template with each placeholder replaced by the secret's JSON, as a render
// with those values in Vault gives it (the comment line dropped as the render drops it).
std::string filled(std::string tmpl, const std::map<std::string, std::string>& values) {
  tmpl = tmpl.substr(tmpl.find('\n') + 1);
  for (const auto& [name, value] : values) {
    const std::string at = "{{ with secret \"CHANGE-ME/creds/" + name + "\" }}";
    size_t i = tmpl.find(at);
    REQUIRE(i != std::string::npos);
    tmpl.replace(i, tmpl.find("{{ end }}", i) + 9 - i, json(value).dump());
  }
  return tmpl;
}

}  // namespace

TEST_CASE("templet redash import writes a template that re-plans as no change",
          "[redash][emulator][cli]") {
  EmulatorProcess emu("redash", kImportSeed);
  if (emu.port == 0) {
    WARN("redash emulator not available; skipped");
    return;
  }
  ::setenv("TEMPLET_TEST_REDASH_KEY", "admin-api-key", 1);
  auto r = templet::testing::run_shell(std::string(TEMPLET_BINARY) + " redash import --url " +
                                       emu.url() + " --api-key-env TEMPLET_TEST_REDASH_KEY");
  REQUIRE(r.status == 0);
  CHECK(r.err == "");
  const std::string note =
      " is secret: point CHANGE-ME at its Vault path, and .Data at the field\n";
  CHECK(
      r.out ==
      "{{- /* Imported from " + emu.url() +
          " by templet redash import. Review it, then replace each CHANGE-ME path with the "
          "Vault path holding that secret. */ -}}\n"
          "managed_datasources:\n"
          "  - name: \"Analytics  (old)\"\n    type: \"mysql\"\n    options:\n"
          "      \"db\": \"stats\"\n      \"host\": \"my.internal\"\n"
          "      # \"passwd\"" +
          note +
          "      \"passwd\": {{ with secret \"CHANGE-ME/creds/Analytics  (old)\" }}{{ index .Data "
          "\"passwd\" | toJSON }}{{ end }}\n"
          "  - name: \"Influx\"\n    type: \"influxdb\"\n    options:\n"
          "      \"url\": \"http://influx:8086\"\n"
          "  - name: \"MITx Online RC\"\n    type: \"pg\"\n    options:\n"
          "      \"dbname\": \"app\"\n      \"host\": \"db1.internal\"\n"
          "      # \"password\"" +
          note +
          "      \"password\": {{ with secret \"CHANGE-ME/creds/MITx Online RC\" }}{{ index .Data "
          "\"password\" | toJSON }}{{ end }}\n"
          "      \"port\": 5432\n      \"sslmode\": \"require\"\n      \"user\": \"app\"\n");
  // It is a template templet parses.
  TempDir dir;
  templet::testing::spit(dir.path / "datasources.yaml.tmpl", r.out);
  CHECK(templet::testing::run_shell(std::string(TEMPLET_BINARY) + " validate " +
                                    (dir.path / "datasources.yaml.tmpl").string())
            .status == 0);
  const std::map<std::string, std::string> values = {{"Analytics  (old)", "it's&100%"},
                                                     {"MITx Online RC", "tc-quote\"pw\\back"}};
  TempDir state;
  RedashApplyConfig cfg;
  cfg.url = emu.url();
  cfg.api_key_env = "TEMPLET_TEST_REDASH_KEY";
  auto hook = make_redash_hook(cfg, state.path);
  Plan plan = hook->plan(filled(r.out, values), "ds.yaml");
  std::string text = format_plan(plan);
  // The API masks secrets: each is unknown, sent once; nothing else differs.
  CHECK(text.substr(text.find('\n') + 1) ==
        "  update \"Analytics  (old)\"\n      passwd: (secret) unknown\n"
        "  unchanged \"Influx\"\n"
        "  update \"MITx Online RC\"\n      password: (secret) unknown\n");

  // Through manage.py, which sees the secrets: the same template, and no change at all.
  ::setenv("REDASH_EMU_URL", emu.url().c_str(), 1);
  const std::string manage =
      "/usr/bin/python3 " + std::string(TEMPLET_SOURCE_DIR) + "/tests/unit/fake_manage_py.py";
  auto m = templet::testing::run_shell(std::string(TEMPLET_BINARY) +
                                       " redash import --manage-py '" + manage + "'");
  REQUIRE(m.status == 0);
  CHECK(m.out.substr(m.out.find('\n')) == r.out.substr(r.out.find('\n')));
  RedashApplyConfig mcfg = manage_py_config();
  auto mhook = make_redash_hook(mcfg, state.path);
  Plan mplan = mhook->plan(filled(m.out, values), "ds.yaml");
  std::string mtext = format_plan(mplan);
  CHECK(
      mtext.substr(mtext.find('\n') + 1) ==
      "  unchanged \"Analytics  (old)\"\n  unchanged \"Influx\"\n  unchanged \"MITx Online RC\"\n");
  check_masked(r.out + r.err + m.out + m.err + text + mtext);
}
