// LoopbackHttpServer: a minimal blocking HTTP/1.1 server on 127.0.0.1 for CurlHttpClient
// tests, on plain POSIX sockets with one thread per connection.
//
// It is deliberately independent of sb/http (a peer layer that sb/net may not include) and
// understands only what a well-behaved client sends: Content-Length or chunked bodies (without
// trailers) and keep-alive. Responses may be chunked, may be preceded by raw bytes (e.g. a 1xx
// interim response) and may be produced piece by piece while being sent.
//
// Thread safety: the handler runs on connection threads, possibly concurrently. Start, Stop
// and the accessors may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "sb/base/status.h"
#include "sb/net/http_client.h"

namespace sb::net::testing {

struct ServedRequest {
  std::string method;
  std::string target;  // e.g. "/path?query"
  HeaderList headers;
  std::string body;

  std::optional<std::string_view> Header(std::string_view name) const;
};

struct ServedResponse {
  int status = 200;
  HeaderList headers;  // Content-Length or Transfer-Encoding is added by the server
  std::string body;
  bool chunked = false;    // send the body with chunked transfer encoding (no length ahead)
  std::string raw_prefix;  // bytes written before the status line, e.g. a 103 response
  // When set, the body (after `body`) is produced by calls to this, on the connection's thread,
  // until nullopt; each piece is sent before the next call. The length goes out as
  // Content-Length when `content_length` is set (it must then be right), else chunked.
  std::function<std::optional<std::string>()> body_generator;
  std::optional<size_t> content_length;
};

class LoopbackHttpServer {
 public:
  using Handler = std::function<ServedResponse(const ServedRequest&)>;

  explicit LoopbackHttpServer(Handler handler);
  // Stops if still running.
  ~LoopbackHttpServer();
  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

  // Listens on an ephemeral port of 127.0.0.1. Unavailable when the socket calls fail.
  Status Start();
  // Closes the listener and all connections and joins every thread (waiting for handlers
  // that are still running). Idempotent.
  void Stop();

  uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port><path>".
  std::string Url(std::string_view path) const;
  // Connections accepted so far (to observe keep-alive reuse).
  int connections_accepted() const { return connections_accepted_.load(); }
  // Response bytes (heads and bodies) written to sockets so far, over all connections.
  size_t bytes_sent() const { return bytes_sent_.load(); }

 private:
  void AcceptLoop();
  void Serve(int fd);
  void Forget(int fd);
  bool Write(int fd, std::string_view data);  // counts bytes_sent_
  bool WriteGenerated(int fd, const ServedResponse& response);

  const Handler handler_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<int> connections_accepted_{0};
  std::atomic<size_t> bytes_sent_{0};
  std::thread accept_thread_;
  std::mutex mu_;
  bool stopping_ = false;             // guarded by mu_
  std::vector<int> open_fds_;         // guarded by mu_
  std::vector<std::thread> workers_;  // guarded by mu_
};

}  // namespace sb::net::testing
