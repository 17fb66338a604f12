// Fleet (see consul_lock.hpp). Per lock two threads: the watch (a blocking query on the key,
// forever, the only request a follower makes while idle) and the elector (acquires when the
// watch sees the key free, renews while holding). Both sleep on the lock's condition variable,
// so a stop, a lost lock or a freed key wakes them at once.
#include "functions/live/consul_lock.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <nlohmann/json.hpp>
#include <thread>

#include "functions/data_types.hpp"
#include "functions/digest.hpp"
#include "net/http_client.hpp"

namespace templet::live {

namespace {

using Steady = std::chrono::steady_clock;
using nlohmann::json;

std::atomic<bool> g_let_go{false};

// What a node writes as the lock's value when it lets go cleanly, so the next holder can say
// the lock was released rather than lost.
const char* const kReleasedPrefix = "released by ";

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

// A Go duration string ("15s", "1500ms"), as Consul's TTL and LockDelay fields are read.
std::string ms(Ms d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

}  // namespace

FleetSettings FleetSettings::from(const FleetConfig& c, std::optional<Duration> block_query_wait) {
  FleetSettings s;
  s.leader = c.mode && *c.mode == "leader";
  if (c.lock_prefix) s.lock_prefix = *c.lock_prefix;
  while (!s.lock_prefix.empty() && s.lock_prefix.back() == '/') s.lock_prefix.pop_back();
  if (c.session_ttl) s.session_ttl = std::chrono::duration_cast<Ms>(*c.session_ttl);
  if (c.lock_delay) s.lock_delay = std::chrono::duration_cast<Ms>(*c.lock_delay);
  if (c.node_name) s.node_name = *c.node_name;
  if (block_query_wait) s.block_wait = std::chrono::duration_cast<Ms>(*block_query_wait);
  return s;
}

std::string FleetTarget::describe() const {
  return kind + " " + url + (org.empty() ? "" : " (org " + org + ")");
}

std::string fleet_lock_id(const FleetTarget& t) {
  return t.kind + "-" + digest::hex(digest::sha256(t.url + t.org)).substr(0, 12);
}

struct Fleet::Lock {
  FleetSettings settings;
  std::shared_ptr<ConsulClient> consul;
  std::string node, key, target;

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  // What the watch last saw.
  bool known = false;
  std::uint64_t seen = 0;  // bumped on every answer, so the elector can wait for a fresh one
  std::string holder_session, holder_node, value;
  std::string last_other_holder;  // the last node other than this one seen holding it
  // This node's side.
  std::string session;  // ours, while acquiring or holding
  bool leading = false;
  Steady::time_point last_renew;
  bool verify = false;                   // renew now: the watch saw the key free
  std::optional<std::string> took_from;  // for the next decide()
  bool gained = false;                   // for take_gained()
  std::thread elector;

  bool may_apply() const { return leading && Steady::now() - last_renew < settings.session_ttl; }

  Ms timeout() const { return consul->settings().timeout; }

  // Sleeps up to `d` unless stopping (or `until` holds). Called with `lk` held.
  template <class Pred>
  void sleep(std::unique_lock<std::mutex>& lk, Ms d, Pred until) {
    cv.wait_for(lk, d, [&] { return stopping || until(); });
  }

  void lose(const std::string& why) {
    if (!leading) return;
    leading = false;
    session.clear();
    spdlog::warn("leader: lost {} ({})", target, why);
  }

  std::string node_of_session(const std::string& sid) {
    auto a = consul->call("GET", "/v1/session/info/" + url_escape(sid), "", timeout());
    json j = json::parse(a.response.body, nullptr, false);
    if (j.is_array() && !j.empty() && j[0].is_object()) return j[0].value("Node", "");
    return "";
  }

