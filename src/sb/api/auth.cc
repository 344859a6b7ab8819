#include "sb/api/auth.h"

#include <algorithm>
#include <any>
#include <chrono>

#include "sb/api/public_limit.h"
#include "sb/base/check.h"
#include "sb/base/logging.h"
#include "sb/http/problem.h"
#include "sb/vault/digest.h"

namespace sb::api {
namespace {

http::Response Unauthenticated(const http::Request& request, std::string_view detail) {
  http::Response r = http::MakeProblem(401, "unauthenticated", detail, request.request_id);
  r.SetHeader("WWW-Authenticate", "Bearer");
  return r;
}

std::optional<std::string_view> BearerToken(const http::Request& request) {
  auto header = request.Header("Authorization");
  if (!header) return std::nullopt;
  constexpr std::string_view kScheme = "Bearer ";
  if (header->size() <= kScheme.size() ||
      !http::EqualsIgnoreCase(header->substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  std::string_view token = header->substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

// 429 with Retry-After in whole seconds, rounded up so that a retry at that time succeeds.
http::Response RateLimited(const http::RateDecision& decision, const http::Request& request) {
  auto seconds = std::chrono::ceil<std::chrono::seconds>(decision.retry_after);
  return http::RateLimitedProblem(std::max(seconds, std::chrono::seconds(1)), request.request_id);
}

}  // namespace

http::Response AuthMiddleware::operator()(
    http::Request& request, const std::function<http::Response(http::Request&)>& next) {
  if (!request.route_options.authenticated) return next(request);
  std::optional<std::string_view> token = BearerToken(request);
  if (!token && users_ != nullptr && !request.Header("Authorization")) {
    if (auto cookie = http::CookieValue(request, kSessionCookie)) {
      auto admitted = SessionPrincipal(request, *cookie);
      if (auto* refused = std::get_if<http::Response>(&admitted)) return std::move(*refused);
      return Admit(request, std::get<tenancy::Principal>(std::move(admitted)), next);
    }
  }
  if (!token) {
    return Unauthenticated(request, "missing 'Authorization: Bearer <API key>' header");
  }
  // Failures from one host share a bucket. A host over its budget is refused before its key
  // is looked up, so that it costs neither a database read nor an audit write (security.md 7.3).
  const std::string client = ClientHost(request.remote_address);
  if (const http::RateDecision budget = failures_.Check(client); !budget.allowed) {
    return RateLimited(budget, request);
  }
  std::string failure_reason;
  Result<tenancy::Principal> principal = keys_.Authenticate(*token, &failure_reason);
  if (!principal.ok()) {
    if (principal.status().code() != StatusCode::kUnauthenticated) {
      return http::StatusToProblem(principal.status(), request.request_id);
    }
    log::Warn("auth.failed", {{"request_id", request.request_id},
                              {"remote", request.remote_address},
                              {"route", std::string(request.route_name)}});
    // Charged per failure; a concurrent failure may have taken the last token meanwhile.
    const http::RateDecision failed = failures_.Acquire(client);
    if (!failed.allowed) return RateLimited(failed, request);
    keys_.RecordFailure(*token, {request.request_id, request.remote_address}, failure_reason);
    return Unauthenticated(request, principal.status().message());
  }
  return Admit(request, std::move(*principal), next);
}

std::variant<tenancy::Principal, http::Response> AuthMiddleware::SessionPrincipal(
    const http::Request& request, std::string_view token) {
  const std::string client = ClientHost(request.remote_address);
  if (const http::RateDecision budget = failures_.Check(client); !budget.allowed) {
    return RateLimited(budget, request);
  }
  Result<tenancy::DashboardSession> session = users_->Authenticate(token);
  if (!session.ok()) {
    if (session.status().code() != StatusCode::kUnauthenticated) {
      return http::StatusToProblem(session.status(), request.request_id);
    }
    const http::RateDecision failed = failures_.Acquire(client);
    if (!failed.allowed) return RateLimited(failed, request);
    return Unauthenticated(request, session.status().message());
  }
  if (request.method != "GET" && request.method != "HEAD") {
    const std::string_view sent = request.Header(kCsrfHeader).value_or("");
    if (!vault::ConstantTimeEquals(sent, session->csrf_token)) {
      return http::MakeProblem(403, "csrf",
                               "a request signed in with a session cookie needs the session's "
                               "CSRF token in the X-CSRF-Token header",
                               request.request_id);
    }
  }
  return std::move(session->principal);
}

http::Response AuthMiddleware::Admit(http::Request& request, tenancy::Principal principal,
                                     const std::function<http::Response(http::Request&)>& next) {
  // Keys and users have buckets of their own (ids are UUIDs, so the prefix keeps them apart).
  const std::string bucket =
      principal.user_id ? "user:" + principal.user_id->value() : principal.key_id.value();
  const http::RateDecision decision = limiter_.Acquire(bucket);
  if (!decision.allowed) return RateLimited(decision, request);
  if (usage_ != nullptr) usage_->Add(principal.tenant_id, store::UsageMetric::kApiCalls);
  request.principal = std::move(principal);
  return next(request);
}

const tenancy::Principal& PrincipalOf(const http::Request& request) {
  const auto* principal = std::any_cast<tenancy::Principal>(&request.principal);
  SB_CHECK(principal != nullptr);  // an authenticated route always has one
  return *principal;
}

audit::Context AuditContextOf(const http::Request& request) {
  const tenancy::Principal& principal = PrincipalOf(request);
  if (principal.user_id) {
    return audit::Context{audit::Actor{audit::ActorKind::kUser, principal.user_id->value()},
                          request.request_id};
  }
  return audit::Context{audit::Actor{audit::ActorKind::kApiKey, principal.key_id.value()},
                        request.request_id};
}

Status RequireOperator(const tenancy::Principal& principal, std::string_view what) {
  if (principal.IsOperator()) return OkStatus();
  return PermissionDeniedError(std::string(what) +
                               " needs the 'operator' scope (a key of the system tenant); admin "
                               "keys manage their own tenant only");
}

Status RequireScope(const tenancy::Principal& principal, tenancy::Scope scope) {
  if (scope == tenancy::Scope::kOperator) return RequireOperator(principal, "this operation");
  if (principal.Has(scope) || principal.Has(tenancy::Scope::kAdmin)) return OkStatus();
  return PermissionDeniedError("this API key lacks the '" + std::string(tenancy::ScopeName(scope)) +
                               "' scope");
}

}  // namespace sb::api
