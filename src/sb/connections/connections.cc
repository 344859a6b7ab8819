#include "sb/connections/connections.h"

#include <algorithm>
#include <utility>

#include "sb/base/encoding.h"
#include "sb/base/logging.h"
#include "sb/base/time_format.h"

namespace sb::connections {
namespace {

using std::chrono::milliseconds;
using store::ConnectionRecord;
using store::ConnectionStatus;

vault::SecretContext TokenSecret(const TenantId& tenant, const ConnectionId& id,
                                 const char* field) {
  return {tenant, store::ConnectionSecretOwner(id), field};
}

std::string Target(const ConnectionId& id) { return "connections/" + id.value(); }

std::string StatusName(ConnectionStatus status) {
  return std::string(store::ConnectionStatusName(status));
}

// Why a connection cannot hand out tokens; OK when it can.
Status Usable(const ConnectionRecord& record) {
  switch (record.status) {
    case ConnectionStatus::kDisabled:
      return FailedPreconditionError("the connection is disabled");
    case ConnectionStatus::kRevoked:
      return FailedPreconditionError("the connection was revoked");
    case ConnectionStatus::kReauthorizationRequired:
      return FailedPreconditionError("the user must reconnect (reauthorization_required): " +
                                     record.status_reason);
    default:
      return OkStatus();
  }
}

void ClearLease(ConnectionRecord& record) {
  record.lease_owner.clear();
  record.lease_until.reset();
}

}  // namespace

Timestamp NextRefreshAt(const RefreshOptions& options, Timestamp now, Timestamp expires_at,
                        Random& random) {
  const auto jitter =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::duration<double>(
          static_cast<double>(options.jitter.count()) * random.Fraction()));
  const Timestamp planned = expires_at - options.margin - jitter;
  const Timestamp half_life = now + (expires_at - now) / 2;
  return std::max(planned, half_life);
}

Result<oauth::TokenEndpoint> TokenEndpointFor(const oauth::ProviderEntry& entry) {
  oauth::TokenEndpoint endpoint;
  SB_ASSIGN_OR_RETURN(endpoint.token_url, oauth::ExpandUrl(entry, entry.token_url));
  if (!entry.revocation_url.empty()) {
    SB_ASSIGN_OR_RETURN(endpoint.revocation_url, oauth::ExpandUrl(entry, entry.revocation_url));
  }
  endpoint.auth = entry.client_auth;
  return endpoint;
}

ConnectionService::ConnectionService(ConnectionDeps deps, RefreshOptions options)
    : db_(deps.db),
      catalog_(deps.catalog),
      integrations_(deps.integrations),
      secrets_(deps.secrets),
      audit_(deps.audit),
      tokens_(deps.tokens),
      clock_(deps.clock),
      random_(deps.random),
      options_(std::move(options)),
      sleep_(deps.sleep ? std::move(deps.sleep)
                        : [](milliseconds d) { std::this_thread::sleep_for(d); }),
      before_delete_(std::move(deps.before_delete)),
      events_(deps.events),
      switches_(deps.switches),
      usage_(deps.usage) {
  if (deps.metrics != nullptr) {
    refreshes_ = &deps.metrics->AddCounter(
        "sb_token_refreshes_total",
        "Access-token refreshes by provider and outcome (success, invalid_grant, "
        "invalid_client, transient, permanent).",
        {"provider", "outcome"});
  }
}

Json ConnectionEventData(const ConnectionRecord& r) {
  return {{"connection",
           {{"id", r.id.value()},
            {"provider", r.provider},
            {"end_user_id", r.end_user_id},
            {"account",
             {{"subject", r.account_subject},
              {"email", r.account_email},
              {"provider_tenant_id", r.provider_tenant_id}}},
            {"status", StatusName(r.status)},
            {"status_reason", r.status_reason},
            {"granted_scopes", r.granted_scopes},
            {"missing_scopes", r.missing_scopes}}}};
}

Status ConnectionService::Announce(store::Transaction& tx, const TenantId& tenant,
                                   std::string_view type, const ConnectionRecord& record) {
  if (events_ == nullptr) return OkStatus();
  return events_->Emit(tx, tenant, type, ConnectionEventData(record));
}

