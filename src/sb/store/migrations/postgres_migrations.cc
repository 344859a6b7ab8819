// PostgreSQL variants of the migrations, following security.md 3.2 exactly: tables owned by the
// migrating (owner) role, tenant-first composite keys, and every table of tenant data declared
// in its migration's tenant tables, for which the Migrator writes ENABLE + FORCE ROW LEVEL
// SECURITY, a RESTRICTIVE tenant_isolation policy that fails closed when app.tenant_id is unset
// or empty, a PERMISSIVE allow policy, and the grants to the app role (at most
// SELECT/INSERT/UPDATE/DELETE). See migration.h.
#include "sb/store/migrations/migration.h"

namespace sb::store {
namespace {

constexpr std::string_view kV1Up = R"sql(
CREATE TABLE switchboard.tenants (
  id         uuid   NOT NULL PRIMARY KEY,  -- the tenant itself: its policy compares id
  name       text   NOT NULL,
  created_at bigint NOT NULL
);

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
)sql";

constexpr std::string_view kV1Down = R"sql(
DROP TABLE switchboard.api_keys;
DROP TABLE switchboard.tenants;
)sql";

// The tenants table is its own tenant: its policy compares `id`.
constexpr TenantTable kV1Tables[] = {{"tenants", TenantColumn::kId}, {"api_keys"}};

// Migration 2: the tamper-evident audit log (see the SQLite variant). Tenant tables, except that
// the app role may never change or delete an entry or a checkpoint (defence in depth: only
// SELECT and INSERT), and may update only the chain heads.
constexpr std::string_view kV2Up = R"sql(
CREATE TABLE switchboard.audit_entries (
  tenant_id   uuid   NOT NULL,  -- no foreign key: entries outlive tenants; nil id = system chain
  seq         bigint NOT NULL CHECK (seq >= 1),
  id          uuid,
  occurred_at bigint,
  actor_kind  text,
  actor_id    text,
  action      text,
  target      text,
  outcome     text,
  request_id  text,
  details     text,             -- JSON object, secret-bearing values only as hmac-sha256:<hex>
  leaf_hash   text   NOT NULL,  -- hex SHA-256(0x00 || canonical body), TL-01
  chain_hash  text   NOT NULL,  -- hex SHA-256(previous chain_hash || leaf_hash)
  PRIMARY KEY (tenant_id, seq),
  CHECK ((id IS NULL AND occurred_at IS NULL AND actor_kind IS NULL AND actor_id IS NULL AND
          action IS NULL AND target IS NULL AND outcome IS NULL AND request_id IS NULL AND
          details IS NULL) OR
         (id IS NOT NULL AND occurred_at IS NOT NULL AND actor_kind IS NOT NULL AND
          actor_id IS NOT NULL AND action IS NOT NULL AND target IS NOT NULL AND
          outcome IS NOT NULL AND request_id IS NOT NULL AND details IS NOT NULL))
);
CREATE INDEX audit_entries_by_time ON switchboard.audit_entries (tenant_id, occurred_at);
CREATE INDEX audit_entries_by_action ON switchboard.audit_entries (tenant_id, action);

CREATE TABLE switchboard.audit_heads (
  tenant_id            uuid   NOT NULL PRIMARY KEY,
  seq                  bigint NOT NULL CHECK (seq >= 0),
  chain_hash           text   NOT NULL,
  last_checkpoint_hash text   NOT NULL
);

CREATE TABLE switchboard.audit_checkpoints (
  tenant_id            uuid   NOT NULL,
  seq                  bigint NOT NULL CHECK (seq >= 1),
  chain_hash           text   NOT NULL,
  created_at           bigint NOT NULL,
  prev_checkpoint_hash text   NOT NULL,
  key_id               text   NOT NULL,
  signature            text   NOT NULL,
  PRIMARY KEY (tenant_id, seq)
);
)sql";

constexpr std::string_view kV2Down = R"sql(
DROP TABLE switchboard.audit_checkpoints;
DROP TABLE switchboard.audit_heads;
DROP TABLE switchboard.audit_entries;
)sql";

constexpr TenantTable kV2Tables[] = {
    {"audit_entries", TenantColumn::kTenantId, Grants::kSelectInsert},
    {"audit_heads", TenantColumn::kTenantId, Grants::kSelectInsertUpdate},
    {"audit_checkpoints", TenantColumn::kTenantId, Grants::kSelectInsert},
};

// Migration 3: the token vault (see the SQLite variant). vault_state holds no tenant data, so
// it has no row-level security and grants its rights itself; vault_secrets is a tenant table.
constexpr std::string_view kV3Up = R"sql(
CREATE TABLE switchboard.vault_state (
  id                  integer NOT NULL PRIMARY KEY CHECK (id = 1),
  write_version       integer NOT NULL CHECK (write_version >= 1),
  min_decrypt_version integer NOT NULL CHECK (min_decrypt_version >= 1),
  updated_at          bigint  NOT NULL,
  CHECK (min_decrypt_version <= write_version)
);
GRANT SELECT, INSERT, UPDATE ON switchboard.vault_state TO {{app_role}};

CREATE TABLE switchboard.vault_secrets (
  tenant_id   uuid    NOT NULL REFERENCES switchboard.tenants (id),
  owner_id    text    NOT NULL,
  field       text    NOT NULL,
  ciphertext  text    NOT NULL,  -- sbv1:<version>:<base64url>, AAD binds tenant, owner, field
  key_version integer NOT NULL,
  updated_at  bigint  NOT NULL,
  PRIMARY KEY (tenant_id, owner_id, field)
);
CREATE INDEX vault_secrets_by_version
  ON switchboard.vault_secrets (key_version, tenant_id, owner_id, field);
)sql";

constexpr std::string_view kV3Down = R"sql(
DROP TABLE switchboard.vault_secrets;
DROP TABLE switchboard.vault_state;
)sql";

constexpr TenantTable kV3Tables[] = {{"vault_secrets"}};

