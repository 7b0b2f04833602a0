// The PDF layer alone: incremental updates are append-only, well-formed (qpdf --check), of the same
// cross-reference kind as the file's last section, and fill or add the right field.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "hocba/common/fileio.h"
#include "hocba/pdf/signing.h"
#include "test_env.h"

using namespace hocba;
using namespace hocba::pdf;

namespace {

const char* kFixtures[] = {"cairo.pdf", "qpdf-classic.pdf", "qpdf-xrefstream.pdf", "qpdf-linearized.pdf",
                           "form-empty-field.pdf"};

Bytes fixture(const std::string& name) {
  auto b = read_file(std::string(HOCBA_TEST_DATA) + "/pdf/" + name);
  if (!b) throw std::runtime_error(b.error().message);
  return *b;
}

// Prepares and fills the placeholder with a recognisable fake "signature".
Bytes add_signature(const Bytes& in, SignatureRequest req, std::string* field = nullptr) {
  auto p = prepare_signature(in, req);
  if (!p) throw std::runtime_error(p.error().message);
  Bytes fake(100, 0xab);
  if (!embed_signature(*p, fake)) throw std::runtime_error("embed failed");
  if (field) *field = p->field_name;
  return p->file;
}

std::string tail_after(const Bytes& file, std::size_t from) {
  return std::string(file.begin() + static_cast<std::ptrdiff_t>(from), file.end());
}

}  // namespace

class EachFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(EachFixture, UpdateIsAppendOnlyAndWellFormed) {
  Bytes in = fixture(GetParam());
  SignatureRequest req;
  req.reason = "Giáo viên chủ nhiệm ký";
  req.pdf_date = "D:20261122093000+07'00'";
  req.contents_size = 3000;
  auto p = prepare_signature(in, req);
  ASSERT_TRUE(p.ok()) << p.error().message;
  // The original bytes are untouched: they are a prefix of the new file.
  ASSERT_GT(p->file.size(), in.size());
  EXPECT_TRUE(std::equal(in.begin(), in.end(), p->file.begin()));
  // /ByteRange covers everything but the /Contents hex string.
  const auto& br = p->byte_range;
  EXPECT_EQ(br[0], 0);
  EXPECT_EQ(static_cast<std::size_t>(br[1]), p->contents_offset);
  EXPECT_EQ(static_cast<std::size_t>(br[2]), p->contents_offset + p->contents_length);
  EXPECT_EQ(static_cast<std::size_t>(br[2] + br[3]), p->file.size());
  EXPECT_EQ(p->file[p->contents_offset], '<');
  EXPECT_EQ(p->contents_length, 2 * 3000u + 2);
  EXPECT_EQ(signed_bytes(*p).size(), p->file.size() - p->contents_length);

  // The new section is of the same kind as the previous one.
  std::string added = tail_after(p->file, in.size());
  bool xref_stream_before = std::string(in.begin(), in.end()).find("/Type /XRef") != std::string::npos ||
                            std::string(in.begin(), in.end()).find("/Type/XRef") != std::string::npos;
  if (std::string(GetParam()) == "qpdf-xrefstream.pdf") {
    EXPECT_TRUE(xref_stream_before);
    EXPECT_NE(added.find("/Type /XRef"), std::string::npos);
  } else {
    EXPECT_NE(added.find("\nxref\n"), std::string::npos);
    EXPECT_NE(added.find("trailer"), std::string::npos);
  }
  EXPECT_NE(added.find("/Prev "), std::string::npos);
  EXPECT_NE(added.find("/SubFilter /ETSI.CAdES.detached"), std::string::npos);
  EXPECT_NE(added.find("/M (D:20261122093000+07'00')"), std::string::npos);
  EXPECT_EQ(added.find("/DR"), std::string::npos);  // no font resources: PDF/A forbids non-embedded ones

  ASSERT_TRUE(embed_signature(*p, Bytes(100, 0xab)).ok());
  test::TempDir dir;
  ASSERT_TRUE(write_file_atomic(dir.file("out.pdf"), p->file).ok());
  auto check = test::run("qpdf --check " + dir.file("out.pdf"));
  EXPECT_EQ(check.status, 0) << check.out;

  auto ins = inspect(p->file);
  ASSERT_TRUE(ins.ok()) << ins.error().message;
  ASSERT_EQ(ins->signatures.size(), 1u);
  const auto& s = ins->signatures[0];
  EXPECT_EQ(s.field_name, p->field_name);
  EXPECT_EQ(s.sub_filter, "ETSI.CAdES.detached");
  EXPECT_EQ(s.reason, "Giáo viên chủ nhiệm ký");
  EXPECT_TRUE(s.byte_range_well_formed);
  EXPECT_EQ(s.covered_end, p->file.size());
  ASSERT_EQ(s.contents.size(), 3000u);
  EXPECT_EQ(s.contents[0], 0xab);
  EXPECT_EQ(s.contents[100], 0x00);
  EXPECT_EQ(ins->revisions.back().end_offset, p->file.size());
}

