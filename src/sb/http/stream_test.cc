// Streamed (chunked) responses: complete and in order as a real HTTP client parses them,
// backpressure (the source never runs ahead of the client by more than a chunk or two), errors
// before and after the head, the source on a pool thread, keep-alive after a stream, and the
// source released when the client goes away.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include "sb/base/testing/wait.h"
#include "sb/http/server.h"

namespace sb::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using sb::testing::Eventually;
using std::chrono::milliseconds;

struct Probe {
  std::atomic<int> produced{0};
  std::atomic<int> destroyed{0};
  std::atomic<bool> on_io_thread{false};
  std::thread::id io_thread_hint;
};

// Produces `count` chunks of `size` bytes ("<n>:" then filler), failing at chunk `fail_at`.
class CountingSource final : public BodySource {
 public:
  CountingSource(Probe& probe, int count, size_t size, int fail_at)
      : probe_(probe), count_(count), size_(size), fail_at_(fail_at) {}
  ~CountingSource() override { ++probe_.destroyed; }

  Result<std::optional<std::string>> Next() override {
    if (next_ == fail_at_) return UnavailableError("source failed");
    if (next_ == count_) return std::optional<std::string>();
    std::string chunk = std::to_string(next_) + ":";
    chunk.resize(std::max(size_, chunk.size()), 'x');
    ++next_;
    ++probe_.produced;
    return std::optional<std::string>(std::move(chunk));
  }

 private:
  Probe& probe_;
  const int count_;
  const size_t size_;
  const int fail_at_;
  int next_ = 0;
};

class StreamTest : public ::testing::Test {
 protected:
  void AddStream(const std::string& path, int count, size_t size, int fail_at = -1) {
    ASSERT_TRUE(router_
                    .Add("GET", path,
                         [this, count, size, fail_at](Request&) {
                           return Response::Stream(
                               200, "text/plain",
                               std::make_shared<CountingSource>(probe_, count, size, fail_at));
                         })
                    .ok());
  }

  void Start() {
    ServerOptions options;
    options.access_log = false;
    options.write_timeout = milliseconds(2000);
    server_ = std::make_unique<Server>(options, router_, metrics_, clock_);
    ASSERT_TRUE(server_->Start().ok());
  }

  void TearDown() override {
    if (server_) server_->Stop(milliseconds(1000));
  }

  beast::tcp_stream Connect() {
    beast::tcp_stream stream(io_);
    stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    return stream;
  }

  static void SendGet(beast::tcp_stream& stream, const std::string& target) {
    bhttp::request<bhttp::empty_body> req(bhttp::verb::get, target, 11);
    req.set(bhttp::field::host, "127.0.0.1");
    req.keep_alive(true);
    bhttp::write(stream, req);
  }

  Probe probe_;
  Router router_;
  metrics::MetricsRegistry metrics_;
  SystemClock clock_;
  std::unique_ptr<Server> server_;
  asio::io_context io_;
};

TEST_F(StreamTest, TenThousandChunksArriveCompleteInOrderAndKeepAliveWorks) {
  AddStream("/many", 10'000, 8);
  ASSERT_TRUE(
      router_.Add("GET", "/after", [](Request&) { return Response::Text(200, "ok"); }).ok());
  Start();
  auto stream = Connect();
  SendGet(stream, "/many");
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(stream, buffer, res);  // a real chunked parser
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_TRUE(res.chunked());
  const std::string& body = res.body();
  size_t pos = 0;
  for (int i = 0; i < 10'000; ++i) {
    std::string expected = std::to_string(i) + ":";
    expected.resize(std::max<size_t>(8, expected.size()), 'x');
    ASSERT_EQ(body.compare(pos, expected.size(), expected), 0) << "chunk " << i;
    pos += expected.size();
  }
  EXPECT_EQ(pos, body.size());
  // The same connection serves the next request.
  SendGet(stream, "/after");
  bhttp::response<bhttp::string_body> after;
  bhttp::read(stream, buffer, after);
  EXPECT_EQ(after.body(), "ok");
  EXPECT_EQ(probe_.destroyed.load(), 1);
}

// Backpressure: a client that reads slowly holds the source back (it does not buffer the body).
TEST_F(StreamTest, SourceDoesNotRunAheadOfASlowClient) {
  AddStream("/big", 3200, 64 * 1024);  // 200 MiB if it were buffered
  Start();
  auto stream = Connect();
  SendGet(stream, "/big");
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);
  bhttp::read_header(stream, buffer, parser);
  std::vector<char> sink(64 * 1024);
  size_t received = 0;
  bool paused = false;
  int produced_while_paused = 0;
  while (!parser.is_done()) {
    parser.get().body().data = sink.data();
    parser.get().body().size = sink.size();
    beast::error_code ec;
    bhttp::read(stream, buffer, parser, ec);
    if (ec && ec != bhttp::error::need_buffer) FAIL() << ec.message();
    received += sink.size() - parser.get().body().size;
    if (!paused && received >= 1024 * 1024) {
      // Stop reading for a while: without backpressure the source would produce all 200 MiB
      // now; with it, it stops once the socket buffers are full (a few MiB on loopback).
      paused = true;
      std::this_thread::sleep_for(milliseconds(500));
      produced_while_paused = probe_.produced.load();
    }
  }
  EXPECT_EQ(received, size_t{3200} * 64 * 1024);
  EXPECT_LE(produced_while_paused, 400) << "the source ran ahead of a client that stopped reading";
  RecordProperty("produced_while_paused", produced_while_paused);
  EXPECT_EQ(probe_.produced.load(), 3200);
}

