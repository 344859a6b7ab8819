// Migration conformance suite, written once and instantiated per backend like
// repository_conformance.h: all up, all down, all up again, status, idempotence, and
// validation of the app role name. Include in exactly one translation unit per test binary.
#pragma once

#include <memory>

#include <gtest/gtest.h>

#include "sb/base/random.h"
#include "sb/base/testing/fake_clock.h"
#include "sb/store/migrations/migrator.h"
#include "sb/store/tenancy/tenant_repository.h"
#include "sb/store/testing/test_backends.h"

namespace sb::store::testing {

template <typename TestBackend>
class MigrationConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto owner = backend_.OpenOwner();
    ASSERT_TRUE(owner.ok()) << owner.status().ToString();
    owner_ = std::move(owner).value();
  }

  size_t KnownCount() const {
    return (owner_->backend() == Backend::kPostgres ? PostgresMigrations() : SqliteMigrations())
        .size();
  }

  // Inserts a tenant through the app connection; fails when the schema is missing.
  Status InsertTenant() {
    auto app = backend_.OpenApp();
    if (!app.ok()) return app.status();
    TenantId id(ids_.NewUuid());
    return (*app)->RunInTenant(id, [&](Transaction& tx) {
      return TenantRepository().Insert(tx, id, TenantRecord{id, "t", clock_.Now()});
    });
  }

  TestBackend backend_;
  sb::testing::FakeClock clock_;
  SystemRandom random_;
  IdGenerator ids_{clock_, random_};
  std::unique_ptr<Database> owner_;
};

TYPED_TEST_SUITE_P(MigrationConformanceTest);

TYPED_TEST_P(MigrationConformanceTest, UpDownUpAndStatus) {
  Migrator migrator(*this->owner_, this->clock_);
  const int known = static_cast<int>(this->KnownCount());
  ASSERT_GE(known, 1);
  auto down = migrator.Down(known + 5);  // start from an empty schema on every backend
  ASSERT_TRUE(down.ok()) << down.status().ToString();
  auto status = migrator.Status();
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  ASSERT_EQ(status->size(), static_cast<size_t>(known));
  for (const auto& s : *status) EXPECT_FALSE(s.applied) << s.version;
  EXPECT_FALSE(this->InsertTenant().ok());

  auto up = migrator.Up();
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(*up, known);
  status = migrator.Status();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ((*status)[0].version, 1);
  EXPECT_EQ((*status)[0].name, "tenants_and_api_keys");
  for (const auto& s : *status) {
    EXPECT_TRUE(s.applied);
    EXPECT_EQ(s.applied_at, this->clock_.Now());
  }
  EXPECT_TRUE(this->InsertTenant().ok());

  down = migrator.Down(known);
  ASSERT_TRUE(down.ok()) << down.status().ToString();
  EXPECT_EQ(*down, known);
  EXPECT_FALSE(this->InsertTenant().ok());
  up = migrator.Up();
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(*up, known);
  EXPECT_TRUE(this->InsertTenant().ok());
}

TYPED_TEST_P(MigrationConformanceTest, UpIsIdempotentAndDownOneRevertsNewest) {
  Migrator migrator(*this->owner_, this->clock_);
  ASSERT_TRUE(migrator.Up().ok());
  auto again = migrator.Up();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
  auto down = migrator.Down();
  ASSERT_TRUE(down.ok()) << down.status().ToString();
  EXPECT_EQ(*down, 1);
  auto status = migrator.Status();
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(status->back().applied);
  ASSERT_TRUE(migrator.Up().ok());
}

TYPED_TEST_P(MigrationConformanceTest, RejectsAnUnsafeAppRoleName) {
  Migrator migrator(*this->owner_, this->clock_, MigratorOptions{"sb_app; DROP TABLE x"});
  EXPECT_EQ(migrator.Up().status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(IsSqlIdentifier("Sb_App"));
  EXPECT_TRUE(IsSqlIdentifier("sb_app2"));
}

REGISTER_TYPED_TEST_SUITE_P(MigrationConformanceTest, UpDownUpAndStatus,
                            UpIsIdempotentAndDownOneRevertsNewest, RejectsAnUnsafeAppRoleName);

}  // namespace sb::store::testing
