#include "sb/connections/connect.h"

#include <algorithm>
#include <utility>

#include "sb/base/encoding.h"
#include "sb/base/logging.h"
#include "sb/base/quota.h"
#include "sb/oauth/id_token.h"
#include "sb/oauth/pkce.h"
#include "sb/oauth/provider_json.h"
#include "sb/store/tenancy/tenant_repository.h"
#include "sb/vault/digest.h"

namespace sb::connections {
namespace {

using store::ConnectionRecord;
using store::ServiceGrant;

constexpr char kVerifierField[] = "code_verifier";
constexpr size_t kMaxProviders = 64;

bool IsAbsoluteHttpUrl(std::string_view url) {
  const bool scheme = url.starts_with("https://") || url.starts_with("http://");
  if (!scheme || url.size() > 2048) return false;
  const size_t host = url.find("://") + 3;
  if (host >= url.size() || url[host] == '/') return false;
  return std::none_of(url.begin(), url.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '"' || c == '<' || c == '>' ||
           c == '\\';
  });
}

bool IsServiceName(std::string_view s) {
  return !s.empty() && s.size() <= 32 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

// RFC 9207 / OIDC issuer comparison: exact bytes, where a "{tenantid}" in the expected issuer
// stands for one GUID (Microsoft's multi-tenant issuer template).
bool IssuerMatches(std::string_view expected, std::string_view actual) {
  constexpr std::string_view kTenant = "{tenantid}";
  const size_t at = expected.find(kTenant);
  if (at == std::string_view::npos) return expected == actual;
  const std::string_view prefix = expected.substr(0, at);
  const std::string_view suffix = expected.substr(at + kTenant.size());
  if (actual.size() != prefix.size() + 36 + suffix.size()) return false;
  return actual.starts_with(prefix) && actual.ends_with(suffix) &&
         IsCanonicalUuid(actual.substr(prefix.size(), 36));
}

// Whether `scope` is among `granted`; providers may answer with the resource-qualified form
// (Microsoft: "https://graph.microsoft.com/Calendars.Read" for "Calendars.Read").
bool Granted(const std::vector<std::string>& granted, const std::string& scope) {
  for (const auto& g : granted) {
    if (net::EqualsIgnoreCase(g, scope)) return true;
    if (g.size() > scope.size() && g[g.size() - scope.size() - 1] == '/' &&
        net::EqualsIgnoreCase(std::string_view(g).substr(g.size() - scope.size()), scope)) {
      return true;
    }
  }
  return false;
}

std::string JoinScopes(const std::vector<std::string>& scopes, const std::string& separator) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out += separator;
    out += s;
  }
  return out;
}

std::vector<std::pair<std::string, bool>> ServicePairs(const std::vector<ServiceGrant>& grants) {
  std::vector<std::pair<std::string, bool>> out;
  for (const auto& g : grants) out.emplace_back(g.service, g.write);
  return out;
}

Json ServicesJson(const std::vector<ServiceGrant>& grants) {
  Json out = Json::array();
  for (const auto& g : grants) out.push_back({{"service", g.service}, {"write", g.write}});
  return out;
}

CallbackFailure Failure(int status, std::string code, std::string title, std::string message) {
  return CallbackFailure{status, std::move(code), std::move(title), std::move(message), ""};
}

// The account a token response belongs to.
struct Identity {
  std::string subject;
  std::string email;
  std::string provider_tenant;
};

}  // namespace

std::string HashHex(std::string_view value) { return HexEncode(vault::Sha256(value)); }

std::optional<std::pair<TenantId, std::string>> SplitTenantToken(std::string_view token) {
  if (token.size() < 38 || token.size() > 200 || token[36] != '.') return std::nullopt;
  const std::string_view tenant = token.substr(0, 36);
  const std::string_view secret = token.substr(37);
  if (!IsCanonicalUuid(tenant) || secret.size() < 22) return std::nullopt;
  for (char c : secret) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return std::nullopt;
  }
  return std::pair(TenantId(std::string(tenant)), std::string(secret));
}

