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

// Migration 2: the tamper-evident audit log (security.md 5, TL-01/TL-03). audit_entries holds
// one hash-chained entry per (tenant, seq); the body columns are NULL together only when a
// body was erased for retention (TL-06: the leaf and chain hashes stay). There is no foreign
// key to tenants: entries outlive their tenant, and the deployment-wide chain uses the nil
// tenant id. audit_heads is the one row per chain that appenders lock; audit_checkpoints holds
// the signed checkpoints.
constexpr std::string_view kV2Up = R"sql(
CREATE TABLE audit_entries (
  tenant_id   TEXT    NOT NULL,
  seq         INTEGER NOT NULL CHECK (seq >= 1),
  id          TEXT,
  occurred_at INTEGER,
  actor_kind  TEXT,
  actor_id    TEXT,
  action      TEXT,
  target      TEXT,
  outcome     TEXT,
  request_id  TEXT,
  details     TEXT,
  leaf_hash   TEXT    NOT NULL,
  chain_hash  TEXT    NOT NULL,
  PRIMARY KEY (tenant_id, seq),
  CHECK ((id IS NULL AND occurred_at IS NULL AND actor_kind IS NULL AND actor_id IS NULL AND
          action IS NULL AND target IS NULL AND outcome IS NULL AND request_id IS NULL AND
          details IS NULL) OR
         (id IS NOT NULL AND occurred_at IS NOT NULL AND actor_kind IS NOT NULL AND
          actor_id IS NOT NULL AND action IS NOT NULL AND target IS NOT NULL AND
          outcome IS NOT NULL AND request_id IS NOT NULL AND details IS NOT NULL))
) WITHOUT ROWID;
CREATE INDEX audit_entries_by_time ON audit_entries (tenant_id, occurred_at);
CREATE INDEX audit_entries_by_action ON audit_entries (tenant_id, action);

CREATE TABLE audit_heads (
  tenant_id            TEXT    NOT NULL PRIMARY KEY,
  seq                  INTEGER NOT NULL CHECK (seq >= 0),
  chain_hash           TEXT    NOT NULL,
  last_checkpoint_hash TEXT    NOT NULL
) WITHOUT ROWID;

CREATE TABLE audit_checkpoints (
  tenant_id            TEXT    NOT NULL,
  seq                  INTEGER NOT NULL CHECK (seq >= 1),
  chain_hash           TEXT    NOT NULL,
  created_at           INTEGER NOT NULL,
  prev_checkpoint_hash TEXT    NOT NULL,
  key_id               TEXT    NOT NULL,
  signature            TEXT    NOT NULL,
  PRIMARY KEY (tenant_id, seq)
) WITHOUT ROWID;
)sql";

constexpr std::string_view kV2Down = R"sql(
DROP TABLE audit_checkpoints;
DROP TABLE audit_heads;
DROP TABLE audit_entries;
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

// Migration 4: integrations, a tenant's OAuth app per provider. The client secret is not here:
// it lives in vault_secrets (owner "integration:<provider>", field "client_secret").
constexpr std::string_view kV4Up = R"sql(
CREATE TABLE integrations (
  tenant_id    TEXT    NOT NULL REFERENCES tenants (id),
  provider     TEXT    NOT NULL,
  client_id    TEXT    NOT NULL,
  services     TEXT    NOT NULL,  -- JSON array of {"service", "write"}
  extra_scopes TEXT    NOT NULL,  -- JSON array of strings
  enabled      INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  version      INTEGER NOT NULL CHECK (version >= 1),
  PRIMARY KEY (tenant_id, provider)
) WITHOUT ROWID;
)sql";

constexpr std::string_view kV4Down = R"sql(
DROP TABLE integrations;
)sql";

// Migration 5: the connect flow (connect_repository.h). connect_sessions and oauth_transactions
// store only hashes of their bearer values (session token, OAuth state); connections carry the
// token version and refresh lease of OA-10. Tokens and PKCE verifiers live in vault_secrets.
constexpr std::string_view kV5Up = R"sql(
CREATE TABLE connect_sessions (
  tenant_id         TEXT    NOT NULL REFERENCES tenants (id),
  id                TEXT    NOT NULL,
  token_hash        TEXT    NOT NULL,  -- hex SHA-256 of the session token
  end_user_id       TEXT    NOT NULL,
  end_user_email    TEXT    NOT NULL,
  allowed_providers TEXT    NOT NULL,  -- JSON array of provider ids
  services          TEXT    NOT NULL,  -- JSON array of {"service", "write"}
  return_url        TEXT    NOT NULL,
  created_at        INTEGER NOT NULL,
  expires_at        INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, token_hash)
) WITHOUT ROWID;
CREATE INDEX connect_sessions_by_expiry ON connect_sessions (tenant_id, expires_at);

CREATE TABLE oauth_transactions (
  tenant_id       TEXT    NOT NULL REFERENCES tenants (id),
  state_hash      TEXT    NOT NULL,  -- hex SHA-256 of `state`
  session_id      TEXT    NOT NULL,
  provider        TEXT    NOT NULL,
  redirect_uri    TEXT    NOT NULL,
  issuer          TEXT    NOT NULL,
  nonce_hash      TEXT    NOT NULL,
  browser_binding TEXT    NOT NULL,
  services        TEXT    NOT NULL,  -- JSON array of {"service", "write"}
  scopes          TEXT    NOT NULL,  -- JSON array of strings
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL,
  consumed_at     INTEGER,
  PRIMARY KEY (tenant_id, state_hash)
) WITHOUT ROWID;
CREATE INDEX oauth_transactions_by_expiry ON oauth_transactions (tenant_id, expires_at);

