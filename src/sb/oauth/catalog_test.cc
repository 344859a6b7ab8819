#include "sb/oauth/catalog.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

namespace sb::oauth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

ProviderCatalog BuiltIn() {
  auto catalog = ProviderCatalog::LoadBuiltIn();
  EXPECT_TRUE(catalog.ok()) << catalog.status().ToString();
  return catalog.ok() ? std::move(*catalog) : ProviderCatalog();
}

std::vector<std::string> GoogleHosts() {
  return {"accounts.google.com", "oauth2.googleapis.com", "openidconnect.googleapis.com",
          "www.googleapis.com"};
}
std::vector<std::string> MicrosoftHosts() {
  return {"login.microsoftonline.com", "graph.microsoft.com"};
}

// A complete provider that uses none of the optional members.
constexpr const char* kMinimalProvider = R"({
  "display_name": "Acme", "docs_url": "https://acme.example/docs/oauth",
  "authorization_url": "https://acme.example/oauth/authorize",
  "token_url": "https://acme.example/oauth/token",
  "scope_separator": " ", "pkce": "S256", "client_auth": "client_secret_basic",
  "refresh_token": {"rotates": true, "returned_on_refresh": true},
  "default_scopes": ["tasks.read"], "services": {}
})";

// ---------------------------------------------------------------------------------------------

TEST(CatalogBuiltIn, EveryEmbeddedFileLoadsWithItsDocumentation) {
  ProviderCatalog catalog = BuiltIn();
  const auto all = catalog.All();
  EXPECT_EQ(all.size(), internal::kEmbeddedProviderCount);
  EXPECT_GE(all.size(), 22u);
  for (const ProviderEntry* entry : all) {
    EXPECT_TRUE(entry->docs_url.starts_with("https://")) << entry->id;
    const std::string& endpoint = entry->uses_oauth() ? entry->token_url : entry->api_base_url;
    EXPECT_TRUE(endpoint.starts_with("https://")) << entry->id;
    EXPECT_FALSE(entry->display_name.empty()) << entry->id;
  }
}

TEST(CatalogBuiltIn, HasTheProvidersTheIssueNames) {
  ProviderCatalog catalog = BuiltIn();
  for (const char* id : {"google",    "microsoft", "slack",    "notion", "todoist",    "salesforce",
                         "hubspot",   "zoom",      "dropbox",  "box",    "github",     "atlassian",
                         "asana",     "linear",    "zendesk",  "xero",   "quickbooks", "intercom",
                         "pipedrive", "calendly",  "docusign", "spotify"}) {
    EXPECT_NE(catalog.Find(id), nullptr) << id;
  }
  EXPECT_EQ(catalog.Find("myspace"), nullptr);
}

TEST(CatalogBuiltIn, AllIsSortedById) {
  ProviderCatalog catalog = BuiltIn();
  const auto all = catalog.All();
  ASSERT_GE(all.size(), 2u);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1]->id, all[i]->id);
}

TEST(CatalogBuiltIn, OnlyGoogleAndMicrosoftOfferServices) {
  ProviderCatalog catalog = BuiltIn();
  for (const ProviderEntry* entry : catalog.All()) {
    if (entry->id == "google" || entry->id == "microsoft") {
      EXPECT_EQ(entry->services.size(), 3u) << entry->id;
    } else {
      EXPECT_THAT(entry->services, IsEmpty()) << entry->id;
    }
  }
}

// The hosted page says in plain words what each choice shares: every service at both levels,
// and what a credential provider's key reaches.
TEST(CatalogBuiltIn, ServicesAndCredentialProvidersExplainWhatIsShared) {
  ProviderCatalog catalog = BuiltIn();
  for (const ProviderEntry* entry : catalog.All()) {
    for (const auto& [name, service] : entry->services) {
      EXPECT_FALSE(service.read_explanation.empty()) << entry->id << " " << name;
      EXPECT_FALSE(service.read_write_explanation.empty()) << entry->id << " " << name;
      EXPECT_NE(service.read_explanation, service.read_write_explanation) << entry->id;
    }
    if (!entry->uses_oauth()) EXPECT_FALSE(entry->explanation.empty()) << entry->id;
  }
  const ProviderEntry& google = *catalog.Find("google");
  EXPECT_EQ(ServiceExplanation(google, "calendar", false),
            "The app can see your calendars and their events. It cannot change them.");
  EXPECT_THAT(ServiceExplanation(google, "calendar", true),
              HasSubstr("can also add, change and delete events"));
  EXPECT_EQ(ServiceExplanation(google, "tasks", false), "");
  EXPECT_THAT(catalog.Find("twilio")->explanation, HasSubstr("send messages and make calls"));
}

