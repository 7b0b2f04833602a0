// The signing chain's documents (issue 11): the subject teacher's score sheet (score_sheet.h) and the
// record's data-driven signature boxes and subject confirmations (render.h). Files are checked with
// qpdf --check, pdftotext, pdfdetach and our own inspect().
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "hocba/common/bytes.h"
#include "hocba/common/fileio.h"
#include "hocba/pdf/record.h"
#include "hocba/pdf/render.h"
#include "hocba/pdf/score_sheet.h"
#include "hocba/pdf/signing.h"
#include "pdf_tools.h"
#include "test_env.h"

using namespace hocba;
using namespace hocba::pdf;
namespace json = boost::json;
using test::pdf::collapse;
using test::pdf::detached;
using test::pdf::page_count;
using test::pdf::pdftotext;
using test::pdf::sh_quote;
using test::pdf::write_pdf;

namespace {

using test::pdf::sample;

std::string sha256_hex(const Bytes& b) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(b.data(), b.size(), md, &len, EVP_sha256(), nullptr);
  return to_hex(std::span<const std::uint8_t>(md, len));
}

std::vector<std::string> fields_of(const Bytes& pdf) {
  auto in = inspect(pdf);
  EXPECT_TRUE(in.ok()) << in.error().message;
  return in ? in->empty_signature_fields : std::vector<std::string>{};
}

void qpdf_check(const std::string& path) {
  auto r = test::run("qpdf --check " + sh_quote(path));
  EXPECT_EQ(r.status, 0) << r.out;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

const SecondarySubject& sec_subject(const Student& st, const std::string& name) {
  for (const auto& s : st.secondary->subjects)
    if (s.subject == name) return s;
  throw std::runtime_error("no subject " + name);
}

std::string comma(double v) {
  char b[16];
  std::snprintf(b, sizeof b, "%.1f", v);
  std::string s = b;
  s[s.find('.')] = ',';
  return s;
}

}  // namespace

// ---- The score sheet --------------------------------------------------------------------------------

TEST(ScoreSheet, SecondaryClassShowsEveryStudentsScoresWithADecimalComma) {
  const ClassFile& cf = sample("thcs-8A-gvbm.json");
  auto pdf = render_score_sheet(cf.info, cf.students, "Toán");
  ASSERT_TRUE(pdf.ok()) << pdf.error().message;
  test::TempDir dir;
  std::string path = write_pdf(dir, "toan.pdf", *pdf);
  qpdf_check(path);

  std::string text = collapse(pdftotext(path));
  for (const char* s : {"BẢNG ĐIỂM MÔN HỌC", "Trường THCS Hồng Thái", "8A", "2024-2025", "Môn học: Toán",
                        "Giáo viên bộ môn: Phạm Văn Minh", "GIÁO VIÊN BỘ MÔN", "Hà Nội, ngày 31 tháng 5 năm 2025"})
    EXPECT_TRUE(contains(text, s)) << "missing: " << s;
  EXPECT_TRUE(contains(text, "Bảng điểm này gồm " + std::to_string(cf.students.size()) + " học sinh")) << text;
  int pages = page_count(path);
  auto last = test::run("pdftotext -f " + std::to_string(pages) + " -l " + std::to_string(pages) + " " + sh_quote(path) + " -");
  EXPECT_TRUE(contains(last.out, cf.students.back().personal_id)) << "the signature stands alone:\n" << last.out;
  for (const Student& st : cf.students) {
    EXPECT_TRUE(contains(text, st.full_name)) << st.full_name;
    EXPECT_TRUE(contains(text, st.personal_id)) << st.personal_id;
  }
  const SecondarySubject& s0 = sec_subject(cf.students[0], "Toán");
  std::string row0 = "1 " + cf.students[0].full_name + " " + cf.students[0].personal_id + " " + comma(*s0.hk1) + " " +
                     comma(*s0.hk2) + " " + comma(*s0.year);
  EXPECT_TRUE(contains(text, row0)) << "row: " << row0 << "\n" << text.substr(0, 2000);

  EXPECT_EQ(fields_of(*pdf), std::vector<std::string>{"gvbm"});

  // The attached data: exactly what the page shows.
  json::value j = json::parse(detached(path));
  const json::object& o = j.as_object();
  EXPECT_EQ(o.at("format"), "hocba.sheet/v1");
  EXPECT_EQ(o.at("school_code"), "01020412");
  EXPECT_EQ(o.at("class"), "8A");
  EXPECT_EQ(o.at("school_year"), "2024-2025");
  EXPECT_EQ(o.at("subject"), "Toán");
  EXPECT_EQ(o.at("teacher"), (json::object{{"name", "Phạm Văn Minh"}, {"username", "gv.toan"}}));
  const json::array& students = o.at("students").as_array();
  ASSERT_EQ(students.size(), cf.students.size());
  for (std::size_t i = 0; i < students.size(); ++i) {
    const Student& st = cf.students[i];
    const SecondarySubject& s = sec_subject(st, "Toán");
    const json::object& r = students[i].as_object();
    EXPECT_EQ(r.at("personal_id"), st.personal_id.c_str());
    EXPECT_EQ(r.at("full_name"), st.full_name.c_str());
    EXPECT_DOUBLE_EQ(r.at("hk1").to_number<double>(), *s.hk1);
    EXPECT_DOUBLE_EQ(r.at("hk2").to_number<double>(), *s.hk2);
    EXPECT_DOUBLE_EQ(r.at("year").to_number<double>(), *s.year);
    EXPECT_EQ(r.at("comment"), s.comment.c_str());
    EXPECT_FALSE(r.contains("level"));
  }
  auto list = test::run("pdfdetach -list " + sh_quote(path));
  EXPECT_TRUE(contains(list.out, "bang-diem-8A.json")) << list.out;
}

