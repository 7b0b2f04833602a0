// The Document Security Store (ETSI EN 319 142-1 §5.4, ISO 32000-2 §12.8.4.3): the catalog's /DSS
// holds the certificates, OCSP responses and CRLs needed to validate the document's signatures
// long after they were made (PAdES B-LT), with one /VRI entry per signature saying which of them
// belong to it. This layer knows nothing of CMS: the caller hands it DER blobs and VRI keys.
#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/fileio.h"

namespace hocba::pdf {

// Validation data for one signature (or document timestamp).
struct VriEntry {
  std::string key;                        // vri_key() of the signature's /Contents
  std::vector<Bytes> certs, ocsps, crls;  // DER
  std::string tu;                         // /TU, a PDF date "D:YYYYMMDDHHmmSS+07'00'"; empty: none
};

// What to add. Every blob named by a VRI entry is also added to the DSS's own arrays.
struct DssData {
  std::vector<Bytes> certs, ocsps, crls;  // DER: /Certs, /OCSPs, /CRLs
  std::vector<VriEntry> vri;
  bool compress = true;  // FlateDecode the new streams
};

// The /VRI key of a signature: the uppercase hex SHA-1 of its /Contents string's bytes (as they are
// in the file, the DER CMS and its zero padding), per ETSI EN 319 142-1 §5.4.2.
std::string vri_key(std::span<const std::uint8_t> contents);

// Adds `data` to the catalog's /DSS (created if absent) as an incremental update, append-only like
// prepare_signature. Blobs already in the DSS (same DER) are not added again but referenced; the
// existing entries and VRI dictionaries are kept; a VRI entry of the same key gets the new blobs
// added to its arrays. Returns the new file; when nothing is new, the input unchanged.
Result<Bytes> add_dss(std::span<const std::uint8_t> pdf, const DssData& data);

// The DSS of a document (of its last revision: pass a prefix that ends a revision to read an
// earlier one), streams decoded.
struct DssContent {
  bool present = false;
  std::vector<Bytes> certs, ocsps, crls;
  std::map<std::string, VriEntry> vri;  // by key
};
Result<DssContent> read_dss(std::span<const std::uint8_t> pdf);

}  // namespace hocba::pdf
