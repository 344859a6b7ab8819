#!/usr/bin/env bash
# Installs the Debian 12 packages Switchboard needs to build, run and test.
# Idempotent: when everything is present it only runs dpkg-query and exits (well under a second).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libboost-dev libboost-system-dev libboost-coroutine-dev
  libssl-dev libargon2-dev libcurl4-openssl-dev libsqlite3-dev libpq-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev libtomlplusplus-dev libical-dev tzdata
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev lld clang-format clang-tidy
  postgresql-15 postgresql-client-15
  wrk curl ca-certificates
  chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# Node.js runs the interop tests (tests/interop) with the providers' official npm clients,
# generates, type-checks and tests the TypeScript API client (web/client), builds the operator
# dashboard (web/dashboard: Vite, React, Vitest), and drives Debian's
# chromium (/usr/bin/chromium) in the browser tests (tests/browser, playwright-core: it downloads
# no browser of its own).
command -v node >/dev/null 2>&1 || missing+=(nodejs npm)

# The folders with npm packages, each pinned by its package-lock.json.
NPM_FOLDERS=(tests/interop web/client web/dashboard tests/browser)

npm_ci() {
  # Installs a folder's npm packages again when its lock file is newer than what npm last
  # installed there.
  local dir="$1"
  local installed="$dir/node_modules/.package-lock.json"
  if [ ! -f "$installed" ] || [ "$dir/package-lock.json" -nt "$installed" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund >/dev/null)
  fi
}

install_npm_packages() {
  local dir
  for dir in "${NPM_FOLDERS[@]}"; do
    npm_ci "$dir"
  done
}

if [ ${#missing[@]} -eq 0 ]; then
  install_npm_packages
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_npm_packages
