// Credential providers end to end (issue 17): an end user types an API key, basic credentials
// or named fields into the hosted page; the provider's verification call (against the
// sandbox's keyed origin) decides; the proxy and health checks use the stored credentials.
// Written once and instantiated per storage backend. Include after connect_suite_tests.h.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "sb/app/testing/connect_suite_tests.h"

namespace sb::app::testing {

inline constexpr char kTwilioSid[] = "AC0123456789abcdef0123456789abcdef";
inline constexpr char kTwilioToken[] = "5f4dcc3b5aa765d61d8327deb882cf99";
inline constexpr char kTrelloKey[] = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
inline constexpr char kTrelloToken[] = "ATTA9f8e7d6c5b4a39281706f5e4d3c2b1a0ffeeddccbbaa";

template <typename Backend>
class CredentialSuite : public ConnectSuite<Backend> {
 protected:
  void SetUp() override {
    ConnectSuite<Backend>::SetUp();
    if (::testing::Test::HasFatalFailure()) return;
    RegisterAccount("twilio", {{"account_sid", kTwilioSid}, {"auth_token", kTwilioToken}});
    RegisterAccount("trello", {{"api_key", kTrelloKey}, {"token", kTrelloToken}});
    for (const char* provider : {"twilio", "trello"}) {
      TestResponse r =
          this->Call("PUT", std::string("/v1/integrations/") + provider, "{}", this->key_);
      ASSERT_EQ(r.status, 201) << r.body;
    }
  }

  void RegisterAccount(const std::string& provider, const Json& credentials) {
    auto added = this->sandbox_->Control(SandboxOrigin::kKeyed, "POST", "/_sandbox/keyed/accounts",
                                         {{"provider", provider}, {"credentials", credentials}});
    ASSERT_TRUE(added.ok()) << added.status().ToString();
  }

  // Opens the session page and posts `provider`'s form with `fields` (field.<name>).
  Result<BrowserResponse> SubmitCredentials(
      Browser& browser, const std::string& session_url, const std::string& provider,
      const std::vector<std::pair<std::string, std::string>>& fields) {
    SB_ASSIGN_OR_RETURN(BrowserResponse page, browser.Get(session_url));
    if (page.status != 200) return InternalError("connect page answered " + page.body);
    const std::string token = session_url.substr(session_url.rfind('/') + 1);
    net::testing::FormFields form = {{"provider", provider},
                                     {"csrf", HiddenFieldValue(page.body, "csrf")}};
    for (const auto& [name, value] : fields) form.emplace_back("field." + name, value);
    return browser.PostForm(this->PublicUrl() + "/connect/" + token + "/credentials", form);
  }

  std::string ConnectTwilio(const std::string& end_user = "user-1") {
    auto browser = this->NewBrowser();
    auto done =
        SubmitCredentials(*browser, this->NewSession(this->key_, "alice@example.com", end_user),
                          "twilio", {{"account_sid", kTwilioSid}, {"auth_token", kTwilioToken}});
    EXPECT_TRUE(done.ok()) << done.status().ToString();
    if (!done.ok()) return "";
    EXPECT_TRUE(done->url.starts_with(kReturnUrl)) << done->status << " " << done->body;
    return this->ConnectionIdFrom(*done);
  }

