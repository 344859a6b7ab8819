// REST handlers for dashboard sign-in (/v1/session) and dashboard users (/v1/dashboard-users).
//
// POST /v1/session is public: it takes {tenant, email, password}, and on success sets the
// session cookie (HttpOnly, SameSite=Strict, Path=/, Secure behind https) and answers with the
// user, the tenant's name and the session's CSRF token. Failed sign-ins are charged to the
// client's failure budget (the one API-key failures use), so guessing is slowed per address as
// well as per user (the user's temporary lock). GET and DELETE /v1/session answer for the
// session of the cookie; an API key has no session (404). Dashboard users are managed by admins
// of their tenant (API key or session alike).
//
// Sign-in with OpenID Connect (connections::DashboardOidc), all public and browser-driven:
// GET /v1/session/oidc lists the providers offered; GET /v1/session/oidc/{provider}?tenant=...
// sends the browser to the provider (303) with a single-use binding cookie (Path=/v1/session/oidc,
// SameSite=Lax: it must come back on the provider's cross-site redirect); the provider returns
// to GET /v1/session/oidc/callback, which sets the session cookie and sends the browser to the
// dashboard, or to the dashboard's sign-in page with `?sign_in_error=<code>`; code and state
// leave the address bar either way. Thread-safe (stateless over the services).
#pragma once

#include "sb/connections/dashboard_oidc.h"
#include "sb/http/rate_limiter.h"
#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/tenancy/dashboard_users.h"

namespace sb::api {

class SessionHandlers {
 public:
  // `failures` is the per-client budget of failed authentications; `secure_cookies` adds
  // Secure to the cookie (the hub is served over https). `oidc`: null when no provider is
  // configured (the OpenID Connect routes then offer none).
  SessionHandlers(tenancy::DashboardUserService& users, http::RateLimiter& failures,
                  bool secure_cookies, connections::DashboardOidc* oidc = nullptr)
      : users_(users), failures_(failures), secure_cookies_(secure_cookies), oidc_(oidc) {}

  http::Response SignIn(http::Request& request);         // POST /v1/session (public)
  http::Response GetSession(http::Request& request);     // GET /v1/session
  http::Response SignOut(http::Request& request);        // DELETE /v1/session
  http::Response ListUsers(http::Request& request);      // GET /v1/dashboard-users (admin)
  http::Response CreateUser(http::Request& request);     // POST /v1/dashboard-users (admin)
  http::Response DeleteUser(http::Request& request);     // DELETE /v1/dashboard-users/{id} (admin)
  http::Response OidcProviders(http::Request& request);  // GET /v1/session/oidc (public)
  http::Response OidcStart(http::Request& request);      // GET /v1/session/oidc/{provider} (public)
  http::Response OidcCallback(http::Request& request);   // GET /v1/session/oidc/callback (public)

 private:
  Result<http::Response> DoSignIn(http::Request& request);
  Result<http::Response> DoGetSession(http::Request& request);
  Result<http::Response> DoSignOut(http::Request& request);
  Result<http::Response> DoListUsers(http::Request& request);
  Result<http::Response> DoCreateUser(http::Request& request);
  Result<http::Response> DoDeleteUser(http::Request& request);
  Result<http::Response> DoOidcStart(http::Request& request);
  std::string Cookie(std::string_view value, int64_t max_age_seconds) const;
  std::string OidcCookie(std::string_view value, int64_t max_age_seconds) const;

  tenancy::DashboardUserService& users_;
  http::RateLimiter& failures_;
  const bool secure_cookies_;
  connections::DashboardOidc* const oidc_;
};

}  // namespace sb::api
