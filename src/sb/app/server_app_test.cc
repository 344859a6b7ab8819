// The API conformance suite on SQLite.
#include "sb/app/testing/api_suite_tests.h"
#include "sb/app/testing/connect_suite_tests.h"
#include "sb/app/testing/credential_suite_tests.h"
#include "sb/app/testing/dashboard_suite_tests.h"
#include "sb/app/testing/live_suite_tests.h"
#include "sb/app/testing/oidc_suite_tests.h"
#include "sb/app/testing/session_suite_tests.h"
#include "sb/app/testing/sync_suite_tests.h"
#include "sb/app/testing/write_suite_tests.h"

namespace sb::app::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, ApiSuite, store::testing::SqliteTestBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, ConnectSuite, store::testing::SqliteTestBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, CredentialSuite, store::testing::SqliteTestBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, SessionSuite, store::testing::SqliteTestBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, OidcSuite, store::testing::SqliteTestBackend);
// No database work: SQLite only.
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, DashboardSuite, store::testing::SqliteTestBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, SyncSuite, store::testing::SqliteTestBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, LiveSuite, store::testing::SqliteTestBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, WriteSuite, store::testing::SqliteTestBackend);
}  // namespace sb::app::testing

namespace sb::app {
namespace {

// providers.* moves Google and Microsoft to the sandbox (issue 4) and merges a catalog dir.
TEST(LoadProviderCatalogTest, PointsGoogleAndMicrosoftAtTheConfiguredOrigins) {
  config::ProvidersConfig providers;
  providers.google_url = "http://127.0.0.1:8081";
  providers.microsoft_url = "https://127.0.0.1:8443";
  providers.keyed_url = "http://127.0.0.1:8082/";
  auto catalog = LoadProviderCatalog(providers);
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  const oauth::ProviderEntry* google = catalog->Find("google");
  ASSERT_NE(google, nullptr);
  EXPECT_EQ(google->token_url, "http://127.0.0.1:8081/token");
  EXPECT_EQ(google->authorization_url, "http://127.0.0.1:8081/o/oauth2/v2/auth");
  EXPECT_EQ(google->jwks_url, "http://127.0.0.1:8081/oauth2/v3/certs");
  EXPECT_EQ(google->issuer, "https://accounts.google.com");  // an identity, not an endpoint
  const oauth::ProviderEntry* microsoft = catalog->Find("microsoft");
  ASSERT_NE(microsoft, nullptr);
  EXPECT_EQ(microsoft->token_url, "https://127.0.0.1:8443/{tenant}/oauth2/v2.0/token");
  EXPECT_EQ(microsoft->api_base_url, "https://127.0.0.1:8443");
  EXPECT_EQ(microsoft->issuer, "https://127.0.0.1:8443/{tenantid}/v2.0");
  // Every credential provider moves under the stand-in, each below its own id.
  EXPECT_EQ(catalog->Find("twilio")->api_base_url, "http://127.0.0.1:8082/twilio");
  EXPECT_EQ(catalog->Find("stripe")->api_base_url, "http://127.0.0.1:8082/stripe");
  // Without overrides the real services stay.
  auto real = LoadProviderCatalog({});
  ASSERT_TRUE(real.ok());
  EXPECT_EQ(real->Find("google")->token_url, "https://oauth2.googleapis.com/token");
  EXPECT_EQ(real->Find("twilio")->api_base_url, "https://api.twilio.com");
  providers.catalog_dir = "/nonexistent/catalog";
  auto missing = LoadProviderCatalog(providers);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("providers.catalog_dir"), std::string::npos);
}

}  // namespace
}  // namespace sb::app
