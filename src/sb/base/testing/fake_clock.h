// FakeClock: a Clock that only moves when a test advances it. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>

#include "sb/base/clock.h"

namespace sb::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(Timestamp start = FromUnixMicros(1'700'000'000'000'000)) : now_(start) {}

  Timestamp Now() const override { return now_.load(); }
  std::chrono::steady_clock::time_point SteadyNow() const override {
    return std::chrono::steady_clock::time_point(now_.load().time_since_epoch());
  }
  void Advance(std::chrono::microseconds d) { now_.store(now_.load() + d); }
  void Set(Timestamp t) { now_.store(t); }

 private:
  std::atomic<Timestamp> now_;
};

}  // namespace sb::testing
