#include "sandbox/crypto/certificate_authority.h"

#include <cerrno>
#include <cstdio>
#include <system_error>
#include <utility>

#include "sandbox/crypto/internal/openssl_util.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sandbox::crypto {
namespace {

using internal::OpensslError;

constexpr long kCaDays = 3650;
constexpr long kServerDays = 825;
constexpr size_t kMaxDnsNameLength = 253;

sb::Result<internal::PkeyPtr> GenerateP256Key() {
  internal::PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (key == nullptr) return OpensslError("generating an EC P-256 key");
  return key;
}

bool IsLdhChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

// A host name of letters, digits and hyphens in non-empty dot-separated labels, optionally
// starting with the wildcard label "*". Anything else would end up verbatim in the certificate.
bool IsValidDnsName(std::string_view name) {
  if (name.empty() || name.size() > kMaxDnsNameLength) return false;
  if (name.starts_with("*.")) name.remove_prefix(2);
  size_t label_length = 0;
  for (char c : name) {
    if (c == '.') {
      if (label_length == 0) return false;
      label_length = 0;
    } else if (IsLdhChar(c) && ++label_length <= 63) {
      continue;
    } else {
      return false;
    }
  }
  return label_length > 0;
}

sb::Status AddDnsName(GENERAL_NAMES* names, const std::string& dns_name) {
  if (!IsValidDnsName(dns_name)) {
    return sb::InvalidArgumentError("not a valid DNS name for a certificate: " + dns_name);
  }
  GENERAL_NAME* name = GENERAL_NAME_new();
  ASN1_IA5STRING* text = ASN1_IA5STRING_new();
  if (name == nullptr || text == nullptr ||
      ASN1_STRING_set(text, dns_name.data(), static_cast<int>(dns_name.size())) != 1) {
    GENERAL_NAME_free(name);
    ASN1_IA5STRING_free(text);
    return OpensslError("building a DNS subjectAltName");
  }
  GENERAL_NAME_set0_value(name, GEN_DNS, text);  // name owns text from here
  if (sk_GENERAL_NAME_push(names, name) <= 0) {
    GENERAL_NAME_free(name);
    return OpensslError("building a subjectAltName");
  }
  return sb::OkStatus();
}

sb::Status AddIpAddress(GENERAL_NAMES* names, const std::string& ip_address) {
  ASN1_OCTET_STRING* octets = a2i_IPADDRESS(ip_address.c_str());
  if (octets == nullptr) {
    ERR_clear_error();  // the caller's input, not an OpenSSL failure
    return sb::InvalidArgumentError("not an IP address: " + ip_address);
  }
  GENERAL_NAME* name = GENERAL_NAME_new();
  if (name == nullptr) {
    ASN1_OCTET_STRING_free(octets);
    return OpensslError("building an IP subjectAltName");
  }
  GENERAL_NAME_set0_value(name, GEN_IPADD, octets);  // name owns octets from here
  if (sk_GENERAL_NAME_push(names, name) <= 0) {
    GENERAL_NAME_free(name);
    return OpensslError("building a subjectAltName");
  }
  return sb::OkStatus();
}

// Built from typed GENERAL_NAMEs rather than a "DNS:a,IP:b" config string, so no input can
// inject extra entries.
sb::Status AddSubjectAltNames(X509* cert, const std::vector<std::string>& dns_names,
                              const std::vector<std::string>& ip_addresses) {
  internal::GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (names == nullptr) return OpensslError("allocating a subjectAltName");
  for (const std::string& dns_name : dns_names) {
    SB_RETURN_IF_ERROR(AddDnsName(names.get(), dns_name));
  }
  for (const std::string& ip_address : ip_addresses) {
    SB_RETURN_IF_ERROR(AddIpAddress(names.get(), ip_address));
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return OpensslError("adding the subjectAltName extension");
  }
  return sb::OkStatus();
}

// Thread-safe text of an errno value (std::strerror is not).
std::string ErrnoText(int error) { return std::generic_category().message(error); }

sb::Status FileError(std::string_view action, const std::string& path, int error) {
  return sb::UnavailableError(std::string(action) + " " + path + ": " + ErrnoText(error));
}

// Returns 0 or the errno value of the failed write.
int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

// Sets the mode of the open temporary file, fills and syncs it; the caller closes it.
sb::Status FillTemporary(int fd, const std::string& tmp_path, std::string_view contents,
                         mode_t mode) {
  // fchmod rather than open's mode argument: that one is filtered by the umask and ignored when
  // a stale temporary already exists, and a key must never be readable by others even briefly.
  if (::fchmod(fd, mode) != 0) return FileError("setting the mode of", tmp_path, errno);
  if (int error = WriteAll(fd, contents); error != 0) return FileError("writing", tmp_path, error);
  if (::fsync(fd) != 0) return FileError("syncing", tmp_path, errno);
  return sb::OkStatus();
}

}  // namespace

