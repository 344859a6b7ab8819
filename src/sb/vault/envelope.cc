#include "sb/vault/envelope.h"

#include <array>
#include <atomic>
#include <cstring>
#include <memory>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "sb/base/encoding.h"
#include "sb/vault/aead.h"
#include "sb/vault/digest.h"
#include "sb/vault/hkdf.h"

namespace sb::vault {
namespace {

constexpr std::string_view kPrefix = "sbv1:";
constexpr std::string_view kSalt = "switchboard/vault/v1";
constexpr size_t kCheckSize = 8;
constexpr size_t kMinBody = kNonceSize + kCheckSize + kTagSize;

void AppendField(std::string& out, std::string_view value) {
  const auto n = static_cast<uint32_t>(value.size());
  const char len[4] = {char(n >> 24), char(n >> 16), char(n >> 8), char(n)};
  out.append(len, 4);
  out.append(value);
}

// Canonical, length-prefixed associated data: ("sbv1", version, tenant, owner, field).
std::string AssociatedData(uint32_t version, const SecretContext& ctx) {
  std::string aad;
  aad.reserve(32 + ctx.tenant.value().size() + ctx.owner_id.size() + ctx.field.size());
  AppendField(aad, "sbv1");
  AppendField(aad, std::to_string(version));
  AppendField(aad, ctx.tenant.value());
  AppendField(aad, ctx.owner_id);
  AppendField(aad, ctx.field);
  return aad;
}

Status ValidateContext(const SecretContext& ctx) {
  if (!ctx.tenant.valid()) return InvalidArgumentError("vault: a secret needs a valid tenant");
  if (ctx.owner_id.empty()) return InvalidArgumentError("vault: a secret needs an owner id");
  if (ctx.field.empty()) return InvalidArgumentError("vault: a secret needs a field name");
  return OkStatus();
}

// Parses "sbv1:<version>:<body>" into version and body (checks 1-3 of the documented order).
Result<std::pair<uint32_t, std::string_view>> ParsePrefix(std::string_view text) {
  if (text.substr(0, kPrefix.size()) != kPrefix) {
    return InvalidArgumentError("vault: not a vault ciphertext (expected the sbv1: prefix)");
  }
  std::string_view rest = text.substr(kPrefix.size());
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos) {
    return InvalidArgumentError("vault: malformed ciphertext: expected sbv1:<version>:<data>");
  }
  std::string_view version_text = rest.substr(0, colon);
  std::string_view body = rest.substr(colon + 1);
  if (body.find(':') != std::string_view::npos) {
    return InvalidArgumentError("vault: malformed ciphertext: unexpected ':' in the data");
  }
  uint64_t version = 0;
  bool ok = !version_text.empty() && version_text.size() <= 10;
  for (char c : version_text) {
    ok = ok && c >= '0' && c <= '9';
    if (ok) version = version * 10 + static_cast<uint64_t>(c - '0');
  }
  if (!ok || version < 1 || version > Keyring::kMaxVersion) {
    return InvalidArgumentError("vault: malformed key version in ciphertext");
  }
  return std::make_pair(static_cast<uint32_t>(version), body);
}

// Truncated HMAC-SHA256 over the associated data. Each thread keeps a few HMAC contexts keyed
// once per derived key (named by its process-unique id), like the GCM contexts in aead.cc:
// re-initialising a keyed context restores the saved inner and outer hash states instead of
// fetching the digest and hashing the key again. EVP_MAC_CTX_free cleanses them.
struct MacSlot {
  uint64_t id = 0;
  std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx{nullptr, &EVP_MAC_CTX_free};
};

EVP_MAC_CTX* KeyedMac(uint64_t key_id, const SecretBytes& key) {
  // NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): EVP_MAC_CTX_new takes it
  static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  constexpr size_t kSlots = 8;
  thread_local std::array<MacSlot, kSlots> slots;
  thread_local size_t next = 0;
  for (MacSlot& slot : slots) {
    if (slot.id == key_id && key_id != 0 && slot.ctx) {
      if (EVP_MAC_init(slot.ctx.get(), nullptr, 0, nullptr) == 1) return slot.ctx.get();
      slot.ctx.reset();
    }
  }
  if (hmac == nullptr) return nullptr;
  MacSlot& slot = slots[next];
  next = (next + 1) % kSlots;
  slot.id = key_id;
  slot.ctx.reset(EVP_MAC_CTX_new(hmac));
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  if (!slot.ctx || EVP_MAC_init(slot.ctx.get(), key.data(), key.size(), params) != 1) {
    slot.ctx.reset();
    slot.id = 0;
    return nullptr;
  }
  return slot.ctx.get();
}

std::string AdCheck(uint64_t key_id, const SecretBytes& key, std::string_view aad) {
  EVP_MAC_CTX* ctx = KeyedMac(key_id, key);
  unsigned char mac[32];
  size_t len = 0;
  if (ctx == nullptr ||
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(aad.data()), aad.size()) != 1 ||
      EVP_MAC_final(ctx, mac, &len, sizeof(mac)) != 1 || len != sizeof(mac)) {
    std::string slow = HmacSha256(key.view(), aad);  // never expected; same value
    slow.resize(kCheckSize);
    return slow;
  }
  std::string out(reinterpret_cast<const char*>(mac), kCheckSize);
  OPENSSL_cleanse(mac, sizeof(mac));
  return out;
}

}  // namespace