CREATE TABLE connections (
  tenant_id          TEXT    NOT NULL REFERENCES tenants (id),
  id                 TEXT    NOT NULL,
  provider           TEXT    NOT NULL,
  end_user_id        TEXT    NOT NULL,
  account_subject    TEXT    NOT NULL,
  account_email      TEXT    NOT NULL,
  provider_tenant_id TEXT    NOT NULL,
  status             TEXT    NOT NULL CHECK (status IN ('active', 'refreshing', 'error',
                                             'reauthorization_required', 'disabled', 'revoked')),
  status_reason      TEXT    NOT NULL,
  services           TEXT    NOT NULL,  -- JSON array of {"service", "write"}
  granted_scopes     TEXT    NOT NULL,  -- JSON array of strings
  missing_scopes     TEXT    NOT NULL,  -- JSON array of strings
  settings           TEXT    NOT NULL,  -- JSON object
  access_expires_at  INTEGER,
  has_refresh_token  INTEGER NOT NULL CHECK (has_refresh_token IN (0, 1)),
  token_version      INTEGER NOT NULL CHECK (token_version >= 0),
  lease_owner        TEXT    NOT NULL,  -- '' when no node holds the refresh lease
  lease_until        INTEGER,
  next_refresh_at    INTEGER,
  refresh_failures   INTEGER NOT NULL CHECK (refresh_failures >= 0),
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, provider, provider_tenant_id, account_subject)
) WITHOUT ROWID;
CREATE INDEX connections_by_end_user ON connections (tenant_id, end_user_id, id);
CREATE INDEX connections_by_provider ON connections (tenant_id, provider, status, id);
CREATE INDEX connections_due ON connections (next_refresh_at, tenant_id, id)
  WHERE next_refresh_at IS NOT NULL;
)sql";

constexpr std::string_view kV5Down = R"sql(
DROP TABLE connections;
DROP TABLE oauth_transactions;
DROP TABLE connect_sessions;
)sql";

// Migration 6: the durable job queue (job_repository.h). One row per job; payloads never hold
// secrets. jobs_due serves the leasing scan, jobs_by_state the per-tenant listing, and
// jobs_dedupe makes (tenant, kind, dedupe_key) unique among live (queued or running) jobs only,
// so that a finished job does not block a new one with the same key.
constexpr std::string_view kV6Up = R"sql(
CREATE TABLE jobs (
  tenant_id    TEXT    NOT NULL REFERENCES tenants (id),
  id           TEXT    NOT NULL,
  kind         TEXT    NOT NULL,
  payload      TEXT    NOT NULL,  -- JSON object
  priority     INTEGER NOT NULL CHECK (priority BETWEEN -100 AND 100),
  run_at       INTEGER NOT NULL,
  dedupe_key   TEXT    NOT NULL,  -- '' when none
  attempts     INTEGER NOT NULL CHECK (attempts >= 0),
  max_attempts INTEGER NOT NULL CHECK (max_attempts BETWEEN 1 AND 1000),
  state        TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
  lease_owner  TEXT    NOT NULL,  -- '' when not running
  lease_until  INTEGER,
  last_error   TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  finished_at  INTEGER,
  PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE INDEX jobs_due ON jobs (state, run_at, priority);
CREATE INDEX jobs_by_state ON jobs (tenant_id, state, id);
CREATE UNIQUE INDEX jobs_dedupe ON jobs (tenant_id, kind, dedupe_key)
  WHERE dedupe_key <> '' AND state IN ('queued', 'running');
)sql";

constexpr std::string_view kV6Down = R"sql(
DROP TABLE jobs;
)sql";

// Migration 7: webhooks to the host app (webhook_repository.h). Endpoints hold no secrets (the
// vault does, owner "webhook_endpoint:<id>"); deliveries are the outbox of signed events, one
// per event and endpoint (the UNIQUE key keeps a repeated fan-out from sending twice), and go
// with their endpoint. The indexes serve the listing filters, each in id order.
constexpr std::string_view kV7Up = R"sql(
CREATE TABLE webhook_endpoints (
  tenant_id             TEXT    NOT NULL REFERENCES tenants (id),
  id                    TEXT    NOT NULL,
  url                   TEXT    NOT NULL,
  description           TEXT    NOT NULL,
  event_types           TEXT    NOT NULL,  -- JSON array of strings; [] = every event type
  enabled               INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  secret_version        INTEGER NOT NULL CHECK (secret_version >= 1),
  previous_secret_until INTEGER,           -- the previous secret signs until then
  created_at            INTEGER NOT NULL,
  updated_at            INTEGER NOT NULL,
  version               INTEGER NOT NULL CHECK (version >= 1),
  PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;

CREATE TABLE webhook_deliveries (
  tenant_id        TEXT    NOT NULL REFERENCES tenants (id),
  id               TEXT    NOT NULL,
  endpoint_id      TEXT    NOT NULL,
  event_id         TEXT    NOT NULL,  -- the webhook-id header, the same on every attempt
  event_type       TEXT    NOT NULL,
  payload          TEXT    NOT NULL,  -- the JSON body sent and signed; never secrets
  state            TEXT    NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed', 'dead')),
  attempts         INTEGER NOT NULL CHECK (attempts >= 0),
  last_status_code INTEGER CHECK (last_status_code BETWEEN 100 AND 599),
  last_error       TEXT    NOT NULL,
  next_attempt_at  INTEGER,           -- set exactly while pending
  job_id           TEXT    NOT NULL,  -- the durable job carrying the delivery
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, endpoint_id, event_id),
  FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id)
    ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (tenant_id, endpoint_id, id);
