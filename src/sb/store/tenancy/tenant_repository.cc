#include "sb/store/tenancy/tenant_repository.h"

#include "sb/base/json.h"
#include "sb/store/internal/repository_helpers.h"
#include "sb/store/internal/row_reader.h"

namespace sb::store {

using internal::CheckTenantScope;

Status TenantRepository::Insert(Transaction& tx, const TenantId& tenant,
                                const TenantRecord& record) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (record.id != tenant) return InvalidArgumentError("tenant record id != tenant");
  if (record.name.empty()) return InvalidArgumentError("tenant name is empty");
  return tx
      .Execute("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)",
               {tenant.value(), record.name, ToUnixMicros(record.created_at)})
      .status();
}

namespace {

constexpr char kTenantColumns[] =
    "SELECT id, name, created_at, return_url_origins, logo FROM tenants ";

Result<TenantRecord> ParseTenant(const Row& row) {
  TenantRecord record;
  SB_ASSIGN_OR_RETURN(std::string id, internal::ReadUuid(row, 0, "tenants"));
  record.id = TenantId(std::move(id));
  SB_ASSIGN_OR_RETURN(record.name, internal::ReadText(row, 1, "tenants"));
  SB_ASSIGN_OR_RETURN(record.created_at, internal::ReadTimestamp(row, 2, "tenants"));
  SB_ASSIGN_OR_RETURN(const Json parsed, internal::ReadJson(row, 3, "tenants"));
  if (!parsed.is_array()) return DataLossError("corrupt row in tenants");
  for (const Json& origin : parsed) {
    if (!origin.is_string()) return DataLossError("corrupt row in tenants");
    record.return_url_origins.push_back(origin.get<std::string>());
  }
  SB_ASSIGN_OR_RETURN(record.logo, internal::ReadText(row, 4, "tenants"));
  return record;
}

}  // namespace

Result<std::optional<TenantRecord>> TenantRepository::Get(Transaction& tx, const TenantId& tenant) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_ASSIGN_OR_RETURN(std::vector<Row> rows,
                      tx.Query(std::string(kTenantColumns) + "WHERE id = $1", {tenant.value()}));
  if (rows.empty()) return std::optional<TenantRecord>();
  SB_ASSIGN_OR_RETURN(TenantRecord record, ParseTenant(rows.front()));
  if (record.id != tenant) return InternalError("tenants: row of another tenant returned");
  return std::optional<TenantRecord>(std::move(record));
}

Result<std::vector<TenantRecord>> TenantRepository::MaintenanceList(
    Transaction& tx, const std::optional<TenantId>& after, int limit) {
  SB_RETURN_IF_ERROR(internal::RequireUnscoped(tx, "tenant"));
  if (limit < 1 || limit > kMaxListLimit) return InvalidArgumentError("list limit out of range");
  if (after && !after->valid()) return InvalidArgumentError("invalid list cursor");
  // PostgreSQL compares ids as uuid, so the first page has no lower bound rather than ''.
  SB_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      after ? tx.Query(std::string(kTenantColumns) + "WHERE id > $1 ORDER BY id LIMIT $2",
                       {after->value(), int64_t{limit}})
            : tx.Query(std::string(kTenantColumns) + "ORDER BY id LIMIT $1", {int64_t{limit}}));
  std::vector<TenantRecord> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    SB_ASSIGN_OR_RETURN(TenantRecord record, ParseTenant(row));
    out.push_back(std::move(record));
  }
  return out;
}

Result<bool> TenantRepository::SetReturnUrlOrigins(Transaction& tx, const TenantId& tenant,
                                                   const std::vector<std::string>& origins) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_ASSIGN_OR_RETURN(int64_t n,
                      tx.Execute("UPDATE tenants SET return_url_origins = $2 WHERE id = $1",
                                 {tenant.value(), Json(origins).dump()}));
  return n > 0;
}

Result<bool> TenantRepository::SetLogo(Transaction& tx, const TenantId& tenant,
                                       const std::string& logo) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_ASSIGN_OR_RETURN(
      int64_t n, tx.Execute("UPDATE tenants SET logo = $2 WHERE id = $1", {tenant.value(), logo}));
  return n > 0;
}

Status TenantRepository::LockForQuota(Transaction& tx, const TenantId& tenant) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (tx.backend() != Backend::kPostgres) return OkStatus();
  return tx.Query("SELECT id FROM tenants WHERE id = $1 FOR UPDATE", {tenant.value()}).status();
}

}  // namespace sb::store
