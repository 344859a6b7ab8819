#include "sb/vault/secure_buffer.h"

#include <cstring>
#include <new>

#include <openssl/crypto.h>

namespace sb::vault {

SecretBytes::SecretBytes(std::string_view data) : size_(data.size()) {
  if (size_ > 0) {
    data_ = new uint8_t[size_];
    std::memcpy(data_, data.data(), size_);
  }
}

SecretBytes SecretBytes::Zeroed(size_t n) {
  SecretBytes out;
  if (n > 0) {
    out.data_ = new uint8_t[n]();
    out.size_ = n;
  }
  return out;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

SecretBytes::~SecretBytes() { Release(); }

void SecretBytes::Release() {
  if (data_ != nullptr) {
    OPENSSL_cleanse(data_, size_);
    delete[] data_;
  }
  data_ = nullptr;
  size_ = 0;
}

void Wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

}  // namespace sb::vault
