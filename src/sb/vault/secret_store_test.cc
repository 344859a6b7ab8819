// SecretStore and key administration on SQLite.
#include "sb/vault/testing/secret_store_suite.h"

namespace sb::vault::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, SecretStoreSuite,
                               ::testing::Types<store::testing::SqliteTestBackend>);
}  // namespace sb::vault::testing
