// Lower and upper secondary (THCS, THPT), Circular 22/2021/TT-BGDĐT: the year's page — per subject the
// semester averages and the year's (or Đ/CĐ for subjects assessed by comment), the score or level after
// re-assessment, and the subject teacher who confirmed them; the corrections line; the learning and
// conduct results per semester, for the year and after re-assessment; sessions absent; the outcome in the
// form's words (and, in the last grade, completion of the level); certificates; competitions; awards; the
// homeroom teacher's comment. Both levels share this template; the cover names the level. The signature
// block (the homeroom teacher on the left, the principal on the right) follows, from render.cpp.
#include "templates.h"

namespace hocba::pdf::templates {

using layout::Align;
using layout::Cell;
using layout::Face;
using layout::Table;

namespace {

Cell text(const std::string& s, Align a = Align::left, Face f = Face::regular) { return Cell{{{s, f}}, a}; }

std::string value(const SecondarySubject& s, const std::optional<double>& v, const std::string& t) {
  if (s.scored) return v ? score_comma(*v) : t;
  return t;
}

void line(Context& c, const std::string& label, const std::string& value) {
  c.flow.paragraph({{label + ": ", Face::bold}, {value, Face::regular}}, kBody, Align::left, 0, 1.4);
}

}  // namespace

std::string outcome_words(const std::string& outcome) {
  if (outcome == "Lên lớp") return "Được lên lớp";
  if (outcome == "Ở lại lớp") return "Không được lên lớp";
  return outcome;
}

void secondary(Context& c, const SecondaryResult& r) {
  auto& f = c.flow;
  year_heading(c);
  f.columns({{0, {{"Trường: ", Face::regular}, {c.cls.school_name, Face::bold}}, Align::left}}, kBody, 1.5);
  f.space(4);

  Table subjects;
  double w = f.content_width();
  const bool comments = c.form.secondary_subject_comments;
  // Subject, HK I, HK II, CN, after re-assessment, [comment], the subject teacher's confirmation.
  double teacher_w = comments ? 100 : 150;
  double comment_w = comments ? w - 100 - 3 * 36 - 60 - teacher_w : 0;
  double subject_w = w - 3 * 36 - 60 - comment_w - teacher_w;
  subjects.widths = {subject_w, 36, 36, 36, 60};
  if (comments) subjects.widths.push_back(comment_w);
  subjects.widths.push_back(teacher_w);
  const int tcol = comments ? 6 : 5;
  subjects.header = {{0, 1, 0, 2, "Môn học, hoạt động giáo dục"},
                     {1, 4, 0, 1, "Điểm trung bình môn học hoặc mức đánh giá"},
                     {1, 2, 1, 2, "HK I"},
                     {2, 3, 1, 2, "HK II"},
                     {3, 4, 1, 2, "CN"},
                     {4, 5, 0, 2, "Điểm hoặc mức đánh giá lại (nếu có)"}};
  if (comments) subjects.header.push_back({5, 6, 0, 2, "Nhận xét"});
  subjects.header.push_back({tcol, tcol + 1, 0, 2, "Giáo viên môn học xác nhận (ghi rõ họ tên)"});
  subjects.header_rows = 2;
  subjects.size = kTable;
  for (const auto& s : r.subjects) {
    std::string again = s.scored ? (s.reassessed ? score_comma(*s.reassessed) : "") : s.reassessed_text;
    subjects.rows.push_back({text(s.subject), text(value(s, s.hk1, s.hk1_text), Align::center),
                             text(value(s, s.hk2, s.hk2_text), Align::center),
                             text(value(s, s.year, s.year_text), Align::center, Face::bold), text(again, Align::center)});
    if (comments) subjects.rows.back().push_back(text(s.comment));
    // The column holds the teacher who confirmed the subject's scores by signing its score sheet.
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

  // "Trong trang này có sửa chữa ở … chỗ, thuộc môn …", confirmed by the homeroom teacher and the
  // principal (their signatures on this record).
  f.space(4);
  const bool corrected = r.corrections.has_value();
  f.paragraph({{"Trong trang này có sửa chữa ở: ", Face::regular},
               {corrected ? std::to_string(r.corrections->count) : "", Face::bold},
               {" chỗ, thuộc các môn: ", Face::regular},
               {corrected ? join(r.corrections->subjects, ", ") : "", Face::bold}},
              kBody, Align::left, 0, 1.4);
  double half = w / 2;
  f.columns({{half, {{"Xác nhận của giáo viên chủ nhiệm: ", Face::italic}, {corrected ? c.cls.homeroom_teacher.name : "", Face::regular}}, Align::left},
             {0, {{"Xác nhận của Hiệu trưởng: ", Face::italic}, {corrected ? c.cls.principal.name : "", Face::regular}}, Align::left}},
            kTable, 1.4);

  Table results;
  results.widths = {130, 70, 70, 70, w - 130 - 210};
  results.header = {{0, 1, 0, 1, "Kết quả"}, {1, 2, 0, 1, "Học kì I"}, {2, 3, 0, 1, "Học kì II"}, {3, 4, 0, 1, "Cả năm"},
                    {4, 5, 0, 1, "Sau đánh giá lại (nếu có)"}};
  results.header_rows = 1;
  results.size = kTable;
  results.keep_together = true;
  auto result_row = [&](const char* name, const PerTerm& t) {
    results.rows.push_back({text(name), text(t.hk1, Align::center), text(t.hk2, Align::center),
                            text(t.year, Align::center, Face::bold), text(t.reassessed, Align::center, Face::bold)});
  };
  result_row("Kết quả học tập", r.learning);
  result_row("Kết quả rèn luyện", r.conduct);
  heading(c, "Kết quả học tập và rèn luyện", f.table_height(results));
  f.table(results);
  f.space(4);

  line(c, "Tổng số buổi nghỉ học cả năm", std::to_string(r.absences));
  line(c, "Kết quả cuối năm", outcome_words(r.outcome));
  if (c.cls.grade == 9 || c.cls.grade == 12) {
    std::string level = c.cls.grade == 9 ? "trung học cơ sở" : "trung học phổ thông";
    std::string v = !r.completed_level ? "" : *r.completed_level ? "Hoàn thành" : "Chưa hoàn thành";
    line(c, "Hoàn thành chương trình " + level, v);
  }
  std::vector<std::string> certificates;
  for (const Certificate& k : r.certificates) certificates.push_back(k.grade.empty() ? k.name : k.name + " (loại " + k.grade + ")");
  line(c, "Chứng chỉ (loại)", join(certificates, "; "));
  line(c, "Kết quả tham gia các cuộc thi (nếu có)", join(r.competitions, "; "));
  line(c, "Khen thưởng", join(r.awards, "; "));
  const layout::Runs comment = {{r.homeroom_comment, Face::regular}};
  heading(c, "NHẬN XÉT CỦA GIÁO VIÊN CHỦ NHIỆM", paragraph_height(f, comment, kBody) + c.tail);
  f.paragraph(comment, kBody);
}

}  // namespace hocba::pdf::templates
