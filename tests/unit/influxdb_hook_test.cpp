// The InfluxDB apply hook and `templet apply influxdb` against the InfluxDB emulator
// (tests/emulators/influxdb.py) on a random port: plan text, exact Flux stored, PATCH with flux
// only, idempotence (no write the second time), paging past 500 tasks, duplicate names, prune
// of templet's own tasks only, token rejection and partial failure.
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "hooks/influxdb.hpp"
#include "tests/unit/test_support.hpp"

using namespace templet;
using json = nlohmann::json;

namespace {

// The shared emulator process plus a client for its /_emulator/ control API.
struct Emulator : templet::testing::EmulatorProcess {
  using EmulatorProcess::EmulatorProcess;
  // A control call (/_emulator/PATH); the answer's JSON body, or null when it has none.
  json control(const std::string& method, const std::string& path,
               const json& body = nullptr) const {
    auto http = make_http_client();
    HttpRequest req;
    req.method = method;
    req.url = url() + "/_emulator/" + path;
    if (!body.is_null()) {
      req.body = body.dump();
      req.headers.emplace_back("Content-Type", "application/json");
    }
    HttpResponse resp = http->send(req);
    if (resp.status >= 300)
      throw std::runtime_error("emulator control " + path + ": " + std::to_string(resp.status) +
                               " " + resp.body);
    if (resp.body.empty()) return nullptr;
    return json::parse(resp.body);
  }
};

const std::string kDest = "/etc/influxdb/tasks/app.flux";

std::string flux(const std::string& name, const std::string& bucket = "mybucket",
                 const std::string& every = "1h") {
  return "option task = {name: \"" + name + "\", every: " + every + "}\n\nfrom(bucket: \"" +
         bucket + "\")\n    |> range(start: -task.every)\n";
}

InfluxHookSettings settings(const Emulator& emu, bool prune = false) {
  InfluxHookSettings s;
  s.url = emu.url();
  s.org = "myorg";
  s.token = "admin-token";
  s.prune = prune;
  s.destination = kDest;
  s.ready_timeout = std::chrono::seconds(10);
  s.first_backoff = std::chrono::milliseconds(100);
  return s;
}

std::unique_ptr<InfluxHook> hook(const Emulator& emu, bool prune = false) {
  return std::make_unique<InfluxHook>(settings(emu, prune), make_http_client());
}

// A hook whose config names `status: active`, as an operator's explicit wish.
std::unique_ptr<InfluxHook> hook_status_active(const Emulator& emu) {
  auto s = settings(emu);
  s.status_explicit = true;
  return std::make_unique<InfluxHook>(s, make_http_client());
}

// Seeds tasks; returns their ids in order.
std::vector<std::string> seed(const Emulator& emu, const json& tasks) {
  json r = emu.control("POST", "seed", {{"tasks", tasks}});
  return r["task_ids"].get<std::vector<std::string>>();
}

json tasks_by_name(const Emulator& emu) {
  json out = json::object();
  json state = emu.control("GET", "state");  // kept alive: the loop reads inside it
  for (const auto& t : state["tasks"]) out[t["name"].get<std::string>()] = t;
  return out;
}

json api_requests(const Emulator& emu) {
  json out = json::array();
  for (const auto& r : emu.control("GET", "requests"))
    if (r["path"].get<std::string>().rfind("/api/v2/", 0) == 0) out.push_back(r);
  return out;
}

size_t write_count(const Emulator& emu) {
  size_t n = 0;
  for (const auto& r : api_requests(emu))
    if (r["method"] != "GET") ++n;
  return n;
}

}  // namespace

#define NEED_EMULATOR(emu)                            \
  Emulator emu("influxdb");                           \
  if (emu.port == 0) {                                \
    WARN("influxdb emulator not available; skipped"); \
    return;                                           \
  }

