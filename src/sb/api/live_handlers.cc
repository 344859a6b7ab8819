#include "sb/api/live_handlers.h"

#include <charconv>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "sb/api/auth.h"
#include "sb/api/resource_json.h"
#include "sb/api/tenant_handlers.h"
#include "sb/http/problem.h"
#include "sb/store/connections/connection_health_repository.h"
#include "sb/store/sync/sync_repository.h"
#include "sb/store/webhooks/webhook_repository.h"
#include "sb/sync/engine.h"

namespace sb::api {

namespace {

constexpr std::string_view kRetry = "retry: 2000\n\n";
constexpr std::string_view kKeepAlive = ": keep-alive\n\n";

std::string FormatPart(const store::UpdatedCursor& c) {
  return std::to_string(ToUnixMicros(c.updated_at)) + "_" + c.key;
}

Result<store::UpdatedCursor> ParsePart(std::string_view part) {
  const size_t sep = part.find('_');
  if (sep == std::string_view::npos) return InvalidArgumentError("malformed Last-Event-ID");
  int64_t micros = -1;
  const std::string_view digits = part.substr(0, sep);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), micros);
  const std::string_view key = part.substr(sep + 1);
  if (ec != std::errc() || end != digits.data() + digits.size() || micros < 0 ||
      !IsCanonicalUuid(key)) {
    return InvalidArgumentError("malformed Last-Event-ID");
  }
  return store::UpdatedCursor{FromUnixMicros(micros), std::string(key)};
}

std::string Dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

LiveCursor LiveCursor::At(Timestamp at) {
  return LiveCursor{store::UpdatedCursor::At(at), store::UpdatedCursor::At(at),
                    store::UpdatedCursor::At(at)};
}

Result<LiveCursor> LiveCursor::Parse(std::string_view text) {
  std::vector<store::UpdatedCursor> parts;
  while (parts.size() < 3) {
    const size_t sep = text.find('~');
    SB_ASSIGN_OR_RETURN(store::UpdatedCursor part, ParsePart(text.substr(0, sep)));
    parts.push_back(std::move(part));
    if (sep == std::string_view::npos) break;
    text.remove_prefix(sep + 1);
  }
  if (parts.size() != 3 || text.find('~') != std::string_view::npos) {
    return InvalidArgumentError("malformed Last-Event-ID");
  }
  return LiveCursor{std::move(parts[0]), std::move(parts[1]), std::move(parts[2])};
}

std::string LiveCursor::Format() const {
  return FormatPart(runs) + "~" + FormatPart(health) + "~" + FormatPart(deliveries);
}

