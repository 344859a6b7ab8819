// The typed tests of ApiSuite. Include once per test binary, then
// INSTANTIATE_TYPED_TEST_SUITE_P(Backend, ApiSuite, <Backend type>).
#pragma once

#include <chrono>
#include <set>
#include <sstream>
#include <thread>

#include "sb/app/testing/api_suite.h"

namespace sb::app::testing {

TYPED_TEST_SUITE_P(ApiSuite);

TYPED_TEST_P(ApiSuite, HealthReadinessAndMetrics) {
  this->Boot();
  EXPECT_EQ(this->Call("GET", "/healthz").status, 200);
  TestResponse ready = this->Call("GET", "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.JsonBody().value("status", ""), "ready");
  // The server records a request's metrics after writing its response, so /readyz may show up
  // a moment after its answer arrived.
  TestResponse metrics;
  for (int attempt = 0; attempt < 100; ++attempt) {
    metrics = this->Metrics();
    ASSERT_EQ(metrics.status, 200);
    if (metrics.body.find("route=\"/readyz\"") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(metrics.body.find("sb_http_requests_total{"), std::string::npos);
  EXPECT_NE(metrics.body.find("route=\"/readyz\""), std::string::npos);
  EXPECT_NE(metrics.body.find("sb_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(metrics.body.find("sb_db_pool_max_connections"), std::string::npos);
}

// /metrics is not public (issue 13): on the API listener only the metrics token reads it; an API
// key, even an admin's, does not.
TYPED_TEST_P(ApiSuite, MetricsNeedTheTokenOnTheApiListener) {
  this->Boot();
  EXPECT_EQ(this->Call("GET", "/metrics").status, 401);
  TestResponse wrong = this->Call("GET", "/metrics", "", std::string(40, 'x'));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body.find("sb_http_requests_total"), std::string::npos);
  EXPECT_EQ(this->Call("GET", "/metrics", "", this->admin_key_).status, 401);
  TestResponse right = this->Metrics();
  EXPECT_EQ(right.status, 200);
  EXPECT_NE(right.body.find("sb_db_pool_max_connections"), std::string::npos);
}

// Without a token the API listener does not serve metrics at all; metrics.listen serves them
// on an address of their own (loopback or a private network).
TYPED_TEST_P(ApiSuite, MetricsListenerOfItsOwn) {
  this->config_.metrics.token.clear();
  this->config_.metrics.listen_address = "127.0.0.1";
  this->config_.metrics.port = 0;
  this->Boot();
  TestResponse api = this->Call("GET", "/metrics");
  EXPECT_EQ(api.status, 404);
  EXPECT_EQ(api.body.find("sb_http_requests_total"), std::string::npos);
  const uint16_t port = this->app_->metrics_port();
  ASSERT_NE(port, 0);
  ASSERT_NE(port, this->port_);
  TestHttpClient scraper(port);
  TestResponse scraped = scraper.Send("GET", "/metrics");
  EXPECT_EQ(scraped.status, 200);
  EXPECT_NE(scraped.body.find("sb_db_pool_max_connections"), std::string::npos);
  // Only /metrics there: the API is not reachable through the metrics listener.
  EXPECT_EQ(scraper.Send("GET", "/v1/api-keys", "", this->admin_key_).status, 404);
}

TYPED_TEST_P(ApiSuite, TenantLifecycleThroughTheApi) {
  this->Boot();
  auto [tenant, key] = this->NewTenantWithKey(R"(["read","write"])");
  ASSERT_FALSE(key.empty());
  TestResponse own = this->Call("GET", "/v1/tenants/" + tenant, "", key);
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_EQ(own.JsonBody()["id"], tenant);
  EXPECT_EQ(own.JsonBody()["name"], "T");
  // Only admins create tenants.
  TestResponse denied = this->Call("POST", "/v1/tenants", R"({"name":"X"})", key);
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(denied.Header("content-type"), "application/problem+json");
}

TYPED_TEST_P(ApiSuite, TheOperatorListsEveryTenantOthersOnlyTheirOwn) {
  this->Boot();
  auto [a, a_key] = this->NewTenantWithKey(R"(["read"])");
  auto [b, b_key] = this->NewTenantWithKey(R"(["read"])");
  // The operator pages through every tenant (the PostgreSQL suites share one database, so there
  // may be more than these), in id order, each once.
  std::set<std::string> seen;
  std::string last;
  std::string cursor;
  for (int page = 0; page < 1000; ++page) {
    TestResponse r =
        this->Call("GET", "/v1/tenants?limit=100" + (cursor.empty() ? "" : "&cursor=" + cursor), "",
                   this->admin_key_);
    ASSERT_EQ(r.status, 200) << r.body;
    const Json body = r.JsonBody();
    for (const Json& t : body["data"]) {
      const std::string id = t.value("id", "");
      EXPECT_GT(id, last);
      last = id;
      EXPECT_TRUE(seen.insert(id).second) << id;
    }
    if (body["next_cursor"].is_null()) break;
    cursor = body["next_cursor"].get<std::string>();
  }
  EXPECT_TRUE(seen.count(a) == 1 && seen.count(b) == 1);
  EXPECT_TRUE(seen.count(this->admin_tenant_) == 1);
  TestResponse one = this->Call("GET", "/v1/tenants?limit=1", "", this->admin_key_);
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.JsonBody()["data"].size(), 1u);
  EXPECT_FALSE(one.JsonBody()["next_cursor"].is_null());
  // A tenant's key sees its own tenant and nothing else, whatever it asks for.
  TestResponse own = this->Call("GET", "/v1/tenants?limit=100", "", a_key);
  ASSERT_EQ(own.status, 200) << own.body;
  ASSERT_EQ(own.JsonBody()["data"].size(), 1u);
  EXPECT_EQ(own.JsonBody()["data"][0]["id"], a);
  EXPECT_TRUE(own.JsonBody()["next_cursor"].is_null());
  TestResponse later = this->Call("GET", "/v1/tenants?cursor=" + a, "", a_key);
  ASSERT_EQ(later.status, 200);
  EXPECT_TRUE(later.JsonBody()["data"].empty());
  EXPECT_EQ(this->Call("GET", "/v1/tenants?cursor=nope", "", this->admin_key_).status, 400);
  EXPECT_EQ(this->Call("GET", "/v1/tenants?limit=101", "", this->admin_key_).status, 400);
}

TYPED_TEST_P(ApiSuite, MissingOrWrongCredentialsAre401) {
  this->Boot();
  TestResponse none = this->Call("GET", "/v1/api-keys");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.Header("www-authenticate"), "Bearer");
  EXPECT_EQ(none.JsonBody()["status"], 401);
  TestResponse wrong = this->Call("GET", "/v1/api-keys", "", "sb_live_nope");
  EXPECT_EQ(wrong.status, 401);
  std::string tampered = this->admin_key_;
  tampered.back() = tampered.back() == 'a' ? 'b' : 'a';
  EXPECT_EQ(this->Call("GET", "/v1/api-keys", "", tampered).status, 401);
}

TYPED_TEST_P(ApiSuite, ApiKeysCreateListPaginateRevoke) {
  this->Boot();
  auto [tenant, key] = this->NewTenantWithKey(R"(["read","write"])");
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    TestResponse r =
        this->Call("POST", "/v1/api-keys",
                   R"({"name":"k)" + std::to_string(i) + R"(","scopes":["read"]})", key);
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(r.Header("cache-control"), "no-store");
    EXPECT_EQ(r.JsonBody()["tenant_id"], tenant);
    ids.push_back(r.JsonBody()["id"]);
  }
  // 5 keys in the tenant (the one from NewTenantWithKey plus 4); pages of 2.
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 5; ++page) {
    std::string target = "/v1/api-keys?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor);
    TestResponse r = this->Call("GET", target, "", key);
    ASSERT_EQ(r.status, 200) << r.body;
    Json body = r.JsonBody();
    for (const Json& k : body["data"]) {
      seen.push_back(k["id"]);
      EXPECT_FALSE(k.contains("key"));
      EXPECT_FALSE(k.contains("key_hash"));
    }
    if (body["next_cursor"].is_null()) break;
    cursor = body["next_cursor"];
  }
  EXPECT_EQ(seen.size(), 5u);
  TestResponse one = this->Call("GET", "/v1/api-keys/" + ids[0], "", key);
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(this->Call("DELETE", "/v1/api-keys/" + ids[0], "", key).status, 204);
  EXPECT_EQ(this->Call("DELETE", "/v1/api-keys/" + ids[0], "", key).status, 404);
  TestResponse after = this->Call("GET", "/v1/api-keys/" + ids[0], "", key);
  EXPECT_FALSE(after.JsonBody()["revoked_at"].is_null());
}

TYPED_TEST_P(ApiSuite, RevocationTakesEffectOnTheNextRequest) {
  this->Boot();
  auto [tenant, key] = this->NewTenantWithKey(R"(["read","write"])");
  TestResponse self = this->Call("GET", "/v1/api-keys", "", key);
  ASSERT_EQ(self.status, 200);
  std::string key_id = self.JsonBody()["data"][0]["id"];
  TestHttpClient client(this->port_);  // same keep-alive connection before and after
  EXPECT_EQ(client.Send("GET", "/v1/tenants/" + tenant, "", key).status, 200);
  EXPECT_EQ(client.Send("DELETE", "/v1/api-keys/" + key_id, "", key).status, 204);
  EXPECT_EQ(client.Send("GET", "/v1/tenants/" + tenant, "", key).status, 401);
}

TYPED_TEST_P(ApiSuite, CrossTenantAccessIsImpossible) {
  this->Boot();
  auto [a, key_a] = this->NewTenantWithKey(R"(["read","write"])");
  auto [b, key_b] = this->NewTenantWithKey(R"(["read","write"])");
  TestResponse b_keys = this->Call("GET", "/v1/api-keys", "", key_b);
  ASSERT_EQ(b_keys.status, 200);
  std::string b_key_id = b_keys.JsonBody()["data"][0]["id"];
  // Read another tenant: same 404 as a tenant that does not exist.
  TestResponse read = this->Call("GET", "/v1/tenants/" + b, "", key_a);
  EXPECT_EQ(read.status, 404);
  EXPECT_EQ(read.JsonBody()["detail"], "tenant not found");
  // List: only A's keys.
  TestResponse list = this->Call("GET", "/v1/api-keys?limit=200", "", key_a);
  ASSERT_EQ(list.status, 200);
  const Json listed = list.JsonBody();
  for (const Json& k : listed["data"]) EXPECT_EQ(k["tenant_id"], a);
  // Read, revoke (change) and delete B's key through A: not found, and B's key still works.
  EXPECT_EQ(this->Call("GET", "/v1/api-keys/" + b_key_id, "", key_a).status, 404);
  EXPECT_EQ(this->Call("DELETE", "/v1/api-keys/" + b_key_id, "", key_a).status, 404);
  EXPECT_EQ(this->Call("GET", "/v1/tenants/" + b, "", key_b).status, 200);
  // Create a key in B with A's (non-admin) key: refused.
  TestResponse plant =
      this->Call("POST", "/v1/api-keys",
                 R"({"name":"x","scopes":["read"],"tenant_id":")" + b + R"("})", key_a);
  EXPECT_EQ(plant.status, 403);
  // A cursor taken from B's listing does not reveal B's rows to A.
  TestResponse probe = this->Call("GET", "/v1/api-keys?cursor=" + b_key_id, "", key_a);
  ASSERT_EQ(probe.status, 200);
  const Json probed = probe.JsonBody();
  for (const Json& k : probed["data"]) EXPECT_EQ(k["tenant_id"], a);
}

TYPED_TEST_P(ApiSuite, ScopesCannotBeEscalated) {
  this->Boot();
  auto [tenant, reader] = this->NewTenantWithKey(R"(["read"])");
  EXPECT_EQ(this->Call("GET", "/v1/api-keys", "", reader).status, 200);
  EXPECT_EQ(this->Call("POST", "/v1/api-keys", R"({"name":"x","scopes":["read"]})", reader).status,
            403);
  auto [t2, writer] = this->NewTenantWithKey(R"(["read","write"])");
  EXPECT_EQ(this->Call("POST", "/v1/api-keys", R"({"name":"x","scopes":["admin"]})", writer).status,
            403);
  EXPECT_EQ(this->Call("POST", "/v1/api-keys", R"({"name":"x","scopes":["write"]})", writer).status,
            201);
}

TYPED_TEST_P(ApiSuite, BadInputGetsPreciseProblems) {
  this->Boot();
  auto expect_400 = [&](const std::string& body, const std::string& needle) {
    TestResponse r = this->Call("POST", "/v1/tenants", body, this->admin_key_);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    EXPECT_EQ(r.Header("content-type"), "application/problem+json");
    EXPECT_NE(r.JsonBody().value("detail", "").find(needle), std::string::npos) << r.body;
  };
  expect_400("{", "request body: malformed JSON at byte 2");
  expect_400("[1]", "must be a JSON object");
  expect_400("{}", "'name' is required");
  expect_400(R"({"name":5})", "'name' must be a string");
  expect_400(R"({"name":"x","extra":1})", "unknown field 'extra'");
  expect_400("{\"name\":\"\xff\"}", "not valid UTF-8");
  expect_400(R"({"name":")" + std::string(300, 'x') + R"("})", "1 to 200");
  TestHttpClient client(this->port_);
  TestResponse text = client.Send("POST", "/v1/tenants", "name=x", this->admin_key_,
                                  {{"Content-Type", "text/plain"}});
  EXPECT_EQ(text.status, 400);
  EXPECT_EQ(this->Call("GET", "/v1/api-keys?limit=0", "", this->admin_key_).status, 400);
  EXPECT_EQ(this->Call("GET", "/v1/api-keys?cursor=zzz", "", this->admin_key_).status, 400);
  EXPECT_EQ(this->Call("GET", "/v1/tenants/not-an-id", "", this->admin_key_).status, 404);
  EXPECT_EQ(this->Call("GET", "/v1/nothing-here", "", this->admin_key_).status, 404);
  TestResponse wrong_method = this->Call("PUT", "/v1/tenants", "", this->admin_key_);
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_FALSE(wrong_method.Header("allow").empty());
}

TYPED_TEST_P(ApiSuite, OversizeBodiesAndHeaderFloodsAreRefused) {
  this->config_.server.max_body_bytes = 4096;
  this->Boot();
  TestResponse big = this->Call(
      "POST", "/v1/tenants", R"({"name":")" + std::string(8192, 'x') + R"("})", this->admin_key_);
  EXPECT_EQ(big.status, 413);
  std::string flood = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 2000; ++i)
    flood += "X-Flood-" + std::to_string(i) + ": " + std::string(64, 'a') + "\r\n";
  flood += "\r\n";
  TestHttpClient client(this->port_);
  TestResponse r = client.SendRaw(flood);
  EXPECT_TRUE(r.status == 0 || (r.status >= 400 && r.status < 500)) << r.status;
  // The server is still healthy afterwards.
  EXPECT_EQ(this->Call("GET", "/healthz").status, 200);
}

