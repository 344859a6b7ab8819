#include "sb/caltime/recurrence.h"

#include <cstdio>
#include <functional>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include <libical/ical.h>

#include "sb/base/text.h"
#include "sb/caltime/windows_zones.h"

namespace sb::caltime {
namespace {

constexpr int64_t kMsPerDay = 86'400'000;

// One RDATE/EXDATE entry (or a rule's UNTIL) as written, before it is tied to the series.
struct DateValue {
  bool is_date = false;
  LocalDateTime local;
  // "UTC" for a trailing Z, the TZID zone, or empty for floating (read in the series zone).
  std::string zone;
};

struct Rule {
  std::string line;  // for error messages
  icalrecurrencetype recur;
};

struct RecurrenceSet {
  std::vector<Rule> rrules;
  std::vector<Rule> exrules;
  std::vector<DateValue> rdates;
  std::vector<DateValue> exdates;
};

// The series start as the expansion sees it: wall time in the expansion zone.
struct Series {
  bool all_day = false;
  std::string zone;           // never empty
  LocalDateTime start_local;  // all-day: the date at 00:00
};

sb::Status LineError(std::string_view line, std::string_view why) {
  return sb::InvalidArgumentError("invalid recurrence line \"" + std::string(line) +
                                  "\": " + std::string(why));
}

// Parses iCalendar "YYYYMMDD" or "YYYYMMDDTHHMMSS[Z]" (RFC 5545 DATE / DATE-TIME).
std::optional<DateValue> ParseIcalDateValue(std::string_view text, std::string_view tzid) {
  DateValue v;
  LocalDateTime& t = v.local;
  if (!ParseDigits(text, 0, 4, &t.year) || !ParseDigits(text, 4, 2, &t.month) ||
      !ParseDigits(text, 6, 2, &t.day)) {
    return std::nullopt;
  }
  if (text.size() == 8) {
    v.is_date = true;
  } else {
    if (text.size() < 15 || (text[8] != 'T' && text[8] != 't') ||
        !ParseDigits(text, 9, 2, &t.hour) || !ParseDigits(text, 11, 2, &t.minute) ||
        !ParseDigits(text, 13, 2, &t.second)) {
      return std::nullopt;
    }
    if (text.size() == 16 && (text[15] == 'Z' || text[15] == 'z')) {
      v.zone = "UTC";
    } else if (text.size() == 15) {
      v.zone = std::string(tzid);
    } else {
      return std::nullopt;
    }
  }
  // Validates the fields (a UTC conversion fails exactly when they are out of range).
  if (!LocalToUtc(t, "UTC").ok()) return std::nullopt;
  return v;
}

sb::Status ParseDateLine(std::string_view line, std::vector<std::string_view> head,
                         std::string_view value, std::vector<DateValue>* out) {
  std::string tzid;
  std::string value_type = "DATE-TIME";
  for (size_t i = 1; i < head.size(); ++i) {
    const size_t eq = head[i].find('=');
    if (eq == std::string_view::npos) return LineError(line, "parameter without '='");
    const std::string key = AsciiUpper(head[i].substr(0, eq));
    std::string_view param = head[i].substr(eq + 1);
    if (param.size() >= 2 && param.front() == '"' && param.back() == '"') {
      param = param.substr(1, param.size() - 2);
    }
    if (key == "TZID") {
      sb::Result<std::string> zone = ResolveZone(param);
      if (!zone.ok()) return LineError(line, zone.status().message());
      tzid = *std::move(zone);
    } else if (key == "VALUE") {
      value_type = AsciiUpper(param);
      if (value_type != "DATE" && value_type != "DATE-TIME" && value_type != "PERIOD") {
        return LineError(line, "VALUE must be DATE, DATE-TIME or PERIOD");
      }
    }  // Other parameters carry nothing the expansion needs.
  }
  if (value.empty()) return LineError(line, "no value");
  for (std::string_view item : Split(value, ',')) {
    // A PERIOD ("start/end" or "start/duration") contributes its start.
    if (value_type == "PERIOD") item = item.substr(0, item.find('/'));
    std::optional<DateValue> parsed = ParseIcalDateValue(item, tzid);
    if (!parsed) return LineError(line, "malformed date \"" + std::string(item) + "\"");
    if ((value_type == "DATE") != parsed->is_date) {
      return LineError(line,
                       "value \"" + std::string(item) + "\" does not match VALUE=" + value_type);
    }
    out->push_back(*std::move(parsed));
  }
  return sb::OkStatus();
}

sb::Status ParseRuleLine(std::string_view line, std::string_view value, std::vector<Rule>* out) {
  // RSCALE makes libical allocate inside the rule struct; Google never sends it.
  if (AsciiUpper(value).find("RSCALE") != std::string::npos) {
    return LineError(line, "RSCALE is not supported");
  }
  const std::string text(value);
  icalrecurrencetype recur;
  {
    std::lock_guard<std::mutex> lock(internal::LibicalMutex());
    recur = icalrecurrencetype_from_string(text.c_str());
  }
  if (recur.freq == ICAL_NO_RECURRENCE) {
    return LineError(line,
                     "not a valid RFC 5545 rule (check FREQ, part names and values, and "
                     "that COUNT and UNTIL are not both set)");
  }
  out->push_back(Rule{std::string(line), recur});
  return sb::OkStatus();
}

sb::Result<RecurrenceSet> ParseLines(const std::vector<std::string>& lines) {
  RecurrenceSet set;
  for (const std::string& line : lines) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) return LineError(line, "missing ':'");
    const std::vector<std::string_view> head = Split(std::string_view(line).substr(0, colon), ';');
    const std::string name = AsciiUpper(head.front());
    const std::string_view value = std::string_view(line).substr(colon + 1);
    sb::Status status;
    if (name == "RRULE") {
      status = ParseRuleLine(line, value, &set.rrules);
    } else if (name == "EXRULE") {
      status = ParseRuleLine(line, value, &set.exrules);
    } else if (name == "RDATE") {
      status = ParseDateLine(line, head, value, &set.rdates);
    } else if (name == "EXDATE") {
      status = ParseDateLine(line, head, value, &set.exdates);
    } else {
      status = LineError(line,
                         "expected RRULE, EXRULE, RDATE or EXDATE (Google takes the start "
                         "from the event, not from DTSTART)");
    }
    SB_RETURN_IF_ERROR(status);
  }
  return set;
}

