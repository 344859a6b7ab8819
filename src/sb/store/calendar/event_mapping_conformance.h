// Conformance suite of the host's event mappings (EventMappingRepository), written once and
// instantiated per backend like repository_conformance.h: round trips and the lookups by
// external id, event and provider ids, the list with its state filter and paging, the external
// id unique per connection, compare-and-set updates, the cascade on connection and calendar
// delete, cross-tenant refusals (RLS-09), validation and corrupt rows (DATA_LOSS). Include in
// exactly one translation unit per test binary.
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "sb/store/calendar/calendar_repository.h"
#include "sb/store/calendar/event_mapping_repository.h"
#include "sb/store/testing/connected_fixture.h"

namespace sb::store::testing {

template <typename TestBackend>
class EventMappingConformanceTest : public ConnectedConformanceTest<TestBackend> {
 protected:
  using Mappings = std::vector<EventMappingRecord>;

  CalendarRecord PutCalendar(const TenantId& tenant, const ConnectionId& connection) {
    CalendarRecord r;
    r.tenant_id = tenant;
    r.id = CalendarId(this->ids_.NewUuid());
    r.connection_id = connection;
    r.provider_id = "cal-" + r.id.value();
    r.created_at = this->clock_.Now();
    r.updated_at = r.created_at;
    auto stored =
        this->Call(tenant, [&](Transaction& tx) { return cals_.UpsertCalendar(tx, tenant, r); });
    EXPECT_TRUE(stored.ok()) << stored.status().ToString();
    return r;
  }

  // Every field set to something other than its default.
  EventMappingRecord Mapping(const CalendarRecord& cal, std::string external_id = "") {
    this->clock_.Advance(std::chrono::milliseconds(2));  // UUIDv7: distinct, ordered ids
    EventMappingRecord r;
    r.tenant_id = cal.tenant_id;
    r.id = this->ids_.NewUuid();
    r.connection_id = cal.connection_id;
    r.calendar_id = cal.id;
    r.external_id = external_id.empty() ? "booking-" + r.id : std::move(external_id);
    r.event_id = EventId(this->ids_.NewUuid());
    r.provider_id = "evt" + r.id.substr(24);
    r.provider_version = "\"3181161784712000\"";
    r.host_version = 3;
    r.state = MappingState::kConflict;
    r.last_error = "precondition failed – 412";
    r.pending = Json{{"title", "Dentist – checkup"}, {"start", "2026-01-02T10:00:00Z"}};
    r.created_at = this->clock_.Now();
    r.updated_at = r.created_at + std::chrono::seconds(1);
    return r;
  }

  Status Insert(const EventMappingRecord& r) {
    return this->Call(r.tenant_id,
                      [&](Transaction& tx) { return repo_.Insert(tx, r.tenant_id, r); });
  }

  Result<bool> Update(const TenantId& tenant, const EventMappingRecord& r, int64_t expected) {
    return this->Call(tenant,
                      [&](Transaction& tx) { return repo_.Update(tx, tenant, r, expected); });
  }

  Result<std::optional<EventMappingRecord>> Get(const TenantId& tenant, const std::string& id) {
    return this->Call(tenant, [&](Transaction& tx) { return repo_.Get(tx, tenant, id); });
  }

  Result<std::optional<EventMappingRecord>> ByExternal(const TenantId& tenant,
                                                       const ConnectionId& connection,
                                                       std::string_view external_id) {
    return this->Call(tenant, [&](Transaction& tx) {
      return repo_.FindByExternalId(tx, tenant, connection, external_id);
    });
  }

  Result<std::optional<EventMappingRecord>> ByEvent(const TenantId& tenant, const EventId& event) {
    return this->Call(tenant,
                      [&](Transaction& tx) { return repo_.FindByEvent(tx, tenant, event); });
  }

  // FindByProviderIds, sorted by id.
  Result<Mappings> ByProviderIds(const TenantId& tenant, const CalendarId& calendar,
                                 const std::vector<std::string>& ids) {
    auto found = this->Call(tenant, [&](Transaction& tx) {
      return repo_.FindByProviderIds(tx, tenant, calendar, ids);
    });
    if (found.ok()) {
      std::sort(found->begin(), found->end(),
                [](const auto& x, const auto& y) { return x.id < y.id; });
    }
    return found;
  }

