// The keyed origin over real HTTP: for every provider, registration through the control route,
// the verification route with the right, wrong and no credentials (the provider's own 401
// body), the list route, isolation between accounts, a request log free of secrets, and reset;
// then the control route's refusals, unknown routes and faults.
#include "sandbox/keyed/keyed.h"

#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sb/base/encoding.h"
#include "sb/net/curl_http_client.h"

namespace sandbox::keyed {
namespace {

using sb::Json;
using sb::net::HttpResponse;
using ::testing::HasSubstr;
using ::testing::Not;

// Where a provider's credentials travel: headers, or (Trello) the query.
struct Wire {
  sb::net::HeaderList headers;
  std::string query;  // "key=..&token=..", Trello only
};

// Credential set `n` of `provider`: distinct per n, secrets recognisable in the request log.
Json Credentials(const std::string& provider, int n) {
  const std::string tag = "sekret" + provider + std::to_string(n);
  if (provider == "twilio") {
    return {{"account_sid", "AC0000000000000000000000000000000" + std::to_string(n)},
            {"auth_token", tag + "0123456789abcdef"}};
  }
  if (provider == "stripe") return {{"api_key", "sk_test_" + tag + "XYZW1234"}};
  if (provider == "postmark") return {{"server_token", tag + "-postmark"}};
  if (provider == "trello") return {{"api_key", tag + "key"}, {"token", "ATTA" + tag}};
  if (provider == "gohighlevel") {
    return {{"location_id", "Location" + std::to_string(n)}, {"api_key", "pit-" + tag}};
  }
  return {{"api_key", tag}};  // sendgrid, retell
}

// The field a wrong credential set gets wrong (Trello's key is wrong in its own test).
std::string SecretField(const std::string& provider) {
  if (provider == "twilio") return "auth_token";
  if (provider == "postmark") return "server_token";
  if (provider == "trello") return "token";
  return "api_key";
}

Json Wrong(const std::string& provider, Json credentials) {
  const std::string field = SecretField(provider);
  credentials[field] = credentials[field].get<std::string>() + "x";
  return credentials;
}

Wire WireFor(const std::string& provider, const Json& c) {
  auto get = [&](const char* field) { return c.value(field, std::string()); };
  if (provider == "twilio") {
    return {{{"Authorization",
              "Basic " + sb::Base64Encode(get("account_sid") + ":" + get("auth_token"))}}};
  }
  if (provider == "postmark") return {{{"X-Postmark-Server-Token", get("server_token")}}};
  if (provider == "trello") {
    return {{}, sb::FormEncode({{"key", get("api_key")}, {"token", get("token")}})};
  }
  Wire wire{{{"Authorization", "Bearer " + get("api_key")}}};
  if (provider == "gohighlevel") wire.headers.emplace_back("Version", "2021-07-28");
  return wire;
}

// The verification route (the account's identity) and the list route of `account`.
std::string VerifyPath(const std::string& provider, const Json& account) {
  const std::string id = account["id"];
  if (provider == "twilio") return "/twilio/2010-04-01/Accounts/" + id + ".json";
  if (provider == "stripe") return "/stripe/v1/account";
  if (provider == "sendgrid") return "/sendgrid/v3/user/username";
  if (provider == "postmark") return "/postmark/server";
  if (provider == "trello") return "/trello/1/members/me";
  if (provider == "gohighlevel") return "/gohighlevel/locations/" + id;
  return "/retell/list-agents";
}

std::string ListPath(const std::string& provider, const Json& account) {
  const std::string id = account["id"];
  if (provider == "twilio") return "/twilio/2010-04-01/Accounts/" + id + "/Messages.json";
  if (provider == "stripe") return "/stripe/v1/customers";
  if (provider == "sendgrid") return "/sendgrid/v3/user/profile";
  if (provider == "postmark") return "/postmark/messages/outbound?count=50&offset=0";
  if (provider == "trello") return "/trello/1/members/me/boards";
  if (provider == "gohighlevel") return "/gohighlevel/contacts/?locationId=" + id;
  return "/retell/list-agents";
}

// The identity the verification route answered, as the control route's account id.
std::string AnsweredId(const std::string& provider, const Json& body) {
  if (provider == "twilio") return body.value("sid", "");
  if (provider == "sendgrid") return body["user_id"].dump();
  if (provider == "postmark") return body["ID"].dump();
  if (provider == "gohighlevel") return body["location"].value("id", "");
  if (provider == "retell") return body.is_array() && !body.empty() ? "agents" : "";
  return body.value("id", "");
}

// A text the provider's 401 for wrong (or missing) credentials contains.
std::string UnauthorizedText(const std::string& provider, bool missing) {
  if (provider == "twilio") return "\"code\":20003";
  if (provider == "stripe") {
    return missing ? "You did not provide an API key" : "Invalid API Key provided: sk_test_****";
  }
  if (provider == "sendgrid") return "authorization required";
  if (provider == "postmark") return "\"ErrorCode\":10";
  if (provider == "trello") return missing ? "invalid key" : "invalid token";
  if (provider == "gohighlevel") return "Invalid Private Integration token";
  return "Invalid API key";
}

const std::vector<std::string> kProviders = {"twilio", "stripe",      "sendgrid", "postmark",
                                             "trello", "gohighlevel", "retell"};

class KeyedSandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    OriginOptions options;
    options.name = "keyed";
    origin_ = std::make_unique<Origin>(options, clock_, DefaultSettings(), FaultResponse);
    keyed_ = std::make_unique<KeyedSandbox>(*origin_, random_);
    keyed_->Register();
    ASSERT_TRUE(origin_->Start().ok());
  }
  void TearDown() override { origin_->Stop(); }

