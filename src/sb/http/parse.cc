#include "sb/http/parse.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include "sb/http/internal/beast_request.h"
#include "sb/http/problem.h"

namespace sb::http {
namespace internal {

namespace beast_http = boost::beast::http;

void ApplyLimits(const ParseLimits& limits, BeastParser& parser) {
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  parser.body_limit(limits.max_body_bytes);
  parser.eager(true);
}

Status ParseErrorToStatus(const boost::beast::error_code& ec) {
  if (ec == beast_http::error::body_limit)
    return Status(StatusCode::kOutOfRange, "request body too large");
  if (ec == beast_http::error::header_limit) {
    return ResourceExhaustedError("request header section too large");
  }
  if (ec == beast_http::error::need_more || ec == beast_http::error::partial_message ||
      ec == beast_http::error::end_of_stream) {
    return InvalidArgumentError("incomplete request");
  }
  return InvalidArgumentError("malformed request");
}

Status FromBeast(BeastRequest&& message, Request& out) {
  out.method = std::string(message.method_string());
  out.target = std::string(message.target());
  SB_RETURN_IF_ERROR(ParseTarget(out.target, out));
  out.headers.clear();
  for (const auto& field : message) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  out.body = std::move(message.body());
  return OkStatus();
}

}  // namespace internal

Result<Request> ParseRequest(std::string_view raw, const ParseLimits& limits) {
  internal::BeastParser parser;
  internal::ApplyLimits(limits, parser);
  boost::beast::error_code ec;
  while (!parser.is_done()) {
    // A request never ends at EOF (RFC 9112 6.3), so running out of bytes means incomplete.
    if (raw.empty()) return InvalidArgumentError("incomplete request");
    const size_t used = parser.put(boost::asio::buffer(raw.data(), raw.size()), ec);
    // All remaining bytes were offered, so need_more means incomplete (Beast requires more
    // bytes before put is called again after need_more).
    if (ec) return internal::ParseErrorToStatus(ec);
    if (used == 0) return InvalidArgumentError("incomplete request");
    raw.remove_prefix(used);
  }
  Request request;
  SB_RETURN_IF_ERROR(internal::FromBeast(parser.release(), request));
  return request;
}

Response ParseFailureProblem(const Status& failure, const ParseLimits& limits,
                             std::string_view request_id) {
  switch (failure.code()) {
    case StatusCode::kOutOfRange:
      return PayloadTooLargeProblem(limits.max_body_bytes, request_id);
    case StatusCode::kResourceExhausted:
      return HeadersTooLargeProblem(request_id);
    default:
      return MalformedRequestProblem(failure.message(), request_id);
  }
}

}  // namespace sb::http
