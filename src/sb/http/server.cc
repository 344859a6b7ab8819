#include "sb/http/server.h"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>  // must precede <boost/asio/awaitable.hpp> with g++ 12
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "sb/base/logging.h"
#include "sb/http/internal/session.h"

namespace sb::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
// After the grace period, how long to wait for force-closed connections to unwind.
constexpr std::chrono::milliseconds kForcedCloseWait{2000};
}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions options, const Router& router, metrics::MetricsRegistry& metrics,
       const Clock& clock);
  ~Impl();

  Status Start();
  uint16_t port() const { return port_; }
  void Stop(std::chrono::milliseconds grace);
  void Wait();

 private:
  enum class State { kNew, kRunning, kStopping, kStopped };

  Status Listen();
  Status SetUpTls();
  asio::awaitable<void> AcceptLoop();
  void CloseConnections(bool idle_only);
  void Finish();

  const ServerOptions options_;
  metrics::MetricsRegistry& metrics_;
  BlockingPool pool_;
  BlockingPool upload_pool_;
  internal::ConnectionRegistry connections_;
  std::atomic<bool> stopping_{false};
  internal::ServerContext context_;
  std::optional<asio::ssl::context> tls_;  // set by SetUpTls when options_.tls is given
  // Declared after everything sessions use, so that it is destroyed first.
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;

  std::mutex state_mu_;
  std::condition_variable state_cv_;
  State state_ = State::kNew;  // guarded by state_mu_
};

Server::Impl::Impl(ServerOptions options, const Router& router, metrics::MetricsRegistry& metrics,
                   const Clock& clock)
    : options_(std::move(options)),
      metrics_(metrics),
      pool_(options_.pool),
      upload_pool_(options_.upload_pool),
      context_{options_,
               ParseLimits{options_.max_header_bytes, options_.max_body_bytes},
               router,
               pool_,
               upload_pool_,
               clock,
               metrics.AddCounter("sb_http_requests_total", "HTTP requests by route pattern.",
                                  {"route", "method", "status"}),
               metrics.AddHistogram("sb_http_request_duration_seconds",
                                    "HTTP request latency from first byte to response written.",
                                    {"route", "method", "status"}),
               metrics.AddCounter("sb_http_connections_refused_total",
                                  "Connections refused before a request was read, by reason.",
                                  {"reason"}),
               connections_,
               stopping_},
      io_(static_cast<int>(std::max<size_t>(1, options_.io_threads))),
      acceptor_(asio::make_strand(io_)) {
  metrics_.AddGaugeCallback("sb_http_blocking_queue_depth", "Tasks waiting for a pool thread.",
                            [this] { return static_cast<double>(pool_.queue_depth()); });
  metrics_.AddGaugeCallback("sb_http_blocking_busy_threads", "Pool threads running a task.",
                            [this] { return static_cast<double>(pool_.busy_threads()); });
  metrics_.AddGaugeCallback("sb_http_upload_queue_depth",
                            "Streamed-body requests waiting for an upload pool thread.",
                            [this] { return static_cast<double>(upload_pool_.queue_depth()); });
  metrics_.AddGaugeCallback("sb_http_upload_busy_threads",
                            "Upload pool threads running a streamed-body request.",
                            [this] { return static_cast<double>(upload_pool_.busy_threads()); });
  metrics_.AddGaugeCallback("sb_http_open_connections", "Open HTTP connections.",
                            [this] { return static_cast<double>(connections_.size()); });
}

Server::Impl::~Impl() {
  Stop(std::chrono::milliseconds(0));
  metrics_.RemoveGaugeCallback("sb_http_blocking_queue_depth");
  metrics_.RemoveGaugeCallback("sb_http_blocking_busy_threads");
  metrics_.RemoveGaugeCallback("sb_http_upload_queue_depth");
  metrics_.RemoveGaugeCallback("sb_http_upload_busy_threads");
  metrics_.RemoveGaugeCallback("sb_http_open_connections");
}

Status Server::Impl::Listen() {
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(options_.address, ec);
  if (ec) return InvalidArgumentError("invalid listen address: " + options_.address);
  const tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(options_.listen_backlog, ec);
  if (ec) {
    return UnavailableError("cannot listen on " + options_.address + ":" +
                            std::to_string(options_.port) + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  return OkStatus();
}

Status Server::Impl::SetUpTls() {
  if (!options_.tls) return OkStatus();
  tls_.emplace(asio::ssl::context::tls_server);
  boost::system::error_code ec;
  tls_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                        asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                        asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                    ec);
  if (!ec) {
    tls_->use_certificate_chain(asio::buffer(options_.tls->certificate_chain_pem), ec);
  }
  if (ec) return InvalidArgumentError("unusable TLS certificate chain: " + ec.message());
  tls_->use_private_key(asio::buffer(options_.tls->private_key_pem), asio::ssl::context::pem, ec);
  // The message names the failure, never the key.
  if (ec) return InvalidArgumentError("unusable TLS private key: " + ec.message());
  return OkStatus();
}

Status Server::Impl::Start() {
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (state_ != State::kNew) return FailedPreconditionError("server already started");
    state_ = State::kRunning;
  }
  if (Status tls = SetUpTls(); !tls.ok()) {
    Finish();
    return tls;
  }
  if (Status listening = Listen(); !listening.ok()) {
    Finish();
    return listening;
  }
  work_.emplace(io_.get_executor());
  asio::co_spawn(acceptor_.get_executor(), AcceptLoop(), asio::detached);
  for (size_t i = 0; i < std::max<size_t>(1, options_.io_threads); ++i) {
    threads_.emplace_back([this] { io_.run(); });
  }
  log::Info("http_server_started", {{"address", options_.address}, {"port", port_}});
  return OkStatus();
}

