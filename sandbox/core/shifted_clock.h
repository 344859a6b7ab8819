// The sandbox's clock: the process clock moved forward by an offset a test sets through the
// control API (POST /_sandbox/clock), so that provider-side expiries (channels, subscriptions,
// tokens) agree with a Switchboard whose test clock was advanced by as much.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "sb/base/clock.h"

namespace sandbox {

class ShiftedClock final : public sb::Clock {
 public:
  explicit ShiftedClock(const sb::Clock& base) : base_(base) {}

  sb::Timestamp Now() const override {
    return base_.Now() + std::chrono::microseconds(offset_us_.load());
  }
  // Monotonic time is not shifted: durations and timeouts stay real.
  std::chrono::steady_clock::time_point SteadyNow() const override { return base_.SteadyNow(); }

  // Moves wall-clock time forward (never back: expiries already handed out stay ordered).
  void Advance(std::chrono::microseconds by) {
    if (by.count() > 0) offset_us_ += by.count();
  }
  std::chrono::microseconds offset() const { return std::chrono::microseconds(offset_us_.load()); }

 private:
  const sb::Clock& base_;
  std::atomic<int64_t> offset_us_{0};
};

}  // namespace sandbox
