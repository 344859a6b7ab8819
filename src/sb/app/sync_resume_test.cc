// A node killed with SIGKILL in the middle of an initial calendar sync (issue 15: "a node killed
// mid-run resumes from its last page, with no duplicate and no missed change"). Two real
// `switchboard serve` processes share one SQLite file in turn: the first is killed once the run
// has committed a few pages; the second takes the job over when its lease runs out and must
// finish the run from its checkpoint: every provider event stored once, announced once in the
// change feed, and no page listing started over.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <unistd.h>

#include "sb/app/testing/sandbox_process.h"
#include "sb/app/testing/switchboard_process.h"
#include "sb/app/testing/test_http_client.h"
#include "sb/base/encoding.h"
#include "sb/base/random.h"
#include "sb/net/testing/browser.h"

namespace sb::app {
namespace {

using testing::HiddenFieldValue;
using testing::SandboxOrigin;
using testing::SandboxProcess;
using testing::SwitchboardProcesses;
using testing::TestHttpClient;
using testing::TestResponse;

constexpr char kClientId[] = "resume-test.apps.googleusercontent.com";
constexpr char kSecret[] = "resume-client-secret";
constexpr char kReturnUrl[] = "https://app.example/done";
constexpr char kEmail[] = "alice@example.com";
constexpr int kEvents = 600;  // with exceptions, about 700 items: 14 pages of 50
constexpr int kPagesBeforeKill = 4;

class SyncResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("sb-resume-" + std::to_string(::getpid()) + "-" +
                                                  std::to_string(random_.Uint64() % 100000));
    std::filesystem::create_directories(dir_);
    auto sandbox = SandboxProcess::Start();
    ASSERT_TRUE(sandbox.ok()) << sandbox.status().ToString();
    sandbox_ = std::move(*sandbox);
    processes_ = std::make_unique<SwitchboardProcesses>(
        SB_SWITCHBOARD_BINARY, dir_,
        std::vector<std::string>{
            "SWITCHBOARD_DATABASE_URL=sqlite:" + (dir_ / "sb.db").string(),
            "SWITCHBOARD_SERVER_LISTEN=127.0.0.1:0", "SWITCHBOARD_SERVER_SHUTDOWN_GRACE_MS=2000",
            // A dead node's job is taken over after 2 s (heartbeats every ~0.7 s).
            "SWITCHBOARD_JOBS_LEASE_MS=2000",
            "SWITCHBOARD_VAULT_KEY_FILE=" + (dir_ / "master.key").string(),
            "SWITCHBOARD_AUDIT_KEY_FILE=" + (dir_ / "audit.key").string(),
            "SWITCHBOARD_PROVIDERS_GOOGLE_URL=" + sandbox_->google_url(),
            "SWITCHBOARD_PROVIDERS_MICROSOFT_URL=" + sandbox_->microsoft_url(),
            "SWITCHBOARD_PROVIDERS_CA_FILE=" + sandbox_->ca_file(), "USER=resume-test"});
  }

  void TearDown() override {
    if (HasFailure() && processes_) std::cerr << processes_->ErrTails(4000);
    processes_.reset();
    sandbox_.reset();
    std::filesystem::remove_all(dir_);
  }

  // The database migrated, a tenant and its API key (the tenant's id in tenant_).
  std::string TenantKey() {
    SwitchboardProcesses& p = *processes_;
    EXPECT_EQ(p.Run("migrate", {"migrate", "up"}), 0) << p.Read("migrate.err");
    auto made = p.CreateTenant("resume");
    EXPECT_FALSE(made.key.empty()) << p.ErrTails(2000);
    tenant_ = made.tenant;
    return made.key;
  }

