#include "sandbox/google/google_errors.h"

#include "sb/base/json.h"

namespace sandbox::google {

using sb::http::Response;

std::string_view CanonicalStatus(int code) {
  switch (code) {
    case 400:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
      return "NOT_FOUND";
    case 409:
      return "ALREADY_EXISTS";
    case 429:
      return "RESOURCE_EXHAUSTED";
    case 500:
      return "INTERNAL";
    case 503:
      return "UNAVAILABLE";
    default:
      return "UNKNOWN";
  }
}

Response ErrorResponse(const GoogleError& error) {
  sb::Json item = {{"domain", error.domain}, {"reason", error.reason}, {"message", error.message}};
  if (!error.location_type.empty()) item["locationType"] = error.location_type;
  if (!error.location.empty()) item["location"] = error.location;
  sb::Json body = {
      {"error",
       {{"code", error.code}, {"message", error.message}, {"errors", sb::Json::array({item})}}}};
  if (error.with_status) body["error"]["status"] = CanonicalStatus(error.code);
  Response response = Response::Json(error.code, body);
  response.SetHeader("Content-Type", kJsonType);
  return response;
}

Response NotFound() { return ErrorResponse({404, "global", "notFound", "Not Found"}); }

Response InvalidCredentials() {
  Response response = ErrorResponse(
      {401, "global", "authError", "Invalid Credentials", "header", "Authorization", false});
  response.SetHeader("WWW-Authenticate", "Bearer realm=\"https://accounts.google.com/\"");
  return response;
}

Response InsufficientPermissions() {
  GoogleError error{403, "global", "insufficientPermissions",
                    "Request had insufficient authentication scopes."};
  error.with_status = true;
  return ErrorResponse(error);
}

Response BadParameter(std::string message, std::string location, std::string reason) {
  return ErrorResponse(
      {400, "global", std::move(reason), std::move(message), "parameter", std::move(location)});
}

Response FaultResponse(const FaultRule& rule, const sb::http::Request&) {
  switch (rule.kind) {
    case FaultKind::kUnauthorized:
      return InvalidCredentials();
    case FaultKind::kRateLimit: {
      if (rule.status == 429) {
        GoogleError error{429, "global", rule.reason.empty() ? "rateLimitExceeded" : rule.reason,
                          "Resource has been exhausted (e.g. check quota)."};
        error.with_status = true;
        return ErrorResponse(error);
      }
      const std::string reason = rule.reason.empty() ? "rateLimitExceeded" : rule.reason;
      return ErrorResponse(
          {rule.status, "usageLimits", reason,
           reason == "userRateLimitExceeded" ? "User Rate Limit Exceeded" : "Rate Limit Exceeded"});
    }
    case FaultKind::kStatus:
    case FaultKind::kLatency:
      break;
  }
  if (rule.status == 503) {
    return ErrorResponse({503, "global", rule.reason.empty() ? "backendError" : rule.reason,
                          "The service is currently unavailable."});
  }
  if (rule.status >= 500) {
    return ErrorResponse({rule.status, "global", rule.reason.empty() ? "backendError" : rule.reason,
                          "Backend Error"});
  }
  return ErrorResponse({rule.status, "global", rule.reason.empty() ? "failed" : rule.reason,
                        std::string(sb::http::ReasonPhrase(rule.status))});
}

}  // namespace sandbox::google
