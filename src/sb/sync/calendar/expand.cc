#include "sb/sync/calendar/expand.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "sb/caltime/caltime.h"
#include "sb/caltime/recurrence.h"
#include "sb/sync/calendar/fields.h"

namespace sb::sync::calendar {
namespace {

using Timed = std::pair<int64_t, Event>;  // an instance and its start, for sorting

bool Overlaps(const Span& span, int64_t window_start_ms, int64_t window_end_ms) {
  const int64_t end = span.end_ms.value_or(std::numeric_limits<int64_t>::max());
  if (span.start_ms >= window_end_ms) return false;
  return end > window_start_ms || (end == span.start_ms && span.start_ms >= window_start_ms);
}

// Whether an exception's original_start names the slot (dates for all-day slots, compared
// in the series zone when the exception gives an instant).
bool SameSlot(const EventTime& original, const caltime::EventTime& slot) {
  if (!slot.all_day) return original.instant_ms && *original.instant_ms == slot.utc_ms;
  if (!original.date.empty()) return original.date == slot.date;
  return original.instant_ms && caltime::FormatDate(*original.instant_ms) == slot.date;
}

// The master moved to a slot; `duration` is ms for timed series and days*kDayMs for all-day.
Event Occurrence(const Event& master, const caltime::EventTime& slot, int64_t duration) {
  Event o = master;
  o.kind = EventKind::kOccurrence;
  o.provider_id = master.provider_id;
  o.provider_id += '_';
  o.provider_id += caltime::InstanceIdSuffix(slot);
  o.series_master_provider_id = master.provider_id;
  o.recurrence.clear();
  EventTime start = master.start;
  EventTime end = master.end;
  if (slot.all_day) {
    start.date = slot.date;
    end.date = caltime::FormatDate(slot.utc_ms + duration);
  } else {
    start.instant_ms = slot.utc_ms;
    end.instant_ms = slot.utc_ms + duration;
  }
  o.original_start = start;
  o.start = std::move(start);
  o.end = std::move(end);
  return o;
}

size_t SaturatingAdd(size_t a, size_t b) {
  return a > std::numeric_limits<size_t>::max() - b ? std::numeric_limits<size_t>::max() : a + b;
}

// The slots whose occurrences can overlap the window, with `extra` spare ones so that
// exceptions removing slots still leave `max_instances`.
Result<std::vector<caltime::EventTime>> Slots(const Event& master, int64_t duration,
                                              int64_t window_start_ms, int64_t window_end_ms,
                                              size_t count) {
  SB_ASSIGN_OR_RETURN(const caltime::EventTime series_start, internal::SeriesStart(master));
  // Widened by the duration: an occurrence that starts before the window may reach into it.
  // Kept within the model's years: caltime's arithmetic near the int64 limits overflows.
  const int64_t from =
      std::clamp(window_start_ms, internal::kMinInstantMs + duration, internal::kMaxInstantMs) -
      duration;
  const int64_t to = std::clamp(window_end_ms, internal::kMinInstantMs, internal::kMaxInstantMs);
  return caltime::ExpandRecurrence(series_start, master.recurrence, from, to, count);
}

// Appends the event when its own span (recurrence ignored) overlaps the window.
void AddIfOverlapping(Event event, int64_t window_start_ms, int64_t window_end_ms,
                      std::vector<Timed>& out) {
  const Result<Span> span = internal::SingleSpan(event);
  if (span.ok() && Overlaps(*span, window_start_ms, window_end_ms)) {
    out.emplace_back(span->start_ms, std::move(event));
  }
}

// The instances sorted by start, the earliest `max_instances`.
std::vector<Event> Earliest(std::vector<Timed> timed, size_t max_instances) {
  std::stable_sort(timed.begin(), timed.end(),
                   [](const Timed& a, const Timed& b) { return a.first < b.first; });
  std::vector<Event> out;
  for (size_t i = 0; i < timed.size() && i < max_instances; ++i) {
    out.push_back(std::move(timed[i].second));
  }
  return out;
}

}  // namespace

Result<std::vector<Event>> ExpandSeries(const Event& master, const std::vector<Event>& exceptions,
                                        int64_t window_start_ms, int64_t window_end_ms,
                                        size_t max_instances) {
  if (window_end_ms < window_start_ms) return InvalidArgumentError("window ends before it starts");
  if (master.recurrence.empty()) {
    SB_ASSIGN_OR_RETURN(const Span span, EventSpan(master));
    std::vector<Event> out;
    if (max_instances > 0 && Overlaps(span, window_start_ms, window_end_ms)) out.push_back(master);
    return out;
  }
  if (internal::HasUnsafeSubDailyRule(master.recurrence)) {
    return InvalidArgumentError("unsupported recurrence: sub-daily rule with day-level BY* parts");
  }
  SB_ASSIGN_OR_RETURN(const Span first, internal::SingleSpan(master));
  const int64_t duration = *first.end_ms - first.start_ms;
  std::vector<const Event*> own;
  for (const Event& e : exceptions) {
    if (e.series_master_provider_id == master.provider_id && e.original_start) own.push_back(&e);
  }
  SB_ASSIGN_OR_RETURN(const auto slots, Slots(master, duration, window_start_ms, window_end_ms,
                                              SaturatingAdd(max_instances, own.size())));
  std::vector<Timed> timed;
  for (const caltime::EventTime& slot : slots) {
    const bool replaced = std::any_of(
        own.begin(), own.end(), [&](const Event* e) { return SameSlot(*e->original_start, slot); });
    // Replaced slots are placed below with the other exceptions.
    if (!replaced) {
      AddIfOverlapping(Occurrence(master, slot, duration), window_start_ms, window_end_ms, timed);
    }
  }
  for (const Event* e : own) {
    if (e->status != EventStatus::kCancelled) {
      AddIfOverlapping(*e, window_start_ms, window_end_ms, timed);
    }
  }
  return Earliest(std::move(timed), max_instances);
}

}  // namespace sb::sync::calendar
