#include "sb/http/problem.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sb/base/json.h"

namespace sb::http {
namespace {

sb::Json Body(const Response& r) { return sb::Json::parse(r.body); }

TEST(Problem, MapsCanonicalCodes) {
  EXPECT_EQ(HttpStatusForCode(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusForCode(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusForCode(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusForCode(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusForCode(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusForCode(StatusCode::kFailedPrecondition), 409);
  EXPECT_EQ(HttpStatusForCode(StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusForCode(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusForCode(StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatusForCode(StatusCode::kUnimplemented), 501);
  EXPECT_EQ(HttpStatusForCode(StatusCode::kInternal), 500);
  EXPECT_EQ(HttpStatusForCode(StatusCode::kDataLoss), 500);
  EXPECT_EQ(HttpStatusForCode(StatusCode::kUnknown), 500);
}

TEST(Problem, ClientErrorCarriesMessageAndRequestId) {
  const Response r = StatusToProblem(NotFoundError("tenant t1 does not exist"), "req-1", "/v1/x");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.Header("Content-Type"), "application/problem+json");
  const sb::Json body = Body(r);
  EXPECT_EQ(body["type"], "urn:switchboard:problem:not-found");
  EXPECT_EQ(body["title"], "Not Found");
  EXPECT_EQ(body["status"], 404);
  EXPECT_EQ(body["detail"], "tenant t1 does not exist");
  EXPECT_EQ(body["instance"], "/v1/x");
  EXPECT_EQ(body["request_id"], "req-1");
}

TEST(Problem, ServerErrorsNeverLeakTheMessage) {
  for (const Status& s :
       {InternalError("db password=hunter2"), DataLossError("secret row"),
        UnavailableError("pg at 10.0.0.7 refused"), DeadlineExceededError("query SELECT secret")}) {
    const Response r = StatusToProblem(s, "r");
    EXPECT_GE(r.status, 500);
    EXPECT_EQ(r.body.find("hunter2"), std::string::npos);
    EXPECT_EQ(r.body.find("secret"), std::string::npos);
    EXPECT_EQ(r.body.find("10.0.0.7"), std::string::npos);
  }
  EXPECT_EQ(Body(StatusToProblem(InternalError("x"), "r"))["type"],
            "urn:switchboard:problem:internal");
}

TEST(Problem, DirectConstructors) {
  const Response not_allowed = MethodNotAllowedProblem("GET, POST", "r");
  EXPECT_EQ(not_allowed.status, 405);
  EXPECT_EQ(not_allowed.Header("Allow"), "GET, POST");
  EXPECT_EQ(RouteNotFoundProblem("r").status, 404);
  EXPECT_EQ(PayloadTooLargeProblem(10, "r").status, 413);
  EXPECT_EQ(UnsupportedMediaTypeProblem("application/json", "r").status, 415);
  EXPECT_EQ(MalformedRequestProblem("bad", "r").status, 400);
  EXPECT_EQ(HeadersTooLargeProblem("r").status, 431);
  const Response limited = RateLimitedProblem(std::chrono::seconds(0), "r");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.Header("Retry-After"), "1");
  const Response overloaded = OverloadedProblem("r");
  EXPECT_EQ(overloaded.status, 503);
  EXPECT_EQ(Body(overloaded)["title"], "Service Unavailable");
}

}  // namespace
}  // namespace sb::http
