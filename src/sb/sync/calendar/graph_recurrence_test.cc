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

// ---- RruleToGraphRecurrence ----

// A Graph pattern: the members Graph always sends, overridden by `members`.
Json Pattern(const char* members) {
  Json pattern = J(R"({"interval":1,"month":0,"dayOfMonth":0,"daysOfWeek":[],
                       "firstDayOfWeek":"sunday","index":"first"})");
  pattern.update(J(members));
  return pattern;
}

// The recurrence of a rule for a series from Tuesday 2024-05-14 (unless given) in `zone`.
Json Graph(const std::string& rule, const char* start_date = "2024-05-14",
           const char* zone = "Europe/Zurich") {
  Result<Json> recurrence = RruleToGraphRecurrence(rule, start_date, zone);
  EXPECT_TRUE(recurrence.ok()) << rule << ": " << recurrence.status().ToString();
  return recurrence.ok() ? *recurrence : Json::object();
}

Json GraphPattern(const std::string& rule, const char* start_date = "2024-05-14") {
  return Graph(rule, start_date).value("pattern", Json());
}

Json GraphRange(const std::string& rule, const char* zone) {
  return Graph(rule, "2024-05-14", zone).value("range", Json());
}

TEST(RruleToGraphRecurrence, Daily) {
  EXPECT_EQ(Graph("RRULE:FREQ=DAILY"),
            J(R"({"pattern":{"type":"daily","interval":1,"month":0,"dayOfMonth":0,
                             "daysOfWeek":[],"firstDayOfWeek":"sunday","index":"first"},
                  "range":{"type":"noEnd","startDate":"2024-05-14",
                           "recurrenceTimeZone":"Europe/Zurich"}})"));
  // Names and values are case-insensitive.
  EXPECT_EQ(GraphPattern("rrule:freq=daily;Interval=3"),
            Pattern(R"({"type":"daily","interval":3})"));
}

TEST(RruleToGraphRecurrence, WeeklyDaysDefaultToTheStartsWeekday) {
  EXPECT_EQ(GraphPattern("RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,MO;WKST=MO"),
            Pattern(R"({"type":"weekly","interval":2,"daysOfWeek":["monday","wednesday"],
                        "firstDayOfWeek":"monday"})"));
  EXPECT_EQ(GraphPattern("RRULE:FREQ=WEEKLY"),
            Pattern(R"({"type":"weekly","daysOfWeek":["tuesday"]})"));
  EXPECT_EQ(GraphPattern("RRULE:FREQ=WEEKLY", "2024-05-12"),
            Pattern(R"({"type":"weekly","daysOfWeek":["sunday"]})"));
  EXPECT_EQ(GraphPattern("RRULE:FREQ=WEEKLY", "1969-12-31"),
            Pattern(R"({"type":"weekly","daysOfWeek":["wednesday"]})"));
  EXPECT_EQ(GraphPattern("RRULE:FREQ=WEEKLY", "0001-01-01"),
            Pattern(R"({"type":"weekly","daysOfWeek":["monday"]})"));
}

TEST(RruleToGraphRecurrence, DailyOnWeekdaysIsWeekly) {
  EXPECT_EQ(GraphPattern("RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR"),
            Pattern(R"({"type":"weekly","daysOfWeek":["monday","tuesday","wednesday",
                        "thursday","friday"]})"));
}

TEST(RruleToGraphRecurrence, AbsoluteMonthly) {
  EXPECT_EQ(GraphPattern("RRULE:FREQ=MONTHLY;BYMONTHDAY=15"),
            Pattern(R"({"type":"absoluteMonthly","dayOfMonth":15})"));
  EXPECT_EQ(GraphPattern("RRULE:FREQ=MONTHLY;INTERVAL=6"),
            Pattern(R"({"type":"absoluteMonthly","interval":6,"dayOfMonth":14})"));
}

