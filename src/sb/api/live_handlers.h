// GET /v1/live: server-sent events (text/event-stream) of what changes in the caller's tenant,
// for the dashboard and host apps that would otherwise poll.
//
//   event: sync_run   data: the run as GET /v1/sync-runs/{id} answers it (created or updated)
//   event: health     data: {"connection_id", ...} as GET /v1/connections/{id}/health answers it
//   event: delivery   data: the delivery as GET /v1/webhook-deliveries/{id} answers it
//
// The stream opens with `retry: 2000`. Every event carries an `id:`, a LiveCursor: where each of
// the three kinds stands after that event. A client that reconnects with Last-Event-ID (or
// ?last_event_id=) gets everything that changed since; without one the stream starts at now.
// An event whose data would pass max_event_bytes carries {"id", "truncated": true} instead
// (fetch it through REST).
//
// Pool use: the stream's BodySource polls the repositories (ListUpdatedSince, at most
// max_events_per_kind rows per kind and poll) and, when nothing changed, sleeps poll_interval
// on the pool thread before it polls again; each Next holds a thread for at most about one
// poll interval and returns (new events, a `: keep-alive` comment after keep_alive of silence,
// or nothing, which the server skips and asks again), so waiting streams rotate through the
// queue with other work. The route runs on the upload pool (Execution::kOutboundPool), never
// on the database workers; max_streams (all tenants) keeps open streams below that pool's
// threads and max_streams_per_tenant keeps one tenant from taking them all (429 over either).
// A stream ends after max_lifetime (clients reconnect with their Last-Event-ID), and when its
// client closes the connection: the server checks the socket whenever Next has nothing to
// send, so a closed browser gives its place back within a poll interval.
//
// Thread-safe; it must outlive every stream it opened (the server's streams).
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sb/base/clock.h"
#include "sb/base/ids.h"
#include "sb/base/status.h"
#include "sb/connections/health.h"
#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/store/database.h"
#include "sb/store/updated_cursor.h"

namespace sb::api {

struct LiveOptions {
  std::chrono::milliseconds poll_interval{1'000};  // live.poll_interval_ms
  std::chrono::milliseconds keep_alive{15'000};    // a comment after this much silence
  std::chrono::seconds max_lifetime{600};          // live.max_lifetime_seconds
  size_t max_streams_per_tenant = 4;               // live.max_streams_per_tenant
  size_t max_streams = 8;                          // live.max_streams
  int max_events_per_kind = 100;                   // rows read per kind and poll
  size_t max_event_bytes = 64 * 1024;              // data larger than this is truncated
};

// Where a stream stands in each kind's changes: "<us>_<uuid>~<us>_<uuid>~<us>_<uuid>" for sync
// runs, health rows and deliveries, each the (updated_at in Unix microseconds, id) of the last
// row sent (store::UpdatedCursor).
struct LiveCursor {
  store::UpdatedCursor runs;
  store::UpdatedCursor health;
  store::UpdatedCursor deliveries;

  static LiveCursor At(Timestamp at);
  // INVALID_ARGUMENT unless `text` is what Format writes.
  static Result<LiveCursor> Parse(std::string_view text);
  std::string Format() const;
};

class LiveHandlers {
 public:
  LiveHandlers(store::Database& db, connections::ConnectionHealth& health, const Clock& clock,
               LiveOptions options)
      : db_(db), health_(health), clock_(clock), options_(options) {}
  LiveHandlers(const LiveHandlers&) = delete;
  LiveHandlers& operator=(const LiveHandlers&) = delete;

  http::Response Open(http::Request& request);

  // The SSE text of the tenant's changes after `cursor` (advanced past them); "" when none.
  Result<std::string> Poll(const TenantId& tenant, LiveCursor& cursor);

  size_t OpenStreams() const;

 private:
  class Stream;
  Result<http::Response> DoOpen(http::Request& request);
  bool TryAcquire(const std::string& tenant);
  void Release(const std::string& tenant);
  std::string Event(std::string_view type, std::string_view id, std::string data,
                    const LiveCursor& cursor) const;
  Result<std::string> HealthEvents(const TenantId& tenant,
                                   const std::vector<store::UpdatedCursor>& changed,
                                   LiveCursor& cursor) const;

  store::Database& db_;
  connections::ConnectionHealth& health_;
  const Clock& clock_;
  const LiveOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, size_t> open_;  // per tenant; guarded by mu_, no zero entries
  size_t total_ = 0;                              // guarded by mu_
};

}  // namespace sb::api