void ConnectionService::Count(const TenantId& tenant, const std::string& provider,
                              std::string_view outcome) {
  if (refreshes_ != nullptr) refreshes_->WithLabels({provider, outcome}).Increment();
  if (usage_ != nullptr) usage_->Add(tenant, store::UsageMetric::kRefreshes);
}

Status ConnectionService::CheckUsable(const TenantId& tenant, const ConnectionRecord& record,
                                      RefreshMode mode) {
  SB_RETURN_IF_ERROR(Usable(record));
  if (switches_ == nullptr) return OkStatus();
  Status off = switches_->Check(tenant, record.provider);
  if (!off.ok() && mode == RefreshMode::kIfDue) {
    // Look again in a while: the oldest due connections must not block the scheduler's batch.
    Status postponed = db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
      SB_ASSIGN_OR_RETURN(auto current, repo_.Get(tx, tenant, record.id));
      if (!current || current->token_version != record.token_version) return OkStatus();
      current->next_refresh_at = clock_.Now() + options_.backoff_base;
      current->updated_at = clock_.Now();
      return repo_.UpdateIf(tx, tenant, *current, current->token_version).status();
    });
    if (!postponed.ok()) return postponed;
  }
  return off;
}

// ---- The resource. ----

Result<std::vector<ConnectionRecord>> ConnectionService::List(
    const TenantId& tenant, const store::ConnectionFilter& filter,
    const std::optional<ConnectionId>& after, int limit) {
  std::vector<ConnectionRecord> out;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(out, repo_.List(tx, tenant, filter, after, limit));
        return OkStatus();
      }));
  return out;
}

Result<ConnectionRecord> ConnectionService::Read(const TenantId& tenant, const ConnectionId& id) {
  std::optional<ConnectionRecord> out;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(out, repo_.Get(tx, tenant, id));
        return OkStatus();
      }));
  if (!out) return NotFoundError("connection not found");
  return std::move(*out);
}

Result<ConnectionRecord> ConnectionService::Get(const TenantId& tenant, const ConnectionId& id) {
  return Read(tenant, id);
}

Status ConnectionService::ChangeStatus(store::Transaction& tx, const TenantId& tenant,
                                       ConnectionRecord& record, ConnectionStatus status,
                                       const std::string& reason, const audit::Context& ctx) {
  const ConnectionStatus from = record.status;
  record.status = status;
  record.status_reason = reason;
  record.updated_at = clock_.Now();
  SB_ASSIGN_OR_RETURN(bool stored, repo_.UpdateIf(tx, tenant, record, record.token_version));
  if (!stored) return AbortedError("the connection changed meanwhile; retry");
  SB_RETURN_IF_ERROR(Announce(tx, tenant,
                              status == ConnectionStatus::kReauthorizationRequired
                                  ? "connection.reauthorization_required"
                                  : "connection.updated",
                              record));
  return audit_.Append(
      tx, tenant,
      audit::Event{
          ctx.actor, "connection.status_change", Target(record.id), audit::Outcome::kSuccess,
          ctx.request_id,
          Json{{"from", StatusName(from)}, {"to", StatusName(status)}, {"reason", reason}}});
}

