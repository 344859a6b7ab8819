// The Google emulator over real HTTP: OAuth (PKCE, single-use codes, refresh-token rules,
// error bodies), Calendar paging, sync tokens, tombstones, ETags, recurring exceptions, push
// channels, and every fault switch (provider-protocols.md 12.1 and 12.2).
#include "sandbox/google/google.h"

#include <chrono>
#include <mutex>
#include <thread>

#include "sandbox/core/url.h"
#include "sandbox/crypto/jwt.h"
#include "sandbox/google/google_errors.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sb/base/encoding.h"
#include "sb/http/server.h"
#include "sb/net/curl_http_client.h"

namespace sandbox::google {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCalendarScope[] = "https://www.googleapis.com/auth/calendar";

class GoogleSandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = crypto::RsaSigningKey::Generate();
    ASSERT_TRUE(key.ok());
    key_.emplace(std::move(*key));
    OriginOptions options;
    options.name = "google";
    sb::Json settings = DefaultSettings();
    settings["auto_consent"] = true;
    origin_ = std::make_unique<Origin>(options, clock_, settings, FaultResponse);
    google_ = std::make_unique<GoogleSandbox>(*origin_, *key_, http_);
    google_->Register();
    ASSERT_TRUE(origin_->Start().ok());
    base_ = origin_->base_url();
    Account account;
    account.email = "alice@example.com";
    account.name = "Alice Example";
    alice_ = google_->CreateAccount(account);
    google_->identity().PutClient({"client-1", "secret-1", {"http://127.0.0.1/callback"}});
  }
  void TearDown() override { origin_->Stop(); }

  sb::net::HttpResponse Call(std::string method, std::string path, std::string body = "",
                             std::vector<std::pair<std::string, std::string>> headers = {}) {
    sb::net::HttpRequest request;
    request.method = std::move(method);
    request.url = base_ + path;
    request.body = std::move(body);
    request.headers = std::move(headers);
    if (!request.body.empty() && request.headers.empty()) {
      request.headers.emplace_back("Content-Type", "application/json");
    }
    auto response = http_.Send(request);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return response.ok() ? *response : sb::net::HttpResponse{};
  }
  sb::net::HttpResponse Form(std::string path,
                             std::vector<std::pair<std::string, std::string>> fields) {
    return Call("POST", std::move(path), sb::FormEncode(fields),
                {{"Content-Type", "application/x-www-form-urlencoded"}});
  }
  static sb::Json J(const sb::net::HttpResponse& response) {
    return sb::Json::parse(response.body, nullptr, false);
  }
  std::string Bearer() {
    if (token_.empty()) {
      token_ = google_->identity()
                   .IssueAccessToken("ya29.", alice_.id, "client-1", {kCalendarScope},
                                     NowMillis(clock_) + 3'600'000)
                   .token;
    }
    return "Bearer " + token_;
  }
  sb::net::HttpResponse Api(std::string method, std::string path, std::string body = "",
                            std::vector<std::pair<std::string, std::string>> extra = {}) {
    extra.emplace_back("Authorization", Bearer());
    if (!body.empty()) extra.emplace_back("Content-Type", "application/json");
    return Call(std::move(method), std::move(path), std::move(body), std::move(extra));
  }
  // Runs the authorization request and returns the redirect's query parameters.
  sb::http::HeaderList Authorize(std::vector<std::pair<std::string, std::string>> extra = {}) {
    std::vector<std::pair<std::string, std::string>> fields = {
        {"client_id", "client-1"}, {"redirect_uri", "http://127.0.0.1/callback"},
        {"response_type", "code"}, {"scope", std::string("openid email ") + kCalendarScope},
        {"state", "st-1"},         {"access_type", "offline"}};
    for (auto& field : extra) fields.push_back(field);
    const auto response = Call("GET", AppendQuery("/o/oauth2/v2/auth", fields));
    EXPECT_EQ(response.status, 302) << response.body;
    const std::string location(response.Header("Location").value_or(""));
    auto query = ParseForm(location.substr(location.find('?') + 1));
    return query.value_or(sb::http::HeaderList{});
  }
  std::string Events(std::string query = "") {
    return "/calendar/v3/calendars/primary/events" + query;
  }
  std::string Insert(sb::Json body) {
    const auto response = Api("POST", Events(), body.dump());
    EXPECT_EQ(response.status, 200) << response.body;
    return J(response).value("id", "");
  }
  sb::Json Timed(std::string summary, std::string start, std::string end) {
    return {{"summary", summary},
            {"start", {{"dateTime", start}, {"timeZone", "Europe/Zurich"}}},
            {"end", {{"dateTime", end}, {"timeZone", "Europe/Zurich"}}}};
  }

  sb::SystemClock clock_;
  sb::net::CurlHttpClient http_;
  std::optional<crypto::RsaSigningKey> key_;
  std::unique_ptr<Origin> origin_;
  std::unique_ptr<GoogleSandbox> google_;
  std::string base_;
  Account alice_;
  std::string token_;
};

