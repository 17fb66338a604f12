// Watcher (see watcher.hpp): the per-dependency schedule.
//
// Vault renewable leases: renew at 2/3 r + 1/3 grace; when Vault caps the renewal, stops being
// renewable, refuses it, or r <= 4 * grace, fetch new credentials before the old ones expire.
// Non-renewable: re-read at 85-95 %. Failures back off per RetryPolicy and never give up on a
// still-valid lease early. Every lease action is logged with the remaining time; ids are masked.
#include "functions/live/watcher.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "functions/live/mask.hpp"

namespace templet::live {

namespace {

long long secs(std::chrono::system_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

}  // namespace

Watcher::Watcher(Dependency dep, WatchContext& ctx, WatchSink& sink,
                 std::optional<LeaseRecord> restored)
    : dep_(std::move(dep)), ctx_(ctx), sink_(sink) {
  if (!restored) return;
  TimePoint now = ctx_.clock->now();
  lease_ = std::move(restored);
  if (lease_->renewable && !lease_->lease_id.empty()) {
    // Renew at once: it proves the lease survived our absence (else "lease not found": re-fetch).
    grace_ = renew_grace(Ms(lease_->duration_s * 1000), rand());
    action_ = Action::Renew;
    first_due_ = now;
  } else {
    nlohmann::json j = nlohmann::json::parse(lease_->response.body, nullptr, false);
    Ms wait{0};
    try {
      wait = nonrenewable_wait(j, lease_->issued_at, ctx_.timing, rand());
    } catch (const FetchError&) {
    }
    first_due_ = std::max(now, lease_->issued_at + wait);
  }
  if (!lease_->token_accessor.empty()) {
    // Is its token still ours? Asked at the first step, before the lease is trusted (or shown
    // to a render: a --once run would otherwise write credentials that die with that token).
    check_restored_ = true;
    restored_due_ = first_due_;
    first_due_ = now;
  } else {
    sink_.put(dep_.id, lease_->response);
  }
  spdlog::info("{}: reusing stored {} ({}s left)", dep_.id, mask_lease_id(lease_->lease_id),
               secs(lease_->expires_at - now));
}

std::optional<LeaseRecord> Watcher::lease() const {
  std::lock_guard<std::mutex> lock(lease_mu_);
  return lease_;
}

std::vector<std::pair<std::string, TimePoint>> Watcher::superseded_leases() const {
  std::lock_guard<std::mutex> lock(lease_mu_);
  std::vector<std::pair<std::string, TimePoint>> out;
  for (const auto& s : superseded_) out.emplace_back(s.lease_id, s.expires_at);
  return out;
}

TimePoint Watcher::step() {
  TimePoint now = ctx_.clock->now();
  bool woken = urgent_.exchange(false);
  bool refresh = refresh_.exchange(false);
  bool vault = dep_.type == DepType::VaultRead || dep_.type == DepType::VaultWrite;
  if (refresh && (vault || dep_.type == DepType::VaultList)) {
    spdlog::info("{}: fetching anew (refresh asked)", dep_.id);
    action_ = Action::Fetch;
  } else if (refresh && dep_.type == DepType::VaultPki) {
    spdlog::info("{}: issuing a new certificate (refresh asked)", dep_.id);
  } else if (refresh && dep_.type == DepType::File) {
    file_mtime_ns_ = -2;
  } else if (woken && now < scheduled_ &&
             (!vault || !ctx_.vault || parent_token_reason(now, false).empty())) {
    return scheduled_;  // nothing to do before the planned time
  }
  switch (dep_.type) {
    case DepType::VaultRead:
    case DepType::VaultWrite:
      scheduled_ = vault_step(now);
      break;
    case DepType::VaultList:
      scheduled_ = vault_list_step(now);
      break;
    case DepType::File:
      scheduled_ = file_step(now);
      break;
    case DepType::InfluxBuckets:
      scheduled_ = influx_step(now);
      break;
    case DepType::VaultPki:
      scheduled_ = pki_step(now, refresh);
      break;
    case DepType::Interfaces:
      scheduled_ = interfaces_step(now);
      break;
    default:
      scheduled_ = consul_step(now);
  }
  return scheduled_;
}

std::string Watcher::parent_token_reason(TimePoint now, bool ask) {
  std::optional<LeaseRecord> rec = lease();
  if (!rec || rec->token_accessor.empty() || rec->response.status != 200) return "";
  TokenIdentity cur = ask ? ctx_.vault->identity() : ctx_.vault->known_identity();
  if (!cur.known() || cur.accessor == rec->token_accessor) return "";
  if (rec->token_expires_at.time_since_epoch().count() == 0)
    return "its parent token is no longer the current one";
  long long left = secs(rec->token_expires_at - now);
  if (left <= 0) return "its parent token has expired";
  return "parent token expires in " + std::to_string(left) + "s";
}

TimePoint Watcher::failed(const FetchError& error, const RetryPolicy& policy) {
  const auto* v = dynamic_cast<const VaultError*>(&error);
  if (v && v->policy_denied && last_denied_ == error.what()) {
    // Reported once (VaultClient's "permission denied by policy" and the first retry line);
    // the retries go on quietly on the normal backoff.
    ++failures_;
    Ms delay = policy.delay(failures_ - 1, ctx_.random);
    sink_.fail(dep_.id, error.what(), policy.exhausted(failures_));
    spdlog::debug("{}: {} (retry {} in {}ms)", dep_.id, error.what(), failures_, delay.count());
    return ctx_.clock->now() + delay;
  }
  if (v && v->policy_denied) last_denied_ = error.what();
  if (!error.cause.empty() && ctx_.digest &&
      !ctx_.digest->failed(error.cause, dep_.id, ctx_.clock->now())) {
    // Counted with the other dependencies this cause hits (FailureDigest), not logged.
    ++failures_;
    Ms delay = policy.delay(failures_ - 1, ctx_.random);
    if (error.retry_after && *error.retry_after > delay)
      delay = std::min(*error.retry_after, policy.longest_wait_asked());
    sink_.fail(dep_.id, error.what(), policy.exhausted(failures_));
    ctx_.digest->flush(ctx_.clock->now());
    return ctx_.clock->now() + delay;
  }
  return failed(error.what(), policy, error.retry_after);
}

TimePoint Watcher::failed(const std::string& message, const RetryPolicy& policy,
                          std::optional<Ms> asked) {
  // Measured from now, after the failed request: a request that timed out after 60 s must not
  // have used up the backoff, or a slow server would be retried back to back.
  const TimePoint now = ctx_.clock->now();
  ++failures_;
  bool gave_up = policy.exhausted(failures_);
  Ms delay = policy.delay(failures_ - 1, ctx_.random);
  // A server shedding load (Vault's rate-limit quotas) says when to come back; coming back
  // sooner only earns another 429. A bound keeps a wild value from starving a lease.
  bool as_asked = asked && *asked > delay;
  if (as_asked) delay = std::min(*asked, policy.longest_wait_asked());
  if (gave_up)
    spdlog::error("{}: {} (giving up after {} attempts)", dep_.id, message, failures_);
  else
    spdlog::warn("{}: {} (retry {} in {}ms{})", dep_.id, message, failures_, delay.count(),
                 as_asked ? ", as its Retry-After asks" : "");
  sink_.fail(dep_.id, message, gave_up);
  return now + delay;
}

// ---- Consul ----

std::optional<std::uint64_t> Watcher::start_step(std::function<void(TimePoint)> then) {
  if (!ctx_.consul || !consul_dependency(dep_.type)) return std::nullopt;
  // Woken before its time, step() only says when it is due (Consul has nothing to refresh).
  if (urgent_ && ctx_.clock->now() < scheduled_) return std::nullopt;
  urgent_ = false;
  refresh_ = false;
  return ctx_.consul->start_query(
      dep_, index_, [this, then = std::move(then)](ConsulAnswer* ans, ConsulError* err) {
        scheduled_ = err ? failed(*err, ctx_.consul_retry) : consul_answer(*ans);
        then(scheduled_);
      });
}

TimePoint Watcher::consul_step(TimePoint now) {
  if (!ctx_.consul) {
    sink_.fail(dep_.id, dep_.id + ": Consul is not configured", true);
    return now + std::chrono::hours(24);
  }
  ConsulAnswer ans;
  try {
    ans = ctx_.consul->query(dep_, index_);
  } catch (const FetchError& e) {
    return failed(e, ctx_.consul_retry);
  }
  return consul_answer(ans);
}

TimePoint Watcher::consul_answer(const ConsulAnswer& ans) {
  failures_ = 0;
  if (ctx_.digest) ctx_.digest->recovered(dep_.id);
  TimePoint now = ctx_.clock->now();
  Ms gap = ctx_.rate_limit + Ms(static_cast<long long>(ctx_.rate_limit.count() * 0.2 * rand()));
  if (ans.index < index_) {
    // The index went backwards (snapshot restore, deleted keys): start over without blocking,
    // or the next query would wait for an index the server may not reach for a long time.
    spdlog::info("{}: consul index went backwards ({} -> {}); restarting at index 0", dep_.id,
                 index_, ans.index);
    index_ = 0;
    return now;
  }
  bool same = have_data_ && ans.index == index_;
  index_ = ans.index;
  if (same) return now + gap;  // a wait timeout: no news
  if (consul_polled(dep_.type)) {
    // Polled, as consul-template's CatalogDatacentersQuery sleeps 15 s between fetches.
    sink_.put(dep_.id, ans.response);
    have_data_ = true;
    return now + std::chrono::seconds(15);
  }
  if (dep_.type == DepType::KvBlock && ans.response.status == 404)
    return now + gap;  // keep waiting
  sink_.put(dep_.id, ans.response);
  have_data_ = true;
  return now + gap;
}

// ---- Vault ----

TimePoint Watcher::vault_step(TimePoint now) {
  if (!ctx_.vault) {
    sink_.fail(dep_.id, dep_.id + ": Vault is not configured", true);
    return now + std::chrono::hours(24);
  }
  bool restored = check_restored_;
  check_restored_ = false;
  if (std::string why = parent_token_reason(now, restored); !why.empty()) {
    // Vault revokes a token's leases with the token (expiration.go RevokeByToken), renewed or
    // not: new credentials with the current token now, like any rotation; the old lease is
    // left to die with its token.
    std::optional<LeaseRecord> rec = lease();
    spdlog::info("{}: fetching {} anew with the current token: {}{}", dep_.id,
                 mask_lease_id(rec ? rec->lease_id : ""), restored ? "stored lease, " : "", why);
    action_ = Action::Fetch;
    return vault_fetch(now);
  }
  if (restored) {
    std::optional<LeaseRecord> rec = lease();
    if (rec) sink_.put(dep_.id, rec->response);
    if (now < restored_due_) return restored_due_;
  }
  return action_ == Action::Renew ? vault_renew(now) : vault_fetch(now);
}

void Watcher::persist() {
  if (!ctx_.leases || !lease_) return;
  try {
    ctx_.leases->save(*lease_);
  } catch (const std::exception& e) {
    spdlog::warn("{}: cannot persist the lease: {}", dep_.id, e.what());
  }
}

TimePoint Watcher::vault_fetch(TimePoint now) {
  Response resp;
  try {
    resp = dep_.type == DepType::VaultWrite ? ctx_.vault->write(dep_) : ctx_.vault->read(dep_);
  } catch (const FetchError& e) {
    TimePoint next = failed(e, ctx_.vault_retry);
    std::lock_guard<std::mutex> lock(lease_mu_);
    if (lease_ && lease_->expires_at > now)
      spdlog::warn("{}: still serving {} ({}s left)", dep_.id, mask_lease_id(lease_->lease_id),
                   secs(lease_->expires_at - now));
    return next;
  }
  now = ctx_.clock->now();
  nlohmann::json j = nlohmann::json::parse(resp.body, nullptr, false);
  Ms wait;
  try {
    wait = nonrenewable_wait(j, now, ctx_.timing, rand());
  } catch (const FetchError& e) {
    return failed(e, ctx_.vault_retry);
  }
  failures_ = 0;
  last_denied_.clear();
  if (ctx_.digest) ctx_.digest->recovered(dep_.id);
  if (j.is_object() && j.contains("warnings") && j["warnings"].is_array())
    for (const auto& w : j["warnings"])
      if (w.is_string()) spdlog::warn("{}: vault warning: {}", dep_.id, w.get<std::string>());

  LeaseRecord rec;
  rec.identity = dep_.id;
  rec.response = resp;
  rec.issued_at = now;
  rec.lease_id = j.is_object() ? j.value("lease_id", "") : "";
  rec.duration_s = j.is_object() ? declared_lease_seconds(j) : 0;
  rec.renewable = renewable_lease(j);
  rec.expires_at = rec.duration_s > 0 ? now + std::chrono::seconds(rec.duration_s) : now + wait;
  if (!rec.lease_id.empty()) {
    TokenIdentity parent = ctx_.vault->identity();  // at most one lookup-self per token
    rec.token_accessor = parent.accessor;
    rec.token_expires_at = parent.expires_at;
  }

  std::optional<LeaseRecord> old = lease();
  if (old && !old->lease_id.empty() && old->lease_id == rec.lease_id && resp.status == 200)
    return cached_answer(now, *old, rec);
  {
    std::lock_guard<std::mutex> lock(lease_mu_);
    old = lease_;
    if (old && !old->lease_id.empty() && old->lease_id != rec.lease_id) {
      if (ctx_.revoke_superseded) {
        drop_expired_superseded(now);
        superseded_.push_back(Superseded{old->lease_id, old->expires_at});
      }
      spdlog::info("{}: new credentials {} replace {} ({}s left on the old one)", dep_.id,
                   mask_lease_id(rec.lease_id), mask_lease_id(old->lease_id),
                   secs(old->expires_at - now));
    }
    lease_ = rec;
  }
  sink_.put(dep_.id, resp);
  bool keep = resp.status == 200 && (!rec.lease_id.empty() || dep_.type == DepType::VaultWrite);
  if (keep) {
    persist();
  } else if (ctx_.leases && old) {
    ctx_.leases->remove(dep_.id);
  }
  if (resp.status == 200 && rec.renewable) {
    Ms duration(rec.duration_s * 1000);
    grace_ = renew_grace(duration, rand());
    action_ = Action::Renew;
    Ms sleep = renew_sleep(duration, grace_);
    spdlog::info("{}: got {} for {}s; renewing in {}s", dep_.id, mask_lease_id(rec.lease_id),
                 rec.duration_s, secs(sleep));
    return now + sleep;
  }
  action_ = Action::Fetch;
  if (!rec.lease_id.empty())
    spdlog::info("{}: got non-renewable {} for {}s; re-reading in {}s", dep_.id,
                 mask_lease_id(rec.lease_id), rec.duration_s, secs(wait));
  return now + wait;
}

TimePoint Watcher::cached_answer(TimePoint now, const LeaseRecord& old, LeaseRecord rec) {
  // Only a cache (Vault Agent's LeaseCache, command/agentproxyshared/cache/lease_cache.go)
  // answers a fresh read with the lease just given up on, and with its original
  // lease_duration: the time left comes from Vault, or from what was known of the old lease.
  std::optional<long long> ttl;
  try {
    ttl = ctx_.vault->lease_ttl(rec.lease_id);
  } catch (const FetchError&) {
  }
  long long left = ttl ? *ttl : std::max(0LL, secs(old.expires_at - now));
  rec.issued_at = old.issued_at;
  rec.expires_at = now + std::chrono::seconds(left);
  rec.duration_s = old.duration_s;
  rec.token_accessor = old.token_accessor;
  rec.token_expires_at = old.token_expires_at;
  {
    std::lock_guard<std::mutex> lock(lease_mu_);
    lease_ = rec;
  }
  persist();
  // Asked again shortly before it dies, then each second: the cache lets go of a lease once its
  // own renewer gives up, and only then answers with new credentials.
  TimePoint next = left > 3 ? rec.expires_at - std::chrono::seconds(2) : now + Ms(1000);
  spdlog::warn(
      "{}: a cache answered with {} again (Vault Agent's cache?): {}s left{}, not the {}s it "
      "says; asking again in {}s",
      dep_.id, mask_lease_id(rec.lease_id), left, ttl ? " by sys/leases/lookup" : "",
      declared_lease_seconds(nlohmann::json::parse(rec.response.body, nullptr, false)),
      secs(next - now));
  action_ = Action::Fetch;
  return next;
}

TimePoint Watcher::vault_renew(TimePoint now) {
  LeaseRecord rec;
  {
    std::lock_guard<std::mutex> lock(lease_mu_);
    rec = *lease_;
  }
  Ms remaining = std::chrono::duration_cast<Ms>(rec.expires_at - now);
  if (remaining <= Ms(0)) {
    spdlog::warn("{}: {} expired before it could be renewed; fetching new credentials", dep_.id,
                 mask_lease_id(rec.lease_id));
    action_ = Action::Fetch;
    return vault_fetch(now);
  }
  RenewResult r;
  try {
    r = ctx_.vault->renew_lease(rec.lease_id, rec.duration_s);
  } catch (const VaultError& e) {
    if (!e.retryable()) {
      spdlog::warn("{}: renewal of {} refused ({}); fetching new credentials ({}s left)", dep_.id,
                   mask_lease_id(rec.lease_id), e.what(), secs(remaining));
      action_ = Action::Fetch;
      return vault_fetch(now);
    }
    if (renewal_exhausted(remaining, grace_)) {
      spdlog::warn("{}: renewal of {} failed ({}) with {}s left; fetching new credentials", dep_.id,
                   mask_lease_id(rec.lease_id), e.what(), secs(remaining));
      action_ = Action::Fetch;
      return vault_fetch(now);
    }
    TimePoint next = failed(e, ctx_.vault_retry);
    // Never sleep past the point where new credentials must be fetched.
    return std::min(next, rec.expires_at - grace_ * 4);
  }
  failures_ = 0;
  if (ctx_.digest) ctx_.digest->recovered(dep_.id);
  now = ctx_.clock->now();
  Ms left(r.lease_seconds * 1000);
  {
    std::lock_guard<std::mutex> lock(lease_mu_);
    lease_->expires_at = now + left;
    lease_->capped = r.capped;
    rec = *lease_;
  }
  persist();
  spdlog::info("{}: renewed {}: {}s left{}", dep_.id, mask_lease_id(rec.lease_id), r.lease_seconds,
               r.capped ? " (capped by the max TTL)" : "");
  if (r.lease_seconds <= 0 || renewal_exhausted(left, grace_)) {
    spdlog::info("{}: {} is near its max TTL; fetching new credentials", dep_.id,
                 mask_lease_id(rec.lease_id));
    action_ = Action::Fetch;
    return vault_fetch(now);
  }
  if (r.capped || !r.renewable) {
    // No renewal will extend it: fetch new credentials 4 x grace before it expires.
    action_ = Action::Fetch;
    TimePoint at = rec.expires_at - grace_ * 4;
    spdlog::info("{}: {} cannot be extended; new credentials in {}s", dep_.id,
                 mask_lease_id(rec.lease_id), secs(at - now));
    return at;
  }
  return now + renew_sleep(left, grace_);
}

TimePoint Watcher::vault_list_step(TimePoint now) {
  if (!ctx_.vault) {
    sink_.fail(dep_.id, dep_.id + ": Vault is not configured", true);
    return now + std::chrono::hours(24);
  }
  Response resp;
  try {
    resp = ctx_.vault->list(dep_);
  } catch (const FetchError& e) {
    return failed(e, ctx_.vault_retry);
  }
  failures_ = 0;
  if (ctx_.digest) ctx_.digest->recovered(dep_.id);
  sink_.put(dep_.id, resp);
  // Up to 10 % early, so that the lists a fleet reads do not come due at the same instant.
  auto spread = std::chrono::duration_cast<Ms>(ctx_.timing.default_lease * (0.1 * rand()));
  return ctx_.clock->now() + ctx_.timing.default_lease - spread;
}

void Watcher::drop_expired_superseded(TimePoint now) {
  std::erase_if(superseded_, [&](const Superseded& old) {
    if (old.expires_at > now) return false;
    spdlog::info("{}: superseded {} expired before it could be revoked", dep_.id,
                 mask_lease_id(old.lease_id));
    return true;
  });
}

bool Watcher::release_superseded(const std::set<std::string>& held) {
  std::lock_guard<std::mutex> lock(lease_mu_);
  drop_expired_superseded(ctx_.clock->now());
  // A lease fetched while the loop was writing is current, not superseded: it is never revoked
  // here. One superseded after the files were written is still held by them and stays.
  bool queued = false;
  std::erase_if(superseded_, [&](Superseded& old) {
    if (held.count(old.lease_id)) return false;
    to_revoke_.push_back(std::move(old.lease_id));
    queued = true;
    return true;
  });
  return queued;
}

int Watcher::revoke_pending() {
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> lock(lease_mu_);
    ids.swap(to_revoke_);
  }
  int done = 0;
  for (const auto& id : ids) {
    try {
      if (!ctx_.vault->revoke_lease(id)) continue;  // revoking is off (the policy denies it)
      spdlog::info("{}: revoked superseded {}", dep_.id, mask_lease_id(id));
      ++done;
    } catch (const FetchError& e) {
      spdlog::warn("{}: could not revoke superseded {}: {}", dep_.id, mask_lease_id(id), e.what());
    }
  }
  return done;
}

// ---- file ----

TimePoint Watcher::file_step(TimePoint now) {
  struct stat st {};
  if (::stat(dep_.target.c_str(), &st) != 0) {
    if (file_mtime_ns_ != -1)
      sink_.fail(dep_.id, "file: stat " + dep_.target + ": no such file or directory", true);
    file_mtime_ns_ = -1;
    file_size_ = -1;
    return now + ctx_.file_poll;
  }
  long long mtime = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
  if (mtime != file_mtime_ns_ || static_cast<long long>(st.st_size) != file_size_) {
    std::ifstream in(dep_.target, std::ios::binary);
    if (!in) {
      sink_.fail(dep_.id, "file: open " + dep_.target + ": permission denied", true);
      return now + ctx_.file_poll;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    file_mtime_ns_ = mtime;
    file_size_ = static_cast<long long>(st.st_size);
    sink_.put(dep_.id, Response{200, ss.str()});
  }
  return now + ctx_.file_poll;
}

}  // namespace templet::live
