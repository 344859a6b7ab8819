#include "sb/api/connect_pages.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sb::api {
namespace {

using connections::CallbackError;
using connections::CallbackFailure;
using ::testing::HasSubstr;
using ::testing::Not;

// Every way a callback fails gets an error status and words for the page; the choice of status
// and words lives here, not in the connect service.
TEST(DescribeCallbackFailure, EveryErrorHasAnErrorStatusAndWords) {
  for (int i = 0; i <= static_cast<int>(CallbackError::kStoreFailed); ++i) {
    const CallbackPage page = DescribeCallbackFailure(CallbackFailure{CallbackError(i)});
    EXPECT_GE(page.status, 400) << i;
    EXPECT_LE(page.status, 599) << i;
    EXPECT_FALSE(page.title.empty()) << i;
    EXPECT_FALSE(page.message.empty()) << i;
  }
}

TEST(DescribeCallbackFailure, StatusesTellTheUserWhetherRetryingCanHelp) {
  EXPECT_EQ(DescribeCallbackFailure({CallbackError::kAccessDenied}).status, 403);
  EXPECT_EQ(DescribeCallbackFailure({CallbackError::kReassignmentRefused}).status, 409);
  EXPECT_EQ(DescribeCallbackFailure({CallbackError::kConnectionQuotaExceeded}).status, 422);
  EXPECT_EQ(DescribeCallbackFailure({CallbackError::kTokenExchangeUnavailable}).status, 503);
  EXPECT_EQ(DescribeCallbackFailure({CallbackError::kTokenExchangeRefused}).status, 400);
  EXPECT_EQ(DescribeCallbackFailure({CallbackError::kConcurrentConnect}).status, 409);
  EXPECT_EQ(DescribeCallbackFailure({CallbackError::kStoreFailed}).status, 503);
}

TEST(DescribeCallbackFailure, OnlyThePlainProviderCodeIsShown) {
  const CallbackPage page =
      DescribeCallbackFailure({CallbackError::kProviderError, "temporarily_unavailable"});
  EXPECT_THAT(page.message, HasSubstr("(temporarily_unavailable)"));
  EXPECT_THAT(DescribeCallbackFailure({CallbackError::kProviderError}).message,
              HasSubstr("(error)"));
  EXPECT_THAT(RenderProblemPage(page.title, "<b>x</b>", "provider_error"),
              Not(HasSubstr("<b>x</b>")));
}

}  // namespace
}  // namespace sb::api

namespace sb::api {
namespace {

connections::SessionPage PageOf(std::string tenant_name, std::string logo) {
  connections::SessionPage page;
  page.session.return_url = "https://app.example/done";
  page.csrf_token = "csrf-token";
  page.tenant_name = std::move(tenant_name);
  page.tenant_logo = std::move(logo);
  return page;
}

TEST(RenderConnectPage, ShowsTheTenantsNameEscapedAndItsLogoOnlyAsADataImage) {
  const std::string logo = "data:image/png;base64,iVBORw0KGgo=";
  const std::string html = RenderConnectPage(PageOf("Acme <Field> & Co", logo), "tok");
  EXPECT_NE(html.find("Acme &lt;Field&gt; &amp; Co asks to connect"), std::string::npos) << html;
  EXPECT_EQ(html.find("<Field>"), std::string::npos);
  EXPECT_NE(html.find("<img src=\"" + logo + "\""), std::string::npos);
  // Anything but a data: image (a row written around the API's check) is not rendered.
  const std::string other = RenderConnectPage(PageOf("Acme", "https://evil.example/x.png"), "t");
  EXPECT_EQ(other.find("<img"), std::string::npos);
  EXPECT_EQ(other.find("evil.example"), std::string::npos);
  // Without a tenant name the page still works, without the sentence.
  EXPECT_EQ(RenderConnectPage(PageOf("", ""), "t").find("asks to connect"), std::string::npos);
}

TEST(HtmlPage, AllowsOnlyInlineStylesAndDataImages) {
  const http::Response page = HtmlPage(200, "<p>x</p>");
  const std::string csp(page.Header("Content-Security-Policy").value_or(""));
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(csp.find("img-src data:"), std::string::npos);
  EXPECT_EQ(csp.find("http"), std::string::npos);
}

}  // namespace
}  // namespace sb::api

