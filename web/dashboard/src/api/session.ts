// The session and dashboard-user routes, which openapi.json does not describe yet: a small typed
// wrapper over fetch. Everything else goes through @switchboard/client (api/client.ts).
// The CSRF token lives only in memory (never in storage); unsafe methods send it.
import { kCsrfHeader, problemOf, type Problem } from "@switchboard/client";

export type Role = "operator" | "admin" | "viewer";

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  tenant_id: string;
  tenant_name: string;
}

export interface Session {
  user: SessionUser;
  csrf_token: string;
  expires_at: string;
}

export interface DashboardUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  created_at: string;
  locked_until: string | null;
  /** Optional in older servers' answers. */
  password_set?: boolean;
  /** The OpenID Connect provider the user signs in with; null until a first such sign-in. */
  oidc_provider?: string | null;
}

export interface NewDashboardUser {
  email: string;
  name: string;
  role: Role;
  /** Left out: the user signs in with an OpenID Connect provider only. */
  password?: string;
}

/** A failed call: the problem+json body, and for 429 the seconds Retry-After asks to wait. */
export class ApiError extends Error {
  readonly problem: Problem;
  readonly retryAfterSeconds: number | null;
  constructor(problem: Problem, retryAfterSeconds: number | null = null) {
    super(problem.detail ?? problem.title);
    this.name = "ApiError";
    this.problem = problem;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Retry-After as seconds: delta-seconds or an HTTP date (relative to `now`); null when absent. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null || value.trim() === "") return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

let csrfToken: string | undefined;

/** The CSRF token of the current session (memory only). */
export function currentCsrfToken(): string | undefined {
  return csrfToken;
}

export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

export interface SessionApiOptions {
  fetch?: typeof fetch;
  baseUrl?: string;
}

/** The session and dashboard-user calls; `sessionApi` below is the app's instance. */
export function createSessionApi(options: SessionApiOptions = {}) {
  const baseUrl = options.baseUrl ?? "";
  const doFetch = (input: string, init: RequestInit) => (options.fetch ?? globalThis.fetch)(input, init);

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers = new Headers({ Accept: "application/json, application/problem+json" });
    if (body !== undefined) headers.set("Content-Type", "application/json");
    if (method !== "GET" && method !== "HEAD" && csrfToken) headers.set(kCsrfHeader, csrfToken);
    const response = await doFetch(baseUrl + path, {
      method,
      headers,
      credentials: "same-origin",
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      // not JSON: problemOf keeps the text as detail
    }
    if (!response.ok) {
      throw new ApiError(problemOf(parsed, response), parseRetryAfter(response.headers.get("Retry-After")));
    }
    return parsed as T;
  }

  return {
    /** Signs in; keeps the CSRF token in memory. Throws ApiError (401, or 429 with retryAfterSeconds). */
    async signIn(tenant: string, email: string, password: string): Promise<Session> {
      const session = await call<Session>("POST", "/v1/session", { tenant, email, password });
      csrfToken = session.csrf_token;
      return session;
    },
    /** The current session, or null when signed out (401). */
    async current(): Promise<Session | null> {
      try {
        const session = await call<Session>("GET", "/v1/session");
        csrfToken = session.csrf_token;
        return session;
      } catch (e) {
        if (e instanceof ApiError && e.problem.status === 401) {
          csrfToken = undefined;
          return null;
        }
        throw e;
      }
    },
    async signOut(): Promise<void> {
      try {
        await call<void>("DELETE", "/v1/session");
      } finally {
        csrfToken = undefined;
      }
    },
    async listUsers(): Promise<DashboardUser[]> {
      const page = await call<{ data: DashboardUser[] }>("GET", "/v1/dashboard-users");
      return page.data;
    },
    createUser(user: NewDashboardUser): Promise<DashboardUser> {
      return call<DashboardUser>("POST", "/v1/dashboard-users", user);
    },
    deleteUser(id: string): Promise<void> {
      return call<void>("DELETE", `/v1/dashboard-users/${encodeURIComponent(id)}`);
    },
  };
}

export type SessionApi = ReturnType<typeof createSessionApi>;

export const sessionApi: SessionApi = createSessionApi();
