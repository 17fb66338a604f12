// The Redash apply hook: plan and apply (see redash.hpp).
#include "hooks/redash.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "hooks/redash_api.hpp"
#include "hooks/redash_manage.hpp"
#include "hooks/redash_schema.hpp"
#include "renderer/diff.hpp"

namespace templet {

namespace {

using json = nlohmann::json;

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

const json& schema_for(const std::optional<json>& schemas, const std::string& type) {
  static const json none;
  if (!schemas || !schemas->contains(type)) return none;
  return (*schemas)[type];
}

}  // namespace

std::string redash_name_key(const std::string& name) {
  std::string out;
  for (unsigned char c : name)
    if (std::isalnum(c) || c >= 0x80) out += static_cast<char>(std::tolower(c));
  return out;
}

RedashHook::RedashHook(RedashHookSettings settings, std::unique_ptr<RedashBackend> backend)
    : settings_(std::move(settings)), backend_(std::move(backend)) {
  state_path_ = redash_state_path(settings_.state_dir, backend_->target());
}

std::string RedashHook::masked(const std::string& s) const {
  return mask_secrets(s, secrets_);
}

void RedashHook::set_rendered_secrets(const std::vector<std::string>& secrets) {
  rendered_secrets_.clear();
  for (const auto& s : secrets) {
    rendered_secrets_.push_back(s);
    // A template that quotes with toJSON prints the secret as a JSON string; the option's
    // value is what that string decodes to.
    json decoded = json::parse(s, nullptr, false);
    if (decoded.is_string()) rendered_secrets_.push_back(decoded.get<std::string>());
  }
}

// The type's secret options, and any option whose rendered value holds a Vault secret.
std::set<std::string> RedashHook::secret_keys(const RedashEntry& e, const json& schema) const {
  std::set<std::string> keys = redash_secret_keys(e.type, schema, e.options);
  for (auto it = e.options.begin(); it != e.options.end(); ++it) {
    if (!it->is_string()) continue;
    const std::string& value = it->get_ref<const std::string&>();
    for (const auto& secret : rendered_secrets_) {
      if (!secret.empty() && value.find(secret) != std::string::npos) {
        keys.insert(it.key());
        break;
      }
    }
  }
  return keys;
}

PlanEntry RedashHook::plan_entry(const RedashEntry& e, const std::vector<RemoteDatasource>& remote,
                                 const std::optional<json>& schemas, const RedashState& st,
                                 Prepared& prep) {
  PlanEntry pe;
  pe.name = e.name;
  std::vector<const RemoteDatasource*> matches;
  for (const auto& r : remote)
    if (r.name == e.name) matches.push_back(&r);
  if (matches.size() > 1) {
    std::vector<std::string> ids;
    for (const auto* m : matches) ids.push_back(std::to_string(m->id));
    pe.action = PlanAction::Refused;
    pe.reason = "the name matches " + std::to_string(matches.size()) +
                " datasources in Redash (ids " + join(ids, ", ") +
                "); rename or delete all but one";
    return pe;
  }
  if (schemas && !schemas->contains(e.type)) {
    std::vector<std::string> known;
    for (auto it = schemas->begin(); it != schemas->end(); ++it) known.push_back(it.key());
    pe.action = PlanAction::Refused;
    pe.reason =
        "type \"" + e.type + "\" is not enabled in this Redash (it has: " + join(known, ", ") + ")";
    return pe;
  }
  if (!matches.empty() && matches[0]->type != e.type) {
    pe.action = PlanAction::Refused;
    pe.reason = "type differs: Redash has \"" + matches[0]->type + "\" (id " +
                std::to_string(matches[0]->id) + "), the file says \"" + e.type +
                "\"; templet never changes a datasource's type";
    return pe;
  }
  const json& schema = schema_for(schemas, e.type);
  if (std::string bad = validate_redash_options(e.options, schema, prep.secret_keys);
      !bad.empty()) {
    pe.action = PlanAction::Refused;
    pe.reason = "options invalid for type " + e.type + ": " + masked(bad);
    return pe;
  }
  if (matches.empty()) {
    if (!settings_.create_missing) {
      pe.action = PlanAction::Refused;
      pe.reason = "not in Redash, and create_missing is off";
      return pe;
    }
    // The script templet replaces only edited, so a name that differs from Redash's by case,
    // a space or punctuation was skipped there; here it would create a second datasource. On
    // the first apply to this Redash such a create is refused; once state exists it is a
    // deliberate choice.
    if (!st.exists)
      for (const auto& r : remote)
        if (redash_name_key(r.name) == redash_name_key(e.name)) {
          pe.action = PlanAction::Refused;
          pe.reason = "no datasource has this exact name; did you mean \"" + r.name +
                      "\"? (names match byte for byte; on a first apply templet does not create "
                      "a near match)";
          return pe;
        }
    pe.action = PlanAction::Create;
    std::vector<std::string> keys;
    for (auto it = e.options.begin(); it != e.options.end(); ++it)
      keys.push_back(it.key() + (prep.secret_keys.count(it.key()) ? " (secret)" : ""));
    pe.details.push_back("type: " + e.type);
    pe.details.push_back("options: " + (keys.empty() ? std::string("(none)") : join(keys, ", ")));
    plan_groups(e, nullptr, nullptr, prep, pe);
    return pe;
  }

  const RemoteDatasource& m = *matches[0];
  prep.remote = m;
  json stored;
  try {
    stored = backend_->options(m);
  } catch (const RedashUnavailable&) {
    throw;
  } catch (const RedashError& err) {
    pe.action = PlanAction::Refused;
    pe.reason = "cannot read its options: " + masked(err.what());
    return pe;
  }
  if (!stored.is_object()) stored = json::object();
  auto rec = st.datasources.find(m.id);
  const RedashStateRecord* record = rec == st.datasources.end() ? nullptr : &rec->second;
  std::set<std::string> keys;
  for (auto it = e.options.begin(); it != e.options.end(); ++it) keys.insert(it.key());
  for (auto it = stored.begin(); it != stored.end(); ++it) keys.insert(it.key());
  for (const auto& k : keys) {
    const bool r = e.options.contains(k), s = stored.contains(k);
    const bool secret = prep.secret_keys.count(k) > 0;
    if (r && s) {
      const json& want = e.options[k];
      const json& have = stored[k];
      if (secret && have == kRedashSecretPlaceholder && want != kRedashSecretPlaceholder) {
        if (!record || !record->secrets_known)
          pe.details.push_back(k + ": (secret) unknown");
        else {
          auto d = record->secrets.find(k);
          if (d == record->secrets.end() ||
              d->second != redash_secret_digest(st.digest_key, k, want))
            pe.details.push_back(k + ": (secret) changed");
        }
      } else if (want != have) {
        pe.details.push_back(secret
                                 ? k + ": (secret) changed"
                                 : k + ": " + masked(have.dump()) + " -> " + masked(want.dump()));
      }
    } else if (r) {
      pe.details.push_back(secret ? k + ": (secret) added"
                                  : k + ": (absent) -> " + masked(e.options[k].dump()));
    } else {
      pe.details.push_back(secret ? k + ": (secret) removed"
                                  : k + ": " + masked(stored[k].dump()) + " -> (absent)");
    }
  }
  // Reconciling: Redash masks secrets, so one changed behind templet's back (a restored backup,
  // an edit in the UI) looks unchanged; only the connection test tells, and a failing test
  // sends the current secrets again.
  if (pe.details.empty() && verify_secrets_) {
    std::vector<std::string> masked_keys;
    for (const auto& k : prep.secret_keys)
      if (stored.contains(k) && stored[k] == kRedashSecretPlaceholder) masked_keys.push_back(k);
    if (!masked_keys.empty()) {
      RedashTestResult t = backend_->test(m);
      if (!t.ok)
        for (const auto& k : masked_keys)
          pe.details.push_back(k + ": (secret) fails the connection test: " + masked(t.message));
    }
  }
  if (pe.details.empty() && record && record->test_failed && settings_.test_after_apply)
    pe.details.push_back("connection test: failed after the last apply; sent and tested again");
  prep.options_changed = !pe.details.empty();
  plan_groups(e, &m, record, prep, pe);
  if (pe.action == PlanAction::Refused) return pe;
  pe.action = pe.details.empty() ? PlanAction::Unchanged : PlanAction::Update;
  return pe;
}

namespace {
std::string access(bool view_only) {
  return view_only ? "view only" : "full access";
}
}  // namespace

void RedashHook::plan_groups(const RedashEntry& e, const RemoteDatasource* m,
                             const RedashStateRecord* record, Prepared& prep, PlanEntry& pe) {
  const bool added_before = record && !record->groups_added.empty();
  if (e.groups.empty() && !added_before) return;
  if (!groups_) {
    if (e.groups.empty()) return;
    pe.action = PlanAction::Refused;
    pe.reason = "groups are managed through the API only (manage.py has no group commands)";
    pe.details.clear();
    return;
  }
  std::map<std::string, int64_t> by_name;
  std::map<int64_t, std::string> by_id;
  for (const auto& g : *groups_) {
    by_name.emplace(g.name, g.id);
    by_id[g.id] = g.name;
  }
  std::vector<std::string> details;
  for (const auto& [name, view_only] : e.groups) {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      std::vector<std::string> known;
      for (const auto& g : *groups_) known.push_back(g.name);
      pe.action = PlanAction::Refused;
      pe.reason = "group \"" + name + "\" is not in Redash (it has: " + join(known, ", ") + ")";
      pe.details.clear();
      return;
    }
    prep.groups_wanted[it->second] = view_only;
    if (!m) details.push_back(name + " (" + access(view_only) + ")");
  }
  if (!m) {
    pe.details.push_back("groups: " + join(details, ", "));
    return;
  }
  const std::map<int64_t, bool> now = backend_->memberships(*m);
  for (const auto& [gid, view_only] : prep.groups_wanted) {
    auto have = now.find(gid);
    if (have == now.end())
      pe.details.push_back("group \"" + by_id[gid] + "\": (absent) -> " + access(view_only));
    else if (have->second != view_only)
      pe.details.push_back("group \"" + by_id[gid] + "\": " + access(have->second) + " -> " +
                           access(view_only));
  }
  if (record)
    for (int64_t gid : record->groups_added)
      if (!prep.groups_wanted.count(gid) && now.count(gid)) {
        prep.groups_remove.insert(gid);
        pe.details.push_back("group \"" + (by_id.count(gid) ? by_id[gid] : std::to_string(gid)) +
                             "\": " + access(now.at(gid)) + " -> (absent), added by templet");
      }
}