// Migration 4: integrations (see the SQLite variant), a tenant table like the others.
constexpr std::string_view kV4Up = R"sql(
CREATE TABLE switchboard.integrations (
  tenant_id    uuid    NOT NULL REFERENCES switchboard.tenants (id),
  provider     text    NOT NULL,
  client_id    text    NOT NULL,
  services     text    NOT NULL,  -- JSON array of {"service", "write"}
  extra_scopes text    NOT NULL,  -- JSON array of strings
  enabled      integer NOT NULL CHECK (enabled IN (0, 1)),
  created_at   bigint  NOT NULL,
  updated_at   bigint  NOT NULL,
  version      bigint  NOT NULL CHECK (version >= 1),
  PRIMARY KEY (tenant_id, provider)
);
)sql";

constexpr std::string_view kV4Down = R"sql(
DROP TABLE switchboard.integrations;
)sql";

constexpr TenantTable kV4Tables[] = {{"integrations"}};

// Migration 5: the connect flow (see the SQLite variant), three tenant tables like the others.
constexpr std::string_view kV5Up = R"sql(
CREATE TABLE switchboard.connect_sessions (
  tenant_id         uuid   NOT NULL REFERENCES switchboard.tenants (id),
  id                uuid   NOT NULL,
  token_hash        text   NOT NULL,  -- hex SHA-256 of the session token
  end_user_id       text   NOT NULL,
  end_user_email    text   NOT NULL,
  allowed_providers text   NOT NULL,  -- JSON array of provider ids
  services          text   NOT NULL,  -- JSON array of {"service", "write"}
  return_url        text   NOT NULL,
  created_at        bigint NOT NULL,
  expires_at        bigint NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, token_hash)
);
CREATE INDEX connect_sessions_by_expiry ON switchboard.connect_sessions (tenant_id, expires_at);

CREATE TABLE switchboard.oauth_transactions (
  tenant_id       uuid   NOT NULL REFERENCES switchboard.tenants (id),
  state_hash      text   NOT NULL,  -- hex SHA-256 of `state`
  session_id      uuid   NOT NULL,
  provider        text   NOT NULL,
  redirect_uri    text   NOT NULL,
  issuer          text   NOT NULL,
  nonce_hash      text   NOT NULL,
  browser_binding text   NOT NULL,
  services        text   NOT NULL,  -- JSON array of {"service", "write"}
  scopes          text   NOT NULL,  -- JSON array of strings
  created_at      bigint NOT NULL,
  expires_at      bigint NOT NULL,
  consumed_at     bigint,
  PRIMARY KEY (tenant_id, state_hash)
);
CREATE INDEX oauth_transactions_by_expiry
  ON switchboard.oauth_transactions (tenant_id, expires_at);

CREATE TABLE switchboard.connections (
  tenant_id          uuid    NOT NULL REFERENCES switchboard.tenants (id),
  id                 uuid    NOT NULL,
  provider           text    NOT NULL,
  end_user_id        text    NOT NULL,
  account_subject    text    NOT NULL,
  account_email      text    NOT NULL,
  provider_tenant_id text    NOT NULL,
  status             text    NOT NULL CHECK (status IN ('active', 'refreshing', 'error',
                                             'reauthorization_required', 'disabled', 'revoked')),
  status_reason      text    NOT NULL,
  services           text    NOT NULL,  -- JSON array of {"service", "write"}
  granted_scopes     text    NOT NULL,  -- JSON array of strings
  missing_scopes     text    NOT NULL,  -- JSON array of strings
  settings           text    NOT NULL,  -- JSON object
  access_expires_at  bigint,
  has_refresh_token  integer NOT NULL CHECK (has_refresh_token IN (0, 1)),
  token_version      bigint  NOT NULL CHECK (token_version >= 0),
  lease_owner        text    NOT NULL,  -- '' when no node holds the refresh lease
  lease_until        bigint,
  next_refresh_at    bigint,
  refresh_failures   bigint  NOT NULL CHECK (refresh_failures >= 0),
  created_at         bigint  NOT NULL,
  updated_at         bigint  NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, provider, provider_tenant_id, account_subject)
);
CREATE INDEX connections_by_end_user ON switchboard.connections (tenant_id, end_user_id, id);
CREATE INDEX connections_by_provider ON switchboard.connections (tenant_id, provider, status, id);
CREATE INDEX connections_due ON switchboard.connections (next_refresh_at, tenant_id, id)
  WHERE next_refresh_at IS NOT NULL;
)sql";

constexpr std::string_view kV5Down = R"sql(
DROP TABLE switchboard.connections;
DROP TABLE switchboard.oauth_transactions;
DROP TABLE switchboard.connect_sessions;
)sql";

constexpr TenantTable kV5Tables[] = {{"connect_sessions"}, {"oauth_transactions"}, {"connections"}};

// Migration 6: the durable job queue (see the SQLite variant), a tenant table like the others.
// The leasing scan runs as the BYPASSRLS maintenance role; handlers' calls run in the tenant.
constexpr std::string_view kV6Up = R"sql(
CREATE TABLE switchboard.jobs (
  tenant_id    uuid    NOT NULL REFERENCES switchboard.tenants (id),
  id           uuid    NOT NULL,
  kind         text    NOT NULL,
  payload      text    NOT NULL,  -- JSON object
  priority     integer NOT NULL CHECK (priority BETWEEN -100 AND 100),
  run_at       bigint  NOT NULL,
  dedupe_key   text    NOT NULL,  -- '' when none
  attempts     integer NOT NULL CHECK (attempts >= 0),
  max_attempts integer NOT NULL CHECK (max_attempts BETWEEN 1 AND 1000),
  state        text    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
  lease_owner  text    NOT NULL,  -- '' when not running
  lease_until  bigint,
  last_error   text    NOT NULL,
  created_at   bigint  NOT NULL,
  updated_at   bigint  NOT NULL,
  finished_at  bigint,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX jobs_due ON switchboard.jobs (state, run_at, priority);
CREATE INDEX jobs_by_state ON switchboard.jobs (tenant_id, state, id);
CREATE UNIQUE INDEX jobs_dedupe ON switchboard.jobs (tenant_id, kind, dedupe_key)
  WHERE dedupe_key <> '' AND state IN ('queued', 'running');
)sql";

