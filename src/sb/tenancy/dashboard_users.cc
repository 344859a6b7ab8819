#include "sb/tenancy/dashboard_users.h"

#include <algorithm>

#include "sb/base/encoding.h"
#include "sb/base/logging.h"
#include "sb/base/text.h"
#include "sb/tenancy/tenant_token.h"
#include "sb/vault/digest.h"

namespace sb::tenancy {
namespace {

using store::DashboardRole;
using store::DashboardSessionRecord;
using store::DashboardUserRecord;

constexpr std::string_view kPrefix = "sbs_";
constexpr std::string_view kCsrfLabel = "switchboard dashboard csrf v1";

Status BadSignIn() { return UnauthenticatedError("wrong workspace, e-mail address or password"); }
Status BadOidcSignIn() {
  return UnauthenticatedError("no dashboard user of this workspace signs in with this account");
}
Status NoSession() { return UnauthenticatedError("not signed in, or the session ended"); }

std::string HashToken(std::string_view token) { return HexEncode(vault::Sha256(token)); }

std::string Lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

audit::Actor UserActor(const DashboardUserId& id) {
  return audit::Actor{audit::ActorKind::kUser, id.value()};
}

Json UserDetails(const DashboardUserRecord& user) {
  return Json{{"email", user.email},
              {"name", user.name},
              {"role", std::string(store::DashboardRoleName(user.role))}};
}

Status CheckNewUser(const TenantId& tenant, const NewDashboardUser& user, size_t min_password) {
  if (user.role == DashboardRole::kOperator && tenant != audit::SystemTenant()) {
    return InvalidArgumentError("the operator role is only for users of the system tenant " +
                                audit::SystemTenant().value());
  }
  if (user.name.size() > DashboardUserRecord::kMaxNameBytes || !IsValidUtf8(user.name)) {
    return InvalidArgumentError("name must be at most 200 bytes of UTF-8");
  }
  if (user.password &&
      (user.password->size() < min_password || user.password->size() > vault::kMaxPasswordBytes)) {
    return InvalidArgumentError("password must be " + std::to_string(min_password) + " to " +
                                std::to_string(vault::kMaxPasswordBytes) + " bytes");
  }
  return OkStatus();
}

}  // namespace

DashboardUserService::DashboardUserService(DashboardUserDeps deps, DashboardUserOptions options)
    : db_(deps.db),
      clock_(deps.clock),
      random_(deps.random),
      ids_(deps.ids),
      audit_(deps.audit),
      options_(options) {}

const std::string& DashboardUserService::DummyHash() {
  // A hash of a random password under the configured parameters: verifying against it costs
  // what a real verification costs. Made on first use: it takes as long as a sign-in.
  std::call_once(dummy_once_, [this] {
    Result<std::string> dummy =
        vault::HashPassword(Base64UrlEncode(random_.Bytes(24)), random_, options_.hash_params);
    if (dummy.ok()) dummy_hash_ = std::move(*dummy);
  });
  return dummy_hash_;
}

std::set<Scope> DashboardUserService::ScopesOf(DashboardRole role) {
  switch (role) {
    case DashboardRole::kOperator:
      return {Scope::kOperator, Scope::kAdmin, Scope::kRead, Scope::kWrite};
    case DashboardRole::kAdmin:
      return {Scope::kAdmin, Scope::kRead, Scope::kWrite};
    case DashboardRole::kViewer:
      return {Scope::kRead};
  }
  return {Scope::kRead};
}

std::optional<TenantId> DashboardUserService::TenantOfSession(std::string_view token) {
  return TenantOfToken(kPrefix, token);
}

std::string DashboardUserService::CsrfTokenOf(std::string_view session_token) {
  return Base64UrlEncode(vault::HmacSha256(session_token, kCsrfLabel));
}

Result<DashboardUserRecord> DashboardUserService::Create(const audit::Context& ctx,
                                                         const TenantId& tenant,
                                                         const NewDashboardUser& user) {
  if (!tenant.valid()) return InvalidArgumentError("tenant id is not a valid id");
  SB_RETURN_IF_ERROR(CheckNewUser(tenant, user, options_.min_password_bytes));
  DashboardUserRecord record;
  record.tenant_id = tenant;
  record.id = DashboardUserId(ids_.NewUuid());
  record.email = Lowercase(user.email);
  record.name = user.name;
  record.role = user.role;
  if (user.password) {
    SB_ASSIGN_OR_RETURN(record.password_hash,
                        vault::HashPassword(*user.password, random_, options_.hash_params));
  }
  record.created_at = record.updated_at = clock_.Now();
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto existing, tenants_.Get(tx, tenant));
    if (!existing) return NotFoundError("tenant " + tenant.value() + " does not exist");
    SB_RETURN_IF_ERROR(users_.Insert(tx, tenant, record));
    return audit_.Append(
        tx, tenant,
        audit::Event{ctx.actor, "dashboard_user.create", "dashboard_users/" + record.id.value(),
                     audit::Outcome::kSuccess, ctx.request_id, UserDetails(record)});
  }));
  return record;
}