CREATE INDEX webhook_deliveries_by_state ON webhook_deliveries (tenant_id, state, id);
CREATE INDEX webhook_deliveries_by_event_type ON webhook_deliveries (tenant_id, event_type, id);
)sql";

constexpr std::string_view kV7Down = R"sql(
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
)sql";

// Migration 8: endpoint health and per-endpoint concurrency (WH-04, WH-05). An endpoint records
// since when it has been failing (the first failed attempt after its last success; NULL while
// healthy) and its last success, why it was disabled ('' while enabled or when disabled before
// this migration) and how many deliveries to it may be in flight at once. Jobs get a generic
// concurrency key: at most concurrency_limit running leases per (tenant, key) at once; '' and 0
// for none. jobs_concurrency serves the count of running leases per key.
constexpr std::string_view kV8Up = R"sql(
ALTER TABLE webhook_endpoints ADD COLUMN failing_since INTEGER;
ALTER TABLE webhook_endpoints ADD COLUMN last_success_at INTEGER;
ALTER TABLE webhook_endpoints ADD COLUMN disabled_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE webhook_endpoints ADD COLUMN max_concurrency INTEGER NOT NULL DEFAULT 4
  CHECK (max_concurrency BETWEEN 1 AND 64);
ALTER TABLE jobs ADD COLUMN concurrency_key TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN concurrency_limit INTEGER NOT NULL DEFAULT 0
  CHECK (concurrency_limit BETWEEN 0 AND 1000);
CREATE INDEX jobs_concurrency ON jobs (tenant_id, concurrency_key, state)
  WHERE concurrency_key <> '';
)sql";

constexpr std::string_view kV8Down = R"sql(
DROP INDEX jobs_concurrency;
ALTER TABLE jobs DROP COLUMN concurrency_limit;
ALTER TABLE jobs DROP COLUMN concurrency_key;
ALTER TABLE webhook_endpoints DROP COLUMN max_concurrency;
ALTER TABLE webhook_endpoints DROP COLUMN disabled_reason;
ALTER TABLE webhook_endpoints DROP COLUMN last_success_at;
ALTER TABLE webhook_endpoints DROP COLUMN failing_since;
)sql";

// Migration 9: operator controls and connection health (admin_repository.h,
// connection_health_repository.h). provider_switches holds the kill switches an administrator
// set, per tenant or, under the nil tenant id, for every tenant (no foreign key for that
// reason); connection_health is one row per connection, kept apart from the connection row so
// that recording outcomes never races the refresh's compare-and-set; usage_counters are daily
// per-tenant counts that nodes add to.
constexpr std::string_view kV9Up = R"sql(
CREATE TABLE provider_switches (
  tenant_id  TEXT    NOT NULL,  -- the nil id: every tenant
  provider   TEXT    NOT NULL,
  enabled    INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  reason     TEXT    NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, provider)
) WITHOUT ROWID;

CREATE TABLE connection_health (
  tenant_id            TEXT    NOT NULL,
  connection_id        TEXT    NOT NULL,
  last_success_at      INTEGER,
  last_error_at        INTEGER,
  last_error_kind      TEXT    NOT NULL,
  last_error           TEXT    NOT NULL,  -- never a token
  consecutive_failures INTEGER NOT NULL CHECK (consecutive_failures >= 0),
  incident_since       INTEGER,
  retry_at             INTEGER,
  last_checked_at      INTEGER,
  next_check_at        INTEGER,
  updated_at           INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, connection_id),
  FOREIGN KEY (tenant_id, connection_id) REFERENCES connections (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX connection_health_due ON connection_health (next_check_at);
-- Connections made before this migration: due for a first check at once.
INSERT INTO connection_health (tenant_id, connection_id, last_error_kind, last_error,
                               consecutive_failures, next_check_at, updated_at)
  SELECT tenant_id, id, '', '', 0, created_at, created_at FROM connections;

CREATE TABLE usage_counters (
  tenant_id TEXT    NOT NULL REFERENCES tenants (id),
  day       TEXT    NOT NULL,  -- YYYY-MM-DD, UTC
  metric    TEXT    NOT NULL CHECK (metric IN ('api_calls', 'proxied_calls', 'refreshes')),
  count     INTEGER NOT NULL CHECK (count >= 0),
  PRIMARY KEY (tenant_id, day, metric)
) WITHOUT ROWID;
)sql";

constexpr std::string_view kV9Down = R"sql(
DROP TABLE usage_counters;
DROP TABLE connection_health;
DROP TABLE provider_switches;
)sql";

// Migration 10: connect-flow abuse controls (issue 13). integrations.allow_reassignment lets a
// tenant's integration move an already connected provider account to another end user
// (default: refused); tenants.return_url_origins is the JSON array of origins a connect
// session's return_url may use (OA-06; empty: none yet, sessions are refused until set).
constexpr std::string_view kV10Up = R"sql(
ALTER TABLE integrations ADD COLUMN allow_reassignment INTEGER NOT NULL DEFAULT 0
  CHECK (allow_reassignment IN (0, 1));
ALTER TABLE tenants ADD COLUMN return_url_origins TEXT NOT NULL DEFAULT '[]';
)sql";

constexpr std::string_view kV10Down = R"sql(
ALTER TABLE tenants DROP COLUMN return_url_origins;
ALTER TABLE integrations DROP COLUMN allow_reassignment;
)sql";

