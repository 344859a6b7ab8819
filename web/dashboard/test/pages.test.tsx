// Renders every page against a fake API (signed in as the operator) and checks the dashboard's
// rules that unit tests can see: each interactive element has a unique, hyphenated id, every
// input has a label, and there is one <main>.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { act } from "react";
import { createRoot, type Root } from "react-dom/client";

const C1 = "11111111-1111-1111-1111-111111111111";
const connection = {
  id: C1, provider: "google", end_user_id: "user-1",
  account: { subject: "sub", email: "a@example.com", provider_tenant_id: "" },
  status: "error", status_reason: "refresh failed", services: [{ service: "calendar", access: "read" }],
  granted_scopes: ["openid"], missing_scopes: [], settings: {},
  token: { access_token_expires_at: "2030-01-01T00:00:00Z", refresh_token_present: true, version: 3, next_refresh_at: null, consecutive_refresh_failures: 1 },
  created_at: "2024-01-01T00:00:00Z", updated_at: "2024-01-02T00:00:00Z",
};
const routes: [RegExp, unknown][] = [
  [/^\/v1\/session\/oidc$/, { data: [{ provider: "google", name: "Google", start_url: "/v1/session/oidc/google" }, { provider: "microsoft", name: "Microsoft", start_url: "/v1/session/oidc/microsoft" }] }],
  [/^\/v1\/session$/, { user: { id: "u1", email: "op@example.com", name: "Op", role: "operator", tenant_id: "00000000-0000-0000-0000-000000000000", tenant_name: "System" }, csrf_token: "t", expires_at: "2030-01-01T00:00:00Z" }],
  [/^\/v1\/connections\/[^/]+\/health\/incidents/, { data: [{ seq: 2, opened_at: "2024-01-03T00:00:00Z", closed_at: null, error_kind: "token_rejected", error: "the provider refused the token" }, { seq: 1, opened_at: "2024-01-01T00:00:00Z", closed_at: "2024-01-01T02:05:00Z", error_kind: "provider_unavailable", error: "503" }], next_cursor: "1" }],
  [/^\/v1\/connect\/sessions$/, { id: "s1", url: "http://localhost/connect/tok", expires_at: "2030-01-01T00:00:00Z" }],
  [/^\/v1\/connections\/[^/]+\/health/, { connection_id: C1, status: "unhealthy", connection_status: "error", suggestion: "Reconnect" }],
  [/^\/v1\/connections\/[^/]+\/sync/, { data: [{ service: "calendar", status: "idle", last_success_at: "2024-01-01T00:00:00Z", last_run_id: "r1" }] }],
  [/^\/v1\/connections\/summary/, { connections: { total: 7, active: 5, refreshing: 0, error: 1, reauthorization_required: 1, disabled: 0, revoked: 0 }, open_incidents: 2, incidents: [{ connection_id: C1, provider: "google", end_user_id: "user-1", incident_since: "2024-01-03T00:00:00Z", last_error: { kind: "token_rejected", message: "the provider refused the token" } }] }],
  [/^\/v1\/connections\/[^/?]+$/, connection],
  [/^\/v1\/connections/, { data: [connection], next_cursor: "n1" }],
  [/^\/v1\/sync-runs\//, { id: "r1", connection_id: C1, status: "succeeded", trigger: "manual", pages: 2, items: { created: 1 } }],
  [/^\/v1\/admin\/usage/, { from: "2024-01-01", to: "2024-01-30", data: [{ tenant_id: "t1", connections: { active: 5, error: 1, total: 6 }, days: [{ day: "2024-01-01", api_calls: 3, proxied_calls: 1, refreshes: 2 }, { day: "2024-01-02", api_calls: 5, proxied_calls: 0, refreshes: 1 }], api_calls: 8 }] }],
  [/^\/v1\/admin\/providers/, { data: [{ provider: "google", enabled: true, switches: [] }] }],
  [/^\/v1\/providers/, { data: [{ id: "google", display_name: "Google", auth: "oauth2", services: { calendar: { read: ["a"], read_write: ["b"] } } }, { id: "stripe", display_name: "Stripe", auth: "api_key", services: {} }] }],
  [/^\/v1\/integrations/, { data: [{ provider: "google", client_id: "cid", client_secret_set: true, services: [], extra_scopes: [], enabled: true, allow_reassignment: false, version: 1, created_at: "2024-01-01T00:00:00Z", updated_at: "2024-01-01T00:00:00Z", conflict_policies: {} }] }],
  [/^\/v1\/conflicts\/[^/?]+$/, { id: "k1", connection_id: C1, external_id: "ev1", status: "open", policy: "manual", host_event: { title: "A", start: { date_time: "1" } }, provider_event: { title: "B", start: { date_time: "1" } }, differences: [{ field: "title" }] }],
  [/^\/v1\/conflicts/, { data: [{ id: "k1", connection_id: C1, external_id: "ev1", status: "open", host_event: { title: "A" }, differences: [{ field: "title" }] }], next_cursor: null }],
  [/^\/v1\/webhook-endpoints/, { data: [{ id: "e1", url: "https://x.example/h", description: "", event_types: [], enabled: true, disabled_reason: null, max_concurrency: 4, failing_since: null, last_success_at: null, secret_version: 1, previous_secret_signs_until: null, version: 1, created_at: "2024-01-01T00:00:00Z", updated_at: "2024-01-01T00:00:00Z" }], next_cursor: null }],
  [/^\/v1\/webhook-deliveries/, { data: [{ id: "d1", endpoint_id: "e1", event_type: "event.created", state: "failed", attempts: 2, last_status_code: 500, last_error: "boom", created_at: "2024-01-01T00:00:00Z" }], next_cursor: null }],
  [/^\/v1\/audit/, { data: [{ tenant_id: "t", seq: 1, id: "a1", occurred_at: "2024-01-01T00:00:00Z", actor: { kind: "api_key", id: "k" }, action: "api_key.create", target: "api_keys/k", outcome: "success", request_id: "r", details: {}, leaf_hash: "l", chain_hash: "c" }], next_cursor: "x" }],
  [/^\/v1\/tenants/, { data: [{ id: "t1", name: "Acme", return_url_origins: [], created_at: "2024-01-01T00:00:00Z", logo: null }], next_cursor: null }],
  [/^\/v1\/api-keys/, { data: [{ id: "k1", tenant_id: "t", name: "backend", scopes: ["read"], created_at: "2024-01-01T00:00:00Z" }], next_cursor: null }],
  [/^\/v1\/dashboard-users/, { data: [{ id: "u2", email: "v@example.com", name: "V", role: "viewer", created_at: "2024-01-01T00:00:00Z", locked_until: null }] }],
];

const requested: string[] = [];

function fakeFetch(input: RequestInfo | URL): Promise<Response> {
  const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url, "http://localhost");
  requested.push(url.pathname + url.search);
  const hit = routes.find(([re]) => re.test(url.pathname + url.search));
  const body = hit ? hit[1] : { type: "about:blank", title: "Not Found", status: 404 };
  return Promise.resolve(new Response(JSON.stringify(body), { status: hit ? 200 : 404, headers: { "Content-Type": "application/json" } }));
}

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const kInteractive = 'button, a, input, select, textarea, summary, [role="button"], [tabindex]';

