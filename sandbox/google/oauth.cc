// Google OAuth 2.0 + OpenID Connect endpoints (provider-protocols.md section 2).
#include <algorithm>
#include <sstream>

#include "sandbox/core/url.h"
#include "sandbox/crypto/jwt.h"
#include "sandbox/google/google.h"
#include "sandbox/google/google_errors.h"

#include "sb/base/check.h"
#include "sb/base/encoding.h"

namespace sandbox::google {
namespace {

using sb::http::HeaderList;
using sb::http::Request;
using sb::http::Response;

std::vector<std::string> SplitScopes(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  std::string scope;
  while (in >> scope) {
    if (std::find(out.begin(), out.end(), scope) == out.end()) out.push_back(scope);
  }
  return out;
}

std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const std::string& scope : scopes) {
    if (!out.empty()) out.push_back(' ');
    out += scope;
  }
  return out;
}

bool Has(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

Response TokenError(int status, std::string_view error, std::string_view description) {
  Response response =
      Response::Json(status, {{"error", error}, {"error_description", description}});
  response.SetHeader("Content-Type", "application/json; charset=utf-8");
  response.SetHeader("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate");
  return response;
}

Response ErrorPage(int status, std::string_view error, std::string_view detail) {
  std::string html = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Error " +
                     std::to_string(status) + ": " + sb::HtmlEscape(error) +
                     "</title></head><body><h1>Access blocked: authorization error</h1><p>Error " +
                     std::to_string(status) + ": " + sb::HtmlEscape(error) + "</p><p>" +
                     sb::HtmlEscape(detail) + "</p></body></html>";
  return Response::Text(status, std::move(html), "text/html; charset=utf-8");
}

Response Redirect(const std::string& location) {
  Response response = Response::Empty(302);
  response.SetHeader("Location", location);
  response.SetHeader("Cache-Control", "no-store");
  return response;
}

// Client credentials from HTTP Basic (client_secret_basic) or the form (client_secret_post).
std::pair<std::string, std::string> ClientCredentials(const Request& request,
                                                      const HeaderList& form) {
  if (const auto auth = request.Header("Authorization"); auth && auth->starts_with("Basic ")) {
    if (const auto decoded = sb::Base64Decode(auth->substr(6))) {
      const size_t colon = decoded->find(':');
      if (colon != std::string::npos) {
        auto id = sb::http::PercentDecode(decoded->substr(0, colon), true);
        auto secret = sb::http::PercentDecode(decoded->substr(colon + 1), true);
        if (id.ok() && secret.ok()) return {*id, *secret};
      }
    }
  }
  return {FieldOf(form, "client_id").value_or(""), FieldOf(form, "client_secret").value_or("")};
}

// The authorization request's parameters, from the query (GET) or the consent form (POST).
struct AuthorizeParams {
  HeaderList fields;
  std::string Get(std::string_view name) const { return FieldOf(fields, name).value_or(""); }
};

std::string ConsentPage(const AuthorizeParams& params, const std::vector<Account>& accounts,
                        const std::vector<std::string>& scopes) {
  std::string html =
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign in - Google Accounts "
      "(sandbox)</title><style>body{font-family:sans-serif;max-width:36em;margin:3em "
      "auto}label{display:block;margin:.3em 0}</style></head><body><h1>Switchboard sandbox: "
      "Google</h1><p>The application <b>" +
      sb::HtmlEscape(params.Get("client_id")) +
      "</b> wants to access your Google Account.</p><form method=\"post\" "
      "action=\"/o/oauth2/v2/auth/consent\">";
  for (const auto& [name, value] : params.fields) {
    html += "<input type=\"hidden\" name=\"" + sb::HtmlEscape(name) + "\" value=\"" +
            sb::HtmlEscape(value) + "\">";
  }
  html += "<fieldset><legend>Account</legend>";
  const std::string hint = params.Get("login_hint");
  for (size_t i = 0; i < accounts.size(); ++i) {
    const bool checked = hint.empty() ? i == 0 : accounts[i].email == hint;
    html += "<label><input type=\"radio\" name=\"account\" value=\"" +
            sb::HtmlEscape(accounts[i].id) + "\"" + (checked ? " checked" : "") + "> " +
            sb::HtmlEscape(accounts[i].name) + " &lt;" + sb::HtmlEscape(accounts[i].email) +
            "&gt;</label>";
  }
  html += "</fieldset><fieldset><legend>Permissions</legend>";
  for (const std::string& scope : scopes) {
    html += "<label><input type=\"checkbox\" name=\"grant\" value=\"" + sb::HtmlEscape(scope) +
            "\" checked> " + sb::HtmlEscape(scope) + "</label>";
  }
  html +=
      "</fieldset><p><button name=\"decision\" value=\"allow\">Allow</button> <button "
      "name=\"decision\" value=\"deny\">Cancel</button></p></form></body></html>";
  return html;
}

}  // namespace

