#include "sb/app/security.h"

#include "sb/vault/hkdf.h"

namespace sb::app {

Result<Security> SetUpSecurity(const config::Config& config, const Clock& clock, Random& random,
                               IdGenerator& ids, std::ostream& warn) {
  const bool development = config.mode == "development";
  Security s;
  s.key_source = vault::KeySource{config.vault.key_file, config.vault.master_keys};
  SB_ASSIGN_OR_RETURN(std::shared_ptr<const vault::Keyring> keyring,
                      vault::LoadOrCreateKeyring(s.key_source, development, random, warn));
  s.vault = std::make_unique<vault::Vault>(std::move(keyring), random);
  s.secrets = std::make_unique<vault::SecretStore>(
      *s.vault, clock, [source = s.key_source] { return vault::LoadKeyring(source); });
  SB_ASSIGN_OR_RETURN(audit::AuditKeys audit_keys,
                      audit::LoadOrCreateAuditKeys(config.audit.key_file, development, random));
  if (audit_keys.generated()) {
    warn << "################################################################################\n"
         << "#  WARNING: generated " << config.audit.key_file << ", DEVELOPMENT audit keys.\n"
         << "#  Production needs audit keys you keep outside the database (audit.key_file).\n"
         << "################################################################################\n";
  }
  SB_ASSIGN_OR_RETURN(
      s.connect_csrf_key,
      vault::HkdfSha256(audit_keys.hmac_key(), "", "switchboard connect page csrf v1", 32));
  s.audit = std::make_unique<audit::AuditLog>(clock, ids, std::move(audit_keys),
                                              config.audit.checkpoint_interval);
  return s;
}

vault::AuditHook SystemAuditHook(audit::AuditLog& log, audit::Actor actor) {
  return [&log, actor = std::move(actor)](store::Transaction& tx, const std::string& action,
                                          const Json& details) {
    audit::Event event;
    event.actor = actor;
    event.action = action;
    event.target = "vault";
    event.outcome = audit::Outcome::kSuccess;
    event.details = details;
    return log.Append(tx, vault::SystemTenant(), event);
  };
}

}  // namespace sb::app
