// SecurityKit: the security layers a service test or benchmark stands on, set up one way: a
// fresh one-key keyring (version 1, 256 random bits), the vault over it, the SecretStore, and
// an AuditLog with fresh keys. Header-only, for tests and benches; `clock`, `random` and `ids`
// must outlive the kit. Also InsertTenant, the tenant row every service test starts from.
#pragma once

#include <memory>
#include <string>

#include "sb/audit/audit_keys.h"
#include "sb/audit/audit_log.h"
#include "sb/base/check.h"
#include "sb/base/clock.h"
#include "sb/base/encoding.h"
#include "sb/base/ids.h"
#include "sb/base/random.h"
#include "sb/store/database.h"
#include "sb/store/tenancy/tenant_repository.h"
#include "sb/vault/envelope.h"
#include "sb/vault/keyring.h"
#include "sb/vault/secret_store.h"

namespace sb::audit::testing {

class SecurityKit {
 public:
  SecurityKit(const Clock& clock, Random& random, IdGenerator& ids, int checkpoint_interval = 1000)
      : keyring_(NewKeyring(random)),
        vault_(keyring_, random),
        secrets_(
            vault_, clock,
            [ring = keyring_]() -> Result<std::shared_ptr<const vault::Keyring>> { return ring; }),
        audit_(clock, ids, AuditKeys::Generate(random), checkpoint_interval) {}

  vault::Vault& vault() { return vault_; }
  vault::SecretStore& secrets() { return secrets_; }
  AuditLog& audit() { return audit_; }

 private:
  static std::shared_ptr<const vault::Keyring> NewKeyring(Random& random) {
    auto keyring = vault::ParseKeyring("1:" + Base64Encode(random.Bytes(32)), "test");
    SB_CHECK(keyring.ok());
    return std::make_shared<const vault::Keyring>(std::move(*keyring));
  }

  std::shared_ptr<const vault::Keyring> keyring_;
  vault::Vault vault_;
  vault::SecretStore secrets_;
  AuditLog audit_;
};

// Inserts a tenant row with a fresh id; the id, or the error.
inline Result<TenantId> InsertTenant(store::Database& db, IdGenerator& ids, const Clock& clock,
                                     const std::string& name = "t") {
  TenantId id(ids.NewUuid());
  SB_RETURN_IF_ERROR(db.RunInTenant(id, [&](store::Transaction& tx) {
    return store::TenantRepository().Insert(tx, id, {id, name, clock.Now()});
  }));
  return id;
}

}  // namespace sb::audit::testing
