// Conformance suite of the Idempotency-Key storage (IdempotencyRepository), written once and
// instantiated per backend like repository_conformance.h: the first claim wins and later ones
// find the stored row, answers are stored once and replayed byte for byte, abandoned claims are
// taken over and expired rows replaced, Release gives up only claims in progress, the
// cross-tenant expiry sweep is bounded by its limit, keys are per tenant (RLS-09), validation
// and corrupt rows (DATA_LOSS). Include in exactly one translation unit per test binary.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "sb/base/encoding.h"
#include "sb/store/tenancy/idempotency_repository.h"
#include "sb/store/testing/connected_fixture.h"

namespace sb::store::testing {

template <typename TestBackend>
class IdempotencyConformanceTest : public ConnectedConformanceTest<TestBackend> {
 protected:
  // A claim made at `now`: held for a minute, kept for a day.
  IdempotencyRecord Request(const TenantId& tenant, std::string key, Timestamp now) {
    IdempotencyRecord r;
    r.tenant_id = tenant;
    r.key = std::move(key);
    r.fingerprint = HexEncode(this->random_.Bytes(32));
    r.created_at = now;
    r.locked_until = now + std::chrono::minutes(1);
    r.expires_at = now + std::chrono::hours(24);
    return r;
  }

  std::string NewKey() { return "key-" + this->ids_.NewUuid(); }

  Result<IdempotencyClaim> Claim(const IdempotencyRecord& r, Timestamp now) {
    return this->Call(r.tenant_id,
                      [&](Transaction& tx) { return repo_.Claim(tx, r.tenant_id, r, now); });
  }

  // Claim, expecting `outcome`; returns the row found (kFound) or nullopt.
  std::optional<IdempotencyRecord> ClaimExpecting(const IdempotencyRecord& r, Timestamp now,
                                                  ClaimOutcome outcome) {
    auto claim = Claim(r, now);
    EXPECT_TRUE(claim.ok()) << claim.status().ToString();
    if (!claim.ok()) return std::nullopt;
    EXPECT_EQ(claim->outcome, outcome) << r.key;
    EXPECT_EQ(claim->existing.has_value(), outcome == ClaimOutcome::kFound);
    return claim->existing;
  }

  Status Complete(const TenantId& tenant, const std::string& key, int status, const Json& headers,
                  const std::string& body) {
    return this->Call(tenant, [&](Transaction& tx) {
      return repo_.Complete(tx, tenant, key, status, headers, body);
    });
  }

  Result<bool> Release(const TenantId& tenant, const std::string& key) {
    return this->Call(tenant, [&](Transaction& tx) { return repo_.Release(tx, tenant, key); });
  }

  Result<std::optional<IdempotencyRecord>> Get(const TenantId& tenant, const std::string& key) {
    return this->Call(tenant, [&](Transaction& tx) { return repo_.Get(tx, tenant, key); });
  }

  std::optional<IdempotencyRecord> Stored(const TenantId& tenant, const std::string& key) {
    auto got = Get(tenant, key);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? *got : std::nullopt;
  }

  Result<int64_t> DeleteExpired(Timestamp now, int limit) {
    return this->Maintenance(
        [&](Transaction& tx) { return repo_.MaintenanceDeleteExpired(tx, now, limit); });
  }

  // An instant long before the fixture clock, random per test, so that on the shared PostgreSQL
  // database the expiry sweep meets no other test's rows.
  Timestamp OldBase() {
    return FromUnixMicros(1'000'000'000 +
                          static_cast<int64_t>(this->random_.Uint64() % 1'000'000) * 1000);
  }

