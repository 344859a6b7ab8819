import { useState, type FormEvent } from "react";
import { must, sb } from "../api/client";
import { sessionApi, type DashboardUser, type Role } from "../api/session";
import type { ApiKey, Tenant } from "../api/types";
import { Dialog } from "../components/Dialog";
import { SecretDialog } from "../components/SecretDialog";
import { Badge, ConfirmDialog, Empty, Loading, Pager, ProblemBox, Time, useCursorStack } from "../components/ui";
import { useAction, useLoad } from "../lib/async";
import { formatCount, idPart } from "../lib/format";
import { useTitle } from "../lib/router";
import { useSession } from "../session";

type Scope = "admin" | "read" | "write" | "operator";

export function AdminPage() {
  useTitle("Admin");
  const { isAdmin, isOperator } = useSession();
  if (!isAdmin) {
    return (
      <>
        <h1>Admin</h1>
        <Empty>Administration needs the admin or operator role. Ask an admin of your workspace.</Empty>
      </>
    );
  }
  return (
    <>
      <h1>Admin</h1>
      <nav aria-label="Admin sections" className="toolbar">
        {isOperator && <a id="admin-jump-tenants" href="#tenants">Tenants</a>}
        <a id="admin-jump-keys" href="#api-keys">API keys</a>
        <a id="admin-jump-providers" href="#providers">Providers</a>
        <a id="admin-jump-usage" href="#usage">Usage</a>
        <a id="admin-jump-users" href="#users">Dashboard users</a>
      </nav>
      {isOperator && <Tenants />}
      <ApiKeys />
      <Providers />
      <UsageTable />
      <Users />
    </>
  );
}

function Tenants() {
  const [name, setName] = useState("");
  const [lookupId, setLookupId] = useState("");
  const [found, setFound] = useState<Tenant | null>(null);
  const [cursor, setCursor] = useState("");
  const cursors = useCursorStack();
  const list = useLoad(() => must(sb.GET("/v1/tenants", { params: { query: { limit: 50, ...(cursor ? { cursor } : {}) } } })), [cursor]);
  const create = useAction();
  const lookup = useAction();
  const rows = list.data?.data ?? [];
  return (
    <section id="tenants" aria-labelledby="admin-tenants-title" className="card">
      <h2 id="admin-tenants-title">Tenants</h2>
      <form className="filters" onSubmit={async (e) => {
        e.preventDefault();
        const t = await create.run(() => must(sb.POST("/v1/tenants", { body: { name: name.trim() } })));
        if (t) { setName(""); list.reload(); }
      }}>
        <div className="field grow">
          <label htmlFor="admin-tenant-name">New tenant name</label>
          <input id="admin-tenant-name" required value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <button type="submit" id="admin-tenant-create" className="primary" disabled={create.running}>Create tenant</button>
      </form>
      <ProblemBox problem={create.error} />
      <form className="filters" onSubmit={async (e) => {
        e.preventDefault();
        setFound(null);
        const t = await lookup.run(() => must(sb.GET("/v1/tenants/{id}", { params: { path: { id: lookupId.trim() } } })));
        if (t) setFound(t);
      }}>
        <div className="field grow">
          <label htmlFor="admin-tenant-lookup-id">Tenant id</label>
          <input id="admin-tenant-lookup-id" required value={lookupId} onChange={(e) => setLookupId(e.target.value)} spellCheck={false} />
        </div>
        <button type="submit" id="admin-tenant-lookup" disabled={lookup.running}>Look up</button>
      </form>
      <ProblemBox problem={lookup.error} />
      {found && <TenantTable id="admin-tenant-found" label="Tenant found" tenants={[found]} />}
      <ProblemBox problem={list.error} />
      {list.loading && !list.data && <Loading />}
      {rows.length > 0 && <TenantTable id="admin-tenants" label="Tenants" tenants={rows} />}
      {list.data && (
        <Pager id="admin-tenants-pager" label="Tenant pages" count={rows.length} hasPrev={cursors.hasPrev} nextCursor={list.data.next_cursor}
          onFirst={() => { cursors.reset(); setCursor(""); }} onPrev={() => setCursor(cursors.pop())}
          onNext={(n) => { cursors.push(cursor); setCursor(n); }} />
      )}
    </section>
  );
}

