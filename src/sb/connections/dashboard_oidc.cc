#include "sb/connections/dashboard_oidc.h"

#include <algorithm>

#include "sb/base/encoding.h"
#include "sb/base/logging.h"
#include "sb/connections/connect.h"
#include "sb/connections/connections.h"
#include "sb/oauth/pkce.h"

namespace sb::connections {
namespace {

constexpr size_t kMaxLoginHintBytes = 254;

// The connect flow's checks take an OAuth transaction; a sign-in carries the same fields.
store::OAuthTransactionRecord AsTransaction(const store::DashboardSignInRecord& r) {
  store::OAuthTransactionRecord t;
  t.tenant_id = r.tenant_id;
  t.state_hash = r.state_hash;
  t.provider = r.provider;
  t.redirect_uri = r.redirect_uri;
  t.issuer = r.issuer;
  t.nonce_hash = r.nonce_hash;
  t.browser_binding = r.browser_binding;
  t.created_at = r.created_at;
  t.expires_at = r.expires_at;
  t.consumed_at = r.consumed_at;
  return t;
}

OidcError ErrorOf(const StepFailure& failure) {
  switch (failure.error) {
    case CallbackError::kAccessDenied:
      return OidcError::kCancelled;
    case CallbackError::kTokenExchangeUnavailable:
    case CallbackError::kTokenExchangeRefused:
    case CallbackError::kIntegrationUnavailable:
      return OidcError::kExchangeFailed;
    case CallbackError::kMissingIdToken:
    case CallbackError::kInvalidIdToken:
    case CallbackError::kNonceMismatch:
    case CallbackError::kNoIdentity:
      return OidcError::kInvalidIdToken;
    case CallbackError::kUnavailable:
      return OidcError::kUnavailable;
    case CallbackError::kStateReplayed:
    case CallbackError::kStateExpired:
    case CallbackError::kBrowserMismatch:
      return OidcError::kInvalidState;
    default:
      return OidcError::kProviderFailed;
  }
}

void LogFailure(std::string_view provider, const StepFailure& failure) {
  log::Warn("dashboard.oidc_failed", {{"provider", std::string(provider)},
                                      {"error", std::string(CallbackErrorCode(failure.error))},
                                      {"details", failure.details.dump()}});
}

}  // namespace

std::string_view OidcErrorCode(OidcError error) {
  switch (error) {
    case OidcError::kInvalidState:
      return "invalid_state";
    case OidcError::kCancelled:
      return "cancelled";
    case OidcError::kProviderFailed:
      return "provider_error";
    case OidcError::kExchangeFailed:
      return "token_exchange_failed";
    case OidcError::kInvalidIdToken:
      return "invalid_id_token";
    case OidcError::kDirectoryRefused:
      return "directory_refused";
    case OidcError::kNoUser:
      return "no_user";
    case OidcError::kUnavailable:
      return "unavailable";
  }
  return "unavailable";
}

DashboardOidc::DashboardOidc(DashboardOidcDeps deps, DashboardOidcOptions options)
    : db_(deps.db),
      catalog_(deps.catalog),
      tokens_(deps.tokens),
      jwks_(deps.jwks),
      http_(deps.http),
      secrets_(deps.secrets),
      users_(deps.users),
      clock_(deps.clock),
      random_(deps.random),
      options_(std::move(options)) {
  // Only providers the catalog knows to speak OpenID Connect are kept, and offered.
  auto& providers = options_.providers;
  std::erase_if(providers, [&](const DashboardOidcProvider& p) {
    const oauth::ProviderEntry* entry = catalog_.Find(p.provider);
    return entry == nullptr || entry->issuer.empty() || p.client_id.empty();
  });
  for (const auto& p : providers) {
    choices_.push_back(OidcChoice{p.provider, catalog_.Find(p.provider)->display_name});
  }
}

std::string DashboardOidc::RedirectUri() const {
  std::lock_guard lock(mu_);
  return options_.public_url + "/v1/session/oidc/callback";
}

void DashboardOidc::SetPublicUrl(std::string url) {
  std::lock_guard lock(mu_);
  options_.public_url = std::move(url);
}

const DashboardOidcProvider* DashboardOidc::Configured(std::string_view provider) const {
  for (const auto& p : options_.providers) {
    if (p.provider == provider) return &p;
  }
  return nullptr;
}

Result<OidcStart> DashboardOidc::Start(const TenantId& tenant, std::string_view provider,
                                       std::string_view login_hint) {
  if (!tenant.valid()) return InvalidArgumentError("tenant_id is not a valid workspace id");
  const DashboardOidcProvider* configured = Configured(provider);
  if (configured == nullptr) {
    return InvalidArgumentError("the dashboard does not offer sign-in with this provider");
  }
  const oauth::ProviderEntry& entry = *catalog_.Find(provider);
  Request request{tenant.value() + "." + oauth::NewOpaqueSecret(random_),
                  oauth::NewOpaqueSecret(random_), oauth::NewPkce(random_)};
  OidcStart out;
  out.browser_binding = oauth::NewOpaqueSecret(random_);

  store::DashboardSignInRecord record;
  record.tenant_id = tenant;
  record.state_hash = HashHex(request.state);
  record.provider = entry.id;
  record.redirect_uri = RedirectUri();
  record.issuer = entry.issuer;
  record.nonce_hash = HashHex(request.nonce);
  record.browser_binding = HashHex(out.browser_binding);
  record.created_at = clock_.Now();
  record.expires_at = record.created_at + std::min(options_.ttl, std::chrono::seconds(600));
  SB_RETURN_IF_ERROR(Record(record, request.pkce.verifier));
  SB_ASSIGN_OR_RETURN(out.authorization_url,
                      AuthorizationUrl(entry, *configured, request, login_hint));
  return out;
}

Status DashboardOidc::Record(const store::DashboardSignInRecord& record,
                             const std::string& verifier) {
  const TenantId& tenant = record.tenant_id;
  bool too_many = false;
  const Status stored = db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto existing, tenants_.Get(tx, tenant));
    if (!existing) return OkStatus();  // nothing to sign in to: the callback will not find it
    SB_RETURN_IF_ERROR(sign_ins_.DeleteExpired(tx, tenant, record.created_at).status());
    SB_ASSIGN_OR_RETURN(const int64_t pending, sign_ins_.CountLive(tx, tenant, record.created_at));
    if (pending >= options_.max_pending_per_tenant) {
      too_many = true;
      return OkStatus();
    }
    SB_RETURN_IF_ERROR(sign_ins_.Insert(tx, tenant, record));
    return secrets_.Put(
        tx, {tenant, store::DashboardSignInSecretOwner(record.state_hash), kVerifierField},
        verifier);
  });
  // A workspace id that names no tenant reads as PERMISSION_DENIED under row-level security.
  if (!stored.ok() && stored.code() != StatusCode::kPermissionDenied) return stored;
  if (too_many) return ResourceExhaustedError("too many sign-ins in progress: try again later");
  return OkStatus();
}