TEST_CASE("split_flux_scripts: parts between --- lines, byte for byte", "[influxdb]") {
  auto parts = split_flux_scripts("a\nb\n---\nc\n---\n\n---\nd");
  REQUIRE(parts.size() == 3);
  CHECK(parts[0].text == "a\nb\n");
  CHECK(parts[0].first_line == 1);
  CHECK(parts[1].text == "c\n");
  CHECK(parts[1].first_line == 4);
  CHECK(parts[2].text == "d");
  CHECK(parts[2].first_line == 8);
  CHECK(split_flux_scripts("").empty());
  CHECK(split_flux_scripts("x --- y\n----\n").size() == 1);
}

TEST_CASE("influxdb hook: a server that never answers is given up after ready_timeout",
          "[influxdb]") {
  InfluxHookSettings s;
  s.url = "http://127.0.0.1:1";  // nothing listens there
  s.org = "myorg";
  s.token = "tok-s3cret";
  s.ready_timeout = std::chrono::milliseconds(400);
  s.first_backoff = std::chrono::milliseconds(50);
  InfluxHook h(s, make_http_client());
  auto start = std::chrono::steady_clock::now();
  Plan plan = h.plan(flux("a"), kDest);
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(300));
  CHECK(plan.error.rfind("no answer from InfluxDB: GET /api/v2/orgs: ", 0) == 0);
  CHECK(plan.error.find("s3cret") == std::string::npos);
  CHECK_FALSE(h.apply(plan).ok());
}

TEST_CASE("influxdb hook: create, update, unchanged, and a second run writes nothing",
          "[influxdb]") {
  NEED_EMULATOR(emu);
  auto ids = seed(emu, json::array({{{"flux", flux("cpu", "old")}},
                                    {{"flux", flux("mem")}, {"status", "inactive"}},
                                    {{"flux", flux("same")}}}));
  emu.control("DELETE", "requests");
  std::string rendered =
      flux("cpu", "new") + "---\n" + flux("mem") + "---\n" + flux("same") + "---\n" + flux("disk");
  auto h = hook_status_active(emu);
  Plan plan = h->plan(rendered, kDest);
  CHECK(write_count(emu) == 0);
  CHECK(format_plan(plan) == "influxdb plan for " + kDest + " -> " + emu.url() + " (org myorg)\n" +
                                 "  update \"cpu\"\n"
                                 "      flux changed (task " +
                                 ids[0] +
                                 "):\n"
                                 "        --- stored\n"
                                 "        +++ rendered\n"
                                 "        @@ -2,3 +2,3 @@\n"
                                 "         \n"
                                 "        -from(bucket: \"old\")\n"
                                 "        +from(bucket: \"new\")\n"
                                 "             |> range(start: -task.every)\n"
                                 "      not created by templet here: its description is kept\n"
                                 "  update \"mem\"\n"
                                 "      status: inactive -> active\n"
                                 "      not created by templet here: its description is kept\n"
                                 "  unchanged \"same\"\n"
                                 "  create \"disk\"\n"
                                 "      every: 1h\n"
                                 "      status: active\n"
                                 "  => 1 to CREATE (new, by exact name), 3 other\n");

  ApplyResult result = h->apply(plan);
  CHECK(result.ok());
  CHECK(format_result(result) == "  updated \"cpu\": task " + ids[0] +
                                     "\n  updated \"mem\": task " + ids[1] +
                                     "\n  unchanged \"same\"\n  created \"disk\": task " +
                                     tasks_by_name(emu)["disk"]["id"].get<std::string>() + "\n");
  json tasks = tasks_by_name(emu);
  CHECK(tasks["cpu"]["flux"] == flux("cpu", "new"));
  CHECK(tasks["cpu"]["description"] == "");  // not taken over
  CHECK(tasks["mem"]["status"] == "active");
  CHECK(tasks["disk"]["flux"] == flux("disk"));  // the last part, without a trailing ---
  CHECK(tasks["disk"]["description"] == "managed by templet: " + kDest);
  CHECK(tasks["disk"]["status"] == "active");
  for (const auto& r : api_requests(emu)) {
    if (r["method"] == "POST")
      CHECK(r["json"] == json{{"orgID", emu.control("GET", "state")["default_org_id"]},
                              {"flux", flux("disk")},
                              {"status", "active"},
                              {"description", "managed by templet: " + kDest}});
    if (r["method"] != "PATCH") continue;
    // Flux only (stored verbatim, description kept), or status only.
    if (r["path"] == "/api/v2/tasks/" + ids[0])
      CHECK(r["json"] == json{{"flux", flux("cpu", "new")}});
    else
      CHECK(r["json"] == json{{"status", "active"}});
  }
  CHECK(write_count(emu) == 3);

  emu.control("DELETE", "requests");
  auto again = hook_status_active(emu);
  Plan p2 = again->plan(rendered, kDest);
  for (const auto& e : p2.entries) CHECK(e.action == PlanAction::Unchanged);
  ApplyResult r2 = again->apply(p2);
  CHECK(r2.ok());
  CHECK(write_count(emu) == 0);
}

