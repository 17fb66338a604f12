// The Redash apply hook against the Redash emulator (tests/emulators/redash.py): exact plans,
// stored options, idempotence (no writes the second time), refusals that do not stop other
// entries, readiness waiting, a rejected key, prune, the CLI, and that no pushed secret appears
// in any output. Input parsing errors are checked without a server.
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "functions/digest.hpp"
#include "hooks/redash.hpp"
#include "hooks/redash_input.hpp"
#include "hooks/redash_manage.hpp"
#include "hooks/redash_schema.hpp"
#include "net/http_client.hpp"
#include "tests/unit/test_support.hpp"

using namespace templet;
using json = nlohmann::json;
using templet::testing::EmulatorProcess;
using templet::testing::slurp;
using templet::testing::TempDir;

namespace {

const char* kKeyEnv = "TEMPLET_TEST_REDASH_KEY";

// Redash as a real install looks: capitals, spaces and punctuation in names, a type mismatch,
// a duplicated name.
const char* kSeed = R"X({"data_sources": [
  {"id": 1, "name": "Prod DB (main)", "type": "pg",
   "options": {"host": "db1.internal", "port": 5432, "dbname": "app", "user": "app",
               "password": "Old-Pass-0"}},
  {"id": 2, "name": "Analytics", "type": "mysql",
   "options": {"host": "my.internal", "db": "stats", "passwd": "My-Pass-9"}},
  {"id": 3, "name": "Dup", "type": "pg", "options": {"dbname": "a"}},
  {"id": 4, "name": "Dup", "type": "pg", "options": {"dbname": "b"}},
  {"id": 5, "name": "prod db (main)", "type": "pg", "options": {"dbname": "other"}}]})X";

const char* kRendered = R"(managed_datasources:
  - name: Prod DB (main)
    type: pg
    options:
      host: db2.internal
      port: 5432
      dbname: app
      user: app
      password: "S3cret-Pass-1"
  - name: Analytics
    type: pg
    options: {dbname: stats, password: "An-Pass-2"}
  - name: Dup
    type: pg
    options: {dbname: c}
  - name: New One
    type: pg
    options:
      host: new.internal
      port: 5433
      dbname: fresh
      password: "N3w-Pass-3"
      sslmode: require
  - name: Bad Port
    type: pg
    options: {dbname: d, port: "5432", password: "Bad-Pass-4"}
)";

const std::vector<std::string> kPushed = {"S3cret-Pass-1", "An-Pass-2",  "N3w-Pass-3",
                                          "Bad-Pass-4",    "Old-Pass-0", "My-Pass-9"};

json control(const std::string& base, const std::string& method, const std::string& path,
             const json& body = nullptr) {
  auto http = make_http_client();
  HttpRequest req;
  req.method = method;
  req.url = base + path;
  if (!body.is_null()) req.body = body.dump();
  HttpResponse r = http->send(req);
  return r.body.empty() ? json() : json::parse(r.body);
}

json stored(const std::string& base, int64_t id) {
  json state = control(base, "GET", "/_emulator/state");
  for (const auto& d : state["data_sources"])
    if (d["id"] == id) return d;
  return nullptr;
}

size_t writes(const std::string& base) {
  size_t n = 0;
  for (const auto& r : control(base, "GET", "/_emulator/requests"))
    if (r["method"] != "GET") ++n;
  return n;
}

RedashApplyConfig config_for(const EmulatorProcess& emu) {
  RedashApplyConfig c;
  c.url = emu.url();
  c.api_key_env = kKeyEnv;
  c.ready_timeout = std::chrono::seconds(10);
  c.test_after_apply = false;  // verify: off: these hosts do not exist; plans are the point
  return c;
}

// The manage.py backend over tests/unit/fake_manage_py.py (REDASH_EMU_URL names the emulator).
RedashApplyConfig manage_py_config() {
  RedashApplyConfig cfg;
  cfg.mode = "manage_py";
  cfg.command = {"/usr/bin/python3",
                 std::string(TEMPLET_SOURCE_DIR) + "/tests/unit/fake_manage_py.py"};
  cfg.url = "redash-server";
  cfg.test_after_apply = false;  // verify: off, as config_for
  return cfg;
}

