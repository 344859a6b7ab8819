// Google Calendar items (provider-protocols.md 3.3, 3.8 and the sandbox's calendar_store.cc
// and seed.cc shapes) into the model.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sb/caltime/caltime.h"
#include "sb/sync/calendar/model.h"

namespace sb::sync::calendar {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Json J(const char* text) { return Json::parse(text); }

int64_t Ms(const char* rfc3339) { return *caltime::ParseRfc3339(rfc3339); }

Event GoogleEvent(const Json& item, std::string_view zone = "Europe/Zurich") {
  Result<EventChange> change = EventFromGoogle(item, zone);
  EXPECT_TRUE(change.ok()) << change.status().ToString();
  if (!change.ok() || !change->event) {
    ADD_FAILURE() << "no event";
    return {};
  }
  return *change->event;
}

Status GoogleError(const Json& item, std::string_view zone = "Europe/Zurich") {
  Result<EventChange> change = EventFromGoogle(item, zone);
  EXPECT_FALSE(change.ok()) << item.dump();
  return change.ok() ? OkStatus() : change.status();
}

// provider-protocols.md 3.3, as the sandbox emits it.
const char* kSeriesMaster = R"({
  "kind": "calendar#event", "etag": "\"3412345678901000\"", "id": "6k1s3l0r9f3t5d5kqk8q2rjv0c",
  "status": "confirmed", "htmlLink": "https://www.google.com/calendar/event?eid=Nm",
  "created": "2024-05-01T09:00:00.000Z", "updated": "2024-05-01T09:05:12.345Z",
  "summary": "Weekly sync", "description": "Agenda <b>HTML allowed</b>", "location": "Room 1",
  "creator": {"email": "alice@example.com", "self": true},
  "organizer": {"email": "alice@example.com", "displayName": "Alice", "self": true},
  "start": {"dateTime": "2024-05-06T10:00:00+02:00", "timeZone": "Europe/Zurich"},
  "end": {"dateTime": "2024-05-06T10:30:00+02:00", "timeZone": "Europe/Zurich"},
  "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20240701T080000Z",
                 "EXDATE;TZID=Europe/Zurich:20240520T100000"],
  "iCalUID": "6k1s3l0r9f3t5d5kqk8q2rjv0c@google.com", "sequence": 0,
  "attendees": [
    {"email": "alice@example.com", "organizer": true, "self": true, "responseStatus": "accepted"},
    {"email": "bob@example.com", "displayName": "Bob", "optional": false,
     "responseStatus": "needsAction"}],
  "extendedProperties": {"private": {"hubId": "abc123"}, "shared": {"k": "v"}},
  "reminders": {"useDefault": true}, "eventType": "default", "transparency": "opaque",
  "visibility": "default"})";

TEST(EventFromGoogle, SeriesMaster) {
  const Event e = GoogleEvent(J(kSeriesMaster));
  EXPECT_EQ(e.provider_id, "6k1s3l0r9f3t5d5kqk8q2rjv0c");
  EXPECT_EQ(e.version, "\"3412345678901000\"");
  EXPECT_EQ(e.ical_uid, "6k1s3l0r9f3t5d5kqk8q2rjv0c@google.com");
  EXPECT_EQ(e.kind, EventKind::kSeriesMaster);
  EXPECT_EQ(e.status, EventStatus::kConfirmed);
  EXPECT_EQ(e.title, "Weekly sync");
  EXPECT_EQ(e.description_html, "Agenda <b>HTML allowed</b>");
  EXPECT_EQ(e.description_text, "Agenda HTML allowed");
  EXPECT_EQ(e.location, "Room 1");
  EXPECT_FALSE(e.all_day);
  EXPECT_EQ(e.start, (EventTime{Ms("2024-05-06T08:00:00Z"), "", "Europe/Zurich"}));
  EXPECT_EQ(e.end, (EventTime{Ms("2024-05-06T08:30:00Z"), "", "Europe/Zurich"}));
  EXPECT_THAT(e.recurrence, ElementsAre("RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20240701T080000Z",
                                        "EXDATE;TZID=Europe/Zurich:20240520T100000"));
  EXPECT_EQ(e.organizer_email, "alice@example.com");
  EXPECT_EQ(e.organizer_name, "Alice");
  ASSERT_EQ(e.attendees.size(), 2u);
  EXPECT_EQ(e.attendees[0], (Attendee{"alice@example.com", "", ResponseStatus::kAccepted, false,
                                      true, false, true}));
  EXPECT_EQ(e.attendees[1], (Attendee{"bob@example.com", "Bob", ResponseStatus::kNeedsAction}));
  EXPECT_TRUE(e.reminders_use_default);
  EXPECT_TRUE(e.reminders.empty());
  EXPECT_EQ(e.transparency, Transparency::kOpaque);
  EXPECT_EQ(e.visibility, Visibility::kDefault);
  EXPECT_EQ(e.created_ms, Ms("2024-05-01T09:00:00Z"));
  EXPECT_EQ(e.updated_ms, Ms("2024-05-01T09:05:12.345Z"));
  EXPECT_FALSE(e.original_start);
}

