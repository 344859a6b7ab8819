#include "sb/vault/key_admin.h"

#include <algorithm>

namespace sb::vault {
namespace {

constexpr size_t kMaxFailuresListed = 100;

using Lock = store::VaultStateRepository::Lock;

}  // namespace

TenantId SystemTenant() { return TenantId("00000000-0000-0000-0000-000000000000"); }

Result<RotateResult> RotateKey(store::Database& db, const KeySource& source, Random& random,
                               const Clock& clock, const AuditHook& audit) {
  SB_ASSIGN_OR_RETURN(std::shared_ptr<const Keyring> loaded, LoadKeyring(source));
  RotateResult result;
  store::VaultStateRepository state_repo;
  Status s = db.RunInTenant(SystemTenant(), [&](store::Transaction& tx) -> Status {
    result = RotateResult{};
    SB_ASSIGN_OR_RETURN(std::optional<store::VaultState> state, state_repo.Get(tx, Lock::kUpdate));
    const uint32_t newest = loaded->newest_version();
    // Before the first secret there is no recorded state: the keyring's newest key is active.
    const uint32_t current = state ? static_cast<uint32_t>(state->write_version) : newest;
    const uint32_t min = state ? static_cast<uint32_t>(state->min_decrypt_version) : 1;
    result.previous_version = current;
    if (newest > current) {
      result.new_version = newest;
    } else if (source.from_env()) {
      return FailedPreconditionError(
          "keys come from SWITCHBOARD_MASTER_KEYS, which holds no version newer than " +
          std::to_string(current) + ": add a new version to it on every node, then rotate");
    } else {
      Keyring extended;
      for (uint32_t v : loaded->versions()) {
        SB_RETURN_IF_ERROR(extended.Add(v, loaded->Find(v)->Clone()));
      }
      result.new_version = std::max(newest, current) + 1;
      SB_RETURN_IF_ERROR(extended.Add(result.new_version, GenerateMasterKey(random)));
      SB_RETURN_IF_ERROR(WriteKeyFile(source.file, extended));
      result.generated = true;
    }
    store::VaultState next{result.new_version, min, clock.Now()};
    if (state) {
      SB_RETURN_IF_ERROR(state_repo.Set(tx, next));
    } else {
      SB_RETURN_IF_ERROR(state_repo.InitializeIfAbsent(tx, next).status());
    }
    return audit(tx, "vault.key.rotate",
                 Json{{"previous_version", result.previous_version},
                      {"new_version", result.new_version},
                      {"generated", result.generated},
                      {"source", source.from_env() ? "environment" : "key_file"}});
  });
  SB_RETURN_IF_ERROR(s);
  return result;
}

Result<RewrapResult> Rewrap(store::Database& maintenance_db, SecretStore& secrets,
                            const Clock& clock, const RewrapOptions& options,
                            const AuditHook& audit) {
  if (options.batch_size < 1 || options.batch_size > store::SecretRepository::kMaxBatch) {
    return InvalidArgumentError("rewrap batch size must be between 1 and " +
                                std::to_string(store::SecretRepository::kMaxBatch));
  }
  store::SecretRepository repo;
  RewrapResult result;
  std::optional<store::SecretCursor> cursor;
  for (int batch = 0; options.max_batches == 0 || batch < options.max_batches; ++batch) {
    RewrapResult delta;
    std::optional<store::SecretCursor> next_cursor = cursor;
    bool done = false;
    Status s = maintenance_db.RunInTenant(SystemTenant(), [&](store::Transaction& tx) -> Status {
      delta = RewrapResult{};
      done = false;
      SB_ASSIGN_OR_RETURN(store::VaultState state, secrets.Sync(tx, /*for_write=*/true));
      delta.target_version = static_cast<uint32_t>(state.write_version);
      SB_ASSIGN_OR_RETURN(auto rows, repo.MaintenanceListBelowVersion(tx, state.write_version,
                                                                      cursor, options.batch_size));
      if (rows.empty()) {
        done = true;
        return OkStatus();
      }
      for (const store::SecretRecord& row : rows) {
        SecretContext ctx{row.tenant_id, row.owner_id, row.field};
        Result<SecretBytes> plain = secrets.vault().Decrypt(ctx, row.ciphertext);
        if (!plain.ok()) {
          ++delta.failed;
          delta.failures.push_back(row.tenant_id.value() + "/" + row.owner_id + "/" + row.field +
                                   ": " + plain.status().message());
          continue;
        }
        SB_ASSIGN_OR_RETURN(std::string ciphertext,
                            secrets.vault().Encrypt(ctx, plain.value().view()));
        SB_ASSIGN_OR_RETURN(uint32_t version, Vault::CiphertextVersion(ciphertext));
        SB_ASSIGN_OR_RETURN(bool replaced, repo.MaintenanceReplaceIf(
                                               tx, row.tenant_id, row.owner_id, row.field,
                                               row.ciphertext, ciphertext, version, clock.Now()));
        ++(replaced ? delta.rewrapped : delta.changed);
      }
      const store::SecretRecord& last = rows.back();
      next_cursor = store::SecretCursor{last.tenant_id, last.owner_id, last.field};
      return audit(tx, "vault.rewrap.batch",
                   Json{{"target_version", delta.target_version},
                        {"rewrapped", delta.rewrapped},
                        {"changed_concurrently", delta.changed},
                        {"failed", delta.failed}});
    });
    SB_RETURN_IF_ERROR(s);
    result.target_version = delta.target_version;
    if (done) break;
    cursor = next_cursor;
    result.rewrapped += delta.rewrapped;
    result.changed += delta.changed;
    result.failed += delta.failed;
    for (auto& f : delta.failures) {
      if (result.failures.size() < kMaxFailuresListed) result.failures.push_back(std::move(f));
    }
    if (options.on_batch) options.on_batch(result.rewrapped, result.failed);
  }
  Status s = maintenance_db.RunInTenant(
      SystemTenant(), store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(result.remaining,
                            repo.MaintenanceCountBelow(tx, result.target_version));
        return OkStatus();
      });
  SB_RETURN_IF_ERROR(s);
  return result;
}