// Also keeps the output for the suite's leak scan.
void check_no_secret(const std::string& output) {
  templet::testing::keep_output(output, "plan");
  for (const auto& s : kPushed) {
    INFO("secret " << s);
    CHECK(output.find(s) == std::string::npos);
  }
}

}  // namespace

TEST_CASE("redash: input parsing keeps YAML types and names file:line on errors", "[redash]") {
  auto e = parse_redash_file(
      "- name: A b\n  type: pg\n  options: {port: 5432, p: \"5432\", b: true, n: null}\n",
      "f.yaml");
  REQUIRE(e.size() == 1);
  CHECK(e[0].options == json::parse(R"({"port": 5432, "p": "5432", "b": true})"));
  CHECK(e[0].line == 1);
  CHECK(parse_redash_file("managed_datasources: []\n", "f").empty());
  CHECK(parse_redash_file("ds:\n- {name: x, type: pg}\n", "f", "ds").size() == 1);

  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"managed_datasources:\n  - name: a\n    type: pg\n  - name: b\n    options: {}\n",
       "f.yaml:4: entry 2 (\"b\"): missing \"type\""},
      {"- name: a\n  type: pg\n  options: [1]\n",
       "f.yaml:3: entry 1 (\"a\"): \"options\" must be a map"},
      {"- name: a\n  type: pg\n- name: a\n  type: pg\n",
       "f.yaml:3: entry 2 (\"a\"): the name appears twice in this file"},
      {"- name: a\n  typo: pg\n",
       "f.yaml:2: entry 1: unknown key \"typo\" (expected name, type, options, groups)"},
      {"- name: a\n  type: pg\n  groups: {Team: {view_only: maybe}}\n",
       "f.yaml:3: entry 1 (\"a\"): group \"Team\": view_only must be true or false"},
      {"- name: a\n  type: pg\n  groups: {Team: {viewonly: true}}\n",
       "f.yaml:3: entry 1 (\"a\"): group \"Team\": unknown key \"viewonly\" (expected "
       "view_only)"},
      {"- name: a\n  type: pg\n  groups: [Team]\n",
       "f.yaml:3: entry 1 (\"a\"): \"groups\" must be a map of group name to settings"},
      {"- just a string\n", "f.yaml:1: entry 1: expected a map with name, type and options"},
      {"other: 1\n", "f.yaml:1: no \"managed_datasources\" list"},
      {"- name: [unclosed\n", "f.yaml:2: invalid YAML: "},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    try {
      parse_redash_file(c.text, "f.yaml");
      FAIL("no error");
    } catch (const RedashInputError& err) {
      CHECK(std::string(err.what()).rfind(c.error, 0) == 0);
      if (std::string(err.what()).rfind(c.error, 0) != 0) WARN(err.what());
    }
  }
}