TEST(EventFromGoogle, DeletedItemIsARemoval) {
  const auto change = EventFromGoogle(J(R"({"kind":"calendar#event","etag":"\"3412345700000000\"",
      "id":"6k1s3l0r9f3t5d5kqk8q2rjv0c","status":"cancelled"})"),
                                      "Europe/Zurich");
  ASSERT_TRUE(change.ok());
  EXPECT_EQ(change->provider_id, "6k1s3l0r9f3t5d5kqk8q2rjv0c");
  EXPECT_FALSE(change->event);
}

TEST(EventFromGoogle, CancelledInstanceIsACancelledException) {
  const Event e = GoogleEvent(J(R"({"kind":"calendar#event","etag":"\"3412345700000001\"",
      "id":"6k1s3l0r9f3t5d5kqk8q2rjv0c_20240513T080000Z", "status":"cancelled",
      "recurringEventId":"6k1s3l0r9f3t5d5kqk8q2rjv0c",
      "originalStartTime":{"dateTime":"2024-05-13T10:00:00+02:00","timeZone":"Europe/Zurich"}})"));
  EXPECT_EQ(e.kind, EventKind::kException);
  EXPECT_EQ(e.status, EventStatus::kCancelled);
  EXPECT_EQ(e.series_master_provider_id, "6k1s3l0r9f3t5d5kqk8q2rjv0c");
  const EventTime slot{Ms("2024-05-13T08:00:00Z"), "", "Europe/Zurich"};
  EXPECT_EQ(e.original_start, slot);
  // Sparse: the slot stands in for start and end so that the item still has a span.
  EXPECT_EQ(e.start, slot);
  EXPECT_EQ(e.end, slot);
  EXPECT_EQ(e.version, "\"3412345700000001\"");
}

TEST(EventFromGoogle, MovedExceptionAsTheSandboxSeedsIt) {
  // sandbox/google/seed.cc AddExceptions: an instance patched to a new time and title.
  const Event e = GoogleEvent(J(R"j({"kind":"calendar#event","etag":"\"3400000000000042\"",
      "id":"abc123_20240513T080000Z","status":"confirmed","recurringEventId":"abc123",
      "originalStartTime":{"dateTime":"2024-05-13T10:00:00+02:00","timeZone":"Europe/Zurich"},
      "start":{"dateTime":"2024-05-14T15:00:00+02:00","timeZone":"Europe/Zurich"},
      "end":{"dateTime":"2024-05-14T15:30:00+02:00","timeZone":"Europe/Zurich"},
      "summary":"Weekly sync (moved)","iCalUID":"abc123@google.com","sequence":0,
      "reminders":{"useDefault":true},"eventType":"default",
      "creator":{"email":"alice@example.com","self":true},
      "organizer":{"email":"alice@example.com","self":true}})j"));
  EXPECT_EQ(e.kind, EventKind::kException);
  EXPECT_EQ(e.status, EventStatus::kConfirmed);
  EXPECT_EQ(e.series_master_provider_id, "abc123");
  EXPECT_EQ(e.original_start->instant_ms, Ms("2024-05-13T08:00:00Z"));
  EXPECT_EQ(e.start.instant_ms, Ms("2024-05-14T13:00:00Z"));
  EXPECT_EQ(e.title, "Weekly sync (moved)");
}

