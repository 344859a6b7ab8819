// Browser tests of the hosted Connect wizard (/connect/{token}): an OAuth provider (Google, at the
// sandbox with --auto-consent) and a credential provider (Twilio, at the sandbox's keyed origin)
// connected through the page in Debian's Chromium, with axe-core, keyboard-only and narrow-screen
// checks, and screenshots for docs/screenshots/. Started by run.sh, which provides:
//   SB_BASE_URL, SB_API_KEY (read,write), SB_TENANT_ID, SANDBOX_KEYED_URL, CHROMIUM,
//   SCREENSHOT_DIR.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
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
const TENANT_ID = env('SB_TENANT_ID');
const KEYED_URL = env('SANDBOX_KEYED_URL');
const GOOGLE_URL = env('SANDBOX_GOOGLE_URL');
const SCREENSHOT_DIR = env('SCREENSHOT_DIR');

// The sandbox's --demo credentials (sandbox/README.md).
const DEMO_GOOGLE_CLIENT = 'switchboard-demo.apps.googleusercontent.com';
const DEMO_CLIENT_SECRET = 'sandbox-demo-secret';
const DEMO_TWILIO_SID = 'AC5b7e1a9c00004000800000000000de00';
const DEMO_TWILIO_TOKEN = '8f1c2b3a4d5e6f708192a3b4c5d6e7f8';

const WIDE = { width: 1000, height: 800 };
const NARROW = { width: 360, height: 740 };
const STEP_MS = 30_000;  // one navigation, wait or API call (ASan builds on a busy machine)

let browser;
let returnServer;
let returnOrigin;

async function api(method, urlPath, body) {
  const response = await fetch(BASE_URL + urlPath, {
    method,
    headers: {
      Authorization: `Bearer ${API_KEY}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(STEP_MS),
  });
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: keep the text */ }
  return { status: response.status, json, text };
}

async function apiOk(method, urlPath, body) {
  const result = await api(method, urlPath, body);
  assert.ok(result.status >= 200 && result.status < 300,
            `${method} ${urlPath}: ${result.status} ${result.text}`);
  return result.json;
}

// The host app's return page: any path answers a small page that shows the status it got.
function startReturnServer() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const status = url.searchParams.get('status') ?? 'none';
    const title = status === 'connected' ? 'Connected' : `Back in the app (${status})`;
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>` +
            `</head><body><h1 id="return-status">${title}</h1></body></html>`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// A connect session for one end user, returning to the local return page.
async function newSession(endUser) {
  const session = await apiOk('POST', '/v1/connect/sessions', {
    end_user: { id: endUser, email: `${endUser}@example.com` },
    return_url: `${returnOrigin}/connected`,
  });
  assert.ok(session.url?.startsWith(`${BASE_URL}/connect/`), `session url: ${session.url}`);
  return session;
}

async function openPage(t, url, { viewport = WIDE } = {}) {
  const context = await browser.newContext({ viewport });
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  const response = await page.goto(url);
  assert.equal(response.status(), 200, `GET ${url}`);
  return page;
}

async function screenshot(page, name) {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, name), fullPage: true });
}

// Waits for the browser to land on the return page and answers its query parameters.
async function returned(page) {
  await page.waitForURL((url) => url.origin === returnOrigin);
  await page.locator('#return-status').waitFor();
  return new URL(page.url()).searchParams;
}

// Interactive elements that have an id, whose id another element also has.
function duplicateInteractiveIds(page) {
  return page.evaluate(() => {
    const interactive = 'a[id], button[id], input[id], select[id], textarea[id]';
    return [...document.querySelectorAll(interactive)].map((el) => el.id)
      .filter((id) => document.querySelectorAll(`[id="${CSS.escape(id)}"]`).length > 1);
  });
}

// Interactive elements (hidden inputs aside) without an id.
function interactiveWithoutId(page) {
  return page.evaluate(() => [...document.querySelectorAll(
    'a, button, input:not([type=hidden]), select, textarea')]
    .filter((el) => !el.id)
    .map((el) => `${el.localName}${el.name ? `[name=${el.name}]` : ''} ` +
                 `"${el.textContent.trim()}"`));
}

// Inputs (not hidden), selects and textareas without an accessible label.
function unlabelledInputs(page) {
  return page.evaluate(() => {
    const fields = [...document.querySelectorAll('input:not([type=hidden]), select, textarea')];
    return fields
      .filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label') &&
                      !el.getAttribute('aria-labelledby'))
      .map((el) => el.outerHTML);
  });
}

