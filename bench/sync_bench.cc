// Initial calendar sync throughput and memory (not a test), against the real switchboard-sandbox
// with Switchboard in process on SQLite or on a throwaway PostgreSQL server:
//
//   baseline    in the same run, the provider's share alone: the same Google events.list pages
//               (500 per page, showDeleted) fetched straight from the sandbox with the
//               connection's access token, each page's JSON parsed and discarded.
//   sync        POST /v1/connections/{id}/sync on a connection whose account holds N events, timed
//               until GET /v1/sync-runs/{id} reports it finished: fetch, parse into the unified
//               model, store per page with its checkpoint, publish one change per event.
//   memory      the process's resident set before the run and its peak during it (the peak is
//               reset through /proc/self/clear_refs first), so the growth is what the run needs.
//
//   sync_bench [events=10000] [backend=sqlite|postgres]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "bench_support.h"

#include "sb/app/server_app.h"
#include "sb/app/testing/sandbox_process.h"
#include "sb/app/testing/test_http_client.h"
#include "sb/base/encoding.h"
#include "sb/base/logging.h"
#include "sb/net/curl_http_client.h"
#include "sb/net/testing/browser.h"
#include "sb/oauth/pkce.h"
#include "sb/store/migrations/migrator.h"
#include "sb/store/open_database.h"
#include "sb/store/testing/postgres_server.h"

namespace {

using sb::Json;
using sb::app::testing::SandboxOrigin;
using namespace sb::bench;  // Die, Must, Seconds, the client and return URL
using SteadyClock = std::chrono::steady_clock;

constexpr char kEmail[] = "sync-bench@example.com";
constexpr int kSeedChunk = 20000;

// A field of /proc/self/status in KiB (VmRSS, VmHWM).
long StatusKiB(const std::string& field) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(field + ":")) return std::atol(line.c_str() + field.size() + 1);
  }
  return -1;
}

void ResetPeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }

// The sandbox's authorization with auto-consent and the code exchange: an access token for
// `email`, for the provider-only baseline.
std::string AccessToken(sb::app::testing::SandboxProcess& sandbox, sb::net::HttpClient& http) {
  sb::SystemRandom random;
  const sb::oauth::Pkce pkce = sb::oauth::NewPkce(random);
  const std::string redirect = "http://127.0.0.1:1/callback";
  sb::net::testing::Browser browser({sandbox.ca_file()});
  browser.StopAt([&](std::string_view url) { return url.starts_with(redirect); });
  auto stopped = Must(
      browser.Get(sandbox.google_url() + "/o/oauth2/v2/auth?" +
                  sb::FormEncode(
                      {{"response_type", "code"},
                       {"client_id", kClientId},
                       {"redirect_uri", redirect},
                       {"scope", "openid email https://www.googleapis.com/auth/calendar.readonly"},
                       {"state", "s"},
                       {"login_hint", kEmail},
                       {"code_challenge", pkce.challenge},
                       {"code_challenge_method", "S256"}})),
      "authorize");
  std::string code;
  for (const auto& [n, v] : Must(sb::net::testing::ParseQuery(stopped.url), "redirect")) {
    if (n == "code") code = v;
  }
  auto response =
      Must(ExchangeCode(http, sandbox.google_url(), code, redirect, pkce.verifier), "token");
  if (response.status != 200) Die("token: " + response.body);
  return Json::parse(response.body).value("access_token", "");
}

// Fetches every page of the primary calendar's events and discards it; returns the item count.
int64_t FetchAndDiscard(sb::app::testing::SandboxProcess& sandbox, sb::net::HttpClient& http,
                        const std::string& token) {
  int64_t items = 0;
  std::string page_token;
  do {
    sb::net::HttpRequest request;
    request.method = "GET";
    request.url = sandbox.google_url() +
                  "/calendar/v3/calendars/primary/events?maxResults=500&showDeleted=true" +
                  (page_token.empty() ? "" : "&pageToken=" + sb::PercentEncode(page_token));
    request.headers = {{"Authorization", "Bearer " + token}};
    auto response = Must(http.Send(request), "events.list");
    if (response.status != 200) Die("events.list: " + response.body);
    const Json page = Json::parse(response.body);
    items += static_cast<int64_t>(page["items"].size());
    page_token = page.value("nextPageToken", "");
  } while (!page_token.empty());
  return items;
}

struct Database {
  std::unique_ptr<sb::store::testing::PostgresServer> postgres;
  std::string url;
  std::string maintenance_url;
  std::string migration_url;
};

