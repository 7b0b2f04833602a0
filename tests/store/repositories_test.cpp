// The store's repositories: users, sessions, key bindings and the audit reads, each change audited
// in its own transaction; schema 4 (the role deputy_principal) over a database of schema 3, and
// schema 7 (dirty score sheets) over one of schema 6.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "hocba/common/bytes.h"
#include "hocba/common/fileio.h"
#include "hocba/store/images.h"
#include "hocba/store/keys.h"
#include "hocba/store/sessions.h"
#include "hocba/store/sheets.h"
#include "hocba/store/store.h"
#include "hocba/store/users.h"
#include "store_test_util.h"
#include "test_env.h"

using namespace hocba;
using store::Keys;
using store::Role;
using store::Sessions;
using store::Store;
using store::User;
using store::Users;

using test::open_ok;
using test::raw_sql;

namespace {

const std::string kPassword = "mat-khau-dai-4711";



std::int64_t add(Store& s, const std::string& username, Role role) {
  auto id = Users(s).add("cli:test", username, "Tên " + username, role, Secret(kPassword));
  if (!id) throw std::runtime_error(id.error().message);
  return *id;
}

User user(Store& s, const std::string& username) {
  auto u = Users(s).by_username(username);
  if (!u || !*u) throw std::runtime_error("no user " + username);
  return **u;
}

std::vector<store::AuditEntry> audit(Store& s) {
  auto e = s.audit_entries(0, 1000);
  if (!e) throw std::runtime_error(e.error().message);
  return *e;
}

boost::json::object detail(const store::AuditEntry& e) { return boost::json::parse(e.detail_json).as_object(); }

std::int64_t count(Store& s, const std::string& sql) {
  auto r = s.query(sql);
  if (!r || r->empty()) throw std::runtime_error("cannot count: " + sql);
  return store::as_int(r->front()[0]);
}

std::int64_t in_an_hour() { return static_cast<std::int64_t>(std::time(nullptr)) + 3600; }

}  // namespace

// --- roles -----------------------------------------------------------------------------------------------

TEST(Roles, EveryRoleIsSpeltOneWayAndReadBack) {
  EXPECT_EQ(store::all_roles().size(), 6u);
  for (Role r : store::all_roles()) {
    auto back = store::parse_role(store::role_name(r));
    ASSERT_TRUE(back) << store::role_name(r);
    EXPECT_EQ(*back, r);
  }
  EXPECT_EQ(store::parse_role("deputy_principal"), Role::deputy_principal);
  EXPECT_FALSE(store::parse_role("Principal"));
  EXPECT_FALSE(store::parse_role(""));
  EXPECT_EQ(store::role_names(), "admin, principal, deputy_principal, homeroom_teacher, subject_teacher, viewer");
}

// --- users -------------------------------------------------------------------------------------------------

TEST(Users, EveryRoleCanBeStoredIncludingTheDeputyPrincipal) {
  test::TempDir d;
  auto s = open_ok(d.path());
  for (Role r : store::all_roles()) add(s, std::string("u.") + store::role_name(r), r);
  auto all = Users(s).list();
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), store::all_roles().size());
  for (const User& u : *all) EXPECT_EQ("u." + std::string(store::role_name(u.role)), u.username);
  EXPECT_EQ(user(s, "u.deputy_principal").role, Role::deputy_principal);
}

TEST(Users, AListIsSortedByUsernameAndTellsDisabledAndTwoFactor) {
  test::TempDir d;
  auto s = open_ok(d.path());
  std::int64_t binh = add(s, "binh", Role::viewer);
  std::int64_t an = add(s, "an", Role::homeroom_teacher);
  Users users(s);
  ASSERT_TRUE(users.set_disabled("cli:test", "binh", true));
  ASSERT_TRUE(users.enable_totp("user:an", an, "JBSWY3DPEHPK3PXP", 100));
  auto all = users.list();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].username, "an");
  EXPECT_EQ((*all)[0].id, an);
  EXPECT_EQ((*all)[0].display_name, "Tên an");
  EXPECT_TRUE((*all)[0].totp);
  EXPECT_FALSE((*all)[0].disabled);
  EXPECT_EQ((*all)[1].id, binh);
  EXPECT_TRUE((*all)[1].disabled);
  EXPECT_FALSE((*all)[1].totp);
  auto secret = users.totp_secret(an);
  ASSERT_TRUE(secret && *secret);
  EXPECT_EQ(**secret, "JBSWY3DPEHPK3PXP");
  auto none = users.totp_secret(binh);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  auto nobody = users.by_id(999);
  ASSERT_TRUE(nobody);
  EXPECT_FALSE(*nobody);
}