TEST_F(GoogleSandboxTest, CodeExchangeWithPkceIssuesTokensAndAVerifiableIdToken) {
  const std::string verifier(64, 'v');
  const auto query = Authorize({{"code_challenge", PkceS256(verifier)},
                                {"code_challenge_method", "S256"},
                                {"nonce", "n-1"}});
  EXPECT_EQ(FieldOf(query, "state"), "st-1");
  const std::string code = FieldOf(query, "code").value_or("");
  ASSERT_FALSE(code.empty());
  const auto token = Form("/token", {{"grant_type", "authorization_code"},
                                     {"code", code},
                                     {"client_id", "client-1"},
                                     {"client_secret", "secret-1"},
                                     {"redirect_uri", "http://127.0.0.1/callback"},
                                     {"code_verifier", verifier}});
  ASSERT_EQ(token.status, 200) << token.body;
  const sb::Json body = J(token);
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 3599);
  EXPECT_TRUE(body.contains("refresh_token"));
  auto claims = crypto::VerifyJwtRs256(body["id_token"].get<std::string>(), key_->public_key_pem());
  ASSERT_TRUE(claims.ok());
  EXPECT_EQ((*claims)["iss"], "https://accounts.google.com");
  EXPECT_EQ((*claims)["aud"], "client-1");
  EXPECT_EQ((*claims)["sub"], alice_.id);
  EXPECT_EQ((*claims)["nonce"], "n-1");
  // Codes are single use (12.1).
  const auto again = Form("/token", {{"grant_type", "authorization_code"},
                                     {"code", code},
                                     {"client_id", "client-1"},
                                     {"client_secret", "secret-1"},
                                     {"redirect_uri", "http://127.0.0.1/callback"},
                                     {"code_verifier", verifier}});
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(J(again), sb::Json({{"error", "invalid_grant"}, {"error_description", "Bad Request"}}));
}

TEST_F(GoogleSandboxTest, TokenEndpointErrorBodies) {
  const auto pkce = Authorize(
      {{"code_challenge", PkceS256(std::string(50, 'a'))}, {"code_challenge_method", "S256"}});
  auto wrong = Form("/token", {{"grant_type", "authorization_code"},
                               {"code", *FieldOf(pkce, "code")},
                               {"client_id", "client-1"},
                               {"client_secret", "secret-1"},
                               {"redirect_uri", "http://127.0.0.1/callback"},
                               {"code_verifier", std::string(50, 'b')}});
  EXPECT_EQ(J(wrong)["error_description"], "Invalid code verifier.");
  auto bad_secret = Form("/token", {{"grant_type", "refresh_token"},
                                    {"refresh_token", "x"},
                                    {"client_id", "client-1"},
                                    {"client_secret", "nope"}});
  EXPECT_EQ(bad_secret.status, 401);
  EXPECT_EQ(J(bad_secret)["error"], "invalid_client");
  auto unknown = Form("/token", {{"grant_type", "refresh_token"}, {"client_id", "ghost"}});
  EXPECT_EQ(J(unknown)["error_description"], "The OAuth client was not found.");
  auto missing = Form("/token", {{"grant_type", "authorization_code"},
                                 {"client_id", "client-1"},
                                 {"client_secret", "secret-1"}});
  EXPECT_EQ(J(missing)["error_description"], "Missing required parameter: code");
  auto grant = Form(
      "/token", {{"grant_type", "foo"}, {"client_id", "client-1"}, {"client_secret", "secret-1"}});
  EXPECT_EQ(J(grant)["error"], "unsupported_grant_type");
  const auto query = Authorize();
  auto mismatch = Form("/token", {{"grant_type", "authorization_code"},
                                  {"code", *FieldOf(query, "code")},
                                  {"client_id", "client-1"},
                                  {"client_secret", "secret-1"},
                                  {"redirect_uri", "http://127.0.0.1/other"}});
  EXPECT_EQ(J(mismatch)["error"], "redirect_uri_mismatch");
  auto malformed = Form("/token", {{"grant_type", "authorization_code"},
                                   {"code", "garbage"},
                                   {"client_id", "client-1"},
                                   {"client_secret", "secret-1"},
                                   {"redirect_uri", "http://127.0.0.1/callback"}});
  EXPECT_EQ(J(malformed)["error_description"], "Malformed auth code.");
}

TEST_F(GoogleSandboxTest, NoRefreshTokenOnReconsentUnlessPromptConsent) {
  auto exchange = [&](const sb::http::HeaderList& query) {
    return J(Form("/token", {{"grant_type", "authorization_code"},
                             {"code", *FieldOf(query, "code")},
                             {"client_id", "client-1"},
                             {"client_secret", "secret-1"},
                             {"redirect_uri", "http://127.0.0.1/callback"}}));
  };
  EXPECT_TRUE(exchange(Authorize()).contains("refresh_token"));
  EXPECT_FALSE(exchange(Authorize()).contains("refresh_token"));
  EXPECT_TRUE(exchange(Authorize({{"prompt", "consent"}})).contains("refresh_token"));
  ASSERT_TRUE(origin_->settings().Merge({{"omit_refresh_on_reconsent", false}}).ok());
  EXPECT_TRUE(exchange(Authorize()).contains("refresh_token"));
}

