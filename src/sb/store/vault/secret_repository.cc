#include "sb/store/vault/secret_repository.h"

#include <algorithm>

#include "sb/store/internal/row_reader.h"

namespace sb::store {
namespace {

using internal::CheckTenantScope;

constexpr std::string_view kSecrets = "vault_secrets";
constexpr std::string_view kState = "vault_state";
constexpr int64_t kMaxVersion = 0x7fffffff;

#define SB_SECRET_COLUMNS \
  "SELECT tenant_id, owner_id, field, ciphertext, key_version, updated_at FROM vault_secrets "

bool IsValidOwner(std::string_view s) {
  return !s.empty() && s.size() <= 200 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c != 0x7f; });
}

bool IsValidField(std::string_view s) {
  return !s.empty() && s.size() <= 100 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
}

bool IsValidVersion(int64_t v) { return v >= 1 && v <= kMaxVersion; }

constexpr std::string_view kSystemTenant = "00000000-0000-0000-0000-000000000000";

// Maintenance runs unscoped, or scoped to the deployment-wide system tenant (the nil id) so that
// its audit entries can join the same transaction.
Status RequireUnscoped(const Transaction& tx) {
  if (tx.tenant().has_value() && tx.tenant()->value() != kSystemTenant) {
    return FailedPreconditionError("vault maintenance needs an unscoped maintenance transaction");
  }
  return OkStatus();
}

Result<int64_t> ReadInt(const Row& row, size_t i, std::string_view table) {
  if (i >= row.size()) return DataLossError("corrupt row in " + std::string(table));
  const auto* v = std::get_if<int64_t>(&row.at(i));
  if (v == nullptr) return DataLossError("corrupt row in " + std::string(table));
  return *v;
}

// `tenant` is the expected tenant, or nullptr in maintenance scans.
Result<SecretRecord> ParseSecret(const Row& row, const TenantId* tenant) {
  SecretRecord r;
  SB_ASSIGN_OR_RETURN(std::string tenant_id, internal::ReadUuid(row, 0, kSecrets));
  if (tenant != nullptr && tenant_id != tenant->value()) {
    return InternalError("vault_secrets: row of another tenant");
  }
  r.tenant_id = TenantId(std::move(tenant_id));
  SB_ASSIGN_OR_RETURN(r.owner_id, internal::ReadText(row, 1, kSecrets));
  SB_ASSIGN_OR_RETURN(r.field, internal::ReadText(row, 2, kSecrets));
  SB_ASSIGN_OR_RETURN(r.ciphertext, internal::ReadText(row, 3, kSecrets));
  SB_ASSIGN_OR_RETURN(r.key_version, ReadInt(row, 4, kSecrets));
  SB_ASSIGN_OR_RETURN(r.updated_at, internal::ReadTimestamp(row, 5, kSecrets));
  if (!IsValidOwner(r.owner_id) || !IsValidField(r.field) || !IsValidVersion(r.key_version) ||
      r.ciphertext.empty()) {
    return DataLossError("corrupt row in vault_secrets");
  }
  return r;
}

Result<std::vector<SecretRecord>> ParseSecrets(const std::vector<Row>& rows,
                                               const TenantId* tenant) {
  std::vector<SecretRecord> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    SB_ASSIGN_OR_RETURN(SecretRecord r, ParseSecret(row, tenant));
    out.push_back(std::move(r));
  }
  return out;
}

Status ValidateAddress(const std::string& owner_id, const std::string& field) {
  if (!IsValidOwner(owner_id)) return InvalidArgumentError("invalid secret owner id");
  if (!IsValidField(field)) return InvalidArgumentError("invalid secret field name");
  return OkStatus();
}

Status ValidateState(const VaultState& s) {
  if (!IsValidVersion(s.write_version) || !IsValidVersion(s.min_decrypt_version) ||
      s.min_decrypt_version > s.write_version) {
    return InvalidArgumentError(
        "vault state must satisfy 1 <= min_decrypt_version <= write_version");
  }
  return OkStatus();
}

}  // namespace