Result<std::vector<DashboardUserRecord>> DashboardUserService::List(
    const TenantId& tenant, const std::optional<DashboardUserId>& after, int limit) {
  if (!tenant.valid()) return InvalidArgumentError("tenant id is not a valid id");
  std::vector<DashboardUserRecord> users;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(users, users_.List(tx, tenant, after, limit));
    return OkStatus();
  }));
  return users;
}

Status DashboardUserService::Delete(const audit::Context& ctx, const TenantId& tenant,
                                    const DashboardUserId& id) {
  return db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto user, users_.Get(tx, tenant, id));
    if (!user) return NotFoundError("no dashboard user " + id.value());
    SB_RETURN_IF_ERROR(users_.Delete(tx, tenant, id).status());
    return audit_.Append(
        tx, tenant,
        audit::Event{ctx.actor, "dashboard_user.delete", "dashboard_users/" + id.value(),
                     audit::Outcome::kSuccess, ctx.request_id, UserDetails(*user)});
  });
}

std::chrono::seconds DashboardUserService::LockFor(int64_t failures) const {
  const int64_t over = failures - options_.max_failures;
  if (over < 0) return std::chrono::seconds(0);
  std::chrono::seconds lock = options_.first_lock;
  for (int64_t i = 0; i < over && lock < options_.max_lock; ++i) lock *= 2;
  return std::min(lock, options_.max_lock);
}

Status DashboardUserService::CountFailure(store::Transaction& tx, DashboardUserRecord user) {
  user.failed_logins += 1;
  const std::chrono::seconds lock = LockFor(user.failed_logins);
  if (lock.count() > 0) user.locked_until = clock_.Now() + lock;
  user.updated_at = clock_.Now();
  return users_.Update(tx, user.tenant_id, user);
}

Result<DashboardSession> DashboardUserService::SignIn(const SignInRequest& request,
                                                      std::chrono::seconds* retry_after) {
  if (!request.tenant.valid() || request.password.size() > vault::kMaxPasswordBytes ||
      request.email.size() > DashboardUserRecord::kMaxEmailBytes) {
    return BadSignIn();
  }
  const std::string email = Lowercase(request.email);
  std::string failure;  // the audited cause; the caller hears BadSignIn only
  std::optional<std::chrono::seconds> locked;
  Result<DashboardSession> session = BadSignIn();
  const Status s = db_.RunInTenant(request.tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto tenant, tenants_.Get(tx, request.tenant));
    SB_ASSIGN_OR_RETURN(auto user, tenant
                                       ? users_.FindByEmail(tx, request.tenant, email)
                                       : Result<std::optional<DashboardUserRecord>>(std::nullopt));
    const std::string& stored = user && user->password_hash ? *user->password_hash : DummyHash();
    SB_ASSIGN_OR_RETURN(const bool match, vault::VerifyPassword(request.password, stored));
    if (!user || !user->password_hash) {
      failure = !tenant ? "unknown tenant" : !user ? "unknown user" : "no password";
      return OkStatus();
    }
    const Timestamp now = clock_.Now();
    if (user->locked_until && *user->locked_until > now) {
      locked = std::chrono::ceil<std::chrono::seconds>(*user->locked_until - now);
      failure = "locked";
      return OkStatus();
    }
    if (user->disabled || !match) {
      failure = user->disabled ? "disabled" : "wrong password";
      return CountFailure(tx, *user);
    }
    session =
        StartSession(tx, *user, request.attempt, &request.password, Json{{"method", "password"}});
    if (!session.ok()) return session.status();
    session->tenant_name = tenant->name;
    return OkStatus();
  });
  SB_RETURN_IF_ERROR(s);
  if (failure.empty()) return session;
  const Json details{
      {"method", "password"}, {"reason", failure}, {"email", audit_.HmacSecret(email)}};
  if (Status audited = RecordFailedSignIn(request.tenant, request.attempt, details);
      !audited.ok()) {
    log::Error("dashboard.sign_in_audit_failed", {{"error", audited.ToString()}});
  }
  if (locked) {
    if (retry_after != nullptr) *retry_after = *locked;
    return ResourceExhaustedError("too many failed sign-ins: try again in " +
                                  std::to_string(locked->count()) + " s");
  }
  return BadSignIn();
}

