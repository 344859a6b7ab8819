// Proxy overhead (not a test): p50 and p99 latency of a GET through `/v1/proxy/{id}/...` minus
// the same GET sent straight to the sandbox with the same access token, in one run, at 1 and
// 32 concurrent clients (each with its own keep-alive connection). Switchboard runs in process
// on SQLite; the real switchboard-sandbox binary is the provider. The goal: under
// 200 µs added at p50.
//
// Then a large download (64 MiB from the sandbox's /_sandbox/bytes) straight and through the
// proxy, read and discarded by a raw socket client: throughput of each, and the peak resident
// memory of this process (which hosts Switchboard) during the proxied download, which streaming
// keeps far below the body's size.
//
//   proxy_bench [seconds per phase=5] [concurrency list=1,32] [download MiB=64]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench_support.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sb/app/server_app.h"
#include "sb/app/testing/sandbox_process.h"
#include "sb/app/testing/test_http_client.h"
#include "sb/base/logging.h"
#include "sb/store/connections/connect_repository.h"
#include "sb/store/migrations/migrator.h"
#include "sb/store/open_database.h"

namespace {

using sb::Json;
using sb::app::testing::SandboxOrigin;
using namespace sb::bench;  // Die, Must, Seconds, the client and return URL
using SteadyClock = std::chrono::steady_clock;

constexpr char kPath[] = "/calendar/v3/users/me/calendarList";

struct Latencies {
  std::vector<double> us;
  int64_t errors = 0;
  double Percentile(double p) {
    if (us.empty()) return 0;
    std::sort(us.begin(), us.end());
    return us[std::min(us.size() - 1, static_cast<size_t>(p * static_cast<double>(us.size())))];
  }
};

// `clients` threads, each with its own connection to `port`, GET `target` for `seconds`.
Latencies Run(uint16_t port, const std::string& target, const std::string& bearer, int clients,
              double seconds) {
  Latencies all;
  std::mutex mu;
  const auto deadline = SteadyClock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      sb::app::testing::TestHttpClient http(port);
      Latencies mine;
      while (SteadyClock::now() < deadline) {
        const auto start = SteadyClock::now();
        auto r = http.Send("GET", target, "", bearer);
        const double us =
            std::chrono::duration<double, std::micro>(SteadyClock::now() - start).count();
        if (r.status == 200) {
          mine.us.push_back(us);
        } else {
          ++mine.errors;
        }
      }
      std::lock_guard lock(mu);
      all.us.insert(all.us.end(), mine.us.begin(), mine.us.end());
      all.errors += mine.errors;
    });
  }
  for (auto& t : threads) t.join();
  return all;
}

// One GET on a fresh connection ("Connection: close"), reading and discarding the answer until
// the server closes; the bytes received (head and framing included) and the seconds it took.
std::pair<size_t, double> Download(uint16_t port, const std::string& target,
                                   const std::string& bearer) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) Die("connect");
  const std::string request = "GET " + target +
                              " HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer " + bearer +
                              "\r\nConnection: close\r\n\r\n";
  const auto start = SteadyClock::now();
  if (::send(fd, request.data(), request.size(), 0) != static_cast<ssize_t>(request.size())) {
    Die("send");
  }
  std::vector<char> buffer(256 << 10);
  size_t total = 0;
  std::string head;
  while (true) {
    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n <= 0) break;
    if (head.size() < 16) head.append(buffer.data(), std::min<size_t>(n, 16));
    total += static_cast<size_t>(n);
  }
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  ::close(fd);
  if (head.rfind("HTTP/1.1 200", 0) != 0) Die("download answered " + head);
  return {total, seconds};
}

// A field of /proc/self/status in KiB, e.g. "VmHWM".
long StatusKib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  }
  return -1;
}

// Resets VmHWM to the current resident size (Linux >= 4.0).
void ResetPeak() { std::ofstream("/proc/self/clear_refs") << "5"; }

