#include "sb/vault/keyring.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sb/base/encoding.h"

namespace sb::vault {
namespace {

// Thread-safe text of an errno value (std::strerror is not).
std::string ErrnoText(int error) { return std::generic_category().message(error); }

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return UnavailableError(std::string("writing key file: ") + ErrnoText(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

}  // namespace

Status Keyring::Add(uint32_t version, SecretBytes key) {
  if (version < 1 || version > kMaxVersion) {
    return InvalidArgumentError("key version must be between 1 and 2147483647");
  }
  if (key.size() != 32) return InvalidArgumentError("a master key must be 32 bytes");
  if (keys_.count(version) > 0) {
    return AlreadyExistsError("key version " + std::to_string(version) + " appears twice");
  }
  keys_.emplace(version, std::move(key));
  return OkStatus();
}

const SecretBytes* Keyring::Find(uint32_t version) const {
  auto it = keys_.find(version);
  return it == keys_.end() ? nullptr : &it->second;
}

uint32_t Keyring::newest_version() const { return keys_.empty() ? 0 : keys_.rbegin()->first; }

std::vector<uint32_t> Keyring::versions() const {
  std::vector<uint32_t> out;
  for (const auto& [v, k] : keys_) out.push_back(v);
  return out;
}

std::string Keyring::Serialize() const {
  std::string out =
      "# Switchboard master keyring: <version>:<base64url key>. Keep it secret, mode 0600.\n";
  for (const auto& [v, k] : keys_) {
    std::string encoded = Base64UrlEncode(k.view());
    out += std::to_string(v) + ":" + encoded + "\n";
    Wipe(encoded);
  }
  return out;
}

Result<Keyring> ParseKeyring(std::string_view text, std::string_view source_name) {
  Keyring keyring;
  int entry = 0;
  // Lines first (a comment line may contain commas), then comma-separated entries per line.
  std::vector<std::string_view> items;
  for (size_t pos = 0; pos <= text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = TrimSpace(text.substr(pos, end - pos));
    pos = end + 1;
    if (line.empty() || line.front() == '#') continue;
    for (size_t p = 0; p <= line.size();) {
      size_t comma = line.find(',', p);
      if (comma == std::string_view::npos) comma = line.size();
      std::string_view item = TrimSpace(line.substr(p, comma - p));
      p = comma + 1;
      if (!item.empty()) items.push_back(item);
    }
  }
  for (std::string_view item : items) {
    ++entry;
    auto where = [&] {
      return std::string(source_name) + ", entry " + std::to_string(entry) + ": ";
    };
    size_t colon = item.find(':');
    if (colon == std::string_view::npos) {
      return InvalidArgumentError(where() + "expected <version>:<base64 key>");
    }
    std::string_view version_text = TrimSpace(item.substr(0, colon));
    uint64_t version = 0;
    bool digits = !version_text.empty() && version_text.size() <= 10;
    for (char c : version_text) {
      digits = digits && c >= '0' && c <= '9';
      if (digits) version = version * 10 + static_cast<uint64_t>(c - '0');
    }
    if (!digits || version < 1 || version > Keyring::kMaxVersion) {
      return InvalidArgumentError(where() + "the version must be an integer 1..2147483647");
    }
    std::string_view encoded = TrimSpace(item.substr(colon + 1));
    std::optional<std::string> raw = Base64UrlDecode(encoded);
    if (!raw) raw = Base64Decode(encoded);
    if (!raw) return InvalidArgumentError(where() + "the key is not base64");
    SecretBytes key(*raw);
    Wipe(*raw);
    if (key.size() != 32) {
      return InvalidArgumentError(where() + "the key must be 32 bytes (256 bits), got " +
                                  std::to_string(key.size()));
    }
    Status added = keyring.Add(static_cast<uint32_t>(version), std::move(key));
    if (!added.ok()) return InvalidArgumentError(where() + std::string(added.message()));
  }
  return keyring;
}

Result<Keyring> LoadKeyFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return NotFoundError("key file '" + path + "' does not exist");
    return UnavailableError("key file '" + path + "': " + ErrnoText(errno));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return FailedPreconditionError("key file '" + path + "' has mode " + mode +
                                   ": group and others must have no access (chmod 600)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return UnavailableError("key file '" + path + "' cannot be read");
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  Result<Keyring> keyring = ParseKeyring(text, "key file '" + path + "'");
  Wipe(text);
  std::string contents = buffer.str();
  Wipe(contents);
  return keyring;
}

Status WriteKeyFile(const std::string& path, const Keyring& keyring) {
  std::filesystem::path target(path);
  std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
  std::string tmp_name = target.filename().string();
  tmp_name.insert(0, 1, '.');
  tmp_name.append(".tmp");
  std::string tmp = (dir / tmp_name).string();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return UnavailableError("key file '" + tmp + "': " + ErrnoText(errno));
  ::fchmod(fd, 0600);
  std::string text = keyring.Serialize();
  Status written = WriteAll(fd, text);
  Wipe(text);
  if (written.ok() && ::fsync(fd) != 0) written = UnavailableError("fsync of key file failed");
  ::close(fd);
  if (!written.ok()) {
    ::unlink(tmp.c_str());
    return written;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return UnavailableError("key file '" + path + "': " + ErrnoText(errno));
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return OkStatus();
}

SecretBytes GenerateMasterKey(Random& random) {
  SecretBytes key = SecretBytes::Zeroed(32);
  random.Fill(key.mutable_data(), key.size());
  return key;
}

}  // namespace sb::vault
