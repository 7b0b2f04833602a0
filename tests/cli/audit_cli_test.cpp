// `hocba user add`, `hocba audit verify` and `hocba audit export` on a state folder, and what
// verify says once the log was tampered with (through our own SQLite connection: the sqlite3
// command may not be installed).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <string>

#include "test_env.h"

using namespace hocba;

namespace {

std::string q(const std::string& s) { return "'" + s + "'"; }
bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

void sql(const std::string& db_path, const std::string& statement) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  int rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK);
}

class AuditCli : public ::testing::Test {
 protected:
  test::CommandResult hocba(const std::string& args) { return test::run(std::string(HOCBA_CLI) + " " + args + " 2>&1"); }
  std::string state() const { return dir_.file("state"); }
  test::CommandResult add_user(const std::string& name) {
    return hocba("user add --state-dir " + q(state()) + " --username " + name + " --role subject_teacher --display-name " +
                 q("Trần Văn " + name) + " --password-file " + q(pw_));
  }
  void SetUp() override {
    pw_ = dir_.file("pw");
    test::write_text(pw_, password_ + "\n");
  }
  test::TempDir dir_;
  std::string pw_;
  const std::string password_ = "s3cret-passphrase-for-tests";
};

}  // namespace

TEST_F(AuditCli, UserAddThenVerify) {
  for (const char* u : {"an", "binh", "chi"}) {
    auto r = add_user(u);
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_FALSE(has(r.out, password_)) << r.out;
  }
  auto r = hocba("audit verify --state-dir " + q(state()));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "audit: 3 entries, chain intact\n");

  auto out = dir_.file("audit.jsonl");
  r = hocba("audit export --state-dir " + q(state()) + " --out " + q(out));
  ASSERT_EQ(r.status, 0) << r.out;
  std::string text = test::read_text(out);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
  EXPECT_TRUE(has(text, "\"action\":\"user.add\"")) << text;
  EXPECT_FALSE(has(text, password_));
}

TEST_F(AuditCli, RejectsAPasswordArgumentAndAnUnknownRole) {
  auto r = hocba("user add --state-dir " + q(state()) + " --username x --role admin --password hunter22");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_TRUE(has(r.out, "passwords are never given as arguments")) << r.out;
  r = hocba("user add --state-dir " + q(state()) + " --username x --role janitor --password-file " + q(pw_));
  EXPECT_EQ(r.status, 2) << r.out;
}

TEST_F(AuditCli, ADeputyPrincipalIsAddedListedAndAudited) {
  auto r = hocba("user add --state-dir " + q(state()) + " --username pho.ht --role deputy_principal --display-name " +
                 q("Lê Thị Phó") + " --password-file " + q(pw_));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(has(r.out, "role deputy_principal")) << r.out;
  ASSERT_EQ(add_user("an").status, 0);
  r = hocba("user role --state-dir " + q(state()) + " --username an --role deputy_principal");
  ASSERT_EQ(r.status, 0) << r.out;
  r = hocba("user disable --state-dir " + q(state()) + " --username pho.ht");
  ASSERT_EQ(r.status, 0) << r.out;
  r = hocba("user list --state-dir " + q(state()));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "an                       deputy_principal  active   Trần Văn an\n"
                   "pho.ht                   deputy_principal  disabled Lê Thị Phó\n");
  auto out = dir_.file("audit.jsonl");
  ASSERT_EQ(hocba("audit export --state-dir " + q(state()) + " --out " + q(out)).status, 0);
  std::string text = test::read_text(out);
  EXPECT_TRUE(has(text, R"(\"role\":\"deputy_principal\",\"username\":\"an\")")) << text;
  EXPECT_TRUE(has(text, "\"action\":\"user.disable\"")) << text;
}

TEST_F(AuditCli, TamperedEntryExits3WithOneLine) {
  for (const char* u : {"an", "binh", "chi"}) ASSERT_EQ(add_user(u).status, 0);
  sql(state() + "/hocba.db", "UPDATE audit SET detail_json = '{\"role\":\"admin\"}' WHERE seq = 2");
  auto r = hocba("audit verify --state-dir " + q(state()));
  EXPECT_EQ(r.status, 3) << r.out;
  EXPECT_EQ(r.out, "audit: entry 2 was changed (its hash does not match)\n");
}

TEST_F(AuditCli, DeletedEntriesExit3) {
  for (const char* u : {"an", "binh", "chi", "dung"}) ASSERT_EQ(add_user(u).status, 0);
  sql(state() + "/hocba.db", "DELETE FROM audit WHERE seq = 4");
  auto r = hocba("audit verify --state-dir " + q(state()));
  EXPECT_EQ(r.status, 3) << r.out;
  EXPECT_EQ(r.out, "audit: entries after 3 are missing\n");
  sql(state() + "/hocba.db", "DELETE FROM audit WHERE seq = 2");
  r = hocba("audit verify --state-dir " + q(state()));
  EXPECT_EQ(r.status, 3) << r.out;
  EXPECT_EQ(r.out, "audit: entry 2 is missing\n");
}
