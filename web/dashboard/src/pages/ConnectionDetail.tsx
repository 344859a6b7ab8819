import { useState } from "react";
import { must, sb } from "../api/client";
import { itemCounts, runActive, type Change, type HealthIncident, type SyncRun } from "../api/types";
import { DisconnectDialog, ReconnectDialog } from "../components/ConnectionDialogs";
import { SyncProgress } from "../components/SyncProgress";
import { Badge, Empty, Loading, ProblemBox, Time } from "../components/ui";
import { useAction, useLoad } from "../lib/async";
import { formatDuration, humanize } from "../lib/format";
import { useLive } from "../lib/live";
import { Link, navigate, useTitle } from "../lib/router";
import { useSyncRuns } from "../lib/syncRuns";
import { useSession } from "../session";

// The connection's changes, newest first (/v1/changes?order=desc), a page at a time.
const kChangePageSize = 50;

interface ChangePage {
  found: Change[];
  cursor: string | undefined;
  more: boolean;
}

async function readChanges(connectionId: string, cursor?: string): Promise<ChangePage> {
  const query = { connection_id: connectionId, order: "desc" as const, limit: kChangePageSize, ...(cursor ? { cursor } : {}) };
  const page = await must(sb.GET("/v1/changes", { params: { query } }));
  return { found: page.data ?? [], cursor: page.next_cursor, more: !!page.has_more };
}

