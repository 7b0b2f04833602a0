// Private to pdf/: reading a document with PoDoFo, and writing an append-only incremental update
// (the new and changed objects, a cross-reference section of the same kind as the file's last one,
// a trailer whose /Prev points at the previous section). Shared by signatures (signing.cpp) and the
// Document Security Store (dss.cpp). PoDoFo types stay in pdf/src.
#pragma once
#include <podofo/podofo.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/fileio.h"

namespace hocba::pdf::detail {

void quiet_podofo();

// A parsed document: PoDoFo's objects of the latest revision and the trailer.
struct Doc {
  std::unique_ptr<PoDoFo::PdfVecObjects> objs = std::make_unique<PoDoFo::PdfVecObjects>();
  std::unique_ptr<PoDoFo::PdfParser> parser;
  const PoDoFo::PdfObject* trailer = nullptr;
};

Result<std::unique_ptr<Doc>> load(std::span<const std::uint8_t> file);

// Follows a reference (once) to the object it names; null if dangling.
PoDoFo::PdfObject* resolve(const Doc& d, PoDoFo::PdfObject* o);
PoDoFo::PdfObject* key(const Doc& d, PoDoFo::PdfObject* dict, const char* k);
PoDoFo::PdfObject* catalog_of(const Doc& d);

std::string serialize(const PoDoFo::PdfObject& o);

// Offset of the last "startxref" value, i.e. where the previous cross-reference section starts.
std::optional<std::size_t> last_startxref(std::span<const std::uint8_t> f);
bool section_is_classic(std::span<const std::uint8_t> f, std::size_t off);

struct NewObject {
  std::uint32_t num = 0;
  std::uint16_t gen = 0;
  std::string body;  // between "N G obj\n" and "\nendobj\n"
};

std::string ref_str(std::uint32_t num, std::uint16_t gen = 0);
std::string ref_str(const PoDoFo::PdfReference& r);

// The first free object number: past the trailer's /Size and every object PoDoFo read.
std::uint32_t next_object_number(const Doc& d);

// An incremental update laid out after `original`.
struct Update {
  Bytes file;                                        // original (+ '\n' if needed) + the update
  std::map<std::uint32_t, std::size_t> body_offset;  // object number -> offset of its body
};

// Writes `objects` in order, then a cross-reference section (classic table or an uncompressed
// stream with /W [1 4 2], as the previous section `prev` is), and a trailer carrying /Root
// (catalog_ref), /Info and /ID over, with /Prev. `next` is the first free object number (the
// stream takes it); /Size is past every object. `reserve` bytes are reserved beyond the original.
Update write_update(std::span<const std::uint8_t> original, const Doc& d, const PoDoFo::PdfReference& catalog_ref,
                    const std::vector<NewObject>& objects, std::uint32_t next, std::size_t prev, bool classic,
                    std::size_t reserve = 4096);

}  // namespace hocba::pdf::detail
