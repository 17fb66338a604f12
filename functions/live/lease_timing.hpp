// When to touch a Vault secret again: the lease arithmetic, as pure functions.
//
// Renewable leases: renew after 2/3 of the remaining lease + 1/3 grace (grace = 10-20 % of the
// lease); stop renewing and re-read once the remaining lease r <= 4 * grace. Non-renewable
// secrets: re-read at threshold +/- 5 % (85-95 %) of their duration (reference §3.4).
#pragma once

#include <nlohmann/json.hpp>

#include "functions/live/clock.hpp"

namespace templet::live {

struct LeaseTiming {
  Ms default_lease{std::chrono::minutes(5)};  // vault.default_lease_duration
  double threshold = 0.9;                     // vault.lease_renewal_threshold
};

// 10-20 % of `duration` (u in [0, 1)).
Ms renew_grace(Ms duration, double u);
// 2/3 * remaining + 1/3 * grace.
Ms renew_sleep(Ms remaining, Ms grace);
// True when the remaining lease is too short to renew again: r <= 4 * grace.
bool renewal_exhausted(Ms remaining, Ms grace);

// The wait before re-reading a non-renewable secret, from its parsed response body:
// lease_duration (or auth.lease_duration), a PKI cert's `expiration`, an AppRole secret-id's
// `secret_id_ttl`, a database static role's `ttl` (+1-1.5 s; 1 s while it is 0: the rotation
// is due but not done); default_lease when none is positive.
Ms nonrenewable_wait(const nlohmann::json& secret, TimePoint now, const LeaseTiming& timing,
                     double u);

// The lease duration a response declares: lease_duration, or auth.lease_duration when auth is
// present and positive. Seconds.
long long declared_lease_seconds(const nlohmann::json& secret);
// Whether a response is a renewable lease templet should renew through sys/leases/renew.
bool renewable_lease(const nlohmann::json& secret);

}  // namespace templet::live