Result<ConnectionRecord> ConnectionService::Patch(const TenantId& tenant, const ConnectionId& id,
                                                  const ConnectionPatch& patch,
                                                  const audit::Context& ctx) {
  // Depth first (iteratively): dump() recurses, and so does every later reader's copy.
  if (patch.settings && (!patch.settings->is_object() ||
                         JsonDepth(*patch.settings) > ConnectionPatch::kMaxSettingsDepth ||
                         patch.settings->dump().size() > ConnectionPatch::kMaxSettingsBytes)) {
    return InvalidArgumentError("settings must be a JSON object of at most 16 KiB and 8 levels");
  }
  std::optional<ConnectionRecord> out;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto record, repo_.Get(tx, tenant, id));
    if (!record) return NotFoundError("connection not found");
    Json changed = Json::object();
    if (patch.services) {
      std::vector<std::pair<std::string, bool>> services;
      for (const auto& grant : *patch.services) services.emplace_back(grant.service, grant.write);
      SB_RETURN_IF_ERROR(catalog_.ScopesFor(record->provider, services, {}).status());
      record->services = *patch.services;
      changed["services"] = true;
    }
    if (patch.settings) {
      record->settings = *patch.settings;
      changed["settings"] = true;
    }
    record->updated_at = clock_.Now();
    SB_ASSIGN_OR_RETURN(bool stored, repo_.UpdateIf(tx, tenant, *record, record->token_version));
    if (!stored) return AbortedError("the connection changed meanwhile; retry");
    if (!changed.empty()) {
      SB_RETURN_IF_ERROR(Announce(tx, tenant, "connection.updated", *record));
      SB_RETURN_IF_ERROR(audit_.Append(
          tx, tenant,
          audit::Event{ctx.actor, "connection.update", Target(id), audit::Outcome::kSuccess,
                       ctx.request_id, Json{{"changed", changed}}}));
    }
    if (patch.enabled) {
      if (!*patch.enabled && record->status != ConnectionStatus::kDisabled) {
        record->next_refresh_at.reset();
        SB_RETURN_IF_ERROR(ChangeStatus(tx, tenant, *record, ConnectionStatus::kDisabled,
                                        "disabled through the API", ctx));
      } else if (*patch.enabled && record->status == ConnectionStatus::kDisabled) {
        const Timestamp now = clock_.Now();
        record->next_refresh_at =
            record->access_expires_at && record->has_refresh_token
                ? std::optional(NextRefreshAt(options_, now, *record->access_expires_at, random_))
                : std::nullopt;
        SB_RETURN_IF_ERROR(ChangeStatus(tx, tenant, *record, ConnectionStatus::kActive,
                                        "enabled through the API", ctx));
      } else if (*patch.enabled && record->status != ConnectionStatus::kActive) {
        return FailedPreconditionError("only a disabled connection can be enabled; it is " +
                                       StatusName(record->status));
      }
    }
    out = std::move(*record);
    return OkStatus();
  }));
  return std::move(*out);
}

Result<bool> ConnectionService::Delete(const TenantId& tenant, const ConnectionId& id,
                                       const audit::Context& ctx) {
  if (before_delete_) before_delete_(tenant, id);
  // 1. Mark it revoked, so that nothing hands out its tokens while the provider is asked.
  std::optional<ConnectionRecord> record;
  std::optional<vault::SecretBytes> refresh_token;
  std::optional<vault::SecretBytes> access_token;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(record, repo_.Get(tx, tenant, id));
    if (!record) return OkStatus();
    SB_ASSIGN_OR_RETURN(refresh_token,
                        secrets_.Get(tx, TokenSecret(tenant, id, kRefreshTokenField)));
    SB_ASSIGN_OR_RETURN(access_token, secrets_.Get(tx, TokenSecret(tenant, id, kAccessTokenField)));
    if (record->status == ConnectionStatus::kRevoked) return OkStatus();
    record->next_refresh_at.reset();
    ClearLease(*record);
    return ChangeStatus(tx, tenant, *record, ConnectionStatus::kRevoked, "deleted through the API",
                        ctx);
  }));
  if (!record) return false;

  // 2. Revoke at the provider (OA-13): the refresh token first, which ends the whole grant at
  // providers that tie access tokens to it. The answer is recorded, never acted on.
  std::string revocation = "unsupported";
  const oauth::ProviderEntry* entry = catalog_.Find(record->provider);
  if (entry != nullptr && !entry->revocation_url.empty() && (refresh_token || access_token)) {
    auto endpoint = TokenEndpointFor(*entry);
    auto credentials = integrations_.Credentials(tenant, record->provider);
    if (!endpoint.ok() || !credentials.ok()) {
      revocation =
          "skipped: " + (endpoint.ok() ? credentials.status() : endpoint.status()).message();
    } else {
      const oauth::ClientCredentials client{credentials->client_id,
                                            std::move(credentials->client_secret)};
      auto result = refresh_token
                        ? tokens_.Revoke(*endpoint, client, refresh_token->view(), "refresh_token")
                        : tokens_.Revoke(*endpoint, client, access_token->view(), "access_token");
      if (const auto* accepted = std::get_if<bool>(&result)) {
        revocation = *accepted ? "revoked" : "refused";
      } else {
        revocation = "failed: " + std::get<oauth::TokenError>(result).ToString();
      }
    }
  }

  // 3. Delete the tokens and the row (crypto-erase: the ciphertexts go with it).
  bool existed = false;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_RETURN_IF_ERROR(secrets_.DeleteOwner(tx, tenant, store::ConnectionSecretOwner(id)).status());
    SB_ASSIGN_OR_RETURN(existed, repo_.Delete(tx, tenant, id));
    if (!existed) return OkStatus();
    SB_RETURN_IF_ERROR(Announce(tx, tenant, "connection.deleted", *record));
    return audit_.Append(
        tx, tenant,
        audit::Event{ctx.actor, "connection.delete", Target(id), audit::Outcome::kSuccess,
                     ctx.request_id,
                     Json{{"provider", record->provider}, {"provider_revocation", revocation}}});
  }));
  return existed;
}