  void watch() {
    std::uint64_t index = 0;
    int errors = 0;
    std::string cached_session, cached_node;
    while (true) {
      {
        std::lock_guard<std::mutex> lk(mu);
        if (stopping) return;
      }
      std::string target = "/v1/kv/" + consul_key_path(key);
      Ms to = timeout();
      if (index > 0) {
        target += "?index=" + std::to_string(index) + "&wait=" + ms(settings.block_wait);
        to = settings.block_wait * 17 / 16 + timeout();
      }
      try {
        auto a = consul->call("GET", target, "", to);
        // An index that went backwards (a restored snapshot) starts over, as Consul advises.
        index = a.index < index ? 0 : a.index;
        std::string sess, val;
        if (a.response.status == 200) {
          json j = json::parse(a.response.body, nullptr, false);
          if (j.is_array() && !j.empty() && j[0].is_object()) {
            if (j[0].contains("Session") && j[0]["Session"].is_string())
              sess = j[0]["Session"].get<std::string>();
            if (j[0].contains("Value") && j[0]["Value"].is_string()) {
              try {
                val = dtypes::base64_decode(j[0]["Value"].get<std::string>());
              } catch (const std::exception&) {
              }
            }
          }
        }
        std::string holder;
        if (!sess.empty()) {
          bool ours;
          {
            std::lock_guard<std::mutex> lk(mu);
            ours = sess == session;
          }
          if (ours) {
            holder = node;
          } else if (sess == cached_session) {
            holder = cached_node;
          } else {
            holder = node_of_session(sess);
            cached_session = sess;
            cached_node = holder;
          }
        }
        std::lock_guard<std::mutex> lk(mu);
        known = true;
        ++seen;
        holder_session = sess;
        holder_node = holder;
        value = val;
        if (!holder.empty() && holder != node) last_other_holder = holder;
        // Another session on the key is final. An empty one may be an answer from before our
        // acquire, or our session's end (destroyed, expired): the elector renews at once to
        // find out, and the renewal's 404 ends the leadership.
        if (leading && !sess.empty() && sess != session) lose("another node holds the lock");
        if (leading && sess.empty()) verify = true;
        cv.notify_all();
        if (errors > 0) spdlog::info("fleet: {}: Consul answers again", key);
        errors = 0;
      } catch (const ConsulError& e) {
        std::unique_lock<std::mutex> lk(mu);
        if (errors++ == 0) spdlog::warn("fleet: watching {}: {}", key, e.what());
        index = 0;
        // Backs off (1 s doubling to 10 s): a down Consul gets no request loop.
        Ms back = std::min(Ms(1000) * (1 << std::min(errors - 1, 4)), Ms(10000));
        sleep(lk, back, [] { return false; });
      }
    }
  }

