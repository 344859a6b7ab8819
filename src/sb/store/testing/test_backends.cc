#include "sb/store/testing/test_backends.h"

#include <cstdlib>

#include "sb/store/open_database.h"
#include "sb/store/testing/postgres_environment.h"

namespace sb::store::testing {
namespace {

Result<std::unique_ptr<Database>> OpenUrl(const std::string& url) {
  DatabaseOptions options;
  options.url = url;
  options.pool_size = 4;
  options.acquire_timeout = std::chrono::seconds(10);
  return OpenDatabase(options);
}

}  // namespace

SqliteTestBackend::SqliteTestBackend() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "sb-store-XXXXXX").string();
  if (mkdtemp(tmpl.data()) != nullptr) dir_ = tmpl;
  path_ = dir_ / "test.db";
}

SqliteTestBackend::~SqliteTestBackend() {
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

Result<std::unique_ptr<Database>> SqliteTestBackend::Open() {
  if (dir_.empty()) return UnavailableError("could not create a temp dir");
  return OpenUrl("sqlite:" + path_.string());
}

Result<std::unique_ptr<Database>> PostgresTestBackend::OpenOwner() {
  return OpenUrl(PostgresEnvironment::server().owner_url());
}

Result<std::unique_ptr<Database>> PostgresTestBackend::OpenApp() {
  return OpenUrl(PostgresEnvironment::server().app_url());
}

Result<std::unique_ptr<Database>> PostgresTestBackend::OpenMaintenance() {
  return OpenUrl(PostgresEnvironment::server().maintenance_url());
}

Result<std::unique_ptr<Database>> PostgresTestBackend::OpenSuperuser() {
  return OpenUrl(PostgresEnvironment::server().superuser_url());
}

}  // namespace sb::store::testing
