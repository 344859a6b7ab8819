#include "sb/sync/calendar/graph_recurrence.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <vector>

#include "sb/caltime/caltime.h"
#include "sb/caltime/recurrence.h"
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

// pattern.index values and their RRULE positions (BYDAY ordinal or BYSETPOS).
constexpr std::array<std::pair<std::string_view, int>, 5> kPositions = {
    {{"first", 1}, {"second", 2}, {"third", 3}, {"fourth", 4}, {"last", -1}}};

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
  if (lower.empty()) return 1;
  for (const auto& [name, position] : kPositions) {
    if (name == lower) return position;
  }
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
  out += caltime::FormatCompactUtc(*utc);
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

// The reverse direction: RRULE parts into a Graph patternedRecurrence.

constexpr size_t kMaxRruleBytes = 1024;
constexpr int kMaxInterval = 1000;
constexpr int kMaxCount = 10'000;

// Rule parts that RFC 5545 defines but Graph has no member for.
constexpr std::array<std::string_view, 5> kInexpressibleParts = {"BYHOUR", "BYMINUTE", "BYSECOND",
                                                                 "BYWEEKNO", "BYYEARDAY"};

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// A rule part's name for an error message: hostile text, so short and printable.
std::string PartName(std::string_view name) {
  std::string out = "RRULE ";
  for (const char c : name.substr(0, 32)) {
    out += std::isgraph(static_cast<unsigned char>(c)) ? c : '?';
  }
  return out;
}

Status PartError(std::string_view name, std::string_view what) {
  return FieldError(PartName(name), what);
}

// One BYDAY entry: ordinal 0 when none, day as Graph names it.
struct WeekdayNum {
  int ordinal = 0;
  std::string_view day;

  friend bool operator==(const WeekdayNum&, const WeekdayNum&) = default;
};

// The parts of an RRULE that Graph can express.
struct RuleParts {
  std::string freq;
  int interval = 1;
  std::optional<int> count;
  std::optional<std::string> until;
  std::vector<WeekdayNum> days;  // BYDAY; empty when absent
  std::optional<int> month_day;  // BYMONTHDAY
  std::optional<int> month;      // BYMONTH
  std::optional<int> set_position;
  std::string_view first_day = "sunday";  // WKST
};

// 1*DIGIT within [min, max].
std::optional<int> ParseUnsigned(std::string_view text, int min, int max) {
  if (text.empty() || text.size() > 6) return std::nullopt;
  int value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value < min || value > max) return std::nullopt;
  return value;
}

// [+/-]1*DIGIT, nonzero and within [-max, max].
std::optional<int> ParseSigned(std::string_view text, int max) {
  const bool negative = !text.empty() && text[0] == '-';
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) text.remove_prefix(1);
  const std::optional<int> value = ParseUnsigned(text, 1, max);
  if (!value) return std::nullopt;
  return negative ? -*value : *value;
}

std::optional<std::string_view> DayName(std::string_view code) {
  for (const auto& [name, day_code] : kDays) {
    if (day_code == code) return name;
  }
  return std::nullopt;
}

// Graph's index for an ordinal or BYSETPOS value: 1..4 or -1.
std::optional<std::string_view> IndexName(int position) {
  for (const auto& [name, value] : kPositions) {
    if (value == position) return name;
  }
  return std::nullopt;
}

// "2TU", "-1FR", "MO".
Result<WeekdayNum> ParseWeekdayNum(std::string_view text) {
  const std::optional<std::string_view> day =
      text.size() >= 2 ? DayName(text.substr(text.size() - 2)) : std::nullopt;
  if (!day) return PartError("BYDAY", "malformed day");
  WeekdayNum out{.ordinal = 0, .day = *day};
  const std::string_view ordinal = text.substr(0, text.size() - 2);
  if (ordinal.empty()) return out;
  const std::optional<int> value = ParseSigned(ordinal, 53);
  if (!value) return PartError("BYDAY", "malformed ordinal");
  if (!IndexName(*value)) return PartError("BYDAY", "Graph has only ordinals 1..4 and -1");
  out.ordinal = *value;
  return out;
}

