// The Migrator on SQLite with test-only migrations: tenant table declarations are validated
// but write nothing (SQLite has no row-level security; repositories scope by tenant, RLS-09).
#include "sb/store/migrations/migrator.h"

#include <gtest/gtest.h>

#include "sb/base/testing/fake_clock.h"
#include "sb/store/testing/test_backends.h"

namespace sb::store {
namespace {

constexpr TenantTable kWidgetTables[] = {
    {"widgets"}, {"widget_log", TenantColumn::kTenantId, Grants::kSelectInsert}};
constexpr Migration kWidgets[] = {
    {1, "widgets",
     "CREATE TABLE widgets (tenant_id TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (tenant_id, "
     "id)); CREATE TABLE widget_log (tenant_id TEXT NOT NULL, seq INTEGER NOT NULL);",
     "DROP TABLE widget_log; DROP TABLE widgets;", kWidgetTables}};
constexpr TenantTable kBadTables[] = {{"widgets", TenantColumn{9}}};
constexpr Migration kBad[] = {
    {1, "bad", "CREATE TABLE widgets (tenant_id TEXT);", "DROP TABLE widgets;", kBadTables}};

class MigratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = backend_.OpenOwner();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }

  testing::SqliteTestBackend backend_;
  sb::testing::FakeClock clock_;
  std::unique_ptr<Database> db_;
};

TEST_F(MigratorTest, DeclaredTenantTablesAddNoStatementsOnSqlite) {
  Migrator migrator(*db_, clock_, {}, kWidgets);
  auto up = migrator.Up();
  ASSERT_TRUE(up.ok()) << up.status().ToString();  // PostgreSQL's ALTER TABLE would fail here
  EXPECT_EQ(*up, 1);
  auto down = migrator.Down(1);
  ASSERT_TRUE(down.ok()) << down.status().ToString();
  EXPECT_EQ(*down, 1);
}

TEST_F(MigratorTest, ABadDeclarationIsRejectedOnSqliteToo) {
  Migrator migrator(*db_, clock_, {}, kBad);
  EXPECT_EQ(migrator.Up().status().code(), StatusCode::kInvalidArgument);
  auto status = migrator.Status();
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  ASSERT_EQ(status->size(), 1u);
  EXPECT_FALSE((*status)[0].applied);
}

}  // namespace
}  // namespace sb::store
