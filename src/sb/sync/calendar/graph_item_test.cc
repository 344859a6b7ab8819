// Microsoft Graph items (provider-protocols.md 8.2-8.4 and the sandbox's
// sandbox/microsoft/event.cc shapes) into the model.
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

Event GraphEvent(const Json& item) {
  Result<EventChange> change = EventFromGraph(item);
  EXPECT_TRUE(change.ok()) << change.status().ToString();
  if (!change.ok() || !change->event) {
    ADD_FAILURE() << "no event";
    return {};
  }
  return *change->event;
}

Status GraphError(const Json& item) {
  Result<EventChange> change = EventFromGraph(item);
  EXPECT_FALSE(change.ok()) << item.dump();
  return change.ok() ? OkStatus() : change.status();
}

// provider-protocols.md 8.3.
const char* kSeriesMaster = R"({
  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('x')/events/$entity",
  "@odata.etag": "W/\"ZlnW4RIAV06KYYwlrfNZvQAALfZeRQ==\"", "id": "AAMkAGI1AAAt9AHjAAA=",
  "createdDateTime": "2024-05-01T09:00:00.1234567Z",
  "lastModifiedDateTime": "2024-05-01T09:05:12.3456789Z",
  "changeKey": "ZlnW4RIAV06KYYwlrfNZvQAALfZeRQ==", "categories": [],
  "originalStartTimeZone": "W. Europe Standard Time",
  "originalEndTimeZone": "W. Europe Standard Time",
  "iCalUId": "040000008200E00074C5B7101A82E00800000000",
  "reminderMinutesBeforeStart": 15, "isReminderOn": true, "hasAttachments": false,
  "subject": "Weekly sync", "bodyPreview": "Agenda", "importance": "normal",
  "sensitivity": "normal", "isAllDay": false, "isCancelled": false, "isOrganizer": true,
  "responseRequested": true, "seriesMasterId": null, "showAs": "busy", "type": "seriesMaster",
  "webLink": "https://outlook.office365.com/owa/?itemid=AAMkAGI1AAAt9AHjAAA%3D",
  "onlineMeetingUrl": null, "isOnlineMeeting": false, "onlineMeetingProvider": "unknown",
  "allowNewTimeProposals": true,
  "responseStatus": {"response": "organizer", "time": "0001-01-01T00:00:00Z"},
  "body": {"contentType": "html", "content": "<html><body>Agenda</body></html>"},
  "start": {"dateTime": "2024-05-06T08:00:00.0000000", "timeZone": "UTC"},
  "end": {"dateTime": "2024-05-06T08:30:00.0000000", "timeZone": "UTC"},
  "location": {"displayName": "Room 1", "locationType": "default", "uniqueId": "Room 1",
               "uniqueIdType": "private"},
  "locations": [{"displayName": "Room 1"}],
  "recurrence": {
    "pattern": {"type": "weekly", "interval": 1, "month": 0, "dayOfMonth": 0,
                "daysOfWeek": ["monday"], "firstDayOfWeek": "sunday", "index": "first"},
    "range": {"type": "endDate", "startDate": "2024-05-06", "endDate": "2024-07-01",
              "recurrenceTimeZone": "W. Europe Standard Time", "numberOfOccurrences": 0}},
  "attendees": [{"type": "required", "status": {"response": "none",
                 "time": "0001-01-01T00:00:00Z"},
                 "emailAddress": {"name": "Bob", "address": "bob@contoso.com"}}],
  "organizer": {"emailAddress": {"name": "Megan Bowen", "address": "MeganB@contoso.com"}}})";

