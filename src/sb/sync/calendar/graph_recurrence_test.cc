#include "sb/sync/calendar/graph_recurrence.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sb/caltime/caltime.h"
#include "sb/caltime/recurrence.h"

namespace sb::sync::calendar {
namespace {

using ::testing::HasSubstr;

Json J(const char* text) { return Json::parse(text); }

// The RRULE for a pattern and range given as JSON text, series in Europe/Zurich.
std::string Rule(const char* pattern, const char* range = R"({"type":"noEnd"})",
                 bool all_day = false) {
  Json recurrence = {{"pattern", J(pattern)}, {"range", J(range)}};
  Result<std::string> rule = GraphRecurrenceToRrule(recurrence, "Europe/Zurich", all_day);
  EXPECT_TRUE(rule.ok()) << rule.status().ToString();
  return rule.ok() ? *rule : "";
}

Status RuleError(const Json& recurrence) {
  Result<std::string> rule = GraphRecurrenceToRrule(recurrence, "Europe/Zurich", false);
  EXPECT_FALSE(rule.ok()) << *rule;
  return rule.ok() ? OkStatus() : rule.status();
}

TEST(GraphRecurrence, Daily) {
  EXPECT_EQ(Rule(R"({"type":"daily","interval":1})"), "RRULE:FREQ=DAILY");
  EXPECT_EQ(Rule(R"({"type":"daily","interval":3})"), "RRULE:FREQ=DAILY;INTERVAL=3");
  // Graph sends interval 0 on patterns where it does not apply; it means 1.
  EXPECT_EQ(Rule(R"({"type":"daily","interval":0})"), "RRULE:FREQ=DAILY");
}

TEST(GraphRecurrence, WeeklyWithFirstDayOfWeek) {
  EXPECT_EQ(Rule(R"({"type":"weekly","interval":1,"month":0,"dayOfMonth":0,
                     "daysOfWeek":["monday"],"firstDayOfWeek":"sunday","index":"first"})"),
            "RRULE:FREQ=WEEKLY;BYDAY=MO;WKST=SU");
  EXPECT_EQ(Rule(R"({"type":"weekly","interval":2,"daysOfWeek":["Monday","wednesday","monday"],
                     "firstDayOfWeek":"monday"})"),
            "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;WKST=MO");
  EXPECT_EQ(Rule(R"({"type":"weekly","daysOfWeek":["friday"]})"),
            "RRULE:FREQ=WEEKLY;BYDAY=FR;WKST=SU");
}

TEST(GraphRecurrence, AbsoluteMonthly) {
  EXPECT_EQ(Rule(R"({"type":"absoluteMonthly","interval":1,"dayOfMonth":15})"),
            "RRULE:FREQ=MONTHLY;BYMONTHDAY=15");
  EXPECT_EQ(Rule(R"({"type":"absoluteMonthly","interval":6,"dayOfMonth":31})"),
            "RRULE:FREQ=MONTHLY;INTERVAL=6;BYMONTHDAY=31");
}

TEST(GraphRecurrence, RelativeMonthlyOneDayUsesOrdinalByDay) {
  EXPECT_EQ(Rule(R"({"type":"relativeMonthly","interval":1,"daysOfWeek":["tuesday"],
                     "index":"second"})"),
            "RRULE:FREQ=MONTHLY;BYDAY=2TU");
  EXPECT_EQ(Rule(R"({"type":"relativeMonthly","daysOfWeek":["friday"],"index":"last"})"),
            "RRULE:FREQ=MONTHLY;BYDAY=-1FR");
  EXPECT_EQ(Rule(R"({"type":"relativeMonthly","daysOfWeek":["monday"],"index":"fourth"})"),
            "RRULE:FREQ=MONTHLY;BYDAY=4MO");
  EXPECT_EQ(Rule(R"({"type":"relativeMonthly","daysOfWeek":["monday"]})"),
            "RRULE:FREQ=MONTHLY;BYDAY=1MO");
}

