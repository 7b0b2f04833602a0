// Verification of the signatures in a PDF: integrity, coverage, chain to trust anchors, PAdES
// baseline conformance of the CMS, the level reached (B-B to B-LTA, from the signature timestamp,
// the DSS and document timestamps), and the revocation status the DSS shows.
#pragma once
#include <span>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/fileio.h"

namespace hocba::signer {

// The signature-time-stamp (PAdES B-T) of a signature, when it has one.
struct TimestampReport {
  bool present = false;
  std::string time;             // the token's genTime, ISO 8601 in Vietnam time (+07:00)
  std::string time_utc;         // the same in UTC ("...Z")
  std::string tsa;              // the TSA certificate's subject
  bool imprint_matches = false; // the token covers this signature's value
  bool verifies = false;        // the token's signature verifies (and chains to --trust when given)
  std::string detail;           // why not, when not
};

// The revocation status of a signer's certificate as the document's DSS shows it (verify never goes
// online). Only data that verifies counts: an OCSP response signed by the issuer or its delegated
// responder, a CRL signed by the issuer.
struct RevocationReport {
  std::string status = "not_checked";  // "good", "revoked", "unknown", "not_checked"
  std::string source = "not checked";  // "DSS OCSP", "DSS CRL", "not checked"
  std::string produced;                // the OCSP response's producedAt / the CRL's thisUpdate (+07:00)
  std::string revoked_at;              // when revoked (+07:00)
  std::string reason;                  // revocation reason, when given
};

// Long-term validation (B-LT, B-LTA) of a signature.
struct LongTermReport {
  bool dss_complete = false;      // the DSS holds every certificate and verified revocation data for the
                                  // signer's chain and the signature timestamp's TSA chain (up to the anchor)
  std::string missing;            // what is not there, when not
  std::string archive_timestamp;  // field of the first valid document timestamp whose revision's DSS is complete
  std::string verifiable_until;   // when the certificate that keeps it verifiable expires (+07:00): the last
                                  // archive timestamp's TSA (B-LTA), else the signature timestamp's TSA
};

struct SignatureReport {
  std::string field_name;
  std::string sub_filter;
  std::string type;                 // "Sig" or "DocTimeStamp"
  bool intact = false;              // digest matches the signed bytes and the signature verifies
  std::string integrity_detail;     // why not, when not
  bool covers_whole_document = false;
  std::size_t covered_bytes = 0;
  std::size_t later_revisions = 0;  // revisions appended after this signature
  std::string signer_subject;
  std::string signer_issuer;
  std::string signing_time;         // /M
  std::string digest_algorithm, signature_algorithm;
  enum class Chain { not_checked, trusted, untrusted } chain = Chain::not_checked;
  std::string chain_detail;
  std::vector<std::string> chain_subjects;  // signer first
  std::vector<std::string> pades_problems;  // deviations from EN 319 142-1 / RFC 5035 found in the CMS
  TimestampReport timestamp;
  RevocationReport revocation;
  LongTermReport long_term;
  std::string level;                // PAdES baseline level reached: "B-B", "B-T", "B-LT", "B-LTA"; "" when not PAdES
  bool valid = false;               // intact, PAdES-conformant, (when anchors were given) trusted, its
                                    // signature timestamp, if any, good, and its certificate not revoked
                                    // before the signature's (trusted, else claimed) time
  std::string summary;              // one sentence for a non-expert
};

// The PAdES baseline level a checked signature reaches (what `level` holds): B-T with a good
// signature timestamp, B-LT when also long_term.dss_complete, B-LTA when also covered by a valid
// archive timestamp (long_term.archive_timestamp).
std::string pades_level(const SignatureReport& s);

// A document timestamp (/Type /DocTimeStamp, /SubFilter /ETSI.RFC3161): an RFC 3161 token over the
// byte ranges, as B-LTA's archive timestamp.
struct DocumentTimestampReport {
  std::string field_name;
  std::string time, time_utc;   // genTime
  std::string tsa;              // the TSA certificate's subject
  std::string tsa_certificate_expires;  // its notAfter (+07:00)
  std::size_t covered_bytes = 0;
  bool covers_whole_document = false;
  std::size_t later_revisions = 0;
  bool intact = false;    // the /ByteRange is well formed and the token's imprint is the hash of the covered bytes
  bool verifies = false;  // the token's signature verifies (and its TSA chains to an anchor when some are given)
  std::string detail;     // why not, when not
  bool valid = false;
};

struct VerifyReport {
  std::size_t file_size = 0;
  std::size_t revisions = 0;
  std::vector<SignatureReport> signatures;             // signatures (not document timestamps)
  std::vector<DocumentTimestampReport> document_timestamps;
  bool dss_present = false;
  std::size_t dss_certs = 0, dss_ocsps = 0, dss_crls = 0, dss_vri = 0;
  bool all_valid = false;  // at least one signature and every signature and document timestamp valid
  std::string summary;     // one sentence for a non-expert
};

// trust_anchors: DER certificates. Empty: the chain is not checked.
Result<VerifyReport> verify_pdf(std::span<const std::uint8_t> pdf, const std::vector<Bytes>& trust_anchors);

std::string to_json(const VerifyReport& r);
std::string to_text(const VerifyReport& r);

}  // namespace hocba::signer
