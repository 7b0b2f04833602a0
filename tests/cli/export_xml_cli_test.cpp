// `hocba export-xml FILE.pdf [--out FILE]` end to end: the record's XML twin (hocba-record.xml) comes back
// byte for byte — as poppler's pdfdetach extracts it — on stdout and with --out, from a rendered record and
// from the same record after two signatures (incremental updates, SoftHSM2 tokens); it validates against
// docs/record.xsd; clear errors for a file that is not a PDF, a PDF without the attachment, a missing file,
// and usage errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "test_env.h"

using namespace hocba;

namespace {

std::string q(const std::string& s) {
  std::string o = "'";
  for (char c : s) o += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return o + "'";
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

class ExportXml : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tokens_ = new test::TempDir();
    test::provision_softhsm(tokens_->path());
    unsetenv("HOCBA_PKCS11_MODULES");
  }
  static void TearDownTestSuite() {
    delete tokens_;
    tokens_ = nullptr;
  }
  static std::string pin(const std::string& token) { return tokens_->file("pins/" + token + ".pin"); }
  static test::CommandResult hocba(const std::string& args) { return test::run(std::string(HOCBA_CLI) + " " + args); }

  // stdout only (test::run interleaves stderr).
  std::string stdout_of(const std::string& args, int* status) {
    std::string out = dir_.file("stdout");
    auto r = test::run(std::string(HOCBA_CLI) + " " + args + " > " + q(out) + " 2> " + q(dir_.file("stderr")));
    *status = r.status;
    return test::read_text(out);
  }

  // pdfdetach's copy of the named attachment (found by its number in -list: poppler 22.12's -savefile
  // rejects every name).
  std::string detached(const std::string& pdf, const std::string& name) {
    auto list = test::run("pdfdetach -list " + q(pdf));
    auto at = list.out.find(": " + name + "\n");
    EXPECT_NE(at, std::string::npos) << list.out;
    if (at == std::string::npos) return "";
    std::string number = list.out.substr(list.out.rfind('\n', at) + 1, at - list.out.rfind('\n', at) - 1);
    std::string saved = dir_.file("detached-" + std::to_string(++n_));
    auto r = test::run("pdfdetach -save " + number + " -o " + q(saved) + " " + q(pdf));
    EXPECT_EQ(r.status, 0) << r.out;
    return r.status == 0 ? test::read_text(saved) : std::string();
  }

  // Both ways of exporting give pdfdetach's bytes, which validate against the schema.
  void expect_exports(const std::string& pdf) {
    SCOPED_TRACE(pdf);
    std::string want = detached(pdf, "hocba-record.xml");
    ASSERT_GT(want.size(), 500u);
    EXPECT_EQ(want.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 0), 0u);
    int status = -1;
    std::string got = stdout_of("export-xml " + q(pdf), &status);
    EXPECT_EQ(status, 0) << test::read_text(dir_.file("stderr"));
    EXPECT_TRUE(got == want) << "stdout differs from pdfdetach's copy (" << got.size() << " vs " << want.size() << " bytes)";
    std::string out = dir_.file("out-" + std::to_string(++n_) + ".xml");
    auto r = hocba("export-xml " + q(pdf) + " --out " + q(out));
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_EQ(r.out, "") << "nothing printed with --out";
    EXPECT_TRUE(test::read_text(out) == want) << "--out differs from pdfdetach's copy";
    auto v = test::run("xmllint --noout --schema " + q(std::string(HOCBA_SOURCE_DIR) + "/docs/record.xsd") + " " + q(out));
    EXPECT_EQ(v.status, 0) << v.out;
  }

  test::TempDir dir_;
  int n_ = 0;
  static test::TempDir* tokens_;
};
test::TempDir* ExportXml::tokens_ = nullptr;

}  // namespace

