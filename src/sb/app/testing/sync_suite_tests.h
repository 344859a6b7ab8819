// Calendar sync end to end (issue 15), written once and instantiated per storage backend: the
// real server and the real switchboard-sandbox, a seeded account connected through the connect
// flow, user-side changes made at the sandbox, and what the host then reads from /v1 (events,
// runs, the change feed). Include after connect_suite_tests.h.
#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "sb/app/testing/connect_suite_tests.h"
#include "sb/base/time_format.h"
#include "sb/store/sync/push_repository.h"
#include "sb/webhooks/testing/standard_webhooks.h"

namespace sb::app::testing {

template <typename Backend>
class SyncSuite : public ConnectSuite<Backend> {
 protected:
  bool SyncOnConnect() const override { return true; }

  std::string AccountId(SandboxOrigin origin) {
    auto accounts = this->sandbox_->Accounts(origin);
    EXPECT_TRUE(accounts.ok());
    if (!accounts.ok()) return "";
    for (const Json& a : *accounts) {
      if (a.value("email", "") == this->Email(origin)) return a.value("id", "");
    }
    return "";
  }

  void Seed(SandboxOrigin origin, int events) {
    auto seeded =
        this->sandbox_->Control(origin, "POST", "/_sandbox/accounts/" + AccountId(origin) + "/seed",
                                Json{{"events", events}, {"seed", 3}});
    ASSERT_TRUE(seeded.ok()) << seeded.status().ToString();
  }

  Json Mutate(SandboxOrigin origin, int creates, int updates, int deletes, uint64_t seed) {
    const Json changes{
        {"creates", creates}, {"updates", updates}, {"deletes", deletes}, {"seed", seed}};
    Result<Json> done =
        origin == SandboxOrigin::kGoogle
            ? this->sandbox_->Control(
                  origin, "POST", "/_sandbox/accounts/" + AccountId(origin) + "/mutate", changes)
            : this->sandbox_->Action(origin, "mutate", [&] {
                Json body = changes;
                body["account"] = AccountId(origin);
                return body;
              }());
    EXPECT_TRUE(done.ok()) << done.status().ToString();
    return done.ok() ? *done : Json();
  }

  std::string Connect(SandboxOrigin origin) {
    this->PutIntegration(origin, this->key_);
    auto browser = this->NewBrowser();
    auto done = ConnectSuite<Backend>::Connect(
        *browser, this->NewSession(this->key_, this->Email(origin)), origin);
    EXPECT_TRUE(done.ok()) << done.status().ToString();
    return done.ok() ? this->ConnectionIdFrom(*done) : "";
  }

  // Waits until the run has finished (up to a minute); returns it. Polls like a well-behaved
  // client: more slowly as the wait grows, and after a 429 (a long soak's polling can reach the
  // key's rate limit, above all on a loaded machine) it waits and asks again.
  Json AwaitRun(const std::string& run_id) {
    Json run;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    auto pause = std::chrono::milliseconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      TestResponse r = this->Call("GET", "/v1/sync-runs/" + run_id, "", this->key_);
      if (r.status == 429) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      EXPECT_EQ(r.status, 200) << r.body;
      run = r.JsonBody();
      const Json& status = run.contains("status") ? run["status"] : Json();
      if (!status.is_string() || (status != "queued" && status != "running")) return run;
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "the run did not finish: " << run.dump();
    return run;
  }

  Json State(const std::string& connection) {
    TestResponse r = this->Call("GET", "/v1/connections/" + connection + "/sync", "", this->key_);
    EXPECT_EQ(r.status, 200) << r.body;
    const Json body = r.JsonBody();
    return body.contains("data") && !body["data"].empty() ? body["data"][0] : Json();
  }

  // The initial run that connecting queued, finished.
  Json AwaitInitialRun(const std::string& connection) {
    Json state = State(connection);
    EXPECT_TRUE(state.contains("last_run_id") && state["last_run_id"].is_string()) << state;
    if (!state["last_run_id"].is_string()) return Json();
    return AwaitRun(state["last_run_id"].get<std::string>());
  }

  Json SyncNow(const std::string& connection, const std::string& body = "") {
    TestResponse r =
        this->Call("POST", "/v1/connections/" + connection + "/sync", body, this->key_);
    EXPECT_EQ(r.status, 202) << r.body;
    return AwaitRun(r.JsonBody().value("id", ""));
  }

  // `key`, or the tenant's own key when empty.
  const std::string& KeyOr(const std::string& key) const { return key.empty() ? this->key_ : key; }

  // provider id -> title of every stored event of the connection.
  std::map<std::string, std::string> StoredEvents(const std::string& connection,
                                                  const std::string& key = "") {
    std::map<std::string, std::string> out;
    std::string cursor;
    for (int page = 0; page < 100; ++page) {
      TestResponse r = this->Call("GET",
                                  "/v1/connections/" + connection + "/events?limit=1000" +
                                      (cursor.empty() ? "" : "&cursor=" + cursor),
                                  "", KeyOr(key));
      EXPECT_EQ(r.status, 200) << r.body;
      const Json body = r.JsonBody();
      for (const Json& e : body["data"]) {
        out[e.value("provider_id", "")] = e.value("title", "");
      }
      if (!body["next_cursor"].is_string()) break;
      cursor = body["next_cursor"].get<std::string>();
    }
    return out;
  }

  // provider id -> title of every live event at the Google sandbox (masters, exceptions and
  // singles, as Switchboard stores them), read through the proxy.
  std::map<std::string, std::string> GoogleEvents(const std::string& connection,
                                                  const std::string& key = "") {
    std::map<std::string, std::string> out;
    std::map<std::string, std::string> exception_masters;  // exception id -> master id
    std::string token;
    for (int page = 0; page < 100; ++page) {
      TestResponse r =
          this->Call("GET",
                     "/v1/proxy/" + connection +
                         "/calendar/v3/calendars/primary/events?maxResults=2500&showDeleted=true" +
                         (token.empty() ? "" : "&pageToken=" + PercentEncode(token)),
                     "", KeyOr(key));
      EXPECT_EQ(r.status, 200) << r.body;
      const Json body = r.JsonBody();
      for (const Json& e : body["items"]) {
        const std::string master = e.value("recurringEventId", "");
        if (e.value("status", "") == "cancelled" && master.empty()) continue;  // deleted
        out[e.value("id", "")] = e.value("summary", "");
        if (!master.empty()) exception_masters[e.value("id", "")] = master;
      }
      token = body.value("nextPageToken", "");
      if (token.empty()) break;
    }
    // The occurrences of a deleted series are gone with it.
    for (const auto& [exception, master] : exception_masters) {
      if (!out.contains(master)) out.erase(exception);
    }
    return out;
  }

  // The change feed's entries after `cursor`, in order; sets `cursor` to the end.
  std::vector<Json> ChangeList(std::string& cursor, const std::string& key = "") {
    std::vector<Json> out;
    for (int page = 0; page < 1000; ++page) {
      TestResponse r = this->Call("GET", "/v1/changes?limit=1000&cursor=" + cursor, "", KeyOr(key));
      EXPECT_EQ(r.status, 200) << r.body;
      const Json body = r.JsonBody();
      for (const Json& c : body["data"]) out.push_back(c);
      cursor = body.value("next_cursor", cursor);
      if (!body.value("has_more", false)) break;
    }
    return out;
  }

