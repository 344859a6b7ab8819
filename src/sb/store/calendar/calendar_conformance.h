// Conformance suite of the synced-calendar storage (CalendarRepository), written once and
// instantiated per backend like repository_conformance.h: round trips, the calendar upsert by
// provider id, unique provider ids per calendar, window queries (timed, all-day, unbounded
// series), updated_since and paging, the full-sync seen marks, the cascade on connection delete
// across every table of migration 12 (the change feed stays), cross-tenant refusals (RLS-09),
// validation and corrupt rows (DATA_LOSS). Include in exactly one translation unit per binary.
#pragma once

#include <algorithm>
#include <functional>
#include <map>

#include <gtest/gtest.h>

#include "sb/store/calendar/calendar_repository.h"
#include "sb/store/connections/connect_repository.h"
#include "sb/store/sync/sync_repository.h"
#include "sb/store/testing/connected_fixture.h"

namespace sb::store::testing {

inline constexpr int64_t kDayMs = 86'400'000;

template <typename TestBackend>
class CalendarConformanceTest : public ConnectedConformanceTest<TestBackend> {
 protected:
  CalendarRecord Calendar(const TenantId& tenant, const ConnectionId& connection,
                          std::string provider_id = "primary") {
    CalendarRecord r;
    r.tenant_id = tenant;
    r.id = CalendarId(this->ids_.NewUuid());
    r.connection_id = connection;
    r.provider_id = std::move(provider_id);
    r.name = "Ada's calendar\twith a tab";
    r.data = Json{{"name", r.name}, {"time_zone", "Europe/Zurich"}, {"color", "#0b8043"}};
    r.version = "\"etag-1\"";
    r.selected = false;
    r.created_at = this->clock_.Now();
    r.updated_at = r.created_at + std::chrono::seconds(1);
    return r;
  }

  CalendarRecord PutCalendar(const TenantId& tenant, const ConnectionId& connection,
                             std::string provider_id = "primary") {
    CalendarRecord r = Calendar(tenant, connection, std::move(provider_id));
    auto stored =
        this->Call(tenant, [&](Transaction& tx) { return cals_.UpsertCalendar(tx, tenant, r); });
    EXPECT_TRUE(stored.ok()) << stored.status().ToString();
    return r;
  }

  // Every field set; a timed event of an hour unless changed.
  EventRecord Event(const CalendarRecord& cal, std::string provider_id) {
    this->clock_.Advance(std::chrono::milliseconds(2));  // UUIDv7: distinct, ordered ids
    EventRecord r;
    r.tenant_id = cal.tenant_id;
    r.id = EventId(this->ids_.NewUuid());
    r.connection_id = cal.connection_id;
    r.calendar_id = cal.id;
    r.provider_id = std::move(provider_id);
    r.version = "\"3181161784712000\"";
    r.ical_uid = r.provider_id + "@google.com";
    r.series_master_provider_id = "";
    r.status = "confirmed";
    r.start_ms = 1'700'000'000'000;
    r.end_ms = *r.start_ms + 3'600'000;
    r.provider_updated_at = this->clock_.Now() - std::chrono::minutes(1);
    r.data = Json{{"title", "Standup – daily"}, {"attendees", Json::array({"a@x.example"})}};
    r.raw = Json{{"id", r.provider_id}, {"summary", "Standup – daily"}, {"etag", r.version}};
    r.content_hash = std::string(64, 'a');
    r.seen_in_run = SyncRunId(this->ids_.NewUuid());
    r.created_at = this->clock_.Now();
    r.updated_at = r.created_at;
    return r;
  }

  Status Put(const EventRecord& r) {
    return this->Call(r.tenant_id,
                      [&](Transaction& tx) { return cals_.PutEvent(tx, r.tenant_id, r); });
  }

  std::optional<EventRecord> Get(const TenantId& tenant, const EventId& id) {
    auto got = this->Call(tenant, [&](Transaction& tx) { return cals_.GetEvent(tx, tenant, id); });
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? *got : std::nullopt;
  }

  Result<std::vector<EventRecord>> List(const TenantId& tenant, const EventQuery& q) {
    return this->Call(tenant, [&](Transaction& tx) { return cals_.ListEvents(tx, tenant, q); });
  }

  // The ids ListEvents returns for `q` (in its order).
  std::vector<EventId> Ids(const TenantId& tenant, const EventQuery& q) {
    std::vector<EventId> out;
    auto got = List(tenant, q);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (got.ok()) {
      for (const EventRecord& r : *got) out.push_back(r.id);
    }
    return out;
  }

  static std::vector<EventId> Sorted(std::vector<EventId> ids) {
    std::sort(ids.begin(), ids.end(),
              [](const EventId& x, const EventId& y) { return x.value() < y.value(); });
    return ids;
  }

  // Runs `sql` with $1 = tenant and $2 = `value` to plant a malformed row.
  Status Exec(const TenantId& tenant, const std::string& sql, const std::string& value) {
    return this->InTenant(tenant, [&](Transaction& tx) {
      return tx.Execute(sql, {tenant.value(), value}).status();
    });
  }

  CalendarRepository cals_;
  SyncRepository sync_;
};

TYPED_TEST_SUITE_P(CalendarConformanceTest);

TYPED_TEST_P(CalendarConformanceTest, CalendarsUpsertByProviderIdKeepingIdAndCreation) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  CalendarRecord first = this->Calendar(a, c);
  auto stored =
      this->Call(a, [&](Transaction& tx) { return this->cals_.UpsertCalendar(tx, a, first); });
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(*stored, first);