uint16_t PortOf(const std::string& url) {
  return static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 5;
  std::vector<int> levels = {1, 32};
  if (argc > 2) {
    levels.clear();
    std::stringstream list(argv[2]);
    for (std::string item; std::getline(list, item, ',');)
      levels.push_back(std::atoi(item.c_str()));
  }
  const size_t download_mib = argc > 3 ? static_cast<size_t>(std::atol(argv[3])) : 64;
  sb::log::SetLevel(sb::log::Level::kWarn);
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("sb-proxy-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto sandbox = Must(sb::app::testing::SandboxProcess::Start(), "sandbox");
  Must(sandbox->RegisterClient(SandboxOrigin::kGoogle, kClientId, kSecret, {}), "client");

  sb::config::Config config;
  config.server.listen_address = "127.0.0.1";
  config.server.port = 0;
  config.server.io_threads = 2;
  config.server.worker_threads = 32;
  config.database.url = "sqlite:" + (dir / "sb.db").string();
  config.database.pool_size = 32;
  config.limits.requests_per_second = 1e9;
  config.limits.burst = 1'000'000'000;
  config.vault.key_file = (dir / "master.key").string();
  config.audit.key_file = (dir / "audit.key").string();
  config.providers.google_url = sandbox->google_url();
  config.providers.microsoft_url = sandbox->microsoft_url();
  config.providers.ca_file = sandbox->ca_file();
  config.refresh.interval = std::chrono::milliseconds(0);
  config.proxy.max_response_bytes = static_cast<int64_t>(download_mib + 1) << 20;
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

  // One connection with a real sandbox grant, stored the way the connect flow stores it.
  auto account = Must(
      sandbox->CreateAccount(SandboxOrigin::kGoogle, {{"email", "bench@example.com"}}), "account");
  const std::string account_id = account["id"];
  auto minted = Must(sandbox->Control(SandboxOrigin::kGoogle, "POST",
                                      "/_sandbox/accounts/" + account_id + "/tokens",
                                      {{"client_id", kClientId}, {"offline", true}}),
                     "mint");
  const std::string access = minted["access_token"];
  sb::IdGenerator ids(clock, random);
  sb::store::ConnectionRecord r;
  r.tenant_id = tenant.id;
  r.id = sb::ConnectionId(ids.NewUuid());
  r.provider = "google";
  r.end_user_id = "u";
  r.account_subject = account_id;
  r.access_expires_at = clock.Now() + std::chrono::minutes(50);
  r.has_refresh_token = true;
  r.token_version = 1;
  r.granted_scopes = {"openid", "email", "https://www.googleapis.com/auth/calendar.readonly"};
  r.created_at = r.updated_at = clock.Now();
  const sb::Status seeded =
      app->database().RunInTenant(tenant.id, [&](sb::store::Transaction& tx) -> sb::Status {
        SB_RETURN_IF_ERROR(sb::store::ConnectionRepository().Insert(tx, tenant.id, r));
        const std::string owner = sb::store::ConnectionSecretOwner(r.id);
        SB_RETURN_IF_ERROR(app->secrets().Put(tx, {tenant.id, owner, "access_token"}, access));
        return app->secrets().Put(tx, {tenant.id, owner, "refresh_token"},
                                  minted["refresh_token"].get<std::string>());
      });
  if (!seeded.ok()) Die("seed: " + seeded.ToString());

  const uint16_t sandbox_port = PortOf(sandbox->google_url());
  const std::string proxied = "/v1/proxy/" + r.id.value() + kPath;
  // Warm up both paths (connections, caches).
  if (Run(sandbox_port, kPath, access, 1, 0.3).errors > 0) Die("direct calls fail");
  if (Run(port, proxied, key, 1, 0.3).errors > 0) Die("proxied calls fail");

  std::printf(
      "| clients | direct p50 | direct p99 | proxy p50 | proxy p99 | added p50 | added p99 | proxy "
      "req/s | errors |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  for (int clients : levels) {
    Latencies direct = Run(sandbox_port, kPath, access, clients, seconds);
    Latencies proxy = Run(port, proxied, key, clients, seconds);
    const double d50 = direct.Percentile(0.50);
    const double d99 = direct.Percentile(0.99);
    const double p50 = proxy.Percentile(0.50);
    const double p99 = proxy.Percentile(0.99);
    std::printf(
        "| %d | %.0f µs | %.0f µs | %.0f µs | %.0f µs | %.0f µs | %.0f µs | %.0f | %lld |\n",
        clients, d50, d99, p50, p99, p50 - d50, p99 - d99,
        static_cast<double>(proxy.us.size()) / seconds,
        static_cast<long long>(direct.errors + proxy.errors));
  }

  const std::string bytes = "/_sandbox/bytes?size=" + std::to_string(download_mib << 20);
  Download(port, "/v1/proxy/" + r.id.value() + bytes, key);  // warm-up
  std::printf("\n| %zu MiB download | MiB/s | seconds | peak RSS before | peak RSS during |\n",
              download_mib);
  std::printf("| --- | --- | --- | --- | --- |\n");
  for (const bool proxied_download : {false, true}) {
    ResetPeak();
    const long before = StatusKib("VmHWM");
    const auto [received, took] = proxied_download
                                      ? Download(port, "/v1/proxy/" + r.id.value() + bytes, key)
                                      : Download(sandbox_port, bytes, access);
    const long peak = StatusKib("VmHWM");
    std::printf("| %s | %.0f | %.2f | %.1f MiB | %.1f MiB |\n",
                proxied_download ? "through the proxy" : "straight to the sandbox",
                static_cast<double>(received) / (1 << 20) / took, took,
                static_cast<double>(before) / 1024, static_cast<double>(peak) / 1024);
  }
  app->Stop(std::chrono::milliseconds(1000));
  app.reset();
  sandbox.reset();
  std::filesystem::remove_all(dir);
  return 0;
}
