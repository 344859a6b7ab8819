#include "sb/api/availability_handlers.h"

#include <array>
#include <string>
#include <utility>

#include "sb/api/auth.h"
#include "sb/api/json_body.h"
#include "sb/api/tenant_handlers.h"
#include "sb/base/time_format.h"

namespace sb::api {
namespace {

using sync::calendar::AvailabilityQuery;
using sync::calendar::WorkingHours;

constexpr int64_t kMaxStalenessSeconds = 7 * 86'400;

// Monday first, as WorkingHours::days.
constexpr std::array<std::string_view, 7> kDays = {"monday", "tuesday",  "wednesday", "thursday",
                                                   "friday", "saturday", "sunday"};

Result<int64_t> Instant(const Json& body, std::string_view field) {
  SB_ASSIGN_OR_RETURN(const std::string text, RequiredString(body, field, 64));
  const auto t = ParseRfc3339(text);
  if (!t) {
    std::string message(field);
    message += ": an RFC 3339 time with an offset";
    return InvalidArgumentError(message);
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
}

Status FieldFormatError(std::string_view field) {
  std::string message = "working_hours.";
  message += field;
  message += ": \"hh:mm\"";
  return InvalidArgumentError(message);
}

// "hh:mm" as minutes of the day; "24:00" is the end of the day.
Result<int> Minute(const Json& hours, std::string_view field) {
  SB_ASSIGN_OR_RETURN(const std::string text, RequiredString(hours, field, 5));
  const auto digit = [&](size_t i) { return text[i] >= '0' && text[i] <= '9'; };
  if (text.size() != 5 || text[2] != ':' || !digit(0) || !digit(1) || !digit(3) || !digit(4)) {
    return FieldFormatError(field);
  }
  const int h = (text[0] - '0') * 10 + (text[1] - '0');
  const int m = (text[3] - '0') * 10 + (text[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) {
    return FieldFormatError(field);
  }
  return h * 60 + m;
}

Result<WorkingHours> HoursFrom(const Json& json) {
  if (!json.is_object()) return InvalidArgumentError("working_hours: an object");
  for (const auto& [name, value] : json.items()) {
    if (name != "start" && name != "end" && name != "days") {
      std::string message = "working_hours: unknown field '";
      message += name.substr(0, 64);
      message += '\'';
      return InvalidArgumentError(message);
    }
  }
  WorkingHours hours;
  SB_ASSIGN_OR_RETURN(hours.start_minute, Minute(json, "start"));
  SB_ASSIGN_OR_RETURN(hours.end_minute, Minute(json, "end"));
  if (json.contains("days")) {
    const Json& days = json["days"];
    if (!days.is_array() || days.size() > kDays.size()) {
      return InvalidArgumentError("working_hours.days: a list of weekday names");
    }
    hours.days.fill(false);
    for (const Json& day : days) {
      size_t i = 0;
      while (i < kDays.size() &&
             !(day.is_string() && day.get_ref<const std::string&>() == kDays[i]))
        ++i;
      if (i == kDays.size())
        return InvalidArgumentError("working_hours.days: a list of weekday names");
      hours.days[i] = true;
    }
  }
  return hours;
}

Result<AvailabilityQuery> QueryFrom(const Json& body) {
  AvailabilityQuery query;
  if (!body.contains("connection_ids") || !body["connection_ids"].is_array()) {
    return InvalidArgumentError("connection_ids: a list of connection ids");
  }
  for (const Json& id : body["connection_ids"]) {
    if (!id.is_string() || !IsCanonicalUuid(id.get_ref<const std::string&>())) {
      return InvalidArgumentError("connection_ids: a list of connection ids");
    }
    query.connections.emplace_back(id.get<std::string>());
    if (query.connections.size() > sync::calendar::AvailabilityReader::kMaxConnections) {
      return InvalidArgumentError("connection_ids: at most 20");
    }
  }
  SB_ASSIGN_OR_RETURN(query.start_ms, Instant(body, "time_min"));
  SB_ASSIGN_OR_RETURN(query.end_ms, Instant(body, "time_max"));
  SB_ASSIGN_OR_RETURN(const auto zone, OptionalString(body, "time_zone", 64));
  query.time_zone = zone.value_or("UTC");
  if (body.contains("working_hours") && !body["working_hours"].is_null()) {
    SB_ASSIGN_OR_RETURN(query.hours, HoursFrom(body["working_hours"]));
  }
  if (body.contains("slot_minutes") && !body["slot_minutes"].is_null()) {
    const Json& minutes = body["slot_minutes"];
    if (!minutes.is_number_integer() || minutes.get<int64_t>() < 5 ||
        minutes.get<int64_t>() > 1440) {
      return InvalidArgumentError("slot_minutes: 5..1440");
    }
    query.slot_ms = minutes.get<int64_t>() * 60'000;
  }
  SB_ASSIGN_OR_RETURN(const auto source, OptionalString(body, "source", 16));
  if (source) {
    const auto parsed = sync::calendar::ParseAvailabilitySource(*source);
    if (!parsed) return InvalidArgumentError("source: auto, store or provider");
    query.source = *parsed;
  }
  if (body.contains("max_staleness_seconds") && !body["max_staleness_seconds"].is_null()) {
    const Json& seconds = body["max_staleness_seconds"];
    if (!seconds.is_number_integer() || seconds.get<int64_t>() < 0 ||
        seconds.get<int64_t>() > kMaxStalenessSeconds) {
      return InvalidArgumentError("max_staleness_seconds: 0..604800");
    }
    query.max_staleness = std::chrono::seconds(seconds.get<int64_t>());
  }
  return query;
}

}  // namespace

http::Response AvailabilityHandlers::Post(http::Request& r) { return Respond(r, DoPost(r)); }

Result<http::Response> AvailabilityHandlers::DoPost(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, tenancy::Scope::kRead));
  SB_ASSIGN_OR_RETURN(const Json body,
                      ParseJsonObject(request, {"connection_ids", "time_min", "time_max",
                                                "time_zone", "working_hours", "slot_minutes",
                                                "source", "max_staleness_seconds"}));
  SB_ASSIGN_OR_RETURN(const AvailabilityQuery query, QueryFrom(body));
  SB_ASSIGN_OR_RETURN(const auto availability, reader_.Compute(p.tenant_id, query));
  return http::Response::Json(200, sync::calendar::AvailabilityJson(availability));
}

}  // namespace sb::api
