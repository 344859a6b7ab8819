// The API conformance suite on SQLite.
#include "sb/app/testing/api_suite_tests.h"

namespace sb::app::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, ApiSuite, store::testing::SqliteTestBackend);
}  // namespace sb::app::testing
