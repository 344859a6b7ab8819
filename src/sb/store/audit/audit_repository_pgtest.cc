// PostgreSQL instantiation of the AuditRepository conformance suite, plus the privileges of the
// app role on the audit tables: entries and checkpoints can be read and inserted but never
// changed or deleted (defence in depth; only a superuser or the owner could tamper).
#include <gtest/gtest.h>

#include "sb/store/audit/audit_repository_conformance.h"
#include "sb/store/testing/postgres_environment.h"

namespace sb::store::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, AuditRepositoryTest,
                               ::testing::Types<PostgresTestBackend>);

namespace {

[[maybe_unused]] ::testing::Environment* const kPostgres =
    ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

using AuditPrivilegesTest = AuditRepositoryTest<PostgresTestBackend>;

TEST_F(AuditPrivilegesTest, AppRoleCanNeitherUpdateNorDeleteEntriesOrCheckpoints) {
  ASSERT_TRUE(Insert(MakeEntry(a_, 1)).ok());
  AuditCheckpointRecord cp{a_, 1, Hash(1), clock_.Now(), Hash(0), "k", "s"};
  ASSERT_TRUE(
      InTenant(a_, [&](Transaction& tx) { return repo_.InsertCheckpoint(tx, a_, cp); }).ok());
  for (const char* sql : {"UPDATE audit_entries SET action = 'forged' WHERE tenant_id = $1",
                          "DELETE FROM audit_entries WHERE tenant_id = $1",
                          "UPDATE audit_checkpoints SET seq = 2 WHERE tenant_id = $1",
                          "DELETE FROM audit_checkpoints WHERE tenant_id = $1",
                          "DELETE FROM audit_heads WHERE tenant_id = $1"}) {
    Status s =
        InTenant(a_, [&](Transaction& tx) { return tx.Execute(sql, {a_.value()}).status(); });
    EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << sql << ": " << s.ToString();
  }
  Status s =
      InTenant(a_, [&](Transaction& tx) { return tx.ExecuteScript("TRUNCATE audit_entries"); });
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  auto listed = List(a_, {}, std::nullopt, 10);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);
}

// Writing another tenant's entry from inside tenant A violates WITH CHECK, whatever the SQL.
TEST_F(AuditPrivilegesTest, RowLevelSecurityRejectsForeignEntries) {
  Status s = InTenant(a_, [&](Transaction& tx) {
    return tx
        .Execute(
            "INSERT INTO audit_entries (tenant_id, seq, leaf_hash, chain_hash) VALUES ($1, 1, "
            "$2, $2)",
            {b_.value(), Hash(1)})
        .status();
  });
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
}

}  // namespace
}  // namespace sb::store::testing
