#include "sb/api/session_handlers.h"

#include "sb/api/auth.h"
#include "sb/api/json_body.h"
#include "sb/api/public_limit.h"
#include "sb/api/tenant_handlers.h"
#include "sb/base/time_format.h"
#include "sb/http/problem.h"

namespace sb::api {
namespace {

using store::DashboardRole;
using tenancy::Principal;
using tenancy::Scope;

Json UserJson(const store::DashboardUserRecord& u) {
  return {{"id", u.id.value()},
          {"tenant_id", u.tenant_id.value()},
          {"email", u.email},
          {"name", u.name},
          {"role", std::string(store::DashboardRoleName(u.role))},
          {"password_set", u.password_hash.has_value()},
          {"oidc_provider", u.oidc_provider.empty() ? Json(nullptr) : Json(u.oidc_provider)},
          {"disabled", u.disabled},
          {"locked_until", u.locked_until ? Json(FormatRfc3339(*u.locked_until)) : Json(nullptr)},
          {"created_at", FormatRfc3339(u.created_at)}};
}

Json SessionJson(const tenancy::DashboardSession& s) {
  Json user = UserJson(s.user);
  user["tenant_name"] = s.tenant_name;
  return {
      {"user", user}, {"csrf_token", s.csrf_token}, {"expires_at", FormatRfc3339(s.expires_at)}};
}

Result<DashboardRole> RoleField(const Json& body) {
  SB_ASSIGN_OR_RETURN(std::string text, RequiredString(body, "role", 16));
  const std::optional<DashboardRole> role = store::ParseDashboardRole(text);
  if (!role) return InvalidArgumentError("field 'role' must be operator, admin or viewer");
  return *role;
}

// The tenant a request acts on: its own, or (operators only) the one named by `tenant_id`.
Result<TenantId> TargetTenant(const Principal& p, const std::optional<std::string>& named) {
  if (!named || *named == p.tenant_id.value()) return p.tenant_id;
  SB_RETURN_IF_ERROR(RequireOperator(p, "managing the users of another tenant"));
  TenantId tenant(*named);
  if (!tenant.valid()) return InvalidArgumentError("field 'tenant_id' is not a valid id");
  return tenant;
}

constexpr std::string_view kOidcCookie = "sb_oidc";
constexpr std::string_view kDashboardPath = "/dashboard/";

// Where a failed OpenID Connect sign-in sends the browser: the dashboard's sign-in page, with
// the reason as a code it explains.
http::Response SignInPageWithError(std::string_view code) {
  http::Response response = http::Response::Empty(303);
  response.SetHeader("Location",
                     std::string(kDashboardPath) + "?sign_in_error=" + std::string(code));
  response.SetHeader("Cache-Control", "no-store");
  return response;
}

}  // namespace

http::Response SessionHandlers::SignIn(http::Request& r) { return Respond(r, DoSignIn(r)); }
http::Response SessionHandlers::GetSession(http::Request& r) { return Respond(r, DoGetSession(r)); }
http::Response SessionHandlers::SignOut(http::Request& r) { return Respond(r, DoSignOut(r)); }
http::Response SessionHandlers::ListUsers(http::Request& r) { return Respond(r, DoListUsers(r)); }
http::Response SessionHandlers::CreateUser(http::Request& r) { return Respond(r, DoCreateUser(r)); }
http::Response SessionHandlers::DeleteUser(http::Request& r) { return Respond(r, DoDeleteUser(r)); }

std::string SessionHandlers::Cookie(std::string_view value, int64_t max_age_seconds) const {
  std::string cookie = std::string(kSessionCookie) + "=" + std::string(value) +
                       "; Path=/; Max-Age=" + std::to_string(max_age_seconds) +
                       "; HttpOnly; SameSite=Strict";
  if (secure_cookies_) cookie += "; Secure";
  return cookie;
}

std::string SessionHandlers::OidcCookie(std::string_view value, int64_t max_age_seconds) const {
  std::string cookie = std::string(kOidcCookie) + "=" + std::string(value) +
                       "; Path=/v1/session/oidc; Max-Age=" + std::to_string(max_age_seconds) +
                       "; HttpOnly; SameSite=Lax";
  if (secure_cookies_) cookie += "; Secure";
  return cookie;
}

http::Response SessionHandlers::OidcProviders(http::Request& request) {
  Json data = Json::array();
  if (oidc_ != nullptr) {
    for (const auto& choice : oidc_->Providers()) {
      data.push_back({{"provider", choice.provider},
                      {"name", choice.display_name},
                      {"start_url", "/v1/session/oidc/" + choice.provider}});
    }
  }
  http::Response response = http::Response::Json(200, {{"data", data}});
  response.SetHeader("Cache-Control", "no-store");
  return Respond(request, std::move(response));
}

http::Response SessionHandlers::OidcStart(http::Request& r) { return Respond(r, DoOidcStart(r)); }

Result<http::Response> SessionHandlers::DoOidcStart(http::Request& request) {
  if (oidc_ == nullptr) return NotFoundError("sign-in with a provider is not configured");
  const std::string tenant(request.Query("tenant").value_or(""));
  if (tenant.empty() || tenant.size() > 64) {
    return InvalidArgumentError("query parameter 'tenant' must name the workspace");
  }
  const std::string hint(request.Query("login_hint").value_or(""));
  if (hint.size() > 254) return InvalidArgumentError("query parameter 'login_hint' is too long");
  SB_ASSIGN_OR_RETURN(
      connections::OidcStart start,
      oidc_->Start(TenantId(tenant), request.PathParam("provider").value_or(""), hint));
  http::Response response = http::Response::Empty(303);
  response.SetHeader("Location", start.authorization_url);
  response.SetHeader("Cache-Control", "no-store");
  response.SetHeader("Set-Cookie", OidcCookie(start.browser_binding, 600));
  return response;
}

http::Response SessionHandlers::OidcCallback(http::Request& request) {
  if (oidc_ == nullptr) return SignInPageWithError("not_configured");
  const std::string client = ClientHost(request.remote_address);
  connections::OidcCallback callback;
  callback.state = std::string(request.Query("state").value_or(""));
  callback.code = std::string(request.Query("code").value_or(""));
  callback.error = std::string(request.Query("error").value_or(""));
  if (auto iss = request.Query("iss")) callback.iss = std::string(*iss);
  callback.browser_binding = std::string(http::CookieValue(request, kOidcCookie).value_or(""));
  auto outcome = oidc_->Callback(callback, {request.request_id, request.remote_address});
  http::Response response;
  if (auto* session = std::get_if<tenancy::DashboardSession>(&outcome)) {
    // Straight on to a clean URL: code and state leave the address bar (OA-07).
    response = http::Response::Empty(303);
    response.SetHeader("Location", kDashboardPath);
    response.SetHeader("Cache-Control", "no-store");
    response.SetHeader("Set-Cookie", Cookie(session->token, users_.lifetime().count()));
  } else {
    failures_.Acquire(client);  // failed sign-ins count against the client's budget
    response =
        SignInPageWithError(connections::OidcErrorCode(std::get<connections::OidcError>(outcome)));
  }
  // The binding is single use, like the state.
  response.headers.emplace_back("Set-Cookie", OidcCookie("", 0));
  return response;
}

Result<http::Response> SessionHandlers::DoSignIn(http::Request& request) {
  const std::string client = ClientHost(request.remote_address);
  if (const http::RateDecision budget = failures_.Check(client); !budget.allowed) {
    return http::RateLimitedProblem(std::chrono::ceil<std::chrono::seconds>(budget.retry_after),
                                    request.request_id);
  }
  SB_ASSIGN_OR_RETURN(Json body, ParseJsonObject(request, {"tenant", "email", "password"}));
  SB_ASSIGN_OR_RETURN(std::string tenant, RequiredString(body, "tenant", 64));
  SB_ASSIGN_OR_RETURN(std::string email, RequiredString(body, "email", 254));
  SB_ASSIGN_OR_RETURN(std::string password, RequiredString(body, "password", 1024));
  std::chrono::seconds retry_after{0};
  Result<tenancy::DashboardSession> session = users_.SignIn(
      {TenantId(tenant), email, password, {request.request_id, request.remote_address}},
      &retry_after);
  if (!session.ok()) {
    failures_.Acquire(client);  // a client over its budget is refused before the next try
    if (session.status().code() == StatusCode::kResourceExhausted) {
      return http::RateLimitedProblem(std::max(retry_after, std::chrono::seconds(1)),
                                      request.request_id);
    }
    return session.status();
  }
  http::Response response = http::Response::Json(200, SessionJson(*session));
  response.SetHeader("Set-Cookie", Cookie(session->token, users_.lifetime().count()));
  response.SetHeader("Cache-Control", "no-store");
  return response;
}

Result<http::Response> SessionHandlers::DoGetSession(http::Request& request) {
  const std::optional<std::string_view> token = http::CookieValue(request, kSessionCookie);
  if (!PrincipalOf(request).user_id || !token) {
    return NotFoundError("this request is authenticated by an API key, not a session");
  }
  SB_ASSIGN_OR_RETURN(
      tenancy::DashboardSession session,
      users_.Authenticate(*token, tenancy::DashboardUserService::SessionDetail::kWithTenantName));
  http::Response response = http::Response::Json(200, SessionJson(session));
  response.SetHeader("Cache-Control", "no-store");
  return response;
}

Result<http::Response> SessionHandlers::DoSignOut(http::Request& request) {
  const std::optional<std::string_view> token = http::CookieValue(request, kSessionCookie);
  if (!PrincipalOf(request).user_id || !token) {
    return NotFoundError("this request is authenticated by an API key, not a session");
  }
  SB_RETURN_IF_ERROR(users_.SignOut(AuditContextOf(request), *token));
  http::Response response = http::Response::Empty(204);
  response.SetHeader("Set-Cookie", Cookie("", 0));
  return response;
}

Result<http::Response> SessionHandlers::DoListUsers(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kAdmin));
  SB_ASSIGN_OR_RETURN(int limit, PageLimit(request, 50, 200));
  std::optional<DashboardUserId> after;
  if (auto cursor = request.Query("cursor")) {
    after = DashboardUserId(std::string(*cursor));
    if (!after->valid()) return InvalidArgumentError("query parameter 'cursor' is not valid");
  }
  SB_ASSIGN_OR_RETURN(auto users, users_.List(p.tenant_id, after, limit + 1));
  const bool more = static_cast<int>(users.size()) > limit;
  if (more) users.resize(limit);
  Json data = Json::array();
  for (const auto& u : users) data.push_back(UserJson(u));
  Json next = more ? Json(users.back().id.value()) : Json(nullptr);
  return http::Response::Json(200, {{"data", data}, {"next_cursor", next}});
}