  TestResponse ProxyMessages(const std::string& id) {
    return this->Call("GET",
                      "/v1/proxy/" + id + "/2010-04-01/Accounts/" + kTwilioSid + "/Messages.json",
                      "", this->key_);
  }
};

TYPED_TEST_SUITE_P(CredentialSuite);

// The page asks for the catalog's fields; a wrong secret comes back on the page (the account
// field kept, the secret not) and is audited; the right one connects, once per account.
TYPED_TEST_P(CredentialSuite, TheWizardVerifiesCredentialsBeforeSavingThem) {
  auto browser = this->NewBrowser();
  const std::string session = this->NewSession(this->key_, "alice@example.com");
  auto page = browser->Get(session);
  ASSERT_TRUE(page.ok());
  EXPECT_NE(page->body.find("action=\"/connect/"), std::string::npos);
  EXPECT_NE(page->body.find("/credentials\" id=\"connect-twilio\""), std::string::npos);
  EXPECT_NE(page->body.find("id=\"connect-twilio-auth-token\" name=\"field.auth_token\" "
                            "type=\"password\""),
            std::string::npos)
      << page->body;
  EXPECT_NE(page->body.find("Account SID"), std::string::npos);
  // What the credentials give the app, in the catalog's words.
  const std::string explained = "id=\"connect-twilio-explanation\">" +
                                HtmlEscape(this->CatalogEntry("twilio").explanation) + "</p>";
  EXPECT_NE(page->body.find(explained), std::string::npos) << page->body;

  const std::string wrong = "ffffffffffffffffffffffffffffffff";
  auto refused = this->SubmitCredentials(*browser, session, "twilio",
                                         {{"account_sid", kTwilioSid}, {"auth_token", wrong}});
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(refused->status, 422) << refused->body;
  EXPECT_NE(refused->body.find("Twilio did not accept these credentials (HTTP 401)"),
            std::string::npos)
      << refused->body;
  EXPECT_NE(refused->body.find("value=\"" + std::string(kTwilioSid) + "\""), std::string::npos);
  EXPECT_EQ(refused->body.find(wrong), std::string::npos);  // a secret is never rendered back
  EXPECT_NE(refused->body.find(explained), std::string::npos);
  EXPECT_TRUE(this->Connections().empty());
  EXPECT_EQ(this->CountAudit("connect.credentials", "credentials_rejected"), 1);

  auto malformed = this->SubmitCredentials(*browser, session, "twilio",
                                           {{"account_sid", "XX1"}, {"auth_token", wrong}});
  ASSERT_TRUE(malformed.ok());
  EXPECT_EQ(malformed->status, 400);
  EXPECT_NE(malformed->body.find("must start with &#39;AC&#39;"), std::string::npos)
      << malformed->body;

  const std::string id = this->ConnectTwilio();
  ASSERT_FALSE(id.empty());
  const Json connection = this->Connection(id);
  EXPECT_EQ(connection["provider"], "twilio");
  EXPECT_EQ(connection["status"], "active");
  EXPECT_EQ(connection["account"]["subject"], kTwilioSid);
  EXPECT_EQ(connection["token"]["refresh_token_present"], false);
  EXPECT_TRUE(connection["token"]["access_token_expires_at"].is_null());
  EXPECT_EQ(connection.dump().find(kTwilioToken), std::string::npos);
  EXPECT_EQ(this->CountAudit("connection.create"), 1);
  // The same account again is the same connection.
  EXPECT_EQ(this->ConnectTwilio(), id);
  EXPECT_EQ(this->Connections().size(), 1u);
  EXPECT_EQ(this->CountAudit("connection.reconnect"), 1);
  // Another end user may not take it over.
  auto browser2 = this->NewBrowser();
  auto taken = this->SubmitCredentials(
      *browser2, this->NewSession(this->key_, "bob@example.com", "user-2"), "twilio",
      {{"account_sid", kTwilioSid}, {"auth_token", kTwilioToken}});
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(taken->status, 422);
  EXPECT_NE(taken->body.find("already connected for another user"), std::string::npos);
  // Nothing of the secret anywhere the API shows.
  TestResponse audit = this->Call("GET", "/v1/audit?limit=1000", "", this->key_);
  EXPECT_EQ(audit.body.find(kTwilioToken), std::string::npos);
  EXPECT_EQ(audit.body.find(wrong), std::string::npos);
}

// A form from elsewhere, an OAuth provider posted as credentials and a credential provider
// started as OAuth are all refused before any provider call.
TYPED_TEST_P(CredentialSuite, TheCredentialFormAcceptsOnlyItsOwnPage) {
  auto browser = this->NewBrowser();
  const std::string session = this->NewSession(this->key_, "alice@example.com");
  const std::string token = session.substr(session.rfind('/') + 1);
  auto forged = browser->PostForm(this->PublicUrl() + "/connect/" + token + "/credentials",
                                  {{"provider", "twilio"},
                                   {"csrf", "forged"},
                                   {"field.account_sid", kTwilioSid},
                                   {"field.auth_token", kTwilioToken}});
  ASSERT_TRUE(forged.ok());
  EXPECT_EQ(forged->status, 403);
  auto page = browser->Get(session);
  ASSERT_TRUE(page.ok());
  const std::string csrf = HiddenFieldValue(page->body, "csrf");
  auto twice = browser->PostForm(this->PublicUrl() + "/connect/" + token + "/credentials",
                                 {{"provider", "twilio"},
                                  {"csrf", csrf},
                                  {"field.account_sid", kTwilioSid},
                                  {"field.account_sid", "AC1"},
                                  {"field.auth_token", kTwilioToken}});
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(twice->status, 400);
  auto oauth_as_keyed =
      browser->PostForm(this->PublicUrl() + "/connect/" + token + "/credentials",
                        {{"provider", "google"}, {"csrf", csrf}, {"field.api_key", "x"}});
  ASSERT_TRUE(oauth_as_keyed.ok());
  EXPECT_EQ(oauth_as_keyed->status, 400);
  auto keyed_as_oauth = browser->PostForm(this->PublicUrl() + "/connect/" + token + "/start",
                                          {{"provider", "twilio"}, {"csrf", csrf}});
  ASSERT_TRUE(keyed_as_oauth.ok());
  EXPECT_EQ(keyed_as_oauth->status, 400);
  EXPECT_EQ(this->SandboxRequests(SandboxOrigin::kKeyed, "/twilio"), 0);
  EXPECT_TRUE(this->Connections().empty());
  // An integration of a credential provider has no OAuth app.
  TestResponse with_secret = this->Call("PUT", "/v1/integrations/stripe",
                                        R"({"client_id":"x","client_secret":"y"})", this->key_);
  EXPECT_EQ(with_secret.status, 400) << with_secret.body;
  TestResponse providers = this->Call("GET", "/v1/providers", "", this->key_);
  ASSERT_EQ(providers.status, 200);
  bool twilio_listed = false;
  const Json listed = providers.JsonBody()["data"];
  for (const Json& p : listed) {
    if (p["id"] != "twilio") continue;
    twilio_listed = true;
    EXPECT_EQ(p["auth"], "fields");
    EXPECT_EQ(p["credential_fields"].size(), 2u);
  }
  EXPECT_TRUE(twilio_listed);
}

// The proxy places the credentials where the catalog says (basic for Twilio, query parameters
// for Trello) and never sends a caller's own beside them.
TYPED_TEST_P(CredentialSuite, TheProxyInjectsTheStoredCredentials) {
  const std::string id = this->ConnectTwilio();
  ASSERT_FALSE(id.empty());
  TestResponse messages = this->ProxyMessages(id);
  ASSERT_EQ(messages.status, 200) << messages.body;
  EXPECT_TRUE(messages.JsonBody().contains("messages")) << messages.body;

  auto browser = this->NewBrowser();
  auto trello =
      this->SubmitCredentials(*browser, this->NewSession(this->key_, "alice@example.com"), "trello",
                              {{"api_key", kTrelloKey}, {"token", kTrelloToken}});
  ASSERT_TRUE(trello.ok());
  const std::string trello_id = this->ConnectionIdFrom(*trello);
  ASSERT_FALSE(trello_id.empty()) << trello->status << " " << trello->body;
  // A caller's key and token parameters are dropped; the stored ones are used.
  TestResponse boards = this->Call(
      "GET", "/v1/proxy/" + trello_id + "/1/members/me/boards?key=evil&token=evil&fields=name", "",
      this->key_);
  EXPECT_EQ(boards.status, 200) << boards.body;
  EXPECT_TRUE(boards.JsonBody().is_array()) << boards.body;
  // The sandbox's log shows the calls, credentials redacted.
  auto log = this->sandbox_->Requests(SandboxOrigin::kKeyed, "/trello");
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->dump().find(kTrelloToken), std::string::npos);
  EXPECT_EQ(log->dump().find("evil"), std::string::npos);
}

