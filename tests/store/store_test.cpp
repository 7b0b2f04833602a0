// The state store: schema migrations, the audit chain and what verify_audit() detects, users.
#include "hocba/store/store.h"
#include "hocba/store/users.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store_test_util.h"
#include "test_env.h"

using namespace hocba;
using store::AuditVerdict;
using store::Store;

using test::open_ok;
using test::raw_sql;

namespace {



void fill(Store& s, int n) {
  for (int i = 1; i <= n; ++i) {
    auto e = s.append_audit("user:alice", "record.sign", "{\"record\":" + std::to_string(i) + "}");
    ASSERT_TRUE(e) << e.error().message;
  }
}

AuditVerdict verify(Store& s) {
  auto v = s.verify_audit();
  if (!v) throw std::runtime_error(v.error().message);
  return *v;
}

}  // namespace

TEST(Store, MigratesAnEmptyDatabase) {
  test::TempDir d;
  auto s = open_ok(d.file("state"));
  auto v = s.schema_version();
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, Store::kSchemaVersion);
  for (const char* t : {"users", "keys", "classes", "records", "jobs", "audit"})
    raw_sql(s.db_path(), std::string("SELECT count(*) FROM ") + t);
  auto verdict = verify(s);
  EXPECT_TRUE(verdict.ok) << verdict.message;
  EXPECT_EQ(verdict.checked, 0);
}

TEST(Store, ReopeningKeepsTheData) {
  test::TempDir d;
  {
    auto s = open_ok(d.path());
    fill(s, 3);
  }
  auto s = open_ok(d.path());
  auto n = s.audit_count();
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 3);
  fill(s, 1);
  auto v = verify(s);
  EXPECT_TRUE(v.ok) << v.message;
  EXPECT_EQ(v.checked, 4);
}

TEST(Store, RefusesADatabaseFromTheFuture) {
  test::TempDir d;
  { auto s = open_ok(d.path()); }
  raw_sql(d.file("hocba.db"), "UPDATE schema_version SET version = 99");
  auto s = Store::open(d.path());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::invalid_argument);
  EXPECT_NE(s.error().message.find("schema version 99, newer than this hocba knows (" + std::to_string(Store::kSchemaVersion) + ")"), std::string::npos) << s.error().message;
}

TEST(Store, RejectsDetailThatIsNotAJsonObject) {
  test::TempDir d;
  auto s = open_ok(d.path());
  EXPECT_FALSE(s.append_audit("system", "x", "not json"));
  EXPECT_FALSE(s.append_audit("system", "x", "[1]"));
  EXPECT_FALSE(s.append_audit("", "x", "{}"));
}

TEST(Audit, HundredAppendsVerify) {
  test::TempDir d;
  auto s = open_ok(d.path());
  fill(s, 100);
  auto v = verify(s);
  EXPECT_TRUE(v.ok) << v.message;
  EXPECT_EQ(v.checked, 100);
  EXPECT_EQ(test::read_text(s.head_path()).substr(0, 4), "100 ");
}

TEST(Audit, FirstEntryChainsToZeros) {
  test::TempDir d;
  auto s = open_ok(d.path());
  auto e = s.append_audit("system", "boot", "{}");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->seq, 1);
  EXPECT_EQ(e->prev_hash, std::string(64, '0'));
  EXPECT_EQ(e->hash, store::audit_hash(*e));
  auto e2 = s.append_audit("system", "boot", "{}");
  ASSERT_TRUE(e2);
  EXPECT_EQ(e2->prev_hash, e->hash);
}

TEST(Audit, DetectsAnEditedEntry) {
  test::TempDir d;
  auto s = open_ok(d.path());
  fill(s, 30);
  raw_sql(s.db_path(), "UPDATE audit SET detail_json = '{\"record\":999}' WHERE seq = 17");
  auto v = verify(s);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.problem, AuditVerdict::Problem::changed);
  EXPECT_EQ(v.problem_seq, 17);
  EXPECT_EQ(v.checked, 16);
  EXPECT_EQ(v.message, "entry 17 was changed (its hash does not match)");
}

TEST(Audit, DetectsAnEditedEntryWithARecomputedHash) {
  // The intruder knows the format and recomputes the entry's hash: the next entry no longer chains.
  test::TempDir d;
  auto s = open_ok(d.path());
  fill(s, 30);
  store::AuditEntry e{17, "2026-01-01T00:00:00.000Z", "user:mallory", "record.sign", "{}", "", ""};
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(s.db_path().c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT prev_hash FROM audit WHERE seq = 17", -1, &st, nullptr);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    e.prev_hash = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  e.hash = store::audit_hash(e);
  raw_sql(s.db_path(), "UPDATE audit SET at='" + e.at + "', actor='" + e.actor + "', detail_json='{}', hash='" + e.hash + "' WHERE seq = 17");
  auto v = verify(s);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.problem, AuditVerdict::Problem::broken_link);
  EXPECT_EQ(v.problem_seq, 18);
}

