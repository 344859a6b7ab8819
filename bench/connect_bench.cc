// Connect flow and token refresh throughput (not a test), against the real switchboard-sandbox
// with Switchboard in process on SQLite:
//
//   flows       complete connect flows per second, end to end over HTTP: create a session
//               (API), open the hosted page, submit the choice, follow the provider's
//               authorization (auto-consent) back to the callback (code exchange, ID token
//               validation, connection stored), stop at the host app's return URL; each client
//               thread with its own cookie-keeping browser.
//   baseline    in the same run, the provider's share of a flow alone: the sandbox's
//               authorization redirect and the code exchange with PKCE, same threads.
//   refresh     refreshes per second with N connections whose access tokens all expire within
//               the same minute and are all due: refresh scheduler passes that queue a refresh
//               job per due connection, run by the job runner (`concurrency` job threads), until
//               none is left (ServerApp::RunDueRefreshes); each refresh takes the lease, decrypts
//               the client secret and the refresh token, calls the provider, stores the new
//               token with a compare-and-set and writes an audit entry.
//   raw refresh in the same run, refresh_token grants sent straight to the sandbox with the same
//               concurrency (the provider's share).
//
//   connect_bench [seconds=5] [threads=4] [connections=10000] [concurrency=4]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include "bench_support.h"

#include "sb/app/server_app.h"
#include "sb/app/testing/sandbox_process.h"
#include "sb/app/testing/test_http_client.h"
#include "sb/base/encoding.h"
#include "sb/base/logging.h"
#include "sb/net/curl_http_client.h"
#include "sb/net/testing/browser.h"
#include "sb/oauth/pkce.h"
#include "sb/oauth/token_client.h"
#include "sb/store/connections/connect_repository.h"
#include "sb/store/migrations/migrator.h"
#include "sb/store/open_database.h"

