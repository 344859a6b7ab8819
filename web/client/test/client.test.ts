// The client against a fake fetch that records each Request and answers a canned Response.
// Run by `npm run check` (compiled by tsc, then `node --test`).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  createSwitchboardClient,
  isProblem,
  problemOf,
  type SwitchboardClientOptions,
} from "../src/index.js";

const kBase = "http://hub.test";
const kConnection = "0193a5f0-0000-7000-8000-000000000001";

interface FakeFetch {
  fetch: typeof fetch;
  requests: Request[];
}

// A fetch that records what it is given and answers `answer()` (an empty 200 JSON object).
function fakeFetch(answer: () => Response = () => Response.json({})): FakeFetch {
  const requests: Request[] = [];
  const fake = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    requests.push(input instanceof Request ? input : new Request(input, init));
    return answer();
  };
  return { fetch: fake as typeof fetch, requests };
}

function clientWith(options: Omit<SwitchboardClientOptions, "baseUrl" | "fetch">) {
  const fake = fakeFetch();
  const client = createSwitchboardClient({ baseUrl: kBase, fetch: fake.fetch, ...options });
  return { client, requests: fake.requests };
}

// One call of each method, in the order GET, POST, PUT, PATCH, DELETE.
async function callEveryMethod(client: ReturnType<typeof createSwitchboardClient>) {
  await client.GET("/v1/connections");
  await client.POST("/v1/tenants", { body: { name: "Acme" } });
  await client.PUT("/v1/integrations/{provider}", {
    params: { path: { provider: "google" } },
    body: { client_id: "cid", enabled: true, allow_reassignment: false },
  });
  await client.PATCH("/v1/tenants/{id}", {
    params: { path: { id: "t1" } },
    body: { return_url_origins: ["http://localhost:3000"] },
  });
  await client.DELETE("/v1/api-keys/{id}", { params: { path: { id: "k1" } } });
}

describe("authentication", () => {
  test("an API key is sent as a bearer token on every method", async () => {
    const { client, requests } = clientWith({ apiKey: "sb_live_abc" });
    await callEveryMethod(client);
    assert.deepEqual(
      requests.map((r) => [r.method, r.headers.get("Authorization")]),
      [
        ["GET", "Bearer sb_live_abc"],
        ["POST", "Bearer sb_live_abc"],
        ["PUT", "Bearer sb_live_abc"],
        ["PATCH", "Bearer sb_live_abc"],
        ["DELETE", "Bearer sb_live_abc"],
      ],
    );
  });

  test("the CSRF token goes on unsafe methods only, and no Authorization header", async () => {
    const { client, requests } = clientWith({ csrfToken: "csrf-1" });
    await callEveryMethod(client);
    assert.deepEqual(
      requests.map((r) => [r.method, r.headers.get("X-CSRF-Token")]),
      [
        ["GET", null],
        ["POST", "csrf-1"],
        ["PUT", "csrf-1"],
        ["PATCH", "csrf-1"],
        ["DELETE", "csrf-1"],
      ],
    );
    assert.ok(requests.every((r) => !r.headers.has("Authorization")));
  });

  test("a CSRF token function is asked on each unsafe request", async () => {
    let token: string | undefined = undefined;
    const { client, requests } = clientWith({ csrfToken: () => token });
    await client.POST("/v1/tenants", { body: { name: "before sign-in" } });
    token = "rotated-2";
    await client.POST("/v1/tenants", { body: { name: "after" } });
    assert.equal(requests[0]?.headers.get("X-CSRF-Token"), null);
    assert.equal(requests[1]?.headers.get("X-CSRF-Token"), "rotated-2");
  });

  test("with an API key no CSRF token is sent", async () => {
    const { client, requests } = clientWith({ apiKey: "sb_live_abc", csrfToken: "csrf-1" });
    await callEveryMethod(client);
    assert.equal(requests.length, 5);
    assert.ok(requests.every((r) => !r.headers.has("X-CSRF-Token")));
  });

  test("cookie sign-in sends credentials same-origin unless told otherwise", async () => {
    const session = clientWith({ csrfToken: "csrf-1" });
    await session.client.GET("/v1/connections");
    assert.equal(session.requests[0]?.credentials, "same-origin");

    const other = clientWith({ csrfToken: "csrf-1", credentials: "include" });
    await other.client.GET("/v1/connections");
    assert.equal(other.requests[0]?.credentials, "include");

    const keyed = clientWith({ apiKey: "sb_live_abc", credentials: "omit" });
    await keyed.client.GET("/v1/connections");
    assert.equal(keyed.requests[0]?.credentials, "omit");
  });
});

