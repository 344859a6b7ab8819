#include "sb/app/cli.h"

#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "sb/app/audit_cli.h"
#include "sb/app/keys_cli.h"
#include "sb/app/security.h"
#include "sb/app/server_app.h"
#include "sb/base/clock.h"
#include "sb/base/encoding.h"
#include "sb/base/ids.h"
#include "sb/base/logging.h"
#include "sb/base/random.h"
#include "sb/base/time_format.h"
#include "sb/store/migrations/migrator.h"
#include "sb/store/open_database.h"
#include "sb/tenancy/api_keys.h"
#include "sb/tenancy/dashboard_users.h"
#include "sb/tenancy/tenants.h"

namespace sb::app {
namespace {

constexpr const char* kUsage = R"(usage: switchboard [--config FILE] COMMAND

commands:
  serve                                   start the server
  migrate up | down [N] | status          apply, revert or list schema migrations
  tenant create --name NAME [--system] [--quiet]
                                          create a tenant (prints its id); --system: the
                                          system tenant (nil id), home of operator keys
  apikey create --tenant ID --name NAME --scopes admin,read,write,operator [--quiet]
                                          operator: only for the system tenant
  apikey list --tenant ID
  apikey revoke --tenant ID --id KEY_ID
  user create --tenant ID --email ADDRESS --role operator|admin|viewer [--name NAME] [--quiet]
                                          create a dashboard user with a generated password,
                                          printed once; operator: only for the system tenant
  user list --tenant ID
  keys rotate                             make a new master key version the write version
  keys rewrap [--batch N]                 re-encrypt every secret to the write version
  keys status                             key versions and secrets per version
  keys set-min-version N [--allow-lower]  stop decrypting versions below N
  audit verify [--tenant ID] [--checkpoints FILE]
                                          verify the audit chains (exit 1 on tampering)
  audit hash < VALUE                      hmac-sha256 of a secret, to search the audit log for it
  audit checkpoints --tenant ID           sign the head and print checkpoints as JSON lines
  audit public-key                        print the checkpoint verification key (base64)
  audit init-keys                         create the audit key file (audit.key_file)
  config check                            validate the configuration and print it
  version                                 print the version
)";

// Parsed `--flag value` options plus positional words.
struct Args {
  std::vector<std::string> words;
  std::map<std::string, std::string> flags;
  std::set<std::string> switches;
};

std::optional<Args> Parse(const std::vector<std::string>& argv, std::ostream& err) {
  static const std::set<std::string> kSwitches = {"--quiet", "--allow-lower", "--system"};
  Args args;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0) {
      args.words.push_back(a);
    } else if (kSwitches.count(a)) {
      args.switches.insert(a);
    } else if (i + 1 < argv.size()) {
      args.flags[a] = argv[++i];
    } else {
      err << "switchboard: option " << a << " needs a value\n";
      return std::nullopt;
    }
  }
  return args;
}

// Shared set-up of the commands that touch the database.
struct Context {
  config::Config config;
  SystemClock clock;
  SystemRandom random;
  IdGenerator ids{clock, random};
  std::unique_ptr<store::Database> db;
  Security security;
  std::string user = "unknown";  // $USER, the audit actor of CLI commands

  audit::Context Audit() const {
    return audit::Context{audit::Actor{audit::ActorKind::kCli, user}, ""};
  }
};

Result<std::unique_ptr<store::Database>> Open(const config::Config& c, const std::string& url) {
  store::DatabaseOptions options;
  options.url = url;
  options.pool_size = c.database.pool_size;
  options.acquire_timeout = c.database.acquire_timeout;
  return store::OpenDatabase(options);
}

int Fail(std::ostream& err, const Status& s) {
  err << "switchboard: " << s.ToString() << "\n";
  return 1;
}

int Migrate(Context& ctx, const Args& args, std::ostream& out, std::ostream& err) {
  auto owner = Open(ctx.config, ctx.config.database.migration_url);
  if (!owner.ok()) return Fail(err, owner.status());
  store::Migrator migrator(**owner, ctx.clock, {ctx.config.database.app_role});
  const std::string sub = args.words.size() > 1 ? args.words[1] : "";
  if (sub == "up") {
    auto n = migrator.Up();
    if (!n.ok()) return Fail(err, n.status());
    out << "migrate: applied " << *n << " migration(s)\n";
    return 0;
  }
  if (sub == "down") {
    int count = 1;
    if (args.words.size() > 2) count = std::atoi(args.words[2].c_str());
    if (count < 1) {
      err << "switchboard: migrate down N needs N >= 1\n";
      return 2;
    }
    auto n = migrator.Down(count);
    if (!n.ok()) return Fail(err, n.status());
    out << "migrate: reverted " << *n << " migration(s)\n";
    return 0;
  }
  if (sub == "status") {
    auto states = migrator.Status();
    if (!states.ok()) return Fail(err, states.status());
    for (const auto& m : *states) {
      out << m.version << "  " << (m.applied ? "applied " : "pending ") << m.name;
      if (m.applied_at) out << "  " << FormatRfc3339(*m.applied_at);
      out << "\n";
    }
    return 0;
  }
  err << "switchboard: migrate needs up, down [N] or status\n";
  return 2;
}