TEST(ScoreSheet, PassFailSubjectShowsDatAndChuaDat) {
  const ClassFile& cf = sample("thcs-8A-gvbm.json");
  auto pdf = render_score_sheet(cf.info, cf.students, "Giáo dục thể chất");
  ASSERT_TRUE(pdf.ok()) << pdf.error().message;
  test::TempDir dir;
  std::string path = write_pdf(dir, "gdtc.pdf", *pdf);
  const SecondarySubject& s = sec_subject(cf.students[0], "Giáo dục thể chất");
  ASSERT_FALSE(s.scored);
  std::string text = collapse(pdftotext(path));
  EXPECT_TRUE(contains(text, cf.students[0].personal_id + " " + s.hk1_text + " " + s.hk2_text + " " + s.year_text)) << text.substr(0, 1500);
  json::value j = json::parse(detached(path));
  EXPECT_EQ(j.at("students").at(0).at("hk1"), s.hk1_text.c_str());
}

TEST(ScoreSheet, PrimaryClassShowsLevelsTestScoresAndComments) {
  const ClassFile& cf = sample("primary-3A.json");
  // primary-3A names no subject teachers: the teacher must be given.
  auto none = render_score_sheet(cf.info, cf.students, "Tiếng Việt");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, Errc::invalid_argument);
  EXPECT_TRUE(contains(none.error().message, "class.subject_teachers")) << none.error().message;

  ScoreSheetOptions o;
  o.teacher = Staff{"Lê Thị Hồng", "gv.tv3"};
  auto pdf = render_score_sheet(cf.info, cf.students, "Tiếng Việt", o);
  ASSERT_TRUE(pdf.ok()) << pdf.error().message;
  test::TempDir dir;
  std::string path = write_pdf(dir, "tv.pdf", *pdf);
  qpdf_check(path);
  std::string text = collapse(pdftotext(path));
  EXPECT_TRUE(contains(text, "Lê Thị Hồng"));
  EXPECT_TRUE(contains(text, "Mức đạt được"));
  json::value j = json::parse(detached(path));
  EXPECT_EQ(j.at("teacher").at("username"), "gv.tv3");
  const json::array& students = j.at("students").as_array();
  ASSERT_EQ(students.size(), cf.students.size());
  for (std::size_t i = 0; i < students.size(); ++i) {
    const PrimarySubject* s = nullptr;
    for (const auto& x : cf.students[i].primary->subjects)
      if (x.subject == "Tiếng Việt") s = &x;
    ASSERT_NE(s, nullptr);
    const json::object& r = students[i].as_object();
    EXPECT_EQ(r.at("level"), s->level.c_str());
    EXPECT_EQ(r.at("comment"), s->comment.c_str());
    EXPECT_FALSE(r.contains("hk1"));
    ASSERT_TRUE(s->test_score.has_value());
    EXPECT_TRUE(r.at("test_score").is_int64()) << "a whole test score is written as an integer";
    EXPECT_EQ(r.at("test_score").as_int64(), static_cast<std::int64_t>(*s->test_score));
    std::string row = std::to_string(i + 1) + " " + cf.students[i].full_name + " " + cf.students[i].personal_id + " " + s->level +
                      " " + std::to_string(static_cast<int>(*s->test_score));
    EXPECT_TRUE(contains(text, row)) << row;
    EXPECT_TRUE(contains(text, collapse(s->comment))) << s->comment;
  }
}

