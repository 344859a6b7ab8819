import { beforeEach, describe, expect, it } from "vitest";
import { ApiError, createSessionApi, currentCsrfToken, parseRetryAfter, setCsrfToken } from "../src/api/session";

type Call = { url: string; method: string; headers: Headers; body?: string };

// openapi-fetch calls fetch with a Request; `url` keeps only path and query.
function fakeFetch(responses: Response[]) {
  const calls: Call[] = [];
  const fn = (async (input: Request | string, init?: RequestInit) => {
    const request = typeof input === "string" ? new Request(new URL(input, "http://localhost"), init) : input;
    const url = new URL(request.url);
    const body = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
    calls.push({ url: url.pathname + url.search, method: request.method, headers: request.headers, body: body || undefined });
    const r = responses.shift();
    if (!r) throw new Error("no more responses");
    return r;
  }) as unknown as typeof fetch;
  return { fn, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": status < 300 ? "application/json" : "application/problem+json", ...headers } });

const session = {
  user: { id: "u1", email: "a@example.com", name: "A", role: "operator", tenant_id: "00000000-0000-0000-0000-000000000000", tenant_name: "System" },
  csrf_token: "csrf-1",
  expires_at: "2030-01-01T00:00:00Z",
};

describe("session calls over the generated client", () => {
  beforeEach(() => setCsrfToken(undefined));

  it("signs in, keeps the CSRF token in memory and sends it on unsafe methods only", async () => {
    const { fn, calls } = fakeFetch([json(200, session), json(200, { data: [] }), new Response(null, { status: 204 })]);
    const api = createSessionApi({ fetch: fn });
    const s = await api.signIn("00000000-0000-0000-0000-000000000000", "a@example.com", "pw");
    expect(s.user.role).toBe("operator");
    expect(currentCsrfToken()).toBe("csrf-1");
    expect(calls[0]!.method).toBe("POST");
    expect(JSON.parse(calls[0]!.body!)).toEqual({ tenant: "00000000-0000-0000-0000-000000000000", email: "a@example.com", password: "pw" });
    expect(await api.listUsers()).toEqual([]);
    expect(calls[1]!.headers.has("X-CSRF-Token")).toBe(false);
    await api.deleteUser("u 2");
    expect(calls[2]!.url).toBe("/v1/dashboard-users/u%202");
    expect(calls[2]!.headers.get("X-CSRF-Token")).toBe("csrf-1");
  });

  it("turns a 401 into ApiError with the problem, and current() into null", async () => {
    const problem = { type: "about:blank", title: "Unauthorized", status: 401, detail: "wrong credentials" };
    const { fn } = fakeFetch([json(401, problem), json(401, problem)]);
    const api = createSessionApi({ fetch: fn });
    await expect(api.signIn("t", "e", "p")).rejects.toMatchObject({ problem: { status: 401, detail: "wrong credentials" } });
    expect(await api.current()).toBeNull();
  });

  it("reports the lockout's Retry-After", async () => {
    const { fn } = fakeFetch([json(429, { type: "about:blank", title: "Too Many Requests", status: 429 }, { "Retry-After": "120" })]);
    const api = createSessionApi({ fetch: fn });
    const err = await api.signIn("t", "e", "p").catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.retryAfterSeconds).toBe(120);
  });

  it("forgets the token on sign-out even when the call fails", async () => {
    setCsrfToken("x");
    const { fn } = fakeFetch([json(500, { type: "about:blank", title: "Internal", status: 500 })]);
    await expect(createSessionApi({ fetch: fn }).signOut()).rejects.toBeInstanceOf(ApiError);
    expect(currentCsrfToken()).toBeUndefined();
  });

  it("parses Retry-After as seconds or a date", () => {
    expect(parseRetryAfter("30")).toBe(30);
    expect(parseRetryAfter(new Date(1_000_000 + 61_000).toUTCString(), 1_000_000)).toBe(61);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter("soon")).toBeNull();
  });
});
