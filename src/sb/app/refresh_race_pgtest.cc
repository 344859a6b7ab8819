// OA-10 across processes: two real `switchboard serve` processes share one PostgreSQL; the
// sandbox's Microsoft identity platform rotates refresh tokens and kills the old one on every
// refresh. Both processes force refreshes of the same 50 connections from many clients at once
// for a bounded time. Single-flight refresh (a lease in the database plus a compare-and-set on
// the token version) must give: no invalid_grant, no lost refresh token (one more refresh of
// each connection succeeds afterwards), every connection still active.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <unistd.h>

#include "sb/app/testing/sandbox_process.h"
#include "sb/app/testing/switchboard_process.h"
#include "sb/app/testing/test_http_client.h"
#include "sb/base/random.h"
#include "sb/net/testing/browser.h"
#include "sb/store/testing/postgres_environment.h"
#include "sb/store/testing/test_backends.h"

namespace sb::app {
namespace {

using testing::HiddenFieldValue;
using testing::SandboxOrigin;
using testing::SandboxProcess;
using testing::SwitchboardProcesses;
using testing::TestHttpClient;
using testing::TestResponse;

constexpr int kConnections = 50;
constexpr int kClientsPerProcess = 6;
constexpr auto kRaceFor = std::chrono::seconds(6);
constexpr char kClientId[] = "7c0ffee0-0000-4000-8000-00000000face";
constexpr char kSecret[] = "race-client-secret";
constexpr char kReturnUrl[] = "https://app.example/done";

class RefreshRaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sb-race-" + std::to_string(::getpid()) + "-" +
                                                     std::to_string(random_.Uint64() % 100000));
    std::filesystem::create_directories(dir_);
    store::testing::PostgresTestBackend backend;
    ASSERT_TRUE(store::testing::OpenMigrated(backend).ok());
    auto& pg = store::testing::PostgresEnvironment::server();
    std::vector<std::string> env = {"SWITCHBOARD_DATABASE_URL=" + pg.app_url(),
                                    "SWITCHBOARD_DATABASE_MIGRATION_URL=" + pg.owner_url(),
                                    "SWITCHBOARD_DATABASE_MAINTENANCE_URL=" + pg.maintenance_url(),
                                    "SWITCHBOARD_DATABASE_POOL_SIZE=8",
                                    "SWITCHBOARD_SERVER_LISTEN=127.0.0.1:0",
                                    "SWITCHBOARD_SERVER_WORKER_THREADS=8",
                                    "SWITCHBOARD_SERVER_SHUTDOWN_GRACE_MS=2000",
                                    "SWITCHBOARD_LIMITS_REQUESTS_PER_SECOND=1000000",
                                    "SWITCHBOARD_LIMITS_BURST=1000000",
                                    "SWITCHBOARD_PUBLIC_REQUESTS_PER_SECOND=1000000",
                                    "SWITCHBOARD_PUBLIC_BURST=1000000",
                                    "SWITCHBOARD_REFRESH_INTERVAL_MS=250",
                                    "SWITCHBOARD_VAULT_KEY_FILE=" + (dir_ / "master.key").string(),
                                    "SWITCHBOARD_AUDIT_KEY_FILE=" + (dir_ / "audit.key").string(),
                                    "USER=race-test"};
    auto sandbox = SandboxProcess::Start();
    ASSERT_TRUE(sandbox.ok()) << sandbox.status().ToString();
    sandbox_ = std::move(*sandbox);
    env.push_back("SWITCHBOARD_PROVIDERS_MICROSOFT_URL=" + sandbox_->microsoft_url());
    env.push_back("SWITCHBOARD_PROVIDERS_GOOGLE_URL=" + sandbox_->google_url());
    env.push_back("SWITCHBOARD_PROVIDERS_CA_FILE=" + sandbox_->ca_file());
    processes_ = std::make_unique<SwitchboardProcesses>(SB_SWITCHBOARD_BINARY, dir_, env);
  }

  void TearDown() override {
    if (HasFailure() && processes_) std::cerr << processes_->ErrTails(4000);
    processes_.reset();
    sandbox_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<SwitchboardProcesses> processes_;
  std::unique_ptr<SandboxProcess> sandbox_;
  SystemRandom random_;
};

