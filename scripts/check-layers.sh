#!/usr/bin/env bash
# Fails when a module includes a module of a higher layer (or a peer of the same layer).
# Layer numbers follow docs/architecture.md; a module may include only lower layers and itself.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A LAYER=(
  [base]=0 [domain]=1 [caltime]=1
  [store]=2 [http]=2 [net]=2 [config]=2
  [vault]=3 [usage]=3
  [audit]=4
  [oauth]=5 [providers]=5 [jobs]=5 [tenancy]=5
  [connections]=6
  [sync]=7 [webhooks]=7 [proxy]=7
  [api]=8
  [app]=9
)

status=0
while IFS= read -r file; do
  module=$(echo "$file" | cut -d/ -f3)
  [ -n "${LAYER[$module]+x}" ] || { echo "check-layers: unknown module '$module' ($file)"; status=1; continue; }
  while IFS= read -r inc; do
    dep=$(echo "$inc" | sed -E 's|.*"sb/([a-z_]+)/.*|\1|')
    [ "$dep" = "$module" ] && continue
    if [ -z "${LAYER[$dep]+x}" ]; then
      echo "check-layers: $file includes unknown module '$dep'"; status=1
    elif [ "${LAYER[$dep]}" -ge "${LAYER[$module]}" ]; then
      echo "check-layers: $file (layer ${LAYER[$module]}, $module) includes sb/$dep (layer ${LAYER[$dep]})"
      status=1
    fi
  done < <(grep -hE '^#include "sb/' "$file" || true)
done < <(find src/sb -name '*.h' -o -name '*.cc')

# The provider sandbox (sandbox/) is a separate program: of Switchboard it may use only the
# foundations (base, http, net) and calendar time (caltime, shared with calendar sync), never
# the product's other modules.
while IFS= read -r hit; do
  echo "check-layers: sandbox code includes a Switchboard module beyond base/http/net/caltime: $hit"
  status=1
done < <(grep -rnE '^#include "sb/' sandbox --include='*.h' --include='*.cc' |
         grep -vE '"sb/(base|http|net|caltime)/' || true)
# ... and Switchboard never includes the sandbox.
if grep -rlE '^#include "sandbox/' src/sb >/dev/null 2>&1; then
  echo "check-layers: src/sb includes sandbox code: $(grep -rlE '^#include "sandbox/' src/sb)"
  status=1
fi

# Third-party libraries have one home each.
check_home() {  # pattern, allowed path regex[, folders to search (default: src/sb)]
  local hits roots=("${@:3}")
  [ ${#roots[@]} -gt 0 ] || roots=(src/sb)
  hits=$(grep -rlE "$1" "${roots[@]}" | grep -vE "$2" || true)
  if [ -n "$hits" ]; then echo "check-layers: '$1' outside its home: $hits"; status=1; fi
}
check_home '#include <sqlite3.h>' '^src/sb/store/sqlite/'
check_home '#include <(libpq-fe|postgresql/libpq-fe).h>' '^src/sb/store/postgres/'
check_home '#include <openssl/' '^src/sb/(vault|net)/'
check_home '#include <boost/beast' '^src/sb/(http|net)/'
check_home '#include <curl/' '^src/sb/net/'
check_home '#include <toml' '^src/sb/config/'
check_home '#include <spdlog' '^src/sb/base/logging'
# libical (included as <libical/ical.h> or, with its pkg-config include path, <ical.h>) is
# also kept out of the sandbox and the benchmarks: they reach it through sb/caltime.
check_home '#include <(libical/)?ical' '^src/sb/caltime/' src/sb sandbox bench

[ $status -eq 0 ] && echo "check-layers: ok"
exit $status
