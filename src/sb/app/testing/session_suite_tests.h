// Dashboard sign-in end to end (issue 17): users made through the API, sign-in by tenant, the
// session cookie standing in for an API key, CSRF on writes, roles, the temporary lock, and the
// audit naming the user. Written once and instantiated per storage backend.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "sb/app/testing/api_suite.h"

namespace sb::app::testing {

inline constexpr char kUserPassword[] = "a long enough password";

template <typename Backend>
class SessionSuite : public ApiSuite<Backend> {
 protected:
  using Headers = std::vector<std::pair<std::string, std::string>>;

  struct SignedIn {
    std::string cookie;  // "sb_session=..."
    std::string csrf;
    Json body;
  };

  void SetUp() override {
    ApiSuite<Backend>::SetUp();
    this->Boot();
    if (::testing::Test::HasFatalFailure()) return;
    std::tie(tenant_, key_) = this->NewTenantWithKey(R"(["admin"])");
  }

  // Creates a user through the API (with `key`), returns its id.
  std::string NewUser(const std::string& key, const std::string& email, const std::string& role,
                      const std::string& tenant = "") {
    Json body{{"email", email}, {"name", "Ada"}, {"role", role}, {"password", kUserPassword}};
    if (!tenant.empty()) body["tenant_id"] = tenant;
    TestResponse r = this->Call("POST", "/v1/dashboard-users", body.dump(), key);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.JsonBody().value("id", "");
  }

  TestResponse PostSignIn(const std::string& tenant, const std::string& email,
                          const std::string& password, const std::string& from = "127.0.0.1") {
    return this->CallFrom(
        from, "POST", "/v1/session",
        Json{{"tenant", tenant}, {"email", email}, {"password", password}}.dump());
  }

  SignedIn SignIn(const std::string& tenant, const std::string& email) {
    TestResponse r = PostSignIn(tenant, email, kUserPassword);
    EXPECT_EQ(r.status, 200) << r.body;
    const std::string set_cookie = r.Header("set-cookie");
    return {set_cookie.substr(0, set_cookie.find(';')), r.JsonBody().value("csrf_token", ""),
            r.JsonBody()};
  }

  // A request authenticated by the session's cookie, with its CSRF token unless `csrf` says
  // otherwise.
  TestResponse AsUser(const SignedIn& s, const std::string& method, const std::string& target,
                      const std::string& body = "", std::optional<std::string> csrf = {}) {
    Headers headers{{"Cookie", s.cookie}};
    const std::string token = csrf.value_or(s.csrf);
    if (!token.empty()) headers.emplace_back("X-CSRF-Token", token);
    return this->CallFrom("", method, target, body, "", headers);
  }