std::set<int64_t> RedashHook::apply_groups(const Prepared& prep, const RemoteDatasource& ds,
                                           std::set<int64_t> added) {
  if (prep.groups_wanted.empty() && prep.groups_remove.empty()) return added;
  // As Redash has them now: a new datasource is already in the default group.
  const std::map<int64_t, bool> now = backend_->memberships(ds);
  for (const auto& [gid, view_only] : prep.groups_wanted) {
    auto have = now.find(gid);
    if (have == now.end()) {
      backend_->add_to_group(gid, ds);
      added.insert(gid);
      if (view_only) backend_->set_view_only(gid, ds, true);
    } else if (have->second != view_only) {
      backend_->set_view_only(gid, ds, view_only);
    }
  }
  for (int64_t gid : prep.groups_remove) {
    if (now.count(gid)) backend_->remove_from_group(gid, ds);
    added.erase(gid);
  }
  return added;
}

Plan RedashHook::plan(const std::string& rendered, const std::string& file) {
  Plan p;
  p.hook = "redash";
  p.target = backend_->target();
  p.file = file;
  prepared_.clear();
  prepared_file_ = file;
  if (!settings_.error.empty()) {
    p.error = settings_.error;
    return p;
  }
  std::vector<RedashEntry> entries;
  try {
    entries = parse_redash_file(rendered, file, settings_.list_key);
  } catch (const RedashInputError& e) {
    p.error = e.what();  // names file, line and entry; never values
    return p;
  }
  // Secrets known before asking the server (built-in lists and names), so that even its first
  // answers are masked; refined with the server's schemas below.
  secrets_.clear();
  for (const auto& e : entries) {
    auto v = redash_secret_values(e.options, secret_keys(e, json()));
    secrets_.insert(secrets_.end(), v.begin(), v.end());
  }
  backend_->set_secrets(secrets_);
  try {
    std::vector<RemoteDatasource> remote = backend_->list();
    std::optional<json> schemas = backend_->schemas();
    // Without schemas, the type names alone still keep a plan from promising a create of a type
    // Redash does not have.
    if (!schemas)
      if (auto names = backend_->type_names()) {
        schemas = json::object();
        for (const auto& n : *names) (*schemas)[n] = nullptr;
      }
    std::vector<std::set<std::string>> entry_secret_keys;
    for (const auto& e : entries) {
      entry_secret_keys.push_back(secret_keys(e, schema_for(schemas, e.type)));
      auto v = redash_secret_values(e.options, entry_secret_keys.back());
      secrets_.insert(secrets_.end(), v.begin(), v.end());
    }
    backend_->set_secrets(secrets_);
    RedashState st = load_redash_state(state_path_);
    bool need_groups = false;
    for (const auto& e : entries) need_groups = need_groups || !e.groups.empty();
    for (const auto& [id, rec] : st.datasources)
      need_groups = need_groups || !rec.groups_added.empty();
    groups_.reset();
    if (need_groups) groups_ = backend_->groups();
    // Taking over from another node: what this node once sent says nothing of what the server
    // holds now, so every masked secret is unknown (and sent again).
    if (basis_ == PlanBasis::Server)
      for (auto& [id, rec] : st.datasources) rec.secrets_known = false;
    verify_secrets_ = basis_ == PlanBasis::Verify;
    basis_ = PlanBasis::Remembered;
    for (size_t i = 0; i < entries.size(); ++i) {
      Prepared prep;
      prep.entry = entries[i];
      prep.secret_keys = entry_secret_keys[i];
      p.entries.push_back(plan_entry(entries[i], remote, schemas, st, prep));
      prepared_.push_back(std::move(prep));
    }
    if (settings_.prune) {
      std::set<std::string> rendered_names;
      for (const auto& e : entries) rendered_names.insert(e.name);
      for (const auto& r : remote) {
        auto rec = st.datasources.find(r.id);
        if (rec == st.datasources.end() || !rec->second.created) continue;
        if (rendered_names.count(r.name)) continue;
        PlanEntry pe;
        pe.name = r.name;
        pe.action = PlanAction::Delete;
        pe.details.push_back("id " + std::to_string(r.id) +
                             ", created by templet and no longer rendered");
        p.entries.push_back(std::move(pe));
        Prepared prep;
        prep.entry.name = r.name;
        prep.entry.type = r.type;
        prep.remote = r;
        prepared_.push_back(std::move(prep));
      }
    }
  } catch (const RedashError& e) {
    p.entries.clear();
    prepared_.clear();
    p.error = masked(e.what());
  }
  return p;
}

