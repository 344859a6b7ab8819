#include "sb/vault/password_hash.h"

#include <charconv>
#include <optional>

#include <argon2.h>

namespace sb::vault {
namespace {

constexpr uint32_t kMaxMemoryKib = 256 * 1024;
constexpr uint32_t kMaxIterations = 10;
constexpr uint32_t kMaxParallelism = 8;
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
constexpr size_t kMaxEncodedBytes = 256;

bool WithinBounds(const PasswordHashParams& p) {
  return p.memory_kib >= 8 * p.parallelism && p.memory_kib <= kMaxMemoryKib && p.iterations >= 1 &&
         p.iterations <= kMaxIterations && p.parallelism >= 1 && p.parallelism <= kMaxParallelism;
}

// "m=19456,t=2,p=1" out of "$argon2id$v=19$m=19456,t=2,p=1$salt$hash".
std::optional<PasswordHashParams> ParamsOf(std::string_view encoded) {
  constexpr std::string_view kPrefix = "$argon2id$v=19$";
  if (!encoded.starts_with(kPrefix) || encoded.size() > kMaxEncodedBytes) return std::nullopt;
  std::string_view rest = encoded.substr(kPrefix.size());
  PasswordHashParams out;
  for (auto [name, target] : {std::pair{"m=", &out.memory_kib}, std::pair{"t=", &out.iterations},
                              std::pair{"p=", &out.parallelism}}) {
    if (!rest.starts_with(name)) return std::nullopt;
    rest.remove_prefix(2);
    const auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), *target);
    if (error != std::errc() || end == rest.data()) return std::nullopt;
    rest.remove_prefix(static_cast<size_t>(end - rest.data()));
    if (rest.empty() || (rest.front() != ',' && rest.front() != '$')) return std::nullopt;
    rest.remove_prefix(1);
  }
  if (!WithinBounds(out)) return std::nullopt;
  return out;
}

}  // namespace

Result<std::string> HashPassword(std::string_view password, Random& random,
                                 const PasswordHashParams& params) {
  if (password.empty() || password.size() > kMaxPasswordBytes) {
    return InvalidArgumentError("a password is 1 to 1024 bytes");
  }
  if (!WithinBounds(params)) return InvalidArgumentError("password hash parameters out of bounds");
  const std::string salt = random.Bytes(kSaltBytes);
  std::string encoded(argon2_encodedlen(params.iterations, params.memory_kib, params.parallelism,
                                        kSaltBytes, kHashBytes, Argon2_id),
                      '\0');
  const int rc = argon2id_hash_encoded(params.iterations, params.memory_kib, params.parallelism,
                                       password.data(), password.size(), salt.data(), salt.size(),
                                       kHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) return InternalError(std::string("argon2id: ") + argon2_error_message(rc));
  encoded.resize(encoded.find('\0'));
  return encoded;
}

Result<bool> VerifyPassword(std::string_view password, std::string_view encoded) {
  if (!ParamsOf(encoded)) return DataLossError("a stored password hash is not Argon2id");
  if (password.empty() || password.size() > kMaxPasswordBytes) return false;
  const std::string terminated(encoded);  // libargon2 reads a C string
  const int rc = argon2id_verify(terminated.c_str(), password.data(), password.size());
  if (rc == ARGON2_OK) return true;
  if (rc == ARGON2_VERIFY_MISMATCH) return false;
  return DataLossError(std::string("a stored password hash does not verify: ") +
                       argon2_error_message(rc));
}

bool NeedsRehash(std::string_view encoded, const PasswordHashParams& params) {
  const std::optional<PasswordHashParams> stored = ParamsOf(encoded);
  return !stored || stored->memory_kib < params.memory_kib ||
         stored->iterations < params.iterations || stored->parallelism < params.parallelism;
}

}  // namespace sb::vault
