#include "sb/net/curl_http_client.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sb/net/testing/loopback_http_server.h"

namespace sb::net {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using testing::LoopbackHttpServer;
using ::testing::Not;
using testing::ServedRequest;
using testing::ServedResponse;

constexpr size_t kBigBody = 2 << 20;

class CurlHttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const Status started = server_.Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
  }

  void TearDown() override {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    released_cv_.notify_all();
    server_.Stop();
  }

  ServedResponse Handle(const ServedRequest& request) {
    {
      std::lock_guard lock(mu_);
      last_ = request;
    }
    const std::string path = request.target.substr(0, request.target.find('?'));
    if (path == "/echo") {
      return {.headers = {{"X-Custom-Reply", "Hello"}, {"X-Method", request.method}},
              .body = request.body};
    }
    if (path == "/status/404") return {.status = 404, .body = "no such thing"};
    if (path == "/status/500") return {.status = 500, .body = "broken"};
    if (path == "/big") return {.body = std::string(kBigBody, 'x')};
    if (path == "/big-chunked") return {.body = std::string(kBigBody, 'x'), .chunked = true};
    if (path == "/slow") {
      std::unique_lock lock(mu_);
      released_cv_.wait_for(lock, std::chrono::seconds(10), [this] { return released_; });
      return {.body = "late"};
    }
    if (path == "/interim") {
      return {.headers = {{"X-Final", "yes"}},
              .body = "final",
              .raw_prefix = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n"};
    }
    if (path == "/redirect") {
      return {.status = 302, .headers = {{"Location", "/echo"}, {"X-First", "yes"}}};
    }
    if (path == "/redirect-to-file") {
      return {.status = 302, .headers = {{"Location", "file:///etc/passwd"}}};
    }
    return {.status = 404};
  }

  ServedRequest last_request() {
    std::lock_guard lock(mu_);
    return last_;
  }

  HttpRequest Request(std::string method, std::string_view path, std::string body = "") {
    return HttpRequest{
        .method = std::move(method), .url = server_.Url(path), .body = std::move(body)};
  }

  std::mutex mu_;
  std::condition_variable released_cv_;
  bool released_ = false;  // guarded by mu_; lets /slow handlers finish
  ServedRequest last_;     // guarded by mu_
  LoopbackHttpServer server_{[this](const ServedRequest& r) { return Handle(r); }};
};

// A port on 127.0.0.1 that nothing listens on (bound, then closed).
uint16_t ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  return bound ? ntohs(address.sin_port) : 0;
}