TEST(Users, ADisabledUserCannotLogInAndLosesItsSessions) {
  test::TempDir d;
  auto s = open_ok(d.path());
  std::int64_t id = add(s, "an", Role::principal);
  auto token = Sessions(s).create(id, in_an_hour(), "10.0.0.1");
  ASSERT_TRUE(token);
  Users users(s);
  EXPECT_TRUE(users.check_password("an", Secret(kPassword)));
  ASSERT_TRUE(users.set_disabled("cli:root", "an", true));
  EXPECT_FALSE(users.check_password("an", Secret(kPassword)));
  auto who = Sessions(s).user_of(*token);
  ASSERT_TRUE(who);
  EXPECT_FALSE(*who);
  ASSERT_TRUE(users.set_disabled("cli:root", "an", false));
  EXPECT_TRUE(users.check_password("an", Secret(kPassword)));
  auto entries = audit(s);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[1].action, "user.disable");
  EXPECT_EQ(entries[1].actor, "cli:root");
  EXPECT_EQ(detail(entries[1]).at("username"), "an");
  EXPECT_EQ(entries[2].action, "user.enable");
  EXPECT_EQ(users.set_disabled("cli:root", "nobody", true).error().code, Errc::not_found);
}

TEST(Users, ANewRoleIsAuditedAndEndsTheSessions) {
  test::TempDir d;
  auto s = open_ok(d.path());
  std::int64_t id = add(s, "an", Role::principal);
  auto token = Sessions(s).create(id, in_an_hour(), "");
  ASSERT_TRUE(token);
  ASSERT_TRUE(Users(s).set_role("cli:root", "an", Role::deputy_principal));
  EXPECT_EQ(user(s, "an").role, Role::deputy_principal);
  EXPECT_FALSE(*Sessions(s).user_of(*token));
  auto last = s.last_audit("user.role");
  ASSERT_TRUE(last && *last);
  EXPECT_EQ(detail(**last).at("role"), "deputy_principal");
  EXPECT_EQ(detail(**last).at("username"), "an");
}

TEST(Users, AChangeAppliesEveryFieldGivenInOneAuditedTransaction) {
  test::TempDir d;
  auto s = open_ok(d.path());
  std::int64_t id = add(s, "an", Role::viewer);
  Users users(s);
  ASSERT_TRUE(users.enable_totp("user:an", id, "JBSWY3DPEHPK3PXP", 7));
  auto token = Sessions(s).create(id, in_an_hour(), "");
  ASSERT_TRUE(token);
  auto hash = store::hash_password(Secret("mat-khau-moi-0815"));
  ASSERT_TRUE(hash);
  store::UserChange c;
  c.role = Role::homeroom_teacher;
  c.display_name = "Nguyễn Văn An";
  c.password_hash = *hash;
  c.totp_off = true;
  ASSERT_TRUE(users.change("user:admin", id, c));
  User u = user(s, "an");
  EXPECT_EQ(u.role, Role::homeroom_teacher);
  EXPECT_EQ(u.display_name, "Nguyễn Văn An");
  EXPECT_FALSE(u.totp);
  EXPECT_FALSE(u.disabled);  // not given, not changed
  EXPECT_FALSE(users.check_password("an", Secret(kPassword)));
  EXPECT_TRUE(users.check_password("an", Secret("mat-khau-moi-0815")));
  EXPECT_FALSE(*Sessions(s).user_of(*token));  // a new password ends the sessions
  auto last = s.last_audit("user.change");
  ASSERT_TRUE(last && *last);
  EXPECT_EQ(boost::json::serialize(detail(**last)),
            "{\"user_id\":" + std::to_string(id) +
                ",\"role\":\"homeroom_teacher\",\"display_name\":\"Nguyễn Văn An\",\"password\":\"changed\",\"totp\":\"off\"}");
  // The password hash is not in the audit.
  EXPECT_EQ((*last)->detail_json.find("$argon2"), std::string::npos);
}

TEST(Users, AChangeOfNobodyChangesNothing) {
  test::TempDir d;
  auto s = open_ok(d.path());
  add(s, "an", Role::viewer);
  store::UserChange c;
  c.role = Role::admin;
  auto st = Users(s).change("user:admin", 4242, c);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::not_found);
  EXPECT_EQ(count(s, "SELECT count(*) FROM users WHERE role = 'admin'"), 0);
  EXPECT_EQ(audit(s).size(), 1u);  // user.add only
}