TEST(ScoreSheet, SixtyStudentsSpanSeveralPages) {
  const ClassFile& cf = sample("thcs-8A-gvbm.json");
  std::vector<Student> sixty;
  for (int i = 0; i < 60; ++i) {
    Student st = cf.students[static_cast<std::size_t>(i) % cf.students.size()];
    char id[16];
    std::snprintf(id, sizeof id, "0000000000%02d", i);
    st.personal_id = id;
    st.full_name += " " + std::to_string(i + 1);
    sixty.push_back(std::move(st));
  }
  auto pdf = render_score_sheet(cf.info, sixty, "Ngữ văn");
  ASSERT_TRUE(pdf.ok()) << pdf.error().message;
  test::TempDir dir;
  std::string path = write_pdf(dir, "sixty.pdf", *pdf);
  qpdf_check(path);
  int pages = page_count(path);
  EXPECT_GE(pages, 2);
  std::string text = collapse(pdftotext(path));
  for (const Student& st : sixty) EXPECT_TRUE(contains(text, st.personal_id)) << st.personal_id;
  EXPECT_TRUE(contains(text, "Bảng điểm này gồm 60 học sinh"));
  EXPECT_TRUE(contains(text, "Trang " + std::to_string(pages) + "/" + std::to_string(pages)));
  // The table header repeats on every page.
  std::size_t headers = 0;
  for (std::size_t at = text.find("Mã định danh"); at != std::string::npos; at = text.find("Mã định danh", at + 1)) ++headers;
  EXPECT_EQ(headers, static_cast<std::size_t>(pages));
  // The signature never stands alone on a page: the last row goes with it.
  auto last = test::run("pdftotext -f " + std::to_string(pages) + " -l " + std::to_string(pages) + " " + sh_quote(path) + " -");
  EXPECT_TRUE(contains(last.out, sixty.back().personal_id)) << last.out;
  EXPECT_TRUE(contains(last.out, "GIÁO VIÊN BỘ MÔN")) << last.out;
  EXPECT_EQ(json::parse(detached(path)).at("students").as_array().size(), 60u);
  EXPECT_EQ(fields_of(*pdf), std::vector<std::string>{"gvbm"});
}

TEST(ScoreSheet, SameInputSameBytes) {
  const ClassFile& cf = sample("thcs-8A-gvbm.json");
  auto a = render_score_sheet(cf.info, cf.students, "Toán");
  auto b = render_score_sheet(cf.info, cf.students, "Toán");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(*a == *b);
  auto c = render_score_sheet(cf.info, cf.students, "Ngữ văn");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(*a == *c);
  // The date is an input, never the clock.
  ScoreSheetOptions o;
  o.date = "2026-12-07";
  auto d = render_score_sheet(cf.info, cf.students, "Toán", o);
  ASSERT_TRUE(d.ok());
  test::TempDir dir;
  std::string path = write_pdf(dir, "d.pdf", *d);
  EXPECT_TRUE(contains(collapse(pdftotext(path)), "Hà Nội, ngày 07 tháng 12 năm 2026"));
  auto info = test::run("pdfinfo -isodates " + sh_quote(path));
  EXPECT_TRUE(contains(info.out, "2026-12-07")) << info.out;
}