constexpr std::string_view kV6Down = R"sql(
DROP TABLE switchboard.jobs;
)sql";

constexpr TenantTable kV6Tables[] = {{"jobs"}};

// Migration 7: webhooks to the host app (see the SQLite variant), two tenant tables like the
// others. Deliveries go with their endpoint through the tenant-first foreign key.
constexpr std::string_view kV7Up = R"sql(
CREATE TABLE switchboard.webhook_endpoints (
  tenant_id             uuid    NOT NULL REFERENCES switchboard.tenants (id),
  id                    uuid    NOT NULL,
  url                   text    NOT NULL,
  description           text    NOT NULL,
  event_types           text    NOT NULL,  -- JSON array of strings; [] = every event type
  enabled               integer NOT NULL CHECK (enabled IN (0, 1)),
  secret_version        bigint  NOT NULL CHECK (secret_version >= 1),
  previous_secret_until bigint,            -- the previous secret signs until then
  created_at            bigint  NOT NULL,
  updated_at            bigint  NOT NULL,
  version               bigint  NOT NULL CHECK (version >= 1),
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE switchboard.webhook_deliveries (
  tenant_id        uuid    NOT NULL REFERENCES switchboard.tenants (id),
  id               uuid    NOT NULL,
  endpoint_id      uuid    NOT NULL,
  event_id         text    NOT NULL,  -- the webhook-id header, the same on every attempt
  event_type       text    NOT NULL,
  payload          text    NOT NULL,  -- the JSON body sent and signed; never secrets
  state            text    NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed', 'dead')),
  attempts         integer NOT NULL CHECK (attempts >= 0),
  last_status_code integer CHECK (last_status_code BETWEEN 100 AND 599),
  last_error       text    NOT NULL,
  next_attempt_at  bigint,            -- set exactly while pending
  job_id           uuid    NOT NULL,  -- the durable job carrying the delivery
  created_at       bigint  NOT NULL,
  updated_at       bigint  NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, endpoint_id, event_id),
  FOREIGN KEY (tenant_id, endpoint_id) REFERENCES switchboard.webhook_endpoints (tenant_id, id)
    ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_by_endpoint
  ON switchboard.webhook_deliveries (tenant_id, endpoint_id, id);
CREATE INDEX webhook_deliveries_by_state ON switchboard.webhook_deliveries (tenant_id, state, id);
CREATE INDEX webhook_deliveries_by_event_type
  ON switchboard.webhook_deliveries (tenant_id, event_type, id);
)sql";

constexpr std::string_view kV7Down = R"sql(
DROP TABLE switchboard.webhook_deliveries;
DROP TABLE switchboard.webhook_endpoints;
)sql";

constexpr TenantTable kV7Tables[] = {{"webhook_endpoints"}, {"webhook_deliveries"}};

// Migration 8: endpoint health and per-endpoint concurrency (see the SQLite variant). Both
// tables keep their RLS policies; new columns need nothing more.
constexpr std::string_view kV8Up = R"sql(
ALTER TABLE switchboard.webhook_endpoints
  ADD COLUMN failing_since   bigint,
  ADD COLUMN last_success_at bigint,
  ADD COLUMN disabled_reason text    NOT NULL DEFAULT '',
  ADD COLUMN max_concurrency integer NOT NULL DEFAULT 4 CHECK (max_concurrency BETWEEN 1 AND 64);
ALTER TABLE switchboard.jobs
  ADD COLUMN concurrency_key   text    NOT NULL DEFAULT '',
  ADD COLUMN concurrency_limit integer NOT NULL DEFAULT 0
    CHECK (concurrency_limit BETWEEN 0 AND 1000);
CREATE INDEX jobs_concurrency ON switchboard.jobs (tenant_id, concurrency_key, state)
  WHERE concurrency_key <> '';
)sql";

constexpr std::string_view kV8Down = R"sql(
DROP INDEX switchboard.jobs_concurrency;
ALTER TABLE switchboard.jobs DROP COLUMN concurrency_limit, DROP COLUMN concurrency_key;
ALTER TABLE switchboard.webhook_endpoints
  DROP COLUMN max_concurrency, DROP COLUMN disabled_reason, DROP COLUMN last_success_at,
  DROP COLUMN failing_since;
)sql";

// Migration 9: operator controls and connection health (see the SQLite variant). Tenant
// tables like the others; global kill switches live under the nil tenant id, which only a
// system-tenant transaction (or the maintenance role) reaches.
constexpr std::string_view kV9Up = R"sql(
CREATE TABLE switchboard.provider_switches (
  tenant_id  uuid    NOT NULL,  -- the nil id: every tenant
  provider   text    NOT NULL,
  enabled    integer NOT NULL CHECK (enabled IN (0, 1)),
  reason     text    NOT NULL,
  updated_at bigint  NOT NULL,
  PRIMARY KEY (tenant_id, provider)
);

CREATE TABLE switchboard.connection_health (
  tenant_id            uuid    NOT NULL,
  connection_id        uuid    NOT NULL,
  last_success_at      bigint,
  last_error_at        bigint,
  last_error_kind      text    NOT NULL,
  last_error           text    NOT NULL,  -- never a token
  consecutive_failures bigint  NOT NULL CHECK (consecutive_failures >= 0),
  incident_since       bigint,
  retry_at             bigint,
  last_checked_at      bigint,
  next_check_at        bigint,
  updated_at           bigint  NOT NULL,
  PRIMARY KEY (tenant_id, connection_id),
  FOREIGN KEY (tenant_id, connection_id) REFERENCES switchboard.connections (tenant_id, id)
    ON DELETE CASCADE
);
CREATE INDEX connection_health_due ON switchboard.connection_health (next_check_at);
-- Connections made before this migration: due for a first check at once. The owner reads
-- every tenant's connections with row-level security lifted for this statement only (the
-- migration is one transaction).
ALTER TABLE switchboard.connections NO FORCE ROW LEVEL SECURITY;
INSERT INTO switchboard.connection_health (tenant_id, connection_id, last_error_kind, last_error,
                               consecutive_failures, next_check_at, updated_at)
  SELECT tenant_id, id, '', '', 0, created_at, created_at FROM switchboard.connections;