Status SecretRepository::Upsert(Transaction& tx, const TenantId& tenant, const SecretRecord& r) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (r.tenant_id != tenant) return InvalidArgumentError("secret tenant_id != tenant");
  SB_RETURN_IF_ERROR(ValidateAddress(r.owner_id, r.field));
  if (!IsValidVersion(r.key_version)) return InvalidArgumentError("invalid secret key version");
  if (r.ciphertext.empty()) return InvalidArgumentError("empty ciphertext");
  return tx
      .Execute(
          "INSERT INTO vault_secrets (tenant_id, owner_id, field, ciphertext, key_version, "
          "updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, owner_id, field) "
          "DO UPDATE SET ciphertext = excluded.ciphertext, key_version = excluded.key_version, "
          "updated_at = excluded.updated_at",
          {tenant.value(), r.owner_id, r.field, r.ciphertext, r.key_version,
           ToUnixMicros(r.updated_at)})
      .status();
}

Result<std::optional<SecretRecord>> SecretRepository::Get(Transaction& tx, const TenantId& tenant,
                                                          const std::string& owner_id,
                                                          const std::string& field) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(ValidateAddress(owner_id, field));
  SB_ASSIGN_OR_RETURN(
      auto rows, tx.Query(SB_SECRET_COLUMNS "WHERE tenant_id = $1 AND owner_id = $2 AND field = $3",
                          {tenant.value(), owner_id, field}));
  if (rows.empty()) return std::optional<SecretRecord>();
  SB_ASSIGN_OR_RETURN(SecretRecord r, ParseSecret(rows.front(), &tenant));
  return std::optional<SecretRecord>(std::move(r));
}

Result<bool> SecretRepository::Delete(Transaction& tx, const TenantId& tenant,
                                      const std::string& owner_id, const std::string& field) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(ValidateAddress(owner_id, field));
  SB_ASSIGN_OR_RETURN(int64_t n, tx.Execute("DELETE FROM vault_secrets WHERE tenant_id = $1 AND "
                                            "owner_id = $2 AND field = $3",
                                            {tenant.value(), owner_id, field}));
  return n > 0;
}

Result<int64_t> SecretRepository::DeleteOwner(Transaction& tx, const TenantId& tenant,
                                              const std::string& owner_id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!IsValidOwner(owner_id)) return InvalidArgumentError("invalid secret owner id");
  return tx.Execute("DELETE FROM vault_secrets WHERE tenant_id = $1 AND owner_id = $2",
                    {tenant.value(), owner_id});
}

Result<std::vector<SecretRecord>> SecretRepository::MaintenanceListBelowVersion(
    Transaction& tx, int64_t version, const std::optional<SecretCursor>& after, int limit) {
  SB_RETURN_IF_ERROR(RequireUnscoped(tx));
  if (limit < 1 || limit > kMaxBatch) return InvalidArgumentError("batch size out of range");
  Result<std::vector<Row>> rows = std::vector<Row>();
  if (after.has_value()) {
    if (!after->tenant_id.valid()) return InvalidArgumentError("invalid cursor");
    rows = tx.Query(
        SB_SECRET_COLUMNS
        "WHERE key_version < $1 AND (tenant_id > $2 OR (tenant_id = $2 AND "
        "(owner_id > $3 OR (owner_id = $3 AND field > $4)))) "
        "ORDER BY tenant_id, owner_id, field LIMIT $5",
        {version, after->tenant_id.value(), after->owner_id, after->field, int64_t{limit}});
  } else {
    rows = tx.Query(SB_SECRET_COLUMNS
                    "WHERE key_version < $1 ORDER BY tenant_id, owner_id, field LIMIT $2",
                    {version, int64_t{limit}});
  }
  SB_RETURN_IF_ERROR(rows);
  return ParseSecrets(*rows, nullptr);
}

