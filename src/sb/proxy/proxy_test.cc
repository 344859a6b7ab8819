// ProxyService over SQLite, the real vault and audit log and a fake provider: what goes out
// (path, query, body, safe headers, the connection's token; never the caller's credentials),
// what comes back, 401 -> one refresh and one retry, throttling retries within the cap, Google's
// rate-limit 403, clear errors before any call, and streaming: large answers arrive in order
// through ProxyResponse::more with the size limit enforced as they arrive, large request bodies
// are sent again on a retry, and the cancel flag reaches the provider call.
#include "sb/proxy/proxy.h"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sb/audit/audit_keys.h"
#include "sb/audit/testing/security_kit.h"
#include "sb/base/encoding.h"
#include "sb/base/testing/fake_clock.h"
#include "sb/net/testing/fake_http_client.h"
#include "sb/store/tenancy/tenant_repository.h"
#include "sb/store/testing/test_backends.h"
#include "sb/vault/envelope.h"
#include "sb/vault/keyring.h"

namespace sb::proxy {
namespace {

using std::chrono::milliseconds;

// `request` from a caller whose key holds the write scope.
ProxyRequest Writer(ProxyRequest request) {
  request.may_write = true;
  return request;
}

net::HttpResponse Reply(int status, std::string body,
                        std::vector<std::pair<std::string, std::string>> headers = {}) {
  return net::HttpResponse{status, std::move(headers), std::move(body)};
}

std::string HeaderOf(const net::HttpRequest& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (net::EqualsIgnoreCase(n, name)) return v;
  }
  return "";
}

class ProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::testing::OpenMigrated(backend_);
    ASSERT_TRUE(db.ok());
    db_ = std::move(*db);
    auto catalog = oauth::ProviderCatalog::LoadBuiltIn();
    ASSERT_TRUE(catalog.ok());
    catalog_ = std::make_unique<oauth::ProviderCatalog>(std::move(*catalog));
    integrations_ = std::make_unique<oauth::IntegrationService>(
        oauth::IntegrationDeps{.db = *db_,
                               .catalog = *catalog_,
                               .secrets = security_.secrets(),
                               .audit = security_.audit(),
                               .clock = clock_});
    tokens_ = std::make_unique<oauth::TokenClient>(http_);
    connections_ = std::make_unique<connections::ConnectionService>(
        connections::ConnectionDeps{.db = *db_,
                                    .catalog = *catalog_,
                                    .integrations = *integrations_,
                                    .secrets = security_.secrets(),
                                    .audit = security_.audit(),
                                    .tokens = *tokens_,
                                    .clock = clock_,
                                    .random = random_},
        connections::RefreshOptions{});
    proxy_ = std::make_unique<ProxyService>(
        ProxyDeps{.catalog = *catalog_,
                  .connections = *connections_,
                  .http = http_,
                  .metrics = metrics_,
                  .sleep = [this](milliseconds d) { slept_.push_back(d); }},
        ProxyOptions{});
    tenant_ = TenantId(ids_.NewUuid());
    ASSERT_TRUE(
        db_->RunInTenant(
               tenant_,
               [&](store::Transaction& tx) {
                 return store::TenantRepository().Insert(tx, tenant_, {tenant_, "t", clock_.Now()});
               })
            .ok());
    oauth::IntegrationInput google;
    google.provider = "google";
    google.client_id = "cid";
    google.client_secret = "client-secret";
    ASSERT_TRUE(integrations_->Put(tenant_, google, ctx_).ok());
    id_ = ConnectionId(ids_.NewUuid());
    store::ConnectionRecord r;
    r.tenant_id = tenant_;
    r.id = id_;
    r.provider = "google";
    r.end_user_id = "u";
    r.account_subject = "sub";
    r.access_expires_at = clock_.Now() + std::chrono::hours(1);
    r.has_refresh_token = true;
    r.token_version = 1;
    // Calendar read-write, Gmail read-only; no contacts.
    r.granted_scopes = {"openid", "https://www.googleapis.com/auth/calendar",
                        "https://www.googleapis.com/auth/gmail.readonly"};
    r.created_at = r.updated_at = clock_.Now();
    const std::string owner = store::ConnectionSecretOwner(id_);
    ASSERT_TRUE(
        db_->RunInTenant(
               tenant_,
               [&](store::Transaction& tx) -> Status {
                 SB_RETURN_IF_ERROR(store::ConnectionRepository().Insert(tx, tenant_, r));
                 SB_RETURN_IF_ERROR(
                     security_.secrets().Put(tx, {tenant_, owner, "access_token"}, "at-1"));
                 return security_.secrets().Put(tx, {tenant_, owner, "refresh_token"}, "rt-1");
               })
            .ok());
  }

  // The provider: the token endpoint answers refreshes with "at-<n>"; API calls go to `api`.
  void Provider(std::function<net::HttpResponse(const net::HttpRequest&)> api) {
    http_.SetHandler([this, api](const net::HttpRequest& r) -> Result<net::HttpResponse> {
      if (r.url.find("oauth2.googleapis.com/token") != std::string::npos) {
        ++refreshes_;
        return Reply(200, Json{{"access_token", "at-" + std::to_string(1 + refreshes_)},
                               {"token_type", "Bearer"},
                               {"expires_in", 3600}}
                              .dump());
      }
      api_calls_.push_back(r);
      return api(r);
    });
  }

  Result<ProxyResponse> Get(const std::string& path, const std::string& query = "") {
    return proxy_->Forward(tenant_, id_, ProxyRequest{"GET", path, query, {}, ""}, ctx_);
  }

  // A proxy with other options over the same fixtures.
  std::unique_ptr<ProxyService> ProxyWith(ProxyOptions options) {
    return std::make_unique<ProxyService>(
        ProxyDeps{.catalog = *catalog_,
                  .connections = *connections_,
                  .http = http_,
                  .metrics = metrics_,
                  .sleep = [this](milliseconds d) { slept_.push_back(d); }},
        options);
  }

  store::testing::SqliteTestBackend backend_;
  std::unique_ptr<store::Database> db_;
  sb::testing::FakeClock clock_;
  SystemRandom random_;
  IdGenerator ids_{clock_, random_};
  std::unique_ptr<oauth::ProviderCatalog> catalog_;
  audit::testing::SecurityKit security_{clock_, random_, ids_};
  std::unique_ptr<oauth::IntegrationService> integrations_;
  net::testing::FakeHttpClient http_;
  std::unique_ptr<oauth::TokenClient> tokens_;
  std::unique_ptr<connections::ConnectionService> connections_;
  metrics::MetricsRegistry metrics_;
  std::unique_ptr<ProxyService> proxy_;
  std::vector<milliseconds> slept_;
  std::vector<net::HttpRequest> api_calls_;
  int refreshes_ = 0;
  const audit::Context ctx_{audit::Actor{audit::ActorKind::kApiKey, "key"}, "req-1"};
  TenantId tenant_;
  ConnectionId id_;
};