// score_sheet_data: what the sheet shows, without rendering it. The same for the same sheet; another
// for anything the page shows (a score of the subject, the teacher, the title), the same when only
// another subject changed.
TEST(ScoreSheet, DataChangesExactlyWhenTheSheetDoes) {
  const ClassFile& cf = sample("thcs-8A-gvbm.json");
  auto data = [&](const std::vector<Student>& students, const ScoreSheetOptions& o = {}) {
    auto d = score_sheet_data(cf.info, students, "Toán", o);
    EXPECT_TRUE(d.ok()) << d.error().message;
    return d ? *d : std::string();
  };
  const std::string base = data(cf.students);
  EXPECT_EQ(data(cf.students), base);
  std::vector<Student> other_subject = cf.students;
  for (auto& s : other_subject[0].secondary->subjects)
    if (s.subject == "Ngữ văn") s.comment += " (sửa)";
  EXPECT_EQ(data(other_subject), base);
  EXPECT_TRUE(*render_score_sheet(cf.info, other_subject, "Toán") == *render_score_sheet(cf.info, cf.students, "Toán"));
  std::vector<Student> rescored = cf.students;
  for (auto& s : rescored[0].secondary->subjects)
    if (s.subject == "Toán") s.hk1 = *s.hk1 + 0.1;
  EXPECT_NE(data(rescored), base);
  ScoreSheetOptions teacher;
  teacher.teacher = Staff{"Người Khác", "gv.khac"};
  EXPECT_NE(data(cf.students, teacher), base);
  ScoreSheetOptions title;
  title.title = {"TỔ TRƯỞNG CHUYÊN MÔN"};
  EXPECT_NE(data(cf.students, title), base);
  // The rendered sheet's file identifier is the first half of the data's SHA-256.
  auto pdf = render_score_sheet(cf.info, cf.students, "Toán");
  ASSERT_TRUE(pdf.ok());
  auto in = inspect(*pdf);
  ASSERT_TRUE(in.ok()) << in.error().message;
  EXPECT_EQ(in->file_id, sha256_hex(Bytes(base.begin(), base.end())).substr(0, 32));
  // A signature (an incremental update) keeps it.
  SignatureRequest req;
  req.field_name = "gvbm";
  auto prepared = prepare_signature(*pdf, req);
  ASSERT_TRUE(prepared.ok()) << prepared.error().message;
  ASSERT_TRUE(embed_signature(*prepared, Bytes(100, 0xab)));
  auto signed_in = inspect(prepared->file);
  ASSERT_TRUE(signed_in.ok());
  ASSERT_EQ(signed_in->signatures.size(), 1u);
  EXPECT_EQ(signed_in->file_id, in->file_id);
  auto none = score_sheet_data(cf.info, cf.students, "Tiếng Việt");  // no student of 8A has it
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, Errc::invalid_argument);
}

TEST(ScoreSheet, FieldNameAndTitleFromTheOptions) {
  const ClassFile& cf = sample("thcs-8A-gvbm.json");
  ScoreSheetOptions o;
  o.field = "gvbm_toan";
  o.title = {"TỔ TRƯỞNG CHUYÊN MÔN", "GIÁO VIÊN BỘ MÔN"};
  auto pdf = render_score_sheet(cf.info, cf.students, "Toán", o);
  ASSERT_TRUE(pdf.ok()) << pdf.error().message;
  EXPECT_EQ(fields_of(*pdf), std::vector<std::string>{"gvbm_toan"});
  test::TempDir dir;
  std::string text = collapse(pdftotext(write_pdf(dir, "t.pdf", *pdf)));
  EXPECT_TRUE(contains(text, "TỔ TRƯỞNG CHUYÊN MÔN GIÁO VIÊN BỘ MÔN")) << text;
}

TEST(ScoreSheet, RefusesWhatItCannotShow) {
  const ClassFile& cf = sample("thcs-8A-gvbm.json");
  auto unknown = render_score_sheet(cf.info, cf.students, "Hóa học");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, Errc::invalid_argument);
  EXPECT_TRUE(contains(unknown.error().message, "Hóa học")) << unknown.error().message;
  ScoreSheetOptions o;
  o.date = "7/12/2026";
  auto bad_date = render_score_sheet(cf.info, cf.students, "Toán", o);
  ASSERT_FALSE(bad_date.ok());
  EXPECT_EQ(bad_date.error().code, Errc::invalid_argument);
  ScoreSheetOptions f;
  f.font_bold = "/nonexistent/font.ttf";
  auto no_font = render_score_sheet(cf.info, cf.students, "Toán", f);
  ASSERT_FALSE(no_font.ok());
  EXPECT_EQ(no_font.error().code, Errc::not_found);
}

// ---- The record: confirmations and signature boxes ----------------------------------------------

