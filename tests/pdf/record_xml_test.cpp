// The record's XML twin (record_xml.h, docs/record-xml.md): the XML of every student of every sample
// class (hocba.class/v1 and v2) validates against docs/record.xsd with the real xmllint; documents broken
// in one place each are rejected by the same schema (so it is not vacuous); values absent from the data
// are left out; numbers have a decimal point; the output is deterministic; the rendered record carries it
// and embedded_file() gives it back byte for byte. The PDF structure of the attachment (/AF, /Data, the
// name tree) is checked in render_test.cpp (Render.PdfA3Structure); `hocba export-xml` in
// tests/cli/export_xml_cli_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "hocba/pdf/record.h"
#include "hocba/pdf/record_xml.h"
#include "hocba/pdf/render.h"
#include "pdf_tools.h"
#include "test_env.h"

using namespace hocba;
using namespace hocba::pdf;
using test::pdf::sh_quote;

namespace {

const std::string kSchema = std::string(HOCBA_SOURCE_DIR) + "/docs/record.xsd";

std::vector<std::string> sample_names() {
  std::vector<std::string> v;
  for (const auto& e : std::filesystem::directory_iterator(std::string(HOCBA_TEST_DATA) + "/samples"))
    if (e.path().extension() == ".json") v.push_back(e.path().filename().string());
  std::sort(v.begin(), v.end());
  return v;
}

using test::pdf::sample;

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

// xmllint --schema over the files: its exit status and output.
test::CommandResult validate(const std::vector<std::string>& files) {
  std::string cmd = "xmllint --noout --schema " + sh_quote(kSchema);
  for (const auto& f : files) cmd += " " + sh_quote(f);
  return test::run(cmd);
}

// Confirmations for the student's first two subjects, one dated, one timed.
std::vector<SubjectConfirmation> two_confirmations(const Student& st) {
  std::vector<std::string> subjects;
  if (st.primary)
    for (const auto& s : st.primary->subjects) subjects.push_back(s.subject);
  if (st.secondary)
    for (const auto& s : st.secondary->subjects) subjects.push_back(s.subject);
  return {{subjects.at(0), "Phạm Văn Minh", "2026-12-07T10:15:00+07:00", std::string(64, 'a')},
          {subjects.at(1), "Nguyễn Thị Lan", "2026-12-08", std::string(32, '0') + std::string(32, 'f')}};
}

std::string replace_once(std::string s, const std::string& from, const std::string& to) {
  auto at = s.find(from);
  if (at == std::string::npos) throw std::runtime_error("not in the document: " + from);
  return s.replace(at, from.size(), to);
}

}  // namespace

TEST(RecordXml, TheSchemaIsAValidXsd) {
  ASSERT_TRUE(test::have_tool("xmllint")) << "install libxml2-utils";
  // A schema that does not compile makes xmllint fail with "WXS schema … failed to compile" for any input.
  test::TempDir dir;
  test::write_text(dir.file("x.xml"), "<x/>");
  auto r = validate({dir.file("x.xml")});
  EXPECT_FALSE(contains(r.out, "failed to compile")) << r.out;
  EXPECT_TRUE(contains(r.out, "No matching global declaration")) << r.out;
}

// Every student of every sample class, v1 and v2, without and with confirmations.
TEST(RecordXml, EverySampleValidatesAgainstTheSchema) {
  ASSERT_TRUE(test::have_tool("xmllint")) << "install libxml2-utils";
  std::vector<std::string> names = sample_names();
  ASSERT_GE(names.size(), 5u);
  EXPECT_TRUE(std::any_of(names.begin(), names.end(), [](const std::string& n) { return contains(n, "-v2"); }))
      << "the hocba.class/v2 samples";
  test::TempDir dir;
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    const ClassFile& cf = sample(name);
    ASSERT_TRUE(cf.class_ok()) << (cf.errors.empty() ? "" : cf.errors[0].to_string());
    EXPECT_TRUE(cf.errors.empty()) << cf.errors[0].to_string();
    ASSERT_FALSE(cf.students.empty());
    std::vector<std::string> files;
    for (const Student& st : cf.students) {
      std::string path = dir.file(name + "-" + st.personal_id + ".xml");
      test::write_text(path, record_xml(cf.info, st, {}));
      files.push_back(path);
    }
    std::string with = dir.file(name + "-confirmed.xml");
    test::write_text(with, record_xml(cf.info, cf.students[0], two_confirmations(cf.students[0])));
    files.push_back(with);
    auto r = validate(files);
    EXPECT_EQ(r.status, 0) << r.out.substr(0, 4000);
    for (const auto& f : files) EXPECT_TRUE(contains(r.out, f + " validates")) << f << "\n" << r.out.substr(0, 4000);
  }
}

