// Audit log on SQLite (the typed suites), plus backend-independent unit tests: the HMAC of
// secrets (AUD-02), the checkpoint format and signature (TL-03, known answers recomputed with
// Python `cryptography`), the key file (kept outside the database, mode 0600), and CSV export.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "sb/audit/testing/audit_log_suite.h"
#include "sb/audit/testing/audit_tamper_suite.h"

namespace sb::audit {
namespace testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, AuditLogTest, store::testing::SqliteTestBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, AuditTamperTest, store::testing::SqliteTestBackend);
}  // namespace testing

namespace {

constexpr const char* kRfc8032Seed =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

AuditKeys KnownKeys() {
  std::string hmac;
  for (int i = 0; i < 32; ++i) hmac += char(i);
  return AuditKeys::FromMaterial(hmac, HexDecode(kRfc8032Seed).value()).value();
}

// AUD-02 golden value: HMAC-SHA256 under the key 00 01 .. 1f (Python hmac).
TEST(AuditLog, Aud02HmacSecretGoldenValue) {
  sb::testing::FakeClock clock;
  SystemRandom random;
  IdGenerator ids(clock, random);
  AuditLog log(clock, ids, KnownKeys(), 10);
  EXPECT_EQ(log.HmacSecret("sk-test-token"),
            "hmac-sha256:2d7c84f8b66dab2b407b035c0c5fad902a858257df3b861e0d89f206162f28ec");
  EXPECT_NE(log.HmacSecret("sk-test-token"), log.HmacSecret("sk-test-tokem"));
  EXPECT_EQ(log.key_id(), "489f2b3c");
}

TEST(AuditLog, ReasonNames) {
  EXPECT_EQ(ReasonName(Reason::kModified), "modified");
  EXPECT_EQ(ReasonName(Reason::kDeleted), "deleted");
  EXPECT_EQ(ReasonName(Reason::kReordered), "reordered");
  EXPECT_EQ(ReasonName(Reason::kInserted), "inserted");
  EXPECT_EQ(ReasonName(Reason::kBodyMissing), "body missing, hash present");
  EXPECT_EQ(ReasonName(Reason::kCheckpointSignatureInvalid), "checkpoint signature invalid");
  EXPECT_EQ(ReasonName(Reason::kCheckpointMismatch), "checkpoint does not match chain");
}

// TL-03 known answer: the C2SP-style note signed with the RFC 8032 TEST 1 key.
TEST(Checkpoint, Tl03SignedNoteKnownAnswer) {
  AuditKeys keys = KnownKeys();
  Checkpoint c{SystemTenant(), 3, HexEncode(std::string(32, '\x11')), {}, std::string(64, '0'),
               "489f2b3c",     ""};
  EXPECT_EQ(CheckpointBody(c),
            "switchboard-audit/00000000-0000-0000-0000-000000000000\n3\n"
            "ERERERERERERERERERERERERERERERERERERERERERE=\n"
            "previous AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
  c.signature = Base64Encode(keys.signing_key().Sign(CheckpointBody(c)));
  EXPECT_EQ(
      c.signature,
      "Oqff9zden+sXvgPnLGtHKi9ApM+939xYD+oJ43TTeFM627jOGEwyWem8fPAKOpXK/sb9BuYZoFGG4rNDXH7VCA==");
  EXPECT_EQ(CheckpointKeyId(keys.PublicKey()), "489f2b3c");
  EXPECT_EQ(CheckpointHash(c), "80250cd7a93a70e0e62ef97ac4dad5cd0b4d840bced77052fd0f05e61d4fee60");
  EXPECT_TRUE(VerifyCheckpointSignature(c, keys.PublicKey()));
  Checkpoint changed = c;
  changed.size = 4;
  EXPECT_FALSE(VerifyCheckpointSignature(changed, keys.PublicKey()));
  changed = c;
  changed.prev_checkpoint_hash = std::string(63, '0') + "1";
  EXPECT_FALSE(VerifyCheckpointSignature(changed, keys.PublicKey()));
  SystemRandom random;
  EXPECT_FALSE(VerifyCheckpointSignature(c, AuditKeys::Generate(random).PublicKey()));
}

TEST(Checkpoint, JsonLinesRejectMalformedInputNamingTheLine) {
  AuditKeys keys = KnownKeys();
  Checkpoint c{SystemTenant(),
               3,
               std::string(64, 'a'),
               FromUnixMicros(1'700'000'000'000'000),
               std::string(64, '0'),
               "489f2b3c",
               "c2ln"};
  const std::string line = CheckpointToJson(c).dump();
  auto parsed = ParseCheckpointLines("\n" + line + "\n\n" + line);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0], c);
  auto bad = ParseCheckpointLines(line + "\n{\"tenant_id\": 1}\n");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("line 2"), std::string::npos) << bad.status().ToString();
  EXPECT_FALSE(ParseCheckpointLines("not json").ok());
  // A line past the JSON limits is refused by name, never parsed whole (security.md IN-07).
  auto deep = ParseCheckpointLines(std::string(100'000, '[') + std::string(100'000, ']'));
  EXPECT_NE(deep.status().message().find("JSON nesting deeper than 4 levels"), std::string::npos)
      << deep.status().ToString();
  Json wrong = CheckpointToJson(c);
  wrong["chain_hash"] = "xyz";
  EXPECT_FALSE(CheckpointFromJson(wrong).ok());
}

TEST(Canonical, RejectsInvalidUtf8AndSplitsAroundTheSeq) {
  store::AuditEntryBody body{"0190f5a0-0000-7000-8000-000000000001",
                             FromUnixMicros(5),
                             "cli",
                             "ops",
                             "x.y",
                             "t\"q",
                             "success",
                             "",
                             "{}"};
  auto canonical = internal::Canonical(SystemTenant(), 42, body);
  ASSERT_TRUE(canonical.has_value());
  EXPECT_EQ(*canonical,
            R"({"action":"x.y","actor_id":"ops","actor_kind":"cli","details":"{}",)"
            R"("id":"0190f5a0-0000-7000-8000-000000000001","occurred_at":5,"outcome":"success",)"
            R"("request_id":"","seq":42,"target":"t\"q",)"
            R"("tenant_id":"00000000-0000-0000-0000-000000000000"})");
  EXPECT_EQ(internal::CanonicalSplit(SystemTenant(), body)->With(42), *canonical);
  body.target = "\xc3";
  EXPECT_FALSE(internal::Canonical(SystemTenant(), 42, body).has_value());
}

