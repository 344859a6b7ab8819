// The HTTP API conformance suite, written once and instantiated per storage backend
// (server_app_test.cc: SQLite, server_app_pgtest.cc: PostgreSQL). It starts the real server
// through ServerApp on 127.0.0.1 port 0 and drives it with TestHttpClient.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "sb/app/server_app.h"
#include "sb/app/testing/test_http_client.h"
#include "sb/base/testing/fake_clock.h"
#include "sb/store/testing/test_backends.h"

namespace sb::app::testing {

template <typename Backend>
class ApiSuite : public ::testing::Test {
 protected:
  // Overridable per test before Boot(): limits, body size.
  config::Config config_;
  std::filesystem::path keys_dir_;

  void SetUp() override {
    config_.server.listen_address = "127.0.0.1";
    config_.server.port = 0;
    config_.server.io_threads = 2;
    config_.server.worker_threads = 4;
    config_.limits.requests_per_second = 1000;
    config_.limits.burst = 1000;
    config_.metrics.token = kMetricsToken;
    config_.public_limits.requests_per_second = 1000;
    config_.public_limits.burst = 1000;
    // Development keys, generated on first use, in a directory of this test's own.
    keys_dir_ = std::filesystem::temp_directory_path() /
                ("sb-api-keys-" + std::to_string(random_.Uint64()));
    std::filesystem::create_directories(keys_dir_);
    config_.vault.key_file = (keys_dir_ / "master.key").string();
    config_.audit.key_file = (keys_dir_ / "audit.key").string();
  }

  void Boot() {
    auto migrated = store::testing::OpenMigrated(backend_);
    ASSERT_TRUE(migrated.ok()) << migrated.status().ToString();
    config_.database.url = AppUrl();
    config_.database.maintenance_url = MaintenanceUrl();
    config_.database.migration_url = config_.database.url;
    auto app = ServerApp::Create(config_, clock_, random_);
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = std::move(*app);
    auto port = app_->Start();
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
    const audit::Context setup{audit::Actor{audit::ActorKind::kCli, "test-setup"}, ""};
    // The deployment operator: a key of the system tenant (which the PostgreSQL suites, sharing
    // one database, create once).
    auto admin_tenant = app_->tenants().CreateSystem(setup, "Operator");
    ASSERT_TRUE(admin_tenant.ok() || admin_tenant.status().code() == StatusCode::kAlreadyExists);
    admin_tenant_ = audit::SystemTenant().value();
    auto admin = app_->api_keys().Create(setup, audit::SystemTenant(), "operator",
                                         {tenancy::Scope::kOperator, tenancy::Scope::kAdmin,
                                          tenancy::Scope::kRead, tenancy::Scope::kWrite});
    ASSERT_TRUE(admin.ok());
    admin_key_ = admin->plaintext;
  }

  void TearDown() override {
    if (app_) app_->Stop(std::chrono::milliseconds(2000));
    app_.reset();
    std::filesystem::remove_all(keys_dir_);
  }

  std::string AppUrl();
  // The BYPASSRLS maintenance role for cross-tenant work (job leasing, refresh scheduling).
  std::string MaintenanceUrl();

  TestResponse Call(const std::string& method, const std::string& target,
                    const std::string& body = "", const std::string& key = "") {
    TestHttpClient client(port_);
    return client.Send(method, target, body, key);
  }

  // OA-06: the tenant's host app lives at https://app.example (the tests' return URLs).
  void AllowReturnOrigin(const std::string& tenant, const std::string& key) {
    TestResponse r = Call("PATCH", "/v1/tenants/" + tenant,
                          Json{{"return_url_origins", {"https://app.example"}}}.dump(), key);
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // GET /metrics with the suite's metrics token.
  TestResponse Metrics() { return Call("GET", "/metrics", "", kMetricsToken); }

  static constexpr char kMetricsToken[] = "metrics-scraper-token-0123456789abcdef";
  // As Call, from the client address `source` (e.g. "127.0.0.2"), with extra `headers`.
  TestResponse CallFrom(const std::string& source, const std::string& method,
                        const std::string& target, const std::string& body = "",
                        const std::string& key = "",
                        const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    TestHttpClient client(port_, source);
    return client.Send(method, target, body, key, headers);
  }

  // Creates a tenant through the API and a key with `scopes` in it; returns {tenant id, key}.
  std::pair<std::string, std::string> NewTenantWithKey(const std::string& scopes_json) {
    TestResponse t = Call("POST", "/v1/tenants", R"({"name":"T"})", admin_key_);
    EXPECT_EQ(t.status, 201) << t.body;
    std::string id = t.JsonBody().value("id", "");
    TestResponse k = Call(
        "POST", "/v1/api-keys",
        R"({"name":"k","scopes":)" + scopes_json + R"(,"tenant_id":")" + id + R"("})", admin_key_);
    EXPECT_EQ(k.status, 201) << k.body;
    return {id, k.JsonBody().value("key", "")};
  }

  Backend backend_;
  sb::testing::FakeClock clock_;
  SystemRandom random_;
  std::unique_ptr<ServerApp> app_;
  uint16_t port_ = 0;
  std::string admin_tenant_;
  std::string admin_key_;
};

template <>
inline std::string ApiSuite<store::testing::SqliteTestBackend>::AppUrl() {
  return "sqlite:" + backend_.path().string();
}
template <>
inline std::string ApiSuite<store::testing::SqliteTestBackend>::MaintenanceUrl() {
  return AppUrl();
}

}  // namespace sb::app::testing
