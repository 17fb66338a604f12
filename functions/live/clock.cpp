// The real and fake clocks and the Wakeup flag watchers sleep on.
//
// Sleeping is done in slices of at most one second so a stop is honoured promptly and a
// wall-clock jump (suspend, NTP step) is noticed within a second.
#include "functions/live/clock.hpp"

#include <algorithm>
#include <memory>
#include <random>

namespace templet::live {

void Wakeup::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
}

void Wakeup::nudge() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    nudged_ = true;
  }
  cv_.notify_all();
}

bool Wakeup::stopped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopped_;
}

bool Wakeup::wait_until(TimePoint deadline, const std::function<TimePoint()>& now) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopped_ && !nudged_) {
    TimePoint n = now();
    if (n >= deadline) break;
    auto slice = std::min<std::chrono::nanoseconds>(deadline - n, std::chrono::seconds(1));
    cv_.wait_for(lock, slice);
  }
  nudged_ = false;
  return !stopped_;
}

bool SystemClockImpl::sleep_until(TimePoint t, Wakeup& w) {
  return w.wait_until(t, [] { return SysClock::now(); });
}

Clock& system_clock() {
  static SystemClockImpl clock;
  return clock;
}

TimePoint FakeClock::now() const {
  std::lock_guard<std::mutex> lock(mu_);
  return now_;
}

bool FakeClock::sleep_until(TimePoint t, Wakeup& w) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    sleeps_.push_back(t);
    if (t > now_) now_ = t;
  }
  return !w.stopped();
}

void FakeClock::set(TimePoint t) {
  std::lock_guard<std::mutex> lock(mu_);
  now_ = t;
}

void FakeClock::advance(Ms d) {
  std::lock_guard<std::mutex> lock(mu_);
  now_ += d;
}

std::vector<TimePoint> FakeClock::sleeps() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sleeps_;
}

Random default_random() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  auto mu = std::make_shared<std::mutex>();
  return [engine, mu] {
    std::lock_guard<std::mutex> lock(*mu);
    return std::uniform_real_distribution<double>(0.0, 1.0)(*engine);
  };
}

}  // namespace templet::live
