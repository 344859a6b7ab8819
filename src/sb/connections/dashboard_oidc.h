// DashboardOidc: signing in to the operator dashboard with an OpenID Connect provider (Google,
// Microsoft) instead of a password. The deployment registers an OAuth app of its own per
// provider (dashboard.<provider>_client_id / _client_secret); the flow is the connect flow's,
// with the same protections:
//   1. Start() records a sign-in (store/tenancy/dashboard_sign_in_repository.h) keyed by the hash
//      of a `state` that names the workspace ("<tenant>.<secret>", OA-03), with an OIDC nonce
//      (OA-04), a PKCE S256 verifier in the vault (OA-01) and the hash of a browser-binding value
//      for an HttpOnly cookie, and returns the provider's authorization URL with the fixed
//      redirect URI <public_url>/v1/session/oidc/callback (OA-06). A workspace that does not exist
//      gets an authorization URL too, but nothing is stored, so the callback fails like any
//      unknown state and the answer says nothing about which workspaces exist.
//   2. Callback() checks the state (known, unexpired, same browser, single use), the issuer
//      (RFC 9207), exchanges the code with the verifier (OA-09), validates the ID token (OA-14,
//      nonce included) and signs in the dashboard user linked to that account, or, the first
//      time, the user whose address the provider vouches for (tenancy::DashboardUserService::
//      SignInWithOidc). Nobody is created here: an admin adds users first.
// An address is vouched for when the ID token says email_verified (Google). Microsoft's
// addresses are not verified, so for Microsoft an operator lists the directories (`tid`) whose
// users may sign in (dashboard.microsoft_tenants); users of other directories are refused, and
// within a listed directory the account's sign-in name links it.
// Failures before the user is known are logged, not audited (strangers could otherwise write to
// a tenant's audit chain per request); the sign-in's own failures are audited by the user
// service. Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/random.h"
#include "sb/connections/callback_steps.h"
#include "sb/net/http_client.h"
#include "sb/oauth/catalog.h"
#include "sb/oauth/jwks_cache.h"
#include "sb/oauth/pkce.h"
#include "sb/oauth/token_client.h"
#include "sb/store/database.h"
#include "sb/store/tenancy/dashboard_sign_in_repository.h"
#include "sb/store/tenancy/tenant_repository.h"
#include "sb/tenancy/dashboard_users.h"
#include "sb/vault/secret_store.h"

namespace sb::connections {

// One provider the dashboard offers for sign-in.
struct DashboardOidcProvider {
  std::string provider;  // a catalog id whose entry speaks OpenID Connect
  std::string client_id;
  std::string client_secret;
  // The provider directories (Microsoft's tid) whose users may sign in; empty: any, and an
  // account links only by an address the provider says it verified.
  std::vector<std::string> allowed_tenants;
};

struct DashboardOidcOptions {
  std::string public_url = "http://127.0.0.1:8080";
  std::vector<DashboardOidcProvider> providers;
  std::chrono::seconds ttl{600};  // OA-03: at most 10 minutes
  // Sign-ins a workspace may have in progress at once: a bound on what strangers can store.
  int64_t max_pending_per_tenant = 1000;
};

struct DashboardOidcDeps {
  store::Database& db;
  const oauth::ProviderCatalog& catalog;
  const oauth::TokenClient& tokens;
  oauth::JwksCache& jwks;
  net::HttpClient& http;
  vault::SecretStore& secrets;
  tenancy::DashboardUserService& users;
  const Clock& clock;
  Random& random;
};

struct OidcChoice {
  std::string provider;
  std::string display_name;
};

struct OidcStart {
  std::string authorization_url;
  std::string browser_binding;  // the cookie value; the sign-in keeps its hash
};

// Why a sign-in with a provider failed; api/ shows the code (OidcErrorCode) on the sign-in page.
enum class OidcError {
  kInvalidState,      // unknown, malformed, replayed or expired state, or another browser
  kCancelled,         // the user declined at the provider
  kProviderFailed,    // the provider answered with an error, a wrong issuer or no code
  kExchangeFailed,    // the token endpoint refused or failed
  kInvalidIdToken,    // the ID token failed validation
  kDirectoryRefused,  // a Microsoft directory that is not allowed
  kNoUser,            // no dashboard user of the workspace signs in with this account
  kUnavailable,       // the database failed
};
std::string_view OidcErrorCode(OidcError error);  // "invalid_state", "cancelled", ...

struct OidcCallback {
  std::string state;
  std::string code;
  std::string error;
  std::optional<std::string> iss;
  std::string browser_binding;  // the cookie value ("" when none came)
};

class DashboardOidc {
 public:
  DashboardOidc(DashboardOidcDeps deps, DashboardOidcOptions options);

  // The configured providers that the catalog knows to speak OpenID Connect.
  const std::vector<OidcChoice>& Providers() const { return choices_; }
  // The fixed redirect URI: <public_url>/v1/session/oidc/callback.
  std::string RedirectUri() const;
  // Where browsers reach the hub; settable once the listening port is known (safe at any time).
  void SetPublicUrl(std::string url);

  // INVALID_ARGUMENT for a bad workspace id or a provider not offered; RESOURCE_EXHAUSTED when
  // the workspace has max_pending_per_tenant sign-ins in progress. `login_hint` (an address the
  // user typed, may be empty) is passed on to the provider.
  Result<OidcStart> Start(const TenantId& tenant, std::string_view provider,
                          std::string_view login_hint);
  std::variant<tenancy::DashboardSession, OidcError> Callback(const OidcCallback& callback,
                                                              const tenancy::AuthAttempt& attempt);

 private:
  // The secrets of one authorization request.
  struct Request {
    std::string state;  // "<tenant>.<secret>"
    std::string nonce;
    oauth::Pkce pkce;
  };
  // Stores the sign-in and its verifier, in a tenant that exists (else nothing).
  Status Record(const store::DashboardSignInRecord& record, const std::string& verifier);
  Result<std::string> AuthorizationUrl(const oauth::ProviderEntry& entry,
                                       const DashboardOidcProvider& provider,
                                       const Request& request, std::string_view login_hint) const;
  struct Pending {
    TenantId tenant;
    store::DashboardSignInRecord record;
    std::optional<vault::SecretBytes> verifier;
  };
  const DashboardOidcProvider* Configured(std::string_view provider) const;
  std::variant<Pending, OidcError> TakeState(const OidcCallback& callback);
  std::variant<Identity, OidcError> Authenticate(const OidcCallback& callback,
                                                 const Pending& pending,
                                                 const DashboardOidcProvider& provider);

  store::Database& db_;
  const oauth::ProviderCatalog& catalog_;
  const oauth::TokenClient& tokens_;
  oauth::JwksCache& jwks_;
  net::HttpClient& http_;
  vault::SecretStore& secrets_;
  tenancy::DashboardUserService& users_;
  const Clock& clock_;
  Random& random_;
  mutable std::mutex mu_;
  DashboardOidcOptions options_;  // public_url guarded by mu_; providers: the offered ones
  std::vector<OidcChoice> choices_;
  store::DashboardSignInRepository sign_ins_;
  store::TenantRepository tenants_;
};

}  // namespace sb::connections
