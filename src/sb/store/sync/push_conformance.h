// Conformance suite of push subscription storage (PushRepository), written once and
// instantiated per backend like repository_conformance.h: channel round trips, the external id
// unique per tenant and provider and looked up per tenant, the inbox counting a notification
// once per channel and key, pruning, the cascade on connection and channel delete, the
// cross-tenant expiry scan (active channels only, soonest first, each connection once),
// cross-tenant refusals (RLS-09), validation and corrupt rows (DATA_LOSS). Include in exactly
// one translation unit per test binary.
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "sb/base/encoding.h"
#include "sb/store/connections/connect_repository.h"
#include "sb/store/sync/push_repository.h"
#include "sb/store/testing/connected_fixture.h"

namespace sb::store::testing {

template <typename TestBackend>
class PushConformanceTest : public ConnectedConformanceTest<TestBackend> {
 protected:
  // Every field set to something other than its default.
  PushChannelRecord Channel(const TenantId& tenant, const ConnectionId& connection,
                            std::string provider = "google") {
    this->clock_.Advance(std::chrono::milliseconds(2));  // distinct created_at: list order
    const Timestamp now = this->clock_.Now();
    PushChannelRecord r;
    r.tenant_id = tenant;
    r.id = this->ids_.NewUuid();
    r.connection_id = connection;
    r.service = "calendar";
    r.provider = std::move(provider);
    r.resource = "team-calendar@group.calendar.google.com";
    r.external_id = "ext-";
    r.external_id += this->ids_.NewUuid();
    r.resource_id = "o3hgv1538sdjfh";
    r.secret_hash = HexEncode(this->random_.Bytes(32));
    r.expires_at = now + std::chrono::hours(24 * 7);
    r.status = PushChannelStatus::kActive;
    r.renew_failures = 2;
    r.last_error = "renewal refused – 403";
    r.created_at = now;
    r.updated_at = now + std::chrono::seconds(1);
    return r;
  }

  Status Insert(const PushChannelRecord& r) {
    return this->Call(r.tenant_id,
                      [&](Transaction& tx) { return repo_.Insert(tx, r.tenant_id, r); });
  }

  Result<std::optional<PushChannelRecord>> Find(const TenantId& tenant, std::string_view provider,
                                                std::string_view external_id) {
    return this->Call(tenant, [&](Transaction& tx) {
      return repo_.FindByExternal(tx, tenant, provider, external_id);
    });
  }

  Result<std::vector<PushChannelRecord>> List(const TenantId& tenant,
                                              const ConnectionId& connection) {
    return this->Call(
        tenant, [&](Transaction& tx) { return repo_.ListForConnection(tx, tenant, connection); });
  }

  Result<bool> Record(const TenantId& tenant, const std::string& channel, const std::string& key,
                      Timestamp at) {
    return this->Call(tenant, [&](Transaction& tx) {
      return repo_.RecordNotification(tx, tenant, channel, key, at);
    });
  }

  // The number of inbox rows of `channel`, read as `tenant`.
  int64_t InboxCount(const TenantId& tenant, const std::string& channel) {
    int64_t n = -1;
    Status s = this->InTenant(tenant, [&](Transaction& tx) -> Status {
      SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COUNT(*) FROM push_inbox WHERE tenant_id = "
                                              "$1 AND channel_id = $2",
                                              {tenant.value(), channel}));
      if (rows.size() != 1) return InternalError("no count");
      n = rows.front().GetInt(0);
      return OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return n;
  }

  // Runs `sql` with $1 = tenant (and $2 = `value`) to plant a malformed row.
  Status Exec(const TenantId& tenant, const std::string& sql, std::string value = "") {
    return this->InTenant(tenant, [&](Transaction& tx) {
      return value.empty() ? tx.Execute(sql, {tenant.value()}).status()
                           : tx.Execute(sql, {tenant.value(), value}).status();
    });
  }

