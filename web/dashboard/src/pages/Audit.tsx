import { useState, type FormEvent } from "react";
import { must, sb } from "../api/client";
import type { AuditEntry, AuditEntryList } from "../api/types";
import { Badge, Empty, Loading, Pager, ProblemBox, Time, useCursorStack } from "../components/ui";
import { useLoad } from "../lib/async";
import { isoToLocalInput, localInputToIso } from "../lib/format";
import { useLocation, useQueryUpdater, useTitle, withQuery } from "../lib/router";
import { useSession } from "../session";

const kFilterKeys = ["action", "actor_kind", "actor_id", "target", "outcome", "from", "to", "tenant_id"] as const;
type Filters = Partial<Record<(typeof kFilterKeys)[number], string>>;

/** The export link: GET /v1/audit with the filters and format=csv or jsonl (cookie auth). */
export function auditExportUrl(filters: Filters, format: "csv" | "jsonl"): string {
  return withQuery("/v1/audit", { ...filters, format });
}

export function AuditPage() {
  useTitle("Audit log");
  const { isOperator } = useSession();
  const { query } = useLocation();
  const update = useQueryUpdater();
  const filters: Filters = {};
  for (const k of kFilterKeys) {
    const v = query.get(k);
    if (v) filters[k] = v;
  }
  const cursor = query.get("cursor") ?? "";
  // Newest first unless asked otherwise; the exports keep the chain's order.
  const order = query.get("order") === "asc" ? "asc" : "desc";
  const cursors = useCursorStack();
  const [draft, setDraft] = useState<Filters>(filters);
  const [open, setOpen] = useState<string | null>(null);
  const key = JSON.stringify(filters);
  const list = useLoad(
    async () =>
      (await must(sb.GET("/v1/audit", {
        params: {
          query: {
            limit: 50,
            order,
            ...(filters as Record<string, string>),
            ...(cursor ? { cursor } : {}),
          } as never,
        },
      }))) as AuditEntryList,
    [key, cursor, order],
  );
  const rows: AuditEntry[] = list.data?.data ?? [];
  const set = (k: keyof Filters, v: string) => setDraft((d) => ({ ...d, [k]: v }));
  function apply(e: FormEvent) {
    e.preventDefault();
    cursors.reset();
    const next: Record<string, string | null> = { cursor: null };
    for (const k of kFilterKeys) next[k] = draft[k]?.trim() || null;
    update(next);
  }
  return (
    <>
      <h1>Audit log</h1>
      <form className="filters" onSubmit={apply} aria-label="Audit filters">
        <div className="field">
          <label htmlFor="audit-filter-action">Action</label>
          <input id="audit-filter-action" value={draft.action ?? ""} onChange={(e) => set("action", e.target.value)} placeholder="api_key.create" spellCheck={false} />
        </div>
        <div className="field">
          <label htmlFor="audit-filter-actor-kind">Actor kind</label>
          <select id="audit-filter-actor-kind" value={draft.actor_kind ?? ""} onChange={(e) => set("actor_kind", e.target.value)}>
            <option value="">any</option>
            {["api_key", "user", "system", "cli", "anonymous"].map((k) => <option key={k} value={k}>{k.replace("_", " ")}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="audit-filter-actor-id">Actor id</label>
          <input id="audit-filter-actor-id" value={draft.actor_id ?? ""} onChange={(e) => set("actor_id", e.target.value)} spellCheck={false} />
        </div>
        <div className="field">
          <label htmlFor="audit-filter-target">Target</label>
          <input id="audit-filter-target" value={draft.target ?? ""} onChange={(e) => set("target", e.target.value)} placeholder="api_keys/<id>" spellCheck={false} />
        </div>
        <div className="field">
          <label htmlFor="audit-filter-outcome">Outcome</label>
          <select id="audit-filter-outcome" value={draft.outcome ?? ""} onChange={(e) => set("outcome", e.target.value)}>
            <option value="">any</option>
            {["success", "failure", "denied"].map((k) => <option key={k} value={k}>{k}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="audit-filter-from">From (your time)</label>
          <input id="audit-filter-from" type="datetime-local" value={isoToLocalInput(draft.from)} onChange={(e) => set("from", localInputToIso(e.target.value) ?? "")} />
        </div>
        <div className="field">
          <label htmlFor="audit-filter-to">To (your time)</label>
          <input id="audit-filter-to" type="datetime-local" value={isoToLocalInput(draft.to)} onChange={(e) => set("to", localInputToIso(e.target.value) ?? "")} />
        </div>
        {isOperator && (
          <div className="field">
            <label htmlFor="audit-filter-tenant">Tenant id (operator)</label>
            <input id="audit-filter-tenant" value={draft.tenant_id ?? ""} onChange={(e) => set("tenant_id", e.target.value)} spellCheck={false} />
          </div>
        )}
        <div className="field">
          <label htmlFor="audit-order">Order</label>
          <select id="audit-order" value={order} onChange={(e) => { cursors.reset(); update({ order: e.target.value === "asc" ? "asc" : null, cursor: null }); }}>
            <option value="desc">newest first</option>
            <option value="asc">oldest first (the chain's order)</option>
          </select>
        </div>
        <button type="submit" id="audit-filter-apply" className="primary">Apply filters</button>
        <button type="button" id="audit-filter-clear" onClick={() => { setDraft({}); cursors.reset(); update(Object.fromEntries([...kFilterKeys, "cursor"].map((k) => [k, null]))); }}>Clear</button>
      </form>
      <div className="toolbar">
        <span>Export the filtered log:</span>
        <a id="audit-export-csv" className="button" href={auditExportUrl(filters, "csv")} download="audit.csv">CSV</a>
        <a id="audit-export-jsonl" className="button" href={auditExportUrl(filters, "jsonl")} download="audit.jsonl">JSON lines</a>
      </div>
      <ChainVerification tenantId={filters.tenant_id} />
      <ProblemBox problem={list.error} />
      {list.loading && !list.data && <Loading label="Loading the audit log…" />}
      {list.data && rows.length === 0 && <Empty>No entries match these filters. Widen the time range or clear a filter.</Empty>}
      {rows.length > 0 && (
        <div className="table-wrap" tabIndex={0} id="audit-table-scroll" role="region" aria-label="Audit entries table">
          <table>
            <thead><tr><th scope="col">#</th><th scope="col">When</th><th scope="col">Action</th><th scope="col">Actor</th><th scope="col">Target</th><th scope="col">Outcome</th><th scope="col">Details</th></tr></thead>
            <tbody>
              {rows.map((a) => (
                <tr key={`${a.tenant_id}-${a.seq}`} id={`audit-row-${a.id}`}>
                  <td className="small">{a.seq}</td>
                  <td><Time iso={a.occurred_at} /></td>
                  <td className="mono small">{a.action}</td>
                  <td className="small">{a.actor.kind}{a.actor.id ? <div className="mono">{a.actor.id}</div> : null}</td>
                  <td className="mono small break">{a.target}</td>
                  <td><Badge value={a.outcome} /></td>
                  <td>
                    <button type="button" id={`audit-row-${a.id}-details`} aria-expanded={open === a.id} onClick={() => setOpen(open === a.id ? null : a.id)}>
                      {open === a.id ? "Hide" : "Show"}
                    </button>
                    {open === a.id && (
                      <pre className="details small">{JSON.stringify({ request_id: a.request_id, details: a.details, leaf_hash: a.leaf_hash, chain_hash: a.chain_hash }, null, 2)}</pre>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data && (
        <Pager id="audit-pager" count={rows.length} hasPrev={cursors.hasPrev} nextCursor={list.data.next_cursor}
          onFirst={() => { cursors.reset(); update({ cursor: null }); }}
          onPrev={() => update({ cursor: cursors.pop() || null })}
          onNext={(n) => { cursors.push(cursor); update({ cursor: n }); }} />
      )}
    </>
  );
}

// Verifies the tenant's hash chain on request (it reads the whole log, so never on page load).
function ChainVerification({ tenantId }: { tenantId?: string }) {
  const [state, setState] = useState<{ busy: boolean; text?: string; ok?: boolean; error?: string }>({ busy: false });
  const verify = async () => {
    setState({ busy: true });
    const { data, error } = await sb.GET("/v1/audit/verification", { params: { query: tenantId ? { tenant_id: tenantId } : {} } });
    if (!data) {
      setState({ busy: false, error: (error as { detail?: string } | undefined)?.detail ?? "The verification failed." });
      return;
    }
    const first = data.findings[0];
    setState({
      busy: false,
      ok: data.ok,
      text: data.ok
        ? `Chain verified: ${data.entries} entries and ${data.checkpoints} checkpoints are intact.`
        : `Chain broken at entry ${first?.seq}: ${first?.reason}. ${first?.detail ?? ""}`,
    });
  };
  return (
    <div className="toolbar" aria-live="polite">
      <span className="muted small">Entries are hash-chained per tenant.</span>
      <button type="button" id="audit-verify-chain" onClick={verify} disabled={state.busy}>
        {state.busy ? "Verifying…" : "Verify chain"}
      </button>
      {state.text && <span id="audit-verify-result" className={state.ok ? "" : "error"}>{state.text}</span>}
      {state.error && <span role="alert">{state.error}</span>}
    </div>
  );
}
