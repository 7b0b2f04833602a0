// render_score_sheet: a subject teacher's score sheet as an archival PDF (PDF/A-3b), see score_sheet.h.
// The rows are made once, from the class data; the page (templates/score_sheet.cpp) and the attached
// JSON are both written from them, so the data says exactly what the page shows.
#include "hocba/pdf/score_sheet.h"

#include <cstdio>

#include "json_text.h"
#include "render_document.h"
#include "templates/templates.h"

namespace hocba::pdf {

namespace {

constexpr const char* kTemplateVersion = "hocba.sheet/1";
constexpr const char* kXmpNamespace = "urn:hocba-signer:xmp:sheet:1.0#";

// A JSON number with one decimal: 8.3, 8.0.
std::string json_tenths(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

struct Row {
  templates::SheetRow shown;
  std::string json;  // this student's object in the attached data
};

// The student's row for the subject, or nothing when the student does not have it.
std::optional<Row> row_of(const Student& st, const std::string& subject) {
  Row r;
  r.shown.personal_id = st.personal_id;
  r.shown.full_name = st.full_name;
  std::string& j = r.json;
  j = "{\"personal_id\":";
  detail::append_json_string(j, st.personal_id);
  j += ",\"full_name\":";
  detail::append_json_string(j, st.full_name);
  bool found = false;
  if (st.secondary) {
    for (const SecondarySubject& s : st.secondary->subjects) {
      if (s.subject != subject) continue;
      auto put = [&](const char* key, const std::optional<double>& v, const std::string& t, std::string& shown) {
        j += std::string(",\"") + key + "\":";
        if (s.scored && v) {
          shown = templates::score_comma(*v);
          j += json_tenths(*v);
        } else {
          shown = t;
          detail::append_json_string(j, t);
        }
      };
      put("hk1", s.hk1, s.hk1_text, r.shown.hk1);
      put("hk2", s.hk2, s.hk2_text, r.shown.hk2);
      put("year", s.year, s.year_text, r.shown.year);
      r.shown.comment = s.comment;
      found = true;
      break;
    }
  } else if (st.primary) {
    for (const PrimarySubject& s : st.primary->subjects) {
      if (s.subject != subject) continue;
      r.shown.level = s.level;
      j += ",\"level\":";
      detail::append_json_string(j, s.level);
      if (s.test_score) {
        r.shown.test_score = templates::test_score(*s.test_score);
        j += ",\"test_score\":" + r.shown.test_score;
      }
      r.shown.comment = s.comment;
      found = true;
      break;
    }
  }
  if (!found) return std::nullopt;
  j += ",\"comment\":";
  detail::append_json_string(j, r.shown.comment);
  j += '}';
  return r;
}

bool valid_date(const std::string& s, templates::Date& d) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  d.year = std::stoi(s.substr(0, 4));
  d.month = std::stoi(s.substr(5, 2));
  d.day = std::stoi(s.substr(8, 2));
  return d.month >= 1 && d.month <= 12 && d.day >= 1 && d.day <= 31;
}

std::string ascii_name(const std::string& s) {
  std::string o;
  for (char c : s) o.push_back((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ? c : '_');
  return o;
}

// What a sheet shows, worked out once: the teacher, the date, the rows, the attached JSON, and every
// input of the page as the parts of its file identifier.
struct Prepared {
  Staff teacher;
  templates::Date date;
  templates::Sheet sheet;
  std::string json;
  std::vector<std::string> id_parts;
};

Result<Prepared> prepare(const ClassInfo& cls, const std::vector<Student>& students, const std::string& subject,
                         const ScoreSheetOptions& opts) {
  if (opts.field.empty()) return make_error(Errc::invalid_argument, "the score sheet's signature field has no name");
  Staff teacher;
  if (opts.teacher) {
    teacher = *opts.teacher;
  } else if (const SubjectTeacher* t = subject_teacher(cls, subject)) {
    teacher = t->teacher;
  } else {
    return make_error(Errc::invalid_argument, "class " + cls.class_name + " names no teacher for " + subject +
                                                  " (class.subject_teachers) and none was given");
  }
  templates::Date date = templates::record_date(cls.school_year);
  if (!opts.date.empty() && !valid_date(opts.date, date))
    return make_error(Errc::invalid_argument, "the sheet's date \"" + opts.date + "\" is not of the form YYYY-MM-DD");

  Prepared p{teacher, date, templates::Sheet{cls, subject, teacher, {}, templates::date_line(cls.province, date), opts.title}, "", {}};
  std::string& json = p.json;
  json = std::string("{\"format\":\"") + kSheetFormat + "\",\"school_code\":";
  detail::append_json_string(json, cls.school_code);
  json += ",\"class\":";
  detail::append_json_string(json, cls.class_name);
  json += ",\"school_year\":";
  detail::append_json_string(json, cls.school_year);
  json += ",\"level\":";
  detail::append_json_string(json, level_name(cls.level));
  json += ",\"subject\":";
  detail::append_json_string(json, subject);
  json += ",\"teacher\":{\"name\":";
  detail::append_json_string(json, teacher.name);
  json += ",\"username\":";
  detail::append_json_string(json, teacher.username);
  json += "},\"students\":[";
  for (const Student& st : students) {
    auto row = row_of(st, subject);
    if (!row) continue;
    if (!p.sheet.rows.empty()) json += ',';
    json += row->json;
    p.sheet.rows.push_back(std::move(row->shown));
  }
  json += "]}";
  if (p.sheet.rows.empty())
    return make_error(Errc::invalid_argument, "no student of class " + cls.class_name + " has the subject " + subject);

  // Everything the page shows besides the JSON: the school's name and province (the date line), the
  // grade, the field, the date and the title.
  p.id_parts = {kTemplateVersion, cls.school_name, cls.province, std::to_string(cls.grade), opts.field, p.sheet.date};
  p.id_parts.insert(p.id_parts.end(), opts.title.begin(), opts.title.end());
  p.id_parts.push_back(json);
  return p;
}

}  // namespace

Result<std::string> score_sheet_data(const ClassInfo& cls, const std::vector<Student>& students, const std::string& subject,
                                     const ScoreSheetOptions& opts) {
  auto p = prepare(cls, students, subject, opts);
  if (!p) return p.error();
  std::string out;  // as document::identifier hashes them
  for (const std::string& part : p->id_parts) {
    out += part;
    out.push_back('\0');
  }
  return out;
}

Result<Bytes> render_score_sheet(const ClassInfo& cls, const std::vector<Student>& students, const std::string& subject,
                                 const ScoreSheetOptions& opts) {
  auto prepared = prepare(cls, students, subject, opts);
  if (!prepared) return prepared.error();
  const Staff& teacher = prepared->teacher;
  const templates::Date& date = prepared->date;
  const templates::Sheet& sheet = prepared->sheet;
  const std::string& json = prepared->json;
  auto id = document::identifier(prepared->id_parts);
  if (!id) return id.error();

  auto opened = document::Document::open(opts);
  if (!opened) return opened.error();
  document::Document& doc = **opened;
  return document::guarded("rendering the score sheet", [&]() -> Result<Bytes> {
    layout::Box box = templates::score_sheet(doc.flow(), sheet);
    doc.flow().finish("Bảng điểm môn " + subject + " – Lớp " + cls.class_name + " – Năm học " + cls.school_year);
    doc.embed_fonts();
    doc.signature_field(opts.field, "Giáo viên bộ môn " + subject + ": " + teacher.name, box);

    document::Description d;
    d.date = date;
    d.title = "Bảng điểm môn " + subject + " – " + cls.class_name + " – " + cls.school_year;
    d.subject = "Bảng điểm môn " + subject + " năm học " + cls.school_year + ", lớp " + cls.class_name + ", " + cls.school_name +
                "; giáo viên bộ môn " + teacher.name;
    d.xmp_namespace = kXmpNamespace;
    d.xmp_schema = "hocba-signer subject score sheet";
    d.properties = {
        {"School", cls.school_name, "School name"},
        {"SchoolCode", cls.school_code, "School code"},
        {"SchoolYear", cls.school_year, "School year, e.g. 2024-2025"},
        {"ClassName", cls.class_name, "Class"},
        {"Level", level_name(cls.level), "primary, lower_secondary or upper_secondary"},
        {"Subject", subject, "Subject"},
        {"Teacher", teacher.name, "Subject teacher's name"},
        {"TeacherUsername", teacher.username, "Subject teacher's appliance account"},
        {"StudentCount", std::to_string(sheet.rows.size()), "Number of students on the sheet"},
    };
    d.attachments = {{"bang-diem-" + ascii_name(cls.class_name) + ".json",
                      "Bảng điểm môn " + subject + " (" + kSheetFormat + "), lớp " + cls.class_name, json, "Data"}};
    d.id = *id;
    return doc.write(d);
  });
}

}  // namespace hocba::pdf
