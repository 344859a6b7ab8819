#!/usr/bin/env bash
# `make run`: initialises ./var/ on first use and starts Switchboard on 127.0.0.1:8080.
# Creates: the SQLite database (migrated) and a bootstrap tenant with an admin API key that is
# printed once. The first command that needs them generates the development master key
# (var/master.key) and audit keys (var/audit.key), mode 0600, with a loud warning.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=build/release/src/sb/app/switchboard
CONFIG=${SWITCHBOARD_CONFIG:-config/switchboard.dev.toml}
mkdir -p var
chmod 700 var

"$BIN" --config "$CONFIG" migrate up

if [ ! -f var/bootstrap.done ]; then
  tenant=$("$BIN" --config "$CONFIG" tenant create --name "Operator" --quiet)
  echo
  echo "Bootstrap tenant: $tenant"
  echo "Bootstrap admin API key (shown once, store it now):"
  "$BIN" --config "$CONFIG" apikey create --tenant "$tenant" --name bootstrap-admin \
    --scopes admin,read,write --quiet
  echo
  touch var/bootstrap.done
fi

exec "$BIN" --config "$CONFIG" serve
