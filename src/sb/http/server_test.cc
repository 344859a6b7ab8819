#include "sb/http/server.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "sb/base/json.h"
#include "sb/base/logging.h"
#include "sb/http/testing/raw_client.h"

namespace sb::http {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RawClient;

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() {
    Check(router_.Add("GET", "/healthz", [](Request&) { return Response::Text(200, "ok"); },
                      {.authenticated = false, .execution = Execution::kInline}));
    Check(router_.Add("GET", "/v1/things/{id}", [](Request& r) {
      return Response::Json(200, {{"id", *r.PathParam("id")}, {"q", r.Query("q").value_or("")}});
    }));
    Check(router_.Add("POST", "/v1/echo", [](Request& r) { return Response::Text(200, r.body); }));
    Check(router_.Add("POST", "/v1/big/{id}",
                      [](Request& r) { return Response::Text(200, r.body); },
                      {.max_body_bytes = 64}));
    Check(router_.Add("GET", "/boom",
                      [](Request&) -> Response { throw std::runtime_error("secret detail"); }));
    Check(router_.Add("GET", "/slow", [](Request&) {
      std::this_thread::sleep_for(milliseconds(400));
      return Response::Text(200, "slow done");
    }));
    Check(router_.Add("GET", "/gate", [this](Request&) {
      gate_.wait();
      return Response::Text(200, "gated");
    }));
    gate_ = gate_promise_.get_future().share();
  }

  ~ServerTest() override {
    OpenGate();
    if (server_) server_->Stop(milliseconds(1000));
  }

  static void Check(const Status& s) { ASSERT_TRUE(s.ok()) << s.ToString(); }

  void Start(ServerOptions options = {}, bool access_log = false) {
    options.access_log = access_log;
    server_ = std::make_unique<Server>(options, router_, metrics_, clock_);
    const Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    ASSERT_NE(server_->port(), 0);
  }

  void OpenGate() {
    if (!gate_opened_) gate_promise_.set_value();
    gate_opened_ = true;
  }

  uint16_t port() const { return server_->port(); }

  Router router_;
  metrics::MetricsRegistry metrics_;
  SystemClock clock_;
  std::unique_ptr<Server> server_;
  std::promise<void> gate_promise_;
  std::shared_future<void> gate_;
  bool gate_opened_ = false;
};

TEST_F(ServerTest, JsonRouteOnPoolWorks) {
  Start();
  RawClient client(port());
  const auto response = client.Get("/v1/things/a%20b?q=x%26y");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("content-type"), "application/json");
  EXPECT_EQ(sb::Json::parse(response->body), (sb::Json{{"id", "a b"}, {"q", "x&y"}}));
  EXPECT_EQ(response->Header("x-request-id").size(), 32u);
}

// A route whose path carries a secret logs its pattern, never the path (OA-12).
TEST_F(ServerTest, AccessLogKeepsSecretPathsOut) {
  Check(router_.Add("GET", "/pages/{token}", [](Request&) { return Response::Text(200, "page"); },
                    {.authenticated = false, .log_path = false}));
  const std::string log_file =
      ::testing::TempDir() + "access-log-" + std::to_string(::getpid()) + ".jsonl";
  log::SetFileSink(log_file);
  Start({}, /*access_log=*/true);
  RawClient client(port());
  auto page = client.Get("/pages/tok-7f3a9c-secret");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->status, 200);
  auto thing = client.Get("/v1/things/visible-id");
  ASSERT_TRUE(thing.has_value());
  EXPECT_EQ(thing->status, 200);
  server_->Stop(milliseconds(1000));
  server_.reset();
  log::Flush();
  std::ifstream in(log_file);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_THAT(text.str(), HasSubstr("\"path\":\"/v1/things/visible-id\""));
  EXPECT_THAT(text.str(), HasSubstr("\"path\":\"/pages/{token}\""));
  EXPECT_THAT(text.str(), Not(HasSubstr("tok-7f3a9c-secret")));
  std::remove(log_file.c_str());
}

