import { useState } from "react";
import { must, sb } from "../api/client";
import { ConfirmDialog, Badge, Empty, Loading, Pager, ProblemBox, Time, useCursorStack } from "../components/ui";
import { useAction, useLoad } from "../lib/async";
import { diffVersions, differingFields, showValue } from "../lib/diff";
import { humanize } from "../lib/format";
import { Link, useLocation, useQueryUpdater, useTitle, withQuery } from "../lib/router";
import { useSession } from "../session";

const kIgnore = new Set(["id", "etag", "version", "connection_id", "mapping_id"]);

export function ConflictsPage({ selected }: { selected?: string }) {
  useTitle("Conflicts");
  const { query } = useLocation();
  const update = useQueryUpdater();
  const status = query.get("status") ?? "open";
  const connectionId = query.get("connection_id") ?? "";
  const cursor = query.get("cursor") ?? "";
  const cursors = useCursorStack();
  const [connText, setConnText] = useState(connectionId);
  const list = useLoad(
    () =>
      must(
        sb.GET("/v1/conflicts", {
          params: {
            query: {
              limit: 50,
              ...(status !== "any" ? { status: status as "open" | "resolved" } : {}),
              ...(connectionId ? { connection_id: connectionId } : {}),
              ...(cursor ? { cursor } : {}),
            },
          },
        }),
      ),
    [status, connectionId, cursor],
  );
  const rows = list.data?.data ?? [];
  const keep = withQuery("", Object.fromEntries(query.entries()));
  return (
    <>
      <div className="page-head">
        <h1>Conflicts</h1>
        <button type="button" id="conflicts-refresh" onClick={list.reload}>Refresh</button>
      </div>
      <form className="filters" onSubmit={(e) => { e.preventDefault(); cursors.reset(); update({ connection_id: connText.trim(), cursor: null }); }}>
        <div className="field">
          <label htmlFor="conflicts-filter-status">Status</label>
          <select id="conflicts-filter-status" value={status} onChange={(e) => { cursors.reset(); update({ status: e.target.value, cursor: null }); }}>
            <option value="open">open</option>
            <option value="resolved">resolved</option>
            <option value="any">any</option>
          </select>
        </div>
        <div className="field grow">
          <label htmlFor="conflicts-filter-connection">Connection id</label>
          <input id="conflicts-filter-connection" value={connText} onChange={(e) => setConnText(e.target.value)} spellCheck={false} />
        </div>
        <button type="submit" id="conflicts-filter-apply">Apply</button>
      </form>
      <ProblemBox problem={list.error} />
      {list.loading && !list.data && <Loading />}
      <div className="split">
        <div className="split-list">
          {list.data && rows.length === 0 && <Empty>{status === "open" ? "No open conflicts: nothing needs a decision." : "No conflicts match these filters."}</Empty>}
          {rows.length > 0 && (
            <div className="table-wrap" tabIndex={0} id="conflicts-table-scroll" role="region" aria-label="Conflicts table">
              <table>
                <thead><tr><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Detected</th></tr></thead>
                <tbody>
                  {rows.map((c) => (
                    <tr key={c.id} id={`conflicts-row-${c.id}`} className={c.id === selected ? "selected" : undefined}>
                      <td>
                        <Link id={`conflicts-row-${c.id}-open`} to={`/conflicts/${c.id}${keep}`} aria-current={c.id === selected ? "true" : undefined}>
                          {String((c.host_event as Record<string, unknown> | undefined)?.title ?? (c.host_event as Record<string, unknown> | undefined)?.summary ?? c.external_id ?? c.id)}
                        </Link>
                        <div className="muted small">{(c.differences ?? []).map((d) => d.field).join(", ")}</div>
                      </td>
                      <td><Badge value={c.status} />{c.resolution ? <div className="small">{c.resolution}</div> : null}</td>
                      <td><Time iso={c.detected_at} relative /></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {list.data && (
            <Pager id="conflicts-pager" count={rows.length} hasPrev={cursors.hasPrev} nextCursor={list.data.next_cursor}
              onFirst={() => { cursors.reset(); update({ cursor: null }); }}
              onPrev={() => update({ cursor: cursors.pop() || null })}
              onNext={(n) => { cursors.push(cursor); update({ cursor: n }); }} />
          )}
        </div>
        <div className="split-detail">
          {selected ? <ConflictDetail id={selected} onResolved={list.reload} /> : <p className="muted">Choose a conflict to compare its two versions.</p>}
        </div>
      </div>
    </>
  );
}

function ConflictDetail({ id, onResolved }: { id: string; onResolved: () => void }) {
  const { canWrite } = useSession();
  const conflict = useLoad(() => must(sb.GET("/v1/conflicts/{id}", { params: { path: { id } } })), [id]);
  const [choose, setChoose] = useState<"provider" | "host" | null>(null);
  const action = useAction();
  if (conflict.loading && !conflict.data) return <Loading />;
  if (!conflict.data) return <ProblemBox problem={conflict.error} />;
  const c = conflict.data;
  const diffs = diffVersions(c.provider_event ?? {}, c.host_event ?? {}, kIgnore);
  const differing = differingFields(diffs, c.differences);
  return (
    <section aria-labelledby="conflict-title" className="card">
      <h2 id="conflict-title">Conflict on {c.external_id}</h2>
      <p className="small">
        <Badge value={c.status} /> Policy {humanize(c.policy)} · detected <Time iso={c.detected_at} />
        {c.connection_id && <> · <Link id="conflict-connection" to={`/connections/${c.connection_id}`}>connection</Link></>}
        {c.resolution && <> · resolved with the {c.resolution} version by {c.resolved_by ?? "?"} <Time iso={c.resolved_at} /></>}
      </p>
      {c.provider_event === null && <p className="muted">The provider deleted the event.</p>}
      <div className="table-wrap" tabIndex={0} id="conflict-diff-scroll" role="region" aria-label="Versions side by side table">
        <table className="diff">
          <caption className="sr-only">Provider version and host version; differing fields are marked “differs”.</caption>
          <thead><tr><th scope="col">Field</th><th scope="col">Provider version</th><th scope="col">Host version</th></tr></thead>
          <tbody>
            {diffs.map((d) => {
              const differs = differing.has(d.field);
              return (
                <tr key={d.field} className={differs ? "differs" : undefined}>
                  <th scope="row" className="mono small">{d.field}{differs && <span className="badge badge-warn diff-flag">differs</span>}</th>
                  <td className="mono small">{differs ? <mark>{showValue(d.provider)}</mark> : showValue(d.provider)}</td>
                  <td className="mono small">{differs ? <mark>{showValue(d.host)}</mark> : showValue(d.host)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {canWrite && c.status === "open" && (
        <div className="actions">
          <button type="button" id="conflict-resolve-provider" onClick={() => setChoose("provider")}>Keep the provider version</button>
          <button type="button" id="conflict-resolve-host" onClick={() => setChoose("host")}>Keep the host version</button>
        </div>
      )}
      {choose && (
        <ConfirmDialog
          id="dialog-resolve"
          title={`Resolve with the ${choose} version?`}
          confirmLabel={`Keep the ${choose} version`}
          danger={false}
          running={action.running}
          problem={action.error}
          onClose={() => setChoose(null)}
          onConfirm={async () => {
            const ok = await action.run(async () => {
              await must(sb.POST("/v1/conflicts/{id}/resolve", {
                params: { path: { id }, header: { "Idempotency-Key": crypto.randomUUID() } },
                body: { choose },
              }));
              return true;
            });
            if (ok) {
              setChoose(null);
              conflict.reload();
              onResolved();
            }
          }}
        >
          <p>
            The event <strong>{c.external_id}</strong> becomes the {choose} version in both places: the {choose === "provider" ? "host's" : "provider's"} changes
            to {[...differing].length} differing field(s) are overwritten.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
