#include "sb/store/migrations/migrator.h"

#include <algorithm>
#include <map>
#include <utility>

namespace sb::store {
namespace {

constexpr std::string_view kRolePlaceholder = "{{app_role}}";

constexpr std::string_view kSqliteBootstrap = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER NOT NULL PRIMARY KEY,
  name       TEXT    NOT NULL,
  applied_at INTEGER NOT NULL
);
)sql";

// The advisory lock comes first so that concurrent migrators do not race on CREATE ... IF NOT
// EXISTS. schema_migrations has no tenant_id and no grants to the app role.
constexpr std::string_view kPostgresBootstrap = R"sql(
SELECT pg_advisory_xact_lock(5362746);
CREATE SCHEMA IF NOT EXISTS switchboard;
GRANT USAGE ON SCHEMA switchboard TO {{app_role}};
CREATE TABLE IF NOT EXISTS switchboard.schema_migrations (
  version    bigint NOT NULL PRIMARY KEY,
  name       text   NOT NULL,
  applied_at bigint NOT NULL
);
)sql";

std::span<const Migration> MigrationsFor(Backend backend) {
  return backend == Backend::kPostgres ? PostgresMigrations() : SqliteMigrations();
}

// The column a tenant_isolation policy compares; "" for a value outside the enum.
std::string_view ColumnName(TenantColumn column) {
  switch (column) {
    case TenantColumn::kTenantId:
      return "tenant_id";
    case TenantColumn::kId:
      return "id";
  }
  return "";
}

// The privileges granted to the app role; "" for a value outside the enum.
std::string_view Privileges(Grants grants) {
  switch (grants) {
    case Grants::kReadWrite:
      return "SELECT, INSERT, UPDATE, DELETE";
    case Grants::kSelectInsert:
      return "SELECT, INSERT";
    case Grants::kSelectInsertUpdate:
      return "SELECT, INSERT, UPDATE";
  }
  return "";
}

// The row-level security of security.md 3.2 for one tenant table, with {{app_role}}: ENABLE +
// FORCE (the owner is subject to it too), a RESTRICTIVE policy that fails closed when
// app.tenant_id is unset or empty (NULLIF), a PERMISSIVE policy without which the restrictive
// one would allow nothing, and the grants. Errors: INVALID_ARGUMENT (bad declaration).
Result<std::string> TenantTableSql(const TenantTable& table) {
  const std::string_view column = ColumnName(table.column);
  const std::string_view privileges = Privileges(table.grants);
  if (!IsSqlIdentifier(table.name) || column.empty() || privileges.empty()) {
    return InvalidArgumentError("migrator: bad tenant table declaration '" +
                                std::string(table.name) + "'");
  }
  const std::string name = "switchboard." + std::string(table.name);
  const std::string role(kRolePlaceholder);
  const std::string match =
      std::string(column) + " = NULLIF(current_setting('app.tenant_id', true), '')::uuid";
  std::string sql;
  sql += "ALTER TABLE " + name + " ENABLE ROW LEVEL SECURITY;\n";
  sql += "ALTER TABLE " + name + " FORCE ROW LEVEL SECURITY;\n";
  sql += "CREATE POLICY tenant_isolation ON " + name + " AS RESTRICTIVE FOR ALL TO " + role +
         "\n  USING (" + match + ") WITH CHECK (" + match + ");\n";
  sql += "CREATE POLICY tenant_allow ON " + name + " AS PERMISSIVE FOR ALL TO " + role +
         "\n  USING (true) WITH CHECK (true);\n";
  sql += "GRANT " + std::string(privileges) + " ON " + name + " TO " + role + ";\n";
  return sql;
}

}  // namespace

bool IsSqlIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (name[0] >= '0' && name[0] <= '9') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

Migrator::Migrator(Database& db, const Clock& clock, MigratorOptions options)
    : Migrator(db, clock, std::move(options), MigrationsFor(db.backend())) {}

Migrator::Migrator(Database& db, const Clock& clock, MigratorOptions options,
                   std::span<const Migration> migrations)
    : db_(db), clock_(clock), options_(std::move(options)), migrations_(migrations) {}

std::string Migrator::Render(std::string_view sql) const {
  std::string out(sql);
  for (size_t pos = out.find(kRolePlaceholder); pos != std::string::npos;
       pos = out.find(kRolePlaceholder, pos + options_.app_role.size())) {
    out.replace(pos, kRolePlaceholder.size(), options_.app_role);
  }
  return out;
}

sb::Status Migrator::Lock(Transaction& tx) {
  // SQLite: BEGIN IMMEDIATE already holds the database write lock.
  if (db_.backend() != Backend::kPostgres) return OkStatus();
  return tx.Query("SELECT pg_advisory_xact_lock(5362746)").status();
}