// BYDAY's comma-separated days in the order given, without repeats.
Status ParseByDay(std::string_view value, RuleParts& rule) {
  while (true) {
    const size_t end = std::min(value.find(','), value.size());
    SB_ASSIGN_OR_RETURN(const WeekdayNum day, ParseWeekdayNum(value.substr(0, end)));
    if (std::find(rule.days.begin(), rule.days.end(), day) == rule.days.end()) {
      rule.days.push_back(day);
    }
    if (end == value.size()) return OkStatus();
    value.remove_prefix(end + 1);
  }
}

Status ParseFreq(std::string_view value, RuleParts& rule) {
  if (value == "DAILY" || value == "WEEKLY" || value == "MONTHLY" || value == "YEARLY") {
    rule.freq = std::string(value);
    return OkStatus();
  }
  if (value == "HOURLY" || value == "MINUTELY" || value == "SECONDLY") {
    return PartError("FREQ", "Graph has no sub-daily recurrence");
  }
  return PartError("FREQ", "unknown value");
}

// UNTIL's shape: DATE "yyyymmdd" or UTC DATE-TIME "yyyymmddThhmmssZ" (checked when placed).
Status ParseUntil(std::string_view value, RuleParts& rule) {
  const bool date_time = value.size() == 16 && value[8] == 'T' && value[15] == 'Z';
  if (value.size() != 8 && !date_time) {
    return PartError("UNTIL", "want yyyymmdd or yyyymmddThhmmssZ");
  }
  rule.until = std::string(value);
  return OkStatus();
}

// A single integer value of `name` within [min, max] (signed when min < 0).
Result<int> SingleInt(std::string_view name, std::string_view value, int min, int max) {
  if (value.find(',') != std::string_view::npos) {
    return PartError(name, "Graph takes only one value");
  }
  const std::optional<int> number =
      min < 0 ? ParseSigned(value, std::max(-min, max)) : ParseUnsigned(value, min, max);
  if (!number || *number < min || *number > max) {
    return PartError(name, "malformed or out of range for Graph");
  }
  return *number;
}

Status ParseWkst(std::string_view value, RuleParts& rule) {
  const std::optional<std::string_view> day = DayName(value);
  if (!day) return PartError("WKST", "unknown day");
  rule.first_day = *day;
  return OkStatus();
}

Status ParseValue(std::string_view name, std::string_view value, RuleParts& rule) {
  if (name == "FREQ") return ParseFreq(value, rule);
  if (name == "UNTIL") return ParseUntil(value, rule);
  if (name == "BYDAY") return ParseByDay(value, rule);
  if (name == "WKST") return ParseWkst(value, rule);
  if (name == "INTERVAL") {
    SB_ASSIGN_OR_RETURN(rule.interval, SingleInt(name, value, 1, kMaxInterval));
  } else if (name == "COUNT") {
    SB_ASSIGN_OR_RETURN(rule.count, SingleInt(name, value, 1, kMaxCount));
  } else if (name == "BYMONTHDAY") {
    // Graph has no day counted from the month's end.
    SB_ASSIGN_OR_RETURN(rule.month_day, SingleInt(name, value, 1, 31));
  } else if (name == "BYMONTH") {
    SB_ASSIGN_OR_RETURN(rule.month, SingleInt(name, value, 1, 12));
  } else if (name == "BYSETPOS") {
    SB_ASSIGN_OR_RETURN(rule.set_position, SingleInt(name, value, -1, 4));
  } else if (std::find(kInexpressibleParts.begin(), kInexpressibleParts.end(), name) !=
             kInexpressibleParts.end()) {
    return PartError(name, "Graph cannot express it");
  } else {
    return PartError(name, "unknown rule part");
  }
  return OkStatus();
}

