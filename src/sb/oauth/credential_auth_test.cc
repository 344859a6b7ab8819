#include "sb/oauth/credential_auth.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sb/base/encoding.h"
#include "sb/oauth/catalog.h"

namespace sb::oauth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

Json Parse(const char* text) { return Json::parse(text); }

// Twilio's shape: two fields, one of them not secret, placed with HTTP basic, the account in
// the verification path.
constexpr const char* kTwilio = R"({
  "mode": "fields",
  "fields": [
    {"name": "account_sid", "label": "Account SID", "secret": false, "prefix": "AC"},
    {"name": "auth_token", "label": "Auth Token"}
  ],
  "basic": {"username": "{account_sid}", "password": "{auth_token}"},
  "verify": {"path": "2010-04-01/Accounts/{account_sid}.json", "account_id": "/sid",
             "account_name": "/friendly_name"}
})";

CredentialAuth Twilio() {
  Result<CredentialAuth> auth = ParseCredentialAuth(Parse(kTwilio));
  EXPECT_TRUE(auth.ok()) << auth.status().ToString();
  return auth.ok() ? std::move(*auth) : CredentialAuth();
}

TEST(CredentialAuthTest, ParsesFieldsPlacementAndVerification) {
  const CredentialAuth auth = Twilio();
  EXPECT_EQ(auth.mode, CredentialMode::kFields);
  ASSERT_EQ(auth.fields.size(), 2u);
  EXPECT_FALSE(auth.fields[0].secret);
  EXPECT_TRUE(auth.fields[1].secret);  // the default
  EXPECT_EQ(auth.fields[0].prefix, "AC");
  ASSERT_TRUE(auth.basic.has_value());
  EXPECT_EQ(auth.verify.method, "GET");
  EXPECT_EQ(auth.verify.account_id, "/sid");
}

TEST(CredentialAuthTest, RefusesEntriesThatCouldMisplaceOrLoseCredentials) {
  const struct {
    const char* json;
    const char* error;
  } cases[] = {
      {R"({"mode": "oauth", "fields": [{"name": "k", "label": "K"}],
           "headers": {"X": "{k}"}, "verify": {"path": "me"}})",
       "auth.mode"},
      {R"({"mode": "api_key", "fields": [{"name": "k", "label": "K"}],
           "headers": {"X": "{other}"}, "verify": {"path": "me"}})",
       "names no field {other}"},
      {R"({"mode": "api_key", "fields": [{"name": "k", "label": "K"}, {"name": "j", "label": "J"}],
           "headers": {"X": "{k}"}, "verify": {"path": "me"}})",
       "exactly one secret field"},
      {R"({"mode": "api_key", "fields": [{"name": "k", "label": "K"}],
           "verify": {"path": "me"}})",
       "places the credentials nowhere"},
      {R"({"mode": "basic", "fields": [{"name": "k", "label": "K"}],
           "headers": {"X": "{k}"}, "verify": {"path": "me"}})",
       "auth.basic"},
      {R"({"mode": "fields", "fields": [{"name": "k", "label": "K", "secret": false}],
           "headers": {"X": "{k}"}, "verify": {"path": "me"}})",
       "at least one secret"},
      {R"({"mode": "api_key", "fields": [{"name": "k", "label": "K"}],
           "headers": {"X": "{k}"}, "verify": {"path": "/abs"}})",
       "auth.verify.path"},
      {R"({"mode": "api_key", "fields": [{"name": "k", "label": "K"}],
           "headers": {"X": "{k}"}, "verify": {"path": "../up"}})",
       "auth.verify.path"},
      {R"({"mode": "api_key", "fields": [{"name": "k", "label": "K"}],
           "headers": {"X: y": "{k}"}, "verify": {"path": "me"}})",
       "not a header"},
      {R"({"mode": "api_key", "fields": [{"name": "k", "label": "K"}],
           "headers": {"X": "{k}"}})",
       "auth.verify"},
      {R"({"mode": "api_key", "fields": [{"name": "K!", "label": "K"}],
           "headers": {"X": "{K!}"}, "verify": {"path": "me"}})",
       "[a-z0-9_]"},
      {R"({"mode": "fields", "fields": [{"name": "k", "label": "K"}, {"name": "k", "label": "L"}],
           "headers": {"X": "{k}"}, "verify": {"path": "me"}})",
       "used twice"},
      {R"({"mode": "api_key", "fields": [{"name": "k", "label": "K"}],
           "headers": {"X": "{k}"}, "verify": {"path": "me", "account_id": "no-slash"}})",
       "JSON pointer"},
      {R"({"mode": "api_key", "fields": [{"name": "k", "label": "K", "colour": "red"}],
           "headers": {"X": "{k}"}, "verify": {"path": "me"}})",
       "unknown member"},
  };
  for (const auto& c : cases) {
    Result<CredentialAuth> auth = ParseCredentialAuth(Parse(c.json));
    ASSERT_FALSE(auth.ok()) << c.json;
    EXPECT_THAT(auth.status().message(), HasSubstr(c.error)) << c.json;
  }
}

