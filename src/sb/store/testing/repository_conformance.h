// The storage conformance suite: written once against the repositories and the Database
// interface, instantiated per backend (store_test: SQLite, store_pgtest: PostgreSQL):
//   INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, RepositoryConformanceTest,
//                                  ::testing::Types<SqliteTestBackend>);
// It covers the repository contracts, cross-tenant negatives (RLS-09: the same suite on both
// backends), duplicate keys, corrupt rows and transaction semantics. Include in exactly one
// translation unit per test binary.
#pragma once

#include <algorithm>
#include <random>

#include <gtest/gtest.h>

#include "sb/store/testing/conformance_fixture.h"

namespace sb::store::testing {

TYPED_TEST_SUITE_P(RepositoryConformanceTest);

TYPED_TEST_P(RepositoryConformanceTest, TenantInsertAndGet) {
  std::optional<TenantRecord> got;
  ASSERT_TRUE(this->InTenant(this->a_,
                             [&](Transaction& tx) -> Status {
                               SB_ASSIGN_OR_RETURN(got, this->tenants_.Get(tx, this->a_));
                               return OkStatus();
                             })
                  .ok());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id, this->a_);
  EXPECT_EQ(got->name, "tenant a");

  TenantId missing(this->ids_.NewUuid());
  ASSERT_TRUE(this->InTenant(missing,
                             [&](Transaction& tx) -> Status {
                               SB_ASSIGN_OR_RETURN(got, this->tenants_.Get(tx, missing));
                               return OkStatus();
                             })
                  .ok());
  EXPECT_FALSE(got.has_value());
}

TYPED_TEST_P(RepositoryConformanceTest, DuplicateTenantIsAlreadyExists) {
  TenantRecord again{this->a_, "again", this->clock_.Now()};
  Status s = this->InTenant(
      this->a_, [&](Transaction& tx) { return this->tenants_.Insert(tx, this->a_, again); });
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
}

TYPED_TEST_P(RepositoryConformanceTest, RepositoriesRefuseAForeignOrMissingScope) {
  Status s = this->InTenant(
      this->a_, [&](Transaction& tx) { return this->tenants_.Get(tx, this->b_).status(); });
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  ApiKeyRecord key = this->MakeKey(this->b_, "b key");
  s = this->InTenant(this->a_,
                     [&](Transaction& tx) { return this->keys_.Insert(tx, this->b_, key); });
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  s = this->db_->RunUnscoped(
      [&](Transaction& tx) { return this->keys_.List(tx, this->a_, std::nullopt, 10).status(); });
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  // A record whose tenant differs from the explicit tenant is a caller bug, never written.
  s = this->InTenant(this->a_,
                     [&](Transaction& tx) { return this->keys_.Insert(tx, this->a_, key); });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
}

TYPED_TEST_P(RepositoryConformanceTest, ApiKeyInsertGetAndFindByHash) {
  ApiKeyRecord key = this->InsertKey(this->a_, "ci key");
  EXPECT_EQ(this->GetKey(this->a_, key.id), key);
  std::optional<ApiKeyRecord> found;
  ASSERT_TRUE(this->InTenant(this->a_,
                             [&](Transaction& tx) -> Status {
                               SB_ASSIGN_OR_RETURN(
                                   found, this->keys_.FindByHash(tx, this->a_, key.key_hash));
                               return OkStatus();
                             })
                  .ok());
  EXPECT_EQ(found, key);
  EXPECT_FALSE(this->GetKey(this->a_, ApiKeyId(this->ids_.NewUuid())).has_value());
  EXPECT_FALSE(this->GetKey(this->a_, ApiKeyId("not-a-uuid")).has_value());
}

TYPED_TEST_P(RepositoryConformanceTest, ApiKeyInsertValidates) {
  ApiKeyRecord key = this->MakeKey(this->a_, "bad");
  key.key_hash = "ABC";
  Status s = this->InTenant(this->a_,
                            [&](Transaction& tx) { return this->keys_.Insert(tx, this->a_, key); });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  key = this->MakeKey(this->a_, "bad");
  key.scopes = {"read,write"};
  s = this->InTenant(this->a_,
                     [&](Transaction& tx) { return this->keys_.Insert(tx, this->a_, key); });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(this->ListKeys(this->a_, std::nullopt, 0).status().code(),
            StatusCode::kInvalidArgument);
}

