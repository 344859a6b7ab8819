// The API conformance suite on PostgreSQL (the app connects as sb_app, under row-level security).
#include "sb/app/testing/api_suite.h"
#include "sb/store/testing/postgres_environment.h"

namespace sb::app::testing {
template <>
std::string ApiSuite<store::testing::PostgresTestBackend>::AppUrl() {
  return store::testing::PostgresEnvironment::server().app_url();
}
template <>
std::string ApiSuite<store::testing::PostgresTestBackend>::MaintenanceUrl() {
  return store::testing::PostgresEnvironment::server().maintenance_url();
}
}  // namespace sb::app::testing

#include "sb/app/testing/api_suite_tests.h"
#include "sb/app/testing/connect_suite_tests.h"
#include "sb/app/testing/credential_suite_tests.h"
#include "sb/app/testing/live_suite_tests.h"
#include "sb/app/testing/oidc_suite_tests.h"
#include "sb/app/testing/session_suite_tests.h"
#include "sb/app/testing/sync_suite_tests.h"
#include "sb/app/testing/write_suite_tests.h"

namespace sb::app::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, ApiSuite, store::testing::PostgresTestBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, ConnectSuite, store::testing::PostgresTestBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, CredentialSuite, store::testing::PostgresTestBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, SessionSuite, store::testing::PostgresTestBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, OidcSuite, store::testing::PostgresTestBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, SyncSuite, store::testing::PostgresTestBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, LiveSuite, store::testing::PostgresTestBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, WriteSuite, store::testing::PostgresTestBackend);
}  // namespace sb::app::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new sb::store::testing::PostgresEnvironment);
  return RUN_ALL_TESTS();
}