// One "NAME=VALUE" part; `seen` collects the names to refuse repeats.
Status ParsePart(std::string_view part, std::vector<std::string_view>& seen, RuleParts& rule) {
  const size_t equals = part.find('=');
  if (equals == std::string_view::npos || equals == 0) return PartError(part, "malformed part");
  const std::string_view name = part.substr(0, equals);
  const std::string_view value = part.substr(equals + 1);
  if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
    return PartError(name, "given twice");
  }
  seen.push_back(name);
  if (value.empty()) return PartError(name, "empty value");
  return ParseValue(name, value, rule);
}

Result<RuleParts> ParseRrule(std::string_view line) {
  if (line.size() > kMaxRruleBytes) return FieldError("RRULE", "longer than 1024 bytes");
  const std::string upper = Upper(line);
  constexpr std::string_view kPrefix = "RRULE:";
  if (!std::string_view(upper).starts_with(kPrefix)) {
    return FieldError("RRULE", "line must start with RRULE:");
  }
  std::string_view rest = std::string_view(upper).substr(kPrefix.size());
  RuleParts rule;
  std::vector<std::string_view> seen;
  while (true) {
    const size_t end = std::min(rest.find(';'), rest.size());
    SB_RETURN_IF_ERROR(ParsePart(rest.substr(0, end), seen, rule));
    if (end == rest.size()) break;
    rest.remove_prefix(end + 1);
  }
  if (rule.freq.empty()) return PartError("FREQ", "missing");
  if (rule.count && rule.until) return PartError("COUNT", "Graph cannot have it with UNTIL");
  return rule;
}

// The first occurrence's date, split up.
struct StartDay {
  int month = 1;
  int day = 1;
  int weekday = 0;  // 0 = Sunday, as kDays
};

Result<StartDay> ParseStartDay(std::string_view start_date) {
  SB_ASSIGN_OR_RETURN(const std::string date, internal::CheckDate(start_date, "start_date"));
  const int64_t utc_ms = *caltime::ParseDate(date);
  const caltime::LocalDateTime civil = caltime::UtcMillisToCivil(utc_ms);
  constexpr int64_t kMsPerDay = 86'400'000;
  const int64_t days = utc_ms / kMsPerDay - (utc_ms % kMsPerDay < 0 ? 1 : 0);
  // 1970-01-01 was a Thursday.
  const int weekday = static_cast<int>(((days + 4) % 7 + 7) % 7);
  return StartDay{.month = civil.month, .day = civil.day, .weekday = weekday};
}

// The members Graph always has, set to their unused values.
Json BasePattern(std::string_view type, const RuleParts& rule) {
  Json pattern = Json::object();
  pattern["type"] = std::string(type);
  pattern["interval"] = rule.interval;
  pattern["month"] = 0;
  pattern["dayOfMonth"] = 0;
  pattern["daysOfWeek"] = Json::array();
  pattern["firstDayOfWeek"] = std::string(rule.first_day);
  pattern["index"] = "first";
  return pattern;
}

// Refuses each of BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS given that `allowed` does not name.
Status OnlyParts(const RuleParts& rule, std::initializer_list<std::string_view> allowed) {
  const std::pair<std::string_view, bool> given[] = {{"BYDAY", !rule.days.empty()},
                                                     {"BYMONTHDAY", rule.month_day.has_value()},
                                                     {"BYMONTH", rule.month.has_value()},
                                                     {"BYSETPOS", rule.set_position.has_value()}};
  for (const auto& [name, present] : given) {
    if (present && std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      return PartError(name, "Graph cannot express it with FREQ=" + rule.freq);
    }
  }
  return OkStatus();
}

Status SetDays(const RuleParts& rule, Json& pattern) {
  for (const WeekdayNum& day : rule.days) {
    if (day.ordinal != 0) return PartError("BYDAY", "an ordinal needs FREQ=MONTHLY or YEARLY");
    pattern["daysOfWeek"].push_back(std::string(day.day));
  }
  return OkStatus();
}

