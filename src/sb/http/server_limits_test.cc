// What a slow or hostile client cannot do to the server (issue 13): hold a blocking-pool thread
// with a trickled upload or a download it does not read, open more connections from one address
// than the cap, get a connect-style secret path into the access log with another method or a
// sub-path (OA-12), or put its own malformed X-Request-Id into headers and logs (AUD-01).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "sb/base/json.h"
#include "sb/base/logging.h"
#include "sb/base/testing/wait.h"
#include "sb/http/server.h"
#include "sb/http/testing/raw_client.h"

namespace sb::http {
namespace {

using sb::testing::Eventually;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RawClient;

// Produces `count` chunks of 64 KiB, counting them.
class EndlessSource final : public BodySource {
 public:
  EndlessSource(std::atomic<int>& produced, int count) : produced_(produced), count_(count) {}
  Result<std::optional<std::string>> Next() override {
    if (produced_.load() >= count_) return std::optional<std::string>();
    ++produced_;
    return std::optional<std::string>(std::string(64 * 1024, 'z'));
  }

 private:
  std::atomic<int>& produced_;
  const int count_;
};

class ServerLimitsTest : public ::testing::Test {
 protected:
  ServerLimitsTest() {
    Add("GET", "/v1/db", [](Request&) { return Response::Text(200, "db ok"); }, {});
    RouteOptions upload;
    upload.stream_request_body = true;
    Add(
        "POST", "/v1/upload",
        [this](Request& request) {
          ++uploads_started_;
          size_t bytes = 0;
          while (true) {
            auto chunk = request.body_stream->Next();
            if (!chunk.ok()) return Response::Text(400, "body failed");
            if (!*chunk) break;
            bytes += (*chunk)->size();
          }
          return Response::Text(200, std::to_string(bytes));
        },
        upload);
    Add("GET", "/v1/download",
        [this](Request&) {
          return Response::Stream(200, "text/plain",
                                  std::make_shared<EndlessSource>(produced_, 4096));
        },
        {});
    Add("POST", "/v1/outbound",
        [this](Request&) {
          ++outbound_started_;
          const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
          while (!outbound_released_.load() && std::chrono::steady_clock::now() < give_up) {
            std::this_thread::sleep_for(milliseconds(5));
          }
          return Response::Text(200, "sent");
        },
        {.execution = Execution::kOutboundPool});
    RouteOptions secret;
    secret.authenticated = false;
    secret.log_path = false;
    Add(
        "GET", "/pages/{token}", [](Request&) { return Response::Text(200, "page"); }, secret);
  }

  ~ServerLimitsTest() override {
    if (server_) server_->Stop(milliseconds(1000));
  }

  void Add(std::string_view method, std::string_view pattern, Handler handler,
           RouteOptions options) {
    ASSERT_TRUE(router_.Add(method, pattern, std::move(handler), options).ok());
  }

  void Start(ServerOptions options) {
    server_ = std::make_unique<Server>(options, router_, metrics_, clock_);
    ASSERT_TRUE(server_->Start().ok());
  }

  uint16_t port() const { return server_->port(); }

  bool MetricsShow(const std::string& line) const {
    return metrics_.RenderPrometheusText().find(line) != std::string::npos;
  }

