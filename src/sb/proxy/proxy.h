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
//   - The path is decoded and normalized once (NormalizeProxyPath); the scope checks (the
//     service's OAuth scopes, oauth::CheckScopesForCall, and the caller's read/write scope
//     against oauth::ClassifyCall) run on that decoded form, and exactly its canonical encoding
//     is sent. Method-override headers (X-HTTP-Method-Override, X-HTTP-Method,
//     X-Method-Override) are never forwarded, so the method checked is the method sent.
//   - Answers stream: a small answer (up to kBufferedAnswerBytes) comes back whole in
//     ProxyResponse::body; a larger one comes back as its first part plus ProxyResponse::more,
//     which pulls the rest from the provider chunk by chunk (about 256 KiB in memory per call).
//     `max_response_bytes` caps the whole answer: an answer announcing more (Content-Length)
//     fails before anything is returned, one growing past it fails mid-stream.
//   - Throttling and 401 answers are read whole (at most kInspectBytes) before deciding on a
//     retry, so only the final answer streams.
//   - Request bodies stream in from the caller (ProxyRequest::body_stream; the server limits
//     them per route, see max_request_bytes): up to 64 KiB they are read ahead and sent again on
//     a retry, longer ones go to the provider as they arrive, once.
//   - Cancellation: ProxyRequest::cancel goes into every provider call of the request; once
//     set, the call (and `more`) ends with CANCELLED within about 50 ms. The kill switch
//     (connections::ProviderSwitches) registers the same flag for the request's provider, so
//     switching the provider off stops the call, and the rest of a streamed answer, at once;
//     Forward then reports the switch (FAILED_PRECONDITION), not a cancellation.
// Every forwarded call is counted in sb_proxy_requests_total{tenant,provider,status}.
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sb/audit/context.h"
#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/metrics.h"
#include "sb/connections/connections.h"
#include "sb/connections/provider_switches.h"
#include "sb/net/http_client.h"
#include "sb/oauth/catalog.h"

namespace sb::proxy {

struct ProxyOptions {
  size_t max_response_bytes = 16 << 20;  // whole provider answer (proxy.max_response_bytes)
  size_t max_request_bytes = 64 << 20;   // caller's body (proxy.max_request_bytes)
  int max_retries = 2;                   // for 429 / 503 / rate-limit 403
  std::chrono::milliseconds max_retry_wait{10'000};  // a longer Retry-After is not waited for
  std::chrono::milliseconds timeout{30'000};         // per provider call
  // Label sb_proxy_requests_total with the tenant id (metrics.tenant_labels); off: no tenant
  // label, so whoever scrapes /metrics does not learn tenant ids.
  bool tenant_label = false;
};

struct ProxyRequest {
  std::string method;
  std::string path;   // raw (percent-encoded) path below the API base, without a leading '/'
  std::string query;  // raw query string without '?', may be empty
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Set instead of `body`: the caller's body as it arrives (the server streams it). The first
  // 64 KiB are read ahead; a body that ends there is sent like `body` (and again on a retry),
  // a longer one streams to the provider once, so its answer is final (no refresh-and-retry
  // after a 401, no throttling retries). `body_length`: the caller's Content-Length, if any.
  std::shared_ptr<net::RequestBodySource> body_stream;
  std::optional<uint64_t> body_length;
  // Set: every provider call of this request stops with CANCELLED once the flag is true.
  // Passed to net::HttpRequest::cancel; the service's kill switch sets the same flag.
  std::shared_ptr<std::atomic<bool>> cancel;
  // What the caller's API key may do at the provider: calls the catalog classifies as reads
  // need `may_read`, every other call `may_write` (PERMISSION_DENIED before any call).
  bool may_read = true;
  bool may_write = false;
};

// A proxied path after decoding: `decoded` (percent-decoded, what the checks see) and
// `encoded` (its canonical encoding, what is sent).
struct NormalizedPath {
  std::string decoded;
  std::string encoded;
};

// Decodes and normalizes a raw proxied path (below the API base, no leading '/'): every
// %XX is decoded per segment; INVALID_ARGUMENT for an empty path, a bad escape, an empty
// segment (leading or duplicate '/'; a trailing '/' is kept), a "." or ".." segment (also
// when encoded or formed by an encoded '/'), a raw '#', space or backslash, or a decoded
// control character or backslash.
// The encoded form keeps unreserved characters and `!$&'()*,;=:@` and percent-encodes the
// rest (an encoded '/' stays encoded), so the provider sees the path the checks saw.
Result<NormalizedPath> NormalizeProxyPath(std::string_view raw);

// The rest of a provider answer, pulled chunk by chunk: the next non-empty chunk, nullopt at
// the end, or an error (RESOURCE_EXHAUSTED past max_response_bytes, UNAVAILABLE,
// DEADLINE_EXCEEDED, CANCELLED); after nullopt or an error it must not be called again.
// Destroying it early aborts the provider call. Thread-compatible.
class ProxyBody {
 public:
  virtual ~ProxyBody() = default;
  virtual Result<std::optional<std::string>> Next() = 0;
};

struct ProxyResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;                 // the whole answer when `more` is null, else its start
  std::unique_ptr<ProxyBody> more;  // set: the answer continues here
  int attempts = 0;                 // provider calls made
  bool rate_limited = false;        // the answer is a rate limit (429, Google's 403)
};

// Answers up to this size come back whole (ProxyResponse::body, no `more`).
inline constexpr size_t kBufferedAnswerBytes = 64 << 10;
// Answers a retry decision depends on (401, 429, 503, 403) are read up to this size.
inline constexpr size_t kInspectBytes = 64 << 10;

// What ProxyService works with; the pointers are optional (null: not used).
struct ProxyDeps {
  const oauth::ProviderCatalog& catalog;
  connections::ConnectionService& connections;
  net::HttpClient& http;
  metrics::MetricsRegistry& metrics;  // gets sb_proxy_requests_total
  // Waits before a retry (injected so tests need not wait); empty: std::this_thread::sleep_for.
  std::function<void(std::chrono::milliseconds)> sleep;
  connections::ProviderSwitches* switches = nullptr;  // kill switch: its changes stop calls
};

class ProxyService {
 public:
  ProxyService(ProxyDeps deps, ProxyOptions options);

