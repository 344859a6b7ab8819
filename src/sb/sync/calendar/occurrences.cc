#include "sb/sync/calendar/occurrences.h"

#include <cstdio>
#include <string>
#include <vector>

#include "sb/base/time_format.h"
#include "sb/caltime/caltime.h"
#include "sb/caltime/recurrence.h"
#include "sb/sync/calendar/expand.h"
#include "sb/sync/calendar/outbound.h"

namespace sb::sync::calendar {
namespace {

constexpr int64_t kDayMs = 86'400'000;
// A COUNT beyond this is split without expanding the series that far (the rule is refused).
constexpr int64_t kMaxSplitCount = 10'000;

// The slot's instant: a timed slot's own, an all-day one's date at midnight UTC.
Result<int64_t> SlotMs(const EventTime& slot) {
  if (slot.instant_ms) return *slot.instant_ms;
  return caltime::ParseDate(slot.date);
}

// An RRULE UNTIL: a UTC DATE-TIME, or a DATE ("yyyymmdd") for all-day series.
std::string Until(int64_t utc_ms, bool date_only) {
  std::string text = caltime::FormatCompactUtc(utc_ms);
  if (date_only) text.resize(8);
  return text;
}

// The RRULE line of a series with one rule, split into its parts ("FREQ=WEEKLY", ...).
Result<std::vector<std::string>> RuleParts(const Event& master) {
  const std::string* rule = nullptr;
  for (const std::string& line : master.recurrence) {
    if (!line.starts_with("RRULE:")) continue;
    if (rule != nullptr) return InvalidArgumentError("the series has more than one rule");
    rule = &line;
  }
  if (rule == nullptr) return InvalidArgumentError("the event is not a recurring series");
  std::vector<std::string> parts;
  std::string_view rest = std::string_view(*rule).substr(6);
  while (!rest.empty()) {
    const size_t cut = rest.find(';');
    if (cut != 0) parts.emplace_back(rest.substr(0, cut));
    if (cut == std::string_view::npos) break;
    rest.remove_prefix(cut + 1);
  }
  return parts;
}

std::string JoinRule(const std::vector<std::string>& parts, const std::string& end) {
  std::string line = "RRULE:";
  for (const std::string& p : parts) {
    if (line.size() > 6) line += ';';
    line += p;
  }
  if (!end.empty()) {
    if (line.size() > 6) line += ';';
    line += end;
  }
  return line;
}

// The number of slots the rule of `master` gives before `slot_ms`, as COUNT counts them
// (EXDATE lines do not take slots out of the count, RDATE lines add none).
Result<int64_t> OccurrencesBefore(const Event& master, int64_t slot_ms, int64_t count) {
  Event rule_only = master;
  std::erase_if(rule_only.recurrence,
                [](const std::string& line) { return !line.starts_with("RRULE:"); });
  SB_ASSIGN_OR_RETURN(const Span span, EventSpan(rule_only));
  if (slot_ms <= span.start_ms) return 0;
  SB_ASSIGN_OR_RETURN(
      auto before, ExpandSeries(rule_only, {}, span.start_ms, slot_ms, static_cast<size_t>(count)));
  int64_t n = 0;
  for (const Event& e : before) {
    auto start = SlotMs(e.original_start.value_or(e.start));
    if (start.ok() && *start < slot_ms) ++n;
  }
  return n;
}

}  // namespace

Result<EventTime> ParseOriginalStart(std::string_view text) {
  EventTime slot;
  if (text.size() == 10) {
    SB_RETURN_IF_ERROR(caltime::ParseDate(text).status());
    slot.date = std::string(text);
    return slot;
  }
  const std::optional<Timestamp> t = ParseRfc3339(text);
  if (!t) {
    return InvalidArgumentError(
        "an occurrence is named by its original start: RFC 3339 or yyyy-mm-dd");
  }
  slot.instant_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
  return slot;
}

std::string FormatOriginalStart(const EventTime& slot) {
  if (!slot.instant_ms) return slot.date;
  const caltime::LocalDateTime t = caltime::UtcMillisToCivil(*slot.instant_ms);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", t.year, t.month, t.day, t.hour,
                t.minute, t.second);
  return buf;
}

bool SameSlot(const EventTime& a, const EventTime& b) {
  if (a.instant_ms || b.instant_ms) return a.instant_ms == b.instant_ms;
  return a.date == b.date;
}

