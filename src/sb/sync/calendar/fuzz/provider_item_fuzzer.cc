// libFuzzer target: every provider-item translation of the calendar model, from one input
// (security.md TST-F1). Byte 0 selects the reader; the rest is JSON, parsed by the bounded
// sb::ParseJson as provider answers are:
//   0  Google events item (EventFromGoogle, calendar zone Europe/Zurich)
//   1  Graph event / delta item (EventFromGraph)
//   2  Google calendarList entry (CalendarFromGoogle)
//   3  Graph calendar (CalendarFromGraph)
//   4  the model's own event JSON (EventFromJson)
//   5  a host's event (HostEventFromJson, ApplyHostPatch onto a fixed event) and its Google and
//      Graph bodies (outbound.h)
//   6  a provider's free/busy answer (FreeBusyFromGoogle, FreeBusyFromGraph; availability.h)
// Whatever is read must round-trip through the model's JSON exactly and serialize; events
// are then given to EventSpan and ExpandSeries over a small window, and a series' first
// occurrences to OccurrenceAt and SplitAt (occurrences.h). A crash, a sanitizer
// report, an escaping exception or a failed SB_CHECK fails the run.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "sb/base/check.h"
#include "sb/base/json.h"
#include "sb/sync/calendar/availability.h"
#include "sb/sync/calendar/expand.h"
#include "sb/sync/calendar/model.h"
#include "sb/sync/calendar/occurrences.h"
#include "sb/sync/calendar/outbound.h"

namespace {

namespace cal = sb::sync::calendar;

constexpr int64_t kWeekMs = 7 * 86'400'000LL;

void CheckCalendar(const sb::Result<cal::Calendar>& calendar) {
  if (!calendar.ok()) {
    SB_CHECK(calendar.status().code() == sb::StatusCode::kInvalidArgument);
    return;
  }
  const sb::Json json = cal::CalendarToJson(*calendar);
  (void)json.dump();
  const auto back = cal::CalendarFromJson(json);
  SB_CHECK(back.ok() && *back == *calendar);
}

void CheckEvent(const cal::Event& event) {
  const sb::Json json = cal::EventToJson(event);
  (void)json.dump();
  const auto back = cal::EventFromJson(json);
  SB_CHECK(back.ok() && *back == event);
  const auto span = cal::EventSpan(event);
  if (!span.ok()) return;
  SB_CHECK(!span->end_ms || *span->end_ms >= span->start_ms);
  // Window: the first weeks of the event, and an exception built from the event itself.
  const int64_t start = span->start_ms;
  std::vector<cal::Event> exceptions;
  if (event.original_start) exceptions.push_back(event);
  const auto instances = cal::ExpandSeries(event, exceptions, start, start + 4 * kWeekMs, 20);
  if (!instances.ok()) return;
  SB_CHECK(instances->size() <= 20);
  for (size_t i = 0; i < instances->size() && i < 3; ++i) {
    const cal::Event& instance = (*instances)[i];
    if (!instance.original_start) continue;
    const auto slot = cal::ParseOriginalStart(cal::FormatOriginalStart(*instance.original_start));
    if (!slot.ok()) continue;
    const auto occurrence = cal::OccurrenceAt(event, *slot);
    if (!occurrence.ok()) {
      SB_CHECK(occurrence.status().code() == sb::StatusCode::kInvalidArgument ||
               occurrence.status().code() == sb::StatusCode::kNotFound);
      continue;
    }
    const auto split = cal::SplitAt(event, *occurrence);
    if (!split.ok()) SB_CHECK(split.status().code() == sb::StatusCode::kInvalidArgument);
  }
}

void CheckChange(const sb::Result<cal::EventChange>& change) {
  if (!change.ok()) {
    SB_CHECK(change.status().code() == sb::StatusCode::kInvalidArgument);
    return;
  }
  SB_CHECK(!change->provider_id.empty());
  if (change->event) CheckEvent(*change->event);
}

// A host's event must be writable wherever it was accepted: Google's body always, Graph's or a
// named refusal; a patch of a valid event with the same members gives the same event.
void CheckHostEvent(const sb::Json& json) {
  const auto event = cal::HostEventFromJson(json);
  if (!event.ok()) {
    SB_CHECK(event.status().code() == sb::StatusCode::kInvalidArgument);
  } else {
    // A host's event has no provider id yet; the model's own JSON wants one.
    cal::Event named = *event;
    named.provider_id = "p";
    CheckEvent(named);
    (void)cal::EventToGoogle(*event, "sbabc").dump();
    const auto graph = cal::EventToGraph(*event);
    SB_CHECK(graph.ok() || graph.status().code() == sb::StatusCode::kInvalidArgument);
    const auto again = cal::ApplyHostPatch(*event, json);
    SB_CHECK(again.ok() && *again == *event);
  }
  cal::Event base;
  base.provider_id = "p";
  base.start.instant_ms = 0;
  base.end.instant_ms = 3'600'000;
  base.start.time_zone = base.end.time_zone = "UTC";
  const auto patched = cal::ApplyHostPatch(base, json);
  SB_CHECK(patched.ok() || patched.status().code() == sb::StatusCode::kInvalidArgument);
}

// Busy time read from a provider's answer lies within the window, sorted and disjoint.
void CheckFreeBusy(const sb::Json& json) {
  constexpr int64_t kFrom = 1'767'225'600'000;  // 2026-01-01
  constexpr int64_t kTo = kFrom + 62 * 86'400'000LL;
  for (const auto& busy :
       {cal::FreeBusyFromGoogle(json, {"primary", "team@example.com"}, kFrom, kTo),
        cal::FreeBusyFromGraph(json, kFrom, kTo)}) {
    if (!busy.ok()) {
      SB_CHECK(busy.status().code() == sb::StatusCode::kInvalidArgument);
      continue;
    }
    int64_t last = kFrom;
    for (const cal::Interval& i : *busy) {
      SB_CHECK(i.start_ms >= last && i.start_ms < i.end_ms && i.end_ms <= kTo);
      last = i.end_ms;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto json = sb::ParseJson(text, sb::JsonLimits{});
  if (!json.ok()) return 0;
  switch (data[0] % 7) {
    case 0:
      CheckChange(cal::EventFromGoogle(*json, "Europe/Zurich"));
      break;
    case 1:
      CheckChange(cal::EventFromGraph(*json));
      break;
    case 2:
      CheckCalendar(cal::CalendarFromGoogle(*json));
      break;
    case 3:
      CheckCalendar(cal::CalendarFromGraph(*json));
      break;
    case 4: {
      const auto event = cal::EventFromJson(*json);
      if (event.ok()) CheckEvent(*event);
      break;
    }
    case 5:
      CheckHostEvent(*json);
      break;
    default:
      CheckFreeBusy(*json);
      break;
  }
  return 0;
}
