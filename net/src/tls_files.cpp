// hocbad's TLS key and certificate: load and check them, or make a self-signed pair on first start.
#include "hocba/net/tls_files.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "hocba/common/bytes.h"
#include "hocba/common/ossl.h"

namespace hocba::net {
namespace {

using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, decltype(&GENERAL_NAME_free)>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, decltype(&GENERAL_NAMES_free)>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, decltype(&X509_EXTENSION_free)>;

constexpr const char* kDefaultName = "hocba-signer";
constexpr int kValidityDays = 825;
constexpr std::size_t kMaxPemSize = std::size_t(1) << 20;

// Never asks for a pass phrase: an encrypted key simply fails to load (no prompt on a terminal).
int no_passphrase(char*, int, int, void*) { return 0; }

// 1: exists, 0: does not exist; an error for anything else (e.g. a folder we may not search).
Result<bool> file_exists(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT) return false;
  return make_error(Errc::io, "cannot examine " + path + ": " + std::strerror(errno));
}

// mkdir -p of the folder holding `path`; folders that already exist are left as they are.
Status make_parent_dirs(const std::string& path, unsigned mode) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return {};
  std::string dir = path.substr(0, slash);
  for (std::size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    std::string part = dir.substr(0, pos);
    if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST)
      return make_error(Errc::io, "cannot create the folder " + part + ": " + std::strerror(errno));
  }
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return make_error(Errc::io, dir + " is not a folder");
  return {};
}

Result<TlsFiles> load_and_check(const std::string& cert_path, const std::string& key_path) {
  auto cert_pem = read_file(cert_path, kMaxPemSize);
  if (!cert_pem) return cert_pem.error();
  BioPtr cbio(BIO_new_mem_buf(cert_pem->data(), static_cast<int>(cert_pem->size())), BIO_free);
  X509Ptr cert(cbio ? PEM_read_bio_X509(cbio.get(), nullptr, no_passphrase, nullptr) : nullptr, X509_free);
  if (!cert) return openssl_error(cert_path + " does not hold a PEM certificate");

  auto key_pem = read_file(key_path, kMaxPemSize);
  if (!key_pem) return key_pem.error();
  BioPtr kbio(BIO_new_mem_buf(key_pem->data(), static_cast<int>(key_pem->size())), BIO_free);
  EvpPkeyPtr key(kbio ? PEM_read_bio_PrivateKey(kbio.get(), nullptr, no_passphrase, nullptr) : nullptr,
                 EVP_PKEY_free);
  kbio.reset();
  OPENSSL_cleanse(key_pem->data(), key_pem->size());
  if (!key) return openssl_error(key_path + " does not hold an unencrypted PEM private key");

  const EVP_PKEY* pub = X509_get0_pubkey(cert.get());
  if (!pub || EVP_PKEY_eq(pub, key.get()) != 1) {
    drain_openssl_errors();
    return make_error(Errc::crypto, key_path + " is not the private key of the certificate " + cert_path);
  }
  Bytes der = x509_to_der(cert.get());
  if (der.empty()) return openssl_error("cannot encode the certificate " + cert_path);
  return TlsFiles{cert_path, key_path, certificate_fingerprint_sha256(der), false};
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

bool valid_dns_name(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '.' || c == '_' || c == '*';
    if (!ok) return false;
  }
  return true;
}

// One GENERAL_NAME of `type` (GEN_IPADD: raw address bytes, GEN_DNS: the name in ASCII).
GeneralNamePtr general_name(int type, const void* data, std::size_t size) {
  GeneralNamePtr gn(GENERAL_NAME_new(), GENERAL_NAME_free);
  ASN1_STRING* s = ASN1_STRING_type_new(type == GEN_IPADD ? V_ASN1_OCTET_STRING : V_ASN1_IA5STRING);
  if (!gn || !s || !ASN1_STRING_set(s, data, static_cast<int>(size))) {
    ASN1_STRING_free(s);
    return {nullptr, GENERAL_NAME_free};
  }
  GENERAL_NAME_set0_value(gn.get(), type, s);
  return gn;
}

// The subjectAltName entries: every host name (IP when it is an address, DNS otherwise), then
// DNS:localhost and IP:127.0.0.1, each once. Built as GENERAL_NAMEs, not from an OpenSSL config
// string, so that no host name can smuggle in further entries.
Result<GeneralNamesPtr> subject_alt_names(const std::vector<std::string>& host_names) {
  GeneralNamesPtr names(GENERAL_NAMES_new(), GENERAL_NAMES_free);
  if (!names) return openssl_error("cannot allocate subjectAltName");
  std::vector<std::string> dns;
  std::vector<Bytes> ips;
  auto add = [&](const std::string& host) -> Status {
    std::string h = host;
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    unsigned char addr[16];
    Bytes ip;
    if (inet_pton(AF_INET, h.c_str(), addr) == 1) ip.assign(addr, addr + 4);
    else if (inet_pton(AF_INET6, h.c_str(), addr) == 1) ip.assign(addr, addr + 16);
    GeneralNamePtr gn{nullptr, GENERAL_NAME_free};
    if (!ip.empty()) {
      for (const auto& seen : ips)
        if (seen == ip) return {};
      gn = general_name(GEN_IPADD, ip.data(), ip.size());
      ips.push_back(ip);
    } else {
      if (!valid_dns_name(h))
        return make_error(Errc::invalid_argument, "'" + host + "' is neither an IP address nor a DNS name");
      for (const auto& seen : dns)
        if (iequals(seen, h)) return {};
      gn = general_name(GEN_DNS, h.data(), h.size());
      dns.push_back(h);
    }
    if (!gn || !sk_GENERAL_NAME_push(names.get(), gn.get())) return openssl_error("cannot encode the name " + host);
    gn.release();  // now owned by `names`
    return {};
  };
  for (const auto& h : host_names)
    if (auto st = add(h); !st) return st.error();
  for (const char* h : {"localhost", "127.0.0.1"})
    if (auto st = add(h); !st) return st.error();
  return names;
}

