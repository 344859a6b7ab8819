// The one home of nlohmann/json. Everything that handles JSON includes this header.
#pragma once

#include <nlohmann/json.hpp>

namespace sb {
using Json = nlohmann::json;
}  // namespace sb