describe("requests", () => {
  test("path parameters are substituted and percent-encoded", async () => {
    const { client, requests } = clientWith({ apiKey: "k" });
    await client.GET("/v1/connections/{id}/events/by-external-id/{external_id}", {
      params: { path: { id: kConnection, external_id: "order/42 #ä?x" } },
    });
    assert.equal(
      requests[0]?.url,
      `${kBase}/v1/connections/${kConnection}/events/by-external-id/order%2F42%20%23%C3%A4%3Fx`,
    );
  });

  test("the proxy's {path...} keeps its slashes and encodes each segment", async () => {
    const { client, requests } = clientWith({ apiKey: "k" });
    await client.GET("/v1/proxy/{id}/{path...}", {
      params: { path: { id: kConnection, "path...": "calendar/v3/calendars/a b@x.com/events" } },
    });
    assert.equal(
      requests[0]?.url,
      `${kBase}/v1/proxy/${kConnection}/calendar/v3/calendars/a%20b%40x.com/events`,
    );
  });

  test("a base URL with a path prefix and a trailing slash is joined once", async () => {
    const fake = fakeFetch();
    const client = createSwitchboardClient({ baseUrl: `${kBase}/hub/`, fetch: fake.fetch });
    await client.GET("/v1/tenants/{id}", { params: { path: { id: "t1" } } });
    assert.equal(fake.requests[0]?.url, `${kBase}/hub/v1/tenants/t1`);
  });

  test("query parameters are serialised, undefined ones left out", async () => {
    const { client, requests } = clientWith({ apiKey: "k" });
    await client.GET("/v1/connections/{id}/events", {
      params: {
        path: { id: kConnection },
        query: {
          time_min: "2026-12-01T00:00:00+01:00",
          limit: 500,
          expand_recurring: "true",
          cursor: undefined,
        },
      },
    });
    const url = new URL(requests[0]?.url ?? "");
    assert.equal(url.pathname, `/v1/connections/${kConnection}/events`);
    assert.deepEqual(
      [...url.searchParams],
      [
        ["time_min", "2026-12-01T00:00:00+01:00"],
        ["limit", "500"],
        ["expand_recurring", "true"],
      ],
    );
    // "+" must be encoded, or the server would read a space.
    assert.match(url.search, /time_min=2026-12-01T00%3A00%3A00%2B01%3A00/);
  });

  test("a JSON body is sent with its content type and the answer is parsed", async () => {
    const tenant = { id: "t1", name: "Acme", return_url_origins: [], created_at: "2026-01-01T00:00:00Z" };
    const fake = fakeFetch(() => Response.json(tenant, { status: 201 }));
    const client = createSwitchboardClient({ baseUrl: kBase, apiKey: "k", fetch: fake.fetch });
    const { data, error } = await client.POST("/v1/tenants", { body: { name: "Acme" } });
    assert.equal(error, undefined);
    assert.deepEqual(data, tenant);
    const request = fake.requests[0];
    assert.equal(request?.headers.get("Content-Type"), "application/json");
    assert.deepEqual(await request?.json(), { name: "Acme" });
  });

  test("compile-time: paths and parameters are typed", async () => {
    const { client } = clientWith({ apiKey: "k" });
    // Each @ts-expect-error fails `tsc` if the generated types stop catching the mistake.
    // @ts-expect-error: no such path
    await client.GET("/v1/no-such-path");
    // @ts-expect-error: the path parameter is required
    await client.GET("/v1/connections/{id}", {});
    // @ts-expect-error: TenantCreate needs a string name
    await client.POST("/v1/tenants", { body: { name: 42 } });
  });
});

describe("problems", () => {
  const kProblem = {
    type: "urn:switchboard:problem:not-found",
    title: "Not Found",
    status: 404,
    detail: "no connection with this id",
    request_id: "req-7",
  };

  test("an error answer's problem+json body becomes a Problem", async () => {
    const fake = fakeFetch(
      () =>
        new Response(JSON.stringify({ ...kProblem, extra: "ignored", instance: 7 }), {
          status: 404,
          headers: { "Content-Type": "application/problem+json" },
        }),
    );
    const client = createSwitchboardClient({ baseUrl: kBase, apiKey: "k", fetch: fake.fetch });
    const { data, error, response } = await client.GET("/v1/connections/{id}", {
      params: { path: { id: kConnection } },
    });
    assert.equal(data, undefined);
    assert.equal(response.status, 404);
    assert.ok(isProblem(error));
    // Unknown members are dropped, an optional member of the wrong type too.
    assert.deepEqual(problemOf(error, response), kProblem);
  });

  test("a body that is not a problem takes the response's status", async () => {
    const fake = fakeFetch(
      () => new Response("<html>upstream down</html>\n", { status: 502, statusText: "Bad Gateway" }),
    );
    const client = createSwitchboardClient({ baseUrl: kBase, apiKey: "k", fetch: fake.fetch });
    const { error, response } = await client.GET("/v1/connections");
    assert.equal(isProblem(error), false);
    assert.deepEqual(problemOf(error, response), {
      type: "about:blank",
      title: "Bad Gateway",
      status: 502,
      detail: "<html>upstream down</html>",
    });
  });

  test("missing required members get RFC 9457's defaults", () => {
    const response = new Response(null, { status: 429, statusText: "Too Many Requests" });
    assert.deepEqual(problemOf({ detail: "slow down", status: "429" }, response), {
      type: "about:blank",
      title: "Too Many Requests",
      status: 429,
      detail: "slow down",
    });
    assert.deepEqual(problemOf(undefined), { type: "about:blank", title: "Request failed", status: 0 });
  });
});