// Text from the store (a teacher's display name, which no class file checks) may hold characters XML 1.0
// forbids: a vertical tab pasted from a word processor, U+FFFE. They become U+FFFD, so that the twin is
// always well-formed (and valid).
TEST(RecordXml, CharactersXmlForbidsBecomeReplacementCharacters) {
  ASSERT_TRUE(test::have_tool("xmllint")) << "install libxml2-utils";
  const ClassFile& cf = sample("thpt-11A.json");
  std::vector<SubjectConfirmation> confirmed = two_confirmations(cf.students[0]);
  confirmed[0].teacher_name = "Ph\x0b\x01m\xef\xbf\xbe V\xef\xbf\xbfn\tMinh\r\n\x7f";
  std::string x = record_xml(cf.info, cf.students[0], confirmed);
  EXPECT_TRUE(contains(x, "<teacher>Ph\xef\xbf\xbd\xef\xbf\xbdm\xef\xbf\xbd V\xef\xbf\xbdn\tMinh&#13;\n\x7f</teacher>")) << x;
  confirmed[1].teacher_name = "L\xef" "AB\xff";  // not UTF-8: each bad byte alone, the letters kept
  x = record_xml(cf.info, cf.students[0], confirmed);
  EXPECT_TRUE(contains(x, "<teacher>L\xef\xbf\xbd" "AB\xef\xbf\xbd</teacher>")) << x;
  test::TempDir dir;
  std::string path = dir.file("forbidden.xml");
  test::write_text(path, x);
  auto r = validate({path});
  EXPECT_EQ(r.status, 0) << r.out.substr(0, 4000);
  EXPECT_TRUE(contains(r.out, path + " validates")) << r.out.substr(0, 4000);
}

