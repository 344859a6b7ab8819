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
//
//   push_renewal_bench [connections=1000]
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
using namespace sb::bench;  // Die, Must, Seconds, ConnectGoogle
using SteadyClock = std::chrono::steady_clock;

// How many `method` requests the Google sandbox logged under `path` after request `since`.
int Logged(sb::app::testing::SandboxProcess& sandbox, const std::string& method,
           const std::string& path, int64_t since) {
  const Json body =
      Must(sandbox.Control(SandboxOrigin::kGoogle, "GET",
                           "/_sandbox/requests?limit=10000&since=" + std::to_string(since) +
                               "&path=" + sb::PercentEncode(path)),
           "request log");
  int n = 0;
  for (const Json& e : body["requests"]) n += e.value("method", "") == method;
  return n;
}

// The sequence number of the newest logged request.
int64_t LastSeq(sb::app::testing::SandboxProcess& sandbox) {
  int64_t last = 0;
  for (int64_t since = 0;;) {
    const Json body =
        Must(sandbox.Control(SandboxOrigin::kGoogle, "GET",
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
  if (connections < 1) Die("usage: push_renewal_bench [connections]");
  sb::log::SetLevel(sb::log::Level::kWarn);

  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("sb-renew-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto sandbox = Must(sb::app::testing::SandboxProcess::Start(), "sandbox");
  Must(sandbox->RegisterClient(SandboxOrigin::kGoogle, kClientId, kSecret, {}), "client");
  for (int i = 0; i < connections; ++i) {
    const Json account =
        Must(sandbox->CreateAccount(SandboxOrigin::kGoogle,
                                    {{"email", "renew" + std::to_string(i) + "@example.com"}}),
             "account");
    Must(sandbox->Control(SandboxOrigin::kGoogle, "POST",
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
      CreateTenant(*app, port, Json::array({{{"service", "calendar"}, {"access", "read"}}})).key;
  sb::app::testing::TestHttpClient api(port);

  const auto c0 = SteadyClock::now();
  for (int i = 0; i < connections; ++i) {
    ConnectGoogle(api, key, sandbox->ca_file(), "renew" + std::to_string(i) + "@example.com",
                  "u" + std::to_string(i), "calendar:read");
  }
  for (int i = 0; Logged(*sandbox, "POST", "/calendar/v3/calendars", 0) < connections; ++i) {
    if (i > 2400) Die("the push channels did not all open");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const double setup = Seconds(SteadyClock::now() - c0);

  // ---- Every channel due at once. ----
  const int64_t since = LastSeq(*sandbox);
  const auto jump = std::chrono::hours(7 * 24) - std::chrono::hours(5);
  Must(sandbox->Control(SandboxOrigin::kGoogle, "POST", "/_sandbox/clock",
                        Json{{"advance_seconds",
                              std::chrono::duration_cast<std::chrono::seconds>(jump).count()}}),
       "sandbox clock");
  const auto r0 = SteadyClock::now();
  clock.Advance(jump);
  int stopped = 0;
  for (int i = 0;
       (stopped = Logged(*sandbox, "POST", "/calendar/v3/channels/stop", since)) < connections;
       ++i) {
    if (i > 1200) break;  // 120 s
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const double renewal = Seconds(SteadyClock::now() - r0);
  const int watched = Logged(*sandbox, "POST", "/calendar/v3/calendars", since);
  const int tokens = Logged(*sandbox, "POST", "/token", since);

  std::printf(
      "push channel renewal, %d connections (set up in %.1f s):\n"
      "  renewed %d of %d in %.2f s (%.0f connections/s): %d new channels, %d stopped, %d token "
      "refreshes\n",
      connections, setup, stopped, connections, renewal, stopped / renewal, watched, stopped,
      tokens);
  app->Stop(std::chrono::milliseconds(2000));
  std::filesystem::remove_all(dir);
  return stopped == connections ? 0 : 1;
}
