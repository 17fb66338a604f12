// One applier per apply target across a fleet, on Consul's own sessions and KV locks.
//
// Each target (a Redash URL, an InfluxDB URL + org) has a lock key
// `<lock_prefix>/<kind>-<first 12 hex of sha256(url + org)>`. A node holds it through a session
// (TTL, LockDelay, Behavior release, tied to its node's serfHealth check) renewed at TTL/2.
// Waiting is a blocking query on the key and holds no session: a session is made only when the
// key is seen free, and destroyed again when the acquire loses (a lock-delay then gets one timed
// retry at its end). A holder counts as the applier only while session_ttl has not passed since
// its last successful renewal (the time the renewal was sent), so it stops before Consul, which
// waits 2 x TTL, can hand the lock to another node. What consul-template's -dedup got wrong
// (PUT loops, retrying forever on a dead session) is avoided by never retrying faster than the
// server answers, and by starting over from the blocking query whenever the session is gone.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "functions/live/consul_client.hpp"
#include "functions/live/live_config.hpp"

namespace templet::live {

struct FleetSettings {
  bool leader = false;  // mode: leader (false: single, every node applies)
  std::string lock_prefix = "templet/leader";
  Ms session_ttl{15000};
  Ms lock_delay{15000};
  std::string node_name;  // "": the Consul agent's node name, else the hostname
  Ms block_wait{60000};   // the followers' blocking query (block_query_wait)

  static FleetSettings from(const FleetConfig& c, std::optional<Duration> block_query_wait = {});
};

// An apply target as the lock sees it.
struct FleetTarget {
  std::string kind;  // "redash", "influxdb"
  std::string url;
  std::string org;  // InfluxDB's org (or org id); "" for Redash
  // "redash http://…", "influxdb http://… (org o)": for logs.
  std::string describe() const;
};

// "redash-3f2a9c01d4e8": Consul rejects keys with ':' or spaces, so the URL is hashed.
std::string fleet_lock_id(const FleetTarget& t);

// What this node may do with a target right now.
struct FleetDecision {
  bool apply = true;   // this node is the applier
  std::string holder;  // the node applying it ("" while nobody holds the lock)
  // Set once, on the first decision after this node gained the lock: the node it took it from
  // and why ("session expired", "released"); "" when the lock was free.
  std::optional<std::string> took_from;
};

// Per target, for status: which node applies it.
struct FleetLockStatus {
  std::string key;
  std::string target;  // FleetTarget::describe()
  std::string holder;  // "" : nobody
  bool this_node = false;
};

class Fleet {
 public:
  Fleet(FleetSettings settings, std::shared_ptr<ConsulClient> consul);
  ~Fleet();
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  bool leader_mode() const { return settings_.leader; }
  const std::string& node() const { return node_; }

  // In single mode: always apply. In leader mode the target's lock is started on first use,
  // and that first call waits (up to the Consul timeout) until the lock's state is known, so a
  // node starting up knows at once whether it applies.
  FleetDecision decide(const FleetTarget& t);
  // Targets (FleetTarget::describe()) whose lock this node gained since the last call: the run
  // loop applies them at once, ignoring its own digests.
  std::vector<std::string> take_gained();
  std::vector<FleetLockStatus> status() const;
  // Who holds a target's lock now, read once without taking part (`templet plan`): the node
  // name, "" when nobody does. Throws ConsulError.
  std::string current_holder(const FleetTarget& t);
  // Releases held locks and destroys their sessions (clean stop).
  void stop();

  // Watch threads still inside a blocking query when the fleet stopped are let go; the process
  // must then end without static destructors (see LiveDataSource::threads_let_go).
  static bool threads_let_go();

  struct Lock;

 private:
  Lock& lock_for(const FleetTarget& t);

  FleetSettings settings_;
  std::shared_ptr<ConsulClient> consul_;
  std::string node_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Lock>> locks_;  // by key
  bool stopped_ = false;
};

}  // namespace templet::live
