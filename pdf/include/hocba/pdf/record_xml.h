// The record's XML twin: one student's record for one school year as an XML document (namespace
// urn:hocba-signer:record:1, schema docs/record.xsd, described in docs/record-xml.md), attached to the
// rendered PDF as hocba-record.xml (/AFRelationship /Data) next to the student's JSON, and read back from
// a PDF (signed or not) by `hocba export-xml`.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/fileio.h"
#include "hocba/pdf/record.h"
#include "hocba/pdf/render.h"

namespace hocba::pdf {

inline constexpr const char* kRecordXmlFileName = "hocba-record.xml";
inline constexpr const char* kRecordXmlNamespace = "urn:hocba-signer:record:1";
inline constexpr int kRecordXmlFormatVersion = 1;  // the root's formatVersion attribute

// The student's record as a UTF-8 XML document (with its XML declaration, indented by two spaces, a final
// line feed): the school, the school year, the level, the class, the student, the learning history, the
// year's results for the level, and the subject teachers' confirmations, as given (render_record passes
// those for the student's own subjects, checked, in the order it was given them). Deterministic: the same input gives the
// same bytes. Values absent from the data (an empty string, an unset optional, an empty list) are left
// out, never invented; numbers are written with a decimal point (7.6), dates as xs:date.
std::string record_xml(const ClassInfo& cls, const Student& student, const std::vector<SubjectConfirmation>& confirmations);

// The bytes of the file embedded in `pdf` under `name` (the EmbeddedFiles name tree's key, or a file
// specification's /UF or /F, in the catalog's name tree or its /AF), decoded, from the document's last
// revision (a signed file's incremental updates included). Errors: bad_pdf (not a PDF, unreadable, the
// embedded stream cannot be decoded), not_found (no embedded file of that name), too_large (decoded
// larger than max_size).
Result<Bytes> embedded_file(std::span<const std::uint8_t> pdf, const std::string& name,
                            std::size_t max_size = std::size_t(64) << 20);

}  // namespace hocba::pdf