TEST_CASE("influxdb hook: a rotated Vault secret is masked on both sides of the Flux diff",
          "[influxdb]") {
  NEED_EMULATOR(emu);
  auto script = [](const std::string& password) {
    return "option task = {name: \"pg\", every: 1h}\n\nimport \"sql\"\n"
           "sql.from(driverName: \"postgres\", dataSourceName: \"postgresql://v-reader:" +
           password + "@db/app\", query: \"SELECT 1\")\n";
  };
  auto ids = seed(emu, json::array({{{"flux", script("Old-pw-1")}}}));
  auto h = hook(emu);
  h->set_rendered_secrets({"New-pw-2"});
  Plan plan = h->plan(script("New-pw-2"), kDest);
  CHECK(format_plan(plan) == "influxdb plan for " + kDest + " -> " + emu.url() +
                                 " (org myorg)\n"
                                 "  update \"pg\"\n"
                                 "      flux changed (task " +
                                 ids[0] +
                                 "):\n"
                                 "        --- stored\n"
                                 "        +++ rendered\n"
                                 "        @@ -3,2 +3,2 @@\n"
                                 "         import \"sql\"\n"
                                 "        -sql.from(driverName: \"postgres\", dataSourceName: "
                                 "\"postgresql://v-reader:********@db/app\", query: \"SELECT 1\")\n"
                                 "        +sql.from(driverName: \"postgres\", dataSourceName: "
                                 "\"postgresql://v-reader:********@db/app\", query: \"SELECT 1\")\n"
                                 "      not created by templet here: its description is kept\n");
}

TEST_CASE("influxdb hook: more than 500 tasks are paged with after", "[influxdb]") {
  NEED_EMULATOR(emu);
  emu.control("POST", "seed", {{"generate_tasks", 600}});
  emu.control("DELETE", "requests");
  auto h = hook(emu);
  std::string rendered = flux("generated-task-0599") + "---\n" + flux("fresh");
  Plan plan = h->plan(rendered, kDest);
  REQUIRE(plan.error.empty());
  REQUIRE(plan.entries.size() == 2);
  CHECK(plan.entries[0].action == PlanAction::Update);  // seen on the second page
  CHECK(plan.entries[1].action == PlanAction::Create);
  int pages = 0, with_after = 0;
  for (const auto& r : api_requests(emu)) {
    if (r["path"] != "/api/v2/tasks") continue;
    ++pages;
    CHECK_FALSE(r["query"].contains("name"));
    CHECK(r["query"]["limit"][0] == "500");
    if (r["query"].contains("after")) ++with_after;
  }
  CHECK(pages == 2);  // 500, then 100: a short page is the last, no empty page is asked for
  CHECK(with_after == 1);
  CHECK(h->apply(plan).ok());
  CHECK(tasks_by_name(emu)["generated-task-0599"]["flux"] == flux("generated-task-0599"));
}

