#include "sb/http/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "sb/base/check.h"

namespace sb::http {
namespace {

struct Bucket {
  std::string key;
  double tokens = 0;
  std::chrono::steady_clock::time_point updated;
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

}  // namespace

struct RateLimiter::Shard {
  std::mutex mu;
  std::list<Bucket> lru;  // most recently used first; guarded by mu
  std::unordered_map<std::string_view, std::list<Bucket>::iterator, StringHash, std::equal_to<>>
      index;  // keys view Bucket::key; guarded by mu
};

RateLimiter::RateLimiter(const Clock& clock, RateLimiterOptions options)
    : clock_(clock),
      options_(options),
      per_shard_capacity_(
          std::max<size_t>(1, options.max_keys / std::max<size_t>(1, options.shards))),
      shards_(new Shard[std::max<size_t>(1, options.shards)]) {
  SB_CHECK(options_.burst >= 1 && options_.rate_per_second > 0);
}

RateLimiter::~RateLimiter() = default;

RateLimiter::Shard& RateLimiter::ShardFor(std::string_view key) const {
  const size_t n = std::max<size_t>(1, options_.shards);
  return shards_[std::hash<std::string_view>()(key) % n];
}

RateDecision RateLimiter::Acquire(std::string_view key) {
  const auto now = clock_.SteadyNow();
  const auto full_after = std::chrono::duration<double>(options_.burst / options_.rate_per_second);
  Shard& shard = ShardFor(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto found = shard.index.find(key);
  if (found == shard.index.end()) {
    // Drop refilled buckets from the cold end, then the LRU one if still full.
    while (!shard.lru.empty() && (shard.lru.size() >= per_shard_capacity_ ||
                                  now - shard.lru.back().updated >= full_after)) {
      shard.index.erase(shard.lru.back().key);
      shard.lru.pop_back();
    }
    shard.lru.push_front(Bucket{std::string(key), options_.burst, now});
    found = shard.index.emplace(shard.lru.front().key, shard.lru.begin()).first;
  } else {
    shard.lru.splice(shard.lru.begin(), shard.lru, found->second);
  }
  Bucket& bucket = *found->second;
  const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
  bucket.tokens =
      std::min(options_.burst, bucket.tokens + std::max(0.0, elapsed) * options_.rate_per_second);
  bucket.updated = now;
  RateDecision decision;
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    decision.allowed = true;
  } else {
    const double wait_ms = std::ceil((1 - bucket.tokens) / options_.rate_per_second * 1000);
    decision.retry_after = std::chrono::milliseconds(std::max<int64_t>(1, wait_ms));
  }
  decision.remaining = bucket.tokens;
  return decision;
}

RateDecision RateLimiter::Check(std::string_view key) const {
  const auto now = clock_.SteadyNow();
  Shard& shard = ShardFor(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  RateDecision decision{.allowed = true, .remaining = options_.burst};
  auto found = shard.index.find(key);
  if (found == shard.index.end()) return decision;
  const Bucket& bucket = *found->second;
  const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
  const double tokens =
      std::min(options_.burst, bucket.tokens + std::max(0.0, elapsed) * options_.rate_per_second);
  decision.remaining = tokens;
  if (tokens < 1) {
    decision.allowed = false;
    const double wait_ms = std::ceil((1 - tokens) / options_.rate_per_second * 1000);
    decision.retry_after = std::chrono::milliseconds(std::max<int64_t>(1, wait_ms));
  }
  return decision;
}

size_t RateLimiter::size() const {
  size_t total = 0;
  for (size_t i = 0; i < std::max<size_t>(1, options_.shards); ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mu);
    total += shards_[i].lru.size();
  }
  return total;
}

}  // namespace sb::http