  this->clock_.Advance(std::chrono::minutes(1));
  CalendarRecord again = this->Calendar(a, c);  // a new id and creation time, same provider id
  again.name = "Renamed";
  again.data = Json{{"name", "Renamed"}};
  again.version = "\"etag-2\"";
  again.selected = true;
  stored = this->Call(a, [&](Transaction& tx) { return this->cals_.UpsertCalendar(tx, a, again); });
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  CalendarRecord expected = again;
  expected.id = first.id;
  expected.created_at = first.created_at;
  EXPECT_EQ(*stored, expected);
  auto got =
      this->Call(a, [&](Transaction& tx) { return this->cals_.GetCalendar(tx, a, first.id); });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, expected);
  got = this->Call(a, [&](Transaction& tx) { return this->cals_.GetCalendar(tx, a, again.id); });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, std::nullopt);

  CalendarRecord work = this->PutCalendar(a, c, "work@example.com");
  const ConnectionId other = this->PutConnection(a);
  CalendarRecord elsewhere = this->PutCalendar(a, other, "primary");  // same provider id: fine
  auto listed = this->Call(a, [&](Transaction& tx) { return this->cals_.ListCalendars(tx, a, c); });
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::vector<CalendarRecord> want{expected, work};
  std::sort(want.begin(), want.end(),
            [](const auto& x, const auto& y) { return x.id.value() < y.id.value(); });
  EXPECT_EQ(*listed, want);

  CalendarRecord orphan = this->Calendar(a, ConnectionId(this->ids_.NewUuid()));
  EXPECT_EQ(
      this->Call(a, [&](Transaction& tx) { return this->cals_.UpsertCalendar(tx, a, orphan); })
          .status()
          .code(),
      StatusCode::kNotFound);
  CalendarRecord clash = this->Calendar(a, c, "third");
  clash.id = work.id;  // another calendar's id
  EXPECT_EQ(this->Call(a, [&](Transaction& tx) { return this->cals_.UpsertCalendar(tx, a, clash); })
                .status()
                .code(),
            StatusCode::kAlreadyExists);

  auto deleted =
      this->Call(a, [&](Transaction& tx) { return this->cals_.DeleteCalendar(tx, a, work.id); });
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(*deleted);
  deleted =
      this->Call(a, [&](Transaction& tx) { return this->cals_.DeleteCalendar(tx, a, work.id); });
  ASSERT_TRUE(deleted.ok());
  EXPECT_FALSE(*deleted);
  got =
      this->Call(a, [&](Transaction& tx) { return this->cals_.GetCalendar(tx, a, elsewhere.id); });
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->has_value());
}

TYPED_TEST_P(CalendarConformanceTest, EventsRoundTripReplaceFindAndDelete) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  CalendarRecord cal = this->PutCalendar(a, c);
  EventRecord master = this->Event(cal, "series1");
  master.end_ms = std::nullopt;  // an unbounded series
  EventRecord exception = this->Event(cal, "series1_20240102T090000Z");
  exception.series_master_provider_id = "series1";
  exception.status = "cancelled";
  exception.provider_updated_at = std::nullopt;
  exception.seen_in_run = std::nullopt;
  exception.data = Json::object();
  exception.raw = Json::object();
  for (const EventRecord& e : {master, exception}) ASSERT_TRUE(this->Put(e).ok());
  EXPECT_EQ(this->Get(a, master.id), master);
  EXPECT_EQ(this->Get(a, exception.id), exception);
  auto found = this->Call(
      a, [&](Transaction& tx) { return this->cals_.FindEvent(tx, a, cal.id, "series1"); });
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(*found, master);
  found =
      this->Call(a, [&](Transaction& tx) { return this->cals_.FindEvent(tx, a, cal.id, "nope"); });
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, std::nullopt);

  // Replacing by id: every field, the provider id included.
  EventRecord changed = master;
  changed.provider_id = "series1-moved";
  changed.version = "\"2\"";
  changed.end_ms = *changed.start_ms + kDayMs * 30;
  changed.data = Json{{"title", "Standup (moved)"}};
  changed.content_hash = std::string(64, 'b');
  changed.updated_at += std::chrono::minutes(3);
  ASSERT_TRUE(this->Put(changed).ok());
  EXPECT_EQ(this->Get(a, master.id), changed);

  // Another row of the calendar with the provider id: refused, in either direction.
  EventRecord duplicate = this->Event(cal, "series1-moved");
  EXPECT_EQ(this->Put(duplicate).code(), StatusCode::kAlreadyExists);
  EventRecord steal = exception;
  steal.provider_id = "series1-moved";
  EXPECT_EQ(this->Put(steal).code(), StatusCode::kAlreadyExists);
  // The same provider id in another calendar is another event.
  CalendarRecord other_cal = this->PutCalendar(a, c, "other");
  EXPECT_TRUE(this->Put(this->Event(other_cal, "series1-moved")).ok());

  EventRecord orphan = this->Event(cal, "orphan");
  orphan.calendar_id = CalendarId(this->ids_.NewUuid());
  EXPECT_EQ(this->Put(orphan).code(), StatusCode::kNotFound);
  EventRecord wrong_connection = this->Event(cal, "wrong");
  wrong_connection.connection_id = this->PutConnection(a);
  EXPECT_EQ(this->Put(wrong_connection).code(), StatusCode::kInvalidArgument);

  auto deleted =
      this->Call(a, [&](Transaction& tx) { return this->cals_.DeleteEvent(tx, a, exception.id); });
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(*deleted);
  deleted =
      this->Call(a, [&](Transaction& tx) { return this->cals_.DeleteEvent(tx, a, exception.id); });
  ASSERT_TRUE(deleted.ok());
  EXPECT_FALSE(*deleted);
  EXPECT_EQ(this->Get(a, exception.id), std::nullopt);

  // Deleting the calendar deletes its events.
  ASSERT_TRUE(
      this->Call(a, [&](Transaction& tx) { return this->cals_.DeleteCalendar(tx, a, cal.id); })
          .ok());
  EXPECT_EQ(this->Get(a, master.id), std::nullopt);
}

