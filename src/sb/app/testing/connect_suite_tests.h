// The connect flow end to end (issue 5), written once and instantiated per storage backend:
// the real server (ServerApp) and the real switchboard-sandbox binary, driven over HTTP by a
// browser that keeps cookies and follows redirects. Include after api_suite_tests.h.
#pragma once

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "sb/app/testing/api_suite.h"
#include "sb/app/testing/sandbox_process.h"
#include "sb/base/encoding.h"
#include "sb/http/testing/raw_client.h"
#include "sb/net/testing/browser.h"
#include "sb/net/testing/loopback_http_server.h"
#include "sb/oauth/catalog.h"
#include "sb/webhooks/signature.h"

namespace sb::app::testing {

using net::testing::Browser;
using net::testing::BrowserOptions;
using net::testing::BrowserResponse;

inline constexpr char kReturnUrl[] = "https://app.example/connected";
inline constexpr char kClientSecret[] = "test-client-secret-7d1f";

template <typename Backend>
class ConnectSuite : public ApiSuite<Backend> {
 protected:
  using Base = ApiSuite<Backend>;

  void SetUp() override {
    Base::SetUp();
    auto sandbox = SandboxProcess::Start();
    ASSERT_TRUE(sandbox.ok()) << sandbox.status().ToString();
    sandbox_ = std::move(*sandbox);
    this->config_.providers.google_url = sandbox_->google_url();
    this->config_.providers.microsoft_url = sandbox_->microsoft_url();
    this->config_.providers.keyed_url = sandbox_->keyed_url();
    this->config_.providers.ca_file = sandbox_->ca_file();
    this->config_.refresh.interval = std::chrono::milliseconds(0);  // tests drive RunDueRefreshes
    this->config_.webhooks.allow_http = true;  // the test receiver is plain http on loopback
    this->config_.webhooks.allow_private_targets = true;
    this->config_.admin.usage_flush_interval = std::chrono::milliseconds(100);
    // Scheduled health checks call providers on their own; only the test about them has them,
    // so that the others' request and token counts stay exact.
    const std::string test_name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    if (test_name.find("ScheduledHealthChecks") == std::string::npos) {
      this->config_.health.check_interval = std::chrono::seconds(0);
    } else {
      this->config_.health.scheduler_interval = std::chrono::milliseconds(50);
    }
    // Sync calls providers on its own: only the sync suite (SyncSuite) syncs on connect, so that
    // the connect tests' request and token counts stay exact.
    this->config_.sync.on_connect = SyncOnConnect();
    if (test_name.find("ScheduledSync") != std::string::npos) {
      this->config_.sync.scheduler_interval = std::chrono::milliseconds(50);
    }
    // The soak drives hundreds of writes and polls as fast as it can; the per-key rate limit
    // (tested on its own elsewhere) would only turn its polling into 429s on a slow machine.
    if (test_name.find("Soak") != std::string::npos) {
      this->config_.limits.requests_per_second = 2'000;
      this->config_.limits.burst = 4'000;
    }
    // The test clock stands still, and a push's run is due options.push_delay after it: pushes
    // start their runs at once here, but for the test of the delay itself.
    this->config_.sync.push_delay = test_name.find("PushBurst") != std::string::npos
                                        ? std::chrono::milliseconds(1'000)
                                        : std::chrono::milliseconds(0);
    if (test_name.find("Renew") != std::string::npos) {
      this->config_.sync.push_renew_interval = std::chrono::milliseconds(50);
    }
    if (test_name.find("Live") != std::string::npos) {
      this->config_.live.poll_interval = std::chrono::milliseconds(10);
    }
    if (test_name.find("ConnectionQuota") != std::string::npos) {
      this->config_.quotas.connections = 1;
    }
    Configure(this->config_);
    // ID tokens carry the sandbox's (real) time.
    this->clock_.Set(
        std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()));
    this->Boot();
    for (auto origin : {SandboxOrigin::kGoogle, SandboxOrigin::kMicrosoft}) {
      ASSERT_TRUE(sandbox_->RegisterClient(origin, ClientId(origin), kClientSecret, {}).ok());
    }
    ASSERT_TRUE(
        sandbox_->CreateAccount(SandboxOrigin::kGoogle, {{"email", "alice@example.com"}}).ok());
    ASSERT_TRUE(
        sandbox_->CreateAccount(SandboxOrigin::kMicrosoft, {{"email", "alice@contoso.example"}})
            .ok());
    std::tie(tenant_, key_) = this->NewTenantWithKey(R"(["read","write"])");
    this->AllowReturnOrigin(tenant_, key_);
  }

  void TearDown() override {
    if (HasFailure() && sandbox_) std::cerr << "sandbox stderr:\n" << sandbox_->Stderr();
    // Global kill switches live in the database, which the PostgreSQL suites share: whatever a
    // test left switched off is switched on again.
    if (this->app_) {
      for (const char* provider : {"google", "microsoft", "twilio"}) {
        this->Call("PUT", std::string("/v1/admin/providers/") + provider, R"({"enabled":true})",
                   this->admin_key_);
      }
    }
    Base::TearDown();
    sandbox_.reset();
  }

  bool HasFailure() const { return ::testing::Test::HasFailure(); }
  virtual bool SyncOnConnect() const { return false; }
  // The configuration of a suite built on this one, before the server starts.
  virtual void Configure(config::Config&) {}

  static std::string ClientId(SandboxOrigin origin) {
    return origin == SandboxOrigin::kGoogle ? "sb-test.apps.googleusercontent.com"
                                            : "0d6c1e7a-1111-4000-8000-00000000c0de";
  }
  static std::string Provider(SandboxOrigin origin) {
    return origin == SandboxOrigin::kGoogle ? "google" : "microsoft";
  }
  static std::string Email(SandboxOrigin origin) {
    return origin == SandboxOrigin::kGoogle ? "alice@example.com" : "alice@contoso.example";
  }

  std::string PublicUrl() const { return "http://127.0.0.1:" + std::to_string(this->port_); }

  void PutIntegration(SandboxOrigin origin, const std::string& key) {
    TestResponse r = this->Call(
        "PUT", "/v1/integrations/" + Provider(origin),
        Json{{"client_id", ClientId(origin)},
             {"client_secret", kClientSecret},
             {"services", Json::array({{{"service", "calendar"}, {"access", "read_write"}}})}}
            .dump(),
        key);
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.body;
  }

  // A connect session for `email`; returns its URL.
  std::string NewSession(const std::string& key, const std::string& email,
                         const std::string& end_user = "user-1") {
    TestResponse r = this->Call(
        "POST", "/v1/connect/sessions",
        Json{{"end_user", {{"id", end_user}, {"email", email}}}, {"return_url", kReturnUrl}}.dump(),
        key);
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(r.Header("cache-control"), "no-store");
    return r.JsonBody().value("url", "");
  }

  std::unique_ptr<Browser> NewBrowser() {
    auto browser = std::make_unique<Browser>(BrowserOptions{sandbox_->ca_file()});
    browser->StopAt([](std::string_view url) { return url.starts_with(kReturnUrl); });
    return browser;
  }

  // Opens the session page and submits the provider choice; the browser follows the provider
  // (auto-consent) back to the callback and stops at the return URL.
  Result<BrowserResponse> Connect(Browser& browser, const std::string& session_url,
                                  SandboxOrigin origin) {
    SB_ASSIGN_OR_RETURN(BrowserResponse page, browser.Get(session_url));
    if (page.status != 200) return InternalError("connect page answered " + page.body);
    const std::string token = session_url.substr(session_url.rfind('/') + 1);
    // The form as the page rendered it, CSRF token included.
    return browser.PostForm(PublicUrl() + "/connect/" + token + "/start",
                            {{"provider", Provider(origin)},
                             {"service", "calendar:read_write"},
                             {"csrf", HiddenFieldValue(page.body, "csrf")}});
  }

  // Runs a session up to the provider's redirect back, without following it: the callback URL.
  std::string CallbackUrl(Browser& browser, SandboxOrigin origin) {
    const std::string session = NewSession(key_, Email(origin));
    browser.StopAt([](std::string_view url) { return url.find("/connect/callback") != url.npos; });
    auto stopped = Connect(browser, session, origin);
    EXPECT_TRUE(stopped.ok()) << stopped.status().ToString();
    browser.StopAt([](std::string_view url) { return url.starts_with(kReturnUrl); });
    return stopped.ok() ? stopped->url : "";
  }

  // The built-in catalog's entry `id`: the page's explanations come from it.
  static const oauth::ProviderEntry& CatalogEntry(const std::string& id) {
    static const oauth::ProviderCatalog catalog = *oauth::ProviderCatalog::LoadBuiltIn();
    return *catalog.Find(id);
  }

  std::string ConnectionIdFrom(const BrowserResponse& response) {
    auto query = net::testing::ParseQuery(response.url);
    if (!query.ok()) return "";
    for (const auto& [name, value] : *query) {
      if (name == "connection_id") return value;
    }
    return "";
  }

  Json Connection(const std::string& id) {
    TestResponse r = this->Call("GET", "/v1/connections/" + id, "", key_);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.JsonBody();
  }

  Json Connections() {
    TestResponse r = this->Call("GET", "/v1/connections", "", key_);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.JsonBody()["data"];
  }

  // Audit actions of the test tenant, oldest first.
  std::vector<std::string> AuditActions() {
    TestResponse r = this->Call("GET", "/v1/audit?limit=1000", "", key_);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> out;
    const Json body = r.JsonBody();
    for (const Json& e : body["data"]) out.push_back(e.value("action", ""));
    return out;
  }
  int CountAudit(const std::string& action, const std::string& code = "",
                 const std::string& key = "") {
    TestResponse r =
        this->Call("GET", "/v1/audit?limit=1000&action=" + action, "", key.empty() ? key_ : key);
    int n = 0;
    const Json body = r.JsonBody();
    for (const Json& e : body["data"]) {
      if (code.empty() || e["details"].value("code", "") == code) ++n;
    }
    return n;
  }

