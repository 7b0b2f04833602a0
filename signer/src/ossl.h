// RAII aliases for the OpenSSL handles the signer uses (private header).
#pragma once
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>

#include "hocba/common/fileio.h"

namespace hocba::signer {

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)>;
using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using CmsPtr = std::unique_ptr<CMS_ContentInfo, decltype(&CMS_ContentInfo_free)>;
using X509StorePtr = std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

inline X509Ptr x509_from_der(const Bytes& der) {
  const unsigned char* p = der.data();
  return X509Ptr(d2i_X509(nullptr, &p, static_cast<long>(der.size())), X509_free);
}

inline Bytes x509_to_der(X509* x) {
  int n = i2d_X509(x, nullptr);
  if (n <= 0) return {};
  Bytes b(static_cast<std::size_t>(n));
  unsigned char* p = b.data();
  i2d_X509(x, &p);
  return b;
}

std::string name_to_string(const X509_NAME* n);  // RFC 2253, UTF-8
const EVP_MD* md_for(int hash_enum);

}  // namespace hocba::signer