ConnectService::ConnectService(store::Database& db, const oauth::ProviderCatalog& catalog,
                               oauth::IntegrationService& integrations, vault::SecretStore& secrets,
                               audit::AuditLog& audit, const oauth::TokenClient& tokens,
                               oauth::JwksCache& jwks, net::HttpClient& http, const Clock& clock,
                               Random& random, IdGenerator& ids, ConnectOptions options,
                               RefreshOptions refresh, metrics::MetricsRegistry* metrics,
                               ConnectionEvents* events, ProviderSwitches* switches)
    : db_(db),
      catalog_(catalog),
      integrations_(integrations),
      secrets_(secrets),
      audit_(audit),
      tokens_(tokens),
      jwks_(jwks),
      http_(http),
      clock_(clock),
      random_(random),
      ids_(ids),
      options_(std::move(options)),
      refresh_(std::move(refresh)),
      failure_summary_(options_.failure_audit_window, options_.failure_audit_keys),
      events_(events),
      switches_(switches) {
  if (options_.csrf_key.empty()) options_.csrf_key = random_.Bytes(32);
  if (metrics != nullptr) {
    callbacks_ = &metrics->AddCounter(
        "sb_connect_callbacks_total",
        "OAuth callbacks by provider and outcome (connected, reconnected, or the failure code).",
        {"provider", "outcome"});
    unaudited_ = &metrics->AddCounter(
        "sb_connect_callback_failures_unaudited_total",
        "Failed OAuth callbacks without an audit entry of their own (unknown tenant, or "
        "summarised into the entry of their tenant, code and minute), by failure code.",
        {"code"});
  }
}

std::string ConnectService::PublicUrl() const {
  std::lock_guard lock(mu_);
  return options_.public_url;
}

void ConnectService::SetPublicUrl(std::string url) {
  std::lock_guard lock(mu_);
  options_.public_url = std::move(url);
}

// ---- Sessions. ----

Status ConnectService::CheckSessionRate(store::Transaction& tx, const TenantId& tenant,
                                        Timestamp now) {
  SB_RETURN_IF_ERROR(store::TenantRepository().LockForQuota(tx, tenant));
  SB_ASSIGN_OR_RETURN(int64_t recent,
                      sessions_.CountCreatedSince(tx, tenant, now - std::chrono::seconds(60)));
  if (recent < options_.sessions_per_minute) return OkStatus();
  return QuotaExceededError(QuotaKind::kRate, "quotas.connect_sessions_per_minute",
                            options_.sessions_per_minute,
                            "the tenant created as many connect sessions in the last minute as "
                            "it may; retry later");
}

Status ConnectService::CheckConnectionCount(store::Transaction& tx, const TenantId& tenant) {
  SB_RETURN_IF_ERROR(store::TenantRepository().LockForQuota(tx, tenant));
  SB_ASSIGN_OR_RETURN(int64_t count, connections_.Count(tx, tenant));
  if (count < options_.max_connections) return OkStatus();
  return QuotaExceededError(QuotaKind::kCount, "quotas.connections", options_.max_connections,
                            "the tenant has as many connections as it may");
}

Result<CreatedSession> ConnectService::CreateSession(const TenantId& tenant,
                                                     const ConnectSessionInput& input,
                                                     const audit::Context& ctx) {
  if (input.end_user_id.empty() || input.end_user_id.size() > 256 ||
      !IsValidUtf8(input.end_user_id)) {
    return InvalidArgumentError("end_user.id must be 1 to 256 bytes of UTF-8");
  }
  if (input.end_user_email.size() > 320 || !IsValidUtf8(input.end_user_email)) {
    return InvalidArgumentError("end_user.email must be at most 320 bytes of UTF-8");
  }
  if (!IsAbsoluteHttpUrl(input.return_url)) {
    return InvalidArgumentError("return_url must be an absolute http(s) URL of at most 2048 bytes");
  }
  if (input.allowed_providers.size() > kMaxProviders) {
    return InvalidArgumentError("too many providers");
  }
  for (const auto& provider : input.allowed_providers) {
    if (catalog_.Find(provider) == nullptr) {
      return InvalidArgumentError("unknown provider: " + provider);
    }
  }
  for (const auto& grant : input.services) {
    if (!IsServiceName(grant.service)) {
      return InvalidArgumentError("unknown service: " + grant.service);
    }
  }
  CreatedSession out;
  out.token = tenant.value() + "." + oauth::NewOpaqueSecret(random_);
  out.url = PublicUrl() + "/connect/" + out.token;
  store::ConnectSessionRecord& r = out.record;
  r.tenant_id = tenant;
  r.id = ConnectSessionId(ids_.NewUuid());
  r.token_hash = HashHex(out.token);
  r.end_user_id = input.end_user_id;
  r.end_user_email = input.end_user_email;
  r.allowed_providers = input.allowed_providers;
  r.services = input.services;
  r.return_url = input.return_url;
  r.created_at = clock_.Now();
  r.expires_at = r.created_at + options_.session_ttl;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_RETURN_IF_ERROR(CheckReturnUrlOrigin(tx, tenant, r.return_url));
    SB_RETURN_IF_ERROR(CheckSessionRate(tx, tenant, r.created_at));
    SB_RETURN_IF_ERROR(sessions_.Insert(tx, tenant, r));
    return audit_.Append(
        tx, tenant,
        audit::Event{ctx.actor, "connect_session.create", "connect_sessions/" + r.id.value(),
                     audit::Outcome::kSuccess, ctx.request_id,
                     Json{{"end_user_id", r.end_user_id},
                          {"providers", r.allowed_providers},
                          {"services", ServicesJson(r.services)},
                          {"return_url", r.return_url}}});
  }));
  return out;
}