  Result<Mappings> List(const TenantId& tenant, const ConnectionId& connection,
                        std::optional<MappingState> state = std::nullopt,
                        std::string_view after = "", int limit = 1000) {
    return this->Call(tenant, [&](Transaction& tx) {
      return repo_.List(tx, tenant, connection, state, after, limit);
    });
  }

  // Runs `sql` with $1 = tenant and $2 = `value` to plant a malformed row.
  Status Exec(const TenantId& tenant, const std::string& sql, const std::string& value) {
    return this->InTenant(tenant, [&](Transaction& tx) {
      return tx.Execute(sql, {tenant.value(), value}).status();
    });
  }

  CalendarRepository cals_;
  EventMappingRepository repo_;
};

TYPED_TEST_SUITE_P(EventMappingConformanceTest);

TYPED_TEST_P(EventMappingConformanceTest, RoundTripLookupsAndDelete) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  const CalendarRecord cal = this->PutCalendar(a, c);
  const CalendarRecord other_cal = this->PutCalendar(a, c);
  const EventMappingRecord m = this->Mapping(cal);
  EventMappingRecord bare = this->Mapping(cal);  // no event, provider id, error or pending yet
  bare.event_id = std::nullopt;
  bare.provider_id = "";
  bare.provider_version = "";
  bare.host_version = 0;
  bare.state = MappingState::kPending;
  bare.last_error = "";
  bare.pending = nullptr;
  const EventMappingRecord elsewhere = this->Mapping(other_cal);
  for (const EventMappingRecord& r : {m, bare, elsewhere}) {
    ASSERT_TRUE(this->Insert(r).ok()) << r.external_id;
  }
  for (const EventMappingRecord& r : {m, bare, elsewhere}) {
    auto got = this->Get(a, r.id);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, r);
    got = this->ByExternal(a, c, r.external_id);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, r);
  }
  auto by_event = this->ByEvent(a, *m.event_id);
  ASSERT_TRUE(by_event.ok()) << by_event.status().ToString();
  EXPECT_EQ(*by_event, m);
  by_event = this->ByEvent(a, EventId(this->ids_.NewUuid()));
  ASSERT_TRUE(by_event.ok());
  EXPECT_EQ(*by_event, std::nullopt);
  auto missing = this->ByExternal(a, c, "booking-unknown");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(*missing, std::nullopt);

  // Provider ids are per calendar; "" (not known yet) and unknown ids match nothing.
  auto by_provider = this->ByProviderIds(
      a, cal.id, {m.provider_id, elsewhere.provider_id, "", "unknown", m.provider_id});
  ASSERT_TRUE(by_provider.ok()) << by_provider.status().ToString();
  EXPECT_EQ(*by_provider, typename TestFixture::Mappings{m});
  by_provider = this->ByProviderIds(a, other_cal.id, {m.provider_id, elsewhere.provider_id});
  ASSERT_TRUE(by_provider.ok());
  EXPECT_EQ(*by_provider, typename TestFixture::Mappings{elsewhere});
  by_provider = this->ByProviderIds(a, cal.id, {""});
  ASSERT_TRUE(by_provider.ok());
  EXPECT_TRUE(by_provider->empty());

  auto deleted = this->Call(a, [&](Transaction& tx) { return this->repo_.Delete(tx, a, m.id); });
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_TRUE(*deleted);
  deleted = this->Call(a, [&](Transaction& tx) { return this->repo_.Delete(tx, a, m.id); });
  ASSERT_TRUE(deleted.ok());
  EXPECT_FALSE(*deleted);
  auto gone = this->Get(a, m.id);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(*gone, std::nullopt);
  by_event = this->ByEvent(a, *m.event_id);
  ASSERT_TRUE(by_event.ok());
  EXPECT_EQ(*by_event, std::nullopt);
  auto left = this->Get(a, bare.id);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, bare);
}

