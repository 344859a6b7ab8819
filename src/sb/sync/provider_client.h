// ProviderClient: the sync engine's calls to a provider API with a connection's token.
//
// A call takes the connection's token (refreshed when it is about to expire), sends the
// request, and on a 401 refreshes once and tries again (provider-protocols.md 1.1, 7.1). The
// answer is classified once, here, so that every capability treats providers alike:
//   2xx          the body, parsed with bounds (a provider answer is untrusted input)
//   410          kGone: the cursor was rejected (Google fullSyncRequired, Graph
//                syncStateNotFound / resyncRequired); the caller resyncs in full
//   429, 503, Google's rate-limit 403
//                kRateLimited with Retry-After
//   other 5xx, transport failures
//                kUnavailable
//   the grant is gone (refresh answered invalid_grant), the connection is disabled or the
//   provider switched off
//                kReauthorize / kDisabled: the run stops and the sync state is paused
//   409, 412   kConflict, kPrecondition (writes: the id exists, the version is stale)
//   400, 403, 422
//                kRejected with the provider's reason (a write the provider refuses)
//   anything else
//                kBadAnswer (a 4xx the request did not expect, a body that does not parse)
// Each outcome is recorded as the connection's health (connections::ConnectionHealth), like the
// proxy's calls. Thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "sb/audit/context.h"
#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/json.h"
#include "sb/connections/connections.h"
#include "sb/connections/health.h"
#include "sb/net/http_client.h"
#include "sb/oauth/catalog.h"

namespace sb::sync {

enum class ProviderFailure {
  kGone,          // 410: the cursor is no longer valid
  kRateLimited,   // 429, 503, rate-limit 403: try again after retry_after
  kUnavailable,   // 5xx, network: try again with backoff
  kReauthorize,   // the user must connect again
  kDisabled,      // the connection is disabled or the provider switched off
  kNotFound,      // 404: the resource is gone
  kConflict,      // 409: the resource exists already (a write's own id, sent again)
  kPrecondition,  // 412: If-Match named a version the provider no longer has
  kRejected,      // 400, 403 (not a rate limit), 422: the provider refused the write
  kBadAnswer,     // an unexpected status or a body that does not parse
};
std::string_view ProviderFailureName(ProviderFailure failure);  // "gone", "rate_limited", ...

struct ProviderError {
  ProviderFailure kind = ProviderFailure::kBadAnswer;
  std::string message;  // for people and logs; never a token or a response body
  std::optional<std::chrono::milliseconds> retry_after;
  // The provider's own reason for a refused write (its error.message, printable, at most 300
  // bytes); "" when it gave none. Provider text, never a token.
  std::string reason;
};

// A successful answer or a classified failure.
template <typename T>
using Fetched = std::variant<T, ProviderError>;

template <typename T>
const ProviderError* FailureOf(const Fetched<T>& fetched) {
  return std::get_if<ProviderError>(&fetched);
}

struct ProviderClientDeps {
  connections::ConnectionService& connections;
  const oauth::ProviderCatalog& catalog;
  net::HttpClient& http;
  const Clock& clock;
  connections::ConnectionHealth* health = nullptr;  // null: outcomes are not recorded
};

struct ProviderClientOptions {
  std::chrono::milliseconds timeout{30'000};
  // Bounds of one answer: a page of a few thousand events with long HTML descriptions.
  JsonLimits limits{.max_bytes = 32u << 20,
                    .max_depth = 32,
                    .max_string_bytes = 1u << 20,
                    .max_members = 10'000,
                    .max_values = 4'000'000};
};

class ProviderClient {
 public:
  ProviderClient(ProviderClientDeps deps, ProviderClientOptions options);

  // The API base URL of the connection's provider (the catalog's, as configured), without a
  // trailing slash.
  Result<std::string> BaseUrl(std::string_view provider) const;

  // GET `url` (absolute, below the provider's base URL: a link from a provider answer that
  // points elsewhere is refused as kBadAnswer, so a hostile answer cannot send the token away).
  Fetched<Json> Get(const TenantId& tenant, const ConnectionId& connection, const std::string& url,
                    const net::HeaderList& headers = {});
  // `method` (POST, PUT, PATCH, DELETE) with a JSON body (none when null) and `headers`
  // (If-Match, Prefer); a 204 or an empty 2xx answer is an empty object.
  Fetched<Json> Send(const TenantId& tenant, const ConnectionId& connection,
                     const std::string& method, const std::string& url, const Json& body,
                     const net::HeaderList& headers = {});

 private:
  Fetched<net::HttpResponse> Authorized(const TenantId& tenant, const ConnectionId& connection,
                                        net::HttpRequest request);
  Fetched<Json> Classify(const TenantId& tenant, const ConnectionId& connection,
                         const net::HttpResponse& response);
  void Record(const TenantId& tenant, const ConnectionId& connection,
              const connections::CallOutcome& outcome);

  connections::ConnectionService& connections_;
  const oauth::ProviderCatalog& catalog_;
  net::HttpClient& http_;
  const Clock& clock_;
  connections::ConnectionHealth* health_;
  const ProviderClientOptions options_;
};

// The audit actor of everything the sync engine does.
inline const audit::Context& SyncAuditContext() {
  static const audit::Context ctx{audit::Actor{audit::ActorKind::kSystem, "sync"}, ""};
  return ctx;
}

}  // namespace sb::sync