TEST(EventFromGraph, SeriesMaster) {
  const Event e = GraphEvent(J(kSeriesMaster));
  EXPECT_EQ(e.provider_id, "AAMkAGI1AAAt9AHjAAA=");
  EXPECT_EQ(e.version, "ZlnW4RIAV06KYYwlrfNZvQAALfZeRQ==");
  EXPECT_EQ(e.ical_uid, "040000008200E00074C5B7101A82E00800000000");
  EXPECT_EQ(e.kind, EventKind::kSeriesMaster);
  EXPECT_EQ(e.title, "Weekly sync");
  EXPECT_EQ(e.description_html, "<html><body>Agenda</body></html>");
  EXPECT_EQ(e.description_text, "Agenda");
  EXPECT_EQ(e.location, "Room 1");
  // Rendered in UTC, made (and expanded) in W. Europe Standard Time.
  EXPECT_EQ(e.start, (EventTime{Ms("2024-05-06T08:00:00Z"), "", "Europe/Berlin"}));
  EXPECT_EQ(e.end, (EventTime{Ms("2024-05-06T08:30:00Z"), "", "Europe/Berlin"}));
  EXPECT_THAT(e.recurrence,
              ElementsAre("RRULE:FREQ=WEEKLY;BYDAY=MO;WKST=SU;UNTIL=20240701T215959Z"));
  EXPECT_EQ(e.organizer_email, "MeganB@contoso.com");
  EXPECT_EQ(e.organizer_name, "Megan Bowen");
  EXPECT_THAT(e.attendees,
              ElementsAre(Attendee{"bob@contoso.com", "Bob", ResponseStatus::kNeedsAction}));
  EXPECT_FALSE(e.reminders_use_default);
  EXPECT_THAT(e.reminders, ElementsAre(Reminder{"popup", 15}));
  EXPECT_EQ(e.transparency, Transparency::kOpaque);
  EXPECT_EQ(e.visibility, Visibility::kDefault);
  EXPECT_EQ(e.status, EventStatus::kConfirmed);
  EXPECT_EQ(e.created_ms, Ms("2024-05-01T09:00:00.123Z"));
  EXPECT_EQ(e.updated_ms, Ms("2024-05-01T09:05:12.345Z"));
  EXPECT_EQ(e.conference_url, "");
}

TEST(EventFromGraph, RemovedItemIsARemoval) {
  const auto change = EventFromGraph(J(R"({"@odata.type":"#microsoft.graph.event",
      "id":"AAMkADk0","@removed":{"reason":"deleted"}})"));
  ASSERT_TRUE(change.ok());
  EXPECT_EQ(change->provider_id, "AAMkADk0");
  EXPECT_FALSE(change->event);
}

TEST(EventFromGraph, StrippedOccurrence) {
  const Event e = GraphEvent(J(R"({"@odata.type":"#microsoft.graph.event",
      "@odata.etag":"W/\"ZlnW4RIAV06KYYwlrfNZvQAALfZeRQ==\"","id":"AAMkAGI1AAAt9AHjAAA=_20240513T080000Z",
      "seriesMasterId":"AAMkAGI1AAAt9AHjAAA=","type":"occurrence",
      "start":{"dateTime":"2024-05-13T08:00:00.0000000","timeZone":"UTC"},
      "end":{"dateTime":"2024-05-13T08:30:00.0000000","timeZone":"UTC"}})"));
  EXPECT_EQ(e.kind, EventKind::kOccurrence);
  EXPECT_EQ(e.series_master_provider_id, "AAMkAGI1AAAt9AHjAAA=");
  EXPECT_EQ(e.version, "ZlnW4RIAV06KYYwlrfNZvQAALfZeRQ==");
  EXPECT_EQ(e.start.instant_ms, Ms("2024-05-13T08:00:00Z"));
  EXPECT_EQ(e.original_start, e.start);
}

TEST(EventFromGraph, ExceptionInAWindowsZone) {
  const Event e = GraphEvent(J(R"({"id":"ex1","type":"exception","seriesMasterId":"m1",
      "changeKey":"ck2","originalStart":"2024-05-13T08:00:00Z",
      "originalStartTimeZone":"W. Europe Standard Time",
      "start":{"dateTime":"2024-05-14T15:00:00.0000000","timeZone":"W. Europe Standard Time"},
      "end":{"dateTime":"2024-05-14T15:30:00.0000000","timeZone":"W. Europe Standard Time"},
      "subject":"Weekly sync, moved","recurrence":null})"));
  EXPECT_EQ(e.kind, EventKind::kException);
  EXPECT_EQ(e.series_master_provider_id, "m1");
  EXPECT_EQ(e.start, (EventTime{Ms("2024-05-14T13:00:00Z"), "", "Europe/Berlin"}));
  EXPECT_EQ(e.original_start, (EventTime{Ms("2024-05-13T08:00:00Z"), "", "Europe/Berlin"}));
  EXPECT_TRUE(e.recurrence.empty());
}

