#include "sb/tenancy/dashboard_users.h"

#include <gtest/gtest.h>

#include "sb/base/testing/fake_clock.h"
#include "sb/store/testing/test_backends.h"
#include "sb/tenancy/tenants.h"

namespace sb::tenancy {
namespace {

using std::chrono::seconds;
using store::DashboardRole;

constexpr char kPassword[] = "correct horse battery";

class DashboardUserServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::testing::OpenMigrated(backend_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    audit_ =
        std::make_unique<audit::AuditLog>(clock_, ids_, audit::AuditKeys::Generate(random_), 1000);
    tenants_ = std::make_unique<TenantService>(
        TenantDeps{.db = *db_, .clock = clock_, .ids = ids_, .audit = *audit_});
    DashboardUserOptions options;
    options.hash_params = {.memory_kib = 64, .iterations = 1, .parallelism = 1};  // fast tests
    users_ = std::make_unique<DashboardUserService>(
        DashboardUserDeps{
            .db = *db_, .clock = clock_, .random = random_, .ids = ids_, .audit = *audit_},
        options);
    tenant_ = NewTenant("Acme");
  }

  TenantId NewTenant(const std::string& name) {
    auto t = tenants_->Create(ctx_, name);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t->id;
  }

  store::DashboardUserRecord NewUser(const TenantId& tenant, const std::string& email,
                                     DashboardRole role = DashboardRole::kAdmin) {
    auto user = users_->Create(ctx_, tenant, {email, "Ada", role, std::string(kPassword)});
    EXPECT_TRUE(user.ok()) << user.status().ToString();
    return user.ok() ? *user : store::DashboardUserRecord{};
  }

  Result<DashboardSession> SignIn(const TenantId& tenant, const std::string& email,
                                  const std::string& password, seconds* retry = nullptr) {
    return users_->SignIn({tenant, email, password, {"req-2", "192.0.2.1:5000"}}, retry);
  }

  std::vector<audit::Entry> Entries(const TenantId& tenant) {
    std::vector<audit::Entry> out;
    Status s =
        db_->RunInTenant(tenant, store::TxMode::kReadOnly, [&](store::Transaction& tx) -> Status {
          SB_ASSIGN_OR_RETURN(auto page, audit_->List(tx, tenant, {}, std::nullopt, 1000));
          out = std::move(page.entries);
          return OkStatus();
        });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  store::testing::SqliteTestBackend backend_;
  sb::testing::FakeClock clock_;
  SystemRandom random_;
  IdGenerator ids_{clock_, random_};
  std::unique_ptr<store::Database> db_;
  audit::Context ctx_{audit::Actor{audit::ActorKind::kCli, "tester"}, "req-1"};
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<TenantService> tenants_;
  std::unique_ptr<DashboardUserService> users_;
  TenantId tenant_;
};

TEST_F(DashboardUserServiceTest, SignInGivesASessionWithTheRolesScopesAndIsAudited) {
  const store::DashboardUserRecord user = NewUser(tenant_, "Ada@Example.com");
  EXPECT_EQ(user.email, "ada@example.com");
  ASSERT_TRUE(user.password_hash.has_value());
  EXPECT_EQ(user.password_hash->rfind("$argon2id$", 0), 0u);

  Result<DashboardSession> session = SignIn(tenant_, "ADA@example.com", kPassword);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  EXPECT_EQ(session->token.rfind("sbs_", 0), 0u);
  EXPECT_EQ(DashboardUserService::TenantOfSession(session->token), tenant_);
  EXPECT_EQ(session->csrf_token, DashboardUserService::CsrfTokenOf(session->token));
  EXPECT_EQ(session->tenant_name, "Acme");
  EXPECT_EQ(session->principal.user_id, user.id);
  EXPECT_TRUE(session->principal.Has(Scope::kAdmin));
  EXPECT_FALSE(session->principal.IsOperator());

  Result<DashboardSession> again = users_->Authenticate(session->token);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->user.id, user.id);
  EXPECT_EQ(again->csrf_token, session->csrf_token);
  EXPECT_TRUE(again->token.empty());        // the token is handed out once, at sign-in
  EXPECT_TRUE(again->tenant_name.empty());  // a request's principal does not read the tenant
  Result<DashboardSession> named =
      users_->Authenticate(session->token, DashboardUserService::SessionDetail::kWithTenantName);
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->tenant_name, "Acme");

