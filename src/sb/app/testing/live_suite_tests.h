// GET /v1/live end to end, written once and instantiated per storage backend: the real server,
// the real sandbox, a connection synced by hand while a tenant's stream is open (sync_run
// events up to succeeded, the same JSON as GET /v1/sync-runs/{id}), another tenant's stream
// that sees none of it, Last-Event-ID resuming, the per-tenant cap (429), a closed stream's
// place given back, and the stream's end after its lifetime; health events (a live check) and
// delivery events (a webhook to a local receiver), the same JSON as their REST routes. The
// stream is read with the project's streaming client (CurlHttpClient::Open). Include after
// sync_suite_tests.h.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "sb/app/testing/sync_suite_tests.h"
#include "sb/base/testing/wait.h"
#include "sb/net/curl_http_client.h"
#include "sb/net/testing/loopback_http_server.h"
#include "sb/store/updated_cursor.h"

namespace sb::app::testing {

struct LiveEvent {
  std::string id;
  std::string type;
  Json data;
};

// Reads server-sent events from an open stream; comments and the retry line are kept apart.
class LiveReader {
 public:
  explicit LiveReader(std::unique_ptr<net::HttpResponseStream> stream)
      : stream_(std::move(stream)) {}

  int status() const { return stream_->head().status; }
  std::string Header(std::string_view name) const {
    return std::string(stream_->head().Header(name).value_or(""));
  }

  // Reads until `done` holds for an event or the stream ends (false then); every event read
  // is appended to events().
  template <typename Pred>
  bool ReadUntil(Pred done) {
    while (true) {
      for (size_t end; (end = buffer_.find("\n\n")) != std::string::npos;) {
        const std::string block = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        if (Parse(block) && done(events_.back())) return true;
      }
      auto chunk = stream_->Next();
      if (!chunk.ok() || !chunk->has_value()) {
        ended_ = true;
        return false;
      }
      buffer_ += **chunk;
    }
  }

  // The rest of the body as it is (for an answer that is not a stream, e.g. a problem).
  std::string Rest() {
    std::string body = buffer_;
    for (auto chunk = stream_->Next(); chunk.ok() && chunk->has_value(); chunk = stream_->Next()) {
      body += **chunk;
    }
    return body;
  }

  const std::vector<LiveEvent>& events() const { return events_; }
  const std::string& retry() const { return retry_; }
  bool ended() const { return ended_; }

 private:
  // True when the block was an event.
  bool Parse(const std::string& block) {
    LiveEvent event;
    bool is_event = false;
    size_t start = 0;
    while (start <= block.size()) {
      size_t nl = block.find('\n', start);
      if (nl == std::string::npos) nl = block.size();
      const std::string line = block.substr(start, nl - start);
      start = nl + 1;
      if (line.starts_with("retry: ")) retry_ = line.substr(7);
      if (line.starts_with("id: ")) event.id = line.substr(4);
      if (line.starts_with("event: ")) {
        event.type = line.substr(7);
        is_event = true;
      }
      if (line.starts_with("data: ")) event.data = Json::parse(line.substr(6), nullptr, false);
    }
    if (is_event) events_.push_back(std::move(event));
    return is_event;
  }

  std::unique_ptr<net::HttpResponseStream> stream_;
  std::string buffer_;
  std::vector<LiveEvent> events_;
  std::string retry_;
  bool ended_ = false;
};

template <typename Backend>
class LiveSuite : public SyncSuite<Backend> {
 protected:
  // The suite's clock stands still; rows a run updates would all carry one updated_at. While
  // a test waits for live events the clock moves a millisecond every few milliseconds.
  void StartTicking() {
    ticking_ = true;
    ticker_ = std::thread([this] {
      while (ticking_) {
        this->clock_.Advance(std::chrono::milliseconds(1));
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
      }
    });
  }
  void StopTicking() {
    ticking_ = false;
    if (ticker_.joinable()) ticker_.join();
  }
  void TearDown() override {
    StopTicking();
    SyncSuite<Backend>::TearDown();
  }

