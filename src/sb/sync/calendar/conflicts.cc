#include "sb/sync/calendar/conflicts.h"

#include <array>
#include <chrono>
#include <string>

#include "sb/base/time_format.h"

namespace sb::sync::calendar {
namespace {

constexpr std::array<std::string_view, 13> kCompared = {
    "title",     "description_text", "description_html", "location",     "start",
    "end",       "all_day",          "status",           "transparency", "visibility",
    "attendees", "reminders",        "recurrence"};

int64_t Millis(Timestamp t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Json Member(const Json& object, std::string_view name) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(name);
  return it == object.end() ? Json(nullptr) : *it;
}

}  // namespace

store::ConflictPolicy PolicyFromSettings(const Json& settings, std::string_view service,
                                         store::ConflictPolicy fallback) {
  const Json policies = Member(settings, "conflict_policies");
  const Json named = Member(policies, service);
  if (!named.is_string()) return fallback;
  return store::ParseConflictPolicy(named.get<std::string>()).value_or(fallback);
}

store::ConflictResolution AutomaticWinner(store::ConflictPolicy policy,
                                          const std::optional<Event>& provider,
                                          Timestamp host_written_at, Timestamp now) {
  using store::ConflictResolution;
  switch (policy) {
    case store::ConflictPolicy::kProviderWins:
      return ConflictResolution::kProvider;
    case store::ConflictPolicy::kHostWins:
      return ConflictResolution::kHost;
    case store::ConflictPolicy::kManual:
      return ConflictResolution::kNone;
    case store::ConflictPolicy::kLastModifiedWins:
      break;
  }
  const int64_t provider_ms =
      provider && provider->updated_ms ? *provider->updated_ms : Millis(now);
  return provider_ms > Millis(host_written_at) ? ConflictResolution::kProvider
                                               : ConflictResolution::kHost;
}

Json ConflictDifferences(const Json& host_event, const Json& provider_event) {
  Json out = Json::array();
  for (std::string_view name : kCompared) {
    const Json host = Member(host_event, name);
    const Json provider = Member(provider_event, name);
    if (host != provider) {
      out.push_back({{"field", name}, {"host", host}, {"provider", provider}});
    }
  }
  return out;
}

Json ConflictJson(const store::EventConflictRecord& c, bool detail) {
  Json j = {{"id", c.id},
            {"connection_id", c.connection_id.value()},
            {"mapping_id", c.mapping_id},
            {"external_id", c.external_id},
            {"event_id", c.event_id ? Json(c.event_id->value()) : Json(nullptr)},
            {"policy", store::ConflictPolicyName(c.policy)},
            {"status", store::ConflictStatusName(c.status)},
            {"resolution", c.resolution == store::ConflictResolution::kNone
                               ? Json(nullptr)
                               : Json(store::ConflictResolutionName(c.resolution))},
            {"resolved_by", c.resolved_by.empty() ? Json(nullptr) : Json(c.resolved_by)},
            {"detected_at", FormatRfc3339(c.detected_at)},
            {"resolved_at", c.resolved_at ? Json(FormatRfc3339(*c.resolved_at)) : Json(nullptr)}};
  if (detail) {
    j["host_event"] = c.host_event;
    j["provider_event"] = c.provider_event;
    j["resolved_event"] = c.resolved_event;
    j["differences"] = ConflictDifferences(c.host_event, c.provider_event);
  }
  return j;
}

}  // namespace sb::sync::calendar
