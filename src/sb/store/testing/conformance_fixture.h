// Fixture of the storage conformance suite (repository_conformance.h): a migrated app database
// of one backend, two tenants, and helpers that run repository calls in a tenant transaction.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "sb/base/encoding.h"
#include "sb/base/ids.h"
#include "sb/base/random.h"
#include "sb/base/testing/fake_clock.h"
#include "sb/store/tenancy/api_key_repository.h"
#include "sb/store/tenancy/tenant_repository.h"
#include "sb/store/testing/test_backends.h"

namespace sb::store::testing {

// Each test gets a migrated app database of backend `TestBackend` and two fresh tenants.
template <typename TestBackend>
class RepositoryConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = OpenMigrated(backend_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    a_ = NewTenant("tenant a");
    b_ = NewTenant("tenant b");
  }

  TenantId NewTenant(const std::string& name) {
    TenantId id(ids_.NewUuid());
    TenantRecord record{id, name, clock_.Now()};
    Status s = InTenant(id, [&](Transaction& tx) { return tenants_.Insert(tx, id, record); });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return id;
  }

  ApiKeyRecord MakeKey(const TenantId& tenant, const std::string& name) {
    clock_.Advance(std::chrono::milliseconds(1));
    return ApiKeyRecord{tenant,
                        ApiKeyId(ids_.NewUuid()),
                        name,
                        HexEncode(random_.Bytes(32)),
                        {"read", "write"},
                        clock_.Now(),
                        std::nullopt,
                        std::nullopt};
  }

  Status InTenant(const TenantId& t, const TransactionFn& fn) { return db_->RunInTenant(t, fn); }

  // Runs `fn` in its own transaction of `tenant` and returns what it returned (a Status or a
  // Result), or the transaction's error.
  template <typename Fn>
  auto Call(const TenantId& tenant, Fn fn) {
    return CallIn(*db_, &tenant, fn);
  }

  // The same in an unscoped transaction of `db` (maintenance calls).
  template <typename Fn>
  static auto CallUnscoped(Database& db, Fn fn) {
    return CallIn(db, nullptr, fn);
  }

 private:
  template <typename Fn>
  static auto CallIn(Database& db, const TenantId* tenant, Fn& fn) {
    using R = std::invoke_result_t<Fn, Transaction&>;
    std::optional<R> out;
    auto body = [&](Transaction& tx) -> Status {
      out.emplace(fn(tx));
      return ::sb::internal::AsStatus(*out);
    };
    Status s = tenant != nullptr ? db.RunInTenant(*tenant, body) : db.RunUnscoped(body);
    if (!s.ok() || !out.has_value()) return R(s);
    return std::move(*out);
  }

 protected:
  ApiKeyRecord InsertKey(const TenantId& tenant, const std::string& name) {
    ApiKeyRecord key = MakeKey(tenant, name);
    Status s = InTenant(tenant, [&](Transaction& tx) { return keys_.Insert(tx, tenant, key); });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return key;
  }

  // Get() in its own transaction; EXPECTs success unless `status` is given to receive it.
  std::optional<ApiKeyRecord> GetKey(const TenantId& tenant, const ApiKeyId& id,
                                     Status* status = nullptr) {
    std::optional<ApiKeyRecord> out;
    Status s = InTenant(tenant, [&](Transaction& tx) -> Status {
      SB_ASSIGN_OR_RETURN(out, keys_.Get(tx, tenant, id));
      return OkStatus();
    });
    if (status != nullptr) {
      *status = s;
    } else {
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
    return out;
  }

  Result<std::vector<ApiKeyRecord>> ListKeys(const TenantId& tenant,
                                             const std::optional<ApiKeyId>& after, int limit) {
    std::vector<ApiKeyRecord> out;
    Status s = InTenant(tenant, [&](Transaction& tx) -> Status {
      SB_ASSIGN_OR_RETURN(out, keys_.List(tx, tenant, after, limit));
      return OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }

  TestBackend backend_;
  sb::testing::FakeClock clock_;
  SystemRandom random_;
  IdGenerator ids_{clock_, random_};
  std::unique_ptr<Database> db_;
  TenantRepository tenants_;
  ApiKeyRepository keys_;
  TenantId a_;
  TenantId b_;
};

}  // namespace sb::store::testing
