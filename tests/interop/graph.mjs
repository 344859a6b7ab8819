// The official @microsoft/microsoft-graph-client against switchboard-sandbox's Microsoft origin
// over HTTPS (provider-protocols.md 0.4; NODE_EXTRA_CA_CERTS trusts the sandbox CA): the v2.0
// code exchange with PKCE and a rotating refresh, events CRUD with If-Match, calendarView delta
// paging to a deltaLink and a second round with an update and a removal, and a subscription
// whose validation handshake a local receiver answers.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { Client } from '@microsoft/microsoft-graph-client';
import { controlClient } from './control.mjs';

const base = process.env.SANDBOX_MICROSOFT_URL;
assert.ok(base && base.startsWith('https://'), 'SANDBOX_MICROSOFT_URL (https) is required');
const redirectUri = 'http://127.0.0.1:1/callback';
const clientId = '11111111-2222-4333-8444-555555555555';

const control = controlClient(base);

async function tokenRequest(fields) {
  const response = await fetch(`${base}/common/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: response.status, body: await response.json() };
}

async function main() {
  await control('POST', '/_sandbox/reset');
  await control('PUT', '/_sandbox/settings', { auto_consent: true, default_page_size: 10 });
  const account = await control('POST', '/_sandbox/accounts', { email: 'interop@contoso.example', name: 'Interop Tester' });
  await control('POST', '/_sandbox/clients', { client_id: clientId, client_secret: 'interop-secret', redirect_uris: [redirectUri] });
  await control('POST', `/_sandbox/accounts/${account.id}/seed`, { events: 30, seed: 5 });

  // Authorization code + PKCE.
  const verifier = crypto.randomBytes(48).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  const authorize = new URL(`${base}/common/oauth2/v2.0/authorize`);
  authorize.search = new URLSearchParams({
    client_id: clientId, response_type: 'code', redirect_uri: redirectUri,
    scope: 'openid profile email offline_access User.Read Calendars.ReadWrite',
    state: 'ms-state', code_challenge: challenge, code_challenge_method: 'S256', nonce: 'ms-nonce',
  }).toString();
  const consent = await fetch(authorize, { redirect: 'manual' });
  assert.equal(consent.status, 302);
  const callback = new URL(consent.headers.get('location'));
  assert.equal(callback.searchParams.get('state'), 'ms-state');
  const exchanged = await tokenRequest({
    client_id: clientId, client_secret: 'interop-secret', grant_type: 'authorization_code',
    code: callback.searchParams.get('code'), redirect_uri: redirectUri, code_verifier: verifier,
  });
  assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
  assert.ok(exchanged.body.refresh_token && exchanged.body.id_token);
  const claims = JSON.parse(Buffer.from(exchanged.body.id_token.split('.')[1], 'base64url'));
  assert.equal(claims.preferred_username, 'interop@contoso.example');
  assert.equal(claims.nonce, 'ms-nonce');
  assert.ok(claims.tid && claims.oid);
  const refreshed = await tokenRequest({
    client_id: clientId, client_secret: 'interop-secret', grant_type: 'refresh_token',
    refresh_token: exchanged.body.refresh_token, scope: 'Calendars.ReadWrite offline_access',
  });
  assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
  assert.notEqual(refreshed.body.refresh_token, exchanged.body.refresh_token, 'refresh tokens rotate');
  let accessToken = refreshed.body.access_token;

  const client = Client.init({
    authProvider: (done) => done(null, accessToken),
    baseUrl: base,
    customHosts: new Set([new URL(base).hostname]),
  });
  const me = await client.api('/me').get();
  assert.equal(me.id, claims.oid);

  // Events CRUD with ETags.
  const created = await client.api('/me/events').post({
    subject: 'Interop ✓',
    start: { dateTime: '2026-06-01T10:00:00', timeZone: 'W. Europe Standard Time' },
    end: { dateTime: '2026-06-01T11:00:00', timeZone: 'W. Europe Standard Time' },
  });
  assert.ok(created.id && created['@odata.etag']);
  const updated = await client.api(`/me/events/${created.id}`).header('If-Match', created['@odata.etag']).patch({ subject: 'Interop patched' });
  assert.notEqual(updated.changeKey, created.changeKey);
  await assert.rejects(
    client.api(`/me/events/${created.id}`).header('If-Match', created['@odata.etag']).patch({ subject: 'stale' }),
    (error) => error.statusCode === 412);
  const fetched = await client.api(`/me/events/${created.id}`).get();
  assert.equal(fetched.subject, 'Interop patched');

  // calendarView delta: nextLink pages, then a deltaLink.
  const window = { startDateTime: '2025-01-01T00:00:00Z', endDateTime: '2028-01-01T00:00:00Z' };
  let page = await client.api('/me/calendarView/delta').query(window).header('Prefer', 'odata.maxpagesize=7').get();
  let pages = 1;
  let seen = page.value.length;
  while (page['@odata.nextLink']) {
    assert.ok(page['@odata.nextLink'].startsWith('https://'));
    page = await client.api(page['@odata.nextLink']).header('Prefer', 'odata.maxpagesize=7').get();
    pages++;
    seen += page.value.length;
  }
  assert.ok(pages > 1, 'delta paged');
  assert.ok(seen > 0);
  const deltaLink = page['@odata.deltaLink'];
  assert.ok(deltaLink && deltaLink.startsWith('https://'));

  // Second round: one update and one deletion.
  await client.api(`/me/events/${created.id}`).patch({ subject: 'Second round' });
  const doomed = await client.api('/me/events').post({
    subject: 'to delete',
    start: { dateTime: '2026-06-02T10:00:00', timeZone: 'UTC' },
    end: { dateTime: '2026-06-02T11:00:00', timeZone: 'UTC' },
  });
  await client.api(`/me/events/${doomed.id}`).delete();
  let round = await client.api(deltaLink).get();
  const changes = [...round.value];
  while (round['@odata.nextLink']) {
    round = await client.api(round['@odata.nextLink']).get();
    changes.push(...round.value);
  }
  assert.ok(changes.some((item) => item.id === created.id && item.subject === 'Second round'));
  assert.ok(changes.some((item) => item.id === doomed.id && item['@removed']));
  assert.ok(round['@odata.deltaLink']);

  // Subscription with the validation handshake.
  const notifications = [];
  let validated = false;
  const receiver = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const token = url.searchParams.get('validationToken');
    if (token) {
      validated = true;
      res.writeHead(200, { 'content-type': 'text/plain' }).end(token);
      return;
    }
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      notifications.push(JSON.parse(body));
      res.writeHead(202).end();
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const notificationUrl = `http://127.0.0.1:${receiver.address().port}/notify`;
  const subscription = await client.api('/subscriptions').post({
    changeType: 'created,updated,deleted',
    notificationUrl,
    resource: '/me/events',
    expirationDateTime: new Date(Date.now() + 3600_000).toISOString(),
    clientState: 'interop-state',
  });
  assert.ok(validated, 'validation handshake ran');
  assert.equal(subscription.clientState, 'interop-state');
  await client.api(`/me/events/${created.id}`).patch({ subject: 'Notify me' });
  for (let i = 0; i < 100 && notifications.length === 0; i++) await new Promise((r) => setTimeout(r, 30));
  assert.ok(notifications.length > 0, 'a change notification arrived');
  assert.equal(notifications[0].value[0].clientState, 'interop-state');
  await client.api(`/subscriptions/${subscription.id}`).delete();
  receiver.close();
  console.log(`graph interop ok: ${seen} items in ${pages} delta pages`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
