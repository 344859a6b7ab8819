// Vault encrypt + decrypt of a 2 KB token against raw OpenSSL AES-256-GCM seal + open of the
// same buffer (the baseline), in the same binary and run. See docs/benchmarks.md.
#include <memory>
#include <string>

#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "sb/base/random.h"
#include "sb/vault/envelope.h"
#include "sb/vault/fast_random.h"
#include "sb/vault/keyring.h"

namespace {

constexpr size_t kTokenBytes = 2048;

// Raw EVP seal + open with a fresh nonce and a fresh cipher context per operation, as a caller
// using OpenSSL directly would write it.
void BM_RawOpenSslGcmSealOpen_2KB(benchmark::State& state) {
  unsigned char key[32];
  RAND_bytes(key, sizeof(key));
  std::string plaintext(kTokenBytes, 'x');
  std::string ciphertext(kTokenBytes, '\0');
  std::string decrypted(kTokenBytes, '\0');
  unsigned char nonce[12];
  unsigned char tag[16];
  for (auto _ : state) {
    RAND_bytes(nonce, sizeof(nonce));
    int len = 0;
    EVP_CIPHER_CTX* enc = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(enc, EVP_aes_256_gcm(), nullptr, key, nonce);
    EVP_EncryptUpdate(enc, reinterpret_cast<unsigned char*>(ciphertext.data()), &len,
                      reinterpret_cast<const unsigned char*>(plaintext.data()), kTokenBytes);
    EVP_EncryptFinal_ex(enc, nullptr, &len);
    EVP_CIPHER_CTX_ctrl(enc, EVP_CTRL_GCM_GET_TAG, 16, tag);
    EVP_CIPHER_CTX_free(enc);
    EVP_CIPHER_CTX* dec = EVP_CIPHER_CTX_new();
    EVP_DecryptInit_ex(dec, EVP_aes_256_gcm(), nullptr, key, nonce);
    EVP_DecryptUpdate(dec, reinterpret_cast<unsigned char*>(decrypted.data()), &len,
                      reinterpret_cast<const unsigned char*>(ciphertext.data()), kTokenBytes);
    EVP_CIPHER_CTX_ctrl(dec, EVP_CTRL_GCM_SET_TAG, 16, tag);
    int ok = EVP_DecryptFinal_ex(dec, nullptr, &len);
    EVP_CIPHER_CTX_free(dec);
    if (ok != 1) state.SkipWithError("raw GCM open failed");
    benchmark::DoNotOptimize(decrypted.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * kTokenBytes);
}
BENCHMARK(BM_RawOpenSslGcmSealOpen_2KB);

// The same with one encrypt and one decrypt context keyed once and reused (only the nonce
// changes per operation): the floor for any AES-256-GCM user on this machine.
void BM_RawOpenSslGcmSealOpenReusedContext_2KB(benchmark::State& state) {
  unsigned char key[32];
  RAND_bytes(key, sizeof(key));
  std::string plaintext(kTokenBytes, 'x');
  std::string ciphertext(kTokenBytes, '\0');
  std::string decrypted(kTokenBytes, '\0');
  unsigned char nonce[12];
  unsigned char tag[16];
  EVP_CIPHER_CTX* enc = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX* dec = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(enc, EVP_aes_256_gcm(), nullptr, key, nullptr);
  EVP_DecryptInit_ex(dec, EVP_aes_256_gcm(), nullptr, key, nullptr);
  for (auto _ : state) {
    RAND_bytes(nonce, sizeof(nonce));
    int len = 0;
    EVP_EncryptInit_ex(enc, nullptr, nullptr, nullptr, nonce);
    EVP_EncryptUpdate(enc, reinterpret_cast<unsigned char*>(ciphertext.data()), &len,
                      reinterpret_cast<const unsigned char*>(plaintext.data()), kTokenBytes);
    EVP_EncryptFinal_ex(enc, nullptr, &len);
    EVP_CIPHER_CTX_ctrl(enc, EVP_CTRL_GCM_GET_TAG, 16, tag);
    EVP_DecryptInit_ex(dec, nullptr, nullptr, nullptr, nonce);
    EVP_DecryptUpdate(dec, reinterpret_cast<unsigned char*>(decrypted.data()), &len,
                      reinterpret_cast<const unsigned char*>(ciphertext.data()), kTokenBytes);
    EVP_CIPHER_CTX_ctrl(dec, EVP_CTRL_GCM_SET_TAG, 16, tag);
    if (EVP_DecryptFinal_ex(dec, nullptr, &len) != 1) state.SkipWithError("raw GCM open failed");
    benchmark::DoNotOptimize(decrypted.data());
  }
  EVP_CIPHER_CTX_free(enc);
  EVP_CIPHER_CTX_free(dec);
  state.SetBytesProcessed(int64_t(state.iterations()) * kTokenBytes);
}
BENCHMARK(BM_RawOpenSslGcmSealOpenReusedContext_2KB);

// The full vault path: derived key (cached), AD check, nonce from the kernel CSPRNG, GCM,
// base64url text form, and the same in reverse.
void BM_VaultEncryptDecrypt_2KB(benchmark::State& state) {
  sb::vault::OpenSslRandom random;  // what the app gives the vault for nonces
  auto keyring = std::make_shared<sb::vault::Keyring>();
  if (!keyring->Add(1, sb::vault::GenerateMasterKey(random)).ok()) state.SkipWithError("keyring");
  sb::vault::Vault vault(keyring, random);
  const sb::vault::SecretContext ctx{sb::TenantId("0190f5a0-0000-7000-8000-000000000001"),
                                     "conn-0190f5a0", "refresh_token"};
  const std::string token(kTokenBytes, 'x');
  for (auto _ : state) {
    auto ciphertext = vault.Encrypt(ctx, token);
    auto plaintext = vault.Decrypt(ctx, *ciphertext);
    if (!plaintext.ok()) state.SkipWithError("vault decrypt failed");
    benchmark::DoNotOptimize(plaintext->data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * kTokenBytes);
}
BENCHMARK(BM_VaultEncryptDecrypt_2KB);

}  // namespace

BENCHMARK_MAIN();
