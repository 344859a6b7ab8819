// Internal to sb_http (includes Beast): conversion between Beast messages and sb::http types,
// shared by the server and ParseRequest so that both parse identically.
#pragma once

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "sb/base/status.h"
#include "sb/http/parse.h"
#include "sb/http/request.h"

namespace sb::http::internal {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;
using BeastParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// A parser with the limits applied.
void ApplyLimits(const ParseLimits& limits, BeastParser& parser);

// Maps a Beast read/parse error to the documented parse failure codes (see parse.h).
Status ParseErrorToStatus(const boost::beast::error_code& ec);

// Moves method, target (split into path and query), headers and body into `out`.
// Returns InvalidArgument for a target that is not origin-form or a malformed query.
Status FromBeast(BeastRequest&& message, Request& out);

}  // namespace sb::http::internal
