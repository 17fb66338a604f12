// The DataSource the daemon renders against: answers kept fresh by one watcher per dependency
// identity (shared by every template that uses it), with change notification for the run loop.
//
// Renders read a snapshot (immutable answers, the map of them copied once per pass), so one
// pass sees a consistent set. Watchers run on one scheduler, an event loop for Consul and a
// few worker threads (see live_data_source.cpp), or are stepped by hand in tests.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "functions/data_source.hpp"
#include "functions/live/live_config.hpp"
#include "functions/live/watcher.hpp"

namespace templet::live {

// What the live data source is built from: the config file's vault, consul and retry sections
// and the two top-level keys it reads.
struct LiveSourceConfig {
  VaultConfig vault;
  ConsulConfig consul;
  RetryConfig retry;
  std::optional<Duration> block_query_wait;
  std::optional<std::string> state_dir;
  InfluxServerConfig influxdb;  // influxdbBuckets' server (finalized); no url: none
};

class LiveDataSource : public DataSource {
 public:
  // `threads` false: nothing runs until run_due() is called (tests).
  explicit LiveDataSource(WatchContext ctx, bool threads = true);
  ~LiveDataSource() override;
  LiveDataSource(const LiveDataSource&) = delete;
  LiveDataSource& operator=(const LiveDataSource&) = delete;

  // Clients over make_http_client from finalized settings (Vault only when vault.address is set),
  // leases persisted under state_dir, retries from `retry` (attempts 0 = never give up).
  static std::unique_ptr<LiveDataSource> from_config(const LiveSourceConfig& config);

  // The answer for `dep` in the current snapshot; nullopt while it has none. Throws FetchError
  // when fetching gave up (retries exhausted, or a missing file) and no answer is held.
  std::optional<Response> fetch(const Dependency& dep) const override;
  // A frozen view: render one pass against it so every lookup sees the same data.
  std::shared_ptr<const DataSource> snapshot() const;
  // The Consul client (and its connection pool) the watchers use, for the fleet's locks.
  std::shared_ptr<ConsulClient> consul_client() const;

  // Starts watching each dependency not watched yet; one watcher per identity.
  void ensure_watching(const std::vector<Dependency>& deps);
  // Stops the watchers of identities not in `used` and forgets their answers.
  void retain_only(const std::vector<Dependency>& used);
  std::size_t watching() const;

  // Bumped whenever an answer changes (or a fetch gives up).
  std::uint64_t generation() const;
  // Waits until generation() != seen, or `timeout` (real time), or stop(); returns generation().
  std::uint64_t wait_for_change(std::uint64_t seen, Ms timeout) const;
  // Also called (on the watcher's thread) with the identity whose answer changed, before the
  // generation moves and under the source's lock: it must not call back into the source.
  void set_on_change(std::function<void(const std::string& identity)> callback);

  // With revoke_superseded: `held` maps identities to the lease ids the destination files still
  // hold; every superseded lease of an identity that no file holds is revoked (on the watcher's
  // thread, or at the next run_due()). Identities in `unknown` are used by a file whose contents
  // are not known yet: nothing of theirs is revoked.
  void release_superseded(const std::map<std::string, std::set<std::string>>& held,
                          const std::set<std::string>& unknown);
  // `templet refresh` / SIGUSR1: the watchers of `identities` (all when empty) fetch anew now.
  // Returns how many were asked.
  int refresh(const std::set<std::string>& identities);
  // Last failure per identity still without a fresh answer (for "waiting for ..." logs).
  std::map<std::string, std::string> failures() const;
  // Identities whose fetching gave up, with the message.
  std::map<std::string, std::string> given_up() const;

  // What status and metrics show, read without disturbing the watchers. Secrets stay inside:
  // lease ids are for the caller to mask, errors are the ones logged.
  struct DependencyState {
    std::string identity;
    bool answered = false;  // an answer is held (possibly stale while `error` is set)
    std::string error;      // the last failure, cleared by the next answer
    bool gave_up = false;
  };
  struct LeaseState {
    std::string identity;
    std::string lease_id;
    TimePoint expires_at{};
    bool renewable = false;
    bool capped = false;      // its last renewal was capped by the max TTL
    bool superseded = false;  // replaced, kept until no file holds it (revoke_superseded)
    // When the token that owns the lease dies; nullopt while not tracked.
    std::optional<TimePoint> token_expires_at;
  };
  std::vector<DependencyState> dependency_states() const;
  std::vector<LeaseState> lease_states() const;
  TimePoint now() const;  // the watchers' clock

  // Stops every watcher. A Consul query on the event loop is cancelled; a Consul or file
  // watcher inside a request on a thread is let go at once (with
  // WatchContext::let_go_of_reads); one inside a Vault call is waited for up to 2 s, then let go.
  // A thread let go exits on its own when its request returns. Idempotent.
  void stop();

  // Whether this process has let a watcher thread go before it finished (at stop(), or when
  // retain_only() dropped its dependency). Such a thread may wake up at any time until the
  // process ends, still using static objects (the log, the TLS library): the process must then
  // end without running static destructors.
  static bool threads_let_go();

  // Without threads: steps every watcher that is due at the clock's now; returns the earliest
  // next due time (nullopt when nothing is watched).
  std::optional<TimePoint> run_due();

  struct Core;

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace templet::live