TEST_CASE("redash: schema validation explains what Redash's 400 does not", "[redash]") {
  json schema = json::parse(R"({"properties": {"port": {"type": "number"},
      "password": {"type": "string"}, "sslmode": {"type": "string", "extendedEnum":
      [{"value": "disable"}, {"value": "require"}]}}, "required": ["dbname"],
      "secret": ["password"]})");
  std::set<std::string> secret = {"password"};
  CHECK(validate_redash_options(json::parse(R"({"dbname": "a", "port": 1})"), schema, secret) ==
        "");
  CHECK(
      validate_redash_options(json::parse(R"({"port": "5432", "password": 7})"), schema, secret) ==
      "missing required option dbname; option password must be a string, not a number "
      "(quote it); option port must be a number, not a string \"5432\" (write it without "
      "quotes)");
  CHECK(validate_redash_options(json::parse(R"({"dbname": "a", "sslmode": "x"})"), schema,
                                secret) == "option sslmode must be one of disable, require, not x");
  CHECK(redash_secret_keys("mysql", nullptr, json::parse(R"({"api_key": 1, "host": 2})")) ==
        std::set<std::string>{"api_key", "passwd"});
  CHECK(redash_secret_values(json::parse(R"({"url": "http://u:pw1@h:8086/db"})"), {}) ==
        std::vector<std::string>{"pw1"});
}

TEST_CASE("redash: parse manage.py ds list output", "[redash]") {
  auto ds = parse_ds_list(
      "Id: 1\nName: Prod DB\nType: pg\nOptions: {\"dbname\": \"x\", \"password\": \"p\"}\n"
      "--------------------\nId: 2\nName: m\nType: mysql\nOptions: {}\n");
  REQUIRE(ds.size() == 2);
  CHECK(ds[0].name == "Prod DB");
  CHECK(ds[0].options["password"] == "p");
  CHECK(ds[1].id == 2);
  CHECK(ds[1].type == "mysql");
}

TEST_CASE("redash: plan and apply against the emulator", "[redash][emulator]") {
  EmulatorProcess emu("redash", kSeed);
  if (emu.port == 0) {
    WARN("redash emulator not available; skipped");
    return;
  }
  ::setenv(kKeyEnv, "admin-api-key", 1);
  TempDir state;
  std::string all_output;
  auto hook = make_redash_hook(config_for(emu), state.path);

  Plan plan = hook->plan(kRendered, "ds.yaml");
  std::string text = format_plan(plan);
  all_output += text;
  CHECK(text == "redash plan for ds.yaml -> " + emu.url() +
                    "\n"
                    "  update \"Prod DB (main)\"\n"
                    "      host: \"db1.internal\" -> \"db2.internal\"\n"
                    "      password: (secret) unknown\n"
                    "  refused \"Analytics\": type differs: Redash has \"mysql\" (id 2), the file "
                    "says \"pg\"; templet never changes a datasource's type\n"
                    "  refused \"Dup\": the name matches 2 datasources in Redash (ids 3, 4); "
                    "rename or delete all but one\n"
                    "  create \"New One\"\n"
                    "      type: pg\n"
                    "      options: dbname, host, password (secret), port, sslmode\n"
                    "  refused \"Bad Port\": options invalid for type pg: option port must be a "
                    "number, not a string \"5432\" (write it without quotes)\n"
                    "  => 1 to CREATE (new, by exact name), 4 other\n");
  CHECK(writes(emu.url()) == 0);  // planning never writes

  ApplyResult result = hook->apply(plan);
  std::string rtext = format_result(result);
  all_output += rtext;
  CHECK(rtext ==
        "  updated \"Prod DB (main)\": id 1\n"
        "  refused \"Analytics\": type differs: Redash has \"mysql\" (id 2), the file says "
        "\"pg\"; templet never changes a datasource's type\n"
        "  refused \"Dup\": the name matches 2 datasources in Redash (ids 3, 4); rename or "
        "delete all but one\n"
        "  created \"New One\": id 6\n"
        "  refused \"Bad Port\": options invalid for type pg: option port must be a number, not "
        "a string \"5432\" (write it without quotes)\n");
  CHECK_FALSE(result.ok());

  // Exact options stored; the others untouched.
  CHECK(stored(emu.url(), 1)["options"] ==
        json::parse(R"({"host": "db2.internal", "port": 5432, "dbname": "app", "user": "app",
                        "password": "S3cret-Pass-1"})"));
  CHECK(stored(emu.url(), 6)["options"] ==
        json::parse(R"({"host": "new.internal", "port": 5433, "dbname": "fresh",
                        "password": "N3w-Pass-3", "sslmode": "require"})"));
  CHECK(stored(emu.url(), 6)["name"] == "New One");
  CHECK(stored(emu.url(), 2)["type"] == "mysql");
  CHECK(stored(emu.url(), 2)["options"]["passwd"] == "My-Pass-9");
  CHECK(stored(emu.url(), 3)["options"]["dbname"] == "a");
  CHECK(stored(emu.url(), 5)["options"]["dbname"] == "other");

  // The state file is private and holds no secret.
  auto st = state.path / "redash";
  REQUIRE(std::filesystem::exists(st));
  CHECK((std::filesystem::status(st).permissions() & std::filesystem::perms::all) ==
        std::filesystem::perms::owner_all);
  for (const auto& f : std::filesystem::directory_iterator(st)) {
    CHECK((f.status().permissions() & std::filesystem::perms::all) ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
    std::ifstream in(f.path());
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    check_no_secret(content);
  }

  // Second run: everything applied is unchanged, and no write call is made.
  control(emu.url(), "DELETE", "/_emulator/requests");
  auto hook2 = make_redash_hook(config_for(emu), state.path);
  Plan plan2 = hook2->plan(kRendered, "ds.yaml");
  all_output += format_plan(plan2);
  REQUIRE(plan2.entries.size() == 5);
  CHECK(plan2.entries[0].action == PlanAction::Unchanged);
  CHECK(plan2.entries[3].action == PlanAction::Unchanged);
  ApplyResult result2 = hook2->apply(plan2);
  all_output += format_result(result2);
  CHECK(writes(emu.url()) == 0);

  // A rotated password is seen as changed (Redash shows it masked) and pushed.
  std::string rotated = kRendered;
  rotated.replace(rotated.find("S3cret-Pass-1"), 13, "S3cret-Pass-X");
  Plan plan3 = hook2->plan(rotated, "ds.yaml");
  REQUIRE(plan3.entries[0].action == PlanAction::Update);
  CHECK(plan3.entries[0].details == std::vector<std::string>{"password: (secret) changed"});
  all_output += format_plan(plan3) + format_result(hook2->apply(plan3));
  CHECK(stored(emu.url(), 1)["options"]["password"] == "S3cret-Pass-X");

  check_no_secret(all_output);
  CHECK(all_output.find("S3cret-Pass-X") == std::string::npos);
  templet::testing::keep_state_modes(state.path, false);
}

TEST_CASE("redash: an option holding a rendered Vault secret is planned as a secret",
          "[redash][emulator]") {
  // Redash's pg schema marks only the password secret, but the user is a Vault-issued one too:
  // the plan must not show the rotated-away user it replaces.
  EmulatorProcess emu("redash", R"X({"data_sources": [{"id": 1, "name": "QA", "type": "pg",
      "options": {"dbname": "app", "user": "v-ro-Old8f3kQ", "password": "Old-Pass-0"}}]})X");
  if (emu.port == 0) {
    WARN("redash emulator not available; skipped");
    return;
  }
  ::setenv(kKeyEnv, "admin-api-key", 1);
  TempDir state;
  const std::string rendered =
      "- {name: QA, type: pg, options: {dbname: app, user: v-ro-New2Zp9x, password: Pw-New-7}}\n";
  const std::string head = "redash plan for ds.yaml -> " + emu.url() + "\n  update \"QA\"\n";

  auto plain = make_redash_hook(config_for(emu), state.path);
  CHECK(format_plan(plain->plan(rendered, "ds.yaml")) ==
        head +
            "      password: (secret) unknown\n"
            "      user: \"v-ro-Old8f3kQ\" -> \"v-ro-New2Zp9x\"\n");

  auto hook = make_redash_hook(config_for(emu), state.path);
  hook->set_rendered_secrets({"Pw-New-7", "v-ro-New2Zp9x"});
  Plan plan = hook->plan(rendered, "ds.yaml");
  CHECK(format_plan(plan) == head +
                                 "      password: (secret) unknown\n"
                                 "      user: (secret) changed\n");
  ApplyResult result = hook->apply(plan);
  CHECK(result.ok());
  CHECK(stored(emu.url(), 1)["options"]["user"] == "v-ro-New2Zp9x");
  // Its digest is kept like the password's: the next plan knows it is unchanged.
  auto again = make_redash_hook(config_for(emu), state.path);
  again->set_rendered_secrets({"Pw-New-7", "v-ro-New2Zp9x"});
  CHECK(format_plan(again->plan(rendered, "ds.yaml")) ==
        "redash plan for ds.yaml -> " + emu.url() + "\n  unchanged \"QA\"\n");
}

