// JwksCache: providers' JSON Web Key Sets, fetched over the injected HttpClient and kept for a
// while, for ID-token validation (OA-14). A token signed with a key the cached set lacks makes
// the caller ask for a refetch; refetches of one URL are rate-limited so that tokens with
// made-up key ids cannot turn the hub into a request amplifier. Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "sb/base/clock.h"
#include "sb/base/status.h"
#include "sb/net/http_client.h"
#include "sb/vault/jose.h"

namespace sb::oauth {

class JwksCache {
 public:
  JwksCache(net::HttpClient& http, const Clock& clock,
            std::chrono::seconds ttl = std::chrono::hours(1),
            std::chrono::seconds min_refetch = std::chrono::seconds(60))
      : http_(http), clock_(clock), ttl_(ttl), min_refetch_(min_refetch) {}

  // The key set at `url`, from the cache while it is younger than the TTL. `refetch` asks for
  // a fresh copy (unknown kid), granted at most once per min_refetch per URL.
  // UNAVAILABLE when the provider cannot be reached or answers other than 200 with a JWKS.
  Result<std::shared_ptr<const vault::JsonWebKeySet>> Get(const std::string& url, bool refetch);

 private:
  struct Entry {
    std::shared_ptr<const vault::JsonWebKeySet> keys;
    std::chrono::steady_clock::time_point fetched_at;
  };
  Result<std::shared_ptr<const vault::JsonWebKeySet>> Fetch(const std::string& url);

  net::HttpClient& http_;
  const Clock& clock_;
  const std::chrono::seconds ttl_;
  const std::chrono::seconds min_refetch_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;  // guarded by mu_
};

}  // namespace sb::oauth
