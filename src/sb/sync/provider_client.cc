#include "sb/sync/provider_client.h"

#include <utility>

#include "sb/oauth/token_client.h"
#include "sb/vault/secret_store.h"

namespace sb::sync {
namespace {

using connections::CallOutcome;
using connections::HealthErrorKind;

ProviderError Failure(ProviderFailure kind, std::string message,
                      std::optional<std::chrono::milliseconds> after = std::nullopt) {
  return ProviderError{kind, std::move(message), after};
}

bool IsSuccess(int status) { return status >= 200 && status < 300; }

// The provider's error.message (Google and Graph both answer {"error": {"message": ...}}),
// printable ASCII only and bounded: it reaches mappings, webhooks and logs.
std::string ErrorReason(const std::string& body) {
  constexpr size_t kMaxReason = 300;
  auto parsed = ParseJson(body, JsonLimits{.max_bytes = 64u << 10});
  if (!parsed.ok() || !parsed->is_object()) return "";
  const auto error = parsed->find("error");
  if (error == parsed->end() || !error->is_object()) return "";
  const auto message = error->find("message");
  if (message == error->end() || !message->is_string()) return "";
  std::string reason;
  for (char c : message->get_ref<const std::string&>()) {
    if (reason.size() == kMaxReason) break;
    reason.push_back(c >= 0x20 && c < 0x7f ? c : ' ');
  }
  return reason;
}

}  // namespace

std::string_view ProviderFailureName(ProviderFailure failure) {
  switch (failure) {
    case ProviderFailure::kGone:
      return "gone";
    case ProviderFailure::kRateLimited:
      return "rate_limited";
    case ProviderFailure::kUnavailable:
      return "unavailable";
    case ProviderFailure::kReauthorize:
      return "reauthorization_required";
    case ProviderFailure::kDisabled:
      return "disabled";
    case ProviderFailure::kNotFound:
      return "not_found";
    case ProviderFailure::kConflict:
      return "conflict";
    case ProviderFailure::kPrecondition:
      return "precondition_failed";
    case ProviderFailure::kRejected:
      return "rejected";
    case ProviderFailure::kBadAnswer:
      return "bad_answer";
  }
  return "bad_answer";
}

ProviderClient::ProviderClient(ProviderClientDeps deps, ProviderClientOptions options)
    : connections_(deps.connections),
      catalog_(deps.catalog),
      http_(deps.http),
      clock_(deps.clock),
      health_(deps.health),
      options_(std::move(options)) {}

Result<std::string> ProviderClient::BaseUrl(std::string_view provider) const {
  const oauth::ProviderEntry* entry = catalog_.Find(std::string(provider));
  if (entry == nullptr || entry->api_base_url.empty()) {
    return FailedPreconditionError("the provider has no API base URL to sync from");
  }
  SB_ASSIGN_OR_RETURN(std::string base, oauth::ExpandUrl(*entry, entry->api_base_url));
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

Fetched<Json> ProviderClient::Get(const TenantId& tenant, const ConnectionId& connection,
                                  const std::string& url, const net::HeaderList& headers) {
  net::HttpRequest request;
  request.method = "GET";
  request.url = url;
  request.headers = headers;
  request.timeout = options_.timeout;
  Fetched<net::HttpResponse> sent = Authorized(tenant, connection, std::move(request));
  if (const ProviderError* error = FailureOf(sent)) return *error;
  return Classify(tenant, connection, std::get<net::HttpResponse>(sent));
}

Fetched<Json> ProviderClient::Send(const TenantId& tenant, const ConnectionId& connection,
                                   const std::string& method, const std::string& url,
                                   const Json& body, const net::HeaderList& headers) {
  net::HttpRequest request;
  request.method = method;
  request.url = url;
  request.headers = headers;
  request.timeout = options_.timeout;
  if (!body.is_null()) {
    request.body = body.dump();
    request.headers.emplace_back("Content-Type", "application/json");
  }
  Fetched<net::HttpResponse> sent = Authorized(tenant, connection, std::move(request));
  if (const ProviderError* error = FailureOf(sent)) return *error;
  const auto& response = std::get<net::HttpResponse>(sent);
  if (IsSuccess(response.status) && response.body.empty()) {
    Record(tenant, connection, CallOutcome{});
    return Json::object();
  }
  return Classify(tenant, connection, response);
}

Fetched<net::HttpResponse> ProviderClient::Authorized(const TenantId& tenant,
                                                      const ConnectionId& connection,
                                                      net::HttpRequest request) {
  connections::RefreshMode mode = connections::RefreshMode::kIfNeeded;
  for (int attempt = 0;; ++attempt) {
    auto token = connections_.Token(tenant, connection, mode, SyncAuditContext());
    if (!token.ok()) {
      const Status& s = token.status();
      if (s.code() == StatusCode::kUnavailable) {
        return Failure(ProviderFailure::kUnavailable, "token refresh: " + s.message());
      }
      if (s.code() != StatusCode::kFailedPrecondition) {
        return Failure(ProviderFailure::kBadAnswer, "token: " + s.ToString());
      }
      auto record = connections_.Get(tenant, connection);
      const bool reauthorize =
          record.ok() && record->status == store::ConnectionStatus::kReauthorizationRequired;
      return Failure(reauthorize ? ProviderFailure::kReauthorize : ProviderFailure::kDisabled,
                     s.message());
    }
    // The URL must stay below the provider's API: links come from provider answers.
    auto base = BaseUrl(token->provider);
    if (!base.ok()) return Failure(ProviderFailure::kBadAnswer, base.status().message());
    if (!request.url.starts_with(*base + "/")) {
      return Failure(ProviderFailure::kBadAnswer,
                     "a link in the provider's answer points outside its API");
    }
    request.headers.emplace_back("Authorization", "Bearer " + std::string(token->token.view()));
    auto response = http_.Send(request);
    vault::Wipe(request.headers.back().second);
    request.headers.pop_back();
    if (!response.ok()) {
      Record(tenant, connection,
             CallOutcome{.ok = false,
                         .kind = HealthErrorKind::kProviderUnavailable,
                         .message = response.status().message()});
      return Failure(ProviderFailure::kUnavailable, response.status().message());
    }
    // A 401 with a token we did not just refresh: refresh once and try again.
    if (response->status == 401 && attempt == 0 && !token->refreshed) {
      mode = connections::RefreshMode::kForce;
      continue;
    }
    return std::move(*response);
  }
}

Fetched<Json> ProviderClient::Classify(const TenantId& tenant, const ConnectionId& connection,
                                       const net::HttpResponse& response) {
  const int status = response.status;
  const auto retry_after = response.Header("Retry-After");
  std::optional<std::chrono::milliseconds> after;
  if (retry_after) after = oauth::ParseRetryAfter(*retry_after, std::chrono::system_clock::now());
  std::optional<Timestamp> retry_at;
  if (after)
    retry_at = clock_.Now() + std::chrono::duration_cast<std::chrono::microseconds>(*after);
  const bool limit403 = oauth::IsRateLimit403(status, response.body);
  Record(tenant, connection, connections::ConnectionHealth::OutcomeOf(status, retry_at, limit403));
  if (IsSuccess(status)) {
    auto parsed = ParseJson(response.body, options_.limits);
    if (!parsed.ok()) {
      return Failure(ProviderFailure::kBadAnswer,
                     "the provider's answer is not usable JSON: " + parsed.status().message());
    }
    if (!parsed->is_object()) {
      return Failure(ProviderFailure::kBadAnswer, "the provider's answer is not a JSON object");
    }
    return std::move(*parsed);
  }
  const std::string what = "the provider answered " + std::to_string(status);
  if (status == 410) return Failure(ProviderFailure::kGone, what);
  if (status == 429 || status == 503 || limit403) {
    return Failure(ProviderFailure::kRateLimited, what, after);
  }
  if (status >= 500) return Failure(ProviderFailure::kUnavailable, what, after);
  if (status == 404) return Failure(ProviderFailure::kNotFound, what);
  if (status == 401) return Failure(ProviderFailure::kUnavailable, what + " after a refresh");
  ProviderFailure kind = ProviderFailure::kBadAnswer;
  if (status == 409) kind = ProviderFailure::kConflict;
  if (status == 412) kind = ProviderFailure::kPrecondition;
  if (status == 400 || status == 403 || status == 422) kind = ProviderFailure::kRejected;
  ProviderError error{kind, what, std::nullopt};
  if (kind != ProviderFailure::kBadAnswer) error.reason = ErrorReason(response.body);
  return error;
}

void ProviderClient::Record(const TenantId& tenant, const ConnectionId& connection,
                            const CallOutcome& outcome) {
  if (health_ != nullptr) (void)health_->Record(tenant, connection, outcome);
}

}  // namespace sb::sync
