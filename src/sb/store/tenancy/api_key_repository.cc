#include "sb/store/tenancy/api_key_repository.h"

#include <algorithm>

#include "sb/store/internal/repository_helpers.h"
#include "sb/store/internal/row_reader.h"

namespace sb::store {
namespace {

using internal::IsHexSha256;

using internal::CheckTenantScope;

constexpr std::string_view kTable = "api_keys";
#define SB_API_KEY_COLUMNS                                                                   \
  "SELECT tenant_id, id, name, key_hash, scopes, created_at, last_used_at, revoked_at FROM " \
  "api_keys "

bool IsValidScope(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f && c != ','; });
}

Result<ApiKeyRecord> ParseRow(const Row& row, const TenantId& tenant) {
  ApiKeyRecord r;
  SB_ASSIGN_OR_RETURN(std::string tenant_id, internal::ReadUuid(row, 0, kTable));
  if (tenant_id != tenant.value()) return InternalError("api_keys: row of another tenant");
  r.tenant_id = TenantId(std::move(tenant_id));
  SB_ASSIGN_OR_RETURN(std::string id, internal::ReadUuid(row, 1, kTable));
  r.id = ApiKeyId(std::move(id));
  SB_ASSIGN_OR_RETURN(r.name, internal::ReadText(row, 2, kTable));
  SB_ASSIGN_OR_RETURN(r.key_hash, internal::ReadText(row, 3, kTable));
  if (!IsHexSha256(r.key_hash)) return DataLossError("corrupt row in api_keys: key_hash");
  SB_ASSIGN_OR_RETURN(std::string scopes, internal::ReadText(row, 4, kTable));
  auto split = SplitScopes(scopes);
  if (!split) return DataLossError("corrupt row in api_keys: scopes");
  r.scopes = std::move(*split);
  SB_ASSIGN_OR_RETURN(r.created_at, internal::ReadTimestamp(row, 5, kTable));
  SB_ASSIGN_OR_RETURN(r.last_used_at, internal::ReadOptionalTimestamp(row, 6, kTable));
  SB_ASSIGN_OR_RETURN(r.revoked_at, internal::ReadOptionalTimestamp(row, 7, kTable));
  return r;
}

Result<std::vector<ApiKeyRecord>> ParseRows(const std::vector<Row>& rows, const TenantId& tenant) {
  std::vector<ApiKeyRecord> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    SB_ASSIGN_OR_RETURN(ApiKeyRecord r, ParseRow(row, tenant));
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::optional<ApiKeyRecord>> ParseOptional(const std::vector<Row>& rows,
                                                  const TenantId& tenant) {
  if (rows.empty()) return std::optional<ApiKeyRecord>();
  SB_ASSIGN_OR_RETURN(ApiKeyRecord r, ParseRow(rows.front(), tenant));
  return std::optional<ApiKeyRecord>(std::move(r));
}

Status ValidateForInsert(const TenantId& tenant, const ApiKeyRecord& r) {
  if (r.tenant_id != tenant) return InvalidArgumentError("api key tenant_id != tenant");
  if (!r.id.valid()) return InvalidArgumentError("invalid api key id");
  if (!IsHexSha256(r.key_hash)) return InvalidArgumentError("key_hash is not hex SHA-256");
  if (!std::all_of(r.scopes.begin(), r.scopes.end(), IsValidScope)) {
    return InvalidArgumentError("invalid api key scope");
  }
  return OkStatus();
}

Value OptionalMicros(const std::optional<Timestamp>& t) {
  return t ? Value(ToUnixMicros(*t)) : Value(std::monostate());
}

}  // namespace

std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const std::string& s : scopes) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

std::optional<std::vector<std::string>> SplitScopes(std::string_view text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string_view part = text.substr(start, comma - start);
    if (!IsValidScope(part)) return std::nullopt;
    out.emplace_back(part);
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

Status ApiKeyRepository::Insert(Transaction& tx, const TenantId& tenant, const ApiKeyRecord& r) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(ValidateForInsert(tenant, r));
  return tx
      .Execute(
          "INSERT INTO api_keys (tenant_id, id, name, key_hash, scopes, created_at, "
          "last_used_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
          {tenant.value(), r.id.value(), r.name, r.key_hash, JoinScopes(r.scopes),
           ToUnixMicros(r.created_at), OptionalMicros(r.last_used_at),
           OptionalMicros(r.revoked_at)})
      .status();
}

Result<std::optional<ApiKeyRecord>> ApiKeyRepository::Get(Transaction& tx, const TenantId& tenant,
                                                          const ApiKeyId& id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!id.valid()) return std::optional<ApiKeyRecord>();
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(SB_API_KEY_COLUMNS "WHERE tenant_id = $1 AND id = $2",
                                          {tenant.value(), id.value()}));
  return ParseOptional(rows, tenant);
}

Result<std::optional<ApiKeyRecord>> ApiKeyRepository::FindByHash(Transaction& tx,
                                                                 const TenantId& tenant,
                                                                 const std::string& key_hash) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_ASSIGN_OR_RETURN(auto rows,
                      tx.Query(SB_API_KEY_COLUMNS "WHERE tenant_id = $1 AND key_hash = $2",
                               {tenant.value(), key_hash}));
  return ParseOptional(rows, tenant);
}

Result<std::vector<ApiKeyRecord>> ApiKeyRepository::List(Transaction& tx, const TenantId& tenant,
                                                         const std::optional<ApiKeyId>& after_id,
                                                         int limit) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (limit < 1 || limit > kMaxListLimit) return InvalidArgumentError("list limit out of range");
  Result<std::vector<Row>> rows = std::vector<Row>();
  if (after_id.has_value()) {
    if (!after_id->valid()) return InvalidArgumentError("invalid list cursor");
    rows = tx.Query(SB_API_KEY_COLUMNS "WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                    {tenant.value(), after_id->value(), int64_t{limit}});
  } else {
    rows = tx.Query(SB_API_KEY_COLUMNS "WHERE tenant_id = $1 ORDER BY id LIMIT $2",
                    {tenant.value(), int64_t{limit}});
  }
  SB_RETURN_IF_ERROR(rows);
  return ParseRows(*rows, tenant);
}

Result<bool> ApiKeyRepository::Revoke(Transaction& tx, const TenantId& tenant, const ApiKeyId& id,
                                      Timestamp at) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!id.valid()) return false;
  SB_ASSIGN_OR_RETURN(int64_t n, tx.Execute("UPDATE api_keys SET revoked_at = $3 WHERE "
                                            "tenant_id = $1 AND id = $2 AND revoked_at IS NULL",
                                            {tenant.value(), id.value(), ToUnixMicros(at)}));
  return n > 0;
}

Status ApiKeyRepository::TouchLastUsed(Transaction& tx, const TenantId& tenant, const ApiKeyId& id,
                                       Timestamp at) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!id.valid()) return NotFoundError("api key not found");
  SB_ASSIGN_OR_RETURN(int64_t n,
                      tx.Execute("UPDATE api_keys SET last_used_at = $3 WHERE tenant_id = $1 "
                                 "AND id = $2",
                                 {tenant.value(), id.value(), ToUnixMicros(at)}));
  if (n == 0) return NotFoundError("api key not found");
  return OkStatus();
}

#undef SB_API_KEY_COLUMNS

}  // namespace sb::store