TEST(EventFromGoogle, AllDayTakesTheCalendarZone) {
  const Event e = GoogleEvent(J(R"({"kind":"calendar#event","etag":"\"1\"","id":"allday7",
      "status":"confirmed","summary":"Offsite","start":{"date":"2024-05-06"},
      "end":{"date":"2024-05-08"},"transparency":"transparent","visibility":"private",
      "reminders":{"useDefault":false,"overrides":[{"method":"email","minutes":1440},
                                                    {"method":"popup","minutes":10}]},
      "hangoutLink":"https://meet.google.com/abc-defg-hij"})"),
                              "America/New_York");
  EXPECT_TRUE(e.all_day);
  EXPECT_EQ(e.kind, EventKind::kSingle);
  EXPECT_EQ(e.start, (EventTime{std::nullopt, "2024-05-06", "America/New_York"}));
  EXPECT_EQ(e.end, (EventTime{std::nullopt, "2024-05-08", "America/New_York"}));
  EXPECT_EQ(e.transparency, Transparency::kTransparent);
  EXPECT_EQ(e.visibility, Visibility::kPrivate);
  EXPECT_FALSE(e.reminders_use_default);
  EXPECT_THAT(e.reminders, ElementsAre(Reminder{"email", 1440}, Reminder{"popup", 10}));
  EXPECT_EQ(e.conference_url, "https://meet.google.com/abc-defg-hij");
}

TEST(EventFromGoogle, SeededShapesAllRead) {
  // The three shapes sandbox/google/seed.cc creates (all-day, timed, recurring), as
  // calendar_store.cc renders them back, with non-ASCII text.
  const Event timed = GoogleEvent(J(R"({"kind":"calendar#event","etag":"\"3400000000000003\"",
      "id":"s3","status":"confirmed","summary":"1:1 Grüße","description":"Notes: bring the latest figures. Grüße!",
      "location":"Bahnhofstrasse 1, 8001 Zürich",
      "start":{"dateTime":"2024-03-31T01:30:00-04:00","timeZone":"America/New_York"},
      "end":{"dateTime":"2024-03-31T02:15:00-04:00","timeZone":"America/New_York"},
      "attendees":[{"email":"dmitri@example.net","displayName":"Дмитрий Иванов","optional":true,
                    "responseStatus":"tentative"}],
      "extendedProperties":{"private":{"seed":"42"}},"created":"2024-05-01T09:00:00.000Z",
      "updated":"2024-05-01T09:00:00.000Z","iCalUID":"s3@google.com","sequence":0,
      "reminders":{"useDefault":true},"eventType":"default"})"));
  EXPECT_EQ(timed.description_text, "Notes: bring the latest figures. Grüße!");
  EXPECT_EQ(timed.attendees[0].response, ResponseStatus::kTentative);
  EXPECT_TRUE(timed.attendees[0].optional);
  EXPECT_EQ(timed.start.time_zone, "America/New_York");
  const Event series = GoogleEvent(J(R"({"id":"s4","etag":"\"2\"","status":"confirmed",
      "start":{"dateTime":"2024-05-06T09:15:00+09:00","timeZone":"Asia/Tokyo"},
      "end":{"dateTime":"2024-05-06T09:45:00+09:00","timeZone":"Asia/Tokyo"},
      "recurrence":["RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=7"]})"));
  EXPECT_EQ(series.kind, EventKind::kSeriesMaster);
}

