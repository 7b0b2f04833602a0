// Flate (zlib) compression for the rendered documents' streams (private to hocba_pdf). PoDoFo's own
// filter sets up a new zlib stream, some 260 kB of state, for every stream it compresses; we keep one
// per thread and reset it, and hand PoDoFo the compressed bytes.
#pragma once
#include <string>
#include <string_view>

namespace PoDoFo {
class PdfObject;
}  // namespace PoDoFo

namespace hocba::pdf::flate {

// The data compressed at zlib's default level (the same level as PoDoFo's filter). Throws
// std::bad_alloc if zlib runs out of memory.
std::string compress(std::string_view data);

// Makes o a stream holding already compressed data (/Filter /FlateDecode).
void set_compressed(PoDoFo::PdfObject& o, std::string_view compressed);

// set_compressed(o, compress(data)).
void set_stream(PoDoFo::PdfObject& o, std::string_view data);

}  // namespace hocba::pdf::flate
