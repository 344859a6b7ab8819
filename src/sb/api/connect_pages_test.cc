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
  EXPECT_THAT(RenderProblemPage(page.title, "<b>x</b>", "provider_error", ""),
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
