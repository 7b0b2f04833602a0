// hocba-test-tsa: a tiny RFC 3161 timestamp authority over HTTP for tests (pyHanko's
// DummyTimeStamper, as a process of its own).
//
//   hocba-test-tsa --key K.pem --cert C.pem [--chain CA.pem]... [--port 0] [--delay-ms N]
//                  [--hold-file F] [--fixed-time UNIX] [--fail N] [--policy OID] [--serve-dir DIR]
//                  [--max-seen-file F] [--hang | --garbage random|html|truncated]
//   hocba-test-tsa --serve-dir DIR [--port 0]
//   hocba-test-tsa --hang | --garbage random|html|truncated [--port 0]
//
// Listens on 127.0.0.1 only and prints the port as the first line on stdout. Answers POSTs of
// application/timestamp-query with OpenSSL's TS_RESP_create_response (SHA-256 signature, ESSCertIDv2,
// the TSA's name in TSTInfo, accuracy 1 s, serial numbers 1, 2, ...). --delay-ms N waits before each
// answer (a slow TSA); --hold-file F then holds each answer while the file F exists (polled every
// 5 ms: a test decides when timestamps come back); --fixed-time UNIX puts that genTime in every token; --fail N answers the
// first N requests with HTTP 503. --serve-dir DIR answers GET /NAME with the file DIR/NAME as it is
// at that moment (CRLs for revocation tests; a plain name, no '/' and no leading '.'), 404 if there
// is none; without --key and --cert it is only that file server. --max-seen-file F writes the largest
// number of timestamp requests in flight at once (read, answer not yet made) to F, as a decimal number
// and a newline, each time it grows (written to F.tmp, then renamed). One thread per connection; the
// signing itself is serialized.
// Broken responders (for the TSA and for OCSP or CRL URLs alike; any method, any path):
// --hang accepts connections and never reads nor answers; --garbage random answers 2 KiB of random
// bytes that are not HTTP; --garbage html answers HTTP 200 with a text/html page; --garbage truncated
// answers HTTP 200 with the right content type (application/timestamp-reply, or
// application/ocsp-response for an OCSP request, application/pkix-crl for a GET) and DER cut short: a
// real timestamp response cut in half when it has a key, else a SEQUENCE announcing 4 KiB that holds 64 bytes.
// Logs one line per request on stderr. Stops on SIGTERM/SIGINT (default actions).
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

struct Config {
  std::string key, cert, policy = "1.3.6.1.4.1.55555.1.1", serve_dir;
  std::vector<std::string> chain;
  unsigned short port = 0;
  long delay_ms = 0;
  std::string hold_file;  // answers wait while it exists
  std::string max_seen_file;  // the most timestamp requests in flight at once goes here
  long long fixed_time = -1;
  long fail = 0;
  bool hang = false;
  std::string garbage;  // "", "random", "html", "truncated"
};

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "hocba-test-tsa: %s\n", msg.c_str());
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    std::fprintf(stderr, "  %s\n", buf);
  }
  std::exit(2);
}

Config parse(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--key") c.key = value();
    else if (a == "--cert") c.cert = value();
    else if (a == "--chain") c.chain.push_back(value());
    else if (a == "--port") c.port = static_cast<unsigned short>(std::stoul(value()));
    else if (a == "--delay-ms") c.delay_ms = std::stol(value());
    else if (a == "--hold-file") c.hold_file = value();
    else if (a == "--max-seen-file") c.max_seen_file = value();
    else if (a == "--fixed-time") c.fixed_time = std::stoll(value());
    else if (a == "--fail") c.fail = std::stol(value());
    else if (a == "--policy") c.policy = value();
    else if (a == "--serve-dir") c.serve_dir = value();
    else if (a == "--hang") c.hang = true;
    else if (a == "--garbage") c.garbage = value();
    else die("unknown option " + a);
  }
  if (!c.garbage.empty() && c.garbage != "random" && c.garbage != "html" && c.garbage != "truncated")
    die("--garbage must be random, html or truncated");
  if (c.hang || !c.garbage.empty()) return c;
  if ((c.key.empty() || c.cert.empty()) && c.serve_dir.empty()) die("usage: hocba-test-tsa --key K.pem --cert C.pem [--chain CA.pem]... [--port 0] "
                                           "[--delay-ms N] [--hold-file F] [--fixed-time UNIX] [--fail N] [--policy OID] [--serve-dir DIR] "
                                           "[--max-seen-file F]");
  return c;
}

BIO* open_file(const std::string& path) {
  BIO* b = BIO_new_file(path.c_str(), "r");
  if (!b) die("cannot read " + path);
  return b;
}

std::atomic<long> g_serial{0};
long long g_fixed_time = -1;

ASN1_INTEGER* serial_cb(TS_RESP_CTX*, void*) {
  ASN1_INTEGER* s = ASN1_INTEGER_new();
  ASN1_INTEGER_set(s, ++g_serial);
  return s;
}

