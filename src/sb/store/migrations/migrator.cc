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

sb::Status Migrator::Apply(const Migration& m) {
  return db_.RunUnscoped([&](Transaction& tx) -> sb::Status {
    SB_RETURN_IF_ERROR(Lock(tx));
    SB_ASSIGN_OR_RETURN(auto applied, ReadApplied(tx));
    for (const auto& a : applied) {
      if (a.version == m.version) return OkStatus();  // another migrator was faster
    }
    SB_RETURN_IF_ERROR(tx.ExecuteScript(Render(m.up))
                           .WithContext("migration " + std::to_string(m.version) + " up"));
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
  int count = 0;
  for (const MigrationState& s : states) {
    if (s.applied) continue;
    SB_RETURN_IF_ERROR(Apply(*Find(s.version)));
    ++count;
  }
  return count;
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
