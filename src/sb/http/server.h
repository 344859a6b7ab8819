// Server: the inbound HTTP/1.1 server (Boost.Beast behind a pimpl, C++20 coroutines on an
// io_context run by `io_threads` threads; one coroutine per connection on its own strand).
//
// Per connection it enforces max_connections_per_ip (503 and close). Per request it parses
// with the limits below (413 / 431 / 400 problem+json, then closes on a parse error), assigns
// a request id (a valid incoming X-Request-Id or a new one), routes, runs the router's
// middleware chain and the handler inline, on the blocking pool, or (streamed request bodies)
// on the upload pool (503 when the pool's queue is full), turns handler exceptions into 500
// problem+json plus an error log, adds X-Request-Id, records
// sb_http_requests_total{route,method,status} and
// sb_http_request_duration_seconds{route,method,status}, and writes a JSON access log line with
// method, route, path (never the query string; the route pattern for a route with
// log_path=false, "(redacted)" for an unmatched path under such a route), status, duration,
// request id and remote address. Headers and bodies are never logged.
//
// Thread safety: Start, Stop and Wait may be called from any thread; Stop and Wait may run
// concurrently (e.g. Wait in main, Stop from a signal-handling thread). The Router, the
// MetricsRegistry and the Clock must outlive the Server.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "sb/base/clock.h"
#include "sb/base/metrics.h"
#include "sb/base/status.h"
#include "sb/http/blocking_pool.h"
#include "sb/http/router.h"

namespace sb::http {

// TLS for a listener: PEM text of the certificate chain (leaf first) and its private key.
struct TlsOptions {
  std::string certificate_chain_pem;
  std::string private_key_pem;
};

struct ServerOptions {
  std::string address = "127.0.0.1";    // IPv4 or IPv6 literal to listen on
  uint16_t port = 0;                    // 0 picks an ephemeral port; see Server::port()
  size_t io_threads = 2;                // threads running the io_context
  size_t max_body_bytes = 1024 * 1024;  // larger bodies get 413 (by Content-Length at once)
  size_t max_header_bytes = 16 * 1024;  // request line + headers; larger gets 431 + close
  // Deadline to receive a whole request once its first byte arrived (slowloris defense).
  std::chrono::milliseconds read_timeout{10'000};
  std::chrono::milliseconds write_timeout{10'000};  // deadline to write one response
  std::chrono::milliseconds idle_timeout{60'000};   // keep-alive wait for the next request
  size_t max_requests_per_connection = 0;           // 0: unlimited
  int listen_backlog = 1024;
  BlockingPoolOptions pool;  // for routes with Execution::kBlockingPool
  // For routes with RouteOptions::stream_request_body (handler and streamed answer): a reader
  // of a slow upload waits on the network, so it must never hold a thread of `pool`. A full
  // queue answers 503.
  BlockingPoolOptions upload_pool{.threads = 16, .max_queue = 256};
  // Open connections one peer IP address may hold; the next one gets 503 problem+json with
  // Retry-After and is closed without its request being read. 0: no cap.
  size_t max_connections_per_ip = 256;
  bool access_log = true;         // one JSON line per request through sb::log
  std::optional<TlsOptions> tls;  // when set, every connection speaks TLS 1.2+ (no plain HTTP)
};

class Server {
 public:
  Server(ServerOptions options, const Router& router, metrics::MetricsRegistry& metrics,
         const Clock& clock);
  // Stops (without grace) if still running.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the io threads. Returns InvalidArgument for a bad address or
  // unusable TLS material, Unavailable when binding fails, FailedPrecondition when called twice.
  Status Start();

  // The bound port (the ephemeral one when options.port == 0). REQUIRES: Start succeeded.
  uint16_t port() const;

  // Graceful shutdown: stops accepting at once (new connections are refused), closes idle
  // keep-alive connections, lets in-flight requests finish for up to `grace` (their responses
  // carry Connection: close), then closes what is left, cancels queued pool work (503), and
  // joins the io and pool threads. Idempotent; returns when everything stopped.
  void Stop(std::chrono::milliseconds grace);

  // Blocks until Stop has completed. Returns at once if the server never started.
  void Wait();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sb::http
