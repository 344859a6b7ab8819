// The session and dashboard-user calls over the generated client (@switchboard/client), with
// the CSRF token of the session kept in memory only (never in storage) and sent on unsafe
// methods by the client's middleware.
import {
  createSwitchboardClient,
  problemOf,
  type components,
  type Problem,
} from "@switchboard/client";

type Schemas = components["schemas"];
export type Role = Schemas["DashboardRole"];
export type SessionUser = Schemas["DashboardSession"]["user"];
export type Session = Schemas["DashboardSession"];
export type DashboardUser = Schemas["DashboardUser"];
export type NewDashboardUser = Schemas["DashboardUserCreate"];

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
  const client = createSwitchboardClient({
    baseUrl: options.baseUrl ?? "",
    csrfToken: () => csrfToken,
    // openapi-fetch keeps the fetch it is given: look the global one up per call instead, so
    // that tests (and polyfills) installed later are used.
    fetch: options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init)),
  });

  /** The data of a 2xx answer; otherwise ApiError with the problem and any Retry-After. */
  async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
    const { data, error, response } = await call;
    if (!response.ok || error !== undefined) {
      throw new ApiError(problemOf(error, response), parseRetryAfter(response.headers.get("Retry-After")));
    }
    return data as T;
  }

  return {
    /** Signs in; keeps the CSRF token in memory. Throws ApiError (401, or 429 with retryAfterSeconds). */
    async signIn(tenant: string, email: string, password: string): Promise<Session> {
      const session = await unwrap(client.POST("/v1/session", { body: { tenant, email, password } }));
      csrfToken = session.csrf_token;
      return session;
    },
    /** The current session, or null when signed out (401). */
    async current(): Promise<Session | null> {
      try {
        const session = await unwrap(client.GET("/v1/session"));
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
        await unwrap(client.DELETE("/v1/session"));
      } finally {
        csrfToken = undefined;
      }
    },
    async listUsers(): Promise<DashboardUser[]> {
      const page = await unwrap(client.GET("/v1/dashboard-users"));
      return page.data;
    },
    createUser(user: NewDashboardUser): Promise<DashboardUser> {
      return unwrap(client.POST("/v1/dashboard-users", { body: user }));
    },
    async deleteUser(id: string): Promise<void> {
      await unwrap(client.DELETE("/v1/dashboard-users/{id}", { params: { path: { id } } }));
    },
  };
}

export type SessionApi = ReturnType<typeof createSessionApi>;

export const sessionApi: SessionApi = createSessionApi();
