// Export of a large audit log in constant memory (issue 3): fills one tenant's chain with N
// entries (default 1,000,000) on SQLite, then streams GET /v1/audit?format=jsonl from the real
// server (in this process) over a socket while sampling the process's resident memory.
// Prints entries, bytes, throughput, and resident memory before and at peak during the export.
//   audit_export [entries]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "bench_support.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sb/app/server_app.h"
#include "sb/base/clock.h"
#include "sb/base/logging.h"
#include "sb/base/random.h"

namespace {

long ResidentKiB() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

int Fail(const std::string& what, const sb::Status& s) {
  std::cerr << "audit_export: " << what << ": " << s.ToString() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const long entries = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  sb::log::SetLevel(sb::log::Level::kWarn);
  const auto dir =
      std::filesystem::temp_directory_path() / ("sb-audit-export-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  sb::SystemClock clock;
  sb::SystemRandom random;
  const sb::config::Config config = sb::bench::SqliteConfig(dir, clock);
  auto app = sb::app::ServerApp::Create(config, clock, random);
  if (!app.ok()) return Fail("create", app.status());
  auto port = (*app)->Start();
  if (!port.ok()) return Fail("start", port.status());
  sb::audit::Context ctx;
  ctx.actor.kind = sb::audit::ActorKind::kCli;
  ctx.actor.id = "bench";
  auto tenant = (*app)->tenants().Create(ctx, "export");
  if (!tenant.ok()) return Fail("tenant", tenant.status());
  auto key = (*app)->api_keys().Create(ctx, tenant->id, "k", {sb::tenancy::Scope::kRead});
  if (!key.ok()) return Fail("key", key.status());

  const auto fill_start = std::chrono::steady_clock::now();
  for (long done = 2; done < entries; done += 1000) {
    sb::Status s = (*app)->database().RunInTenant(tenant->id, [&](sb::store::Transaction& tx) {
      for (long i = done; i < std::min(entries, done + 1000); ++i) {
        sb::audit::Event event;
        event.actor.kind = sb::audit::ActorKind::kApiKey;
        event.actor.id = "0190f5a0-0000-7000-8000-00000000000" + std::to_string(i % 10);
        event.action = "connection.refresh";
        event.target = "connections/" + std::to_string(i);
        event.request_id = "req-" + std::to_string(i);
        event.details = {{"attempt", i % 3}, {"provider", "google"}};
        SB_RETURN_IF_ERROR((*app)->audit_log().Append(tx, tenant->id, event));
      }
      return sb::OkStatus();
    });
    if (!s.ok()) return Fail("append", s);
  }
  const double fill_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - fill_start).count();

  const long rss_before = ResidentKiB();
  std::atomic<bool> done{false};
  std::atomic<long> rss_peak{rss_before};
  std::thread sampler([&] {
    while (!done) {
      rss_peak = std::max(rss_peak.load(), ResidentKiB());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(*port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::cerr << "audit_export: connect failed\n";
    return 1;
  }
  const std::string request =
      "GET /v1/audit?format=jsonl HTTP/1.1\r\nHost: x\r\nAuthorization: "
      "Bearer " +
      key->plaintext + "\r\nConnection: close\r\n\r\n";
  ::send(fd, request.data(), request.size(), 0);
  const auto start = std::chrono::steady_clock::now();
  std::string buf(64 * 1024, '\0');
  long long bytes = 0;
  long lines = 0;
  std::string tail;
  while (true) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) break;
    bytes += n;
    for (ssize_t i = 0; i < n; ++i) lines += buf[i] == '\n';
    tail.assign(buf.data() + std::max<ssize_t>(0, n - 16), std::min<ssize_t>(n, 16));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  done = true;
  sampler.join();
  ::close(fd);
  const bool complete = tail.size() >= 5 && tail.substr(tail.size() - 5) == "0\r\n\r\n";
  std::printf("entries in chain:        %ld (filled in %.1f s)\n", entries, fill_s);
  std::printf("export bytes on the wire: %lld (%.1f MiB), newline-terminated lines: %ld\n", bytes,
              bytes / 1048576.0, lines);
  std::printf("export time:             %.2f s (%.0f entries/s, %.1f MiB/s), complete: %s\n",
              seconds, entries / seconds, bytes / 1048576.0 / seconds, complete ? "yes" : "NO");
  std::printf("resident memory:         %.1f MiB before, %.1f MiB peak during (+%.1f MiB)\n",
              rss_before / 1024.0, rss_peak.load() / 1024.0,
              (rss_peak.load() - rss_before) / 1024.0);
  (*app)->Stop(std::chrono::milliseconds(1000));
  app->reset();
  std::filesystem::remove_all(dir);
  return complete ? 0 : 1;
}