TEST(CredentialAuthTest, ValuesAreCheckedWithoutEverNamingThem) {
  const CredentialAuth auth = Twilio();
  const std::string token = "0123456789abcdef0123456789abcdef";
  EXPECT_TRUE(CheckCredentialValues(auth, {{"account_sid", "AC42"}, {"auth_token", token}}).ok());
  const CredentialValues bad[] = {
      {{"account_sid", "AC42"}},                                           // missing
      {{"account_sid", "AC42"}, {"auth_token", ""}},                       // empty
      {{"account_sid", "XX42"}, {"auth_token", token}},                    // prefix
      {{"account_sid", "AC42"}, {"auth_token", token + "\r\nX-Evil: 1"}},  // header injection
      {{"account_sid", "AC42"}, {"auth_token", std::string(4097, 'a')}},   // too long
      {{"account_sid", "AC42"}, {"auth_token", " " + token}},              // stray space
      {{"account_sid", "AC42"}, {"auth_token", token}, {"extra", "x"}},    // unknown field
  };
  for (const CredentialValues& values : bad) {
    Status status = CheckCredentialValues(auth, values);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), Not(HasSubstr(token)));
  }
}

TEST(CredentialAuthTest, PlacesCredentialsInHeadersBasicAndQuery) {
  const CredentialAuth twilio = Twilio();
  Result<net::HttpRequest> request = VerificationRequest(
      twilio, "https://api.twilio.com", {{"account_sid", "AC1/2"}, {"auth_token", "t:k"}});
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  // Path values are percent-encoded: a '/' in a value cannot reach another resource.
  EXPECT_EQ(request->url, "https://api.twilio.com/2010-04-01/Accounts/AC1%2F2.json");
  EXPECT_THAT(request->headers,
              testing::Contains(Pair("Authorization", "Basic " + Base64Encode("AC1/2:t:k"))));

  Result<CredentialAuth> trello = ParseCredentialAuth(Parse(R"({
    "mode": "fields",
    "fields": [{"name": "api_key", "label": "Key", "secret": false}, {"name": "token", "label": "T"}],
    "query": {"key": "{api_key}", "token": "{token}"},
    "verify": {"path": "1/members/me", "account_id": "/id"}})"));
  ASSERT_TRUE(trello.ok()) << trello.status().ToString();
  net::HttpRequest call{.url = "https://api.trello.com/1/boards?fields=name#x"};
  ASSERT_TRUE(ApplyCredentials(*trello, {{"api_key", "k&token=x"}, {"token", "t t"}}, call).ok());
  EXPECT_EQ(call.url, "https://api.trello.com/1/boards?fields=name&key=k%26token%3Dx&token=t%20t");
}

TEST(CredentialAuthTest, VerificationNamesTheAccountOrSaysWhyNot) {
  const CredentialAuth auth = Twilio();
  const CredentialValues values{{"account_sid", "AC42"}, {"auth_token", "secret"}};
  auto read = [&](int status, std::string body) {
    return ReadVerification(auth, "twilio", values,
                            net::HttpResponse{.status = status, .body = body});
  };
  Verification ok = read(200, R"({"sid": "AC42", "friendly_name": "Main", "status": "active"})");
  EXPECT_EQ(ok.outcome, VerificationOutcome::kVerified);
  EXPECT_EQ(ok.account.id, "AC42");
  EXPECT_EQ(ok.account.name, "Main");
  EXPECT_EQ(read(401, "{}").outcome, VerificationOutcome::kRejected);
  EXPECT_EQ(read(403, "{}").outcome, VerificationOutcome::kRejected);
  EXPECT_EQ(read(429, "").outcome, VerificationOutcome::kUnavailable);
  EXPECT_EQ(read(503, "").outcome, VerificationOutcome::kUnavailable);
  EXPECT_EQ(read(404, "{}").outcome, VerificationOutcome::kMalformed);
  EXPECT_EQ(read(200, "not json").outcome, VerificationOutcome::kMalformed);
  EXPECT_EQ(read(200, R"({"friendly_name": "no sid"})").outcome, VerificationOutcome::kMalformed);
  EXPECT_EQ(read(200, R"({"sid": "AC\n42"})").outcome, VerificationOutcome::kMalformed);
  EXPECT_EQ(read(200, R"({"sid": {"deep": 1}})").outcome, VerificationOutcome::kMalformed);
  // A hostile name is dropped, not fatal.
  Verification odd =
      read(200, R"({"sid": "AC42", "friendly_name": ")" + std::string(300, 'x') + "\"}");
  EXPECT_EQ(odd.outcome, VerificationOutcome::kVerified);
  EXPECT_EQ(odd.account.name, "");
}