// Health checks make the verification call: healthy while the provider accepts the
// credentials, an incident at once when it stops; the kill switch stops everything.
TYPED_TEST_P(CredentialSuite, HealthUsesTheVerificationCallAndTheKillSwitchApplies) {
  const std::string id = this->ConnectTwilio();
  ASSERT_FALSE(id.empty());
  Json h = this->Health(id, true);
  EXPECT_EQ(h["status"], "healthy") << h.dump();
  ASSERT_TRUE(
      this->sandbox_
          ->Control(
              SandboxOrigin::kKeyed, "POST", "/_sandbox/faults",
              {{"path", "/twilio/2010-04-01/Accounts"}, {"kind", "unauthorized"}, {"count", -1}})
          .ok());
  h = this->Health(id, true);
  EXPECT_EQ(h["status"], "unhealthy") << h.dump();
  EXPECT_EQ(h["last_error"]["kind"], "token_rejected");
  EXPECT_FALSE(h["incident_since"].is_null());
  // A 401 is the answer: credentials do not refresh, so the proxy makes the call once.
  const int before = this->SandboxRequests(SandboxOrigin::kKeyed, "/twilio");
  EXPECT_EQ(this->ProxyMessages(id).status, 401);
  EXPECT_EQ(this->SandboxRequests(SandboxOrigin::kKeyed, "/twilio"), before + 1);
  ASSERT_TRUE(this->sandbox_->Control(SandboxOrigin::kKeyed, "DELETE", "/_sandbox/faults").ok());
  EXPECT_EQ(this->ProxyMessages(id).status, 200);

  ASSERT_EQ(
      this->Call("PUT", "/v1/admin/providers/twilio",
                 Json{{"enabled", false}, {"tenant_id", this->tenant_}}.dump(), this->admin_key_)
          .status,
      200);
  EXPECT_EQ(this->ProxyMessages(id).status, 409);
  auto page = this->NewBrowser()->Get(this->NewSession(this->key_, "alice@example.com"));
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->body.find("connect-twilio"), std::string::npos);  // not offered while off
  ASSERT_EQ(
      this->Call("PUT", "/v1/admin/providers/twilio",
                 Json{{"enabled", true}, {"tenant_id", this->tenant_}}.dump(), this->admin_key_)
          .status,
      200);
  EXPECT_EQ(this->ProxyMessages(id).status, 200);
}