ApplyResult RedashHook::apply(const Plan& plan) {
  ApplyResult result;
  if (!plan.error.empty()) {
    result.error = plan.error;
    return result;
  }
  std::vector<Prepared> prepared = std::move(prepared_);
  prepared_.clear();
  bool same = prepared.size() == plan.entries.size() && plan.file == prepared_file_;
  for (size_t i = 0; same && i < prepared.size(); ++i)
    same = prepared[i].entry.name == plan.entries[i].name;
  if (!same) {
    result.error = "the plan was not made by this hook's last plan() (or was applied already)";
    return result;
  }
  RedashState st = load_redash_state(state_path_);
  try {
    ensure_redash_digest_key(state_path_, st);
  } catch (const std::exception& e) {
    // Digests under an empty key match no later key_id: those secrets count as unknown again.
    spdlog::warn("redash: {} (the next plan cannot tell whether secrets changed)", e.what());
  }
  auto save = [&] {
    try {
      save_redash_state(state_path_, st);
    } catch (const std::exception& e) {
      spdlog::warn("redash: {} (the next plan cannot tell whether secrets changed)", e.what());
    }
  };
  // Once Redash refuses us altogether (key, rights, TLS), the remaining writes are not attempted.
  std::string unavailable;
  for (size_t i = 0; i < plan.entries.size(); ++i) {
    const PlanEntry& pe = plan.entries[i];
    const Prepared& prep = prepared[i];
    ApplyEntry ae;
    ae.name = pe.name;
    if (pe.action == PlanAction::Unchanged) {
      ae.outcome = ApplyOutcome::Unchanged;
      result.entries.push_back(std::move(ae));
      continue;
    }
    if (pe.action == PlanAction::Refused) {
      ae.outcome = ApplyOutcome::Refused;
      ae.message = pe.reason;
      result.entries.push_back(std::move(ae));
      continue;
    }
    if (!unavailable.empty()) {
      ae.outcome = ApplyOutcome::Failed;
      ae.message = "not attempted: " + unavailable;
      result.entries.push_back(std::move(ae));
      continue;
    }
    std::optional<RemoteDatasource> changed;
    try {
      switch (pe.action) {
        case PlanAction::Create: {
          RemoteDatasource r;
          r.id = backend_->create(prep.entry.name, prep.entry.type, prep.entry.options);
          r.name = prep.entry.name;
          r.type = prep.entry.type;
          st.datasources[r.id] = redash_state_record(st.digest_key, r.name, r.type,
                                                     prep.entry.options, prep.secret_keys, true);
          save();
          st.datasources[r.id].groups_added = apply_groups(prep, r, {});
          save();
          ae.outcome = ApplyOutcome::Created;
          ae.message = "id " + std::to_string(r.id);
          changed = r;
          break;
        }
        case PlanAction::Update: {
          const RemoteDatasource& r = *prep.remote;
          auto was = st.datasources.find(r.id);
          const bool known = was != st.datasources.end();
          std::set<int64_t> added = known ? was->second.groups_added : std::set<int64_t>{};
          if (prep.options_changed || !known) {
            if (prep.options_changed) backend_->update(r, prep.entry.type, prep.entry.options);
            bool created = known && was->second.created;
            st.datasources[r.id] =
                redash_state_record(st.digest_key, r.name, prep.entry.type, prep.entry.options,
                                    prep.secret_keys, created);
            st.datasources[r.id].groups_added = added;
            save();
          }
          st.datasources[r.id].groups_added = apply_groups(prep, r, std::move(added));
          save();
          ae.outcome = ApplyOutcome::Updated;
          ae.message = "id " + std::to_string(r.id);
          // Only sent options can change what logs in; a group membership alone is not tested.
          if (prep.options_changed) changed = r;
          break;
        }
        case PlanAction::Delete: {
          backend_->remove(*prep.remote);
          st.datasources.erase(prep.remote->id);
          save();
          ae.outcome = ApplyOutcome::Deleted;
          ae.message = "id " + std::to_string(prep.remote->id);
          break;
        }
        default:
          break;
      }
      if (changed && settings_.test_after_apply) {
        RedashTestResult t = backend_->test(*changed);
        ++result.verified;
        if (!t.ok) ++result.verify_failures;
        if (auto rec = st.datasources.find(changed->id); rec != st.datasources.end()) {
          rec->second.test_failed = !t.ok;
          save();
        }
        if (t.ok) {
          ae.message += "; connection test ok";
        } else {
          ae.outcome = ApplyOutcome::Failed;
          ae.message = std::string(pe.action == PlanAction::Create ? "created" : "updated") + " " +
                       ae.message + ", but the connection test failed: " + masked(t.message);
        }
      }
    } catch (const RedashUnavailable& e) {
      unavailable = masked(e.what());
      ae.outcome = ApplyOutcome::Failed;
      ae.message = unavailable;
    } catch (const RedashError& e) {
      ae.outcome = ApplyOutcome::Failed;
      ae.message = masked(e.what());
    }
    result.entries.push_back(std::move(ae));
  }
  return result;
}

