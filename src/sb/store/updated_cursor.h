// UpdatedCursor: a keyset position in the changes of one table of tenant rows, for the
// "what changed since" reads (ListUpdatedSince) that live updates poll. Rows are ordered by
// (updated_at, key), key being the row's UUID (the connection id for connection health); a
// read returns the rows strictly after the cursor, and the cursor of the last row read is
// where the next read starts, so ties on updated_at are neither lost nor repeated.
//
// updated_at comes from the writer's clock when its transaction began, so a transaction that
// commits after a reader passed its updated_at is not seen by that reader (a later update of
// the row is). Value type.
#pragma once

#include <string>

#include "sb/base/clock.h"

namespace sb::store {

inline constexpr char kNilUuid[] = "00000000-0000-0000-0000-000000000000";

struct UpdatedCursor {
  Timestamp updated_at;
  std::string key = kNilUuid;  // a canonical UUID; the nil UUID is before every row of the time

  // The position before every row updated at or after `at`.
  static UpdatedCursor At(Timestamp at) { return UpdatedCursor{at, kNilUuid}; }
  friend bool operator==(const UpdatedCursor&, const UpdatedCursor&) = default;
};

}  // namespace sb::store
