// ParseRequest: the request parsing the server uses (Beast's HTTP/1.1 parser plus target and
// header conversion), callable on a byte string without sockets, for tests and the fuzzer.
//
// Parse failures are Statuses with fixed codes, mapped to responses by ParseFailureProblem:
//   kInvalidArgument   malformed or incomplete request  -> 400
//   kOutOfRange        body larger than max_body_bytes  -> 413
//   kResourceExhausted header section too large        -> 431
// Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include "sb/base/status.h"
#include "sb/http/request.h"
#include "sb/http/response.h"

namespace sb::http {

struct ParseLimits {
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024 * 1024;
};

// Parses exactly one complete request from the start of `raw` (bytes after it are ignored).
Result<Request> ParseRequest(std::string_view raw, const ParseLimits& limits);

// The problem response for a failure Status from ParseRequest or the server's reader.
Response ParseFailureProblem(const Status& failure, const ParseLimits& limits,
                             std::string_view request_id);

}  // namespace sb::http
