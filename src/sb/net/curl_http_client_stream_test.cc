// CurlHttpClient's streaming side (Open/Next, pulled request bodies, the cancel flag) against
// a real loopback server. (Separate from curl_http_client_test.cc to keep files small.)
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sb/net/curl_http_client.h"
#include "sb/net/testing/loopback_http_server.h"

namespace sb::net {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using testing::LoopbackHttpServer;
using ::testing::Not;
using testing::ServedRequest;
using testing::ServedResponse;

constexpr size_t kPiece = 64 << 10;
constexpr size_t kHuge = 64 << 20;

// Hands out `pieces` in order, then the end (or `error` when set).
class PieceSource final : public RequestBodySource {
 public:
  explicit PieceSource(std::vector<std::string> pieces, Status error = OkStatus())
      : pieces_(std::move(pieces)), error_(std::move(error)) {}
  Result<std::optional<std::string>> Next() override {
    if (next_ < pieces_.size()) return std::optional<std::string>(pieces_[next_++]);
    if (!error_.ok()) return error_;
    return std::optional<std::string>();
  }

 private:
  std::vector<std::string> pieces_;
  size_t next_ = 0;
  Status error_;
};

class CurlStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const Status started = server_.Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
  }

  void TearDown() override {
    Release();
    server_.Stop();
  }

  void Release() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    released_cv_.notify_all();
  }

  // Blocks the server's connection thread until Release (or 10 s).
  void WaitForRelease() {
    std::unique_lock lock(mu_);
    released_cv_.wait_for(lock, std::chrono::seconds(10), [this] { return released_; });
  }

  ServedResponse Handle(const ServedRequest& request) {
    const std::string path = request.target.substr(0, request.target.find('?'));
    if (path == "/huge") {
      auto sent = std::make_shared<size_t>(0);
      ServedResponse response;
      response.body_generator = [sent]() -> std::optional<std::string> {
        if (*sent >= kHuge) return std::nullopt;
        *sent += kPiece;
        return std::string(kPiece, static_cast<char>('a' + (*sent / kPiece) % 26));
      };
      if (request.target.find("length") != std::string::npos) response.content_length = kHuge;
      return response;
    }
    if (path == "/stall") {  // one piece, then nothing until released
      auto first = std::make_shared<bool>(true);
      ServedResponse response;
      response.body_generator = [this, first]() -> std::optional<std::string> {
        if (*first) {
          *first = false;
          return std::string("first");
        }
        WaitForRelease();
        return std::nullopt;
      };
      return response;
    }
    if (path == "/slow") {  // no head until released
      WaitForRelease();
      return {.body = "late"};
    }
    if (path == "/echo") {
      HeaderList headers = {{"X-Method", request.method}};
      if (auto length = request.Header("Content-Length")) headers.emplace_back("X-Length", *length);
      if (auto te = request.Header("Transfer-Encoding")) headers.emplace_back("X-TE", *te);
      return {.headers = std::move(headers), .body = request.body};
    }
    return {.status = 404};
  }

  HttpRequest Get(std::string_view path) { return HttpRequest{.url = server_.Url(path)}; }

  std::mutex mu_;
  std::condition_variable released_cv_;
  bool released_ = false;  // guarded by mu_
  LoopbackHttpServer server_{[this](const ServedRequest& r) { return Handle(r); }};
};

// Reads `stream` to its end; the total size, or the first error.
Result<size_t> Drain(HttpResponseStream& stream, size_t* largest_chunk = nullptr) {
  size_t total = 0;
  while (true) {
    SB_ASSIGN_OR_RETURN(std::optional<std::string> chunk, stream.Next());
    if (!chunk) return total;
    EXPECT_FALSE(chunk->empty());
    total += chunk->size();
    if (largest_chunk != nullptr) *largest_chunk = std::max(*largest_chunk, chunk->size());
  }
}