// Migration 11 (10 is another change's): a second, coarser concurrency key for jobs, the
// group (job_repository.h): a job is leased only while its key and its group both have room.
// Webhook deliveries use it for the tenant's deliveries in flight
// (quotas.webhook_deliveries_in_flight). jobs_concurrency_group serves the running count.
constexpr std::string_view kV11Up = R"sql(
ALTER TABLE jobs ADD COLUMN concurrency_group TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN group_limit INTEGER NOT NULL DEFAULT 0
  CHECK (group_limit BETWEEN 0 AND 1000);
CREATE INDEX jobs_concurrency_group ON jobs (tenant_id, concurrency_group, state)
  WHERE concurrency_group <> '';
)sql";

constexpr std::string_view kV11Down = R"sql(
DROP INDEX jobs_concurrency_group;
ALTER TABLE jobs DROP COLUMN group_limit;
ALTER TABLE jobs DROP COLUMN concurrency_group;
)sql";

// Migration 12: the sync engine and synced calendars (issue 15; sync_repository.h,
// calendar_repository.h). sync_states is one row per connection and service (the provider
// cursors between runs and the fallback schedule; sync_states_due serves the scheduler's scan
// and leaves paused states out), sync_runs one per run, at most one of them open (queued or
// running) per connection and service: sync_runs_open is a partial UNIQUE index, so that two
// nodes cannot both start one. calendars and calendar_events are the synced provider items, the
// unified JSON next to the columns that queries filter on; events go with their calendar,
// calendars, states and runs with their connection. changes is the tenant's ordered feed
// (seq from change_sequences, one counter row per tenant, whose update serializes a tenant's
// appenders); it has no foreign key to connections because it outlives them (it reports that
// a disconnected connection's events were deleted).
constexpr std::string_view kV12Up = R"sql(
CREATE TABLE sync_states (
  tenant_id       TEXT    NOT NULL,
  connection_id   TEXT    NOT NULL,
  service         TEXT    NOT NULL,
  status          TEXT    NOT NULL CHECK (status IN ('idle', 'running', 'failed', 'paused')),
  cursor          TEXT    NOT NULL,  -- JSON object, opaque provider cursors
  last_success_at INTEGER,
  last_error_at   INTEGER,
  last_error      TEXT    NOT NULL,  -- never a token
  paused_reason   TEXT    NOT NULL,
  items_created   INTEGER NOT NULL CHECK (items_created >= 0),
  items_updated   INTEGER NOT NULL CHECK (items_updated >= 0),
  items_deleted   INTEGER NOT NULL CHECK (items_deleted >= 0),
  last_run_id     TEXT,
  next_run_at     INTEGER,           -- NULL: not scheduled
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, connection_id, service),
  FOREIGN KEY (tenant_id, connection_id) REFERENCES connections (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX sync_states_due ON sync_states (next_run_at, tenant_id, connection_id, service)
  WHERE next_run_at IS NOT NULL AND status <> 'paused';

CREATE TABLE sync_runs (
  tenant_id     TEXT    NOT NULL,
  id            TEXT    NOT NULL,  -- UUIDv7: id order is creation order
  connection_id TEXT    NOT NULL,
  service       TEXT    NOT NULL,
  triggered_by  TEXT    NOT NULL CHECK (triggered_by IN ('initial', 'push', 'schedule',
                                                         'manual', 'resync')),
  outcome       TEXT    NOT NULL CHECK (outcome IN ('queued', 'running', 'succeeded', 'failed',
                                                    'cancelled')),
  phase         TEXT    NOT NULL,
  full_sync     INTEGER NOT NULL CHECK (full_sync IN (0, 1)),
  checkpoint    TEXT    NOT NULL,  -- JSON object, opaque resume position
  pages         INTEGER NOT NULL CHECK (pages >= 0),
  items_created INTEGER NOT NULL CHECK (items_created >= 0),
  items_updated INTEGER NOT NULL CHECK (items_updated >= 0),
  items_deleted INTEGER NOT NULL CHECK (items_deleted >= 0),
  error         TEXT    NOT NULL,  -- never a token
  created_at    INTEGER NOT NULL,
  started_at    INTEGER,
  finished_at   INTEGER,
  updated_at    INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, connection_id) REFERENCES connections (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE UNIQUE INDEX sync_runs_open ON sync_runs (tenant_id, connection_id, service)
  WHERE outcome IN ('queued', 'running');
CREATE INDEX sync_runs_by_connection ON sync_runs (tenant_id, connection_id, id);

CREATE TABLE calendars (
  tenant_id     TEXT    NOT NULL,
  id            TEXT    NOT NULL,
  connection_id TEXT    NOT NULL,
  provider_id   TEXT    NOT NULL,
  name          TEXT    NOT NULL,
  data          TEXT    NOT NULL,  -- JSON object, the unified calendar
  version       TEXT    NOT NULL,  -- etag / changeKey
  selected      INTEGER NOT NULL CHECK (selected IN (0, 1)),
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, connection_id, provider_id),
  FOREIGN KEY (tenant_id, connection_id) REFERENCES connections (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE calendar_events (
  tenant_id                 TEXT    NOT NULL,
  id                        TEXT    NOT NULL,
  connection_id             TEXT    NOT NULL,  -- the calendar's (checked on write)
  calendar_id               TEXT    NOT NULL,
  provider_id               TEXT    NOT NULL,
  version                   TEXT    NOT NULL,
  ical_uid                  TEXT    NOT NULL,
  series_master_provider_id TEXT    NOT NULL,  -- '' unless an exception of a series
  status                    TEXT    NOT NULL CHECK (status IN ('confirmed', 'tentative',
                                                               'cancelled')),
  start_ms                  INTEGER,           -- the span covered, unix ms; NULL: unbounded
  end_ms                    INTEGER,
  provider_updated_at       INTEGER,
  data                      TEXT    NOT NULL,  -- JSON object, the unified event
  raw                       TEXT    NOT NULL,  -- JSON object, the provider's item
  content_hash              TEXT    NOT NULL,  -- hex SHA-256 of data
  seen_in_run               TEXT,              -- the last full run that received it
  created_at                INTEGER NOT NULL,
  updated_at                INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, calendar_id) REFERENCES calendars (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE UNIQUE INDEX calendar_events_by_provider_id
  ON calendar_events (tenant_id, calendar_id, provider_id);
CREATE INDEX calendar_events_by_window ON calendar_events (tenant_id, connection_id, start_ms,
                                                           end_ms);
CREATE INDEX calendar_events_by_update ON calendar_events (tenant_id, updated_at);
CREATE INDEX calendar_events_seen ON calendar_events (tenant_id, calendar_id, seen_in_run);

CREATE TABLE change_sequences (
  tenant_id TEXT    NOT NULL PRIMARY KEY REFERENCES tenants (id),
  last_seq  INTEGER NOT NULL CHECK (last_seq >= 1)
) WITHOUT ROWID;

CREATE TABLE changes (
  tenant_id     TEXT    NOT NULL REFERENCES tenants (id),
  seq           INTEGER NOT NULL CHECK (seq >= 1),
  type          TEXT    NOT NULL,
  resource_id   TEXT    NOT NULL,
  connection_id TEXT,              -- no foreign key: changes outlive their connection
  data          TEXT    NOT NULL,  -- JSON object, what the host gets
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, seq)
) WITHOUT ROWID;
)sql";

constexpr std::string_view kV12Down = R"sql(
DROP TABLE changes;
DROP TABLE change_sequences;
DROP TABLE calendar_events;
DROP TABLE calendars;
DROP TABLE sync_runs;
DROP TABLE sync_states;
)sql";

// Migration 13: push subscriptions (issue 15; push_repository.h). push_channels is one row per
// Google Calendar channel or Microsoft Graph subscription held for a connection's synced
// resource; the provider's id of it (external_id) is unique per tenant and provider, which is
// how a notification finds its channel. Only the SHA-256 of the channel's secret is stored.
// push_channels_expiring serves the renewal scheduler's cross-tenant scan of active channels.
// push_inbox holds the notifications received, one row per channel and message key, so that a
// notification delivered twice counts once; push_inbox_received serves pruning. Channels go
// with their connection, inbox rows with their channel.
constexpr std::string_view kV13Up = R"sql(
CREATE TABLE push_channels (
  tenant_id      TEXT    NOT NULL,
  id             TEXT    NOT NULL,
  connection_id  TEXT    NOT NULL,
  service        TEXT    NOT NULL,
  provider       TEXT    NOT NULL,
  resource       TEXT    NOT NULL,  -- the watched resource's provider id
  external_id    TEXT    NOT NULL,  -- Google's channel id, Graph's subscription id
  resource_id    TEXT    NOT NULL,  -- Google's resource id; '' for Graph
  secret_hash    TEXT    NOT NULL,  -- hex SHA-256 of the channel token / clientState
  expires_at     INTEGER NOT NULL,
  status         TEXT    NOT NULL CHECK (status IN ('active', 'stopped')),
  renew_failures INTEGER NOT NULL CHECK (renew_failures >= 0),
  last_error     TEXT    NOT NULL,  -- never a secret
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, provider, external_id),
  FOREIGN KEY (tenant_id, connection_id) REFERENCES connections (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX push_channels_expiring ON push_channels (expires_at, tenant_id, connection_id)
  WHERE status = 'active';
CREATE INDEX push_channels_by_connection ON push_channels (tenant_id, connection_id);

CREATE TABLE push_inbox (
  tenant_id   TEXT    NOT NULL,
  channel_id  TEXT    NOT NULL,
  message_key TEXT    NOT NULL,  -- the provider's message number, or a digest
  received_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, channel_id, message_key),
  FOREIGN KEY (tenant_id, channel_id) REFERENCES push_channels (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX push_inbox_received ON push_inbox (received_at);
)sql";

constexpr std::string_view kV13Down = R"sql(
DROP TABLE push_inbox;
DROP TABLE push_channels;
)sql";

// A deleted series takes its exceptions with it: the sync finds them by their master.
constexpr std::string_view kV14Up = R"sql(
CREATE INDEX calendar_events_by_series
  ON calendar_events (tenant_id, calendar_id, series_master_provider_id)
  WHERE series_master_provider_id <> '';
)sql";