TYPED_TEST_P(EventMappingConformanceTest, ListFiltersByStateAndPages) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  const ConnectionId other = this->PutConnection(a);
  const CalendarRecord cal = this->PutCalendar(a, c);
  const CalendarRecord cal2 = this->PutCalendar(a, c);
  typename TestFixture::Mappings all;
  for (MappingState state : {MappingState::kSynced, MappingState::kPending, MappingState::kSynced,
                             MappingState::kError, MappingState::kSynced}) {
    EventMappingRecord r = this->Mapping(all.size() % 2 == 0 ? cal : cal2);
    r.state = state;
    ASSERT_TRUE(this->Insert(r).ok());
    all.push_back(r);
  }
  ASSERT_TRUE(this->Insert(this->Mapping(this->PutCalendar(a, other))).ok());

  auto listed = this->List(a, c);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(*listed, all);  // id order, the other connection's left out
  listed = this->List(a, c, std::nullopt, "", 2);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, (typename TestFixture::Mappings{all[0], all[1]}));
  listed = this->List(a, c, std::nullopt, all[1].id, 2);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, (typename TestFixture::Mappings{all[2], all[3]}));
  listed = this->List(a, c, std::nullopt, all[4].id, 2);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());

  listed = this->List(a, c, MappingState::kSynced);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, (typename TestFixture::Mappings{all[0], all[2], all[4]}));
  listed = this->List(a, c, MappingState::kSynced, all[0].id, 1);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, typename TestFixture::Mappings{all[2]});
  listed = this->List(a, c, MappingState::kError);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, typename TestFixture::Mappings{all[3]});
  listed = this->List(a, c, MappingState::kConflict);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TYPED_TEST_P(EventMappingConformanceTest, ExternalIdIsUniquePerConnection) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  const ConnectionId other = this->PutConnection(a);
  const CalendarRecord cal = this->PutCalendar(a, c);
  const CalendarRecord other_cal = this->PutCalendar(a, other);
  const EventMappingRecord first = this->Mapping(cal, "booking-42");
  ASSERT_TRUE(this->Insert(first).ok());
  EXPECT_EQ(this->Insert(this->Mapping(cal, "booking-42")).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(this->Insert(this->Mapping(this->PutCalendar(a, c), "booking-42")).code(),
            StatusCode::kAlreadyExists);  // per connection, whatever the calendar
  EventMappingRecord same_id = this->Mapping(cal);
  same_id.id = first.id;
  EXPECT_EQ(this->Insert(same_id).code(), StatusCode::kAlreadyExists);
  // Another connection may use the same external id.
  const EventMappingRecord second = this->Mapping(other_cal, "booking-42");
  ASSERT_TRUE(this->Insert(second).ok());
  auto found = this->ByExternal(a, other, "booking-42");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(*found, second);
  found = this->ByExternal(a, c, "booking-42");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, first);

  // The connection and the calendar must exist, and the calendar be the connection's.
  EventMappingRecord orphan = this->Mapping(cal);
  orphan.connection_id = ConnectionId(this->ids_.NewUuid());
  EXPECT_EQ(this->Insert(orphan).code(), StatusCode::kNotFound);
  EventMappingRecord no_calendar = this->Mapping(cal);
  no_calendar.calendar_id = CalendarId(this->ids_.NewUuid());
  EXPECT_EQ(this->Insert(no_calendar).code(), StatusCode::kNotFound);
  EventMappingRecord crossed = this->Mapping(cal);
  crossed.calendar_id = other_cal.id;
  EXPECT_EQ(this->Insert(crossed).code(), StatusCode::kInvalidArgument);
  auto listed = this->List(a, c);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, typename TestFixture::Mappings{first});
}