TEST_F(ProxyTest, ForwardsSafelyAndInjectsTheConnectionsToken) {
  Provider([](const net::HttpRequest&) {
    return Reply(201, R"({"id":"e1"})",
                 {{"Content-Type", "application/json"},
                  {"ETag", "\"7\""},
                  {"Set-Cookie", "provider=1"},
                  {"Connection", "close"}});
  });
  ProxyRequest request{"POST",
                       "calendar/v3/calendars/primary/events",
                       "sendUpdates=all",
                       {{"Authorization", "Bearer sb_live_callers_key"},
                        {"Cookie", "session=abc"},
                        {"Content-Type", "application/json"},
                        {"If-Match", "\"6\""},
                        {"Connection", "keep-alive"},
                        {"X-Forwarded-For", "10.0.0.1"},
                        {"X-Goog-Request-Reason", "sync"}},
                       R"({"summary":"x"})"};
  request.may_write = true;
  auto response = proxy_->Forward(tenant_, id_, request, ctx_);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(api_calls_.size(), 1u);
  const net::HttpRequest& sent = api_calls_[0];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.url,
            "https://www.googleapis.com/calendar/v3/calendars/primary/events?sendUpdates=all");
  EXPECT_EQ(sent.body, R"({"summary":"x"})");
  EXPECT_EQ(HeaderOf(sent, "Authorization"), "Bearer at-1");  // the connection's, not the caller's
  EXPECT_EQ(HeaderOf(sent, "Content-Type"), "application/json");
  EXPECT_EQ(HeaderOf(sent, "If-Match"), "\"6\"");
  EXPECT_EQ(HeaderOf(sent, "X-Goog-Request-Reason"), "sync");
  EXPECT_EQ(HeaderOf(sent, "Cookie"), "");
  EXPECT_EQ(HeaderOf(sent, "Connection"), "");
  EXPECT_EQ(HeaderOf(sent, "X-Forwarded-For"), "");
  int authorizations = 0;
  for (const auto& [n, v] : sent.headers)
    authorizations += net::EqualsIgnoreCase(n, "Authorization");
  EXPECT_EQ(authorizations, 1);

  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, R"({"id":"e1"})");
  bool etag = false;
  for (const auto& [n, v] : response->headers) {
    EXPECT_FALSE(net::EqualsIgnoreCase(n, "Set-Cookie"));
    EXPECT_FALSE(net::EqualsIgnoreCase(n, "Connection"));
    etag |= n == "ETag" && v == "\"7\"";
  }
  EXPECT_TRUE(etag);
  // No tenant label unless the operator opts in (metrics.tenant_labels).
  const std::string text = metrics_.RenderPrometheusText();
  EXPECT_NE(text.find("sb_proxy_requests_total{provider=\"google\",status=\"201\"} 1"),
            std::string::npos);
  EXPECT_EQ(text.find(tenant_.value()), std::string::npos);
}

