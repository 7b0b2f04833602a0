// `hocba` end to end, against SoftHSM2 tokens, checked by independent tools: poppler's pdfsig and
// qpdf --check. PDFs from other producers (qpdf, cairo; classic and stream cross-references,
// linearized, a form with an empty signature field) are signed by three token keys in a row.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <string>

#include "test_env.h"

using namespace hocba;

namespace {

std::string q(const std::string& s) { return "'" + s + "'"; }

int count(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (auto at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + needle.size())) ++n;
  return n;
}

bool exists(const std::string& p) { return std::filesystem::exists(p); }

class Cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tokens_ = new test::TempDir();
    test::provision_softhsm(tokens_->path());  // also exports SOFTHSM2_CONF for the commands we run
    unsetenv("HOCBA_PKCS11_MODULES");
  }
  static void TearDownTestSuite() {
    delete tokens_;
    tokens_ = nullptr;
  }
  static std::string pin(const std::string& token) { return tokens_->file("pins/" + token + ".pin"); }
  static std::string root() { return tokens_->file("pki/root.pem"); }
  static std::string fixture(const std::string& name) { return std::string(HOCBA_TEST_DATA) + "/pdf/" + name; }
  static test::CommandResult hocba(const std::string& args) { return test::run(std::string(HOCBA_CLI) + " " + args); }

  // Signs IN three times: GVCN-3A (RSA-2048), HIEU-TRUONG (RSA-3072, PSS), CON-DAU (ECDSA P-256).
  std::string sign_three(const std::string& in, const std::string& first_field = "") {
    std::string s1 = dir_.file("s1.pdf"), s2 = dir_.file("s2.pdf"), s3 = dir_.file("s3.pdf");
    auto r1 = hocba("sign --in " + q(in) + " --out " + q(s1) + " --key " +
                    q("pkcs11:token=GVCN-3A;object=gvcn-3a?pin-source=file:" + pin("GVCN-3A")) +
                    " --reason 'Giáo viên chủ nhiệm ký' --location 'Hà Nội'" +
                    (first_field.empty() ? "" : " --field " + first_field));
    EXPECT_EQ(r1.status, 0) << r1.out;
    auto r2 = hocba("sign --in " + q(s1) + " --out " + q(s2) + " --pss --key 'pkcs11:token=HIEU-TRUONG;object=hieu-truong'" +
                    " --pin-file " + q(pin("HIEU-TRUONG")) + " --field HieuTruong --reason 'Hiệu trưởng duyệt'");
    EXPECT_EQ(r2.status, 0) << r2.out;
    auto r3 = hocba("sign --in " + q(s2) + " --out " + q(s3) + " --key 'pkcs11:token=CON-DAU;id=%03'" +
                    " --pin-file " + q(pin("CON-DAU")) + " --field ConDau");
    EXPECT_EQ(r3.status, 0) << r3.out;
    return s3;
  }

  test::TempDir dir_;
  static test::TempDir* tokens_;
};
test::TempDir* Cli::tokens_ = nullptr;

class ThreeSigners : public Cli, public ::testing::WithParamInterface<const char*> {};

}  // namespace

