#include "sb/http/problem.h"

#include <algorithm>

#include "sb/base/json.h"

namespace sb::http {
namespace {

std::string SlugFor(StatusCode code) {
  // "FAILED_PRECONDITION" -> "failed-precondition".
  std::string slug(StatusCodeName(code));
  std::transform(slug.begin(), slug.end(), slug.begin(), [](char c) {
    return c == '_' ? '-' : static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  });
  return slug;
}

std::string DetailFor(const Status& status, int http_status) {
  switch (http_status) {
    case 500:
      return "An internal error occurred. Quote the request_id when reporting it.";
    case 503:
      return "The service is temporarily unavailable. Retry later.";
    case 504:
      return "The operation did not complete in time.";
    default:
      return status.message();
  }
}

}  // namespace

int HttpStatusForCode(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kAborted:
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

Response MakeProblem(const Problem& problem, std::string_view request_id) {
  sb::Json body = {
      {"type", std::string(kProblemTypePrefix) + problem.slug},
      {"title", ReasonPhrase(problem.status)},
      {"status", problem.status},
      {"detail", problem.detail},
  };
  if (!problem.instance.empty()) body["instance"] = problem.instance;
  if (!request_id.empty()) body["request_id"] = request_id;
  Response r = Response::Json(problem.status, body);
  r.SetHeader("Content-Type", kProblemContentType);
  return r;
}

Response MakeProblem(int status, std::string_view slug, std::string_view detail,
                     std::string_view request_id) {
  return MakeProblem(Problem{status, std::string(slug), std::string(detail), {}}, request_id);
}

Response StatusToProblem(const Status& status, std::string_view request_id,
                         std::string_view instance) {
  const int http_status = HttpStatusForCode(status.code());
  const std::string slug = http_status == 500 ? "internal" : SlugFor(status.code());
  return MakeProblem(
      Problem{http_status, slug, DetailFor(status, http_status), std::string(instance)},
      request_id);
}

Response RouteNotFoundProblem(std::string_view request_id) {
  return MakeProblem(404, "route-not-found", "No route matches the request path.", request_id);
}

Response MethodNotAllowedProblem(std::string_view allow, std::string_view request_id) {
  Response r =
      MakeProblem(405, "method-not-allowed", "The route does not support this method.", request_id);
  r.SetHeader("Allow", allow);
  return r;
}

Response PayloadTooLargeProblem(size_t max_body_bytes, std::string_view request_id) {
  return MakeProblem(413, "payload-too-large",
                     "The request body exceeds " + std::to_string(max_body_bytes) + " bytes.",
                     request_id);
}

Response UnsupportedMediaTypeProblem(std::string_view expected, std::string_view request_id) {
  return MakeProblem(415, "unsupported-media-type",
                     "The request body must be " + std::string(expected) + ".", request_id);
}

Response MalformedRequestProblem(std::string_view detail, std::string_view request_id) {
  return MakeProblem(400, "malformed-request", detail, request_id);
}

Response HeadersTooLargeProblem(std::string_view request_id) {
  return MakeProblem(431, "headers-too-large", "The request header section is too large.",
                     request_id);
}

Response RateLimitedProblem(std::chrono::seconds retry_after, std::string_view request_id) {
  Response r = MakeProblem(429, "rate-limited", "Too many requests. Retry later.", request_id);
  r.SetHeader("Retry-After", std::to_string(std::max<int64_t>(1, retry_after.count())));
  return r;
}

namespace {

// A 503 the client should retry in a second.
Response RetryInASecond(std::string_view type, std::string_view detail,
                        std::string_view request_id) {
  Response r = MakeProblem(503, type, detail, request_id);
  r.SetHeader("Retry-After", "1");
  return r;
}

}  // namespace

Response OverloadedProblem(std::string_view request_id) {
  return RetryInASecond("overloaded", "The server is overloaded. Retry later.", request_id);
}

Response UploadsOverloadedProblem(std::string_view request_id) {
  return RetryInASecond(
      "overloaded", "The server is handling as many uploads as it can. Retry later.", request_id);
}

Response TooManyConnectionsProblem(std::string_view request_id) {
  return RetryInASecond("too-many-connections",
                        "Too many connections from this address. Close some and retry.",
                        request_id);
}

Response InternalErrorProblem(std::string_view request_id) {
  return StatusToProblem(InternalError("internal"), request_id);
}

}  // namespace sb::http
