#!/usr/bin/env bash
# Installs the Debian 12 packages Switchboard needs to build, run and test.
# Idempotent: when everything is present it only runs dpkg-query and exits (well under a second).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libboost-dev libboost-system-dev libboost-coroutine-dev
  libssl-dev libcurl4-openssl-dev libsqlite3-dev libpq-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev libtomlplusplus-dev libical-dev tzdata
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev clang-format clang-tidy
  postgresql-15 postgresql-client-15
  wrk curl ca-certificates
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# Node.js runs the interop tests (tests/interop) with the providers' official npm clients.
command -v node >/dev/null 2>&1 || missing+=(nodejs npm)

install_interop() {
  # The interop tests' npm packages, pinned by tests/interop/package-lock.json; installed again
  # when the lock file is newer than what npm last installed.
  local installed=tests/interop/node_modules/.package-lock.json
  if [ ! -f "$installed" ] || [ tests/interop/package-lock.json -nt "$installed" ]; then
    (cd tests/interop && npm ci --no-audit --no-fund >/dev/null)
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  install_interop
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
install_interop