int time_cb(TS_RESP_CTX*, void*, long* sec, long* usec) {
  *sec = static_cast<long>(g_fixed_time);
  *usec = 0;
  return 1;
}

TS_RESP_CTX* make_ctx(const Config& c) {
  BIO* kb = open_file(c.key);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO_free(kb);
  if (!key) die("cannot read the key " + c.key);
  BIO* cb = open_file(c.cert);
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  BIO_free(cb);
  if (!cert) die("cannot read the certificate " + c.cert);
  STACK_OF(X509)* chain = sk_X509_new_null();
  for (const auto& f : c.chain) {
    BIO* b = open_file(f);
    while (X509* x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr)) sk_X509_push(chain, x);
    ERR_clear_error();
    BIO_free(b);
  }
  TS_RESP_CTX* ctx = TS_RESP_CTX_new();
  ASN1_OBJECT* policy = OBJ_txt2obj(c.policy.c_str(), 1);
  if (!ctx || !policy) die("cannot set up the responder");
  if (TS_RESP_CTX_set_signer_cert(ctx, cert) != 1) die("the certificate is not a timestamping certificate (EKU timeStamping, critical)");
  if (TS_RESP_CTX_set_signer_key(ctx, key) != 1) die("the key does not fit");
  if (sk_X509_num(chain) > 0 && TS_RESP_CTX_set_certs(ctx, chain) != 1) die("cannot use the chain");
  if (TS_RESP_CTX_set_def_policy(ctx, policy) != 1) die("cannot set the policy");
  for (const EVP_MD* md : {EVP_sha256(), EVP_sha384(), EVP_sha512()}) TS_RESP_CTX_add_md(ctx, md);
  TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256());
  TS_RESP_CTX_set_ess_cert_id_digest(ctx, EVP_sha256());
  TS_RESP_CTX_set_accuracy(ctx, 1, 0, 0);
  TS_RESP_CTX_add_flags(ctx, TS_TSA_NAME);
  TS_RESP_CTX_set_serial_cb(ctx, serial_cb, nullptr);
  if (c.fixed_time >= 0) {
    g_fixed_time = c.fixed_time;
    TS_RESP_CTX_set_time_cb(ctx, time_cb, nullptr);
  }
  // The context holds its own references.
  ASN1_OBJECT_free(policy);
  X509_free(cert);
  EVP_PKEY_free(key);
  sk_X509_pop_free(chain, X509_free);
  return ctx;
}

std::mutex g_sign_mu;
std::atomic<long> g_requests{0};

// Timestamp requests in flight (read, answer not yet made) and the most seen at once (--max-seen-file).
std::mutex g_flight_mu;
long g_in_flight = 0;
long g_max_seen = 0;

class InFlight {
 public:
  explicit InFlight(const Config& c) : c_(c) {
    std::lock_guard lock(g_flight_mu);
    if (++g_in_flight <= g_max_seen) return;
    g_max_seen = g_in_flight;
    if (c_.max_seen_file.empty()) return;
    std::string tmp = c_.max_seen_file + ".tmp";
    if (std::FILE* f = std::fopen(tmp.c_str(), "w")) {
      std::fprintf(f, "%ld\n", g_max_seen);
      std::fclose(f);
      std::rename(tmp.c_str(), c_.max_seen_file.c_str());
    }
  }
  ~InFlight() {
    std::lock_guard lock(g_flight_mu);
    --g_in_flight;
  }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  const Config& c_;
};

// A real answer of the TSA to `body`, DER (empty if none).
std::vector<std::uint8_t> timestamp_reply(TS_RESP_CTX* ctx, const std::vector<std::uint8_t>& body) {
  std::lock_guard lock(g_sign_mu);
  std::vector<std::uint8_t> out;
  BIO* in = BIO_new_mem_buf(body.data(), static_cast<int>(body.size()));
  TS_RESP* resp = TS_RESP_create_response(ctx, in);
  BIO_free(in);
  int len = resp ? i2d_TS_RESP(resp, nullptr) : 0;
  if (len > 0) {
    out.resize(static_cast<std::size_t>(len));
    unsigned char* p = out.data();
    i2d_TS_RESP(resp, &p);
  }
  TS_RESP_free(resp);
  ERR_clear_error();
  return out;
}

// --hang: holds the connection open, reading nothing and answering nothing, until the process ends.
void hang(tcp::socket sock) {
  long n = ++g_requests;
  std::fprintf(stderr, "hocba-test-tsa: connection %ld: hanging\n", n);
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
  (void)sock;
}