TEST(RecordChain, ConfirmationsNameTheSubjectTeachersAndCarryTheSheetHashes) {
  const ClassFile& cf = sample("thcs-8A-gvbm.json");
  const Student& st = cf.students[0];
  auto toan = render_score_sheet(cf.info, cf.students, "Toán");
  auto van = render_score_sheet(cf.info, cf.students, "Ngữ văn");
  ASSERT_TRUE(toan.ok() && van.ok());
  RenderOptions ro;
  ro.confirmations = {{"Toán", "Phạm Văn Minh", "2026-12-07T10:15:00+07:00", sha256_hex(*toan)},
                      {"Ngữ văn", "Nguyễn Thị Lan", "2026-12-08", sha256_hex(*van)},
                      {"Hóa học", "Không Có", "2026-12-08", std::string(64, 'a')}};  // not this student's: ignored
  auto pdf = render_record(cf.info, st, ro);
  ASSERT_TRUE(pdf.ok()) << pdf.error().message;
  test::TempDir dir;
  std::string path = write_pdf(dir, "r.pdf", *pdf);
  qpdf_check(path);
  std::string text = collapse(pdftotext(path));
  EXPECT_TRUE(contains(text, "Giáo viên môn học xác nhận")) << text;
  EXPECT_TRUE(contains(text, "Phạm Văn Minh xác nhận ngày 07/12/2026")) << text;
  EXPECT_TRUE(contains(text, "Nguyễn Thị Lan xác nhận ngày 08/12/2026")) << text;
  EXPECT_FALSE(contains(text, "Không Có"));

  // The attached data: the student's object as it was, plus "confirmations".
  json::value got = json::parse(detached(path));
  json::object expected = json::parse(st.source_json).as_object();
  json::array ks;
  ks.push_back(json::object{{"subject", "Toán"}, {"teacher", "Phạm Văn Minh"}, {"confirmed_at", "2026-12-07T10:15:00+07:00"},
                            {"sheet_sha256", sha256_hex(*toan)}});
  ks.push_back(json::object{{"subject", "Ngữ văn"}, {"teacher", "Nguyễn Thị Lan"}, {"confirmed_at", "2026-12-08"},
                            {"sheet_sha256", sha256_hex(*van)}});
  expected["confirmations"] = ks;
  EXPECT_EQ(got, json::value(expected));
  std::string raw = detached(path);
  EXPECT_EQ(raw.substr(0, st.source_json.size() - 1), st.source_json.substr(0, st.source_json.size() - 1))
      << "the source object's bytes are kept";

  // Without confirmations the form is as before.
  auto plain = render_record(cf.info, st);
  ASSERT_TRUE(plain.ok());
  std::string plain_text = collapse(pdftotext(write_pdf(dir, "p.pdf", *plain)));
  EXPECT_FALSE(contains(plain_text, "xác nhận ngày"));  // the form's column, empty
  EXPECT_TRUE(contains(plain_text, "Giáo viên môn học xác nhận"));
  EXPECT_EQ(detached(dir.file("p.pdf")), st.source_json);
  EXPECT_FALSE(*plain == *pdf);
}

TEST(RecordChain, PrimaryConfirmationIsALineUnderTheComment) {
  const ClassFile& cf = sample("primary-3A.json");
  RenderOptions ro;
  ro.confirmations = {{"Tiếng Việt", "Lê Thị Hồng", "2026-12-07", std::string(64, '0')}};
  auto pdf = render_record(cf.info, cf.students[0], ro);
  ASSERT_TRUE(pdf.ok()) << pdf.error().message;
  test::TempDir dir;
  std::string path = write_pdf(dir, "p.pdf", *pdf);
  qpdf_check(path);
  EXPECT_TRUE(contains(collapse(pdftotext(path)), "GV bộ môn: Lê Thị Hồng, xác nhận ngày 07/12/2026"));
  EXPECT_EQ(json::parse(detached(path)).at("confirmations").at(0).at("sheet_sha256"), std::string(64, '0').c_str());
}

TEST(RecordChain, DeputyTitleIsPrintedInThePrincipalsBox) {
  const ClassFile& cf = sample("thpt-11A.json");
  RenderOptions ro;
  ro.boxes = default_signature_boxes();
  ro.boxes[1] = deputy_principal_box("Lê Thị Phó");
  auto pdf = render_record(cf.info, cf.students[0], ro);
  ASSERT_TRUE(pdf.ok()) << pdf.error().message;
  test::TempDir dir;
  std::string path = write_pdf(dir, "d.pdf", *pdf);
  qpdf_check(path);
  std::string text = collapse(pdftotext(path));
  EXPECT_TRUE(contains(text, "KT. HIỆU TRƯỞNG")) << text;
  EXPECT_TRUE(contains(text, "PHÓ HIỆU TRƯỞNG")) << text;
  EXPECT_TRUE(contains(text, "Lê Thị Phó")) << text;
  std::vector<std::string> f = fields_of(*pdf);
  std::sort(f.begin(), f.end());
  EXPECT_EQ(f, (std::vector<std::string>{"con_dau", "gvcn", "hieu_truong"}));
  auto plain = render_record(cf.info, cf.students[0]);
  ASSERT_TRUE(plain.ok());
  std::string plain_text = collapse(pdftotext(write_pdf(dir, "p.pdf", *plain)));
  EXPECT_FALSE(contains(plain_text, "KT. HIỆU TRƯỞNG"));
  EXPECT_FALSE(contains(plain_text, "Lê Thị Phó"));
}

