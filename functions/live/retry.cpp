// Backoff arithmetic for RetryPolicy (see retry.hpp).
//
// Doubling stops as soon as the cap is reached, so attempt 10000 costs nothing and cannot
// overflow (consul-template #1028 printed negative durations after an overflow).
#include "functions/live/retry.hpp"

namespace templet::live {

RetryPolicy RetryPolicy::from(const RetryConfig& c) {
  RetryPolicy p;
  if (c.attempts) p.attempts = *c.attempts;
  if (c.backoff) p.backoff = *c.backoff;
  if (c.max_backoff) p.max_backoff = *c.max_backoff;
  return p;
}

Ms RetryPolicy::base_delay(int n) const {
  // Without a cap, stop doubling at about a day: a longer sleep is never useful.
  const Ms ceiling = max_backoff.count() > 0 ? max_backoff : Ms(24LL * 3600 * 1000);
  Ms d = backoff.count() > 0 ? backoff : Ms(1);
  for (int i = 0; i < n && d < ceiling; ++i) d *= 2;
  return d < ceiling ? d : ceiling;
}

Ms RetryPolicy::delay(int n, const Random& random) const {
  Ms base = base_delay(n);
  double u = random ? random() : 0.0;
  if (u < 0) u = 0;
  if (u >= 1) u = 0.999999;
  return Ms(static_cast<long long>(static_cast<double>(base.count()) * (1.0 - 0.25 * u)));
}

}  // namespace templet::live
