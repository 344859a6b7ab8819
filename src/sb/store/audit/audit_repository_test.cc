// SQLite instantiation of the AuditRepository conformance suite.
#include <gtest/gtest.h>

#include "sb/store/audit/audit_repository_conformance.h"

namespace sb::store::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, AuditRepositoryTest, ::testing::Types<SqliteTestBackend>);
}  // namespace sb::store::testing
