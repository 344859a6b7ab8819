// Conformance suite of IntegrationRepository, written once and instantiated per backend like
// repository_conformance.h: create/replace/list/delete, optimistic versions, validation,
// cross-tenant refusals (RLS-09) and corrupt rows (DATA_LOSS). Include in exactly one
// translation unit per test binary.
#pragma once

#include <gtest/gtest.h>

#include "sb/store/oauth/integration_repository.h"
#include "sb/store/testing/conformance_fixture.h"

namespace sb::store::testing {

template <typename TestBackend>
class IntegrationConformanceTest : public RepositoryConformanceTest<TestBackend> {
 protected:
  IntegrationRecord Make(const TenantId& tenant, std::string provider) {
    IntegrationRecord r;
    r.tenant_id = tenant;
    r.provider = std::move(provider);
    r.client_id = "client-" + r.provider + ".apps.example";
    r.services = {{"calendar", true}, {"contacts", false}};
    r.extra_scopes = {"openid", "https://www.googleapis.com/auth/userinfo.email"};
    return r;
  }

  Result<IntegrationRecord> Put(const IntegrationRecord& r,
                                std::optional<int64_t> expected = std::nullopt) {
    this->clock_.Advance(std::chrono::milliseconds(1));
    Result<IntegrationRecord> out = InternalError("not run");
    Status s = this->InTenant(r.tenant_id, [&](Transaction& tx) -> Status {
      out = repo_.Upsert(tx, r.tenant_id, r, this->clock_.Now(), expected);
      return out.status();
    });
    if (!s.ok()) return s;
    return out;
  }