TYPED_TEST_P(EventMappingConformanceTest, UpdateComparesHostVersion) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  const CalendarRecord cal = this->PutCalendar(a, c);
  const CalendarRecord moved_to = this->PutCalendar(a, c);
  const EventMappingRecord stored = this->Mapping(cal);
  ASSERT_TRUE(this->Insert(stored).ok());

  EventMappingRecord next = stored;
  next.calendar_id = moved_to.id;
  next.event_id = std::nullopt;
  next.provider_id = "evt-moved";
  next.provider_version = "ck-2";
  next.host_version = stored.host_version + 1;
  next.state = MappingState::kSynced;
  next.last_error = "";
  next.pending = nullptr;
  next.updated_at += std::chrono::minutes(3);
  EventMappingRecord sent = next;  // fields Update keeps as they are
  sent.connection_id = this->PutConnection(a);
  sent.external_id = "renamed";
  sent.created_at -= std::chrono::hours(1);

  for (int64_t stale : {stored.host_version - 1, stored.host_version + 1, int64_t{0}}) {
    auto updated = this->Update(a, sent, stale);
    ASSERT_TRUE(updated.ok()) << updated.status().ToString();
    EXPECT_FALSE(*updated) << stale;
  }
  auto got = this->Get(a, stored.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, stored);  // nothing written

  auto updated = this->Update(a, sent, stored.host_version);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_TRUE(*updated);
  got = this->Get(a, stored.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, next);
  updated = this->Update(a, sent, stored.host_version);  // the version moved on
  ASSERT_TRUE(updated.ok());
  EXPECT_FALSE(*updated);

  EventMappingRecord back = next;
  back.pending = Json{{"title", "again"}};
  back.state = MappingState::kPending;
  updated = this->Update(a, back, next.host_version);  // the same version is fine
  ASSERT_TRUE(updated.ok());
  EXPECT_TRUE(*updated);
  got = this->Get(a, stored.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, back);

  EXPECT_EQ(this->Update(a, this->Mapping(cal), 3).status().code(), StatusCode::kNotFound);
  EventMappingRecord no_calendar = back;
  no_calendar.calendar_id = CalendarId(this->ids_.NewUuid());
  EXPECT_EQ(this->Update(a, no_calendar, back.host_version).status().code(), StatusCode::kNotFound);
  EventMappingRecord crossed = back;
  crossed.calendar_id = this->PutCalendar(a, this->PutConnection(a)).id;
  EXPECT_EQ(this->Update(a, crossed, back.host_version).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(this->Update(a, back, -1).status().code(), StatusCode::kInvalidArgument);
  got = this->Get(a, stored.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, back);
}

// Mappings go with their connection and with their calendar; not with their event.
TYPED_TEST_P(EventMappingConformanceTest, ConnectionAndCalendarDeleteCascade) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  const ConnectionId kept = this->PutConnection(a);
  const CalendarRecord doomed_cal = this->PutCalendar(a, c);
  const CalendarRecord cal = this->PutCalendar(a, c);
  const CalendarRecord kept_cal = this->PutCalendar(a, kept);
  const EventMappingRecord on_doomed = this->Mapping(doomed_cal);
  const EventMappingRecord on_cal = this->Mapping(cal);
  const EventMappingRecord stays = this->Mapping(kept_cal);
  for (const EventMappingRecord& r : {on_doomed, on_cal, stays}) {
    ASSERT_TRUE(this->Insert(r).ok());
  }
  auto dropped = this->Call(
      a, [&](Transaction& tx) { return this->cals_.DeleteCalendar(tx, a, doomed_cal.id); });
  ASSERT_TRUE(dropped.ok() && *dropped) << dropped.status().ToString();
  auto listed = this->List(a, c);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(*listed, typename TestFixture::Mappings{on_cal});
  auto got = this->Get(a, on_doomed.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, std::nullopt);

  ASSERT_TRUE(this->Call(a, [&](Transaction& tx) { return this->conns_.Delete(tx, a, c); }).ok());
  listed = this->List(a, c);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  got = this->ByExternal(a, c, on_cal.external_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, std::nullopt);
  listed = this->List(a, kept);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, typename TestFixture::Mappings{stays});
}

