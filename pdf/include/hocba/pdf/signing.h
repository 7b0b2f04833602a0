// PDF plumbing for signatures: add a signature dictionary to an existing PDF as an incremental update
// (append-only), list the signatures a PDF carries, and the file's revisions.
// This layer knows nothing of CMS or keys: it reserves a /Contents placeholder and later writes the
// bytes the signer hands it. No PoDoFo type appears in this header.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/fileio.h"

namespace hocba::pdf {

// What a signed field shows (Decree 30/2020 norms): text lines in the document's embedded serif (the
// AcroForm /DR font named kAppearanceFontName, see render.h) at 10 pt, and optionally an image (the
// signer's handwritten signature, or the seal), a PNG with transparency. Drawn into the field's own
// rectangle; a field with a zero-size rectangle stays invisible and ignores this.
struct Appearance {
  std::vector<std::string> lines;  // UTF-8, top to bottom, centred
  Bytes image_png;                 // empty: text only
  bool image_fills_box = false;    // the seal: drawn in the whole box, at its real size when the PNG gives
                                   // one (pHYs) and it fits, else fitted; no text
  double font_size = 10;
};

// What to put into the new signature dictionary and field.
struct SignatureRequest {
  // Field to fill. Empty: a new invisible field with a generated unique name ("Signature1", ...).
  // Non-empty: fill the empty signature field of that (fully qualified) name; if no field of that name
  // exists, add a new invisible one with that name. A field that is already signed is an error.
  std::string field_name;
  std::string sub_filter = "ETSI.CAdES.detached";  // or "ETSI.RFC3161" for a document timestamp
  std::string type = "Sig";                       // "Sig" or "DocTimeStamp"
  std::string reason, location, contact_info, signer_name;  // UTF-8; omitted when empty
  // Signing time for /M as a PDF date "D:YYYYMMDDHHmmSS+07'00'"; omitted when empty.
  std::string pdf_date;
  // Bytes reserved for the DER CMS (the hex placeholder is twice this).
  std::size_t contents_size = 16384;
  // Visible signature: how the field looks once signed (ignored for invisible fields).
  std::optional<Appearance> appearance;
  // FieldMDP: after this signature, these fields (fully qualified names; this field is added
  // automatically) must not change. Empty: no lock.
  std::vector<std::string> lock_fields;
  // DocMDP certification (only for a document's first signature): 0 none, 2 = form filling and
  // signing allowed, 3 = also annotations. P=1 is refused: it forbids the later signatures.
  int certify_p = 0;
};

struct PreparedSignature {
  Bytes file;                         // the whole new file, /Contents filled with zeros
  std::array<std::int64_t, 4> byte_range{};  // [0, a, b, c]: signed ranges are [0,a) and [b,b+c)
  std::size_t contents_offset = 0;    // offset of the '<' of /Contents
  std::size_t contents_length = 0;    // length including '<' and '>'
  std::string field_name;             // the (fully qualified) name of the field that was used
};

// Builds the incremental update. `original` must be a complete, unencrypted PDF.
Result<PreparedSignature> prepare_signature(std::span<const std::uint8_t> original, const SignatureRequest& req);

// The bytes a signature covers: file[0..a) + file[b..b+c).
Bytes signed_bytes(const PreparedSignature& p);

// Writes `der` (hex, zero-padded) into the placeholder. Fails with too_large if it does not fit.
Status embed_signature(PreparedSignature& p, std::span<const std::uint8_t> der);

// One revision of the file: where its section of the file ends (just after its %%EOF line).
struct Revision {
  std::size_t end_offset = 0;
};

// A signature (or document timestamp) found in a PDF.
struct FoundSignature {
  std::string field_name;            // fully qualified
  std::string type;                  // "Sig" or "DocTimeStamp"
  std::string sub_filter;            // e.g. "ETSI.CAdES.detached"
  std::vector<std::int64_t> byte_range;
  Bytes contents;                    // /Contents, decoded from hex, trailing zero padding kept
  std::string reason, location, signer_name, pdf_date;
  bool byte_range_well_formed = false;  // 4 numbers, starts at 0, the gap is exactly the /Contents string
  std::size_t covered_end = 0;       // byte_range[2] + byte_range[3]
};

struct Inspection {
  std::vector<FoundSignature> signatures;  // in file order of their byte ranges (earliest first)
  std::vector<Revision> revisions;         // in file order
  std::size_t file_size = 0;
  std::vector<std::string> empty_signature_fields;  // fully qualified names of unsigned /Sig fields
  // The first string of the trailer's /ID (kept by every incremental update), as lower-case hex; ""
  // when there is none.
  std::string file_id;
};

Result<Inspection> inspect(std::span<const std::uint8_t> file);

}  // namespace hocba::pdf
