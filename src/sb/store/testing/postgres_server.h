// PostgresServer: a throwaway PostgreSQL 15 server for tests. Start() runs initdb in a fresh
// temp dir (no fsync), starts `postgres` on 127.0.0.1 with a free port and its unix socket in
// the temp dir, waits until it accepts connections, and creates:
//   - role sb_owner (LOGIN), owner of database `switchboard` (migrations run as it),
//   - role sb_app (LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB), the app role.
//   - role sb_maint (LOGIN BYPASSRLS, member of sb_app), the maintenance role of audited
//     cross-tenant work (RLS-07).
// Authentication is `trust` (test-only). When the process runs as root, initdb and postgres run
// as the `postgres` user (PostgreSQL refuses root); the server gets SIGQUIT if the test process
// dies, so crashed tests leave no server behind. The destructor stops the server and removes
// the temp dir. Not thread-safe; URLs may be read from any thread.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <sys/types.h>

#include "sb/base/status.h"

namespace sb::store::testing {

struct PostgresServerOptions {
  std::string bin_dir = "/usr/lib/postgresql/15/bin";
  std::string database = "switchboard";
};

class PostgresServer {
 public:
  // Errors: UNAVAILABLE (binaries missing, initdb or startup failed; the message includes the
  // tail of the server log).
  static Result<std::unique_ptr<PostgresServer>> Start(const PostgresServerOptions& options = {});
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }
  // postgresql://<role>@127.0.0.1:<port>/<database>
  std::string owner_url() const { return Url("sb_owner"); }
  std::string app_url() const { return Url("sb_app"); }
  // The maintenance role with row_security=off: a query that RLS would filter fails instead.
  std::string maintenance_url() const {
    return Url("sb_maint") + "?options=-c%20row_security%3Doff";
  }
  std::string superuser_url() const { return Url("postgres"); }

 private:
  PostgresServer(PostgresServerOptions options, std::filesystem::path dir)
      : options_(std::move(options)), dir_(std::move(dir)) {}
  std::string Url(const std::string& role) const;
  Status InitDb();
  Status Launch();
  Status WaitReady();
  Status CreateRoles();
  void Stop();

  const PostgresServerOptions options_;
  const std::filesystem::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace sb::store::testing
