// One watcher per dependency identity: fetches, hands answers to a sink, and decides when to
// act next (Consul: the next blocking query; Vault: renew, re-read or re-issue; file: stat poll;
// InfluxDB buckets: the next poll; PKI certificates: keep or issue at the renewal point).
//
// A watcher is a step machine: step() does one unit of work and returns the next wake-up time,
// so tests drive it with a fake clock and the live source runs it on a thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "functions/data_source.hpp"
#include "functions/dependency.hpp"
#include "functions/live/clock.hpp"
#include "functions/live/consul_client.hpp"
#include "functions/live/failure_digest.hpp"
#include "functions/live/influx_poller.hpp"
#include "functions/live/lease_store.hpp"
#include "functions/live/lease_timing.hpp"
#include "functions/live/retry.hpp"
#include "functions/live/vault_client.hpp"

namespace templet::live {

class WatchSink {
 public:
  virtual ~WatchSink() = default;
  // Stores an answer; true (and the run loop is woken) when it differs from the stored one.
  virtual bool put(const std::string& id, const Response& r) = 0;
  // Records a failed fetch. `gave_up`: the retries are exhausted, or it is a local dependency
  // (file) that fails at once; fetch() then throws FetchError until an answer arrives.
  virtual void fail(const std::string& id, const std::string& message, bool gave_up) = 0;
};

struct WatchContext {
  std::shared_ptr<VaultClient> vault;           // may be null when Vault is not configured
  std::shared_ptr<ConsulClient> consul;         // may be null
  std::shared_ptr<InfluxBucketsClient> influx;  // may be null: no influxdb.url
  std::shared_ptr<LeaseStore> leases;           // may be null: nothing persisted
  std::shared_ptr<FailureDigest> digest;        // may be null: every failure is logged
  Clock* clock = &system_clock();
  Random random = default_random();
  RetryPolicy vault_retry;
  RetryPolicy consul_retry;
  LeaseTiming timing;
  bool revoke_superseded = false;
  Ms file_poll{2000};
  // Requests in flight at once (vault.max_connections, consul.max_connections): Vault's, and
  // Consul's that do not block (a first fetch, a fetch anew after a failure).
  int vault_connections = 8;
  int consul_connections = 8;
  Ms rate_limit{100};  // minimum gap between two Consul queries of one watcher (+0-20 % jitter)
  // At stop, a Consul or file watcher inside a request is let go instead of waited for. Only
  // when the threads need nothing but this context and static objects, as from_config builds
  // it: a thread let go keeps the context alive, not what a test lends it (a FakeHttp whose
  // clients point back at it, a FakeClock).
  bool let_go_of_reads = false;
};

class Watcher {
 public:
  // `restored`: a persisted lease for this identity, reused instead of fetching anew.
  Watcher(Dependency dep, WatchContext& ctx, WatchSink& sink,
          std::optional<LeaseRecord> restored = std::nullopt);

  // Does what is due (fetch, renew, poll) and returns when to call again.
  TimePoint step();
  // What step() does, for a step that only sends a Consul query the client can run on its
  // event loop: starts it and returns its id; `then` runs on the loop with the time step()
  // would have returned. nullopt: nothing was started, call step().
  std::optional<std::uint64_t> start_step(std::function<void(TimePoint)> then);
  // `held`: the lease ids of this identity that destination files still hold. Every superseded
  // lease not among them is queued for revocation; true when one was.
  bool release_superseded(const std::set<std::string>& held);
  // Revokes leases queued by release_superseded. Returns how many.
  int revoke_pending();

  // The Vault token changed (login, new token file): the next step() checks at once whether the
  // lease's parent token is still the current one. Any thread.
  void token_changed() { urgent_ = true; }
  // `templet refresh` / SIGUSR1: the next step() fetches anew (Vault, file). Any thread.
  void request_refresh() {
    refresh_ = true;
    urgent_ = true;
  }
  // Whether step() should run before its due time.
  bool urgent() const { return urgent_; }

  // When step() should first run (a restored lease may not need work yet).
  TimePoint first_due() const { return first_due_; }
  const Dependency& dependency() const { return dep_; }
  std::optional<LeaseRecord> lease() const;
  // Replaced leases still kept (revoke_superseded): id and expiry, oldest first.
  std::vector<std::pair<std::string, TimePoint>> superseded_leases() const;
  int failures() const { return failures_; }
  std::uint64_t consul_index() const { return index_; }

 private:
  TimePoint consul_step(TimePoint now);
  TimePoint consul_answer(const ConsulAnswer& ans);  // the second half of consul_step
  TimePoint vault_step(TimePoint now);
  // Why the lease must be fetched anew with the current token ("" when it need not): its parent
  // token is not the current one.
  std::string parent_token_reason(TimePoint now, bool ask);
  TimePoint vault_fetch(TimePoint now);
  TimePoint vault_renew(TimePoint now);
  TimePoint cached_answer(TimePoint now, const LeaseRecord& old, LeaseRecord rec);
  TimePoint vault_list_step(TimePoint now);
  TimePoint file_step(TimePoint now);
  TimePoint influx_step(TimePoint now);      // in influx_poller.cpp
  TimePoint interfaces_step(TimePoint now);  // in interfaces_watch.cpp
  // In pki_watch.cpp. `issue_anew`: a refresh asked for a new certificate.
  TimePoint pki_step(TimePoint now, bool issue_anew);
  // Logs the failure and returns when to try again: the policy's backoff, or longer when the
  // server's Retry-After asks for more (up to RetryPolicy::longest_wait_asked).
  TimePoint failed(const FetchError& error, const RetryPolicy& policy);
  TimePoint failed(const std::string& message, const RetryPolicy& policy,
                   std::optional<Ms> asked = std::nullopt);
  double rand() const { return ctx_.random ? ctx_.random() : 0.0; }
  void persist();

  Dependency dep_;
  WatchContext& ctx_;
  WatchSink& sink_;
  int failures_ = 0;
  TimePoint first_due_{};
  TimePoint scheduled_{};  // what step() last returned
  std::atomic<bool> urgent_{false};
  std::atomic<bool> refresh_{false};
  bool check_restored_ = false;  // a restored lease: compare its token before reusing it
  TimePoint restored_due_{};     // when the restored lease needs work if its token is current
  std::string last_denied_;      // a policy denial already logged (retries are quiet)
  // Consul
  std::uint64_t index_ = 0;
  bool have_data_ = false;
  // Vault
  enum class Action { Fetch, Renew };
  Action action_ = Action::Fetch;
  mutable std::mutex lease_mu_;
  std::optional<LeaseRecord> lease_;
  Ms grace_{0};
  // Replaced leases (when revoke_superseded), oldest first, kept until no file holds them; one
  // that expires first is dropped (Vault has revoked it).
  struct Superseded {
    std::string lease_id;
    TimePoint expires_at;
  };
  std::vector<Superseded> superseded_;
  void drop_expired_superseded(TimePoint now);  // lease_mu_ held
  std::vector<std::string> to_revoke_;
  // file
  long long file_mtime_ns_ = -2;
  long long file_size_ = -2;
};

}  // namespace templet::live
