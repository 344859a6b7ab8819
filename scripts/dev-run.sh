#!/usr/bin/env bash
# `make run`: initialises ./var/ on first use and starts Switchboard on 127.0.0.1:8080.
# Creates: the SQLite database (migrated), a development master key (0600), and a bootstrap
# tenant with an admin API key that is printed once.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=build/release/src/sb/app/switchboard
CONFIG=${SWITCHBOARD_CONFIG:-config/switchboard.dev.toml}
mkdir -p var
chmod 700 var

if [ ! -f var/master.key ]; then
  (umask 077 && printf '1:%s\n' "$(head -c 32 /dev/urandom | base64 -w0)" > var/master.key)
  chmod 600 var/master.key
  cat >&2 <<'WARN'
################################################################################
#  WARNING: generated var/master.key, a DEVELOPMENT master key.                #
#  It protects nothing on a shared disk. Never use it in production: there,    #
#  provide keys through a key file you manage or SWITCHBOARD_MASTER_KEYS.      #
################################################################################
WARN
fi

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
