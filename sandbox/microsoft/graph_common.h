// Wire conventions shared by the emulated Microsoft identity platform and Graph
// (provider-protocols.md 6.2, 7.1, 7.2): the Graph error envelope and JSON content type, the
// identity platform's AADSTS error bodies, GUIDs and Graph's timestamp formats.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sandbox/core/faults.h"

#include "sb/base/json.h"
#include "sb/http/request.h"
#include "sb/http/response.h"

namespace sandbox::microsoft {

inline constexpr std::string_view kGraphJsonType =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;"
    "charset=utf-8";
// Keys the Graph middleware leaves in Request::context for the error envelope.
inline constexpr std::string_view kRequestIdKey = "graph.request_id";
inline constexpr std::string_view kDateKey = "graph.date";

// A random lowercase GUID, "8-4-4-4-12" hex digits.
std::string NewGuid();

// "2024-05-02T08:15:30" (Graph's innerError.date: UTC, no zone suffix).
std::string FormatInnerDate(int64_t utc_ms);
// "2024-05-02T08:15:30.1234567Z" (DateTimeOffset properties).
std::string FormatOffsetDateTime(int64_t utc_ms);

// `body` as Graph JSON (its content type).
sb::http::Response GraphJson(int status, const sb::Json& body);
// A collection answer: the members of `meta` (@odata.context, links) plus "value", whose
// items arrive already serialized (the store keeps rendered events), so a page is spliced
// rather than rebuilt as a JSON tree.
sb::http::Response GraphCollection(const sb::Json& meta, const std::vector<std::string>& items);

// Graph's error envelope {"error":{"code","message","innerError":{date,request-id,
// client-request-id}}} with the ids the middleware assigned to `request`.
sb::http::Response GraphError(const sb::http::Request& request, int status, std::string_view code,
                              std::string_view message);

// Adds request-id (generated when absent) and the echoed client-request-id.
void AddGraphHeaders(const sb::http::Request& request, sb::http::Response& response);

// The answer for a fired fault rule: Graph's throttling envelope for 429, the matching error
// envelope otherwise; token endpoint paths get an AADSTS body.
sb::http::Response FaultResponse(const FaultRule& rule, const sb::http::Request& request,
                                 int64_t now_ms);

// An identity-platform error body (6.2): error, error_description with the AADSTS code and
// trace/correlation ids, error_codes, timestamp, trace_id, correlation_id, error_uri, and
// `suberror` when non-empty.
sb::http::Response AadError(int status, std::string_view error, int code,
                            std::string_view description, int64_t now_ms,
                            std::string_view suberror = {});

}  // namespace sandbox::microsoft