// A call to the sandbox Google's control API (sandbox/README.md).
async function googleControl(method, urlPath, body, expectedStatus) {
  const response = await fetch(`${GOOGLE_URL}/_sandbox/${urlPath}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(STEP_MS),
  });
  assert.equal(response.status, expectedStatus, await response.text());
}

// Switches the sandbox Google's behaviour, e.g. its auto-consent answer.
const googleSettings = (settings) => googleControl('PUT', 'settings', settings, 200);

// The checks every page gets: axe-core, unique ids, an id on every interactive element, labels.
async function pageChecks(t, page) {
  await t.test('no serious or critical axe-core violations', async (t) => {
    assert.deepEqual(await seriousAxeViolations(t, page), []);
  });
  await t.test('interactive elements with an id have a unique one', async () => {
    assert.deepEqual(await duplicateInteractiveIds(page), []);
  });
  await t.test('every interactive element has an id (UI.md)', async () => {
    assert.deepEqual(await interactiveWithoutId(page), []);
  });
  await t.test('every input has a label', async () => {
    assert.deepEqual(await unlabelledInputs(page), []);
  });
}

async function registerTwilioAccount() {
  const sid = `AC${randomBytes(16).toString('hex')}`;
  const token = randomBytes(16).toString('hex');
  const response = await fetch(`${KEYED_URL}/_sandbox/keyed/accounts`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      provider: 'twilio', credentials: { account_sid: sid, auth_token: token },
    }),
    signal: AbortSignal.timeout(STEP_MS),
  });
  assert.equal(response.status, 201, await response.text());
  return { sid, token };
}

async function expectConnection(params, provider, endUser) {
  assert.equal(params.get('status'), 'connected');
  assert.equal(params.get('provider'), provider);
  const id = params.get('connection_id');
  assert.ok(id, 'the return URL names the connection');
  const connection = await apiOk('GET', `/v1/connections/${encodeURIComponent(id)}`);
  assert.equal(connection.id, id);
  assert.equal(connection.provider, provider);
  assert.equal(connection.end_user_id, endUser);
  return connection;
}

before(async () => {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  returnServer = await startReturnServer();
  returnOrigin = `http://127.0.0.1:${returnServer.address().port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  await apiOk('PATCH', `/v1/tenants/${TENANT_ID}`, { return_url_origins: [returnOrigin] });
  await apiOk('PUT', '/v1/integrations/google', {
    client_id: DEMO_GOOGLE_CLIENT,
    client_secret: DEMO_CLIENT_SECRET,
    services: [{ service: 'calendar', access: 'read_write' }],
  });
  await apiOk('PUT', '/v1/integrations/twilio', {});
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (returnServer ? returnServer.close(resolve) : resolve()));
});