// The same schema rejects documents that break it in one place each: it is not vacuous.
TEST(RecordXml, TheSchemaRejectsBrokenDocuments) {
  ASSERT_TRUE(test::have_tool("xmllint")) << "install libxml2-utils";
  const ClassFile& sec = sample("thpt-11A.json");
  const ClassFile& pri = sample("primary-3A.json");
  const std::vector<SubjectConfirmation> confirmed = two_confirmations(sec.students[0]);
  std::string s = record_xml(sec.info, sec.students[0], confirmed);
  std::string p = record_xml(pri.info, pri.students[0], {});
  const Student& st = sec.students[0];
  const std::string id = "<personalId>" + st.personal_id + "</personalId>";
  std::smatch m;
  std::string first_hk1 = std::regex_search(s, m, std::regex("<hk1>[0-9.]+</hk1>")) ? m.str() : "";
  ASSERT_FALSE(first_hk1.empty()) << s;

  struct Case {
    const char* what;
    std::string doc;
  };
  std::vector<Case> cases = {
      {"an 11-digit personal ID", replace_once(s, id, "<personalId>" + st.personal_id.substr(1) + "</personalId>")},
      {"a personal ID with a letter", replace_once(s, id, "<personalId>" + st.personal_id.substr(1) + "x</personalId>")},
      {"a score above 10", replace_once(s, first_hk1, "<hk1>10.5</hk1>")},
      {"a score with a decimal comma", replace_once(s, first_hk1, "<hk1>7,6</hk1>")},
      {"a score with two decimals", replace_once(s, first_hk1, "<hk1>7.25</hk1>")},
      {"a negative score", replace_once(s, first_hk1, "<hk1>-1.0</hk1>")},
      {"a pass/fail level as a score", replace_once(s, first_hk1, "<hk1>Đ</hk1>")},
      {"an unknown sex", replace_once(s, "<sex>" + st.sex + "</sex>", "<sex>Male</sex>")},
      {"a school year with a slash", replace_once(s, "<schoolYear>2024-2025</schoolYear>", "<schoolYear>2024/2025</schoolYear>")},
      {"an unknown level", replace_once(s, "<level>upper_secondary</level>", "<level>university</level>")},
      {"grade 13", replace_once(s, "<grade>11</grade>", "<grade>13</grade>")},
      {"a learning result outside the list", std::regex_replace(s, std::regex("(<learning>\\s*<hk1>)[^<]*"), "$1Giỏi",
                                                                std::regex_constants::format_first_only)},
      {"a date of birth that does not exist", replace_once(s, "<dateOfBirth>" + st.date_of_birth + "</dateOfBirth>", "<dateOfBirth>2008-02-30</dateOfBirth>")},
      {"a date of birth in Vietnamese order", replace_once(s, "<dateOfBirth>" + st.date_of_birth + "</dateOfBirth>", "<dateOfBirth>19/05/2008</dateOfBirth>")},
      {"no sex", replace_once(s, "<sex>" + st.sex + "</sex>", "")},
      {"an empty full name", replace_once(s, "<fullName>" + st.full_name + "</fullName>", "<fullName></fullName>")},
      {"an unknown element", replace_once(s, "</student>", "<nickname>Tí</nickname></student>")},
      {"another format version", replace_once(s, "formatVersion=\"1\"", "formatVersion=\"2\"")},
      {"another namespace", replace_once(s, "urn:hocba-signer:record:1", "urn:hocba-signer:record:2")},
      {"a short sheet hash", replace_once(s, std::string(64, 'a'), std::string(63, 'a'))},
      {"a subject confirmed twice", replace_once(s, "<subject>" + confirmed[1].subject + "</subject>",
                                                 "<subject>" + confirmed[0].subject + "</subject>")},
      {"both results blocks", replace_once(s, "</secondaryResults>", "</secondaryResults><primaryResults/>")},
      {"a primary level outside T/H/C", replace_once(p, "<level>T</level>", "<level>A</level>")},
      {"a rating level outside T/Đ/C", std::regex_replace(p, std::regex("(<rating>\\s*<name>[^<]*</name>\\s*<level>)[^<]*"), "$1H",
                                                          std::regex_constants::format_first_only)},
      {"an unknown overall result", std::regex_replace(p, std::regex("<overall>[^<]*</overall>"), "<overall>Giỏi</overall>")},
      {"completedGrade not a boolean", std::regex_replace(p, std::regex("<completedGrade>[a-z]+</completedGrade>"), "<completedGrade>có</completedGrade>")},
  };
  test::TempDir dir;
  // The unmodified documents pass (so each rejection below is the mutation's).
  test::write_text(dir.file("ok-s.xml"), s);
  test::write_text(dir.file("ok-p.xml"), p);
  auto ok = validate({dir.file("ok-s.xml"), dir.file("ok-p.xml")});
  ASSERT_EQ(ok.status, 0) << ok.out;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].what);
    ASSERT_TRUE(cases[i].doc != s && cases[i].doc != p) << "the mutation changed nothing";
    std::string f = dir.file("bad-" + std::to_string(i) + ".xml");
    test::write_text(f, cases[i].doc);
    auto r = validate({f});
    EXPECT_NE(r.status, 0) << r.out;
    EXPECT_TRUE(contains(r.out, "fails to validate")) << r.out;
  }
}

