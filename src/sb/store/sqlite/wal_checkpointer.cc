#include "sb/store/sqlite/wal_checkpointer.h"

#include <utility>

namespace sb::store::sqlite_internal {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(
    const std::string& path, std::chrono::milliseconds busy_timeout, WalCheckpointOptions options) {
  if (options.background_pages < 1 || options.inline_pages < options.background_pages) {
    return InvalidArgumentError("sqlite: WAL checkpoint thresholds out of range");
  }
  SB_ASSIGN_OR_RETURN(auto conn, SqliteConnection::Open(path, busy_timeout));
  return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(std::move(conn), options));
}

WalCheckpointer::WalCheckpointer(std::unique_ptr<SqliteConnection> conn,
                                 WalCheckpointOptions options)
    : options_(options), conn_(std::move(conn)), thread_([this] { Loop(); }) {}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void WalCheckpointer::Attach(sqlite3* db) {
  sqlite3_wal_hook(db, &WalCheckpointer::OnCommit, this);
}

int WalCheckpointer::OnCommit(void* self, sqlite3* db, const char* schema, int pages) {
  auto* checkpointer = static_cast<WalCheckpointer*>(self);
  if (pages >= checkpointer->options_.inline_pages) {
    // Errors are left to the next attempt: the commit itself has succeeded.
    (void)sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    std::lock_guard<std::mutex> lock(checkpointer->mu_);
    ++checkpointer->inline_done_;
    return SQLITE_OK;
  }
  if (pages >= checkpointer->options_.background_pages) {
    {
      std::lock_guard<std::mutex> lock(checkpointer->mu_);
      checkpointer->requested_ = true;
    }
    checkpointer->cv_.notify_one();
  }
  return SQLITE_OK;
}

void WalCheckpointer::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return requested_ || stopping_; });
    if (stopping_) return;
    requested_ = false;
    lock.unlock();
    // PASSIVE copies what no reader still needs and never blocks readers or the writer; BUSY
    // (another checkpoint running) leaves the work to that one.
    (void)sqlite3_wal_checkpoint_v2(conn_->handle(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                    nullptr);
    lock.lock();
    ++background_done_;
  }
}

int64_t WalCheckpointer::background_checkpoints() const {
  std::lock_guard<std::mutex> lock(mu_);
  return background_done_;
}

int64_t WalCheckpointer::inline_checkpoints() const {
  std::lock_guard<std::mutex> lock(mu_);
  return inline_done_;
}

}  // namespace sb::store::sqlite_internal
