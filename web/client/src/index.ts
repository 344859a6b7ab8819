// The typed client of the Switchboard REST API: an openapi-fetch client over the types that
// openapi-typescript generates from src/sb/api/openapi.json (schema.d.ts, `npm run generate`).
// A host app authenticates with an API key; the operator dashboard runs in the browser on the
// server's origin, signed in with a session cookie, and sends its CSRF token on unsafe methods.
import createClient, { defaultPathSerializer, type Client, type Middleware } from "openapi-fetch";
import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths };

/** The client createSwitchboardClient returns: openapi-fetch's, typed by the API's paths. */
export type SwitchboardClient = Client<paths>;

export interface SwitchboardClientOptions {
  /** Where the API is served, without /v1 (the paths carry it): "https://hub.example.com". */
  baseUrl: string;
  /**
   * An API key ("sb_live_..."), sent as `Authorization: Bearer <key>`. With a key no CSRF
   * token is sent: key-authenticated requests are not cookie-authenticated.
   */
  apiKey?: string;
  /**
   * The session's CSRF token (browser sign-in only), sent as X-CSRF-Token on POST, PUT, PATCH
   * and DELETE. A function is asked on every such request, so a rotated token is picked up.
   */
  csrfToken?: string | (() => string | undefined);
  /** The fetch to use; globalThis.fetch by default (tests pass a fake). */
  fetch?: typeof fetch;
  /**
   * Defaults to "same-origin" without an API key (the session cookie goes along); with a key,
   * fetch's own default.
   */
  credentials?: RequestCredentials;
}

const kUnsafeMethods = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The header that carries the session's CSRF token. */
export const kCsrfHeader = "X-CSRF-Token";

// A final "{name...}" path segment (the proxy's provider path) takes the rest of the path.
const kRestParam = /\{([^{}]+\.\.\.)\}/g;

/**
 * Returns a client whose GET/POST/PUT/PATCH/DELETE take the API's paths ("/v1/connections/{id}")
 * with typed `params: { path, query, header }` and `body`, and resolve to
 * `{ data, error, response }`: `data` on 2xx, `error` (the problem+json body, see problemOf)
 * otherwise. Network failures reject.
 */
export function createSwitchboardClient(options: SwitchboardClientOptions): SwitchboardClient {
  const { baseUrl, apiKey, csrfToken } = options;
  const credentials = options.credentials ?? (apiKey ? undefined : "same-origin");
  const client = createClient<paths>({
    baseUrl,
    pathSerializer: switchboardPathSerializer,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(credentials ? { credentials } : {}),
    ...(apiKey ? { headers: { Authorization: `Bearer ${apiKey}` } } : {}),
  });
  if (!apiKey && csrfToken !== undefined) {
    client.use(csrfMiddleware(csrfToken));
  }
  return client;
}

/**
 * openapi-fetch's path serializer (every parameter percent-encoded as one segment), except that
 * a "{name...}" parameter, such as the proxy's `path...`, is encoded segment by segment so that
 * its slashes stay separators: { "path...": "calendar/v3/users/me" } stays four segments.
 */
export function switchboardPathSerializer(
  pathname: string,
  pathParams: Record<string, unknown>,
): string {
  const withRest = pathname.replace(kRestParam, (placeholder, name: string) => {
    const value = pathParams[name];
    if (value === undefined || value === null) return placeholder;
    return String(value).split("/").map(encodeURIComponent).join("/");
  });
  return defaultPathSerializer(withRest, pathParams);
}

function csrfMiddleware(token: string | (() => string | undefined)): Middleware {
  return {
    onRequest({ request }) {
      if (!kUnsafeMethods.has(request.method) || request.headers.has(kCsrfHeader)) {
        return undefined;
      }
      const value = typeof token === "function" ? token() : token;
      if (value) {
        request.headers.set(kCsrfHeader, value);
      }
      return request;
    },
  };
}

/** An RFC 9457 problem document, the body of every API error. */
export type Problem = components["schemas"]["Problem"];

/** True when `value` has the members a Problem requires (type, title, status). */
export function isProblem(value: unknown): value is Problem {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.type === "string" && typeof v.title === "string" && Number.isInteger(v.status);
}

/**
 * Turns the `error` of a failed call (with its `response`, when at hand) into a Problem: the
 * members of a problem+json body (optional ones only when they are strings), RFC 9457's
 * defaults for the required ones it lacks (type "about:blank", the response's status and status
 * text), and a body that is not JSON (a proxy's error page) as `detail`.
 */
export function problemOf(error: unknown, response?: Response): Problem {
  const body = typeof error === "object" && error !== null ? (error as Record<string, unknown>) : {};
  const problem: Problem = {
    type: typeof body.type === "string" ? body.type : "about:blank",
    title: typeof body.title === "string" ? body.title : response?.statusText || "Request failed",
    status: Number.isInteger(body.status) ? (body.status as number) : (response?.status ?? 0),
  };
  for (const key of ["detail", "instance", "request_id"] as const) {
    const member = body[key];
    if (typeof member === "string") problem[key] = member;
  }
  if (typeof error === "string" && error.trim() !== "") problem.detail = error.trim();
  return problem;
}