Result<Json> WeeklyPattern(const RuleParts& rule, const StartDay& start) {
  SB_RETURN_IF_ERROR(OnlyParts(rule, {"BYDAY"}));
  Json pattern = BasePattern("weekly", rule);
  if (rule.days.empty()) {
    pattern["daysOfWeek"].push_back(std::string(kDays[start.weekday].first));
  }
  SB_RETURN_IF_ERROR(SetDays(rule, pattern));
  return pattern;
}

// FREQ=DAILY;BYDAY=... ("every weekday") is Graph's weekly pattern when every day counts.
Result<Json> DailyPattern(const RuleParts& rule, const StartDay& start) {
  SB_RETURN_IF_ERROR(OnlyParts(rule, {"BYDAY"}));
  if (rule.days.empty()) return BasePattern("daily", rule);
  if (rule.interval != 1) return PartError("BYDAY", "Graph cannot express it with INTERVAL");
  return WeeklyPattern(rule, start);
}

// daysOfWeek and index of a relative pattern: BYDAY=2TU or BYDAY=MO,TU;BYSETPOS=2.
Status SetRelativeDays(const RuleParts& rule, Json& pattern) {
  const bool any_ordinal = std::any_of(rule.days.begin(), rule.days.end(),
                                       [](const WeekdayNum& day) { return day.ordinal != 0; });
  if (any_ordinal && rule.days.size() > 1) {
    return PartError("BYDAY", "Graph cannot express several days with ordinals");
  }
  const int ordinal = rule.days.front().ordinal;
  if (ordinal != 0 && rule.set_position) {
    return PartError("BYSETPOS", "Graph cannot express it with an ordinal BYDAY");
  }
  if (ordinal == 0 && !rule.set_position) {
    return PartError("BYDAY", "Graph needs an ordinal or BYSETPOS");
  }
  pattern["index"] = std::string(*IndexName(ordinal != 0 ? ordinal : *rule.set_position));
  for (const WeekdayNum& day : rule.days) pattern["daysOfWeek"].push_back(std::string(day.day));
  return OkStatus();
}

// The day-in-month part of a monthly or yearly pattern: "absolute<kind>" on BYMONTHDAY (or
// the start's day), "relative<kind>" on BYDAY.
Result<Json> DayInMonthPattern(const RuleParts& rule, std::string_view kind, int start_day) {
  if (!rule.days.empty()) {
    if (rule.month_day) return PartError("BYMONTHDAY", "Graph cannot express it with BYDAY");
    std::string type = "relative";
    type += kind;
    Json pattern = BasePattern(type, rule);
    SB_RETURN_IF_ERROR(SetRelativeDays(rule, pattern));
    return pattern;
  }
  if (rule.set_position) return PartError("BYSETPOS", "Graph needs it with BYDAY");
  std::string type = "absolute";
  type += kind;
  Json pattern = BasePattern(type, rule);
  pattern["dayOfMonth"] = rule.month_day.value_or(start_day);
  return pattern;
}

Result<Json> MonthlyPattern(const RuleParts& rule, const StartDay& start) {
  SB_RETURN_IF_ERROR(OnlyParts(rule, {"BYDAY", "BYMONTHDAY", "BYSETPOS"}));
  return DayInMonthPattern(rule, "Monthly", start.day);
}

Result<Json> YearlyPattern(const RuleParts& rule, const StartDay& start) {
  if (!rule.month && (!rule.days.empty() || rule.month_day || rule.set_position)) {
    return PartError("BYMONTH", "Graph needs it with FREQ=YEARLY and a day rule");
  }
  const int month = rule.month.value_or(start.month);
  // Days no year has (February 30th): RFC 5545 skips them, Graph refuses them.
  constexpr std::array<int, 12> kMaxDays = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (rule.days.empty() && rule.month_day.value_or(start.day) > kMaxDays[month - 1]) {
    return PartError(rule.month_day ? "BYMONTHDAY" : "BYMONTH", "no such day in that month");
  }
  SB_ASSIGN_OR_RETURN(Json pattern, DayInMonthPattern(rule, "Yearly", start.day));
  pattern["month"] = month;
  return pattern;
}