// With metrics.tenant_labels on, each tenant's calls have their own series.
TEST_F(ProxyTest, TenantLabelsAreOptIn) {
  metrics::MetricsRegistry registry;
  ProxyService proxy(ProxyDeps{.catalog = *catalog_,
                               .connections = *connections_,
                               .http = http_,
                               .metrics = registry,
                               .sleep = [](milliseconds) {}},
                     ProxyOptions{.tenant_label = true});
  http_.Enqueue(Reply(200, "ok"));
  ASSERT_TRUE(
      proxy.Forward(tenant_, id_, ProxyRequest{"GET", "calendar/v3/x", "", {}, ""}, ctx_).ok());
  EXPECT_NE(
      registry.RenderPrometheusText().find("sb_proxy_requests_total{tenant=\"" + tenant_.value() +
                                           "\",provider=\"google\",status=\"200\"} 1"),
      std::string::npos);
}

TEST_F(ProxyTest, A401RefreshesOnceAndRetriesOnce) {
  Provider([](const net::HttpRequest& r) {
    return HeaderOf(r, "Authorization") == "Bearer at-2" ? Reply(200, "ok") : Reply(401, "expired");
  });
  auto response = Get("calendar/v3/users/me/calendarList");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->attempts, 2);
  EXPECT_EQ(refreshes_, 1);

  // A provider that keeps saying 401: one refresh, one retry, then its answer as it is.
  Provider([](const net::HttpRequest&) { return Reply(401, "nope"); });
  response = Get("calendar/v3/users/me/calendarList");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(response->attempts, 2);
  EXPECT_EQ(refreshes_, 2);
}

