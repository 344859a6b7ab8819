// PostgreSQL instantiation of the schema snapshot suite (golden file
// testdata/schema_postgres.txt): tables, columns, constraints, indexes, row-level security and
// every policy and grant the migrations create.
#include <gtest/gtest.h>

#include "sb/store/testing/postgres_environment.h"
#include "sb/store/testing/schema_snapshot_suite.h"
#include "sb/store/testing/test_backends.h"

namespace sb::store::testing {
namespace {
[[maybe_unused]] ::testing::Environment* const kPostgres =
    ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);
}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, SchemaSnapshotTest, ::testing::Types<PostgresTestBackend>);
}  // namespace sb::store::testing
