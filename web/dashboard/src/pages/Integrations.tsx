import { useState, type FormEvent } from "react";
import { must, sb } from "../api/client";
import type { Integration, Provider, ServiceGrant } from "../api/types";
import { Dialog } from "../components/Dialog";
import { Badge, Empty, Loading, ProblemBox, Time } from "../components/ui";
import { useAction, useLoad } from "../lib/async";
import { idPart } from "../lib/format";
import { integrationIfMatch, integrationPut } from "../lib/integration";
import { useTitle } from "../lib/router";
import { useSession } from "../session";

export function IntegrationsPage() {
  useTitle("Integrations");
  const { isAdmin } = useSession();
  const load = useLoad(async () => {
    const [providers, integrations] = await Promise.all([must(sb.GET("/v1/providers", {})), must(sb.GET("/v1/integrations", {}))]);
    return { providers: providers.data, integrations: new Map(integrations.data.map((i) => [i.provider, i])) };
  }, []);
  const [editing, setEditing] = useState<Provider | null>(null);
  return (
    <>
      <div className="page-head">
        <h1>Integrations</h1>
        <button type="button" id="integrations-refresh" onClick={load.reload}>Refresh</button>
      </div>
      <p className="muted">One per provider: the OAuth app your tenant's end users connect through. Credential providers need no app: end users type their own credentials.</p>
      {load.loading && !load.data && <Loading />}
      <ProblemBox problem={load.error} />
      {load.data && load.data.providers.length === 0 && <Empty>The provider catalog is empty.</Empty>}
      {load.data && load.data.providers.length > 0 && (
        <div className="table-wrap" tabIndex={0} id="integrations-table-scroll" role="region" aria-label="Integrations table">
          <table>
            <thead>
              <tr><th scope="col">Provider</th><th scope="col">Sign-in</th><th scope="col">State</th><th scope="col">Client id</th><th scope="col">Services</th><th scope="col">Updated</th><th scope="col">Actions</th></tr>
            </thead>
            <tbody>
              {load.data.providers.map((p) => {
                const i = load.data!.integrations.get(p.id);
                const oauth = p.auth === "oauth2";
                const pid = idPart(p.id);
                return (
                  <tr key={p.id} id={`integrations-row-${pid}`}>
                    <td><strong>{p.display_name}</strong><div className="muted small mono">{p.id}</div></td>
                    <td>{oauth ? "OAuth" : `credentials (${p.auth.replace("_", " ")})`}</td>
                    <td>{i ? <Badge value={i.enabled ? "enabled" : "disabled"} /> : <Badge value="not configured" tone="neutral" />}
                      {i && oauth && !i.client_secret_set && <div className="small bad-text">no client secret</div>}</td>
                    <td className="mono small">{oauth ? i?.client_id || "—" : "not used"}</td>
                    <td className="small">{i?.services.map((s) => `${s.service} (${s.access.replace("_", " ")})`).join(", ") || "—"}</td>
                    <td><Time iso={i?.updated_at} /></td>
                    <td>{isAdmin && <button type="button" id={`integrations-row-${pid}-edit`} onClick={() => setEditing(p)}>{i ? "Edit" : "Set up"}</button>}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {editing && load.data && (
        <IntegrationDialog
          provider={editing}
          integration={load.data.integrations.get(editing.id)}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            load.reload();
          }}
        />
      )}
    </>
  );
}

type Access = "" | "read" | "read_write";

function IntegrationDialog({ provider, integration, onClose, onSaved }: { provider: Provider; integration?: Integration; onClose: () => void; onSaved: () => void }) {
  const oauth = provider.auth === "oauth2";
  const [clientId, setClientId] = useState(integration?.client_id ?? "");
  const [clientSecret, setClientSecret] = useState(""); // write-only: never pre-filled
  const [enabled, setEnabled] = useState(integration?.enabled ?? true);
  const [reassign, setReassign] = useState(integration?.allow_reassignment ?? false);
  const [extraScopes, setExtraScopes] = useState((integration?.extra_scopes ?? []).join(" "));
  const [access, setAccess] = useState<Record<string, Access>>(() => {
    const a: Record<string, Access> = {};
    for (const s of Object.keys(provider.services ?? {})) a[s] = (integration?.services.find((g) => g.service === s)?.access ?? "") as Access;
    return a;
  });
  const action = useAction();
  const id = "dialog-integration";

  async function submit(e: FormEvent) {
    e.preventDefault();
    const services = Object.entries(access).filter(([, v]) => v).map(([service, v]) => ({ service, access: v }) as ServiceGrant);
    const body = integrationPut(provider, integration, {
      enabled,
      allowReassignment: reassign,
      clientId,
      clientSecret,
      services,
      extraScopes: extraScopes.split(/\s+/).filter(Boolean),
    });
    const ok = await action.run(async () => {
      await must(sb.PUT("/v1/integrations/{provider}", {
        params: { path: { provider: provider.id }, header: integrationIfMatch(integration) },
        body,
      }));
      return true;
    });
    if (ok) onSaved();
  }

  return (
    <Dialog id={id} title={`${integration ? "Edit" : "Set up"} ${provider.display_name}`} onClose={onClose}>
      <form onSubmit={submit} className="dialog-body form">
        {oauth ? (
          <>
            <div className="field">
              <label htmlFor={`${id}-client-id`}>Client id</label>
              <input id={`${id}-client-id`} required value={clientId} onChange={(e) => setClientId(e.target.value)} spellCheck={false} autoComplete="off" />
            </div>
            <div className="field">
              <label htmlFor={`${id}-client-secret`}>Client secret</label>
              <input
                id={`${id}-client-secret`}
                type="password"
                autoComplete="new-password"
                value={clientSecret}
                required={!integration?.client_secret_set}
                aria-describedby={`${id}-client-secret-help`}
                onChange={(e) => setClientSecret(e.target.value)}
              />
              <span id={`${id}-client-secret-help`} className="small muted">
                {integration?.client_secret_set ? "A secret is stored. Leave empty to keep it; it is never shown." : "Stored in the vault and never shown again."}
              </span>
            </div>
            {Object.keys(access).length > 0 && (
              <fieldset>
                <legend>Services</legend>
                {Object.keys(access).map((s) => (
                  <div className="field" key={s}>
                    <label htmlFor={`${id}-service-${idPart(s)}`}>{s}</label>
                    <select id={`${id}-service-${idPart(s)}`} value={access[s]} onChange={(e) => setAccess((a) => ({ ...a, [s]: e.target.value as Access }))}>
                      <option value="">not requested</option>
                      {provider.services[s]?.read && <option value="read">read</option>}
                      {provider.services[s]?.read_write && <option value="read_write">read and write</option>}
                    </select>
                  </div>
                ))}
              </fieldset>
            )}
            <div className="field">
              <label htmlFor={`${id}-extra-scopes`}>Extra scopes (space separated)</label>
              <input id={`${id}-extra-scopes`} value={extraScopes} onChange={(e) => setExtraScopes(e.target.value)} spellCheck={false} />
            </div>
          </>
        ) : (
          <p className="muted">End users type their own credentials on the connect page{provider.credential_fields?.length ? ` (${provider.credential_fields.map((f) => f.label).join(", ")})` : ""}: there is no OAuth app to configure.</p>
        )}
        <div className="check">
          <input id={`${id}-enabled`} type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
          <label htmlFor={`${id}-enabled`}>Enabled (offered on the connect page)</label>
        </div>
        <div className="check">
          <input id={`${id}-reassign`} type="checkbox" checked={reassign} onChange={(e) => setReassign(e.target.checked)} />
          <label htmlFor={`${id}-reassign`}>Allow moving a connected account to another end user</label>
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
