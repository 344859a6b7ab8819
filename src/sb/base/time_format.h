// RFC 3339 timestamps in UTC ("2026-11-22T10:00:00.123456Z"). Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sb/base/clock.h"

namespace sb {

// Formats with microseconds when non-zero, else whole seconds.
std::string FormatRfc3339(Timestamp t);
// Parses "YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)"; nullopt when malformed.
std::optional<Timestamp> ParseRfc3339(std::string_view text);

}  // namespace sb
