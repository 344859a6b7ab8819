// SQLite instantiation of the storage conformance suites, plus backend-independent unit tests
// (factory, Row accessors, scope encoding).
#include <gtest/gtest.h>

#include "sb/store/admin/admin_conformance.h"
#include "sb/store/calendar/calendar_conformance.h"
#include "sb/store/calendar/conflict_conformance.h"
#include "sb/store/calendar/event_mapping_conformance.h"
#include "sb/store/connections/connect_conformance.h"
#include "sb/store/jobs/job_conformance.h"
#include "sb/store/oauth/integration_conformance.h"
#include "sb/store/open_database.h"
#include "sb/store/sync/push_conformance.h"
#include "sb/store/sync/sync_conformance.h"
#include "sb/store/tenancy/api_key_repository.h"
#include "sb/store/tenancy/dashboard_user_conformance.h"
#include "sb/store/tenancy/idempotency_conformance.h"
#include "sb/store/testing/migration_conformance.h"
#include "sb/store/testing/repository_conformance.h"
#include "sb/store/testing/test_backends.h"
#include "sb/store/vault/secret_conformance.h"
#include "sb/store/webhooks/webhook_conformance.h"

namespace sb::store::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, RepositoryConformanceTest,
                               ::testing::Types<SqliteTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, MigrationConformanceTest,
                               ::testing::Types<SqliteTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, SecretConformanceTest, ::testing::Types<SqliteTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, IntegrationConformanceTest,
                               ::testing::Types<SqliteTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, ConnectConformanceTest, ::testing::Types<SqliteTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, JobConformanceTest, ::testing::Types<SqliteTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, AdminConformanceTest, ::testing::Types<SqliteTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, WebhookConformanceTest, ::testing::Types<SqliteTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, SyncConformanceTest, ::testing::Types<SqliteTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, CalendarConformanceTest,
                               ::testing::Types<SqliteTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, PushConformanceTest, ::testing::Types<SqliteTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, ConflictConformanceTest, SqliteTestBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, EventMappingConformanceTest,
                               ::testing::Types<SqliteTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, DashboardUserConformanceTest,
                               ::testing::Types<SqliteTestBackend>);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, IdempotencyConformanceTest,
                               ::testing::Types<SqliteTestBackend>);
}  // namespace sb::store::testing

namespace sb::store {
namespace {

using testing::SqliteTestBackend;

TEST(OpenDatabase, PicksTheBackendFromTheUrl) {
  SqliteTestBackend backend;
  auto db = OpenDatabase({.url = "sqlite:" + backend.path().string()});
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ((*db)->backend(), Backend::kSqlite);
  EXPECT_TRUE((*db)->Ping().ok());
  EXPECT_EQ((*db)->Stats().max_connections, 4);
}

TEST(OpenDatabase, RejectsUnknownSchemesAndEmptyPaths) {
  for (const char* url : {"", "mysql://localhost/x", "sqlite:", "file:/tmp/x.db", "postgres:/x"}) {
    auto db = OpenDatabase({.url = url});
    EXPECT_EQ(db.status().code(), StatusCode::kInvalidArgument) << url;
  }
  SqliteTestBackend backend;
  auto db = OpenDatabase({.url = "sqlite:" + backend.path().string(), .pool_size = 0});
  EXPECT_EQ(db.status().code(), StatusCode::kInvalidArgument);
}

TEST(OpenDatabase, UnreachablePostgresIsUnavailableWithoutThePassword) {
  auto db = OpenDatabase({.url = "postgresql://sb_app:hunter2@127.0.0.1:1/switchboard",
                          .connect_timeout = std::chrono::seconds(2)});
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(db.status().message().find("hunter2"), std::string::npos);
}

TEST(Row, AccessorsConvertAndHandleNull) {
  Row row({std::monostate(), int64_t{42}, std::string("17"), std::string("x"), Bytes{"\x01"}});
  EXPECT_TRUE(row.IsNull(0));
  EXPECT_EQ(row.GetString(0), "");
  EXPECT_EQ(row.GetOptionalInt(0), std::nullopt);
  EXPECT_EQ(row.GetInt(1), 42);
  EXPECT_EQ(row.GetString(1), "42");
  EXPECT_EQ(row.GetInt(2), 17);
  EXPECT_EQ(row.GetOptionalInt(3), std::nullopt);
  EXPECT_EQ(row.GetString(4), "\x01");
}

TEST(Scopes, JoinAndSplitRoundTripAndRejectMalformedText) {
  EXPECT_EQ(JoinScopes({"read", "write"}), "read,write");
  EXPECT_EQ(SplitScopes("read,write"), (std::vector<std::string>{"read", "write"}));
  EXPECT_EQ(SplitScopes(""), std::vector<std::string>());
  EXPECT_EQ(SplitScopes("read,"), std::nullopt);
  EXPECT_EQ(SplitScopes("re ad"), std::nullopt);
}

}  // namespace
}  // namespace sb::store
