// The signer's OpenSSL helpers (private header); the common RAII aliases are in hocba/common/ossl.h.
#pragma once
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <span>

#include "hocba/common/ossl.h"

namespace hocba::signer {

using CmsPtr = std::unique_ptr<CMS_ContentInfo, decltype(&CMS_ContentInfo_free)>;

std::string name_to_string(const X509_NAME* n);  // RFC 2253, UTF-8
std::string serial_hex(const X509* x);          // the serial number in hex (BN_bn2hex); "" for none
const EVP_MD* md_for(int hash_enum);

// An ASN1_TIME (UTCTime or GeneralizedTime) as a time point; {} (the epoch) when absent or unreadable.
// GeneralizedTime goes to the year 9999 (RFC 5280's "no well-defined expiration" is 99991231235959Z),
// system_clock's nanoseconds only from 1678 to 2262: times outside are clamped to the ends, not
// overflowed (a signed overflow, found by fuzz/fuzz_revocation with an OCSP producedAt in 2726).
inline std::chrono::system_clock::time_point asn1_time_point(const ASN1_TIME* t) {
  using Clock = std::chrono::system_clock;
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return {};
  const std::time_t secs = timegm(&tm);
  constexpr auto kMax = std::chrono::duration_cast<std::chrono::seconds>(Clock::duration::max()).count() - 1;
  constexpr auto kMin = std::chrono::duration_cast<std::chrono::seconds>(Clock::duration::min()).count() + 1;
  if (secs >= kMax) return Clock::time_point::max();
  if (secs <= kMin) return Clock::time_point::min();
  return Clock::from_time_t(secs);
}

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
