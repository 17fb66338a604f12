// The Redash apply hook: makes Redash's datasources match a rendered YAML list.
//
// plan() matches each rendered entry to Redash's datasources by exact name and says create,
// update (naming the option keys that differ; secrets only as "(secret) changed/unknown"),
// unchanged, or refused (type differs, several datasources share the name, options fail the
// type's schema). apply() sends only creates and updates, each with the complete options, each
// independently, and records digests of what it sent in state_dir so the next plan knows
// whether a masked secret changed. With prune it deletes datasources it created earlier that
// are no longer rendered. Secret values never reach plans, results, logs or errors. On the first
// apply to a Redash (no state for it yet) a create whose name is a near match of an existing
// datasource (redash_name_key) is refused with `did you mean "..."?`. An entry's `groups` are
// planned and applied like options (/api/groups/<id>/data_sources); only memberships templet
// added are ever removed.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hooks/apply_hook.hpp"
#include "hooks/redash_backend.hpp"
#include "hooks/redash_config.hpp"
#include "hooks/redash_input.hpp"
#include "hooks/redash_state.hpp"
#include "net/http_client.hpp"

namespace templet {

struct RedashHookSettings {
  std::string list_key = "managed_datasources";
  bool create_missing = true;
  bool prune = false;
  // Issue 20: a changed datasource is tested by default, so a bad credential shows at once.
  bool test_after_apply = true;
  std::string state_dir;  // "" keeps no state: every secret then counts as changed
  std::string error;      // set when the hook cannot work at all (e.g. no API key)
};

class RedashHook : public ApplyHook {
 public:
  RedashHook(RedashHookSettings settings, std::unique_ptr<RedashBackend> backend);
  Plan plan(const std::string& rendered, const std::string& file) override;
  ApplyResult apply(const Plan& plan) override;
  void set_rendered_secrets(const std::vector<std::string>& secrets) override;
  void set_plan_basis(PlanBasis basis) override { basis_ = basis; }

 private:
  struct Prepared {
    RedashEntry entry;
    std::optional<RemoteDatasource> remote;  // the match (update, unchanged, delete)
    std::set<std::string> secret_keys;
    bool options_changed = true;            // false: only group memberships differ
    std::map<int64_t, bool> groups_wanted;  // group id -> view_only
    std::set<int64_t> groups_remove;        // added by templet earlier, no longer rendered
  };
  // Adds the group memberships' differences to `pe` (or refuses it); `m` is null for a create.
  void plan_groups(const RedashEntry& e, const RemoteDatasource* m, const RedashStateRecord* record,
                   Prepared& prep, PlanEntry& pe);
  // Makes the memberships what was planned; returns the group ids templet added, as recorded.
  std::set<int64_t> apply_groups(const Prepared& prep, const RemoteDatasource& ds,
                                 std::set<int64_t> added);
  PlanEntry plan_entry(const RedashEntry& e, const std::vector<RemoteDatasource>& remote,
                       const std::optional<nlohmann::json>& schemas, const RedashState& st,
                       Prepared& prep);
  std::string masked(const std::string& s) const;
  std::set<std::string> secret_keys(const RedashEntry& e, const nlohmann::json& schema) const;

  RedashHookSettings settings_;
  std::unique_ptr<RedashBackend> backend_;
  std::string state_path_;
  std::vector<Prepared> prepared_;  // parallel to the last plan's entries
  std::string prepared_file_;
  std::vector<std::string> secrets_;
  std::vector<std::string> rendered_secrets_;
  std::optional<std::vector<RemoteGroup>> groups_;  // Redash's groups, when any entry needs them
  PlanBasis basis_ = PlanBasis::Remembered;         // for the next plan() only
  bool verify_secrets_ = false;  // this plan tests what the digests call unchanged
};

// A name with case, whitespace and punctuation taken out: names equal under it are near matches.
std::string redash_name_key(const std::string& name);

// The backend apply.redash names: manage.py (mode manage_py, or a container) or the API (key
// from api_key_file, else the variable api_key_env names). `error` is set when it cannot work.
std::unique_ptr<RedashBackend> make_redash_backend(const RedashApplyConfig& config,
                                                   std::string& error,
                                                   std::shared_ptr<HttpClient> http = nullptr);

// The hook for a template's apply.redash (already finalized: url, defaults). The API key comes
// from api_key_file, else the variable api_key_env names. `http` defaults to make_http_client.
std::unique_ptr<ApplyHook> make_redash_hook(const RedashApplyConfig& config,
                                            const std::string& state_dir,
                                            std::shared_ptr<HttpClient> http = nullptr);

}  // namespace templet
