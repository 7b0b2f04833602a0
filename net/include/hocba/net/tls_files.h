// The TLS key and certificate of hocbad's HTTPS listener. On first start the appliance makes its own
// self-signed certificate; the administrator compares its SHA-256 fingerprint (shown by `hocba` and
// in the log) with what the browser shows. A school may later put its own pair in the same paths.
// No OpenSSL type appears here.
#pragma once
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/fileio.h"

namespace hocba::net {

struct TlsFiles {
  std::string cert_path;  // PEM certificate
  std::string key_path;   // PEM private key (unencrypted PKCS#8)
  // SHA-256 of the certificate's DER, uppercase hex pairs joined by ':' ("AB:CD:…"), exactly as
  // `openssl x509 -noout -fingerprint -sha256` prints it after "sha256 Fingerprint=".
  std::string fingerprint_sha256;
  bool generated = false;  // true when this call made the pair
};

// Makes sure a usable key and certificate are at `cert_path` and `key_path`:
// - both exist: the certificate must be PEM, the key must parse (PEM, unencrypted) and be the key of
//   the certificate's public key. Nothing is written. generated = false.
// - neither exists: makes an EC P-256 key and a self-signed X.509 v3 server certificate (subject
//   CN = host_names[0] or "hocba-signer", O = "hocba-signer"; random positive 128-bit serial; valid
//   from an hour ago for 825 days; CA:FALSE, digitalSignature, serverAuth; subjectAltName with every
//   host name, as IP when it parses as an IPv4/IPv6 address and as DNS otherwise, plus DNS:localhost
//   and IP:127.0.0.1). Missing parent folders are created (0700 for the key's, 0755 for the
//   certificate's). The key is written with mode 0600 and then the certificate with 0644, each
//   atomically (write_file_atomic); if the certificate cannot be written the new key is removed
//   again. generated = true.
// - only one exists: refused, nothing is written (the message names both paths).
// Errors are one line naming the file concerned: Errc::io (cannot read or write), Errc::crypto (a
// file that does not parse, a key that does not match the certificate, OpenSSL failures),
// Errc::invalid_argument (only one of the two exists, an empty host name).
Result<TlsFiles> ensure_tls_files(const std::string& cert_path, const std::string& key_path,
                                  const std::vector<std::string>& host_names);

// The fingerprint format of TlsFiles::fingerprint_sha256 for a DER certificate (any bytes, in fact).
std::string certificate_fingerprint_sha256(const Bytes& der);

}  // namespace hocba::net
