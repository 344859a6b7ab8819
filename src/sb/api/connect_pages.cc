#include "sb/api/connect_pages.h"

#include "sb/base/encoding.h"

namespace sb::api {
namespace {

constexpr std::string_view kStyle =
    "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;"
    "color:#1d2433}h1{font-size:1.4rem}form{border:1px solid #d5d9e0;border-radius:8px;"
    "padding:1rem;margin:1rem 0}button{font-size:1rem;padding:.5rem 1rem;border-radius:6px;"
    "border:0;background:#2454d6;color:#fff;cursor:pointer}label{display:block;margin:.3rem 0}"
    ".muted{color:#5b6475;font-size:.9rem}";

std::string Head(std::string_view title) {
  std::string out = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">";
  out += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">";
  out += "<meta name=\"referrer\" content=\"no-referrer\"><title>";
  out += HtmlEscape(title);
  out += "</title><style>";
  out += kStyle;
  out += "</style></head><body>";
  return out;
}

std::string ServiceLabel(const store::ServiceGrant& grant) {
  std::string name = grant.service;
  if (!name.empty()) name[0] = static_cast<char>(name[0] - 'a' + 'A');
  return name + (grant.write ? " (read and write)" : " (read only)");
}

}  // namespace

std::string RenderConnectPage(const oauth::SessionPage& page, const std::string& token) {
  std::string out = Head("Connect an account");
  out += "<h1>Connect an account</h1>";
  if (page.providers.empty()) {
    out +=
        "<p>No provider is available for this connection yet. Ask the app's administrator "
        "to set one up.</p>";
  }
  for (const auto& choice : page.providers) {
    out += "<form method=\"post\" action=\"/connect/" + HtmlEscape(token) + "/start\">";
    out += "<input type=\"hidden\" name=\"provider\" value=\"" + HtmlEscape(choice.id) + "\">";
    out += "<input type=\"hidden\" name=\"" + std::string(kCsrfField) + "\" value=\"" +
           HtmlEscape(page.csrf_token) + "\">";
    out += "<strong>" + HtmlEscape(choice.display_name) + "</strong>";
    for (const auto& grant : choice.services) {
      const std::string value = grant.service + (grant.write ? ":read_write" : ":read");
      out += "<label><input type=\"checkbox\" name=\"service\" value=\"" + HtmlEscape(value) +
             "\" checked> " + HtmlEscape(ServiceLabel(grant)) + "</label>";
    }
    out += "<p><button type=\"submit\">Connect " + HtmlEscape(choice.display_name) +
           "</button></p></form>";
  }
  out +=
      "<p class=\"muted\">You will sign in at the provider and choose what to share. "
      "Your password is never shared with this app.</p>";
  out += "<p class=\"muted\"><a href=\"" +
         HtmlEscape(AppendQuery(page.session.return_url, {{"status", "cancelled"}})) +
         "\">Cancel and go back</a></p></body></html>";
  return out;
}

std::string RenderProblemPage(const std::string& title, const std::string& message,
                              const std::string& code, const std::string& return_url) {
  std::string out = Head(title);
  out += "<h1>" + HtmlEscape(title) + "</h1><p>" + HtmlEscape(message) + "</p>";
  out += "<p class=\"muted\">Error code: " + HtmlEscape(code) + "</p>";
  if (!return_url.empty()) {
    out += "<p><a href=\"" +
           HtmlEscape(AppendQuery(return_url, {{"status", "error"}, {"error", code}})) +
           "\">Back to the app</a></p>";
  }
  out += "</body></html>";
  return out;
}

http::Response HtmlPage(int status, std::string html) {
  http::Response response =
      http::Response::Text(status, std::move(html), "text/html; charset=utf-8");
  response.SetHeader("Cache-Control", "no-store");
  response.SetHeader("Referrer-Policy", "no-referrer");
  response.SetHeader("X-Content-Type-Options", "nosniff");
  response.SetHeader("X-Frame-Options", "DENY");
  response.SetHeader("Content-Security-Policy",
                     "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
                     "frame-ancestors 'none'");
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