// PutEvents: every record written as PutEvent would (across statement batches of several
// sizes and two calendars), replacing by id; one bad record and nothing is written.
TYPED_TEST_P(CalendarConformanceTest, PutEventsWritesAllOrNothing) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  const CalendarRecord one = this->PutCalendar(a, c);
  const CalendarRecord two = this->PutCalendar(a, c, "two");
  std::vector<EventRecord> records;
  for (int i = 0; i < 45; ++i) {
    records.push_back(this->Event(i % 3 == 0 ? two : one, "e" + std::to_string(i)));
  }
  auto put = [&](const std::vector<EventRecord>& batch) {
    return this->InTenant(a, [&](Transaction& tx) { return this->cals_.PutEvents(tx, a, batch); });
  };
  ASSERT_TRUE(put(records).ok());
  for (const EventRecord& r : records) EXPECT_EQ(this->Get(a, r.id), r);
  records[7].data = Json{{"title", "changed"}};
  records[7].content_hash = std::string(64, 'c');
  records[30].end_ms = *records[30].start_ms + kDayMs;
  ASSERT_TRUE(put({records[7], records[30]}).ok());
  EXPECT_EQ(this->Get(a, records[7].id), records[7]);
  EXPECT_EQ(this->Get(a, records[30].id), records[30]);

  std::vector<EventRecord> refused{this->Event(one, "fresh1"), this->Event(one, "fresh2")};
  refused.back().version = std::string("bad\nversion");
  EXPECT_EQ(put(refused).code(), StatusCode::kInvalidArgument);
  std::vector<EventRecord> repeated{this->Event(one, "fresh3")};
  repeated.push_back(repeated.front());
  EXPECT_EQ(put(repeated).code(), StatusCode::kInvalidArgument);
  std::vector<EventRecord> mixed{this->Event(one, "fresh4"), this->Event(two, "fresh5")};
  mixed.back().connection_id = this->PutConnection(a);
  EXPECT_EQ(put(mixed).code(), StatusCode::kInvalidArgument);
  for (const auto* batch : {&refused, &repeated, &mixed}) {
    for (const EventRecord& r : *batch) EXPECT_EQ(this->Get(a, r.id), std::nullopt);
  }
  EXPECT_TRUE(put({}).ok());
}

// FindEvents: the calendar's events among the ids (over statement batches of several sizes),
// none of another calendar or tenant, and no error for ids no event could have.
TYPED_TEST_P(CalendarConformanceTest, FindEventsReadsAPageOfIds) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  const CalendarRecord one = this->PutCalendar(a, c);
  const CalendarRecord two = this->PutCalendar(a, c, "two");
  std::vector<EventRecord> stored;
  for (int i = 0; i < 300; ++i) {
    stored.push_back(this->Event(one, "e" + std::to_string(i)));
    ASSERT_TRUE(this->Put(stored.back()).ok());
  }
  ASSERT_TRUE(this->Put(this->Event(two, "e1")).ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 600; i += 2) ids.push_back("e" + std::to_string(i));  // 150 stored
  ids.push_back("");
  ids.push_back(std::string(2000, 'x'));
  ids.push_back("bad\nid");
  auto found =
      this->Call(a, [&](Transaction& tx) { return this->cals_.FindEvents(tx, a, one.id, ids); });
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  std::map<std::string, EventRecord> by_id;
  for (const EventRecord& r : *found) by_id.emplace(r.provider_id, r);
  EXPECT_EQ(found->size(), 150u);
  for (int i = 0; i < 300; i += 2) EXPECT_EQ(by_id.at("e" + std::to_string(i)), stored[i]);
  EXPECT_FALSE(by_id.contains("e1"));  // in calendar two only
  auto other_tenant = this->Call(
      this->b_, [&](Transaction& tx) { return this->cals_.FindEvents(tx, this->b_, one.id, ids); });
  ASSERT_TRUE(other_tenant.ok()) << other_tenant.status().ToString();
  EXPECT_TRUE(other_tenant->empty());
}