TEST_F(GoogleSandboxTest, RefreshRotationRevocationAndGrantedSubset) {
  ASSERT_TRUE(
      origin_->settings().Merge({{"grant_scopes", "openid " + std::string(kCalendarScope)}}).ok());
  const auto query = Authorize();
  EXPECT_EQ(FieldOf(query, "scope"), "openid " + std::string(kCalendarScope));
  const sb::Json first = J(Form("/token", {{"grant_type", "authorization_code"},
                                           {"code", *FieldOf(query, "code")},
                                           {"client_id", "client-1"},
                                           {"client_secret", "secret-1"},
                                           {"redirect_uri", "http://127.0.0.1/callback"}}));
  EXPECT_EQ(first["scope"], "openid " + std::string(kCalendarScope));
  const std::string refresh = first["refresh_token"];
  auto refresh_with = [&](const std::string& token) {
    return Form("/token", {{"grant_type", "refresh_token"},
                           {"refresh_token", token},
                           {"client_id", "client-1"},
                           {"client_secret", "secret-1"}});
  };
  const auto plain = refresh_with(refresh);
  ASSERT_EQ(plain.status, 200);
  EXPECT_FALSE(J(plain).contains("refresh_token"));  // Google does not rotate by default
  ASSERT_TRUE(
      origin_->settings()
          .Merge({{"refresh_token_rotation", true}, {"invalidate_old_refresh_on_rotate", true}})
          .ok());
  const sb::Json rotated = J(refresh_with(refresh));
  ASSERT_TRUE(rotated.contains("refresh_token"));
  EXPECT_EQ(J(refresh_with(refresh))["error_description"], "Token has been expired or revoked.");
  const std::string newest = rotated["refresh_token"];
  ASSERT_EQ(Call("POST", "/_sandbox/actions/revoke-refresh-tokens",
                 sb::Json({{"account", alice_.email}}).dump())
                .status,
            200);
  const auto revoked = refresh_with(newest);
  EXPECT_EQ(revoked.status, 400);
  EXPECT_EQ(J(revoked), sb::Json({{"error", "invalid_grant"},
                                  {"error_description", "Token has been expired or revoked."}}));
}

TEST_F(GoogleSandboxTest, AuthorizeErrorsAndDenial) {
  const auto unknown = Call(
      "GET", "/o/oauth2/v2/auth?client_id=ghost&redirect_uri=x&response_type=code&scope=openid");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_THAT(unknown.body, HasSubstr("invalid_client"));
  const auto mismatch = Call(
      "GET",
      "/o/oauth2/v2/"
      "auth?client_id=client-1&redirect_uri=http%3A%2F%2Fevil%2F&response_type=code&scope=openid");
  EXPECT_EQ(mismatch.status, 400);
  EXPECT_THAT(mismatch.body, HasSubstr("redirect_uri_mismatch"));
  ASSERT_TRUE(origin_->settings().Merge({{"consent_decision", "deny"}}).ok());
  const auto denied = Authorize();
  EXPECT_EQ(FieldOf(denied, "error"), "access_denied");
  EXPECT_EQ(FieldOf(denied, "state"), "st-1");
  ASSERT_TRUE(origin_->settings().Merge({{"auto_consent", false}}).ok());
  const auto page =
      Call("GET", AppendQuery("/o/oauth2/v2/auth", {{"client_id", "client-1"},
                                                    {"redirect_uri", "http://127.0.0.1/callback"},
                                                    {"response_type", "code"},
                                                    {"scope", "openid"},
                                                    {"state", "<script>"}}));
  EXPECT_EQ(page.status, 200);
  EXPECT_THAT(page.body, HasSubstr("Allow"));
  EXPECT_THAT(page.body, Not(HasSubstr("<script>")));
}

TEST_F(GoogleSandboxTest, RevokeUserinfoTokeninfoAndCerts) {
  const auto info = J(Call("GET", "/tokeninfo?access_token=" + Bearer().substr(7)));
  EXPECT_EQ(info["sub"], alice_.id);
  EXPECT_EQ(info["email"], "alice@example.com");
  const auto user = J(Api("GET", "/v1/userinfo"));
  EXPECT_EQ(user["email"], "alice@example.com");
  const auto certs = J(Call("GET", "/oauth2/v1/certs"));
  EXPECT_THAT(certs[key_->kid()].get<std::string>(), HasSubstr("BEGIN CERTIFICATE"));
  const auto jwks = J(Call("GET", "/oauth2/v3/certs"));
  EXPECT_EQ(jwks["keys"][0]["kid"], key_->kid());
  const auto discovery = J(Call("GET", "/.well-known/openid-configuration"));
  EXPECT_EQ(discovery["token_endpoint"], base_ + "/token");
  EXPECT_EQ(Call("POST", "/revoke?token=" + Bearer().substr(7)).status, 200);
  const auto after = Api("GET", "/v1/userinfo");
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(J(after)["error"]["errors"][0]["reason"], "authError");
  const auto bad = Call("POST", "/revoke?token=unknown");
  EXPECT_EQ(J(bad)["error"], "invalid_token");
}

