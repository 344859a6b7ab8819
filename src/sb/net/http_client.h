// HttpClient: the outbound HTTP transport (provider APIs, token endpoints, outbound webhooks).
//
// Everything that talks to a remote HTTP server goes through this interface so that tests can
// script the other side (testing/fake_http_client.h). The production implementation is
// CurlHttpClient (curl_http_client.h).
//
// Thread safety: implementations are thread-safe; Send may be called concurrently from many
// threads. Send blocks the calling thread for up to the request's timeout, so call it from a
// blocking pool, never from an I/O thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sb/base/status.h"

namespace sb::net {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";  // any HTTP token: GET, HEAD, POST, PUT, PATCH, DELETE, ...
  std::string url;             // absolute http:// or https:// URL
  HeaderList headers;          // sent in order; set Content-Type yourself when sending a body
  std::string body;            // sent when non-empty (POST/PUT/PATCH always send one)
  std::chrono::milliseconds timeout{10'000};  // deadline for the whole exchange; must be > 0
  // When not empty, connect to the URL's host only at these addresses ("1.2.3.4", "[::1]"),
  // without resolving it again: a caller that checked the addresses (SSRF defence) pins them,
  // so that a second DNS answer cannot move the request elsewhere. Such a transfer does not
  // reuse pooled connections.
  std::vector<std::string> pinned_addresses;
};

struct HttpResponse {
  int status = 0;      // e.g. 200, 404; the final response's status after 1xx and redirects
  HeaderList headers;  // the final response's headers, names as received
  std::string body;

  // The first header with this name, compared ASCII case-insensitively.
  std::optional<std::string_view> Header(std::string_view name) const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Sends `request` and returns the response. Any response from the server, including 4xx and
  // 5xx, is a successful Result: deciding what a status means is the caller's job. A Status is
  // returned only when no complete response arrived:
  //   DeadlineExceeded   the request's timeout (or the connect timeout) passed
  //   ResourceExhausted  the response exceeded the client's size limit (transfer aborted)
  //   InvalidArgument    the request is malformed (bad URL or scheme, method not a token,
  //                      header name or value that cannot be sent, timeout <= 0)
  //   Unavailable        any other transport failure: DNS, connect, TLS, connection reset
  // Error messages never contain the request body or header values (they may hold secrets);
  // they may contain the method and the URL without userinfo, query string and fragment.
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

// True when `a` and `b` are equal ignoring ASCII case (header names).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace sb::net
