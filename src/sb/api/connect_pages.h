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

// A page that explains what went wrong; links back to `return_url` (with status=error and the
// code) when it is known.
std::string RenderProblemPage(const std::string& title, const std::string& message,
                              const std::string& code, const std::string& return_url);

// How a failed OAuth callback is shown: its HTTP status, a short title for the page and what
// happened and what the user can do (never a secret).
struct CallbackPage {
  int status = 400;
  std::string title;
  std::string message;
};
CallbackPage DescribeCallbackFailure(const connections::CallbackFailure& failure);

// An HTML response with the headers every connect page carries: no caching, no referrer, a
// Content-Security-Policy that allows nothing but inline styles, no framing.
http::Response HtmlPage(int status, std::string html);

// `url` with `params` appended to its query (before any fragment).
std::string AppendQuery(const std::string& url,
                        const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace sb::api