std::unique_ptr<RedashBackend> make_redash_backend(const RedashApplyConfig& config,
                                                   std::string& error,
                                                   std::shared_ptr<HttpClient> http) {
  const auto ready = config.ready_timeout.value_or(std::chrono::minutes(2));
  if (config.mode.value_or(config.container ? "manage_py" : "api") == "manage_py") {
    RedashManageSettings ms;
    ms.command = config.container ? docker_exec_manage_py(*config.container) : config.command;
    ms.target = config.url.value_or("");
    if (ms.command.empty())
      error = "apply.redash mode manage_py needs manage_py: {container: NAME} or a command";
    return make_redash_manage_backend(std::move(ms));
  }
  RedashApiSettings as;
  as.url = config.url.value_or("");
  as.ready_timeout = ready;
  as.forwarded_proto = config.forwarded_proto.value_or("");
  if (config.request_timeout) as.request_timeout = *config.request_timeout;
  if (as.url.empty()) error = "no Redash URL (set url or REDASH_URL)";
  if (config.api_key_file && !config.api_key_file->empty()) {
    as.api_key_source = *config.api_key_file;
    std::ifstream in(*config.api_key_file);
    std::stringstream ss;
    ss << in.rdbuf();
    as.api_key = ss.str();
    while (!as.api_key.empty() && std::isspace(static_cast<unsigned char>(as.api_key.back())))
      as.api_key.pop_back();
    if (!in.is_open()) error = "cannot read the Redash API key file " + *config.api_key_file;
  } else {
    as.api_key_source = config.api_key_env.value_or("REDASH_API_KEY");
    const char* k = std::getenv(as.api_key_source.c_str());
    if (k) as.api_key = k;
  }
  if (error.empty() && as.api_key.empty())
    error = "no Redash API key: " + as.api_key_source + " is empty or unset";
  if (!http) http = make_http_client();
  return make_redash_api_backend(std::move(as), std::move(http));
}

std::unique_ptr<ApplyHook> make_redash_hook(const RedashApplyConfig& config,
                                            const std::string& state_dir,
                                            std::shared_ptr<HttpClient> http) {
  RedashHookSettings s;
  s.list_key = config.list_key.value_or("managed_datasources");
  s.create_missing = config.create_missing.value_or(true);
  s.prune = config.prune.value_or(false);
  s.test_after_apply = config.test_after_apply.value_or(true);
  s.state_dir = state_dir;
  auto backend = make_redash_backend(config, s.error, std::move(http));
  return std::make_unique<RedashHook>(std::move(s), std::move(backend));
}

}  // namespace templet
