#!/usr/bin/env bash
# Browser tests of the hosted Connect wizard (connect.test.mjs) and of the operator dashboard
# (dashboard.test.mjs): a fresh switchboard-sandbox and a fresh Switchboard (SQLite, keys, config
# and a dashboard build in a temporary directory, free ports on 127.0.0.1), then Node's test
# runner driving Debian's Chromium through playwright-core.
# Usage: run.sh <path to switchboard> <path to switchboard-sandbox>
# Environment: CHROMIUM (default /usr/bin/chromium), SCREENSHOT_DIR (default docs/screenshots),
# BROWSER_TESTS (default "connect.test.mjs dashboard.test.mjs").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ $# -ne 2 ]; then
  echo "usage: $0 <switchboard> <switchboard-sandbox>" >&2
  exit 2
fi
sb_bin="$(realpath "$1")"
sandbox_bin="$(realpath "$2")"
chromium="${CHROMIUM:-/usr/bin/chromium}"
for f in "$sb_bin" "$sandbox_bin" "$chromium"; do
  [ -x "$f" ] || { echo "browser: $f is not an executable (scripts/install-deps.sh)" >&2; exit 2; }
done
if [ ! -f "$here/node_modules/.package-lock.json" ] ||
   [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  (cd "$here" && npm ci --no-audit --no-fund >/dev/null)
fi
dashboard_src="$(dirname "$(dirname "$here")")/web/dashboard"
if [ ! -f "$dashboard_src/node_modules/.package-lock.json" ] ||
   [ "$dashboard_src/package-lock.json" -nt "$dashboard_src/node_modules/.package-lock.json" ]; then
  (cd "$dashboard_src" && npm ci --no-audit --no-fund >/dev/null)
fi

# Hermetic: no SWITCHBOARD_* variable of the caller overrides the config written below.
while read -r name; do unset "$name"; done < <(compgen -e | grep '^SWITCHBOARD_' || true)

work="$(mktemp -d)"
sandbox_pid="" server_pid=""
stop() {  # stop PID: SIGTERM, up to 10 s, then SIGKILL
  local pid="$1"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
show_logs() {
  for log in sandbox.out sandbox.err server.log; do
    [ -s "$work/$log" ] || continue
    echo "---- $log (last 80 lines) ----"
    tail -n 80 "$work/$log"
  done
}
cleanup() {
  local status=$?
  stop "$server_pid"
  stop "$sandbox_pid"
  [ "$status" -ne 0 ] && show_logs
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "browser: $*" >&2; exit 1; }

# The dashboard, built into the temporary directory (not dist/, which ctest web_dashboard builds).
(cd "$dashboard_src" && npm run --silent build-client >/dev/null &&
  npx vite build --outDir "$work/dashboard" --emptyOutDir --logLevel error >/dev/null) ||
  fail "the dashboard build failed"

# The provider sandbox on free ports; it writes its URLs to sandbox.json once every origin listens.
"$sandbox_bin" --google-port 0 --microsoft-port 0 --keyed-port 0 --state-dir "$work" \
  --auto-consent --demo >"$work/sandbox.out" 2>"$work/sandbox.err" &
sandbox_pid=$!
for _ in $(seq 1 300); do
  [ -s "$work/sandbox.json" ] && grep -q keyed_url "$work/sandbox.json" && break
  kill -0 "$sandbox_pid" 2>/dev/null || fail "the sandbox exited at start"
  sleep 0.1
done
[ -s "$work/sandbox.json" ] || fail "the sandbox did not write sandbox.json within 30 s"
sandbox() { node -e "process.stdout.write(require(process.argv[1])[process.argv[2]])" \
  "$work/sandbox.json" "$1"; }
google_url="$(sandbox google_url)"
microsoft_url="$(sandbox microsoft_url)"
keyed_url="$(sandbox keyed_url)"
ca_file="$(sandbox ca_file)"

# A free port for Switchboard: public_url must name it before the server starts.
port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{
  process.stdout.write(String(s.address().port)); s.close();})")"
base_url="http://127.0.0.1:$port"
config="$work/switchboard.toml"
cat >"$config" <<EOF
mode = "development"

[server]
listen = "127.0.0.1:$port"
public_url = "$base_url"
io_threads = 2
worker_threads = 4
shutdown_grace_ms = 2000

[database]
url = "sqlite:$work/switchboard.db"

[vault]
key_file = "$work/master.key"

[audit]
key_file = "$work/audit.key"

[providers]
google_url = "$google_url"
microsoft_url = "$microsoft_url"
keyed_url = "$keyed_url"
ca_file = "$ca_file"

[webhooks]
# dashboard.test.mjs delivers to a local failing endpoint.
allow_http = true
allow_private_targets = true

[dashboard]
assets_dir = "$work/dashboard"
# Sign-in with Google through the sandbox's demo OAuth app (any redirect URI).
google_client_id = "switchboard-demo.apps.googleusercontent.com"
google_client_secret = "sandbox-demo-secret"

[log]
level = "info"
EOF

sb() { timeout 60 "$sb_bin" --config "$config" "$@" 2>>"$work/server.log"; }
sb migrate up >/dev/null || fail "migrate up failed"
tenant_id="$(sb tenant create --name Acme --quiet)" || fail "tenant create failed"
api_key="$(sb apikey create --tenant "$tenant_id" --name browser-tests --scopes read,write \
  --quiet)" || fail "apikey create failed"
admin_api_key="$(sb apikey create --tenant "$tenant_id" --name browser-tests-admin \
  --scopes read,admin --quiet)" || fail "apikey create (admin) failed"
[ -n "$tenant_id" ] && [ -n "$api_key" ] && [ -n "$admin_api_key" ] ||
  fail "no tenant id or API key printed"
system_tenant="00000000-0000-0000-0000-000000000000"
[ "$(sb tenant create --system --name Operator --quiet)" = "$system_tenant" ] ||
  fail "tenant create --system failed"
# Dashboard users: the tenant's admin and viewer, and an operator of the system tenant.
admin_email="admin@acme.example" viewer_email="viewer@acme.example"
operator_email="operator@switchboard.example"
admin_password="$(sb user create --tenant "$tenant_id" --email "$admin_email" --role admin \
  --quiet)" || fail "user create (admin) failed"
viewer_password="$(sb user create --tenant "$tenant_id" --email "$viewer_email" --role viewer \
  --quiet)" || fail "user create (viewer) failed"
operator_password="$(sb user create --tenant "$system_tenant" --email "$operator_email" \
  --role operator --quiet)" || fail "user create (operator) failed"
[ -n "$admin_password" ] && [ -n "$viewer_password" ] && [ -n "$operator_password" ] ||
  fail "user create printed no password"

"$sb_bin" --config "$config" serve >>"$work/server.log" 2>&1 &
server_pid=$!
healthy='fetch(process.argv[1], {signal: AbortSignal.timeout(2000)})
  .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))'
