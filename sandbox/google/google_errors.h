// Google's error envelope (provider-protocols.md 1.1) and the answers shared by its APIs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sandbox/core/faults.h"

#include "sb/http/request.h"
#include "sb/http/response.h"

namespace sandbox::google {

inline constexpr std::string_view kJsonType = "application/json; charset=UTF-8";

struct GoogleError {
  int code = 400;
  std::string domain = "global";
  std::string reason;
  std::string message;
  std::string location_type;  // "parameter" or "header", optional
  std::string location;
  bool with_status = false;  // add the canonical "status" string (OnePlatform style)
};

sb::http::Response ErrorResponse(const GoogleError& error);
// The canonical gRPC status name for an HTTP code ("RESOURCE_EXHAUSTED" for 429).
std::string_view CanonicalStatus(int code);

sb::http::Response NotFound();
sb::http::Response InvalidCredentials();
sb::http::Response InsufficientPermissions();
sb::http::Response BadParameter(std::string message, std::string location,
                                std::string reason = "invalid");

// The answer for a fired fault rule (rate limits, 5xx, 401).
sb::http::Response FaultResponse(const FaultRule& rule, const sb::http::Request& request);

}  // namespace sandbox::google