Status ConnectService::CheckReturnUrlOrigin(store::Transaction& tx, const TenantId& tenant,
                                            const std::string& return_url) {
  SB_ASSIGN_OR_RETURN(auto record, tenants_.Get(tx, tenant));
  if (!record) return NotFoundError("tenant not found");
  const std::optional<std::string> origin = UrlOrigin(return_url);
  const auto& allowed = record->return_url_origins;
  if (allowed.empty()) {
    return FailedPreconditionError(
        "return_url: this tenant allows no return URL origins yet; list them in "
        "return_url_origins with PATCH /v1/tenants/" +
        tenant.value());
  }
  if (!origin || std::find(allowed.begin(), allowed.end(), *origin) == allowed.end()) {
    return FailedPreconditionError("return_url: origin " + origin.value_or("(none)") +
                                   " is not in the tenant's return_url_origins");
  }
  return OkStatus();
}

Result<ConnectService::Session> ConnectService::FindSession(const std::string& token) {
  const Status not_found = NotFoundError("this connect link is not valid or has expired");
  auto split = SplitTenantToken(token);
  if (!split) return not_found;
  std::optional<store::ConnectSessionRecord> record;
  const Status read = db_.RunInTenant(
      split->first, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(record, sessions_.FindByTokenHash(tx, split->first, HashHex(token)));
        return OkStatus();
      });
  if (!read.ok() && read.code() != StatusCode::kPermissionDenied &&
      read.code() != StatusCode::kInvalidArgument) {
    return read;
  }
  if (!record || record->expires_at <= clock_.Now()) return not_found;
  return Session{split->first, std::move(*record)};
}

Result<std::vector<ProviderChoice>> ConnectService::Choices(const Session& session) {
  SB_ASSIGN_OR_RETURN(auto integrations, integrations_.List(session.tenant));
  std::vector<ProviderChoice> out;
  for (const auto& view : integrations) {
    const store::IntegrationRecord& integration = view.record;
    if (!integration.enabled || !view.has_client_secret) continue;
    const auto& allowed = session.record.allowed_providers;
    if (!allowed.empty() &&
        std::find(allowed.begin(), allowed.end(), integration.provider) == allowed.end()) {
      continue;
    }
    const oauth::ProviderEntry* entry = catalog_.Find(integration.provider);
    if (entry == nullptr) continue;
    // A provider under a kill switch is not offered.
    if (switches_ != nullptr && !switches_->Enabled(session.tenant, entry->id)) continue;
    ProviderChoice choice{entry->id, entry->display_name, {}};
    // The session's services where the provider offers them, else the integration's.
    const auto& wanted =
        session.record.services.empty() ? integration.services : session.record.services;
    for (const auto& grant : wanted) {
      if (entry->services.contains(grant.service)) choice.services.push_back(grant);
    }
    out.push_back(std::move(choice));
  }
  return out;
}

std::string ConnectService::CsrfToken(const Session& session) const {
  // Bound to the session (and its tenant) under a server key, so that only a page rendered
  // for this session carries it; nothing needs storing.
  return Base64UrlEncode(vault::HmacSha256(
      options_.csrf_key,
      "switchboard connect start\n" + session.tenant.value() + "\n" + session.record.id.value()));
}

Result<SessionPage> ConnectService::OpenSession(const std::string& token) {
  SB_ASSIGN_OR_RETURN(Session session, FindSession(token));
  SB_ASSIGN_OR_RETURN(auto providers, Choices(session));
  std::string csrf = CsrfToken(session);
  return SessionPage{std::move(session.record), std::move(providers), std::move(csrf)};
}

// ---- Authorization request. ----

