// Conformance suite of event conflicts (ConflictRepository), written once and instantiated per
// backend like event_mapping_conformance.h: round trips of open and resolved conflicts, the
// queue's filters and paging, resolving once only, the cascade with the connection,
// cross-tenant refusals (RLS-09), validation and corrupt rows (DATA_LOSS). Include in exactly
// one translation unit per test binary.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sb/store/calendar/conflict_repository.h"
#include "sb/store/testing/connected_fixture.h"

namespace sb::store::testing {

template <typename TestBackend>
class ConflictConformanceTest : public ConnectedConformanceTest<TestBackend> {
 protected:
  EventConflictRecord Conflict(const TenantId& tenant, const ConnectionId& connection) {
    this->clock_.Advance(std::chrono::milliseconds(2));  // UUIDv7: distinct, ordered ids
    EventConflictRecord r;
    r.tenant_id = tenant;
    r.id = this->ids_.NewUuid();
    r.connection_id = connection;
    r.mapping_id = this->ids_.NewUuid();
    r.external_id = "job-" + r.id.substr(30);
    r.event_id = EventId(this->ids_.NewUuid());
    r.policy = ConflictPolicy::kManual;
    r.host_event = Json{{"title", "Boiler – host"}};
    r.provider_event = Json{{"title", "Boiler – user"}};
    r.detected_at = this->clock_.Now();
    return r;
  }

  Status Insert(const EventConflictRecord& r) {
    return this->Call(r.tenant_id,
                      [&](Transaction& tx) { return repo_.Insert(tx, r.tenant_id, r); });
  }

  Result<std::optional<EventConflictRecord>> Get(const TenantId& tenant, const std::string& id) {
    return this->Call(tenant, [&](Transaction& tx) { return repo_.Get(tx, tenant, id); });
  }

  Result<std::vector<EventConflictRecord>> List(const TenantId& tenant, ConflictFilter f) {
    return this->Call(tenant, [&](Transaction& tx) { return repo_.List(tx, tenant, f); });
  }

  Result<bool> Resolve(const TenantId& tenant, const std::string& id, ConflictResolution how,
                       const Json& merged = nullptr) {
    return this->Call(tenant, [&](Transaction& tx) {
      return repo_.Resolve(tx, tenant, id, how, merged, "operator@example.com", this->clock_.Now());
    });
  }

  ConflictRepository repo_;
};

TYPED_TEST_SUITE_P(ConflictConformanceTest);

TYPED_TEST_P(ConflictConformanceTest, RoundTripsFiltersAndPages) {
  const TenantId a = this->a_;
  const ConnectionId c1 = this->PutConnection(a);
  const ConnectionId c2 = this->PutConnection(a);
  const EventConflictRecord open = this->Conflict(a, c1);
  EventConflictRecord resolved = this->Conflict(a, c2);
  resolved.policy = ConflictPolicy::kLastModifiedWins;
  resolved.status = ConflictStatus::kResolved;
  resolved.resolution = ConflictResolution::kProvider;
  resolved.resolved_by = "policy";
  resolved.resolved_at = resolved.detected_at;
  resolved.provider_event = nullptr;  // deleted at the provider
  resolved.event_id.reset();
  ASSERT_TRUE(this->Insert(open).ok());
  ASSERT_TRUE(this->Insert(resolved).ok());
  EXPECT_EQ(this->Insert(open).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(**this->Get(a, open.id), open);
  EXPECT_EQ(**this->Get(a, resolved.id), resolved);
  EXPECT_EQ(*this->Get(a, this->ids_.NewUuid()), std::nullopt);
  auto all = this->List(a, {});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(*all, (std::vector<EventConflictRecord>{open, resolved}));
  EXPECT_EQ(*this->List(a, {.status = ConflictStatus::kOpen}), std::vector{open});
  EXPECT_EQ(*this->List(a, {.connection = c2}), std::vector{resolved});
  EXPECT_EQ(*this->List(a, {.after = open.id}), std::vector{resolved});
  EXPECT_EQ(*this->List(a, {.limit = 1}), std::vector{open});
  auto found =
      this->Call(a, [&](Transaction& tx) { return this->repo_.FindOpen(tx, a, open.mapping_id); });
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, open);
  // The connection's conflicts go with it.
  ASSERT_TRUE(this->Call(a, [&](Transaction& tx) { return this->conns_.Delete(tx, a, c1); }).ok());
  EXPECT_EQ(*this->Get(a, open.id), std::nullopt);
  EXPECT_EQ(**this->Get(a, resolved.id), resolved);
}

TYPED_TEST_P(ConflictConformanceTest, ResolvesOnceOnly) {
  const TenantId a = this->a_;
  const EventConflictRecord r = this->Conflict(a, this->PutConnection(a));
  ASSERT_TRUE(this->Insert(r).ok());
  const Json merged{{"title", "Boiler – agreed"}};
  EXPECT_EQ(this->Resolve(a, r.id, ConflictResolution::kMerged).status().code(),
            StatusCode::kInvalidArgument);  // a merge needs its event
  EXPECT_EQ(this->Resolve(a, r.id, ConflictResolution::kNone).status().code(),
            StatusCode::kInvalidArgument);
  auto done = this->Resolve(a, r.id, ConflictResolution::kMerged, merged);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_TRUE(*done);
  auto again = this->Resolve(a, r.id, ConflictResolution::kHost);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  const EventConflictRecord stored = **this->Get(a, r.id);
  EXPECT_EQ(stored.status, ConflictStatus::kResolved);
  EXPECT_EQ(stored.resolution, ConflictResolution::kMerged);
  EXPECT_EQ(stored.resolved_event, merged);
  EXPECT_EQ(stored.resolved_by, "operator@example.com");
  EXPECT_TRUE(stored.resolved_at.has_value());
  EXPECT_EQ(this->Resolve(a, this->ids_.NewUuid(), ConflictResolution::kHost).status().code(),
            StatusCode::kNotFound);
  auto none =
      this->Call(a, [&](Transaction& tx) { return this->repo_.FindOpen(tx, a, r.mapping_id); });
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, std::nullopt);
}

