// hocba-bench: how fast we sign, and how much CPU a signed document costs us apart from the token.
//
//   hocba-bench [--iterations N] [--raw-iterations N] [--pdf-iterations N] [--pdf FILE]
//               [--key URI] [--pin-file FILE] [--ec-key URI] [--ec-pin-file FILE] [--module PATH] [--json]
//
// Without --key the bench provisions throw-away SoftHSM2 tokens in a temporary directory
// (scripts/softhsm-provision.sh) and uses GVCN-3A (RSA-2048) and CON-DAU (EC P-256).
// Figures (all in this one process; SoftHSM2 runs in-process, so its CPU is process CPU):
//   1. raw token signing: hsm::Hsm::sign on a SHA-256 digest, signatures/s and CPU ms/signature;
//   2. whole-PDF signing: signer::sign_pdf (PAdES B-B) with signer::token_key, documents/s;
//   3. our CPU per document = process CPU per document - token CPU per signature (from 1.), plus
//      wall ms per document and peak RSS; cross-checked by the same loop with signer::software_key
//      (a key generated here), minus the software signature's own CPU.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/fileio.h"
#include "hocba/common/log.h"
#include "hocba/common/secret.h"
#include "hocba/hsm/hsm.h"
#include "hocba/hsm/uri.h"
#include "hocba/signer/key.h"
#include "hocba/signer/pades.h"
#include "hocba/signer/verify.h"

#ifndef HOCBA_SOURCE_DIR
#define HOCBA_SOURCE_DIR "."
#endif

namespace {

using namespace hocba;

constexpr const char* kDefaultModule = "/usr/lib/softhsm/libsofthsm2.so";
constexpr const char* kDefaultKey = "pkcs11:token=GVCN-3A;object=gvcn-3a";
constexpr const char* kDefaultEcKey = "pkcs11:token=CON-DAU;object=con-dau";

const char* kUsage =
    "usage: hocba-bench [--iterations N] [--raw-iterations N] [--pdf-iterations N] [--pdf FILE]\n"
    "                   [--key URI] [--pin-file FILE] [--ec-key URI] [--ec-pin-file FILE]\n"
    "                   [--module PATH] [--json]\n"
    "  --iterations N      sets both loop counts (defaults: 1000 raw signatures, 300 PDFs)\n"
    "  --key URI           token key (default " "pkcs11:token=GVCN-3A;object=gvcn-3a" "); without it the bench\n"
    "                      provisions its own SoftHSM2 tokens in a temporary directory\n"
    "  --ec-key URI        EC key for the raw ECDSA figure (default: CON-DAU P-256 when self-provisioned)\n"
    "  --pin-file FILE     PIN of --key (else the URI's pin-source)\n";

std::string g_tmpdir;  // removed on exit

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "hocba-bench: %s\n", what.c_str());
  if (!g_tmpdir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(g_tmpdir, ec);
  }
  std::exit(1);
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);  // every thread (the token's worker included)
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

long peak_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;  // KiB on Linux
}

struct Phase {
  int n = 0;
  double wall = 0, cpu = 0;  // seconds
  double per_s() const { return wall > 0 ? n / wall : 0; }
  double wall_ms() const { return n ? wall * 1e3 / n : 0; }
  double cpu_ms() const { return n ? cpu * 1e3 / n : 0; }
};

// Runs `fn` `warmup` times untimed, then `n` times timed (wall and process CPU).
Phase measure(int n, int warmup, const std::function<void()>& fn) {
  for (int i = 0; i < warmup; ++i) fn();
  Phase p;
  p.n = n;
  auto w0 = std::chrono::steady_clock::now();
  double c0 = cpu_seconds();
  for (int i = 0; i < n; ++i) fn();
  p.cpu = cpu_seconds() - c0;
  p.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  return p;
}

Bytes sha256(const std::string& s) {
  Bytes d(32);
  unsigned len = 0;
  EVP_Digest(s.data(), s.size(), d.data(), &len, EVP_sha256(), nullptr);
  return d;
}

