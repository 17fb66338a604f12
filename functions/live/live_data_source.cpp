// LiveDataSource (see live_data_source.hpp).
//
// How the watchers run, so that the threads do not grow with the dependencies: one scheduler
// thread keeps every watcher's next due time in one ordered queue and hands what is due, in due
// order, to where it runs:
//   - Consul queries the client can send on its event loop (plain http) are started there; the
//     answer comes back on the loop, is stored, and the watcher is scheduled again. At most
//     consul_connections of those that do not block are in flight; the rest wait their turn.
//   - Vault steps (and the token upkeep) run on at most vault_connections worker threads, so no
//     more Vault requests than that are ever in flight; files and InfluxDB polls on two.
//   - Consul queries the loop cannot carry (https through libcurl, catalog.datacenters, a test's
//     fake transport) keep a thread per watcher, as before.
//
// Everything a thread touches lives in a shared Core, and each thread holds a reference to it,
// so a thread still inside a 60 s blocking query at stop() can be let go safely: it finds the
// stop flag when its request returns and exits without touching freed memory.
//
// Stopping waits only for what is worth waiting for. A Consul or file watcher inside a request
// is let go at once: its answer would be thrown away, and a read abandoned halfway leaves
// nothing behind. A Vault call may create, extend or end a lease, or log in, and state_dir must
// record what it did, so Vault watchers and the token upkeep get a grace period of 2 s.
#include "functions/live/live_data_source.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <deque>
#include <set>
#include <thread>

namespace templet::live {

namespace {

struct Entry {
  std::optional<Response> response;
  std::string error;  // the last failure, cleared by the next answer
  bool gave_up = false;
};
// Entries are immutable once stored: an answer replaces its entry, so a snapshot is a copy of
// the pointers (taken once per render pass) and storing an answer costs O(log N).
using Map = std::map<std::string, std::shared_ptr<const Entry>>;

std::optional<Response> answer_of(const Map& map, const std::string& id) {
  auto it = map.find(id);
  if (it == map.end()) return std::nullopt;
  if (it->second->response) return it->second->response;
  if (it->second->gave_up) throw FetchError(it->second->error);
  return std::nullopt;
}

class Snapshot : public DataSource {
 public:
  explicit Snapshot(std::shared_ptr<const Map> map) : map_(std::move(map)) {}
  std::optional<Response> fetch(const Dependency& dep) const override {
    return answer_of(*map_, dep.id);
  }