Status add_ext(X509* x, X509V3_CTX* ctx, int nid, const char* value) {
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value), X509_EXTENSION_free);
  if (!ext || !X509_add_ext(x, ext.get(), -1)) return openssl_error(std::string("cannot add the extension ") + value);
  return {};
}

struct NewPair {
  X509Ptr cert{nullptr, X509_free};
  EvpPkeyPtr key{nullptr, EVP_PKEY_free};
};

Result<NewPair> make_self_signed(const std::vector<std::string>& host_names) {
  for (const auto& h : host_names)
    if (h.empty()) return make_error(Errc::invalid_argument, "an empty host name was given for the TLS certificate");
  NewPair p;
  p.key.reset(EVP_EC_gen("P-256"));
  if (!p.key) return openssl_error("cannot generate an EC P-256 key");
  p.cert.reset(X509_new());
  X509* x = p.cert.get();
  if (!x || !X509_set_version(x, X509_VERSION_3)) return openssl_error("cannot make a certificate");

  // A positive serial of exactly 16 bytes (top bit clear, next bit set) with 126 random bits.
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return openssl_error("cannot get random bytes");
  serial[0] = static_cast<unsigned char>((serial[0] & 0x7f) | 0x40);
  BignumPtr bn(BN_bin2bn(serial, sizeof serial, nullptr), BN_free);
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(x))) return openssl_error("cannot set the serial");

  if (!X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
      !X509_time_adj_ex(X509_getm_notAfter(x), kValidityDays, 0, nullptr))
    return openssl_error("cannot set the validity");

  // CN is at most 64 characters (RFC 5280 ub-common-name); a longer host name lives in the SAN only.
  std::string cn = host_names.empty() || host_names[0].size() > 64 ? kDefaultName : host_names[0];
  X509_NAME* name = X509_get_subject_name(x);
  auto add_rdn = [&](const char* field, const std::string& v) {
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(v.data()),
                                      static_cast<int>(v.size()), -1, 0) == 1;
  };
  if (!add_rdn("CN", cn) || !add_rdn("O", kDefaultName) || !X509_set_issuer_name(x, name))
    return openssl_error("cannot set the subject");
  if (!X509_set_pubkey(x, p.key.get())) return openssl_error("cannot set the public key");

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:FALSE"},
                            std::pair{NID_key_usage, "critical,digitalSignature"},
                            std::pair{NID_ext_key_usage, "serverAuth"}}) {
    if (auto st = add_ext(x, &ctx, nid, value); !st) return st.error();
  }
  auto san = subject_alt_names(host_names);
  if (!san) return san.error();
  if (X509_add1_ext_i2d(x, NID_subject_alt_name, san->get(), 0, X509V3_ADD_APPEND) != 1)
    return openssl_error("cannot add subjectAltName");

  if (X509_sign(x, p.key.get(), EVP_sha256()) <= 0) return openssl_error("cannot sign the certificate");
  return p;
}

// PEM of the new key in a BIO that wipes its buffer when freed.
Status write_key_pem(const std::string& key_path, EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_secmem()), BIO_free);
  if (!bio || !PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr))
    return openssl_error("cannot encode the TLS key");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return write_file_atomic(key_path, data, static_cast<std::size_t>(n), 0600);
}

Status write_cert_pem(const std::string& cert_path, X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || !PEM_write_bio_X509(bio.get(), cert)) return openssl_error("cannot encode the TLS certificate");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return write_file_atomic(cert_path, data, static_cast<std::size_t>(n), 0644);
}

}  // namespace

std::string certificate_fingerprint_sha256(const Bytes& der) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(der.data(), der.size(), md, &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed: " + drain_openssl_errors());
  std::string hex = to_hex({md, len}, true);
  std::string out;
  out.reserve(hex.size() / 2 * 3);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    if (i) out += ':';
    out.append(hex, i, 2);
  }
  return out;
}

Result<TlsFiles> ensure_tls_files(const std::string& cert_path, const std::string& key_path,
                                  const std::vector<std::string>& host_names) {
  auto have_cert = file_exists(cert_path);
  if (!have_cert) return have_cert.error();
  auto have_key = file_exists(key_path);
  if (!have_key) return have_key.error();
  if (*have_cert && *have_key) return load_and_check(cert_path, key_path);
  if (*have_cert != *have_key) {
    const std::string& there = *have_cert ? cert_path : key_path;
    const std::string& missing = *have_cert ? key_path : cert_path;
    return make_error(Errc::invalid_argument, there + " exists but " + missing +
                                                  " does not: put the missing file back, or remove " + there +
                                                  " to make a new self-signed pair");
  }

  auto pair = make_self_signed(host_names);
  if (!pair) return pair.error();
  Bytes der = x509_to_der(pair->cert.get());
  if (der.empty()) return openssl_error("cannot encode the TLS certificate");

  if (auto st = make_parent_dirs(key_path, 0700); !st) return st.error();
  if (auto st = make_parent_dirs(cert_path, 0755); !st) return st.error();
  if (auto st = write_key_pem(key_path, pair->key.get()); !st) return st.error();
  if (auto st = write_cert_pem(cert_path, pair->cert.get()); !st) {
    ::unlink(key_path.c_str());  // never leave a key without its certificate
    return st.error();
  }
  return TlsFiles{cert_path, key_path, certificate_fingerprint_sha256(der), true};
}

}  // namespace hocba::net
