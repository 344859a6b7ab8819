// Push channel renewal of N connections (not a test), issue 15's target: 1,000 connections
// renewed in under 10 s. Against the real switchboard-sandbox with Switchboard in process on
// SQLite and a settable clock:
//
//   setup     N Google accounts (3 events each) connected through the hosted page; each initial
//             sync opens the connection's push channel (7 days).
//   renewal   both clocks (Switchboard's and the sandbox's, POST /_sandbox/clock) moved to 5 h
//             before the channels expire, inside the 6 h renewal margin, so every channel is
//             due at once. Timed until the sandbox has seen every old channel stopped, which a
//             renewal does last (new channel created and stored, then the old one stopped).
//             The access tokens have expired on the moved clock too, so each renewal also
//             refreshes its connection's token first: the worst case.
//   microsoft the same with Microsoft accounts: Graph subscriptions (4,230 minutes) due at once,
//             each renewed with a PATCH of its expiration; timed until the sandbox has seen
//             every PATCH.
//
//   push_renewal_bench [connections=1000] [google|microsoft]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "bench_support.h"

#include "sb/app/server_app.h"
#include "sb/app/testing/sandbox_process.h"
#include "sb/app/testing/test_http_client.h"
#include "sb/base/logging.h"
#include "sb/base/testing/fake_clock.h"

namespace {

using sb::Json;
using sb::app::testing::SandboxOrigin;
using namespace sb::bench;  // Die, Must, Seconds, ConnectAccount
using SteadyClock = std::chrono::steady_clock;

// What a provider's renewal looks like at its sandbox.
struct Provider {
  std::string name;  // "google", "microsoft"
  SandboxOrigin origin;
  std::string watch_path;    // opens a channel or subscription (POST)
  std::string renewal_path;  // the request a renewal makes last
  std::string renewal_method;
  std::chrono::seconds lifetime;
};

Provider ProviderNamed(const std::string& name) {
  using std::chrono::hours;
  using std::chrono::minutes;
  if (name == "google") {
    return {name,   SandboxOrigin::kGoogle, "/calendar/v3/calendars", "/calendar/v3/channels/stop",
            "POST", hours(7 * 24)};
  }
  if (name == "microsoft") {
    return {name,
            SandboxOrigin::kMicrosoft,
            "/v1.0/subscriptions",
            "/v1.0/subscriptions/",
            "PATCH",
            minutes(4230)};
  }
  Die("usage: push_renewal_bench [connections] [google|microsoft]");
}

// How many `method` requests `origin` logged under `path` after request `since`.
int Logged(sb::app::testing::SandboxProcess& sandbox, SandboxOrigin origin,
           const std::string& method, const std::string& path, int64_t since) {
  const Json body =
      Must(sandbox.Control(origin, "GET",
                           "/_sandbox/requests?limit=10000&since=" + std::to_string(since) +
                               "&path=" + sb::PercentEncode(path)),
           "request log");
  int n = 0;
  for (const Json& e : body["requests"]) n += e.value("method", "") == method;
  return n;
}

// The sequence number of the newest request `origin` logged.
int64_t LastSeq(sb::app::testing::SandboxProcess& sandbox, SandboxOrigin origin) {
  int64_t last = 0;
  for (int64_t since = 0;;) {
    const Json body =
        Must(sandbox.Control(origin, "GET",
                             "/_sandbox/requests?limit=10000&since=" + std::to_string(since)),
             "request log");
    if (body["requests"].empty()) return last;
    last = body["requests"].back().value("seq", int64_t{0});
    since = last;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int connections = argc > 1 ? std::atoi(argv[1]) : 1000;
  const Provider provider = ProviderNamed(argc > 2 ? argv[2] : "google");
  if (connections < 1) Die("usage: push_renewal_bench [connections] [google|microsoft]");
  sb::log::SetLevel(sb::log::Level::kWarn);

  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("sb-renew-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto sandbox = Must(sb::app::testing::SandboxProcess::Start(), "sandbox");
  Must(sandbox->RegisterClient(provider.origin, kClientId, kSecret, {}), "client");
  for (int i = 0; i < connections; ++i) {
    const Json account =
        Must(sandbox->CreateAccount(provider.origin,
                                    {{"email", "renew" + std::to_string(i) + "@example.com"}}),
             "account");
    Must(sandbox->Control(provider.origin, "POST",
                          "/_sandbox/accounts/" + account.value("id", "") + "/seed",
                          Json{{"events", 3}, {"seed", i + 1}}),
         "seed");
  }

  sb::testing::FakeClock clock;
  clock.Set(
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()));
  sb::config::Config config = SandboxedSqliteConfig(dir, *sandbox, clock);
  config.sync.interval = std::chrono::seconds(0);  // no scheduled runs: renewal alone is timed
  config.sync.push_renew_interval = std::chrono::milliseconds(100);
  sb::SystemRandom random;
  auto app = Must(sb::app::ServerApp::Create(config, clock, random), "server");
  const uint16_t port = Must(app->Start(), "listen");
  const std::string key =
      CreateTenant(*app, port, Json::array({{{"service", "calendar"}, {"access", "read"}}}),
                   provider.name)
          .key;
  sb::app::testing::TestHttpClient api(port);

  const auto c0 = SteadyClock::now();
  for (int i = 0; i < connections; ++i) {
    ConnectAccount(api, key, sandbox->ca_file(), provider.name,
                   "renew" + std::to_string(i) + "@example.com", "u" + std::to_string(i),
                   "calendar:read");
  }
  for (int i = 0; Logged(*sandbox, provider.origin, "POST", provider.watch_path, 0) < connections;
       ++i) {
    if (i > 2400) Die("the push channels did not all open");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const double setup = Seconds(SteadyClock::now() - c0);

  // ---- Every channel due at once. ----
  const int64_t since = LastSeq(*sandbox, provider.origin);
  const auto jump = provider.lifetime - std::chrono::hours(5);
  Must(sandbox->Control(provider.origin, "POST", "/_sandbox/clock",
                        Json{{"advance_seconds",
                              std::chrono::duration_cast<std::chrono::seconds>(jump).count()}}),
       "sandbox clock");
  const auto r0 = SteadyClock::now();
  clock.Advance(jump);
  int renewed = 0;
  for (int i = 0; (renewed = Logged(*sandbox, provider.origin, provider.renewal_method,
                                    provider.renewal_path, since)) < connections;
       ++i) {
    if (i > 1200) break;  // 120 s
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const double renewal = Seconds(SteadyClock::now() - r0);
  const int watched = Logged(*sandbox, provider.origin, "POST", provider.watch_path, since);
  const int tokens =
      Logged(*sandbox, provider.origin, "POST",
             provider.name == "google" ? "/token" : "/common/oauth2/v2.0/token", since);

  std::printf(
      "push renewal, %s, %d connections (set up in %.1f s):\n"
      "  renewed %d of %d in %.2f s (%.0f connections/s): %d %s %s, %d new channels or "
      "subscriptions, %d token refreshes\n",
      provider.name.c_str(), connections, setup, renewed, connections, renewal, renewed / renewal,
      renewed, provider.renewal_method.c_str(), provider.renewal_path.c_str(), watched, tokens);
  app->Stop(std::chrono::milliseconds(2000));
  std::filesystem::remove_all(dir);
  return renewed == connections ? 0 : 1;
}