TYPED_TEST_P(ApiSuite, RateLimitAnswers429WithRetryAfter) {
  this->config_.limits.requests_per_second = 0.5;
  this->config_.limits.burst = 3;
  this->Boot();
  auto [tenant, key] = this->NewTenantWithKey(R"(["read"])");
  int ok = 0;
  TestResponse last;
  for (int i = 0; i < 5; ++i) {
    last = this->Call("GET", "/v1/tenants/" + tenant, "", key);
    if (last.status == 200) ++ok;
  }
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(last.status, 429);
  EXPECT_FALSE(last.Header("retry-after").empty());
  EXPECT_GE(std::stoi(last.Header("retry-after")), 1);
}

// Issue 13 (security.md 7.3): the public routes are rate limited per client host before any
// database work: a burst from one address gets 429 (an HTML page with Retry-After) on every
// public route, while a second address is still served and API keys keep their own limit.
TYPED_TEST_P(ApiSuite, PublicRoutesAreRateLimitedPerClientAddress) {
  this->config_.public_limits.requests_per_second = 0.5;
  this->config_.public_limits.burst = 3;
  this->Boot();
  const std::string page = "/connect/" + this->admin_tenant_ + ".unknownsessionsecret0123456789";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(this->Call("GET", page).status, 404) << i;
  for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"GET", page}, {"POST", page + "/start"}, {"GET", "/connect/callback?state=x"}}) {
    TestResponse limited = this->Call(method, target);
    EXPECT_EQ(limited.status, 429) << method << " " << target;
    EXPECT_GE(
        std::stoi(limited.Header("retry-after").empty() ? "0" : limited.Header("retry-after")), 1);
    EXPECT_EQ(limited.Header("content-type"), "text/html; charset=utf-8");
    EXPECT_NE(limited.body.find("rate_limited"), std::string::npos);
  }
  // Another client host has its own bucket.
  EXPECT_EQ(this->CallFrom("127.0.0.2", "GET", page).status, 404);
  EXPECT_EQ(this->CallFrom("127.0.0.2", "GET", "/connect/callback?state=x").status, 400);
  // Authenticated routes are limited per key, not by this bucket.
  EXPECT_EQ(this->Call("GET", "/v1/tenants/" + this->admin_tenant_, "", this->admin_key_).status,
            200);
  // Time refills the bucket.
  this->clock_.Advance(std::chrono::seconds(2));
  EXPECT_EQ(this->Call("GET", page).status, 404);
}

