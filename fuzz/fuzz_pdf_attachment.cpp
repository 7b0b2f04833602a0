// Fuzz target: a PDF given to `hocba export-xml` (pdf::embedded_file, record_xml.h): PoDoFo's parse of
// the last revision, the EmbeddedFiles name tree walk (nested /Kids, cycles, odd /Names arrays), the
// catalog's /AF, the file specification's /UF and /F, the /EF stream's filters, and the size limit
// (a Flate bomb must stop at the limit). Looks up the XML twin, then the JSON a record carries.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "hocba/pdf/record_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> pdf(data, size);
  constexpr std::size_t kLimit = std::size_t(1) << 20;
  for (const char* name : {hocba::pdf::kRecordXmlFileName, "001316729633.json"}) {
    auto got = hocba::pdf::embedded_file(pdf, name, kLimit);
    if (got && got->size() > kLimit) {
      std::fprintf(stderr, "embedded_file: %zu bytes, above the limit\n", got->size());
      std::abort();
    }
  }
  return 0;
}
