// record_xml: the record as XML with libxml2's xmlTextWriter; see record_xml.h, docs/record-xml.md and
// the schema docs/record.xsd (element order here is the schema's sequence order).
#include "hocba/pdf/record_xml.h"

#include <libxml/parser.h>
#include <libxml/xmlwriter.h>

#include <charconv>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>

namespace hocba::pdf {

namespace {

// Locale-independent decimal with a point: `decimals` digits after it, or, with trim, at most six and
// trailing zeros removed (7.0 -> "7", 7.25 -> "7.25").
std::string decimal(double v, int decimals, bool trim = false) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, trim ? 6 : decimals);
  std::string s(buf, r.ec == std::errc() ? r.ptr : buf);
  if (trim && s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0" || s == "-0.0") s.erase(0, 1);
  return s;
}

// `s` with what XML 1.0 cannot hold (C0 controls but tab, LF and CR; U+FFFE, U+FFFF; bytes that are not
// UTF-8) replaced by U+FFFD. The class file's text never has them (record.cpp refuses them), but names
// from the store (a teacher's display name) are not checked: the twin must be well-formed whatever comes.
std::string xml_chars(const std::string& s) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = b(i);
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c < 0x80) n = 1;
    else if (c >= 0xc2 && c <= 0xdf) n = 2;
    else if (c >= 0xe0 && c <= 0xef) n = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    else if (c >= 0xf0 && c <= 0xf4) n = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    bool ok = n > 0 && i + n <= s.size() && (n == 1 || (b(i + 1) >= lo && b(i + 1) <= hi));
    for (std::size_t k = 2; ok && k < n; ++k) ok = b(i + k) >= 0x80 && b(i + k) <= 0xbf;
    bool allowed = ok && !(n == 1 && c < 0x20 && c != '\t' && c != '\n' && c != '\r') &&
                   !(n == 3 && c == 0xef && b(i + 1) == 0xbf && (b(i + 2) & 0xfe) == 0xbe);  // U+FFFE, U+FFFF
    if (allowed) out.append(s, i, n);
    else out += "\xef\xbf\xbd";
    i += ok ? n : 1;  // a whole forbidden character, or one byte that is not UTF-8
  }
  return out;
}

class Writer {
 public:
  Writer() {
    static std::once_flag once;
    std::call_once(once, [] { xmlInitParser(); });
    buf_ = xmlBufferCreate();
    if (!buf_) throw std::bad_alloc();
    w_ = xmlNewTextWriterMemory(buf_, 0);
    if (!w_) {
      xmlBufferFree(buf_);
      throw std::bad_alloc();
    }
    check(xmlTextWriterSetIndent(w_, 1));
    check(xmlTextWriterSetIndentString(w_, BAD_CAST "  "));
    check(xmlTextWriterStartDocument(w_, nullptr, "UTF-8", nullptr));
  }
  ~Writer() {
    if (w_) xmlFreeTextWriter(w_);
    xmlBufferFree(buf_);
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void start(const char* name) { check(xmlTextWriterStartElement(w_, BAD_CAST name)); }
  void start_ns(const char* name, const char* ns) { check(xmlTextWriterStartElementNS(w_, nullptr, BAD_CAST name, BAD_CAST ns)); }
  void attribute(const char* name, const std::string& v) { check(xmlTextWriterWriteAttribute(w_, BAD_CAST name, BAD_CAST v.c_str())); }
  void end() { check(xmlTextWriterEndElement(w_)); }
  // An element with text content; left out when the value is empty.
  void text(const char* name, const std::string& v) {
    if (!v.empty()) check(xmlTextWriterWriteElement(w_, BAD_CAST name, BAD_CAST xml_chars(v).c_str()));
  }
  void number(const char* name, long long v) { text(name, std::to_string(v)); }
  void boolean(const char* name, bool v) { text(name, v ? "true" : "false"); }

  std::string finish() {
    check(xmlTextWriterEndDocument(w_));
    xmlFreeTextWriter(w_);  // flushes into buf_
    w_ = nullptr;
    return std::string(reinterpret_cast<const char*>(xmlBufferContent(buf_)), static_cast<std::size_t>(xmlBufferLength(buf_)));
  }

 private:
  static void check(int rc) {
    if (rc < 0) throw std::bad_alloc();  // the writer into memory fails only when memory does
  }
  xmlBufferPtr buf_ = nullptr;
  xmlTextWriterPtr w_ = nullptr;
};

void staff(Writer& w, const char* element, const Staff& s) {
  w.start(element);
  w.text("name", s.name);
  w.text("username", s.username);
  w.end();
}

void person(Writer& w, const char* element, const std::optional<Person>& p) {
  if (!p) return;
  w.start(element);
  w.text("name", p->name);
  w.text("occupation", p->occupation);
  w.end();
}

void list(Writer& w, const char* element, const char* item, const std::vector<std::string>& values) {
  if (values.empty()) return;
  w.start(element);
  for (const auto& v : values) w.text(item, v);
  w.end();
}

void ratings(Writer& w, const char* element, const std::vector<Rating>& rs) {
  w.start(element);
  for (const Rating& r : rs) {
    w.start("rating");
    w.text("name", r.name);
    w.text("level", r.level);
    w.text("comment", r.comment);
    w.end();
  }
  w.end();
}

void primary(Writer& w, const PrimaryResult& p) {
  w.start("primaryResults");
  if (p.height_cm) w.text("heightCm", decimal(*p.height_cm, 1));
  if (p.weight_kg) w.text("weightKg", decimal(*p.weight_kg, 1));
  if (p.absences_with_leave) w.number("absencesWithLeave", *p.absences_with_leave);
  if (p.absences_without_leave) w.number("absencesWithoutLeave", *p.absences_without_leave);
  w.start("subjects");
  for (const PrimarySubject& s : p.subjects) {
    w.start("subject");
    w.text("name", s.subject);
    w.text("level", s.level);
    if (s.test_score) w.text("testScore", decimal(*s.test_score, 0, true));
    w.text("comment", s.comment);
    w.end();
  }
  w.end();
  ratings(w, "qualities", p.qualities);
  ratings(w, "generalCompetencies", p.general_competencies);
  ratings(w, "specificCompetencies", p.specific_competencies);
  w.text("overall", p.overall);
  list(w, "awards", "award", p.awards);
  w.boolean("completedGrade", p.completed_grade);
  w.text("homeroomComment", p.homeroom_comment);
  w.end();
}

void per_term(Writer& w, const char* element, const PerTerm& t) {
  w.start(element);
  w.text("hk1", t.hk1);
  w.text("hk2", t.hk2);
  w.text("year", t.year);
  w.text("reassessed", t.reassessed);
  w.end();
}

void secondary(Writer& w, const ClassInfo& cls, const SecondaryResult& r) {
  w.start("secondaryResults");
  w.start("subjects");
  for (const SecondarySubject& s : r.subjects) {
    w.start("subject");
    w.text("name", s.subject);
    if (s.scored) {
      w.start("scored");
      if (s.hk1) w.text("hk1", decimal(*s.hk1, 1));
      if (s.hk2) w.text("hk2", decimal(*s.hk2, 1));
      if (s.year) w.text("year", decimal(*s.year, 1));
      if (s.reassessed) w.text("reassessed", decimal(*s.reassessed, 1));
    } else {
      w.start("passFail");
      w.text("hk1", s.hk1_text);
      w.text("hk2", s.hk2_text);
      w.text("year", s.year_text);
      w.text("reassessed", s.reassessed_text);
    }
    w.end();
    w.text("comment", s.comment);
    if (const SubjectTeacher* t = subject_teacher(cls, s.subject)) staff(w, "teacher", t->teacher);
    w.end();
  }
  w.end();
  per_term(w, "learning", r.learning);
  per_term(w, "conduct", r.conduct);
  w.number("absences", r.absences);
  w.text("outcome", r.outcome);
  if (r.completed_level) w.boolean("completedLevel", *r.completed_level);
  if (!r.certificates.empty()) {
    w.start("certificates");
    for (const Certificate& c : r.certificates) {
      w.start("certificate");
      w.text("name", c.name);
      w.text("grade", c.grade);
      w.end();
    }
    w.end();
  }
  list(w, "competitions", "competition", r.competitions);
  if (r.corrections) {
    w.start("corrections");
    w.number("count", r.corrections->count);
    for (const auto& s : r.corrections->subjects) w.text("subject", s);
    w.end();
  }
  list(w, "awards", "award", r.awards);
  w.text("homeroomComment", r.homeroom_comment);
  w.end();
}

}  // namespace