  HttpResponse Send(std::string method, std::string path, std::string body = "",
                    sb::net::HeaderList headers = {}) {
    sb::net::HttpRequest request;
    request.method = std::move(method);
    request.url = origin_->base_url() + path;
    request.body = std::move(body);
    request.headers = std::move(headers);
    if (!request.body.empty()) request.headers.emplace_back("Content-Type", "application/json");
    auto response = http_.Send(request);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return response.ok() ? *response : HttpResponse{};
  }
  // GET `path` carrying `credentials` as `provider` expects them (none when null).
  HttpResponse Get(const std::string& provider, std::string path, const Json& credentials) {
    if (credentials.is_null()) return Send("GET", path);
    Wire wire = WireFor(provider, credentials);
    if (!wire.query.empty()) path += (path.find('?') == std::string::npos ? "?" : "&") + wire.query;
    return Send("GET", path, "", wire.headers);
  }
  HttpResponse Register(const Json& body) {
    return Send("POST", "/_sandbox/keyed/accounts", body.dump());
  }
  Json RegisterOk(const std::string& provider, const Json& credentials) {
    const HttpResponse response = Register({{"provider", provider}, {"credentials", credentials}});
    EXPECT_EQ(response.status, 201) << response.body;
    return Json::parse(response.body, nullptr, false);
  }

  sb::SystemClock clock_;
  sb::SystemRandom random_;
  sb::net::CurlHttpClient http_;
  std::unique_ptr<Origin> origin_;
  std::unique_ptr<KeyedSandbox> keyed_;
};

