#!/usr/bin/env bash
# Runs the official client libraries (google.mjs, graph.mjs) against a fresh switchboard-sandbox
# on ephemeral ports in a temporary directory. Usage: run.sh <path to switchboard-sandbox>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
sandbox_bin="$1"
if [ ! -f "$here/node_modules/.package-lock.json" ] ||
   [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  (cd "$here" && npm ci --no-audit --no-fund >/dev/null)
fi
work="$(mktemp -d)"
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
"$sandbox_bin" --google-port 0 --microsoft-port 0 --keyed-port 0 --state-dir "$work" --auto-consent \
  >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 1 100); do
  [ -s "$work/sandbox.json" ] && grep -q google_url "$work/out" && break
  sleep 0.1
done
google_url=$(node -e "console.log(require('$work/sandbox.json').google_url)")
microsoft_url=$(node -e "console.log(require('$work/sandbox.json').microsoft_url)")
export SANDBOX_GOOGLE_URL="$google_url" SANDBOX_MICROSOFT_URL="$microsoft_url"
export NODE_EXTRA_CA_CERTS="$work/ca.pem"
status=0
for script in "${@:2}"; do
  if ! node "$here/$script"; then
    echo "interop: $script failed"; status=1
  fi
done
exit $status
