// Calendar writes from the host end to end (issue 16), once per storage backend: the real
// server and the real switchboard-sandbox, a host app that keeps its own schedule entries
// (external ids) and writes them through /v1, the provider's side changed through the proxy
// as the user's own calendar client would, and what each side then sees. Include after
// sync_suite_tests.h.
//
// A JSON member is replaced with a named type (`j["k"] = Json::object({...})`), never with a
// bare braced list: in a template, clang 14 with nlohmann 3.11.2 then leaks the member's old
// value (LeakSanitizer in the debug preset).
#pragma once

#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "sb/app/testing/sync_suite_tests.h"
#include "sb/store/jobs/job_repository.h"
#include "sb/sync/calendar/writer.h"

namespace sb::app::testing {

template <typename Backend>
class WriteSuite : public SyncSuite<Backend> {
 protected:
  using Headers = std::vector<std::pair<std::string, std::string>>;

  TestResponse Send(const std::string& method, const std::string& target, const Json& body,
                    const Headers& headers = {}, const std::string& key = "") {
    TestHttpClient client(this->port_);
    return client.Send(method, target, body.is_null() ? "" : body.dump(), this->KeyOr(key),
                       headers);
  }

  std::string EntryPath(const std::string& connection, const std::string& external_id) {
    return "/v1/connections/" + connection + "/events/by-external-id/" + external_id;
  }

  // How many of the tenant's write jobs (the safety net of each write, writer.h) are queued.
  size_t QueuedWriteJobs() {
    std::vector<store::JobRecord> jobs;
    const TenantId tenant(this->tenant_);
    EXPECT_TRUE(this->app_->database()
                    .RunInTenant(tenant, store::TxMode::kReadOnly,
                                 [&](store::Transaction& tx) -> Status {
                                   SB_ASSIGN_OR_RETURN(
                                       jobs, store::JobRepository().List(
                                                 tx, tenant, store::JobState::kQueued,
                                                 std::string(sync::calendar::kEventWriteJob),
                                                 std::nullopt, 1000));
                                   return OkStatus();
                                 })
                    .ok());
    return jobs.size();
  }

  // A connected account with a few events, its initial sync done.
  std::string ConnectSynced(SandboxOrigin origin) {
    this->Seed(origin, 5);
    const std::string id = this->Connect(origin);
    EXPECT_FALSE(id.empty());
    if (id.empty()) return id;
    EXPECT_EQ(this->AwaitInitialRun(id)["status"], "succeeded");
    // Syncs run by hand only: a push after a provider-side change would race the test's own
    // writes against the version it holds.
    const char* drop =
        origin == SandboxOrigin::kGoogle ? "push_drop_rate" : "notification_drop_rate";
    EXPECT_TRUE(this->sandbox_->PutSettings(origin, Json{{drop, 1.0}}).ok());
    return id;
  }

  // A job for a field technician: an hour on 2027-01-12 in Zurich with a customer invited.
  static Json Job(const std::string& title) {
    return Json{
        {"title", title},
        {"location", "Bahnhofstrasse 1, Zurich"},
        {"description_text", "Replace the boiler valve"},
        {"start", {{"instant", "2027-01-12T09:00:00+01:00"}, {"time_zone", "Europe/Zurich"}}},
        {"end", {{"instant", "2027-01-12T10:00:00+01:00"}, {"time_zone", "Europe/Zurich"}}},
        {"attendees", {{{"email", "customer@example.com"}, {"name", "A Customer"}}}},
        {"reminders",
         {{"use_default", false}, {"overrides", {{{"method", "popup"}, {"minutes", 30}}}}}}};
  }

  // The event as the Google sandbox has it, read through the proxy.
  Json GoogleEvent(const std::string& connection, const std::string& provider_id) {
    TestResponse r = this->Call(
        "GET", "/v1/proxy/" + connection + "/calendar/v3/calendars/primary/events/" + provider_id,
        "", this->key_);
    return r.status == 200 ? r.JsonBody() : Json{{"status", r.status}};
  }

  // The user changes the event in their own calendar (through the proxy, as any client would).
  void GoogleUserPatch(const std::string& connection, const std::string& provider_id,
                       const Json& patch) {
    TestResponse r = this->Call(
        "PATCH", "/v1/proxy/" + connection + "/calendar/v3/calendars/primary/events/" + provider_id,
        patch.dump(), this->key_);
    ASSERT_EQ(r.status, 200) << r.body;
  }