sb::Result<Series> MakeSeries(const EventTime& start) {
  Series series;
  series.all_day = start.all_day;
  series.zone = start.time_zone.empty() ? "UTC" : start.time_zone;
  if (start.all_day) {
    int64_t midnight = start.utc_ms;
    if (!start.date.empty()) {
      SB_ASSIGN_OR_RETURN(midnight, ParseDate(start.date));
    }
    series.start_local = UtcMillisToCivil(midnight);
    series.start_local.hour = series.start_local.minute = series.start_local.second = 0;
    series.start_local.millisecond = 0;
    // The zone matters for date-time RDATE/EXDATE/UNTIL values, so it must still be valid.
    if (!IsKnownZone(series.zone)) {
      return sb::InvalidArgumentError("unknown series time zone \"" + series.zone + "\"");
    }
  } else {
    SB_ASSIGN_OR_RETURN(series.start_local, UtcToLocal(start.utc_ms, series.zone));
  }
  return series;
}

// The ordering key of a wall time produced by a rule: the instant for timed series, the UTC
// midnight of the date for all-day series.
sb::Result<int64_t> KeyOfWallTime(const Series& series, const LocalDateTime& wall) {
  if (series.all_day) {
    LocalDateTime date = wall;
    date.hour = date.minute = date.second = date.millisecond = 0;
    return CivilToUtcMillis(date);
  }
  return LocalToUtc(wall, series.zone);
}

sb::Result<int64_t> KeyOfDateValue(const Series& series, const DateValue& value) {
  LocalDateTime wall = value.local;
  if (value.is_date) {
    if (!series.all_day) {
      // A bare date on a timed series names that day's slot at the series' time of day.
      wall.hour = series.start_local.hour;
      wall.minute = series.start_local.minute;
      wall.second = series.start_local.second;
      wall.millisecond = series.start_local.millisecond;
    }
    return KeyOfWallTime(series, wall);
  }
  if (value.zone.empty()) return KeyOfWallTime(series, wall);
  SB_ASSIGN_OR_RETURN(const int64_t utc_ms, LocalToUtc(wall, value.zone));
  if (!series.all_day) return utc_ms;
  SB_ASSIGN_OR_RETURN(const LocalDateTime in_series_zone, UtcToLocal(utc_ms, series.zone));
  return KeyOfWallTime(series, in_series_zone);
}