  // An instant long before the fixture clock, random per test, so that on the shared PostgreSQL
  // database the maintenance calls meet no other test's rows.
  Timestamp OldBase() {
    return FromUnixMicros(1'000'000'000 +
                          static_cast<int64_t>(this->random_.Uint64() % 1'000'000) * 1000);
  }

  PushRepository repo_;
};

TYPED_TEST_SUITE_P(PushConformanceTest);

TYPED_TEST_P(PushConformanceTest, ChannelsRoundTripUpdateListAndDelete) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  const ConnectionId other = this->PutConnection(a);
  PushChannelRecord first = this->Channel(a, c);
  PushChannelRecord graph = this->Channel(a, c, "microsoft");
  graph.resource = "AAMkAGI2TGuLAAA=";
  graph.resource_id = "";
  graph.status = PushChannelStatus::kStopped;
  graph.renew_failures = 0;
  graph.last_error = "";
  PushChannelRecord elsewhere = this->Channel(a, other);
  for (const PushChannelRecord& r : {graph, elsewhere, first}) {
    ASSERT_TRUE(this->Insert(r).ok());
  }
  auto found = this->Find(a, "google", first.external_id);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(*found, first);
  found = this->Find(a, "microsoft", graph.external_id);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, graph);
  found = this->Find(a, "microsoft", first.external_id);  // the provider is part of the key
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, std::nullopt);

  auto listed = this->List(a, c);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(*listed, (std::vector<PushChannelRecord>{first, graph}));  // oldest first
  listed = this->List(a, ConnectionId(this->ids_.NewUuid()));
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());

  // Update replaces the mutable fields only.
  PushChannelRecord update = first;
  update.external_id = "renewed-";
  update.external_id += this->ids_.NewUuid();
  update.resource_id = "new-resource-id";
  update.secret_hash = HexEncode(this->random_.Bytes(32));
  update.expires_at += std::chrono::hours(24);
  update.status = PushChannelStatus::kStopped;
  update.renew_failures = 0;
  update.last_error = "";
  update.updated_at += std::chrono::minutes(5);
  PushChannelRecord ignored = update;
  ignored.connection_id = other;
  ignored.service = "email";
  ignored.provider = "microsoft";
  ignored.resource = "elsewhere";
  ignored.created_at -= std::chrono::hours(1);
  ASSERT_TRUE(
      this->Call(a, [&](Transaction& tx) { return this->repo_.Update(tx, a, ignored); }).ok());
  found = this->Find(a, "google", update.external_id);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, update);
  found = this->Find(a, "google", first.external_id);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, std::nullopt);
  PushChannelRecord missing = this->Channel(a, c);
  EXPECT_EQ(
      this->Call(a, [&](Transaction& tx) { return this->repo_.Update(tx, a, missing); }).code(),
      StatusCode::kNotFound);

  auto deleted =
      this->Call(a, [&](Transaction& tx) { return this->repo_.Delete(tx, a, graph.id); });
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_TRUE(*deleted);
  deleted = this->Call(a, [&](Transaction& tx) { return this->repo_.Delete(tx, a, graph.id); });
  ASSERT_TRUE(deleted.ok());
  EXPECT_FALSE(*deleted);
  listed = this->List(a, c);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, std::vector<PushChannelRecord>{update});

  EXPECT_EQ(this->Insert(elsewhere).code(), StatusCode::kAlreadyExists);  // duplicate id
  PushChannelRecord orphan = this->Channel(a, ConnectionId(this->ids_.NewUuid()));
  EXPECT_EQ(this->Insert(orphan).code(), StatusCode::kNotFound);
}

