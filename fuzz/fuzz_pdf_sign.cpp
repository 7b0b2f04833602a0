// Fuzz target: a PDF given to signing, up to where the token would sign. The PDF layer reads the
// input (inspect: signatures, revisions, empty fields), adds the signature dictionary and field as an
// incremental update (prepare_signature), hands back the bytes to sign, and writes a CMS into the
// placeholder (embed_signature). The first byte of the input picks the request's options (new or
// named field, certification, lock), the rest is the PDF.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <span>

#include "hocba/pdf/signing.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::uint8_t opts = data[0];
  std::span<const std::uint8_t> pdf(data + 1, size - 1);

  auto ins = hocba::pdf::inspect(pdf);
  hocba::pdf::SignatureRequest req;
  req.contents_size = 512;
  req.reason = "Ký học bạ";
  req.signer_name = "Nguyễn Văn A";
  req.pdf_date = "D:20250101120000+07'00'";
  if (opts & 1) {
    // Fill an empty field the file has, as the appliance does (gvcn, hieu_truong, con_dau).
    if (ins && !ins->empty_signature_fields.empty()) req.field_name = ins->empty_signature_fields.front();
    else req.field_name = "gvcn";
  }
  if (opts & 2) req.lock_fields = {"gvcn"};
  if (opts & 4) req.certify_p = 2;
  if (opts & 8) req.appearance = hocba::pdf::Appearance{{"Giáo viên chủ nhiệm", "Nguyễn Văn A"}, {}, false, 10};
  if (opts & 16) {
    req.type = "DocTimeStamp";
    req.sub_filter = "ETSI.RFC3161";
  }

  auto p = hocba::pdf::prepare_signature(pdf, req);
  if (!p) return 0;
  // Invariants the signer relies on.
  const auto& br = p->byte_range;
  if (br[0] != 0 || br[1] < 0 || br[2] < br[1] || br[3] < 0 ||
      static_cast<std::size_t>(br[2] + br[3]) != p->file.size() ||
      static_cast<std::size_t>(br[1]) != p->contents_offset ||
      static_cast<std::size_t>(br[2]) != p->contents_offset + p->contents_length ||
      p->file.size() < pdf.size()) {
    std::fprintf(stderr, "prepare_signature: inconsistent byte range\n");
    std::abort();
  }
  (void)hocba::pdf::signed_bytes(*p);
  const std::uint8_t fake_cms[] = {0x30, 0x03, 0x02, 0x01, 0x01};
  if (!hocba::pdf::embed_signature(*p, fake_cms)) std::abort();
  return 0;
}