struct Vault::Keys {
  SecretBytes enc;
  SecretBytes check;
  // Unique per derived key for the life of the process: names the key's cached GCM contexts.
  uint64_t id = NextKeyId();

  static uint64_t NextKeyId() {
    static std::atomic<uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
  }
};

Vault::Vault(std::shared_ptr<const Keyring> keyring, Random& random)
    : random_(random), keyring_(std::move(keyring)) {
  write_version_ = keyring_ ? keyring_->newest_version() : 0;
}

void Vault::SetKeyring(std::shared_ptr<const Keyring> keyring) {
  std::unique_lock lock(mu_);
  keyring_ = std::move(keyring);
  if (keyring_->Find(write_version_) == nullptr) write_version_ = keyring_->newest_version();
  if (min_decrypt_version_ > write_version_) min_decrypt_version_ = 1;
  cache_.clear();  // the Keys are wiped when their last user releases them
}

Status Vault::SetVersions(uint32_t write_version, uint32_t min_decrypt_version) {
  std::unique_lock lock(mu_);
  if (keyring_->Find(write_version) == nullptr) {
    return FailedPreconditionError("vault: key version " + std::to_string(write_version) +
                                   " is not in the keyring");
  }
  if (min_decrypt_version < 1 || min_decrypt_version > write_version) {
    return InvalidArgumentError(
        "vault: the minimum decryption version must be between 1 and the write version");
  }
  write_version_ = write_version;
  min_decrypt_version_ = min_decrypt_version;
  return OkStatus();
}

uint32_t Vault::write_version() const {
  std::shared_lock lock(mu_);
  return write_version_;
}

uint32_t Vault::min_decrypt_version() const {
  std::shared_lock lock(mu_);
  return min_decrypt_version_;
}

std::shared_ptr<const Keyring> Vault::keyring() const {
  std::shared_lock lock(mu_);
  return keyring_;
}

int64_t Vault::encryptions(uint32_t version) const {
  std::lock_guard lock(count_mu_);
  auto it = encryptions_.find(version);
  return it == encryptions_.end() ? 0 : it->second;
}

Result<std::shared_ptr<const Vault::Keys>> Vault::DerivedKeys(const Keyring& keyring,
                                                              uint32_t version,
                                                              const SecretContext& ctx) const {
  std::string cache_key = std::to_string(version);
  cache_key += '|';
  cache_key += ctx.tenant.value();
  cache_key += '|';
  cache_key += ctx.field;
  {
    std::shared_lock lock(mu_);
    if (auto it = cache_.find(cache_key); it != cache_.end()) return it->second;
  }
  const SecretBytes* master = keyring.Find(version);
  if (master == nullptr) {
    return FailedPreconditionError("vault: unknown key version " + std::to_string(version));
  }
  auto keys = std::make_shared<Keys>();
  SB_ASSIGN_OR_RETURN(keys->enc,
                      HkdfSha256(master->view(), kSalt,
                                 "sb/v1|enc|" + ctx.field + "|" + ctx.tenant.value(), kKeySize));
  SB_ASSIGN_OR_RETURN(keys->check, HkdfSha256(master->view(), kSalt,
                                              "sb/v1|adcheck|" + ctx.tenant.value(), kKeySize));
  std::unique_lock lock(mu_);
  if (keyring_.get() != &keyring) return std::shared_ptr<const Keys>(keys);  // swapped meanwhile
  if (cache_.size() >= kMaxCachedKeys) cache_.clear();
  cache_.emplace(std::move(cache_key), keys);
  return std::shared_ptr<const Keys>(keys);
}

