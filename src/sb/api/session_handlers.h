// REST handlers for dashboard sign-in (/v1/session) and dashboard users (/v1/dashboard-users).
//
// POST /v1/session is public: it takes {tenant, email, password}, and on success sets the
// session cookie (HttpOnly, SameSite=Strict, Path=/, Secure behind https) and answers with the
// user, the tenant's name and the session's CSRF token. Failed sign-ins are charged to the
// client's failure budget (the one API-key failures use), so guessing is slowed per address as
// well as per user (the user's temporary lock). GET and DELETE /v1/session answer for the
// session of the cookie; an API key has no session (404). Dashboard users are managed by admins
// of their tenant (API key or session alike). Thread-safe (stateless over the services).
#pragma once

#include "sb/http/rate_limiter.h"
#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/tenancy/dashboard_users.h"

namespace sb::api {

class SessionHandlers {
 public:
  // `failures` is the per-client budget of failed authentications; `secure_cookies` adds
  // Secure to the cookie (the hub is served over https).
  SessionHandlers(tenancy::DashboardUserService& users, http::RateLimiter& failures,
                  bool secure_cookies)
      : users_(users), failures_(failures), secure_cookies_(secure_cookies) {}

  http::Response SignIn(http::Request& request);      // POST /v1/session (public)
  http::Response GetSession(http::Request& request);  // GET /v1/session
  http::Response SignOut(http::Request& request);     // DELETE /v1/session
  http::Response ListUsers(http::Request& request);   // GET /v1/dashboard-users (admin)
  http::Response CreateUser(http::Request& request);  // POST /v1/dashboard-users (admin)
  http::Response DeleteUser(http::Request& request);  // DELETE /v1/dashboard-users/{id} (admin)

 private:
  Result<http::Response> DoSignIn(http::Request& request);
  Result<http::Response> DoGetSession(http::Request& request);
  Result<http::Response> DoSignOut(http::Request& request);
  Result<http::Response> DoListUsers(http::Request& request);
  Result<http::Response> DoCreateUser(http::Request& request);
  Result<http::Response> DoDeleteUser(http::Request& request);
  std::string Cookie(std::string_view value, int64_t max_age_seconds) const;

  tenancy::DashboardUserService& users_;
  http::RateLimiter& failures_;
  const bool secure_cookies_;
};

}  // namespace sb::api