TEST(RecordXml, WritesTheRecordsValues) {
  const ClassFile& cf = sample("thcs-8A-gvbm.json");
  const Student& st = cf.students[0];
  std::string x = record_xml(cf.info, st, two_confirmations(st));
  EXPECT_EQ(x.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<hocbaRecord formatVersion=\"1\" sourceFormat=\"hocba.class/v1\" "
                    "xmlns=\"urn:hocba-signer:record:1\">\n",
                    0),
            0u)
      << x.substr(0, 200);
  EXPECT_EQ(x.back(), '\n');
  for (const std::string& v : {"<personalId>" + st.personal_id + "</personalId>", "<fullName>" + st.full_name + "</fullName>",
                               "<dateOfBirth>" + st.date_of_birth + "</dateOfBirth>", "<name>" + cf.info.school_name + "</name>",
                               "<schoolYear>" + cf.info.school_year + "</schoolYear>", std::string("<level>lower_secondary</level>"),
                               "<grade>" + std::to_string(cf.info.grade) + "</grade>", "<outcome>" + st.secondary->outcome + "</outcome>",
                               "<absences>" + std::to_string(st.secondary->absences) + "</absences>",
                               std::string("<confirmedAt>2026-12-07T10:15:00+07:00</confirmedAt>"),
                               std::string("<sheetSha256>") + std::string(64, 'a') + "</sheetSha256>"})
    EXPECT_TRUE(contains(x, v)) << v;
  // Every subject with its scores (a decimal point, one decimal), its comment and the class's teacher.
  for (const SecondarySubject& s : st.secondary->subjects) {
    SCOPED_TRACE(s.subject);
    auto at = x.find("<name>" + s.subject + "</name>");
    ASSERT_NE(at, std::string::npos);
    std::string block = x.substr(at, x.find("</subject>", at) - at);
    if (s.scored) {
      char b[32];
      std::snprintf(b, sizeof b, "<hk1>%.1f</hk1>", *s.hk1);
      EXPECT_TRUE(contains(block, std::string("<scored>")) && contains(block, b)) << block;
      std::snprintf(b, sizeof b, "<year>%.1f</year>", *s.year);
      EXPECT_TRUE(contains(block, b)) << block;
    } else {
      EXPECT_TRUE(contains(block, "<passFail>") && contains(block, "<hk1>" + s.hk1_text + "</hk1>")) << block;
    }
    const SubjectTeacher* t = subject_teacher(cf.info, s.subject);
    ASSERT_TRUE(t);
    EXPECT_TRUE(std::regex_search(block, std::regex("<teacher>\\s*<name>" + t->teacher.name + "</name>\\s*<username>" +
                                                    t->teacher.username + "</username>")))
        << block;
    EXPECT_EQ(contains(block, "<comment>"), !s.comment.empty()) << block;
  }
  EXPECT_FALSE(std::regex_search(x, std::regex(">[0-9]+,[0-9]<"))) << "a decimal comma";
}

// Absent values are left out, never written empty or invented.
TEST(RecordXml, AbsentValuesAreLeftOut) {
  const ClassFile& cf = sample("primary-3A.json");  // hocba.class/v1: no v2 field
  Student st = cf.students[0];
  st.father.reset();
  st.policy_status.clear();
  st.primary->awards.clear();
  st.primary->subjects[0].test_score.reset();
  st.primary->subjects[0].comment.clear();
  ClassInfo info = cf.info;
  info.district.clear();
  std::string x = record_xml(info, st, {});
  for (const char* absent : {"<father>", "<policyStatus>", "<awards>", "<district>", "<commune>", "<homeTown>", "<openedOn>",
                             "<registrationNumber>", "<learningHistory>", "<heightCm>", "<absencesWithLeave>", "<confirmations>",
                             "<secondaryResults>", "<teacher>", "></"})
    EXPECT_FALSE(contains(x, absent)) << absent;
  EXPECT_TRUE(contains(x, "sourceFormat=\"hocba.class/v1\""));
  auto at = x.find("<name>" + st.primary->subjects[0].subject + "</name>");
  ASSERT_NE(at, std::string::npos);
  std::string first = x.substr(at, x.find("</subject>", at) - at);
  EXPECT_FALSE(contains(first, "<testScore>")) << first;
  EXPECT_FALSE(contains(first, "<comment>")) << first;
  if (st.mother) EXPECT_TRUE(contains(x, "<mother>"));
  // A whole test score is written without decimals, others with their digits.
  Student scored = cf.students[0];
  scored.primary->subjects[0].test_score = 7.0;
  scored.primary->subjects[1].test_score = 8.5;
  std::string y = record_xml(cf.info, scored, {});
  EXPECT_TRUE(contains(y, "<testScore>7</testScore>")) << y;
  EXPECT_TRUE(contains(y, "<testScore>8.5</testScore>")) << y;
}

// Text is escaped, and a carriage return survives a round trip through an XML reader.
TEST(RecordXml, EscapesText) {
  ASSERT_TRUE(test::have_tool("xmllint")) << "install libxml2-utils";
  const ClassFile& cf = sample("thpt-11A.json");
  Student st = cf.students[0];
  st.secondary->homeroom_comment = "A < B & C > D \"trích\" 'x'\r\ndòng hai\tcột";
  std::string x = record_xml(cf.info, st, {});
  EXPECT_TRUE(contains(x, "A &lt; B &amp; C &gt; D")) << x;
  test::TempDir dir;
  test::write_text(dir.file("e.xml"), x);
  auto r = test::run("xmllint --xpath \"string(//*[local-name()='homeroomComment'])\" " + sh_quote(dir.file("e.xml")));
  ASSERT_EQ(r.status, 0) << r.out;
  std::string got = r.out.size() == st.secondary->homeroom_comment.size() + 1 && r.out.back() == '\n' ? r.out.substr(0, r.out.size() - 1) : r.out;
  EXPECT_EQ(got, st.secondary->homeroom_comment);
  EXPECT_EQ(validate({dir.file("e.xml")}).status, 0);
}

