// Small URL and form helpers for the emulators' wire code.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sb/http/request.h"

namespace sandbox {

// Appends fields to `url` with '?' or '&', encoded by sb::FormEncode.
std::string AppendQuery(std::string url,
                        const std::vector<std::pair<std::string, std::string>>& fields);

// Decodes an application/x-www-form-urlencoded body; nullopt when malformed.
std::optional<sb::http::HeaderList> ParseForm(std::string_view body);

// The first value of `name` in a decoded list.
std::optional<std::string> FieldOf(const sb::http::HeaderList& fields, std::string_view name);

}  // namespace sandbox
