import { sb, must } from "../api/client";
import { kConnectionStatuses, type Connection } from "../api/types";
import { BarChart, LineChart } from "../components/charts";
import { Badge, Empty, Loading, ProblemBox, Time } from "../components/ui";
import { useLoad } from "../lib/async";
import { formatCount, formatRelative } from "../lib/format";
import { Link, useTitle, withQuery } from "../lib/router";
import { useSession } from "../session";

const kTones = { active: "ok", refreshing: "info", error: "bad", reauthorization_required: "warn", disabled: "neutral", revoked: "bad" } as const;
const kLagSample = 20;

export function OverviewPage() {
  useTitle("Overview");
  const { isAdmin } = useSession();
  return (
    <>
      <h1>Overview</h1>
      <div className="grid">
        {isAdmin ? <UsagePanels /> : <section className="card"><h2>Connections by status</h2><p className="muted">Usage figures need the admin role.</p></section>}
        <Incidents />
        <SyncLag />
        <FailingDeliveries />
      </div>
    </>
  );
}

function UsagePanels() {
  const usage = useLoad(() => must(sb.GET("/v1/admin/usage", {})), []);
  const rows = usage.data?.data ?? [];
  const byStatus: Record<string, number> = {};
  const days = new Map<string, { api: number; proxied: number; refreshes: number }>();
  for (const t of rows) {
    for (const [k, v] of Object.entries(t.connections ?? {})) byStatus[k] = (byStatus[k] ?? 0) + v;
    for (const d of t.days ?? []) {
      if (!d.day) continue;
      const e = days.get(d.day) ?? { api: 0, proxied: 0, refreshes: 0 };
      e.api += d.api_calls ?? 0;
      e.proxied += d.proxied_calls ?? 0;
      e.refreshes += d.refreshes ?? 0;
      days.set(d.day, e);
    }
  }
  const sortedDays = [...days.keys()].sort();
  return (
    <>
      <section className="card" aria-labelledby="overview-status-title">
        <h2 id="overview-status-title">Connections by status</h2>
        {usage.loading && <Loading />}
        <ProblemBox problem={usage.error} />
        {usage.data && (
          <>
            <p>
              <Link id="overview-connections-total" to="/connections">{formatCount(byStatus.total ?? Object.entries(byStatus).reduce((a, [, v]) => a + v, 0))} connections</Link>
            </p>
            <BarChart
              id="overview-status-chart"
              title="Connections by status"
              bars={kConnectionStatuses.map((s) => ({ label: s.replace(/_/g, " "), value: byStatus[s] ?? 0, tone: kTones[s] }))}
            />
          </>
        )}
      </section>
      <section className="card wide" aria-labelledby="overview-usage-title">
        <h2 id="overview-usage-title">Usage, last 30 days</h2>
        {usage.loading && <Loading />}
        {usage.data && sortedDays.length === 0 && <Empty>No usage recorded in this period.</Empty>}
        {sortedDays.length > 0 && (
          <LineChart
            id="overview-usage-chart"
            title="API calls, proxied calls and token refreshes per day"
            labels={sortedDays}
            series={[
              { name: "API calls", className: "s1", values: sortedDays.map((d) => days.get(d)!.api) },
              { name: "Proxied calls", className: "s2", values: sortedDays.map((d) => days.get(d)!.proxied) },
              { name: "Token refreshes", className: "s3", values: sortedDays.map((d) => days.get(d)!.refreshes) },
            ]}
          />
        )}
        <p className="small"><Link id="overview-usage-details" to="/admin#usage">Usage per tenant</Link></p>
      </section>
    </>
  );
}