  void elect() {
    int errors = 0;
    std::unique_lock<std::mutex> lk(mu);
    while (!stopping) {
      if (leading) {
        auto due = last_renew + settings.session_ttl / 2;
        cv.wait_until(lk, due, [&] { return stopping || !leading || verify; });
        verify = false;
        if (stopping || !leading) continue;
        std::string sid = session;
        auto sent = Steady::now();
        lk.unlock();
        long status = 0;
        std::string err;
        try {
          status = consul->call("PUT", "/v1/session/renew/" + url_escape(sid), "", timeout())
                       .response.status;
        } catch (const ConsulError& e) {
          err = e.what();
        }
        lk.lock();
        if (status == 200 && session == sid) {
          last_renew = sent;
          errors = 0;
        } else if (status == 404) {
          lose("its session is gone: expired or destroyed");
        } else if (!err.empty()) {
          if (errors++ == 0) spdlog::warn("fleet: renewing the session of {}: {}", key, err);
          // Retried each second: the session has TTL to live, and may_apply() turns false on
          // its own once session_ttl has passed since the last renewal.
          sleep(lk, Ms(1000), [&] { return !leading; });
        }
        continue;
      }
      // Follower: wait for the watch to see the key free.
      cv.wait(lk, [&] { return stopping || (known && holder_session.empty()); });
      if (stopping) break;
      auto sent = Steady::now();
      lk.unlock();
      std::string sid;
      bool got = false;
      std::string err;
      try {
        json body = {{"Name", "templet " + key},
                     {"Node", node},
                     {"TTL", ms(settings.session_ttl)},
                     {"LockDelay", ms(settings.lock_delay)},
                     {"Behavior", "release"}};
        auto a = consul->call("PUT", "/v1/session/create", body.dump(), timeout());
        json j = json::parse(a.response.body, nullptr, false);
        if (j.is_object() && j.contains("ID") && j["ID"].is_string()) sid = j["ID"];
        if (sid.empty()) throw ConsulError("consul: /v1/session/create: no ID", 200, false);
        {
          std::lock_guard<std::mutex> g(mu);
          session = sid;  // so the watch recognises it as ours
        }
        auto r =
            consul->call("PUT", "/v1/kv/" + consul_key_path(key) + "?acquire=" + url_escape(sid),
                         node, timeout());
        got = r.response.body.find("true") != std::string::npos;
      } catch (const ConsulError& e) {
        err = e.what();
      }
      if (!got && !sid.empty()) destroy(sid);
      lk.lock();
      if (got && !stopping) {
        leading = true;
        last_renew = sent;  // the server's TTL timer started after this
        gained = true;
        errors = 0;
        std::string prev = last_other_holder;
        std::string why = value.rfind(kReleasedPrefix, 0) == 0 ? "released" : "session expired";
        took_from = prev.empty() ? "" : prev + " (" + why + ")";
        holder_session = sid;
        holder_node = node;
        spdlog::info("leader: {} is applied by this node ({})", target, node);
        continue;
      }
      if (got) {  // stopped meanwhile: let it go
        lk.unlock();
        release(sid);
        lk.lock();
        break;
      }
      session.clear();
      if (!err.empty()) {
        if (errors++ == 0) spdlog::warn("fleet: acquiring {}: {}", key, err);
        Ms back = std::min(Ms(1000) * (1 << std::min(errors - 1, 4)), Ms(10000));
        sleep(lk, back, [] { return false; });
        continue;
      }
      // Lost: either another node was quicker (the watch will show it) or the key is in its
      // lock-delay, which only a timed retry at its end can tell (as api/lock.go does).
      lk.unlock();
      bool held = key_is_held();
      lk.lock();
      if (held) {
        auto before = seen;
        sleep(lk, timeout(), [&] { return seen != before || !holder_session.empty(); });
      } else {
        sleep(lk, settings.lock_delay, [&] { return !holder_session.empty(); });
      }
    }
    if (leading) {
      std::string sid = session;
      leading = false;
      session.clear();
      lk.unlock();
      release(sid);
    }
  }

  bool key_is_held() {
    try {
      auto a = consul->call("GET", "/v1/kv/" + consul_key_path(key), "", timeout());
      json j = json::parse(a.response.body, nullptr, false);
      return a.response.status == 200 && j.is_array() && !j.empty() && j[0].is_object() &&
             j[0].contains("Session");
    } catch (const ConsulError&) {
      return false;
    }
  }

  void destroy(const std::string& sid) {
    try {
      consul->call("PUT", "/v1/session/destroy/" + url_escape(sid), "", timeout());
    } catch (const ConsulError&) {
      // The session dies of its TTL anyway.
    }
  }