void CertificateAuthority::PkeyFree::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
void CertificateAuthority::X509Free::operator()(X509* cert) const { X509_free(cert); }

sb::Result<CertificateAuthority> CertificateAuthority::Generate(std::string common_name) {
  if (common_name.empty()) return sb::InvalidArgumentError("a CA needs a common name");
  SB_ASSIGN_OR_RETURN(internal::PkeyPtr key, GenerateP256Key());
  SB_ASSIGN_OR_RETURN(internal::X509Ptr cert,
                      internal::NewCertificate(common_name, key.get(), kCaDays));
  X509* c = cert.get();
  if (X509_set_issuer_name(c, X509_get_subject_name(c)) != 1) {
    return OpensslError("setting the CA issuer");
  }
  // pathlen:0: this CA signs leaves only, never an intermediate.
  SB_RETURN_IF_ERROR(
      internal::AddExtension(c, c, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  SB_RETURN_IF_ERROR(internal::AddExtension(c, c, NID_key_usage, "critical,keyCertSign,cRLSign"));
  // Leaves name it in their authorityKeyIdentifier.
  SB_RETURN_IF_ERROR(internal::AddExtension(c, c, NID_subject_key_identifier, "hash"));
  SB_RETURN_IF_ERROR(internal::SignCertificate(c, key.get()));

  CertificateAuthority ca;
  SB_ASSIGN_OR_RETURN(ca.ca_pem_, internal::CertificatePem(c));
  ca.key_.reset(key.release());
  ca.cert_.reset(cert.release());
  return ca;
}

sb::Result<ServerCertificate> CertificateAuthority::IssueServerCertificate(
    const std::vector<std::string>& dns_names, const std::vector<std::string>& ip_addresses) const {
  if (key_ == nullptr) return sb::FailedPreconditionError("the CA was moved from");
  if (dns_names.empty() && ip_addresses.empty()) {
    return sb::InvalidArgumentError("a server certificate needs a DNS name or an IP address");
  }
  SB_ASSIGN_OR_RETURN(internal::PkeyPtr key, GenerateP256Key());
  // Clients match the subjectAltName only; the CN is there for people reading the certificate.
  const std::string& common_name = dns_names.empty() ? ip_addresses.front() : dns_names.front();
  SB_ASSIGN_OR_RETURN(internal::X509Ptr cert,
                      internal::NewCertificate(common_name, key.get(), kServerDays));
  X509* c = cert.get();
  if (X509_set_issuer_name(c, X509_get_subject_name(cert_.get())) != 1) {
    return OpensslError("setting the certificate issuer");
  }
  SB_RETURN_IF_ERROR(AddSubjectAltNames(c, dns_names, ip_addresses));
  X509* ca = cert_.get();
  SB_RETURN_IF_ERROR(internal::AddExtension(c, ca, NID_basic_constraints, "critical,CA:FALSE"));
  // ECDHE-ECDSA handshakes need digitalSignature only (no key encipherment with an EC key).
  SB_RETURN_IF_ERROR(internal::AddExtension(c, ca, NID_key_usage, "critical,digitalSignature"));
  SB_RETURN_IF_ERROR(internal::AddExtension(c, ca, NID_ext_key_usage, "serverAuth"));
  SB_RETURN_IF_ERROR(internal::AddExtension(c, ca, NID_subject_key_identifier, "hash"));
  SB_RETURN_IF_ERROR(internal::AddExtension(c, ca, NID_authority_key_identifier, "keyid:always"));
  SB_RETURN_IF_ERROR(internal::SignCertificate(c, key_.get()));

  ServerCertificate out;
  SB_ASSIGN_OR_RETURN(out.cert_pem, internal::CertificatePem(c));
  SB_ASSIGN_OR_RETURN(out.key_pem, internal::PrivateKeyPem(key.get()));
  return out;
}

sb::Status WriteFile(const std::string& path, std::string_view contents, mode_t mode) {
  const std::string tmp_path = path + ".tmp";
  // O_NOFOLLOW: a symlink planted at the temporary name must not redirect a key elsewhere.
  int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return FileError("creating", tmp_path, errno);
  sb::Status filled = FillTemporary(fd, tmp_path, contents, mode);
  if (::close(fd) != 0 && filled.ok()) filled = FileError("closing", tmp_path, errno);
  if (filled.ok() && ::rename(tmp_path.c_str(), path.c_str()) != 0) {
    filled = FileError("renaming onto", path, errno);
  }
  if (!filled.ok()) ::unlink(tmp_path.c_str());
  return filled;
}

}  // namespace sandbox::crypto