  // Connects the sandbox's Google account through the real connect flow: the connection id.
  std::string Connect(TestHttpClient& http, const std::string& key) {
    TestResponse put =
        http.Send("PUT", "/v1/integrations/google",
                  Json{{"client_id", kClientId},
                       {"client_secret", kSecret},
                       {"services", Json::array({{{"service", "calendar"}, {"access", "read"}}})}}
                      .dump(),
                  key);
    EXPECT_EQ(put.status, 201) << put.body;
    TestResponse origins =
        http.Send("PATCH", "/v1/tenants/" + tenant_,
                  Json{{"return_url_origins", {"https://app.example"}}}.dump(), key);
    EXPECT_EQ(origins.status, 200) << origins.body;
    TestResponse session = http.Send(
        "POST", "/v1/connect/sessions",
        Json{{"end_user", {{"id", "u1"}, {"email", kEmail}}}, {"return_url", kReturnUrl}}.dump(),
        key);
    EXPECT_EQ(session.status, 201) << session.body;
    const std::string url = session.JsonBody().value("url", "");
    net::testing::Browser browser({sandbox_->ca_file()});
    browser.StopAt([](std::string_view u) { return u.starts_with(kReturnUrl); });
    auto page = browser.Get(url);
    if (!page.ok()) return "";
    auto done = browser.PostForm(url + "/start", {{"provider", "google"},
                                                  {"service", "calendar:read"},
                                                  {"csrf", HiddenFieldValue(page->body, "csrf")}});
    EXPECT_TRUE(done.ok()) << done.status().ToString();
    if (!done.ok()) return "";
    const size_t at = done->url.find("connection_id=");
    EXPECT_NE(at, std::string::npos) << done->url;
    return at == std::string::npos ? "" : done->url.substr(at + 14, 36);
  }

  std::filesystem::path dir_;
  std::string tenant_;
  std::unique_ptr<SandboxProcess> sandbox_;
  std::unique_ptr<SwitchboardProcesses> processes_;
  SystemRandom random_;
};

Json Get(TestHttpClient& http, const std::string& path, const std::string& key) {
  TestResponse r = http.Send("GET", path, "", key);
  EXPECT_EQ(r.status, 200) << path << ": " << r.body;
  return r.status == 200 ? r.JsonBody() : Json::object();
}