TEST(RecordChain, DefaultBoxesAndAllFieldsGiveTheDefaultBytes) {
  const ClassFile& cf = sample("thcs-8A.json");
  auto plain = render_record(cf.info, cf.students[0]);
  RenderOptions ro;
  ro.fields = std::vector<std::string>{kFieldHomeroom, kFieldPrincipal, kFieldSeal};
  ro.boxes = {{kFieldHomeroom, kBoxHomeroom, {"GIÁO VIÊN CHỦ NHIỆM"}, ""},
              {kFieldPrincipal, kBoxPrincipal, {"HIỆU TRƯỞNG"}, ""},
              {kFieldSeal, kBoxSeal, {}, ""}};
  auto same = render_record(cf.info, cf.students[0], ro);
  ASSERT_TRUE(plain.ok() && same.ok());
  EXPECT_TRUE(*plain == *same);
  ro.boxes[0].title = {"GIÁO VIÊN CHỦ NHIỆM LỚP"};
  auto other = render_record(cf.info, cf.students[0], ro);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(*plain == *other);
}

TEST(RecordChain, BoxesAreData) {
  const ClassFile& cf = sample("thcs-8A.json");
  RenderOptions ro;
  ro.boxes = {{"ky_hieu_truong", kBoxPrincipal, {"HIỆU TRƯỞNG"}, ""}, {"dau", kBoxSeal, {}, ""}};  // no homeroom box
  auto pdf = render_record(cf.info, cf.students[0], ro);
  ASSERT_TRUE(pdf.ok()) << pdf.error().message;
  EXPECT_EQ(fields_of(*pdf), (std::vector<std::string>{"ky_hieu_truong", "dau"}));
  test::TempDir dir;
  std::string text = collapse(pdftotext(write_pdf(dir, "b.pdf", *pdf)));
  // No homeroom box in the signature block: neither its title nor its hint (the homeroom teacher's
  // comment section keeps its own heading).
  EXPECT_FALSE(contains(text, "NHIỆM (Ký") || contains(text, "(Ký và ghi rõ họ tên)"));
  EXPECT_TRUE(contains(text, "HIỆU TRƯỞNG"));
  // fields still filters: the page keeps the box, the field is not made.
  ro.fields = std::vector<std::string>{"dau"};
  auto only_seal = render_record(cf.info, cf.students[0], ro);
  ASSERT_TRUE(only_seal.ok());
  EXPECT_EQ(fields_of(*only_seal), std::vector<std::string>{"dau"});
}

TEST(RecordChain, BadBoxesAndConfirmationsAreRefused) {
  const ClassFile& cf = sample("thcs-8A.json");
  const Student& st = cf.students[0];
  auto refused = [&](const RenderOptions& ro, const std::string& words) {
    auto r = render_record(cf.info, st, ro);
    ASSERT_FALSE(r.ok()) << words;
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_TRUE(contains(r.error().message, words)) << r.error().message;
  };
  RenderOptions ro;
  ro.boxes = {{"x", "deputy", {}, ""}};
  refused(ro, "\"deputy\" is not homeroom, principal or seal");
  ro.boxes = {{"a", kBoxPrincipal, {}, ""}, {"b", kBoxPrincipal, {}, ""}};
  refused(ro, "two signature boxes of kind principal");
  ro.boxes = {{"a", kBoxPrincipal, {}, ""}, {"a", kBoxSeal, {}, ""}};
  refused(ro, "field name a");
  RenderOptions k;
  k.confirmations = {{"Toán", "A", "2026-12-07", "ABC"}};
  refused(k, "sheet_sha256");
  k.confirmations = {{"Toán", "A", "07/12/2026", std::string(64, 'a')}};
  refused(k, "confirmed_at");
  k.confirmations = {{"Toán", "A", "2026-12-07", std::string(64, 'a')}, {"Toán", "B", "2026-12-07", std::string(64, 'b')}};
  refused(k, "confirmed twice");
}