Result<bool> SecretRepository::MaintenanceReplaceIf(
    Transaction& tx, const TenantId& tenant, const std::string& owner_id, const std::string& field,
    const std::string& expected, const std::string& ciphertext, int64_t key_version, Timestamp at) {
  SB_RETURN_IF_ERROR(RequireUnscoped(tx));
  if (!tenant.valid()) return InvalidArgumentError("invalid tenant id");
  SB_RETURN_IF_ERROR(ValidateAddress(owner_id, field));
  if (!IsValidVersion(key_version)) return InvalidArgumentError("invalid secret key version");
  SB_ASSIGN_OR_RETURN(
      int64_t n,
      tx.Execute(
          "UPDATE vault_secrets SET ciphertext = $5, key_version = $6, updated_at = $7 "
          "WHERE tenant_id = $1 AND owner_id = $2 AND field = $3 AND ciphertext = $4",
          {tenant.value(), owner_id, field, expected, ciphertext, key_version, ToUnixMicros(at)}));
  return n > 0;
}

Result<std::map<int64_t, int64_t>> SecretRepository::MaintenanceCountByVersion(Transaction& tx) {
  SB_RETURN_IF_ERROR(RequireUnscoped(tx));
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT key_version, COUNT(*) FROM vault_secrets "
                                          "GROUP BY key_version ORDER BY key_version"));
  std::map<int64_t, int64_t> out;
  for (const Row& row : rows) {
    SB_ASSIGN_OR_RETURN(int64_t version, ReadInt(row, 0, kSecrets));
    out[version] = row.GetInt(1);
  }
  return out;
}

Result<int64_t> SecretRepository::MaintenanceCountBelow(Transaction& tx, int64_t version) {
  SB_RETURN_IF_ERROR(RequireUnscoped(tx));
  SB_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT COUNT(*) FROM vault_secrets WHERE key_version < $1", {version}));
  if (rows.empty()) return InternalError("COUNT returned no row");
  return rows.front().GetInt(0);
}

Result<std::optional<VaultState>> VaultStateRepository::Get(Transaction& tx, Lock lock) {
  std::string sql = "SELECT write_version, min_decrypt_version, updated_at FROM vault_state";
  if (tx.backend() == Backend::kPostgres) {
    if (lock == Lock::kShare) sql += " FOR SHARE";
    if (lock == Lock::kUpdate) sql += " FOR UPDATE";
  }
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(sql));
  if (rows.empty()) return std::optional<VaultState>();
  if (rows.size() > 1) return DataLossError("corrupt vault_state: more than one row");
  VaultState s;
  SB_ASSIGN_OR_RETURN(s.write_version, ReadInt(rows.front(), 0, kState));
  SB_ASSIGN_OR_RETURN(s.min_decrypt_version, ReadInt(rows.front(), 1, kState));
  SB_ASSIGN_OR_RETURN(s.updated_at, internal::ReadTimestamp(rows.front(), 2, kState));
  if (!ValidateState(s).ok()) return DataLossError("corrupt row in vault_state");
  return std::optional<VaultState>(s);
}

Result<VaultState> VaultStateRepository::InitializeIfAbsent(Transaction& tx,
                                                            const VaultState& state) {
  SB_RETURN_IF_ERROR(ValidateState(state));
  SB_RETURN_IF_ERROR(
      tx.Execute("INSERT INTO vault_state (id, write_version, min_decrypt_version, "
                 "updated_at) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING",
                 {state.write_version, state.min_decrypt_version, ToUnixMicros(state.updated_at)})
          .status());
  SB_ASSIGN_OR_RETURN(auto current, Get(tx, Lock::kNone));
  if (!current) return InternalError("vault_state missing after initialization");
  return *current;
}

Status VaultStateRepository::Set(Transaction& tx, const VaultState& state) {
  SB_RETURN_IF_ERROR(ValidateState(state));
  SB_ASSIGN_OR_RETURN(
      int64_t n,
      tx.Execute("UPDATE vault_state SET write_version = $1, "
                 "min_decrypt_version = $2, updated_at = $3 WHERE id = 1",
                 {state.write_version, state.min_decrypt_version, ToUnixMicros(state.updated_at)}));
  if (n == 0) return FailedPreconditionError("vault state is not initialized");
  return OkStatus();
}

#undef SB_SECRET_COLUMNS

}  // namespace sb::store
