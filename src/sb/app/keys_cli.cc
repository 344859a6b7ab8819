#include "sb/app/keys_cli.h"

#include <cstdlib>
#include <ostream>

#include "sb/app/security.h"
#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/random.h"
#include "sb/store/open_database.h"
#include "sb/vault/key_admin.h"

namespace sb::app {
namespace {

Result<std::unique_ptr<store::Database>> OpenUrl(const config::Config& c, const std::string& url) {
  store::DatabaseOptions options;
  options.url = url;
  options.pool_size = 2;
  options.acquire_timeout = c.database.acquire_timeout;
  return store::OpenDatabase(options);
}

int Fail(std::ostream& err, const Status& s) {
  err << "switchboard: " << s.ToString() << "\n";
  return 1;
}

}  // namespace

namespace {

// What every subcommand needs: clock, randomness, the security components and the audit hook.
struct KeysContext {
  const config::Config& config;
  SystemClock clock;
  SystemRandom random;
  IdGenerator ids{clock, random};
  Security security;
  vault::AuditHook audit;
};

int Rotate(KeysContext& k, std::ostream& out, std::ostream& err) {
  auto db = OpenUrl(k.config, k.config.database.url);
  if (!db.ok()) return Fail(err, db.status());
  auto rotated = vault::RotateKey(**db, k.security.key_source, k.random, k.clock, k.audit);
  if (!rotated.ok()) return Fail(err, rotated.status());
  out << "keys: version " << rotated->new_version << " is now the write version (was "
      << rotated->previous_version << ")"
      << (rotated->generated ? "; a new key was added to " + k.security.key_source.file : "")
      << "\nkeys: run `switchboard keys rewrap` to move existing secrets to it\n";
  return 0;
}

int ShowStatus(KeysContext& k, store::Database& maint, std::ostream& out, std::ostream& err) {
  auto status = vault::GetKeyStatus(maint, *k.security.vault->keyring());
  if (!status.ok()) return Fail(err, status.status());
  out << "write version: " << status->write_version << "\n"
      << "minimum decryption version: " << status->min_decrypt_version << "\n"
      << "keyring versions:";
  for (uint32_t v : status->keyring_versions) out << " " << v;
  out << "\nsecrets by key version:\n";
  if (status->secrets_by_version.empty()) out << "  (none)\n";
  for (const auto& [version, count] : status->secrets_by_version) {
    out << "  v" << version << ": " << count << "\n";
  }
  return 0;
}

int Rewrap(KeysContext& k, store::Database& maint, const std::map<std::string, std::string>& flags,
           std::ostream& out, std::ostream& err) {
  vault::RewrapOptions options;
  if (auto it = flags.find("--batch"); it != flags.end()) {
    options.batch_size = std::atoi(it->second.c_str());
  }
  options.on_batch = [&out](int64_t rewrapped, int64_t failed) {
    out << "keys: rewrapped " << rewrapped << (failed ? ", failed " + std::to_string(failed) : "")
        << "\n"
        << std::flush;
  };
  auto result = vault::Rewrap(maint, *k.security.secrets, k.clock, options, k.audit);
  if (!result.ok()) return Fail(err, result.status());
  out << "keys: rewrap to version " << result->target_version << " done: " << result->rewrapped
      << " rewrapped, " << result->changed << " replaced concurrently, " << result->failed
      << " failed, " << result->remaining << " remaining below version " << result->target_version
      << "\n";
  for (const std::string& f : result->failures) err << "keys: cannot rewrap " << f << "\n";
  return result->failed == 0 ? 0 : 1;
}

int SetMinVersion(KeysContext& k, store::Database& maint, const std::vector<std::string>& words,
                  bool allow_lower, std::ostream& out, std::ostream& err) {
  if (words.size() < 3) {
    err << "switchboard: keys set-min-version needs a version number\n";
    return 2;
  }
  char* end = nullptr;
  const long version = std::strtol(words[2].c_str(), &end, 10);
  if (end == words[2].c_str() || *end != '\0' || version < 1 || version > 0x7fffffff) {
    err << "switchboard: keys set-min-version: '" << words[2] << "' is not a key version\n";
    return 2;
  }
  Status s = vault::SetMinDecryptVersion(maint, *k.security.secrets, static_cast<uint32_t>(version),
                                         allow_lower, k.clock, k.audit);
  if (!s.ok()) return Fail(err, s);
  out << "keys: minimum decryption version is now " << version << "\n";
  return 0;
}

}  // namespace

int KeysCommand(const config::Config& config, const std::string& user,
                const std::vector<std::string>& words,
                const std::map<std::string, std::string>& flags,
                const std::set<std::string>& switches, std::ostream& out, std::ostream& err) {
  const std::string sub = words.size() > 1 ? words[1] : "";
  if (sub != "rotate" && sub != "rewrap" && sub != "status" && sub != "set-min-version") {
    err << "switchboard: keys needs rotate, rewrap [--batch N], status or set-min-version N "
           "[--allow-lower]\n";
    return 2;
  }
  KeysContext k{config};
  auto security = SetUpSecurity(config, k.clock, k.random, k.ids, err);
  if (!security.ok()) return Fail(err, security.status());
  k.security = std::move(security).value();
  k.audit = SystemAuditHook(*k.security.audit, audit::Actor{audit::ActorKind::kCli, user});
  if (sub == "rotate") return Rotate(k, out, err);

  auto maint = OpenUrl(config, config.database.maintenance_url);
  if (!maint.ok()) return Fail(err, maint.status().WithContext("database.maintenance_url"));
  if (sub == "status") return ShowStatus(k, **maint, out, err);
  if (sub == "rewrap") return Rewrap(k, **maint, flags, out, err);
  return SetMinVersion(k, **maint, words, switches.count("--allow-lower") > 0, out, err);
}

}  // namespace sb::app