namespace sb::api {
namespace {

using connections::SessionRetry;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// The ids of the interactive elements of `html` (a, button, select, textarea, and inputs other
// than hidden ones), in page order; "" for an element without one.
std::vector<std::string> InteractiveIds(const std::string& html) {
  std::vector<std::string> ids;
  for (size_t open = html.find('<'); open != std::string::npos; open = html.find('<', open + 1)) {
    const size_t end = html.find('>', open);
    const std::string tag = html.substr(open + 1, end - open - 1);
    const std::string name = tag.substr(0, tag.find_first_of(" >"));
    const bool interactive = name == "a" || name == "button" || name == "select" ||
                             name == "textarea" ||
                             (name == "input" && tag.find("type=\"hidden\"") == std::string::npos);
    if (!interactive) continue;
    const size_t id = tag.find(" id=\"");
    ids.push_back(id == std::string::npos ? ""
                                          : tag.substr(id + 5, tag.find('"', id + 5) - id - 5));
  }
  return ids;
}

// Ids that are empty or that more than one interactive element carries.
std::vector<std::string> MissingOrDuplicateIds(const std::string& html) {
  std::vector<std::string> ids = InteractiveIds(html);
  std::vector<std::string> bad;
  std::sort(ids.begin(), ids.end());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i].empty() || (i + 1 < ids.size() && ids[i] == ids[i + 1])) bad.push_back(ids[i]);
  }
  return bad;
}

connections::CallbackFailure Failure(connections::CallbackError error, SessionRetry retry) {
  connections::CallbackFailure failure{error, "", "https://app.example/done", retry, ""};
  if (retry == SessionRetry::kUsable) failure.session_token = "tenant.session-token";
  return failure;
}

// UI.md: every interactive element has a stable, unique id, on the error page too.
TEST(RenderProblemPage, EveryLinkHasAStableUniqueId) {
  const std::string html =
      RenderProblemPage("Access was not granted", "No.", "access_denied",
                        {"https://app.example/done", "/connect/tenant.session-token", false});
  EXPECT_THAT(InteractiveIds(html), ElementsAre("connect-error-retry", "connect-error-back"));
  EXPECT_THAT(MissingOrDuplicateIds(html), IsEmpty());
  EXPECT_THAT(html, HasSubstr("href=\"https://app.example/done?status=error&amp;error=access_"
                              "denied\" id=\"connect-error-back\">Back to the app</a>"));
  for (int i = 0; i <= static_cast<int>(CallbackError::kCredentialsUnverified); ++i) {
    for (SessionRetry retry :
         {SessionRetry::kUnknown, SessionRetry::kUsable, SessionRetry::kExpired}) {
      EXPECT_THAT(
          MissingOrDuplicateIds(RenderCallbackFailurePage(Failure(CallbackError(i), retry))),
          IsEmpty())
          << i;
    }
  }
}

TEST(RenderCallbackFailurePage, OffersTryAgainOnlyWhileTheSessionIsUsable) {
  const std::string usable =
      RenderCallbackFailurePage(Failure(CallbackError::kAccessDenied, SessionRetry::kUsable));
  EXPECT_THAT(usable, HasSubstr("<a class=\"button\" href=\"/connect/tenant.session-token\" "
                                "id=\"connect-error-retry\">Try again</a>"));
  EXPECT_THAT(usable, HasSubstr("id=\"connect-error-back\""));
  EXPECT_THAT(usable, Not(HasSubstr("Start connecting again from the app")));

  // Expired: said plainly, and only the way back.
  const std::string expired =
      RenderCallbackFailurePage(Failure(CallbackError::kStateExpired, SessionRetry::kExpired));
  EXPECT_THAT(InteractiveIds(expired), ElementsAre("connect-error-back"));
  EXPECT_THAT(expired, HasSubstr("id=\"connect-error-expired\">This connect link has expired"));

  // A browser that did not show the session's token (or an unknown session) gets no link to it.
  const std::string unknown =
      RenderCallbackFailurePage(Failure(CallbackError::kAccessDenied, SessionRetry::kUnknown));
  EXPECT_THAT(InteractiveIds(unknown), ElementsAre("connect-error-back"));
  EXPECT_THAT(unknown, HasSubstr("Start connecting again from the app."));
  EXPECT_THAT(unknown, Not(HasSubstr("/connect/")));

  // Failures that only an administrator can mend offer no retry, even with a usable session.
  for (CallbackError error :
       {CallbackError::kConnectionQuotaExceeded, CallbackError::kIntegrationUnavailable,
        CallbackError::kProviderUnavailable}) {
    const std::string html = RenderCallbackFailurePage(Failure(error, SessionRetry::kUsable));
    EXPECT_THAT(InteractiveIds(html), ElementsAre("connect-error-back")) << html;
    EXPECT_THAT(html, Not(HasSubstr("tenant.session-token")));
  }
  // Without a return URL there is no way back, but still a retry.
  connections::CallbackFailure bare = Failure(CallbackError::kStoreFailed, SessionRetry::kUsable);
  bare.return_url.clear();
  EXPECT_THAT(InteractiveIds(RenderCallbackFailurePage(bare)), ElementsAre("connect-error-retry"));
}

