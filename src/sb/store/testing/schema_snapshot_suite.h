// Schema snapshot suite, written once and instantiated per backend like the conformance suites:
// migrating up one version at a time from an empty database must produce exactly the schema of
// the checked-in golden file (schema_snapshot.h), and every down migration must restore exactly
// the schema of the version before it. Include in exactly one translation unit per test binary
// that defines SB_SCHEMA_SNAPSHOT_DIR (the directory of the golden files).
//
// Regenerating the golden files after an intended schema change:
//   SB_UPDATE_SCHEMA_SNAPSHOT=1 ctest --test-dir build/debug -R schema_snapshot
// then review and commit the diff of src/sb/store/migrations/testdata/schema_*.txt.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sb/base/testing/fake_clock.h"
#include "sb/store/migrations/migrator.h"
#include "sb/store/testing/schema_snapshot.h"
#include "sb/store/testing/test_backends.h"

#ifndef SB_SCHEMA_SNAPSHOT_DIR
#error "define SB_SCHEMA_SNAPSHOT_DIR for the schema snapshot test"
#endif

namespace sb::store::testing {

inline std::string JoinLines(const SchemaLines& lines) {
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

template <typename TestBackend>
class SchemaSnapshotTest : public ::testing::Test {
 protected:
  // Not the server's sb_app: a role name hard-coded in a migration instead of {{app_role}}
  // then shows up in the snapshot.
  static constexpr const char* kAppRole = "sb_snapshot_app";
  static constexpr const char* kOwnerRole = "sb_owner";

  void SetUp() override {
    if constexpr (TestBackend::kHasRowLevelSecurity) {
      Status role = CreateAppRole();
      ASSERT_TRUE(role.ok()) << role.ToString();
    }
    auto owner = backend_.OpenOwner();
    ASSERT_TRUE(owner.ok()) << owner.status().ToString();
    owner_ = std::move(owner).value();
    auto down = NewMigrator(All()).Down(static_cast<int>(All().size()));  // start empty
    ASSERT_TRUE(down.ok()) << down.status().ToString();
  }

  Status CreateAppRole() {
    SB_ASSIGN_OR_RETURN(auto su, backend_.OpenSuperuser());
    return su->RunUnscoped([](Transaction& tx) {
      return tx.ExecuteScript(std::string("DO $$ BEGIN CREATE ROLE ") + kAppRole +
                              " NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
    });
  }

  std::span<const Migration> All() const {
    return owner_->backend() == Backend::kPostgres ? PostgresMigrations() : SqliteMigrations();
  }

  Migrator NewMigrator(std::span<const Migration> migrations) {
    return Migrator(*owner_, clock_, MigratorOptions{kAppRole}, migrations);
  }

  Result<SchemaLines> Dump() {
    SchemaLines lines;
    SB_RETURN_IF_ERROR(owner_->RunUnscoped(TxMode::kReadOnly, [&](Transaction& tx) -> Status {
      SB_ASSIGN_OR_RETURN(lines, DumpSchema(tx, SnapshotRoles{kAppRole, kOwnerRole}));
      return OkStatus();
    }));
    return lines;
  }

  // From an empty database, migrates up one version at a time (a Migrator over a prefix of
  // the migrations) and dumps the schema after the bootstrap and after each version.
  Result<std::vector<VersionSchema>> UpEachVersion() {
    std::vector<VersionSchema> versions;
    for (size_t n = 0; n <= All().size(); ++n) {
      SB_ASSIGN_OR_RETURN(int applied, NewMigrator(All().first(n)).Up());
      if (applied != (n == 0 ? 0 : 1)) return InternalError("not one migration at a time");
      VersionSchema v{0, "(bootstrap)", {}};
      if (n > 0) v = {All()[n - 1].version, std::string(All()[n - 1].name), {}};
      SB_ASSIGN_OR_RETURN(v.lines, Dump());
      versions.push_back(std::move(v));
    }
    return versions;
  }

  std::filesystem::path GoldenPath() const {
    return std::filesystem::path(SB_SCHEMA_SNAPSHOT_DIR) /
           (std::string("schema_") + TestBackend::kName + ".txt");
  }

  TestBackend backend_;
  sb::testing::FakeClock clock_;
  std::unique_ptr<Database> owner_;
};

TYPED_TEST_SUITE_P(SchemaSnapshotTest);

TYPED_TEST_P(SchemaSnapshotTest, EachVersionMatchesTheCheckedInSnapshot) {
  auto versions = this->UpEachVersion();
  ASSERT_TRUE(versions.ok()) << versions.status().ToString();
  ASSERT_GT(versions->back().lines.size(), versions->front().lines.size());
  const std::string actual = RenderSnapshot(TypeParam::kName, *versions);
  const std::filesystem::path path = this->GoldenPath();
  const char* update = std::getenv("SB_UPDATE_SCHEMA_SNAPSHOT");
  if (update != nullptr && std::string(update) == "1") {
    ASSERT_TRUE(WriteTextFile(path, actual).ok()) << path;
    std::cout << "[ schema snapshot written to " << path.string() << " ]\n";
    return;
  }
  auto expected = ReadTextFile(path);
  ASSERT_TRUE(expected.ok()) << expected.status().ToString()
                             << "; generate it with SB_UPDATE_SCHEMA_SNAPSHOT=1";
  EXPECT_EQ(*expected, actual)
      << "The schema the migrations create differs from " << path.string()
      << ". If the change is intended, regenerate with SB_UPDATE_SCHEMA_SNAPSHOT=1 and review "
         "the diff; a refactoring of the migrations must not change it.";
}

TYPED_TEST_P(SchemaSnapshotTest, EachDownRestoresTheVersionBeforeAndUpAgainTheLatest) {
  auto versions = this->UpEachVersion();
  ASSERT_TRUE(versions.ok()) << versions.status().ToString();
  Migrator migrator = this->NewMigrator(this->All());
  for (size_t n = versions->size() - 1; n >= 1; --n) {
    auto down = migrator.Down(1);
    ASSERT_TRUE(down.ok()) << down.status().ToString();
    ASSERT_EQ(*down, 1);
    auto schema = this->Dump();
    ASSERT_TRUE(schema.ok()) << schema.status().ToString();
    EXPECT_EQ(JoinLines(*schema), JoinLines((*versions)[n - 1].lines))
        << "down of migration " << (*versions)[n].version << " " << (*versions)[n].name;
  }
  auto up = migrator.Up();
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  auto schema = this->Dump();
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  EXPECT_EQ(JoinLines(*schema), JoinLines(versions->back().lines)) << "up after all down";
}

REGISTER_TYPED_TEST_SUITE_P(SchemaSnapshotTest, EachVersionMatchesTheCheckedInSnapshot,
                            EachDownRestoresTheVersionBeforeAndUpAgainTheLatest);

}  // namespace sb::store::testing
