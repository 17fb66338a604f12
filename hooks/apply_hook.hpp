// Apply hooks: bring a server (Redash, InfluxDB) in line with a rendered file.
//
// Every hook works in two steps. plan() reads the rendered file and the server and says, per
// entry, what would change; it never writes. apply() carries out a plan's create/update/delete
// entries independently, so one failure leaves the others done and reported. Running apply twice
// makes no write calls the second time. Plans and results never contain secret values.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace templet {

enum class PlanAction { Create, Update, Unchanged, Delete, Refused };

struct PlanEntry {
  std::string name;  // the datasource or task name, exactly as rendered
  PlanAction action = PlanAction::Unchanged;
  std::vector<std::string> details;  // e.g. "port: 5432 -> 5433", "password: (secret) changed"
  std::string reason;                // why it was refused
};

struct Plan {
  std::string hook;    // "redash" or "influxdb"
  std::string target;  // the server URL, for people
  std::string file;    // the rendered file the plan was made from
  std::vector<PlanEntry> entries;
  std::string error;  // the plan could not be made at all (file invalid, server refused us)
  // Applying it would succeed as far as can be known: it was made and refuses no entry.
  bool ok() const {
    if (!error.empty()) return false;
    for (const auto& e : entries)
      if (e.action == PlanAction::Refused) return false;
    return true;
  }
};

enum class ApplyOutcome { Created, Updated, Unchanged, Deleted, Refused, Failed };

struct ApplyEntry {
  std::string name;
  ApplyOutcome outcome = ApplyOutcome::Unchanged;
  std::string message;  // server status and message on failure; never secret values
};

struct ApplyResult {
  std::vector<ApplyEntry> entries;
  std::string error;  // nothing could be applied (e.g. plan failed)
  // Entries verified after their change (Redash's connection test), and how many of those failed.
  int verified = 0, verify_failures = 0;
  bool ok() const {
    if (!error.empty()) return false;
    for (const auto& e : entries)
      if (e.outcome == ApplyOutcome::Refused || e.outcome == ApplyOutcome::Failed) return false;
    return true;
  }
};

// What plan() compares the server with for the secrets the server masks.
enum class PlanBasis {
  Remembered,  // the digests of what this node sent (the default)
  Server,      // nothing remembered: every masked secret counts as unknown and is sent again
               // (a node taking over from another, whose digests describe someone else's apply)
  Verify,      // the digests, and where they say "unchanged", a check that the server's copy
               // works (Redash: the connection test), for drift behind templet's back
};

class ApplyHook {
 public:
  virtual ~ApplyHook() = default;
  // Read-only: parses `rendered` (the file's contents; `file` names it in errors) and compares
  // it with the server.
  virtual Plan plan(const std::string& rendered, const std::string& file) = 0;
  // Carries out the plan's create/update/delete entries.
  virtual ApplyResult apply(const Plan& plan) = 0;
  // The secret strings (from Vault) in the next file to plan. A hook treats whatever holds one
  // as a secret, whatever the server's schema says, so a plan never shows the value it replaces
  // (a rotated-away Vault username, say), which no masking of the new file would catch.
  virtual void set_rendered_secrets(const std::vector<std::string>& secrets) { (void)secrets; }
  // Values rendered from the template's hook config (InfluxDB's `secrets`), each a secret.
  virtual void set_rendered_values(const std::map<std::string, std::string>& values) {
    (void)values;
  }
  // For the next plan(); hooks that remember nothing ignore it.
  virtual void set_plan_basis(PlanBasis basis) { (void)basis; }
};

// Human-readable plan and result, one line per entry, as `templet plan`/`apply` print them.
std::string format_plan(const Plan& plan);
std::string format_result(const ApplyResult& result);

}  // namespace templet
