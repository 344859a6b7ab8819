#include "sb/sync/calendar/graph_recurrence.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <optional>
#include <vector>

#include "sb/caltime/caltime.h"
#include "sb/caltime/windows_zones.h"
#include "sb/sync/calendar/fields.h"

namespace sb::sync::calendar {
namespace {

using internal::FieldError;
using internal::IntMember;
using internal::kMaxIdBytes;
using internal::StringMember;

constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kDays = {
    {{"sunday", "SU"},
     {"monday", "MO"},
     {"tuesday", "TU"},
     {"wednesday", "WE"},
     {"thursday", "TH"},
     {"friday", "FR"},
     {"saturday", "SA"}}};

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<std::string_view> DayCode(std::string_view graph_day) {
  const std::string day = Lower(graph_day);
  for (const auto& [name, code] : kDays) {
    if (name == day) return code;
  }
  return std::nullopt;
}

// pattern.daysOfWeek as RRULE day codes, in the order given, without repeats.
Result<std::vector<std::string_view>> DaysOfWeek(const Json& pattern) {
  SB_ASSIGN_OR_RETURN(const Json* days,
                      internal::ArrayMember(pattern, "daysOfWeek", 7 * 4, "pattern.daysOfWeek"));
  std::vector<std::string_view> out;
  if (days == nullptr) return out;
  for (const Json& day : *days) {
    if (!day.is_string()) return FieldError("pattern.daysOfWeek", "items must be strings");
    const std::optional<std::string_view> code = DayCode(day.get_ref<const std::string&>());
    if (!code) return FieldError("pattern.daysOfWeek", "unknown day");
    if (std::find(out.begin(), out.end(), *code) == out.end()) out.push_back(*code);
  }
  return out;
}

Result<std::string> RequiredDays(const Json& pattern) {
  SB_ASSIGN_OR_RETURN(const std::vector<std::string_view> days, DaysOfWeek(pattern));
  if (days.empty()) return FieldError("pattern.daysOfWeek", "missing");
  std::string out;
  for (const std::string_view day : days) {
    if (!out.empty()) out += ',';
    out += day;
  }
  return out;
}

// pattern.index as an RRULE position: first..fourth = 1..4, last = -1 (default first).
Result<int> Position(const Json& pattern) {
  SB_ASSIGN_OR_RETURN(const std::string index,
                      StringMember(pattern, "index", kMaxIdBytes, "pattern.index"));
  const std::string lower = Lower(index);
  if (lower.empty() || lower == "first") return 1;
  if (lower == "second") return 2;
  if (lower == "third") return 3;
  if (lower == "fourth") return 4;
  if (lower == "last") return -1;
  return FieldError("pattern.index", "unknown value");
}

Result<int> RequiredInt(const Json& object, std::string_view key, int min, int max,
                        std::string_view field) {
  SB_ASSIGN_OR_RETURN(const std::optional<int64_t> value, IntMember(object, key, min, max, field));
  if (!value) return FieldError(field, "missing");
  return static_cast<int>(*value);
}

// ";BYDAY=2TU" for one day, ";BYDAY=MO,TU;BYSETPOS=2" for several ("second weekday").
Result<std::string> RelativeDays(const Json& pattern) {
  SB_ASSIGN_OR_RETURN(const std::string days, RequiredDays(pattern));
  SB_ASSIGN_OR_RETURN(const int position, Position(pattern));
  std::string out = ";BYDAY=";
  if (days.size() == 2) {
    out += std::to_string(position);
    out += days;
  } else {
    out += days;
    out += ";BYSETPOS=";
    out += std::to_string(position);
  }
  return out;
}

Result<std::string> Month(const Json& pattern) {
  SB_ASSIGN_OR_RETURN(const int month, RequiredInt(pattern, "month", 1, 12, "pattern.month"));
  return ";BYMONTH=" + std::to_string(month);
}

Result<std::string> MonthDay(const Json& pattern) {
  SB_ASSIGN_OR_RETURN(const int day,
                      RequiredInt(pattern, "dayOfMonth", 1, 31, "pattern.dayOfMonth"));
  return ";BYMONTHDAY=" + std::to_string(day);
}

// FREQ and BY* parts of a pattern type.
Result<std::string> PatternParts(const Json& pattern, std::string_view type) {
  std::string rule;
  if (type == "daily") return std::string("FREQ=DAILY");
  if (type == "weekly") {
    SB_ASSIGN_OR_RETURN(const std::string days, RequiredDays(pattern));
    SB_ASSIGN_OR_RETURN(
        const std::string first,
        StringMember(pattern, "firstDayOfWeek", kMaxIdBytes, "pattern.firstDayOfWeek"));
    const std::optional<std::string_view> wkst = first.empty() ? "SU" : DayCode(first);
    if (!wkst) return FieldError("pattern.firstDayOfWeek", "unknown day");
    rule = "FREQ=WEEKLY;BYDAY=";
    rule += days;
    rule += ";WKST=";
    rule += *wkst;
    return rule;
  }
  if (type == "absoluteMonthly") {
    SB_ASSIGN_OR_RETURN(const std::string day, MonthDay(pattern));
    return "FREQ=MONTHLY" + day;
  }
  if (type == "relativeMonthly") {
    SB_ASSIGN_OR_RETURN(const std::string days, RelativeDays(pattern));
    return "FREQ=MONTHLY" + days;
  }
  if (type == "absoluteYearly" || type == "relativeYearly") {
    SB_ASSIGN_OR_RETURN(const std::string month, Month(pattern));
    rule = "FREQ=YEARLY";
    rule += month;
    SB_ASSIGN_OR_RETURN(const std::string rest,
                        type == "absoluteYearly" ? MonthDay(pattern) : RelativeDays(pattern));
    rule += rest;
    return rule;
  }
  return FieldError("pattern.type", "unknown value");
}

// "yyyymmddThhmmssZ" of an instant.
std::string RruleUtc(int64_t utc_ms) {
  const caltime::LocalDateTime t = caltime::UtcMillisToCivil(utc_ms);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d%02d%02dT%02d%02d%02dZ", t.year, t.month, t.day, t.hour,
                t.minute, t.second);
  return buf;
}

// ";UNTIL=..." at the end of the local day `date` (all-day series: the date itself).
Result<std::string> Until(const std::string& date, std::string_view zone, bool all_day) {
  std::string out = ";UNTIL=";
  if (all_day) {
    out += date.substr(0, 4);
    out += date.substr(5, 2);
    out += date.substr(8, 2);
    return out;
  }
  std::string local = date;
  local += "T23:59:59";
  const Result<int64_t> utc = caltime::LocalToUtc(local, zone.empty() ? "UTC" : zone);
  if (!utc.ok()) return FieldError("range.recurrenceTimeZone", "unknown time zone");
  out += RruleUtc(*utc);
  return out;
}

Result<std::string> RangeParts(const Json& range, std::string_view zone, bool all_day) {
  SB_ASSIGN_OR_RETURN(const std::string type,
                      StringMember(range, "type", kMaxIdBytes, "range.type"));
  if (type.empty() || type == "noEnd") return std::string();
  if (type == "endDate") {
    SB_ASSIGN_OR_RETURN(const std::string text,
                        internal::RequiredString(range, "endDate", kMaxIdBytes, "range.endDate"));
    SB_ASSIGN_OR_RETURN(const std::string date, internal::CheckDate(text, "range.endDate"));
    return Until(date, zone, all_day);
  }
  if (type == "numbered") {
    SB_ASSIGN_OR_RETURN(const int count, RequiredInt(range, "numberOfOccurrences", 1, 1'000'000,
                                                     "range.numberOfOccurrences"));
    return ";COUNT=" + std::to_string(count);
  }
  return FieldError("range.type", "unknown value");
}

}  // namespace