TEST_CASE("redash: a rejected API key, a server still starting", "[redash][emulator]") {
  EmulatorProcess emu("redash", R"({"ready_after_s": 1.5})");
  if (emu.port == 0) {
    WARN("redash emulator not available; skipped");
    return;
  }
  TempDir state;
  const std::string rendered = "- {name: x, type: pg, options: {dbname: d, password: Pw-Zz-77}}\n";

  // 502 while starting: waited for, then planned.
  ::setenv(kKeyEnv, "admin-api-key", 1);
  auto start = std::chrono::steady_clock::now();
  Plan ok = make_redash_hook(config_for(emu), state.path)->plan(rendered, "f");
  CHECK(ok.error == "");
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(1000));
  REQUIRE(ok.entries.size() == 1);
  CHECK(ok.entries[0].action == PlanAction::Create);

  // Bad key: Redash answers 404.
  ::setenv(kKeyEnv, "wrong-key", 1);
  auto hook = make_redash_hook(config_for(emu), state.path);
  Plan bad = hook->plan(rendered, "f");
  CHECK(bad.error ==
        "API key rejected: Redash answered 404 to GET /api/data_sources (check the "
        "key in TEMPLET_TEST_REDASH_KEY)");
  ApplyResult r = hook->apply(bad);
  CHECK_FALSE(r.ok());
  CHECK(writes(emu.url()) == 0);

  // A server that never gets ready: a clear error after ready_timeout.
  control(emu.url(), "POST", "/_emulator/fault", {{"path_regex", "^/api/"}, {"status", 503}});
  ::setenv(kKeyEnv, "admin-api-key", 1);
  auto cfg = config_for(emu);
  cfg.ready_timeout = std::chrono::milliseconds(800);
  Plan down = make_redash_hook(cfg, state.path)->plan(rendered, "f");
  CHECK(down.error.find("not ready: GET /api/data_sources answered 503") != std::string::npos);
}