  int TokenCalls(SandboxOrigin origin) {
    auto log = sandbox_->Requests(origin, origin == SandboxOrigin::kGoogle ? "/token" : "/common");
    if (!log.ok()) return -1;
    int n = 0;
    for (const Json& entry : *log) {
      if (entry.value("path", "").find("token") != std::string::npos) ++n;
    }
    return n;
  }

  // Connects Google for the test tenant; returns the connection id.
  std::string ConnectGoogle() {
    PutIntegration(SandboxOrigin::kGoogle, key_);
    auto browser = NewBrowser();
    auto done = Connect(*browser, NewSession(key_, "alice@example.com"), SandboxOrigin::kGoogle);
    EXPECT_TRUE(done.ok()) << done.status().ToString();
    return done.ok() ? ConnectionIdFrom(*done) : "";
  }

  TestResponse ProxyCalendarList(const std::string& id) {
    return this->Call("GET", "/v1/proxy/" + id + "/calendar/v3/users/me/calendarList", "", key_);
  }

  int SandboxRequests(SandboxOrigin origin, const std::string& path) {
    auto log = sandbox_->Requests(origin, path);
    return log.ok() ? static_cast<int>(log->size()) : -1;
  }

  Json Health(const std::string& id, bool live) {
    TestResponse r = this->Call(
        "GET", "/v1/connections/" + id + "/health" + (live ? "?live=true" : ""), "", key_);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.JsonBody();
  }

  // Rows in the tables that a connect page, a form post or a callback could write, across all
  // tenants (through the maintenance database).
  int64_t RowCount() {
    auto db = this->backend_.OpenMaintenance();
    EXPECT_TRUE(db.ok());
    if (!db.ok()) return -1;
    int64_t total = 0;
    const Status counted =
        (*db)->RunUnscoped(store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
          for (const char* table :
               {"tenants", "audit_entries", "audit_heads", "connect_sessions", "oauth_transactions",
                "vault_secrets", "connections", "jobs", "webhook_deliveries"}) {
            SB_ASSIGN_OR_RETURN(auto rows,
                                tx.Query(std::string("SELECT COUNT(*) FROM ") + table, {}));
            total += rows.front().GetInt(0);
          }
          return OkStatus();
        });
    EXPECT_TRUE(counted.ok()) << counted.ToString();
    return total;
  }

  // POSTs a form to `path` from 127.0.0.1 with `headers` added.
  TestResponse PostForm(const std::string& path, const std::string& form,
                        std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    return this->CallFrom("127.0.0.1", "POST", path, form, "", headers);
  }

  std::unique_ptr<SandboxProcess> sandbox_;
  std::string tenant_;
  std::string key_;
};

TYPED_TEST_SUITE_P(ConnectSuite);

// The full flow for both providers: hosted page, authorization with PKCE, callback, and a
// connection with token facts (never tokens); connecting again updates the same connection.
TYPED_TEST_P(ConnectSuite, FullFlowCreatesOneConnectionPerAccount) {
  for (auto origin : {SandboxOrigin::kGoogle, SandboxOrigin::kMicrosoft}) {
    SCOPED_TRACE(this->Provider(origin));
    this->PutIntegration(origin, this->key_);
    auto browser = this->NewBrowser();
    auto done = this->Connect(*browser, this->NewSession(this->key_, this->Email(origin)), origin);
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    EXPECT_EQ(done->status, 303) << done->body;
    EXPECT_TRUE(done->url.starts_with(kReturnUrl)) << done->url;
    EXPECT_EQ(done->Header("referrer-policy"), "same-origin");
    EXPECT_EQ(done->Header("cache-control"), "no-store");
    // The authorization request carried PKCE S256 and a state (OA-01, OA-03).
    bool saw_authorize = false;
    for (const auto& url : browser->history()) {
      if (url.find("authorize") == std::string::npos && url.find("/auth?") == std::string::npos) {
        continue;
      }
      saw_authorize = true;
      EXPECT_NE(url.find("code_challenge_method=S256"), std::string::npos) << url;
      EXPECT_NE(url.find("state="), std::string::npos);
      EXPECT_NE(url.find("nonce="), std::string::npos);
    }
    EXPECT_TRUE(saw_authorize);
    const std::string id = this->ConnectionIdFrom(*done);
    ASSERT_FALSE(id.empty()) << done->url;

    Json c = this->Connection(id);
    EXPECT_EQ(c["provider"], this->Provider(origin));
    EXPECT_EQ(c["status"], "active");
    EXPECT_EQ(c["end_user_id"], "user-1");
    EXPECT_EQ(c["account"]["email"], this->Email(origin));
    EXPECT_FALSE(c["account"]["subject"].get<std::string>().empty());
    EXPECT_EQ(c["token"]["refresh_token_present"], true);
    EXPECT_TRUE(c["token"]["access_token_expires_at"].is_string());
    EXPECT_TRUE(c["missing_scopes"].empty()) << c.dump();
    EXPECT_EQ(c.dump().find("access_token\""), std::string::npos);
    if (origin == SandboxOrigin::kMicrosoft) {
      EXPECT_FALSE(c["account"]["provider_tenant_id"].get<std::string>().empty());
    }

    // The proxy reaches the provider's API with the connection's token.
    const std::string api_path =
        origin == SandboxOrigin::kGoogle ? "/calendar/v3/users/me/calendarList" : "/v1.0/me";
    TestResponse proxied = this->Call("GET", "/v1/proxy/" + id + api_path, "", this->key_);
    EXPECT_EQ(proxied.status, 200) << proxied.body;
    EXPECT_NE(proxied.body.find(this->Email(origin)), std::string::npos) << proxied.body;
    if (origin == SandboxOrigin::kGoogle) {
      // A large answer streams through (chunked); one growing past proxy.max_response_bytes
      // (16 MiB) is cut off: a visibly truncated transfer, never a silently short one.
      const std::string bytes = "/v1/proxy/" + id + "/_sandbox/bytes?size=";
      TestResponse big = this->Call("GET", bytes + std::to_string(3 << 20), "", this->key_);
      EXPECT_EQ(big.status, 200);
      EXPECT_EQ(big.body.size(), size_t{3} << 20);
      EXPECT_GT(big.chunks, 2);
      EXPECT_FALSE(big.truncated);
      TestResponse too_big = this->Call("GET", bytes + std::to_string(17 << 20), "", this->key_);
      EXPECT_EQ(too_big.status, 200);
      EXPECT_TRUE(too_big.truncated);
      EXPECT_LE(too_big.body.size(), size_t{16} << 20);
    }

    // The same account again: the same connection, updated.
    auto again = this->Connect(*browser, this->NewSession(this->key_, this->Email(origin)), origin);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(this->ConnectionIdFrom(*again), id);
    EXPECT_EQ(this->Connection(id)["token"]["version"], 2);
  }
  EXPECT_EQ(this->Connections().size(), 2u);
  EXPECT_EQ(this->CountAudit("connection.create"), 2);
  EXPECT_EQ(this->CountAudit("connection.reconnect"), 2);
  const std::string metrics = this->Metrics().body;
  EXPECT_NE(metrics.find(R"(sb_connect_callbacks_total{provider="google",outcome="connected"} 1)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(
      metrics.find(R"(sb_connect_callbacks_total{provider="microsoft",outcome="reconnected"} 1)"),
      std::string::npos);
}

// Granular consent: scopes the user did not grant are reported as missing.
TYPED_TEST_P(ConnectSuite, ScopesTheUserDidNotGrantAreReported) {
  this->PutIntegration(SandboxOrigin::kGoogle, this->key_);
  ASSERT_TRUE(this->sandbox_
                  ->PutSettings(SandboxOrigin::kGoogle, {{"grant_scopes", "openid email profile"}})
                  .ok());
  auto browser = this->NewBrowser();
  auto done = this->Connect(*browser, this->NewSession(this->key_, "alice@example.com"),
                            SandboxOrigin::kGoogle);
  ASSERT_TRUE(done.ok());
  const std::string id = this->ConnectionIdFrom(*done);
  Json c = this->Connection(id);
  EXPECT_EQ(c["missing_scopes"], Json::array({"https://www.googleapis.com/auth/calendar"}));
  // The proxy refuses calendar calls with a clear error and never calls the provider.
  const int before =
      this->SandboxRequests(SandboxOrigin::kGoogle, "/calendar/v3/users/me/calendarList");
  TestResponse refused = this->ProxyCalendarList(id);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(refused.Header("content-type"), "application/problem+json");
  EXPECT_NE(refused.body.find("auth/calendar"), std::string::npos) << refused.body;
  EXPECT_EQ(this->SandboxRequests(SandboxOrigin::kGoogle, "/calendar/v3/users/me/calendarList"),
            before);
  const Json health = this->Health(id, false);
  EXPECT_NE(health["suggestion"].get<std::string>().find("not granted"), std::string::npos);
}

// OA-03, OA-05, OA-08: unknown, tampered, foreign-tenant, replayed, other-browser, expired and
// wrong-issuer callbacks each end on a clear page and an audit entry, with no connection, and
// (except the replay of a completed one) without a call to the token endpoint.
TYPED_TEST_P(ConnectSuite, StateAttacksEndOnAPageAndAnAuditEntry) {
  const auto google = SandboxOrigin::kGoogle;
  this->PutIntegration(google, this->key_);
  const int calls_before = this->TokenCalls(google);

  auto browser = this->NewBrowser();
  const std::string callback = this->CallbackUrl(*browser, google);
  ASSERT_NE(callback.find("state="), std::string::npos) << callback;
  auto query = net::testing::ParseQuery(callback);
  ASSERT_TRUE(query.ok());
  std::string state;
  std::string code;
  for (const auto& [n, v] : *query) {
    if (n == "state") state = v;
    if (n == "code") code = v;
  }
  const std::string base = this->PublicUrl() + "/connect/callback?code=" + code + "&state=";

  auto expect_page = [&](Browser& b, const std::string& url, int status,
                         const std::string& code_name) {
    auto r = b.Get(url);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_NE(r->body.find(code_name), std::string::npos) << r->body;
    EXPECT_EQ(r->Header("referrer-policy"), "same-origin");
    EXPECT_EQ(r->body.find(code), std::string::npos);  // the code is never echoed
  };

  // Unknown state, and a tampered one.
  expect_page(*browser, base + "nonsense", 400, "invalid_state");
  std::string tampered = state;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  expect_page(*browser, base + tampered, 400, "invalid_state");

  // Another tenant's id on this tenant's state: nothing there (forged foreign-tenant callback).
  auto [other_tenant, other_key] = this->NewTenantWithKey(R"(["read","write"])");
  const std::string foreign = other_tenant + state.substr(36);
  expect_page(*browser, base + foreign, 400, "invalid_state");

  // A second browser (no binding cookie) cannot finish it (OA-03), and it stays usable.
  auto stranger = this->NewBrowser();
  expect_page(*stranger, callback, 400, "browser_mismatch");
  EXPECT_EQ(this->TokenCalls(google), calls_before);

  // The replayed callback after the first use.
  auto browser2 = this->NewBrowser();
  const std::string callback2 = this->CallbackUrl(*browser2, google);
  auto first = browser2->Get(callback2);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->status, 303);
  const int calls_after_first = this->TokenCalls(google);
  // The state is single use (OA-08): a second callback does nothing.
  expect_page(*browser2, callback2, 400, "state_replayed");
  EXPECT_EQ(this->TokenCalls(google), calls_after_first);

  // Expired: the state is good for 10 minutes.
  auto browser3 = this->NewBrowser();
  const std::string callback3 = this->CallbackUrl(*browser3, google);
  this->clock_.Advance(std::chrono::minutes(11));
  expect_page(*browser3, callback3, 400, "state_expired");
  this->clock_.Advance(-std::chrono::minutes(11));

  // Denied consent.
  ASSERT_TRUE(this->sandbox_->PutSettings(google, {{"consent_decision", "deny"}}).ok());
  auto browser4 = this->NewBrowser();
  auto denied = this->Connect(*browser4, this->NewSession(this->key_, "alice@example.com"), google);
  ASSERT_TRUE(denied.ok());
  EXPECT_EQ(denied->status, 403);
  EXPECT_NE(denied->body.find("Access was not granted"), std::string::npos);

  // One connection only (from browser2), and every failure audited.
  EXPECT_EQ(this->Connections().size(), 1u);
  // The malformed state names no tenant (logged only); the tampered one is audited here, the
  // forged one in the tenant it names.
  EXPECT_EQ(this->CountAudit("oauth.callback", "invalid_state"), 1);
  EXPECT_EQ(this->CountAudit("oauth.callback", "invalid_state", other_key), 1);
  EXPECT_EQ(this->CountAudit("oauth.callback", "browser_mismatch"), 1);
  EXPECT_GE(this->CountAudit("oauth.callback", "state_replayed"), 1);
  EXPECT_EQ(this->CountAudit("oauth.callback", "state_expired"), 1);
  EXPECT_EQ(this->CountAudit("oauth.callback", "access_denied"), 1);
  // The other tenant saw nothing.
  TestResponse other = this->Call("GET", "/v1/connections", "", other_key);
  EXPECT_TRUE(other.JsonBody()["data"].empty());
}