TEST(EventFromGraph, AllDayKeepsTheLocalDate) {
  const Event e = GraphEvent(J(R"({"id":"ad","type":"singleInstance","isAllDay":true,
      "start":{"dateTime":"2024-05-06T00:00:00.0000000","timeZone":"W. Europe Standard Time"},
      "end":{"dateTime":"2024-05-07T00:00:00.0000000","timeZone":"W. Europe Standard Time"}})"));
  EXPECT_TRUE(e.all_day);
  EXPECT_EQ(e.start, (EventTime{std::nullopt, "2024-05-06", "Europe/Berlin"}));
  EXPECT_EQ(e.end, (EventTime{std::nullopt, "2024-05-07", "Europe/Berlin"}));
}

TEST(EventFromGraph, AllDayExceptionSlotIsADate) {
  const Event e = GraphEvent(J(R"({"id":"ad","type":"exception","seriesMasterId":"m",
      "isAllDay":true,"originalStart":"2024-05-05T22:00:00Z",
      "start":{"dateTime":"2024-05-06T00:00:00.0000000","timeZone":"Europe/Zurich"},
      "end":{"dateTime":"2024-05-07T00:00:00.0000000","timeZone":"Europe/Zurich"}})"));
  EXPECT_EQ(e.original_start, (EventTime{std::nullopt, "2024-05-06", "Europe/Zurich"}));
}

TEST(EventFromGraph, FlagsPeopleAndMeetings) {
  const Event e = GraphEvent(J(R"({"id":"f","type":"singleInstance","showAs":"free",
      "sensitivity":"personal","isCancelled":true,"isReminderOn":false,
      "reminderMinutesBeforeStart":15,
      "onlineMeeting":{"joinUrl":"https://teams.microsoft.com/l/meetup-join/1"},
      "body":{"contentType":"text","content":"plain <b>not html</b>"},
      "start":{"dateTime":"2024-05-06T10:00:00.0000000","timeZone":"Pacific Standard Time"},
      "end":{"dateTime":"2024-05-06T11:00:00.0000000","timeZone":"Pacific Standard Time"},
      "organizer":{"emailAddress":{"name":"Megan","address":"MeganB@contoso.com"}},
      "attendees":[
        {"type":"required","status":{"response":"organizer"},
         "emailAddress":{"name":"Megan","address":"meganb@contoso.com"}},
        {"type":"optional","status":{"response":"tentativelyAccepted"},
         "emailAddress":{"address":"a@contoso.com"}},
        {"type":"resource","status":{"response":"declined"},
         "emailAddress":{"name":"Room 1","address":"room1@contoso.com"}},
        {"type":"required","status":{"response":"accepted"},"emailAddress":{"address":"b@x"}},
        {"type":"required","status":{"response":"notResponded"},"emailAddress":{"address":"c@x"}}
      ]})"));
  EXPECT_EQ(e.transparency, Transparency::kTransparent);
  EXPECT_EQ(e.visibility, Visibility::kPrivate);
  EXPECT_EQ(e.status, EventStatus::kCancelled);
  EXPECT_FALSE(e.reminders_use_default);
  EXPECT_TRUE(e.reminders.empty());
  EXPECT_EQ(e.conference_url, "https://teams.microsoft.com/l/meetup-join/1");
  EXPECT_EQ(e.description_html, "");
  EXPECT_EQ(e.description_text, "plain <b>not html</b>");
  EXPECT_EQ(e.start.instant_ms, Ms("2024-05-06T17:00:00Z"));
  EXPECT_EQ(e.start.time_zone, "America/Los_Angeles");
  EXPECT_THAT(
      e.attendees,
      ElementsAre(
          Attendee{"meganb@contoso.com", "Megan", ResponseStatus::kAccepted, false, true},
          Attendee{"a@contoso.com", "", ResponseStatus::kTentative, true},
          Attendee{"room1@contoso.com", "Room 1", ResponseStatus::kDeclined, false, false, true},
          Attendee{"b@x", "", ResponseStatus::kAccepted},
          Attendee{"c@x", "", ResponseStatus::kNeedsAction}));
  const Event legacy = GraphEvent(J(R"({"id":"l","onlineMeetingUrl":"https://meet.example/1",
      "onlineMeeting":null,"sensitivity":"confidential",
      "start":{"dateTime":"2024-05-06T10:00:00","timeZone":"UTC"},
      "end":{"dateTime":"2024-05-06T10:00:00","timeZone":"UTC"}})"));
  EXPECT_EQ(legacy.conference_url, "https://meet.example/1");
  EXPECT_EQ(legacy.visibility, Visibility::kConfidential);
}