  // provider id -> "type status" of the event changes after `cursor` (a later change of the
  // same event replaces an earlier one). The deleted exceptions of a deleted series are left
  // out: which exceptions a series had is not in the mutate answer (the store's equality with
  // the provider shows they went).
  std::map<std::string, std::string> EventChanges(std::string& cursor) {
    std::map<std::string, std::string> out;
    for (const Json& c : ChangeList(cursor)) {
      const std::string type = c.value("type", "");
      if (!type.starts_with("event.")) continue;
      const Json event = c["data"].value("event", Json::object());
      out[event.value("provider_id", "")] = type + " " + event.value("status", "");
    }
    std::erase_if(out, [&out](const auto& entry) {
      const size_t cut = entry.first.find('_');
      if (cut == std::string::npos || entry.second != "event.deleted ") return false;
      const auto series = out.find(entry.first.substr(0, cut));
      return series != out.end() && series->second == "event.deleted ";
    });
    return out;
  }

  // Counts of the change feed's entries by type, after `cursor`; sets `cursor` to the end.
  std::map<std::string, int> Changes(std::string& cursor) {
    std::map<std::string, int> out;
    for (const Json& c : ChangeList(cursor)) ++out[c.value("type", "")];
    return out;
  }

  // True once the sandbox has seen Switchboard's events.watch call (the push channel exists).
  bool AwaitGoogleWatch() {
    return AwaitRequests(1, SandboxOrigin::kGoogle, "POST", "/calendar/v3/calendars",
                         "/events/watch") >= 1;
  }

  // How many `method` requests the sandbox has seen under `prefix` whose path ends with
  // `suffix`.
  int CountRequests(SandboxOrigin origin, const std::string& method, const std::string& prefix,
                    const std::string& suffix = "") {
    auto log = this->sandbox_->Requests(origin, prefix);
    EXPECT_TRUE(log.ok());
    if (!log.ok()) return -1;
    int n = 0;
    for (const Json& entry : *log) {
      if (entry.value("method", "") == method && entry.value("path", "").ends_with(suffix)) ++n;
    }
    return n;
  }