TEST_F(CurlStreamTest, LargeBodyArrivesInBoundedChunks) {
  CurlHttpClient client({.max_response_bytes = kHuge + 4096});
  for (const char* path : {"/huge", "/huge?length"}) {
    Result<std::unique_ptr<HttpResponseStream>> stream = client.Open(Get(path));
    ASSERT_TRUE(stream.ok()) << stream.status().ToString();
    EXPECT_EQ((*stream)->head().status, 200);
    EXPECT_TRUE((*stream)->head().body.empty());
    size_t largest = 0;
    const Result<size_t> total = Drain(**stream, &largest);
    ASSERT_TRUE(total.ok()) << total.status().ToString();
    EXPECT_EQ(*total, kHuge) << path;
    // The default 256 KiB bound plus at most one libcurl write.
    EXPECT_LE(largest, (256u << 10) + (64u << 10)) << path;
  }
}

TEST_F(CurlStreamTest, AStalledReaderStopsTheServer) {
  CurlHttpClient client({.max_response_bytes = kHuge + 4096, .max_buffered_bytes = 64 << 10});
  Result<std::unique_ptr<HttpResponseStream>> stream = client.Open(Get("/huge"));
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  ASSERT_TRUE((*stream)->Next().ok());
  std::this_thread::sleep_for(milliseconds(300));
  const size_t stalled = server_.bytes_sent();
  std::this_thread::sleep_for(milliseconds(300));
  // The paused transfer stops reading: the socket buffers fill and the server blocks, far
  // from the end of the body.
  EXPECT_EQ(server_.bytes_sent(), stalled);
  EXPECT_LT(stalled, kHuge / 2);
  const Result<size_t> rest = Drain(**stream);
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  EXPECT_GT(server_.bytes_sent(), kHuge);
}

TEST_F(CurlStreamTest, ResponseOverTheLimitFailsMidStream) {
  CurlHttpClient client({.max_response_bytes = 1 << 20});
  Result<std::unique_ptr<HttpResponseStream>> stream = client.Open(Get("/huge"));
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  const Result<size_t> drained = Drain(**stream);
  EXPECT_EQ(drained.status().code(), StatusCode::kResourceExhausted) << drained.status().ToString();
  // An announced length over the limit fails before the head is handed out.
  EXPECT_EQ(client.Open(Get("/huge?length")).status().code(), StatusCode::kResourceExhausted);
}

TEST_F(CurlStreamTest, ResponseOverTheLimitFailsWhenAPausedTransferResumes) {
  // A one-byte buffer pauses the transfer after every write, so the write that crosses the
  // limit is the one libcurl offers again when Next resumes it: still the limit, not a
  // failure to resume.
  CurlHttpClient client({.max_response_bytes = 1 << 20, .max_buffered_bytes = 1});
  Result<std::unique_ptr<HttpResponseStream>> stream = client.Open(Get("/huge"));
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  const Result<size_t> drained = Drain(**stream);
  EXPECT_EQ(drained.status().code(), StatusCode::kResourceExhausted) << drained.status().ToString();
}

TEST_F(CurlStreamTest, AbandonedStreamClosesItsConnection) {
  CurlHttpClient client({.max_response_bytes = kHuge + 4096});
  {
    Result<std::unique_ptr<HttpResponseStream>> stream = client.Open(Get("/huge"));
    ASSERT_TRUE(stream.ok()) << stream.status().ToString();
    ASSERT_TRUE((*stream)->Next().ok());
  }  // destroyed mid-body
  // The next call works, on a new connection: the half-read one was not reused.
  const Result<HttpResponse> after = client.Send(Get("/echo"));
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->status, 200);
  EXPECT_EQ(server_.connections_accepted(), 2);
  // A finished stream leaves its connection for reuse.
  {
    Result<std::unique_ptr<HttpResponseStream>> stream = client.Open(Get("/echo"));
    ASSERT_TRUE(stream.ok());
    ASSERT_TRUE(Drain(**stream).ok());
  }
  ASSERT_TRUE(client.Send(Get("/echo")).ok());
  EXPECT_EQ(server_.connections_accepted(), 2);
}

TEST_F(CurlStreamTest, DeadlineAppliesBeforeAndDuringTheBody) {
  CurlHttpClient client;
  HttpRequest slow = Get("/slow");
  slow.timeout = milliseconds(200);
  EXPECT_EQ(client.Open(slow).status().code(), StatusCode::kDeadlineExceeded);
  HttpRequest stall = Get("/stall");
  stall.timeout = milliseconds(300);
  Result<std::unique_ptr<HttpResponseStream>> stream = client.Open(stall);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  const Result<std::optional<std::string>> first = (*stream)->Next();
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ(**first, "first");
  EXPECT_EQ((*stream)->Next().status().code(), StatusCode::kDeadlineExceeded);
}

