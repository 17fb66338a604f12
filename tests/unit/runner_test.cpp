// The run loop against a values-file feed and fake hooks: what gets written, which commands and
// hooks run, and how failures stay local to their template.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/runner.hpp"
#include "functions/values_file.hpp"
#include "tests/unit/test_support.hpp"

using namespace templet;
using templet::testing::slurp;
using templet::testing::TempDir;
namespace fs = std::filesystem;

namespace {

const char* kValues = R"(
env: {ENVIRONMENT: qa}
consul:
  kv:
    app/host: db.internal
vault:
  database/creds/readonly:
    lease_id: database/creds/readonly/abc
    lease_duration: 3600
    renewable: true
    data: {username: v-user-1, password: pw-secret-1}
)";

TemplateConfig tmpl(const std::string& contents, const fs::path& dest) {
  TemplateConfig t;
  t.origin = "test";
  t.contents = contents;
  t.destination = dest.string();
  return t;
}

struct Run {
  int status;
  std::string out;
};

Run run_once(Config config, bool dry_run = false, RunOptions extra = {}) {
  std::map<std::string, std::string> env;
  finalize_config(config, &env);
  auto values = std::make_shared<ValuesFile>(ValuesFile::parse(kValues, "values.yaml"));
  StaticFeed feed(values);
  std::ostringstream out;
  RunOptions o = std::move(extra);
  o.once = true;
  o.dry_run = dry_run;
  o.out = &out;
  o.env = [values](std::string_view n) { return values->env(n); };
  int status = run_templates(config, feed, o);
  return {status, out.str()};
}

class FakeHook : public ApplyHook {
 public:
  FakeHook(std::vector<std::string>* log, bool fail) : log_(log), fail_(fail) {}
  Plan plan(const std::string& rendered, const std::string& file) override {
    log_->push_back("plan " + file + " " + std::to_string(rendered.size()));
    Plan p;
    p.hook = "fake";
    p.file = file;
    p.target = "http://fake";
    p.entries.push_back({"entry", PlanAction::Update, {}, ""});
    return p;
  }
  ApplyResult apply(const Plan& plan) override {
    log_->push_back("apply " + plan.file);
    ApplyResult r;
    r.entries.push_back(
        {"entry", fail_ ? ApplyOutcome::Failed : ApplyOutcome::Updated, fail_ ? "500 boom" : ""});
    return r;
  }

 private:
  std::vector<std::string>* log_;
  bool fail_;
};

}  // namespace

TEST_CASE("run --once writes complete templates, secret files private", "[runner]") {
  TempDir dir;
  Config c;
  c.templates.push_back(tmpl("host={{ key \"app/host\" }}\n", dir.path / "a.conf"));
  c.templates.push_back(
      tmpl("{{ with secret \"database/creds/readonly\" }}{{ .Data.username }}:{{ .Data.password }}"
           "{{ end }}\n",
           dir.path / "sub" / "b.conf"));
  auto r = run_once(c);
  CHECK(r.status == 0);
  CHECK(slurp(dir.path / "a.conf") == "host=db.internal\n");
  CHECK(slurp(dir.path / "sub" / "b.conf") == "v-user-1:pw-secret-1\n");
  struct stat st;
  REQUIRE(stat((dir.path / "sub" / "b.conf").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(stat((dir.path / "a.conf").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
}

TEST_CASE("a dry run prints the masked diff and writes nothing", "[runner]") {
  TempDir dir;
  Config c;
  c.templates.push_back(
      tmpl("user: {{ with secret \"database/creds/readonly\" }}{{ .Data.password }}{{ end }}\n",
           dir.path / "c.conf"));
  auto r = run_once(c, true);
  CHECK(r.status == 0);
  CHECK_FALSE(fs::exists(dir.path / "c.conf"));
  std::string dest = (dir.path / "c.conf").string();
  CHECK(r.out ==
        "> " + dest + "\n--- " + dest + "\n+++ " + dest + "\n@@ -0,0 +1 @@\n+user: ********\n");
  CHECK(r.out.find("pw-secret-1") == std::string::npos);
}

TEST_CASE("one failing template does not stop the others, and --once exits 1", "[runner]") {
  TempDir dir;
  Config c;
  c.templates.push_back(tmpl("{{ index (split \",\" \"a\") 5 }}", dir.path / "bad.conf"));
  c.templates.push_back(tmpl("ok\n", dir.path / "good.conf"));
  c.templates.push_back(tmpl("{{ .missing }}\n", dir.path / "novalue.conf"));
  auto r = run_once(c);
  CHECK(r.status == 1);
  CHECK_FALSE(fs::exists(dir.path / "bad.conf"));
  CHECK_FALSE(fs::exists(dir.path / "novalue.conf"));
  CHECK(slurp(dir.path / "good.conf") == "ok\n");
}

TEST_CASE("a command shared by two changed templates runs once, after both writes", "[runner]") {
  TempDir dir;
  fs::path log = dir.path / "log";
  std::string cmd = "ls " + dir.path.string() + " | grep -c conf >> " + log.string();
  Config c;
  auto a = tmpl("a\n", dir.path / "a.conf");
  a.command = {"/bin/sh", "-c", cmd};
  auto b = tmpl("b\n", dir.path / "b.conf");
  b.command = {"/bin/sh", "-c", cmd};
  c.templates = {a, b};
  CHECK(run_once(c).status == 0);
  CHECK(slurp(log) == "2\n");  // ran once, and saw both files
  // Unchanged content: the command does not run again.
  CHECK(run_once(c).status == 0);
  CHECK(slurp(log) == "2\n");
}

TEST_CASE("apply hooks run after the write and their failure fails --once", "[runner]") {
  TempDir dir;
  Config c;
  auto t = tmpl("x\n", dir.path / "x.conf");
  t.redash = RedashApplyConfig{};
  t.redash->url = "http://fake";
  c.templates.push_back(t);
  for (bool failing : {false, true}) {
    std::vector<std::string> log;
    RunOptions o;
    o.make_hooks = [&](const TemplateConfig&) {
      std::vector<std::unique_ptr<ApplyHook>> hooks;
      hooks.push_back(std::make_unique<FakeHook>(&log, failing));
      return hooks;
    };
    fs::remove(dir.path / "x.conf");
    auto r = run_once(c, false, o);
    std::string dest = (dir.path / "x.conf").string();
    CHECK(log == std::vector<std::string>{"plan " + dest + " 2", "apply " + dest});
    CHECK(r.status == (failing ? 1 : 0));
    CHECK(slurp(dir.path / "x.conf") == "x\n");
  }
}

TEST_CASE("missing data with a timeout exits 3 and writes nothing", "[runner]") {
  TempDir dir;
  Config c;
  c.templates.push_back(tmpl("{{ key \"not/there\" }}", dir.path / "m.conf"));
  RunOptions o;
  o.timeout = std::chrono::milliseconds(300);
  auto r = run_once(c, false, o);
  CHECK(r.status == 3);
  CHECK_FALSE(fs::exists(dir.path / "m.conf"));
}
