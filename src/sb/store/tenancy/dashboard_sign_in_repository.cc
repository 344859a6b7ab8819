#include "sb/store/tenancy/dashboard_sign_in_repository.h"

#include <algorithm>

#include "sb/store/internal/repository_helpers.h"
#include "sb/store/internal/row_reader.h"

namespace sb::store {
namespace {

using internal::IsHexSha256;

using internal::CheckTenantScope;

constexpr std::string_view kTable = "dashboard_sign_ins";
constexpr std::string_view kOwnerPrefix = "dashboard_sign_in:";

#define SB_SIGN_IN_COLUMNS                                                     \
  "SELECT tenant_id, state_hash, provider, redirect_uri, issuer, nonce_hash, " \
  "browser_binding, created_at, expires_at, consumed_at FROM dashboard_sign_ins "

bool IsProviderId(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

Status Validate(const TenantId& tenant, const DashboardSignInRecord& r) {
  if (r.tenant_id != tenant) return InvalidArgumentError("dashboard sign-in of another tenant");
  if (!IsHexSha256(r.state_hash) || !IsHexSha256(r.nonce_hash) || !IsHexSha256(r.browser_binding)) {
    return InvalidArgumentError("dashboard sign-in hashes must be hex SHA-256");
  }
  if (!IsProviderId(r.provider)) return InvalidArgumentError("invalid provider id");
  if (r.redirect_uri.empty() || r.redirect_uri.size() > 2048 || r.issuer.size() > 2048) {
    return InvalidArgumentError("invalid redirect URI or issuer");
  }
  if (r.expires_at < r.created_at) return InvalidArgumentError("expires before it was created");
  return OkStatus();
}

Result<DashboardSignInRecord> Parse(const Row& row, const TenantId& tenant) {
  DashboardSignInRecord r;
  SB_ASSIGN_OR_RETURN(std::string tenant_id, internal::ReadUuid(row, 0, kTable));
  if (tenant_id != tenant.value())
    return InternalError("dashboard_sign_ins: row of another tenant");
  r.tenant_id = tenant;
  SB_ASSIGN_OR_RETURN(r.state_hash, internal::ReadText(row, 1, kTable));
  SB_ASSIGN_OR_RETURN(r.provider, internal::ReadText(row, 2, kTable));
  SB_ASSIGN_OR_RETURN(r.redirect_uri, internal::ReadText(row, 3, kTable));
  SB_ASSIGN_OR_RETURN(r.issuer, internal::ReadText(row, 4, kTable));
  SB_ASSIGN_OR_RETURN(r.nonce_hash, internal::ReadText(row, 5, kTable));
  SB_ASSIGN_OR_RETURN(r.browser_binding, internal::ReadText(row, 6, kTable));
  SB_ASSIGN_OR_RETURN(r.created_at, internal::ReadTimestamp(row, 7, kTable));
  SB_ASSIGN_OR_RETURN(r.expires_at, internal::ReadTimestamp(row, 8, kTable));
  SB_ASSIGN_OR_RETURN(r.consumed_at, internal::ReadOptionalTimestamp(row, 9, kTable));
  if (!Validate(tenant, r).ok()) return DataLossError("corrupt row in dashboard_sign_ins");
  return r;
}

}  // namespace

std::string DashboardSignInSecretOwner(std::string_view state_hash) {
  return std::string(kOwnerPrefix) + std::string(state_hash);
}

Status DashboardSignInRepository::Insert(Transaction& tx, const TenantId& tenant,
                                         const DashboardSignInRecord& r) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(Validate(tenant, r));
  const Value consumed = r.consumed_at ? Value(ToUnixMicros(*r.consumed_at)) : Value();
  return tx
      .Execute(
          "INSERT INTO dashboard_sign_ins (tenant_id, state_hash, provider, redirect_uri, issuer, "
          "nonce_hash, browser_binding, created_at, expires_at, consumed_at) VALUES ($1, $2, $3, "
          "$4, $5, $6, $7, $8, $9, $10)",
          {tenant.value(), r.state_hash, r.provider, r.redirect_uri, r.issuer, r.nonce_hash,
           r.browser_binding, ToUnixMicros(r.created_at), ToUnixMicros(r.expires_at), consumed})
      .status();
}

Result<std::optional<DashboardSignInRecord>> DashboardSignInRepository::Get(
    Transaction& tx, const TenantId& tenant, std::string_view state_hash) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!IsHexSha256(state_hash)) return InvalidArgumentError("state_hash is not hex SHA-256");
  SB_ASSIGN_OR_RETURN(auto rows,
                      tx.Query(SB_SIGN_IN_COLUMNS "WHERE tenant_id = $1 AND state_hash = $2",
                               {tenant.value(), std::string(state_hash)}));
  if (rows.empty()) return std::optional<DashboardSignInRecord>();
  SB_ASSIGN_OR_RETURN(DashboardSignInRecord r, Parse(rows.front(), tenant));
  return std::optional<DashboardSignInRecord>(std::move(r));
}

Result<bool> DashboardSignInRepository::Consume(Transaction& tx, const TenantId& tenant,
                                                std::string_view state_hash, Timestamp at) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!IsHexSha256(state_hash)) return InvalidArgumentError("state_hash is not hex SHA-256");
  // One conditional UPDATE, as OAuthTransactionRepository::Consume: only one caller wins.
  SB_ASSIGN_OR_RETURN(int64_t n,
                      tx.Execute("UPDATE dashboard_sign_ins SET consumed_at = $3 "
                                 "WHERE tenant_id = $1 AND state_hash = $2 AND "
                                 "consumed_at IS NULL",
                                 {tenant.value(), std::string(state_hash), ToUnixMicros(at)}));
  return n == 1;
}

Result<int64_t> DashboardSignInRepository::CountLive(Transaction& tx, const TenantId& tenant,
                                                     Timestamp now) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COUNT(*) FROM dashboard_sign_ins WHERE "
                                          "tenant_id = $1 AND expires_at > $2",
                                          {tenant.value(), ToUnixMicros(now)}));
  const auto* count = rows.empty() ? nullptr : std::get_if<int64_t>(&rows.front().at(0));
  if (count == nullptr) return DataLossError("COUNT(*) of dashboard_sign_ins is not a number");
  return *count;
}

Result<int64_t> DashboardSignInRepository::DeleteExpired(Transaction& tx, const TenantId& tenant,
                                                         Timestamp before) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  // Their PKCE verifiers first (DashboardSignInSecretOwner).
  SB_RETURN_IF_ERROR(tx.Execute("DELETE FROM vault_secrets WHERE tenant_id = $1 AND owner_id IN "
                                "(SELECT 'dashboard_sign_in:' || state_hash FROM "
                                "dashboard_sign_ins WHERE tenant_id = $1 AND expires_at < $2)",
                                {tenant.value(), ToUnixMicros(before)})
                         .status());
  return tx.Execute("DELETE FROM dashboard_sign_ins WHERE tenant_id = $1 AND expires_at < $2",
                    {tenant.value(), ToUnixMicros(before)});
}

}  // namespace sb::store
