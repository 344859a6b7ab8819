#include "sb/caltime/recurrence.h"

#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sb/caltime/caltime.h"

namespace sb::caltime {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

int64_t Ms(std::string_view rfc3339) {
  sb::Result<int64_t> r = ParseRfc3339(rfc3339);
  EXPECT_TRUE(r.ok()) << rfc3339 << ": " << r.status().ToString();
  return r.ok() ? *r : 0;
}

EventTime Timed(std::string_view rfc3339, std::string zone) {
  EventTime t;
  t.utc_ms = Ms(rfc3339);
  t.time_zone = std::move(zone);
  return t;
}

EventTime AllDay(std::string date, std::string zone = "Europe/Zurich") {
  EventTime t;
  t.all_day = true;
  t.utc_ms = *ParseDate(date);
  t.date = std::move(date);
  t.time_zone = std::move(zone);
  return t;
}

const int64_t kWideStart = Ms("2000-01-01T00:00:00Z");
const int64_t kWideEnd = Ms("2100-01-01T00:00:00Z");

// Expands over a wide window and renders the starts as UTC RFC 3339 (timed) or dates.
std::vector<std::string> Expand(const EventTime& start, const std::vector<std::string>& lines,
                                int64_t window_start = kWideStart, int64_t window_end = kWideEnd,
                                size_t max_count = 1000) {
  sb::Result<std::vector<EventTime>> r =
      ExpandRecurrence(start, lines, window_start, window_end, max_count);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> out;
  if (!r.ok()) return out;
  for (const EventTime& t : *r) {
    EXPECT_EQ(t.all_day, start.all_day);
    EXPECT_EQ(t.time_zone, start.time_zone);
    out.push_back(t.all_day ? t.date : *FormatRfc3339InZone(t.utc_ms, "UTC"));
  }
  return out;
}

// provider-protocols.md 3.3: the weekly Monday 10:00 Zurich series with UNTIL and EXDATE.
TEST(ExpandRecurrenceTest, SpecWeeklySeriesWithUntilAndExdate) {
  const EventTime start = Timed("2024-05-06T10:00:00+02:00", "Europe/Zurich");
  EXPECT_THAT(Expand(start, {"RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20240701T080000Z",
                             "EXDATE;TZID=Europe/Zurich:20240520T100000"}),
              ElementsAre("2024-05-06T08:00:00Z", "2024-05-13T08:00:00Z",
                          // 2024-05-20 excluded
                          "2024-05-27T08:00:00Z", "2024-06-03T08:00:00Z", "2024-06-10T08:00:00Z",
                          "2024-06-17T08:00:00Z", "2024-06-24T08:00:00Z",
                          // UNTIL is inclusive
                          "2024-07-01T08:00:00Z"));
}

TEST(ExpandRecurrenceTest, UntilOneSecondEarlierDropsTheLastInstance) {
  const EventTime start = Timed("2024-05-06T10:00:00+02:00", "Europe/Zurich");
  const std::vector<std::string> got =
      Expand(start, {"RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20240701T075959Z"});
  ASSERT_EQ(got.size(), 8u);
  EXPECT_EQ(got.back(), "2024-06-24T08:00:00Z");
}

TEST(ExpandRecurrenceTest, ExdateInUtcForm) {
  const EventTime start = Timed("2024-05-06T10:00:00+02:00", "Europe/Zurich");
  EXPECT_THAT(Expand(start, {"RRULE:FREQ=WEEKLY;COUNT=3", "EXDATE:20240513T080000Z"}),
              ElementsAre("2024-05-06T08:00:00Z", "2024-05-20T08:00:00Z"));
}

TEST(ExpandRecurrenceTest, WallTimeIsKeptAcrossAutumnDstChange) {
  const EventTime start = Timed("2024-10-14T10:00:00+02:00", "Europe/Zurich");
  EXPECT_THAT(Expand(start, {"RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=4"}),
              ElementsAre("2024-10-14T08:00:00Z", "2024-10-21T08:00:00Z", "2024-10-28T09:00:00Z",
                          "2024-11-04T09:00:00Z"));
}

TEST(ExpandRecurrenceTest, WallTimeIsKeptAcrossSpringDstChange) {
  const EventTime start = Timed("2025-03-24T10:00:00+01:00", "Europe/Zurich");
  EXPECT_THAT(Expand(start, {"RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=2"}),
              ElementsAre("2025-03-24T09:00:00Z", "2025-03-31T08:00:00Z"));
}

TEST(ExpandRecurrenceTest, DailyInstanceInDstGapMovesAfterTheGap) {
  const EventTime start = Timed("2024-03-30T02:30:00+01:00", "Europe/Zurich");
  EXPECT_THAT(Expand(start, {"RRULE:FREQ=DAILY;COUNT=3"}),
              ElementsAre("2024-03-30T01:30:00Z",
                          "2024-03-31T01:30:00Z",  // 02:30 does not exist: 03:30 CEST
                          "2024-04-01T00:30:00Z"));
}

TEST(ExpandRecurrenceTest, CountIsCountedFromTheSeriesStartNotTheWindow) {
  const EventTime start = Timed("2024-05-06T09:00:00Z", "UTC");
  EXPECT_THAT(Expand(start, {"RRULE:FREQ=DAILY;COUNT=3"}, Ms("2024-05-07T00:00:00Z")),
              ElementsAre("2024-05-07T09:00:00Z", "2024-05-08T09:00:00Z"));
  EXPECT_THAT(Expand(start, {"RRULE:FREQ=DAILY;COUNT=3"}),
              ElementsAre("2024-05-06T09:00:00Z", "2024-05-07T09:00:00Z", "2024-05-08T09:00:00Z"));
}

TEST(ExpandRecurrenceTest, DailyAllDayExpandsByDate) {
  const EventTime start = AllDay("2024-02-27");
  sb::Result<std::vector<EventTime>> r =
      ExpandRecurrence(start, {"RRULE:FREQ=DAILY;COUNT=4"}, kWideStart, kWideEnd, 100);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[2].date, "2024-02-29");
  EXPECT_EQ((*r)[2].utc_ms, Ms("2024-02-29T00:00:00Z"));
  EXPECT_TRUE((*r)[2].all_day);
  EXPECT_EQ((*r)[3].date, "2024-03-01");
  EXPECT_EQ(InstanceIdSuffix((*r)[2]), "20240229");
}

