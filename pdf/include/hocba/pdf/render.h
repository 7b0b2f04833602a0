// Rendering a student's record (học bạ) to an archival PDF (PDF/A-3b) with PoDoFo: the official form
// of Circular 27/2020 (primary) or Circular 22/2021 (secondary), Vietnamese text in an embedded subset
// serif, the student's JSON record attached (/AF, AFRelationship /Source), and one empty signature
// field per signer in a fixed place. Deterministic: the same input gives byte-identical output.
#pragma once
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

// The AcroForm's default resources carry the embedded serif as /HocbaSerif (a subset holding the whole
// Vietnamese alphabet, digits and punctuation), so that signature appearances added later can write any
// Vietnamese name and time in the same embedded font.
inline constexpr const char* kAppearanceFontName = "HocbaSerif";

struct RenderOptions {
  std::string font_regular = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf";
  std::string font_bold = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf";
  std::string font_italic = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Italic.ttf";
  // sRGB ICC profile for the PDF/A OutputIntent (Debian package libgs-common: Artifex's sRGB v2 profile).
  std::string icc_profile = "/usr/share/color/icc/ghostscript/srgb.icc";
  // The signature fields to make (a school's workflow may not need all three); the page keeps its
  // printed signature boxes either way.
  std::vector<std::string> fields = {kFieldHomeroom, kFieldPrincipal, kFieldSeal};
};

// Renders one student's record. Errors only for things the caller cannot fix by data (fonts missing).
Result<Bytes> render_record(const ClassInfo& cls, const Student& student, const RenderOptions& opts = {});

}  // namespace hocba::pdf