TEST(CredentialAuthTest, WithoutAnIdentityCallTheAccountIsADigestOfTheSecret) {
  Result<CredentialAuth> auth = ParseCredentialAuth(Parse(R"({
    "mode": "api_key", "fields": [{"name": "api_key", "label": "Key"}],
    "headers": {"Authorization": "Bearer {api_key}"}, "verify": {"path": "list-agents"}})"));
  ASSERT_TRUE(auth.ok());
  auto id = [&](const std::string& key, std::string_view provider) {
    return ReadVerification(*auth, provider, {{"api_key", key}},
                            net::HttpResponse{.status = 200, .body = "[]"})
        .account.id;
  };
  EXPECT_EQ(id("key_1", "retell"), id("key_1", "retell"));
  EXPECT_NE(id("key_1", "retell"), id("key_2", "retell"));
  EXPECT_NE(id("key_1", "retell"), id("key_1", "other"));
  EXPECT_EQ(id("key_1", "retell").size(), 4u + 16u);
  EXPECT_THAT(id("key_1", "retell"), Not(HasSubstr("key_1")));
}

TEST(CredentialAuthTest, StoredValuesRoundTripAndAreCheckedWhenRead) {
  const CredentialAuth auth = Twilio();
  const CredentialValues values{{"account_sid", "AC42"}, {"auth_token", "s\"e\\c"}};
  Result<CredentialValues> back = ParseCredentials(auth, SerializeCredentials(values));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, values);
  EXPECT_EQ(ParseCredentials(auth, "[1]").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ParseCredentials(auth, R"({"account_sid": "AC42"})").status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(CredentialAuthTest, CatalogEntriesWithAuthHaveNoOAuthMembers) {
  auto files = [](const std::string& extra) {
    return std::vector<std::pair<std::string, std::string>>{
        {"keyed.json", R"({"display_name": "Keyed", "docs_url": "https://keyed.example/docs",
          "api_base_url": "https://api.keyed.example", )" +
                           extra + R"(
          "auth": {"mode": "api_key", "fields": [{"name": "k", "label": "K"}],
                   "headers": {"X-Key": "{k}"}, "verify": {"path": "me", "account_id": "/id"}}})"}};
  };
  Result<ProviderCatalog> catalog = ProviderCatalog::FromFiles(files(""));
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  const ProviderEntry* entry = catalog->Find("keyed");
  ASSERT_NE(entry, nullptr);
  EXPECT_FALSE(entry->uses_oauth());
  EXPECT_FALSE(entry->refresh.issued);
  EXPECT_THAT(ProviderCatalog::FromFiles(files(R"("token_url": "https://keyed.example/t",)"))
                  .status()
                  .message(),
              HasSubstr("token_url"));
  EXPECT_THAT(ProviderCatalog::FromFiles(files(R"("services": {},)")).status().message(),
              HasSubstr("services"));

  ASSERT_TRUE(catalog->OverrideApiBase("keyed", "http://127.0.0.1:9/keyed/").ok());
  EXPECT_EQ(catalog->Find("keyed")->api_base_url, "http://127.0.0.1:9/keyed");
  EXPECT_FALSE(catalog->OverrideApiBase("keyed", "http://evil.example/keyed").ok());  // no https
  EXPECT_EQ(catalog->OverrideApiBase("nope", "http://127.0.0.1:9").code(), StatusCode::kNotFound);
}

TEST(CredentialAuthTest, TheBuiltInCatalogHasFiveOrMoreCredentialProviders) {
  Result<ProviderCatalog> catalog = ProviderCatalog::LoadBuiltIn();
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  std::vector<std::string> ids;
  for (const ProviderEntry* entry : catalog->All()) {
    if (!entry->uses_oauth()) ids.push_back(entry->id);
  }
  EXPECT_THAT(ids, UnorderedElementsAre("gohighlevel", "postmark", "retell", "sendgrid", "stripe",
                                        "trello", "twilio"));
  const CredentialAuth& twilio = *catalog->Find("twilio")->credentials;
  EXPECT_TRUE(twilio.basic.has_value());
  EXPECT_EQ(catalog->Find("trello")->credentials->query.size(), 2u);
}

}  // namespace
}  // namespace sb::oauth