TEST_P(EachFixture, ThreeUpdatesInSequenceKeepEveryRevision) {
  Bytes f = fixture(GetParam());
  auto before = inspect(f);
  ASSERT_TRUE(before.ok());
  std::vector<std::size_t> sizes;
  std::vector<std::string> names;
  for (int i = 0; i < 3; ++i) {
    std::string name;
    Bytes next = add_signature(f, SignatureRequest{}, &name);
    EXPECT_TRUE(std::equal(f.begin(), f.end(), next.begin()));
    f = std::move(next);
    sizes.push_back(f.size());
    names.push_back(name);
  }
  auto ins = inspect(f);
  ASSERT_TRUE(ins.ok()) << ins.error().message;
  ASSERT_EQ(ins->signatures.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ins->signatures[i].covered_end, sizes[i]);
    EXPECT_EQ(ins->signatures[i].field_name, names[i]);
    EXPECT_TRUE(ins->signatures[i].byte_range_well_formed);
  }
  EXPECT_EQ(ins->revisions.size(), before->revisions.size() + 3);
  // Names are unique.
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::unique(names.begin(), names.end()), names.end());
  test::TempDir dir;
  ASSERT_TRUE(write_file_atomic(dir.file("out.pdf"), f).ok());
  auto check = test::run("qpdf --check " + dir.file("out.pdf"));
  EXPECT_EQ(check.status, 0) << check.out;
}

INSTANTIATE_TEST_SUITE_P(Producers, EachFixture, ::testing::ValuesIn(kFixtures));

TEST(PdfFields, NamedEmptyFieldIsFilledAndThenRefused) {
  Bytes in = fixture("form-empty-field.pdf");
  auto ins0 = inspect(in);
  ASSERT_TRUE(ins0.ok());
  ASSERT_EQ(ins0->empty_signature_fields, std::vector<std::string>{"GVCN"});
  SignatureRequest req;
  req.field_name = "GVCN";
  std::string used;
  Bytes out = add_signature(in, req, &used);
  EXPECT_EQ(used, "GVCN");
  auto ins = inspect(out);
  ASSERT_TRUE(ins.ok());
  EXPECT_TRUE(ins->empty_signature_fields.empty());
  ASSERT_EQ(ins->signatures.size(), 1u);
  EXPECT_EQ(ins->signatures[0].field_name, "GVCN");
  // No new widget: the existing field got the value.
  EXPECT_EQ(tail_after(out, in.size()).find("/Subtype /Widget\n/FT /Sig"), std::string::npos);

  auto again = prepare_signature(out, req);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::invalid_argument);
  EXPECT_NE(again.error().message.find("already signed"), std::string::npos);
}

TEST(PdfFields, UnknownNameAddsANewInvisibleFieldOfThatName) {
  Bytes in = fixture("cairo.pdf");
  SignatureRequest req;
  req.field_name = "HieuTruong";
  std::string used;
  Bytes out = add_signature(in, req, &used);
  EXPECT_EQ(used, "HieuTruong");
  std::string added = tail_after(out, in.size());
  EXPECT_NE(added.find("/T (HieuTruong)"), std::string::npos);
  EXPECT_NE(added.find("/Rect [0 0 0 0]"), std::string::npos);
  EXPECT_NE(added.find("/F 132"), std::string::npos);  // print + locked; not hidden (PDF/A)
  EXPECT_NE(added.find("/SigFlags 3"), std::string::npos);

  req.field_name = "a.b";
  auto dotted = prepare_signature(in, req);
  ASSERT_FALSE(dotted.ok());
  EXPECT_EQ(dotted.error().code, Errc::invalid_argument);
}

TEST(PdfFields, NonAsciiFieldNameIsAUtf16TextString) {
  Bytes in = fixture("qpdf-classic.pdf");
  SignatureRequest req;
  req.field_name = "Hiệu trưởng";
  std::string used;
  Bytes out = add_signature(in, req, &used);
  auto ins = inspect(out);
  ASSERT_TRUE(ins.ok());
  ASSERT_EQ(ins->signatures.size(), 1u);
  EXPECT_EQ(ins->signatures[0].field_name, "Hiệu trưởng");
  EXPECT_NE(tail_after(out, in.size()).find("/T <FEFF"), std::string::npos);
}

TEST(PdfErrors, NotAPdf) {
  std::string junk = "this is not a pdf at all, just some text that is long enough";
  auto r = prepare_signature(Bytes(junk.begin(), junk.end()), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::bad_pdf);
  auto i = inspect(Bytes(junk.begin(), junk.end()));
  ASSERT_FALSE(i.ok());
  EXPECT_EQ(i.error().code, Errc::bad_pdf);
}

TEST(PdfErrors, TruncatedPdf) {
  Bytes in = fixture("qpdf-classic.pdf");
  in.resize(in.size() / 2);
  auto r = prepare_signature(in, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::bad_pdf);
}

