// Conformance suite of AuditRepository, written once and instantiated per backend
// (audit_repository_test: SQLite, audit_repository_pgtest: PostgreSQL). Covers the row
// contracts, filters and paging, the head lock, checkpoints, the system tenant (nil id),
// cross-tenant refusals (RLS-09) and corrupt rows. Include in exactly one translation unit per
// test binary.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sb/base/encoding.h"
#include "sb/base/random.h"
#include "sb/base/testing/fake_clock.h"
#include "sb/store/audit/audit_repository.h"
#include "sb/store/testing/test_backends.h"

namespace sb::store::testing {

template <typename TestBackend>
class AuditRepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = OpenMigrated(backend_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    a_ = TenantId(ids_.NewUuid());
    b_ = TenantId(ids_.NewUuid());
  }

  // A connection that bypasses every protection: the SQLite file itself, or the PostgreSQL
  // superuser (the owner is subject to FORCE ROW LEVEL SECURITY).
  std::unique_ptr<Database> Tamperer() {
    Result<std::unique_ptr<Database>> db = [&] {
      if constexpr (TestBackend::kHasRowLevelSecurity) {
        return backend_.OpenSuperuser();
      } else {
        return backend_.OpenOwner();
      }
    }();
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  std::string Hash(int n) { return HexEncode(std::string(31, '\0') + char(n)); }

  AuditEntryRecord MakeEntry(const TenantId& tenant, int64_t seq, std::string action = "x.do") {
    clock_.Advance(std::chrono::seconds(1));
    AuditEntryBody body{ids_.NewUuid(), clock_.Now(), "api_key", "key-" + std::to_string(seq),
                        action,         "target/1",   "success", "req-1",
                        R"({"n":1})"};
    return AuditEntryRecord{tenant, seq, body, Hash(int(seq)), Hash(int(seq) + 100)};
  }

  Status InTenant(const TenantId& t, const TransactionFn& fn) { return db_->RunInTenant(t, fn); }

  Status Insert(const AuditEntryRecord& r) {
    return InTenant(r.tenant_id,
                    [&](Transaction& tx) { return repo_.InsertEntry(tx, r.tenant_id, r); });
  }

  Result<std::vector<AuditEntryRecord>> List(const TenantId& tenant, const AuditEntryFilter& f,
                                             std::optional<int64_t> after, int limit) {
    std::vector<AuditEntryRecord> out;
    Status s = db_->RunInTenant(tenant, TxMode::kReadOnly, [&](Transaction& tx) -> Status {
      SB_ASSIGN_OR_RETURN(out, repo_.ListEntries(tx, tenant, f, after, limit));
      return OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }

  TestBackend backend_;
  sb::testing::FakeClock clock_;
  SystemRandom random_;
  IdGenerator ids_{clock_, random_};
  std::unique_ptr<Database> db_;
  AuditRepository repo_;
  TenantId a_;
  TenantId b_;
};

TYPED_TEST_SUITE_P(AuditRepositoryTest);

TYPED_TEST_P(AuditRepositoryTest, InsertListPageAndFilter) {
  std::vector<AuditEntryRecord> entries;
  for (int64_t seq = 1; seq <= 5; ++seq) {
    entries.push_back(this->MakeEntry(this->a_, seq, seq % 2 ? "odd.do" : "even.do"));
    ASSERT_TRUE(this->Insert(entries.back()).ok());
  }
  auto all = this->List(this->a_, {}, std::nullopt, 100);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(*all, entries);
  auto page = this->List(this->a_, {}, 2, 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].seq, 3);
  EXPECT_EQ((*page)[1].seq, 4);

  AuditEntryFilter f;
  f.action = "odd.do";
  auto odd = this->List(this->a_, f, std::nullopt, 100);
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->size(), 3u);
  f = {};
  f.from = entries[1].body->occurred_at;
  f.to = entries[3].body->occurred_at;  // exclusive
  auto range = this->List(this->a_, f, std::nullopt, 100);
  ASSERT_TRUE(range.ok());
  ASSERT_EQ(range->size(), 2u);
  EXPECT_EQ((*range)[0].seq, 2);
  f = {};
  f.actor_kind = "api_key";
  f.actor_id = "key-4";
  f.target = "target/1";
  f.outcome = "success";
  auto one = this->List(this->a_, f, std::nullopt, 100);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].seq, 4);
  f.outcome = "denied";
  EXPECT_TRUE(this->List(this->a_, f, std::nullopt, 100)->empty());

  EXPECT_EQ(this->Insert(this->MakeEntry(this->a_, 3)).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(this->List(this->a_, {}, std::nullopt, 0).status().code(),
            StatusCode::kInvalidArgument);
  AuditEntryRecord bad = this->MakeEntry(this->a_, 9);
  bad.leaf_hash = "not hex";
  EXPECT_EQ(this->Insert(bad).code(), StatusCode::kInvalidArgument);
  bad = this->MakeEntry(this->a_, 9);
  bad.body.reset();
  EXPECT_EQ(this->Insert(bad).code(), StatusCode::kInvalidArgument);
}

