// Signature and seal images through the REST API: who may set, read and delete them, the checks an
// upload passes (PNG only, size, transparency) with their machine codes, the audit entries, and a
// record signed by the teacher, the principal and the seal whose fields draw the teacher's image and the
// seal as Image XObjects with soft masks, every signature still valid (pdfsig, qpdf --check).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "appliance.h"

namespace hocba::test {
namespace {

namespace json = boost::json;

std::string samples(const std::string& name) { return std::string(HOCBA_TEST_DATA) + "/samples/" + name; }
std::string image(const std::string& rel) { return read_text(std::string(HOCBA_TEST_DATA) + "/images/" + rel); }

const std::vector<std::pair<std::string, std::string>> kPng = {{"Content-Type", "image/png"}};

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

std::string error_code(const std::string& body) {
  try {
    return std::string(json::parse(body).at("error").at("code").as_string());
  } catch (...) {
    return "";
  }
}

struct School {
  Appliance& a;
  std::string admin, teacher, other, principal;
  std::int64_t class_id = 0, teacher_id = 0, other_id = 0;

  explicit School(Appliance& app) : a(app) {
    a.add_user("admin", "admin");
    a.add_user("gvcn.3a", "homeroom_teacher");
    a.add_user("gvcn.5a", "homeroom_teacher");
    a.add_user("ht", "principal");
    admin = a.login("admin");
    a.bind_key(admin, "pkcs11:token=GVCN-3A;object=gvcn-3a", "gvcn.3a");
    a.bind_key(admin, "pkcs11:token=HIEU-TRUONG;object=hieu-truong", "ht");
    a.bind_key(admin, "pkcs11:token=CON-DAU;object=con-dau", "");
    class_id = a.json("POST", "/api/v1/classes", admin, read_text(samples("primary-3A.json")), 201).at("class_id").as_int64();
    teacher = a.login("gvcn.3a");
    other = a.login("gvcn.5a");
    principal = a.login("ht");
    auto users = a.json("GET", "/api/v1/users", admin);  // kept: the loop reads into it
    for (auto& u : users.at("users").as_array()) {
      if (u.at("username").as_string() == "gvcn.3a") teacher_id = u.at("id").as_int64();
      if (u.at("username").as_string() == "gvcn.5a") other_id = u.at("id").as_int64();
    }
  }
  std::string sig_path(std::int64_t id) const { return "/api/v1/users/" + std::to_string(id) + "/signature-image"; }
};

TEST(Images, OnlyTheUserThemselfOrAnAdminSetsASignatureImage) {
  Appliance a;
  School s(a);
  const std::string png = image("signature.png");
  const std::string mine = s.sig_path(s.teacher_id);

  EXPECT_EQ(a.call("GET", mine, s.teacher).status, 404);  // none yet
  EXPECT_TRUE(a.json("GET", "/api/v1/me", s.teacher).at("signature_image").is_null());
  auto put = a.call("PUT", mine, s.teacher, png, kPng);
  ASSERT_EQ(put.status, 200) << put.body;
  auto got = a.call("GET", mine, s.teacher);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.header("Content-Type"), "image/png");
  EXPECT_EQ(got.body, png);
  EXPECT_EQ(a.json("GET", "/api/v1/me", s.teacher).at("signature_image").at("width").as_int64(), 300);

  // Another teacher can neither read, change nor delete it; anonymous callers are asked to log in.
  EXPECT_EQ(a.call("GET", mine, s.other).status, 403);
  auto theirs = a.call("PUT", mine, s.other, image("check/rgba8.png"), kPng);
  EXPECT_EQ(theirs.status, 403) << theirs.body;
  EXPECT_EQ(a.call("DELETE", mine, s.other).status, 403);
  EXPECT_EQ(a.call("PUT", mine, "", png, kPng).status, 401);
  EXPECT_EQ(a.call("GET", mine).status, 401);
  EXPECT_EQ(a.call("GET", mine, s.teacher).body, png);  // unchanged