TEST_F(StreamTest, ErrorBeforeTheFirstChunkIsAProblem) {
  AddStream("/fails-early", 10, 8, /*fail_at=*/0);
  Start();
  auto stream = Connect();
  SendGet(stream, "/fails-early");
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(stream, buffer, res);
  EXPECT_EQ(res.result_int(), 503);  // UNAVAILABLE maps to 503
  EXPECT_EQ(res[bhttp::field::content_type], "application/problem+json");
}

TEST_F(StreamTest, ErrorMidStreamTruncatesTheTransfer) {
  AddStream("/fails-late", 100, 8, /*fail_at=*/50);
  Start();
  auto stream = Connect();
  SendGet(stream, "/fails-late");
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  beast::error_code ec;
  bhttp::read(stream, buffer, res, ec);
  EXPECT_TRUE(ec) << "a truncated chunked body must not parse as complete";
  EXPECT_EQ(ec, bhttp::error::partial_message) << ec.message();
}

TEST_F(StreamTest, SourceRunsOnAPoolThreadAndIsReleasedWhenTheClientLeaves) {
  std::atomic<bool> saw_pool_thread{false};
  class ThreadSource final : public BodySource {
   public:
    ThreadSource(std::atomic<bool>& flag, Probe& probe) : flag_(flag), probe_(probe) {}
    ~ThreadSource() override { ++probe_.destroyed; }
    Result<std::optional<std::string>> Next() override {
      // Pool threads may block: sleeping here must not stall the server's I/O threads.
      std::this_thread::sleep_for(milliseconds(1));
      flag_ = true;
      return std::optional<std::string>(std::string(64 * 1024, 'y'));  // endless
    }

   private:
    std::atomic<bool>& flag_;
    Probe& probe_;
  };
  ASSERT_TRUE(router_
                  .Add("GET", "/endless",
                       [&](Request&) {
                         return Response::Stream(
                             200, "text/plain",
                             std::make_shared<ThreadSource>(saw_pool_thread, probe_));
                       })
                  .ok());
  ASSERT_TRUE(router_
                  .Add("GET", "/inline", [](Request&) { return Response::Text(200, "io"); },
                       {.authenticated = false, .execution = Execution::kInline})
                  .ok());
  Start();
  {
    auto stream = Connect();
    SendGet(stream, "/endless");
    char buf[4096];
    beast::error_code ec;
    stream.read_some(asio::buffer(buf), ec);
    ASSERT_FALSE(ec);
    // While the endless stream runs, an inline route still answers at once.
    auto other = Connect();
    SendGet(other, "/inline");
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    bhttp::read(other, buffer, res);
    EXPECT_EQ(res.body(), "io");
  }  // the client disconnects mid-stream
  for (int i = 0; i < 500 && probe_.destroyed.load() == 0; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(saw_pool_thread.load());
  EXPECT_EQ(probe_.destroyed.load(), 1) << "the source must be released";
}

TEST_F(StreamTest, AnIdleSourceIsReleasedWhenTheClientLeavesWithoutAWrite) {
  // Like a live feed between events: one chunk, then nothing to send (empty chunks) for ever.
  class IdleSource final : public BodySource {
   public:
    explicit IdleSource(Probe& probe) : probe_(probe) {}
    ~IdleSource() override { ++probe_.destroyed; }
    Result<std::optional<std::string>> Next() override {
      std::this_thread::sleep_for(milliseconds(5));
      ++probe_.produced;
      return std::optional<std::string>(probe_.produced == 1 ? "ready" : "");
    }

   private:
    Probe& probe_;
  };
  ASSERT_TRUE(router_
                  .Add("GET", "/idle",
                       [&](Request&) {
                         return Response::Stream(200, "text/event-stream",
                                                 std::make_shared<IdleSource>(probe_));
                       })
                  .ok());
  Start();
  {
    auto stream = Connect();
    SendGet(stream, "/idle");
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    bhttp::read_header(stream, buffer, parser);
    ASSERT_EQ(parser.get().result_int(), 200);
    ASSERT_TRUE(Eventually([&] { return probe_.produced.load() > 3; }));
  }  // the client closes while the source has nothing to write
  EXPECT_TRUE(Eventually([&] { return probe_.destroyed.load() == 1; }))
      << "an idle stream must end when its client leaves, not at its next write";
}

// Streamed request bodies (RouteOptions::stream_request_body): the handler pulls the body as
// it arrives, so it runs before the client has sent the whole body.
class StreamedRequestTest : public StreamTest {
 protected:
  struct Seen {
    std::atomic<size_t> bytes{0};
    std::atomic<int> chunks{0};
    std::atomic<int> error{-1};  // StatusCode of the error that ended the body, -1: none
    std::atomic<bool> done{false};
    std::string body;  // only the handler thread writes it, read after `done`
  };

  void AddUpload(size_t limit) {
    RouteOptions options;
    options.max_body_bytes = limit;
    options.stream_request_body = true;
    ASSERT_TRUE(router_
                    .Add(
                        "POST", "/upload",
                        [this](Request& request) {
                          EXPECT_TRUE(request.body.empty());
                          EXPECT_NE(request.body_stream, nullptr);
                          while (true) {
                            auto chunk = request.body_stream->Next();
                            if (!chunk.ok()) {
                              seen_.error = static_cast<int>(chunk.status().code());
                              seen_.done = true;
                              return Response::Text(
                                  chunk.status().code() == StatusCode::kOutOfRange ? 413 : 400,
                                  std::string(chunk.status().message()));
                            }
                            if (!*chunk) break;
                            seen_.body += **chunk;
                            seen_.bytes += (*chunk)->size();
                            ++seen_.chunks;
                          }
                          seen_.done = true;
                          return Response::Text(200, std::to_string(seen_.bytes.load()));
                        },
                        options)
                    .ok());
  }

  Seen seen_;
};

TEST_F(StreamedRequestTest, TheHandlerReadsTheBodyAsItArrives) {
  AddUpload(8 << 20);
  Start();
  auto stream = Connect();
  std::string body(3 << 20, 'x');
  for (size_t i = 0; i < body.size(); i += 4096) body[i] = static_cast<char>('a' + (i / 4096) % 26);
  const std::string head =
      "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n";
  asio::write(stream, asio::buffer(head + body.substr(0, 1 << 20)));
  // The handler already has part of the body while the rest has not been sent.
  ASSERT_TRUE(Eventually([&] { return seen_.bytes.load() >= (512u << 10); }));
  EXPECT_FALSE(seen_.done.load());
  asio::write(stream, asio::buffer(body.substr(1 << 20)));
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(stream, buffer, res);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), std::to_string(body.size()));
  EXPECT_FALSE(res.keep_alive());  // a streamed request ends its connection
  ASSERT_TRUE(seen_.done.load());
  EXPECT_TRUE(seen_.body == body);
  EXPECT_GT(seen_.chunks.load(), 1);
}