TEST(RruleToGraphRecurrence, RelativeMonthly) {
  EXPECT_EQ(GraphPattern("RRULE:FREQ=MONTHLY;BYDAY=2TU"),
            Pattern(R"({"type":"relativeMonthly","daysOfWeek":["tuesday"],"index":"second"})"));
  EXPECT_EQ(GraphPattern("RRULE:FREQ=MONTHLY;BYDAY=-1FR"),
            Pattern(R"({"type":"relativeMonthly","daysOfWeek":["friday"],"index":"last"})"));
  EXPECT_EQ(GraphPattern("RRULE:FREQ=MONTHLY;BYDAY=+1MO"),
            Pattern(R"({"type":"relativeMonthly","daysOfWeek":["monday"],"index":"first"})"));
  EXPECT_EQ(GraphPattern("RRULE:FREQ=MONTHLY;BYDAY=3TH"),
            Pattern(R"({"type":"relativeMonthly","daysOfWeek":["thursday"],"index":"third"})"));
  EXPECT_EQ(GraphPattern("RRULE:FREQ=MONTHLY;BYDAY=4SA"),
            Pattern(R"({"type":"relativeMonthly","daysOfWeek":["saturday"],"index":"fourth"})"));
  EXPECT_EQ(GraphPattern("RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"),
            Pattern(R"({"type":"relativeMonthly","daysOfWeek":["monday","tuesday",
                        "wednesday","thursday","friday"],"index":"last"})"));
  EXPECT_EQ(GraphPattern("RRULE:FREQ=MONTHLY;BYSETPOS=2;BYDAY=SA,SU"),
            Pattern(R"({"type":"relativeMonthly","daysOfWeek":["saturday","sunday"],
                        "index":"second"})"));
}

TEST(RruleToGraphRecurrence, Yearly) {
  EXPECT_EQ(GraphPattern("RRULE:FREQ=YEARLY;BYMONTH=8;BYMONTHDAY=1"),
            Pattern(R"({"type":"absoluteYearly","month":8,"dayOfMonth":1})"));
  EXPECT_EQ(GraphPattern("RRULE:FREQ=YEARLY;INTERVAL=2;BYMONTH=11;BYDAY=4TH"),
            Pattern(R"({"type":"relativeYearly","interval":2,"month":11,
                        "daysOfWeek":["thursday"],"index":"fourth"})"));
  EXPECT_EQ(GraphPattern("RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=MO,FR;BYSETPOS=-1"),
            Pattern(R"({"type":"relativeYearly","month":3,"daysOfWeek":["monday","friday"],
                        "index":"last"})"));
  EXPECT_EQ(GraphPattern("RRULE:FREQ=YEARLY"),
            Pattern(R"({"type":"absoluteYearly","month":5,"dayOfMonth":14})"));
  EXPECT_EQ(GraphPattern("RRULE:FREQ=YEARLY;BYMONTH=3"),
            Pattern(R"({"type":"absoluteYearly","month":3,"dayOfMonth":14})"));
  EXPECT_EQ(GraphPattern("RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"),
            Pattern(R"({"type":"absoluteYearly","month":2,"dayOfMonth":29})"));
}

TEST(RruleToGraphRecurrence, Ranges) {
  EXPECT_EQ(GraphRange("RRULE:FREQ=DAILY;COUNT=10", "Asia/Tokyo"),
            J(R"({"type":"numbered","numberOfOccurrences":10,"startDate":"2024-05-14",
                  "recurrenceTimeZone":"Asia/Tokyo"})"));
  EXPECT_EQ(GraphRange("RRULE:FREQ=DAILY;UNTIL=20240701", "Asia/Tokyo"),
            J(R"({"type":"endDate","endDate":"2024-07-01","startDate":"2024-05-14",
                  "recurrenceTimeZone":"Asia/Tokyo"})"));
  EXPECT_EQ(GraphRange("RRULE:FREQ=DAILY", "America/Los_Angeles"),
            J(R"({"type":"noEnd","startDate":"2024-05-14",
                  "recurrenceTimeZone":"America/Los_Angeles"})"));
}

