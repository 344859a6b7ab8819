// `switchboard audit ...`: the audit log's operator commands (security.md 5, TL-04/TL-05).
//   audit verify [--tenant ID] [--checkpoints FILE]
//       Verifies one tenant's chain (app connection, database.url) or, without --tenant, every
//       chain (maintenance connection, database.maintenance_url: on PostgreSQL the BYPASSRLS
//       role). FILE holds checkpoints exported earlier (JSON lines, as printed by `audit
//       checkpoints`); they also catch a chain rewritten wholesale. Prints
//       "ok: N entries in M chains" and exits 0, or names the tenant, seq, id and reason of the
//       first bad entry of each bad chain and exits 1.
//   audit checkpoints --tenant ID
//       Signs the tenant's current head (unless nothing was appended since the last
//       checkpoint) and prints all its checkpoints as JSON lines, for storage outside the
//       database (TL-04).
//   audit public-key
//       Prints the base64 Ed25519 public key that verifies checkpoints.
//   audit init-keys
//       Creates the audit key file (audit.key_file), in any mode; never overwrites one.
//   audit hash < value
//       Prints "hmac-sha256:<hex>" of the value read from standard input (one trailing newline
//       removed), the form in which audit entries record secrets (AUD-02): an investigator can
//       search the log for a leaked token without the log ever holding it.
// The audit keys come from audit.key_file; in development a missing file is created with a loud
// warning on `err`, in production it is an error naming the file.
#pragma once

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "sb/config/config.h"

namespace sb::app {

// `words` starts with "audit". Returns the exit code: 0 done (and the log verified), 1 failed
// or tampering found, 2 usage error.
int AuditCommand(const config::Config& config, const std::vector<std::string>& words,
                 const std::map<std::string, std::string>& flags, std::istream& in,
                 std::ostream& out, std::ostream& err);

}  // namespace sb::app
