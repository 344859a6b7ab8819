#include "sb/store/role_check.h"

namespace sb::store {
namespace {

// Roles reachable from current_user through pg_auth_members (the user itself included), with
// the attributes that defeat row-level security.
constexpr std::string_view kRoleQuery = R"sql(
WITH RECURSIVE member_of(oid) AS (
  SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user
  UNION
  SELECT m.roleid FROM pg_catalog.pg_auth_members m JOIN member_of r ON m.member = r.oid
)
SELECT r.rolname::text,
       r.rolsuper,
       r.rolbypassrls,
       EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n
               WHERE n.nspname = 'switchboard' AND n.nspowner = r.oid),
       EXISTS (SELECT 1 FROM pg_catalog.pg_class c
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'switchboard' AND c.relowner = r.oid)
FROM pg_catalog.pg_roles r JOIN member_of m ON m.oid = r.oid
ORDER BY r.rolname
)sql";

Status Unsafe(const std::string& role, std::string_view why) {
  return FailedPreconditionError("database role " + role + " " + std::string(why) +
                                 "; the app role must not be able to bypass row-level security");
}

Status CheckRow(const Row& row) {
  const std::string role = row.GetString(0);
  if (row.GetInt(1) != 0) return Unsafe(role, "is a superuser");
  if (row.GetInt(2) != 0) return Unsafe(role, "has BYPASSRLS");
  if (row.GetInt(3) != 0) return Unsafe(role, "owns schema switchboard");
  if (row.GetInt(4) != 0) return Unsafe(role, "owns tables in schema switchboard");
  return OkStatus();
}

}  // namespace

Status CheckAppRoleIsSafe(Database& db) {
  if (db.backend() != Backend::kPostgres) return OkStatus();
  return db.RunUnscoped(TxMode::kReadOnly, [](Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(std::vector<Row> rows, tx.Query(kRoleQuery));
    if (rows.empty()) return InternalError("role check: current role not found in pg_roles");
    for (const Row& row : rows) SB_RETURN_IF_ERROR(CheckRow(row));
    return OkStatus();
  });
}

}  // namespace sb::store
