// RFC 3161 signature timestamps for PAdES B-T (ETSI EN 319 142-1 §6.3, EN 319 122-1 §5.3): the
// signature-time-stamp attribute (id-aa-signatureTimeStampToken, 1.2.840.113549.1.9.16.2.14) is an
// unsigned attribute of the SignerInfo holding a TimeStampToken whose messageImprint is the hash of
// the SignerInfo's `signature` OCTET STRING content (RFC 3161 Appendix A).
//
// This layer knows no HTTP: requests go through an abstract HttpPoster (api/ implements it with
// Boost.Beast; tests use a fake).
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/fileio.h"
#include "hocba/signer/key.h"

namespace hocba::signer {

// The transport. Returns the response body of a 2xx answer; any other outcome is an error:
// Errc::timeout when nothing came back within `timeout` (the whole exchange), Errc::unavailable when
// the server could not be reached or answered with a non-2xx status.
class HttpPoster {
 public:
  virtual ~HttpPoster() = default;
  virtual Result<Bytes> post(const std::string& url, const std::string& content_type, std::span<const std::uint8_t> body,
                             std::chrono::milliseconds timeout) = 0;
};

// A TimeStampReq (RFC 3161 §2.4.1) and what its answer must match.
struct TimestampRequest {
  Bytes der;            // the DER TimeStampReq: version 1, messageImprint, nonce, certReq TRUE
  Hash hash = Hash::sha256;
  Bytes imprint;        // hash of the timestamped data
  std::uint64_t nonce = 0;
};

// Builds the request for the signature-time-stamp of a signature value (the content of the
// SignerInfo's `signature` OCTET STRING). `nonce` 0: a random 64-bit nonce.
Result<TimestampRequest> make_timestamp_request(std::span<const std::uint8_t> signature_value, Hash hash = Hash::sha256,
                                                std::uint64_t nonce = 0);

// What a checked token says.
struct TimestampToken {
  Bytes der;  // the TimeStampToken: a ContentInfo holding a SignedData whose eContent is a TSTInfo
  std::chrono::system_clock::time_point gen_time;
  std::string tsa_name;    // the TSA certificate's subject (RFC 2253)
  std::string serial_hex;  // TSTInfo serialNumber
  std::string policy;      // TSTInfo policy OID
};

// Checks a TimeStampResp against its request: status granted (or grantedWithMods), a token that is a
// SignedData over a TSTInfo, version 1, the same imprint (hash algorithm and value) and nonce, the
// TSA certificate carried in the token with extendedKeyUsage timeStamping only and critical, the
// ESS signing-certificate attribute naming it, and the token's signature. `trust_anchors` (DER): the
// TSA certificate must chain to one of them; empty: only the signature with the carried certificate
// is checked.
Result<TimestampToken> check_timestamp_response(std::span<const std::uint8_t> response, const TimestampRequest& req,
                                                const std::vector<Bytes>& trust_anchors);

// Reads a TimeStampToken (no trust decision): the time, the TSA, and the imprint it carries.
struct TokenInfo {
  std::chrono::system_clock::time_point gen_time;
  std::string tsa_name;
  std::string imprint_algorithm;  // e.g. "sha256"
  Bytes imprint;
};
Result<TokenInfo> read_timestamp_token(std::span<const std::uint8_t> token_der);

// Checks a stored TimeStampToken (the signature-time-stamp attribute of a signature found in a PDF)
// against the signature value it should cover. Errors only when the token cannot be read at all.
struct TokenCheck {
  TokenInfo info;
  bool imprint_matches = false;  // the imprint is the hash of `signature_value`
  bool verifies = false;         // the token's signature verifies with its TSA certificate, which is a
                                 // timestamping certificate, chained at the token's time to
                                 // `trust_anchors` when some are given
  std::string detail;            // why not, when not
};
Result<TokenCheck> check_timestamp_token(std::span<const std::uint8_t> token_der,
                                         std::span<const std::uint8_t> signature_value,
                                         const std::vector<Bytes>& trust_anchors);

// The content of the (only) SignerInfo's `signature` OCTET STRING of a DER CMS SignedData.
Result<Bytes> cms_signature_value(std::span<const std::uint8_t> cms_der);

// Adds `token_der` to the (only) SignerInfo as the unsigned attribute id-aa-signatureTimeStampToken
// and returns the re-encoded CMS. The signed part is unchanged. A CMS that already has one is refused.
Result<Bytes> add_signature_timestamp(std::span<const std::uint8_t> cms_der, std::span<const std::uint8_t> token_der);

// The defaults fit the government's timestamp service, which answers in 2 s to over 2 minutes
// (docs/timestamps.md): 180 s per try, 3 tries in all, at most 4 requests at once per TSA.
struct TimestampClientOptions {
  std::vector<std::string> urls;              // tried in order
  std::chrono::milliseconds timeout{180000};  // per try, the whole HTTP exchange
  int retries = 2;                            // more tries per URL after the first (2: 3 tries in all)
  std::chrono::milliseconds backoff{500};     // before the first retry; doubled after each
  int max_concurrent = 4;                     // requests in flight at once to one URL; more wait their turn
                                              // (not counted in `timeout`); below 1 counts as 1
  Hash hash = Hash::sha256;                 // messageImprint hash
  std::vector<Bytes> trust_anchors;         // DER; empty: the token's signature is checked, not the TSA's chain
};

// Asks the configured TSAs for a signature timestamp: each URL in turn, each tried 1 + retries
// times with backoff. At most `max_concurrent` requests are in flight to one URL at once, across
// all the threads using this client; a try beyond that waits for a slot (it is not failed), and
// the slot is given back before a retry's backoff. Remembers the largest token each URL gave, to
// size placeholders. Thread-safe; the HttpPoster must outlive it.
class TimestampClient {
 public:
  // Placeholder allowance for a TSA not heard from yet: room for a token with an RSA-4096
  // signature and a three-certificate chain.
  static constexpr std::size_t kDefaultTokenSize = 8192;

  TimestampClient(HttpPoster& http, TimestampClientOptions opts);

  // The token for `signature_value`, checked. Errors: Errc::unavailable (no TSA answered: "the
  // timestamp authority at URL did not answer within 180 s (3 tries)"), or the check's error when a
  // TSA answered with something unusable.
  Result<TimestampToken> timestamp(std::span<const std::uint8_t> signature_value);

  // Bytes to reserve for a token: the largest seen from any configured URL, else kDefaultTokenSize.
  std::size_t estimated_token_size() const;
  // Tells the client a URL's token size (e.g. remembered from an earlier run).
  void note_token_size(const std::string& url, std::size_t size);

  const TimestampClientOptions& options() const { return opts_; }

  // Requests in flight to `url` right now (at most options().max_concurrent).
  int in_flight(const std::string& url) const;

 private:
  // One request's slot at a URL: waits while max_concurrent are in flight there.
  class Slot;

  HttpPoster& http_;
  TimestampClientOptions opts_;
  mutable std::mutex mu_;
  std::condition_variable slot_free_;
  std::map<std::string, std::size_t> largest_;
  std::map<std::string, int> in_flight_;
};

}  // namespace hocba::signer
