// Primary school (tiểu học), Circular 27/2020/TT-BGDĐT: subjects and activities with a level
// (T/H/C), the periodic test score and a comment; the core qualities and competencies with their
// levels (T/Đ/C); the overall result; awards; completion of the grade; the homeroom comment.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "templates.h"

namespace hocba::pdf::templates {

using layout::Align;
using layout::Cell;
using layout::Face;
using layout::Table;

namespace {

Cell text(const std::string& s, Align a = Align::left, Face f = Face::regular) { return Cell{{{s, f}}, a}; }

}  // namespace

void primary(Context& c, const PrimaryResult& r) {
  auto& f = c.flow;
  heading(c, "II. KẾT QUẢ ĐÁNH GIÁ GIÁO DỤC – LỚP " + c.cls.class_name + ", NĂM HỌC " + c.cls.school_year);

  heading(c, "1. Các môn học và hoạt động giáo dục");
  Table subjects;
  double w = f.content_width();
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

  Table qc;
  double name_w = (w - 3 * 48) / 3;
  qc.widths = {name_w, 48, name_w, 48, name_w, 48};
  qc.header = {{0, 1, 0, 1, "Phẩm chất chủ yếu"}, {1, 2, 0, 1, "Mức đạt được"}, {2, 3, 0, 1, "Năng lực chung"},
               {3, 4, 0, 1, "Mức đạt được"},      {4, 5, 0, 1, "Năng lực đặc thù"}, {5, 6, 0, 1, "Mức đạt được"}};
  qc.header_rows = 1;
  qc.size = kTable;
  qc.keep_together = true;
  std::size_t n = std::max({r.qualities.size(), r.general_competencies.size(), r.specific_competencies.size()});
  auto pair = [&](const std::vector<Rating>& v, std::size_t i, std::vector<Cell>& row) {
    row.push_back(text(i < v.size() ? v[i].name : ""));
    row.push_back(text(i < v.size() ? v[i].level : "", Align::center, Face::bold));
  };
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<Cell> row;
    pair(r.qualities, i, row);
    pair(r.general_competencies, i, row);
    pair(r.specific_competencies, i, row);
    qc.rows.push_back(std::move(row));
  }
  heading(c, "2. Những phẩm chất chủ yếu và năng lực cốt lõi", f.table_height(qc));
  f.table(qc);
  f.space(2);
  f.paragraph({{"Mức đạt được: T – Tốt; Đ – Đạt; C – Cần cố gắng.", Face::italic}}, kSmall);

  heading(c, "3. Đánh giá kết quả giáo dục");
  labelled(c, "Kết quả", r.overall);
  heading(c, "4. Khen thưởng");
  f.paragraph({{r.awards.empty() ? "Không" : join(r.awards, "; "), Face::regular}}, kBody);
  heading(c, "5. Hoàn thành chương trình");
  std::string programme = c.cls.grade == 5 ? "chương trình tiểu học" : "chương trình lớp " + std::to_string(c.cls.grade);
  f.paragraph({{(r.completed_grade ? "Hoàn thành " : "Chưa hoàn thành ") + programme, Face::regular}}, kBody);
  heading(c, "6. Nhận xét của giáo viên chủ nhiệm");
  f.paragraph({{r.homeroom_comment, Face::regular}}, kBody);
}

}  // namespace hocba::pdf::templates
