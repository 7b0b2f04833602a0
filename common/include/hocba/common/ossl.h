// RAII aliases for the OpenSSL handles used across the layers (one per handle type, STYLE.md), and
// the two DER conversions of certificates everybody needs. Include only from .cpp files or private
// headers: public headers stay free of OpenSSL types.
#pragma once
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>

#include "hocba/common/fileio.h"

namespace hocba {

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;
using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using BignumPtr = std::unique_ptr<BIGNUM, decltype(&BN_free)>;
using X509StorePtr = std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)>;

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

}  // namespace hocba
