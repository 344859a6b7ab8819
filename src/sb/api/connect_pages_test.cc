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
