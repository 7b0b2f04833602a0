// The signer's OpenSSL helpers (private header); the common RAII aliases are in hocba/common/ossl.h.
#pragma once
#include <openssl/cms.h>

#include "hocba/common/ossl.h"

namespace hocba::signer {

using CmsPtr = std::unique_ptr<CMS_ContentInfo, decltype(&CMS_ContentInfo_free)>;

std::string name_to_string(const X509_NAME* n);  // RFC 2253, UTF-8
const EVP_MD* md_for(int hash_enum);

}  // namespace hocba::signer