Result<std::string> GraphRecurrenceZone(const Json& recurrence, std::string_view fallback) {
  if (!recurrence.is_object()) return FieldError("recurrence", "must be an object");
  SB_ASSIGN_OR_RETURN(const Json* range,
                      internal::ObjectMember(recurrence, "range", "recurrence.range"));
  if (range == nullptr) return std::string(fallback);
  SB_ASSIGN_OR_RETURN(
      const std::string zone,
      StringMember(*range, "recurrenceTimeZone", kMaxIdBytes, "range.recurrenceTimeZone"));
  if (zone.empty()) return std::string(fallback);
  Result<std::string> iana = caltime::ResolveZone(zone);
  return iana.ok() ? *std::move(iana) : std::string(fallback);
}

Result<std::string> GraphRecurrenceToRrule(const Json& recurrence, std::string_view zone,
                                           bool all_day) {
  if (!recurrence.is_object()) return FieldError("recurrence", "must be an object");
  SB_ASSIGN_OR_RETURN(const Json* pattern,
                      internal::ObjectMember(recurrence, "pattern", "recurrence.pattern"));
  if (pattern == nullptr) return FieldError("recurrence.pattern", "missing");
  SB_ASSIGN_OR_RETURN(const std::string type,
                      internal::RequiredString(*pattern, "type", kMaxIdBytes, "pattern.type"));
  SB_ASSIGN_OR_RETURN(std::string parts, PatternParts(*pattern, type));
  SB_ASSIGN_OR_RETURN(const std::optional<int64_t> interval,
                      IntMember(*pattern, "interval", 0, 10'000, "pattern.interval"));
  std::string rule = "RRULE:";
  // FREQ first, then INTERVAL: the order RFC 5545 examples and Google use.
  const size_t freq_end = std::min(parts.find(';'), parts.size());
  rule += parts.substr(0, freq_end);
  if (interval.value_or(1) > 1) {
    rule += ";INTERVAL=";
    rule += std::to_string(*interval);
  }
  rule += parts.substr(freq_end);
  SB_ASSIGN_OR_RETURN(const Json* range,
                      internal::ObjectMember(recurrence, "range", "recurrence.range"));
  if (range != nullptr) {
    SB_ASSIGN_OR_RETURN(const std::string end, RangeParts(*range, zone, all_day));
    rule += end;
  }
  return rule;
}

}  // namespace sb::sync::calendar
