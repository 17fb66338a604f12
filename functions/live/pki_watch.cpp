// Watcher::pki_step (see watcher.hpp): pkiCert's schedule, as consul-template's
// VaultPKIQuery.Fetch (dependency/vault_pki.go) runs it.
//
// Each step reads the destination first. A certificate there that is still good (not expired,
// and before notBefore + vault.lease_renewal_threshold of its lifetime, pki::good_for) is handed
// to the renders as the file holds it, and the next step is at its renewal point. Otherwise a new
// one is issued through pki/issue/ROLE and handed over, next step at its renewal point. The file
// is read here, by the dependency that names it, and not by the render: rendering stays a pure
// function of the snapshot, and a restart reuses what the last run wrote instead of issuing a
// certificate per start (consul-template's reason for reading its destination).
//
// No lease is kept: an issue answer has none unless the role sets generate_lease, and even then
// templet never renews, persists or revokes it (revoking would revoke the certificate the file
// still serves; revoke_superseded only sees leases of secret reads and writes). The destination
// is what survives a restart.
//
// Deviation: a destination whose certificate block does not parse is not "good" and a new
// certificate is issued (with a warning); consul-template fails the fetch until the file is fixed.
#include <spdlog/spdlog.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "functions/live/watcher.hpp"
#include "functions/pem_bundle.hpp"

namespace templet::live {

namespace {

int64_t unix_ms(TimePoint t) {
  return std::chrono::duration_cast<Ms>(t.time_since_epoch()).count();
}

TimePoint at_ms(int64_t ms) {
  return TimePoint(std::chrono::duration_cast<SysClock::duration>(Ms(ms)));
}

bool read_text(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

long long secs_between(int64_t from_ms, int64_t to_ms) {
  return (to_ms - from_ms) / 1000;
}

}  // namespace

TimePoint Watcher::pki_step(TimePoint now, bool issue_anew) {
  if (!ctx_.vault) {
    sink_.fail(dep_.id, dep_.id + ": Vault is not configured", true);
    return now + std::chrono::hours(24);
  }
  const double threshold = ctx_.timing.threshold;
  std::string text;
  if (!issue_anew && !dep_.destination.empty() && read_text(dep_.destination, text)) {
    try {
      pki::PemBundle kept = pki::parse_pems(text);
      const int64_t now_ms = unix_ms(now);
      if (kept.leaf && pki::good_for(*kept.leaf, now_ms, threshold)) {
        const int64_t due = pki::renewal_point_ms(*kept.leaf, threshold);
        failures_ = 0;
        sink_.put(dep_.id, Response{200, std::move(text)});
        spdlog::info("{}: keeping the certificate in {} ({}s left); renewing in {}s", dep_.id,
                     dep_.destination, secs_between(now_ms, kept.leaf->not_after * 1000),
                     secs_between(now_ms, due));
        return at_ms(due);
      }
    } catch (const x509::CertError& e) {
      spdlog::warn("{}: {} holds no usable certificate ({}); issuing a new one", dep_.id,
                   dep_.destination, e.what());
    }
  }

  Response resp;
  try {
    resp = ctx_.vault->issue(dep_);
  } catch (const FetchError& e) {
    return failed(e, ctx_.vault_retry);
  }
  nlohmann::json j = nlohmann::json::parse(resp.body, nullptr, false);
  if (j.is_object() && j.contains("warnings") && j["warnings"].is_array())
    for (const auto& w : j["warnings"])
      if (w.is_string()) spdlog::warn("{}: vault warning: {}", dep_.id, w.get<std::string>());
  std::string pems = pki::issue_answer_pems(j);
  if (resp.status != 200 || pems.empty())
    return failed(dep_.id + ": no secret exists at " + dep_.target, ctx_.vault_retry);
  pki::PemBundle fresh;
  try {
    fresh = pki::parse_pems(pems);
  } catch (const x509::CertError& e) {
    return failed(dep_.id + ": " + e.what(), ctx_.vault_retry);
  }
  if (!fresh.leaf)
    return failed(dep_.id + ": the answer of " + dep_.target + " holds no certificate",
                  ctx_.vault_retry);
  failures_ = 0;
  last_denied_.clear();
  sink_.put(dep_.id, Response{200, std::move(pems)});
  const int64_t now_ms = unix_ms(ctx_.clock->now());
  const int64_t due = pki::renewal_point_ms(*fresh.leaf, threshold);
  if (due <= now_ms) {
    // Its renewal point has passed already (a ttl shorter than the clocks' disagreement): it
    // is served, and a new one asked for on the retry schedule, as consul-template's fetch
    // fails with "needs renewal".
    return failed(dep_.id + ": the certificate issued is past its renewal point already",
                  ctx_.vault_retry);
  }
  spdlog::info("{}: issued a certificate valid for {}s; renewing in {}s", dep_.id,
               secs_between(now_ms, fresh.leaf->not_after * 1000), secs_between(now_ms, due));
  return at_ms(due);
}

}  // namespace templet::live
