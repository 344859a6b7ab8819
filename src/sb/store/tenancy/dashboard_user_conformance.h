// Conformance suite of the dashboard users, sessions and logins (dashboard_user_repository.h),
// written once and instantiated per backend: users round-trip with every column, e-mail
// addresses are unique per tenant and the login table across the deployment, sessions are found
// by their hash and die with their user or their expiry, another tenant sees nothing (RLS-09),
// malformed records are refused and corrupt rows are DATA_LOSS. Include in exactly one
// translation unit per test binary.
#pragma once

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "sb/base/encoding.h"
#include "sb/store/tenancy/dashboard_sign_in_repository.h"
#include "sb/store/tenancy/dashboard_user_repository.h"
#include "sb/store/testing/conformance_fixture.h"

namespace sb::store::testing {

template <typename TestBackend>
class DashboardUserConformanceTest : public RepositoryConformanceTest<TestBackend> {
 protected:
  DashboardUserRecord MakeUser(const TenantId& tenant, const std::string& email) {
    DashboardUserRecord u;
    u.tenant_id = tenant;
    u.id = DashboardUserId(this->ids_.NewUuid());
    u.email = email;
    u.name = "Ada Lovelace";
    u.role = DashboardRole::kAdmin;
    u.password_hash = "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA";
    u.created_at = this->clock_.Now();
    u.updated_at = u.created_at;
    return u;
  }

  Status Insert(const DashboardUserRecord& u) {
    return this->Call(u.tenant_id,
                      [&](Transaction& tx) { return users_.Insert(tx, u.tenant_id, u); });
  }

  std::optional<DashboardUserRecord> Get(const TenantId& tenant, const DashboardUserId& id) {
    auto got = this->Call(tenant, [&](Transaction& tx) { return users_.Get(tx, tenant, id); });
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? *got : std::nullopt;
  }

  DashboardSessionRecord MakeSession(const DashboardUserRecord& u) {
    DashboardSessionRecord s;
    s.tenant_id = u.tenant_id;
    s.id = DashboardSessionId(this->ids_.NewUuid());
    s.user_id = u.id;
    s.token_hash = HexEncode(this->random_.Bytes(32));
    s.created_at = this->clock_.Now();
    s.expires_at = s.created_at + std::chrono::hours(12);
    s.last_seen_at = s.created_at;
    return s;
  }

  DashboardSignInRecord MakeSignIn(const TenantId& tenant) {
    DashboardSignInRecord r;
    r.tenant_id = tenant;
    r.state_hash = HexEncode(this->random_.Bytes(32));
    r.provider = "google";
    r.redirect_uri = "https://hub.example/v1/session/oidc/callback";
    r.issuer = "https://accounts.google.com";
    r.nonce_hash = HexEncode(this->random_.Bytes(32));
    r.browser_binding = HexEncode(this->random_.Bytes(32));
    r.created_at = this->clock_.Now();
    r.expires_at = r.created_at + std::chrono::minutes(10);
    return r;
  }

  Status InsertSignIn(const DashboardSignInRecord& r) {
    return this->Call(r.tenant_id,
                      [&](Transaction& tx) { return sign_ins_.Insert(tx, r.tenant_id, r); });
  }

  DashboardUserRepository users_;
  DashboardSignInRepository sign_ins_;
};

TYPED_TEST_SUITE_P(DashboardUserConformanceTest);

TYPED_TEST_P(DashboardUserConformanceTest, UsersRoundTripAndAddressesAreUniquePerTenant) {
  DashboardUserRecord u = this->MakeUser(this->a_, "ada@example.com");
  ASSERT_TRUE(this->Insert(u).ok());
  EXPECT_EQ(this->Get(this->a_, u.id), u);
  auto by_email = this->Call(this->a_, [&](Transaction& tx) {
    return this->users_.FindByEmail(tx, this->a_, "ada@example.com");
  });
  ASSERT_TRUE(by_email.ok());
  EXPECT_EQ(*by_email, u);
  EXPECT_EQ(this->Insert(this->MakeUser(this->a_, "ada@example.com")).code(),
            StatusCode::kAlreadyExists);
  // The same address in another tenant is another user.
  ASSERT_TRUE(this->Insert(this->MakeUser(this->b_, "ada@example.com")).ok());

  u.failed_logins = 3;
  u.locked_until = this->clock_.Now() + std::chrono::minutes(15);
  u.role = DashboardRole::kViewer;
  u.password_hash.reset();
  u.disabled = true;
  ASSERT_TRUE(
      this->Call(this->a_, [&](Transaction& tx) { return this->users_.Update(tx, this->a_, u); })
          .ok());
  EXPECT_EQ(this->Get(this->a_, u.id), u);
  auto listed = this->Call(
      this->a_, [&](Transaction& tx) { return this->users_.List(tx, this->a_, std::nullopt, 10); });
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);
}

