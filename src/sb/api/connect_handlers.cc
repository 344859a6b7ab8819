#include "sb/api/connect_handlers.h"

#include "sb/api/auth.h"
#include "sb/api/connect_pages.h"
#include "sb/api/json_body.h"
#include "sb/api/tenant_handlers.h"
#include "sb/base/encoding.h"
#include "sb/base/time_format.h"
#include "sb/http/problem.h"
#include "sb/store/calendar/conflict_repository.h"
#include "sb/vault/secure_buffer.h"

namespace sb::api {
namespace {

using tenancy::Principal;
using tenancy::Scope;

Json OptionalTime(const std::optional<Timestamp>& t) {
  return t ? Json(FormatRfc3339(*t)) : Json();
}

Json ConnectionJson(const store::ConnectionRecord& r) {
  return {{"id", r.id.value()},
          {"provider", r.provider},
          {"end_user_id", r.end_user_id},
          {"account",
           {{"subject", r.account_subject},
            {"email", r.account_email},
            {"provider_tenant_id", r.provider_tenant_id}}},
          {"status", std::string(store::ConnectionStatusName(r.status))},
          {"status_reason", r.status_reason},
          {"services", ServiceGrantsJson(r.services)},
          {"granted_scopes", r.granted_scopes},
          {"missing_scopes", r.missing_scopes},
          {"settings", r.settings},
          {"token",
           {{"access_token_expires_at", OptionalTime(r.access_expires_at)},
            {"refresh_token_present", r.has_refresh_token},
            {"version", r.token_version},
            {"next_refresh_at", OptionalTime(r.next_refresh_at)},
            {"consecutive_refresh_failures", r.refresh_failures}}},
          {"created_at", FormatRfc3339(r.created_at)},
          {"updated_at", FormatRfc3339(r.updated_at)}};
}

bool SecureCookies(const connections::ConnectService& connect) {
  return connect.PublicUrl().starts_with("https://");
}

// A cookie that only the callback gets back: HttpOnly, and SameSite=Lax because the provider
// sends the browser there from another site. An empty value with max_age 0 clears it.
std::string CallbackCookie(std::string_view name, std::string_view value, int64_t max_age,
                           bool secure) {
  std::string cookie = std::string(name) + "=" + std::string(value) +
                       "; Path=/connect/callback; Max-Age=" + std::to_string(max_age) +
                       "; HttpOnly; SameSite=Lax";
  if (secure) cookie += "; Secure";
  return cookie;
}

http::Response InvalidSessionPage() {
  return HtmlPage(404, RenderProblemPage("This link does not work",
                                         "This connect link is not valid or has expired. Go back "
                                         "to the app and start again.",
                                         "invalid_session"));
}

http::Response ForbiddenPage() {
  return HtmlPage(403, RenderProblemPage("This form was not sent from the connect page",
                                         "For your safety, connecting only works from the page "
                                         "the app sent you to. Go back to the app and start "
                                         "again.",
                                         "forbidden_origin"));
}

// The browser's own statements about where a form post comes from: Origin, when sent, must be
// the hub's public origin (an opaque "null" is refused too), and Sec-Fetch-Site must not say
// another site. Absent headers (older browsers, non-browser clients) pass; the CSRF token
// still has to match.
bool SameOriginPost(const http::Request& request, const std::string& public_url) {
  if (auto site = request.Header("Sec-Fetch-Site")) {
    if (!http::EqualsIgnoreCase(*site, "same-origin") && !http::EqualsIgnoreCase(*site, "none")) {
      return false;
    }
  }
  if (auto origin = request.Header("Origin")) {
    const std::optional<std::string> expected = UrlOrigin(public_url);
    return expected && UrlOrigin(*origin, /*bare=*/true) == expected;
  }
  return true;
}

}  // namespace

http::Response ConnectHandlers::CreateSession(http::Request& r) {
  return Respond(r, DoCreateSession(r));
}
http::Response ConnectHandlers::ListConnections(http::Request& r) {
  return Respond(r, DoListConnections(r));
}
http::Response ConnectHandlers::GetConnection(http::Request& r) {
  return Respond(r, DoGetConnection(r));
}
http::Response ConnectHandlers::PatchConnection(http::Request& r) {
  return Respond(r, DoPatchConnection(r));
}
http::Response ConnectHandlers::DeleteConnection(http::Request& r) {
  return Respond(r, DoDeleteConnection(r));
}
http::Response ConnectHandlers::RefreshConnection(http::Request& r) {
  return Respond(r, DoRefreshConnection(r));
}

Result<http::Response> ConnectHandlers::DoCreateSession(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kWrite));
  SB_ASSIGN_OR_RETURN(
      Json body, ParseJsonObject(request, {"end_user", "providers", "services", "return_url"}));
  connections::ConnectSessionInput input;
  if (!body.contains("end_user") || !body["end_user"].is_object()) {
    return InvalidArgumentError("field 'end_user' must be an object {\"id\", \"email\"}");
  }
  const Json& end_user = body["end_user"];
  for (const auto& [key, value] : end_user.items()) {
    if (key != "id" && key != "email") {
      return InvalidArgumentError("unknown field 'end_user." + key + "'");
    }
  }
  SB_ASSIGN_OR_RETURN(input.end_user_id, RequiredString(end_user, "id", 256));
  SB_ASSIGN_OR_RETURN(auto email, OptionalString(end_user, "email", 320));
  input.end_user_email = email.value_or("");
  if (body.contains("providers")) {
    SB_ASSIGN_OR_RETURN(input.allowed_providers, RequiredStringArray(body, "providers"));
  }
  SB_ASSIGN_OR_RETURN(input.services, ParseServiceGrants(body));
  SB_ASSIGN_OR_RETURN(input.return_url, RequiredString(body, "return_url", 2048));
  Result<connections::CreatedSession> created =
      connect_.CreateSession(p.tenant_id, input, AuditContextOf(request));
  if (!created.ok() && created.status().code() == StatusCode::kFailedPrecondition) {
    // OA-06: a well-formed URL the tenant does not allow.
    return http::MakeProblem(422, "return-url-not-allowed", created.status().message(),
                             request.request_id);
  }
  SB_RETURN_IF_ERROR(created.status());
  http::Response response =
      http::Response::Json(201, {{"id", created->record.id.value()},
                                 {"token", created->token},
                                 {"url", created->url},
                                 {"end_user_id", created->record.end_user_id},
                                 {"expires_at", FormatRfc3339(created->record.expires_at)}});
  response.SetHeader("Cache-Control", "no-store");
  return response;
}