  void SetPolicy(const std::string& connection, const std::string& policy) {
    TestResponse r =
        this->Send("PATCH", "/v1/connections/" + connection,
                   Json{{"settings", {{"conflict_policies", {{"calendar", policy}}}}}});
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // The user changes the entry's event at the provider, then the host writes against the
  // version it has: the answer to the host's write.
  TestResponse RacingWrite(const std::string& connection, const std::string& external_id,
                           const std::string& user_title, const std::string& host_title) {
    TestResponse created =
        this->Send("PUT", this->EntryPath(connection, external_id), this->Job("Original"));
    EXPECT_EQ(created.status, 201) << created.body;
    const Json entry = created.JsonBody();
    this->GoogleUserPatch(connection, entry.value("provider_id", ""),
                          Json{{"summary", user_title}});
    return this->Send("PATCH", "/v1/events/" + entry.value("id", ""), Json{{"title", host_title}},
                      {{"If-Match", created.Header("etag")}});
  }

  // The entry until its mapping leaves `pending` (the job has sent it), or the last one seen.
  Json AwaitSettled(const std::string& connection, const std::string& external_id) {
    Json entry;
    for (int i = 0; i < 500; ++i) {
      entry = this->Send("GET", EntryPath(connection, external_id), Json()).JsonBody();
      if (entry.contains("mapping") && entry["mapping"].value("state", "") != "pending") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return entry;
  }
};

TYPED_TEST_SUITE_P(WriteSuite);

// Seed "job assignment": a host entry appears at the provider with the right metadata, comes
// back through sync without an echo, a provider-side change and delete reach the entry, and a
// retry after a timeout (same Idempotency-Key) never makes a second event.
TYPED_TEST_P(WriteSuite, HostEntryRoundTripsThroughGoogle) {
  const std::string id = this->ConnectSynced(SandboxOrigin::kGoogle);
  ASSERT_FALSE(id.empty());
  std::string cursor = "0";
  this->Changes(cursor);
  const typename TestFixture::Headers once = {{"Idempotency-Key", "job-1-create"}};
  TestResponse created = this->Send("PUT", this->EntryPath(id, "job-1"), this->Job("Boiler"), once);
  ASSERT_EQ(created.status, 201) << created.body;
  const Json entry = created.JsonBody();
  EXPECT_EQ(entry["mapping"]["state"], "synced") << entry;
  EXPECT_EQ(entry["mapping"]["external_id"], "job-1");
  EXPECT_EQ(entry["title"], "Boiler");
  EXPECT_EQ(entry["start"]["time_zone"], "Europe/Zurich");
  const std::string provider_id = entry["provider_id"].get<std::string>();
  EXPECT_FALSE(created.Header("etag").empty());

  const Json at_google = this->GoogleEvent(id, provider_id);
  EXPECT_EQ(at_google["summary"], "Boiler") << at_google;
  EXPECT_EQ(at_google["location"], "Bahnhofstrasse 1, Zurich");
  EXPECT_EQ(at_google["start"]["timeZone"], "Europe/Zurich");
  EXPECT_EQ(at_google["attendees"][0]["email"], "customer@example.com");
  EXPECT_EQ(at_google["reminders"]["overrides"][0]["minutes"], 30);

  // The retry replays the answer; the provider saw one insert.
  TestResponse again = this->Send("PUT", this->EntryPath(id, "job-1"), this->Job("Boiler"), once);
  EXPECT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(again.Header("idempotent-replayed"), "true");
  EXPECT_EQ(
      this->CountRequests(SandboxOrigin::kGoogle, "POST", "/calendar/v3/calendars", "/events"), 1);

  // Syncing brings Switchboard's own write back: nothing is published for it.
  EXPECT_EQ(this->SyncNow(id)["status"], "succeeded");
  auto changes = this->Changes(cursor);
  EXPECT_EQ(changes["event.created"] + changes["event.updated"], 0) << "an echo";

  // The host moves the job; the provider follows, the version changes.
  Json moved = this->Job("Boiler (moved)");
  TestResponse updated = this->Send("PUT", this->EntryPath(id, "job-1"), moved,
                                    {{"If-Match", created.Header("etag")}});
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.JsonBody()["mapping"]["host_version"], 2);
  EXPECT_NE(updated.Header("etag"), created.Header("etag"));
  EXPECT_EQ(this->GoogleEvent(id, provider_id)["summary"], "Boiler (moved)");
  EXPECT_EQ(this->SyncNow(id)["status"], "succeeded");
  changes = this->Changes(cursor);
  EXPECT_EQ(changes["event.updated"], 0) << "an echo";

  // The user renames it in their calendar: the host hears of its entry.
  this->GoogleUserPatch(id, provider_id, Json{{"summary", "Boiler, customer moved it"}});
  EXPECT_EQ(this->SyncNow(id)["status"], "succeeded");
  const auto list = this->ChangeList(cursor);
  int event_changes = 0;
  for (const Json& c : list) event_changes += c.value("type", "").starts_with("event.") ? 1 : 0;
  EXPECT_EQ(event_changes, 1) << Json(list).dump();
  bool heard = false;
  for (const Json& c : list) {
    if (c.value("type", "") != "event.updated") continue;
    heard = true;
    EXPECT_EQ(c["data"]["external_id"], "job-1");
    EXPECT_EQ(c["data"]["event"]["title"], "Boiler, customer moved it");
  }
  EXPECT_TRUE(heard);
  const Json read = this->Send("GET", this->EntryPath(id, "job-1"), Json()).JsonBody();
  EXPECT_EQ(read["title"], "Boiler, customer moved it");
  EXPECT_EQ(read["mapping"]["state"], "synced");

  // The user deletes it: the entry's mapping goes, the host hears of it.
  TestResponse gone = this->Call(
      "DELETE", "/v1/proxy/" + id + "/calendar/v3/calendars/primary/events/" + provider_id, "",
      this->key_);
  ASSERT_EQ(gone.status, 204) << gone.body;
  EXPECT_EQ(this->SyncNow(id)["status"], "succeeded");
  bool deleted = false;
  for (const Json& c : this->ChangeList(cursor)) {
    if (c.value("type", "") != "event.deleted") continue;
    deleted = true;
    EXPECT_EQ(c["data"]["external_id"], "job-1");
  }
  EXPECT_TRUE(deleted);
  EXPECT_EQ(this->Send("GET", this->EntryPath(id, "job-1"), Json()).status, 404);
}

// All-day and zoned events read back through the provider exactly as written.
TYPED_TEST_P(WriteSuite, AllDayAndZonedEventsRoundTripWithoutDrift) {
  const std::string id = this->ConnectSynced(SandboxOrigin::kGoogle);
  ASSERT_FALSE(id.empty());
  const Json all_day{{"title", "Inventory"},
                     {"all_day", true},
                     {"start", {{"date", "2027-03-27"}}},
                     {"end", {{"date", "2027-03-29"}}}};
  // Across the night Europe/Zurich moves to summer time.
  const Json zoned{
      {"title", "Night shift"},
      {"start", {{"instant", "2027-03-28T00:30:00+01:00"}, {"time_zone", "Europe/Zurich"}}},
      {"end", {{"instant", "2027-03-28T04:30:00+02:00"}, {"time_zone", "Europe/Zurich"}}}};
  for (const Json& body : {all_day, zoned}) {
    TestResponse r = this->Send("POST", "/v1/connections/" + id + "/events", body);
    ASSERT_EQ(r.status, 201) << r.body;
    const std::string event = r.JsonBody()["id"].get<std::string>();
    // A full resync reads the event back from the provider.
    EXPECT_EQ(this->SyncNow(id, R"({"full":true})")["status"], "succeeded");
    const Json back = this->Call("GET", "/v1/events/" + event, "", this->key_).JsonBody();
    EXPECT_EQ(back["start"], r.JsonBody()["start"]) << back;
    EXPECT_EQ(back["end"], r.JsonBody()["end"]) << back;
    EXPECT_EQ(back["all_day"], body.value("all_day", false));
    if (!body.value("all_day", false)) {
      EXPECT_EQ(back["start"]["instant"], "2027-03-27T23:30:00.000Z");
      EXPECT_EQ(back["end"]["instant"], "2027-03-28T02:30:00.000Z");
    }
  }
}

// Seed "conflict handling", manual policy: a host write against a version the user has since
// changed is not applied; both versions are kept in the conflict, which an operator resolves
// through the API with a merged event. A write naming a version we no longer have is refused
// before it reaches the provider.
TYPED_TEST_P(WriteSuite, StaleWritesAreConflictsNotOverwrites) {
  const std::string id = this->ConnectSynced(SandboxOrigin::kGoogle);
  ASSERT_FALSE(id.empty());
  this->SetPolicy(id, "manual");
  TestResponse stale = this->Send("PATCH", "/v1/events/00000000-0000-7000-8000-000000000001",
                                  Json{{"title", "x"}}, {{"If-Match", "\"v\""}});
  EXPECT_EQ(stale.status, 404) << stale.body;
  TestResponse racing = this->RacingWrite(id, "job-2", "Valve (user)", "Valve (host)");
  EXPECT_EQ(racing.status, 409) << racing.body;
  const Json answer = racing.JsonBody();
  EXPECT_EQ(answer["mapping"]["state"], "conflict") << racing.body;
  EXPECT_EQ(answer["conflict"]["status"], "open");
  const std::string provider_id = answer["mapping"]["provider_id"].get<std::string>();
  EXPECT_EQ(this->GoogleEvent(id, provider_id)["summary"], "Valve (user)");
  const Json entry = this->Send("GET", this->EntryPath(id, "job-2"), Json()).JsonBody();
  EXPECT_EQ(entry["mapping"]["state"], "conflict");
  TestResponse with_old = this->Send("PATCH", "/v1/events/" + entry["id"].get<std::string>(),
                                     Json{{"title", "x"}}, {{"If-Match", "\"not-the-version\""}});
  EXPECT_EQ(with_old.status, 412) << with_old.body;

  // The host writes again: its newer version supersedes the open conflict and meets the
  // user's itself; the queue holds one conflict, with both versions and what differs.
  TestResponse again = this->Send("PATCH", "/v1/events/" + entry["id"].get<std::string>(),
                                  Json{{"title", "Valve (host, again)"}},
                                  {{"If-Match", entry["version"].get<std::string>()}});
  EXPECT_EQ(again.status, 409) << again.body;
  const Json queue = this->Send("GET", "/v1/conflicts?status=open", Json()).JsonBody();
  ASSERT_EQ(queue["data"].size(), 1u) << queue;
  const std::string conflict = queue["data"][0]["id"].get<std::string>();
  const Json detail = this->Send("GET", "/v1/conflicts/" + conflict, Json()).JsonBody();
  EXPECT_EQ(detail["host_event"]["title"], "Valve (host, again)") << detail;
  EXPECT_EQ(detail["provider_event"]["title"], "Valve (user)");
  ASSERT_EQ(detail["differences"].size(), 1u) << detail;
  EXPECT_EQ(detail["differences"][0]["field"], "title");
  const Json first = this->Send("GET", "/v1/conflicts?status=resolved", Json()).JsonBody();
  ASSERT_EQ(first["data"].size(), 1u) << first;
  EXPECT_EQ(first["data"][0]["resolution"], "host");
  std::string cursor = "0";
  auto changes = this->Changes(cursor);
  EXPECT_EQ(changes["event.conflict_detected"], 2);
  EXPECT_EQ(changes["event.conflict_resolved"], 1);

  // Resolved with a merge: the provider gets it, the entry is synced again, once only.
  TestResponse resolved =
      this->Send("POST", "/v1/conflicts/" + conflict + "/resolve",
                 Json{{"choose", "merged"}, {"event", {{"title", "Valve (agreed)"}}}});
  ASSERT_EQ(resolved.status, 200) << resolved.body;
  EXPECT_EQ(resolved.JsonBody()["resolution"], "merged");
  EXPECT_EQ(resolved.JsonBody()["resolved_event"]["title"], "Valve (agreed)");
  EXPECT_EQ(this->GoogleEvent(id, provider_id)["summary"], "Valve (agreed)");
  const Json after = this->Send("GET", this->EntryPath(id, "job-2"), Json()).JsonBody();
  EXPECT_EQ(after["mapping"]["state"], "synced") << after;
  EXPECT_EQ(after["title"], "Valve (agreed)");
  EXPECT_EQ(
      this->Send("POST", "/v1/conflicts/" + conflict + "/resolve", Json{{"choose", "host"}}).status,
      409);
  EXPECT_EQ(this->Changes(cursor)["event.conflict_resolved"], 1);
  EXPECT_TRUE(this->Send("GET", "/v1/conflicts?status=open", Json()).JsonBody()["data"].empty());
  // On record with the caller as actor and the request's id.
  const Json audit =
      this->Send("GET", "/v1/audit?action=calendar.conflict.resolve&order=desc&limit=1", Json())
          .JsonBody();
  ASSERT_EQ(audit["data"].size(), 1u) << audit;
  EXPECT_EQ(audit["data"][0]["actor"]["kind"], "api_key");
  EXPECT_EQ(audit["data"][0]["target"], "conflict:" + conflict);
  EXPECT_EQ(audit["data"][0]["request_id"], resolved.Header("x-request-id"));

  // Other tenants see nothing of it; bad resolutions are refused.
  auto [other_tenant, other] = this->NewTenantWithKey(R"(["read","write"])");
  (void)other_tenant;
  EXPECT_EQ(this->Send("GET", "/v1/conflicts/" + conflict, Json(), {}, other).status, 404);
  EXPECT_TRUE(this->Send("GET", "/v1/conflicts", Json(), {}, other).JsonBody()["data"].empty());
  EXPECT_EQ(this->Send("POST", "/v1/conflicts/" + conflict + "/resolve", Json{{"choose", "host"}},
                       {}, other)
                .status,
            404);
  EXPECT_EQ(
      this->Send("POST", "/v1/conflicts/" + conflict + "/resolve", Json{{"choose", "both"}}).status,
      400);
  EXPECT_EQ(this->Send("POST", "/v1/conflicts/" + conflict + "/resolve", Json{{"choose", "merged"}})
                .status,
            400);
  EXPECT_EQ(this->Send("GET", "/v1/conflicts?status=maybe", Json()).status, 400);
  EXPECT_EQ(this->Send("PATCH", "/v1/connections/" + id,
                       Json{{"settings", {{"conflict_policies", {{"calendar", "coin_flip"}}}}}})
                .status,
            400);
}

// Automatic policies apply the winner at once and keep the loser in a resolved conflict:
// provider_wins keeps the user's change, host_wins writes the host's over it, and the default
// (last_modified_wins) picks the side changed last (here the provider: its clock is years ahead
// of the test server's). A policy comes from the connection, else its integration.
TYPED_TEST_P(WriteSuite, AutomaticPoliciesApplyTheWinnerAndKeepTheLoser) {
  const std::string id = this->ConnectSynced(SandboxOrigin::kGoogle);
  ASSERT_FALSE(id.empty());
  struct Case {
    std::string policy;
    std::string winner;
  };
  for (const Case& c :
       {Case{"provider_wins", "provider"}, Case{"host_wins", "host"}, Case{"", "provider"}}) {
    if (!c.policy.empty()) this->SetPolicy(id, c.policy);
    if (c.policy.empty()) {
      ASSERT_EQ(
          this->Send("PATCH", "/v1/connections/" + id, Json{{"settings", Json::object()}}).status,
          200);
    }
    const std::string external = "job-" + (c.policy.empty() ? std::string("default") : c.policy);
    TestResponse r = this->RacingWrite(id, external, "by the user", "by the host");
    const bool host = c.winner == "host";
    EXPECT_EQ(r.status, host ? 200 : 409) << c.policy << " " << r.body;
    const Json answer = r.JsonBody();
    ASSERT_TRUE(answer.contains("conflict")) << answer;
    EXPECT_EQ(answer["conflict"]["status"], "resolved") << answer;
    EXPECT_EQ(answer["conflict"]["resolution"], c.winner) << answer;
    EXPECT_EQ(answer["conflict"]["policy"], c.policy.empty() ? "last_modified_wins" : c.policy);
    const Json entry = this->Send("GET", this->EntryPath(id, external), Json()).JsonBody();
    EXPECT_EQ(entry["mapping"]["state"], "synced") << entry;
    EXPECT_EQ(entry["title"], host ? "by the host" : "by the user") << c.policy;
    EXPECT_EQ(this->GoogleEvent(id, entry["provider_id"].get<std::string>())["summary"],
              host ? "by the host" : "by the user");
    const Json detail =
        this->Send("GET", "/v1/conflicts/" + answer["conflict"]["id"].get<std::string>(), Json())
            .JsonBody();
    // Nothing lost: the losing version is in the conflict.
    EXPECT_EQ(detail[host ? "provider_event" : "host_event"]["title"],
              host ? "by the user" : "by the host");
  }
  std::string cursor = "0";
  auto changes = this->Changes(cursor);
  EXPECT_EQ(changes["event.conflict_detected"], 3);
  EXPECT_EQ(changes["event.conflict_resolved"], 3);
  EXPECT_GE(this->Counter("sb_calendar_conflicts_total{policy=\"host_wins\",resolution=\"host\"}"),
            1);

  // The integration's policy applies where the connection names none; the connection's wins.
  auto integration = [&](const Json& policies) {
    TestResponse r = this->Send(
        "PUT", "/v1/integrations/google",
        Json{{"client_id", this->ClientId(SandboxOrigin::kGoogle)},
             {"services", Json::array({{{"service", "calendar"}, {"access", "read_write"}}})},
             {"conflict_policies", policies}});
    return r.status;
  };
  ASSERT_EQ(integration(Json{{"calendar", "host_wins"}}), 200);
  EXPECT_EQ(this->Send("GET", "/v1/integrations/google", Json()).JsonBody()["conflict_policies"],
            (Json{{"calendar", "host_wins"}}));
  TestResponse by_integration = this->RacingWrite(id, "job-integration", "user", "host");
  EXPECT_EQ(by_integration.status, 200) << by_integration.body;
  EXPECT_EQ(by_integration.JsonBody()["conflict"]["policy"], "host_wins") << by_integration.body;
  this->SetPolicy(id, "provider_wins");
  TestResponse by_connection = this->RacingWrite(id, "job-override", "user", "host");
  EXPECT_EQ(by_connection.status, 409) << by_connection.body;
  EXPECT_EQ(by_connection.JsonBody()["conflict"]["policy"], "provider_wins");
  EXPECT_EQ(integration(Json{{"calendar", "coin_flip"}}), 400);
  EXPECT_EQ(integration(Json{{"weather", "manual"}}), 400);
  EXPECT_EQ(integration(Json::array()), 400);
}

// A provider that is rate limited or down: the write is accepted (202), kept pending, and the
// job sends it once the provider answers again; still exactly one event.
TYPED_TEST_P(WriteSuite, WritesDuringAnOutageAreSentLater) {
  const std::string id = this->ConnectSynced(SandboxOrigin::kGoogle);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(this->AwaitGoogleWatch());
  // A write the provider took at once retires its safety-net job.
  ASSERT_EQ(this->Send("PUT", this->EntryPath(id, "job-2"), this->Job("Valve")).status, 201);
  EXPECT_EQ(this->QueuedWriteJobs(), 0u);
  ASSERT_TRUE(this->sandbox_
                  ->Control(SandboxOrigin::kGoogle, "POST", "/_sandbox/faults",
                            {{"method", "POST"},
                             {"path", "/calendar/v3/calendars/"},
                             {"kind", "status"},
                             {"status", 503},
                             {"count", 2}})
                  .ok());
  TestResponse queued = this->Send("PUT", this->EntryPath(id, "job-3"), this->Job("Pump"));
  ASSERT_EQ(queued.status, 202) << queued.body;
  EXPECT_EQ(queued.JsonBody()["mapping"]["state"], "pending");
  EXPECT_EQ(this->QueuedWriteJobs(), 1u);  // the job sends it later
  // A second write while the first is pending only replaces what is pending.
  TestResponse newer = this->Send("PUT", this->EntryPath(id, "job-3"), this->Job("Pump v2"));
  ASSERT_EQ(newer.status, 202) << newer.body;
  // The job's first attempt meets the second 503, its retry gets through.
  for (int i = 0; i < 5; ++i) {
    this->clock_.Advance(std::chrono::seconds(30));
    const Json entry = this->AwaitSettled(id, "job-3");
    if (entry["mapping"].value("state", "") == "synced") break;
  }
  const Json entry = this->AwaitSettled(id, "job-3");
  EXPECT_EQ(entry["mapping"]["state"], "synced") << entry;
  EXPECT_EQ(entry["title"], "Pump v2");
  EXPECT_EQ(this->GoogleEvent(id, entry["provider_id"].get<std::string>())["summary"], "Pump v2");
  EXPECT_EQ(this->QueuedWriteJobs(), 0u);
}

// A connection made for read-only calendar access is refused before anything is recorded or
// sent.
TYPED_TEST_P(WriteSuite, ReadOnlyConnectionsRefuseWritesUpFront) {
  const SandboxOrigin google = SandboxOrigin::kGoogle;
  this->Seed(google, 2);
  TestResponse integration =
      this->Send("PUT", "/v1/integrations/google",
                 Json{{"client_id", this->ClientId(google)},
                      {"client_secret", kClientSecret},
                      {"services", Json::array({{{"service", "calendar"}, {"access", "read"}}})}});
  ASSERT_TRUE(integration.status == 200 || integration.status == 201) << integration.body;
  auto browser = this->NewBrowser();
  auto done = ConnectSuite<TypeParam>::Connect(
      *browser, this->NewSession(this->key_, this->Email(google)), google);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  const std::string id = this->ConnectionIdFrom(*done);
  ASSERT_EQ(this->AwaitInitialRun(id)["status"], "succeeded");
  TestResponse refused = this->Send("PUT", this->EntryPath(id, "job-ro"), this->Job("Read only"));
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("read-only"), std::string::npos) << refused.body;
  EXPECT_EQ(this->Send("GET", this->EntryPath(id, "job-ro"), Json()).status, 404);
  const Json listing =
      this->Call("GET", "/v1/connections/" + id + "/events", "", this->key_).JsonBody();
  ASSERT_FALSE(listing["data"].empty()) << listing;
  const std::string event = listing["data"][0]["id"].get<std::string>();
  EXPECT_EQ(this->Send("PATCH", "/v1/events/" + event, Json{{"title", "x"}}).status, 409);
  EXPECT_EQ(this->Send("DELETE", "/v1/events/" + event, Json()).status, 409);
  EXPECT_EQ(
      this->CountRequests(SandboxOrigin::kGoogle, "POST", "/calendar/v3/calendars", "/events"), 0);
}

// A write the provider refuses for good: the entry's mapping is `error` with the provider's
// reason, the host hears of it (event.write_failed), and a later write of the entry is sent
// again.
TYPED_TEST_P(WriteSuite, RefusedWritesMarkTheEntryAndArePublished) {
  const std::string id = this->ConnectSynced(SandboxOrigin::kGoogle);
  ASSERT_FALSE(id.empty());
  std::string cursor = "0";
  this->Changes(cursor);
  ASSERT_TRUE(this->sandbox_
                  ->Control(SandboxOrigin::kGoogle, "POST", "/_sandbox/faults",
                            {{"method", "POST"},
                             {"path", "/calendar/v3/calendars/"},
                             {"kind", "status"},
                             {"status", 403},
                             {"count", 1}})
                  .ok());
  TestResponse refused = this->Send("PUT", this->EntryPath(id, "job-9"), this->Job("Gate"));
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("refused"), std::string::npos) << refused.body;
  const Json entry = this->Send("GET", this->EntryPath(id, "job-9"), Json()).JsonBody();
  EXPECT_EQ(entry["mapping"]["state"], "error") << entry;
  EXPECT_FALSE(entry["mapping"]["error"].get<std::string>().empty()) << entry;
  bool published = false;
  for (const Json& c : this->ChangeList(cursor)) {
    if (c.value("type", "") != "event.write_failed") continue;
    published = true;
    EXPECT_EQ(c["data"]["mapping"]["external_id"], "job-9") << c;
    EXPECT_EQ(c["data"]["mapping"]["state"], "error");
  }
  EXPECT_TRUE(published);
  // The job that backed the write does not send it again by itself.
  this->clock_.Advance(std::chrono::seconds(30));
  EXPECT_EQ(this->AwaitSettled(id, "job-9")["mapping"]["state"], "error");
  TestResponse again = this->Send("PUT", this->EntryPath(id, "job-9"), this->Job("Gate"));
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.JsonBody()["mapping"]["state"], "synced") << again.body;
}