TYPED_TEST_P(DashboardUserConformanceTest, SessionsAreFoundByHashAndDieWithTheirUser) {
  DashboardUserRecord u = this->MakeUser(this->a_, "grace@example.com");
  ASSERT_TRUE(this->Insert(u).ok());
  DashboardSessionRecord s = this->MakeSession(u);
  ASSERT_TRUE(
      this->Call(this->a_,
                 [&](Transaction& tx) { return this->users_.InsertSession(tx, this->a_, s); })
          .ok());
  auto found = this->Call(this->a_, [&](Transaction& tx) {
    return this->users_.FindSession(tx, this->a_, s.token_hash);
  });
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, s);
  // Another tenant finds nothing by the same hash.
  auto other = this->Call(this->b_, [&](Transaction& tx) {
    return this->users_.FindSession(tx, this->b_, s.token_hash);
  });
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());
  // Expiry.
  DashboardSessionRecord old = this->MakeSession(u);
  old.expires_at = this->clock_.Now() - std::chrono::seconds(1);
  ASSERT_TRUE(
      this->Call(this->a_,
                 [&](Transaction& tx) { return this->users_.InsertSession(tx, this->a_, old); })
          .ok());
  auto expired = this->Call(this->a_, [&](Transaction& tx) {
    return this->users_.DeleteExpiredSessions(tx, this->a_, this->clock_.Now());
  });
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(*expired, 1);
  // The user's deletion takes the session along.
  auto deleted = this->Call(
      this->a_, [&](Transaction& tx) { return this->users_.Delete(tx, this->a_, u.id); });
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(*deleted);
  found = this->Call(this->a_, [&](Transaction& tx) {
    return this->users_.FindSession(tx, this->a_, s.token_hash);
  });
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
}

TYPED_TEST_P(DashboardUserConformanceTest, MalformedRecordsAndOtherTenantsAreRefused) {
  auto invalid = [&](DashboardUserRecord u, const char* what) {
    EXPECT_EQ(this->Insert(u).code(), StatusCode::kInvalidArgument) << what;
  };
  invalid(this->MakeUser(this->a_, "Ada@Example.com"), "upper case");
  invalid(this->MakeUser(this->a_, "no-at-sign"), "no @");
  invalid(this->MakeUser(this->a_, "a@b@c"), "two @");
  invalid(this->MakeUser(this->a_, std::string(250, 'a') + "@x.io"), "too long");
  DashboardUserRecord u = this->MakeUser(this->a_, "x@example.com");
  u.name = "line\nbreak";
  invalid(u, "control character in the name");
  u = this->MakeUser(this->a_, "x@example.com");
  u.tenant_id = this->b_;
  EXPECT_NE(
      this->Call(this->a_, [&](Transaction& tx) { return this->users_.Insert(tx, this->a_, u); })
          .code(),
      StatusCode::kOk);
  // A transaction of tenant a cannot reach tenant b's users.
  DashboardUserRecord b_user = this->MakeUser(this->b_, "b@example.com");
  ASSERT_TRUE(this->Insert(b_user).ok());
  EXPECT_EQ(this->Call(this->a_,
                       [&](Transaction& tx) {
                         return this->users_.Get(tx, this->b_, b_user.id).status();
                       })
                .code(),
            StatusCode::kPermissionDenied);
  EXPECT_FALSE(this->Get(this->a_, b_user.id).has_value());
}