TEST(EventFromGoogle, FloatingDateTimeIsReadInItsZoneOrTheCalendars) {
  Event e = GoogleEvent(J(R"({"id":"f1","start":{"dateTime":"2024-01-10T10:00:00",
      "timeZone":"Europe/Zurich"},"end":{"dateTime":"2024-01-10T11:00:00",
      "timeZone":"Europe/Zurich"}})"));
  EXPECT_EQ(e.start.instant_ms, Ms("2024-01-10T09:00:00Z"));
  e = GoogleEvent(J(R"({"id":"f2","start":{"dateTime":"2024-01-10T10:00:00"},
      "end":{"dateTime":"2024-01-10T11:00:00"}})"),
                  "Asia/Tokyo");
  EXPECT_EQ(e.start.instant_ms, Ms("2024-01-10T01:00:00Z"));
  EXPECT_EQ(e.start.time_zone, "");
  EXPECT_THAT(GoogleError(J(R"({"id":"f3","start":{"dateTime":"2024-01-10T10:00:00"},
      "end":{"dateTime":"2024-01-10T11:00:00"}})"),
                          "")
                  .message(),
              HasSubstr("start.dateTime"));
}

TEST(EventFromGoogle, ConferenceDataVideoEntryPoint) {
  const Event e = GoogleEvent(J(R"({"id":"c1","start":{"date":"2024-05-06"},
      "end":{"date":"2024-05-07"},"conferenceData":{"entryPoints":[
        {"entryPointType":"phone","uri":"tel:+41-44-000"},
        {"entryPointType":"video","uri":"https://meet.google.com/xyz"}]}})"));
  EXPECT_EQ(e.conference_url, "https://meet.google.com/xyz");
}

TEST(EventFromGoogle, HtmlDescriptionGetsAPlainTextTwin) {
  const Event e = GoogleEvent(J(R"({"id":"h1","start":{"date":"2024-05-06"},
      "end":{"date":"2024-05-07"},"description":
      "<p>Hi &amp; welcome</p><p>Line<br>two<BR/>&lt;3&gt; &quot;x&quot; &#39;y&#39;&nbsp;z</p>a &unknown; < b"})"));
  EXPECT_EQ(e.description_text, "Hi & welcome\nLine\ntwo\n<3> \"x\" 'y' z\na &unknown; < b");
}

TEST(EventFromGoogle, UnknownEnumValuesReadAsDefaults) {
  // Google adds values over time; an unknown one must not fail the whole sync.
  const Event e = GoogleEvent(J(R"({"id":"u1","status":"postponed","visibility":"secret",
      "transparency":"see-through","start":{"date":"2024-05-06"},"end":{"date":"2024-05-07"},
      "attendees":[{"email":"x@example.com","responseStatus":"maybe"}]})"));
  EXPECT_EQ(e.status, EventStatus::kConfirmed);
  EXPECT_EQ(e.visibility, Visibility::kDefault);
  EXPECT_EQ(e.transparency, Transparency::kOpaque);
  EXPECT_EQ(e.attendees[0].response, ResponseStatus::kNeedsAction);
}

struct BadCase {
  const char* item;
  const char* field;
};