http::Response ConnectHandlers::Page(http::Request& request) {
  const std::string token(request.PathParam("token").value_or(""));
  auto page = connect_.OpenSession(token);
  if (!page.ok()) {
    const bool missing = page.status().code() == StatusCode::kNotFound;
    return HtmlPage(missing ? 404 : 503,
                    RenderProblemPage(missing ? "This link does not work" : "Please try again",
                                      missing ? "This connect link is not valid or has expired. "
                                                "Go back to the app and start again."
                                              : "Something went wrong on our side.",
                                      missing ? "invalid_session" : "unavailable"));
  }
  return HtmlPage(200, RenderConnectPage(*page, token));
}

http::Response ConnectHandlers::Start(http::Request& request) {
  // Before anything else: a cross-site post is refused without reading the session.
  if (!SameOriginPost(request, connect_.PublicUrl())) return ForbiddenPage();
  const std::string token(request.PathParam("token").value_or(""));
  auto form = http::ParseForm(request.body);
  std::string provider;
  std::string csrf;
  std::vector<store::ServiceGrant> services;
  bool malformed = !form.ok();
  if (form.ok()) {
    for (const auto& [name, value] : *form) {
      if (name == "provider") provider = value;
      if (name == kCsrfField) csrf = value;
      if (name != "service") continue;
      const size_t colon = value.find(':');
      const std::string access = colon == std::string::npos ? "read" : value.substr(colon + 1);
      if (access != "read" && access != "read_write") malformed = true;
      services.push_back({value.substr(0, colon), access == "read_write"});
    }
  }
  if (malformed || provider.empty()) {
    return HtmlPage(400, RenderProblemPage("Please choose a provider",
                                           "The form was incomplete. Go back and choose a "
                                           "provider to connect.",
                                           "invalid_request"));
  }
  auto start = connect_.Start(token, provider, services, csrf, request.request_id);
  if (!start.ok()) {
    const StatusCode code = start.status().code();
    if (code == StatusCode::kPermissionDenied) return ForbiddenPage();
    if (code == StatusCode::kNotFound) return InvalidSessionPage();
    if (code == StatusCode::kInvalidArgument) {
      return HtmlPage(400, RenderProblemPage("That choice is not available",
                                             start.status().message(), "invalid_choice"));
    }
    return HtmlPage(503, RenderProblemPage("Please try again", "Something went wrong on our side.",
                                           "unavailable"));
  }
  http::Response response = HtmlPage(303, "");
  response.SetHeader("Location", start->authorization_url);
  const bool secure = SecureCookies(connect_);
  response.headers.emplace_back(
      "Set-Cookie", CallbackCookie(kConnectCookie, start->browser_binding, 600, secure));
  // The session's token goes back only to the callback, so that a failed one can offer "Try
  // again" to the browser that holds it (RetryOf); it lives as long as the session.
  response.headers.emplace_back("Set-Cookie", CallbackCookie(kConnectSessionCookie, token,
                                                             start->session_left.count(), secure));
  return response;
}