TEST_CASE("redash: prune deletes only what templet created, and connection tests",
          "[redash][emulator]") {
  EmulatorProcess emu("redash",
                      R"({"data_sources": [{"id": 1, "name": "Keep", "type": "pg",
                          "options": {"dbname": "k"}}],
                          "test_results": {"A": {"ok": true}, "B": {"ok": false, "message": "auth failed for Pw-B-2"}}})");
  if (emu.port == 0) {
    WARN("redash emulator not available; skipped");
    return;
  }
  ::setenv(kKeyEnv, "admin-api-key", 1);
  TempDir state;
  auto cfg = config_for(emu);
  cfg.prune = true;
  cfg.test_after_apply = true;
  const std::string both =
      "- {name: A, type: pg, options: {dbname: a, password: Pw-A-1}}\n"
      "- {name: B, type: pg, options: {dbname: b, password: Pw-B-2}}\n";
  auto hook = make_redash_hook(cfg, state.path);
  ApplyResult r = hook->apply(hook->plan(both, "f"));
  std::string out = format_result(r);
  CHECK(out ==
        "  created \"A\": id 2; connection test ok\n"
        "  failed \"B\": created id 3, but the connection test failed: auth failed for "
        "********\n");
  CHECK(r.verified == 2);  // counted for status and templet_verify_failures_total
  CHECK(r.verify_failures == 1);

  // "A" is no longer rendered: deleted. "Keep" was never created by templet: kept. "B" failed
  // its test, so it is sent and tested again (a retry must not call it done); now it passes.
  templet::testing::call(emu, "POST", "/_emulator/seed",
                         R"({"test_results": {"B": {"ok": true}}})");
  Plan p = hook->plan("- {name: B, type: pg, options: {dbname: b, password: Pw-B-2}}\n", "f");
  std::string ptext = format_plan(p);
  CHECK(ptext == "redash plan for f -> " + emu.url() +
                     "\n  update \"B\"\n      connection test: failed after the last apply; "
                     "sent and tested again\n  delete \"A\"\n      id 2, created by templet and "
                     "no longer rendered\n");
  r = hook->apply(p);
  CHECK(format_result(r) == "  updated \"B\": id 3; connection test ok\n  deleted \"A\": id 2\n");
  CHECK(format_plan(
            hook->plan("- {name: B, type: pg, options: {dbname: b, password: Pw-B-2}}\n", "f")) ==
        "redash plan for f -> " + emu.url() + "\n  unchanged \"B\"\n");
  CHECK(stored(emu.url(), 2).is_null());
  CHECK_FALSE(stored(emu.url(), 1).is_null());
  CHECK(out.find("Pw-") == std::string::npos);
  CHECK(ptext.find("Pw-") == std::string::npos);
  templet::testing::keep_output(out + ptext, "plan");
  templet::testing::keep_state_modes(state.path, false);
}

