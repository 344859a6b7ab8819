// The stored form of a unified event (store::EventRecord): its JSON, content hash, span and
// provider facts, filled the same way by the sync (a provider page's items) and by the writer
// (a provider's answer to a host's write), so that the sync finds an event Switchboard wrote
// unchanged (same content hash) and publishes nothing for it: no echo. Pure; thread-safe.
#pragma once

#include <string>

#include "sb/base/json.h"
#include "sb/store/calendar/calendar_repository.h"
#include "sb/sync/calendar/model.h"

namespace sb::sync::calendar {

// Lowercase hex SHA-256 of the unified JSON's serialization.
std::string ContentHash(const Json& data);

// Sets every field of `record` that follows from `event` (version, ids, status, span, provider
// update time, data, content hash); identity, timestamps and seen_in_run are the caller's.
void FillEventRecord(store::EventRecord& record, const Event& event);
// The same with the event's unified JSON and its ContentHash already at hand.
void FillEventRecord(store::EventRecord& record, const Event& event, Json data, std::string hash);

}  // namespace sb::sync::calendar