 private:
  std::shared_ptr<const Map> map_;
};

// Where a slot's steps run (see the top of this file).
enum class Lane { Loop, Thread, Vault, Local };
constexpr int kLocalWorkers = 2;

struct Slot {
  std::unique_ptr<Watcher> watcher;  // null for the token upkeep slot
  std::function<TimePoint()> step;   // the work
  Lane lane = Lane::Thread;
  Wakeup wake;
  TimePoint due{};
  bool let_go_in_request = false;  // stop() need not wait while a request is under way
  // Scheduled slots (not Lane::Thread), under Core::smu:
  enum class State { Waiting, Queued, Busy } state = State::Waiting;
  bool gone = false;  // no longer watched: not scheduled again
  std::optional<std::pair<TimePoint, std::uint64_t>> timer;  // its key in Core::timers
  std::uint64_t runs = 0;                                    // bumped when a loop request ends
  std::optional<std::uint64_t> async_id;                     // the loop request in flight
  bool holds_connection = false;                             // counted in Core::nonblocking
  bool poked = false;  // woken while busy: fires again when its step ends
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

}  // namespace

struct LiveDataSource::Core : WatchSink {
  WatchContext ctx;
  bool threads = true;
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  Map data;
  mutable std::shared_ptr<const Map> frozen;  // data as of the last snapshot; reset on change
  std::uint64_t gen = 0;
  bool stopped = false;
  std::map<std::string, std::shared_ptr<Slot>> slots;
  std::shared_ptr<Slot> token_slot;
  std::map<std::string, LeaseRecord> restored;
  std::function<void(const std::string&)> on_change;
  long consul_queries = 0;  // watched Consul dependencies: a descriptor each while in flight

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
      auto& stored = data[id];
      Entry next = stored ? *stored : Entry{};
      bool wake = f(next);
      stored = std::make_shared<const Entry>(std::move(next));
      frozen.reset();
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
  static void finish(const std::vector<std::shared_ptr<Slot>>& gone,
                     std::chrono::steady_clock::time_point deadline =
                         std::chrono::steady_clock::now() + kVaultGrace) {
    for (const auto& s : gone) s->wake.stop();
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

  // ---- the scheduler and its workers (threads only) ----
  std::weak_ptr<Core> self;
  std::mutex smu;  // everything below, and the scheduled slots' fields
  std::map<std::pair<TimePoint, std::uint64_t>, std::shared_ptr<Slot>> timers;
  std::uint64_t timer_seq = 0;
  Wakeup sched_wake;
  std::thread scheduler;
  bool halting = false;  // stop(): nothing new starts
  struct Worker {
    std::thread thread;
    std::shared_ptr<Slot> running;
    bool finished = false;
  };
  struct Pool {
    std::deque<std::shared_ptr<Slot>> queue;
    std::condition_variable cv;
    std::vector<std::shared_ptr<Worker>> workers;
    int idle = 0;
    int cap = 1;
  };
  Pool vault_pool, local_pool;
  std::condition_variable worker_cv;  // a worker finished a step or ended
  int nonblocking = 0;                // loop requests in flight that do not block
  std::deque<std::shared_ptr<Slot>> waiting_for_connection;

  // Puts `slot` in the timer queue at `at` (now when its watcher asks to be early); smu held.
  // A poked slot fires at once but steps only when due or urgent (its watcher's revocations
  // are what it was poked for).
  void schedule_locked(const std::shared_ptr<Slot>& slot, TimePoint at) {
    if (slot->gone || halting) return;
    slot->due = at;
    if (slot->watcher && slot->watcher->urgent()) slot->due = std::min(at, ctx.clock->now());
    TimePoint fire = slot->due;
    if (slot->poked) fire = std::min(fire, ctx.clock->now());
    slot->poked = false;
    slot->state = Slot::State::Waiting;
    set_timer_locked(slot, fire);
  }

  void set_timer_locked(const std::shared_ptr<Slot>& slot, TimePoint fire) {
    if (slot->timer) timers.erase(*slot->timer);
    slot->timer = std::make_pair(fire, ++timer_seq);
    bool earliest = timers.empty() || fire < timers.begin()->first.first;
    timers.emplace(*slot->timer, slot);
    if (earliest) sched_wake.nudge();
  }

  // Whether a slot that fired is to step: it is due, or its watcher asks to be early.
  bool step_due(const Slot& slot) const {
    return ctx.clock->now() >= slot.due || (slot.watcher && slot.watcher->urgent());
  }

  void schedule(const std::shared_ptr<Slot>& slot, TimePoint at) {
    std::lock_guard<std::mutex> lock(smu);
    schedule_locked(slot, at);
  }

  // A nudge (refresh, a new token): a waiting slot becomes due now; a busy one is scheduled
  // early when its step ends (its watcher is urgent).
  void wake_slot(const std::shared_ptr<Slot>& slot) {
    if (slot->lane == Lane::Thread) return slot->wake.nudge();
    std::lock_guard<std::mutex> lock(smu);
    if (slot->state == Slot::State::Waiting && slot->timer)
      set_timer_locked(slot, ctx.clock->now());
    else
      slot->poked = true;  // fires again at once when its step ends
  }

  void start_scheduler() {
    std::lock_guard<std::mutex> lock(smu);
    if (scheduler.joinable() || halting) return;
    auto core = self.lock();
    scheduler = std::thread([core] { core->run_scheduler(); });
  }

  void run_scheduler() {
    Clock& clock = *ctx.clock;
    for (;;) {
      std::vector<std::shared_ptr<Slot>> due;
      TimePoint now = clock.now();
      TimePoint next = now + std::chrono::hours(1);
      {
        std::lock_guard<std::mutex> lock(smu);
        if (halting) return;
        while (!timers.empty() && timers.begin()->first.first <= now) {
          auto slot = timers.begin()->second;
          timers.erase(timers.begin());
          slot->timer.reset();
          due.push_back(std::move(slot));
        }
        if (!timers.empty()) next = timers.begin()->first.first;
      }
      for (const auto& slot : due) dispatch(slot);
      if (ctx.digest)
        if (auto t = ctx.digest->flush(now)) next = std::min(next, *t);
      if (!due.empty()) continue;
      if (!clock.sleep_until(next, sched_wake)) return;
    }
  }

  void dispatch(const std::shared_ptr<Slot>& slot) {
    if (slot->lane == Lane::Loop) {
      {
        std::lock_guard<std::mutex> lock(smu);
        if (slot->gone || halting) return;
        if (!step_due(*slot)) return schedule_locked(slot, slot->due);
        slot->state = Slot::State::Busy;
        if (slot->watcher->consul_index() == 0) {  // does not block: needs a connection turn
          if (nonblocking >= ctx.consul_connections) {
            waiting_for_connection.push_back(slot);
            return;
          }
          ++nonblocking;
          slot->holds_connection = true;
        }
      }
      return start_on_loop(slot);
    }
    Pool& pool = slot->lane == Lane::Vault ? vault_pool : local_pool;
    std::lock_guard<std::mutex> lock(smu);
    if (slot->gone || halting) return;
    slot->state = Slot::State::Queued;
    pool.queue.push_back(slot);
    if (pool.idle == 0 && static_cast<int>(pool.workers.size()) < pool.cap) {
      auto w = std::make_shared<Worker>();
      auto core = self.lock();
      Pool* p = &pool;
      w->thread = std::thread([core, p, w] { core->run_worker(*p, *w); });
      pool.workers.push_back(std::move(w));
    }
    pool.cv.notify_one();
  }

  void start_on_loop(const std::shared_ptr<Slot>& slot) {
    std::uint64_t runs;
    {
      std::lock_guard<std::mutex> lock(smu);
      runs = slot->runs;
    }
    std::weak_ptr<Core> weak = self;
    auto id = slot->watcher->start_step([weak, slot](TimePoint next) {
      if (auto core = weak.lock()) core->loop_done(slot, next);
    });
    if (!id) return loop_done(slot, slot->step());  // woken early: step() only says when
    std::lock_guard<std::mutex> lock(smu);
    if (slot->runs == runs && slot->state == Slot::State::Busy) slot->async_id = *id;
  }

  // A loop request ended (on the loop's thread): schedule the slot again, and give its
  // connection turn to the next waiting one.
  void loop_done(const std::shared_ptr<Slot>& slot, TimePoint next) {
    std::shared_ptr<Slot> turn;
    {
      std::lock_guard<std::mutex> lock(smu);
      ++slot->runs;
      slot->async_id.reset();
      if (slot->holds_connection) {
        slot->holds_connection = false;
        --nonblocking;
        while (!waiting_for_connection.empty() && !turn) {
          auto w = std::move(waiting_for_connection.front());
          waiting_for_connection.pop_front();
          if (w->gone) continue;
          turn = std::move(w);
          ++nonblocking;
          turn->holds_connection = true;
        }
      }
      schedule_locked(slot, next);
      if (halting) turn.reset();
    }
    if (turn) start_on_loop(turn);
  }

  void run_worker(Pool& pool, Worker& me) {
    Clock& clock = *ctx.clock;
    for (;;) {
      std::shared_ptr<Slot> slot;
      {
        std::unique_lock<std::mutex> lock(smu);
        ++pool.idle;
        pool.cv.wait(lock, [&] { return halting || !pool.queue.empty(); });
        --pool.idle;
        if (halting) break;
        slot = std::move(pool.queue.front());
        pool.queue.pop_front();
        if (slot->gone) continue;
        slot->state = Slot::State::Busy;
        me.running = slot;
      }
      TimePoint next = slot->due;
      try {
        if (step_due(*slot)) next = slot->step();
      } catch (const std::exception& e) {
        spdlog::error("watcher: unexpected error: {}", e.what());
        next = clock.now() + std::chrono::seconds(5);
      }
      if (slot->watcher && !slot->wake.stopped()) slot->watcher->revoke_pending();
      {
        std::lock_guard<std::mutex> lock(smu);
        me.running.reset();
        schedule_locked(slot, next);
      }
      worker_cv.notify_all();
    }
    {
      std::lock_guard<std::mutex> lock(smu);
      me.finished = true;
    }
    worker_cv.notify_all();
  }

  // stop(): the scheduler ends, loop requests are ended, idle workers end; a worker inside a
  // step is waited for until `deadline` (its Vault call records what it did), or let go at
  // once inside a read.
  // `all`: every slot, taken under `mu` by the caller.
  void halt(const std::vector<std::shared_ptr<Slot>>& all,
            std::chrono::steady_clock::time_point deadline) {
    std::vector<std::shared_ptr<Slot>> on_loop;
    std::vector<std::shared_ptr<Worker>> workers;
    {
      std::lock_guard<std::mutex> lock(smu);
      halting = true;
      for (auto& [key, slot] : timers) slot->timer.reset();
      timers.clear();
      for (Pool* p : {&vault_pool, &local_pool}) {
        p->queue.clear();
        p->cv.notify_all();
        for (auto& w : p->workers) workers.push_back(w);
      }
      waiting_for_connection.clear();
      for (const auto& slot : all)
        if (slot->async_id) on_loop.push_back(slot);
    }
    sched_wake.stop();
    if (scheduler.joinable()) scheduler.join();
    for (const auto& slot : on_loop) cancel_on_loop(slot);
    for (const auto& w : workers) {
      std::unique_lock<std::mutex> lock(smu);
      worker_cv.wait_until(lock, deadline, [&] {
        return w->finished || (w->running && w->running->let_go_in_request);
      });
      bool finished = w->finished;
      lock.unlock();
      if (finished) {
        w->thread.join();
      } else {
        w->thread.detach();
        g_threads_let_go = true;
      }
    }
  }

  void cancel_on_loop(const std::shared_ptr<Slot>& slot) {
    std::optional<std::uint64_t> id;
    {
      std::lock_guard<std::mutex> lock(smu);
      id = slot->async_id;
    }
    if (id && ctx.consul) ctx.consul->cancel(*id);
  }

  // Forgets slots retain_only dropped: a busy one finishes its step, which is thrown away.
  void drop_scheduled(const std::vector<std::shared_ptr<Slot>>& gone) {
    std::vector<std::shared_ptr<Slot>> on_loop;
    {
      std::lock_guard<std::mutex> lock(smu);
      for (const auto& slot : gone) {
        slot->gone = true;
        if (slot->timer) timers.erase(*slot->timer);
        slot->timer.reset();
        if (slot->async_id) on_loop.push_back(slot);
      }
    }
    for (const auto& slot : on_loop) {
      cancel_on_loop(slot);
      loop_done(slot, ctx.clock->now());  // gives back its connection turn; not rescheduled
    }
  }

  long warned_descriptors = 0;  // what warn_if_descriptors_short said last
};

LiveDataSource::LiveDataSource(WatchContext ctx, bool threads) : core_(std::make_shared<Core>()) {
  core_->ctx = std::move(ctx);
  core_->threads = threads;
  core_->self = core_;
  if (!core_->ctx.digest) core_->ctx.digest = std::make_shared<FailureDigest>();
  core_->vault_pool.cap = std::max(1, core_->ctx.vault_connections);
  core_->local_pool.cap = kLocalWorkers;
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
        core->wake_slot(slot);
      }
    });
  }
}