std::optional<std::string> Flag(const Args& args, const std::string& name, std::ostream& err) {
  auto it = args.flags.find(name);
  if (it == args.flags.end() || it->second.empty()) {
    err << "switchboard: missing " << name << "\n";
    return std::nullopt;
  }
  return it->second;
}

int TenantCommand(Context& ctx, const Args& args, std::ostream& out, std::ostream& err) {
  if (args.words.size() < 2 || args.words[1] != "create") {
    err << "switchboard: tenant needs 'create'\n";
    return 2;
  }
  auto name = Flag(args, "--name", err);
  if (!name) return 2;
  tenancy::TenantService tenants(tenancy::TenantDeps{
      .db = *ctx.db, .clock = ctx.clock, .ids = ctx.ids, .audit = *ctx.security.audit});
  auto tenant = args.switches.count("--system") ? tenants.CreateSystem(ctx.Audit(), *name)
                                                : tenants.Create(ctx.Audit(), *name);
  if (!tenant.ok()) return Fail(err, tenant.status());
  if (args.switches.count("--quiet")) {
    out << tenant->id.value() << "\n";
  } else {
    out << "tenant " << tenant->id.value() << " created (" << tenant->name << ")\n";
  }
  return 0;
}

Result<std::set<tenancy::Scope>> ParseScopes(const std::string& text) {
  std::set<tenancy::Scope> scopes;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string part =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto scope = tenancy::ParseScope(part);
    if (!scope)
      return InvalidArgumentError("unknown scope '" + part + "' (admin, read, write, operator)");
    scopes.insert(*scope);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return scopes;
}

int ApiKeyCommand(Context& ctx, const Args& args, std::ostream& out, std::ostream& err) {
  const std::string sub = args.words.size() > 1 ? args.words[1] : "";
  auto tenant_text = Flag(args, "--tenant", err);
  if (!tenant_text) return 2;
  TenantId tenant(*tenant_text);
  if (!tenant.valid()) {
    err << "switchboard: --tenant is not a valid tenant id\n";
    return 2;
  }
  tenancy::ApiKeyService keys(tenancy::ApiKeyDeps{.db = *ctx.db,
                                                  .clock = ctx.clock,
                                                  .random = ctx.random,
                                                  .ids = ctx.ids,
                                                  .audit = *ctx.security.audit});
  if (sub == "create") {
    auto name = Flag(args, "--name", err);
    auto scopes_text = Flag(args, "--scopes", err);
    if (!name || !scopes_text) return 2;
    auto scopes = ParseScopes(*scopes_text);
    if (!scopes.ok()) return Fail(err, scopes.status());
    auto issued = keys.Create(ctx.Audit(), tenant, *name, *scopes);
    if (!issued.ok()) return Fail(err, issued.status());
    if (!args.switches.count("--quiet")) {
      out << "API key " << issued->record.id.value() << " created; the key is shown once:\n";
    }
    out << issued->plaintext << "\n";
    return 0;
  }
  if (sub == "list") {
    auto list = keys.List(tenant, std::nullopt, store::ApiKeyRepository::kMaxListLimit);
    if (!list.ok()) return Fail(err, list.status());
    for (const auto& k : *list) {
      out << k.id.value() << "  " << k.name << "  " << store::JoinScopes(k.scopes) << "  "
          << (k.revoked_at ? "revoked" : "active") << "\n";
    }
    return 0;
  }
  if (sub == "revoke") {
    auto id = Flag(args, "--id", err);
    if (!id) return 2;
    Status s = keys.Revoke(ctx.Audit(), tenant, ApiKeyId(*id));
    if (!s.ok()) return Fail(err, s);
    out << "API key " << *id << " revoked\n";
    return 0;
  }
  err << "switchboard: apikey needs create, list or revoke\n";
  return 2;
}

