// PostgreSQL instantiation of the storage conformance suites, plus the row-level security
// requirements of security.md 3.3 checked against a real server (RLS-01, -02, -04).
#include <gtest/gtest.h>

#include "sb/base/encoding.h"
#include "sb/store/admin/admin_conformance.h"
#include "sb/store/calendar/calendar_conformance.h"
#include "sb/store/calendar/conflict_conformance.h"
#include "sb/store/calendar/event_mapping_conformance.h"
#include "sb/store/connections/connect_conformance.h"
#include "sb/store/jobs/job_conformance.h"
#include "sb/store/oauth/integration_conformance.h"
#include "sb/store/open_database.h"
#include "sb/store/role_check.h"
#include "sb/store/sync/push_conformance.h"
#include "sb/store/sync/sync_conformance.h"
#include "sb/store/sync/sync_repository.h"
#include "sb/store/tenancy/dashboard_user_conformance.h"
#include "sb/store/tenancy/idempotency_conformance.h"
#include "sb/store/testing/migration_conformance.h"
#include "sb/store/testing/postgres_environment.h"
#include "sb/store/testing/repository_conformance.h"
#include "sb/store/vault/secret_conformance.h"
#include "sb/store/vault/secret_repository.h"
#include "sb/store/webhooks/webhook_conformance.h"

namespace sb::store::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, RepositoryConformanceTest,
                               ::testing::Types<PostgresTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, MigrationConformanceTest,
                               ::testing::Types<PostgresTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, SecretConformanceTest,
                               ::testing::Types<PostgresTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, IntegrationConformanceTest,
                               ::testing::Types<PostgresTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, ConnectConformanceTest,
                               ::testing::Types<PostgresTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, JobConformanceTest, ::testing::Types<PostgresTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, AdminConformanceTest,
                               ::testing::Types<PostgresTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, WebhookConformanceTest,
                               ::testing::Types<PostgresTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, SyncConformanceTest,
                               ::testing::Types<PostgresTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, CalendarConformanceTest,
                               ::testing::Types<PostgresTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, PushConformanceTest,
                               ::testing::Types<PostgresTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, ConflictConformanceTest, PostgresTestBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, EventMappingConformanceTest,
                               ::testing::Types<PostgresTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, DashboardUserConformanceTest,
                               ::testing::Types<PostgresTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, IdempotencyConformanceTest,
                               ::testing::Types<PostgresTestBackend>);
}  // namespace sb::store::testing