TEST_P(ThreeSigners, PdfsigQpdfAndHocbaAllAgree) {
  ASSERT_TRUE(test::have_tool("pdfsig") && test::have_tool("qpdf")) << "install poppler-utils and qpdf";
  std::string field = std::string(GetParam()) == "form-empty-field.pdf" ? "GVCN" : "";
  std::string out = sign_three(fixture(GetParam()), field);
  ASSERT_TRUE(exists(out));

  auto ps = test::run("pdfsig " + q(out));
  EXPECT_EQ(count(ps.out, "Signature is Valid."), 3) << ps.out;
  EXPECT_EQ(count(ps.out, "Signature Type: ETSI.CAdES.detached"), 3) << ps.out;
  EXPECT_EQ(count(ps.out, "Total document signed"), 1) << ps.out;
  EXPECT_GT(ps.out.find("Total document signed"), ps.out.find("Signature #3")) << ps.out;
  EXPECT_NE(ps.out.find("CN=Võ Tuấn Cường"), std::string::npos) << ps.out;

  auto qc = test::run("qpdf --check " + q(out));
  EXPECT_EQ(qc.status, 0) << qc.out;
  EXPECT_NE(qc.out.find("No syntax or stream encoding errors"), std::string::npos) << qc.out;

  // An independent strict reading of the CMS (asn1crypto): DER, one SignerInfo, exactly the three
  // PAdES attributes, digests and ESSCertIDv2 right.
  auto strict = test::run("/usr/bin/python3 " + std::string(HOCBA_SOURCE_DIR) + "/tests/tools/check_pades_cms.py " + q(out));
  EXPECT_EQ(strict.status, 0) << strict.out;
  EXPECT_NE(strict.out.find("OK: 3 signature(s)"), std::string::npos) << strict.out;

  auto v = hocba("verify " + q(out) + " --trust " + q(root()) + " --json");
  EXPECT_EQ(v.status, 0) << v.out;
  auto j = boost::json::parse(v.out).as_object();
  EXPECT_TRUE(j["all_valid"].as_bool());
  auto& sigs = j["signatures"].as_array();
  ASSERT_EQ(sigs.size(), 3u);
  const char* algs[] = {"sha256WithRSAEncryption", "rsassaPss", "ecdsa-with-SHA256"};
  for (std::size_t i = 0; i < 3; ++i) {
    auto& s = sigs[i].as_object();
    EXPECT_TRUE(s["valid"].as_bool()) << boost::json::serialize(s);
    EXPECT_EQ(s["sub_filter"].as_string(), "ETSI.CAdES.detached");
    EXPECT_EQ(s["chain"].as_string(), "trusted");
    EXPECT_EQ(s["signature_algorithm"].as_string(), algs[i]);
    EXPECT_EQ(s["covers_whole_document"].as_bool(), i == 2);
    EXPECT_EQ(s["later_revisions"].as_int64(), static_cast<std::int64_t>(2 - i));
    EXPECT_TRUE(s["pades_problems"].as_array().empty()) << boost::json::serialize(s);
  }
  EXPECT_EQ(sigs[0].as_object()["field"].as_string(), field.empty() ? "Signature1" : field);
  EXPECT_EQ(sigs[1].as_object()["field"].as_string(), "HieuTruong");
  EXPECT_NE(std::string(sigs[1].as_object()["signer"].as_string()).find("Nguyễn Thị Giẽ"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Producers, ThreeSigners,
                         ::testing::Values("cairo.pdf", "qpdf-classic.pdf", "qpdf-xrefstream.pdf", "qpdf-linearized.pdf",
                                           "form-empty-field.pdf"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST_F(Cli, OneChangedByteFailsPdfsigAndHocbaVerify) {
  std::string out = sign_three(fixture("cairo.pdf"));
  std::string good = test::read_text(out);
  ASSERT_EQ(good[9], '%');  // line 2 of the file is a binary comment: changing it keeps the file readable

  // In the first signed range of every signature: all three fail.
  std::string t1 = good;
  t1[10] = static_cast<char>(t1[10] ^ 0x01);
  test::write_text(dir_.file("t1.pdf"), t1);
  auto p1 = test::run("pdfsig " + q(dir_.file("t1.pdf")));
  EXPECT_EQ(count(p1.out, "Signature is Valid."), 0) << p1.out;
  auto v1 = hocba("verify " + q(dir_.file("t1.pdf")) + " --trust " + q(root()));
  EXPECT_EQ(v1.status, 3) << v1.out;
  EXPECT_EQ(count(v1.out, ": VALID"), 0) << v1.out;

  // The last byte of the file, covered only by the last signature.
  std::string t2 = good;
  ASSERT_EQ(t2.back(), '\n');
  t2.back() = ' ';
  test::write_text(dir_.file("t2.pdf"), t2);
  auto p2 = test::run("pdfsig " + q(dir_.file("t2.pdf")));
  EXPECT_EQ(count(p2.out, "Signature is Valid."), 2) << p2.out;
  auto v2 = hocba("verify " + q(dir_.file("t2.pdf")) + " --trust " + q(root()));
  EXPECT_EQ(v2.status, 3) << v2.out;
  EXPECT_EQ(count(v2.out, ": VALID"), 2) << v2.out;
}

TEST_F(Cli, WrongPinFailsCleanlyAndLeavesNoOutput) {
  test::write_text(dir_.file("wrong.pin"), "000000\n");
  std::string out = dir_.file("out.pdf");
  auto r = hocba("sign --in " + q(fixture("cairo.pdf")) + " --out " + q(out) +
                 " --key 'pkcs11:token=GVCN-3A;object=gvcn-3a' --pin-file " + q(dir_.file("wrong.pin")));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("hocba: token \"GVCN-3A\" rejected the PIN"), std::string::npos) << r.out;
  EXPECT_EQ(count(r.out, "\n"), 1) << "one line: " << r.out;
  EXPECT_FALSE(exists(out));
  EXPECT_EQ(r.out.find("000000"), std::string::npos) << "the PIN must not be echoed";
}

TEST_F(Cli, FailureKeepsAnExistingOutputFileIntact) {
  std::string out = dir_.file("out.pdf");
  test::write_text(out, "previous content");
  auto r = hocba("sign --in " + q(dir_.file("missing.pdf")) + " --out " + q(out) +
                 " --key 'pkcs11:token=GVCN-3A;object=gvcn-3a' --pin-file " + q(pin("GVCN-3A")));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_EQ(test::read_text(out), "previous content");
}

TEST_F(Cli, PinIsNeverAnArgument) {
  auto r = hocba("sign --in a.pdf --out b.pdf --key 'pkcs11:token=GVCN-3A;object=gvcn-3a' --pin 111111");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("PINs are never given as arguments"), std::string::npos) << r.out;
  auto u = hocba("sign --in a.pdf --out b.pdf --key 'pkcs11:token=GVCN-3A;object=gvcn-3a?pin-value=111111'");
  EXPECT_NE(u.status, 0);
  EXPECT_NE(u.out.find("pin-value"), std::string::npos) << u.out;
}

TEST_F(Cli, NotAPdfIsOneClearLine) {
  test::write_text(dir_.file("notes.pdf"), "Bảng điểm — not really a PDF\n");
  std::string out = dir_.file("out.pdf");
  auto r = hocba("sign --in " + q(dir_.file("notes.pdf")) + " --out " + q(out) +
                 " --key 'pkcs11:token=GVCN-3A;object=gvcn-3a' --pin-file " + q(pin("GVCN-3A")));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("not a PDF"), std::string::npos) << r.out;
  EXPECT_FALSE(exists(out));
  auto v = hocba("verify " + q(dir_.file("notes.pdf")));
  EXPECT_NE(v.status, 0);
  EXPECT_NE(v.out.find("not a PDF"), std::string::npos) << v.out;
}

TEST_F(Cli, AbsentTokenIsNamed) {
  auto r = hocba("sign --in " + q(fixture("cairo.pdf")) + " --out " + q(dir_.file("o.pdf")) +
                 " --key 'pkcs11:token=KHONG-CO;object=x' --pin-file " + q(pin("GVCN-3A")));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("token \"KHONG-CO\" is not present"), std::string::npos) << r.out;
}