// ---- Tokens. ----

Result<AccessToken> ConnectionService::StoredToken(const TenantId& tenant,
                                                   const ConnectionRecord& record) {
  std::optional<AccessToken> out;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(out, ReadSecret(tx, tenant, record));
        return OkStatus();
      }));
  return std::move(*out);
}

Result<AccessToken> ConnectionService::ReadSecret(store::Transaction& tx, const TenantId& tenant,
                                                  const ConnectionRecord& record) {
  AccessToken out{vault::SecretBytes(), record.access_expires_at, record.token_version, false,
                  record.provider,      record.granted_scopes};
  const oauth::ProviderEntry* entry = catalog_.Find(record.provider);
  if (entry != nullptr && entry->credentials) {
    SB_ASSIGN_OR_RETURN(auto stored,
                        secrets_.Get(tx, TokenSecret(tenant, record.id, kCredentialsField)));
    if (!stored) return DataLossError("the connection has no stored credentials");
    SB_ASSIGN_OR_RETURN(out.credentials,
                        oauth::ParseCredentials(*entry->credentials, stored->view()));
    return out;
  }
  SB_ASSIGN_OR_RETURN(auto token,
                      secrets_.Get(tx, TokenSecret(tenant, record.id, kAccessTokenField)));
  if (!token) return DataLossError("the connection has no stored access token");
  out.token = std::move(*token);
  return out;
}

Result<bool> ConnectionService::NeedsRefresh(const ConnectionRecord& record,
                                             RefreshMode mode) const {
  const Timestamp now = clock_.Now();
  switch (mode) {
    case RefreshMode::kForce:
      return true;
    case RefreshMode::kIfDue:
      return record.next_refresh_at && *record.next_refresh_at <= now;
    case RefreshMode::kIfNeeded:
      return record.access_expires_at &&
             *record.access_expires_at <= now + options_.on_demand_margin;
  }
  return false;
}

Result<AccessToken> ConnectionService::Token(const TenantId& tenant, const ConnectionId& id,
                                             RefreshMode mode, const audit::Context& ctx) {
  // The common case in one read-only transaction: a usable token that needs no refresh (the
  // proxy's path on every call).
  if (mode == RefreshMode::kIfNeeded) {
    std::optional<AccessToken> fresh;
    std::optional<ConnectionRecord> seen;
    SB_RETURN_IF_ERROR(
        db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
          SB_ASSIGN_OR_RETURN(seen, repo_.Get(tx, tenant, id));
          if (!seen) return NotFoundError("connection not found");
          if (switches_ != nullptr) SB_RETURN_IF_ERROR(switches_->Check(tenant, seen->provider));
          SB_RETURN_IF_ERROR(Usable(*seen));
          SB_ASSIGN_OR_RETURN(bool needed, NeedsRefresh(*seen, mode));
          if (needed) return OkStatus();
          SB_ASSIGN_OR_RETURN(fresh, ReadSecret(tx, tenant, *seen));
          return OkStatus();
        }));
    if (fresh) return std::move(*fresh);
  }
  // A few rounds: a lease can come free without a new token (its holder failed or died).
  for (int round = 0; round < 3; ++round) {
    SB_ASSIGN_OR_RETURN(ConnectionRecord record, Read(tenant, id));
    SB_RETURN_IF_ERROR(CheckUsable(tenant, record, mode));
    SB_ASSIGN_OR_RETURN(bool needed, NeedsRefresh(record, mode));
    // Credentials have nothing to refresh: a forced refresh gets them as they are.
    const oauth::ProviderEntry* entry = catalog_.Find(record.provider);
    if (!needed || (entry != nullptr && entry->credentials)) return StoredToken(tenant, record);
    if (!record.has_refresh_token) {
      const bool expired = record.access_expires_at && *record.access_expires_at <= clock_.Now();
      if (!expired && mode != RefreshMode::kForce) return StoredToken(tenant, record);
      return FailedPreconditionError(
          "the connection has no refresh token; the user must reconnect");
    }
    const int64_t seen_version = record.token_version;
    const ConnectionStatus seen_status = record.status;
    // One owner per attempt, so that two requests on one node cannot both hold the lease.
    const std::string owner = options_.node_id + "/" + HexEncode(random_.Bytes(6));
    SB_ASSIGN_OR_RETURN(auto leased, Lease(tenant, id, seen_version, owner));
    if (leased) {
      if (leased->token_version != seen_version) {
        // Someone refreshed between our read and our lease: theirs is as fresh as ours would be.
        return StoredToken(tenant, *leased);
      }
      return RefreshLeased(tenant, std::move(*leased), seen_status, ctx);
    }
    // Another node is refreshing. The scheduler moves on; callers wait for the winner.
    if (mode == RefreshMode::kIfDue) return UnavailableError("another node is refreshing it");
    SB_ASSIGN_OR_RETURN(auto winner, AwaitWinner(tenant, id, seen_version));
    if (winner) return std::move(*winner);
  }
  return UnavailableError("the connection's refresh did not complete; retry");
}

