// Revocation status of certificates, for PAdES B-LT (ETSI EN 319 142-1 §5.4) and for refusing to
// sign with a revoked certificate: OCSP (RFC 6960) from the certificate's authorityInfoAccess, CRLs
// (RFC 5280) from its cRLDistributionPoints, every answer checked before use, cached, and an
// offline mode reading pre-fetched files from a folder.
//
// This layer knows no HTTP: requests go through an abstract Fetcher (net::HttpClient implements
// it; tests may use a fake).
#pragma once
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/fileio.h"
#include "hocba/signer/timestamp.h"

namespace hocba::signer {

// The transport: POST (OCSP, timestamps) and GET (CRLs). Same outcomes as HttpPoster::post.
class Fetcher : public HttpPoster {
 public:
  virtual Result<Bytes> get(const std::string& url, std::chrono::milliseconds timeout) = 0;
};

// What to do when a certificate's revocation status cannot be obtained:
//   require  refuse (signing, extending);
//   prefer   warn and go on (the record may then not reach B-LT);
//   skip     do not check at all.
// A certificate found REVOKED always makes signing refuse, whatever the policy (except skip,
// which does not look).
enum class RevocationPolicy { require, prefer, skip };
const char* policy_name(RevocationPolicy p);                        // "require", "prefer", "skip"
std::optional<RevocationPolicy> parse_policy(const std::string& s);

enum class CertStatus { good, revoked, unknown };
const char* status_name(CertStatus s);  // "good", "revoked", "unknown"

// The checked status of one certificate, and the evidence for it.
struct RevocationStatus {
  CertStatus status = CertStatus::unknown;
  std::chrono::system_clock::time_point revoked_at{};  // when revoked
  std::string reason;                                    // revocation reason when given ("keyCompromise")
  enum class Source { ocsp, crl } source = Source::ocsp;
  std::string origin;     // where it came from: the URL, or the offline file
  Bytes evidence;         // the OCSPResponse or the CRL, DER, as received
  std::vector<Bytes> certs;  // certificates that came with it (the OCSP responder's)
  std::chrono::system_clock::time_point produced{};     // OCSP producedAt, or the CRL's thisUpdate
  std::chrono::system_clock::time_point this_update{}, next_update{};  // next_update {}: none given
  std::string subject;    // the certificate's subject (RFC 2253)
  std::string serial_hex; // and serial number
};

// Checks an OCSPResponse (DER) about `cert` (issued by `issuer`): status successful, a
// BasicOCSPResponse signed by the issuer itself or by a responder certificate with
// id-kp-OCSPSigning issued by it (RFC 6960 §4.2.2.2; found in the response or in `more_certs`),
// valid at producedAt, and a SingleResponse for this certificate's CertID. With `fresh_at`:
// thisUpdate not after it (5 minutes of clock skew allowed) and nextUpdate, when given, not before
// it. With `request_der` (the OCSPRequest sent): a nonce in the answer must be the request's.
Result<RevocationStatus> check_ocsp_response(std::span<const std::uint8_t> response, const Bytes& cert, const Bytes& issuer,
                                             const std::vector<Bytes>& more_certs,
                                             std::optional<std::chrono::system_clock::time_point> fresh_at,
                                             std::span<const std::uint8_t> request_der = {});

// Checks a CRL (DER or PEM) for `cert`: issued by `issuer` (same name, its signature verifies with
// the issuer's key, which may sign CRLs), not a delta CRL; with `fresh_at`, thisUpdate not after it
// and nextUpdate not before it. The status: revoked if the serial is listed, else good.
Result<RevocationStatus> check_crl(std::span<const std::uint8_t> crl, const Bytes& cert, const Bytes& issuer,
                                   std::optional<std::chrono::system_clock::time_point> fresh_at);

// The OCSP request for `cert` (SHA-1 CertID, RFC 6960 §4.1.1), with a random nonce when `nonce`.
Result<Bytes> make_ocsp_request(const Bytes& cert, const Bytes& issuer, bool nonce = true);

// The http(s) URLs a certificate names: OCSP responders (authorityInfoAccess) and CRL distribution
// points.
std::vector<std::string> ocsp_urls(const Bytes& cert);
std::vector<std::string> crl_urls(const Bytes& cert);

// True for a certificate that needs no revocation check (id-pkix-ocsp-nocheck, RFC 6960 §4.2.2.2.1:
// OCSP responders).
bool has_ocsp_nocheck(const Bytes& cert);

struct RevocationOptions {
  std::chrono::milliseconds timeout{15000};  // per request, the whole HTTP exchange
  int retries = 1;                           // more tries per URL after the first
  std::chrono::milliseconds backoff{500};    // before a retry
  // Offline mode: a folder of pre-fetched files — OCSP responses (*.ocsp, *.der), CRLs (*.crl, *.der,
  // *.pem) and certificates (*.der, *.pem, *.crt: OCSP responders). They are used first; with no
  // Fetcher nothing else is asked.
  std::string offline_dir;
  // An OCSP answer without nextUpdate is reused for this long.
  std::chrono::seconds ocsp_reuse_without_next_update{300};
  // A URL that could not be reached (every try) is not asked again for this long: a batch does not
  // wait for a dead responder once per record.
  std::chrono::seconds unreachable_for{30};
};

// Finds and checks the status of certificates: the cache, then the offline files, then (with a
// Fetcher) each OCSP responder the certificate names, then each CRL distribution point. An OCSP
// answer "unknown" is not taken as an answer: the CRL is tried. CRLs are cached by URL until their
// nextUpdate (one CRL serves a whole batch), OCSP answers by CertID until theirs, and a URL that
// could not be reached is skipped for `unreachable_for`. Thread-safe; the fetcher must outlive the
// checker.
class RevocationChecker {
 public:
  RevocationChecker(Fetcher* fetcher, RevocationOptions opts);

  // Reads opts.offline_dir (once; later calls do nothing). Errors: the folder cannot be read.
  // A file that is none of the known kinds is ignored (and logged).
  Status load_offline();

  // The status of `cert`, issued by `issuer`. Errors: Errc::unavailable when no source gave a
  // usable answer ("cannot get the revocation status of CN=…: OCSP http://…: …; CRL http://…: …").
  Result<RevocationStatus> check(const Bytes& cert, const Bytes& issuer);

  const RevocationOptions& options() const { return opts_; }
  bool offline_only() const { return fetcher_ == nullptr; }

 private:
  struct Cached {
    RevocationStatus status;
    std::chrono::system_clock::time_point until;
  };
  Result<RevocationStatus> from_offline(const Bytes& cert, const Bytes& issuer, std::string& why);
  Result<RevocationStatus> from_ocsp(const std::string& url, const Bytes& cert, const Bytes& issuer);
  Result<RevocationStatus> from_crl(const std::string& url, const Bytes& cert, const Bytes& issuer);

  Fetcher* fetcher_;
  RevocationOptions opts_;
  std::mutex mu_;
  bool offline_loaded_ = false;
  std::vector<std::pair<std::string, Bytes>> offline_ocsp_, offline_crl_;  // (file, DER)
  std::vector<Bytes> offline_certs_;
  std::map<std::string, Cached> ocsp_cache_;  // by CertID (hex)
  std::map<std::string, std::pair<Bytes, std::chrono::system_clock::time_point>> crl_cache_;  // by URL: (DER, nextUpdate)
  std::map<std::string, std::pair<std::chrono::steady_clock::time_point, Error>> unreachable_;  // by URL: (until, why)
  bool recently_unreachable(const std::string& url, Error& why);
  void note_unreachable(const std::string& url, const Error& why);
};

}  // namespace hocba::signer
