// ConnectService::Callback: load and check the state, use it up, check the provider's answer,
// exchange the code, resolve the identity, record the scopes, store the connection. The steps
// without a database are in callback_steps.cc.
#include <algorithm>
#include <iterator>
#include <utility>

#include "sb/base/logging.h"
#include "sb/base/quota.h"
#include "sb/connections/connect.h"

namespace sb::connections {
namespace {

using store::ConnectionRecord;

struct ErrorInfo {
  CallbackError error;
  std::string_view code;
  bool suspicious;
};

// clang-format off
constexpr ErrorInfo kErrors[] = {
    {CallbackError::kMalformedState,           "invalid_state",             true},
    {CallbackError::kUnknownState,             "invalid_state",             true},
    {CallbackError::kUnavailable,              "unavailable",               false},
    {CallbackError::kStateReplayed,            "state_replayed",            true},
    {CallbackError::kStateExpired,             "state_expired",             false},
    {CallbackError::kBrowserMismatch,          "browser_mismatch",          true},
    {CallbackError::kProviderUnavailable,      "provider_unavailable",      false},
    {CallbackError::kAccessDenied,             "access_denied",             false},
    {CallbackError::kProviderError,            "provider_error",            false},
    {CallbackError::kIssuerMismatch,           "issuer_mismatch",           true},
    {CallbackError::kIssuerMissing,            "issuer_mismatch",           true},
    {CallbackError::kMissingCode,              "invalid_request",           false},
    {CallbackError::kVerifierLost,             "internal",                  false},
    {CallbackError::kIntegrationUnavailable,   "integration_unavailable",   false},
    {CallbackError::kTokenExchangeUnavailable, "token_exchange_failed",     false},
    {CallbackError::kTokenExchangeRefused,     "token_exchange_failed",     false},
    {CallbackError::kMissingIdToken,           "invalid_id_token",          false},
    {CallbackError::kInvalidIdToken,           "invalid_id_token",          false},
    {CallbackError::kNonceMismatch,            "invalid_id_token",          false},
    {CallbackError::kNoIdentity,               "no_identity",               false},
    {CallbackError::kReassignmentRefused,      "reassignment_refused",      false},
    {CallbackError::kConnectionQuotaExceeded,  "connection_quota_exceeded", false},
    {CallbackError::kConcurrentConnect,        "store_failed",              false},
    {CallbackError::kStoreFailed,              "store_failed",              false},
    {CallbackError::kCredentialsRejected,      "credentials_rejected",      false},
    {CallbackError::kCredentialsUnverified,    "credentials_unverified",    false},
};
// clang-format on

// The table is indexed by the enumerator: one row per error, in declaration order.
constexpr bool RowsInOrder() {
  for (size_t i = 0; i < std::size(kErrors); ++i) {
    if (static_cast<size_t>(kErrors[i].error) != i) return false;
  }
  return std::size(kErrors) == static_cast<size_t>(CallbackError::kCredentialsUnverified) + 1;
}
static_assert(RowsInOrder(), "kErrors needs one row per CallbackError, in order");

const ErrorInfo& InfoOf(CallbackError error) { return kErrors[static_cast<size_t>(error)]; }

audit::Actor Anonymous() { return audit::Actor{audit::ActorKind::kAnonymous, ""}; }

}  // namespace

std::string_view CallbackErrorCode(CallbackError error) { return InfoOf(error).code; }

bool IsSuspicious(CallbackError error) { return InfoOf(error).suspicious; }

std::variant<CallbackSuccess, CallbackFailure> ConnectService::Callback(const CallbackParams& p) {
  std::string provider = "unknown";
  auto outcome = DoCallback(p, provider);
  if (callbacks_ != nullptr) {
    const auto* ok = std::get_if<CallbackSuccess>(&outcome);
    const std::string label =
        ok != nullptr ? (ok->created ? "connected" : "reconnected")
                      : std::string(CallbackErrorCode(std::get<CallbackFailure>(outcome).error));
    callbacks_->WithLabels({provider, label}).Increment();
  }
  return outcome;
}

std::variant<CallbackSuccess, CallbackFailure> ConnectService::DoCallback(const CallbackParams& p,
                                                                          std::string& provider) {
  auto loaded = LoadState(p);
  if (auto* failure = std::get_if<CallbackFailure>(&loaded)) return std::move(*failure);
  const PendingCallback& pending = std::get<PendingCallback>(loaded);
  const store::OAuthTransactionRecord& txr = pending.transaction;
  provider = txr.provider;
  if (auto error = CheckPendingState(txr, p.browser_binding, clock_.Now())) {
    return Fail(pending, p.request_id, StepFailure{*error});
  }
  auto verifier = ConsumeState(pending);
  if (auto* failure = std::get_if<StepFailure>(&verifier)) {
    return Fail(pending, p.request_id, std::move(*failure));
  }
  const auto& secret = std::get<std::optional<vault::SecretBytes>>(verifier);
  const oauth::ProviderEntry* entry = catalog_.Find(txr.provider);
  if (entry == nullptr) {
    return Fail(pending, p.request_id, StepFailure{CallbackError::kProviderUnavailable});
  }
  if (auto failure = CheckProviderAnswer(*entry, p, txr, secret.has_value())) {
    return Fail(pending, p.request_id, std::move(*failure));
  }
  auto credentials = integrations_.Credentials(pending.tenant, txr.provider);
  if (!credentials.ok()) {
    return Fail(pending, p.request_id, StepFailure{CallbackError::kIntegrationUnavailable});
  }
  NewConnection fresh;
  fresh.allow_reassignment = credentials->allow_reassignment;
  const oauth::ClientCredentials client{credentials->client_id,
                                        std::move(credentials->client_secret)};
  auto exchanged = ExchangeCode(tokens_, *entry, client, p.code, txr.redirect_uri,
                                secret ? secret->view() : std::string_view());
  if (auto* failure = std::get_if<StepFailure>(&exchanged)) {
    return Fail(pending, p.request_id, std::move(*failure));
  }
  fresh.tokens = std::move(std::get<oauth::TokenResponse>(exchanged));
  auto identity = ResolveIdentity(IdentityDeps{jwks_, http_, clock_}, *entry, fresh.tokens,
                                  client.client_id, txr.nonce_hash);
  if (auto* failure = std::get_if<StepFailure>(&identity)) {
    return Fail(pending, p.request_id, std::move(*failure));
  }
  fresh.identity = std::move(std::get<Identity>(identity));
  fresh.scopes = GrantedScopes(*entry, txr.scopes, fresh.tokens.scopes);
  return StoreConnection(pending, fresh, p.request_id);
}

std::variant<ConnectService::PendingCallback, CallbackFailure> ConnectService::LoadState(
    const CallbackParams& p) {
  auto split = SplitTenantToken(p.state);
  if (!split) {
    AuditFailure(std::nullopt, "oauth", CallbackError::kMalformedState, p.request_id, {});
    return CallbackFailure{CallbackError::kMalformedState};
  }
  PendingCallback pending{split->first, HashHex(p.state), {}, {}, "", ""};
  bool found = false;
  const Status read = db_.RunInTenant(
      pending.tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(auto txr, transactions_.Get(tx, pending.tenant, pending.state_hash));
        if (!txr) return OkStatus();
        found = true;
        pending.transaction = std::move(*txr);
        SB_ASSIGN_OR_RETURN(pending.session,
                            sessions_.Get(tx, pending.tenant, pending.transaction.session_id));
        return OkStatus();
      });
  // INVALID_ARGUMENT: the tenant id is not one the database knows; that is an unknown state.
  if (!read.ok() && read.code() != StatusCode::kInvalidArgument) {
    AuditFailure(std::nullopt, "oauth", CallbackError::kUnavailable, p.request_id, {});
    return CallbackFailure{CallbackError::kUnavailable};
  }
  if (!found) {
    AuditFailure(pending.tenant, "oauth", CallbackError::kUnknownState, p.request_id, {});
    return CallbackFailure{CallbackError::kUnknownState};
  }
  pending.target = "connect_sessions/" + pending.transaction.session_id.value();
  pending.return_url = pending.session ? pending.session->return_url : "";
  pending.retry = RetryOf(pending.session, p.session_token, clock_.Now());
  if (pending.retry == SessionRetry::kUsable) pending.session_token = p.session_token;
  return pending;
}