  std::string tenant_;
  std::string key_;
};

TYPED_TEST_SUITE_P(SessionSuite);

TYPED_TEST_P(SessionSuite, TheSessionCookieActsForTheUserAndWritesNeedTheCsrfToken) {
  const std::string user = this->NewUser(this->key_, "Ada@Example.com", "admin");
  TestResponse signed_in = this->PostSignIn(this->tenant_, "ada@example.com", kUserPassword);
  ASSERT_EQ(signed_in.status, 200) << signed_in.body;
  const std::string set_cookie = signed_in.Header("set-cookie");
  EXPECT_TRUE(set_cookie.starts_with("sb_session=sbs_")) << set_cookie;
  for (const char* attribute : {"HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"}) {
    EXPECT_NE(set_cookie.find(attribute), std::string::npos) << attribute;
  }
  EXPECT_EQ(signed_in.Header("cache-control"), "no-store");
  const Json body = signed_in.JsonBody();
  EXPECT_EQ(body["user"]["id"], user);
  EXPECT_EQ(body["user"]["email"], "ada@example.com");
  EXPECT_EQ(body["user"]["role"], "admin");
  EXPECT_EQ(body["user"]["tenant_id"], this->tenant_);
  EXPECT_EQ(body["user"]["tenant_name"], "T");
  EXPECT_EQ(signed_in.body.find("argon2"), std::string::npos);  // no hash, ever
  EXPECT_EQ(signed_in.body.find(set_cookie.substr(11, 40)), std::string::npos);

  const auto session = this->SignIn(this->tenant_, "ada@example.com");
  EXPECT_EQ(this->AsUser(session, "GET", "/v1/session").JsonBody()["user"]["id"], user);
  EXPECT_EQ(this->AsUser(session, "GET", "/v1/connections").status, 200);
  // Writes: no token, a wrong one, then the right one.
  const std::string new_key = R"({"name":"from-dashboard","scopes":["read"]})";
  TestResponse refused = this->AsUser(session, "POST", "/v1/api-keys", new_key, "");
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_NE(refused.body.find("csrf"), std::string::npos);
  EXPECT_EQ(this->AsUser(session, "POST", "/v1/api-keys", new_key, "forged").status, 403);
  TestResponse created = this->AsUser(session, "POST", "/v1/api-keys", new_key);
  ASSERT_EQ(created.status, 201) << created.body;

  // The audit names the user, for the sign-in and for the action.
  TestResponse audit = this->Call("GET", "/v1/audit?action=api_key.create", "", this->key_);
  ASSERT_EQ(audit.status, 200);
  const Json entries = audit.JsonBody()["data"];
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries.back()["actor"]["kind"], "user");
  EXPECT_EQ(entries.back()["actor"]["id"], user);
  audit = this->Call("GET", "/v1/audit?action=dashboard.sign_in", "", this->key_);
  EXPECT_EQ(audit.JsonBody()["data"].back()["actor"]["kind"], "user");

