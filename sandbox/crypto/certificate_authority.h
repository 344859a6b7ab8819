// CertificateAuthority: a throwaway CA that issues the sandbox's TLS server certificates, so
// clients under test can trust one CA file instead of disabling verification.
//
// The CA key exists only in memory; restart the sandbox and it is gone together with every
// certificate it issued. Immutable after Generate, hence safe to share between threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/types.h>
#include <sys/types.h>

#include "sb/base/status.h"

namespace sandbox::crypto {

struct ServerCertificate {
  std::string cert_pem;  // the leaf certificate only; clients add ca_pem() to their trust store
  std::string key_pem;   // PKCS#8 ("BEGIN PRIVATE KEY"), EC P-256
};

class CertificateAuthority {
 public:
  // Generates an EC P-256 CA key and a self-signed certificate CN=`common_name`, valid
  // now-1 day..now+10 years: basicConstraints critical CA:TRUE pathlen:0, keyUsage critical
  // keyCertSign+cRLSign, subjectKeyIdentifier, random 16-byte serial.
  static sb::Result<CertificateAuthority> Generate(std::string common_name);

  CertificateAuthority(CertificateAuthority&&) noexcept = default;
  CertificateAuthority& operator=(CertificateAuthority&&) noexcept = default;
  CertificateAuthority(const CertificateAuthority&) = delete;
  CertificateAuthority& operator=(const CertificateAuthority&) = delete;
  ~CertificateAuthority() = default;

  // The CA certificate as PEM, for clients' trust stores.
  const std::string& ca_pem() const { return ca_pem_; }

  // Issues a TLS server certificate with a fresh EC P-256 key, valid now-1 day..now+825 days
  // (the longest lifetime Apple clients accept): subjectAltName with `dns_names` (letters,
  // digits, '-', '.', an optional leading "*.") and `ip_addresses` (IPv4 or IPv6 text),
  // extendedKeyUsage serverAuth, basicConstraints CA:FALSE, authorityKeyIdentifier. At least
  // one name is required; kInvalidArgument for a malformed one.
  sb::Result<ServerCertificate> IssueServerCertificate(
      const std::vector<std::string>& dns_names,
      const std::vector<std::string>& ip_addresses) const;

 private:
  struct PkeyFree {
    void operator()(EVP_PKEY* key) const;
  };
  struct X509Free {
    void operator()(X509* cert) const;
  };

  CertificateAuthority() = default;

  std::unique_ptr<EVP_PKEY, PkeyFree> key_;
  std::unique_ptr<X509, X509Free> cert_;
  std::string ca_pem_;
};

// Replaces `path` atomically with `contents` and permission bits `mode` (0644 for
// certificates, 0600 for keys): writes `path`.tmp, syncs it and renames it over `path`, so a
// reader sees the old file or the new one, never half of one. The mode is set before any byte
// is written and is not subject to the umask.
sb::Status WriteFile(const std::string& path, std::string_view contents, mode_t mode);

}  // namespace sandbox::crypto