Result<http::Response> SessionHandlers::DoCreateUser(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kAdmin));
  SB_ASSIGN_OR_RETURN(Json body,
                      ParseJsonObject(request, {"email", "name", "role", "password", "tenant_id"}));
  tenancy::NewDashboardUser user;
  SB_ASSIGN_OR_RETURN(user.email, RequiredString(body, "email", 254));
  SB_ASSIGN_OR_RETURN(auto name, OptionalString(body, "name", 200));
  user.name = name.value_or("");
  SB_ASSIGN_OR_RETURN(user.role, RoleField(body));
  SB_ASSIGN_OR_RETURN(user.password, OptionalString(body, "password", 1024));
  SB_ASSIGN_OR_RETURN(auto named, OptionalString(body, "tenant_id", 64));
  SB_ASSIGN_OR_RETURN(TenantId tenant, TargetTenant(p, named));
  // No escalation: only the operator makes operators.
  if (user.role == DashboardRole::kOperator) {
    SB_RETURN_IF_ERROR(RequireOperator(p, "creating operator users"));
  }
  SB_ASSIGN_OR_RETURN(store::DashboardUserRecord created,
                      users_.Create(AuditContextOf(request), tenant, user));
  return http::Response::Json(201, UserJson(created));
}

Result<http::Response> SessionHandlers::DoDeleteUser(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kAdmin));
  const DashboardUserId id(std::string(request.PathParam("id").value_or("")));
  if (!id.valid()) return NotFoundError("dashboard user not found");
  if (p.user_id == id) return FailedPreconditionError("a user cannot delete themselves");
  SB_RETURN_IF_ERROR(users_.Delete(AuditContextOf(request), p.tenant_id, id));
  return http::Response::Empty(204);
}

}  // namespace sb::api