// OA-06: a connect session's return_url must use one of the tenant's return_url_origins
// (PATCH /v1/tenants/{id}, normalised, audited); other origins, and every origin while the list
// is empty, get 422 naming the field.
TYPED_TEST_P(ApiSuite, ReturnUrlMustUseAnAllowedOrigin) {
  this->Boot();
  auto [tenant, key] = this->NewTenantWithKey(R"(["read","write"])");
  // `key` captured by an init-capture: clang < 16 cannot capture a structured binding.
  auto session = [&, &key = key](const std::string& url) {
    return this->Call("POST", "/v1/connect/sessions",
                      Json{{"end_user", {{"id", "u1"}}}, {"return_url", url}}.dump(), key);
  };
  TestResponse none = session("https://app.example/done");
  EXPECT_EQ(none.status, 422) << none.body;
  EXPECT_EQ(none.Header("content-type"), "application/problem+json");
  EXPECT_NE(none.body.find("return_url"), std::string::npos);
  EXPECT_NE(none.body.find("PATCH /v1/tenants/"), std::string::npos);
  EXPECT_EQ(this->Call("GET", "/v1/tenants/" + tenant, "", key).JsonBody()["return_url_origins"],
            Json::array());

  TestResponse patched = this->Call(
      "PATCH", "/v1/tenants/" + tenant,
      R"({"return_url_origins":["HTTPS://App.Example:443","http://localhost:3000/"]})", key);
  ASSERT_EQ(patched.status, 200) << patched.body;
  const Json expected = Json::array({"https://app.example", "http://localhost:3000"});
  EXPECT_EQ(patched.JsonBody()["return_url_origins"], expected);
  EXPECT_EQ(this->Call("GET", "/v1/tenants/" + tenant, "", key).JsonBody()["return_url_origins"],
            expected);
  EXPECT_EQ(session("https://app.example/done?x=1").status, 201);
  EXPECT_EQ(session("http://localhost:3000/cb").status, 201);
  for (const char* url :
       {"https://evil.example/done", "http://app.example/done", "https://app.example:8443/done",
        "https://app.example.evil.example/", "https://evil.example/?https://app.example"}) {
    TestResponse refused = session(url);
    EXPECT_EQ(refused.status, 422) << url;
    EXPECT_NE(refused.body.find("return_url"), std::string::npos) << refused.body;
  }
  // Only bare origins are accepted, by the tenant's own write key or an admin key.
  for (const char* bad : {R"({"return_url_origins":["https://app.example/path"]})",
                          R"({"return_url_origins":["javascript:void"]})",
                          R"({"return_url_origins":"https://app.example"})"}) {
    TestResponse r = this->Call("PATCH", "/v1/tenants/" + tenant, bad, key);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_NE(r.body.find("return_url_origins"), std::string::npos) << r.body;
  }
  auto [other, other_key] = this->NewTenantWithKey(R"(["read","write"])");
  EXPECT_EQ(this->Call("PATCH", "/v1/tenants/" + tenant, R"({"return_url_origins":[]})", other_key)
                .status,
            404);
  // Another tenant's admin is no operator: the same 404.
  auto [third, third_admin] = this->NewTenantWithKey(R"(["admin","read","write"])");
  EXPECT_EQ(
      this->Call("PATCH", "/v1/tenants/" + tenant, R"({"return_url_origins":[]})", third_admin)
          .status,
      404);
  auto [reader_tenant, reader] = this->NewTenantWithKey(R"(["read"])");
  EXPECT_EQ(
      this->Call("PATCH", "/v1/tenants/" + reader_tenant, R"({"return_url_origins":[]})", reader)
          .status,
      403);
  EXPECT_EQ(this->Call("PATCH", "/v1/tenants/" + tenant,
                       R"({"return_url_origins":["https://app.example"]})", this->admin_key_)
                .status,
            200);
  TestResponse audit = this->Call("GET", "/v1/audit?action=tenant.update", "", key);
  ASSERT_EQ(audit.status, 200);
  EXPECT_EQ(audit.JsonBody()["data"].size(), 2u);
}

TYPED_TEST_P(ApiSuite, OpenApiDocumentDescribesExactlyTheRoutes) {
  this->Boot();
  TestResponse doc = this->Call("GET", "/v1/openapi.json");
  ASSERT_EQ(doc.status, 200);
  Json openapi = doc.JsonBody();
  EXPECT_EQ(openapi["openapi"], "3.1.0");
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& [path, item] : openapi["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(c));
      documented.insert({upper, path});
    }
  }
  std::set<std::pair<std::string, std::string>> routed;
  for (const auto& route : this->app_->Routes()) routed.insert(route);
  EXPECT_EQ(documented, routed);
}

// AUD-01: API changes and failed authentications appear in GET /v1/audit, filtered and paged;
// another tenant's log is out of reach; the key itself appears only as its HMAC (AUD-02).
TYPED_TEST_P(ApiSuite, AuditLogRecordsChangesAndPagesWithFilters) {
  this->Boot();
  auto [tenant, key] = this->NewTenantWithKey(R"(["read","write"])");
  for (int i = 0; i < 3; ++i) {
    TestResponse k =
        this->Call("POST", "/v1/api-keys",
                   R"({"name":"k)" + std::to_string(i) + R"(","scopes":["read"]})", key);
    ASSERT_EQ(k.status, 201);
  }
  std::string wrong = key;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(this->Call("GET", "/v1/api-keys", "", wrong).status, 401);

  TestResponse all = this->Call("GET", "/v1/audit", "", key);
  ASSERT_EQ(all.status, 200) << all.body;
  Json entries = all.JsonBody()["data"];
  // tenant.create and the first key (by the admin), three keys, one failed authentication.
  ASSERT_EQ(entries.size(), 6u) << all.body;
  EXPECT_EQ(entries[0]["action"], "tenant.create");
  EXPECT_EQ(entries[0]["seq"], 1);
  EXPECT_EQ(entries[2]["action"], "api_key.create");
  EXPECT_EQ(entries[2]["actor"]["kind"], "api_key");
  EXPECT_EQ(entries[5]["action"], "auth.failure");
  EXPECT_EQ(entries[5]["outcome"], "denied");
  EXPECT_EQ(entries[5]["details"]["key"].get<std::string>().rfind("hmac-sha256:", 0), 0u);
  EXPECT_EQ(all.body.find(key.substr(41)), std::string::npos);  // never the key's secret part

  TestResponse page1 = this->Call("GET", "/v1/audit?action=api_key.create&limit=2", "", key);
  ASSERT_EQ(page1.status, 200);
  ASSERT_EQ(page1.JsonBody()["data"].size(), 2u);
  std::string cursor = page1.JsonBody()["next_cursor"];
  TestResponse page2 =
      this->Call("GET", "/v1/audit?action=api_key.create&limit=2&cursor=" + cursor, "", key);
  ASSERT_EQ(page2.status, 200);
  EXPECT_EQ(page2.JsonBody()["data"].size(), 2u);
  EXPECT_EQ(this->Call("GET", "/v1/audit?outcome=denied", "", key).JsonBody()["data"].size(), 1u);
  EXPECT_EQ(
      this->Call("GET", "/v1/audit?from=2999-01-01T00:00:00Z", "", key).JsonBody()["data"].size(),
      0u);
  // Newest first, the viewer's order: the same entries reversed, and the cursor goes on back.
  std::vector<int64_t> forward;
  const Json all_entries = all.JsonBody()["data"];
  for (const Json& e : all_entries) forward.push_back(e["seq"].get<int64_t>());
  std::vector<int64_t> backward;
  std::string back_cursor;
  for (int i = 0; i < 20; ++i) {
    TestResponse r = this->Call(
        "GET",
        "/v1/audit?order=desc&limit=2" + (back_cursor.empty() ? "" : "&cursor=" + back_cursor), "",
        key);
    ASSERT_EQ(r.status, 200) << r.body;
    const Json body = r.JsonBody();
    for (const Json& e : body["data"]) backward.push_back(e["seq"].get<int64_t>());
    if (body["next_cursor"].is_null()) break;
    back_cursor = body["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(backward, std::vector<int64_t>(forward.rbegin(), forward.rend()));
  EXPECT_EQ(this->Call("GET", "/v1/audit?order=sideways", "", key).status, 400);

  // Bad parameters are precise 400s.
  for (const char* bad :
       {"/v1/audit?from=yesterday", "/v1/audit?outcome=maybe", "/v1/audit?actor_kind=robot",
        "/v1/audit?cursor=abc", "/v1/audit?format=xml", "/v1/audit?limit=0"}) {
    TestResponse r = this->Call("GET", bad, "", key);
    EXPECT_EQ(r.status, 400) << bad << " " << r.body;
  }
  // Another tenant's log: refused for a normal key, readable for an admin key.
  TestResponse foreign = this->Call("GET", "/v1/audit?tenant_id=" + this->admin_tenant_, "", key);
  EXPECT_EQ(foreign.status, 403);
  TestResponse as_admin = this->Call("GET", "/v1/audit?tenant_id=" + tenant, "", this->admin_key_);
  ASSERT_EQ(as_admin.status, 200);
  EXPECT_EQ(as_admin.JsonBody()["data"].size(), 6u);
  // The chain verifies on request: the caller's own, or (operators) any tenant's.
  TestResponse verified = this->Call("GET", "/v1/audit/verification", "", key);
  ASSERT_EQ(verified.status, 200) << verified.body;
  EXPECT_EQ(verified.JsonBody()["ok"], true);
  EXPECT_EQ(verified.JsonBody()["entries"], 6);
  EXPECT_TRUE(verified.JsonBody()["findings"].empty());
  EXPECT_EQ(
      this->Call("GET", "/v1/audit/verification?tenant_id=" + this->admin_tenant_, "", key).status,
      403);
  EXPECT_EQ(this->Call("GET", "/v1/audit/verification?tenant_id=" + tenant, "", this->admin_key_)
                .JsonBody()["tenant_id"],
            tenant);
  // There is no way to change or delete entries.
  EXPECT_EQ(this->Call("DELETE", "/v1/audit", "", this->admin_key_).status, 405);
  EXPECT_EQ(this->Call("POST", "/v1/audit", "{}", this->admin_key_).status, 405);
}

// security.md 7.3: a client host that keeps presenting bad keys is slowed to 429 after a burst,
// which also bounds the audit entries its failures cost. The budget is checked before the key
// is looked up: once it is spent, even a valid key from that host gets 429 (the key is not
// even read), while other hosts are unaffected.
TYPED_TEST_P(ApiSuite, RepeatedAuthenticationFailuresAreThrottledAndAuditedBoundedly) {
  this->Boot();
  auto [tenant, key] = this->NewTenantWithKey(R"(["read"])");
  std::string wrong = key;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  int unauthorized = 0;
  int throttled = 0;
  for (int i = 0; i < 40; ++i) {
    TestResponse r = this->Call("GET", "/v1/api-keys", "", wrong);
    if (r.status == 401) ++unauthorized;
    if (r.status == 429) {
      ++throttled;
      EXPECT_FALSE(r.Header("retry-after").empty());
    }
  }
  EXPECT_EQ(unauthorized, 20);  // the burst (the clock is frozen: no refill)
  EXPECT_EQ(throttled, 20);
  EXPECT_EQ(this->Call("GET", "/v1/api-keys", "", key).status, 429);
  EXPECT_EQ(this->CallFrom("127.0.0.2", "GET", "/v1/api-keys", "", key).status, 200);
  TestResponse failures =
      this->CallFrom("127.0.0.2", "GET", "/v1/audit?action=auth.failure", "", key);
  ASSERT_EQ(failures.status, 200);
  EXPECT_EQ(failures.JsonBody()["data"].size(), 20u);
}

// The export streams every matching entry as CSV or JSON lines (chunked, page by page).
TYPED_TEST_P(ApiSuite, AuditExportStreamsCsvAndJsonLines) {
  this->Boot();
  auto [tenant, key] = this->NewTenantWithKey(R"(["read","write"])");
  const int kKeys = 1200;  // more than two export pages
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_TRUE(this->app_->api_keys()
                    .Create({audit::Actor{audit::ActorKind::kCli, "=HYPERLINK(\"x\")"}, ""},
                            TenantId(tenant), "k", {tenancy::Scope::kRead})
                    .ok());
  }
  TestResponse jsonl = this->Call("GET", "/v1/audit?format=jsonl", "", key);
  ASSERT_EQ(jsonl.status, 200);
  EXPECT_EQ(jsonl.Header("transfer-encoding"), "chunked");
  EXPECT_FALSE(jsonl.truncated);
  EXPECT_GE(jsonl.chunks, 4);  // several pages, then the final chunk
  std::istringstream lines(jsonl.body);
  int count = 0;
  int64_t last_seq = 0;
  for (std::string line; std::getline(lines, line);) {
    Json entry = Json::parse(line, nullptr, false);
    ASSERT_FALSE(entry.is_discarded()) << line;
    EXPECT_EQ(entry["seq"].get<int64_t>(), last_seq + 1);
    last_seq = entry["seq"];
    ++count;
  }
  EXPECT_EQ(count, kKeys + 2);

  TestResponse csv = this->Call("GET", "/v1/audit?format=csv&action=api_key.create", "", key);
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.Header("content-type").rfind("text/csv", 0), 0u);
  EXPECT_FALSE(csv.truncated);
  EXPECT_EQ(csv.body.rfind("seq,id,occurred_at,", 0), 0u);
  size_t rows = 0;
  for (size_t pos = 0; (pos = csv.body.find("\r\n", pos)) != std::string::npos; pos += 2) ++rows;
  EXPECT_EQ(rows, static_cast<size_t>(kKeys + 1 + 1));  // header + admin's key + kKeys
  // Spreadsheet formulas in values are neutralised (the actor id column starts with '=').
  EXPECT_EQ(csv.body.find(",=HYPERLINK"), std::string::npos);
  EXPECT_EQ(csv.body.find(",\"=HYPERLINK"), std::string::npos);
  EXPECT_NE(csv.body.find("'=HYPERLINK"), std::string::npos);
}

TYPED_TEST_P(ApiSuite, IntegrationsKeepTheClientSecretInside) {
  this->Boot();
  auto [tenant, key] = this->NewTenantWithKey(R"(["read","write"])");
  auto [other_tenant, other_key] = this->NewTenantWithKey(R"(["read","write"])");
  const std::string secret = "GOCSPX-api-suite-secret-91";
  TestResponse providers = this->Call("GET", "/v1/providers", "", key);
  ASSERT_EQ(providers.status, 200) << providers.body;
  EXPECT_GE(providers.JsonBody()["data"].size(), 22u);
  TestResponse created =
      this->Call("PUT", "/v1/integrations/google",
                 R"({"client_id":"123.apps.googleusercontent.com","client_secret":")" + secret +
                     R"(","services":[{"service":"calendar","access":"read_write"}]})",
                 key);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Header("etag"), "\"1\"");
  EXPECT_EQ(created.JsonBody()["client_secret_set"], true);
  EXPECT_EQ(created.body.find(secret), std::string::npos);
  TestResponse got = this->Call("GET", "/v1/integrations/google", "", key);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.JsonBody()["services"][0]["access"], "read_write");
  EXPECT_EQ(got.body.find(secret), std::string::npos);
  // Conditional replacement: the current ETag works once, a stale one gets 412.
  TestHttpClient client(this->port_);
  const std::string update = R"({"client_id":"123.apps.googleusercontent.com","enabled":false})";
  TestResponse updated =
      client.Send("PUT", "/v1/integrations/google", update, key, {{"If-Match", "\"1\""}});
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.JsonBody()["version"], 2);
  EXPECT_EQ(updated.JsonBody()["client_secret_set"], true);  // kept
  TestResponse stale =
      client.Send("PUT", "/v1/integrations/google", update, key, {{"If-Match", "\"1\""}});
  EXPECT_EQ(stale.status, 412) << stale.body;
  // Bad input: unknown provider, a service the provider lacks, no secret on create.
  EXPECT_EQ(
      this->Call("PUT", "/v1/integrations/nope", R"({"client_id":"x","client_secret":"y"})", key)
          .status,
      404);
  EXPECT_EQ(this->Call("PUT", "/v1/integrations/slack",
                       R"({"client_id":"x","client_secret":"y",)"
                       R"("services":[{"service":"calendar","access":"read"}]})",
                       key)
                .status,
            400);
  EXPECT_EQ(this->Call("PUT", "/v1/integrations/notion", R"({"client_id":"x"})", key).status, 400);
  // Another tenant sees nothing and cannot delete it; read-only keys cannot write.
  EXPECT_EQ(this->Call("GET", "/v1/integrations/google", "", other_key).status, 404);
  EXPECT_EQ(this->Call("DELETE", "/v1/integrations/google", "", other_key).status, 404);
  EXPECT_TRUE(this->Call("GET", "/v1/integrations", "", other_key).JsonBody()["data"].empty());
  auto [reader_tenant, reader] = this->NewTenantWithKey(R"(["read"])");
  EXPECT_EQ(this->Call("PUT", "/v1/integrations/google", update, reader).status, 403);
  // The audit log names the change and holds the secret only as its HMAC.
  TestResponse audit = this->Call("GET", "/v1/audit?action=integration.create", "", key);
  ASSERT_EQ(audit.status, 200);
  EXPECT_NE(audit.body.find("hmac-sha256:"), std::string::npos);
  EXPECT_EQ(audit.body.find(secret), std::string::npos);
  EXPECT_EQ(this->Call("DELETE", "/v1/integrations/google", "", key).status, 204);
  EXPECT_EQ(this->Call("GET", "/v1/integrations/google", "", key).status, 404);
}