namespace sb::store {
namespace {

[[maybe_unused]] ::testing::Environment* const kPostgres =
    ::testing::AddGlobalTestEnvironment(new testing::PostgresEnvironment);

using testing::PostgresTestBackend;

// Reuses the conformance fixture: a migrated app database (role sb_app), tenants a_ and b_.
class RowLevelSecurityTest : public testing::RepositoryConformanceTest<PostgresTestBackend> {
 protected:
  std::unique_ptr<Database> Superuser() {
    auto db = backend_.OpenSuperuser();
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  std::vector<Row> Rows(Database& db, std::string_view sql, std::initializer_list<Value> p = {}) {
    std::vector<Row> rows;
    Status s = db.RunUnscoped([&](Transaction& tx) -> Status {
      SB_ASSIGN_OR_RETURN(rows, tx.Query(sql, p));
      return OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return rows;
  }
};

TEST_F(RowLevelSecurityTest, Rls01EveryTenantTableForcesRlsWithARestrictivePolicy) {
  auto su = Superuser();
  ASSERT_NE(su, nullptr);
  auto tables = Rows(*su,
                     "SELECT relname::text FROM pg_class WHERE relkind = 'r' AND relnamespace = "
                     "'switchboard'::regnamespace AND relname <> 'schema_migrations'");
  // Tables holding tenant data: every table with a tenant_id column, and tenants itself.
  constexpr std::string_view kTenantTables =
      " AND (relname = 'tenants' OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = "
      "pg_class.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))";
  EXPECT_GE(tables.size(), 2u);  // the check below must have something to check
  EXPECT_TRUE(Rows(*su,
                   "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = "
                   "'switchboard'::regnamespace AND NOT (relrowsecurity AND relforcerowsecurity)" +
                       std::string(kTenantTables))
                  .empty());
  EXPECT_TRUE(Rows(*su,
                   "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = "
                   "'switchboard'::regnamespace AND NOT EXISTS (SELECT 1 FROM pg_policies p "
                   "WHERE p.schemaname = 'switchboard' AND p.tablename = pg_class.relname AND "
                   "p.policyname = 'tenant_isolation' AND p.permissive = 'RESTRICTIVE' AND "
                   "p.cmd = 'ALL' AND 'sb_app' = ANY(p.roles))" +
                       std::string(kTenantTables))
                  .empty());
  auto privileges = Rows(*su,
                         "SELECT has_table_privilege('sb_app', 'switchboard.api_keys', 'TRUNCATE'),"
                         " has_table_privilege('sb_app', 'switchboard.api_keys', 'REFERENCES'),"
                         " has_table_privilege('sb_app', 'switchboard.api_keys', 'SELECT')");
  ASSERT_EQ(privileges.size(), 1u);
  EXPECT_EQ(privileges[0].GetInt(0), 0);
  EXPECT_EQ(privileges[0].GetInt(1), 0);
  EXPECT_EQ(privileges[0].GetInt(2), 1);
}

TEST_F(RowLevelSecurityTest, Rls02CheckAcceptsTheAppRoleOnly) {
  Status app = CheckAppRoleIsSafe(*db_);
  EXPECT_TRUE(app.ok()) << app.ToString();
  auto owner = backend_.OpenOwner();
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(CheckAppRoleIsSafe(**owner).code(), StatusCode::kFailedPrecondition);
  auto su = Superuser();
  ASSERT_NE(su, nullptr);
  Status super = CheckAppRoleIsSafe(*su);
  EXPECT_EQ(super.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(super.message().find("superuser"), std::string::npos) << super.ToString();
  // A role that merely inherits from the owner is as dangerous as the owner.
  ASSERT_TRUE(
      su->RunUnscoped([](Transaction& tx) {
          return tx.ExecuteScript(
              "DROP ROLE IF EXISTS sb_sneaky; CREATE ROLE sb_sneaky LOGIN NOSUPERUSER NOBYPASSRLS; "
              "GRANT sb_owner TO sb_sneaky");
        }).ok());
  std::string url = testing::PostgresEnvironment::server().app_url();
  url.replace(url.find("sb_app"), 6, "sb_sneaky");
  auto sneaky = OpenDatabase({.url = url});
  ASSERT_TRUE(sneaky.ok()) << sneaky.status().ToString();
  Status s = CheckAppRoleIsSafe(**sneaky);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("sb_owner"), std::string::npos) << s.ToString();
}

TEST_F(RowLevelSecurityTest, Rls04WithoutTenantNothingIsVisibleAndInsertsFail) {
  InsertKey(a_, "a key");
  InsertKey(b_, "b key");
  auto su = Superuser();
  ASSERT_NE(su, nullptr);
  EXPECT_GE(Rows(*su, "SELECT * FROM api_keys").size(), 2u);  // rows exist
  for (int round = 0; round < 2; ++round) {  // round 1 runs after a tenant txn (NULLIF case)
    EXPECT_TRUE(Rows(*db_, "SELECT * FROM api_keys").empty());
    EXPECT_TRUE(Rows(*db_, "SELECT * FROM tenants").empty());
    ApiKeyRecord key = MakeKey(a_, "unscoped");
    Status s = db_->RunUnscoped([&](Transaction& tx) {
      return tx
          .Execute(
              "INSERT INTO api_keys (tenant_id, id, name, key_hash, scopes, created_at) "
              "VALUES ($1, $2, 'x', $3, '', 0)",
              {a_.value(), key.id.value(), key.key_hash})
          .status();
    });
    EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
    ASSERT_TRUE(InTenant(a_, [](Transaction& tx) { return tx.Query("SELECT 1").status(); }).ok());
  }
}

TEST_F(RowLevelSecurityTest, QueriesWithoutTenantFilterSeeOnlyTheScopedTenant) {
  InsertKey(a_, "a1");
  InsertKey(a_, "a2");
  ApiKeyRecord b_key = InsertKey(b_, "b1");
  Status s = InTenant(a_, [&](Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto keys, tx.Query("SELECT tenant_id::text FROM api_keys"));
    EXPECT_EQ(keys.size(), 2u);
    for (const Row& row : keys) EXPECT_EQ(row.GetString(0), a_.value());
    SB_ASSIGN_OR_RETURN(auto tenants, tx.Query("SELECT id::text FROM tenants"));
    EXPECT_EQ(tenants.size(), 1u);
    SB_ASSIGN_OR_RETURN(int64_t renamed, tx.Execute("UPDATE api_keys SET name = 'renamed'"));
    EXPECT_EQ(renamed, 2);
    SB_ASSIGN_OR_RETURN(int64_t deleted,
                        tx.Execute("DELETE FROM api_keys WHERE id = $1", {b_key.id.value()}));
    EXPECT_EQ(deleted, 0);
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(GetKey(b_, b_key.id), b_key);
  // Writing another tenant's row from inside tenant A violates WITH CHECK.
  ApiKeyRecord forged = MakeKey(b_, "forged");
  s = InTenant(a_, [&](Transaction& tx) {
    return tx
        .Execute(
            "INSERT INTO api_keys (tenant_id, id, name, key_hash, scopes, created_at) "
            "VALUES ($1, $2, 'x', $3, '', 0)",
            {b_.value(), forged.id.value(), forged.key_hash})
        .status();
  });
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
}

// The change feed (migration 12) is append-only for the app role, like the audit log: its
// rows can be added and read, never changed or removed, and the per-tenant counter only moves
// forward in place.
TEST_F(RowLevelSecurityTest, ChangeFeedIsAppendOnlyForTheAppRole) {
  SyncRepository sync;
  ChangeRecord change;
  change.type = "event.created";
  change.resource_id = ids_.NewUuid();
  ASSERT_TRUE(InTenant(a_, [&](Transaction& tx) {
                return sync.AppendChange(tx, a_, change).status();
              }).ok());
  for (const char* sql : {"UPDATE changes SET type = 'event.deleted' WHERE tenant_id = $1",
                          "DELETE FROM changes WHERE tenant_id = $1",
                          "DELETE FROM change_sequences WHERE tenant_id = $1"}) {
    Status s =
        InTenant(a_, [&](Transaction& tx) { return tx.Execute(sql, {a_.value()}).status(); });
    EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << sql << ": " << s.ToString();
  }
  auto listed = Call(a_, [&](Transaction& tx) { return sync.ListChanges(tx, a_, {.limit = 10}); });
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].type, "event.created");
}

// RLS-07: cross-tenant maintenance runs as the BYPASSRLS role with row_security=off, so that a
// role without the right fails loudly instead of silently seeing no rows.
TEST_F(RowLevelSecurityTest, Rls07MaintenanceSeesAllTenantsAndFailsLoudlyWithoutBypass) {
  SecretRepository secrets;
  for (const TenantId& t : {a_, b_}) {
    SecretRecord r{t, "owner", "token", "sbv1:1:x", 1, clock_.Now()};
    ASSERT_TRUE(InTenant(t, [&](Transaction& tx) { return secrets.Upsert(tx, t, r); }).ok());
  }
  auto maint = backend_.OpenMaintenance();
  ASSERT_TRUE(maint.ok()) << maint.status().ToString();
  Status s = (*maint)->RunUnscoped([&](Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT DISTINCT tenant_id::text FROM vault_secrets "
                                            "WHERE tenant_id IN ($1, $2)",
                                            {a_.value(), b_.value()}));
    EXPECT_EQ(rows.size(), 2u);
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();

  auto no_bypass = OpenDatabase({.url = testing::PostgresEnvironment::server().app_url() +
                                        "?options=-c%20row_security%3Doff"});
  ASSERT_TRUE(no_bypass.ok()) << no_bypass.status().ToString();
  s = (*no_bypass)->RunUnscoped([&](Transaction& tx) {
    return secrets.MaintenanceCountBelow(tx, 100).status();
  });
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("row-level security"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace sb::store
