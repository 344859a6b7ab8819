// Clock: the one source of time. Production code reads time only through a Clock so that tests
// can advance it (testing/fake_clock.h). Implementations are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

namespace sb {

using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (for stored timestamps and expiries).
  virtual Timestamp Now() const = 0;
  // Monotonic time (for durations, rate limits, timeouts).
  virtual std::chrono::steady_clock::time_point SteadyNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  Timestamp Now() const override;
  std::chrono::steady_clock::time_point SteadyNow() const override;
};

// Microseconds since the Unix epoch, the storage representation of a Timestamp.
inline int64_t ToUnixMicros(Timestamp t) { return t.time_since_epoch().count(); }
inline Timestamp FromUnixMicros(int64_t us) { return Timestamp(std::chrono::microseconds(us)); }

}  // namespace sb
