#include "sandbox/microsoft/microsoft.h"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sandbox/core/url.h"
#include "sandbox/crypto/certificate_authority.h"
#include "sandbox/crypto/jwt.h"
#include <gtest/gtest.h>

#include "sb/base/clock.h"
#include "sb/base/encoding.h"
#include "sb/base/metrics.h"
#include "sb/http/server.h"
#include "sb/net/curl_http_client.h"

namespace sandbox::microsoft {
namespace {

using sb::Json;
using sb::net::HttpResponse;

// A webhook receiver like Switchboard's: echoes validation tokens (unless told not to) and
// records every notification body.
class Receiver {
 public:
  Receiver() {
    Add("/notify", true);
    Add("/lifecycle", true);
    Add("/bad", false);
    sb::http::ServerOptions options;
    options.access_log = false;
    server_ = std::make_unique<sb::http::Server>(options, router_, metrics_, clock_);
    EXPECT_TRUE(server_->Start().ok());
  }
  ~Receiver() { server_->Stop(std::chrono::milliseconds(100)); }

  std::string Url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + std::string(path);
  }
  // Waits until at least `count` notifications reached `path`.
  std::vector<Json> WaitFor(const std::string& path, size_t count) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return received_[path].size() >= count; });
    return received_[path];
  }
  int validations() {
    std::lock_guard<std::mutex> lock(mu_);
    return validations_;
  }

 private:
  void Add(const std::string& path, bool echo) {
    ASSERT_TRUE(router_
                    .Add("POST", path,
                         [this, path, echo](sb::http::Request& request) {
                           std::lock_guard<std::mutex> lock(mu_);
                           if (auto token = request.Query("validationToken")) {
                             ++validations_;
                             return sb::http::Response::Text(
                                 200, echo ? std::string(*token) : std::string("nope"));
                           }
                           received_[path].push_back(Json::parse(request.body));
                           cv_.notify_all();
                           return sb::http::Response::Empty(202);
                         })
                    .ok());
  }

  sb::SystemClock clock_;
  sb::metrics::MetricsRegistry metrics_;
  sb::http::Router router_;
  std::unique_ptr<sb::http::Server> server_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::vector<Json>> received_;
  int validations_ = 0;
};

class MicrosoftSandboxTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto key = crypto::RsaSigningKey::Generate();
    ASSERT_TRUE(key.ok());
    key_ = new crypto::RsaSigningKey(std::move(*key));
    auto ca = crypto::CertificateAuthority::Generate("sandbox test CA");
    ASSERT_TRUE(ca.ok());
    auto cert = ca->IssueServerCertificate({"localhost"}, {"127.0.0.1"});
    ASSERT_TRUE(cert.ok());
    cert_ = new crypto::ServerCertificate(*cert);
    ca_file_ = new std::string(::testing::TempDir() + "/ms_sandbox_ca.pem");
    ASSERT_TRUE(crypto::WriteFile(*ca_file_, ca->ca_pem(), 0644).ok());
  }

  void SetUp() override {
    http_ = std::make_unique<sb::net::CurlHttpClient>(
        sb::net::CurlHttpClientOptions{.ca_file = *ca_file_});
    OriginOptions options;
    options.name = "microsoft";
    options.tls = sb::http::TlsOptions{cert_->cert_pem, cert_->key_pem};
    origin_ =
        std::make_unique<Origin>(options, clock_, DefaultSettings(), MakeFaultResponder(clock_));
    sandbox_ = std::make_unique<MicrosoftSandbox>(*origin_, *key_, *http_);
    sandbox_->Register();
    ASSERT_TRUE(origin_->Start().ok());
    account_ =
        Post("/_sandbox/accounts", {{"email", "megan@contoso.com"}, {"name", "Megan Bowen"}});
    ASSERT_TRUE(Send("POST", "/_sandbox/clients",
                     Json{{"client_id", "app-1"},
                          {"client_secret", "s3cret"},
                          {"redirect_uris", {"http://127.0.0.1:9/callback"}}}
                         .dump())
                    .status == 201);
  }

  void TearDown() override {
    origin_->Stop();
    sandbox_.reset();
  }

  HttpResponse Send(const std::string& method, const std::string& path,
                    const std::string& body = "", sb::net::HeaderList headers = {}) {
    sb::net::HttpRequest request;
    request.method = method;
    request.url = path.starts_with("https://") ? path : origin_->base_url() + path;
    request.body = body;
    request.headers = std::move(headers);
    if (!body.empty() && body.front() == '{')
      request.headers.emplace_back("Content-Type", "application/json");
    auto response = http_->Send(request);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return response.ok() ? *response : HttpResponse{};
  }
  Json Post(const std::string& path, const Json& body) {
    return Json::parse(Send("POST", path, body.dump()).body);
  }
  HttpResponse Graph(const std::string& method, const std::string& path, const std::string& token,
                     const Json& body = nullptr, sb::net::HeaderList headers = {}) {
    headers.emplace_back("Authorization", "Bearer " + token);
    return Send(method, path.starts_with("https://") ? path : "/v1.0" + path,
                body.is_null() ? "" : body.dump(), std::move(headers));
  }
  std::string Token(std::vector<std::string> scopes = {"User.Read", "Calendars.ReadWrite"}) {
    return Post("/_sandbox/accounts/" + account_["id"].get<std::string>() + "/tokens",
                {{"scopes", scopes}})["access_token"];
  }
  void Settings(const Json& patch) {
    ASSERT_EQ(Send("PUT", "/_sandbox/settings", patch.dump()).status, 200);
  }

  // Runs authorize (auto consent) and returns the code.
  std::string Authorize(const std::string& scope, const std::string& challenge,
                        const std::string& nonce = "n-0S6") {
    Settings({{"auto_consent", true}});
    const std::string url = AppendQuery("/common/oauth2/v2.0/authorize",
                                        {{"client_id", "app-1"},
                                         {"response_type", "code"},
                                         {"redirect_uri", "http://127.0.0.1:9/callback"},
                                         {"scope", scope},
                                         {"state", "xyz"},
                                         {"nonce", nonce},
                                         {"code_challenge", challenge},
                                         {"code_challenge_method", "S256"}});
    const HttpResponse response = Send("GET", url);
    EXPECT_EQ(response.status, 302);
    const std::string location(response.Header("Location").value_or(""));
    EXPECT_TRUE(location.starts_with("http://127.0.0.1:9/callback?")) << location;
    EXPECT_NE(location.find("state=xyz"), std::string::npos);
    const size_t at = location.find("code=");
    if (at == std::string::npos) return "";
    const size_t end = location.find('&', at);
    return *sb::http::PercentDecode(location.substr(at + 5, end - at - 5));
  }
  HttpResponse TokenRequest(std::vector<std::pair<std::string, std::string>> fields) {
    fields.emplace_back("client_id", "app-1");
    fields.emplace_back("client_secret", "s3cret");
    return Send("POST", "/common/oauth2/v2.0/token", sb::FormEncode(fields),
                {{"Content-Type", "application/x-www-form-urlencoded"}});
  }
  Json Redeem(const std::string& code, const std::string& verifier) {
    return Json::parse(TokenRequest({{"grant_type", "authorization_code"},
                                     {"code", code},
                                     {"redirect_uri", "http://127.0.0.1:9/callback"},
                                     {"code_verifier", verifier}})
                           .body);
  }
  HttpResponse Refresh(const std::string& refresh_token) {
    return TokenRequest({{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}});
  }
  Json FreshTokens() {
    const std::string verifier = "verifier-0123456789-0123456789-0123456789-abc";
    return Redeem(
        Authorize("openid profile email offline_access Calendars.ReadWrite", PkceS256(verifier)),
        verifier);
  }
  Json CreateEvent(const std::string& token, const std::string& subject, const std::string& start,
                   const std::string& end) {
    const HttpResponse response =
        Graph("POST", "/me/events", token,
              {{"subject", subject},
               {"body", {{"contentType", "HTML"}, {"content", "<p>Agenda</p>"}}},
               {"start", {{"dateTime", start}, {"timeZone", "W. Europe Standard Time"}}},
               {"end", {{"dateTime", end}, {"timeZone", "W. Europe Standard Time"}}}});
    EXPECT_EQ(response.status, 201) << response.body;
    return Json::parse(response.body);
  }
  // Follows nextLinks to the deltaLink; returns all items and the deltaLink.
  std::pair<std::vector<Json>, std::string> DeltaRound(const std::string& first,
                                                       const std::string& token, int* pages) {
    std::vector<Json> items;
    std::string link = first;
    for (int i = 0; i < 100; ++i) {
      const HttpResponse response =
          Graph("GET", link, token, nullptr, {{"Prefer", "odata.maxpagesize=2"}});
      EXPECT_EQ(response.status, 200) << response.body;
      EXPECT_EQ(response.Header("Preference-Applied").value_or(""), "odata.maxpagesize=2");
      const Json body = Json::parse(response.body);
      for (const Json& item : body["value"]) items.push_back(item);
      if (pages) ++*pages;
      if (body.contains("@odata.deltaLink")) return {items, body["@odata.deltaLink"]};
      link = body["@odata.nextLink"];
      EXPECT_TRUE(link.starts_with(origin_->base_url() + "/v1.0/me/calendarView/delta?$skiptoken="))
          << link;
    }
    ADD_FAILURE() << "no deltaLink";
    return {items, ""};
  }

  static crypto::RsaSigningKey* key_;
  static crypto::ServerCertificate* cert_;
  static std::string* ca_file_;
  sb::SystemClock clock_;
  std::unique_ptr<sb::net::CurlHttpClient> http_;
  std::unique_ptr<Origin> origin_;
  std::unique_ptr<MicrosoftSandbox> sandbox_;
  Json account_;
};