std::string key_name(const hsm::KeyRef& k) {
  if (k.algorithm == hsm::KeyAlgorithm::rsa) return "RSA-" + std::to_string(k.bits);
  if (k.algorithm == hsm::KeyAlgorithm::ec) return "ECDSA " + (k.curve.empty() ? std::to_string(k.bits) : k.curve);
  return "other";
}

std::string module_name(const std::string& module) {
  return module.find("softhsm") != std::string::npos ? "SoftHSM2" : std::filesystem::path(module).filename().string();
}

Bytes bio_bytes(BIO* b) {
  char* p = nullptr;
  long len = BIO_get_mem_data(b, &p);
  return Bytes(p, p + len);
}

// A software key like the token's (RSA of the same size, or EC of the same curve) with a certificate
// like the token's (`like`, DER): same subject; issued by the test issuing CA when its key is at
// hand (self-provisioned run: DIR/pki/sub.key), so the CMS carries the same chain; else self-signed.
// Note: hsm::Hsm registers libp11's RSA EVP_PKEY_METHOD process-wide, after which X509_sign with a
// PEM-loaded RSA key fails ("command not supported"); so the issued certificate is made before the
// Hsm exists.
struct SoftKeyPem {
  Bytes key, cert;
  bool same_chain = false;
};
SoftKeyPem make_software_key(const Bytes& like, const std::string& pki_dir) {
  X509* tok_cert = nullptr;
  {
    const unsigned char* p = like.data();
    tok_cert = d2i_X509(nullptr, &p, static_cast<long>(like.size()));
  }
  EVP_PKEY* k = nullptr;
  EVP_PKEY* tok_pub = tok_cert ? X509_get0_pubkey(tok_cert) : nullptr;
  if (tok_pub && EVP_PKEY_get_base_id(tok_pub) == EVP_PKEY_EC) {
    char group[64] = "P-256";
    std::size_t glen = 0;
    EVP_PKEY_get_group_name(tok_pub, group, sizeof group, &glen);
    k = EVP_EC_gen(group);
  } else {
    k = EVP_RSA_gen(static_cast<unsigned>(tok_pub ? EVP_PKEY_get_bits(tok_pub) : 2048));
  }
  if (!k) die("cannot generate a software key: " + drain_openssl_errors());
  EVP_PKEY* ca_key = nullptr;
  X509* ca_cert = nullptr;
  if (!pki_dir.empty()) {
    auto kp = read_file(pki_dir + "/sub.key", 1 << 20);
    auto cp = read_file(pki_dir + "/sub.pem", 1 << 20);
    if (kp && cp) {
      BIO* kb = BIO_new_mem_buf(kp->data(), static_cast<int>(kp->size()));
      ca_key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
      BIO_free(kb);
      BIO* cb = BIO_new_mem_buf(cp->data(), static_cast<int>(cp->size()));
      ca_cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
      BIO_free(cb);
    }
  }
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 0x4243);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
  if (tok_cert) {
    X509_set_subject_name(x, X509_get_subject_name(tok_cert));
  } else {
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("hocba bench software key"), -1, -1, 0);
  }
  const bool issued = ca_key && ca_cert;
  X509_set_issuer_name(x, issued ? X509_get_subject_name(ca_cert) : X509_get_subject_name(x));
  X509_set_pubkey(x, k);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issued ? ca_cert : x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:FALSE"},
                            std::pair{NID_key_usage, "critical,digitalSignature,nonRepudiation"},
                            std::pair{NID_subject_key_identifier, "hash"},
                            std::pair{NID_authority_key_identifier, "keyid:always"}}) {
    if (nid == NID_authority_key_identifier && !issued) continue;
    if (X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value)) {
      X509_add_ext(x, ext, -1);
      X509_EXTENSION_free(ext);
    }
  }
  if (X509_sign(x, issued ? ca_key : k, EVP_sha256()) <= 0) die("cannot sign the software certificate: " + drain_openssl_errors());
  SoftKeyPem out;
  out.same_chain = issued;
  BIO* kb = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(kb, k, nullptr, nullptr, 0, nullptr, nullptr);
  out.key = bio_bytes(kb);
  BIO_free(kb);
  BIO* cb = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cb, x);
  out.cert = bio_bytes(cb);
  BIO_free(cb);
  X509_free(x);
  X509_free(tok_cert);
  X509_free(ca_cert);
  EVP_PKEY_free(ca_key);
  EVP_PKEY_free(k);
  return out;
}

