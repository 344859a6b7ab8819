#include "sb/sync/calendar/graph_recurrence.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
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

namespace {

constexpr size_t kMaxRuleBytes = 1024;
constexpr std::array<std::string_view, 5> kIndexes = {"last", "first", "second", "third", "fourth"};

// The parts of an RRULE line by upper-case name; INVALID_ARGUMENT for a malformed or repeated
// part.
Result<std::vector<std::pair<std::string, std::string>>> RuleParts(std::string_view line) {
  if (line.size() > kMaxRuleBytes) return FieldError("recurrence", "rule too long");
  if (line.size() < 6 || Lower(line.substr(0, 6)) != "rrule:") {
    return FieldError("recurrence", "not an RRULE line");
  }
  std::vector<std::pair<std::string, std::string>> parts;
  std::string_view rest = line.substr(6);
  while (!rest.empty()) {
    const size_t end = std::min(rest.find(';'), rest.size());
    const std::string_view part = rest.substr(0, end);
    rest.remove_prefix(std::min(end + 1, rest.size()));
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == part.size()) {
      return FieldError("recurrence", "malformed rule part");
    }
    std::string name = Lower(part.substr(0, eq));
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (const auto& [seen, value] : parts) {
      if (seen == name) return FieldError("recurrence", "repeated rule part " + name.substr(0, 16));
    }
    parts.emplace_back(std::move(name), std::string(part.substr(eq + 1)));
  }
  return parts;
}

std::optional<std::string_view> PartOf(
    const std::vector<std::pair<std::string, std::string>>& parts, std::string_view name) {
  for (const auto& [n, v] : parts) {
    if (n == name) return v;
  }
  return std::nullopt;
}