TEST(Users, AnOwnPasswordChangeEndsEverySessionOfTheUserOnly) {
  test::TempDir d;
  auto s = open_ok(d.path());
  std::int64_t an = add(s, "an", Role::viewer), binh = add(s, "binh", Role::viewer);
  Sessions sessions(s);
  auto a1 = sessions.create(an, in_an_hour(), ""), a2 = sessions.create(an, in_an_hour(), "");
  auto b1 = sessions.create(binh, in_an_hour(), "");
  ASSERT_TRUE(a1 && a2 && b1);
  auto hash = store::hash_password(Secret("mat-khau-moi-0815"));
  ASSERT_TRUE(hash);
  ASSERT_TRUE(Users(s).change_own_password("user:an", an, *hash));
  EXPECT_FALSE(*sessions.user_of(*a1));
  EXPECT_FALSE(*sessions.user_of(*a2));
  EXPECT_EQ(*sessions.user_of(*b1), binh);
  EXPECT_EQ(audit(s).back().action, "user.password");
}

TEST(Users, AOneTimeCodeStepIsUsedOnce) {
  test::TempDir d;
  auto s = open_ok(d.path());
  std::int64_t id = add(s, "an", Role::viewer);
  Users users(s);
  ASSERT_TRUE(users.enable_totp("user:an", id, "JBSWY3DPEHPK3PXP", 100));
  EXPECT_FALSE(*users.consume_totp_step(id, 100));  // the step that confirmed the secret
  EXPECT_TRUE(*users.consume_totp_step(id, 101));
  EXPECT_FALSE(*users.consume_totp_step(id, 101));
  EXPECT_FALSE(*users.consume_totp_step(id, 99));
  EXPECT_TRUE(*users.consume_totp_step(id, 102));
}

TEST(Users, AnInvalidOrTakenUsernameIsRefused) {
  test::TempDir d;
  auto s = open_ok(d.path());
  add(s, "an", Role::viewer);
  Users users(s);
  for (const char* bad : {"", "An", "a b", "an/1", "ă"}) {
    auto r = users.add("cli:test", bad, "", Role::viewer, Secret(kPassword));
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::invalid_argument) << bad;
  }
  EXPECT_FALSE(store::valid_username(std::string(65, 'a')));
  EXPECT_TRUE(store::valid_username(std::string(64, 'a')));
  auto again = users.add("cli:test", "an", "", Role::admin, Secret(kPassword));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::invalid_argument);
  EXPECT_FALSE(users.add("cli:test", "binh", "", Role::viewer, Secret("")));
  EXPECT_EQ(count(s, "SELECT count(*) FROM users"), 1);
}

// --- sessions --------------------------------------------------------------------------------------------

TEST(Sessions, ATokenNamesItsUserUntilItExpires) {
  test::TempDir d;
  auto s = open_ok(d.path());
  std::int64_t id = add(s, "an", Role::viewer);
  Sessions sessions(s);
  auto live = sessions.create(id, in_an_hour(), "10.0.0.7");
  auto old = sessions.create(id, static_cast<std::int64_t>(std::time(nullptr)) - 1, "10.0.0.7");
  ASSERT_TRUE(live && old);
  EXPECT_NE(*live, *old);
  EXPECT_GE(live->size(), 43u);  // 32 random bytes, base64url
  EXPECT_EQ(*sessions.user_of(*live), id);
  EXPECT_FALSE(*sessions.user_of(*old));
  EXPECT_FALSE(*sessions.user_of("not-a-token-at-all-0123456789"));
  // Only hashes are kept; an expired session is removed when the next one starts.
  auto again = sessions.create(id, in_an_hour(), "");
  ASSERT_TRUE(again);
  EXPECT_EQ(count(s, "SELECT count(*) FROM sessions"), 2);
  auto rows = s.query("SELECT token_hash, address FROM sessions");
  ASSERT_TRUE(rows);
  for (auto& r : *rows) {
    EXPECT_EQ(store::as_text(r[0]).size(), 64u);
    EXPECT_NE(store::as_text(r[0]), *live);
  }
  for (const char* f : {"hocba.db", "hocba.db-wal"}) {
    auto bytes = read_file(d.file(f));
    if (!bytes) continue;
    std::string all(bytes->begin(), bytes->end());
    EXPECT_EQ(all.find(*live), std::string::npos) << f;
  }
}

