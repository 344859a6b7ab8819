#include "sb/vault/secret_store.h"

#include <string>

namespace sb::vault {

SecretStore::SecretStore(Vault& vault, const Clock& clock, KeyringLoader reload)
    : vault_(vault), clock_(clock), reload_(std::move(reload)) {}

Status SecretStore::ReloadKeyring() {
  if (!reload_) return FailedPreconditionError("vault: the keyring cannot be reloaded");
  SB_ASSIGN_OR_RETURN(std::shared_ptr<const Keyring> keyring, reload_());
  vault_.SetKeyring(std::move(keyring));
  return OkStatus();
}

Status SecretStore::Apply(const store::VaultState& state) {
  const auto write = static_cast<uint32_t>(state.write_version);
  const auto min = static_cast<uint32_t>(state.min_decrypt_version);
  if (vault_.write_version() == write && vault_.min_decrypt_version() == min) return OkStatus();
  if (vault_.keyring()->Find(write) == nullptr) {
    SB_RETURN_IF_ERROR(ReloadKeyring());
    if (vault_.keyring()->Find(write) == nullptr) {
      return FailedPreconditionError("vault: key version " + std::to_string(write) +
                                     " is active but missing from this node's keyring; add it "
                                     "to every node's key file or SWITCHBOARD_MASTER_KEYS");
    }
  }
  return vault_.SetVersions(write, min);
}

Result<store::VaultState> SecretStore::Sync(store::Transaction& tx, bool for_write) {
  using Lock = store::VaultStateRepository::Lock;
  SB_ASSIGN_OR_RETURN(std::optional<store::VaultState> state,
                      state_.Get(tx, for_write ? Lock::kShare : Lock::kNone));
  if (!state.has_value()) {
    if (!for_write) {
      // Nothing was ever encrypted under a recorded state: keep the vault's own versions.
      return store::VaultState{vault_.write_version(), vault_.min_decrypt_version(), clock_.Now()};
    }
    SB_ASSIGN_OR_RETURN(state, state_.InitializeIfAbsent(
                                   tx, {vault_.keyring()->newest_version(), 1, clock_.Now()}));
  }
  SB_RETURN_IF_ERROR(Apply(*state));
  return *state;
}

Status SecretStore::Put(store::Transaction& tx, const SecretContext& ctx,
                        std::string_view plaintext) {
  SB_RETURN_IF_ERROR(Sync(tx, /*for_write=*/true).status());
  SB_ASSIGN_OR_RETURN(std::string ciphertext, vault_.Encrypt(ctx, plaintext));
  SB_ASSIGN_OR_RETURN(uint32_t version, Vault::CiphertextVersion(ciphertext));
  return secrets_.Upsert(tx, ctx.tenant,
                         store::SecretRecord{ctx.tenant, ctx.owner_id, ctx.field,
                                             std::move(ciphertext), version, clock_.Now()});
}

Result<std::optional<SecretBytes>> SecretStore::Get(store::Transaction& tx,
                                                    const SecretContext& ctx) {
  SB_ASSIGN_OR_RETURN(std::optional<store::SecretRecord> record,
                      secrets_.Get(tx, ctx.tenant, ctx.owner_id, ctx.field));
  if (!record.has_value()) return std::optional<SecretBytes>();
  SB_RETURN_IF_ERROR(Sync(tx, /*for_write=*/false).status());
  Result<SecretBytes> plain = vault_.Decrypt(ctx, record->ciphertext);
  if (!plain.ok() &&
      vault_.keyring()->Find(static_cast<uint32_t>(record->key_version)) == nullptr) {
    // Written by a node that already had a newer key: pick up the key file and retry once.
    SB_RETURN_IF_ERROR(ReloadKeyring());
    plain = vault_.Decrypt(ctx, record->ciphertext);
  }
  SB_RETURN_IF_ERROR(plain);
  return std::optional<SecretBytes>(std::move(plain).value());
}

Result<bool> SecretStore::Delete(store::Transaction& tx, const SecretContext& ctx) {
  return secrets_.Delete(tx, ctx.tenant, ctx.owner_id, ctx.field);
}

Result<int64_t> SecretStore::DeleteOwner(store::Transaction& tx, const TenantId& tenant,
                                         const std::string& owner_id) {
  return secrets_.DeleteOwner(tx, tenant, owner_id);
}

}  // namespace sb::vault
