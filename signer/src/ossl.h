// The signer's OpenSSL helpers (private header); the common RAII aliases are in hocba/common/ossl.h.
#pragma once
#include <openssl/bio.h>
#include <openssl/cms.h>

#include <cstdint>
#include <span>

#include "hocba/common/ossl.h"

namespace hocba::signer {

using CmsPtr = std::unique_ptr<CMS_ContentInfo, decltype(&CMS_ContentInfo_free)>;

std::string name_to_string(const X509_NAME* n);  // RFC 2253, UTF-8
const EVP_MD* md_for(int hash_enum);

// CMS_verify of a detached signature over `content` (1 when it verifies). Never hand CMS_verify a
// memory BIO: OpenSSL 3.0 then reads from a copy it makes, and leaks that copy when the SignedData
// cannot be set up for digesting (an unknown digest algorithm, ...); a PDF or a pending file with such
// a CMS leaked memory at every verification (found by fuzz/fuzz_pdf_verify). A buffering filter over
// the memory BIO is read as it is, and freed here.
inline int cms_verify_detached(CMS_ContentInfo* cms, std::span<const std::uint8_t> content, unsigned int flags) {
  BIO* mem = BIO_new_mem_buf(content.data(), static_cast<int>(content.size()));
  BIO* buf = BIO_new(BIO_f_buffer());
  if (!mem || !buf) {
    BIO_free(mem);
    BIO_free(buf);
    return 0;
  }
  BIO* chain = BIO_push(buf, mem);
  int ok = CMS_verify(cms, nullptr, nullptr, chain, nullptr, flags);
  BIO_free_all(chain);
  return ok;
}

}  // namespace hocba::signer
