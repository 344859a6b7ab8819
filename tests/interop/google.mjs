// The official googleapis / google-auth-library clients against switchboard-sandbox's Google
// origin (provider-protocols.md section 0): code exchange with PKCE and id_token verification,
// refresh, events paging to a nextSyncToken, incremental sync with tombstones, ETag writes
// (412 on a stale If-Match), and a watch channel that receives the initial `sync` message.
import assert from 'node:assert/strict';
import http from 'node:http';
import { google } from 'googleapis';
import { OAuth2Client } from 'google-auth-library';
import { controlClient } from './control.mjs';

const base = process.env.SANDBOX_GOOGLE_URL;
assert.ok(base, 'SANDBOX_GOOGLE_URL is required');
const redirectUri = 'http://127.0.0.1:1/callback';

const control = controlClient(base);

async function main() {
  await control('POST', '/_sandbox/reset');
  await control('PUT', '/_sandbox/settings', { auto_consent: true });
  const account = await control('POST', '/_sandbox/accounts', { email: 'interop@example.com', name: 'Interop Tester' });
  await control('POST', '/_sandbox/clients', { client_id: 'interop-client', client_secret: 'interop-secret', redirect_uris: [redirectUri] });
  await control('POST', `/_sandbox/accounts/${account.id}/seed`, { events: 120, seed: 11 });

  const oauth = new OAuth2Client({
    clientId: 'interop-client',
    clientSecret: 'interop-secret',
    redirectUri,
    endpoints: {
      oauth2AuthBaseUrl: `${base}/o/oauth2/v2/auth`,
      oauth2TokenUrl: `${base}/token`,
      oauth2RevokeUrl: `${base}/revoke`,
      tokenInfoUrl: `${base}/tokeninfo`,
      oauth2FederatedSignonPemCertsUrl: `${base}/oauth2/v1/certs`,
      oauth2FederatedSignonJwkCertsUrl: `${base}/oauth2/v3/certs`,
    },
  });
  const { codeVerifier, codeChallenge } = await oauth.generateCodeVerifierAsync();
  const authUrl = oauth.generateAuthUrl({
    access_type: 'offline',
    scope: ['openid', 'email', 'https://www.googleapis.com/auth/calendar'],
    state: 'interop-state',
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
  });
  const consent = await fetch(authUrl, { redirect: 'manual' });
  assert.equal(consent.status, 302);
  const callback = new URL(consent.headers.get('location'));
  assert.equal(callback.searchParams.get('state'), 'interop-state');
  const { tokens } = await oauth.getToken({ code: callback.searchParams.get('code'), codeVerifier });
  assert.ok(tokens.access_token && tokens.refresh_token && tokens.id_token);
  const ticket = await oauth.verifyIdToken({ idToken: tokens.id_token, audience: 'interop-client' });
  assert.equal(ticket.getPayload().email, 'interop@example.com');
  const info = await oauth.getTokenInfo(tokens.access_token);
  assert.ok(info.scopes.includes('https://www.googleapis.com/auth/calendar'));

  // Refresh: an expired credential makes the library refresh before the next call.
  oauth.setCredentials({ ...tokens, expiry_date: Date.now() - 1000 });
  const calendar = google.calendar({ version: 'v3', auth: oauth, rootUrl: `${base}/` });
  const list = await calendar.calendarList.list();
  assert.equal(list.data.items[0].id, 'interop@example.com');
  assert.notEqual(oauth.credentials.access_token, tokens.access_token, 'the token was refreshed');

  // Full sync with paging: nextSyncToken only on the last page.
  let pageToken;
  let syncToken;
  let count = 0;
  let pages = 0;
  do {
    const page = await calendar.events.list({ calendarId: 'primary', maxResults: 25, pageToken });
    pages++;
    count += page.data.items.length;
    assert.ok(!(page.data.nextPageToken && page.data.nextSyncToken));
    pageToken = page.data.nextPageToken;
    syncToken = page.data.nextSyncToken;
  } while (pageToken);
  assert.ok(pages > 1, 'more than one page');
  assert.ok(count >= 120, `saw ${count} events`);
  assert.ok(syncToken);

  // Writes with ETags.
  const inserted = await calendar.events.insert({
    calendarId: 'primary',
    requestBody: {
      summary: 'Interop ✓',
      start: { dateTime: '2026-06-01T10:00:00+02:00', timeZone: 'Europe/Zurich' },
      end: { dateTime: '2026-06-01T11:00:00+02:00', timeZone: 'Europe/Zurich' },
    },
  });
  const patched = await calendar.events.patch(
    { calendarId: 'primary', eventId: inserted.data.id, requestBody: { summary: 'Interop patched' } },
    { headers: { 'If-Match': inserted.data.etag } });
  assert.notEqual(patched.data.etag, inserted.data.etag);
  await assert.rejects(
    calendar.events.patch(
      { calendarId: 'primary', eventId: inserted.data.id, requestBody: { summary: 'stale' } },
      { headers: { 'If-Match': inserted.data.etag } }),
    (error) => error.status === 412 && /Precondition/.test(error.message));
  const notModified = await calendar.events.get(
    { calendarId: 'primary', eventId: inserted.data.id },
    { headers: { 'If-None-Match': patched.data.etag } });
  assert.equal(notModified.status, 304);
  await calendar.events.delete({ calendarId: 'primary', eventId: inserted.data.id });

  // Incremental sync shows the patch and the tombstone.
  const delta = await calendar.events.list({ calendarId: 'primary', syncToken });
  const mine = delta.data.items.filter((item) => item.id === inserted.data.id);
  assert.equal(mine.length, 1);
  assert.deepEqual(Object.keys(mine[0]).sort(), ['etag', 'id', 'kind', 'status']);
  assert.equal(mine[0].status, 'cancelled');
  assert.ok(delta.data.nextSyncToken);

  // 410 after the sync tokens are invalidated.
  await control('POST', '/_sandbox/actions/expire-sync-tokens', {});
  await assert.rejects(calendar.events.list({ calendarId: 'primary', syncToken: delta.data.nextSyncToken }),
    (error) => error.status === 410);

  // Watch: the first push is `sync`.
  const received = [];
  const receiver = http.createServer((req, res) => {
    received.push({ state: req.headers['x-goog-resource-state'], token: req.headers['x-goog-channel-token'] });
    res.writeHead(200).end();
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const address = `http://127.0.0.1:${receiver.address().port}/push`;
  const channel = await calendar.events.watch({
    calendarId: 'primary',
    requestBody: { id: 'interop-channel', type: 'web_hook', address, token: 'interop-token' },
  });
  assert.equal(channel.data.kind, 'api#channel');
  for (let i = 0; i < 100 && received.length < 1; i++) await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(received[0], { state: 'sync', token: 'interop-token' });
  await calendar.channels.stop({ requestBody: { id: 'interop-channel', resourceId: channel.data.resourceId } });
  receiver.close();

  // Revocation ends the refresh token.
  await oauth.revokeToken(tokens.refresh_token);
  const dead = new OAuth2Client({ clientId: 'interop-client', clientSecret: 'interop-secret', endpoints: { oauth2TokenUrl: `${base}/token` } });
  dead.setCredentials({ refresh_token: tokens.refresh_token });
  await assert.rejects(dead.refreshAccessToken(), /invalid_grant/);
  console.log(`google interop ok: ${count} events in ${pages} pages`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
