// PAdES baseline signatures (ETSI EN 319 142-1) over PDF incremental updates.
#pragma once
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/fileio.h"
#include "hocba/signer/key.h"

namespace hocba::signer {

// What a visible signature field shows once signed (fields with a zero-size rectangle stay invisible):
// the signer's image, then [title,] the signer's name, the organisation and the signing time in ISO
// 8601 with the Vietnam offset, in the document's embedded serif at 10 pt. A seal shows its image only,
// filling the field (sized to the seal's real size by the template).
struct VisibleSignature {
  std::string title;  // e.g. "Hiệu trưởng"; optional
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
};

struct SignOutcome {
  Bytes pdf;               // the signed file
  std::string field_name;  // the field that holds the signature
  std::size_t cms_size = 0, reserved_size = 0;
};

// Builds the CMS SignedData for a PAdES signature over `digest` (detached, one SignerInfo,
// content-type + message-digest + signing-certificate-v2, no signing-time) with the signer's chain.
Result<Bytes> build_pades_cms(SigningKey& key, Hash hash, Scheme scheme, std::span<const std::uint8_t> digest,
                              const std::vector<Bytes>& chain);

// Orders the certificates from the signer up to a root, as far as they chain. The signer's own
// certificate is first.
std::vector<Bytes> build_chain(const Bytes& signer, const std::vector<Bytes>& candidates);

// Signs a PDF: prepares the incremental update, hashes the byte ranges, signs, embeds.
Result<SignOutcome> sign_pdf(std::span<const std::uint8_t> pdf, SigningKey& key, const PadesOptions& opts);

// "2026-11-22T09:30:00+07:00"
std::string iso_time(std::chrono::system_clock::time_point t, int utc_offset_minutes);

// "D:20261122093000+07'00'" for /M.
std::string pdf_date(std::chrono::system_clock::time_point t, int utc_offset_minutes);

}  // namespace hocba::signer
