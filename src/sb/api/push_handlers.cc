#include "sb/api/push_handlers.h"

#include <string>
#include <utility>

#include "sb/base/json.h"
#include "sb/http/problem.h"

namespace sb::api {
namespace {

using sync::calendar::PushVerdict;

constexpr size_t kMaxValidationToken = 1024;
constexpr size_t kMaxNotifications = 100;  // items in one Graph delivery

const JsonLimits kGraphLimits{.max_bytes = 1u << 20,
                              .max_depth = 8,
                              .max_string_bytes = 16u << 10,
                              .max_members = 1000,
                              .max_values = 50'000};

TenantId TenantParam(const http::Request& request) {
  return TenantId(std::string(request.PathParam("tenant").value_or("")));
}

std::string HeaderOr(const http::Request& request, std::string_view name) {
  return std::string(request.Header(name).value_or(""));
}

// The answer to a refused notification.
http::Response Refused(PushVerdict verdict, const http::Request& request) {
  switch (verdict) {
    case PushVerdict::kUnknown:
      return http::MakeProblem(404, "unknown-channel", "no such push channel", request.request_id);
    case PushVerdict::kForged:
      return http::MakeProblem(403, "push-verification-failed",
                               "the notification does not match its channel", request.request_id);
    default:
      return http::MakeProblem(400, "malformed-notification", "the notification is malformed",
                               request.request_id);
  }
}

bool Stored(PushVerdict verdict) {
  return verdict == PushVerdict::kAccepted || verdict == PushVerdict::kDuplicate ||
         verdict == PushVerdict::kIgnored;
}

bool IsPrintableAscii(std::string_view text) {
  for (char c : text) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

http::Response PushHandlers::Google(http::Request& request) {
  sync::calendar::GoogleNotification n{
      HeaderOr(request, "X-Goog-Channel-ID"), HeaderOr(request, "X-Goog-Channel-Token"),
      HeaderOr(request, "X-Goog-Resource-ID"), HeaderOr(request, "X-Goog-Resource-State"),
      HeaderOr(request, "X-Goog-Message-Number")};
  auto verdict = push_.OnGoogle(TenantParam(request), n);
  if (!verdict.ok()) return http::OverloadedProblem(request.request_id);
  if (!Stored(*verdict)) return Refused(*verdict, request);
  return http::Response::Empty(200);
}

http::Response PushHandlers::Microsoft(http::Request& request) {
  // The subscription handshake: echo the token at once, decoded, as plain text.
  if (auto token = request.Query("validationToken")) {
    if (token->empty() || token->size() > kMaxValidationToken || !IsPrintableAscii(*token)) {
      return Refused(PushVerdict::kMalformed, request);
    }
    return http::Response::Text(200, std::string(*token));
  }
  auto body = ParseJson(request.body, kGraphLimits);
  if (!body.ok() || !body->is_object() || !body->contains("value") ||
      !(*body)["value"].is_array() || (*body)["value"].empty() ||
      (*body)["value"].size() > kMaxNotifications) {
    return Refused(PushVerdict::kMalformed, request);
  }
  const TenantId tenant = TenantParam(request);
  std::optional<PushVerdict> refused;
  bool stored = false;
  for (const Json& item : (*body)["value"]) {
    auto verdict = push_.OnGraph(tenant, item);
    if (!verdict.ok()) return http::OverloadedProblem(request.request_id);
    if (Stored(*verdict)) {
      stored = true;
    } else if (!refused) {
      refused = *verdict;
    }
  }
  if (!stored && refused) return Refused(*refused, request);
  return http::Response::Empty(202);
}

}  // namespace sb::api
