// Conformance suite of the operator-control and health storage (ProviderSwitchRepository,
// UsageRepository, ConnectionHealthRepository, ConnectionRepository::MaintenanceCountByStatus and
// CountByStatus), instantiated per backend like repository_conformance.h: round trips, upserts,
// global switches under the nil tenant, maintenance listings across tenants, cross-tenant refusals
// (RLS-09), validation and corrupt rows (DATA_LOSS). Include in exactly one translation unit per
// binary.
#pragma once

#include <algorithm>
#include <iterator>
#include <map>
#include <optional>
#include <type_traits>

#include <gtest/gtest.h>

#include "sb/store/admin/admin_repository.h"
#include "sb/store/connections/connect_repository.h"
#include "sb/store/connections/connection_health_repository.h"
#include "sb/store/migrations/migrator.h"
#include "sb/store/testing/conformance_fixture.h"

namespace sb::store::testing {

template <typename TestBackend>
class AdminConformanceTest : public RepositoryConformanceTest<TestBackend> {
 protected:
  void SetUp() override {
    RepositoryConformanceTest<TestBackend>::SetUp();
    auto maint = this->backend_.OpenMaintenance();
    ASSERT_TRUE(maint.ok()) << maint.status().ToString();
    maint_ = std::move(maint).value();
    provider_ = "p-" + HexEncode(this->random_.Bytes(6));
  }

  template <typename Fn>
  auto Maintenance(Fn fn) {
    return this->CallUnscoped(*maint_, fn);
  }

  ConnectionRecord PutConnection(const TenantId& tenant, ConnectionStatus status) {
    ConnectionRecord r;
    r.tenant_id = tenant;
    r.id = ConnectionId(this->ids_.NewUuid());
    r.provider = "google";
    r.end_user_id = "user-1";
    r.account_subject = "sub-" + r.id.value();
    r.status = status;
    r.created_at = this->clock_.Now();
    r.updated_at = r.created_at;
    EXPECT_TRUE(
        this->Call(tenant, [&](Transaction& tx) { return connections_.Insert(tx, tenant, r); })
            .ok());
    return r;
  }

  ProviderSwitchRecord Switch(const TenantId& tenant, bool enabled) {
    return {tenant, provider_, enabled, "incident 42: the provider leaks data", this->clock_.Now()};
  }

  std::unique_ptr<Database> maint_;
  std::string provider_;
  ProviderSwitchRepository switches_;
  UsageRepository usage_;
  ConnectionHealthRepository health_;
  ConnectionRepository connections_;
};

TYPED_TEST_SUITE_P(AdminConformanceTest);

TYPED_TEST_P(AdminConformanceTest, SwitchesUpsertListDeleteAndGlobalScope) {
  const TenantId a = this->a_;
  const TenantId global("00000000-0000-0000-0000-000000000000");
  ASSERT_TRUE(this->Call(a,
                         [&](Transaction& tx) {
                           return this->switches_.Put(tx, a, this->Switch(a, false));
                         })
                  .ok());
  this->clock_.Advance(std::chrono::seconds(1));
  auto again = this->Switch(a, true);
  again.reason = "resolved";
  ASSERT_TRUE(
      this->Call(a, [&](Transaction& tx) { return this->switches_.Put(tx, a, again); }).ok());
  auto listed = this->Call(a, [&](Transaction& tx) { return this->switches_.List(tx, a); });
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front(), again);

  ASSERT_TRUE(this->Call(global,
                         [&](Transaction& tx) {
                           return this->switches_.Put(tx, global, this->Switch(global, false));
                         })
                  .ok());
  // Tenant b sees neither a's switch nor (through its own scope) the global one; the
  // maintenance listing sees both.
  auto b_list =
      this->Call(this->b_, [&](Transaction& tx) { return this->switches_.List(tx, this->b_); });
  ASSERT_TRUE(b_list.ok());
  EXPECT_TRUE(b_list->empty());
  auto all =
      this->Maintenance([&](Transaction& tx) { return this->switches_.MaintenanceListAll(tx); });
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  int mine = 0;
  for (const auto& s : *all) {
    if (s.provider != this->provider_) continue;
    ++mine;
    EXPECT_TRUE(s.tenant_id == a || s.tenant_id == global);
    EXPECT_EQ(s.enabled, s.tenant_id == a);
  }
  EXPECT_EQ(mine, 2);

