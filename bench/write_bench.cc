// Calendar writes from the host (not a test), against the real switchboard-sandbox with
// Switchboard in process on SQLite:
//
//   baseline    in the same run, the provider's share alone: N events.insert calls straight to
//               the sandbox with an access token of the same account, from C clients at once.
//   proxied     the same N events.insert calls through Switchboard's API proxy, nothing
//               stored: what any write through Switchboard costs at least.
//   upserts     N PUT /v1/connections/{id}/events/by-external-id/{n} from C clients at once:
//               the mapping recorded with its job, the provider write, the answer settled in
//               the store.
//   echo        M host writes one at a time, each timed from the PUT until the push-triggered
//               sync run that brings the provider's change back has finished having published
//               nothing (Switchboard recognised its own write): p50 / p90 / p99, and the number
//               of echoes (event changes published for the host's own writes; must be 0).
//
//   provider latency  optional: every events.insert answers this many ms later (a sandbox fault
//               rule, in both the baseline and the upserts), standing in for a provider across a
//               network rather than in-memory on the same machine.
//
//   write_bench [writes=300] [echo_writes=30] [clients=1] [provider_latency_ms=0]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"

#include "sb/base/logging.h"
#include "sb/net/curl_http_client.h"

namespace {

using sb::Json;
using sb::app::testing::SandboxOrigin;
using namespace sb::bench;  // Die, Must, Seconds, the tenant and the connect flow
using SteadyClock = std::chrono::steady_clock;

constexpr char kEmail[] = "write-bench@example.com";

Json Entry(int n) {
  const int day = 1 + n % 28;
  const std::string date = "2027-02-" + std::string(day < 10 ? "0" : "") + std::to_string(day);
  return Json{{"title", "Job " + std::to_string(n)},
              {"location", "Site " + std::to_string(n % 17)},
              {"start", {{"instant", date + "T09:00:00+01:00"}, {"time_zone", "Europe/Zurich"}}},
              {"end", {{"instant", date + "T10:00:00+01:00"}, {"time_zone", "Europe/Zurich"}}},
              {"attendees", {{{"email", "customer@example.com"}}}}};
}

// Entry(n) as a Google Calendar event resource, for events.insert.
Json GoogleEvent(int n) {
  const Json entry = Entry(n);
  return Json{{"summary", entry["title"]},
              {"location", entry["location"]},
              {"start", {{"dateTime", entry["start"]["instant"]}, {"timeZone", "Europe/Zurich"}}},
              {"end", {{"dateTime", entry["end"]["instant"]}, {"timeZone", "Europe/Zurich"}}},
              {"attendees", {{{"email", "customer@example.com"}}}}};
}

// One events.insert straight to the sandbox.
void DirectInsert(sb::app::testing::SandboxProcess& sandbox, sb::net::HttpClient& http,
                  const std::string& token, int i) {
  sb::net::HttpRequest request;
  request.method = "POST";
  request.url = sandbox.google_url() + "/calendar/v3/calendars/primary/events";
  request.headers = {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
  request.body = GoogleEvent(i).dump();
  auto response = Must(http.Send(request), "events.insert");
  if (response.status != 200) Die("events.insert: " + response.body);
}

// The same events.insert through Switchboard's API proxy (/v1/proxy): the request
// authenticated, the account's token injected, the answer passed back; nothing stored. The
// ceiling of any write that goes through Switchboard.
void ProxiedInsert(sb::app::testing::TestHttpClient& api, const std::string& key,
                   const std::string& connection, int i) {
  auto r = api.Send("POST", "/v1/proxy/" + connection + "/calendar/v3/calendars/primary/events",
                    GoogleEvent(i).dump(), key);
  if (r.status != 200) Die("proxied insert: " + std::to_string(r.status) + " " + r.body);
}

// One PUT of the host's entry job-<i>.
void HostUpsert(sb::app::testing::TestHttpClient& api, const std::string& key,
                const std::string& connection, int i) {
  auto r = api.Send(
      "PUT", "/v1/connections/" + connection + "/events/by-external-id/job-" + std::to_string(i),
      Entry(i).dump(), key);
  if (r.status != 201) Die("upsert: " + std::to_string(r.status) + " " + r.body);
}

Json SyncState(sb::app::testing::TestHttpClient& api, const std::string& key,
               const std::string& connection) {
  auto r = api.Send("GET", "/v1/connections/" + connection + "/sync", "", key);
  if (r.status != 200) Die("sync state: " + r.body);
  return r.JsonBody()["data"][0];
}

// Waits for a run other than `after` to finish; returns it.
Json NextFinishedRun(sb::app::testing::TestHttpClient& api, const std::string& key,
                     const std::string& connection, const std::string& after) {
  for (int i = 0; i < 20'000; ++i) {
    const Json state = SyncState(api, key, connection);
    const std::string run_id = state.value("last_run_id", "");
    if (!run_id.empty() && run_id != after) {
      const Json run = api.Send("GET", "/v1/sync-runs/" + run_id, "", key).JsonBody();
      const std::string status = run.value("status", "");
      if (status != "queued" && status != "running") return run;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  Die("no push run after the write");
}

int EventChanges(sb::app::testing::TestHttpClient& api, const std::string& key,
                 std::string& cursor) {
  int n = 0;
  for (;;) {
    auto r = api.Send("GET", "/v1/changes?limit=1000&cursor=" + cursor, "", key);
    if (r.status != 200) Die("changes: " + r.body);
    const Json body = r.JsonBody();
    for (const Json& c : body["data"]) n += c.value("type", "").starts_with("event.") ? 1 : 0;
    cursor = body.value("next_cursor", cursor);
    if (!body.value("has_more", false)) return n;
  }
}

// Runs `write(i)` for i in [0, n) from `clients` threads; returns the seconds it took.
double Concurrently(int n, int clients, const std::function<void(int, int)>& write) {
  const auto t0 = SteadyClock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      for (int i = c; i < n; i += clients) write(c, i);
    });
  }
  for (auto& t : threads) t.join();
  return Seconds(SteadyClock::now() - t0);
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  const int writes = argc > 1 ? std::atoi(argv[1]) : 300;
  const int echo_writes = argc > 2 ? std::atoi(argv[2]) : 30;
  const int clients = argc > 3 ? std::atoi(argv[3]) : 1;
  const int latency_ms = argc > 4 ? std::atoi(argv[4]) : 0;
  if (writes < 1 || echo_writes < 1 || clients < 1 || clients > 64 || latency_ms < 0) {
    Die("usage: write_bench [writes] [echo_writes] [clients] [provider_latency_ms]");
  }
  sb::log::SetLevel(sb::log::Level::kWarn);
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("sb-write-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto sandbox = Must(sb::app::testing::SandboxProcess::Start(), "sandbox");
  Must(sandbox->RegisterClient(SandboxOrigin::kGoogle, kClientId, kSecret, {}), "client");
  const std::string account =
      Must(sandbox->CreateAccount(SandboxOrigin::kGoogle, {{"email", kEmail}}), "account")
          .value("id", "");
  Must(sandbox->Control(SandboxOrigin::kGoogle, "POST", "/_sandbox/accounts/" + account + "/seed",
                        Json{{"events", 5}, {"seed", 1}}),
       "seed");

  sb::SystemClock clock;
  sb::config::Config config = SandboxedSqliteConfig(dir, *sandbox, clock);
  sb::SystemRandom random;
  auto app = Must(sb::app::ServerApp::Create(config, clock, random), "server");
  const uint16_t port = Must(app->Start(), "listen");
  const std::string key =
      CreateTenant(*app, port, Json::array({{{"service", "calendar"}, {"access", "read_write"}}}))
          .key;
  sb::app::testing::TestHttpClient api(port);
  const std::string connection =
      ConnectGoogle(api, key, sandbox->ca_file(), kEmail, "u1", "calendar:read_write");
  // The initial sync (on connect) done and the push channel open.
  NextFinishedRun(api, key, connection, "");
  for (int i = 0;; ++i) {
    auto log = Must(sandbox->Requests(SandboxOrigin::kGoogle, "/calendar/v3/calendars"), "log");
    if (std::any_of(log.begin(), log.end(),
                    [](const Json& e) { return e.value("path", "").ends_with("/events/watch"); })) {
      break;
    }
    if (i > 1200) Die("no push channel");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  // ---- Throughput: the provider alone, then through Switchboard, in the same run. ----
  const std::string token =
      Must(sandbox->Control(SandboxOrigin::kGoogle, "POST",
                            "/_sandbox/accounts/" + account + "/tokens", Json::object()),
           "token")
          .value("access_token", "");
  std::vector<std::unique_ptr<sb::net::CurlHttpClient>> curls;
  std::vector<std::unique_ptr<sb::app::testing::TestHttpClient>> apis;
  for (int c = 0; c < clients; ++c) {
    curls.push_back(std::make_unique<sb::net::CurlHttpClient>(
        sb::net::CurlHttpClientOptions{.ca_file = sandbox->ca_file()}));
    apis.push_back(std::make_unique<sb::app::testing::TestHttpClient>(port));
  }
  if (latency_ms > 0) {
    Must(sandbox->Control(SandboxOrigin::kGoogle, "POST", "/_sandbox/faults",
                          Json{{"method", "POST"},
                               {"path", "/calendar/v3/calendars/"},
                               {"kind", "latency"},
                               {"latency_ms", latency_ms},
                               {"count", -1}}),
         "latency rule");
  }
  const double direct = Concurrently(
      writes, clients, [&](int c, int i) { DirectInsert(*sandbox, *curls[c], token, i); });
  // The pushes of the baseline's writes make sync runs: they finish before the upserts start,
  // so that neither phase pays for the other's.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const double proxied = Concurrently(
      writes, clients, [&](int c, int i) { ProxiedInsert(*apis[c], key, connection, i); });
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const double hosted = Concurrently(
      writes, clients, [&](int c, int i) { HostUpsert(*apis[c], key, connection, i); });
  std::printf(
      "host writes, %d each from %d clients, provider latency %d ms:\n"
      "  direct events.insert baseline: %.2f s, %.0f writes/s\n"
      "  the same through the API proxy (nothing stored): %.2f s, %.0f writes/s; ratio %.2f\n"
      "  host upserts through Switchboard: %.2f s, %.0f writes/s; ratio to baseline %.2f\n",
      writes, clients, latency_ms, direct, writes / direct, proxied, writes / proxied,
      direct / proxied, hosted, writes / hosted, direct / hosted);
  std::fflush(stdout);
  if (latency_ms > 0) {
    Must(sandbox->Control(SandboxOrigin::kGoogle, "DELETE", "/_sandbox/faults", Json()), "faults");
  }
  // Let the pushes those writes caused settle before the echo timing.
  std::this_thread::sleep_for(std::chrono::seconds(3));

  // ---- Echo round trip: one write at a time until its push run has finished. ----
  std::string cursor = "0";
  EventChanges(api, key, cursor);
  std::vector<double> ms;
  for (int i = 0; i < echo_writes; ++i) {
    const std::string before = SyncState(api, key, connection).value("last_run_id", "");
    const auto t0 = SteadyClock::now();
    HostUpsert(api, key, connection, writes + i);
    const Json run = NextFinishedRun(api, key, connection, before);
    ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count());
    if (run.value("status", "") != "succeeded") Die("push run: " + run.dump());
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const int echoes = EventChanges(api, key, cursor);

  std::printf(
      "  echo round trip (%d writes, write to its push run finished): p50 %.1f ms, p90 %.1f ms, "
      "p99 %.1f ms; echoes published: %d\n",
      echo_writes, Percentile(ms, 0.5), Percentile(ms, 0.9), Percentile(ms, 0.99), echoes);
  app->Stop(std::chrono::milliseconds(2000));
  std::filesystem::remove_all(dir);
  return echoes == 0 ? 0 : 1;
}