TEST_F(ExportXml, FromARenderedAndASignedRecord) {
  ASSERT_TRUE(test::have_tool("pdfdetach") && test::have_tool("xmllint")) << "install poppler-utils and libxml2-utils";
  for (const char* sample : {"thpt-12A-v2.json", "primary-4B-v2.json", "thcs-8A-gvbm.json"}) {
    std::string in = std::string(HOCBA_TEST_DATA) + "/samples/" + sample;
    if (!std::filesystem::exists(in)) continue;
    auto r = hocba("render --in " + q(in) + " --out " + q(dir_.file(sample)));
    ASSERT_EQ(r.status, 0) << sample << ": " << r.out;
    for (const auto& e : std::filesystem::directory_iterator(dir_.file(sample))) {
      expect_exports(e.path().string());
      break;
    }
  }

  auto r = hocba("render --in " + q(std::string(HOCBA_TEST_DATA) + "/samples/thpt-11A.json") + " --out " + q(dir_.file("records")) +
                 " --student 023208867037");
  ASSERT_EQ(r.status, 0) << r.out;
  std::string rec = dir_.file("records/023208867037.pdf"), s1 = dir_.file("s1.pdf"), s2 = dir_.file("s2.pdf");
  expect_exports(rec);
  std::string original = detached(rec, "hocba-record.xml");

  auto a = hocba("sign --in " + q(rec) + " --out " + q(s1) + " --field gvcn --certify --lock --key 'pkcs11:token=GVCN-3A;object=gvcn-3a' --pin-file " +
                 q(pin("GVCN-3A")));
  ASSERT_EQ(a.status, 0) << a.out;
  auto b = hocba("sign --in " + q(s1) + " --out " + q(s2) + " --field hieu_truong --lock --key 'pkcs11:token=HIEU-TRUONG;object=hieu-truong' --pin-file " +
                 q(pin("HIEU-TRUONG")));
  ASSERT_EQ(b.status, 0) << b.out;
  auto ps = test::run("pdfsig " + q(s2));
  EXPECT_NE(ps.out.find("Signature #2"), std::string::npos) << ps.out;
  expect_exports(s2);
  int status = -1;
  EXPECT_TRUE(stdout_of("export-xml " + q(s2), &status) == original) << "signing changed the XML";
  EXPECT_EQ(status, 0);
}

TEST_F(ExportXml, Errors) {
  // Not a PDF.
  test::write_text(dir_.file("notes.pdf"), "these are notes, not a PDF\n");
  auto r = hocba("export-xml " + q(dir_.file("notes.pdf")));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_TRUE(contains(r.out, "notes.pdf") && contains(r.out, "not a PDF")) << r.out;

  // A PDF without the attachment (another producer's file); --out is not created.
  std::string other = std::string(HOCBA_TEST_DATA) + "/pdf/cairo.pdf";
  r = hocba("export-xml " + q(other) + " --out " + q(dir_.file("x.xml")));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_TRUE(contains(r.out, "holds no hocba-record.xml")) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("x.xml")));

  // No such file.
  r = hocba("export-xml " + q(dir_.file("missing.pdf")));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_TRUE(contains(r.out, "missing.pdf")) << r.out;

  // --out into a folder that does not exist: the error names it, nothing is left behind.
  r = hocba("render --in " + q(std::string(HOCBA_TEST_DATA) + "/samples/thcs-8A.json") + " --out " + q(dir_.file("r")) +
            " --student 092311493107");
  ASSERT_EQ(r.status, 0) << r.out;
  r = hocba("export-xml " + q(dir_.file("r/092311493107.pdf")) + " --out " + q(dir_.file("no/such/dir/x.xml")));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("no")));

  // Usage.
  r = hocba("export-xml");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_TRUE(contains(r.out, "export-xml needs exactly one FILE.pdf")) << r.out;
  r = hocba("export-xml a.pdf b.pdf");
  EXPECT_EQ(r.status, 2) << r.out;
  r = hocba("export-xml a.pdf --student 1");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_TRUE(contains(hocba("--help").out, "hocba export-xml FILE.pdf [--out FILE]"));
}
