// Internal to sb_http (includes Asio/Beast): the per-connection session coroutine and the
// state it shares with Server::Impl.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>  // must precede <boost/asio/awaitable.hpp> with g++ 12
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "sb/base/clock.h"
#include "sb/base/metrics.h"
#include "sb/http/blocking_pool.h"
#include "sb/http/parse.h"
#include "sb/http/router.h"
#include "sb/http/server.h"

namespace sb::http::internal {

// One accepted connection, shared by its session coroutine and the shutdown logic. The
// stream's executor is a strand: touch `stream` and `idle` only on it.
using TlsStream = boost::asio::ssl::stream<boost::beast::tcp_stream&>;

struct Connection {
  explicit Connection(boost::asio::ip::tcp::socket socket) : stream(std::move(socket)) {}
  boost::beast::tcp_stream stream;
  std::unique_ptr<TlsStream> tls;  // set when the server speaks TLS; wraps `stream`
  bool idle = false;               // waiting for the first byte of a request; only on the strand
};

// The peer's IP address (no port) of `connection`, or "" when the socket has none.
std::string PeerIp(const Connection& connection);

// The open connections, so that Stop can close them, counted per peer IP address for
// ServerOptions::max_connections_per_ip. Thread-safe.
class ConnectionRegistry {
 public:
  // Registers `connection` from `peer_ip`; returns how many open connections that address has
  // now, this one included.
  size_t Add(const std::shared_ptr<Connection>& connection, const std::string& peer_ip);
  void Remove(const Connection* connection);
  std::vector<std::shared_ptr<Connection>> Snapshot() const;
  size_t size() const;
  // Waits until no connection is open or `timeout` passed; true when empty.
  bool WaitEmptyFor(std::chrono::milliseconds timeout);

 private:
  mutable std::mutex mu_;
  std::condition_variable empty_cv_;
  struct Entry {
    std::weak_ptr<Connection> connection;
    std::string peer_ip;
  };
  std::unordered_map<const Connection*, Entry> open_;  // guarded by mu_
  std::unordered_map<std::string, size_t> per_ip_;     // guarded by mu_; no zero counts
};

// Everything a session needs; owned by Server::Impl, outlives every session.
struct ServerContext {
  const ServerOptions& options;
  ParseLimits limits;
  const Router& router;
  BlockingPool& pool;
  BlockingPool& upload_pool;  // for routes with stream_request_body
  const Clock& clock;
  metrics::CounterFamily& requests;
  metrics::HistogramFamily& latency;
  metrics::CounterFamily& refused;  // sb_http_connections_refused_total{reason}
  ConnectionRegistry& connections;
  const std::atomic<bool>& stopping;
};

// Serves `connection` until the peer closes, an error or timeout, a non-keep-alive response,
// or shutdown. Never throws. Run on the connection's strand.
boost::asio::awaitable<void> RunSession(ServerContext& context,
                                        std::shared_ptr<Connection> connection);

}  // namespace sb::http::internal