TYPED_TEST_P(RepositoryConformanceTest, DuplicateKeyIsAlreadyExists) {
  ApiKeyRecord key = this->InsertKey(this->a_, "k");
  auto insert = [&](const TenantId& t, const ApiKeyRecord& r) {
    return this->InTenant(t, [&](Transaction& tx) { return this->keys_.Insert(tx, t, r); });
  };
  EXPECT_EQ(insert(this->a_, key).code(), StatusCode::kAlreadyExists);  // same id
  ApiKeyRecord same_hash = this->MakeKey(this->a_, "other");
  same_hash.key_hash = key.key_hash;
  EXPECT_EQ(insert(this->a_, same_hash).code(), StatusCode::kAlreadyExists);
  // Hashes are unique per tenant only.
  ApiKeyRecord in_b = this->MakeKey(this->b_, "b");
  in_b.key_hash = key.key_hash;
  EXPECT_TRUE(insert(this->b_, in_b).ok());
}

TYPED_TEST_P(RepositoryConformanceTest, KeyForMissingTenantRowIsRejected) {
  TenantId ghost(this->ids_.NewUuid());
  ApiKeyRecord key = this->MakeKey(ghost, "ghost");
  Status s =
      this->InTenant(ghost, [&](Transaction& tx) { return this->keys_.Insert(tx, ghost, key); });
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
}

TYPED_TEST_P(RepositoryConformanceTest, ListPaginatesInIdOrder) {
  std::vector<ApiKeyRecord> keys;
  for (int i = 0; i < 7; ++i) keys.push_back(this->MakeKey(this->a_, "k" + std::to_string(i)));
  std::vector<ApiKeyRecord> shuffled = keys;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(42));
  for (const auto& k : shuffled) {
    ASSERT_TRUE(this->InTenant(this->a_,
                               [&](Transaction& tx) { return this->keys_.Insert(tx, this->a_, k); })
                    .ok());
  }
  this->InsertKey(this->b_, "noise");
  std::sort(keys.begin(), keys.end(), [](auto& x, auto& y) { return x.id < y.id; });
  std::vector<ApiKeyRecord> all;
  std::optional<ApiKeyId> cursor;
  std::vector<size_t> page_sizes;
  while (true) {
    auto page = this->ListKeys(this->a_, cursor, 3);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    if (page->empty()) break;
    page_sizes.push_back(page->size());
    all.insert(all.end(), page->begin(), page->end());
    cursor = page->back().id;
  }
  EXPECT_EQ(page_sizes, (std::vector<size_t>{3, 3, 1}));
  EXPECT_EQ(all, keys);
}

TYPED_TEST_P(RepositoryConformanceTest, RevokeAndTouch) {
  ApiKeyRecord key = this->InsertKey(this->a_, "k");
  const Timestamp t1 = this->clock_.Now() + std::chrono::seconds(5);
  Result<bool> revoked = false;
  auto revoke = [&](const ApiKeyId& id) {
    EXPECT_TRUE(this->InTenant(this->a_,
                               [&](Transaction& tx) -> Status {
                                 revoked = this->keys_.Revoke(tx, this->a_, id, t1);
                                 return revoked.status();
                               })
                    .ok());
    return revoked.ok() && *revoked;
  };
  EXPECT_TRUE(revoke(key.id));
  EXPECT_FALSE(revoke(key.id));  // already revoked
  EXPECT_FALSE(revoke(ApiKeyId(this->ids_.NewUuid())));
  EXPECT_EQ(this->GetKey(this->a_, key.id)->revoked_at, t1);

  const Timestamp t2 = t1 + std::chrono::seconds(1);
  auto touch = [&](const ApiKeyId& id) {
    return this->InTenant(
        this->a_, [&](Transaction& tx) { return this->keys_.TouchLastUsed(tx, this->a_, id, t2); });
  };
  EXPECT_TRUE(touch(key.id).ok());
  EXPECT_EQ(this->GetKey(this->a_, key.id)->last_used_at, t2);
  EXPECT_EQ(touch(ApiKeyId(this->ids_.NewUuid())).code(), StatusCode::kNotFound);
}

