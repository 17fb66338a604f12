// The time seam of the live data layer: "what time is it" and "sleep until T unless woken".
//
// Lease timing (renew at 2/3 of a lease, re-read at 85-95 %) is tested with FakeClock, which
// never sleeps: tests set the time and step watchers by hand. Wall-clock time points are used
// throughout because lease expiries are persisted and must survive a restart.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

namespace templet::live {

using SysClock = std::chrono::system_clock;
using TimePoint = SysClock::time_point;
using Ms = std::chrono::milliseconds;

// A wake-up flag one thread sleeps on and others raise: stop (sticky) or a nudge (consumed).
class Wakeup {
 public:
  void stop();
  void nudge();
  bool stopped() const;
  // Waits until `deadline` (a steady-clock-free wait in slices, so wall-clock jumps are seen),
  // a stop or a nudge. Returns false when stopped.
  bool wait_until(TimePoint deadline, const std::function<TimePoint()>& now);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  bool nudged_ = false;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  // Sleeps until `t` or until `w` is stopped or nudged. Returns false when stopped.
  virtual bool sleep_until(TimePoint t, Wakeup& w) = 0;
};

class SystemClockImpl : public Clock {
 public:
  TimePoint now() const override { return SysClock::now(); }
  bool sleep_until(TimePoint t, Wakeup& w) override;
};

Clock& system_clock();

// For tests: time only moves when told; sleep_until jumps to `t` at once (never backwards) and
// records the requested wake-up.
class FakeClock : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint(std::chrono::seconds(1700000000))) : now_(start) {}
  TimePoint now() const override;
  bool sleep_until(TimePoint t, Wakeup& w) override;
  void set(TimePoint t);
  void advance(Ms d);
  std::vector<TimePoint> sleeps() const;

 private:
  mutable std::mutex mu_;
  TimePoint now_;
  std::vector<TimePoint> sleeps_;
};

// Uniform random numbers in [0, 1): the jitter seam. Tests pass a constant.
using Random = std::function<double()>;
Random default_random();

}  // namespace templet::live
