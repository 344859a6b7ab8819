// DashboardUserService: the people who sign in to the operator dashboard, and their sessions.
//
// A user belongs to one tenant with a role: `operator` (users of the system tenant only: the
// deployment operator), `admin` (everything in the tenant) or `viewer` (reads). A role maps to
// the API's scopes, so a signed-in user is a tenancy::Principal like an API key and every route
// treats both alike; the principal carries the user's id, so audit entries name the user.
//
// Sign-in names its tenant (workspace-style): nothing is looked up across tenants, so the
// tenant's row-level security applies from the first read, and an address says nothing about
// other tenants. A wrong tenant, address or password, a disabled user and a user without a
// password all fail with one message. Passwords are Argon2id (vault/password_hash). After
// `max_failures` wrong passwords in a row a user is locked for `first_lock`, doubling per further
// failure up to `max_lock`: a lock is always temporary, so an attacker cannot lock a user out for
// long (security.md 7.3), and the per-address failure budget of the HTTP layer slows guessing
// across users.
//
// A session token reads `sbs_<tenant id, 32 hex>_<secret>` (256 random bits, base64url); only
// its SHA-256 is stored. It lives in an HttpOnly SameSite=Strict cookie. Its CSRF token is an
// HMAC of the session token, so it needs no storage and changes with every session. A session
// ends `lifetime` after sign-in, or `idle` after its last use.
// Thread-safe: holds no mutable state besides what the Database guards.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sb/audit/audit_log.h"
#include "sb/audit/context.h"
#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/random.h"
#include "sb/base/status.h"
#include "sb/store/database.h"
#include "sb/store/tenancy/dashboard_user_repository.h"
#include "sb/store/tenancy/tenant_repository.h"
#include "sb/tenancy/api_keys.h"
#include "sb/vault/password_hash.h"

namespace sb::tenancy {

struct DashboardUserOptions {
  std::chrono::seconds lifetime{12 * 3600};
  std::chrono::seconds idle{2 * 3600};
  int max_failures = 5;
  std::chrono::seconds first_lock{60};
  std::chrono::seconds max_lock{900};
  // last_seen_at is written at most this often per session.
  std::chrono::seconds touch_resolution{60};
  vault::PasswordHashParams hash_params;
  // Passwords shorter than this are refused when set (not when checked at sign-in).
  size_t min_password_bytes = 12;
};

struct DashboardUserDeps {
  store::Database& db;
  const Clock& clock;
  Random& random;
  IdGenerator& ids;
  audit::AuditLog& audit;
};

struct NewDashboardUser {
  std::string email;
  std::string name;
  store::DashboardRole role = store::DashboardRole::kViewer;
  std::optional<std::string> password;  // none: signs in with OpenID Connect only
};

struct SignInRequest {
  TenantId tenant;
  std::string email;
  std::string password;
  AuthAttempt attempt;
};

// An account an OpenID Connect provider vouched for (connections::DashboardOidc checked the ID
// token).
struct OidcSignInRequest {
  TenantId tenant;
  std::string provider;  // catalog id, e.g. "google"
  std::string subject;   // the provider's stable account id (sub, Microsoft's oid)
  std::string email;     // may be empty
  // The provider vouches for `email` (a verified address, or an allowed Microsoft directory):
  // only then may a sign-in link the account to the user with that address.
  bool email_trusted = false;
  AuthAttempt attempt;
};

// A signed-in user: what a sign-in returns and what a session token resolves to.
struct DashboardSession {
  Principal principal;
  store::DashboardUserRecord user;
  std::string tenant_name;
  std::string token;  // the session token (only from SignIn: to be set as the cookie)
  std::string csrf_token;
  Timestamp expires_at;
};

class DashboardUserService {
 public:
  explicit DashboardUserService(DashboardUserDeps deps, DashboardUserOptions options = {});