TYPED_TEST_P(PushConformanceTest, ExternalIdIsUniquePerTenantAndProvider) {
  const TenantId a = this->a_;
  const TenantId b = this->b_;
  const ConnectionId c = this->PutConnection(a);
  const ConnectionId other = this->PutConnection(a);
  PushChannelRecord first = this->Channel(a, c);
  ASSERT_TRUE(this->Insert(first).ok());
  PushChannelRecord dup = this->Channel(a, other);
  dup.external_id = first.external_id;
  EXPECT_EQ(this->Insert(dup).code(), StatusCode::kAlreadyExists);
  // Another provider, or another tenant, may use the same external id.
  PushChannelRecord graph = this->Channel(a, other, "microsoft");
  graph.external_id = first.external_id;
  EXPECT_TRUE(this->Insert(graph).ok());
  PushChannelRecord in_b = this->Channel(b, this->PutConnection(b));
  in_b.external_id = first.external_id;
  EXPECT_TRUE(this->Insert(in_b).ok());
  // Update cannot take another channel's external id either.
  PushChannelRecord second = this->Channel(a, other);
  ASSERT_TRUE(this->Insert(second).ok());
  second.external_id = first.external_id;
  EXPECT_EQ(
      this->Call(a, [&](Transaction& tx) { return this->repo_.Update(tx, a, second); }).code(),
      StatusCode::kAlreadyExists);
}

TYPED_TEST_P(PushConformanceTest, FindByExternalIsPerTenant) {
  const TenantId a = this->a_;
  const TenantId b = this->b_;
  PushChannelRecord theirs = this->Channel(b, this->PutConnection(b));
  ASSERT_TRUE(this->Insert(theirs).ok());
  // A cannot find B's channel, even knowing its provider and external id.
  auto found = this->Find(a, "google", theirs.external_id);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(*found, std::nullopt);
  // With a channel of the same external id, each tenant finds its own.
  PushChannelRecord ours = this->Channel(a, this->PutConnection(a));
  ours.external_id = theirs.external_id;
  ASSERT_TRUE(this->Insert(ours).ok());
  found = this->Find(a, "google", theirs.external_id);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, ours);
  found = this->Find(b, "google", theirs.external_id);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, theirs);
}

TYPED_TEST_P(PushConformanceTest, InboxCountsANotificationOncePerChannel) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  PushChannelRecord one = this->Channel(a, c);
  PushChannelRecord two = this->Channel(a, c, "microsoft");
  ASSERT_TRUE(this->Insert(one).ok());
  ASSERT_TRUE(this->Insert(two).ok());
  const Timestamp now = this->clock_.Now();
  auto record = [&](const std::string& channel, const std::string& key) {
    auto got = this->Record(a, channel, key, now);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() && *got;
  };
  EXPECT_TRUE(record(one.id, "17"));
  EXPECT_FALSE(record(one.id, "17"));  // delivered twice: counts once
  EXPECT_FALSE(record(one.id, "17"));
  EXPECT_TRUE(record(one.id, "18"));
  EXPECT_TRUE(record(two.id, "17"));  // keys are per channel
  EXPECT_FALSE(record(two.id, "17"));
  EXPECT_EQ(this->InboxCount(a, one.id), 2);
  EXPECT_EQ(this->InboxCount(a, two.id), 1);
  EXPECT_EQ(this->Record(a, this->ids_.NewUuid(), "17", now).status().code(),
            StatusCode::kNotFound);
  // The same key on another tenant's channel of the same id is not A's to record.
  PushChannelRecord theirs = this->Channel(this->b_, this->PutConnection(this->b_));
  ASSERT_TRUE(this->Insert(theirs).ok());
  EXPECT_EQ(this->Record(a, theirs.id, "17", now).status().code(), StatusCode::kNotFound);
  auto got = this->Record(this->b_, theirs.id, "17", now);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got);
}