async function settle() {
  for (let i = 0; i < 8; i++) await act(async () => new Promise((r) => setTimeout(r, 5)));
}

// openapi-fetch takes globalThis.fetch when the client is created: import the app after faking it.
let App: typeof import("../src/App").App;
beforeAll(async () => {
  globalThis.fetch = fakeFetch as typeof fetch;
  ({ App } = await import("../src/App"));
});

let root: Root;
let container: HTMLElement;
beforeEach(() => {
  globalThis.fetch = fakeFetch as typeof fetch;
  container = document.createElement("div");
  document.body.appendChild(container);
  root = createRoot(container);
});
afterEach(() => {
  act(() => root.unmount());
  container.remove();
});

// An element each page shows once its data has loaded.
const kPages: [string, string][] = [
  ["/", "overview-incident-" + C1],
  ["/connections", `connections-row-${C1}-disconnect`],
  [`/connections/${C1}`, "connection-detail-sync-button"],
  [`/connections/${C1}`, "connection-detail-older-incidents"],
  ["/integrations", "integrations-row-google-edit"],
  ["/conflicts", "conflicts-row-k1-open"],
  ["/conflicts/k1", "conflict-resolve-provider"],
  ["/webhooks", "webhooks-delivery-d1-retry"],
  ["/audit", "audit-export-csv"],
  ["/admin", "admin-user-u2-delete"],
  ["/nope", "notfound-home"],
  ["/sign-in", "signin-oidc-microsoft"],
];

describe("pages", () => {
  for (const [page, expected] of kPages) {
    it(`${page}: unique hyphenated ids on interactive elements, labelled inputs, one main`, async () => {
      window.history.replaceState(null, "", `${import.meta.env.BASE_URL.replace(/\/$/, "")}${page}`);
      await act(async () => root.render(<App />));
      await settle();
      expect(document.getElementById(expected), `#${expected} in ${document.body.innerHTML.slice(0, 1500)}`).not.toBeNull();
      const ids = new Set<string>();
      const elements = [...document.querySelectorAll<HTMLElement>(kInteractive)];
      expect(elements.length).toBeGreaterThan(3);
      for (const el of elements) {
        expect(el.id, el.outerHTML.slice(0, 120)).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
        expect(ids.has(el.id), `duplicate id ${el.id}`).toBe(false);
        ids.add(el.id);
      }
      for (const input of document.querySelectorAll("input, select, textarea")) {
        expect(document.querySelector(`label[for="${input.id}"]`), `label for ${input.id}`).not.toBeNull();
      }
      expect(document.querySelectorAll("main")).toHaveLength(1);
      expect(document.querySelector("h1")).not.toBeNull();
    });
  }
});