TEST_CASE("influxdb hook: a task an operator paused stays paused unless status is explicit",
          "[influxdb]") {
  NEED_EMULATOR(emu);
  auto ids = seed(emu, json::array({{{"flux", flux("paused")}, {"status", "inactive"}}}));
  emu.control("DELETE", "requests");
  auto h = hook(emu);
  Plan plan = h->plan(flux("paused") + "---\n" + flux("fresh"), kDest);
  CHECK(format_plan(plan) == "influxdb plan for " + kDest + " -> " + emu.url() + " (org myorg)\n" +
                                 "  unchanged \"paused\"\n"
                                 "  create \"fresh\"\n"
                                 "      every: 1h\n"
                                 "      status: active\n"
                                 "  => 1 to CREATE (new, by exact name), 1 other\n");
  CHECK(h->apply(plan).ok());
  CHECK(tasks_by_name(emu)["paused"]["status"] == "inactive");
  // A changed script is pushed without touching the status.
  auto h2 = hook(emu);
  Plan p2 = h2->plan(flux("paused", "other"), kDest);
  CHECK(h2->apply(p2).ok());
  CHECK(tasks_by_name(emu)["paused"]["status"] == "inactive");
  for (const auto& r : api_requests(emu))
    if (r["method"] == "PATCH") CHECK_FALSE(r["json"].contains("status"));
}

TEST_CASE("influxdb hook: a token without read:orgs is told to use org_id", "[influxdb]") {
  NEED_EMULATOR(emu);
  emu.control("POST", "seed", {{"tokens", {{{"token", "tasks-only"}, {"read_orgs", false}}}}});
  auto s = settings(emu);
  s.token = "tasks-only";
  InfluxHook h(s, make_http_client());
  CHECK(h.plan(flux("a"), kDest).error ==
        "organization \"myorg\" is not visible to this token (it lacks read:orgs); set org_id to "
        "the organization's id instead of org");
  s.org_id = emu.control("GET", "state")["default_org_id"].get<std::string>();
  InfluxHook with_id(s, make_http_client());
  Plan plan = with_id.plan(flux("a"), kDest);
  CHECK(plan.error.empty());
  CHECK(with_id.apply(plan).ok());
}

TEST_CASE("influxdb hook: a list without Flux is completed task by task", "[influxdb]") {
  NEED_EMULATOR(emu);
  auto ids = seed(emu, json::array({{{"flux", flux("a")}}}));
  json page = {
      {"links", json::object()},
      {"tasks",
       json::array(
           {{{"id", ids[0]}, {"orgID", "x"}, {"name", "a"}, {"status", "active"}, {"flux", ""}}})}};
  emu.control("POST", "fault",
              {{"path_regex", "^/api/v2/tasks$"},
               {"method", "GET"},
               {"status", 200},
               {"count", 1},
               {"body", page.dump()},
               {"content_type", "application/json"}});
  auto h = hook(emu);
  Plan plan = h->plan(flux("a"), kDest);
  REQUIRE(plan.entries.size() == 1);
  CHECK(plan.entries[0].action == PlanAction::Unchanged);
  bool fetched = false;
  for (const auto& r : api_requests(emu)) fetched |= r["path"] == "/api/v2/tasks/" + ids[0];
  CHECK(fetched);
}

TEST_CASE("influxdb hook: duplicate names are refused, the others proceed", "[influxdb]") {
  NEED_EMULATOR(emu);
  auto ids = seed(emu, json::array({{{"flux", flux("dup")}},
                                    {{"flux", flux("dup", "x")}},
                                    {{"flux", flux("ok", "x")}}}));
  auto h = hook(emu);
  std::string rendered = flux("dup") + "---\n" + flux("ok") + "---\n" +
                         "option task = {name: \"bad\", every: 1h, cron: \"* * * * *\"}\n" +
                         "---\n" + flux("new");
  Plan plan = h->plan(rendered, kDest);
  REQUIRE(plan.entries.size() == 4);
  CHECK(plan.entries[0].action == PlanAction::Refused);
  CHECK(plan.entries[0].reason ==
        "2 tasks in the organization share this name: " + ids[0] + ", " + ids[1]);
  CHECK(plan.entries[2].name == "bad");
  CHECK(plan.entries[2].reason == kDest + ":11:40: cannot use both cron and every in task options");
  ApplyResult r = h->apply(plan);
  CHECK_FALSE(r.ok());
  REQUIRE(r.entries.size() == 4);
  CHECK(r.entries[0].outcome == ApplyOutcome::Refused);
  CHECK(r.entries[1].outcome == ApplyOutcome::Updated);
  CHECK(r.entries[2].outcome == ApplyOutcome::Refused);
  CHECK(r.entries[3].outcome == ApplyOutcome::Created);
  json tasks = tasks_by_name(emu);
  CHECK(tasks["ok"]["flux"] == flux("ok"));
  CHECK(tasks.contains("new"));
  CHECK_FALSE(tasks.contains("bad"));
}