TYPED_TEST_P(PushConformanceTest, MaintenancePrunesInboxRowsReceivedBefore) {
  const TenantId a = this->a_;
  const TenantId b = this->b_;
  PushChannelRecord ca = this->Channel(a, this->PutConnection(a));
  PushChannelRecord cb = this->Channel(b, this->PutConnection(b));
  ASSERT_TRUE(this->Insert(ca).ok());
  ASSERT_TRUE(this->Insert(cb).ok());
  const Timestamp base = this->OldBase();
  // Clears what an earlier run of this test in the same database (--gtest_repeat) left.
  ASSERT_TRUE(this->Maintenance([&](Transaction& tx) {
                    return this->repo_.MaintenancePruneInbox(tx, base + std::chrono::seconds(10));
                  })
                  .ok());
  ASSERT_TRUE(this->Record(a, ca.id, "1", base + std::chrono::seconds(1)).ok());
  ASSERT_TRUE(this->Record(b, cb.id, "1", base + std::chrono::seconds(2)).ok());
  ASSERT_TRUE(this->Record(a, ca.id, "2", base + std::chrono::seconds(3)).ok());
  ASSERT_TRUE(this->Record(a, ca.id, "3", base + std::chrono::seconds(4)).ok());

  auto pruned = this->Maintenance([&](Transaction& tx) {
    return this->repo_.MaintenancePruneInbox(tx, base + std::chrono::seconds(3));
  });
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  EXPECT_EQ(*pruned, 2);  // both tenants' rows before the instant; the instant itself stays
  EXPECT_EQ(this->InboxCount(a, ca.id), 2);
  EXPECT_EQ(this->InboxCount(b, cb.id), 0);
  // A pruned key is new again; a kept one is not.
  auto again = this->Record(a, ca.id, "1", base + std::chrono::seconds(5));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(*again);
  again = this->Record(a, ca.id, "2", base + std::chrono::seconds(5));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  pruned = this->Maintenance(
      [&](Transaction& tx) { return this->repo_.MaintenancePruneInbox(tx, base); });
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 0);

  EXPECT_EQ(this->Call(a,
                       [&](Transaction& tx) {
                         return this->repo_.MaintenancePruneInbox(tx, this->clock_.Now()).status();
                       })
                .code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(this->InboxCount(a, ca.id), 3);
}

// Channels go with their connection, inbox rows with their channel.
TYPED_TEST_P(PushConformanceTest, ConnectionDeleteCascadesToChannelsAndInbox) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  const ConnectionId kept = this->PutConnection(a);
  PushChannelRecord gone = this->Channel(a, c);
  PushChannelRecord gone_too = this->Channel(a, c, "microsoft");
  PushChannelRecord stays = this->Channel(a, kept);
  for (const PushChannelRecord& r : {gone, gone_too, stays}) {
    ASSERT_TRUE(this->Insert(r).ok());
    ASSERT_TRUE(this->Record(a, r.id, "1", this->clock_.Now()).ok());
    ASSERT_TRUE(this->Record(a, r.id, "2", this->clock_.Now()).ok());
  }
  ASSERT_TRUE(this->Call(a, [&](Transaction& tx) { return this->conns_.Delete(tx, a, c); }).ok());
  auto listed = this->List(a, c);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_TRUE(listed->empty());
  auto found = this->Find(a, "google", gone.external_id);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, std::nullopt);
  EXPECT_EQ(this->InboxCount(a, gone.id), 0);
  EXPECT_EQ(this->InboxCount(a, gone_too.id), 0);
  EXPECT_EQ(this->Record(a, gone.id, "3", this->clock_.Now()).status().code(),
            StatusCode::kNotFound);
  listed = this->List(a, kept);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, std::vector<PushChannelRecord>{stays});
  EXPECT_EQ(this->InboxCount(a, stays.id), 2);

  // Deleting a channel takes its inbox with it.
  ASSERT_TRUE(
      this->Call(a, [&](Transaction& tx) { return this->repo_.Delete(tx, a, stays.id); }).ok());
  EXPECT_EQ(this->InboxCount(a, stays.id), 0);
}

