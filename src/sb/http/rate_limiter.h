// RateLimiter: a token bucket per key (an API key id, a tenant, a remote address). Each bucket
// holds up to `burst` tokens and refills at `rate_per_second`; a request takes one token.
//
// Memory is bounded: each of the shards keeps at most max_keys / shards buckets in LRU order.
// A bucket that has refilled completely is indistinguishable from a new one and is dropped
// first; when a shard is still full, its least recently used bucket is evicted (that key then
// starts again from a full bucket, which only errs on the side of allowing).
//
// Thread-safe: keys hash onto shards, each guarded by its own mutex. Time comes from the
// injected Clock's SteadyNow.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>

#include "sb/base/clock.h"

namespace sb::http {

struct RateLimiterOptions {
  double rate_per_second = 10;  // sustained rate per key
  double burst = 20;            // bucket capacity; REQUIRES >= 1
  size_t max_keys = 100'000;    // across all shards
  size_t shards = 16;
};

struct RateDecision {
  bool allowed = false;
  // When denied: how long until one token is available (>= 1 ms). Zero when allowed.
  std::chrono::milliseconds retry_after{0};
  double remaining = 0;  // tokens left after this decision
};

class RateLimiter {
 public:
  // `clock` must outlive the limiter.
  RateLimiter(const Clock& clock, RateLimiterOptions options);
  ~RateLimiter();
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Takes one token from `key`'s bucket if available.
  RateDecision Acquire(std::string_view key);

  // Whether `key`'s bucket holds a token now, without taking it and without creating a bucket
  // (a key never seen, or evicted, is allowed). For a check before costly work whose outcome
  // decides whether to charge the bucket (Acquire) afterwards.
  RateDecision Check(std::string_view key) const;

  // Number of buckets currently held (for tests and a gauge).
  size_t size() const;

 private:
  struct Shard;
  Shard& ShardFor(std::string_view key) const;

  const Clock& clock_;
  const RateLimiterOptions options_;
  const size_t per_shard_capacity_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace sb::http
