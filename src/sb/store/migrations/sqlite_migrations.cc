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

// Migration 3: the token vault. vault_state is the deployment's one row of key-version state
// (which version encrypts, the minimum that may still decrypt); key material never lives here.
// vault_secrets holds every encrypted secret of every capability, addressed by owner and field.
constexpr std::string_view kV3Up = R"sql(
CREATE TABLE vault_state (
  id                  INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  write_version       INTEGER NOT NULL CHECK (write_version >= 1),
  min_decrypt_version INTEGER NOT NULL CHECK (min_decrypt_version >= 1),
  updated_at          INTEGER NOT NULL,
  CHECK (min_decrypt_version <= write_version)
);

CREATE TABLE vault_secrets (
  tenant_id   TEXT    NOT NULL REFERENCES tenants (id),
  owner_id    TEXT    NOT NULL,
  field       TEXT    NOT NULL,
  ciphertext  TEXT    NOT NULL,
  key_version INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, owner_id, field)
) WITHOUT ROWID;
CREATE INDEX vault_secrets_by_version ON vault_secrets (key_version, tenant_id, owner_id, field);
)sql";

constexpr std::string_view kV3Down = R"sql(
DROP TABLE vault_secrets;
DROP TABLE vault_state;
)sql";

constexpr Migration kMigrations[] = {
    {1, "tenants_and_api_keys", kV1Up, kV1Down},
    {3, "vault", kV3Up, kV3Down},
};

}  // namespace

std::span<const Migration> SqliteMigrations() { return kMigrations; }

}  // namespace sb::store