TEST(RruleToGraphRecurrence, UtcUntilIsItsLocalDateInTheZone) {
  const auto end_date = [](const char* until, const char* zone) {
    return GraphRange(std::string("RRULE:FREQ=DAILY;UNTIL=") + until, zone).value("endDate", "");
  };
  // 2024-07-01 15:30 UTC is July 2nd 00:30 in Tokyo (UTC+9), July 1st 08:30 in Los Angeles
  // (UTC-7).
  EXPECT_EQ(end_date("20240701T153000Z", "Asia/Tokyo"), "2024-07-02");
  EXPECT_EQ(end_date("20240701T153000Z", "America/Los_Angeles"), "2024-07-01");
  EXPECT_EQ(end_date("20240701T053000Z", "America/Los_Angeles"), "2024-06-30");
  EXPECT_EQ(end_date("20240701T053000Z", "UTC"), "2024-07-01");
  // Winter: Zurich is UTC+1.
  EXPECT_EQ(end_date("20250110T225959Z", "Europe/Zurich"), "2025-01-10");
  EXPECT_EQ(end_date("20250110T230000Z", "Europe/Zurich"), "2025-01-11");
}

// A series split at an occurrence ends a second before it: Graph's date-only range must not
// take that day's occurrence (09:00 Zurich) when UNTIL falls earlier in the day.
TEST(RruleToGraphRecurrence, UntilBeforeTheSeriesTimeEndsTheDayBefore) {
  const auto end_date = [](const char* start) {
    auto r =
        RruleToGraphRecurrence("RRULE:FREQ=WEEKLY;UNTIL=20270202T075959Z", start, "Europe/Zurich");
    return r.ok() ? (*r)["range"].value("endDate", "") : r.status().ToString();
  };
  EXPECT_EQ(end_date("2027-01-12T09:00:00.0000000"), "2027-02-01");
  EXPECT_EQ(end_date("2027-01-12T08:00:00.0000000"), "2027-02-02");
  EXPECT_EQ(end_date("2027-01-12"), "2027-02-02");
}

struct RoundTrip {
  const char* pattern;
  const char* range;
  const char* zone;
  bool all_day = false;
};

TEST(RruleToGraphRecurrence, InvertsGraphRecurrenceToRrule) {
  const RoundTrip cases[] = {
      {R"({"type":"daily"})", R"({"type":"noEnd"})", "Europe/Zurich"},
      {R"({"type":"daily","interval":3})", R"({"type":"numbered","numberOfOccurrences":10})",
       "Europe/Zurich"},
      {R"({"type":"weekly","interval":2,"daysOfWeek":["monday","wednesday","friday"],
           "firstDayOfWeek":"monday"})",
       R"({"type":"endDate","endDate":"2024-12-20"})", "Asia/Tokyo"},
      {R"({"type":"weekly","daysOfWeek":["sunday","saturday"],"firstDayOfWeek":"saturday"})",
       R"({"type":"endDate","endDate":"2024-12-20"})", "America/Los_Angeles"},
      {R"({"type":"weekly","daysOfWeek":["monday"]})",
       R"({"type":"endDate","endDate":"2024-07-01"})", "Asia/Tokyo", /*all_day=*/true},
      {R"({"type":"weekly","daysOfWeek":["thursday"]})",
       R"({"type":"endDate","endDate":"2025-03-09"})", "America/Los_Angeles", true},
      {R"({"type":"absoluteMonthly","interval":6,"dayOfMonth":31})", R"({"type":"noEnd"})",
       "Europe/Zurich"},
      {R"({"type":"relativeMonthly","daysOfWeek":["tuesday"],"index":"second"})",
       R"({"type":"numbered","numberOfOccurrences":3})", "Europe/Zurich"},
      {R"({"type":"relativeMonthly","daysOfWeek":["friday"],"index":"last"})",
       R"({"type":"endDate","endDate":"2025-01-31"})", "America/Los_Angeles"},
      {R"({"type":"relativeMonthly","daysOfWeek":["monday","tuesday","wednesday","thursday",
           "friday"],"index":"last"})",
       R"({"type":"noEnd"})", "Asia/Tokyo"},
      {R"({"type":"absoluteYearly","month":2,"dayOfMonth":29})",
       R"({"type":"endDate","endDate":"2032-02-29"})", "America/Los_Angeles"},
      {R"({"type":"relativeYearly","interval":2,"month":11,"daysOfWeek":["thursday"],
           "index":"fourth"})",
       R"({"type":"numbered","numberOfOccurrences":10000})", "Asia/Tokyo"},
      // The far ends of local time: UTC+14 and UTC-11.
      {R"({"type":"daily"})", R"({"type":"endDate","endDate":"2024-07-01"})", "Pacific/Kiritimati"},
      {R"({"type":"daily"})", R"({"type":"endDate","endDate":"2024-07-01"})", "Pacific/Pago_Pago"},
  };
  for (const RoundTrip& c : cases) {
    Json range = J(c.range);
    range["startDate"] = "2024-05-14";
    range["recurrenceTimeZone"] = c.zone;
    const Json recurrence = {{"pattern", Pattern(c.pattern)}, {"range", range}};
    const Result<std::string> rule = GraphRecurrenceToRrule(recurrence, c.zone, c.all_day);
    ASSERT_TRUE(rule.ok()) << rule.status().ToString();
    const Result<Json> back = RruleToGraphRecurrence(*rule, "2024-05-14", c.zone);
    ASSERT_TRUE(back.ok()) << *rule << ": " << back.status().ToString();
    EXPECT_EQ(*back, recurrence) << *rule;
  }
}