LiveDataSource::~LiveDataSource() {
  stop();
}

std::optional<Response> LiveDataSource::fetch(const Dependency& dep) const {
  std::lock_guard<std::mutex> lock(core_->mu);
  return answer_of(core_->data, dep.id);
}

std::shared_ptr<ConsulClient> LiveDataSource::consul_client() const {
  return core_->ctx.consul;
}

std::shared_ptr<const DataSource> LiveDataSource::snapshot() const {
  std::lock_guard<std::mutex> lock(core_->mu);
  if (!core_->frozen) core_->frozen = std::make_shared<const Map>(core_->data);
  return std::make_shared<Snapshot>(core_->frozen);
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
      if (!reads_only(d.type))
        slot->lane = Lane::Vault;
      else if (!consul_dependency(d.type))
        slot->lane = Lane::Local;  // files, InfluxDB polls, this machine's interfaces
      else if (core_->ctx.consul && core_->ctx.consul->runs_on_loop(d))
        slot->lane = Lane::Loop;
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
      slot->lane = Lane::Vault;
      core_->token_slot = slot;
      started.push_back(slot);
    }
  }
  if (!core_->threads || started.empty()) return;
  long consul_queries = 0;
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    for (const auto& s : started)
      if (s->watcher && (s->lane == Lane::Loop || s->lane == Lane::Thread)) ++core_->consul_queries;
    consul_queries = core_->consul_queries;
  }
  warn_if_descriptors_short(consul_queries, core_->warned_descriptors);
  core_->start_scheduler();
  for (const auto& s : started) {
    if (s->lane == Lane::Thread)
      core_->start(s, core_);
    else
      core_->schedule(s, s->due);
  }
}

