// The record's templates: one file per level (primary.cpp: Circular 27/2020; secondary.cpp: Circular
// 22/2021, lower and upper secondary) plus the parts every level shares (common.cpp: national motto,
// title, school and class lines, the student's identity block, the signature block). Each template is
// a short sequence of layout::Flow blocks; render.cpp builds the document around them.
#pragma once
#include <string>

#include "hocba/pdf/record.h"
#include "../render_layout.h"

namespace hocba::pdf::templates {

struct Context {
  const ClassInfo& cls;
  const Student& st;
  layout::Flow& flow;
};

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
std::string join(const std::vector<std::string>& v, const std::string& sep);

// Blocks shared by every level.
void header(Context& c);     // motto, title, school, district/province, class, school year
void identity(Context& c);   // I. the student's identity block
// A numbered section heading, kept with at least `keep_with` points of what follows.
void heading(Context& c, const std::string& text, double keep_with = 0);
void labelled(Context& c, const std::string& label, const std::string& value);  // "label: value"

// The level templates (section II).
void primary(Context& c, const PrimaryResult& r);
void secondary(Context& c, const SecondaryResult& r);

// The signature block at the end; returns where the three signature fields go.
struct SignatureBoxes {
  layout::Box homeroom, principal, seal;
};
SignatureBoxes signatures(Context& c);

}  // namespace hocba::pdf::templates
