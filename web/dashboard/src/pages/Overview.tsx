import { sb, must } from "../api/client";
import { kConnectionStatuses, type ConnectionSummary, type OpenIncident } from "../api/types";
import { BarChart, LineChart } from "../components/charts";
import { Empty, Loading, ProblemBox, Time } from "../components/ui";
import { useLoad, type Loaded } from "../lib/async";
import { formatCount, formatRelative, humanize } from "../lib/format";
import { connectionLastSuccess, kLagBuckets, lagHistogram } from "../lib/lag";
import { Link, useTitle, withQuery } from "../lib/router";
import { useSession } from "../session";

const kTones = { active: "ok", refreshing: "info", error: "bad", reauthorization_required: "warn", disabled: "neutral", revoked: "bad" } as const;
const kLagTones = { "< 1 h": "ok", "1–6 h": "info", "6–24 h": "warn", "> 1 d": "bad", never: "neutral" } as const;
const kLagSample = 20;
const kIncidentLimit = 20;

export function OverviewPage() {
  useTitle("Overview");
  const { isAdmin } = useSession();
  // Read scope: every role sees its tenant's counts and open incidents.
  const summary = useLoad(() => must(sb.GET("/v1/connections/summary", { params: { query: { limit: kIncidentLimit } } })), []);
  return (
    <>
      <h1>Overview</h1>
      <div className="grid">
        <StatusPanel summary={summary} />
        <Incidents summary={summary} />
        {isAdmin ? <UsagePanel /> : <section className="card wide"><h2>Usage</h2><p className="muted">Usage over time needs the admin role.</p></section>}
        <SyncLag />
        <FailingDeliveries />
      </div>
    </>
  );
}

function StatusPanel({ summary }: { summary: Loaded<ConnectionSummary> }) {
  const counts = summary.data?.connections;
  return (
    <section className="card" aria-labelledby="overview-status-title">
      <h2 id="overview-status-title">Connections by status</h2>
      {summary.loading && <Loading />}
      <ProblemBox problem={summary.error} />
      {counts && (
        <>
          <p>
            <Link id="overview-connections-total" to="/connections">{formatCount(counts.total)} connections</Link>
          </p>
          <BarChart
            id="overview-status-chart"
            title="Connections by status"
            bars={kConnectionStatuses.map((s) => ({ label: humanize(s), value: counts[s] ?? 0, tone: kTones[s] }))}
          />
        </>
      )}
    </section>
  );
}

function UsagePanel() {
  const usage = useLoad(() => must(sb.GET("/v1/admin/usage", {})), []);
  const days = new Map<string, { api: number; proxied: number; refreshes: number }>();
  for (const t of usage.data?.data ?? []) {
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
    <section className="card wide" aria-labelledby="overview-usage-title">
      <h2 id="overview-usage-title">Usage, last 30 days</h2>
      {usage.loading && <Loading />}
      <ProblemBox problem={usage.error} />
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
  );
}

function Incidents({ summary }: { summary: Loaded<ConnectionSummary> }) {
  const data = summary.data;
  const list: OpenIncident[] = data?.incidents ?? [];
  return (
    <section className="card" aria-labelledby="overview-incidents-title">
      <h2 id="overview-incidents-title">
        Open health incidents{data ? <> <span id="overview-incidents-count" className={`badge badge-${data.open_incidents > 0 ? "bad" : "ok"}`}>{formatCount(data.open_incidents)}</span></> : null}
      </h2>
      {summary.loading && <Loading />}
      <ProblemBox problem={summary.error} />
      {data && list.length === 0 && <Empty>No connection has an open health incident.</Empty>}
      {list.length > 0 && (
        <ul className="plain">
          {list.map((i) => (
            <li key={i.connection_id}>
              <Link id={`overview-incident-${i.connection_id}`} to={`/connections/${i.connection_id}`}>{i.provider} · {i.end_user_id}</Link>{" "}
              <span className="small">{humanize(i.last_error.kind)}{i.last_error.message ? `: ${i.last_error.message}` : ""}</span>{" "}
              <span className="muted small">since <Time iso={i.incident_since} relative /></span>
            </li>
          ))}
        </ul>
      )}
      {data && data.open_incidents > list.length && (
        <p className="muted small">The newest {list.length} of {formatCount(data.open_incidents)}.</p>
      )}
      {data && (
        <p className="small">
          <Link id="overview-incidents-error" to={withQuery("/connections", { status: "error" })}>All in error</Link>{" · "}
          <Link id="overview-incidents-reauth" to={withQuery("/connections", { status: "reauthorization_required" })}>All needing reauthorization</Link>
        </p>
      )}
    </section>
  );
}

function SyncLag() {
  const load = useLoad(async () => {
    const page = await must(sb.GET("/v1/connections", { params: { query: { status: "active", limit: kLagSample } } }));
    const lastSuccess: (string | null)[] = [];
    let oldest: { at: string | null; id: string; label: string } | null = null;
    await Promise.all(
      page.data.map(async (c) => {
        const { data } = await sb.GET("/v1/connections/{id}/sync", { params: { path: { id: c.id } } });
        const at = connectionLastSuccess(data?.data ?? []);
        if (at === undefined) return;
        lastSuccess.push(at);
        if (!oldest || (oldest.at !== null && (at === null || at < oldest.at))) {
          oldest = { at, id: c.id, label: `${c.provider} · ${c.account.email || c.end_user_id}` };
        }
      }),
    );
    return { histogram: lagHistogram(lastSuccess), synced: lastSuccess.length, sampled: page.data.length, oldest: oldest as { at: string | null; id: string; label: string } | null };
  }, []);
  const d = load.data;
  return (
    <section className="card" aria-labelledby="overview-lag-title">
      <h2 id="overview-lag-title">Sync lag</h2>
      {load.loading && <Loading />}
      <ProblemBox problem={load.error} />
      {d && d.synced === 0 && <Empty>No synced services among the first {kLagSample} active connections.</Empty>}
      {d && d.synced > 0 && (
        <>
          <BarChart
            id="overview-lag-chart"
            title="Connections by time since their last successful sync"
            bars={kLagBuckets.map((b) => ({ label: b, value: d.histogram[b], tone: kLagTones[b] }))}
          />
          {d.oldest && (
            <p className="small">
              Most behind: <Link id="overview-lag-connection" to={`/connections/${d.oldest.id}`}>{d.oldest.label}</Link>{" "}
              ({d.oldest.at ? <>{formatRelative(d.oldest.at)} <Time iso={d.oldest.at} /></> : "never synced"})
            </p>
          )}
        </>
      )}
      {d && <p className="muted small">The first {d.sampled} active connections ({d.synced} with synced services), each by its most lagging service.</p>}
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
