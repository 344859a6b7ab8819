#include "sb/sync/calendar/event_record.h"

#include <chrono>
#include <utility>

#include "sb/base/encoding.h"
#include "sb/vault/digest.h"

namespace sb::sync::calendar {

std::string ContentHash(const Json& data) { return HexEncode(vault::Sha256(data.dump())); }

void FillEventRecord(store::EventRecord& record, const Event& event) {
  Json data = EventToJson(event);
  std::string hash = ContentHash(data);
  FillEventRecord(record, event, std::move(data), std::move(hash));
}

void FillEventRecord(store::EventRecord& record, const Event& event, Json data, std::string hash) {
  record.version = event.version;
  record.ical_uid = event.ical_uid;
  record.series_master_provider_id = event.series_master_provider_id;
  record.status = std::string(EventStatusName(event.status));
  record.start_ms.reset();
  record.end_ms.reset();
  if (auto span = EventSpan(event); span.ok()) {
    record.start_ms = span->start_ms;
    record.end_ms = span->end_ms;
    // An end before the start (the provider's data) is read as a point in time.
    if (record.end_ms && *record.end_ms < *record.start_ms) record.end_ms = record.start_ms;
  }
  record.provider_updated_at.reset();
  if (event.updated_ms) {
    record.provider_updated_at = Timestamp(std::chrono::milliseconds(*event.updated_ms));
  }
  record.data = std::move(data);
  record.content_hash = std::move(hash);
}

}  // namespace sb::sync::calendar