StepResult<std::optional<vault::SecretBytes>> ConnectService::ConsumeState(
    const PendingCallback& pending) {
  std::optional<vault::SecretBytes> verifier;
  bool consumed = false;
  const vault::SecretContext verifier_ctx{
      pending.tenant, store::TransactionSecretOwner(pending.state_hash), kVerifierField};
  const Status consume = db_.RunInTenant(pending.tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(
        consumed, transactions_.Consume(tx, pending.tenant, pending.state_hash, clock_.Now()));
    if (!consumed) return OkStatus();
    SB_ASSIGN_OR_RETURN(verifier, secrets_.Get(tx, verifier_ctx));
    return secrets_.Delete(tx, verifier_ctx).status();
  });
  if (!consume.ok()) return StepFailure{CallbackError::kUnavailable};
  if (!consumed) return StepFailure{CallbackError::kStateReplayed};
  return verifier;
}

CallbackFailure ConnectService::Fail(const PendingCallback& pending, const std::string& request_id,
                                     StepFailure failure) {
  failure.details["provider"] = pending.transaction.provider;
  AuditFailure(pending.tenant, pending.target, failure.error, request_id,
               std::move(failure.details));
  return FailureOf(pending, failure.error, std::move(failure.provider_error));
}

CallbackFailure ConnectService::FailureOf(const PendingCallback& pending, CallbackError error,
                                          std::string provider_error) {
  return CallbackFailure{error, std::move(provider_error), pending.return_url, pending.retry,
                         pending.session_token};
}

