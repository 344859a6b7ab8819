// SecretStore: the one way every capability stores a secret (client secrets, access and refresh
// tokens, webhook signing secrets, PKCE verifiers). A secret is addressed by (tenant, owner,
// field); it is encrypted by the Vault with associated data binding exactly that address, and
// only the ciphertext reaches `vault_secrets`, inside the caller's transaction.
//
// Rotation reaches every node at once: each write reads the deployment's key-version state
// (`vault_state`, with a share lock on PostgreSQL so that a rotation cannot commit in between)
// and encrypts with its write version; each read applies the current minimum decryption
// version. When the state names a version this node's keyring lacks, or a ciphertext does, the
// keyring is reloaded once from its source (the key file that `keys rotate` extended).
// Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "sb/base/clock.h"
#include "sb/base/status.h"
#include "sb/store/database.h"
#include "sb/store/vault/secret_repository.h"
#include "sb/vault/envelope.h"
#include "sb/vault/keyring.h"
#include "sb/vault/secure_buffer.h"

namespace sb::vault {

class SecretStore {
 public:
  // Re-reads the keyring from its source (key file or environment).
  using KeyringLoader = std::function<Result<std::shared_ptr<const Keyring>>()>;

  // `vault` and `clock` must outlive the store.
  SecretStore(Vault& vault, const Clock& clock, KeyringLoader reload);

  // Encrypts `plaintext` for ctx and stores it (insert or replace). REQUIRES a read-write
  // transaction scoped to ctx.tenant.
  Status Put(store::Transaction& tx, const SecretContext& ctx, std::string_view plaintext);
  // The plaintext, or nullopt when no such secret is stored. DATA_LOSS / FAILED_PRECONDITION
  // from the vault when the stored ciphertext does not decrypt for this address.
  Result<std::optional<SecretBytes>> Get(store::Transaction& tx, const SecretContext& ctx);
  // True when the secret existed.
  Result<bool> Delete(store::Transaction& tx, const SecretContext& ctx);
  // Deletes every secret of the owner (e.g. a deleted connection); the number deleted.
  Result<int64_t> DeleteOwner(store::Transaction& tx, const TenantId& tenant,
                              const std::string& owner_id);

  // Reads the key-version state (creating it from the keyring's newest version on first use
  // when `tx` may write) and applies it to the vault, reloading the keyring if needed.
  Result<store::VaultState> Sync(store::Transaction& tx, bool for_write);

  Vault& vault() { return vault_; }

 private:
  Status Apply(const store::VaultState& state);
  Status ReloadKeyring();

  Vault& vault_;
  const Clock& clock_;
  KeyringLoader reload_;
  store::SecretRepository secrets_;
  store::VaultStateRepository state_;
};

}  // namespace sb::vault