TEST_F(GoogleSandboxTest, PagingAndIncrementalSyncWithTombstones) {
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    ids.push_back(Insert(Timed("Event " + std::to_string(i),
                               "2026-05-0" + std::to_string(i + 1) + "T10:00:00",
                               "2026-05-0" + std::to_string(i + 1) + "T11:00:00")));
  }
  std::string page_token;
  std::string sync_token;
  size_t seen = 0;
  for (int pages = 0; pages < 10 && sync_token.empty(); ++pages) {
    const auto page = J(Api(
        "GET", Events("?maxResults=3" + (page_token.empty() ? "" : "&pageToken=" + page_token))));
    seen += page["items"].size();
    // nextSyncToken only on the last page, never together with nextPageToken.
    EXPECT_FALSE(page.contains("nextPageToken") && page.contains("nextSyncToken"));
    page_token = page.value("nextPageToken", "");
    sync_token = page.value("nextSyncToken", "");
  }
  EXPECT_EQ(seen, 7u);
  ASSERT_FALSE(sync_token.empty());
  ASSERT_EQ(Api("DELETE", Events("/" + ids[2])).status, 204);
  ASSERT_EQ(Api("PATCH", Events("/" + ids[3]), R"({"summary":"renamed"})").status, 200);
  const auto delta = J(Api("GET", Events("?syncToken=" + sync_token)));
  ASSERT_EQ(delta["items"].size(), 2u);
  EXPECT_EQ(delta["items"][0], sb::Json({{"kind", "calendar#event"},
                                         {"etag", delta["items"][0]["etag"]},
                                         {"id", ids[2]},
                                         {"status", "cancelled"}}));
  EXPECT_EQ(delta["items"][1]["summary"], "renamed");
  // Forbidden combination, then an expired token.
  const auto forbidden =
      Api("GET", Events("?syncToken=" + sync_token + "&timeMin=2026-01-01T00:00:00Z"));
  EXPECT_EQ(forbidden.status, 400);
  ASSERT_EQ(Call("POST", "/_sandbox/actions/expire-sync-tokens", "{}").status, 200);
  const auto gone = Api("GET", Events("?syncToken=" + delta["nextSyncToken"].get<std::string>()));
  EXPECT_EQ(gone.status, 410);
  EXPECT_EQ(J(gone)["error"]["errors"][0]["reason"], "fullSyncRequired");
  // Deleting again answers 410 deleted.
  EXPECT_EQ(J(Api("DELETE", Events("/" + ids[2])))["error"]["errors"][0]["reason"], "deleted");
}

