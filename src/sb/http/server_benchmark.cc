// A server for load tests with wrk (not a test; built on demand):
//   cmake --build build/release --target http_server_benchmark
//   build/release/src/sb/http/http_server_benchmark 8080 20 &
//   wrk -t2 -c64 -d10s http://127.0.0.1:8080/work
// Routes: /work spins ~10 µs on the blocking pool, /inline answers on the I/O thread.
// Arguments: port (default 8080), seconds to run (default 30), io threads (default 2),
// pool threads (default 4), access log on/off (default 1).
#include "sb/http/server.h"

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "sb/base/clock.h"
#include "sb/base/metrics.h"

namespace {

sb::http::Response Work(sb::http::Request&) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(10);
  while (std::chrono::steady_clock::now() < until) {
  }
  return sb::http::Response::Json(200, {{"ok", true}});
}

}  // namespace

int main(int argc, char** argv) {
  const auto arg = [&](int i, int fallback) { return argc > i ? std::atoi(argv[i]) : fallback; };
  sb::http::Router router;
  if (!router.Add("GET", "/work", Work).ok() ||
      !router.Add("GET", "/inline", Work, {.execution = sb::http::Execution::kInline}).ok()) {
    return 1;
  }
  sb::metrics::MetricsRegistry metrics;
  sb::SystemClock clock;
  sb::http::ServerOptions options;
  options.port = static_cast<uint16_t>(arg(1, 8080));
  options.io_threads = static_cast<size_t>(arg(3, 2));
  options.pool.threads = static_cast<size_t>(arg(4, 4));
  options.access_log = arg(5, 1) != 0;
  sb::http::Server server(options, router, metrics, clock);
  if (const sb::Status s = server.Start(); !s.ok()) {
    std::cerr << s.ToString() << "\n";
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::seconds(arg(2, 30)));
  server.Stop(std::chrono::seconds(5));
  return 0;
}