// One open stream: holds its place under the caps until the server drops it.
class LiveHandlers::Stream final : public http::BodySource {
 public:
  Stream(LiveHandlers& live, TenantId tenant, LiveCursor cursor)
      : live_(live),
        tenant_(std::move(tenant)),
        cursor_(std::move(cursor)),
        deadline_(live.clock_.Now() + live.options_.max_lifetime),
        last_write_(live.clock_.Now()) {}
  ~Stream() override { live_.Release(tenant_.value()); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  Result<std::optional<std::string>> Next() override {
    if (!started_) {  // at once: the retry hint and what changed since Last-Event-ID
      started_ = true;
      SB_ASSIGN_OR_RETURN(std::string events, live_.Poll(tenant_, cursor_));
      return std::optional<std::string>(std::string(kRetry) + events);
    }
    if (live_.clock_.Now() >= deadline_) return std::optional<std::string>();
    // At most one poll interval on this thread; "" hands the thread back (the server skips it).
    std::this_thread::sleep_for(live_.options_.poll_interval);
    SB_ASSIGN_OR_RETURN(std::string events, live_.Poll(tenant_, cursor_));
    const Timestamp now = live_.clock_.Now();
    if (events.empty() && now - last_write_ >= live_.options_.keep_alive) {
      events = kKeepAlive;
    }
    if (!events.empty()) last_write_ = now;
    return std::optional<std::string>(std::move(events));
  }

 private:
  LiveHandlers& live_;
  const TenantId tenant_;
  LiveCursor cursor_;
  const Timestamp deadline_;
  Timestamp last_write_;
  bool started_ = false;
};

http::Response LiveHandlers::Open(http::Request& r) { return Respond(r, DoOpen(r)); }

Result<http::Response> LiveHandlers::DoOpen(http::Request& request) {
  const tenancy::Principal& p = PrincipalOf(request);
  SB_RETURN_IF_ERROR(RequireScope(p, tenancy::Scope::kRead));
  LiveCursor cursor = LiveCursor::At(clock_.Now());
  std::optional<std::string_view> last = request.Header("Last-Event-ID");
  if (!last) last = request.Query("last_event_id");
  if (last && !last->empty()) {
    SB_ASSIGN_OR_RETURN(cursor, LiveCursor::Parse(*last));
  }
  if (!TryAcquire(p.tenant_id.value())) {
    http::Response refused = http::MakeProblem(
        429, "too-many-live-streams",
        "Too many live streams are open (live.max_streams_per_tenant " +
            std::to_string(options_.max_streams_per_tenant) + ", live.max_streams " +
            std::to_string(options_.max_streams) + "). Close one or retry later.",
        request.request_id);
    refused.SetHeader("Retry-After", "5");
    return refused;
  }
  auto stream = std::make_shared<Stream>(*this, p.tenant_id, std::move(cursor));
  http::Response response = http::Response::Stream(200, "text/event-stream", std::move(stream));
  response.SetHeader("Cache-Control", "no-store");
  response.SetHeader("X-Accel-Buffering", "no");  // proxies must pass events on at once
  return response;
}

Result<std::string> LiveHandlers::Poll(const TenantId& tenant, LiveCursor& cursor) {
  std::vector<store::SyncRunRecord> runs;
  std::vector<store::ConnectionHealthRecord> health;
  std::vector<store::WebhookDeliveryRecord> deliveries;
  const int n = options_.max_events_per_kind;
  SB_RETURN_IF_ERROR(
      db_.RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
        SB_ASSIGN_OR_RETURN(
            runs, store::SyncRepository().ListRunsUpdatedSince(tx, tenant, cursor.runs, n));
        SB_ASSIGN_OR_RETURN(health, store::ConnectionHealthRepository().ListUpdatedSince(
                                        tx, tenant, cursor.health, n));
        SB_ASSIGN_OR_RETURN(deliveries, store::WebhookDeliveryRepository().ListUpdatedSince(
                                            tx, tenant, cursor.deliveries, n));
        return OkStatus();
      }));
  std::string out;
  for (const store::SyncRunRecord& r : runs) {
    cursor.runs = {r.updated_at, r.id.value()};
    out += Event("sync_run", r.id.value(), Dump(sync::SyncRunJson(r)), cursor);
  }
  std::vector<store::UpdatedCursor> changed;
  for (const auto& h : health) changed.push_back({h.updated_at, h.connection_id.value()});
  SB_ASSIGN_OR_RETURN(std::string health_events, HealthEvents(tenant, changed, cursor));
  out += health_events;
  for (const store::WebhookDeliveryRecord& d : deliveries) {
    cursor.deliveries = {d.updated_at, d.id.value()};
    out += Event("delivery", d.id.value(), Dump(DeliveryJson(d)), cursor);
  }
  return out;
}

// A health event needs the view (status, suggestion) that GET .../health computes.
Result<std::string> LiveHandlers::HealthEvents(const TenantId& tenant,
                                               const std::vector<store::UpdatedCursor>& changed,
                                               LiveCursor& cursor) const {
  std::string out;
  for (const store::UpdatedCursor& row : changed) {
    cursor.health = row;
    const ConnectionId connection(row.key);
    Result<connections::HealthView> view = health_.Get(tenant, connection);
    if (!view.ok() && view.status().code() == StatusCode::kNotFound) continue;  // deleted since
    if (!view.ok()) return view.status();
    out += Event("health", row.key, Dump(HealthJson(connection, *view)), cursor);
  }
  return out;
}

std::string LiveHandlers::Event(std::string_view type, std::string_view id, std::string data,
                                const LiveCursor& cursor) const {
  if (data.size() > options_.max_event_bytes) {
    data = Dump(Json{{type == "health" ? "connection_id" : "id", id}, {"truncated", true}});
  }
  std::string event = "id: " + cursor.Format() + "\nevent: ";
  event.append(type).append("\ndata: ").append(data).append("\n\n");
  return event;
}

bool LiveHandlers::TryAcquire(const std::string& tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t& mine = open_[tenant];
  if (mine >= options_.max_streams_per_tenant || total_ >= options_.max_streams) {
    if (mine == 0) open_.erase(tenant);
    return false;
  }
  ++mine;
  ++total_;
  return true;
}

void LiveHandlers::Release(const std::string& tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = open_.find(tenant);
  if (it == open_.end()) return;
  --total_;
  if (--it->second == 0) open_.erase(it);
}

size_t LiveHandlers::OpenStreams() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}

}  // namespace sb::api
