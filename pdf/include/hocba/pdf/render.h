// Rendering a student's record (học bạ) for one school year to an archival PDF (PDF/A-3b) with PoDoFo,
// laid out as the official form of Circular 27/2020 (primary) or Circular 22/2021 (secondary): the
// cover, the student page, the learning history, then the year's pages; Vietnamese text in an embedded subset
// serif, the student's JSON record attached (/AF, AFRelationship /Source), and one empty signature
// field per signer in a fixed place (the boxes are data: RenderOptions::boxes). Optionally each subject
// row names the subject teacher who confirmed it. Deterministic: the same input gives byte-identical
// output.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/fileio.h"
#include "hocba/pdf/record.h"

namespace hocba::pdf {

// Signature field names: stable across template versions (others sign "gvcn" etc. by name).
inline constexpr const char* kFieldHomeroom = "gvcn";
inline constexpr const char* kFieldPrincipal = "hieu_truong";
inline constexpr const char* kFieldSeal = "con_dau";
inline constexpr const char* kFieldSubject = "gvbm";  // the subject teacher, on a score sheet (score_sheet.h)

// The kinds of printed signature box on a record (SignatureBox::box).
inline constexpr const char* kBoxHomeroom = "homeroom";    // left half, the homeroom teacher's name under it
inline constexpr const char* kBoxPrincipal = "principal";  // right half, the principal's name under it
inline constexpr const char* kBoxSeal = "seal";            // over the left third of the principal's box

// The AcroForm's default resources carry the embedded serif as /HocbaSerif (a subset holding the whole
// Vietnamese alphabet, digits and punctuation), so that signature appearances added later can write any
// Vietnamese name and time in the same embedded font.
inline constexpr const char* kAppearanceFontName = "HocbaSerif";

// The fonts and colour profile every rendered document uses.
struct PdfResources {
  std::string font_regular = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf";
  std::string font_bold = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf";
  std::string font_italic = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Italic.ttf";
  // sRGB ICC profile for the PDF/A OutputIntent (Debian package libgs-common: Artifex's sRGB v2 profile).
  std::string icc_profile = "/usr/share/color/icc/ghostscript/srgb.icc";
};

// One printed signature box of the record and the signature field in it.
struct SignatureBox {
  std::string field;               // the signature field's name: "gvcn"
  std::string box;                 // kBoxHomeroom | kBoxPrincipal | kBoxSeal
  std::vector<std::string> title;  // bold lines above the box ("HIỆU TRƯỞNG"); none for the seal
  // Printed in bold under the box; empty: the class data's (class.homeroom_teacher.name,
  // school.principal.name). A deputy signing for the principal puts the deputy's name here.
  std::string name;
};

// Today's three boxes: gvcn "GIÁO VIÊN CHỦ NHIỆM", hieu_truong "HIỆU TRƯỞNG", con_dau.
std::vector<SignatureBox> default_signature_boxes();
// The principal's box when a deputy signs for the principal (Decree 30/2020, "ký thay"):
// titled "KT. HIỆU TRƯỞNG" / "PHÓ HIỆU TRƯỞNG", the deputy's name under it; field hieu_truong.
SignatureBox deputy_principal_box(const std::string& deputy_name);

// A subject teacher's confirmation of one subject's scores: the score sheet they signed
// (render_score_sheet), named on the record's row for that subject, its hash in the embedded data.
struct SubjectConfirmation {
  std::string subject;       // as the student's subjects name it
  std::string teacher_name;  // printed
  std::string confirmed_at;  // "2026-12-07" or an ISO 8601 time "2026-12-07T10:15:00+07:00"
  std::string sheet_sha256;  // SHA-256 of the signed sheet file, 64 lower-case hex digits
};

// Where copies of the official forms differ (between provinces, or between software that prints them),
// the difference is an option here rather than a second template. The defaults follow the forms as
// docs/record-rendering.md describes them.
struct FormOptions {
  // Circular 27's year page has no section for the homeroom teacher's comment (the comments are per
  // subject, quality and competency); some provinces print one under the awards.
  bool primary_homeroom_comment = false;
  // Circular 22's subject table has no comment column; some software adds one ("Nhận xét").
  bool secondary_subject_comments = false;
  bool operator==(const FormOptions&) const = default;
};

struct RenderOptions : PdfResources {
  // The printed signature boxes and their fields, in this order in the AcroForm. At most one box of each
  // kind; field names distinct and non-empty.
  std::vector<SignatureBox> boxes = default_signature_boxes();
  // When set, only the boxes whose field is listed get a signature field (a school's workflow may not
  // need all of them); the page keeps its printed boxes either way. Unset: every box has its field.
  std::optional<std::vector<std::string>> fields;
  // Subject teachers' confirmations (any order; those for subjects the student does not have are
  // ignored). Empty: the form as before.
  std::vector<SubjectConfirmation> confirmations;
  FormOptions form;
};

// Renders one student's record. Errors for things the caller cannot fix by data (fonts missing) and for
// invalid options (invalid_argument: an unknown box kind, a box kind twice, a malformed confirmation).
Result<Bytes> render_record(const ClassInfo& cls, const Student& student, const RenderOptions& opts = {});

}  // namespace hocba::pdf