TEST_CASE("redash: templet apply redash FILE [--plan] exit codes", "[redash][emulator][cli]") {
  EmulatorProcess emu("redash", kSeed);
  if (emu.port == 0 || !std::filesystem::exists(TEMPLET_BINARY)) {
    WARN("redash emulator or binary not available; skipped");
    return;
  }
  TempDir dir;
  auto run = [&](const std::string& file, const std::string& extra) {
    auto r = templet::testing::run_shell("REDASH_URL=" + emu.url() + " MY_KEY=admin-api-key " +
                                         std::string(TEMPLET_BINARY) + " apply redash " + file +
                                         " --api-key-env MY_KEY --verify off --state-dir " +
                                         dir.path.string() + "/state " + extra);
    std::string output = r.out + r.err;
    check_no_secret(output);
    return std::make_pair(r.status, output);
  };
  std::string mixed = dir.path.string() + "/mixed.yaml";
  std::ofstream(mixed) << kRendered;
  std::string good = dir.path.string() + "/good.yaml";
  std::ofstream(good) << "managed_datasources:\n"
                         "  - {name: Prod DB (main), type: pg, options: {dbname: app, "
                         "password: S3cret-Pass-1}}\n";

  auto [rc1, out1] = run(mixed, "--plan");
  CHECK(rc1 == 1);  // refused entries
  CHECK(out1.find("refused \"Analytics\"") != std::string::npos);
  CHECK(writes(emu.url()) == 0);  // --plan never writes

  auto [rc2, out2] = run(good, "--plan");
  CHECK(rc2 == 0);
  CHECK(writes(emu.url()) == 0);

  auto [rc3, out3] = run(good, "");
  CHECK(rc3 == 0);
  CHECK(out3.find("updated \"Prod DB (main)\"") != std::string::npos);
  CHECK(stored(emu.url(), 1)["options"] ==
        json::parse(R"({"dbname": "app", "password": "S3cret-Pass-1"})"));

  auto [rc4, out4] = run(good, "");
  CHECK(rc4 == 0);
  CHECK(out4.find("unchanged \"Prod DB (main)\"") != std::string::npos);

  auto [rc5, out5] = run(dir.path.string() + "/missing.yaml", "");
  CHECK(rc5 == 1);
}

TEST_CASE("redash: manage.py mode has the same plan and apply semantics", "[redash][emulator]") {
  EmulatorProcess emu("redash", kSeed);
  if (emu.port == 0) {
    WARN("redash emulator not available; skipped");
    return;
  }
  ::setenv("REDASH_EMU_URL", emu.url().c_str(), 1);
  TempDir state;
  const std::string argv_log = (state.path / "argv.log").string();
  ::setenv("FAKE_MANAGE_ARGV_LOG", argv_log.c_str(), 1);
  RedashApplyConfig cfg = manage_py_config();
  auto hook = make_redash_hook(cfg, state.path);
  Plan plan = hook->plan(kRendered, "ds.yaml");
  std::string out = format_plan(plan);
  REQUIRE(plan.error == "");
  REQUIRE(plan.entries.size() == 5);
  // ds list shows secrets unmasked, so a changed password is known without state.
  CHECK(plan.entries[0].action == PlanAction::Update);
  CHECK(plan.entries[0].details ==
        std::vector<std::string>{"host: \"db1.internal\" -> \"db2.internal\"",
                                 "password: (secret) changed"});
  CHECK(plan.entries[1].action == PlanAction::Refused);  // type differs
  CHECK(plan.entries[2].action == PlanAction::Refused);  // duplicate name
  CHECK(plan.entries[3].action == PlanAction::Create);
  // Without a types endpoint the schema is unknown: Redash's own check refuses "5432".
  CHECK(plan.entries[4].action == PlanAction::Create);
  ApplyResult r = hook->apply(plan);
  out += format_result(r);
  CHECK(r.entries[0].outcome == ApplyOutcome::Updated);
  CHECK(r.entries[3].outcome == ApplyOutcome::Created);
  CHECK(r.entries[4].outcome == ApplyOutcome::Failed);
  CHECK(r.entries[4].message ==
        "manage.py ds new \"Bad Port\" failed (exit 1: Error: invalid configuration.)");
  CHECK(stored(emu.url(), 1)["options"] ==
        json::parse(R"({"host": "db2.internal", "port": 5432, "dbname": "app", "user": "app",
                        "password": "S3cret-Pass-1"})"));

  control(emu.url(), "DELETE", "/_emulator/requests");
  auto hook2 = make_redash_hook(cfg, state.path);
  Plan again = hook2->plan(kRendered, "ds.yaml");
  out += format_plan(again) + format_result(hook2->apply(again));
  CHECK(again.entries[0].action == PlanAction::Unchanged);
  CHECK(again.entries[3].action == PlanAction::Unchanged);
  size_t writes_without_bad_port = 0;
  for (const auto& q : control(emu.url(), "GET", "/_emulator/requests"))
    if (q["method"] != "GET" &&
        !(q["json"].is_object() && q["json"].value("name", "") == "Bad Port"))
      ++writes_without_bad_port;
  CHECK(writes_without_bad_port == 0);
  check_no_secret(out);
  // The options went through the environment: no password on any manage.py command line.
  std::string argvs = slurp(argv_log);
  ::unsetenv("FAKE_MANAGE_ARGV_LOG");
  ::remove(argv_log.c_str());
  CHECK(argvs.find("[\"ds\", \"new\", \"New One\", \"--type\", \"pg\"]\n") != std::string::npos);
  CHECK(argvs.find("[\"ds\", \"edit\", \"Prod DB (main)\", \"--type\", \"pg\"]\n") !=
        std::string::npos);
  CHECK(argvs.find("--options") == std::string::npos);
  for (const auto& secret : kPushed) CHECK(argvs.find(secret) == std::string::npos);
  templet::testing::keep_state_modes(state.path, false);
}