Result<DashboardSession> DashboardUserService::StartSession(store::Transaction& tx,
                                                            const DashboardUserRecord& user,
                                                            const AuthAttempt& attempt,
                                                            const std::string* password, Json how) {
  DashboardUserRecord updated = user;
  updated.failed_logins = 0;
  updated.locked_until.reset();
  updated.updated_at = clock_.Now();
  if (password != nullptr && user.password_hash &&
      vault::NeedsRehash(*user.password_hash, options_.hash_params)) {
    SB_ASSIGN_OR_RETURN(updated.password_hash,
                        vault::HashPassword(*password, random_, options_.hash_params));
  }
  if (updated != user) SB_RETURN_IF_ERROR(users_.Update(tx, user.tenant_id, updated));
  DashboardSession session;
  session.token = NewTenantToken(kPrefix, user.tenant_id, random_);
  session.csrf_token = CsrfTokenOf(session.token);
  DashboardSessionRecord record;
  record.tenant_id = user.tenant_id;
  record.id = DashboardSessionId(ids_.NewUuid());
  record.user_id = user.id;
  record.token_hash = HashToken(session.token);
  record.created_at = record.last_seen_at = clock_.Now();
  record.expires_at = record.created_at + options_.lifetime;
  SB_RETURN_IF_ERROR(users_.InsertSession(tx, user.tenant_id, record));
  session.principal = Principal{user.tenant_id, ApiKeyId(), ScopesOf(user.role), user.id};
  session.user = std::move(updated);
  session.expires_at = record.expires_at;
  how["remote"] = attempt.remote_address;
  how["session"] = record.id.value();
  SB_RETURN_IF_ERROR(audit_.Append(
      tx, user.tenant_id,
      audit::Event{UserActor(user.id), "dashboard.sign_in", "dashboard_users/" + user.id.value(),
                   audit::Outcome::kSuccess, attempt.request_id, std::move(how)}));
  return session;
}

Result<std::optional<DashboardUserRecord>> DashboardUserService::FindOidcUser(
    store::Transaction& tx, const OidcSignInRequest& request, std::string& failure) {
  SB_ASSIGN_OR_RETURN(auto linked,
                      users_.FindByOidc(tx, request.tenant, request.provider, request.subject));
  if (linked) return linked;
  if (!request.email_trusted || request.email.empty()) {
    failure = "no linked user";
    return std::optional<DashboardUserRecord>();
  }
  SB_ASSIGN_OR_RETURN(auto by_email,
                      users_.FindByEmail(tx, request.tenant, Lowercase(request.email)));
  if (!by_email) {
    failure = "unknown user";
    return std::optional<DashboardUserRecord>();
  }
  if (!by_email->oidc_subject.empty()) {
    failure = "linked to another account";
    return std::optional<DashboardUserRecord>();
  }
  return by_email;  // to be linked
}

