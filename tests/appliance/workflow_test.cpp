// The appliance end to end: hocbad on 127.0.0.1 with embedded defaults, the school's workflow through
// the REST API, checked independently with pdfsig and qpdf.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <regex>

#include "appliance.h"
#include "hocba/api/totp.h"

namespace hocba::test {
namespace {

namespace json = boost::json;

std::string samples(const std::string& name) { return std::string(HOCBA_TEST_DATA) + "/samples/" + name; }

std::string pin_body(const std::string& pin, json::object extra = {}) {
  extra["pin"] = pin;
  return json::serialize(extra);
}

// Users, keys and the class 3A, as an admin would set them up.
struct School {
  Appliance& a;
  std::string admin, teacher, principal;
  std::int64_t class_id = 0;

  explicit School(Appliance& app) : a(app) {
    a.add_user("admin", "admin");
    a.add_user("gvcn.3a", "homeroom_teacher");  // the username the class file names
    a.add_user("ht", "principal");
    admin = a.login("admin");
    a.bind_key(admin, "pkcs11:token=GVCN-3A;object=gvcn-3a", "gvcn.3a");
    a.bind_key(admin, "pkcs11:token=HIEU-TRUONG;object=hieu-truong", "ht");
    a.bind_key(admin, "pkcs11:token=CON-DAU;object=con-dau", "");
    auto imp = a.json("POST", "/api/v1/classes", admin, read_text(samples("primary-3A.json")), 201);
    class_id = imp.at("class_id").as_int64();
    teacher = a.login("gvcn.3a");
    principal = a.login("ht");
  }

  std::int64_t start_job(const std::string& token, const std::string& field, const std::string& pin, std::int64_t cls = 0) {
    json::object b{{"field", field}, {"pin", pin}};
    if (cls) b["class_id"] = cls;
    return a.json("POST", "/api/v1/jobs", token, json::serialize(b), 202).at("id").as_int64();
  }

