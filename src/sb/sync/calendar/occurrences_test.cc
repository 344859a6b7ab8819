#include "sb/sync/calendar/occurrences.h"

#include <gtest/gtest.h>

#include "sb/sync/calendar/expand.h"

namespace sb::sync::calendar {
namespace {

// Weekly on Tuesdays 09:00 Zurich from 2027-01-12, `end` its COUNT or UNTIL.
Event Weekly(const std::string& end) {
  Event e;
  e.provider_id = "series1";
  e.kind = EventKind::kSeriesMaster;
  e.title = "Standup";
  e.start = {1'799'740'800'000, "", "Europe/Zurich"};  // 2027-01-12T08:00Z
  e.end = {1'799'742'600'000, "", "Europe/Zurich"};    // 30 minutes
  e.recurrence = {"RRULE:FREQ=WEEKLY;BYDAY=TU;" + end, "EXDATE;TZID=Europe/Zurich:20270119T090000"};
  return e;
}

Event Daily() {
  Event e;
  e.provider_id = "days";
  e.kind = EventKind::kSeriesMaster;
  e.all_day = true;
  e.start.date = "2027-03-01";
  e.end.date = "2027-03-02";
  e.recurrence = {"RRULE:FREQ=DAILY;COUNT=10"};
  return e;
}

std::vector<int64_t> Starts(const Event& series) {
  auto all = ExpandSeries(series, {}, 0, 4'000'000'000'000, 100);
  EXPECT_TRUE(all.ok()) << all.status().ToString();
  std::vector<int64_t> out;
  if (!all.ok()) return out;
  for (const Event& e : *all) {
    out.push_back(e.start.instant_ms ? *e.start.instant_ms : -1);
  }
  return out;
}

TEST(OccurrencesTest, OriginalStartsAreInstantsOrDates) {
  auto timed = ParseOriginalStart("2027-01-26T09:00:00+01:00");
  ASSERT_TRUE(timed.ok());
  EXPECT_EQ(*timed->instant_ms, 1'800'950'400'000);
  EXPECT_EQ(FormatOriginalStart(*timed), "2027-01-26T08:00:00Z");
  auto day = ParseOriginalStart("2027-03-04");
  ASSERT_TRUE(day.ok());
  EXPECT_EQ(day->date, "2027-03-04");
  EXPECT_EQ(FormatOriginalStart(*day), "2027-03-04");
  for (const char* bad : {"", "tomorrow", "2027-13-01", "2027-01-26T25:00:00Z", "2027-01-26T09"}) {
    EXPECT_FALSE(ParseOriginalStart(bad).ok()) << bad;
  }
}

TEST(OccurrencesTest, AnOccurrenceIsFoundOnlyAtItsSlot) {
  const Event series = Weekly("COUNT=5");
  auto third = OccurrenceAt(series, *ParseOriginalStart("2027-01-26T08:00:00Z"));
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(third->kind, EventKind::kOccurrence);
  EXPECT_EQ(third->provider_id, "series1_20270126T080000Z");
  EXPECT_EQ(*third->end.instant_ms - *third->start.instant_ms, 1'800'000);
  // Between slots, an excluded slot, past the COUNT, or a date for a timed series.
  for (const char* none :
       {"2027-01-26T08:30:00Z", "2027-01-19T08:00:00Z", "2027-02-16T08:00:00Z"}) {
    EXPECT_EQ(OccurrenceAt(series, *ParseOriginalStart(none)).status().code(),
              StatusCode::kNotFound)
        << none;
  }
  EXPECT_FALSE(OccurrenceAt(series, *ParseOriginalStart("2027-01-26")).ok());
  Event single = series;
  single.recurrence.clear();
  EXPECT_EQ(OccurrenceAt(single, *ParseOriginalStart("2027-01-12T08:00:00Z")).status().code(),
            StatusCode::kInvalidArgument);
  auto day = OccurrenceAt(Daily(), *ParseOriginalStart("2027-03-04"));
  ASSERT_TRUE(day.ok()) << day.status().ToString();
  EXPECT_EQ(day->start.date, "2027-03-04");
  EXPECT_EQ(day->provider_id, "days_20270304");
}

TEST(OccurrencesTest, APatchedOccurrenceIsAnExceptionOfItsSeries) {
  const Event series = Weekly("COUNT=5");
  const EventTime slot = *ParseOriginalStart("2027-01-26T08:00:00Z");
  const Event occurrence = *OccurrenceAt(series, slot);
  auto moved = PatchedOccurrence(
      series, occurrence, slot,
      Json{{"title", "Standup (moved)"},
           {"start", {{"instant", "2027-01-26T10:00:00+01:00"}, {"time_zone", "Europe/Zurich"}}},
           {"end", {{"instant", "2027-01-26T10:30:00+01:00"}, {"time_zone", "Europe/Zurich"}}}});
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved->kind, EventKind::kException);
  EXPECT_EQ(moved->series_master_provider_id, "series1");
  EXPECT_TRUE(SameSlot(*moved->original_start, slot));
  EXPECT_EQ(moved->title, "Standup (moved)");
  EXPECT_TRUE(moved->recurrence.empty());
  EXPECT_EQ(PatchedOccurrence(series, occurrence, slot,
                              Json{{"recurrence", {"RRULE:FREQ=DAILY;COUNT=2"}}})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(PatchedOccurrence(series, occurrence, slot, Json{{"colour", "red"}}).ok());
  Event cancelled = occurrence;
  cancelled.status = EventStatus::kCancelled;
  auto back = PatchedOccurrence(series, cancelled, slot, Json::object());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->status, EventStatus::kConfirmed);
}

// Split at the third of five: two stay with the series, three start the new one, no slot lost
// or doubled.
TEST(OccurrencesTest, ASplitSharesTheSlotsWithoutLossOrOverlap) {
  const Event series = Weekly("COUNT=6");  // one slot excluded: five occurrences
  const std::vector<int64_t> all = Starts(series);
  ASSERT_EQ(all.size(), 5u);
  const Event at = *OccurrenceAt(series, *ParseOriginalStart("2027-02-02T08:00:00Z"));
  auto split = SplitAt(series, at);
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  EXPECT_EQ(split->ended.recurrence[0], "RRULE:FREQ=WEEKLY;BYDAY=TU;UNTIL=20270202T075959Z");
  EXPECT_EQ(split->ended.recurrence[1], series.recurrence[1]);
  EXPECT_EQ(split->following.recurrence,
            std::vector<std::string>{"RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=3"});
  EXPECT_TRUE(split->following.provider_id.empty());
  EXPECT_EQ(split->following.start, at.start);
  std::vector<int64_t> joined = Starts(split->ended);
  for (int64_t s : Starts(split->following)) joined.push_back(s);
  EXPECT_EQ(joined, all);

  auto until = SplitAt(Weekly("UNTIL=20270223T080000Z"), at);
  ASSERT_TRUE(until.ok());
  EXPECT_EQ(until->following.recurrence[0], "RRULE:FREQ=WEEKLY;BYDAY=TU;UNTIL=20270223T080000Z");
  auto forever = SplitAt(Weekly("INTERVAL=1"), at);
  ASSERT_TRUE(forever.ok());
  EXPECT_EQ(forever->following.recurrence[0], "RRULE:FREQ=WEEKLY;BYDAY=TU;INTERVAL=1");

  const Event first = *OccurrenceAt(series, series.start);
  EXPECT_EQ(SplitAt(series, first).status().code(), StatusCode::kInvalidArgument);
  Event days = Daily();
  auto by_day = SplitAt(days, *OccurrenceAt(days, *ParseOriginalStart("2027-03-04")));
  ASSERT_TRUE(by_day.ok()) << by_day.status().ToString();
  EXPECT_EQ(by_day->ended.recurrence[0], "RRULE:FREQ=DAILY;UNTIL=20270303");
  EXPECT_EQ(by_day->following.recurrence[0], "RRULE:FREQ=DAILY;COUNT=7");
  EXPECT_EQ(by_day->following.start.date, "2027-03-04");
}

}  // namespace
}  // namespace sb::sync::calendar
