// PostgreSQL variants of the migrations, following security.md 3.2 exactly: tables owned by the
// migrating (owner) role, ENABLE + FORCE ROW LEVEL SECURITY, a RESTRICTIVE tenant_isolation
// policy that fails closed when app.tenant_id is unset or empty, a PERMISSIVE allow policy,
// tenant-first composite keys, and only SELECT/INSERT/UPDATE/DELETE granted to the app role.
#include "sb/store/migrations/migration.h"

namespace sb::store {
namespace {

constexpr std::string_view kV1Up = R"sql(
CREATE TABLE switchboard.tenants (
  id         uuid   NOT NULL PRIMARY KEY,  -- the tenant itself: its policy compares id
  name       text   NOT NULL,
  created_at bigint NOT NULL
);
ALTER TABLE switchboard.tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE switchboard.tenants FORCE  ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON switchboard.tenants AS RESTRICTIVE FOR ALL TO {{app_role}}
  USING      (id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_allow ON switchboard.tenants AS PERMISSIVE FOR ALL TO {{app_role}}
  USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON switchboard.tenants TO {{app_role}};

CREATE TABLE switchboard.api_keys (
  tenant_id    uuid   NOT NULL REFERENCES switchboard.tenants (id),
  id           uuid   NOT NULL,
  name         text   NOT NULL,
  key_hash     text   NOT NULL,  -- hex SHA-256 of the whole key
  scopes       text   NOT NULL,  -- comma-separated
  created_at   bigint NOT NULL,
  last_used_at bigint,
  revoked_at   bigint,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, key_hash)
);
ALTER TABLE switchboard.api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE switchboard.api_keys FORCE  ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON switchboard.api_keys AS RESTRICTIVE FOR ALL TO {{app_role}}
  USING      (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_allow ON switchboard.api_keys AS PERMISSIVE FOR ALL TO {{app_role}}
  USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON switchboard.api_keys TO {{app_role}};
)sql";

constexpr std::string_view kV1Down = R"sql(
DROP TABLE switchboard.api_keys;
DROP TABLE switchboard.tenants;
)sql";

constexpr Migration kMigrations[] = {
    {1, "tenants_and_api_keys", kV1Up, kV1Down},
};

}  // namespace

std::span<const Migration> PostgresMigrations() { return kMigrations; }

}  // namespace sb::store
