import { useState, type FormEvent } from "react";
import { must, sb } from "../api/client";
import type { WebhookDelivery, WebhookEndpoint } from "../api/types";
import { Dialog } from "../components/Dialog";
import { SecretDialog } from "../components/SecretDialog";
import { Badge, ConfirmDialog, Empty, Loading, Pager, ProblemBox, Time, useCursorStack } from "../components/ui";
import { useAction, useLoad } from "../lib/async";
import { useLive } from "../lib/live";
import { useLocation, useQueryUpdater, useTitle } from "../lib/router";
import { useSession } from "../session";

const kStates = ["pending", "succeeded", "failed", "dead"] as const;

export function WebhooksPage() {
  useTitle("Webhooks");
  return (
    <>
      <h1>Webhooks</h1>
      <Endpoints />
      <Deliveries />
    </>
  );
}

function Endpoints() {
  const { canWrite } = useSession();
  const list = useLoad(() => must(sb.GET("/v1/webhook-endpoints", { params: { query: { limit: 100 } } })), []);
  const [form, setForm] = useState<{ endpoint?: WebhookEndpoint } | null>(null);
  const [remove, setRemove] = useState<WebhookEndpoint | null>(null);
  const [secret, setSecret] = useState<{ title: string; value: string } | null>(null);
  const rotate = useAction();
  const del = useAction();
  const rows = list.data?.data ?? [];
  return (
    <section aria-labelledby="webhooks-endpoints-title">
      <div className="page-head">
        <h2 id="webhooks-endpoints-title">Endpoints</h2>
        <div className="actions">
          <button type="button" id="webhooks-endpoints-refresh" onClick={list.reload}>Refresh</button>
          {canWrite && <button type="button" id="webhooks-endpoint-create" className="primary" onClick={() => setForm({})}>Add endpoint</button>}
        </div>
      </div>
      <ProblemBox problem={list.error} />
      <ProblemBox problem={rotate.error} />
      {list.loading && !list.data && <Loading />}
      {list.data && rows.length === 0 && <Empty>No endpoints. Add one to receive change events as signed webhooks.</Empty>}
      {rows.length > 0 && (
        <div className="table-wrap" tabIndex={0} id="webhooks-endpoints-scroll" role="region" aria-label="Endpoints table">
          <table>
            <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">State</th><th scope="col">Last success</th><th scope="col">Secret</th><th scope="col">Actions</th></tr></thead>
            <tbody>
              {rows.map((e) => (
                <tr key={e.id} id={`webhooks-endpoint-${e.id}`}>
                  <td className="break"><span className="mono small">{e.url}</span>{e.description && <div className="muted small">{e.description}</div>}</td>
                  <td className="small">{e.event_types.length ? e.event_types.join(", ") : "all"}</td>
                  <td>
                    <Badge value={e.enabled ? (e.failing_since ? "failing" : "enabled") : "disabled"} tone={e.enabled ? (e.failing_since ? "bad" : "ok") : "neutral"} />
                    {e.disabled_reason && <div className="small">{e.disabled_reason}</div>}
                    {e.failing_since && <div className="small">since <Time iso={e.failing_since} relative /></div>}
                  </td>
                  <td><Time iso={e.last_success_at} relative /></td>
                  <td className="small">v{e.secret_version}{e.previous_secret_signs_until && <div>old one signs until <Time iso={e.previous_secret_signs_until} /></div>}</td>
                  <td className="actions">
                    {canWrite && (
                      <>
                        <button type="button" id={`webhooks-endpoint-${e.id}-edit`} onClick={() => setForm({ endpoint: e })}>Edit</button>
                        <button
                          type="button"
                          id={`webhooks-endpoint-${e.id}-rotate`}
                          disabled={rotate.running}
                          onClick={async () => {
                            const r = await rotate.run(() => must(sb.POST("/v1/webhook-endpoints/{id}/rotate-secret", { params: { path: { id: e.id } } })));
                            if (r) {
                              setSecret({ title: "New signing secret", value: r.secret });
                              list.reload();
                            }
                          }}
                        >
                          Rotate secret
                        </button>
                        <button type="button" id={`webhooks-endpoint-${e.id}-delete`} className="danger-outline" onClick={() => setRemove(e)}>Delete</button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {form && (
        <EndpointDialog
          endpoint={form.endpoint}
          onClose={() => setForm(null)}
          onSaved={(s) => {
            setForm(null);
            list.reload();
            if (s) setSecret({ title: "Endpoint created: its signing secret", value: s });
          }}
        />
      )}
      {remove && (
        <ConfirmDialog
          id="dialog-delete-endpoint"
          title="Delete this endpoint?"
          confirmLabel="Delete endpoint"
          running={del.running}
          problem={del.error}
          onClose={() => setRemove(null)}
          onConfirm={async () => {
            const ok = await del.run(async () => {
              await must(sb.DELETE("/v1/webhook-endpoints/{id}", { params: { path: { id: remove.id } } }));
              return true;
            });
            if (ok) {
              setRemove(null);
              list.reload();
            }
          }}
        >
          <p><strong className="break">{remove.url}</strong> stops receiving events, and its pending deliveries are dropped.</p>
        </ConfirmDialog>
      )}
      {secret && <SecretDialog id="dialog-secret" title={secret.title} label="Signing secret" secret={secret.value} onClose={() => setSecret(null)} />}
    </section>
  );
}

function EndpointDialog({ endpoint, onClose, onSaved }: { endpoint?: WebhookEndpoint; onClose: () => void; onSaved: (secret?: string) => void }) {
  const id = "dialog-endpoint";
  const [url, setUrl] = useState(endpoint?.url ?? "");
  const [description, setDescription] = useState(endpoint?.description ?? "");
  const [types, setTypes] = useState((endpoint?.event_types ?? []).join(", "));
  const [enabled, setEnabled] = useState(endpoint?.enabled ?? true);
  const [concurrency, setConcurrency] = useState(String(endpoint?.max_concurrency ?? ""));
  const action = useAction();
  async function submit(e: FormEvent) {
    e.preventDefault();
    const body = {
      url: url.trim(),
      description,
      event_types: types.split(",").map((t) => t.trim()).filter(Boolean),
      enabled,
      ...(concurrency.trim() ? { max_concurrency: Number(concurrency) } : {}),
    };
    const result = await action.run(async () => {
      if (endpoint) {
        await must(sb.PATCH("/v1/webhook-endpoints/{id}", { params: { path: { id: endpoint.id } }, body }));
        return { secret: undefined };
      }
      const created = await must(sb.POST("/v1/webhook-endpoints", { body }));
      return { secret: created.secret };
    });
    if (result) onSaved(result.secret);
  }
  return (
    <Dialog id={id} title={endpoint ? "Edit endpoint" : "Add endpoint"} onClose={onClose}>
      <form className="dialog-body form" onSubmit={submit}>
        <div className="field">
          <label htmlFor={`${id}-url`}>URL</label>
          <input id={`${id}-url`} type="url" required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://app.example.com/webhooks/switchboard" />
        </div>
        <div className="field">
          <label htmlFor={`${id}-description`}>Description</label>
          <input id={`${id}-description`} value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-types`}>Event types (comma separated; empty for all)</label>
          <input id={`${id}-types`} value={types} onChange={(e) => setTypes(e.target.value)} placeholder="event.created, event.updated" spellCheck={false} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-concurrency`}>Deliveries in flight at once</label>
          <input id={`${id}-concurrency`} type="number" min={1} value={concurrency} onChange={(e) => setConcurrency(e.target.value)} />
        </div>
        <div className="check">
          <input id={`${id}-enabled`} type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
          <label htmlFor={`${id}-enabled`}>Enabled</label>
        </div>
        <ProblemBox problem={action.error} />
        <div className="dialog-actions">
          <button type="button" id={`${id}-cancel`} onClick={onClose}>Cancel</button>
          <button type="submit" id={`${id}-save`} className="primary" disabled={action.running}>{action.running ? "Saving…" : "Save"}</button>
        </div>
      </form>
    </Dialog>
  );
}

function Deliveries() {
  const { canWrite } = useSession();
  const { query } = useLocation();
  const update = useQueryUpdater();
  const state = query.get("state") ?? "";
  const endpointId = query.get("endpoint_id") ?? "";
  const cursor = query.get("cursor") ?? "";
  const cursors = useCursorStack();
  const list = useLoad(
    () =>
      must(sb.GET("/v1/webhook-deliveries", {
        params: { query: { limit: 50, ...(state ? { state: state as (typeof kStates)[number] } : {}), ...(endpointId ? { endpoint_id: endpointId } : {}), ...(cursor ? { cursor } : {}) } },
      })),
    [state, endpointId, cursor],
  );
  useLive("delivery", (d: WebhookDelivery) => {
    list.setData((old) => (old?.data?.some((x) => x.id === d.id) ? { ...old, data: old.data.map((x) => (x.id === d.id ? d : x)) } : old));
  });
  const retry = useAction();
  const [retrying, setRetrying] = useState<string | null>(null);
  const rows = list.data?.data ?? [];
  return (
    <section aria-labelledby="webhooks-deliveries-title">
      <div className="page-head">
        <h2 id="webhooks-deliveries-title">Deliveries</h2>
        <button type="button" id="webhooks-deliveries-refresh" onClick={list.reload}>Refresh</button>
      </div>
      <div className="filters">
        <div className="field">
          <label htmlFor="webhooks-filter-state">State</label>
          <select id="webhooks-filter-state" value={state} onChange={(e) => { cursors.reset(); update({ state: e.target.value, cursor: null }); }}>
            <option value="">any</option>
            {kStates.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </div>
        <div className="field grow">
          <label htmlFor="webhooks-filter-endpoint">Endpoint id</label>
          <input id="webhooks-filter-endpoint" defaultValue={endpointId} spellCheck={false}
            onKeyDown={(e) => { if (e.key === "Enter") { cursors.reset(); update({ endpoint_id: e.currentTarget.value.trim(), cursor: null }); } }}
            onBlur={(e) => { if (e.currentTarget.value.trim() !== endpointId) { cursors.reset(); update({ endpoint_id: e.currentTarget.value.trim(), cursor: null }); } }} />
        </div>
      </div>
      <ProblemBox problem={list.error} />
      <ProblemBox problem={retry.error} />
      {list.loading && !list.data && <Loading />}
      {list.data && rows.length === 0 && <Empty>No deliveries{state ? ` in state ${state}` : ""}.</Empty>}
      {rows.length > 0 && (
        <div className="table-wrap" tabIndex={0} id="webhooks-deliveries-scroll" role="region" aria-label="Deliveries table">
          <table>
            <thead><tr><th scope="col">Event</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col">Next attempt</th><th scope="col">Created</th><th scope="col">Actions</th></tr></thead>
            <tbody>
              {rows.map((d) => (
                <tr key={d.id} id={`webhooks-delivery-${d.id}`}>
                  <td>{d.event_type}<div className="muted small mono">{d.id}</div></td>
                  <td><Badge value={d.state} /></td>
                  <td>{d.attempts}</td>
                  <td className="small">{d.last_status_code ?? ""} {d.last_error}</td>
                  <td><Time iso={d.next_attempt_at} relative /></td>
                  <td><Time iso={d.created_at} /></td>
                  <td>
                    {canWrite && (d.state === "failed" || d.state === "dead") && (
                      <button
                        type="button"
                        id={`webhooks-delivery-${d.id}-retry`}
                        disabled={retrying === d.id}
                        onClick={async () => {
                          setRetrying(d.id ?? null);
                          await retry.run(() => must(sb.POST("/v1/webhook-deliveries/{id}/retry", { params: { path: { id: d.id! } } })));
                          setRetrying(null);
                          list.reload();
                        }}
                      >
                        {retrying === d.id ? "Retrying…" : "Retry"}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data && (
        <Pager id="webhooks-deliveries-pager" count={rows.length} hasPrev={cursors.hasPrev} nextCursor={list.data.next_cursor}
          onFirst={() => { cursors.reset(); update({ cursor: null }); }}
          onPrev={() => update({ cursor: cursors.pop() || null })}
          onNext={(n) => { cursors.push(cursor); update({ cursor: n }); }} />
      )}
    </section>
  );
}
