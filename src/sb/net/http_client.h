// HttpClient: the outbound HTTP transport (provider APIs, token endpoints, outbound webhooks).
//
// Everything that talks to a remote HTTP server goes through this interface so that tests can
// script the other side (testing/fake_http_client.h). The production implementation is
// CurlHttpClient (curl_http_client.h).
//
// Two ways to call: Send buffers the whole answer; Open returns once the status and headers
// arrived and hands out the body chunk by chunk (HttpResponseStream), for answers too large to
// hold or to be passed on while they arrive. Request bodies are a string, or pulled from a
// RequestBodySource while sending.
//
// Cancellation: a request may carry a cancel flag (HttpRequest::cancel). Whoever owns the flag
// sets it (from any thread) to stop the call: a Send or Open in flight, and every later Next of
// its stream, returns Cancelled within a short poll interval (CurlHttpClient: 50 ms). One flag
// may be shared by many requests (e.g. all calls to one provider, for a kill switch):
//
//   auto stop = std::make_shared<std::atomic<bool>>(false);
//   request.cancel = stop;   // converts to CancelFlag (a pointer to const)
//   ... later, on any thread:  stop->store(true);
//
// Thread safety: implementations are thread-safe; Send and Open may be called concurrently
// from many threads. A stream is used by one thread at a time. Send, Open and Next block the
// calling thread (up to the request's timeout), so call them from a blocking pool, never from
// an I/O thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sb/base/status.h"

namespace sb::net {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Set (to true, never back) by its owner to stop every call that carries it; see above.
using CancelFlag = std::shared_ptr<const std::atomic<bool>>;

// A request body pulled while it is sent. The client calls Next from the thread running the
// call, until nullopt or an error; an error aborts the call, which then fails with that error's
// code and message (so the message must not hold body bytes or secrets). A source is consumed
// once: a call that would need the body again (a redirect, a retry by the caller) cannot have
// it.
class RequestBodySource {
 public:
  virtual ~RequestBodySource() = default;
  // The next piece of the body (empty pieces are skipped), nullopt at the end, or an error.
  virtual Result<std::optional<std::string>> Next() = 0;
};

struct HttpRequest {
  std::string method = "GET";  // any HTTP token: GET, HEAD, POST, PUT, PATCH, DELETE, ...
  std::string url;             // absolute http:// or https:// URL
  HeaderList headers;          // sent in order; set Content-Type yourself when sending a body
  std::string body;            // sent when non-empty (POST/PUT/PATCH always send one)
  // When set, the body is pulled from here instead of `body` (which must then be empty):
  // with Content-Length when `body_length` is known, else with chunked transfer encoding.
  // A source that ends before or after `body_length` bytes fails the call.
  std::shared_ptr<RequestBodySource> body_source;
  std::optional<uint64_t> body_length;
  // Set: the call stops with Cancelled once the flag is true (checked before the call starts).
  CancelFlag cancel;
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

// The answer of HttpClient::Open: status and headers at once, the body in chunks. Destroying
// a stream before Next returned nullopt or an error aborts the transfer (its connection is
// closed, never reused). Thread-compatible: one thread at a time.
class HttpResponseStream {
 public:
  virtual ~HttpResponseStream() = default;
  // Status and headers of the final response; its body stays empty (see Next). Valid for the
  // stream's lifetime.
  virtual const HttpResponse& head() const = 0;
  // The next non-empty piece of the body, nullopt after the last one, or an error with Send's
  // codes (DeadlineExceeded, ResourceExhausted, Unavailable, Cancelled). After nullopt or an
  // error the stream is finished and Next must not be called again.
  virtual Result<std::optional<std::string>> Next() = 0;
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
  //   Cancelled          the request's cancel flag was set
  //   (a RequestBodySource's error code, when the source failed)
  // Error messages never contain the request body or header values (they may hold secrets);
  // they may contain the method and the URL without userinfo, query string and fragment.
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;

  // Sends `request` and returns once the final response's status and headers arrived; the
  // body follows through the stream's Next. Errors as for Send, for what happened before the
  // head arrived. The default implementation Sends and hands out the buffered body as one
  // chunk (for clients without real streaming).
  virtual Result<std::unique_ptr<HttpResponseStream>> Open(const HttpRequest& request);
};

// True when `a` and `b` are equal ignoring ASCII case (header names).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace sb::net
