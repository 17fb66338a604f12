// A template's `check`: the staged file is vetted before it replaces the destination, and a
// refusal keeps the old file, its backup and the lease it was written with (issue 20, item 4a).
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>

#include "app/runner.hpp"
#include "app/status_board.hpp"
#include "hooks/command.hpp"
#include "renderer/file_writer.hpp"
#include "tests/unit/test_support.hpp"

using namespace templet;
using templet::testing::names_in;
using templet::testing::slurp;
using templet::testing::spit;
using templet::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// A feed over one file dependency whose contents go "good" -> "bad" -> (stop), each answer with
// its own lease version, recording what the loop says the file holds after each pass.
class FlipFeed : public DataFeed {
 public:
  explicit FlipFeed(std::atomic<int>* stop) : stop_(stop) {}
  std::optional<Response> fetch(const Dependency&) const override {
    return Response{200, phase_ == 0 ? "good" : "bad"};
  }
  void watch(const std::vector<Dependency>&) override {}
  std::set<std::string> wait_for_change(std::chrono::steady_clock::time_point) override {
    if (++phase_ == 1) return {"file(/data)"};
    *stop_ = SIGTERM;
    return {};
  }
  AnswerVersions versions(const std::vector<Dependency>&) const override {
    return {{"file(/data)", "lease-" + std::to_string(phase_)}};
  }
  void holdings(const std::vector<Holding>& h) override { held.push_back(h.at(0).on_disk); }

  std::vector<std::optional<AnswerVersions>> held;

 private:
  std::atomic<int>* stop_;
  int phase_ = 0;
};

}  // namespace

TEST_CASE("check: a refused file keeps the old contents and the old lease", "[check]") {
  TempDir dir;
  fs::path dest = dir.path / "app.conf";
  fs::path seen = dir.path / "seen";
  Config c;
  TemplateConfig t;
  t.origin = "test";
  t.contents = "value={{ file \"/data\" }}\n";
  t.destination = dest.string();
  // The staged path arrives as the last argument ($0 of sh -c) and in TEMPLET_STAGED.
  t.check = {"/bin/sh", "-c",
             "test \"$0\" = \"$TEMPLET_STAGED\" && cat \"$0\" >> " + seen.string() +
                 " && grep -q good \"$0\" || { echo refused: bad value; exit 4; }"};
  c.templates.push_back(t);
  std::map<std::string, std::string> env;
  finalize_config(c, &env);
  std::atomic<int> stop{0};
  FlipFeed feed(&stop);
  StatusBoard board;
  RunOptions o;
  o.stop_requested = &stop;
  o.status = &board;
  CHECK(run_templates(c, feed, o) == 0);
  CHECK(slurp(dest) == "value=good\n");
  CHECK(slurp(seen) == "value=good\nvalue=bad\n");  // both were checked, only one written
  CHECK(names_in(dir.path) == std::vector<std::string>{"app.conf", "seen"});  // no temporary
  // The file still holds what the first pass wrote it from: that lease must not be revoked.
  REQUIRE(feed.held.size() == 2);
  CHECK(feed.held[0] == AnswerVersions{{"file(/data)", "lease-0"}});
  CHECK(feed.held[1] == AnswerVersions{{"file(/data)", "lease-0"}});
  auto j = board.status_json(std::chrono::system_clock::now());
  CHECK(j["templates"][0]["state"] == "failing");
  CHECK(j["templates"][0]["last_error"] ==
        "(dynamic): check " + describe_command(t.check) + " refused the new contents of " +
            dest.string() + ": exited with status 4; output: refused: bad value");
  CHECK(board.metrics_text(std::chrono::system_clock::now())
            .find("templet_check_failures_total{destination=\"" + dest.string() + "\"} 1\n") !=
        std::string::npos);
}

TEST_CASE("check: write_file runs it on the final-mode staged file, before the backup", "[check]") {
  TempDir dir;
  fs::path dest = dir.path / "f";
  spit(dest, "old\n");
  spit(dir.path / "f.bak", "older\n");
  std::string staged_seen;
  unsigned mode_seen = 0;
  WriteRequest req;
  req.path = dest.string();
  req.contents = "new\n";
  req.perms = 0640;
  req.backup = true;
  req.check = [&](const std::string& staged) -> std::optional<std::string> {
    staged_seen = slurp(staged);
    struct stat st;
    ::stat(staged.c_str(), &st);
    mode_seen = st.st_mode & 07777;
    return "no";
  };
  CHECK_THROWS_AS(write_file(req), CheckError);
  CHECK(staged_seen == "new\n");
  CHECK(mode_seen == 0640);
  CHECK(slurp(dest) == "old\n");
  CHECK(slurp(dir.path / "f.bak") == "older\n");  // a refused write takes no backup
  CHECK(names_in(dir.path) == std::vector<std::string>{"f", "f.bak"});

  req.check = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  CHECK(write_file(req).changed);
  CHECK(slurp(dest) == "new\n");
  CHECK(slurp(dir.path / "f.bak") == "old\n");
}