  std::optional<IntegrationRecord> Read(const TenantId& tenant, const std::string& provider) {
    std::optional<IntegrationRecord> out;
    Status s = this->InTenant(tenant, [&](Transaction& tx) -> Status {
      SB_ASSIGN_OR_RETURN(out, repo_.Get(tx, tenant, provider));
      return OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  IntegrationRepository repo_;
};

TYPED_TEST_SUITE_P(IntegrationConformanceTest);

TYPED_TEST_P(IntegrationConformanceTest, CreateReplaceListAndDelete) {
  auto created = this->Put(this->Make(this->a_, "google"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->version, 1);
  EXPECT_EQ(created->created_at, created->updated_at);
  EXPECT_EQ(this->Read(this->a_, "google"), *created);

  IntegrationRecord changed = *created;
  changed.client_id = "other-client";
  changed.services = {{"email", false}};
  changed.extra_scopes = {};
  changed.enabled = false;
  auto replaced = this->Put(changed);
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_EQ(replaced->version, 2);
  EXPECT_EQ(replaced->created_at, created->created_at);
  EXPECT_GT(replaced->updated_at, created->updated_at);
  EXPECT_EQ(this->Read(this->a_, "google"), *replaced);

  ASSERT_TRUE(this->Put(this->Make(this->a_, "microsoft")).ok());
  Status s = this->InTenant(this->a_, [&](Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto all, this->repo_.List(tx, this->a_));
    EXPECT_EQ(all.size(), 2u);
    if (all.size() == 2) {
      EXPECT_EQ(all[0].provider, "google");
      EXPECT_EQ(all[1].provider, "microsoft");
    }
    SB_ASSIGN_OR_RETURN(bool gone, this->repo_.Delete(tx, this->a_, "google"));
    EXPECT_TRUE(gone);
    SB_ASSIGN_OR_RETURN(gone, this->repo_.Delete(tx, this->a_, "google"));
    EXPECT_FALSE(gone);
    return OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(this->Read(this->a_, "google"), std::nullopt);
  EXPECT_EQ(IntegrationSecretOwner("google"), "integration:google");
}

TYPED_TEST_P(IntegrationConformanceTest, ExpectedVersionMakesReplacementACompareAndSet) {
  auto created = this->Put(this->Make(this->a_, "slack"));
  ASSERT_TRUE(created.ok());
  auto stale_first = this->Put(*created, /*expected=*/1);
  ASSERT_TRUE(stale_first.ok());
  EXPECT_EQ(stale_first->version, 2);
  EXPECT_EQ(this->Put(*created, /*expected=*/1).status().code(), StatusCode::kAborted);
  EXPECT_EQ(this->Put(this->Make(this->a_, "notion"), /*expected=*/1).status().code(),
            StatusCode::kAborted);  // nothing to replace
}

// A credential provider's integration has no OAuth app: an empty client id is kept as such.
TYPED_TEST_P(IntegrationConformanceTest, ACredentialProviderHasNoClientId) {
  IntegrationRecord r = this->Make(this->a_, "twilio");
  r.client_id = "";
  r.services = {};
  auto stored = this->Put(r);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->client_id, "");
}

TYPED_TEST_P(IntegrationConformanceTest, RejectsMalformedRecords) {
  auto expect_invalid = [&](IntegrationRecord r, const char* what) {
    EXPECT_EQ(this->Put(r).status().code(), StatusCode::kInvalidArgument) << what;
  };
  IntegrationRecord r = this->Make(this->a_, "Google");
  expect_invalid(r, "upper-case provider");
  r = this->Make(this->a_, std::string(65, 'a'));
  expect_invalid(r, "long provider");
  r = this->Make(this->a_, "google");
  r.client_id = std::string(513, 'c');
  expect_invalid(r, "long client id");
  r = this->Make(this->a_, "google");
  r.client_id = "has space";
  expect_invalid(r, "client id with a space");
  r = this->Make(this->a_, "google");
  r.services = {{"drive", false}};
  expect_invalid(r, "unknown service");
  r = this->Make(this->a_, "google");
  r.services = {{"calendar", false}, {"calendar", true}};
  expect_invalid(r, "service twice");
  r = this->Make(this->a_, "google");
  r.extra_scopes = {""};
  expect_invalid(r, "empty scope");
  r = this->Make(this->b_, "google");
  Status s = this->InTenant(this->a_, [&](Transaction& tx) {
    return this->repo_.Upsert(tx, this->a_, r, this->clock_.Now()).status();
  });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);  // record of another tenant
}

// RLS-09: tenant A's transaction never reaches B's integrations.
TYPED_TEST_P(IntegrationConformanceTest, CrossTenantAccessIsRefused) {
  auto b_google = this->Put(this->Make(this->b_, "google"));
  ASSERT_TRUE(b_google.ok());
  for (auto call : std::vector<std::function<Status(Transaction&)>>{
           [&](Transaction& tx) { return this->repo_.Get(tx, this->b_, "google").status(); },
           [&](Transaction& tx) { return this->repo_.List(tx, this->b_).status(); },
           [&](Transaction& tx) { return this->repo_.Delete(tx, this->b_, "google").status(); },
           [&](Transaction& tx) {
             return this->repo_.Upsert(tx, this->b_, *b_google, this->clock_.Now()).status();
           }}) {
    EXPECT_EQ(this->InTenant(this->a_, call).code(), StatusCode::kPermissionDenied);
  }
  EXPECT_EQ(this->Read(this->a_, "google"), std::nullopt);
  EXPECT_EQ(this->Read(this->b_, "google"), *b_google);
}

TYPED_TEST_P(IntegrationConformanceTest, CorruptRowsAreDataLoss) {
  ASSERT_TRUE(this->Put(this->Make(this->a_, "google")).ok());
  Status s = this->InTenant(this->a_, [&](Transaction& tx) {
    return tx
        .Execute("UPDATE integrations SET services = '{not json' WHERE provider = 'google'", {})
        .status();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  s = this->InTenant(
      this->a_, [&](Transaction& tx) { return this->repo_.Get(tx, this->a_, "google").status(); });
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
}

REGISTER_TYPED_TEST_SUITE_P(IntegrationConformanceTest, CreateReplaceListAndDelete,
                            ExpectedVersionMakesReplacementACompareAndSet,
                            ACredentialProviderHasNoClientId, RejectsMalformedRecords,
                            CrossTenantAccessIsRefused, CorruptRowsAreDataLoss);

}  // namespace sb::store::testing
