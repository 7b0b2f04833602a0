// Lower and upper secondary (THCS, THPT), Circular 22/2021/TT-BGDĐT: per subject the semester averages
// and the year's (or Đ/CĐ for subjects assessed by comment) with the subject teacher's comment; the
// learning and conduct results per semester and for the year; absences; the outcome; awards; the
// homeroom comment. Both levels share this template; the header (common.cpp) names the level.
#include "templates.h"

namespace hocba::pdf::templates {

using layout::Align;
using layout::Cell;
using layout::Face;
using layout::Table;

namespace {

Cell text(const std::string& s, Align a = Align::left, Face f = Face::regular) { return Cell{{{s, f}}, a}; }

std::string value(const SecondarySubject& s, const std::optional<double>& v, const std::string& t) {
  if (s.scored) return v ? score(*v) : t;
  return t;
}

}  // namespace

void secondary(Context& c, const SecondaryResult& r) {
  auto& f = c.flow;
  heading(c, "II. KẾT QUẢ HỌC TẬP VÀ RÈN LUYỆN – LỚP " + c.cls.class_name + ", NĂM HỌC " + c.cls.school_year);

  heading(c, "1. Kết quả các môn học và hoạt động giáo dục");
  Table subjects;
  double w = f.content_width();
  // With subject teachers' confirmations, a last column names the teacher who confirmed each row
  // (Circular 22's form: the subject teacher signs, with their name, for the averages).
  const bool confirmed = !c.confirmations.empty();
  if (!confirmed) {
    subjects.widths = {140, 46, 46, 46, w - 140 - 3 * 46};
  } else {
    subjects.widths = {118, 40, 40, 40, w - 118 - 3 * 40 - 108, 108};
  }
  subjects.header = {{0, 1, 0, 2, "Môn học, hoạt động giáo dục"},
                     {1, 4, 0, 1, "Điểm trung bình môn học hoặc mức đánh giá"},
                     {1, 2, 1, 2, "HK I"},
                     {2, 3, 1, 2, "HK II"},
                     {3, 4, 1, 2, "CN"},
                     {4, 5, 0, 2, "Nhận xét"}};
  if (confirmed) subjects.header.push_back({5, 6, 0, 2, "Giáo viên bộ môn xác nhận"});
  subjects.header_rows = 2;
  subjects.size = kTable;
  for (const auto& s : r.subjects) {
    subjects.rows.push_back({text(s.subject), text(value(s, s.hk1, s.hk1_text), Align::center),
                             text(value(s, s.hk2, s.hk2_text), Align::center),
                             text(value(s, s.year, s.year_text), Align::center, Face::bold), text(s.comment)});
    if (!confirmed) continue;
    const SubjectConfirmation* k = confirmation_of(c, s.subject);
    subjects.rows.back().push_back(k ? Cell{{{k->teacher_name, Face::regular}, {"\n" + confirmation_date(*k), Face::italic}}}
                                     : text(""));
  }
  f.table(subjects);
  f.space(2);
  f.paragraph({{"HK I, HK II: học kì I, học kì II; CN: cả năm = (HK I + 2 × HK II) / 3. Môn học đánh giá bằng nhận xét: "
                "Đ – Đạt; CĐ – Chưa đạt.",
                Face::italic}},
              kSmall);

  Table results;
  results.widths = {170, 80, 80, 80};
  results.header = {{0, 1, 0, 1, "Kết quả"}, {1, 2, 0, 1, "Học kì I"}, {2, 3, 0, 1, "Học kì II"}, {3, 4, 0, 1, "Cả năm"}};
  results.header_rows = 1;
  results.size = kTable;
  results.keep_together = true;
  results.rows.push_back({text("Kết quả học tập"), text(r.learning.hk1, Align::center), text(r.learning.hk2, Align::center),
                          text(r.learning.year, Align::center, Face::bold)});
  results.rows.push_back({text("Kết quả rèn luyện"), text(r.conduct.hk1, Align::center), text(r.conduct.hk2, Align::center),
                          text(r.conduct.year, Align::center, Face::bold)});
  heading(c, "2. Kết quả học tập và kết quả rèn luyện", f.table_height(results));
  f.table(results);

  heading(c, "3. Số buổi nghỉ học");
  labelled(c, "Tổng số buổi nghỉ học cả năm", std::to_string(r.absences));
  heading(c, "4. Kết quả cuối năm");
  labelled(c, "Lên lớp, rèn luyện trong hè, kiểm tra lại hoặc ở lại lớp", r.outcome);
  heading(c, "5. Khen thưởng");
  f.paragraph({{r.awards.empty() ? "Không" : join(r.awards, "; "), Face::regular}}, kBody);
  heading(c, "6. Nhận xét của giáo viên chủ nhiệm");
  f.paragraph({{r.homeroom_comment, Face::regular}}, kBody);
}

}  // namespace hocba::pdf::templates
