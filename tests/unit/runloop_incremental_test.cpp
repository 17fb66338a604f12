// The run loop renders only what a change touches: an incomplete template waits for everything
// it found missing instead of rendering at each arrival (issue 15, item 3).
#include <catch2/catch.hpp>

#include <deque>
#include <filesystem>
#include <map>

#include "app/config.hpp"
#include "app/runner.hpp"
#include "functions/values_file.hpp"
#include "test_support.hpp"

using namespace templet;
using namespace templet::testing;
namespace fs = std::filesystem;

namespace {

// Answers from a values file, but each watched dependency only once the loop has waited for a
// change: one arrival per wait, in the order they were first watched. Counts the lookups of
// each identity, which is how many renders asked for it.
class TricklingFeed : public DataFeed {
 public:
  explicit TricklingFeed(const std::string& values) : values_(ValuesFile::parse(values, "v")) {}

  std::optional<Response> fetch(const Dependency& dep) const override {
    ++lookups[dep.id];
    if (!arrived_.count(dep.id)) return std::nullopt;
    return values_.fetch(dep);
  }
  void watch(const std::vector<Dependency>& deps) override {
    for (const auto& d : deps)
      if (watched_.insert(d.id).second && !arrived_.count(d.id)) pending_.push_back(d.id);
  }
  std::set<std::string> wait_for_change(std::chrono::steady_clock::time_point) override {
    std::set<std::string> changed;
    if (!changes_.empty()) {
      changed.insert(changes_.front());
      changes_.pop_front();
    } else if (!pending_.empty()) {
      arrived_.insert(pending_.front());
      changed.insert(pending_.front());
      pending_.pop_front();
    }
    return changed;
  }
  // Reports `id` as changed at the next wait (its answer stays what the values file says).
  void change(const std::string& id) { changes_.push_back(id); }
  void arrive(const std::string& id) { arrived_.insert(id); }

  mutable std::map<std::string, int> lookups;

 private:
  ValuesFile values_;
  std::set<std::string> watched_, arrived_;
  std::deque<std::string> pending_, changes_;
};

Config one_template(const fs::path& dir, const std::string& contents) {
  Config c = parse_config(config_yaml(dir, {{contents, dir / "out.conf"}}), "t.yaml");
  finalize_config(c, nullptr);
  return c;
}

}  // namespace

TEST_CASE("run loop: a template waiting for five keys renders once more when all have come",
          "[runloop][incremental]") {
  TempDir d;
  TricklingFeed feed("consul: {kv: {a: '1', b: '2', c: '3', e: '4', f: '5'}}");
  RunOptions o;
  o.once = true;
  int status = run_templates(
      one_template(d.path,
                   "{{ key \"a\" }}{{ key \"b\" }}{{ key \"c\" }}{{ key \"e\" }}{{ key \"f\" }}"),
      feed, o);
  CHECK(status == 0);
  CHECK(slurp(d.path / "out.conf") == "12345");
  // The first render finds all five missing; the next one runs when the fifth has arrived. One
  // render per arrival would have made six.
  CHECK(feed.lookups["kv.block(a)"] == 2);
  CHECK(feed.lookups["kv.block(f)"] == 2);
}

TEST_CASE("run loop: a change to data an incomplete template has renders it at once",
          "[runloop][incremental]") {
  TempDir d;
  // `a` decides which key the template needs next, so a change of `a` cannot wait for `b`.
  TricklingFeed feed("consul: {kv: {a: b, b: '2'}}");
  feed.arrive("kv.block(a)");
  feed.change("kv.block(a)");
  RunOptions o;
  o.once = true;
  int status = run_templates(one_template(d.path, "{{ $k := key \"a\" }}{{ key $k }}"), feed, o);
  CHECK(status == 0);
  CHECK(slurp(d.path / "out.conf") == "2");
  // Rendered first (b missing), again for the change of a (b still missing), and once b came.
  CHECK(feed.lookups["kv.block(a)"] == 3);
}
