import { useEffect, useState, type FormEvent } from "react";
import { must, sb } from "../api/client";
import { kConnectionStatuses, runActive, type Connection, type ConnectionHealth, type ConnectionStatus, type SyncState } from "../api/types";
import { DisconnectDialog, ReconnectDialog } from "../components/ConnectionDialogs";
import { SyncProgress } from "../components/SyncProgress";
import { Badge, Empty, Loading, Pager, ProblemBox, Time, useCursorStack } from "../components/ui";
import { useAction, useLoad } from "../lib/async";
import { humanize } from "../lib/format";
import { useLive } from "../lib/live";
import { Link, useLocation, useQueryUpdater, useTitle } from "../lib/router";
import { useSyncRuns } from "../lib/syncRuns";
import { useSession } from "../session";

const kPageSize = 50;
const kUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface RowExtra {
  health?: ConnectionHealth;
  sync?: SyncState;
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>, cancelled: () => boolean) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length && !cancelled()) await fn(items[next++]!).catch(() => {});
    }),
  );
}

export function ConnectionsPage() {
  useTitle("Connections");
  const { canWrite } = useSession();
  const { query } = useLocation();
  const update = useQueryUpdater();
  const status = query.get("status") ?? "";
  const provider = query.get("provider") ?? "";
  const search = query.get("q") ?? "";
  const cursor = query.get("cursor") ?? "";
  const cursors = useCursorStack();
  const [searchText, setSearchText] = useState(search);
  useEffect(() => setSearchText(search), [search]);

  const providers = useLoad(() => must(sb.GET("/v1/providers", {})), []);
  const list = useLoad(async () => {
    if (search && kUuid.test(search)) {
      // a connection id: that connection, if it exists; else an end user id
      const { data } = await sb.GET("/v1/connections/{id}", { params: { path: { id: search } } });
      if (data) return { data: [data], next_cursor: null };
    }
    return must(
      sb.GET("/v1/connections", {
        params: {
          query: {
            limit: kPageSize,
            ...(status ? { status: status as ConnectionStatus } : {}),
            ...(provider ? { provider } : {}),
            ...(search ? { end_user_id: search } : {}),
            ...(cursor ? { cursor } : {}),
          },
        },
      }),
    );
  }, [status, provider, search, cursor]);

  // Health and sync state per visible row, a few requests at a time, after the table shows.
  const [extra, setExtra] = useState<Record<string, RowExtra>>({});
  useEffect(() => {
    const rows = list.data?.data ?? [];
    let stop = false;
    eachLimited(rows, 4, async (c) => {
      const [h, s] = await Promise.all([
        sb.GET("/v1/connections/{id}/health", { params: { path: { id: c.id } } }),
        sb.GET("/v1/connections/{id}/sync", { params: { path: { id: c.id } } }),
      ]);
      if (stop) return;
      setExtra((e) => ({ ...e, [c.id]: { health: h.data, sync: s.data?.data?.[0] } }));
    }, () => stop);
    return () => {
      stop = true;
    };
  }, [list.data]);
  useLive("health", (h) => {
    setExtra((e) => (e[h.connection_id] ? { ...e, [h.connection_id]: { ...e[h.connection_id], health: h } } : e));
  });

  const { runs, start } = useSyncRuns();
  const syncAction = useAction();
  const [dialog, setDialog] = useState<{ kind: "reconnect" | "disconnect"; connection: Connection } | null>(null);

  const setFilter = (changes: Record<string, string>) => {
    cursors.reset();
    update({ ...changes, cursor: null });
  };
  const rows = list.data?.data ?? [];
  const providerIds = providers.data?.data.map((p) => p.id) ?? [];

  return (
    <>
      <div className="page-head">
        <h1>Connections</h1>
        <button type="button" id="connections-refresh" onClick={list.reload} disabled={list.loading}>
          {list.loading ? "Refreshing…" : "Refresh"}
        </button>
      </div>
      <form
        className="filters"
        role="search"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          setFilter({ q: searchText.trim() });
        }}
      >
        <div className="field">
          <label htmlFor="connections-filter-status">Status</label>
          <select id="connections-filter-status" value={status} onChange={(e) => setFilter({ status: e.target.value })}>
            <option value="">Any status</option>
            {kConnectionStatuses.map((s) => (
              <option key={s} value={s}>{humanize(s)}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="connections-filter-provider">Provider</label>
          {providerIds.length > 0 ? (
            <select id="connections-filter-provider" value={provider} onChange={(e) => setFilter({ provider: e.target.value })}>
              <option value="">Any provider</option>
              {providerIds.map((p) => (
                <option key={p} value={p}>{p}</option>
              ))}
            </select>
          ) : (
            <input id="connections-filter-provider" value={provider} placeholder="e.g. google" onChange={(e) => setFilter({ provider: e.target.value.trim() })} />
          )}
        </div>
        <div className="field grow">
          <label htmlFor="connections-search">End user id or connection id</label>
          <input id="connections-search" type="search" value={searchText} onChange={(e) => setSearchText(e.target.value)} spellCheck={false} />
        </div>
        <button type="submit" id="connections-search-submit">Search</button>
        {(status || provider || search) && (
          <button type="button" id="connections-filter-clear" onClick={() => setFilter({ status: "", provider: "", q: "" })}>
            Clear filters
          </button>
        )}
      </form>
      <ProblemBox problem={list.error} />
      <ProblemBox problem={syncAction.error} />
      {list.loading && !list.data && <Loading label="Loading connections…" />}
      {list.data && rows.length === 0 && (
        <Empty>
          {status || provider || search
            ? "No connection matches these filters. Clear a filter to see more."
            : "No connections yet. End users connect their accounts through a connect session your app creates."}
        </Empty>
      )}
      {rows.length > 0 && (
        <div className="table-wrap" tabIndex={0} id="connections-table-scroll" role="region" aria-label="Connections table">
          <table>
            <thead>
              <tr>
                <th scope="col">Account</th>
                <th scope="col">End user</th>
                <th scope="col">Status</th>
                <th scope="col">Health</th>
                <th scope="col">Last sync</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => {
                const x = extra[c.id];
                const run = runs[c.id];
                return (
                  <tr key={c.id} id={`connections-row-${c.id}`}>
                    <td>
                      <Link id={`connections-row-${c.id}-open`} to={`/connections/${c.id}`}>
                        {c.account.email || c.account.subject || c.id}
                      </Link>
                      <div className="muted small">{c.provider}</div>
                    </td>
                    <td className="mono small">{c.end_user_id}</td>
                    <td>
                      <Badge value={c.status} />
                      {c.status_reason && <div className="muted small">{c.status_reason}</div>}
                    </td>
                    <td>{x ? <Badge value={x.health?.status ?? "unknown"} /> : <span className="muted small">…</span>}</td>
                    <td>
                      {run ? <SyncProgress run={run} /> : x?.sync ? (
                        <>
                          <Time iso={x.sync.last_success_at} relative />
                          {x.sync.status && x.sync.status !== "idle" ? <> <Badge value={x.sync.status} /></> : null}
                        </>
                      ) : x ? <span className="muted small">—</span> : <span className="muted small">…</span>}
                    </td>
                    <td className="actions">
                      {canWrite && (
                        <>
                          <button
                            type="button"
                            id={`connections-row-${c.id}-sync`}
                            disabled={runActive(run)}
                            onClick={() => syncAction.run(() => start(c.id))}
                          >
                            {runActive(run) ? "Syncing…" : "Sync"}
                          </button>
                          <button type="button" id={`connections-row-${c.id}-reconnect`} onClick={() => setDialog({ kind: "reconnect", connection: c })}>
                            Reconnect
                          </button>
                          <button type="button" id={`connections-row-${c.id}-disconnect`} className="danger-outline" onClick={() => setDialog({ kind: "disconnect", connection: c })}>
                            Disconnect
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {list.data && (
        <Pager
          id="connections-pager"
          count={rows.length}
          hasPrev={cursors.hasPrev}
          nextCursor={list.data.next_cursor}
          onFirst={() => {
            cursors.reset();
            update({ cursor: null });
          }}
          onPrev={() => update({ cursor: cursors.pop() || null })}
          onNext={(next) => {
            cursors.push(cursor);
            update({ cursor: next });
          }}
        />
      )}
      {dialog?.kind === "reconnect" && <ReconnectDialog id="dialog-reconnect" connection={dialog.connection} onClose={() => setDialog(null)} />}
      {dialog?.kind === "disconnect" && (
        <DisconnectDialog
          id="dialog-disconnect"
          connection={dialog.connection}
          onClose={() => setDialog(null)}
          onDone={() => {
            setDialog(null);
            list.reload();
          }}
        />
      )}
    </>
  );
}