std::string GoogleSandbox::Issuer() const { return origin_.settings().String("issuer"); }

std::string GoogleSandbox::IdToken(const Account& account, const std::string& client_id,
                                   const std::string& nonce, const std::string& access_token) {
  const int64_t now = NowMillis(origin_.clock()) / 1000;
  const std::string digest = Sha256(access_token);
  sb::Json claims = {{"iss", Issuer()},
                     {"azp", client_id},
                     {"aud", client_id},
                     {"sub", account.id},
                     {"email", account.email},
                     {"email_verified", true},
                     {"at_hash", sb::Base64UrlEncode(digest.substr(0, 16))},
                     {"name", account.name},
                     {"given_name", account.given_name},
                     {"family_name", account.family_name},
                     {"locale", "en"},
                     {"iat", now},
                     {"exp", now + origin_.settings().Int("id_token_ttl_seconds")}};
  if (!nonce.empty()) claims["nonce"] = nonce;
  auto jwt = crypto::SignJwtRs256(nullptr, claims, key_);
  SB_CHECK(jwt.ok());
  return *jwt;
}

void GoogleSandbox::RegisterOAuth() {
  sb::http::Router& router = origin_.router();
  const sb::http::RouteOptions open{.authenticated = false};
  auto add = [&](std::string_view method, std::string_view pattern, sb::http::Handler handler) {
    SB_CHECK(router.Add(method, pattern, std::move(handler), open).ok());
  };

  add("GET", "/.well-known/openid-configuration", [this](Request& request) {
    const std::string base = origin_.UrlFor(request);
    return Response::Json(
        200,
        {{"issuer", Issuer()},
         {"authorization_endpoint", base + "/o/oauth2/v2/auth"},
         {"token_endpoint", base + "/token"},
         {"userinfo_endpoint", base + "/v1/userinfo"},
         {"revocation_endpoint", base + "/revoke"},
         {"jwks_uri", base + "/oauth2/v3/certs"},
         {"response_types_supported",
          {"code", "token", "id_token", "code token", "code id_token", "token id_token",
           "code token id_token", "none"}},
         {"subject_types_supported", {"public"}},
         {"id_token_signing_alg_values_supported", {"RS256"}},
         {"scopes_supported", {"openid", "email", "profile"}},
         {"token_endpoint_auth_methods_supported", {"client_secret_post", "client_secret_basic"}},
         {"claims_supported",
          {"aud", "email", "email_verified", "exp", "family_name", "given_name", "iat", "iss",
           "locale", "name", "picture", "sub"}},
         {"code_challenge_methods_supported", {"plain", "S256"}},
         {"grant_types_supported", {"authorization_code", "refresh_token"}}});
  });

  add("GET", "/oauth2/v3/certs", [this](Request&) {
    Response response = Response::Json(200, {{"keys", sb::Json::array({key_.PublicJwk()})}});
    response.SetHeader("Cache-Control", "public, max-age=3600, must-revalidate, no-transform");
    return response;
  });
  add("GET", "/oauth2/v1/certs", [this](Request&) {
    Response response = Response::Json(200, {{key_.kid(), key_.certificate_pem()}});
    response.SetHeader("Cache-Control", "public, max-age=3600, must-revalidate, no-transform");
    return response;
  });

  // The end of an authorization: the user (or the auto-consent switch) decided.
  auto decide = [this](const AuthorizeParams& params, const Account& account, bool allow,
                       std::vector<std::string> granted) -> Response {
    const std::string redirect_uri = params.Get("redirect_uri");
    const std::string state = params.Get("state");
    std::vector<std::pair<std::string, std::string>> fields;
    if (!state.empty()) fields.emplace_back("state", state);
    if (!allow) {
      fields.insert(fields.begin(), {"error", "access_denied"});
      return Redirect(AppendQuery(redirect_uri, fields));
    }
    const std::string client_id = params.Get("client_id");
    const std::set<std::string> before = identity_.GrantedScopes(account.id, client_id);
    if (params.Get("include_granted_scopes") == "true") {
      for (const std::string& scope : before) {
        if (!Has(granted, scope)) granted.push_back(scope);
      }
    }
    const bool offline = params.Get("access_type") == "offline";
    const bool forced = params.Get("prompt").find("consent") != std::string::npos;
    const bool first = before.empty();
    AuthCode code;
    code.client_id = client_id;
    code.redirect_uri = redirect_uri;
    code.account_id = account.id;
    code.scopes = granted;
    code.code_challenge = params.Get("code_challenge");
    code.code_challenge_method =
        code.code_challenge.empty() ? "" : params.Get("code_challenge_method");
    if (!code.code_challenge.empty() && code.code_challenge_method.empty()) {
      code.code_challenge_method = "plain";
    }
    code.nonce = params.Get("nonce");
    code.issue_refresh_token =
        offline && (first || forced || !origin_.settings().Bool("omit_refresh_on_reconsent"));
    code.expires_ms =
        NowMillis(origin_.clock()) + origin_.settings().Int("code_ttl_seconds") * 1000;
    identity_.RecordConsent(account.id, client_id, granted);
    const std::string text = identity_.IssueCode(std::move(code));
    fields.emplace_back("code", text);
    fields.emplace_back("scope", JoinScopes(granted));
    fields.emplace_back("authuser", "0");
    fields.emplace_back("prompt", forced || first ? "consent" : "none");
    return Redirect(AppendQuery(redirect_uri, fields));
  };

  // Validates the request; the error page or redirect to answer with, if any.
  auto validate = [this](const AuthorizeParams& params) -> std::optional<Response> {
    const auto client = identity_.Client(params.Get("client_id"));
    if (!client) return ErrorPage(401, "invalid_client", "The OAuth client was not found.");
    const std::string redirect_uri = params.Get("redirect_uri");
    if (redirect_uri.empty() ||
        (!client->redirect_uris.empty() && !Has(client->redirect_uris, redirect_uri))) {
      return ErrorPage(400, "redirect_uri_mismatch",
                       "You can't sign in to this app because it doesn't comply with Google's "
                       "OAuth 2.0 policy. redirect_uri=" +
                           redirect_uri);
    }
    auto fail = [&](std::string error, std::string description) {
      std::vector<std::pair<std::string, std::string>> fields = {
          {"error", std::move(error)}, {"error_description", std::move(description)}};
      if (!params.Get("state").empty()) fields.emplace_back("state", params.Get("state"));
      return Redirect(AppendQuery(redirect_uri, fields));
    };
    if (params.Get("response_type") != "code") {
      return fail("unsupported_response_type",
                  "Invalid response_type: " + params.Get("response_type"));
    }
    if (SplitScopes(params.Get("scope")).empty()) {
      return fail("invalid_request", "Missing required parameter: scope");
    }
    const std::string method = params.Get("code_challenge_method");
    if (!method.empty() && method != "S256" && method != "plain") {
      return fail("invalid_request", "Invalid code_challenge_method value.");
    }
    if (!params.Get("code_challenge").empty() &&
        (params.Get("code_challenge").size() < 43 || params.Get("code_challenge").size() > 128)) {
      return fail("invalid_request", "Invalid code_challenge value.");
    }
    return std::nullopt;
  };

  add("GET", "/o/oauth2/v2/auth", [this, validate, decide](Request& request) {
    const AuthorizeParams params{request.query};
    if (auto error = validate(params)) return *error;
    const std::vector<std::string> scopes = SplitScopes(params.Get("scope"));
    std::vector<Account> accounts = identity_.Accounts();
    const std::string hint = params.Get("login_hint");
    std::optional<Account> chosen;
    for (const Account& account : accounts) {
      if (account.email == hint || account.id == hint) chosen = account;
    }
    if (!chosen && !accounts.empty()) chosen = accounts.front();
    if (params.Get("prompt") == "none") {
      std::vector<std::pair<std::string, std::string>> fields;
      const auto granted = chosen ? identity_.GrantedScopes(chosen->id, params.Get("client_id"))
                                  : std::set<std::string>{};
      const bool covered = chosen && std::all_of(scopes.begin(), scopes.end(),
                                                 [&](auto& s) { return granted.count(s) > 0; });
      if (covered) return decide(params, *chosen, true, scopes);
      fields.emplace_back("error", chosen ? "consent_required" : "login_required");
      if (!params.Get("state").empty()) fields.emplace_back("state", params.Get("state"));
      return Redirect(AppendQuery(params.Get("redirect_uri"), fields));
    }
    if (!chosen) return ErrorPage(400, "no_accounts", "The sandbox has no Google accounts yet.");
    if (origin_.settings().Bool("auto_consent")) {
      const bool allow = origin_.settings().String("consent_decision") != "deny";
      std::vector<std::string> granted = scopes;
      const std::vector<std::string> subset =
          SplitScopes(origin_.settings().String("grant_scopes"));
      if (!subset.empty()) {
        std::erase_if(granted, [&](const std::string& s) { return !Has(subset, s); });
      }
      return decide(params, *chosen, allow, granted);
    }
    return Response::Text(200, ConsentPage(params, accounts, scopes), "text/html; charset=utf-8");
  });

  add("POST", "/o/oauth2/v2/auth/consent", [this, validate, decide](Request& request) {
    const auto form = ParseForm(request.body);
    if (!form) return ErrorPage(400, "invalid_request", "Malformed consent form.");
    AuthorizeParams params;
    std::vector<std::string> granted;
    std::string account_id;
    std::string decision;
    for (const auto& [name, value] : *form) {
      if (name == "grant") {
        granted.push_back(value);
      } else if (name == "account") {
        account_id = value;
      } else if (name == "decision") {
        decision = value;
      } else {
        params.fields.emplace_back(name, value);
      }
    }
    if (auto error = validate(params)) return *error;
    const auto account = identity_.FindAccount(account_id);
    if (!account) return ErrorPage(400, "invalid_request", "Choose an account.");
    const std::vector<std::string> requested = SplitScopes(params.Get("scope"));
    std::erase_if(granted, [&](const std::string& s) { return !Has(requested, s); });
    return decide(params, *account, decision == "allow", granted);
  });

  add("POST", "/token", [this](Request& request) {
    const auto form = ParseForm(request.body);
    if (!form) return TokenError(400, "invalid_request", "Malformed request body.");
    const auto [client_id, client_secret] = ClientCredentials(request, *form);
    const auto client = identity_.Client(client_id);
    if (!client) return TokenError(401, "invalid_client", "The OAuth client was not found.");
    if (client->client_secret != client_secret) {
      return TokenError(401, "invalid_client", "Unauthorized");
    }
    const std::string grant_type = FieldOf(*form, "grant_type").value_or("");
    const int64_t now = NowMillis(origin_.clock());
    const int64_t ttl = origin_.settings().Int("access_token_ttl_seconds");
    if (grant_type == "authorization_code") {
      const auto code = FieldOf(*form, "code");
      if (!code || code->empty()) {
        return TokenError(400, "invalid_request", "Missing required parameter: code");
      }
      auto redeemed =
          identity_.RedeemCode(*code, client_id, FieldOf(*form, "redirect_uri").value_or(""),
                               FieldOf(*form, "code_verifier").value_or(""), now);
      if (const auto* error = std::get_if<GrantError>(&redeemed)) {
        switch (*error) {
          case GrantError::kUnknown:
            return TokenError(400, "invalid_grant",
                              code->starts_with("4/") ? "Bad Request" : "Malformed auth code.");
          case GrantError::kRedirectMismatch:
            return TokenError(400, "redirect_uri_mismatch", "Bad Request");
          case GrantError::kPkceMismatch:
            return TokenError(400, "invalid_grant", "Invalid code verifier.");
          case GrantError::kPkceMissing:
            return TokenError(400, "invalid_grant", "Missing code verifier.");
          default:
            return TokenError(400, "invalid_grant", "Bad Request");
        }
      }
      const AuthCode& grant = std::get<AuthCode>(redeemed);
      const auto account = identity_.FindAccount(grant.account_id);
      if (!account) return TokenError(400, "invalid_grant", "Bad Request");
      const AccessToken access = identity_.IssueAccessToken("ya29.", account->id, client_id,
                                                            grant.scopes, now + ttl * 1000);
      sb::Json body = {{"access_token", access.token},
                       {"expires_in", ttl},
                       {"scope", JoinScopes(grant.scopes)},
                       {"token_type", "Bearer"}};
      if (grant.issue_refresh_token) {
        body["refresh_token"] =
            identity_.IssueRefreshToken("1//", account->id, client_id, grant.scopes, now).token;
      }
      if (Has(grant.scopes, "openid")) {
        body["id_token"] = IdToken(*account, client_id, grant.nonce, access.token);
      }
      Response response = Response::Json(200, body);
      response.SetHeader("Content-Type", "application/json; charset=utf-8");
      response.SetHeader("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate");
      return response;
    }
    if (grant_type == "refresh_token") {
      const auto token = FieldOf(*form, "refresh_token");
      if (!token || token->empty()) {
        return TokenError(400, "invalid_request", "Missing required parameter: refresh_token");
      }
      auto used = identity_.UseRefreshToken(*token, client_id);
      if (const auto* error = std::get_if<GrantError>(&used)) {
        if (*error == GrantError::kClientMismatch) {
          return TokenError(401, "unauthorized_client", "Unauthorized");
        }
        return TokenError(400, "invalid_grant", "Token has been expired or revoked.");
      }
      const RefreshToken& refresh = std::get<RefreshToken>(used);
      std::vector<std::string> scopes = refresh.scopes;
      if (const auto asked = FieldOf(*form, "scope"); asked && !asked->empty()) {
        scopes = SplitScopes(*asked);
        for (const std::string& scope : scopes) {
          if (!Has(refresh.scopes, scope)) {
            return TokenError(400, "invalid_scope",
                              "Some requested scopes were invalid. {invalid=[" + scope + "]}");
          }
        }
      }
      const auto account = identity_.FindAccount(refresh.account_id);
      if (!account) return TokenError(400, "invalid_grant", "Token has been expired or revoked.");
      const AccessToken access =
          identity_.IssueAccessToken("ya29.", account->id, client_id, scopes, now + ttl * 1000);
      sb::Json body = {{"access_token", access.token},
                       {"expires_in", ttl},
                       {"scope", JoinScopes(scopes)},
                       {"token_type", "Bearer"}};
      if (origin_.settings().Bool("refresh_token_rotation")) {
        body["refresh_token"] =
            identity_.IssueRefreshToken("1//", account->id, client_id, refresh.scopes, now).token;
        identity_.RecordRotation(*token,
                                 origin_.settings().Bool("invalidate_old_refresh_on_rotate"));
      }
      if (Has(scopes, "openid")) body["id_token"] = IdToken(*account, client_id, "", access.token);
      Response response = Response::Json(200, body);
      response.SetHeader("Content-Type", "application/json; charset=utf-8");
      response.SetHeader("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate");
      return response;
    }
    if (grant_type.empty()) {
      return TokenError(400, "invalid_request", "Missing required parameter: grant_type");
    }
    return TokenError(400, "unsupported_grant_type", "Invalid grant_type: " + grant_type);
  });

  add("POST", "/revoke", [this](Request& request) {
    std::string token(request.Query("token").value_or(""));
    if (token.empty()) {
      if (const auto form = ParseForm(request.body)) token = FieldOf(*form, "token").value_or("");
    }
    if (token.empty() || !identity_.Revoke(token)) {
      return TokenError(400, "invalid_token", "Token expired or revoked");
    }
    return Response::Json(200, sb::Json::object());
  });

  auto tokeninfo = [this](Request& request) {
    std::string token(request.Query("access_token").value_or(""));
    if (token.empty()) {
      if (const auto form = ParseForm(request.body)) {
        token = FieldOf(*form, "access_token").value_or("");
      }
    }
    if (token.empty()) {
      const auto auth = request.Header("Authorization");
      if (auth && auth->starts_with("Bearer ")) token = std::string(auth->substr(7));
    }
    const int64_t now = NowMillis(origin_.clock());
    auto found = identity_.Authenticate(token, now);
    const auto* access = std::get_if<AccessToken>(&found);
    if (!access) return TokenError(400, "invalid_token", "Invalid Value");
    const auto account = identity_.FindAccount(access->account_id);
    sb::Json body = {{"azp", access->client_id},
                     {"aud", access->client_id},
                     {"sub", access->account_id},
                     {"scope", JoinScopes(access->scopes)},
                     {"exp", std::to_string(access->expires_ms / 1000)},
                     {"expires_in", std::to_string((access->expires_ms - now) / 1000)},
                     {"access_type", "offline"}};
    if (account) {
      body["email"] = account->email;
      body["email_verified"] = "true";
    }
    return Response::Json(200, body);
  };
  add("GET", "/tokeninfo", tokeninfo);
  add("POST", "/tokeninfo", tokeninfo);

  auto userinfo = [this](bool legacy) {
    return [this, legacy](Request& request) -> Response {
      auto auth = Authenticate(request);
      if (auto* error = std::get_if<Response>(&auth)) return *error;
      const AccessToken& access = std::get<AccessToken>(auth);
      const auto account = identity_.FindAccount(access.account_id);
      if (!account) return InvalidCredentials();
      if (legacy) {
        return Response::Json(200, {{"id", account->id},
                                    {"email", account->email},
                                    {"verified_email", true},
                                    {"name", account->name},
                                    {"given_name", account->given_name},
                                    {"family_name", account->family_name},
                                    {"locale", "en"}});
      }
      return Response::Json(200, {{"sub", account->id},
                                  {"name", account->name},
                                  {"given_name", account->given_name},
                                  {"family_name", account->family_name},
                                  {"email", account->email},
                                  {"email_verified", true},
                                  {"locale", "en"}});
    };
  };
  add("GET", "/v1/userinfo", userinfo(false));
  add("GET", "/oauth2/v3/userinfo", userinfo(false));
  add("GET", "/oauth2/v2/userinfo", userinfo(true));
}

std::variant<AccessToken, Response> GoogleSandbox::Authenticate(const Request& request) {
  std::string token;
  if (const auto auth = request.Header("Authorization")) {
    if (auth->size() > 7 && sb::http::EqualsIgnoreCase(auth->substr(0, 7), "Bearer ")) {
      token = std::string(auth->substr(7));
    }
  }
  if (token.empty()) token = std::string(request.Query("access_token").value_or(""));
  if (token.empty()) token = std::string(request.Query("oauth_token").value_or(""));
  auto found = identity_.Authenticate(token, NowMillis(origin_.clock()));
  if (auto* access = std::get_if<AccessToken>(&found)) return *access;
  return InvalidCredentials();
}

}  // namespace sandbox::google