struct BadRule {
  std::string rule;
  const char* part;
};

TEST(RruleToGraphRecurrence, RefusesWhatGraphCannotExpressNamingThePart) {
  const BadRule cases[] = {
      {"RRULE:FREQ=HOURLY", "FREQ"},
      {"RRULE:FREQ=SECONDLY;BYDAY=MO", "FREQ"},
      {"RRULE:FREQ=FORTNIGHTLY", "FREQ"},
      {"RRULE:INTERVAL=2", "FREQ"},
      {"RRULE:FREQ=DAILY;BYHOUR=9", "BYHOUR"},
      {"RRULE:FREQ=DAILY;BYMINUTE=30", "BYMINUTE"},
      {"RRULE:FREQ=DAILY;BYSECOND=0", "BYSECOND"},
      {"RRULE:FREQ=YEARLY;BYWEEKNO=20", "BYWEEKNO"},
      {"RRULE:FREQ=YEARLY;BYYEARDAY=100", "BYYEARDAY"},
      {"RRULE:FREQ=DAILY;COUNT=3;UNTIL=20240701", "COUNT"},
      {"RRULE:FREQ=DAILY;INTERVAL=0", "INTERVAL"},
      {"RRULE:FREQ=DAILY;INTERVAL=1001", "INTERVAL"},
      {"RRULE:FREQ=DAILY;INTERVAL=-1", "INTERVAL"},
      {"RRULE:FREQ=DAILY;INTERVAL=+2", "INTERVAL"},
      {"RRULE:FREQ=DAILY;INTERVAL=99999999999999999999", "INTERVAL"},
      {"RRULE:FREQ=DAILY;INTERVAL=two", "INTERVAL"},
      {"RRULE:FREQ=DAILY;COUNT=0", "COUNT"},
      {"RRULE:FREQ=DAILY;COUNT=10001", "COUNT"},
      {"RRULE:FREQ=MONTHLY;BYMONTHDAY=1,15", "BYMONTHDAY"},
      {"RRULE:FREQ=MONTHLY;BYMONTHDAY=-1", "BYMONTHDAY"},
      {"RRULE:FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY"},
      {"RRULE:FREQ=MONTHLY;BYMONTHDAY=1;BYDAY=MO", "BYMONTHDAY"},
      {"RRULE:FREQ=MONTHLY;BYMONTHDAY=1;BYSETPOS=1", "BYSETPOS"},
      {"RRULE:FREQ=MONTHLY;BYDAY=2TU;BYSETPOS=2", "BYSETPOS"},
      {"RRULE:FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=1,2", "BYSETPOS"},
      {"RRULE:FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=-2", "BYSETPOS"},
      {"RRULE:FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=5", "BYSETPOS"},
      {"RRULE:FREQ=MONTHLY;BYDAY=1MO,3MO", "BYDAY"},
      {"RRULE:FREQ=MONTHLY;BYDAY=MO,2TU", "BYDAY"},
      {"RRULE:FREQ=MONTHLY;BYDAY=MO", "BYDAY"},
      {"RRULE:FREQ=MONTHLY;BYDAY=5MO", "BYDAY"},
      {"RRULE:FREQ=MONTHLY;BYDAY=-2MO", "BYDAY"},
      {"RRULE:FREQ=MONTHLY;BYDAY=0MO", "BYDAY"},
      {"RRULE:FREQ=MONTHLY;BYDAY=2XX", "BYDAY"},
      {"RRULE:FREQ=WEEKLY;BYDAY=MO,,TU", "BYDAY"},
      {"RRULE:FREQ=WEEKLY;BYDAY=1MO", "BYDAY"},
      {"RRULE:FREQ=DAILY;INTERVAL=2;BYDAY=MO,TU", "BYDAY"},
      {"RRULE:FREQ=WEEKLY;BYMONTHDAY=3", "BYMONTHDAY"},
      {"RRULE:FREQ=WEEKLY;BYSETPOS=1;BYDAY=MO", "BYSETPOS"},
      {"RRULE:FREQ=DAILY;BYMONTH=3", "BYMONTH"},
      {"RRULE:FREQ=MONTHLY;BYMONTH=3", "BYMONTH"},
      {"RRULE:FREQ=MONTHLY;BYSETPOS=1", "BYSETPOS"},
      {"RRULE:FREQ=YEARLY;BYMONTH=3,4", "BYMONTH"},
      {"RRULE:FREQ=YEARLY;BYMONTH=13", "BYMONTH"},
      {"RRULE:FREQ=YEARLY;BYMONTHDAY=3", "BYMONTH"},
      {"RRULE:FREQ=YEARLY;BYDAY=1MO", "BYMONTH"},
      {"RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "BYMONTHDAY"},
      {"RRULE:FREQ=DAILY;FREQ=WEEKLY", "FREQ"},
      {"RRULE:FREQ=DAILY;count=2;COUNT=2", "COUNT"},
      {"RRULE:FREQ=DAILY;X-NAME=1", "X-NAME"},
      {"RRULE:FREQ=DAILY;RDATE=20240701", "RDATE"},
      {"RRULE:FREQ=", "FREQ"},
      {"RRULE:FREQ=DAILY;WKST=XX", "WKST"},
      {"RRULE:FREQ=DAILY;UNTIL=2024-07-01", "UNTIL"},
      {"RRULE:FREQ=DAILY;UNTIL=20240230", "UNTIL"},
      {"RRULE:FREQ=DAILY;UNTIL=2024070A", "UNTIL"},
      {"RRULE:FREQ=DAILY;UNTIL=20240701T250000Z", "UNTIL"},
      {"RRULE:FREQ=DAILY;UNTIL=20240701T12:000Z", "UNTIL"},
      {"RRULE:FREQ=DAILY;UNTIL=20240701T120000", "UNTIL"},
      {"RRULE:FREQ=DAILY;", "RRULE"},
      {"RRULE:FREQ=DAILY;=DAILY", "RRULE"},
      {"RRULE:FREQ", "RRULE"},
      {"RRULE:", "RRULE"},
      {"RRULE", "RRULE"},
      {"EXRULE:FREQ=DAILY", "RRULE"},
      {" RRULE:FREQ=DAILY", "RRULE"},
      {"garbage", "RRULE"},
      {"", "RRULE"},
      {std::string("RRULE:FREQ=DAILY\0;COUNT=2", 26), "FREQ"},
      {"RRULE:FREQ=DAILY;\xff\xfe=1", "RRULE ??"},
      {"RRULE:FREQ=DAILY;INTERVAL=" + std::string(2000, '1'), "longer than 1024"},
      {"RRULE:FREQ=DAILY;X=" + std::string(1006, 'x'), "longer than 1024"},
  };
  for (const BadRule& c : cases) {
    const Result<Json> recurrence = RruleToGraphRecurrence(c.rule, "2024-05-14", "Europe/Zurich");
    ASSERT_FALSE(recurrence.ok()) << c.rule << " -> " << recurrence->dump();
    EXPECT_EQ(recurrence.status().code(), StatusCode::kInvalidArgument) << c.rule;
    EXPECT_THAT(recurrence.status().message(), HasSubstr(c.part)) << c.rule;
  }
}

TEST(RruleToGraphRecurrence, LongestAcceptedLineIs1024Bytes) {
  std::string rule = "RRULE:FREQ=WEEKLY;BYDAY=MO";
  while (rule.size() < 1024) rule += ",MO";
  rule.resize(1024);  // ends in ",MO" or ",M" or ","
  while (rule.back() != 'O') rule.pop_back();
  EXPECT_TRUE(RruleToGraphRecurrence(rule, "2024-05-14", "UTC").ok());
}

TEST(RruleToGraphRecurrence, RefusesABadStartDateOrZone) {
  const auto code = [](const char* start_date, const char* zone) {
    return RruleToGraphRecurrence("RRULE:FREQ=DAILY", start_date, zone).status();
  };
  EXPECT_THAT(code("2024-02-30", "UTC").message(), HasSubstr("start_date"));
  EXPECT_THAT(code("20240514", "UTC").message(), HasSubstr("start_date"));
  EXPECT_THAT(code("", "UTC").message(), HasSubstr("start_date"));
  EXPECT_THAT(code("2024-05-14", "Mars/Olympus").message(), HasSubstr("zone"));
  EXPECT_THAT(code("2024-05-14", "").message(), HasSubstr("zone"));
  EXPECT_THAT(code("2024-05-14", "W. Europe Standard Time").message(), HasSubstr("zone"));
}

TEST(RruleToGraphRecurrence, ExtremeUntilIsAValidDateOrRefused) {
  for (const char* zone : {"America/Los_Angeles", "Asia/Tokyo", "Pacific/Kiritimati"}) {
    for (const char* until : {"00010101T000000Z", "99991231T235959Z", "00010101", "99991231"}) {
      const Result<Json> recurrence = RruleToGraphRecurrence(
          std::string("RRULE:FREQ=DAILY;UNTIL=") + until, "2024-05-14", zone);
      if (!recurrence.ok()) {
        EXPECT_THAT(recurrence.status().message(), HasSubstr("UNTIL"));
        continue;
      }
      const std::string end_date = (*recurrence)["range"].value("endDate", "");
      EXPECT_TRUE(caltime::ParseDate(end_date).ok()) << zone << " " << until << ": " << end_date;
    }
  }
}

TEST(RruleToGraphRecurrence, EveryPrefixOfARuleIsAnswered) {
  // Truncated lines, as a hostile or broken store could hold: a result or INVALID_ARGUMENT.
  const std::string rules[] = {
      "RRULE:FREQ=MONTHLY;INTERVAL=2;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;UNTIL=20240701T215959Z",
      "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=-1TH;COUNT=12;WKST=MO",
  };
  int accepted = 0;
  for (const std::string& rule : rules) {
    for (size_t size = 0; size <= rule.size(); ++size) {
      const Result<Json> recurrence =
          RruleToGraphRecurrence(rule.substr(0, size), "2024-05-14", "Asia/Tokyo");
      if (recurrence.ok()) {
        ++accepted;
      } else {
        EXPECT_EQ(recurrence.status().code(), StatusCode::kInvalidArgument) << size;
      }
    }
  }
  EXPECT_GT(accepted, 4);
}

}  // namespace
}  // namespace sb::sync::calendar
