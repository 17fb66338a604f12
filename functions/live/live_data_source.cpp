// LiveDataSource (see live_data_source.hpp).
//
// Everything a watcher thread touches lives in a shared Core, and each thread holds a reference
// to it, so a thread still inside a 60 s blocking query at stop() can be let go safely: it finds
// the stop flag when its request returns and exits without touching freed memory.
//
// Stopping waits only for what is worth waiting for. A Consul or file watcher inside a request
// is let go at once: its answer would be thrown away, and a read abandoned halfway leaves
// nothing behind. A Vault call may create, extend or end a lease, or log in, and state_dir must
// record what it did, so Vault watchers and the token upkeep get a grace period of 2 s.
#include "functions/live/live_data_source.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <set>
#include <thread>

namespace templet::live {

namespace {

struct Entry {
  std::optional<Response> response;
  std::string error;  // the last failure, cleared by the next answer
  bool gave_up = false;
};
using Map = std::map<std::string, Entry>;

class Snapshot : public DataSource {
 public:
  explicit Snapshot(std::shared_ptr<const Map> map) : map_(std::move(map)) {}
  std::optional<Response> fetch(const Dependency& dep) const override {
    auto it = map_->find(dep.id);
    if (it == map_->end()) return std::nullopt;
    if (it->second.response) return it->second.response;
    if (it->second.gave_up) throw FetchError(it->second.error);
    return std::nullopt;
  }

 private:
  std::shared_ptr<const Map> map_;
};

struct Slot {
  std::unique_ptr<Watcher> watcher;  // null for the token upkeep slot
  std::function<TimePoint()> step;   // the work
  Wakeup wake;
  TimePoint due{};
  bool let_go_in_request = false;  // stop() need not wait while a request is under way
  std::mutex mu;
  std::condition_variable cv;  // `done` or `in_request` changed
  bool done = false;
  bool in_request = false;
  std::thread thread;

  // Marks the thread as inside step(); false (and nothing is marked) once stopped, so that
  // stop() never lets go of a thread that was about to start a request it no longer needs.
  bool enter_request() {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (wake.stopped()) return false;
      in_request = true;
    }
    cv.notify_all();
    return true;
  }
  void leave_request() {
    std::lock_guard<std::mutex> lock(mu);
    in_request = false;
  }
  void finished() {
    {
      std::lock_guard<std::mutex> lock(mu);
      done = true;
    }
    cv.notify_all();
  }
};

// Whether a watcher of `type` only reads (Consul queries, a local file): nothing it does needs
// finishing once its answer is no longer wanted. Every Vault request may issue, renew or revoke
// a lease, or log in first (AppRole), so none is in this set.
bool reads_only(DepType type) {
  return type != DepType::VaultRead && type != DepType::VaultWrite && type != DepType::VaultList &&
         type != DepType::VaultPki;
}

// Set once any watcher thread is let go before it finished (see threads_let_go()).
std::atomic<bool> g_threads_let_go{false};

constexpr auto kVaultGrace = std::chrono::seconds(2);

// Verification is on unless the config turns it off; then anyone between templet and the
// server can read the tokens and secrets, so it is said once, at start-up, naming the server.
void warn_tls_off(const char* service, const std::string& address) {
  spdlog::warn("{}: TLS certificate verification is off for {} (ssl.verify: false)", service,
               address);
}

}  // namespace

struct LiveDataSource::Core : WatchSink {
  WatchContext ctx;
  bool threads = true;
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::shared_ptr<const Map> data = std::make_shared<Map>();
  std::uint64_t gen = 0;
  bool stopped = false;
  std::map<std::string, std::shared_ptr<Slot>> slots;
  std::shared_ptr<Slot> token_slot;
  std::map<std::string, LeaseRecord> restored;
  std::function<void(const std::string&)> on_change;

