#include "sb/store/tenancy/dashboard_user_repository.h"

#include <algorithm>

#include "sb/store/internal/repository_helpers.h"
#include "sb/store/internal/row_reader.h"

namespace sb::store {
namespace {

using internal::IsHexSha256;

using internal::CheckTenantScope;

constexpr std::string_view kUsers = "dashboard_users";
constexpr std::string_view kSessions = "dashboard_sessions";

#define SB_USER_COLUMNS                                                                   \
  "SELECT tenant_id, id, email, name, role, password_hash, failed_logins, locked_until, " \
  "disabled, created_at, updated_at, oidc_provider, oidc_subject FROM dashboard_users "
#define SB_SESSION_COLUMNS                                                                \
  "SELECT tenant_id, id, user_id, token_hash, created_at, expires_at, last_seen_at FROM " \
  "dashboard_sessions "

bool IsText(std::string_view s, size_t max) {
  return s.size() <= max && std::none_of(s.begin(), s.end(), [](char c) {
           return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
         });
}

bool IsEmail(std::string_view s) {
  const size_t at = s.find('@');
  return s.size() >= 3 && s.size() <= DashboardUserRecord::kMaxEmailBytes &&
         at != std::string_view::npos && at > 0 && at + 1 < s.size() &&
         s.find('@', at + 1) == std::string_view::npos &&
         std::all_of(s.begin(), s.end(),
                     [](char c) { return c > ' ' && c < 0x7f && !(c >= 'A' && c <= 'Z'); });
}

Status Validate(const TenantId& tenant, const DashboardUserRecord& u) {
  if (u.tenant_id != tenant) return InvalidArgumentError("dashboard user of another tenant");
  if (!u.id.valid()) return InvalidArgumentError("invalid dashboard user id");
  if (!IsEmail(u.email)) return InvalidArgumentError("invalid e-mail address");
  if (!IsText(u.name, DashboardUserRecord::kMaxNameBytes)) return InvalidArgumentError("bad name");
  if (u.password_hash && (u.password_hash->empty() || !IsText(*u.password_hash, 256))) {
    return InvalidArgumentError("invalid password hash");
  }
  if (u.failed_logins < 0) return InvalidArgumentError("negative failed_logins");
  if (u.oidc_provider.empty() != u.oidc_subject.empty() || !IsText(u.oidc_provider, 64) ||
      !IsText(u.oidc_subject, 255)) {
    return InvalidArgumentError("invalid OpenID Connect account");
  }
  return OkStatus();
}

Value OptionalMicros(const std::optional<Timestamp>& t) {
  return t ? Value(ToUnixMicros(*t)) : Value(std::monostate());
}

Value OptionalText(const std::optional<std::string>& s) {
  return s ? Value(*s) : Value(std::monostate());
}

Result<int64_t> ReadInt(const Row& row, size_t i, std::string_view table) {
  const auto* v = i < row.size() ? std::get_if<int64_t>(&row.at(i)) : nullptr;
  if (v == nullptr) return DataLossError("corrupt row in " + std::string(table));
  return *v;
}

Result<DashboardUserRecord> ParseUser(const Row& row, const TenantId& tenant) {
  DashboardUserRecord u;
  SB_ASSIGN_OR_RETURN(std::string tenant_id, internal::ReadUuid(row, 0, kUsers));
  if (tenant_id != tenant.value()) return InternalError("dashboard_users: row of another tenant");
  u.tenant_id = tenant;
  SB_ASSIGN_OR_RETURN(std::string id, internal::ReadUuid(row, 1, kUsers));
  u.id = DashboardUserId(std::move(id));
  SB_ASSIGN_OR_RETURN(u.email, internal::ReadText(row, 2, kUsers));
  SB_ASSIGN_OR_RETURN(u.name, internal::ReadText(row, 3, kUsers));
  SB_ASSIGN_OR_RETURN(std::string role, internal::ReadText(row, 4, kUsers));
  const std::optional<DashboardRole> parsed = ParseDashboardRole(role);
  if (!parsed) return DataLossError("corrupt row in dashboard_users: role");
  u.role = *parsed;
  if (!row.IsNull(5)) {
    SB_ASSIGN_OR_RETURN(u.password_hash, internal::ReadText(row, 5, kUsers));
  }
  SB_ASSIGN_OR_RETURN(u.failed_logins, ReadInt(row, 6, kUsers));
  SB_ASSIGN_OR_RETURN(u.locked_until, internal::ReadOptionalTimestamp(row, 7, kUsers));
  SB_ASSIGN_OR_RETURN(int64_t disabled, ReadInt(row, 8, kUsers));
  u.disabled = disabled != 0;
  SB_ASSIGN_OR_RETURN(u.created_at, internal::ReadTimestamp(row, 9, kUsers));
  SB_ASSIGN_OR_RETURN(u.updated_at, internal::ReadTimestamp(row, 10, kUsers));
  SB_ASSIGN_OR_RETURN(u.oidc_provider, internal::ReadText(row, 11, kUsers));
  SB_ASSIGN_OR_RETURN(u.oidc_subject, internal::ReadText(row, 12, kUsers));
  if (!Validate(tenant, u).ok() || (disabled != 0 && disabled != 1)) {
    return DataLossError("corrupt row in dashboard_users");
  }
  return u;
}

Result<DashboardSessionRecord> ParseSession(const Row& row, const TenantId& tenant) {
  DashboardSessionRecord s;
  SB_ASSIGN_OR_RETURN(std::string tenant_id, internal::ReadUuid(row, 0, kSessions));
  if (tenant_id != tenant.value()) {
    return InternalError("dashboard_sessions: row of another tenant");
  }
  s.tenant_id = tenant;
  SB_ASSIGN_OR_RETURN(std::string id, internal::ReadUuid(row, 1, kSessions));
  s.id = DashboardSessionId(std::move(id));
  SB_ASSIGN_OR_RETURN(std::string user, internal::ReadUuid(row, 2, kSessions));
  s.user_id = DashboardUserId(std::move(user));
  SB_ASSIGN_OR_RETURN(s.token_hash, internal::ReadText(row, 3, kSessions));
  if (!IsHexSha256(s.token_hash)) return DataLossError("corrupt row in dashboard_sessions");
  SB_ASSIGN_OR_RETURN(s.created_at, internal::ReadTimestamp(row, 4, kSessions));
  SB_ASSIGN_OR_RETURN(s.expires_at, internal::ReadTimestamp(row, 5, kSessions));
  SB_ASSIGN_OR_RETURN(s.last_seen_at, internal::ReadTimestamp(row, 6, kSessions));
  return s;
}

template <typename Record, typename Parser>
Result<std::optional<Record>> First(const std::vector<Row>& rows, const TenantId& tenant,
                                    Parser parse) {
  if (rows.empty()) return std::optional<Record>();
  SB_ASSIGN_OR_RETURN(Record r, parse(rows.front(), tenant));
  return std::optional<Record>(std::move(r));
}

}  // namespace

std::string_view DashboardRoleName(DashboardRole role) {
  switch (role) {
    case DashboardRole::kOperator:
      return "operator";
    case DashboardRole::kAdmin:
      return "admin";
    case DashboardRole::kViewer:
      return "viewer";
  }
  return "viewer";
}

std::optional<DashboardRole> ParseDashboardRole(std::string_view text) {
  for (DashboardRole role :
       {DashboardRole::kOperator, DashboardRole::kAdmin, DashboardRole::kViewer}) {
    if (text == DashboardRoleName(role)) return role;
  }
  return std::nullopt;
}

Status DashboardUserRepository::Insert(Transaction& tx, const TenantId& tenant,
                                       const DashboardUserRecord& u) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(Validate(tenant, u));
  return tx
      .Execute(
          "INSERT INTO dashboard_users (tenant_id, id, email, name, role, password_hash, "
          "failed_logins, locked_until, disabled, created_at, updated_at, oidc_provider, "
          "oidc_subject) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
          {tenant.value(), u.id.value(), u.email, u.name, std::string(DashboardRoleName(u.role)),
           OptionalText(u.password_hash), u.failed_logins, OptionalMicros(u.locked_until),
           int64_t{u.disabled ? 1 : 0}, ToUnixMicros(u.created_at), ToUnixMicros(u.updated_at),
           u.oidc_provider, u.oidc_subject})
      .status();
}