  // Signing out ends the session (and clears the cookie); an API key has no session.
  TestResponse out = this->AsUser(session, "DELETE", "/v1/session");
  EXPECT_EQ(out.status, 204);
  EXPECT_NE(out.Header("set-cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(this->AsUser(session, "GET", "/v1/session").status, 401);
  EXPECT_EQ(this->AsUser(session, "GET", "/v1/connections").status, 401);
  EXPECT_EQ(this->Call("GET", "/v1/session", "", this->key_).status, 404);
}

TYPED_TEST_P(SessionSuite, RolesLimitUsersAndTenantsStayApart) {
  this->NewUser(this->key_, "admin@example.com", "admin");
  const std::string viewer = this->NewUser(this->key_, "viewer@example.com", "viewer");
  const auto as_viewer = this->SignIn(this->tenant_, "viewer@example.com");
  EXPECT_EQ(this->AsUser(as_viewer, "GET", "/v1/connections").status, 200);
  EXPECT_EQ(
      this->AsUser(as_viewer, "POST", "/v1/api-keys", R"({"name":"x","scopes":["read"]})").status,
      403);
  EXPECT_EQ(this->AsUser(as_viewer, "GET", "/v1/dashboard-users").status, 403);
  // An admin cannot make operators, nor users elsewhere; a tenant's user is not another's.
  const auto as_admin = this->SignIn(this->tenant_, "admin@example.com");
  const Json op{{"email", "op@example.com"}, {"role", "operator"}, {"password", kUserPassword}};
  EXPECT_EQ(this->AsUser(as_admin, "POST", "/v1/dashboard-users", op.dump()).status, 403);
  auto [other, other_key] = this->NewTenantWithKey(R"(["admin"])");
  const std::string stranger = this->NewUser(other_key, "viewer@example.com", "viewer");
  EXPECT_EQ(this->AsUser(as_admin, "DELETE", "/v1/dashboard-users/" + stranger).status, 404);
  Json elsewhere{{"email", "x@example.com"}, {"role", "viewer"}, {"tenant_id", other}};
  EXPECT_EQ(this->AsUser(as_admin, "POST", "/v1/dashboard-users", elsewhere.dump()).status, 403);
  EXPECT_EQ(this->AsUser(as_admin, "GET", "/v1/tenants/" + other).status, 404);
  TestResponse listed = this->AsUser(as_admin, "GET", "/v1/dashboard-users");
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.JsonBody()["data"].size(), 2u);
  EXPECT_EQ(listed.body.find(stranger), std::string::npos);
  EXPECT_EQ(this->AsUser(as_admin, "DELETE", "/v1/dashboard-users/" + viewer).status, 204);
  EXPECT_EQ(this->AsUser(as_viewer, "GET", "/v1/connections").status, 401);  // sessions die too
  // The operator: a user of the system tenant, made by the operator, acts across tenants.
  this->NewUser(this->admin_key_, "op@example.com", "operator");
  const auto as_operator = this->SignIn(this->admin_tenant_, "op@example.com");
  EXPECT_EQ(as_operator.body["user"]["role"], "operator");
  EXPECT_EQ(
      this->AsUser(as_operator, "POST", "/v1/tenants", R"({"name":"By the operator"})").status,
      201);
}

TYPED_TEST_P(SessionSuite, FailedSignInsSayNothingAndLockTheUserForAWhile) {
  this->NewUser(this->key_, "ada@example.com", "admin");
  auto [other, other_key] = this->NewTenantWithKey(R"(["admin"])");
  std::vector<TestResponse> failures = {
      this->PostSignIn(this->tenant_, "ada@example.com", "wrong password", "127.0.0.2"),
      this->PostSignIn(this->tenant_, "bob@example.com", kUserPassword, "127.0.0.2"),
      this->PostSignIn(other, "ada@example.com", kUserPassword, "127.0.0.2"),
      this->PostSignIn("not-a-tenant", "ada@example.com", kUserPassword, "127.0.0.2"),
  };
  for (const TestResponse& r : failures) {
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(r.JsonBody().value("detail", ""), failures.front().JsonBody().value("detail", ""));
    EXPECT_TRUE(r.Header("set-cookie").empty());
  }
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(this->PostSignIn(this->tenant_, "ada@example.com", "wrong", "127.0.0.3").status, 401);
  }
  // Five wrong passwords in a row: locked, even with the right one and from elsewhere.
  TestResponse locked = this->PostSignIn(this->tenant_, "ada@example.com", kUserPassword);
  EXPECT_EQ(locked.status, 429) << locked.body;
  EXPECT_EQ(locked.Header("retry-after"), "60");
  this->clock_.Advance(std::chrono::seconds(61));
  EXPECT_EQ(this->PostSignIn(this->tenant_, "ada@example.com", kUserPassword).status, 200);
  // Every failure is audited, without the address in clear.
  TestResponse audit = this->Call("GET", "/v1/audit?action=dashboard.sign_in", "", this->key_);
  ASSERT_EQ(audit.status, 200);
  int denied = 0;
  const Json entries = audit.JsonBody()["data"];
  for (const Json& entry : entries) denied += entry["outcome"] == "denied";
  EXPECT_EQ(denied, 7);
  EXPECT_EQ(audit.body.find("ada@example.com"), std::string::npos);
  // Malformed sign-ins and forged cookies.
  EXPECT_EQ(this->CallFrom("", "POST", "/v1/session", R"({"tenant":"x"})").status, 400);
  EXPECT_EQ(this->CallFrom("", "POST", "/v1/session", "[1,2]").status, 400);
  TestResponse forged =
      this->CallFrom("", "GET", "/v1/connections", "", "", {{"Cookie", "sb_session=sbs_forged"}});
  EXPECT_EQ(forged.status, 401);
  // A key wins over a cookie.
  EXPECT_EQ(this->CallFrom("", "GET", "/v1/connections", "", this->key_,
                           {{"Cookie", "sb_session=sbs_forged"}})
                .status,
            200);
}

REGISTER_TYPED_TEST_SUITE_P(SessionSuite, TheSessionCookieActsForTheUserAndWritesNeedTheCsrfToken,
                            RolesLimitUsersAndTenantsStayApart,
                            FailedSignInsSayNothingAndLockTheUserForAWhile);

}  // namespace sb::app::testing