  // Copy-on-write update of one entry; returns whether the run loop must be woken.
  //
  // The change callback runs under the lock, before the generation is published: a waiter
  // woken by the new generation must find the changed identity already recorded, or it would
  // see "no change", wait again, and render one wait slice (250 ms) late.
  template <class F>
  bool update(const std::string& id, F&& f) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (stopped || !slots.count(id)) return false;  // forgotten dependency: discard
      auto next = std::make_shared<Map>(*data);
      bool wake = f((*next)[id]);
      data = std::move(next);
      if (!wake) return false;
      if (on_change) on_change(id);
      ++gen;
    }
    cv.notify_all();
    return true;
  }

  bool put(const std::string& id, const Response& r) override {
    return update(id, [&](Entry& e) {
      bool was_failed = e.gave_up;
      e.error.clear();
      e.gave_up = false;
      if (e.response && e.response->status == r.status && e.response->body == r.body)
        return was_failed;
      e.response = r;
      return true;
    });
  }

  void fail(const std::string& id, const std::string& message, bool gave_up) override {
    update(id, [&](Entry& e) {
      bool newly = gave_up && !e.gave_up;
      e.error = message;
      e.gave_up = e.gave_up || gave_up;
      return newly;
    });
  }

  void start(const std::shared_ptr<Slot>& slot, const std::shared_ptr<Core>& self) {
    if (!threads) return;
    slot->thread = std::thread([self, slot] {
      Clock& clock = *self->ctx.clock;
      TimePoint next = slot->due;
      while (!slot->wake.stopped()) {
        if (clock.now() >= next || (slot->watcher && slot->watcher->urgent())) {
          if (!slot->enter_request()) break;
          try {
            next = slot->step();
          } catch (const std::exception& e) {
            spdlog::error("watcher: unexpected error: {}", e.what());
            next = clock.now() + std::chrono::seconds(5);
          }
          slot->leave_request();
        }
        if (slot->watcher && !slot->wake.stopped()) slot->watcher->revoke_pending();
        if (!clock.sleep_until(next, slot->wake)) break;
      }
      slot->finished();
    });
  }

  // Stops the slots' threads: joins those that finish (a sleeping thread wakes at once), waits
  // up to kVaultGrace for those inside a Vault call, and lets go at once of those inside a read.
  // A thread let go exits on its own when its request returns.
  static void finish(const std::vector<std::shared_ptr<Slot>>& gone) {
    for (const auto& s : gone) s->wake.stop();
    auto deadline = std::chrono::steady_clock::now() + kVaultGrace;
    for (const auto& s : gone) {
      if (!s->thread.joinable()) continue;
      std::unique_lock<std::mutex> lock(s->mu);
      s->cv.wait_until(lock, deadline,
                       [&] { return s->done || (s->let_go_in_request && s->in_request); });
      bool done = s->done;
      lock.unlock();
      if (done) {
        s->thread.join();
      } else {
        s->thread.detach();
        g_threads_let_go = true;
      }
    }
  }
};

LiveDataSource::LiveDataSource(WatchContext ctx, bool threads) : core_(std::make_shared<Core>()) {
  core_->ctx = std::move(ctx);
  core_->threads = threads;
  if (core_->ctx.leases) core_->restored = core_->ctx.leases->load(core_->ctx.clock->now());
  if (core_->ctx.vault) {
    // A new token: every Vault watcher checks whether its lease's parent token is still current.
    std::weak_ptr<Core> weak = core_;
    core_->ctx.vault->set_on_token_change([weak] {
      auto core = weak.lock();
      if (!core) return;
      std::vector<std::shared_ptr<Slot>> vault;
      {
        std::lock_guard<std::mutex> lock(core->mu);
        for (const auto& [id, slot] : core->slots) {
          if (!slot->watcher) continue;
          auto type = slot->watcher->dependency().type;
          if (type == DepType::VaultRead || type == DepType::VaultWrite) vault.push_back(slot);
        }
      }
      for (const auto& slot : vault) {
        slot->watcher->token_changed();
        slot->wake.nudge();
      }
    });
  }
}

LiveDataSource::~LiveDataSource() {
  stop();
}

std::unique_ptr<LiveDataSource> LiveDataSource::from_config(const LiveSourceConfig& c) {
  WatchContext ctx;
  if (c.vault.address && !c.vault.address->empty()) {
    TlsOptions tls;
    if (c.vault.ssl.ca_cert) tls.ca_cert = *c.vault.ssl.ca_cert;
    tls.verify = c.vault.ssl.verify.value_or(true);
    auto settings = VaultSettings::from(c.vault);
    if (settings.auth.method == "cert") {
      tls.client_cert = settings.auth.client_cert;
      tls.client_key = settings.auth.client_key;
    }
    if (!tls.verify) warn_tls_off("vault", settings.address);
    auto pool = std::make_shared<HttpPool>([tls] { return make_http_client(tls); });
    ctx.vault = std::make_shared<VaultClient>(settings, pool, *ctx.clock);
  }
  {
    TlsOptions tls;
    if (c.consul.ssl.ca_cert) tls.ca_cert = *c.consul.ssl.ca_cert;
    tls.verify = c.consul.ssl.verify.value_or(true);
    auto settings = ConsulSettings::from(c.consul, c.block_query_wait);
    if (!tls.verify) warn_tls_off("consul", settings.address);
    auto pool = std::make_shared<HttpPool>([tls] { return make_http_client(tls); });
    ctx.consul = std::make_shared<ConsulClient>(settings, pool);
  }
  if (auto influx = InfluxPollerSettings::from(c.influxdb))
    ctx.influx = std::make_shared<InfluxBucketsClient>(*influx, make_http_client());
  ctx.let_go_of_reads = true;  // everything a watcher touches is owned by ctx (or static)
  if (c.state_dir && !c.state_dir->empty()) ctx.leases = std::make_shared<LeaseStore>(*c.state_dir);
  ctx.vault_retry = RetryPolicy::from(c.retry);
  ctx.consul_retry = RetryPolicy::from(c.retry);
  if (c.vault.default_lease_duration) ctx.timing.default_lease = *c.vault.default_lease_duration;
  if (c.vault.lease_renewal_threshold) ctx.timing.threshold = *c.vault.lease_renewal_threshold;
  ctx.revoke_superseded = c.vault.revoke_superseded.value_or(false);
  return std::make_unique<LiveDataSource>(std::move(ctx));
}