TYPED_TEST_P(ConflictConformanceTest, RefusesInvalidRecordsAndOtherTenants) {
  const TenantId a = this->a_;
  const TenantId b = this->b_;
  const ConnectionId c = this->PutConnection(a);
  const EventConflictRecord ours = this->Conflict(a, c);
  ASSERT_TRUE(this->Insert(ours).ok());
  std::vector<EventConflictRecord> bad(7, this->Conflict(a, c));
  bad[0].id = "nope";
  bad[1].external_id = "has space";
  bad[2].host_event = Json::array();
  bad[3].provider_event = "text";
  bad[4].resolution = ConflictResolution::kHost;  // open with a resolution
  bad[5].status = ConflictStatus::kResolved;      // resolved without one
  bad[6].connection_id = ConnectionId(this->ids_.NewUuid());
  for (size_t i = 0; i + 1 < bad.size(); ++i) {
    EXPECT_EQ(this->Insert(bad[i]).code(), StatusCode::kInvalidArgument) << i;
  }
  EXPECT_EQ(this->Insert(bad.back()).code(), StatusCode::kNotFound);
  for (const auto& call : std::vector<std::function<Status(Transaction&)>>{
           [&](Transaction& tx) { return this->repo_.Insert(tx, a, ours); },
           [&](Transaction& tx) { return this->repo_.Get(tx, a, ours.id).status(); },
           [&](Transaction& tx) { return this->repo_.List(tx, a, {}).status(); },
           [&](Transaction& tx) { return this->repo_.FindOpen(tx, a, ours.mapping_id).status(); },
           [&](Transaction& tx) {
             return this->repo_
                 .Resolve(tx, a, ours.id, ConflictResolution::kHost, nullptr, "x",
                          this->clock_.Now())
                 .status();
           }}) {
    EXPECT_EQ(this->InTenant(b, call).code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(this->db_->RunUnscoped(call).code(), StatusCode::kPermissionDenied);
  }
  EXPECT_EQ(*this->Get(b, ours.id), std::nullopt);
  EXPECT_TRUE(this->List(b, {})->empty());
  EXPECT_EQ(this->Resolve(b, ours.id, ConflictResolution::kHost).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ((**this->Get(a, ours.id)).status, ConflictStatus::kOpen);
}

TYPED_TEST_P(ConflictConformanceTest, CorruptRowsAreDataLoss) {
  const TenantId a = this->a_;
  const EventConflictRecord r = this->Conflict(a, this->PutConnection(a));
  ASSERT_TRUE(this->Insert(r).ok());
  const std::vector<std::pair<std::string, std::string>> corruptions = {
      {"external_id", "has space"}, {"host_event", "[1]"},      {"host_event", "not json"},
      {"provider_event", "\"x\""},  {"resolved_by", "someone"}, {"resolved_event", "{}"},
  };
  for (const auto& corruption : corruptions) {
    // Named references, not a structured binding: the lambda below uses them (clang < 16).
    const auto& column = corruption.first;
    const auto& value = corruption.second;
    std::string sql = "UPDATE event_conflicts SET ";
    sql.append(column).append(" = $2 WHERE tenant_id = $1");
    ASSERT_TRUE(this->InTenant(a,
                               [&](Transaction& tx) {
                                 return tx.Execute(sql, {a.value(), value}).status();
                               })
                    .ok())
        << column;
    EXPECT_EQ(this->Get(a, r.id).status().code(), StatusCode::kDataLoss) << column;
    EXPECT_EQ(this->List(a, {}).status().code(), StatusCode::kDataLoss) << column;
    ASSERT_TRUE(
        this->InTenant(a,
                       [&](Transaction& tx) {
                         return tx
                             .Execute(
                                 "UPDATE event_conflicts SET external_id = $2, host_event = "
                                 "'{}', provider_event = NULL, resolved_by = '', "
                                 "resolved_event = NULL WHERE tenant_id = $1",
                                 {a.value(), r.external_id})
                             .status();
                       })
            .ok());
    EXPECT_EQ(this->Get(a, r.id).status().code(), StatusCode::kOk) << column;
  }
}

REGISTER_TYPED_TEST_SUITE_P(ConflictConformanceTest, RoundTripsFiltersAndPages, ResolvesOnceOnly,
                            RefusesInvalidRecordsAndOtherTenants, CorruptRowsAreDataLoss);

}  // namespace sb::store::testing
