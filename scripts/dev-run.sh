#!/usr/bin/env bash
# `make run`: initialises ./var/ on first use and starts Switchboard on 127.0.0.1:8080.
# Also starts switchboard-sandbox (the Google and Microsoft emulators) beside it.
# Creates: the SQLite database (migrated) and the system tenant with an operator API key and an
# operator dashboard user (operator@localhost) whose password is printed once. The first command that needs them generates the development master key
# (var/master.key) and audit keys (var/audit.key), mode 0600, with a loud warning.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=build/release/src/sb/app/switchboard
SANDBOX_BIN=build/release/sandbox/app/switchboard-sandbox
CONFIG=${SWITCHBOARD_CONFIG:-config/switchboard.dev.toml}
mkdir -p var
chmod 700 var

"$BIN" --config "$CONFIG" migrate up

# The deployment operator: the system tenant (the nil id) and an operator key. A ./var/ made
# before the operator role existed gets them on its next start; its old bootstrap admin key
# then administers only its own tenant.
if [ ! -f var/operator.done ]; then
  system=00000000-0000-0000-0000-000000000000
  "$BIN" --config "$CONFIG" tenant create --system --name "Operator" --quiet >/dev/null
  echo
  echo "Operator API key (system tenant $system; shown once, store it now):"
  "$BIN" --config "$CONFIG" apikey create --tenant "$system" --name operator \
    --scopes operator,admin,read,write --quiet
  echo
  touch var/operator.done
fi

# A dashboard user for the operator (the system tenant's workspace). A ./var/ made before the
# dashboard existed gets one on its next start.
if [ ! -f var/dashboard-user.done ]; then
  system=00000000-0000-0000-0000-000000000000
  echo
  echo "Dashboard sign-in (http://127.0.0.1:8080/dashboard/): workspace $system,"
  echo "e-mail operator@localhost, password (shown once, store it now):"
  "$BIN" --config "$CONFIG" user create --tenant "$system" --email operator@localhost \
    --name Operator --role operator --quiet
  echo
  touch var/dashboard-user.done
fi
# The sandbox's Google demo account signs in with "Sign in with Google" as an operator too (its
# generated password is not needed and not shown).
if [ ! -f var/dashboard-oidc-user.done ]; then
  "$BIN" --config "$CONFIG" user create --tenant 00000000-0000-0000-0000-000000000000 \
    --email demo@example.com --name "Demo (Google)" --role operator --quiet >/dev/null
  echo "Dashboard: demo@example.com signs in with Google (the sandbox) in the same workspace."
  touch var/dashboard-oidc-user.done
fi

# The provider sandbox (Google on :8081, Microsoft on https://127.0.0.1:8443) with a seeded
# demo account on each; the dev config points Switchboard's provider endpoints at it.
"$SANDBOX_BIN" --state-dir var/sandbox --google-port 8081 --microsoft-port 8443 --keyed-port 8082 --demo \
  >var/sandbox.log 2>&1 &
sandbox_pid=$!
trap 'kill $sandbox_pid 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 50); do grep -q google_url var/sandbox.log 2>/dev/null && break; sleep 0.1; done
echo "Provider sandbox: $(head -1 var/sandbox.log)"
echo "  Google demo account demo@example.com, client switchboard-demo.apps.googleusercontent.com"
echo "  Microsoft demo account demo@contoso.example, client 5b7e1a9c-0000-4000-8000-00000000de00"
echo "  (client secret for both: sandbox-demo-secret)"

"$BIN" --config "$CONFIG" serve