namespace {

using sb::Json;
using sb::app::testing::SandboxOrigin;
using namespace sb::bench;  // Die, Must, Seconds, the client and return URL
using SteadyClock = std::chrono::steady_clock;

// Runs `body(thread, i)` on `threads` threads until `seconds` pass; returns successes/s.
double RunFor(int threads, double seconds, const std::function<bool(int, int64_t)>& body,
              int64_t* failures) {
  std::atomic<int64_t> ok{0};
  std::atomic<int64_t> bad{0};
  const auto deadline = SteadyClock::now() + std::chrono::duration<double>(seconds);
  const auto start = SteadyClock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int64_t i = 0; SteadyClock::now() < deadline; ++i) {
        (body(t, i) ? ok : bad)++;
      }
    });
  }
  for (auto& th : pool) th.join();
  *failures = bad.load();
  return static_cast<double>(ok.load()) / Seconds(SteadyClock::now() - start);
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 5;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 4;
  const int connections = argc > 3 ? std::atoi(argv[3]) : 10000;
  const int concurrency = argc > 4 ? std::atoi(argv[4]) : 4;
  sb::log::SetLevel(sb::log::Level::kWarn);

  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("sb-connect-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto sandbox = Must(sb::app::testing::SandboxProcess::Start(), "sandbox");
  Must(sandbox->RegisterClient(SandboxOrigin::kGoogle, kClientId, kSecret, {}), "client");

  sb::config::Config config;
  config.server.listen_address = "127.0.0.1";
  config.server.port = 0;
  config.server.io_threads = 2;
  config.server.worker_threads = 8;
  config.database.url = "sqlite:" + (dir / "sb.db").string();
  config.database.pool_size = 8;
  config.limits.requests_per_second = 1e9;
  config.limits.burst = 1'000'000'000;
  config.public_limits.requests_per_second = 1e9;  // every flow comes from 127.0.0.1
  config.public_limits.burst = 1'000'000'000;
  // The bench measures the flow, not the per-tenant quotas it would otherwise hit at once.
  config.quotas.connect_sessions_per_minute = 100'000;
  config.quotas.connections = 100'000'000;
  config.vault.key_file = (dir / "master.key").string();
  config.audit.key_file = (dir / "audit.key").string();
  config.providers.google_url = sandbox->google_url();
  config.providers.microsoft_url = sandbox->microsoft_url();
  config.providers.ca_file = sandbox->ca_file();
  config.refresh.interval = std::chrono::milliseconds(0);
  config.refresh.batch = 1000;
  config.jobs.threads = concurrency;
  sb::SystemClock clock;
  sb::SystemRandom random;
  {
    auto db = Must(sb::store::OpenDatabase({.url = config.database.url}), "database");
    Must(sb::store::Migrator(*db, clock).Up(), "migrate");
  }
  auto app = Must(sb::app::ServerApp::Create(config, clock, random), "server");
  const uint16_t port = Must(app->Start(), "listen");
  const sb::bench::BenchTenant tenant = sb::bench::CreateTenant(*app, port);
  const std::string& key = tenant.key;
  sb::app::testing::TestHttpClient api(port);

  // Accounts for the flows (each flow connects one; later rounds reconnect).
  constexpr int kFlowAccounts = 500;
  for (int i = 0; i < kFlowAccounts; ++i) {
    Must(sandbox->CreateAccount(SandboxOrigin::kGoogle,
                                {{"email", "flow" + std::to_string(i) + "@example.com"}}),
         "account");
  }
  const std::string base = "http://127.0.0.1:" + std::to_string(port);

  // ---- Connect flows per second, and the provider's share alone. ----
  std::vector<std::unique_ptr<sb::net::testing::Browser>> browsers;
  std::vector<std::unique_ptr<sb::app::testing::TestHttpClient>> clients;
  for (int t = 0; t < threads; ++t) {
    browsers.push_back(std::make_unique<sb::net::testing::Browser>(
        sb::net::testing::BrowserOptions{sandbox->ca_file()}));
    browsers.back()->StopAt([](std::string_view url) { return url.starts_with(kReturnUrl); });
    clients.push_back(std::make_unique<sb::app::testing::TestHttpClient>(port));
  }
  auto flow = [&](int t, int64_t i) {
    const std::string email =
        "flow" + std::to_string((i * threads + t) % kFlowAccounts) + "@example.com";
    auto session = clients[t]->Send(
        "POST", "/v1/connect/sessions",
        Json{{"end_user", {{"id", email}, {"email", email}}}, {"return_url", kReturnUrl}}.dump(),
        key);
    if (session.status != 201) return false;
    const std::string url = session.JsonBody()["url"];
    auto page = browsers[t]->Get(url);
    if (!page.ok() || page->status != 200) return false;
    auto done = browsers[t]->PostForm(
        url + "/start",
        {{"provider", "google"}, {"csrf", sb::app::testing::HiddenFieldValue(page->body, "csrf")}});
    return done.ok() && done->status == 303 &&
           done->url.find("status=connected") != std::string::npos;
  };
  sb::net::CurlHttpClient curl({.ca_file = sandbox->ca_file()});
  auto provider_only = [&](int t, int64_t i) {
    const std::string email =
        "flow" + std::to_string((i * threads + t) % kFlowAccounts) + "@example.com";
    sb::SystemRandom local_random;
    const sb::oauth::Pkce pkce = sb::oauth::NewPkce(local_random);
    const std::string redirect = base + "/connect/callback";
    const std::string authorize = sandbox->google_url() + "/o/oauth2/v2/auth?" +
                                  sb::FormEncode({{"response_type", "code"},
                                                  {"client_id", kClientId},
                                                  {"redirect_uri", redirect},
                                                  {"scope", "openid email profile"},
                                                  {"state", "s"},
                                                  {"nonce", "n"},
                                                  {"login_hint", email},
                                                  {"code_challenge", pkce.challenge},
                                                  {"code_challenge_method", "S256"}});
    sb::net::testing::Browser browser({sandbox->ca_file()});
    browser.StopAt([&](std::string_view url) { return url.starts_with(redirect); });
    auto stopped = browser.Get(authorize);
    if (!stopped.ok()) return false;
    auto query = sb::net::testing::ParseQuery(stopped->url);
    std::string code;
    for (const auto& [n, v] : *query) {
      if (n == "code") code = v;
    }
    auto response = ExchangeCode(curl, sandbox->google_url(), code, redirect, pkce.verifier);
    return response.ok() && response->status == 200;
  };
  int64_t flow_failures = 0;
  int64_t baseline_failures = 0;
  const double baseline = RunFor(threads, seconds, provider_only, &baseline_failures);
  const double flows = RunFor(threads, seconds, flow, &flow_failures);
  std::printf(
      "connect flows: %.1f/s (%lld failed) with %d threads; provider share alone "
      "(authorize + code exchange): %.1f/s (%lld failed); ratio %.2f\n",
      flows, static_cast<long long>(flow_failures), threads, baseline,
      static_cast<long long>(baseline_failures), flows / baseline);

  // ---- Refreshes per second: N connections expiring within the same minute. ----
  std::printf("seeding %d connections...\n", connections);
  std::vector<std::string> raw_tokens;  // for the provider-only baseline
  sb::IdGenerator ids(clock, random);
  const sb::TenantId tid = tenant.id;
  constexpr int kBatch = 500;
  for (int start = 0; start < connections; start += kBatch) {
    struct Seed {
      sb::store::ConnectionRecord record;
      std::string access;
      std::string refresh;
    };
    std::vector<Seed> seeds;
    for (int i = start; i < std::min(connections, start + kBatch); ++i) {
      auto account =
          Must(sandbox->CreateAccount(SandboxOrigin::kGoogle,
                                      {{"email", "refresh" + std::to_string(i) + "@example.com"}}),
               "account");
      const std::string account_id = account["id"];
      auto minted = Must(sandbox->Control(SandboxOrigin::kGoogle, "POST",
                                          "/_sandbox/accounts/" + account_id + "/tokens",
                                          {{"client_id", kClientId}, {"offline", true}}),
                         "mint");
      Seed seed;
      auto& r = seed.record;
      r.tenant_id = tid;
      r.id = sb::ConnectionId(ids.NewUuid());
      r.provider = "google";
      r.end_user_id = "u" + std::to_string(i);
      r.account_subject = account_id;
      r.access_expires_at = clock.Now() + std::chrono::seconds(30 + i % 30);  // one minute
      r.has_refresh_token = true;
      r.token_version = 1;
      r.next_refresh_at = clock.Now();  // all due
      r.created_at = r.updated_at = clock.Now();
      seed.access = minted["access_token"];
      seed.refresh = minted["refresh_token"];
      seeds.push_back(std::move(seed));
      if (i < 2000) {
        auto extra = Must(sandbox->Control(SandboxOrigin::kGoogle, "POST",
                                           "/_sandbox/accounts/" + account_id + "/tokens",
                                           {{"client_id", kClientId}, {"offline", true}}),
                          "mint");
        raw_tokens.push_back(extra["refresh_token"]);
      }
    }
    sb::Status s = app->database().RunInTenant(tid, [&](sb::store::Transaction& tx) -> sb::Status {
      for (const Seed& seed : seeds) {
        SB_RETURN_IF_ERROR(sb::store::ConnectionRepository().Insert(tx, tid, seed.record));
        const std::string owner = sb::store::ConnectionSecretOwner(seed.record.id);
        SB_RETURN_IF_ERROR(app->secrets().Put(tx, {tid, owner, "access_token"}, seed.access));
        SB_RETURN_IF_ERROR(app->secrets().Put(tx, {tid, owner, "refresh_token"}, seed.refresh));
      }
      return sb::OkStatus();
    });
    if (!s.ok()) Die("seed: " + s.ToString());
  }

  // Provider share: refresh_token grants straight to the sandbox, same concurrency.
  const sb::oauth::TokenClient token_client(curl);
  sb::oauth::TokenEndpoint endpoint{sandbox->google_url() + "/token", "",
                                    sb::oauth::ClientAuth::kClientSecretPost};
  std::atomic<size_t> next_raw{0};
  std::atomic<int64_t> raw_ok{0};
  const auto raw_start = SteadyClock::now();
  {
    std::vector<std::thread> pool;
    for (int t = 0; t < concurrency; ++t) {
      pool.emplace_back([&] {
        const sb::oauth::ClientCredentials client{kClientId, sb::vault::SecretBytes(kSecret)};
        for (size_t i = next_raw++; i < raw_tokens.size(); i = next_raw++) {
          auto r = token_client.Refresh(endpoint, client, raw_tokens[i]);
          if (std::holds_alternative<sb::oauth::TokenResponse>(r)) ++raw_ok;
        }
      });
    }
    for (auto& th : pool) th.join();
  }
  const double raw_rate =
      static_cast<double>(raw_ok.load()) / Seconds(SteadyClock::now() - raw_start);

  const auto refresh_start = SteadyClock::now();
  int64_t refreshed = 0;
  for (int pass = 0; pass < 1000 && refreshed < connections; ++pass) {
    auto n = app->RunDueRefreshes(std::chrono::minutes(10));
    if (!n.ok()) Die("refresh: " + n.status().ToString());
    if (*n == 0) break;
    refreshed += *n;
  }
  const double refresh_seconds = Seconds(SteadyClock::now() - refresh_start);
  std::printf(
      "refresh: %lld of %d connections in %.2f s = %.0f refreshes/s (concurrency %d); "
      "provider share alone: %.0f refresh grants/s (%lld of %zu); ratio %.2f\n",
      static_cast<long long>(refreshed), connections, refresh_seconds,
      static_cast<double>(refreshed) / refresh_seconds, concurrency, raw_rate,
      static_cast<long long>(raw_ok.load()), raw_tokens.size(),
      static_cast<double>(refreshed) / refresh_seconds / raw_rate);

  app->Stop(std::chrono::milliseconds(1000));
  app.reset();
  sandbox.reset();
  std::filesystem::remove_all(dir);
  return 0;
}