// `user create`: a generated password (192 random bits), so that none passes through argv.
int UserCreate(Context& ctx, tenancy::DashboardUserService& users, const TenantId& tenant,
               const Args& args, std::ostream& out, std::ostream& err) {
  auto email = Flag(args, "--email", err);
  auto role_text = Flag(args, "--role", err);
  if (!email || !role_text) return 2;
  const std::optional<store::DashboardRole> role = store::ParseDashboardRole(*role_text);
  if (!role) {
    err << "switchboard: --role must be operator, admin or viewer\n";
    return 2;
  }
  const auto name = args.flags.find("--name");
  const std::string password = Base64UrlEncode(ctx.random.Bytes(24));
  auto user = users.Create(ctx.Audit(), tenant,
                           {*email, name == args.flags.end() ? "" : name->second, *role, password});
  if (!user.ok()) return Fail(err, user.status());
  if (!args.switches.count("--quiet")) {
    out << "Dashboard user " << user->id.value() << " (" << user->email
        << ") created; sign in to workspace " << tenant.value()
        << " with this password, shown once:\n";
  }
  out << password << "\n";
  return 0;
}

int UserCommand(Context& ctx, const Args& args, std::ostream& out, std::ostream& err) {
  const std::string sub = args.words.size() > 1 ? args.words[1] : "";
  auto tenant_text = Flag(args, "--tenant", err);
  if (!tenant_text) return 2;
  const TenantId tenant(*tenant_text);
  if (!tenant.valid()) {
    err << "switchboard: --tenant is not a valid tenant id\n";
    return 2;
  }
  tenancy::DashboardUserService users(tenancy::DashboardUserDeps{.db = *ctx.db,
                                                                 .clock = ctx.clock,
                                                                 .random = ctx.random,
                                                                 .ids = ctx.ids,
                                                                 .audit = *ctx.security.audit});
  if (sub == "create") return UserCreate(ctx, users, tenant, args, out, err);
  if (sub == "list") {
    auto list = users.List(tenant, std::nullopt, store::DashboardUserRepository::kMaxListLimit);
    if (!list.ok()) return Fail(err, list.status());
    for (const auto& u : *list) {
      out << u.id.value() << "  " << u.email << "  " << store::DashboardRoleName(u.role) << "\n";
    }
    return 0;
  }
  err << "switchboard: user needs create or list\n";
  return 2;
}

int ConfigCheck(const config::Config& c, std::ostream& out) {
  for (const auto& [key, value] : config::Describe(c)) out << key << " = " << value << "\n";
  out << "config: ok\n";
  return 0;
}

}  // namespace

int RunCli(const std::vector<std::string>& argv, const config::Environment& env, std::ostream& out,
           std::ostream& err) {
  std::istringstream none;
  return RunCli(argv, env, none, out, err);
}

int RunCli(const std::vector<std::string>& argv, const config::Environment& env, std::istream& in,
           std::ostream& out, std::ostream& err) {
  std::optional<Args> args = Parse(argv, err);
  if (!args) return 2;
  if (args->words.empty() || args->words[0] == "help") {
    (args->words.empty() ? err : out) << kUsage;
    return args->words.empty() ? 2 : 0;
  }
  const std::string& command = args->words[0];
  if (command == "version") {
    out << "switchboard " << SB_VERSION << "\n";
    return 0;
  }
  std::optional<std::string> config_path;
  if (auto it = args->flags.find("--config"); it != args->flags.end()) config_path = it->second;
  auto env_config = env.find("SWITCHBOARD_CONFIG");
  if (!config_path && env_config != env.end()) config_path = env_config->second;
  Result<config::Config> config = config::LoadConfig(config_path, env);
  if (!config.ok()) {
    err << "switchboard: invalid configuration: " << config.status().message() << "\n";
    return 2;
  }
  log::Level level = log::Level::kInfo;
  log::ParseLevel(config->log.level, &level);
  log::SetLevel(level);
  if (command == "config") return ConfigCheck(*config, out);
  if (command == "serve") return Serve(*config, out, err);

  Context ctx;
  ctx.config = *config;
  for (const char* name : {"USER", "LOGNAME"}) {
    if (auto user = env.find(name); user != env.end() && !user->second.empty()) {
      ctx.user = user->second;
      break;
    }
  }
  if (command == "migrate") return Migrate(ctx, *args, out, err);
  if (command == "audit") {
    return AuditCommand(ctx.config, args->words, args->flags, in, out, err);
  }
  if (command == "keys") {
    return KeysCommand(ctx.config, ctx.user, args->words, args->flags, args->switches, out, err);
  }
  if (command != "tenant" && command != "apikey" && command != "user") {
    err << "switchboard: unknown command '" << command << "'\n" << kUsage;
    return 2;
  }
  auto db = Open(ctx.config, ctx.config.database.url);
  if (!db.ok()) return Fail(err, db.status());
  ctx.db = std::move(*db);
  auto security = SetUpSecurity(ctx.config, ctx.clock, ctx.random, ctx.ids, err);
  if (!security.ok()) return Fail(err, security.status());
  ctx.security = std::move(*security);
  if (command == "user") return UserCommand(ctx, *args, out, err);
  return command == "tenant" ? TenantCommand(ctx, *args, out, err)
                             : ApiKeyCommand(ctx, *args, out, err);
}

}  // namespace sb::app
