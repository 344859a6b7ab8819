// The assembled sandbox as `switchboard-sandbox --demo` runs it: the CA file is written and
// trusted for the HTTPS Microsoft origin, plain http there gets no answer, each OAuth provider
// has its seeded demo account and OAuth client, and the keyed origin its demo credential sets.
#include "sandbox/app/sandbox_app.h"

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sandbox {
namespace {

using ::testing::HasSubstr;

class SandboxAppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sandbox-app-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    SandboxOptions options;
    options.state_dir = dir_.string();
    options.demo = true;
    options.demo_events = 40;
    auto app = SandboxApp::Create(options, clock_);
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = std::move(*app);
    ASSERT_TRUE(app_->Start().ok());
  }
  void TearDown() override {
    app_.reset();
    std::filesystem::remove_all(dir_);
  }

  sb::SystemClock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<SandboxApp> app_;
};

TEST_F(SandboxAppTest, WritesCaAndDescriptionAndServesBothOriginsWithDemoData) {
  ASSERT_TRUE(std::filesystem::exists(app_->ca_file()));
  std::ifstream description(dir_ / "sandbox.json");
  const sb::Json described = sb::Json::parse(description);
  EXPECT_EQ(described["microsoft_url"], app_->microsoft_url());
  EXPECT_TRUE(app_->microsoft_url().starts_with("https://127.0.0.1:"));
  EXPECT_TRUE(app_->google_url().starts_with("http://127.0.0.1:"));
  EXPECT_EQ(described["keyed_url"], app_->keyed_url());
  EXPECT_TRUE(app_->keyed_url().starts_with("http://127.0.0.1:"));

  sb::net::CurlHttpClient trusting({.ca_file = app_->ca_file()});
  auto google = trusting.Send({.url = app_->google_url() + "/_sandbox/accounts"});
  ASSERT_TRUE(google.ok());
  const sb::Json google_accounts = sb::Json::parse(google->body)["accounts"];
  ASSERT_EQ(google_accounts.size(), 1u);
  EXPECT_EQ(google_accounts[0]["email"], "demo@example.com");
  EXPECT_GE(google_accounts[0]["events"].get<int>(), 40);

  auto microsoft = trusting.Send({.url = app_->microsoft_url() + "/_sandbox/accounts"});
  ASSERT_TRUE(microsoft.ok()) << microsoft.status().ToString();
  EXPECT_THAT(microsoft->body, HasSubstr("demo@contoso.example"));
  auto discovery = trusting.Send(
      {.url = app_->microsoft_url() + "/common/v2.0/.well-known/openid-configuration"});
  ASSERT_TRUE(discovery.ok());
  EXPECT_THAT(discovery->body, HasSubstr(app_->microsoft_url() + "/common/oauth2/v2.0/token"));

  auto keyed = trusting.Send({.url = app_->keyed_url() + "/_sandbox/keyed/accounts"});
  ASSERT_TRUE(keyed.ok());
  EXPECT_EQ(sb::Json::parse(keyed->body)["accounts"].size(), 7u);
  auto stripe = trusting.Send(
      {.url = app_->keyed_url() + "/stripe/v1/account",
       .headers = {{"Authorization", "Bearer sk_test_sandboxdemo4eC39HqLyjWDarjtT1zdp7dc"}}});
  ASSERT_TRUE(stripe.ok());
  EXPECT_EQ(sb::Json::parse(stripe->body)["id"], "acct_SandboxDemo00001") << stripe->body;

  // Without the CA the certificate is not trusted; plain http gets no HTTP answer.
  sb::net::CurlHttpClient untrusting({.ca_file = "/dev/null"});
  EXPECT_FALSE(untrusting.Send({.url = app_->microsoft_url() + "/_sandbox/health"}).ok());
  std::string plain = app_->microsoft_url();
  plain.replace(0, 5, "http");
  EXPECT_FALSE(trusting.Send({.url = plain + "/_sandbox/health"}).ok());
}

// POST /_sandbox/clock moves every provider's time forward (never back), for tests whose
// Switchboard clock moved too.
TEST_F(SandboxAppTest, ClockAdvancesEveryOriginAndRefusesBadInput) {
  sb::net::CurlHttpClient http({.ca_file = app_->ca_file()});
  auto post = [&](const std::string& body) {
    auto r = http.Send({.method = "POST",
                        .url = app_->google_url() + "/_sandbox/clock",
                        .headers = {{"Content-Type", "application/json"}},
                        .body = body});
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->status : 0;
  };
  for (const char* bad : {"", "[]", R"({"advance_seconds":-1})", R"({"advance_seconds":"1"})",
                          R"({"advance_seconds":1.5})", R"({"advance_seconds":1e12})"}) {
    EXPECT_EQ(post(bad), 400) << bad;
  }
  EXPECT_EQ(post(R"({"advance_seconds":86400})"), 200);
  const int64_t day_ahead_ms = sb::ToUnixMicros(clock_.Now()) / 1000 + 86'400'000;
  // A Microsoft request is logged with the Microsoft origin's (shifted) time.
  ASSERT_TRUE(
      http.Send({.url = app_->microsoft_url() + "/common/v2.0/.well-known/openid-configuration"})
          .ok());
  auto log = http.Send({.url = app_->microsoft_url() + "/_sandbox/requests"});
  ASSERT_TRUE(log.ok());
  const sb::Json entries = sb::Json::parse(log->body)["requests"];
  ASSERT_FALSE(entries.empty()) << log->body;
  const int64_t logged = entries.back()["time_ms"].get<int64_t>();
  EXPECT_GE(logged, day_ahead_ms - 60'000);
  EXPECT_LE(logged, day_ahead_ms + 60'000);
  // The keyed origin shares the clock and has the route too.
  auto keyed = http.Send({.method = "POST",
                          .url = app_->keyed_url() + "/_sandbox/clock",
                          .headers = {{"Content-Type", "application/json"}},
                          .body = R"({"advance_seconds":0})"});
  ASSERT_TRUE(keyed.ok());
  EXPECT_EQ(sb::Json::parse(keyed->body)["offset_seconds"], 86'400) << keyed->body;
}

}  // namespace
}  // namespace sandbox
