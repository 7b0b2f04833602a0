// Private to signer/: pieces shared by extend (ltv.cpp) and verify (verify.cpp).
#pragma once
#include <chrono>
#include <span>
#include <string>
#include <vector>

#include "hocba/common/fileio.h"

namespace hocba::signer::detail {

// What a signature's /Contents carries.
struct SignatureParts {
  Bytes signer;                // the signer's (or, for a document timestamp, the TSA's) certificate; empty if absent
  std::vector<Bytes> certs;    // every certificate in the CMS (the token's, for a document timestamp)
  Bytes timestamp;             // the signature-time-stamp token (CAdES signatures); empty if none
  Bytes tsa;                   // its TSA certificate; empty if none
  std::vector<Bytes> timestamp_certs;  // the certificates the token carries
  std::chrono::system_clock::time_point timestamp_time{};  // its genTime
};
SignatureParts signature_parts(std::span<const std::uint8_t> contents, bool document_timestamp);

// The certificates in a timestamp token (a CMS SignedData), its signer (the TSA) first.
std::vector<Bytes> token_certificates(std::span<const std::uint8_t> token, Bytes* tsa);

// A certificate's chain through `pool`, up to the first of `anchors` (or, without anchors, a
// self-signed root). `complete`: it got there. The last certificate is the anchor when complete.
struct AnchoredChain {
  std::vector<Bytes> certs;  // the certificate first
  bool complete = false;
};
AnchoredChain chain_to_anchor(const Bytes& cert, const std::vector<Bytes>& pool, const std::vector<Bytes>& anchors);

std::string subject_name(const Bytes& cert);  // RFC 2253
std::string common_name(const Bytes& cert);   // CN, else the subject
std::chrono::system_clock::time_point not_after(const Bytes& cert);

bool contains(const std::vector<Bytes>& v, const Bytes& b);

}  // namespace hocba::signer::detail
