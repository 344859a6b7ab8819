// ProxyService: `/v1/proxy/{connection_id}/{path...}` for any method. Forwards the caller's
// query, body and safe headers to the provider's API base URL (from the catalog) with a fresh
// access token of the connection injected (ConnectionService::Token, the same single-flight
// refresh path the scheduler uses).
//
//   - Headers: only an allow-list goes out (content negotiation, conditional requests,
//     Prefer, and X- headers other than forwarding ones); never the caller's Authorization or
//     Cookie, never hop-by-hop headers. From the answer, hop-by-hop headers and Set-Cookie are
//     dropped.
//   - 401 from the provider: one forced refresh, then one retry.
//   - 429, 503 and Google's 403 rateLimitExceeded / userRateLimitExceeded: retried up to
//     `max_retries` times when the provider's Retry-After (or a 1 s default) is within
//     `max_retry_wait`; otherwise the provider's answer goes back unchanged.
//   - Disabled or unusable connections, providers without a fixed API base and paths that try
//     to climb out of it ("..") are clear errors before any call.
//   - Bodies are limited to `max_response_bytes` (the server already limits request bodies);
//     they are buffered, not streamed.
// Every forwarded call is counted in sb_proxy_requests_total{tenant,provider,status}.
// Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "sb/audit/context.h"
#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/metrics.h"
#include "sb/net/http_client.h"
#include "sb/oauth/catalog.h"
#include "sb/oauth/connections.h"

namespace sb::proxy {

struct ProxyOptions {
  size_t max_response_bytes = 16 << 20;
  int max_retries = 2;                               // for 429 / 503 / rate-limit 403
  std::chrono::milliseconds max_retry_wait{10'000};  // a longer Retry-After is not waited for
  std::chrono::milliseconds timeout{30'000};         // per provider call
};

struct ProxyRequest {
  std::string method;
  std::string path;   // raw (percent-encoded) path below the API base, without a leading '/'
  std::string query;  // raw query string without '?', may be empty
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct ProxyResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int attempts = 0;          // provider calls made
  bool rate_limited = false;  // the answer is a rate limit (429 or Google's rate-limit 403)
};

class ProxyService {
 public:
  // `sleep` waits before a retry (injected so tests need not wait).
  ProxyService(const oauth::ProviderCatalog& catalog, oauth::ConnectionService& connections,
               net::HttpClient& http, metrics::MetricsRegistry& metrics, ProxyOptions options,
               std::function<void(std::chrono::milliseconds)> sleep = {});

  // NOT_FOUND (no such connection), FAILED_PRECONDITION (disabled, needs reauthorization, no
  // API base), INVALID_ARGUMENT (bad path), UNAVAILABLE (provider unreachable or the token
  // could not be refreshed), RESOURCE_EXHAUSTED (answer too large). Any provider answer,
  // including 4xx and 5xx, is a successful result.
  Result<ProxyResponse> Forward(const TenantId& tenant, const ConnectionId& connection,
                                const ProxyRequest& request, const audit::Context& ctx);

 private:
  const oauth::ProviderCatalog& catalog_;
  oauth::ConnectionService& connections_;
  net::HttpClient& http_;
  metrics::CounterFamily& counter_;
  const ProxyOptions options_;
  std::function<void(std::chrono::milliseconds)> sleep_;
};

// True for a header the proxy forwards to the provider (ASCII case-insensitive name).
bool IsForwardableRequestHeader(std::string_view name);
// True for a provider header the proxy passes back to the caller.
bool IsForwardableResponseHeader(std::string_view name);

}  // namespace sb::proxy