TEST(ExpandRecurrenceTest, AllDayWithDateUntilAndDateExdate) {
  EXPECT_THAT(Expand(AllDay("2024-12-30"),
                     {"RRULE:FREQ=DAILY;UNTIL=20250102", "EXDATE;VALUE=DATE:20241231"}),
              ElementsAre("2024-12-30", "2025-01-01", "2025-01-02"));
}

TEST(ExpandRecurrenceTest, AllDayWindowComparesTheDatesUtcMidnight) {
  EXPECT_THAT(Expand(AllDay("2024-05-01"), {"RRULE:FREQ=DAILY"}, Ms("2024-05-03T00:00:00Z"),
                     Ms("2024-05-05T00:00:00Z")),
              ElementsAre("2024-05-03", "2024-05-04"));
}

TEST(ExpandRecurrenceTest, MonthlyOn31stSkipsShortMonths) {
  const EventTime start = Timed("2024-01-31T10:00:00Z", "UTC");
  EXPECT_THAT(Expand(start, {"RRULE:FREQ=MONTHLY;BYMONTHDAY=31;COUNT=4"}),
              ElementsAre("2024-01-31T10:00:00Z", "2024-03-31T10:00:00Z", "2024-05-31T10:00:00Z",
                          "2024-07-31T10:00:00Z"));
}

