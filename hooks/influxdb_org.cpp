// Secrets, buckets and DBRP mappings of an InfluxDB org (see influxdb_org.hpp).
#include "hooks/influxdb_org.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

namespace templet {

using json = nlohmann::json;

namespace {

constexpr int kBucketPage = 100;  // the server's maximum (paging.go MaxPageSize)

struct StoredBucket {
  std::string id, name, type;
  int64_t retention = 0;
};

int64_t retention_of(const json& b) {
  // The first expire rule; none (or everySeconds 0) is forever.
  for (const auto& r : b.value("retentionRules", json::array()))
    if (r.is_object() && r.value("type", "expire") == "expire")
      return r.value("everySeconds", int64_t{0});
  return 0;
}

std::string secret_entry(const std::string& key) {
  return "secret " + key;
}
std::string bucket_entry(const std::string& name) {
  return "bucket " + name;
}
std::string dbrp_entry(const std::string& name) {
  return "dbrp " + name;
}

void add(Plan& plan, std::vector<InfluxOp>& ops, PlanEntry e, InfluxOp op) {
  e.action = op.action;
  e.name = op.name;
  e.reason = op.reason;
  plan.entries.push_back(std::move(e));
  ops.push_back(std::move(op));
}

void plan_secrets(InfluxApi& api, const std::string& org_id, const InfluxOrgWanted& want,
                  const InfluxState& state, Plan& plan, std::vector<InfluxOp>& ops) {
  bool owns_any = std::any_of(state.secrets.begin(), state.secrets.end(), [&](const auto& kv) {
    return kv.second.destination == want.destination;
  });
  if (want.secrets.empty() && !(want.prune && owns_any)) return;
  json j = api.get_json("/api/v2/orgs/" + url_escape(org_id) + "/secrets");
  std::set<std::string> stored;
  for (const auto& k : j.value("secrets", json::array()))
    if (k.is_string()) stored.insert(k.get<std::string>());
  for (const auto& [key, value] : want.secrets) {
    InfluxOp op;
    op.kind = InfluxOp::Kind::Secret;
    op.name = secret_entry(key);
    op.key = key;
    op.value = value;
    PlanEntry e;
    auto rec = state.secrets.find(key);
    const bool known =
        rec != state.secrets.end() && !rec->second.digest.empty() && !state.digest_key.empty();
    if (!stored.count(key)) {
      op.action = PlanAction::Create;
      e.details.push_back("value: (secret) new");
    } else if (!known) {
      // InfluxDB never shows the value: what templet did not send itself is sent once.
      op.action = PlanAction::Update;
      e.details.push_back("value: (secret) unknown");
    } else if (rec->second.digest != influx_secret_digest(state.digest_key, key, value)) {
      op.action = PlanAction::Update;
      e.details.push_back("value: (secret) changed");
    } else {
      op.action = PlanAction::Unchanged;
    }
    add(plan, ops, std::move(e), std::move(op));
  }
  if (!want.prune) return;
  for (const auto& [key, rec] : state.secrets) {
    if (rec.destination != want.destination || want.secrets.count(key)) continue;
    InfluxOp op;
    op.kind = InfluxOp::Kind::Secret;
    op.name = secret_entry(key);
    op.key = key;
    PlanEntry e;
    if (stored.count(key)) {
      op.action = PlanAction::Delete;
      e.details.push_back("set by templet, no longer configured");
    } else {
      op.action = PlanAction::Unchanged;  // already gone: only the state forgets it
      op.forget = true;
    }
    add(plan, ops, std::move(e), std::move(op));
  }
}

std::vector<StoredBucket> list_buckets(InfluxApi& api, const std::string& org_id) {
  std::vector<StoredBucket> out;
  for (const auto& b :
       api.list_all("/api/v2/buckets?orgID=" + url_escape(org_id), "buckets", kBucketPage))
    if (b.is_object())
      out.push_back(
          {b.value("id", ""), b.value("name", ""), b.value("type", "user"), retention_of(b)});
  return out;
}

void plan_buckets(const InfluxOrgWanted& want, const InfluxState& state,
                  const std::vector<StoredBucket>& stored, Plan& plan, std::vector<InfluxOp>& ops) {
  std::set<std::string> seen;
  for (const auto& spec : want.buckets) {
    InfluxOp op;
    op.kind = InfluxOp::Kind::Bucket;
    op.name = bucket_entry(spec.name);
    op.key = spec.name;
    op.retention_seconds = std::chrono::duration_cast<std::chrono::seconds>(spec.retention).count();
    PlanEntry e;
    auto it = std::find_if(stored.begin(), stored.end(),
                           [&](const StoredBucket& b) { return b.name == spec.name; });
    if (!seen.insert(spec.name).second) {
      op.action = PlanAction::Refused;
      op.reason = "listed twice in apply.influxdb.buckets";
    } else if (it == stored.end()) {
      op.action = PlanAction::Create;
      e.details.push_back("retention: " + influx_retention_text(op.retention_seconds));
    } else if (it->retention != op.retention_seconds) {
      op.action = PlanAction::Update;
      op.bucket_id = it->id;
      e.details.push_back("retention: " + influx_retention_text(it->retention) + " -> " +
                          influx_retention_text(op.retention_seconds) + " (bucket " + it->id + ")");
    } else {
      op.action = PlanAction::Unchanged;
    }
    add(plan, ops, std::move(e), std::move(op));
  }
  if (!want.prune) return;
  for (const auto& [bucket_name, dest] : state.buckets) {
    if (dest != want.destination || seen.count(bucket_name)) continue;
    const std::string& name = bucket_name;  // a lambda may not capture a structured binding (C++17)
    auto it = std::find_if(stored.begin(), stored.end(),
                           [&](const StoredBucket& b) { return b.name == name; });
    InfluxOp op;
    op.kind = InfluxOp::Kind::Bucket;
    op.name = bucket_entry(name);
    op.key = name;
    PlanEntry e;
    if (it != stored.end()) {
      op.action = PlanAction::Delete;
      op.bucket_id = it->id;
      e.details.push_back("bucket " + it->id + ", created by templet, no longer configured");
    } else {
      op.action = PlanAction::Unchanged;  // already gone: only the state forgets it
      op.forget = true;
    }
    add(plan, ops, std::move(e), std::move(op));
  }
}

void plan_dbrps(InfluxApi& api, const std::string& org_id, const InfluxOrgWanted& want,
                const std::vector<StoredBucket>& stored, Plan& plan, std::vector<InfluxOp>& ops) {
  if (!want.dbrp) return;
  const InfluxDbrpSpec& spec = *want.dbrp;
  // The buckets there will be: those stored, and those this apply creates (no id yet).
  std::vector<StoredBucket> buckets = stored;
  for (const auto& b : want.buckets)
    if (std::none_of(buckets.begin(), buckets.end(),
                     [&](const StoredBucket& s) { return s.name == b.name; }))
      buckets.push_back({"", b.name, "user", 0});
  std::vector<std::string> targets;
  if (spec.all) {
    for (const auto& b : buckets)
      if (b.type != "system") targets.push_back(b.name);
    std::sort(targets.begin(), targets.end());
  } else {
    targets = spec.names;
  }
  if (targets.empty()) return;
  json j = api.get_json("/api/v2/dbrps?orgID=" + url_escape(org_id));
  std::vector<json> physical;
  for (const auto& m : j.value("content", json::array()))
    if (m.is_object() && !m.value("virtual", false)) physical.push_back(m);
  std::set<std::string> seen;
  for (const auto& name : targets) {
    if (!seen.insert(name).second) continue;
    InfluxOp op;
    op.kind = InfluxOp::Kind::Dbrp;
    op.name = dbrp_entry(name);
    op.key = name;
    op.retention_policy = spec.default_rp;
    PlanEntry e;
    auto b = std::find_if(buckets.begin(), buckets.end(),
                          [&](const StoredBucket& s) { return s.name == name; });
    auto taken = std::find_if(physical.begin(), physical.end(), [&](const json& m) {
      return m.value("database", "") == name && m.value("retention_policy", "") == spec.default_rp;
    });
    if (b == buckets.end()) {
      op.action = PlanAction::Refused;
      op.reason = "no bucket named \"" + name + "\" in the organization";
    } else if (!b->id.empty() && std::any_of(physical.begin(), physical.end(), [&](const json& m) {
                 return m.value("bucketID", "") == b->id;
               })) {
      op.action = PlanAction::Unchanged;  // a bucket with any physical mapping is left alone
    } else if (taken != physical.end()) {
      op.action = PlanAction::Refused;
      op.reason = "database \"" + name + "\" retention policy \"" + spec.default_rp +
                  "\" is already mapped to bucket " + taken->value("bucketID", "");
    } else {
      op.action = PlanAction::Create;
      op.bucket_id = b->id;
      e.details.push_back("database: " + name + ", retention_policy: " + spec.default_rp +
                          ", default: true");
    }
    add(plan, ops, std::move(e), std::move(op));
  }
}

ApplyEntry outcome(const std::string& name, ApplyOutcome o, const std::string& message = "") {
  ApplyEntry e;
  e.name = name;
  e.outcome = o;
  e.message = message;
  return e;
}

}  // namespace

std::string influx_retention_text(int64_t seconds) {
  if (seconds == 0) return "forever";
  if (seconds % 3600 == 0) return std::to_string(seconds / 3600) + "h";
  return std::to_string(seconds) + "s";
}

void plan_influx_org(InfluxApi& api, const std::string& org_id, const InfluxOrgWanted& want,
                     const InfluxState& state, Plan& plan, std::vector<InfluxOp>& ops) {
  plan_secrets(api, org_id, want, state, plan, ops);
  bool owns_buckets = std::any_of(state.buckets.begin(), state.buckets.end(),
                                  [&](const auto& kv) { return kv.second == want.destination; });
  if (want.buckets.empty() && !want.dbrp && !(want.prune && owns_buckets)) return;
  std::vector<StoredBucket> stored = list_buckets(api, org_id);
  plan_buckets(want, state, stored, plan, ops);
  plan_dbrps(api, org_id, want, stored, plan, ops);
}

ApplyEntry apply_influx_org_op(InfluxApi& api, const std::string& org_id, const InfluxOp& op,
                               const std::string& destination, InfluxState& state,
                               std::map<std::string, std::string>& created_buckets) {
  if (op.action == PlanAction::Refused) return outcome(op.name, ApplyOutcome::Refused, op.reason);
  const std::string org_path = "/api/v2/orgs/" + url_escape(org_id);
  if (op.action == PlanAction::Unchanged) {
    if (op.forget && op.kind == InfluxOp::Kind::Secret) state.secrets.erase(op.key);
    if (op.forget && op.kind == InfluxOp::Kind::Bucket) state.buckets.erase(op.key);
    if (!op.forget && op.kind == InfluxOp::Kind::Secret)
      state.secrets[op.key].destination = destination;
    return outcome(op.name, ApplyOutcome::Unchanged);
  }
  HttpRequest req;
  bool deleting = op.action == PlanAction::Delete;
  switch (op.kind) {
    case InfluxOp::Kind::Secret:
      req = deleting ? api.request("DELETE", org_path + "/secrets/" + url_escape(op.key))
                     : api.request("PATCH", org_path + "/secrets", json{{op.key, op.value}});
      break;
    case InfluxOp::Kind::Bucket:
      if (deleting) {
        req = api.request("DELETE", "/api/v2/buckets/" + url_escape(op.bucket_id));
      } else {
        json rules = json::array({{{"type", "expire"}, {"everySeconds", op.retention_seconds}}});
        req = op.action == PlanAction::Create
                  ? api.request("POST", "/api/v2/buckets",
                                {{"orgID", org_id}, {"name", op.key}, {"retentionRules", rules}})
                  : api.request("PATCH", "/api/v2/buckets/" + url_escape(op.bucket_id),
                                {{"retentionRules", rules}});
      }
      break;
    case InfluxOp::Kind::Dbrp: {
      std::string bucket_id = op.bucket_id;
      if (bucket_id.empty()) {
        auto it = created_buckets.find(op.key);
        if (it == created_buckets.end())
          return outcome(op.name, ApplyOutcome::Failed,
                         "bucket \"" + op.key + "\" was not created, so it cannot be mapped");
        bucket_id = it->second;
      }
      req = api.request("POST", "/api/v2/dbrps",
                        {{"orgID", org_id},
                         {"bucketID", bucket_id},
                         {"database", op.key},
                         {"retention_policy", op.retention_policy},
                         {"default", true}});
      break;
    }
    case InfluxOp::Kind::Task:
      return outcome(op.name, ApplyOutcome::Failed, "not an org resource");
  }
  HttpResponse resp = api.send(req);
  if (resp.status >= 300 && !(deleting && resp.status == 404))
    return outcome(op.name, ApplyOutcome::Failed, api.describe_failure(req, resp));
  std::string message;
  switch (op.kind) {
    case InfluxOp::Kind::Secret:
      if (deleting) {
        state.secrets.erase(op.key);
      } else {
        state.secrets[op.key] = {influx_secret_digest(state.digest_key, op.key, op.value),
                                 destination};
      }
      break;
    case InfluxOp::Kind::Bucket:
      if (deleting) {
        state.buckets.erase(op.key);
        message = "bucket " + op.bucket_id;
      } else if (op.action == PlanAction::Create) {
        std::string id;
        try {
          id = json::parse(resp.body).value("id", "");
        } catch (const json::exception&) {
        }
        created_buckets[op.key] = id;
        state.buckets[op.key] = destination;
        message = "bucket " + id;
      } else {
        message = "bucket " + op.bucket_id;
      }
      break;
    case InfluxOp::Kind::Dbrp:
      try {
        message = "mapping " + json::parse(resp.body).value("id", std::string("?"));
      } catch (const json::exception&) {
      }
      break;
    case InfluxOp::Kind::Task:
      break;
  }
  ApplyOutcome o = deleting                          ? ApplyOutcome::Deleted
                   : op.action == PlanAction::Create ? ApplyOutcome::Created
                                                     : ApplyOutcome::Updated;
  return outcome(op.name, o, message);
}

}  // namespace templet
