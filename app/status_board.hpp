// The daemon's health in one place: what `templet status`, the metrics and systemd's STATUS=
// line show.
//
// The run loop reports each template's renders, writes, checks and applies here; the live data
// source is read on demand (dependencies, leases) through a provider, so its numbers are as fresh
// as the moment they are asked for. Everything kept is already masked: errors arrive masked by
// the loop, lease ids are masked on the way out. Thread-safe: the loop writes, the status socket
// and the metrics writers read.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "functions/live/live_data_source.hpp"

namespace templet {

using SystemTime = std::chrono::system_clock::time_point;

// What the live data source says right now (empty with a values file).
struct LiveView {
  std::vector<live::LiveDataSource::DependencyState> dependencies;
  std::vector<live::LiveDataSource::LeaseState> leases;
};

enum class TemplateFailure { Render, Write, Check, Command, Apply };
enum class ApplyVerdict { Ok, Failed, Refused };

class StatusBoard {
 public:
  StatusBoard();

  void set_live(std::function<LiveView()> provider);

  // The loop's reports. A template is named by its destination.
  void set_templates(const std::vector<std::pair<std::string, std::string>>& source_and_dest);
  void rendered(const std::string& dest);
  void written(const std::string& dest);  // new contents are in place
  void failed(const std::string& dest, TemplateFailure kind, const std::string& masked_error);
  void succeeded(const std::string& dest);
  // The lease ids (identity -> lease id) the destination's current file was written from.
  void holds(const std::string& dest, const std::map<std::string, std::string>& leases);
  // One apply of a target ("redash http://…"). `drift`: the server needed changes although the
  // file did not change (someone edited it there).
  // The plan made before an apply, summed up ("1 update, 3 unchanged").
  void planned(const std::string& target, const std::string& summary);
  // `verified`: the verification after the apply (Redash's connection test), when one ran.
  void applied(const std::string& target, const std::string& dest, ApplyVerdict verdict,
               const std::string& masked_error, bool drift,
               std::optional<bool> verified = std::nullopt);

  // Fleet mode: which node applies the target ("" while nobody holds its lock), and whether it
  // is this one. Without a call the target is this node's alone (leader null, templet_leader 1).
  void leader(const std::string& target, const std::string& holder, bool this_node);

  // `templet status --json` (see README "Status"), at `now`.
  nlohmann::json status_json(SystemTime now) const;
  // The Prometheus text exposition of the metrics (README "Metrics").
  std::string metrics_text(SystemTime now) const;
  bool healthy() const;
  // systemd's STATUS= line: "3 templates ok, 1 failing: /etc/x (vault 403)".
  std::string summary() const;

  // Bumped on every report; waits (up to `timeout`) until it moves past `seen`.
  std::uint64_t generation() const;
  std::uint64_t wait_for_change(std::uint64_t seen, std::chrono::milliseconds timeout) const;

 private:
  struct TemplateState {
    std::string source;
    std::string state = "pending";
    std::optional<SystemTime> last_render, last_write;
    std::string last_error;
    std::map<std::string, std::string> held;  // identity -> lease id
    std::uint64_t render_failures = 0, write_failures = 0, check_failures = 0;
  };
  struct TargetState {
    std::string destination;
    std::optional<SystemTime> last_apply;
    std::string result;
    std::string last_error;
    std::optional<bool> last_verification;
    std::string last_plan;
    std::map<std::string, std::uint64_t> totals;  // result -> count
    std::uint64_t drift = 0, verify_failures = 0;
    std::optional<std::string> leader;  // fleet mode only
    bool applies = true;
  };
  LiveView live() const;
  bool healthy_locked(const LiveView& view) const;
  void bump();

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::uint64_t gen_ = 0;
  std::function<LiveView()> provider_;
  std::map<std::string, TemplateState> templates_;  // by destination
  std::vector<std::string> order_;                  // destinations in config order
  std::map<std::string, TargetState> targets_;
};

// "2026-12-04T18:00:00Z".
std::string rfc3339(SystemTime t);

}  // namespace templet
