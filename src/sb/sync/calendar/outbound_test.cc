#include "sb/sync/calendar/outbound.h"

#include <gtest/gtest.h>

namespace sb::sync::calendar {
namespace {

Json Job() {
  return Json::parse(R"j({
    "title": "Boiler", "location": "Bahnhofstrasse 1", "description_text": "Valve",
    "start": {"instant": "2027-01-12T09:00:00+01:00", "time_zone": "Europe/Zurich"},
    "end": {"instant": "2027-01-12T10:00:00+01:00"},
    "attendees": [{"email": "customer@example.com", "name": "A Customer", "optional": true}],
    "reminders": {"use_default": false, "overrides": [{"method": "popup", "minutes": 30}]}
  })j");
}

TEST(HostEventTest, ReadsTheWritableMembersAndDefaultsTheRest) {
  auto e = HostEventFromJson(Job());
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->title, "Boiler");
  EXPECT_EQ(e->kind, EventKind::kSingle);
  EXPECT_EQ(*e->start.instant_ms, 1'799'740'800'000);  // 08:00Z
  EXPECT_EQ(e->end.time_zone, "Europe/Zurich");        // from the start
  ASSERT_EQ(e->attendees.size(), 1u);
  EXPECT_TRUE(e->attendees[0].optional);
  EXPECT_FALSE(e->reminders_use_default);
  EXPECT_TRUE(e->provider_id.empty());
}

TEST(HostEventTest, IgnoresReadOnlyMembersAndRefusesUnknownOnes) {
  Json body = Job();
  body["id"] = "0190";
  body["provider_id"] = "abc";
  body["version"] = "\"1\"";
  auto e = HostEventFromJson(body);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE(e->provider_id.empty());
  body["colour"] = "red";
  auto refused = HostEventFromJson(body);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("colour"), std::string::npos);
}

TEST(HostEventTest, RefusesWhatCannotBeWritten) {
  const char* bad[] = {
      R"j({"start": {"instant": "2027-01-12T09:00:00Z"}, "end": {"instant": "2027-01-12T08:00:00Z"}})j",
      R"j({"start": {"instant": "2027-01-12T09:00:00Z"}})j",
      R"j({"start": {"instant": "2027-01-12T09:00:00Z", "time_zone": "Mars/Base"}, "end": {"instant": "2027-01-12T10:00:00Z"}})j",
      R"j({"all_day": true, "start": {"instant": "2027-01-12T09:00:00Z"}, "end": {"instant": "2027-01-12T10:00:00Z"}})j",
      R"j({"all_day": true, "start": {"date": "2027-01-12"}, "end": {"date": "2027-01-12"}})j",
      R"j({"status": "cancelled", "start": {"date": "2027-01-12"}, "end": {"date": "2027-01-13"}, "all_day": true})j",
      R"j({"start": {"instant": "2027-01-12T09:00:00Z"}, "end": {"instant": "2027-01-12T10:00:00Z"}, "recurrence": ["RRULE:FREQ=NEVER"]})j",
      R"j({"start": {"instant": "2027-01-12T09:00:00Z"}, "end": {"instant": "2027-01-12T10:00:00Z"}, "recurrence": ["EXDATE:20270112T090000Z"]})j",
      R"j({"start": {"instant": "2027-01-12T09:00:00Z"}, "end": {"instant": "2027-01-12T10:00:00Z"}, "recurrence": ["RRULE:FREQ=DAILY", "RRULE:FREQ=WEEKLY"]})j",
      R"j({"start": {"instant": "2027-01-12T09:00:00Z"}, "end": {"instant": "2027-01-12T10:00:00Z"}, "attendees": [{"email": "not an address"}]})j",
      R"j({"start": {"instant": "2027-01-12T09:00:00Z"}, "end": {"instant": "2027-01-12T10:00:00Z"}, "reminders": {"use_default": false, "overrides": [{"method": "sms", "minutes": 5}]}})j",
      R"j({"start": {"instant": "2027-01-12T09:00:00Z"}, "end": {"instant": "2027-01-12T10:00:00Z"}, "title": 3})j",
      R"j([1, 2])j",
  };
  for (const char* text : bad) {
    auto e = HostEventFromJson(Json::parse(text));
    EXPECT_FALSE(e.ok()) << text;
    if (!e.ok()) {
      EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument) << text;
    }
  }
}

TEST(HostEventTest, APatchReplacesNamedMembersAndNullRestoresTheDefault) {
  auto base = HostEventFromJson(Job());
  ASSERT_TRUE(base.ok());
  base->provider_id = "evt1";
  base->version = "\"7\"";
  auto patched = ApplyHostPatch(*base, Json{{"title", "Boiler (2)"}, {"location", nullptr}});
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  EXPECT_EQ(patched->title, "Boiler (2)");
  EXPECT_EQ(patched->location, "");
  EXPECT_EQ(patched->description_text, "Valve");
  EXPECT_EQ(patched->provider_id, "evt1");
  EXPECT_EQ(patched->version, "\"7\"");
  auto series = ApplyHostPatch(*base, Json{{"recurrence", {"RRULE:FREQ=WEEKLY;COUNT=4"}}});
  ASSERT_TRUE(series.ok());
  EXPECT_EQ(series->kind, EventKind::kSeriesMaster);
  auto single = ApplyHostPatch(*series, Json{{"recurrence", nullptr}});
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->kind, EventKind::kSingle);
  EXPECT_FALSE(ApplyHostPatch(*base, Json{{"end", {{"instant", "2000-01-01T00:00:00Z"}}}}).ok());
}