  IdempotencyRepository repo_;
};

TYPED_TEST_SUITE_P(IdempotencyConformanceTest);

TYPED_TEST_P(IdempotencyConformanceTest, FirstClaimWinsAndTheAnswerIsReplayed) {
  const TenantId a = this->a_;
  const Timestamp now = this->clock_.Now();
  const IdempotencyRecord first = this->Request(a, this->NewKey(), now);
  EXPECT_EQ(this->ClaimExpecting(first, now, ClaimOutcome::kClaimed), std::nullopt);
  EXPECT_EQ(this->Stored(a, first.key), first);

  // A retry, with the same request or another, finds the claim in progress.
  IdempotencyRecord retry = this->Request(a, first.key, now + std::chrono::seconds(5));
  EXPECT_EQ(this->ClaimExpecting(retry, now + std::chrono::seconds(5), ClaimOutcome::kFound),
            first);
  retry.fingerprint = first.fingerprint;
  EXPECT_EQ(this->ClaimExpecting(retry, now + std::chrono::seconds(5), ClaimOutcome::kFound),
            first);

  const Json headers{{"Content-Type", "application/json"}, {"Location", "/v1/events/42"}};
  const std::string body("{\"id\":\"42\"}\0\xff\x01", 14);  // any bytes
  ASSERT_TRUE(this->Complete(a, first.key, 201, headers, body).ok());
  IdempotencyRecord answered = first;
  answered.status = 201;
  answered.headers = headers;
  answered.body = body;
  EXPECT_EQ(this->Stored(a, first.key), answered);
  // Answered: found, even past locked_until (an answer is never taken over).
  const Timestamp later = first.locked_until + std::chrono::hours(1);
  EXPECT_EQ(this->ClaimExpecting(this->Request(a, first.key, later), later, ClaimOutcome::kFound),
            answered);
  // An answer is stored once.
  EXPECT_EQ(this->Complete(a, first.key, 500, Json::object(), "oops").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(this->Stored(a, first.key), answered);
  EXPECT_EQ(this->Complete(a, this->NewKey(), 200, Json::object(), "").code(),
            StatusCode::kNotFound);
  auto missing = this->Get(a, this->NewKey());
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(*missing, std::nullopt);
}

TYPED_TEST_P(IdempotencyConformanceTest, AbandonedClaimIsTakenOver) {
  const TenantId a = this->a_;
  const Timestamp now = this->clock_.Now();
  const IdempotencyRecord first = this->Request(a, this->NewKey(), now);
  ASSERT_EQ(this->ClaimExpecting(first, now, ClaimOutcome::kClaimed), std::nullopt);
  // Still held one microsecond before locked_until.
  const Timestamp held = first.locked_until - std::chrono::microseconds(1);
  EXPECT_EQ(this->ClaimExpecting(this->Request(a, first.key, held), held, ClaimOutcome::kFound),
            first);
  // At locked_until without an answer the holder is presumed dead: the next request takes over.
  const Timestamp at = first.locked_until;
  const IdempotencyRecord second = this->Request(a, first.key, at);
  ASSERT_NE(second.fingerprint, first.fingerprint);
  EXPECT_EQ(this->ClaimExpecting(second, at, ClaimOutcome::kClaimed), std::nullopt);
  EXPECT_EQ(this->Stored(a, first.key), second);
  EXPECT_EQ(this->ClaimExpecting(this->Request(a, first.key, at), at, ClaimOutcome::kFound),
            second);
  ASSERT_TRUE(this->Complete(a, first.key, 200, Json{{"ETag", "\"1\""}}, "done").ok());
  auto stored = this->Stored(a, first.key);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->fingerprint, second.fingerprint);
  EXPECT_EQ(stored->status, 200);
}

TYPED_TEST_P(IdempotencyConformanceTest, ExpiredRowIsReplaced) {
  const TenantId a = this->a_;
  const Timestamp now = this->clock_.Now();
  const IdempotencyRecord first = this->Request(a, this->NewKey(), now);
  ASSERT_EQ(this->ClaimExpecting(first, now, ClaimOutcome::kClaimed), std::nullopt);
  ASSERT_TRUE(this->Complete(a, first.key, 409, Json{{"Retry-After", "5"}}, "conflict").ok());
  const Timestamp before = first.expires_at - std::chrono::microseconds(1);
  auto found =
      this->ClaimExpecting(this->Request(a, first.key, before), before, ClaimOutcome::kFound);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->status, 409);
  // At expires_at the answered row counts as absent: the new request's row replaces it whole.
  const Timestamp at = first.expires_at;
  IdempotencyRecord fresh = this->Request(a, first.key, at);
  EXPECT_EQ(this->ClaimExpecting(fresh, at, ClaimOutcome::kClaimed), std::nullopt);
  EXPECT_EQ(this->Stored(a, first.key), fresh);
}