Database OpenBackend(const std::string& backend, const std::filesystem::path& dir) {
  Database d;
  if (backend == "postgres") {
    d.postgres = Must(sb::store::testing::PostgresServer::Start(), "postgres");
    d.url = d.postgres->app_url();
    d.maintenance_url = d.postgres->maintenance_url();
    d.migration_url = d.postgres->owner_url();
  } else {
    d.url = d.migration_url = "sqlite:" + (dir / "sb.db").string();
  }
  sb::SystemClock clock;
  auto db = Must(sb::store::OpenDatabase({.url = d.migration_url}), "database");
  Must(sb::store::Migrator(*db, clock).Up(), "migrate");
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  const int events = argc > 1 ? std::atoi(argv[1]) : 10000;
  const std::string backend = argc > 2 ? argv[2] : "sqlite";
  sb::log::SetLevel(sb::log::Level::kWarn);

  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("sb-sync-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto sandbox = Must(sb::app::testing::SandboxProcess::Start(), "sandbox");
  Must(sandbox->RegisterClient(SandboxOrigin::kGoogle, kClientId, kSecret, {}), "client");
  const Json account =
      Must(sandbox->CreateAccount(SandboxOrigin::kGoogle, {{"email", kEmail}}), "account");
  // In calls of at most 20,000 events: one call for 100,000 outlasts the control timeout.
  for (int done = 0, call = 0; done < events; done += kSeedChunk, ++call) {
    Must(
        sandbox->Control(SandboxOrigin::kGoogle, "POST",
                         "/_sandbox/accounts/" + account.value("id", "") + "/seed",
                         Json{{"events", std::min(kSeedChunk, events - done)}, {"seed", 7 + call}}),
        "seed");
  }
  const Database database = OpenBackend(backend, dir);

  sb::config::Config config;
  config.server.listen_address = "127.0.0.1";
  config.server.port = 0;
  config.database.url = database.url;
  config.database.maintenance_url = database.maintenance_url;
  config.database.migration_url = database.migration_url;
  config.vault.key_file = (dir / "master.key").string();
  config.audit.key_file = (dir / "audit.key").string();
  config.providers.google_url = sandbox->google_url();
  config.providers.microsoft_url = sandbox->microsoft_url();
  config.providers.ca_file = sandbox->ca_file();
  config.limits.requests_per_second = 1e9;  // the bench polls the run
  config.limits.burst = 1'000'000'000;
  config.sync.on_connect = false;  // the run is started by hand, and timed
  sb::SystemClock clock;
  sb::SystemRandom random;
  auto app = Must(sb::app::ServerApp::Create(config, clock, random), "server");
  const uint16_t port = Must(app->Start(), "listen");
  const std::string key =
      sb::bench::CreateTenant(*app, port,
                              Json::array({{{"service", "calendar"}, {"access", "read_write"}}}))
          .key;
  sb::app::testing::TestHttpClient api(port);

  // Connect the seeded account through the hosted page.
  const std::string connection =
      ConnectGoogle(api, key, sandbox->ca_file(), kEmail, "u1", "calendar:read_write");

  // ---- The provider's share alone. ----
  sb::net::CurlHttpClient curl({.ca_file = sandbox->ca_file()});
  const std::string token = AccessToken(*sandbox, curl);
  const auto b0 = SteadyClock::now();
  const int64_t fetched = FetchAndDiscard(*sandbox, curl, token);
  const double baseline = Seconds(SteadyClock::now() - b0);

  // ---- The initial sync, by hand. ----
  const long rss_before = StatusKiB("VmRSS");
  ResetPeakRss();
  const auto s0 = SteadyClock::now();
  auto started = api.Send("POST", "/v1/connections/" + connection + "/sync", "", key);
  if (started.status != 202) Die("sync: " + started.body);
  const std::string run_id = started.JsonBody()["id"];
  Json run;
  for (;;) {
    auto r = api.Send("GET", "/v1/sync-runs/" + run_id, "", key);
    if (r.status != 200) Die("sync run: " + r.body);
    run = r.JsonBody();
    const std::string status = run.value("status", "");
    if (status != "queued" && status != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const double synced = Seconds(SteadyClock::now() - s0);
  const long rss_peak = StatusKiB("VmHWM");
  if (run.value("status", "") != "succeeded") Die("run: " + run.dump());
  const int64_t created = run["items"].value("created", int64_t{0});

  std::printf(
      "%s, %d seeded events (%lld items listed):\n"
      "  fetch-and-discard baseline: %.2f s, %.0f items/s\n"
      "  initial sync: %.2f s, %lld created, %.0f events/s; ratio to baseline %.2f\n"
      "  resident memory: %.1f MiB before, peak %.1f MiB during the run (+%.1f MiB)\n",
      backend.c_str(), events, static_cast<long long>(fetched), baseline,
      static_cast<double>(fetched) / baseline, synced, static_cast<long long>(created),
      static_cast<double>(created) / synced,
      (static_cast<double>(created) / synced) / (static_cast<double>(fetched) / baseline),
      static_cast<double>(rss_before) / 1024, static_cast<double>(rss_peak) / 1024,
      static_cast<double>(rss_peak - rss_before) / 1024);
  app->Stop(std::chrono::milliseconds(2000));
  std::filesystem::remove_all(dir);
  return 0;
}