TEST_F(GoogleSandboxTest, EmptyPagesAndSyncTokenTtlSwitches) {
  Insert(Timed("one", "2026-05-01T10:00:00", "2026-05-01T11:00:00"));
  ASSERT_TRUE(origin_->settings()
                  .Merge({{"calendar_empty_pages", true}, {"sync_token_ttl_seconds", 1}})
                  .ok());
  const auto first = J(Api("GET", Events()));
  EXPECT_TRUE(first["items"].empty());
  ASSERT_TRUE(first.contains("nextPageToken"));
  const auto second =
      J(Api("GET", Events("?pageToken=" + first["nextPageToken"].get<std::string>())));
  EXPECT_EQ(second["items"].size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(Api("GET", Events("?syncToken=" + second["nextSyncToken"].get<std::string>())).status,
            410);
}

TEST_F(GoogleSandboxTest, EtagsIfMatchAndIfNoneMatch) {
  const std::string id = Insert(Timed("etag", "2026-05-01T10:00:00", "2026-05-01T11:00:00"));
  const auto got = Api("GET", Events("/" + id));
  const std::string etag = J(got)["etag"];
  EXPECT_EQ(Api("GET", Events("/" + id), "", {{"If-None-Match", etag}}).status, 304);
  const auto patched = Api("PATCH", Events("/" + id), R"({"summary":"x"})", {{"If-Match", etag}});
  ASSERT_EQ(patched.status, 200);
  EXPECT_NE(J(patched)["etag"], etag);
  const auto stale = Api("PATCH", Events("/" + id), R"({"summary":"y"})", {{"If-Match", etag}});
  // PUT replaces the event: members absent from the body are gone, server fields stay.
  sb::Json replacement = Timed("replaced", "2026-05-01T12:00:00", "2026-05-01T13:00:00");
  const auto put = Api("PUT", Events("/" + id), replacement.dump());
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(J(put)["summary"], "replaced");
  EXPECT_EQ(J(put)["id"], id);
  EXPECT_EQ(J(put)["start"]["dateTime"], "2026-05-01T12:00:00+02:00");
  EXPECT_EQ(J(put)["sequence"], 1);  // the time changed
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(J(stale)["error"]["errors"][0]["reason"], "conditionNotMet");
  const auto duplicate = Api(
      "POST", Events(),
      sb::Json({{"id", id}, {"start", {{"date", "2026-05-01"}}}, {"end", {{"date", "2026-05-02"}}}})
          .dump());
  EXPECT_EQ(duplicate.status, 409);
  const auto bad_id =
      Api("POST", Events(),
          R"({"id":"UPPER","start":{"date":"2026-05-01"},"end":{"date":"2026-05-02"}})");
  EXPECT_EQ(bad_id.status, 400);
}

TEST_F(GoogleSandboxTest, RecurringSeriesInstancesExceptionsAndCancelledOccurrences) {
  sb::Json series = Timed("weekly", "2026-01-05T10:00:00", "2026-01-05T10:30:00");
  series["recurrence"] = {"RRULE:FREQ=WEEKLY;COUNT=5"};
  const std::string id = Insert(series);
  const auto instances = J(Api("GET", Events("/" + id + "/instances")));
  ASSERT_EQ(instances["items"].size(), 5u);
  EXPECT_EQ(instances["items"][0]["start"]["dateTime"], "2026-01-05T10:00:00+01:00");
  const auto fourth = J(Api("GET", Events("/" + instances["items"][3]["id"].get<std::string>())));
  EXPECT_EQ(fourth["recurringEventId"], id);
  EXPECT_EQ(fourth["start"]["dateTime"], "2026-01-26T10:00:00+01:00");
  sb::Json all_day = {{"summary", "daily"},
                      {"start", {{"date", "2026-02-01"}}},
                      {"end", {{"date", "2026-02-02"}}},
                      {"recurrence", {"RRULE:FREQ=DAILY;COUNT=3"}}};
  const std::string daily = Insert(all_day);
  EXPECT_EQ(J(Api("GET", Events("/" + daily + "_20260202")))["start"]["date"], "2026-02-02");
  EXPECT_EQ(Api("GET", Events("/" + daily + "_20260210")).status, 404);
  const std::string second = instances["items"][1]["id"];
  const std::string third = instances["items"][2]["id"];
  const auto sync = J(Api("GET", Events()))["nextSyncToken"].get<std::string>();
  ASSERT_EQ(Api("PATCH", Events("/" + second), R"({"summary":"moved"})").status, 200);
  ASSERT_EQ(Api("DELETE", Events("/" + third)).status, 204);
  const auto delta = J(Api("GET", Events("?syncToken=" + sync)));
  ASSERT_EQ(delta["items"].size(), 2u);
  EXPECT_EQ(delta["items"][0]["recurringEventId"], id);
  EXPECT_EQ(delta["items"][1]["status"], "cancelled");
  EXPECT_TRUE(delta["items"][1].contains("originalStartTime"));
  const auto expanded = J(Api("GET", Events("?singleEvents=true&orderBy=startTime")));
  EXPECT_EQ(expanded["items"].size(), 7u);  // 4 weekly (one cancelled) + 3 daily
  EXPECT_EQ(Api("GET", Events("?orderBy=startTime")).status, 400);
  // Missing time zone on a recurring event is refused.
  sb::Json no_zone = {{"start", {{"dateTime", "2026-01-05T10:00:00Z"}}},
                      {"end", {{"dateTime", "2026-01-05T11:00:00Z"}}},
                      {"recurrence", {"RRULE:FREQ=DAILY"}}};
  EXPECT_EQ(Api("POST", Events(), no_zone.dump()).status, 400);
}

TEST_F(GoogleSandboxTest, FaultRulesAnswerWithGoogleBodies) {
  auto add = [&](sb::Json rule) {
    ASSERT_EQ(Call("POST", "/_sandbox/faults", rule.dump()).status, 201);
  };
  add({{"path", "/calendar/v3/"}, {"kind", "rate_limit"}, {"status", 403}});
  const auto limited = Api("GET", Events());
  EXPECT_EQ(limited.status, 403);
  EXPECT_EQ(J(limited)["error"]["errors"][0]["reason"], "rateLimitExceeded");
  EXPECT_EQ(Api("GET", Events()).status, 200);  // count 1 by default
  add({{"path", "/calendar/v3/"}, {"kind", "rate_limit"}, {"status", 429}, {"retry_after", 2}});
  const auto too_many = Api("GET", Events());
  EXPECT_EQ(too_many.status, 429);
  EXPECT_EQ(too_many.Header("Retry-After"), "2");
  EXPECT_EQ(J(too_many)["error"]["status"], "RESOURCE_EXHAUSTED");
  add({{"path", "/calendar/v3/"}, {"status", 503}, {"count", 2}});
  EXPECT_EQ(Api("GET", Events()).status, 503);
  EXPECT_EQ(Api("GET", Events()).status, 503);
  EXPECT_EQ(Api("GET", Events()).status, 200);
  add({{"path", "/calendar/v3/"}, {"kind", "unauthorized"}});
  EXPECT_EQ(J(Api("GET", Events()))["error"]["errors"][0]["reason"], "authError");
  add({{"path", "/token"}, {"status", 500}, {"method", "POST"}});
  EXPECT_EQ(Form("/token", {}).status, 500);
  add({{"path", "/calendar/v3/"}, {"kind", "latency"}, {"latency_ms", 300}});
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Api("GET", Events()).status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(290));
  EXPECT_EQ(Call("POST", "/_sandbox/faults", R"({"path":"/x","kind":"nope"})").status, 400);
  EXPECT_EQ(Call("PUT", "/_sandbox/settings", R"({"no_such_switch":true})").status, 400);
  // The request log redacts credentials.
  const auto log = Call("GET", "/_sandbox/requests?path=/calendar/v3/");
  EXPECT_THAT(log.body, HasSubstr("[redacted]"));
  EXPECT_THAT(log.body, Not(HasSubstr(token_)));
}

TEST_F(GoogleSandboxTest, EarlyAccessTokenExpiry) {
  EXPECT_EQ(Api("GET", Events()).status, 200);
  ASSERT_EQ(Call("POST", "/_sandbox/actions/expire-access-tokens", "{}").status, 200);
  EXPECT_EQ(Api("GET", Events()).status, 401);
}

