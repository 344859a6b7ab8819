// The one home of nlohmann/json. Everything that handles JSON includes this header.
//
// Untrusted JSON (request bodies, provider answers, tokens) is parsed with ParseJson and limits:
// nlohmann's copy, dump and operator== recurse on nesting depth, so a deep document accepted once
// could overflow the stack wherever it is copied or serialized later. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sb/base/status.h"

namespace sb {
using Json = nlohmann::json;

// What a parsed document may contain. Every limit is inclusive: a document exactly at a limit
// is accepted.
struct JsonLimits {
  size_t max_bytes = 1 << 20;          // the whole text
  size_t max_depth = 32;               // nested objects/arrays; a scalar document has depth 0
  size_t max_string_bytes = 64 << 10;  // each string value and each object key
  size_t max_members = 1000;           // members of one object, items of one array
  size_t max_values = 100'000;         // all values (scalars and containers) in the document
};

// Parses `text` as one JSON document (RFC 8259; no comments, no trailing data) within `limits`.
// Parsing stops at the first limit crossed, so no work is proportional to the depth or size of a
// refused document, and the parser does not recurse on nesting. Errors are INVALID_ARGUMENT and
// never echo the input: a crossed limit names the limit ("JSON nesting deeper than 32 levels"),
// malformed text gives the byte offset ("malformed JSON at byte 17").
Result<Json> ParseJson(std::string_view text, const JsonLimits& limits);

// The nesting depth of `value` (0 for a scalar, 1 for an empty container). Iterative: safe on
// any document, however deep.
size_t JsonDepth(const Json& value);

}  // namespace sb
