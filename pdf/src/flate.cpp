// Flate compression with one zlib stream per thread: see flate.h.
#include "flate.h"

#include <podofo/podofo.h>
#include <zlib.h>

#include <new>

namespace hocba::pdf::flate {

namespace {

class Deflater {
 public:
  Deflater() {
    if (deflateInit(&z_, Z_DEFAULT_COMPRESSION) != Z_OK) throw std::bad_alloc();
  }
  ~Deflater() { deflateEnd(&z_); }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  std::string run(std::string_view in) {
    if (deflateReset(&z_) != Z_OK) throw std::bad_alloc();
    std::string out(deflateBound(&z_, static_cast<uLong>(in.size())), '\0');
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    z_.next_out = reinterpret_cast<Bytef*>(out.data());
    z_.avail_out = static_cast<uInt>(out.size());
    if (deflate(&z_, Z_FINISH) != Z_STREAM_END) throw std::bad_alloc();  // deflateBound leaves room for all of it
    out.resize(z_.total_out);
    return out;
  }

 private:
  z_stream z_{};
};

}  // namespace

std::string compress(std::string_view data) {
  thread_local Deflater d;
  return d.run(data);
}

void set_compressed(PoDoFo::PdfObject& o, std::string_view compressed) {
  using namespace PoDoFo;
  o.GetDictionary().AddKey(PdfName::KeyFilter, PdfName("FlateDecode"));
  PdfMemoryInputStream in(compressed.data(), static_cast<pdf_long>(compressed.size()));
  o.GetStream()->SetRawData(&in, static_cast<pdf_long>(compressed.size()));
}

void set_stream(PoDoFo::PdfObject& o, std::string_view data) { set_compressed(o, compress(data)); }

}  // namespace hocba::pdf::flate