TYPED_TEST_P(ConnectSuite, IssuerMismatchIsRefused) {
  const auto google = SandboxOrigin::kGoogle;
  this->PutIntegration(google, this->key_);
  auto browser = this->NewBrowser();
  const std::string callback = this->CallbackUrl(*browser, google);
  const int calls_before = this->TokenCalls(google);
  auto r = browser->Get(callback + "&iss=" + PercentEncode("https://accounts.google.com/"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("issuer_mismatch"), std::string::npos);
  EXPECT_EQ(this->TokenCalls(google), calls_before);
  EXPECT_TRUE(this->Connections().empty());
}

// Refresh before expiry on the scheduler's clock, with rotating refresh tokens, then a revoked
// grant: reauthorization_required at once (OA-10).
TYPED_TEST_P(ConnectSuite, RefreshRotatesAndARevokedGrantNeedsReauthorization) {
  const auto microsoft = SandboxOrigin::kMicrosoft;
  this->PutIntegration(microsoft, this->key_);
  ASSERT_TRUE(
      this->sandbox_->PutSettings(microsoft, {{"invalidate_old_refresh_on_rotate", true}}).ok());
  auto browser = this->NewBrowser();
  auto done =
      this->Connect(*browser, this->NewSession(this->key_, "alice@contoso.example"), microsoft);
  ASSERT_TRUE(done.ok());
  const std::string id = this->ConnectionIdFrom(*done);

  // Nothing is due yet.
  auto none = this->app_->RunDueRefreshes();
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(*none, 0);
  // Three refreshes, each due by the clock; each uses the refresh token the last one stored.
  for (int round = 1; round <= 3; ++round) {
    this->clock_.Advance(std::chrono::minutes(60));
    auto n = this->app_->RunDueRefreshes();
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_EQ(*n, 1) << "round " << round;
    Json c = this->Connection(id);
    EXPECT_EQ(c["status"], "active") << c.dump();
    EXPECT_EQ(c["token"]["version"], 1 + round);
  }
  // The user revokes access at the provider.
  ASSERT_TRUE(
      this->sandbox_
          ->Action(microsoft, "revoke-refresh-tokens", {{"account", "alice@contoso.example"}})
          .ok());
  TestResponse forced = this->Call("POST", "/v1/connections/" + id + "/refresh", "", this->key_);
  EXPECT_EQ(forced.status, 409) << forced.body;
  Json c = this->Connection(id);
  EXPECT_EQ(c["status"], "reauthorization_required") << c.dump();
  EXPECT_TRUE(c["token"]["next_refresh_at"].is_null());
  // No retry loop: the scheduler leaves it alone.
  const int calls = this->TokenCalls(microsoft);
  this->clock_.Advance(std::chrono::hours(2));
  EXPECT_EQ(*this->app_->RunDueRefreshes(), 0);
  EXPECT_EQ(this->TokenCalls(microsoft), calls);
  EXPECT_EQ(this->CountAudit("connection.refresh"), 4);
  const std::string metrics = this->Metrics().body;
  EXPECT_NE(metrics.find(R"(sb_token_refreshes_total{provider="microsoft",outcome="success"} 3)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(
      metrics.find(R"(sb_token_refreshes_total{provider="microsoft",outcome="invalid_grant"} 1)"),
      std::string::npos);
}

// PATCH changes services and settings and disables; DELETE revokes at the provider first.
TYPED_TEST_P(ConnectSuite, PatchAndDeleteWithRevocation) {
  const auto google = SandboxOrigin::kGoogle;
  this->PutIntegration(google, this->key_);
  auto browser = this->NewBrowser();
  auto done = this->Connect(*browser, this->NewSession(this->key_, "alice@example.com"), google);
  ASSERT_TRUE(done.ok());
  const std::string id = this->ConnectionIdFrom(*done);

  TestResponse patched = this->Call(
      "PATCH", "/v1/connections/" + id,
      R"({"services":[{"service":"calendar","access":"read"}],"settings":{"sync":true},"enabled":false})",
      this->key_);
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.JsonBody()["status"], "disabled");
  EXPECT_EQ(patched.JsonBody()["settings"]["sync"], true);
  TestResponse refused = this->Call("POST", "/v1/connections/" + id + "/refresh", "", this->key_);
  EXPECT_EQ(refused.status, 409);
  TestResponse bad = this->Call("PATCH", "/v1/connections/" + id,
                                R"({"services":[{"service":"fax","access":"read"}]})", this->key_);
  EXPECT_EQ(bad.status, 400);

  // Another tenant cannot see, change or delete it.
  auto [other_tenant, other_key] = this->NewTenantWithKey(R"(["read","write"])");
  EXPECT_EQ(this->Call("GET", "/v1/connections/" + id, "", other_key).status, 404);
  EXPECT_EQ(this->Call("DELETE", "/v1/connections/" + id, "", other_key).status, 404);

  ASSERT_TRUE(this->sandbox_->Requests(google).ok());
  EXPECT_EQ(this->Call("DELETE", "/v1/connections/" + id, "", this->key_).status, 204);
  auto revokes = this->sandbox_->Requests(google, "/revoke");
  ASSERT_TRUE(revokes.ok());
  EXPECT_EQ(revokes->size(), 1u);
  EXPECT_EQ(this->Call("GET", "/v1/connections/" + id, "", this->key_).status, 404);
  EXPECT_EQ(this->Call("DELETE", "/v1/connections/" + id, "", this->key_).status, 404);
  EXPECT_EQ(this->CountAudit("connection.delete"), 1);
  EXPECT_EQ(this->CountAudit("connection.status_change"), 2);  // disabled, revoked
}

// Connection events reach the host app as Standard Webhooks deliveries (WH-01, WH-04): written
// with the change, signed, retried after a failure with the same webhook-id and a fresh
// signature, and verifiable with the endpoint's secret.
TYPED_TEST_P(ConnectSuite, ConnectionEventsAreDeliveredSigned) {
  std::mutex mu;
  std::vector<net::testing::ServedRequest> received;
  net::testing::LoopbackHttpServer receiver([&](const net::testing::ServedRequest& r) {
    std::lock_guard lock(mu);
    received.push_back(r);
    // The first delivery fails: the host app is briefly down.
    return net::testing::ServedResponse{received.size() == 1 ? 503 : 204, {}, "", false, ""};
  });
  ASSERT_TRUE(receiver.Start().ok());
  auto count = [&] {
    std::lock_guard lock(mu);
    return received.size();
  };
  auto wait_for = [&](size_t n, int polls = 200) {
    for (int i = 0; i < polls && count() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return count() >= n;
  };
  TestResponse endpoint = this->Call(
      "POST", "/v1/webhook-endpoints",
      Json{{"url", receiver.Url("/hooks")}, {"event_types", {"connection.created"}}}.dump(),
      this->key_);
  ASSERT_EQ(endpoint.status, 201) << endpoint.body;
  const std::string secret = endpoint.JsonBody()["secret"];

  this->PutIntegration(SandboxOrigin::kGoogle, this->key_);
  auto browser = this->NewBrowser();
  auto done = this->Connect(*browser, this->NewSession(this->key_, "alice@example.com"),
                            SandboxOrigin::kGoogle);
  ASSERT_TRUE(done.ok());
  const std::string id = this->ConnectionIdFrom(*done);

  // Polls the deliveries API until a delivery is in `state` with `attempts` recorded: the
  // receiver sees a request before the server records its answer.
  auto wait_recorded = [&](const std::string& state, int attempts) {
    for (int i = 0; i < 200; ++i) {
      TestResponse r = this->Call("GET", "/v1/webhook-deliveries?state=" + state, "", this->key_);
      const Json data = r.JsonBody()["data"];
      if (r.status == 200 && data.is_array() && !data.empty() &&
          data[0].value("attempts", 0) == attempts) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  };
  ASSERT_TRUE(wait_for(1)) << "no delivery";
  ASSERT_TRUE(wait_recorded("pending", 1)) << "first attempt not recorded";
  // The retry is due 30 s (+-15 %) after the failure on the server's clock.
  this->clock_.Advance(std::chrono::seconds(40));
  ASSERT_TRUE(wait_for(2)) << "no retry";
  ASSERT_TRUE(wait_recorded("succeeded", 2)) << "retry not recorded";
  std::vector<net::testing::ServedRequest> seen;
  {
    std::lock_guard lock(mu);
    seen = received;
  }
  const auto& first = seen[0];
  const auto& second = seen[1];
  EXPECT_EQ(first.method, "POST");
  EXPECT_EQ(first.target, "/hooks");
  EXPECT_EQ(first.Header("webhook-id"), second.Header("webhook-id"));  // same message
  EXPECT_EQ(first.body, second.body);
  EXPECT_NE(first.Header("webhook-timestamp"), second.Header("webhook-timestamp"));
  for (const auto* r : {&first, &second}) {
    const Status verified = webhooks::Verify(
        {secret}, r->Header("webhook-id").value_or(""), r->Header("webhook-timestamp").value_or(""),
        r->Header("webhook-signature").value_or(""), r->body, this->clock_.Now());
    EXPECT_TRUE(verified.ok()) << verified.ToString();
  }
  const Json body = Json::parse(second.body);
  EXPECT_EQ(body["type"], "connection.created");
  EXPECT_EQ(body["data"]["connection"]["id"], id);
  EXPECT_EQ(body["data"]["connection"]["status"], "active");
  EXPECT_EQ(second.body.find("access_token"), std::string::npos);
  EXPECT_EQ(seen.size(), 2u);  // delivered once, after one retry
  // The receiver counts a request before it answers, so the job may not have recorded the
  // success yet.
  TestResponse list;
  for (int i = 0; i < 200; ++i) {
    list = this->Call("GET", "/v1/webhook-deliveries?state=succeeded", "", this->key_);
    if (list.status != 200 || !list.JsonBody()["data"].empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_FALSE(list.JsonBody()["data"].empty()) << list.body;
  const Json delivery = list.JsonBody()["data"][0];
  EXPECT_EQ(delivery["attempts"], 2);
  EXPECT_EQ(delivery["last_status_code"], 204);
  EXPECT_EQ(delivery["event_type"], "connection.created");
  EXPECT_EQ(delivery["event_id"], first.Header("webhook-id").value_or(""));
  // A manual replay delivers the same message again.
  TestResponse retried =
      this->Call("POST", "/v1/webhook-deliveries/" + delivery["id"].get<std::string>() + "/retry",
                 "", this->key_);
  EXPECT_EQ(retried.status, 202) << retried.body;
  ASSERT_TRUE(wait_for(3)) << "no replay";
}

// The kill switch (PUT /v1/admin/providers/{provider}): per tenant and global, refused before
// any provider call, admin only, audited, reversible.
TYPED_TEST_P(ConnectSuite, KillSwitchStopsCallsToAProvider) {
  const std::string id = this->ConnectGoogle();
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(this->ProxyCalendarList(id).status, 200);
  const int calls_before =
      this->SandboxRequests(SandboxOrigin::kGoogle, "/calendar/v3/users/me/calendarList");

  const Json off_for_tenant = {{"enabled", false},
                               {"tenant_id", this->tenant_},
                               {"reason", "incident 7: data leak at the provider"}};
  TestResponse denied =
      this->Call("PUT", "/v1/admin/providers/google", off_for_tenant.dump(), this->key_);
  EXPECT_EQ(denied.status, 403) << denied.body;
  TestResponse set =
      this->Call("PUT", "/v1/admin/providers/google", off_for_tenant.dump(), this->admin_key_);
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(set.JsonBody()["scope"], "tenant");
  EXPECT_EQ(set.JsonBody()["enabled"], false);
  EXPECT_EQ(
      this->Call("PUT", "/v1/admin/providers/nope", off_for_tenant.dump(), this->admin_key_).status,
      404);

  TestResponse refused = this->ProxyCalendarList(id);
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("incident 7"), std::string::npos) << refused.body;
  EXPECT_EQ(this->Call("POST", "/v1/connections/" + id + "/refresh", "", this->key_).status, 409);
  const Json health = this->Health(id, /*live=*/true);
  EXPECT_EQ(health["status"], "unhealthy");
  EXPECT_NE(health["suggestion"].get<std::string>().find("disabled"), std::string::npos);
  EXPECT_EQ(health.contains("live_check"), false);  // nothing was called
  // Nothing reached the provider while it was off.
  EXPECT_EQ(this->SandboxRequests(SandboxOrigin::kGoogle, "/calendar/v3/users/me/calendarList"),
            calls_before);
  EXPECT_EQ(this->CountAudit("provider.disable"), 1);

  ASSERT_EQ(this->Call("PUT", "/v1/admin/providers/google", R"({"enabled":true})", this->admin_key_)
                .status,
            200);  // the global switch says enabled; the tenant's still disables
  EXPECT_EQ(this->ProxyCalendarList(id).status, 409);
  ASSERT_EQ(
      this->Call("PUT", "/v1/admin/providers/google",
                 Json{{"enabled", true}, {"tenant_id", this->tenant_}}.dump(), this->admin_key_)
          .status,
      200);
  EXPECT_EQ(this->ProxyCalendarList(id).status, 200);

  // Globally: every tenant, shown in the admin listing (and switched on again below: the
  // PostgreSQL suites share one database).
  ASSERT_EQ(this->Call("PUT", "/v1/admin/providers/google",
                       R"({"enabled":false,"reason":"provider outage"})", this->admin_key_)
                .status,
            200);
  refused = this->ProxyCalendarList(id);
  EXPECT_EQ(refused.status, 409);
  EXPECT_NE(refused.body.find("every tenant"), std::string::npos) << refused.body;
  TestResponse listing = this->Call("GET", "/v1/admin/providers", "", this->admin_key_);
  ASSERT_EQ(listing.status, 200);
  bool google_listed = false;
  const Json providers = listing.JsonBody()["data"];
  for (const Json& p : providers) {
    if (p["provider"] == "google") {
      google_listed = true;
      EXPECT_EQ(p["enabled"], false);
      EXPECT_EQ(p["switches"].size(), 2u);
    } else if (p["provider"] == "microsoft") {
      EXPECT_EQ(p["enabled"], true);
    }
  }
  EXPECT_TRUE(google_listed);
  EXPECT_EQ(this->Call("GET", "/v1/admin/providers", "", this->key_).status, 403);
  ASSERT_EQ(this->Call("PUT", "/v1/admin/providers/google", R"({"enabled":true})", this->admin_key_)
                .status,
            200);
  EXPECT_EQ(this->ProxyCalendarList(id).status, 200);
  EXPECT_EQ(this->Call("PUT", "/v1/admin/providers/google", R"({"enabled":"no"})", this->admin_key_)
                .status,
            400);
}

// A call already waiting for the provider stops the moment the provider is switched off, and
// the caller learns why.
TYPED_TEST_P(ConnectSuite, KillSwitchStopsACallInFlight) {
  const std::string id = this->ConnectGoogle();
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(this->sandbox_
                  ->Control(SandboxOrigin::kGoogle, "POST", "/_sandbox/faults",
                            {{"path", "/calendar/v3/users/me/calendarList"},
                             {"kind", "latency"},
                             {"latency_ms", 3000}})
                  .ok());
  TestResponse in_flight;
  std::thread caller([&] { in_flight = this->ProxyCalendarList(id); });
  // Wait until the sandbox holds the request (the fault fired), then switch Google off.
  bool held = false;
  for (int i = 0; i < 200 && !held; ++i) {
    auto faults = this->sandbox_->Control(SandboxOrigin::kGoogle, "GET", "/_sandbox/faults");
    held = faults.ok() && !(*faults)["faults"].empty() && (*faults)["faults"][0]["fired"] == 1;
    if (!held) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(held);
  // For this tenant only: a global switch would outlive the test in a shared database.
  TestResponse set = this->Call(
      "PUT", "/v1/admin/providers/google",
      Json{{"enabled", false}, {"tenant_id", this->tenant_}, {"reason", "stop everything"}}.dump(),
      this->admin_key_);
  caller.join();
  EXPECT_EQ(set.status, 200) << set.body;
  // Not the provider's 200 three seconds later: the switch's 409.
  EXPECT_EQ(in_flight.status, 409) << in_flight.body;
  EXPECT_NE(in_flight.body.find("stop everything"), std::string::npos) << in_flight.body;
  TestResponse metrics = this->Metrics();
  EXPECT_NE(metrics.body.find(R"(sb_provider_calls_cancelled_total{provider="google"} 1)"),
            std::string::npos);
}

// A request body larger than the read-ahead streams through the proxy to the provider: an
// event with a 300 KiB description is created and reads back whole.
TYPED_TEST_P(ConnectSuite, ALargeUploadStreamsThroughTheProxy) {
  const std::string id = this->ConnectGoogle();
  ASSERT_FALSE(id.empty());
  std::string description(300 << 10, 'd');
  for (size_t i = 0; i < description.size(); i += 1000) description[i] = 'A' + (i / 1000) % 26;
  const Json event = {{"summary", "Planning"},
                      {"description", description},
                      {"start", {{"dateTime", "2026-12-01T10:00:00Z"}}},
                      {"end", {{"dateTime", "2026-12-01T11:00:00Z"}}}};
  TestResponse created =
      this->Call("POST", "/v1/proxy/" + id + "/calendar/v3/calendars/primary/events", event.dump(),
                 this->key_);
  ASSERT_EQ(created.status, 200) << created.body.substr(0, 500);
  const std::string event_id = created.JsonBody().value("id", "");
  ASSERT_FALSE(event_id.empty());
  TestResponse read =
      this->Call("GET", "/v1/proxy/" + id + "/calendar/v3/calendars/primary/events/" + event_id, "",
                 this->key_);
  ASSERT_EQ(read.status, 200);
  EXPECT_TRUE(read.JsonBody().value("description", "") == description);
}

// Issue 13: one tenant trickles uploads to the proxy (a byte at a time) on more connections
// than the blocking pool has threads, up to its upload cap; another tenant's API calls keep
// succeeding while every trickling upload is still open, the tenant's next upload gets 429
// naming the limit, and the uploads complete once their bodies arrive.
TYPED_TEST_P(ConnectSuite, TricklingUploadsDoNotStarveOtherTenants) {
  const std::string id = this->ConnectGoogle();
  ASSERT_FALSE(id.empty());
  const auto [other_tenant, other_key] = this->NewTenantWithKey(R"(["read","write"])");
  const std::string body = R"({"summary":"Trickled","start":{"dateTime":"2026-12-01T10:00:00Z"},)"
                           R"("end":{"dateTime":"2026-12-01T11:00:00Z"}})";
  const std::string head = "POST /v1/proxy/" + id +
                           "/calendar/v3/calendars/primary/events HTTP/1.1\r\nHost: t\r\n"
                           "Authorization: Bearer " +
                           this->key_ + "\r\nContent-Type: application/json\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n";
  const int uploads = this->config_.limits.max_concurrent_uploads_per_tenant;
  ASSERT_GT(uploads, this->config_.server.worker_threads);  // more than the pool's threads
  // Each trickle is a raw connection that sends its upload in pieces.
  std::vector<std::unique_ptr<http::testing::RawClient>> trickles;
  for (int i = 0; i < uploads; ++i) {
    trickles.push_back(std::make_unique<http::testing::RawClient>(this->port_));
    ASSERT_TRUE(trickles.back()->Send(head + body.substr(0, 1)));
  }
  // Once all of them are in their handlers, the tenant's next upload is over its cap (a proxy
  // call with a body; bodiless reads count only against the request cap). A probe can take a
  // slot before the last trickle's handler starts, which then gets the 429 instead: such a
  // trickle is opened again.
  TestResponse over;
  for (int i = 0; i < 800 && over.status != 429; ++i) {  // a 20 s failure guard
    for (auto& trickle : trickles) {
      if (trickle->Pending()) continue;
      trickle = std::make_unique<http::testing::RawClient>(this->port_);
      ASSERT_TRUE(trickle->Send(head + body.substr(0, 1)));
    }
    over = this->Call("POST", "/v1/proxy/" + id + "/calendar/v3/calendars/primary/events", body,
                      this->key_);
    if (over.status != 429) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_EQ(over.status, 429) << over.body;
  EXPECT_EQ(over.Header("retry-after"), "1");
  EXPECT_NE(over.body.find("limits.max_concurrent_uploads_per_tenant"), std::string::npos);
  // Reads through the proxy carry no body: they are not uploads and still pass.
  EXPECT_EQ(this->ProxyCalendarList(id).status, 200);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(this->Call("GET", "/v1/api-keys", "", other_key).status, 200);
    EXPECT_EQ(this->Call("GET", "/v1/connections", "", other_key).status, 200);
    // The trickling tenant's own non-upload calls pass too (under the request cap).
    EXPECT_EQ(this->Call("GET", "/v1/connections", "", this->key_).status, 200);
  }
  for (auto& trickle : trickles) {
    EXPECT_TRUE(trickle->Pending());
    ASSERT_TRUE(trickle->Send(body.substr(1, 2)));  // a few more bytes
  }
  for (auto& trickle : trickles) {
    EXPECT_TRUE(trickle->Pending());
    ASSERT_TRUE(trickle->Send(body.substr(3)));
    const std::string answer = trickle->ReadToClose(std::chrono::seconds(20));
    EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer.substr(0, 300);
  }
  // Their slots are free again.
  EXPECT_EQ(this->ProxyCalendarList(id).status, 200);
}

// Health: live checks, one alert per incident (webhook + metric), one recovery.
TYPED_TEST_P(ConnectSuite, HealthAlertsOncePerIncident) {
  std::mutex mu;
  std::vector<std::string> events;
  net::testing::LoopbackHttpServer receiver([&](const net::testing::ServedRequest& r) {
    std::lock_guard lock(mu);
    events.push_back(Json::parse(r.body).value("type", ""));
    return net::testing::ServedResponse{204, {}, "", false, ""};
  });
  ASSERT_TRUE(receiver.Start().ok());
  auto received = [&] {
    std::lock_guard lock(mu);
    return events;
  };
  ASSERT_EQ(
      this->Call("POST", "/v1/webhook-endpoints",
                 Json{{"url", receiver.Url("/hooks")},
                      {"event_types", {"connection.health_alert", "connection.health_recovered"}}}
                     .dump(),
                 this->key_)
          .status,
      201);
  const std::string id = this->ConnectGoogle();
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(this->Health(id, false)["status"], "unknown");
  Json h = this->Health(id, true);
  EXPECT_EQ(h["status"], "healthy") << h.dump();
  EXPECT_EQ(h["live_check"]["ok"], true);
  EXPECT_TRUE(h["suggestion"].is_null());
  EXPECT_FALSE(h["last_success_at"].is_null());

  ASSERT_TRUE(
      this->sandbox_
          ->Control(SandboxOrigin::kGoogle, "POST", "/_sandbox/faults",
                    {{"path", "/v1/userinfo"}, {"kind", "status"}, {"status", 503}, {"count", -1}})
          .ok());
  const char* expected[] = {"degraded", "degraded", "unhealthy", "unhealthy", "unhealthy"};
  for (const char* status : expected) {
    h = this->Health(id, true);
    EXPECT_EQ(h["status"], status) << h.dump();
    EXPECT_EQ(h["live_check"]["ok"], false);
  }
  EXPECT_EQ(h["last_error"]["kind"], "provider_unavailable");
  EXPECT_EQ(h["consecutive_failures"], 5);
  EXPECT_FALSE(h["incident_since"].is_null());
  EXPECT_NE(h["suggestion"].get<std::string>().find("Wait"), std::string::npos);

  ASSERT_TRUE(this->sandbox_->Control(SandboxOrigin::kGoogle, "DELETE", "/_sandbox/faults").ok());
  h = this->Health(id, true);
  EXPECT_EQ(h["status"], "healthy") << h.dump();
  EXPECT_TRUE(h["incident_since"].is_null());
  for (int i = 0; i < 200 && received().size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // nothing more may come
  // One of each, in whichever order the workers delivered them.
  std::vector<std::string> got = received();
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got,
            (std::vector<std::string>{"connection.health_alert", "connection.health_recovered"}));
  TestResponse metrics = this->Metrics();
  EXPECT_NE(
      metrics.body.find(
          R"(sb_connection_health_alerts_total{provider="google",kind="provider_unavailable"} 1)"),
      std::string::npos);
  EXPECT_EQ(
      this->Call("GET", "/v1/connections/" + id + "/health?live=maybe", "", this->key_).status,
      400);
}

// A token the provider rejects even after a refresh is an incident at once, whether a proxied
// call or a live check finds it; the suggestion is to reconnect.
TYPED_TEST_P(ConnectSuite, ARejectedTokenIsAnIncidentAtOnce) {
  const std::string id = this->ConnectGoogle();
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(this->ProxyCalendarList(id).status, 200);
  ASSERT_TRUE(this->sandbox_
                  ->Control(SandboxOrigin::kGoogle, "POST", "/_sandbox/faults",
                            {{"path", "/calendar/v3/users/me/calendarList"},
                             {"kind", "unauthorized"},
                             {"count", -1}})
                  .ok());
  EXPECT_EQ(this->ProxyCalendarList(id).status, 401);  // after one refresh and one retry
  Json h = this->Health(id, false);
  EXPECT_EQ(h["status"], "unhealthy") << h.dump();
  EXPECT_EQ(h["last_error"]["kind"], "token_rejected");
  EXPECT_EQ(h["consecutive_failures"], 1);
  EXPECT_FALSE(h["incident_since"].is_null());
  EXPECT_NE(h["suggestion"].get<std::string>().find("Reconnect"), std::string::npos);
  // The identity endpoint still accepts the token: a live check closes the incident.
  h = this->Health(id, true);
  EXPECT_EQ(h["status"], "healthy") << h.dump();
  ASSERT_TRUE(this->sandbox_
                  ->Control(SandboxOrigin::kGoogle, "POST", "/_sandbox/faults",
                            {{"path", "/v1/userinfo"}, {"kind", "unauthorized"}, {"count", -1}})
                  .ok());
  h = this->Health(id, true);
  EXPECT_EQ(h["status"], "unhealthy") << h.dump();
  EXPECT_EQ(h["last_error"]["kind"], "token_rejected");
  EXPECT_EQ(h["live_check"]["ok"], false);
  TestResponse metrics = this->Metrics();
  EXPECT_NE(metrics.body.find(
                R"(sb_connection_health_alerts_total{provider="google",kind="token_rejected"} 2)"),
            std::string::npos);

  // The health history: both incidents, newest first, a page at a time; the first is closed.
  const std::string history = "/v1/connections/" + id + "/health/incidents";
  TestResponse page = this->Call("GET", history + "?limit=1", "", this->key_);
  ASSERT_EQ(page.status, 200) << page.body;
  const Json newest = page.JsonBody();
  ASSERT_EQ(newest["data"].size(), 1u) << page.body;
  EXPECT_EQ(newest["data"][0]["seq"], 2);
  EXPECT_TRUE(newest["data"][0]["closed_at"].is_null());
  EXPECT_EQ(newest["data"][0]["error_kind"], "token_rejected");
  ASSERT_TRUE(newest["next_cursor"].is_string()) << page.body;
  page = this->Call("GET", history + "?limit=1&cursor=" + newest["next_cursor"].get<std::string>(),
                    "", this->key_);
  ASSERT_EQ(page.status, 200) << page.body;
  const Json older = page.JsonBody();
  ASSERT_EQ(older["data"].size(), 1u) << page.body;
  EXPECT_EQ(older["data"][0]["seq"], 1);
  EXPECT_FALSE(older["data"][0]["closed_at"].is_null());
  EXPECT_TRUE(older["next_cursor"].is_null());
  EXPECT_EQ(page.body.find("access_token"), std::string::npos);
  // Another tenant finds no such connection; bad queries are refused.
  auto [other_tenant, other_key] = this->NewTenantWithKey(R"(["read"])");
  (void)other_tenant;
  EXPECT_EQ(this->Call("GET", history, "", other_key).status, 404);
  EXPECT_EQ(this->Call("GET", history + "?cursor=-1", "", this->key_).status, 400);
  EXPECT_EQ(this->Call("GET", history + "?limit=0", "", this->key_).status, 400);
  EXPECT_EQ(this->Call("GET", "/v1/connections/not-a-uuid/health/incidents", "", this->key_).status,
            404);
}

// The overview's summary: a failing live check opens an incident that the summary lists, the
// next success closes it; the counts are the caller's tenant's only.
TYPED_TEST_P(ConnectSuite, TheSummaryListsOpenIncidentsOfItsTenant) {
  auto summary = [&](const std::string& query, const std::string& key) {
    TestResponse r = this->Call("GET", "/v1/connections/summary" + query, "", key);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? r.JsonBody() : Json::object();
  };
  const std::string id = this->ConnectGoogle();
  ASSERT_FALSE(id.empty());
  Json s = summary("", this->key_);
  EXPECT_EQ(s["connections"]["total"], 1) << s.dump();
  EXPECT_EQ(s["connections"]["active"], 1);
  EXPECT_EQ(s["connections"]["revoked"], 0);  // every status, zeros included
  EXPECT_EQ(s["open_incidents"], 0);
  EXPECT_TRUE(s["incidents"].empty());

  ASSERT_TRUE(this->sandbox_
                  ->Control(SandboxOrigin::kGoogle, "POST", "/_sandbox/faults",
                            {{"path", "/v1/userinfo"}, {"kind", "unauthorized"}, {"count", -1}})
                  .ok());
  Json h = this->Health(id, true);
  ASSERT_EQ(h["status"], "unhealthy") << h.dump();
  s = summary("?limit=1", this->key_);
  EXPECT_EQ(s["open_incidents"], 1) << s.dump();
  ASSERT_EQ(s["incidents"].size(), 1u) << s.dump();
  const Json& incident = s["incidents"][0];
  EXPECT_EQ(incident["connection_id"], id);
  EXPECT_EQ(incident["provider"], "google");
  EXPECT_FALSE(incident["end_user_id"].get<std::string>().empty());
  EXPECT_EQ(incident["incident_since"], h["incident_since"]);
  EXPECT_EQ(incident["last_error"]["kind"], "token_rejected");
  EXPECT_FALSE(incident["last_error"]["message"].get<std::string>().empty());
  EXPECT_EQ(s.dump().find("access_token"), std::string::npos);

  // Another tenant's key sees its own (empty) tenant.
  auto [other_tenant, other_key] = this->NewTenantWithKey(R"(["read"])");
  (void)other_tenant;
  Json theirs = summary("", other_key);
  EXPECT_EQ(theirs["connections"]["total"], 0) << theirs.dump();
  EXPECT_EQ(theirs["connections"]["active"], 0);
  EXPECT_EQ(theirs["open_incidents"], 0);
  EXPECT_TRUE(theirs["incidents"].empty());

  // The next success closes the incident.
  ASSERT_TRUE(this->sandbox_->Control(SandboxOrigin::kGoogle, "DELETE", "/_sandbox/faults").ok());
  ASSERT_EQ(this->Health(id, true)["status"], "healthy");
  s = summary("", this->key_);
  EXPECT_EQ(s["open_incidents"], 0) << s.dump();
  EXPECT_TRUE(s["incidents"].empty());
  EXPECT_EQ(s["connections"]["active"], 1);

  for (const char* bad : {"?limit=0", "?limit=101", "?limit=x"}) {
    EXPECT_EQ(
        this->Call("GET", std::string("/v1/connections/summary") + bad, "", this->key_).status, 400)
        << bad;
  }
  EXPECT_EQ(this->Call("GET", "/v1/connections/summary", "", "").status, 401);
  // The literal path wins over {id}; other methods on it find no connection.
  EXPECT_EQ(this->Call("DELETE", "/v1/connections/summary", "", this->key_).status, 404);
}

// Scheduled checks run through the job queue without anybody asking.
TYPED_TEST_P(ConnectSuite, ScheduledHealthChecksRunOnTheJobQueue) {
  const std::string id = this->ConnectGoogle();
  ASSERT_FALSE(id.empty());
  Json h;
  for (int i = 0; i < 200; ++i) {
    h = this->Health(id, false);
    if (!h["last_checked_at"].is_null()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(h["last_checked_at"].is_null()) << h.dump();
  EXPECT_EQ(h["status"], "healthy");
  const std::string first = h["last_checked_at"];
  EXPECT_FALSE(h["next_check_at"].is_null());
  // The next check comes after the interval (6 h by default) on the server's clock.
  this->clock_.Advance(std::chrono::hours(7));
  for (int i = 0; i < 200; ++i) {
    h = this->Health(id, false);
    if (h["last_checked_at"] != first) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(h["last_checked_at"], first) << h.dump();
}

// Usage: API calls, proxied calls and refreshes per tenant, and connections by status.
TYPED_TEST_P(ConnectSuite, UsageCountsCallsPerTenant) {
  const std::string id = this->ConnectGoogle();
  ASSERT_FALSE(id.empty());
  for (int i = 0; i < 3; ++i) ASSERT_EQ(this->ProxyCalendarList(id).status, 200);
  ASSERT_EQ(this->Call("POST", "/v1/connections/" + id + "/refresh", "", this->key_).status, 200);
  const std::string target = "/v1/admin/usage?tenant_id=" + this->tenant_;
  EXPECT_EQ(this->Call("GET", target, "", this->key_).status, 403);
  Json usage;
  for (int i = 0; i < 100; ++i) {
    TestResponse r = this->Call("GET", target, "", this->admin_key_);
    ASSERT_EQ(r.status, 200) << r.body;
    usage = r.JsonBody();
    if (usage["data"].size() == 1 && usage["data"][0]["proxied_calls"] == 3 &&
        usage["data"][0]["refreshes"].get<int64_t>() >= 1) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(usage["data"].size(), 1u) << usage.dump();
  const Json& t = usage["data"][0];
  EXPECT_EQ(t["tenant_id"], this->tenant_);
  EXPECT_EQ(t["proxied_calls"], 3) << usage.dump();
  EXPECT_GE(t["refreshes"].get<int64_t>(), 1);
  EXPECT_GE(t["api_calls"].get<int64_t>(), 6);  // integration, session, 3 proxied, refresh
  EXPECT_EQ(t["connections"]["active"], 1);
  EXPECT_EQ(t["connections"]["total"], 1);
  ASSERT_EQ(t["days"].size(), 1u);
  EXPECT_EQ(t["days"][0]["proxied_calls"], 3);
  EXPECT_EQ(this->Call("GET", "/v1/admin/usage?from=2026-02-31x", "", this->admin_key_).status,
            400);
  EXPECT_EQ(this->Call("GET", "/v1/admin/usage?from=2020-01-01&to=2026-01-01", "", this->admin_key_)
                .status,
            400);
}

// Issue 13: requests from outside write nothing per request. A callback, page or form post that
// names a tenant that does not exist writes no row at all; bad states of an existing tenant are
// audited once per tenant, failure code and minute, the rest only counted (and reported with
// the next entry), so the audit log cannot be grown from outside.
TYPED_TEST_P(ConnectSuite, RequestsFromOutsideCannotGrowTheDatabase) {
  this->PutIntegration(SandboxOrigin::kGoogle, this->key_);
  const std::string secret = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  const std::string nobody = "01900000-0000-7000-8000-000000000bad." + secret;
  const int64_t before = this->RowCount();
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(this->Call("GET", "/connect/callback?code=c&state=" + nobody).status, 400);
    EXPECT_EQ(this->Call("GET", "/connect/" + nobody).status, 404);
    EXPECT_EQ(this->PostForm("/connect/" + nobody + "/start", "provider=google&csrf=x").status,
              404);
  }
  EXPECT_EQ(this->RowCount(), before);

  // Ten bad states naming this tenant: one audit entry.
  const std::string forged = this->tenant_ + "." + secret;
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(this->Call("GET", "/connect/callback?code=c&state=" + forged).status, 400);
  }
  EXPECT_EQ(this->CountAudit("oauth.callback", "invalid_state"), 1);
  EXPECT_LE(this->RowCount(), before + 1);
  // The next minute: one more entry, which reports the nine that had none.
  this->clock_.Advance(std::chrono::seconds(61));
  EXPECT_EQ(this->Call("GET", "/connect/callback?code=c&state=" + forged).status, 400);
  TestResponse audit =
      this->Call("GET", "/v1/audit?limit=10&action=oauth.callback", "", this->key_);
  ASSERT_EQ(audit.status, 200);
  const Json entries = audit.JsonBody()["data"];
  ASSERT_EQ(entries.size(), 2u) << audit.body;
  int64_t reported = 0;
  for (const Json& e : entries) reported += e["details"].value("unaudited_since_previous_entry", 0);
  EXPECT_EQ(reported, 9);
  const std::string metrics = this->Metrics().body;
  EXPECT_NE(
      metrics.find(R"(sb_connect_callback_failures_unaudited_total{code="invalid_state"} 19)"),
      std::string::npos)
      << metrics;
}

// Issue 13: POST /connect/{token}/start takes only the form its own page rendered: the CSRF
// token bound to the session, and no cross-site Origin or Sec-Fetch-Site. Refusals are a 403
// page and write nothing; the cookies are SameSite=Lax.
TYPED_TEST_P(ConnectSuite, StartAcceptsOnlyTheFormOfItsOwnPage) {
  this->PutIntegration(SandboxOrigin::kGoogle, this->key_);
  const std::string public_url = this->PublicUrl();
  const std::string path =
      this->NewSession(this->key_, "alice@example.com").substr(public_url.size());
  TestResponse page = this->Call("GET", path);
  ASSERT_EQ(page.status, 200);
  const std::string csrf = HiddenFieldValue(page.body, "csrf");
  ASSERT_FALSE(csrf.empty()) << page.body;
  const std::string other_path =
      this->NewSession(this->key_, "alice@example.com").substr(public_url.size());
  const std::string other_csrf = HiddenFieldValue(this->Call("GET", other_path).body, "csrf");
  ASSERT_NE(other_csrf, csrf);

  const std::string form = "provider=google&service=calendar%3Aread";
  using Headers = std::vector<std::pair<std::string, std::string>>;
  const std::vector<std::tuple<std::string, std::string, Headers>> refused = {
      {"no token", form, {}},
      {"wrong token", form + "&csrf=" + std::string(43, 'A'), {}},
      {"another session's token", form + "&csrf=" + other_csrf, {}},
      {"foreign Origin", form + "&csrf=" + csrf, {{"Origin", "https://evil.example"}}},
      {"opaque Origin", form + "&csrf=" + csrf, {{"Origin", "null"}}},
      {"cross-site", form + "&csrf=" + csrf, {{"Sec-Fetch-Site", "cross-site"}}},
      {"same-site", form + "&csrf=" + csrf, {{"Sec-Fetch-Site", "same-site"}}},
  };
  const int64_t before = this->RowCount();
  for (const auto& [name, body, headers] : refused) {
    TestResponse r = this->PostForm(path + "/start", body, headers);
    EXPECT_EQ(r.status, 403) << name;
    EXPECT_NE(r.body.find("forbidden_origin"), std::string::npos) << name << r.body;
    EXPECT_EQ(r.Header("set-cookie"), "") << name;
  }
  EXPECT_EQ(this->RowCount(), before);
  EXPECT_EQ(this->CountAudit("oauth.authorize"), 0);

  // What a browser sends from the page itself.
  TestResponse ok = this->PostForm(path + "/start", form + "&csrf=" + csrf,
                                   {{"Origin", public_url}, {"Sec-Fetch-Site", "same-origin"}});
  EXPECT_EQ(ok.status, 303) << ok.body;
  for (const std::string& cookie :
       {ok.Header("set-cookie"),
        this->Call("GET", "/connect/callback?state=x").Header("set-cookie")}) {
    EXPECT_NE(cookie.find("SameSite=Lax"), std::string::npos) << cookie;
    EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  }
  EXPECT_EQ(this->CountAudit("oauth.authorize"), 1);
}

// Issue 13: a provider account connected for one end user is not moved to another end user of
// the tenant (409 page, audited) unless the integration allows re-assignment; then the move is
// audited as one.
TYPED_TEST_P(ConnectSuite, AnAccountIsNeverSilentlyMovedToAnotherEndUser) {
  const auto google = SandboxOrigin::kGoogle;
  this->PutIntegration(google, this->key_);
  auto browser = this->NewBrowser();
  auto first =
      this->Connect(*browser, this->NewSession(this->key_, "alice@example.com", "user-1"), google);
  ASSERT_TRUE(first.ok());
  const std::string id = this->ConnectionIdFrom(*first);
  ASSERT_FALSE(id.empty()) << first->url;

  auto second =
      this->Connect(*browser, this->NewSession(this->key_, "alice@example.com", "user-2"), google);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->status, 409) << second->body;
  EXPECT_NE(second->body.find("reassignment_refused"), std::string::npos);
  Json c = this->Connection(id);
  EXPECT_EQ(c["end_user_id"], "user-1");
  EXPECT_EQ(c["token"]["version"], 1);
  EXPECT_EQ(this->CountAudit("connection.reassignment_refused"), 1);
  EXPECT_EQ(this->CountAudit("connection.reassign"), 0);

  TestResponse allow = this->Call(
      "PUT", "/v1/integrations/google",
      Json{{"client_id", this->ClientId(google)},
           {"services", Json::array({{{"service", "calendar"}, {"access", "read_write"}}})},
           {"allow_reassignment", true}}
          .dump(),
      this->key_);
  ASSERT_EQ(allow.status, 200) << allow.body;
  EXPECT_EQ(
      this->Call("GET", "/v1/integrations/google", "", this->key_).JsonBody()["allow_reassignment"],
      true);
  auto third =
      this->Connect(*browser, this->NewSession(this->key_, "alice@example.com", "user-2"), google);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->status, 303) << third->body;
  EXPECT_EQ(this->ConnectionIdFrom(*third), id);
  EXPECT_EQ(this->Connection(id)["end_user_id"], "user-2");
  EXPECT_EQ(this->CountAudit("connection.reassign"), 1);
  EXPECT_EQ(this->Connections().size(), 1u);
}

// Issue 13 (least privilege, security.md 6): a key with only `read` cannot make the provider
// change anything through the proxy, and an encoded ".." cannot move a call to another service.
TYPED_TEST_P(ConnectSuite, AReadOnlyKeyCannotWriteThroughTheProxy) {
  const std::string id = this->ConnectGoogle();
  ASSERT_FALSE(id.empty());
  TestResponse k =
      this->Call("POST", "/v1/api-keys", R"({"name":"reader","scopes":["read"]})", this->key_);
  ASSERT_EQ(k.status, 201) << k.body;
  const std::string reader = k.JsonBody().value("key", "");
  const std::string events = "/v1/proxy/" + id + "/calendar/v3/calendars/primary/events";
  const std::string event = Json{{"summary", "x"},
                                 {"start", {{"dateTime", "2026-12-01T10:00:00Z"}}},
                                 {"end", {{"dateTime", "2026-12-01T11:00:00Z"}}}}
                                .dump();
  const int before = this->SandboxRequests(SandboxOrigin::kGoogle, "/calendar/v3/");
  TestResponse refused = this->Call("POST", events, event, reader);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_NE(refused.body.find("'write' scope"), std::string::npos) << refused.body;
  EXPECT_EQ(this->Call("DELETE", events + "/e1", "", reader).status, 403);
  EXPECT_EQ(
      this->Call("POST", "/v1/proxy/" + id + "/calendar/v3/%2e%2e/x", "{}", this->key_).status,
      400);
  EXPECT_EQ(this->SandboxRequests(SandboxOrigin::kGoogle, "/calendar/v3/"), before);
  // Reads work with the read key; the write key still writes.
  EXPECT_EQ(this->Call("GET", events, "", reader).status, 200);
  EXPECT_EQ(this->Call("POST", events, event, this->key_).status, 200);
}

// Issue 13, per-tenant quotas: a tenant at quotas.connections cannot add a connection. The
// callback ends on a clear 422 page, writes no connection, token or event (only its audit
// entry), and reconnecting an account the tenant already has still works.
TYPED_TEST_P(ConnectSuite, ConnectionQuotaEndsTheCallbackOnAClearPage) {
  const std::string id = this->ConnectGoogle();
  ASSERT_FALSE(id.empty());
  this->PutIntegration(SandboxOrigin::kMicrosoft, this->key_);
  auto browser = this->NewBrowser();
  auto refused = this->Connect(*browser, this->NewSession(this->key_, "alice@contoso.example"),
                               SandboxOrigin::kMicrosoft);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(refused->status, 422);
  EXPECT_NE(refused->body.find("No more accounts can be connected"), std::string::npos)
      << refused->body;
  const Json all = this->Connections();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].value("id", ""), id);
  EXPECT_EQ(this->CountAudit("connection.create"), 1);
  EXPECT_EQ(this->CountAudit("oauth.callback", "connection_quota_exceeded"), 1);
  // The account already connected reconnects.
  auto again = this->Connect(*this->NewBrowser(), this->NewSession(this->key_, "alice@example.com"),
                             SandboxOrigin::kGoogle);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(this->ConnectionIdFrom(*again), id);
}

// The hosted page names the tenant that asks and shows its logo, set through the API as a
// checked data: URI (nothing is loaded from elsewhere); bad logos are refused.
TYPED_TEST_P(ConnectSuite, ThePageShowsTheTenantsNameAndLogo) {
  const std::string png = Base64Encode(std::string("\x89PNG\r\n\x1a\n", 8) + "pixels");
  const std::string logo = "data:image/png;base64," + png;
  TestResponse patched =
      this->Call("PATCH", "/v1/tenants/" + this->tenant_, Json{{"logo", logo}}.dump(), this->key_);
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.JsonBody()["logo"], logo);
  for (const std::string& bad :
       {std::string("https://cdn.example/logo.png"),
        std::string("data:image/svg+xml;base64,PHN2Zz4="), "data:image/gif;base64," + png}) {
    TestResponse refused =
        this->Call("PATCH", "/v1/tenants/" + this->tenant_, Json{{"logo", bad}}.dump(), this->key_);
    EXPECT_EQ(refused.status, 400) << bad;
  }
  auto browser = this->NewBrowser();
  auto page = browser->Get(this->NewSession(this->key_, "alice@example.com"));
  ASSERT_TRUE(page.ok());
  EXPECT_NE(page->body.find("<img src=\"" + logo + "\""), std::string::npos);
  EXPECT_NE(page->body.find("T asks to connect"), std::string::npos);
  // Removing it.
  ASSERT_EQ(
      this->Call("PATCH", "/v1/tenants/" + this->tenant_, R"({"logo":null})", this->key_).status,
      200);
  page = browser->Get(this->NewSession(this->key_, "alice@example.com"));
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->body.find("<img"), std::string::npos);
  // Audited by size and digest, not the image.
  TestResponse audit = this->Call("GET", "/v1/audit?action=tenant.update", "", this->key_);
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_NE(audit.body.find("logo_sha256"), std::string::npos);
  EXPECT_EQ(audit.body.find(png), std::string::npos);
}

// A failed callback (the user said no) offers "Try again" to the browser that started the
// session, while the session lasts. The retry is a new attempt (new state, PKCE verifier and
// browser binding) that connects; the failed state stays used up, another browser gets no link,
// and the token shows up nowhere new. Once the session has expired, the page says so instead.
TYPED_TEST_P(ConnectSuite, TryAgainAfterAFailedCallbackConnects) {
  const auto google = SandboxOrigin::kGoogle;
  this->PutIntegration(google, this->key_);
  const std::string session = this->NewSession(this->key_, "alice@example.com");
  const std::string token = session.substr(session.rfind('/') + 1);
  auto browser = this->NewBrowser();
  // The page explains the service at the level offered, in the catalog's words.
  auto page = browser->Get(session);
  ASSERT_TRUE(page.ok());
  EXPECT_NE(page->body.find(HtmlEscape(
                oauth::ServiceExplanation(this->CatalogEntry("google"), "calendar", true))),
            std::string::npos)
      << page->body;

  ASSERT_TRUE(this->sandbox_->PutSettings(google, {{"consent_decision", "deny"}}).ok());
  browser->StopAt([](std::string_view url) { return url.find("/connect/callback") != url.npos; });
  auto at_callback = this->Connect(*browser, session, google);
  ASSERT_TRUE(at_callback.ok()) << at_callback.status().ToString();
  const std::string callback = at_callback->url;
  browser->StopAt([](std::string_view url) { return url.starts_with(kReturnUrl); });
  const std::string retry_link = "href=\"/connect/" + token + "\" id=\"connect-error-retry\"";

  // Another browser (no cookies) learns nothing of the session, and the state stays usable.
  auto stranger = this->NewBrowser();
  auto foreign = stranger->Get(callback);
  ASSERT_TRUE(foreign.ok());
  EXPECT_EQ(foreign->status, 400);
  EXPECT_EQ(foreign->body.find(token), std::string::npos) << foreign->body;
  EXPECT_EQ(foreign->body.find("connect-error-retry"), std::string::npos);

  auto denied = browser->Get(callback);
  ASSERT_TRUE(denied.ok());
  EXPECT_EQ(denied->status, 403);
  EXPECT_NE(denied->body.find("access_denied"), std::string::npos);
  EXPECT_NE(denied->body.find(retry_link), std::string::npos) << denied->body;
  EXPECT_NE(denied->body.find("id=\"connect-error-back\">Back to the app"), std::string::npos);
  EXPECT_EQ(denied->Header("content-security-policy").find("http"), std::string::npos);
  // Reloading the page: the state is used up, and the way back to the session remains.
  auto reloaded = browser->Get(callback);
  ASSERT_TRUE(reloaded.ok());
  EXPECT_NE(reloaded->body.find("state_replayed"), std::string::npos);
  EXPECT_NE(reloaded->body.find(retry_link), std::string::npos) << reloaded->body;

  // "Try again": the session's page, a new authorization, a connection.
  ASSERT_TRUE(this->sandbox_->PutSettings(google, {{"consent_decision", "allow"}}).ok());
  auto done = this->Connect(*browser, this->PublicUrl() + "/connect/" + token, google);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->status, 303) << done->body;
  const std::string id = this->ConnectionIdFrom(*done);
  ASSERT_FALSE(id.empty()) << done->url;
  EXPECT_EQ(this->Connection(id)["status"], "active");
  EXPECT_EQ(this->CountAudit("oauth.authorize"), 2);
  // The failed attempt's state cannot be used again.
  auto replayed = browser->Get(callback);
  ASSERT_TRUE(replayed.ok());
  EXPECT_NE(replayed->body.find("state_replayed"), std::string::npos);
  EXPECT_EQ(this->Connections().size(), 1u);
  // The token is in no audit entry (its secret part, which follows the tenant id).
  const std::string secret = token.substr(token.find('.') + 1);
  EXPECT_EQ(this->Call("GET", "/v1/audit?limit=1000", "", this->key_).body.find(secret),
            std::string::npos);

  // An expired session: said plainly, and only the way back.
  ASSERT_TRUE(this->sandbox_->PutSettings(google, {{"consent_decision", "deny"}}).ok());
  auto browser2 = this->NewBrowser();
  const std::string late = this->CallbackUrl(*browser2, google);
  this->clock_.Advance(std::chrono::minutes(61));
  auto expired = browser2->Get(late);
  this->clock_.Advance(-std::chrono::minutes(61));
  ASSERT_TRUE(expired.ok());
  EXPECT_NE(expired->body.find("state_expired"), std::string::npos) << expired->body;
  EXPECT_NE(expired->body.find("This connect link has expired"), std::string::npos);
  EXPECT_EQ(expired->body.find("connect-error-retry"), std::string::npos);
  EXPECT_NE(expired->body.find("connect-error-back"), std::string::npos);
}