  auto deleted = this->Call(
      global, [&](Transaction& tx) { return this->switches_.Delete(tx, global, this->provider_); });
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(*deleted);
  deleted = this->Call(
      global, [&](Transaction& tx) { return this->switches_.Delete(tx, global, this->provider_); });
  EXPECT_FALSE(*deleted);
}

TYPED_TEST_P(AdminConformanceTest, SwitchesRefuseOtherTenantsAndBadInput) {
  const TenantId a = this->a_;
  Status s = this->Call(this->b_, [&](Transaction& tx) {
    return this->switches_.Put(tx, a, this->Switch(a, false));
  });
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  s = this->Call(a, [&](Transaction& tx) {
    return this->switches_.Put(tx, a, this->Switch(this->b_, false));
  });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  for (const std::string& bad :
       std::vector<std::string>{"", "Google", "a b", std::string(65, 'a'), "x/../y"}) {
    auto r = this->Switch(a, false);
    r.provider = bad;
    s = this->Call(a, [&](Transaction& tx) { return this->switches_.Put(tx, a, r); });
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
  }
  auto r = this->Switch(a, false);
  r.reason = std::string(1025, 'x');
  s = this->Call(a, [&](Transaction& tx) { return this->switches_.Put(tx, a, r); });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  s = this->Call(a,
                 [&](Transaction& tx) { return this->switches_.MaintenanceListAll(tx).status(); });
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
}