  std::vector<std::int64_t> record_ids() {
    std::vector<std::int64_t> ids;
    auto cls = a.json("GET", "/api/v1/classes/" + std::to_string(class_id), admin);
    for (auto& r : cls.at("records").as_array()) ids.push_back(r.at("id").as_int64());
    return ids;
  }
};

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

TEST(Appliance, EmbeddedDefaultsSignAWholeClassThreeTimes) {
  if (!have_tool("pdfsig") || !have_tool("qpdf")) GTEST_SKIP() << "pdfsig and qpdf are needed";
  ApplianceOptions o;
  o.own_demo_tokens = true;  // embedded defaults: hocbad provisions SoftHSM2 on first start
  Appliance a(o);
  auto health = a.json("GET", "/healthz");
  EXPECT_EQ(health.at("status").as_string(), "ok");
  School s(a);
  ASSERT_EQ(s.record_ids().size(), 35u);

  // The homeroom teacher signs the whole class with one PIN entry, then the principal, then the seal.
  auto j1 = a.wait_job(s.teacher, s.start_job(s.teacher, "gvcn", a.pin("GVCN-3A"), s.class_id));
  EXPECT_EQ(j1.at("state").as_string(), "done") << json::serialize(j1);
  EXPECT_EQ(j1.at("done").as_int64(), 35);
  auto j2 = a.wait_job(s.principal, s.start_job(s.principal, "hieu_truong", a.pin("HIEU-TRUONG")));
  EXPECT_EQ(j2.at("done").as_int64(), 35) << json::serialize(j2);
  auto j3 = a.wait_job(s.principal, s.start_job(s.principal, "con_dau", a.pin("CON-DAU")));
  EXPECT_EQ(j3.at("done").as_int64(), 35) << json::serialize(j3);

  int checked = 0;
  for (auto id : s.record_ids()) {
    auto rec = a.json("GET", "/api/v1/records/" + std::to_string(id), s.principal);
    EXPECT_EQ(rec.at("state").as_string(), "final");
    EXPECT_EQ(rec.at("signatures").as_array().size(), 3u);
    auto pdf = a.call("GET", "/api/v1/records/" + std::to_string(id) + "/pdf", s.principal);
    ASSERT_EQ(pdf.status, 200);
    EXPECT_EQ(pdf.header("Content-Type"), "application/pdf");
    std::string f = a.dir() + "/r" + std::to_string(id) + ".pdf";
    write_text(f, pdf.body);
    auto sig = run("pdfsig " + f + " 2>&1");
    EXPECT_EQ(count(sig.out, "Signature is Valid."), 3) << sig.out;
    EXPECT_EQ(count(sig.out, "Signature #"), 3) << sig.out;
    EXPECT_NE(sig.out.find("Total document signed"), std::string::npos) << sig.out;
    auto q = run("qpdf --check " + f + " 2>&1");
    EXPECT_EQ(q.status, 0) << q.out;
    ++checked;
  }
  EXPECT_EQ(checked, 35);

  // A final record is locked: signing it again is refused with the reason.
  auto again = a.call("POST", "/api/v1/records/" + std::to_string(s.record_ids()[0]) + "/sign", s.principal,
                      pin_body(a.pin("HIEU-TRUONG"), {{"field", "hieu_truong"}}));
  EXPECT_EQ(again.status, 422) << again.body;
  EXPECT_NE(again.body.find("final"), std::string::npos) << again.body;

  // Metrics: signatures by key and result, token busy time, request latency; admins only.
  auto m = a.call("GET", "/metrics", s.admin);
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("hocba_signatures_total{key=\"gvcn-3a\",result=\"ok\"} 35"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("hocba_signatures_total{key=\"con-dau\",result=\"ok\"} 35"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("hocba_token_busy_seconds_total{key=\"hieu-truong\"}"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("hocba_http_request_seconds_bucket{route=\"/api/v1/jobs/{id}\""), std::string::npos) << m.body;
  EXPECT_EQ(a.call("GET", "/metrics", s.teacher).status, 403);
  EXPECT_EQ(a.call("GET", "/metrics").status, 401);

  // The audit log of all this is intact.
  auto v = a.hocba("audit verify --state-dir " + a.state_dir());
  EXPECT_EQ(v.status, 0) << v.out;
  EXPECT_EQ(a.stop(), 0);  // SIGTERM: a clean exit
}

TEST(Appliance, AuditVerifyNamesAnyEditedRowOfARealLog) {
  Appliance a;
  School s(a);
  a.wait_job(s.teacher, s.start_job(s.teacher, "gvcn", a.pin("GVCN-3A"), s.class_id));
  EXPECT_EQ(a.stop(), 0);
  auto n = run("sqlite3 " + a.state_dir() + "/hocba.db 'SELECT count(*) FROM audit'");
  if (n.status != 0) GTEST_SKIP() << "sqlite3 is needed";
  int rows = std::stoi(n.out);
  ASSERT_GT(rows, 40);
  ASSERT_EQ(a.hocba("audit verify --state-dir " + a.state_dir()).status, 0);
  // Every row in turn (on a copy): change one byte of its detail; verify must name that row.
  std::string copy = a.dir() + "/copy";
  for (int seq = 1; seq <= rows; ++seq) {
    run("rm -rf " + copy + " && cp -a " + a.state_dir() + " " + copy);
    auto e = run("sqlite3 " + copy + "/hocba.db \"UPDATE audit SET detail_json = replace(detail_json, '}', ' }') WHERE seq = " +
                 std::to_string(seq) + "\"");
    ASSERT_EQ(e.status, 0) << e.out;
    auto r = a.hocba("audit verify --state-dir " + copy);
    EXPECT_EQ(r.status, 3) << "row " << seq << ": " << r.out;
    EXPECT_NE(r.out.find("entry " + std::to_string(seq) + " "), std::string::npos) << "row " << seq << ": " << r.out;
  }
}

TEST(Appliance, WrongPinStopsTheBatchAtOnceAndSaysWhy) {
  Appliance a;
  School s(a);
  auto j = a.wait_job(s.teacher, s.start_job(s.teacher, "gvcn", "999999", s.class_id));
  EXPECT_EQ(j.at("state").as_string(), "failed") << json::serialize(j);
  EXPECT_EQ(j.at("done").as_int64(), 0);
  EXPECT_EQ(j.at("failed").as_int64(), 0);   // no record is blamed: the PIN is
  EXPECT_EQ(j.at("queued").as_int64(), 35);  // nothing was tried after the first refusal
  EXPECT_NE(std::string(j.at("reason").as_string()).find("rejected the PIN"), std::string::npos) << json::serialize(j);
  // The token counted exactly one wrong PIN (SoftHSM2 reports count-low after a failure, and our
  // own ledger says 1): no second try was made.
  auto toks = a.json("GET", "/api/v1/tokens", s.admin);
  bool seen = false;
  for (auto& t : toks.at("tokens").as_array())
    if (t.at("label").as_string() == "GVCN-3A") {
      seen = true;
      EXPECT_FALSE(t.at("pin_locked").as_bool());
    }
  EXPECT_TRUE(seen);
  // Resuming with the right PIN needs an explicit confirmation (the token saw a wrong PIN), then works.
  auto jid = std::to_string(j.at("id").as_int64());
  auto r = a.json("POST", "/api/v1/jobs/" + jid + "/resume", s.teacher, pin_body(a.pin("GVCN-3A")), 202);
  auto j2 = a.wait_job(s.teacher, j.at("id").as_int64());
  EXPECT_EQ(j2.at("state").as_string(), "failed");
  EXPECT_NE(std::string(j2.at("reason").as_string()).find("confirmation"), std::string::npos) << json::serialize(j2);
  a.json("POST", "/api/v1/jobs/" + jid + "/resume", s.teacher, pin_body(a.pin("GVCN-3A"), {{"confirm_pin_risk", true}}), 202);
  auto j3 = a.wait_job(s.teacher, j.at("id").as_int64());
  EXPECT_EQ(j3.at("state").as_string(), "done") << json::serialize(j3);
  EXPECT_EQ(j3.at("done").as_int64(), 35);
}

TEST(Appliance, OutOfOrderAndOtherPeoplesRecordsAreRefusedWithAReason) {
  Appliance a;
  School s(a);
  auto id = std::to_string(s.record_ids()[0]);
  // The principal cannot sign before the homeroom teacher.
  auto r = a.call("POST", "/api/v1/records/" + id + "/sign", s.principal, pin_body(a.pin("HIEU-TRUONG"), {{"field", "hieu_truong"}}));
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("needs the gvcn signature before hieu_truong"), std::string::npos) << r.body;
  // Another homeroom teacher cannot sign class 3A, nor see it.
  a.add_user("gvcn.5a", "homeroom_teacher");
  auto other = a.login("gvcn.5a");
  r = a.call("POST", "/api/v1/records/" + id + "/sign", other, pin_body("111111"));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(a.call("GET", "/api/v1/records/" + id, other).status, 403);
  EXPECT_EQ(a.call("GET", "/api/v1/records/" + id + "/pdf", other).status, 403);
  // Nor use another user's key.
  auto keys = a.json("GET", "/api/v1/keys", s.admin).at("keys").as_array();
  std::int64_t teachers_key = 0;
  for (auto& k : keys)
    if (k.at("owner").is_string() && k.at("owner").as_string() == "gvcn.3a") teachers_key = k.at("id").as_int64();
  r = a.call("POST", "/api/v1/records/" + id + "/sign", s.principal,
             json::serialize(json::object{{"pin", a.pin("GVCN-3A")}, {"field", "gvcn"}, {"key_id", teachers_key}}));
  EXPECT_EQ(r.status, 403) << r.body;
  // The right teacher signs one record interactively; the PIN is checked even though the token is open.
  r = a.call("POST", "/api/v1/records/" + id + "/sign", s.teacher, pin_body(a.pin("GVCN-3A")));
  EXPECT_EQ(r.status, 200) << r.body;
  auto id2 = std::to_string(s.record_ids()[1]);
  r = a.call("POST", "/api/v1/records/" + id2 + "/sign", s.teacher, pin_body("000000"));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("does not match"), std::string::npos) << r.body;
}

TEST(Appliance, CorrectionsNeedTheAdminAndKeepTheOldVersion) {
  Appliance a;
  School s(a);
  auto rid = s.record_ids()[0];
  auto id = std::to_string(rid);
  for (auto [tok, pin] : {std::pair{s.teacher, a.pin("GVCN-3A")}, std::pair{s.principal, a.pin("HIEU-TRUONG")},
                          std::pair{s.principal, a.pin("CON-DAU")}})
    ASSERT_EQ(a.call("POST", "/api/v1/records/" + id + "/sign", tok, pin_body(pin)).status, 200);
  auto rec = a.json("GET", "/api/v1/records/" + id, s.teacher);
  ASSERT_EQ(rec.at("state").as_string(), "final");

  // The teacher asks for a correction (the student's comment changes).
  auto cls = json::parse(read_text(samples("primary-3A.json"))).as_object();
  json::object student;
  for (auto& st : cls.at("students").as_array())
    if (st.at("personal_id").as_string() == rec.at("personal_id").as_string()) student = st.as_object();
  ASSERT_FALSE(student.empty());
  student["primary"].as_object()["homeroom_comment"] = "Em tiến bộ rõ rệt trong học kỳ II.";
  auto req = a.json("POST", "/api/v1/records/" + id + "/corrections", s.teacher,
                    json::serialize(json::object{{"student", student}, {"why", "Sửa nhận xét của giáo viên chủ nhiệm"}}), 201);
  auto cid = std::to_string(req.at("id").as_int64());
  // Only the admin approves.
  EXPECT_EQ(a.call("POST", "/api/v1/corrections/" + cid + "/approve", s.principal, "{}").status, 403);
  auto ok = a.json("POST", "/api/v1/corrections/" + cid + "/approve", s.admin, "{\"note\":\"đồng ý\"}");
  auto new_id = std::to_string(ok.at("new_record_id").as_int64());
  EXPECT_EQ(ok.at("version").as_int64(), 2);

  auto old = a.json("GET", "/api/v1/records/" + id, s.teacher);
  EXPECT_EQ(old.at("state").as_string(), "superseded");
  EXPECT_EQ(old.at("superseded_by").as_int64(), ok.at("new_record_id").as_int64());
  EXPECT_EQ(a.call("GET", "/api/v1/records/" + id + "/pdf", s.teacher).status, 200);  // the old version stays
  auto fresh = a.json("GET", "/api/v1/records/" + new_id, s.teacher);
  EXPECT_EQ(fresh.at("state").as_string(), "draft");
  EXPECT_EQ(fresh.at("versions").as_array().size(), 2u);
  // The new version is signed again from the start.
  EXPECT_EQ(a.call("POST", "/api/v1/records/" + new_id + "/sign", s.teacher, pin_body(a.pin("GVCN-3A"))).status, 200);
  auto audit = a.json("GET", "/api/v1/audit?limit=1000", s.admin).at("entries").as_array();
  int requests = 0, approvals = 0;
  for (auto& e : audit) {
    requests += e.at("action").as_string() == "correction.request";
    approvals += e.at("action").as_string() == "correction.approve";
  }
  EXPECT_EQ(requests, 1);
  EXPECT_EQ(approvals, 1);
}

TEST(Appliance, SigtermPausesAJobThatResumesWithoutSigningTwice) {
  if (!have_tool("pdfsig")) GTEST_SKIP() << "pdfsig is needed";
  Appliance a;
  School s(a);
  auto jid = s.start_job(s.teacher, "gvcn", a.pin("GVCN-3A"), s.class_id);
  // Stop while it runs (or just after: either way the job must end complete and single-signed).
  EXPECT_EQ(a.stop(), 0);
  a.start();
  auto teacher = a.login("gvcn.3a");
  auto j = a.json("GET", "/api/v1/jobs/" + std::to_string(jid), teacher).as_object();
  if (j.at("state").as_string() != "done") {
    EXPECT_EQ(j.at("state").as_string(), "paused") << json::serialize(j);
    a.json("POST", "/api/v1/jobs/" + std::to_string(jid) + "/resume", teacher, pin_body(a.pin("GVCN-3A")), 202);
    j = a.wait_job(teacher, jid);
  }
  EXPECT_EQ(j.at("state").as_string(), "done") << json::serialize(j);
  EXPECT_EQ(j.at("done").as_int64(), 35);
  auto admin = a.login("admin");
  for (auto id : s.record_ids()) {
    auto pdf = a.call("GET", "/api/v1/records/" + std::to_string(id) + "/pdf", admin);
    ASSERT_EQ(pdf.status, 200);
    std::string f = a.dir() + "/r.pdf";
    write_text(f, pdf.body);
    auto sig = run("pdfsig " + f + " 2>&1");
    EXPECT_EQ(count(sig.out, "Signature Field Name: gvcn"), 1) << "record " << id << ": " << sig.out;
    EXPECT_EQ(count(sig.out, "Signing Time:"), 1) << "record " << id << ": " << sig.out;
    EXPECT_EQ(count(sig.out, "Signature is Valid."), 1) << "record " << id << ": " << sig.out;
  }
}

TEST(Appliance, AnOpenTokenIsNoPlaceToGuessPins) {
  Appliance a;
  School s(a);
  auto ids = s.record_ids();
  auto sign = [&](std::size_t i, json::object body) {
    return a.call("POST", "/api/v1/records/" + std::to_string(ids[i]) + "/sign", s.teacher, json::serialize(body));
  };
  ASSERT_EQ(sign(0, {{"pin", a.pin("GVCN-3A")}}).status, 200);  // the token is open now
  auto r = sign(1, {{"pin", "000001"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("pin_incorrect"), std::string::npos) << r.body;
  r = sign(1, {{"pin", "000001"}, {"confirm_pin_risk", true}});  // the same wrong PIN: never again
  EXPECT_NE(r.body.find("pin_rejected_before"), std::string::npos) << r.body;
  r = sign(1, {{"pin", "000002"}});  // another guess needs a person's confirmation
  EXPECT_NE(r.body.find("pin_needs_confirm"), std::string::npos) << r.body;
  EXPECT_NE(sign(1, {{"pin", "000002"}, {"confirm_pin_risk", true}}).body.find("pin_incorrect"), std::string::npos);
  EXPECT_NE(sign(1, {{"pin", "000003"}, {"confirm_pin_risk", true}}).body.find("pin_incorrect"), std::string::npos);
  // Three mismatches: the token was logged out, so the next PIN goes to the token itself (and counts
  // there). The right PIN, confirmed, signs.
  r = sign(1, {{"pin", a.pin("GVCN-3A")}, {"confirm_pin_risk", true}});
  EXPECT_EQ(r.status, 200) << r.body;
  auto audit = a.hocba("audit export --state-dir " + a.state_dir()).out;
  EXPECT_EQ(audit.find("000002"), std::string::npos);  // PINs never reach the audit log
}

TEST(Appliance, AFileLeftAtTheNextStepIsTakenOnlyIfItIsThisSignature) {
  Appliance a;
  School s(a);
  auto ids = s.record_ids();
  auto rec = [&](std::size_t i) { return a.json("GET", "/api/v1/records/" + std::to_string(ids[i]), s.admin); };
  ASSERT_EQ(a.call("POST", "/api/v1/records/" + std::to_string(ids[0]) + "/sign", s.teacher, pin_body(a.pin("GVCN-3A"))).status, 200);
  // Record 0's signed file put where record 1's would go (as a confused restore or a bug might).
  auto r0 = rec(0), r1 = rec(1);
  std::string dir0 = a.state_dir() + "/records/" + std::to_string(s.class_id) + "/" + std::string(r0.at("personal_id").as_string());
  std::string dir1 = a.state_dir() + "/records/" + std::to_string(s.class_id) + "/" + std::string(r1.at("personal_id").as_string());
  ASSERT_EQ(run("cp " + dir0 + "/v1-1.pdf " + dir1 + "/v1-1.pdf").status, 0);
  auto r = a.call("POST", "/api/v1/records/" + std::to_string(ids[1]) + "/sign", s.teacher, pin_body(a.pin("GVCN-3A")));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(rec(1).at("pdf_sha256"), rec(0).at("pdf_sha256"));  // signed afresh, not taken
  EXPECT_EQ(run("ls " + dir1 + " | grep -c orphan").out, "1\n");  // the stray file kept aside
  auto pdf = a.call("GET", "/api/v1/records/" + std::to_string(ids[1]) + "/pdf", s.admin);
  EXPECT_NE(pdf.body.find(std::string(r1.at("personal_id").as_string())), std::string::npos);
}

TEST(Appliance, AdminCommandsWorkAgainstTheStateDirectory) {
  Appliance a;
  a.add_user("admin", "admin");
  a.add_user("co.lan", "viewer");
  auto st = "--state-dir " + a.state_dir();
  // Roles.
  auto r = a.hocba("user role " + st + " --username co.lan --role homeroom_teacher");
  ASSERT_EQ(r.status, 0) << r.out;
  auto me = a.json("GET", "/api/v1/me", a.login("co.lan"));
  EXPECT_EQ(me.at("role").as_string(), "homeroom_teacher");
  // Key bindings: checked on the token; one owner per key.
  r = a.hocba("key bind " + st + " --key 'pkcs11:token=GVCN-3A;object=gvcn-3a' --user co.lan");
  ASSERT_EQ(r.status, 0) << r.out;
  r = a.hocba("key bind " + st + " --key 'pkcs11:token=GVCN-3A;object=gvcn-3a' --seal");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("already bound"), std::string::npos) << r.out;
  r = a.hocba("key bind " + st + " --key 'pkcs11:object=gvcn-3a;token=GVCN-3A' --seal");  // the same key, spelt otherwise
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("already bound"), std::string::npos) << r.out;
  r = a.hocba("key bind " + st + " --key 'pkcs11:token=GVCN-3A;object=no-such-key' --user co.lan");
  EXPECT_NE(r.status, 0) << r.out;
  auto keys = a.json("GET", "/api/v1/keys", a.login("co.lan")).at("keys").as_array();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_NE(std::string(keys[0].at("uri").as_string()).find("object=gvcn-3a"), std::string::npos) << keys[0];
  r = a.hocba("key bindings " + st);
  EXPECT_NE(r.out.find("co.lan"), std::string::npos) << r.out;
  r = a.hocba("key unbind " + st + " --id " + std::to_string(keys[0].at("id").as_int64()));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(a.json("GET", "/api/v1/keys", a.login("co.lan")).at("keys").as_array().empty());
  // Disabling ends the sessions and refuses the login.
  auto token = a.login("co.lan");
  ASSERT_EQ(a.hocba("user disable " + st + " --username co.lan").status, 0);
  EXPECT_EQ(a.call("GET", "/api/v1/me", token).status, 401);
  EXPECT_EQ(a.call("POST", "/api/v1/auth/login", "", "{\"username\":\"co.lan\",\"password\":\"password-co.lan\"}").status, 401);
  // Each change is in the audit log.
  auto audit = a.hocba("audit export " + st);
  for (const char* action : {"user.role", "key.bind", "key.unbind", "user.disable"})
    EXPECT_NE(audit.out.find(std::string("\"action\":\"") + action + "\""), std::string::npos) << action;
}

TEST(Appliance, LoginsAreThrottledPerAccount) {
  Appliance a;
  a.add_user("ht", "principal");
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(a.call("POST", "/api/v1/auth/login", "", "{\"username\":\"ht\",\"password\":\"wrong-password\"}").status, 401);
  // Locked out now, even with the right password.
  auto r = a.call("POST", "/api/v1/auth/login", "", "{\"username\":\"ht\",\"password\":\"password-ht\"}");
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_FALSE(r.header("Retry-After").empty());
  // Malformed input gets a clear error, not a crash.
  EXPECT_EQ(a.call("POST", "/api/v1/auth/login", "", "{not json").status, 400);
}

TEST(Appliance, SignsAtBTWithTheSchoolsTimestampAuthority) {
  if (!have_tool("pdfsig")) GTEST_SKIP() << "pdfsig is needed";
  // The TSA: our test TSA process, with a certificate from the test PKI the appliance's tokens use.
  TempDir pki;
  provision_softhsm(pki.path());
  make_tsa_certificate(pki.file("tsa"), pki.file("pki/sub.pem"), pki.file("pki/sub.key"), "/C=VN/O=hocba test PKI/CN=hocba Test TSA");
  ChildServer tsa({HOCBA_TEST_TSA, "--key", pki.file("tsa.key"), "--cert", pki.file("tsa.pem"), "--chain", pki.file("pki/sub.pem"),
                   "--chain", pki.file("pki/root.pem"), "--port", "0"},
                  pki.file("tsa.log"));
  ApplianceOptions o;
  o.config_toml = "[signing]\nlevel = \"B-T\"\ntsa_urls = [\"" + tsa.url("/tsa") + "\"]\n";
  Appliance a(o);
  EXPECT_EQ(a.json("GET", "/healthz").at("level").as_string(), "B-T");
  School s(a);
  auto id = std::to_string(s.record_ids()[0]);
  ASSERT_EQ(a.call("POST", "/api/v1/records/" + id + "/sign", s.teacher, pin_body(a.pin("GVCN-3A"))).status, 200);
  auto pdf = a.call("GET", "/api/v1/records/" + id + "/pdf", s.teacher);
  std::string f = a.dir() + "/bt.pdf";
  write_text(f, pdf.body);
  auto v = run(std::string(HOCBA_CLI) + " verify " + f + " --trust " + a.dir() + "/softhsm/pki/root.pem --json");
  EXPECT_EQ(v.status, 0) << v.out;
  EXPECT_NE(v.out.find("\"level\":\"B-T\""), std::string::npos) << v.out;
  auto sig = run("pdfsig " + f + " 2>&1");
  EXPECT_NE(sig.out.find("Signature is Valid."), std::string::npos) << sig.out;
}

TEST(Appliance, ASealedSealPinNeedsNoEntryAndResumesAfterARestart) {
  TempDir pins;
  ApplianceOptions o;
  // The PIN file is written before the first start: the test tokens' seal PIN (test_env.h).
  write_text(pins.file("seal.pin"), "333333\n");
  o.config_toml = "[seal]\npin_file = \"" + pins.file("seal.pin") + "\"\n";
  Appliance a(o);
  School s(a);
  EXPECT_EQ(a.json("GET", "/api/v1/me", s.principal).at("seal_pin_sealed").as_bool(), true);
  a.wait_job(s.teacher, s.start_job(s.teacher, "gvcn", a.pin("GVCN-3A"), s.class_id));
  a.wait_job(s.principal, s.start_job(s.principal, "hieu_truong", a.pin("HIEU-TRUONG")));
  // The seal job without a PIN.
  auto jid = a.json("POST", "/api/v1/jobs", s.principal, "{\"field\":\"con_dau\"}", 202).at("id").as_int64();
  a.kill9();  // mid-job or just after
  a.start();
  auto principal = a.login("ht");
  auto j = a.wait_job(principal, jid);
  EXPECT_EQ(j.at("state").as_string(), "done") << json::serialize(j);  // resumed by itself
  EXPECT_EQ(j.at("done").as_int64(), 35);
  ASSERT_EQ(a.pin("CON-DAU"), "333333");
  // A single seal request without a PIN gets past the PIN check to the workflow's answer (final).
  EXPECT_EQ(a.call("POST", "/api/v1/records/" + std::to_string(s.record_ids()[0]) + "/sign", principal, "{\"field\":\"con_dau\"}").status, 422);
}

TEST(Appliance, SessionsAreHttpOnlySecureStrictCookiesAndTotpIsOptional) {
  Appliance a;
  a.add_user("ht", "principal");
  auto r = a.call("POST", "/api/v1/auth/login", "", "{\"username\":\"ht\",\"password\":\"password-ht\"}");
  ASSERT_EQ(r.status, 200);
  std::string cookie = r.header("Set-Cookie");
  for (const char* attr : {"hocba_session=", "HttpOnly", "Secure", "SameSite=Strict", "Path=/"})
    EXPECT_NE(cookie.find(attr), std::string::npos) << attr << " missing from " << cookie;
  std::string token = std::string(json::parse(r.body).at("token").as_string());
  // The cookie works like the Bearer token; a foreign Origin cannot change anything with it.
  std::string c = "hocba_session=" + token;
  EXPECT_EQ(a.call("GET", "/api/v1/me", "", "", {{"Cookie", c}}).status, 200);
  EXPECT_EQ(a.call("POST", "/api/v1/auth/logout", "", "", {{"Cookie", c}, {"Origin", "https://evil.example"}}).status, 403);

  // TOTP: ask for a secret, confirm it with a code, then logins need a fresh code.
  // (Each step needs the account's password.)
  auto secret = std::string(a.json("POST", "/api/v1/me/totp", token, "{\"password\":\"password-ht\"}").at("secret").as_string());
  std::int64_t now = std::time(nullptr);
  EXPECT_EQ(a.call("POST", "/api/v1/me/totp", token,
                   json::serialize(json::object{{"password", "password-ht"}, {"secret", secret}, {"code", "000000"}})).status,
            400);
  ASSERT_EQ(a.call("POST", "/api/v1/me/totp", token,
                   json::serialize(json::object{{"password", "password-ht"}, {"secret", secret}, {"code", api::totp_code(secret, now - 30)}}))
                .status,
            200);
  r = a.call("POST", "/api/v1/auth/login", "", "{\"username\":\"ht\",\"password\":\"password-ht\"}");
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("one-time code"), std::string::npos) << r.body;
  std::string code = api::totp_code(secret, now);
  json::object login{{"username", "ht"}, {"password", "password-ht"}, {"totp", code}};
  EXPECT_EQ(a.call("POST", "/api/v1/auth/login", "", json::serialize(login)).status, 200);
  EXPECT_EQ(a.call("POST", "/api/v1/auth/login", "", json::serialize(login)).status, 401);  // the same code again
}

TEST(Appliance, AConfigurationChangeIsAudited) {
  ApplianceOptions o;
  o.config_toml = "[school]\nname = \"Trường Tiểu học Ngô Sỹ Kiện\"\n";
  Appliance a(o);
  a.stop();
  a.start();  // the same configuration: no new entry
  a.stop();
  write_text(a.dir() + "/hocbad.toml", "[school]\nname = \"Trường Tiểu học Ngô Sỹ Kiện\"\n[auth]\nmax_failures = 3\n");
  a.start();
  auto log = a.hocba("audit export --state-dir " + a.state_dir()).out;
  EXPECT_EQ(count(log, "\"action\":\"config.load\""), 2) << log;
  EXPECT_EQ(count(log, "\"action\":\"service.start\""), 3) << log;
}

}  // namespace
}  // namespace hocba::test