  // How long a session lives at most (the cookie's Max-Age).
  std::chrono::seconds lifetime() const { return options_.lifetime; }

  // The scopes of a role.
  static std::set<Scope> ScopesOf(store::DashboardRole role);
  // The tenant named by a session token; nullopt when the token is malformed.
  static std::optional<TenantId> TenantOfSession(std::string_view token);
  // The CSRF token of a session token.
  static std::string CsrfTokenOf(std::string_view session_token);

  // Errors: INVALID_ARGUMENT (address, name, password, the operator role outside the system
  // tenant), ALREADY_EXISTS (the address is taken in the tenant), NOT_FOUND (no such tenant).
  // Audited as "dashboard_user.create" with the record.
  Result<store::DashboardUserRecord> Create(const audit::Context& ctx, const TenantId& tenant,
                                            const NewDashboardUser& user);
  Result<std::vector<store::DashboardUserRecord>> List(const TenantId& tenant,
                                                       const std::optional<DashboardUserId>& after,
                                                       int limit);
  // Deletes the user and their sessions. NOT_FOUND when there is none. Audited.
  Status Delete(const audit::Context& ctx, const TenantId& tenant, const DashboardUserId& id);

  // Errors: UNAUTHENTICATED (one message for every cause), RESOURCE_EXHAUSTED while the user is
  // locked (`retry_after`, when given, receives the time left). Audited as "dashboard.sign_in"
  // (success with the user as actor; failures anonymous, in the tenant when it exists).
  Result<DashboardSession> SignIn(const SignInRequest& request,
                                  std::chrono::seconds* retry_after = nullptr);
  // Signs in the user linked to the provider account; else, when the address is trusted, the
  // user with that address and no linked account, linking this one to them (so that a later
  // change of address at the provider changes nothing). Nobody is created: an admin adds users
  // first. UNAUTHENTICATED (one message) for no such user, a user linked to another account, or
  // a disabled user. A lock from wrong passwords does not apply (the provider authenticated the
  // user) and is lifted. Audited as "dashboard.sign_in" with the method and provider.
  Result<DashboardSession> SignInWithOidc(const OidcSignInRequest& request);
  // What Authenticate reads: the principal (every request: the session and its user), or also
  // the tenant's name (GET /v1/session), which costs one more read.
  enum class SessionDetail { kPrincipal, kWithTenantName };
  // Resolves a session token. UNAUTHENTICATED for a malformed, unknown or expired one.
  Result<DashboardSession> Authenticate(std::string_view token,
                                        SessionDetail detail = SessionDetail::kPrincipal);
  // Ends the session of `token` (audited as "dashboard.sign_out"); OK when it had ended.
  Status SignOut(const audit::Context& ctx, std::string_view token);

 private:
  // `password`: the one just verified, to rehash under new parameters; none for OIDC. `how`:
  // audit details of the method.
  Result<DashboardSession> StartSession(store::Transaction& tx,
                                        const store::DashboardUserRecord& user,
                                        const AuthAttempt& attempt, const std::string* password,
                                        Json how);
  Result<std::optional<store::DashboardUserRecord>> FindOidcUser(store::Transaction& tx,
                                                                 const OidcSignInRequest& request,
                                                                 std::string& failure);
  Status RecordFailedSignIn(const TenantId& tenant, const AuthAttempt& attempt, Json details);
  Status CountFailure(store::Transaction& tx, store::DashboardUserRecord user);
  std::chrono::seconds LockFor(int64_t failures) const;

  store::Database& db_;
  const Clock& clock_;
  Random& random_;
  IdGenerator& ids_;
  audit::AuditLog& audit_;
  DashboardUserOptions options_;
  const std::string& DummyHash();
  std::once_flag dummy_once_;
  std::string dummy_hash_;  // verified against for unknown users, so that timing says nothing
  store::DashboardUserRepository users_;
  store::TenantRepository tenants_;
};

}  // namespace sb::tenancy