TEST_F(Cli, UnsignedPdfDoesNotVerify) {
  auto v = hocba("verify " + q(fixture("cairo.pdf")));
  EXPECT_EQ(v.status, 3) << v.out;
}

TEST_F(Cli, TokenAndKeyListing) {
  auto t = hocba("token list");
  EXPECT_EQ(t.status, 0) << t.out;
  for (const char* label : {"GVCN-3A", "HIEU-TRUONG", "CON-DAU"}) EXPECT_NE(t.out.find(label), std::string::npos);
  auto k = hocba("key list");
  EXPECT_EQ(k.status, 0) << k.out;
  EXPECT_NE(k.out.find("RSA-2048"), std::string::npos) << k.out;
  EXPECT_NE(k.out.find("RSA-3072"), std::string::npos) << k.out;
  EXPECT_NE(k.out.find("EC P-256"), std::string::npos) << k.out;
  EXPECT_NE(k.out.find("EC P-384"), std::string::npos) << k.out;
}

// Through the test module: a token locked by wrong PINs elsewhere is reported in one line.
TEST_F(Cli, LockedTokenMessage) {
  std::string conf = dir_.file("p11test.conf");
  test::write_text(conf, "module=" + std::string(test::kSoftHsm) + "\nstate_file=" + dir_.file("state") +
                             "\nmax_pin_tries=3\n");
  setenv("HOCBA_P11TEST_CONF", conf.c_str(), 1);
  for (const char* bad : {"000001", "000002", "000003"})
    test::run(std::string("pkcs11-tool --module ") + HOCBA_P11TEST_MODULE + " --token-label GVCN-3A --login --pin " + bad +
              " --list-objects");
  std::string out = dir_.file("o.pdf");
  auto r = hocba("sign --module " + std::string(HOCBA_P11TEST_MODULE) + " --in " + q(fixture("cairo.pdf")) + " --out " +
                 q(out) + " --key 'pkcs11:token=GVCN-3A;object=gvcn-3a' --pin-file " + q(pin("GVCN-3A")) +
                 " --confirm-pin-risk");
  unsetenv("HOCBA_P11TEST_CONF");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "hocba: token \"GVCN-3A\" reports its PIN is locked; unlock it with the SO PIN or the issuer\n");
  EXPECT_FALSE(exists(out));
}