  // Starts an upload of `length` bytes and sends only its first byte.
  static bool StartTrickle(RawClient& client, size_t length) {
    return client.Send("POST /v1/upload HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                       std::to_string(length) + "\r\n\r\nx");
  }

  Router router_;
  metrics::MetricsRegistry metrics_;
  SystemClock clock_;
  std::unique_ptr<Server> server_;
  std::atomic<int> uploads_started_{0};
  std::atomic<int> outbound_started_{0};
  std::atomic<bool> outbound_released_{false};
  std::atomic<int> produced_{0};
};

// Uploads that trickle in wait on the network on the upload pool: the one blocking-pool thread
// stays free for database routes.
TEST_F(ServerLimitsTest, TricklingUploadsNeverHoldTheBlockingPool) {
  Start({.pool = {.threads = 1, .max_queue = 4},
         .upload_pool = {.threads = 4, .max_queue = 4},
         .access_log = false});
  std::vector<std::unique_ptr<RawClient>> trickles;
  for (int i = 0; i < 3; ++i) {
    trickles.push_back(std::make_unique<RawClient>(port()));
    ASSERT_TRUE(StartTrickle(*trickles.back(), 100));
  }
  ASSERT_TRUE(Eventually([&] { return uploads_started_.load() == 3; }));
  for (int i = 0; i < 3; ++i) {
    RawClient other(port());
    const auto answer = other.Get("/v1/db");
    ASSERT_TRUE(answer) << "a database route waited behind trickling uploads";
    EXPECT_EQ(answer->status, 200);
  }
  EXPECT_TRUE(MetricsShow("sb_http_upload_busy_threads 3"));
  for (auto& trickle : trickles) {
    ASSERT_TRUE(trickle->Send(std::string(99, 'y')));
    const auto done = trickle->Read();
    ASSERT_TRUE(done);
    EXPECT_EQ(done->body, "100");
  }
}

// Handlers that wait on a provider run on the upload pool as well: while they wait, the one
// blocking-pool thread stays free for database routes.
TEST_F(ServerLimitsTest, ProviderBoundRoutesNeverHoldTheBlockingPool) {
  Start({.pool = {.threads = 1, .max_queue = 4},
         .upload_pool = {.threads = 4, .max_queue = 4},
         .access_log = false});
  std::vector<std::unique_ptr<RawClient>> waiting;
  for (int i = 0; i < 3; ++i) {
    waiting.push_back(std::make_unique<RawClient>(port()));
    ASSERT_TRUE(waiting.back()->Send("POST /v1/outbound HTTP/1.1\r\nHost: t\r\n\r\n"));
  }
  ASSERT_TRUE(Eventually([&] { return outbound_started_.load() == 3; }));
  RawClient other(port());
  const auto answer = other.Get("/v1/db");
  ASSERT_TRUE(answer) << "a database route waited behind provider-bound handlers";
  EXPECT_EQ(answer->status, 200);
  EXPECT_TRUE(MetricsShow("sb_http_upload_busy_threads 3"));
  outbound_released_ = true;
  for (auto& client : waiting) {
    const auto done = client->Read();
    ASSERT_TRUE(done);
    EXPECT_EQ(done->body, "sent");
  }
}

// A full upload pool answers 503 with a detail that says so; the blocking pool is not involved.
TEST_F(ServerLimitsTest, AFullUploadPoolAnswers503) {
  Start({.upload_pool = {.threads = 1, .max_queue = 1}, .access_log = false});
  RawClient running(port());
  ASSERT_TRUE(StartTrickle(running, 10));
  ASSERT_TRUE(Eventually([&] { return uploads_started_.load() == 1; }));
  RawClient queued(port());
  ASSERT_TRUE(StartTrickle(queued, 10));
  ASSERT_TRUE(Eventually([&] { return MetricsShow("sb_http_upload_queue_depth 1"); }));
  RawClient rejected(port());
  ASSERT_TRUE(StartTrickle(rejected, 10));
  const auto answer = rejected.Read();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 503);
  EXPECT_EQ(answer->Header("retry-after"), "1");
  EXPECT_EQ(answer->Header("content-type"), "application/problem+json");
  EXPECT_THAT(answer->body, HasSubstr("as many uploads as it can"));
  RawClient other(port());
  EXPECT_EQ(other.Get("/v1/db")->status, 200);
  ASSERT_TRUE(running.Send(std::string(9, 'y')));
  EXPECT_EQ(running.Read()->body, "10");
  ASSERT_TRUE(queued.Send(std::string(9, 'y')));
  EXPECT_EQ(queued.Read()->body, "10");
}

// The answer side: a client that does not read a streamed answer blocks only its own coroutine
// (the write), never a pool thread; the one pool thread serves another request meanwhile.
TEST_F(ServerLimitsTest, AClientThatDoesNotReadADownloadHoldsNoPoolThread) {
  Start({.pool = {.threads = 1, .max_queue = 4}, .access_log = false});
  RawClient stalled(port());
  ASSERT_TRUE(stalled.Send("GET /v1/download HTTP/1.1\r\nHost: t\r\n\r\n"));
  // The socket buffers fill up (a few MiB on loopback), then the source stops being pulled.
  ASSERT_TRUE(Eventually([&] { return produced_.load() >= 8; }));
  // Production stalls once the buffers are full; then no pool thread is busy. (While chunks are
  // still pulled, the one thread flickers between busy and free.)
  ASSERT_TRUE(Eventually([&] {
    const int before = produced_.load();
    std::this_thread::sleep_for(milliseconds(50));
    return produced_.load() == before && MetricsShow("sb_http_blocking_busy_threads 0");
  }));
  RawClient other(port());
  const auto answer = other.Get("/v1/db");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  EXPECT_LT(produced_.load(), 4096) << "the download was not held back by the stalled client";
}

// Connections over max_connections_per_ip get 503 problem+json with Retry-After and are
// closed; the count is per address, so a freed slot is usable again.
TEST_F(ServerLimitsTest, ConnectionsPerIpAreCapped) {
  Start({.max_connections_per_ip = 2, .access_log = false});
  auto first = std::make_unique<RawClient>(port());
  RawClient second(port());
  ASSERT_EQ(first->Get("/v1/db")->status, 200);  // both registered before the third connects
  ASSERT_EQ(second.Get("/v1/db")->status, 200);
  RawClient third(port());
  ASSERT_TRUE(third.Send("POST /v1/upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n"));
  const auto refused = third.Read();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->Header("retry-after"), "1");
  EXPECT_EQ(refused->Header("content-type"), "application/problem+json");
  EXPECT_EQ(refused->Header("connection"), "close");
  EXPECT_THAT(refused->body, HasSubstr("Too many connections from this address"));
  EXPECT_EQ(refused->Header("x-request-id").size(), 32u);
  EXPECT_TRUE(third.WaitClosed(milliseconds(5000)));
  EXPECT_EQ(uploads_started_.load(), 0);  // its request never reached a handler
  EXPECT_TRUE(MetricsShow(R"(sb_http_connections_refused_total{reason="per_ip_limit"} 1)"));
  // Closing one frees its slot.
  first.reset();
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    RawClient again(port());
    const auto answer = again.Get("/v1/db");
    served = answer && answer->status == 200;
    if (!served) std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(served);
}

class AccessLogTest : public ServerLimitsTest {
 protected:
  void SetUp() override {
    log_file_ = ::testing::TempDir() + "limits-log-" + std::to_string(::getpid()) + ".jsonl";
    log::SetFileSink(log_file_);
  }
  void TearDown() override { std::remove(log_file_.c_str()); }

