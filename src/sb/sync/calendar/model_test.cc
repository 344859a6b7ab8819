// The model's JSON, spans, and a sweep of wrong-typed members through every reader.
#include "sb/sync/calendar/model.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sb/caltime/caltime.h"

namespace sb::sync::calendar {
namespace {

using ::testing::HasSubstr;

Json J(const char* text) { return Json::parse(text); }

int64_t Ms(const char* rfc3339) { return *caltime::ParseRfc3339(rfc3339); }

// The seed corpus of the fuzzer: real-shaped items, byte 0 naming the reader.
std::vector<std::pair<int, Json>> Corpus() {
  std::vector<std::pair<int, Json>> out;
  for (const auto& entry : std::filesystem::directory_iterator(SB_CALENDAR_FUZZ_CORPUS_DIR)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    const std::string bytes = text.str();
    if (bytes.empty()) continue;
    out.emplace_back(bytes[0], Json::parse(bytes.substr(1)));
  }
  return out;
}

Event Timed() {
  Event e;
  e.provider_id = "ev1";
  e.start = {Ms("2024-05-06T08:00:00Z"), "", "Europe/Zurich"};
  e.end = {Ms("2024-05-06T08:30:00Z"), "", "Europe/Zurich"};
  return e;
}

Event AllDay(const char* start, const char* end) {
  Event e;
  e.provider_id = "ad1";
  e.all_day = true;
  e.start = {std::nullopt, start, ""};
  e.end = {std::nullopt, end, ""};
  return e;
}

// Events that use every member and every enum value.
std::vector<Event> ManyEvents() {
  std::vector<Event> out;
  out.push_back(Timed());
  out.push_back(AllDay("2024-05-06", "2024-05-08"));
  Event full = Timed();
  full.version = "\"3412345678901000\"";
  full.ical_uid = "uid@google.com";
  full.kind = EventKind::kException;
  full.series_master_provider_id = "master";
  full.original_start = EventTime{Ms("2024-05-13T08:00:00.001Z"), "", "Europe/Zurich"};
  full.status = EventStatus::kTentative;
  full.title = "Grüße 佐藤 \"quoted\" \\ /";
  full.description_html = "<p>a &amp; b</p>";
  full.description_text = "a & b\n";
  full.location = "Bahnhofstrasse 1, 8001 Zürich";
  full.transparency = Transparency::kTransparent;
  full.visibility = Visibility::kConfidential;
  full.organizer_email = "alice@example.com";
  full.organizer_name = "Alice";
  full.attendees = {{"a@x", "A", ResponseStatus::kAccepted, true, true, true, true},
                    {"b@x", "", ResponseStatus::kDeclined},
                    {"c@x", "C", ResponseStatus::kTentative},
                    {"", "", ResponseStatus::kNeedsAction}};
  full.conference_url = "https://meet.google.com/abc";
  full.reminders_use_default = false;
  full.reminders = {{"popup", 10}, {"email", 0}};
  full.created_ms = Ms("1969-07-20T20:17:40.999Z");
  full.updated_ms = Ms("9999-12-31T23:59:59.999Z");
  out.push_back(full);
  Event master = Timed();
  master.kind = EventKind::kSeriesMaster;
  master.recurrence = {"RRULE:FREQ=WEEKLY;BYDAY=MO", "EXDATE;TZID=Europe/Zurich:20240520T100000"};
  master.status = EventStatus::kCancelled;
  master.visibility = Visibility::kPublic;
  out.push_back(master);
  Event occurrence = AllDay("0001-01-01", "0001-01-02");
  occurrence.kind = EventKind::kOccurrence;
  occurrence.original_start = EventTime{std::nullopt, "0001-01-01", "Asia/Tokyo"};
  occurrence.visibility = Visibility::kPrivate;
  out.push_back(occurrence);
  for (const auto& [reader, item] : Corpus()) {
    Result<EventChange> change = reader == 0   ? EventFromGoogle(item, "Europe/Zurich")
                                 : reader == 1 ? EventFromGraph(item)
                                 : reader == 4
                                     ? Result<EventChange>(EventChange{"x", *EventFromJson(item)})
                                     : Result<EventChange>(EventChange{});
    EXPECT_TRUE(change.ok()) << item.dump() << change.status().ToString();
    if (change.ok() && change->event) out.push_back(*change->event);
  }
  return out;
}

TEST(EnumNames, AreSnakeCase) {
  EXPECT_EQ(AccessRoleName(AccessRole::kFreeBusyReader), "free_busy_reader");
  EXPECT_EQ(EventStatusName(EventStatus::kCancelled), "cancelled");
  EXPECT_EQ(EventKindName(EventKind::kSeriesMaster), "series_master");
  EXPECT_EQ(TransparencyName(Transparency::kTransparent), "transparent");
  EXPECT_EQ(VisibilityName(Visibility::kConfidential), "confidential");
  EXPECT_EQ(ResponseStatusName(ResponseStatus::kNeedsAction), "needs_action");
}

TEST(EventJson, RoundTripsExactly) {
  const std::vector<Event> events = ManyEvents();
  EXPECT_GE(events.size(), 12u);
  for (const Event& e : events) {
    const Json json = EventToJson(e);
    const Result<Event> back = EventFromJson(Json::parse(json.dump()));
    ASSERT_TRUE(back.ok()) << json.dump() << ": " << back.status().ToString();
    EXPECT_EQ(*back, e) << json.dump();
  }
}

TEST(EventJson, Shape) {
  Event e = Timed();
  e.original_start = EventTime{std::nullopt, "2024-05-06", "UTC"};
  e.created_ms = Ms("2024-05-01T09:05:12.345Z");
  const Json json = EventToJson(e);
  EXPECT_EQ(json["kind"], "single");
  EXPECT_EQ(json["start"],
            J(R"({"instant":"2024-05-06T08:00:00.000Z","time_zone":"Europe/Zurich"})"));
  EXPECT_EQ(json["original_start"], J(R"({"date":"2024-05-06","time_zone":"UTC"})"));
  EXPECT_EQ(json["created"], "2024-05-01T09:05:12.345Z");
  EXPECT_FALSE(json.contains("updated"));
  EXPECT_EQ(json["reminders"], J(R"({"use_default":true,"overrides":[]})"));
}

TEST(EventJson, MalformedStoredEvents) {
  const Json good = EventToJson(Timed());
  EXPECT_TRUE(EventFromJson(good).ok());
  const std::pair<const char*, Json> mutations[] = {
      {"kind", "repeating"},
      {"status", 3},
      {"start", "2024-05-06"},
      {"provider_id", ""},
      {"attendees", J(R"([{"response":"maybe"}])")},
      {"reminders", J(R"({"overrides":[{"minutes":1.5}]})")},
      {"created", "2024-05-06"},
      {"recurrence", J(R"([["RRULE"]])")},
      {"all_day", "false"},
      {"original_start", J(R"({"instant":"2024-05-06T08:00:00"})")},
  };
  for (const auto& [key, value] : mutations) {
    Json bad = good;
    bad[key] = value;
    const Result<Event> e = EventFromJson(bad);
    ASSERT_FALSE(e.ok()) << key;
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  }
  Json no_start = good;
  no_start.erase("start");
  EXPECT_THAT(EventFromJson(no_start).status().message(), HasSubstr("start"));
  EXPECT_FALSE(EventFromJson(J("[]")).ok());
}

TEST(CalendarJson, RoundTrips) {
  const Calendar c{"alice@example.com", "Alice",   true,     AccessRole::kFreeBusyReader,
                   "Europe/Zurich",     "#9fe1e7", "\"17\"", true};
  EXPECT_EQ(*CalendarFromJson(CalendarToJson(c)), c);
  EXPECT_EQ(CalendarToJson(c)["access_role"], "free_busy_reader");
  EXPECT_FALSE(CalendarFromJson(J(R"({"provider_id":"a","access_role":"admin"})")).ok());
  EXPECT_FALSE(CalendarFromJson(J(R"({"name":"a"})")).ok());
}

TEST(EventSpan, TimedAndAllDay) {
  EXPECT_EQ(*EventSpan(Timed()), (Span{Ms("2024-05-06T08:00:00Z"), Ms("2024-05-06T08:30:00Z")}));
  EXPECT_EQ(*EventSpan(AllDay("2024-05-06", "2024-05-08")),
            (Span{Ms("2024-05-06T00:00:00Z"), Ms("2024-05-08T00:00:00Z")}));
  Event no_end = Timed();
  no_end.end = {};
  EXPECT_EQ(EventSpan(no_end)->end_ms, Ms("2024-05-06T08:00:00Z"));
  Event no_start = Timed();
  no_start.start = {};
  EXPECT_EQ(EventSpan(no_start).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(EventSpan(AllDay("", "2024-05-08")).ok());
  EXPECT_FALSE(EventSpan(AllDay("2024-02-30", "2024-05-08")).ok());
}

TEST(EventSpan, FiniteSeriesEndsWithItsLastOccurrence) {
  const Event master = *EventFromGoogle(J(R"({
      "id":"m","start":{"dateTime":"2024-05-06T10:00:00+02:00","timeZone":"Europe/Zurich"},
      "end":{"dateTime":"2024-05-06T10:30:00+02:00","timeZone":"Europe/Zurich"},
      "recurrence":["RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20240701T080000Z"]})"),
                                        "UTC")
                            ->event;
  EXPECT_EQ(*EventSpan(master), (Span{Ms("2024-05-06T08:00:00Z"), Ms("2024-07-01T08:30:00Z")}));
  Event all_day = AllDay("2024-05-06", "2024-05-07");
  all_day.kind = EventKind::kSeriesMaster;
  all_day.recurrence = {"RRULE:FREQ=DAILY;COUNT=3"};
  EXPECT_EQ(*EventSpan(all_day), (Span{Ms("2024-05-06T00:00:00Z"), Ms("2024-05-09T00:00:00Z")}));
}

TEST(EventSpan, OpenWhenTheSeriesNeverEndsOrCannotBeBounded) {
  Event master = Timed();
  master.kind = EventKind::kSeriesMaster;
  master.recurrence = {"RRULE:FREQ=WEEKLY"};
  EXPECT_EQ(*EventSpan(master), (Span{Ms("2024-05-06T08:00:00Z"), std::nullopt}));
  master.recurrence = {"RRULE:FREQ=BOGUS"};
  EXPECT_EQ(EventSpan(master)->end_ms, std::nullopt);
  master.recurrence = {"RRULE:FREQ=DAILY;COUNT=100000"};
  EXPECT_EQ(EventSpan(master)->end_ms, std::nullopt);
  // libical 3.0.16 can loop without end on these: never expanded, so this returns at once.
  const auto started = std::chrono::steady_clock::now();
  master.recurrence = {"RRULE:FREQ=SECONDLY;BYDAY=MO;BYMONTHDAY=31;BYMONTH=2;COUNT=2"};
  EXPECT_EQ(EventSpan(master)->end_ms, std::nullopt);
  master.recurrence = {"rrule:freq=minutely;bymonthday=1;count=5"};
  EXPECT_EQ(EventSpan(master)->end_ms, std::nullopt);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  // A sub-daily rule without day-level parts is expanded as usual.
  master.recurrence = {"RRULE:FREQ=HOURLY;COUNT=3"};
  EXPECT_EQ(EventSpan(master)->end_ms, Ms("2024-05-06T10:30:00Z"));
  // BYHOUR is Zurich wall time: 18:00 on the 6th, 09:00 on the 7th.
  master.recurrence = {"RRULE:FREQ=HOURLY;COUNT=2;BYHOUR=9,18"};
  EXPECT_EQ(EventSpan(master)->end_ms, Ms("2024-05-07T07:30:00Z"));
}

TEST(EventSpan, RecurrenceOnlyCountsForMasters) {
  Event single = Timed();
  single.recurrence = {"RRULE:FREQ=WEEKLY"};
  EXPECT_EQ(EventSpan(single)->end_ms, Ms("2024-05-06T08:30:00Z"));
}

// Every member of every real-shaped item replaced by a value of each JSON type, and nested
// members one level down: each reader must end in a value or INVALID_ARGUMENT, and what it
// reads must round-trip.
TEST(Readers, WrongTypesEverywhereNeverCrash) {
  const Json replacements[] = {nullptr,
                               true,
                               -1,
                               1e300,
                               "",
                               std::string(70'000, 'x'),
                               Json::array(),
                               Json::object(),
                               J(R"([{"a":1}])"),
                               J(R"({"dateTime":"2024-05-06T10:00:00Z"})")};
  size_t checked = 0;
  auto check = [&](int reader, const Json& item) {
    ++checked;
    Result<EventChange> change = EventChange{};
    switch (reader) {
      case 0:
        change = EventFromGoogle(item, "Europe/Zurich");
        break;
      case 1:
        change = EventFromGraph(item);
        break;
      case 2: {
        const auto c = CalendarFromGoogle(item);
        if (!c.ok()) {
          EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
        }
        return;
      }
      case 3: {
        const auto c = CalendarFromGraph(item);
        if (!c.ok()) {
          EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
        }
        return;
      }
      default: {
        const auto e = EventFromJson(item);
        change = e.ok() ? Result<EventChange>(EventChange{"x", *e}) : e.status();
      }
    }
    if (!change.ok()) {
      EXPECT_EQ(change.status().code(), StatusCode::kInvalidArgument) << item.dump();
      return;
    }
    if (change->event) {
      EXPECT_EQ(*EventFromJson(EventToJson(*change->event)), *change->event) << item.dump();
      (void)EventSpan(*change->event);
    }
  };
  for (const auto& [reader, item] : Corpus()) {
    for (const auto& [key, value] : item.items()) {
      for (const Json& replacement : replacements) {
        Json mutated = item;
        mutated[key] = replacement;
        check(reader, mutated);
        if (!value.is_object()) continue;
        for (const auto& [inner, unused] : value.items()) {
          Json nested = item;
          nested[key][inner] = replacement;
          check(reader, nested);
        }
      }
    }
  }
  EXPECT_GT(checked, 2000u);
}

}  // namespace
}  // namespace sb::sync::calendar
