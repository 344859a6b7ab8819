// Reading JSON request bodies and fields with precise error messages that name the field but
// never echo a value. Every failure is INVALID_ARGUMENT (400). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sb/base/ids.h"
#include "sb/base/json.h"
#include "sb/base/status.h"
#include "sb/http/request.h"
#include "sb/store/oauth/integration_repository.h"

namespace sb::api {

// What an API request body may contain (docs/operations.md, "JSON limits"). The body's size is
// bounded before this by server.max_body_bytes; the depth keeps every later copy, comparison and
// serialization of the document (nlohmann's recurse) far from the stack's end.
inline constexpr JsonLimits kApiJsonLimits{.max_bytes = 1 << 20,
                                           .max_depth = 16,
                                           .max_string_bytes = 64 << 10,
                                           .max_members = 1000,
                                           .max_values = 10'000};

// Parses the body as a JSON object within kApiJsonLimits. Errors (INVALID_ARGUMENT): content
// type not application/json, empty body, invalid UTF-8, malformed JSON (with the byte offset), a
// crossed limit (named, e.g. "JSON nesting deeper than 16 levels"), not an object, or a member
// not in `allowed`. Messages never echo the body.
Result<Json> ParseJsonObject(const http::Request& request,
                             std::initializer_list<std::string_view> allowed);
// The same without the member check, for bodies whose reader checks members itself.
Result<Json> ParseJsonObject(const http::Request& request);

// A required string member of at most `max_len` bytes; names the field on error.
Result<std::string> RequiredString(const Json& object, std::string_view field, size_t max_len);
// An optional string member; error when present but not a string.
Result<std::optional<std::string>> OptionalString(const Json& object, std::string_view field,
                                                  size_t max_len);
// A required non-empty array of strings.
Result<std::vector<std::string>> RequiredStringArray(const Json& object, std::string_view field);

// The {id} path parameter as a connection id: NOT_FOUND "connection not found" unless it is a
// canonical UUID (no lookup: the caller's repository call finds it or not).
Result<ConnectionId> ConnectionParam(const http::Request& request);
// The optional `connection_id` query filter: INVALID_ARGUMENT unless it is a canonical UUID.
Result<std::optional<ConnectionId>> ConnectionFilterParam(const http::Request& request);

// The `order` query parameter: true for desc (newest first); false for asc or when absent;
// INVALID_ARGUMENT otherwise.
Result<bool> NewestFirstParam(const http::Request& request);
// A `cursor` query parameter that is a sequence number (the last seq of the previous page):
// none when absent; INVALID_ARGUMENT unless a non-negative decimal.
Result<std::optional<int64_t>> SeqCursorParam(const http::Request& request);

// Parses the `limit` query parameter: default when absent, error unless 1..max.
Result<int> PageLimit(const http::Request& request, int default_limit, int max_limit);

// The optional `services` member: [{"service": name, "access": "read" | "read_write"}].
Result<std::vector<store::ServiceGrant>> ParseServiceGrants(const Json& body);
// The same shape for responses.
Json ServiceGrantsJson(const std::vector<store::ServiceGrant>& services);

// "\"<version>\"": the ETag of a versioned resource.
std::string Etag(int64_t version);
// The version named by If-Match (an ETag this API returned); nullopt when absent.
Result<std::optional<int64_t>> IfMatchVersion(const http::Request& request);

}  // namespace sb::api