namespace {

// A binary PPM (P6) as pdftoppm writes it.
struct Ppm {
  int w = 0, h = 0;
  std::string px;  // RGB
};
Ppm read_ppm(const std::string& path) {
  std::string s = test::read_text(path);
  Ppm p;
  std::size_t at = 0;
  auto token = [&]() {
    while (at < s.size() && std::isspace(static_cast<unsigned char>(s[at]))) ++at;
    std::size_t b = at;
    while (at < s.size() && !std::isspace(static_cast<unsigned char>(s[at]))) ++at;
    return s.substr(b, at - b);
  };
  if (token() != "P6") return p;
  p.w = std::stoi(token());
  p.h = std::stoi(token());
  token();  // maxval
  ++at;
  p.px = s.substr(at);
  return p;
}

}  // namespace

// A rendered record signed by the homeroom teacher, the principal and the seal: three valid
// signatures, and the last page shows the blue signatures and the red seal.
TEST_F(Cli, RenderedRecordSignedByThreeShowsTheAppearances) {
  std::string images = std::string(HOCBA_TEST_DATA) + "/images/";
  auto r = hocba("render --in " + q(std::string(HOCBA_TEST_DATA) + "/samples/thpt-11A.json") + " --out " +
                 q(dir_.file("records")) + " --student 023208867037");
  ASSERT_EQ(r.status, 0) << r.out;
  std::string rec = dir_.file("records/023208867037.pdf");
  std::string s1 = dir_.file("s1.pdf"), s2 = dir_.file("s2.pdf"), s3 = dir_.file("s3.pdf");
  auto a = hocba("sign --in " + q(rec) + " --out " + q(s1) + " --field gvcn --image " + q(images + "signature.png") +
                 " --certify --lock --key 'pkcs11:token=GVCN-3A;object=gvcn-3a' --pin-file " + q(pin("GVCN-3A")));
  ASSERT_EQ(a.status, 0) << a.out;
  auto b = hocba("sign --in " + q(s1) + " --out " + q(s2) + " --field hieu_truong --title 'Hiệu trưởng' --image " +
                 q(images + "signature.png") + " --lock --pss --key 'pkcs11:token=HIEU-TRUONG;object=hieu-truong' --pin-file " +
                 q(pin("HIEU-TRUONG")));
  ASSERT_EQ(b.status, 0) << b.out;
  auto c = hocba("sign --in " + q(s2) + " --out " + q(s3) + " --field con_dau --seal-image " + q(images + "seal.png") +
                 " --lock --key 'pkcs11:token=CON-DAU;object=con-dau' --pin-file " + q(pin("CON-DAU")));
  ASSERT_EQ(c.status, 0) << c.out;

  auto ps = test::run("pdfsig " + q(s3));
  EXPECT_EQ(count(ps.out, "Signature is Valid."), 3) << ps.out;
  EXPECT_EQ(count(ps.out, "Total document signed"), 1) << ps.out;
  auto qc = test::run("qpdf --check " + q(s3));
  EXPECT_EQ(qc.status, 0) << qc.out;
  auto v = hocba("verify " + q(s3) + " --trust " + q(root()) + " --json");
  EXPECT_EQ(v.status, 0) << v.out;
  auto strict = test::run("/usr/bin/python3 " + std::string(HOCBA_SOURCE_DIR) + "/tests/tools/check_pades_cms.py " + q(s3));
  EXPECT_EQ(strict.status, 0) << strict.out;
  auto fonts = test::run("pdffonts " + q(s3));
  EXPECT_EQ(fonts.out.find(" no "), std::string::npos) << "every font embedded: " << fonts.out;

  // The last page, before and after: signing added blue strokes and the red seal.
  auto pages = test::run("pdfinfo " + q(s3) + " | awk '/^Pages:/{print $2}'");
  std::string last = std::to_string(std::stoi(pages.out));
  auto count_px = [&](const std::string& pdf, const std::string& tag, int& red, int& blue) {
    ASSERT_EQ(test::run("pdftoppm -r 100 -f " + last + " -l " + last + " -singlefile " + q(pdf) + " " + q(dir_.file(tag))).status, 0);
    Ppm p = read_ppm(dir_.file(tag + ".ppm"));
    ASSERT_GT(p.w, 0);
    red = blue = 0;
    for (std::size_t i = 0; i + 2 < p.px.size(); i += 3) {
      auto R = static_cast<unsigned char>(p.px[i]), G = static_cast<unsigned char>(p.px[i + 1]),
           B = static_cast<unsigned char>(p.px[i + 2]);
      if (R > 150 && G < 90 && B < 90) ++red;
      if (B > 110 && R < 90 && G < 110) ++blue;
    }
  };
  int red0 = 0, blue0 = 0, red3 = 0, blue3 = 0;
  count_px(rec, "before", red0, blue0);
  count_px(s3, "after", red3, blue3);
  EXPECT_EQ(red0, 0);
  EXPECT_EQ(blue0, 0);
  EXPECT_GT(red3, 800) << "the seal";
  EXPECT_GT(blue3, 80) << "two handwritten signatures";
  // HOCBA_UPDATE_REFERENCE=1 rewrites the picture docs/record-rendering.md shows.
  if (const char* u = std::getenv("HOCBA_UPDATE_REFERENCE"); u && std::string(u) == "1")
    ASSERT_EQ(test::run("pdftoppm -r 80 -png -f " + last + " -l " + last + " -singlefile " + q(s3) + " " +
                        q(std::string(HOCBA_SOURCE_DIR) + "/docs/signed-record"))
                  .status,
              0);
}