Result<std::string> DashboardOidc::AuthorizationUrl(const oauth::ProviderEntry& entry,
                                                    const DashboardOidcProvider& provider,
                                                    const Request& request,
                                                    std::string_view login_hint) const {
  SB_ASSIGN_OR_RETURN(std::string url, oauth::ExpandUrl(entry, entry.authorization_url));
  std::string scopes;
  for (const auto& scope : entry.identity_scopes) {
    scopes += (scopes.empty() ? "" : entry.scope_separator) + scope;
  }
  std::vector<std::pair<std::string, std::string>> query = {
      {"response_type", "code"},
      {"client_id", provider.client_id},
      {"redirect_uri", RedirectUri()},
      {"scope", scopes},
      {"state", request.state},
      {"nonce", request.nonce},
      {"code_challenge", request.pkce.challenge},
      {"code_challenge_method", "S256"},
  };
  if (!login_hint.empty() && login_hint.size() <= kMaxLoginHintBytes) {
    query.emplace_back("login_hint", std::string(login_hint));
  }
  return url + (url.find('?') == std::string::npos ? "?" : "&") + FormEncode(query);
}

std::variant<DashboardOidc::Pending, OidcError> DashboardOidc::TakeState(
    const OidcCallback& callback) {
  auto split = SplitTenantToken(callback.state);
  if (!split) return OidcError::kInvalidState;
  Pending pending{split->first, {}, std::nullopt};
  const std::string state_hash = HashHex(callback.state);
  std::optional<CallbackError> refused;
  const vault::SecretContext verifier{pending.tenant, store::DashboardSignInSecretOwner(state_hash),
                                      kVerifierField};
  const Status s = db_.RunInTenant(pending.tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto record, sign_ins_.Get(tx, pending.tenant, state_hash));
    if (!record) {
      refused = CallbackError::kUnknownState;
      return OkStatus();
    }
    pending.record = std::move(*record);
    refused =
        CheckPendingState(AsTransaction(pending.record), callback.browser_binding, clock_.Now());
    if (refused) return OkStatus();
    SB_ASSIGN_OR_RETURN(const bool won,
                        sign_ins_.Consume(tx, pending.tenant, state_hash, clock_.Now()));
    if (!won) {
      refused = CallbackError::kStateReplayed;
      return OkStatus();
    }
    SB_ASSIGN_OR_RETURN(pending.verifier, secrets_.Get(tx, verifier));
    return secrets_.Delete(tx, verifier).status();
  });
  if (!s.ok() && s.code() != StatusCode::kPermissionDenied) {
    log::Error("dashboard.oidc_state_failed", {{"error", s.ToString()}});
    return OidcError::kUnavailable;
  }
  if (!s.ok() || refused) {
    LogFailure("unknown", StepFailure{refused.value_or(CallbackError::kUnknownState)});
    return OidcError::kInvalidState;
  }
  return pending;
}

