// Certificates as the CSC API describes them (credentials/info "cert"): validity, names, serial and
// the chain the token holds. Private to csc/.
#pragma once
#include <string>
#include <vector>

#include "hocba/common/fileio.h"
#include "hocba/hsm/hsm.h"

namespace hocba::csc {

struct CertDescription {
  bool parsed = false;
  std::string status;                  // "valid", "expired", or "" (not valid yet, or unreadable)
  std::string issuer_dn, subject_dn;   // RFC 4514, UTF-8 kept as it is
  std::string serial_hex;
  std::string valid_from, valid_to;    // GeneralizedTime "YYYYMMDDHHMMSSZ"
};
CertDescription describe_certificate(const Bytes& der);

// Is the certificate valid now (a credential whose certificate expired is "disabled" and signs nothing)?
bool certificate_current(const Bytes& der);

// The end-entity certificate, then its issuers as far as the token holds them.
std::vector<Bytes> chain_of(const hsm::KeyRef& ref);

}  // namespace hocba::csc