TEST(RecordXml, Deterministic) {
  for (const std::string& name : sample_names()) {
    const ClassFile& cf = sample(name);
    for (const Student& st : cf.students) EXPECT_EQ(record_xml(cf.info, st, {}), record_xml(cf.info, st, {})) << name;
  }
}

// The rendered record carries exactly record_xml's bytes; embedded_file reads them back.
TEST(RecordXml, RenderedRecordCarriesIt) {
  for (const std::string& name : sample_names()) {
    SCOPED_TRACE(name);
    const ClassFile& cf = sample(name);
    ASSERT_FALSE(cf.students.empty()) << (cf.errors.empty() ? "" : cf.errors[0].to_string());
    const Student& st = cf.students.back();
    RenderOptions ro;
    ro.confirmations = two_confirmations(st);
    ro.confirmations.push_back({"Môn không có", "Ai đó", "2026-12-08", std::string(64, 'b')});  // not the student's: left out
    auto pdf = render_record(cf.info, st, ro);
    ASSERT_TRUE(pdf.ok()) << pdf.error().message;
    std::vector<SubjectConfirmation> own(ro.confirmations.begin(), ro.confirmations.begin() + 2);
    auto got = embedded_file(*pdf, kRecordXmlFileName);
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(std::string(got->begin(), got->end()), record_xml(cf.info, st, own));
    auto json = embedded_file(*pdf, st.personal_id + ".json");
    ASSERT_TRUE(json.ok()) << json.error().message;
    EXPECT_TRUE(contains(std::string(json->begin(), json->end()), "\"confirmations\":"));
    auto again = render_record(cf.info, st, ro);
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(*pdf == *again) << "two renders differ";
  }
}

TEST(RecordXml, EmbeddedFileErrors) {
  const std::string not_pdf = "hello, this is not a PDF at all";
  auto a = embedded_file(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(not_pdf.data()), not_pdf.size()),
                         kRecordXmlFileName);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, Errc::bad_pdf);
  auto other = read_file(std::string(HOCBA_TEST_DATA) + "/pdf/cairo.pdf");
  ASSERT_TRUE(other.ok());
  auto b = embedded_file(*other, kRecordXmlFileName);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, Errc::not_found) << b.error().message;
  // Truncated: the cross-reference table is gone.
  const ClassFile& cf = sample("thcs-8A.json");
  auto pdf = render_record(cf.info, cf.students[0]);
  ASSERT_TRUE(pdf.ok());
  Bytes cut(pdf->begin(), pdf->begin() + static_cast<std::ptrdiff_t>(pdf->size() / 2));
  auto c = embedded_file(cut, kRecordXmlFileName);
  if (c.ok()) EXPECT_EQ(std::string(c->begin(), c->end()), record_xml(cf.info, cf.students[0], {}));  // PoDoFo may reconstruct
  else EXPECT_EQ(c.error().code, Errc::bad_pdf) << c.error().message;
  // Larger than allowed: refused by /Params /Size, and, without it, while decoding.
  auto d = embedded_file(*pdf, kRecordXmlFileName, 100);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, Errc::too_large);
  std::string bytes(pdf->begin(), pdf->end());
  int renamed = 0;
  for (auto at = bytes.find("/ModDate"); at != std::string::npos; at = bytes.find("/ModDate", at + 1)) {
    auto size = bytes.find("/Size", at);
    if (size == std::string::npos || size - at > 64) continue;
    bytes[size + 4] = 'X';  // "/SizX": same length, no offset moves
    ++renamed;
  }
  ASSERT_EQ(renamed, 2);  // the JSON's and the XML's /Params
  Bytes no_size(bytes.begin(), bytes.end());
  auto e = embedded_file(no_size, kRecordXmlFileName, 100);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, Errc::too_large) << e.error().message;
  auto f = embedded_file(no_size, kRecordXmlFileName);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(std::string(f->begin(), f->end()), record_xml(cf.info, cf.students[0], {}));
}