std::variant<CallbackSuccess, CallbackFailure> ConnectService::StoreConnection(
    const PendingCallback& pending, const NewConnection& fresh, const std::string& request_id) {
  CallbackSuccess success;
  success.return_url = pending.return_url;
  bool refused = false;  // the account belongs to another end user and may not move
  const Status store = db_.RunInTenant(pending.tenant, [&](store::Transaction& tx) -> Status {
    return WriteConnection(tx, pending, fresh, request_id, success, refused);
  });
  if (store.ok() && refused) {
    // Audited in WriteConnection (connection.reassignment_refused); the tokens are dropped.
    return FailureOf(pending, CallbackError::kReassignmentRefused);
  }
  if (QuotaOf(store)) {
    return Fail(pending, request_id,
                StepFailure{CallbackError::kConnectionQuotaExceeded,
                            Json{{"quota", "quotas.connections"}}});
  }
  if (!store.ok()) {
    const bool race =
        store.code() == StatusCode::kAborted || store.code() == StatusCode::kAlreadyExists;
    return Fail(
        pending, request_id,
        StepFailure{race ? CallbackError::kConcurrentConnect : CallbackError::kStoreFailed});
  }
  return success;
}

Status ConnectService::WriteConnection(store::Transaction& tx, const PendingCallback& pending,
                                       const NewConnection& fresh, const std::string& request_id,
                                       CallbackSuccess& out, bool& refused) {
  const TenantId& tenant = pending.tenant;
  const Identity& identity = fresh.identity;
  SB_ASSIGN_OR_RETURN(auto existing,
                      connections_.FindByAccount(tx, tenant, pending.transaction.provider,
                                                 identity.provider_tenant, identity.subject));
  // An account connected for one end user never silently moves to another one.
  const auto& session = pending.session;
  const bool moves = existing && session && existing->end_user_id != session->end_user_id;
  if (moves && !fresh.allow_reassignment) {
    refused = true;
    return RefuseReassignment(tx, tenant, *existing, pending.transaction.session_id,
                              session->end_user_id, request_id);
  }
  ConnectionRecord r = Connected(existing, pending, fresh, clock_.Now());
  SB_RETURN_IF_ERROR(SaveConnection(tx, tenant, r, existing));
  const std::string owner = store::ConnectionSecretOwner(r.id);
  const oauth::TokenResponse& tokens = fresh.tokens;
  SB_RETURN_IF_ERROR(
      secrets_.Put(tx, {tenant, owner, kAccessTokenField}, tokens.access_token.view()));
  if (tokens.refresh_token) {
    SB_RETURN_IF_ERROR(
        secrets_.Put(tx, {tenant, owner, kRefreshTokenField}, tokens.refresh_token->view()));
  }
  Json details = {{"provider", r.provider},
                  {"session", pending.transaction.session_id.value()},
                  {"end_user_id", r.end_user_id},
                  {"services", ServicesJson(r.services)},
                  {"granted_scopes", r.granted_scopes},
                  {"missing_scopes", r.missing_scopes},
                  {"refresh_token", tokens.refresh_token.has_value()}};
  if (existing) details["from"] = std::string(store::ConnectionStatusName(existing->status));
  return AnnounceConnected(tx, std::move(r), existing, moves, std::move(details), request_id, out);
}

Status ConnectService::RefuseReassignment(store::Transaction& tx, const TenantId& tenant,
                                          const ConnectionRecord& existing,
                                          const ConnectSessionId& session,
                                          const std::string& requested_end_user,
                                          const std::string& request_id) {
  return audit_.Append(
      tx, tenant,
      audit::Event{Anonymous(), "connection.reassignment_refused",
                   "connections/" + existing.id.value(), audit::Outcome::kDenied, request_id,
                   Json{{"provider", existing.provider},
                        {"session", session.value()},
                        {"end_user_id", existing.end_user_id},
                        {"requested_end_user_id", requested_end_user}}});
}

Status ConnectService::SaveConnection(store::Transaction& tx, const TenantId& tenant,
                                      const ConnectionRecord& r,
                                      const std::optional<ConnectionRecord>& existing) {
  if (!existing) {
    SB_RETURN_IF_ERROR(CheckConnectionCount(tx, tenant));
    return connections_.Insert(tx, tenant, r);
  }
  SB_ASSIGN_OR_RETURN(bool updated, connections_.UpdateIf(tx, tenant, r, existing->token_version));
  return updated ? OkStatus() : AbortedError("the connection changed meanwhile");
}

