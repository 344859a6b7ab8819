// TenantService: creates and reads tenants (organizations). Thread-safe.
#pragma once

#include <string>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/status.h"
#include "sb/store/database.h"
#include "sb/store/tenant_repository.h"

namespace sb::tenancy {

class TenantService {
 public:
  TenantService(store::Database& db, const Clock& clock, IdGenerator& ids)
      : db_(db), clock_(clock), ids_(ids) {}

  // Errors: INVALID_ARGUMENT (name empty, longer than 200 characters or not UTF-8).
  Result<store::TenantRecord> Create(const std::string& name);
  // Errors: NOT_FOUND.
  Result<store::TenantRecord> Get(const TenantId& id);

 private:
  store::Database& db_;
  const Clock& clock_;
  IdGenerator& ids_;
  store::TenantRepository tenants_;
};

}  // namespace sb::tenancy