TYPED_TEST_P(EventMappingConformanceTest, CrossTenantAccessIsRefused) {
  const TenantId a = this->a_;
  const TenantId b = this->b_;
  const ConnectionId ca = this->PutConnection(a);
  const CalendarRecord cal_a = this->PutCalendar(a, ca);
  const EventMappingRecord ours = this->Mapping(cal_a);
  ASSERT_TRUE(this->Insert(ours).ok());
  for (const auto& call : std::vector<std::function<Status(Transaction&)>>{
           [&](Transaction& tx) { return this->repo_.Insert(tx, a, ours); },
           [&](Transaction& tx) { return this->repo_.Update(tx, a, ours, 3).status(); },
           [&](Transaction& tx) { return this->repo_.Delete(tx, a, ours.id).status(); },
           [&](Transaction& tx) { return this->repo_.Get(tx, a, ours.id).status(); },
           [&](Transaction& tx) {
             return this->repo_.FindByExternalId(tx, a, ca, ours.external_id).status();
           },
           [&](Transaction& tx) { return this->repo_.FindByEvent(tx, a, *ours.event_id).status(); },
           [&](Transaction& tx) {
             return this->repo_
                 .FindByProviderIds(tx, a, cal_a.id, std::vector<std::string>{ours.provider_id})
                 .status();
           },
           [&](Transaction& tx) {
             return this->repo_.List(tx, a, ca, std::nullopt, "", 10).status();
           }}) {
    EXPECT_EQ(this->InTenant(b, call).code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(this->db_->RunUnscoped(call).code(), StatusCode::kPermissionDenied);
  }
  // Asked as B with A's ids, A's mapping does not exist and cannot be changed.
  auto got = this->Get(b, ours.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, std::nullopt);
  got = this->ByExternal(b, ca, ours.external_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, std::nullopt);
  got = this->ByEvent(b, *ours.event_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, std::nullopt);
  auto found = this->ByProviderIds(b, cal_a.id, {ours.provider_id});
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->empty());
  found = this->List(b, ca);
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->empty());
  EventMappingRecord forged = ours;
  forged.tenant_id = b;
  forged.state = MappingState::kError;
  EXPECT_EQ(this->Update(b, forged, ours.host_version).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->Insert(forged).code(), StatusCode::kNotFound);  // A's connection
  auto deleted = this->Call(b, [&](Transaction& tx) { return this->repo_.Delete(tx, b, ours.id); });
  ASSERT_TRUE(deleted.ok());
  EXPECT_FALSE(*deleted);
  // A record naming another tenant than the call is refused.
  EXPECT_EQ(this->Call(b, [&](Transaction& tx) { return this->repo_.Insert(tx, b, ours); }).code(),
            StatusCode::kInvalidArgument);

  // B's own mapping with the same id, external id, event and provider id: each sees its own.
  const ConnectionId cb = this->PutConnection(b);
  const CalendarRecord cal_b = this->PutCalendar(b, cb);
  EventMappingRecord theirs = ours;
  theirs.tenant_id = b;
  theirs.connection_id = cb;
  theirs.calendar_id = cal_b.id;
  theirs.state = MappingState::kSynced;
  ASSERT_TRUE(this->Insert(theirs).ok());
  EventMappingRecord theirs_next = theirs;
  theirs_next.host_version = 9;
  auto updated = this->Update(b, theirs_next, theirs.host_version);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_TRUE(*updated);
  got = this->ByEvent(b, *ours.event_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, theirs_next);
  got = this->Get(a, ours.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, ours);
  got = this->ByEvent(a, *ours.event_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, ours);
}