TEST(EventFromGraph, SandboxRenderedEventWithNulls) {
  // sandbox/microsoft/event.cc RenderEvent: nulls for unset members, UTC rendering.
  const Event e = GraphEvent(J(R"({"@odata.etag":"W/\"ck1\"","id":"AAMkAD1=",
      "createdDateTime":"2024-05-01T09:00:00Z","lastModifiedDateTime":"2024-05-01T09:00:00Z",
      "changeKey":"ck1","categories":[],"transactionId":null,
      "originalStartTimeZone":"UTC","originalEndTimeZone":"UTC","iCalUId":"ical-1",
      "reminderMinutesBeforeStart":15,"isReminderOn":true,"hasAttachments":false,
      "subject":"Plan","bodyPreview":"","importance":"normal","sensitivity":"normal",
      "isAllDay":false,"isCancelled":false,"isOrganizer":true,"responseRequested":true,
      "seriesMasterId":null,"showAs":"busy","type":"singleInstance","webLink":"https://x",
      "onlineMeetingUrl":null,"isOnlineMeeting":false,"onlineMeetingProvider":"unknown",
      "allowNewTimeProposals":true,"isDraft":false,"hideAttendees":false,
      "responseStatus":{"response":"organizer","time":"0001-01-01T00:00:00Z"},
      "body":{"contentType":"text","content":""},
      "start":{"dateTime":"2016-12-09T20:30:00.0000000","timeZone":"UTC"},
      "end":{"dateTime":"2016-12-09T22:00:00.0000000","timeZone":"UTC"},
      "location":{},"locations":[],"recurrence":null,"attendees":[],
      "organizer":{"emailAddress":{"name":"Samantha Booth","address":"samanthab@contoso.com"}},
      "onlineMeeting":null,"@odata.type":"#microsoft.graph.event"})"));
  EXPECT_EQ(e.kind, EventKind::kSingle);
  EXPECT_EQ(e.start, (EventTime{Ms("2016-12-09T20:30:00Z"), "", "UTC"}));
  EXPECT_EQ(e.version, "ck1");
}

struct BadCase {
  const char* item;
  const char* field;
};

TEST(EventFromGraph, HostileItemsNameTheField) {
  const BadCase cases[] = {
      {R"("event")", "event"},
      {R"({"subject":"x"})", "id"},
      {R"({"id":["a"]})", "id"},
      {R"({"id":"a","type":"recurring"})", "type"},
      {R"({"id":"a","type":"exception","start":{"dateTime":"2024-05-06T10:00:00"},
           "end":{"dateTime":"2024-05-06T10:00:00"}})",
       "seriesMasterId"},
      {R"({"id":"a"})", "start"},
      {R"({"id":"a","start":[],"end":{}})", "start"},
      {R"({"id":"a","start":{"dateTime":"2024-05-06T10:00:00","timeZone":"Moon Standard Time"},
           "end":{"dateTime":"2024-05-06T10:00:00"}})",
       "start.timeZone"},
      {R"({"id":"a","start":{"dateTime":"2024-05-06T25:00:00"},
           "end":{"dateTime":"2024-05-06T10:00:00"}})",
       "start.dateTime"},
      {R"({"id":"a","start":{"dateTime":17},"end":{"dateTime":"2024-05-06T10:00:00"}})",
       "start.dateTime"},
      {R"({"id":"a","start":{"dateTime":"2024-05-06T10:00:00"},
           "end":{"dateTime":"2024-05-06T09:00:00"}})",
       "end"},
      {R"({"id":"a","isAllDay":"true","start":{"dateTime":"2024-05-06T10:00:00"},
           "end":{"dateTime":"2024-05-06T10:00:00"}})",
       "isAllDay"},
      {R"({"id":"a","isAllDay":true,"start":{"dateTime":"2024-5-6"},
           "end":{"dateTime":"2024-05-06T00:00:00"}})",
       "start.dateTime"},
      {R"({"id":"a","start":{"dateTime":"2024-05-06T10:00:00"},
           "end":{"dateTime":"2024-05-06T10:00:00"},"body":"hi"})",
       "body"},
      {R"({"id":"a","start":{"dateTime":"2024-05-06T10:00:00"},
           "end":{"dateTime":"2024-05-06T10:00:00"},"body":{"content":[]}})",
       "body.content"},
      {R"({"id":"a","start":{"dateTime":"2024-05-06T10:00:00"},
           "end":{"dateTime":"2024-05-06T10:00:00"},"attendees":[{"emailAddress":"x"}]})",
       "attendees.emailAddress"},
      {R"({"id":"a","start":{"dateTime":"2024-05-06T10:00:00"},
           "end":{"dateTime":"2024-05-06T10:00:00"},"attendees":[{"status":{"response":1}}]})",
       "attendees.status.response"},
      {R"({"id":"a","start":{"dateTime":"2024-05-06T10:00:00"},
           "end":{"dateTime":"2024-05-06T10:00:00"},"organizer":{"emailAddress":{"address":1}}})",
       "organizer.emailAddress.address"},
      {R"({"id":"a","start":{"dateTime":"2024-05-06T10:00:00"},
           "end":{"dateTime":"2024-05-06T10:00:00"},"reminderMinutesBeforeStart":-1})",
       "reminderMinutesBeforeStart"},
      {R"({"id":"a","start":{"dateTime":"2024-05-06T10:00:00"},
           "end":{"dateTime":"2024-05-06T10:00:00"},"isCancelled":0})",
       "isCancelled"},
      {R"({"id":"a","start":{"dateTime":"2024-05-06T10:00:00"},
           "end":{"dateTime":"2024-05-06T10:00:00"},"location":"Room 1"})",
       "location"},
      {R"({"id":"a","start":{"dateTime":"2024-05-06T10:00:00"},
           "end":{"dateTime":"2024-05-06T10:00:00"},"createdDateTime":"yesterday"})",
       "createdDateTime"},
      {R"({"id":"a","type":"seriesMaster","start":{"dateTime":"2024-05-06T10:00:00"},
           "end":{"dateTime":"2024-05-06T10:00:00"},"recurrence":{"pattern":{"type":"x"}}})",
       "pattern.type"},
      {R"({"id":"a","type":"seriesMaster","start":{"dateTime":"2024-05-06T10:00:00"},
           "end":{"dateTime":"2024-05-06T10:00:00"},"recurrence":[]})",
       "recurrence"},
      {R"({"id":"a","type":"exception","seriesMasterId":"m","originalStart":"2024-05-06",
           "start":{"dateTime":"2024-05-06T10:00:00"},"end":{"dateTime":"2024-05-06T10:00:00"}})",
       "originalStart"},
  };
  for (const BadCase& c : cases) {
    const Status status = GraphError(J(c.item));
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << c.item;
    EXPECT_THAT(status.message(), HasSubstr(c.field)) << c.item << " -> " << status.message();
  }
}

