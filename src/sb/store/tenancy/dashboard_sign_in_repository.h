// DashboardSignInRepository: dashboard sign-ins with OpenID Connect in progress
// (`dashboard_sign_ins`), one per authorization request, keyed by the SHA-256 of its `state`
// like an OAuth transaction of the connect flow (OA-03): the provider, the exact redirect URI,
// the expected issuer, the nonce's hash and the hash of the browser cookie, single use, short
// lived. The PKCE verifier lives in the vault (owner DashboardSignInSecretOwner).
// Stateless SQL over a Transaction; works on every backend. Every call takes the tenant
// explicitly, filters by it and refuses (PERMISSION_DENIED) a transaction not scoped to it. Rows
// that fail validation produce DATA_LOSS. Thread-safe (no state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/status.h"
#include "sb/store/database.h"

namespace sb::store {

struct DashboardSignInRecord {
  TenantId tenant_id;
  std::string state_hash;       // lowercase hex SHA-256 of `state`
  std::string provider;         // catalog id, e.g. "google"
  std::string redirect_uri;     // exactly what the authorization request carried (OA-09)
  std::string issuer;           // the expected issuer (OA-05)
  std::string nonce_hash;       // lowercase hex SHA-256 of the nonce
  std::string browser_binding;  // lowercase hex SHA-256 of the browser cookie value
  Timestamp created_at;
  Timestamp expires_at;
  std::optional<Timestamp> consumed_at;

  friend bool operator==(const DashboardSignInRecord&, const DashboardSignInRecord&) = default;
};

class DashboardSignInRepository {
 public:
  // INVALID_ARGUMENT for a bad record, ALREADY_EXISTS for a taken state hash.
  Status Insert(Transaction& tx, const TenantId& tenant, const DashboardSignInRecord& record);
  Result<std::optional<DashboardSignInRecord>> Get(Transaction& tx, const TenantId& tenant,
                                                   std::string_view state_hash);
  // Single use: sets consumed_at only if it is unset; false when unknown or consumed before.
  Result<bool> Consume(Transaction& tx, const TenantId& tenant, std::string_view state_hash,
                       Timestamp at);
  // How many of the tenant's sign-ins expire after `now` (a bound on what strangers can store).
  Result<int64_t> CountLive(Transaction& tx, const TenantId& tenant, Timestamp now);
  // Deletes sign-ins that expired before `before`, with their verifiers; the number deleted.
  Result<int64_t> DeleteExpired(Transaction& tx, const TenantId& tenant, Timestamp before);
};

// The vault owner of a sign-in's PKCE verifier: "dashboard_sign_in:<state hash>".
std::string DashboardSignInSecretOwner(std::string_view state_hash);

}  // namespace sb::store