TEST(GraphRecurrence, RelativeMonthlySeveralDaysUsesSetPosition) {
  // "The last weekday of the month".
  EXPECT_EQ(Rule(R"({"type":"relativeMonthly","daysOfWeek":["monday","tuesday","wednesday",
                     "thursday","friday"],"index":"last"})"),
            "RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1");
}

TEST(GraphRecurrence, Yearly) {
  EXPECT_EQ(Rule(R"({"type":"absoluteYearly","interval":1,"month":8,"dayOfMonth":1})"),
            "RRULE:FREQ=YEARLY;BYMONTH=8;BYMONTHDAY=1");
  EXPECT_EQ(Rule(R"({"type":"relativeYearly","interval":2,"month":11,
                     "daysOfWeek":["thursday"],"index":"fourth"})"),
            "RRULE:FREQ=YEARLY;INTERVAL=2;BYMONTH=11;BYDAY=4TH");
}

TEST(GraphRecurrence, EndDateIsTheEndOfThatDayInTheRecurrenceZone) {
  // Zurich is UTC+2 in July and UTC+1 in January.
  EXPECT_EQ(Rule(R"({"type":"daily"})", R"({"type":"endDate","startDate":"2024-05-06",
                                            "endDate":"2024-07-01","numberOfOccurrences":0})"),
            "RRULE:FREQ=DAILY;UNTIL=20240701T215959Z");
  EXPECT_EQ(Rule(R"({"type":"daily"})", R"({"type":"endDate","endDate":"2025-01-10"})"),
            "RRULE:FREQ=DAILY;UNTIL=20250110T225959Z");
  Json recurrence = {{"pattern", J(R"({"type":"daily"})")},
                     {"range", J(R"({"type":"endDate","endDate":"2024-07-01"})")}};
  EXPECT_EQ(*GraphRecurrenceToRrule(recurrence, "America/New_York", false),
            "RRULE:FREQ=DAILY;UNTIL=20240702T035959Z");
  EXPECT_EQ(*GraphRecurrenceToRrule(recurrence, "", false),
            "RRULE:FREQ=DAILY;UNTIL=20240701T235959Z");
}

TEST(GraphRecurrence, AllDaySeriesEndOnADate) {
  EXPECT_EQ(Rule(R"({"type":"weekly","daysOfWeek":["monday"]})",
                 R"({"type":"endDate","endDate":"2024-07-01"})", /*all_day=*/true),
            "RRULE:FREQ=WEEKLY;BYDAY=MO;WKST=SU;UNTIL=20240701");
}

TEST(GraphRecurrence, NumberedAndNoEnd) {
  EXPECT_EQ(Rule(R"({"type":"daily"})", R"({"type":"numbered","numberOfOccurrences":10})"),
            "RRULE:FREQ=DAILY;COUNT=10");
  EXPECT_EQ(Rule(R"({"type":"daily"})", R"({"type":"noEnd","startDate":"2024-05-06"})"),
            "RRULE:FREQ=DAILY");
  Json no_range = {{"pattern", J(R"({"type":"daily"})")}};
  EXPECT_EQ(*GraphRecurrenceToRrule(no_range, "UTC", false), "RRULE:FREQ=DAILY");
}

TEST(GraphRecurrence, RulesExpandAsOutlookShowsThem) {
  // Second Tuesday of each month at 10:00 Zurich, 3 times, from 2024-05-14.
  const std::string rule =
      Rule(R"({"type":"relativeMonthly","daysOfWeek":["tuesday"],"index":"second"})",
           R"({"type":"numbered","numberOfOccurrences":3})");
  caltime::EventTime start;
  start.utc_ms = *caltime::ParseRfc3339("2024-05-14T10:00:00+02:00");
  start.time_zone = "Europe/Zurich";
  const auto slots =
      caltime::ExpandRecurrence(start, {rule}, 0, *caltime::ParseDate("2030-01-01"), 100);
  ASSERT_TRUE(slots.ok()) << slots.status().ToString();
  std::vector<std::string> dates;
  for (const auto& s : *slots)
    dates.push_back(*caltime::FormatRfc3339InZone(s.utc_ms, "Europe/Zurich"));
  EXPECT_EQ(dates,
            (std::vector<std::string>{"2024-05-14T10:00:00+02:00", "2024-06-11T10:00:00+02:00",
                                      "2024-07-09T10:00:00+02:00"}));
}

