// Primary school (tiểu học), Circular 27/2020/TT-BGDĐT: the year's page — height, weight and days
// absent; 1. subjects and activities with their level (T/H/C), the periodic test score (a whole number)
// and a comment; 2. the core qualities and 3. the competencies, general and specific, each with its
// level (T/Đ/C) and a comment; 4. the overall result; 5. awards; 6. completion of the grade (of primary
// school in grade 5). The signature block (the principal's confirmation on the left, the homeroom
// teacher on the right) follows, from render.cpp.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "templates.h"

namespace hocba::pdf::templates {

using layout::Align;
using layout::Cell;
using layout::Column;
using layout::Face;
using layout::Runs;
using layout::Table;

namespace {

Cell text(const std::string& s, Align a = Align::left, Face f = Face::regular) { return Cell{{{s, f}}, a}; }

Column field(double width, const std::string& label, const std::string& value) {
  return Column{width, Runs{{label + ": ", Face::regular}, {value, Face::bold}}, Align::left};
}

template <typename T>
std::string opt(const std::optional<T>& v, const char* unit) {
  if (!v) return "";
  if constexpr (std::is_same_v<T, double>) return number_comma(*v) + unit;
  else return std::to_string(*v) + unit;
}

// A table of ratings (qualities or competencies): name, level, comment.
Table ratings(double w, const std::string& first, const std::vector<Rating>& v) {
  Table t;
  t.widths = {150, 58, w - 150 - 58};
  t.header = {{0, 1, 0, 1, first}, {1, 2, 0, 1, "Mức đạt được"}, {2, 3, 0, 1, "Nhận xét"}};
  t.header_rows = 1;
  t.size = kTable;
  for (const Rating& r : v) t.rows.push_back({text(r.name), text(r.level, Align::center, Face::bold), text(r.comment)});
  return t;
}

}  // namespace

void primary(Context& c, const PrimaryResult& r) {
  auto& f = c.flow;
  year_heading(c);
  double w = f.content_width();
  f.columns({field(w * 0.5, "Chiều cao", opt(r.height_cm, " cm")), field(0, "Cân nặng", opt(r.weight_kg, " kg"))}, kBody,
            1.5);
  f.columns({field(w * 0.5, "Số ngày nghỉ có phép", opt(r.absences_with_leave, "")),
             field(0, "Số ngày nghỉ không phép", opt(r.absences_without_leave, ""))},
            kBody, 1.5);

  heading(c, "1. Các môn học và hoạt động giáo dục");
  Table subjects;
  subjects.widths = {135, 52, 48, w - 135 - 52 - 48};
  subjects.header = {{0, 1, 0, 1, "Môn học và hoạt động giáo dục"}, {1, 2, 0, 1, "Mức đạt được"},
                     {2, 3, 0, 1, "Điểm KTĐK"}, {3, 4, 0, 1, "Nhận xét"}};
  subjects.header_rows = 1;
  subjects.size = kTable;
  for (const auto& s : r.subjects) {
    subjects.rows.push_back({text(s.subject), text(s.level, Align::center, Face::bold),
                             text(s.test_score ? test_score(*s.test_score) : "", Align::center), text(s.comment)});
    // A subject teacher's confirmation: a small line under the comment.
    if (const SubjectConfirmation* k = confirmation_of(c, s.subject)) {
      layout::Runs& runs = subjects.rows.back().back().runs;
      runs.push_back({(s.comment.empty() ? "" : "\n") + std::string("GV bộ môn: "), Face::italic});
      runs.push_back({k->teacher_name, Face::italic});
      runs.push_back({", " + confirmation_date(*k), Face::italic});
    }
  }
  f.table(subjects);
  f.space(2);
  f.paragraph({{"Mức đạt được: T – Hoàn thành tốt; H – Hoàn thành; C – Chưa hoàn thành. Điểm KTĐK: điểm bài kiểm tra định kì cuối năm học.",
                Face::italic}},
              kSmall);

  Table qualities = ratings(w, "Phẩm chất chủ yếu", r.qualities);
  heading(c, "2. Những phẩm chất chủ yếu", f.table_height(qualities));
  f.table(qualities);
  Table general = ratings(w, "Năng lực chung", r.general_competencies);
  heading(c, "3. Những năng lực cốt lõi", f.table_height(general) + kBody * 1.35 + 4);
  heading(c, "3.1. Những năng lực chung");
  f.table(general);
  Table specific = ratings(w, "Năng lực đặc thù", r.specific_competencies);
  heading(c, "3.2. Những năng lực đặc thù", f.table_height(specific));
  f.table(specific);
  f.space(2);
  f.paragraph({{"Mức đạt được: T – Tốt; Đ – Đạt; C – Cần cố gắng.", Face::italic}}, kSmall);

  heading(c, "4. Đánh giá kết quả giáo dục");
  f.paragraph({{r.overall, Face::regular}}, kBody);
  heading(c, "5. Khen thưởng");
  f.paragraph({{join(r.awards, "; "), Face::regular}}, kBody);
  const bool last = c.cls.grade == 5;
  std::string programme = last ? "chương trình tiểu học" : "chương trình lớp " + std::to_string(c.cls.grade);
  const layout::Runs completion = {{(r.completed_grade ? "Hoàn thành " : "Chưa hoàn thành ") + programme, Face::regular}};
  const layout::Runs comment = {{r.homeroom_comment, Face::regular}};
  const bool with_comment = c.form.primary_homeroom_comment;
  heading(c, last ? "6. Hoàn thành chương trình tiểu học" : "6. Hoàn thành chương trình lớp học",
          paragraph_height(f, completion, kBody) + (with_comment ? 0 : c.tail));
  f.paragraph(completion, kBody);
  if (with_comment) {
    heading(c, "7. Nhận xét của giáo viên chủ nhiệm", paragraph_height(f, comment, kBody) + c.tail);
    f.paragraph(comment, kBody);
  }
}

}  // namespace hocba::pdf::templates
