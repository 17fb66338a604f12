// The InfluxDB apply hook: plan against the org's task list, then POST/PATCH/DELETE per entry
// (see influxdb.hpp).
#include "hooks/influxdb.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "hooks/flux_options.hpp"
#include "net/address.hpp"
#include "renderer/diff.hpp"

namespace templet {

using json = nlohmann::json;

namespace {

constexpr int kPageLimit = 500;  // the server's maximum
constexpr size_t kMaxDiffLines = 60;

struct StoredTask {
  std::string id, name, flux, status, description;
};

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool valid_utf8(const std::string& s) {
  try {
    (void)json(s).dump();
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

}  // namespace

std::vector<FluxScript> split_flux_scripts(const std::string& rendered) {
  std::vector<FluxScript> parts;
  FluxScript cur;
  int line = 1;
  size_t pos = 0;
  while (pos < rendered.size()) {
    size_t nl = rendered.find('\n', pos);
    size_t end = nl == std::string::npos ? rendered.size() : nl + 1;
    std::string_view text(rendered.data() + pos, (nl == std::string::npos ? end : nl) - pos);
    if (text == "---") {
      if (!blank(cur.text)) parts.push_back(cur);
      cur = FluxScript{"", line + 1};
    } else {
      cur.text.append(rendered, pos, end - pos);
    }
    pos = end;
    ++line;
  }
  if (!blank(cur.text)) parts.push_back(cur);
  return parts;
}

std::string influx_ownership_description(const std::string& destination) {
  return "managed by templet: " + destination;
}

InfluxHook::InfluxHook(InfluxHookSettings settings, std::shared_ptr<HttpClient> http)
    : settings_(std::move(settings)),
      api_({settings_.url, settings_.token, settings_.ready_timeout, settings_.first_backoff},
           std::move(http)) {
  while (!settings_.url.empty() && settings_.url.back() == '/') settings_.url.pop_back();
  diff_secrets_ = {settings_.token};
}

void InfluxHook::set_rendered_values(const std::map<std::string, std::string>& values) {
  settings_.secrets = values;
}

InfluxHook::~InfluxHook() = default;

void InfluxHook::set_rendered_secrets(const std::vector<std::string>& secrets) {
  diff_secrets_ = {settings_.token};
  diff_secrets_.insert(diff_secrets_.end(), secrets.begin(), secrets.end());
}

Plan InfluxHook::plan(const std::string& rendered, const std::string& file) {
  Plan plan;
  plan.hook = "influxdb";
  plan.file = file;
  plan.target = settings_.url + " (org " +
                (settings_.org_id.empty() ? settings_.org : settings_.org_id) + ")";
  planned_file_ = file;
  ops_.clear();
  org_id_.clear();
  if (settings_.url.empty()) {
    plan.error = "no InfluxDB url";
    return plan;
  }
  if (settings_.token.empty()) {
    plan.error = settings_.token_error.empty() ? "no InfluxDB token" : settings_.token_error;
    return plan;
  }
  try {
    org_id_ = api_.resolve_org(settings_.org, settings_.org_id);
    InfluxOrgWanted want{settings_.secrets, settings_.buckets, settings_.dbrp, settings_.prune,
                         settings_.destination};
    state_path_ = influx_state_path(settings_.state_dir, settings_.url, org_id_);
    // Secrets and buckets first: the tasks after them may use them.
    plan_influx_org(api_, org_id_, want, load_influx_state(state_path_), plan, ops_);
    plan_tasks(rendered, file, plan);
  } catch (const InfluxApiError& e) {
    plan.error = e.what();
  } catch (const HttpTransportError& e) {
    plan.error = api_.mask(std::string("no answer from InfluxDB: ") + e.what());
  } catch (const json::exception& e) {
    plan.error = std::string("unreadable answer from InfluxDB: ") + e.what();
  }
  if (!plan.error.empty()) {
    plan.entries.clear();
    ops_.clear();
  }
  return plan;
}

void InfluxHook::plan_tasks(const std::string& rendered, const std::string& file, Plan& plan) {
  // 1. Read every script locally: a script the server would refuse is refused here.
  struct Script {
    FluxScript part;
    std::optional<FluxTaskOptions> opts;
    std::string name;  // display name
    std::string refusal;
  };
  std::vector<Script> scripts;
  bool unnamed_failure = false;
  for (const auto& part : split_flux_scripts(rendered)) {
    Script s{part, std::nullopt, "", ""};
    try {
      s.opts = parse_flux_task_options(part.text, part.first_line);
      s.name = s.opts->name;
    } catch (const FluxOptionsError& e) {
      s.name = e.name.empty() ? file + ":" + std::to_string(part.first_line) : e.name;
      if (e.name.empty()) unnamed_failure = true;
      s.refusal = e.describe(file);
    }
    if (s.refusal.empty() && !valid_utf8(part.text))
      s.refusal = file + ":" + std::to_string(part.first_line) +
                  ": the script is not valid UTF-8 (InfluxDB takes JSON text)";
    scripts.push_back(std::move(s));
  }
  std::map<std::string, std::vector<int>> lines_by_name;
  for (const auto& s : scripts)
    if (s.opts) lines_by_name[s.name].push_back(s.part.first_line);
  for (auto& s : scripts) {
    auto& lines = lines_by_name[s.name];
    if (s.opts && lines.size() > 1) {
      std::string at;
      for (int l : lines) at += (at.empty() ? "" : ", ") + std::to_string(l);
      s.refusal = "rendered " + std::to_string(lines.size()) + " times in " + file +
                  " (scripts at lines " + at + ")";
    }
  }

  // 2. All tasks of the org, paging with after= (links.next drops filters).
  std::vector<StoredTask> tasks;
  for (const auto& t :
       api_.list_all("/api/v2/tasks?orgID=" + url_escape(org_id_), "tasks", kPageLimit))
    tasks.push_back({t.value("id", ""), t.value("name", ""), t.value("flux", ""),
                     t.value("status", ""), t.value("description", "")});
  std::map<std::string, std::vector<StoredTask*>> by_name;
  for (auto& t : tasks) by_name[t.name].push_back(&t);

  // A list that left the Flux out (as `type=basic` does): read the matched tasks one by one.
  for (const auto& s : scripts) {
    auto it = by_name.find(s.name);
    if (!s.opts || it == by_name.end() || it->second.size() != 1) continue;
    StoredTask& t = *it->second.front();
    if (!t.flux.empty()) continue;
    t.flux = api_.get_json("/api/v2/tasks/" + url_escape(t.id)).value("flux", "");
  }

  // 3. One entry per script.
  const std::string marker = influx_ownership_description(settings_.destination);
  for (const auto& s : scripts) {
    PlanEntry e;
    InfluxOp op;
    e.name = op.name = s.name;
    if (!s.refusal.empty()) {
      e.action = op.action = PlanAction::Refused;
      e.reason = op.reason = s.refusal;
    } else if (auto it = by_name.find(s.name); it == by_name.end()) {
      e.action = op.action = PlanAction::Create;
      op.flux = s.part.text;
      op.status = settings_.status;
      e.details.push_back(s.opts->every.empty() ? "cron: " + s.opts->cron
                                                : "every: " + s.opts->every);
      if (!s.opts->offset.empty()) e.details.push_back("offset: " + s.opts->offset);
      e.details.push_back("status: " + settings_.status);
    } else if (it->second.size() > 1) {
      std::string ids;
      for (const auto* t : it->second) ids += (ids.empty() ? "" : ", ") + t->id;
      e.action = op.action = PlanAction::Refused;
      e.reason = op.reason =
          std::to_string(it->second.size()) + " tasks in the organization share this name: " + ids;
    } else {
      const StoredTask& t = *it->second.front();
      op.task_id = t.id;
      if (t.flux != s.part.text) {
        op.send_flux = true;
        op.flux = s.part.text;
        e.details.push_back("flux changed (task " + t.id + "):");
        std::string diff =
            unified_diff(t.flux, s.part.text, "stored", "rendered", diff_secrets_, 1);
        auto lines = split_lines(diff);
        for (size_t i = 0; i < lines.size() && i < kMaxDiffLines; ++i)
          e.details.push_back("  " + lines[i]);
        if (lines.size() > kMaxDiffLines)
          e.details.push_back("  ... (" + std::to_string(lines.size() - kMaxDiffLines) +
                              " more diff lines)");
      }
      // An operator's pause is kept unless this target's config asks for a status.
      if (settings_.status_explicit && t.status != settings_.status) {
        op.send_status = true;
        op.status = settings_.status;
        e.details.push_back("status: " + t.status + " -> " + settings_.status);
      }
      if (op.send_flux || op.send_status) {
        e.action = op.action = PlanAction::Update;
        if (t.description != marker)
          e.details.push_back("not created by templet here: its description is kept");
      } else {
        e.action = op.action = PlanAction::Unchanged;
      }
    }
    plan.entries.push_back(std::move(e));
    ops_.push_back(std::move(op));
  }

  // 4. Prune: only tasks carrying this destination's marker and no longer rendered.
  if (!settings_.prune) return;
  if (unnamed_failure) {
    PlanEntry e;
    e.name = "(prune)";
    e.action = PlanAction::Refused;
    e.reason = "not pruning: a script's task name could not be read";
    InfluxOp op;
    op.action = PlanAction::Refused;
    op.name = e.name;
    op.reason = e.reason;
    plan.entries.push_back(e);
    ops_.push_back(op);
    return;
  }
  for (const auto& t : tasks) {
    if (t.description != marker) continue;
    bool rendered_now = std::any_of(scripts.begin(), scripts.end(),
                                    [&](const Script& s) { return s.name == t.name; });
    if (rendered_now) continue;
    PlanEntry e;
    e.name = t.name;
    e.action = PlanAction::Delete;
    e.details.push_back("task " + t.id + ", no longer rendered");
    InfluxOp op;
    op.action = PlanAction::Delete;
    op.name = t.name;
    op.task_id = t.id;
    plan.entries.push_back(e);
    ops_.push_back(op);
  }
}

ApplyEntry InfluxHook::apply_task(const InfluxOp& op, std::string& task_id) {
  ApplyEntry e;
  e.name = op.name;
  const std::string marker = influx_ownership_description(settings_.destination);
  HttpRequest req;
  switch (op.action) {
    case PlanAction::Unchanged:
      e.outcome = ApplyOutcome::Unchanged;
      return e;
    case PlanAction::Refused:
      e.outcome = ApplyOutcome::Refused;
      e.message = op.reason;
      return e;
    case PlanAction::Create:
      req = api_.request(
          "POST", "/api/v2/tasks",
          {{"orgID", org_id_}, {"flux", op.flux}, {"status", op.status}, {"description", marker}});
      break;
    case PlanAction::Update: {
      json body = json::object();
      if (op.send_flux) body["flux"] = op.flux;
      if (op.send_status) body["status"] = op.status;
      req = api_.request("PATCH", "/api/v2/tasks/" + url_escape(op.task_id), body);
      break;
    }
    case PlanAction::Delete:
      req = api_.request("DELETE", "/api/v2/tasks/" + url_escape(op.task_id));
      break;
  }
  HttpResponse resp = api_.send(req);
  if (op.action == PlanAction::Create && (resp.status == 201 || resp.status == 200)) {
    e.outcome = ApplyOutcome::Created;
    task_id = json::parse(resp.body).value("id", std::string("?"));
    e.message = "task " + task_id;
  } else if (op.action == PlanAction::Update && resp.status == 200) {
    e.outcome = ApplyOutcome::Updated;
    task_id = op.task_id;
    e.message = "task " + op.task_id;
  } else if (op.action == PlanAction::Delete && (resp.status == 204 || resp.status == 200)) {
    e.outcome = ApplyOutcome::Deleted;
    e.message = "task " + op.task_id;
  } else if (op.action == PlanAction::Delete && resp.status == 404) {
    e.outcome = ApplyOutcome::Deleted;
    e.message = "task " + op.task_id + " was already gone";
  } else {
    e.outcome = ApplyOutcome::Failed;
    e.message = api_.describe_failure(req, resp);
  }
  return e;
}

ApplyResult InfluxHook::apply(const Plan& plan) {
  ApplyResult result;
  if (!plan.error.empty()) {
    result.error = plan.error;
    return result;
  }
  bool same = plan.file == planned_file_ && plan.entries.size() == ops_.size();
  for (size_t i = 0; same && i < ops_.size(); ++i)
    same = plan.entries[i].name == ops_[i].name && plan.entries[i].action == ops_[i].action;
  if (!same) {
    result.error = "this plan was not made by this InfluxDB hook's last plan()";
    return result;
  }
  const bool org_ops = std::any_of(
      ops_.begin(), ops_.end(), [](const InfluxOp& op) { return op.kind != InfluxOp::Kind::Task; });
  InfluxState state;
  bool state_changed = false;
  if (org_ops) {
    state = load_influx_state(state_path_);
    try {
      ensure_influx_digest_key(state_path_, state);
    } catch (const std::exception& e) {
      // Secrets are still sent; the next plan shows them as unknown.
      result.error = std::string("cannot keep InfluxDB state: ") + e.what();
    }
  }
  std::map<std::string, std::string> created_buckets;
  for (const auto& op : ops_) {
    ApplyEntry e;
    std::string task_id;  // of a task created or updated
    try {
      if (op.kind == InfluxOp::Kind::Task) {
        e = apply_task(op, task_id);
      } else {
        e = apply_influx_org_op(api_, org_id_, op, settings_.destination, state, created_buckets);
        state_changed = true;
      }
      if (settings_.run_on_change && !task_id.empty()) force_run(task_id, e, result);
    } catch (const HttpTransportError& ex) {
      e.name = op.name;
      e.outcome = ApplyOutcome::Failed;
      e.message = api_.mask(std::string("no answer from InfluxDB: ") + ex.what());
    } catch (const json::exception& ex) {
      e.name = op.name;
      e.outcome = ApplyOutcome::Failed;
      e.message = std::string("unreadable answer from InfluxDB: ") + ex.what();
    }
    result.entries.push_back(std::move(e));
  }
  if (state_changed && result.error.empty()) {
    try {
      save_influx_state(state_path_, state);
    } catch (const std::exception& e) {
      result.error = std::string("cannot keep InfluxDB state: ") + e.what();
    }
  }
  return result;
}

// verify: run_on_change. The run's status is what InfluxDB said when it queued it (a run goes on
// asynchronously); its last log line, when it has one yet, says more.
void InfluxHook::force_run(const std::string& task_id, ApplyEntry& e, ApplyResult& result) {
  ++result.verified;
  HttpRequest req =
      api_.request("POST", "/api/v2/tasks/" + url_escape(task_id) + "/runs", json::object());
  HttpResponse resp = api_.send(req);
  if (resp.status != 201 && resp.status != 200) {
    ++result.verify_failures;
    e.outcome = ApplyOutcome::Failed;
    e.message += ", but forcing a run failed: " + api_.describe_failure(req, resp);
    return;
  }
  json run = json::parse(resp.body);
  std::string run_id = run.value("id", std::string("?"));
  e.message += "; forced run " + run_id + ": " + run.value("status", std::string("?"));
  HttpRequest logs = api_.request(
      "GET", "/api/v2/tasks/" + url_escape(task_id) + "/runs/" + url_escape(run_id) + "/logs");
  HttpResponse lr = api_.send(logs);
  if (lr.status != 200) return;
  json events = json::parse(lr.body).value("events", json::array());
  if (events.is_array() && !events.empty() && events.back().is_object())
    e.message += ", log: " + events.back().value("message", std::string());
}

std::unique_ptr<ApplyHook> make_influxdb_hook(const InfluxApplyConfig& config,
                                              const std::string& destination,
                                              const std::string& state_dir,
                                              std::shared_ptr<HttpClient> http) {
  InfluxHookSettings s;
  s.url = normalize_address(config.url.value_or(""));
  s.org = config.org.value_or("");
  s.org_id = config.org_id.value_or("");
  s.status = config.status.value_or("active");
  s.status_explicit = config.status.has_value();
  s.prune = config.prune.value_or(false);
  s.run_on_change = config.verify.value_or("off") == "run_on_change";
  if (config.ready_timeout) s.ready_timeout = *config.ready_timeout;
  s.destination = destination;
  s.state_dir = state_dir;
  if (config.buckets) s.buckets = *config.buckets;
  s.dbrp = config.dbrp;
  s.token = read_influx_token(config.token_file, config.token_env, s.token_error);
  if (!http) http = make_http_client();
  return std::make_unique<InfluxHook>(std::move(s), std::move(http));
}

}  // namespace templet
