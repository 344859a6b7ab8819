// The sandbox's control API (/_sandbox/...) for the interop scripts: a JSON call that fails
// the script on any non-2xx answer.
import assert from 'node:assert/strict';

export function controlClient(base) {
  return async function control(method, path, body) {
    const response = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : {};
  };
}
