// Conversions between the audit module's values and the store's rows. Pure; thread-safe.
#pragma once

#include "sb/audit/checkpoint.h"
#include "sb/audit/entry.h"
#include "sb/base/status.h"
#include "sb/store/audit/audit_repository.h"

namespace sb::audit::internal {

Checkpoint CheckpointFromRecord(const store::AuditCheckpointRecord& record);
store::AuditCheckpointRecord CheckpointToRecord(const Checkpoint& checkpoint);
// DATA_LOSS when the stored body cannot be an entry (unknown actor kind or outcome, details
// that are not a JSON object, invalid UTF-8).
Result<Entry> EntryFromRecord(const store::AuditEntryRecord& record);

}  // namespace sb::audit::internal