http::Response ConnectHandlers::SubmitCredentials(http::Request& request) {
  if (!SameOriginPost(request, connect_.PublicUrl())) return ForbiddenPage();
  connections::CredentialSubmission submission;
  submission.token = std::string(request.PathParam("token").value_or(""));
  submission.request_id = request.request_id;
  auto form = http::ParseForm(request.body);
  bool malformed = !form.ok();
  if (form.ok()) {
    for (auto& [name, value] : *form) {
      if (name == "provider") submission.provider = value;
      if (name == kCsrfField) submission.csrf_token = value;
      if (!name.starts_with("field.")) continue;
      // A field named twice is refused rather than resolved one way or the other.
      malformed |= !submission.values.emplace(name.substr(6), std::move(value)).second;
    }
  }
  if (malformed || submission.provider.empty()) {
    return HtmlPage(400, RenderProblemPage("Please fill in the form",
                                           "The form was incomplete. Go back and fill in the "
                                           "provider's fields.",
                                           "invalid_request"));
  }
  auto connected = connect_.ConnectWithCredentials(submission);
  http::Response response;
  if (connected.ok()) {
    response = HtmlPage(303, "");
    response.SetHeader("Location", AppendQuery(connected->return_url,
                                               {{"status", "connected"},
                                                {"connection_id", connected->connection.id.value()},
                                                {"provider", connected->connection.provider}}));
  } else {
    response = CredentialFailurePage(submission, connected.status());
  }
  for (auto& [name, value] : submission.values) vault::Wipe(value);
  return response;
}

http::Response ConnectHandlers::CredentialFailurePage(
    const connections::CredentialSubmission& submission, const Status& status) {
  const StatusCode code = status.code();
  if (code == StatusCode::kPermissionDenied) return ForbiddenPage();
  if (code == StatusCode::kNotFound) return InvalidSessionPage();
  const bool retry = code == StatusCode::kInvalidArgument ||
                     code == StatusCode::kFailedPrecondition || code == StatusCode::kUnavailable ||
                     code == StatusCode::kResourceExhausted;
  auto page =
      retry ? connect_.OpenSession(submission.token) : Result<connections::SessionPage>(status);
  if (!page.ok()) {
    return HtmlPage(503, RenderProblemPage("Please try again", "Something went wrong on our side.",
                                           "unavailable"));
  }
  CredentialFormState failed{submission.provider, status.message(), {}};
  for (const auto& [name, value] : submission.values) failed.values.emplace(name, value);
  const int http_status = code == StatusCode::kUnavailable          ? 503
                          : code == StatusCode::kResourceExhausted  ? 422
                          : code == StatusCode::kFailedPrecondition ? 422
                                                                    : 400;
  http::Response response =
      HtmlPage(http_status, RenderConnectPage(*page, submission.token, &failed));
  for (auto& [name, value] : failed.values) vault::Wipe(value);
  return response;
}

http::Response ConnectHandlers::Callback(http::Request& request) {
  connections::CallbackParams params;
  params.state = std::string(request.Query("state").value_or(""));
  params.code = std::string(request.Query("code").value_or(""));
  params.error = std::string(request.Query("error").value_or(""));
  if (auto iss = request.Query("iss")) params.iss = std::string(*iss);
  params.browser_binding = std::string(http::CookieValue(request, kConnectCookie).value_or(""));
  params.session_token =
      std::string(http::CookieValue(request, kConnectSessionCookie).value_or(""));
  params.request_id = request.request_id;
  auto outcome = connect_.Callback(params);
  const bool secure = SecureCookies(connect_);
  http::Response response;
  if (auto* ok = std::get_if<connections::CallbackSuccess>(&outcome)) {
    // Straight on to a clean URL: code and state leave the address bar (OA-07).
    response = HtmlPage(303, "");
    response.SetHeader("Location",
                       AppendQuery(ok->return_url, {{"status", "connected"},
                                                    {"connection_id", ok->connection.id.value()},
                                                    {"provider", ok->connection.provider}}));
    response.headers.emplace_back("Set-Cookie",
                                  CallbackCookie(kConnectSessionCookie, "", 0, secure));
  } else {
    // The session cookie stays, so that reloading the page still offers "Try again".
    const auto& failure = std::get<connections::CallbackFailure>(outcome);
    response =
        HtmlPage(DescribeCallbackFailure(failure).status, RenderCallbackFailurePage(failure));
  }
  // The binding is single use, like the state.
  response.headers.emplace_back("Set-Cookie", CallbackCookie(kConnectCookie, "", 0, secure));
  return response;
}