// Webhook endpoints (WH-02, WH-03, WH-05): the signing secret is shown once, never again;
// rotation shows the new one and keeps the old one signing; internal targets are refused;
// If-Match; tenants are kept apart.
TYPED_TEST_P(ApiSuite, WebhookEndpointsShowTheirSecretOnce) {
  this->Boot();
  auto [tenant, key] = this->NewTenantWithKey(R"(["read","write"])");
  auto [other_tenant, other_key] = this->NewTenantWithKey(R"(["read","write"])");
  TestResponse created = this->Call(
      "POST", "/v1/webhook-endpoints",
      R"({"url":"https://hooks.example.com/sb","event_types":["connection.created"]})", key);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Header("cache-control"), "no-store");
  const std::string id = created.JsonBody()["id"];
  const std::string secret = created.JsonBody()["secret"];
  ASSERT_TRUE(secret.starts_with("whsec_"));
  // Health and concurrency (WH-04, WH-05): the configured default limit, nothing failing yet.
  EXPECT_EQ(created.JsonBody()["max_concurrency"], 4);
  EXPECT_TRUE(created.JsonBody()["failing_since"].is_null());
  EXPECT_TRUE(created.JsonBody()["last_success_at"].is_null());
  EXPECT_TRUE(created.JsonBody()["disabled_reason"].is_null());
  TestResponse got = this->Call("GET", "/v1/webhook-endpoints/" + id, "", key);
  ASSERT_EQ(got.status, 200);
  EXPECT_FALSE(got.JsonBody().contains("secret"));
  EXPECT_EQ(got.body.find(secret.substr(6)), std::string::npos);
  TestResponse list = this->Call("GET", "/v1/webhook-endpoints", "", key);
  EXPECT_EQ(list.JsonBody()["data"].size(), 1u);
  EXPECT_EQ(list.body.find(secret.substr(6)), std::string::npos);

  TestResponse rotated =
      this->Call("POST", "/v1/webhook-endpoints/" + id + "/rotate-secret", "", key);
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  EXPECT_NE(rotated.JsonBody()["secret"], secret);
  EXPECT_EQ(rotated.JsonBody()["secret_version"], 2);
  EXPECT_TRUE(rotated.JsonBody()["previous_secret_signs_until"].is_string());

  TestHttpClient client(this->port_);
  TestResponse patched = client.Send("PATCH", "/v1/webhook-endpoints/" + id, R"({"enabled":false})",
                                     key, {{"If-Match", "\"2\""}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.JsonBody()["enabled"], false);
  EXPECT_EQ(patched.JsonBody()["disabled_reason"], "manual");
  EXPECT_EQ(client
                .Send("PATCH", "/v1/webhook-endpoints/" + id, R"({"enabled":true})", key,
                      {{"If-Match", "\"2\""}})
                .status,
            412);
  TestResponse reenabled = this->Call("PATCH", "/v1/webhook-endpoints/" + id,
                                      R"({"enabled":true,"max_concurrency":9})", key);
  ASSERT_EQ(reenabled.status, 200) << reenabled.body;
  EXPECT_EQ(reenabled.JsonBody()["enabled"], true);
  EXPECT_TRUE(reenabled.JsonBody()["disabled_reason"].is_null());
  EXPECT_EQ(reenabled.JsonBody()["max_concurrency"], 9);
  for (const char* body :
       {R"({"max_concurrency":0})", R"({"max_concurrency":65})", R"({"max_concurrency":"4"})"}) {
    EXPECT_EQ(this->Call("PATCH", "/v1/webhook-endpoints/" + id, body, key).status, 400) << body;
  }
  for (const char* url : {"http://hooks.example.com/x", "https://127.0.0.1/x",
                          "https://169.254.169.254/latest/meta-data", "https://[::1]/x"}) {
    EXPECT_EQ(
        this->Call("POST", "/v1/webhook-endpoints", std::string(R"({"url":")") + url + R"("})", key)
            .status,
        400)
        << url;
  }
  EXPECT_EQ(this->Call("GET", "/v1/webhook-endpoints/" + id, "", other_key).status, 404);
  EXPECT_EQ(this->Call("DELETE", "/v1/webhook-endpoints/" + id, "", other_key).status, 404);
  EXPECT_EQ(this->Call("DELETE", "/v1/webhook-endpoints/" + id, "", key).status, 204);
  EXPECT_EQ(this->Call("GET", "/v1/webhook-endpoints/" + id, "", key).status, 404);
  // The audit trail has the secrets only as HMACs.
  TestResponse audit = this->Call("GET", "/v1/audit?limit=100", "", key);
  EXPECT_NE(audit.body.find("webhook_endpoint.rotate_secret"), std::string::npos);
  EXPECT_EQ(audit.body.find(secret.substr(6)), std::string::npos);
}

// Issue 13, "Scopes, roles and exposure": the deployment operator (the operator scope, only on
// keys of the system tenant) is separate from a tenant's own administrators. A tenant admin key
// manages its own tenant (keys, its kill switch, its usage, its audit log) and nothing else.
TYPED_TEST_P(ApiSuite, TenantAdminsManageOnlyTheirOwnTenant) {
  this->Boot();
  auto [a, admin_a] = this->NewTenantWithKey(R"(["admin","read","write"])");
  auto [b, key_b] = this->NewTenantWithKey(R"(["read"])");
  const std::string& op = this->admin_key_;
  auto call = [&](const std::string& method, const std::string& target, const std::string& body,
                  const std::string& key) { return this->Call(method, target, body, key).status; };
  // Creating tenants and keys elsewhere, and granting operator: operator only.
  EXPECT_EQ(call("POST", "/v1/tenants", R"({"name":"x"})", admin_a), 403);
  EXPECT_EQ(call("POST", "/v1/api-keys",
                 R"({"name":"x","scopes":["read"],"tenant_id":")" + b + R"("})", admin_a),
            403);
  EXPECT_EQ(call("POST", "/v1/api-keys", R"({"name":"x","scopes":["operator"]})", admin_a), 403);
  EXPECT_EQ(call("POST", "/v1/api-keys",
                 R"({"name":"x","scopes":["operator"],"tenant_id":")" + a + R"("})", op),
            400);  // the operator scope lives only in the system tenant
  // Reading another tenant (its record, audit log, usage): refused or not found.
  EXPECT_EQ(call("GET", "/v1/tenants/" + b, "", admin_a), 404);
  EXPECT_EQ(call("GET", "/v1/audit?tenant_id=" + b, "", admin_a), 403);
  EXPECT_EQ(call("GET", "/v1/admin/usage?tenant_id=" + b, "", admin_a), 403);
  // The global kill switch and another tenant's switch: operator only. (zoom: the PostgreSQL
  // suites share one database, and the connect suite counts google's switches.)
  EXPECT_EQ(call("PUT", "/v1/admin/providers/zoom", R"({"enabled":false})", admin_a), 403);
  EXPECT_EQ(call("PUT", "/v1/admin/providers/zoom",
                 R"({"enabled":false,"tenant_id":")" + b + R"("})", admin_a),
            403);
  // Its own tenant: usage (only its own rows), its kill switch, its keys.
  TestResponse usage = this->Call("GET", "/v1/admin/usage", "", admin_a);
  ASSERT_EQ(usage.status, 200) << usage.body;
  const Json rows = usage.JsonBody()["data"];
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["tenant_id"], a);
  EXPECT_EQ(call("PUT", "/v1/admin/providers/zoom",
                 R"({"enabled":false,"tenant_id":")" + a + R"("})", admin_a),
            200);
  TestResponse listing = this->Call("GET", "/v1/admin/providers", "", op);
  ASSERT_EQ(listing.status, 200);
  EXPECT_NE(listing.body.find(a), std::string::npos);
  EXPECT_EQ(this->Call("GET", "/v1/admin/providers", "", key_b).status, 403);
  EXPECT_EQ(call("PUT", "/v1/admin/providers/zoom",
                 R"({"enabled":true,"tenant_id":")" + a + R"("})", admin_a),
            200);
  EXPECT_EQ(call("POST", "/v1/api-keys", R"({"name":"x","scopes":["admin"]})", admin_a), 201);
  // The operator can do all of it.
  EXPECT_EQ(call("POST", "/v1/tenants", R"({"name":"y"})", op), 201);
  EXPECT_EQ(call("GET", "/v1/tenants/" + b, "", op), 200);
  EXPECT_EQ(call("GET", "/v1/audit?tenant_id=" + b, "", op), 200);
  EXPECT_EQ(call("GET", "/v1/admin/usage?tenant_id=" + b, "", op), 200);
  EXPECT_EQ(call("PUT", "/v1/admin/providers/zoom", R"({"enabled":false})", op), 200);
  EXPECT_EQ(call("PUT", "/v1/admin/providers/zoom", R"({"enabled":true})", op), 200);
}

// Issue 13, per-tenant quotas: webhook endpoints per tenant and per destination host (422) and
// connect sessions per minute (429 with Retry-After), each problem naming its quota; other
// tenants are not affected, and a deleted endpoint frees its slot.
TYPED_TEST_P(ApiSuite, PerTenantQuotasAnswer422Or429NamingTheQuota) {
  this->config_.quotas.webhook_endpoints = 3;
  this->config_.quotas.webhook_endpoints_per_host = 2;
  this->config_.quotas.connect_sessions_per_minute = 2;
  this->Boot();
  auto [tenant, key] = this->NewTenantWithKey(R"(["read","write"])");
  auto [other, other_key] = this->NewTenantWithKey(R"(["read","write"])");
  this->AllowReturnOrigin(tenant, key);
  this->AllowReturnOrigin(other, other_key);
  auto endpoint = [&](const std::string& url, const std::string& k) {
    return this->Call("POST", "/v1/webhook-endpoints", R"({"url":")" + url + R"("})", k);
  };
  ASSERT_EQ(endpoint("https://hooks.victim.example/a", key).status, 201);
  ASSERT_EQ(endpoint("https://HOOKS.victim.example/b", key).status, 201);
  TestResponse host = endpoint("https://hooks.victim.example:443/c", key);
  EXPECT_EQ(host.status, 422) << host.body;
  EXPECT_EQ(host.Header("content-type"), "application/problem+json");
  EXPECT_NE(host.body.find("quotas.webhook_endpoints_per_host"), std::string::npos) << host.body;
  const TestResponse third = endpoint("https://other.example/x", key);
  ASSERT_EQ(third.status, 201) << third.body;
  TestResponse count = endpoint("https://more.example/x", key);
  EXPECT_EQ(count.status, 422);
  EXPECT_NE(count.body.find("quotas.webhook_endpoints "), std::string::npos) << count.body;
  EXPECT_EQ(this->Call("GET", "/v1/webhook-endpoints", "", key).JsonBody()["data"].size(), 3u);
  EXPECT_EQ(endpoint("https://hooks.victim.example/a", other_key).status, 201);
  // Moving an endpoint onto the full host is refused too; deleting one frees a slot.
  const std::string third_id = third.JsonBody()["id"];
  EXPECT_EQ(this->Call("PATCH", "/v1/webhook-endpoints/" + third_id,
                       R"({"url":"https://hooks.victim.example/d"})", key)
                .status,
            422);
  ASSERT_EQ(this->Call("DELETE", "/v1/webhook-endpoints/" + third_id, "", key).status, 204);
  EXPECT_EQ(endpoint("https://more.example/x", key).status, 201);

  const std::string session = R"({"end_user":{"id":"u1"},"return_url":"https://app.example/back"})";
  ASSERT_EQ(this->Call("POST", "/v1/connect/sessions", session, key).status, 201);
  ASSERT_EQ(this->Call("POST", "/v1/connect/sessions", session, key).status, 201);
  TestResponse rate = this->Call("POST", "/v1/connect/sessions", session, key);
  EXPECT_EQ(rate.status, 429) << rate.body;
  EXPECT_EQ(rate.Header("retry-after"), "60");
  EXPECT_NE(rate.body.find("quotas.connect_sessions_per_minute"), std::string::npos) << rate.body;
  EXPECT_EQ(this->Call("POST", "/v1/connect/sessions", session, other_key).status, 201);
  // A minute later the tenant may create sessions again.
  this->clock_.Advance(std::chrono::seconds(61));
  EXPECT_EQ(this->Call("POST", "/v1/connect/sessions", session, key).status, 201);
}

// security.md IN-07: every JSON body is parsed within api::kApiJsonLimits, and a refusal is a
// 400 problem+json naming the limit. The deep `settings` body below stopped the whole server
// (a recursive copy of the parsed document overflowed the stack) before the limits.
TYPED_TEST_P(ApiSuite, JsonBodyLimitsAreEnforcedAndNamed) {
  this->Boot();
  auto [tenant, key] = this->NewTenantWithKey(R"(["read","write"])");
  // `key` captured by an init-capture: clang < 16 cannot capture a structured binding.
  auto expect_400 = [&, &key = key](const std::string& method, const std::string& target,
                                    const std::string& body, const std::string& needle) {
    TestResponse r = this->Call(method, target, body, key);
    EXPECT_EQ(r.status, 400) << method << " " << target << " -> " << r.body.substr(0, 200);
    EXPECT_EQ(r.Header("content-type"), "application/problem+json");
    EXPECT_NE(r.JsonBody().value("detail", "").find(needle), std::string::npos) << r.body;
  };
  auto nested_settings = [](int levels) {  // a body `levels` deep, settings one less
    std::string body = R"({"settings":)";
    for (int i = 1; i < levels; ++i) body += R"({"a":)";
    body += "1";
    for (int i = 0; i < levels; ++i) body += "}";
    return body;
  };
  const std::string connection = "/v1/connections/0b9f3c1e-8a51-4d0e-9b64-3f3c2d1a7e55";
  // 100,000 nested objects (500 KB, under server.max_body_bytes).
  expect_400("PATCH", connection, nested_settings(100'000), "JSON nesting deeper than 16 levels");
  EXPECT_EQ(this->Call("GET", "/healthz").status, 200);  // still serving
  // Depth: 16 levels parse, and the handler judges them (stored settings: at most 8 levels).
  expect_400("PATCH", connection, nested_settings(17), "JSON nesting deeper than 16 levels");
  expect_400("PATCH", connection, nested_settings(16), "at most 16 KiB and 8 levels");
  expect_400("PATCH", connection, nested_settings(10), "at most 16 KiB and 8 levels");
  EXPECT_EQ(this->Call("PATCH", connection, nested_settings(9), key).status, 404);
  // String length, values and keys.
  const auto name_of = [](size_t bytes) {
    return R"({"name":")" + std::string(bytes, 'x') + R"("})";
  };
  expect_400("POST", "/v1/api-keys", name_of(65'537), "JSON string longer than 65536 bytes");
  expect_400("POST", "/v1/api-keys", name_of(65'536), "'name' must be 1 to");
  expect_400("POST", "/v1/api-keys", R"({")" + std::string(65'537, 'k') + R"(":1})",
             "JSON string longer than 65536 bytes");
  // Members per object and items per array.
  const auto members = [](int n) {
    std::string body = "{";
    for (int i = 0; i < n; ++i) body += (i ? ",\"m" : "\"m") + std::to_string(i) + "\":0";
    return body + "}";
  };
  expect_400("POST", "/v1/api-keys", members(1001), "JSON object with more than 1000 members");
  expect_400("POST", "/v1/api-keys", members(1000), "unknown field");
  const auto scopes = [](int n) {
    std::string body = R"({"name":"k","scopes":[)";
    for (int i = 0; i < n; ++i) body += i ? ",\"read\"" : "\"read\"";
    return body + "]}";
  };
  expect_400("POST", "/v1/api-keys", scopes(1001), "JSON array with more than 1000 items");
  expect_400("POST", "/v1/api-keys", scopes(1000), "too many items");
  // Values in all: 11 arrays of 1,000 items.
  std::string thousand = "[0";
  for (int i = 1; i < 1000; ++i) thousand += ",0";
  thousand += "]";
  std::string many = R"({"name":"k","x":[)" + thousand;
  for (int i = 1; i < 11; ++i) many += "," + thousand;
  expect_400("POST", "/v1/api-keys", many + "]}", "JSON document with more than 10000 values");
  // Nothing of a refused body is echoed.
  TestResponse secret = this->Call("POST", "/v1/api-keys", R"({"secret-abc" 1})", key);
  EXPECT_EQ(secret.status, 400);
  EXPECT_EQ(secret.body.find("secret-abc"), std::string::npos) << secret.body;
}

REGISTER_TYPED_TEST_SUITE_P(
    ApiSuite, HealthReadinessAndMetrics, MetricsNeedTheTokenOnTheApiListener,
    MetricsListenerOfItsOwn, TenantLifecycleThroughTheApi,
    TheOperatorListsEveryTenantOthersOnlyTheirOwn, MissingOrWrongCredentialsAre401,
    ApiKeysCreateListPaginateRevoke, RevocationTakesEffectOnTheNextRequest,
    CrossTenantAccessIsImpossible, ScopesCannotBeEscalated, BadInputGetsPreciseProblems,
    OversizeBodiesAndHeaderFloodsAreRefused, RateLimitAnswers429WithRetryAfter,
    PublicRoutesAreRateLimitedPerClientAddress, ReturnUrlMustUseAnAllowedOrigin,
    OpenApiDocumentDescribesExactlyTheRoutes, AuditLogRecordsChangesAndPagesWithFilters,
    AuditExportStreamsCsvAndJsonLines,
    RepeatedAuthenticationFailuresAreThrottledAndAuditedBoundedly,
    IntegrationsKeepTheClientSecretInside, WebhookEndpointsShowTheirSecretOnce,
    TenantAdminsManageOnlyTheirOwnTenant, PerTenantQuotasAnswer422Or429NamingTheQuota,
    JsonBodyLimitsAreEnforcedAndNamed);

}  // namespace sb::app::testing
