// Browser tests of the operator dashboard (/dashboard/): sign-in and sign-out, every page's
// ids, axe-core, narrow-screen and keyboard checks (with each confirmation and secret dialog
// open), a manual sync with its progress and the live stream, a conflict resolved, a webhook
// delivery retried, the audit log exported and its chain verified, a provider switched off and
// on, a connection disconnected and reconnected, a webhook secret rotated, an API key created
// and revoked, an integration edited, each action audited with the signed-in user as actor, and
// screenshots for docs/screenshots/. Started by run.sh (after connect.test.mjs), which provides:
//   SB_BASE_URL, SB_API_KEY (read,write), SB_ADMIN_API_KEY (read,admin), SB_TENANT_ID, SB_SYSTEM_TENANT_ID,
//   SB_ADMIN_EMAIL / SB_ADMIN_PASSWORD (the tenant's admin), SB_VIEWER_EMAIL /
//   SB_VIEWER_PASSWORD (its viewer), SB_OPERATOR_EMAIL / SB_OPERATOR_PASSWORD (an operator of
//   the system tenant), SANDBOX_GOOGLE_URL, SANDBOX_KEYED_URL, CHROMIUM, SCREENSHOT_DIR.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { seriousAxeViolations } from './checks.mjs';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: start the tests with tests/browser/run.sh`);
  return value;
};
const BASE_URL = env('SB_BASE_URL');
const API_KEY = env('SB_API_KEY');
const ADMIN_API_KEY = env('SB_ADMIN_API_KEY');
const TENANT_ID = env('SB_TENANT_ID');
const SYSTEM_TENANT_ID = env('SB_SYSTEM_TENANT_ID');
const ADMIN = { tenant: TENANT_ID, email: env('SB_ADMIN_EMAIL'), password: env('SB_ADMIN_PASSWORD') };
const VIEWER = {
  tenant: TENANT_ID, email: env('SB_VIEWER_EMAIL'), password: env('SB_VIEWER_PASSWORD'),
};
const OPERATOR = {
  tenant: SYSTEM_TENANT_ID, email: env('SB_OPERATOR_EMAIL'), password: env('SB_OPERATOR_PASSWORD'),
};
const GOOGLE_URL = env('SANDBOX_GOOGLE_URL');
const KEYED_URL = env('SANDBOX_KEYED_URL');
const SCREENSHOT_DIR = env('SCREENSHOT_DIR');
const DASHBOARD = `${BASE_URL}/dashboard`;

// The sandbox's --demo credentials (sandbox/README.md).
const DEMO_GOOGLE_CLIENT = 'switchboard-demo.apps.googleusercontent.com';
const DEMO_CLIENT_SECRET = 'sandbox-demo-secret';

const WIDE = { width: 1280, height: 800 };
const NARROW_WIDTH = 360;
const STEP_MS = 30_000;  // one navigation, wait or API call (ASan builds on a busy machine)

let browser;
let returnServer;
let returnOrigin;
let hookServer;  // the failing webhook endpoint: 410 Gone, then 500 to every delivery
let hookHits = 0;
let endpointId;
let connectionId;  // a Google connection made through the hosted Connect page

