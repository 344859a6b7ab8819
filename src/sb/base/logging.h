// Structured logging as JSON lines on stderr, buffered (spdlog is the sink). Fields are a Json
// object; callers pass only non-secret values (ids, routes, codes). Thread-safe.
#pragma once

#include <string_view>

#include "sb/base/json.h"

namespace sb::log {

enum class Level { kDebug, kInfo, kWarn, kError };

// Parses "debug", "info", "warn", "error"; false for anything else.
bool ParseLevel(std::string_view text, Level* level);
void SetLevel(Level level);
// Writes log lines to stderr (the default) or, for tests, into a file.
void SetFileSink(const std::string& path);

// Writes out buffered lines (call before exit; warnings and errors are written at once, other
// lines within a second).
void Flush();

void Write(Level level, std::string_view event, const Json& fields = Json::object());
inline void Debug(std::string_view e, const Json& f = Json::object()) {
  Write(Level::kDebug, e, f);
}
inline void Info(std::string_view e, const Json& f = Json::object()) { Write(Level::kInfo, e, f); }
inline void Warn(std::string_view e, const Json& f = Json::object()) { Write(Level::kWarn, e, f); }
inline void Error(std::string_view e, const Json& f = Json::object()) {
  Write(Level::kError, e, f);
}

}  // namespace sb::log