TYPED_TEST_P(PushConformanceTest, MaintenanceListsExpiringActiveChannelsSoonestFirst) {
  // Fresh tenants and instants long before the fixture clock, so that on the shared PostgreSQL
  // database other tests' rows neither interleave nor crowd ours out.
  const TenantId x = this->NewTenant("x");
  const TenantId y = this->NewTenant("y");
  const Timestamp base = this->OldBase();
  auto put = [&](const TenantId& t, const ConnectionId& c, std::chrono::seconds expires,
                 PushChannelStatus status = PushChannelStatus::kActive) {
    PushChannelRecord r = this->Channel(t, c);
    r.expires_at = base + expires;
    r.status = status;
    EXPECT_TRUE(this->Insert(r).ok());
  };
  const ConnectionId late = this->PutConnection(x);
  const ConnectionId middle = this->PutConnection(y);
  const ConnectionId soonest = this->PutConnection(x);
  const ConnectionId stopped = this->PutConnection(y);
  const ConnectionId not_yet = this->PutConnection(x);
  put(x, late, std::chrono::seconds(30));
  put(y, middle, std::chrono::seconds(20));
  put(x, soonest, std::chrono::seconds(25));
  put(x, soonest, std::chrono::seconds(5));  // two channels: listed once, at the soonest
  put(y, stopped, std::chrono::seconds(1), PushChannelStatus::kStopped);
  put(x, not_yet, std::chrono::seconds(40));  // `before` is exclusive
  put(y, middle, std::chrono::seconds(50));

  using Pairs = std::vector<std::pair<TenantId, ConnectionId>>;
  auto expiring = [&](int limit) {
    auto listed = this->Maintenance([&](Transaction& tx) {
      return this->repo_.MaintenanceListExpiring(tx, base, std::chrono::seconds(40), limit);
    });
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    return listed.ok() ? *listed : Pairs();
  };
  const Pairs all = expiring(PushRepository::kMaxListLimit);
  Pairs ours;
  for (const auto& entry : all) {
    if (entry.first == x || entry.first == y) ours.push_back(entry);
  }
  EXPECT_EQ(ours, (Pairs{{x, soonest}, {y, middle}, {x, late}}));
  // A limit keeps the soonest (an earlier run's rows in the same database may come first);
  // an offset pages on from there.
  ASSERT_GE(all.size(), 3u);
  EXPECT_EQ(expiring(2), (Pairs{all[0], all[1]}));
  auto page = this->Maintenance([&](Transaction& tx) {
    return this->repo_.MaintenanceListExpiring(tx, base, std::chrono::seconds(40), 2, 1);
  });
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(*page, (Pairs{all[1], all[2]}));

  // Without a failed renewal a channel is due only past half its life: granted for 30 s and 25 s
  // into it, due; granted for 10 s and 5 s before its half, not yet, though inside the margin.
  auto short_lived = [&](std::chrono::seconds granted_before, std::chrono::seconds expires) {
    const ConnectionId c = this->PutConnection(x);
    PushChannelRecord r = this->Channel(x, c);
    r.renew_failures = 0;
    r.updated_at = base - granted_before;
    r.expires_at = base + expires;
    EXPECT_TRUE(this->Insert(r).ok());
    return c;
  };
  const ConnectionId half_gone = short_lived(std::chrono::seconds(25), std::chrono::seconds(5));
  const ConnectionId fresh = short_lived(std::chrono::seconds(0), std::chrono::seconds(10));
  const Pairs now_due = expiring(PushRepository::kMaxListLimit);
  auto listed = [&](const ConnectionId& c) {
    return std::find(now_due.begin(), now_due.end(), std::make_pair(x, c)) != now_due.end();
  };
  EXPECT_TRUE(listed(half_gone));
  EXPECT_FALSE(listed(fresh));
  EXPECT_EQ(this->Maintenance([&](Transaction& tx) {
                  return this->repo_
                      .MaintenanceListExpiring(tx, base, std::chrono::seconds(0), 2, -1)
                      .status();
                })
                .code(),
            StatusCode::kInvalidArgument);

  EXPECT_EQ(this->Call(x,
                       [&](Transaction& tx) {
                         return this->repo_
                             .MaintenanceListExpiring(tx, base, std::chrono::seconds(0), 10)
                             .status();
                       })
                .code(),
            StatusCode::kFailedPrecondition);
  for (int limit : {0, -1, PushRepository::kMaxListLimit + 1}) {
    EXPECT_EQ(this->Maintenance([&](Transaction& tx) {
                    return this->repo_
                        .MaintenanceListExpiring(tx, base, std::chrono::seconds(0), limit)
                        .status();
                  })
                  .code(),
              StatusCode::kInvalidArgument);
  }
}

