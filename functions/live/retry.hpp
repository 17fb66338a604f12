// Retry pacing for failed fetches: exponential backoff with a cap and downward jitter.
//
// The sleep before retry n (0-based) is min(backoff * 2^n, max_backoff) scaled by a random
// factor in [0.75, 1], so it never exceeds the cap and many watchers do not retry in lock step.
// attempts = 0 means never give up (templet's daemon default; consul-template gives up after 12).
#pragma once

#include "functions/live/clock.hpp"
#include "functions/live/live_config.hpp"

namespace templet::live {

struct RetryPolicy {
  int attempts = 0;       // retries after the first failure; 0 = unlimited
  Ms backoff{250};        // first sleep
  Ms max_backoff{60000};  // cap; 0 = no cap

  static RetryPolicy from(const RetryConfig& c);

  // The un-jittered sleep before retry n (0-based); saturates instead of overflowing.
  Ms base_delay(int n) const;
  // base_delay(n) * (1 - 0.25 * u) with u = random() in [0, 1).
  Ms delay(int n, const Random& random) const;
  // True when `failures` consecutive failed attempts mean giving up.
  bool exhausted(int failures) const { return attempts > 0 && failures > attempts; }
  // The longest wait a server's Retry-After can impose: max_backoff, but at least a minute.
  Ms longest_wait_asked() const { return std::max(max_backoff, Ms(60000)); }
};

}  // namespace templet::live
