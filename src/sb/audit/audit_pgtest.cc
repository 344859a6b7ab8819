// Audit log on PostgreSQL: the typed suites against a real server (app role sb_app subject to
// row-level security; the attacker is the superuser), plus AUD-03 with the audit table made
// read-only for the app role.
#include <gtest/gtest.h>

#include "sb/audit/testing/audit_log_suite.h"
#include "sb/audit/testing/audit_tamper_suite.h"
#include "sb/store/tenancy/tenant_repository.h"
#include "sb/store/testing/postgres_environment.h"

namespace sb::audit {
namespace testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, AuditLogTest, store::testing::PostgresTestBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, AuditTamperTest, store::testing::PostgresTestBackend);
}  // namespace testing

namespace {

[[maybe_unused]] ::testing::Environment* const kPostgres =
    ::testing::AddGlobalTestEnvironment(new store::testing::PostgresEnvironment);

using AuditPostgresTest = testing::AuditFixture<store::testing::PostgresTestBackend>;

// AUD-03 "make the audit table read-only": the change and its entry roll back together.
TEST_F(AuditPostgresTest, Aud03ReadOnlyAuditTableRollsTheChangeBack) {
  auto owner = backend_.OpenOwner();
  ASSERT_TRUE(owner.ok());
  auto grant = [&](const char* sql) {
    ASSERT_TRUE(
        (*owner)->RunUnscoped([&](store::Transaction& tx) { return tx.ExecuteScript(sql); }).ok());
  };
  grant("REVOKE INSERT ON audit_entries FROM sb_app");
  store::TenantRepository tenants;
  Status s = db_->RunInTenant(a_, [&](store::Transaction& tx) -> Status {
    SB_RETURN_IF_ERROR(tenants.Insert(tx, a_, store::TenantRecord{a_, "t", clock_.Now()}));
    return log_->Append(tx, a_, MakeEvent(1));
  });
  grant("GRANT INSERT ON audit_entries TO sb_app");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  std::optional<store::TenantRecord> tenant;
  ASSERT_TRUE(db_->RunInTenant(a_,
                               [&](store::Transaction& tx) -> Status {
                                 SB_ASSIGN_OR_RETURN(tenant, tenants.Get(tx, a_));
                                 return OkStatus();
                               })
                  .ok());
  EXPECT_FALSE(tenant.has_value());
  EXPECT_FALSE(Head(a_).has_value());
}

}  // namespace
}  // namespace sb::audit