// The inclusive upper key bound of a rule's UNTIL, nullopt when it has none.
sb::Result<std::optional<int64_t>> UntilKey(const Series& series, const icaltimetype& until) {
  if (icaltime_is_null_time(until)) return std::optional<int64_t>();
  DateValue value;
  value.is_date = until.is_date != 0;
  value.local = LocalDateTime{until.year, until.month, until.day, 0, 0, 0, 0};
  if (!value.is_date) {
    value.local.hour = until.hour;
    value.local.minute = until.minute;
    value.local.second = until.second;
    if (icaltime_is_utc(until)) value.zone = "UTC";
  }
  if (value.is_date && !series.all_day) {
    // A date UNTIL on a timed series includes that whole local day.
    value.local.hour = 23;
    value.local.minute = 59;
    value.local.second = 59;
    value.local.millisecond = 999;
    SB_ASSIGN_OR_RETURN(const int64_t end_of_day, LocalToUtc(value.local, series.zone));
    return std::optional<int64_t>(end_of_day);
  }
  SB_ASSIGN_OR_RETURN(const int64_t key, KeyOfDateValue(series, value));
  return std::optional<int64_t>(key);
}

// Owns a libical iterator; every touch goes through the module mutex.
class RuleIterator {
 public:
  static std::optional<RuleIterator> Create(const icalrecurrencetype& recur, icaltimetype start) {
    std::lock_guard<std::mutex> lock(internal::LibicalMutex());
    icalrecur_iterator* it = icalrecur_iterator_new(recur, start);
    if (it == nullptr) return std::nullopt;
    return RuleIterator(it);
  }
  RuleIterator(RuleIterator&& other) noexcept : it_(std::exchange(other.it_, nullptr)) {}
  RuleIterator(const RuleIterator&) = delete;
  RuleIterator& operator=(const RuleIterator&) = delete;
  RuleIterator& operator=(RuleIterator&&) = delete;
  ~RuleIterator() {
    if (it_ == nullptr) return;
    std::lock_guard<std::mutex> lock(internal::LibicalMutex());
    icalrecur_iterator_free(it_);
  }

  // The next wall time of the rule, nullopt when it has ended.
  std::optional<icaltimetype> Next() {
    std::lock_guard<std::mutex> lock(internal::LibicalMutex());
    const icaltimetype t = icalrecur_iterator_next(it_);
    if (icaltime_is_null_time(t)) return std::nullopt;
    return t;
  }

 private:
  explicit RuleIterator(icalrecur_iterator* it) : it_(it) {}
  icalrecur_iterator* it_;
};

icaltimetype ToIcal(const Series& series) {
  icaltimetype t = icaltime_null_time();
  t.year = series.start_local.year;
  t.month = series.start_local.month;
  t.day = series.start_local.day;
  if (series.all_day) {
    t.is_date = 1;
  } else {
    // Floating (no zone): libical steps through wall time, zone rules are applied here.
    t.hour = series.start_local.hour;
    t.minute = series.start_local.minute;
    t.second = series.start_local.second;
  }
  return t;
}

// Feeds the keys of `rule`'s instances whose wall time lies roughly within
// [window_start, window_end) to `emit`, in rule order, until emit returns false, the rule
// (or its UNTIL) ends, or kMaxRecurrenceIterations steps were taken.
sb::Status ExpandRule(const Series& series, const Rule& rule, int64_t window_start,
                      int64_t window_end, const std::function<bool(int64_t)>& emit) {
  SB_ASSIGN_OR_RETURN(const std::optional<int64_t> until, UntilKey(series, rule.recur.until));
  // UNTIL is applied here, in the series zone, rather than by libical, whose comparison of a
  // UTC UNTIL with floating wall times would ignore the zone.
  icalrecurrencetype recur = rule.recur;
  recur.until = icaltime_null_time();
  std::optional<RuleIterator> it = RuleIterator::Create(recur, ToIcal(series));
  if (!it) return LineError(rule.line, "libical cannot iterate this rule");
  for (size_t step = 0; step < kMaxRecurrenceIterations; ++step) {
    const std::optional<icaltimetype> next = it->Next();
    if (!next) break;
    LocalDateTime wall{next->year,
                       next->month,
                       next->day,
                       next->hour,
                       next->minute,
                       next->second,
                       series.start_local.millisecond};
    if (series.all_day) wall.hour = wall.minute = wall.second = wall.millisecond = 0;
    // The wall time read as UTC is within a day of the instant, which settles most
    // comparisons without a zone lookup.
    const int64_t naive = CivilToUtcMillis(wall);
    if (until && naive > *until + kMsPerDay) break;
    if (naive >= window_end + kMsPerDay) break;
    if (naive < window_start - kMsPerDay) continue;
    const sb::Result<int64_t> key = KeyOfWallTime(series, wall);
    if (!key.ok()) break;  // Beyond year 9999: nothing a client can ask for.
    // `continue`, not `break`: wall times in a DST gap can map slightly out of order.
    if (until && *key > *until) continue;
    if (!emit(*key)) break;
  }
  return sb::OkStatus();
}

}  // namespace

