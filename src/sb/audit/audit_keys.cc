#include "sb/audit/audit_keys.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sb/base/encoding.h"

namespace sb::audit {
namespace {

constexpr std::string_view kHmacEntry = "hmac-key";
constexpr std::string_view kSigningEntry = "signing-key";
constexpr size_t kMaxKeyFileBytes = 64 * 1024;

void Wipe(std::string& s) {
  if (!s.empty()) explicit_bzero(s.data(), s.size());
  s.clear();
}

// Wipes the strings it guards when it goes out of scope, on every return path.
class WipeGuard {
 public:
  explicit WipeGuard(std::initializer_list<std::string*> guarded) : guarded_(guarded) {}
  ~WipeGuard() {
    for (std::string* s : guarded_) Wipe(*s);
  }
  WipeGuard(const WipeGuard&) = delete;
  WipeGuard& operator=(const WipeGuard&) = delete;

 private:
  std::vector<std::string*> guarded_;
};

Status Errno(std::string_view what, const std::string& path) {
  return UnavailableError(std::string(what) + " audit key file '" + path +
                          "': " + std::strerror(errno));
}

Result<std::string> ReadKeyFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return NotFoundError("no audit key file '" + path + "'");
    return Errno("cannot open", path);
  }
  struct stat st {};
  Status status;
  if (::fstat(fd, &st) != 0) {
    status = Errno("cannot stat", path);
  } else if (!S_ISREG(st.st_mode)) {
    status = FailedPreconditionError("audit key file '" + path + "' is not a regular file");
  } else if ((st.st_mode & 077) != 0) {
    status = FailedPreconditionError("audit key file '" + path +
                                     "' is accessible by group or others; run chmod 600 on it");
  } else if (st.st_size > static_cast<off_t>(kMaxKeyFileBytes)) {
    status = InvalidArgumentError("audit key file '" + path + "' is too large");
  }
  std::string text;
  if (status.ok()) {
    text.resize(static_cast<size_t>(st.st_size));
    size_t got = 0;
    while (got < text.size()) {
      const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    if (got != text.size()) {
      Wipe(text);
      status = UnavailableError("short read of audit key file '" + path + "'");
    }
  }
  ::close(fd);
  if (!status.ok()) return status;
  return text;
}

// Decodes one entry's value into `out` (32 bytes). The message never contains the value.
Status DecodeKey(std::string_view value, std::string_view entry, const std::string& path,
                 std::string& out) {
  std::optional<std::string> decoded = Base64UrlDecode(value);
  if (!decoded || decoded->size() != 32) {
    if (decoded) Wipe(*decoded);
    return InvalidArgumentError("audit key file '" + path + "': " + std::string(entry) +
                                " must be the base64url encoding of 32 bytes");
  }
  Wipe(out);
  out = std::move(*decoded);
  return OkStatus();
}

Status ParseKeyFile(std::string_view text, const std::string& path, std::string& hmac,
                    std::string& seed) {
  size_t line_no = 0;
  bool have_hmac = false;
  bool have_seed = false;
  while (!text.empty()) {
    ++line_no;
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const std::string where = "audit key file '" + path + "' line " + std::to_string(line_no);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return InvalidArgumentError(where + ": expected 'name: value'");
    }
    const std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    bool* seen = name == kHmacEntry ? &have_hmac : name == kSigningEntry ? &have_seed : nullptr;
    if (seen == nullptr) {
      return InvalidArgumentError(where + ": unknown entry (expected hmac-key or signing-key)");
    }
    if (*seen) return InvalidArgumentError(where + ": duplicate " + std::string(name));
    *seen = true;
    SB_RETURN_IF_ERROR(DecodeKey(value, name, path, name == kHmacEntry ? hmac : seed));
  }
  if (!have_hmac || !have_seed) {
    return InvalidArgumentError("audit key file '" + path + "' lacks " +
                                std::string(have_hmac ? kSigningEntry : kHmacEntry));
  }
  return OkStatus();
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return UnavailableError(std::string("write failed: ") + std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

// Appends "name: base64url(value)\n" to `text` without leaving unwiped copies of the value.
void AppendEntry(std::string& text, std::string_view name, std::string_view value) {
  std::string encoded = Base64UrlEncode(value);
  text.append(name).append(": ").append(encoded).append("\n");
  Wipe(encoded);
}

std::string KeyFileText(const AuditKeys& keys) {
  std::array<uint8_t, vault::kEd25519SeedSize> seed{};
  keys.signing_key().ExportSeed(seed);
  std::string text;
  text.reserve(1024);  // no reallocation may leave key bytes behind in freed memory
  text.append(
      "# Switchboard audit keys (audit.key_file): the HMAC key of secret-bearing audit values\n"
      "# (AUD-02) and the Ed25519 seed that signs audit checkpoints (TL-03). Keep this file\n"
      "# secret, mode 0600, and outside the database; back it up separately.\n");
  AppendEntry(text, kHmacEntry, keys.hmac_key());
  AppendEntry(text, kSigningEntry,
              std::string_view(reinterpret_cast<const char*>(seed.data()), seed.size()));
  explicit_bzero(seed.data(), seed.size());
  return text;
}

}  // namespace

AuditKeys AuditKeys::Generate(Random& random) {
  std::string hmac(kAuditHmacKeySize, '\0');
  random.Fill(reinterpret_cast<uint8_t*>(hmac.data()), hmac.size());
  return AuditKeys(std::move(hmac), vault::Ed25519PrivateKey::Generate(random));
}

Result<AuditKeys> AuditKeys::FromMaterial(std::string_view hmac_key,
                                          std::string_view signing_seed) {
  if (hmac_key.size() != kAuditHmacKeySize) {
    return InvalidArgumentError("the audit HMAC key has 32 bytes");
  }
  SB_ASSIGN_OR_RETURN(vault::Ed25519PrivateKey signing,
                      vault::Ed25519PrivateKey::FromSeed(signing_seed));
  return AuditKeys(std::string(hmac_key), std::move(signing));
}

AuditKeys::AuditKeys(AuditKeys&& other) noexcept
    : hmac_key_(std::move(other.hmac_key_)),
      signing_key_(std::move(other.signing_key_)),
      generated_(other.generated_) {
  Wipe(other.hmac_key_);
}

AuditKeys& AuditKeys::operator=(AuditKeys&& other) noexcept {
  if (this != &other) {
    Wipe(hmac_key_);
    hmac_key_ = std::move(other.hmac_key_);
    Wipe(other.hmac_key_);
    signing_key_ = std::move(other.signing_key_);
    generated_ = other.generated_;
  }
  return *this;
}

AuditKeys::~AuditKeys() { Wipe(hmac_key_); }

Result<AuditKeys> LoadAuditKeys(const std::string& path) {
  SB_ASSIGN_OR_RETURN(std::string text, ReadKeyFile(path));
  std::string hmac;
  std::string seed;
  WipeGuard guard({&text, &hmac, &seed});
  SB_RETURN_IF_ERROR(ParseKeyFile(text, path, hmac, seed));
  return AuditKeys::FromMaterial(hmac, seed);
}

Status WriteAuditKeys(const std::string& path, const AuditKeys& keys) {
  const std::filesystem::path target(path);
  std::filesystem::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::string name = ".";  // (not `"." + ...`: g++ 12 -O3 reports a false -Wrestrict there)
  name += target.filename().string();
  name += ".tmp-XXXXXX";
  std::string tmp = (dir / name).string();
  const int fd = ::mkstemp(tmp.data());  // mode 0600, O_EXCL
  if (fd < 0) return Errno("cannot create a temporary file next to the", path);
  std::string text = KeyFileText(keys);
  WipeGuard guard({&text});
  Status status = WriteAll(fd, text);
  if (status.ok() && ::fsync(fd) != 0) status = Errno("cannot fsync", path);
  ::close(fd);
  if (status.ok() && ::link(tmp.c_str(), path.c_str()) != 0) {
    status = errno == EEXIST ? AlreadyExistsError("audit key file '" + path + "' already exists")
                             : Errno("cannot create", path);
  }
  ::unlink(tmp.c_str());
  if (status.ok()) {
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
      (void)::fsync(dir_fd);  // best effort: the file itself is already durable
      ::close(dir_fd);
    }
  }
  return status;
}

Result<AuditKeys> LoadOrCreateAuditKeys(const std::string& path, bool development, Random& random) {
  Result<AuditKeys> loaded = LoadAuditKeys(path);
  if (loaded.ok() || loaded.status().code() != StatusCode::kNotFound) return loaded;
  if (!development) {
    return FailedPreconditionError(
        "no audit keys: production mode needs the audit key file '" + path +
        "' (audit.key_file); create it once with `switchboard audit init-keys` and keep it "
        "outside the database");
  }
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  AuditKeys keys = AuditKeys::Generate(random);
  Status written = WriteAuditKeys(path, keys);
  if (written.code() == StatusCode::kAlreadyExists) return LoadAuditKeys(path);  // lost a race
  SB_RETURN_IF_ERROR(written);
  keys.generated_ = true;
  return keys;
}

}  // namespace sb::audit
