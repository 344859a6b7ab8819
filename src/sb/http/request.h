// Request: one parsed HTTP request as handlers and middlewares see it. A plain value type
// (Beast-free); the server fills it from the wire, the router adds the route and path params,
// middlewares attach the principal. Thread-compatible: one request is handled by one thread
// at a time.
#pragma once

#include <any>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sb/base/status.h"
#include "sb/http/response.h"

namespace sb::http {

// Where a route's handler (with its middlewares) runs.
enum class Execution {
  kBlockingPool,  // the default: anything that may block (database, crypto on big payloads)
  // Handlers that wait for a provider's answer (a calendar write sent through): the pool of
  // streamed-body routes (ServerOptions::upload_pool), so that a slow provider never holds
  // one of the threads that database routes need.
  kOutboundPool,
  kInline,  // on the I/O thread: only cheap, non-blocking handlers such as /healthz
};

// Per-route attributes, fixed at registration; middlewares read them from the Request.
struct RouteOptions {
  // False for public routes (health checks, metrics, hosted pages): an authentication
  // middleware should let the request through without credentials.
  bool authenticated = true;
  Execution execution = Execution::kBlockingPool;
  // False when the path itself carries a secret (e.g. a bearer token in /connect/{token}): the
  // access log then shows the route pattern instead of the path.
  bool log_path = true;
  // The largest request body this route accepts; unset: the server's max_body_bytes. Larger
  // bodies get 413 problem+json and the connection closes (by Content-Length before the body
  // is read, or while reading a chunked body). The body is still read whole into
  // Request::body before the handler runs, so this bounds memory per request.
  std::optional<size_t> max_body_bytes;
  // True: the body is not read before the handler runs; the handler pulls it from
  // Request::body_stream as it arrives (within max_body_bytes), and the connection closes after
  // the response.
  bool stream_request_body = false;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;
using ParamMap = std::map<std::string, std::string, std::less<>>;

struct Request {
  std::string method;  // as sent, e.g. "GET" (methods are case-sensitive)
  std::string target;  // raw request-target, e.g. "/v1/tenants?limit=10"
  std::string path;    // raw (still percent-encoded) path part of target
  HeaderList query;    // decoded query parameters in order; '+' means space
  HeaderList headers;  // names as sent; look up with Header()
  std::string body;
  // Set instead of `body` on routes with stream_request_body: the next chunk, nullopt at the
  // end, or an error (OUT_OF_RANGE past the route's limit, CANCELLED when the client went away
  // or the request's read deadline passed, INVALID_ARGUMENT for a malformed body). Pulled from
  // the handler's thread, one call at a time; it may outlive the handler (a streamed answer
  // can still be pulling it) and then fails with CANCELLED once the connection is closed.
  std::shared_ptr<BodySource> body_stream;
  std::optional<uint64_t> body_length;  // the request's Content-Length, when it sent one
  std::string remote_address;           // "ip:port" of the peer
  std::string request_id;               // validated incoming X-Request-Id or a generated one

  // Set by the router on a match.
  std::string_view route_name;  // the route pattern; points into the Router (outlives requests)
  RouteOptions route_options;
  ParamMap path_params;  // percent-decoded values of {param} segments

  // Slots for middlewares: `principal` holds the authenticated caller (any type the API layer
  // chooses, read back with std::any_cast); `context` holds small string attributes.
  std::any principal;
  ParamMap context;

  // First header with this name, compared case-insensitively.
  std::optional<std::string_view> Header(std::string_view name) const;
  // First query parameter with this (decoded, case-sensitive) name.
  std::optional<std::string_view> Query(std::string_view name) const;
  std::optional<std::string_view> PathParam(std::string_view name) const;
};

// ASCII case-insensitive comparison (header names).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// Decodes %XX escapes; with `plus_as_space` (query strings) '+' becomes ' '. Returns
// InvalidArgument on a malformed escape or when the result is not valid UTF-8.
Result<std::string> PercentDecode(std::string_view text, bool plus_as_space = false);

// Parses an application/x-www-form-urlencoded body (or query string) into name/value pairs, in
// order, repeated names kept. InvalidArgument on a malformed escape or invalid UTF-8.
Result<HeaderList> ParseForm(std::string_view body);

// The value of cookie `name` from the request's Cookie headers (RFC 6265 section 5.4), or
// nullopt.
std::optional<std::string_view> CookieValue(const Request& request, std::string_view name);

// Splits `target` into path and decoded query parameters and stores them in `request`.
// Returns InvalidArgument unless target is origin-form ("/path?query") with a valid query.
Status ParseTarget(std::string_view target, Request& request);

// True for an acceptable incoming X-Request-Id: 1..128 chars of [A-Za-z0-9._:-].
bool IsValidRequestId(std::string_view id);
// A new random request id: 32 lowercase hex chars. Thread-safe, no system call per id.
std::string NewRequestId();

}  // namespace sb::http