TYPED_TEST_P(IdempotencyConformanceTest, ReleaseDeletesOnlyClaimsInProgress) {
  const TenantId a = this->a_;
  const Timestamp now = this->clock_.Now();
  const IdempotencyRecord running = this->Request(a, this->NewKey(), now);
  const IdempotencyRecord answered = this->Request(a, this->NewKey(), now);
  ASSERT_EQ(this->ClaimExpecting(running, now, ClaimOutcome::kClaimed), std::nullopt);
  ASSERT_EQ(this->ClaimExpecting(answered, now, ClaimOutcome::kClaimed), std::nullopt);
  ASSERT_TRUE(this->Complete(a, answered.key, 204, Json::object(), "").ok());

  auto released = this->Release(a, running.key);
  ASSERT_TRUE(released.ok()) << released.status().ToString();
  EXPECT_TRUE(*released);
  EXPECT_EQ(this->Stored(a, running.key), std::nullopt);
  released = this->Release(a, running.key);
  ASSERT_TRUE(released.ok());
  EXPECT_FALSE(*released);
  released = this->Release(a, answered.key);
  ASSERT_TRUE(released.ok());
  EXPECT_FALSE(*released);
  auto kept = this->Stored(a, answered.key);
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->status, 204);
  // A released key can be claimed again at once.
  EXPECT_EQ(this->ClaimExpecting(this->Request(a, running.key, now), now, ClaimOutcome::kClaimed),
            std::nullopt);
}

TYPED_TEST_P(IdempotencyConformanceTest, MaintenanceDeletesExpiredRowsUpToTheLimit) {
  const TenantId x = this->NewTenant("x");
  const TenantId y = this->NewTenant("y");
  const Timestamp base = this->OldBase();
  // Clears what an earlier run of this test in the same database (--gtest_repeat) left.
  for (int64_t n = 1; n > 0;) {
    auto cleared = this->DeleteExpired(base + std::chrono::seconds(10), 10000);
    ASSERT_TRUE(cleared.ok()) << cleared.status().ToString();
    n = *cleared;
  }
  auto put = [&](const TenantId& t, std::chrono::seconds expires, bool answer) {
    IdempotencyRecord r = this->Request(t, this->NewKey(), base);
    r.expires_at = base + expires;
    EXPECT_EQ(this->ClaimExpecting(r, base, ClaimOutcome::kClaimed), std::nullopt);
    if (answer) {
      EXPECT_TRUE(this->Complete(t, r.key, 200, Json::object(), "ok").ok());
    }
    return r.key;
  };
  const std::string x1 = put(x, std::chrono::seconds(1), true);
  const std::string y2 = put(y, std::chrono::seconds(2), false);  // in progress: expires too
  const std::string x3 = put(x, std::chrono::seconds(3), true);   // at `now`: expired
  const std::string y5 = put(y, std::chrono::seconds(5), true);
  const Timestamp now = base + std::chrono::seconds(3);

  auto deleted = this->DeleteExpired(now, 2);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(*deleted, 2);  // the longest expired first
  EXPECT_EQ(this->Stored(x, x1), std::nullopt);
  EXPECT_EQ(this->Stored(y, y2), std::nullopt);
  EXPECT_TRUE(this->Stored(x, x3).has_value());
  deleted = this->DeleteExpired(now, 2);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 1);
  EXPECT_EQ(this->Stored(x, x3), std::nullopt);
  deleted = this->DeleteExpired(now, 2);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 0);
  EXPECT_TRUE(this->Stored(y, y5).has_value());

  EXPECT_EQ(this->Call(y,
                       [&](Transaction& tx) {
                         return this->repo_
                             .MaintenanceDeleteExpired(tx, base + std::chrono::seconds(10), 10)
                             .status();
                       })
                .code(),
            StatusCode::kFailedPrecondition);
  for (int limit : {0, -1, 10001}) {
    EXPECT_EQ(this->DeleteExpired(base + std::chrono::seconds(10), limit).status().code(),
              StatusCode::kInvalidArgument)
        << limit;
  }
  EXPECT_TRUE(this->Stored(y, y5).has_value());
}