REGISTER_TYPED_TEST_SUITE_P(
    ConnectSuite, ThePageShowsTheTenantsNameAndLogo, TryAgainAfterAFailedCallbackConnects,
    FullFlowCreatesOneConnectionPerAccount, ScopesTheUserDidNotGrantAreReported,
    StateAttacksEndOnAPageAndAnAuditEntry, IssuerMismatchIsRefused,
    RefreshRotatesAndARevokedGrantNeedsReauthorization, PatchAndDeleteWithRevocation,
    ConnectionEventsAreDeliveredSigned, KillSwitchStopsCallsToAProvider,
    KillSwitchStopsACallInFlight, ALargeUploadStreamsThroughTheProxy,
    TricklingUploadsDoNotStarveOtherTenants, HealthAlertsOncePerIncident,
    ARejectedTokenIsAnIncidentAtOnce, TheSummaryListsOpenIncidentsOfItsTenant,
    ScheduledHealthChecksRunOnTheJobQueue, UsageCountsCallsPerTenant,
    RequestsFromOutsideCannotGrowTheDatabase, StartAcceptsOnlyTheFormOfItsOwnPage,
    AnAccountIsNeverSilentlyMovedToAnotherEndUser, AReadOnlyKeyCannotWriteThroughTheProxy,
    ConnectionQuotaEndsTheCallbackOnAClearPage);

}  // namespace sb::app::testing