TYPED_TEST_P(AuditRepositoryTest, HeadIsCreatedLockedAndUpserted) {
  std::optional<AuditHeadRecord> got;
  ASSERT_TRUE(this->InTenant(this->a_,
                             [&](Transaction& tx) -> Status {
                               SB_ASSIGN_OR_RETURN(got, this->repo_.GetHead(tx, this->a_));
                               return OkStatus();
                             })
                  .ok());
  EXPECT_FALSE(got.has_value());
  AuditHeadRecord head;
  ASSERT_TRUE(this->InTenant(this->a_,
                             [&](Transaction& tx) -> Status {
                               SB_ASSIGN_OR_RETURN(head, this->repo_.LockHead(tx, this->a_));
                               EXPECT_EQ(head.seq, 0);
                               EXPECT_EQ(head.chain_hash, std::string(64, '0'));
                               head.seq = 7;
                               head.chain_hash = this->Hash(7);
                               return this->repo_.UpsertHead(tx, this->a_, head);
                             })
                  .ok());
  ASSERT_TRUE(this->InTenant(this->a_,
                             [&](Transaction& tx) -> Status {
                               SB_ASSIGN_OR_RETURN(auto locked, this->repo_.LockHead(tx, this->a_));
                               EXPECT_EQ(locked, head);
                               SB_ASSIGN_OR_RETURN(got, this->repo_.GetHead(tx, this->a_));
                               return OkStatus();
                             })
                  .ok());
  EXPECT_EQ(got, head);
  Status s = this->InTenant(this->a_, [&](Transaction& tx) {
    AuditHeadRecord bad = head;
    bad.chain_hash = "zz";
    return this->repo_.UpsertHead(tx, this->a_, bad);
  });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  // A failed transaction leaves no head behind.
  s = this->InTenant(this->b_, [&](Transaction& tx) -> Status {
    SB_RETURN_IF_ERROR(this->repo_.LockHead(tx, this->b_));
    return AbortedError("caller failed");
  });
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  ASSERT_TRUE(this->InTenant(this->b_,
                             [&](Transaction& tx) -> Status {
                               SB_ASSIGN_OR_RETURN(got, this->repo_.GetHead(tx, this->b_));
                               return OkStatus();
                             })
                  .ok());
  EXPECT_FALSE(got.has_value());
}

TYPED_TEST_P(AuditRepositoryTest, CheckpointsInsertListAndLast) {
  std::vector<AuditCheckpointRecord> cps;
  for (int64_t seq : {10, 20, 30}) {
    cps.push_back({this->a_, seq, this->Hash(int(seq)), this->clock_.Now(), this->Hash(1), "key-1",
                   "c2lnbmF0dXJl"});
    ASSERT_TRUE(this->InTenant(this->a_,
                               [&](Transaction& tx) {
                                 return this->repo_.InsertCheckpoint(tx, this->a_, cps.back());
                               })
                    .ok());
  }
  std::vector<AuditCheckpointRecord> listed;
  std::optional<AuditCheckpointRecord> last;
  ASSERT_TRUE(this->InTenant(this->a_,
                             [&](Transaction& tx) -> Status {
                               SB_ASSIGN_OR_RETURN(
                                   listed, this->repo_.ListCheckpoints(tx, this->a_, 10, 100));
                               SB_ASSIGN_OR_RETURN(last, this->repo_.LastCheckpoint(tx, this->a_));
                               return OkStatus();
                             })
                  .ok());
  EXPECT_EQ(listed, std::vector<AuditCheckpointRecord>(cps.begin() + 1, cps.end()));
  EXPECT_EQ(last, cps.back());
  Status dup = this->InTenant(this->a_, [&](Transaction& tx) {
    return this->repo_.InsertCheckpoint(tx, this->a_, cps[0]);
  });
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
}

