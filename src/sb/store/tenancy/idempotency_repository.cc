#include "sb/store/tenancy/idempotency_repository.h"

#include <algorithm>
#include <utility>

#include "sb/store/internal/repository_helpers.h"
#include "sb/store/internal/row_reader.h"

namespace sb::store {
namespace {

using internal::IsHexSha256;

using internal::CheckTenantScope;
using internal::Corrupt;
using internal::ReadInt;
using internal::ReadText;
using internal::ReadTimestamp;

constexpr std::string_view kKeys = "idempotency_keys";
constexpr size_t kMaxKeyBytes = 255;
constexpr size_t kMaxHeadersBytes = size_t{64} * 1024;
constexpr size_t kMaxBodyBytes = size_t{1024} * 1024;
constexpr int kMaxDeleteLimit = 10000;

// ---- Field rules ----

bool IsKey(std::string_view s) { return internal::IsPrintable(s, kMaxKeyBytes); }

bool IsAnswerStatus(int64_t status) { return status >= 100 && status <= 599; }

// An object of string values (header name -> value), at most 64 KiB serialized.
Result<std::string> SerializeHeaders(const Json& headers) {
  if (headers.is_object()) {
    for (const auto& [name, value] : headers.items()) {
      if (name.empty() || !value.is_string()) {
        return InvalidArgumentError("headers must map names to strings");
      }
    }
  }
  return internal::SerializeObject(headers, kMaxHeadersBytes, "headers");
}

Status ValidateAnswer(int status, std::string_view body) {
  if (status != 0 && !IsAnswerStatus(status)) {
    return InvalidArgumentError("status must be 0 or 100..599");
  }
  if (body.size() > kMaxBodyBytes) return InvalidArgumentError("body larger than 1 MiB");
  return OkStatus();
}

// Everything but the headers, which SerializeHeaders checks.
Status ValidateRecord(const IdempotencyRecord& r) {
  if (!r.tenant_id.valid()) return InvalidArgumentError("invalid tenant_id");
  if (!IsKey(r.key)) return InvalidArgumentError("invalid key: 1..255 bytes of visible ASCII");
  if (!IsHexSha256(r.fingerprint)) {
    return InvalidArgumentError("fingerprint is not lowercase hex SHA-256");
  }
  return ValidateAnswer(r.status, r.body);
}

// ---- Decoding: anything unexpected is DATA_LOSS ----

#define SB_KEY_COLUMNS \
  "tenant_id, key, fingerprint, status, headers, body, created_at, locked_until, expires_at"

Result<std::string> ReadBody(const Row& row, size_t i) {
  if (i >= row.size()) return Corrupt(kKeys);
  const auto* bytes = std::get_if<Bytes>(&row.at(i));
  if (bytes == nullptr) return Corrupt(kKeys);
  return bytes->data;
}

Result<IdempotencyRecord> ParseKey(const Row& row, const TenantId& tenant) {
  if (row.size() != 9) return Corrupt(kKeys);
  IdempotencyRecord r;
  SB_RETURN_IF_ERROR(internal::ReadTenant(row, tenant, kKeys));
  r.tenant_id = tenant;
  SB_ASSIGN_OR_RETURN(r.key, ReadText(row, 1, kKeys));
  SB_ASSIGN_OR_RETURN(r.fingerprint, ReadText(row, 2, kKeys));
  SB_ASSIGN_OR_RETURN(int64_t status, ReadInt(row, 3, kKeys));
  if (status != 0 && !IsAnswerStatus(status)) return Corrupt(kKeys);
  r.status = static_cast<int>(status);
  SB_ASSIGN_OR_RETURN(r.headers, internal::ReadObject(row, 4, kMaxHeadersBytes, kKeys));
  SB_ASSIGN_OR_RETURN(r.body, ReadBody(row, 5));
  SB_ASSIGN_OR_RETURN(r.created_at, ReadTimestamp(row, 6, kKeys));
  SB_ASSIGN_OR_RETURN(r.locked_until, ReadTimestamp(row, 7, kKeys));
  SB_ASSIGN_OR_RETURN(r.expires_at, ReadTimestamp(row, 8, kKeys));
  if (!ValidateRecord(r).ok() || !SerializeHeaders(r.headers).ok()) return Corrupt(kKeys);
  return r;
}

Result<std::optional<IdempotencyRecord>> Select(Transaction& tx, const TenantId& tenant,
                                                std::string_view key) {
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT " SB_KEY_COLUMNS " FROM idempotency_keys "
                                          "WHERE tenant_id = $1 AND key = $2",
                                          {tenant.value(), std::string(key)}));
  return internal::ParseFirst(rows, tenant, &ParseKey);
}

