#include "sb/net/testing/fake_http_client.h"

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

}  // namespace
}  // namespace sb::net