std::variant<Identity, OidcError> DashboardOidc::Authenticate(
    const OidcCallback& callback, const Pending& pending, const DashboardOidcProvider& provider) {
  const oauth::ProviderEntry& entry = *catalog_.Find(provider.provider);
  CallbackParams params;
  params.state = callback.state;
  params.code = callback.code;
  params.error = callback.error;
  params.iss = callback.iss;
  const store::OAuthTransactionRecord transaction = AsTransaction(pending.record);
  if (auto failure =
          CheckProviderAnswer(entry, params, transaction, pending.verifier.has_value())) {
    LogFailure(provider.provider, *failure);
    return ErrorOf(*failure);
  }
  const oauth::ClientCredentials client{provider.client_id,
                                        vault::SecretBytes(provider.client_secret)};
  auto exchanged = ExchangeCode(tokens_, entry, client, callback.code, pending.record.redirect_uri,
                                pending.verifier ? pending.verifier->view() : std::string_view());
  if (auto* failure = std::get_if<StepFailure>(&exchanged)) {
    LogFailure(provider.provider, *failure);
    return ErrorOf(*failure);
  }
  auto identity = ResolveIdentity(IdentityDeps{jwks_, http_, clock_}, entry,
                                  std::get<oauth::TokenResponse>(exchanged), client.client_id,
                                  pending.record.nonce_hash);
  if (auto* failure = std::get_if<StepFailure>(&identity)) {
    LogFailure(provider.provider, *failure);
    return ErrorOf(*failure);
  }
  return std::move(std::get<Identity>(identity));
}

std::variant<tenancy::DashboardSession, OidcError> DashboardOidc::Callback(
    const OidcCallback& callback, const tenancy::AuthAttempt& attempt) {
  auto taken = TakeState(callback);
  if (auto* error = std::get_if<OidcError>(&taken)) return *error;
  const Pending& pending = std::get<Pending>(taken);
  const DashboardOidcProvider* provider = Configured(pending.record.provider);
  if (provider == nullptr) return OidcError::kProviderFailed;  // switched off since the start
  auto authenticated = Authenticate(callback, pending, *provider);
  if (auto* error = std::get_if<OidcError>(&authenticated)) return *error;
  const Identity& identity = std::get<Identity>(authenticated);
  const auto& allowed = provider->allowed_tenants;
  if (!allowed.empty() &&
      std::find(allowed.begin(), allowed.end(), identity.provider_tenant) == allowed.end()) {
    log::Warn("dashboard.oidc_directory_refused", {{"provider", provider->provider}});
    return OidcError::kDirectoryRefused;
  }
  tenancy::OidcSignInRequest request;
  request.tenant = pending.tenant;
  request.provider = provider->provider;
  request.subject = identity.subject;
  request.email = identity.email;
  request.email_trusted = identity.email_verified || !allowed.empty();
  request.attempt = attempt;
  auto session = users_.SignInWithOidc(request);
  if (session.ok()) return std::move(*session);
  if (session.status().code() == StatusCode::kUnauthenticated) return OidcError::kNoUser;
  log::Error("dashboard.oidc_sign_in_failed", {{"error", session.status().ToString()}});
  return OidcError::kUnavailable;
}

}  // namespace sb::connections
