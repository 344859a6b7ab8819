// PostgreSQL backend specifics: pool bounds, reconnects, tenant setting scope, error mapping.
// The server comes from the PostgresEnvironment registered in store_pgtest.cc.
#include "sb/store/postgres/postgres_database.h"

#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "sb/store/testing/postgres_environment.h"
#include "sb/store/testing/test_backends.h"

namespace sb::store {
namespace {

using testing::PostgresEnvironment;

std::unique_ptr<PostgresDatabase> OpenApp(int pool, std::chrono::milliseconds acquire) {
  auto db = PostgresDatabase::Open({.url = PostgresEnvironment::server().app_url(),
                                    .pool_size = pool,
                                    .acquire_timeout = acquire});
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db).value() : nullptr;
}

Result<int64_t> QueryInt(Database& db, std::string_view sql, std::initializer_list<Value> p = {}) {
  int64_t out = 0;
  Status s = db.RunUnscoped([&](Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto rows, tx.Query(sql, p));
    if (rows.size() != 1) return InternalError("expected one row");
    out = rows[0].GetInt(0);
    return OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

class PostgresDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::PostgresTestBackend backend;
    auto migrated = testing::OpenMigrated(backend);
    ASSERT_TRUE(migrated.ok()) << migrated.status().ToString();
  }
};

TEST_F(PostgresDatabaseTest, ExhaustedPoolIsUnavailableAfterTheAcquireTimeout) {
  auto db = OpenApp(1, std::chrono::milliseconds(200));
  ASSERT_NE(db, nullptr);
  std::promise<void> inside, release;
  std::thread holder([&] {
    (void)db->RunUnscoped([&](Transaction&) {
      inside.set_value();
      release.get_future().wait();
      return OkStatus();
    });
  });
  inside.get_future().wait();
  const auto start = std::chrono::steady_clock::now();
  Status s = db->RunUnscoped([](Transaction&) { return OkStatus(); });
  const auto waited = std::chrono::steady_clock::now() - start;
  release.set_value();
  holder.join();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_GE(waited, std::chrono::milliseconds(190));
  EXPECT_EQ(db->Stats().waits_total, 1);
  EXPECT_EQ(db->Stats().open_connections, 1);
  EXPECT_TRUE(db->Ping().ok());
}

TEST_F(PostgresDatabaseTest, ReconnectsAfterTheServerKillsThePooledConnection) {
  auto db = OpenApp(1, std::chrono::seconds(5));
  auto su = OpenApp(1, std::chrono::seconds(5));
  auto super = PostgresDatabase::Open({.url = PostgresEnvironment::server().superuser_url()});
  ASSERT_TRUE(super.ok() && db && su);
  auto pid = QueryInt(*db, "SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.ok());
  auto killed = QueryInt(**super, "SELECT pg_terminate_backend($1)::int", {*pid});
  ASSERT_TRUE(killed.ok()) << killed.status().ToString();
  ASSERT_EQ(*killed, 1);
  for (int i = 0; i < 200; ++i) {  // termination is asynchronous
    auto alive = QueryInt(**super, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", {*pid});
    if (alive.ok() && *alive == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto new_pid = QueryInt(*db, "SELECT pg_backend_pid()");
  ASSERT_TRUE(new_pid.ok()) << new_pid.status().ToString();
  EXPECT_NE(*new_pid, *pid);
  EXPECT_EQ(db->Stats().reconnects_total, 1);
}

TEST_F(PostgresDatabaseTest, TenantSettingIsTransactionLocal) {
  auto db = OpenApp(1, std::chrono::seconds(5));
  ASSERT_NE(db, nullptr);
  const TenantId tenant("0190a5f0-0000-7000-8000-0000000000aa");
  std::string inside;
  ASSERT_TRUE(db->RunInTenant(tenant, [&](Transaction& tx) -> Status {
                  SB_ASSIGN_OR_RETURN(auto rows,
                                      tx.Query("SELECT current_setting('app.tenant_id', true)"));
                  inside = rows.at(0).GetString(0);
                  return OkStatus();
                }).ok());
  EXPECT_EQ(inside, tenant.value());
  std::optional<std::string> after;
  ASSERT_TRUE(db->RunUnscoped([&](Transaction& tx) -> Status {
                  SB_ASSIGN_OR_RETURN(auto rows,
                                      tx.Query("SELECT current_setting('app.tenant_id', true)"));
                  after = rows.at(0).GetOptionalString(0);
                  return OkStatus();
                }).ok());
  EXPECT_TRUE(!after.has_value() || after->empty()) << *after;
}

TEST_F(PostgresDatabaseTest, ErrorsMapToCodesWithoutParameterValues) {
  auto db = OpenApp(2, std::chrono::seconds(5));
  ASSERT_NE(db, nullptr);
  const TenantId tenant("0190a5f0-0000-7000-8000-0000000000bb");
  Status s = db->RunInTenant(tenant, [](Transaction& tx) {
    return tx.Query("SELECT * FROM api_keys WHERE id = $1", {std::string("secret-value-42")})
        .status();
  });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(s.message().find("secret-value-42"), std::string::npos) << s.ToString();
  s = db->RunUnscoped([](Transaction& tx) { return tx.Query("SELEC 1").status(); });
  EXPECT_EQ(s.code(), StatusCode::kInternal) << s.ToString();
  EXPECT_NE(s.message().find("42601"), std::string::npos) << s.ToString();
  // A failure swallowed by the callback still cannot commit.
  s = db->RunUnscoped([](Transaction& tx) {
    (void)tx.Query("SELEC 1");
    return OkStatus();
  });
  EXPECT_EQ(s.code(), StatusCode::kAborted) << s.ToString();
  EXPECT_EQ(db->RunInTenant(TenantId("nope"), [](Transaction&) { return OkStatus(); }).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(PostgresDatabaseTest, BytesRoundTripAsBinary) {
  auto db = OpenApp(1, std::chrono::seconds(5));
  ASSERT_NE(db, nullptr);
  const std::string raw("\x00\x01\xff'\\x", 6);
  Status s = db->RunUnscoped([&](Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT $1::bytea, length($1::bytea)", {Bytes{raw}}));
    EXPECT_TRUE(std::holds_alternative<Bytes>(rows.at(0).at(0)));
    EXPECT_EQ(rows.at(0).GetString(0), raw);
    EXPECT_EQ(rows.at(0).GetInt(1), 6);
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

}  // namespace
}  // namespace sb::store