TEST_F(ServerTest, KeepAliveAndPipelinedRequestsShareOneConnection) {
  Start();
  RawClient client(port());
  for (int i = 0; i < 3; ++i) {
    const auto response = client.Get("/healthz");
    ASSERT_TRUE(response) << i;
    EXPECT_EQ(response->body, "ok");
    EXPECT_EQ(response->Header("connection"), "keep-alive");
  }
  ASSERT_TRUE(
      client.Send("GET /v1/things/1 HTTP/1.1\r\nHost: t\r\n\r\n"
                  "POST /v1/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"));
  const auto first = client.Read();
  const auto second = client.Read();
  ASSERT_TRUE(first && second);
  EXPECT_THAT(first->body, HasSubstr("\"id\":\"1\""));
  EXPECT_EQ(second->body, "hello");
}

TEST_F(ServerTest, EchoesValidRequestIdAndReplacesInvalidOne) {
  Start();
  RawClient client(port());
  EXPECT_EQ(client.Get("/healthz", "X-Request-Id: abc-123\r\n")->Header("x-request-id"), "abc-123");
  const std::string replaced =
      client.Get("/healthz", "X-Request-Id: bad id!\r\n")->Header("x-request-id");
  EXPECT_NE(replaced, "bad id!");
  EXPECT_EQ(replaced.size(), 32u);
}

TEST_F(ServerTest, NotFoundAndMethodNotAllowedAreProblems) {
  Start();
  RawClient client(port());
  const auto missing = client.Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->Header("content-type"), "application/problem+json");
  EXPECT_EQ(sb::Json::parse(missing->body)["request_id"], missing->Header("x-request-id"));
  ASSERT_TRUE(client.Send("DELETE /v1/echo HTTP/1.1\r\nHost: t\r\n\r\n"));
  const auto wrong = client.Read();
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->Header("allow"), "POST");
}