  // NOT_FOUND (no such connection), FAILED_PRECONDITION (disabled, needs reauthorization, no
  // API base), INVALID_ARGUMENT (bad path), PERMISSION_DENIED (scopes: the connection's or the
  // caller's), OUT_OF_RANGE (body over max_request_bytes),
  // UNAVAILABLE (provider unreachable or the token could not be refreshed), DEADLINE_EXCEEDED,
  // RESOURCE_EXHAUSTED (answer too large), CANCELLED (request.cancel set). Any provider answer,
  // including 4xx and 5xx, is a successful result.
  Result<ProxyResponse> Forward(const TenantId& tenant, const ConnectionId& connection,
                                const ProxyRequest& request, const audit::Context& ctx);

  const ProxyOptions& options() const { return options_; }

 private:
  struct Attempt;
  Result<bool> ShouldRetry(Attempt& attempt, bool& refreshed, int& retries);
  Result<ProxyResponse> Answer(Attempt attempt);
  // Forward's work once the provider is known; `cancel` is the request's flag.
  Result<ProxyResponse> Call(const TenantId& tenant, const ConnectionId& connection,
                             const ProxyRequest& request, const std::string& path,
                             const audit::Context& ctx, connections::AccessToken first_token,
                             const oauth::ProviderEntry& entry,
                             const std::shared_ptr<std::atomic<bool>>& cancel);

  const oauth::ProviderCatalog& catalog_;
  connections::ConnectionService& connections_;
  net::HttpClient& http_;
  // Counts one provider call (status 0: no answer) in sb_proxy_requests_total.
  void Count(const TenantId& tenant, const std::string& provider, int status) const;

  metrics::CounterFamily& counter_;
  const ProxyOptions options_;
  std::function<void(std::chrono::milliseconds)> sleep_;
  connections::ProviderSwitches* switches_;
};

// True for a header the proxy forwards to the provider (ASCII case-insensitive name).
bool IsForwardableRequestHeader(std::string_view name);
// True for a provider header the proxy passes back to the caller.
bool IsForwardableResponseHeader(std::string_view name);

}  // namespace sb::proxy
