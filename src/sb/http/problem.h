// The one mapping from sb::Status to HTTP: status code plus an RFC 9457
// `application/problem+json` body {type, title, status, detail, instance?, request_id}.
//
// Status code mapping (Abseil canonical codes):
//   INVALID_ARGUMENT, OUT_OF_RANGE -> 400     UNAUTHENTICATED -> 401   PERMISSION_DENIED -> 403
//   NOT_FOUND -> 404                          ALREADY_EXISTS, ABORTED -> 409
//   FAILED_PRECONDITION -> 409 (the resource's state forbids the operation; 412 is kept for
//     failed conditional headers such as If-Match, built with MakeProblem(412, ...))
//   RESOURCE_EXHAUSTED -> 429   UNIMPLEMENTED -> 501   UNAVAILABLE -> 503
//   DEADLINE_EXCEEDED -> 504    everything else (INTERNAL, UNKNOWN, DATA_LOSS, ...) -> 500
// Details: 4xx responses and 501 carry the Status message (messages never hold secrets, see
// status.h); 500, 503 and 504 carry a fixed generic detail so internal messages never leak.
// Pure functions, thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "sb/base/status.h"
#include "sb/http/response.h"

namespace sb::http {

inline constexpr std::string_view kProblemContentType = "application/problem+json";
// Problem type URIs are kProblemTypePrefix + a slug, e.g. "urn:switchboard:problem:not-found".
inline constexpr std::string_view kProblemTypePrefix = "urn:switchboard:problem:";

struct Problem {
  int status = 500;
  std::string slug;      // appended to kProblemTypePrefix to form `type`
  std::string detail;    // human-readable, safe to show to the caller
  std::string instance;  // optional URI reference of the occurrence (often the request path)
};

// The HTTP status for a (non-OK) code.
int HttpStatusForCode(StatusCode code);

// A problem+json response; title is the status's reason phrase.
Response MakeProblem(const Problem& problem, std::string_view request_id);
Response MakeProblem(int status, std::string_view slug, std::string_view detail,
                     std::string_view request_id);

// Maps a non-OK Status as documented above. REQUIRES: !status.ok().
Response StatusToProblem(const Status& status, std::string_view request_id,
                         std::string_view instance = {});

// Direct constructors for failures that the transport and router detect themselves.
Response RouteNotFoundProblem(std::string_view request_id);
Response MethodNotAllowedProblem(std::string_view allow, std::string_view request_id);  // + Allow
Response PayloadTooLargeProblem(size_t max_body_bytes, std::string_view request_id);
Response UnsupportedMediaTypeProblem(std::string_view expected, std::string_view request_id);
Response MalformedRequestProblem(std::string_view detail, std::string_view request_id);
Response HeadersTooLargeProblem(std::string_view request_id);  // 431
Response RateLimitedProblem(std::chrono::seconds retry_after, std::string_view request_id);
Response OverloadedProblem(std::string_view request_id);  // 503 + Retry-After: 1
// 503 + Retry-After: 1 when the upload pool (streamed request bodies) has no room.
Response UploadsOverloadedProblem(std::string_view request_id);
// 503 + Retry-After: 1 for a connection over ServerOptions::max_connections_per_ip.
Response TooManyConnectionsProblem(std::string_view request_id);
Response InternalErrorProblem(std::string_view request_id);

}  // namespace sb::http