Result<std::optional<DashboardUserRecord>> DashboardUserRepository::Get(Transaction& tx,
                                                                        const TenantId& tenant,
                                                                        const DashboardUserId& id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!id.valid()) return std::optional<DashboardUserRecord>();
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(SB_USER_COLUMNS "WHERE tenant_id = $1 AND id = $2",
                                          {tenant.value(), id.value()}));
  return First<DashboardUserRecord>(rows, tenant, ParseUser);
}

Result<std::optional<DashboardUserRecord>> DashboardUserRepository::FindByEmail(
    Transaction& tx, const TenantId& tenant, std::string_view email) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(SB_USER_COLUMNS "WHERE tenant_id = $1 AND email = $2",
                                          {tenant.value(), std::string(email)}));
  return First<DashboardUserRecord>(rows, tenant, ParseUser);
}

Result<std::optional<DashboardUserRecord>> DashboardUserRepository::FindByOidc(
    Transaction& tx, const TenantId& tenant, std::string_view provider, std::string_view subject) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (provider.empty() || subject.empty()) return std::optional<DashboardUserRecord>();
  SB_ASSIGN_OR_RETURN(auto rows,
                      tx.Query(SB_USER_COLUMNS "WHERE tenant_id = $1 AND "
                                               "oidc_provider = $2 AND oidc_subject = $3",
                               {tenant.value(), std::string(provider), std::string(subject)}));
  return First<DashboardUserRecord>(rows, tenant, ParseUser);
}