ALTER TABLE switchboard.connections FORCE ROW LEVEL SECURITY;

CREATE TABLE switchboard.usage_counters (
  tenant_id uuid   NOT NULL REFERENCES switchboard.tenants (id),
  day       text   NOT NULL,  -- YYYY-MM-DD, UTC
  metric    text   NOT NULL CHECK (metric IN ('api_calls', 'proxied_calls', 'refreshes')),
  count     bigint NOT NULL CHECK (count >= 0),
  PRIMARY KEY (tenant_id, day, metric)
);
)sql";

constexpr std::string_view kV9Down = R"sql(
DROP TABLE switchboard.usage_counters;
DROP TABLE switchboard.connection_health;
DROP TABLE switchboard.provider_switches;
)sql";

constexpr TenantTable kV9Tables[] = {
    {"provider_switches"}, {"connection_health"}, {"usage_counters"}};

// Migration 10: connect-flow abuse controls (see the SQLite variant). Both tables keep their
// row-level security (ENABLE + FORCE, tenant_isolation) and grants: only columns are added.
constexpr std::string_view kV10Up = R"sql(
ALTER TABLE switchboard.integrations
  ADD COLUMN allow_reassignment integer NOT NULL DEFAULT 0 CHECK (allow_reassignment IN (0, 1));
ALTER TABLE switchboard.tenants
  ADD COLUMN return_url_origins text NOT NULL DEFAULT '[]';  -- JSON array of origins
)sql";

constexpr std::string_view kV10Down = R"sql(
ALTER TABLE switchboard.tenants DROP COLUMN return_url_origins;
ALTER TABLE switchboard.integrations DROP COLUMN allow_reassignment;
)sql";

// Migration 11: job concurrency groups (see the SQLite variant). The table keeps its RLS
// policies; new columns need nothing more.
constexpr std::string_view kV11Up = R"sql(
ALTER TABLE switchboard.jobs
  ADD COLUMN concurrency_group text    NOT NULL DEFAULT '',
  ADD COLUMN group_limit       integer NOT NULL DEFAULT 0 CHECK (group_limit BETWEEN 0 AND 1000);
CREATE INDEX jobs_concurrency_group ON switchboard.jobs (tenant_id, concurrency_group, state)
  WHERE concurrency_group <> '';
)sql";

constexpr std::string_view kV11Down = R"sql(
DROP INDEX switchboard.jobs_concurrency_group;
ALTER TABLE switchboard.jobs DROP COLUMN group_limit, DROP COLUMN concurrency_group;
)sql";

// Migration 12: the sync engine and synced calendars (see the SQLite variant). Tenant tables
// like the others; the app role may only add to the change feed (SELECT and INSERT, as for
// audit entries) and only update a tenant's change counter in place.
constexpr std::string_view kV12Up = R"sql(
CREATE TABLE switchboard.sync_states (
  tenant_id       uuid   NOT NULL,
  connection_id   uuid   NOT NULL,
  service         text   NOT NULL,
  status          text   NOT NULL CHECK (status IN ('idle', 'running', 'failed', 'paused')),
  cursor          text   NOT NULL,  -- JSON object, opaque provider cursors
  last_success_at bigint,
  last_error_at   bigint,
  last_error      text   NOT NULL,  -- never a token
  paused_reason   text   NOT NULL,
  items_created   bigint NOT NULL CHECK (items_created >= 0),
  items_updated   bigint NOT NULL CHECK (items_updated >= 0),
  items_deleted   bigint NOT NULL CHECK (items_deleted >= 0),
  last_run_id     uuid,
  next_run_at     bigint,           -- NULL: not scheduled
  created_at      bigint NOT NULL,
  updated_at      bigint NOT NULL,
  PRIMARY KEY (tenant_id, connection_id, service),
  FOREIGN KEY (tenant_id, connection_id) REFERENCES switchboard.connections (tenant_id, id)
    ON DELETE CASCADE
);
CREATE INDEX sync_states_due
  ON switchboard.sync_states (next_run_at, tenant_id, connection_id, service)
  WHERE next_run_at IS NOT NULL AND status <> 'paused';

CREATE TABLE switchboard.sync_runs (
  tenant_id     uuid    NOT NULL,
  id            uuid    NOT NULL,  -- UUIDv7: id order is creation order
  connection_id uuid    NOT NULL,
  service       text    NOT NULL,
  triggered_by  text    NOT NULL CHECK (triggered_by IN ('initial', 'push', 'schedule',
                                                         'manual', 'resync')),
  outcome       text    NOT NULL CHECK (outcome IN ('queued', 'running', 'succeeded', 'failed',
                                                    'cancelled')),
  phase         text    NOT NULL,
  full_sync     integer NOT NULL CHECK (full_sync IN (0, 1)),
  checkpoint    text    NOT NULL,  -- JSON object, opaque resume position
  pages         bigint  NOT NULL CHECK (pages >= 0),
  items_created bigint  NOT NULL CHECK (items_created >= 0),
  items_updated bigint  NOT NULL CHECK (items_updated >= 0),
  items_deleted bigint  NOT NULL CHECK (items_deleted >= 0),
  error         text    NOT NULL,  -- never a token
  created_at    bigint  NOT NULL,
  started_at    bigint,
  finished_at   bigint,
  updated_at    bigint  NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, connection_id) REFERENCES switchboard.connections (tenant_id, id)
    ON DELETE CASCADE
);
CREATE UNIQUE INDEX sync_runs_open ON switchboard.sync_runs (tenant_id, connection_id, service)
  WHERE outcome IN ('queued', 'running');