TYPED_TEST_P(RepositoryConformanceTest, TenantACanNeverReachTenantBRows) {
  ApiKeyRecord b_key = this->InsertKey(this->b_, "b secret");
  const TenantId& a = this->a_;
  EXPECT_FALSE(this->GetKey(a, b_key.id).has_value());
  auto listed = this->ListKeys(a, std::nullopt, 100);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  std::optional<ApiKeyRecord> found;
  Result<bool> revoked = true;
  Status touched;
  ASSERT_TRUE(
      this->InTenant(a,
                     [&](Transaction& tx) -> Status {
                       SB_ASSIGN_OR_RETURN(found, this->keys_.FindByHash(tx, a, b_key.key_hash));
                       revoked = this->keys_.Revoke(tx, a, b_key.id, this->clock_.Now());
                       touched = this->keys_.TouchLastUsed(tx, a, b_key.id, this->clock_.Now());
                       return OkStatus();
                     })
          .ok());
  EXPECT_FALSE(found.has_value());
  ASSERT_TRUE(revoked.ok());
  EXPECT_FALSE(*revoked);
  EXPECT_EQ(touched.code(), StatusCode::kNotFound);
  EXPECT_EQ(this->GetKey(this->b_, b_key.id), b_key);  // untouched
}

TYPED_TEST_P(RepositoryConformanceTest, CorruptRowsAreDataLoss) {
  ApiKeyRecord key = this->InsertKey(this->a_, "k");
  auto corrupt = [&](const std::string& sql) {
    Status s = this->InTenant(this->a_, [&](Transaction& tx) {
      return tx.Execute(sql, {this->a_.value(), key.id.value()}).status();
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
  };
  Status s;
  corrupt("UPDATE api_keys SET key_hash = 'not hex' WHERE tenant_id = $1 AND id = $2");
  this->GetKey(this->a_, key.id, &s);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_EQ(this->ListKeys(this->a_, std::nullopt, 10).status().code(), StatusCode::kDataLoss);
  corrupt("UPDATE api_keys SET key_hash = '" + key.key_hash +
          "', scopes = 'read,,write' WHERE tenant_id = $1 AND id = $2");
  this->GetKey(this->a_, key.id, &s);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  if constexpr (!TypeParam::kHasRowLevelSecurity) {  // SQLite: columns are not typed
    corrupt(
        "UPDATE api_keys SET scopes = 'read', created_at = 'yesterday' "
        "WHERE tenant_id = $1 AND id = $2");
    this->GetKey(this->a_, key.id, &s);
    EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  }
}

TYPED_TEST_P(RepositoryConformanceTest, FailedTransactionRollsBack) {
  ApiKeyRecord key = this->MakeKey(this->a_, "k");
  Status s = this->InTenant(this->a_, [&](Transaction& tx) -> Status {
    SB_RETURN_IF_ERROR(this->keys_.Insert(tx, this->a_, key));
    return AbortedError("caller gave up");
  });
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  EXPECT_FALSE(this->GetKey(this->a_, key.id).has_value());
}

TYPED_TEST_P(RepositoryConformanceTest, ReadOnlyTransactionRejectsWrites) {
  ApiKeyRecord key = this->MakeKey(this->a_, "k");
  Status s = this->db_->RunInTenant(this->a_, TxMode::kReadOnly, [&](Transaction& tx) {
    return this->keys_.Insert(tx, this->a_, key);
  });
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_FALSE(this->GetKey(this->a_, key.id).has_value());
}

REGISTER_TYPED_TEST_SUITE_P(RepositoryConformanceTest, TenantInsertAndGet,
                            DuplicateTenantIsAlreadyExists,
                            RepositoriesRefuseAForeignOrMissingScope, ApiKeyInsertGetAndFindByHash,
                            ApiKeyInsertValidates, DuplicateKeyIsAlreadyExists,
                            KeyForMissingTenantRowIsRejected, ListPaginatesInIdOrder,
                            RevokeAndTouch, TenantACanNeverReachTenantBRows, CorruptRowsAreDataLoss,
                            FailedTransactionRollsBack, ReadOnlyTransactionRejectsWrites);

}  // namespace sb::store::testing