TYPED_TEST_P(DashboardUserConformanceTest, OidcAccountsLinkToOneUserPerTenant) {
  DashboardUserRecord u = this->MakeUser(this->a_, "ada@example.com");
  ASSERT_TRUE(this->Insert(u).ok());
  u.oidc_provider = "google";
  u.oidc_subject = "1108";
  ASSERT_TRUE(
      this->Call(this->a_, [&](Transaction& tx) { return this->users_.Update(tx, this->a_, u); })
          .ok());
  auto find = [&](const TenantId& tenant, const char* provider, const char* subject) {
    auto found = this->Call(tenant, [&](Transaction& tx) {
      return this->users_.FindByOidc(tx, tenant, provider, subject);
    });
    EXPECT_TRUE(found.ok()) << found.status().ToString();
    return found.ok() ? *found : std::nullopt;
  };
  EXPECT_EQ(find(this->a_, "google", "1108"), u);
  EXPECT_FALSE(find(this->a_, "microsoft", "1108").has_value());
  EXPECT_FALSE(find(this->b_, "google", "1108").has_value());
  EXPECT_FALSE(find(this->a_, "", "").has_value());  // unlinked users are never found
  // A second user of the tenant cannot take the same account; a user of another tenant can.
  DashboardUserRecord other = this->MakeUser(this->a_, "grace@example.com");
  other.oidc_provider = "google";
  other.oidc_subject = "1108";
  EXPECT_EQ(this->Insert(other).code(), StatusCode::kAlreadyExists);
  other.tenant_id = this->b_;
  EXPECT_TRUE(this->Insert(other).ok());
  // A provider without a subject (or the reverse) is malformed.
  DashboardUserRecord half = this->MakeUser(this->a_, "half@example.com");
  half.oidc_provider = "google";
  EXPECT_EQ(this->Insert(half).code(), StatusCode::kInvalidArgument);
}

TYPED_TEST_P(DashboardUserConformanceTest, SignInsAreSingleUseAndExpire) {
  DashboardSignInRecord r = this->MakeSignIn(this->a_);
  ASSERT_TRUE(this->InsertSignIn(r).ok());
  EXPECT_EQ(this->InsertSignIn(r).code(), StatusCode::kAlreadyExists);
  auto got = this->Call(
      this->a_, [&](Transaction& tx) { return this->sign_ins_.Get(tx, this->a_, r.state_hash); });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, r);
  // Another tenant finds nothing by the same hash.
  auto other = this->Call(
      this->b_, [&](Transaction& tx) { return this->sign_ins_.Get(tx, this->b_, r.state_hash); });
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());
  auto consume = [&] {
    auto won = this->Call(this->a_, [&](Transaction& tx) {
      return this->sign_ins_.Consume(tx, this->a_, r.state_hash, this->clock_.Now());
    });
    EXPECT_TRUE(won.ok());
    return won.ok() && *won;
  };
  EXPECT_TRUE(consume());
  EXPECT_FALSE(consume());  // single use
  auto live = [&] {
    auto n = this->Call(this->a_, [&](Transaction& tx) {
      return this->sign_ins_.CountLive(tx, this->a_, this->clock_.Now());
    });
    EXPECT_TRUE(n.ok());
    return n.ok() ? *n : -1;
  };
  EXPECT_EQ(live(), 1);
  DashboardSignInRecord old = this->MakeSignIn(this->a_);
  old.expires_at = old.created_at;
  ASSERT_TRUE(this->InsertSignIn(old).ok());
  EXPECT_EQ(live(), 1);
  auto deleted = this->Call(this->a_, [&](Transaction& tx) {
    return this->sign_ins_.DeleteExpired(tx, this->a_,
                                         this->clock_.Now() + std::chrono::seconds(1));
  });
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 1);
  // Malformed records are refused.
  DashboardSignInRecord bad = this->MakeSignIn(this->a_);
  bad.nonce_hash = "not hex";
  EXPECT_EQ(this->InsertSignIn(bad).code(), StatusCode::kInvalidArgument);
  bad = this->MakeSignIn(this->a_);
  bad.tenant_id = this->b_;
  EXPECT_NE(this->Call(this->a_,
                       [&](Transaction& tx) { return this->sign_ins_.Insert(tx, this->a_, bad); })
                .code(),
            StatusCode::kOk);
}

REGISTER_TYPED_TEST_SUITE_P(DashboardUserConformanceTest, OidcAccountsLinkToOneUserPerTenant,
                            SignInsAreSingleUseAndExpire,
                            UsersRoundTripAndAddressesAreUniquePerTenant,
                            SessionsAreFoundByHashAndDieWithTheirUser,
                            MalformedRecordsAndOtherTenantsAreRefused);

}  // namespace sb::store::testing
