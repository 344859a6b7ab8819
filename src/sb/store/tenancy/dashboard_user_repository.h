// DashboardUserRepository: dashboard users (`dashboard_users`) and their sessions
// (`dashboard_sessions`), per tenant.
// Stateless SQL over a Transaction; works on every backend. Tenant calls take the tenant
// explicitly, filter by tenant_id in their SQL and refuse (PERMISSION_DENIED) a transaction not
// scoped to it. Rows that fail validation produce DATA_LOSS. Thread-safe (no state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/status.h"
#include "sb/store/database.h"

namespace sb::store {

// kOperator: the deployment operator (users of the system tenant only); kAdmin: everything in
// the user's tenant; kViewer: reads in the user's tenant.
enum class DashboardRole { kOperator, kAdmin, kViewer };
std::string_view DashboardRoleName(DashboardRole role);  // "operator", "admin", "viewer"
std::optional<DashboardRole> ParseDashboardRole(std::string_view text);

struct DashboardUserRecord {
  static constexpr size_t kMaxEmailBytes = 254;
  static constexpr size_t kMaxNameBytes = 200;

  TenantId tenant_id;
  DashboardUserId id;
  std::string email;  // lower case, 3..254 bytes with one '@'
  std::string name;   // 0..200 bytes of text
  DashboardRole role = DashboardRole::kViewer;
  std::optional<std::string> password_hash;  // an Argon2id PHC string; none: OIDC only
  int64_t failed_logins = 0;                 // failed sign-ins in a row
  std::optional<Timestamp> locked_until;
  bool disabled = false;
  // The OpenID Connect account the user signs in with (catalog provider id and the provider's
  // stable subject); both empty until the first such sign-in links one.
  std::string oidc_provider;
  std::string oidc_subject;
  Timestamp created_at;
  Timestamp updated_at;

  friend bool operator==(const DashboardUserRecord&, const DashboardUserRecord&) = default;
};

struct DashboardSessionRecord {
  TenantId tenant_id;
  DashboardSessionId id;
  DashboardUserId user_id;
  std::string token_hash;  // lowercase hex SHA-256 of the whole session token
  Timestamp created_at;
  Timestamp expires_at;
  Timestamp last_seen_at;

  friend bool operator==(const DashboardSessionRecord&, const DashboardSessionRecord&) = default;
};

class DashboardUserRepository {
 public:
  static constexpr int kMaxListLimit = 1000;

  // INVALID_ARGUMENT for a bad record (or one of another tenant), ALREADY_EXISTS for a taken id
  // or e-mail address in the tenant.
  Status Insert(Transaction& tx, const TenantId& tenant, const DashboardUserRecord& user);
  Result<std::optional<DashboardUserRecord>> Get(Transaction& tx, const TenantId& tenant,
                                                 const DashboardUserId& id);
  Result<std::optional<DashboardUserRecord>> FindByEmail(Transaction& tx, const TenantId& tenant,
                                                         std::string_view email);
  // The user linked to this OpenID Connect account.
  Result<std::optional<DashboardUserRecord>> FindByOidc(Transaction& tx, const TenantId& tenant,
                                                        std::string_view provider,
                                                        std::string_view subject);
  // Up to `limit` (1..kMaxListLimit) users ordered by id, after `after` when given.
  Result<std::vector<DashboardUserRecord>> List(Transaction& tx, const TenantId& tenant,
                                                const std::optional<DashboardUserId>& after,
                                                int limit);
  // Writes every mutable column (name, role, password, sign-in counters, disabled, the linked
  // OpenID Connect account, updated_at). NOT_FOUND when there is no such user; ALREADY_EXISTS
  // when another user of the tenant is linked to the same account.
  Status Update(Transaction& tx, const TenantId& tenant, const DashboardUserRecord& user);
  // Deletes the user and (cascade) their sessions; false when there was none.
  Result<bool> Delete(Transaction& tx, const TenantId& tenant, const DashboardUserId& id);

  Status InsertSession(Transaction& tx, const TenantId& tenant,
                       const DashboardSessionRecord& session);
  Result<std::optional<DashboardSessionRecord>> FindSession(Transaction& tx, const TenantId& tenant,
                                                            std::string_view token_hash);
  Status TouchSession(Transaction& tx, const TenantId& tenant, const DashboardSessionId& id,
                      Timestamp at);
  Result<bool> DeleteSession(Transaction& tx, const TenantId& tenant, const DashboardSessionId& id);
  // Every session of the user (sign-out everywhere, a password change); the number deleted.
  Result<int64_t> DeleteSessionsOf(Transaction& tx, const TenantId& tenant,
                                   const DashboardUserId& user);
  Result<int64_t> DeleteExpiredSessions(Transaction& tx, const TenantId& tenant, Timestamp now);
};

}  // namespace sb::store