TEST(EventFromGoogle, HostileItemsNameTheField) {
  const BadCase cases[] = {
      {R"([])", "event item"},
      {R"(null)", "event item"},
      {R"({})", "id"},
      {R"({"id":7})", "id"},
      {R"({"id":""})", "id"},
      {R"({"id":"a","status":1})", "status"},
      {R"({"id":"a"})", "start"},
      {R"({"id":"a","start":"2024-05-06","end":{"date":"2024-05-07"}})", "start"},
      {R"({"id":"a","start":{"date":"2024-05-06"}})", "end"},
      {R"({"id":"a","start":{"date":20240506},"end":{"date":"2024-05-07"}})", "start.date"},
      {R"({"id":"a","start":{"date":"2024-13-06"},"end":{"date":"2024-05-07"}})", "start.date"},
      {R"({"id":"a","start":{"date":"0000-01-01"},"end":{"date":"2024-05-07"}})", "start.date"},
      {R"({"id":"a","start":{"dateTime":true},"end":{"date":"2024-05-07"}})", "start.dateTime"},
      {R"({"id":"a","start":{"dateTime":"yesterday"},"end":{"date":"2024-05-07"}})",
       "start.dateTime"},
      {R"({"id":"a","start":{"dateTime":"2024-05-06T10:00:00Z","timeZone":"Mars/Base"},
           "end":{"dateTime":"2024-05-06T11:00:00Z"}})",
       "start.timeZone"},
      {R"({"id":"a","start":{"dateTime":"2024-05-06T10:00:00Z","timeZone":[]},
           "end":{"dateTime":"2024-05-06T11:00:00Z"}})",
       "start.timeZone"},
      {R"({"id":"a","start":{"date":"2024-05-06"},"end":{"dateTime":"2024-05-06T11:00:00Z"}})",
       "end"},
      {R"({"id":"a","start":{"dateTime":"2024-05-06T10:00:00Z"},
           "end":{"dateTime":"2024-05-06T09:00:00Z"}})",
       "end"},
      {R"({"id":"a","start":{"date":"2024-05-06"},"end":{"date":"2024-05-07"},"summary":[]})",
       "summary"},
      {R"({"id":"a","start":{"date":"2024-05-06"},"end":{"date":"2024-05-07"},
           "description":{}})",
       "description"},
      {R"({"id":"a","start":{"date":"2024-05-06"},"end":{"date":"2024-05-07"},
           "attendees":{}})",
       "attendees"},
      {R"({"id":"a","start":{"date":"2024-05-06"},"end":{"date":"2024-05-07"},
           "attendees":["bob@example.com"]})",
       "attendees"},
      {R"({"id":"a","start":{"date":"2024-05-06"},"end":{"date":"2024-05-07"},
           "attendees":[{"email":"b","optional":"yes"}]})",
       "attendees.optional"},
      {R"({"id":"a","start":{"date":"2024-05-06"},"end":{"date":"2024-05-07"},
           "organizer":"alice"})",
       "organizer"},
      {R"({"id":"a","start":{"date":"2024-05-06"},"end":{"date":"2024-05-07"},
           "reminders":{"overrides":[{"method":"popup","minutes":"10"}]}})",
       "reminders.overrides.minutes"},
      {R"({"id":"a","start":{"date":"2024-05-06"},"end":{"date":"2024-05-07"},
           "reminders":{"overrides":[{"method":"popup","minutes":-5}]}})",
       "reminders.overrides.minutes"},
      {R"({"id":"a","start":{"date":"2024-05-06"},"end":{"date":"2024-05-07"},
           "reminders":{"useDefault":"no"}})",
       "reminders.useDefault"},
      {R"({"id":"a","start":{"date":"2024-05-06"},"end":{"date":"2024-05-07"},
           "recurrence":"RRULE:FREQ=DAILY"})",
       "recurrence"},
      {R"({"id":"a","start":{"date":"2024-05-06"},"end":{"date":"2024-05-07"},
           "recurrence":[7]})",
       "recurrence"},
      {R"({"id":"a","start":{"date":"2024-05-06"},"end":{"date":"2024-05-07"},
           "recurringEventId":"m","recurrence":["RRULE:FREQ=DAILY"],
           "originalStartTime":{"date":"2024-05-06"}})",
       "recurrence"},
      {R"({"id":"a","start":{"date":"2024-05-06"},"end":{"date":"2024-05-07"},
           "recurringEventId":"m"})",
       "originalStartTime"},
      {R"({"id":"a","status":"cancelled","recurringEventId":"m","originalStartTime":"x"})",
       "originalStartTime"},
      {R"({"id":"a","start":{"date":"2024-05-06"},"end":{"date":"2024-05-07"},
           "created":"2024-05-01"})",
       "created"},
      {R"({"id":"a","start":{"date":"2024-05-06"},"end":{"date":"2024-05-07"},
           "conferenceData":{"entryPoints":[{"entryPointType":"video","uri":5}]}})",
       "conferenceData.entryPoints.uri"},
  };
  for (const BadCase& c : cases) {
    const Status status = GoogleError(J(c.item));
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << c.item;
    EXPECT_THAT(status.message(), HasSubstr(c.field)) << c.item << " -> " << status.message();
  }
}

