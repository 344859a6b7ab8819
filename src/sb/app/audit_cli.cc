#include "sb/app/audit_cli.h"

#include <filesystem>
#include <fstream>
#include <istream>
#include <iterator>
#include <optional>
#include <ostream>
#include <sstream>

#include "sb/audit/audit_log.h"
#include "sb/base/clock.h"
#include "sb/base/encoding.h"
#include "sb/base/ids.h"
#include "sb/base/random.h"
#include "sb/store/open_database.h"
#include "sb/vault/secure_buffer.h"

namespace sb::app {
namespace {

using Flags = std::map<std::string, std::string>;

int Fail(std::ostream& err, const Status& s) {
  err << "switchboard: " << s.ToString() << "\n";
  return 1;
}

Result<std::unique_ptr<store::Database>> OpenUrl(const config::Config& c, const std::string& url) {
  store::DatabaseOptions options;
  options.url = url;
  options.pool_size = 2;
  options.acquire_timeout = c.database.acquire_timeout;
  return store::OpenDatabase(options);
}

Result<audit::AuditKeys> LoadKeys(const config::Config& config, Random& random, std::ostream& err) {
  SB_ASSIGN_OR_RETURN(
      audit::AuditKeys keys,
      audit::LoadOrCreateAuditKeys(config.audit.key_file, config.mode == "development", random));
  if (keys.generated()) {
    err << "################################################################################\n"
        << "#  WARNING: generated " << config.audit.key_file << ", DEVELOPMENT audit keys.\n"
        << "#  They protect nothing on a shared disk. In production create the key file once\n"
        << "#  with `switchboard audit init-keys`, keep it outside the database and back it up.\n"
        << "################################################################################\n";
  }
  return keys;
}

// The --tenant flag: nullopt when absent; INVALID_ARGUMENT when malformed.
Result<std::optional<TenantId>> TenantFlag(const Flags& flags) {
  auto it = flags.find("--tenant");
  if (it == flags.end()) return std::optional<TenantId>();
  TenantId tenant(it->second);
  if (!tenant.valid()) return InvalidArgumentError("--tenant is not a valid tenant id");
  return std::optional<TenantId>(tenant);
}

Result<std::vector<audit::Checkpoint>> ReadCheckpointFile(const Flags& flags) {
  auto it = flags.find("--checkpoints");
  if (it == flags.end()) return std::vector<audit::Checkpoint>();
  std::ifstream in(it->second);
  if (!in) return NotFoundError("cannot read checkpoint file '" + it->second + "'");
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = audit::ParseCheckpointLines(text.str());
  if (!parsed.ok()) return parsed.status().WithContext("checkpoint file '" + it->second + "'");
  return parsed;
}

void PrintFinding(const audit::Finding& f, std::ostream& out) {
  out << "FAILED: tenant " << f.tenant_id.value() << " seq " << f.seq << " id "
      << (f.entry_id.empty() ? "-" : f.entry_id) << ": " << audit::ReasonName(f.reason) << " ("
      << f.detail << ")\n";
}

int Verify(const config::Config& config, audit::AuditLog& log, const Flags& flags,
           std::ostream& out, std::ostream& err) {
  auto tenant = TenantFlag(flags);
  if (!tenant.ok()) return Fail(err, tenant.status());
  auto exported = ReadCheckpointFile(flags);
  if (!exported.ok()) return Fail(err, exported.status());
  Result<audit::VerifyReport> report = UnavailableError("not run");
  if (*tenant) {
    auto db = OpenUrl(config, config.database.url);
    if (!db.ok()) return Fail(err, db.status());
    report = log.Verify(**db, **tenant, *exported);
  } else {
    auto maint = OpenUrl(config, config.database.maintenance_url);
    if (!maint.ok()) return Fail(err, maint.status().WithContext("database.maintenance_url"));
    report = log.VerifyAll(**maint, *exported);
  }
  if (!report.ok()) return Fail(err, report.status());
  for (const audit::Finding& f : report->findings) PrintFinding(f, out);
  if (!report->ok()) {
    out << "audit: " << report->findings.size() << " of " << report->chains
        << " chains failed verification\n";
    return 1;
  }
  out << "ok: " << report->entries << " entries in " << report->chains << " chains ("
      << report->checkpoints << " checkpoints verified)\n";
  return 0;
}

int Checkpoints(const config::Config& config, audit::AuditLog& log, const Flags& flags,
                std::ostream& out, std::ostream& err) {
  auto tenant = TenantFlag(flags);
  if (!tenant.ok()) return Fail(err, tenant.status());
  if (!*tenant) {
    err << "switchboard: audit checkpoints needs --tenant ID\n";
    return 2;
  }
  auto db = OpenUrl(config, config.database.url);
  if (!db.ok()) return Fail(err, db.status());
  auto signed_now = log.Checkpoint(**db, **tenant);
  if (!signed_now.ok() && signed_now.status().code() != StatusCode::kFailedPrecondition) {
    return Fail(err, signed_now.status());  // an empty chain simply has no checkpoints
  }
  std::optional<int64_t> after;
  while (true) {
    std::vector<audit::Checkpoint> page;
    Status s = (*db)->RunInTenant(
        **tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
          SB_ASSIGN_OR_RETURN(page,
                              log.Checkpoints(tx, **tenant, after, audit::AuditLog::kMaxPageSize));
          return OkStatus();
        });
    if (!s.ok()) return Fail(err, s);
    for (const audit::Checkpoint& c : page) out << audit::CheckpointToJson(c).dump() << "\n";
    if (page.size() < size_t{audit::AuditLog::kMaxPageSize}) return 0;
    after = page.back().size;
  }
}

int InitKeys(const config::Config& config, Random& random, std::ostream& out, std::ostream& err) {
  std::error_code ec;
  const auto parent = std::filesystem::path(config.audit.key_file).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  Status s = audit::WriteAuditKeys(config.audit.key_file, audit::AuditKeys::Generate(random));
  if (!s.ok()) return Fail(err, s);
  out << "audit: created " << config.audit.key_file
      << " (mode 0600); back it up and keep it outside the database\n";
  return 0;
}

}  // namespace