CREATE INDEX sync_runs_by_connection ON switchboard.sync_runs (tenant_id, connection_id, id);

CREATE TABLE switchboard.calendars (
  tenant_id     uuid    NOT NULL,
  id            uuid    NOT NULL,
  connection_id uuid    NOT NULL,
  provider_id   text    NOT NULL,
  name          text    NOT NULL,
  data          text    NOT NULL,  -- JSON object, the unified calendar
  version       text    NOT NULL,  -- etag / changeKey
  selected      integer NOT NULL CHECK (selected IN (0, 1)),
  created_at    bigint  NOT NULL,
  updated_at    bigint  NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, connection_id, provider_id),
  FOREIGN KEY (tenant_id, connection_id) REFERENCES switchboard.connections (tenant_id, id)
    ON DELETE CASCADE
);

CREATE TABLE switchboard.calendar_events (
  tenant_id                 uuid   NOT NULL,
  id                        uuid   NOT NULL,
  connection_id             uuid   NOT NULL,  -- the calendar's (checked on write)
  calendar_id               uuid   NOT NULL,
  provider_id               text   NOT NULL,
  version                   text   NOT NULL,
  ical_uid                  text   NOT NULL,
  series_master_provider_id text   NOT NULL,  -- '' unless an exception of a series
  status                    text   NOT NULL CHECK (status IN ('confirmed', 'tentative',
                                                              'cancelled')),
  start_ms                  bigint,           -- the span covered, unix ms; NULL: unbounded
  end_ms                    bigint,
  provider_updated_at       bigint,
  data                      text   NOT NULL,  -- JSON object, the unified event
  raw                       text   NOT NULL,  -- JSON object, the provider's item
  content_hash              text   NOT NULL,  -- hex SHA-256 of data
  seen_in_run               uuid,             -- the last full run that received it
  created_at                bigint NOT NULL,
  updated_at                bigint NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, calendar_id) REFERENCES switchboard.calendars (tenant_id, id)
    ON DELETE CASCADE
);
CREATE UNIQUE INDEX calendar_events_by_provider_id
  ON switchboard.calendar_events (tenant_id, calendar_id, provider_id);
CREATE INDEX calendar_events_by_window
  ON switchboard.calendar_events (tenant_id, connection_id, start_ms, end_ms);
CREATE INDEX calendar_events_by_update ON switchboard.calendar_events (tenant_id, updated_at);
CREATE INDEX calendar_events_seen
  ON switchboard.calendar_events (tenant_id, calendar_id, seen_in_run);

CREATE TABLE switchboard.change_sequences (
  tenant_id uuid   NOT NULL PRIMARY KEY REFERENCES switchboard.tenants (id),
  last_seq  bigint NOT NULL CHECK (last_seq >= 1)
);

CREATE TABLE switchboard.changes (
  tenant_id     uuid   NOT NULL REFERENCES switchboard.tenants (id),
  seq           bigint NOT NULL CHECK (seq >= 1),
  type          text   NOT NULL,
  resource_id   uuid   NOT NULL,
  connection_id uuid,             -- no foreign key: changes outlive their connection
  data          text   NOT NULL,  -- JSON object, what the host gets
  created_at    bigint NOT NULL,
  PRIMARY KEY (tenant_id, seq)
);
)sql";

constexpr std::string_view kV12Down = R"sql(
DROP TABLE switchboard.changes;
DROP TABLE switchboard.change_sequences;
DROP TABLE switchboard.calendar_events;
DROP TABLE switchboard.calendars;
DROP TABLE switchboard.sync_runs;
DROP TABLE switchboard.sync_states;
)sql";

constexpr TenantTable kV12Tables[] = {
    {"sync_states"},
    {"sync_runs"},
    {"calendars"},
    {"calendar_events"},
    {"change_sequences", TenantColumn::kTenantId, Grants::kSelectInsertUpdate},
    {"changes", TenantColumn::kTenantId, Grants::kSelectInsert},
};

// Migration 13: push subscriptions (see the SQLite variant). Tenant tables like the others; the
// app role prunes the inbox, so both are read-write.
constexpr std::string_view kV13Up = R"sql(
CREATE TABLE switchboard.push_channels (
  tenant_id      uuid   NOT NULL,
  id             uuid   NOT NULL,
  connection_id  uuid   NOT NULL,
  service        text   NOT NULL,
  provider       text   NOT NULL,
  resource       text   NOT NULL,  -- the watched resource's provider id
  external_id    text   NOT NULL,  -- Google's channel id, Graph's subscription id
  resource_id    text   NOT NULL,  -- Google's resource id; '' for Graph
  secret_hash    text   NOT NULL,  -- hex SHA-256 of the channel token / clientState
  expires_at     bigint NOT NULL,
  status         text   NOT NULL CHECK (status IN ('active', 'stopped')),
  renew_failures bigint NOT NULL CHECK (renew_failures >= 0),
  last_error     text   NOT NULL,  -- never a secret
  created_at     bigint NOT NULL,
  updated_at     bigint NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, provider, external_id),
  FOREIGN KEY (tenant_id, connection_id) REFERENCES switchboard.connections (tenant_id, id)
    ON DELETE CASCADE
);
CREATE INDEX push_channels_expiring
  ON switchboard.push_channels (expires_at, tenant_id, connection_id) WHERE status = 'active';
CREATE INDEX push_channels_by_connection
  ON switchboard.push_channels (tenant_id, connection_id);

CREATE TABLE switchboard.push_inbox (
  tenant_id   uuid   NOT NULL,
  channel_id  uuid   NOT NULL,
  message_key text   NOT NULL,  -- the provider's message number, or a digest
  received_at bigint NOT NULL,
  PRIMARY KEY (tenant_id, channel_id, message_key),
  FOREIGN KEY (tenant_id, channel_id) REFERENCES switchboard.push_channels (tenant_id, id)
    ON DELETE CASCADE
);
CREATE INDEX push_inbox_received ON switchboard.push_inbox (received_at);
)sql";