void read_pin(const hsm::Pkcs11Uri& uri, const std::string& pin_file, Secret& pin, const std::string& what) {
  std::string err;
  if (!pin_file.empty()) {
    if (!Secret::from_file(pin_file, pin, err)) die(err);
  } else if (uri.pin_source) {
    auto path = uri.pin_file();
    if (!path) die(path.error().message);
    if (!Secret::from_file(*path, pin, err)) die(err);
  } else if (!Secret::from_terminal("PIN for " + what + ": ", pin, err)) {
    die("no PIN for " + what + ": give --pin-file FILE or pin-source in the URI (" + err + ")");
  }
}

hsm::Mechanism mechanism_for(const hsm::KeyRef& k) {
  return k.algorithm == hsm::KeyAlgorithm::ec ? hsm::Mechanism::ecdsa : hsm::Mechanism::rsa_pkcs1;
}

Phase raw_token_loop(hsm::Hsm& h, const hsm::KeyRef& key, const Secret& pin, int n) {
  hsm::SignRequest req;
  req.mechanism = mechanism_for(key);
  req.hash = hsm::HashAlg::sha256;
  req.digest = sha256("hocba-bench raw signing");
  req.pin = &pin;
  return measure(n, 5, [&] {
    auto sig = h.sign(key, req);
    if (!sig) die("token signing failed: " + sig.error().message);
  });
}

// Wraps a key to measure, inside the whole-PDF loop, the process CPU and wall time spent in its
// signatures (for a token key: the token's own time, as it happens between our work).
class TimedKey final : public signer::SigningKey {
 public:
  explicit TimedKey(signer::SigningKey& k) : k_(k) {}
  const Bytes& certificate() const override { return k_.certificate(); }
  std::vector<Bytes> ca_certificates() const override { return k_.ca_certificates(); }
  bool is_rsa() const override { return k_.is_rsa(); }
  std::size_t max_signature_size() const override { return k_.max_signature_size(); }
  Result<Bytes> sign_digest(signer::Hash h, signer::Scheme s, std::span<const std::uint8_t> d) override {
    auto w0 = std::chrono::steady_clock::now();
    double c0 = cpu_seconds();
    auto r = k_.sign_digest(h, s, d);
    cpu += cpu_seconds() - c0;
    wall += std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    ++calls;
    return r;
  }
  double cpu = 0, wall = 0;
  long calls = 0;

 private:
  signer::SigningKey& k_;
};

struct PdfRun {
  Phase phase;
  std::size_t signed_size = 0;
  double sign_cpu_ms = 0, sign_wall_ms = 0;  // per document, measured in the loop
};

PdfRun pdf_loop(const Bytes& pdf, signer::SigningKey& inner, int n, const std::string& what) {
  PdfRun r;
  TimedKey key(inner);
  signer::PadesOptions opts;
  opts.reason = "hocba-bench";
  opts.location = "Hà Nội";
  // Check once, untimed, that what we produce verifies.
  {
    auto out = signer::sign_pdf(pdf, key, opts);
    if (!out) die("sign_pdf (" + what + ") failed: " + out.error().message);
    r.signed_size = out->pdf.size();
    auto rep = signer::verify_pdf(out->pdf, {});
    if (!rep) die("verify_pdf (" + what + ") failed: " + rep.error().message);
    if (!rep->all_valid) die("the PDF signed with the " + what + " does not verify:\n" + signer::to_text(*rep));
  }
  r.phase = measure(n, 2, [&] {
    if (key.calls == 3) key.cpu = key.wall = 0;  // after the check and the warm-up
    auto out = signer::sign_pdf(pdf, key, opts);
    if (!out) die("sign_pdf (" + what + ") failed: " + out.error().message);
  });
  r.sign_cpu_ms = key.cpu * 1e3 / n;
  r.sign_wall_ms = key.wall * 1e3 / n;
  return r;
}