  // A clean stop: the value says who let go; destroying the session skips Consul's lock-delay
  // only for the release (the key is free at once), which is what a clean stop wants.
  void release(const std::string& sid) {
    try {
      consul->call("PUT", "/v1/kv/" + consul_key_path(key) + "?release=" + url_escape(sid),
                   kReleasedPrefix + node, timeout());
    } catch (const ConsulError&) {
    }
    destroy(sid);
  }
};

Fleet::Fleet(FleetSettings settings, std::shared_ptr<ConsulClient> consul)
    : settings_(std::move(settings)), consul_(std::move(consul)) {
  node_ = settings_.node_name;
  if (node_.empty() && settings_.leader) {
    try {
      node_ = consul_->local_node();
    } catch (const std::exception&) {
      node_ = host_name();
    }
  }
  if (node_.empty()) node_ = host_name();
}

Fleet::~Fleet() {
  stop();
}

bool Fleet::threads_let_go() {
  return g_let_go.load();
}

Fleet::Lock& Fleet::lock_for(const FleetTarget& t) {
  std::string key = settings_.lock_prefix + "/" + fleet_lock_id(t);
  std::shared_ptr<Lock> l;
  bool fresh = false;
  {
    std::lock_guard<std::mutex> g(mu_);
    auto& slot = locks_[key];
    if (!slot) {
      slot = std::make_shared<Lock>();
      slot->settings = settings_;
      slot->consul = consul_;
      slot->node = node_;
      slot->key = key;
      slot->target = t.describe();
      fresh = !stopped_;
      if (fresh) {
        spdlog::info("fleet: {} is locked by {}", slot->target, key);
        // The watch owns its share of the lock: a stop lets it go inside its blocking query.
        std::thread([l = slot] { l->watch(); }).detach();
        slot->elector = std::thread([l = slot.get()] { l->elect(); });
      }
    }
    l = slot;
  }
  if (fresh) {
    // The first answer, and the acquire it may start, before the first decision.
    std::unique_lock<std::mutex> lk(l->mu);
    auto until = Steady::now() + consul_->settings().timeout;
    l->cv.wait_until(lk, until, [&] {
      return l->stopping || (l->known && (!l->holder_session.empty() || l->leading));
    });
  }
  return *l;
}

FleetDecision Fleet::decide(const FleetTarget& t) {
  FleetDecision d;
  if (!settings_.leader) {
    d.holder = node_;
    return d;
  }
  Lock& l = lock_for(t);
  std::lock_guard<std::mutex> lk(l.mu);
  d.apply = l.may_apply();
  d.holder = l.leading ? node_ : l.holder_node;
  if (d.apply && l.took_from) {
    // This apply is the takeover's: the run loop need not be told again.
    d.took_from = l.took_from;
    l.took_from.reset();
    l.gained = false;
  }
  return d;
}

std::vector<std::string> Fleet::take_gained() {
  std::vector<std::string> out;
  std::lock_guard<std::mutex> g(mu_);
  for (auto& [key, l] : locks_) {
    std::lock_guard<std::mutex> lk(l->mu);
    if (l->gained) out.push_back(l->target);
    l->gained = false;
  }
  return out;
}

std::vector<FleetLockStatus> Fleet::status() const {
  std::vector<FleetLockStatus> out;
  std::lock_guard<std::mutex> g(mu_);
  for (const auto& [key, l] : locks_) {
    std::lock_guard<std::mutex> lk(l->mu);
    FleetLockStatus s;
    s.key = key;
    s.target = l->target;
    s.this_node = l->may_apply();
    s.holder = l->leading ? node_ : l->holder_node;
    out.push_back(std::move(s));
  }
  return out;
}

std::string Fleet::current_holder(const FleetTarget& t) {
  std::string key = settings_.lock_prefix + "/" + fleet_lock_id(t);
  Ms to = consul_->settings().timeout;
  auto a = consul_->call("GET", "/v1/kv/" + consul_key_path(key), "", to);
  json j = json::parse(a.response.body, nullptr, false);
  if (a.response.status != 200 || !j.is_array() || j.empty() || !j[0].is_object() ||
      !j[0].contains("Session") || !j[0]["Session"].is_string())
    return "";
  auto info = consul_->call(
      "GET", "/v1/session/info/" + url_escape(j[0]["Session"].get<std::string>()), "", to);
  json i = json::parse(info.response.body, nullptr, false);
  return i.is_array() && !i.empty() && i[0].is_object() ? i[0].value("Node", "") : "";
}

void Fleet::stop() {
  std::map<std::string, std::shared_ptr<Lock>> locks;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (stopped_) return;
    stopped_ = true;
    locks = locks_;
  }
  for (auto& [key, l] : locks) {
    {
      std::lock_guard<std::mutex> lk(l->mu);
      l->stopping = true;
      l->cv.notify_all();
    }
    if (l->elector.joinable()) l->elector.join();
    g_let_go = true;
  }
}

}  // namespace templet::live