TEST(ExpandRecurrenceTest, RdatesAreAddedInOrder) {
  const EventTime start = Timed("2024-05-06T10:00:00+02:00", "Europe/Zurich");
  EXPECT_THAT(
      Expand(start, {"RRULE:FREQ=WEEKLY;COUNT=2", "RDATE;TZID=Europe/Zurich:20240508T150000",
                     // A date on a timed series: that day at the series' 10:00.
                     "RDATE;VALUE=DATE:20240521", "RDATE:20240601T120000Z,20240602T120000Z",
                     // Duplicates of rule instances count once.
                     "RDATE:20240506T080000Z"}),
      ElementsAre("2024-05-06T08:00:00Z", "2024-05-08T13:00:00Z", "2024-05-13T08:00:00Z",
                  "2024-05-21T08:00:00Z", "2024-06-01T12:00:00Z", "2024-06-02T12:00:00Z"));
}

TEST(ExpandRecurrenceTest, WithoutRruleTheStartAndRdatesAreTheInstances) {
  const EventTime start = Timed("2024-05-06T10:00:00+02:00", "Europe/Zurich");
  EXPECT_THAT(Expand(start, {}), ElementsAre("2024-05-06T08:00:00Z"));
  EXPECT_THAT(Expand(start, {"RDATE:20240510T080000Z"}),
              ElementsAre("2024-05-06T08:00:00Z", "2024-05-10T08:00:00Z"));
}

TEST(ExpandRecurrenceTest, ExruleRemovesItsInstances) {
  const EventTime start = Timed("2024-05-01T09:00:00+02:00", "Europe/Zurich");  // Wednesday
  EXPECT_THAT(Expand(start, {"RRULE:FREQ=DAILY;COUNT=7", "EXRULE:FREQ=WEEKLY;BYDAY=SA,SU"}),
              ElementsAre("2024-05-01T07:00:00Z", "2024-05-02T07:00:00Z", "2024-05-03T07:00:00Z",
                          "2024-05-06T07:00:00Z", "2024-05-07T07:00:00Z"));
}

TEST(ExpandRecurrenceTest, ExdateAlsoRemovesRdates) {
  const EventTime start = Timed("2024-05-06T08:00:00Z", "UTC");
  EXPECT_THAT(Expand(start, {"RDATE:20240510T080000Z", "EXDATE:20240510T080000Z"}),
              ElementsAre("2024-05-06T08:00:00Z"));
}

TEST(ExpandRecurrenceTest, InfiniteRuleIsCappedByWindowAndMaxCount) {
  const EventTime start = Timed("2024-01-01T10:00:00+01:00", "Europe/Zurich");
  const std::vector<std::string> lines = {"RRULE:FREQ=DAILY"};
  EXPECT_EQ(Expand(start, lines, Ms("2024-06-01T00:00:00Z"), Ms("2024-06-11T00:00:00Z")).size(),
            10u);
  EXPECT_THAT(Expand(start, lines, kWideStart, kWideEnd, 3),
              ElementsAre("2024-01-01T09:00:00Z", "2024-01-02T09:00:00Z", "2024-01-03T09:00:00Z"));
  // A window years after the start is reached; the offset there is summer time.
  EXPECT_THAT(Expand(start, lines, Ms("2030-07-01T00:00:00Z"), Ms("2030-07-02T00:00:00Z")),
              ElementsAre("2030-07-01T08:00:00Z"));
  // Wide window, generous max_count: terminates and stays within max_count.
  EXPECT_EQ(Expand(start, lines, kWideStart, kWideEnd, 500).size(), 500u);
  EXPECT_TRUE(Expand(start, lines, kWideStart, kWideEnd, 0).empty());
}

TEST(ExpandRecurrenceTest, IterationCapStopsRulesThatNeverReachTheWindow) {
  const EventTime start = Timed("2024-01-01T00:00:00Z", "UTC");
  // 100000 minutes is about 70 days, so a window a year later is never reached.
  EXPECT_TRUE(
      Expand(start, {"RRULE:FREQ=MINUTELY"}, Ms("2025-01-01T00:00:00Z"), Ms("2025-01-02T00:00:00Z"))
          .empty());
}

