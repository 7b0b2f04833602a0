// Verification of the signatures in a PDF: integrity, coverage, chain to trust anchors, and
// PAdES baseline conformance of the CMS.
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
  std::string level;                // PAdES baseline level reached: "B-B", "B-T"; "" when not PAdES
  bool valid = false;               // intact, PAdES-conformant, (when anchors were given) trusted, and
                                    // its signature timestamp, if any, good
};

// The PAdES baseline level a checked signature reaches (what `level` holds). B-LT and B-LTA will
// also look at the document's DSS and document timestamps.
std::string pades_level(const SignatureReport& s);

struct VerifyReport {
  std::size_t file_size = 0;
  std::size_t revisions = 0;
  std::vector<SignatureReport> signatures;
  bool all_valid = false;  // at least one signature and every one valid
};

// trust_anchors: DER certificates. Empty: the chain is not checked.
Result<VerifyReport> verify_pdf(std::span<const std::uint8_t> pdf, const std::vector<Bytes>& trust_anchors);

std::string to_json(const VerifyReport& r);
std::string to_text(const VerifyReport& r);

}  // namespace hocba::signer