TEST(Sessions, OnlyTheOwnerEndsASessionAndOnlyThatIsAudited) {
  test::TempDir d;
  auto s = open_ok(d.path());
  std::int64_t an = add(s, "an", Role::viewer), binh = add(s, "binh", Role::viewer);
  Sessions sessions(s);
  auto token = sessions.create(an, in_an_hour(), "");
  ASSERT_TRUE(token);
  auto other = sessions.end("user:binh", *token, binh, "{\"via\":\"csc\"}");
  ASSERT_TRUE(other);
  EXPECT_FALSE(*other);
  EXPECT_EQ(*sessions.user_of(*token), an);
  auto own = sessions.end("user:an", *token, an, "{\"via\":\"csc\"}");
  ASSERT_TRUE(own);
  EXPECT_TRUE(*own);
  EXPECT_FALSE(*sessions.user_of(*token));
  EXPECT_FALSE(*sessions.end("user:an", *token, an));  // already ended
  auto entries = audit(s);
  ASSERT_EQ(entries.size(), 3u);  // two user.add, one logout
  EXPECT_EQ(entries[2].action, "logout");
  EXPECT_EQ(entries[2].actor, "user:an");
  EXPECT_EQ(entries[2].detail_json, "{\"via\":\"csc\"}");
}

// --- keys --------------------------------------------------------------------------------------------------

TEST(Keys, BindingsAreListedForTheAdminTheOwnerAndThePrincipal) {
  test::TempDir d;
  auto s = open_ok(d.path());
  std::int64_t gv = add(s, "gvcn.3a", Role::homeroom_teacher), ht = add(s, "ht", Role::principal);
  Keys keys(s);
  auto k1 = keys.bind("cli:root", "pkcs11:token=GVCN-3A;object=gvcn-3a", "gvcn-3a", std::string("gvcn.3a"));
  auto k2 = keys.bind("cli:root", "pkcs11:token=HIEU-TRUONG;object=hieu-truong", "hieu-truong", std::string("ht"));
  auto k3 = keys.bind("cli:root", "pkcs11:token=CON-DAU;object=con-dau", "con-dau", std::nullopt);
  ASSERT_TRUE(k1 && k2 && k3) << (k1 ? k2 ? k3.error().message : k2.error().message : k1.error().message);
  auto all = keys.bound();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, *k1);
  EXPECT_EQ((*all)[0].owner_user_id, gv);
  EXPECT_EQ((*all)[0].owner_username, "gvcn.3a");
  EXPECT_EQ((*all)[0].label, "gvcn-3a");
  EXPECT_FALSE((*all)[0].seal);
  EXPECT_TRUE((*all)[2].seal);
  EXPECT_EQ((*all)[2].owner_user_id, 0);
  EXPECT_EQ((*all)[2].owner_username, "");
  auto own = keys.bound_to(gv);
  ASSERT_TRUE(own);
  ASSERT_EQ(own->size(), 1u);
  EXPECT_EQ(own->front().id, *k1);
  auto principal = keys.bound_to(ht, true);
  ASSERT_TRUE(principal);
  ASSERT_EQ(principal->size(), 2u);
  EXPECT_EQ((*principal)[0].id, *k2);
  EXPECT_EQ((*principal)[1].id, *k3);
  auto seal = keys.seal();
  ASSERT_TRUE(seal);
  ASSERT_EQ(seal->size(), 1u);
  EXPECT_EQ(seal->front().uri, "pkcs11:token=CON-DAU;object=con-dau");
  auto one = keys.by_id(*k2);
  ASSERT_TRUE(one && *one);
  EXPECT_EQ((*one)->owner_username, "ht");
  auto entry = s.last_audit("key.bind");
  ASSERT_TRUE(entry && *entry);
  EXPECT_EQ(detail(**entry).at("seal"), true);
  EXPECT_EQ(detail(**entry).at("key_id"), *k3);
}

TEST(Keys, AKeyIsBoundOnceAndOnlyToAnActiveUser) {
  test::TempDir d;
  auto s = open_ok(d.path());
  add(s, "an", Role::homeroom_teacher);
  add(s, "binh", Role::homeroom_teacher);
  ASSERT_TRUE(Users(s).set_disabled("cli:root", "binh", true));
  Keys keys(s);
  const std::string uri = "pkcs11:token=GVCN-3A;object=gvcn-3a";
  ASSERT_TRUE(keys.bind("cli:root", uri, "", std::string("an")));
  auto twice = keys.bind("cli:root", uri, "", std::nullopt);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, Errc::invalid_argument);
  auto disabled = keys.bind("cli:root", "pkcs11:token=X;object=y", "", std::string("binh"));
  ASSERT_FALSE(disabled);
  EXPECT_EQ(disabled.error().code, Errc::not_found);
  EXPECT_FALSE(keys.bind("cli:root", "pkcs11:token=X;object=y", "", std::string("nobody")));
  EXPECT_EQ(keys.bound()->size(), 1u);
}