TEST(ExpandRecurrenceTest, InvalidLinesAreRejectedWithTheLine) {
  const EventTime start = Timed("2024-05-06T10:00:00+02:00", "Europe/Zurich");
  for (const char* bad :
       {"RRULE:FREQ=SOMETIMES", "RRULE:FREQ=WEEKLY;BYDAY=XX",
        "RRULE:FREQ=DAILY;COUNT=2;UNTIL=20240101T000000Z", "RRULE:", "RRULE FREQ=DAILY",
        "DTSTART:20240506T080000Z", "EXDATE;TZID=Mars/Base:20240520T100000", "RDATE:2024-05-20",
        "RDATE;VALUE=DATE:20240520T100000", "EXDATE:20240231T100000Z",
        "RRULE:FREQ=DAILY;RSCALE=GREGORIAN"}) {
    const sb::Result<std::vector<EventTime>> r =
        ExpandRecurrence(start, {"RRULE:FREQ=DAILY;COUNT=2", bad}, kWideStart, kWideEnd, 10);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), sb::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(r.status().message(), HasSubstr(bad));
  }
}

TEST(ExpandRecurrenceTest, UnknownSeriesZoneIsRejected) {
  const EventTime start = Timed("2024-05-06T10:00:00+02:00", "Mars/Base");
  const sb::Result<std::vector<EventTime>> r =
      ExpandRecurrence(start, {"RRULE:FREQ=DAILY"}, kWideStart, kWideEnd, 10);
  EXPECT_EQ(r.status().code(), sb::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("Mars/Base"));
}

TEST(ExpandRecurrenceTest, EmptySeriesZoneMeansUtc) {
  const EventTime start = Timed("2024-05-06T10:00:00Z", "");
  EXPECT_THAT(Expand(start, {"RRULE:FREQ=WEEKLY;COUNT=2"}),
              ElementsAre("2024-05-06T10:00:00Z", "2024-05-13T10:00:00Z"));
}

TEST(InstanceIdSuffixTest, MatchesGoogleInstanceIds) {
  EXPECT_EQ(InstanceIdSuffix(Timed("2024-05-13T10:00:00+02:00", "Europe/Zurich")),
            "20240513T080000Z");
  EXPECT_EQ(InstanceIdSuffix(AllDay("2024-05-13")), "20240513");
  EventTime midnight_only;
  midnight_only.all_day = true;
  midnight_only.utc_ms = *ParseDate("2024-12-01");
  EXPECT_EQ(InstanceIdSuffix(midnight_only), "20241201");
}

TEST(IsInfiniteRecurrenceTest, TellsOpenEndedRules) {
  EXPECT_TRUE(*IsInfiniteRecurrence({"RRULE:FREQ=WEEKLY;BYDAY=MO"}));
  EXPECT_FALSE(*IsInfiniteRecurrence({"RRULE:FREQ=WEEKLY;COUNT=3"}));
  EXPECT_FALSE(*IsInfiniteRecurrence({"RRULE:FREQ=WEEKLY;UNTIL=20240701T080000Z"}));
  EXPECT_FALSE(*IsInfiniteRecurrence({"RDATE:20240701T080000Z"}));
  EXPECT_FALSE(IsInfiniteRecurrence({"RRULE:FREQ=NEVER"}).ok());
}

TEST(ExpandRecurrenceTest, SafeFromManyThreads) {
  const EventTime start = Timed("2024-05-06T10:00:00+02:00", "Europe/Zurich");
  const std::vector<std::string> lines = {"RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20240701T080000Z",
                                          "EXDATE;TZID=Europe/Zurich:20240520T100000"};
  const std::vector<std::string> expected = Expand(start, lines);
  std::vector<int> mismatches(6, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 30; ++k) {
        const sb::Result<std::vector<EventTime>> r =
            ExpandRecurrence(start, lines, kWideStart, kWideEnd, 100);
        if (!r.ok() || r->size() != expected.size()) ++mismatches[i];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace sb::caltime
