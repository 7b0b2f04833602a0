// hocbad under faults it cannot prevent: the records' disk full while a signed PDF is written, and a
// database that cannot be written (made immutable with `chattr +i`, which stops root too). Each gives
// the client a clear error, the daemon stays up, the record stays at its previous version (its row and
// its file), and once the fault is gone the same request works.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <boost/json.hpp>
#include <filesystem>
#include <set>

#include "appliance.h"

namespace hocba::test {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

std::string sha256_hex(const std::string& d) {
  unsigned char h[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(d.data(), d.size(), h, &n, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) out += hex[h[i] >> 4], out += hex[h[i] & 15];
  return out;
}

// Every file under `dir` (relative names), but a tmpfs filler.
std::set<std::string> files_under(const std::string& dir) {
  std::set<std::string> out;
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename() != ".filler") out.insert(fs::relative(e.path(), dir).string());
  return out;
}

// The admin, the homeroom teacher of 3A with her key, and the class imported: what one signature needs.
struct OneClass {
  Appliance& a;
  std::string admin, teacher;
  std::int64_t record = 0;

  explicit OneClass(Appliance& app) : a(app) {
    a.add_user("admin", "admin");
    a.add_user("gvcn.3a", "homeroom_teacher");
    admin = a.login("admin");
    a.bind_key(admin, "pkcs11:token=GVCN-3A;object=gvcn-3a", "gvcn.3a");
    auto imp = a.json("POST", "/api/v1/classes", admin,
                      read_text(std::string(HOCBA_TEST_DATA) + "/samples/primary-3A.json"), 201);
    auto cls = a.json("GET", "/api/v1/classes/" + std::to_string(imp.at("class_id").as_int64()), admin);
    record = cls.at("records").as_array().at(0).at("id").as_int64();
    teacher = a.login("gvcn.3a");
  }

  std::string path() const { return "/api/v1/records/" + std::to_string(record); }
  net::HttpExchange sign() {
    json::object b{{"field", "gvcn"}, {"pin", a.pin("GVCN-3A")}};
    return a.call("POST", path() + "/sign", teacher, json::serialize(b));
  }
  // What the store says of the record, and the bytes it serves.
  std::string row() { return json::serialize(a.json("GET", path(), admin)); }
  std::string pdf_sha() {
    auto r = a.call("GET", path() + "/pdf", admin);
    EXPECT_EQ(r.status, 200) << r.body;
    return sha256_hex(r.body);
  }
};

// The error body of the API: {"error": {"code", "message"}}.
std::string message_of(const std::string& body) {
  try {
    return std::string(json::parse(body).at("error").at("message").as_string());
  } catch (const std::exception&) {
    return "";
  }
}

TEST(ApplianceFaults, AFullDiskUnderTheRecordsFailsTheSignatureAndKeepsTheRecordAsItWas) {
  Appliance a;
  std::string why;
  auto disk = TmpFs::mount(a.state_dir() + "/records", 64 * 1024, &why);
  if (!disk) GTEST_SKIP() << why;
  OneClass s(a);
  std::string row = s.row(), sha = s.pdf_sha();
  auto files = files_under(disk->path());
  ASSERT_EQ(files.size(), 35u);

  disk->fill(4096);
  auto r = s.sign();
  EXPECT_EQ(r.status, 500) << r.body;
  std::string msg = message_of(r.body);
  EXPECT_EQ(msg.rfind("cannot write " + disk->path() + "/", 0), 0u) << r.body;
  EXPECT_NE(msg.find(".pdf: No space left on device"), std::string::npos) << r.body;
  EXPECT_EQ(a.json("GET", "/healthz").at("status").as_string(), "ok");
  EXPECT_EQ(s.row(), row) << "the record's row is as before";
  EXPECT_EQ(s.pdf_sha(), sha);
  EXPECT_EQ(files_under(disk->path()), files) << "no new file, no temporary file";

  disk->unfill();
  auto ok = s.sign();
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto rec = a.json("GET", s.path(), s.admin);
  EXPECT_EQ(rec.at("steps_done").as_int64(), 1) << json::serialize(rec);
  EXPECT_NE(s.pdf_sha(), sha);
  EXPECT_EQ(a.hocba("audit verify --state-dir " + a.state_dir()).status, 0);
}

// `chattr +i` on hocba.db and its WAL: SQLite's writes fail with an I/O error even for root (chmod
// would not stop root), reads still work.
struct Immutable {
  std::vector<std::string> files;
  bool ok = true;
  std::string why;
  explicit Immutable(const std::vector<std::string>& fs_) {
    for (auto& f : fs_) {
      if (!fs::exists(f)) continue;
      auto r = run("chattr +i '" + f + "' 2>&1");
      if (r.status != 0) {
        ok = false;
        why = "chattr +i " + f + " is not possible here: " + r.out;
        break;
      }
      files.push_back(f);
    }
  }
  void release() {
    for (auto& f : files) run("chattr -i '" + f + "'");
    files.clear();
  }
  ~Immutable() { release(); }
};

TEST(ApplianceFaults, ADatabaseThatCannotBeWrittenIsAClearErrorAndLosesNothing) {
  Appliance a;
  OneClass s(a);
  std::string row = s.row(), sha = s.pdf_sha();
  std::string db = a.state_dir() + "/hocba.db";
  ASSERT_TRUE(fs::exists(db));
  auto audit_before = a.hocba("audit export --state-dir " + a.state_dir());
  ASSERT_EQ(audit_before.status, 0) << audit_before.out;

  Immutable ro({db, db + "-wal"});
  if (!ro.ok) GTEST_SKIP() << ro.why;

  // A signature: refused with a message, the daemon stays up, the record is as it was.
  auto r = s.sign();
  EXPECT_GE(r.status, 500) << r.body;
  EXPECT_LT(r.status, 600) << r.body;
  EXPECT_EQ(message_of(r.body), "database " + db + ": disk I/O error") << r.body;
  EXPECT_EQ(a.json("GET", "/healthz").at("status").as_string(), "ok");
  EXPECT_EQ(s.row(), row);
  EXPECT_EQ(s.pdf_sha(), sha);

  // A login needs a session row: refused with a message too (not a crash, not a "wrong password").
  json::object b{{"username", "admin"}, {"password", "password-admin"}};
  auto l = a.call("POST", "/api/v1/auth/login", "", json::serialize(b));
  EXPECT_GE(l.status, 500) << l.body;
  EXPECT_LT(l.status, 600) << l.body;
  EXPECT_EQ(message_of(l.body), "database " + db + ": disk I/O error") << l.body;
  EXPECT_EQ(a.json("GET", "/healthz").at("status").as_string(), "ok");

  // Writable again: both work, the record is signed once, and the audit log is intact.
  ro.release();
  auto ok = s.sign();
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto rec = a.json("GET", s.path(), s.admin);
  EXPECT_EQ(rec.at("steps_done").as_int64(), 1) << json::serialize(rec);
  EXPECT_EQ(rec.at("signatures").as_array().size(), 1u) << json::serialize(rec);
  auto l2 = a.call("POST", "/api/v1/auth/login", "", json::serialize(b));
  EXPECT_EQ(l2.status, 200) << l2.body;
  auto v = a.hocba("audit verify --state-dir " + a.state_dir());
  EXPECT_EQ(v.status, 0) << v.out;
  auto audit_after = a.hocba("audit export --state-dir " + a.state_dir());
  EXPECT_EQ(audit_after.out.rfind(audit_before.out, 0), 0u) << "the entries from before are all still there, in order";
}

}  // namespace
}  // namespace hocba::test