std::optional<Response> LiveDataSource::fetch(const Dependency& dep) const {
  return snapshot()->fetch(dep);
}

std::shared_ptr<ConsulClient> LiveDataSource::consul_client() const {
  return core_->ctx.consul;
}

std::shared_ptr<const DataSource> LiveDataSource::snapshot() const {
  std::lock_guard<std::mutex> lock(core_->mu);
  return std::make_shared<Snapshot>(core_->data);
}

void LiveDataSource::ensure_watching(const std::vector<Dependency>& deps) {
  std::vector<std::shared_ptr<Slot>> started;
  bool any_vault = false;
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    if (core_->stopped) return;
    for (const auto& d : deps) {
      if (core_->slots.count(d.id)) continue;
      any_vault = any_vault || d.type == DepType::VaultRead || d.type == DepType::VaultWrite ||
                  d.type == DepType::VaultList || d.type == DepType::VaultPki;
      std::optional<LeaseRecord> restored;
      if (auto it = core_->restored.find(d.id); it != core_->restored.end()) {
        restored = std::move(it->second);
        core_->restored.erase(it);
      }
      auto slot = std::make_shared<Slot>();
      core_->slots[d.id] = slot;  // before the watcher: a restored answer is put at construction
      core_->mu.unlock();
      slot->watcher = std::make_unique<Watcher>(d, core_->ctx, *core_, std::move(restored));
      core_->mu.lock();
      Watcher* w = slot->watcher.get();
      slot->step = [w] { return w->step(); };
      slot->let_go_in_request = core_->ctx.let_go_of_reads && reads_only(d.type);
      slot->due = w->first_due();
      started.push_back(slot);
    }
    if (any_vault && !core_->token_slot && core_->ctx.vault &&
        core_->ctx.vault->token_needs_upkeep()) {
      auto slot = std::make_shared<Slot>();
      auto* core = core_.get();
      auto failures = std::make_shared<int>(0);
      slot->step = [core, failures] {
        Clock& clock = *core->ctx.clock;
        try {
          auto next = core->ctx.vault->maintain_token(core->ctx.random);
          *failures = 0;
          return next ? *next : clock.now() + std::chrono::hours(24 * 365);
        } catch (const FetchError& e) {
          Ms delay = core->ctx.vault_retry.delay((*failures)++, core->ctx.random);
          spdlog::warn("vault: token upkeep failed: {} (retry in {}ms)", e.what(), delay.count());
          return clock.now() + delay;
        }
      };
      slot->due = core_->ctx.clock->now();
      core_->token_slot = slot;
      started.push_back(slot);
    }
  }
  for (const auto& s : started) core_->start(s, core_);
}

void LiveDataSource::retain_only(const std::vector<Dependency>& used) {
  std::set<std::string> keep;
  for (const auto& d : used) keep.insert(d.id);
  std::vector<std::shared_ptr<Slot>> gone;
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    auto next = std::make_shared<Map>(*core_->data);
    for (auto it = core_->slots.begin(); it != core_->slots.end();) {
      if (keep.count(it->first)) {
        ++it;
        continue;
      }
      gone.push_back(it->second);
      next->erase(it->first);
      it = core_->slots.erase(it);
    }
    core_->data = std::move(next);
  }
  Core::finish(gone);
}

std::size_t LiveDataSource::watching() const {
  std::lock_guard<std::mutex> lock(core_->mu);
  return core_->slots.size();
}