TYPED_TEST_P(PushConformanceTest, CrossTenantAccessIsRefused) {
  const TenantId a = this->a_;
  const TenantId b = this->b_;
  const ConnectionId cb = this->PutConnection(b);
  PushChannelRecord theirs = this->Channel(b, cb);
  ASSERT_TRUE(this->Insert(theirs).ok());
  ASSERT_TRUE(this->Record(b, theirs.id, "1", this->clock_.Now()).ok());
  const Timestamp now = this->clock_.Now();
  for (const auto& call : std::vector<std::function<Status(Transaction&)>>{
           [&](Transaction& tx) { return this->repo_.Insert(tx, b, theirs); },
           [&](Transaction& tx) { return this->repo_.Update(tx, b, theirs); },
           [&](Transaction& tx) { return this->repo_.Delete(tx, b, theirs.id).status(); },
           [&](Transaction& tx) {
             return this->repo_.FindByExternal(tx, b, "google", theirs.external_id).status();
           },
           [&](Transaction& tx) { return this->repo_.ListForConnection(tx, b, cb).status(); },
           [&](Transaction& tx) {
             return this->repo_.RecordNotification(tx, b, theirs.id, "2", now).status();
           }}) {
    EXPECT_EQ(this->InTenant(a, call).code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(this->db_->RunUnscoped(call).code(), StatusCode::kPermissionDenied);
  }
  // Asked as A for A, B's rows do not exist and cannot be changed.
  Status s = this->InTenant(a, [&](Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto listed, this->repo_.ListForConnection(tx, a, cb));
    EXPECT_TRUE(listed.empty());
    SB_ASSIGN_OR_RETURN(bool deleted, this->repo_.Delete(tx, a, theirs.id));
    EXPECT_FALSE(deleted);
    return OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  PushChannelRecord forged = theirs;
  forged.tenant_id = a;
  forged.status = PushChannelStatus::kStopped;
  EXPECT_EQ(
      this->Call(a, [&](Transaction& tx) { return this->repo_.Update(tx, a, forged); }).code(),
      StatusCode::kNotFound);
  EXPECT_EQ(this->Insert(forged).code(), StatusCode::kNotFound);  // B's connection
  // A record naming another tenant than the call is refused.
  EXPECT_EQ(
      this->Call(a, [&](Transaction& tx) { return this->repo_.Insert(tx, a, theirs); }).code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(
      this->Call(a, [&](Transaction& tx) { return this->repo_.Update(tx, a, theirs); }).code(),
      StatusCode::kInvalidArgument);
  auto found = this->Find(b, "google", theirs.external_id);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, theirs);
  EXPECT_EQ(this->InboxCount(b, theirs.id), 1);
}

TYPED_TEST_P(PushConformanceTest, RejectsMalformedInput) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  PushChannelRecord existing = this->Channel(a, c);
  ASSERT_TRUE(this->Insert(existing).ok());
  auto invalid = [&](const std::function<Status(Transaction&)>& call, const std::string& what) {
    EXPECT_EQ(this->InTenant(a, call).code(), StatusCode::kInvalidArgument) << what;
  };
  std::vector<std::pair<std::string, std::function<void(PushChannelRecord&)>>> channels = {
      {"id", [](auto& r) { r.id = "chan-1"; }},
      {"id empty", [](auto& r) { r.id = ""; }},
      {"connection", [](auto& r) { r.connection_id = ConnectionId("x"); }},
      {"service upper", [](auto& r) { r.service = "Calendar"; }},
      {"service empty", [](auto& r) { r.service = ""; }},
      {"service long", [](auto& r) { r.service = std::string(33, 'a'); }},
      {"provider upper", [](auto& r) { r.provider = "Google"; }},
      {"provider empty", [](auto& r) { r.provider = ""; }},
      {"provider long", [](auto& r) { r.provider = std::string(33, 'g'); }},
      {"provider underscore", [](auto& r) { r.provider = "my_provider"; }},
      {"resource empty", [](auto& r) { r.resource = ""; }},
      {"resource long", [](auto& r) { r.resource = std::string(1025, 'r'); }},
      {"resource control", [](auto& r) { r.resource = "a\nb"; }},
      {"external empty", [](auto& r) { r.external_id = ""; }},
      {"external long", [](auto& r) { r.external_id = std::string(257, 'e'); }},
      {"external utf8", [](auto& r) { r.external_id = "\xff"; }},
      {"resource id long", [](auto& r) { r.resource_id = std::string(257, 'i'); }},
      {"resource id control", [](auto& r) { r.resource_id = "a\tb"; }},
      {"secret short", [](auto& r) { r.secret_hash = std::string(63, 'a'); }},
      {"secret upper", [](auto& r) { r.secret_hash = std::string(64, 'A'); }},
      {"secret not hex", [](auto& r) { r.secret_hash = std::string(64, 'g'); }},
      {"secret empty", [](auto& r) { r.secret_hash = ""; }},
      {"status", [](auto& r) { r.status = static_cast<PushChannelStatus>(7); }},
      {"renew failures", [](auto& r) { r.renew_failures = -1; }},
      {"error long", [](auto& r) { r.last_error = std::string(1025, 'e'); }},
      {"error utf8", [](auto& r) { r.last_error = "\xff"; }},
      {"error nul", [](auto& r) { r.last_error = std::string("a\0b", 3); }},
      {"tenant", [](auto& r) { r.tenant_id = TenantId("x"); }},
  };
  for (const auto& [what, mutate] : channels) {
    PushChannelRecord fresh = this->Channel(a, c);
    mutate(fresh);
    invalid([&](Transaction& tx) { return this->repo_.Insert(tx, a, fresh); }, "insert " + what);
    PushChannelRecord changed = existing;
    mutate(changed);
    invalid([&](Transaction& tx) { return this->repo_.Update(tx, a, changed); }, "update " + what);
  }
  // Limits are inclusive.
  PushChannelRecord longest = this->Channel(a, c, std::string(32, 'p'));
  longest.service = std::string(32, 's');
  longest.resource = std::string(1024, 'r');
  longest.external_id = std::string(256, 'e');
  longest.resource_id = std::string(256, 'i');
  longest.last_error = std::string(1024, 'l');
  EXPECT_TRUE(this->Insert(longest).ok());
  PushChannelRecord other_provider = this->Channel(a, c, "acme-cal2");
  EXPECT_TRUE(this->Insert(other_provider).ok());

  invalid(
      [&](Transaction& tx) {
        return this->repo_.FindByExternal(tx, a, "Google", existing.external_id).status();
      },
      "find provider");
  invalid([&](Transaction& tx) { return this->repo_.FindByExternal(tx, a, "google", "").status(); },
          "find external empty");
  invalid(
      [&](Transaction& tx) {
        return this->repo_.FindByExternal(tx, a, "google", std::string(257, 'e')).status();
      },
      "find external long");
  invalid([&](Transaction& tx) { return this->repo_.Delete(tx, a, "chan-1").status(); }, "delete");
  invalid(
      [&](Transaction& tx) {
        return this->repo_.ListForConnection(tx, a, ConnectionId("x")).status();
      },
      "list");
  const Timestamp now = this->clock_.Now();
  for (const std::string& key :
       {std::string(), std::string(129, 'k'), std::string("a b"), std::string("a\nb"),
        std::string("caf\xc3\xa9"), std::string("\x7f"), std::string("a\0b", 3)}) {
    invalid(
        [&](Transaction& tx) {
          return this->repo_.RecordNotification(tx, a, existing.id, key, now).status();
        },
        std::string("message key of ").append(std::to_string(key.size())).append(" bytes"));
  }
  invalid(
      [&](Transaction& tx) {
        return this->repo_.RecordNotification(tx, a, "chan-1", "1", now).status();
      },
      "notification channel");
  invalid(
      [&](Transaction& tx) {
        return this->repo_.FindByExternal(tx, TenantId("x"), "google", "e").status();
      },
      "tenant");
  auto longest_key = this->Record(a, existing.id, std::string(128, 'k'), now);
  ASSERT_TRUE(longest_key.ok()) << longest_key.status().ToString();
  EXPECT_TRUE(*longest_key);
  // Nothing invalid was written.
  auto listed = this->List(a, c);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, (std::vector<PushChannelRecord>{existing, longest, other_provider}));
  EXPECT_EQ(this->InboxCount(a, existing.id), 1);
}