export function ConnectionDetailPage({ id }: { id: string }) {
  useTitle("Connection");
  const { canWrite } = useSession();
  const conn = useLoad(() => must(sb.GET("/v1/connections/{id}", { params: { path: { id } } })), [id]);
  const health = useLoad(() => must(sb.GET("/v1/connections/{id}/health", { params: { path: { id } } })), [id]);
  const sync = useLoad(async () => {
    const states = (await must(sb.GET("/v1/connections/{id}/sync", { params: { path: { id } } }))).data ?? [];
    // The connection's 20 most recent runs, newest first.
    const runs = (await must(sb.GET("/v1/connections/{id}/sync-runs", { params: { path: { id }, query: { limit: 20 } } }))).data ?? [];
    return { states, lastRuns: runs as SyncRun[] };
  }, [id]);
  // Bumped when the health changes, so that the history reads its newest incidents again.
  const [healthVersion, setHealthVersion] = useState(0);
  useLive("health", (h) => {
    if (h.connection_id !== id) return;
    health.setData(() => h);
    setHealthVersion((v) => v + 1);
  });
  const [seenRuns, setSeenRuns] = useState<SyncRun[]>([]);
  useLive("sync_run", (run) => {
    if (run.connection_id !== id) return;
    setSeenRuns((l) => [run, ...l.filter((r) => r.id !== run.id)].slice(0, 20));
  });
  const { runs, start } = useSyncRuns();
  const run = runs[id];
  const syncAction = useAction();
  const liveCheck = useAction();
  const [dialog, setDialog] = useState<"reconnect" | "disconnect" | null>(null);

  if (conn.loading && !conn.data) return <><h1>Connection</h1><Loading /></>;
  if (!conn.data) return <><h1>Connection</h1><ProblemBox problem={conn.error} /><p><Link id="connection-detail-back" to="/connections">Back to connections</Link></p></>;
  const c = conn.data;
  const h = health.data;
  const allRuns = [...(run ? [run] : []), ...seenRuns, ...(sync.data?.lastRuns ?? [])].filter(
    (r, i, arr) => arr.findIndex((x) => x.id === r.id) === i,
  );

  return (
    <>
      <p className="small"><Link id="connection-detail-back" to="/connections">← Connections</Link></p>
      <div className="page-head">
        <h1>{c.provider} · {c.account.email || c.account.subject}</h1>
        <div className="actions">
          <button type="button" id="connection-detail-refresh" onClick={() => { conn.reload(); health.reload(); sync.reload(); }}>Refresh</button>
          {canWrite && (
            <>
              <button type="button" id="connection-detail-sync-button" disabled={runActive(run)} onClick={() => syncAction.run(() => start(c.id))}>
                {runActive(run) ? "Syncing…" : "Sync now"}
              </button>
              <button type="button" id="connection-detail-reconnect" onClick={() => setDialog("reconnect")}>Reconnect</button>
              <button type="button" id="connection-detail-disconnect" className="danger-outline" onClick={() => setDialog("disconnect")}>Disconnect</button>
            </>
          )}
        </div>
      </div>
      <ProblemBox problem={syncAction.error} />
      {run && <p>Manual sync: <SyncProgress run={run} /></p>}
      <div className="grid">
        <section className="card" aria-labelledby="cd-facts">
          <h2 id="cd-facts">Connection</h2>
          <dl className="facts">
            <dt>Status</dt><dd><Badge value={c.status} /> <span className="small">{c.status_reason}</span></dd>
            <dt>Connection id</dt><dd className="mono small">{c.id}</dd>
            <dt>End user</dt><dd className="mono small">{c.end_user_id}</dd>
            <dt>Account</dt><dd>{c.account.email || "—"} <span className="muted small">({c.account.subject})</span></dd>
            {c.account.provider_tenant_id && <><dt>Provider tenant</dt><dd className="mono small">{c.account.provider_tenant_id}</dd></>}
            <dt>Services</dt><dd>{c.services.map((s) => `${s.service} (${humanize(s.access)})`).join(", ") || "—"}</dd>
            <dt>Created</dt><dd><Time iso={c.created_at} /></dd>
            <dt>Updated</dt><dd><Time iso={c.updated_at} /></dd>
          </dl>
        </section>
        <section className="card" aria-labelledby="cd-token">
          <h2 id="cd-token">Token</h2>
          <p className="muted small">Facts only: token values never leave the vault.</p>
          <dl className="facts">
            <dt>Access token expires</dt><dd><Time iso={c.token.access_token_expires_at} /> <span className="small">({c.token.access_token_expires_at ? <Time iso={c.token.access_token_expires_at} relative /> : "no expiry"})</span></dd>
            <dt>Refresh token</dt><dd>{c.token.refresh_token_present ? "present" : "none"}</dd>
            <dt>Next refresh</dt><dd><Time iso={c.token.next_refresh_at} relative /></dd>
            <dt>Last token change</dt><dd>version {c.token.version}, <Time iso={c.updated_at} relative /></dd>
            <dt>Refresh failures in a row</dt><dd>{c.token.consecutive_refresh_failures}</dd>
          </dl>
        </section>
        <section className="card" aria-labelledby="cd-scopes">
          <h2 id="cd-scopes">Scopes</h2>
          <h3 className="h4">Granted</h3>
          {c.granted_scopes.length ? <ul className="scopes">{c.granted_scopes.map((s) => <li key={s} className="mono small">{s}</li>)}</ul> : <p className="muted">None.</p>}
          {c.missing_scopes.length > 0 && (
            <>
              <h3 className="h4">Requested but not granted</h3>
              <ul className="scopes">{c.missing_scopes.map((s) => <li key={s} className="mono small">{s}</li>)}</ul>
            </>
          )}
        </section>
        <section className="card" aria-labelledby="cd-health">
          <h2 id="cd-health">Health</h2>
          {health.loading && !h && <Loading />}
          <ProblemBox problem={health.error} />
          {h && (
            <dl className="facts">
              <dt>State</dt><dd><Badge value={h.status} /></dd>
              {h.suggestion && <><dt>What to do</dt><dd>{h.suggestion}</dd></>}
              <dt>Last success</dt><dd><Time iso={h.last_success_at} relative /></dd>
              <dt>Last error</dt><dd>{h.last_error ? <>{humanize(h.last_error.kind)}: {h.last_error.message} (<Time iso={h.last_error.at} relative />)</> : "—"}</dd>
              <dt>Failures in a row</dt><dd>{h.consecutive_failures ?? 0}</dd>
              <dt>Incident since</dt><dd><Time iso={h.incident_since} /></dd>
              <dt>Last checked</dt><dd><Time iso={h.last_checked_at} relative /></dd>
              <dt>Next check</dt><dd><Time iso={h.next_check_at} relative /></dd>
              {h.provider_disabled && <><dt>Provider</dt><dd>disabled: {h.provider_disabled}</dd></>}
            </dl>
          )}
          {canWrite && (
            <button
              type="button"
              id="connection-detail-health-check"
              disabled={liveCheck.running}
              onClick={() =>
                liveCheck.run(async () => {
                  const fresh = await must(sb.GET("/v1/connections/{id}/health", { params: { path: { id }, query: { live: "true" } } }));
                  health.setData(() => fresh);
                  setHealthVersion((v) => v + 1);
                })
              }
            >
              {liveCheck.running ? "Checking…" : "Check now"}
            </button>
          )}
          <ProblemBox problem={liveCheck.error} />
          <HealthHistory connectionId={id} version={healthVersion} />
        </section>
      </div>
      <section aria-labelledby="cd-sync">
        <h2 id="cd-sync">Sync</h2>
        <ProblemBox problem={sync.error} />
        {sync.loading && !sync.data && <Loading />}
        {sync.data && sync.data.states.length === 0 && <Empty>This connection has no synced services.</Empty>}
        {sync.data && sync.data.states.length > 0 && (
          <div className="table-wrap" tabIndex={0} id="cd-sync-state-scroll" role="region" aria-label="Sync state table">
            <table>
              <thead><tr><th scope="col">Service</th><th scope="col">State</th><th scope="col">Last success</th><th scope="col">Last error</th><th scope="col">Items</th><th scope="col">Next run</th></tr></thead>
              <tbody>
                {sync.data.states.map((s) => (
                  <tr key={s.service}>
                    <td>{s.service}</td>
                    <td><Badge value={s.status} />{s.paused_reason ? <div className="small">{s.paused_reason}</div> : null}</td>
                    <td><Time iso={s.last_success_at} relative /></td>
                    <td>{s.last_error ? <><Time iso={s.last_error_at} relative />: {s.last_error}</> : "—"}</td>
                    <td className="small">{itemCounts(s.items) || "—"}</td>
                    <td><Time iso={s.next_run_at} relative /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <h3>Runs</h3>
        <p className="muted small">The connection's most recent runs, and runs seen while this page is open.</p>
        {allRuns.length === 0 ? <Empty>No runs yet. Start one with “Sync now”.</Empty> : (
          <div className="table-wrap" tabIndex={0} id="cd-runs-scroll" role="region" aria-label="Sync runs table">
            <table>
              <thead><tr><th scope="col">Run</th><th scope="col">Trigger</th><th scope="col">Status</th><th scope="col">Progress</th><th scope="col">Started</th><th scope="col">Finished</th></tr></thead>
              <tbody>
                {allRuns.map((r) => (
                  <tr key={r.id} id={`cd-run-${r.id}`}>
                    <td className="mono small">{r.id}</td>
                    <td>{r.trigger}{r.full ? " (full)" : ""}</td>
                    <td><Badge value={r.status} />{r.error ? <div className="small bad-text">{r.error}</div> : null}</td>
                    <td className="small">{r.pages ?? 0} pages{itemCounts(r.items) ? `, ${itemCounts(r.items)}` : ""}</td>
                    <td><Time iso={r.started_at ?? r.created_at} /></td>
                    <td><Time iso={r.finished_at} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <RecentChanges connectionId={id} />
      {dialog === "reconnect" && <ReconnectDialog id="dialog-reconnect" connection={c} onClose={() => setDialog(null)} />}
      {dialog === "disconnect" && (
        <DisconnectDialog id="dialog-disconnect" connection={c} onClose={() => setDialog(null)} onDone={() => navigate("/connections")} />
      )}
    </>
  );
}

// The connection's health incidents, newest first (/v1/connections/{id}/health/incidents).
const kIncidentPageSize = 10;

async function readIncidents(id: string, cursor?: string): Promise<{ found: HealthIncident[]; cursor: string | undefined }> {
  const query = { limit: kIncidentPageSize, ...(cursor ? { cursor } : {}) };
  const page = await must(sb.GET("/v1/connections/{id}/health/incidents", { params: { path: { id }, query } }));
  return { found: page.data ?? [], cursor: page.next_cursor ?? undefined };
}

/** How long a closed incident lasted. */
function lasted(incident: HealthIncident & { closed_at: string }): string {
  return formatDuration(Date.parse(incident.closed_at) - Date.parse(incident.opened_at));
}

function HealthHistory({ connectionId, version }: { connectionId: string; version: number }) {
  const incidents = useLoad(() => readIncidents(connectionId), [connectionId, version]);
  const older = useAction();
  const loadOlder = () =>
    older.run(async () => {
      const next = await readIncidents(connectionId, incidents.data?.cursor);
      incidents.setData((old) => (old ? { found: [...old.found, ...next.found], cursor: next.cursor } : old));
    });
  return (
    <>
      <h3 className="h4" id="cd-health-history">Health history</h3>
      {incidents.loading && !incidents.data && <Loading />}
      <ProblemBox problem={incidents.error} />
      {incidents.data && incidents.data.found.length === 0 && <p className="muted small">No incidents: the connection has not failed enough to raise an alert.</p>}
      {incidents.data && incidents.data.found.length > 0 && (
        <div className="table-wrap" tabIndex={0} id="cd-health-history-scroll" role="region" aria-labelledby="cd-health-history">
          <table>
            <thead><tr><th scope="col">Opened</th><th scope="col">Lasted</th><th scope="col">What failed</th></tr></thead>
            <tbody>
              {incidents.data.found.map((i) => (
                <tr key={i.seq} id={`cd-incident-${i.seq}`}>
                  <td><Time iso={i.opened_at} /></td>
                  <td>{i.closed_at ? lasted({ ...i, closed_at: i.closed_at }) : <Badge value="ongoing" tone="bad" />}</td>
                  <td className="small">{humanize(i.error_kind)}{i.error ? `: ${i.error}` : ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {incidents.data?.cursor && (
        <button type="button" id="connection-detail-older-incidents" disabled={older.running} onClick={loadOlder}>
          {older.running ? "Loading…" : "Older incidents"}
        </button>
      )}
      <ProblemBox problem={older.error} />
    </>
  );
}

function RecentChanges({ connectionId }: { connectionId: string }) {
  const [requested, setRequested] = useState(false);
  const changes = useLoad(async () => (requested ? readChanges(connectionId) : null), [connectionId, requested]);
  const older = useAction();
  const loadOlder = () =>
    older.run(async () => {
      const next = await readChanges(connectionId, changes.data?.cursor);
      changes.setData((old) => (old ? { found: [...old.found, ...next.found], cursor: next.cursor, more: next.more } : old));
    });
  return (
    <section aria-labelledby="cd-changes">
      <h2 id="cd-changes">Changes</h2>
      <p className="muted small">The connection's part of the change feed, newest first, {kChangePageSize} at a time.</p>
      {!requested && <button type="button" id="connection-detail-load-changes" onClick={() => setRequested(true)}>Load changes</button>}
      {changes.loading && requested && <Loading />}
      <ProblemBox problem={changes.error} />
      {changes.data && changes.data.found.length === 0 && <Empty>This connection has no changes yet.</Empty>}
      {changes.data && changes.data.found.length > 0 && (
        <div className="table-wrap" tabIndex={0} id="cd-changes-scroll" role="region" aria-label="Changes table">
          <table>
            <thead><tr><th scope="col">When</th><th scope="col">Type</th><th scope="col">Resource</th></tr></thead>
            <tbody>
              {changes.data.found.map((ch) => (
                <tr key={ch.cursor}>
                  <td><Time iso={ch.created_at} /></td>
                  <td>{ch.type}</td>
                  <td className="mono small">{ch.resource_id}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {changes.data?.more && (
        <button type="button" id="connection-detail-older-changes" disabled={older.running} onClick={loadOlder}>
          Older changes
        </button>
      )}
      <ProblemBox problem={older.error} />
    </section>
  );
}
