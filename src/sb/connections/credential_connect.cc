// ConnectService::ConnectWithCredentials: the connect flow of a credential provider (catalog
// `auth`). The end user types the fields into the hosted page; the provider's verification call
// proves them and names the account before anything is stored; the connection and its
// credentials (one vault field, kCredentialsField) are written in one transaction, audited and
// announced as a callback's are. Failed verifications are audited like failed callbacks: at most
// once per tenant, code and window.
#include <algorithm>

#include "sb/base/logging.h"
#include "sb/base/quota.h"
#include "sb/connections/connect.h"

namespace sb::connections {
namespace {

using store::ConnectionRecord;

constexpr std::chrono::seconds kVerificationTimeout{10};

std::string SessionTarget(const store::ConnectSessionRecord& session) {
  return "connect_sessions/" + session.id.value();
}

}  // namespace

Result<CallbackSuccess> ConnectService::ConnectWithCredentials(const CredentialSubmission& in) {
  SB_ASSIGN_OR_RETURN(Session session, FormSession(in.token, in.csrf_token));
  SB_ASSIGN_OR_RETURN(auto choices, Choices(session));
  auto choice = std::find_if(choices.begin(), choices.end(),
                             [&](const ProviderChoice& c) { return c.id == in.provider; });
  if (choice == choices.end()) {
    return InvalidArgumentError("this connect session does not offer " + in.provider);
  }
  const oauth::ProviderEntry* entry = catalog_.Find(in.provider);
  if (entry == nullptr || !entry->credentials) {
    return InvalidArgumentError(in.provider + " is not connected with credentials");
  }
  SB_RETURN_IF_ERROR(oauth::CheckCredentialValues(*entry->credentials, in.values));
  Result<CallbackSuccess> out = [&]() -> Result<CallbackSuccess> {
    SB_ASSIGN_OR_RETURN(oauth::VerifiedAccount account, VerifyCredentials(session, *entry, in));
    return StoreCredentials(session, *entry, in, account);
  }();
  if (callbacks_ != nullptr) {
    const StatusCode code = out.ok() ? StatusCode::kOk : out.status().code();
    const char* label = out.ok() ? (out->created ? "connected" : "reconnected")
                        : code == StatusCode::kFailedPrecondition ? "credentials_rejected"
                        : code == StatusCode::kUnavailable        ? "credentials_unverified"
                                                                  : "invalid_request";
    callbacks_->WithLabels({in.provider, label}).Increment();
  }
  return out;
}

Result<oauth::VerifiedAccount> ConnectService::VerifyCredentials(const Session& session,
                                                                 const oauth::ProviderEntry& entry,
                                                                 const CredentialSubmission& in) {
  SB_ASSIGN_OR_RETURN(std::string base, oauth::ExpandUrl(entry, entry.api_base_url));
  SB_ASSIGN_OR_RETURN(net::HttpRequest request,
                      oauth::VerificationRequest(*entry.credentials, base, in.values));
  request.timeout = kVerificationTimeout;
  Result<net::HttpResponse> response = http_.Send(request);
  for (auto& [name, value] : request.headers) vault::Wipe(value);
  vault::Wipe(request.url);
  const std::string target = SessionTarget(session.record);
  if (!response.ok()) {
    AuditFailure(session.tenant, target, CallbackError::kCredentialsUnverified, in.request_id,
                 Json{{"provider", entry.id}, {"transport", response.status().message()}});
    return UnavailableError(entry.display_name + " could not be reached; try again in a moment");
  }
  const oauth::Verification verified =
      oauth::ReadVerification(*entry.credentials, entry.id, in.values, *response);
  const std::string status = " (HTTP " + std::to_string(verified.status) + ")";
  switch (verified.outcome) {
    case oauth::VerificationOutcome::kVerified:
      return verified.account;
    case oauth::VerificationOutcome::kRejected:
      AuditFailure(session.tenant, target, CallbackError::kCredentialsRejected, in.request_id,
                   Json{{"provider", entry.id}, {"status", verified.status}});
      return FailedPreconditionError(entry.display_name + " did not accept these credentials" +
                                     status + ". Check them and try again.");
    case oauth::VerificationOutcome::kUnavailable:
      return UnavailableError(entry.display_name + " is busy or failing" + status +
                              "; try again in a moment");
    case oauth::VerificationOutcome::kMalformed:
      break;
  }
  AuditFailure(session.tenant, target, CallbackError::kCredentialsUnverified, in.request_id,
               Json{{"provider", entry.id}, {"status", verified.status}});
  return FailedPreconditionError(entry.display_name +
                                 " answered the verification call without naming an account" +
                                 status + ". Check the account fields and try again.");
}

Result<CallbackSuccess> ConnectService::StoreCredentials(const Session& session,
                                                         const oauth::ProviderEntry& entry,
                                                         const CredentialSubmission& in,
                                                         const oauth::VerifiedAccount& account) {
  CallbackSuccess success;
  success.return_url = session.record.return_url;
  bool refused = false;
  // Read before the transaction: IntegrationService opens its own.
  SB_ASSIGN_OR_RETURN(auto integration, integrations_.Get(session.tenant, entry.id));
  const bool allow_reassignment = integration && integration->record.allow_reassignment;
  const Status store = db_.RunInTenant(session.tenant, [&](store::Transaction& tx) -> Status {
    return WriteCredentialConnection(tx, session, entry, in, account, allow_reassignment, success,
                                     refused);
  });
  if (store.ok() && refused) {
    return FailedPreconditionError("this " + entry.display_name +
                                   " account is already connected for another user");
  }
  if (QuotaOf(store)) return store;
  if (!store.ok()) {
    log::Warn("connect.credentials_store_failed",
              {{"provider", entry.id}, {"request_id", in.request_id}, {"error", store.message()}});
    return UnavailableError("the connection could not be saved; try again");
  }
  return success;
}

Status ConnectService::WriteCredentialConnection(store::Transaction& tx, const Session& session,
                                                 const oauth::ProviderEntry& entry,
                                                 const CredentialSubmission& in,
                                                 const oauth::VerifiedAccount& account,
                                                 bool allow_reassignment, CallbackSuccess& out,
                                                 bool& refused) {
  const TenantId& tenant = session.tenant;
  SB_ASSIGN_OR_RETURN(auto existing,
                      connections_.FindByAccount(tx, tenant, entry.id, "", account.id));
  const bool moves = existing && existing->end_user_id != session.record.end_user_id;
  if (moves && !allow_reassignment) {
    refused = true;
    return RefuseReassignment(tx, tenant, *existing, session.record.id, session.record.end_user_id,
                              in.request_id);
  }
  const Timestamp now = clock_.Now();
  ConnectionRecord r;
  if (existing) {
    r = *existing;
    r.token_version = existing->token_version + 1;
  } else {
    r.tenant_id = tenant;
    r.id = ConnectionId(ids_.NewUuid());
    r.provider = entry.id;
    r.account_subject = account.id;
    r.created_at = now;
    r.token_version = 1;
  }
  r.end_user_id = session.record.end_user_id;
  r.account_email = account.email;
  r.status = store::ConnectionStatus::kActive;
  r.status_reason = existing ? "reconnected" : "connected";
  r.refresh_failures = 0;
  r.updated_at = now;
  SB_RETURN_IF_ERROR(SaveConnection(tx, tenant, r, existing));
  std::string serialized = oauth::SerializeCredentials(in.values);
  const Status put =
      secrets_.Put(tx, {tenant, store::ConnectionSecretOwner(r.id), kCredentialsField}, serialized);
  vault::Wipe(serialized);
  SB_RETURN_IF_ERROR(put);
  Json details = {{"provider", r.provider},
                  {"session", session.record.id.value()},
                  {"end_user_id", r.end_user_id},
                  {"auth", oauth::CredentialModeName(entry.credentials->mode)},
                  {"account", account.id}};
  return AnnounceConnected(tx, std::move(r), existing, moves, std::move(details), in.request_id,
                           out);
}

}  // namespace sb::connections