TEST(Keys, AnUnboundKeyIsHistoryAndCanBeBoundAgain) {
  test::TempDir d;
  auto s = open_ok(d.path());
  add(s, "an", Role::homeroom_teacher);
  Keys keys(s);
  const std::string uri = "pkcs11:token=GVCN-3A;object=gvcn-3a";
  auto k = keys.bind("cli:root", uri, "", std::string("an"));
  ASSERT_TRUE(k);
  ASSERT_TRUE(keys.unbind("user:admin", *k));
  EXPECT_TRUE(keys.bound()->empty());
  EXPECT_FALSE(*keys.by_id(*k));
  auto again = keys.unbind("user:admin", *k);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::not_found);
  EXPECT_EQ(count(s, "SELECT count(*) FROM keys"), 1);  // kept, stamped
  auto rebound = keys.bind("cli:root", uri, "", std::nullopt);
  ASSERT_TRUE(rebound);
  EXPECT_NE(*rebound, *k);
  EXPECT_EQ(detail(**s.last_audit("key.unbind")).at("key_id"), *k);
}

TEST(Keys, AKeyInUseByAJobStaysBound) {
  test::TempDir d;
  auto s = open_ok(d.path());
  std::int64_t an = add(s, "an", Role::homeroom_teacher);
  Keys keys(s);
  auto k = keys.bind("cli:root", "pkcs11:token=GVCN-3A;object=gvcn-3a", "", std::string("an"));
  ASSERT_TRUE(k);
  raw_sql(s.db_path(), "INSERT INTO jobs(id, kind, state, field, key_id, created_by, created_at, updated_at) VALUES(7, 'sign', 'paused', 'gvcn', " +
                           std::to_string(*k) + ", " + std::to_string(an) + ", 'x', 'x')");
  auto st = keys.unbind("user:admin", *k);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::invalid_argument);
  EXPECT_NE(st.error().message.find("job 7"), std::string::npos) << st.error().message;
  EXPECT_TRUE(*keys.by_id(*k));
  raw_sql(s.db_path(), "UPDATE jobs SET state = 'cancelled' WHERE id = 7");
  EXPECT_TRUE(keys.unbind("user:admin", *k));
}

// --- audit reads -------------------------------------------------------------------------------------------

TEST(AuditReads, EntriesArePagedBySeqAndTheLastOfAnActionIsFound) {
  test::TempDir d;
  auto s = open_ok(d.path());
  for (int i = 1; i <= 5; ++i)
    ASSERT_TRUE(s.append_audit("system", i % 2 ? "config.load" : "start", "{\"n\":" + std::to_string(i) + "}"));
  auto page = s.audit_entries(1, 2);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].seq, 2);
  EXPECT_EQ((*page)[1].seq, 3);
  EXPECT_EQ((*page)[1].detail_json, "{\"n\":3}");
  EXPECT_EQ((*page)[1].prev_hash, (*page)[0].hash);
  EXPECT_EQ(store::audit_hash((*page)[1]), (*page)[1].hash);
  EXPECT_TRUE(s.audit_entries(5, 10)->empty());
  auto last = s.last_audit("config.load");
  ASSERT_TRUE(last && *last);
  EXPECT_EQ((*last)->seq, 5);
  EXPECT_EQ((*last)->detail_json, "{\"n\":5}");
  auto none = s.last_audit("never");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

// --- schema 4 ----------------------------------------------------------------------------------------------

