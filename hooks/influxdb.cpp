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

struct InfluxHook::Op {
  PlanAction action = PlanAction::Unchanged;
  std::string name;
  std::string task_id;     // update, delete
  std::string flux;        // create; update when the Flux changed
  bool send_flux = false;  // update
  std::string status;      // create; update when the status changed
  bool send_status = false;
  std::string reason;  // refused
};

namespace {

constexpr int kPageLimit = 500;  // the server's maximum
constexpr size_t kMaxDiffLines = 60;

struct StoredTask {
  std::string id, name, flux, status, description;
};

std::string trim_right(std::string s) {
  while (!s.empty() &&
         (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.pop_back();
  return s;
}

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

// The server's {"code","message"} message, or the start of the body.
std::string server_message(const HttpResponse& resp) {
  try {
    json j = json::parse(resp.body);
    if (j.is_object() && j.contains("message") && j["message"].is_string())
      return j["message"].get<std::string>();
  } catch (const json::exception&) {
  }
  std::string b = trim_right(resp.body);
  if (b.size() > 200) b = b.substr(0, 200) + "...";
  return b;
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
    : settings_(std::move(settings)), http_(std::move(http)) {
  while (!settings_.url.empty() && settings_.url.back() == '/') settings_.url.pop_back();
  diff_secrets_ = {settings_.token};
}

InfluxHook::~InfluxHook() = default;

void InfluxHook::set_rendered_secrets(const std::vector<std::string>& secrets) {
  diff_secrets_ = {settings_.token};
  diff_secrets_.insert(diff_secrets_.end(), secrets.begin(), secrets.end());
}

std::string InfluxHook::api(const std::string& path_and_query) const {
  return settings_.url + path_and_query;
}

std::string InfluxHook::describe_failure(const HttpRequest& req, const HttpResponse& resp) const {
  std::string what = describe_request(req.method, req.url);  // the path only
  std::string msg;
  if (resp.status == 401)
    msg = "token rejected (" + what + ": 401)";
  else
    msg = what + ": " + std::to_string(resp.status) + " " + server_message(resp);
  return mask_secrets(msg, {settings_.token});
}

// Sends with the token; while the server is not ready (connection refused, 502/503, or for GET
// and DELETE a 504 or any transport failure) retries with doubling backoff, at most 5s apart,
// until ready_timeout has passed. A POST or PATCH that may have reached the server is not resent.
HttpResponse InfluxHook::send(HttpRequest req) {
  req.headers.emplace_back("Authorization", "Token " + settings_.token);
  req.headers.emplace_back("Accept", "application/json");
  if (!req.body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  bool idempotent = req.method == "GET" || req.method == "DELETE";
  std::optional<std::chrono::steady_clock::time_point> deadline;
  auto backoff = settings_.first_backoff;
  while (true) {
    std::optional<HttpResponse> resp;
    std::optional<HttpTransportError> err;
    try {
      resp = http_->send(req);
      bool not_ready =
          resp->status == 502 || resp->status == 503 || (resp->status == 504 && idempotent);
      if (!not_ready) return *resp;
    } catch (const HttpTransportError& e) {
      if (!e.refused && !idempotent) throw;
      err = e;
    }
    auto now = std::chrono::steady_clock::now();
    if (!deadline) deadline = now + settings_.ready_timeout;
    if (now + backoff > *deadline) {
      if (err) throw *err;
      return *resp;
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(5));
  }
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

  if (settings_.url.empty()) {
    plan.error = "no InfluxDB url";
    return plan;
  }
  if (settings_.token.empty()) {
    plan.error = settings_.token_error.empty() ? "no InfluxDB token" : settings_.token_error;
    return plan;
  }

  try {
    // 2. The org.
    std::string org_id = settings_.org_id;
    if (org_id.empty()) {
      HttpRequest req;
      req.url = api("/api/v2/orgs?org=" + url_escape(settings_.org));
      HttpResponse resp = send(req);
      if (resp.status == 404) {
        plan.error = "organization \"" + settings_.org + "\" not found";
        return plan;
      }
      if (resp.status != 200) {
        plan.error = describe_failure(req, resp);
        return plan;
      }
      json j = json::parse(resp.body);
      for (const auto& o : j.value("orgs", json::array()))
        if (o.value("name", "") == settings_.org) org_id = o.value("id", "");
      if (org_id.empty()) {
        plan.error = "organization \"" + settings_.org + "\" is not visible to this token";
        return plan;
      }
    }

    org_id_ = org_id;

    // 3. All tasks of the org, paging with after= (links.next drops filters).
    std::vector<StoredTask> tasks;
    std::string after;
    while (true) {
      HttpRequest req;
      req.url =
          api("/api/v2/tasks?orgID=" + url_escape(org_id) + "&limit=" + std::to_string(kPageLimit) +
              (after.empty() ? "" : "&after=" + url_escape(after)));
      HttpResponse resp = send(req);
      if (resp.status != 200) {
        plan.error = describe_failure(req, resp);
        return plan;
      }
      json j = json::parse(resp.body);
      const json& page = j.contains("tasks") ? j["tasks"] : json::array();
      if (!page.is_array() || page.empty()) break;
      for (const auto& t : page)
        tasks.push_back({t.value("id", ""), t.value("name", ""), t.value("flux", ""),
                         t.value("status", ""), t.value("description", "")});
      std::string last = tasks.back().id;
      if (last.empty() || last <= after) break;  // a server that does not page: stop
      after = last;
    }
    std::map<std::string, std::vector<StoredTask*>> by_name;
    for (auto& t : tasks) by_name[t.name].push_back(&t);

    // A list that left the Flux out (as `type=basic` does): read the matched tasks one by one.
    for (const auto& s : scripts) {
      auto it = by_name.find(s.name);
      if (!s.opts || it == by_name.end() || it->second.size() != 1) continue;
      StoredTask& t = *it->second.front();
      if (!t.flux.empty()) continue;
      HttpRequest req;
      req.url = api("/api/v2/tasks/" + url_escape(t.id));
      HttpResponse resp = send(req);
      if (resp.status != 200) {
        plan.error = describe_failure(req, resp);
        return plan;
      }
      json j = json::parse(resp.body);
      t.flux = j.value("flux", "");
    }

    // 4. One entry per script.
    const std::string marker = influx_ownership_description(settings_.destination);
    for (const auto& s : scripts) {
      PlanEntry e;
      Op op;
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
        e.reason = op.reason = std::to_string(it->second.size()) +
                               " tasks in the organization share this name: " + ids;
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
        if (t.status != settings_.status) {
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

    // 5. Prune: only tasks carrying this destination's marker and no longer rendered.
    if (settings_.prune) {
      if (unnamed_failure) {
        PlanEntry e;
        e.name = "(prune)";
        e.action = PlanAction::Refused;
        e.reason = "not pruning: a script's task name could not be read";
        Op op;
        op.action = PlanAction::Refused;
        op.name = e.name;
        op.reason = e.reason;
        plan.entries.push_back(e);
        ops_.push_back(op);
      } else {
        for (const auto& t : tasks) {
          if (t.description != marker) continue;
          bool rendered = std::any_of(scripts.begin(), scripts.end(),
                                      [&](const Script& s) { return s.name == t.name; });
          if (rendered) continue;
          PlanEntry e;
          e.name = t.name;
          e.action = PlanAction::Delete;
          e.details.push_back("task " + t.id + ", no longer rendered");
          Op op;
          op.action = PlanAction::Delete;
          op.name = t.name;
          op.task_id = t.id;
          plan.entries.push_back(e);
          ops_.push_back(op);
        }
      }
    }
  } catch (const HttpTransportError& e) {
    plan.error =
        mask_secrets(std::string("no answer from InfluxDB: ") + e.what(), {settings_.token});
  } catch (const json::exception& e) {
    plan.error = std::string("unreadable answer from InfluxDB: ") + e.what();
  }
  if (!plan.error.empty()) {
    plan.entries.clear();
    ops_.clear();
  }
  return plan;
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
  const std::string marker = influx_ownership_description(settings_.destination);
  for (const auto& op : ops_) {
    ApplyEntry e;
    e.name = op.name;
    HttpRequest req;
    std::string task_id;  // of a task created or updated
    try {
      switch (op.action) {
        case PlanAction::Unchanged:
          e.outcome = ApplyOutcome::Unchanged;
          break;
        case PlanAction::Refused:
          e.outcome = ApplyOutcome::Refused;
          e.message = op.reason;
          break;
        case PlanAction::Create: {
          req.method = "POST";
          req.url = api("/api/v2/tasks");
          json body = {{"orgID", org_id_},
                       {"flux", op.flux},
                       {"status", op.status},
                       {"description", marker}};
          req.body = body.dump();
          HttpResponse resp = send(req);
          if (resp.status == 201 || resp.status == 200) {
            e.outcome = ApplyOutcome::Created;
            task_id = json::parse(resp.body).value("id", std::string("?"));
            e.message = "task " + task_id;
          } else {
            e.outcome = ApplyOutcome::Failed;
            e.message = describe_failure(req, resp);
          }
          break;
        }
        case PlanAction::Update: {
          req.method = "PATCH";
          req.url = api("/api/v2/tasks/" + url_escape(op.task_id));
          json body = json::object();
          if (op.send_flux) body["flux"] = op.flux;
          if (op.send_status) body["status"] = op.status;
          req.body = body.dump();
          HttpResponse resp = send(req);
          if (resp.status == 200) {
            e.outcome = ApplyOutcome::Updated;
            task_id = op.task_id;
            e.message = "task " + op.task_id;
          } else {
            e.outcome = ApplyOutcome::Failed;
            e.message = describe_failure(req, resp);
          }
          break;
        }
        case PlanAction::Delete: {
          req.method = "DELETE";
          req.url = api("/api/v2/tasks/" + url_escape(op.task_id));
          HttpResponse resp = send(req);
          if (resp.status == 204 || resp.status == 200) {
            e.outcome = ApplyOutcome::Deleted;
            e.message = "task " + op.task_id;
          } else if (resp.status == 404) {
            e.outcome = ApplyOutcome::Deleted;
            e.message = "task " + op.task_id + " was already gone";
          } else {
            e.outcome = ApplyOutcome::Failed;
            e.message = describe_failure(req, resp);
          }
          break;
        }
      }
      if (settings_.run_on_change && !task_id.empty()) force_run(task_id, e, result);
    } catch (const HttpTransportError& ex) {
      e.outcome = ApplyOutcome::Failed;
      e.message =
          mask_secrets(std::string("no answer from InfluxDB: ") + ex.what(), {settings_.token});
    } catch (const json::exception& ex) {
      e.outcome = ApplyOutcome::Failed;
      e.message = std::string("unreadable answer from InfluxDB: ") + ex.what();
    }
    result.entries.push_back(std::move(e));
  }
  return result;
}

// verify: run_on_change. The run's status is what InfluxDB said when it queued it (a run goes on
// asynchronously); its last log line, when it has one yet, says more.
void InfluxHook::force_run(const std::string& task_id, ApplyEntry& e, ApplyResult& result) {
  ++result.verified;
  HttpRequest req;
  req.method = "POST";
  req.url = api("/api/v2/tasks/" + url_escape(task_id) + "/runs");
  req.body = "{}";
  HttpResponse resp = send(req);
  if (resp.status != 201 && resp.status != 200) {
    ++result.verify_failures;
    e.outcome = ApplyOutcome::Failed;
    e.message += ", but forcing a run failed: " + describe_failure(req, resp);
    return;
  }
  json run = json::parse(resp.body);
  std::string run_id = run.value("id", std::string("?"));
  e.message += "; forced run " + run_id + ": " + run.value("status", std::string("?"));
  HttpRequest logs;
  logs.method = "GET";
  logs.url = api("/api/v2/tasks/" + url_escape(task_id) + "/runs/" + url_escape(run_id) + "/logs");
  HttpResponse lr = send(logs);
  if (lr.status != 200) return;
  json events = json::parse(lr.body).value("events", json::array());
  if (events.is_array() && !events.empty() && events.back().is_object())
    e.message += ", log: " + events.back().value("message", std::string());
}

std::unique_ptr<ApplyHook> make_influxdb_hook(const InfluxApplyConfig& config,
                                              const std::string& destination,
                                              std::shared_ptr<HttpClient> http) {
  InfluxHookSettings s;
  s.url = normalize_address(config.url.value_or(""));
  s.org = config.org.value_or("");
  s.org_id = config.org_id.value_or("");
  s.status = config.status.value_or("active");
  s.prune = config.prune.value_or(false);
  s.run_on_change = config.verify.value_or("off") == "run_on_change";
  if (config.ready_timeout) s.ready_timeout = *config.ready_timeout;
  s.destination = destination;
  if (config.token_file && !config.token_file->empty()) {
    std::ifstream in(*config.token_file, std::ios::binary);
    std::stringstream buf;
    if (in) buf << in.rdbuf();
    if (!in)
      s.token_error = "cannot read token_file " + *config.token_file;
    else
      s.token = trim_right(buf.str());
    if (in && s.token.empty()) s.token_error = "token_file " + *config.token_file + " is empty";
  } else {
    std::string var = config.token_env.value_or("INFLUXDB_TOKEN");
    const char* v = std::getenv(var.c_str());
    if (v && *v)
      s.token = v;
    else
      s.token_error = "no InfluxDB token: " + var + " is not set";
  }
  if (!http) http = make_http_client();
  return std::make_unique<InfluxHook>(std::move(s), std::move(http));
}

}  // namespace templet