Result<http::Response> ConnectHandlers::DoListConnections(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  SB_ASSIGN_OR_RETURN(int limit,
                      PageLimit(request, 50, store::ConnectionRepository::kMaxListLimit));
  store::ConnectionFilter filter;
  if (auto provider = request.Query("provider")) filter.provider = std::string(*provider);
  if (auto end_user = request.Query("end_user_id")) filter.end_user_id = std::string(*end_user);
  if (auto status = request.Query("status")) {
    filter.status = store::ParseConnectionStatus(*status);
    if (!filter.status) return InvalidArgumentError("unknown status filter");
  }
  std::optional<ConnectionId> after;
  if (auto cursor = request.Query("cursor")) {
    if (!IsCanonicalUuid(*cursor)) return InvalidArgumentError("malformed cursor");
    after = ConnectionId(std::string(*cursor));
  }
  SB_ASSIGN_OR_RETURN(auto records, connections_.List(p.tenant_id, filter, after, limit));
  Json data = Json::array();
  for (const auto& r : records) data.push_back(ConnectionJson(r));
  Json body = {{"data", data}, {"next_cursor", nullptr}};
  if (static_cast<int>(records.size()) == limit) body["next_cursor"] = records.back().id.value();
  return http::Response::Json(200, body);
}

Result<http::Response> ConnectHandlers::DoGetConnection(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kRead));
  SB_ASSIGN_OR_RETURN(ConnectionId id, ConnectionParam(request));
  auto record = connections_.Get(p.tenant_id, id);
  SB_RETURN_IF_ERROR(record.status());
  return http::Response::Json(200, ConnectionJson(*record));
}

namespace {

// settings.conflict_policies, when present: {"<service>": "<policy>"} with known policies
// (sync/calendar/conflicts.h), so a typo does not silently fall back to the default.
Status CheckConflictPolicies(const Json& settings) {
  const auto it = settings.find("conflict_policies");
  if (it == settings.end()) return OkStatus();
  Status checked = store::CheckConflictPolicies(*it);
  if (checked.ok()) return checked;
  std::string message = "settings.";
  message += checked.message();
  return InvalidArgumentError(message);
}

}  // namespace

Result<http::Response> ConnectHandlers::DoPatchConnection(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kWrite));
  SB_ASSIGN_OR_RETURN(ConnectionId id, ConnectionParam(request));
  SB_ASSIGN_OR_RETURN(Json body, ParseJsonObject(request, {"services", "settings", "enabled"}));
  connections::ConnectionPatch patch;
  if (body.contains("services")) {
    SB_ASSIGN_OR_RETURN(patch.services, ParseServiceGrants(body));
  }
  if (body.contains("settings")) {
    if (!body["settings"].is_object()) {
      return InvalidArgumentError("field 'settings' must be an object");
    }
    SB_RETURN_IF_ERROR(CheckConflictPolicies(body["settings"]));
    patch.settings = body["settings"];
  }
  if (body.contains("enabled")) {
    if (!body["enabled"].is_boolean()) {
      return InvalidArgumentError("field 'enabled' must be a boolean");
    }
    patch.enabled = body["enabled"].get<bool>();
  }
  auto record = connections_.Patch(p.tenant_id, id, patch, AuditContextOf(request));
  SB_RETURN_IF_ERROR(record.status());
  return http::Response::Json(200, ConnectionJson(*record));
}

Result<http::Response> ConnectHandlers::DoDeleteConnection(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kWrite));
  SB_ASSIGN_OR_RETURN(ConnectionId id, ConnectionParam(request));
  auto deleted = connections_.Delete(p.tenant_id, id, AuditContextOf(request));
  SB_RETURN_IF_ERROR(deleted.status());
  if (!*deleted) return NotFoundError("connection not found");
  return http::Response::Empty(204);
}

Result<http::Response> ConnectHandlers::DoRefreshConnection(http::Request& request) {
  const Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, Scope::kWrite));
  SB_ASSIGN_OR_RETURN(ConnectionId id, ConnectionParam(request));
  auto token = connections_.Token(p.tenant_id, id, connections::RefreshMode::kForce,
                                  AuditContextOf(request));
  SB_RETURN_IF_ERROR(token.status());
  SB_ASSIGN_OR_RETURN(auto record, connections_.Get(p.tenant_id, id));
  return http::Response::Json(
      200, {{"refreshed", token->refreshed}, {"connection", ConnectionJson(record)}});
}

}  // namespace sb::api