TEST(OutboundGoogleTest, WritesEveryWritableMember) {
  auto e = HostEventFromJson(Job());
  ASSERT_TRUE(e.ok());
  const Json g = EventToGoogle(*e, "sb0190abc");
  EXPECT_EQ(g["id"], "sb0190abc");
  EXPECT_EQ(g["summary"], "Boiler");
  EXPECT_EQ(g["description"], "Valve");
  EXPECT_EQ(g["start"]["dateTime"], "2027-01-12T09:00:00+01:00");
  EXPECT_EQ(g["start"]["timeZone"], "Europe/Zurich");
  EXPECT_EQ(g["attendees"][0]["email"], "customer@example.com");
  EXPECT_EQ(g["attendees"][0]["optional"], true);
  EXPECT_EQ(g["reminders"]["useDefault"], false);
  EXPECT_EQ(g["reminders"]["overrides"][0]["minutes"], 30);
  EXPECT_EQ(g["recurrence"], Json::array());
  EXPECT_FALSE(EventToGoogle(*e).contains("id"));
  // Read back as Google would answer, it is the same event.
  Json answer = g;
  answer["etag"] = "\"1\"";
  answer["status"] = "confirmed";
  auto back = EventFromGoogle(answer, "UTC");
  ASSERT_TRUE(back.ok() && back->event) << back.status().ToString();
  EXPECT_EQ(back->event->start, e->start);
  EXPECT_EQ(back->event->end, e->end);
  EXPECT_EQ(back->event->title, e->title);
  EXPECT_EQ(back->event->reminders, e->reminders);
}

TEST(OutboundGoogleTest, AllDayEventsAreDates) {
  auto e = HostEventFromJson(Json::parse(
      R"j({"all_day": true, "start": {"date": "2027-03-27"}, "end": {"date": "2027-03-29"}})j"));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  const Json g = EventToGoogle(*e);
  EXPECT_EQ(g["start"], (Json{{"date", "2027-03-27"}}));
  EXPECT_EQ(g["end"], (Json{{"date", "2027-03-29"}}));
}

TEST(OutboundGraphTest, WritesWallTimesInTheZoneAndTheRuleAsAPattern) {
  Json body = Job();
  body["recurrence"] = {"RRULE:FREQ=WEEKLY;BYDAY=TU,TH;COUNT=6"};
  body["transparency"] = "transparent";
  body["visibility"] = "private";
  auto e = HostEventFromJson(body);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  auto g = EventToGraph(*e);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ((*g)["subject"], "Boiler");
  EXPECT_EQ((*g)["body"]["contentType"], "text");
  EXPECT_EQ((*g)["start"]["dateTime"], "2027-01-12T09:00:00.0000000");
  EXPECT_EQ((*g)["start"]["timeZone"], "Europe/Zurich");
  EXPECT_EQ((*g)["showAs"], "free");
  EXPECT_EQ((*g)["sensitivity"], "private");
  EXPECT_EQ((*g)["isReminderOn"], true);
  EXPECT_EQ((*g)["reminderMinutesBeforeStart"], 30);
  EXPECT_EQ((*g)["attendees"][0]["type"], "optional");
  EXPECT_EQ((*g)["recurrence"]["pattern"]["type"], "weekly");
  EXPECT_EQ((*g)["recurrence"]["range"]["type"], "numbered");
  EXPECT_EQ((*g)["recurrence"]["range"]["startDate"], "2027-01-12");
  // Read back as Graph would answer, the rule is the same.
  Json answer = *g;
  answer["id"] = "AAMk";
  answer["changeKey"] = "ck1";
  answer["type"] = "seriesMaster";
  auto back = EventFromGraph(answer);
  ASSERT_TRUE(back.ok() && back->event) << back.status().ToString();
  EXPECT_EQ(back->event->start, e->start);
  ASSERT_EQ(back->event->recurrence.size(), 1u);
  EXPECT_NE(back->event->recurrence[0].find("FREQ=WEEKLY"), std::string::npos);
  EXPECT_NE(back->event->recurrence[0].find("COUNT=6"), std::string::npos);
}

TEST(OutboundGraphTest, RefusesWhatGraphCannotHold) {
  Json body = Job();
  body["recurrence"] = {"RRULE:FREQ=DAILY", "EXDATE:20270113T080000Z"};
  auto e = HostEventFromJson(body);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  auto g = EventToGraph(*e);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sb::sync::calendar