TEST(CatalogBuiltIn, Google) {
  ProviderCatalog catalog = BuiltIn();
  const ProviderEntry* google = catalog.Find("google");
  ASSERT_NE(google, nullptr);
  EXPECT_EQ(google->authorization_url, "https://accounts.google.com/o/oauth2/v2/auth");
  EXPECT_EQ(google->token_url, "https://oauth2.googleapis.com/token");
  EXPECT_EQ(google->revocation_url, "https://oauth2.googleapis.com/revoke");
  EXPECT_EQ(google->issuer, "https://accounts.google.com");
  EXPECT_THAT(google->issuer_aliases, ElementsAre("accounts.google.com"));
  EXPECT_EQ(google->jwks_url, "https://www.googleapis.com/oauth2/v3/certs");
  EXPECT_THAT(google->id_token_algorithms, ElementsAre("RS256"));
  EXPECT_EQ(google->pkce, PkceMethod::kS256);
  EXPECT_FALSE(google->refresh.rotates);
  EXPECT_FALSE(google->refresh.returned_on_refresh);
  EXPECT_THAT(google->authorization_params,
              ElementsAre(Pair("access_type", "offline"), Pair("include_granted_scopes", "true"),
                          Pair("prompt", "consent")));
  EXPECT_THAT(google->services.at("calendar").read,
              ElementsAre("https://www.googleapis.com/auth/calendar.readonly"));
  EXPECT_THAT(google->services.at("email").read_write,
              ElementsAre("https://www.googleapis.com/auth/gmail.modify"));
  EXPECT_THAT(google->services.at("contacts").read_write,
              ElementsAre("https://www.googleapis.com/auth/contacts"));
}

TEST(CatalogBuiltIn, Microsoft) {
  ProviderCatalog catalog = BuiltIn();
  const ProviderEntry* microsoft = catalog.Find("microsoft");
  ASSERT_NE(microsoft, nullptr);
  EXPECT_EQ(microsoft->token_url, "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token");
  EXPECT_EQ(microsoft->url_parameters.at("tenant"), "common");
  EXPECT_EQ(microsoft->issuer, "https://login.microsoftonline.com/{tenantid}/v2.0");
  EXPECT_EQ(microsoft->api_base_url, "https://graph.microsoft.com");
  EXPECT_TRUE(microsoft->revocation_url.empty());
  EXPECT_TRUE(microsoft->refresh.rotates);
  EXPECT_THAT(microsoft->default_scopes, ElementsAre("offline_access", "User.Read"));
  EXPECT_THAT(microsoft->services.at("calendar").read, ElementsAre("Calendars.Read"));
  EXPECT_THAT(microsoft->services.at("calendar").read_write, ElementsAre("Calendars.ReadWrite"));
  EXPECT_THAT(microsoft->services.at("email").read, ElementsAre("Mail.Read"));
  EXPECT_THAT(microsoft->services.at("email").read_write,
              ElementsAre("Mail.ReadWrite", "Mail.Send"));
  EXPECT_THAT(microsoft->services.at("contacts").read_write, ElementsAre("Contacts.ReadWrite"));
}

TEST(CatalogBuiltIn, GenericProvidersSayWhatTheyLack) {
  ProviderCatalog catalog = BuiltIn();
  const ProviderEntry* intercom = catalog.Find("intercom");
  ASSERT_NE(intercom, nullptr);
  EXPECT_EQ(intercom->pkce, PkceMethod::kNone);
  EXPECT_FALSE(intercom->refresh.issued);
  EXPECT_TRUE(intercom->revocation_url.empty());
  const ProviderEntry* todoist = catalog.Find("todoist");
  ASSERT_NE(todoist, nullptr);
  EXPECT_TRUE(todoist->refresh.issued);
  EXPECT_TRUE(todoist->refresh.rotates);
  const ProviderEntry* slack = catalog.Find("slack");
  ASSERT_NE(slack, nullptr);
  EXPECT_EQ(slack->scope_separator, ",");
  EXPECT_EQ(slack->client_auth, ClientAuth::kClientSecretBasic);
}

