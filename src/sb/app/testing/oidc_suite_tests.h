// Dashboard sign-in with OpenID Connect end to end (issue 17): the real server and the real
// switchboard-sandbox, a browser that keeps cookies and follows the provider's redirects. The
// deployment's OAuth apps are the sandbox clients of ConnectSuite. Include after
// connect_suite_tests.h; instantiated per storage backend.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "sb/app/testing/connect_suite_tests.h"

namespace sb::app::testing {

// The directory (tid) of the sandbox's Microsoft work accounts.
inline constexpr char kSandboxDirectory[] = "72f988bf-86f1-41af-91ab-2d7cd011db47";

template <typename Backend>
class OidcSuite : public ConnectSuite<Backend> {
 protected:
  void Configure(config::Config& c) override {
    c.dashboard.google_client_id = this->ClientId(SandboxOrigin::kGoogle);
    c.dashboard.google_client_secret = kClientSecret;
    c.dashboard.microsoft_client_id = this->ClientId(SandboxOrigin::kMicrosoft);
    c.dashboard.microsoft_client_secret = kClientSecret;
    const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    if (test.find("AllowedDirectory") != std::string::npos) {
      c.dashboard.microsoft_tenants = {kSandboxDirectory};
    } else if (test.find("OtherDirectory") != std::string::npos) {
      c.dashboard.microsoft_tenants = {"00000000-0000-4000-8000-0000000000aa"};
    }
  }

  // A dashboard user of `tenant` without a password, made by the operator's key.
  std::string NewUser(const std::string& tenant, const std::string& email) {
    TestResponse r = this->Call(
        "POST", "/v1/dashboard-users",
        Json{{"email", email}, {"role", "admin"}, {"tenant_id", tenant}}.dump(), this->admin_key_);
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(r.JsonBody().value("password_set", true), false);
    return r.JsonBody().value("id", "");
  }

  std::string StartUrl(SandboxOrigin origin, const std::string& tenant) {
    return this->PublicUrl() + "/v1/session/oidc/" + this->Provider(origin) + "?tenant=" + tenant +
           "&login_hint=" + this->Email(origin);
  }

  // A browser that stops where the callback sends it: the dashboard.
  std::unique_ptr<Browser> NewDashboardBrowser() {
    auto browser = std::make_unique<Browser>(BrowserOptions{this->sandbox_->ca_file()});
    const std::string dashboard = this->PublicUrl() + "/dashboard/";
    browser->StopAt([dashboard](std::string_view url) { return url.starts_with(dashboard); });
    return browser;
  }

  // Signs in through the provider; the URL the callback sent the browser to.
  std::string SignInThrough(Browser& browser, SandboxOrigin origin, const std::string& tenant) {
    auto landed = browser.Get(StartUrl(origin, tenant));
    EXPECT_TRUE(landed.ok()) << landed.status().ToString();
    if (!landed.ok()) return "";
    EXPECT_EQ(landed->status, 303) << landed->url << " " << landed->body;
    return landed->url;
  }

  static bool HasCookie(const Browser& browser, const std::string& name) {
    for (const auto& [n, v] : browser.Cookies()) {
      if (n == name && !v.empty()) return true;
    }
    return false;
  }