TEST_F(KeyedSandboxTest, EveryProviderVerifiesListsIsolatesAndRefusesBadCredentials) {
  for (const std::string& provider : kProviders) {
    SCOPED_TRACE(provider);
    const Json a_credentials = Credentials(provider, 1);
    const Json b_credentials = Credentials(provider, 2);
    const Json a = RegisterOk(provider, a_credentials);
    const Json b = RegisterOk(provider, b_credentials);
    EXPECT_EQ(a["provider"], provider);
    EXPECT_NE(a["id"], b["id"]);
    for (const auto& [field, value] : a_credentials.items()) {
      if (field != "account_sid" && field != "location_id") {
        EXPECT_THAT(a.dump(), Not(HasSubstr(value.get<std::string>())));
      }
    }

    const HttpResponse verified = Get(provider, VerifyPath(provider, a), a_credentials);
    ASSERT_EQ(verified.status, 200) << verified.body;
    const Json identity = Json::parse(verified.body);
    if (provider != "retell") {
      EXPECT_EQ(AnsweredId(provider, identity), a["id"].get<std::string>());
    }
    EXPECT_EQ(AnsweredId(provider, identity).empty(), false);

    const HttpResponse wrong =
        Get(provider, VerifyPath(provider, a), Wrong(provider, a_credentials));
    EXPECT_EQ(wrong.status, 401);
    EXPECT_THAT(wrong.body, HasSubstr(UnauthorizedText(provider, false)));
    const HttpResponse none = Get(provider, VerifyPath(provider, a), nullptr);
    EXPECT_EQ(none.status, 401);
    EXPECT_THAT(none.body, HasSubstr(UnauthorizedText(provider, true)));
    const std::string wrong_secret = Wrong(provider, a_credentials)[SecretField(provider)];
    EXPECT_THAT(wrong.body, Not(HasSubstr(wrong_secret)));

    const HttpResponse a_list = Get(provider, ListPath(provider, a), a_credentials);
    const HttpResponse b_list = Get(provider, ListPath(provider, b), b_credentials);
    ASSERT_EQ(a_list.status, 200) << a_list.body;
    ASSERT_EQ(b_list.status, 200) << b_list.body;
    EXPECT_NE(a_list.body, b_list.body);
    // The same account's list again: deterministic.
    EXPECT_EQ(Get(provider, ListPath(provider, a), a_credentials).body, a_list.body);
    // A's credentials on B's list route: never B's items.
    const HttpResponse crossed = Get(provider, ListPath(provider, b), a_credentials);
    EXPECT_NE(crossed.body, b_list.body);
    if (provider == "twilio" || provider == "gohighlevel") {
      EXPECT_EQ(crossed.status, provider == "twilio" ? 404 : 403) << crossed.body;
      EXPECT_EQ(Get(provider, VerifyPath(provider, b), a_credentials).status, crossed.status);
    }
  }

  const std::string log = Send("GET", "/_sandbox/requests").body;
  EXPECT_THAT(log, HasSubstr("Bearer [redacted]"));
  EXPECT_THAT(log, HasSubstr("Basic [redacted]"));
  for (const std::string& provider : kProviders) {
    for (int n : {1, 2}) {
      const Json credentials = Credentials(provider, n);
      for (const auto& [field, value] : credentials.items()) {
        if (field == "account_sid" || field == "location_id") continue;  // ids, in paths
        EXPECT_THAT(log, Not(HasSubstr(value.get<std::string>()))) << provider << " " << field;
      }
    }
  }

  ASSERT_EQ(Send("POST", "/_sandbox/reset").status, 204);
  EXPECT_EQ(Json::parse(Send("GET", "/_sandbox/keyed/accounts").body)["accounts"].size(), 0u);
  for (const std::string& provider : kProviders) {
    const Json credentials = Credentials(provider, 1);
    const Json a = {{"id", credentials.value("account_sid", credentials.value("location_id", ""))}};
    EXPECT_EQ(Get(provider, VerifyPath(provider, a), Credentials(provider, 1)).status, 401)
        << provider;
  }
}

TEST_F(KeyedSandboxTest, ListsAccountsWithoutSecretsAndGeneratesProviderLookingIds) {
  for (const std::string& provider : kProviders) RegisterOk(provider, Credentials(provider, 1));
  const Json accounts = Json::parse(Send("GET", "/_sandbox/keyed/accounts").body)["accounts"];
  ASSERT_EQ(accounts.size(), kProviders.size());
  for (const std::string& provider : kProviders) {
    const Json credentials = Credentials(provider, 1);
    for (const auto& [field, value] : credentials.items()) {
      if (field == "account_sid" || field == "location_id") continue;
      EXPECT_THAT(accounts.dump(), Not(HasSubstr(value.get<std::string>())));
    }
  }
  auto id_of = [&](const std::string& provider) {
    for (const Json& account : accounts) {
      if (account["provider"] == provider) return account["id"].get<std::string>();
    }
    return std::string();
  };
  EXPECT_THAT(id_of("stripe"), ::testing::MatchesRegex("acct_[A-Za-z0-9]{16}"));
  EXPECT_THAT(id_of("trello"), ::testing::MatchesRegex("[0-9a-f]{24}"));
  EXPECT_THAT(id_of("postmark"), ::testing::MatchesRegex("[0-9]+"));
  EXPECT_THAT(id_of("sendgrid"), ::testing::MatchesRegex("[0-9]+"));
  EXPECT_EQ(id_of("twilio"), Credentials("twilio", 1)["account_sid"]);
  EXPECT_EQ(id_of("gohighlevel"), "Location1");

  // Identity overrides show in the verification answers.
  const Json custom =
      Json::parse(Register({{"provider", "trello"},
                            {"credentials", Credentials("trello", 3)},
                            {"account", {{"name", "Ada Lovelace"}, {"username", "ada"}}}})
                      .body);
  const Json me = Json::parse(Get("trello", "/trello/1/members/me", Credentials("trello", 3)).body);
  EXPECT_EQ(me["fullName"], "Ada Lovelace");
  EXPECT_EQ(me["username"], "ada");
  EXPECT_EQ(me["id"], custom["id"]);
}