constexpr std::string_view kV14Down = R"sql(
DROP INDEX calendar_events_by_series;
)sql";

// Migration 15: the host's event mappings and Idempotency-Key results (issue 16;
// event_mapping_repository.h, idempotency_repository.h). event_mappings is one row per
// (connection, external id) the host named, tying it to the calendar, the provider's event and
// Switchboard's unified event; `pending` is the event (JSON object) a write could not deliver
// yet, NULL otherwise. event_id is no foreign key: a sync may replace or remove the event while
// the mapping stays. Mappings go with their connection and with their calendar.
// event_mappings_by_event and event_mappings_by_provider_id serve the lookups from a stored
// event and from a sync page's items (mappings without a provider id yet left out);
// event_mappings_by_connection serves a connection's list in id order. idempotency_keys is one
// row per (tenant, key) a client sent with a write, the answer's body stored as bytes;
// idempotency_keys_expires serves the cross-tenant expiry sweep.
constexpr std::string_view kV15Up = R"sql(
CREATE TABLE event_mappings (
  tenant_id        TEXT    NOT NULL,
  id               TEXT    NOT NULL,
  connection_id    TEXT    NOT NULL,  -- the calendar's (checked on write)
  calendar_id      TEXT    NOT NULL,
  external_id      TEXT    NOT NULL,  -- the host's id
  event_id         TEXT,              -- the unified event, once stored; no foreign key
  provider_id      TEXT    NOT NULL,  -- '' until known
  provider_version TEXT    NOT NULL,  -- etag / changeKey
  host_version     INTEGER NOT NULL CHECK (host_version >= 0),
  state            TEXT    NOT NULL CHECK (state IN ('synced', 'pending', 'conflict', 'error')),
  last_error       TEXT    NOT NULL,  -- never a token
  pending          TEXT,              -- JSON object, the event awaiting its write; or NULL
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, connection_id, external_id),
  FOREIGN KEY (tenant_id, connection_id) REFERENCES connections (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, calendar_id) REFERENCES calendars (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX event_mappings_by_event ON event_mappings (tenant_id, event_id)
  WHERE event_id IS NOT NULL;
CREATE INDEX event_mappings_by_provider_id ON event_mappings (tenant_id, calendar_id, provider_id)
  WHERE provider_id <> '';
CREATE INDEX event_mappings_by_connection ON event_mappings (tenant_id, connection_id, id);

CREATE TABLE idempotency_keys (
  tenant_id    TEXT    NOT NULL REFERENCES tenants (id),
  key          TEXT    NOT NULL,  -- the client's Idempotency-Key
  fingerprint  TEXT    NOT NULL,  -- hex SHA-256 of the request
  status       INTEGER NOT NULL CHECK (status = 0 OR status BETWEEN 100 AND 599),  -- 0: running
  headers      TEXT    NOT NULL,  -- JSON object, the answer's headers to replay
  body         BLOB    NOT NULL,  -- the answer's body
  created_at   INTEGER NOT NULL,
  locked_until INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);
)sql";

