// WalCheckpointer: copies the SQLite write-ahead log back into the database file on a thread of
// its own, so a committing transaction does not pay for it. Internal to the SQLite backend.
//
// SQLite's default checkpoints inside the COMMIT that takes the log past 1,000 pages: the writer
// that happens to cross the line copies every page of the log (40% of the time of a sync page's
// commit, measured in docs/benchmarks.md). Here a pool connection's commit hook only wakes this
// thread at `background_pages`; the thread runs a PASSIVE checkpoint on its own connection,
// concurrently with readers and the next writer. Should the log still reach `inline_pages`
// (the thread starved, or readers pinning old frames), the committing connection checkpoints
// itself, as SQLite would, so the log's size stays bounded whatever happens. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <sqlite3.h>

#include "sb/base/status.h"
#include "sb/store/sqlite/sqlite_connection.h"

namespace sb::store::sqlite_internal {

struct WalCheckpointOptions {
  // The log's size in pages at which the thread is woken (SQLite's autocheckpoint default).
  int background_pages = 1000;
  // The size at which the committing connection checkpoints itself (about 40 MiB of 4 KiB pages).
  int inline_pages = 10000;
};

class WalCheckpointer {
 public:
  // Opens the thread's own connection to `path` and starts the thread. INVALID_ARGUMENT for
  // thresholds < 1 or inline below background.
  static Result<std::unique_ptr<WalCheckpointer>> Start(const std::string& path,
                                                        std::chrono::milliseconds busy_timeout,
                                                        WalCheckpointOptions options);
  // Stops and joins the thread. Detach every connection (or close it) first.
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Replaces `db`'s automatic checkpoints with this checkpointer's commit hook.
  void Attach(sqlite3* db);

  // Checkpoints run by the thread, and by committing connections past `inline_pages`.
  int64_t background_checkpoints() const;
  int64_t inline_checkpoints() const;

 private:
  WalCheckpointer(std::unique_ptr<SqliteConnection> conn, WalCheckpointOptions options);
  static int OnCommit(void* self, sqlite3* db, const char* schema, int pages);
  void Loop();

  const WalCheckpointOptions options_;
  std::unique_ptr<SqliteConnection> conn_;  // used by the thread only

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool requested_ = false;       // guarded by mu_
  bool stopping_ = false;        // guarded by mu_
  int64_t background_done_ = 0;  // guarded by mu_
  int64_t inline_done_ = 0;      // guarded by mu_
  std::thread thread_;
};

}  // namespace sb::store::sqlite_internal
