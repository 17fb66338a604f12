// systemd's notification protocol (Type=notify) without linking libsystemd: one datagram to the
// unix socket named by NOTIFY_SOCKET ("READY=1", "STATUS=...", "STOPPING=1").
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace templet {

// Sends `state` when NOTIFY_SOCKET is set; returns false when unset or on failure.
bool sd_notify_send(const std::string& state);

// Keeps systemd told from the run loop: WATCHDOG=1 every quarter of WatchdogSec= (when systemd
// asks for pings: WATCHDOG_USEC set, and WATCHDOG_PID unset or this process), so a loop wedged
// in a pass stops pinging and is restarted; STATUS= whenever its text changes.
class SdHeartbeat {
 public:
  SdHeartbeat();  // reads WATCHDOG_USEC and WATCHDOG_PID
  // Called on every turn of the loop; sends only what is due.
  void tick(const std::string& status);
  std::optional<std::chrono::microseconds> watchdog() const { return watchdog_; }

 private:
  std::optional<std::chrono::microseconds> watchdog_;
  std::chrono::steady_clock::time_point last_ping_{};
  std::string last_status_;
};

}  // namespace templet