TEST_F(ServerTest, OversizeBodyGets413ByContentLengthAndByChunks) {
  Start({.max_body_bytes = 16});
  RawClient by_length(port());
  ASSERT_TRUE(
      by_length.Send("POST /v1/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n"));
  const auto rejected = by_length.Read();
  ASSERT_TRUE(rejected);
  EXPECT_EQ(rejected->status, 413);
  EXPECT_EQ(rejected->Header("content-type"), "application/problem+json");
  EXPECT_TRUE(by_length.WaitClosed(milliseconds(2000)));

  RawClient chunked(port());
  ASSERT_TRUE(
      chunked.Send("POST /v1/echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                   "\r\n10\r\n0123456789abcdef\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n"));
  const auto rejected_chunks = chunked.Read();
  ASSERT_TRUE(rejected_chunks);
  EXPECT_EQ(rejected_chunks->status, 413);
}

TEST_F(ServerTest, ARouteMayHaveItsOwnBodyLimit) {
  Start({.max_body_bytes = 16});
  const std::string body(40, 'b');
  RawClient client(port());
  ASSERT_TRUE(
      client.Send("POST /v1/big/1?x=y HTTP/1.1\r\nHost: t\r\nContent-Length: 40\r\n\r\n" + body));
  const auto accepted = client.Read();
  ASSERT_TRUE(accepted);
  EXPECT_EQ(accepted->status, 200);
  EXPECT_EQ(accepted->body, body);
  // The same body on a route without its own limit gets the server's.
  ASSERT_TRUE(
      client.Send("POST /v1/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 40\r\n\r\n" + body));
  const auto rejected = client.Read();
  ASSERT_TRUE(rejected);
  EXPECT_EQ(rejected->status, 413);
  EXPECT_TRUE(client.WaitClosed(milliseconds(2000)));
  // Past the route's limit, by Content-Length or while reading chunks.
  RawClient by_length(port());
  ASSERT_TRUE(by_length.Send("POST /v1/big/1 HTTP/1.1\r\nHost: t\r\nContent-Length: 65\r\n\r\n"));
  const auto too_long = by_length.Read();
  ASSERT_TRUE(too_long);
  EXPECT_EQ(too_long->status, 413);
  EXPECT_THAT(too_long->body, HasSubstr("64"));
  RawClient chunked(port());
  ASSERT_TRUE(
      chunked.Send("POST /v1/big/2 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "28\r\n" +
                   body + "\r\n28\r\n" + body + "\r\n0\r\n\r\n"));
  const auto too_many_chunks = chunked.Read();
  ASSERT_TRUE(too_many_chunks);
  EXPECT_EQ(too_many_chunks->status, 413);
}

TEST_F(ServerTest, MalformedRequestLineGets400AndClose) {
  Start();
  RawClient client(port());
  ASSERT_TRUE(client.Send("THIS IS NOT HTTP\r\n\r\n"));
  const auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_TRUE(client.WaitClosed(milliseconds(2000)));
}

TEST_F(ServerTest, TooLargeHeadersGet431AndClose) {
  Start({.max_header_bytes = 1024});
  RawClient big(port());
  ASSERT_TRUE(big.Send("GET /healthz HTTP/1.1\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n"));
  const auto response = big.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_TRUE(big.WaitClosed(milliseconds(2000)));

  RawClient many(port());
  std::string request = "GET /healthz HTTP/1.1\r\n";
  for (int i = 0; i < 200; ++i) request += "X-H" + std::to_string(i) + ": v\r\n";
  ASSERT_TRUE(many.Send(request + "\r\n"));
  const auto many_response = many.Read();
  ASSERT_TRUE(many_response);
  EXPECT_EQ(many_response->status, 431);
  // The server is unharmed.
  RawClient after(port());
  EXPECT_EQ(after.Get("/healthz")->status, 200);
}

TEST_F(ServerTest, SlowClientIsClosedAfterReadTimeout) {
  Start({.read_timeout = milliseconds(300)});
  RawClient slow(port());
  ASSERT_TRUE(slow.Send("GET /healthz HTTP/1.1\r\nHost: t\r\n"));  // never finishes
  const auto begin = std::chrono::steady_clock::now();
  EXPECT_TRUE(slow.WaitClosed(milliseconds(3000)));
  EXPECT_GE(std::chrono::steady_clock::now() - begin, milliseconds(200));

  RawClient trickle(port());  // a byte at a time cannot extend the deadline
  bool closed = false;
  for (int i = 0; i < 40 && !closed; ++i) {
    closed = !trickle.Send("X") || trickle.WaitClosed(milliseconds(50));
  }
  EXPECT_TRUE(closed);
}

TEST_F(ServerTest, IdleKeepAliveConnectionIsClosed) {
  Start({.idle_timeout = milliseconds(200)});
  RawClient client(port());
  ASSERT_TRUE(client.Get("/healthz"));
  EXPECT_TRUE(client.WaitClosed(milliseconds(3000)));
}

TEST_F(ServerTest, ThrowingHandlerGives500WithoutLeakingAndServerSurvives) {
  Start();
  RawClient client(port());
  const auto response = client.Get("/boom");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(response->Header("content-type"), "application/problem+json");
  EXPECT_EQ(response->body.find("secret"), std::string::npos);
  EXPECT_EQ(client.Get("/healthz")->status, 200);
}

TEST_F(ServerTest, FullBlockingPoolAnswers503) {
  Start({.pool = {.threads = 1, .max_queue = 1}});
  RawClient running(port());
  RawClient queued(port());
  ASSERT_TRUE(running.Send("GET /gate HTTP/1.1\r\nHost: t\r\n\r\n"));
  std::this_thread::sleep_for(milliseconds(100));
  ASSERT_TRUE(queued.Send("GET /gate HTTP/1.1\r\nHost: t\r\n\r\n"));
  std::this_thread::sleep_for(milliseconds(100));
  RawClient rejected(port());
  const auto overloaded = rejected.Get("/v1/things/1");
  ASSERT_TRUE(overloaded);
  EXPECT_EQ(overloaded->status, 503);
  EXPECT_EQ(overloaded->Header("retry-after"), "1");
  OpenGate();
  EXPECT_EQ(running.Read()->body, "gated");
  EXPECT_EQ(queued.Read()->body, "gated");
}

TEST_F(ServerTest, StopLetsInFlightRequestFinishAndRefusesNewConnections) {
  Start();
  RawClient idle(port());
  ASSERT_TRUE(idle.Get("/healthz"));
  RawClient busy(port());
  ASSERT_TRUE(busy.Send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"));
  std::this_thread::sleep_for(milliseconds(100));
  const uint16_t bound = port();
  std::thread stopper([&] { server_->Stop(milliseconds(5000)); });
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_FALSE(RawClient(bound).connected());
  EXPECT_TRUE(idle.WaitClosed(milliseconds(1000)));
  const auto response = busy.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "slow done");
  EXPECT_EQ(response->Header("connection"), "close");
  stopper.join();
  server_->Wait();  // returns at once after Stop
}

TEST_F(ServerTest, StopAfterGraceClosesStuckRequests) {
  Start();
  RawClient stuck(port());
  ASSERT_TRUE(stuck.Send("GET /gate HTTP/1.1\r\nHost: t\r\n\r\n"));
  std::this_thread::sleep_for(milliseconds(100));
  std::thread opener([&] {
    std::this_thread::sleep_for(milliseconds(300));
    OpenGate();  // the pool waits for running handlers
  });
  const auto begin = std::chrono::steady_clock::now();
  server_->Stop(milliseconds(100));
  EXPECT_LT(std::chrono::steady_clock::now() - begin, milliseconds(3000));
  opener.join();
  EXPECT_TRUE(stuck.WaitClosed(milliseconds(1000)));
}

TEST_F(ServerTest, MaxRequestsPerConnection) {
  Start({.max_requests_per_connection = 2});
  RawClient client(port());
  EXPECT_EQ(client.Get("/healthz")->Header("connection"), "keep-alive");
  EXPECT_EQ(client.Get("/healthz")->Header("connection"), "close");
  EXPECT_TRUE(client.WaitClosed(milliseconds(1000)));
}

TEST_F(ServerTest, MetricsCountByRoutePattern) {
  Start();
  RawClient client(port());
  ASSERT_TRUE(client.Get("/v1/things/1"));
  ASSERT_TRUE(client.Get("/v1/things/2"));
  ASSERT_TRUE(client.Get("/nope"));
  // Metrics are recorded once the write completed, just after the client saw the response.
  const std::string last = "route=\"unmatched\"";
  std::string text = metrics_.RenderPrometheusText();
  for (int i = 0; i < 100 && text.find(last) == std::string::npos; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
    text = metrics_.RenderPrometheusText();
  }
  EXPECT_THAT(text, HasSubstr("sb_http_requests_total{route=\"/v1/things/{id}\",method=\"GET\","
                              "status=\"200\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("sb_http_requests_total{route=\"unmatched\",method=\"GET\","
                              "status=\"404\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("sb_http_request_duration_seconds_count{route=\"/v1/things/{id}\","
                              "method=\"GET\",status=\"200\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE sb_http_blocking_queue_depth gauge"));
  EXPECT_EQ(text.find("/v1/things/1"), std::string::npos);
}

TEST(Server, StartFailsOnBadAddressAndBusyPort) {
  Router router;
  metrics::MetricsRegistry registry;
  SystemClock clock;
  Server bad({.address = "not-an-ip"}, router, registry, clock);
  EXPECT_EQ(bad.Start().code(), StatusCode::kInvalidArgument);
  Server first({}, router, registry, clock);
  ASSERT_TRUE(first.Start().ok());
  Server second({.port = first.port()}, router, registry, clock);
  EXPECT_EQ(second.Start().code(), StatusCode::kUnavailable);
  first.Stop(milliseconds(100));
}

}  // namespace
}  // namespace sb::http