TYPED_TEST_P(AdminConformanceTest, UsageCountersAddUpPerDayAndMetric) {
  const TenantId a = this->a_;
  const TenantId b = this->b_;
  auto add = [&](const TenantId& t, const char* day, UsageMetric m, int64_t n) {
    return this->Call(t, [&](Transaction& tx) { return this->usage_.Add(tx, t, day, m, n); });
  };
  ASSERT_TRUE(add(a, "2026-11-25", UsageMetric::kApiCalls, 3).ok());
  ASSERT_TRUE(add(a, "2026-11-25", UsageMetric::kApiCalls, 4).ok());
  ASSERT_TRUE(add(a, "2026-11-26", UsageMetric::kProxiedCalls, 2).ok());
  ASSERT_TRUE(add(a, "2026-11-27", UsageMetric::kRefreshes, 1).ok());
  ASSERT_TRUE(add(b, "2026-11-25", UsageMetric::kApiCalls, 9).ok());

  auto listed = this->Call(
      a, [&](Transaction& tx) { return this->usage_.List(tx, a, "2026-11-25", "2026-11-26"); });
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0], (UsageCount{a, "2026-11-25", UsageMetric::kApiCalls, 7}));
  EXPECT_EQ((*listed)[1], (UsageCount{a, "2026-11-26", UsageMetric::kProxiedCalls, 2}));

  auto all = this->Maintenance([&](Transaction& tx) {
    return this->usage_.MaintenanceList(tx, "2026-11-25", "2026-11-27");
  });
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  int64_t a_total = 0, b_total = 0;
  for (const auto& c : *all) {
    if (c.tenant_id == a) a_total += c.count;
    if (c.tenant_id == b) b_total += c.count;
  }
  EXPECT_EQ(a_total, 10);
  EXPECT_EQ(b_total, 9);

  EXPECT_EQ(add(a, "2026-13-01", UsageMetric::kApiCalls, 1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(add(a, "2026-11-25", UsageMetric::kApiCalls, 0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(this->Call(b,
                       [&](Transaction& tx) {
                         return this->usage_.Add(tx, a, "2026-11-25", UsageMetric::kApiCalls, 1);
                       })
                .code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(ParseUsageMetric("refreshes"), UsageMetric::kRefreshes);
  EXPECT_EQ(ParseUsageMetric("Refreshes"), std::nullopt);
  EXPECT_EQ(UsageDay(FromUnixMicros(int64_t{1764115200} * 1000000)), "2025-11-26");
}

TYPED_TEST_P(AdminConformanceTest, HealthRoundTripsAndGoesWithItsConnection) {
  const TenantId a = this->a_;
  ConnectionRecord c = this->PutConnection(a, ConnectionStatus::kActive);
  ConnectionHealthRecord h;
  h.tenant_id = a;
  h.connection_id = c.id;
  h.last_success_at = this->clock_.Now();
  h.last_error_at = this->clock_.Now() + std::chrono::seconds(5);
  h.last_error_kind = "rate_limited";
  h.last_error = "Google answered 429 — Zoë's quota";
  h.consecutive_failures = 3;
  h.incident_since = h.last_error_at;
  h.retry_at = *h.last_error_at + std::chrono::seconds(30);
  h.next_check_at = this->clock_.Now() + std::chrono::hours(1);
  h.updated_at = this->clock_.Now();
  ASSERT_TRUE(this->Call(a, [&](Transaction& tx) { return this->health_.Put(tx, a, h); }).ok());
  auto got = this->Call(a, [&](Transaction& tx) { return this->health_.Get(tx, a, c.id); });
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, h);
  h.consecutive_failures = 0;
  h.incident_since.reset();
  ASSERT_TRUE(this->Call(a, [&](Transaction& tx) { return this->health_.Put(tx, a, h); }).ok());
  got = this->Call(a, [&](Transaction& tx) { return this->health_.Get(tx, a, c.id); });
  EXPECT_EQ(**got, h);

  // Another tenant neither reads nor writes it.
  got =
      this->Call(this->b_, [&](Transaction& tx) { return this->health_.Get(tx, this->b_, c.id); });
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  EXPECT_EQ(
      this->Call(this->b_, [&](Transaction& tx) { return this->health_.Put(tx, a, h); }).code(),
      StatusCode::kPermissionDenied);
  auto foreign = h;
  foreign.tenant_id = this->b_;
  EXPECT_EQ(this->Call(this->b_,
                       [&](Transaction& tx) { return this->health_.Put(tx, this->b_, foreign); })
                .code(),
            StatusCode::kNotFound);

  // The row goes with its connection.
  ASSERT_TRUE(
      this->Call(a, [&](Transaction& tx) { return this->connections_.Delete(tx, a, c.id); }).ok());
  got = this->Call(a, [&](Transaction& tx) { return this->health_.Get(tx, a, c.id); });
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());

  auto bad = h;
  bad.connection_id = ConnectionId("nope");
  EXPECT_EQ(this->Call(a, [&](Transaction& tx) { return this->health_.Put(tx, a, bad); }).code(),
            StatusCode::kInvalidArgument);
  bad = h;
  bad.last_error_kind = "two\nlines";
  EXPECT_EQ(this->Call(a, [&](Transaction& tx) { return this->health_.Put(tx, a, bad); }).code(),
            StatusCode::kInvalidArgument);
}

TYPED_TEST_P(AdminConformanceTest, IncidentsOpenCloseListNewestFirstAndGoWithTheirConnection) {
  const TenantId a = this->a_;
  ConnectionRecord c = this->PutConnection(a, ConnectionStatus::kActive);
  ConnectionRecord other = this->PutConnection(a, ConnectionStatus::kActive);
  auto open = [&](const ConnectionRecord& on, int minute) {
    HealthIncidentRecord i;
    i.tenant_id = a;
    i.connection_id = on.id;
    i.opened_at = this->clock_.Now() + std::chrono::minutes(minute);
    i.error_kind = "rate_limited";
    i.error = "Google answered 429 (" + std::to_string(minute) + ")";
    return this->Call(a, [&](Transaction& tx) { return this->health_.OpenIncident(tx, a, i); });
  };
  auto list = [&](const ConnectionRecord& on, std::optional<int64_t> before, int limit) {
    return this->Call(a, [&](Transaction& tx) {
      return this->health_.ListIncidents(tx, a, on.id, before, limit);
    });
  };
  auto first = open(c, 0);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->seq, 1);
  ASSERT_TRUE(open(other, 1).ok());
  const Timestamp closed = this->clock_.Now() + std::chrono::minutes(2);
  ASSERT_TRUE(
      this->Call(a,
                 [&](Transaction& tx) { return this->health_.CloseIncidents(tx, a, c.id, closed); })
          .ok());
  auto second = open(c, 3);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->seq, 2);
  auto got = list(c, std::nullopt, 10);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0], *second);  // newest first, still open
  HealthIncidentRecord closed_first = *first;
  closed_first.closed_at = closed;
  EXPECT_EQ((*got)[1], closed_first);
  got = list(c, 2, 10);  // below seq 2
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].seq, 1);
  got = list(other, std::nullopt, 10);  // the other connection's incident stayed open
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_FALSE((*got)[0].closed_at.has_value());

  // The newest kIncidentsKept are kept.
  for (int i = 0; i < ConnectionHealthRepository::kIncidentsKept; ++i)
    ASSERT_TRUE(open(c, 10 + i).ok());
  got = list(c, std::nullopt, 1000);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), static_cast<size_t>(ConnectionHealthRepository::kIncidentsKept));
  EXPECT_EQ(got->front().seq, ConnectionHealthRepository::kIncidentsKept + 2);
  EXPECT_EQ(got->back().seq, 3);

  // Another tenant reads nothing and writes nothing; bad input is refused.
  auto theirs = this->Call(this->b_, [&](Transaction& tx) {
    return this->health_.ListIncidents(tx, this->b_, c.id, std::nullopt, 10);
  });
  ASSERT_TRUE(theirs.ok());
  EXPECT_TRUE(theirs->empty());
  HealthIncidentRecord foreign = *first;
  foreign.tenant_id = this->b_;
  EXPECT_EQ(
      this->Call(this->b_,
                 [&](Transaction& tx) { return this->health_.OpenIncident(tx, this->b_, foreign); })
          .status()
          .code(),
      StatusCode::kNotFound);
  HealthIncidentRecord bad = *first;
  bad.error_kind = "two\nlines";
  EXPECT_EQ(this->Call(a, [&](Transaction& tx) { return this->health_.OpenIncident(tx, a, bad); })
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(list(c, std::nullopt, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(list(c, std::nullopt, 1001).status().code(), StatusCode::kInvalidArgument);

  // The incidents go with their connection.
  ASSERT_TRUE(
      this->Call(a, [&](Transaction& tx) { return this->connections_.Delete(tx, a, c.id); }).ok());
  got = list(c, std::nullopt, 10);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty());
}

// The overview's summary: status counts and the open incidents of one tenant only.
TYPED_TEST_P(AdminConformanceTest, StatusCountsAndOpenIncidentsStayInTheirTenant) {
  const TenantId a = this->a_;
  const TenantId b = this->b_;
  auto counts = [&](const TenantId& t) {
    return this->Call(t, [&](Transaction& tx) { return this->connections_.CountByStatus(tx, t); });
  };
  auto empty = counts(a);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  ASSERT_EQ(empty->size(), std::size(kConnectionStatuses));
  for (size_t i = 0; i < empty->size(); ++i) {
    EXPECT_EQ((*empty)[i].first, kConnectionStatuses[i]);
    EXPECT_EQ((*empty)[i].second, 0);
  }
  ConnectionRecord old = this->PutConnection(a, ConnectionStatus::kActive);
  ConnectionRecord newer = this->PutConnection(a, ConnectionStatus::kReauthorizationRequired);
  ConnectionRecord healthy = this->PutConnection(a, ConnectionStatus::kActive);
  ConnectionRecord theirs = this->PutConnection(b, ConnectionStatus::kError);
  auto open = [&](const ConnectionRecord& c, int minute, const std::string& error) {
    ConnectionHealthRecord h;
    h.tenant_id = c.tenant_id;
    h.connection_id = c.id;
    h.incident_since = this->clock_.Now() + std::chrono::minutes(minute);
    h.last_error_at = h.incident_since;
    h.last_error_kind = "token_rejected";
    h.last_error = error;
    h.updated_at = this->clock_.Now();
    ASSERT_TRUE(this->Call(c.tenant_id,
                           [&](Transaction& tx) { return this->health_.Put(tx, c.tenant_id, h); })
                    .ok());
  };
  open(old, 1, "Google refused the token");
  open(newer, 2, "the grant was revoked");
  open(theirs, 3, "not a's");

  auto got = counts(a);
  ASSERT_TRUE(got.ok());
  std::map<ConnectionStatus, int64_t> by_status(got->begin(), got->end());
  EXPECT_EQ(by_status[ConnectionStatus::kActive], 2);
  EXPECT_EQ(by_status[ConnectionStatus::kReauthorizationRequired], 1);
  EXPECT_EQ(by_status[ConnectionStatus::kError], 0);  // b's
  auto n = this->Call(a, [&](Transaction& tx) { return this->health_.CountOpenIncidents(tx, a); });
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2);
  auto list = [&](int limit) {
    return this->Call(
        a, [&](Transaction& tx) { return this->health_.ListOpenIncidents(tx, a, limit); });
  };
  auto incidents = list(10);
  ASSERT_TRUE(incidents.ok()) << incidents.status().ToString();
  ASSERT_EQ(incidents->size(), 2u);
  const OpenIncidentRecord want{newer.id,         "google",
                                "user-1",         this->clock_.Now() + std::chrono::minutes(2),
                                "token_rejected", "the grant was revoked"};
  EXPECT_EQ((*incidents)[0], want);  // the newest first
  EXPECT_EQ((*incidents)[1].connection_id, old.id);
  incidents = list(1);
  ASSERT_TRUE(incidents.ok());
  ASSERT_EQ(incidents->size(), 1u);
  EXPECT_EQ((*incidents)[0].connection_id, newer.id);
  EXPECT_EQ(list(0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(list(1001).status().code(), StatusCode::kInvalidArgument);

  // A closed incident leaves the list; b sees only its own.
  ConnectionHealthRecord closed;
  closed.tenant_id = a;
  closed.connection_id = old.id;
  closed.last_success_at = closed.updated_at = this->clock_.Now() + std::chrono::minutes(4);
  ASSERT_TRUE(
      this->Call(a, [&](Transaction& tx) { return this->health_.Put(tx, a, closed); }).ok());
  incidents = list(10);
  ASSERT_TRUE(incidents.ok());
  ASSERT_EQ(incidents->size(), 1u);
  EXPECT_EQ((*incidents)[0].connection_id, newer.id);
  auto b_list =
      this->Call(b, [&](Transaction& tx) { return this->health_.ListOpenIncidents(tx, b, 10); });
  ASSERT_TRUE(b_list.ok());
  ASSERT_EQ(b_list->size(), 1u);
  EXPECT_EQ((*b_list)[0].connection_id, theirs.id);
  auto b_counts = counts(b);
  ASSERT_TRUE(b_counts.ok());
  std::map<ConnectionStatus, int64_t> b_by_status(b_counts->begin(), b_counts->end());
  EXPECT_EQ(b_by_status[ConnectionStatus::kError], 1);
  EXPECT_EQ(b_by_status[ConnectionStatus::kActive], 0);
  (void)healthy;

  // A transaction of another tenant is refused.
  EXPECT_EQ(this->Call(b, [&](Transaction& tx) { return this->connections_.CountByStatus(tx, a); })
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(
      this->Call(b, [&](Transaction& tx) { return this->health_.ListOpenIncidents(tx, a, 10); })
          .status()
          .code(),
      StatusCode::kPermissionDenied);
  EXPECT_EQ(this->Call(b, [&](Transaction& tx) { return this->health_.CountOpenIncidents(tx, a); })
                .status()
                .code(),
            StatusCode::kPermissionDenied);
}

TYPED_TEST_P(AdminConformanceTest, DueChecksAndStatusCountsSpanTenants) {
  const TenantId a = this->a_;
  const TenantId b = this->b_;
  ConnectionRecord never = this->PutConnection(a, ConnectionStatus::kActive);
  ConnectionRecord due = this->PutConnection(b, ConnectionStatus::kActive);
  ConnectionRecord later = this->PutConnection(a, ConnectionStatus::kActive);
  ConnectionRecord disabled = this->PutConnection(a, ConnectionStatus::kDisabled);
  const Timestamp now = this->clock_.Now();
  auto put = [&](const ConnectionRecord& c, Timestamp next) {
    ConnectionHealthRecord h;
    h.tenant_id = c.tenant_id;
    h.connection_id = c.id;
    h.next_check_at = next;
    h.updated_at = now;
    ASSERT_TRUE(this->Call(c.tenant_id,
                           [&](Transaction& tx) { return this->health_.Put(tx, c.tenant_id, h); })
                    .ok());
  };
  put(due, now - std::chrono::seconds(1));
  put(later, now + std::chrono::hours(1));
  auto listed = this->Maintenance(
      [&](Transaction& tx) { return this->health_.MaintenanceListDue(tx, now, 1000); });
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  auto has = [&](const ConnectionRecord& c) {
    return std::find(listed->begin(), listed->end(), std::make_pair(c.tenant_id, c.id)) !=
           listed->end();
  };
  EXPECT_TRUE(has(never));
  EXPECT_TRUE(has(due));
  EXPECT_FALSE(has(later));
  EXPECT_TRUE(has(disabled));  // listed whatever the status: the scheduler moves it on

  auto counts = this->Maintenance(
      [&](Transaction& tx) { return this->connections_.MaintenanceCountByStatus(tx); });
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  int64_t a_active = 0, a_disabled = 0, b_active = 0;
  for (const auto& c : *counts) {
    if (c.tenant_id == a && c.status == ConnectionStatus::kActive) a_active = c.count;
    if (c.tenant_id == a && c.status == ConnectionStatus::kDisabled) a_disabled = c.count;
    if (c.tenant_id == b && c.status == ConnectionStatus::kActive) b_active = c.count;
  }
  EXPECT_EQ(a_active, 2);
  EXPECT_EQ(a_disabled, 1);
  EXPECT_EQ(b_active, 1);
  EXPECT_EQ(this->Call(a,
                       [&](Transaction& tx) {
                         return this->health_.MaintenanceListDue(tx, now, 10).status();
                       })
                .code(),
            StatusCode::kFailedPrecondition);
}

// Connections made before migration 9 get their health row from it.
TYPED_TEST_P(AdminConformanceTest, TheMigrationGivesExistingConnectionsAHealthRow) {
  auto owner = this->backend_.OpenOwner();
  ASSERT_TRUE(owner.ok()) << owner.status().ToString();
  Migrator migrator(**owner, this->clock_);
  auto status = migrator.Status();
  ASSERT_TRUE(status.ok());
  int above = 0;  // migrations newer than 9, reverted first and re-applied at the end
  for (const auto& m : *status) above += m.version > 9 && m.applied ? 1 : 0;
  ASSERT_TRUE(migrator.Down(above + 1).ok());
  ConnectionRecord r;
  r.tenant_id = this->a_;
  r.id = ConnectionId(this->ids_.NewUuid());
  r.provider = "google";
  r.end_user_id = "u";
  r.account_subject = "s";
  r.created_at = r.updated_at = this->clock_.Now();
  ASSERT_TRUE(this->Call(this->a_,
                         [&](Transaction& tx) {
                           return tx
                               .Execute(
                                   "INSERT INTO connections (tenant_id, id, provider, end_user_id, "
                                   "account_subject, account_email, provider_tenant_id, status, "
                                   "status_reason, services, granted_scopes, missing_scopes, "
                                   "settings, has_refresh_token, token_version, lease_owner, "
                                   "refresh_failures, created_at, updated_at) VALUES ($1, $2, "
                                   "'google', 'u', 's', '', '', 'active', '', '[]', '[]', '[]', "
                                   "'{}', 0, 0, '', 0, $3, $3)",
                                   {this->a_.value(), r.id.value(), ToUnixMicros(r.created_at)})
                               .status();
                         })
                  .ok());
  ASSERT_TRUE(migrator.Up().ok());
  auto got =
      this->Call(this->a_, [&](Transaction& tx) { return this->health_.Get(tx, this->a_, r.id); });
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->next_check_at, r.created_at);

  // Migration 26: an incident open at the upgrade becomes the first of the connection's history.
  ConnectionHealthRecord h = **got;
  h.incident_since = this->clock_.Now();
  h.last_error_kind = "token_rejected";
  h.last_error = "the provider refused the token";
  ASSERT_TRUE(
      this->Call(this->a_, [&](Transaction& tx) { return this->health_.Put(tx, this->a_, h); })
          .ok());
  int from26 = 0;  // migration 26 and the newer ones, reverted and re-applied
  for (const auto& m : *status) from26 += m.version >= 26 && m.applied ? 1 : 0;
  ASSERT_TRUE(migrator.Down(from26).ok());
  ASSERT_TRUE(migrator.Up().ok());
  auto incidents = this->Call(this->a_, [&](Transaction& tx) {
    return this->health_.ListIncidents(tx, this->a_, r.id, std::nullopt, 10);
  });
  ASSERT_TRUE(incidents.ok()) << incidents.status().ToString();
  ASSERT_EQ(incidents->size(), 1u);
  EXPECT_EQ((*incidents)[0].opened_at, *h.incident_since);
  EXPECT_EQ((*incidents)[0].error_kind, "token_rejected");
  EXPECT_FALSE((*incidents)[0].closed_at.has_value());
}

TYPED_TEST_P(AdminConformanceTest, CorruptRowsAreDataLoss) {
  const TenantId a = this->a_;
  ConnectionRecord c = this->PutConnection(a, ConnectionStatus::kActive);
  ConnectionHealthRecord h;
  h.tenant_id = a;
  h.connection_id = c.id;
  h.updated_at = this->clock_.Now();
  ASSERT_TRUE(this->Call(a, [&](Transaction& tx) { return this->health_.Put(tx, a, h); }).ok());
  ASSERT_TRUE(this->Call(a,
                         [&](Transaction& tx) {
                           return tx
                               .Execute(
                                   "UPDATE connection_health SET last_error_kind = 'a\nb' "
                                   "WHERE tenant_id = $1",
                                   {a.value()})
                               .status();
                         })
                  .ok());
  EXPECT_EQ(this->Call(a, [&](Transaction& tx) { return this->health_.Get(tx, a, c.id).status(); })
                .code(),
            StatusCode::kDataLoss);
  ASSERT_TRUE(this->Call(a,
                         [&](Transaction& tx) {
                           return this->switches_.Put(tx, a, this->Switch(a, false));
                         })
                  .ok());
  ASSERT_TRUE(this->Call(a,
                         [&](Transaction& tx) {
                           return tx
                               .Execute(
                                   "UPDATE provider_switches SET provider = 'Bad Id' "
                                   "WHERE tenant_id = $1",
                                   {a.value()})
                               .status();
                         })
                  .ok());
  EXPECT_EQ(
      this->Call(a, [&](Transaction& tx) { return this->switches_.List(tx, a).status(); }).code(),
      StatusCode::kDataLoss);
}

// Live updates: health rows updated after a keyset position (updated_at, connection_id).
TYPED_TEST_P(AdminConformanceTest, HealthUpdatedSinceInKeysetOrder) {
  const TenantId a = this->a_;
  const Timestamp at = this->clock_.Now() + std::chrono::hours(1);
  std::vector<ConnectionId> ids;
  for (int i = 0; i < 2; ++i) {
    ConnectionRecord c = this->PutConnection(a, ConnectionStatus::kActive);
    ConnectionHealthRecord h;
    h.tenant_id = a;
    h.connection_id = c.id;
    h.consecutive_failures = i;
    h.updated_at = at;
    ASSERT_TRUE(this->Call(a, [&](Transaction& tx) { return this->health_.Put(tx, a, h); }).ok());
    ids.push_back(c.id);
  }
  std::sort(ids.begin(), ids.end(),
            [](const auto& x, const auto& y) { return x.value() < y.value(); });
  ConnectionRecord foreign = this->PutConnection(this->b_, ConnectionStatus::kActive);
  ConnectionHealthRecord fh;
  fh.tenant_id = this->b_;
  fh.connection_id = foreign.id;
  fh.updated_at = at;
  ASSERT_TRUE(
      this->Call(this->b_, [&](Transaction& tx) { return this->health_.Put(tx, this->b_, fh); })
          .ok());
  auto since = [&](const UpdatedCursor& cursor, int limit) {
    return this->Call(
        a, [&](Transaction& tx) { return this->health_.ListUpdatedSince(tx, a, cursor, limit); });
  };
  auto all = since(UpdatedCursor::At(at), 10);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);  // the rows the connections got on insert are older
  EXPECT_EQ((*all)[0].connection_id, ids[0]);
  EXPECT_EQ((*all)[1].connection_id, ids[1]);
  EXPECT_EQ((*all)[0].updated_at, at);
  auto rest = since(UpdatedCursor{at, ids[0].value()}, 10);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].connection_id, ids[1]);
  EXPECT_EQ(since(UpdatedCursor::At(at), 1001).status().code(), StatusCode::kInvalidArgument);
}

REGISTER_TYPED_TEST_SUITE_P(AdminConformanceTest, SwitchesUpsertListDeleteAndGlobalScope,
                            SwitchesRefuseOtherTenantsAndBadInput,
                            UsageCountersAddUpPerDayAndMetric,
                            HealthRoundTripsAndGoesWithItsConnection,
                            IncidentsOpenCloseListNewestFirstAndGoWithTheirConnection,
                            StatusCountsAndOpenIncidentsStayInTheirTenant,
                            DueChecksAndStatusCountsSpanTenants,
                            TheMigrationGivesExistingConnectionsAHealthRow, CorruptRowsAreDataLoss,
                            HealthUpdatedSinceInKeysetOrder);

}  // namespace sb::store::testing
