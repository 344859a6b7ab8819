// SQLite-specific behaviour: pragmas, binding, pooling, concurrency and a speed sanity check.
#include "sb/store/sqlite/sqlite_database.h"

#include <atomic>
#include <filesystem>
#include <future>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "sb/base/encoding.h"
#include "sb/base/testing/fake_clock.h"
#include "sb/store/tenancy/api_key_repository.h"
#include "sb/store/testing/test_backends.h"

namespace sb::store {
namespace {

using testing::SqliteTestBackend;

Result<std::unique_ptr<SqliteDatabase>> OpenAt(const SqliteTestBackend& backend, int pool,
                                               std::chrono::milliseconds acquire) {
  return SqliteDatabase::Open(
      {.path = backend.path().string(), .pool_size = pool, .acquire_timeout = acquire});
}

std::string QueryText(Database& db, std::string_view sql) {
  std::string out;
  EXPECT_TRUE(db.RunUnscoped([&](Transaction& tx) -> Status {
                  SB_ASSIGN_OR_RETURN(auto rows, tx.Query(sql));
                  out = rows.at(0).GetString(0);
                  return OkStatus();
                }).ok());
  return out;
}

TEST(SqliteDatabase, UsesWalAndForeignKeys) {
  SqliteTestBackend backend;
  auto db = OpenAt(backend, 2, std::chrono::seconds(1));
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ(QueryText(**db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(QueryText(**db, "PRAGMA foreign_keys"), "1");
  EXPECT_EQ(QueryText(**db, "PRAGMA temp_store"), "2");  // MEMORY
}

TEST(SqliteDatabase, BindsDollarPlaceholdersByNumber) {
  SqliteTestBackend backend;
  auto db = OpenAt(backend, 1, std::chrono::seconds(1));
  ASSERT_TRUE(db.ok());
  Status s = (*db)->RunUnscoped([](Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(
        auto rows, tx.Query("SELECT $2 || '-' || $1, $3, $4",
                            {std::string("a"), std::string("b"), int64_t{7}, std::monostate()}));
    EXPECT_EQ(rows.at(0).GetString(0), "b-a");
    EXPECT_EQ(rows.at(0).GetInt(1), 7);
    EXPECT_TRUE(rows.at(0).IsNull(2));
    EXPECT_EQ(tx.Query("SELECT $1", {}).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(tx.Query("SELECT 1; SELECT 2").status().code(), StatusCode::kInvalidArgument);
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(SqliteDatabase, ExhaustedPoolIsUnavailableAfterTheAcquireTimeout) {
  SqliteTestBackend backend;
  auto db = OpenAt(backend, 1, std::chrono::milliseconds(100));
  ASSERT_TRUE(db.ok());
  std::promise<void> inside, release;
  std::thread holder([&] {
    (void)(*db)->RunUnscoped(TxMode::kReadOnly, [&](Transaction&) {
      inside.set_value();
      release.get_future().wait();
      return OkStatus();
    });
  });
  inside.get_future().wait();
  const auto start = std::chrono::steady_clock::now();
  Status s = (*db)->RunUnscoped(TxMode::kReadOnly, [](Transaction&) { return OkStatus(); });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(90));
  release.set_value();
  holder.join();
  EXPECT_EQ((*db)->Stats().waits_total, 1);
  EXPECT_TRUE((*db)->Ping().ok());
}

TEST(SqliteDatabase, ConcurrentWritersAndReadersNeitherFailNorLoseWrites) {
  SqliteTestBackend backend;
  auto db = OpenAt(backend, 4, std::chrono::seconds(10));
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)
                  ->RunUnscoped([](Transaction& tx) {
                    return tx.ExecuteScript("CREATE TABLE t (n INTEGER NOT NULL)");
                  })
                  .ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < 100; ++i) {
        TxMode mode = (w % 2 == 0) ? TxMode::kReadWrite : TxMode::kReadOnly;
        Status s = (*db)->RunUnscoped(mode, [&](Transaction& tx) -> Status {
          if (mode == TxMode::kReadOnly) return tx.Query("SELECT count(*) FROM t").status();
          return tx.Execute("INSERT INTO t (n) VALUES ($1)", {int64_t{i}}).status();
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(QueryText(**db, "SELECT count(*) FROM t"), "200");
}

// Writes `commits` transactions of one 4 KiB blob each (a page or two of the log apiece).
void WriteBlobs(Database& db, int commits) {
  ASSERT_TRUE(db.RunUnscoped([](Transaction& tx) {
                  return tx.ExecuteScript("CREATE TABLE IF NOT EXISTS blobs (b BLOB NOT NULL)");
                }).ok());
  const std::string blob(4096, 'x');
  for (int i = 0; i < commits; ++i) {
    ASSERT_TRUE(db.RunUnscoped([&](Transaction& tx) {
                    return tx.Execute("INSERT INTO blobs (b) VALUES ($1)", {blob}).status();
                  }).ok());
  }
}

uintmax_t WalBytes(const SqliteTestBackend& backend) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(backend.path().string() + "-wal", ec);
  return ec ? 0 : size;
}

TEST(SqliteDatabase, WalIsCheckpointedByItsOwnThread) {
  SqliteTestBackend backend;
  auto db = SqliteDatabase::Open({.path = backend.path().string(),
                                  .pool_size = 2,
                                  .wal_checkpoint_pages = 8,
                                  .wal_inline_checkpoint_pages = 1000000});
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  WriteBlobs(**db, 40);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((*db)->WalCheckpoints().background == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GT((*db)->WalCheckpoints().background, 0);
  EXPECT_EQ((*db)->WalCheckpoints().inline_commit, 0);
  EXPECT_EQ(QueryText(**db, "SELECT count(*) FROM blobs"), "40");
}

// Whatever the thread does, the log stays bounded: past the inline threshold the committing
// connection checkpoints, and the next writer starts the log over. Without the bound, 400
// commits of a blob leave a log of at least 400 pages.
TEST(SqliteDatabase, WalStaysBoundedWhenTheThreadFallsBehind) {
  SqliteTestBackend backend;
  constexpr int kBound = 32;
  auto db = SqliteDatabase::Open({.path = backend.path().string(),
                                  .pool_size = 2,
                                  .wal_checkpoint_pages = kBound,
                                  .wal_inline_checkpoint_pages = kBound});
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  WriteBlobs(**db, 400);
  EXPECT_GT((*db)->WalCheckpoints().inline_commit, 0);
  const uintmax_t page = std::stoull(QueryText(**db, "PRAGMA page_size"));
  EXPECT_LT(WalBytes(backend), (kBound + 8) * (page + 24) + 32);
  EXPECT_EQ(QueryText(**db, "SELECT count(*) FROM blobs"), "400");
}

TEST(SqliteDatabase, CheckpointThresholdsAreValidated) {
  SqliteTestBackend backend;
  EXPECT_EQ(SqliteDatabase::Open({.path = backend.path().string(), .wal_checkpoint_pages = 0})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(SqliteDatabase::Open({.path = backend.path().string(),
                                  .wal_checkpoint_pages = 100,
                                  .wal_inline_checkpoint_pages = 10})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

// Not a benchmark (see bench/), but catches an accidental slow path such as re-preparing
// statements or fsync per read: an authenticated-request lookup must stay in microseconds.
TEST(SqliteDatabase, ReadOnlyPointLookupIsFast) {
  SqliteTestBackend backend;
  auto migrated = testing::OpenMigrated(backend);
  ASSERT_TRUE(migrated.ok()) << migrated.status().ToString();
  Database& db = **migrated;
  const TenantId tenant("0190a5f0-0000-7000-8000-000000000001");
  const std::string hash(64, 'a');
  ApiKeyRepository keys;
  ASSERT_TRUE(db.RunInTenant(tenant, [&](Transaction& tx) -> Status {
                  SB_RETURN_IF_ERROR(
                      tx.Execute("INSERT INTO tenants (id, name, created_at) VALUES ($1, 'x', 0)",
                                 {tenant.value()}));
                  return keys.Insert(tx, tenant,
                                     {tenant,
                                      ApiKeyId("0190a5f0-0000-7000-8000-000000000002"),
                                      "k",
                                      hash,
                                      {"read"},
                                      FromUnixMicros(1)});
                }).ok());
  constexpr int kIterations = 20000;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kIterations; ++i) {
    Status s = db.RunInTenant(tenant, TxMode::kReadOnly, [&](Transaction& tx) {
      return keys.FindByHash(tx, tenant, hash).status();
    });
    ASSERT_TRUE(s.ok());
  }
  const auto per_op = (std::chrono::steady_clock::now() - start) / kIterations;
  std::printf("RunInTenant(read-only) + FindByHash: %lld ns/op\n",
              static_cast<long long>(std::chrono::nanoseconds(per_op).count()));
  EXPECT_LT(per_op, std::chrono::microseconds(500));  // generous: sanitizer builds are slow
}

}  // namespace
}  // namespace sb::store
