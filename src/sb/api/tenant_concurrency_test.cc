#include "sb/api/tenant_concurrency.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sb/tenancy/api_keys.h"

namespace sb::api {
namespace {

using ::testing::HasSubstr;

class EmptySource final : public http::BodySource {
 public:
  Result<std::optional<std::string>> Next() override { return std::optional<std::string>(); }
};

http::Request RequestOf(const std::string& tenant, bool upload = false) {
  http::Request request;
  request.request_id = "req-1";
  request.route_options.stream_request_body = upload;
  if (upload) request.body_length = 1024;  // a body still to come
  request.principal = tenancy::Principal{TenantId(tenant), ApiKeyId("key-" + tenant), {}};
  return request;
}

const http::Handler kStreamed = [](http::Request&) {
  return http::Response::Stream(200, "text/plain", std::make_shared<EmptySource>());
};
const http::Handler kBuffered = [](http::Request&) { return http::Response::Text(200, "ok"); };

// Issue 13: requests of one tenant in flight are capped; a streamed answer holds its slot until
// the server drops the stream, then the slot is free again. Other tenants are unaffected.
TEST(TenantConcurrencyLimiter, CapsRequestsInFlightUntilTheirStreamsEnd) {
  TenantConcurrencyLimiter limiter({.max_requests = 2, .max_uploads = 8});
  std::vector<http::Response> held;
  for (int i = 0; i < 2; ++i) {
    http::Request request = RequestOf("t1");
    held.push_back(limiter(request, kStreamed));
    ASSERT_EQ(held.back().status, 200);
  }
  EXPECT_EQ(limiter.InFlight("t1"), 2u);
  http::Request third = RequestOf("t1");
  const http::Response refused = limiter(third, kBuffered);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.Header("Retry-After"), "1");
  EXPECT_EQ(refused.Header("Content-Type"), "application/problem+json");
  EXPECT_THAT(refused.body, HasSubstr("limits.max_concurrent_requests_per_tenant"));
  EXPECT_THAT(refused.body, HasSubstr("already has 2 requests in flight"));
  http::Request other = RequestOf("t2");
  EXPECT_EQ(limiter(other, kBuffered).status, 200);
  held.pop_back();  // the server is done with one stream
  EXPECT_EQ(limiter.InFlight("t1"), 1u);
  http::Request again = RequestOf("t1");
  EXPECT_EQ(limiter(again, kBuffered).status, 200);
  held.clear();
  EXPECT_EQ(limiter.InFlight("t1"), 0u);
}

// Uploads (streamed request bodies) have their own, smaller cap; other calls still pass.
TEST(TenantConcurrencyLimiter, CapsUploadsSeparately) {
  TenantConcurrencyLimiter limiter({.max_requests = 64, .max_uploads = 1});
  http::Request upload = RequestOf("t1", /*upload=*/true);
  const http::Response held = limiter(upload, kStreamed);
  ASSERT_EQ(held.status, 200);
  http::Request second = RequestOf("t1", /*upload=*/true);
  const http::Response refused = limiter(second, kBuffered);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.Header("Retry-After"), "1");
  EXPECT_THAT(refused.body, HasSubstr("limits.max_concurrent_uploads_per_tenant"));
  http::Request plain = RequestOf("t1");
  EXPECT_EQ(limiter(plain, kBuffered).status, 200);
  EXPECT_EQ(limiter.InFlight("t1"), 1u);  // the buffered call released its slot at once
}

// A bodiless call on a streamed-body route (a proxy GET) cannot trickle: it counts against the
// request cap only, so many concurrent proxy reads are not throttled as uploads.
TEST(TenantConcurrencyLimiter, BodilessCallsOnUploadRoutesAreNotUploads) {
  TenantConcurrencyLimiter limiter({.max_requests = 64, .max_uploads = 1});
  http::Request upload = RequestOf("t1", /*upload=*/true);
  const http::Response held = limiter(upload, kStreamed);
  ASSERT_EQ(held.status, 200);
  http::Request get = RequestOf("t1", /*upload=*/true);
  get.body_length = 0;
  EXPECT_EQ(limiter(get, kBuffered).status, 200);
  http::Request no_length = RequestOf("t1", /*upload=*/true);
  no_length.body_length.reset();
  EXPECT_EQ(limiter(no_length, kBuffered).status, 200);
  http::Request chunked = RequestOf("t1", /*upload=*/true);
  chunked.body_length.reset();
  chunked.headers.emplace_back("Transfer-Encoding", "chunked");
  EXPECT_EQ(limiter(chunked, kBuffered).status, 429);
}

TEST(TenantConcurrencyLimiter, PublicRoutesAndZeroCapsPassUncounted) {
  TenantConcurrencyLimiter limiter({.max_requests = 1, .max_uploads = 1});
  // Declared before the responses it admits, which hold their slots and outlive nothing else.
  TenantConcurrencyLimiter off({.max_requests = 0, .max_uploads = 0});
  std::vector<http::Response> held;
  for (int i = 0; i < 3; ++i) {
    http::Request request;
    request.route_options.authenticated = false;
    held.push_back(limiter(request, kStreamed));
    EXPECT_EQ(held.back().status, 200);
  }
  for (int i = 0; i < 3; ++i) {
    http::Request request = RequestOf("t1", /*upload=*/true);
    held.push_back(off(request, kStreamed));
    EXPECT_EQ(held.back().status, 200);
  }
}

}  // namespace
}  // namespace sb::api