  // Opens GET /v1/live with `key`; `last_event_id` sent as Last-Event-ID when not empty.
  std::unique_ptr<LiveReader> Open(const std::string& key, const std::string& last_event_id = "") {
    net::HttpRequest request;
    request.url = "http://127.0.0.1:" + std::to_string(this->port_) + "/v1/live";
    request.headers = {{"Authorization", "Bearer " + key}, {"Accept", "text/event-stream"}};
    if (!last_event_id.empty()) request.headers.emplace_back("Last-Event-ID", last_event_id);
    request.timeout = std::chrono::seconds(60);
    auto stream = client_.Open(request);
    EXPECT_TRUE(stream.ok()) << stream.status().ToString();
    if (!stream.ok()) return nullptr;
    return std::make_unique<LiveReader>(std::move(*stream));
  }

  net::CurlHttpClient client_;
  std::atomic<bool> ticking_{false};
  std::thread ticker_;
};

TYPED_TEST_SUITE_P(LiveSuite);

TYPED_TEST_P(LiveSuite, StreamsTheTenantsSyncRunsAndResumes) {
  const std::string id = this->Connect(SandboxOrigin::kGoogle);
  ASSERT_FALSE(id.empty());
  this->AwaitInitialRun(id);
  auto [other_tenant, other_key] = this->NewTenantWithKey(R"(["read"])");

  auto mine = this->Open(this->key_);
  auto theirs = this->Open(other_key);
  ASSERT_TRUE(mine && theirs);
  ASSERT_EQ(mine->status(), 200);
  EXPECT_EQ(mine->Header("Content-Type"), "text/event-stream");
  EXPECT_EQ(mine->Header("Cache-Control"), "no-store");
  EXPECT_EQ(mine->Header("X-Accel-Buffering"), "no");

  // Where a client that had seen everything up to now would stand (the documented id format).
  const std::string nil = "_" + std::string(store::kNilUuid);
  const std::string now = std::to_string(ToUnixMicros(this->clock_.Now()));
  const std::string before = now + nil + "~" + now + nil + "~" + now + nil;
  this->StartTicking();
  TestResponse started = this->Call("POST", "/v1/connections/" + id + "/sync",
                                    R"({"service":"calendar"})", this->key_);
  ASSERT_EQ(started.status, 202) << started.body;
  const std::string run_id = started.JsonBody().value("id", "");
  ASSERT_TRUE(mine->ReadUntil([&](const LiveEvent& e) {
    return e.type == "sync_run" && e.data.value("id", "") == run_id &&
           e.data.value("status", "") == "succeeded";
  })) << "the stream ended before the run succeeded";
  EXPECT_EQ(mine->retry(), "2000");
  std::vector<LiveEvent> of_run;
  for (const LiveEvent& e : mine->events()) {
    EXPECT_FALSE(e.id.empty());
    if (e.type == "sync_run" && e.data.value("id", "") == run_id) of_run.push_back(e);
  }
  // Each poll sends where the run stands (a fast run may go from queued to succeeded between
  // two polls); the last one is the finished run.
  ASSERT_FALSE(of_run.empty());
  TestResponse rest = this->Call("GET", "/v1/sync-runs/" + run_id, "", this->key_);
  ASSERT_EQ(rest.status, 200);
  EXPECT_EQ(of_run.back().data, rest.JsonBody());  // the REST answer, field for field
  this->StopTicking();

  // Reconnecting with an id from before the run resends where the run stands now; with the
  // id of its last event, nothing of it.
  mine.reset();
  auto after_last = this->Open(this->key_, of_run.back().id);
  auto resumed = this->Open(this->key_, before);
  ASSERT_TRUE(resumed);
  ASSERT_EQ(resumed->status(), 200);
  ASSERT_TRUE(resumed->ReadUntil([&](const LiveEvent& e) {
    return e.type == "sync_run" && e.data.value("id", "") == run_id;
  }));
  EXPECT_EQ(resumed->events().back().data.value("status", ""), "succeeded");
  EXPECT_EQ(this->Open(this->key_, "garbage")->status(), 400);

  // Four streams per tenant (live.max_streams_per_tenant): the other tenant, which holds one,
  // opens three more and the fifth is refused.
  auto second_theirs = this->Open(other_key);
  auto third_theirs = this->Open(other_key);
  auto fourth_theirs = this->Open(other_key);
  ASSERT_TRUE(after_last && second_theirs && third_theirs && fourth_theirs);
  EXPECT_EQ(fourth_theirs->status(), 200) << fourth_theirs->Rest();
  auto fifth = this->Open(other_key);
  ASSERT_TRUE(fifth);
  EXPECT_EQ(fifth->status(), 429);
  EXPECT_NE(fifth->Rest().find("too-many-live-streams"), std::string::npos);
  auto again = this->Open(this->key_);  // the cap is per tenant
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status(), 200) << again->Rest();
  // A client that closes its connection gives its place back at the stream's next poll, though
  // the stream has nothing to write (the clock stands still: no keep-alive is due).
  fourth_theirs.reset();
  std::unique_ptr<LiveReader> reopened;
  const std::string their_key = other_key;  // clang 14 cannot capture a structured binding
  EXPECT_TRUE(sb::testing::Eventually([&] {
    reopened = this->Open(their_key);
    return reopened && reopened->status() == 200;
  })) << "a closed stream kept its place";

