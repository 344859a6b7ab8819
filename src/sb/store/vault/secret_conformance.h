// Conformance suite of the vault's storage (SecretRepository, VaultStateRepository), written
// once and instantiated per backend like repository_conformance.h. Include in exactly one
// translation unit per test binary.
#pragma once

#include <gtest/gtest.h>

#include "sb/store/testing/conformance_fixture.h"
#include "sb/store/vault/secret_repository.h"

namespace sb::store::testing {

template <typename TestBackend>
class SecretConformanceTest : public RepositoryConformanceTest<TestBackend> {
 protected:
  SecretRecord Secret(const TenantId& tenant, std::string owner, std::string field,
                      int64_t version) {
    return SecretRecord{tenant,
                        std::move(owner),
                        std::move(field),
                        "sbv1:" + std::to_string(version) + ":" + HexEncode(this->random_.Bytes(8)),
                        version,
                        this->clock_.Now()};
  }

  void Put(const SecretRecord& r) {
    Status s = this->InTenant(r.tenant_id,
                              [&](Transaction& tx) { return secrets_.Upsert(tx, r.tenant_id, r); });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::optional<SecretRecord> Read(const TenantId& tenant, const std::string& owner,
                                   const std::string& field) {
    std::optional<SecretRecord> out;
    Status s = this->InTenant(tenant, [&](Transaction& tx) -> Status {
      SB_ASSIGN_OR_RETURN(out, secrets_.Get(tx, tenant, owner, field));
      return OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  std::unique_ptr<Database> Maintenance() {
    auto db = this->backend_.OpenMaintenance();
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  // Every secret below `version` in maintenance order, read in pages of `page`.
  std::vector<SecretRecord> ScanBelow(Database& maint, int64_t version, int page) {
    std::vector<SecretRecord> all;
    std::optional<SecretCursor> after;
    while (true) {
      std::vector<SecretRecord> batch;
      Status s = maint.RunUnscoped([&](Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(batch, secrets_.MaintenanceListBelowVersion(tx, version, after, page));
        return OkStatus();
      });
      EXPECT_TRUE(s.ok()) << s.ToString();
      if (!s.ok() || batch.empty()) return all;
      after = SecretCursor{batch.back().tenant_id, batch.back().owner_id, batch.back().field};
      for (auto& r : batch) all.push_back(std::move(r));
    }
  }

  SecretRepository secrets_;
  VaultStateRepository state_;
};

TYPED_TEST_SUITE_P(SecretConformanceTest);

TYPED_TEST_P(SecretConformanceTest, UpsertGetReplaceAndDelete) {
  SecretRecord first = this->Secret(this->a_, "conn-1", "refresh_token", 1);
  this->Put(first);
  EXPECT_EQ(this->Read(this->a_, "conn-1", "refresh_token"), first);
  SecretRecord second = this->Secret(this->a_, "conn-1", "refresh_token", 2);
  this->Put(second);
  EXPECT_EQ(this->Read(this->a_, "conn-1", "refresh_token"), second);
  this->Put(this->Secret(this->a_, "conn-1", "access_token", 2));
  this->Put(this->Secret(this->a_, "conn-2", "access_token", 2));

  Status s = this->InTenant(this->a_, [&](Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(bool gone, this->secrets_.Delete(tx, this->a_, "conn-1", "access_token"));
    EXPECT_TRUE(gone);
    SB_ASSIGN_OR_RETURN(gone, this->secrets_.Delete(tx, this->a_, "conn-1", "access_token"));
    EXPECT_FALSE(gone);
    SB_ASSIGN_OR_RETURN(int64_t n, this->secrets_.DeleteOwner(tx, this->a_, "conn-1"));
    EXPECT_EQ(n, 1);
    return OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(this->Read(this->a_, "conn-1", "refresh_token"), std::nullopt);
  EXPECT_TRUE(this->Read(this->a_, "conn-2", "access_token").has_value());
}

TYPED_TEST_P(SecretConformanceTest, RejectsMalformedAddressesAndRecords) {
  for (const auto& [owner, field] :
       std::vector<std::pair<std::string, std::string>>{{"", "f"},
                                                        {"o", ""},
                                                        {"o", "Refresh"},
                                                        {"o", "a b"},
                                                        {std::string(201, 'x'), "f"},
                                                        {"has space", "f"}}) {
    SecretRecord r = this->Secret(this->a_, owner, field, 1);
    Status s = this->InTenant(
        this->a_, [&](Transaction& tx) { return this->secrets_.Upsert(tx, this->a_, r); });
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << owner << "/" << field;
  }
  SecretRecord bad_version = this->Secret(this->a_, "o", "f", 0);
  Status s = this->InTenant(
      this->a_, [&](Transaction& tx) { return this->secrets_.Upsert(tx, this->a_, bad_version); });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

// RLS-09 / RLS-10: tenant A's transaction never reaches B's secrets.
TYPED_TEST_P(SecretConformanceTest, CrossTenantAccessIsRefused) {
  SecretRecord b_secret = this->Secret(this->b_, "conn-b", "refresh_token", 1);
  this->Put(b_secret);
  Status s = this->InTenant(this->a_, [&](Transaction& tx) {
    return this->secrets_.Get(tx, this->b_, "conn-b", "refresh_token").status();
  });
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  s = this->InTenant(this->a_, [&](Transaction& tx) {
    return this->secrets_.DeleteOwner(tx, this->b_, "conn-b").status();
  });
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  SecretRecord forged = this->Secret(this->b_, "conn-b", "refresh_token", 1);
  s = this->InTenant(this->a_,
                     [&](Transaction& tx) { return this->secrets_.Upsert(tx, this->b_, forged); });
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  // Same owner and field names in A are a different secret.
  EXPECT_EQ(this->Read(this->a_, "conn-b", "refresh_token"), std::nullopt);
  EXPECT_EQ(this->Read(this->b_, "conn-b", "refresh_token"), b_secret);
  // Maintenance calls refuse a tenant-scoped transaction.
  s = this->InTenant(this->a_, [&](Transaction& tx) {
    return this->secrets_.MaintenanceCountBelow(tx, 5).status();
  });
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
}

// KMS-04: the rewrap scan sees every tenant's old secrets in pages, and replacement is a
// compare-and-set.
TYPED_TEST_P(SecretConformanceTest, MaintenanceScansAcrossTenantsAndReplacesWithCompareAndSet) {
  // Fresh tenants so the scan sees only this test's rows even on a shared database.
  TenantId x = this->NewTenant("x");
  TenantId y = this->NewTenant("y");
  int64_t low = 1'000'000 + static_cast<int64_t>(this->random_.Uint64() % 1'000'000);
  std::vector<SecretRecord> old_ones;
  for (const TenantId& t : {x, y}) {
    for (int i = 0; i < 5; ++i) {
      SecretRecord r = this->Secret(t, "owner-" + std::to_string(i), "token", low);
      this->Put(r);
      old_ones.push_back(r);
    }
    this->Put(this->Secret(t, "fresh", "token", low + 1));
  }
  auto maint = this->Maintenance();
  ASSERT_NE(maint, nullptr);
  // Other tests' rows may sit below `low + 1` too; keep only ours.
  auto mine = [&](std::vector<SecretRecord> rows) {
    std::erase_if(rows,
                  [&](const SecretRecord& r) { return r.tenant_id != x && r.tenant_id != y; });
    return rows;
  };
  auto scanned = mine(this->ScanBelow(*maint, low + 1, 3));
  ASSERT_EQ(scanned.size(), 10u);
  for (size_t i = 1; i < scanned.size(); ++i) {
    const auto& p = scanned[i - 1];
    const auto& q = scanned[i];
    EXPECT_LT(std::tie(p.tenant_id.value(), p.owner_id, p.field),
              std::tie(q.tenant_id.value(), q.owner_id, q.field));
  }

  const SecretRecord& target = old_ones.front();
  Status s = maint->RunUnscoped([&](Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(
        bool swapped, this->secrets_.MaintenanceReplaceIf(tx, target.tenant_id, target.owner_id,
                                                          target.field, target.ciphertext,
                                                          "sbv1:new", low + 1, this->clock_.Now()));
    EXPECT_TRUE(swapped);
    SB_ASSIGN_OR_RETURN(swapped, this->secrets_.MaintenanceReplaceIf(
                                     tx, target.tenant_id, target.owner_id, target.field,
                                     target.ciphertext, "sbv1:newer", low + 1, this->clock_.Now()));
    EXPECT_FALSE(swapped);  // the expected ciphertext is stale now
    SB_ASSIGN_OR_RETURN(auto counts, this->secrets_.MaintenanceCountByVersion(tx));
    EXPECT_GE(counts[low], 9);
    EXPECT_GE(counts[low + 1], 3);
    return OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto after = this->Read(target.tenant_id, target.owner_id, target.field);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->ciphertext, "sbv1:new");
  EXPECT_EQ(after->key_version, low + 1);
  EXPECT_EQ(mine(this->ScanBelow(*maint, low + 1, 100)).size(), 9u);
}

TYPED_TEST_P(SecretConformanceTest, VaultStateInitializesOnceAndValidates) {
  auto owner = this->backend_.OpenOwner();
  ASSERT_TRUE(owner.ok());
  ASSERT_TRUE((*owner)
                  ->RunUnscoped([](Transaction& tx) {
                    return tx.Execute("DELETE FROM vault_state").status();
                  })
                  .ok());
  Status s = this->db_->RunUnscoped([&](Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto none, this->state_.Get(tx));
    EXPECT_EQ(none, std::nullopt);
    EXPECT_EQ(this->state_.Set(tx, {2, 1, this->clock_.Now()}).code(),
              StatusCode::kFailedPrecondition);
    SB_ASSIGN_OR_RETURN(VaultState first,
                        this->state_.InitializeIfAbsent(tx, {1, 1, this->clock_.Now()}));
    EXPECT_EQ(first.write_version, 1);
    SB_ASSIGN_OR_RETURN(VaultState again,
                        this->state_.InitializeIfAbsent(tx, {7, 7, this->clock_.Now()}));
    EXPECT_EQ(again, first);
    EXPECT_EQ(this->state_.Set(tx, {2, 3, this->clock_.Now()}).code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(this->state_.Set(tx, {0, 0, this->clock_.Now()}).code(),
              StatusCode::kInvalidArgument);
    SB_RETURN_IF_ERROR(this->state_.Set(tx, {3, 2, this->clock_.Now()}));
    SB_ASSIGN_OR_RETURN(auto locked, this->state_.Get(tx, VaultStateRepository::Lock::kUpdate));
    EXPECT_TRUE(locked.has_value() && locked->write_version == 3 &&
                locked->min_decrypt_version == 2);
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  // Tenant transactions can read it too (it is deployment state, not tenant data).
  s = this->InTenant(this->a_, [&](Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto state, this->state_.Get(tx, VaultStateRepository::Lock::kShare));
    EXPECT_TRUE(state.has_value());
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

REGISTER_TYPED_TEST_SUITE_P(SecretConformanceTest, UpsertGetReplaceAndDelete,
                            RejectsMalformedAddressesAndRecords, CrossTenantAccessIsRefused,
                            MaintenanceScansAcrossTenantsAndReplacesWithCompareAndSet,
                            VaultStateInitializesOnceAndValidates);

}  // namespace sb::store::testing
