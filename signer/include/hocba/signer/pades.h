// PAdES baseline signatures (ETSI EN 319 142-1) over PDF incremental updates.
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/fileio.h"
#include "hocba/signer/key.h"

namespace hocba::signer {

class TimestampClient;
struct LtvOptions;

// PAdES baseline levels (EN 319 142-1 §6): B-B, B-T (signature timestamp), B-LT (+ validation data
// in the DSS, ltv.h), B-LTA (+ a document timestamp over it).
enum class Level { B_B, B_T, B_LT, B_LTA };
const char* level_name(Level l);                          // "B-B", "B-T", "B-LT", "B-LTA"
std::optional<Level> parse_level(const std::string& s);  // the names above (also "B_T", "b-t")

// What a visible signature field shows once signed (fields with a zero-size rectangle stay invisible):
// the signer's image, then [title,] the signer's name, the organisation and the signing time in ISO
// 8601 with the Vietnam offset, in the document's embedded serif at 10 pt. A seal shows its image only,
// filling the field (sized to the seal's real size by the template).
struct VisibleSignature {
  std::string title;  // e.g. "Hiệu trưởng"; several lines separated by '\n'; optional
  Bytes image_png;    // handwritten signature or seal image (transparent PNG); optional
  bool seal = false;
};

struct PadesOptions {
  std::string field_name;  // empty: a new field
  std::string reason, location, contact_info;
  Hash hash = Hash::sha256;
  std::optional<Scheme> scheme;  // default: rsa_pkcs1 for RSA keys, ecdsa for EC keys
  std::vector<Bytes> extra_certs;  // more CA certificates to build the chain from (--chain FILE)
  std::chrono::system_clock::time_point signing_time = std::chrono::system_clock::now();
  int utc_offset_minutes = 7 * 60;  // /M is written in Vietnam time (+07:00)
  std::optional<VisibleSignature> appearance;
  bool lock_signed_fields = false;  // FieldMDP: lock this field and every field signed before it
  int certify_p = 0;                // DocMDP on the first signature: 2 (form filling and signing allowed) or 3
  Level level = Level::B_B;
  // B-T: the signature timestamp comes from this client; the placeholder also reserves its
  // estimate of a token's size plus kTimestampMargin. Not owned.
  TimestampClient* timestamps = nullptr;
  std::vector<std::string> tsa_urls;  // recorded in a PendingSignature for finishing later (default:
                                      // the client's URLs)
  // Revocation and long-term validation (ltv.h), not owned. When set with a policy other than skip,
  // the signer's certificate chain is checked before signing (a revoked certificate is refused);
  // B-LT and B-LTA need it (and `timestamps`): finish and sign_pdf then extend the B-T result.
  const LtvOptions* ltv = nullptr;
};

// Bytes reserved beyond the estimated token size (the unsigned attribute's own encoding, and a TSA
// whose token grew a little).
constexpr std::size_t kTimestampMargin = 1024;

struct SignOutcome {
  Bytes pdf;               // the signed file
  std::string field_name;  // the field that holds the signature
  std::size_t cms_size = 0, reserved_size = 0;
  Level level = Level::B_B;  // what was made: B-T when a signature timestamp was added; B-LT/B-LTA when
                             // the validation data (and archive timestamp) were added completely
  std::vector<std::string> warnings;  // revocation problems accepted under policy prefer
};

// A signature made but not yet embedded: the prepared incremental update and the B-B CMS, waiting
// for its signature timestamp (B-T). It holds no secret; it is written to a file so that a TSA that
// does not answer loses nothing (the batch pipeline's "waiting for timestamp" state, `hocba
// finish`).
struct PendingSignature {
  Bytes prepared_pdf;                        // the whole new file, /Contents filled with zeros
  std::array<std::int64_t, 4> byte_range{};  // as written in the file
  std::size_t contents_offset = 0, contents_length = 0;  // the /Contents hex string, '<' to '>'
  std::string field_name;
  Bytes cms;               // the B-B CMS SignedData (DER)
  Bytes signature_value;   // its SignerInfo's signature: what the signature timestamp covers
  Level level = Level::B_B;                 // the level asked for
  Hash timestamp_hash = Hash::sha256;       // messageImprint hash for the timestamp request
  std::vector<std::string> tsa_urls;        // where to ask (may be empty)
  std::int64_t created_unix = 0;            // when it was signed
  std::vector<std::string> warnings;        // from the revocation check before signing (not serialized)

  // A self-checking binary file (magic "HOCBA-PENDING-SIGNATURE", version, fields, SHA-256).
  Bytes serialize() const;
  // Checks everything: magic, version, lengths, checksum, the placeholder and CMS consistent with the
  // PDF. A damaged or foreign file is an error (Errc::invalid_argument), never a crash.
  static Result<PendingSignature> parse(std::span<const std::uint8_t> bytes);
};

// Step 1: prepares the incremental update (sized for the level), hashes the byte ranges and signs
// with the key. No network.
Result<PendingSignature> prepare_and_sign(std::span<const std::uint8_t> pdf, SigningKey& key, const PadesOptions& opts);

// Step 2: adds the signature timestamp token (when given: it must cover this signature) to the CMS
// and embeds it. Without a token the result is B-B. Fails with too_large if the token does not fit
// the placeholder (the pending signature can still be finished without one). With a token, a
// pending level of B-LT or B-LTA and `ltv`: then extends the result (extend() in ltv.h); its
// errors are returned (the pending signature is not lost: finish it again, or at B-T).
Result<SignOutcome> finish(PendingSignature pending, const std::optional<Bytes>& timestamp_token,
                           const LtvOptions* ltv = nullptr);

// Builds the CMS SignedData for a PAdES signature over `digest` (detached, one SignerInfo,
// content-type + message-digest + signing-certificate-v2, no signing-time) with the signer's chain.
Result<Bytes> build_pades_cms(SigningKey& key, Hash hash, Scheme scheme, std::span<const std::uint8_t> digest,
                              const std::vector<Bytes>& chain);

// Orders the certificates from the signer up to a root, as far as they chain. The signer's own
// certificate is first.
std::vector<Bytes> build_chain(const Bytes& signer, const std::vector<Bytes>& candidates);

// Signs a PDF: prepares the incremental update, hashes the byte ranges, signs, embeds
// (prepare_and_sign, then for B-T and above the timestamp from opts.timestamps, then finish, which
// for B-LT/B-LTA adds the validation data and archive timestamp with opts.ltv).
Result<SignOutcome> sign_pdf(std::span<const std::uint8_t> pdf, SigningKey& key, const PadesOptions& opts);

// "2026-11-22T09:30:00+07:00"
std::string iso_time(std::chrono::system_clock::time_point t, int utc_offset_minutes);

// "D:20261122093000+07'00'" for /M.
std::string pdf_date(std::chrono::system_clock::time_point t, int utc_offset_minutes);

}  // namespace hocba::signer