constexpr std::string_view kV13Down = R"sql(
DROP TABLE switchboard.push_inbox;
DROP TABLE switchboard.push_channels;
)sql";

constexpr TenantTable kV13Tables[] = {
    {"push_channels"},
    {"push_inbox"},
};

// A deleted series takes its exceptions with it: the sync finds them by their master.
constexpr std::string_view kV14Up = R"sql(
CREATE INDEX calendar_events_by_series
  ON switchboard.calendar_events (tenant_id, calendar_id, series_master_provider_id)
  WHERE series_master_provider_id <> '';
)sql";

constexpr std::string_view kV14Down = R"sql(
DROP INDEX switchboard.calendar_events_by_series;
)sql";

// Migration 15: event mappings and Idempotency-Key results (see the SQLite variant). Tenant
// tables like the others; the app role deletes mappings and releases keys, so both are
// read-write.
constexpr std::string_view kV15Up = R"sql(
CREATE TABLE switchboard.event_mappings (
  tenant_id        uuid   NOT NULL,
  id               uuid   NOT NULL,
  connection_id    uuid   NOT NULL,  -- the calendar's (checked on write)
  calendar_id      uuid   NOT NULL,
  external_id      text   NOT NULL,  -- the host's id
  event_id         uuid,             -- the unified event, once stored; no foreign key
  provider_id      text   NOT NULL,  -- '' until known
  provider_version text   NOT NULL,  -- etag / changeKey
  host_version     bigint NOT NULL CHECK (host_version >= 0),
  state            text   NOT NULL CHECK (state IN ('synced', 'pending', 'conflict', 'error')),
  last_error       text   NOT NULL,  -- never a token
  pending          text,             -- JSON object, the event awaiting its write; or NULL
  created_at       bigint NOT NULL,
  updated_at       bigint NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, connection_id, external_id),
  FOREIGN KEY (tenant_id, connection_id) REFERENCES switchboard.connections (tenant_id, id)
    ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, calendar_id) REFERENCES switchboard.calendars (tenant_id, id)
    ON DELETE CASCADE
);
CREATE INDEX event_mappings_by_event ON switchboard.event_mappings (tenant_id, event_id)
  WHERE event_id IS NOT NULL;
CREATE INDEX event_mappings_by_provider_id
  ON switchboard.event_mappings (tenant_id, calendar_id, provider_id) WHERE provider_id <> '';
CREATE INDEX event_mappings_by_connection
  ON switchboard.event_mappings (tenant_id, connection_id, id);

CREATE TABLE switchboard.idempotency_keys (
  tenant_id    uuid    NOT NULL REFERENCES switchboard.tenants (id),
  key          text    NOT NULL,  -- the client's Idempotency-Key
  fingerprint  text    NOT NULL,  -- hex SHA-256 of the request
  status       integer NOT NULL CHECK (status = 0 OR status BETWEEN 100 AND 599),  -- 0: running
  headers      text    NOT NULL,  -- JSON object, the answer's headers to replay
  body         bytea   NOT NULL,  -- the answer's body
  created_at   bigint  NOT NULL,
  locked_until bigint  NOT NULL,
  expires_at   bigint  NOT NULL,
  PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_expires ON switchboard.idempotency_keys (expires_at);
)sql";

constexpr std::string_view kV15Down = R"sql(
DROP TABLE switchboard.idempotency_keys;
DROP TABLE switchboard.event_mappings;
)sql";

constexpr TenantTable kV15Tables[] = {
    {"event_mappings"},
    {"idempotency_keys"},
};

// Migration 16: conflicts between the host's writes and provider changes (issue 16;
// conflict_repository.h). One row per conflict: the host's entry (mapping id, external id),
// both versions of the event as unified JSON (`provider_event` NULL when the provider deleted
// it), the policy that applied, and, once resolved, which side won and who decided.
// mapping_id and event_id are no foreign keys: the record outlives a mapping or an event the
// resolution removes. Conflicts go with their connection. event_conflicts_by_status serves the
// tenant's queue in id order; event_conflicts_open_by_mapping finds a mapping's open conflict.
constexpr std::string_view kV16Up = R"sql(
CREATE TABLE switchboard.event_conflicts (
  tenant_id      uuid    NOT NULL,
  id             uuid    NOT NULL,
  connection_id  uuid    NOT NULL,
  mapping_id     uuid    NOT NULL,
  external_id    text    NOT NULL,
  event_id       uuid,
  policy         text    NOT NULL
    CHECK (policy IN ('last_modified_wins', 'provider_wins', 'host_wins', 'manual')),
  status         text    NOT NULL CHECK (status IN ('open', 'resolved')),
  resolution     text    NOT NULL CHECK (resolution IN ('', 'provider', 'host', 'merged')),
  host_event     text    NOT NULL,  -- JSON object
  provider_event text,              -- JSON object, NULL when deleted at the provider
  resolved_event text,              -- JSON object of a merged resolution, else NULL
  resolved_by    text    NOT NULL,  -- '' while open; 'policy' or the actor
  detected_at    bigint  NOT NULL,
  resolved_at    bigint,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, connection_id) REFERENCES switchboard.connections (tenant_id, id)
    ON DELETE CASCADE
);
CREATE INDEX event_conflicts_by_status ON switchboard.event_conflicts (tenant_id, status, id);
CREATE INDEX event_conflicts_open_by_mapping ON switchboard.event_conflicts (tenant_id, mapping_id)
  WHERE status = 'open';
CREATE INDEX event_conflicts_by_connection ON switchboard.event_conflicts (tenant_id, connection_id, id);
)sql";

constexpr std::string_view kV16Down = R"sql(
DROP TABLE switchboard.event_conflicts;
)sql";

constexpr TenantTable kV16Tables[] = {
    {"event_conflicts"},
};