  // The admin may, for anyone; the listing says who has one.
  ASSERT_EQ(a.call("PUT", s.sig_path(s.other_id), s.admin, image("check/palette-trns.png"), kPng).status, 200);
  EXPECT_EQ(a.call("GET", s.sig_path(s.other_id), s.admin).body, image("check/palette-trns.png"));
  EXPECT_EQ(a.call("GET", s.sig_path(s.other_id), s.other).status, 200);
  auto users = a.json("GET", "/api/v1/users", s.admin);
  for (auto& u : users.at("users").as_array())
    EXPECT_EQ(u.at("signature_image").as_bool(), u.at("username") == "gvcn.3a" || u.at("username") == "gvcn.5a") << json::serialize(u);
  EXPECT_EQ(a.call("PUT", s.sig_path(99999), s.admin, png, kPng).status, 404);
  EXPECT_EQ(a.call("DELETE", s.sig_path(s.other_id), s.admin).status, 200);
  EXPECT_EQ(a.call("GET", s.sig_path(s.other_id), s.other).status, 404);
  EXPECT_EQ(a.call("DELETE", s.sig_path(s.other_id), s.admin).status, 404);

  // The seal: the admin's only.
  EXPECT_EQ(a.call("PUT", "/api/v1/seal-image", s.principal, image("seal.png"), kPng).status, 403);
  EXPECT_EQ(a.call("PUT", "/api/v1/seal-image", s.teacher, image("seal.png"), kPng).status, 403);
  ASSERT_EQ(a.call("PUT", "/api/v1/seal-image", s.admin, image("seal.png"), kPng).status, 200);
  EXPECT_EQ(a.call("GET", "/api/v1/seal-image", s.principal).body, image("seal.png"));
  EXPECT_EQ(a.call("GET", "/api/v1/seal-image", s.teacher).status, 403);
  EXPECT_TRUE(a.json("GET", "/api/v1/me", s.principal).at("seal_image").as_bool());

