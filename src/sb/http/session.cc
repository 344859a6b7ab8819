// The per-connection coroutine: read a request, dispatch it, write the response, repeat.
#include "sb/http/internal/session.h"

#include <array>
#include <charconv>
#include <cstdint>
#include <exception>
#include <future>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <typeinfo>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/optional/optional.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "sb/base/logging.h"
#include "sb/http/internal/beast_request.h"
#include "sb/http/problem.h"

namespace sb::http::internal {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::use_awaitable;

constexpr size_t kReadChunk = 4096;
constexpr std::chrono::milliseconds kDrainTimeout{500};
constexpr size_t kMaxDrainBytes = 256 * 1024;

// Bounded method label for metrics.
std::string_view MethodLabel(std::string_view method) {
  static constexpr std::string_view kKnown[] = {"GET",   "HEAD",   "POST",   "PUT",
                                                "PATCH", "DELETE", "OPTIONS"};
  for (std::string_view known : kKnown) {
    if (known == method) return known;
  }
  return "OTHER";
}

bool IsSafeHeaderText(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// Headers the server owns; a handler's copies are dropped.
bool IsServerHeader(std::string_view name) {
  return EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Connection") ||
         EqualsIgnoreCase(name, "Transfer-Encoding");
}

// `content_length` nullopt: the body follows with chunked transfer encoding.
void SerializeHead(const Response& response, bool keep_alive, std::string& out,
                   std::optional<size_t> content_length) {
  out.clear();
  char number[24];
  auto end = std::to_chars(number, number + sizeof(number), response.status).ptr;
  out.append("HTTP/1.1 ").append(number, end).append(" ");
  out.append(ReasonPhrase(response.status)).append("\r\n");
  for (const auto& [name, value] : response.headers) {
    if (name.empty() || IsServerHeader(name) || !IsSafeHeaderText(name) ||
        !IsSafeHeaderText(value)) {
      continue;
    }
    out.append(name).append(": ").append(value).append("\r\n");
  }
  if (content_length) {
    end = std::to_chars(number, number + sizeof(number), *content_length).ptr;
    out.append("Content-Length: ").append(number, end).append("\r\n");
  } else {
    out.append("Transfer-Encoding: chunked\r\n");
  }
  out.append(keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
}

// Whether the client has left a streamed response: it closed or reset the TCP connection
// (CLOSE_WAIT or CLOSE). The kernel's socket state, not a read: for streams that write nothing
// while idle and would otherwise notice only at their next keep-alive, and on TLS too, where a
// close_notify may still wait unread in front of the peer's FIN.
bool PeerLeft(beast::tcp_stream& stream) {
  tcp_info info{};
  socklen_t size = sizeof(info);
  if (::getsockopt(stream.socket().native_handle(), IPPROTO_TCP, TCP_INFO, &info, &size) != 0) {
    return true;
  }
  return info.tcpi_state == TCP_CLOSE_WAIT || info.tcpi_state == TCP_CLOSE;
}

// Runs `fn` on the pool and resumes the caller on its own executor with the result, or with
// nullopt when the pool's queue is full or the pool cancelled the task at shutdown.
template <typename T, typename Fn, typename Token>
auto AsyncRunOnPool(BlockingPool& pool, Fn fn, Token&& token) {
  return asio::async_initiate<Token, void(std::optional<T>)>(
      [&pool](auto handler, Fn work) {
        auto executor = asio::get_associated_executor(handler);
        PoolTask task([handler = std::move(handler), work = std::move(work),
                       executor](bool cancelled) mutable {
          std::optional<T> result;
          if (!cancelled) result = work();
          asio::post(executor,
                     [handler = std::move(handler), result = std::move(result)]() mutable {
                       handler(std::move(result));
                     });
        });
        if (!pool.TrySubmit(task)) task(true);
      },
      token, std::move(fn));
}

// The body of a request on a stream_request_body route, read from the connection as the
// handler pulls it. The handler runs on the blocking pool while the session waits for it, so
// each read is posted to the connection's strand and awaited here; the reader owns the parser
// and the bytes already buffered, and keeps the connection alive, so it stays safe after the
// session moved on (reads then fail: the session closes such connections after the response).
template <class Stream>
class StreamedBody final : public BodySource,
                           public std::enable_shared_from_this<StreamedBody<Stream>> {
 public:
  StreamedBody(std::shared_ptr<Connection> connection, Stream& io,
               std::shared_ptr<BeastParser> parser, beast::flat_buffer buffered,
               std::chrono::milliseconds deadline)
      : connection_(std::move(connection)),
        io_(io),
        parser_(std::move(parser)),
        buffer_(std::move(buffered)),
        deadline_(deadline) {}

  Result<std::optional<std::string>> Next() override {
    while (!done_) {
      if (parser_->is_done()) {
        done_ = true;
        break;
      }
      auto result = std::make_shared<std::promise<beast::error_code>>();
      std::future<beast::error_code> read = result->get_future();
      auto self = this->shared_from_this();
      asio::post(connection_->stream.get_executor(), [self, result] {
        bhttp::async_read_some(
            self->io_, self->buffer_, *self->parser_,
            [self, result](beast::error_code ec, size_t) { result->set_value(ec); });
      });
      // The connection's own read deadline ends a stalled read; this bound only keeps a pool
      // thread from waiting forever if the server stops meanwhile.
      if (read.wait_for(deadline_ + std::chrono::seconds(5)) != std::future_status::ready) {
        done_ = true;
        return Status(StatusCode::kCancelled, "the request body did not arrive in time");
      }
      const beast::error_code ec = read.get();
      if (ec) {
        done_ = true;
        if (ec == bhttp::error::body_limit) return ParseErrorToStatus(ec);
        const bool protocol_error =
            ec.category() == bhttp::make_error_code(bhttp::error::need_more).category() &&
            ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
        if (protocol_error) return ParseErrorToStatus(ec);
        return Status(StatusCode::kCancelled, "the client closed the connection");
      }
      std::string chunk = std::move(parser_->get().body());
      parser_->get().body().clear();
      if (!chunk.empty()) return std::optional<std::string>(std::move(chunk));
    }
    return std::optional<std::string>();
  }

 private:
  std::shared_ptr<Connection> connection_;
  Stream& io_;  // lives in *connection_
  std::shared_ptr<BeastParser> parser_;
  beast::flat_buffer buffer_;
  const std::chrono::milliseconds deadline_;
  bool done_ = false;  // only the pulling thread touches it
};

// `Stream` is the byte stream requests travel on: the TCP stream itself, or a TLS stream over
// it. Deadlines and shutdown always act on the TCP layer (`connection_->stream`).
template <class Stream>
class Session {
 public:
  Session(ServerContext& context, std::shared_ptr<Connection> connection, Stream& io)
      : context_(context), connection_(std::move(connection)), io_(io) {
    beast::error_code ec;
    const auto endpoint = connection_->stream.socket().remote_endpoint(ec);
    if (!ec) remote_ = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  }

  asio::awaitable<void> Run();
  // Answers 503 (too many connections from this address) and closes.
  asio::awaitable<void> Refuse();

 private:
  BlockingPool& PoolFor(const RouteOptions& options) const;
  asio::awaitable<bool> WaitForRequest();
  asio::awaitable<Status> ReadRequest(BeastParser& parser);
  // The route's body limit, and whether its body streams to the handler.
  std::pair<size_t, bool> BodyLimitFor(const BeastParser& parser) const;
  asio::awaitable<Response> Handle(Request& request);
  asio::awaitable<bool> Finish(const Request& request, Response& response,
                               std::chrono::steady_clock::time_point start, bool keep_alive);
  asio::awaitable<bool> FinishStream(const Request& request, Response& response,
                                     std::chrono::steady_clock::time_point start, bool keep_alive);
  Response SafeInvoke(const Route& route, Request& request) const;
  void Record(const Request& request, int status,
              std::chrono::steady_clock::time_point start) const;
  std::string_view LoggedPath(const Request& request, std::string_view route) const;
  void AssignRequestId(Request& request) const;
  asio::awaitable<void> DrainBeforeClose();
  void Close();

  ServerContext& context_;
  std::shared_ptr<Connection> connection_;
  Stream& io_;
  beast::flat_buffer buffer_;
  std::string remote_;
  std::string head_;          // reused serialization buffer for response heads
  ParseLimits limits_;        // of the current request: the server's, with its route's body limit
  bool stream_body_ = false;  // the current request's body streams to its handler
};

template <class Stream>
asio::awaitable<void> Session<Stream>::Run() {
  size_t served = 0;
  while (co_await WaitForRequest()) {
    const auto start = context_.clock.SteadyNow();
    Request request;
    request.remote_address = remote_;
    auto parser_owner = std::make_shared<BeastParser>();
    BeastParser& parser = *parser_owner;
    limits_ = context_.limits;
    stream_body_ = false;
    ApplyLimits(limits_, parser);
    const Status read = co_await ReadRequest(parser);
    if (read.code() == StatusCode::kCancelled) break;  // peer gone or timed out
    if (!read.ok()) {
      request.request_id = NewRequestId();
      Response response = ParseFailureProblem(read, limits_, request.request_id);
      co_await Finish(request, response, start, false);
      co_await DrainBeforeClose();
      break;
    }
    const bool wants_keep_alive = parser.get().keep_alive() && !stream_body_;
    Status converted;
    if (stream_body_) {
      // The header now; the body as the handler pulls it, with what is already buffered.
      BeastRequest head = parser.get();
      converted = FromBeast(std::move(head), request);
      if (const auto length = parser.content_length()) request.body_length = *length;
      request.body_stream = std::make_shared<StreamedBody<Stream>>(
          connection_, io_, parser_owner, std::move(buffer_), context_.options.read_timeout);
      buffer_ = beast::flat_buffer();
    } else {
      converted = FromBeast(parser.release(), request);
    }
    AssignRequestId(request);
    // Not a conditional expression: g++ 12 miscompiles co_await inside `?:`.
    Response response;
    if (converted.ok()) {
      response = co_await Handle(request);
    } else {
      response = MalformedRequestProblem(converted.message(), request.request_id);
    }
    ++served;
    const size_t max = context_.options.max_requests_per_connection;
    const bool keep_alive = wants_keep_alive && converted.ok() && !context_.stopping.load() &&
                            (max == 0 || served < max);
    if (!co_await Finish(request, response, start, keep_alive) || !keep_alive) break;
  }
  Close();
}

template <class Stream>
asio::awaitable<bool> Session<Stream>::WaitForRequest() {
  if (buffer_.size() > 0) co_return true;  // a pipelined request is already buffered
  connection_->idle = true;
  // Checked after marking idle: Stop sets `stopping` before it closes idle connections.
  if (context_.stopping.load()) co_return false;
  connection_->stream.expires_after(context_.options.idle_timeout);
  beast::error_code ec;
  const size_t n = co_await io_.async_read_some(buffer_.prepare(kReadChunk),
                                                asio::redirect_error(use_awaitable, ec));
  connection_->idle = false;
  if (ec) co_return false;
  buffer_.commit(n);
  co_return true;
}

template <class Stream>
asio::awaitable<Status> Session<Stream>::ReadRequest(BeastParser& parser) {
  beast::error_code ec;
  // One deadline for the whole request: a client trickling bytes cannot extend it.
  connection_->stream.expires_after(context_.options.read_timeout);
  // The body limit depends on the route, known only once the header is in: no limit while
  // reading the header, then the route's (checked against Content-Length here, applied by the
  // parser to chunked bodies). Not boost::none: Beast 1.74 compares Content-Length with the
  // optional, and anything is greater than none.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  co_await bhttp::async_read_header(io_, buffer_, parser, asio::redirect_error(use_awaitable, ec));
  if (!ec && !parser.is_done()) {
    std::tie(limits_.max_body_bytes, stream_body_) = BodyLimitFor(parser);
    const boost::optional<std::uint64_t> length = parser.content_length();
    if (length && *length > limits_.max_body_bytes) {
      co_return Status(StatusCode::kOutOfRange, "request body too large");
    }
    parser.body_limit(limits_.max_body_bytes);

    const auto expect = parser.get().find(bhttp::field::expect);
    if (expect != parser.get().end() && EqualsIgnoreCase(expect->value(), "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      co_await asio::async_write(io_, asio::buffer(kContinue),
                                 asio::redirect_error(use_awaitable, ec));
    }
    if (!ec && !stream_body_) {
      co_await bhttp::async_read(io_, buffer_, parser, asio::redirect_error(use_awaitable, ec));
    }
  }
  if (!ec) co_return OkStatus();
  const bool protocol_error =
      ec.category() == bhttp::make_error_code(bhttp::error::need_more).category() &&
      ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
  if (protocol_error) co_return ParseErrorToStatus(ec);
  co_return Status(StatusCode::kCancelled, "connection closed");
}

// The body limit of the route the request in `parser` (header read) goes to.
template <class Stream>
std::pair<size_t, bool> Session<Stream>::BodyLimitFor(const BeastParser& parser) const {
  const auto method = parser.get().method_string();
  const auto raw_target = parser.get().target();
  const std::string_view target(raw_target.data(), raw_target.size());
  const RouteMatch match = context_.router.Match(std::string_view(method.data(), method.size()),
                                                 target.substr(0, target.find('?')));
  if (match.kind != MatchKind::kFound) return {context_.limits.max_body_bytes, false};
  const RouteOptions& options = match.route->options;
  return {options.max_body_bytes.value_or(context_.limits.max_body_bytes),
          options.stream_request_body};
}

template <class Stream>
asio::awaitable<Response> Session<Stream>::Handle(Request& request) {
  const RouteMatch match = context_.router.Resolve(request);
  if (match.kind == MatchKind::kNotFound) co_return RouteNotFoundProblem(request.request_id);
  if (match.kind == MatchKind::kMethodNotAllowed) {
    co_return MethodNotAllowedProblem(match.allow, request.request_id);
  }
  const Route& route = *match.route;
  if (route.options.execution == Execution::kInline) co_return SafeInvoke(route, request);
  auto work = [this, &route, &request] { return SafeInvoke(route, request); };
  std::optional<Response> response =
      co_await AsyncRunOnPool<Response>(PoolFor(route.options), std::move(work), use_awaitable);
  if (!response) {
    co_return route.options.stream_request_body ? UploadsOverloadedProblem(request.request_id)
                                                : OverloadedProblem(request.request_id);
  }
  co_return std::move(*response);
}

// A handler that reads its body as it arrives waits on the client, and one that sends a write
// to a provider waits on the provider: both run on the upload pool, never on the pool that
// database work needs. A streamed answer is pulled there too.
template <class Stream>
BlockingPool& Session<Stream>::PoolFor(const RouteOptions& options) const {
  const bool waits = options.stream_request_body || options.execution == Execution::kOutboundPool;
  return waits ? context_.upload_pool : context_.pool;
}

// A connection over max_connections_per_ip: 503 at once, nothing of its request is parsed.
template <class Stream>
asio::awaitable<void> Session<Stream>::Refuse() {
  context_.refused.WithLabels({"per_ip_limit"}).Increment();
  log::Debug("http_connection_refused", {{"reason", "per_ip_limit"}, {"remote_addr", remote_}});
  const std::string request_id = NewRequestId();
  Response response = TooManyConnectionsProblem(request_id);
  response.SetHeader("X-Request-Id", request_id);
  SerializeHead(response, false, head_, response.body.size());
  const std::array<asio::const_buffer, 2> buffers = {asio::buffer(head_),
                                                     asio::buffer(response.body)};
  beast::error_code ec;
  connection_->stream.expires_after(context_.options.write_timeout);
  co_await asio::async_write(io_, buffers, asio::redirect_error(use_awaitable, ec));
  if (!ec) co_await DrainBeforeClose();
  Close();
}

template <class Stream>
Response Session<Stream>::SafeInvoke(const Route& route, Request& request) const {
  try {
    return context_.router.Invoke(route, request);
  } catch (const std::exception& e) {
    // what() may quote request data, so only the exception type is logged.
    log::Error("http_handler_exception", {{"route", route.pattern},
                                          {"request_id", request.request_id},
                                          {"exception_type", typeid(e).name()}});
  } catch (...) {
    log::Error("http_handler_exception",
               {{"route", route.pattern}, {"request_id", request.request_id}});
  }
  return InternalErrorProblem(request.request_id);
}

template <class Stream>
asio::awaitable<bool> Session<Stream>::Finish(const Request& request, Response& response,
                                              std::chrono::steady_clock::time_point start,
                                              bool keep_alive) {
  if (response.stream && request.method != "HEAD") {
    co_return co_await FinishStream(request, response, start, keep_alive);
  }
  response.SetHeader("X-Request-Id", request.request_id);
  SerializeHead(response, keep_alive, head_, response.body.size());
  const bool head_only = request.method == "HEAD";
  const std::array<asio::const_buffer, 2> buffers = {
      asio::buffer(head_), head_only ? asio::const_buffer() : asio::buffer(response.body)};
  beast::error_code ec;
  connection_->stream.expires_after(context_.options.write_timeout);
  co_await asio::async_write(io_, buffers, asio::redirect_error(use_awaitable, ec));
  Record(request, response.status, start);
  co_return !ec;
}

template <class Stream>
asio::awaitable<bool> Session<Stream>::FinishStream(const Request& request, Response& response,
                                                    std::chrono::steady_clock::time_point start,
                                                    bool keep_alive) {
  std::shared_ptr<BodySource> source = std::move(response.stream);
  using NextChunk = Result<std::optional<std::string>>;
  bool head_sent = false;
  size_t bytes = 0;
  beast::error_code ec;
  // A raw pointer, as the handler's work lambda does with the request: the coroutine (and with
  // it `source`) stays suspended until the pool task has run or was cancelled. (Capturing the
  // shared_ptr in a temporary lambda inside co_await trips a g++ 12 coroutine bug.)
  BodySource* const raw = source.get();
  const auto pull = [raw] { return raw->Next(); };
  while (true) {
    auto next =
        co_await AsyncRunOnPool<NextChunk>(PoolFor(request.route_options), pull, use_awaitable);
    if (!next || !next->ok()) {
      if (!head_sent) {  // nothing went out yet: answer with a problem instead
        Response problem = next ? StatusToProblem(next->status(), request.request_id)
                                : OverloadedProblem(request.request_id);
        co_return co_await Finish(request, problem, start, keep_alive);
      }
      // Mid-stream: end without the final chunk so the client sees a truncated transfer.
      log::Warn("http_stream_aborted",
                {{"request_id", request.request_id},
                 {"route", std::string(request.route_name)},
                 {"error", next ? next->status().ToString() : std::string("shutting down")}});
      Record(request, response.status, start);
      co_return false;
    }
    const std::optional<std::string>& chunk = next->value();
    if (chunk && chunk->empty()) {  // nothing to send now (an empty chunk would end the body)
      if (!PeerLeft(connection_->stream)) continue;
      log::Debug("http_stream_client_left", {{"request_id", request.request_id}});
      Record(request, response.status, start);
      co_return false;
    }
    std::string frame;
    if (!head_sent) {
      response.SetHeader("X-Request-Id", request.request_id);
      SerializeHead(response, keep_alive, frame, std::nullopt);
      head_sent = true;
    }
    if (chunk) {
      char size[20];
      const auto end = std::to_chars(size, size + sizeof(size), chunk->size(), 16).ptr;
      frame.append(size, end).append("\r\n").append(*chunk).append("\r\n");
      bytes += chunk->size();
    } else {
      frame.append("0\r\n\r\n");
    }
    connection_->stream.expires_after(context_.options.write_timeout);
    co_await asio::async_write(io_, asio::buffer(frame), asio::redirect_error(use_awaitable, ec));
    if (ec) {  // the client went away or stopped reading past the write timeout
      Record(request, response.status, start);
      co_return false;
    }
    if (!chunk) break;
  }
  Record(request, response.status, start);
  log::Debug("http_stream_done", {{"request_id", request.request_id}, {"bytes", bytes}});
  co_return true;
}

template <class Stream>
void Session<Stream>::Record(const Request& request, int status,
                             std::chrono::steady_clock::time_point start) const {
  const double seconds = std::chrono::duration<double>(context_.clock.SteadyNow() - start).count();
  const std::string_view route = !request.route_name.empty() ? request.route_name
                                 : request.method.empty()    ? std::string_view("invalid")
                                                             : std::string_view("unmatched");
  const std::string_view method = MethodLabel(request.method);
  char status_text[8];
  const auto end = std::to_chars(status_text, status_text + sizeof(status_text), status).ptr;
  const std::string_view status_label(status_text, end - status_text);
  context_.requests.WithLabels({route, method, status_label}).Increment();
  context_.latency.WithLabels({route, method, status_label}).Observe(seconds);
  if (!context_.options.access_log) return;
  log::Info("http_request", {{"method", method},
                             {"route", route},
                             {"path", LoggedPath(request, route)},
                             {"status", status},
                             {"duration_ms", seconds * 1000},
                             {"request_id", request.request_id},
                             {"remote_addr", remote_}});
}

// The path for the access log: never one that carries a secret (OA-12). A matched route with
// log_path=false logs its pattern; an unmatched path that falls under such a route (another
// method, a sub-path) logs "(redacted)".
template <class Stream>
std::string_view Session<Stream>::LoggedPath(const Request& request, std::string_view route) const {
  if (!request.route_name.empty()) {
    return request.route_options.log_path ? std::string_view(request.path) : route;
  }
  if (context_.router.IsSecretPath(request.path)) return "(redacted)";
  return request.path;
}

template <class Stream>
void Session<Stream>::AssignRequestId(Request& request) const {
  const std::optional<std::string_view> incoming = request.Header("X-Request-Id");
  request.request_id =
      incoming && IsValidRequestId(*incoming) ? std::string(*incoming) : NewRequestId();
}

// After an error response, half-close and read (discarding) what the client still sends for a
// moment: closing with unread input makes the kernel send RST, which can destroy the response
// before the client reads it.
template <class Stream>
asio::awaitable<void> Session<Stream>::DrainBeforeClose() {
  beast::error_code ec;
  connection_->stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  connection_->stream.expires_after(kDrainTimeout);
  size_t drained = 0;
  while (!ec && drained < kMaxDrainBytes) {
    buffer_.clear();
    drained += co_await io_.async_read_some(buffer_.prepare(kReadChunk),
                                            asio::redirect_error(use_awaitable, ec));
  }
}

template <class Stream>
void Session<Stream>::Close() {
  beast::error_code ec;
  connection_->stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  connection_->stream.socket().close(ec);
}

}  // namespace

// Runs `session`, or refuses its connection when the peer address is over its cap.
template <class Stream>
asio::awaitable<void> ServeOrRefuse(Session<Stream>& session, bool refuse) {
  if (refuse) {
    co_await session.Refuse();
  } else {
    co_await session.Run();
  }
}

asio::awaitable<void> RunSession(ServerContext& context, std::shared_ptr<Connection> connection) {
  const size_t from_peer = context.connections.Add(connection, PeerIp(*connection));
  const size_t cap = context.options.max_connections_per_ip;
  const bool refuse = cap != 0 && from_peer > cap;
  // Unregisters also when the frame is destroyed unfinished (io_context torn down).
  struct Unregister {
    ConnectionRegistry& registry;
    const Connection* connection;
    ~Unregister() { registry.Remove(connection); }
  } unregister{context.connections, connection.get()};
  try {
    if (connection->tls) {
      // The handshake shares the read deadline: a client that stalls it is dropped.
      connection->stream.expires_after(context.options.read_timeout);
      beast::error_code ec;
      co_await connection->tls->async_handshake(asio::ssl::stream_base::server,
                                                asio::redirect_error(use_awaitable, ec));
      if (ec) {
        log::Debug("http_tls_handshake_failed", {{"error", ec.message()}});
        connection->stream.socket().close(ec);
        co_return;
      }
      Session<TlsStream> session(context, connection, *connection->tls);
      co_await ServeOrRefuse(session, refuse);
    } else {
      Session<beast::tcp_stream> session(context, connection, connection->stream);
      co_await ServeOrRefuse(session, refuse);
    }
  } catch (const std::exception& e) {
    log::Error("http_session_exception", {{"exception_type", typeid(e).name()}});
  } catch (...) {
    log::Error("http_session_exception");
  }
}

}  // namespace sb::http::internal
