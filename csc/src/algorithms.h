// The CSC API's algorithms (docs/csc.md, "Signature algorithms"): the hash and signature algorithm
// OIDs, RSASSA-PSS parameters, what the token does for a signAlgo, and the base64 CSC carries hashes,
// parameters and signatures in. Private to csc/.
#pragma once
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/fileio.h"
#include "hocba/hsm/hsm.h"

namespace hocba::csc {

inline constexpr const char* kOidSha256 = "2.16.840.1.101.3.4.2.1";
inline constexpr const char* kOidSha384 = "2.16.840.1.101.3.4.2.2";
inline constexpr const char* kOidSha512 = "2.16.840.1.101.3.4.2.3";

std::optional<hsm::HashAlg> hash_by_oid(std::string_view oid);
// The SHA-2 hash whose digests have `n` bytes.
std::optional<hsm::HashAlg> hash_by_size(std::size_t n);

// The signature algorithms a key offers (credentials/info key/algo; the signAlgo values accepted).
std::vector<std::string> key_algos(hsm::KeyAlgorithm a);
// A named curve's OID ("P-256" -> 1.2.840.10045.3.1.7); "" if unknown.
std::string curve_oid(const std::string& curve);

struct SignSpec {
  hsm::Mechanism mechanism;
  hsm::HashAlg hash;
  hsm::KeyAlgorithm key;
};

// signAlgo (+ the hash algorithm, + signAlgoParams: base64 of RSASSA-PSS-params) -> what the token
// does. `hash_field` is the request's name of the hash algorithm field (v1 "hashAlgo", v2
// "hashAlgorithmOID"), for the messages.
Result<SignSpec> sign_spec(const std::string& sign_algo, const std::string& hash_oid, const std::string& params_b64,
                           std::string_view hash_field);

// Standard base64 (padded).
std::string b64_encode(std::span<const std::uint8_t> b);
// Standard base64, with or without padding; nullopt if malformed or longer than max_len bytes.
std::optional<Bytes> b64_decode(std::string_view s, std::size_t max_len);

}  // namespace hocba::csc