TEST_F(KeyedSandboxTest, ControlRouteRefusesBadRegistrations) {
  auto refused = [&](const Json& body, int status, const std::string& text) {
    const HttpResponse response = Register(body);
    EXPECT_EQ(response.status, status) << body.dump() << " -> " << response.body;
    EXPECT_THAT(response.body, HasSubstr(text)) << body.dump();
  };
  const Json good = Credentials("stripe", 1);
  refused({{"provider", "paypal"}, {"credentials", good}}, 400, "one of twilio, stripe");
  refused({{"provider", 7}, {"credentials", good}}, 400, "\\\"provider\\\" must be one of");
  refused({{"provider", "stripe"}}, 400, "\\\"credentials\\\" must be an object");
  refused({{"provider", "stripe"}, {"credentials", {{"api_key", 5}}}}, 400, "must be a string");
  refused({{"provider", "stripe"}, {"credentials", {{"api_key", "k"}, {"secret", "s"}}}}, 400,
          "unknown credential field \\\"secret\\\"");
  refused({{"provider", "twilio"}, {"credentials", {{"account_sid", "AC1"}}}}, 400,
          "missing credential field \\\"auth_token\\\"");
  refused({{"provider", "stripe"}, {"credentials", {{"api_key", std::string(4097, 'k')}}}}, 400,
          "1..4096 bytes");
  refused({{"provider", "stripe"}, {"credentials", {{"api_key", "has space"}}}}, 400,
          "printable ASCII");
  refused({{"provider", "twilio"}, {"credentials", {{"account_sid", "AC/1"}, {"auth_token", "t"}}}},
          400, "letters, digits");
  refused({{"provider", "stripe"}, {"credentials", good}, {"account", "x"}}, 400,
          "\\\"account\\\" must be an object");
  refused({{"provider", "stripe"}, {"credentials", good}, {"account", {{"name", 3}}}}, 400,
          "must be a string");
  refused({{"provider", "stripe"}, {"credentials", good}, {"account", {{"role", "x"}}}}, 400,
          "unknown account key");
  refused({{"provider", "stripe"}, {"credentials", good}, {"extra", 1}}, 400, "unknown key");
  refused({{"provider", "twilio"},
           {"credentials", Credentials("twilio", 1)},
           {"account", {{"id", "ACother"}}}},
          400, "account id is its \\\"account_sid\\\"");
  EXPECT_EQ(Send("POST", "/_sandbox/keyed/accounts", "not json").status, 400);
  EXPECT_EQ(Send("POST", "/_sandbox/keyed/accounts", "[1,2]").status, 400);
  EXPECT_EQ(Send("POST", "/_sandbox/keyed/accounts", std::string(70'000, ' ')).status, 413);
  RegisterOk("stripe", good);
  refused({{"provider", "stripe"}, {"credentials", good}}, 409, "already registered");
  // The refused secrets are never echoed.
  EXPECT_THAT(Register({{"provider", "stripe"}, {"credentials", good}}).body,
              Not(HasSubstr(good["api_key"].get<std::string>())));
}

TEST_F(KeyedSandboxTest, UnknownRoutesAnswerInTheProvidersStyle) {
  EXPECT_THAT(Send("GET", "/twilio/2010-04-01/Nope.json").body, HasSubstr("\"code\":20404"));
  EXPECT_THAT(Send("GET", "/stripe/v1/nope").body,
              HasSubstr("Unrecognized request URL (GET: /v1/nope)"));
  EXPECT_THAT(Send("POST", "/stripe/v1/account").body, HasSubstr("Unrecognized request URL"));
  EXPECT_THAT(Send("GET", "/sendgrid/v3/nope").body, HasSubstr("resource not found"));
  EXPECT_THAT(Send("GET", "/postmark/nope").body, HasSubstr("\"ErrorCode\""));
  const HttpResponse trello = Send("GET", "/trello/1/nope");
  EXPECT_EQ(trello.status, 404);
  EXPECT_EQ(trello.body, "Cannot GET /1/nope");
  EXPECT_THAT(Send("DELETE", "/gohighlevel/x").body, HasSubstr("\"statusCode\":404"));
  EXPECT_THAT(Send("GET", "/retell/v2/nope").body, HasSubstr("\"status\":\"error\""));
}

TEST_F(KeyedSandboxTest, ProviderSpecificRules) {
  const Json ghl = Credentials("gohighlevel", 1);
  RegisterOk("gohighlevel", ghl);
  sb::net::HeaderList no_version = {
      {"Authorization", "Bearer " + ghl["api_key"].get<std::string>()}};
  const HttpResponse versionless = Send("GET", "/gohighlevel/locations/Location1", "", no_version);
  EXPECT_EQ(versionless.status, 400);
  EXPECT_THAT(versionless.body, HasSubstr("Version header was not found"));
  EXPECT_EQ(Get("gohighlevel", "/gohighlevel/contacts?locationId=Location1", ghl).status, 200);
  EXPECT_EQ(Get("gohighlevel", "/gohighlevel/contacts/", ghl).status, 422);

  const Json postmark = Credentials("postmark", 1);
  RegisterOk("postmark", postmark);
  for (const char* query : {"", "?count=0", "?count=501", "?count=x", "?count=5&offset=-1"}) {
    const HttpResponse response =
        Get("postmark", std::string("/postmark/messages/outbound") + query, postmark);
    EXPECT_EQ(response.status, 422) << query;
    EXPECT_THAT(response.body, HasSubstr("\"ErrorCode\"")) << query;
  }
  const Json page =
      Json::parse(Get("postmark", "/postmark/messages/outbound?count=2&offset=1", postmark).body);
  EXPECT_EQ(page["Messages"].size(), 2u);
  EXPECT_GT(page["TotalCount"].get<int>(), 2);
  EXPECT_EQ(Json::parse(Get("postmark", "/postmark/server", postmark).body)["ApiTokens"],
            Json::array());

  // Stripe: Basic with the key as user name; a bad key is shown masked.
  const Json stripe = Credentials("stripe", 1);
  RegisterOk("stripe", stripe);
  const std::string key = stripe["api_key"];
  EXPECT_EQ(Send("GET", "/stripe/v1/account", "",
                 {{"Authorization", "Basic " + sb::Base64Encode(key + ":")}})
                .status,
            200);
  const HttpResponse bad = Get("stripe", "/stripe/v1/account", {{"api_key", key + "QRST"}});
  EXPECT_THAT(bad.body, HasSubstr("sk_test_****QRST"));
  EXPECT_THAT(bad.body, Not(HasSubstr(key)));
  EXPECT_EQ(Json::parse(Get("stripe", "/stripe/v1/customers?limit=1", stripe).body)["has_more"],
            true);
  EXPECT_EQ(Get("stripe", "/stripe/v1/customers?limit=0", stripe).status, 400);

  // Trello: a good key with a wrong token.
  const Json trello = Credentials("trello", 1);
  RegisterOk("trello", trello);
  Json wrong_token = trello;
  wrong_token["token"] = "ATTAother";
  const HttpResponse refused = Get("trello", "/trello/1/members/me", wrong_token);
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(refused.body, "invalid token");
  EXPECT_THAT(std::string(refused.Header("Content-Type").value_or("")), HasSubstr("text/plain"));
}

TEST_F(KeyedSandboxTest, FaultsAnswerWithAPlainJsonError) {
  const Json stripe = Credentials("stripe", 1);
  RegisterOk("stripe", stripe);
  ASSERT_EQ(
      Send("POST", "/_sandbox/faults",
           Json{{"path", "/stripe/v1/account"}, {"kind", "rate_limit"}, {"retry_after", 2}}.dump())
          .status,
      201);
  const HttpResponse limited = Get("stripe", "/stripe/v1/account", stripe);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(Json::parse(limited.body)["error"]["status"], 429);
  EXPECT_EQ(limited.Header("Retry-After").value_or(""), "2");
  EXPECT_EQ(Get("stripe", "/stripe/v1/account", stripe).status, 200);
}

TEST_F(KeyedSandboxTest, DemoCredentialsVerify) {
  ASSERT_TRUE(keyed_->AddDemoAccounts().ok());
  EXPECT_FALSE(keyed_->AddDemoAccounts().ok());
  const Json twilio = DemoRegistrations()[0]["credentials"];
  EXPECT_EQ(twilio["account_sid"].get<std::string>().size(), 34u);
  const HttpResponse response = Get(
      "twilio", "/twilio/2010-04-01/Accounts/" + twilio["account_sid"].get<std::string>() + ".json",
      twilio);
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(Json::parse(response.body)["friendly_name"], "Demo User");
}

}  // namespace
}  // namespace sandbox::keyed