// ---------------------------------------------------------------------------------------------

TEST(CatalogScopes, ServicesThenIdentityThenDefaultsThenExtrasEachOnce) {
  ProviderCatalog catalog = BuiltIn();
  auto scopes =
      catalog.ScopesFor("microsoft", {{"calendar", true}, {"email", false}, {"calendar", true}},
                        {"User.Read", "Tasks.Read"});
  ASSERT_TRUE(scopes.ok()) << scopes.status().ToString();
  EXPECT_THAT(*scopes, ElementsAre("Calendars.ReadWrite", "Mail.Read", "openid", "profile", "email",
                                   "offline_access", "User.Read", "Tasks.Read"));
}

TEST(CatalogScopes, ReadOrReadWrite) {
  ProviderCatalog catalog = BuiltIn();
  auto read = catalog.ScopesFor("google", {{"contacts", false}}, {});
  auto write = catalog.ScopesFor("google", {{"contacts", true}, {"email", true}}, {});
  ASSERT_TRUE(read.ok() && write.ok());
  EXPECT_THAT(*read, ElementsAre("https://www.googleapis.com/auth/contacts.readonly", "openid",
                                 "email", "profile"));
  EXPECT_THAT(*write, ElementsAre("https://www.googleapis.com/auth/contacts",
                                  "https://www.googleapis.com/auth/gmail.modify", "openid", "email",
                                  "profile"));
}

TEST(CatalogScopes, GenericProviderGetsItsDefaults) {
  ProviderCatalog catalog = BuiltIn();
  auto scopes = catalog.ScopesFor("github", {}, {"repo"});
  ASSERT_TRUE(scopes.ok());
  EXPECT_THAT(*scopes, ElementsAre("read:user", "user:email", "repo"));
}

TEST(CatalogScopes, Errors) {
  ProviderCatalog catalog = BuiltIn();
  EXPECT_EQ(catalog.ScopesFor("nope", {}, {}).status().code(), StatusCode::kNotFound);
  auto missing = catalog.ScopesFor("slack", {{"calendar", false}}, {});
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("'calendar'"));
  EXPECT_FALSE(catalog.ScopesFor("google", {{"tasks", false}}, {}).ok());
  // An extra scope must not smuggle a second one in.
  EXPECT_FALSE(catalog.ScopesFor("google", {}, {"openid https://mail.google.com/"}).ok());
  EXPECT_FALSE(catalog.ScopesFor("slack", {}, {"chat:write,admin"}).ok());
  EXPECT_FALSE(catalog.ScopesFor("google", {}, {""}).ok());
}

// ---------------------------------------------------------------------------------------------

TEST(CatalogExpandUrl, FillsPlaceholdersFromValuesOrDefaults) {
  ProviderCatalog catalog = BuiltIn();
  const ProviderEntry* microsoft = catalog.Find("microsoft");
  ASSERT_NE(microsoft, nullptr);
  auto common = ExpandUrl(*microsoft, microsoft->token_url);
  ASSERT_TRUE(common.ok());
  EXPECT_EQ(*common, "https://login.microsoftonline.com/common/oauth2/v2.0/token");
  auto tenant = ExpandUrl(*microsoft, microsoft->issuer,
                          {{"tenantid", "9188040d-6c67-4c5b-b112-36a304b66dad"}});
  ASSERT_TRUE(tenant.ok());
  EXPECT_EQ(*tenant, "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0");
}

TEST(CatalogExpandUrl, RejectsMissingAndUnsafeValues) {
  ProviderCatalog catalog = BuiltIn();
  const ProviderEntry* zendesk = catalog.Find("zendesk");
  ASSERT_NE(zendesk, nullptr);
  EXPECT_FALSE(ExpandUrl(*zendesk, zendesk->token_url).ok());  // no default subdomain
  auto acme = ExpandUrl(*zendesk, zendesk->token_url, {{"subdomain", "acme"}});
  ASSERT_TRUE(acme.ok());
  EXPECT_EQ(*acme, "https://acme.zendesk.com/oauth/tokens");
  EXPECT_FALSE(ExpandUrl(*zendesk, zendesk->token_url, {{"subdomain", "evil.example/x?"}}).ok());
  EXPECT_FALSE(ExpandUrl(*zendesk, zendesk->token_url, {{"subdomain", "a..b"}}).ok());
}