Result<KeyStatus> GetKeyStatus(store::Database& maintenance_db, const Keyring& keyring) {
  KeyStatus status;
  status.keyring_versions = keyring.versions();
  store::VaultStateRepository state_repo;
  store::SecretRepository repo;
  Status s = maintenance_db.RunInTenant(
      SystemTenant(), store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(auto state, state_repo.Get(tx));
        if (state) {
          status.write_version = static_cast<uint32_t>(state->write_version);
          status.min_decrypt_version = static_cast<uint32_t>(state->min_decrypt_version);
        }
        SB_ASSIGN_OR_RETURN(status.secrets_by_version, repo.MaintenanceCountByVersion(tx));
        return OkStatus();
      });
  SB_RETURN_IF_ERROR(s);
  return status;
}

Status SetMinDecryptVersion(store::Database& maintenance_db, SecretStore& secrets, uint32_t version,
                            bool allow_lower, const Clock& clock, const AuditHook& audit) {
  store::VaultStateRepository state_repo;
  store::SecretRepository repo;
  return maintenance_db.RunInTenant(SystemTenant(), [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(std::optional<store::VaultState> state, state_repo.Get(tx, Lock::kUpdate));
    if (!state) {
      SB_ASSIGN_OR_RETURN(state, secrets.Sync(tx, /*for_write=*/true));
    }
    const auto previous = static_cast<uint32_t>(state->min_decrypt_version);
    if (version < 1 || version > state->write_version) {
      return InvalidArgumentError(
          "minimum decryption version must be between 1 and the write "
          "version " +
          std::to_string(state->write_version));
    }
    if (version < previous && !allow_lower) {
      return FailedPreconditionError("lowering the minimum decryption version from " +
                                     std::to_string(previous) + " to " + std::to_string(version) +
                                     " is a break-glass action: pass --allow-lower");
    }
    SB_ASSIGN_OR_RETURN(int64_t below, repo.MaintenanceCountBelow(tx, version));
    if (below > 0) {
      return FailedPreconditionError(std::to_string(below) +
                                     " secrets still use key versions below " +
                                     std::to_string(version) +
                                     "; run `switchboard keys rewrap` "
                                     "first");
    }
    SB_RETURN_IF_ERROR(
        state_repo.Set(tx, {state->write_version, static_cast<int64_t>(version), clock.Now()}));
    return audit(tx, "vault.min_version.set",
                 Json{{"previous", previous}, {"new", version}, {"lowered", version < previous}});
  });
}

}  // namespace sb::vault