TYPED_TEST_P(PushConformanceTest, CorruptRowsAreDataLoss) {
  const TenantId a = this->a_;
  const ConnectionId c = this->PutConnection(a);
  PushChannelRecord r = this->Channel(a, c);
  ASSERT_TRUE(this->Insert(r).ok());
  auto loss = [&] { return this->List(a, c).status().code(); };
  auto find_loss = [&] { return this->Find(a, "google", r.external_id).status().code(); };
  ASSERT_EQ(loss(), StatusCode::kOk);
  const std::vector<std::pair<std::string, std::string>> corruptions = {
      {"service", "Cal"},
      {"resource", "a\nb"},
      {"resource_id", std::string(257, 'i')},
      {"secret_hash", "ABC"},
      {"last_error", std::string(1025, 'e')},
  };
  for (const auto& [column, value] : corruptions) {
    std::string sql = "UPDATE push_channels SET ";
    sql.append(column).append(" = $2 WHERE tenant_id = $1");
    ASSERT_TRUE(this->Exec(a, sql, value).ok()) << column;
    EXPECT_EQ(loss(), StatusCode::kDataLoss) << column;
    EXPECT_EQ(find_loss(), StatusCode::kDataLoss) << column;
    ASSERT_TRUE(this->Exec(a,
                           "UPDATE push_channels SET service = 'calendar', resource = 'r', "
                           "resource_id = '', secret_hash = $2, last_error = '' "
                           "WHERE tenant_id = $1",
                           r.secret_hash)
                    .ok());
    EXPECT_EQ(loss(), StatusCode::kOk) << column;
  }
  // A provider no write would store: the row is listed by connection and unreadable.
  ASSERT_TRUE(
      this->Exec(a, "UPDATE push_channels SET provider = 'Google' WHERE tenant_id = $1").ok());
  EXPECT_EQ(loss(), StatusCode::kDataLoss);
}

