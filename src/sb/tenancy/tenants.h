// TenantService: creates and reads tenants (organizations). Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sb/audit/audit_log.h"
#include "sb/audit/context.h"
#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/status.h"
#include "sb/store/database.h"
#include "sb/store/tenancy/tenant_repository.h"

namespace sb::tenancy {

// A partial update of a tenant (PATCH): absent fields stay as they are.
struct TenantPatch {
  // Origins ("https://app.example[:port]") a connect session's return_url may use (OA-06).
  std::optional<std::vector<std::string>> return_url_origins;
  // The logo on the hosted connect page: a data: URI ("data:image/png;base64,...") of a PNG,
  // JPEG, GIF or WebP image of at most kMaxLogoBytes, or "" to remove it.
  std::optional<std::string> logo;
};

inline constexpr size_t kMaxLogoBytes = 32 * 1024;  // its base64 fits a JSON string (64 KiB)

// The canonical form of a logo data: URI (its base64 re-encoded), after checking the media type
// against the image's own first bytes; "" stays "". INVALID_ARGUMENT otherwise.
Result<std::string> CanonicalLogo(std::string_view data_uri);

// What TenantService works with.
struct TenantDeps {
  store::Database& db;
  const Clock& clock;
  IdGenerator& ids;
  audit::AuditLog& audit;
  // Where List() reads across tenants (PostgreSQL: database.maintenance_url); null: `db`.
  store::Database* maintenance = nullptr;
};

class TenantService {
 public:
  static constexpr size_t kMaxReturnUrlOrigins = 20;

  explicit TenantService(TenantDeps deps)
      : db_(deps.db),
        maintenance_(deps.maintenance != nullptr ? *deps.maintenance : deps.db),
        clock_(deps.clock),
        ids_(deps.ids),
        audit_(deps.audit) {}

  // Errors: INVALID_ARGUMENT (name empty, longer than 200 characters or not UTF-8).
  // The tenant and its "tenant.create" audit entry commit together (AUD-03).
  Result<store::TenantRecord> Create(const audit::Context& ctx, const std::string& name);
  // Creates the system tenant (audit::SystemTenant(), the nil id), whose keys may hold the
  // operator scope; its audit entries join the system chain. Errors: INVALID_ARGUMENT (name),
  // ALREADY_EXISTS. Creating it and its "tenant.create" entry commit together.
  Result<store::TenantRecord> CreateSystem(const audit::Context& ctx, const std::string& name);
  // Errors: NOT_FOUND.
  Result<store::TenantRecord> Get(const TenantId& id);
  // Every tenant, ordered by id: up to `limit` after `after` (the deployment operator's list;
  // callers check who asks). INVALID_ARGUMENT for a bad limit or cursor.
  Result<std::vector<store::TenantRecord>> List(const std::optional<TenantId>& after, int limit);
  // Applies `patch`; origins are normalised (lower case, default port dropped, duplicates
  // removed). Errors: INVALID_ARGUMENT naming the field (an entry that is not a bare http(s)
  // origin, more than kMaxReturnUrlOrigins), NOT_FOUND. The change and its "tenant.update"
  // audit entry commit together.
  Result<store::TenantRecord> Update(const audit::Context& ctx, const TenantId& id,
                                     const TenantPatch& patch);

 private:
  Result<store::TenantRecord> Insert(const audit::Context& ctx, store::TenantRecord record);

  store::Database& db_;
  store::Database& maintenance_;
  const Clock& clock_;
  IdGenerator& ids_;
  audit::AuditLog& audit_;
  store::TenantRepository tenants_;
};

}  // namespace sb::tenancy