Result<Event> OccurrenceAt(const Event& master, const EventTime& slot) {
  if (master.recurrence.empty()) return InvalidArgumentError("the event is not a recurring series");
  if (master.all_day != !slot.instant_ms) {
    return InvalidArgumentError(master.all_day ? "an all-day series: name the occurrence's date"
                                               : "a timed series: name the occurrence's instant");
  }
  SB_ASSIGN_OR_RETURN(const int64_t at, SlotMs(slot));
  SB_ASSIGN_OR_RETURN(auto near, ExpandSeries(master, {}, at, at + 1, 16));
  for (Event& occurrence : near) {
    if (occurrence.original_start && SameSlot(*occurrence.original_start, slot)) {
      return std::move(occurrence);
    }
  }
  std::string message = "the series has no occurrence at ";
  message += FormatOriginalStart(slot);
  return NotFoundError(message);
}

Result<Event> PatchedOccurrence(const Event& master, const Event& base, const EventTime& slot,
                                const Json& patch) {
  if (patch.is_object() && patch.contains("recurrence") && !patch["recurrence"].is_null() &&
      !(patch["recurrence"].is_array() && patch["recurrence"].empty())) {
    return InvalidArgumentError(
        "recurrence: an occurrence has none (split the series to change its rule from here on)");
  }
  Event from = base;
  from.recurrence.clear();
  // A cancelled occurrence the host writes again comes back.
  if (from.status == EventStatus::kCancelled) from.status = EventStatus::kConfirmed;
  SB_ASSIGN_OR_RETURN(Event e, ApplyHostPatch(from, patch));
  e.kind = EventKind::kException;
  e.series_master_provider_id = master.provider_id;
  e.original_start = slot;
  if (e.original_start->time_zone.empty()) e.original_start->time_zone = master.start.time_zone;
  return e;
}

Result<SplitSeries> SplitAt(const Event& master, const Event& occurrence) {
  SB_ASSIGN_OR_RETURN(std::vector<std::string> parts, RuleParts(master));
  if (!occurrence.original_start) return InvalidArgumentError("not an occurrence of the series");
  const EventTime& slot = *occurrence.original_start;
  if (SameSlot(slot, master.start)) {
    return InvalidArgumentError("the first occurrence: change the series itself");
  }
  SB_ASSIGN_OR_RETURN(const int64_t slot_ms, SlotMs(slot));
  std::optional<int64_t> count;
  std::string until;
  std::vector<std::string> kept;
  for (const std::string& p : parts) {
    if (p.starts_with("COUNT=")) {
      count = std::strtoll(p.c_str() + 6, nullptr, 10);
    } else if (p.starts_with("UNTIL=")) {
      until = p;
    } else {
      kept.push_back(p);
    }
  }
  if (count && (*count < 1 || *count > kMaxSplitCount)) {
    return InvalidArgumentError("the series' COUNT is out of range for a split");
  }
  std::string following_end = until;
  if (count) {
    SB_ASSIGN_OR_RETURN(const int64_t before, OccurrencesBefore(master, slot_ms, *count));
    if (before >= *count) return InvalidArgumentError("not an occurrence of the series");
    following_end = "COUNT=";
    following_end += std::to_string(*count - before);
  }
  SplitSeries split{master, master};
  const bool all_day = !slot.instant_ms;
  std::string ended_end = "UNTIL=";
  ended_end += Until(all_day ? slot_ms - kDayMs : slot_ms - 1000, all_day);
  for (std::string& line : split.ended.recurrence) {
    if (line.starts_with("RRULE:")) line = JoinRule(kept, ended_end);
  }
  Event& next = split.following;
  next.provider_id.clear();
  next.version.clear();
  next.ical_uid.clear();
  next.kind = EventKind::kSeriesMaster;
  next.created_ms.reset();
  next.updated_ms.reset();
  next.start = occurrence.start;
  next.end = occurrence.end;
  next.recurrence = {JoinRule(kept, following_end)};
  return split;
}

Event CancelledOccurrence(const Event& master, Event base, const EventTime& slot) {
  base.kind = EventKind::kException;
  base.series_master_provider_id = master.provider_id;
  base.original_start = slot;
  if (base.original_start->time_zone.empty()) {
    base.original_start->time_zone = master.start.time_zone;
  }
  base.recurrence.clear();
  base.status = EventStatus::kCancelled;
  return base;
}

}  // namespace sb::sync::calendar