function Incidents() {
  const load = useLoad(async () => {
    const [err, reauth] = await Promise.all([
      must(sb.GET("/v1/connections", { params: { query: { status: "error", limit: 10 } } })),
      must(sb.GET("/v1/connections", { params: { query: { status: "reauthorization_required", limit: 10 } } })),
    ]);
    // a connection whose status changed between the two calls appears once
    const list = [...err.data, ...reauth.data].filter((c, i, all) => all.findIndex((x) => x.id === c.id) === i);
    return { list, more: !!err.next_cursor || !!reauth.next_cursor };
  }, []);
  return (
    <section className="card" aria-labelledby="overview-incidents-title">
      <h2 id="overview-incidents-title">Open health incidents</h2>
      {load.loading && <Loading />}
      <ProblemBox problem={load.error} />
      {load.data && load.data.list.length === 0 && <Empty>No connection is in error or needs reauthorization.</Empty>}
      {load.data && load.data.list.length > 0 && (
        <ul className="plain">
          {load.data.list.map((c: Connection) => (
            <li key={c.id}>
              <Link id={`overview-incident-${c.id}`} to={`/connections/${c.id}`}>{c.provider} · {c.account.email || c.end_user_id}</Link>{" "}
              <Badge value={c.status} /> <span className="muted small">{c.status_reason}</span>
            </li>
          ))}
        </ul>
      )}
      {load.data && (
        <p className="small">
          <Link id="overview-incidents-error" to={withQuery("/connections", { status: "error" })}>All in error</Link>{" · "}
          <Link id="overview-incidents-reauth" to={withQuery("/connections", { status: "reauthorization_required" })}>All needing reauthorization</Link>
          {load.data.more ? " (more than shown)" : ""}
        </p>
      )}
    </section>
  );
}

function SyncLag() {
  const load = useLoad(async () => {
    const page = await must(sb.GET("/v1/connections", { params: { query: { status: "active", limit: kLagSample } } }));
    let oldest: { at: string | null; connection: Connection } | null = null;
    let checked = 0;
    await Promise.all(
      page.data.map(async (c) => {
        const { data } = await sb.GET("/v1/connections/{id}/sync", { params: { path: { id: c.id } } });
        for (const s of data?.data ?? []) {
          checked++;
          const at = s.last_success_at ?? null;
          if (!oldest || (oldest.at !== null && (at === null || at < oldest.at))) oldest = { at, connection: c };
        }
      }),
    );
    return { oldest: oldest as { at: string | null; connection: Connection } | null, checked, sampled: page.data.length };
  }, []);
  const o = load.data?.oldest;
  return (
    <section className="card" aria-labelledby="overview-lag-title">
      <h2 id="overview-lag-title">Sync lag</h2>
      {load.loading && <Loading />}
      <ProblemBox problem={load.error} />
      {load.data && !o && <Empty>No synced services among the first {kLagSample} active connections.</Empty>}
      {o && (
        <p>
          Oldest last successful sync: <strong>{o.at ? formatRelative(o.at) : "never"}</strong>{" "}
          {o.at && <Time iso={o.at} />} —{" "}
          <Link id="overview-lag-connection" to={`/connections/${o.connection.id}`}>{o.connection.provider} · {o.connection.account.email || o.connection.end_user_id}</Link>
        </p>
      )}
      {load.data && <p className="muted small">Among the first {load.data.sampled} active connections ({load.data.checked} synced services).</p>}
    </section>
  );
}

function FailingDeliveries() {
  const load = useLoad(async () => {
    const [failed, dead] = await Promise.all([
      must(sb.GET("/v1/webhook-deliveries", { params: { query: { state: "failed", limit: 1000 } } })),
      must(sb.GET("/v1/webhook-deliveries", { params: { query: { state: "dead", limit: 1000 } } })),
    ]);
    const count = (l: { data?: unknown[]; next_cursor?: string | null }) => `${formatCount(l.data?.length ?? 0)}${l.next_cursor ? "+" : ""}`;
    return { failed: count(failed), dead: count(dead) };
  }, []);
  return (
    <section className="card" aria-labelledby="overview-deliveries-title">
      <h2 id="overview-deliveries-title">Failing webhook deliveries</h2>
      {load.loading && <Loading />}
      <ProblemBox problem={load.error} />
      {load.data && (
        <ul className="plain stat-list">
          <li><Link id="overview-deliveries-failed" to={withQuery("/webhooks", { state: "failed" })}><strong>{load.data.failed}</strong> failed, retrying</Link></li>
          <li><Link id="overview-deliveries-dead" to={withQuery("/webhooks", { state: "dead" })}><strong>{load.data.dead}</strong> dead (gave up)</Link></li>
        </ul>
      )}
    </section>
  );
}