Result<AuthorizationStart> ConnectService::Start(const std::string& token,
                                                 const std::string& provider,
                                                 const std::vector<ServiceGrant>& services,
                                                 const std::string& csrf_token,
                                                 const std::string& request_id) {
  SB_ASSIGN_OR_RETURN(Session session, FindSession(token));
  if (csrf_token.empty() || !vault::ConstantTimeEquals(csrf_token, CsrfToken(session))) {
    return PermissionDeniedError("the form did not come from this connect page");
  }
  SB_ASSIGN_OR_RETURN(auto choices, Choices(session));
  auto choice = std::find_if(choices.begin(), choices.end(),
                             [&](const ProviderChoice& c) { return c.id == provider; });
  if (choice == choices.end()) {
    return InvalidArgumentError("this connect session does not offer " + provider);
  }
  // The user may narrow the offer (fewer services, read instead of read-write), never widen it.
  std::vector<ServiceGrant> chosen;
  if (services.empty()) {
    chosen = choice->services;
  } else {
    for (const auto& grant : services) {
      auto offered =
          std::find_if(choice->services.begin(), choice->services.end(),
                       [&](const ServiceGrant& g) { return g.service == grant.service; });
      if (offered == choice->services.end()) {
        return InvalidArgumentError("this connect session does not offer " + grant.service);
      }
      chosen.push_back(ServiceGrant{grant.service, grant.write && offered->write});
    }
  }
  const oauth::ProviderEntry& entry = *catalog_.Find(provider);
  SB_ASSIGN_OR_RETURN(auto integration, integrations_.Get(session.tenant, provider));
  if (!integration) return InvalidArgumentError("this connect session does not offer " + provider);
  SB_ASSIGN_OR_RETURN(auto scopes, catalog_.ScopesFor(provider, ServicePairs(chosen),
                                                      integration->record.extra_scopes));

  AuthorizationStart out;
  const std::string state = session.tenant.value() + "." + oauth::NewOpaqueSecret(random_);
  const bool openid = !entry.issuer.empty();
  const std::string nonce = openid ? oauth::NewOpaqueSecret(random_) : "";
  std::optional<oauth::Pkce> pkce;
  if (entry.pkce == oauth::PkceMethod::kS256) pkce = oauth::NewPkce(random_);
  out.browser_binding = oauth::NewOpaqueSecret(random_);

  store::OAuthTransactionRecord tx_record;
  tx_record.tenant_id = session.tenant;
  tx_record.state_hash = HashHex(state);
  tx_record.session_id = session.record.id;
  tx_record.provider = provider;
  tx_record.redirect_uri = RedirectUri();
  tx_record.issuer = entry.issuer;
  tx_record.nonce_hash = openid ? HashHex(nonce) : "";
  tx_record.browser_binding = HashHex(out.browser_binding);
  tx_record.services = chosen;
  tx_record.scopes = scopes;
  tx_record.created_at = clock_.Now();
  tx_record.expires_at =
      tx_record.created_at + std::min(options_.transaction_ttl, std::chrono::seconds(600));
  SB_RETURN_IF_ERROR(db_.RunInTenant(session.tenant, [&](store::Transaction& tx) -> Status {
    // Housekeeping in passing: the tenant's expired transactions (with their verifiers) and the
    // sessions no live transaction can still refer to.
    SB_RETURN_IF_ERROR(
        transactions_.DeleteExpired(tx, session.tenant, tx_record.created_at).status());
    SB_RETURN_IF_ERROR(
        sessions_
            .DeleteExpired(tx, session.tenant, tx_record.created_at - std::chrono::seconds(600))
            .status());
    SB_RETURN_IF_ERROR(transactions_.Insert(tx, session.tenant, tx_record));
    if (pkce) {
      SB_RETURN_IF_ERROR(secrets_.Put(
          tx, {session.tenant, store::TransactionSecretOwner(tx_record.state_hash), kVerifierField},
          pkce->verifier));
    }
    return audit_.Append(
        tx, session.tenant,
        audit::Event{audit::Actor{audit::ActorKind::kAnonymous, ""}, "oauth.authorize",
                     "connect_sessions/" + session.record.id.value(), audit::Outcome::kSuccess,
                     request_id,
                     Json{{"provider", provider},
                          {"scopes", scopes},
                          {"pkce", pkce.has_value()},
                          {"end_user_id", session.record.end_user_id}}});
  }));

  SB_ASSIGN_OR_RETURN(std::string url, oauth::ExpandUrl(entry, entry.authorization_url));
  std::vector<std::pair<std::string, std::string>> query = {
      {"response_type", "code"},
      {"client_id", integration->record.client_id},
      {"redirect_uri", tx_record.redirect_uri},
      {"scope", JoinScopes(scopes, entry.scope_separator)},
      {"state", state},
  };
  if (pkce) {
    query.emplace_back("code_challenge", pkce->challenge);
    query.emplace_back("code_challenge_method", "S256");
  }
  if (openid) {
    query.emplace_back("nonce", nonce);
    if (!session.record.end_user_email.empty()) {
      query.emplace_back("login_hint", session.record.end_user_email);
    }
  }
  for (const auto& [name, value] : entry.authorization_params) query.emplace_back(name, value);
  out.authorization_url =
      url + (url.find('?') == std::string::npos ? "?" : "&") + FormEncode(query);
  return out;
}

// ---- Callback. ----