Result<std::optional<ConnectionRecord>> ConnectionService::Lease(const TenantId& tenant,
                                                                 const ConnectionId& id,
                                                                 int64_t expected_version,
                                                                 const std::string& owner) {
  std::optional<ConnectionRecord> out;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    const Timestamp now = clock_.Now();
    SB_ASSIGN_OR_RETURN(bool taken, repo_.TryLease(tx, tenant, id, owner, now, options_.lease));
    if (!taken) return OkStatus();
    SB_ASSIGN_OR_RETURN(out, repo_.Get(tx, tenant, id));
    if (!out) return NotFoundError("connection not found");
    if (out->token_version != expected_version) {
      return repo_.ReleaseLease(tx, tenant, id, owner);
    }
    out->status = ConnectionStatus::kRefreshing;
    out->updated_at = now;
    SB_ASSIGN_OR_RETURN(bool stored, repo_.UpdateIf(tx, tenant, *out, expected_version));
    if (!stored) return AbortedError("the connection changed while leasing it");
    return OkStatus();
  }));
  return out;
}

Result<std::optional<AccessToken>> ConnectionService::AwaitWinner(const TenantId& tenant,
                                                                  const ConnectionId& id,
                                                                  int64_t seen_version) {
  const int64_t polls = std::max<int64_t>(1, options_.wait / options_.poll);
  for (int64_t i = 0; i < polls; ++i) {
    sleep_(options_.poll);
    SB_ASSIGN_OR_RETURN(ConnectionRecord record, Read(tenant, id));
    if (record.token_version != seen_version) {
      SB_RETURN_IF_ERROR(Usable(record));
      SB_ASSIGN_OR_RETURN(AccessToken token, StoredToken(tenant, record));
      return std::optional<AccessToken>(std::move(token));
    }
    SB_RETURN_IF_ERROR(Usable(record));
    const bool lease_live =
        !record.lease_owner.empty() && record.lease_until && *record.lease_until > clock_.Now();
    if (!lease_live) {
      // The winner gave up: it failed (its reason is on the row) or its node died.
      if (record.status == ConnectionStatus::kError) {
        return UnavailableError("refreshing the token failed: " + record.status_reason);
      }
      return std::optional<AccessToken>();
    }
  }
  return UnavailableError("another node is still refreshing the token");
}

std::chrono::milliseconds ConnectionService::Backoff(int64_t failures) const {
  const int64_t exponent = std::clamp<int64_t>(failures - 1, 0, 30);
  const auto max = std::chrono::duration_cast<milliseconds>(options_.backoff_max);
  auto delay = std::chrono::duration_cast<milliseconds>(options_.backoff_base) *
               (int64_t{1} << std::min<int64_t>(exponent, 20));
  delay = std::min(delay, max);
  // Up to half of it as jitter, so that failures that happened together retry apart.
  const auto jitter = milliseconds(
      static_cast<int64_t>(static_cast<double>(delay.count()) / 2 * random_.Fraction()));
  return delay - jitter;
}