TEST(GraphRecurrence, ZoneFromRangeOrFallback) {
  EXPECT_EQ(*GraphRecurrenceZone(J(R"({"range":{"recurrenceTimeZone":"W. Europe Standard Time"}})"),
                                 "UTC"),
            "Europe/Berlin");
  EXPECT_EQ(*GraphRecurrenceZone(J(R"({"range":{"recurrenceTimeZone":"Europe/Zurich"}})"), "UTC"),
            "Europe/Zurich");
  EXPECT_EQ(*GraphRecurrenceZone(J(R"({"range":{"recurrenceTimeZone":"Mars/Olympus"}})"), "UTC"),
            "UTC");
  EXPECT_EQ(*GraphRecurrenceZone(J(R"({"range":{"recurrenceTimeZone":null}})"), "Asia/Tokyo"),
            "Asia/Tokyo");
  EXPECT_EQ(*GraphRecurrenceZone(J(R"({})"), "Asia/Tokyo"), "Asia/Tokyo");
  EXPECT_FALSE(GraphRecurrenceZone(J(R"({"range":{"recurrenceTimeZone":7}})"), "UTC").ok());
  EXPECT_FALSE(GraphRecurrenceZone(J(R"({"range":[]})"), "UTC").ok());
  EXPECT_FALSE(GraphRecurrenceZone(J(R"([])"), "UTC").ok());
}

struct BadCase {
  const char* recurrence;
  const char* field;
};

TEST(GraphRecurrence, HostileInputNamesTheField) {
  const BadCase cases[] = {
      {R"([])", "recurrence"},
      {R"("weekly")", "recurrence"},
      {R"({})", "recurrence.pattern"},
      {R"({"pattern":[]})", "recurrence.pattern"},
      {R"({"pattern":{}})", "pattern.type"},
      {R"({"pattern":{"type":7}})", "pattern.type"},
      {R"({"pattern":{"type":"hourly"}})", "pattern.type"},
      {R"({"pattern":{"type":"daily","interval":"2"}})", "pattern.interval"},
      {R"({"pattern":{"type":"daily","interval":-1}})", "pattern.interval"},
      {R"({"pattern":{"type":"daily","interval":1e9}})", "pattern.interval"},
      {R"({"pattern":{"type":"daily","interval":18446744073709551615}})", "pattern.interval"},
      {R"({"pattern":{"type":"weekly"}})", "pattern.daysOfWeek"},
      {R"({"pattern":{"type":"weekly","daysOfWeek":"monday"}})", "pattern.daysOfWeek"},
      {R"({"pattern":{"type":"weekly","daysOfWeek":[1]}})", "pattern.daysOfWeek"},
      {R"({"pattern":{"type":"weekly","daysOfWeek":["moonday"]}})", "pattern.daysOfWeek"},
      {R"({"pattern":{"type":"weekly","daysOfWeek":["monday"],"firstDayOfWeek":"x"}})",
       "pattern.firstDayOfWeek"},
      {R"({"pattern":{"type":"weekly","daysOfWeek":["monday"],"firstDayOfWeek":{}}})",
       "pattern.firstDayOfWeek"},
      {R"({"pattern":{"type":"absoluteMonthly"}})", "pattern.dayOfMonth"},
      {R"({"pattern":{"type":"absoluteMonthly","dayOfMonth":0}})", "pattern.dayOfMonth"},
      {R"({"pattern":{"type":"absoluteMonthly","dayOfMonth":32}})", "pattern.dayOfMonth"},
      {R"({"pattern":{"type":"relativeMonthly","daysOfWeek":["monday"],"index":"fifth"}})",
       "pattern.index"},
      {R"({"pattern":{"type":"relativeMonthly","daysOfWeek":["monday"],"index":1}})",
       "pattern.index"},
      {R"({"pattern":{"type":"absoluteYearly","month":13,"dayOfMonth":1}})", "pattern.month"},
      {R"({"pattern":{"type":"absoluteYearly","month":0,"dayOfMonth":1}})", "pattern.month"},
      {R"({"pattern":{"type":"relativeYearly","month":3}})", "pattern.daysOfWeek"},
      {R"({"pattern":{"type":"daily"},"range":"noEnd"})", "recurrence.range"},
      {R"({"pattern":{"type":"daily"},"range":{"type":"forever"}})", "range.type"},
      {R"({"pattern":{"type":"daily"},"range":{"type":"endDate"}})", "range.endDate"},
      {R"({"pattern":{"type":"daily"},"range":{"type":"endDate","endDate":"2024-02-30"}})",
       "range.endDate"},
      {R"({"pattern":{"type":"daily"},"range":{"type":"endDate","endDate":20240701}})",
       "range.endDate"},
      {R"({"pattern":{"type":"daily"},"range":{"type":"numbered"}})", "range.numberOfOccurrences"},
      {R"({"pattern":{"type":"daily"},"range":{"type":"numbered","numberOfOccurrences":0}})",
       "range.numberOfOccurrences"},
      {R"({"pattern":{"type":"daily"},"range":{"type":"numbered","numberOfOccurrences":2.5}})",
       "range.numberOfOccurrences"},
  };
  for (const BadCase& c : cases) {
    const Status status = RuleError(J(c.recurrence));
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << c.recurrence;
    EXPECT_THAT(status.message(), HasSubstr(c.field)) << c.recurrence;
  }
}