TYPED_TEST_P(IdempotencyConformanceTest, KeysArePerTenant) {
  const TenantId a = this->a_;
  const TenantId b = this->b_;
  const Timestamp now = this->clock_.Now();
  const std::string key = this->NewKey();
  const IdempotencyRecord ours = this->Request(a, key, now);
  const IdempotencyRecord theirs = this->Request(b, key, now);
  ASSERT_EQ(this->ClaimExpecting(ours, now, ClaimOutcome::kClaimed), std::nullopt);
  EXPECT_EQ(this->ClaimExpecting(theirs, now, ClaimOutcome::kClaimed), std::nullopt);
  // Each tenant's release and answer touch its own row only.
  auto released = this->Release(b, key);
  ASSERT_TRUE(released.ok() && *released);
  EXPECT_EQ(this->Stored(b, key), std::nullopt);
  EXPECT_EQ(this->Stored(a, key), ours);
  ASSERT_EQ(this->ClaimExpecting(theirs, now, ClaimOutcome::kClaimed), std::nullopt);
  ASSERT_TRUE(this->Complete(a, key, 201, Json::object(), "a's answer").ok());
  EXPECT_EQ(this->Stored(b, key), theirs);  // still in progress
  released = this->Release(b, key);
  ASSERT_TRUE(released.ok() && *released);
  auto kept = this->Stored(a, key);
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->body, "a's answer");
  // With the key only A's, B neither sees nor answers nor releases it.
  EXPECT_EQ(this->Complete(b, key, 200, Json::object(), "b").code(), StatusCode::kNotFound);
  released = this->Release(b, key);
  ASSERT_TRUE(released.ok());
  EXPECT_FALSE(*released);
  EXPECT_EQ(this->Stored(a, key), kept);

  for (const auto& call : std::vector<std::function<Status(Transaction&)>>{
           [&](Transaction& tx) { return this->repo_.Claim(tx, a, ours, now).status(); },
           [&](Transaction& tx) {
             return this->repo_.Complete(tx, a, key, 200, Json::object(), "");
           },
           [&](Transaction& tx) { return this->repo_.Release(tx, a, key).status(); },
           [&](Transaction& tx) { return this->repo_.Get(tx, a, key).status(); }}) {
    EXPECT_EQ(this->InTenant(b, call).code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(this->db_->RunUnscoped(call).code(), StatusCode::kPermissionDenied);
  }
  // A record naming another tenant than the call is refused.
  EXPECT_EQ(this->Call(b, [&](Transaction& tx) { return this->repo_.Claim(tx, b, ours, now); })
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(this->Stored(a, key), kept);
}

TYPED_TEST_P(IdempotencyConformanceTest, RejectsMalformedInput) {
  const TenantId a = this->a_;
  const Timestamp now = this->clock_.Now();
  const IdempotencyRecord claimed = this->Request(a, this->NewKey(), now);
  ASSERT_EQ(this->ClaimExpecting(claimed, now, ClaimOutcome::kClaimed), std::nullopt);
  auto invalid = [&](const std::function<Status(Transaction&)>& call, const std::string& what) {
    EXPECT_EQ(this->InTenant(a, call).code(), StatusCode::kInvalidArgument) << what;
  };
  const std::vector<std::string> bad_keys = {
      "", "a b", std::string(256, 'k'), "a\tb", "caf\xc3\xa9", "\x7f", std::string("a\0b", 3)};
  std::vector<std::pair<std::string, std::function<void(IdempotencyRecord&)>>> mutations = {
      {"tenant", [](auto& r) { r.tenant_id = TenantId("x"); }},
      {"fingerprint short", [](auto& r) { r.fingerprint = std::string(63, 'a'); }},
      {"fingerprint upper", [](auto& r) { r.fingerprint = std::string(64, 'A'); }},
      {"fingerprint empty", [](auto& r) { r.fingerprint = ""; }},
      {"status", [](auto& r) { r.status = 200; }},
      {"status negative", [](auto& r) { r.status = -1; }},
      {"headers array", [](auto& r) { r.headers = Json::array(); }},
      {"headers number value",
       [](auto& r) {
         r.headers = Json{{"X-Count", 1}};
       }},
      {"headers empty name",
       [](auto& r) {
         r.headers = Json{{"", "v"}};
       }},
      {"body large", [](auto& r) { r.body = std::string(1024 * 1024 + 1, 'b'); }},
  };
  for (const std::string& key : bad_keys) {
    mutations.emplace_back("key of " + std::to_string(key.size()) + " bytes",
                           [key](auto& r) { r.key = key; });
  }
  for (const auto& [what, mutate] : mutations) {
    IdempotencyRecord r = this->Request(a, this->NewKey(), now);
    mutate(r);
    invalid([&](Transaction& tx) { return this->repo_.Claim(tx, a, r, now).status(); },
            "claim " + what);
  }
  for (const std::string& key : bad_keys) {
    const std::string what = " key of " + std::to_string(key.size()) + " bytes";
    invalid([&](Transaction& tx) { return this->repo_.Get(tx, a, key).status(); }, "get" + what);
    invalid([&](Transaction& tx) { return this->repo_.Release(tx, a, key).status(); },
            "release" + what);
    invalid(
        [&](Transaction& tx) { return this->repo_.Complete(tx, a, key, 200, Json::object(), ""); },
        "complete" + what);
  }
  for (int status : {0, 99, 600, -200}) {
    invalid(
        [&](Transaction& tx) {
          return this->repo_.Complete(tx, a, claimed.key, status, Json::object(), "");
        },
        "complete status " + std::to_string(status));
  }
  for (const Json& headers : {Json::array(), Json("x"), Json{{"A", Json::array()}}}) {
    invalid(
        [&](Transaction& tx) { return this->repo_.Complete(tx, a, claimed.key, 200, headers, ""); },
        "complete headers " + headers.dump());
  }
  invalid(
      [&](Transaction& tx) {
        return this->repo_.Complete(tx, a, claimed.key, 200, Json::object(),
                                    std::string(1024 * 1024 + 1, 'b'));
      },
      "complete body");
  invalid([&](Transaction& tx) { return this->repo_.Get(tx, TenantId("x"), "k").status(); },
          "tenant");
  EXPECT_EQ(this->Stored(a, claimed.key), claimed);  // nothing invalid was written

  // Limits are inclusive.
  IdempotencyRecord longest = this->Request(a, std::string(255, '~'), now);
  longest.headers = Json{{"X-A", std::string(1000, 'h')}};
  longest.body = std::string(1024 * 1024, 'b');
  EXPECT_EQ(this->ClaimExpecting(longest, now, ClaimOutcome::kClaimed), std::nullopt);
  EXPECT_EQ(this->Stored(a, longest.key), longest);
  ASSERT_TRUE(this->Complete(a, longest.key, 599, Json::object(), longest.body).ok());
  ASSERT_TRUE(this->Complete(a, claimed.key, 100, Json::object(), "").ok());
}

TYPED_TEST_P(IdempotencyConformanceTest, CorruptRowsAreDataLoss) {
  const TenantId a = this->a_;
  const Timestamp now = this->clock_.Now();
  const IdempotencyRecord r = this->Request(a, this->NewKey(), now);
  ASSERT_EQ(this->ClaimExpecting(r, now, ClaimOutcome::kClaimed), std::nullopt);
  auto code = [&] { return this->Get(a, r.key).status().code(); };
  ASSERT_EQ(code(), StatusCode::kOk);
  const std::vector<std::pair<std::string, std::string>> corruptions = {
      {"fingerprint", "ABC"},
      {"headers", "[]"},
      {"headers", "{\"A\": 1}"},
      {"headers", "not json"},
  };
  for (const auto& corruption : corruptions) {
    // Named references, not a structured binding: the lambda below uses them (clang < 16).
    const auto& column = corruption.first;
    const auto& value = corruption.second;
    std::string sql = "UPDATE idempotency_keys SET ";
    sql.append(column).append(" = $2 WHERE tenant_id = $1");
    ASSERT_TRUE(this->InTenant(a,
                               [&](Transaction& tx) {
                                 return tx.Execute(sql, {a.value(), value}).status();
                               })
                    .ok())
        << column;
    EXPECT_EQ(code(), StatusCode::kDataLoss) << column << " = " << value;
    // Claim reads the row it finds the same way.
    EXPECT_EQ(this->Claim(r, now).status().code(), StatusCode::kDataLoss) << column;
    ASSERT_TRUE(
        this->InTenant(a,
                       [&](Transaction& tx) {
                         return tx
                             .Execute(
                                 "UPDATE idempotency_keys SET fingerprint = $2, headers = '{}' "
                                 "WHERE tenant_id = $1",
                                 {a.value(), r.fingerprint})
                             .status();
                       })
            .ok());
    EXPECT_EQ(code(), StatusCode::kOk) << column;
  }
}

REGISTER_TYPED_TEST_SUITE_P(IdempotencyConformanceTest, FirstClaimWinsAndTheAnswerIsReplayed,
                            AbandonedClaimIsTakenOver, ExpiredRowIsReplaced,
                            ReleaseDeletesOnlyClaimsInProgress,
                            MaintenanceDeletesExpiredRowsUpToTheLimit, KeysArePerTenant,
                            RejectsMalformedInput, CorruptRowsAreDataLoss);

}  // namespace sb::store::testing