TEST_F(RefreshRaceTest, TwoProcessesRefreshingTheSameConnectionsLoseNothing) {
  // Sandbox: a rotating provider whose old refresh tokens die at once.
  ASSERT_TRUE(
      sandbox_->PutSettings(SandboxOrigin::kMicrosoft, {{"invalidate_old_refresh_on_rotate", true}})
          .ok());
  ASSERT_TRUE(sandbox_->RegisterClient(SandboxOrigin::kMicrosoft, kClientId, kSecret, {}).ok());

  // A tenant and an API key through the CLI, as an operator would.
  SwitchboardProcesses& p = *processes_;
  const SwitchboardProcesses::TenantKey made = p.CreateTenant("race");
  ASSERT_FALSE(made.key.empty()) << p.ErrTails(2000);
  const std::string& tenant = made.tenant;
  const std::string& key = made.key;

  const uint16_t port_a = p.Serve("serve-a");
  const uint16_t port_b = p.Serve("serve-b");
  ASSERT_NE(port_a, 0);
  ASSERT_NE(port_b, 0);
  TestHttpClient a(port_a);
  TestResponse put =
      a.Send("PUT", "/v1/integrations/microsoft",
             Json{{"client_id", kClientId},
                  {"client_secret", kSecret},
                  {"services", Json::array({{{"service", "calendar"}, {"access", "read_write"}}})}}
                 .dump(),
             key);
  ASSERT_EQ(put.status, 201) << put.body;
  TestResponse origins = a.Send("PATCH", "/v1/tenants/" + tenant,
                                Json{{"return_url_origins", {"https://app.example"}}}.dump(), key);
  ASSERT_EQ(origins.status, 200) << origins.body;

  // 50 connections through the real connect flow on process A.
  std::vector<std::string> ids;
  for (int i = 0; i < kConnections; ++i) {
    const std::string email = "user" + std::to_string(i) + "@contoso.example";
    ASSERT_TRUE(sandbox_->CreateAccount(SandboxOrigin::kMicrosoft, {{"email", email}}).ok());
    TestResponse session =
        a.Send("POST", "/v1/connect/sessions",
               Json{{"end_user", {{"id", "u" + std::to_string(i)}, {"email", email}}},
                    {"return_url", kReturnUrl}}
                   .dump(),
               key);
    ASSERT_EQ(session.status, 201) << session.body;
    const std::string url = session.JsonBody()["url"];
    net::testing::Browser browser({sandbox_->ca_file()});
    browser.StopAt([](std::string_view u) { return u.starts_with(kReturnUrl); });
    auto page = browser.Get(url);
    ASSERT_TRUE(page.ok());
    auto done = browser.PostForm(url + "/start", {{"provider", "microsoft"},
                                                  {"csrf", HiddenFieldValue(page->body, "csrf")}});
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    ASSERT_EQ(done->status, 303) << done->body;
    const size_t at = done->url.find("connection_id=");
    ASSERT_NE(at, std::string::npos) << done->url;
    ids.push_back(done->url.substr(at + 14, 36));
  }

  // The race: every client walks all 50 connections, forcing a refresh of each, for a while.
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::map<int, int> statuses;  // HTTP status -> count
  std::vector<std::string> failures;
  auto client = [&](uint16_t port, int offset) {
    TestHttpClient http(port);
    std::map<int, int> mine;
    for (int n = offset; !stop.load(); ++n) {
      const std::string& id = ids[static_cast<size_t>(n) % ids.size()];
      TestResponse r = http.Send("POST", "/v1/connections/" + id + "/refresh", "", key);
      ++mine[r.status];
      if (r.status != 200) {
        std::lock_guard lock(mu);
        if (failures.size() < 10) failures.push_back(std::to_string(r.status) + " " + r.body);
      }
    }
    std::lock_guard lock(mu);
    for (auto [s, c] : mine) statuses[s] += c;
  };
  std::vector<std::thread> clients;
  for (int c = 0; c < kClientsPerProcess; ++c) {
    clients.emplace_back(client, port_a, c * 7);
    clients.emplace_back(client, port_b, c * 7 + 3);
  }
  std::this_thread::sleep_for(kRaceFor);
  stop = true;
  for (auto& t : clients) t.join();

  int total = 0;
  for (auto [s, c] : statuses) total += c;
  EXPECT_GT(statuses[200], kConnections) << "the race barely ran";
  EXPECT_EQ(statuses[200], total) << (failures.empty() ? "" : failures.front());
  std::cout << "forced refreshes answered: " << total << " (" << statuses[200] << " OK)\n";

  // Every connection is active, and its stored refresh token is the live one: one more
  // refresh of each, on process B, succeeds.
  TestHttpClient b(port_b);
  for (const std::string& id : ids) {
    TestResponse before = b.Send("GET", "/v1/connections/" + id, "", key);
    ASSERT_EQ(before.status, 200);
    EXPECT_EQ(before.JsonBody()["status"], "active") << before.body;
    TestResponse again = b.Send("POST", "/v1/connections/" + id + "/refresh", "", key);
    EXPECT_EQ(again.status, 200) << again.body;
    EXPECT_EQ(again.JsonBody()["refreshed"], true);
    EXPECT_EQ(again.JsonBody()["connection"]["status"], "active");
  }
  // No refresh failed anywhere (no invalid_grant from the provider).
  TestResponse failed =
      b.Send("GET", "/v1/audit?action=connection.refresh&outcome=failure&limit=100", "", key);
  ASSERT_EQ(failed.status, 200) << failed.body;
  EXPECT_TRUE(failed.JsonBody()["data"].empty()) << failed.body;
}

}  // namespace
}  // namespace sb::app

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new sb::store::testing::PostgresEnvironment);
  return RUN_ALL_TESTS();
}