constexpr std::string_view kV15Down = R"sql(
DROP TABLE idempotency_keys;
DROP TABLE event_mappings;
)sql";

// Migration 16: conflicts between the host's writes and provider changes (issue 16;
// conflict_repository.h). One row per conflict: the host's entry (mapping id, external id),
// both versions of the event as unified JSON (`provider_event` NULL when the provider deleted
// it), the policy that applied, and, once resolved, which side won and who decided.
// mapping_id and event_id are no foreign keys: the record outlives a mapping or an event the
// resolution removes. Conflicts go with their connection. event_conflicts_by_status serves the
// tenant's queue in id order; event_conflicts_open_by_mapping finds a mapping's open conflict.
constexpr std::string_view kV16Up = R"sql(
CREATE TABLE event_conflicts (
  tenant_id      TEXT    NOT NULL,
  id             TEXT    NOT NULL,
  connection_id  TEXT    NOT NULL,
  mapping_id     TEXT    NOT NULL,
  external_id    TEXT    NOT NULL,
  event_id       TEXT,
  policy         TEXT    NOT NULL
    CHECK (policy IN ('last_modified_wins', 'provider_wins', 'host_wins', 'manual')),
  status         TEXT    NOT NULL CHECK (status IN ('open', 'resolved')),
  resolution     TEXT    NOT NULL CHECK (resolution IN ('', 'provider', 'host', 'merged')),
  host_event     TEXT    NOT NULL,  -- JSON object
  provider_event TEXT,              -- JSON object, NULL when deleted at the provider
  resolved_event TEXT,              -- JSON object of a merged resolution, else NULL
  resolved_by    TEXT    NOT NULL,  -- '' while open; 'policy' or the actor
  detected_at    INTEGER NOT NULL,
  resolved_at    INTEGER,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, connection_id) REFERENCES connections (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX event_conflicts_by_status ON event_conflicts (tenant_id, status, id);
CREATE INDEX event_conflicts_open_by_mapping ON event_conflicts (tenant_id, mapping_id)
  WHERE status = 'open';
CREATE INDEX event_conflicts_by_connection ON event_conflicts (tenant_id, connection_id, id);
)sql";

constexpr std::string_view kV16Down = R"sql(
DROP TABLE event_conflicts;
)sql";

// Migration 17: conflict policies per integration and service (issue 16; conflicts.h).
// integrations.conflict_policies is a JSON object {"<service>": "<policy>"}; a connection's
// settings.conflict_policies overrides it, and where neither names one the default applies.
constexpr std::string_view kV17Up = R"sql(
ALTER TABLE integrations ADD COLUMN conflict_policies TEXT NOT NULL DEFAULT '{}';
)sql";

constexpr std::string_view kV17Down = R"sql(
ALTER TABLE integrations DROP COLUMN conflict_policies;
)sql";