TEST(Csv, QuotesPerRfc4180AndNeutralisesFormulas) {
  EXPECT_EQ(CsvCell("plain"), "plain");
  EXPECT_EQ(CsvCell(""), "");
  EXPECT_EQ(CsvCell("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvCell("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvCell("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvCell("=1+1"), "'=1+1");
  EXPECT_EQ(CsvCell("+1"), "'+1");
  EXPECT_EQ(CsvCell("-1"), "'-1");
  EXPECT_EQ(CsvCell("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(CsvCell("\tx"), "'\tx");
  EXPECT_EQ(CsvCell("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
  EXPECT_EQ(CsvCell("a=1"), "a=1");

  Entry e;
  e.tenant_id = SystemTenant();
  e.seq = 7;
  e.id = "0190f5a0-0000-7000-8000-000000000001";
  e.occurred_at = FromUnixMicros(1'700'000'000'000'000);
  e.actor = Actor{ActorKind::kApiKey, "@evil"};
  e.action = "tenant.update";
  e.target = "-2+3";
  e.outcome = Outcome::kDenied;
  e.request_id = "a,b";
  e.details = Json{{"name", "=cmd|' /C calc'!A0"}};
  e.leaf_hash = std::string(64, 'a');
  e.chain_hash = std::string(64, 'b');
  EXPECT_EQ(ToCsvHeader(),
            "seq,id,occurred_at,actor_kind,actor_id,action,target,outcome,request_id,details,"
            "leaf_hash,chain_hash\r\n");
  EXPECT_EQ(ToCsvRow(e),
            "7,0190f5a0-0000-7000-8000-000000000001,2023-11-14T22:13:20Z,api_key,"
            "'@evil,tenant.update,'-2+3,denied,\"a,b\","
            "\"{\"\"name\"\":\"\"=cmd|' /C calc'!A0\"\"}\"," +
                std::string(64, 'a') + "," + std::string(64, 'b') + "\r\n");
  e.body_erased = true;
  EXPECT_EQ(ToCsvRow(e),
            "7,,,,,,,,,," + std::string(64, 'a') + "," + std::string(64, 'b') + "\r\n");
}

class AuditKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sb-audit-keys-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "sub" / "audit.key").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& text, mode_t mode = 0600) {
    std::filesystem::create_directories(std::filesystem::path(path_).parent_path());
    std::filesystem::remove(path_);
    std::ofstream(path_) << text;
    ::chmod(path_.c_str(), mode);
  }

  std::string Read() {
    std::ifstream in(path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::filesystem::path dir_;
  std::string path_;
  SystemRandom random_;
};

TEST_F(AuditKeysTest, DevelopmentCreatesAPrivateKeyFileOnceAndReloadsIt) {
  auto created = LoadOrCreateAuditKeys(path_, /*development=*/true, random_);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(created->generated());
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string text = Read();
  EXPECT_NE(text.find("\nhmac-key: " + Base64UrlEncode(created->hmac_key()) + "\n"),
            std::string::npos);
  auto loaded = LoadOrCreateAuditKeys(path_, /*development=*/true, random_);
  ASSERT_TRUE(loaded.ok());
  EXPECT_FALSE(loaded->generated());
  EXPECT_EQ(loaded->hmac_key(), created->hmac_key());
  EXPECT_EQ(loaded->PublicKey(), created->PublicKey());
  EXPECT_EQ(WriteAuditKeys(path_, *loaded).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Read(), text);  // never overwritten
  for (const auto& entry : std::filesystem::directory_iterator(dir_ / "sub")) {
    EXPECT_EQ(entry.path().filename(), "audit.key");  // no temporary file left behind
  }
}

TEST_F(AuditKeysTest, ProductionRefusesAMissingKeyFileNamingIt) {
  auto keys = LoadOrCreateAuditKeys(path_, /*development=*/false, random_);
  EXPECT_EQ(keys.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(keys.status().message().find(path_), std::string::npos) << keys.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(path_));
  EXPECT_EQ(LoadAuditKeys(path_).status().code(), StatusCode::kNotFound);
}

TEST_F(AuditKeysTest, RefusesAFileOthersCanRead) {
  ASSERT_TRUE(LoadOrCreateAuditKeys(path_, true, random_).ok());
  ::chmod(path_.c_str(), 0640);
  auto keys = LoadAuditKeys(path_);
  EXPECT_EQ(keys.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(keys.status().message().find("chmod 600"), std::string::npos);
  ::chmod(path_.c_str(), 0604);
  EXPECT_EQ(LoadOrCreateAuditKeys(path_, true, random_).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(AuditKeysTest, MalformedFilesAreRejectedWithoutEchoingKeyMaterial) {
  const std::string key = Base64UrlEncode(std::string(32, 'k'));
  const std::string short_key = Base64UrlEncode(std::string(31, 'k'));
  const std::string cases[] = {
      "hmac-key: " + key + "\n",                                                // no signing key
      "hmac-key: " + key + "\nsigning-key: " + short_key + "\n",                // wrong size
      "hmac-key: " + key + "\nhmac-key: " + key + "\nsigning-key: " + key,      // duplicate
      "hmac-key: " + key + "\nsigning-key: " + key + "\nextra: " + key + "\n",  // unknown
      "hmac-key " + key + "\n",                                                 // no colon
      "hmac-key: !!!not-base64!!!\nsigning-key: " + key + "\n",
  };
  for (const std::string& text : cases) {
    Write(text);
    auto keys = LoadAuditKeys(path_);
    EXPECT_EQ(keys.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(keys.status().message().find(key.substr(0, 16)), std::string::npos);
    EXPECT_EQ(keys.status().message().find("not-base64"), std::string::npos);
  }
  Write("# comment\n\nhmac-key: " + key + "\r\nsigning-key: " + key + "\n");
  auto keys = LoadAuditKeys(path_);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(keys->hmac_key(), std::string(32, 'k'));
}

}  // namespace
}  // namespace sb::audit