TEST_CASE("influxdb hook: prune deletes only templet's tasks of this destination", "[influxdb]") {
  NEED_EMULATOR(emu);
  const std::string mine = "managed by templet: " + kDest;
  auto ids = seed(
      emu,
      json::array({
          {{"flux", flux("keep")}, {"description", mine}},
          {{"flux", flux("gone")}, {"description", mine}},
          {{"flux", flux("other-dest")}, {"description", "managed by templet: /etc/other.flux"}},
          {{"flux", flux("foreign")}},
          {{"flux", flux("foreign-described")}, {"description", "hand made"}},
      }));
  SECTION("no longer rendered") {
    auto h = hook(emu, true);
    Plan plan = h->plan(flux("keep"), kDest);
    REQUIRE(plan.entries.size() == 2);
    CHECK(plan.entries[1].action == PlanAction::Delete);
    CHECK(plan.entries[1].name == "gone");
    CHECK(format_plan(plan).find("  delete \"gone\"\n      task " + ids[1] +
                                 ", no longer rendered\n") != std::string::npos);
    ApplyResult r = h->apply(plan);
    CHECK(r.ok());
    json tasks = tasks_by_name(emu);
    CHECK_FALSE(tasks.contains("gone"));
    CHECK(tasks.size() == 4);
  }
  SECTION("without prune nothing is deleted") {
    auto h = hook(emu, false);
    Plan plan = h->plan(flux("keep"), kDest);
    CHECK(plan.entries.size() == 1);
    CHECK(h->apply(plan).ok());
    CHECK(tasks_by_name(emu).size() == 5);
  }
  SECTION("an empty file means zero tasks") {
    auto h = hook(emu, true);
    Plan plan = h->plan("", kDest);
    REQUIRE(plan.entries.size() == 2);
    CHECK(h->apply(plan).ok());
    json tasks = tasks_by_name(emu);
    CHECK(tasks.size() == 3);
    CHECK(tasks.contains("other-dest"));
    CHECK(tasks.contains("foreign"));
  }
  SECTION("a script without a readable name suspends prune") {
    auto h = hook(emu, true);
    Plan plan = h->plan(flux("keep") + "---\noption task = {every: 1h}\n", kDest);
    REQUIRE(plan.entries.size() == 3);
    CHECK(plan.entries[1].name == kDest + ":6");
    CHECK(plan.entries[2].name == "(prune)");
    CHECK(plan.entries[2].action == PlanAction::Refused);
    h->apply(plan);
    CHECK(tasks_by_name(emu).size() == 5);
  }
}