  const std::vector<audit::Entry> entries = Entries(tenant_);
  ASSERT_FALSE(entries.empty());
  const audit::Entry& last = entries.back();
  EXPECT_EQ(last.action, "dashboard.sign_in");
  EXPECT_EQ(last.actor.kind, audit::ActorKind::kUser);
  EXPECT_EQ(last.actor.id, user.id.value());
  EXPECT_EQ(last.outcome, audit::Outcome::kSuccess);
}

TEST_F(DashboardUserServiceTest, EveryWrongSignInFailsWithOneMessage) {
  NewUser(tenant_, "ada@example.com");
  const TenantId other = NewTenant("Other");
  const std::vector<Result<DashboardSession>> failures = {
      SignIn(tenant_, "ada@example.com", "wrong password here"),
      SignIn(tenant_, "nobody@example.com", kPassword),
      SignIn(other, "ada@example.com", kPassword),  // right user, other tenant
      SignIn(TenantId("0190a5a0-0000-7000-8000-000000000001"), "ada@example.com", kPassword),
      SignIn(TenantId("not a tenant"), "ada@example.com", kPassword),
      SignIn(tenant_, "ada@example.com", std::string(5000, 'x')),
  };
  for (const auto& failure : failures) {
    EXPECT_EQ(failure.status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(failure.status().message(), failures.front().status().message());
  }
  const std::vector<audit::Entry> entries = Entries(tenant_);
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries.back().outcome, audit::Outcome::kDenied);
  EXPECT_EQ(entries.back().details.dump().find("ada@example.com"), std::string::npos);
}