  // GET /v1/session with the browser's cookies.
  Json SessionOf(Browser& browser) {
    auto r = browser.Get(this->PublicUrl() + "/v1/session");
    EXPECT_TRUE(r.ok());
    if (!r.ok()) return Json();
    EXPECT_EQ(r->status, 200) << r->body;
    return Json::parse(r->body, nullptr, false);
  }
};

TYPED_TEST_SUITE_P(OidcSuite);

TYPED_TEST_P(OidcSuite, GoogleSignInLinksTheUserByVerifiedAddressAndSignsIn) {
  TestResponse providers = this->Call("GET", "/v1/session/oidc", "", "");
  ASSERT_EQ(providers.status, 200) << providers.body;
  ASSERT_EQ(providers.JsonBody()["data"].size(), 2u) << providers.body;
  EXPECT_EQ(providers.JsonBody()["data"][0]["provider"], "google");
  EXPECT_EQ(providers.JsonBody()["data"][0]["start_url"], "/v1/session/oidc/google");

  const std::string user = this->NewUser(this->tenant_, "Alice@Example.com");
  auto browser = this->NewDashboardBrowser();
  EXPECT_EQ(this->SignInThrough(*browser, SandboxOrigin::kGoogle, this->tenant_),
            this->PublicUrl() + "/dashboard/");
  EXPECT_TRUE(this->HasCookie(*browser, "sb_session"));
  EXPECT_FALSE(this->HasCookie(*browser, "sb_oidc"));  // single use
  Json session = this->SessionOf(*browser);
  EXPECT_EQ(session["user"]["id"], user);
  EXPECT_EQ(session["user"]["oidc_provider"], "google");
  EXPECT_EQ(session["user"]["tenant_id"], this->tenant_);

  // The second time the linked account finds the user; the audit names the user and method.
  auto again = this->NewDashboardBrowser();
  EXPECT_EQ(this->SignInThrough(*again, SandboxOrigin::kGoogle, this->tenant_),
            this->PublicUrl() + "/dashboard/");
  EXPECT_EQ(this->SessionOf(*again)["user"]["id"], user);
  TestResponse audit = this->Call(
      "GET", "/v1/audit?action=dashboard.sign_in&tenant_id=" + this->tenant_, "", this->admin_key_);
  ASSERT_EQ(audit.status, 200) << audit.body;
  int linked = 0, signed_in = 0;
  const Json entries = audit.JsonBody()["data"];
  for (const Json& entry : entries) {
    if (entry["details"].value("method", "") != "oidc") continue;
    EXPECT_EQ(entry["actor"]["id"], user);
    ++signed_in;
    if (entry["details"].value("linked", false)) ++linked;
  }
  EXPECT_EQ(signed_in, 2);
  EXPECT_EQ(linked, 1);
}

TYPED_TEST_P(OidcSuite, NobodyIsSignedInWithoutAUserOfThatWorkspace) {
  // The account has a user in another workspace only.
  const auto [other, other_key] = this->NewTenantWithKey(R"(["read"])");
  this->NewUser(other, "alice@example.com");
  auto browser = this->NewDashboardBrowser();
  EXPECT_EQ(this->SignInThrough(*browser, SandboxOrigin::kGoogle, this->tenant_),
            this->PublicUrl() + "/dashboard/?sign_in_error=no_user");
  EXPECT_FALSE(this->HasCookie(*browser, "sb_session"));
  // A workspace that does not exist: the provider is asked, the callback knows no such state.
  auto stranger = this->NewDashboardBrowser();
  EXPECT_EQ(this->SignInThrough(*stranger, SandboxOrigin::kGoogle,
                                "01890000-0000-7000-8000-000000000001"),
            this->PublicUrl() + "/dashboard/?sign_in_error=invalid_state");
  EXPECT_FALSE(this->HasCookie(*stranger, "sb_session"));
  // Unknown providers and malformed workspaces are refused before anything is stored.
  EXPECT_EQ(this->Call("GET", "/v1/session/oidc/twilio?tenant=" + this->tenant_, "", "").status,
            400);
  EXPECT_EQ(this->Call("GET", "/v1/session/oidc/google?tenant=nope", "", "").status, 400);
  EXPECT_EQ(this->Call("GET", "/v1/session/oidc/google", "", "").status, 400);
}

TYPED_TEST_P(OidcSuite, TheStateIsSingleUseAndBoundToTheBrowser) {
  this->NewUser(this->tenant_, "alice@example.com");
  auto browser = this->NewDashboardBrowser();
  const std::string callback_prefix = this->PublicUrl() + "/v1/session/oidc/callback";
  browser->StopAt(
      [callback_prefix](std::string_view url) { return url.starts_with(callback_prefix); });
  auto stopped = browser->Get(this->StartUrl(SandboxOrigin::kGoogle, this->tenant_));
  ASSERT_TRUE(stopped.ok()) << stopped.status().ToString();
  const std::string callback = stopped->url;
  ASSERT_TRUE(callback.starts_with(callback_prefix)) << callback;

  // Another browser (no binding cookie) gets nowhere, and does not use the state up.
  auto thief = this->NewDashboardBrowser();
  auto stolen = thief->Get(callback);
  ASSERT_TRUE(stolen.ok());
  EXPECT_EQ(stolen->url, this->PublicUrl() + "/dashboard/?sign_in_error=invalid_state");
  EXPECT_FALSE(this->HasCookie(*thief, "sb_session"));

  const std::string dashboard = this->PublicUrl() + "/dashboard/";
  browser->StopAt([dashboard](std::string_view url) { return url.starts_with(dashboard); });
  auto landed = browser->Get(callback);
  ASSERT_TRUE(landed.ok());
  EXPECT_EQ(landed->url, dashboard);
  EXPECT_TRUE(this->HasCookie(*browser, "sb_session"));
  // Replayed in the same browser: the state is used up.
  browser->ClearCookies();
  auto replayed = browser->Get(callback);
  ASSERT_TRUE(replayed.ok());
  EXPECT_EQ(replayed->url, this->PublicUrl() + "/dashboard/?sign_in_error=invalid_state");
}

TYPED_TEST_P(OidcSuite, MicrosoftAddressesLinkNothingWhenNoDirectoryIsListed) {
  // Graph addresses are not verified: with no directory listed, the address does not link.
  this->NewUser(this->tenant_, "alice@contoso.example");
  auto browser = this->NewDashboardBrowser();
  EXPECT_EQ(this->SignInThrough(*browser, SandboxOrigin::kMicrosoft, this->tenant_),
            this->PublicUrl() + "/dashboard/?sign_in_error=no_user");
}

TYPED_TEST_P(OidcSuite, MicrosoftSignInWorksFromAnAllowedDirectory) {
  const std::string user = this->NewUser(this->tenant_, "alice@contoso.example");
  auto browser = this->NewDashboardBrowser();
  EXPECT_EQ(this->SignInThrough(*browser, SandboxOrigin::kMicrosoft, this->tenant_),
            this->PublicUrl() + "/dashboard/");
  Json session = this->SessionOf(*browser);
  EXPECT_EQ(session["user"]["id"], user);
  EXPECT_EQ(session["user"]["oidc_provider"], "microsoft");
}

TYPED_TEST_P(OidcSuite, MicrosoftSignInIsRefusedFromAnOtherDirectory) {
  this->NewUser(this->tenant_, "alice@contoso.example");
  auto browser = this->NewDashboardBrowser();
  EXPECT_EQ(this->SignInThrough(*browser, SandboxOrigin::kMicrosoft, this->tenant_),
            this->PublicUrl() + "/dashboard/?sign_in_error=directory_refused");
}

REGISTER_TYPED_TEST_SUITE_P(OidcSuite, GoogleSignInLinksTheUserByVerifiedAddressAndSignsIn,
                            NobodyIsSignedInWithoutAUserOfThatWorkspace,
                            TheStateIsSingleUseAndBoundToTheBrowser,
                            MicrosoftAddressesLinkNothingWhenNoDirectoryIsListed,
                            MicrosoftSignInWorksFromAnAllowedDirectory,
                            MicrosoftSignInIsRefusedFromAnOtherDirectory);

}  // namespace sb::app::testing