describe("overview", () => {
  async function renderOverviewAs(role: string) {
    const session = routes.find(([re]) => re.test("/v1/session"))!;
    const saved = session[1];
    session[1] = { ...(saved as object), user: { ...(saved as { user: object }).user, role } };
    requested.length = 0;
    try {
      window.history.replaceState(null, "", `${import.meta.env.BASE_URL.replace(/\/$/, "")}/`);
      await act(async () => root.render(<App />));
      await settle();
    } finally {
      session[1] = saved;
    }
  }
  for (const role of ["viewer", "operator"]) {
    it(`shows a ${role} the connections by status and the open incidents from the summary`, async () => {
      await renderOverviewAs(role);
      expect(requested.some((u) => u.startsWith("/v1/connections/summary"))).toBe(true);
      const chart = document.getElementById("overview-status-chart");
      expect(chart, document.body.innerHTML.slice(0, 1500)).not.toBeNull();
      expect(chart!.textContent).toContain("active 5");
      expect(chart!.textContent).toContain("reauthorization required 1");
      expect(document.getElementById("overview-connections-total")?.textContent).toBe("7 connections");
      expect(document.getElementById("overview-incidents-count")?.textContent).toBe("2");
      const incident = document.getElementById(`overview-incident-${C1}`) as HTMLAnchorElement | null;
      expect(incident?.getAttribute("href")).toMatch(new RegExp(`/connections/${C1}$`));
      expect(incident?.closest("li")?.textContent).toContain("token rejected: the provider refused the token");
      expect(document.getElementById("overview-lag-chart")?.textContent).toContain("> 1 d 1");
      // Usage over time needs the admin role (GET /v1/admin/usage is refused to a viewer).
      expect(document.getElementById("overview-usage-chart") !== null).toBe(role !== "viewer");
      expect(requested.some((u) => u.startsWith("/v1/admin/usage"))).toBe(role !== "viewer");
    });
  }
});

describe("connection detail", () => {
  it("shows the health history newest first, an open incident as ongoing", async () => {
    window.history.replaceState(null, "", `${import.meta.env.BASE_URL.replace(/\/$/, "")}/connections/${C1}`);
    await act(async () => root.render(<App />));
    await settle();
    const rows = [...document.querySelectorAll("#cd-health-history-scroll tbody tr")].map((r) => r.textContent);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain("ongoing");
    expect(rows[0]).toContain("token rejected: the provider refused the token");
    expect(rows[1]).toContain("2 h 5 min");
  });
});

describe("sign-in with a provider", () => {
  it("offers the configured providers and explains a failed provider sign-in once", async () => {
    const base = import.meta.env.BASE_URL.replace(/\/$/, "");
    window.history.replaceState(null, "", `${base}/sign-in?sign_in_error=no_user`);
    await act(async () => root.render(<App />));
    await settle();
    expect(document.getElementById("signin-oidc-google")?.textContent).toBe("Sign in with Google");
    expect(document.getElementById("signin-error")?.textContent).toContain("No dashboard user of this workspace");
    expect(window.location.search).toBe("");
  });
});

describe("dialogs", () => {
  it("the disconnect dialog names the account, closes on Escape and gives focus back", async () => {
    window.history.replaceState(null, "", `${import.meta.env.BASE_URL.replace(/\/$/, "")}/connections`);
    await act(async () => root.render(<App />));
    await settle();
    const opener = document.getElementById(`connections-row-${C1}-disconnect`)!;
    opener.focus();
    await act(async () => opener.click());
    const dialog = document.getElementById("dialog-disconnect")!;
    expect(dialog.textContent).toContain("a@example.com");
    expect(document.activeElement?.id).toBe("dialog-disconnect-cancel");
    await act(async () => dialog.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true })));
    expect(document.getElementById("dialog-disconnect")).toBeNull();
    expect(document.activeElement).toBe(opener);
  });
  it("the reconnect dialog gives the focus to the link it creates (the form that had it is gone)", async () => {
    window.history.replaceState(null, "", `${import.meta.env.BASE_URL.replace(/\/$/, "")}/connections`);
    await act(async () => root.render(<App />));
    await settle();
    await act(async () => document.getElementById(`connections-row-${C1}-reconnect`)!.click());
    const create = document.getElementById("dialog-reconnect-create")!;
    create.focus();
    await act(async () => (document.getElementById("dialog-reconnect-form") as HTMLFormElement).requestSubmit());
    await settle();
    expect((document.getElementById("dialog-reconnect-link-value") as HTMLInputElement | null)?.value).toBe("http://localhost/connect/tok");
    expect(document.activeElement?.id).toBe("dialog-reconnect-link-value");
  });
});