std::string record_xml(const ClassInfo& cls, const Student& st, const std::vector<SubjectConfirmation>& confirmations) {
  Writer w;
  w.start_ns("hocbaRecord", kRecordXmlNamespace);
  w.attribute("formatVersion", std::to_string(kRecordXmlFormatVersion));
  w.attribute("sourceFormat", "hocba.class/v" + std::to_string(cls.format_version));

  w.start("school");
  w.text("name", cls.school_name);
  w.text("code", cls.school_code);
  w.text("commune", cls.commune);
  w.text("district", cls.district);
  w.text("province", cls.province);
  staff(w, "principal", cls.principal);
  w.end();
  w.text("schoolYear", cls.school_year);
  w.text("level", level_name(cls.level));
  w.start("class");
  w.text("name", cls.class_name);
  w.number("grade", cls.grade);
  staff(w, "homeroomTeacher", cls.homeroom_teacher);
  w.end();

  w.start("student");
  w.text("personalId", st.personal_id);
  w.text("fullName", st.full_name);
  w.text("sex", st.sex);
  w.text("dateOfBirth", st.date_of_birth);
  w.text("placeOfBirth", st.place_of_birth);
  w.text("homeTown", st.home_town);
  w.text("ethnicity", st.ethnicity);
  w.text("nationality", st.nationality);
  w.text("policyStatus", st.policy_status);
  w.text("residence", st.residence);
  person(w, "father", st.father);
  person(w, "mother", st.mother);
  person(w, "guardian", st.guardian);
  w.text("registrationNumber", st.registration_number);
  w.text("openedOn", st.opened_on);
  w.end();

  if (!st.history.empty()) {
    w.start("learningHistory");
    for (const HistoryEntry& h : st.history) {
      w.start("entry");
      w.text("schoolYear", h.school_year);
      w.text("className", h.class_name);
      w.text("schoolName", h.school_name);
      w.text("registrationNumber", h.registration_number);
      w.text("entryDate", h.entry_date);
      if (h.transferred) w.boolean("transferredIn", true);
      w.end();
    }
    w.end();
  }

  if (st.primary) primary(w, *st.primary);
  if (st.secondary) secondary(w, cls, *st.secondary);

  if (!confirmations.empty()) w.start("confirmations");
  for (const SubjectConfirmation& k : confirmations) {
    w.start("confirmation");
    w.text("subject", k.subject);
    w.text("teacher", k.teacher_name);
    w.text("confirmedAt", k.confirmed_at);
    w.text("sheetSha256", k.sheet_sha256);
    w.end();
  }
  if (!confirmations.empty()) w.end();

  w.end();
  return w.finish();
}

}  // namespace hocba::pdf