int AuditCommand(const config::Config& config, const std::vector<std::string>& words,
                 const Flags& flags, std::istream& in, std::ostream& out, std::ostream& err) {
  const std::string sub = words.size() > 1 ? words[1] : "";
  if (sub != "verify" && sub != "checkpoints" && sub != "public-key" && sub != "init-keys" &&
      sub != "hash") {
    err << "switchboard: audit needs verify [--tenant ID] [--checkpoints FILE], checkpoints "
           "--tenant ID, public-key, init-keys or hash (value on standard input)\n";
    return 2;
  }
  SystemClock clock;
  SystemRandom random;
  IdGenerator ids(clock, random);
  if (sub == "init-keys") return InitKeys(config, random, out, err);
  auto keys = LoadKeys(config, random, err);
  if (!keys.ok()) return Fail(err, keys.status());
  audit::AuditLog log(clock, ids, std::move(keys).value(), config.audit.checkpoint_interval);
  if (sub == "public-key") {
    out << Base64Encode(log.PublicKey()) << "\n";
    return 0;
  }
  if (sub == "hash") {
    std::string value((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!value.empty() && value.back() == '\n') value.pop_back();
    if (!value.empty() && value.back() == '\r') value.pop_back();
    if (value.empty()) {
      err << "switchboard: audit hash reads the value from standard input; got nothing\n";
      return 2;
    }
    out << log.HmacSecret(value) << "\n";
    vault::Wipe(value);
    return 0;
  }
  if (sub == "checkpoints") return Checkpoints(config, log, flags, out, err);
  return Verify(config, log, flags, out, err);
}

}  // namespace sb::app
