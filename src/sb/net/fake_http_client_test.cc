#include "sb/net/testing/fake_http_client.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "sb/net/http_client.h"

namespace sb::net {
namespace {

using testing::FakeHttpClient;

TEST(HttpResponse, HeaderIsCaseInsensitiveAndReturnsTheFirstMatch) {
  const HttpResponse response{.headers = {{"Set-Cookie", "a=1"}, {"set-cookie", "b=2"}}};
  EXPECT_EQ(response.Header("SET-COOKIE"), "a=1");
  EXPECT_EQ(response.Header("Set-Cookies"), std::nullopt);
  EXPECT_EQ(response.Header(""), std::nullopt);
}

TEST(FakeHttpClient, AnswersFromTheQueueThenTheHandlerAndRecordsRequests) {
  FakeHttpClient client;
  client.Enqueue(FakeHttpClient::MakeResponse(201, "created", {{"Location", "/x/1"}}));
  client.Enqueue(UnavailableError("scripted outage"));

  const Result<HttpResponse> first =
      client.Send({.method = "POST", .url = "https://a/x", .body = "{}"});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->status, 201);
  EXPECT_EQ(first->Header("location"), "/x/1");
  const Result<HttpResponse> second = client.Send({.url = "https://a/y"});
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  const Result<HttpResponse> unscripted = client.Send({.url = "https://a/z"});
  EXPECT_EQ(unscripted.status().code(), StatusCode::kFailedPrecondition);

  client.SetHandler([](const HttpRequest& request) -> Result<HttpResponse> {
    return FakeHttpClient::MakeResponse(200, request.url);
  });
  const Result<HttpResponse> handled = client.Send({.url = "https://a/h"});
  ASSERT_TRUE(handled.ok());
  EXPECT_EQ(handled->body, "https://a/h");

  const std::vector<HttpRequest> requests = client.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].body, "{}");
  EXPECT_EQ(requests[1].url, "https://a/y");
  EXPECT_EQ(client.last_request()->url, "https://a/h");
  EXPECT_EQ(client.pending(), 0u);
}

TEST(FakeHttpClient, RecordsConcurrentRequests) {
  FakeHttpClient client(
      [](const HttpRequest&) -> Result<HttpResponse> { return FakeHttpClient::MakeResponse(204); });
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&client] {
      for (int i = 0; i < 50; ++i) EXPECT_EQ(client.Send({.url = "https://a/"})->status, 204);
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(client.request_count(), 400u);
}

TEST(FakeHttpClient, StreamsScriptedChunksAndHonoursTheCancelFlag) {
  FakeHttpClient client;
  client.EnqueueStream(
      FakeHttpClient::MakeResponse(200, "", {{"X-A", "1"}}),
      {std::string("one"), std::string(), std::string("two"), UnavailableError("reset")});
  client.Enqueue(FakeHttpClient::MakeResponse(200, "whole"));
  auto stream = client.Open({.url = "https://a/s"});
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ((*stream)->head().Header("x-a"), "1");
  EXPECT_EQ(*(*stream)->Next().value(), "one");
  EXPECT_EQ(*(*stream)->Next().value(), "two");  // empty chunks are skipped
  EXPECT_EQ((*stream)->Next().status().code(), StatusCode::kUnavailable);
  // A plain scripted response streams as one chunk.
  auto plain = client.Open({.url = "https://a/p"});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*(*plain)->Next().value(), "whole");
  EXPECT_EQ((*plain)->Next().value(), std::nullopt);

  auto cancel = std::make_shared<std::atomic<bool>>(false);
  client.EnqueueStream(FakeHttpClient::MakeResponse(200), {std::string("a"), std::string("b")});
  HttpRequest request{.url = "https://a/c"};
  request.cancel = cancel;
  auto cancelled = client.Open(request);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(*(*cancelled)->Next().value(), "a");
  cancel->store(true);
  EXPECT_EQ((*cancelled)->Next().status().code(), StatusCode::kCancelled);
  EXPECT_EQ(client.Send(request).status().code(), StatusCode::kCancelled);
}

}  // namespace
}  // namespace sb::net