TEST_F(DashboardUserServiceTest, RepeatedFailuresLockForAGrowingButBoundedTime) {
  NewUser(tenant_, "ada@example.com");
  for (int i = 0; i < 4; ++i) (void)SignIn(tenant_, "ada@example.com", "not the password");
  seconds retry{0};
  // The fifth failure locks; even the right password is refused while locked.
  EXPECT_EQ(SignIn(tenant_, "ada@example.com", "not the password").status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(SignIn(tenant_, "ada@example.com", kPassword, &retry).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(retry, seconds(60));
  clock_.Advance(seconds(61));
  EXPECT_EQ(SignIn(tenant_, "ada@example.com", "not the password").status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(SignIn(tenant_, "ada@example.com", kPassword, &retry).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(retry, seconds(120));  // doubled
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(seconds(1000));
    (void)SignIn(tenant_, "ada@example.com", "not the password");
  }
  (void)SignIn(tenant_, "ada@example.com", kPassword, &retry);
  EXPECT_EQ(retry, seconds(900));  // capped
  clock_.Advance(seconds(901));
  ASSERT_TRUE(SignIn(tenant_, "ada@example.com", kPassword).ok());
  // A success resets the count.
  EXPECT_EQ(SignIn(tenant_, "ada@example.com", "not the password").status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_TRUE(SignIn(tenant_, "ada@example.com", kPassword).ok());
}

TEST_F(DashboardUserServiceTest, SessionsEndOnSignOutIdlenessLifetimeAndDeletion) {
  const store::DashboardUserRecord user = NewUser(tenant_, "ada@example.com");
  auto first = SignIn(tenant_, "ada@example.com", kPassword);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(users_->SignOut(ctx_, first->token).ok());
  EXPECT_EQ(users_->Authenticate(first->token).status().code(), StatusCode::kUnauthenticated);

  auto idle = SignIn(tenant_, "ada@example.com", kPassword);
  ASSERT_TRUE(idle.ok());
  clock_.Advance(seconds(3600));
  EXPECT_TRUE(users_->Authenticate(idle->token).ok());  // use keeps it alive
  clock_.Advance(seconds(3600));
  EXPECT_TRUE(users_->Authenticate(idle->token).ok());
  clock_.Advance(seconds(2 * 3600 + 1));
  EXPECT_FALSE(users_->Authenticate(idle->token).ok());

  auto busy = SignIn(tenant_, "ada@example.com", kPassword);
  ASSERT_TRUE(busy.ok());
  for (int i = 0; i < 12; ++i) {
    clock_.Advance(seconds(3600));
    if (i < 11) {
      EXPECT_TRUE(users_->Authenticate(busy->token).ok()) << i;
    }
  }
  EXPECT_FALSE(users_->Authenticate(busy->token).ok());  // 12 h after sign-in, however busy

  auto last = SignIn(tenant_, "ada@example.com", kPassword);
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE(users_->Delete(ctx_, tenant_, user.id).ok());
  EXPECT_FALSE(users_->Authenticate(last->token).ok());
  EXPECT_EQ(users_->Delete(ctx_, tenant_, user.id).code(), StatusCode::kNotFound);
}

TEST_F(DashboardUserServiceTest, ForgedTokensAndOtherTenantsSessionsAreRefused) {
  NewUser(tenant_, "ada@example.com");
  auto session = SignIn(tenant_, "ada@example.com", kPassword);
  ASSERT_TRUE(session.ok());
  std::string forged = session->token;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(users_->Authenticate(forged).ok());
  // The same secret under another tenant's id finds nothing there.
  const TenantId other = NewTenant("Other");
  std::string moved = session->token;
  std::string other_hex;
  for (char c : other.value()) {
    if (c != '-') other_hex += c;
  }
  moved.replace(4, 32, other_hex);
  EXPECT_FALSE(users_->Authenticate(moved).ok());
  for (const char* bad : {"", "sbs_", "sb_live_x", "sbs_zz_yy"}) {
    EXPECT_FALSE(users_->Authenticate(bad).ok()) << bad;
  }
}

TEST_F(DashboardUserServiceTest, CreationChecksRolesPasswordsAndAddresses) {
  auto refused = [&](const TenantId& tenant, NewDashboardUser user) {
    return users_->Create(ctx_, tenant, user).status().code();
  };
  EXPECT_EQ(refused(tenant_, {"op@example.com", "", DashboardRole::kOperator, "long enough pass"}),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(refused(tenant_, {"a@example.com", "", DashboardRole::kAdmin, "short"}),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(refused(tenant_, {"not-an-address", "", DashboardRole::kAdmin, "long enough pass"}),
            StatusCode::kInvalidArgument);
  NewUser(tenant_, "ada@example.com");
  EXPECT_EQ(refused(tenant_, {"ADA@example.com", "", DashboardRole::kAdmin, "long enough pass"}),
            StatusCode::kAlreadyExists);
  // The system tenant may have operators; a user without a password cannot sign in with one.
  ASSERT_TRUE(tenants_->CreateSystem(ctx_, "Operator").ok());
  const TenantId system = audit::SystemTenant();
  NewUser(system, "op@example.com", DashboardRole::kOperator);
  auto op = SignIn(system, "op@example.com", kPassword);
  ASSERT_TRUE(op.ok()) << op.status().ToString();
  EXPECT_TRUE(op->principal.IsOperator());
  ASSERT_TRUE(
      users_->Create(ctx_, tenant_, {"sso@example.com", "", DashboardRole::kViewer, {}}).ok());
  EXPECT_EQ(SignIn(tenant_, "sso@example.com", "").status().code(), StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace sb::tenancy
