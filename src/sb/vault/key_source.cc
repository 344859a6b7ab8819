#include "sb/vault/key_source.h"

#include <filesystem>

namespace sb::vault {

std::string KeySource::Describe() const {
  return from_env() ? std::string("SWITCHBOARD_MASTER_KEYS") : "key file '" + file + "'";
}

Result<std::shared_ptr<const Keyring>> LoadKeyring(const KeySource& source) {
  Result<Keyring> keyring = source.from_env()
                                ? ParseKeyring(*source.env_value, "SWITCHBOARD_MASTER_KEYS")
                                : LoadKeyFile(source.file);
  SB_RETURN_IF_ERROR(keyring);
  if (keyring->empty()) {
    return FailedPreconditionError("the master keyring in " + source.Describe() + " holds no key");
  }
  return std::shared_ptr<const Keyring>(std::make_shared<Keyring>(std::move(keyring).value()));
}

Result<std::shared_ptr<const Keyring>> LoadOrCreateKeyring(const KeySource& source,
                                                           bool development, Random& random,
                                                           std::ostream& warn) {
  if (!source.from_env() && !std::filesystem::exists(source.file)) {
    if (!development) {
      return FailedPreconditionError(
          "no master keyring: production mode needs SWITCHBOARD_MASTER_KEYS or the key file '" +
          source.file + "' (see docs/operations.md, Keys)");
    }
    Keyring fresh;
    SB_RETURN_IF_ERROR(fresh.Add(1, GenerateMasterKey(random)));
    std::error_code ec;
    auto parent = std::filesystem::path(source.file).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    SB_RETURN_IF_ERROR(WriteKeyFile(source.file, fresh));
    warn << "################################################################################\n"
         << "#  WARNING: generated " << source.file << ", a DEVELOPMENT master key.\n"
         << "#  It protects nothing on a shared disk. Never use it in production: there,\n"
         << "#  provide keys through a key file you manage or SWITCHBOARD_MASTER_KEYS.\n"
         << "################################################################################\n";
  }
  return LoadKeyring(source);
}

}  // namespace sb::vault
