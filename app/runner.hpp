// The run loop: joins templates, data and writes. `templet run` (daemon), `--once`, `--dry-run`.
//
// Each pass renders the templates whose data changed (pure), writes the complete ones atomically,
// then runs their commands and apply hooks. What a render still needs is handed to the data feed
// to watch; the loop then waits for the feed to report changed dependencies. The loop owns no
// fetching, renewing or HTTP: that is the feed's job, which is why the same loop runs against live
// Vault/Consul, a values file, or a test fake.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "app/config.hpp"
#include "functions/data_source.hpp"
#include "functions/dependency.hpp"
#include "functions/live/consul_lock.hpp"
#include "hooks/apply_hook.hpp"

namespace templet {

class StatusBoard;

// Identity -> the version of its answer (for a Vault lease: the lease id), for the answers that
// have versions.
using AnswerVersions = std::map<std::string, std::string>;

// What one template's destination holds, reported to the feed after a pass.
struct Holding {
  std::set<std::string> uses;  // identities its newest render used (complete or not)
  // The answer versions its file was written from; nullopt while this process has not written
  // it (a file left by an earlier run, or none: what it holds is unknown).
  std::optional<AnswerVersions> on_disk;
  std::string destination;  // its destination path (for `templet refresh DESTINATION`)
};

// What the run loop needs from its data: answers, plus watching and change notification.
class DataFeed : public DataSource {
 public:
  // Starts fetching (and keeps fresh) these dependencies; idempotent per identity.
  virtual void watch(const std::vector<Dependency>& deps) = 0;
  // Blocks until some watched dependency's data changed or `deadline` passed; returns the
  // identities that changed (empty on timeout). May return early and empty (spurious wake).
  virtual std::set<std::string> wait_for_change(std::chrono::steady_clock::time_point deadline) = 0;
  // The versions of these dependencies' answers in the data the current pass renders against.
  virtual AnswerVersions versions(const std::vector<Dependency>&) const { return {}; }
  // After a pass that rendered: what every template's file holds, its commands having run. Lets
  // the feed revoke a superseded lease once no file holds it any more.
  virtual void holdings(const std::vector<Holding>&) {}
  // `templet refresh`: fetch anew now what `target` names (a dependency identity, a Vault path,
  // or a destination whose template uses it); everything when empty. Any thread.
  virtual void refresh(const std::string& /*target*/) {}
  // Identity -> the last error fetching it, for what is still failing (a refused login...).
  virtual std::map<std::string, std::string> failures() const { return {}; }
  virtual void stop() {}
};

// A feed over fixed data (a values file): every answer is known at once and nothing changes.
class StaticFeed : public DataFeed {
 public:
  explicit StaticFeed(std::shared_ptr<const DataSource> source) : source_(std::move(source)) {}
  std::optional<Response> fetch(const Dependency& dep) const override {
    return source_->fetch(dep);
  }
  void watch(const std::vector<Dependency>&) override {}
  std::set<std::string> wait_for_change(std::chrono::steady_clock::time_point deadline) override;

 private:
  std::shared_ptr<const DataSource> source_;
};

struct RunOptions {
  bool once = false;
  bool dry_run = false;
  Duration timeout{0};  // --once: give up after this long (0: never), exit 3
  // --dry-run output (`> DEST` and the masked diff); stdout by default.
  std::ostream* out = nullptr;
  // Environment `env` sees (values file); empty: the process environment.
  std::function<std::optional<std::string>(std::string_view)> env;
  // Polled by the loop: stop (the number of the signal asking for it, SIGTERM or SIGINT; 0:
  // none) and reload (SIGHUP) requests.
  std::atomic<int>* stop_requested = nullptr;
  std::atomic<bool>* reload_requested = nullptr;
  // Re-reads the configuration on reload; empty: reload keeps the current one.
  std::function<Config()> reload_config;
  Duration pending_warning_interval = std::chrono::seconds(30);
  // The apply hooks (Redash, InfluxDB) of a template; empty: none. Not called with `offline`.
  std::function<std::vector<std::unique_ptr<ApplyHook>>(const TemplateConfig&)> make_hooks;
  // Data comes from a values file: no server is contacted, so apply hooks are skipped.
  bool offline = false;
  // Told about every render, write, check, command and apply (status, metrics); may be null.
  StatusBoard* status = nullptr;
  // Called on every turn of the loop, between passes (systemd's watchdog and STATUS=).
  std::function<void()> heartbeat;
  // Who applies each target across machines (fleet.mode leader); null: this node applies all.
  live::Fleet* fleet = nullptr;
};

// Runs until done (--once), stopped, or a fatal error. Returns the exit status of the contract:
// 0 success; 1 a render, write or hook error (--once); 3 data still missing after --timeout.
int run_templates(Config config, DataFeed& feed, const RunOptions& options);

}  // namespace templet
