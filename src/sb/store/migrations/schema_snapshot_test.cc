// SQLite instantiation of the schema snapshot suite (golden file testdata/schema_sqlite.txt).
#include <gtest/gtest.h>

#include "sb/store/testing/schema_snapshot_suite.h"
#include "sb/store/testing/test_backends.h"

namespace sb::store::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, SchemaSnapshotTest, ::testing::Types<SqliteTestBackend>);

TEST(NormalizeSql, DropsCommentsAndCollapsesBlanksButKeepsQuotedText) {
  EXPECT_EQ(NormalizeSql("CREATE TABLE t (\n  a TEXT  NOT NULL, -- note\n  b /* x */ INT\n)"),
            "CREATE TABLE t (a TEXT NOT NULL, b INT)");
  EXPECT_EQ(NormalizeSql("CHECK (s IN ('a  b', 'it''s -- no'))"),
            "CHECK (s IN ('a  b', 'it''s -- no'))");
}

TEST(RenderSnapshot, ListsWhatEachVersionAddsAndRemoves) {
  const VersionSchema versions[] = {
      {0, "(bootstrap)", {"a"}}, {1, "one", {"a", "b", "c"}}, {2, "two", {"a", "c", "d"}}};
  const std::string text = RenderSnapshot("test", versions);
  EXPECT_NE(text.find("\n== 0 (bootstrap)\n+ a\n\n== 1 one\n+ b\n+ c\n\n== 2 two\n- b\n+ d\n"),
            std::string::npos)
      << text;
}
}  // namespace sb::store::testing
