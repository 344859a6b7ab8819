// Browser: a blocking test HTTP client on libcurl that behaves like a user's browser for
// OAuth flows. It keeps cookies (curl's in-memory cookie engine), can trust an extra CA file
// for https, and follows redirects itself so that every hop is recorded and a flow can be
// stopped before a chosen URL (e.g. the redirect back to an app that is not listening).
//
// Test support only: error messages may contain full URLs (query strings included).
//
// Thread safety: not thread-safe; use one Browser per thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sb/base/status.h"

namespace sb::net::testing {

using FormFields = std::vector<std::pair<std::string, std::string>>;

struct BrowserOptions {
  std::string ca_file;  // PEM bundle of extra CAs to trust for https; empty: system store only
  std::chrono::milliseconds timeout{10'000};  // per request (hop), connect included
  int max_redirects = 20;                     // hops followed by one Get or PostForm
};

struct BrowserResponse {
  int status = 0;
  // The URL this response came from; when StopAt stopped a chain, the (absolute) Location
  // that was not requested.
  std::string url;
  // Lower-case names; a repeated header's values are joined with ", ".
  std::map<std::string, std::string> headers;
  std::string body;

  // The value of the header `name` (any case), or "" when absent.
  std::string Header(std::string_view name) const;
};

class Browser {
 public:
  explicit Browser(BrowserOptions options = {});
  ~Browser();
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  // Requests `url` and follows redirects (301, 302, 303, 307, 308; a relative Location is
  // resolved against the current URL). 303 always, and 301/302 after a POST, continue with a
  // GET without a body; 307 and 308 repeat the method and body. Returns the final response,
  // whatever its status. Errors: ResourceExhausted after more than max_redirects hops,
  // DeadlineExceeded on timeout, InvalidArgument for a malformed or non-http(s) URL,
  // Unavailable for other transport failures (connect, TLS, ...).
  Result<BrowserResponse> Get(std::string_view url);
  // POSTs `fields` as application/x-www-form-urlencoded, then as Get.
  Result<BrowserResponse> PostForm(std::string_view url, const FormFields& fields);

  // From now on, a redirect whose (absolute) target matches `predicate` is not followed: Get
  // and PostForm return that redirect response with .url set to the target. An empty
  // function follows every redirect again.
  void StopAt(std::function<bool(std::string_view url)> predicate);

  // Every URL requested so far, in order, redirect hops included.
  const std::vector<std::string>& history() const { return history_; }

  // The (name, value) pairs of the cookies held, for any domain.
  std::vector<std::pair<std::string, std::string>> Cookies() const;
  void ClearCookies();
  // Adds a cookie given as a Netscape cookie-file line or a "Set-Cookie: ..." header line
  // (see CURLOPT_COOKIELIST). A Set-Cookie line needs a Domain attribute: without one, curl
  // has no request host to take it from and drops the cookie.
  void SetCookie(const std::string& line);

 private:
  struct Hop;
  class Handle;  // the curl easy handle: its cookies and connections persist between requests
  Result<BrowserResponse> Navigate(Hop hop);

  const BrowserOptions options_;
  std::unique_ptr<Handle> handle_;
  std::function<bool(std::string_view)> stop_at_;
  std::vector<std::string> history_;
};

// The query parameters of `url` (the part after '?', up to any '#'), in order, with names and
// values percent-decoded and '+' read as a space. A URL without a query gives an empty list.
// InvalidArgument for a malformed percent escape.
Result<FormFields> ParseQuery(std::string_view url);

}  // namespace sb::net::testing