TEST_CASE("influxdb hook: a rejected token and server failures", "[influxdb]") {
  NEED_EMULATOR(emu);
  SECTION("401 is 'token rejected', and the token is never shown") {
    auto s = settings(emu);
    s.token = "not-the-token-s3cr3t";
    InfluxHook h(s, make_http_client());
    Plan plan = h.plan(flux("a"), kDest);
    CHECK(plan.error == "token rejected (GET /api/v2/orgs: 401)");
    ApplyResult r = h.apply(plan);
    CHECK_FALSE(r.ok());
    CHECK(format_plan(plan).find("s3cr3t") == std::string::npos);
  }
  SECTION("a 500 on one task of many leaves the rest applied") {
    emu.control("POST", "fault",
                {{"path_regex", "^/api/v2/tasks$"},
                 {"method", "POST"},
                 {"status", 500},
                 {"count", 1},
                 {"body", {{"code", "internal error"}, {"message", "boom"}}}});
    auto h = hook(emu);
    Plan plan = h->plan(flux("a") + "---\n" + flux("b") + "---\n" + flux("c"), kDest);
    ApplyResult r = h->apply(plan);
    CHECK_FALSE(r.ok());
    REQUIRE(r.entries.size() == 3);
    CHECK(r.entries[0].outcome == ApplyOutcome::Failed);
    CHECK(r.entries[0].message == "POST /api/v2/tasks: 500 boom");
    CHECK(r.entries[1].outcome == ApplyOutcome::Created);
    CHECK(r.entries[2].outcome == ApplyOutcome::Created);
    // The next run creates the missing one only.
    auto h2 = hook(emu);
    Plan p2 = h2->plan(flux("a") + "---\n" + flux("b") + "---\n" + flux("c"), kDest);
    CHECK(p2.entries[0].action == PlanAction::Create);
    CHECK(p2.entries[1].action == PlanAction::Unchanged);
    CHECK(h2->apply(p2).ok());
  }
  SECTION("the server's 400 message comes with the task's name") {
    seed(emu, json::array({{{"flux", flux("a")}}}));
    emu.control("POST", "fault",
                {{"path_regex", "^/api/v2/tasks/"},
                 {"method", "PATCH"},
                 {"status", 400},
                 {"body", {{"code", "invalid"}, {"message", "invalid options: nope"}}}});
    auto h = hook(emu);
    Plan plan = h->plan(flux("a", "changed"), kDest);
    ApplyResult r = h->apply(plan);
    REQUIRE(r.entries.size() == 1);
    CHECK(format_result(r).find("  failed \"a\": PATCH /api/v2/tasks/") == 0);
    CHECK(format_result(r).find(": 400 invalid options: nope\n") != std::string::npos);
  }
  SECTION("a server that is not ready yet is waited for") {
    emu.control("POST", "seed", {{"ready_after_s", 1}});
    auto h = hook(emu);
    Plan plan = h->plan(flux("a"), kDest);
    CHECK(plan.error.empty());
    CHECK(h->apply(plan).ok());
  }
  SECTION("an unknown org") {
    auto s = settings(emu);
    s.org = "nope";
    InfluxHook h(s, make_http_client());
    CHECK(h.plan(flux("a"), kDest).error == "organization \"nope\" not found");
  }
}

TEST_CASE("influxdb hook: scripts refused before any request", "[influxdb]") {
  NEED_EMULATOR(emu);
  auto h = hook(emu);
  std::string rendered = flux("twice") + "---\n" + flux("twice", "b") + "---\n" +
                         "option task = {name: \"latin1\", every: 1h}\n// caf\xe9\n" + "---\n" +
                         flux("fine");
  Plan plan = h->plan(rendered, "f.flux");
  REQUIRE(plan.entries.size() == 4);
  CHECK(plan.entries[0].reason == "rendered 2 times in f.flux (scripts at lines 1, 6)");
  CHECK(plan.entries[1].reason == plan.entries[0].reason);
  CHECK(plan.entries[2].reason ==
        "f.flux:11: the script is not valid UTF-8 (InfluxDB takes JSON text)");
  CHECK(plan.entries[3].action == PlanAction::Create);
  ApplyResult r = h->apply(plan);
  CHECK_FALSE(r.ok());
  CHECK(tasks_by_name(emu).size() == 1);
}

TEST_CASE("make_influxdb_hook: the token from token_file or the environment", "[influxdb]") {
  NEED_EMULATOR(emu);
  InfluxApplyConfig cfg;
  cfg.url = "127.0.0.1:" + std::to_string(emu.port);  // normalized to http://
  cfg.org = "myorg";
  SECTION("token_file, trailing newline dropped") {
    std::string path = emu.dir + "/token";
    std::ofstream(path) << "admin-token\n";
    cfg.token_file = path;
    auto h = make_influxdb_hook(cfg, kDest);
    Plan plan = h->plan(flux("a"), kDest);
    CHECK(plan.error.empty());
    CHECK(h->apply(plan).ok());
    CHECK(tasks_by_name(emu).contains("a"));
  }
  SECTION("an unset variable") {
    cfg.token_env = "TEMPLET_TEST_NO_SUCH_TOKEN_VAR";
    auto h = make_influxdb_hook(cfg, kDest);
    Plan plan = h->plan(flux("a"), kDest);
    CHECK(plan.error == "no InfluxDB token: TEMPLET_TEST_NO_SUCH_TOKEN_VAR is not set");
    CHECK_FALSE(h->apply(plan).ok());
    CHECK(write_count(emu) == 0);
  }
}

