#include "app/status_board.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <set>

#include "functions/live/mask.hpp"

namespace templet {

namespace {

double unix_seconds(SystemTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

nlohmann::json time_or_null(const std::optional<SystemTime>& t) {
  return t ? nlohmann::json(rfc3339(*t)) : nlohmann::json(nullptr);
}

nlohmann::json text_or_null(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

// "vault.read(database/creds/ro)" -> "vault.read".
std::string kind_of(const std::string& identity) {
  return identity.substr(0, identity.find('('));
}

std::string dependency_state(const live::LiveDataSource::DependencyState& d) {
  if (!d.error.empty()) return "failing";
  return d.answered ? "ok" : "pending";
}

const char* verdict_name(ApplyVerdict v) {
  switch (v) {
    case ApplyVerdict::Ok:
      return "ok";
    case ApplyVerdict::Failed:
      return "failed";
    case ApplyVerdict::Refused:
      return "refused";
  }
  return "failed";
}

// A label value in the exposition format: backslash, double quote and newline escaped.
std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

class Exposition {
 public:
  void family(const char* name, const char* type, const char* help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  void sample(const char* name, const std::vector<std::pair<const char*, std::string>>& labels,
              double value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      for (size_t i = 0; i < labels.size(); ++i)
        out_ += fmt::format("{}{}=\"{}\"", i ? "," : "", labels[i].first, label(labels[i].second));
      out_ += '}';
    }
    // Integers as integers; timestamps to the millisecond.
    if (value == std::floor(value) && std::fabs(value) < 1e15)
      out_ += fmt::format(" {}\n", static_cast<long long>(value));
    else
      out_ += fmt::format(" {:.3f}\n", value);
  }
  std::string text() && { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::string rfc3339(SystemTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

StatusBoard::StatusBoard() = default;

void StatusBoard::set_live(std::function<LiveView()> provider) {
  std::lock_guard<std::mutex> lock(mu_);
  provider_ = std::move(provider);
}

LiveView StatusBoard::live() const {
  std::function<LiveView()> p;
  {
    std::lock_guard<std::mutex> lock(mu_);
    p = provider_;
  }
  return p ? p() : LiveView{};
}

void StatusBoard::bump() {
  ++gen_;
  cv_.notify_all();
}

void StatusBoard::set_templates(
    const std::vector<std::pair<std::string, std::string>>& source_and_dest) {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, TemplateState> kept;
  order_.clear();
  for (const auto& [source, dest] : source_and_dest) {
    // A reload keeps what is known about a destination that is still configured.
    auto it = templates_.find(dest);
    TemplateState t = it != templates_.end() ? it->second : TemplateState{};
    t.source = source;
    if (!kept.count(dest)) order_.push_back(dest);
    kept[dest] = std::move(t);
  }
  templates_ = std::move(kept);
  bump();
}

void StatusBoard::rendered(const std::string& dest) {
  std::lock_guard<std::mutex> lock(mu_);
  templates_[dest].last_render = std::chrono::system_clock::now();
  bump();
}

void StatusBoard::written(const std::string& dest) {
  std::lock_guard<std::mutex> lock(mu_);
  templates_[dest].last_write = std::chrono::system_clock::now();
  bump();
}

void StatusBoard::failed(const std::string& dest, TemplateFailure kind,
                         const std::string& masked_error) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& t = templates_[dest];
  t.state = "failing";
  t.last_error = masked_error;
  if (kind == TemplateFailure::Render) ++t.render_failures;
  if (kind == TemplateFailure::Write) ++t.write_failures;
  if (kind == TemplateFailure::Check) ++t.check_failures;
  bump();
}

void StatusBoard::succeeded(const std::string& dest) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& t = templates_[dest];
  t.state = "ok";
  t.last_error.clear();
  bump();
}

void StatusBoard::holds(const std::string& dest, const std::map<std::string, std::string>& leases) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& t = templates_[dest];
  if (t.held == leases) return;
  t.held = leases;
  bump();
}

void StatusBoard::planned(const std::string& target, const std::string& summary) {
  std::lock_guard<std::mutex> lock(mu_);
  targets_[target].last_plan = summary;
  bump();
}

void StatusBoard::applied(const std::string& target, const std::string& dest, ApplyVerdict verdict,
                          const std::string& masked_error, bool drift,
                          std::optional<bool> verified) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& t = targets_[target];
  t.destination = dest;
  t.last_apply = std::chrono::system_clock::now();
  t.result = verdict_name(verdict);
  t.last_error = masked_error;
  ++t.totals[t.result];
  if (drift) ++t.drift;
  if (verified) {
    t.last_verification = verified;
    if (!*verified) ++t.verify_failures;
  }
  bump();
}

bool StatusBoard::healthy_locked(const LiveView& view) const {
  for (const auto& d : view.dependencies)
    if (dependency_state(d) == "failing") return false;
  for (const auto& [dest, t] : templates_)
    if (t.state == "failing") return false;
  for (const auto& [name, t] : targets_)
    if (t.result != "ok") return false;
  return true;
}

bool StatusBoard::healthy() const {
  LiveView view = live();
  std::lock_guard<std::mutex> lock(mu_);
  return healthy_locked(view);
}

nlohmann::json StatusBoard::status_json(SystemTime now) const {
  LiveView view = live();
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json j;
  j["healthy"] = healthy_locked(view);
  j["version"] = TEMPLET_VERSION;
  j["leases"] = nlohmann::json::array();
  for (const auto& l : view.leases) {
    double left = std::chrono::duration<double>(l.expires_at - now).count();
    nlohmann::json e{{"dependency", l.identity},
                     {"lease", live::mask_lease_id(l.lease_id)},
                     {"expires_in_s", std::round(left * 10) / 10},
                     {"expires_at", rfc3339(l.expires_at)},
                     {"renewable", l.renewable},
                     {"capped", l.capped},
                     {"superseded", l.superseded},
                     {"token_expires_in_s", nullptr}};
    if (l.token_expires_at)
      e["token_expires_in_s"] =
          std::round(std::chrono::duration<double>(*l.token_expires_at - now).count() * 10) / 10;
    j["leases"].push_back(std::move(e));
  }
  j["dependencies"] = nlohmann::json::array();
  for (const auto& d : view.dependencies)
    j["dependencies"].push_back({{"dependency", d.identity},
                                 {"kind", kind_of(d.identity)},
                                 {"state", dependency_state(d)},
                                 {"last_error", text_or_null(d.error)}});
  j["templates"] = nlohmann::json::array();
  for (const auto& dest : order_) {
    const auto& t = templates_.at(dest);
    j["templates"].push_back({{"source", t.source},
                              {"destination", dest},
                              {"state", t.state},
                              {"last_render", time_or_null(t.last_render)},
                              {"last_write", time_or_null(t.last_write)},
                              {"last_error", text_or_null(t.last_error)}});
  }
  j["targets"] = nlohmann::json::array();
  for (const auto& [name, t] : targets_)
    j["targets"].push_back(
        {{"target", name},
         {"destination", t.destination},
         {"last_plan", text_or_null(t.last_plan)},
         {"last_apply", time_or_null(t.last_apply)},
         {"result", t.result},
         {"last_error", text_or_null(t.last_error)},
         {"last_verification", t.last_verification
                                   ? nlohmann::json(*t.last_verification ? "ok" : "failed")
                                   : nlohmann::json(nullptr)},
         {"leader", t.leader ? nlohmann::json(*t.leader) : nlohmann::json(nullptr)}});
  return j;
}

void StatusBoard::leader(const std::string& target, const std::string& holder, bool this_node) {
  std::lock_guard<std::mutex> lock(mu_);
  TargetState& t = targets_[target];
  t.leader = holder;
  t.applies = this_node;
  bump();
}

std::string StatusBoard::metrics_text(SystemTime) const {
  LiveView view = live();
  std::lock_guard<std::mutex> lock(mu_);
  Exposition x;
  x.family("templet_build_info", "gauge", "Always 1; the version of the running templet.");
  x.sample("templet_build_info", {{"version", TEMPLET_VERSION}}, 1);

  x.family("templet_dependency_up", "gauge",
           "1 when the dependency has a current answer, 0 while pending or failing.");
  for (const auto& d : view.dependencies)
    x.sample("templet_dependency_up", {{"dependency", d.identity}},
             dependency_state(d) == "ok" ? 1 : 0);

  x.family("templet_lease_expiry_timestamp_seconds", "gauge",
           "When the dependency's current Vault lease expires (Unix time).");
  std::map<std::pair<std::string, std::string>, SystemTime> expiry;  // (identity, id) -> expiry
  for (const auto& l : view.leases) {
    expiry[{l.identity, l.lease_id}] = l.expires_at;
    if (!l.superseded)
      x.sample("templet_lease_expiry_timestamp_seconds", {{"dependency", l.identity}},
               unix_seconds(l.expires_at));
  }

  x.family("templet_consumer_credential_expiry_timestamp_seconds", "gauge",
           "The earliest expiry among the leases the destination's current file holds (Unix "
           "time).");
  for (const auto& dest : order_) {
    std::optional<SystemTime> earliest;
    for (const auto& [identity, lease_id] : templates_.at(dest).held) {
      auto it = expiry.find({identity, lease_id});
      if (it != expiry.end() && (!earliest || it->second < *earliest)) earliest = it->second;
    }
    if (earliest)
      x.sample("templet_consumer_credential_expiry_timestamp_seconds", {{"destination", dest}},
               unix_seconds(*earliest));
  }

  auto per_template = [&](const char* name, const char* lbl, const char* help, auto field) {
    x.family(name, "counter", help);
    for (const auto& dest : order_) x.sample(name, {{lbl, dest}}, templates_.at(dest).*field);
  };
  per_template("templet_render_failures_total", "template",
               "Renders that failed, by template (its destination).",
               &TemplateState::render_failures);
  per_template("templet_write_failures_total", "destination", "Writes that failed.",
               &TemplateState::write_failures);
  per_template("templet_check_failures_total", "destination",
               "New contents a template's check refused.", &TemplateState::check_failures);

  x.family("templet_apply_total", "counter", "Applies of a target, by result.");
  for (const auto& [name, t] : targets_)
    for (const char* result : {"ok", "failed", "refused"}) {
      auto it = t.totals.find(result);
      x.sample("templet_apply_total", {{"target", name}, {"result", result}},
               it == t.totals.end() ? 0 : static_cast<double>(it->second));
    }
  x.family("templet_apply_drift_total", "counter",
           "Applies that changed a server although the file had not changed.");
  for (const auto& [name, t] : targets_)
    x.sample("templet_apply_drift_total", {{"target", name}}, static_cast<double>(t.drift));
  x.family("templet_verify_failures_total", "counter",
           "Applies of a target whose verification (connection test) failed.");
  for (const auto& [name, t] : targets_)
    x.sample("templet_verify_failures_total", {{"target", name}},
             static_cast<double>(t.verify_failures));
  x.family("templet_leader", "gauge", "1 when this node applies the target.");
  for (const auto& [name, t] : targets_)
    x.sample("templet_leader", {{"target", name}}, t.applies ? 1 : 0);
  return std::move(x).text();
}

std::string StatusBoard::summary() const {
  std::lock_guard<std::mutex> lock(mu_);
  int ok = 0, failing = 0, pending = 0;
  std::string first;
  for (const auto& dest : order_) {
    const auto& t = templates_.at(dest);
    if (t.state == "ok") ++ok;
    if (t.state == "pending") ++pending;
    if (t.state != "failing") continue;
    if (++failing == 1) {
      // The first line of the error, short: the whole of it is in the log and in status.
      std::string why = t.last_error.substr(0, t.last_error.find('\n'));
      if (why.size() > 60) why = why.substr(0, 57) + "...";
      first = dest + " (" + why + ")";
    }
  }
  std::string s = fmt::format("{} template{} ok", ok, ok == 1 ? "" : "s");
  if (pending) s += fmt::format(", {} pending", pending);
  if (failing) s += fmt::format(", {} failing: {}", failing, first);
  return s;
}

std::uint64_t StatusBoard::generation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return gen_;
}

std::uint64_t StatusBoard::wait_for_change(std::uint64_t seen,
                                           std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return gen_ != seen; });
  return gen_;
}

}  // namespace templet