TEST_F(ProxyTest, ThrottlingIsRetriedWithinTheCapOnly) {
  int calls = 0;
  Provider([&](const net::HttpRequest&) {
    return ++calls == 1 ? Reply(429, "slow down", {{"Retry-After", "2"}}) : Reply(200, "ok");
  });
  auto response = Get("calendar/v3/users/me/calendarList");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
  ASSERT_EQ(slept_.size(), 1u);
  EXPECT_EQ(slept_[0], milliseconds(2000));

  // Google's 403 rateLimitExceeded is throttling too; a plain 403 is not.
  calls = 0;
  Provider([&](const net::HttpRequest&) {
    return ++calls == 1
               ? Reply(403, R"({"error":{"errors":[{"reason":"rateLimitExceeded"}],"code":403}})")
               : Reply(200, "ok");
  });
  EXPECT_EQ(Get("calendar/v3/x")->status, 200);
  Provider([](const net::HttpRequest&) { return Reply(403, R"({"error":{"code":403}})"); });
  EXPECT_EQ(Get("calendar/v3/x")->attempts, 1);

  // A Retry-After beyond the cap is not waited for: the caller gets the 429 as it came.
  slept_.clear();
  Provider([](const net::HttpRequest&) { return Reply(429, "later", {{"Retry-After", "120"}}); });
  response = Get("calendar/v3/x");
  EXPECT_EQ(response->status, 429);
  EXPECT_EQ(response->body, "later");
  EXPECT_TRUE(slept_.empty());

  // Persistent 503: max_retries (2) retries, then the answer.
  Provider([](const net::HttpRequest&) { return Reply(503, "down"); });
  response = Get("calendar/v3/x");
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(response->attempts, 3);
}

