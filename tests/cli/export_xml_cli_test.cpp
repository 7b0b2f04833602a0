// `hocba export-xml FILE.pdf [--out FILE]` end to end: the record's XML twin (hocba-record.xml) comes back
// byte for byte — as poppler's pdfdetach extracts it — on stdout and with --out, from a rendered record and
// from the same record after two signatures (incremental updates, SoftHSM2 tokens); it validates against
// docs/record.xsd; an incremental update after the last signature that replaces (or adds) the attachment
// is refused rather than exported; clear errors for a file that is not a PDF, a PDF without the
// attachment, a missing file, and usage errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
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

  // stdout only, stderr to dir_/stderr (test::run appends 2>&1: a group keeps them apart).
  std::string stdout_of(const std::string& args, int* status) {
    std::string out = dir_.file("stdout");
    auto r = test::run("{ " + std::string(HOCBA_CLI) + " " + args + " > " + q(out) + " 2> " + q(dir_.file("stderr")) + "; }");
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

// `pdf` with one more incremental update (written by hand, a classic xref section) that gives object
// `obj` a new body; the trailer is the last one's with /Prev pointing to it.
std::string with_update(const std::string& pdf, int obj, const std::string& body) {
  std::size_t t = pdf.rfind("trailer"), sx = pdf.rfind("startxref");
  if (t == std::string::npos || sx == std::string::npos || sx < t) return "";
  std::string trailer = pdf.substr(t + 7, sx - t - 7);
  trailer = std::regex_replace(trailer, std::regex(R"(/Prev\s+\d+)"), "");
  trailer = trailer.substr(0, trailer.rfind(">>"));
  std::size_t prev = std::stoul(pdf.substr(sx + 9));
  std::string out = pdf;
  if (out.back() != '\n') out += '\n';
  std::size_t at = out.size();
  out += std::to_string(obj) + " 0 obj\n" + body + "\nendobj\n";
  std::size_t xref = out.size();
  char entry[32];
  std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", at);
  out += "xref\n0 1\n0000000000 65535 f \n" + std::to_string(obj) + " 1\n" + entry;
  out += "trailer\n" + trailer + "/Prev " + std::to_string(prev) + ">>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return out;
}

// The object number of the embedded stream of hocba-record.xml (its file specification's /EF).
int xml_stream_object(const std::string& pdf) {
  std::smatch m;
  std::string tail = pdf.substr(0, pdf.rfind("/F(hocba-record.xml)"));
  std::size_t ef = tail.rfind("/EF");
  if (ef == std::string::npos || !std::regex_search(tail.cbegin() + ef, tail.cend(), m, std::regex(R"(/F\s*(\d+)\s+0\s+R)"))) return -1;
  return std::stoi(m[1]);
}

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

// An update appended after the last signature that replaces hocba-record.xml: export-xml refuses the file
// (exit 1, a clear message, nothing on stdout, no --out) instead of giving either XML; an update that
// leaves the attachment as signed (the same body written again) still exports it.
TEST_F(ExportXml, RefusesAnAttachmentChangedAfterTheLastSignature) {
  ASSERT_TRUE(test::have_tool("pdfdetach")) << "install poppler-utils";
  auto r = hocba("render --in " + q(std::string(HOCBA_TEST_DATA) + "/samples/thpt-11A.json") + " --out " + q(dir_.file("records")) +
                 " --student 023208867037");
  ASSERT_EQ(r.status, 0) << r.out;
  std::string rec = dir_.file("records/023208867037.pdf"), signed_pdf = dir_.file("signed.pdf");
  r = hocba("sign --in " + q(rec) + " --out " + q(signed_pdf) + " --field gvcn --key 'pkcs11:token=GVCN-3A;object=gvcn-3a' --pin-file " +
            q(pin("GVCN-3A")));
  ASSERT_EQ(r.status, 0) << r.out;
  int status = -1;
  const std::string original = stdout_of("export-xml " + q(rec), &status);
  ASSERT_EQ(status, 0);
  EXPECT_TRUE(stdout_of("export-xml " + q(signed_pdf), &status) == original);
  EXPECT_EQ(status, 0) << test::read_text(dir_.file("stderr"));

  std::string pdf = test::read_text(signed_pdf);
  int obj = xml_stream_object(pdf);
  ASSERT_GT(obj, 0);
  const std::string forged = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<hocbaRecord xmlns=\"urn:hocba-signer:record:1\"/>\n";
  std::string tampered = with_update(pdf, obj, "<</Type/EmbeddedFile/Subtype/application#2Fxml/Length " + std::to_string(forged.size()) +
                                                   ">>\nstream\n" + forged + "\nendstream");
  ASSERT_FALSE(tampered.empty());
  test::write_text(dir_.file("tampered.pdf"), tampered);
  // The update is a well-formed PDF whose last revision holds the forged XML (as poppler reads it).
  EXPECT_EQ(detached(dir_.file("tampered.pdf"), "hocba-record.xml"), forged);

  std::string got = stdout_of("export-xml " + q(dir_.file("tampered.pdf")), &status);
  EXPECT_EQ(status, 1);
  EXPECT_EQ(got, "") << "neither XML is printed";
  std::string err = test::read_text(dir_.file("stderr"));
  EXPECT_TRUE(contains(err, "tampered.pdf") && contains(err, "hocba-record.xml was changed after the last signature")) << err;
  r = hocba("export-xml " + q(dir_.file("tampered.pdf")) + " --out " + q(dir_.file("t.xml")));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("t.xml")));

  // The same bytes written again in a later update: the attachment is as signed, so it is exported.
  std::string xml_obj = pdf.substr(pdf.find("\n" + std::to_string(obj) + " 0 obj"));
  xml_obj = xml_obj.substr(xml_obj.find("<<"), xml_obj.find("endstream") + 9 - xml_obj.find("<<"));
  test::write_text(dir_.file("rewritten.pdf"), with_update(pdf, obj, xml_obj));
  EXPECT_TRUE(stdout_of("export-xml " + q(dir_.file("rewritten.pdf")), &status) == original);
  EXPECT_EQ(status, 0) << test::read_text(dir_.file("stderr"));
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
