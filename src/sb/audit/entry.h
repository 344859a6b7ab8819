// Audit entries as read back for the API and exports: Entry (one stored entry), Filter (what
// AuditLog::List selects), Page (one page of results and the cursor of the next), and the
// export formats: CSV (RFC 4180, with spreadsheet formula injection neutralised) and JSON lines.
// Plain values and pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sb/audit/event.h"
#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/json.h"

namespace sb::audit {

struct Entry {
  TenantId tenant_id;
  int64_t seq = 0;  // dense per tenant: 1, 2, 3, ...
  // True when the body was erased for retention (TL-06): only seq and the hashes remain, and
  // every field below is empty or default.
  bool body_erased = false;
  std::string id;  // UUIDv7 of the entry
  Timestamp occurred_at;
  Actor actor;
  std::string action;
  std::string target;
  Outcome outcome = Outcome::kSuccess;
  std::string request_id;
  Json details;            // a JSON object
  std::string leaf_hash;   // lowercase hex SHA-256(0x00 || canonical entry), TL-01
  std::string chain_hash;  // lowercase hex SHA-256(previous chain || leaf)

  friend bool operator==(const Entry&, const Entry&) = default;
};

// Selects entries; unset fields do not filter. Erased entries match only the empty filter.
// The order of List(): the chain's (oldest first) or the viewer's (newest first). A page's
// next_after_seq continues in the same order.
enum class Order { kOldestFirst, kNewestFirst };

struct Filter {
  std::optional<Timestamp> from;  // occurred_at >= from
  std::optional<Timestamp> to;    // occurred_at < to
  std::optional<std::string> action;
  std::optional<ActorKind> actor_kind;
  std::optional<std::string> actor_id;
  std::optional<std::string> target;
  std::optional<Outcome> outcome;
  Order order = Order::kOldestFirst;
};

// One page of List() in seq order. next_after_seq is set when the page is full: pass it as
// `after_seq` to get the next page (which may turn out empty).
struct Page {
  std::vector<Entry> entries;
  std::optional<int64_t> next_after_seq;
};

// CSV export (RFC 4180): a header line and one line per entry, each ending in CRLF. Columns:
// seq,id,occurred_at,actor_kind,actor_id,action,target,outcome,request_id,details,leaf_hash,
// chain_hash (occurred_at in RFC 3339, details as compact JSON). Cells containing a comma,
// quote, CR or LF are quoted with inner quotes doubled. Cells starting with = + - @ (or tab or
// CR) are prefixed with a single quote so that spreadsheets never evaluate them as formulas.
std::string ToCsvHeader();
std::string ToCsvRow(const Entry& entry);
// The one-cell transformation above, exposed for tests and other exporters.
std::string CsvCell(std::string_view value);

// One JSON-lines record: {"tenant_id","seq","id","occurred_at" (RFC 3339),"actor":{"kind",
// "id"},"action","target","outcome","request_id","details","leaf_hash","chain_hash"}; for an
// erased entry {"tenant_id","seq","body_erased":true,"leaf_hash","chain_hash"}. Dump it with
// Json::dump() and append "\n".
Json ToJson(const Entry& entry);

}  // namespace sb::audit