Result<AccessToken> ConnectionService::RefreshLeased(const TenantId& tenant,
                                                     ConnectionRecord leased, ConnectionStatus from,
                                                     const audit::Context& ctx) {
  const Timestamp started = clock_.Now();
  ConnectionRecord failed = leased;
  ClearLease(failed);
  failed.updated_at = started;

  const oauth::ProviderEntry* entry = catalog_.Find(leased.provider);
  if (entry == nullptr) {
    failed.status = ConnectionStatus::kError;
    failed.next_refresh_at = started + options_.backoff_max;
    oauth::TokenError error{oauth::TokenErrorKind::kPermanent,
                            0,
                            "unknown_provider",
                            "the provider is no longer in the catalog",
                            std::nullopt,
                            std::nullopt};
    SB_RETURN_IF_ERROR(RecordFailure(tenant, std::move(failed), from, error, ctx));
    return FailedPreconditionError("the provider is no longer in the catalog");
  }
  auto endpoint = TokenEndpointFor(*entry);
  auto credentials = integrations_.Credentials(tenant, leased.provider);
  std::optional<vault::SecretBytes> refresh_token;
  if (endpoint.ok() && credentials.ok()) {
    SB_RETURN_IF_ERROR(
        db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
          SB_ASSIGN_OR_RETURN(refresh_token,
                              secrets_.Get(tx, TokenSecret(tenant, leased.id, kRefreshTokenField)));
          return OkStatus();
        }));
  }
  if (!endpoint.ok() || !credentials.ok() || !refresh_token) {
    const Status why = !endpoint.ok()      ? endpoint.status()
                       : !credentials.ok() ? credentials.status()
                                           : FailedPreconditionError("no refresh token is stored");
    failed.status = refresh_token || !endpoint.ok() || !credentials.ok()
                        ? ConnectionStatus::kError
                        : ConnectionStatus::kReauthorizationRequired;
    failed.next_refresh_at = failed.status == ConnectionStatus::kError
                                 ? std::optional(started + options_.backoff_max)
                                 : std::nullopt;
    oauth::TokenError error{oauth::TokenErrorKind::kPermanent,
                            0,
                            "not_refreshable",
                            why.message(),
                            std::nullopt,
                            std::nullopt};
    SB_RETURN_IF_ERROR(RecordFailure(tenant, std::move(failed), from, error, ctx));
    return FailedPreconditionError("cannot refresh: " + why.message());
  }

  const oauth::ClientCredentials client{credentials->client_id,
                                        std::move(credentials->client_secret)};
  auto result = tokens_.Refresh(*endpoint, client, refresh_token->view());

  if (auto* error = std::get_if<oauth::TokenError>(&result)) {
    const Timestamp now = clock_.Now();
    failed.updated_at = now;
    switch (error->kind) {
      case oauth::TokenErrorKind::kInvalidGrant:
        // The grant is dead: no retry, the user must reconnect (OA-10).
        failed.status = ConnectionStatus::kReauthorizationRequired;
        failed.status_reason = "the provider refused the refresh token: " + error->ToString();
        failed.next_refresh_at.reset();
        break;
      case oauth::TokenErrorKind::kTransient: {
        failed.refresh_failures += 1;
        auto delay = Backoff(failed.refresh_failures);
        if (error->retry_after) delay = std::max(delay, *error->retry_after);
        if (failed.refresh_failures >= options_.max_transient_failures) {
          failed.status = ConnectionStatus::kError;
          failed.status_reason = "refresh failed " + std::to_string(failed.refresh_failures) +
                                 " times in a row: " + error->ToString();
          failed.next_refresh_at = now + std::max(delay, milliseconds(options_.backoff_max));
        } else {
          failed.status = from == ConnectionStatus::kError ? ConnectionStatus::kError
                                                           : ConnectionStatus::kActive;
          failed.next_refresh_at = now + delay;
        }
        break;
      }
      case oauth::TokenErrorKind::kInvalidClient:
      case oauth::TokenErrorKind::kPermanent:
        failed.status = ConnectionStatus::kError;
        failed.status_reason = (error->kind == oauth::TokenErrorKind::kInvalidClient
                                    ? "the provider refused the integration's client credentials: "
                                    : "the provider refused the refresh: ") +
                               error->ToString();
        failed.next_refresh_at = now + options_.backoff_max;
        break;
    }
    SB_RETURN_IF_ERROR(RecordFailure(tenant, failed, from, *error, ctx));
    if (error->kind == oauth::TokenErrorKind::kTransient) {
      return UnavailableError("the provider is unavailable; retrying at " +
                              FormatRfc3339(*failed.next_refresh_at));
    }
    return FailedPreconditionError(failed.status_reason);
  }

  // Success: store the new tokens, with the lease release and the audit entry, in one
  // transaction, compared-and-set on the version we leased (OA-10).
  oauth::TokenResponse& response = std::get<oauth::TokenResponse>(result);
  const Timestamp now = clock_.Now();
  ConnectionRecord next = failed;
  next.status = ConnectionStatus::kActive;
  next.status_reason = "refreshed";
  next.token_version = leased.token_version + 1;
  next.refresh_failures = 0;
  next.updated_at = now;
  next.access_expires_at.reset();
  next.next_refresh_at.reset();
  if (response.expires_in_seconds) {
    next.access_expires_at = now + std::chrono::seconds(*response.expires_in_seconds);
    next.next_refresh_at = NextRefreshAt(options_, now, *next.access_expires_at, random_);
  }
  const bool rotated = response.refresh_token.has_value();
  bool stored = false;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_RETURN_IF_ERROR(secrets_.Put(tx, TokenSecret(tenant, leased.id, kAccessTokenField),
                                    response.access_token.view()));
    if (rotated) {
      SB_RETURN_IF_ERROR(secrets_.Put(tx, TokenSecret(tenant, leased.id, kRefreshTokenField),
                                      response.refresh_token->view()));
    }
    SB_ASSIGN_OR_RETURN(stored, repo_.UpdateIf(tx, tenant, next, leased.token_version));
    if (!stored) return AbortedError("lost the refresh race");
    if (from != ConnectionStatus::kActive) {
      SB_RETURN_IF_ERROR(Announce(tx, tenant, "connection.updated", next));
    }
    return audit_.Append(
        tx, tenant,
        audit::Event{ctx.actor, "connection.refresh", Target(leased.id), audit::Outcome::kSuccess,
                     ctx.request_id,
                     Json{{"from", StatusName(from)},
                          {"to", StatusName(next.status)},
                          {"refresh_token_rotated", rotated},
                          {"token_version", next.token_version},
                          {"access_expires_at", next.access_expires_at
                                                    ? Json(FormatRfc3339(*next.access_expires_at))
                                                    : Json()}}});
  }));
  Count(tenant, leased.provider, "success");
  return AccessToken{std::move(response.access_token),
                     next.access_expires_at,
                     next.token_version,
                     true,
                     leased.provider,
                     next.granted_scopes};
}