TEST(GraphRecurrence, HugeStringsAreRefused) {
  Json recurrence = {{"pattern", {{"type", std::string(100'000, 'd')}}}};
  EXPECT_THAT(RuleError(recurrence).message(), HasSubstr("longer than"));
  recurrence = {{"pattern", {{"type", "weekly"}, {"daysOfWeek", Json::array()}}}};
  for (int i = 0; i < 100; ++i) recurrence["pattern"]["daysOfWeek"].push_back("monday");
  EXPECT_THAT(RuleError(recurrence).message(), HasSubstr("too many"));
}

}  // namespace
}  // namespace sb::sync::calendar

namespace sb::sync::calendar {
namespace {

// Graph patterns through an RRULE and back: the same pattern and range.
TEST(RruleToGraphRecurrence, RoundTripsEveryPatternGraphWrites) {
  const char* cases[] = {
      R"j({"pattern": {"type": "daily", "interval": 2}, "range": {"type": "noEnd"}})j",
      R"j({"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "thursday"],
           "firstDayOfWeek": "monday"}, "range": {"type": "numbered", "numberOfOccurrences": 10}})j",
      R"j({"pattern": {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 15},
           "range": {"type": "endDate", "endDate": "2027-12-31"}})j",
      R"j({"pattern": {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["friday"],
           "index": "last"}, "range": {"type": "noEnd"}})j",
      R"j({"pattern": {"type": "relativeMonthly", "interval": 3, "daysOfWeek": ["monday",
           "tuesday"], "index": "second"}, "range": {"type": "noEnd"}})j",
      R"j({"pattern": {"type": "absoluteYearly", "interval": 1, "month": 3, "dayOfMonth": 27},
           "range": {"type": "noEnd"}})j",
      R"j({"pattern": {"type": "relativeYearly", "interval": 1, "month": 11,
           "daysOfWeek": ["thursday"], "index": "fourth"}, "range": {"type": "numbered",
           "numberOfOccurrences": 5}})j",
  };
  for (const char* zone : {"Asia/Tokyo", "America/Los_Angeles", "UTC"}) {
    for (const char* text : cases) {
      const Json graph = Json::parse(text);
      auto rule = GraphRecurrenceToRrule(graph, zone, false);
      ASSERT_TRUE(rule.ok()) << text;
      auto back = RruleToGraphRecurrence(*rule, "2027-01-15", zone);
      ASSERT_TRUE(back.ok()) << *rule << " " << back.status().ToString();
      const Json& p = (*back)["pattern"];
      for (const auto& [name, value] : graph["pattern"].items()) {
        EXPECT_EQ(p[name], value) << *rule << " " << name;
      }
      const Json& r = (*back)["range"];
      EXPECT_EQ(r["type"], graph["range"]["type"]) << *rule;
      EXPECT_EQ(r["recurrenceTimeZone"], zone);
      EXPECT_EQ(r["startDate"], "2027-01-15");
      if (graph["range"].contains("endDate")) {
        EXPECT_EQ(r["endDate"], "2027-12-31") << *rule;
      }
      if (graph["range"].contains("numberOfOccurrences")) {
        EXPECT_EQ(r["numberOfOccurrences"], graph["range"]["numberOfOccurrences"]);
      }
    }
  }
}

