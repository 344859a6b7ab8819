// Authentication, tenant resolution and per-key rate limiting, as one HTTP middleware.
//
// For routes registered with `authenticated = true` it requires `Authorization: Bearer <key>`,
// resolves the key to a tenancy::Principal (stored in Request::principal), and then charges the
// key's token bucket; a caller over its limit gets 429 with Retry-After. Failures are 401 with
// `WWW-Authenticate: Bearer` and one message for every cause. Public routes pass through.
// Thread-safe.
#pragma once

#include "sb/http/rate_limiter.h"
#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/tenancy/api_keys.h"

namespace sb::api {

class AuthMiddleware {
 public:
  AuthMiddleware(tenancy::ApiKeyService& keys, http::RateLimiter& limiter)
      : keys_(keys), limiter_(limiter) {}

  http::Response operator()(http::Request& request,
                            const std::function<http::Response(http::Request&)>& next);

 private:
  tenancy::ApiKeyService& keys_;
  http::RateLimiter& limiter_;
};

// The principal the middleware attached. REQUIRES: the route is authenticated.
const tenancy::Principal& PrincipalOf(const http::Request& request);

}  // namespace sb::api