async function api(method, urlPath, body, headers = {}) {
  const response = await fetch(BASE_URL + urlPath, {
    method,
    headers: {
      Authorization: `Bearer ${API_KEY}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(STEP_MS),
  });
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: keep the text */ }
  return { status: response.status, json, text, headers: response.headers };
}

async function apiOk(method, urlPath, body, headers) {
  const result = await api(method, urlPath, body, headers);
  assert.ok(result.status >= 200 && result.status < 300,
            `${method} ${urlPath}: ${result.status} ${result.text}`);
  return result.json;
}

// Calls `probe` every 250 ms until it answers something truthy (which it returns), for STEP_MS.
async function eventually(what, probe) {
  const deadline = Date.now() + STEP_MS;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function listen(handler) {
  const server = http.createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function newContext(t, viewport = WIDE) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  t.after(() => context.close());
  return context;
}

// Signs in through the sign-in page and waits for the dashboard's navigation.
async function signIn(t, who, { viewport } = {}) {
  const context = await newContext(t, viewport);
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  await page.goto(`${DASHBOARD}/`);
  await page.locator('#signin-tenant').fill(who.tenant);
  await page.locator('#signin-email').fill(who.email);
  await page.locator('#signin-password').fill(who.password);
  await page.locator('#signin-submit').click();
  await page.locator('#nav-overview').waitFor();
  return page;
}

// Opens a dashboard path and waits until its heading is there and nothing is loading.
async function visit(page, dashboardPath) {
  await page.goto(`${DASHBOARD}${dashboardPath}`);
  await settled(page);
}

async function settled(page) {
  await page.locator('main h1').first().waitFor();
  await page.waitForFunction(() => !document.body.innerText.includes('Loading…'));
}

// Waits until the audit table shows at least two rows in the given order of sequence numbers
// (the first cell of each row); fails with the rows it last saw.
async function waitForAuditOrder(page, order) {
  await page.waitForFunction((order) => {
    const cells = [...document.querySelectorAll('tr[id^="audit-row-"] td:first-child')];
    const seqs = cells.map((cell) => Number(cell.textContent));
    if (seqs.length < 2) return false;
    return order === 'asc' ? seqs[0] < seqs[1] : seqs[0] > seqs[seqs.length - 1];
  }, order).catch(async (error) => {
    const seqs = await page.locator('tr[id^="audit-row-"] td:first-child').allInnerTexts();
    throw new Error(`audit rows not in ${order} order: [${seqs}] (${error.message})`);
  });
}

async function screenshot(page, name) {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, name) });
}

// Interactive elements without an id, or whose id another element also has (UI.md).
function idProblems(page) {
  return page.evaluate(() => {
    const interactive = 'a, button, input:not([type=hidden]), select, textarea, summary, ' +
                        '[role=button], [tabindex]';
    const problems = [];
    for (const el of document.querySelectorAll(interactive)) {
      const name = `${el.localName} "${el.textContent.trim().slice(0, 40)}"`;
      if (!el.id) problems.push(`no id: ${name}`);
      else if (document.querySelectorAll(`[id="${CSS.escape(el.id)}"]`).length > 1) {
        problems.push(`duplicate id ${el.id}: ${name}`);
      }
    }
    return problems;
  });
}

// The page's horizontal overflow at 360 px (0: none), the viewport restored afterwards.
async function narrowOverflow(page) {
  await page.setViewportSize({ width: NARROW_WIDTH, height: 740 });
  try {
    await page.waitForFunction((w) => window.innerWidth === w, NARROW_WIDTH);
    return await page.evaluate(
      () => Math.max(0, document.scrollingElement.scrollWidth - window.innerWidth));
  } finally {
    await page.setViewportSize(WIDE);
  }
}

// A Google connection through the hosted Connect page (sandbox --auto-consent).
async function connectGoogle(t, endUser) {
  const session = await apiOk('POST', '/v1/connect/sessions', {
    end_user: { id: endUser, email: `${endUser}@example.com` },
    return_url: `${returnOrigin}/connected`,
  });
  const context = await newContext(t);
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  await page.goto(session.url);
  await page.getByRole('button', { name: 'Connect Google' }).click();
  await page.waitForURL((url) => url.origin === returnOrigin).catch(async (e) => {
    throw new Error(`${e.message}\nat ${page.url()}: ${(await page.innerText('body')).slice(0, 500)}`);
  });
  const params = new URL(page.url()).searchParams;
  assert.equal(params.get('status'), 'connected');
  await context.close();
  return params.get('connection_id');
}

// A Twilio connection through the hosted Connect page, with an account registered at the
// sandbox's keyed origin for this call (one account is connected for one end user at a time).
async function connectTwilio(t, endUser) {
  const account = await registerTwilioAccount();
  const session = await apiOk('POST', '/v1/connect/sessions', {
    end_user: { id: endUser, email: `${endUser}@example.com` },
    providers: ['twilio'],
    return_url: `${returnOrigin}/connected`,
  });
  const context = await newContext(t);
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  await page.goto(session.url);
  const params = await enterTwilioCredentials(page, account);
  assert.equal(params.get('status'), 'connected');
  await context.close();
  return { id: params.get('connection_id'), account };
}

async function registerTwilioAccount() {
  const account = { sid: `AC${randomBytes(16).toString('hex')}`, token: randomBytes(16).toString('hex') };
  const response = await fetch(`${KEYED_URL}/_sandbox/keyed/accounts`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      provider: 'twilio', credentials: { account_sid: account.sid, auth_token: account.token },
    }),
    signal: AbortSignal.timeout(STEP_MS),
  });
  assert.equal(response.status, 201, await response.text());
  return account;
}

// Types a Twilio account into an open connect page and answers the return URL's parameters.
async function enterTwilioCredentials(page, account) {
  await page.locator('#connect-twilio-account-sid').fill(account.sid);
  await page.locator('#connect-twilio-auth-token').fill(account.token);
  await page.locator('#connect-twilio-submit').click();
  await page.waitForURL((url) => url.origin === returnOrigin).catch(async (e) => {
    throw new Error(`${e.message}\nat ${page.url()}: ${(await page.innerText('body')).slice(0, 500)}`);
  });
  return new URL(page.url()).searchParams;
}

// An open conflict on the connection of test 3: the host writes against a version the user has
// since changed in their own calendar. Answers the conflict's id.
async function makeConflict(externalId) {
  const entryPath = `/v1/connections/${connectionId}/events/by-external-id/${externalId}`;
  const created = await api('PUT', entryPath, {
    title: 'Boiler service',
    location: 'Bahnhofstrasse 1, Zurich',
    start: { instant: '2027-01-12T09:00:00+01:00', time_zone: 'Europe/Zurich' },
    end: { instant: '2027-01-12T10:00:00+01:00', time_zone: 'Europe/Zurich' },
  });
  assert.equal(created.status, 201, created.text);
  const entry = created.json;
  const providerId = entry.provider_id ?? entry.mapping?.provider_id;
  assert.ok(providerId, `the entry has its provider id: ${created.text}`);
  // The user changes the event in their own calendar (through the proxy, as any client would).
  await apiOk('PATCH',
              `/v1/proxy/${connectionId}/calendar/v3/calendars/primary/events/${providerId}`,
              { summary: 'Boiler service (moved by the customer)' });
  // The host writes against the version it had: a conflict, kept for the operator.
  const racing = await api('PATCH', `/v1/events/${entry.id}`, { title: 'Boiler service (host)' },
                           { 'If-Match': created.headers.get('etag') });
  assert.equal(racing.status, 409, racing.text);
  const conflictId = racing.json.conflict?.id;
  assert.ok(conflictId, racing.text);
  assert.equal(racing.json.conflict.status, 'open');
  return conflictId;
}

// Clicks `locator` and answers the response to the request it makes (`method` to a URL whose
// path ends with `pathEnd`).
async function clickFor(page, locator, method, pathEnd) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === method &&
                                new URL(r.url()).pathname.endsWith(pathEnd)),
    locator.click(),
  ]);
  if (response.status() < 200 || response.status() >= 300) {
    assert.fail(`${method} ${pathEnd}: ${response.status()} ${await response.text()}`);
  }
  return response.status() === 204 ? null : response.json();
}

// Asserts that GET /v1/audit?action=<action> (read with the page's session, so that an
// operator reads the system tenant's log) has an entry on `target` whose actor is the signed-in
// dashboard user; answers that entry.
async function assertAuditedAsUser(page, action, target) {
  const { user, entries } = await page.evaluate(async (action) => {
    const session = await (await fetch('/v1/session')).json();
    const query = new URLSearchParams({ action, order: 'desc', limit: '100' });
    const audit = await fetch(`/v1/audit?${query}`);
    return { user: session.user, entries: audit.ok ? (await audit.json()).data : await audit.text() };
  }, action);
  assert.ok(Array.isArray(entries), `GET /v1/audit?action=${action}: ${entries}`);
  const entry = entries.find((e) => e.target === target);
  assert.ok(entry, `an audit entry ${action} on ${target}; there are: ` +
            JSON.stringify(entries.map((e) => [e.target, e.actor])));
  assert.deepEqual({ kind: entry.actor.kind, id: entry.actor.id }, { kind: 'user', id: user.id },
                   `${action} on ${target} is audited with the signed-in user ${user.email} as actor`);
  return entry;
}

// Whether `secret` is anywhere in the page: its markup or the value of a field.
function secretOnPage(page, secret) {
  return page.evaluate((secret) => document.documentElement.outerHTML.includes(secret) ||
    [...document.querySelectorAll('input, textarea')].some((el) => el.value.includes(secret)),
  secret);
}

// The checks of the page walk with a dialog open: the native <dialog> is modal and has the
// focus, every interactive element has a unique id, axe-core finds nothing serious, and the
// dialog fits 360 px.
async function checkOpenDialog(t, page, dialogId) {
  const dialog = page.locator(`#${dialogId}`);
  await dialog.waitFor();
  const state = await dialog.evaluate((d) => ({
    modal: d.matches(':modal'), focused: d.contains(document.activeElement),
  }));
  assert.deepEqual(state, { modal: true, focused: true }, `#${dialogId} is modal and has the focus`);
  assert.deepEqual(await idProblems(page), [], 'every interactive element has a unique id');
  assert.deepEqual(await seriousAxeViolations(t, page), []);
  await page.setViewportSize({ width: NARROW_WIDTH, height: 740 });
  try {
    await page.waitForFunction((w) => window.innerWidth === w, NARROW_WIDTH);
    const overflow = await dialog.evaluate((d) => ({
      page: Math.max(0, document.scrollingElement.scrollWidth - window.innerWidth),
      dialog: Math.max(0, d.scrollWidth - d.clientWidth,
                       Math.ceil(d.getBoundingClientRect().right) - window.innerWidth),
    }));
    assert.deepEqual(overflow, { page: 0, dialog: 0 }, 'no horizontal scrolling at 360 px');
  } finally {
    await page.setViewportSize(WIDE);
  }
}

// Closes a dialog with Escape and checks that focus went back to the button that opened it.
async function escapeDialog(page, dialogId, openerId) {
  await page.keyboard.press('Escape');
  await page.locator(`#${dialogId}`).waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement?.id), openerId,
               `focus returns to #${openerId}`);
}

before(async () => {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  returnServer = await listen((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="en"><head><title>Back</title></head><body></body></html>');
  });
  returnOrigin = `http://127.0.0.1:${returnServer.address().port}`;
  // 410 Gone first, so that the first delivery ends dead at once (a 500 is retried for days),
  // then 500 for every retry.
  hookServer = await listen((req, res) => {
    hookHits += 1;
    const status = hookHits === 1 ? 410 : 500;
    req.resume();
    req.on('end', () => { res.writeHead(status); res.end('down for the test'); });
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  await apiOk('PATCH', `/v1/tenants/${TENANT_ID}`, { return_url_origins: [returnOrigin] });
  // Host writes against a version the user has since changed wait for an operator.
  await apiOk('PUT', '/v1/integrations/google', {
    client_id: DEMO_GOOGLE_CLIENT,
    client_secret: DEMO_CLIENT_SECRET,
    services: [{ service: 'calendar', access: 'read_write' }],
    conflict_policies: { calendar: 'manual' },
  });
  await apiOk('PUT', '/v1/integrations/twilio', {});  // test 7 switches it off and on
  // The failing endpoint exists before the connection, whose events it is then sent.
  const endpoint = await apiOk('POST', '/v1/webhook-endpoints', {
    url: `http://127.0.0.1:${hookServer.address().port}/hooks`,
    description: 'browser tests: always fails',
    event_types: ['connection.created'],
  });
  endpointId = endpoint.id;
  // Syncs run by hand only: a push after the provider-side change below would race the test.
  const settings = await fetch(`${GOOGLE_URL}/_sandbox/settings`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ push_drop_rate: 1.0 }),
    signal: AbortSignal.timeout(STEP_MS),
  });
  assert.equal(settings.status, 200, await settings.text());
});

