// Per-client rate limiting of the public (unauthenticated) routes: the hosted connect pages, the
// OAuth callback and, later, the providers' push endpoints. A wrapped handler charges the
// client host's token bucket first and answers 429 with Retry-After when it is empty, before
// the handler does any database work, so that unauthenticated traffic cannot make the server
// read or write without bound (issue 13; security.md 7.3).
//
// The client is the peer address of the connection (its host part). Headers such as
// X-Forwarded-For are not trusted: behind a reverse proxy every client shares the proxy's
// bucket, so such deployments rate limit at the proxy or raise the limit. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "sb/http/rate_limiter.h"
#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/http/router.h"

namespace sb::api {

// How a refused request is answered.
enum class PublicAnswer {
  kHtmlPage,  // pages a browser shows (connect pages, the OAuth callback)
  kProblem,   // application/problem+json (machine callers such as provider push endpoints)
};

// The host part of "ip:port" or "[v6]:port"; the whole text when there is no port.
std::string ClientHost(std::string_view remote_address);

class PublicRateLimit {
 public:
  // `limiter` (keyed by client host) must outlive this object and every wrapped handler.
  explicit PublicRateLimit(http::RateLimiter& limiter) : limiter_(limiter) {}

  // `handler`, run only when the client's bucket had a token; otherwise a 429 in the form of
  // `answer` with Retry-After in whole seconds (at least 1).
  http::Handler Wrap(PublicAnswer answer, http::Handler handler) const;

 private:
  http::RateLimiter& limiter_;
};

}  // namespace sb::api