// A receiver for push notifications.
class Receiver {
 public:
  Receiver() {
    EXPECT_TRUE(router_
                    .Add("POST", "/hook",
                         [this](sb::http::Request& request) {
                           std::lock_guard<std::mutex> lock(mu_);
                           states_.push_back(
                               std::string(request.Header("X-Goog-Resource-State").value_or("")));
                           tokens_.push_back(
                               std::string(request.Header("X-Goog-Channel-Token").value_or("")));
                           return sb::http::Response::Empty(200);
                         })
                    .ok());
    sb::http::ServerOptions options;
    options.access_log = false;
    server_ = std::make_unique<sb::http::Server>(options, router_, metrics_, clock_);
    EXPECT_TRUE(server_->Start().ok());
  }
  ~Receiver() { server_->Stop(std::chrono::milliseconds(200)); }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/hook";
  }
  std::vector<std::string> WaitFor(size_t count) {
    for (int i = 0; i < 100; ++i) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (states_.size() >= count) return states_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
    std::lock_guard<std::mutex> lock(mu_);
    return states_;
  }
  std::vector<std::string> tokens() {
    std::lock_guard<std::mutex> lock(mu_);
    return tokens_;
  }

 private:
  sb::http::Router router_;
  sb::metrics::MetricsRegistry metrics_;
  sb::SystemClock clock_;
  std::unique_ptr<sb::http::Server> server_;
  std::mutex mu_;
  std::vector<std::string> states_;
  std::vector<std::string> tokens_;
};