// Pinned addresses replace DNS for the URL's host (the webhook SSRF defence): a name that does
// not resolve at all reaches the pinned loopback server, with its own Host header.
TEST_F(CurlHttpClientTest, PinnedAddressesReplaceTheLookup) {
  CurlHttpClient client;
  HttpRequest request;
  request.url = "http://hooks.pinned.invalid:" + std::to_string(server_.port()) + "/echo";
  request.pinned_addresses = {"127.0.0.1"};
  const Result<HttpResponse> response = client.Send(request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(last_request().Header("Host"),
            "hooks.pinned.invalid:" + std::to_string(server_.port()));
  // Without the pin the name does not resolve.
  request.pinned_addresses.clear();
  EXPECT_EQ(client.Send(request).status().code(), StatusCode::kUnavailable);
  // Only IP literals can be pinned.
  for (const char* bad : {"evil.example", "1.2.3.4:80", "[::1],1.2.3.4", ""}) {
    request.pinned_addresses = {bad};
    EXPECT_EQ(client.Send(request).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST_F(CurlHttpClientTest, GetRoundTripsHeadersAndHeaderLookupIgnoresCase) {
  CurlHttpClient client;
  HttpRequest request = Request("GET", "/echo?q=1");
  request.headers = {{"X-Trace", "abc 123"}, {"Authorization", "Bearer t0ken"}, {"X-Empty", ""}};
  const Result<HttpResponse> response = client.Send(request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("x-custom-reply"), "Hello");
  EXPECT_EQ(response->Header("X-CUSTOM-REPLY"), "Hello");
  EXPECT_EQ(response->Header("x-method"), "GET");
  EXPECT_EQ(response->Header("content-length"), "0");
  EXPECT_EQ(response->Header("X-Missing"), std::nullopt);
  EXPECT_EQ(response->body, "");

  const ServedRequest seen = last_request();
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target, "/echo?q=1");
  EXPECT_EQ(seen.Header("x-trace"), "abc 123");
  EXPECT_EQ(seen.Header("Authorization"), "Bearer t0ken");
  EXPECT_EQ(seen.Header("X-Empty"), "");
  EXPECT_EQ(seen.Header("User-Agent"), "switchboard");
  EXPECT_EQ(seen.Header("Expect"), std::nullopt);
  EXPECT_EQ(seen.Header("Content-Length"), std::nullopt);
}

TEST_F(CurlHttpClientTest, BodiesReachTheServerForEveryMethod) {
  CurlHttpClient client;
  for (const std::string method : {"POST", "PUT", "PATCH", "DELETE"}) {
    HttpRequest request = Request(method, "/echo", R"({"method":")" + method + R"("})");
    request.headers = {{"Content-Type", "application/json"}};
    const Result<HttpResponse> response = client.Send(request);
    ASSERT_TRUE(response.ok()) << method << ": " << response.status().ToString();
    EXPECT_EQ(response->body, request.body) << method;
    EXPECT_EQ(response->Header("X-Method"), method);
    const ServedRequest seen = last_request();
    EXPECT_EQ(seen.method, method);
    EXPECT_EQ(seen.body, request.body) << method;
    EXPECT_EQ(seen.Header("Content-Type"), "application/json") << method;
    EXPECT_EQ(seen.Header("Content-Length"), std::to_string(request.body.size())) << method;
  }
}

TEST_F(CurlHttpClientTest, LargeBodyIsSentWithoutExpectContinue) {
  CurlHttpClient client;
  const Result<HttpResponse> response =
      client.Send(Request("PUT", "/echo", std::string(3 << 20, 'b')));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->body.size(), size_t{3} << 20);
  EXPECT_EQ(last_request().Header("Expect"), std::nullopt);
  EXPECT_EQ(last_request().Header("Content-Type"), std::nullopt);  // curl's default suppressed
}

TEST_F(CurlHttpClientTest, EmptyBodySendsContentLengthZeroOnlyForPostPutPatch) {
  CurlHttpClient client;
  for (const std::string method : {"POST", "PUT", "PATCH"}) {
    const Result<HttpResponse> response = client.Send(Request(method, "/echo"));
    ASSERT_TRUE(response.ok()) << method << ": " << response.status().ToString();
    EXPECT_EQ(last_request().method, method);
    EXPECT_EQ(last_request().Header("Content-Length"), "0") << method;
  }
  const Result<HttpResponse> deleted = client.Send(Request("DELETE", "/echo"));
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(last_request().method, "DELETE");
  EXPECT_EQ(last_request().Header("Content-Length"), std::nullopt);
}

TEST_F(CurlHttpClientTest, HeadReturnsHeadersWithoutBody) {
  CurlHttpClient client;
  const Result<HttpResponse> response = client.Send(Request("HEAD", "/big"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("Content-Length"), std::to_string(kBigBody));
  EXPECT_EQ(response->body, "");
  EXPECT_EQ(last_request().method, "HEAD");
}

TEST_F(CurlHttpClientTest, ErrorStatusesAreValuesNotErrors) {
  CurlHttpClient client;
  const Result<HttpResponse> not_found = client.Send(Request("GET", "/status/404"));
  ASSERT_TRUE(not_found.ok()) << not_found.status().ToString();
  EXPECT_EQ(not_found->status, 404);
  EXPECT_EQ(not_found->body, "no such thing");
  const Result<HttpResponse> broken = client.Send(Request("POST", "/status/500", "x"));
  ASSERT_TRUE(broken.ok()) << broken.status().ToString();
  EXPECT_EQ(broken->status, 500);
  EXPECT_EQ(broken->body, "broken");
}

TEST_F(CurlHttpClientTest, ResponseOverTheLimitIsResourceExhausted) {
  CurlHttpClient client({.max_response_bytes = 1 << 20});
  for (const char* path : {"/big", "/big-chunked"}) {  // declared length, then streamed
    const Result<HttpResponse> response = client.Send(Request("GET", path));
    ASSERT_FALSE(response.ok()) << path;
    EXPECT_EQ(response.status().code(), StatusCode::kResourceExhausted) << path;
  }
  CurlHttpClient roomy({.max_response_bytes = kBigBody + 4096});
  const Result<HttpResponse> fits = roomy.Send(Request("GET", "/big-chunked"));
  ASSERT_TRUE(fits.ok()) << fits.status().ToString();
  EXPECT_EQ(fits->body.size(), kBigBody);
}

TEST_F(CurlHttpClientTest, SlowServerIsDeadlineExceeded) {
  CurlHttpClient client;
  HttpRequest request = Request("GET", "/slow");
  request.timeout = milliseconds(200);
  const auto start = std::chrono::steady_clock::now();
  const Result<HttpResponse> response = client.Send(request);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kDeadlineExceeded)
      << response.status().ToString();
  EXPECT_LT(elapsed, milliseconds(3000));
}

TEST_F(CurlHttpClientTest, ConnectionRefusedIsUnavailable) {
  const uint16_t port = ClosedPort();
  ASSERT_NE(port, 0);
  CurlHttpClient client;
  const Result<HttpResponse> response =
      client.Send({.url = "http://127.0.0.1:" + std::to_string(port) + "/x"});
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable) << response.status().ToString();
}

TEST_F(CurlHttpClientTest, ErrorMessagesNeverContainSecrets) {
  CurlHttpClient client({.max_response_bytes = 1024});
  const std::string refused_base = "http://user:pa55word@127.0.0.1:" + std::to_string(ClosedPort());
  const std::string live_base = "http://user:pa55word@127.0.0.1:" + std::to_string(server_.port());
  for (const std::string& url :
       {refused_base + "/hook/path?token=qsecret#frag", live_base + "/slow?token=qsecret",
        live_base + "/big?token=qsecret"}) {
    const HttpRequest request{.method = "POST",
                              .url = url,
                              .headers = {{"Authorization", "Bearer hdr-secret"}},
                              .body = "body-secret",
                              .timeout = milliseconds(300)};
    const Result<HttpResponse> response = client.Send(request);
    ASSERT_FALSE(response.ok()) << url;
    const std::string message = response.status().ToString();
    EXPECT_THAT(message, HasSubstr("POST http://127.0.0.1:"));
    for (const char* secret : {"pa55word", "qsecret", "hdr-secret", "body-secret", "frag"}) {
      EXPECT_THAT(message, Not(HasSubstr(secret))) << message;
    }
  }
  HttpRequest injected = Request("GET", "/echo");
  injected.headers = {{"X-Token", "hdr-secret\r\nX-Evil: 1"}};
  const Result<HttpResponse> rejected = client.Send(injected);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(rejected.status().message(), Not(HasSubstr("hdr-secret")));
}

TEST_F(CurlHttpClientTest, MalformedRequestsAreInvalidArgument) {
  CurlHttpClient client;
  HttpRequest bad_method = Request("GE T", "/echo");
  HttpRequest bad_name = Request("GET", "/echo");
  bad_name.headers = {{"X Bad", "v"}};
  HttpRequest framing = Request("POST", "/echo", "abc");
  framing.headers = {{"content-length", "3"}};
  HttpRequest no_timeout = Request("GET", "/echo");
  no_timeout.timeout = milliseconds(0);
  HttpRequest head_body = Request("HEAD", "/echo", "abc");
  const HttpRequest ftp{.url = "ftp://127.0.0.1/file"};
  const HttpRequest file{.url = "file:///etc/passwd"};
  const HttpRequest garbage{.url = "not a url"};
  for (const HttpRequest& request :
       {bad_method, bad_name, framing, no_timeout, head_body, ftp, file, garbage}) {
    const Result<HttpResponse> response = client.Send(request);
    ASSERT_FALSE(response.ok()) << request.method << " " << request.url;
    EXPECT_EQ(response.status().code(), StatusCode::kInvalidArgument)
        << response.status().ToString();
  }
}

TEST_F(CurlHttpClientTest, OnlyTheFinalResponsesHeadersAreKept) {
  CurlHttpClient client;
  const Result<HttpResponse> hinted = client.Send(Request("GET", "/interim"));
  ASSERT_TRUE(hinted.ok()) << hinted.status().ToString();
  EXPECT_EQ(hinted->status, 200);
  EXPECT_EQ(hinted->body, "final");
  EXPECT_EQ(hinted->Header("X-Final"), "yes");
  EXPECT_EQ(hinted->Header("Link"), std::nullopt);

  const Result<HttpResponse> not_followed = client.Send(Request("GET", "/redirect"));
  ASSERT_TRUE(not_followed.ok()) << not_followed.status().ToString();
  EXPECT_EQ(not_followed->status, 302);
  EXPECT_EQ(not_followed->Header("Location"), "/echo");

  CurlHttpClient following({.follow_redirects = true});
  const Result<HttpResponse> followed = following.Send(Request("GET", "/redirect"));
  ASSERT_TRUE(followed.ok()) << followed.status().ToString();
  EXPECT_EQ(followed->status, 200);
  EXPECT_EQ(followed->Header("X-Custom-Reply"), "Hello");
  EXPECT_EQ(followed->Header("X-First"), std::nullopt);
  EXPECT_EQ(last_request().target, "/echo");

  EXPECT_FALSE(following.Send(Request("GET", "/redirect-to-file")).ok());
}

TEST_F(CurlHttpClientTest, SequentialRequestsReuseOneConnection) {
  CurlHttpClient client;
  for (int i = 0; i < 5; ++i) {
    const Result<HttpResponse> response = client.Send(Request("GET", "/echo"));
    ASSERT_TRUE(response.ok()) << response.status().ToString();
  }
  EXPECT_EQ(server_.connections_accepted(), 1);
}

TEST_F(CurlHttpClientTest, ConcurrentSendsFromManyThreadsAllSucceed) {
  constexpr int kThreads = 8;
  constexpr int kRequestsPerThread = 50;
  CurlHttpClient client;
  std::vector<std::vector<std::string>> failures(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRequestsPerThread; ++i) {
        const std::string body = std::to_string(t) + "/" + std::to_string(i);
        const Result<HttpResponse> response = client.Send(Request("POST", "/echo", body));
        if (!response.ok()) {
          failures[t].push_back(response.status().ToString());
        } else if (response->status != 200 || response->body != body) {
          failures[t].push_back("unexpected answer to " + body + ": " + response->body);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_THAT(failures[t], ::testing::IsEmpty()) << t;
  // At most one handle (and so one kept-alive connection) per concurrent caller.
  EXPECT_LE(server_.connections_accepted(), kThreads);
}

}  // namespace
}  // namespace sb::net
