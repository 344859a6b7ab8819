// The Migrator writes the row-level security and grants of the tenant tables a migration
// declares (migration.h), checked with test-only migrations on a real PostgreSQL server: the
// catalog shows the policies and privileges, and the app role is confined to its tenant.
#include "sb/store/migrations/migrator.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sb/base/testing/fake_clock.h"
#include "sb/store/testing/postgres_environment.h"
#include "sb/store/testing/test_backends.h"

namespace sb::store {
namespace {

[[maybe_unused]] ::testing::Environment* const kPostgres =
    ::testing::AddGlobalTestEnvironment(new testing::PostgresEnvironment);

constexpr std::string_view kWidgetsUp = R"sql(
CREATE TABLE switchboard.widgets (
  tenant_id uuid NOT NULL, id uuid NOT NULL, name text NOT NULL, PRIMARY KEY (tenant_id, id));
CREATE TABLE switchboard.widget_log (
  tenant_id uuid NOT NULL, seq bigint NOT NULL, PRIMARY KEY (tenant_id, seq));
CREATE TABLE switchboard.widget_heads (tenant_id uuid NOT NULL PRIMARY KEY, seq bigint NOT NULL);
CREATE TABLE switchboard.orgs (id uuid NOT NULL PRIMARY KEY, name text NOT NULL);
CREATE TABLE switchboard.widget_kinds (kind text NOT NULL PRIMARY KEY);  -- no tenant data
)sql";

constexpr std::string_view kWidgetsDown = R"sql(
DROP TABLE switchboard.widget_kinds;
DROP TABLE switchboard.orgs;
DROP TABLE switchboard.widget_heads;
DROP TABLE switchboard.widget_log;
DROP TABLE switchboard.widgets;
)sql";

constexpr TenantTable kWidgetTables[] = {
    {"widgets"},
    {"widget_log", TenantColumn::kTenantId, Grants::kSelectInsert},
    {"widget_heads", TenantColumn::kTenantId, Grants::kSelectInsertUpdate},
    {"orgs", TenantColumn::kId},
};

constexpr Migration kWidgets[] = {{1, "widgets", kWidgetsUp, kWidgetsDown, kWidgetTables}};

constexpr TenantTable kBadName[] = {{"Gadgets; DROP TABLE x"}};
constexpr TenantTable kBadGrants[] = {{"gadgets", TenantColumn::kTenantId, Grants{42}}};
constexpr std::string_view kGadgetsUp = "CREATE TABLE switchboard.gadgets (tenant_id uuid);";
constexpr std::string_view kGadgetsDown = "DROP TABLE switchboard.gadgets;";

constexpr char kTenantA[] = "5f0c6a43-8d0e-4c57-9a0b-6d1f6f6d2a01";
constexpr char kTenantB[] = "5f0c6a43-8d0e-4c57-9a0b-6d1f6f6d2a02";

class DeclaredTenantTablesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    owner_ = Open(backend_.OpenOwner());
    app_ = Open(backend_.OpenApp());
    superuser_ = Open(backend_.OpenSuperuser());
    ASSERT_TRUE(owner_ && app_ && superuser_);
  }

  void TearDown() override {
    auto down = Migrator(*owner_, clock_, {}, kWidgets).Down(1);
    EXPECT_TRUE(down.ok()) << down.status().ToString();
  }

  std::unique_ptr<Database> Open(Result<std::unique_ptr<Database>> db) {
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  void MigrateWidgets() {
    auto up = Migrator(*owner_, clock_, {}, kWidgets).Up();
    ASSERT_TRUE(up.ok()) << up.status().ToString();
    ASSERT_EQ(*up, 1);
  }

  // The first column of every row, as text.
  std::vector<std::string> Strings(std::string_view sql) {
    std::vector<std::string> out;
    Status s = superuser_->RunUnscoped([&](Transaction& tx) -> Status {
      SB_ASSIGN_OR_RETURN(auto rows, tx.Query(sql));
      for (const Row& row : rows) out.push_back(row.GetString(0));
      return OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  Status InTenant(const char* tenant, std::string_view sql) {
    return app_->RunInTenant(TenantId(tenant),
                             [&](Transaction& tx) { return tx.Execute(sql).status(); });
  }

  testing::PostgresTestBackend backend_;
  sb::testing::FakeClock clock_;
  std::unique_ptr<Database> owner_;
  std::unique_ptr<Database> app_;
  std::unique_ptr<Database> superuser_;
};

TEST_F(DeclaredTenantTablesTest, GetForcedRlsAndBothPoliciesForTheAppRole) {
  MigrateWidgets();
  EXPECT_EQ(Strings("SELECT relname || ' ' || relrowsecurity || ' ' || relforcerowsecurity "
                    "FROM pg_class WHERE relnamespace = 'switchboard'::regnamespace AND "
                    "relkind = 'r' AND relname <> 'schema_migrations' ORDER BY relname"),
            (std::vector<std::string>{"orgs true true", "widget_heads true true",
                                      "widget_kinds false false", "widget_log true true",
                                      "widgets true true"}));
  const std::string isolation =
      " = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)";
  EXPECT_EQ(
      Strings("SELECT concat_ws(' ', tablename, policyname, permissive, roles::text, cmd, qual, "
              "with_check) FROM pg_policies WHERE schemaname = 'switchboard' "
              "ORDER BY tablename, policyname"),
      (std::vector<std::string>{
          "orgs tenant_allow PERMISSIVE {sb_app} ALL true true",
          "orgs tenant_isolation RESTRICTIVE {sb_app} ALL (id" + isolation + " (id" + isolation,
          "widget_heads tenant_allow PERMISSIVE {sb_app} ALL true true",
          "widget_heads tenant_isolation RESTRICTIVE {sb_app} ALL (tenant_id" + isolation +
              " (tenant_id" + isolation,
          "widget_log tenant_allow PERMISSIVE {sb_app} ALL true true",
          "widget_log tenant_isolation RESTRICTIVE {sb_app} ALL (tenant_id" + isolation +
              " (tenant_id" + isolation,
          "widgets tenant_allow PERMISSIVE {sb_app} ALL true true",
          "widgets tenant_isolation RESTRICTIVE {sb_app} ALL (tenant_id" + isolation +
              " (tenant_id" + isolation,
      }));
}

TEST_F(DeclaredTenantTablesTest, GrantTheDeclaredPrivilegesOnly) {
  MigrateWidgets();
  EXPECT_EQ(
      Strings("SELECT c.relname || ' ' || coalesce((SELECT string_agg(p, ',' ORDER BY p) "
              "FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', "
              "'REFERENCES', 'TRIGGER']) p WHERE has_table_privilege('sb_app', c.oid, p)), "
              "'-') FROM pg_class c WHERE c.relnamespace = 'switchboard'::regnamespace AND "
              "c.relkind = 'r' AND c.relname <> 'schema_migrations' ORDER BY c.relname"),
      (std::vector<std::string>{
          "orgs DELETE,INSERT,SELECT,UPDATE", "widget_heads INSERT,SELECT,UPDATE", "widget_kinds -",
          "widget_log INSERT,SELECT", "widgets DELETE,INSERT,SELECT,UPDATE"}));
}

TEST_F(DeclaredTenantTablesTest, ConfineTheAppRoleToItsTenant) {
  MigrateWidgets();
  const std::string a(kTenantA);
  const std::string b(kTenantB);
  ASSERT_TRUE(
      InTenant(kTenantA, "INSERT INTO widgets VALUES ('" + a + "', '" + a + "', 'w')").ok());
  EXPECT_EQ(InTenant(kTenantA, "INSERT INTO widgets VALUES ('" + b + "', '" + a + "', 'w')").code(),
            StatusCode::kPermissionDenied);  // WITH CHECK: another tenant's row
  int64_t visible = -1;
  Status s = app_->RunInTenant(TenantId(kTenantB), [&](Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT count(*) FROM widgets"));
    visible = rows.at(0).GetInt(0);
    return OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(visible, 0);
  // The tenants-like table compares `id`.
  EXPECT_TRUE(InTenant(kTenantA, "INSERT INTO orgs VALUES ('" + a + "', 'a')").ok());
  EXPECT_EQ(InTenant(kTenantA, "INSERT INTO orgs VALUES ('" + b + "', 'b')").code(),
            StatusCode::kPermissionDenied);
  // Append-only: inserts pass, updates and deletes are not granted.
  ASSERT_TRUE(InTenant(kTenantA, "INSERT INTO widget_log VALUES ('" + a + "', 1)").ok());
  EXPECT_EQ(InTenant(kTenantA, "UPDATE widget_log SET seq = 2").code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(InTenant(kTenantA, "DELETE FROM widget_log").code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(InTenant(kTenantA, "INSERT INTO widget_heads VALUES ('" + a + "', 1)").ok());
  EXPECT_TRUE(InTenant(kTenantA, "UPDATE widget_heads SET seq = 2").ok());
  EXPECT_EQ(InTenant(kTenantA, "DELETE FROM widget_heads").code(), StatusCode::kPermissionDenied);
}

TEST_F(DeclaredTenantTablesTest, DownDropsThePoliciesWithTheTables) {
  MigrateWidgets();
  auto down = Migrator(*owner_, clock_, {}, kWidgets).Down(1);
  ASSERT_TRUE(down.ok()) << down.status().ToString();
  EXPECT_TRUE(
      Strings("SELECT policyname FROM pg_policies WHERE schemaname = 'switchboard'").empty());
  MigrateWidgets();  // and up again
}

TEST_F(DeclaredTenantTablesTest, UseTheConfiguredAppRole) {
  ASSERT_TRUE(superuser_
                  ->RunUnscoped([](Transaction& tx) {
                    return tx.ExecuteScript(
                        "DO $$ BEGIN CREATE ROLE sb_other_app NOLOGIN; "
                        "EXCEPTION WHEN duplicate_object THEN NULL; END $$");
                  })
                  .ok());
  auto up = Migrator(*owner_, clock_, {"sb_other_app"}, kWidgets).Up();
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(Strings("SELECT DISTINCT roles::text FROM pg_policies WHERE schemaname = "
                    "'switchboard'"),
            std::vector<std::string>{"{sb_other_app}"});
  EXPECT_EQ(Strings("SELECT has_table_privilege('sb_app', 'switchboard.widgets', 'SELECT')::text"),
            std::vector<std::string>{"false"});
}

TEST_F(DeclaredTenantTablesTest, ABadDeclarationFailsBeforeAnyMigrationIsApplied) {
  for (std::span<const TenantTable> bad :
       {std::span<const TenantTable>(kBadName), std::span<const TenantTable>(kBadGrants)}) {
    const Migration migrations[] = {kWidgets[0], {2, "gadgets", kGadgetsUp, kGadgetsDown, bad}};
    Migrator migrator(*owner_, clock_, {}, migrations);
    EXPECT_EQ(migrator.Up().status().code(), StatusCode::kInvalidArgument);
    auto status = migrator.Status();
    ASSERT_TRUE(status.ok()) << status.status().ToString();
    for (const MigrationState& s : *status) EXPECT_FALSE(s.applied) << s.version;
  }
  MigrateWidgets();  // for TearDown
}

}  // namespace
}  // namespace sb::store