// Migration 17: conflict policies per integration (see the SQLite variant). The table keeps its
// row-level security and grants: only a column is added.
constexpr std::string_view kV17Up = R"sql(
ALTER TABLE switchboard.integrations
  ADD COLUMN conflict_policies text NOT NULL DEFAULT '{}';  -- JSON object service -> policy
)sql";

constexpr std::string_view kV17Down = R"sql(
ALTER TABLE switchboard.integrations DROP COLUMN conflict_policies;
)sql";

// Migration 18: the occurrence ids a provider names (see the SQLite variant).
constexpr std::string_view kV18Up = R"sql(
CREATE TABLE switchboard.calendar_occurrences (
  tenant_id          uuid NOT NULL,
  calendar_id        uuid NOT NULL,
  provider_id        text NOT NULL,
  master_provider_id text NOT NULL,
  original_start     text NOT NULL,
  PRIMARY KEY (tenant_id, calendar_id, provider_id),
  FOREIGN KEY (tenant_id, calendar_id) REFERENCES switchboard.calendars (tenant_id, id)
    ON DELETE CASCADE
);
CREATE INDEX calendar_occurrences_by_master
  ON switchboard.calendar_occurrences (tenant_id, calendar_id, master_provider_id);
)sql";

constexpr std::string_view kV18Down = R"sql(
DROP TABLE switchboard.calendar_occurrences;
)sql";

constexpr TenantTable kV18Tables[] = {
    {"calendar_occurrences"},
};

// Migration 19: the audit viewer's filters find their first page without scanning the chain.
// A filter by action or target ordered by seq used the (tenant_id, action) index only for the
// filter, or none at all, and an action or target that is rare or absent scanned the whole log
// (2.6 s at p99 with a million entries, docs/benchmarks.md): both indexes now end in seq.
constexpr std::string_view kV19Up = R"sql(
DROP INDEX switchboard.audit_entries_by_action;
CREATE INDEX audit_entries_by_action ON switchboard.audit_entries (tenant_id, action, seq);
CREATE INDEX audit_entries_by_target ON switchboard.audit_entries (tenant_id, target, seq);
)sql";

constexpr std::string_view kV19Down = R"sql(
DROP INDEX switchboard.audit_entries_by_target;
DROP INDEX switchboard.audit_entries_by_action;
CREATE INDEX audit_entries_by_action ON switchboard.audit_entries (tenant_id, action);
)sql";

// Migration 20: dashboard users and sessions (see the SQLite variant), both under row-level
// security: a sign-in names its tenant, so nothing is looked up across tenants.
constexpr std::string_view kV20Up = R"sql(
CREATE TABLE switchboard.dashboard_users (
  tenant_id     uuid    NOT NULL REFERENCES switchboard.tenants (id),
  id            uuid    NOT NULL,
  email         text    NOT NULL,
  name          text    NOT NULL,
  role          text    NOT NULL CHECK (role IN ('operator', 'admin', 'viewer')),
  password_hash text,
  failed_logins bigint  NOT NULL CHECK (failed_logins >= 0),
  locked_until  bigint,
  disabled      integer NOT NULL CHECK (disabled IN (0, 1)),
  created_at    bigint  NOT NULL,
  updated_at    bigint  NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, email)
);

CREATE TABLE switchboard.dashboard_sessions (
  tenant_id    uuid   NOT NULL,
  id           uuid   NOT NULL,
  user_id      uuid   NOT NULL,
  token_hash   text   NOT NULL,
  created_at   bigint NOT NULL,
  expires_at   bigint NOT NULL,
  last_seen_at bigint NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, token_hash),
  FOREIGN KEY (tenant_id, user_id) REFERENCES switchboard.dashboard_users (tenant_id, id)
    ON DELETE CASCADE
);
)sql";

constexpr std::string_view kV20Down = R"sql(
DROP TABLE switchboard.dashboard_sessions;
DROP TABLE switchboard.dashboard_users;
)sql";

constexpr TenantTable kV20Tables[] = {
    {"dashboard_users"},
    {"dashboard_sessions"},
};

// Migration 21: live updates (GET /v1/live) ask each poll what changed since a keyset position
// (updated_at, id) of the tenant's sync runs, connection health rows and webhook deliveries
// (UpdatedCursor); these indexes answer that without scanning the tenant's rows.
constexpr std::string_view kV21Up = R"sql(
CREATE INDEX sync_runs_by_update ON switchboard.sync_runs (tenant_id, updated_at, id);
CREATE INDEX connection_health_by_update ON switchboard.connection_health (tenant_id, updated_at, connection_id);
CREATE INDEX webhook_deliveries_by_update ON switchboard.webhook_deliveries (tenant_id, updated_at, id);
)sql";

constexpr std::string_view kV21Down = R"sql(
DROP INDEX switchboard.webhook_deliveries_by_update;
DROP INDEX switchboard.connection_health_by_update;
DROP INDEX switchboard.sync_runs_by_update;
)sql";

// Migration 22: a tenant's logo for the hosted connect page (see the SQLite variant).
constexpr std::string_view kV22Up = R"sql(
ALTER TABLE switchboard.tenants ADD COLUMN logo text NOT NULL DEFAULT '';
)sql";

constexpr std::string_view kV22Down = R"sql(
ALTER TABLE switchboard.tenants DROP COLUMN logo;
)sql";

// Migration 23: dashboard sign-in with OpenID Connect (see the SQLite variant), under row-level
// security like every tenant table.
constexpr std::string_view kV23Up = R"sql(
ALTER TABLE switchboard.dashboard_users ADD COLUMN oidc_provider text NOT NULL DEFAULT '';
ALTER TABLE switchboard.dashboard_users ADD COLUMN oidc_subject text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX dashboard_users_by_oidc
  ON switchboard.dashboard_users (tenant_id, oidc_provider, oidc_subject) WHERE oidc_subject <> '';