TEST_F(SyncResumeTest, AKilledNodesRunIsResumedFromItsLastPage) {
  ASSERT_TRUE(sandbox_->RegisterClient(SandboxOrigin::kGoogle, kClientId, kSecret, {}).ok());
  auto account = sandbox_->CreateAccount(SandboxOrigin::kGoogle, {{"email", kEmail}});
  ASSERT_TRUE(account.ok());
  ASSERT_TRUE(sandbox_
                  ->Control(SandboxOrigin::kGoogle, "POST",
                            "/_sandbox/accounts/" + (*account)["id"].get<std::string>() + "/seed",
                            Json{{"events", kEvents}, {"seed", 5}})
                  .ok());
  // Small, slow pages: the run lasts long enough to be killed in the middle.
  ASSERT_TRUE(
      sandbox_->PutSettings(SandboxOrigin::kGoogle, Json{{"calendar_max_page_size", 50}}).ok());
  ASSERT_TRUE(sandbox_
                  ->Control(SandboxOrigin::kGoogle, "POST", "/_sandbox/faults",
                            {{"method", "GET"},
                             {"path", "/calendar/v3/calendars/"},
                             {"kind", "latency"},
                             {"latency_ms", 150},
                             {"count", 100000}})
                  .ok());

  const std::string key = TenantKey();
  ASSERT_FALSE(key.empty());
  const uint16_t port_a = processes_->Serve("serve-a");
  ASSERT_NE(port_a, 0);
  TestHttpClient a(port_a);
  const std::string id = Connect(a, key);
  ASSERT_FALSE(id.empty());

  // Kill A once the run has committed a few pages (the live progress shows them).
  std::string run_id;
  int pages_at_kill = 0;
  for (int i = 0; i < 1000 && pages_at_kill < kPagesBeforeKill; ++i) {
    const Json state = Get(a, "/v1/connections/" + id + "/sync", key);
    if (state.contains("data") && !state["data"].empty() &&
        state["data"][0]["last_run_id"].is_string()) {
      run_id = state["data"][0]["last_run_id"].get<std::string>();
      pages_at_kill = Get(a, "/v1/sync-runs/" + run_id, key).value("pages", 0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GE(pages_at_kill, kPagesBeforeKill) << "the run did not get going";
  processes_->Kill("serve-a");
  const auto killed = std::chrono::steady_clock::now();

  // B, on the same database, finishes the run once A's lease has run out.
  const uint16_t port_b = processes_->Serve("serve-b");
  ASSERT_NE(port_b, 0);
  TestHttpClient b(port_b);
  Json run;
  for (int i = 0; i < 1500; ++i) {
    run = Get(b, "/v1/sync-runs/" + run_id, key);
    const std::string status = run.value("status", "");
    if (status != "queued" && status != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(run.value("status", ""), "succeeded") << run;
  EXPECT_GT(run.value("pages", 0), pages_at_kill) << run;
  std::cout << "killed after " << pages_at_kill << " pages; resumed and finished at "
            << run.value("pages", 0) << " pages, "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - killed)
                   .count()
            << " ms after the kill\n";

  // No listing started over: each calendar's first page (no pageToken) was asked for once.
  auto log = sandbox_->Requests(SandboxOrigin::kGoogle, "/calendar/v3/calendars/");
  ASSERT_TRUE(log.ok());
  std::map<std::string, int> first_pages;
  for (const Json& entry : *log) {
    const std::string path = entry.value("path", "");
    if (entry.value("method", "") != "GET" || !path.ends_with("/events")) continue;
    bool paged = false;
    for (const Json& q : entry["query"])
      paged = paged || q[0] == "pageToken" || q[0] == "syncToken";
    if (!paged) ++first_pages[path];
  }
  EXPECT_FALSE(first_pages.empty());
  for (const auto& [path, count] : first_pages) EXPECT_EQ(count, 1) << path;

  // Fast, large pages again for reading the provider's events.
  ASSERT_TRUE(sandbox_->Control(SandboxOrigin::kGoogle, "DELETE", "/_sandbox/faults").ok());
  ASSERT_TRUE(
      sandbox_->PutSettings(SandboxOrigin::kGoogle, Json{{"calendar_max_page_size", 2500}}).ok());

  // Every provider event is stored once ...
  std::set<std::string> provider;
  std::string token;
  for (int page = 0; page < 100; ++page) {
    const Json body =
        Get(b,
            "/v1/proxy/" + id + "/calendar/v3/calendars/primary/events?maxResults=2500" +
                (token.empty() ? "" : "&pageToken=" + PercentEncode(token)),
            key);
    for (const Json& e : body.value("items", Json::array())) provider.insert(e.value("id", ""));
    token = body.value("nextPageToken", "");
    if (token.empty()) break;
  }
  std::multiset<std::string> stored;
  std::string cursor;
  for (int page = 0; page < 100; ++page) {
    const Json body = Get(b,
                          "/v1/connections/" + id + "/events?limit=1000" +
                              (cursor.empty() ? "" : "&cursor=" + cursor),
                          key);
    for (const Json& e : body.value("data", Json::array())) {
      stored.insert(e.value("provider_id", ""));
    }
    if (!body["next_cursor"].is_string()) break;
    cursor = body["next_cursor"].get<std::string>();
  }
  EXPECT_GT(provider.size(), static_cast<size_t>(kEvents));
  EXPECT_EQ(std::set<std::string>(stored.begin(), stored.end()), provider);
  EXPECT_EQ(stored.size(), provider.size()) << "an event is stored twice";

  // ... and announced once: the change feed has one event.created per event, nothing else.
  std::map<std::string, int> created;
  int other_event_changes = 0;
  std::string feed = "0";
  for (int page = 0; page < 1000; ++page) {
    const Json body = Get(b, "/v1/changes?limit=1000&cursor=" + feed, key);
    for (const Json& c : body.value("data", Json::array())) {
      const std::string type = c.value("type", "");
      if (type == "event.created") {
        ++created[c["data"]["event"].value("provider_id", "")];
      } else if (type.starts_with("event.")) {
        ++other_event_changes;
      }
    }
    feed = body.value("next_cursor", feed);
    if (!body.value("has_more", false)) break;
  }
  EXPECT_EQ(created.size(), provider.size());
  for (const auto& [event, count] : created) EXPECT_EQ(count, 1) << event;
  EXPECT_EQ(other_event_changes, 0);
}

}  // namespace
}  // namespace sb::app