Result<std::vector<DashboardUserRecord>> DashboardUserRepository::List(
    Transaction& tx, const TenantId& tenant, const std::optional<DashboardUserId>& after,
    int limit) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (limit < 1 || limit > kMaxListLimit) return InvalidArgumentError("list limit out of range");
  if (after && !after->valid()) return InvalidArgumentError("invalid list cursor");
  // PostgreSQL compares ids as uuid, so the first page has no lower bound rather than ''.
  SB_ASSIGN_OR_RETURN(
      auto rows,
      after ? tx.Query(SB_USER_COLUMNS "WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                       {tenant.value(), after->value(), int64_t{limit}})
            : tx.Query(SB_USER_COLUMNS "WHERE tenant_id = $1 ORDER BY id LIMIT $2",
                       {tenant.value(), int64_t{limit}}));
  std::vector<DashboardUserRecord> out;
  for (const Row& row : rows) {
    SB_ASSIGN_OR_RETURN(DashboardUserRecord u, ParseUser(row, tenant));
    out.push_back(std::move(u));
  }
  return out;
}

Status DashboardUserRepository::Update(Transaction& tx, const TenantId& tenant,
                                       const DashboardUserRecord& u) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_RETURN_IF_ERROR(Validate(tenant, u));
  SB_ASSIGN_OR_RETURN(
      int64_t n,
      tx.Execute("UPDATE dashboard_users SET name = $3, role = $4, password_hash = $5, "
                 "failed_logins = $6, locked_until = $7, disabled = $8, updated_at = $9, "
                 "oidc_provider = $10, oidc_subject = $11 WHERE tenant_id = $1 AND id = $2",
                 {tenant.value(), u.id.value(), u.name, std::string(DashboardRoleName(u.role)),
                  OptionalText(u.password_hash), u.failed_logins, OptionalMicros(u.locked_until),
                  int64_t{u.disabled ? 1 : 0}, ToUnixMicros(u.updated_at), u.oidc_provider,
                  u.oidc_subject}));
  if (n == 0) return NotFoundError("dashboard user not found");
  return OkStatus();
}

Result<bool> DashboardUserRepository::Delete(Transaction& tx, const TenantId& tenant,
                                             const DashboardUserId& id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (!id.valid()) return false;
  SB_RETURN_IF_ERROR(DeleteSessionsOf(tx, tenant, id).status());
  SB_ASSIGN_OR_RETURN(int64_t n, tx.Execute("DELETE FROM dashboard_users WHERE tenant_id = $1 "
                                            "AND id = $2",
                                            {tenant.value(), id.value()}));
  return n > 0;
}

Status DashboardUserRepository::InsertSession(Transaction& tx, const TenantId& tenant,
                                              const DashboardSessionRecord& s) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  if (s.tenant_id != tenant || !s.id.valid() || !s.user_id.valid() || !IsHexSha256(s.token_hash)) {
    return InvalidArgumentError("invalid dashboard session");
  }
  return tx
      .Execute(
          "INSERT INTO dashboard_sessions (tenant_id, id, user_id, token_hash, created_at, "
          "expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
          {tenant.value(), s.id.value(), s.user_id.value(), s.token_hash,
           ToUnixMicros(s.created_at), ToUnixMicros(s.expires_at), ToUnixMicros(s.last_seen_at)})
      .status();
}

Result<std::optional<DashboardSessionRecord>> DashboardUserRepository::FindSession(
    Transaction& tx, const TenantId& tenant, std::string_view token_hash) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_ASSIGN_OR_RETURN(auto rows,
                      tx.Query(SB_SESSION_COLUMNS "WHERE tenant_id = $1 AND token_hash = $2",
                               {tenant.value(), std::string(token_hash)}));
  return First<DashboardSessionRecord>(rows, tenant, ParseSession);
}

Status DashboardUserRepository::TouchSession(Transaction& tx, const TenantId& tenant,
                                             const DashboardSessionId& id, Timestamp at) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  return tx
      .Execute("UPDATE dashboard_sessions SET last_seen_at = $3 WHERE tenant_id = $1 AND id = $2",
               {tenant.value(), id.value(), ToUnixMicros(at)})
      .status();
}

Result<bool> DashboardUserRepository::DeleteSession(Transaction& tx, const TenantId& tenant,
                                                    const DashboardSessionId& id) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  SB_ASSIGN_OR_RETURN(int64_t n, tx.Execute("DELETE FROM dashboard_sessions WHERE tenant_id = $1 "
                                            "AND id = $2",
                                            {tenant.value(), id.value()}));
  return n > 0;
}

Result<int64_t> DashboardUserRepository::DeleteSessionsOf(Transaction& tx, const TenantId& tenant,
                                                          const DashboardUserId& user) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  return tx.Execute("DELETE FROM dashboard_sessions WHERE tenant_id = $1 AND user_id = $2",
                    {tenant.value(), user.value()});
}

Result<int64_t> DashboardUserRepository::DeleteExpiredSessions(Transaction& tx,
                                                               const TenantId& tenant,
                                                               Timestamp now) {
  SB_RETURN_IF_ERROR(CheckTenantScope(tx, tenant));
  return tx.Execute("DELETE FROM dashboard_sessions WHERE tenant_id = $1 AND expires_at <= $2",
                    {tenant.value(), ToUnixMicros(now)});
}

}  // namespace sb::store
