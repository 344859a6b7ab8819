#include "sb/http/router.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sb::http {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

Handler Named(std::string name) {
  return [name](Request&) { return Response::Text(200, name); };
}

Request Make(std::string method, std::string path) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

TEST(Router, MatchesStaticAndParamRoutes) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/v1/tenants", Named("list")).ok());
  ASSERT_TRUE(router.Add("GET", "/v1/tenants/{id}", Named("get")).ok());
  ASSERT_TRUE(router.Add("GET", "/v1/tenants/{id}/keys/{key_id}", Named("key")).ok());

  Request list = Make("GET", "/v1/tenants");
  EXPECT_EQ(router.Dispatch(list).body, "list");
  EXPECT_EQ(list.route_name, "/v1/tenants");

  Request get = Make("GET", "/v1/tenants/abc%20d");
  EXPECT_EQ(router.Dispatch(get).body, "get");
  EXPECT_EQ(get.route_name, "/v1/tenants/{id}");
  EXPECT_EQ(get.PathParam("id"), "abc d");

  Request key = Make("GET", "/v1/tenants/t1/keys/k2");
  EXPECT_EQ(router.Dispatch(key).body, "key");
  EXPECT_EQ(key.PathParam("id"), "t1");
  EXPECT_EQ(key.PathParam("key_id"), "k2");
}

TEST(Router, RestParameterTakesTheRawRemainder) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/v1/proxy/{id}/{path...}", Named("proxy")).ok());
  ASSERT_TRUE(router.Add("POST", "/v1/proxy/{id}/{path...}", Named("proxy-post")).ok());
  ASSERT_TRUE(router.Add("GET", "/v1/proxy/{id}/status", Named("status")).ok());

  Request deep = Make("GET", "/v1/proxy/c1/calendar/v3/calendars/a%40b.com/events");
  EXPECT_EQ(router.Dispatch(deep).body, "proxy");
  EXPECT_EQ(deep.route_name, "/v1/proxy/{id}/{path...}");
  EXPECT_EQ(deep.PathParam("id"), "c1");
  EXPECT_EQ(deep.PathParam("path"), "calendar/v3/calendars/a%40b.com/events");  // raw

  Request one = Make("GET", "/v1/proxy/c1/me");
  EXPECT_EQ(router.Dispatch(one).body, "proxy");
  EXPECT_EQ(one.PathParam("path"), "me");
  Request literal = Make("GET", "/v1/proxy/c1/status");
  EXPECT_EQ(router.Dispatch(literal).body, "status");  // a literal still wins

  Request none = Make("GET", "/v1/proxy/c1");
  EXPECT_EQ(router.Dispatch(none).status, 404);  // the rest needs one segment at least
  Request put = Make("PUT", "/v1/proxy/c1/x/y");
  EXPECT_EQ(router.Dispatch(put).status, 405);

  EXPECT_FALSE(router.Add("GET", "/a/{rest...}/b", Named("x")).ok());  // must come last
}

TEST(Router, StaticSegmentWinsOverParamWithBacktracking) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/a/{x}", Named("param")).ok());
  ASSERT_TRUE(router.Add("GET", "/a/me", Named("static")).ok());
  ASSERT_TRUE(router.Add("GET", "/b/c/d", Named("static-deep")).ok());
  ASSERT_TRUE(router.Add("GET", "/b/{x}/e", Named("param-deep")).ok());
  EXPECT_EQ(router.Match("GET", "/a/me").route->pattern, "/a/me");
  EXPECT_EQ(router.Match("GET", "/a/you").route->pattern, "/a/{x}");
  EXPECT_EQ(router.Match("GET", "/b/c/d").route->pattern, "/b/c/d");
  const RouteMatch backtracked = router.Match("GET", "/b/c/e");
  ASSERT_EQ(backtracked.kind, MatchKind::kFound);
  EXPECT_EQ(backtracked.route->pattern, "/b/{x}/e");
  EXPECT_THAT(backtracked.params, ElementsAre(Pair("x", "c")));
}

TEST(Router, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/v1/tenants/{id}", Named("get")).ok());
  ASSERT_TRUE(router.Add("DELETE", "/v1/tenants/{id}", Named("delete")).ok());
  EXPECT_EQ(router.Match("GET", "/v1/nothing").kind, MatchKind::kNotFound);
  EXPECT_EQ(router.Match("GET", "/v1/tenants/").kind, MatchKind::kNotFound);  // empty param
  EXPECT_EQ(router.Match("GET", "/v1/tenants/x/y").kind, MatchKind::kNotFound);

  Request wrong = Make("POST", "/v1/tenants/42");
  const Response response = router.Dispatch(wrong);
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.Header("Allow"), "DELETE, GET");
  EXPECT_EQ(response.Header("Content-Type"), "application/problem+json");

  Request missing = Make("GET", "/nope");
  EXPECT_EQ(router.Dispatch(missing).status, 404);
}