// Migration 18: the occurrences a provider names by ids of their own (Graph; calendar_repository.h
// OccurrenceRef). The sync stores series and exceptions and expands occurrences itself, so a
// provider's removal of one occurrence id would name nothing it knows: this table ties each
// occurrence id seen to its series and original start. Rows go with their calendar.
constexpr std::string_view kV18Up = R"sql(
CREATE TABLE calendar_occurrences (
  tenant_id          TEXT NOT NULL,
  calendar_id        TEXT NOT NULL,
  provider_id        TEXT NOT NULL,  -- the provider's id of the occurrence
  master_provider_id TEXT NOT NULL,  -- its series
  original_start     TEXT NOT NULL,  -- RFC 3339 instant, or yyyy-mm-dd for an all-day series
  PRIMARY KEY (tenant_id, calendar_id, provider_id),
  FOREIGN KEY (tenant_id, calendar_id) REFERENCES calendars (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX calendar_occurrences_by_master
  ON calendar_occurrences (tenant_id, calendar_id, master_provider_id);
)sql";

constexpr std::string_view kV18Down = R"sql(
DROP TABLE calendar_occurrences;
)sql";

// Migration 19: the audit viewer's filters find their first page without scanning the chain.
// A filter by action or target ordered by seq used the (tenant_id, action) index only for the
// filter, or none at all, and an action or target that is rare or absent scanned the whole log
// (2.6 s at p99 with a million entries, docs/benchmarks.md): both indexes now end in seq.
constexpr std::string_view kV19Up = R"sql(
DROP INDEX audit_entries_by_action;
CREATE INDEX audit_entries_by_action ON audit_entries (tenant_id, action, seq);
CREATE INDEX audit_entries_by_target ON audit_entries (tenant_id, target, seq);
)sql";

constexpr std::string_view kV19Down = R"sql(
DROP INDEX audit_entries_by_target;
DROP INDEX audit_entries_by_action;
CREATE INDEX audit_entries_by_action ON audit_entries (tenant_id, action);
)sql";

// Migration 20: dashboard users and their sessions. A user belongs to one tenant (operators to
// the system tenant, the nil id) with a role; the password is an Argon2id PHC string (NULL: the
// user signs in with OpenID Connect only); failed sign-ins in a row lock the user for a while.
// A session is known by the SHA-256 of its token and dies with its user. A sign-in names its
// tenant (workspace-style), so no table maps addresses to tenants across tenants.
constexpr std::string_view kV20Up = R"sql(
CREATE TABLE dashboard_users (
  tenant_id     TEXT    NOT NULL REFERENCES tenants (id),
  id            TEXT    NOT NULL,
  email         TEXT    NOT NULL,  -- lower case
  name          TEXT    NOT NULL,
  role          TEXT    NOT NULL CHECK (role IN ('operator', 'admin', 'viewer')),
  password_hash TEXT,
  failed_logins INTEGER NOT NULL CHECK (failed_logins >= 0),
  locked_until  INTEGER,
  disabled      INTEGER NOT NULL CHECK (disabled IN (0, 1)),
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, email)
) WITHOUT ROWID;

CREATE TABLE dashboard_sessions (
  tenant_id    TEXT    NOT NULL,
  id           TEXT    NOT NULL,
  user_id      TEXT    NOT NULL,
  token_hash   TEXT    NOT NULL,  -- hex SHA-256 of the whole session token
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, token_hash),
  FOREIGN KEY (tenant_id, user_id) REFERENCES dashboard_users (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
)sql";

constexpr std::string_view kV20Down = R"sql(
DROP TABLE dashboard_sessions;
DROP TABLE dashboard_users;
)sql";

// Migration 21: live updates (GET /v1/live) ask each poll what changed since a keyset position
// (updated_at, id) of the tenant's sync runs, connection health rows and webhook deliveries
// (UpdatedCursor); these indexes answer that without scanning the tenant's rows.
constexpr std::string_view kV21Up = R"sql(
CREATE INDEX sync_runs_by_update ON sync_runs (tenant_id, updated_at, id);
CREATE INDEX connection_health_by_update ON connection_health (tenant_id, updated_at, connection_id);
CREATE INDEX webhook_deliveries_by_update ON webhook_deliveries (tenant_id, updated_at, id);
)sql";

constexpr std::string_view kV21Down = R"sql(
DROP INDEX webhook_deliveries_by_update;
DROP INDEX connection_health_by_update;
DROP INDEX sync_runs_by_update;
)sql";

// Migration 22: a tenant's logo for the hosted connect page, as a data: URI of a PNG, JPEG,
// GIF or WebP image of at most 32 KiB ('' for none), so the page loads nothing from elsewhere.
constexpr std::string_view kV22Up = R"sql(
ALTER TABLE tenants ADD COLUMN logo TEXT NOT NULL DEFAULT '';
)sql";

constexpr std::string_view kV22Down = R"sql(
ALTER TABLE tenants DROP COLUMN logo;
)sql";

// Migration 23: dashboard sign-in with OpenID Connect. A user may be linked to one provider
// account (oidc_provider, oidc_subject: '' when not linked), unique per tenant. A sign-in attempt
// is keyed by the SHA-256 of its `state` like an OAuth transaction (OA-03): the expected issuer,
// the nonce's hash, the hash of the browser cookie, single use, at most 10 minutes; its PKCE
// verifier lives in vault_secrets (owner "dashboard_sign_in:<state hash>").
constexpr std::string_view kV23Up = R"sql(
ALTER TABLE dashboard_users ADD COLUMN oidc_provider TEXT NOT NULL DEFAULT '';
ALTER TABLE dashboard_users ADD COLUMN oidc_subject TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX dashboard_users_by_oidc
  ON dashboard_users (tenant_id, oidc_provider, oidc_subject) WHERE oidc_subject <> '';

