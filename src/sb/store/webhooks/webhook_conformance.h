// Conformance suite of the webhook storage (WebhookEndpointRepository,
// WebhookDeliveryRepository), written once and instantiated per backend like
// repository_conformance.h: round trips and id-ordered paging, compare-and-set on the endpoint
// version (If-Match) and secret rotation fields, deliveries going with their endpoint, listing
// filters, the delivery lifecycle (attempts, retries, dead letters, manual retry), the outbox
// property, cross-tenant refusals (RLS-09), validation and corrupt rows (DATA_LOSS). Include in
// exactly one translation unit per test binary.
#pragma once

#include <algorithm>
#include <functional>
#include <iterator>
#include <random>
#include <type_traits>

#include <gtest/gtest.h>

#include "sb/store/testing/conformance_fixture.h"
#include "sb/store/webhooks/webhook_repository.h"

namespace sb::store::testing {

template <typename TestBackend>
class WebhookConformanceTest : public RepositoryConformanceTest<TestBackend> {
 protected:
  WebhookEndpointRecord Endpoint(const TenantId& tenant) {
    WebhookEndpointRecord r;
    r.tenant_id = tenant;
    r.id = WebhookEndpointId(this->ids_.NewUuid());
    r.url = "https://app.example/hooks/switchboard?team=7";
    r.description = "Production receiver — Zoë's team";
    r.event_types = {"connection.created", "connection.deleted"};
    r.created_at = this->clock_.Now();
    r.updated_at = r.created_at;
    return r;
  }

  WebhookDeliveryRecord Delivery(const TenantId& tenant, const WebhookEndpointId& endpoint,
                                 std::string event_type = "connection.created") {
    WebhookDeliveryRecord r;
    r.tenant_id = tenant;
    r.id = WebhookDeliveryId(this->ids_.NewUuid());
    r.endpoint_id = endpoint;
    r.event_id = "msg_" + HexEncode(this->random_.Bytes(16));
    r.event_type = std::move(event_type);
    // Kept byte for byte, spaces included: the signature covers exactly these bytes.
    r.payload = R"({ "type": "connection.created", "data": {"name": "Zoë 🎉", "n": 1.50} })";
    r.next_attempt_at = this->clock_.Now();
    r.job_id = JobId(this->ids_.NewUuid());
    r.created_at = this->clock_.Now();
    r.updated_at = r.created_at;
    return r;
  }

  Status PutEndpoint(const WebhookEndpointRecord& r) {
    return this->Call(r.tenant_id,
                      [&](Transaction& tx) { return endpoints_.Insert(tx, r.tenant_id, r); });
  }
  Status PutDelivery(const WebhookDeliveryRecord& r) {
    return this->Call(r.tenant_id,
                      [&](Transaction& tx) { return deliveries_.Insert(tx, r.tenant_id, r); });
  }

  std::optional<WebhookEndpointRecord> GetEndpoint(const TenantId& t, const WebhookEndpointId& id) {
    auto got = this->Call(t, [&](Transaction& tx) { return endpoints_.Get(tx, t, id); });
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? *got : std::nullopt;
  }
  std::optional<WebhookDeliveryRecord> GetDelivery(const TenantId& t, const WebhookDeliveryId& id) {
    auto got = this->Call(t, [&](Transaction& tx) { return deliveries_.Get(tx, t, id); });
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? *got : std::nullopt;
  }

  Result<std::optional<WebhookEndpointRecord>> Update(const WebhookEndpointRecord& r) {
    return this->Call(r.tenant_id,
                      [&](Transaction& tx) { return endpoints_.Update(tx, r.tenant_id, r); });
  }

  bool Record(const WebhookDeliveryRecord& d, const WebhookAttempt& attempt) {
    auto r = this->Call(d.tenant_id, [&](Transaction& tx) {
      return deliveries_.RecordAttempt(tx, d.tenant_id, d.id, attempt, this->clock_.Now());
    });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && *r;
  }

  bool Retry(const WebhookDeliveryRecord& d, const JobId& job) {
    auto r = this->Call(d.tenant_id, [&](Transaction& tx) {
      return deliveries_.MarkForRetry(tx, d.tenant_id, d.id, job, this->clock_.Now());
    });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && *r;
  }

  // Every endpoint of `tenant`, read in pages of `page`.
  std::vector<WebhookEndpointRecord> ListEndpoints(const TenantId& tenant, int page) {
    return ListAll<WebhookEndpointRecord>(page, [&](const auto& after, int limit) {
      return this->Call(tenant, [&](Transaction& tx) {
        std::optional<WebhookEndpointId> cursor;
        if (after) cursor = after->id;
        return endpoints_.List(tx, tenant, cursor, limit);
      });
    });
  }

  // Every delivery of `tenant` matching `filter`, read in pages of `page`.
  std::vector<WebhookDeliveryRecord> ListDeliveries(const TenantId& tenant,
                                                    const WebhookDeliveryFilter& filter, int page) {
    return ListAll<WebhookDeliveryRecord>(page, [&](const auto& after, int limit) {
      return this->Call(tenant, [&](Transaction& tx) {
        std::optional<WebhookDeliveryId> cursor;
        if (after) cursor = after->id;
        return deliveries_.List(tx, tenant, filter, cursor, limit);
      });
    });
  }

  template <typename Record, typename ListFn>
  std::vector<Record> ListAll(int page, ListFn list) {
    std::vector<Record> all;
    std::optional<Record> after;
    while (true) {
      Result<std::vector<Record>> batch = list(after, page);
      EXPECT_TRUE(batch.ok()) << batch.status().ToString();
      if (!batch.ok() || batch->empty()) return all;
      EXPECT_LE(batch->size(), static_cast<size_t>(page));
      after = batch->back();
      all.insert(all.end(), batch->begin(), batch->end());
    }
  }

  template <typename Record>
  static std::vector<Record> SortedById(std::vector<Record> records) {
    std::sort(records.begin(), records.end(), [](auto& x, auto& y) { return x.id < y.id; });
    return records;
  }