void serve_garbage(tcp::socket sock, TS_RESP_CTX* ctx, const Config& c) {
  beast::error_code ec;
  beast::flat_buffer buf;
  http::request_parser<http::vector_body<std::uint8_t>> parser;
  parser.body_limit(1 << 20);
  http::read(sock, buf, parser, ec);
  if (ec) return;
  auto req = parser.release();
  long n = ++g_requests;
  if (c.garbage == "random") {
    std::vector<std::uint8_t> junk(2048);
    RAND_bytes(junk.data(), static_cast<int>(junk.size()));
    junk[0] = 0x00;  // never "HTTP"
    asio::write(sock, asio::buffer(junk), ec);
    std::fprintf(stderr, "hocba-test-tsa: request %ld: %zu random bytes\n", n, junk.size());
    sock.shutdown(tcp::socket::shutdown_both, ec);
    return;
  }
  http::response<http::vector_body<std::uint8_t>> res{http::status::ok, req.version()};
  res.set(http::field::server, "hocba-test-tsa");
  res.keep_alive(false);
  if (c.garbage == "html") {
    std::string page = "<!doctype html><html><body><h1>Welcome to the captive portal</h1></body></html>\n";
    res.body().assign(page.begin(), page.end());
    res.set(http::field::content_type, "text/html; charset=utf-8");
  } else {  // truncated
    std::string ct(req[http::field::content_type]);
    std::vector<std::uint8_t> der;
    if (ct == "application/timestamp-query" && ctx) der = timestamp_reply(ctx, req.body());
    if (der.size() >= 16) {
      der.resize(der.size() / 2);
    } else {
      der = {0x30, 0x82, 0x10, 0x00};
      der.resize(68, 0x04);
    }
    res.body() = std::move(der);
    res.set(http::field::content_type, ct == "application/timestamp-query" ? "application/timestamp-reply"
                                       : ct == "application/ocsp-request"  ? "application/ocsp-response"
                                                                           : "application/pkix-crl");
  }
  res.prepare_payload();
  std::fprintf(stderr, "hocba-test-tsa: request %ld: HTTP %u, %zu bytes of %s garbage\n", n, res.result_int(),
               res.body().size(), c.garbage.c_str());
  http::write(sock, res, ec);
  sock.shutdown(tcp::socket::shutdown_both, ec);
}

void serve(tcp::socket sock, TS_RESP_CTX* ctx, const Config& c) {
  if (c.hang) return hang(std::move(sock));
  if (!c.garbage.empty()) return serve_garbage(std::move(sock), ctx, c);
  beast::error_code ec;
  beast::flat_buffer buf;
  http::request_parser<http::vector_body<std::uint8_t>> parser;
  parser.body_limit(1 << 20);
  http::read(sock, buf, parser, ec);
  if (ec) return;
  auto req = parser.release();
  long n = ++g_requests;
  http::response<http::vector_body<std::uint8_t>> res{http::status::ok, req.version()};
  res.set(http::field::server, "hocba-test-tsa");
  res.keep_alive(false);
  if (n <= c.fail) {
    res.result(http::status::service_unavailable);
  } else if (req.method() == http::verb::get && !c.serve_dir.empty()) {
    std::string name(req.target());
    if (!name.empty() && name[0] == '/') name.erase(0, 1);
    std::FILE* f = name.empty() || name[0] == '.' || name.find('/') != std::string::npos
                       ? nullptr
                       : std::fopen((c.serve_dir + "/" + name).c_str(), "rb");
    if (!f) {
      res.result(http::status::not_found);
    } else {
      char buf[65536];
      std::size_t got;
      while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) res.body().insert(res.body().end(), buf, buf + got);
      std::fclose(f);
      res.set(http::field::content_type, "application/octet-stream");
    }
  } else if (!ctx) {
    res.result(http::status::not_found);
  } else if (req.method() != http::verb::post) {
    res.result(http::status::method_not_allowed);
  } else if (req[http::field::content_type] != "application/timestamp-query") {
    res.result(http::status::unsupported_media_type);
  } else {
    // In flight until its answer is ready (counted out before the client can read it, so that a
    // client's next request is never counted together with the one it waited for).
    InFlight flight(c);
    if (c.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(c.delay_ms));
    while (!c.hold_file.empty() && ::access(c.hold_file.c_str(), F_OK) == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    res.body() = timestamp_reply(ctx, req.body());
    if (!res.body().empty()) res.set(http::field::content_type, "application/timestamp-reply");
    else res.result(http::status::internal_server_error);
  }
  res.prepare_payload();
  std::fprintf(stderr, "hocba-test-tsa: request %ld: HTTP %u, %zu bytes\n", n, res.result_int(), res.body().size());
  http::write(sock, res, ec);
  sock.shutdown(tcp::socket::shutdown_both, ec);
}

}  // namespace

int main(int argc, char** argv) {
  Config c = parse(argc, argv);
  TS_RESP_CTX* ctx = c.key.empty() || c.cert.empty() ? nullptr : make_ctx(c);
  try {
    asio::io_context ioc{1};
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), c.port));
    std::printf("%u\n", acceptor.local_endpoint().port());
    std::fflush(stdout);
    for (;;) {
      tcp::socket sock(ioc);
      beast::error_code ec;
      acceptor.accept(sock, ec);
      if (ec) continue;
      std::thread([s = std::move(sock), ctx, &c]() mutable {
        try {
          serve(std::move(s), ctx, c);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "hocba-test-tsa: %s\n", e.what());
        }
      }).detach();
    }
  } catch (const std::exception& e) {
    die(e.what());
  }
}