void ConnectService::AuditFailure(const std::optional<TenantId>& tenant, const std::string& target,
                                  const CallbackFailure& failure, const std::string& request_id,
                                  Json details) {
  log::Warn("oauth.callback_failed", {{"code", failure.code}, {"request_id", request_id}});
  auto count_unaudited = [&] {
    if (unaudited_ != nullptr) unaudited_->WithLabels({failure.code}).Increment();
  };
  const Timestamp now = clock_.Now();
  if (!tenant || !failure_summary_.WouldAudit(*tenant, failure.code, now)) {
    return count_unaudited();
  }
  // Only a tenant that exists gets an entry: a made-up tenant id writes nothing.
  bool exists = false;
  const Status read =
      db_.RunInTenant(*tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(auto record, tenants_.Get(tx, *tenant));
        exists = record.has_value();
        return OkStatus();
      });
  const std::optional<int64_t> unaudited =
      read.ok() && exists ? failure_summary_.Claim(*tenant, failure.code, now) : std::nullopt;
  if (!unaudited) return count_unaudited();
  details["code"] = failure.code;
  details["reason"] = failure.message;
  details["summary_window_seconds"] = options_.failure_audit_window.count();
  details["unaudited_since_previous_entry"] = *unaudited;
  const bool attack = failure.code == "invalid_state" || failure.code == "state_replayed" ||
                      failure.code == "browser_mismatch" || failure.code == "issuer_mismatch";
  const Status written = db_.RunInTenant(*tenant, [&](store::Transaction& tx) -> Status {
    return audit_.Append(
        tx, *tenant,
        audit::Event{audit::Actor{audit::ActorKind::kAnonymous, ""}, "oauth.callback", target,
                     attack ? audit::Outcome::kDenied : audit::Outcome::kFailure, request_id,
                     std::move(details)});
  });
  if (!written.ok()) {
    log::Warn("oauth.callback_audit_failed",
              {{"code", failure.code}, {"error", written.message()}});
  }
}

std::variant<CallbackSuccess, CallbackFailure> ConnectService::Callback(const CallbackParams& p) {
  std::string provider = "unknown";
  auto outcome = DoCallback(p, provider);
  if (callbacks_ != nullptr) {
    const auto* ok = std::get_if<CallbackSuccess>(&outcome);
    const std::string label = ok != nullptr ? (ok->created ? "connected" : "reconnected")
                                            : std::get<CallbackFailure>(outcome).code;
    callbacks_->WithLabels({provider, label}).Increment();
  }
  return outcome;
}

