#include "sb/api/resource_json.h"

#include <optional>
#include <string>
#include <utility>

#include "sb/base/time_format.h"

namespace sb::api {
namespace {

Json OptionalTime(const std::optional<Timestamp>& t) {
  return t ? Json(FormatRfc3339(*t)) : Json();
}

// A delivery's payload as stored (a JSON object the store validated on write); null if a row
// holds anything else, so a bad row cannot break the listing.
Json StoredPayload(const std::string& payload) {
  Result<Json> parsed = ParseJson(payload, JsonLimits{});
  return parsed.ok() ? std::move(*parsed) : Json();
}

}  // namespace

Json DeliveryJson(const store::WebhookDeliveryRecord& r) {
  return {{"id", r.id.value()},
          {"endpoint_id", r.endpoint_id.value()},
          {"event_id", r.event_id},
          {"event_type", r.event_type},
          {"state", std::string(store::WebhookDeliveryStateName(r.state))},
          {"attempts", r.attempts},
          {"last_status_code", r.last_status_code ? Json(*r.last_status_code) : Json()},
          {"last_error", r.last_error},
          {"next_attempt_at", r.next_attempt_at ? Json(FormatRfc3339(*r.next_attempt_at)) : Json()},
          {"payload", StoredPayload(r.payload)},
          {"created_at", FormatRfc3339(r.created_at)},
          {"updated_at", FormatRfc3339(r.updated_at)}};
}

Json HealthJson(const ConnectionId& connection, const connections::HealthView& view) {
  const auto& h = view.record;
  Json body = {
      {"connection_id", connection.value()},
      {"status", std::string(connections::HealthStatusName(view.status))},
      {"connection_status", std::string(store::ConnectionStatusName(view.connection.status))},
      {"last_success_at", OptionalTime(h.last_success_at)},
      {"last_error", h.last_error_at ? Json{{"at", FormatRfc3339(*h.last_error_at)},
                                            {"kind", h.last_error_kind},
                                            {"message", h.last_error}}
                                     : Json()},
      {"consecutive_failures", h.consecutive_failures},
      {"incident_since", OptionalTime(h.incident_since)},
      {"retry_at", OptionalTime(h.retry_at)},
      {"last_checked_at", OptionalTime(h.last_checked_at)},
      {"next_check_at", OptionalTime(h.next_check_at)},
      {"provider_disabled", view.provider_disabled.empty() ? Json() : Json(view.provider_disabled)},
      {"suggestion", view.suggestion.empty() ? Json() : Json(view.suggestion)}};
  if (view.live_ok) body["live_check"] = {{"ok", *view.live_ok}};
  return body;
}

}  // namespace sb::api