CREATE TABLE switchboard.dashboard_sign_ins (
  tenant_id       uuid   NOT NULL REFERENCES switchboard.tenants (id),
  state_hash      text   NOT NULL,
  provider        text   NOT NULL,
  redirect_uri    text   NOT NULL,
  issuer          text   NOT NULL,
  nonce_hash      text   NOT NULL,
  browser_binding text   NOT NULL,
  created_at      bigint NOT NULL,
  expires_at      bigint NOT NULL,
  consumed_at     bigint,
  PRIMARY KEY (tenant_id, state_hash)
);
CREATE INDEX dashboard_sign_ins_by_expiry
  ON switchboard.dashboard_sign_ins (tenant_id, expires_at);
)sql";

constexpr std::string_view kV23Down = R"sql(
DROP TABLE switchboard.dashboard_sign_ins;
DROP INDEX switchboard.dashboard_users_by_oidc;
ALTER TABLE switchboard.dashboard_users DROP COLUMN oidc_subject;
ALTER TABLE switchboard.dashboard_users DROP COLUMN oidc_provider;
)sql";

constexpr TenantTable kV23Tables[] = {
    {"dashboard_sign_ins"},
};

// Migration 24: a job asked for again while it runs runs once more (see the SQLite variant).
constexpr std::string_view kV24Up = R"sql(
ALTER TABLE switchboard.jobs
  ADD COLUMN run_again integer NOT NULL DEFAULT 0 CHECK (run_again IN (0, 1));
)sql";

constexpr std::string_view kV24Down = R"sql(
ALTER TABLE switchboard.jobs DROP COLUMN run_again;
)sql";

// Migration 25: the change feed filtered by connection (GET /v1/changes?connection_id=).
constexpr std::string_view kV25Up = R"sql(
CREATE INDEX changes_by_connection ON switchboard.changes (tenant_id, connection_id, seq);
)sql";

constexpr std::string_view kV25Down = R"sql(
DROP INDEX switchboard.changes_by_connection;
)sql";

// Migration 26: a connection's health history (see the SQLite variant). The owner reads every
// tenant's open incidents with row-level security lifted for this statement only.
constexpr std::string_view kV26Up = R"sql(
CREATE TABLE switchboard.connection_health_incidents (
  tenant_id     uuid   NOT NULL,
  connection_id uuid   NOT NULL,
  seq           bigint NOT NULL CHECK (seq >= 1),
  opened_at     bigint NOT NULL,
  closed_at     bigint,
  error_kind    text   NOT NULL,
  error         text   NOT NULL,  -- never a token
  PRIMARY KEY (tenant_id, connection_id, seq),
  FOREIGN KEY (tenant_id, connection_id) REFERENCES switchboard.connections (tenant_id, id)
    ON DELETE CASCADE
);
ALTER TABLE switchboard.connection_health NO FORCE ROW LEVEL SECURITY;
INSERT INTO switchboard.connection_health_incidents (tenant_id, connection_id, seq, opened_at,
                                                     error_kind, error)
  SELECT tenant_id, connection_id, 1, incident_since, last_error_kind, last_error
  FROM switchboard.connection_health WHERE incident_since IS NOT NULL;
ALTER TABLE switchboard.connection_health FORCE ROW LEVEL SECURITY;
)sql";

constexpr std::string_view kV26Down = R"sql(
DROP TABLE switchboard.connection_health_incidents;
)sql";

constexpr TenantTable kV26Tables[] = {
    {"connection_health_incidents"},
};

// Migration 27: the open incidents of a tenant, newest first (see the SQLite variant).
constexpr std::string_view kV27Up = R"sql(
CREATE INDEX connection_health_open_incidents
  ON switchboard.connection_health (tenant_id, incident_since, connection_id)
  WHERE incident_since IS NOT NULL;
)sql";

constexpr std::string_view kV27Down = R"sql(
DROP INDEX switchboard.connection_health_open_incidents;
)sql";

constexpr Migration kMigrations[] = {
    {1, "tenants_and_api_keys", kV1Up, kV1Down, kV1Tables},
    {2, "audit_log", kV2Up, kV2Down, kV2Tables},
    {3, "vault", kV3Up, kV3Down, kV3Tables},
    {4, "integrations", kV4Up, kV4Down, kV4Tables},
    {5, "connect", kV5Up, kV5Down, kV5Tables},
    {6, "jobs", kV6Up, kV6Down, kV6Tables},
    {7, "webhooks", kV7Up, kV7Down, kV7Tables},
    {8, "webhook_endpoint_health", kV8Up, kV8Down},
    {9, "admin_and_health", kV9Up, kV9Down, kV9Tables},
    {10, "connect_abuse_controls", kV10Up, kV10Down},
    {11, "job_concurrency_groups", kV11Up, kV11Down},
    {12, "sync_and_calendar", kV12Up, kV12Down, kV12Tables},
    {13, "push_channels", kV13Up, kV13Down, kV13Tables},
    {14, "calendar_series_index", kV14Up, kV14Down},
    {15, "event_mappings_and_idempotency", kV15Up, kV15Down, kV15Tables},
    {16, "event_conflicts", kV16Up, kV16Down, kV16Tables},
    {17, "integration_conflict_policies", kV17Up, kV17Down},
    {18, "calendar_occurrences", kV18Up, kV18Down, kV18Tables},
    {19, "audit_filter_indexes", kV19Up, kV19Down},
    {20, "dashboard_users", kV20Up, kV20Down, kV20Tables},
    {21, "live_update_indexes", kV21Up, kV21Down},
    {22, "tenant_logo", kV22Up, kV22Down},
    {23, "dashboard_oidc", kV23Up, kV23Down, kV23Tables},
    {24, "job_run_again", kV24Up, kV24Down},
    {25, "changes_by_connection", kV25Up, kV25Down},
    {26, "connection_health_incidents", kV26Up, kV26Down, kV26Tables},
    {27, "connection_health_open_incidents", kV27Up, kV27Down},
};

}  // namespace

std::span<const Migration> PostgresMigrations() { return kMigrations; }

}  // namespace sb::store
