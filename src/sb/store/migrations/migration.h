// The schema migrations of both backends, embedded in the binary. Each migration is numbered,
// has an up and a down script, and exists in a SQLite and a PostgreSQL variant with the same
// version and name. PostgreSQL scripts create everything in schema `switchboard` and contain
// the placeholder {{app_role}}, which the Migrator replaces with the validated app role name.
// Immutable data; thread-safe.
//
// Adding a table that holds tenant data (the way a new capability adds its tables):
//   1. SQLite: a plain CREATE TABLE with a `tenant_id` column; repositories filter by it (RLS-09).
//   2. PostgreSQL: a plain CREATE TABLE in the up script (tenant first in every key, RLS-05),
//      and the table declared in the same migration's `tenant_tables`, e.g.
//        constexpr TenantTable kV12Tables[] = {
//            {"calendars"},  // compares tenant_id; SELECT, INSERT, UPDATE, DELETE
//            {"sync_log", TenantColumn::kTenantId, Grants::kSelectInsert}};
//        ...
//        {12, "calendars", kV12Up, kV12Down, kV12Tables},
//      The Migrator then writes the row-level security of security.md 3.2 after the up script,
//      in the same transaction: ENABLE and FORCE ROW LEVEL SECURITY, the RESTRICTIVE
//      `tenant_isolation` policy that compares the tenant column with `app.tenant_id` and fails
//      closed when it is unset, the PERMISSIVE `tenant_allow` policy, and the grants to the app
//      role. Do not write these statements by hand. Declare a table in the migration that
//      creates it: the down script's DROP TABLE removes its policies and grants with it.
// A table without tenant data (vault_state) is not declared; its script grants what it needs.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace sb::store {

// The column a tenant table's tenant_isolation policy compares with app.tenant_id.
enum class TenantColumn {
  kTenantId,  // `tenant_id`: every table of tenant data
  kId,        // `id`: the tenants table itself
};

// What the app role may do with the rows the policies let it reach (never TRUNCATE or
// REFERENCES, which row-level security does not cover).
enum class Grants {
  kReadWrite,           // SELECT, INSERT, UPDATE, DELETE
  kSelectInsert,        // SELECT, INSERT: append-only rows (audit entries and checkpoints)
  kSelectInsertUpdate,  // SELECT, INSERT, UPDATE: rows updated in place, never deleted
};

// A PostgreSQL table of tenant data whose row-level security and grants the Migrator writes.
struct TenantTable {
  std::string_view name;  // in schema switchboard; a lowercase SQL identifier
  TenantColumn column = TenantColumn::kTenantId;
  Grants grants = Grants::kReadWrite;
};

struct Migration {
  int64_t version;
  std::string_view name;
  std::string_view up;
  std::string_view down;
  // PostgreSQL only (SQLite has no row-level security; the Migrator ignores them there).
  std::span<const TenantTable> tenant_tables = {};
};

// Ordered by version, starting at 1, without gaps.
std::span<const Migration> SqliteMigrations();
std::span<const Migration> PostgresMigrations();

}  // namespace sb::store
