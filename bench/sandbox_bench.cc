// Provider sandbox throughput (not a test): how many events per second the Google emulator
// serves in events.list pages (maxResults=2500, the API maximum) from an account with 100,000
// seeded events, over real HTTP with N client threads; in the same run, the same server's
// GET /_sandbox/health as the request-rate baseline. The issue's target: at least 50,000
// events/s, so that the sandbox is never the bottleneck of a Switchboard benchmark.
//
//   sandbox_bench [events=100000] [seconds=5] [threads=2]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "sandbox/google/google.h"
#include "sandbox/google/google_errors.h"
#include "sandbox/google/seed.h"

#include "sb/net/curl_http_client.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Totals {
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> events{0};
  std::atomic<int64_t> bytes{0};
  std::atomic<int64_t> errors{0};
};

// Pages through the whole calendar again and again until the deadline.
void ListLoop(sb::net::HttpClient& http, const std::string& base, const std::string& token,
              Clock::time_point deadline, Totals& totals) {
  std::string page_token;
  while (Clock::now() < deadline) {
    sb::net::HttpRequest request;
    request.url = base + "/calendar/v3/calendars/primary/events?maxResults=2500" +
                  (page_token.empty() ? "" : "&pageToken=" + page_token);
    request.headers = {{"Authorization", "Bearer " + token}};
    auto response = http.Send(request);
    if (!response.ok() || response->status != 200) {
      totals.errors++;
      continue;
    }
    const sb::Json body = sb::Json::parse(response->body);
    totals.requests++;
    totals.events += static_cast<int64_t>(body["items"].size());
    totals.bytes += static_cast<int64_t>(response->body.size());
    page_token = body.value("nextPageToken", "");
  }
}

void HealthLoop(sb::net::HttpClient& http, const std::string& base, Clock::time_point deadline,
                Totals& totals) {
  while (Clock::now() < deadline) {
    sb::net::HttpRequest request;
    request.url = base + "/_sandbox/health";
    auto response = http.Send(request);
    if (response.ok() && response->status == 200) {
      totals.requests++;
    } else {
      totals.errors++;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t events = argc > 1 ? std::atoll(argv[1]) : 100'000;
  const int seconds = argc > 2 ? std::atoi(argv[2]) : 5;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;

  sb::SystemClock clock;
  auto key = sandbox::crypto::RsaSigningKey::Generate();
  if (!key.ok()) return 1;
  sb::net::CurlHttpClient http;
  sandbox::OriginOptions options;
  options.name = "google";
  options.pool_threads = 4;
  sandbox::Origin origin(options, clock, sandbox::google::DefaultSettings(),
                         sandbox::google::FaultResponse);
  sandbox::google::GoogleSandbox google(origin, *key, http);
  google.Register();
  if (!origin.Start().ok()) return 1;
  sandbox::Account account;
  account.email = "bench@example.com";
  account = google.CreateAccount(account);
  const auto seed_start = Clock::now();
  sandbox::google::SeedOptions seed;
  seed.events = events;
  seed.base_ms = sandbox::NowMillis(clock);
  const auto calendar = google.calendar().Calendar(account.id, account.email);
  auto seeded = sandbox::google::Seed(google.calendar(), *calendar, seed, seed.base_ms);
  if (!seeded.ok()) return 1;
  const double seed_s = std::chrono::duration<double>(Clock::now() - seed_start).count();
  const std::string token = google.identity()
                                .IssueAccessToken("ya29.", account.id, "bench",
                                                  {"https://www.googleapis.com/auth/calendar"},
                                                  sandbox::NowMillis(clock) + 3'600'000)
                                .token;
  std::printf("seeded %lld events (%s) in %.1f s\n", static_cast<long long>(events),
              seeded->dump().c_str(), seed_s);

  auto run = [&](bool list) {
    Totals totals;
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    const auto start = Clock::now();
    std::vector<std::thread> workers;
    for (int i = 0; i < threads; ++i) {
      workers.emplace_back([&] {
        if (list) {
          ListLoop(http, origin.base_url(), token, deadline, totals);
        } else {
          HealthLoop(http, origin.base_url(), deadline, totals);
        }
      });
    }
    for (auto& worker : workers) worker.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (list) {
      std::printf(
          "events.list maxResults=2500, %d threads: %.0f events/s, %.1f pages/s, %.1f MiB/s, "
          "%lld errors\n",
          threads, static_cast<double>(totals.events) / elapsed,
          static_cast<double>(totals.requests) / elapsed,
          static_cast<double>(totals.bytes) / elapsed / (1 << 20),
          static_cast<long long>(totals.errors.load()));
    } else {
      std::printf("baseline GET /_sandbox/health, %d threads: %.0f requests/s, %lld errors\n",
                  threads, static_cast<double>(totals.requests) / elapsed,
                  static_cast<long long>(totals.errors.load()));
    }
  };
  run(false);
  run(true);
  origin.Stop();
  return 0;
}