// A page with an OAuth provider offering two services and a credential provider.
struct ConnectFixture {
  ConnectFixture() {
    google.id = "google";
    google.explanation = "The app learns your <name>.";
    google.services["calendar"].read_explanation = "Sees your calendars.";
    google.services["calendar"].read_write_explanation = "Sees & changes your calendars.";
    google.services["email"].read_explanation = "Reads your email.";
    google.services["email"].read_write_explanation = "Reads and sends your email.";
    twilio.id = "twilio";
    twilio.explanation = "Full use of this Twilio account.";
    twilio.credentials = oauth::CredentialAuth{};
    twilio.credentials->fields = {{"account_sid", "Account SID", "Top right.", false, "AC"},
                                  {"auth_token", "Auth Token", "", true, ""}};
    page = PageOf("Acme", "");
    page.providers.push_back(
        {"google", "Google", {{"calendar", true}, {"email", false}}, nullptr, &google});
    page.providers.push_back({"twilio", "Twilio", {}, &*twilio.credentials, &twilio});
  }
  oauth::ProviderEntry google;
  oauth::ProviderEntry twilio;
  connections::SessionPage page;
};

TEST(RenderConnectPage, EveryInteractiveElementHasAStableUniqueId) {
  ConnectFixture f;
  const std::string html = RenderConnectPage(f.page, "tenant.session-token");
  EXPECT_THAT(InteractiveIds(html),
              ElementsAre("connect-google-service-calendar", "connect-google-service-email",
                          "connect-google-submit", "connect-twilio-account-sid",
                          "connect-twilio-auth-token", "connect-twilio-submit", "connect-cancel"));
  EXPECT_THAT(MissingOrDuplicateIds(html), IsEmpty());
  CredentialFormState failed{"twilio", "Refused.", {{"account_sid", "AC1"}}};
  EXPECT_THAT(MissingOrDuplicateIds(RenderConnectPage(f.page, "t", &failed)), IsEmpty());
}

// Issue: "service choice with plain-language explanations of what is shared", from the catalog.
TEST(RenderConnectPage, ExplainsWhatEachChoiceSharesInPlainWords) {
  ConnectFixture f;
  const std::string html = RenderConnectPage(f.page, "tenant.session-token");
  // Each service at the level offered, tied to its checkbox for screen readers.
  EXPECT_THAT(html, HasSubstr("aria-describedby=\"connect-google-service-calendar-explanation\"> "
                              "Calendar (read and write)</label><p class=\"muted explanation\" "
                              "id=\"connect-google-service-calendar-explanation\">Sees &amp; "
                              "changes your calendars.</p>"));
  EXPECT_THAT(html, HasSubstr(">Reads your email.</p>"));
  EXPECT_THAT(html, Not(HasSubstr("Reads and sends your email.")));
  EXPECT_THAT(html, Not(HasSubstr("Sees your calendars.")));
  // What the provider and the credential provider's key give access to, escaped.
  EXPECT_THAT(html, HasSubstr("id=\"connect-google-explanation\">The app learns your "
                              "&lt;name&gt;.</p>"));
  EXPECT_THAT(html, HasSubstr("id=\"connect-twilio-explanation\">Full use of this Twilio "
                              "account.</p>"));
  // A service the catalog does not explain keeps its label alone.
  f.google.services.erase("email");
  EXPECT_THAT(RenderConnectPage(f.page, "t"),
              Not(HasSubstr("connect-google-service-email-explanation")));
}

}  // namespace
}  // namespace sb::api