describe('connect wizard', { timeout: 200_000 }, () => {
  // The page's own posts carry its Origin (under Referrer-Policy: no-referrer Chromium sent
  // "Origin: null", which the origin check refuses with 403 forbidden_origin).
  test('form posts from the connect page carry its origin and are accepted', async (t) => {
    const session = await newSession('user-origin');
    const page = await openPage(t, session.url);
    await page.locator('#connect-twilio-account-sid').fill(DEMO_TWILIO_SID);
    await page.locator('#connect-twilio-auth-token').fill('0000000000000000wrong0000000000');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.locator('#connect-twilio-submit').click(),
    ]);
    await page.waitForLoadState();
    const sent = await response.request().allHeaders();
    assert.notEqual(response.status(), 403,
                    `the post was refused: "${await page.title()}"; the browser sent ` +
                    `Origin: ${sent.origin}, Sec-Fetch-Site: ${sent['sec-fetch-site']}`);
    assert.equal(await page.locator('#connect-twilio-error').count(), 1,
                 'a refused credential comes back as the page with its error');
  });

  test('a. OAuth: the page passes its checks, Connect Google lands connected', async (t) => {
    const session = await newSession('user-oauth');
    const page = await openPage(t, session.url);
    await screenshot(page, 'connect-wizard.png');
    await pageChecks(t, page);
    // The service choice says in plain words what it shares (the catalog's explanation).
    const calendar = page.locator('#connect-google-service-calendar');
    assert.equal(await calendar.getAttribute('aria-describedby'),
                 'connect-google-service-calendar-explanation');
    assert.match(await page.locator('#connect-google-service-calendar-explanation').innerText(),
                 /see your calendars and their events, and can also add, change and delete/);
    assert.match(await page.locator('#connect-twilio-explanation').innerText(), /Twilio account/);

    await page.getByRole('button', { name: 'Connect Google' }).click();
    const connection = await expectConnection(await returned(page), 'google', 'user-oauth');
    assert.equal(connection.account.email, 'demo@example.com');
  });

  test('b. credentials: a refused token shows the error, the right one connects', async (t) => {
    const session = await newSession('user-credentials');
    const page = await openPage(t, session.url);
    const sid = page.locator('#connect-twilio-account-sid');
    const token = page.locator('#connect-twilio-auth-token');
    await sid.fill(DEMO_TWILIO_SID);
    await token.fill('0000000000000000wrong0000000000');
    await page.locator('#connect-twilio-submit').click();

    const error = page.locator('#connect-twilio-error');
    await error.waitFor();
    assert.equal(await error.getAttribute('role'), 'alert');
    assert.match(await error.innerText(), /did not accept/);
    assert.equal(await sid.inputValue(), DEMO_TWILIO_SID, 'the Account SID stays filled in');
    assert.equal(await token.inputValue(), '', 'the Auth Token is never sent back');
    await screenshot(page, 'connect-wizard-error.png');
    await t.test('the error state has no serious or critical axe-core violations', async (t) => {
      assert.deepEqual(await seriousAxeViolations(t, page), []);
    });

    await token.fill(DEMO_TWILIO_TOKEN);
    await page.locator('#connect-twilio-submit').click();
    const connection =
        await expectConnection(await returned(page), 'twilio', 'user-credentials');
    assert.equal(connection.account.subject, DEMO_TWILIO_SID);

    const proxied = await api(
      'GET', `/v1/proxy/${connection.id}/2010-04-01/Accounts/${DEMO_TWILIO_SID}/Messages.json`);
    assert.equal(proxied.status, 200, proxied.text);
  });

  test('c. keyboard only: Tab to the Twilio fields, type, Enter connects', async (t) => {
    const account = await registerTwilioAccount();
    const session = await newSession('user-keyboard');
    const page = await openPage(t, session.url);
    const focusedId = () => page.evaluate(() => document.activeElement?.id ?? '');
    let presses = 0;
    while ((await focusedId()) !== 'connect-twilio-account-sid') {
      assert.ok(++presses <= 30, 'the Account SID field is reachable with Tab');
      await page.keyboard.press('Tab');
    }
    await page.keyboard.type(account.sid);
    await page.keyboard.press('Tab');
    assert.equal(await focusedId(), 'connect-twilio-auth-token', 'Tab goes on to the Auth Token');
    await page.keyboard.type(account.token);
    await page.keyboard.press('Enter');
    const connection = await expectConnection(await returned(page), 'twilio', 'user-keyboard');
    assert.equal(connection.account.subject, account.sid);
  });

  test('d. narrow screen: 360 px wide without horizontal scrolling', async (t) => {
    const session = await newSession('user-narrow');
    const page = await openPage(t, session.url, { viewport: NARROW });
    const scrollWidth = await page.evaluate(() => document.scrollingElement.scrollWidth);
    await screenshot(page, 'connect-wizard-narrow.png');
    assert.ok(scrollWidth <= NARROW.width, `scrollWidth ${scrollWidth} > ${NARROW.width}`);
  });

  test('e. the cancel link returns with status=cancelled', async (t) => {
    const session = await newSession('user-cancel');
    const page = await openPage(t, session.url);
    await page.getByRole('link', { name: 'Cancel and go back' }).click();
    const params = await returned(page);
    assert.equal(params.get('status'), 'cancelled');
    assert.equal(params.get('connection_id'), null);
  });

  test('f. refused consent: the error page passes its checks, Try again connects', async (t) => {
    // An account of its own (the sign-in hint is the end user's address): the demo account
    // belongs to user-oauth, and a Google account never silently moves to another end user.
    await googleControl('POST', 'accounts', { email: 'user-retry@example.com', name: 'Retry' }, 201);
    const session = await newSession('user-retry');
    const page = await openPage(t, session.url);
    await googleSettings({ consent_decision: 'deny' });
    t.after(() => googleSettings({ consent_decision: 'allow' }));
    await page.getByRole('button', { name: 'Connect Google' }).click();
    const retry = page.locator('#connect-error-retry');
    await retry.waitFor();
    assert.equal(await page.title(), 'Access was not granted');
    await pageChecks(t, page);
    assert.equal(await retry.getAttribute('href'), new URL(session.url).pathname,
                 'Try again goes back to the start of the same session');
    assert.match(await page.locator('#connect-error-back').getAttribute('href'),
                 /status=error&error=access_denied/);

    await googleSettings({ consent_decision: 'allow' });
    // Keyboard only: Tab to Try again, Enter.
    let presses = 0;
    while ((await page.evaluate(() => document.activeElement?.id ?? '')) !== 'connect-error-retry') {
      assert.ok(++presses <= 10, 'Try again is reachable with Tab');
      await page.keyboard.press('Tab');
    }
    await page.keyboard.press('Enter');
    await page.waitForURL(session.url);
    await page.getByRole('button', { name: 'Connect Google' }).click();
    const connection = await expectConnection(await returned(page), 'google', 'user-retry');
    assert.equal(connection.account.email, 'user-retry@example.com');
  });
});
