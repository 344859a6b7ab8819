// TenantService: creates and reads tenants (organizations). Thread-safe.
#pragma once

#include <string>

#include "sb/audit/audit_log.h"
#include "sb/audit/context.h"
#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/status.h"
#include "sb/store/database.h"
#include "sb/store/tenant_repository.h"

namespace sb::tenancy {

class TenantService {
 public:
  TenantService(store::Database& db, const Clock& clock, IdGenerator& ids, audit::AuditLog& audit)
      : db_(db), clock_(clock), ids_(ids), audit_(audit) {}

  // Errors: INVALID_ARGUMENT (name empty, longer than 200 characters or not UTF-8).
  // The tenant and its "tenant.create" audit entry commit together (AUD-03).
  Result<store::TenantRecord> Create(const audit::Context& ctx, const std::string& name);
  // Creates the system tenant (audit::SystemTenant(), the nil id), whose keys may hold the
  // operator scope; its audit entries join the system chain. Errors: INVALID_ARGUMENT (name),
  // ALREADY_EXISTS. Creating it and its "tenant.create" entry commit together.
  Result<store::TenantRecord> CreateSystem(const audit::Context& ctx, const std::string& name);
  // Errors: NOT_FOUND.
  Result<store::TenantRecord> Get(const TenantId& id);

 private:
  Result<store::TenantRecord> Insert(const audit::Context& ctx, store::TenantRecord record);

  store::Database& db_;
  const Clock& clock_;
  IdGenerator& ids_;
  audit::AuditLog& audit_;
  store::TenantRepository tenants_;
};

}  // namespace sb::tenancy