// Another tenant sees nothing of the connection and cannot call or delete it; its own tenant's
// delete forgets the credentials.
TYPED_TEST_P(CredentialSuite, AnotherTenantCannotUseTheCredentialsAndDeleteForgetsThem) {
  const std::string id = this->ConnectTwilio();
  ASSERT_FALSE(id.empty());
  auto [other_tenant, other_key] = this->NewTenantWithKey(R"(["read","write"])");
  EXPECT_EQ(this->Call("GET", "/v1/connections/" + id, "", other_key).status, 404);
  EXPECT_EQ(
      this->Call("GET", "/v1/proxy/" + id + "/2010-04-01/Accounts/" + kTwilioSid + "/Messages.json",
                 "", other_key)
          .status,
      404);
  TestResponse listed = this->Call("GET", "/v1/connections", "", other_key);
  EXPECT_EQ(listed.JsonBody()["data"].size(), 0u);
  EXPECT_EQ(this->Call("DELETE", "/v1/connections/" + id, "", other_key).status, 404);

  // Deleting it forgets the credentials: nothing can call through it afterwards, and the same
  // account connects again as a new connection.
  EXPECT_EQ(this->Call("DELETE", "/v1/connections/" + id, "", this->key_).status, 204);
  EXPECT_EQ(this->ProxyMessages(id).status, 404);
  EXPECT_EQ(this->CountAudit("connection.delete"), 1);
  const std::string again = this->ConnectTwilio();
  ASSERT_FALSE(again.empty());
  EXPECT_NE(again, id);
  EXPECT_EQ(this->ProxyMessages(again).status, 200);
}

REGISTER_TYPED_TEST_SUITE_P(CredentialSuite, TheWizardVerifiesCredentialsBeforeSavingThem,
                            TheCredentialFormAcceptsOnlyItsOwnPage,
                            TheProxyInjectsTheStoredCredentials,
                            HealthUsesTheVerificationCallAndTheKillSwitchApplies,
                            AnotherTenantCannotUseTheCredentialsAndDeleteForgetsThem);

}  // namespace sb::app::testing