Result<Json> GraphPattern(const RuleParts& rule, const StartDay& start) {
  if (rule.freq == "DAILY") return DailyPattern(rule, start);
  if (rule.freq == "WEEKLY") return WeeklyPattern(rule, start);
  if (rule.freq == "MONTHLY") return MonthlyPattern(rule, start);
  return YearlyPattern(rule, start);
}

// "yyyy-mm-dd" from "yyyymmdd" (not checked).
std::string DashedDate(std::string_view compact) {
  std::string out(compact.substr(0, 4));
  out += '-';
  out += compact.substr(4, 2);
  out += '-';
  out += compact.substr(6, 2);
  return out;
}

// UNTIL's local date in `zone`: a DATE as is, a UTC DATE-TIME converted. Graph's endDate
// takes that whole day, so an UNTIL earlier in the day than the series' local `start_time`
// ("hh:mm:ss"; "" when unknown) ends the range the day before.
Result<std::string> UntilDate(std::string_view until, std::string_view zone,
                              std::string_view start_time) {
  const std::string date = DashedDate(until);
  if (until.size() == 8) return internal::CheckDate(date, "RRULE UNTIL");
  std::string utc_text = date;
  utc_text.append("T").append(until.substr(9, 2));
  utc_text.append(":").append(until.substr(11, 2));
  utc_text.append(":").append(until.substr(13, 2));
  const Result<int64_t> utc_ms = caltime::LocalToUtc(utc_text, "UTC");
  if (!utc_ms.ok()) return PartError("UNTIL", "malformed date-time");
  const Result<caltime::LocalDateTime> local = caltime::UtcToLocal(*utc_ms, zone);
  if (!local.ok() || local->year < 1 || local->year > 9999) {
    return PartError("UNTIL", "out of range");
  }
  char time[16];
  std::snprintf(time, sizeof(time), "%02d:%02d:%02d", local->hour, local->minute, local->second);
  int64_t day_ms = caltime::CivilToUtcMillis({local->year, local->month, local->day});
  if (!start_time.empty() && std::string_view(time) < start_time) day_ms -= 86'400'000;
  return caltime::FormatDate(day_ms);
}

Result<Json> GraphRange(const RuleParts& rule, std::string_view start_date, std::string_view zone,
                        std::string_view start_time) {
  Json range = Json::object();
  if (rule.count) {
    range["type"] = "numbered";
    range["numberOfOccurrences"] = *rule.count;
  } else if (rule.until) {
    SB_ASSIGN_OR_RETURN(const std::string end_date, UntilDate(*rule.until, zone, start_time));
    range["type"] = "endDate";
    range["endDate"] = end_date;
  } else {
    range["type"] = "noEnd";
  }
  range["startDate"] = std::string(start_date);
  range["recurrenceTimeZone"] = std::string(zone);
  return range;
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

Result<Json> RruleToGraphRecurrence(std::string_view rrule_line, std::string_view local_start,
                                    std::string_view zone) {
  const std::string_view start_date = local_start.substr(0, 10);
  const std::string_view start_time =
      local_start.size() >= 19 ? local_start.substr(11, 8) : std::string_view();
  SB_ASSIGN_OR_RETURN(const RuleParts rule, ParseRrule(rrule_line));
  SB_ASSIGN_OR_RETURN(const StartDay start, ParseStartDay(start_date));
  if (zone.size() > kMaxIdBytes || !caltime::IsKnownZone(zone)) {
    return FieldError("zone", "unknown time zone");
  }
  Json recurrence = Json::object();
  SB_ASSIGN_OR_RETURN(recurrence["pattern"], GraphPattern(rule, start));
  SB_ASSIGN_OR_RETURN(recurrence["range"], GraphRange(rule, start_date, zone, start_time));
  return recurrence;
}

}  // namespace sb::sync::calendar
