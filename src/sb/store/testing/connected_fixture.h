// The fixture of conformance suites whose rows hang off a connection (sync, calendar, push):
// RepositoryConformanceTest plus the maintenance database for cross-tenant scans and a
// PutConnection that inserts a bare connection of a tenant.
#pragma once

#include <memory>

#include <gtest/gtest.h>

#include "sb/store/connections/connect_repository.h"
#include "sb/store/testing/conformance_fixture.h"

namespace sb::store::testing {

template <typename TestBackend>
class ConnectedConformanceTest : public RepositoryConformanceTest<TestBackend> {
 protected:
  void SetUp() override {
    RepositoryConformanceTest<TestBackend>::SetUp();
    auto maint = this->backend_.OpenMaintenance();
    ASSERT_TRUE(maint.ok()) << maint.status().ToString();
    maint_ = std::move(maint).value();
  }

  template <typename Fn>
  auto Maintenance(Fn fn) {
    return this->CallUnscoped(*maint_, fn);
  }

  ConnectionId PutConnection(const TenantId& tenant) {
    ConnectionRecord r;
    r.tenant_id = tenant;
    r.id = ConnectionId(this->ids_.NewUuid());
    r.provider = "google";
    r.end_user_id = "user-1";
    r.account_subject = "sub-" + r.id.value();
    r.created_at = this->clock_.Now();
    r.updated_at = r.created_at;
    EXPECT_TRUE(
        this->Call(tenant, [&](Transaction& tx) { return conns_.Insert(tx, tenant, r); }).ok());
    return r.id;
  }

  std::unique_ptr<Database> maint_;
  ConnectionRepository conns_;
};

}  // namespace sb::store::testing