TYPED_TEST_P(CalendarConformanceTest, WindowQueriesCoverTimedAllDayAndUnboundedEvents) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  CalendarRecord cal = this->PutCalendar(a, c);
  constexpr int64_t kDay = 1'700'000'000'000 / kDayMs * kDayMs;  // a midnight UTC
  auto put = [&](const std::string& id, std::optional<int64_t> start, std::optional<int64_t> end) {
    EventRecord e = this->Event(cal, id);
    e.start_ms = start;
    e.end_ms = end;
    EXPECT_TRUE(this->Put(e).ok()) << id;
    return e.id;
  };
  const EventId timed = put("timed", kDay + 10 * 3'600'000, kDay + 11 * 3'600'000);  // 10-11h
  const EventId all_day = put("all-day", kDay, kDay + kDayMs);                       // that day
  const EventId series = put("series", kDay - 7 * kDayMs, std::nullopt);  // weekly, no end
  const EventId next_day = put("next-day", kDay + kDayMs, kDay + 2 * kDayMs);
  const EventId instant = put("instant", kDay + 12 * 3'600'000, kDay + 12 * 3'600'000);
  const EventId unplaced = put("unplaced", std::nullopt, std::nullopt);
  auto window = [&](std::optional<int64_t> start, std::optional<int64_t> end) {
    EventQuery q;
    q.window_start_ms = start;
    q.window_end_ms = end;
    return this->Ids(a, q);
  };
  EXPECT_EQ(window(kDay + 10 * 3'600'000 + 1, kDay + 10 * 3'600'000 + 2),
            this->Sorted({timed, all_day, series}));
  // Ends are exclusive: an event ending where the window starts is outside.
  EXPECT_EQ(window(kDay + 11 * 3'600'000, kDay + 11 * 3'600'000 + 1),
            this->Sorted({all_day, series}));
  // Starts too: an event starting where the window ends is outside.
  EXPECT_EQ(window(kDay - 3'600'000, kDay), this->Sorted({series}));
  EXPECT_EQ(window(kDay + kDayMs, kDay + kDayMs + 1), this->Sorted({series, next_day}));
  EXPECT_EQ(window(kDay + 365 * kDayMs, kDay + 366 * kDayMs), this->Sorted({series}));
  EXPECT_EQ(window(kDay - 30 * kDayMs, kDay - 29 * kDayMs), std::vector<EventId>());
  // A zero-length event is inside a window around it.
  EXPECT_EQ(window(kDay + 12 * 3'600'000 - 1, kDay + 12 * 3'600'000 + 1),
            this->Sorted({all_day, series, instant}));
  // Half-open windows; without a window every event, the unplaced one too.
  EXPECT_EQ(window(kDay + kDayMs, std::nullopt), this->Sorted({series, next_day, unplaced}));
  EXPECT_EQ(window(std::nullopt, kDay), this->Sorted({series}));
  EXPECT_EQ(window(std::nullopt, std::nullopt),
            this->Sorted({timed, all_day, series, next_day, instant, unplaced}));

  // Filters combine with the connection and the calendar.
  CalendarRecord other_cal = this->PutCalendar(a, c, "other");
  EventRecord other = this->Event(other_cal, "timed");
  other.start_ms = kDay - 20 * kDayMs;
  other.end_ms = *other.start_ms + 3'600'000;
  ASSERT_TRUE(this->Put(other).ok());
  const ConnectionId c2 = this->PutConnection(a);
  CalendarRecord cal2 = this->PutCalendar(a, c2);
  EventRecord elsewhere = other;
  elsewhere.id = EventId(this->ids_.NewUuid());
  elsewhere.connection_id = c2;
  elsewhere.calendar_id = cal2.id;
  ASSERT_TRUE(this->Put(elsewhere).ok());
  EventQuery q;
  q.window_start_ms = kDay - 20 * kDayMs;  // only `other` and `elsewhere` are then
  q.window_end_ms = kDay - 20 * kDayMs + 1;
  q.connection_id = c;
  EXPECT_EQ(this->Ids(a, q), this->Sorted({other.id}));
  q.connection_id = c2;
  EXPECT_EQ(this->Ids(a, q), this->Sorted({elsewhere.id}));
  q.connection_id = std::nullopt;
  EXPECT_EQ(this->Ids(a, q), this->Sorted({other.id, elsewhere.id}));
  q.calendar_id = other_cal.id;
  EXPECT_EQ(this->Ids(a, q), this->Sorted({other.id}));
  q.connection_id = c2;  // a calendar of another connection: nothing
  EXPECT_EQ(this->Ids(a, q), std::vector<EventId>());
}

TYPED_TEST_P(CalendarConformanceTest, UpdatedSinceAndPagingInIdOrder) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  CalendarRecord cal = this->PutCalendar(a, c);
  std::vector<EventId> all;
  std::vector<EventId> recent;
  const Timestamp t0 = this->clock_.Now();
  for (int i = 0; i < 7; ++i) {
    EventRecord e = this->Event(cal, "e" + std::to_string(i));
    e.updated_at = t0 + std::chrono::seconds(i);
    ASSERT_TRUE(this->Put(e).ok());
    all.push_back(e.id);
    if (i >= 4) recent.push_back(e.id);
  }
  EventQuery q;
  q.updated_since = t0 + std::chrono::seconds(4);  // inclusive
  EXPECT_EQ(this->Ids(a, q), this->Sorted(recent));
  q.updated_since = t0 + std::chrono::seconds(7);
  EXPECT_EQ(this->Ids(a, q), std::vector<EventId>());

  std::vector<EventId> paged;
  EventQuery page;
  page.calendar_id = cal.id;
  page.limit = 3;
  for (int round = 0; round < 10; ++round) {
    std::vector<EventId> batch = this->Ids(a, page);
    EXPECT_LE(batch.size(), 3u);
    if (batch.empty()) break;
    paged.insert(paged.end(), batch.begin(), batch.end());
    page.after = batch.back();
  }
  EXPECT_EQ(paged, this->Sorted(all));
  page.after = std::nullopt;
  page.limit = 0;
  EXPECT_EQ(this->List(a, page).status().code(), StatusCode::kInvalidArgument);
  page.limit = CalendarRepository::kMaxListLimit + 1;
  EXPECT_EQ(this->List(a, page).status().code(), StatusCode::kInvalidArgument);
  page.limit = CalendarRepository::kMaxListLimit;
  EXPECT_EQ(this->List(a, page)->size(), all.size());
}