TEST(EventFromGoogle, OversizedStringsAreRefused) {
  Json item = J(R"({"id":"a","start":{"date":"2024-05-06"},"end":{"date":"2024-05-07"}})");
  Json big = item;
  big["id"] = std::string(1025, 'a');
  EXPECT_THAT(GoogleError(big).message(), HasSubstr("id: longer than 1024 bytes"));
  big = item;
  big["summary"] = std::string(8 * 1024 + 1, 's');
  EXPECT_THAT(GoogleError(big).message(), HasSubstr("summary"));
  big = item;
  big["description"] = std::string(256 * 1024 + 1, 'd');
  EXPECT_THAT(GoogleError(big).message(), HasSubstr("description"));
  big = item;
  big["description"] = std::string(256 * 1024, 'd');  // at the limit: accepted
  EXPECT_EQ(GoogleEvent(big).description_text.size(), 256u * 1024);
  big = item;
  big["start"]["date"] = std::string(100'000, '2');
  EXPECT_THAT(GoogleError(big).message(), HasSubstr("start.date"));
}

TEST(CalendarFromGoogle, CalendarListEntries) {
  const auto primary = CalendarFromGoogle(J(R"({"kind":"calendar#calendarListEntry",
      "etag":"\"1714000000017\"","id":"alice@example.com","summary":"alice@example.com",
      "timeZone":"Europe/Zurich","colorId":"14","backgroundColor":"#9fe1e7",
      "foregroundColor":"#000000","selected":true,"accessRole":"owner",
      "defaultReminders":[{"method":"popup","minutes":10}],"primary":true})"));
  ASSERT_TRUE(primary.ok()) << primary.status().ToString();
  EXPECT_EQ(*primary, (Calendar{"alice@example.com", "alice@example.com", true, AccessRole::kOwner,
                                "Europe/Zurich", "#9fe1e7", "\"1714000000017\"", false}));
  const auto team = CalendarFromGoogle(J(R"({"id":"c_9f2@group.calendar.google.com",
      "summary":"Team","timeZone":"Europe/Zurich","accessRole":"writer","selected":true})"));
  EXPECT_EQ(team->access_role, AccessRole::kWriter);
  EXPECT_FALSE(team->primary);
  const auto deleted = CalendarFromGoogle(J(R"({"id":"gone","deleted":true,
      "accessRole":"freeBusyReader","backgroundColor":"red","timeZone":"Mars/Base"})"));
  EXPECT_TRUE(deleted->deleted);
  EXPECT_EQ(deleted->access_role, AccessRole::kFreeBusyReader);
  EXPECT_EQ(deleted->color, "");
  EXPECT_EQ(deleted->time_zone, "");
  EXPECT_EQ(CalendarFromGoogle(J(R"({"id":"r","accessRole":"reader"})"))->access_role,
            AccessRole::kReader);
  EXPECT_EQ(CalendarFromGoogle(J(R"({"id":"r","accessRole":"root"})"))->access_role,
            AccessRole::kFreeBusyReader);
}

TEST(CalendarFromGoogle, HostileEntries) {
  EXPECT_THAT(CalendarFromGoogle(J("[]")).status().message(), HasSubstr("calendarList entry"));
  EXPECT_THAT(CalendarFromGoogle(J(R"({"summary":"x"})")).status().message(), HasSubstr("id"));
  EXPECT_THAT(CalendarFromGoogle(J(R"({"id":"a","primary":"true"})")).status().message(),
              HasSubstr("primary"));
  EXPECT_THAT(CalendarFromGoogle(J(R"({"id":"a","summary":{}})")).status().message(),
              HasSubstr("summary"));
  EXPECT_THAT(CalendarFromGoogle(J(R"({"id":"a","deleted":1})")).status().message(),
              HasSubstr("deleted"));
}

}  // namespace
}  // namespace sb::sync::calendar