TEST_F(StreamedRequestTest, AChunkedBodyPastTheLimitEndsWithOutOfRange) {
  AddUpload(64 << 10);
  Start();
  auto stream = Connect();
  std::string request = "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string piece(16 << 10, 'p');
  for (int i = 0; i < 8; ++i) request += "4000\r\n" + piece + "\r\n";
  request += "0\r\n\r\n";
  beast::error_code ec;
  asio::write(stream, asio::buffer(request), ec);  // the server may close before it is all sent
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(stream, buffer, res, ec);
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_EQ(seen_.error.load(), static_cast<int>(StatusCode::kOutOfRange));
  EXPECT_LE(seen_.bytes.load(), 64u << 10);
}

TEST_F(StreamedRequestTest, AClientThatLeavesMidBodyEndsTheHandlersRead) {
  AddUpload(8 << 20);
  Start();
  {
    auto stream = Connect();
    const std::string head = "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n";
    asio::write(stream, asio::buffer(head + std::string(1000, 'z')));
    ASSERT_TRUE(Eventually([&] { return seen_.bytes.load() >= 1000; }));
  }  // closed with 99,000 bytes missing
  ASSERT_TRUE(Eventually([&] { return seen_.done.load(); }));
  EXPECT_EQ(seen_.error.load(), static_cast<int>(StatusCode::kCancelled));
}

}  // namespace
}  // namespace sb::http