Result<std::string> Vault::Encrypt(const SecretContext& ctx, std::string_view plaintext) {
  SB_RETURN_IF_ERROR(ValidateContext(ctx));
  std::shared_ptr<const Keyring> keyring;
  uint32_t version = 0;
  {
    std::shared_lock lock(mu_);
    keyring = keyring_;
    version = write_version_;
  }
  if (version == 0) return FailedPreconditionError("vault: the keyring is empty");
  SB_ASSIGN_OR_RETURN(std::shared_ptr<const Keys> keys, DerivedKeys(*keyring, version, ctx));
  const std::string aad = AssociatedData(version, ctx);
  std::string body(kNonceSize, '\0');
  random_.Fill(reinterpret_cast<uint8_t*>(body.data()), kNonceSize);
  body += AdCheck(keys->id, keys->check, aad);
  SB_ASSIGN_OR_RETURN(
      std::string sealed,
      Aes256GcmSealCached(keys->id, keys->enc.view(), std::string_view(body).substr(0, kNonceSize),
                          plaintext, aad));
  body += sealed;
  {
    std::lock_guard lock(count_mu_);
    ++encryptions_[version];
  }
  std::string out(kPrefix);
  out += std::to_string(version);
  out += ':';
  out += Base64UrlEncode(body);
  return out;
}

Result<SecretBytes> Vault::Decrypt(const SecretContext& ctx, std::string_view ciphertext) const {
  SB_RETURN_IF_ERROR(ValidateContext(ctx));
  SB_ASSIGN_OR_RETURN(auto parsed, ParsePrefix(ciphertext));
  const auto [version, encoded] = parsed;
  std::shared_ptr<const Keyring> keyring;
  uint32_t min = 0;
  {
    std::shared_lock lock(mu_);
    keyring = keyring_;
    min = min_decrypt_version_;
  }
  if (version > keyring->newest_version()) {
    return FailedPreconditionError("vault: key version " + std::to_string(version) +
                                   " is too new: this node's newest key is version " +
                                   std::to_string(keyring->newest_version()));
  }
  if (keyring->Find(version) == nullptr) {
    return FailedPreconditionError("vault: unknown key version " + std::to_string(version));
  }
  if (version < min) {
    return FailedPreconditionError("vault: key version " + std::to_string(version) +
                                   " is too old: below the minimum decryption version " +
                                   std::to_string(min));
  }
  std::optional<std::string> body = Base64UrlDecode(encoded);
  if (!body) return InvalidArgumentError("vault: ciphertext data is not base64url");
  if (body->size() < kMinBody) return DataLossError("vault: ciphertext truncated");
  SB_ASSIGN_OR_RETURN(std::shared_ptr<const Keys> keys, DerivedKeys(*keyring, version, ctx));
  const std::string aad = AssociatedData(version, ctx);
  const std::string check = AdCheck(keys->id, keys->check, aad);
  if (CRYPTO_memcmp(check.data(), body->data() + kNonceSize, kCheckSize) != 0) {
    return PermissionDeniedError(
        "vault: associated data does not match: the ciphertext belongs to another tenant, "
        "owner or field");
  }
  const std::string_view view(*body);
  Result<SecretBytes> plain =
      Aes256GcmOpenCached(keys->id, keys->enc.view(), view.substr(0, kNonceSize),
                          view.substr(kNonceSize + kCheckSize), aad);
  if (!plain.ok()) {
    if (plain.status().code() == StatusCode::kDataLoss) {
      return DataLossError("vault: authentication failed: the ciphertext was modified");
    }
    return plain.status();
  }
  return plain;
}

Result<uint32_t> Vault::CiphertextVersion(std::string_view ciphertext) {
  SB_ASSIGN_OR_RETURN(auto parsed, ParsePrefix(ciphertext));
  return parsed.first;
}

}  // namespace sb::vault
