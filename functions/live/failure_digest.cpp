// FailureDigest (see failure_digest.hpp).
#include "functions/live/failure_digest.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

namespace templet::live {

bool FailureDigest::failed(const std::string& cause, const std::string& id, TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = cause_of_.find(id); it != cause_of_.end() && it->second != cause) {
    auto old = causes_.find(it->second);
    if (old != causes_.end()) {
      old->second.ids.erase(id);
      if (old->second.ids.empty()) causes_.erase(old);
    }
  }
  cause_of_[id] = cause;
  Cause& c = causes_[cause];
  c.ids.insert(id);
  if (c.ids.size() > 1 && !c.shared) {
    c.shared = true;
    c.since = now;
  }
  return !c.shared;
}

void FailureDigest::recovered(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cause_of_.find(id);
  if (it == cause_of_.end()) return;
  auto c = causes_.find(it->second);
  if (c != causes_.end()) {
    c->second.ids.erase(id);
    if (c->second.ids.empty()) causes_.erase(c);
  }
  cause_of_.erase(it);
}

std::optional<TimePoint> FailureDigest::flush(TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<TimePoint> next;
  for (auto& [cause, c] : causes_) {
    if (!c.shared || c.summarized) continue;
    if (now < c.since + window_) {
      if (!next || c.since + window_ < *next) next = c.since + window_;
      continue;
    }
    c.summarized = true;
    spdlog::warn("{}: {} dependencies affected (their failures are counted, not logged one by one)",
                 cause, c.ids.size());
  }
  return next;
}

void warn_if_descriptors_short(long consul_queries, long& warned) {
  // Beyond one per Consul query: the log, the status socket, kept-alive idle connections,
  // libraries' own.
  constexpr long kSpare = 64;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return;
  long need = consul_queries + kSpare;
  // Said once, and again only when the need has grown by a tenth: watching starts template by
  // template, so the count climbs through the first pass.
  if (need <= static_cast<long>(limit.rlim_cur) || (warned > 0 && need < warned + warned / 10))
    return;
  warned = need;
  spdlog::warn(
      "live: {} Consul queries need about {} open descriptors (one each, plus {}); the limit is "
      "{} (ulimit -n, LimitNOFILE=): raise it, or queries will fail with 'Too many open files'",
      consul_queries, need, kSpare, static_cast<long>(limit.rlim_cur));
}

}  // namespace templet::live