TEST_CASE("redash: manage.py that does not get the options fails loudly", "[redash][emulator]") {
  EmulatorProcess emu("redash", kSeed);
  if (emu.port == 0) {
    WARN("redash emulator not available; skipped");
    return;
  }
  ::setenv("REDASH_EMU_URL", emu.url().c_str(), 1);
  ::setenv("FAKE_MANAGE_IGNORE_ENV", "1", 1);  // as docker exec without -e
  TempDir state;
  auto hook = make_redash_hook(manage_py_config(), state.path);
  ApplyResult r = hook->apply(hook->plan(
      "- {name: Prod DB (main), type: pg, options: {dbname: app, password: S3cret-Pass-1}}\n"
      "- {name: Fresh, type: pg, options: {dbname: f, password: N3w-Pass-3}}\n",
      "ds.yaml"));
  ::unsetenv("FAKE_MANAGE_IGNORE_ENV");
  const std::string hint =
      "manage.py reads the options from FLASK_DS_NEW_OPTIONS and FLASK_DS_EDIT_OPTIONS; pass them "
      "through to it (docker exec -e FLASK_DS_NEW_OPTIONS -e FLASK_DS_EDIT_OPTIONS ...)";
  CHECK(format_result(r) ==
        "  failed \"Prod DB (main)\": manage.py ds edit \"Prod DB (main)\" left the options "
        "unchanged; " +
            hint + "\n  failed \"Fresh\": manage.py ds new \"Fresh\" failed (exit 1: Aborted!); " +
            hint + "\n");
  CHECK_FALSE(r.ok());
  CHECK(stored(emu.url(), 1)["options"]["password"] == "Old-Pass-0");
  check_no_secret(format_result(r));
}

