// Provider sandbox throughput (not a test): how many events per second the emulators serve in
// list pages from accounts with 100,000 seeded events, over real HTTP with N client threads:
// Google events.list (maxResults=2500, the API maximum) and Graph /me/events ($top=1000) and
// calendarView/delta (odata.maxpagesize=1000); in the same run, GET /_sandbox/health as the
// request-rate baseline. The issue's target: at least 50,000 events/s, so that the sandbox is
// never the bottleneck of a Switchboard benchmark.
//
//   sandbox_bench [events=100000] [seconds=5] [threads=2]
//   [only=health|google|graph-list|graph-delta]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <thread>
#include <vector>

#include "sandbox/google/google.h"
#include "sandbox/google/google_errors.h"
#include "sandbox/google/seed.h"
#include "sandbox/microsoft/microsoft.h"

#include "sb/caltime/caltime.h"
#include "sb/net/curl_http_client.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Totals {
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> events{0};
  std::atomic<int64_t> bytes{0};
  std::atomic<int64_t> errors{0};
};

// Counts occurrences of `marker` in `text`.
int64_t Count(const std::string& text, std::string_view marker) {
  int64_t n = 0;
  for (size_t at = text.find(marker); at != std::string::npos; at = text.find(marker, at + 1)) {
    ++n;
  }
  return n;
}

// The string value of the first `"key":"..."` member in `text` ("" when absent). Page tokens
// and links contain no escapes, so a scan suffices.
std::string StringMember(const std::string& text, std::string_view key) {
  const std::string needle = "\"" + std::string(key) + "\":\"";
  const size_t at = text.find(needle);
  if (at == std::string::npos) return "";
  const size_t begin = at + needle.size();
  return text.substr(begin, text.find('"', begin) - begin);
}

// Pages through a whole collection again and again until the deadline: `first` is the first
// page's URL, `next` the next page's URL read from a page ("" to start over), `marker` a string
// that occurs once per item. The client scans pages instead of parsing them, so that the
// numbers measure the server, not this program's JSON parser on the same two cores.
void ListLoop(sb::net::HttpClient& http, const std::string& first, const std::string& token,
              const std::function<std::string(const std::string&)>& next, std::string_view marker,
              std::vector<std::pair<std::string, std::string>> extra, Clock::time_point deadline,
              Totals& totals) {
  std::string url = first;
  while (Clock::now() < deadline) {
    sb::net::HttpRequest request;
    request.url = url;
    request.headers = extra;
    request.headers.emplace_back("Authorization", "Bearer " + token);
    auto response = http.Send(request);
    if (!response.ok() || response->status != 200) {
      totals.errors++;
      url = first;
      continue;
    }
    totals.requests++;
    totals.events += Count(response->body, marker);
    totals.bytes += static_cast<int64_t>(response->body.size());
    url = next(response->body);
    if (url.empty()) url = first;
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
  const std::string only = argc > 4 ? argv[4] : "";

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
  std::printf("google: seeded %lld events (%s) in %.1f s\n", static_cast<long long>(events),
              seeded->dump().c_str(), seed_s);

  sandbox::OriginOptions ms_options;
  ms_options.name = "microsoft";
  ms_options.pool_threads = 4;
  sandbox::Origin ms_origin(ms_options, clock, sandbox::microsoft::DefaultSettings(),
                            sandbox::microsoft::MakeFaultResponder(clock));
  sandbox::microsoft::MicrosoftSandbox microsoft(ms_origin, *key, http);
  microsoft.Register();
  if (!ms_origin.Start().ok()) return 1;
  const auto ms_account = microsoft.CreateAccount("bench@contoso.example", "Bench", "");
  const auto ms_seed_start = Clock::now();
  microsoft.Seed(ms_account.id, static_cast<size_t>(events), 1);
  std::printf("microsoft: seeded %lld events in %.1f s\n", static_cast<long long>(events),
              std::chrono::duration<double>(Clock::now() - ms_seed_start).count());
  auto minted =
      http.Send({.method = "POST",
                 .url = ms_origin.base_url() + "/_sandbox/accounts/" + ms_account.id + "/tokens",
                 .headers = {{"Content-Type", "application/json"}},
                 .body = "{}"});
  if (!minted.ok() || minted->status != 201) return 1;
  const std::string ms_token = sb::Json::parse(minted->body)["access_token"];

  enum class Kind { kHealth, kGoogle, kGraphList, kGraphDelta };
  // A sync window as a hub would use it: a year back, two years ahead.
  const int64_t now_ms = sandbox::NowMillis(clock);
  const std::string window =
      "startDateTime=" + sb::caltime::FormatUtcMillis(now_ms - 365LL * 86'400'000) +
      "&endDateTime=" + sb::caltime::FormatUtcMillis(now_ms + 730LL * 86'400'000);
  auto run = [&](Kind kind, const char* label) {
    Totals totals;
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    const auto start = Clock::now();
    std::vector<std::thread> workers;
    for (int i = 0; i < threads; ++i) {
      workers.emplace_back([&] {
        switch (kind) {
          case Kind::kHealth:
            HealthLoop(http, origin.base_url(), deadline, totals);
            break;
          case Kind::kGoogle:
            ListLoop(
                http, origin.base_url() + "/calendar/v3/calendars/primary/events?maxResults=2500",
                token,
                [&](const std::string& page) -> std::string {
                  const std::string next_token = StringMember(page, "nextPageToken");
                  if (next_token.empty()) return "";
                  return origin.base_url() +
                         "/calendar/v3/calendars/primary/events?maxResults=2500&pageToken=" +
                         next_token;
                },
                "\"kind\":\"calendar#event\"", {}, deadline, totals);
            break;
          case Kind::kGraphList:
            ListLoop(
                http, ms_origin.base_url() + "/v1.0/me/events?$top=1000", ms_token,
                [](const std::string& page) { return StringMember(page, "@odata.nextLink"); },
                "\"id\":", {}, deadline, totals);
            break;
          case Kind::kGraphDelta:
            ListLoop(
                http, ms_origin.base_url() + "/v1.0/me/calendarView/delta?" + window, ms_token,
                [](const std::string& page) { return StringMember(page, "@odata.nextLink"); },
                "\"id\":", {{"Prefer", "odata.maxpagesize=1000"}}, deadline, totals);
            break;
        }
      });
    }
    for (auto& worker : workers) worker.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (kind != Kind::kHealth) {
      std::printf(
          "%s, %d threads: %.0f events/s, %.1f pages/s, %.1f MiB/s, "
          "%lld errors\n",
          label, threads, static_cast<double>(totals.events) / elapsed,
          static_cast<double>(totals.requests) / elapsed,
          static_cast<double>(totals.bytes) / elapsed / (1 << 20),
          static_cast<long long>(totals.errors.load()));
    } else {
      std::printf("baseline GET /_sandbox/health, %d threads: %.0f requests/s, %lld errors\n",
                  threads, static_cast<double>(totals.requests) / elapsed,
                  static_cast<long long>(totals.errors.load()));
    }
  };
  if (only.empty() || only == "health") run(Kind::kHealth, "");
  if (only.empty() || only == "google") run(Kind::kGoogle, "google events.list maxResults=2500");
  if (only.empty() || only == "graph-list") run(Kind::kGraphList, "graph /me/events $top=1000");
  if (only.empty() || only == "graph-delta") {
    run(Kind::kGraphDelta, "graph calendarView/delta maxpagesize=1000");
  }
  origin.Stop();
  ms_origin.Stop();
  return 0;
}