TEST(PdfErrors, EncryptedPdfIsRefused) {
  test::TempDir dir;
  std::string src = std::string(HOCBA_TEST_DATA) + "/pdf/qpdf-classic.pdf";
  auto r = test::run("qpdf --encrypt '' owner 256 -- " + src + " " + dir.file("enc.pdf"));
  ASSERT_EQ(r.status, 0) << r.out;
  auto in = read_file(dir.file("enc.pdf"));
  ASSERT_TRUE(in.ok());
  auto p = prepare_signature(*in, {});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, Errc::bad_pdf);
  EXPECT_NE(p.error().message.find("encrypt"), std::string::npos) << p.error().message;
}

TEST(PdfErrors, SignatureLargerThanPlaceholderIsRefused) {
  SignatureRequest req;
  req.contents_size = 64;
  auto p = prepare_signature(fixture("cairo.pdf"), req);
  ASSERT_TRUE(p.ok());
  Bytes before = p->file;
  auto st = embed_signature(*p, Bytes(65, 1));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Errc::too_large);
  EXPECT_EQ(p->file, before);
  EXPECT_TRUE(embed_signature(*p, Bytes(64, 1)).ok());
}

namespace {
Bytes image(const std::string& name) { return fixture("../images/" + name); }
}  // namespace

TEST(PdfLocks, CertificationIsDocMdpP2OnTheFirstSignatureOnly) {
  Bytes in = fixture("cairo.pdf");
  SignatureRequest req;
  req.certify_p = 1;
  auto p1 = prepare_signature(in, req);
  ASSERT_FALSE(p1.ok());
  EXPECT_NE(p1.error().message.find("P=1"), std::string::npos);
  req.certify_p = 2;
  auto p2 = prepare_signature(in, req);
  ASSERT_TRUE(p2.ok()) << p2.error().message;
  std::string added = tail_after(p2->file, in.size());
  EXPECT_NE(added.find("/TransformMethod /DocMDP /TransformParams << /Type /TransformParams /P 2 /V /1.2 >>"),
            std::string::npos);
  EXPECT_NE(added.find("/Perms"), std::string::npos);
  ASSERT_TRUE(embed_signature(*p2, Bytes(10, 1)).ok());
  auto again = prepare_signature(p2->file, req);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("first signature"), std::string::npos);
}

TEST(PdfLocks, FieldMdpListsTheLockedFieldsAndThisOne) {
  Bytes in = fixture("form-empty-field.pdf");
  SignatureRequest req;
  req.lock_fields = {"Earlier"};
  req.field_name = "GVCN";
  auto p = prepare_signature(in, req);
  ASSERT_TRUE(p.ok());
  std::string added = tail_after(p->file, in.size());
  EXPECT_NE(added.find("/TransformMethod /FieldMDP /TransformParams << /Type /TransformParams /Action /Include "
                       "/Fields [(Earlier) (GVCN)] /V /1.2 >> /Data 1 0 R"),
            std::string::npos)
      << added.substr(0, 800);
}

TEST(PdfAppearance, SealImageIsDrawnInTheFieldWithItsTransparency) {
  Bytes in = fixture("form-empty-field.pdf");
  SignatureRequest req;
  req.field_name = "GVCN";
  Appearance ap;
  ap.image_png = image("seal.png");
  ap.image_fills_box = true;
  req.appearance = ap;
  auto p = prepare_signature(in, req);
  ASSERT_TRUE(p.ok()) << p.error().message;
  std::string added = tail_after(p->file, in.size());
  EXPECT_NE(added.find("/AP"), std::string::npos);
  EXPECT_NE(added.find("/Subtype /Form"), std::string::npos);
  EXPECT_NE(added.find("/BBox [0 0 200 60]"), std::string::npos);
  EXPECT_NE(added.find("/SMask"), std::string::npos);
  EXPECT_NE(added.find("/Im1 Do"), std::string::npos);
  ASSERT_TRUE(embed_signature(*p, Bytes(10, 1)).ok());
  test::TempDir dir;
  ASSERT_TRUE(write_file_atomic(dir.file("out.pdf"), p->file).ok());
  auto check = test::run("qpdf --check " + dir.file("out.pdf"));
  EXPECT_EQ(check.status, 0) << check.out;
}

TEST(PdfAppearance, TextNeedsTheDocumentsEmbeddedFont) {
  Bytes in = fixture("form-empty-field.pdf");
  SignatureRequest req;
  req.field_name = "GVCN";
  Appearance ap;
  ap.lines = {"Võ Tuấn Cường"};
  req.appearance = ap;
  auto p = prepare_signature(in, req);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, Errc::bad_pdf);
  EXPECT_NE(p.error().message.find("HocbaSerif"), std::string::npos);
}

TEST(PdfAppearance, BrokenPngIsAClearError) {
  SignatureRequest req;
  req.field_name = "GVCN";
  Appearance ap;
  ap.image_png = Bytes{0x89, 'P', 'N', 'G', 1, 2, 3};
  ap.image_fills_box = true;
  req.appearance = ap;
  auto p = prepare_signature(fixture("form-empty-field.pdf"), req);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, Errc::invalid_argument);
}
