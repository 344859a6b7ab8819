#include "sb/http/rate_limiter.h"

#include <string>

#include <gtest/gtest.h>

#include "sb/base/testing/fake_clock.h"

namespace sb::http {
namespace {

using std::chrono::milliseconds;

TEST(RateLimiter, AllowsBurstThenDeniesWithRetryAfter) {
  testing::FakeClock clock;
  RateLimiter limiter(clock, {.rate_per_second = 2, .burst = 3});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Acquire("k").allowed) << i;
  const RateDecision denied = limiter.Acquire("k");
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.retry_after, milliseconds(500));  // one token at 2/s
}

TEST(RateLimiter, RefillsWithTimeUpToBurst) {
  testing::FakeClock clock;
  RateLimiter limiter(clock, {.rate_per_second = 10, .burst = 2});
  EXPECT_TRUE(limiter.Acquire("k").allowed);
  EXPECT_TRUE(limiter.Acquire("k").allowed);
  EXPECT_FALSE(limiter.Acquire("k").allowed);
  clock.Advance(milliseconds(100));
  EXPECT_TRUE(limiter.Acquire("k").allowed);
  EXPECT_FALSE(limiter.Acquire("k").allowed);
  clock.Advance(std::chrono::seconds(60));  // long idle: capped at burst
  EXPECT_TRUE(limiter.Acquire("k").allowed);
  EXPECT_TRUE(limiter.Acquire("k").allowed);
  EXPECT_FALSE(limiter.Acquire("k").allowed);
}

// security.md 7.3: the failed-auth limiter asks before the key lookup and charges only after.
TEST(RateLimiter, CheckNeitherTakesATokenNorCreatesABucket) {
  testing::FakeClock clock;
  RateLimiter limiter(clock, {.rate_per_second = 2, .burst = 2});
  EXPECT_TRUE(limiter.Check("k").allowed);
  EXPECT_EQ(limiter.size(), 0u);
  EXPECT_TRUE(limiter.Acquire("k").allowed);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Check("k").allowed) << i;
  EXPECT_TRUE(limiter.Acquire("k").allowed);
  const RateDecision denied = limiter.Check("k");
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.retry_after, milliseconds(500));
  clock.Advance(milliseconds(500));
  EXPECT_TRUE(limiter.Check("k").allowed);
  EXPECT_TRUE(limiter.Acquire("k").allowed);
  EXPECT_FALSE(limiter.Check("k").allowed);
}

TEST(RateLimiter, KeysAreIndependent) {
  testing::FakeClock clock;
  RateLimiter limiter(clock, {.rate_per_second = 1, .burst = 1});
  EXPECT_TRUE(limiter.Acquire("a").allowed);
  EXPECT_FALSE(limiter.Acquire("a").allowed);
  EXPECT_TRUE(limiter.Acquire("b").allowed);
}

TEST(RateLimiter, MemoryIsBounded) {
  testing::FakeClock clock;
  RateLimiter limiter(clock, {.rate_per_second = 1, .burst = 5, .max_keys = 64, .shards = 4});
  for (int i = 0; i < 10'000; ++i) (void)limiter.Acquire("key-" + std::to_string(i));
  EXPECT_LE(limiter.size(), 64u);
  EXPECT_GT(limiter.size(), 0u);
}

TEST(RateLimiter, IdleRefilledBucketsAreEvictedFirst) {
  testing::FakeClock clock;
  RateLimiter limiter(clock, {.rate_per_second = 1, .burst = 1, .max_keys = 100, .shards = 1});
  for (int i = 0; i < 50; ++i) (void)limiter.Acquire("old-" + std::to_string(i));
  EXPECT_EQ(limiter.size(), 50u);
  clock.Advance(std::chrono::seconds(2));  // every old bucket is full again
  (void)limiter.Acquire("new");
  EXPECT_EQ(limiter.size(), 1u);
}

}  // namespace
}  // namespace sb::http