CREATE TABLE dashboard_sign_ins (
  tenant_id       TEXT    NOT NULL REFERENCES tenants (id),
  state_hash      TEXT    NOT NULL,  -- hex SHA-256 of `state`
  provider        TEXT    NOT NULL,
  redirect_uri    TEXT    NOT NULL,
  issuer          TEXT    NOT NULL,
  nonce_hash      TEXT    NOT NULL,
  browser_binding TEXT    NOT NULL,  -- hex SHA-256 of the browser cookie value
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL,
  consumed_at     INTEGER,
  PRIMARY KEY (tenant_id, state_hash)
) WITHOUT ROWID;
CREATE INDEX dashboard_sign_ins_by_expiry ON dashboard_sign_ins (tenant_id, expires_at);
)sql";

constexpr std::string_view kV23Down = R"sql(
DROP TABLE dashboard_sign_ins;
DROP INDEX dashboard_users_by_oidc;
ALTER TABLE dashboard_users DROP COLUMN oidc_subject;
ALTER TABLE dashboard_users DROP COLUMN oidc_provider;
)sql";

// Migration 24: a job asked for again while it runs (its handler may already have read what the
// request is about) runs once more when it finishes, instead of the request being dropped as a
// duplicate (JobRepository::Enqueue with WhileRunning::kRunAgain).
constexpr std::string_view kV24Up = R"sql(
ALTER TABLE jobs ADD COLUMN run_again INTEGER NOT NULL DEFAULT 0 CHECK (run_again IN (0, 1));
)sql";

constexpr std::string_view kV24Down = R"sql(
ALTER TABLE jobs DROP COLUMN run_again;
)sql";

// Migration 25: the change feed filtered by connection (GET /v1/changes?connection_id=).
constexpr std::string_view kV25Up = R"sql(
CREATE INDEX changes_by_connection ON changes (tenant_id, connection_id, seq);
)sql";

constexpr std::string_view kV25Down = R"sql(
DROP INDEX changes_by_connection;
)sql";

// Migration 26: a connection's health history (ConnectionHealthRepository::OpenIncident): one
// row per incident, opened when the connection became unhealthy enough to alert and closed by
// the next success; the newest 100 per connection are kept. An incident open at the upgrade
// becomes the first row of its connection.
constexpr std::string_view kV26Up = R"sql(
CREATE TABLE connection_health_incidents (
  tenant_id     TEXT    NOT NULL,
  connection_id TEXT    NOT NULL,
  seq           INTEGER NOT NULL CHECK (seq >= 1),
  opened_at     INTEGER NOT NULL,
  closed_at     INTEGER,
  error_kind    TEXT    NOT NULL,
  error         TEXT    NOT NULL,  -- never a token
  PRIMARY KEY (tenant_id, connection_id, seq),
  FOREIGN KEY (tenant_id, connection_id) REFERENCES connections (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
INSERT INTO connection_health_incidents (tenant_id, connection_id, seq, opened_at, error_kind,
                                         error)
  SELECT tenant_id, connection_id, 1, incident_since, last_error_kind, last_error
  FROM connection_health WHERE incident_since IS NOT NULL;
)sql";

constexpr std::string_view kV26Down = R"sql(
DROP TABLE connection_health_incidents;
)sql";

// Migration 27: the overview's open incidents (ConnectionHealthRepository::ListOpenIncidents and
// CountOpenIncidents) read the tenant's connections with an open incident, newest first, from
// this partial index instead of scanning the tenant's health rows; it holds only those rows.
constexpr std::string_view kV27Up = R"sql(
CREATE INDEX connection_health_open_incidents
  ON connection_health (tenant_id, incident_since, connection_id)
  WHERE incident_since IS NOT NULL;
)sql";

constexpr std::string_view kV27Down = R"sql(
DROP INDEX connection_health_open_incidents;
)sql";

constexpr Migration kMigrations[] = {
    {1, "tenants_and_api_keys", kV1Up, kV1Down},
    {2, "audit_log", kV2Up, kV2Down},
    {3, "vault", kV3Up, kV3Down},
    {4, "integrations", kV4Up, kV4Down},
    {5, "connect", kV5Up, kV5Down},
    {6, "jobs", kV6Up, kV6Down},
    {7, "webhooks", kV7Up, kV7Down},
    {8, "webhook_endpoint_health", kV8Up, kV8Down},
    {9, "admin_and_health", kV9Up, kV9Down},
    {10, "connect_abuse_controls", kV10Up, kV10Down},
    {11, "job_concurrency_groups", kV11Up, kV11Down},
    {12, "sync_and_calendar", kV12Up, kV12Down},
    {13, "push_channels", kV13Up, kV13Down},
    {14, "calendar_series_index", kV14Up, kV14Down},
    {15, "event_mappings_and_idempotency", kV15Up, kV15Down},
    {16, "event_conflicts", kV16Up, kV16Down},
    {17, "integration_conflict_policies", kV17Up, kV17Down},
    {18, "calendar_occurrences", kV18Up, kV18Down},
    {19, "audit_filter_indexes", kV19Up, kV19Down},
    {20, "dashboard_users", kV20Up, kV20Down},
    {21, "live_update_indexes", kV21Up, kV21Down},
    {22, "tenant_logo", kV22Up, kV22Down},
    {23, "dashboard_oidc", kV23Up, kV23Down},
    {24, "job_run_again", kV24Up, kV24Down},
    {25, "changes_by_connection", kV25Up, kV25Down},
    {26, "connection_health_incidents", kV26Up, kV26Down},
    {27, "connection_health_open_incidents", kV27Up, kV27Down},
};

}  // namespace

std::span<const Migration> SqliteMigrations() { return kMigrations; }

}  // namespace sb::store