TEST_F(GoogleSandboxTest, WatchSendsSyncThenExistsAndStopEndsIt) {
  Receiver receiver;
  const auto watch = Api(
      "POST", Events("/watch"),
      sb::Json(
          {{"id", "chan-1"}, {"type", "web_hook"}, {"address", receiver.url()}, {"token", "tok"}})
          .dump());
  ASSERT_EQ(watch.status, 200) << watch.body;
  const sb::Json channel = J(watch);
  EXPECT_EQ(channel["kind"], "api#channel");
  EXPECT_TRUE(channel["expiration"].is_string());
  EXPECT_EQ(receiver.WaitFor(1), std::vector<std::string>({"sync"}));
  Insert(Timed("push", "2026-05-01T10:00:00", "2026-05-01T11:00:00"));
  EXPECT_EQ(receiver.WaitFor(2), std::vector<std::string>({"sync", "exists"}));
  EXPECT_EQ(receiver.tokens()[1], "tok");
  const auto stop = Api("POST", "/calendar/v3/channels/stop",
                        sb::Json({{"id", "chan-1"}, {"resourceId", channel["resourceId"]}}).dump());
  EXPECT_EQ(stop.status, 204);
  EXPECT_EQ(Api("POST", "/calendar/v3/channels/stop",
                sb::Json({{"id", "chan-1"}, {"resourceId", channel["resourceId"]}}).dump())
                .status,
            404);
  // Dropped notifications: with drop rate 1 nothing more arrives.
  ASSERT_TRUE(origin_->settings().Merge({{"push_drop_rate", 1.0}}).ok());
  ASSERT_EQ(
      Api("POST", Events("/watch"),
          sb::Json({{"id", "chan-2"}, {"type", "web_hook"}, {"address", receiver.url()}}).dump())
          .status,
      200);
  EXPECT_EQ(receiver.WaitFor(3).size(), 3u);  // the sync message is never dropped
  Insert(Timed("dropped", "2026-05-02T10:00:00", "2026-05-02T11:00:00"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(receiver.WaitFor(4).size(), 3u);
}

TEST_F(GoogleSandboxTest, PushDuplicateSendAfterStopAndChannelExpirySwitches) {
  Receiver receiver;
  ASSERT_TRUE(origin_->settings()
                  .Merge({{"push_duplicate", true},
                          {"push_send_after_stop", true},
                          {"channel_default_ttl_seconds", 60},
                          {"channel_max_ttl_seconds", 120}})
                  .ok());
  const int64_t before = NowMillis(clock_);
  const auto watch = Api("POST", Events("/watch"),
                         sb::Json({{"id", "chan-d"},
                                   {"type", "web_hook"},
                                   {"address", receiver.url()},
                                   {"expiration", std::to_string(before + 3'600'000)}})
                             .dump());
  ASSERT_EQ(watch.status, 200);
  const sb::Json channel = J(watch);
  // Requested one hour, capped at the 120 s maximum.
  const int64_t expiration = std::stoll(channel["expiration"].get<std::string>());
  EXPECT_LE(expiration, NowMillis(clock_) + 120'000);
  EXPECT_GE(expiration, before + 119'000);
  EXPECT_EQ(receiver.WaitFor(2), std::vector<std::string>({"sync", "sync"}));  // duplicated
  ASSERT_EQ(Api("POST", "/calendar/v3/channels/stop",
                sb::Json({{"id", "chan-d"}, {"resourceId", channel["resourceId"]}}).dump())
                .status,
            204);
  // One more (duplicated) notification after the stop, as Google sometimes sends.
  EXPECT_EQ(receiver.WaitFor(4).size(), 4u);
}

TEST_F(GoogleSandboxTest, ExpiredCodesAndPurgedTombstones) {
  ASSERT_TRUE(origin_->settings().Merge({{"code_ttl_seconds", 0}}).ok());
  const auto query = Authorize();
  const auto expired = Form("/token", {{"grant_type", "authorization_code"},
                                       {"code", *FieldOf(query, "code")},
                                       {"client_id", "client-1"},
                                       {"client_secret", "secret-1"},
                                       {"redirect_uri", "http://127.0.0.1/callback"}});
  EXPECT_EQ(J(expired),
            sb::Json({{"error", "invalid_grant"}, {"error_description", "Bad Request"}}));
  const std::string id = Insert(Timed("gone", "2026-05-01T10:00:00", "2026-05-01T11:00:00"));
  const std::string sync = J(Api("GET", Events()))["nextSyncToken"];
  ASSERT_EQ(Api("DELETE", Events("/" + id)).status, 204);
  EXPECT_EQ(J(Api("GET", Events("?showDeleted=true")))["items"].size(), 1u);
  ASSERT_EQ(Call("POST", "/_sandbox/actions/purge-tombstones", "{}").status, 200);
  // Google forgot the deletion: it is gone from showDeleted, and older sync tokens need a full
  // sync, since they could no longer learn about it.
  EXPECT_TRUE(J(Api("GET", Events("?showDeleted=true")))["items"].empty());
  EXPECT_EQ(Api("GET", Events("?syncToken=" + sync)).status, 410);
}

TEST_F(GoogleSandboxTest, SeedMakesRealisticVarietyAndHundredThousandEventsWork) {
  const auto seeded =
      Call("POST", "/_sandbox/accounts/" + alice_.id + "/seed", R"({"events": 300, "seed": 3})");
  ASSERT_EQ(seeded.status, 201) << seeded.body;
  const sb::Json counts = J(seeded);
  EXPECT_EQ(counts["created"], 300);
  EXPECT_GT(counts.value("recurring", 0), 0);
  EXPECT_GT(counts.value("all_day", 0), 0);
  EXPECT_GT(counts.value("exceptions", 0), 0);
  EXPECT_GT(counts.value("cancelled_occurrences", 0), 0);
  const auto page = Api("GET", Events("?maxResults=2500"));
  EXPECT_THAT(page.body, HasSubstr("Zürich"));
  EXPECT_THAT(page.body, HasSubstr("RRULE"));
}

// freeBusy over the week of 2026-03-02 (Zurich is UTC+1 then).
sb::Json FreeBusyBody(std::vector<std::string> ids, std::string zone = "") {
  sb::Json body = {{"timeMin", "2026-03-02T00:00:00Z"},
                   {"timeMax", "2026-03-09T00:00:00Z"},
                   {"items", sb::Json::array()}};
  for (const std::string& id : ids) body["items"].push_back({{"id", id}});
  if (!zone.empty()) body["timeZone"] = zone;
  return body;
}

sb::Json Span(std::string start, std::string end) { return {{"start", start}, {"end", end}}; }

TEST_F(GoogleSandboxTest, FreeBusyExpandsSeriesClipsAndMergesBusyTime) {
  Insert(Timed("straddles timeMin", "2026-03-01T23:00:00", "2026-03-02T02:00:00"));
  Insert(Timed("a", "2026-03-02T09:00:00", "2026-03-02T10:00:00"));
  Insert(Timed("overlaps a", "2026-03-02T09:30:00", "2026-03-02T11:00:00"));
  sb::Json transparent = Timed("free", "2026-03-03T09:00:00", "2026-03-03T10:00:00");
  transparent["transparency"] = "transparent";
  Insert(transparent);
  const std::string deleted =
      Insert(Timed("deleted", "2026-03-03T12:00:00", "2026-03-03T13:00:00"));
  ASSERT_EQ(Api("DELETE", Events("/" + deleted)).status, 204);
  sb::Json declined = Timed("declined", "2026-03-03T15:00:00", "2026-03-03T16:00:00");
  declined["attendees"] = {
      {{"email", "alice@example.com"}, {"self", true}, {"responseStatus", "declined"}}};
  Insert(declined);
  sb::Json series = Timed("daily", "2026-03-04T14:00:00", "2026-03-04T14:30:00");
  series["recurrence"] = {"RRULE:FREQ=DAILY;COUNT=4"};
  const std::string daily = Insert(series);
  // The 5th moves to 16:00, the 6th is cancelled.
  ASSERT_EQ(Api("PATCH", Events("/" + daily + "_20260305T130000Z"),
                R"({"start":{"dateTime":"2026-03-05T16:00:00+01:00"},)"
                R"("end":{"dateTime":"2026-03-05T16:30:00+01:00"}})")
                .status,
            200);
  ASSERT_EQ(Api("DELETE", Events("/" + daily + "_20260306T130000Z")).status, 204);
  Insert({{"summary", "all day"},
          {"start", {{"date", "2026-03-08"}}},
          {"end", {{"date", "2026-03-09"}}}});
  Insert(Timed("straddles timeMax", "2026-03-09T00:30:00", "2026-03-09T01:30:00"));
  Insert(Timed("outside", "2026-03-10T09:00:00", "2026-03-10T10:00:00"));

  const auto response =
      Api("POST", "/calendar/v3/freeBusy",
          FreeBusyBody({"primary", "alice@example.com", "nobody@example.com"}).dump());
  ASSERT_EQ(response.status, 200) << response.body;
  const sb::Json body = J(response);
  EXPECT_EQ(body["kind"], "calendar#freeBusy");
  EXPECT_EQ(body["timeMin"], "2026-03-02T00:00:00.000Z");
  EXPECT_EQ(body["timeMax"], "2026-03-09T00:00:00.000Z");
  const sb::Json expected = {
      Span("2026-03-02T00:00:00Z", "2026-03-02T01:00:00Z"),
      Span("2026-03-02T08:00:00Z", "2026-03-02T10:00:00Z"),
      Span("2026-03-04T13:00:00Z", "2026-03-04T13:30:00Z"),
      Span("2026-03-05T15:00:00Z", "2026-03-05T15:30:00Z"),
      Span("2026-03-07T13:00:00Z", "2026-03-07T13:30:00Z"),
      Span("2026-03-07T23:00:00Z", "2026-03-08T23:00:00Z"),  // the all-day in Zurich
      Span("2026-03-08T23:30:00Z", "2026-03-09T00:00:00Z")};
  EXPECT_EQ(body["calendars"]["primary"]["busy"], expected) << body.dump(1);
  EXPECT_EQ(body["calendars"]["alice@example.com"]["busy"], expected);
  EXPECT_EQ(body["calendars"]["nobody@example.com"],
            sb::Json({{"errors", {{{"domain", "global"}, {"reason", "notFound"}}}},
                      {"busy", sb::Json::array()}}));

  // timeZone renders the spans in that zone; no items, no calendars.
  const sb::Json zoned =
      J(Api("POST", "/calendar/v3/freeBusy", FreeBusyBody({"primary"}, "Europe/Zurich").dump()));
  EXPECT_EQ(zoned["calendars"]["primary"]["busy"][1],
            Span("2026-03-02T09:00:00+01:00", "2026-03-02T11:00:00+01:00"));
  const sb::Json none = J(Api("POST", "/calendar/v3/freeBusy", FreeBusyBody({}).dump()));
  EXPECT_EQ(none["calendars"], sb::Json::object());
}

TEST_F(GoogleSandboxTest, FreeBusyRefusesBadQueries) {
  auto reason = [&](const std::string& body) {
    const auto response = Api("POST", "/calendar/v3/freeBusy", body);
    EXPECT_EQ(response.status, 400) << body << " -> " << response.body;
    const sb::Json json = J(response);
    return json.is_object() && json.contains("error")
               ? json["error"]["errors"][0].value("reason", "")
               : std::string("no error body");
  };
  auto with = [](const char* key, sb::Json value) {
    sb::Json body = FreeBusyBody({"primary"});
    body[key] = std::move(value);
    return body.dump();
  };
  EXPECT_EQ(reason("{}"), "required");
  EXPECT_EQ(reason(R"({"timeMin":"2026-03-02T00:00:00Z"})"), "required");
  EXPECT_EQ(reason("not json"), "parseError");
  EXPECT_EQ(reason("[1,2]"), "parseError");
  EXPECT_EQ(reason(with("timeMin", 5)), "invalid");
  EXPECT_EQ(reason(with("timeMax", "tomorrow")), "invalid");
  EXPECT_EQ(reason(with("timeMax", "2026-03-02T00:00:00Z")), "timeRangeEmpty");
  EXPECT_EQ(reason(with("timeMax", "2026-03-01T00:00:00Z")), "timeRangeEmpty");
  EXPECT_EQ(reason(with("timeZone", "Mars/Olympus")), "timeZoneInvalid");
  EXPECT_EQ(reason(with("timeZone", sb::Json::array())), "timeZoneInvalid");
  EXPECT_EQ(reason(with("items", "primary")), "invalid");
  EXPECT_EQ(reason(with("items", {nullptr})), "invalid");
  EXPECT_EQ(reason(with("items", {{{"id", 7}}})), "required");
  EXPECT_EQ(reason(with("calendarExpansionMax", 51)), "invalid");
  EXPECT_EQ(reason(with("calendarExpansionMax", "5")), "invalid");
  EXPECT_EQ(reason(with("groupExpansionMax", 101)), "invalid");
  sb::Json two = FreeBusyBody({"primary", "x@example.com"});
  two["calendarExpansionMax"] = 1;
  EXPECT_EQ(reason(two.dump()), "tooManyCalendarsRequested");
  std::vector<std::string> many(51, "primary");
  EXPECT_EQ(reason(FreeBusyBody(many).dump()), "tooManyCalendarsRequested");
  many.resize(50);
  EXPECT_EQ(Api("POST", "/calendar/v3/freeBusy", FreeBusyBody(many).dump()).status, 200);

  // The same auth as the other calendar routes, and the fault rules apply.
  EXPECT_EQ(Call("POST", "/calendar/v3/freeBusy", FreeBusyBody({"primary"}).dump()).status, 401);
  const std::string profile_only =
      google_->identity()
          .IssueAccessToken("ya29.", alice_.id, "client-1", {"openid"}, NowMillis(clock_) + 60'000)
          .token;
  EXPECT_EQ(
      Call("POST", "/calendar/v3/freeBusy", FreeBusyBody({"primary"}).dump(),
           {{"Authorization", "Bearer " + profile_only}, {"Content-Type", "application/json"}})
          .status,
      403);
  ASSERT_EQ(Call("POST", "/_sandbox/faults",
                 R"({"path":"/calendar/v3/freeBusy","status":503,"method":"POST"})")
                .status,
            201);
  EXPECT_EQ(Api("POST", "/calendar/v3/freeBusy", FreeBusyBody({"primary"}).dump()).status, 503);
  EXPECT_EQ(Api("POST", "/calendar/v3/freeBusy", FreeBusyBody({"primary"}).dump()).status, 200);
}

}  // namespace
}  // namespace sandbox::google