TEST(Router, ATrailingSlashPatternIsAPathOfItsOwn) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/app", Named("bare")).ok());
  ASSERT_TRUE(router.Add("GET", "/app/", Named("slash")).ok());
  ASSERT_TRUE(router.Add("GET", "/app/{path...}", Named("rest")).ok());
  Request bare = Make("GET", "/app");
  EXPECT_EQ(router.Dispatch(bare).body, "bare");
  Request slash = Make("GET", "/app/");
  EXPECT_EQ(router.Dispatch(slash).body, "slash");
  Request rest = Make("GET", "/app/a/b.js");
  EXPECT_EQ(router.Dispatch(rest).body, "rest");
  EXPECT_EQ(router.Match("GET", "/app//").kind, MatchKind::kNotFound);
  EXPECT_EQ(router.Add("GET", "/", Named("root")).code(), StatusCode::kOk);
  EXPECT_EQ(router.Add("GET", "/x//", Named("x")).code(), StatusCode::kInvalidArgument);
}

TEST(Router, RejectsBadAndDuplicatePatterns) {
  Router router;
  EXPECT_EQ(router.Add("GET", "no-slash", Named("x")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(router.Add("GET", "/a//b", Named("x")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(router.Add("GET", "/a/{}", Named("x")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(router.Add("GET", "/a/{b-c}", Named("x")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(router.Add("get", "/a", Named("x")).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(router.Add("GET", "/a/{id}", Named("x")).ok());
  EXPECT_EQ(router.Add("GET", "/a/{other}", Named("y")).code(), StatusCode::kAlreadyExists);
}

TEST(Router, RootAndUndecodableParams) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/", Named("root")).ok());
  ASSERT_TRUE(router.Add("GET", "/x/{id}", Named("x")).ok());
  EXPECT_EQ(router.Match("GET", "/").kind, MatchKind::kFound);
  EXPECT_EQ(router.Match("GET", "/x/%zz").kind, MatchKind::kNotFound);
  EXPECT_EQ(router.Match("GET", "/x/%ff").kind, MatchKind::kNotFound);  // not UTF-8
  EXPECT_EQ(router.Match("GET", "").kind, MatchKind::kNotFound);
}

TEST(Router, ListsRoutesInRegistrationOrder) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/healthz", Named("h")).ok());
  ASSERT_TRUE(router.Add("POST", "/v1/tenants", Named("c")).ok());
  EXPECT_THAT(router.Routes(), ElementsAre(Pair("GET", "/healthz"), Pair("POST", "/v1/tenants")));
}

TEST(Router, MiddlewaresRunInOrderAndSeeRouteOptions) {
  Router router;
  std::vector<std::string> trace;
  router.Use([&](Request& r, const Handler& next) {
    trace.push_back("outer");
    Response response = next(r);
    response.SetHeader("X-Outer", "1");
    return response;
  });
  router.Use([&](Request& r, const Handler& next) {
    trace.push_back("auth");
    if (r.route_options.authenticated && !r.Header("Authorization")) {
      return Response::Text(401, "no");
    }
    r.principal = std::string("caller");
    return next(r);
  });
  ASSERT_TRUE(router.Add("GET", "/public", Named("public"), {.authenticated = false}).ok());
  ASSERT_TRUE(router
                  .Add("GET", "/private",
                       [](Request& r) {
                         return Response::Text(200, *std::any_cast<std::string>(&r.principal));
                       })
                  .ok());

  Request pub = Make("GET", "/public");
  EXPECT_EQ(router.Dispatch(pub).body, "public");
  Request denied = Make("GET", "/private");
  const Response no = router.Dispatch(denied);
  EXPECT_EQ(no.status, 401);
  EXPECT_EQ(no.Header("X-Outer"), "1");
  Request allowed = Make("GET", "/private");
  allowed.headers.emplace_back("authorization", "Bearer x");
  EXPECT_EQ(router.Dispatch(allowed).body, "caller");
  EXPECT_THAT(trace, ElementsAre("outer", "auth", "outer", "auth", "outer", "auth"));
}

}  // namespace
}  // namespace sb::http
