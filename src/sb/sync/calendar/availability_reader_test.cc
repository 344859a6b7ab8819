#include "sb/sync/calendar/availability_reader.h"

#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sb/caltime/caltime.h"
#include "sb/store/calendar/calendar_repository.h"
#include "sb/store/sync/sync_repository.h"
#include "sb/store/testing/connected_fixture.h"
#include "sb/sync/calendar/model.h"

namespace sb::sync::calendar {

// gtest prints intervals as RFC 3339 (found by argument-dependent lookup).
void PrintTo(const Interval& i, std::ostream* os) {
  *os << "[" << caltime::FormatUtcMillis(i.start_ms) << ", " << caltime::FormatUtcMillis(i.end_ms)
      << ")";
}

namespace {

using store::testing::SqliteTestBackend;
using Intervals = std::vector<Interval>;

constexpr int64_t kMinute = 60'000;
constexpr int64_t kDay = 86'400'000;

int64_t At(const std::string& rfc3339) {
  auto ms = caltime::ParseRfc3339(rfc3339);
  EXPECT_TRUE(ms.ok()) << rfc3339;
  return ms.ok() ? *ms : 0;
}

Interval Iv(const std::string& start, const std::string& end) { return {At(start), At(end)}; }

Event Timed(const std::string& id, const std::string& start, const std::string& end) {
  Event e;
  e.provider_id = id;
  e.start.instant_ms = At(start);
  e.start.time_zone = "Europe/Zurich";
  e.end.instant_ms = At(end);
  e.end.time_zone = "Europe/Zurich";
  return e;
}

// Two connections of tenant a in a SQLite store. Connection 1 has a synced calendar with
// singles and a weekly series (one occurrence cancelled), and an unselected calendar; connection
// 2 a single and an all-day event. All on Monday 2 to Wednesday 4 March 2026 (Zurich, CET).
class AvailabilityReaderTest : public store::testing::ConnectedConformanceTest<SqliteTestBackend> {
 protected:
  void SetUp() override {
    ConnectedConformanceTest::SetUp();
    c1_ = PutConnection(a_);
    c2_ = PutConnection(a_);
    const CalendarId primary1 = PutCalendar(c1_, "primary", true, "Europe/Zurich");
    const CalendarId holidays = PutCalendar(c1_, "holidays", false, "Europe/Zurich");
    const CalendarId primary2 = PutCalendar(c2_, "primary", true, "Europe/Zurich");

    PutEvent(c1_, primary1, Timed("meeting", "2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z"));
    Event transparent = Timed("focus", "2026-03-02T11:00:00Z", "2026-03-02T12:00:00Z");
    transparent.transparency = Transparency::kTransparent;
    PutEvent(c1_, primary1, transparent);
    Event cancelled = Timed("called-off", "2026-03-02T12:00:00Z", "2026-03-02T13:00:00Z");
    cancelled.status = EventStatus::kCancelled;
    PutEvent(c1_, primary1, cancelled);
    Event declined = Timed("declined", "2026-03-03T09:00:00Z", "2026-03-03T10:00:00Z");
    declined.attendees.push_back(
        Attendee{.email = "me@example.com", .response = ResponseStatus::kDeclined, .self = true});
    PutEvent(c1_, primary1, declined);
    // Mondays to Wednesdays 15:00-16:00 CET since 23 February; Tuesday 3 March cancelled,
    // Wednesday 4 March moved out of the window (to 20 March).
    Event series = Timed("weekly", "2026-02-23T14:00:00Z", "2026-02-23T15:00:00Z");
    series.kind = EventKind::kSeriesMaster;
    series.recurrence = {"RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE"};
    PutEvent(c1_, primary1, series);
    Event skipped =
        Timed("weekly_20260303T140000Z", "2026-03-03T14:00:00Z", "2026-03-03T15:00:00Z");
    skipped.kind = EventKind::kException;
    skipped.series_master_provider_id = "weekly";
    skipped.original_start = skipped.start;
    skipped.status = EventStatus::kCancelled;
    PutEvent(c1_, primary1, skipped);
    Event moved = Timed("weekly_20260304T140000Z", "2026-03-20T14:00:00Z", "2026-03-20T15:00:00Z");
    moved.kind = EventKind::kException;
    moved.series_master_provider_id = "weekly";
    moved.original_start = Timed("", "2026-03-04T14:00:00Z", "2026-03-04T15:00:00Z").start;
    PutEvent(c1_, primary1, moved);
    PutEvent(c1_, holidays, Timed("not-synced", "2026-03-03T10:00:00Z", "2026-03-03T12:00:00Z"));

    PutEvent(c2_, primary2, Timed("overlap", "2026-03-02T09:30:00Z", "2026-03-02T10:30:00Z"));
    Event day_off;
    day_off.provider_id = "day-off";
    day_off.all_day = true;
    day_off.start.date = "2026-03-04";
    day_off.end.date = "2026-03-05";
    PutEvent(c2_, primary2, day_off);
  }

