// Test backends for suites written once against the Database interface. Each backend owns the
// server-side state for one test and opens two kinds of Database:
//   OpenOwner(): the connection migrations run as (PostgreSQL: role sb_owner);
//   OpenApp():   the connection the app runs as (PostgreSQL: role sb_app, subject to RLS);
//   OpenMaintenance(): audited cross-tenant work (PostgreSQL: role sb_maint, BYPASSRLS).
// SqliteTestBackend uses a fresh file in a fresh temp dir (removed by the destructor), so both
// open the same file. PostgresTestBackend uses the server of PostgresEnvironment (the database
// is shared by the tests of one binary; tests isolate themselves with fresh tenant ids).
// Not thread-safe.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "sb/base/status.h"
#include "sb/base/testing/fake_clock.h"
#include "sb/store/database.h"
#include "sb/store/migrations/migrator.h"

namespace sb::store::testing {

class SqliteTestBackend {
 public:
  static constexpr bool kHasRowLevelSecurity = false;
  static constexpr const char* kName = "sqlite";

  SqliteTestBackend();
  ~SqliteTestBackend();
  Result<std::unique_ptr<Database>> OpenOwner() { return Open(); }
  Result<std::unique_ptr<Database>> OpenApp() { return Open(); }
  Result<std::unique_ptr<Database>> OpenMaintenance() { return Open(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  Result<std::unique_ptr<Database>> Open();
  std::filesystem::path dir_;
  std::filesystem::path path_;
};

// REQUIRES: a PostgresEnvironment is registered in the test binary.
class PostgresTestBackend {
 public:
  static constexpr bool kHasRowLevelSecurity = true;
  static constexpr const char* kName = "postgres";

  Result<std::unique_ptr<Database>> OpenOwner();
  Result<std::unique_ptr<Database>> OpenApp();
  // The BYPASSRLS maintenance role (RLS-07), with row_security=off.
  Result<std::unique_ptr<Database>> OpenMaintenance();
  Result<std::unique_ptr<Database>> OpenSuperuser();
};

// Opens `backend`'s owner database, applies all migrations (with a fixed clock), and returns
// the app database.
template <typename Backend>
Result<std::unique_ptr<Database>> OpenMigrated(Backend& backend) {
  {
    SB_ASSIGN_OR_RETURN(auto owner, backend.OpenOwner());
    sb::testing::FakeClock clock;
    Migrator migrator(*owner, clock);
    SB_RETURN_IF_ERROR(migrator.Up());
  }
  return backend.OpenApp();
}

}  // namespace sb::store::testing
