// Failures many dependencies share (a server refusing connections, the descriptor limit
// reached) are logged once per cause with how many dependencies they hit, not once per attempt
// of each: at 10,000 dependencies the per-attempt lines would be hundreds of thousands.
//
// The first dependency a cause hits logs as usual (and keeps doing so while it is the only
// one: a single failing key reads as before). Once a second one is hit, the others are counted
// quietly, and one line says how many it hits when `window` has passed. A cause is over when
// every dependency it hit has an answer again; it is then logged afresh if it comes back.
//
// The shortage behind the commonest such failure, too few descriptors for the Consul queries,
// is said beforehand, when watching starts (warn_if_descriptors_short).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "functions/live/clock.hpp"

namespace templet::live {

class FailureDigest {
 public:
  explicit FailureDigest(Ms window = Ms(1000)) : window_(window) {}

  // `id` failed with `cause`; true: log this failure as usual, false: it is counted.
  bool failed(const std::string& cause, const std::string& id, TimePoint now);
  // `id` has an answer: it no longer counts toward its cause.
  void recovered(const std::string& id);
  // Logs the count of each cause whose window has passed (once per cause). Returns when it
  // must be called again, nullopt when nothing waits.
  std::optional<TimePoint> flush(TimePoint now);

 private:
  struct Cause {
    std::set<std::string> ids;
    TimePoint since{};  // when a second dependency was hit
    bool shared = false;
    bool summarized = false;
  };
  Ms window_;
  std::mutex mu_;
  std::map<std::string, Cause> causes_;
  std::map<std::string, std::string> cause_of_;  // id -> cause
};

// When `consul_queries` (a descriptor each while in flight) plus a margin for everything else
// exceed the soft RLIMIT_NOFILE, says what they need and the limit: once, and again when the
// need has grown by a tenth. `warned` holds the need said last.
void warn_if_descriptors_short(long consul_queries, long& warned);

}  // namespace templet::live