Result<int> IntPart(std::string_view text, int min, int max, std::string_view name) {
  int value = 0;
  if (text.empty() || text.size() > 6) return FieldError(name, "not a number in range");
  bool negative = text.front() == '-';
  if (negative || text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return FieldError(name, "not a number in range");
  for (char c : text) {
    if (c < '0' || c > '9') return FieldError(name, "not a number in range");
    value = value * 10 + (c - '0');
  }
  if (negative) value = -value;
  if (value < min || value > max) return FieldError(name, "not a number in range");
  return value;
}

std::optional<std::string_view> DayName(std::string_view code) {
  for (const auto& [name, c] : kDays) {
    if (c == code) return name;
  }
  return std::nullopt;
}

// BYDAY as Graph day names and the one ordinal they carry (0: none).
struct Days {
  Json names = Json::array();
  int ordinal = 0;
};

Result<Days> ByDay(std::string_view text) {
  Days days;
  bool first = true;
  while (!text.empty()) {
    const size_t end = std::min(text.find(','), text.size());
    std::string_view item = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    if (item.size() < 2) return FieldError("BYDAY", "unknown day");
    const std::optional<std::string_view> name = DayName(item.substr(item.size() - 2));
    if (!name) return FieldError("BYDAY", "unknown day");
    int ordinal = 0;
    if (item.size() > 2) {
      SB_ASSIGN_OR_RETURN(ordinal, IntPart(item.substr(0, item.size() - 2), -1, 4, "BYDAY"));
    }
    if (ordinal == 0 && item.size() > 2) return FieldError("BYDAY", "ordinal 0");
    if (!first && ordinal != days.ordinal) return FieldError("BYDAY", "mixed ordinals");
    days.ordinal = ordinal;
    first = false;
    days.names.push_back(*name);
  }
  if (days.names.empty()) return FieldError("BYDAY", "no day");
  return days;
}

// The weekday name of a "yyyy-mm-dd" date.
Result<std::string_view> WeekdayOf(std::string_view date) {
  SB_ASSIGN_OR_RETURN(const int64_t ms, caltime::ParseDate(date));
  const int64_t days = ms / 86'400'000;
  return kDays[static_cast<size_t>(((days % 7) + 11) % 7)].first;  // 1970-01-01: Thursday
}

Result<Json> PatternOf(const std::vector<std::pair<std::string, std::string>>& parts,
                       std::string_view start_date) {
  const auto freq = PartOf(parts, "FREQ");
  if (!freq) return FieldError("FREQ", "missing");
  Json p = {{"type", ""},
            {"interval", 1},
            {"month", 0},
            {"dayOfMonth", 0},
            {"daysOfWeek", Json::array()},
            {"firstDayOfWeek", "sunday"},
            {"index", "first"}};
  if (auto interval = PartOf(parts, "INTERVAL")) {
    SB_ASSIGN_OR_RETURN(p["interval"], IntPart(*interval, 1, 1000, "INTERVAL"));
  }
  std::optional<Days> days;
  if (auto byday = PartOf(parts, "BYDAY")) {
    SB_ASSIGN_OR_RETURN(days, ByDay(*byday));
  }
  int setpos = 0;
  if (auto pos = PartOf(parts, "BYSETPOS")) {
    SB_ASSIGN_OR_RETURN(setpos, IntPart(*pos, -1, 4, "BYSETPOS"));
  }
  if (setpos == 0 && PartOf(parts, "BYSETPOS")) return FieldError("BYSETPOS", "0");
  int monthday = 0;
  if (auto md = PartOf(parts, "BYMONTHDAY")) {
    SB_ASSIGN_OR_RETURN(monthday, IntPart(*md, 1, 31, "BYMONTHDAY"));
  }
  int month = 0;
  if (auto m = PartOf(parts, "BYMONTH")) {
    SB_ASSIGN_OR_RETURN(month, IntPart(*m, 1, 12, "BYMONTH"));
  }
  if (auto wkst = PartOf(parts, "WKST")) {
    const auto name = DayName(*wkst);
    if (!name) return FieldError("WKST", "unknown day");
    p["firstDayOfWeek"] = *name;
  }
  if (setpos != 0 && (!days || days->ordinal != 0)) {
    return FieldError("BYSETPOS", "needs BYDAY without ordinals");
  }
  const int position = setpos != 0 ? setpos : days ? days->ordinal : 0;
  if (position != 0) p["index"] = kIndexes[static_cast<size_t>(position < 0 ? 0 : position)];
  const int start_day = std::atoi(std::string(start_date.substr(8, 2)).c_str());
  const int start_month = std::atoi(std::string(start_date.substr(5, 2)).c_str());
  if (*freq == "DAILY" && !days && !monthday && !month) {
    p["type"] = "daily";
  } else if (*freq == "WEEKLY" && !monthday && !month && position == 0) {
    p["type"] = "weekly";
    if (days) {
      p["daysOfWeek"] = days->names;
    } else {
      SB_ASSIGN_OR_RETURN(const std::string_view day, WeekdayOf(start_date));
      p["daysOfWeek"] = Json::array({day});
    }
  } else if ((*freq == "MONTHLY" && !month) || *freq == "YEARLY") {
    const bool yearly = *freq == "YEARLY";
    if (yearly) p["month"] = month != 0 ? month : start_month;
    if (days && position != 0 && !monthday) {
      p["type"] = yearly ? "relativeYearly" : "relativeMonthly";
      p["daysOfWeek"] = days->names;
    } else if (!days) {
      p["type"] = yearly ? "absoluteYearly" : "absoluteMonthly";
      p["dayOfMonth"] = monthday != 0 ? monthday : start_day;
    } else {
      return FieldError("BYDAY", "Microsoft calendars cannot hold this rule");
    }
  } else {
    return FieldError("FREQ", "Microsoft calendars cannot hold this rule");
  }
  return p;
}

// range: numbered (COUNT), endDate (UNTIL's local date in `zone`) or noEnd.
Result<Json> RangeOf(const std::vector<std::pair<std::string, std::string>>& parts,
                     std::string_view start_date, std::string_view zone) {
  Json range = {{"type", "noEnd"},
                {"startDate", std::string(start_date)},
                {"recurrenceTimeZone", std::string(zone)}};
  const auto count = PartOf(parts, "COUNT");
  const auto until = PartOf(parts, "UNTIL");
  if (count && until) return FieldError("COUNT", "with UNTIL");
  if (count) {
    range["type"] = "numbered";
    SB_ASSIGN_OR_RETURN(range["numberOfOccurrences"], IntPart(*count, 1, 10'000, "COUNT"));
  } else if (until) {
    const std::string_view u = *until;
    if (u.size() < 8) return FieldError("UNTIL", "malformed");
    const std::string date = std::string(u.substr(0, 4)) + "-" + std::string(u.substr(4, 2)) + "-" +
                             std::string(u.substr(6, 2));
    SB_RETURN_IF_ERROR(caltime::ParseDate(date).status());
    range["type"] = "endDate";
    range["endDate"] = date;
    if (u.size() == 16 && u[8] == 'T' && u[15] == 'Z') {
      SB_ASSIGN_OR_RETURN(
          const int64_t utc,
          caltime::LocalToUtc(date + "T" + std::string(u.substr(9, 2)) + ":" +
                                  std::string(u.substr(11, 2)) + ":" + std::string(u.substr(13, 2)),
                              "UTC"));
      SB_ASSIGN_OR_RETURN(const std::string local, caltime::FormatGraphDateTime(utc, zone));
      range["endDate"] = local.substr(0, 10);
    } else if (u.size() != 8) {
      return FieldError("UNTIL", "malformed");
    }
  }
  return range;
}

}  // namespace

Result<Json> RruleToGraphRecurrence(std::string_view rrule_line, std::string_view start_date,
                                    std::string_view zone) {
  SB_ASSIGN_OR_RETURN(auto parts, RuleParts(rrule_line));
  static constexpr std::array<std::string_view, 9> kKnown = {
      "FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST", "COUNT", "UNTIL"};
  for (const auto& [name, value] : parts) {
    if (std::find(kKnown.begin(), kKnown.end(), name) == kKnown.end()) {
      return FieldError(name.substr(0, 16), "Microsoft calendars cannot hold this rule part");
    }
  }
  SB_RETURN_IF_ERROR(internal::CheckDate(start_date, "start").status());
  if (!caltime::IsKnownZone(zone)) return FieldError("time_zone", "unknown time zone");
  SB_ASSIGN_OR_RETURN(Json pattern, PatternOf(parts, start_date));
  SB_ASSIGN_OR_RETURN(Json range, RangeOf(parts, start_date, zone));
  return Json{{"pattern", std::move(pattern)}, {"range", std::move(range)}};
}

}  // namespace sb::sync::calendar