TYPED_TEST_P(AuditRepositoryTest, RefusesForeignScopeAndHidesOtherTenants) {
  ASSERT_TRUE(this->Insert(this->MakeEntry(this->a_, 1)).ok());
  ASSERT_TRUE(this->Insert(this->MakeEntry(this->b_, 1)).ok());
  AuditRepository& repo = this->repo_;
  const TenantId a = this->a_;
  const TenantId b = this->b_;
  Status s = this->InTenant(
      a, [&](Transaction& tx) { return repo.ListEntries(tx, b, {}, std::nullopt, 10).status(); });
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  s = this->InTenant(a, [&](Transaction& tx) { return repo.LockHead(tx, b).status(); });
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  s = this->InTenant(a, [&](Transaction& tx) {
    return repo.InsertEntry(tx, a, this->MakeEntry(b, 2));  // record of another tenant
  });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  s = this->db_->RunUnscoped(
      [&](Transaction& tx) { return repo.ListEntries(tx, a, {}, std::nullopt, 10).status(); });
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  s = this->InTenant(a, [&](Transaction& tx) { return repo.ListChainTenants(tx).status(); });
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  auto listed = this->List(a, {}, std::nullopt, 10);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].tenant_id, a);
}

TYPED_TEST_P(AuditRepositoryTest, SystemTenantChainAndMaintenanceListing) {
  const TenantId system("00000000-0000-0000-0000-000000000000");
  ASSERT_TRUE(system.valid());
  ASSERT_TRUE(this->Insert(this->MakeEntry(system, 1)).ok());
  for (const TenantId& t : {this->a_, this->b_}) {
    ASSERT_TRUE(
        this->InTenant(t, [&](Transaction& tx) { return this->repo_.LockHead(tx, t).status(); })
            .ok());
  }
  auto maint = this->backend_.OpenMaintenance();
  ASSERT_TRUE(maint.ok()) << maint.status().ToString();
  std::vector<TenantId> tenants;
  ASSERT_TRUE((*maint)
                  ->RunUnscoped([&](Transaction& tx) -> Status {
                    SB_ASSIGN_OR_RETURN(tenants, this->repo_.ListChainTenants(tx));
                    return OkStatus();
                  })
                  .ok());
  // `system` has entries but no head: it is listed all the same.
  for (const TenantId& t : {system, this->a_, this->b_}) {
    EXPECT_NE(std::find(tenants.begin(), tenants.end(), t), tenants.end()) << t.value();
  }
  EXPECT_TRUE(std::is_sorted(tenants.begin(), tenants.end()));
  // The app role sees no chain outside a tenant transaction (PostgreSQL RLS, RLS-04).
  ASSERT_TRUE(this->db_
                  ->RunUnscoped([&](Transaction& tx) -> Status {
                    SB_ASSIGN_OR_RETURN(tenants, this->repo_.ListChainTenants(tx));
                    return OkStatus();
                  })
                  .ok());
  EXPECT_EQ(tenants.empty(), TypeParam::kHasRowLevelSecurity);
}

TYPED_TEST_P(AuditRepositoryTest, ErasedBodiesAndCorruptRows) {
  for (int64_t seq = 1; seq <= 3; ++seq)
    ASSERT_TRUE(this->Insert(this->MakeEntry(this->a_, seq)).ok());
  auto tamper = this->Tamperer();
  ASSERT_NE(tamper, nullptr);
  ASSERT_TRUE(tamper
                  ->RunUnscoped([&](Transaction& tx) {
                    return tx
                        .Execute(
                            "UPDATE audit_entries SET id = NULL, occurred_at = NULL, actor_kind "
                            "= NULL, actor_id = NULL, action = NULL, target = NULL, outcome = "
                            "NULL, request_id = NULL, details = NULL WHERE tenant_id = $1 AND "
                            "seq = 2",
                            {this->a_.value()})
                        .status();
                  })
                  .ok());
  auto listed = this->List(this->a_, {}, std::nullopt, 10);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_FALSE((*listed)[1].body.has_value());
  EXPECT_EQ((*listed)[1].leaf_hash, this->Hash(2));
  AuditEntryFilter f;
  f.action = "x.do";
  EXPECT_EQ(this->List(this->a_, f, std::nullopt, 10)->size(), 2u);

  ASSERT_TRUE(tamper
                  ->RunUnscoped([&](Transaction& tx) {
                    return tx
                        .Execute(
                            "UPDATE audit_entries SET leaf_hash = 'xyz' WHERE tenant_id = "
                            "$1 AND seq = 3",
                            {this->a_.value()})
                        .status();
                  })
                  .ok());
  EXPECT_EQ(this->List(this->a_, {}, std::nullopt, 10).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(this->List(this->a_, {}, std::nullopt, 2).status().code(), StatusCode::kOk);
}

REGISTER_TYPED_TEST_SUITE_P(AuditRepositoryTest, InsertListPageAndFilter,
                            HeadIsCreatedLockedAndUpserted, CheckpointsInsertListAndLast,
                            RefusesForeignScopeAndHidesOtherTenants,
                            SystemTenantChainAndMaintenanceListing, ErasedBodiesAndCorruptRows);

}  // namespace sb::store::testing
