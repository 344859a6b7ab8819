// ApiKeyRepository: rows of the `api_keys` table. Stateless SQL over a Transaction; works on
// every backend. Every call takes the tenant explicitly, filters by tenant_id in its SQL, and
// refuses (PERMISSION_DENIED) a transaction that is not scoped to that tenant. Rows that fail
// validation (ids, hex hash, scopes, timestamps) produce DATA_LOSS. Thread-safe (no state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/status.h"
#include "sb/store/database.h"

namespace sb::store {

struct ApiKeyRecord {
  TenantId tenant_id;
  ApiKeyId id;
  std::string name;
  std::string key_hash;  // lowercase hex SHA-256 (64 characters)
  std::vector<std::string> scopes;
  Timestamp created_at;
  std::optional<Timestamp> last_used_at;
  std::optional<Timestamp> revoked_at;

  friend bool operator==(const ApiKeyRecord&, const ApiKeyRecord&) = default;
};

class ApiKeyRepository {
 public:
  static constexpr int kMaxListLimit = 1000;

  // Inserts `record`. REQUIRES record.tenant_id == tenant. Errors: INVALID_ARGUMENT (mismatch,
  // bad id or hash, empty or comma-containing scope), ALREADY_EXISTS (same id or same hash in
  // this tenant), FAILED_PRECONDITION (tenant row missing; SQLite) or PERMISSION_DENIED.
  Status Insert(Transaction& tx, const TenantId& tenant, const ApiKeyRecord& record);

  // The key, or nullopt when it does not exist in `tenant`.
  Result<std::optional<ApiKeyRecord>> Get(Transaction& tx, const TenantId& tenant,
                                          const ApiKeyId& id);

  // The key of `tenant` whose hash is `key_hash`, or nullopt (also for revoked keys: callers
  // check revoked_at).
  Result<std::optional<ApiKeyRecord>> FindByHash(Transaction& tx, const TenantId& tenant,
                                                 const std::string& key_hash);

  // Up to `limit` (1..kMaxListLimit) keys of `tenant` ordered by id, starting after `after_id`
  // (the previous page's last id) when given.
  Result<std::vector<ApiKeyRecord>> List(Transaction& tx, const TenantId& tenant,
                                         const std::optional<ApiKeyId>& after_id, int limit);

  // Sets revoked_at; false when the key does not exist in `tenant` or is already revoked.
  Result<bool> Revoke(Transaction& tx, const TenantId& tenant, const ApiKeyId& id, Timestamp at);

  // Sets last_used_at. NOT_FOUND when the key does not exist in `tenant`.
  Status TouchLastUsed(Transaction& tx, const TenantId& tenant, const ApiKeyId& id, Timestamp at);
};

// "a,b" <-> {"a", "b"}; the empty string is the empty list.
std::string JoinScopes(const std::vector<std::string>& scopes);
std::optional<std::vector<std::string>> SplitScopes(std::string_view text);

}  // namespace sb::store
