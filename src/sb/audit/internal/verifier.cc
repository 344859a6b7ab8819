#include "sb/audit/internal/verifier.h"

#include <deque>
#include <functional>
#include <utility>

#include "sb/audit/internal/canonical.h"
#include "sb/audit/internal/records.h"
#include "sb/base/encoding.h"
#include "sb/store/audit/audit_repository.h"

namespace sb::audit::internal {
namespace {

using store::AuditCheckpointRecord;
using store::AuditEntryRecord;

std::string Raw(const std::string& hex) { return HexDecode(hex).value_or(""); }
std::string Id(const AuditEntryRecord& e) { return e.body ? e.body->id : std::string(); }

// Reads rows of one table of one tenant in seq order, a page per read-only transaction, and
// buffers at most a page plus one row. A page that cannot be parsed (DATA_LOSS) is retried one
// row at a time so that the rows before the corrupt one are still delivered; then Peek()
// returns DATA_LOSS for the corrupt row itself.
template <typename Record>
class Cursor {
 public:
  // fetch(tx, after_seq, limit) reads one page.
  using Fetch = std::function<Result<std::vector<Record>>(store::Transaction&, int64_t, int)>;

  Cursor(store::Database& db, TenantId tenant, int page_size, Fetch fetch)
      : db_(db), tenant_(std::move(tenant)), page_size_(page_size), fetch_(std::move(fetch)) {}

  // The row `ahead` places after the current one, or nullptr at the end.
  Result<const Record*> Peek(size_t ahead = 0) {
    while (buffer_.size() <= ahead && !exhausted_) SB_RETURN_IF_ERROR(FetchMore());
    return buffer_.size() > ahead ? &buffer_[ahead] : nullptr;
  }
  // REQUIRES: Peek() returned a row.
  void Pop() {
    consumed_ = buffer_.front().seq;
    buffer_.pop_front();
  }
  // Looks for rows committed since the end was reached.
  void Reopen() { exhausted_ = false; }

 private:
  Status FetchMore() {
    const int64_t after = buffer_.empty() ? consumed_ : buffer_.back().seq;
    Result<std::vector<Record>> page = Read(after, page_size_);
    if (page.status().code() == StatusCode::kDataLoss && page_size_ > 1) page = Read(after, 1);
    SB_RETURN_IF_ERROR(page);
    if (page->empty()) exhausted_ = true;
    for (Record& r : *page) buffer_.push_back(std::move(r));
    return OkStatus();
  }

  Result<std::vector<Record>> Read(int64_t after, int limit) {
    std::vector<Record> rows;
    Status s =
        db_.RunInTenant(tenant_, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
          SB_ASSIGN_OR_RETURN(rows, fetch_(tx, after, limit));
          return OkStatus();
        });
    if (!s.ok()) return s;
    return rows;
  }

  store::Database& db_;
  const TenantId tenant_;
  const int page_size_;
  const Fetch fetch_;
  std::deque<Record> buffer_;
  int64_t consumed_ = 0;
  bool exhausted_ = false;
};

class ChainVerifier {
 public:
  ChainVerifier(store::Database& db, const TenantId& tenant, std::string_view public_key,
                std::span<const Checkpoint* const> exported, int page_size)
      : db_(db),
        tenant_(tenant),
        public_key_(public_key),
        exported_(exported),
        entries_(db, tenant, page_size,
                 [this](store::Transaction& tx, int64_t after, int limit) {
                   return repo_.ListEntries(tx, tenant_, {}, after, limit);
                 }),
        stored_(db, tenant, page_size, [this](store::Transaction& tx, int64_t after, int limit) {
          return repo_.ListCheckpoints(tx, tenant_, after, limit);
        }) {}

  Result<ChainResult> Run() {
    SB_ASSIGN_OR_RETURN(auto head, ReadHead());
    search_bound_ = head ? head->seq : 0;
    int64_t last_end = -1;
    while (!result_.finding) {
      SB_RETURN_IF_ERROR(Scan());
      if (result_.finding) break;
      // The end as of now: checkpoints first, then the head, so that anything committed
      // together with a checkpoint is covered by the head read afterwards.
      stored_.Reopen();
      Result<const AuditCheckpointRecord*> beyond = stored_.Peek();
      SB_ASSIGN_OR_RETURN(head, ReadHead());
      if (head && head->seq > last_seq_ && last_seq_ != last_end) {
        last_end = last_seq_;  // appends may have committed meanwhile: scan once more
        entries_.Reopen();
        continue;
      }
      SB_RETURN_IF_ERROR(CheckEnd(head, beyond));
      break;
    }
    return result_;
  }

