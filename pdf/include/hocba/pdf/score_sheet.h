// A subject teacher's score sheet (bảng điểm môn học): one class, one subject, every student's results
// in that subject, and one signature field for the subject teacher (giáo viên bộ môn), who confirms the
// scores by signing it before the homeroom teacher signs the records. An archival PDF/A-3b like the
// record (render.h): embedded subset serif, the exact values shown attached as JSON
// (`hocba.sheet/v1`, /AF with /AFRelationship /Data), deterministic bytes. See
// docs/record-rendering.md.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/fileio.h"
#include "hocba/pdf/record.h"
#include "hocba/pdf/render.h"

namespace hocba::pdf {

inline constexpr const char* kSheetFormat = "hocba.sheet/v1";

struct ScoreSheetOptions : PdfResources {
  std::string field = kFieldSubject;                     // the signature field's name
  std::vector<std::string> title = {"GIÁO VIÊN BỘ MÔN"};  // bold lines above the signature box
  // The teacher named on the sheet; unset: the class's subject teacher for the subject
  // (ClassInfo::subject_teachers). One of the two is required.
  std::optional<Staff> teacher;
  // The date of the date line and of the PDF's dates, "YYYY-MM-DD"; empty: the end of the school year
  // (31 May), as on the record.
  std::string date;
};

// The sheet of `subject` for the students (in the order given) who have that subject; the others are
// left out. Errors: invalid_argument when no student has the subject, when no teacher is known, or for
// a malformed date or empty field name; not_found for missing fonts.
Result<Bytes> render_score_sheet(const ClassInfo& cls, const std::vector<Student>& students, const std::string& subject,
                                 const ScoreSheetOptions& opts = {});

// The sheet's data without rendering it: every input of its page and attached JSON (the template
// version, school, class, subject, teacher, field, title, date and each student's row for the subject)
// as one string, each part followed by a NUL. Equal data, equal sheet (with the same fonts): a workflow
// hashes it to tell whether a sheet changed. Its SHA-256's first 16 bytes are the rendered sheet's
// file identifier (the first string of /ID, Inspection::file_id), so a sheet file tells which data it
// shows. Errors as render_score_sheet's invalid_argument ones.
Result<std::string> score_sheet_data(const ClassInfo& cls, const std::vector<Student>& students, const std::string& subject,
                                     const ScoreSheetOptions& opts = {});

}  // namespace hocba::pdf