// Runs scripts/softhsm-provision.sh into a fresh temporary directory; returns the directory.
std::string provision() {
  char tmpl[] = "/tmp/hocba-bench-XXXXXX";
  if (!mkdtemp(tmpl)) die("cannot create a temporary directory");
  std::string dir = tmpl;
  g_tmpdir = dir;
  std::string script = std::string(HOCBA_SOURCE_DIR) + "/scripts/softhsm-provision.sh";
  std::string log = dir + "/provision.log";
  std::string cmd = "bash '" + script + "' '" + dir + "' >'" + log + "' 2>&1";
  std::fprintf(stderr, "hocba-bench: provisioning SoftHSM2 tokens in %s ...\n", dir.c_str());
  if (std::system(cmd.c_str()) != 0) {
    auto l = read_file(log, 1 << 20);
    die("provisioning failed (" + script + "):\n" + (l ? std::string(l->begin(), l->end()) : std::string()));
  }
  setenv("SOFTHSM2_CONF", (dir + "/softhsm2.conf").c_str(), 1);
  return dir;
}

int parse_count(const char* s, const char* opt) {
  char* end = nullptr;
  long v = std::strtol(s, &end, 10);
  if (!end || *end || v < 1 || v > 10000000) die(std::string(opt) + " needs a positive integer");
  return static_cast<int>(v);
}