TEST(Audit, DetectsADeletedMiddleEntry) {
  test::TempDir d;
  auto s = open_ok(d.path());
  fill(s, 30);
  raw_sql(s.db_path(), "DELETE FROM audit WHERE seq = 12");
  auto v = verify(s);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.problem, AuditVerdict::Problem::missing);
  EXPECT_EQ(v.problem_seq, 12);
  EXPECT_EQ(v.message, "entry 12 is missing");
  raw_sql(s.db_path(), "DELETE FROM audit WHERE seq IN (13, 14)");
  EXPECT_EQ(verify(s).message, "entries 12 to 14 are missing");
}

TEST(Audit, DetectsADeletedFirstEntry) {
  test::TempDir d;
  auto s = open_ok(d.path());
  fill(s, 5);
  raw_sql(s.db_path(), "DELETE FROM audit WHERE seq = 1");
  EXPECT_EQ(verify(s).message, "entry 1 is missing");
}

TEST(Audit, DetectsSwappedEntries) {
  test::TempDir d;
  auto s = open_ok(d.path());
  fill(s, 10);
  raw_sql(s.db_path(), "UPDATE audit SET seq = -1 WHERE seq = 5; UPDATE audit SET seq = 5 WHERE seq = 6; UPDATE audit SET seq = 6 WHERE seq = -1");
  auto v = verify(s);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.problem, AuditVerdict::Problem::moved);
  EXPECT_EQ(v.problem_seq, 5);
  EXPECT_EQ(v.message, "entry 5 was moved (it was written as entry 6)");
}

TEST(Audit, DetectsDeletedLastEntriesThroughTheHead) {
  test::TempDir d;
  auto s = open_ok(d.path());
  fill(s, 45);
  raw_sql(s.db_path(), "DELETE FROM audit WHERE seq > 40");
  auto v = verify(s);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.problem, AuditVerdict::Problem::truncated);
  EXPECT_EQ(v.checked, 40);
  EXPECT_EQ(v.message, "entries after 40 are missing");
}

TEST(Audit, DetectsARemovedHeadFile) {
  test::TempDir d;
  auto s = open_ok(d.path());
  fill(s, 3);
  std::remove(s.head_path().c_str());
  auto v = verify(s);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.problem, AuditVerdict::Problem::head_missing);
}

TEST(Audit, ConcurrentAppendsKeepAValidChain) {
  test::TempDir d;
  { auto s = open_ok(d.path()); }
  constexpr int kThreads = 4, kEach = 25;
  std::vector<std::thread> ts;
  std::atomic<int> failures{0};
  // Two threads with their own Store each, two sharing one.
  auto shared = open_ok(d.path());
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      std::optional<Store> own;
      if (t < 2) own.emplace(open_ok(d.path()));
      Store& s = own ? *own : shared;
      for (int i = 0; i < kEach; ++i)
        if (!s.append_audit("thread:" + std::to_string(t), "test", "{\"i\":" + std::to_string(i) + "}")) ++failures;
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto v = verify(shared);
  EXPECT_TRUE(v.ok) << v.message;
  EXPECT_EQ(v.checked, kThreads * kEach);
  EXPECT_EQ(test::read_text(shared.head_path()).substr(0, 4), "100 ");
}

TEST(Audit, ExportWritesJsonLines) {
  test::TempDir d;
  auto s = open_ok(d.path());
  fill(s, 3);
  std::ostringstream os;
  ASSERT_TRUE(s.export_audit(os));
  std::string out = os.str();
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3);
  EXPECT_EQ(out.rfind("{\"seq\":1,\"at\":\"", 0), 0u) << out;
  EXPECT_NE(out.find("\"detail_json\":\"{\\\"record\\\":2}\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"prev_hash\":\"" + std::string(64, '0') + "\""), std::string::npos);
}

TEST(Users, PasswordIsHashedWithArgon2idAndNeverStored) {
  ASSERT_GE(sodium_init(), 0);
  test::TempDir d;
  const std::string password = "correct-horse-battery-staple-4711";
  {
    auto s = open_ok(d.path());
    store::Users users(s);
    auto id = users.add("cli:test", "alice", "Nguyễn Thị Alice", store::Role::homeroom_teacher, Secret(password));
    ASSERT_TRUE(id) << id.error().message;
    auto h = users.password_hash("alice");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->rfind("$argon2id$", 0), 0u) << *h;
    EXPECT_EQ(crypto_pwhash_str_verify(h->c_str(), password.c_str(), password.size()), 0);
    EXPECT_TRUE(users.check_password("alice", Secret(password)));
    EXPECT_FALSE(users.check_password("alice", Secret("wrong")));
    auto dup = users.add("cli:test", "alice", "", store::Role::viewer, Secret(password));
    EXPECT_FALSE(dup);
    EXPECT_FALSE(users.add("cli:test", "Bad Name", "", store::Role::viewer, Secret(password)));
    auto v = verify(s);
    EXPECT_TRUE(v.ok) << v.message;
    EXPECT_EQ(v.checked, 1);
  }
  for (const char* f : {"hocba.db", "hocba.db-wal", "audit.head"}) {
    auto bytes = read_file(d.file(f));
    if (!bytes) continue;
    std::string all(bytes->begin(), bytes->end());
    EXPECT_EQ(all.find(password), std::string::npos) << f;
  }
}
