#include "sb/oauth/jwks_cache.h"

#include "sb/base/json.h"
#include "sb/oauth/provider_json.h"

namespace sb::oauth {

Result<std::shared_ptr<const vault::JsonWebKeySet>> JwksCache::Fetch(const std::string& url) {
  net::HttpRequest request;
  request.url = url;
  request.headers = {{"Accept", "application/json"}};
  auto response = http_.Send(request);
  if (!response.ok()) {
    return UnavailableError("cannot fetch the provider's signing keys: " +
                            response.status().message());
  }
  if (response->status != 200) {
    return UnavailableError("the provider's signing keys answered HTTP " +
                            std::to_string(response->status));
  }
  if (response->body.size() > 256 * 1024) {
    return UnavailableError("the provider's key set is too large");
  }
  Result<Json> document = ParseJson(response->body, kProviderJsonLimits);
  if (!document.ok()) {
    return UnavailableError("the provider's key set is unusable: " + document.status().message());
  }
  auto keys = vault::JsonWebKeySet::Parse(*document);
  if (!keys.ok()) {
    return UnavailableError("the provider's key set is unusable: " + keys.status().message());
  }
  return std::make_shared<const vault::JsonWebKeySet>(std::move(*keys));
}

Result<std::shared_ptr<const vault::JsonWebKeySet>> JwksCache::Get(const std::string& url,
                                                                   bool refetch) {
  const auto now = clock_.SteadyNow();
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(url);
    if (it != entries_.end()) {
      const auto age = now - it->second.fetched_at;
      const bool fresh = age < ttl_;
      const bool may_refetch = age >= min_refetch_;
      if (fresh && (!refetch || !may_refetch)) return it->second.keys;
    }
  }
  // Fetched outside the lock; two threads may both fetch once, which is harmless.
  SB_ASSIGN_OR_RETURN(auto keys, Fetch(url));
  std::lock_guard lock(mu_);
  entries_[url] = Entry{keys, now};
  return keys;
}

}  // namespace sb::oauth