// `hocba verify --lang vi` (Circular 15/2025/TT-BKHCN): the report entirely in Vietnamese; --lang en
// and no --lang give the same English report; an unknown language is a usage error.
TEST_F(Cli, VerifyReportInVietnamese) {
  std::string out = sign_three(fixture("cairo.pdf"));
  auto en = hocba("verify " + q(out) + " --trust " + q(root()));
  EXPECT_EQ(en.status, 0) << en.out;
  EXPECT_NE(en.out.find("Signature 1 in field"), std::string::npos) << en.out;
  auto en2 = hocba("verify " + q(out) + " --trust " + q(root()) + " --lang en");
  EXPECT_EQ(en2.status, 0);
  EXPECT_EQ(en2.out, en.out);

  auto vi = hocba("verify " + q(out) + " --trust " + q(root()) + " --lang vi");
  EXPECT_EQ(vi.status, 0) << vi.out;
  for (const char* label : {"Chữ ký 1", "Chữ ký 3", "HỢP LỆ", "Người ký: ", "Nguyễn Thị Giẽ", "Thời điểm ký: ", "do người ký khai",
                            "Toàn vẹn: còn nguyên vẹn", "Đường dẫn tin cậy: tin cậy", "Tình trạng thu hồi: ", "Mức PAdES: B-B",
                            "Tệp đã bị sửa sau chữ ký này", "Kết luận: mọi chữ ký đều hợp lệ"})
    EXPECT_NE(vi.out.find(label), std::string::npos) << label << "\n" << vi.out;
  std::string words = vi.out;  // the field name "Signature1" is the document's data, not a label
  for (auto at = words.find("\"Signature1\""); at != std::string::npos; at = words.find("\"Signature1\"")) words.erase(at, 12);
  for (const char* english : {"Signature", "signature", "valid", "VALID", "Signer", "signer:", "trusted", "integrity", "intact", "chain",
                              "revocation", "coverage", "level", "timestamp", "summary", "bytes", "whole document", "not checked"})
    EXPECT_EQ(words.find(english), std::string::npos) << english << "\n" << vi.out;

  // The JSON does not change with --lang.
  auto j1 = hocba("verify " + q(out) + " --trust " + q(root()) + " --json");
  auto j2 = hocba("verify " + q(out) + " --trust " + q(root()) + " --json --lang vi");
  EXPECT_EQ(j1.status, 0);
  EXPECT_EQ(j2.out, j1.out);

  // A tampered copy: the Vietnamese report says so, exit 3 as in English.
  std::string bad = test::read_text(out);
  bad.back() = ' ';
  test::write_text(dir_.file("bad.pdf"), bad);
  auto vb = hocba("verify " + q(dir_.file("bad.pdf")) + " --trust " + q(root()) + " --lang vi");
  EXPECT_EQ(vb.status, 3) << vb.out;
  EXPECT_NE(vb.out.find("Toàn vẹn: đã bị thay đổi"), std::string::npos) << vb.out;
  EXPECT_NE(vb.out.find("KHÔNG HỢP LỆ"), std::string::npos) << vb.out;

  auto xx = hocba("verify " + q(out) + " --lang xx");
  EXPECT_EQ(xx.status, 2) << xx.out;
}