// ---------------------------------------------------------------------------------------------

class CatalogOverrides : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sb-catalog-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    catalog_ = BuiltIn();
    ASSERT_NE(catalog_.Find("google"), nullptr);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  Status Apply() { return catalog_.ApplyOverrides(dir_.string()); }
  // Applies one file and returns the error message ("" when it was accepted).
  std::string Reject(const std::string& name, const std::string& text) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Write(name, text);
    Status status = Apply();
    return status.ok() ? "" : status.message();
  }

  std::filesystem::path dir_;
  ProviderCatalog catalog_;
};

TEST_F(CatalogOverrides, PartialOverrideKeepsTheOtherMembers) {
  Write("google.json",
        R"({"token_url": "https://token.example/token", "refresh_token": {"requires": "x"}})");
  ASSERT_TRUE(Apply().ok());
  const ProviderEntry* google = catalog_.Find("google");
  EXPECT_EQ(google->token_url, "https://token.example/token");
  EXPECT_EQ(google->authorization_url, "https://accounts.google.com/o/oauth2/v2/auth");
  EXPECT_EQ(google->refresh.requirement, "x");
  EXPECT_FALSE(google->refresh.rotates);  // deep merge: the rest of refresh_token stays
  EXPECT_EQ(google->services.size(), 3u);
}

TEST_F(CatalogOverrides, NullRemovesAMember) {
  Write("google.json", R"({"revocation_url": null})");
  ASSERT_TRUE(Apply().ok());
  EXPECT_TRUE(catalog_.Find("google")->revocation_url.empty());
}

TEST_F(CatalogOverrides, NewProviderIsAdded) {
  Write("acme.json", kMinimalProvider);
  ASSERT_TRUE(Apply().ok());
  const ProviderEntry* acme = catalog_.Find("acme");
  ASSERT_NE(acme, nullptr);
  EXPECT_EQ(acme->id, "acme");
  EXPECT_EQ(acme->token_url, "https://acme.example/oauth/token");
  auto scopes = catalog_.ScopesFor("acme", {}, {});
  ASSERT_TRUE(scopes.ok());
  EXPECT_THAT(*scopes, ElementsAre("tasks.read"));
}

TEST_F(CatalogOverrides, NewProviderNeedsEveryRequiredMember) {
  Json partial = Json::parse(kMinimalProvider);
  partial.erase("token_url");
  const std::string error = Reject("acme.json", partial.dump());
  EXPECT_THAT(error, HasSubstr("acme.json"));
  EXPECT_THAT(error, HasSubstr("'token_url': is required"));
}

TEST_F(CatalogOverrides, BadFileNamesFileAndMemberAndChangesNothing) {
  Write("acme.json", kMinimalProvider);  // valid, and sorted before google.json
  Write("google.json", R"({"token_url": 5})");
  Status status = Apply();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("google.json"));
  EXPECT_THAT(status.message(), HasSubstr("'token_url': must be a string"));
  EXPECT_EQ(catalog_.Find("acme"), nullptr);
  EXPECT_EQ(catalog_.Find("google")->token_url, "https://oauth2.googleapis.com/token");
}

