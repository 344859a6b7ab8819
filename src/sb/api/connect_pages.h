// The hosted connect pages: plain server-rendered HTML (no scripts, no third-party resources,
// OA-07), every interpolated value HTML-escaped (sb::HtmlEscape). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "sb/connections/connect.h"
#include "sb/http/response.h"

namespace sb::api {

// The form field that carries the session's CSRF token back to POST /connect/{token}/start.
inline constexpr std::string_view kCsrfField = "csrf";

// What a credential form said when it failed: shown above that provider's fields, which keep
// the values the user typed except secret ones.
struct CredentialFormState {
  std::string provider;
  std::string error;
  oauth::CredentialValues values;  // only non-secret fields are rendered back
};

// The provider and service choice for the session behind `token`; every form carries
// page.csrf_token in the hidden field kCsrfField. OAuth providers post to
// /connect/{token}/start; credential providers show their fields and post to
// /connect/{token}/credentials.
std::string RenderConnectPage(const connections::SessionPage& page, const std::string& token,
                              const CredentialFormState* failed = nullptr);

// Where a problem page lets the user go next; each link has a stable id (UI.md).
struct ProblemActions {
  // "Back to the app" (connect-error-back): the host app's return URL, given status=error and
  // the code; "": no link.
  std::string return_url;
  // "Try again" (connect-error-retry), the page's primary action: the start of the same connect
  // session, /connect/{token}; "": no link.
  std::string retry_url;
  // The session has expired: the page says so plainly (connect-error-expired) and offers only
  // the way back.
  bool session_expired = false;
};

// A page that explains what went wrong and offers `actions`.
std::string RenderProblemPage(const std::string& title, const std::string& message,
                              const std::string& code, const ProblemActions& actions = {});

// How a failed OAuth callback is shown: its HTTP status, a short title for the page and what
// happened (never a secret), and whether starting the connect session again can help.
struct CallbackPage {
  int status = 400;
  std::string title;
  std::string message;
  bool retry = true;  // false: only the app's administrator can mend it
};
CallbackPage DescribeCallbackFailure(const connections::CallbackFailure& failure);

// The page of a failed callback: "Try again" when the failure is worth retrying and the browser
// can start the session again (failure.retry kUsable), a plain word when the session has
// expired, else the advice to start again from the app; "Back to the app" when the session's
// return URL is known.
std::string RenderCallbackFailurePage(const connections::CallbackFailure& failure);

// An HTML response with the headers every connect page carries: no caching, no referrer, a
// Content-Security-Policy that allows nothing but inline styles, no framing.
http::Response HtmlPage(int status, std::string html);

// `url` with `params` appended to its query (before any fragment).
std::string AppendQuery(const std::string& url,
                        const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace sb::api