TYPED_TEST_P(CalendarConformanceTest, MarkSeenAndListNotSeenIn) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  CalendarRecord cal = this->PutCalendar(a, c);
  CalendarRecord other_cal = this->PutCalendar(a, c, "other");
  const SyncRunId run(this->ids_.NewUuid());
  std::vector<EventRecord> events;
  for (int i = 0; i < 4; ++i) {
    EventRecord e = this->Event(cal, "e" + std::to_string(i));
    if (i == 0) e.seen_in_run = std::nullopt;  // never seen by a full run
    if (i == 1) e.seen_in_run = run;           // written by this run
    ASSERT_TRUE(this->Put(e).ok());
    events.push_back(e);
  }
  ASSERT_TRUE(this->Put(this->Event(other_cal, "x")).ok());  // another calendar's
  auto not_seen = [&](int limit) {
    std::vector<EventId> out;
    auto got = this->Call(
        a, [&](Transaction& tx) { return this->cals_.ListNotSeenIn(tx, a, cal.id, run, limit); });
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (got.ok()) {
      for (const auto& e : *got) out.push_back(e.id);
    }
    return out;
  };
  EXPECT_EQ(not_seen(100), this->Sorted({events[0].id, events[2].id, events[3].id}));
  EXPECT_EQ(not_seen(1), this->Sorted({events[0].id}));
  ASSERT_TRUE(
      this->Call(a, [&](Transaction& tx) { return this->cals_.MarkSeen(tx, a, events[2].id, run); })
          .ok());
  EXPECT_EQ(not_seen(100), this->Sorted({events[0].id, events[3].id}));
  // Marking changes nothing else (updated_at included: the host sees no change).
  EventRecord marked = events[2];
  marked.seen_in_run = run;
  EXPECT_EQ(this->Get(a, events[2].id), marked);
  EXPECT_EQ(this->Call(a,
                       [&](Transaction& tx) {
                         return this->cals_.MarkSeen(tx, a, EventId(this->ids_.NewUuid()), run);
                       })
                .code(),
            StatusCode::kNotFound);
  EXPECT_EQ(this->Call(a,
                       [&](Transaction& tx) {
                         return this->cals_.ListNotSeenIn(tx, a, cal.id, run, 0).status();
                       })
                .code(),
            StatusCode::kInvalidArgument);
}

// A series' exceptions are found by their master's provider id, in that calendar only.
TYPED_TEST_P(CalendarConformanceTest, ListExceptionsOfASeries) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  CalendarRecord cal = this->PutCalendar(a, c);
  CalendarRecord other_cal = this->PutCalendar(a, c, "other");
  ASSERT_TRUE(this->Put(this->Event(cal, "m")).ok());
  std::vector<EventId> exceptions;
  for (int i = 0; i < 3; ++i) {
    EventRecord e = this->Event(cal, "m_" + std::to_string(i));
    e.series_master_provider_id = "m";
    ASSERT_TRUE(this->Put(e).ok());
    exceptions.push_back(e.id);
  }
  EventRecord other_series = this->Event(cal, "n_0");
  other_series.series_master_provider_id = "n";
  ASSERT_TRUE(this->Put(other_series).ok());
  EventRecord elsewhere = this->Event(other_cal, "m_0");
  elsewhere.series_master_provider_id = "m";
  ASSERT_TRUE(this->Put(elsewhere).ok());
  auto list = [&](const std::string& master, int limit) {
    std::vector<EventId> out;
    auto got = this->Call(a, [&](Transaction& tx) {
      return this->cals_.ListExceptions(tx, a, cal.id, master, limit);
    });
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (got.ok()) {
      for (const auto& e : *got) out.push_back(e.id);
    }
    return out;
  };
  EXPECT_EQ(list("m", 100), this->Sorted(exceptions));
  EXPECT_EQ(list("m", 2).size(), 2u);
  EXPECT_EQ(list("", 100), std::vector<EventId>());  // singles have no master
  EXPECT_EQ(list("gone", 100), std::vector<EventId>());
  EXPECT_EQ(this->Call(a,
                       [&](Transaction& tx) {
                         return this->cals_.ListExceptions(tx, a, cal.id, "m", 0).status();
                       })
                .code(),
            StatusCode::kInvalidArgument);
}

// Occurrence ids are kept per calendar, replaced when seen again, forgotten with their series
// or their calendar, and only within the tenant.
TYPED_TEST_P(CalendarConformanceTest, OccurrenceIdsPerCalendar) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  CalendarRecord cal = this->PutCalendar(a, c);
  CalendarRecord other_cal = this->PutCalendar(a, c, "other");
  auto put = [&](const CalendarRecord& on, std::vector<OccurrenceRef> refs) {
    return this->Call(
        a, [&](Transaction& tx) { return this->cals_.PutOccurrences(tx, a, on.id, refs); });
  };
  auto find = [&](const TenantId& t, const CalendarRecord& on, const std::string& id) {
    auto got = this->Call(
        t, [&](Transaction& tx) { return this->cals_.FindOccurrence(tx, t, on.id, id); });
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? *got : std::nullopt;
  };
  const OccurrenceRef first{"occ-1", "m", "2027-01-05T08:00:00Z"};
  const OccurrenceRef second{"occ-2", "m", "2027-01-06T08:00:00Z"};
  const OccurrenceRef all_day{"occ-3", "n", "2027-01-05"};
  ASSERT_TRUE(put(cal, {first, second, all_day}).ok());
  EXPECT_EQ(find(a, cal, "occ-1"), first);
  EXPECT_EQ(find(a, cal, "occ-3"), all_day);
  EXPECT_EQ(find(a, other_cal, "occ-1"), std::nullopt);
  EXPECT_EQ(find(a, cal, "unknown"), std::nullopt);
  // Seen again with another start (the series moved): replaced.
  const OccurrenceRef moved{"occ-1", "m", "2027-01-05T09:00:00Z"};
  ASSERT_TRUE(put(cal, {moved}).ok());
  EXPECT_EQ(find(a, cal, "occ-1"), moved);
  // Many at once (several statements), an id twice: the last one wins.
  std::vector<OccurrenceRef> many;
  for (int i = 0; i < 100; ++i) many.push_back({"bulk-" + std::to_string(i), "m", "2027-02-01"});
  many.push_back({"bulk-7", "m", "2027-02-08"});
  ASSERT_TRUE(put(cal, many).ok());
  EXPECT_EQ(find(a, cal, "bulk-99"), many[99]);
  EXPECT_EQ(find(a, cal, "bulk-7"), many.back());
  // Malformed refs write nothing.
  EXPECT_EQ(
      put(cal, {OccurrenceRef{"occ-4", "m", "2027-01-07"}, OccurrenceRef{"", "m", "x"}}).code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(find(a, cal, "occ-4"), std::nullopt);
  EXPECT_EQ(put(cal, {OccurrenceRef{"occ-5", "m", ""}}).code(), StatusCode::kInvalidArgument);
  // Another tenant finds nothing.
  EXPECT_EQ(find(this->b_, cal, "occ-1"), std::nullopt);
  // Gone with the series, then with the calendar.
  ASSERT_TRUE(this->Call(a,
                         [&](Transaction& tx) {
                           return this->cals_.DeleteOccurrencesOf(tx, a, cal.id, "m");
                         })
                  .ok());
  EXPECT_EQ(find(a, cal, "occ-1"), std::nullopt);
  EXPECT_EQ(find(a, cal, "occ-2"), std::nullopt);
  EXPECT_EQ(find(a, cal, "occ-3"), all_day);
  ASSERT_TRUE(
      this->Call(a, [&](Transaction& tx) { return this->cals_.DeleteCalendar(tx, a, cal.id); })
          .ok());
  ASSERT_TRUE(put(other_cal, {all_day}).ok());
  EXPECT_EQ(find(a, cal, "occ-3"), std::nullopt);
  EXPECT_EQ(find(a, other_cal, "occ-3"), all_day);
}