TEST_F(ProxyTest, CallsIntoAServiceTheUserDidNotGrantAreRefusedBeforeTheProvider) {
  Provider([](const net::HttpRequest&) { return Reply(200, "{}"); });
  EXPECT_EQ(Get("gmail/v1/users/me/messages")->status, 200);
  auto send = proxy_->Forward(
      tenant_, id_, Writer(ProxyRequest{"POST", "gmail/v1/users/me/messages/send", "", {}, "{}"}),
      ctx_);
  ASSERT_EQ(send.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(send.status().message().find("gmail.modify"), std::string::npos)
      << send.status().message();
  EXPECT_NE(send.status().message().find("reconnect with the email service"), std::string::npos);
  // Case does not get around it; paths no service claims are not checked.
  EXPECT_EQ(
      proxy_
          ->Forward(tenant_, id_,
                    Writer(ProxyRequest{"DELETE", "Gmail/V1/users/me/messages/1", "", {}, ""}),
                    ctx_)
          .status()
          .code(),
      StatusCode::kPermissionDenied);
  EXPECT_EQ(Get("oauth2/v3/userinfo")->status, 200);
  EXPECT_EQ(api_calls_.size(), 2u);
}

TEST_F(ProxyTest, ClearErrorsBeforeAnyCall) {
  Provider([](const net::HttpRequest&) { return Reply(200, "ok"); });
  for (const std::string path : {"../admin", "a/../../b", "a/%2e%2e/b", "./x", "a b"}) {
    EXPECT_EQ(Get(path).status().code(), StatusCode::kInvalidArgument) << path;
  }
  EXPECT_EQ(proxy_
                ->Forward(tenant_, ConnectionId(ids_.NewUuid()),
                          ProxyRequest{"GET", "x", "", {}, ""}, ctx_)
                .status()
                .code(),
            StatusCode::kNotFound);
  connections::ConnectionPatch disable;
  disable.enabled = false;
  ASSERT_TRUE(connections_->Patch(tenant_, id_, disable, ctx_).ok());
  EXPECT_EQ(Get("calendar/v3/x").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(api_calls_.empty());
}

// Issue 13 "Scopes, roles and exposure" (security.md 6, least privilege): a key with only the
// read scope makes reads only; what counts as a read is the catalog's classification of the
// call, not the HTTP method alone.
TEST_F(ProxyTest, AReadOnlyKeyCannotCauseAWriteAtTheProvider) {
  Provider([](const net::HttpRequest&) { return Reply(200, "{}"); });
  // Writes by method: refused before any call.
  for (const std::string method : {"POST", "PUT", "PATCH", "DELETE", "OPTIONS", "get"}) {
    auto refused = proxy_->Forward(
        tenant_, id_, ProxyRequest{method, "calendar/v3/calendars/primary/events", "", {}, "{}"},
        ctx_);
    ASSERT_EQ(refused.status().code(), StatusCode::kPermissionDenied) << method;
    EXPECT_NE(refused.status().message().find("'write' scope"), std::string::npos);
  }
  // Google's watch is a POST that creates a push channel: a write.
  EXPECT_EQ(proxy_
                ->Forward(tenant_, id_,
                          ProxyRequest{
                              "POST", "calendar/v3/calendars/primary/events/watch", "", {}, "{}"},
                          ctx_)
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(api_calls_.empty());
  // A POST the catalog classifies as a read (freeBusy) and plain GETs pass.
  EXPECT_EQ(
      proxy_
          ->Forward(tenant_, id_, ProxyRequest{"POST", "calendar/v3/freeBusy", "", {}, "{}"}, ctx_)
          ->status,
      200);
  EXPECT_EQ(Get("calendar/v3/users/me/calendarList")->status, 200);
  EXPECT_EQ(api_calls_.size(), 2u);
  // A key with only the write scope cannot read.
  ProxyRequest writer_only{"GET", "calendar/v3/users/me/calendarList", "", {}, ""};
  writer_only.may_read = false;
  writer_only.may_write = true;
  EXPECT_EQ(proxy_->Forward(tenant_, id_, writer_only, ctx_).status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(ProxyTest, MethodOverrideHeadersAreNeverForwarded) {
  Provider([](const net::HttpRequest&) { return Reply(200, "{}"); });
  ProxyRequest request{"GET",
                       "calendar/v3/users/me/calendarList",
                       "",
                       {{"X-HTTP-Method-Override", "DELETE"},
                        {"x-http-method", "DELETE"},
                        {"X-Method-Override", "DELETE"},
                        {"X-Goog-Request-Reason", "sync"}},
                       ""};
  ASSERT_TRUE(proxy_->Forward(tenant_, id_, request, ctx_).ok());
  ASSERT_EQ(api_calls_.size(), 1u);
  EXPECT_EQ(HeaderOf(api_calls_[0], "X-HTTP-Method-Override"), "");
  EXPECT_EQ(HeaderOf(api_calls_[0], "X-HTTP-Method"), "");
  EXPECT_EQ(HeaderOf(api_calls_[0], "X-Method-Override"), "");
  EXPECT_EQ(HeaderOf(api_calls_[0], "X-Goog-Request-Reason"), "sync");
  EXPECT_FALSE(IsForwardableRequestHeader("X-HTTP-Method-Override"));
}

// The scope checks see the decoded path, and exactly its canonical encoding is sent: an
// encoded ".." cannot make a Gmail call pass as a calendar one, nor can duplicate slashes or
// encoded letters get around a service's api_paths.
TEST_F(ProxyTest, ScopeChecksRunOnTheDecodedPathThatIsSent) {
  Provider([](const net::HttpRequest&) { return Reply(200, "{}"); });
  for (const std::string path :
       {"calendar/v3/%2e%2e/gmail/v1/users/me/messages/send", "calendar/v3/%2E./x",
        "calendar/v3/a%2f..%2fb", "calendar//v3/x", "/calendar/v3/x", "calendar/v3/%zz",
        "calendar/v3/a%00b", "calendar/v3/a%5cb"}) {
    EXPECT_EQ(proxy_->Forward(tenant_, id_, Writer(ProxyRequest{"POST", path, "", {}, "{}"}), ctx_)
                  .status()
                  .code(),
              StatusCode::kInvalidArgument)
        << path;
  }
  // %67mail is gmail: the connection holds only gmail.readonly, so a send is refused.
  EXPECT_EQ(
      proxy_
          ->Forward(tenant_, id_,
                    Writer(ProxyRequest{"POST", "%67mail/v1/users/me/messages/send", "", {}, "{}"}),
                    ctx_)
          .status()
          .code(),
      StatusCode::kPermissionDenied);
  EXPECT_TRUE(api_calls_.empty());
  // What is sent is the canonical encoding of what was checked.
  ASSERT_EQ(
      Get("calendar/v3/calendars/en.usa%23holiday%40group.v.calendar.google.com/events/a%20b/")
          ->status,
      200);
  ASSERT_EQ(api_calls_.size(), 1u);
  EXPECT_EQ(api_calls_[0].url,
            "https://www.googleapis.com/calendar/v3/calendars/"
            "en.usa%23holiday@group.v.calendar.google.com/events/a%20b/");
  auto normalized = NormalizeProxyPath("%67mail/v1/users/me/a%2Fb");
  ASSERT_TRUE(normalized.ok());
  EXPECT_EQ(normalized->decoded, "gmail/v1/users/me/a/b");
  EXPECT_EQ(normalized->encoded, "gmail/v1/users/me/a%2Fb");
}

// The whole body of `response`: its start and whatever `more` yields; the first error.
Result<std::string> ReadAll(ProxyResponse& response) {
  std::string body = response.body;
  while (response.more) {
    SB_ASSIGN_OR_RETURN(std::optional<std::string> chunk, response.more->Next());
    if (!chunk) break;
    body += *chunk;
  }
  return body;
}

// `count` chunks of `size` bytes, each of its own letter, and their concatenation.
std::vector<Result<std::string>> Chunks(int count, size_t size, std::string* whole) {
  std::vector<Result<std::string>> chunks;
  for (int i = 0; i < count; ++i) {
    chunks.emplace_back(std::string(size, static_cast<char>('a' + i)));
    *whole += *chunks.back();
  }
  return chunks;
}

TEST_F(ProxyTest, LargeAnswersStreamInOrderSmallOnesComeWhole) {
  std::string whole;
  http_.EnqueueStream(Reply(200, "", {{"Content-Type", "text/csv"}, {"Set-Cookie", "x=1"}}),
                      Chunks(6, 40 << 10, &whole));
  auto response = Get("drive/v3/files/f1");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  ASSERT_NE(response->more, nullptr);
  EXPECT_GE(response->body.size(), kBufferedAnswerBytes);  // the start was read ahead
  EXPECT_LT(response->body.size(), whole.size());
  ASSERT_EQ(response->headers.size(), 1u);  // Set-Cookie dropped as before
  const Result<std::string> body = ReadAll(*response);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_TRUE(*body == whole);

  std::string small;
  http_.EnqueueStream(Reply(200, ""), Chunks(3, 100, &small));
  response = Get("drive/v3/files/f2");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->more, nullptr);
  EXPECT_EQ(response->body, small);
}

TEST_F(ProxyTest, TheSizeLimitHoldsBeforeAndWhileStreaming) {
  auto proxy = ProxyWith({.max_response_bytes = 100 << 10});
  std::string whole;
  http_.EnqueueStream(Reply(200, ""), Chunks(5, 40 << 10, &whole));
  auto response = proxy->Forward(tenant_, id_, ProxyRequest{"GET", "x", "", {}, ""}, ctx_);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_NE(response->more, nullptr);
  EXPECT_EQ(ReadAll(*response).status().code(), StatusCode::kResourceExhausted);

  // An answer announcing too much is refused before any of it is passed on.
  http_.EnqueueStream(Reply(200, "", {{"Content-Length", std::to_string(200 << 10)}}),
                      Chunks(5, 40 << 10, &whole));
  response = proxy->Forward(tenant_, id_, ProxyRequest{"GET", "x", "", {}, ""}, ctx_);
  EXPECT_EQ(response.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(response.status().message().find("size limit"), std::string::npos);
  // A transport failure mid-way ends the stream with it.
  http_.EnqueueStream(Reply(200, ""), {std::string(70 << 10, 'a'), UnavailableError("reset")});
  response = proxy->Forward(tenant_, id_, ProxyRequest{"GET", "x", "", {}, ""}, ctx_);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(ReadAll(*response).status().code(), StatusCode::kUnavailable);
}

TEST_F(ProxyTest, RetriesReadTheSmallAnswerThenStreamTheFinalOne) {
  std::string whole;
  // In call order: the API's 401, the forced refresh, a 429, the final answer.
  http_.Enqueue(Reply(401, "expired"));
  http_.Enqueue(Reply(
      200, Json{{"access_token", "at-2"}, {"token_type", "Bearer"}, {"expires_in", 3600}}.dump()));
  http_.EnqueueStream(Reply(429, "", {{"Retry-After", "1"}}),
                      {std::string("slow "), std::string("down")});
  http_.EnqueueStream(Reply(200, ""), Chunks(4, 40 << 10, &whole));
  auto response = Get("calendar/v3/x");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->attempts, 3);
  EXPECT_EQ(slept_, std::vector<milliseconds>{milliseconds(1000)});
  const Result<std::string> body = ReadAll(*response);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_TRUE(*body == whole);
  const std::vector<net::HttpRequest> sent = http_.requests();
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(HeaderOf(sent[3], "Authorization"), "Bearer at-2");
}

TEST_F(ProxyTest, LargeRequestBodiesAreSentAgainOnARetry) {
  const std::string big(300 << 10, 'q');
  http_.Enqueue(Reply(503, "busy", {{"Retry-After", "0"}}));
  http_.Enqueue(Reply(200, "ok"));
  auto response = proxy_->Forward(
      tenant_, id_, Writer(ProxyRequest{"PUT", "drive/v3/files/f", "", {}, big}), ctx_);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->attempts, 2);
  const std::vector<net::HttpRequest> sent = http_.requests();
  ASSERT_EQ(sent.size(), 2u);
  for (const net::HttpRequest& r : sent) {
    EXPECT_TRUE(r.body == big);  // the fake records what the body source gave
    EXPECT_EQ(r.body_length, big.size());
  }
  // Bodies over max_request_bytes are refused before any call.
  auto small = ProxyWith({.max_request_bytes = 1024});
  EXPECT_EQ(small->Forward(tenant_, id_, Writer(ProxyRequest{"PUT", "x", "", {}, big}), ctx_)
                .status()
                .code(),
            StatusCode::kOutOfRange);
  EXPECT_EQ(http_.request_count(), 2u);
}

TEST_F(ProxyTest, TheCancelFlagStopsTheCallAndItsStream) {
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  std::string whole;
  http_.EnqueueStream(Reply(200, ""), Chunks(4, 40 << 10, &whole));
  ProxyRequest request{"GET", "drive/v3/files/f", "", {}, ""};
  request.cancel = cancel;
  auto response = proxy_->Forward(tenant_, id_, request, ctx_);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(http_.last_request()->cancel, cancel);  // the flag rides on the provider call
  ASSERT_NE(response->more, nullptr);
  cancel->store(true);
  EXPECT_EQ(response->more->Next().status().code(), StatusCode::kCancelled);
  // A set flag stops the next call before the provider answers.
  http_.Enqueue(Reply(200, "ok"));
  EXPECT_EQ(proxy_->Forward(tenant_, id_, request, ctx_).status().code(), StatusCode::kCancelled);
}

// The kill switch stops a call in flight and the rest of its streamed answer at once, and the
// caller learns why (FAILED_PRECONDITION with the switch's reason, not CANCELLED).
TEST_F(ProxyTest, TheKillSwitchStopsAStreamedAnswerAndSaysWhy) {
  connections::ProviderSwitches switches(connections::ProviderSwitchesDeps{
      .db = *db_, .maintenance = *db_, .clock = clock_, .audit = security_.audit()});
  ProxyService proxy(ProxyDeps{.catalog = *catalog_,
                               .connections = *connections_,
                               .http = http_,
                               .metrics = metrics_,
                               .sleep = [this](milliseconds d) { slept_.push_back(d); },
                               .switches = &switches},
                     ProxyOptions{});
  std::string whole;
  http_.EnqueueStream(Reply(200, ""), Chunks(4, 40 << 10, &whole));
  auto response =
      proxy.Forward(tenant_, id_, ProxyRequest{"GET", "drive/v3/files/f", "", {}, ""}, ctx_);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_NE(response->more, nullptr);
  ASSERT_TRUE(response->more->Next().ok());
  ASSERT_TRUE(switches.Set(ctx_, tenant_, "google", false, "incident 9").ok());
  EXPECT_EQ(response->more->Next().status().code(), StatusCode::kCancelled);

  // A call that is stopped before the provider answered reports the switch.
  http_.SetHandler([&](const net::HttpRequest&) -> Result<net::HttpResponse> {
    EXPECT_TRUE(switches.Set(ctx_, tenant_, "google", false, "incident 10").ok());
    return Status(StatusCode::kCancelled, "cancelled");
  });
  ASSERT_TRUE(switches.Set(ctx_, tenant_, "google", true, "").ok());
  auto stopped =
      proxy.Forward(tenant_, id_, ProxyRequest{"GET", "drive/v3/files/g", "", {}, ""}, ctx_);
  EXPECT_EQ(stopped.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(stopped.status().message().find("incident 10"), std::string::npos);
  // While it is off, nothing is called.
  const size_t calls = http_.request_count();
  EXPECT_EQ(proxy.Forward(tenant_, id_, ProxyRequest{"GET", "x", "", {}, ""}, ctx_).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(http_.request_count(), calls);
}

// The caller's body as the server streams it in, in pieces (an error ends it).
class PiecesSource final : public net::RequestBodySource {
 public:
  explicit PiecesSource(std::vector<Result<std::string>> pieces) : pieces_(std::move(pieces)) {}
  Result<std::optional<std::string>> Next() override {
    if (next_ == pieces_.size()) return std::optional<std::string>();
    Result<std::string> piece = pieces_[next_++];
    if (!piece.ok()) return piece.status();
    return std::optional<std::string>(std::move(*piece));
  }

 private:
  std::vector<Result<std::string>> pieces_;
  size_t next_ = 0;
};

TEST_F(ProxyTest, ALongStreamedBodyGoesToTheProviderOnceAndItsAnswerIsFinal) {
  Provider([](const net::HttpRequest&) { return Reply(401, "{}"); });
  const std::string a(100 << 10, 'a'), b(100 << 10, 'b');
  ProxyRequest request{"PUT", "drive/v3/files/f", "", {}, ""};
  request.may_write = true;
  request.body_stream = std::make_shared<PiecesSource>(std::vector<Result<std::string>>{a, b});
  request.body_length = a.size() + b.size();
  auto response = proxy_->Forward(tenant_, id_, request, ctx_);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 401);  // not refreshed and retried: the body is gone
  ASSERT_EQ(api_calls_.size(), 1u);
  EXPECT_TRUE(api_calls_[0].body == a + b);
  EXPECT_EQ(api_calls_[0].body_length, a.size() + b.size());
}

TEST_F(ProxyTest, AShortStreamedBodyIsReadAheadAndSentAgainOnARetry) {
  int calls = 0;
  Provider([&](const net::HttpRequest&) { return Reply(++calls == 1 ? 401 : 200, "{}"); });
  ProxyRequest request{"POST", "drive/v3/files", "", {}, ""};
  request.may_write = true;
  request.body_stream = std::make_shared<PiecesSource>(
      std::vector<Result<std::string>>{std::string("{\"name\":"), std::string("\"x\"}")});
  auto response = proxy_->Forward(tenant_, id_, request, ctx_);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  ASSERT_EQ(api_calls_.size(), 2u);
  for (const auto& call : api_calls_) EXPECT_EQ(call.body, "{\"name\":\"x\"}");
}

TEST_F(ProxyTest, ACallerBodyThatFailsEndsTheCallWithItsOwnError) {
  Provider([](const net::HttpRequest&) { return Reply(200, "{}"); });
  ProxyRequest request{"PUT", "drive/v3/files/f", "", {}, ""};
  request.may_write = true;
  request.body_stream = std::make_shared<PiecesSource>(std::vector<Result<std::string>>{
      std::string(100 << 10, 'a'), Status(StatusCode::kOutOfRange, "request body too large")});
  EXPECT_EQ(proxy_->Forward(tenant_, id_, request, ctx_).status().code(), StatusCode::kOutOfRange);
  request.body_stream = std::make_shared<PiecesSource>(std::vector<Result<std::string>>{
      std::string("x"), Status(StatusCode::kCancelled, "the client closed the connection")});
  EXPECT_EQ(proxy_->Forward(tenant_, id_, request, ctx_).status().code(), StatusCode::kCancelled);
}

}  // namespace
}  // namespace sb::proxy