Status ConnectionService::RecordFailure(const TenantId& tenant, ConnectionRecord next,
                                        ConnectionStatus from, const oauth::TokenError& error,
                                        const audit::Context& ctx) {
  static constexpr std::string_view kOutcomes[] = {"invalid_grant", "invalid_client", "transient",
                                                   "permanent"};
  Count(tenant, next.provider, kOutcomes[static_cast<int>(error.kind)]);
  log::Warn("connection.refresh_failed", {{"tenant", tenant.value()},
                                          {"connection", next.id.value()},
                                          {"provider", next.provider},
                                          {"status", StatusName(next.status)},
                                          {"error", error.ToString()}});
  return db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(bool stored, repo_.UpdateIf(tx, tenant, next, next.token_version));
    if (!stored) return OkStatus();  // someone else stored newer tokens meanwhile
    if (next.status != from) {
      SB_RETURN_IF_ERROR(Announce(tx, tenant,
                                  next.status == ConnectionStatus::kReauthorizationRequired
                                      ? "connection.reauthorization_required"
                                      : "connection.updated",
                                  next));
    }
    Json details = {
        {"from", StatusName(from)},         {"to", StatusName(next.status)},
        {"reason", next.status_reason},     {"error", error.error},
        {"http_status", error.http_status}, {"consecutive_failures", next.refresh_failures}};
    if (error.provider_code) details["provider_code"] = *error.provider_code;
    return audit_.Append(
        tx, tenant,
        audit::Event{ctx.actor, "connection.refresh", Target(next.id), audit::Outcome::kFailure,
                     ctx.request_id, std::move(details)});
  });
}

}  // namespace sb::connections
