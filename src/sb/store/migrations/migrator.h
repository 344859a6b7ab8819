// Migrator: applies and reverts the embedded schema migrations (migration.h) of the database's
// backend, tracking them in table `schema_migrations` (version, name, applied_at). Each
// migration runs in one transaction together with its tracking row, so a failure leaves no
// half-applied version. On PostgreSQL the Migrator must be given a Database connected as the
// owner role (not the app role); it creates schema `switchboard` if missing, grants the app
// role USAGE on it, writes the row-level security policies and grants of the tenant tables a
// migration declares (in that migration's transaction, after its up script), and serializes
// concurrent migrators with a transaction-level advisory lock. Not thread-safe; run one
// Migrator at a time per process (other processes are serialized by the database).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/status.h"
#include "sb/store/database.h"
#include "sb/store/migrations/migration.h"

namespace sb::store {

struct MigratorOptions {
  // PostgreSQL role that receives the grants and policies; a lowercase identifier.
  std::string app_role = "sb_app";
};

struct MigrationState {
  int64_t version = 0;
  std::string name;
  bool applied = false;
  std::optional<Timestamp> applied_at;
};

class Migrator {
 public:
  // Applies the embedded migrations of the database's backend.
  Migrator(Database& db, const Clock& clock, MigratorOptions options = {});
  // Applies `migrations` instead (ordered by version from 1, without gaps; a prefix of the
  // embedded list migrates up to a version): for tests of the migrator and of the schema.
  // `migrations` must outlive the Migrator.
  Migrator(Database& db, const Clock& clock, MigratorOptions options,
           std::span<const Migration> migrations);

  // Applies all pending migrations in version order; returns how many were applied.
  // Errors: INVALID_ARGUMENT (bad app_role, or a pending migration declares a tenant table
  // with a bad name or enum value; then none is applied), FAILED_PRECONDITION (the database
  // has a version this binary does not know), or the database error of the failing migration.
  Result<int> Up();

  // Reverts the `n` most recently applied migrations, newest first; returns how many were
  // reverted (fewer when fewer are applied).
  Result<int> Down(int n = 1);

  // Every known migration plus any applied version this binary does not know, by version.
  Result<std::vector<MigrationState>> Status();

 private:
  sb::Status Bootstrap();
  Result<std::vector<MigrationState>> ReadApplied(Transaction& tx);
  // The up script, followed on PostgreSQL by the row-level security and grants of the
  // migration's tenant tables (migration.h), with the app role filled in.
  // Errors: INVALID_ARGUMENT (a bad tenant table declaration, on every backend).
  Result<std::string> UpScript(const Migration& m) const;
  sb::Status Apply(const Migration& m, std::string_view up);
  sb::Status Revert(const Migration& m);
  std::string Render(std::string_view sql) const;
  const Migration* Find(int64_t version) const;
  sb::Status Lock(Transaction& tx);

  Database& db_;
  const Clock& clock_;
  const MigratorOptions options_;
  const std::span<const Migration> migrations_;
};

// True for a lowercase SQL identifier ([a-z_][a-z0-9_]*, at most 63 bytes).
bool IsSqlIdentifier(std::string_view name);

}  // namespace sb::store