Status ConnectService::AnnounceConnected(store::Transaction& tx, ConnectionRecord r,
                                         const std::optional<ConnectionRecord>& existing,
                                         bool moves, Json details, const std::string& request_id,
                                         CallbackSuccess& out) {
  const TenantId tenant = r.tenant_id;
  if (moves) details["previous_end_user_id"] = existing->end_user_id;
  const char* action = moves      ? "connection.reassign"
                       : existing ? "connection.reconnect"
                                  : "connection.create";
  SB_RETURN_IF_ERROR(
      audit_.Append(tx, tenant,
                    audit::Event{Anonymous(), action, "connections/" + r.id.value(),
                                 audit::Outcome::kSuccess, request_id, std::move(details)}));
  if (events_ != nullptr) {
    SB_RETURN_IF_ERROR(events_->Emit(tx, tenant,
                                     existing ? "connection.updated" : "connection.created",
                                     ConnectionEventData(r)));
  }
  out.created = !existing;
  out.connection = std::move(r);
  return OkStatus();
}

ConnectionRecord ConnectService::Connected(const std::optional<ConnectionRecord>& existing,
                                           const PendingCallback& pending,
                                           const NewConnection& fresh, Timestamp now) {
  const store::OAuthTransactionRecord& txr = pending.transaction;
  ConnectionRecord r;
  if (existing) {
    r = *existing;
    r.token_version = existing->token_version + 1;
  } else {
    r.tenant_id = pending.tenant;
    r.id = ConnectionId(ids_.NewUuid());
    r.provider = txr.provider;
    r.account_subject = fresh.identity.subject;
    r.provider_tenant_id = fresh.identity.provider_tenant;
    r.created_at = now;
    r.token_version = 1;
  }
  if (pending.session) r.end_user_id = pending.session->end_user_id;
  r.account_email = fresh.identity.email;
  r.status = store::ConnectionStatus::kActive;
  r.status_reason = existing ? "reconnected" : "connected";
  r.services = txr.services;
  r.granted_scopes = fresh.scopes.granted;
  r.missing_scopes = fresh.scopes.missing;
  r.access_expires_at.reset();
  r.next_refresh_at.reset();
  if (fresh.tokens.expires_in_seconds) {
    r.access_expires_at = now + std::chrono::seconds(*fresh.tokens.expires_in_seconds);
  }
  r.has_refresh_token = fresh.tokens.refresh_token.has_value() || (existing && r.has_refresh_token);
  if (r.access_expires_at && r.has_refresh_token) {
    r.next_refresh_at = NextRefreshAt(refresh_, now, *r.access_expires_at, random_);
  }
  r.refresh_failures = 0;
  r.lease_owner.clear();
  r.lease_until.reset();
  r.updated_at = now;
  return r;
}

void ConnectService::AuditFailure(const std::optional<TenantId>& tenant, const std::string& target,
                                  CallbackError error, const std::string& request_id,
                                  Json details) {
  const std::string code(CallbackErrorCode(error));
  log::Warn("oauth.callback_failed", {{"code", code}, {"request_id", request_id}});
  auto count_unaudited = [&] {
    if (unaudited_ != nullptr) unaudited_->WithLabels({code}).Increment();
  };
  const Timestamp now = clock_.Now();
  if (!tenant || !failure_summary_.WouldAudit(*tenant, code, now)) return count_unaudited();
  // Only a tenant that exists gets an entry: a made-up tenant id writes nothing.
  bool exists = false;
  const Status read =
      db_.RunInTenant(*tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(auto record, tenants_.Get(tx, *tenant));
        exists = record.has_value();
        return OkStatus();
      });
  const std::optional<int64_t> unaudited =
      read.ok() && exists ? failure_summary_.Claim(*tenant, code, now) : std::nullopt;
  if (!unaudited) return count_unaudited();
  if (!details.is_object()) details = Json::object();
  details["code"] = code;
  details["summary_window_seconds"] = options_.failure_audit_window.count();
  details["unaudited_since_previous_entry"] = *unaudited;
  const audit::Outcome outcome =
      IsSuspicious(error) ? audit::Outcome::kDenied : audit::Outcome::kFailure;
  const Status written = db_.RunInTenant(*tenant, [&](store::Transaction& tx) -> Status {
    const bool credentials = error == CallbackError::kCredentialsRejected ||
                             error == CallbackError::kCredentialsUnverified;
    return audit_.Append(
        tx, *tenant,
        audit::Event{Anonymous(), credentials ? "connect.credentials" : "oauth.callback", target,
                     outcome, request_id, std::move(details)});
  });
  if (!written.ok()) {
    log::Warn("oauth.callback_audit_failed", {{"code", code}, {"error", written.message()}});
  }
}

}  // namespace sb::connections