 private:
  Result<std::optional<store::AuditHeadRecord>> ReadHead() {
    std::optional<store::AuditHeadRecord> head;
    Status s =
        db_.RunInTenant(tenant_, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
          SB_ASSIGN_OR_RETURN(head, repo_.GetHead(tx, tenant_));
          return OkStatus();
        });
    if (!s.ok()) return s;
    return head;
  }

  // The id of entry `seq` ("" when it has none or cannot be read).
  Result<std::string> IdOf(int64_t seq) {
    std::string id;
    Status s =
        db_.RunInTenant(tenant_, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
          auto rows = repo_.ListEntries(tx, tenant_, {}, seq - 1, 1);
          if (rows.ok() && !rows->empty() && rows->front().seq == seq) {
            id = Id(rows->front());
          }
          return IsDataLoss(rows.status()) ? OkStatus() : rows.status();
        });
    if (!s.ok()) return s;
    return id;
  }

  void Report(int64_t seq, std::string entry_id, Reason reason, std::string detail) {
    result_.finding =
        Finding{tenant_, seq, std::move(entry_id), reason, std::move(detail), verified_through_};
  }

  static bool IsDataLoss(const Status& s) { return s.code() == StatusCode::kDataLoss; }

  Status Scan() {
    while (!result_.finding) {
      Result<const AuditEntryRecord*> next = entries_.Peek();
      if (IsDataLoss(next.status())) {
        Report(last_seq_ + 1, "", Reason::kModified,
               "the stored row cannot be read (" + next.status().message() + ")");
        return OkStatus();
      }
      SB_RETURN_IF_ERROR(next);
      if (*next == nullptr) return OkStatus();
      const AuditEntryRecord& e = **next;
      if (e.seq != last_seq_ + 1) {
        Report(last_seq_ + 1, "", e.seq > last_seq_ ? Reason::kDeleted : Reason::kReordered,
               "entries " + std::to_string(last_seq_ + 1) + ".." + std::to_string(e.seq - 1) +
                   " are missing");
        return OkStatus();
      }
      if (!Verifies(e)) return Classify(e);
      Accept(e);
      entries_.Pop();  // invalidates `e`
      SB_RETURN_IF_ERROR(CheckCheckpointsAt(last_seq_));
    }
    return OkStatus();
  }

  // True when `e`, placed at position `seq`, hashes to its leaf.
  static bool FitsAt(const TenantId& tenant, const AuditEntryRecord& e, int64_t seq) {
    if (!e.body) return false;
    std::optional<std::string> canonical = Canonical(tenant, seq, *e.body);
    return canonical && LeafHash(*canonical) == Raw(e.leaf_hash);
  }
  static bool Chains(std::string_view previous, const AuditEntryRecord& e) {
    return ChainHash(previous, Raw(e.leaf_hash)) == Raw(e.chain_hash);
  }
  bool Verifies(const AuditEntryRecord& e) const {
    return FitsAt(tenant_, e, e.seq) && Chains(chain_, e);
  }

  void Accept(const AuditEntryRecord& e) {
    chain_before_ = std::exchange(chain_, Raw(e.chain_hash));
    last_seq_ = e.seq;
    previous_id_ = Id(e);
    ++result_.entries;
  }

  // The other position whose canonical form `e` hashes to, nearest to `p` first.
  std::optional<int64_t> FindPosition(const AuditEntryRecord& e, int64_t p) const {
    if (!e.body) return std::nullopt;
    std::optional<CanonicalParts> parts = CanonicalSplit(tenant_, *e.body);
    if (!parts) return std::nullopt;
    const std::string leaf = Raw(e.leaf_hash);
    const int64_t bound = std::max(search_bound_, p) + 64;
    for (int64_t d = 1; p + d <= bound || p - d >= 1; ++d) {
      for (int64_t q : {p + d, p - d}) {
        if (q >= 1 && q <= bound && LeafHash(parts->With(q)) == leaf) return q;
      }
    }
    return std::nullopt;
  }

  Status Classify(const AuditEntryRecord& e) {
    const int64_t p = e.seq;
    const std::string id = Id(e);
    const bool chains = Chains(chain_, e);
    if (!e.body && chains) {
      Report(p, "", Reason::kBodyMissing, "the body was erased; its hashes still chain");
      return OkStatus();
    }
    if (p >= 2 && FitsAt(tenant_, e, p - 1) && Chains(chain_before_, e)) {
      --result_.entries;
      Report(p - 1, previous_id_, Reason::kInserted,
             "entry " + std::to_string(p - 1) + " was inserted; the real entry " +
                 std::to_string(p - 1) + " follows it");
      return OkStatus();
    }
    Result<const AuditEntryRecord*> next = entries_.Peek(1);
    if (!next.ok() && !IsDataLoss(next.status())) return next.status();
    const AuditEntryRecord* n = next.ok() ? *next : nullptr;
    const bool leaf_ok = FitsAt(tenant_, e, p);
    if (!leaf_ok) {
      if (std::optional<int64_t> q = FindPosition(e, p)) {
        if (*q > p && (n == nullptr || FitsAt(tenant_, *n, *q + 1))) {
          Report(p, "", Reason::kDeleted,
                 "entries " + std::to_string(p) + ".." + std::to_string(*q - 1) +
                     " were deleted and later entries renumbered");
        } else {
          Report(p, id, Reason::kReordered,
                 "this entry was written as entry " + std::to_string(*q));
        }
        return OkStatus();
      }
    }
    if (n != nullptr && FitsAt(tenant_, *n, p) && Chains(chain_, *n)) {
      Report(p, id, Reason::kInserted, "the real entry " + std::to_string(p) + " follows it");
      return OkStatus();
    }
    if (!leaf_ok && e.body && chains) {
      Report(p, id, Reason::kModified, "the body does not hash to its leaf");
      return OkStatus();
    }
    if (!leaf_ok && e.body) {
      std::optional<std::string> canonical = Canonical(tenant_, p, *e.body);
      if (canonical && ChainHash(chain_, LeafHash(*canonical)) == Raw(e.chain_hash)) {
        Report(p, id, Reason::kModified, "the leaf_hash column was rewritten");
        return OkStatus();
      }
    }
    if (leaf_ok && n != nullptr && Chains(ChainHash(chain_, Raw(e.leaf_hash)), *n)) {
      Report(p, id, Reason::kModified, "the chain_hash column was rewritten");
      return OkStatus();
    }
    Report(p, id, Reason::kInserted, "it does not chain from entry " + std::to_string(p - 1));
    return OkStatus();
  }

  // Checks the stored and exported checkpoints of size `seq`, just verified with chain_.
  Status CheckCheckpointsAt(int64_t seq) {
    while (!result_.finding) {
      Result<const AuditCheckpointRecord*> next = stored_.Peek();
      if (IsDataLoss(next.status())) {
        Report(seq, previous_id_, Reason::kCheckpointMismatch,
               "a stored checkpoint row cannot be read");
        return OkStatus();
      }
      SB_RETURN_IF_ERROR(next);
      if (*next == nullptr || (*next)->seq > seq) break;
      const Checkpoint c = CheckpointFromRecord(**next);
      stored_.Pop();
      if (!CheckOne(c, seq, "stored")) return OkStatus();
      if (c.prev_checkpoint_hash != last_checkpoint_hash_) {
        Report(seq, previous_id_, Reason::kCheckpointMismatch,
               "the stored checkpoint before it was deleted or changed");
        return OkStatus();
      }
      last_checkpoint_hash_ = CheckpointHash(c);
      verified_through_ = seq;
    }
    while (!result_.finding && next_exported_ < exported_.size() &&
           exported_[next_exported_]->size <= seq) {
      if (!CheckOne(*exported_[next_exported_++], seq, "exported")) return OkStatus();
      verified_through_ = seq;
    }
    return OkStatus();
  }

  // Signature and chain hash of one checkpoint at `seq`; reports and returns false on failure.
  bool CheckOne(const Checkpoint& c, int64_t seq, const std::string& kind) {
    if (!VerifyCheckpointSignature(c, public_key_)) {
      Report(c.size, previous_id_, Reason::kCheckpointSignatureInvalid,
             "the " + kind + " checkpoint of size " + std::to_string(c.size) +
                 " is not signed by this deployment's audit key");
      return false;
    }
    if (c.size != seq || c.chain_hash != HexEncode(chain_)) {
      Report(c.size, previous_id_, Reason::kCheckpointMismatch,
             "the " + kind + " checkpoint of size " + std::to_string(c.size) +
                 " does not match the chain: entries after " + std::to_string(verified_through_) +
                 " were changed or rewritten");
      return false;
    }
    ++result_.checkpoints;
    return true;
  }

  Status CheckEnd(const std::optional<store::AuditHeadRecord>& head,
                  const Result<const AuditCheckpointRecord*>& stored_beyond) {
    const int64_t n = last_seq_;
    const std::string missing = "entries from " + std::to_string(n + 1) + " are missing";
    if (!head) {
      if (n > 0) Report(n, previous_id_, Reason::kModified, "the chain head row is missing");
    } else if (head->seq > n) {
      Report(n + 1, "", Reason::kDeleted,
             "the chain head records " + std::to_string(head->seq) + " entries; " + missing);
    }
    if (result_.finding) return OkStatus();
    if (!stored_beyond.ok() && !IsDataLoss(stored_beyond.status())) return stored_beyond.status();
    if (stored_beyond.ok() && *stored_beyond != nullptr) {
      Report(n + 1, "", Reason::kDeleted,
             "a stored checkpoint covers " + std::to_string((*stored_beyond)->seq) + " entries; " +
                 missing);
      return OkStatus();
    }
    if (next_exported_ < exported_.size()) {
      const Checkpoint& c = *exported_[next_exported_];
      if (!VerifyCheckpointSignature(c, public_key_)) {
        CheckOne(c, c.size, "exported");
      } else {
        Report(n + 1, "", Reason::kDeleted,
               "an exported checkpoint covers " + std::to_string(c.size) + " entries; " + missing);
      }
      return OkStatus();
    }
    if (!head) return OkStatus();
    if (head->seq < n) {
      SB_ASSIGN_OR_RETURN(std::string id, IdOf(head->seq + 1));
      Report(head->seq + 1, id, Reason::kInserted,
             "entries after the chain head (" + std::to_string(head->seq) + ") were added");
    } else if (head->chain_hash != HexEncode(chain_)) {
      Report(n, previous_id_, Reason::kModified, "the chain head does not match the last entry");
    } else if (head->last_checkpoint_hash != last_checkpoint_hash_) {
      Report(n, previous_id_, Reason::kCheckpointMismatch,
             "the chain head names a checkpoint that is missing or changed");
    }
    return OkStatus();
  }

  store::Database& db_;
  const TenantId tenant_;
  const std::string_view public_key_;
  const std::span<const Checkpoint* const> exported_;
  store::AuditRepository repo_;
  Cursor<AuditEntryRecord> entries_;
  Cursor<AuditCheckpointRecord> stored_;
  size_t next_exported_ = 0;

  int64_t search_bound_ = 0;
  int64_t last_seq_ = 0;
  std::string chain_ = ZeroHash();         // chain hash of entry last_seq_
  std::string chain_before_ = ZeroHash();  // chain hash of entry last_seq_ - 1
  std::string previous_id_;                // id of entry last_seq_
  std::string last_checkpoint_hash_ = std::string(64, '0');
  int64_t verified_through_ = 0;
  ChainResult result_;
};

}  // namespace

Result<ChainResult> VerifyChain(store::Database& db, const TenantId& tenant,
                                std::string_view public_key,
                                std::span<const Checkpoint* const> exported, int page_size) {
  ChainVerifier verifier(db, tenant, public_key, exported, page_size);
  return verifier.Run();
}

}  // namespace sb::audit::internal