after(async () => {
  await browser?.close();
  for (const server of [returnServer, hookServer]) {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  }
});

describe('dashboard', { timeout: 300_000 }, () => {
  test('1. sign-in: a wrong password is refused, the right one signs in, sign-out', async (t) => {
    const context = await newContext(t);
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    await page.goto(`${DASHBOARD}/`);
    await page.locator('#signin-tenant').fill(ADMIN.tenant);
    await page.locator('#signin-email').fill(ADMIN.email);
    await page.locator('#signin-password').fill(`${ADMIN.password}-wrong`);
    await page.locator('#signin-submit').click();
    const error = page.locator('#signin-error [role=alert]');
    await error.waitFor();
    assert.match(await error.innerText(), /Sign-in failed/);
    assert.equal(await page.locator('#signin-password').inputValue(), '',
                 'the password field is emptied');

    await page.locator('#signin-password').fill(ADMIN.password);
    await page.locator('#signin-submit').click();
    await page.locator('#nav-overview').waitFor();
    assert.equal(await page.locator('#nav-overview').getAttribute('aria-current'), 'page');
    assert.equal(new URL(page.url()).pathname.replace(/\/$/, ''), '/dashboard');
    assert.match(await page.locator('main h1').first().innerText(), /overview/i);

    await page.locator('#sign-out').click();
    await page.locator('#signin-submit').waitFor();
    const me = await page.evaluate(async () => (await fetch('/v1/session')).status);
    assert.equal(me, 401, 'the session is gone at the server');
  });

  test('1b. sign-in with Google (OpenID Connect): a user of another workspace is refused, the '
       + 'right workspace signs in', async (t) => {
    // The sandbox's demo Google account; the user has no password of their own to type.
    const email = 'demo@example.com';
    await apiOk('POST', '/v1/dashboard-users', { email, name: 'Demo', role: 'viewer' },
                { Authorization: `Bearer ${ADMIN_API_KEY}` });
    const context = await newContext(t);
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    const signInWithGoogle = async (tenant) => {
      await page.goto(`${DASHBOARD}/`);
      await page.locator('#signin-tenant').fill(tenant);
      await page.locator('#signin-email').fill(email);
      await page.locator('#signin-oidc-google').click();
    };
    // The operator's workspace has no such user: back on the sign-in page, with the reason.
    await signInWithGoogle(SYSTEM_TENANT_ID);
    const error = page.locator('#signin-error [role=alert]');
    await error.waitFor();
    assert.match(await error.innerText(), /No dashboard user of this workspace/);
    assert.equal(new URL(page.url()).search, '', 'the error code leaves the address bar');
    await screenshot(page, 'dashboard-sign-in.png');

    await signInWithGoogle(TENANT_ID);
    await page.locator('#nav-overview').waitFor();
    assert.equal(new URL(page.url()).pathname, '/dashboard/', 'code and state are not in the URL');
    const me = await page.evaluate(async () => (await fetch('/v1/session')).json());
    assert.equal(me.user.email, email);
    assert.equal(me.user.oidc_provider, 'google');
    const audit = await apiOk('GET', '/v1/audit?action=dashboard.sign_in', undefined,
                              { Authorization: `Bearer ${ADMIN_API_KEY}` });
    assert.ok(audit.data.some((e) => e.details.method === 'oidc' && e.actor.id === me.user.id),
              'the sign-in is audited with the user as actor');
  });

  test('a viewer signs in and sees no write actions', async (t) => {
    const page = await signIn(t, VIEWER);
    // The overview's status chart and open incidents need only the read scope.
    await visit(page, '/');
    await page.locator('#overview-status-chart').waitFor();
    await page.locator('#overview-incidents-count').waitFor();
    await visit(page, '/webhooks');
    assert.equal(await page.locator('#webhooks-endpoint-create').count(), 0);
  });

  test('3. manual sync: the Sync button shows the run through to succeeded', async (t) => {
    // The sandbox has one Google account, which connect.test.mjs connected for another end
    // user: disconnect it first (an account is connected for one end user at a time).
    const existing = await apiOk('GET', '/v1/connections?provider=google');
    for (const c of existing.data) await apiOk('DELETE', `/v1/connections/${c.id}`);
    connectionId = await connectGoogle(t, 'dashboard-sync');
    assert.ok(connectionId, 'the return URL names the connection');
    // The initial sync first, so that the button is free.
    await eventually('the initial sync', async () => {
      const runs = await apiOk('GET', `/v1/connections/${connectionId}/sync-runs`);
      return runs.data.length > 0 && runs.data.every((r) => ['succeeded', 'failed', 'cancelled']
        .includes(r.status));
    });

    const page = await signIn(t, ADMIN);
    await visit(page, '/connections');
    // The live stream is open, so that the run's progress comes through it (the page polls
    // every 5 s, not every second, while it is).
    await page.waitForFunction(
      () => /connected/i.test(document.getElementById('live-state')?.textContent ?? ''))
      .catch(async (e) => {
        throw new Error(`the live indicator says "${await page.locator('#live-state').innerText()}"` +
                        ` (${e.message})`);
      });
    const row = page.locator(`[id="connections-row-${connectionId}"]`);
    await row.waitFor();
    const sync = page.locator(`[id="connections-row-${connectionId}-sync"]`);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' &&
                                  r.url().endsWith(`/v1/connections/${connectionId}/sync`)),
      sync.click(),
    ]);
    assert.ok(response.status() >= 200 && response.status() < 300, `sync: ${response.status()}`);
    const run = await response.json();
    const progress = row.locator('.sync-progress[role=status]');
    await progress.waitFor();
    await page.waitForFunction(
      (id) => /succeeded/i.test(document.querySelector(
        `[id="connections-row-${id}"] .sync-progress`)?.textContent ?? ''),
      connectionId);
    assert.match(await progress.innerText(), /\d+ pages?/);
    assert.equal(await sync.isEnabled(), true, 'the button is free again');
    assert.equal((await apiOk('GET', `/v1/sync-runs/${run.id}`)).status, 'succeeded');
    await screenshot(page, 'dashboard-connections.png');
    await t.test('the sync request is audited with the user as actor',
                 () => assertAuditedAsUser(page, 'sync.request', `sync_runs/${run.id}`));
  });

  test('4. a conflict is resolved in the Conflicts page', async (t) => {
    assert.ok(connectionId, 'needs the connection of test 3');
    const conflictId = await makeConflict('dashboard-job-1');

    const page = await signIn(t, ADMIN);
    await visit(page, '/conflicts');
    await page.locator(`[id="conflicts-row-${conflictId}-open"]`).click();
    await page.locator('#conflict-title').waitFor();
    assert.match(await page.locator('#conflict-title').innerText(), /dashboard-job-1/);
    assert.ok(await page.locator('tr.differs').count() > 0, 'the differing fields are marked');
    await screenshot(page, 'dashboard-conflicts.png');
    await page.locator('#conflict-resolve-host').click();
    await page.locator('#dialog-resolve-confirm').click();
    await page.locator('#dialog-resolve').waitFor({ state: 'detached' });
    await page.waitForFunction(() => !document.querySelector('#conflict-resolve-host'));
    const resolved = await apiOk('GET', `/v1/conflicts/${conflictId}`);
    assert.equal(resolved.status, 'resolved');
    assert.equal(resolved.resolution, 'host');
    await assertAuditedAsUser(page, 'calendar.conflict.resolve', `conflict:${conflictId}`);
  });

  test('5. a failed webhook delivery is retried from the Webhooks page', async (t) => {
    // The connection of test 3 was delivered once and answered 410 Gone: dead, and the
    // endpoint disabled. Enabled again, it answers 500 to the retry.
    let seen = [];
    const failed = await eventually('a dead delivery', async () => {
      const list = await apiOk('GET', `/v1/webhook-deliveries?endpoint_id=${endpointId}`);
      seen = list.data.map(({ payload, ...d }) => d);
      return list.data.find((d) => d.state === 'dead');
    }).catch((e) => {
      throw new Error(`${e.message}; hits ${hookHits}; deliveries ${JSON.stringify(seen)}`);
    });
    assert.equal(failed.last_status_code, 410);
    assert.equal(hookHits, 1, 'the endpoint was called once');
    const before = failed.attempts;
    await apiOk('PATCH', `/v1/webhook-endpoints/${endpointId}`, { enabled: true });

    const page = await signIn(t, ADMIN);
    await visit(page, '/webhooks');
    const retry = page.locator(`[id="webhooks-delivery-${failed.id}-retry"]`);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' &&
                                  r.url().endsWith(`/v1/webhook-deliveries/${failed.id}/retry`)),
      retry.click(),
    ]);
    assert.ok(response.status() >= 200 && response.status() < 300, `retry: ${response.status()}`);
    const retried = await eventually('another attempt', async () => {
      const d = await apiOk('GET', `/v1/webhook-deliveries/${failed.id}`);
      return d.attempts > before && d;
    });
    assert.equal(retried.last_status_code, 500);
    assert.equal(hookHits, 2, 'the retry reached the endpoint');
    await assertAuditedAsUser(page, 'webhook_delivery.retry', `webhook_deliveries/${failed.id}`);
    await visit(page, '/webhooks');
    await screenshot(page, 'dashboard-webhooks.png');
  });

  test('2. every page and dialog: ids, axe-core, 360 px, keyboard', async (t) => {
    assert.ok(connectionId, 'needs the connection of test 3');
    await t.test('sign-in', async (t) => {
      const context = await newContext(t);
      const signInPage = await context.newPage();
      signInPage.setDefaultTimeout(STEP_MS);
      await visit(signInPage, '/');
      await signInPage.locator('#signin-submit').waitFor();
      assert.deepEqual(await idProblems(signInPage), [], 'every interactive element has a unique id');
      assert.deepEqual(await seriousAxeViolations(t, signInPage), []);
      assert.equal(await narrowOverflow(signInPage), 0, 'no horizontal scrolling at 360 px');
    });

    const conflictId = await makeConflict('dashboard-walk-1');  // open, with its resolve buttons
    const page = await signIn(t, ADMIN);
    const pages = [
      ['overview', '/'],
      ['connections', '/connections'],
      ['connection-detail', `/connections/${connectionId}`],
      ['integrations', '/integrations'],
      ['conflicts', '/conflicts'],
      ['conflict-detail', `/conflicts/${conflictId}`],
      ['webhooks', '/webhooks'],
      ['audit', '/audit'],
      ['admin', '/admin'],
    ];
    for (const [name, dashboardPath] of pages) {
      await t.test(name, async (t) => {
        await visit(page, dashboardPath);
        assert.deepEqual(await idProblems(page), [], 'every interactive element has a unique id');
        assert.deepEqual(await seriousAxeViolations(t, page), []);
        assert.equal(await narrowOverflow(page), 0, 'no horizontal scrolling at 360 px');
        if (['overview', 'connection-detail', 'audit'].includes(name)) {
          await screenshot(page, `dashboard-${name}.png`);
        }
      });
    }

    // Each confirmation and secret dialog, open: opened by its button, checked, then closed
    // with Escape (confirmations: nothing happens) or its Done button (secrets).
    const dialogs = [
      ['resolve a conflict', `/conflicts/${conflictId}`, 'conflict-resolve-provider', 'dialog-resolve'],
      ['disconnect', '/connections', `connections-row-${connectionId}-disconnect`,
       'dialog-disconnect'],
      ['reconnect', '/connections', `connections-row-${connectionId}-reconnect`,
       'dialog-reconnect'],
      ['delete a webhook endpoint', '/webhooks', `webhooks-endpoint-${endpointId}-delete`,
       'dialog-delete-endpoint'],
      ['edit a webhook endpoint', '/webhooks', `webhooks-endpoint-${endpointId}-edit`,
       'dialog-endpoint'],
      ['edit an integration', '/integrations', 'integrations-row-google-edit', 'dialog-integration'],
      ['create an API key', '/admin', 'admin-key-create', 'dialog-key'],
      ['kill switch', '/admin', 'admin-provider-twilio-toggle', 'dialog-kill-switch'],
    ];
    for (const [name, dashboardPath, openerId, dialogId] of dialogs) {
      await t.test(`dialog: ${name}`, async (t) => {
        await visit(page, dashboardPath);
        await page.locator(`[id="${openerId}"]`).click();
        await checkOpenDialog(t, page, dialogId);
        await escapeDialog(page, dialogId, openerId);
      });
    }
    await t.test('dialog: revoke an API key', async (t) => {
      await visit(page, '/admin');
      const opener = page.locator('[id^="admin-key-"][id$="-revoke"]').first();
      const openerId = await opener.getAttribute('id');
      await opener.click();
      await checkOpenDialog(t, page, 'dialog-revoke-key');
      await escapeDialog(page, 'dialog-revoke-key', openerId);
    });
    await t.test('dialog: a reconnect link, shown once', async (t) => {
      await visit(page, '/connections');
      await page.locator(`[id="connections-row-${connectionId}-reconnect"]`).click();
      await page.locator('#dialog-reconnect-return-url').fill(`${returnOrigin}/reconnected`);
      await page.locator('#dialog-reconnect-create').click();
      await page.locator('#dialog-reconnect-link-value').waitFor();
      await checkOpenDialog(t, page, 'dialog-reconnect');
      await page.locator('#dialog-reconnect-done').click();
      await page.locator('#dialog-reconnect').waitFor({ state: 'detached' });
    });
    await t.test('dialog: a new webhook signing secret, shown once', async (t) => {
      await visit(page, '/webhooks');
      await page.locator(`[id="webhooks-endpoint-${endpointId}-rotate"]`).click();
      await checkOpenDialog(t, page, 'dialog-secret');
      await page.locator('#dialog-secret-done').click();
      await page.locator('#dialog-secret').waitFor({ state: 'detached' });
    });
    await t.test('dialog: a new API key, shown once', async (t) => {
      await visit(page, '/admin');
      await page.locator('#admin-key-create').click();
      await page.locator('#dialog-key-name').fill('browser tests: page walk');
      await page.locator('#dialog-key-scope-write').uncheck();
      const created = await clickFor(page, page.locator('#dialog-key-save'), 'POST', '/v1/api-keys');
      t.after(() => apiOk('DELETE', `/v1/api-keys/${created.id}`, undefined,
                          { Authorization: `Bearer ${ADMIN_API_KEY}` }));
      await checkOpenDialog(t, page, 'dialog-key-secret');
      await page.locator('#dialog-key-secret-done').click();
      await page.locator('#dialog-key-secret').waitFor({ state: 'detached' });
    });

    await t.test('keyboard: Tab reaches the main navigation', async () => {
      await visit(page, '/');
      const reached = new Set();
      for (let i = 0; i < 30 && reached.size < 7; i++) {
        await page.keyboard.press('Tab');
        const id = await page.evaluate(() => document.activeElement?.id ?? '');
        if (id.startsWith('nav-') && id !== 'nav-toggle') reached.add(id);
      }
      assert.deepEqual([...reached].sort(), ['nav-admin', 'nav-audit', 'nav-conflicts',
        'nav-connections', 'nav-integrations', 'nav-overview', 'nav-webhooks']);
      await page.keyboard.press('Enter');  // on the last link: Admin
      await page.waitForURL(/\/dashboard\/admin$/);
    });
  });

  test('6. the audit log shows the newest first, downloads as CSV and JSON lines, and verifies '
       + 'its chain', async (t) => {
    const page = await signIn(t, ADMIN);
    await visit(page, '/audit');
    // Newest first: the sequence numbers of the table fall (the first cell of each row). The
    // rows arrive after the page's heading, so the check waits for them rather than reading once.
    await waitForAuditOrder(page, 'desc');
    await page.locator('#audit-order').selectOption('asc');
    await waitForAuditOrder(page, 'asc');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#audit-export-csv').click(),
    ]);
    assert.equal(download.suggestedFilename(), 'audit.csv');
    const text = await readFile(await download.path(), 'utf8');
    const lines = text.split(/\r?\n/).filter((line) => line.length > 0);
    assert.ok(lines.length >= 2, `a header and at least one row: ${text.slice(0, 300)}`);
    assert.match(lines[0], /action/, `the header names the columns: ${lines[0]}`);

    const [jsonl] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#audit-export-jsonl').click(),
    ]);
    assert.equal(jsonl.suggestedFilename(), 'audit.jsonl');
    const entries = (await readFile(await jsonl.path(), 'utf8')).split('\n')
      .filter((line) => line.length > 0)
      .map((line, i) => {
        try { return JSON.parse(line); } catch (e) { throw new Error(`line ${i + 1}: ${e.message}: ${line}`); }
      });
    assert.ok(entries.length >= 1, 'at least one entry');
    for (const entry of entries) {
      assert.equal(typeof entry.action, 'string', JSON.stringify(entry));
      assert.equal(typeof entry.actor?.kind, 'string', JSON.stringify(entry));
      assert.equal(typeof entry.chain_hash, 'string', JSON.stringify(entry));
    }
    const seqs = entries.map((e) => e.seq);
    assert.ok(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]),
              `the export keeps the chain's order: ${seqs.slice(0, 20)}`);

    await page.locator('#audit-verify-chain').click();
    const result = page.locator('#audit-verify-result');
    await result.waitFor();
    assert.match(await result.innerText(), /^Chain verified: \d+ entries/);
    assert.equal(await result.getAttribute('class'), '', 'not shown as an error');
  });

  test('7. an operator switches a provider off and on again', async (t) => {
    const twilio = async () => (await apiOk('GET', '/v1/admin/providers', undefined,
                                            { Authorization: `Bearer ${ADMIN_API_KEY}` })).data
      .find((p) => p.provider === 'twilio');
    assert.notEqual((await twilio()).enabled, false, 'twilio starts enabled');
    const connectOffers = async (t) => {
      const session = await apiOk('POST', '/v1/connect/sessions', {
        end_user: { id: 'dashboard-kill', email: 'dashboard-kill@example.com' },
        return_url: `${returnOrigin}/connected`,
      });
      const context = await newContext(t);
      const connect = await context.newPage();
      connect.setDefaultTimeout(STEP_MS);
      await connect.goto(session.url);
      await connect.getByRole('button', { name: 'Connect Google' }).waitFor();
      const offered = await connect.locator('#connect-twilio-account-sid').count() > 0;
      await context.close();
      return offered;
    };
    assert.equal(await connectOffers(t), true, 'the connect page offers Twilio');

    const page = await signIn(t, OPERATOR);
    await visit(page, '/admin');
    await screenshot(page, 'dashboard-admin.png');
    await t.test('the operator\'s admin page (with tenants) passes the page checks', async (t) => {
      assert.deepEqual(await idProblems(page), [], 'every interactive element has a unique id');
      assert.deepEqual(await seriousAxeViolations(t, page), []);
      assert.equal(await narrowOverflow(page), 0, 'no horizontal scrolling at 360 px');
    });
    const toggle = page.locator('#admin-provider-twilio-toggle');
    assert.equal(await toggle.innerText(), 'Disable');
    await toggle.click();
    await page.locator('#dialog-kill-switch-reason').fill('browser test');
    await page.locator('#dialog-kill-switch-confirm').click();
    await page.locator('#dialog-kill-switch').waitFor({ state: 'detached' });
    await page.waitForFunction(
      () => document.querySelector('#admin-provider-twilio-toggle')?.textContent === 'Enable');
    assert.equal((await twilio()).enabled, false, 'the API reports twilio disabled');
    const disabled = await assertAuditedAsUser(page, 'provider.disable', 'providers/twilio');
    assert.equal(disabled.details.reason, 'browser test', 'the reason typed is audited');
    assert.equal(await connectOffers(t), false, 'the connect page no longer offers Twilio');

    await toggle.click();
    await page.locator('#dialog-kill-switch-confirm').click();
    await page.locator('#dialog-kill-switch').waitFor({ state: 'detached' });
    await page.waitForFunction(
      () => document.querySelector('#admin-provider-twilio-toggle')?.textContent === 'Disable');
    assert.notEqual((await twilio()).enabled, false, 'twilio is enabled again');
    await assertAuditedAsUser(page, 'provider.enable', 'providers/twilio');
    assert.equal(await connectOffers(t), true, 'the connect page offers Twilio again');
  });

  test('8. a connection is disconnected through its dialog; Cancel leaves it', async (t) => {
    const { id } = await connectTwilio(t, 'dashboard-disconnect');
    assert.ok(id, 'the return URL names the connection');
    const page = await signIn(t, ADMIN);
    await visit(page, '/connections?q=dashboard-disconnect');
    const row = page.locator(`[id="connections-row-${id}"]`);
    const disconnect = page.locator(`[id="connections-row-${id}-disconnect"]`);
    await disconnect.click();
    const dialog = page.locator('#dialog-disconnect');
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /dashboard-disconnect/, 'the dialog names the end user');
    await page.locator('#dialog-disconnect-cancel').click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal((await apiOk('GET', `/v1/connections/${id}`)).id, id, 'Cancel keeps it');
    assert.equal(await row.count(), 1, 'and its row');

    await disconnect.click();
    await clickFor(page, page.locator('#dialog-disconnect-confirm'), 'DELETE', `/v1/connections/${id}`);
    await dialog.waitFor({ state: 'detached' });
    await row.waitFor({ state: 'detached' });
    const gone = await api('GET', `/v1/connections/${id}`);
    assert.equal(gone.status, 404, `the connection is gone: ${gone.text}`);
    await assertAuditedAsUser(page, 'connection.delete', `connections/${id}`);
  });

  test('9. Reconnect shows a connect link for the end user that opens the hosted connect page',
       async (t) => {
    const { id, account } = await connectTwilio(t, 'dashboard-reconnect');
    const page = await signIn(t, ADMIN);
    await visit(page, '/connections?q=dashboard-reconnect');
    await page.locator(`[id="connections-row-${id}-reconnect"]`).click();
    await page.locator('#dialog-reconnect-return-url').fill(`${returnOrigin}/reconnected`);
    const session = await clickFor(page, page.locator('#dialog-reconnect-create'), 'POST',
                                   '/v1/connect/sessions');
    const link = await page.locator('#dialog-reconnect-link-value').inputValue();
    assert.equal(link, session.url);
    assert.ok(link.startsWith(`${BASE_URL}/connect/`), `a /connect/ link: ${link}`);
    assert.equal(await page.locator('#dialog-reconnect-link-copy').count(), 1, 'a copy button');
    await assertAuditedAsUser(page, 'connect_session.create', `connect_sessions/${session.id}`);
    await page.locator('#dialog-reconnect-done').click();
    await page.locator('#dialog-reconnect').waitFor({ state: 'detached' });

    // The end user opens the link: the hosted page offers the provider, and their account
    // connects again, for the same end user.
    const context = await newContext(t);
    const connect = await context.newPage();
    connect.setDefaultTimeout(STEP_MS);
    const response = await connect.goto(link);
    assert.equal(response.status(), 200, `GET ${link}`);
    assert.equal(await connect.getByRole('button', { name: 'Connect Google' }).count(), 0,
                 'only the provider reconnected is offered');
    const params = await enterTwilioCredentials(connect, account);
    assert.equal(params.get('status'), 'connected');
    assert.equal(new URL(connect.url()).pathname, '/reconnected', 'back at the return URL typed');
    assert.equal(params.get('connection_id'), id, 'the same connection, authorized anew');
    const again = await apiOk('GET', `/v1/connections/${params.get('connection_id')}`);
    assert.equal(again.end_user_id, 'dashboard-reconnect');
    assert.equal(again.provider, 'twilio');
    assert.equal(again.status, 'active');
  });

  test('10. rotating a webhook endpoint\'s secret shows the new secret once', async (t) => {
    const before = await apiOk('GET', `/v1/webhook-endpoints/${endpointId}`);
    const page = await signIn(t, ADMIN);
    await visit(page, '/webhooks');
    const rotated = await clickFor(page, page.locator(`[id="webhooks-endpoint-${endpointId}-rotate"]`),
                                   'POST', `/v1/webhook-endpoints/${endpointId}/rotate-secret`);
    const secret = rotated.secret;
    assert.ok(secret && secret.length >= 16, `a secret: ${JSON.stringify(rotated)}`);
    const dialog = page.locator('#dialog-secret');
    await dialog.waitFor();
    assert.equal(await page.locator('#dialog-secret-secret-value').inputValue(), secret);
    assert.match(await dialog.innerText(), /you will not see this again/i);
    const after = await apiOk('GET', `/v1/webhook-endpoints/${endpointId}`);
    assert.equal(after.secret_version, before.secret_version + 1, 'the secret is rotated');

    await page.locator('#dialog-secret-done').click();
    await dialog.waitFor({ state: 'detached' });
    await page.waitForFunction((v) => document.getElementById(`webhooks-endpoint-${v.id}`)
      ?.textContent.includes(`v${v.version}`), { id: endpointId, version: after.secret_version });
    assert.equal(await secretOnPage(page, secret), false, 'the secret is nowhere on the page');
    for (const read of [`/v1/webhook-endpoints/${endpointId}`, '/v1/webhook-endpoints']) {
      assert.ok(!(await api('GET', read)).text.includes(secret), `GET ${read} does not return it`);
    }
    const audited = await assertAuditedAsUser(page, 'webhook_endpoint.rotate_secret',
                                              `webhook_endpoints/${endpointId}`);
    assert.ok(!JSON.stringify(audited).includes(secret), 'nor does the audit log');
  });

  test('11. an API key created in the Admin page is shown once, works, and is listed without '
       + 'its secret; revoked, it stops working', async (t) => {
    const name = `browser tests ${randomUUID().slice(0, 8)}`;
    const page = await signIn(t, ADMIN);
    await visit(page, '/admin');
    await page.locator('#admin-key-create').click();
    await page.locator('#dialog-key-name').fill(name);
    await page.locator('#dialog-key-scope-write').uncheck();  // read only
    const created = await clickFor(page, page.locator('#dialog-key-save'), 'POST', '/v1/api-keys');
    const dialog = page.locator('#dialog-key-secret');
    await dialog.waitFor();
    const key = await page.locator('#dialog-key-secret-secret-value').inputValue();
    assert.equal(key, created.key);
    assert.match(await dialog.innerText(), /you will not see this again/i);
    const call = (key) => fetch(`${BASE_URL}/v1/connections`, {
      headers: { Authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(STEP_MS),
    });
    const works = await call(key);
    const worksText = await works.text();
    assert.equal(works.status, 200, worksText);
    assert.ok(Array.isArray(JSON.parse(worksText).data), 'GET /v1/connections lists connections');

    await page.locator('#dialog-key-secret-done').click();
    await dialog.waitFor({ state: 'detached' });
    const row = page.locator(`[id="admin-key-${created.id}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), new RegExp(name));
    assert.equal(await secretOnPage(page, key), false, 'the key is nowhere on the page');
    const listed = await api('GET', '/v1/api-keys', undefined,
                             { Authorization: `Bearer ${ADMIN_API_KEY}` });
    const entry = listed.json.data.find((k) => k.id === created.id);
    assert.deepEqual(entry?.scopes, ['read'], `listed with its scopes: ${listed.text}`);
    assert.equal(entry.key, undefined);
    assert.ok(!listed.text.includes(key), 'GET /v1/api-keys does not return the key');
    await assertAuditedAsUser(page, 'api_key.create', `api_keys/${created.id}`);

    await page.locator(`[id="admin-key-${created.id}-revoke"]`).click();
    assert.match(await page.locator('#dialog-revoke-key').innerText(), new RegExp(name));
    await clickFor(page, page.locator('#dialog-revoke-key-confirm'), 'DELETE',
                   `/v1/api-keys/${created.id}`);
    await page.locator('#dialog-revoke-key').waitFor({ state: 'detached' });
    assert.equal((await call(key)).status, 401, 'the revoked key is refused');
    await assertAuditedAsUser(page, 'api_key.revoke', `api_keys/${created.id}`);
  });

  test('12. an integration is edited: client id and a new secret saved, the secret never shown',
       async (t) => {
    // Microsoft: Google's demo app is the one the other tests connect through.
    const firstSecret = `first-${randomUUID()}`;
    await apiOk('PUT', '/v1/integrations/microsoft', {
      client_id: 'browser-tests-client-1',
      client_secret: firstSecret,
      services: [{ service: 'calendar', access: 'read_write' }],
      extra_scopes: ['offline_access'],
      conflict_policies: { calendar: 'manual' },
    });
    const before = await apiOk('GET', '/v1/integrations/microsoft');
    const newSecret = `second-${randomUUID()}`;
    const page = await signIn(t, ADMIN);
    await visit(page, '/integrations');
    const edit = page.locator('#integrations-row-microsoft-edit');
    await edit.click();
    const dialog = page.locator('#dialog-integration');
    await dialog.waitFor();
    assert.equal(await page.locator('#dialog-integration-client-id').inputValue(),
                 'browser-tests-client-1');
    const secretField = page.locator('#dialog-integration-client-secret');
    assert.equal(await secretField.inputValue(), '', 'the stored secret is not filled in');
    assert.equal(await secretField.getAttribute('type'), 'password');
    await page.locator('#dialog-integration-client-id').fill('browser-tests-client-2');
    await secretField.fill(newSecret);
    const saved = await clickFor(page, page.locator('#dialog-integration-save'), 'PUT',
                                 '/v1/integrations/microsoft');
    await dialog.waitFor({ state: 'detached' });
    await page.waitForFunction(() => document.getElementById('integrations-row-microsoft')
      ?.textContent.includes('browser-tests-client-2'));
    assert.equal(saved.client_secret_set, true);

    const got = await api('GET', '/v1/integrations/microsoft');
    assert.equal(got.json.client_id, 'browser-tests-client-2');
    assert.equal(got.json.client_secret_set, true);
    assert.ok(!got.text.includes(newSecret) && !got.text.includes(firstSecret),
              'GET does not return a secret');
    // What the dialog does not show is kept as it was.
    for (const field of ['services', 'extra_scopes', 'enabled', 'allow_reassignment',
                         'conflict_policies']) {
      assert.deepEqual(got.json[field], before[field], `${field} is kept`);
    }
    await edit.click();
    await dialog.waitFor();
    assert.equal(await secretField.inputValue(), '', 'the new secret is not shown back');
    assert.equal(await secretOnPage(page, newSecret), false, 'the secret is nowhere on the page');
    await page.locator('#dialog-integration-cancel').click();
    await dialog.waitFor({ state: 'detached' });
    // The configured ones (Google, Microsoft) in view, past the catalog's A to G.
    await page.evaluate(() => document.getElementById('integrations-row-google')
      .scrollIntoView({ block: 'start' }));
    await screenshot(page, 'dashboard-integrations.png');

    // The audit entry holds a keyed hash of the new secret (not the secret): another than the
    // first's, so the new one is what was stored.
    const updated = await assertAuditedAsUser(page, 'integration.update', 'integrations/microsoft');
    const setUp = [];
    for (const action of ['integration.create', 'integration.update']) {
      setUp.push(...(await apiOk('GET', `/v1/audit?action=${action}&order=desc`, undefined,
                                 { Authorization: `Bearer ${ADMIN_API_KEY}` })).data
        .filter((e) => e.target === 'integrations/microsoft' &&
                       e.details.client_id === 'browser-tests-client-1'));
    }
    assert.equal(updated.details.client_id, 'browser-tests-client-2');
    assert.ok(updated.details.client_secret, 'the update names a secret');
    assert.ok(setUp[0]?.details.client_secret, 'the setting up names the first secret');
    assert.notEqual(updated.details.client_secret, setUp[0].details.client_secret,
                    'a new secret was stored');
    assert.ok(!JSON.stringify(updated).includes(newSecret), 'the audit log has no secret');
  });
});
