// The report-card model: a class in the import format `hocba.class/v2` or `hocba.class/v1`
// (docs/record-format.md; v1 is v2 without the fields marked "v2" below, which stay empty), parsed
// and validated. Every problem is reported with its JSON path and the student's name and personal ID,
// all at once; contradictions of Circular 22's learning-result rule and Circular 27's overall-result
// rule are warnings. Text is normalised to Unicode NFC on import.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hocba/common/error.h"

namespace hocba::pdf {

enum class Level { primary, lower_secondary, upper_secondary };
const char* level_name(Level l);  // "primary", "lower_secondary", "upper_secondary"

struct Staff {
  std::string name, username;
};

struct Person {
  std::string name, occupation;
};

// Primary (Circular 27/2020).
struct PrimarySubject {
  std::string subject;
  std::string level;                 // "T" Hoàn thành tốt, "H" Hoàn thành, "C" Chưa hoàn thành
  std::optional<double> test_score;  // 0..10, tested subjects only
  std::string comment;
};
struct Rating {
  std::string name;
  std::string level;    // "T" Tốt, "Đ" Đạt, "C" Cần cố gắng
  std::string comment;  // v2, optional: the form's "Nhận xét" column
};
struct PrimaryResult {
  // v2, optional: the year page's first lines.
  std::optional<double> height_cm;              // 40..220, one decimal
  std::optional<double> weight_kg;              // 5..200, one decimal
  std::optional<int> absences_with_leave;       // days, 0..366 (Số ngày nghỉ có phép)
  std::optional<int> absences_without_leave;    // days, 0..366 (không phép)
  std::vector<PrimarySubject> subjects;         // v2: test_score a whole number (Circular 27)
  std::vector<Rating> qualities;            // the five core qualities
  std::vector<Rating> general_competencies;
  std::vector<Rating> specific_competencies;
  std::string overall;  // "Hoàn thành xuất sắc" | "Hoàn thành tốt" | "Hoàn thành" | "Chưa hoàn thành"
  std::vector<std::string> awards;
  bool completed_grade = false;
  std::string homeroom_comment;  // required in v1, optional in v2; the form has no section for it
};

// Secondary (Circular 22/2021).
struct SecondarySubject {
  std::string subject;
  bool scored = true;  // "kind": "scored" (averages 0..10) or "pass_fail" ("Đ" / "CĐ")
  std::optional<double> hk1, hk2, year;  // scored subjects
  std::string hk1_text, hk2_text, year_text;  // pass/fail subjects: "Đ" or "CĐ"
  std::string comment;
  // v2, optional: after re-assessment (đánh giá lại: a retest or summer training), the score (scored
  // subjects, 0..10, one decimal) or the level ("Đ" / "CĐ").
  std::optional<double> reassessed;
  std::string reassessed_text;
};
struct PerTerm {
  std::string hk1, hk2, year;  // "Tốt" | "Khá" | "Đạt" | "Chưa đạt"
  std::string reassessed;      // v2, optional: after re-assessment ("" when none)
};
struct Certificate {           // v2: "Chứng chỉ" and its "Loại"
  std::string name, grade;
};
struct PageCorrections {       // v2: "Trong trang này có sửa chữa ở … chỗ, thuộc môn …"
  int count = 0;               // 1..99
  std::vector<std::string> subjects;
};
struct SecondaryResult {
  std::vector<SecondarySubject> subjects;
  PerTerm learning, conduct;
  int absences = 0;      // sessions (buổi) absent in the year
  // v1: "Lên lớp" | "Rèn luyện trong hè" | "Kiểm tra lại" | "Ở lại lớp".
  // v2, the form's words: "Được lên lớp" | "Được lên lớp sau kiểm tra lại hoặc rèn luyện trong hè" |
  // "Không được lên lớp", or, until the summer's re-assessment, "Kiểm tra lại" | "Rèn luyện trong hè".
  std::string outcome;
  std::optional<bool> completed_level;  // v2, last grade (9, 12) only: completed THCS / THPT
  std::vector<Certificate> certificates;        // v2
  std::vector<std::string> competitions;        // v2: results of competitions ("Giải Nhì ... cấp tỉnh")
  std::optional<PageCorrections> corrections;   // v2
  std::vector<std::string> awards;
  std::string homeroom_comment;
};

// v2: one row of the learning history ("Quá trình học tập").
struct HistoryEntry {
  std::string school_year;          // "2022-2023"
  std::string class_name;           // "6A"
  std::string school_name;
  std::string registration_number;  // số đăng bộ; "" when unknown
  std::string entry_date;           // ngày nhập học / chuyển đến, YYYY-MM-DD; "" when unknown
  bool transferred = false;         // true: transferred in (chuyển đến); false: enrolled (nhập học)
};

struct Student {
  std::string personal_id;  // 12 digits
  std::string full_name, sex, date_of_birth /* YYYY-MM-DD */, place_of_birth, ethnicity, nationality, residence;
  std::string policy_status;  // empty when none ("Đối tượng" on the secondary form)
  std::optional<Person> father, mother, guardian;
  std::string home_town;            // v2, optional: "Quê quán"
  std::string registration_number;  // v2, optional: "Số đăng bộ" (secondary cover: "Số sổ đăng bộ PCGD")
  std::string opened_on;            // v2, optional: the date the principal confirmed the student page
  std::vector<HistoryEntry> history;  // v2, optional: earlier years and this one, oldest first
  std::optional<PrimaryResult> primary;      // level primary
  std::optional<SecondaryResult> secondary;  // lower or upper secondary
  std::string source_json;  // this student's object from the input, serialised (embedded in the PDF)
  std::size_t index = 0;    // position in "students"
};

// The teacher of one of the class's subjects (giáo viên bộ môn), who confirms its scores by signing the
// subject's score sheet (score_sheet.h).
struct SubjectTeacher {
  std::string subject;  // as the students' subjects name it ("Toán")
  Staff teacher;        // username: the appliance account that signs the sheet
};

struct ClassInfo {
  int format_version = 2;  // 1 or 2: the file's "format"
  std::string school_name, school_code, district, province;
  std::string commune;     // v2, optional: xã / phường (the primary cover)
  Staff principal;
  std::string school_year;  // "2024-2025"
  Level level = Level::primary;
  std::string class_name;
  int grade = 0;
  Staff homeroom_teacher;
  std::vector<SubjectTeacher> subject_teachers;  // optional "subject_teachers"; empty when absent
};

// The teacher named for `subject`, or nullptr.
const SubjectTeacher* subject_teacher(const ClassInfo& cls, const std::string& subject);

struct Problem {
  std::string path;          // "students[12].secondary.subjects[3].hk2"
  std::string student_name;  // empty for class-level problems
  std::string student_id;
  std::string message;       // "11.5 is above 10"
  // "students[12].secondary.subjects[3].hk2: 11.5 is above 10 (Trịnh Văn Nghĩa, 023208867037)"
  std::string to_string() const;
};

struct ClassFile {
  ClassInfo info;
  std::vector<Student> students;       // the students without errors, in input order
  std::vector<std::size_t> rejected;   // indices (in "students") of students with errors
  std::vector<Problem> errors;         // class-level and per-student errors
  std::vector<Problem> warnings;       // rule contradictions: render, but tell the people who sign
  bool class_ok() const;               // no class-level error (school, class, level, format)
};

// The distinct subject names of the class's students (those without errors), in the order of the form:
// the first student's subjects in their order, then any subject only later students have, where it
// first appears. The class-subjects a workflow asks subject teachers to confirm.
std::vector<std::string> subjects_of(const ClassFile& cf);

struct ParseLimits {
  std::size_t max_input_bytes = 64u << 20;  // whole file
  std::size_t max_text_bytes = 4096;        // any one string (a comment, a name)
  std::size_t max_students = 100;           // per class file
  std::size_t max_subject_teachers = 64;    // entries of "subject_teachers"
  std::size_t max_list_items = 32;          // entries of awards, history, certificates, competitions and
                                            // corrections.subjects (subjects and ratings: not limited)
};

// Fails (Errc::invalid_argument) only when the input is not JSON or not an object (the message gives the
// parser's line and column), or (Errc::too_large) when it is longer than limits.max_input_bytes;
// everything else is reported in errors/warnings.
Result<ClassFile> parse_class(std::string_view json, const ParseLimits& limits = {});

}  // namespace hocba::pdf