// Every table of migration 12 but the change feed goes with its connection.
TYPED_TEST_P(CalendarConformanceTest, ConnectionDeleteCascadesButChangesStay) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  const ConnectionId kept = this->PutConnection(a);
  CalendarRecord cal = this->PutCalendar(a, c);
  CalendarRecord kept_cal = this->PutCalendar(a, kept);
  EventRecord event = this->Event(cal, "e1");
  EventRecord kept_event = this->Event(kept_cal, "e1");
  ASSERT_TRUE(this->Put(event).ok());
  ASSERT_TRUE(this->Put(kept_event).ok());
  SyncStateRecord state;
  state.tenant_id = a;
  state.connection_id = c;
  state.service = "calendar";
  state.created_at = state.updated_at = this->clock_.Now();
  SyncRunRecord run;
  run.tenant_id = a;
  run.id = SyncRunId(this->ids_.NewUuid());
  run.connection_id = c;
  run.service = "calendar";
  run.created_at = run.updated_at = this->clock_.Now();
  ChangeRecord change;
  change.type = "event.created";
  change.resource_id = event.id.value();
  change.connection_id = c;
  ASSERT_TRUE(this->InTenant(a,
                             [&](Transaction& tx) -> Status {
                               SB_RETURN_IF_ERROR(this->sync_.PutState(tx, a, state));
                               SB_RETURN_IF_ERROR(this->sync_.InsertRun(tx, a, run));
                               return this->sync_.AppendChange(tx, a, change).status();
                             })
                  .ok());

  ASSERT_TRUE(this->Call(a, [&](Transaction& tx) { return this->conns_.Delete(tx, a, c); }).ok());
  Status s = this->InTenant(a, [&](Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto got_state, this->sync_.GetState(tx, a, c, "calendar"));
    EXPECT_EQ(got_state, std::nullopt);
    SB_ASSIGN_OR_RETURN(auto got_run, this->sync_.GetRun(tx, a, run.id));
    EXPECT_EQ(got_run, std::nullopt);
    SB_ASSIGN_OR_RETURN(auto got_cal, this->cals_.GetCalendar(tx, a, cal.id));
    EXPECT_EQ(got_cal, std::nullopt);
    SB_ASSIGN_OR_RETURN(auto got_event, this->cals_.GetEvent(tx, a, event.id));
    EXPECT_EQ(got_event, std::nullopt);
    SB_ASSIGN_OR_RETURN(auto changes, this->sync_.ListChanges(tx, a, {.limit = 10}));
    EXPECT_EQ(changes.size(), 1u);
    if (!changes.empty()) {
      EXPECT_EQ(changes[0].connection_id, c);
    }
    SB_ASSIGN_OR_RETURN(got_cal, this->cals_.GetCalendar(tx, a, kept_cal.id));
    EXPECT_EQ(got_cal, kept_cal);
    SB_ASSIGN_OR_RETURN(got_event, this->cals_.GetEvent(tx, a, kept_event.id));
    EXPECT_EQ(got_event, kept_event);
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TYPED_TEST_P(CalendarConformanceTest, CrossTenantAccessIsRefused) {
  const TenantId a = this->a_;
  const TenantId b = this->b_;
  const ConnectionId cb = this->PutConnection(b);
  CalendarRecord cal = this->PutCalendar(b, cb);
  EventRecord event = this->Event(cal, "e1");
  ASSERT_TRUE(this->Put(event).ok());
  const SyncRunId run(this->ids_.NewUuid());
  for (const auto& call : std::vector<std::function<Status(Transaction&)>>{
           [&](Transaction& tx) { return this->cals_.UpsertCalendar(tx, b, cal).status(); },
           [&](Transaction& tx) { return this->cals_.ListCalendars(tx, b, cb).status(); },
           [&](Transaction& tx) { return this->cals_.GetCalendar(tx, b, cal.id).status(); },
           [&](Transaction& tx) { return this->cals_.DeleteCalendar(tx, b, cal.id).status(); },
           [&](Transaction& tx) { return this->cals_.FindEvent(tx, b, cal.id, "e1").status(); },
           [&](Transaction& tx) { return this->cals_.GetEvent(tx, b, event.id).status(); },
           [&](Transaction& tx) { return this->cals_.PutEvent(tx, b, event); },
           [&](Transaction& tx) { return this->cals_.DeleteEvent(tx, b, event.id).status(); },
           [&](Transaction& tx) { return this->cals_.ListEvents(tx, b, {}).status(); },
           [&](Transaction& tx) { return this->cals_.MarkSeen(tx, b, event.id, run); },
           [&](Transaction& tx) {
             return this->cals_.ListNotSeenIn(tx, b, cal.id, run, 10).status();
           }}) {
    EXPECT_EQ(this->InTenant(a, call).code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(this->db_->RunUnscoped(call).code(), StatusCode::kPermissionDenied);
  }
  // Asked as A for A, B's rows do not exist and cannot be changed.
  Status s = this->InTenant(a, [&](Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto cals, this->cals_.ListCalendars(tx, a, cb));
    EXPECT_TRUE(cals.empty());
    SB_ASSIGN_OR_RETURN(auto got_cal, this->cals_.GetCalendar(tx, a, cal.id));
    EXPECT_EQ(got_cal, std::nullopt);
    SB_ASSIGN_OR_RETURN(auto found, this->cals_.FindEvent(tx, a, cal.id, "e1"));
    EXPECT_EQ(found, std::nullopt);
    SB_ASSIGN_OR_RETURN(found, this->cals_.GetEvent(tx, a, event.id));
    EXPECT_EQ(found, std::nullopt);
    SB_ASSIGN_OR_RETURN(auto events, this->cals_.ListEvents(tx, a, {}));
    EXPECT_TRUE(events.empty());
    SB_ASSIGN_OR_RETURN(events, this->cals_.ListNotSeenIn(tx, a, cal.id, run, 10));
    EXPECT_TRUE(events.empty());
    SB_ASSIGN_OR_RETURN(bool deleted, this->cals_.DeleteEvent(tx, a, event.id));
    EXPECT_FALSE(deleted);
    SB_ASSIGN_OR_RETURN(deleted, this->cals_.DeleteCalendar(tx, a, cal.id));
    EXPECT_FALSE(deleted);
    return OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(
      this->Call(a, [&](Transaction& tx) { return this->cals_.MarkSeen(tx, a, event.id, run); })
          .code(),
      StatusCode::kNotFound);
  EventRecord forged = event;
  forged.tenant_id = a;
  forged.data = Json{{"title", "forged"}};
  EXPECT_EQ(this->Put(forged).code(), StatusCode::kNotFound);  // B's calendar is not A's
  CalendarRecord forged_cal = cal;
  forged_cal.tenant_id = a;
  EXPECT_EQ(
      this->Call(a, [&](Transaction& tx) { return this->cals_.UpsertCalendar(tx, a, forged_cal); })
          .status()
          .code(),
      StatusCode::kNotFound);  // B's connection is not A's
  EXPECT_EQ(
      this->Call(a, [&](Transaction& tx) { return this->cals_.PutEvent(tx, a, event); }).code(),
      StatusCode::kInvalidArgument);  // a record of B in A's call
  EXPECT_EQ(this->Get(b, event.id), event);
  auto b_cal =
      this->Call(b, [&](Transaction& tx) { return this->cals_.GetCalendar(tx, b, cal.id); });
  ASSERT_TRUE(b_cal.ok());
  EXPECT_EQ(*b_cal, cal);
}

TYPED_TEST_P(CalendarConformanceTest, RejectsMalformedInput) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  CalendarRecord cal = this->PutCalendar(a, c);
  auto invalid = [&](const std::function<Status(Transaction&)>& call, const std::string& what) {
    EXPECT_EQ(this->InTenant(a, call).code(), StatusCode::kInvalidArgument) << what;
  };
  std::vector<std::pair<std::string, std::function<void(CalendarRecord&)>>> calendars = {
      {"id", [](auto& r) { r.id = CalendarId("x"); }},
      {"connection", [](auto& r) { r.connection_id = ConnectionId("x"); }},
      {"provider id empty", [](auto& r) { r.provider_id = ""; }},
      {"provider id long", [](auto& r) { r.provider_id = std::string(1025, 'p'); }},
      {"provider id control", [](auto& r) { r.provider_id = "a\nb"; }},
      {"name long", [](auto& r) { r.name = std::string(1025, 'n'); }},
      {"name nul", [](auto& r) { r.name = std::string("a\0b", 3); }},
      {"name utf8", [](auto& r) { r.name = "\xc3"; }},
      {"version", [](auto& r) { r.version = std::string(257, 'v'); }},
      {"data array", [](auto& r) { r.data = Json::array(); }},
      {"data big",
       [](auto& r) {
         r.data = Json{{"x", std::string(64 * 1024, 'x')}};
       }},
  };
  for (const auto& [what, mutate] : calendars) {
    CalendarRecord r = this->Calendar(a, c, "new");
    mutate(r);
    invalid([&](Transaction& tx) { return this->cals_.UpsertCalendar(tx, a, r).status(); }, what);
  }
  Json deep = Json::object();
  for (int i = 0; i < 40; ++i) deep = Json{{"d", deep}};
  std::vector<std::pair<std::string, std::function<void(EventRecord&)>>> events = {
      {"id", [](auto& r) { r.id = EventId("x"); }},
      {"calendar", [](auto& r) { r.calendar_id = CalendarId("x"); }},
      {"provider id", [](auto& r) { r.provider_id = ""; }},
      {"provider id long", [](auto& r) { r.provider_id = std::string(1025, 'p'); }},
      {"version", [](auto& r) { r.version = std::string(257, 'v'); }},
      {"ical uid", [](auto& r) { r.ical_uid = std::string(1025, 'u'); }},
      {"master", [](auto& r) { r.series_master_provider_id = "a\tb"; }},
      {"status", [](auto& r) { r.status = "maybe"; }},
      {"span", [](auto& r) { r.end_ms = *r.start_ms - 1; }},
      {"hash", [](auto& r) { r.content_hash = std::string(64, 'A'); }},
      {"hash short", [](auto& r) { r.content_hash = "abc"; }},
      {"seen", [](auto& r) { r.seen_in_run = SyncRunId("x"); }},
      {"data", [](auto& r) { r.data = Json(1); }},
      {"data big",
       [](auto& r) {
         r.data = Json{{"x", std::string(1024 * 1024, 'x')}};
       }},
      {"data deep", [&](auto& r) { r.data = deep; }},
      {"raw big",
       [](auto& r) {
         r.raw = Json{{"x", std::string(1024 * 1024, 'x')}};
       }},
      {"raw utf8",
       [](auto& r) {
         r.raw = Json{{"\xff", 1}};
       }},
  };
  for (const auto& [what, mutate] : events) {
    EventRecord r = this->Event(cal, "new");
    mutate(r);
    invalid([&](Transaction& tx) { return this->cals_.PutEvent(tx, a, r); }, what);
  }
  const SyncRunId run(this->ids_.NewUuid());
  invalid([&](Transaction& tx) { return this->cals_.GetCalendar(tx, a, CalendarId("x")).status(); },
          "get calendar");
  invalid(
      [&](Transaction& tx) { return this->cals_.ListCalendars(tx, a, ConnectionId("")).status(); },
      "list calendars");
  invalid([&](Transaction& tx) { return this->cals_.FindEvent(tx, a, cal.id, "").status(); },
          "find event");
  invalid([&](Transaction& tx) { return this->cals_.GetEvent(tx, a, EventId("x")).status(); },
          "get event");
  invalid([&](Transaction& tx) { return this->cals_.MarkSeen(tx, a, EventId("x"), run); },
          "mark seen");
  invalid(
      [&](Transaction& tx) {
        return this->cals_.ListNotSeenIn(tx, a, cal.id, SyncRunId("x"), 10).status();
      },
      "not seen run");
  for (const auto& [what, mutate] :
       std::vector<std::pair<std::string, std::function<void(EventQuery&)>>>{
           {"query connection", [](auto& q) { q.connection_id = ConnectionId("x"); }},
           {"query calendar", [](auto& q) { q.calendar_id = CalendarId("x"); }},
           {"query after", [](auto& q) { q.after = EventId("x"); }}}) {
    EventQuery q;
    mutate(q);
    invalid([&](Transaction& tx) { return this->cals_.ListEvents(tx, a, q).status(); }, what);
  }
  // Nothing was written.
  auto listed = this->List(a, {});
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TYPED_TEST_P(CalendarConformanceTest, CorruptRowsAreDataLoss) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  CalendarRecord cal = this->PutCalendar(a, c);
  EventRecord event = this->Event(cal, "e1");
  ASSERT_TRUE(this->Put(event).ok());
  auto calendar_code = [&] {
    return this
        ->Call(a, [&](Transaction& tx) { return this->cals_.ListCalendars(tx, a, c).status(); })
        .code();
  };
  auto event_code = [&] {
    return this
        ->Call(a, [&](Transaction& tx) { return this->cals_.GetEvent(tx, a, event.id).status(); })
        .code();
  };
  for (const auto& [sql, value] : std::vector<std::pair<std::string, std::string>>{
           {"UPDATE calendars SET data = $2 WHERE tenant_id = $1", "[]"},
           {"UPDATE calendars SET data = $2 WHERE tenant_id = $1", "{\"a\":"},
           {"UPDATE calendars SET data = '{}', provider_id = $2 WHERE tenant_id = $1", ""},
           {"UPDATE calendars SET provider_id = 'p', name = $2 WHERE tenant_id = $1",
            std::string(2000, 'n')}}) {
    ASSERT_TRUE(this->Exec(a, sql, value).ok()) << sql;
    EXPECT_EQ(calendar_code(), StatusCode::kDataLoss) << sql;
  }
  for (const auto& [sql, value] : std::vector<std::pair<std::string, std::string>>{
           {"UPDATE calendar_events SET content_hash = $2 WHERE tenant_id = $1", "not-a-hash"},
           {"UPDATE calendar_events SET content_hash = $2, raw = '1' WHERE tenant_id = $1",
            std::string(64, 'c')},
           {"UPDATE calendar_events SET raw = '{}', data = $2 WHERE tenant_id = $1",
            "{\"t\":\"" + std::string(1024 * 1024, 'x') + "\"}"},
           {"UPDATE calendar_events SET data = '{}', end_ms = start_ms - 1, version = $2 "
            "WHERE tenant_id = $1",
            "v"},
           {"UPDATE calendar_events SET end_ms = NULL, ical_uid = $2 WHERE tenant_id = $1",
            "a\nb"}}) {
    ASSERT_TRUE(this->Exec(a, sql, value).ok()) << sql;
    EXPECT_EQ(event_code(), StatusCode::kDataLoss) << sql;
  }
  ASSERT_TRUE(
      this->Exec(a, "UPDATE calendar_events SET ical_uid = $2 WHERE tenant_id = $1", "u").ok());
  EXPECT_EQ(event_code(), StatusCode::kOk);  // repaired: the checks above were the cause
}

REGISTER_TYPED_TEST_SUITE_P(CalendarConformanceTest, PutEventsWritesAllOrNothing,
                            FindEventsReadsAPageOfIds,
                            CalendarsUpsertByProviderIdKeepingIdAndCreation,
                            EventsRoundTripReplaceFindAndDelete,
                            WindowQueriesCoverTimedAllDayAndUnboundedEvents,
                            UpdatedSinceAndPagingInIdOrder, MarkSeenAndListNotSeenIn,
                            ListExceptionsOfASeries, ConnectionDeleteCascadesButChangesStay,
                            CrossTenantAccessIsRefused, RejectsMalformedInput,
                            CorruptRowsAreDataLoss, OccurrenceIdsPerCalendar);

}  // namespace sb::store::testing