  // Stops the server (every access line written) and returns the log.
  std::string StopAndReadLog() {
    server_->Stop(milliseconds(1000));
    server_.reset();
    log::Flush();
    std::ifstream in(log_file_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // Sends `request` on its own connection (closed after the answer) and waits for the close.
  void SendAlone(const std::string& request) {
    RawClient client(port());
    ASSERT_TRUE(client.Send(request));
    EXPECT_TRUE(client.WaitClosed(milliseconds(5000)));
  }

  std::string log_file_;
};

// OA-12: a secret in the path stays out of the access log whatever the method, and for
// sub-paths no route matches (404/405 used to log the raw path).
TEST_F(AccessLogTest, SecretPathsStayOutOfTheLogWhateverTheMethod) {
  Start({});
  RawClient client(port());
  ASSERT_EQ(client.Get("/pages/tok-get-1a2b")->status, 200);
  SendAlone("HEAD /pages/tok-head-3c4d HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  SendAlone("OPTIONS /pages/tok-options-5e6f HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  SendAlone("BREW /pages/tok-brew-7a8b HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(client.Get("/pages/tok-sub-9c0d/x")->status, 404);
  EXPECT_EQ(client.Get("/pages//tok-empty-1e2f")->status, 404);
  EXPECT_EQ(client.Get("/%70ages/tok-encoded-3a4b")->status, 404);
  EXPECT_EQ(client.Get("/v1/visible-404")->status, 404);
  const std::string text = StopAndReadLog();
  for (const char* secret : {"tok-get-1a2b", "tok-head-3c4d", "tok-options-5e6f", "tok-brew-7a8b",
                             "tok-sub-9c0d", "tok-empty-1e2f", "tok-encoded-3a4b"}) {
    EXPECT_THAT(text, Not(HasSubstr(secret)));
  }
  EXPECT_THAT(text, HasSubstr(R"("path":"/pages/{token}")"));
  EXPECT_THAT(text, HasSubstr(R"x("path":"(redacted)")x"));
  EXPECT_THAT(text, HasSubstr(R"("path":"/v1/visible-404")"));  // other paths still show
  EXPECT_THAT(text, HasSubstr(R"("method":"OTHER")"));
}

// AUD-01: an over-long or quote/CR-bearing X-Request-Id is replaced by a generated one, in the
// response header and in the access log, on ordinary and streamed-body routes alike.
TEST_F(AccessLogTest, InvalidRequestIdsAreReplacedEverywhere) {
  Start({});
  const std::string long_id(129, 'a');
  const std::string quoted_id = "evil\"id";
  std::vector<std::string> answered;
  RawClient client(port());
  for (const std::string& id : {long_id, quoted_id}) {
    const auto answer = client.Get("/v1/db", "X-Request-Id: " + id + "\r\n");
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->Header("x-request-id").size(), 32u) << id;
    answered.push_back(answer->Header("x-request-id"));
  }
  {
    RawClient upload(port());
    ASSERT_TRUE(upload.Send("POST /v1/upload HTTP/1.1\r\nHost: t\r\nX-Request-Id: " + quoted_id +
                            "\r\nContent-Length: 2\r\n\r\nok"));
    const auto answer = upload.Read();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 200);
    EXPECT_EQ(answer->Header("x-request-id").size(), 32u);
    answered.push_back(answer->Header("x-request-id"));
  }
  {
    // A bare CR in the header is a parse failure: 400 with a generated id.
    RawClient broken(port());
    ASSERT_TRUE(
        broken.Send("GET /v1/db HTTP/1.1\r\nHost: t\r\nX-Request-Id: cr\rinjected\r\n\r\n"));
    const auto answer = broken.Read();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 400);
    EXPECT_EQ(answer->Header("x-request-id").size(), 32u);
    answered.push_back(answer->Header("x-request-id"));
  }
  const std::string text = StopAndReadLog();
  EXPECT_THAT(text, Not(HasSubstr(long_id)));
  EXPECT_THAT(text, Not(HasSubstr("evil")));
  EXPECT_THAT(text, Not(HasSubstr("injected")));
  for (const std::string& id : answered) {
    EXPECT_THAT(text, HasSubstr("\"request_id\":\"" + id + "\""));
  }
}

}  // namespace
}  // namespace sb::http