function TenantTable({ id, label, tenants }: { id: string; label: string; tenants: Tenant[] }) {
  return (
    <div className="table-wrap" tabIndex={0} id={`${id}-scroll`} role="region" aria-label={`${label} table`}>
      <table>
        <thead><tr><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Return URL origins</th><th scope="col">Created</th></tr></thead>
        <tbody>
          {tenants.map((t) => (
            <tr key={t.id} id={`${id}-${t.id}`}><td>{t.name}</td><td className="mono small">{t.id}</td><td className="small">{t.return_url_origins.join(", ") || "—"}</td><td><Time iso={t.created_at} /></td></tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ApiKeys() {
  const { isOperator } = useSession();
  const [cursor, setCursor] = useState("");
  const cursors = useCursorStack();
  const list = useLoad(() => must(sb.GET("/v1/api-keys", { params: { query: { limit: 50, ...(cursor ? { cursor } : {}) } } })), [cursor]);
  const [creating, setCreating] = useState(false);
  const [revoke, setRevoke] = useState<ApiKey | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const del = useAction();
  const rows = list.data?.data ?? [];
  return (
    <section id="api-keys" aria-labelledby="admin-keys-title" className="card">
      <div className="page-head">
        <h2 id="admin-keys-title">API keys</h2>
        <button type="button" id="admin-key-create" className="primary" onClick={() => setCreating(true)}>Create key</button>
      </div>
      <ProblemBox problem={list.error} />
      {list.loading && !list.data && <Loading />}
      {list.data && rows.length === 0 && <Empty>No API keys. Create one for your app's backend.</Empty>}
      {rows.length > 0 && (
        <div className="table-wrap" tabIndex={0} id="admin-keys-scroll" role="region" aria-label="API keys table">
          <table>
            <thead><tr><th scope="col">Name</th><th scope="col">Scopes</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">State</th><th scope="col">Actions</th></tr></thead>
            <tbody>
              {rows.map((k) => (
                <tr key={k.id} id={`admin-key-${k.id}`}>
                  <td>{k.name}<div className="muted small mono">{k.id}</div></td>
                  <td className="small">{k.scopes.join(", ")}</td>
                  <td><Time iso={k.created_at} /></td>
                  <td><Time iso={k.last_used_at} relative /></td>
                  <td>{k.revoked_at ? <><Badge value="revoked" /> <Time iso={k.revoked_at} /></> : <Badge value="active" />}</td>
                  <td>{!k.revoked_at && <button type="button" id={`admin-key-${k.id}-revoke`} className="danger-outline" onClick={() => setRevoke(k)}>Revoke</button>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data && (
        <Pager id="admin-keys-pager" label="API key pages" count={rows.length} hasPrev={cursors.hasPrev} nextCursor={list.data.next_cursor}
          onFirst={() => { cursors.reset(); setCursor(""); }} onPrev={() => setCursor(cursors.pop())}
          onNext={(n) => { cursors.push(cursor); setCursor(n); }} />
      )}
      {creating && <KeyDialog operator={isOperator} onClose={() => setCreating(false)} onCreated={(key) => { setCreating(false); setSecret(key); list.reload(); }} />}
      {secret && <SecretDialog id="dialog-key-secret" title="API key created" label="API key" secret={secret} onClose={() => setSecret(null)} />}
      {revoke && (
        <ConfirmDialog id="dialog-revoke-key" title={`Revoke the key “${revoke.name}”?`} confirmLabel="Revoke key" running={del.running} problem={del.error}
          onClose={() => setRevoke(null)}
          onConfirm={async () => {
            const ok = await del.run(async () => { await must(sb.DELETE("/v1/api-keys/{id}", { params: { path: { id: revoke.id } } })); return true; });
            if (ok) { setRevoke(null); list.reload(); }
          }}>
          <p>Every call made with <strong>{revoke.name}</strong> ({revoke.scopes.join(", ")}) fails from now on. This cannot be undone.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function KeyDialog({ operator, onClose, onCreated }: { operator: boolean; onClose: () => void; onCreated: (key: string) => void }) {
  const id = "dialog-key";
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<Scope[]>(["read", "write"]);
  const [tenant, setTenant] = useState("");
  const action = useAction();
  const all: Scope[] = operator ? ["read", "write", "admin", "operator"] : ["read", "write", "admin"];
  async function submit(e: FormEvent) {
    e.preventDefault();
    const k = await action.run(() => must(sb.POST("/v1/api-keys", { body: { name: name.trim(), scopes, ...(operator && tenant.trim() ? { tenant_id: tenant.trim() } : {}) } })));
    if (k) onCreated(k.key);
  }
  return (
    <Dialog id={id} title="Create an API key" onClose={onClose}>
      <form className="dialog-body form" onSubmit={submit}>
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input id={`${id}-name`} required value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <fieldset>
          <legend>Scopes</legend>
          {all.map((s) => (
            <div className="check" key={s}>
              <input id={`${id}-scope-${s}`} type="checkbox" checked={scopes.includes(s)} onChange={(e) => setScopes((cur) => (e.target.checked ? [...cur, s] : cur.filter((x) => x !== s)))} />
              <label htmlFor={`${id}-scope-${s}`}>{s}</label>
            </div>
          ))}
        </fieldset>
        {operator && (
          <div className="field">
            <label htmlFor={`${id}-tenant`}>In tenant (id; empty for the system tenant)</label>
            <input id={`${id}-tenant`} value={tenant} onChange={(e) => setTenant(e.target.value)} spellCheck={false} />
          </div>
        )}
        <ProblemBox problem={action.error} />
        <div className="dialog-actions">
          <button type="button" id={`${id}-cancel`} onClick={onClose}>Cancel</button>
          <button type="submit" id={`${id}-save`} className="primary" disabled={action.running || scopes.length === 0}>Create key</button>
        </div>
      </form>
    </Dialog>
  );
}

function Providers() {
  const { isOperator, user } = useSession();
  const list = useLoad(() => must(sb.GET("/v1/admin/providers", {})), []);
  const [toggle, setToggle] = useState<{ provider: string; enable: boolean } | null>(null);
  const [reason, setReason] = useState("");
  const action = useAction();
  const rows = list.data?.data ?? [];
  return (
    <section id="providers" aria-labelledby="admin-providers-title" className="card">
      <h2 id="admin-providers-title">Provider kill switch</h2>
      <p className="muted small">{isOperator ? "Disabling a provider here stops every call to it for every tenant, at once." : "Disabling a provider here stops every call to it for your tenant, at once."}</p>
      <ProblemBox problem={list.error} />
      {list.loading && !list.data && <Loading />}
      {list.data && rows.length === 0 && <Empty>No providers.</Empty>}
      {rows.length > 0 && (
        <div className="table-wrap" tabIndex={0} id="admin-providers-scroll" role="region" aria-label="Providers table">
          <table>
            <thead><tr><th scope="col">Provider</th><th scope="col">State</th><th scope="col">Switches</th><th scope="col">Action</th></tr></thead>
            <tbody>
              {rows.map((p) => {
                const pid = idPart(p.provider ?? "");
                const mine = (p.switches ?? []).find((s) => (isOperator ? s.scope === "global" : s.tenant_id === user.tenant_id));
                const enabledHere = mine ? mine.enabled !== false : p.enabled !== false;
                return (
                  <tr key={p.provider} id={`admin-provider-${pid}`}>
                    <td>{p.provider}</td>
                    <td><Badge value={p.enabled === false ? "disabled" : "enabled"} tone={p.enabled === false ? "bad" : "ok"} /></td>
                    <td className="small">{(p.switches ?? []).map((s, i) => <div key={i}>{s.scope}{s.tenant_id ? ` ${s.tenant_id}` : ""}: {s.enabled ? "on" : "off"}{s.reason ? ` (${s.reason})` : ""} <Time iso={s.updated_at} /></div>)}</td>
                    <td>
                      <button type="button" id={`admin-provider-${pid}-toggle`} className={enabledHere ? "danger-outline" : undefined}
                        onClick={() => { setReason(""); setToggle({ provider: p.provider ?? "", enable: !enabledHere }); }}>
                        {enabledHere ? "Disable" : "Enable"}
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {toggle && (
        <ConfirmDialog id="dialog-kill-switch" title={`${toggle.enable ? "Enable" : "Disable"} ${toggle.provider}${isOperator ? " for every tenant" : ""}?`}
          confirmLabel={toggle.enable ? "Enable provider" : "Disable provider"} danger={!toggle.enable} running={action.running} problem={action.error}
          onClose={() => setToggle(null)}
          onConfirm={async () => {
            const ok = await action.run(async () => {
              await must(sb.PUT("/v1/admin/providers/{provider}", {
                params: { path: { provider: toggle.provider } },
                body: { enabled: toggle.enable, ...(isOperator ? {} : { tenant_id: user.tenant_id }), ...(reason.trim() ? { reason: reason.trim() } : {}) },
              }));
              return true;
            });
            if (ok) { setToggle(null); list.reload(); }
          }}>
          <p>{toggle.enable
            ? `Calls to ${toggle.provider} are allowed again.`
            : `No call reaches ${toggle.provider}: proxied calls, token refreshes and health checks are refused, calls in flight are cancelled, and the connect page stops offering it.`}</p>
          <div className="field">
            <label htmlFor="dialog-kill-switch-reason">Reason (recorded in the audit log)</label>
            <input id="dialog-kill-switch-reason" value={reason} onChange={(e) => setReason(e.target.value)} />
          </div>
        </ConfirmDialog>
      )}
    </section>
  );
}

function UsageTable() {
  const usage = useLoad(() => must(sb.GET("/v1/admin/usage", {})), []);
  const rows = usage.data?.data ?? [];
  return (
    <section id="usage" aria-labelledby="admin-usage-title" className="card">
      <h2 id="admin-usage-title">Usage{usage.data?.from ? ` ${usage.data.from} to ${usage.data.to}` : ""}</h2>
      <ProblemBox problem={usage.error} />
      {usage.loading && !usage.data && <Loading />}
      {usage.data && rows.length === 0 && <Empty>No usage in this period.</Empty>}
      {rows.length > 0 && (
        <div className="table-wrap" tabIndex={0} id="admin-usage-scroll" role="region" aria-label="Usage per tenant table">
          <table>
            <thead><tr><th scope="col">Tenant</th><th scope="col">Connections</th><th scope="col">API calls</th><th scope="col">Proxied calls</th><th scope="col">Token refreshes</th></tr></thead>
            <tbody>
              {rows.map((t) => (
                <tr key={t.tenant_id}>
                  <td className="mono small">{t.tenant_id}</td>
                  <td>{formatCount(t.connections?.total ?? Object.values(t.connections ?? {}).reduce((a, b) => a + b, 0))}</td>
                  <td>{formatCount(t.api_calls)}</td>
                  <td>{formatCount(t.proxied_calls)}</td>
                  <td>{formatCount(t.refreshes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Users() {
  const { user: me } = useSession();
  const list = useLoad(() => sessionApi.listUsers(), []);
  const [creating, setCreating] = useState(false);
  const [remove, setRemove] = useState<DashboardUser | null>(null);
  const del = useAction();
  const rows = list.data ?? [];
  return (
    <section id="users" aria-labelledby="admin-users-title" className="card">
      <div className="page-head">
        <h2 id="admin-users-title">Dashboard users</h2>
        <button type="button" id="admin-user-create" className="primary" onClick={() => setCreating(true)}>Add user</button>
      </div>
      <ProblemBox problem={list.error} />
      {list.loading && !list.data && <Loading />}
      {list.data && rows.length === 0 && <Empty>No dashboard users.</Empty>}
      {rows.length > 0 && (
        <div className="table-wrap" tabIndex={0} id="admin-users-scroll" role="region" aria-label="Dashboard users table">
          <table>
            <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Signs in with</th><th scope="col">Created</th><th scope="col">Locked</th><th scope="col">Actions</th></tr></thead>
            <tbody>
              {rows.map((u) => (
                <tr key={u.id} id={`admin-user-${u.id}`}>
                  <td>{u.name}</td>
                  <td>{u.email}</td>
                  <td>{u.role}</td>
                  <td>{signInMethods(u)}</td>
                  <td><Time iso={u.created_at} /></td>
                  <td>{u.locked_until && Date.parse(u.locked_until) > Date.now() ? <>until <Time iso={u.locked_until} /></> : "no"}</td>
                  <td>{u.id !== me.id && <button type="button" id={`admin-user-${u.id}-delete`} className="danger-outline" onClick={() => setRemove(u)}>Delete</button>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {creating && <UserDialog onClose={() => setCreating(false)} onCreated={() => { setCreating(false); list.reload(); }} />}
      {remove && (
        <ConfirmDialog id="dialog-delete-user" title={`Delete ${remove.email}?`} confirmLabel="Delete user" running={del.running} problem={del.error}
          onClose={() => setRemove(null)}
          onConfirm={async () => {
            const ok = await del.run(async () => { await sessionApi.deleteUser(remove.id); return true; });
            if (ok) { setRemove(null); list.reload(); }
          }}>
          <p><strong>{remove.name || remove.email}</strong> ({remove.role}) can no longer sign in to the dashboard.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

/** "password", "google", "password, google", or the provider still to be linked. */
function signInMethods(u: DashboardUser): string {
  const methods: string[] = [];
  if (u.password_set !== false) methods.push("password");
  if (u.oidc_provider) methods.push(u.oidc_provider);
  return methods.length > 0 ? methods.join(", ") : "a provider (not linked yet)";
}

function UserDialog({ onClose, onCreated }: { onClose: () => void; onCreated: () => void }) {
  const { isOperator } = useSession();
  const id = "dialog-user";
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [password, setPassword] = useState("");
  const action = useAction();
  return (
    <Dialog id={id} title="Add a dashboard user" onClose={onClose}>
      <form className="dialog-body form" onSubmit={async (e) => {
        e.preventDefault();
        const u = await action.run(() => sessionApi.createUser({ email: email.trim(), name: name.trim(), role, ...(password !== "" ? { password } : {}) }).catch((err) => { setPassword(""); throw err; }));
        if (u) onCreated();
      }}>
        <div className="field"><label htmlFor={`${id}-email`}>Email</label><input id={`${id}-email`} type="email" required value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="off" /></div>
        <div className="field"><label htmlFor={`${id}-name`}>Name</label><input id={`${id}-name`} required value={name} onChange={(e) => setName(e.target.value)} /></div>
        <div className="field">
          <label htmlFor={`${id}-role`}>Role</label>
          <select id={`${id}-role`} value={role} onChange={(e) => setRole(e.target.value as Role)}>
            <option value="viewer">viewer (read only)</option>
            <option value="admin">admin</option>
            {isOperator && <option value="operator">operator</option>}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-password`}>Initial password</label>
          <input id={`${id}-password`} type="password" aria-describedby={`${id}-password-hint`} value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" />
          <p id={`${id}-password-hint`} className="muted small">Leave empty for a user who signs in with Google or Microsoft only.</p>
        </div>
        <ProblemBox problem={action.error} />
        <div className="dialog-actions">
          <button type="button" id={`${id}-cancel`} onClick={onClose}>Cancel</button>
          <button type="submit" id={`${id}-save`} className="primary" disabled={action.running}>Add user</button>
        </div>
      </form>
    </Dialog>
  );
}