  // Writes `sql` (with $1 = tenant, $2 = id) to plant a malformed row.
  void Corrupt(const TenantId& tenant, const std::string& id, const std::string& sql) {
    Status s = this->InTenant(tenant, [&](Transaction& tx) {
      return tx.Execute(sql, {tenant.value(), id}).status();
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  WebhookEndpointRepository endpoints_;
  WebhookDeliveryRepository deliveries_;
};

TYPED_TEST_SUITE_P(WebhookConformanceTest);

TYPED_TEST_P(WebhookConformanceTest, EndpointsInsertGetListAndDelete) {
  const TenantId& a = this->a_;
  std::vector<WebhookEndpointRecord> all;
  for (int i = 0; i < 5; ++i) {
    WebhookEndpointRecord r = this->Endpoint(a);
    r.url = i == 0 ? "http://127.0.0.1:8080/hook" : r.url;  // plain http (tests, loopback)
    r.description = i == 1 ? "" : r.description;
    r.event_types = i == 2 ? std::vector<std::string>{} : r.event_types;  // every event type
    r.enabled = i != 3;
    r.secret_version = i + 1;
    if (i == 4) r.previous_secret_until = this->clock_.Now() + std::chrono::hours(24);
    all.push_back(r);
  }
  std::vector<WebhookEndpointRecord> shuffled = all;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(7));
  for (const auto& r : shuffled) ASSERT_TRUE(this->PutEndpoint(r).ok());
  ASSERT_TRUE(this->PutEndpoint(this->Endpoint(this->b_)).ok());  // noise
  all = this->SortedById(all);

  for (const auto& r : all) EXPECT_EQ(this->GetEndpoint(a, r.id), r);
  EXPECT_EQ(this->GetEndpoint(a, WebhookEndpointId(this->ids_.NewUuid())), std::nullopt);
  EXPECT_EQ(this->ListEndpoints(a, 2), all);
  EXPECT_EQ(this->ListEndpoints(a, 1000), all);
  EXPECT_EQ(this->ListEndpoints(this->b_, 10).size(), 1u);
  EXPECT_EQ(this->PutEndpoint(all[0]).code(), StatusCode::kAlreadyExists);

  auto deleted =
      this->Call(a, [&](Transaction& tx) { return this->endpoints_.Delete(tx, a, all[1].id); });
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_TRUE(*deleted);
  deleted =
      this->Call(a, [&](Transaction& tx) { return this->endpoints_.Delete(tx, a, all[1].id); });
  ASSERT_TRUE(deleted.ok());
  EXPECT_FALSE(*deleted);
  EXPECT_EQ(this->GetEndpoint(a, all[1].id), std::nullopt);
  all.erase(all.begin() + 1);
  EXPECT_EQ(this->ListEndpoints(a, 3), all);
  EXPECT_EQ(WebhookEndpointSecretOwner(all[0].id), "webhook_endpoint:" + all[0].id.value());
}

// If-Match: an update applies only to the version the caller read.
TYPED_TEST_P(WebhookConformanceTest, UpdateComparesAndIncrementsTheVersion) {
  const TenantId& a = this->a_;
  const WebhookEndpointRecord original = this->Endpoint(a);
  ASSERT_TRUE(this->PutEndpoint(original).ok());
  this->clock_.Advance(std::chrono::minutes(1));

  // A secret rotation: the previous secret keeps signing for a grace period (WH-03).
  WebhookEndpointRecord rotated = original;
  rotated.url = "https://app.example/hooks/v2";
  rotated.description = "rotated";
  rotated.event_types = {"connection.updated"};
  rotated.enabled = false;
  rotated.secret_version = 2;
  rotated.previous_secret_until = this->clock_.Now() + std::chrono::hours(24);
  rotated.updated_at = this->clock_.Now();
  rotated.created_at = this->clock_.Now();  // ignored: created_at is kept
  auto updated = this->Update(rotated);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  ASSERT_TRUE(updated->has_value());
  WebhookEndpointRecord expected = rotated;
  expected.created_at = original.created_at;
  expected.version = 2;
  EXPECT_EQ(**updated, expected);
  EXPECT_EQ(this->GetEndpoint(a, original.id), expected);

  // A writer still holding version 1 loses, and changes nothing.
  WebhookEndpointRecord stale = original;
  stale.url = "https://attacker.example/";
  updated = this->Update(stale);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(*updated, std::nullopt);
  EXPECT_EQ(this->GetEndpoint(a, original.id), expected);

  // The grace period ends: back to one secret.
  WebhookEndpointRecord settled = expected;
  settled.previous_secret_until = std::nullopt;
  settled.enabled = true;
  updated = this->Update(settled);
  ASSERT_TRUE(updated.ok() && updated->has_value());
  EXPECT_EQ((*updated)->version, 3);
  EXPECT_EQ((*updated)->previous_secret_until, std::nullopt);
  EXPECT_TRUE((*updated)->enabled);

  WebhookEndpointRecord unknown = this->Endpoint(a);
  updated = this->Update(unknown);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(*updated, std::nullopt);
}

TYPED_TEST_P(WebhookConformanceTest, DeliveriesGoWithTheirEndpoint) {
  const TenantId& a = this->a_;
  WebhookEndpointRecord doomed = this->Endpoint(a);
  WebhookEndpointRecord kept = this->Endpoint(a);
  ASSERT_TRUE(this->PutEndpoint(doomed).ok());
  ASSERT_TRUE(this->PutEndpoint(kept).ok());
  std::vector<WebhookDeliveryRecord> gone = {this->Delivery(a, doomed.id),
                                             this->Delivery(a, doomed.id)};
  WebhookDeliveryRecord stays = this->Delivery(a, kept.id);
  for (const auto& d : gone) ASSERT_TRUE(this->PutDelivery(d).ok());
  ASSERT_TRUE(this->PutDelivery(stays).ok());
  ASSERT_TRUE(this->Record(gone[0], {WebhookDeliveryState::kDead, 500, "boom", std::nullopt}));

  auto deleted =
      this->Call(a, [&](Transaction& tx) { return this->endpoints_.Delete(tx, a, doomed.id); });
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_TRUE(*deleted);
  for (const auto& d : gone) EXPECT_EQ(this->GetDelivery(a, d.id), std::nullopt);
  EXPECT_EQ(this->ListDeliveries(a, {}, 10), std::vector{stays});
  // A delivery needs its endpoint.
  EXPECT_EQ(this->PutDelivery(this->Delivery(a, doomed.id)).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(this->PutDelivery(this->Delivery(a, WebhookEndpointId(this->ids_.NewUuid()))).code(),
            StatusCode::kFailedPrecondition);
}

TYPED_TEST_P(WebhookConformanceTest, DeliveriesListByEndpointStateAndEventTypeInIdOrder) {
  const TenantId& a = this->a_;
  WebhookEndpointRecord e1 = this->Endpoint(a);
  WebhookEndpointRecord e2 = this->Endpoint(a);
  ASSERT_TRUE(this->PutEndpoint(e1).ok());
  ASSERT_TRUE(this->PutEndpoint(e2).ok());
  const std::vector<std::string> types = {"connection.created", "connection.deleted",
                                          "connection.reauthorization_required"};
  std::vector<WebhookDeliveryRecord> all;
  for (int i = 0; i < 9; ++i) {
    all.push_back(this->Delivery(a, i % 2 == 0 ? e1.id : e2.id, types[i % 3]));
    if (i == 4) all.back().payload = "{}";
  }
  std::vector<WebhookDeliveryRecord> shuffled = all;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(11));
  for (const auto& d : shuffled) ASSERT_TRUE(this->PutDelivery(d).ok());
  WebhookEndpointRecord b_endpoint = this->Endpoint(this->b_);
  ASSERT_TRUE(this->PutEndpoint(b_endpoint).ok());
  ASSERT_TRUE(this->PutDelivery(this->Delivery(this->b_, b_endpoint.id)).ok());  // noise
  // Three of them have finished: succeeded, failed for good, dead.
  const std::vector<WebhookDeliveryState> ends = {
      WebhookDeliveryState::kSucceeded, WebhookDeliveryState::kFailed, WebhookDeliveryState::kDead};
  for (int i = 0; i < 3; ++i) {
    WebhookAttempt attempt{ends[i], 200 + i * 100, i == 0 ? "" : "no", std::nullopt};
    ASSERT_TRUE(this->Record(all[i], attempt));
    all[i].state = ends[i];
    all[i].attempts = 1;
    all[i].last_status_code = attempt.status_code;
    all[i].last_error = attempt.error;
    all[i].next_attempt_at = std::nullopt;
  }
  all = this->SortedById(all);

  for (const auto& d : all) EXPECT_EQ(this->GetDelivery(a, d.id), d);
  EXPECT_EQ(this->GetDelivery(a, WebhookDeliveryId(this->ids_.NewUuid())), std::nullopt);
  auto matching = [&](const std::function<bool(const WebhookDeliveryRecord&)>& pred) {
    std::vector<WebhookDeliveryRecord> out;
    std::copy_if(all.begin(), all.end(), std::back_inserter(out), pred);
    return out;
  };
  EXPECT_EQ(this->ListDeliveries(a, {}, 2), all);
  EXPECT_EQ(this->ListDeliveries(a, {.endpoint_id = e2.id}, 2),
            matching([&](const auto& d) { return d.endpoint_id == e2.id; }));
  EXPECT_EQ(this->ListDeliveries(a, {.state = WebhookDeliveryState::kPending}, 4),
            matching([](const auto& d) { return d.state == WebhookDeliveryState::kPending; }));
  EXPECT_EQ(this->ListDeliveries(a, {.state = WebhookDeliveryState::kDead}, 4).size(), 1u);
  EXPECT_EQ(this->ListDeliveries(a, {.event_type = "connection.deleted"}, 2),
            matching([](const auto& d) { return d.event_type == "connection.deleted"; }));
  const WebhookDeliveryFilter all_three{e1.id, WebhookDeliveryState::kPending,
                                        "connection.created"};
  const auto narrowed = this->ListDeliveries(a, all_three, 1);
  EXPECT_EQ(narrowed, matching([&](const auto& d) {
              return d.endpoint_id == e1.id && d.state == WebhookDeliveryState::kPending &&
                     d.event_type == "connection.created";
            }));
  EXPECT_FALSE(narrowed.empty());
  EXPECT_TRUE(this->ListDeliveries(a, {.event_type = "sync.completed"}, 10).empty());
  EXPECT_EQ(this->ListDeliveries(this->b_, {}, 10).size(), 1u);
}

TYPED_TEST_P(WebhookConformanceTest, OneDeliveryPerEventAndEndpoint) {
  const TenantId& a = this->a_;
  WebhookEndpointRecord e1 = this->Endpoint(a);
  WebhookEndpointRecord e2 = this->Endpoint(a);
  ASSERT_TRUE(this->PutEndpoint(e1).ok());
  ASSERT_TRUE(this->PutEndpoint(e2).ok());
  WebhookDeliveryRecord d = this->Delivery(a, e1.id);
  ASSERT_TRUE(this->PutDelivery(d).ok());
  EXPECT_EQ(this->PutDelivery(d).code(), StatusCode::kAlreadyExists);  // same id
  WebhookDeliveryRecord again = this->Delivery(a, e1.id);
  again.event_id = d.event_id;  // the same event fanned out twice to the same endpoint
  EXPECT_EQ(this->PutDelivery(again).code(), StatusCode::kAlreadyExists);
  WebhookDeliveryRecord other_endpoint = this->Delivery(a, e2.id);
  other_endpoint.event_id = d.event_id;  // the same event to another endpoint is fine
  EXPECT_TRUE(this->PutDelivery(other_endpoint).ok());
}

// The outbox: a delivery inserted in a transaction that rolls back never existed.
TYPED_TEST_P(WebhookConformanceTest, InsertIsPartOfTheCallersTransaction) {
  const TenantId& a = this->a_;
  WebhookEndpointRecord e = this->Endpoint(a);
  ASSERT_TRUE(this->PutEndpoint(e).ok());
  WebhookDeliveryRecord d = this->Delivery(a, e.id);
  Status s = this->InTenant(a, [&](Transaction& tx) -> Status {
    SB_RETURN_IF_ERROR(this->deliveries_.Insert(tx, a, d));
    return AbortedError("the change that caused the event failed");
  });
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  EXPECT_EQ(this->GetDelivery(a, d.id), std::nullopt);
  EXPECT_TRUE(this->PutDelivery(d).ok());
}

// Attempts on a pending delivery, then the end; a manual retry starts it over (WH-04).
TYPED_TEST_P(WebhookConformanceTest, AttemptsRetriesAndManualRetry) {
  const TenantId& a = this->a_;
  WebhookEndpointRecord e = this->Endpoint(a);
  ASSERT_TRUE(this->PutEndpoint(e).ok());
  WebhookDeliveryRecord d = this->Delivery(a, e.id);
  ASSERT_TRUE(this->PutDelivery(d).ok());

  this->clock_.Advance(std::chrono::seconds(1));
  const Timestamp retry_at = this->clock_.Now() + std::chrono::seconds(5);
  ASSERT_TRUE(this->Record(d, {WebhookDeliveryState::kPending, 503, "unavailable", retry_at}));
  WebhookDeliveryRecord expected = d;
  expected.attempts = 1;
  expected.last_status_code = 503;
  expected.last_error = "unavailable";
  expected.next_attempt_at = retry_at;
  expected.updated_at = this->clock_.Now();
  EXPECT_EQ(this->GetDelivery(a, d.id), expected);

  // No answer at all (a timeout); the error is cut at 2048 bytes, never inside a character.
  this->clock_.Advance(std::chrono::seconds(5));
  std::string long_error = std::string(2047, 'x') + "é and more";
  ASSERT_TRUE(
      this->Record(d, {WebhookDeliveryState::kPending, std::nullopt, long_error, retry_at}));
  auto got = this->GetDelivery(a, d.id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->attempts, 2);
  EXPECT_EQ(got->last_status_code, std::nullopt);
  EXPECT_EQ(got->last_error, std::string(2047, 'x'));

  this->clock_.Advance(std::chrono::seconds(5));
  ASSERT_TRUE(this->Record(d, {WebhookDeliveryState::kSucceeded, 204, "", std::nullopt}));
  expected.state = WebhookDeliveryState::kSucceeded;
  expected.attempts = 3;
  expected.last_status_code = 204;
  expected.last_error = "";
  expected.next_attempt_at = std::nullopt;
  expected.updated_at = this->clock_.Now();
  EXPECT_EQ(this->GetDelivery(a, d.id), expected);
  // A repeated run cannot record past the end.
  EXPECT_FALSE(this->Record(d, {WebhookDeliveryState::kDead, 500, "late", std::nullopt}));
  EXPECT_EQ(this->GetDelivery(a, d.id), expected);

  // POST /v1/webhook-deliveries/{id}/retry: pending again, carried by a new job.
  this->clock_.Advance(std::chrono::minutes(1));
  const JobId job(this->ids_.NewUuid());
  ASSERT_TRUE(this->Retry(d, job));
  expected.state = WebhookDeliveryState::kPending;
  expected.job_id = job;
  expected.next_attempt_at = this->clock_.Now();
  expected.updated_at = this->clock_.Now();
  EXPECT_EQ(this->GetDelivery(a, d.id), expected);            // attempts and the last outcome kept
  EXPECT_FALSE(this->Retry(d, JobId(this->ids_.NewUuid())));  // already pending
  EXPECT_EQ(this->GetDelivery(a, d.id), expected);

  // Given up: failed for good (e.g. 410 Gone) and dead (out of attempts) can be retried too.
  for (auto end : {WebhookDeliveryState::kFailed, WebhookDeliveryState::kDead}) {
    ASSERT_TRUE(this->Record(d, {end, 410, "gone", std::nullopt}));
    EXPECT_EQ(this->GetDelivery(a, d.id)->state, end);
    ASSERT_TRUE(this->Retry(d, job));
  }
  EXPECT_EQ(this->GetDelivery(a, d.id)->attempts, 5);

  WebhookDeliveryRecord unknown = this->Delivery(a, e.id);
  EXPECT_FALSE(this->Record(unknown, {WebhookDeliveryState::kSucceeded, 200, "", std::nullopt}));
  EXPECT_FALSE(this->Retry(unknown, job));
}

// RLS-09: tenant A's transaction never reaches B's endpoints or deliveries.
TYPED_TEST_P(WebhookConformanceTest, CrossTenantAccessIsRefused) {
  const TenantId& a = this->a_;
  const TenantId& b = this->b_;
  WebhookEndpointRecord endpoint = this->Endpoint(b);
  ASSERT_TRUE(this->PutEndpoint(endpoint).ok());
  WebhookDeliveryRecord delivery = this->Delivery(b, endpoint.id);
  ASSERT_TRUE(this->PutDelivery(delivery).ok());
  const Timestamp now = this->clock_.Now();
  const JobId job(this->ids_.NewUuid());
  const WebhookAttempt done{WebhookDeliveryState::kSucceeded, 200, "", std::nullopt};
  for (const auto& call : std::vector<std::function<Status(Transaction&)>>{
           [&](Transaction& tx) { return this->endpoints_.Insert(tx, b, endpoint); },
           [&](Transaction& tx) { return this->endpoints_.Get(tx, b, endpoint.id).status(); },
           [&](Transaction& tx) { return this->endpoints_.List(tx, b, std::nullopt, 10).status(); },
           [&](Transaction& tx) { return this->endpoints_.Update(tx, b, endpoint).status(); },
           [&](Transaction& tx) { return this->endpoints_.Delete(tx, b, endpoint.id).status(); },
           [&](Transaction& tx) { return this->deliveries_.Insert(tx, b, delivery); },
           [&](Transaction& tx) { return this->deliveries_.Get(tx, b, delivery.id).status(); },
           [&](Transaction& tx) {
             return this->deliveries_.List(tx, b, {}, std::nullopt, 10).status();
           },
           [&](Transaction& tx) {
             return this->deliveries_.RecordAttempt(tx, b, delivery.id, done, now).status();
           },
           [&](Transaction& tx) {
             return this->deliveries_.MarkForRetry(tx, b, delivery.id, job, now).status();
           }}) {
    EXPECT_EQ(this->InTenant(a, call).code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(this->db_->RunUnscoped(call).code(), StatusCode::kPermissionDenied);
  }
  // Asked as A for A, B's rows do not exist.
  Status s = this->InTenant(a, [&](Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(auto got_endpoint, this->endpoints_.Get(tx, a, endpoint.id));
    EXPECT_EQ(got_endpoint, std::nullopt);
    WebhookEndpointRecord forged = endpoint;
    forged.tenant_id = a;
    forged.url = "https://attacker.example/";
    SB_ASSIGN_OR_RETURN(got_endpoint, this->endpoints_.Update(tx, a, forged));
    EXPECT_EQ(got_endpoint, std::nullopt);
    SB_ASSIGN_OR_RETURN(bool changed, this->endpoints_.Delete(tx, a, endpoint.id));
    EXPECT_FALSE(changed);
    SB_ASSIGN_OR_RETURN(auto got_delivery, this->deliveries_.Get(tx, a, delivery.id));
    EXPECT_EQ(got_delivery, std::nullopt);
    SB_ASSIGN_OR_RETURN(changed, this->deliveries_.RecordAttempt(tx, a, delivery.id, done, now));
    EXPECT_FALSE(changed);
    SB_ASSIGN_OR_RETURN(changed, this->deliveries_.MarkForRetry(tx, a, delivery.id, job, now));
    EXPECT_FALSE(changed);
    SB_ASSIGN_OR_RETURN(auto endpoints, this->endpoints_.List(tx, a, std::nullopt, 100));
    EXPECT_TRUE(endpoints.empty());
    SB_ASSIGN_OR_RETURN(auto deliveries, this->deliveries_.List(tx, a, {.endpoint_id = endpoint.id},
                                                                std::nullopt, 100));
    EXPECT_TRUE(deliveries.empty());
    if constexpr (TypeParam::kHasRowLevelSecurity) {
      // Without any tenant filter in the SQL, RLS still hides B's rows.
      for (const char* sql :
           {"SELECT id FROM webhook_endpoints", "SELECT id FROM webhook_deliveries"}) {
        SB_ASSIGN_OR_RETURN(auto rows, tx.Query(sql));
        EXPECT_TRUE(rows.empty()) << sql;
      }
    }
    return OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  // A's own delivery cannot point at B's endpoint: the foreign key includes the tenant.
  WebhookDeliveryRecord cross = this->Delivery(a, endpoint.id);
  EXPECT_EQ(this->PutDelivery(cross).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(this->GetEndpoint(b, endpoint.id), endpoint);
  EXPECT_EQ(this->GetDelivery(b, delivery.id), delivery);
}

TYPED_TEST_P(WebhookConformanceTest, RejectsMalformedInput) {
  const TenantId& a = this->a_;
  auto invalid = [&](const std::function<Status(Transaction&)>& call, const std::string& what) {
    EXPECT_EQ(this->InTenant(a, call).code(), StatusCode::kInvalidArgument) << what;
  };
  WebhookEndpointRecord endpoint = this->Endpoint(a);
  ASSERT_TRUE(this->PutEndpoint(endpoint).ok());
  std::vector<std::pair<std::string, std::function<void(WebhookEndpointRecord&)>>> endpoints = {
      {"id", [](auto& r) { r.id = WebhookEndpointId("nope"); }},
      {"ftp url", [](auto& r) { r.url = "ftp://app.example/hook"; }},
      {"relative url", [](auto& r) { r.url = "/hook"; }},
      {"no host", [](auto& r) { r.url = "https:///hook"; }},
      {"empty url", [](auto& r) { r.url = ""; }},
      {"url with space", [](auto& r) { r.url = "https://app.example/a b"; }},
      {"long url", [](auto& r) { r.url = "https://app.example/" + std::string(2029, 'u'); }},
      {"description control", [](auto& r) { r.description = "a\nb"; }},
      {"description UTF-8", [](auto& r) { r.description = "\xc3"; }},
      {"long description", [](auto& r) { r.description = std::string(1025, 'd'); }},
      {"empty event type", [](auto& r) { r.event_types = {""}; }},
      {"event type space", [](auto& r) { r.event_types = {"connection created"}; }},
      {"event type dash", [](auto& r) { r.event_types = {"connection-created"}; }},
      {"long event type", [](auto& r) { r.event_types = {std::string(129, 'e')}; }},
      {"event type twice",
       [](auto& r) {
         r.event_types = {"a.b", "a.b"};
       }},
      {"101 event types",
       [](auto& r) {
         r.event_types.clear();
         for (int i = 0; i < 101; ++i) r.event_types.push_back("t" + std::to_string(i));
       }},
      {"secret version", [](auto& r) { r.secret_version = 0; }},
      {"version", [](auto& r) { r.version = 0; }},
      {"other tenant", [&](auto& r) { r.tenant_id = this->b_; }}};
  for (auto& [what, mutate] : endpoints) {
    WebhookEndpointRecord r = this->Endpoint(a);
    mutate(r);
    invalid([&](Transaction& tx) { return this->endpoints_.Insert(tx, a, r); }, "insert " + what);
    WebhookEndpointRecord u = endpoint;
    mutate(u);
    invalid([&](Transaction& tx) { return this->endpoints_.Update(tx, a, u).status(); },
            "update " + what);
  }
  WebhookEndpointRecord second_version = this->Endpoint(a);
  second_version.version = 2;
  invalid([&](Transaction& tx) { return this->endpoints_.Insert(tx, a, second_version); },
          "insert version 2");
  WebhookEndpointRecord edge = this->Endpoint(a);  // the limits themselves are fine
  edge.url = "HTTPS://app.example/" + std::string(2028, 'u');
  edge.description = std::string(1024, 'd');
  edge.event_types.clear();
  for (int i = 0; i < 100; ++i) edge.event_types.push_back("t_" + std::to_string(i) + ".x");
  edge.event_types.back() = std::string(128, 'e');
  ASSERT_TRUE(this->PutEndpoint(edge).ok());
  EXPECT_EQ(this->GetEndpoint(a, edge.id), edge);

  const Timestamp now = this->clock_.Now();
  std::vector<std::pair<std::string, std::function<void(WebhookDeliveryRecord&)>>> deliveries = {
      {"id", [](auto& r) { r.id = WebhookDeliveryId(""); }},
      {"endpoint id", [](auto& r) { r.endpoint_id = WebhookEndpointId("x"); }},
      {"empty event id", [](auto& r) { r.event_id = ""; }},
      {"event id with dot", [](auto& r) { r.event_id = "msg.1"; }},
      {"event id with dash", [](auto& r) { r.event_id = "msg-1"; }},
      {"long event id", [](auto& r) { r.event_id = std::string(257, 'm'); }},
      {"event type", [](auto& r) { r.event_type = "Connection Created"; }},
      {"payload not JSON", [](auto& r) { r.payload = "{not json"; }},
      {"payload array", [](auto& r) { r.payload = "[]"; }},
      {"payload empty", [](auto& r) { r.payload = ""; }},
      {"payload UTF-8", [](auto& r) { r.payload = "{\"k\": \"\xc3\"}"; }},
      {"payload size",
       [](auto& r) { r.payload = "{\"k\": \"" + std::string(64 * 1024, 'p') + "\"}"; }},
      {"state", [](auto& r) { r.state = WebhookDeliveryState::kSucceeded; }},
      {"unknown state", [](auto& r) { r.state = static_cast<WebhookDeliveryState>(42); }},
      {"attempts", [](auto& r) { r.attempts = 1; }},
      {"status code", [](auto& r) { r.last_status_code = 200; }},
      {"last error", [](auto& r) { r.last_error = "x"; }},
      {"no next attempt", [](auto& r) { r.next_attempt_at = std::nullopt; }},
      {"job id", [](auto& r) { r.job_id = JobId("job"); }},
      {"other tenant", [&](auto& r) { r.tenant_id = this->b_; }}};
  for (auto& [what, mutate] : deliveries) {
    WebhookDeliveryRecord r = this->Delivery(a, endpoint.id);
    mutate(r);
    invalid([&](Transaction& tx) { return this->deliveries_.Insert(tx, a, r); }, what);
  }
  WebhookDeliveryRecord max = this->Delivery(a, endpoint.id);
  max.event_id = std::string(256, 'm');
  max.event_type = std::string(128, 'e');
  max.payload = "{\"k\":\"" + std::string(64 * 1024 - 8, 'p') + "\"}";
  ASSERT_TRUE(this->PutDelivery(max).ok());
  EXPECT_EQ(this->GetDelivery(a, max.id), max);

  invalid([&](Transaction& tx) { return this->endpoints_.Get(tx, a, {}).status(); }, "get");
  invalid([&](Transaction& tx) { return this->endpoints_.Delete(tx, a, {}).status(); }, "delete");
  invalid([&](Transaction& tx) { return this->endpoints_.List(tx, a, std::nullopt, 0).status(); },
          "endpoint limit 0");
  invalid(
      [&](Transaction& tx) { return this->endpoints_.List(tx, a, std::nullopt, 1001).status(); },
      "endpoint limit 1001");
  invalid(
      [&](Transaction& tx) {
        return this->endpoints_.List(tx, a, WebhookEndpointId("x"), 10).status();
      },
      "endpoint cursor");
  invalid([&](Transaction& tx) { return this->deliveries_.Get(tx, a, {}).status(); },
          "delivery get");
  auto list = [&](const WebhookDeliveryFilter& filter, std::optional<WebhookDeliveryId> after,
                  int limit) {
    return [=, this](Transaction& tx) {
      return this->deliveries_.List(tx, a, filter, after, limit).status();
    };
  };
  invalid(list({}, std::nullopt, 0), "delivery limit 0");
  invalid(list({}, std::nullopt, 1001), "delivery limit 1001");
  invalid(list({}, WebhookDeliveryId("x"), 10), "delivery cursor");
  invalid(list({.endpoint_id = WebhookEndpointId("x")}, std::nullopt, 10), "filter endpoint");
  invalid(list({.state = static_cast<WebhookDeliveryState>(42)}, std::nullopt, 10), "filter state");
  invalid(list({.event_type = "a b"}, std::nullopt, 10), "filter event type");

  auto record = [&](const WebhookAttempt& attempt, WebhookDeliveryId id) {
    return [=, this](Transaction& tx) {
      return this->deliveries_.RecordAttempt(tx, a, id, attempt, now).status();
    };
  };
  using S = WebhookDeliveryState;
  invalid(record({S::kPending, 503, "x", std::nullopt}, max.id), "pending without next");
  invalid(record({S::kSucceeded, 200, "", now}, max.id), "succeeded with next");
  invalid(record({static_cast<S>(42), 200, "", std::nullopt}, max.id), "unknown state");
  invalid(record({S::kFailed, 99, "", std::nullopt}, max.id), "status 99");
  invalid(record({S::kFailed, 600, "", std::nullopt}, max.id), "status 600");
  invalid(record({S::kFailed, 500, "\xff", std::nullopt}, max.id), "error not UTF-8");
  invalid(record({S::kFailed, 500, "", std::nullopt}, WebhookDeliveryId("x")), "attempt id");
  invalid(
      [&](Transaction& tx) {
        return this->deliveries_.MarkForRetry(tx, a, max.id, JobId("x"), now).status();
      },
      "retry job id");
  invalid(
      [&](Transaction& tx) {
        return this->deliveries_.MarkForRetry(tx, a, {}, JobId(this->ids_.NewUuid()), now).status();
      },
      "retry id");
  EXPECT_EQ(this->GetDelivery(a, max.id), max);  // nothing changed
}

TYPED_TEST_P(WebhookConformanceTest, CorruptRowsAreDataLoss) {
  const TenantId& a = this->a_;
  WebhookEndpointRecord endpoint = this->Endpoint(a);
  ASSERT_TRUE(this->PutEndpoint(endpoint).ok());
  WebhookDeliveryRecord delivery = this->Delivery(a, endpoint.id);
  ASSERT_TRUE(this->PutDelivery(delivery).ok());
  auto code = [&](const std::function<Status(Transaction&)>& call) {
    return this->InTenant(a, call).code();
  };
  for (const char* sql :
       {"UPDATE webhook_endpoints SET event_types = '{not json' WHERE tenant_id = $1 AND id = $2",
        "UPDATE webhook_endpoints SET event_types = '[1]' WHERE tenant_id = $1 AND id = $2",
        "UPDATE webhook_endpoints SET event_types = '[]', url = 'nope' WHERE tenant_id = $1 AND "
        "id = $2"}) {
    this->Corrupt(a, endpoint.id.value(), sql);
    EXPECT_EQ(
        code([&](Transaction& tx) { return this->endpoints_.Get(tx, a, endpoint.id).status(); }),
        StatusCode::kDataLoss)
        << sql;
    EXPECT_EQ(code([&](Transaction& tx) {
                return this->endpoints_.List(tx, a, std::nullopt, 10).status();
              }),
              StatusCode::kDataLoss)
        << sql;
  }
  for (const char* sql :
       {"UPDATE webhook_deliveries SET payload = '[1]' WHERE tenant_id = $1 AND id = $2",
        "UPDATE webhook_deliveries SET payload = '{}', event_id = 'a.b' WHERE tenant_id = $1 AND "
        "id = $2",
        "UPDATE webhook_deliveries SET event_id = 'ok', event_type = 'Bad Type' WHERE "
        "tenant_id = $1 AND id = $2",
        "UPDATE webhook_deliveries SET event_type = 'ok', next_attempt_at = NULL WHERE "
        "tenant_id = $1 AND id = $2"}) {
    this->Corrupt(a, delivery.id.value(), sql);
    EXPECT_EQ(
        code([&](Transaction& tx) { return this->deliveries_.Get(tx, a, delivery.id).status(); }),
        StatusCode::kDataLoss)
        << sql;
    EXPECT_EQ(code([&](Transaction& tx) {
                return this->deliveries_.List(tx, a, {}, std::nullopt, 10).status();
              }),
              StatusCode::kDataLoss)
        << sql;
  }
}

// Endpoint health (WH-04) and concurrency (WH-05): the new columns round-trip; failures start
// the clock once, a success stops it, only an endpoint failing long enough is disabled, and
// only once; Update keeps the health fields and none of the health calls moves the version.
TYPED_TEST_P(WebhookConformanceTest, EndpointHealthAndConcurrency) {
  using std::chrono::hours;
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  const TenantId& a = this->a_;
  WebhookEndpointRecord manual = this->Endpoint(a);
  manual.enabled = false;
  manual.disabled_reason = "manual";
  manual.max_concurrency = 64;
  manual.failing_since = this->clock_.Now() - hours(3);
  manual.last_success_at = this->clock_.Now() - hours(4);
  ASSERT_TRUE(this->PutEndpoint(manual).ok());
  EXPECT_EQ(this->GetEndpoint(a, manual.id), manual);

  WebhookEndpointRecord e = this->Endpoint(a);
  e.max_concurrency = 1;
  ASSERT_TRUE(this->PutEndpoint(e).ok());
  EXPECT_EQ(this->GetEndpoint(a, e.id), e);
  auto call = [&](auto fn) { return this->Call(a, fn); };
  auto failure = [&](Timestamp at) {
    return call([&](Transaction& tx) { return this->endpoints_.RecordFailure(tx, a, e.id, at); });
  };
  auto success = [&](Timestamp at) {
    return call([&](Transaction& tx) { return this->endpoints_.RecordSuccess(tx, a, e.id, at); });
  };
  auto disable = [&](Timestamp failing_before) {
    return call([&](Transaction& tx) {
      return this->endpoints_.DisableIfFailingSince(tx, a, e.id, failing_before, "failing",
                                                    this->clock_.Now());
    });
  };

  const Timestamp t1 = this->clock_.Now();
  ASSERT_TRUE(*failure(t1));
  ASSERT_TRUE(*failure(t1 + hours(1)));  // still failing since t1
  auto got = this->GetEndpoint(a, e.id);
  EXPECT_EQ(got->failing_since, t1);
  EXPECT_EQ(got->last_success_at, std::nullopt);
  EXPECT_EQ(got->version, 1);
  EXPECT_FALSE(*disable(t1 - seconds(1)));  // not failing long enough
  EXPECT_TRUE(this->GetEndpoint(a, e.id)->enabled);

  // A success stops the clock; the next failure starts it again.
  const Timestamp t2 = t1 + hours(2);
  ASSERT_TRUE(*success(t2));
  got = this->GetEndpoint(a, e.id);
  EXPECT_EQ(got->failing_since, std::nullopt);
  EXPECT_EQ(got->last_success_at, t2);
  ASSERT_TRUE(*success(t2 + milliseconds(500)));  // within the resolution: no write
  EXPECT_EQ(this->GetEndpoint(a, e.id)->last_success_at, t2);
  ASSERT_TRUE(*success(t2 + seconds(2)));
  EXPECT_EQ(this->GetEndpoint(a, e.id)->last_success_at, t2 + seconds(2));
  const Timestamp t3 = t2 + hours(1);
  ASSERT_TRUE(*failure(t3));
  EXPECT_FALSE(*disable(t1));  // failing since t3 only
  this->clock_.Advance(hours(1));
  EXPECT_TRUE(*disable(t3));
  EXPECT_FALSE(*disable(t3));  // once
  got = this->GetEndpoint(a, e.id);
  EXPECT_FALSE(got->enabled);
  EXPECT_EQ(got->disabled_reason, "failing");
  EXPECT_EQ(got->version, 2);
  EXPECT_EQ(got->updated_at, this->clock_.Now());
  EXPECT_EQ(got->failing_since, t3);
  EXPECT_EQ(got->last_success_at, t2 + seconds(2));

  // Update writes reason and max_concurrency but keeps the health fields.
  WebhookEndpointRecord next = *got;
  next.enabled = true;
  next.disabled_reason = "";
  next.max_concurrency = 7;
  next.failing_since = std::nullopt;
  next.last_success_at = t1;
  auto updated = this->Update(next);
  ASSERT_TRUE(updated.ok() && updated->has_value()) << updated.status().ToString();
  EXPECT_TRUE((*updated)->enabled);
  EXPECT_EQ((*updated)->disabled_reason, "");
  EXPECT_EQ((*updated)->max_concurrency, 7);
  EXPECT_EQ((*updated)->failing_since, t3);
  EXPECT_EQ((*updated)->last_success_at, t2 + seconds(2));
  ASSERT_TRUE(
      call([&](Transaction& tx) { return this->endpoints_.ClearFailing(tx, a, e.id); }).ok());
  EXPECT_EQ(this->GetEndpoint(a, e.id)->failing_since, std::nullopt);
  EXPECT_EQ(this->GetEndpoint(a, e.id)->version, 3);

  // Unknown endpoints, other tenants and bad arguments.
  const WebhookEndpointId unknown(this->ids_.NewUuid());
  EXPECT_FALSE(
      *call([&](Transaction& tx) { return this->endpoints_.RecordFailure(tx, a, unknown, t1); }));
  EXPECT_FALSE(
      *call([&](Transaction& tx) { return this->endpoints_.RecordSuccess(tx, a, unknown, t1); }));
  const TenantId& b = this->b_;
  auto other = this->Call(
      b, [&](Transaction& tx) { return this->endpoints_.RecordFailure(tx, b, e.id, t1); });
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(*other);
  EXPECT_EQ(this->Call(b,
                       [&](Transaction& tx) {
                         return this->endpoints_.RecordFailure(tx, a, e.id, t1).status();
                       })
                .code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(
      call([&](Transaction& tx) {
        return this->endpoints_.DisableIfFailingSince(tx, a, e.id, t1, "Failing!", t1).status();
      }).code(),
      StatusCode::kInvalidArgument);
  for (int bad : {0, 65}) {
    WebhookEndpointRecord r = this->Endpoint(a);
    r.max_concurrency = bad;
    EXPECT_EQ(this->PutEndpoint(r).code(), StatusCode::kInvalidArgument) << bad;
  }
  WebhookEndpointRecord reason_while_enabled = this->Endpoint(a);
  reason_while_enabled.disabled_reason = "failing";
  EXPECT_EQ(this->PutEndpoint(reason_while_enabled).code(), StatusCode::kInvalidArgument);
  // A reason on an enabled endpoint is corrupt.
  this->Corrupt(a, e.id.value(),
                "UPDATE webhook_endpoints SET disabled_reason = 'failing' WHERE tenant_id = $1 "
                "AND id = $2");
  EXPECT_EQ(
      call([&](Transaction& tx) { return this->endpoints_.Get(tx, a, e.id).status(); }).code(),
      StatusCode::kDataLoss);
}

TYPED_TEST_P(WebhookConformanceTest, StateNamesRoundTrip) {
  for (auto s : {WebhookDeliveryState::kPending, WebhookDeliveryState::kSucceeded,
                 WebhookDeliveryState::kFailed, WebhookDeliveryState::kDead}) {
    EXPECT_EQ(ParseWebhookDeliveryState(WebhookDeliveryStateName(s)), s);
  }
  EXPECT_EQ(WebhookDeliveryStateName(WebhookDeliveryState::kSucceeded), "succeeded");
  EXPECT_EQ(WebhookDeliveryStateName(static_cast<WebhookDeliveryState>(42)), "");
  EXPECT_EQ(ParseWebhookDeliveryState("Pending"), std::nullopt);
  EXPECT_EQ(ParseWebhookDeliveryState(""), std::nullopt);
}

// Live updates: deliveries created or updated after a keyset position, the tenant's only.
TYPED_TEST_P(WebhookConformanceTest, DeliveriesUpdatedSinceInKeysetOrder) {
  const TenantId a = this->a_;
  const WebhookEndpointRecord endpoint = this->Endpoint(a);
  const WebhookEndpointRecord foreign_endpoint = this->Endpoint(this->b_);
  ASSERT_TRUE(this->PutEndpoint(endpoint).ok());
  ASSERT_TRUE(this->PutEndpoint(foreign_endpoint).ok());
  const Timestamp at = this->clock_.Now() + std::chrono::hours(1);
  std::vector<WebhookDeliveryRecord> put;
  for (int i = 0; i < 3; ++i) {
    WebhookDeliveryRecord d = this->Delivery(a, endpoint.id);
    d.updated_at = at + std::chrono::seconds(i == 2 ? 1 : 0);
    ASSERT_TRUE(this->PutDelivery(d).ok());
    put.push_back(d);
  }
  WebhookDeliveryRecord foreign = this->Delivery(this->b_, foreign_endpoint.id);
  foreign.updated_at = at;
  ASSERT_TRUE(this->PutDelivery(foreign).ok());
  std::sort(put.begin(), put.begin() + 2,
            [](const auto& x, const auto& y) { return x.id.value() < y.id.value(); });
  auto since = [&](const UpdatedCursor& cursor, int limit) {
    return this->Call(a, [&](Transaction& tx) {
      return this->deliveries_.ListUpdatedSince(tx, a, cursor, limit);
    });
  };
  auto first = since(UpdatedCursor::At(at), 1);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].id, put[0].id);
  auto rest = since(UpdatedCursor{at, put[0].id.value()}, 10);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ((*rest)[0].id, put[1].id);
  EXPECT_EQ((*rest)[1].id, put[2].id);
  EXPECT_EQ((*rest)[1].payload, put[2].payload);
  EXPECT_TRUE(since(UpdatedCursor{put[2].updated_at, put[2].id.value()}, 10)->empty());
  EXPECT_EQ(since(UpdatedCursor{at, ""}, 10).status().code(), StatusCode::kInvalidArgument);
}

REGISTER_TYPED_TEST_SUITE_P(WebhookConformanceTest, EndpointsInsertGetListAndDelete,
                            UpdateComparesAndIncrementsTheVersion, DeliveriesGoWithTheirEndpoint,
                            DeliveriesListByEndpointStateAndEventTypeInIdOrder,
                            OneDeliveryPerEventAndEndpoint, InsertIsPartOfTheCallersTransaction,
                            AttemptsRetriesAndManualRetry, CrossTenantAccessIsRefused,
                            RejectsMalformedInput, CorruptRowsAreDataLoss,
                            EndpointHealthAndConcurrency, StateNamesRoundTrip,
                            DeliveriesUpdatedSinceInKeysetOrder);

}  // namespace sb::store::testing
