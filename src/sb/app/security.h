// The security components every entry point needs, built the same way for `serve` and for the
// CLI: the master keyring (SWITCHBOARD_MASTER_KEYS or vault.key_file; generated with a loud
// warning in development, required in production), the Vault and SecretStore over it, and the
// audit log with its keys (audit.key_file, outside the database).
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include "sb/audit/audit_log.h"
#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/random.h"
#include "sb/base/status.h"
#include "sb/config/config.h"
#include "sb/vault/envelope.h"
#include "sb/vault/key_admin.h"
#include "sb/vault/key_source.h"
#include "sb/vault/secret_store.h"

namespace sb::app {

struct Security {
  vault::KeySource key_source;
  std::unique_ptr<vault::Vault> vault;
  std::unique_ptr<vault::SecretStore> secrets;
  std::unique_ptr<audit::AuditLog> audit;
  // The connect page's CSRF key: HKDF-SHA256 of the audit HMAC key (audit.key_file, the same on
  // every node and outside the database) with its own label, so the two uses stay apart.
  vault::SecretBytes connect_csrf_key;
};

// `clock`, `random` and `ids` must outlive the result. Warnings about generated development
// keys go to `warn`.
Result<Security> SetUpSecurity(const config::Config& config, const Clock& clock, Random& random,
                               IdGenerator& ids, std::ostream& warn);

// An AuditHook that appends to the system tenant's chain as `actor` (key administration).
vault::AuditHook SystemAuditHook(audit::AuditLog& log, audit::Actor actor);

}  // namespace sb::app