std::vector<LiveDataSource::DependencyState> LiveDataSource::dependency_states() const {
  std::lock_guard<std::mutex> lock(core_->mu);
  std::vector<DependencyState> out;
  for (const auto& [id, slot] : core_->slots) {
    DependencyState d;
    d.identity = id;
    auto it = core_->data->find(id);
    if (it != core_->data->end()) {
      d.answered = it->second.response.has_value();
      d.error = it->second.error;
      d.gave_up = it->second.gave_up;
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<LiveDataSource::LeaseState> LiveDataSource::lease_states() const {
  std::vector<std::shared_ptr<Slot>> slots;
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    for (const auto& [id, slot] : core_->slots) slots.push_back(slot);
  }
  std::vector<LeaseState> out;
  for (const auto& slot : slots) {
    if (!slot->watcher) continue;
    const std::string& id = slot->watcher->dependency().id;
    if (auto rec = slot->watcher->lease(); rec && !rec->lease_id.empty()) {
      LeaseState l;
      l.identity = id;
      l.lease_id = rec->lease_id;
      l.expires_at = rec->expires_at;
      l.renewable = rec->renewable;
      l.capped = rec->capped;
      if (rec->token_expires_at.time_since_epoch().count() != 0)
        l.token_expires_at = rec->token_expires_at;
      out.push_back(std::move(l));
    }
    for (auto& [lease_id, expires] : slot->watcher->superseded_leases()) {
      LeaseState l;
      l.identity = id;
      l.lease_id = lease_id;
      l.expires_at = expires;
      l.superseded = true;
      out.push_back(std::move(l));
    }
  }
  return out;
}

TimePoint LiveDataSource::now() const {
  return core_->ctx.clock->now();
}

std::uint64_t LiveDataSource::generation() const {
  std::lock_guard<std::mutex> lock(core_->mu);
  return core_->gen;
}

std::uint64_t LiveDataSource::wait_for_change(std::uint64_t seen, Ms timeout) const {
  std::unique_lock<std::mutex> lock(core_->mu);
  core_->cv.wait_for(lock, timeout, [&] { return core_->gen != seen || core_->stopped; });
  return core_->gen;
}

void LiveDataSource::set_on_change(std::function<void(const std::string&)> callback) {
  std::lock_guard<std::mutex> lock(core_->mu);
  core_->on_change = std::move(callback);
}

void LiveDataSource::release_superseded(const std::map<std::string, std::set<std::string>>& held,
                                        const std::set<std::string>& unknown) {
  if (!core_->ctx.revoke_superseded) return;
  std::vector<std::pair<std::string, std::shared_ptr<Slot>>> vault;
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    for (const auto& [id, slot] : core_->slots) {
      if (!slot->watcher || unknown.count(id)) continue;
      auto type = slot->watcher->dependency().type;
      if (type == DepType::VaultRead || type == DepType::VaultWrite) vault.emplace_back(id, slot);
    }
  }
  static const std::set<std::string> none;
  for (const auto& [id, slot] : vault) {
    auto it = held.find(id);
    if (slot->watcher->release_superseded(it == held.end() ? none : it->second)) slot->wake.nudge();
  }
}

int LiveDataSource::refresh(const std::set<std::string>& identities) {
  std::vector<std::shared_ptr<Slot>> asked;
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    for (const auto& [id, slot] : core_->slots)
      if (slot->watcher && (identities.empty() || identities.count(id))) asked.push_back(slot);
  }
  for (const auto& slot : asked) {
    slot->watcher->request_refresh();
    slot->wake.nudge();
  }
  return static_cast<int>(asked.size());
}

std::map<std::string, std::string> LiveDataSource::failures() const {
  std::lock_guard<std::mutex> lock(core_->mu);
  std::map<std::string, std::string> out;
  for (const auto& [id, e] : *core_->data)
    if (!e.error.empty()) out[id] = e.error;
  return out;
}

std::map<std::string, std::string> LiveDataSource::given_up() const {
  std::lock_guard<std::mutex> lock(core_->mu);
  std::map<std::string, std::string> out;
  for (const auto& [id, e] : *core_->data)
    if (e.gave_up) out[id] = e.error;
  return out;
}

bool LiveDataSource::threads_let_go() {
  return g_threads_let_go;
}

void LiveDataSource::stop() {
  std::vector<std::shared_ptr<Slot>> gone;
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    if (core_->stopped) return;
    core_->stopped = true;
    for (auto& [id, s] : core_->slots) gone.push_back(s);
    if (core_->token_slot) gone.push_back(core_->token_slot);
  }
  core_->cv.notify_all();
  Core::finish(gone);
}

std::optional<TimePoint> LiveDataSource::run_due() {
  std::vector<std::shared_ptr<Slot>> all;
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    for (auto& [id, s] : core_->slots) all.push_back(s);
    if (core_->token_slot) all.push_back(core_->token_slot);
  }
  std::optional<TimePoint> earliest;
  for (const auto& s : all) {
    if (core_->ctx.clock->now() >= s->due || (s->watcher && s->watcher->urgent()))
      s->due = s->step();
    if (s->watcher) s->watcher->revoke_pending();
    if (!earliest || s->due < *earliest) earliest = s->due;
  }
  return earliest;
}

}  // namespace templet::live
