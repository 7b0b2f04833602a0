// Parts of the record every level shares: the national motto and title, the school and class lines,
// the student's identity block, section headings, and the signature block.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "templates.h"

namespace hocba::pdf::templates {

using layout::Align;
using layout::Column;
using layout::Face;
using layout::Runs;
using layout::Table;

Date record_date(const std::string& school_year) {
  Date d;
  // "2024-2025": the second year; "2024" alone: the year after.
  auto dash = school_year.find('-');
  int first = std::atoi(school_year.substr(0, dash).c_str());
  int second = dash == std::string::npos ? 0 : std::atoi(school_year.substr(dash + 1).c_str());
  if (second >= 1900 && second <= 9999) d.year = second;
  else if (first >= 1900 && first < 9999) d.year = first + 1;
  return d;
}

std::string level_title(Level l) {
  switch (l) {
    case Level::primary: return "TIỂU HỌC";
    case Level::lower_secondary: return "TRUNG HỌC CƠ SỞ";
    case Level::upper_secondary: return "TRUNG HỌC PHỔ THÔNG";
  }
  return "";
}

std::string dmy(const std::string& iso) {
  if (iso.size() != 10 || iso[4] != '-' || iso[7] != '-') return iso;
  return iso.substr(8, 2) + "/" + iso.substr(5, 2) + "/" + iso.substr(0, 4);
}

std::string place_name(const std::string& province) {
  for (const char* prefix : {"Thành phố ", "Thành Phố ", "Tỉnh ", "TP. ", "TP.", "TP "})
    if (province.rfind(prefix, 0) == 0 && province.size() > std::string(prefix).size())
      return province.substr(std::string(prefix).size());
  return province;
}

std::string score(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

std::string score_comma(double v) {
  std::string s = score(v);
  if (auto dot = s.find('.'); dot != std::string::npos) s[dot] = ',';
  return s;
}

std::string test_score(double v) {
  if (std::fabs(v - std::round(v)) < 1e-9) return std::to_string(static_cast<int>(std::lround(v)));
  return score_comma(v);
}

std::string number_comma(double v) { return test_score(v); }

const SubjectConfirmation* confirmation_of(const Context& c, const std::string& subject) {
  for (const SubjectConfirmation& k : c.confirmations)
    if (k.subject == subject) return &k;
  return nullptr;
}

std::string confirmation_date(const SubjectConfirmation& k) { return "xác nhận ngày " + dmy(k.confirmed_at.substr(0, 10)); }

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

namespace {

layout::Cell text(const std::string& s, Align a = Align::left, Face f = Face::regular) { return layout::Cell{{{s, f}}, a}; }

Column col(double width, const std::string& label, const std::string& value, Face value_face = Face::regular) {
  return Column{width, Runs{{label + ": ", Face::regular}, {value, value_face}}, Align::left};
}

}  // namespace

namespace {

void motto(layout::Flow& f) {
  f.paragraph({{"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", Face::bold}}, 13, Align::center);
  f.paragraph({{"Độc lập - Tự do - Hạnh phúc", Face::bold}}, 13, Align::center);
  double mid = (f.left() + f.right()) / 2;
  f.hline(mid - 80, mid + 80, f.y() - 1, 0.6);  // the rule under the motto
}

// A line of the cover: "label: value", indented.
void cover_line(layout::Flow& f, const std::string& label, const std::string& value) {
  f.paragraph({{label + ": ", Face::regular}, {value, Face::bold}}, 14, Align::left, 60, 1.8);
}

std::string blank_date_line(const std::string& province) {
  std::string place = province.empty() ? "……………" : place_name(province);
  return place + ", ngày …… tháng …… năm ……";
}

// A date from "YYYY-MM-DD" (already checked by the parser).
Date date_of(const std::string& iso) {
  Date d;
  d.year = std::atoi(iso.substr(0, 4).c_str());
  d.month = std::atoi(iso.substr(5, 2).c_str());
  d.day = std::atoi(iso.substr(8, 2).c_str());
  return d;
}

int years_of_level(Level l) { return l == Level::primary ? 5 : l == Level::lower_secondary ? 4 : 3; }

}  // namespace

void cover(Context& c) {
  auto& f = c.flow;
  const ClassInfo& k = c.cls;
  motto(f);
  f.space(150);
  f.paragraph({{"HỌC BẠ", Face::bold}}, 40, Align::center, 0, 1.2);
  f.paragraph({{level_title(k.level), Face::bold}}, 22, Align::center, 0, 1.4);
  f.paragraph({{k.level == Level::primary ? "(Theo Thông tư số 27/2020/TT-BGDĐT)" : "(Theo Thông tư số 22/2021/TT-BGDĐT)",
                Face::italic}},
              kBody, Align::center);
  f.space(150);
  cover_line(f, "Họ và tên học sinh", c.st.full_name);
  if (k.level != Level::primary) cover_line(f, "Số sổ đăng bộ PCGD", c.st.registration_number);
  cover_line(f, "Trường", k.school_name);
  cover_line(f, "Xã (Phường, Thị trấn)", k.commune);
  cover_line(f, "Huyện (Quận, Thị xã, Thành phố)", k.district);
  cover_line(f, "Tỉnh (Thành phố)", k.province);
}

void student_page(Context& c) {
  auto& f = c.flow;
  const Student& s = c.st;
  const bool primary = c.cls.level == Level::primary;
  f.new_page();
  f.paragraph({{"HỌC BẠ", Face::bold}}, 18, Align::center, 0, 1.3);
  f.paragraph({{level_title(c.cls.level), Face::bold}}, 13, Align::center);
  f.space(14);
  double w1 = f.content_width() * 0.58;
  f.columns({col(w1, "Họ và tên", s.full_name, Face::bold), col(0, "Giới tính", s.sex)}, kBody, 1.6);
  f.columns({col(w1, "Ngày sinh", dmy(s.date_of_birth)), col(0, "Mã định danh", s.personal_id, Face::bold)}, kBody, 1.6);
  f.columns({col(w1, "Dân tộc", s.ethnicity), col(0, "Quốc tịch", s.nationality)}, kBody, 1.6);
  f.columns({col(0, "Nơi sinh", s.place_of_birth)}, kBody, 1.6);
  if (primary) f.columns({col(0, "Quê quán", s.home_town)}, kBody, 1.6);
  if (!primary) f.columns({col(0, "Đối tượng", s.policy_status)}, kBody, 1.6);
  f.columns({col(0, "Nơi ở hiện nay", s.residence)}, kBody, 1.6);
  auto person = [&](const char* label, const std::optional<Person>& p) {
    if (primary) {
      f.columns({col(0, label, p ? p->name : "")}, kBody, 1.6);
    } else {
      f.columns({col(w1, label, p ? p->name : ""), col(0, "Nghề nghiệp", p ? p->occupation : "")}, kBody, 1.6);
    }
  };
  person("Họ và tên cha", s.father);
  person("Họ và tên mẹ", s.mother);
  person("Người giám hộ", s.guardian);
  // The principal confirms the page when the record is opened; the date is the data's, or blank.
  std::string date = s.opened_on.empty() ? blank_date_line(c.cls.province) : date_line(c.cls.province, date_of(s.opened_on));
  signature_block(f, date, {{Place::right, true, {"HIỆU TRƯỞNG"}, "(Ký, ghi rõ họ tên và đóng dấu)", c.cls.principal.name}});
}

void history(Context& c) {
  auto& f = c.flow;
  const ClassInfo& k = c.cls;
  const bool primary = k.level == Level::primary;
  f.new_page();
  f.paragraph({{"QUÁ TRÌNH HỌC TẬP", Face::bold}}, 15, Align::center, 0, 1.4);
  f.space(8);
  Table t;
  double w = f.content_width();
  if (primary) {
    t.widths = {70, 50, w - 70 - 50 - 70 - 110, 70, 110};
  } else {
    t.widths = {62, 40, w - 62 - 40 - 56 - 88 - 120, 56, 88, 120};
  }
  t.header = {{0, 1, 0, 1, "Năm học"}, {1, 2, 0, 1, "Lớp"}, {2, 3, 0, 1, "Tên trường"}, {3, 4, 0, 1, "Số đăng bộ"},
              {4, 5, 0, 1, "Ngày nhập học / chuyển đến"}};
  if (!primary) t.header.push_back({5, 6, 0, 1, "Xác nhận của Hiệu trưởng"});
  t.header_rows = 1;
  t.size = kTable;
  auto row = [&](const HistoryEntry& e, bool current) {
    std::string date = dmy(e.entry_date);
    if (!e.entry_date.empty()) date += e.transferred ? "\n(chuyển đến)" : "\n(nhập học)";
    t.rows.push_back({text(e.school_year, Align::center), text(e.class_name, Align::center), text(e.school_name),
                      text(e.registration_number, Align::center), text(date, Align::center)});
    // The principal confirms the current year (by signing this record); earlier years' confirmations
    // are on their own records.
    if (!primary) t.rows.back().push_back(current ? text(k.principal.name, Align::center) : text(""));
  };
  bool has_current = false;
  for (const HistoryEntry& e : c.st.history) {
    row(e, e.school_year == k.school_year);
    has_current = has_current || e.school_year == k.school_year;
  }
  if (!has_current) row(HistoryEntry{k.school_year, k.class_name, k.school_name, "", "", false}, true);
  // As on paper: one row per year of the level, the unused ones blank.
  while (t.rows.size() < static_cast<std::size_t>(years_of_level(k.level))) {
    t.rows.push_back({});
    for (std::size_t i = 0; i < t.widths.size(); ++i) t.rows.back().push_back(text(" \n "));
  }
  f.table(t);
}

double paragraph_height(layout::Flow& f, const Runs& runs, double size, double leading) {
  return static_cast<double>(layout::wrap(f.fonts(), runs, size, f.content_width()).size()) * size * leading;
}

void year_heading(Context& c) {
  auto& f = c.flow;
  f.new_page();
  double w1 = f.content_width() * 0.5;
  f.columns({col(w1, "Họ và tên", c.st.full_name, Face::bold), col(w1 * 0.4, "Lớp", c.cls.class_name, Face::bold),
             col(0, "Năm học", c.cls.school_year, Face::bold)},
            kBody, 1.5);
}

void heading(Context& c, const std::string& text, double keep_with) {
  double own = kBody * 1.35 + 4;
  // Keep a heading with what follows: two lines, or the whole of a block that will not be split.
  double with = keep_with > 0 && own + keep_with <= c.flow.full_height() ? keep_with : kBody * 1.3 * 2;
  c.flow.ensure(own + with);
  c.flow.space(4);
  c.flow.paragraph({{text, Face::bold}}, kBody, Align::left, 0, 1.35);
}

void labelled(Context& c, const std::string& label, const std::string& value) {
  c.flow.paragraph({{label + ": ", Face::bold}, {value, Face::regular}}, kBody, Align::left, 0, 1.35);
}

void identity(Context& c) {
  auto& f = c.flow;
  const Student& s = c.st;
  heading(c, "I. THÔNG TIN HỌC SINH");
  double w1 = f.content_width() * 0.58;
  f.columns({col(w1, "Họ và tên", s.full_name, Face::bold), col(0, "Giới tính", s.sex)}, kBody);
  f.columns({col(w1, "Ngày sinh", dmy(s.date_of_birth)), col(0, "Mã định danh", s.personal_id, Face::bold)}, kBody);
  double w2 = (f.content_width() - w1) * 0.43;
  f.columns({col(w1, "Nơi sinh", s.place_of_birth), col(w2, "Dân tộc", s.ethnicity), col(0, "Quốc tịch", s.nationality)}, kBody);
  f.columns({col(0, "Đối tượng chính sách", s.policy_status.empty() ? "Không" : s.policy_status)}, kBody);
  f.columns({col(0, "Nơi ở hiện nay", s.residence)}, kBody);
  auto person = [&](const char* label, const std::optional<Person>& p) {
    f.columns({col(w1, label, p ? p->name : ""), col(0, "Nghề nghiệp", p ? p->occupation : "")}, kBody);
  };
  person("Họ và tên cha", s.father);
  person("Họ và tên mẹ", s.mother);
  person("Người giám hộ", s.guardian);
  f.space(6);
}

std::string date_line(const std::string& province, const Date& d) {
  auto two = [](int v) { return (v < 10 ? "0" : "") + std::to_string(v); };
  // Decree 30/2020: days below 10 and months below 3 are written with a leading zero.
  return place_name(province) + ", ngày " + (d.day < 10 ? two(d.day) : std::to_string(d.day)) + " tháng " +
         (d.month < 3 ? two(d.month) : std::to_string(d.month)) + " năm " + std::to_string(d.year);
}

namespace {

// Geometry (points). The right box is centred in the right half; the seal (about 35 mm, a real seal's
// size) overlaps the left third of it (Decree 30/2020), centred on it vertically.
// The boxes are tall enough for the signature's appearance: a handwritten-signature image of about
// 2 cm above the four 10 pt lines (title, signer, organisation, time) that signer/ writes under it.
constexpr double kBoxW = 165, kBoxH = 110, kSeal = 100;
constexpr double kLine = kBody * 1.3;
constexpr double kOverhang = kSeal > kBoxH ? (kSeal - kBoxH) / 2 : 0;  // how far the seal sticks out

std::size_t title_lines(const std::vector<BlockBox>& boxes) {
  std::size_t n = 1;
  for (const BlockBox& b : boxes)
    if (b.place != Place::seal) n = std::max(n, b.title.size());
  return n;
}

}  // namespace

double signature_block_height(const std::vector<BlockBox>& boxes) {
  return kLine /*date*/ + kLine * static_cast<double>(title_lines(boxes)) + kLine /*hint*/ + kOverhang + 4 + kBoxH + kOverhang + 4 +
         kLine /*name*/;
}

std::vector<layout::Box> signature_block(layout::Flow& f, const std::string& date, const std::vector<BlockBox>& boxes) {
  const double overhang = kOverhang;
  const std::size_t n_titles = title_lines(boxes);
  f.space(10);
  f.ensure(signature_block_height(boxes));

  double half = f.content_width() / 2;
  double cl = f.left() + half / 2, cr = f.left() + half * 1.5;  // column centres
  auto centred = [&](double cx, Face face, double size, const std::string& s, double top, double L) {
    auto t = layout::utf8_to_u32(s);
    double w = f.fonts().width(face, t, size);
    f.text(cx - w / 2, top - L + (L - size) / 2 + 0.25 * size, face, size, t);
  };
  auto centre_of = [&](const BlockBox& b) { return b.place == Place::left ? cl : cr; };

  double y = f.y();
  centred(cr, Face::italic, kBody, date, y, kLine);
  y -= kLine;
  for (std::size_t i = 0; i < n_titles; ++i) {
    for (const BlockBox& b : boxes)
      if (b.place != Place::seal && i < b.title.size()) centred(centre_of(b), Face::bold, kBody, b.title[i], y, kLine);
    y -= kLine;
  }
  for (const BlockBox& b : boxes)
    if (b.place != Place::seal && !b.hint.empty()) centred(centre_of(b), Face::italic, kSmall, b.hint, y, kLine);
  y -= kLine + overhang + 4;

  int page = f.page_index();
  layout::Box left{page, cl - kBoxW / 2, y - kBoxH, kBoxW, kBoxH};
  layout::Box right{page, cr - kBoxW / 2, y - kBoxH, kBoxW, kBoxH};
  const bool principal_left =
      std::any_of(boxes.begin(), boxes.end(), [](const BlockBox& b) { return b.principal && b.place == Place::left; });
  double seal_right = (principal_left ? left.x : right.x) + kBoxW / 3;
  layout::Box seal{page, seal_right - kSeal, y - kBoxH + (kBoxH - kSeal) / 2, kSeal, kSeal};  // centred on it
  std::vector<layout::Box> out;
  for (const BlockBox& b : boxes) out.push_back(b.place == Place::left ? left : b.place == Place::right ? right : seal);
  y -= kBoxH + overhang + 4;
  for (const BlockBox& b : boxes)
    if (b.place != Place::seal && !b.name.empty()) centred(centre_of(b), Face::bold, kBody, b.name, y, kLine);
  y -= kLine;
  f.move_to(y);
  return out;
}

}  // namespace hocba::pdf::templates
