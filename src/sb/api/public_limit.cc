#include "sb/api/public_limit.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "sb/api/connect_pages.h"
#include "sb/http/problem.h"

namespace sb::api {
namespace {

std::chrono::seconds RetryAfterSeconds(const http::RateDecision& decision) {
  // Rounded up so that a retry at that time succeeds.
  return std::max(std::chrono::ceil<std::chrono::seconds>(decision.retry_after),
                  std::chrono::seconds(1));
}

http::Response TooManyRequests(PublicAnswer answer, const http::RateDecision& decision,
                               const http::Request& request) {
  const std::chrono::seconds retry_after = RetryAfterSeconds(decision);
  if (answer == PublicAnswer::kProblem) {
    return http::RateLimitedProblem(retry_after, request.request_id);
  }
  http::Response page =
      HtmlPage(429, RenderProblemPage("Too many requests",
                                      "This device sent too many requests. Wait a moment and "
                                      "try again.",
                                      "rate_limited"));
  page.SetHeader("Retry-After", std::to_string(retry_after.count()));
  return page;
}

}  // namespace

std::string ClientHost(std::string_view remote_address) {
  const size_t colon = remote_address.rfind(':');
  const size_t bracket = remote_address.rfind(']');
  if (colon == std::string_view::npos || (bracket != std::string_view::npos && bracket > colon)) {
    return std::string(remote_address);
  }
  return std::string(remote_address.substr(0, colon));
}

http::Handler PublicRateLimit::Wrap(PublicAnswer answer, http::Handler handler) const {
  return [&limiter = limiter_, answer, handler = std::move(handler)](http::Request& request) {
    const http::RateDecision decision = limiter.Acquire(ClientHost(request.remote_address));
    if (!decision.allowed) return TooManyRequests(answer, decision, request);
    return handler(request);
  };
}

}  // namespace sb::api
