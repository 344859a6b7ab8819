// The hosted connect pages: plain server-rendered HTML (no scripts, no third-party resources,
// OA-07), every interpolated value HTML-escaped (sb::HtmlEscape). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "sb/http/response.h"
#include "sb/oauth/connect.h"

namespace sb::api {

// The form field that carries the session's CSRF token back to POST /connect/{token}/start.
inline constexpr std::string_view kCsrfField = "csrf";

// The provider and service choice for the session behind `token`; every form carries
// page.csrf_token in the hidden field kCsrfField.
std::string RenderConnectPage(const oauth::SessionPage& page, const std::string& token);

// A page that explains what went wrong; links back to `return_url` (with status=error and the
// code) when it is known.
std::string RenderProblemPage(const std::string& title, const std::string& message,
                              const std::string& code, const std::string& return_url);

// An HTML response with the headers every connect page carries: no caching, no referrer, a
// Content-Security-Policy that allows nothing but inline styles, no framing.
http::Response HtmlPage(int status, std::string html);

// `url` with `params` appended to its query (before any fragment).
std::string AppendQuery(const std::string& url,
                        const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace sb::api