TYPED_TEST_P(EventMappingConformanceTest, RejectsMalformedInput) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  const CalendarRecord cal = this->PutCalendar(a, c);
  const EventMappingRecord existing = this->Mapping(cal);
  ASSERT_TRUE(this->Insert(existing).ok());
  auto invalid = [&](const std::function<Status(Transaction&)>& call, const std::string& what) {
    EXPECT_EQ(this->InTenant(a, call).code(), StatusCode::kInvalidArgument) << what;
  };
  std::vector<std::pair<std::string, std::function<void(EventMappingRecord&)>>> mutations = {
      {"tenant", [](auto& r) { r.tenant_id = TenantId("x"); }},
      {"id", [](auto& r) { r.id = "map-1"; }},
      {"id empty", [](auto& r) { r.id = ""; }},
      {"connection", [](auto& r) { r.connection_id = ConnectionId("x"); }},
      {"calendar", [](auto& r) { r.calendar_id = CalendarId(""); }},
      {"event", [](auto& r) { r.event_id = EventId("evt"); }},
      {"external empty", [](auto& r) { r.external_id = ""; }},
      {"external space", [](auto& r) { r.external_id = "booking 42"; }},
      {"external long", [](auto& r) { r.external_id = std::string(257, 'e'); }},
      {"external control", [](auto& r) { r.external_id = "a\tb"; }},
      {"external utf8", [](auto& r) { r.external_id = "caf\xc3\xa9"; }},
      {"provider id long", [](auto& r) { r.provider_id = std::string(1025, 'p'); }},
      {"provider id control", [](auto& r) { r.provider_id = "a\nb"; }},
      {"provider version long", [](auto& r) { r.provider_version = std::string(257, 'v'); }},
      {"provider version utf8", [](auto& r) { r.provider_version = "\xff"; }},
      {"host version", [](auto& r) { r.host_version = -1; }},
      {"state", [](auto& r) { r.state = static_cast<MappingState>(9); }},
      {"error long", [](auto& r) { r.last_error = std::string(1025, 'e'); }},
      {"error nul", [](auto& r) { r.last_error = std::string("a\0b", 3); }},
      {"error utf8", [](auto& r) { r.last_error = "\xff"; }},
      {"pending array",
       [](auto& r) {
         r.pending = Json::array({1, 2});
       }},
      {"pending string", [](auto& r) { r.pending = "event"; }},
      {"pending number", [](auto& r) { r.pending = 7; }},
      {"pending utf8",
       [](auto& r) {
         r.pending = Json{{"title", "\xff"}};
       }},
      {"pending large",
       [](auto& r) {
         r.pending = Json{{"notes", std::string(1024 * 1024, 'n')}};
       }},
  };
  for (const auto& [what, mutate] : mutations) {
    EventMappingRecord fresh = this->Mapping(cal);
    mutate(fresh);
    invalid([&](Transaction& tx) { return this->repo_.Insert(tx, a, fresh); }, "insert " + what);
    EventMappingRecord changed = existing;
    mutate(changed);
    invalid([&](Transaction& tx) { return this->repo_.Update(tx, a, changed, 3).status(); },
            "update " + what);
  }
  // Limits are inclusive.
  EventMappingRecord longest = this->Mapping(cal, std::string(256, '~'));
  longest.provider_id = std::string(1024, 'p');
  longest.provider_version = std::string(256, 'v');
  longest.last_error = std::string(1024, 'l');
  longest.pending = Json{{"n", std::string(1024 * 1024 - 8, 'n')}};  // {"n":"…"}: exactly 1 MiB
  ASSERT_EQ(longest.pending.dump().size(), size_t{1024 * 1024});
  EXPECT_TRUE(this->Insert(longest).ok());

  invalid([&](Transaction& tx) { return this->repo_.Get(tx, a, "map-1").status(); }, "get");
  invalid([&](Transaction& tx) { return this->repo_.Delete(tx, a, "").status(); }, "delete");
  for (const std::string& external : {std::string(), std::string("a b"), std::string(257, 'e')}) {
    invalid(
        [&](Transaction& tx) { return this->repo_.FindByExternalId(tx, a, c, external).status(); },
        "find external of " + std::to_string(external.size()) + " bytes");
  }
  invalid(
      [&](Transaction& tx) {
        return this->repo_.FindByExternalId(tx, a, ConnectionId("x"), "e").status();
      },
      "find external connection");
  invalid([&](Transaction& tx) { return this->repo_.FindByEvent(tx, a, EventId("x")).status(); },
          "find event");
  const std::vector<std::string> too_many(EventMappingRepository::kMaxLookup + 1, "p");
  invalid(
      [&](Transaction& tx) {
        return this->repo_.FindByProviderIds(tx, a, cal.id, too_many).status();
      },
      "too many provider ids");
  invalid(
      [&](Transaction& tx) {
        return this->repo_.FindByProviderIds(tx, a, CalendarId("x"), std::vector<std::string>{})
            .status();
      },
      "provider ids calendar");
  const std::vector<std::string> most(EventMappingRepository::kMaxLookup, existing.provider_id);
  auto found = this->ByProviderIds(a, cal.id, most);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(*found, typename TestFixture::Mappings{existing});
  for (int limit : {0, -1, 1001}) {
    invalid(
        [&](Transaction& tx) {
          return this->repo_.List(tx, a, c, std::nullopt, "", limit).status();
        },
        "list limit " + std::to_string(limit));
  }
  invalid(
      [&](Transaction& tx) { return this->repo_.List(tx, a, c, std::nullopt, "x", 5).status(); },
      "list after");
  invalid(
      [&](Transaction& tx) {
        return this->repo_.List(tx, a, c, static_cast<MappingState>(9), "", 5).status();
      },
      "list state");
  invalid(
      [&](Transaction& tx) {
        return this->repo_.List(tx, a, ConnectionId("x"), std::nullopt, "", 5).status();
      },
      "list connection");
  invalid([&](Transaction& tx) { return this->repo_.Get(tx, TenantId("x"), existing.id).status(); },
          "tenant");
  // Nothing invalid was written.
  auto listed = this->List(a, c);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, (typename TestFixture::Mappings{existing, longest}));
}