// Graph: a weekly series written, read back through sync without an echo, then deleted.
TYPED_TEST_P(WriteSuite, GraphWritesRoundTrip) {
  const std::string id = this->ConnectSynced(SandboxOrigin::kMicrosoft);
  ASSERT_FALSE(id.empty());
  std::string cursor = "0";
  this->Changes(cursor);
  Json weekly = this->Job("Weekly check");
  weekly["recurrence"] = Json::array({"RRULE:FREQ=WEEKLY;BYDAY=TU,TH;COUNT=6"});
  TestResponse created = this->Send("POST", "/v1/connections/" + id + "/events", weekly);
  ASSERT_EQ(created.status, 201) << created.body;
  const Json event = created.JsonBody();
  EXPECT_EQ(event["kind"], "series_master") << event;
  // As Graph keeps it: the same occurrences, with Graph's default week start spelled out.
  EXPECT_EQ(event["recurrence"][0], "RRULE:FREQ=WEEKLY;BYDAY=TU,TH;WKST=SU;COUNT=6") << event;
  EXPECT_EQ(
      this->CountRequests(SandboxOrigin::kMicrosoft, "POST", "/v1.0/me/calendars/", "/events"), 1);
  EXPECT_EQ(this->SyncNow(id)["status"], "succeeded");
  auto changes = this->Changes(cursor);
  EXPECT_EQ(changes["event.created"] + changes["event.updated"], 0) << "an echo";

  TestResponse patched = this->Send("PATCH", "/v1/events/" + event["id"].get<std::string>(),
                                    Json{{"title", "Weekly check (2)"}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.JsonBody()["title"], "Weekly check (2)");
  TestResponse removed =
      this->Send("DELETE", "/v1/events/" + event["id"].get<std::string>(), Json());
  EXPECT_EQ(removed.status, 204) << removed.body;
  EXPECT_EQ(
      this->Call("GET", "/v1/events/" + event["id"].get<std::string>(), "", this->key_).status,
      404);
  EXPECT_EQ(this->SyncNow(id)["status"], "succeeded");
  changes = this->Changes(cursor);
  EXPECT_EQ(changes["event.created"] + changes["event.updated"] + changes["event.deleted"], 0);
}

// Another tenant reaches none of the entries, events or mappings; disconnecting leaves the
// provider's events where they are.
TYPED_TEST_P(WriteSuite, TenantsNeverSeeEachOthersEntries) {
  const std::string id = this->ConnectSynced(SandboxOrigin::kGoogle);
  ASSERT_FALSE(id.empty());
  TestResponse created = this->Send("PUT", this->EntryPath(id, "job-4"), this->Job("Tap"));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string event = created.JsonBody()["id"].get<std::string>();
  auto [other_tenant, other] = this->NewTenantWithKey(R"(["read","write"])");
  (void)other_tenant;
  EXPECT_EQ(this->Send("GET", this->EntryPath(id, "job-4"), Json(), {}, other).status, 404);
  EXPECT_EQ(this->Send("PUT", this->EntryPath(id, "job-4"), this->Job("x"), {}, other).status, 404);
  EXPECT_EQ(this->Send("DELETE", this->EntryPath(id, "job-4"), Json(), {}, other).status, 404);
  EXPECT_EQ(this->Send("PATCH", "/v1/events/" + event, Json{{"title", "x"}}, {}, other).status,
            404);
  EXPECT_EQ(this->Send("DELETE", "/v1/events/" + event, Json(), {}, other).status, 404);
  EXPECT_EQ(
      this->Send("POST", "/v1/connections/" + id + "/events", this->Job("x"), {}, other).status,
      404);
  // A series' occurrences and splits, and the providers' free/busy, are the owner's only.
  Json series = this->Job("Rounds");
  series["attendees"] = Json::array();
  series["recurrence"] = Json::array({"RRULE:FREQ=WEEKLY;COUNT=4"});
  TestResponse rounds = this->Send("PUT", this->EntryPath(id, "rounds"), series);
  ASSERT_EQ(rounds.status, 201) << rounds.body;
  const std::string occurrences =
      "/v1/events/" + rounds.JsonBody()["id"].get<std::string>() + "/occurrences/";
  EXPECT_EQ(
      this->Send("PATCH", occurrences + "2027-01-19T08:00:00Z", Json{{"title", "x"}}, {}, other)
          .status,
      404);
  EXPECT_EQ(this->Send("DELETE", occurrences + "2027-01-19T08:00:00Z", Json(), {}, other).status,
            404);
  EXPECT_EQ(
      this->Send("POST", "/v1/events/" + rounds.JsonBody()["id"].get<std::string>() + "/split",
                 Json{{"from", "2027-01-26T08:00:00Z"}}, {}, other)
          .status,
      404);
  EXPECT_EQ(this->Send("POST", "/v1/availability",
                       Json{{"connection_ids", {id}},
                            {"time_min", "2027-01-12T00:00:00Z"},
                            {"time_max", "2027-01-13T00:00:00Z"},
                            {"source", "provider"}},
                       {}, other)
                .status,
            404);
  EXPECT_EQ(this->CountRequests(SandboxOrigin::kGoogle, "PATCH", "/calendar/v3/calendars"), 0);
  EXPECT_EQ(this->CountRequests(SandboxOrigin::kGoogle, "POST", "/calendar/v3/freeBusy"), 0);
  // The same Idempotency-Key in another tenant is another key.
  const typename TestFixture::Headers key = {{"Idempotency-Key", "shared-key"}};
  EXPECT_EQ(this->Send("PUT", this->EntryPath(id, "job-5"), this->Job("Sink"), key).status, 201);
  EXPECT_EQ(this->Send("PUT", this->EntryPath(id, "job-5"), this->Job("Sink"), key, other).status,
            404);

  const std::string provider_id = created.JsonBody()["provider_id"].get<std::string>();
  ASSERT_EQ(this->Call("DELETE", "/v1/connections/" + id, "", this->key_).status, 204);
  // Nothing was deleted at the provider.
  EXPECT_EQ(
      this->CountRequests(SandboxOrigin::kGoogle, "DELETE", "/calendar/v3/calendars", provider_id),
      0);
}

// Malformed writes are refused with a clear error and write nothing.
TYPED_TEST_P(WriteSuite, BadWritesAreRefused) {
  const std::string id = this->ConnectSynced(SandboxOrigin::kGoogle);
  ASSERT_FALSE(id.empty());
  Json unknown = this->Job("x");
  unknown["colour"] = "red";
  Json backwards = this->Job("x");
  backwards["end"] = Json::object({{"instant", "2027-01-12T08:00:00+01:00"}});
  Json bad_zone = this->Job("x");
  bad_zone["start"]["time_zone"] = "Mars/Olympus";
  Json mixed = this->Job("x");
  mixed["all_day"] = true;
  Json bad_rule = this->Job("x");
  bad_rule["recurrence"] = Json::array({"RRULE:FREQ=SOMETIMES"});
  Json cancelled = this->Job("x");
  cancelled["status"] = "cancelled";
  for (const Json& body : {unknown, backwards, bad_zone, mixed, bad_rule, cancelled, Json(3)}) {
    TestResponse r = this->Send("PUT", this->EntryPath(id, "bad"), body);
    EXPECT_EQ(r.status, 400) << body.dump() << " " << r.body;
  }
  std::string too_long(300, 'a');
  EXPECT_EQ(this->Send("PUT", this->EntryPath(id, too_long), this->Job("x")).status, 400);
  EXPECT_EQ(this->Send("PUT", this->EntryPath(id, "a%20b"), this->Job("x")).status, 400);
  EXPECT_EQ(this->Send("GET", this->EntryPath(id, "never-written"), Json()).status, 404);
  EXPECT_EQ(this->Send("PATCH", "/v1/events/not-an-id", Json{{"title", "x"}}).status, 404);
  EXPECT_EQ(this->Send("PUT", this->EntryPath(id, "ok"), this->Job("x"),
                       {{"Idempotency-Key", std::string(300, 'k')}})
                .status,
            400);
  // One key names one request.
  const typename TestFixture::Headers key = {{"Idempotency-Key", "k-1"}};
  EXPECT_EQ(this->Send("PUT", this->EntryPath(id, "ok"), this->Job("x"), key).status, 201);
  EXPECT_EQ(this->Send("PUT", this->EntryPath(id, "ok"), this->Job("y"), key).status, 422);
  // A read-only key cannot write.
  auto [tenant, reader] = this->NewTenantWithKey(R"(["read"])");
  (void)tenant;
  EXPECT_EQ(this->Send("PUT", this->EntryPath(id, "ok"), this->Job("x"), {}, reader).status, 403);
  EXPECT_EQ(
      this->CountRequests(SandboxOrigin::kGoogle, "POST", "/calendar/v3/calendars", "/events"), 1);
}

// Free/busy over the synced store: the host's jobs (written through Switchboard) are busy time,
// free time is what is left of the working hours, slots fill it; the providers' own free/busy
// (Google freeBusy, Graph getSchedule) agree, and answer when the store is not fresh; another
// tenant's connection is not found, and malformed queries are refused.
TYPED_TEST_P(WriteSuite, AvailabilityComesFromTheStoreOrTheProvider) {
  const std::string id = this->ConnectSynced(SandboxOrigin::kGoogle);
  ASSERT_FALSE(id.empty());
  // Tuesday 12 January 2027, 09:00-10:00 and 14:00-15:30 in Zurich.
  ASSERT_EQ(this->Send("PUT", this->EntryPath(id, "a"), this->Job("A")).status, 201);
  Json b = this->Job("B");
  b["start"]["instant"] = "2027-01-12T14:00:00+01:00";
  b["end"]["instant"] = "2027-01-12T15:30:00+01:00";
  ASSERT_EQ(this->Send("PUT", this->EntryPath(id, "b"), b).status, 201);
  Json free_time = this->Job("Lunch (free)");
  free_time["transparency"] = "transparent";
  free_time["start"]["instant"] = "2027-01-12T12:00:00+01:00";
  free_time["end"]["instant"] = "2027-01-12T13:00:00+01:00";
  ASSERT_EQ(this->Send("PUT", this->EntryPath(id, "c"), free_time).status, 201);
  const Json query{{"connection_ids", {id}},
                   {"time_min", "2027-01-12T00:00:00+01:00"},
                   {"time_max", "2027-01-13T00:00:00+01:00"},
                   {"time_zone", "Europe/Zurich"},
                   {"working_hours", {{"start", "09:00"}, {"end", "17:00"}}},
                   {"slot_minutes", 60}};
  TestResponse r = this->Send("POST", "/v1/availability", query);
  ASSERT_EQ(r.status, 200) << r.body;
  const Json a = r.JsonBody();
  EXPECT_EQ(a["busy"],
            (Json{{{"start", "2027-01-12T08:00:00.000Z"}, {"end", "2027-01-12T09:00:00.000Z"}},
                  {{"start", "2027-01-12T13:00:00.000Z"}, {"end", "2027-01-12T14:30:00.000Z"}}}))
      << a;
  EXPECT_EQ(a["free"],
            (Json{{{"start", "2027-01-12T09:00:00.000Z"}, {"end", "2027-01-12T13:00:00.000Z"}},
                  {{"start", "2027-01-12T14:30:00.000Z"}, {"end", "2027-01-12T16:00:00.000Z"}}}))
      << a;
  EXPECT_EQ(a["slots"].size(), 5u) << a;  // four from 10:00 to 14:00, one from 15:30 (Zurich)
  EXPECT_EQ(a["busy_by_connection"][0]["connection_id"], id);
  EXPECT_EQ(a["busy_by_connection"][0]["source"], "store");
  EXPECT_EQ(a["busy_by_connection"][0]["stale"], false);

  // Google's freeBusy, asked directly or because the store is older than max_staleness, gives
  // the same busy time; when it cannot answer, the store's answer stands, flagged stale.
  auto ask = [&](const Json& changes) {
    Json body = query;
    body.update(changes);
    return this->Send("POST", "/v1/availability", body);
  };
  const Json direct = ask(Json{{"source", "provider"}}).JsonBody();
  EXPECT_EQ(direct["busy"], a["busy"]) << direct;
  EXPECT_EQ(direct["slots"], a["slots"]);
  EXPECT_EQ(direct["busy_by_connection"][0]["source"], "provider") << direct;
  this->clock_.Advance(std::chrono::seconds(2));
  const Json refreshed = ask(Json{{"max_staleness_seconds", 1}}).JsonBody();
  EXPECT_EQ(refreshed["busy_by_connection"][0]["source"], "provider") << refreshed;
  EXPECT_EQ(refreshed["busy"], a["busy"]);
  ASSERT_TRUE(this->sandbox_
                  ->Control(SandboxOrigin::kGoogle, "POST", "/_sandbox/faults",
                            {{"method", "POST"},
                             {"path", "/calendar/v3/freeBusy"},
                             {"kind", "status"},
                             {"status", 500},
                             {"count", 2}})
                  .ok());
  const Json fallback = ask(Json{{"max_staleness_seconds", 1}}).JsonBody();
  EXPECT_EQ(fallback["busy_by_connection"][0]["source"], "store") << fallback;
  EXPECT_EQ(fallback["busy_by_connection"][0]["stale"], true);
  EXPECT_EQ(fallback["busy"], a["busy"]);
  EXPECT_EQ(ask(Json{{"source", "provider"}}).status, 503);
  EXPECT_EQ(ask(Json{{"source", "cache"}}).status, 400);
  EXPECT_EQ(ask(Json{{"max_staleness_seconds", -1}}).status, 400);

  // Graph's getSchedule for the account's mailbox agrees with the store too.
  const std::string graph = this->ConnectSynced(SandboxOrigin::kMicrosoft);
  ASSERT_FALSE(graph.empty());
  ASSERT_EQ(this->Send("PUT", this->EntryPath(graph, "g"), this->Job("G")).status, 201);
  auto graph_busy = [&](const char* source) {
    Json body = query;
    body["connection_ids"] = Json::array({graph});
    body["source"] = source;
    TestResponse r = this->Send("POST", "/v1/availability", body);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.JsonBody();
  };
  const Json stored = graph_busy("store");
  const Json asked = graph_busy("provider");
  EXPECT_EQ(asked["busy_by_connection"][0]["source"], "provider") << asked;
  EXPECT_EQ(asked["busy"], stored["busy"]) << asked << stored;
  EXPECT_FALSE(asked["busy"].empty());

  auto [other_tenant, other] = this->NewTenantWithKey(R"(["read","write"])");
  (void)other_tenant;
  EXPECT_EQ(this->Send("POST", "/v1/availability", query, {}, other).status, 404);
  Json bad = query;
  bad["time_max"] = "2027-05-13T00:00:00+01:00";  // beyond 62 days
  EXPECT_EQ(this->Send("POST", "/v1/availability", bad).status, 400);
  bad = query;
  bad["working_hours"]["start"] = "9am";
  EXPECT_EQ(this->Send("POST", "/v1/availability", bad).status, 400);
  bad = query;
  bad["connection_ids"] = Json::array({id, id});
  EXPECT_EQ(this->Send("POST", "/v1/availability", bad).status, 400);
  bad = query;
  bad["time_zone"] = "Mars/Base";
  EXPECT_EQ(this->Send("POST", "/v1/availability", bad).status, 400);
  bad = query;
  bad["slot_minutes"] = 1;
  EXPECT_EQ(this->Send("POST", "/v1/availability", bad).status, 400);
}

// The soak (issue 16): random host writes and deletes and provider-side edits on both
// providers, with pushes dropped and duplicated, end with the host's entries, the store and the
// providers equal to an oracle; no change published for Switchboard's own writes (no echo) and
// no provider write without a host write (no ping-pong). Host writes win conflicts here
// (host_wins), so the oracle is exact. SB_SOAK_OPS sets the size (default 40 per provider).
TYPED_TEST_P(WriteSuite, SoakBothWaysEndsEqualWithoutEchoes) {
  const char* env = std::getenv("SB_SOAK_OPS");
  const int ops = env != nullptr ? std::max(1, std::atoi(env)) : 40;
  for (const SandboxOrigin origin : {SandboxOrigin::kGoogle, SandboxOrigin::kMicrosoft}) {
    const bool google = origin == SandboxOrigin::kGoogle;
    const std::string id = this->ConnectSynced(origin);
    ASSERT_FALSE(id.empty());
    this->SetPolicy(id, "host_wins");
    ASSERT_TRUE(
        this->sandbox_
            ->PutSettings(origin, google ? Json{{"push_drop_rate", 0.3}, {"push_duplicate", true}}
                                         : Json{{"notification_drop_rate", 0.3},
                                                {"notification_duplicate", true}})
            .ok());
    const std::string events_path =
        google ? "/calendar/v3/calendars/primary/events/" : "/v1.0/me/events/";
    // Writes to events at the provider (push channel calls left out).
    auto provider_writes = [&] {
      auto log = this->sandbox_->Requests(origin, google ? "/calendar/v3/calendars" : "/v1.0/me");
      EXPECT_TRUE(log.ok());
      int n = 0;
      for (const Json& entry : log.ok() ? *log : Json::array()) {
        const std::string method = entry.value("method", "");
        const std::string path = entry.value("path", "");
        if (method != "GET" && path.find("/events") != std::string::npos &&
            !path.ends_with("/watch")) {
          ++n;
        }
      }
      return n;
    };
    std::string cursor = "0";
    this->Changes(cursor);
    const int writes_before = provider_writes();
    std::mt19937 random(google ? 7 : 11);
    std::map<std::string, std::string> oracle;  // external id -> title
    std::map<std::string, std::string> provider_ids;
    int host_ops = 0;
    int user_ops = 0;
    for (int op = 0; op < ops; ++op) {
      const std::string ext = "soak-" + std::to_string(random() % 6);
      const int kind = static_cast<int>(random() % 10);
      const std::string title = (kind < 3 ? "p-" : "h-") + std::to_string(op);
      if (kind < 3) {  // the user edits the event at the provider
        if (!oracle.contains(ext)) continue;
        const Json patch = google ? Json{{"summary", title}} : Json{{"subject", title}};
        TestResponse r = this->Call("PATCH", "/v1/proxy/" + id + events_path + provider_ids[ext],
                                    patch.dump(), this->key_);
        ASSERT_EQ(r.status, 200) << r.body;
        oracle[ext] = title;
        ++user_ops;
      } else if (kind < 5) {  // the host deletes its entry
        if (!oracle.contains(ext)) continue;
        TestResponse r = this->Send("DELETE", this->EntryPath(id, ext), Json());
        ASSERT_EQ(r.status, 204) << ext << " " << r.body;
        oracle.erase(ext);
        ++host_ops;
      } else {  // the host writes its entry
        Json job = this->Job(title);
        job["start"]["instant"] = "2027-02-0" + std::to_string(1 + op % 9) + "T09:00:00+01:00";
        job["end"]["instant"] = "2027-02-0" + std::to_string(1 + op % 9) + "T10:00:00+01:00";
        TestResponse r = this->Send("PUT", this->EntryPath(id, ext), job);
        ASSERT_TRUE(r.status == 200 || r.status == 201) << ext << " " << r.body;
        provider_ids[ext] = r.JsonBody()["provider_id"].get<std::string>();
        oracle[ext] = title;
        ++host_ops;
      }
    }
    // Whatever the pushes brought, a last sync brings the rest.
    EXPECT_EQ(this->SyncNow(id)["status"], "succeeded");
    for (int i = 0; i < 6; ++i) {
      const std::string ext = "soak-" + std::to_string(i);
      TestResponse entry = this->Send("GET", this->EntryPath(id, ext), Json());
      if (!oracle.contains(ext)) {
        EXPECT_EQ(entry.status, 404) << ext << " " << entry.body;
        continue;
      }
      ASSERT_EQ(entry.status, 200) << ext << " " << entry.body;
      const Json e = entry.JsonBody();
      EXPECT_EQ(e["title"], oracle[ext]) << ext;
      EXPECT_EQ(e["mapping"]["state"], "synced") << ext;
      TestResponse at =
          this->Call("GET", "/v1/proxy/" + id + events_path + e["provider_id"].get<std::string>(),
                     "", this->key_);
      ASSERT_EQ(at.status, 200) << at.body;
      EXPECT_EQ(at.JsonBody()[google ? "summary" : "subject"], oracle[ext]) << ext;
    }
    // No echo: every event change published carries a provider-side title, none a host's.
    for (const Json& c : this->ChangeList(cursor)) {
      const std::string type = c.value("type", "");
      if (type != "event.created" && type != "event.updated") continue;
      EXPECT_TRUE(c["data"]["event"].value("title", "").starts_with("p-"))
          << c["type"] << " " << c["data"].value("external_id", "") << " "
          << c["data"]["event"].value("title", "")
          << " v=" << c["data"]["event"].value("version", "") << " at "
          << c.value("created_at", "");
    }
    // No ping-pong: besides the user's edits, the providers saw at most one write per host
    // write (two after a conflict the host won), and none once both stopped.
    const int writes = provider_writes() - writes_before;
    EXPECT_GE(writes, host_ops + user_ops);
    EXPECT_LE(writes, 2 * host_ops + user_ops);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(provider_writes() - writes_before, writes);
  }
}

// A user's edit at the provider followed closely by a host write of the same entry, round
// after round: the sync run the edit's push starts reads its page while the host's write
// settles. A page read before the write must not go back over it: after each round's sync
// the entry and the provider have the host's write, and the feed has no event change with a
// host's title (an echo, which a run that followed the stale page's version would publish).
TYPED_TEST_P(WriteSuite, EditThenHostWriteRacesLeaveNoEcho) {
  for (const SandboxOrigin origin : {SandboxOrigin::kGoogle, SandboxOrigin::kMicrosoft}) {
    const bool google = origin == SandboxOrigin::kGoogle;
    SCOPED_TRACE(google ? "google" : "microsoft");
    const std::string id = this->ConnectSynced(origin);
    ASSERT_FALSE(id.empty());
    this->SetPolicy(id, "host_wins");
    ASSERT_TRUE(this->sandbox_
                    ->PutSettings(origin, google ? Json{{"push_drop_rate", 0.0}}
                                                 : Json{{"notification_drop_rate", 0.0}})
                    .ok());
    const std::string path = this->EntryPath(id, "race");
    TestResponse created = this->Send("PUT", path, this->Job("h-0"));
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string event_path =
        (google ? "/calendar/v3/calendars/primary/events/" : "/v1.0/me/events/") +
        created.JsonBody()["provider_id"].get<std::string>();
    std::string cursor = "0";
    this->Changes(cursor);
    for (int i = 1; i <= 12; ++i) {
      const Json patch = google ? Json{{"summary", "p-" + std::to_string(i)}}
                                : Json{{"subject", "p-" + std::to_string(i)}};
      ASSERT_EQ(
          this->Call("PATCH", "/v1/proxy/" + id + event_path, patch.dump(), this->key_).status,
          200);
      // The host's write lands at a different moment of the edit's sync run each round.
      std::this_thread::sleep_for(std::chrono::milliseconds(3 * (i % 6)));
      const std::string title = "h-" + std::to_string(i);
      TestResponse r = this->Send("PUT", path, this->Job(title));
      ASSERT_TRUE(r.status == 200 || r.status == 202) << r.body;
      EXPECT_EQ(this->SyncNow(id)["status"], "succeeded");
      TestResponse entry = this->Send("GET", path, Json());
      ASSERT_EQ(entry.status, 200) << entry.body;
      EXPECT_EQ(entry.JsonBody()["title"], title);
      EXPECT_EQ(entry.JsonBody()["mapping"]["state"], "synced");
      TestResponse at = this->Call("GET", "/v1/proxy/" + id + event_path, "", this->key_);
      ASSERT_EQ(at.status, 200) << at.body;
      EXPECT_EQ(at.JsonBody()[google ? "summary" : "subject"], title);
    }
    for (const Json& c : this->ChangeList(cursor)) {
      if (c.value("type", "") != "event.updated") continue;
      EXPECT_TRUE(c["data"]["event"].value("title", "").starts_with("p-"))
          << c["data"]["event"].value("title", "")
          << " v=" << c["data"]["event"].value("version", "");
    }
  }
}

// Seed "job assignment", recurring jobs: a weekly series is split from its fourth occurrence
// on (the series ends before it, a new one carries the change), one occurrence of the first
// part is moved and one of the second cancelled; each provider has each change, the host's
// expanded view shows exactly the slots that remain, and syncing brings nothing back as a
// provider change.
TYPED_TEST_P(WriteSuite, OccurrencesAndSplitsReachTheProviderWithoutEchoes) {
  for (const SandboxOrigin origin : {SandboxOrigin::kGoogle, SandboxOrigin::kMicrosoft}) {
    const bool google = origin == SandboxOrigin::kGoogle;
    SCOPED_TRACE(google ? "google" : "microsoft");
    const std::string id = this->ConnectSynced(origin);
    ASSERT_FALSE(id.empty());
    std::string cursor = "0";
    this->Changes(cursor);
    Json series = this->Job("Standup");
    series["attendees"] = Json::array();
    // Tuesdays 2027-01-12 .. 02-16.
    series["recurrence"] = Json::array({"RRULE:FREQ=WEEKLY;COUNT=6"});
    TestResponse created = this->Send("POST", "/v1/connections/" + id + "/events", series);
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string master = created.JsonBody()["id"].get<std::string>();

    TestResponse split = this->Send("POST", "/v1/events/" + master + "/split",
                                    Json{{"from", "2027-02-02T08:00:00Z"},
                                         {"changes", {{"title", "Standup v2"}}},
                                         {"external_id", "standup-v2"}});
    ASSERT_EQ(split.status, 200) << split.body;
    const Json parts = split.JsonBody();
    // Graph keeps a date-only end: the day before, to the end of its local day.
    EXPECT_NE(parts["series"]["recurrence"][0].get<std::string>().find(
                  google ? "UNTIL=20270202T075959Z" : "UNTIL=20270201"),
              std::string::npos)
        << parts;
    EXPECT_NE(parts["following"]["recurrence"][0].get<std::string>().find("COUNT=3"),
              std::string::npos)
        << parts;
    EXPECT_EQ(parts["following"]["title"], "Standup v2");
    EXPECT_EQ(parts["following"]["mapping"]["external_id"], "standup-v2");
    const std::string following = parts["following"]["id"].get<std::string>();

    const std::string first_part = "/v1/events/" + master + "/occurrences/";
    TestResponse moved = this->Send(
        "PATCH", first_part + "2027-01-19T08:00:00Z",
        Json{{"title", "Standup (moved)"},
             {"start", {{"instant", "2027-01-19T11:00:00+01:00"}, {"time_zone", "Europe/Zurich"}}},
             {"end", {{"instant", "2027-01-19T11:30:00+01:00"}, {"time_zone", "Europe/Zurich"}}}});
    ASSERT_EQ(moved.status, 200) << moved.body;
    EXPECT_EQ(moved.JsonBody()["kind"], "exception") << moved.body;
    EXPECT_EQ(moved.JsonBody()["mapping"]["state"], "synced");
    const std::string moved_at = moved.JsonBody()["provider_id"].get<std::string>();
    TestResponse cancelled = this->Send(
        "DELETE", "/v1/events/" + following + "/occurrences/2027-02-09T08:00:00Z", Json());
    ASSERT_EQ(cancelled.status, 200) << cancelled.body;
    EXPECT_EQ(cancelled.JsonBody()["status"], "cancelled") << cancelled.body;
    EXPECT_EQ(this->Send("PATCH", first_part + "2027-01-20T08:00:00Z", Json{{"title", "x"}}).status,
              404);
    EXPECT_EQ(this->Send("PATCH", first_part + "yesterday", Json{{"title", "x"}}).status, 400);
    EXPECT_EQ(this->Send("PATCH", first_part + "2027-01-26T08:00:00Z",
                         Json{{"recurrence", {"RRULE:FREQ=DAILY;COUNT=2"}}})
                  .status,
              400);

    // The provider has the moved occurrence where the host put it.
    const std::string read = google ? "/calendar/v3/calendars/primary/events/" + moved_at
                                    : "/v1.0/me/events/" + moved_at;
    const Json there = this->Call("GET", "/v1/proxy/" + id + read, "", this->key_).JsonBody();
    EXPECT_EQ(there[google ? "summary" : "subject"], "Standup (moved)") << there;

    // The host's view of the weeks: two of the first part, the moved one, two of the second.
    auto titles = [&] {
      std::map<std::string, int> count;
      const Json listing =
          this->Call("GET",
                     "/v1/connections/" + id +
                         "/events?time_min=2027-01-01T00:00:00Z&time_max=2027-03-01T00:00:00Z"
                         "&expand_recurring=true&limit=100",
                     "", this->key_)
              .JsonBody();
      for (const Json& e : listing["data"]) {
        if (e.value("status", "") != "cancelled") ++count[e.value("title", "")];
      }
      return count;
    };
    const std::map<std::string, int> expected{
        {"Standup", 2}, {"Standup (moved)", 1}, {"Standup v2", 2}};
    std::map<std::string, int> seen = titles();
    for (const auto& [title, n] : expected) EXPECT_EQ(seen[title], n) << title;

    // Syncing brings Switchboard's own writes back: nothing published, nothing changed.
    EXPECT_EQ(this->SyncNow(id)["status"], "succeeded");
    auto changes = this->Changes(cursor);
    EXPECT_EQ(changes["event.created"] + changes["event.updated"] + changes["event.deleted"], 0)
        << "an echo";
    seen = titles();
    for (const auto& [title, n] : expected) EXPECT_EQ(seen[title], n) << title << " after sync";
    EXPECT_EQ(this->Send("GET", this->EntryPath(id, "standup-v2"), Json()).status, 200);

    // A full resync keeps what the host cancelled (Graph lists a deleted occurrence no more).
    EXPECT_EQ(this->SyncNow(id, R"({"full": true})")["status"], "succeeded");
    changes = this->Changes(cursor);
    EXPECT_EQ(changes["event.deleted"], 0) << "the resync dropped the cancelled occurrence";
    seen = titles();
    for (const auto& [title, n] : expected) {
      EXPECT_EQ(seen[title], n) << title << " after a full resync";
    }

    // The user deletes the last occurrence at the provider: the host's series loses it too.
    const std::string following_at = parts["following"]["provider_id"].get<std::string>();
    const std::string window = google ? "/instances?timeMin=2027-02-15T00:00:00Z"
                                        "&timeMax=2027-02-17T00:00:00Z"
                                      : "/instances?startDateTime=2027-02-15T00:00:00Z"
                                        "&endDateTime=2027-02-17T00:00:00Z";
    const std::string events_at = google
                                      ? "/v1/proxy/" + id + "/calendar/v3/calendars/primary/events/"
                                      : "/v1/proxy/" + id + "/v1.0/me/events/";
    const Json listed =
        this->Call("GET", events_at + following_at + window, "", this->key_).JsonBody();
    const Json& instances = listed[google ? "items" : "value"];
    ASSERT_EQ(instances.size(), 1u) << listed;
    const std::string last = instances[0]["id"].get<std::string>();
    EXPECT_EQ(this->Call("DELETE", events_at + last, "", this->key_).status, 204);
    EXPECT_EQ(this->SyncNow(id)["status"], "succeeded");
    changes = this->Changes(cursor);
    EXPECT_EQ(changes["event.created"] + changes["event.updated"] + changes["event.deleted"], 1);
    seen = titles();
    EXPECT_EQ(seen["Standup v2"], 1) << "the occurrence the user deleted is still there";
    EXPECT_EQ(seen["Standup"], 2);
  }
}

REGISTER_TYPED_TEST_SUITE_P(WriteSuite, OccurrencesAndSplitsReachTheProviderWithoutEchoes,
                            RefusedWritesMarkTheEntryAndArePublished,
                            SoakBothWaysEndsEqualWithoutEchoes, EditThenHostWriteRacesLeaveNoEcho,
                            AvailabilityComesFromTheStoreOrTheProvider,
                            AutomaticPoliciesApplyTheWinnerAndKeepTheLoser,
                            HostEntryRoundTripsThroughGoogle,
                            AllDayAndZonedEventsRoundTripWithoutDrift,
                            StaleWritesAreConflictsNotOverwrites, WritesDuringAnOutageAreSentLater,
                            GraphWritesRoundTrip, TenantsNeverSeeEachOthersEntries,
                            BadWritesAreRefused, ReadOnlyConnectionsRefuseWritesUpFront);

}  // namespace sb::app::testing
