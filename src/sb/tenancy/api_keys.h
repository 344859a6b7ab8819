// ApiKeyService: issues, authenticates, lists and revokes per-tenant API keys.
//
// A key reads `sb_live_<tenant id, 32 hex>_<secret>`: the readable prefix says what it is, the
// tenant part lets the server open the right tenant's transaction (so that PostgreSQL row-level
// security applies even to authentication), and the secret is 256 random bits in base64url.
// Only the SHA-256 of the whole key is stored; the key itself is returned once, at creation.
// Authentication compares the stored hash in constant time and fails with one message for
// every cause (unknown, malformed, revoked) so that it reveals nothing.
// Thread-safe: holds no mutable state besides what the Database guards.
#pragma once

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sb/audit/audit_log.h"
#include "sb/audit/context.h"
#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/random.h"
#include "sb/base/status.h"
#include "sb/store/database.h"
#include "sb/store/tenancy/api_key_repository.h"
#include "sb/store/tenancy/tenant_repository.h"

namespace sb::tenancy {

// kRead, kWrite: the tenant's own resources. kAdmin: everything in the key's own tenant (its
// keys, its kill switches, its usage). kOperator: the deployment-wide operator role (create
// tenants, read and act across tenants, the global kill switch); only keys of the system
// tenant (audit::SystemTenant(), the nil id) may hold it.
enum class Scope { kAdmin, kRead, kWrite, kOperator };

// Parses "admin", "read", "write", "operator".
std::optional<Scope> ParseScope(std::string_view text);
std::string_view ScopeName(Scope scope);

// Who is calling: the result of a successful authentication.
struct Principal {
  TenantId tenant_id;
  ApiKeyId key_id;  // empty for a dashboard user
  std::set<Scope> scopes;
  // Set for a dashboard user signed in with a session (DashboardUserService).
  std::optional<DashboardUserId> user_id;

  bool Has(Scope s) const { return scopes.count(s) > 0; }
  // The deployment operator: the operator scope on a key of the system tenant.
  bool IsOperator() const { return Has(Scope::kOperator) && tenant_id == audit::SystemTenant(); }
};

struct IssuedKey {
  store::ApiKeyRecord record;
  std::string plaintext;  // shown once; never logged or stored
};

// Where an authentication attempt came from, for the audit entry of a failure.
struct AuthAttempt {
  std::string request_id;
  std::string remote_address;
};

struct ApiKeyServiceOptions {
  // last_used_at is written at most this often per key, keeping the hot path read-only.
  std::chrono::seconds last_used_resolution{60};
};

// What ApiKeyService works with.
struct ApiKeyDeps {
  store::Database& db;
  const Clock& clock;
  Random& random;  // the keys' secrets
  IdGenerator& ids;
  audit::AuditLog& audit;
};

class ApiKeyService {
 public:
  explicit ApiKeyService(ApiKeyDeps deps, ApiKeyServiceOptions options = {});

  // Creates a key for `tenant`. Errors: INVALID_ARGUMENT (empty scopes or bad name; the
  // operator scope for a tenant other than the system tenant), NOT_FOUND (no such tenant).
  // The key and its "api_key.create" audit entry commit together (AUD-03).
  Result<IssuedKey> Create(const audit::Context& ctx, const TenantId& tenant,
                           const std::string& name, const std::set<Scope>& scopes);

  // Resolves a bearer token to its principal. Errors: UNAUTHENTICATED.
  // On UNAUTHENTICATED, `failure_reason` (when given) receives the cause for the audit entry
  // ("malformed key", "unknown key", "revoked key"); the caller records it with RecordFailure.
  Result<Principal> Authenticate(std::string_view token, std::string* failure_reason = nullptr);
  // Audits a failed authentication ("auth.failure", actor anonymous, the presented key only as
  // its HMAC) in the key's tenant when that tenant exists, else in the system chain, so that
  // made-up tenant ids cannot create chains. A failure to audit is logged, not returned: the
  // request is refused either way.
  void RecordFailure(std::string_view token, const AuthAttempt& attempt, std::string_view reason);

  Result<std::vector<store::ApiKeyRecord>> List(const TenantId& tenant,
                                                const std::optional<ApiKeyId>& after, int limit);
  Result<store::ApiKeyRecord> Get(const TenantId& tenant, const ApiKeyId& id);

  // Revokes at once. Errors: NOT_FOUND (no such key in this tenant, or already revoked).
  // The revocation and its "api_key.revoke" audit entry commit together.
  Status Revoke(const audit::Context& ctx, const TenantId& tenant, const ApiKeyId& id);

  // Parses the tenant id out of a key; nullopt when the key is malformed.
  static std::optional<TenantId> TenantOfKey(std::string_view token);

 private:
  store::Database& db_;
  const Clock& clock_;
  Random& random_;
  IdGenerator& ids_;
  audit::AuditLog& audit_;
  ApiKeyServiceOptions options_;
  store::ApiKeyRepository keys_;
  store::TenantRepository tenants_;
};

}  // namespace sb::tenancy
