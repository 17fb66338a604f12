// Durations as the config file and the flags spell them ("250ms", "1m30s"; Go's
// time.ParseDuration units), shared by every layer that reads or prints a timeout.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

namespace templet {

using Duration = std::chrono::milliseconds;

struct DurationError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "250ms", "2s", "1m30s", "1h" (Go's time.ParseDuration units ns..h); a bare integer is
// seconds, as in consul-template's config. Throws DurationError.
Duration parse_duration(const std::string& text);
// The shortest Go-style spelling: "0s", "250ms", "1m30s", "1.5s".
std::string format_duration(Duration d);

}  // namespace templet
