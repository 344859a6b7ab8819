// TenantRepository: rows of the `tenants` table. Stateless SQL over a Transaction; works on
// every backend. Every call takes the tenant explicitly and refuses (PERMISSION_DENIED) a
// transaction that is not scoped to that tenant (Database::RunInTenant). Thread-safe (no state).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/status.h"
#include "sb/store/database.h"

namespace sb::store {

struct TenantRecord {
  TenantId id;
  std::string name;
  Timestamp created_at;
  // Normalised origins ("https://app.example[:port]") a connect session's return_url may use
  // (OA-06; migration 10). Empty: none yet.
  std::vector<std::string> return_url_origins;
  // The logo on the hosted connect page: a data: URI of an image (migration 22), '' for none.
  std::string logo;

  friend bool operator==(const TenantRecord&, const TenantRecord&) = default;
};

class TenantRepository {
 public:
  static constexpr int kMaxListLimit = 1000;

  // Inserts `record`. REQUIRES record.id == tenant. Errors: INVALID_ARGUMENT (mismatch, empty
  // name), ALREADY_EXISTS, PERMISSION_DENIED (transaction scope).
  Status Insert(Transaction& tx, const TenantId& tenant, const TenantRecord& record);

  // The tenant's row, or nullopt. DATA_LOSS for a malformed row.
  Result<std::optional<TenantRecord>> Get(Transaction& tx, const TenantId& tenant);

  // Maintenance (unscoped transactions only, the deployment operator's view): up to `limit`
  // (1..kMaxListLimit) tenants ordered by id, after `after` when given; the system tenant too.
  Result<std::vector<TenantRecord>> MaintenanceList(Transaction& tx,
                                                    const std::optional<TenantId>& after,
                                                    int limit);

  // Replaces the tenant's return_url_origins (stored as given). False when there is no such
  // tenant.
  Result<bool> SetReturnUrlOrigins(Transaction& tx, const TenantId& tenant,
                                   const std::vector<std::string>& origins);
  // Serializes quota checks of `tenant` until `tx` ends: count-then-insert of two transactions
  // cannot both pass a quota. PostgreSQL locks the tenant's row (FOR UPDATE); SQLite needs
  // nothing (one writer at a time).
  // Sets the logo (checked by the caller). Returns false when there is no such tenant.
  Result<bool> SetLogo(Transaction& tx, const TenantId& tenant, const std::string& logo);
  Status LockForQuota(Transaction& tx, const TenantId& tenant);
};

}  // namespace sb::store
