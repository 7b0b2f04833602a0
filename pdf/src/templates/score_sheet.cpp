// The subject teacher's score sheet: national motto, title, school / class / subject lines, one table
// row per student (secondary: HK I, HK II, Cả năm with a decimal comma, or Đ/CĐ; primary: level, test
// score, comment), the number of students, the date line and the teacher's signature box.
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

Column col(double width, const std::string& label, const std::string& value, Face value_face = Face::regular) {
  return Column{width, Runs{{label + ": ", Face::regular}, {value, value_face}}, Align::left};
}

}  // namespace

layout::Box score_sheet(layout::Flow& f, const Sheet& s) {
  const ClassInfo& k = s.cls;
  const bool primary = k.level == Level::primary;
  f.paragraph({{"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", Face::bold}}, 13, Align::center);
  f.paragraph({{"Độc lập - Tự do - Hạnh phúc", Face::bold}}, 13, Align::center);
  double mid = (f.left() + f.right()) / 2;
  f.hline(mid - 80, mid + 80, f.y() - 1, 0.6);
  f.space(14);
  f.paragraph({{primary ? "BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ MÔN HỌC" : "BẢNG ĐIỂM MÔN HỌC", Face::bold}}, 16, Align::center, 0, 1.3);
  f.paragraph({{primary ? "(Theo Thông tư số 27/2020/TT-BGDĐT)" : "(Theo Thông tư số 22/2021/TT-BGDĐT)", Face::italic}}, kSmall,
              Align::center);
  f.space(8);
  double w1 = f.content_width() * 0.58;
  f.columns({col(w1, "Tên trường", k.school_name, Face::bold), col(0, "Mã trường", k.school_code)}, kBody);
  f.columns({col(w1, "Lớp", k.class_name, Face::bold), col(0, "Năm học", k.school_year, Face::bold)}, kBody);
  f.columns({col(w1, "Môn học", s.subject, Face::bold), col(0, "Giáo viên bộ môn", s.teacher.name)}, kBody);
  f.space(6);

  Table t;
  double w = f.content_width();
  t.size = kTable;
  t.header_rows = 1;
  if (primary) {
    t.widths = {26, 128, 76, 42, 42, w - 26 - 128 - 76 - 84};
    t.header = {{0, 1, 0, 1, "STT"},           {1, 2, 0, 1, "Họ và tên"},     {2, 3, 0, 1, "Mã định danh"},
                {3, 4, 0, 1, "Mức đạt được"}, {4, 5, 0, 1, "Điểm KTĐK"},    {5, 6, 0, 1, "Nhận xét"}};
  } else {
    t.widths = {26, 128, 76, 34, 34, 38, w - 26 - 128 - 76 - 106};
    t.header = {{0, 1, 0, 1, "STT"},  {1, 2, 0, 1, "Họ và tên"}, {2, 3, 0, 1, "Mã định danh"}, {3, 4, 0, 1, "HK I"},
                {4, 5, 0, 1, "HK II"}, {5, 6, 0, 1, "Cả năm"},   {6, 7, 0, 1, "Nhận xét"}};
  }
  for (std::size_t i = 0; i < s.rows.size(); ++i) {
    const SheetRow& r = s.rows[i];
    std::vector<Cell> row = {text(std::to_string(i + 1), Align::center), text(r.full_name), text(r.personal_id, Align::center)};
    if (primary) {
      row.insert(row.end(), {text(r.level, Align::center, Face::bold), text(r.test_score, Align::center)});
    } else {
      row.insert(row.end(), {text(r.hk1, Align::center), text(r.hk2, Align::center), text(r.year, Align::center, Face::bold)});
    }
    row.push_back(text(r.comment));
    t.rows.push_back(std::move(row));
  }
  // The legend, the count and the signature stay together, and the signature never stands on a page
  // of its own: the last row moves with them when they do not fit.
  const std::vector<BlockBox> box = {{Place::right, false, s.title, "(Ký và ghi rõ họ tên)", s.teacher.name}};
  t.keep_with_next = 2 + kSmall * 1.25 * 2 + 4 + kBody * 1.25 + 10 + signature_block_height(box);
  f.table(t);
  f.space(2);
  f.paragraph({{primary ? "Mức đạt được: T – Hoàn thành tốt; H – Hoàn thành; C – Chưa hoàn thành. Điểm KTĐK: điểm bài kiểm tra định kì cuối năm học."
                        : "HK I, HK II: điểm trung bình môn học kì I, học kì II; Cả năm = (HK I + 2 × HK II) / 3. Môn học đánh giá bằng "
                          "nhận xét: Đ – Đạt; CĐ – Chưa đạt.",
                Face::italic}},
              kSmall);
  f.space(4);
  f.paragraph({{"Bảng điểm này gồm " + std::to_string(s.rows.size()) + " học sinh.", Face::regular}}, kBody);

  return signature_block(f, s.date, box).front();
}

}  // namespace hocba::pdf::templates