  CalendarId PutCalendar(const ConnectionId& connection, const std::string& provider_id,
                         bool selected, const std::string& zone) {
    store::CalendarRecord r;
    r.tenant_id = a_;
    r.id = CalendarId(ids_.NewUuid());
    r.connection_id = connection;
    r.provider_id = provider_id;
    r.name = provider_id;
    Calendar calendar;
    calendar.provider_id = provider_id;
    calendar.name = provider_id;
    calendar.time_zone = zone;
    r.data = CalendarToJson(calendar);
    r.selected = selected;
    r.created_at = clock_.Now();
    r.updated_at = r.created_at;
    auto stored = Call(a_, [&](store::Transaction& tx) { return cals_.UpsertCalendar(tx, a_, r); });
    EXPECT_TRUE(stored.ok()) << stored.status().ToString();
    return stored.ok() ? stored->id : r.id;
  }

  // Stored as the calendar sync stores it (calendar_sync.cc): the unified JSON and its span.
  void PutEvent(const ConnectionId& connection, const CalendarId& calendar, const Event& e) {
    clock_.Advance(std::chrono::milliseconds(2));
    store::EventRecord r;
    r.tenant_id = a_;
    r.id = EventId(ids_.NewUuid());
    r.connection_id = connection;
    r.calendar_id = calendar;
    r.provider_id = e.provider_id;
    r.series_master_provider_id = e.series_master_provider_id;
    r.status = std::string(EventStatusName(e.status));
    auto span = EventSpan(e);
    ASSERT_TRUE(span.ok()) << span.status().ToString();
    r.start_ms = span->start_ms;
    r.end_ms = span->end_ms;
    r.data = EventToJson(e);
    r.content_hash = std::string(64, 'a');
    r.created_at = clock_.Now();
    r.updated_at = r.created_at;
    Status s = Call(a_, [&](store::Transaction& tx) { return cals_.PutEvent(tx, a_, r); });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  AvailabilityQuery Query() const {
    AvailabilityQuery q;
    q.connections = {c1_, c2_};
    q.start_ms = At("2026-03-02T00:00:00Z");
    q.end_ms = At("2026-03-05T00:00:00Z");
    q.time_zone = "Europe/Zurich";
    return q;
  }

  store::CalendarRepository cals_;
  ConnectionId c1_;
  ConnectionId c2_;
};

TEST_F(AvailabilityReaderTest, BusyFreeAndSlotsWithinWorkingHours) {
  AvailabilityReader reader(*db_, clock_);
  AvailabilityQuery q = Query();
  q.hours = WorkingHours{};  // 09:00-17:00 CET: 08:00Z-16:00Z
  q.slot_ms = 30 * kMinute;
  auto got = reader.Compute(a_, q);
  ASSERT_TRUE(got.ok()) << got.status().ToString();

  ASSERT_EQ(got->busy_by_connection.size(), 2u);
  EXPECT_EQ(got->busy_by_connection[0].connection, c1_);
  EXPECT_EQ(got->busy_by_connection[0].busy,
            (Intervals{Iv("2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z"),
                       Iv("2026-03-02T14:00:00Z", "2026-03-02T15:00:00Z")}));
  EXPECT_EQ(got->busy_by_connection[1].connection, c2_);
  EXPECT_EQ(got->busy_by_connection[1].busy,
            (Intervals{Iv("2026-03-02T09:30:00Z", "2026-03-02T10:30:00Z"),
                       Iv("2026-03-03T23:00:00Z", "2026-03-04T23:00:00Z")}));
  EXPECT_EQ(got->busy, (Intervals{Iv("2026-03-02T09:00:00Z", "2026-03-02T10:30:00Z"),
                                  Iv("2026-03-02T14:00:00Z", "2026-03-02T15:00:00Z"),
                                  Iv("2026-03-03T23:00:00Z", "2026-03-04T23:00:00Z")}));
  EXPECT_EQ(got->free, (Intervals{Iv("2026-03-02T08:00:00Z", "2026-03-02T09:00:00Z"),
                                  Iv("2026-03-02T10:30:00Z", "2026-03-02T14:00:00Z"),
                                  Iv("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
                                  Iv("2026-03-03T08:00:00Z", "2026-03-03T16:00:00Z")}));
  // Monday: 2 + 7 + 2; Tuesday: 16.
  ASSERT_EQ(got->slots.size(), 27u);
  EXPECT_EQ(got->slots[0], Iv("2026-03-02T08:00:00Z", "2026-03-02T08:30:00Z"));
  EXPECT_EQ(got->slots[2], Iv("2026-03-02T10:30:00Z", "2026-03-02T11:00:00Z"));
  EXPECT_EQ(got->slots[10], Iv("2026-03-02T15:30:00Z", "2026-03-02T16:00:00Z"));
  EXPECT_EQ(got->slots[26], Iv("2026-03-03T15:30:00Z", "2026-03-03T16:00:00Z"));

  const Json j = AvailabilityJson(*got);
  EXPECT_EQ(j["busy_by_connection"][1]["connection_id"], c2_.value());
  EXPECT_EQ(j["busy_by_connection"][1]["busy"][1]["start"], "2026-03-03T23:00:00.000Z");
  EXPECT_EQ(j["busy"].size(), 3u);
  EXPECT_EQ(j["free"][0]["start"], "2026-03-02T08:00:00.000Z");
  EXPECT_EQ(j["free"][0]["end"], "2026-03-02T09:00:00.000Z");
  EXPECT_EQ(j["slots"].size(), 27u);
}

TEST_F(AvailabilityReaderTest, WithoutHoursTheWholeWindowAndBusyClippedToIt) {
  AvailabilityReader reader(*db_, clock_);
  AvailabilityQuery q = Query();
  q.connections = {c2_};
  q.start_ms = At("2026-03-02T10:00:00Z");
  q.end_ms = At("2026-03-04T12:00:00Z");  // ends inside the day off
  auto got = reader.Compute(a_, q);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->busy, (Intervals{Iv("2026-03-02T10:00:00Z", "2026-03-02T10:30:00Z"),
                                  Iv("2026-03-03T23:00:00Z", "2026-03-04T12:00:00Z")}));
  EXPECT_EQ(got->free, (Intervals{Iv("2026-03-02T10:30:00Z", "2026-03-03T23:00:00Z")}));
  EXPECT_TRUE(got->slots.empty());
}

TEST_F(AvailabilityReaderTest, AnotherTenantsOrUnknownConnectionIsNotFound) {
  AvailabilityReader reader(*db_, clock_);
  AvailabilityQuery q = Query();
  EXPECT_EQ(reader.Compute(b_, q).status().code(), StatusCode::kNotFound);
  q.connections = {c1_, ConnectionId(ids_.NewUuid())};
  EXPECT_EQ(reader.Compute(a_, q).status().code(), StatusCode::kNotFound);
  q.connections = {ConnectionId("not-a-uuid")};
  EXPECT_EQ(reader.Compute(a_, q).status().code(), StatusCode::kNotFound);
  // Tenant b's own connection works for b and not for a.
  const ConnectionId theirs = PutConnection(b_);
  q.connections = {theirs};
  auto got = reader.Compute(b_, q);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->busy.empty());
  EXPECT_EQ(got->free, (Intervals{{q.start_ms, q.end_ms}}));
  EXPECT_EQ(reader.Compute(a_, q).status().code(), StatusCode::kNotFound);
}

// A store is fresh while its last successful calendar sync is within max_staleness; without a
// provider to ask, a stale store still answers, flagged; a query for the provider fails.
TEST_F(AvailabilityReaderTest, StoresNotFreshAreFlaggedStale) {
  AvailabilityReader reader(*db_, clock_);
  AvailabilityQuery q = Query();
  q.connections = {c1_};
  auto stale = [&]() {
    auto got = reader.Compute(a_, q);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (!got.ok()) return false;
    EXPECT_EQ(got->busy_by_connection[0].source, AvailabilitySource::kStore);
    return got->busy_by_connection[0].stale;
  };
  EXPECT_TRUE(stale());  // never synced
  ASSERT_TRUE(InTenant(a_, [&](store::Transaction& tx) {
                return store::SyncRepository().PutState(
                    tx, a_,
                    store::SyncStateRecord{.tenant_id = a_,
                                           .connection_id = c1_,
                                           .service = "calendar",
                                           .last_success_at = clock_.Now(),
                                           .created_at = clock_.Now(),
                                           .updated_at = clock_.Now()});
              }).ok());
  EXPECT_FALSE(stale());
  clock_.Advance(std::chrono::minutes(16));
  EXPECT_TRUE(stale());
  q.max_staleness = std::chrono::hours(1);
  EXPECT_FALSE(stale());
  q.source = AvailabilitySource::kStore;
  q.max_staleness = std::chrono::seconds(0);
  EXPECT_TRUE(stale());
  q.source = AvailabilitySource::kProvider;
  EXPECT_EQ(reader.Compute(a_, q).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(ParseAvailabilitySource("provider"), AvailabilitySource::kProvider);
  EXPECT_FALSE(ParseAvailabilitySource("cache").has_value());
  EXPECT_EQ(AvailabilitySourceName(AvailabilitySource::kAuto), "auto");
}

TEST_F(AvailabilityReaderTest, RefusesHostileQueries) {
  AvailabilityReader reader(*db_, clock_);
  auto code = [&](const AvailabilityQuery& q) { return reader.Compute(a_, q).status().code(); };
  AvailabilityQuery q = Query();
  q.end_ms = q.start_ms + 62 * kDay;
  q.hours = WorkingHours{};
  q.slot_ms = 5 * kMinute;
  EXPECT_EQ(code(q), StatusCode::kOk);
  std::vector<AvailabilityQuery> bad;
  auto with = [&](auto change) {
    AvailabilityQuery copy = Query();
    change(copy);
    bad.push_back(copy);
  };
  with([](AvailabilityQuery& x) { x.connections.clear(); });
  with([&](AvailabilityQuery& x) {
    x.connections.clear();
    for (int i = 0; i < 21; ++i) x.connections.push_back(ConnectionId(ids_.NewUuid()));
  });
  with([&](AvailabilityQuery& x) { x.connections = {c1_, c1_}; });
  with([](AvailabilityQuery& x) { x.end_ms = x.start_ms; });
  with([](AvailabilityQuery& x) { x.end_ms = x.start_ms - 1; });
  with([](AvailabilityQuery& x) { x.end_ms = x.start_ms + 62 * kDay + 1; });
  with([](AvailabilityQuery& x) {
    x.start_ms = std::numeric_limits<int64_t>::min();
    x.end_ms = std::numeric_limits<int64_t>::max();
  });
  with([](AvailabilityQuery& x) {
    x.end_ms = std::numeric_limits<int64_t>::max();
    x.start_ms = x.end_ms - kDay;
  });
  with([](AvailabilityQuery& x) { x.time_zone = "Europe/Atlantis"; });
  with([](AvailabilityQuery& x) { x.time_zone = ""; });
  with([](AvailabilityQuery& x) { x.slot_ms = -30 * kMinute; });
  with([](AvailabilityQuery& x) { x.slot_ms = 5 * kMinute - 1; });
  with([](AvailabilityQuery& x) { x.slot_ms = kDay + 1; });
  with([](AvailabilityQuery& x) { x.hours = WorkingHours{600, 500}; });
  for (size_t i = 0; i < bad.size(); ++i) {
    EXPECT_EQ(code(bad[i]), StatusCode::kInvalidArgument) << "case " << i;
  }
}

TEST_F(AvailabilityReaderTest, SlotsStayBoundedOverTheLongestWindow) {
  AvailabilityReader reader(*db_, clock_);
  AvailabilityQuery q = Query();
  q.connections = {PutConnection(a_)};  // nothing busy
  q.end_ms = q.start_ms + 62 * kDay;
  q.slot_ms = 5 * kMinute;  // 62 days of 5-minute slots would be 17,856
  auto got = reader.Compute(a_, q);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->slots.size(), kMaxSlots);
}

}  // namespace
}  // namespace sb::sync::calendar