// A database as hocba with schema 3 left it (users with the old CHECK), with users, sessions, keys, a
// class and a job referring to them: schema 4 keeps every row and reference, and takes the new role.
TEST(Schema, Version4KeepsEveryUserAndReferenceAndTakesTheDeputyPrincipal) {
  test::TempDir d;
  std::int64_t an = 0, ht = 0, key = 0;
  std::string token;
  {
    auto s = open_ok(d.path());
    an = add(s, "an", Role::homeroom_teacher);
    ht = add(s, "ht", Role::principal);
    ASSERT_TRUE(Users(s).enable_totp("user:ht", ht, "JBSWY3DPEHPK3PXP", 55));
    ASSERT_TRUE(Users(s).set_disabled("cli:root", "an", true));
    auto k = Keys(s).bind("cli:root", "pkcs11:token=HIEU-TRUONG;object=hieu-truong", "", std::string("ht"));
    ASSERT_TRUE(k);
    key = *k;
    auto t = Sessions(s).create(ht, in_an_hour(), "10.0.0.9");
    ASSERT_TRUE(t);
    token = *t;
  }
  // Back to schema 3: the users table of v1 + v2, its CHECK without deputy_principal, and without
  // what schemas 5 (score sheets), 6 (job steps), 7 (dirty sheets) and 8 (images) add.
  raw_sql(d.file("hocba.db"), R"sql(
BEGIN;
DROP TABLE images;
CREATE TABLE users_saved AS SELECT * FROM users;
DROP TABLE users;
CREATE TABLE users(
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL CHECK (role IN ('admin','principal','homeroom_teacher','subject_teacher','viewer')),
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0,1)),
  totp_secret TEXT,
  totp_last_step INTEGER NOT NULL DEFAULT 0);
INSERT INTO users SELECT * FROM users_saved;
DROP TABLE users_saved;
INSERT INTO classes(id, school_year, name, homeroom_user_id, created_at) VALUES(1, '2026-2027', '3A', )sql" +
                                        std::to_string(an) + R"sql(, 'x');
INSERT INTO jobs(kind, state, field, key_id, created_by, created_at, updated_at) VALUES('sign', 'done', 'hieu_truong', )sql" +
                                        std::to_string(key) + ", " + std::to_string(ht) + R"sql(, 'x', 'x');
DROP TABLE job_steps;
ALTER TABLE job_items DROP COLUMN steps_done;
DROP TABLE sheets_dirty;
DROP TABLE sheets;
DROP TABLE class_subjects;
UPDATE schema_version SET version = 3;
COMMIT;
)sql");
  // The old schema refuses the new role (so the migration below is what lets it in).
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(d.file("hocba.db").c_str(), &db), SQLITE_OK);
    int rc = sqlite3_exec(db, "INSERT INTO users(username, role, password_hash, created_at) VALUES('pho', 'deputy_principal', 'h', 'x')",
                          nullptr, nullptr, nullptr);
    sqlite3_close(db);
    ASSERT_NE(rc, SQLITE_OK);
  }
  auto s = open_ok(d.path());
  EXPECT_EQ(*s.schema_version(), Store::kSchemaVersion);  // and on to the newest
  auto fk = s.query("PRAGMA foreign_key_check");
  ASSERT_TRUE(fk);
  EXPECT_TRUE(fk->empty());
  User u = user(s, "an"), p = user(s, "ht");
  EXPECT_EQ(u.id, an);
  EXPECT_TRUE(u.disabled);
  EXPECT_EQ(p.id, ht);
  EXPECT_TRUE(p.totp);
  EXPECT_EQ(p.role, Role::principal);
  EXPECT_FALSE(*Users(s).consume_totp_step(ht, 55));  // the last step used is kept
  EXPECT_TRUE(Users(s).check_password("ht", Secret(kPassword)));
  EXPECT_EQ(*Sessions(s).user_of(token), ht);
  EXPECT_EQ((*Keys(s).by_id(key))->owner_username, "ht");
  EXPECT_EQ(count(s, "SELECT homeroom_user_id FROM classes WHERE id = 1"), an);
  // The new role, and the references still checked: a key of a user that does not exist is refused.
  ASSERT_TRUE(Users(s).set_role("cli:root", "ht", Role::deputy_principal));
  EXPECT_EQ(user(s, "ht").role, Role::deputy_principal);
  add(s, "pho.ht", Role::deputy_principal);
  Status orphan = s.transaction([](store::Tx& tx) -> Status {
    auto r = tx.exec("INSERT INTO keys(uri, owner_user_id, is_seal, created_at) VALUES('pkcs11:token=Z', 999, 0, 'x')");
    return r ? Status::success() : Status(r.error());
  });
  EXPECT_FALSE(orphan);
  auto v = s.verify_audit();
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok) << v->message;
}

// --- schema 7 ----------------------------------------------------------------------------------------------