std::variant<CallbackSuccess, CallbackFailure> ConnectService::DoCallback(const CallbackParams& p,
                                                                          std::string& provider) {
  auto split = SplitTenantToken(p.state);
  if (!split) {
    CallbackFailure f = Failure(400, "invalid_state", "This sign-in link is not valid",
                                "The sign-in response is missing its state or the state is "
                                "malformed. Start connecting again from the app.");
    AuditFailure(std::nullopt, "oauth", f, p.request_id, Json::object());
    return f;
  }
  const TenantId tenant = split->first;
  const std::string state_hash = HashHex(p.state);

  // 1. The transaction this state belongs to, and its session.
  std::optional<store::OAuthTransactionRecord> txr;
  std::optional<store::ConnectSessionRecord> session;
  const Status read =
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(txr, transactions_.Get(tx, tenant, state_hash));
        if (!txr) return OkStatus();
        SB_ASSIGN_OR_RETURN(session, sessions_.Get(tx, tenant, txr->session_id));
        return OkStatus();
      });
  if (!read.ok() && read.code() != StatusCode::kInvalidArgument) {
    CallbackFailure f = Failure(503, "unavailable", "Something went wrong on our side",
                                "The connection could not be completed. Please try again.");
    AuditFailure(std::nullopt, "oauth", f, p.request_id, Json::object());
    return f;
  }
  if (!txr) {
    CallbackFailure f = Failure(400, "invalid_state", "This sign-in link is not valid",
                                "The sign-in response does not belong to a connection attempt "
                                "we started. Start connecting again from the app.");
    AuditFailure(tenant, "oauth", f, p.request_id, Json::object());
    return f;
  }
  provider = txr->provider;
  const std::string target = "connect_sessions/" + txr->session_id.value();
  const std::string return_url = session ? session->return_url : "";
  auto fail = [&](int status, std::string code, std::string title, std::string message,
                  Json details = Json::object()) {
    CallbackFailure f = Failure(status, std::move(code), std::move(title), std::move(message));
    f.return_url = return_url;
    details["provider"] = txr->provider;
    AuditFailure(tenant, target, f, p.request_id, std::move(details));
    return f;
  };

  // 2. Checks that do not use the state up: replay, expiry, browser binding (OA-03).
  const Timestamp now = clock_.Now();
  if (txr->consumed_at) {
    return fail(400, "state_replayed", "This sign-in was already used",
                "This sign-in response was already used once. Start connecting again from "
                "the app.");
  }
  if (txr->expires_at <= now) {
    return fail(400, "state_expired", "This sign-in took too long",
                "The sign-in expired before it came back. Start connecting again from the app.");
  }
  if (p.browser_binding.empty() ||
      !vault::ConstantTimeEquals(HashHex(p.browser_binding), txr->browser_binding)) {
    return fail(400, "browser_mismatch", "This sign-in started in another browser",
                "The sign-in response came back to a different browser than the one that "
                "started it. Start connecting again in this browser.");
  }

  // 3. Use the state up, in the transaction that reads the PKCE verifier (OA-08).
  std::optional<vault::SecretBytes> verifier;
  bool consumed = false;
  const vault::SecretContext verifier_ctx{tenant, store::TransactionSecretOwner(state_hash),
                                          kVerifierField};
  const Status consume = db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(consumed, transactions_.Consume(tx, tenant, state_hash, now));
    if (!consumed) return OkStatus();
    SB_ASSIGN_OR_RETURN(verifier, secrets_.Get(tx, verifier_ctx));
    return secrets_.Delete(tx, verifier_ctx).status();
  });
  if (!consume.ok()) {
    return fail(503, "unavailable", "Something went wrong on our side",
                "The connection could not be completed. Please try again.");
  }
  if (!consumed) {
    return fail(400, "state_replayed", "This sign-in was already used",
                "This sign-in response was already used once. Start connecting again from "
                "the app.");
  }

  // 4. The provider's answer.
  const oauth::ProviderEntry* entry = catalog_.Find(txr->provider);
  if (entry == nullptr) {
    return fail(400, "provider_unavailable", "This provider is not available",
                "The provider is no longer offered.");
  }
  if (!p.error.empty()) {
    const bool denied = p.error == "access_denied" || p.error == "consent_required" ||
                        p.error == "interaction_required";
    const std::string error_code =
        p.error.size() <= 64 && IsServiceName(p.error) ? p.error : "error";
    return fail(denied ? 403 : 400, denied ? "access_denied" : "provider_error",
                denied ? "Access was not granted" : "The provider reported an error",
                denied ? "You did not allow access, so nothing was connected. You can try again "
                         "from the app."
                       : "The provider could not complete the sign-in (" + error_code +
                             "). You can try again from the app.",
                Json{{"provider_error", error_code}});
  }
  if (p.iss) {
    if (!IssuerMatches(txr->issuer, *p.iss)) {
      return fail(400, "issuer_mismatch", "This sign-in came from the wrong provider",
                  "The sign-in response names a different identity provider than the one we "
                  "sent you to. Start connecting again from the app.");
    }
  } else if (entry->issuer_supports_iss_parameter) {
    return fail(400, "issuer_mismatch", "This sign-in came from the wrong provider",
                "The sign-in response does not name its identity provider. Start connecting "
                "again from the app.");
  }
  if (p.code.empty() || p.code.size() > 4096) {
    return fail(400, "invalid_request", "The provider's answer is incomplete",
                "The sign-in response carries no authorization code.");
  }
  if (entry->pkce == oauth::PkceMethod::kS256 && !verifier) {
    return fail(500, "internal", "Something went wrong on our side",
                "The connection attempt lost its PKCE verifier. Start again from the app.");
  }

  // 5. Code exchange (OA-09).
  auto credentials = integrations_.Credentials(tenant, txr->provider);
  auto endpoint = TokenEndpointFor(*entry);
  if (!credentials.ok() || !endpoint.ok()) {
    return fail(400, "integration_unavailable", "This provider is not set up",
                "The app's connection to this provider is disabled or incomplete.");
  }
  const bool allow_reassignment = credentials->allow_reassignment;
  const oauth::ClientCredentials client{credentials->client_id,
                                        std::move(credentials->client_secret)};
  auto exchanged = tokens_.ExchangeCode(*endpoint, client, p.code, txr->redirect_uri,
                                        verifier ? verifier->view() : std::string_view());
  if (auto* error = std::get_if<oauth::TokenError>(&exchanged)) {
    const bool transient = error->kind == oauth::TokenErrorKind::kTransient;
    return fail(transient ? 503 : 400, "token_exchange_failed",
                "The provider did not complete the sign-in",
                transient ? "The provider is temporarily unavailable. Please try again."
                          : "The provider refused to issue tokens. Start connecting again from "
                            "the app.",
                Json{{"error", error->ToString()}});
  }
  oauth::TokenResponse& tokens = std::get<oauth::TokenResponse>(exchanged);

  // 6. Who the account is: the ID token (OA-14), or the userinfo endpoint without OIDC.
  Identity identity;
  if (!entry->issuer.empty()) {
    if (!tokens.id_token) {
      return fail(400, "invalid_id_token", "The provider's answer could not be verified",
                  "The provider sent no ID token.");
    }
    oauth::IdTokenExpectations expected;
    expected.issuer = entry->issuer;
    // Google documents both forms of its issuer (OA-15).
    if (entry->issuer.starts_with("https://accounts.google.com")) {
      expected.accepted_issuers.push_back("accounts.google.com");
    }
    expected.client_id = client.client_id;
    expected.allowed_algs = entry->id_token_algorithms;
    Result<oauth::IdTokenClaims> claims = InternalError("no JWKS");
    auto jwks_url = oauth::ExpandUrl(*entry, entry->jwks_url);
    if (jwks_url.ok()) {
      for (bool refetch : {false, true}) {
        auto keys = jwks_.Get(*jwks_url, refetch);
        if (!keys.ok()) {
          claims = keys.status();
          break;
        }
        claims = oauth::ValidateIdToken(*tokens.id_token, **keys, expected, clock_);
        if (claims.ok() || claims.status().code() != StatusCode::kNotFound) break;
      }
    }
    if (!claims.ok()) {
      return fail(400, "invalid_id_token", "The provider's answer could not be verified",
                  "The identity token did not pass validation. Start connecting again from the "
                  "app.",
                  Json{{"check", claims.status().message()}});
    }
    const Json& raw_nonce = claims->raw.contains("nonce") ? claims->raw["nonce"] : Json();
    if (!raw_nonce.is_string() ||
        !vault::ConstantTimeEquals(HashHex(raw_nonce.get<std::string>()), txr->nonce_hash)) {
      return fail(400, "invalid_id_token", "The provider's answer could not be verified",
                  "The identity token was not issued for this sign-in (nonce). Start "
                  "connecting again from the app.");
    }
    identity.provider_tenant = claims->tenant_id;
    identity.subject = !claims->tenant_id.empty() && !claims->object_id.empty() ? claims->object_id
                                                                                : claims->subject;
    identity.email = !claims->email.empty() ? claims->email : claims->preferred_username;
  } else if (!entry->userinfo_url.empty()) {
    auto url = oauth::ExpandUrl(*entry, entry->userinfo_url);
    net::HttpRequest request;
    if (url.ok()) request.url = *url;
    request.headers = {{"Authorization", "Bearer " + std::string(tokens.access_token.view())},
                       {"Accept", "application/json"}};
    auto response = url.ok() ? http_.Send(request) : Result<net::HttpResponse>(url.status());
    if (response.ok() && response->status == 200 && response->body.size() < 65536) {
      oauth::UserinfoIdentity found = oauth::ParseUserinfo(response->body);
      identity.subject = std::move(found.subject);
      identity.email = std::move(found.email);
    }
    vault::Wipe(request.headers[0].second);
  }
  if (identity.subject.empty() || identity.subject.size() > 255 || identity.email.size() > 320) {
    return fail(400, "no_identity", "We could not tell which account this is",
                "The provider did not say which account was connected.");
  }

  // 7. Scopes: what was granted, and which requested service scopes were not (granular
  // consent). Identity and default scopes are not counted as missing.
  std::vector<std::string> granted = tokens.scopes.empty() ? txr->scopes : tokens.scopes;
  std::vector<std::string> missing;
  for (const auto& scope : txr->scopes) {
    const auto& id_scopes = entry->identity_scopes;
    const auto& default_scopes = entry->default_scopes;
    if (std::find(id_scopes.begin(), id_scopes.end(), scope) != id_scopes.end()) continue;
    if (std::find(default_scopes.begin(), default_scopes.end(), scope) != default_scopes.end()) {
      continue;
    }
    if (!Granted(granted, scope)) missing.push_back(scope);
  }

  // 8. Create or update the connection with its tokens, in one transaction.
  CallbackSuccess success;
  success.return_url = return_url;
  const Timestamp stored_at = clock_.Now();
  bool refused = false;  // the account belongs to another end user and may not move
  const Status store = db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto existing,
                        connections_.FindByAccount(tx, tenant, txr->provider,
                                                   identity.provider_tenant, identity.subject));
    // An account connected for one end user never silently moves to another one.
    std::optional<std::string> moved_from;
    if (existing && session && existing->end_user_id != session->end_user_id) {
      moved_from = existing->end_user_id;
      if (!allow_reassignment) {
        refused = true;
        return audit_.Append(
            tx, tenant,
            audit::Event{audit::Actor{audit::ActorKind::kAnonymous, ""},
                         "connection.reassignment_refused", "connections/" + existing->id.value(),
                         audit::Outcome::kDenied, p.request_id,
                         Json{{"provider", existing->provider},
                              {"session", txr->session_id.value()},
                              {"end_user_id", existing->end_user_id},
                              {"requested_end_user_id", session->end_user_id}}});
      }
    }
    ConnectionRecord r;
    if (existing) {
      r = *existing;
    } else {
      r.tenant_id = tenant;
      r.id = ConnectionId(ids_.NewUuid());
      r.provider = txr->provider;
      r.account_subject = identity.subject;
      r.provider_tenant_id = identity.provider_tenant;
      r.created_at = stored_at;
    }
    const auto from = r.status;
    r.end_user_id = session ? session->end_user_id : r.end_user_id;
    r.account_email = identity.email;
    r.status = store::ConnectionStatus::kActive;
    r.status_reason = existing ? "reconnected" : "connected";
    r.services = txr->services;
    r.granted_scopes = granted;
    r.missing_scopes = missing;
    r.access_expires_at.reset();
    r.next_refresh_at.reset();
    if (tokens.expires_in_seconds) {
      r.access_expires_at = stored_at + std::chrono::seconds(*tokens.expires_in_seconds);
    }
    r.has_refresh_token = tokens.refresh_token.has_value() || (existing && r.has_refresh_token);
    if (r.access_expires_at && r.has_refresh_token) {
      r.next_refresh_at = NextRefreshAt(refresh_, stored_at, *r.access_expires_at, random_);
    }
    r.refresh_failures = 0;
    r.lease_owner.clear();
    r.lease_until.reset();
    r.updated_at = stored_at;
    if (existing) {
      r.token_version = existing->token_version + 1;
      SB_ASSIGN_OR_RETURN(bool updated,
                          connections_.UpdateIf(tx, tenant, r, existing->token_version));
      if (!updated) return AbortedError("the connection changed meanwhile");
    } else {
      r.token_version = 1;
      SB_RETURN_IF_ERROR(CheckConnectionCount(tx, tenant));
      SB_RETURN_IF_ERROR(connections_.Insert(tx, tenant, r));
    }
    const std::string owner = store::ConnectionSecretOwner(r.id);
    SB_RETURN_IF_ERROR(
        secrets_.Put(tx, {tenant, owner, kAccessTokenField}, tokens.access_token.view()));
    if (tokens.refresh_token) {
      SB_RETURN_IF_ERROR(
          secrets_.Put(tx, {tenant, owner, kRefreshTokenField}, tokens.refresh_token->view()));
    }
    Json details = {{"provider", r.provider},
                    {"session", txr->session_id.value()},
                    {"end_user_id", r.end_user_id},
                    {"services", ServicesJson(r.services)},
                    {"granted_scopes", r.granted_scopes},
                    {"missing_scopes", r.missing_scopes},
                    {"refresh_token", tokens.refresh_token.has_value()}};
    if (existing) details["from"] = std::string(store::ConnectionStatusName(from));
    if (moved_from) details["previous_end_user_id"] = *moved_from;
    const char* action = moved_from ? "connection.reassign"
                         : existing ? "connection.reconnect"
                                    : "connection.create";
    SB_RETURN_IF_ERROR(
        audit_.Append(tx, tenant,
                      audit::Event{audit::Actor{audit::ActorKind::kAnonymous, ""}, action,
                                   "connections/" + r.id.value(), audit::Outcome::kSuccess,
                                   p.request_id, std::move(details)}));
    if (events_ != nullptr) {
      SB_RETURN_IF_ERROR(events_->Emit(tx, tenant,
                                       existing ? "connection.updated" : "connection.created",
                                       ConnectionEventData(r)));
    }
    success.created = !existing;
    success.connection = std::move(r);
    return OkStatus();
  });
  if (store.ok() && refused) {
    // Audited above (connection.reassignment_refused); the tokens are dropped unstored.
    CallbackFailure f = Failure(409, "reassignment_refused", "This account is already connected",
                                "This account is already connected for another user of the app, "
                                "so it was not connected again. Sign in with a different account, "
                                "or ask the app's administrator.");
    f.return_url = return_url;
    return f;
  }
  if (QuotaOf(store)) {
    return fail(422, "connection_quota_exceeded", "No more accounts can be connected",
                "This app has connected as many accounts as it may, so nothing was connected. "
                "Ask the app's administrators to remove an unused connection, then try again.",
                Json{{"quota", "quotas.connections"}});
  }
  if (!store.ok()) {
    const bool race =
        store.code() == StatusCode::kAborted || store.code() == StatusCode::kAlreadyExists;
    return fail(race ? 409 : 503, "store_failed", "The connection could not be saved",
                race ? "This account was being connected twice at once. Start connecting again "
                       "from the app."
                     : "The connection could not be saved. Please try again.");
  }
  return success;
}

}  // namespace sb::connections