asio::awaitable<void> Server::Impl::AcceptLoop() {
  while (acceptor_.is_open()) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(
        asio::make_strand(io_), asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (ec) {
      // E.g. EMFILE: back off briefly instead of spinning.
      log::Warn("http_accept_failed", {{"error", ec.message()}});
      asio::steady_timer timer(acceptor_.get_executor(), std::chrono::milliseconds(50));
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto connection = std::make_shared<internal::Connection>(std::move(socket));
    if (tls_) connection->tls = std::make_unique<internal::TlsStream>(connection->stream, *tls_);
    asio::co_spawn(connection->stream.get_executor(), internal::RunSession(context_, connection),
                   asio::detached);
  }
}

void Server::Impl::CloseConnections(bool idle_only) {
  for (const auto& connection : connections_.Snapshot()) {
    asio::post(connection->stream.get_executor(), [connection, idle_only] {
      if (idle_only && !connection->idle) return;
      boost::system::error_code ec;
      connection->stream.socket().close(ec);
    });
  }
}

void Server::Impl::Stop(std::chrono::milliseconds grace) {
  {
    std::unique_lock<std::mutex> lock(state_mu_);
    if (state_ == State::kNew) state_ = State::kStopped;
    if (state_ != State::kRunning) {
      state_cv_.wait(lock, [this] { return state_ == State::kStopped; });
      return;
    }
    state_ = State::kStopping;
  }
  stopping_.store(true);
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
  CloseConnections(/*idle_only=*/true);
  const bool drained = connections_.WaitEmptyFor(grace);
  if (!drained) CloseConnections(/*idle_only=*/false);
  pool_.Shutdown();  // cancelled tasks answer 503 to their (closed) connections
  upload_pool_.Shutdown();
  if (!connections_.WaitEmptyFor(kForcedCloseWait)) {
    log::Warn("http_server_stop_forced", {{"open_connections", connections_.size()}});
  }
  work_.reset();
  io_.stop();
  for (std::thread& t : threads_) t.join();
  log::Info("http_server_stopped", {{"port", port_}, {"graceful", drained}});
  Finish();
}

void Server::Impl::Finish() {
  std::lock_guard<std::mutex> lock(state_mu_);
  state_ = State::kStopped;
  state_cv_.notify_all();
}

void Server::Impl::Wait() {
  std::unique_lock<std::mutex> lock(state_mu_);
  state_cv_.wait(lock, [this] { return state_ == State::kNew || state_ == State::kStopped; });
}

Server::Server(ServerOptions options, const Router& router, metrics::MetricsRegistry& metrics,
               const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), router, metrics, clock)) {}

Server::~Server() = default;

Status Server::Start() { return impl_->Start(); }
uint16_t Server::port() const { return impl_->port(); }
void Server::Stop(std::chrono::milliseconds grace) { impl_->Stop(grace); }
void Server::Wait() { impl_->Wait(); }

namespace internal {

std::string PeerIp(const Connection& connection) {
  boost::system::error_code ec;
  const auto endpoint = connection.stream.socket().remote_endpoint(ec);
  return ec ? std::string() : endpoint.address().to_string();
}

size_t ConnectionRegistry::Add(const std::shared_ptr<Connection>& connection,
                               const std::string& peer_ip) {
  std::lock_guard<std::mutex> lock(mu_);
  open_.emplace(connection.get(), Entry{connection, peer_ip});
  return ++per_ip_[peer_ip];
}

void ConnectionRegistry::Remove(const Connection* connection) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = open_.find(connection);
  if (it == open_.end()) return;
  const auto count = per_ip_.find(it->second.peer_ip);
  if (count != per_ip_.end() && --count->second == 0) per_ip_.erase(count);
  open_.erase(it);
  if (open_.empty()) empty_cv_.notify_all();
}

std::vector<std::shared_ptr<Connection>> ConnectionRegistry::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<Connection>> out;
  for (const auto& [ptr, entry] : open_) {
    if (auto strong = entry.connection.lock()) out.push_back(std::move(strong));
  }
  return out;
}

size_t ConnectionRegistry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_.size();
}

bool ConnectionRegistry::WaitEmptyFor(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return empty_cv_.wait_for(lock, timeout, [this] { return open_.empty(); });
}

}  // namespace internal
}  // namespace sb::http