// A database as hocba with schema 6 left it: a sheet's data_sha256 held its unsigned PDF's hash, and a
// class with a teacher but no sheet yet waited for a listing to make it. Schema 7 marks that hash
// "pdf:" and that class dirty (hocbad's sweep makes its sheet), and leaves the class with its sheet.
TEST(Schema, Version7MarksOldSheetHashesAndTheClassesWaitingForASheet) {
  test::TempDir d;
  std::int64_t bm = 0;
  {
    auto s = open_ok(d.path());
    bm = add(s, "gv.toan", Role::subject_teacher);
  }
  const std::string pdf_hash(64, 'a');
  raw_sql(d.file("hocba.db"), R"sql(
BEGIN;
DROP TABLE images;
DROP TABLE sheets_dirty;
INSERT INTO classes(id, school_year, name, created_at) VALUES(1, '2026-2027', '8A', 'x'), (2, '2026-2027', '8B', 'x'), (3, '2026-2027', '8C', 'x');
INSERT INTO class_subjects(class_id, subject, teacher_user_id) VALUES(1, 'Toán', )sql" + std::to_string(bm) + R"sql(),
  (2, 'Toán', )sql" + std::to_string(bm) + R"sql(), (3, 'Toán', NULL);
INSERT INTO sheets(class_id, subject, step, version, state, data_sha256, pdf_path, pdf_sha256, created_at)
  VALUES(1, 'Toán', 'gvbm', 1, 'waiting', ')sql" + pdf_hash + "', 'sheets/1/a.pdf', '" + pdf_hash + R"sql(', 'x');
UPDATE schema_version SET version = 6;
COMMIT;
)sql");
  auto s = open_ok(d.path());
  EXPECT_EQ(*s.schema_version(), Store::kSchemaVersion);
  auto sheet = store::Sheets(s).current(1);
  ASSERT_TRUE(sheet && sheet->size() == 1u);
  EXPECT_EQ(sheet->front().data_sha256, "pdf:" + pdf_hash);
  EXPECT_EQ(sheet->front().pdf_sha256, pdf_hash);
  EXPECT_EQ(*store::Sheets(s).dirty_classes(), std::vector<std::int64_t>{2});  // 3 has no teacher
  EXPECT_EQ(*store::Sheets(s).dirty_classes(bm), std::vector<std::int64_t>{2});
}

// Display names are checked by the store, whoever writes them (hocba user add, the API): no C0 or C1
// control characters, DEL, U+FFFE, U+FFFF, bytes that are not UTF-8, nor more than 128 characters.
TEST(Users, DisplayNamesAreCheckedOnAddAndChange) {
  test::TempDir dir;
  Store s = open_ok(dir.path());
  std::int64_t id = add(s, "alice", Role::homeroom_teacher);
  for (const std::string& bad : {std::string("Hoa\tLan"), std::string("Hoa\nLan"), std::string("Hoa\x0b"), std::string("Hoa\x7f"),
                                 std::string("Hoa \xef\xbf\xbf"), std::string("Hoa \xef\xbf\xbe"), std::string("Hoa\xc2\x9f"),
                                 std::string("Ho\xe1"), std::string(129, 'x')}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(store::display_name_problem(bad).empty());
    auto a = Users(s).add("cli:test", "bob", bad, Role::viewer, Secret(kPassword));
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().code, Errc::invalid_argument);
    EXPECT_NE(a.error().message.find("display name"), std::string::npos) << a.error().message;
    store::UserChange c;
    c.display_name = bad;
    auto st = Users(s).change("cli:test", id, c);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::invalid_argument);
  }
  EXPECT_EQ(user(s, "alice").display_name, "Tên alice");
  EXPECT_EQ(count(s, "SELECT count(*) FROM users"), 1);
  EXPECT_TRUE(store::display_name_problem("").empty());
  EXPECT_TRUE(store::display_name_problem("Đặng Thị Ánh Tuyết").empty());
}

// --- images ----------------------------------------------------------------------------------------------