TEST_F(CatalogOverrides, UnknownMembersAreRejected) {
  EXPECT_THAT(Reject("google.json", R"({"token_uri": "https://x.example/t"})"),
              HasSubstr("'token_uri': unknown member"));
  EXPECT_THAT(Reject("google.json", R"({"refresh_token": {"rotate": true}})"),
              HasSubstr("'refresh_token.rotate': unknown member"));
  EXPECT_THAT(Reject("google.json", R"({"services": {"calendar": {"write": ["x"]}}})"),
              HasSubstr("'services.calendar.write': unknown member"));
  EXPECT_THAT(Reject("google.json", R"({"services": {"tasks": {"read": ["x"]}}})"),
              HasSubstr("'services.tasks': unknown service"));
}

TEST_F(CatalogOverrides, PlainHttpOnlyForLoopback) {
  EXPECT_THAT(Reject("google.json", R"({"token_url": "http://token.example/token"})"),
              HasSubstr("'token_url': must be https"));
  EXPECT_THAT(Reject("google.json", R"({"jwks_url": "http://10.0.0.1/certs"})"),
              HasSubstr("'jwks_url': must be https"));
  EXPECT_EQ(Reject("google.json", R"({"token_url": "http://127.0.0.1:8081/token"})"), "");
  EXPECT_EQ(Reject("google.json", R"({"token_url": "http://localhost/token"})"), "");
  EXPECT_THAT(Reject("google.json", R"({"token_url": "https://user@token.example/t"})"),
              HasSubstr("'token_url'"));
  EXPECT_THAT(Reject("google.json", R"({"token_url": "token.example/token"})"),
              HasSubstr("'token_url'"));
}

TEST_F(CatalogOverrides, PkceIsS256OrNoneNeverPlain) {
  EXPECT_THAT(Reject("google.json", R"({"pkce": "plain"})"), HasSubstr("'pkce'"));
  EXPECT_THAT(Reject("google.json", R"({"pkce": "plain"})"), HasSubstr("OA-02"));
  EXPECT_THAT(
      Reject("google.json", R"({"authorization_params": {"code_challenge_method": "plain"}})"),
      HasSubstr("'authorization_params.code_challenge_method'"));
  EXPECT_EQ(Reject("google.json", R"({"pkce": "none"})"), "");
}

TEST_F(CatalogOverrides, OnlyAsymmetricIdTokenAlgorithms) {
  EXPECT_THAT(Reject("google.json", R"({"id_token_algorithms": ["none"]})"),
              HasSubstr("'id_token_algorithms'"));
  EXPECT_THAT(Reject("google.json", R"({"id_token_algorithms": ["RS256", "HS256"]})"),
              HasSubstr("'HS256'"));
  EXPECT_THAT(Reject("google.json", R"({"id_token_algorithms": []})"),
              HasSubstr("'identity_scopes'"));  // openid without a way to verify the ID token
  EXPECT_EQ(Reject("google.json", R"({"id_token_algorithms": ["ES256", "PS256"]})"), "");
}

TEST_F(CatalogOverrides, OtherMistakesAreNamed) {
  EXPECT_THAT(Reject("google.json", "{\"token_url\": "), HasSubstr("not valid JSON"));
  EXPECT_THAT(Reject("google.json", R"({"id": "microsoft"})"), HasSubstr("'id'"));
  EXPECT_THAT(Reject("Acme.json", kMinimalProvider), HasSubstr("file name"));
  EXPECT_THAT(Reject("google.json", R"({"token_url": "https://{region}.example/t"})"),
              HasSubstr("{region}"));
  EXPECT_THAT(Reject("google.json", R"({"scope_separator": ";"})"), HasSubstr("scope_separator"));
  EXPECT_THAT(Reject("google.json", R"({"refresh_token": {"rotates": true}})"),
              HasSubstr("'refresh_token.returned_on_refresh'"));
  EXPECT_THAT(Reject("google.json", R"({"default_scopes": ["a b"]})"),
              HasSubstr("'default_scopes'"));
}

TEST_F(CatalogOverrides, ExplanationsArePlainTextOfBothLevels) {
  EXPECT_THAT(
      Reject("google.json", R"({"services": {"calendar": {"explanation": {"read_write": null}}}})"),
      HasSubstr("'services.calendar.explanation.read_write': is required"));
  EXPECT_THAT(
      Reject("google.json", R"({"services": {"calendar": {"explanation": {"write": "x"}}}})"),
      HasSubstr("'services.calendar.explanation.write': unknown member"));
  EXPECT_THAT(Reject("google.json", R"({"services": {"email": {"explanation": "x"}}})"),
              HasSubstr("'services.email.explanation': must be an object"));
  EXPECT_THAT(Reject("twilio.json", R"({"explanation": 5})"),
              HasSubstr("'explanation': must be a string"));
  EXPECT_THAT(Reject("twilio.json", R"({"explanation": "line\nbreak"})"),
              HasSubstr("'explanation': must be plain text"));
  EXPECT_THAT(Reject("twilio.json", Json{{"explanation", std::string(401, 'x')}}.dump()),
              HasSubstr("'explanation': must be at most 400 bytes"));
  EXPECT_EQ(Reject("google.json",
                   R"({"services": {"calendar": {"explanation": {"read": "Sees events."}}}})"),
            "");
  EXPECT_EQ(ServiceExplanation(*catalog_.Find("google"), "calendar", false), "Sees events.");
}

TEST_F(CatalogOverrides, MissingDirectoryIsNotFound) {
  EXPECT_EQ(catalog_.ApplyOverrides((dir_ / "absent").string()).code(), StatusCode::kNotFound);
}

// ---------------------------------------------------------------------------------------------

TEST(CatalogOrigin, GoogleEndpointsMoveButTheIssuerStays) {
  ProviderCatalog catalog = BuiltIn();
  ASSERT_TRUE(catalog.OverrideOrigin("google", GoogleHosts(), "http://127.0.0.1:8081", false).ok());
  const ProviderEntry* google = catalog.Find("google");
  EXPECT_EQ(google->authorization_url, "http://127.0.0.1:8081/o/oauth2/v2/auth");
  EXPECT_EQ(google->token_url, "http://127.0.0.1:8081/token");
  EXPECT_EQ(google->revocation_url, "http://127.0.0.1:8081/revoke");
  EXPECT_EQ(google->userinfo_url, "http://127.0.0.1:8081/v1/userinfo");
  EXPECT_EQ(google->discovery_url, "http://127.0.0.1:8081/.well-known/openid-configuration");
  EXPECT_EQ(google->jwks_url, "http://127.0.0.1:8081/oauth2/v3/certs");
  EXPECT_EQ(google->api_base_url, "http://127.0.0.1:8081");
  EXPECT_EQ(google->issuer, "https://accounts.google.com");
  EXPECT_THAT(google->issuer_aliases, ElementsAre("accounts.google.com"));
  EXPECT_EQ(catalog.Find("microsoft")->token_url,
            "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token");
}

// A stand-in that signs with its own issuer has none of the provider's other spellings.
TEST(CatalogOrigin, AMovedIssuerDropsTheProvidersIssuerAliases) {
  ProviderCatalog catalog = BuiltIn();
  ASSERT_TRUE(catalog.OverrideOrigin("google", GoogleHosts(), "http://127.0.0.1:8081", true).ok());
  EXPECT_EQ(catalog.Find("google")->issuer, "http://127.0.0.1:8081");
  EXPECT_THAT(catalog.Find("google")->issuer_aliases, IsEmpty());
}

TEST(CatalogOrigin, MicrosoftKeepsTheTenantAndMovesTheIssuerOnlyWhenAsked) {
  ProviderCatalog kept = BuiltIn();
  ASSERT_TRUE(
      kept.OverrideOrigin("microsoft", MicrosoftHosts(), "https://127.0.0.1:8443/", false).ok());
  const ProviderEntry* microsoft = kept.Find("microsoft");
  EXPECT_EQ(microsoft->token_url, "https://127.0.0.1:8443/{tenant}/oauth2/v2.0/token");
  EXPECT_EQ(microsoft->jwks_url, "https://127.0.0.1:8443/{tenant}/discovery/v2.0/keys");
  EXPECT_EQ(microsoft->userinfo_url, "https://127.0.0.1:8443/oidc/userinfo");
  EXPECT_EQ(microsoft->api_base_url, "https://127.0.0.1:8443");
  EXPECT_EQ(microsoft->issuer, "https://login.microsoftonline.com/{tenantid}/v2.0");

  ProviderCatalog moved = BuiltIn();
  ASSERT_TRUE(
      moved.OverrideOrigin("microsoft", MicrosoftHosts(), "https://127.0.0.1:8443", true).ok());
  EXPECT_EQ(moved.Find("microsoft")->issuer, "https://127.0.0.1:8443/{tenantid}/v2.0");
}

TEST(CatalogOrigin, RejectsBadInputAndLeavesTheEntryAlone) {
  ProviderCatalog catalog = BuiltIn();
  EXPECT_EQ(catalog.OverrideOrigin("nope", GoogleHosts(), "http://127.0.0.1:1", false).code(),
            StatusCode::kNotFound);
  EXPECT_FALSE(catalog.OverrideOrigin("google", GoogleHosts(), "http://127.0.0.1:1/x", false).ok());
  EXPECT_FALSE(
      catalog.OverrideOrigin("google", GoogleHosts(), "http://sandbox.example", false).ok());
  EXPECT_FALSE(
      catalog.OverrideOrigin("google", MicrosoftHosts(), "http://127.0.0.1:1", false).ok());
  EXPECT_EQ(catalog.Find("google")->token_url, "https://oauth2.googleapis.com/token");
}

TEST_F(CatalogOverrides, LaterOverridesMergeOverTheMovedOrigin) {
  ASSERT_TRUE(
      catalog_.OverrideOrigin("google", GoogleHosts(), "http://127.0.0.1:8081", false).ok());
  Write("google.json", R"({"display_name": "Google sandbox"})");
  ASSERT_TRUE(Apply().ok());
  EXPECT_EQ(catalog_.Find("google")->display_name, "Google sandbox");
  EXPECT_EQ(catalog_.Find("google")->token_url, "http://127.0.0.1:8081/token");
}

// ---------------------------------------------------------------------------------------------

TEST(CatalogFromFiles, IdsAreUniqueAndMatchTheFileName) {
  const std::string google_like = Json::parse(kMinimalProvider).dump();
  EXPECT_TRUE(ProviderCatalog::FromFiles({{"acme.json", google_like}}).ok());
  auto twice = ProviderCatalog::FromFiles({{"acme.json", google_like}, {"acme.json", google_like}});
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(twice.status().message(), HasSubstr("duplicate"));
  Json other = Json::parse(kMinimalProvider);
  other["id"] = "other";
  auto mismatch = ProviderCatalog::FromFiles({{"acme.json", other.dump()}});
  ASSERT_FALSE(mismatch.ok());
  EXPECT_THAT(mismatch.status().message(), HasSubstr("provider file acme.json: member 'id'"));
}

// Issue 13, "Scopes, roles and exposure": the catalog says which proxied calls only read.
TEST(CatalogCalls, MethodsReadOrWriteUnlessARuleSaysOtherwise) {
  const ProviderCatalog catalog = BuiltIn();
  const ProviderEntry& google = *catalog.Find("google");
  EXPECT_EQ(ClassifyCall(google, "GET", "calendar/v3/users/me/calendarList"), CallAccess::kRead);
  EXPECT_EQ(ClassifyCall(google, "HEAD", "gmail/v1/users/me/messages"), CallAccess::kRead);
  for (const char* method : {"POST", "PUT", "PATCH", "DELETE", "OPTIONS", "get", "PROPFIND"}) {
    EXPECT_EQ(ClassifyCall(google, method, "calendar/v3/calendars/primary/events"),
              CallAccess::kWrite)
        << method;
  }
  // Google reads through POST (freeBusy) and writes through POST (watch, batch).
  EXPECT_EQ(ClassifyCall(google, "POST", "calendar/v3/freeBusy"), CallAccess::kRead);
  EXPECT_EQ(ClassifyCall(google, "POST", "calendar/v3/calendars/primary/events/watch"),
            CallAccess::kWrite);
  EXPECT_EQ(ClassifyCall(google, "GET", "calendar/v3/calendars/primary/events/watch"),
            CallAccess::kWrite);
  EXPECT_EQ(ClassifyCall(google, "POST", "batch/calendar/v3"), CallAccess::kWrite);
}

TEST(CatalogCalls, SlackAndGraphPathRules) {
  const ProviderCatalog catalog = BuiltIn();
  const ProviderEntry& slack = *catalog.Find("slack");
  // Every Web API method is a POST and also accepts GET: the method name decides.
  EXPECT_EQ(ClassifyCall(slack, "POST", "conversations.list"), CallAccess::kRead);
  EXPECT_EQ(ClassifyCall(slack, "POST", "conversations.history"), CallAccess::kRead);
  EXPECT_EQ(ClassifyCall(slack, "GET", "users.info"), CallAccess::kRead);
  EXPECT_EQ(ClassifyCall(slack, "GET", "chat.postMessage"), CallAccess::kWrite);
  EXPECT_EQ(ClassifyCall(slack, "GET", "conversations.archive"), CallAccess::kWrite);
  EXPECT_EQ(ClassifyCall(slack, "POST", "chat.delete"), CallAccess::kWrite);
  // `*` stays within a segment: a read suffix in a later segment does not make a read.
  EXPECT_EQ(ClassifyCall(slack, "GET", "chat.postMessage/x.list"), CallAccess::kWrite);
  const ProviderEntry& graph = *catalog.Find("microsoft");
  EXPECT_EQ(ClassifyCall(graph, "POST", "v1.0/$batch"), CallAccess::kWrite);
  EXPECT_EQ(ClassifyCall(graph, "POST", "v1.0/me/calendar/getSchedule"), CallAccess::kRead);
  EXPECT_EQ(ClassifyCall(graph, "POST", "v1.0/users/a@b.example/calendar/getSchedule"),
            CallAccess::kRead);
  EXPECT_EQ(ClassifyCall(graph, "POST", "v1.0/me/events"), CallAccess::kWrite);
  EXPECT_EQ(ClassifyCall(graph, "GET", "v1.0/me/events"), CallAccess::kRead);
}

TEST(CatalogCalls, ScopeCheckUsesTheClassification) {
  const ProviderCatalog catalog = BuiltIn();
  const ProviderEntry& google = *catalog.Find("google");
  const std::vector<std::string> read_only = {"https://www.googleapis.com/auth/calendar.readonly"};
  // freeBusy is a read: the read scope covers it; creating an event is not.
  EXPECT_TRUE(CheckScopesForCall(google, read_only, "POST", "calendar/v3/freeBusy").ok());
  EXPECT_EQ(CheckScopesForCall(google, read_only, "POST", "calendar/v3/calendars/p/events").code(),
            StatusCode::kPermissionDenied);
}

// Microsoft's token endpoint names the granted scopes as resource URIs, in its own case.
TEST(CatalogCalls, MicrosoftScopesMatchAsResourceUris) {
  const ProviderCatalog catalog = BuiltIn();
  const ProviderEntry& graph = *catalog.Find("microsoft");
  const std::vector<std::string> uris = {"https://graph.microsoft.com/Calendars.ReadWrite",
                                         "openid"};
  EXPECT_TRUE(CheckScopesForCall(graph, uris, "PATCH", "v1.0/me/events/abc").ok());
  EXPECT_TRUE(CheckScopesForCall(graph, {"https://graph.microsoft.com/calendars.readwrite"}, "POST",
                                 "v1.0/me/events")
                  .ok());
  const std::vector<std::string> read = {"https://graph.microsoft.com/Calendars.Read"};
  EXPECT_TRUE(CheckScopesForCall(graph, read, "GET", "v1.0/me/events").ok());
  EXPECT_EQ(CheckScopesForCall(graph, read, "PATCH", "v1.0/me/events/abc").code(),
            StatusCode::kPermissionDenied);
  // A URI names its own scope only: not one that merely ends the same way.
  EXPECT_EQ(CheckScopesForCall(graph, {"https://evil.example/x/Calendars.ReadWrite.Shared"},
                               "PATCH", "v1.0/me/events/abc")
                .code(),
            StatusCode::kPermissionDenied);
}

TEST_F(CatalogOverrides, CallRulesAreValidated) {
  EXPECT_THAT(Reject("google.json", R"({"call_rules": {}})"),
              HasSubstr("'call_rules': must be an array"));
  EXPECT_THAT(Reject("google.json", R"({"call_rules": [{"method": "post", "path": "x",
              "access": "read"}]})"),
              HasSubstr("'call_rules.0.method'"));
  EXPECT_THAT(Reject("google.json", R"({"call_rules": [{"method": "POST", "path": "/x",
              "access": "read"}]})"),
              HasSubstr("'call_rules.0.path'"));
  EXPECT_THAT(Reject("google.json", R"({"call_rules": [{"method": "POST", "path": "x",
              "access": "maybe"}]})"),
              HasSubstr("'call_rules.0.access'"));
  EXPECT_THAT(Reject("google.json", R"({"call_rules": [{"method": "POST", "path": "x",
              "access": "read", "why": 1}]})"),
              HasSubstr("'call_rules.0.why': unknown member"));
  Write("google.json", R"({"call_rules": [{"method": "POST", "path": "Tasks/*/Search",
        "access": "read"}]})");
  ASSERT_TRUE(Apply().ok());
  EXPECT_EQ(ClassifyCall(*catalog_.Find("google"), "POST", "tasks/v1/search"), CallAccess::kRead);
}

}  // namespace
}  // namespace sb::oauth