  // Waits (up to 10 s) until CountRequests reaches `n`; the count then.
  int AwaitRequests(int n, SandboxOrigin origin, const std::string& method,
                    const std::string& prefix, const std::string& suffix = "") {
    int seen = 0;
    for (int i = 0; i < 500; ++i) {
      seen = CountRequests(origin, method, prefix, suffix);
      if (seen >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return seen;
  }

  // Moves time forward at the providers (the sandbox's clock) and then here (the server's).
  void AdvanceClocks(std::chrono::seconds by) {
    ASSERT_TRUE(this->sandbox_
                    ->Control(SandboxOrigin::kGoogle, "POST", "/_sandbox/clock",
                              Json{{"advance_seconds", by.count()}})
                    .ok());
    this->clock_.Advance(by);
  }

  // The value of a counter line of /metrics ("name{labels}"), 0 when absent.
  double Counter(const std::string& line) {
    const std::string metrics = this->Metrics().body;
    const size_t at = metrics.find(line + " ");
    return at == std::string::npos ? 0 : std::stod(metrics.substr(at + line.size() + 1));
  }

  // A Google account seeded with `events`, connected, its initial run succeeded and its push
  // channel open; the connection id ("" after a failure).
  // ConnectWatched, then every push dropped at the sandbox, so that only the test's own runs
  // bring changes; `cursor` is moved past what the initial sync published. Empty on failure.
  std::string ConnectUnpushed(int events, std::string& cursor) {
    const std::string id = ConnectWatched(events);
    if (id.empty()) return "";
    auto dropped =
        this->sandbox_->PutSettings(SandboxOrigin::kGoogle, Json{{"push_drop_rate", 1.0}});
    if (!dropped.ok()) {
      ADD_FAILURE() << "push_drop_rate: " << dropped.status().ToString();
      return "";
    }
    cursor = "0";
    Changes(cursor);
    return id;
  }

  std::string ConnectWatched(int events) {
    Seed(SandboxOrigin::kGoogle, events);
    const std::string id = Connect(SandboxOrigin::kGoogle);
    if (id.empty()) return "";
    const Json run = AwaitInitialRun(id);
    EXPECT_EQ(run["status"], "succeeded") << run;
    EXPECT_TRUE(AwaitGoogleWatch()) << "no events.watch call after the initial run";
    return run["status"] == "succeeded" ? id : "";
  }

  // True once the stored events equal the provider's (within 10 s).
  bool AwaitInStep(const std::string& connection) {
    for (int i = 0; i < 100; ++i) {
      if (StoredEvents(connection) == GoogleEvents(connection)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  // Reads the change feed after `cursor` until `n` changes of `type` have come (or 10 s passed);
  // returns the counts by type seen meanwhile.
  std::map<std::string, int> AwaitChanges(std::string& cursor, const std::string& type, int n) {
    std::map<std::string, int> seen;
    for (int i = 0; i < 500 && seen[type] < n; ++i) {
      for (const auto& [t, count] : Changes(cursor)) seen[t] += count;
      if (seen[type] < n) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return seen;
  }
};

// What the host must be told after the sandbox's mutate answer `mutated` (Google ids; an
// instance id is "{master}_{start}"): each creation and edit once, each deletion once; a
// deleted occurrence becomes a cancelled exception, which is an update. The exceptions of a
// deleted series are left out (see EventChanges). provider id -> "type status".
inline std::map<std::string, std::string> ExpectedChanges(const Json& mutated) {
  std::map<std::string, std::string> out;
  std::set<std::string> deleted_series;
  for (const Json& id : mutated["deleted"]) {
    const std::string s = id.get<std::string>();
    if (s.find('_') == std::string::npos) deleted_series.insert(s);
  }
  auto series_gone = [&](const std::string& id) {
    const size_t cut = id.find('_');
    return cut != std::string::npos && deleted_series.contains(id.substr(0, cut));
  };
  for (const Json& id : mutated["created"]) out[id.get<std::string>()] = "event.created confirmed";
  for (const Json& id : mutated["updated"]) out[id.get<std::string>()] = "event.updated confirmed";
  for (const Json& id : mutated["deleted"]) {
    const std::string s = id.get<std::string>();
    out[s] = s.find('_') == std::string::npos ? "event.deleted " : "event.updated cancelled";
  }
  std::erase_if(out, [&](const auto& entry) { return series_gone(entry.first); });
  return out;
}

TYPED_TEST_SUITE_P(SyncSuite);

// Connecting queues the initial sync; it stores exactly the provider's events, and the change
// feed announces each once.
TYPED_TEST_P(SyncSuite, InitialSyncStoresTheProvidersEvents) {
  this->Seed(SandboxOrigin::kGoogle, 120);
  const std::string id = this->Connect(SandboxOrigin::kGoogle);
  ASSERT_FALSE(id.empty());
  Json run = this->AwaitInitialRun(id);
  EXPECT_EQ(run["status"], "succeeded") << run;
  EXPECT_EQ(run["trigger"], "initial");
  EXPECT_TRUE(run["full"].get<bool>());
  const auto stored = this->StoredEvents(id);
  const auto provider = this->GoogleEvents(id);
  EXPECT_GT(provider.size(), 100u);
  EXPECT_EQ(stored, provider);
  EXPECT_EQ(run["items"]["created"].get<int64_t>(), static_cast<int64_t>(stored.size()));

  std::string cursor = "0";
  auto changes = this->Changes(cursor);
  EXPECT_EQ(changes["event.created"], static_cast<int>(stored.size()));
  EXPECT_EQ(changes["sync.started"], 1);
  EXPECT_EQ(changes["sync.completed"], 1);
  EXPECT_GE(changes["calendar.created"], 1);

  // Calendars, one event, and the expansion of series in a window.
  TestResponse calendars =
      this->Call("GET", "/v1/connections/" + id + "/calendars", "", this->key_);
  ASSERT_EQ(calendars.status, 200) << calendars.body;
  EXPECT_FALSE(calendars.JsonBody()["data"].empty());
  TestResponse page =
      this->Call("GET", "/v1/connections/" + id + "/events?limit=1", "", this->key_);
  const Json first = page.JsonBody()["data"][0];
  TestResponse one = this->Call("GET", "/v1/events/" + first.value("id", ""), "", this->key_);
  EXPECT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.JsonBody()["provider_id"], first["provider_id"]);
  TestResponse expanded = this->Call(
      "GET",
      "/v1/connections/" + id + "/events?expand_recurring=true&time_min=" +
          PercentEncode(FormatRfc3339(this->clock_.Now() - std::chrono::hours(24 * 30))) +
          "&time_max=" +
          PercentEncode(FormatRfc3339(this->clock_.Now() + std::chrono::hours(24 * 60))),
      "", this->key_);
  EXPECT_EQ(expanded.status, 200) << expanded.body;
  int occurrences = 0;
  const Json expanded_body = expanded.JsonBody();
  for (const Json& e : expanded_body["data"]) {
    if (e.value("kind", "") == "occurrence") ++occurrences;
  }
  EXPECT_GT(occurrences, 0) << "the seeded account has weekly series";
}

// User-side changes arrive with the next run, each published once; a run that finds nothing
// new publishes no event change.
TYPED_TEST_P(SyncSuite, IncrementalSyncBringsOnlyRealChanges) {
  this->Seed(SandboxOrigin::kGoogle, 60);
  const std::string id = this->Connect(SandboxOrigin::kGoogle);
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(this->AwaitInitialRun(id)["status"], "succeeded");
  std::string cursor = "0";
  this->Changes(cursor);

  // Pushes off: the run asked for here is the only one (the push tests cover pushes).
  ASSERT_TRUE(
      this->sandbox_->PutSettings(SandboxOrigin::kGoogle, Json{{"push_drop_rate", 1.0}}).ok());
  const Json mutated = this->Mutate(SandboxOrigin::kGoogle, 5, 4, 3, 11);
  Json run = this->SyncNow(id);
  EXPECT_EQ(run["status"], "succeeded") << run;
  EXPECT_FALSE(run["full"].get<bool>());
  EXPECT_EQ(this->StoredEvents(id), this->GoogleEvents(id));
  // The run is over: its changes are all in the feed, and each is what the user did.
  EXPECT_EQ(this->EventChanges(cursor), ExpectedChanges(mutated)) << mutated;

  run = this->SyncNow(id);
  EXPECT_EQ(run["status"], "succeeded");
  auto changes = this->Changes(cursor);
  EXPECT_EQ(changes["event.created"] + changes["event.updated"] + changes["event.deleted"], 0);
  EXPECT_GE(changes["sync.completed"], 1);

  // The connection's runs, a page at a time, each once: the initial run and the two asked for
  // (newest first by id; under the test's frozen clock ids of one millisecond are unordered).
  TestResponse page =
      this->Call("GET", "/v1/connections/" + id + "/sync-runs?limit=2", "", this->key_);
  ASSERT_EQ(page.status, 200) << page.body;
  const Json first = page.JsonBody();
  ASSERT_EQ(first["data"].size(), 2u);
  ASSERT_TRUE(first["next_cursor"].is_string());
  page = this->Call("GET",
                    "/v1/connections/" + id +
                        "/sync-runs?limit=2&cursor=" + first["next_cursor"].get<std::string>(),
                    "", this->key_);
  ASSERT_EQ(page.status, 200) << page.body;
  std::multiset<std::string> triggers;
  std::set<std::string> ids;
  for (const Json& listed : {first["data"], page.JsonBody()["data"]}) {
    for (const Json& r : listed) {
      triggers.insert(r.value("trigger", ""));
      ids.insert(r.value("id", ""));
    }
  }
  EXPECT_EQ(triggers, (std::multiset<std::string>{"initial", "manual", "manual"}));
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids.count(run.value("id", "")), 1u);

  // Each request is on record: the two by hand with the API key as actor, the initial one by
  // the system.
  const Json audit = this->Call("GET", "/v1/audit?action=sync.request", "", this->key_).JsonBody();
  std::multiset<std::string> actors;
  for (const Json& entry : audit["data"]) {
    actors.insert(entry["details"].value("trigger", "") + ":" + entry["actor"].value("kind", ""));
  }
  EXPECT_EQ(actors,
            (std::multiset<std::string>{"initial:system", "manual:api_key", "manual:api_key"}))
      << audit;
}

// A provider item the store refuses (here an iCalUID with a control character, which the
// model keeps as the provider sent it) is skipped alone: the page's upserts are written in one
// batch, and when the store refuses the batch each is written by itself. The run succeeds,
// the other items of the page are stored and announced.
TYPED_TEST_P(SyncSuite, AnItemTheStoreRefusesIsSkippedAlone) {
  std::string cursor;
  const std::string id = this->ConnectUnpushed(10, cursor);
  ASSERT_FALSE(id.empty());
  auto insert = [&](const Json& event) {
    const TestResponse r =
        this->Call("POST", "/v1/proxy/" + id + "/calendar/v3/calendars/primary/events",
                   event.dump(), this->key_);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? r.JsonBody().value("id", "") : std::string();
  };
  auto event = [](const std::string& title, const std::string& day) {
    return Json{{"summary", title},
                {"start", {{"dateTime", day + "T10:00:00Z"}}},
                {"end", {{"dateTime", day + "T11:00:00Z"}}}};
  };
  const std::string good1 = insert(event("Good one", "2026-12-10"));
  Json hostile = event("Control character in its UID", "2026-12-11");
  hostile["iCalUID"] = std::string("bad\x07uid@example.com");
  const std::string bad = insert(hostile);
  const std::string good2 = insert(event("Good two", "2026-12-12"));
  ASSERT_FALSE(good1.empty() || bad.empty() || good2.empty());

  const Json run = this->SyncNow(id);
  EXPECT_EQ(run["status"], "succeeded") << run;
  const auto stored = this->StoredEvents(id);
  EXPECT_TRUE(stored.contains(good1));
  EXPECT_TRUE(stored.contains(good2));
  EXPECT_FALSE(stored.contains(bad));
  auto provider = this->GoogleEvents(id);
  provider.erase(bad);
  EXPECT_EQ(stored, provider);
  std::set<std::string> created;
  for (const Json& c : this->ChangeList(cursor)) {
    if (c.value("type", "") == "event.created") {
      created.insert(c["data"]["event"].value("provider_id", ""));
    }
  }
  EXPECT_EQ(created, (std::set<std::string>{good1, good2}));
}

// A deleted series takes its exceptions (moved and cancelled occurrences) with it: Google
// re-sends them as cancelled, and the host is told each is deleted, nothing else.
TYPED_TEST_P(SyncSuite, DeletedSeriesTakesItsExceptions) {
  std::string cursor;
  const std::string id = this->ConnectUnpushed(60, cursor);
  ASSERT_FALSE(id.empty());
  const auto stored = this->StoredEvents(id);
  std::string master;
  std::set<std::string> exceptions;
  for (const auto& [provider_id, title] : stored) {
    const size_t cut = provider_id.find('_');
    if (cut == std::string::npos || !stored.contains(provider_id.substr(0, cut))) continue;
    if (master.empty()) master = provider_id.substr(0, cut);
    if (provider_id.starts_with(master + "_")) exceptions.insert(provider_id);
  }
  ASSERT_FALSE(master.empty()) << "the seed made no series with exceptions";
  ASSERT_GE(exceptions.size(), 2u);  // the seed's moved and cancelled occurrence

  const TestResponse removed =
      this->Call("DELETE", "/v1/proxy/" + id + "/calendar/v3/calendars/primary/events/" + master,
                 "", this->key_);
  ASSERT_EQ(removed.status, 204) << removed.body;
  EXPECT_EQ(this->SyncNow(id)["status"], "succeeded");

  std::set<std::string> deleted;
  for (const Json& c : this->ChangeList(cursor)) {
    const std::string type = c.value("type", "");
    if (!type.starts_with("event.")) continue;
    const std::string provider_id = c["data"]["event"].value("provider_id", "");
    EXPECT_EQ(type, "event.deleted") << provider_id;
    EXPECT_TRUE(deleted.insert(provider_id).second) << "deleted twice: " << provider_id;
  }
  std::set<std::string> expected = exceptions;
  expected.insert(master);
  EXPECT_EQ(deleted, expected);
  const auto after = this->StoredEvents(id);
  for (const std::string& gone : expected) EXPECT_FALSE(after.contains(gone)) << gone;
  EXPECT_EQ(after, this->GoogleEvents(id));
}

// A rejected sync token (410 fullSyncRequired) leads to a full resync that deletes what is gone
// at the provider, duplicates nothing and publishes only the real changes.
TYPED_TEST_P(SyncSuite, ExpiredSyncTokenResyncsWithoutDuplicates) {
  this->Seed(SandboxOrigin::kGoogle, 60);
  const std::string id = this->Connect(SandboxOrigin::kGoogle);
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(this->AwaitInitialRun(id)["status"], "succeeded");
  std::string cursor = "0";
  this->Changes(cursor);
  const Json mutated = this->Mutate(SandboxOrigin::kGoogle, 0, 0, 4, 5);
  ASSERT_TRUE(
      this->sandbox_->Action(SandboxOrigin::kGoogle, "expire-sync-tokens", Json::object()).ok());
  // The sandbox forgets deletions along with the token: the resync must find them itself.
  ASSERT_TRUE(
      this->sandbox_->Action(SandboxOrigin::kGoogle, "purge-tombstones", Json::object()).ok());
  Json run = this->SyncNow(id);
  EXPECT_EQ(run["status"], "succeeded") << run;
  // The manual run may have joined a push run that was already running (the mutation's): then
  // a follow-up run does the resync. Either way the store must end equal to the provider.
  const auto google = this->GoogleEvents(id);
  for (int i = 0; i < 200 && this->StoredEvents(id) != google; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(this->StoredEvents(id), google);
  auto changes = this->Changes(cursor);
  EXPECT_EQ(changes["event.created"], 0);
  EXPECT_GE(changes["event.deleted"], 1) << mutated;
  // Nothing changed at the provider apart from the deletions.
  EXPECT_EQ(changes["event.updated"], 0);
}

// A revoked grant fails the run and pauses the sync until the user reconnects; reconnecting
// resumes it.
TYPED_TEST_P(SyncSuite, RevokedGrantPausesUntilReconnect) {
  this->Seed(SandboxOrigin::kGoogle, 10);
  const std::string id = this->Connect(SandboxOrigin::kGoogle);
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(this->AwaitInitialRun(id)["status"], "succeeded");
  const std::string account = this->AccountId(SandboxOrigin::kGoogle);
  ASSERT_TRUE(
      this->sandbox_
          ->Action(SandboxOrigin::kGoogle, "revoke-refresh-tokens", Json{{"account", account}})
          .ok());
  ASSERT_TRUE(
      this->sandbox_
          ->Action(SandboxOrigin::kGoogle, "expire-access-tokens", Json{{"account", account}})
          .ok());
  Json run = this->SyncNow(id);
  EXPECT_EQ(run["status"], "failed") << run;
  Json state = this->State(id);
  EXPECT_EQ(state["status"], "paused") << state;
  EXPECT_EQ(state["paused_reason"], "reauthorization_required");
  EXPECT_EQ(this->Connection(id)["status"], "reauthorization_required");

  // Reconnecting the same account makes the connection active again and resumes the sync.
  const std::string again = this->Connect(SandboxOrigin::kGoogle);
  EXPECT_EQ(again, id);
  Json resumed = this->AwaitInitialRun(id);
  EXPECT_EQ(resumed["status"], "succeeded") << resumed;
  EXPECT_EQ(this->State(id)["status"], "idle");
}

// Microsoft Graph: calendars and the calendarView delta of each.
TYPED_TEST_P(SyncSuite, GraphCalendarSyncs) {
  ASSERT_TRUE(
      this->sandbox_
          ->Control(SandboxOrigin::kMicrosoft, "POST",
                    "/_sandbox/accounts/" + this->AccountId(SandboxOrigin::kMicrosoft) + "/seed",
                    Json{{"events", 40}, {"seed", 2}})
          .ok());
  const std::string id = this->Connect(SandboxOrigin::kMicrosoft);
  ASSERT_FALSE(id.empty());
  Json run = this->AwaitInitialRun(id);
  EXPECT_EQ(run["status"], "succeeded") << run;
  const auto stored = this->StoredEvents(id);
  EXPECT_GT(stored.size(), 10u);
  std::string cursor = "0";
  this->Changes(cursor);
  this->Mutate(SandboxOrigin::kMicrosoft, 3, 2, 1, 9);
  run = this->SyncNow(id);
  EXPECT_EQ(run["status"], "succeeded") << run;
  auto changes = this->Changes(cursor);
  EXPECT_EQ(changes["event.created"], 3) << run;
  EXPECT_GE(changes["event.deleted"], 1);
}

// Push channels are renewed before they expire (the clock moved to within the renewal margin):
// Google gets a new channel and the old one stopped, Graph's subscription gets a later expiry;
// each renewal happens once, and notifications keep bringing changes afterwards.
TYPED_TEST_P(SyncSuite, PushChannelsRenewBeforeExpiry) {
  const std::string google = this->ConnectWatched(10);
  ASSERT_FALSE(google.empty());
  ASSERT_TRUE(
      this->sandbox_
          ->Control(SandboxOrigin::kMicrosoft, "POST",
                    "/_sandbox/accounts/" + this->AccountId(SandboxOrigin::kMicrosoft) + "/seed",
                    Json{{"events", 10}, {"seed", 2}})
          .ok());
  const std::string graph = this->Connect(SandboxOrigin::kMicrosoft);
  ASSERT_FALSE(graph.empty());
  ASSERT_EQ(this->AwaitInitialRun(graph)["status"], "succeeded");
  const auto kMs = SandboxOrigin::kMicrosoft;
  ASSERT_EQ(this->AwaitRequests(1, kMs, "POST", "/v1.0/subscriptions"), 1);
  const auto kG = SandboxOrigin::kGoogle;
  EXPECT_EQ(this->CountRequests(kG, "POST", "/calendar/v3/calendars", "/events/watch"), 1);
  EXPECT_EQ(this->CountRequests(kG, "POST", "/calendar/v3/channels/stop"), 0);
  EXPECT_EQ(this->CountRequests(kMs, "PATCH", "/v1.0/subscriptions/"), 0);

  // Graph's subscription (70.5 h) is within the 6 h margin first, then Google's channel (7 d).
  this->AdvanceClocks(std::chrono::minutes(4'230) - std::chrono::hours(5));
  EXPECT_EQ(this->AwaitRequests(1, kMs, "PATCH", "/v1.0/subscriptions/"), 1);
  EXPECT_EQ(this->CountRequests(kG, "POST", "/calendar/v3/calendars", "/events/watch"), 1);
  // 163 h: Google's channel is within the margin; Graph's renewed subscription ran out at 136 h
  // (as if every node had been down meanwhile): the provider no longer knows it (404 to the
  // renewal), so a new one is created.
  this->AdvanceClocks(std::chrono::hours(7 * 24) - std::chrono::minutes(4'230));
  EXPECT_EQ(this->AwaitRequests(2, kG, "POST", "/calendar/v3/calendars", "/events/watch"), 2);
  EXPECT_EQ(this->AwaitRequests(1, kG, "POST", "/calendar/v3/channels/stop"), 1);
  EXPECT_EQ(this->AwaitRequests(2, kMs, "POST", "/v1.0/subscriptions"), 2);
  // Renewed once each time, not on every pass of the renewal scheduler (every 50 ms here).
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(this->CountRequests(kG, "POST", "/calendar/v3/calendars", "/events/watch"), 2);
  EXPECT_EQ(this->CountRequests(kMs, "PATCH", "/v1.0/subscriptions/"), 2);
  EXPECT_EQ(this->CountRequests(kMs, "POST", "/v1.0/subscriptions"), 2);
  EXPECT_EQ(this->Counter("sb_push_renewals_total{provider=\"google\",outcome=\"created\"}"), 2);
  EXPECT_EQ(this->Counter("sb_push_renewals_total{provider=\"microsoft\",outcome=\"renewed\"}"), 1);
  EXPECT_EQ(this->Counter("sb_push_renewals_total{provider=\"microsoft\",outcome=\"created\"}"), 2);

  // The new Google channel brings changes.
  std::string cursor = "0";
  this->Changes(cursor);
  this->Mutate(SandboxOrigin::kGoogle, 2, 0, 0, 21);
  EXPECT_EQ(this->AwaitChanges(cursor, "event.created", 2)["event.created"], 2);
  EXPECT_EQ(this->StoredEvents(google), this->GoogleEvents(google));
}

// A provider that grants channels for less than the renewal margin (one hour here, against six)
// gets them renewed at half their life, not on every renewal pass (every 50 ms here).
TYPED_TEST_P(SyncSuite, ShortLivedChannelsRenewAtHalfLife) {
  const auto kG = SandboxOrigin::kGoogle;
  ASSERT_TRUE(this->sandbox_->PutSettings(kG, Json{{"channel_max_ttl_seconds", 3600}}).ok());
  const std::string id = this->ConnectWatched(5);
  ASSERT_FALSE(id.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(this->CountRequests(kG, "POST", "/calendar/v3/calendars", "/events/watch"), 1);
  this->AdvanceClocks(std::chrono::minutes(31));
  EXPECT_EQ(this->AwaitRequests(2, kG, "POST", "/calendar/v3/calendars", "/events/watch"), 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(this->CountRequests(kG, "POST", "/calendar/v3/calendars", "/events/watch"), 2);
  EXPECT_EQ(this->CountRequests(kG, "POST", "/calendar/v3/channels/stop"), 1);
}

// Graph lifecycle notifications: reauthorizationRequired renews the subscription,
// subscriptionRemoved makes a new one, missed starts a resync; then notifications on the new
// subscription bring changes again.
TYPED_TEST_P(SyncSuite, GraphLifecycleEventsRenewRecreateAndResync) {
  const auto kMs = SandboxOrigin::kMicrosoft;
  ASSERT_TRUE(this->sandbox_
                  ->Control(kMs, "POST", "/_sandbox/accounts/" + this->AccountId(kMs) + "/seed",
                            Json{{"events", 10}, {"seed", 4}})
                  .ok());
  const std::string id = this->Connect(kMs);
  ASSERT_FALSE(id.empty());
  const Json initial = this->AwaitInitialRun(id);
  ASSERT_EQ(initial["status"], "succeeded");
  ASSERT_EQ(this->AwaitRequests(1, kMs, "POST", "/v1.0/subscriptions"), 1);
  auto subscription = [&] {
    auto listed = this->sandbox_->Control(kMs, "GET", "/_sandbox/subscriptions");
    EXPECT_TRUE(listed.ok());
    return listed.ok() && !(*listed)["subscriptions"].empty()
               ? (*listed)["subscriptions"][0].value("id", "")
               : std::string();
  };
  auto send = [&](const std::string& sub, const std::string& event) {
    ASSERT_TRUE(
        this->sandbox_
            ->Action(kMs, "send-lifecycle", Json{{"subscription_id", sub}, {"event", event}})
            .ok());
  };
  const std::string first = subscription();
  ASSERT_FALSE(first.empty());

  send(first, "reauthorizationRequired");
  EXPECT_EQ(this->AwaitRequests(1, kMs, "PATCH", "/v1.0/subscriptions/" + first), 1);

  send(first, "missed");
  Json resync;
  for (int i = 0; i < 500; ++i) {
    const Json state = this->State(id);
    if (state["last_run_id"].is_string() && state["last_run_id"] != initial["id"]) {
      resync = this->AwaitRun(state["last_run_id"].get<std::string>());
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(resync["trigger"], "resync") << resync;
  EXPECT_EQ(resync["status"], "succeeded") << resync;

  send(first, "subscriptionRemoved");
  EXPECT_EQ(this->AwaitRequests(2, kMs, "POST", "/v1.0/subscriptions"), 2);
  std::string second;
  // Bounded generously: under ctest -j with sanitizers a node can be slow to resubscribe.
  for (int i = 0; i < 1000 && (second.empty() || second == first); ++i) {
    second = subscription();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(second, first);
  EXPECT_FALSE(second.empty());

  std::string cursor = "0";
  this->Changes(cursor);
  this->Mutate(kMs, 2, 0, 0, 8);
  EXPECT_EQ(this->AwaitChanges(cursor, "event.created", 2)["event.created"], 2);
}

// Two tenants sync at once, by push and on schedule: each tenant's feed, store and webhooks hold
// only its own events, and a notification naming one tenant's channel with the other's token
// (or at the other's endpoint) is refused.
TYPED_TEST_P(SyncSuite, TwoTenantsPushAndScheduledSyncApart) {
  const auto kG = SandboxOrigin::kGoogle;
  const std::string a_id = this->ConnectWatched(15);
  ASSERT_FALSE(a_id.empty());
  // Tenant B: its own integration, and Bob's account.
  auto [b_tenant, b_key] = this->NewTenantWithKey(R"(["read","write"])");
  this->AllowReturnOrigin(b_tenant, b_key);
  this->PutIntegration(kG, b_key);
  auto bob = this->sandbox_->CreateAccount(kG, {{"email", "bob@example.com"}});
  ASSERT_TRUE(bob.ok());
  const std::string bob_account = (*bob).value("id", "");
  ASSERT_TRUE(this->sandbox_
                  ->Control(kG, "POST", "/_sandbox/accounts/" + bob_account + "/seed",
                            Json{{"events", 12}, {"seed", 9}})
                  .ok());
  auto browser = this->NewBrowser();
  auto done =
      ConnectSuite<TypeParam>::Connect(*browser, this->NewSession(b_key, "bob@example.com"), kG);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  const std::string b_id = this->ConnectionIdFrom(*done);
  ASSERT_FALSE(b_id.empty());
  ASSERT_EQ(this->AwaitRequests(2, kG, "POST", "/calendar/v3/calendars", "/events/watch"), 2);
  std::string a_cursor = "0", b_cursor = "0";
  for (int i = 0; i < 400 && this->StoredEvents(b_id, b_key) != this->GoogleEvents(b_id, b_key);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  this->ChangeList(a_cursor);
  this->ChangeList(b_cursor, b_key);

  // Both users change their calendars at the same time (pushes), then the schedule comes due.
  std::thread alice([&] {
    for (int round = 0; round < 3; ++round) this->Mutate(kG, 2, 1, 0, 40 + round);
  });
  std::thread bobs([&] {
    for (int round = 0; round < 3; ++round) {
      EXPECT_TRUE(
          this->sandbox_
              ->Control(kG, "POST", "/_sandbox/accounts/" + bob_account + "/mutate",
                        Json{{"creates", 2}, {"updates", 1}, {"deletes", 0}, {"seed", 50 + round}})
              .ok());
    }
  });
  alice.join();
  bobs.join();
  this->clock_.Advance(std::chrono::seconds(901));

  // Each store catches up with its own provider account, and nothing else.
  bool a_done = false, b_done = false;
  for (int i = 0; i < 200 && !(a_done && b_done); ++i) {
    a_done = this->StoredEvents(a_id) == this->GoogleEvents(a_id);
    b_done = this->StoredEvents(b_id, b_key) == this->GoogleEvents(b_id, b_key);
    if (!(a_done && b_done)) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(a_done);
  EXPECT_TRUE(b_done);
  // Each feed: only its own connection, six creations.
  auto own = [&](std::string& cursor, const std::string& key, const std::string& connection) {
    int created = 0;
    for (const Json& c : this->ChangeList(cursor, key)) {
      EXPECT_EQ(c.value("connection_id", ""), connection) << c.dump();
      created += c.value("type", "") == "event.created";
    }
    return created;
  };
  EXPECT_EQ(own(a_cursor, "", a_id), 6);
  EXPECT_EQ(own(b_cursor, b_key, b_id), 6);

  // A's channel with B's token: forged at A's endpoint; B's channel at A's endpoint: unknown.
  auto channels = this->sandbox_->Control(kG, "GET", "/_sandbox/channels");
  ASSERT_TRUE(channels.ok());
  Json a_channel, b_channel;
  for (const Json& c : (*channels)["channels"]) {
    (c.value("account_id", "") == bob_account ? b_channel : a_channel) = c;
  }
  ASSERT_TRUE(a_channel.is_object() && b_channel.is_object()) << *channels;
  auto notify = [&](const std::string& tenant, const Json& channel, const std::string& token) {
    return this
        ->CallFrom("127.0.0.1", "POST", "/push/google/" + tenant, "", "",
                   {{"X-Goog-Channel-ID", channel.value("id", "")},
                    {"X-Goog-Channel-Token", token},
                    {"X-Goog-Resource-ID", channel.value("resource_id", "")},
                    {"X-Goog-Resource-State", "exists"},
                    {"X-Goog-Message-Number", "999"}})
        .status;
  };
  EXPECT_EQ(notify(this->tenant_, a_channel, b_channel.value("token", "")), 403);
  EXPECT_EQ(notify(this->tenant_, b_channel, b_channel.value("token", "")), 404);
  EXPECT_EQ(notify(b_tenant, a_channel, a_channel.value("token", "")), 404);
  // The real thing is accepted.
  EXPECT_EQ(notify(b_tenant, b_channel, b_channel.value("token", "")), 200);
}

// Another tenant sees nothing of it: not the run, the events, the calendars or the changes.
TYPED_TEST_P(SyncSuite, OtherTenantsSeeNothing) {
  this->Seed(SandboxOrigin::kGoogle, 10);
  const std::string id = this->Connect(SandboxOrigin::kGoogle);
  ASSERT_FALSE(id.empty());
  Json run = this->AwaitInitialRun(id);
  ASSERT_EQ(run["status"], "succeeded");
  auto [other, other_key] = this->NewTenantWithKey(R"(["read","write"])");
  const std::string event_id =
      this->Call("GET", "/v1/connections/" + id + "/events?limit=1", "", this->key_)
          .JsonBody()["data"][0]
          .value("id", "");
  for (const std::string& path :
       {"/v1/sync-runs/" + run.value("id", ""), "/v1/connections/" + id + "/events",
        "/v1/connections/" + id + "/calendars", "/v1/connections/" + id + "/sync",
        "/v1/connections/" + id + "/sync-runs", "/v1/events/" + event_id}) {
    EXPECT_EQ(this->Call("GET", path, "", other_key).status, 404) << path;
  }
  EXPECT_EQ(this->Call("POST", "/v1/connections/" + id + "/sync", "", other_key).status, 404);
  for (const std::string& query : std::vector<std::string>{"", "?connection_id=" + id}) {
    TestResponse feed = this->Call("GET", "/v1/changes" + query, "", other_key);
    EXPECT_EQ(feed.status, 200) << query;
    EXPECT_TRUE(feed.JsonBody()["data"].empty()) << query << " " << feed.body;
  }
  // The owner's feed filtered by the connection: only its changes (the run's and its events').
  TestResponse own =
      this->Call("GET", "/v1/changes?limit=1000&connection_id=" + id, "", this->key_);
  ASSERT_EQ(own.status, 200) << own.body;
  const Json own_feed = own.JsonBody()["data"];
  ASSERT_FALSE(own_feed.empty());
  for (const Json& change : own_feed) EXPECT_EQ(change["connection_id"], id);
  // Newest first, two at a time: the same changes in reverse, each once, and the other tenant's
  // key still reads nothing.
  std::vector<Json> newest;
  std::string before;
  for (int page = 0; page < 1000; ++page) {
    TestResponse r = this->Call("GET",
                                "/v1/changes?order=desc&limit=2&connection_id=" + id +
                                    (before.empty() ? "" : "&cursor=" + before),
                                "", this->key_);
    ASSERT_EQ(r.status, 200) << r.body;
    const Json body = r.JsonBody();
    for (const Json& change : body["data"]) newest.push_back(change);
    before = body["next_cursor"].get<std::string>();
    if (!body["has_more"].get<bool>()) break;
  }
  ASSERT_EQ(newest.size(), own_feed.size());
  for (size_t i = 0; i < newest.size(); ++i) {
    EXPECT_EQ(newest[i], own_feed[own_feed.size() - 1 - i]) << i;
  }
  TestResponse theirs = this->Call("GET", "/v1/changes?order=desc", "", other_key);
  EXPECT_EQ(theirs.status, 200);
  EXPECT_TRUE(theirs.JsonBody()["data"].empty()) << theirs.body;
  const std::string unknown = "01234567-89ab-7def-8123-456789abcdef";
  TestResponse none = this->Call("GET", "/v1/changes?connection_id=" + unknown, "", this->key_);
  EXPECT_EQ(none.status, 200);
  EXPECT_TRUE(none.JsonBody()["data"].empty()) << none.body;
}

// Bad requests get a clear 400, never a crash.
TYPED_TEST_P(SyncSuite, BadQueriesAreRefused) {
  const std::string id = this->Connect(SandboxOrigin::kGoogle);
  ASSERT_FALSE(id.empty());
  for (const std::string query :
       {"time_min=yesterday", "limit=0", "limit=100000", "cursor=abc", "expand_recurring=yes",
        "expand_recurring=true",
        "expand_recurring=true&time_min=2026-01-01T00:00:00Z&time_max=2028-01-01T00:00:00Z"}) {
    EXPECT_EQ(
        this->Call("GET", "/v1/connections/" + id + "/events?" + query, "", this->key_).status, 400)
        << query;
  }
  const std::vector<std::string> bad_feeds = {"cursor=-1",
                                              "cursor=x",
                                              "order=newest",
                                              "order=",
                                              "order=desc&cursor=-5",
                                              "types=EVENT",
                                              "limit=0",
                                              "connection_id=x",
                                              "connection_id=",
                                              "connection_id=" + id + "0",
                                              "connection_id=01234567-89AB-7DEF-8123-456789ABCDEF"};
  for (const std::string& query : bad_feeds) {
    EXPECT_EQ(this->Call("GET", "/v1/changes?" + query, "", this->key_).status, 400) << query;
  }
  EXPECT_EQ(
      this->Call("POST", "/v1/connections/" + id + "/sync", R"({"service":"fax"})", this->key_)
          .status,
      400);
  EXPECT_EQ(this->Call("GET", "/v1/sync-runs/not-a-run", "", this->key_).status, 404);
  EXPECT_EQ(
      this->Call("GET", "/v1/connections/" + id + "/sync-runs?cursor=x", "", this->key_).status,
      400);
}

// Push: a change at the provider reaches the host without asking (a channel per synced
// calendar, created after the initial run); forged and unknown notifications are refused and
// change nothing; Graph's handshake is answered; deleting the connection stops the channels.
TYPED_TEST_P(SyncSuite, PushBringsChangesAndForgeriesAreRefused) {
  const std::string id = this->ConnectWatched(20);
  ASSERT_FALSE(id.empty());
  std::string cursor = "0";
  this->Changes(cursor);

  this->Mutate(SandboxOrigin::kGoogle, 2, 0, 0, 21);
  std::map<std::string, int> changes = this->AwaitChanges(cursor, "event.created", 2);
  EXPECT_EQ(changes["event.created"], 2) << "the push did not bring the change";
  EXPECT_EQ(this->StoredEvents(id), this->GoogleEvents(id));

  // Forged and unknown notifications: refused, no run, no change.
  const std::string push = "/push/google/" + this->tenant_;
  auto notify = [&](const std::string& channel, const std::string& token) {
    return this->CallFrom("127.0.0.1", "POST", push, "", "",
                          {{"X-Goog-Channel-ID", channel},
                           {"X-Goog-Channel-Token", token},
                           {"X-Goog-Resource-ID", "r"},
                           {"X-Goog-Resource-State", "exists"},
                           {"X-Goog-Message-Number", "99"}});
  };
  EXPECT_EQ(notify("01234567-89ab-7def-8123-456789abcdef", "guess").status, 404);
  EXPECT_EQ(notify("not-a-channel", "guess").status, 400);
  EXPECT_EQ(this->Call("POST", "/push/google/" + this->tenant_).status, 400);
  // Graph's handshake, and a notification for no subscription.
  TestResponse handshake =
      this->Call("POST", "/push/microsoft/" + this->tenant_ + "?validationToken=abc%20123", "", "");
  EXPECT_EQ(handshake.status, 200);
  EXPECT_EQ(handshake.body, "abc 123");
  TestResponse graph = this->CallFrom(
      "127.0.0.1", "POST", "/push/microsoft/" + this->tenant_,
      R"({"value":[{"subscriptionId":"nope","clientState":"x","changeType":"updated"}]})", "",
      {{"Content-Type", "application/json"}});
  EXPECT_EQ(graph.status, 404);
  // The real channel: without its token it is a forgery; at another tenant's endpoint it does
  // not exist.
  std::vector<store::PushChannelRecord> channels;
  const TenantId tenant(this->tenant_);
  ASSERT_TRUE(this->app_->database()
                  .RunInTenant(tenant, store::TxMode::kReadOnly,
                               [&](store::Transaction& tx) -> Status {
                                 SB_ASSIGN_OR_RETURN(channels,
                                                     store::PushRepository().ListForConnection(
                                                         tx, tenant, ConnectionId(id)));
                                 return OkStatus();
                               })
                  .ok());
  ASSERT_FALSE(channels.empty());
  const store::PushChannelRecord& channel = channels.back();
  auto replay = [&](const std::string& at, const std::string& token) {
    return this->CallFrom("127.0.0.1", "POST", "/push/google/" + at, "", "",
                          {{"X-Goog-Channel-ID", channel.external_id},
                           {"X-Goog-Channel-Token", token},
                           {"X-Goog-Resource-ID", channel.resource_id},
                           {"X-Goog-Resource-State", "exists"},
                           {"X-Goog-Message-Number", "100000"}});
  };
  EXPECT_EQ(replay(this->tenant_, "not-the-token").status, 403);
  auto [other, other_key] = this->NewTenantWithKey(R"(["read","write"])");
  EXPECT_EQ(replay(other, "not-the-token").status, 404);
  auto after = this->Changes(cursor);
  EXPECT_EQ(after["sync.started"], 0) << "a refused notification started a run";

  // Deleting the connection stops its channel at the provider.
  EXPECT_EQ(this->Call("DELETE", "/v1/connections/" + id, "", this->key_).status, 204);
  auto log = this->sandbox_->Requests(SandboxOrigin::kGoogle, "/calendar/v3/channels/stop");
  ASSERT_TRUE(log.ok());
  EXPECT_GE(log->size(), 1u);
}

// Every notification delivered twice (the sandbox duplicates each push): the change is
// published once, in the feed and as one signed Standard Webhook per change (verified by our
// own code and by the standardwebhooks npm library), and a duplicate that finds nothing new
// publishes nothing.
// sync.push_delay_ms (1 s here): a push's run is due that long after the notification, and
// the notifications meanwhile join it: four changes, each pushed on its own, make one run that
// brings all four. (The test's clock stands still until the test moves it.)
TYPED_TEST_P(SyncSuite, PushBurstMakesOneRun) {
  const std::string id = this->ConnectWatched(5);
  ASSERT_FALSE(id.empty());
  std::string cursor = "0";
  this->Changes(cursor);
  auto push_runs = [&] {
    TestResponse r =
        this->Call("GET", "/v1/connections/" + id + "/sync-runs?limit=100", "", this->key_);
    EXPECT_EQ(r.status, 200) << r.body;
    const Json body = r.JsonBody();
    int n = 0;
    for (const Json& run : body["data"]) n += run.value("trigger", "") == "push" ? 1 : 0;
    return n;
  };
  const char* accepted = "sb_push_notifications_total{provider=\"google\",verdict=\"accepted\"}";
  const double accepted_before = this->Counter(accepted);
  const int runs_before = push_runs();
  for (uint64_t i = 0; i < 4; ++i) this->Mutate(SandboxOrigin::kGoogle, 1, 0, 0, 60 + i);
  for (int i = 0; i < 500 && this->Counter(accepted) < accepted_before + 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GE(this->Counter(accepted), accepted_before + 4);
  EXPECT_EQ(this->Changes(cursor)["event.created"], 0);  // nothing ran yet
  // Asking by hand meanwhile joins the queued run, and is on record with the caller as actor.
  TestResponse asked = this->Call("POST", "/v1/connections/" + id + "/sync",
                                  R"({"service":"calendar"})", this->key_);
  ASSERT_EQ(asked.status, 202) << asked.body;
  const Json audit =
      this->Call("GET", "/v1/audit?action=sync.request&order=desc&limit=1", "", this->key_)
          .JsonBody();
  ASSERT_EQ(audit["data"].size(), 1u) << audit;
  const Json& entry = audit["data"][0];
  EXPECT_EQ(entry["actor"]["kind"], "api_key") << entry;
  EXPECT_EQ(entry["target"], "sync_runs/" + asked.JsonBody().value("id", "")) << entry;
  EXPECT_EQ(entry["details"]["trigger"], "push") << entry;  // the run it joined
  EXPECT_EQ(entry["details"]["detail"], "joined the open run") << entry;
  EXPECT_FALSE(entry.value("request_id", "").empty()) << entry;
  this->clock_.Advance(std::chrono::seconds(2));
  EXPECT_EQ(this->AwaitChanges(cursor, "event.created", 4)["event.created"], 4);
  EXPECT_EQ(push_runs() - runs_before, 1);
  EXPECT_EQ(this->StoredEvents(id), this->GoogleEvents(id));
}

TYPED_TEST_P(SyncSuite, DuplicatedPushesPublishEachChangeOnce) {
  std::mutex mu;
  std::vector<net::testing::ServedRequest> received;
  net::testing::LoopbackHttpServer receiver([&](const net::testing::ServedRequest& r) {
    std::lock_guard lock(mu);
    received.push_back(r);
    return net::testing::ServedResponse{204, {}, "", false, ""};
  });
  ASSERT_TRUE(receiver.Start().ok());
  TestResponse endpoint = this->Call(
      "POST", "/v1/webhook-endpoints",
      Json{{"url", receiver.Url("/hooks")}, {"event_types", {"event.created"}}}.dump(), this->key_);
  ASSERT_EQ(endpoint.status, 201) << endpoint.body;
  const std::string secret = endpoint.JsonBody()["secret"];

  const std::string id = this->ConnectWatched(10);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(
      this->sandbox_->PutSettings(SandboxOrigin::kGoogle, Json{{"push_duplicate", true}}).ok());
  std::string cursor = "0";
  const int initial = this->Changes(cursor)["event.created"];
  ASSERT_GT(initial, 0);

  for (uint64_t round = 0; round < 3; ++round) {
    this->Mutate(SandboxOrigin::kGoogle, 2, 0, 0, 40 + round);
    EXPECT_EQ(this->AwaitChanges(cursor, "event.created", 2)["event.created"], 2);
  }
  // The sandbox did send each notification twice, and Switchboard saw the repeats.
  EXPECT_GE(this->Counter("sb_push_notifications_total{provider=\"google\",verdict=\"duplicate\"}"),
            3.0);
  const std::string metrics = this->Metrics().body;
  EXPECT_NE(metrics.find("sb_sync_lag_seconds_count{"), std::string::npos) << metrics;
  // Let any straggling duplicate run finish, then nothing more may have been published.
  Json last = this->SyncNow(id);
  EXPECT_EQ(last["items"]["created"], 0) << last;
  EXPECT_EQ(this->Changes(cursor)["event.created"], 0);
  EXPECT_EQ(this->StoredEvents(id), this->GoogleEvents(id));

  // One delivery per change, each verifiable with the endpoint's secret.
  const size_t expected = static_cast<size_t>(initial + 6);
  auto count = [&] {
    std::lock_guard lock(mu);
    return received.size();
  };
  for (int i = 0; i < 400 && count() < expected; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  std::lock_guard lock(mu);
  EXPECT_EQ(received.size(), expected);
  std::set<int64_t> seqs;
  for (const auto& r : received) {
    const Status verified = webhooks::Verify(
        {secret}, r.Header("webhook-id").value_or(""), r.Header("webhook-timestamp").value_or(""),
        r.Header("webhook-signature").value_or(""), r.body, this->clock_.Now());
    EXPECT_TRUE(verified.ok()) << verified.ToString();
    const Json body = Json::parse(r.body);
    EXPECT_EQ(body["type"], "event.created");
    seqs.insert(body["data"].value("change_seq", int64_t{0}));
  }
  EXPECT_EQ(seqs.size(), expected) << "a change was delivered twice";

  // And as a host app checks them: the real standardwebhooks library, at the server's clock.
  std::vector<webhooks::testing::ReceivedDelivery> deliveries;
  for (const auto& r : received) {
    deliveries.push_back({secret, std::string(r.Header("webhook-id").value_or("")),
                          std::string(r.Header("webhook-timestamp").value_or("")),
                          std::string(r.Header("webhook-signature").value_or("")), r.body});
  }
  auto verdicts = webhooks::testing::VerifyWithStandardWebhooks(
      deliveries,
      std::chrono::floor<std::chrono::seconds>(this->clock_.Now().time_since_epoch()).count());
  ASSERT_TRUE(verdicts.ok()) << verdicts.status().ToString();
  EXPECT_EQ(verdicts->exit_code, 0);
  EXPECT_EQ(verdicts->lines, std::vector<std::string>(expected, "ok"));
}

// Every push lost (the sandbox drops each notification): nothing arrives until the fallback
// interval has passed on the server's clock; then the scheduled run brings exactly the changes.
TYPED_TEST_P(SyncSuite, DroppedPushesAreCaughtUpByScheduledSync) {
  std::string cursor;
  const std::string id = this->ConnectUnpushed(10, cursor);
  ASSERT_FALSE(id.empty());

  this->Mutate(SandboxOrigin::kGoogle, 3, 0, 0, 77);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(this->Changes(cursor)["event.created"], 0) << "a dropped push still brought it";
  // sync.interval_seconds (900 by default) passes.
  this->clock_.Advance(std::chrono::seconds(901));
  auto changes = this->AwaitChanges(cursor, "event.created", 3);
  EXPECT_EQ(changes["event.created"], 3);
  EXPECT_EQ(changes["sync.started"], 1);
  const Json state = this->State(id);
  ASSERT_TRUE(state["last_run_id"].is_string()) << state;
  const Json run = this->AwaitRun(state["last_run_id"].get<std::string>());
  EXPECT_EQ(run["trigger"], "schedule") << run;
  EXPECT_EQ(run["status"], "succeeded") << run;
  EXPECT_EQ(this->StoredEvents(id), this->GoogleEvents(id));
}

REGISTER_TYPED_TEST_SUITE_P(
    SyncSuite, InitialSyncStoresTheProvidersEvents, IncrementalSyncBringsOnlyRealChanges,
    AnItemTheStoreRefusesIsSkippedAlone, DeletedSeriesTakesItsExceptions,
    PushChannelsRenewBeforeExpiry, ShortLivedChannelsRenewAtHalfLife,
    TwoTenantsPushAndScheduledSyncApart, GraphLifecycleEventsRenewRecreateAndResync,
    ExpiredSyncTokenResyncsWithoutDuplicates, RevokedGrantPausesUntilReconnect, GraphCalendarSyncs,
    OtherTenantsSeeNothing, BadQueriesAreRefused, PushBringsChangesAndForgeriesAreRefused,
    PushBurstMakesOneRun, DuplicatedPushesPublishEachChangeOnce,
    DroppedPushesAreCaughtUpByScheduledSync);

}  // namespace sb::app::testing