TEST(RruleToGraphRecurrence, DefaultsFollowTheStartDate) {
  auto weekly = RruleToGraphRecurrence("RRULE:FREQ=WEEKLY", "2027-01-12", "UTC");  // a Tuesday
  ASSERT_TRUE(weekly.ok()) << weekly.status().ToString();
  EXPECT_EQ((*weekly)["pattern"]["daysOfWeek"], Json::array({"tuesday"}));
  auto monthly = RruleToGraphRecurrence("RRULE:FREQ=MONTHLY", "2027-01-12", "UTC");
  ASSERT_TRUE(monthly.ok());
  EXPECT_EQ((*monthly)["pattern"]["type"], "absoluteMonthly");
  EXPECT_EQ((*monthly)["pattern"]["dayOfMonth"], 12);
  auto yearly = RruleToGraphRecurrence("rrule:freq=YEARLY", "2027-03-05", "UTC");
  ASSERT_TRUE(yearly.ok());
  EXPECT_EQ((*yearly)["pattern"]["month"], 3);
  EXPECT_EQ((*yearly)["pattern"]["dayOfMonth"], 5);
  // UNTIL in UTC is the local date in the series' zone: 2027-06-30T20:00Z is July 1 in Tokyo.
  auto until =
      RruleToGraphRecurrence("RRULE:FREQ=DAILY;UNTIL=20270630T200000Z", "2027-01-12", "Asia/Tokyo");
  ASSERT_TRUE(until.ok());
  EXPECT_EQ((*until)["range"]["endDate"], "2027-07-01");
}

TEST(RruleToGraphRecurrence, RefusesWhatGraphCannotExpress) {
  const std::string too_long = "RRULE:FREQ=DAILY;X-A=" + std::string(2000, 'a');
  const char* bad[] = {"RRULE:FREQ=HOURLY",
                       "RRULE:FREQ=DAILY;BYHOUR=9",
                       "RRULE:FREQ=DAILY;COUNT=3;UNTIL=20270101",
                       "RRULE:FREQ=DAILY;INTERVAL=0",
                       "RRULE:FREQ=DAILY;COUNT=0",
                       "RRULE:FREQ=DAILY;FREQ=DAILY",
                       "RRULE:FREQ=MONTHLY;BYMONTHDAY=1,15",
                       "RRULE:FREQ=MONTHLY;BYDAY=2TU;BYSETPOS=1",
                       "RRULE:FREQ=WEEKLY;BYDAY=XX",
                       "RRULE:FREQ=DAILY;UNTIL=2027",
                       "EXDATE:20270101",
                       "RRULE:",
                       "",
                       "garbage"};
  for (const char* line : bad) {
    auto r = RruleToGraphRecurrence(line, "2027-01-12", "UTC");
    EXPECT_FALSE(r.ok()) << line;
  }
  EXPECT_FALSE(RruleToGraphRecurrence(too_long, "2027-01-12", "UTC").ok());
  EXPECT_FALSE(RruleToGraphRecurrence("RRULE:FREQ=DAILY", "2027-13-45", "UTC").ok());
  EXPECT_FALSE(RruleToGraphRecurrence("RRULE:FREQ=DAILY", "2027-01-12", "Mars/Base").ok());
}

}  // namespace
}  // namespace sb::sync::calendar
