#!/usr/bin/env bash
# HTTP benchmark of the Release build on SQLite with wrk: authenticated GET /v1/tenants/{id}
# and, in the same run, the same server's GET /healthz as the baseline. 64 connections.
# Usage: bench/run.sh [seconds]   (make bench runs it with the default of 10)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${CONNECTIONS:-64}
threads=${WRK_THREADS:-2}
BIN=${SWITCHBOARD_BIN:-build/release/src/sb/app/switchboard}  # another build: SWITCHBOARD_BIN=path
[ -x "$BIN" ] || { echo "bench: build Release first (make build-release)"; exit 1; }

work=$(mktemp -d /tmp/sb-bench.XXXXXX)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export SWITCHBOARD_DATABASE_URL="sqlite:$work/bench.db"
export SWITCHBOARD_SERVER_LISTEN="127.0.0.1:$port"
export SWITCHBOARD_SERVER_IO_THREADS=${IO_THREADS:-2}
export SWITCHBOARD_SERVER_WORKER_THREADS=${WORKER_THREADS:-4}
export SWITCHBOARD_DATABASE_POOL_SIZE=${WORKER_THREADS:-4}
export SWITCHBOARD_LIMITS_REQUESTS_PER_SECOND=1000000000
export SWITCHBOARD_LIMITS_BURST=1000000000
export SWITCHBOARD_LOG_LEVEL=${LOG_LEVEL:-info}

"$BIN" migrate up >/dev/null
tenant=$("$BIN" tenant create --name bench --quiet)
key=$("$BIN" apikey create --tenant "$tenant" --name bench --scopes read --quiet)
"$BIN" serve > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/v1/tenants/$tenant" -H "Authorization: Bearer $key" >/dev/null

run() {  # name, path, extra wrk args...
  local name=$1 path=$2
  shift 2
  local out
  out=$(wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency "$@" "http://127.0.0.1:$port$path")
  local rps p50 p99 non2xx
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  printf '| %s | %s | %s | %s | %s |\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}"
}

echo "wrk -t$threads -c$connections -d${seconds}s --latency; server io_threads=$SWITCHBOARD_SERVER_IO_THREADS worker_threads=$SWITCHBOARD_SERVER_WORKER_THREADS log.level=$SWITCHBOARD_LOG_LEVEL (access log on at info); $(nproc) cores"
echo "| route | req/s | p50 | p99 | non-2xx |"
echo "| --- | --- | --- | --- | --- |"
run "GET /healthz (baseline)" /healthz
run "GET /v1/tenants/{id} (authenticated, SQLite)" "/v1/tenants/$tenant" -H "Authorization: Bearer $key"