sb::Result<std::vector<EventTime>> ExpandRecurrence(
    const EventTime& series_start, const std::vector<std::string>& recurrence_lines,
    int64_t window_start_utc_ms, int64_t window_end_utc_ms, size_t max_count) {
  SB_ASSIGN_OR_RETURN(const RecurrenceSet set, ParseLines(recurrence_lines));
  SB_ASSIGN_OR_RETURN(const Series series, MakeSeries(series_start));
  std::vector<EventTime> out;
  if (max_count == 0 || window_start_utc_ms >= window_end_utc_ms) return out;
  const auto in_window = [&](int64_t key) {
    return key >= window_start_utc_ms && key < window_end_utc_ms;
  };

  std::set<int64_t> excluded;
  for (const DateValue& value : set.exdates) {
    SB_ASSIGN_OR_RETURN(const int64_t key, KeyOfDateValue(series, value));
    excluded.insert(key);
  }
  for (const Rule& rule : set.exrules) {
    SB_RETURN_IF_ERROR(
        ExpandRule(series, rule, window_start_utc_ms, window_end_utc_ms, [&](int64_t key) {
          if (in_window(key)) excluded.insert(key);
          return true;
        }));
  }

  std::set<int64_t> starts;
  const auto add = [&](int64_t key) {
    if (in_window(key) && excluded.count(key) == 0) starts.insert(key);
  };
  for (const Rule& rule : set.rrules) {
    // Instances come in order, so once a rule has contributed max_count starts its later
    // ones cannot be among the earliest max_count overall.
    size_t contributed = 0;
    SB_RETURN_IF_ERROR(
        ExpandRule(series, rule, window_start_utc_ms, window_end_utc_ms, [&](int64_t key) {
          if (!in_window(key) || excluded.count(key) != 0) return true;
          starts.insert(key);
          return ++contributed < max_count;
        }));
  }
  for (const DateValue& value : set.rdates) {
    SB_ASSIGN_OR_RETURN(const int64_t key, KeyOfDateValue(series, value));
    add(key);
  }
  if (set.rrules.empty()) {
    SB_ASSIGN_OR_RETURN(const int64_t key, KeyOfWallTime(series, series.start_local));
    add(key);
  }

  for (const int64_t key : starts) {
    if (out.size() == max_count) break;
    EventTime t;
    t.all_day = series.all_day;
    t.utc_ms = key;
    t.time_zone = series_start.time_zone;
    if (series.all_day) t.date = FormatDate(key);
    out.push_back(std::move(t));
  }
  return out;
}

std::string FormatCompactUtc(int64_t utc_ms) {
  const LocalDateTime t = UtcMillisToCivil(utc_ms);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d%02d%02dT%02d%02d%02dZ", t.year, t.month, t.day, t.hour,
                t.minute, t.second);
  return buf;
}

std::string InstanceIdSuffix(const EventTime& original_start) {
  if (!original_start.all_day) return FormatCompactUtc(original_start.utc_ms);
  std::string date =
      original_start.date.empty() ? FormatDate(original_start.utc_ms) : original_start.date;
  std::erase(date, '-');
  return date;
}

sb::Result<bool> IsInfiniteRecurrence(const std::vector<std::string>& recurrence_lines) {
  SB_ASSIGN_OR_RETURN(const RecurrenceSet set, ParseLines(recurrence_lines));
  for (const Rule& rule : set.rrules) {
    if (rule.recur.count == 0 && icaltime_is_null_time(rule.recur.until)) return true;
  }
  return false;
}

}  // namespace sb::caltime
