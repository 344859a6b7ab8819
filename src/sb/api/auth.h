// Authentication, tenant resolution and per-key rate limiting, as one HTTP middleware.
//
// For routes registered with `authenticated = true` it requires `Authorization: Bearer <key>`,
// resolves the key to a tenancy::Principal (stored in Request::principal), and then charges the
// key's token bucket; a caller over its limit gets 429 with Retry-After. Failures are 401 with
// `WWW-Authenticate: Bearer` and one message for every cause, and each is audited by the
// ApiKeyService. Failed attempts are also charged to a per-client bucket (`failures`, keyed by
// the peer address's host): a client over that budget gets 429 before its key is even looked up
// (a non-consuming check runs first; each failure then takes a token), which bounds brute force
// and the database reads and audit writes it causes (security.md 7.3).
// Public routes pass through. Thread-safe.
#pragma once

#include <variant>

#include "sb/audit/context.h"
#include "sb/http/rate_limiter.h"
#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/tenancy/api_keys.h"
#include "sb/tenancy/dashboard_users.h"
#include "sb/usage/meter.h"

namespace sb::api {

// The cookie that carries a dashboard session token, and the header that must repeat the
// session's CSRF token on every unsafe request authenticated by that cookie.
inline constexpr std::string_view kSessionCookie = "sb_session";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

class AuthMiddleware {
 public:
  // `usage` (optional) counts each authenticated call as one API call of its tenant. `users`
  // (optional) lets a dashboard session cookie stand in for a key: a request without an
  // Authorization header is authenticated by its kSessionCookie, and then every method but
  // GET and HEAD must carry the session's CSRF token in kCsrfHeader (403 otherwise).
  AuthMiddleware(tenancy::ApiKeyService& keys, http::RateLimiter& limiter,
                 http::RateLimiter& failures, usage::Meter* usage = nullptr,
                 tenancy::DashboardUserService* users = nullptr)
      : keys_(keys), limiter_(limiter), failures_(failures), usage_(usage), users_(users) {}

  http::Response operator()(http::Request& request,
                            const std::function<http::Response(http::Request&)>& next);

 private:
  // The principal of the request's session cookie, or the response refusing it.
  std::variant<tenancy::Principal, http::Response> SessionPrincipal(const http::Request& request,
                                                                    std::string_view token);
  http::Response Admit(http::Request& request, tenancy::Principal principal,
                       const std::function<http::Response(http::Request&)>& next);

  tenancy::ApiKeyService& keys_;
  http::RateLimiter& limiter_;
  http::RateLimiter& failures_;
  usage::Meter* usage_;
  tenancy::DashboardUserService* users_;
};

// The principal the middleware attached. REQUIRES: the route is authenticated.
const tenancy::Principal& PrincipalOf(const http::Request& request);

// The audit actor (the API key, or the dashboard user) and request id of an authenticated
// request.
audit::Context AuditContextOf(const http::Request& request);

// OK when the principal holds `scope` or admin; PERMISSION_DENIED naming the scope otherwise.
// The operator scope is never implied: use RequireOperator.
Status RequireScope(const tenancy::Principal& principal, tenancy::Scope scope);

// OK for the deployment operator (tenancy::Principal::IsOperator); PERMISSION_DENIED saying
// that `what` needs the operator scope otherwise. Tenant admin keys act on their own tenant only.
Status RequireOperator(const tenancy::Principal& principal, std::string_view what);

}  // namespace sb::api