std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    o += c;
  }
  return o + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  hocba::log::init("warn");
  int raw_n = 1000, pdf_n = 300;
  std::optional<int> raw_opt, pdf_opt;
  std::string pdf_path = std::string(HOCBA_SOURCE_DIR) + "/tests/data/pdf/cairo.pdf";
  std::string key_uri, pin_file, ec_uri, ec_pin_file, module;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--iterations") raw_n = pdf_n = parse_count(value(), "--iterations");
    else if (a == "--raw-iterations") raw_opt = parse_count(value(), "--raw-iterations");
    else if (a == "--pdf-iterations") pdf_opt = parse_count(value(), "--pdf-iterations");
    else if (a == "--pdf") pdf_path = value();
    else if (a == "--key") key_uri = value();
    else if (a == "--pin-file") pin_file = value();
    else if (a == "--ec-key") ec_uri = value();
    else if (a == "--ec-pin-file") ec_pin_file = value();
    else if (a == "--module") module = value();
    else if (a == "--json") json = true;
    else if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "hocba-bench: unknown argument %s\n%s", a.c_str(), kUsage);
      return 2;
    }
  }
  if (raw_opt) raw_n = *raw_opt;
  if (pdf_opt) pdf_n = *pdf_opt;

  auto pdf = read_file(pdf_path);
  if (!pdf) die(pdf.error().message);

  std::string dir;
  if (key_uri.empty()) {
    dir = provision();
    key_uri = kDefaultKey;
    if (pin_file.empty()) pin_file = dir + "/pins/GVCN-3A.pin";
    if (ec_uri.empty()) {
      ec_uri = kDefaultEcKey;
      if (ec_pin_file.empty()) ec_pin_file = dir + "/pins/CON-DAU.pin";
    }
  }

  auto uri = hsm::Pkcs11Uri::parse(key_uri);
  if (!uri) die(uri.error().message);
  std::optional<hsm::Pkcs11Uri> ec_parsed;
  if (!ec_uri.empty()) {
    auto e = hsm::Pkcs11Uri::parse(ec_uri);
    if (!e) die(e.error().message);
    ec_parsed = *e;
  }

  // The software key for the cross-check: made now (before the Hsm exists, see make_software_key)
  // when we provisioned the tokens ourselves; else later, self-signed, like the token's certificate.
  std::optional<SoftKeyPem> soft_pem;
  if (!dir.empty()) {
    auto like = read_file(dir + "/pki/gvcn-3a.der", 1 << 20);
    if (!like) die(like.error().message);
    soft_pem = make_software_key(*like, dir + "/pki");
  }

  double t_start = cpu_seconds();
  auto wall_start = std::chrono::steady_clock::now();
  int rc = 0;
  {
    hsm::Hsm h;
    if (!uri->module_path || !module.empty())
      if (auto st = h.load_module(module.empty() ? kDefaultModule : module); !st) die(st.error().message);
    auto key = h.find_key(*uri);
    if (!key) die(key.error().message);
    Secret pin;
    read_pin(*uri, pin_file, pin, "key " + key_uri);

    std::optional<hsm::KeyRef> ec_key;
    Secret ec_pin;
    if (ec_parsed) {
      auto k = h.find_key(*ec_parsed);
      if (!k) die(k.error().message);
      ec_key = *k;
      read_pin(*ec_parsed, ec_pin_file, ec_pin, "key " + ec_uri);
    }
    const std::string where = module_name(key->module);

    // 1. raw token signing
    Phase raw = raw_token_loop(h, *key, pin, raw_n);
    std::optional<Phase> raw_ec;
    if (ec_key) raw_ec = raw_token_loop(h, *ec_key, ec_pin, raw_n);

    const long rss_after_raw = peak_rss_kib();

    // 2. whole-PDF signing with the token key
    signer::TokenSignOptions topts;
    topts.pin = &pin;
    auto tk = signer::token_key(h, *key, topts);
    PdfRun tok = pdf_loop(*pdf, *tk, pdf_n, "token key");
    const long rss_after_token_pdf = peak_rss_kib();

    // 3'. the same with a software key: a cross-check of our own CPU per document
    if (!soft_pem) soft_pem = make_software_key(key->certificate, "");
    auto sk = signer::software_key(soft_pem->key, soft_pem->cert, key->ca_certs);
    if (!sk) die("cannot load the generated software key");
    Bytes digest = sha256("hocba-bench software signing");
    const signer::Scheme scheme = sk->is_rsa() ? signer::Scheme::rsa_pkcs1 : signer::Scheme::ecdsa;
    Phase soft_raw = measure(raw_n, 5, [&] {
      auto s = sk->sign_digest(signer::Hash::sha256, scheme, digest);
      if (!s) die("software signing failed: " + s.error().message);
    });
    PdfRun soft = pdf_loop(*pdf, *sk, pdf_n, "software key");

    const double own_cpu_ms = tok.phase.cpu_ms() - raw.cpu_ms();
    const double soft_own_cpu_ms = soft.phase.cpu_ms() - soft_raw.cpu_ms();
    const long rss = peak_rss_kib();
    const std::string alg = key_name(*key);

    std::printf("hocba-bench: %s (%zu bytes), %d raw signatures, %d PDFs per loop, %ld CPU(s)\n", pdf_path.c_str(),
                pdf->size(), raw_n, pdf_n, sysconf(_SC_NPROCESSORS_ONLN));
    std::printf("raw token signing (%s, %s): %.1f signatures/s (%.3f ms wall, %.3f ms CPU per signature)\n", alg.c_str(),
                where.c_str(), raw.per_s(), raw.wall_ms(), raw.cpu_ms());
    if (raw_ec)
      std::printf("raw token signing (%s, %s): %.1f signatures/s (%.3f ms wall, %.3f ms CPU per signature)\n",
                  key_name(*ec_key).c_str(), module_name(ec_key->module).c_str(), raw_ec->per_s(), raw_ec->wall_ms(),
                  raw_ec->cpu_ms());
    std::printf("whole-PDF signing (PAdES B-B, %s token key): %.1f documents/s (%.3f ms wall per document, signed size %zu bytes)\n",
                alg.c_str(), tok.phase.per_s(), tok.phase.wall_ms(), tok.signed_size);
    std::printf("process CPU per signed document (token key): %.3f ms, of which token signing %.3f ms\n", tok.phase.cpu_ms(),
                raw.cpu_ms());
    std::printf("our CPU per signed document, excluding the token: %.3f ms\n", own_cpu_ms);
    std::printf("  (token signing as measured inside the PDF loop: %.3f ms CPU, %.3f ms wall per document -> %.3f ms ours)\n",
                tok.sign_cpu_ms, tok.sign_wall_ms, tok.phase.cpu_ms() - tok.sign_cpu_ms);
    std::printf("whole-PDF signing (PAdES B-B, %s software key, %s): %.1f documents/s (%.3f ms wall, %.3f ms CPU per document, signed size %zu bytes)\n",
                alg.c_str(), soft_pem->same_chain ? "same subject and chain" : "self-signed", soft.phase.per_s(),
                soft.phase.wall_ms(), soft.phase.cpu_ms(), soft.signed_size);
    std::printf("our CPU per signed document, software key, excluding its signature (%.3f ms): %.3f ms\n", soft_raw.cpu_ms(),
                soft_own_cpu_ms);
    std::printf("peak RSS: %.1f MiB (%.1f MiB after the raw loops, %.1f MiB after the token PDF loop)\n", rss / 1024.0,
                rss_after_raw / 1024.0, rss_after_token_pdf / 1024.0);

    if (json) {
      std::string j = "{";
      auto add = [&](const std::string& k, const std::string& v) {
        if (j.size() > 1) j += ",";
        j += json_str(k) + ":" + v;
      };
      auto num = [](double v) {
        char b[64];
        std::snprintf(b, sizeof b, "%.3f", v);
        return std::string(b);
      };
      add("date", json_str([] {
            char b[32];
            std::time_t t = std::time(nullptr);
            std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
            return std::string(b);
          }()));
      add("cpus", std::to_string(sysconf(_SC_NPROCESSORS_ONLN)));
      add("pdf", json_str(pdf_path));
      add("pdf_bytes", std::to_string(pdf->size()));
      add("signed_pdf_bytes", std::to_string(tok.signed_size));
      add("module", json_str(key->module));
      add("key", json_str(key->uri));
      add("key_algorithm", json_str(alg));
      add("raw_iterations", std::to_string(raw_n));
      add("pdf_iterations", std::to_string(pdf_n));
      add("raw_signatures_per_s", num(raw.per_s()));
      add("raw_wall_ms_per_signature", num(raw.wall_ms()));
      add("raw_cpu_ms_per_signature", num(raw.cpu_ms()));
      if (raw_ec) {
        add("raw_ec_key_algorithm", json_str(key_name(*ec_key)));
        add("raw_ec_signatures_per_s", num(raw_ec->per_s()));
        add("raw_ec_wall_ms_per_signature", num(raw_ec->wall_ms()));
        add("raw_ec_cpu_ms_per_signature", num(raw_ec->cpu_ms()));
      }
      add("pdf_documents_per_s", num(tok.phase.per_s()));
      add("pdf_wall_ms_per_document", num(tok.phase.wall_ms()));
      add("pdf_process_cpu_ms_per_document", num(tok.phase.cpu_ms()));
      add("pdf_own_cpu_ms_per_document", num(own_cpu_ms));
      add("pdf_in_loop_token_cpu_ms_per_document", num(tok.sign_cpu_ms));
      add("pdf_in_loop_token_wall_ms_per_document", num(tok.sign_wall_ms));
      add("software_key_same_chain", soft_pem->same_chain ? "true" : "false");
      add("software_signed_pdf_bytes", std::to_string(soft.signed_size));
      add("software_pdf_documents_per_s", num(soft.phase.per_s()));
      add("software_pdf_wall_ms_per_document", num(soft.phase.wall_ms()));
      add("software_pdf_cpu_ms_per_document", num(soft.phase.cpu_ms()));
      add("software_sign_cpu_ms", num(soft_raw.cpu_ms()));
      add("software_pdf_own_cpu_ms_per_document", num(soft_own_cpu_ms));
      add("peak_rss_kib", std::to_string(rss));
      add("peak_rss_kib_after_raw", std::to_string(rss_after_raw));
      add("peak_rss_kib_after_token_pdf", std::to_string(rss_after_token_pdf));
      std::printf("%s}\n", j.c_str());
    }
    if (own_cpu_ms <= 0 || tok.phase.per_s() >= raw.per_s()) {
      std::fprintf(stderr, "hocba-bench: warning: implausible figures (noisy machine? raise --iterations)\n");
      rc = 3;
    }
    pin.clear();
    ec_pin.clear();
    h.shutdown();
  }
  std::fprintf(stderr, "hocba-bench: done in %.1f s wall, %.1f s CPU\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count(), cpu_seconds() - t_start);
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return rc;
}