TEST(EventFromGraph, OversizedBodyIsRefused) {
  Json item = J(R"({"id":"a","start":{"dateTime":"2024-05-06T10:00:00"},
                   "end":{"dateTime":"2024-05-06T10:00:00"}})");
  item["body"] = {{"contentType", "html"}, {"content", std::string(300'000, 'x')}};
  EXPECT_THAT(GraphError(item).message(), HasSubstr("body.content: longer than"));
}

TEST(CalendarFromGraph, Calendars) {
  const auto c = CalendarFromGraph(J(R"({"id":"AAMkAG...","name":"Calendar","color":"auto",
      "hexColor":"","isDefaultCalendar":true,"changeKey":"nfZyf7VcrEKLNoU37KWlkQAAA0x0+w==",
      "canShare":true,"canViewPrivateItems":true,"canEdit":true,
      "allowedOnlineMeetingProviders":["teamsForBusiness"],
      "owner":{"name":"Megan Bowen","address":"MeganB@contoso.com"}})"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(*c, (Calendar{"AAMkAG...", "Calendar", true, AccessRole::kOwner, "", "",
                          "nfZyf7VcrEKLNoU37KWlkQAAA0x0+w==", false}));
  const auto shared = CalendarFromGraph(J(R"({"id":"s","name":"Team","canEdit":true,
      "isDefaultCalendar":false,"hexColor":"#ff8c00"})"));
  EXPECT_EQ(shared->access_role, AccessRole::kWriter);
  EXPECT_EQ(shared->color, "#ff8c00");
  EXPECT_EQ(CalendarFromGraph(J(R"({"id":"r","canEdit":false})"))->access_role,
            AccessRole::kReader);
  EXPECT_THAT(CalendarFromGraph(J(R"({"id":"r","canEdit":"no"})")).status().message(),
              HasSubstr("canEdit"));
  EXPECT_THAT(CalendarFromGraph(J(R"({"name":"x"})")).status().message(), HasSubstr("id"));
  EXPECT_THAT(CalendarFromGraph(J("null")).status().message(), HasSubstr("calendar"));
}

}  // namespace
}  // namespace sb::sync::calendar
