// SQLite variants of the migrations: TEXT ids (canonical UUIDs), INTEGER timestamps
// (microseconds since the epoch). SQLite has no row-level security; the repositories filter
// by tenant_id in every statement (RLS-09).
#include "sb/store/migrations/migration.h"

namespace sb::store {
namespace {

constexpr std::string_view kV1Up = R"sql(
CREATE TABLE tenants (
  id         TEXT    NOT NULL PRIMARY KEY,
  name       TEXT    NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE api_keys (
  tenant_id    TEXT    NOT NULL REFERENCES tenants (id),
  id           TEXT    NOT NULL,
  name         TEXT    NOT NULL,
  key_hash     TEXT    NOT NULL,
  scopes       TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at   INTEGER,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, key_hash)
) WITHOUT ROWID;
)sql";

constexpr std::string_view kV1Down = R"sql(
DROP TABLE api_keys;
DROP TABLE tenants;
)sql";

constexpr Migration kMigrations[] = {
    {1, "tenants_and_api_keys", kV1Up, kV1Down},
};

}  // namespace

std::span<const Migration> SqliteMigrations() { return kMigrations; }

}  // namespace sb::store