TYPED_TEST_P(EventMappingConformanceTest, CorruptRowsAreDataLoss) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  const EventMappingRecord r = this->Mapping(this->PutCalendar(a, c));
  ASSERT_TRUE(this->Insert(r).ok());
  auto code = [&] { return this->Get(a, r.id).status().code(); };
  ASSERT_EQ(code(), StatusCode::kOk);
  const std::vector<std::pair<std::string, std::string>> corruptions = {
      {"external_id", "has space"},
      {"provider_id", "a\nb"},
      {"provider_version", std::string(257, 'v')},
      {"last_error", std::string(1025, 'e')},
      {"pending", "[1, 2]"},
      {"pending", "not json"},
      {"pending", "\"text\""},
  };
  for (const auto& [column, value] : corruptions) {
    std::string sql = "UPDATE event_mappings SET ";
    sql.append(column).append(" = $2 WHERE tenant_id = $1");
    ASSERT_TRUE(this->Exec(a, sql, value).ok()) << column;
    EXPECT_EQ(code(), StatusCode::kDataLoss) << column << " = " << value;
    EXPECT_EQ(this->List(a, c).status().code(), StatusCode::kDataLoss) << column;
    ASSERT_TRUE(this->Exec(a,
                           "UPDATE event_mappings SET external_id = $2, provider_id = '', "
                           "provider_version = '', last_error = '', pending = NULL "
                           "WHERE tenant_id = $1",
                           r.external_id)
                    .ok());
    EXPECT_EQ(code(), StatusCode::kOk) << column;
  }
}

TYPED_TEST_P(EventMappingConformanceTest, StateNamesRoundTrip) {
  const std::vector<std::pair<MappingState, std::string_view>> names = {
      {MappingState::kSynced, "synced"},
      {MappingState::kPending, "pending"},
      {MappingState::kConflict, "conflict"},
      {MappingState::kError, "error"}};
  for (const auto& [state, name] : names) {
    EXPECT_EQ(MappingStateName(state), name);
    EXPECT_EQ(ParseMappingState(name), state);
  }
  EXPECT_EQ(ParseMappingState("Synced"), std::nullopt);
  EXPECT_EQ(ParseMappingState(""), std::nullopt);
  EXPECT_EQ(MappingStateName(static_cast<MappingState>(42)), "");
}

REGISTER_TYPED_TEST_SUITE_P(EventMappingConformanceTest, RoundTripLookupsAndDelete,
                            ListFiltersByStateAndPages, ExternalIdIsUniquePerConnection,
                            UpdateComparesHostVersion, ConnectionAndCalendarDeleteCascade,
                            CrossTenantAccessIsRefused, RejectsMalformedInput,
                            CorruptRowsAreDataLoss, StateNamesRoundTrip);

}  // namespace sb::store::testing