namespace {
struct Run {
  int code;
  std::string out;
};
// Runs a shell command line; stdout and stderr together (both kept for the leak scan).
Run sh(const std::string& command) {
  auto r = templet::testing::run_shell(command);
  return {r.status, r.out + r.err};
}
}  // namespace

TEST_CASE("templet apply influxdb FILE", "[influxdb][cli]") {
  NEED_EMULATOR(emu);
  std::string dir = emu.dir + "/cli";
  std::filesystem::create_directories(dir);
  std::string file = dir + "/tasks.flux";
  std::ofstream(file) << flux("one") << "---\n" << flux("two");
  const std::string bin = TEMPLET_BINARY;
  std::string env = "env -u INFLUXDB_URL -u INFLUXDB_ORG INFLUXDB_TOKEN=admin-token ";
  std::string args = "apply influxdb " + file + " --url " + emu.url() + " --org myorg";
  emu.control("DELETE", "requests");

  Run plan = sh(env + bin + " " + args + " --plan");
  INFO(plan.out);
  CHECK(plan.code == 0);
  CHECK(plan.out.find("  create \"one\"\n") != std::string::npos);
  CHECK(write_count(emu) == 0);

  Run apply = sh(env + bin + " " + args);
  INFO(apply.out);
  CHECK(apply.code == 0);
  CHECK(apply.out.find("  created \"two\": task ") != std::string::npos);
  json tasks = tasks_by_name(emu);
  CHECK(tasks["one"]["description"] == "managed by templet: " + file);
  CHECK(tasks["two"]["flux"] == flux("two"));

  emu.control("DELETE", "requests");
  Run again = sh(env + bin + " " + args);
  CHECK(again.code == 0);
  CHECK(write_count(emu) == 0);

  Run bad = sh("INFLUXDB_TOKEN=admin-token OTHER=wr0ng-s3cret " + bin + " " + args +
               " --token-env OTHER");
  CHECK(bad.code == 1);
  CHECK(bad.out.find("token rejected") != std::string::npos);
  CHECK(bad.out.find("s3cret") == std::string::npos);

  Run usage = sh("env -u INFLUXDB_URL " + bin + " apply influxdb " + file);
  CHECK(usage.code == 2);
}

TEST_CASE("influxdb hook: verify run_on_change forces a run of each changed task", "[influxdb]") {
  NEED_EMULATOR(emu);
  auto ids = seed(emu, json::array({{{"flux", flux("cpu", "old")}}, {{"flux", flux("same")}}}));
  auto s = settings(emu);
  s.run_on_change = true;
  InfluxHook h(s, make_http_client());
  ApplyResult r = h.apply(h.plan(flux("cpu", "new") + "---\n" + flux("same"), kDest));
  json runs = emu.control("GET", "state")["runs"];
  REQUIRE(runs[ids[0]].size() == 1);
  CHECK_FALSE(runs.contains(ids[1]));  // unchanged: not run
  std::string run_id = runs[ids[0]][0]["id"];
  CHECK(format_result(r) == "  updated \"cpu\": task " + ids[0] + "; forced run " + run_id +
                                ": scheduled\n  unchanged \"same\"\n");
  CHECK(r.verified == 1);
  CHECK(r.verify_failures == 0);

  // A run InfluxDB refuses to force fails the entry: the apply is retried, the lease kept.
  emu.control("POST", "fault",
              {{"path_regex", "/runs$"},
               {"method", "POST"},
               {"status", 500},
               {"body", R"({"code":"internal error","message":"scheduler down"})"}});
  r = h.apply(h.plan(flux("cpu", "newer") + "---\n" + flux("same"), kDest));
  CHECK_FALSE(r.ok());
  CHECK(r.verified == 1);
  CHECK(r.verify_failures == 1);
  CHECK(format_result(r).find("  failed \"cpu\": task " + ids[0] +
                              ", but forcing a run failed: ") == 0);
}
