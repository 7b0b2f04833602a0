// An HTTP/1.1 client for the services the signer talks to (timestamp authorities, OCSP responders,
// CRL distribution points). It implements signer::Fetcher (and so signer::HttpPoster), so that
// nothing below api/ knows about HTTP. No Boost
// type appears here: Beast and Asio stay in http_client.cpp (and are compiled once, in
// beast_impl.cpp).
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/fileio.h"
#include "hocba/signer/revocation.h"
#include "hocba/signer/timestamp.h"

namespace hocba::net {

struct HttpClientOptions {
  std::size_t max_response_bytes = std::size_t(32) << 20;  // bodies larger than this are refused
  std::string user_agent = "hocba-signer";
  // https://: the server's certificate is verified against the system store (OpenSSL's default
  // paths), plus this PEM file when set; the host name must match.
  std::string extra_ca_file;
};

// A whole answer, whatever its status.
struct HttpExchange {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string header(const std::string& name) const;  // case-insensitive; "" if absent
};

// One request per call, one connection per request (no keep-alive: these services are called
// rarely). Every step (resolving, connecting, the TLS handshake, writing, reading) counts against
// the call's timeout; the call never blocks longer. Safe to use from several threads at once.
class HttpClient final : public signer::Fetcher {
 public:
  explicit HttpClient(HttpClientOptions opts = {});
  ~HttpClient() override;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // POSTs `body`; returns the body of a 2xx answer. Errors: Errc::invalid_argument (a URL that is
  // not http:// or https://), Errc::timeout (no complete answer within `timeout`),
  // Errc::unavailable (cannot resolve, connect or complete TLS; a non-2xx status; a broken answer),
  // Errc::too_large (the answer exceeds max_response_bytes).
  Result<Bytes> post(const std::string& url, const std::string& content_type, std::span<const std::uint8_t> body,
                     std::chrono::milliseconds timeout) override;
  // Any request with any headers; the answer whatever its status (errors: as post(), but no error for
  // a non-2xx status). For API clients and tests.
  Result<HttpExchange> exchange(const std::string& method, const std::string& url,
                                const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
                                std::chrono::milliseconds timeout);
  // GETs `url` (for CRLs); the same outcomes. Redirects are not followed.
  Result<Bytes> get(const std::string& url, std::chrono::milliseconds timeout) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The parts of an http:// or https:// URL.
struct Url {
  bool tls = false;
  std::string host;  // without brackets for IPv6 literals
  std::string port;  // "80"/"443" when absent
  std::string target = "/";
};
Result<Url> parse_url(const std::string& url);

}  // namespace hocba::net