// Inserts `r`, or takes the existing row when it has expired (every field replaced) or is an
// abandoned claim (fingerprint and times replaced, status stays 0); true when either happened.
Result<bool> InsertOrTakeOver(Transaction& tx, const TenantId& tenant, const IdempotencyRecord& r,
                              std::string headers, Timestamp now) {
  SB_ASSIGN_OR_RETURN(
      int64_t n,
      tx.Execute("INSERT INTO idempotency_keys (" SB_KEY_COLUMNS
                 ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
                 "ON CONFLICT (tenant_id, key) DO UPDATE SET fingerprint = excluded.fingerprint, "
                 "status = CASE WHEN idempotency_keys.expires_at <= $10 THEN excluded.status "
                 "ELSE idempotency_keys.status END, "
                 "headers = CASE WHEN idempotency_keys.expires_at <= $10 THEN excluded.headers "
                 "ELSE idempotency_keys.headers END, "
                 "body = CASE WHEN idempotency_keys.expires_at <= $10 THEN excluded.body "
                 "ELSE idempotency_keys.body END, "
                 "created_at = excluded.created_at, locked_until = excluded.locked_until, "
                 "expires_at = excluded.expires_at "
                 "WHERE idempotency_keys.expires_at <= $10 OR "
                 "(idempotency_keys.status = 0 AND idempotency_keys.locked_until <= $10)",
                 {tenant.value(), r.key, r.fingerprint, int64_t{r.status}, std::move(headers),
                  Bytes{r.body}, ToUnixMicros(r.created_at), ToUnixMicros(r.locked_until),
                  ToUnixMicros(r.expires_at), ToUnixMicros(now)}));
  return n > 0;
}

}  // namespace

Result<IdempotencyClaim> IdempotencyRepository::Claim(Transaction& tx, const TenantId& tenant,
                                                      const IdempotencyRecord& r, Timestamp now) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (r.tenant_id != tenant) return InvalidArgumentError("idempotency tenant_id != tenant");
  SB_RETURN_IF_ERROR(ValidateRecord(r));
  if (r.status != 0) return InvalidArgumentError("a claim's status must be 0");
  SB_ASSIGN_OR_RETURN(std::string headers, SerializeHeaders(r.headers));
  SB_ASSIGN_OR_RETURN(bool claimed, InsertOrTakeOver(tx, tenant, r, std::move(headers), now));
  if (claimed) return IdempotencyClaim{ClaimOutcome::kClaimed, std::nullopt};
  SB_ASSIGN_OR_RETURN(std::optional<IdempotencyRecord> existing, Select(tx, tenant, r.key));
  // The upsert left a row in place, so it is there unless removed since (another transaction).
  if (!existing) return AbortedError("idempotency key removed while claiming it; retry");
  return IdempotencyClaim{ClaimOutcome::kFound, std::move(existing)};
}

Status IdempotencyRepository::Complete(Transaction& tx, const TenantId& tenant,
                                       std::string_view key, int status, const Json& headers,
                                       std::string_view body) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!IsKey(key)) return InvalidArgumentError("invalid key: 1..255 bytes of visible ASCII");
  if (!IsAnswerStatus(status)) return InvalidArgumentError("status must be 100..599");
  SB_RETURN_IF_ERROR(ValidateAnswer(status, body));
  SB_ASSIGN_OR_RETURN(std::string text, SerializeHeaders(headers));
  SB_ASSIGN_OR_RETURN(int64_t n, tx.Execute("UPDATE idempotency_keys SET status = $3, "
                                            "headers = $4, body = $5 "
                                            "WHERE tenant_id = $1 AND key = $2 AND status = 0",
                                            {tenant.value(), std::string(key), int64_t{status},
                                             std::move(text), Bytes{std::string(body)}}));
  if (n > 0) return OkStatus();
  SB_ASSIGN_OR_RETURN(std::optional<IdempotencyRecord> existing, Select(tx, tenant, key));
  if (!existing) return NotFoundError("idempotency key not found");
  return FailedPreconditionError("idempotency key already answered");
}

Result<bool> IdempotencyRepository::Release(Transaction& tx, const TenantId& tenant,
                                            std::string_view key) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!IsKey(key)) return InvalidArgumentError("invalid key: 1..255 bytes of visible ASCII");
  SB_ASSIGN_OR_RETURN(int64_t n, tx.Execute("DELETE FROM idempotency_keys WHERE tenant_id = $1 "
                                            "AND key = $2 AND status = 0",
                                            {tenant.value(), std::string(key)}));
  return n > 0;
}

Result<std::optional<IdempotencyRecord>> IdempotencyRepository::Get(Transaction& tx,
                                                                    const TenantId& tenant,
                                                                    std::string_view key) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!IsKey(key)) return InvalidArgumentError("invalid key: 1..255 bytes of visible ASCII");
  return Select(tx, tenant, key);
}

Result<int64_t> IdempotencyRepository::MaintenanceDeleteExpired(Transaction& tx, Timestamp now,
                                                                int limit) {
  SB_RETURN_IF_ERROR(internal::RequireUnscoped(tx, "idempotency key"));
  if (limit < 1 || limit > kMaxDeleteLimit) return InvalidArgumentError("limit out of range");
  // Neither backend has DELETE ... LIMIT: the rows are picked by the expiry index first.
  return tx.Execute(
      "DELETE FROM idempotency_keys WHERE (tenant_id, key) IN (SELECT tenant_id, key FROM "
      "idempotency_keys WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2)",
      {ToUnixMicros(now), int64_t{limit}});
}

#undef SB_KEY_COLUMNS

}  // namespace sb::store
