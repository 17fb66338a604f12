// The InfluxDB apply hook: keeps InfluxDB v2 Flux tasks in step with a rendered Flux file.
//
// The file holds one or more task scripts separated by lines holding only `---`; each script's
// `option task` name identifies its task in the organization. plan() reads the file, checks every
// script's options locally (flux_options.hpp), resolves the org, lists all of its tasks (paging
// with `after=` itself: the server's links.next drops filters) and decides per script: create,
// update (stored Flux differs byte for byte, or the config names a status the task has not: a
// task an operator paused stays paused otherwise), unchanged, or refused (bad
// options, or several tasks share the name). With prune, tasks this hook created for this
// destination (their description is the ownership marker) and no longer rendered are deleted;
// nothing else is ever deleted. apply() creates with POST (orgID, flux, status, marker), updates
// with a PATCH carrying only `flux` and/or `status` (so the server stores the script verbatim and
// keeps the description of a task templet did not create), deletes with DELETE; every script is
// carried out on its own. The token never appears in plans, results or errors.
//
// Beside the tasks, and planned and applied before them, the org's secrets, buckets and DBRP
// mappings the config lists (influxdb_org.hpp); what templet sent is kept in state_dir
// (influxdb_state.hpp), so secret values, which the server never returns, can be compared.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hooks/apply_hook.hpp"
#include "hooks/influxdb_config.hpp"
#include "hooks/influxdb_org.hpp"
#include "hooks/influxdb_state.hpp"
#include "net/http_client.hpp"
#include "net/influxdb_api.hpp"

namespace templet {

struct InfluxHookSettings {
  std::string url;          // http://host:8086, no trailing slash needed
  std::string org;          // org name; used when org_id is empty
  std::string org_id;       // wins over org
  std::string token;        // the secret; empty: plan() reports token_error (or that none is set)
  std::string token_error;  // why there is no token, e.g. "INFLUXDB_TOKEN is not set"
  std::string status = "active";  // status of created tasks; of every task when explicit
  bool status_explicit = false;   // the config named it: existing tasks are set to it too
  bool prune = false;
  // After a task is created or updated, force a run (POST /api/v2/tasks/{id}/runs) and report
  // its status and last log line; failing to force it fails the entry (verify: run_on_change).
  bool run_on_change = false;
  std::chrono::milliseconds ready_timeout{std::chrono::minutes(2)};
  std::chrono::milliseconds first_backoff{250};  // not-ready retries: doubling, at most 5s
  std::string destination;  // the rendered file's path: the ownership marker names it
  std::map<std::string, std::string> secrets;  // rendered values of apply.influxdb.secrets
  std::vector<InfluxBucketSpec> buckets;
  std::optional<InfluxDbrpSpec> dbrp;
  std::string state_dir;  // "" keeps no state: every stored secret is then unknown
};

// One script of a rendered file: its bytes and the line where it starts (1-based).
struct FluxScript {
  std::string text;
  int first_line = 1;
};

// Splits a rendered file at lines holding only `---` (a trailing "\r" is not tolerated). Parts
// holding only whitespace are dropped, so an empty file means zero tasks.
std::vector<FluxScript> split_flux_scripts(const std::string& rendered);

// The description templet gives the tasks it creates for `destination`.
std::string influx_ownership_description(const std::string& destination);

class InfluxHook : public ApplyHook {
 public:
  InfluxHook(InfluxHookSettings settings, std::shared_ptr<HttpClient> http);
  ~InfluxHook() override;
  Plan plan(const std::string& rendered, const std::string& file) override;
  // The Vault secrets in the rendered scripts: the Flux diff masks them, and by position the
  // values they replaced in the stored script (a rotated-away password is no longer known).
  void set_rendered_secrets(const std::vector<std::string>& secrets) override;
  // The rendered values of apply.influxdb.secrets (they replace the settings' secrets).
  void set_rendered_values(const std::map<std::string, std::string>& values) override;
  // Carries out the entries of the last plan() of this hook (the plan given must be it).
  ApplyResult apply(const Plan& plan) override;

 private:
  void plan_tasks(const std::string& rendered, const std::string& file, Plan& plan);
  // Applies a task op; `task_id` is set to the task created or updated.
  ApplyEntry apply_task(const InfluxOp& op, std::string& task_id);
  void force_run(const std::string& task_id, ApplyEntry& e, ApplyResult& result);

  InfluxHookSettings settings_;
  InfluxApi api_;
  std::string planned_file_;
  std::string org_id_;                     // resolved by the last plan()
  std::string state_path_;                 // the org's state file; "" keeps none
  std::vector<InfluxOp> ops_;              // parallel to the last plan's entries
  std::vector<std::string> diff_secrets_;  // the token, then the rendered secrets
};

// The hook for a template's `apply.influxdb` (config already finalized); `state_dir` keeps
// secret digests and created buckets. `http` defaults to make_http_client.
std::unique_ptr<ApplyHook> make_influxdb_hook(const InfluxApplyConfig& config,
                                              const std::string& destination,
                                              const std::string& state_dir = "",
                                              std::shared_ptr<HttpClient> http = nullptr);

}  // namespace templet
