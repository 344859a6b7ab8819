// SecretBytes: an owning buffer for key material and plaintext secrets (KMS-10). Its bytes are
// wiped with OPENSSL_cleanse when it is destroyed, moved from or reassigned, and it is
// move-only so that copies cannot outlive their use by accident (Clone() is explicit).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sb::vault {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::string_view data);
  static SecretBytes Zeroed(size_t n);

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  SecretBytes Clone() const { return SecretBytes(view()); }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_), size_}; }
  const uint8_t* data() const { return data_; }
  uint8_t* mutable_data() { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  void Release();
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Wipes the contents of `s` with OPENSSL_cleanse, then clears it.
void Wipe(std::string& s);

}  // namespace sb::vault
