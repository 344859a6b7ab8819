// SecretStore and key administration on PostgreSQL (app role under RLS, maintenance role).
#include "sb/store/testing/postgres_environment.h"
#include "sb/vault/testing/secret_store_suite.h"

namespace sb::vault::testing {

[[maybe_unused]] ::testing::Environment* const kPostgres =
    ::testing::AddGlobalTestEnvironment(new store::testing::PostgresEnvironment);

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, SecretStoreSuite,
                               ::testing::Types<store::testing::PostgresTestBackend>);
}  // namespace sb::vault::testing