TEST_CASE(
    "redash: state digests are HMACs under a per-state_dir key, and plain SHA-256 ones are "
    "unknown once",
    "[redash][emulator]") {
  EmulatorProcess emu("redash");
  if (emu.port == 0) {
    WARN("redash emulator not available; skipped");
    return;
  }
  ::setenv(kKeyEnv, "admin-api-key", 1);
  TempDir state;
  const std::string rendered = "- {name: A, type: pg, options: {dbname: a, password: hunter2}}\n";
  // Plans and applies; returns the plan without its header line.
  auto plan_and_apply = [&] {
    auto hook = make_redash_hook(config_for(emu), state.path);
    Plan p = hook->plan(rendered, "f");
    hook->apply(p);
    std::string text = format_plan(p);
    return text.substr(text.find('\n') + 1);
  };
  const std::string unchanged = "  unchanged \"A\"\n";
  const std::string unknown = "  update \"A\"\n      password: (secret) unknown\n";
  CHECK(plan_and_apply() ==
        "  create \"A\"\n      type: pg\n      options: dbname, password (secret)\n"
        "  => 1 to CREATE (new, by exact name), 0 other\n");

  // The key: 32 random bytes as hex, private. The digest: HMAC-SHA-256 under it, so the state
  // file alone gives no way to test guesses of a weak password.
  const auto key_file = state.path / "redash" / "digest.key";
  const std::string key = templet::testing::slurp(key_file);
  REQUIRE(key.size() == 65);
  CHECK(key.find_first_not_of("0123456789abcdef") == 64);
  CHECK(templet::testing::mode_of(key_file) == 0600);
  const auto state_file = redash_state_path(state.path, emu.url());
  json saved = json::parse(templet::testing::slurp(state_file));
  const std::string plain = digest::hex(digest::sha256(R"({"password":"hunter2"})"));
  const std::string keyed =
      digest::hex(digest::hmac_sha256(key.substr(0, 64), R"({"password":"hunter2"})"));
  CHECK(saved["version"] == 2);
  CHECK(saved["datasources"]["1"]["secrets"] == json{{"password", keyed}});
  CHECK(templet::testing::slurp(state_file).find(plain) == std::string::npos);
  CHECK(plan_and_apply() == unchanged);

  // A state file from before the keys (version 1, plain SHA-256): the secret is unknown once,
  // sent again, and then known; the record still says templet created the datasource.
  saved["version"] = 1;
  saved.erase("key_id");
  saved["datasources"]["1"]["secrets"]["password"] = plain;
  templet::testing::spit(state_file, saved.dump());
  CHECK(plan_and_apply() == unknown);
  CHECK(plan_and_apply() == unchanged);
  CHECK(json::parse(templet::testing::slurp(state_file))["datasources"]["1"]["created"] == true);

  // A lost key: its digests cannot be checked, so again unknown once, under a new key.
  std::filesystem::remove(key_file);
  CHECK(plan_and_apply() == unknown);
  CHECK(templet::testing::slurp(key_file) != key);
  CHECK(plan_and_apply() == unchanged);
}

TEST_CASE("redash: a Redash failing every write costs one ready_timeout, every entry reported",
          "[redash][emulator]") {
  EmulatorProcess emu("redash", R"({"data_sources": [
      {"id": 1, "name": "a", "type": "pg", "options": {"dbname": "a0"}},
      {"id": 2, "name": "b", "type": "pg", "options": {"dbname": "b0"}},
      {"id": 3, "name": "c", "type": "pg", "options": {"dbname": "c0"}}]})");
  if (emu.port == 0) {
    WARN("redash emulator not available; skipped");
    return;
  }
  ::setenv(kKeyEnv, "admin-api-key", 1);
  TempDir state;
  auto cfg = config_for(emu);
  cfg.ready_timeout = std::chrono::milliseconds(800);
  control(emu.url(), "POST", "/_emulator/fault",
          {{"path_regex", "^/api/data_sources/"}, {"method", "POST"}, {"status", 503}});
  auto hook = make_redash_hook(cfg, state.path);
  Plan plan = hook->plan(
      "- {name: a, type: pg, options: {dbname: a1}}\n- {name: b, type: pg, options: {dbname: "
      "b1}}\n- {name: c, type: pg, options: {dbname: c1}}\n",
      "f");
  auto start = std::chrono::steady_clock::now();
  ApplyResult r = hook->apply(plan);
  auto took = std::chrono::steady_clock::now() - start;
  // The first write waits for Redash up to ready_timeout; the others are each tried once.
  CHECK(took < std::chrono::milliseconds(1500));
  const std::string at = ": Redash at " + emu.url() + " answered 503";
  CHECK(format_result(r) == "  failed \"a\": POST /api/data_sources/1" + at +
                                " until the ready timeout (800ms)\n"
                                "  failed \"b\": POST /api/data_sources/2" +
                                at +
                                "\n"
                                "  failed \"c\": POST /api/data_sources/3" +
                                at + "\n");
}