TYPED_TEST_P(PushConformanceTest, EnumNamesRoundTrip) {
  for (PushChannelStatus s : {PushChannelStatus::kActive, PushChannelStatus::kStopped}) {
    EXPECT_EQ(ParsePushChannelStatus(PushChannelStatusName(s)), s);
  }
  EXPECT_EQ(PushChannelStatusName(PushChannelStatus::kActive), "active");
  EXPECT_EQ(PushChannelStatusName(PushChannelStatus::kStopped), "stopped");
  EXPECT_EQ(ParsePushChannelStatus("Active"), std::nullopt);
  EXPECT_EQ(ParsePushChannelStatus(""), std::nullopt);
  EXPECT_EQ(PushChannelStatusName(static_cast<PushChannelStatus>(42)), "");
}

REGISTER_TYPED_TEST_SUITE_P(PushConformanceTest, ChannelsRoundTripUpdateListAndDelete,
                            ExternalIdIsUniquePerTenantAndProvider, FindByExternalIsPerTenant,
                            InboxCountsANotificationOncePerChannel,
                            MaintenancePrunesInboxRowsReceivedBefore,
                            ConnectionDeleteCascadesToChannelsAndInbox,
                            MaintenanceListsExpiringActiveChannelsSoonestFirst,
                            CrossTenantAccessIsRefused, RejectsMalformedInput,
                            CorruptRowsAreDataLoss, EnumNamesRoundTrip);

}  // namespace sb::store::testing
