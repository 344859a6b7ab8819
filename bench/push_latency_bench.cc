// Push to webhook latency (not a test), issue 15's target: p50 < 100 ms and p99 < 500 ms at 100
// changes per second across 100 connections. Against the real switchboard-sandbox with
// Switchboard in process on SQLite:
//
//   setup     N Google accounts (5 events each) connected through the hosted connect page; each
//             initial sync runs and opens its push channel; a webhook endpoint for event.created
//             on a local receiver.
//   load      every 1/rate seconds one new event at the next account (the sandbox's mutate:
//             the provider writes it and sends the channel's notification), for `seconds`.
//   latency   from just before the provider write to the signed webhook announcing the event
//             arriving at the receiver: notification, push run, store, change feed, outbox,
//             delivery. Events whose webhook never came within 30 s are counted as lost.
//
//   push_latency_bench [connections=100] [rate=100] [seconds=20]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"

#include "sb/app/server_app.h"
#include "sb/app/testing/sandbox_process.h"
#include "sb/app/testing/test_http_client.h"
#include "sb/base/logging.h"
#include "sb/net/testing/browser.h"
#include "sb/net/testing/loopback_http_server.h"

namespace {

using sb::Json;
using sb::app::testing::SandboxOrigin;
using namespace sb::bench;  // Die, Must, Seconds, the client and return URL
using SteadyClock = std::chrono::steady_clock;

// The first "provider_id" member anywhere in `j` ("" when none).
std::string ProviderId(const Json& j) {
  if (j.is_object()) {
    if (auto it = j.find("provider_id"); it != j.end() && it->is_string()) return *it;
    for (const auto& [k, v] : j.items()) {
      if (std::string id = ProviderId(v); !id.empty()) return id;
    }
  }
  return "";
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  const int connections = argc > 1 ? std::atoi(argv[1]) : 100;
  const int rate = argc > 2 ? std::atoi(argv[2]) : 100;
  const int seconds = argc > 3 ? std::atoi(argv[3]) : 20;
  if (connections < 1 || rate < 1 || seconds < 1) Die("usage: push_latency_bench [n] [rate] [s]");
  sb::log::SetLevel(sb::log::Level::kWarn);

  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("sb-push-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto sandbox = Must(sb::app::testing::SandboxProcess::Start(), "sandbox");
  Must(sandbox->RegisterClient(SandboxOrigin::kGoogle, kClientId, kSecret, {}), "client");
  std::vector<std::string> accounts;
  for (int i = 0; i < connections; ++i) {
    const std::string email = "push" + std::to_string(i) + "@example.com";
    const Json account =
        Must(sandbox->CreateAccount(SandboxOrigin::kGoogle, {{"email", email}}), "account");
    accounts.push_back(account.value("id", ""));
    Must(sandbox->Control(SandboxOrigin::kGoogle, "POST",
                          "/_sandbox/accounts/" + accounts.back() + "/seed",
                          Json{{"events", 5}, {"seed", i + 1}}),
         "seed");
  }

  sb::SystemClock clock;
  sb::config::Config config = SandboxedSqliteConfig(dir, *sandbox, clock);
  config.webhooks.allow_http = true;  // the local receiver
  config.webhooks.allow_private_targets = true;
  sb::SystemRandom random;
  auto app = Must(sb::app::ServerApp::Create(config, clock, random), "server");
  const uint16_t port = Must(app->Start(), "listen");
  const std::string key =
      CreateTenant(*app, port, Json::array({{{"service", "calendar"}, {"access", "read"}}})).key;
  sb::app::testing::TestHttpClient api(port);

  // The receiver: arrival time per announced event.
  std::mutex mu;
  std::map<std::string, SteadyClock::time_point> arrived;
  sb::net::testing::LoopbackHttpServer receiver([&](const sb::net::testing::ServedRequest& r) {
    const auto now = SteadyClock::now();
    const Json body = Json::parse(r.body, nullptr, false);
    const std::string id = ProviderId(body);
    std::lock_guard lock(mu);
    arrived.emplace(id, now);
    return sb::net::testing::ServedResponse{204, {}, "", false, ""};
  });
  if (sb::Status s = receiver.Start(); !s.ok()) Die("receiver: " + s.ToString());
  auto endpoint = api.Send(
      "POST", "/v1/webhook-endpoints",
      Json{{"url", receiver.Url("/hooks")}, {"event_types", {"event.created"}}}.dump(), key);
  if (endpoint.status != 201) Die("endpoint: " + endpoint.body);

  std::vector<std::string> ids;
  for (int i = 0; i < connections; ++i) {
    ids.push_back(ConnectGoogle(api, key, sandbox->ca_file(),
                                "push" + std::to_string(i) + "@example.com",
                                "u" + std::to_string(i), "calendar:read"));
  }
  // Every connection's channel open (one events.watch each), and the initial webhooks in.
  for (int i = 0;; ++i) {
    auto log = Must(sandbox->Requests(SandboxOrigin::kGoogle, "/calendar/v3/calendars"), "log");
    int watches = 0;
    for (const Json& e : log) watches += e.value("path", "").ends_with("/events/watch");
    if (watches >= connections) break;
    if (i > 1200)
      Die("push channels: " + std::to_string(watches) + " of " + std::to_string(connections));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));

  // ---- The load: one provider-side creation every 1/rate s, round robin. ----
  std::map<std::string, SteadyClock::time_point> written;
  const auto interval = std::chrono::microseconds(1'000'000 / rate);
  const int total = rate * seconds;
  const auto start = SteadyClock::now();
  for (int n = 0; n < total; ++n) {
    std::this_thread::sleep_until(start + n * interval);
    const auto t0 = SteadyClock::now();
    const Json answer = Must(
        sandbox->Control(SandboxOrigin::kGoogle, "POST",
                         "/_sandbox/accounts/" + accounts[n % connections] + "/mutate",
                         Json{{"creates", 1}, {"updates", 0}, {"deletes", 0}, {"seed", n + 100}}),
        "mutate");
    written.emplace(answer["created"][0].get<std::string>(), t0);
  }
  const double offered = total / Seconds(SteadyClock::now() - start);
  for (int i = 0; i < 300; ++i) {
    {
      std::lock_guard lock(mu);
      size_t in = 0;
      for (const auto& [id, t] : written) in += arrived.contains(id);
      if (in == written.size()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  std::vector<double> ms;
  {
    std::lock_guard lock(mu);
    for (const auto& [id, t0] : written) {
      if (auto it = arrived.find(id); it != arrived.end()) {
        ms.push_back(std::chrono::duration<double, std::milli>(it->second - t0).count());
      }
    }
  }
  if (ms.empty()) Die("no webhook arrived");
  std::printf(
      "push to webhook, %d connections, %d changes at %.0f/s offered:\n"
      "  delivered %zu of %d (lost %zu)\n"
      "  latency ms: p50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n",
      connections, total, offered, ms.size(), total, total - ms.size(), Percentile(ms, 0.5),
      Percentile(ms, 0.9), Percentile(ms, 0.99), Percentile(ms, 1.0));
  app->Stop(std::chrono::milliseconds(2000));
  receiver.Stop();
  std::filesystem::remove_all(dir);
  return 0;
}