crypto::RsaSigningKey* MicrosoftSandboxTest::key_ = nullptr;
crypto::ServerCertificate* MicrosoftSandboxTest::cert_ = nullptr;
std::string* MicrosoftSandboxTest::ca_file_ = nullptr;

int FirstErrorCode(const HttpResponse& response) {
  const Json body = Json::parse(response.body);
  return body.contains("error_codes") ? body["error_codes"][0].get<int>() : -1;
}

TEST_F(MicrosoftSandboxTest, AccountsGetTenantIds) {
  EXPECT_EQ(account_["tid"], std::string(kDemoTenantId));
  EXPECT_EQ(account_["id"].get<std::string>().size(), 36u);
  const Json personal = Post("/_sandbox/accounts", {{"email", "joe@outlook.com"}});
  EXPECT_EQ(personal["tid"], std::string(kPersonalTenantId));
}

TEST_F(MicrosoftSandboxTest, AuthorizationCodeWithPkceGivesVerifiableIdToken) {
  const std::string verifier = "verifier-0123456789-0123456789-0123456789-abc";
  const std::string code =
      Authorize("openid profile email offline_access Calendars.ReadWrite", PkceS256(verifier));
  ASSERT_FALSE(code.empty());
  const Json tokens = Redeem(code, verifier);
  ASSERT_TRUE(tokens.contains("access_token")) << tokens.dump();
  EXPECT_TRUE(tokens.contains("refresh_token"));
  EXPECT_EQ(tokens["token_type"], "Bearer");
  EXPECT_EQ(tokens["expires_in"], 3599);
  EXPECT_NE(
      tokens["scope"].get<std::string>().find("https://graph.microsoft.com/Calendars.ReadWrite"),
      std::string::npos);

  const Json jwks = Json::parse(Send("GET", "/common/discovery/v2.0/keys").body);
  ASSERT_EQ(jwks["keys"].size(), 1u);
  EXPECT_EQ(jwks["keys"][0]["kid"], key_->kid());
  auto claims =
      crypto::VerifyJwtRs256(tokens["id_token"].get<std::string>(), key_->public_key_pem());
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ((*claims)["tid"], account_["tid"]);
  EXPECT_EQ((*claims)["oid"], account_["id"]);
  EXPECT_EQ((*claims)["preferred_username"], "megan@contoso.com");
  EXPECT_EQ((*claims)["nonce"], "n-0S6");
  EXPECT_EQ((*claims)["aud"], "app-1");
  EXPECT_EQ((*claims)["ver"], "2.0");
  EXPECT_EQ((*claims)["iss"],
            origin_->base_url() + "/" + account_["tid"].get<std::string>() + "/v2.0");

  // The id_token's issuer matches the OpenID configuration's template.
  const Json config =
      Json::parse(Send("GET", "/common/v2.0/.well-known/openid-configuration").body);
  EXPECT_EQ(config["issuer"], origin_->base_url() + "/{tenantid}/v2.0");
  EXPECT_EQ(config["token_endpoint"], origin_->base_url() + "/common/oauth2/v2.0/token");

  // Codes are single use.
  const HttpResponse reuse = TokenRequest({{"grant_type", "authorization_code"},
                                           {"code", code},
                                           {"redirect_uri", "http://127.0.0.1:9/callback"},
                                           {"code_verifier", verifier}});
  EXPECT_EQ(reuse.status, 400);
  EXPECT_EQ(FirstErrorCode(reuse), 54005);
  const Json error = Json::parse(reuse.body);
  EXPECT_EQ(error["error"], "invalid_grant");
  for (const char* key :
       {"error_description", "timestamp", "trace_id", "correlation_id", "error_uri"}) {
    EXPECT_TRUE(error.contains(key)) << key;
  }
}

TEST_F(MicrosoftSandboxTest, WrongPkceVerifierIsRefused) {
  const std::string code = Authorize("openid offline_access Calendars.Read",
                                     PkceS256("right-verifier-right-verifier-right-verifier"));
  const HttpResponse response =
      TokenRequest({{"grant_type", "authorization_code"},
                    {"code", code},
                    {"redirect_uri", "http://127.0.0.1:9/callback"},
                    {"code_verifier", "wrong-verifier-wrong-verifier-wrong-verifier"}});
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(FirstErrorCode(response), 501481);
}

