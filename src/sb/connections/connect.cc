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

}  // namespace

Json ServicesJson(const std::vector<ServiceGrant>& grants) {
  Json out = Json::array();
  for (const auto& g : grants) out.push_back({{"service", g.service}, {"write", g.write}});
  return out;
}

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

ConnectService::ConnectService(ConnectDeps deps, ConnectOptions options, RefreshOptions refresh)
    : db_(deps.db),
      catalog_(deps.catalog),
      integrations_(deps.integrations),
      secrets_(deps.secrets),
      audit_(deps.audit),
      tokens_(deps.tokens),
      jwks_(deps.jwks),
      http_(deps.http),
      clock_(deps.clock),
      random_(deps.random),
      ids_(deps.ids),
      options_(std::move(options)),
      refresh_(std::move(refresh)),
      failure_summary_(options_.failure_audit_window, options_.failure_audit_keys),
      events_(deps.events),
      switches_(deps.switches) {
  if (options_.csrf_key.empty()) options_.csrf_key = random_.Bytes(32);
  if (deps.metrics != nullptr) {
    callbacks_ = &deps.metrics->AddCounter(
        "sb_connect_callbacks_total",
        "OAuth callbacks by provider and outcome (connected, reconnected, or the failure code).",
        {"provider", "outcome"});
    unaudited_ = &deps.metrics->AddCounter(
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
    const oauth::ProviderEntry* entry = catalog_.Find(integration.provider);
    if (entry == nullptr) continue;
    // An OAuth app needs its secret; a credential provider takes the end user's own.
    if (!integration.enabled || (entry->uses_oauth() && !view.has_client_secret)) continue;
    const auto& allowed = session.record.allowed_providers;
    if (!allowed.empty() &&
        std::find(allowed.begin(), allowed.end(), integration.provider) == allowed.end()) {
      continue;
    }
    // A provider under a kill switch is not offered.
    if (switches_ != nullptr && !switches_->Enabled(session.tenant, entry->id)) continue;
    ProviderChoice choice{entry->id,
                          entry->display_name,
                          {},
                          entry->credentials ? &*entry->credentials : nullptr,
                          entry};
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

Result<ConnectService::Session> ConnectService::FormSession(const std::string& token,
                                                            const std::string& csrf_token) {
  SB_ASSIGN_OR_RETURN(Session session, FindSession(token));
  if (csrf_token.empty() || !vault::ConstantTimeEquals(csrf_token, CsrfToken(session))) {
    return PermissionDeniedError("the form did not come from this connect page");
  }
  return session;
}

Result<SessionPage> ConnectService::OpenSession(const std::string& token) {
  SB_ASSIGN_OR_RETURN(Session session, FindSession(token));
  SB_ASSIGN_OR_RETURN(auto providers, Choices(session));
  std::string csrf = CsrfToken(session);
  SessionPage page{std::move(session.record), std::move(providers), std::move(csrf)};
  SB_RETURN_IF_ERROR(db_.RunInTenant(
      session.tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(auto tenant, tenants_.Get(tx, session.tenant));
        if (!tenant) return OkStatus();
        page.tenant_name = std::move(tenant->name);
        page.tenant_logo = std::move(tenant->logo);
        return OkStatus();
      }));
  return page;
}

// ---- Authorization request. ----

Result<AuthorizationStart> ConnectService::Start(const std::string& token,
                                                 const std::string& provider,
                                                 const std::vector<ServiceGrant>& services,
                                                 const std::string& csrf_token,
                                                 const std::string& request_id) {
  SB_ASSIGN_OR_RETURN(Session session, FormSession(token, csrf_token));
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
  if (!entry.uses_oauth()) {
    return InvalidArgumentError(entry.display_name + " is connected with credentials, not OAuth");
  }
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
  out.session_left = std::chrono::duration_cast<std::chrono::seconds>(session.record.expires_at -
                                                                      tx_record.created_at);
  return out;
}

}  // namespace sb::connections
