// Certificates as the CSC API describes them (certificates.h).
#include "certificates.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "hocba/common/error.h"
#include "hocba/common/ossl.h"

namespace hocba::csc {
namespace {

X509Ptr parse_cert(const Bytes& der) {
  X509Ptr x = x509_from_der(der);
  if (!x) (void)drain_openssl_errors();
  return x;
}

// RFC 4514 (UTF-8 kept as it is).
std::string dn_string(const X509_NAME* n) {
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio) return "";
  X509_NAME_print_ex(bio.get(), n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

// GeneralizedTime "YYYYMMDDHHMMSSZ".
std::string generalized_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return "";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%SZ", &tm);
  return buf;
}

std::string serial_hex(const X509* x) {
  BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr), BN_free);
  if (!bn) return "";
  char* hex = BN_bn2hex(bn.get());
  std::string s = hex ? hex : "";
  OPENSSL_free(hex);
  return s;
}

}  // namespace

CertDescription describe_certificate(const Bytes& der) {
  CertDescription d;
  X509Ptr x = parse_cert(der);
  if (!x) return d;
  d.parsed = true;
  if (X509_cmp_current_time(X509_get0_notAfter(x.get())) < 0) d.status = "expired";
  else if (X509_cmp_current_time(X509_get0_notBefore(x.get())) <= 0) d.status = "valid";
  d.issuer_dn = dn_string(X509_get_issuer_name(x.get()));
  d.subject_dn = dn_string(X509_get_subject_name(x.get()));
  d.serial_hex = serial_hex(x.get());
  d.valid_from = generalized_time(X509_get0_notBefore(x.get()));
  d.valid_to = generalized_time(X509_get0_notAfter(x.get()));
  return d;
}

bool certificate_current(const Bytes& der) {
  auto x = x509_from_der(der);
  return x && X509_cmp_current_time(X509_get0_notBefore(x.get())) < 0 && X509_cmp_current_time(X509_get0_notAfter(x.get())) > 0;
}

std::vector<Bytes> chain_of(const hsm::KeyRef& ref) {
  std::vector<Bytes> out{ref.certificate};
  X509Ptr cur = parse_cert(ref.certificate);
  std::vector<bool> used(ref.ca_certs.size(), false);
  while (cur && X509_check_issued(cur.get(), cur.get()) != X509_V_OK) {  // stop at a self-signed one
    bool found = false;
    for (std::size_t i = 0; i < ref.ca_certs.size() && !found; ++i) {
      if (used[i]) continue;
      X509Ptr ca = parse_cert(ref.ca_certs[i]);
      if (ca && X509_check_issued(ca.get(), cur.get()) == X509_V_OK) {
        used[i] = found = true;
        out.push_back(ref.ca_certs[i]);
        cur = std::move(ca);
      }
    }
    if (!found) break;
  }
  return out;
}

}  // namespace hocba::csc