TEST_F(MicrosoftSandboxTest, BadClientSecretIs7000215) {
  const HttpResponse response = Send("POST", "/common/oauth2/v2.0/token",
                                     sb::FormEncode({{"grant_type", "refresh_token"},
                                                     {"refresh_token", "x"},
                                                     {"client_id", "app-1"},
                                                     {"client_secret", "wrong"}}),
                                     {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(FirstErrorCode(response), 7000215);
}

TEST_F(MicrosoftSandboxTest, WithoutOfflineAccessThereIsNoRefreshToken) {
  const std::string verifier = "verifier-0123456789-0123456789-0123456789-abc";
  const Json tokens = Redeem(Authorize("openid Calendars.Read", PkceS256(verifier)), verifier);
  EXPECT_TRUE(tokens.contains("access_token")) << tokens.dump();
  EXPECT_FALSE(tokens.contains("refresh_token"));
}

TEST_F(MicrosoftSandboxTest, ConsentPageIsShownWithoutAutoConsent) {
  const HttpResponse page = Send(
      "GET",
      AppendQuery("/common/oauth2/v2.0/authorize", {{"client_id", "app-1"},
                                                    {"response_type", "code"},
                                                    {"redirect_uri", "http://127.0.0.1:9/callback"},
                                                    {"scope", "openid"}}));
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("value=\"accept\""), std::string::npos);
  Settings({{"auto_consent", true}, {"consent_decision", "deny"}});
  const HttpResponse denied = Send(
      "GET",
      AppendQuery("/common/oauth2/v2.0/authorize", {{"client_id", "app-1"},
                                                    {"response_type", "code"},
                                                    {"redirect_uri", "http://127.0.0.1:9/callback"},
                                                    {"scope", "openid"}}));
  EXPECT_EQ(denied.status, 302);
  EXPECT_NE(denied.Header("Location").value_or("").find("error=access_denied"), std::string::npos);
}

TEST_F(MicrosoftSandboxTest, RefreshRotatesAndOldTokenWorksUnlessInvalidated) {
  const Json tokens = FreshTokens();
  const std::string first = tokens["refresh_token"];
  const HttpResponse refreshed = Refresh(first);
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  const std::string second = Json::parse(refreshed.body)["refresh_token"];
  EXPECT_NE(second, first);
  EXPECT_EQ(Refresh(first).status, 200);  // real Entra keeps the old one alive

  Settings({{"invalidate_old_refresh_on_rotate", true}});
  const HttpResponse third = Refresh(second);
  ASSERT_EQ(third.status, 200);
  const HttpResponse stale = Refresh(second);
  EXPECT_EQ(stale.status, 400);
  EXPECT_EQ(FirstErrorCode(stale), 70008);
}

// The control API can mint an offline grant directly; its refresh token works at /token.
TEST_F(MicrosoftSandboxTest, MintedOfflineGrantRefreshes) {
  const Json minted = Post("/_sandbox/accounts/" + account_["id"].get<std::string>() + "/tokens",
                           {{"client_id", "app-1"}, {"offline", true}});
  ASSERT_TRUE(minted.contains("refresh_token")) << minted.dump();
  const HttpResponse response = Refresh(minted["refresh_token"]);
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_FALSE(Post("/_sandbox/accounts/" + account_["id"].get<std::string>() + "/tokens", {})
                   .contains("refresh_token"));
}

TEST_F(MicrosoftSandboxTest, RevokedRefreshTokenIs50173) {
  const Json tokens = FreshTokens();
  const Json revoked =
      Post("/_sandbox/actions/revoke-refresh-tokens", {{"account", account_["id"]}});
  EXPECT_GE(revoked["revoked"].get<int>(), 1);
  const HttpResponse response = Refresh(tokens["refresh_token"]);
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(FirstErrorCode(response), 50173);
  // The access token went with it.
  EXPECT_EQ(Graph("GET", "/me", tokens["access_token"]).status, 401);
}

TEST_F(MicrosoftSandboxTest, FailNextRefreshInjectsEachCodeOnce) {
  const std::string refresh = FreshTokens()["refresh_token"];
  for (int code : {70008, 700082, 50173, 54005, 50076}) {
    Post("/_sandbox/actions/fail-next-refresh", {{"code", code}, {"count", 1}});
    const HttpResponse failed = Refresh(refresh);
    EXPECT_EQ(failed.status, 400);
    EXPECT_EQ(FirstErrorCode(failed), code);
    const Json body = Json::parse(failed.body);
    if (code == 50076) {
      EXPECT_EQ(body["error"], "interaction_required");
      EXPECT_EQ(body["suberror"], "basic_action");
    } else {
      EXPECT_EQ(body["error"], "invalid_grant");
    }
    EXPECT_EQ(Refresh(refresh).status, 200) << "failure must apply once";
  }
}

TEST_F(MicrosoftSandboxTest, GraphAuthErrors) {
  const HttpResponse none = Send("GET", "/v1.0/me", "", {{"client-request-id", "abc-123"}});
  EXPECT_EQ(none.status, 401);
  const Json error = Json::parse(none.body)["error"];
  EXPECT_EQ(error["code"], "InvalidAuthenticationToken");
  EXPECT_EQ(error["innerError"]["client-request-id"], "abc-123");
  EXPECT_EQ(error["innerError"]["request-id"], none.Header("request-id").value_or("?"));
  EXPECT_EQ(none.Header("client-request-id").value_or(""), "abc-123");

  const std::string token = Token();
  EXPECT_EQ(Graph("GET", "/me", token).status, 200);
  Post("/_sandbox/actions/expire-access-tokens", Json::object());
  const HttpResponse expired = Graph("GET", "/me", token);
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(expired.body.find("expired"), std::string::npos);

  const HttpResponse denied = Graph("GET", "/me/events", Token({"User.Read"}));
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(Json::parse(denied.body)["error"]["code"], "ErrorAccessDenied");
  EXPECT_EQ(Graph("POST", "/me/events", Token({"Calendars.Read"}), {{"subject", "x"}}).status, 403);
}

TEST_F(MicrosoftSandboxTest, MeAndCalendars) {
  const std::string token = Token();
  const HttpResponse me = Graph("GET", "/me", token);
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(me.Header("Content-Type").value_or(""),
            "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;"
            "charset=utf-8");
  EXPECT_FALSE(me.Header("request-id").value_or("").empty());
  EXPECT_EQ(Json::parse(me.body)["id"], account_["id"]);
  EXPECT_EQ(Json::parse(me.body)["userPrincipalName"], "megan@contoso.com");
  const Json calendars = Json::parse(Graph("GET", "/me/calendars", token).body);
  ASSERT_EQ(calendars["value"].size(), 1u);
  EXPECT_TRUE(calendars["value"][0]["isDefaultCalendar"].get<bool>());
  const HttpResponse other = Graph("GET", "/users/someone-else@contoso.com/events", token);
  EXPECT_EQ(other.status, 403);
  EXPECT_EQ(Graph("GET", "/users/megan@contoso.com/events", token).status, 200);
}

TEST_F(MicrosoftSandboxTest, EventsCrudWithIfMatch) {
  const std::string token = Token();
  const Json created =
      CreateEvent(token, "Café Zürich – 会议 📅", "2024-05-06T10:00:00", "2024-05-06T10:30:00");
  const std::string id = created["id"];
  EXPECT_EQ(created["start"]["dateTime"], "2024-05-06T08:00:00.0000000");  // CEST -> UTC
  EXPECT_EQ(created["start"]["timeZone"], "UTC");
  EXPECT_EQ(created["originalStartTimeZone"], "W. Europe Standard Time");
  EXPECT_EQ(created["type"], "singleInstance");
  EXPECT_EQ(created["@odata.etag"], "W/\"" + created["changeKey"].get<std::string>() + "\"");
  EXPECT_EQ(created["subject"], "Café Zürich – 会议 📅");

  const HttpResponse got = Graph("GET", "/me/events/" + id, token, nullptr,
                                 {{"Prefer", "outlook.timezone=\"Pacific Standard Time\""}});
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(Json::parse(got.body)["start"]["dateTime"], "2024-05-06T01:00:00.0000000");
  EXPECT_EQ(got.Header("Preference-Applied").value_or(""),
            "outlook.timezone=\"Pacific Standard Time\"");

  const HttpResponse stale = Graph("PATCH", "/me/events/" + id, token, {{"subject", "x"}},
                                   {{"If-Match", "W/\"not-the-key\""}});
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(Json::parse(stale.body)["error"]["code"], "ErrorIrresolvableConflict");

  const HttpResponse patched = Graph("PATCH", "/me/events/" + id, token, {{"subject", "Moved"}},
                                     {{"If-Match", created["@odata.etag"].get<std::string>()}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(Json::parse(patched.body)["subject"], "Moved");
  EXPECT_NE(Json::parse(patched.body)["changeKey"], created["changeKey"]);

  EXPECT_EQ(Graph("DELETE", "/me/events/" + id, token).status, 204);
  const HttpResponse gone = Graph("GET", "/me/events/" + id, token);
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(Json::parse(gone.body)["error"]["code"], "ErrorItemNotFound");
}

TEST_F(MicrosoftSandboxTest, ListPagesWithTopAndSkip) {
  const std::string token = Token();
  for (int i = 0; i < 5; ++i) {
    CreateEvent(token, "E" + std::to_string(i), "2024-05-06T10:00:00", "2024-05-06T11:00:00");
  }
  std::set<std::string> subjects;
  std::string link = "/me/events?$top=2";
  for (int page = 0; page < 10 && !link.empty(); ++page) {
    const Json body = Json::parse(Graph("GET", link, token).body);
    for (const Json& event : body["value"]) subjects.insert(event["subject"]);
    link = body.value("@odata.nextLink", std::string());
  }
  EXPECT_EQ(subjects.size(), 5u);
}

TEST_F(MicrosoftSandboxTest, CalendarViewExpandsSeries) {
  const std::string token = Token();
  const HttpResponse created = Graph(
      "POST", "/me/events", token,
      {{"subject", "Weekly"},
       {"start", {{"dateTime", "2024-05-06T10:00:00"}, {"timeZone", "Europe/Zurich"}}},
       {"end", {{"dateTime", "2024-05-06T10:30:00"}, {"timeZone", "Europe/Zurich"}}},
       {"recurrence",
        {{"pattern", {{"type", "weekly"}, {"interval", 1}, {"daysOfWeek", {"monday"}}}},
         {"range",
          {{"type", "numbered"}, {"startDate", "2024-05-06"}, {"numberOfOccurrences", 3}}}}}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string master = Json::parse(created.body)["id"];
  const Json view = Json::parse(
      Graph("GET",
            "/me/calendarView?startDateTime=2024-05-01T00:00:00Z&endDateTime=2024-06-30T00:00:00Z",
            token)
          .body);
  ASSERT_EQ(view["value"].size(), 3u) << view.dump();
  EXPECT_EQ(view["value"][2]["start"]["dateTime"], "2024-05-20T08:00:00.0000000");
  EXPECT_EQ(view["value"][1]["type"], "occurrence");
  EXPECT_EQ(view["value"][1]["seriesMasterId"], master);

  // Deleting one occurrence removes it from the view; patching one makes an exception.
  const std::string second = view["value"][1]["id"];
  EXPECT_EQ(Graph("DELETE", "/me/events/" + second, token).status, 204);
  const std::string third = view["value"][2]["id"];
  const HttpResponse patched =
      Graph("PATCH", "/me/events/" + third, token, {{"subject", "Special"}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(Json::parse(patched.body)["type"], "exception");
  const Json after = Json::parse(
      Graph("GET",
            "/me/calendarView?startDateTime=2024-05-01T00:00:00Z&endDateTime=2024-06-30T00:00:00Z",
            token)
          .body);
  ASSERT_EQ(after["value"].size(), 2u);
  EXPECT_EQ(after["value"][1]["subject"], "Special");
}

TEST_F(MicrosoftSandboxTest, DeltaRoundsShowChangesAndRemovals) {
  const std::string token = Token();
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(CreateEvent(token, "E" + std::to_string(i),
                              "2024-05-0" + std::to_string(i + 1) + "T10:00:00",
                              "2024-05-0" + std::to_string(i + 1) + "T11:00:00")["id"]);
  }
  CreateEvent(token, "outside", "2025-01-01T10:00:00", "2025-01-01T11:00:00");
  const std::string first =
      "/me/calendarView/delta?startDateTime=2024-04-01T00:00:00Z&endDateTime=2024-07-01T00:00:00Z";
  int pages = 0;
  auto [items, delta_link] = DeltaRound(first, token, &pages);
  EXPECT_GE(pages, 3);
  ASSERT_EQ(items.size(), 5u);
  EXPECT_EQ(items[0]["@odata.type"], "#microsoft.graph.event");
  EXPECT_TRUE(
      delta_link.starts_with(origin_->base_url() + "/v1.0/me/calendarView/delta?$deltatoken="));
  EXPECT_EQ(delta_link.find_first_of("+/= ", delta_link.find("$deltatoken=") + 12),
            std::string::npos);

  ASSERT_EQ(Graph("PATCH", "/me/events/" + ids[0], token, {{"subject", "E0 edited"}}).status, 200);
  ASSERT_EQ(Graph("DELETE", "/me/events/" + ids[1], token).status, 204);
  const std::string added =
      CreateEvent(token, "new", "2024-06-01T10:00:00", "2024-06-01T11:00:00")["id"];
  auto [changes, next_link] = DeltaRound(delta_link, token, nullptr);
  ASSERT_EQ(changes.size(), 3u);
  std::map<std::string, Json> by_id;
  for (const Json& item : changes) by_id[item["id"]] = item;
  EXPECT_EQ(by_id[ids[0]]["subject"], "E0 edited");
  EXPECT_EQ(by_id[ids[1]]["@removed"]["reason"], "deleted");
  EXPECT_EQ(by_id[added]["subject"], "new");

  // A quiet round is empty.
  auto [quiet, quiet_link] = DeltaRound(next_link, token, nullptr);
  EXPECT_TRUE(quiet.empty());

  Post("/_sandbox/actions/delta-expire", Json::object());
  const HttpResponse expired = Graph("GET", quiet_link, token);
  EXPECT_EQ(expired.status, 410);
  EXPECT_EQ(Json::parse(expired.body)["error"]["code"], "syncStateNotFound");
  // A fresh initial round still works.
  EXPECT_EQ(Graph("GET", first, token).status, 200);
}

TEST_F(MicrosoftSandboxTest, DeltaReplayAndLagSwitches) {
  const std::string token = Token();
  const std::string id =
      CreateEvent(token, "replayed", "2024-05-01T10:00:00", "2024-05-01T11:00:00")["id"];
  const std::string first =
      "/me/calendarView/delta?startDateTime=2024-04-01T00:00:00Z&endDateTime=2024-07-01T00:00:00Z";
  auto [initial, link] = DeltaRound(first, token, nullptr);
  ASSERT_EQ(initial.size(), 1u);
  ASSERT_EQ(Graph("PATCH", "/me/events/" + id, token, {{"subject", "edited"}}).status, 200);
  Settings({{"delta_replay_changes", 1}});
  auto [second, second_link] = DeltaRound(link, token, nullptr);
  ASSERT_EQ(second.size(), 1u);
  // Nothing changed since, yet the replay repeats the last change.
  auto [third, third_link] = DeltaRound(second_link, token, nullptr);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0]["id"], id);
  Settings({{"delta_replay_changes", 0}, {"delta_lag_ms", 60'000}});
  auto [settled, settled_link] = DeltaRound(third_link, token, nullptr);
  EXPECT_TRUE(settled.empty());
  // A change younger than the lag is held back, then shows up once the lag is gone.
  const std::string late =
      CreateEvent(token, "late", "2024-05-02T10:00:00", "2024-05-02T11:00:00")["id"];
  auto [held, held_link] = DeltaRound(settled_link, token, nullptr);
  EXPECT_TRUE(held.empty());
  Settings({{"delta_lag_ms", 0}});
  auto [shown, shown_link] = DeltaRound(held_link, token, nullptr);
  ASSERT_EQ(shown.size(), 1u);
  EXPECT_EQ(shown[0]["id"], late);
}

TEST_F(MicrosoftSandboxTest, DeltaResetGivesLocationToStartOver) {
  const std::string token = Token();
  CreateEvent(token, "E", "2024-05-01T10:00:00", "2024-05-01T11:00:00");
  auto [items, link] = DeltaRound(
      "/me/calendarView/delta?startDateTime=2024-04-01T00:00:00Z&endDateTime=2024-07-01T00:00:00Z",
      token, nullptr);
  ASSERT_EQ(items.size(), 1u);
  Post("/_sandbox/actions/delta-reset", Json::object());
  const HttpResponse reset = Graph("GET", link, token);
  EXPECT_EQ(reset.status, 410);
  EXPECT_EQ(Json::parse(reset.body)["error"]["code"], "resyncRequired");
  const std::string location(reset.Header("Location").value_or(""));
  ASSERT_TRUE(location.starts_with(origin_->base_url() + "/v1.0/me/calendarView/delta?"))
      << location;
  auto [again, again_link] = DeltaRound(location, token, nullptr);
  EXPECT_EQ(again.size(), 1u);
}

TEST_F(MicrosoftSandboxTest, DeltaStripsOccurrences) {
  const std::string token = Token();
  ASSERT_EQ(
      Graph("POST", "/me/events", token,
            {{"subject", "Daily"},
             {"start", {{"dateTime", "2024-05-06T10:00:00"}, {"timeZone", "UTC"}}},
             {"end", {{"dateTime", "2024-05-06T10:30:00"}, {"timeZone", "UTC"}}},
             {"recurrence",
              {{"pattern", {{"type", "daily"}, {"interval", 1}}},
               {"range",
                {{"type", "endDate"}, {"startDate", "2024-05-06"}, {"endDate", "2024-05-08"}}}}}})
          .status,
      201);
  auto [items, link] = DeltaRound(
      "/me/calendarView/delta?startDateTime=2024-05-01T00:00:00Z&endDateTime=2024-06-01T00:00:00Z",
      token, nullptr);
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0]["type"], "seriesMaster");
  EXPECT_TRUE(items[0].contains("recurrence"));
  std::set<std::string> keys;
  for (const auto& [key, value] : items[1].items()) keys.insert(key);
  EXPECT_EQ(keys, (std::set<std::string>{"@odata.type", "@odata.etag", "id", "seriesMasterId",
                                         "type", "start", "end"}));
}

TEST_F(MicrosoftSandboxTest, RateLimitFaultHasRetryAfterAndThrottlingEnvelope) {
  ASSERT_EQ(Send("POST", "/_sandbox/faults",
                 Json{{"path", "/v1.0/me"},
                      {"kind", "rate_limit"},
                      {"status", 429},
                      {"retry_after", 2},
                      {"count", 1}}
                     .dump())
                .status,
            201);
  const std::string token = Token();
  const HttpResponse throttled = Graph("GET", "/me", token);
  EXPECT_EQ(throttled.status, 429);
  EXPECT_EQ(throttled.Header("Retry-After").value_or(""), "2");
  const Json error = Json::parse(throttled.body)["error"];
  EXPECT_EQ(error["code"], "TooManyRequests");
  EXPECT_EQ(error["innerError"]["status"], "429");
  EXPECT_FALSE(throttled.Header("request-id").value_or("").empty());
  EXPECT_EQ(Graph("GET", "/me", token).status, 200);
}

TEST_F(MicrosoftSandboxTest, SubscriptionHandshakeAndChangeNotification) {
  Receiver receiver;
  const std::string token = Token();
  const std::string expiration = sb::caltime::FormatUtcMillis(NowMillis(clock_) + 3'600'000);
  const HttpResponse created = Graph("POST", "/subscriptions", token,
                                     {{"changeType", "created,updated,deleted"},
                                      {"notificationUrl", receiver.Url("/notify") + "?tenant=abc"},
                                      {"lifecycleNotificationUrl", receiver.Url("/lifecycle")},
                                      {"resource", "/me/events"},
                                      {"expirationDateTime", expiration},
                                      {"clientState", "SecretClientState"}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(receiver.validations(), 2);
  const Json sub = Json::parse(created.body);
  EXPECT_EQ(sub["clientState"], "SecretClientState");

  const std::string id =
      CreateEvent(token, "watched", "2024-05-06T10:00:00", "2024-05-06T11:00:00")["id"];
  const auto notifications = receiver.WaitFor("/notify", 1);
  ASSERT_EQ(notifications.size(), 1u);
  const Json item = notifications[0]["value"][0];
  EXPECT_EQ(item["clientState"], "SecretClientState");
  EXPECT_EQ(item["subscriptionId"], sub["id"]);
  EXPECT_EQ(item["changeType"], "created");
  EXPECT_EQ(item["tenantId"], account_["tid"]);
  EXPECT_EQ(item["resource"], "Users/" + account_["id"].get<std::string>() + "/Events/" + id);
  EXPECT_EQ(item["resourceData"]["@odata.type"], "#Microsoft.Graph.Event");

  Post("/_sandbox/actions/send-lifecycle",
       {{"subscription_id", sub["id"]}, {"event", "reauthorizationRequired"}});
  const auto lifecycle = receiver.WaitFor("/lifecycle", 1);
  ASSERT_EQ(lifecycle.size(), 1u);
  EXPECT_EQ(lifecycle[0]["value"][0]["lifecycleEvent"], "reauthorizationRequired");

  EXPECT_EQ(Graph("PATCH", "/subscriptions/" + sub["id"].get<std::string>(), token,
                  {{"expirationDateTime", expiration}})
                .status,
            200);
  EXPECT_EQ(Json::parse(Graph("GET", "/subscriptions", token).body)["value"].size(), 1u);
  EXPECT_EQ(Graph("DELETE", "/subscriptions/" + sub["id"].get<std::string>(), token).status, 204);
  EXPECT_EQ(Graph("PATCH", "/subscriptions/" + sub["id"].get<std::string>(), token,
                  {{"expirationDateTime", expiration}})
                .status,
            404);
}

TEST_F(MicrosoftSandboxTest, NotificationDuplicateAndDropSwitches) {
  Receiver receiver;
  const std::string token = Token();
  ASSERT_EQ(
      Graph("POST", "/subscriptions", token,
            {{"changeType", "created,updated,deleted"},
             {"notificationUrl", receiver.Url("/notify")},
             {"resource", "/me/events"},
             {"expirationDateTime", sb::caltime::FormatUtcMillis(NowMillis(clock_) + 3'600'000)},
             {"clientState", "s"}})
          .status,
      201);
  Settings({{"notification_duplicate", true}});
  CreateEvent(token, "twice", "2024-05-06T10:00:00", "2024-05-06T11:00:00");
  const auto duplicated = receiver.WaitFor("/notify", 1);
  ASSERT_EQ(duplicated.size(), 1u);
  ASSERT_EQ(duplicated[0]["value"].size(), 2u);  // the same notification twice in one POST
  EXPECT_EQ(duplicated[0]["value"][0], duplicated[0]["value"][1]);
  Settings({{"notification_duplicate", false}, {"notification_drop_rate", 1.0}});
  CreateEvent(token, "dropped", "2024-05-07T10:00:00", "2024-05-07T11:00:00");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(receiver.WaitFor("/notify", 0).size(), 1u);  // nothing more arrived
}

TEST_F(MicrosoftSandboxTest, SubscriptionValidationFailureAndCaps) {
  Receiver receiver;
  const std::string token = Token();
  Json body = {{"changeType", "created"},
               {"notificationUrl", receiver.Url("/bad")},
               {"resource", "me/events"},
               {"expirationDateTime", sb::caltime::FormatUtcMillis(NowMillis(clock_) + 3'600'000)}};
  const HttpResponse bad = Graph("POST", "/subscriptions", token, body);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Json::parse(bad.body)["error"]["code"], "ValidationError");

  body["notificationUrl"] = receiver.Url("/notify");
  body["expirationDateTime"] = sb::caltime::FormatUtcMillis(NowMillis(clock_) + 20'000LL * 60'000);
  const HttpResponse too_long = Graph("POST", "/subscriptions", token, body);
  EXPECT_EQ(too_long.status, 400);
  EXPECT_EQ(Json::parse(too_long.body)["error"]["code"], "ExtensionError");
  EXPECT_NE(too_long.body.find("10080 minutes"), std::string::npos);

  body.erase("expirationDateTime");
  const HttpResponse missing = Graph("POST", "/subscriptions", token, body);
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.body.find("expirationDateTime"), std::string::npos);
}

TEST_F(MicrosoftSandboxTest, BatchRunsDependenciesAndFailsDependents) {
  const std::string token = Token();
  const Json batch = {
      {"requests",
       {{{"id", "1"},
         {"method", "POST"},
         {"url", "/me/events"},
         {"headers", {{"Content-Type", "application/json"}}},
         {"body",
          {{"subject", "from batch"},
           {"start", {{"dateTime", "2024-05-06T10:00:00"}, {"timeZone", "UTC"}}},
           {"end", {{"dateTime", "2024-05-06T11:00:00"}, {"timeZone", "UTC"}}}}}},
        {{"id", "2"}, {"method", "GET"}, {"url", "/me/events/AAMkAnope"}, {"dependsOn", {"1"}}},
        {{"id", "3"}, {"method", "GET"}, {"url", "/me"}, {"dependsOn", {"2"}}},
        {{"id", "4"}, {"method", "GET"}, {"url", "/me"}}}}};
  const HttpResponse response = Graph("POST", "/$batch", token, batch);
  ASSERT_EQ(response.status, 200) << response.body;
  std::map<std::string, Json> by_id;
  const Json responses = Json::parse(response.body)["responses"];
  for (const Json& item : responses) by_id[item["id"]] = item;
  EXPECT_EQ(by_id["1"]["status"], 201);
  EXPECT_EQ(by_id["1"]["body"]["subject"], "from batch");
  EXPECT_EQ(by_id["2"]["status"], 404);
  EXPECT_EQ(by_id["3"]["status"], 424);
  EXPECT_EQ(by_id["4"]["status"], 200);
  EXPECT_EQ(by_id["4"]["body"]["id"], account_["id"]);

  Json too_many = {{"requests", Json::array()}};
  for (int i = 0; i < 21; ++i) {
    too_many["requests"].push_back({{"id", std::to_string(i)}, {"method", "GET"}, {"url", "/me"}});
  }
  EXPECT_EQ(Graph("POST", "/$batch", token, too_many).status, 400);
}

TEST_F(MicrosoftSandboxTest, SeedAndMutateFeedDelta) {
  const std::string token = Token();
  const Json seeded = Post("/_sandbox/accounts/" + account_["id"].get<std::string>() + "/seed",
                           {{"events", 300}, {"seed", 7}});
  EXPECT_EQ(seeded["created"], 300);
  const std::string window =
      "startDateTime=" + sb::caltime::FormatUtcMillis(NowMillis(clock_) - 90LL * 86'400'000) +
      "&endDateTime=" + sb::caltime::FormatUtcMillis(NowMillis(clock_) + 150LL * 86'400'000);
  std::set<std::string> types;
  std::string link = "/me/calendarView/delta?" + window;
  std::string delta;
  size_t count = 0;
  for (int i = 0; i < 100 && delta.empty(); ++i) {
    const HttpResponse page =
        Graph("GET", link, token, nullptr, {{"Prefer", "odata.maxpagesize=1000"}});
    ASSERT_EQ(page.status, 200);
    const Json body = Json::parse(page.body);
    for (const Json& item : body["value"]) types.insert(item.value("type", std::string("?")));
    count += body["value"].size();
    link = body.value("@odata.nextLink", std::string());
    delta = body.value("@odata.deltaLink", std::string());
  }
  EXPECT_GT(count, 250u);
  EXPECT_TRUE(types.contains("seriesMaster"));
  EXPECT_TRUE(types.contains("occurrence"));
  EXPECT_TRUE(types.contains("exception"));
  EXPECT_TRUE(types.contains("singleInstance"));

  const Json mutated =
      Post("/_sandbox/actions/mutate",
           {{"account", account_["id"]}, {"creates", 0}, {"updates", 2}, {"deletes", 1}});
  EXPECT_EQ(mutated["updated"].size(), 2u);
  EXPECT_EQ(mutated["deleted"].size(), 1u);
  // The whole round: an updated series brings its occurrences, so it can span pages.
  auto [changes, next_link] = DeltaRound(delta, token, nullptr);
  std::set<std::string> ids;
  for (const Json& item : changes) ids.insert(item["id"]);
  EXPECT_TRUE(ids.contains(mutated["deleted"][0].get<std::string>()));
}

}  // namespace
}  // namespace sandbox::microsoft

namespace sandbox::microsoft {
namespace {

// Accounts with many events work (throughput is measured by bench/sandbox_bench, not here).
TEST_F(MicrosoftSandboxTest, LargeAccountPagesWork) {
  const std::string token = Token();
  EXPECT_EQ(sandbox_->Seed(account_["id"], 20'000, 3), 20'000u);
  const HttpResponse list = Graph("GET", "/me/events?$top=1000&$skip=15000", token);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(Json::parse(list.body)["value"].size(), 1000u);
  const std::string window =
      "startDateTime=" + sb::caltime::FormatUtcMillis(NowMillis(clock_) - 90LL * 86'400'000) +
      "&endDateTime=" + sb::caltime::FormatUtcMillis(NowMillis(clock_) + 150LL * 86'400'000);
  const HttpResponse delta = Graph("GET", "/me/calendarView/delta?" + window, token, nullptr,
                                   {{"Prefer", "odata.maxpagesize=1000"}});
  ASSERT_EQ(delta.status, 200);
  const Json page = Json::parse(delta.body);
  EXPECT_EQ(page["value"].size(), 1000u);
  EXPECT_TRUE(page.contains("@odata.nextLink"));
}

// getSchedule fixtures: events in UTC with a showAs.
Json UtcEvent(const std::string& subject, const std::string& show_as, const std::string& start,
              const std::string& end) {
  return {{"subject", subject},
          {"showAs", show_as},
          {"location", {{"displayName", "Room " + subject}}},
          {"start", {{"dateTime", start}, {"timeZone", "UTC"}}},
          {"end", {{"dateTime", end}, {"timeZone", "UTC"}}}};
}

Json ScheduleBody(std::vector<std::string> schedules, const std::string& start,
                  const std::string& end, Json interval = 30, const std::string& zone = "UTC") {
  return {{"schedules", schedules},
          {"startTime", {{"dateTime", start}, {"timeZone", zone}}},
          {"endTime", {{"dateTime", end}, {"timeZone", zone}}},
          {"availabilityViewInterval", interval}};
}

TEST_F(MicrosoftSandboxTest, GetScheduleGivesTheAvailabilityViewAndItems) {
  const std::string token = Token();
  for (const Json& event :
       {UtcEvent("G", "busy", "2026-12-07T08:00:00", "2026-12-07T09:05:00"),
        UtcEvent("A", "busy", "2026-12-07T09:00:00", "2026-12-07T10:00:00"),
        UtcEvent("B", "tentative", "2026-12-07T09:30:00", "2026-12-07T10:30:00"),
        UtcEvent("C", "oof", "2026-12-07T11:00:00", "2026-12-07T11:15:00"),
        UtcEvent("D", "workingElsewhere", "2026-12-07T11:00:00", "2026-12-07T12:00:00"),
        UtcEvent("E", "free", "2026-12-07T12:00:00", "2026-12-07T13:00:00"),
        UtcEvent("F", "busy", "2026-12-07T12:40:00", "2026-12-07T12:50:00"),
        UtcEvent("late", "busy", "2026-12-07T13:00:00", "2026-12-07T14:00:00")}) {
    ASSERT_EQ(Graph("POST", "/me/events", token, event).status, 201);
  }
  const HttpResponse response = Graph("POST", "/me/calendar/getSchedule", token,
                                      ScheduleBody({"megan@contoso.com", "nobody@contoso.com"},
                                                   "2026-12-07T09:00:00", "2026-12-07T13:00:00"));
  ASSERT_EQ(response.status, 200) << response.body;
  const Json value = Json::parse(response.body)["value"];
  ASSERT_EQ(value.size(), 2u);
  EXPECT_EQ(value[0]["scheduleId"], "megan@contoso.com");
  // 09:00 A, 09:30 A+B, 10:00 B, 10:30 -, 11:00 C over D, 11:30 D, 12:00 free E, 12:30 F.
  EXPECT_EQ(value[0]["availabilityView"], "22103402");
  const Json items = value[0]["scheduleItems"];
  ASSERT_EQ(items.size(), 6u) << items.dump(1);
  EXPECT_EQ(items[0],
            Json({{"isPrivate", false},
                  {"status", "busy"},
                  {"subject", "G"},
                  {"location", "Room G"},
                  {"start", {{"dateTime", "2026-12-07T08:00:00.0000000"}, {"timeZone", "UTC"}}},
                  {"end", {{"dateTime", "2026-12-07T09:05:00.0000000"}, {"timeZone", "UTC"}}}}));
  std::vector<std::string> statuses;
  for (const Json& item : items) statuses.push_back(item["status"]);
  EXPECT_EQ(statuses, (std::vector<std::string>{"busy", "busy", "tentative", "oof",
                                                "workingElsewhere", "busy"}));
  EXPECT_EQ(value[0]["workingHours"]["daysOfWeek"].size(), 5u);
  EXPECT_EQ(value[0]["workingHours"]["timeZone"]["name"], "UTC");
  EXPECT_EQ(value[1], Json({{"scheduleId", "nobody@contoso.com"},
                            {"error",
                             {{"message", "The SMTP address has no mailbox associated with it."},
                              {"responseCode", "ErrorMailRecipientNotFound"}}}}));

  // The window in a Windows zone, the interval as a string, the users/{upn} path and the
  // lower-case spelling give the same view.
  const HttpResponse windows =
      Graph("POST", "/users/megan@contoso.com/calendar/getschedule", Token({"Calendars.Read"}),
            ScheduleBody({"Megan@Contoso.com"}, "2026-12-07T10:00:00", "2026-12-07T14:00:00", "30",
                         "W. Europe Standard Time"));
  ASSERT_EQ(windows.status, 200) << windows.body;
  EXPECT_EQ(Json::parse(windows.body)["value"][0]["availabilityView"], "22103402");

  // A window that is not a whole number of intervals ends with a partial one.
  const Json partial = Json::parse(
      Graph("POST", "/me/calendar/getSchedule", token,
            ScheduleBody({"megan@contoso.com"}, "2026-12-07T09:00:00", "2026-12-07T10:10:00", 60))
          .body);
  EXPECT_EQ(partial["value"][0]["availabilityView"], "21");
}

TEST_F(MicrosoftSandboxTest, GetScheduleExpandsSeriesAndHonoursPreferTimeZone) {
  const std::string token = Token();
  Json series = UtcEvent("Daily", "busy", "2026-12-08T10:00:00", "2026-12-08T11:00:00");
  series["recurrence"] = {
      {"pattern", {{"type", "daily"}, {"interval", 1}}},
      {"range", {{"type", "numbered"}, {"startDate", "2026-12-08"}, {"numberOfOccurrences", 3}}}};
  ASSERT_EQ(Graph("POST", "/me/events", token, series).status, 201);
  const Json view = Json::parse(
      Graph("GET",
            "/me/calendarView?startDateTime=2026-12-08T00:00:00Z&endDateTime=2026-12-11T00:00:00Z",
            token)
          .body);
  ASSERT_EQ(view["value"].size(), 3u) << view.dump();
  EXPECT_EQ(
      Graph("DELETE", "/me/events/" + view["value"][1]["id"].get<std::string>(), token).status,
      204);
  ASSERT_EQ(Graph("PATCH", "/me/events/" + view["value"][2]["id"].get<std::string>(), token,
                  {{"showAs", "tentative"}})
                .status,
            200);
  const Json body =
      ScheduleBody({"megan@contoso.com"}, "2026-12-08T00:00:00", "2026-12-11T00:00:00", 1440);
  const Json utc = Json::parse(Graph("POST", "/me/calendar/getSchedule", token, body).body);
  EXPECT_EQ(utc["value"][0]["availabilityView"], "201");
  ASSERT_EQ(utc["value"][0]["scheduleItems"].size(), 2u);

  const HttpResponse pacific = Graph("POST", "/me/calendar/getSchedule", token, body,
                                     {{"Prefer", "outlook.timezone=\"Pacific Standard Time\""}});
  ASSERT_EQ(pacific.status, 200) << pacific.body;
  EXPECT_EQ(pacific.Header("Preference-Applied").value_or(""),
            "outlook.timezone=\"Pacific Standard Time\"");
  const Json item = Json::parse(pacific.body)["value"][0]["scheduleItems"][0];
  EXPECT_EQ(item["start"], Json({{"dateTime", "2026-12-08T02:00:00.0000000"},
                                 {"timeZone", "Pacific Standard Time"}}));
  const Json zurich = Json::parse(Graph("POST", "/me/calendar/getSchedule", token, body,
                                        {{"Prefer", "outlook.timezone=\"Europe/Zurich\""}})
                                      .body)["value"][0]["scheduleItems"][1];
  EXPECT_EQ(zurich["status"], "tentative");
  EXPECT_EQ(zurich["end"],
            Json({{"dateTime", "2026-12-10T12:00:00.0000000"}, {"timeZone", "Europe/Zurich"}}));
}

TEST_F(MicrosoftSandboxTest, GetScheduleRefusesBadRequests) {
  const std::string token = Token();
  auto code = [&](const std::string& body) {
    sb::net::HttpRequest request;
    request.method = "POST";
    request.url = origin_->base_url() + "/v1.0/me/calendar/getSchedule";
    request.body = body;
    request.headers = {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
    const auto response = http_->Send(request);
    EXPECT_TRUE(response.ok());
    if (!response.ok()) return std::string();
    EXPECT_EQ(response->status, 400) << body << " -> " << response->body;
    const Json json = Json::parse(response->body, nullptr, false);
    return json.is_object() && json.contains("error") ? json["error"].value("code", "")
                                                      : std::string("no error body");
  };
  const std::string start = "2026-12-07T09:00:00";
  const std::string end = "2026-12-07T10:00:00";
  auto with = [&](const char* key, Json value) {
    Json body = ScheduleBody({"megan@contoso.com"}, start, end);
    body[key] = std::move(value);
    return body.dump();
  };
  EXPECT_EQ(code("not json"), "RequestBodyRead");
  EXPECT_EQ(code("[]"), "RequestBodyRead");
  EXPECT_EQ(code(""), "RequestBodyRead");
  EXPECT_EQ(code("{}"), "ErrorInvalidParameter");
  EXPECT_EQ(code(with("schedules", "megan@contoso.com")), "ErrorInvalidParameter");
  EXPECT_EQ(code(with("schedules", Json::array())), "ErrorInvalidParameter");
  EXPECT_EQ(code(with("schedules", {1})), "ErrorInvalidParameter");
  EXPECT_EQ(code(with("startTime", "2026-12-07T09:00:00")), "ErrorInvalidParameter");
  EXPECT_EQ(code(with("startTime", {{"dateTime", 5}})), "ErrorInvalidParameter");
  EXPECT_EQ(code(with("startTime", {{"dateTime", start}, {"timeZone", "Mars"}})),
            "ErrorInvalidParameter");
  EXPECT_EQ(code(with("endTime", {{"dateTime", start}, {"timeZone", "UTC"}})),
            "ErrorInvalidParameter");
  EXPECT_EQ(code(with("endTime", {{"dateTime", "2026-12-07T08:00:00"}})), "ErrorInvalidParameter");
  EXPECT_EQ(code(with("endTime", {{"dateTime", "2027-02-08T09:00:00"}})), "ErrorInvalidParameter");
  for (const Json& interval : {Json(4), Json(1441), Json("abc"), Json(30.5), Json(true)}) {
    EXPECT_EQ(code(with("availabilityViewInterval", interval)), "ErrorInvalidParameter")
        << interval.dump();
  }
  std::vector<std::string> many(21, "megan@contoso.com");
  EXPECT_EQ(code(ScheduleBody(many, start, end).dump()), "ErrorInvalidParameter");
  many.resize(20);
  const HttpResponse twenty =
      Graph("POST", "/me/calendar/getSchedule", token, ScheduleBody(many, start, end, 5));
  ASSERT_EQ(twenty.status, 200) << twenty.body;
  EXPECT_EQ(Json::parse(twenty.body)["value"].size(), 20u);
  EXPECT_EQ(Json::parse(twenty.body)["value"][19]["availabilityView"], "000000000000");

  // Authentication and scopes as the other calendar routes; fault rules apply.
  const Json ok = ScheduleBody({"megan@contoso.com"}, start, end);
  EXPECT_EQ(Graph("POST", "/me/calendar/getSchedule", "nope", ok).status, 401);
  EXPECT_EQ(Graph("POST", "/me/calendar/getSchedule", Token({"User.Read"}), ok).status, 403);
  EXPECT_EQ(Graph("POST", "/users/someone-else@contoso.com/calendar/getSchedule", token, ok).status,
            403);
  ASSERT_EQ(Send("POST", "/_sandbox/faults",
                 Json{{"path", "/v1.0/me/calendar/getSchedule"}, {"status", 503}}.dump())
                .status,
            201);
  EXPECT_EQ(Graph("POST", "/me/calendar/getSchedule", token, ok).status, 503);
  EXPECT_EQ(Graph("POST", "/me/calendar/getSchedule", token, ok).status, 200);
}

}  // namespace
}  // namespace sandbox::microsoft