  // The other tenant saw nothing; its stream ends after the lifetime (live.max_lifetime).
  this->clock_.Advance(std::chrono::minutes(11));
  EXPECT_FALSE(theirs->ReadUntil([](const LiveEvent&) { return true; }));
  EXPECT_TRUE(theirs->ended());
  EXPECT_TRUE(theirs->events().empty());
  EXPECT_EQ(theirs->retry(), "2000");
  EXPECT_FALSE(after_last->ReadUntil([&](const LiveEvent& e) {
    return e.type == "sync_run" && e.data.value("id", "") == run_id;
  }));
}

// The two other kinds: a live health check's result (as GET .../health answers it) and a
// webhook delivery (as GET /v1/webhook-deliveries/{id} answers it), each to its own tenant only.
TYPED_TEST_P(LiveSuite, StreamsHealthAndDeliveries) {
  net::testing::LoopbackHttpServer receiver([](const net::testing::ServedRequest&) {
    return net::testing::ServedResponse{204, {}, "", false, ""};
  });
  ASSERT_TRUE(receiver.Start().ok());
  ASSERT_EQ(
      this->Call(
              "POST", "/v1/webhook-endpoints",
              Json{{"url", receiver.Url("/hooks")}, {"event_types", {"connection.updated"}}}.dump(),
              this->key_)
          .status,
      201);
  const std::string id = this->Connect(SandboxOrigin::kGoogle);
  ASSERT_FALSE(id.empty());
  auto [other_tenant, other_key] = this->NewTenantWithKey(R"(["read"])");
  (void)other_tenant;
  auto mine = this->Open(this->key_);
  auto theirs = this->Open(other_key);
  ASSERT_TRUE(mine && theirs);
  ASSERT_EQ(mine->status(), 200);
  this->StartTicking();

  TestResponse checked =
      this->Call("GET", "/v1/connections/" + id + "/health?live=true", "", this->key_);
  ASSERT_EQ(checked.status, 200) << checked.body;
  ASSERT_TRUE(mine->ReadUntil([&](const LiveEvent& e) {
    return e.type == "health" && e.data.value("connection_id", "") == id &&
           !e.data.value("last_checked_at", Json()).is_null();
  })) << "no health event for the check";
  EXPECT_EQ(mine->events().back().data["status"], "healthy") << mine->events().back().data;

  TestResponse patched =
      this->Call("PATCH", "/v1/connections/" + id, R"({"settings":{"note":"live"}})", this->key_);
  ASSERT_EQ(patched.status, 200) << patched.body;
  ASSERT_TRUE(mine->ReadUntil([&](const LiveEvent& e) {
    return e.type == "delivery" && e.data.value("event_type", "") == "connection.updated" &&
           e.data.value("state", "") == "succeeded";
  })) << "no delivery event reached succeeded";
  const Json delivery = mine->events().back().data;
  TestResponse rest =
      this->Call("GET", "/v1/webhook-deliveries/" + delivery.value("id", ""), "", this->key_);
  ASSERT_EQ(rest.status, 200) << rest.body;
  EXPECT_EQ(delivery, rest.JsonBody());  // the REST answer, field for field
  this->StopTicking();

  // The other tenant saw none of it by the end of its stream.
  this->clock_.Advance(std::chrono::minutes(11));
  EXPECT_FALSE(theirs->ReadUntil([](const LiveEvent&) { return true; }));
  EXPECT_TRUE(theirs->events().empty());
}

REGISTER_TYPED_TEST_SUITE_P(LiveSuite, StreamsTheTenantsSyncRunsAndResumes,
                            StreamsHealthAndDeliveries);

}  // namespace sb::app::testing
