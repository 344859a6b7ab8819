// The identity platform v2.0 endpoints (provider-protocols.md 6): authorize with a consent
// page, the token endpoint (authorization_code with PKCE, refresh_token with rotation),
// OpenID configuration and JWKS.
#include <algorithm>
#include <set>

#include "sandbox/core/url.h"
#include "sandbox/crypto/jwt.h"
#include "sandbox/microsoft/graph_common.h"
#include "sandbox/microsoft/microsoft.h"

#include "sb/base/check.h"
#include "sb/base/encoding.h"

namespace sandbox::microsoft {
namespace {

using sb::http::HeaderList;
using sb::http::Request;
using sb::http::Response;

constexpr std::string_view kGraphPrefix = "https://graph.microsoft.com/";
const std::set<std::string, std::less<>> kOidcScopes = {"openid", "profile", "email",
                                                        "offline_access"};

std::string Field(const HeaderList& fields, std::string_view name) {
  return FieldOf(fields, name).value_or("");
}

// Scopes without Graph's resource prefix, in request order, de-duplicated.
std::vector<std::string> ParseScopes(std::string_view text) {
  std::vector<std::string> scopes;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find(' ', at);
    if (end == std::string_view::npos) end = text.size();
    std::string scope(text.substr(at, end - at));
    if (scope.starts_with(kGraphPrefix)) scope = scope.substr(kGraphPrefix.size());
    if (!scope.empty() && std::find(scopes.begin(), scopes.end(), scope) == scopes.end()) {
      scopes.push_back(scope);
    }
    at = end + 1;
  }
  return scopes;
}

bool Has(const std::vector<std::string>& scopes, std::string_view scope) {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

// The token response's scope: Graph scopes fully qualified, offline_access left out as the
// real service does.
std::string ScopeText(const std::vector<std::string>& scopes) {
  std::string text;
  for (const std::string& scope : scopes) {
    if (scope == "offline_access") continue;
    if (!text.empty()) text += ' ';
    text += kOidcScopes.contains(scope) ? scope : std::string(kGraphPrefix) + scope;
  }
  return text;
}

bool IsLoopback(std::string_view uri) {
  for (std::string_view prefix : {"http://127.0.0.1", "http://localhost", "https://127.0.0.1",
                                  "https://localhost", "http://[::1]"}) {
    if (uri.starts_with(prefix) &&
        (uri.size() == prefix.size() || uri[prefix.size()] == ':' || uri[prefix.size()] == '/')) {
      return true;
    }
  }
  return false;
}

Response HtmlPage(int status, std::string_view title, std::string_view body) {
  return Response::Text(status,
                        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" +
                            sb::HtmlEscape(title) + "</title></head><body>" + std::string(body) +
                            "</body></html>",
                        "text/html; charset=utf-8");
}

// What a valid authorize request resolved to.
struct AuthorizeContext {
  HeaderList params;
  OAuthClient client;
  std::string redirect_uri;
  std::string response_mode;
  std::string state;
};

// Sends the browser back to the client with `fields` (plus state) the way response_mode asks.
Response RedirectBack(const AuthorizeContext& context,
                      std::vector<std::pair<std::string, std::string>> fields) {
  if (!context.state.empty()) fields.emplace_back("state", context.state);
  if (context.response_mode == "form_post") {
    std::string inputs;
    for (const auto& [name, value] : fields) {
      inputs += "<input type=\"hidden\" name=\"" + sb::HtmlEscape(name) + "\" value=\"" +
                sb::HtmlEscape(value) + "\">";
    }
    return HtmlPage(200, "Working...",
                    "<form method=\"POST\" name=\"hiddenform\" action=\"" +
                        sb::HtmlEscape(context.redirect_uri) + "\">" + inputs +
                        "<noscript><button type=\"submit\">Continue</button></noscript></form>"
                        "<script>document.forms[0].submit()</script>");
  }
  std::string location = context.redirect_uri;
  if (context.response_mode == "fragment") {
    location += "#" + sb::FormEncode(fields);
  } else {
    location = AppendQuery(location, fields);
  }
  Response response = Response::Empty(302);
  response.SetHeader("Location", location);
  return response;
}

Response RedirectError(const AuthorizeContext& context, std::string error, int code,
                       std::string description) {
  return RedirectBack(context, {{"error", std::move(error)},
                                {"error_description",
                                 "AADSTS" + std::to_string(code) + ": " + std::move(description)}});
}

std::variant<AuthorizeContext, Response> CheckAuthorize(const IdentityStore& identity,
                                                        HeaderList params) {
  AuthorizeContext context;
  const std::string client_id = Field(params, "client_id");
  auto client = identity.Client(client_id);
  if (!client) {
    return HtmlPage(400, "Sign in",
                    "<p>AADSTS700016: Application with identifier '" + sb::HtmlEscape(client_id) +
                        "' was not found in the directory.</p>");
  }
  context.redirect_uri = Field(params, "redirect_uri");
  const auto& uris = client->redirect_uris;
  const bool registered =
      uris.empty() ? IsLoopback(context.redirect_uri)
                   : std::find(uris.begin(), uris.end(), context.redirect_uri) != uris.end();
  if (!registered) {
    return HtmlPage(400, "Sign in",
                    "<p>AADSTS50011: The redirect URI '" + sb::HtmlEscape(context.redirect_uri) +
                        "' specified in the request does not match the redirect URIs configured "
                        "for the application.</p>");
  }
  context.client = *client;
  context.state = Field(params, "state");
  context.response_mode = Field(params, "response_mode");
  if (context.response_mode.empty()) context.response_mode = "query";
  context.params = std::move(params);
  return context;
}

}  // namespace

std::string MicrosoftSandbox::Issuer(const Request& request, std::string_view tenant) const {
  std::string host = origin_.settings().String("issuer_host");
  if (host.empty()) host = origin_.UrlFor(request);
  return host + "/" + std::string(tenant) + "/v2.0";
}

void MicrosoftSandbox::RegisterIdentity() {
  const sb::http::RouteOptions open{.authenticated = false};
  auto add = [&](std::string_view method, std::string_view pattern, sb::http::Handler handler) {
    SB_CHECK(origin_.router().Add(method, pattern, std::move(handler), open).ok());
  };
  add("GET", "/{tenant}/oauth2/v2.0/authorize", [this](Request& r) { return Authorize(r); });
  add("POST", "/{tenant}/oauth2/v2.0/authorize",
      [this](Request& r) { return AuthorizeDecision(r); });
  add("POST", "/{tenant}/oauth2/v2.0/token", [this](Request& r) { return Token(r); });
  add("GET", "/{tenant}/discovery/v2.0/keys", [this](Request& request) {
    sb::Json jwk = key_.PublicJwk();
    jwk["issuer"] = Issuer(request, "{tenantid}");
    return Response::Json(200, {{"keys", sb::Json::array({jwk})}});
  });
  add("GET", "/{tenant}/v2.0/.well-known/openid-configuration", [this](Request& request) {
    const std::string tenant(*request.PathParam("tenant"));
    const bool multi = tenant == "common" || tenant == "organizations" || tenant == "consumers";
    const std::string base = origin_.UrlFor(request) + "/" + tenant;
    return Response::Json(
        200, {{"token_endpoint", base + "/oauth2/v2.0/token"},
              {"token_endpoint_auth_methods_supported",
               {"client_secret_post", "private_key_jwt", "client_secret_basic"}},
              {"jwks_uri", base + "/discovery/v2.0/keys"},
              {"response_modes_supported", {"query", "fragment", "form_post"}},
              {"subject_types_supported", {"pairwise"}},
              {"id_token_signing_alg_values_supported", {"RS256"}},
              {"response_types_supported", {"code", "id_token", "code id_token", "id_token token"}},
              {"scopes_supported", {"openid", "profile", "email", "offline_access"}},
              {"issuer", Issuer(request, multi ? "{tenantid}" : tenant)},
              {"request_uri_parameter_supported", false},
              {"userinfo_endpoint", origin_.UrlFor(request) + "/oidc/userinfo"},
              {"authorization_endpoint", base + "/oauth2/v2.0/authorize"},
              {"device_authorization_endpoint", base + "/oauth2/v2.0/devicecode"},
              {"http_logout_supported", true},
              {"frontchannel_logout_supported", true},
              {"end_session_endpoint", base + "/oauth2/v2.0/logout"},
              {"claims_supported",
               {"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "preferred_username",
                "name", "tid", "ver", "email", "oid"}},
              {"tenant_region_scope", nullptr},
              {"cloud_instance_name", "microsoftonline.com"},
              {"cloud_graph_host_name", "graph.windows.net"},
              {"msgraph_host", "graph.microsoft.com"}});
  });
}

Response MicrosoftSandbox::Authorize(Request& request) {
  auto checked = CheckAuthorize(identity_, request.query);
  if (auto* page = std::get_if<Response>(&checked)) return std::move(*page);
  const auto& context = std::get<AuthorizeContext>(checked);
  const HeaderList& p = context.params;
  if (Field(p, "response_type") != "code") {
    return RedirectError(context, "unsupported_response_type", 70005,
                         "The provided value for the input parameter 'response_type' is not "
                         "allowed for this request. Expected value: 'code'.");
  }
  if (Field(p, "scope").empty()) {
    return RedirectError(context, "invalid_request", 900144,
                         "The request body must contain the following parameter: 'scope'.");
  }
  const std::string method = Field(p, "code_challenge_method");
  if (!method.empty() && method != "S256" && method != "plain") {
    return RedirectError(context, "invalid_request", 5000031,
                         "The code_challenge_method is not supported.");
  }
  const std::string hint = Field(p, "login_hint");
  std::optional<Account> account = hint.empty() ? std::nullopt : identity_.FindAccountByEmail(hint);
  if (!account) {
    const auto accounts = identity_.Accounts();
    if (!accounts.empty()) account = accounts.front();
  }
  const bool automatic = origin_.settings().Bool("auto_consent");
  if (!automatic && Field(p, "prompt") == "none") {
    return RedirectError(context, "interaction_required", 50058,
                         "A silent sign-in request was sent but no user is signed in.");
  }
  if (!account) {
    return RedirectError(context, "login_required", 50058, "No account exists to sign in with.");
  }
  if (automatic) {
    request.body = sb::FormEncode(
        {{"decision", origin_.settings().String("consent_decision") == "deny" ? "deny" : "accept"},
         {"account_id", account->id}});
    for (const auto& field : p) {
      request.body += "&" + sb::FormEncode({{field.first, field.second}});
    }
    return AuthorizeDecision(request);
  }
  std::string hidden;
  for (const auto& [name, value] : p) {
    hidden += "<input type=\"hidden\" name=\"" + sb::HtmlEscape(name) + "\" value=\"" +
              sb::HtmlEscape(value) + "\">";
  }
  std::string options;
  for (const Account& candidate : identity_.Accounts()) {
    options += "<option value=\"" + sb::HtmlEscape(candidate.id) + "\"" +
               (candidate.id == account->id ? " selected" : "") + ">" +
               sb::HtmlEscape(candidate.email) + "</option>";
  }
  return HtmlPage(200, "Permissions requested",
                  "<h1>Permissions requested</h1><p>" + sb::HtmlEscape(context.client.client_id) +
                      " wants: " + sb::HtmlEscape(Field(p, "scope")) +
                      "</p><form method=\"POST\">" + hidden + "<select name=\"account_id\">" +
                      options +
                      "</select><button name=\"decision\" value=\"accept\">Accept</button>"
                      "<button name=\"decision\" value=\"deny\">Cancel</button></form>");
}

Response MicrosoftSandbox::AuthorizeDecision(Request& request) {
  auto form = ParseForm(request.body);
  if (!form) return HtmlPage(400, "Sign in", "<p>AADSTS9002313: Invalid request.</p>");
  auto checked = CheckAuthorize(identity_, *form);
  if (auto* page = std::get_if<Response>(&checked)) return std::move(*page);
  const auto& context = std::get<AuthorizeContext>(checked);
  const HeaderList& p = context.params;
  if (Field(p, "decision") != "accept") {
    return RedirectError(context, "access_denied", 65004,
                         "User declined to consent to access the app.");
  }
  auto account = identity_.FindAccount(Field(p, "account_id"));
  if (!account) return RedirectError(context, "login_required", 50058, "Unknown account.");
  AuthCode code;
  code.client_id = context.client.client_id;
  code.redirect_uri = context.redirect_uri;
  code.account_id = account->id;
  code.scopes = ParseScopes(Field(p, "scope"));
  code.code_challenge = Field(p, "code_challenge");
  code.code_challenge_method = Field(p, "code_challenge_method");
  if (!code.code_challenge.empty() && code.code_challenge_method.empty()) {
    code.code_challenge_method = "plain";
  }
  code.nonce = Field(p, "nonce");
  code.issue_refresh_token = Has(code.scopes, "offline_access");
  code.expires_ms = Now() + origin_.settings().Int("code_ttl_seconds") * 1000;
  identity_.RecordConsent(account->id, code.client_id, code.scopes);
  const std::string text = "0.AX" + identity_.IssueCode(std::move(code)).substr(3);
  std::vector<std::pair<std::string, std::string>> fields = {{"code", text}};
  if (account->tenant_id != kPersonalTenantId) fields.emplace_back("session_state", NewGuid());
  return RedirectBack(context, std::move(fields));
}

namespace {

// Message for an injected or detected AADSTS grant failure.
std::pair<std::string, std::string> GrantFailure(int code) {
  switch (code) {
    case 70008:
      return {"invalid_grant",
              "The provided authorization code or refresh token has expired due to inactivity. "
              "Send a new interactive authorization request for this user and resource."};
    case 700082:
      return {"invalid_grant",
              "The refresh token has expired due to inactivity. The token was issued on "
              "2024-01-01T00:00:00.0000000Z and was inactive for 90.00:00:00."};
    case 700084:
      return {"invalid_grant",
              "The refresh token was issued to a single page app (SPA), and therefore has a "
              "fixed, limited lifetime of 1.00:00:00, which can't be extended."};
    case 50173:
      return {"invalid_grant",
              "The provided grant has expired due to it being revoked, a fresh auth token is "
              "needed. The user might have changed or reset their password."};
    case 54005:
      return {"invalid_grant",
              "OAuth2 Authorization code was already redeemed, please retry with a new valid "
              "code or use an existing refresh token."};
    case 501481:
      return {"invalid_grant",
              "The Code_Verifier does not match the code_challenge supplied in "
              "the authorization request."};
    case 50076:
    case 50079:
      return {"interaction_required",
              "Due to a configuration change made by your administrator, or because you moved "
              "to a new location, you must use multi-factor authentication to access "
              "'00000003-0000-0000-c000-000000000000'."};
    case 65001:
      return {"invalid_grant",
              "The user or administrator has not consented to use the application."};
    case 9002313:
      return {"invalid_grant", "Invalid request. Request is malformed or invalid."};
    default:
      return {"invalid_grant", "Provided grant is invalid or malformed."};
  }
}

Response GrantFailureResponse(int code, int64_t now_ms) {
  auto [error, message] = GrantFailure(code);
  Response response = AadError(400, error, code, message, now_ms,
                               error == "interaction_required" ? "basic_action" : "");
  if (error == "interaction_required") {
    sb::Json body = sb::Json::parse(response.body);
    body["claims"] = R"({"access_token":{"capolids":{"essential":true,"values":["mfa"]}}})";
    response.body = body.dump();
  }
  return response;
}

int GrantErrorCode(GrantError error) {
  switch (error) {
    case GrantError::kAlreadyUsed:
      return 54005;
    case GrantError::kExpired:
    case GrantError::kRotatedAway:
      return 70008;
    case GrantError::kRevoked:
      return 50173;
    case GrantError::kPkceMismatch:
    case GrantError::kPkceMissing:
      return 501481;
    case GrantError::kClientMismatch:
    case GrantError::kRedirectMismatch:
      return 70000;
    case GrantError::kUnknown:
      return 9002313;
  }
  return 70000;
}

// The client credentials of a token request: Basic header first, then the form.
std::pair<std::string, std::optional<std::string>> ClientCredentials(const Request& request,
                                                                     const HeaderList& form) {
  const auto header = request.Header("Authorization");
  if (header && header->size() > 6 && sb::http::EqualsIgnoreCase(header->substr(0, 6), "basic ")) {
    const auto decoded = sb::Base64Decode(header->substr(6));
    if (decoded) {
      const size_t colon = decoded->find(':');
      auto id = sb::http::PercentDecode(decoded->substr(0, colon), true);
      auto secret = sb::http::PercentDecode(
          colon == std::string::npos ? "" : decoded->substr(colon + 1), true);
      if (id.ok() && secret.ok()) return {*id, *secret};
    }
  }
  return {Field(form, "client_id"), FieldOf(form, "client_secret")};
}

}  // namespace

std::optional<int> MicrosoftSandbox::TakeRefreshFailure() {
  std::lock_guard<std::mutex> lock(refresh_failures_mu_);
  if (refresh_failures_.empty()) return std::nullopt;
  const int code = refresh_failures_.front();
  refresh_failures_.pop_front();
  return code;
}

Response MicrosoftSandbox::Token(Request& request) {
  const auto form = ParseForm(request.body);
  if (!form) {
    return AadError(400, "invalid_request", 9002313,
                    "Invalid request. Request is malformed or invalid.", Now());
  }
  auto [client_id, secret] = ClientCredentials(request, *form);
  if (client_id.empty()) {
    return AadError(400, "invalid_request", 900144,
                    "The request body must contain the following parameter: 'client_id'.", Now());
  }
  const auto client = identity_.Client(client_id);
  if (!client) {
    return AadError(
        400, "unauthorized_client", 700016,
        "Application with identifier '" + client_id + "' was not found in the directory.", Now());
  }
  if (!client->client_secret.empty() && !secret) {
    return AadError(401, "invalid_client", 7000218,
                    "The request body must contain the following parameter: 'client_assertion' "
                    "or 'client_secret'.",
                    Now());
  }
  if (!client->client_secret.empty() && *secret != client->client_secret) {
    return AadError(401, "invalid_client", 7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the request "
                    "is the client secret value, not the client secret ID, for a secret added to "
                    "app '" +
                        client_id + "'.",
                    Now());
  }
  const std::string grant = Field(*form, "grant_type");
  if (grant == "authorization_code") return RedeemCode(request, *form, *client);
  if (grant == "refresh_token") return RedeemRefresh(request, *form, *client);
  if (grant.empty()) {
    return AadError(400, "invalid_request", 900144,
                    "The request body must contain the following parameter: 'grant_type'.", Now());
  }
  return AadError(400, "unsupported_grant_type", 70003,
                  "The app requested an unsupported grant type '" + grant + "'.", Now());
}

Response MicrosoftSandbox::RedeemCode(const Request& request, const HeaderList& form,
                                      const OAuthClient& client) {
  std::string code = Field(form, "code");
  if (code.empty()) {
    return AadError(400, "invalid_request", 900144,
                    "The request body must contain the following parameter: 'code'.", Now());
  }
  // Codes are handed out as "0.AX..." (Microsoft's shape) over the store's "4/0..." text.
  if (code.starts_with("0.AX")) code = "4/0" + code.substr(4);
  auto redeemed = identity_.RedeemCode(code, client.client_id, Field(form, "redirect_uri"),
                                       Field(form, "code_verifier"), Now());
  if (auto* error = std::get_if<GrantError>(&redeemed)) {
    return GrantFailureResponse(GrantErrorCode(*error), Now());
  }
  const AuthCode& granted = std::get<AuthCode>(redeemed);
  const auto account = identity_.FindAccount(granted.account_id);
  if (!account) return GrantFailureResponse(50173, Now());
  return TokenResponse(request, *account, client.client_id, granted.scopes,
                       granted.issue_refresh_token, granted.nonce);
}

Response MicrosoftSandbox::RedeemRefresh(const Request& request, const HeaderList& form,
                                         const OAuthClient& client) {
  const std::string old_token = Field(form, "refresh_token");
  if (old_token.empty()) {
    return AadError(400, "invalid_request", 900144,
                    "The request body must contain the following parameter: 'refresh_token'.",
                    Now());
  }
  if (const auto injected = TakeRefreshFailure()) return GrantFailureResponse(*injected, Now());
  auto used = identity_.UseRefreshToken(old_token, client.client_id);
  if (auto* error = std::get_if<GrantError>(&used)) {
    return GrantFailureResponse(GrantErrorCode(*error), Now());
  }
  const RefreshToken& grant = std::get<RefreshToken>(used);
  const auto account = identity_.FindAccount(grant.account_id);
  if (!account) return GrantFailureResponse(50173, Now());
  // A refresh may narrow the grant to one resource but never widen it.
  std::vector<std::string> scopes;
  for (const std::string& scope : ParseScopes(Field(form, "scope"))) {
    if (Has(grant.scopes, scope)) scopes.push_back(scope);
  }
  if (scopes.empty()) {
    scopes = grant.scopes;
  } else {
    for (const std::string& oidc : kOidcScopes) {
      if (Has(grant.scopes, oidc) && !Has(scopes, oidc)) scopes.push_back(oidc);
    }
  }
  identity_.RecordRotation(old_token, origin_.settings().Bool("invalidate_old_refresh_on_rotate"));
  return TokenResponse(request, *account, client.client_id, scopes, /*with_refresh=*/true, "");
}

Response MicrosoftSandbox::TokenResponse(const Request& request, const Account& account,
                                         const std::string& client_id,
                                         const std::vector<std::string>& scopes, bool with_refresh,
                                         const std::string& nonce) {
  const int64_t now = Now();
  const int64_t ttl = origin_.settings().Int("access_token_ttl_seconds");
  const AccessToken access =
      identity_.IssueAccessToken("EwA", account.id, client_id, scopes, now + ttl * 1000);
  sb::Json body = {{"token_type", "Bearer"},
                   {"scope", ScopeText(scopes)},
                   {"expires_in", ttl},
                   {"ext_expires_in", ttl},
                   {"access_token", access.token}};
  if (with_refresh) {
    body["refresh_token"] =
        identity_.IssueRefreshToken("1.AX", account.id, client_id, scopes, now).token;
  }
  if (Has(scopes, "openid")) {
    const int64_t seconds = now / 1000;
    sb::Json claims = {{"ver", "2.0"},
                       {"iss", Issuer(request, account.tenant_id)},
                       {"aud", client_id},
                       {"iat", seconds},
                       {"nbf", seconds},
                       {"exp", seconds + 3600},
                       {"sub", PkceS256(account.id + ":" + client_id).substr(0, 43)},
                       {"oid", account.id},
                       {"tid", account.tenant_id},
                       {"preferred_username", account.email},
                       {"name", account.name},
                       {"aio", RandomToken(24)},
                       {"rh", "0.AX" + RandomToken(24) + "."},
                       {"uti", RandomToken(16)}};
    if (Has(scopes, "email")) claims["email"] = account.email;
    if (!nonce.empty()) claims["nonce"] = nonce;
    auto jwt = crypto::SignJwtRs256(nullptr, claims, key_);
    if (!jwt.ok()) {
      return AadError(500, "server_error", 90033, "Could not sign the id_token.", now);
    }
    body["id_token"] = *jwt;
  }
  Response response = Response::Json(200, body);
  response.SetHeader("Content-Type", "application/json; charset=utf-8");
  response.SetHeader("Cache-Control", "no-store, no-cache");
  response.SetHeader("Pragma", "no-cache");
  return response;
}

}  // namespace sandbox::microsoft
