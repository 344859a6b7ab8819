#include "sb/sync/calendar/availability.h"

#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sb/caltime/caltime.h"

namespace sb::sync::calendar {

// gtest prints intervals as RFC 3339 (found by argument-dependent lookup).
void PrintTo(const Interval& i, std::ostream* os) {
  *os << "[" << caltime::FormatUtcMillis(i.start_ms) << ", " << caltime::FormatUtcMillis(i.end_ms)
      << ")";
}

namespace {

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

int64_t At(const std::string& rfc3339) {
  auto ms = caltime::ParseRfc3339(rfc3339);
  EXPECT_TRUE(ms.ok()) << rfc3339;
  return ms.ok() ? *ms : 0;
}

Interval Iv(const std::string& start, const std::string& end) { return {At(start), At(end)}; }

using Intervals = std::vector<Interval>;

// --- MergeIntervals

TEST(MergeIntervalsTest, SortsJoinsOverlappingAndTouchingAndDropsEmpty) {
  struct Case {
    Intervals in;
    Intervals want;
  };
  const std::vector<Case> cases = {
      {{}, {}},
      {{{5, 5}}, {}},
      {{{7, 3}}, {}},
      {{{20, 30}, {0, 10}}, {{0, 10}, {20, 30}}},
      {{{0, 10}, {10, 20}}, {{0, 20}}},
      {{{0, 10}, {5, 15}, {30, 40}}, {{0, 15}, {30, 40}}},
      {{{0, 100}, {10, 20}, {30, 40}}, {{0, 100}}},
      {{{50, 60}, {5, 5}, {0, 50}, {61, 62}}, {{0, 60}, {61, 62}}},
      {{{-10, -5}, {-5, 0}}, {{-10, 0}}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(MergeIntervals(cases[i].in), cases[i].want) << "case " << i;
  }
}

// --- Subtract

TEST(SubtractTest, Table) {
  struct Case {
    Intervals from;
    Intervals busy;
    Intervals want;
  };
  const std::vector<Case> cases = {
      {{}, {{0, 10}}, {}},
      {{{0, 100}}, {}, {{0, 100}}},
      {{{0, 100}}, {{0, 100}}, {}},
      {{{0, 100}}, {{-10, 200}}, {}},
      {{{0, 100}}, {{40, 60}}, {{0, 40}, {60, 100}}},
      {{{0, 100}}, {{0, 10}, {90, 100}}, {{10, 90}}},
      {{{0, 100}}, {{-5, 0}, {100, 105}}, {{0, 100}}},  // touching only
      {{{0, 100}}, {{10, 20}, {30, 40}}, {{0, 10}, {20, 30}, {40, 100}}},
      // One busy interval across two free ones, and one between them.
      {{{0, 10}, {20, 30}, {40, 50}}, {{5, 25}, {32, 35}}, {{0, 5}, {25, 30}, {40, 50}}},
      {{{0, 10}, {20, 30}}, {{-100, -50}, {100, 200}}, {{0, 10}, {20, 30}}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(Subtract(cases[i].from, cases[i].busy), cases[i].want) << "case " << i;
  }
}

// --- Slots

TEST(SlotsTest, Table) {
  struct Case {
    Intervals free;
    int64_t slot;
    int64_t step;
    Intervals want;
  };
  const std::vector<Case> cases = {
      {{{0, 100}}, 30, 0, {{0, 30}, {30, 60}, {60, 90}}},
      {{{0, 100}}, 30, -5, {{0, 30}, {30, 60}, {60, 90}}},  // step <= 0: the slot length
      {{{0, 100}}, 30, 20, {{0, 30}, {20, 50}, {40, 70}, {60, 90}}},
      {{{0, 60}}, 60, 0, {{0, 60}}},  // exact fit
      {{{0, 59}}, 60, 0, {}},         // too short
      {{{0, 100}}, 0, 0, {}},
      {{{0, 100}}, -30, 0, {}},
      {{{0, 45}, {50, 80}}, 15, 0, {{0, 15}, {15, 30}, {30, 45}, {50, 65}, {65, 80}}},
      {{}, 30, 0, {}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(Slots(cases[i].free, cases[i].slot, cases[i].step), cases[i].want) << "case " << i;
  }
}

TEST(SlotsTest, BoundedToTenThousandEarliest) {
  auto slots = Slots({{0, 1'000'000'000}}, 1, 0);
  ASSERT_EQ(slots.size(), kMaxSlots);
  EXPECT_EQ(slots.front(), (Interval{0, 1}));
  EXPECT_EQ(slots.back(), (Interval{9'999, 10'000}));
  slots = Slots({{0, 5'000}, {10'000, 20'000}}, 1, 0);
  ASSERT_EQ(slots.size(), kMaxSlots);
  EXPECT_EQ(slots.back(), (Interval{14'999, 15'000}));
}

TEST(SlotsTest, NoOverflowAtTheEndOfTheRange) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(Slots({{kMax - 10, kMax}}, 5, 0), (Intervals{{kMax - 10, kMax - 5}, {kMax - 5, kMax}}));
  EXPECT_EQ(Slots({{kMax - 10, kMax}}, 4, kMax), (Intervals{{kMax - 10, kMax - 6}}));
  EXPECT_EQ(Slots({{kMin, kMax}}, kMax, 0), (Intervals{{kMin, -1}, {-1, kMax - 1}}));
}

// --- WorkingWindows

TEST(WorkingWindowsTest, ZurichAcrossSpringForwardSkipsTheWeekend) {
  // Friday 27 March 2026 is CET (+01:00); Monday 30 March is CEST (+02:00).
  auto got = WorkingWindows(At("2026-03-27T00:00:00Z"), At("2026-03-31T00:00:00Z"), "Europe/Zurich",
                            WorkingHours{});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, (Intervals{Iv("2026-03-27T08:00:00Z", "2026-03-27T16:00:00Z"),
                             Iv("2026-03-30T07:00:00Z", "2026-03-30T15:00:00Z")}));
}

TEST(WorkingWindowsTest, ZurichGapMapsAfterTheGap) {
  // 02:30-04:00 every day. On 29 March 02:30 does not exist: read with CET, it is 03:30 CEST.
  WorkingHours hours{150, 240, {true, true, true, true, true, true, true}};
  auto got = WorkingWindows(At("2026-03-28T00:00:00Z"), At("2026-03-30T00:00:00Z"), "Europe/Zurich",
                            hours);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, (Intervals{Iv("2026-03-28T01:30:00Z", "2026-03-28T03:00:00Z"),
                             Iv("2026-03-29T01:30:00Z", "2026-03-29T02:00:00Z")}));
}

TEST(WorkingWindowsTest, NewYorkAcrossBothChanges) {
  auto spring = WorkingWindows(At("2026-03-06T00:00:00Z"), At("2026-03-10T00:00:00Z"),
                               "America/New_York", WorkingHours{});
  ASSERT_TRUE(spring.ok()) << spring.status().ToString();
  EXPECT_EQ(*spring, (Intervals{Iv("2026-03-06T14:00:00Z", "2026-03-06T22:00:00Z"),
                                Iv("2026-03-09T13:00:00Z", "2026-03-09T21:00:00Z")}));
  auto fall = WorkingWindows(At("2026-10-30T00:00:00Z"), At("2026-11-03T00:00:00Z"),
                             "America/New_York", WorkingHours{});
  ASSERT_TRUE(fall.ok()) << fall.status().ToString();
  EXPECT_EQ(*fall, (Intervals{Iv("2026-10-30T13:00:00Z", "2026-10-30T21:00:00Z"),
                              Iv("2026-11-02T14:00:00Z", "2026-11-02T22:00:00Z")}));
}

TEST(WorkingWindowsTest, NewYorkRepeatedHourIsTheEarlierInstant) {
  // 01:30-02:30 on 1 November 2026: 01:30 happens twice (EDT first), 02:30 is EST.
  WorkingHours hours{90, 150, {true, true, true, true, true, true, true}};
  auto got = WorkingWindows(At("2026-11-01T04:00:00Z"), At("2026-11-01T12:00:00Z"),
                            "America/New_York", hours);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, (Intervals{Iv("2026-11-01T05:30:00Z", "2026-11-01T07:30:00Z")}));
}

TEST(WorkingWindowsTest, ClippedToTheWindow) {
  // Monday 2 March 2026, Zurich 09:00-17:00 is 08:00Z-16:00Z.
  auto got = WorkingWindows(At("2026-03-02T10:00:00Z"), At("2026-03-02T12:00:00Z"), "Europe/Zurich",
                            WorkingHours{});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, (Intervals{Iv("2026-03-02T10:00:00Z", "2026-03-02T12:00:00Z")}));
  got = WorkingWindows(At("2026-03-02T12:00:00Z"), At("2026-03-03T09:00:00Z"), "Europe/Zurich",
                       WorkingHours{});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, (Intervals{Iv("2026-03-02T12:00:00Z", "2026-03-02T16:00:00Z"),
                             Iv("2026-03-03T08:00:00Z", "2026-03-03T09:00:00Z")}));
  // Saturday only: nothing.
  got = WorkingWindows(At("2026-03-07T00:00:00Z"), At("2026-03-08T00:00:00Z"), "Europe/Zurich",
                       WorkingHours{});
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty());
}

TEST(WorkingWindowsTest, WholeDaysJoinAcrossMidnight) {
  WorkingHours always{0, 1440, {true, true, true, true, true, true, true}};
  const int64_t start = At("2026-03-26T13:17:00Z");
  const int64_t end = start + 5 * kDay;  // across Zurich's change
  auto got = WorkingWindows(start, end, "Europe/Zurich", always);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, (Intervals{{start, end}}));
  WorkingHours sundays{0, 1440, {false, false, false, false, false, false, true}};
  got = WorkingWindows(start, end, "Europe/Zurich", sundays);
  ASSERT_TRUE(got.ok());  // the short Sunday: 23 hours
  EXPECT_EQ(*got, (Intervals{Iv("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z")}));
}

TEST(WorkingWindowsTest, RefusesHostileInput) {
  const int64_t start = At("2026-01-01T00:00:00Z");
  auto code = [](const Result<std::vector<Interval>>& r) { return r.status().code(); };
  EXPECT_TRUE(WorkingWindows(start, start + 62 * kDay, "UTC", {}).ok());
  EXPECT_EQ(code(WorkingWindows(start, start + 62 * kDay + 1, "UTC", {})),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(WorkingWindows(start, start, "UTC", {})), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(WorkingWindows(start, start - kHour, "UTC", {})), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(WorkingWindows(std::numeric_limits<int64_t>::min(),
                                std::numeric_limits<int64_t>::max(), "UTC", {})),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(WorkingWindows(std::numeric_limits<int64_t>::max() - kDay,
                                std::numeric_limits<int64_t>::max(), "UTC", {})),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(WorkingWindows(start, start + kDay, "Mars/Olympus_Mons", {})),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(WorkingWindows(start, start + kDay, "", {})), StatusCode::kInvalidArgument);
  for (WorkingHours bad : {WorkingHours{-1, 600}, WorkingHours{600, 600}, WorkingHours{700, 600},
                           WorkingHours{0, 1441}}) {
    EXPECT_EQ(code(WorkingWindows(start, start + kDay, "UTC", bad)), StatusCode::kInvalidArgument)
        << bad.start_minute << "-" << bad.end_minute;
  }
}

// --- BusyInterval

Event Timed(const std::string& start, const std::string& end) {
  Event e;
  e.provider_id = "e1";
  e.start.instant_ms = At(start);
  e.end.instant_ms = At(end);
  return e;
}

Event AllDay(const std::string& start_date, const std::string& end_date) {
  Event e;
  e.provider_id = "d1";
  e.all_day = true;
  e.start.date = start_date;
  e.end.date = end_date;
  return e;
}

Attendee Person(bool self, ResponseStatus response) {
  Attendee a;
  a.email = self ? "me@example.com" : "other@example.com";
  a.self = self;
  a.response = response;
  return a;
}

TEST(BusyIntervalTest, TimedEvents) {
  const Event e = Timed("2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z");
  const Interval hour = Iv("2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z");
  EXPECT_EQ(BusyInterval(e), hour);
  Event tentative = e;
  tentative.status = EventStatus::kTentative;
  EXPECT_EQ(BusyInterval(tentative), hour);
  Event cancelled = e;
  cancelled.status = EventStatus::kCancelled;
  EXPECT_EQ(BusyInterval(cancelled), std::nullopt);
  Event transparent = e;
  transparent.transparency = Transparency::kTransparent;
  EXPECT_EQ(BusyInterval(transparent), std::nullopt);
  Event zero = Timed("2026-03-02T10:00:00Z", "2026-03-02T10:00:00Z");
  EXPECT_EQ(BusyInterval(zero), std::nullopt);
  Event no_start;
  EXPECT_EQ(BusyInterval(no_start), std::nullopt);
  Event master = e;
  master.kind = EventKind::kSeriesMaster;
  master.recurrence = {"RRULE:FREQ=DAILY;COUNT=3"};
  EXPECT_EQ(BusyInterval(master), std::nullopt);
  Event occurrence = e;
  occurrence.kind = EventKind::kOccurrence;
  EXPECT_EQ(BusyInterval(occurrence), hour);
}

TEST(BusyIntervalTest, OnlyTheSelfAttendeesDeclineFreesTheTime) {
  const Interval hour = Iv("2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z");
  Event e = Timed("2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z");
  e.attendees = {Person(false, ResponseStatus::kDeclined), Person(true, ResponseStatus::kAccepted)};
  EXPECT_EQ(BusyInterval(e), hour);
  e.attendees[1].response = ResponseStatus::kNeedsAction;
  EXPECT_EQ(BusyInterval(e), hour);
  e.attendees[1].response = ResponseStatus::kTentative;
  EXPECT_EQ(BusyInterval(e), hour);
  e.attendees[1].response = ResponseStatus::kDeclined;
  EXPECT_EQ(BusyInterval(e), std::nullopt);
}

TEST(BusyIntervalTest, AllDayDatesAtMidnightOfTheZone) {
  const Event e = AllDay("2026-03-07", "2026-03-09");  // Saturday and Sunday, New York's change
  EXPECT_EQ(BusyInterval(e), Iv("2026-03-07T00:00:00Z", "2026-03-09T00:00:00Z"));
  EXPECT_EQ(BusyInterval(e, "America/New_York"),
            Iv("2026-03-07T05:00:00Z", "2026-03-09T04:00:00Z"));
  EXPECT_EQ(BusyInterval(e, "Europe/Zurich"), Iv("2026-03-06T23:00:00Z", "2026-03-08T23:00:00Z"));
  // An unknown zone never drops the event: UTC midnights.
  EXPECT_EQ(BusyInterval(e, "Nowhere/Special"), Iv("2026-03-07T00:00:00Z", "2026-03-09T00:00:00Z"));
  const Event one = AllDay("2026-03-29", "");  // no end date: one day (23 hours in Zurich)
  EXPECT_EQ(BusyInterval(one, "Europe/Zurich"), Iv("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"));
  Event free_day = e;
  free_day.transparency = Transparency::kTransparent;
  EXPECT_EQ(BusyInterval(free_day, "Europe/Zurich"), std::nullopt);
  EXPECT_EQ(BusyInterval(AllDay("2026-02-30", "2026-03-01"), "UTC"), std::nullopt);
}

// Google's freeBusy answer: every asked calendar's spans, in any offset, clipped and merged;
// a calendar missing or with errors fails the answer (the store's is used instead).
TEST(FreeBusyFromGoogle, ReadsEveryAskedCalendar) {
  const Json answer = Json::parse(R"j({"calendars": {
    "primary": {"busy": [{"start": "2026-03-02T08:00:00Z", "end": "2026-03-02T09:00:00Z"},
                         {"start": "2026-03-02T09:30:00+01:00", "end": "2026-03-02T11:00:00+01:00"}]},
    "team": {"busy": [{"start": "2026-03-01T23:00:00Z", "end": "2026-03-02T01:00:00Z"}]},
    "other": {"errors": [{"domain": "global", "reason": "notFound"}]}}})j");
  const int64_t from = At("2026-03-02T00:00:00Z");
  const int64_t to = At("2026-03-03T00:00:00Z");
  auto busy = FreeBusyFromGoogle(answer, {"primary", "team"}, from, to);
  ASSERT_TRUE(busy.ok()) << busy.status().ToString();
  EXPECT_EQ(*busy, (std::vector<Interval>{Iv("2026-03-02T00:00:00Z", "2026-03-02T01:00:00Z"),
                                          Iv("2026-03-02T08:00:00Z", "2026-03-02T10:00:00Z")}));
  EXPECT_FALSE(FreeBusyFromGoogle(answer, {"primary", "other"}, from, to).ok());
  EXPECT_FALSE(FreeBusyFromGoogle(answer, {"missing"}, from, to).ok());
  for (const char* bad : {R"j([])j", R"j({"calendars": 3})j",
                          R"j({"calendars": {"primary": {"busy": [{"start": 1}]}}})j",
                          R"j({"calendars": {"primary": {"busy": {}}}})j"}) {
    EXPECT_EQ(FreeBusyFromGoogle(Json::parse(bad), {"primary"}, from, to).status().code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
}

// Graph's getSchedule answer: busy, tentative and out-of-office items; free and
// working-elsewhere ones are not busy time.
TEST(FreeBusyFromGraph, ReadsTheScheduleItemsThatTakeTime) {
  const Json answer = Json::parse(R"j({"value": [{"scheduleId": "a@example.com",
    "scheduleItems": [
      {"status": "busy", "start": {"dateTime": "2026-03-02T08:00:00.0000000", "timeZone": "UTC"},
       "end": {"dateTime": "2026-03-02T09:00:00.0000000", "timeZone": "UTC"}},
      {"status": "tentative", "start": {"dateTime": "2026-03-02T09:00:00", "timeZone": "UTC"},
       "end": {"dateTime": "2026-03-02T09:30:00", "timeZone": "UTC"}},
      {"status": "workingElsewhere", "start": {"dateTime": "2026-03-02T12:00:00", "timeZone": "UTC"},
       "end": {"dateTime": "2026-03-02T13:00:00", "timeZone": "UTC"}},
      {"status": "oof", "start": {"dateTime": "2026-03-02T16:00:00", "timeZone": "Europe/Zurich"},
       "end": {"dateTime": "2026-03-02T17:00:00", "timeZone": "Europe/Zurich"}}]}]})j");
  auto busy = FreeBusyFromGraph(answer, At("2026-03-02T00:00:00Z"), At("2026-03-03T00:00:00Z"));
  ASSERT_TRUE(busy.ok()) << busy.status().ToString();
  EXPECT_EQ(*busy, (std::vector<Interval>{Iv("2026-03-02T08:00:00Z", "2026-03-02T09:30:00Z"),
                                          Iv("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z")}));
  for (const char* bad :
       {R"j({"value": []})j",
        R"j({"value": [{"error": {"responseCode": "ErrorMailRecipientNotFound"}}]})j",
        R"j({"value": [{"scheduleItems": [{"status": 3, "start": 1, "end": 2}]}]})j",
        R"j({"value": [{"scheduleItems": [{"start": {"dateTime": "x", "timeZone": "UTC"},
             "end": {"dateTime": "2026-03-02T09:00:00", "timeZone": "UTC"}}]}]})j"}) {
    EXPECT_EQ(FreeBusyFromGraph(Json::parse(bad), 0, At("2027-01-01T00:00:00Z")).status().code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
}

}  // namespace
}  // namespace sb::sync::calendar