sb::Status Migrator::Bootstrap() {
  if (!IsSqlIdentifier(options_.app_role)) {
    return InvalidArgumentError("migrator: app_role must be a lowercase SQL identifier");
  }
  const std::string_view sql =
      db_.backend() == Backend::kPostgres ? kPostgresBootstrap : kSqliteBootstrap;
  return db_.RunUnscoped([&](Transaction& tx) { return tx.ExecuteScript(Render(sql)); });
}

Result<std::vector<MigrationState>> Migrator::ReadApplied(Transaction& tx) {
  SB_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      tx.Query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version"));
  std::vector<MigrationState> applied;
  for (const Row& row : rows) {
    auto version = row.GetOptionalInt(0);
    auto at = row.GetOptionalInt(2);
    if (!version || !at) return DataLossError("schema_migrations: malformed row");
    applied.push_back({*version, row.GetString(1), true, FromUnixMicros(*at)});
  }
  return applied;
}

Result<std::string> Migrator::UpScript(const Migration& m) const {
  std::string sql(m.up);
  for (const TenantTable& table : m.tenant_tables) {
    SB_ASSIGN_OR_RETURN(std::string rls, TenantTableSql(table));  // validated on both backends
    if (db_.backend() == Backend::kPostgres) sql += rls;
  }
  return Render(sql);
}

sb::Status Migrator::Apply(const Migration& m, std::string_view up) {
  return db_.RunUnscoped([&](Transaction& tx) -> sb::Status {
    SB_RETURN_IF_ERROR(Lock(tx));
    SB_ASSIGN_OR_RETURN(auto applied, ReadApplied(tx));
    for (const auto& a : applied) {
      if (a.version == m.version) return OkStatus();  // another migrator was faster
    }
    SB_RETURN_IF_ERROR(
        tx.ExecuteScript(up).WithContext("migration " + std::to_string(m.version) + " up"));
    return tx
        .Execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                 {m.version, std::string(m.name), ToUnixMicros(clock_.Now())})
        .status();
  });
}

sb::Status Migrator::Revert(const Migration& m) {
  return db_.RunUnscoped([&](Transaction& tx) -> sb::Status {
    SB_RETURN_IF_ERROR(Lock(tx));
    SB_RETURN_IF_ERROR(tx.ExecuteScript(Render(m.down))
                           .WithContext("migration " + std::to_string(m.version) + " down"));
    SB_ASSIGN_OR_RETURN(
        int64_t n, tx.Execute("DELETE FROM schema_migrations WHERE version = $1", {m.version}));
    if (n != 1) return AbortedError("migration was reverted concurrently");
    return OkStatus();
  });
}

const Migration* Migrator::Find(int64_t version) const {
  for (const Migration& m : migrations_) {
    if (m.version == version) return &m;
  }
  return nullptr;
}

Result<int> Migrator::Up() {
  SB_ASSIGN_OR_RETURN(auto states, Status());
  for (const MigrationState& s : states) {
    if (Find(s.version) == nullptr) {
      return FailedPreconditionError("migrator: database has unknown migration " +
                                     std::to_string(s.version) + "; the binary is too old");
    }
  }
  // Every pending script first, so that a bad declaration fails before anything is applied.
  std::vector<std::pair<const Migration*, std::string>> pending;
  for (const MigrationState& s : states) {
    if (s.applied) continue;
    const Migration* m = Find(s.version);
    SB_ASSIGN_OR_RETURN(std::string up, UpScript(*m));
    pending.emplace_back(m, std::move(up));
  }
  for (const auto& [m, up] : pending) SB_RETURN_IF_ERROR(Apply(*m, up));
  return static_cast<int>(pending.size());
}

Result<int> Migrator::Down(int n) {
  if (n < 0) return InvalidArgumentError("migrator: Down(n) needs n >= 0");
  SB_ASSIGN_OR_RETURN(auto states, Status());
  int count = 0;
  for (auto it = states.rbegin(); it != states.rend() && count < n; ++it) {
    if (!it->applied) continue;
    const Migration* m = Find(it->version);
    if (m == nullptr) {
      return FailedPreconditionError("migrator: cannot revert unknown migration " +
                                     std::to_string(it->version));
    }
    SB_RETURN_IF_ERROR(Revert(*m));
    ++count;
  }
  return count;
}

Result<std::vector<MigrationState>> Migrator::Status() {
  SB_RETURN_IF_ERROR(Bootstrap());
  std::map<int64_t, MigrationState> by_version;
  for (const Migration& m : migrations_) {
    by_version[m.version] = {m.version, std::string(m.name), false, std::nullopt};
  }
  sb::Status read = db_.RunUnscoped(TxMode::kReadOnly, [&](Transaction& tx) -> sb::Status {
    SB_ASSIGN_OR_RETURN(auto applied, ReadApplied(tx));
    for (auto& a : applied) by_version[a.version] = std::move(a);
    return OkStatus();
  });
  SB_RETURN_IF_ERROR(read);
  std::vector<MigrationState> out;
  for (auto& [version, state] : by_version) out.push_back(std::move(state));
  return out;
}

}  // namespace sb::store
