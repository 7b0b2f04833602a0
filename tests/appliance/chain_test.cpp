// The school's four-step secondary chain end to end (issue 11): subject teachers confirm their
// subjects' scores on signed score sheets (gvbm), then the homeroom teacher (gvcn), then a deputy
// principal in the principal's place (hieu_truong), then the seal (con_dau) — on a lower-secondary
// class, through hocbad's REST API and `hocba`, every PDF checked with pdfsig and qpdf.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <span>
#include <tuple>

#include "appliance.h"
#include "hocba/pdf/signing.h"

namespace hocba::test {
namespace {

namespace json = boost::json;

std::string samples(const std::string& name) { return std::string(HOCBA_TEST_DATA) + "/samples/" + name; }

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

std::int64_t start_job(Appliance& a, const std::string& token, const std::string& field, const std::string& pin, std::int64_t cls = 0) {
  json::object b{{"field", field}, {"pin", pin}};
  if (cls) b["class_id"] = cls;
  return a.json("POST", "/api/v1/jobs", token, json::serialize(b), 202).at("id").as_int64();
}

// pdfsig's count of valid signatures of a downloaded PDF, and qpdf --check's verdict.
struct Checked {
  int valid = 0, total = 0;
  bool qpdf_ok = false;
  std::string out;
};
Checked check_pdf(Appliance& a, const std::string& token, const std::string& path, const std::string& name) {
  auto pdf = a.call("GET", path, token);
  EXPECT_EQ(pdf.status, 200) << path;
  std::string f = a.dir() + "/" + name + ".pdf";
  write_text(f, pdf.body);
  Checked c;
  auto sig = run("pdfsig " + f + " 2>&1");
  c.valid = count(sig.out, "Signature is Valid.");
  c.total = count(sig.out, "Signature #");
  c.out = sig.out;
  c.qpdf_ok = run("qpdf --check " + f + " 2>&1").status == 0;
  return c;
}

json::array sheets(Appliance& a, const std::string& token) { return a.json("GET", "/api/v1/sheets", token).at("sheets").as_array(); }

TEST(Chain, FourStepSecondaryChainWithSubjectTeachersAndADeputy) {
  if (!have_tool("pdfsig") || !have_tool("qpdf") || !have_tool("pdftotext")) GTEST_SKIP() << "pdfsig, qpdf and pdftotext are needed";
  Appliance a;
  a.add_user("admin", "admin");
  a.add_user("gvcn.8a", "homeroom_teacher");  // the class file names these
  a.add_user("gv.toan", "subject_teacher");
  a.add_user("gv.van", "subject_teacher");
  a.add_user("pho", "deputy_principal");
  std::string admin = a.login("admin");
  a.bind_key(admin, "pkcs11:token=GVCN-3A;object=gvcn-3a", "gvcn.8a");
  a.bind_key(admin, "pkcs11:token=CON-DAU;object=con-dau-p384", "gv.toan");
  a.bind_key(admin, "pkcs11:token=HIEU-TRUONG;object=hieu-truong", "pho");
  a.bind_key(admin, "pkcs11:token=CON-DAU;object=con-dau", "");
  auto imp = a.json("POST", "/api/v1/classes", admin, read_text(samples("thcs-8A-gvbm.json")), 201);
  const std::int64_t class_id = imp.at("class_id").as_int64();
  std::string gvcn = a.login("gvcn.8a"), toan = a.login("gv.toan"), van = a.login("gv.van"), pho = a.login("pho");

  // The chain the UI is given: lower secondary takes gvbm first; the deputy signs the principal's steps.
  auto me = a.json("GET", "/api/v1/me", pho).at("chain").as_object();
  EXPECT_EQ(json::serialize(me.at("levels").at("lower_secondary").at("sheet_steps")), R"(["gvbm"])");
  EXPECT_EQ(json::serialize(me.at("my_steps")), R"(["hieu_truong","con_dau"])");

  // Each subject teacher sees their own subject's sheet, waiting; the class's other subjects name
  // teachers who have no account, so they have no teacher yet.
  auto mine = sheets(a, toan);
  ASSERT_EQ(mine.size(), 1u) << json::serialize(mine);
  EXPECT_EQ(mine[0].at("subject").as_string(), "Toán");
  EXPECT_EQ(mine[0].at("state").as_string(), "waiting");
  ASSERT_EQ(sheets(a, van).size(), 1u);

  // The homeroom teacher is refused until every subject is confirmed, and told which wait for whom.
  auto cls = a.json("GET", "/api/v1/classes/" + std::to_string(class_id), admin);
  const std::int64_t first = cls.at("records").as_array()[0].at("id").as_int64();
  auto refused = a.call("POST", "/api/v1/records/" + std::to_string(first) + "/sign", gvcn,
                        json::serialize(json::object{{"pin", a.pin("GVCN-3A")}}));
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_NE(refused.body.find("Toán: waiting for gv.toan"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("Ngữ văn: waiting for gv.van"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("Tin học: no subject teacher assigned"), std::string::npos) << refused.body;

  // The admin gives gv.toan every other subject with `hocba class teacher` (gv.van's too).
  const json::value class_file = json::parse(read_text(samples("thcs-8A-gvbm.json")));
  for (auto& t : class_file.at("class").at("subject_teachers").as_array()) {
    std::string subject(t.at("subject").as_string());
    if (subject == "Toán") continue;
    auto r = a.hocba("class teacher --state-dir " + a.state_dir() + " --class-id " + std::to_string(class_id) + " --subject '" + subject +
                     "' --username gv.toan");
    ASSERT_EQ(r.status, 0) << r.out;
  }
  EXPECT_NE(a.hocba("class teacher --state-dir " + a.state_dir() + " --class-id " + std::to_string(class_id) +
                    " --subject 'Toán' --username pho").status, 0);  // not a subject teacher

  // One PIN entry confirms all 13 of gv.toan's class-subjects.
  auto conf = a.json("POST", "/api/v1/sheets/confirm", toan, json::serialize(json::object{{"pin", a.pin("CON-DAU")}}));
  EXPECT_EQ(conf.at("confirmed").as_int64(), 13) << json::serialize(conf);
  mine = sheets(a, toan);
  ASSERT_EQ(mine.size(), 13u);
  for (auto& s : mine) EXPECT_EQ(s.at("state").as_string(), "confirmed") << json::serialize(s);
  EXPECT_TRUE(sheets(a, van).empty());  // Ngữ văn is gv.toan's now
  auto sheet = check_pdf(a, toan, "/api/v1/sheets/" + std::to_string(mine[0].at("id").as_int64()) + "/pdf", "sheet");
  EXPECT_EQ(sheet.valid, 1) << sheet.out;
  EXPECT_TRUE(sheet.qpdf_ok);

  // The drafts name the teacher who confirmed each subject.
  auto draft = a.call("GET", "/api/v1/records/" + std::to_string(first) + "/pdf", admin);
  write_text(a.dir() + "/draft.pdf", draft.body);
  auto text = run("pdftotext " + a.dir() + "/draft.pdf -");
  // (The accounts here have no display name, so the teacher is named by username.)
  EXPECT_GE(count(text.out, "gv.toan"), 13) << text.out.substr(0, 3000);

  // gvcn, then the deputy in the principal's place, then the seal (by the deputy too).
  auto j1 = a.wait_job(gvcn, start_job(a, gvcn, "gvcn", a.pin("GVCN-3A"), class_id));
  EXPECT_EQ(j1.at("state").as_string(), "done") << json::serialize(j1);
  auto j2 = a.wait_job(pho, start_job(a, pho, "hieu_truong", a.pin("HIEU-TRUONG")));
  EXPECT_EQ(j2.at("state").as_string(), "done") << json::serialize(j2);
  auto j3 = a.wait_job(pho, start_job(a, pho, "con_dau", a.pin("CON-DAU")));
  EXPECT_EQ(j3.at("state").as_string(), "done") << json::serialize(j3);
  const std::int64_t n = j1.at("done").as_int64();
  EXPECT_GT(n, 40);
  EXPECT_EQ(j2.at("done").as_int64(), n);
  EXPECT_EQ(j3.at("done").as_int64(), n);

  cls = a.json("GET", "/api/v1/classes/" + std::to_string(class_id), admin);
  int checked = 0;
  for (auto& r : cls.at("records").as_array()) {
    EXPECT_EQ(r.at("state").as_string(), "final");
    if (checked >= 4) continue;  // pdfsig on a few of them
    auto c = check_pdf(a, admin, "/api/v1/records/" + std::to_string(r.at("id").as_int64()) + "/pdf", "rec" + std::to_string(checked));
    EXPECT_EQ(c.valid, 3) << c.out;
    EXPECT_EQ(c.total, 3) << c.out;
    EXPECT_TRUE(c.qpdf_ok);
    ++checked;
  }
  EXPECT_EQ(checked, 4);

  // A corrected score needs a new confirmation of its sheet, kept as a new version.
  auto rec = a.json("GET", "/api/v1/records/" + std::to_string(first), admin).as_object();
  json::value student;
  for (auto& st : class_file.at("students").as_array())
    if (st.at("personal_id") == rec.at("personal_id")) student = st;
  ASSERT_TRUE(student.is_object());
  auto& subjects = student.at("secondary").at("subjects").as_array();
  for (auto& sub : subjects)
    if (sub.at("subject").as_string() == "Toán") sub.as_object()["comment"] = "Đã sửa điểm theo biên bản";
  auto corr = a.json("POST", "/api/v1/records/" + std::to_string(first) + "/corrections", gvcn,
                     json::serialize(json::object{{"student", student}, {"why", "nhập sai nhận xét môn Toán"}}), 201);
  auto appr = a.json("POST", "/api/v1/corrections/" + std::to_string(corr.at("id").as_int64()) + "/approve", admin, "{}");
  const std::int64_t newer = appr.at("new_record_id").as_int64();
  mine = sheets(a, toan);
  int waiting = 0;
  for (auto& s : mine)
    if (s.at("state").as_string() == "waiting") {
      ++waiting;
      EXPECT_EQ(s.at("subject").as_string(), "Toán");
      EXPECT_EQ(s.at("version").as_int64(), 2);
    }
  EXPECT_EQ(waiting, 1) << json::serialize(mine);
  auto again = a.call("POST", "/api/v1/records/" + std::to_string(newer) + "/sign", gvcn,
                      json::serialize(json::object{{"pin", a.pin("GVCN-3A")}}));
  EXPECT_EQ(again.status, 403) << again.body;
  EXPECT_NE(again.body.find("Toán"), std::string::npos) << again.body;
  conf = a.json("POST", "/api/v1/sheets/confirm", toan, json::serialize(json::object{{"pin", a.pin("CON-DAU")}}));
  EXPECT_EQ(conf.at("confirmed").as_int64(), 1) << json::serialize(conf);
  auto signed_again = a.call("POST", "/api/v1/records/" + std::to_string(newer) + "/sign", gvcn,
                             json::serialize(json::object{{"pin", a.pin("GVCN-3A")}}));
  EXPECT_EQ(signed_again.status, 200) << signed_again.body;

  auto v = a.hocba("audit verify --state-dir " + a.state_dir());
  EXPECT_EQ(v.status, 0) << v.out;
}

// Adding a step is configuration: a deputy's check between the homeroom teacher and the principal (no
// box on the form: an invisible signature field), and the principal's step renamed and retitled in the
// principal's box. The drafts carry the new fields; every step signs through the REST API.
TEST(Chain, ANewStepIsTheChainTableAndItsBox) {
  if (!have_tool("pdfsig") || !have_tool("qpdf") || !have_tool("pdftotext")) GTEST_SKIP() << "pdfsig, qpdf and pdftotext are needed";
  ApplianceOptions o;
  o.config_toml = R"([workflow]
primary = ["gvcn", "kiem_tra", "ky_duyet", "con_dau"]
lower_secondary = ["gvbm", "gvcn", "kiem_tra", "ky_duyet", "con_dau"]
upper_secondary = ["gvbm", "gvcn", "kiem_tra", "ky_duyet", "con_dau"]
[workflow.steps.hieu_truong]
box = ""
[workflow.steps.kiem_tra]
role = "deputy_principal"
title = ["PHÓ HIỆU TRƯỞNG"]
reason = "Phó hiệu trưởng ký kiểm tra học bạ"
label = "Phó hiệu trưởng kiểm tra"
verb = "Ký kiểm tra"
[workflow.steps.ky_duyet]
role = "principal"
box = "principal"
title = ["THỦ TRƯỞNG ĐƠN VỊ"]
reason = "Thủ trưởng đơn vị ký duyệt học bạ"
label = "Thủ trưởng đơn vị"
verb = "Ký duyệt"
)";
  Appliance a(o);
  a.add_user("admin", "admin");
  a.add_user("gvcn.3a", "homeroom_teacher");
  a.add_user("pho", "deputy_principal");
  a.add_user("ht", "principal");
  std::string admin = a.login("admin");
  a.bind_key(admin, "pkcs11:token=GVCN-3A;object=gvcn-3a", "gvcn.3a");
  a.bind_key(admin, "pkcs11:token=CON-DAU;object=con-dau-p384", "pho");
  a.bind_key(admin, "pkcs11:token=HIEU-TRUONG;object=hieu-truong", "ht");
  a.bind_key(admin, "pkcs11:token=CON-DAU;object=con-dau", "");
  const std::int64_t class_id = a.json("POST", "/api/v1/classes", admin, read_text(samples("primary-3A.json")), 201).at("class_id").as_int64();
  std::string gvcn = a.login("gvcn.3a"), pho = a.login("pho"), ht = a.login("ht");
  EXPECT_EQ(json::serialize(a.json("GET", "/api/v1/me", ht).at("chain").at("my_steps")), R"(["ky_duyet","con_dau"])");
  EXPECT_EQ(json::serialize(a.json("GET", "/api/v1/me", pho).at("chain").at("my_steps")), R"(["kiem_tra","con_dau"])");

  // The draft: the form's three boxes, the principal's titled and named by the new step.
  auto cls = a.json("GET", "/api/v1/classes/" + std::to_string(class_id), admin);
  const std::int64_t first = cls.at("records").as_array()[0].at("id").as_int64();
  auto draft = a.call("GET", "/api/v1/records/" + std::to_string(first) + "/pdf", admin);
  ASSERT_EQ(draft.status, 200);
  auto seen = pdf::inspect(std::span(reinterpret_cast<const std::uint8_t*>(draft.body.data()), draft.body.size()));
  ASSERT_TRUE(seen) << seen.error().message;
  EXPECT_EQ(seen->empty_signature_fields, (std::vector<std::string>{"gvcn", "ky_duyet", "con_dau"}));
  write_text(a.dir() + "/draft.pdf", draft.body);
  auto text = run("pdftotext " + a.dir() + "/draft.pdf -").out;
  EXPECT_NE(text.find("THỦ TRƯỞNG ĐƠN VỊ"), std::string::npos) << text;

  // gvcn, the deputy's check, the principal, the seal.
  for (auto [token, step, pin] : {std::tuple{gvcn, "gvcn", a.pin("GVCN-3A")}, std::tuple{pho, "kiem_tra", a.pin("CON-DAU")},
                                  std::tuple{ht, "ky_duyet", a.pin("HIEU-TRUONG")}, std::tuple{ht, "con_dau", a.pin("CON-DAU")}}) {
    auto j = a.wait_job(token, start_job(a, token, step, pin, std::string(step) == "gvcn" ? class_id : 0));
    EXPECT_EQ(j.at("state").as_string(), "done") << step << ": " << json::serialize(j);
    EXPECT_EQ(j.at("done").as_int64(), 35) << step;
  }
  auto rec = a.json("GET", "/api/v1/records/" + std::to_string(first), admin);
  EXPECT_EQ(rec.at("state").as_string(), "final");
  std::string fields;
  for (auto& sg : rec.at("signatures").as_array()) fields += std::string(sg.at("field").as_string()) + " ";
  EXPECT_EQ(fields, "gvcn kiem_tra ky_duyet con_dau ");
  auto c = check_pdf(a, admin, "/api/v1/records/" + std::to_string(first) + "/pdf", "final");
  EXPECT_EQ(c.valid, 4) << c.out;
  EXPECT_EQ(c.total, 4) << c.out;
  EXPECT_TRUE(c.qpdf_ok);
}

}  // namespace
}  // namespace hocba::test
