// The templates: the record's, one file per level for the year's pages (primary.cpp: Circular 27/2020;
// secondary.cpp: Circular 22/2021, lower and upper secondary) plus the pages and parts every level
// shares (common.cpp: the cover, the student page, the learning history, headings, the signature
// block); and the
// subject teacher's score sheet (score_sheet.cpp). Each template is a short sequence of layout::Flow
// blocks; render.cpp and score_sheet.cpp build the document around them (render_document.h).
#pragma once
#include <string>
#include <vector>

#include "hocba/pdf/record.h"
#include "hocba/pdf/render.h"
#include "../render_layout.h"

namespace hocba::pdf::templates {

struct Context {
  const ClassInfo& cls;
  const Student& st;
  layout::Flow& flow;
  const std::vector<SubjectConfirmation>& confirmations;  // empty: none
  const FormOptions& form;
  // The height of what follows the year's pages (the signature block and the gap above it): the last
  // section is kept with it, so that the signatures never stand alone on a page.
  double tail = 0;
};
// The height of a paragraph of `runs` over the full text width.
double paragraph_height(layout::Flow& f, const layout::Runs& runs, double size, double leading = 1.25);

// The confirmation of a subject, or nullptr.
const SubjectConfirmation* confirmation_of(const Context& c, const std::string& subject);
// "xác nhận ngày 07/12/2026" from confirmed_at's date.
std::string confirmation_date(const SubjectConfirmation& k);

// Sizes shared by the templates (points).
inline constexpr double kBody = 11;   // running text
inline constexpr double kTable = 10;  // table cells
inline constexpr double kSmall = 9;   // legends

// The date written on the record and used as its PDF dates: 31 May of the school year's second
// calendar year ("2024-2025" -> 2025-05-31), the end of the school year (see docs/record-rendering.md).
struct Date {
  int year = 1970, month = 5, day = 31;
};
Date record_date(const std::string& school_year);

std::string level_title(Level l);            // "TIỂU HỌC", "TRUNG HỌC CƠ SỞ", "TRUNG HỌC PHỔ THÔNG"
std::string dmy(const std::string& iso);      // "2016-08-09" -> "09/08/2016" (unchanged if not ISO)
std::string place_name(const std::string& province);  // "Thành phố Hà Nội" -> "Hà Nội"
std::string score(double v);                  // one decimal: 7.6, 8.0
std::string score_comma(double v);            // one decimal, Vietnamese style: 7,6, 8,0
std::string test_score(double v);             // a whole number as one: 9; else one decimal (v1 files): 8,5
std::string number_comma(double v);           // at most one decimal, none when whole: 132,5; 28
std::string join(const std::vector<std::string>& v, const std::string& sep);

// The pages shared by every level, each starting on a new page but the cover.
void cover(Context& c);         // motto, HỌC BẠ, the level, the student, the school and where it is
void student_page(Context& c);  // the student's identity, confirmed by the principal
void history(Context& c);       // QUÁ TRÌNH HỌC TẬP: one row per school year of the level
// The first lines of a year's page: the student's name, class and school year.
void year_heading(Context& c);
// A numbered section heading, kept with at least `keep_with` points of what follows.
void heading(Context& c, const std::string& text, double keep_with = 0);
void labelled(Context& c, const std::string& label, const std::string& value);  // "label: value"

// The level templates: the year's pages, up to the signature block.
void primary(Context& c, const PrimaryResult& r);
void secondary(Context& c, const SecondaryResult& r);
// v1 outcomes in the form's words ("Lên lớp" -> "Được lên lớp", "Ở lại lớp" -> "Không được lên lớp").
std::string outcome_words(const std::string& outcome);

// The place and date line: "Hà Nội, ngày 31 tháng 5 năm 2025" (Decree 30/2020 leading zeros).
std::string date_line(const std::string& province, const Date& d);

// A signature block: the date line over the right column, then each box's bold title lines, its italic
// hint, the box, and a bold name under it. Left and right boxes are 165 × 110 pt centred in the two
// halves of the text width; the seal (100 × 100 pt) covers the left third of the principal's box (the
// right one when no box is the principal's). Kept on one page. Returns where each box went, in the
// order given.
enum class Place { left, right, seal };
struct BlockBox {
  Place place = Place::left;
  bool principal = false;  // the seal goes over the left third of this box (else of the right one)
  std::vector<std::string> title;
  std::string hint;  // "(Ký và ghi rõ họ tên)"
  std::string name;
};
std::vector<layout::Box> signature_block(layout::Flow& f, const std::string& date, const std::vector<BlockBox>& boxes);
double signature_block_height(const std::vector<BlockBox>& boxes);  // without the 10 pt gap above it

// The subject teacher's score sheet of one class and one subject (score_sheet.cpp).
struct SheetRow {
  std::string personal_id, full_name;
  std::string hk1, hk2, year;      // secondary: "8,3" or "Đ"/"CĐ"
  std::string level, test_score;   // primary: "T"/"H"/"C", "9"
  std::string comment;
};
struct Sheet {
  const ClassInfo& cls;
  std::string subject;
  Staff teacher;
  std::vector<SheetRow> rows;
  std::string date;  // the date line
  std::vector<std::string> title;
};
// Draws the sheet; returns where the signature box went.
layout::Box score_sheet(layout::Flow& f, const Sheet& s);

}  // namespace hocba::pdf::templates
