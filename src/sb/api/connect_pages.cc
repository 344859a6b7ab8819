#include "sb/api/connect_pages.h"

#include <algorithm>

#include "sb/base/encoding.h"
#include "sb/oauth/catalog.h"

namespace sb::api {
namespace {

constexpr std::string_view kStyle =
    "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;"
    "color:#1d2433}h1{font-size:1.4rem}form{border:1px solid #d5d9e0;border-radius:8px;"
    "padding:1rem;margin:1rem 0}button{font-size:1rem;padding:.5rem 1rem;border-radius:6px;"
    "border:0;background:#2454d6;color:#fff;cursor:pointer}label{display:block;margin:.3rem 0}"
    ".muted{color:#5b6475;font-size:.9rem}input[type=text],input[type=password]{display:block;"
    "width:100%;box-sizing:border-box;font-size:1rem;padding:.4rem;margin:.2rem 0 .6rem}"
    ".error{color:#a1261b;border-left:3px solid #a1261b;padding-left:.6rem}"
    ".brand{display:flex;align-items:center;gap:.75rem}.brand img{object-fit:contain}"
    ".brand-name{font-weight:600;margin:0}.explanation{margin:0 0 .6rem 1.6rem}"
    ".actions{display:flex;flex-wrap:wrap;align-items:center;gap:1rem}"
    "a.button{font-size:1rem;padding:.5rem 1rem;border-radius:6px;background:#2454d6;color:#fff;"
    "text-decoration:none}";

std::string Head(std::string_view title) {
  std::string out = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">";
  out += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">";
  // same-origin: the page's own form posts carry its Origin (under no-referrer Chromium sends
  // "Origin: null", which the posts' origin check refuses), and nothing leaves for other sites.
  out += "<meta name=\"referrer\" content=\"same-origin\"><title>";
  out += HtmlEscape(title);
  out += "</title><style>";
  out += kStyle;
  out += "</style></head><body><main>";
  return out;
}

std::string ServiceLabel(const store::ServiceGrant& grant) {
  std::string name = grant.service;
  if (!name.empty()) name[0] = static_cast<char>(name[0] - 'a' + 'A');
  return name + (grant.write ? " (read and write)" : " (read only)");
}

// "connect-<name>" with '_' as '-' (UI.md: ids are lower case with hyphens); catalog ids and
// field names are [a-z0-9_-], so nothing else needs escaping.
std::string Hyphenated(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

std::string ElementId(std::string_view name) { return "connect-" + Hyphenated(name); }

std::string Hidden(std::string_view name, std::string_view value) {
  return "<input type=\"hidden\" name=\"" + HtmlEscape(name) + "\" value=\"" + HtmlEscape(value) +
         "\">";
}

// The catalog's plain-words sentence on what connecting `choice` gives the app, if it has one.
std::string ProviderExplanation(const connections::ProviderChoice& choice, const std::string& id) {
  if (choice.entry == nullptr || choice.entry->explanation.empty()) return "";
  return "<p id=\"" + id + "-explanation\">" + HtmlEscape(choice.entry->explanation) + "</p>";
}

// One service's checkbox, described by the catalog's explanation of its access level.
std::string ServiceCheckbox(const connections::ProviderChoice& choice, const std::string& id,
                            const store::ServiceGrant& grant) {
  const std::string input = id + "-service-" + Hyphenated(grant.service);
  const std::string value = grant.service + (grant.write ? ":read_write" : ":read");
  const std::string_view explanation =
      choice.entry == nullptr
          ? ""
          : oauth::ServiceExplanation(*choice.entry, grant.service, grant.write);
  std::string out = "<label><input type=\"checkbox\" name=\"service\" id=\"" + input +
                    "\" value=\"" + HtmlEscape(value) + "\" checked";
  if (!explanation.empty()) out += " aria-describedby=\"" + input + "-explanation\"";
  out += "> " + HtmlEscape(ServiceLabel(grant)) + "</label>";
  if (!explanation.empty()) {
    out += "<p class=\"muted explanation\" id=\"" + input + "-explanation\">" +
           HtmlEscape(explanation) + "</p>";
  }
  return out;
}

// An OAuth provider's card: its services, and a button that goes to the provider.
std::string OAuthCard(const connections::ProviderChoice& choice, const std::string& token,
                      const std::string& csrf) {
  const std::string id = ElementId(choice.id);
  std::string out = "<form method=\"post\" action=\"/connect/" + HtmlEscape(token) +
                    "/start\" id=\"" + id + "\">";
  out += Hidden("provider", choice.id) + Hidden(kCsrfField, csrf);
  out += "<strong>" + HtmlEscape(choice.display_name) + "</strong>";
  out += ProviderExplanation(choice, id);
  for (const auto& grant : choice.services) out += ServiceCheckbox(choice, id, grant);
  return out + "<p><button type=\"submit\" id=\"" + id + "-submit\">Connect " +
         HtmlEscape(choice.display_name) + "</button></p></form>";
}

// A credential provider's card: one input per catalog field (secrets as password inputs,
// never filled back in), what the app will be able to do, and the error of a failed attempt.
std::string CredentialCard(const connections::ProviderChoice& choice, const std::string& token,
                           const std::string& csrf, const CredentialFormState* failed) {
  const std::string id = ElementId(choice.id);
  std::string out = "<form method=\"post\" action=\"/connect/" + HtmlEscape(token) +
                    "/credentials\" id=\"" + HtmlEscape(id) + "\" autocomplete=\"off\">";
  out += Hidden("provider", choice.id) + Hidden(kCsrfField, csrf);
  out += "<strong>" + HtmlEscape(choice.display_name) + "</strong>";
  out += ProviderExplanation(choice, id);
  out += "<p class=\"muted\">The app will call " + HtmlEscape(choice.display_name) +
         " on your behalf with these credentials. They are checked with " +
         HtmlEscape(choice.display_name) + " first and stored encrypted.</p>";
  const bool mine = failed != nullptr && failed->provider == choice.id;
  if (mine) {
    out += "<p class=\"error\" role=\"alert\" id=\"" + HtmlEscape(id) + "-error\">" +
           HtmlEscape(failed->error) + "</p>";
  }
  for (const oauth::CredentialField& field : choice.credentials->fields) {
    const std::string input = id + "-" + Hyphenated(field.name);
    std::string value;
    if (mine && !field.secret) {
      auto typed = failed->values.find(field.name);
      if (typed != failed->values.end()) value = typed->second;
    }
    out += "<label for=\"" + HtmlEscape(input) + "\">" + HtmlEscape(field.label) + "</label>";
    out += "<input id=\"" + HtmlEscape(input) + "\" name=\"field." + HtmlEscape(field.name) +
           "\" type=\"" + (field.secret ? "password" : "text") +
           "\" required spellcheck=\"false\" autocapitalize=\"off\" value=\"" + HtmlEscape(value) +
           "\"";
    if (!field.help.empty()) out += " aria-describedby=\"" + HtmlEscape(input) + "-help\"";
    out += ">";
    if (!field.help.empty()) {
      out += "<span class=\"muted\" id=\"" + HtmlEscape(input) + "-help\">" +
             HtmlEscape(field.help) + "</span>";
    }
  }
  return out + "<p><button type=\"submit\" id=\"" + HtmlEscape(id) + "-submit\">Connect " +
         HtmlEscape(choice.display_name) + "</button></p></form>";
}

}  // namespace

std::string RenderConnectPage(const connections::SessionPage& page, const std::string& token,
                              const CredentialFormState* failed) {
  std::string out = Head("Connect an account");
  out += "<header class=\"brand\">";
  // The logo is a data: URI checked at upload (tenancy::CanonicalLogo): nothing is loaded from
  // elsewhere, and the name beside it is its text alternative.
  if (page.tenant_logo.starts_with("data:image/")) {
    out += "<img src=\"" + HtmlEscape(page.tenant_logo) + "\" alt=\"\" width=\"48\" height=\"48\">";
  }
  if (!page.tenant_name.empty()) {
    out += "<p class=\"brand-name\">" + HtmlEscape(page.tenant_name) + "</p>";
  }
  out += "</header><h1>Connect an account</h1>";
  if (!page.tenant_name.empty()) {
    out += "<p>" + HtmlEscape(page.tenant_name) +
           " asks to connect one of your accounts. Choose the provider and what to share.</p>";
  }
  if (page.providers.empty()) {
    out +=
        "<p>No provider is available for this connection yet. Ask the app's administrator "
        "to set one up.</p>";
  }
  for (const auto& choice : page.providers) {
    out += choice.credentials != nullptr ? CredentialCard(choice, token, page.csrf_token, failed)
                                         : OAuthCard(choice, token, page.csrf_token);
  }
  out +=
      "<p class=\"muted\">For providers with a Connect button only, you sign in at the "
      "provider and choose what to share: your password is never shared with this app.</p>";
  out += "<p class=\"muted\"><a href=\"" +
         HtmlEscape(AppendQuery(page.session.return_url, {{"status", "cancelled"}})) +
         "\" id=\"connect-cancel\">Cancel and go back</a></p></main></body></html>";
  return out;
}

CallbackPage DescribeCallbackFailure(const connections::CallbackFailure& failure) {
  using E = connections::CallbackError;
  const std::string not_valid = "This sign-in link is not valid";
  const std::string wrong_provider = "This sign-in came from the wrong provider";
  const std::string our_side = "Something went wrong on our side";
  const std::string unverified = "The provider's answer could not be verified";
  const std::string not_saved = "The connection could not be saved";
  switch (failure.error) {
    case E::kMalformedState:
      return {400, not_valid,
              "The sign-in response is missing its state or the state is malformed."};
    case E::kUnknownState:
      return {400, not_valid,
              "The sign-in response does not belong to a connection attempt we started."};
    case E::kUnavailable:
      return {503, our_side, "The connection could not be completed."};
    case E::kStateReplayed:
      return {400, "This sign-in was already used", "This sign-in response was already used once."};
    case E::kStateExpired:
      return {400, "This sign-in took too long", "The sign-in expired before it came back."};
    case E::kBrowserMismatch:
      return {400, "This sign-in started in another browser",
              "The sign-in response came back to a different browser than the one that started "
              "it."};
    case E::kProviderUnavailable:
      return {400, "This provider is not available", "The provider is no longer offered.", false};
    case E::kAccessDenied:
      return {403, "Access was not granted", "You did not allow access, so nothing was connected."};
    case E::kProviderError:
      return {400, "The provider reported an error",
              "The provider could not complete the sign-in (" +
                  (failure.provider_error.empty() ? "error" : failure.provider_error) + ")."};
    case E::kIssuerMismatch:
      return {400, wrong_provider,
              "The sign-in response names a different identity provider than the one we sent "
              "you to."};
    case E::kIssuerMissing:
      return {400, wrong_provider, "The sign-in response does not name its identity provider."};
    case E::kMissingCode:
      return {400, "The provider's answer is incomplete",
              "The sign-in response carries no authorization code."};
    case E::kVerifierLost:
      return {500, our_side, "The connection attempt lost its PKCE verifier."};
    case E::kIntegrationUnavailable:
      return {400, "This provider is not set up",
              "The app's connection to this provider is disabled or incomplete.", false};
    case E::kTokenExchangeUnavailable:
      return {503, "The provider did not complete the sign-in",
              "The provider is temporarily unavailable."};
    case E::kTokenExchangeRefused:
      return {400, "The provider did not complete the sign-in",
              "The provider refused to issue tokens."};
    case E::kMissingIdToken:
      return {400, unverified, "The provider sent no ID token."};
    case E::kInvalidIdToken:
      return {400, unverified, "The identity token did not pass validation."};
    case E::kNonceMismatch:
      return {400, unverified, "The identity token was not issued for this sign-in (nonce)."};
    case E::kNoIdentity:
      return {400, "We could not tell which account this is",
              "The provider did not say which account was connected."};
    case E::kReassignmentRefused:
      return {409, "This account is already connected",
              "This account is already connected for another user of the app, so it was not "
              "connected again. Sign in with a different account, or ask the app's "
              "administrator."};
    case E::kConnectionQuotaExceeded:
      return {422, "No more accounts can be connected",
              "This app has connected as many accounts as it may, so nothing was connected. Ask "
              "the app's administrators to remove an unused connection, then try again.",
              false};
    case E::kConcurrentConnect:
      return {409, not_saved, "This account was being connected twice at once."};
    case E::kStoreFailed:
      return {503, not_saved, "The connection could not be saved."};
    case E::kCredentialsRejected:
      return {422, "The provider did not accept these credentials",
              "Check the credentials and try again."};
    case E::kCredentialsUnverified:
      return {422, "The credentials could not be checked",
              "The provider's answer did not say which account this is."};
  }
  return {500, our_side, "The connection could not be completed."};
}

std::string RenderProblemPage(const std::string& title, const std::string& message,
                              const std::string& code, const ProblemActions& actions) {
  std::string out = Head(title);
  out += "<h1>" + HtmlEscape(title) + "</h1><p>" + HtmlEscape(message) + "</p>";
  if (actions.session_expired) {
    out +=
        "<p id=\"connect-error-expired\">This connect link has expired, so it cannot be used to "
        "try again. Start connecting again from the app.</p>";
  }
  out += "<p class=\"muted\">Error code: " + HtmlEscape(code) + "</p>";
  if (!actions.retry_url.empty() || !actions.return_url.empty()) out += "<p class=\"actions\">";
  if (!actions.retry_url.empty()) {
    out += "<a class=\"button\" href=\"" + HtmlEscape(actions.retry_url) +
           "\" id=\"connect-error-retry\">Try again</a>";
  }
  if (!actions.return_url.empty()) {
    out += "<a href=\"" +
           HtmlEscape(AppendQuery(actions.return_url, {{"status", "error"}, {"error", code}})) +
           "\" id=\"connect-error-back\">Back to the app</a>";
  }
  if (!actions.retry_url.empty() || !actions.return_url.empty()) out += "</p>";
  out += "</main></body></html>";
  return out;
}

std::string RenderCallbackFailurePage(const connections::CallbackFailure& failure) {
  using connections::SessionRetry;
  const CallbackPage page = DescribeCallbackFailure(failure);
  ProblemActions actions{failure.return_url};
  std::string message = page.message;
  if (page.retry && failure.retry == SessionRetry::kUsable && !failure.session_token.empty()) {
    // The token this browser sent in its session cookie, back to the page it came from.
    actions.retry_url = "/connect/" + failure.session_token;
  } else if (page.retry && failure.retry == SessionRetry::kExpired) {
    actions.session_expired = true;
  } else if (page.retry) {
    message += " Start connecting again from the app.";
  }
  return RenderProblemPage(page.title, message,
                           std::string(connections::CallbackErrorCode(failure.error)), actions);
}

http::Response HtmlPage(int status, std::string html) {
  http::Response response =
      http::Response::Text(status, std::move(html), "text/html; charset=utf-8");
  response.SetHeader("Cache-Control", "no-store");
  response.SetHeader("Referrer-Policy", "same-origin");
  response.SetHeader("X-Content-Type-Options", "nosniff");
  response.SetHeader("X-Frame-Options", "DENY");
  response.SetHeader("Content-Security-Policy",
                     "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                     "base-uri 'none'; frame-ancestors 'none'");
  return response;
}

std::string AppendQuery(const std::string& url,
                        const std::vector<std::pair<std::string, std::string>>& params) {
  const size_t hash = url.find('#');
  std::string base = url.substr(0, hash);
  const std::string fragment = hash == std::string::npos ? "" : url.substr(hash);
  base += base.find('?') == std::string::npos ? '?' : '&';
  base += FormEncode(params);
  return base + fragment;
}

}  // namespace sb::api