TEST_F(CurlStreamTest, CancelFlagStopsAWaitingOpenAtOnce) {
  CurlHttpClient client;
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  HttpRequest request = Get("/slow");
  request.cancel = cancel;
  std::thread canceller([cancel] {
    std::this_thread::sleep_for(milliseconds(100));
    cancel->store(true);
  });
  const auto start = std::chrono::steady_clock::now();
  const auto result = client.Open(request);
  canceller.join();
  EXPECT_EQ(result.status().code(), StatusCode::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  // Send honours it too, and a set flag stops a call before it starts.
  EXPECT_EQ(client.Send(request).status().code(), StatusCode::kCancelled);
}

TEST_F(CurlStreamTest, CancelFlagStopsAStreamMidBody) {
  CurlHttpClient client;
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  HttpRequest request = Get("/stall");
  request.cancel = cancel;
  Result<std::unique_ptr<HttpResponseStream>> stream = client.Open(request);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  ASSERT_TRUE((*stream)->Next().ok());
  std::thread canceller([cancel] {
    std::this_thread::sleep_for(milliseconds(100));
    cancel->store(true);
  });
  const auto start = std::chrono::steady_clock::now();
  const auto next = (*stream)->Next();  // waits on the stalled server until the flag is set
  canceller.join();
  EXPECT_EQ(next.status().code(), StatusCode::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(CurlStreamTest, PulledBodiesGoOutWithOrWithoutALength) {
  CurlHttpClient client;
  const std::vector<std::string> pieces = {"hello ", "", std::string(300 << 10, 'z'), " bye"};
  const std::string whole = "hello " + std::string(300 << 10, 'z') + " bye";
  HttpRequest request = Get("/echo");
  request.method = "PUT";
  request.body_source = std::make_shared<PieceSource>(pieces);
  Result<HttpResponse> chunked = client.Send(request);
  ASSERT_TRUE(chunked.ok()) << chunked.status().ToString();
  EXPECT_EQ(chunked->Header("X-Method"), "PUT");
  EXPECT_EQ(chunked->Header("X-TE"), "chunked");
  EXPECT_EQ(chunked->Header("X-Length"), std::nullopt);
  EXPECT_TRUE(chunked->body == whole);

  request.method = "POST";
  request.body_source = std::make_shared<PieceSource>(pieces);
  request.body_length = whole.size();
  Result<std::unique_ptr<HttpResponseStream>> sized = client.Open(request);
  ASSERT_TRUE(sized.ok()) << sized.status().ToString();
  EXPECT_EQ((*sized)->head().Header("X-Length"), std::to_string(whole.size()));
  EXPECT_EQ((*sized)->head().Header("X-TE"), std::nullopt);
  const Result<size_t> received = Drain(**sized);
  ASSERT_TRUE(received.ok()) << received.status().ToString();
  EXPECT_EQ(*received, whole.size());
}

TEST_F(CurlStreamTest, FailingOrMiscountedBodySourcesFailTheCall) {
  CurlHttpClient client;
  HttpRequest request = Get("/echo");
  request.method = "POST";
  request.body_source = std::make_shared<PieceSource>(
      std::vector<std::string>{"part"}, Status(StatusCode::kCancelled, "caller went away"));
  const Result<HttpResponse> failed = client.Send(request);
  EXPECT_EQ(failed.status().code(), StatusCode::kCancelled);
  EXPECT_THAT(failed.status().message(), HasSubstr("caller went away"));

  request.body_source = std::make_shared<PieceSource>(std::vector<std::string>{"short"});
  request.body_length = 100;
  EXPECT_EQ(client.Send(request).status().code(), StatusCode::kInvalidArgument);
  request.body_source = std::make_shared<PieceSource>(std::vector<std::string>{"too long"});
  request.body_length = 3;
  EXPECT_EQ(client.Send(request).status().code(), StatusCode::kInvalidArgument);
  // A body and a source at once is a malformed request; messages never quote the body.
  request.body = "secret-body";
  const Result<HttpResponse> both = client.Send(request);
  EXPECT_EQ(both.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(both.status().message(), Not(HasSubstr("secret-body")));
}

}  // namespace
}  // namespace sb::net