Result<DashboardSession> DashboardUserService::SignInWithOidc(const OidcSignInRequest& request) {
  if (!request.tenant.valid() || request.provider.empty() || request.subject.empty() ||
      request.email.size() > 320) {
    return BadOidcSignIn();
  }
  std::string failure;
  Result<DashboardSession> session = BadOidcSignIn();
  SB_RETURN_IF_ERROR(db_.RunInTenant(request.tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto tenant, tenants_.Get(tx, request.tenant));
    if (!tenant) {
      failure = "unknown tenant";
      return OkStatus();
    }
    SB_ASSIGN_OR_RETURN(auto user, FindOidcUser(tx, request, failure));
    if (!user) return OkStatus();
    if (user->disabled) {
      failure = "disabled";
      return OkStatus();
    }
    const bool linking = user->oidc_subject.empty();
    if (linking) {
      user->oidc_provider = request.provider;
      user->oidc_subject = request.subject;
      user->updated_at = clock_.Now();
      SB_RETURN_IF_ERROR(users_.Update(tx, request.tenant, *user));
    }
    session =
        StartSession(tx, *user, request.attempt, nullptr,
                     Json{{"method", "oidc"}, {"provider", request.provider}, {"linked", linking}});
    if (!session.ok()) return session.status();
    session->tenant_name = tenant->name;
    return OkStatus();
  }));
  if (failure.empty()) return session;
  const Json details{{"method", "oidc"},
                     {"provider", request.provider},
                     {"reason", failure},
                     {"email", audit_.HmacSecret(Lowercase(request.email))}};
  if (Status audited = RecordFailedSignIn(request.tenant, request.attempt, details);
      !audited.ok()) {
    log::Error("dashboard.sign_in_audit_failed", {{"error", audited.ToString()}});
  }
  return BadOidcSignIn();
}

Status DashboardUserService::RecordFailedSignIn(const TenantId& tenant, const AuthAttempt& attempt,
                                                Json details) {
  details["remote"] = attempt.remote_address;
  audit::Event event{audit::Actor{audit::ActorKind::kAnonymous, ""},
                     "dashboard.sign_in",
                     "dashboard_users",
                     audit::Outcome::kDenied,
                     attempt.request_id,
                     std::move(details)};
  // The named tenant gets the entry when it exists; otherwise the system chain does, so that
  // made-up tenant ids cannot create chains.
  bool recorded = false;
  SB_RETURN_IF_ERROR(db_.RunInTenant(tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto existing, tenants_.Get(tx, tenant));
    if (!existing) return OkStatus();
    recorded = true;
    return audit_.Append(tx, tenant, event);
  }));
  if (recorded) return OkStatus();
  event.details["tenant"] = tenant.value();
  return db_.RunInTenant(audit::SystemTenant(), [&](store::Transaction& tx) {
    return audit_.Append(tx, audit::SystemTenant(), event);
  });
}

Result<DashboardSession> DashboardUserService::Authenticate(std::string_view token,
                                                            SessionDetail detail) {
  const std::optional<TenantId> tenant = TenantOfSession(token);
  if (!tenant) return NoSession();
  DashboardSession session;
  bool found = false;
  SB_RETURN_IF_ERROR(db_.RunInTenant(*tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto record, users_.FindSession(tx, *tenant, HashToken(token)));
    const Timestamp now = clock_.Now();
    if (!record || record->expires_at <= now || record->last_seen_at + options_.idle <= now) {
      return OkStatus();
    }
    SB_ASSIGN_OR_RETURN(auto user, users_.Get(tx, *tenant, record->user_id));
    if (!user || user->disabled) return OkStatus();
    if (detail == SessionDetail::kWithTenantName) {
      SB_ASSIGN_OR_RETURN(auto owner, tenants_.Get(tx, *tenant));
      if (owner) session.tenant_name = std::move(owner->name);
    }
    if (now - record->last_seen_at >= options_.touch_resolution) {
      SB_RETURN_IF_ERROR(users_.TouchSession(tx, *tenant, record->id, now));
    }
    found = true;
    session.principal = Principal{*tenant, ApiKeyId(), ScopesOf(user->role), user->id};
    session.user = std::move(*user);
    session.csrf_token = CsrfTokenOf(token);
    session.expires_at = std::min(record->expires_at, now + options_.idle);
    return OkStatus();
  }));
  if (!found) return NoSession();
  return session;
}

Status DashboardUserService::SignOut(const audit::Context& ctx, std::string_view token) {
  const std::optional<TenantId> tenant = TenantOfSession(token);
  if (!tenant) return OkStatus();
  return db_.RunInTenant(*tenant, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto record, users_.FindSession(tx, *tenant, HashToken(token)));
    if (!record) return OkStatus();
    SB_RETURN_IF_ERROR(users_.DeleteSession(tx, *tenant, record->id).status());
    return audit_.Append(
        tx, *tenant,
        audit::Event{ctx.actor, "dashboard.sign_out", "dashboard_users/" + record->user_id.value(),
                     audit::Outcome::kSuccess, ctx.request_id,
                     Json{{"session", record->id.value()}}});
  });
}

}  // namespace sb::tenancy