void LiveDataSource::retain_only(const std::vector<Dependency>& used) {
  std::set<std::string> keep;
  for (const auto& d : used) keep.insert(d.id);
  std::vector<std::shared_ptr<Slot>> gone;
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    for (auto it = core_->slots.begin(); it != core_->slots.end();) {
      if (keep.count(it->first)) {
        ++it;
        continue;
      }
      gone.push_back(it->second);
      if (it->second->lane == Lane::Loop || it->second->lane == Lane::Thread)
        --core_->consul_queries;
      core_->data.erase(it->first);
      core_->frozen.reset();
      it = core_->slots.erase(it);
    }
  }
  std::vector<std::shared_ptr<Slot>> threads, scheduled;
  for (auto& s : gone) (s->lane == Lane::Thread ? threads : scheduled).push_back(s);
  core_->drop_scheduled(scheduled);
  Core::finish(threads);
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
    auto it = core_->data.find(id);
    if (it != core_->data.end()) {
      d.answered = it->second->response.has_value();
      d.error = it->second->error;
      d.gave_up = it->second->gave_up;
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
    if (slot->watcher->release_superseded(it == held.end() ? none : it->second))
      core_->wake_slot(slot);
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
    core_->wake_slot(slot);
  }
  return static_cast<int>(asked.size());
}

std::map<std::string, std::string> LiveDataSource::failures() const {
  std::lock_guard<std::mutex> lock(core_->mu);
  std::map<std::string, std::string> out;
  for (const auto& [id, e] : core_->data)
    if (!e->error.empty()) out[id] = e->error;
  return out;
}

std::map<std::string, std::string> LiveDataSource::given_up() const {
  std::lock_guard<std::mutex> lock(core_->mu);
  std::map<std::string, std::string> out;
  for (const auto& [id, e] : core_->data)
    if (e->gave_up) out[id] = e->error;
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
  auto deadline = std::chrono::steady_clock::now() + kVaultGrace;
  std::vector<std::shared_ptr<Slot>> threads;
  for (auto& s : gone) {
    s->wake.stop();
    if (s->lane == Lane::Thread) threads.push_back(s);
  }
  core_->halt(gone, deadline);
  if (core_->ctx.consul) core_->ctx.consul->drain();  // no answer of ours is being taken
  Core::finish(threads, deadline);
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
  if (core_->ctx.digest) core_->ctx.digest->flush(core_->ctx.clock->now());
  return earliest;
}

}  // namespace templet::live
