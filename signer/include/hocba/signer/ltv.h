// PAdES long-term levels (ETSI EN 319 142-1 §6.3): B-LT adds, as an incremental update, a Document
// Security Store with every certificate and revocation answer needed to validate the document's
// signatures and their timestamps later; B-LTA adds a document timestamp (RFC 3161, /SubFilter
// /ETSI.RFC3161) over that, renewed before its TSA certificate expires.
#pragma once
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/fileio.h"
#include "hocba/signer/pades.h"
#include "hocba/signer/revocation.h"
#include "hocba/signer/timestamp.h"

namespace hocba::signer {

struct LtvOptions {
  // Where revocation answers come from (not owned). Null: none are fetched (as policy skip).
  RevocationChecker* revocation = nullptr;
  RevocationPolicy policy = RevocationPolicy::require;
  // Where chains are built from: the token's CA certificates, --chain files. The certificates
  // carried by the signatures, their timestamps and the DSS are used too.
  std::vector<Bytes> extra_certs;
  // Chains end at one of these (it goes into the DSS, but needs no revocation data). Empty: chains
  // end at a self-signed root.
  std::vector<Bytes> trust_anchors;
  // B-LTA: the document (archive) timestamp comes from this client. Not owned.
  TimestampClient* timestamps = nullptr;
  int utc_offset_minutes = 7 * 60;  // for /TU
};

struct ExtendOutcome {
  Bytes pdf;
  // Every signature's chain and timestamp chain is in the DSS with revocation data (policy not
  // skip, nothing missing, every signature timestamped): the document reaches the level asked.
  bool complete = false;
  Level level = Level::B_T;  // what the document reaches as a whole (B-LT / B-LTA when complete)
  std::size_t signatures = 0;                  // signatures (and document timestamps) covered
  std::size_t certs = 0, ocsps = 0, crls = 0;  // distinct items in this update's VRI entries
  std::vector<std::string> warnings;           // what is missing (policy prefer), revoked certificates
  std::optional<TimestampToken> archive_timestamp;  // B-LTA
  std::string archive_field;
};

// For a signed document: adds validation data (DSS, with one VRI entry per signature) for ALL its
// signatures — their signers' chains up to the anchor and their signature timestamps' TSA chains —
// and for the last document timestamp's TSA chain, so that archive timestamps chain. `level`
// B_LTA then adds a new document timestamp over the result (in a new invisible field
// "ArchiveTimestampN"). Policy require: a status that cannot be obtained is an error
// (Errc::unavailable) and nothing is made; prefer: a warning, and the result is not `complete`;
// skip: certificates only.
Result<ExtendOutcome> extend(std::span<const std::uint8_t> pdf, Level level, const LtvOptions& opts);

// Before signing, whatever the level and the revocation policy: the signer's certificate must be
// within its validity period at `at` (Circular 15/2025: signing software checks the certificate
// before it signs). Errc::verify_failed, one line: "the signer's certificate CN=… (serial …) expired
// on 2026-…+07:00 (valid from … to …); signing refused", or "… is not valid until …"; an unreadable
// certificate is Errc::invalid_argument.
Status check_signer_validity(const Bytes& signer, std::chrono::system_clock::time_point at);

// Before signing: the revocation status of the signer's certificate and its chain (up to the
// anchor; built from `candidates` and the anchors). A revoked certificate is refused whatever the
// policy (Errc::verify_failed: "the certificate CN=… (serial …) was revoked on … (keyCompromise);
// signing refused"); one whose status cannot be obtained is refused under require
// (Errc::unavailable) and a warning under prefer. Skip (or no checker): nothing is checked.
// Returns the warnings.
Result<std::vector<std::string>> check_signer_revocation(const Bytes& signer, const std::vector<Bytes>& candidates,
                                                         const LtvOptions& opts);

}  // namespace hocba::signer