  // Every change is in the audit trail, by whom.
  int sets = 0, deletes = 0;
  auto log = a.json("GET", "/api/v1/audit?after=0&limit=1000", s.admin);
  for (auto& e : log.at("entries").as_array()) {
    if (e.at("action") == "image.set") ++sets;
    if (e.at("action") == "image.delete") {
      ++deletes;
      EXPECT_EQ(e.at("actor"), "user:admin");
    }
  }
  EXPECT_EQ(sets, 3);
  EXPECT_EQ(deletes, 1);
  EXPECT_EQ(a.hocba("audit verify --state-dir " + a.state_dir()).status, 0);
}

TEST(Images, AnUploadIsCheckedAndRefusalsCarryTheirCode) {
  Appliance a;
  School s(a);
  const std::string mine = s.sig_path(s.teacher_id);
  struct Case {
    std::string body;
    int status;
    std::string code;
  };
  std::string big = image("signature.png");
  big.resize(512 * 1024 + 100, '\0');
  std::string truncated = image("signature.png").substr(0, 1000);
  for (const Case& c : {Case{"GIF89a\x01\x00\x01\x00", 422, "image_not_png"}, Case{truncated, 422, "image_corrupt"},
                        Case{image("check/opaque.png"), 422, "image_opaque"}, Case{image("check/tiny.png"), 422, "image_bad_size"},
                        Case{image("check/huge.png"), 422, "image_too_many_pixels"}, Case{big, 413, "too_large"},  // the listener's: the route reads at most 512 KiB
                        Case{"", 400, "bad_request"}}) {
    auto r = a.call("PUT", mine, s.teacher, c.body, kPng);
    EXPECT_EQ(r.status, c.status) << c.code << ": " << r.body;
    EXPECT_EQ(error_code(r.body), c.code) << r.body;
  }
  auto opaque = a.call("PUT", mine, s.teacher, image("check/opaque.png"), kPng);
  EXPECT_NE(opaque.body.find("the image must have a transparent background"), std::string::npos) << opaque.body;
  // Only image/png: a JSON body (or a form a cross-site page could send) is refused before any check.
  auto json_typed = a.call("PUT", mine, s.teacher, image("signature.png"));
  EXPECT_EQ(json_typed.status, 415) << json_typed.body;
  auto form = a.call("PUT", mine, s.teacher, image("signature.png"), {{"Content-Type", "multipart/form-data; boundary=x"}});
  EXPECT_EQ(form.status, 415);
  // A cookie-carrying request from another site is refused, as every state change is.
  auto cross = a.call("PUT", mine, "", image("signature.png"),
                      {{"Content-Type", "image/png"}, {"Cookie", "hocba_session=" + s.teacher}, {"Origin", "https://evil.example"}});
  EXPECT_EQ(cross.status, 403) << cross.body;
  EXPECT_EQ(a.call("GET", mine, s.teacher).status, 404);  // nothing was stored
  // 16-bit and interlaced PNGs are accepted.
  EXPECT_EQ(a.call("PUT", mine, s.teacher, image("check/rgba16.png"), kPng).status, 200);
  EXPECT_EQ(a.call("PUT", mine, s.teacher, image("check/interlaced.png"), kPng).status, 200);
  EXPECT_EQ(a.call("GET", mine, s.teacher).body, image("check/interlaced.png"));
}

TEST(Images, ASignedRecordDrawsTheTeachersSignatureAndTheSealAndStaysValid) {
  if (!have_tool("pdfsig") || !have_tool("qpdf")) GTEST_SKIP() << "pdfsig and qpdf are needed";
  Appliance a;
  School s(a);
  ASSERT_EQ(a.call("PUT", s.sig_path(s.teacher_id), s.teacher, image("signature.png"), kPng).status, 200);
  ASSERT_EQ(a.call("PUT", "/api/v1/seal-image", s.admin, image("check/seal-300dpi.png"), kPng).status, 200);
  auto cls = a.json("GET", "/api/v1/classes/" + std::to_string(s.class_id), s.admin);
  std::int64_t id = cls.at("records").as_array().at(0).at("id").as_int64();
  std::string sign = "/api/v1/records/" + std::to_string(id) + "/sign";
  a.json("POST", sign, s.teacher, json::serialize(json::object{{"pin", a.pin("GVCN-3A")}}));
  a.json("POST", sign, s.principal, json::serialize(json::object{{"pin", a.pin("HIEU-TRUONG")}, {"field", "hieu_truong"}}));
  a.json("POST", sign, s.principal, json::serialize(json::object{{"pin", a.pin("CON-DAU")}, {"field", "con_dau"}}));

  auto pdf = a.call("GET", "/api/v1/records/" + std::to_string(id) + "/pdf", s.principal);
  ASSERT_EQ(pdf.status, 200);
  std::string f = a.dir() + "/signed.pdf";
  write_text(f, pdf.body);
  auto sig = run("pdfsig " + f + " 2>&1");
  EXPECT_EQ(count(sig.out, "Signature is Valid."), 3) << sig.out;
  EXPECT_NE(sig.out.find("Total document signed"), std::string::npos) << sig.out;
  auto q = run("qpdf --check " + f + " 2>&1");
  EXPECT_EQ(q.status, 0) << q.out;
  // The teacher's image and the seal (the principal has none): an RGB image and its grey soft mask each.
  EXPECT_EQ(count(pdf.body, "/Subtype /Image\n/Width 300\n/Height 120\n/ColorSpace /DeviceRGB"), 1);
  EXPECT_EQ(count(pdf.body, "/Subtype /Image\n/Width 236\n/Height 236\n/ColorSpace /DeviceRGB"), 1);
  EXPECT_EQ(count(pdf.body, "/ColorSpace /DeviceGray\n/BitsPerComponent 8\n/Filter /FlateDecode\n/Length"), 2);
  EXPECT_EQ(count(pdf.body, "/SMask "), 2);
  // The appearance stream draws it: qpdf reads the signed field's /AP back.
  auto shown = run("qpdf --json=2 --json-key=qpdf " + f + " 2>&1");
  ASSERT_EQ(shown.status, 0);
  EXPECT_GE(count(shown.out, "\"/SMask\""), 2);
}

}  // namespace
}  // namespace hocba::test