TEST(Images, OneImagePerSlotItsFileNamedByItsHashAndRemovedWhenNoRowNamesIt) {
  test::TempDir dir;
  Store s = open_ok(dir.path());
  std::int64_t alice = add(s, "alice", Role::homeroom_teacher), bob = add(s, "bob", Role::principal);
  store::Images images(s);
  const Bytes a{0x89, 'P', 'N', 'G', 1}, b{0x89, 'P', 'N', 'G', 2};
  auto file_of = [&](const Bytes& png) { return dir.path() + "/images/" + sha256_hex(std::span<const std::uint8_t>(png)) + ".png"; };
  auto exists = [](const std::string& p) { return ::access(p.c_str(), F_OK) == 0; };

  ASSERT_TRUE(images.put("user:alice", store::ImageSlot::signature_of(alice), a, 300, 120).ok());
  ASSERT_TRUE(images.put("user:admin", store::ImageSlot::signature_of(bob), a, 300, 120).ok());  // the same bytes: one file
  ASSERT_TRUE(images.put("user:admin", store::ImageSlot::seal(), b, 236, 236).ok());
  EXPECT_EQ(**images.png(store::ImageSlot::signature_of(alice)), a);
  EXPECT_EQ(**images.png(store::ImageSlot::seal()), b);
  EXPECT_EQ((*images.info(store::ImageSlot::seal()))->width, 236);
  EXPECT_EQ((*images.info(store::ImageSlot::signature_of(alice)))->updated_by, "user:alice");
  EXPECT_EQ(*images.users_with_signature(), (std::set<std::int64_t>{alice, bob}));
  EXPECT_TRUE(exists(file_of(a)));

  // Replacing alice's keeps the file bob's row names; deleting bob's then removes it.
  ASSERT_TRUE(images.put("user:alice", store::ImageSlot::signature_of(alice), b, 300, 120).ok());
  EXPECT_EQ(count(s, "SELECT count(*) FROM images"), 3);
  EXPECT_TRUE(exists(file_of(a)));
  ASSERT_TRUE(images.remove("user:admin", store::ImageSlot::signature_of(bob)).ok());
  EXPECT_FALSE(exists(file_of(a)));
  EXPECT_FALSE(*images.png(store::ImageSlot::signature_of(bob)));
  EXPECT_EQ(images.remove("user:admin", store::ImageSlot::signature_of(bob)).error().code, Errc::not_found);
  EXPECT_EQ(images.put("user:admin", store::ImageSlot::signature_of(9999), a, 1, 1).error().code, Errc::not_found);

  // A changed file is not drawn: its hash no longer matches.
  ASSERT_TRUE(write_file_atomic(file_of(b), a).ok());
  auto changed = images.png(store::ImageSlot::seal());
  ASSERT_FALSE(changed);
  EXPECT_EQ(changed.error().code, Errc::io);

  int sets = 0, deletes = 0;
  for (const auto& e : audit(s)) {
    if (e.action == "image.set") ++sets;
    if (e.action == "image.delete") {
      ++deletes;
      EXPECT_EQ(detail(e).at("user_id").as_int64(), bob);
    }
  }
  EXPECT_EQ(sets, 4);
  EXPECT_EQ(deletes, 1);
  EXPECT_TRUE(s.verify_audit()->ok);
}

// Two slots sharing one file: removing one slot's image while the same bytes are uploaded to the other
// must never delete the file the other's row is about to name (put writes the file before its commit).
TEST(Images, ARemovalNeverDeletesTheFileAConcurrentUploadOfTheSameBytesNames) {
  test::TempDir dir;
  Store setup = open_ok(dir.path());
  std::int64_t alice = add(setup, "alice", Role::homeroom_teacher), bob = add(setup, "bob", Role::principal);
  const Bytes png{0x89, 'P', 'N', 'G', 7};
  constexpr int kRounds = 150;
  // Each thread has its own Store, as a second connection would (hocbad's threads share one; same race).
  auto churn = [&](std::int64_t user, std::vector<std::string>* failures) {
    Store s = open_ok(dir.path());
    store::Images images(s);
    for (int i = 0; i < kRounds; ++i) {
      auto slot = store::ImageSlot::signature_of(user);
      if (auto st = images.put("user:admin", slot, png, 300, 120); !st) {
        failures->push_back("put: " + st.error().message);
        continue;
      }
      // Our row names the file now: nothing the other thread does may take it away.
      if (auto back = images.png(slot); !back || !*back) failures->push_back("png after put: " + (back ? "none" : back.error().message));
      if (i + 1 < kRounds)
        if (auto st = images.remove("user:admin", slot); !st) failures->push_back("remove: " + st.error().message);
    }
  };
  std::vector<std::string> fa, fb;
  std::thread ta(churn, alice, &fa), tb(churn, bob, &fb);
  ta.join();
  tb.join();
  EXPECT_TRUE(fa.empty()) << fa.size() << " failures, first: " << fa.front();
  EXPECT_TRUE(fb.empty()) << fb.size() << " failures, first: " << fb.front();
  // Both end with their image set: every row's file exists.
  store::Images images(setup);
  for (std::int64_t u : {alice, bob}) {
    auto back = images.png(store::ImageSlot::signature_of(u));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_TRUE(*back);
  }
  EXPECT_EQ(count(setup, "SELECT count(*) FROM images"), 2);
}
