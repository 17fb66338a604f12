// Redash's connection test after an apply (issue 20, item 4b), in the run loop against the Redash
// emulator: a failed test fails the apply, which is retried, and the lease the file held before
// is not released for revocation until a test passes, however many retries it takes.
#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/runner.hpp"
#include "app/status_board.hpp"
#include "hooks/redash.hpp"
#include "tests/unit/test_support.hpp"

using namespace templet;
using json = nlohmann::json;
using templet::testing::EmulatorProcess;
using templet::testing::TempDir;

namespace {

const char* kDep = "vault.read(database/creds/ro)";

// One Vault secret (so the rendered password is masked in diffs and logs) whose answer and
// lease change when `next` says so; records what the loop says the file holds after each pass.
class RotatingFeed : public DataFeed {
 public:
  std::optional<Response> fetch(const Dependency&) const override {
    return Response{
        200, R"({"lease_id":"database/creds/ro/L)" + std::to_string(version) +
                 R"(","renewable":true,"lease_duration":3600,"data":{"password":"Pw-Verify-)" +
                 std::to_string(version) + R"("}})"};
  }
  void watch(const std::vector<Dependency>&) override {}
  std::set<std::string> wait_for_change(std::chrono::steady_clock::time_point deadline) override {
    return next(++calls, deadline);
  }
  AnswerVersions versions(const std::vector<Dependency>&) const override {
    return {{kDep, "lease-" + std::to_string(version)}};
  }
  void holdings(const std::vector<Holding>& h) override {
    held.push_back(h.at(0).on_disk ? h.at(0).on_disk->at(kDep) : "");
  }

  int version = 0;
  int calls = 0;
  std::function<std::set<std::string>(int, std::chrono::steady_clock::time_point)> next;
  std::vector<std::string> held;
};

}  // namespace

TEST_CASE("redash verify: a failed connection test keeps the old lease until a retry passes",
          "[redash][emulator][status]") {
  EmulatorProcess emu("redash", R"({"test_results": {"DS": {"ok": true}}})");
  if (emu.port == 0) {
    WARN("redash emulator not available; skipped");
    return;
  }
  ::setenv("TEMPLET_TEST_REDASH_KEY", "admin-api-key", 1);
  TempDir dir;
  // No verify key: test_on_change is the default.
  Config c = parse_config(
      "state_dir: " + dir.path.string() +
          "\nretry: {backoff: 50ms, max_backoff: 50ms}\n"
          "templates:\n  - contents: \"- {name: DS, type: pg, options: "
          "{dbname: app, password: {{ with secret \\\"database/creds/ro\\\" }}{{ "
          ".Data.password }}{{ end }}}}\\n\"\n"
          "    destination: " +
          (dir.path / "ds.yaml").string() + "\n    apply: {redash: {url: " + emu.url() +
          ", api_key_env: TEMPLET_TEST_REDASH_KEY}}\n",
      "t.yaml");
  std::map<std::string, std::string> env;
  finalize_config(c, &env);
  auto set_test = [&](const json& result) {
    templet::testing::call(emu, "POST", "/_emulator/seed",
                           json{{"test_results", {{"DS", result}}}}.dump());
  };
  const json refused = {{"ok", false},
                        {"message", "FATAL:  password authentication failed for user \"app\""}};
  std::atomic<int> stop{0};
  RotatingFeed feed;
  // Pass 1 creates DS (test ok). The password rotates and the database refuses it: pass 2 and
  // two retries fail their tests. Then the database takes it: the third retry passes.
  feed.next = [&](int call, std::chrono::steady_clock::time_point deadline) {
    if (call == 1) {
      set_test(refused);
      feed.version = 1;
      return std::set<std::string>{kDep};
    }
    if (call == 4) set_test({{"ok", true}});
    if (call == 5) {
      stop = SIGTERM;
      return std::set<std::string>{};
    }
    std::this_thread::sleep_until(
        std::min(deadline, std::chrono::steady_clock::now() + std::chrono::seconds(2)));
    return std::set<std::string>{};
  };
  StatusBoard board;
  RunOptions o;
  o.stop_requested = &stop;
  o.status = &board;
  o.make_hooks = [&](const TemplateConfig& t) {
    std::vector<std::unique_ptr<ApplyHook>> hooks;
    hooks.push_back(make_redash_hook(*t.redash, *c.state_dir));
    return hooks;
  };
  run_templates(c, feed, o);
  CHECK(feed.held ==
        std::vector<std::string>{"lease-0", "lease-0", "lease-0", "lease-0", "lease-1"});
  const json state = templet::testing::call_json(emu, "GET", "/_emulator/state");
  std::vector<bool> tests;
  for (const auto& t : state["test_log"]) tests.push_back(t["result"]["ok"]);
  CHECK(tests == std::vector<bool>{true, false, false, false, true});
  auto j = board.status_json(std::chrono::system_clock::now());
  CHECK(j["targets"][0]["last_verification"] == "ok");
  CHECK(board.metrics_text(std::chrono::system_clock::now())
            .find("templet_verify_failures_total{target=\"redash " + emu.url() + "\"} 3\n") !=
        std::string::npos);
}