ready=""
for _ in $(seq 1 300); do
  kill -0 "$server_pid" 2>/dev/null || fail "switchboard serve exited at start"
  if node -e "$healthy" "$base_url/healthz" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.1
done
[ -n "$ready" ] || fail "$base_url/healthz did not answer 200 within 300 tries (about 60 s)"

export SB_BASE_URL="$base_url" SB_API_KEY="$api_key" SB_TENANT_ID="$tenant_id"
export SB_ADMIN_API_KEY="$admin_api_key" SB_SYSTEM_TENANT_ID="$system_tenant"
export SB_ADMIN_EMAIL="$admin_email" SB_ADMIN_PASSWORD="$admin_password"
export SB_VIEWER_EMAIL="$viewer_email" SB_VIEWER_PASSWORD="$viewer_password"
export SB_OPERATOR_EMAIL="$operator_email" SB_OPERATOR_PASSWORD="$operator_password"
export SANDBOX_GOOGLE_URL="$google_url" SANDBOX_MICROSOFT_URL="$microsoft_url"
export SANDBOX_KEYED_URL="$keyed_url" CHROMIUM="$chromium"
export SCREENSHOT_DIR="${SCREENSHOT_DIR:-$(dirname "$(dirname "$here")")/docs/screenshots}"
export NODE_EXTRA_CA_CERTS="$ca_file"
cd "$here"
# One file after the other (--test-concurrency=1): both use the one server and sandbox.
# BROWSER_TESTS (default: both) picks the files, e.g. BROWSER_TESTS=dashboard.test.mjs.
read -r -a files <<<"${BROWSER_TESTS:-connect.test.mjs dashboard.test.mjs}"
timeout 420 node --test --test-concurrency=1 --test-reporter=spec "${files[@]}" ||
  fail "the browser tests failed"
