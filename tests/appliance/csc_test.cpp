// The CSC API (v1 under /csc/v1/, v2 under /csc/v2/) as a remote-signing client speaks it, against
// hocbad on 127.0.0.1 with the SoftHSM2 test tokens. Signatures are checked with OpenSSL against the
// certificates credentials/info returns, and the chain against the test root.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <boost/json.hpp>
#include <memory>
#include <thread>
#include <tuple>

#include "appliance.h"
#include "hocba/hsm/hsm.h"

namespace hocba::test {
namespace {

namespace json = boost::json;

constexpr const char* kSha256 = "2.16.840.1.101.3.4.2.1";
constexpr const char* kSha384 = "2.16.840.1.101.3.4.2.2";
constexpr const char* kSha512 = "2.16.840.1.101.3.4.2.3";
constexpr const char* kRsa = "1.2.840.113549.1.1.1";
constexpr const char* kRsaPss = "1.2.840.113549.1.1.10";
constexpr const char* kEcdsaSha256 = "1.2.840.10045.4.3.2";
constexpr const char* kEcPublicKey = "1.2.840.10045.2.1";

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)>;
using StorePtr = std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)>;
struct StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};
using StackPtr = std::unique_ptr<STACK_OF(X509), StackFree>;

std::string b64(const std::string& raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(raw.data()),
                          static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string unb64(std::string_view s) {
  std::string out(s.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(s.data()),
                          static_cast<int>(s.size()));
  if (n < 0) throw std::runtime_error("bad base64 from the server: " + std::string(s));
  std::size_t pad = 0;
  while (pad < s.size() && s[s.size() - 1 - pad] == '=') ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::string digest(const EVP_MD* md, const std::string& data) {
  unsigned char h[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), h, &len, md, nullptr);
  return std::string(reinterpret_cast<char*>(h), len);
}

// RSASSA-PSS-params (RFC 4055) for SHA-256 (1), SHA-384 (2) or SHA-512 (3): MGF1 with the same hash,
// salt as long as the hash; `salt` overrides the salt length.
std::string pss_params(int sha, int salt = 0) {
  static const int lengths[] = {0, 32, 48, 64};
  std::string h = {0x30, 0x0d, 0x06, 0x09, 0x60, static_cast<char>(0x86), 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, static_cast<char>(sha), 0x05, 0x00};
  std::string mgf = std::string{0x30, 0x1a, 0x06, 0x09, 0x2a, static_cast<char>(0x86), 0x48, static_cast<char>(0x86), static_cast<char>(0xf7),
                                0x0d, 0x01, 0x01, 0x08} + h;
  std::string body = std::string{static_cast<char>(0xa0), 0x0f} + h + std::string{static_cast<char>(0xa1), 0x1c} + mgf +
                     std::string{static_cast<char>(0xa2), 0x03, 0x02, 0x01, static_cast<char>(salt ? salt : lengths[sha])};
  return std::string{0x30, static_cast<char>(body.size())} + body;
}

X509Ptr cert(const std::string& b64_der) {
  std::string der = unb64(b64_der);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())), X509_free);
  if (!x) throw std::runtime_error("credentials/info returned a certificate that does not parse");
  return x;
}

enum class Scheme { pkcs1, pss, ecdsa };

// Does `sig` verify over `hash` with the public key of the certificate (base64 DER)?
bool verifies(const std::string& cert_b64, Scheme scheme, const EVP_MD* md, const std::string& hash, const std::string& sig) {
  X509Ptr x = cert(cert_b64);
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(X509_get0_pubkey(x.get()), nullptr), EVP_PKEY_CTX_free);
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_signature_md(ctx.get(), md) != 1) return false;
  if (scheme == Scheme::pkcs1 && EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1) return false;
  if (scheme == Scheme::pss && (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PSS_PADDING) != 1 ||
                                EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) != 1 ||
                                EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), EVP_MD_get_size(md)) != 1))
    return false;
  return EVP_PKEY_verify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                         reinterpret_cast<const unsigned char*>(hash.data()), hash.size()) == 1;
}

// The chain (end entity first) verifies up to the test root, as a client would check it.
void expect_chain_to_root(const json::array& certs, const std::string& root_pem_path) {
  ASSERT_GE(certs.size(), 3u) << "end entity, issuing CA, root";
  StorePtr store(X509_STORE_new(), X509_STORE_free);
  ASSERT_EQ(X509_STORE_load_file(store.get(), root_pem_path.c_str()), 1);
  StackPtr untrusted(sk_X509_new_null());
  std::vector<X509Ptr> keep;
  for (std::size_t i = 1; i < certs.size(); ++i) {
    keep.push_back(cert(std::string(certs[i].as_string())));
    sk_X509_push(untrusted.get(), keep.back().get());
  }
  X509Ptr leaf = cert(std::string(certs[0].as_string()));
  StoreCtxPtr ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
  ASSERT_EQ(X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get()), 1);
  EXPECT_EQ(X509_verify_cert(ctx.get()), 1) << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
  // The last one is the root itself, the first the signer (not a CA).
  X509Ptr last = cert(std::string(certs.back().as_string()));
  EXPECT_EQ(X509_check_issued(last.get(), last.get()), X509_V_OK);
}

std::string s(const json::value& v) { return std::string(v.as_string()); }

bool contains(const json::array& a, const std::string& what) {
  for (auto& e : a)
    if (e.is_string() && e.as_string() == what) return true;
  return false;
}

// The school: a homeroom teacher with GVCN-3A, the principal with HIEU-TRUONG, the seal CON-DAU, a
// subject teacher without a key, an admin and a viewer.
struct School {
  Appliance& a;
  std::string admin;
  std::int64_t teacher_key = 0, principal_key = 0, seal_key = 0;

  explicit School(Appliance& app) : a(app) {
    a.add_user("admin", "admin");
    a.add_user("gvcn.3a", "homeroom_teacher");
    a.add_user("ht", "principal");
    a.add_user("gv.toan", "subject_teacher");
    a.add_user("xem", "viewer");
    admin = a.login("admin");
    teacher_key = a.bind_key(admin, "pkcs11:token=GVCN-3A;object=gvcn-3a", "gvcn.3a");
    principal_key = a.bind_key(admin, "pkcs11:token=HIEU-TRUONG;object=hieu-truong", "ht");
    seal_key = a.bind_key(admin, "pkcs11:token=CON-DAU;object=con-dau", "");
  }

  static std::string cred(std::int64_t key) { return "key-" + std::to_string(key); }

  net::HttpExchange post(const std::string& ver, const std::string& method, const std::string& token, const json::object& body = {}) {
    return a.call("POST", "/csc/" + ver + "/" + method, token, json::serialize(body));
  }
  json::object ok(const std::string& ver, const std::string& method, const std::string& token, const json::object& body = {}) {
    auto r = post(ver, method, token, body);
    if (r.status != 200) throw std::runtime_error(ver + "/" + method + ": HTTP " + std::to_string(r.status) + ": " + r.body);
    return json::parse(r.body).as_object();
  }

  // auth/login with HTTP Basic, as CSC specifies.
  net::HttpExchange basic_login(const std::string& ver, const std::string& user, const std::string& password) {
    return a.call("POST", "/csc/" + ver + "/auth/login", "", "{}", {{"Authorization", "Basic " + b64(user + ":" + password)}});
  }
  std::string login(const std::string& ver, const std::string& user) {
    auto r = basic_login(ver, user, "password-" + user);
    if (r.status != 200) throw std::runtime_error("csc login " + user + ": " + r.body);
    auto o = json::parse(r.body).as_object();
    EXPECT_GT(o.at("expires_in").as_int64(), 0);
    return s(o.at("access_token"));
  }

  // credentials/authorize in the version's own form; the SAD.
  std::string authorize(const std::string& ver, const std::string& token, std::int64_t key, const std::vector<std::string>& hashes,
                        const std::string& pin, const char* hash_oid = kSha256) {
    auto r = post(ver, "credentials/authorize", token, authorize_body(ver, key, hashes, pin, hash_oid));
    if (r.status != 200) throw std::runtime_error(ver + " authorize: HTTP " + std::to_string(r.status) + ": " + r.body);
    auto o = json::parse(r.body).as_object();
    EXPECT_EQ(o.at("expiresIn").as_int64(), 300);
    return s(o.at("SAD"));
  }
  static json::object authorize_body(const std::string& ver, std::int64_t key, const std::vector<std::string>& hashes, const std::string& pin,
                                     const char* hash_oid = kSha256) {
    json::array h;
    for (auto& x : hashes) h.push_back(json::string(b64(x)));
    json::object b{{"credentialID", cred(key)}, {"numSignatures", hashes.size()}};
    if (ver == "v1") {
      b["hash"] = h;
      b["PIN"] = pin;
    } else {
      b["hashes"] = h;
      b["hashAlgorithmOID"] = hash_oid;
      b["authData"] = json::array{json::object{{"id", "PIN"}, {"value", pin}}};
    }
    return b;
  }
  static json::object sign_body(const std::string& ver, std::int64_t key, const std::string& sad, const std::vector<std::string>& hashes,
                                const char* sign_algo, const char* hash_oid, const std::string& params = "") {
    json::array h;
    for (auto& x : hashes) h.push_back(json::string(b64(x)));
    json::object b{{"credentialID", cred(key)}, {"SAD", sad}, {"signAlgo", sign_algo}};
    b[ver == "v1" ? "hash" : "hashes"] = h;
    if (hash_oid) b[ver == "v1" ? "hashAlgo" : "hashAlgorithmOID"] = hash_oid;
    if (!params.empty()) b["signAlgoParams"] = b64(params);
    return b;
  }
  std::vector<std::string> sign(const std::string& ver, const std::string& token, std::int64_t key, const std::string& sad,
                                const std::vector<std::string>& hashes, const char* sign_algo, const char* hash_oid,
                                const std::string& params = "") {
    auto o = ok(ver, "signatures/signHash", token, sign_body(ver, key, sad, hashes, sign_algo, hash_oid, params));
    std::vector<std::string> out;
    for (auto& sig : o.at("signatures").as_array()) out.push_back(unb64(sig.as_string()));
    EXPECT_EQ(out.size(), hashes.size());
    return out;
  }
};

// A CSC error: the status, error "invalid_request" (or `code`), and a description containing `what`.
void expect_error(const net::HttpExchange& r, int status, const std::string& what, const std::string& code = "invalid_request") {
  EXPECT_EQ(r.status, status) << r.body;
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  ASSERT_FALSE(ec) << r.body;
  ASSERT_TRUE(v.is_object() && v.as_object().contains("error") && v.at("error").is_string()) << r.body;
  EXPECT_EQ(v.at("error").as_string(), code) << r.body;
  EXPECT_NE(std::string(v.at("error_description").as_string()).find(what), std::string::npos) << r.body;
}

// A school that allows the seal through CSC (csc.allow_seal; off by default).
ApplianceOptions seal_allowed() {
  ApplianceOptions o;
  o.config_toml = "[csc]\nallow_seal = true\n";
  return o;
}

TEST(Csc, ClientsOfBothVersionsSignAndTheSignaturesVerify) {
  Appliance a(seal_allowed());
  School sc(a);
  std::string root = a.dir() + "/softhsm/pki/root.pem";

  // info: anonymous, in each version's shape.
  auto i1 = sc.ok("v1", "info", "");
  EXPECT_EQ(i1.at("specs").as_string(), "1.0.4.0");
  EXPECT_EQ(i1.at("region").as_string(), "VN");
  EXPECT_TRUE(contains(i1.at("authType").as_array(), "basic"));
  EXPECT_TRUE(contains(i1.at("methods").as_array(), "signatures/signHash"));
  EXPECT_FALSE(i1.contains("signAlgorithms"));
  auto i2 = sc.ok("v2", "info", "");
  EXPECT_EQ(std::string_view(i2.at("specs").as_string()).substr(0, 2), "2.");
  EXPECT_TRUE(contains(i2.at("methods").as_array(), "credentials/authorize"));
  EXPECT_TRUE(contains(i2.at("signAlgorithms").at("algos").as_array(), kRsaPss));

  // auth/login with HTTP Basic; a wrong password is a CSC error (and counted by the throttling).
  expect_error(sc.basic_login("v2", "gvcn.3a", "wrong-password"), 401, "wrong username", "invalid_grant");
  expect_error(a.call("POST", "/csc/v2/auth/login", "", "{}"), 401, "Basic");
  std::string teacher1 = sc.login("v1", "gvcn.3a"), teacher2 = sc.login("v2", "gvcn.3a");
  std::string principal = sc.login("v2", "ht");

  // credentials/list: one's own keys; the principal also sees the seal (the school allows it here).
  auto l1 = sc.ok("v1", "credentials/list", teacher1);
  ASSERT_EQ(l1.at("credentialIDs").as_array().size(), 1u) << json::serialize(l1);
  EXPECT_EQ(l1.at("credentialIDs").at(0).as_string(), School::cred(sc.teacher_key));
  auto lp = sc.ok("v2", "credentials/list", principal, {{"credentialInfo", true}, {"certificates", "single"}});
  auto& ids = lp.at("credentialIDs").as_array();
  EXPECT_EQ(ids.size(), 2u) << json::serialize(lp);
  EXPECT_TRUE(contains(ids, School::cred(sc.principal_key)));
  EXPECT_TRUE(contains(ids, School::cred(sc.seal_key)));
  EXPECT_EQ(lp.at("credentialInfos").as_array().size(), 2u);

  // --- the homeroom teacher, CSC v1: RSA PKCS#1 v1.5 with "hash" and "PIN" ---------------------------
  auto info1 = sc.ok("v1", "credentials/info", teacher1, {{"credentialID", School::cred(sc.teacher_key)}, {"certificates", "chain"}, {"certInfo", true}});
  EXPECT_EQ(info1.at("authMode").as_string(), "explicit");
  EXPECT_EQ(info1.at("PIN").at("presence").as_string(), "true");
  EXPECT_EQ(info1.at("PIN").at("format").as_string(), "N");
  EXPECT_EQ(info1.at("key").at("status").as_string(), "enabled");
  EXPECT_EQ(info1.at("key").at("len").as_int64(), 2048);
  EXPECT_TRUE(contains(info1.at("key").at("algo").as_array(), kRsa));
  EXPECT_EQ(info1.at("cert").at("status").as_string(), "valid");
  EXPECT_NE(s(info1.at("cert").at("subjectDN")).find("CN=Võ Tuấn Cường"), std::string::npos) << json::serialize(info1);
  EXPECT_NE(s(info1.at("cert").at("issuerDN")).find("CN=hocba Test Issuing CA"), std::string::npos);
  EXPECT_EQ(s(info1.at("cert").at("validFrom")).size(), 15u);  // YYYYMMDDHHMMSSZ
  EXPECT_FALSE(s(info1.at("cert").at("serialNumber")).empty());
  auto& chain1 = info1.at("cert").at("certificates").as_array();
  expect_chain_to_root(chain1, root);
  std::string teacher_cert = s(chain1.at(0));

  std::string h1 = digest(EVP_sha256(), "học bạ 3A — em Hà"), h2 = digest(EVP_sha256(), "học bạ 3A — em Lan");
  std::string sad1 = sc.authorize("v1", teacher1, sc.teacher_key, {h1, h2}, a.pin("GVCN-3A"));
  auto sigs1 = sc.sign("v1", teacher1, sc.teacher_key, sad1, {h1, h2}, kRsa, kSha256);
  ASSERT_EQ(sigs1.size(), 2u);
  EXPECT_TRUE(verifies(teacher_cert, Scheme::pkcs1, EVP_sha256(), h1, sigs1[0]));
  EXPECT_TRUE(verifies(teacher_cert, Scheme::pkcs1, EVP_sha256(), h2, sigs1[1]));
  EXPECT_FALSE(verifies(teacher_cert, Scheme::pkcs1, EVP_sha256(), h2, sigs1[0]));  // the check can fail

  // --- the same teacher, CSC v2: "hashes", authData, hashAlgorithmOID, SHA-512 ------------------------
  std::string h3 = digest(EVP_sha512(), "học bạ 3A — em Minh");
  std::string sad2 = sc.authorize("v2", teacher2, sc.teacher_key, {h3}, a.pin("GVCN-3A"), kSha512);
  auto sigs2 = sc.sign("v2", teacher2, sc.teacher_key, sad2, {h3}, "1.2.840.113549.1.1.13", nullptr);  // sha512WithRSAEncryption
  EXPECT_TRUE(verifies(teacher_cert, Scheme::pkcs1, EVP_sha512(), h3, sigs2.at(0)));

  // --- the principal, v2: RSASSA-PSS with signAlgoParams --------------------------------------------
  auto infop = sc.ok("v2", "credentials/info", principal, {{"credentialID", School::cred(sc.principal_key)}, {"certificates", "chain"}, {"certInfo", true}, {"authInfo", true}});
  EXPECT_EQ(infop.at("key").at("len").as_int64(), 3072);
  EXPECT_EQ(infop.at("auth").at("mode").as_string(), "explicit");
  EXPECT_EQ(infop.at("auth").at("objects").at(0).at("id").as_string(), "PIN");
  EXPECT_EQ(infop.at("SCAL").as_string(), "2");
  EXPECT_FALSE(infop.contains("authMode"));  // the v1 shape
  expect_chain_to_root(infop.at("cert").at("certificates").as_array(), root);
  std::string principal_cert = s(infop.at("cert").at("certificates").at(0));
  std::string p1 = digest(EVP_sha256(), "phê duyệt 3A"), p2 = digest(EVP_sha256(), "phê duyệt 3B");
  std::string sadp = sc.authorize("v2", principal, sc.principal_key, {p1, p2}, a.pin("HIEU-TRUONG"));
  // Parameters the token would not honour are refused before anything is used up.
  expect_error(sc.post("v2", "signatures/signHash", principal,
                       School::sign_body("v2", sc.principal_key, sadp, {p1}, kRsaPss, kSha256, pss_params(1, 20))),
               400, "signAlgoParams");
  expect_error(sc.post("v2", "signatures/signHash", principal, School::sign_body("v2", sc.principal_key, sadp, {p1}, kRsaPss, kSha256)), 400,
               "signAlgoParams");
  // One hash now, the other in a second call: a SAD may be spent in parts.
  auto sp1 = sc.sign("v2", principal, sc.principal_key, sadp, {p1}, kRsaPss, kSha256, pss_params(1));
  auto sp2 = sc.sign("v2", principal, sc.principal_key, sadp, {p2}, kRsaPss, nullptr, pss_params(1));
  EXPECT_TRUE(verifies(principal_cert, Scheme::pss, EVP_sha256(), p1, sp1.at(0)));
  EXPECT_TRUE(verifies(principal_cert, Scheme::pss, EVP_sha256(), p2, sp2.at(0)));
  EXPECT_FALSE(verifies(principal_cert, Scheme::pkcs1, EVP_sha256(), p1, sp1.at(0)));

  // --- the seal, as the principal: ECDSA (DER signatures), v2 and v1 ---------------------------------
  auto infos = sc.ok("v2", "credentials/info", principal, {{"credentialID", School::cred(sc.seal_key)}, {"certificates", "chain"}});
  EXPECT_EQ(infos.at("key").at("curve").as_string(), "1.2.840.10045.3.1.7");
  EXPECT_TRUE(contains(infos.at("key").at("algo").as_array(), kEcdsaSha256));
  EXPECT_FALSE(infos.at("cert").as_object().contains("subjectDN"));  // certInfo not asked
  std::string seal_cert = s(infos.at("cert").at("certificates").at(0));
  std::string d1 = digest(EVP_sha256(), "đóng dấu 3A"), d2 = digest(EVP_sha384(), "đóng dấu 3B");
  std::string sads = sc.authorize("v2", principal, sc.seal_key, {d1}, a.pin("CON-DAU"));
  auto ss = sc.sign("v2", principal, sc.seal_key, sads, {d1}, kEcdsaSha256, kSha256);
  EXPECT_TRUE(verifies(seal_cert, Scheme::ecdsa, EVP_sha256(), d1, ss.at(0)));
  std::string principal1 = sc.login("v1", "ht");
  std::string sads1 = sc.authorize("v1", principal1, sc.seal_key, {d2}, a.pin("CON-DAU"));
  auto ss1 = sc.sign("v1", principal1, sc.seal_key, sads1, {d2}, kEcPublicKey, kSha384);
  EXPECT_TRUE(verifies(seal_cert, Scheme::ecdsa, EVP_sha384(), d2, ss1.at(0)));
  // An RSA algorithm on the EC key is refused.
  std::string sads2 = sc.authorize("v2", principal, sc.seal_key, {d1}, a.pin("CON-DAU"));
  expect_error(sc.post("v2", "signatures/signHash", principal, School::sign_body("v2", sc.seal_key, sads2, {d1}, kRsa, kSha256)), 400,
               "signAlgo");

  // Each signature is counted in the metrics under its key.
  auto m = a.call("GET", "/metrics", sc.admin);
  EXPECT_NE(m.body.find("hocba_signatures_total{key=\"gvcn-3a\",result=\"ok\"} 3"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("hocba_signatures_total{key=\"con-dau\",result=\"ok\"} 2"), std::string::npos) << m.body;
}

TEST(Csc, ASadSignsOnlyItsOwnHashesOnceForItsOwnerAndCredential) {
  Appliance a(seal_allowed());  // so that the principal has two credentials
  School sc(a);
  std::string teacher = sc.login("v2", "gvcn.3a"), teacher1 = sc.login("v1", "gvcn.3a"), principal = sc.login("v2", "ht");
  std::string pin = a.pin("GVCN-3A");
  std::string h1 = digest(EVP_sha256(), "one"), h2 = digest(EVP_sha256(), "two"), h3 = digest(EVP_sha256(), "three");
  std::string sad = sc.authorize("v2", teacher, sc.teacher_key, {h1, h2}, pin);
  auto sign = [&](const std::string& token, std::int64_t key, const std::string& the_sad, std::vector<std::string> hashes) {
    return sc.post("v2", "signatures/signHash", token, School::sign_body("v2", key, the_sad, hashes, kRsa, kSha256));
  };

  // A hash the SAD does not name is refused, and nothing of the SAD is used up by that.
  expect_error(sign(teacher, sc.teacher_key, sad, {h3}), 400, "not authorized by the SAD");
  expect_error(sign(teacher, sc.teacher_key, sad, {h1, h3}), 400, "not authorized by the SAD");
  // Someone else's credential, whether with one's SAD or for credentials/info.
  expect_error(sign(teacher, sc.principal_key, sad, {h1}), 400, "credentialID");
  expect_error(sign(teacher, sc.seal_key, sad, {h1}), 400, "credentialID");
  expect_error(sc.post("v2", "credentials/info", teacher, {{"credentialID", School::cred(sc.principal_key)}}), 400, "credentialID");
  expect_error(sc.post("v2", "credentials/authorize", teacher, School::authorize_body("v2", sc.seal_key, {h1}, a.pin("CON-DAU"))), 400,
               "credentialID");
  expect_error(sc.post("v2", "credentials/info", teacher, {{"credentialID", "key-999"}}), 400, "credentialID");
  // Someone else's SAD, with one's own credential.
  std::string psad = sc.authorize("v2", principal, sc.principal_key, {h1}, a.pin("HIEU-TRUONG"));
  expect_error(sign(teacher, sc.teacher_key, psad, {h1}), 400, "Invalid parameter SAD");
  // The SAD's own credential only: the principal's SAD with the seal.
  expect_error(sc.post("v2", "signatures/signHash", principal, School::sign_body("v2", sc.seal_key, psad, {h1}, kEcdsaSha256, kSha256)), 400,
               "another credential");
  // An unknown SAD.
  expect_error(sign(teacher, sc.teacher_key, "bm90LWEtc2Fk", {h1}), 400, "Invalid parameter SAD");
  expect_error(sc.post("v2", "signatures/signHash", teacher, {{"credentialID", School::cred(sc.teacher_key)}, {"hashes", json::array{b64(h1)}}, {"signAlgo", kRsa}, {"hashAlgorithmOID", kSha256}}),
               400, "SAD");

  // Each authorized hash signs once.
  EXPECT_EQ(sign(teacher, sc.teacher_key, sad, {h1}).status, 200);
  expect_error(sign(teacher, sc.teacher_key, sad, {h1}), 400, "not authorized by the SAD");
  EXPECT_EQ(sign(teacher, sc.teacher_key, sad, {h2}).status, 200);
  // Used up: the SAD is gone.
  expect_error(sign(teacher, sc.teacher_key, sad, {h2}), 400, "Invalid parameter SAD");
  // The same hash twice in one request is not two signatures.
  std::string sad2 = sc.authorize("v2", teacher, sc.teacher_key, {h3}, pin);
  expect_error(sign(teacher, sc.teacher_key, sad2, {h3, h3}), 400, "twice");

  // v1 and v2 field names: each version takes its own and says which one it wanted.
  expect_error(sc.post("v1", "credentials/authorize", teacher1, School::authorize_body("v2", sc.teacher_key, {h1}, pin)), 400,
               "array parameter hash (\"hashes\" is the CSC v2 name");
  expect_error(sc.post("v2", "credentials/authorize", teacher, School::authorize_body("v1", sc.teacher_key, {h1}, pin)), 400,
               "array parameter hashes (\"hash\" is the CSC v1 name");
  std::string sad3 = sc.authorize("v1", teacher1, sc.teacher_key, {h1}, pin);
  expect_error(sc.post("v1", "signatures/signHash", teacher1, School::sign_body("v2", sc.teacher_key, sad3, {h1}, kRsa, kSha256)), 400,
               "array parameter hash ");
  expect_error(sc.post("v2", "signatures/signHash", teacher, School::sign_body("v1", sc.teacher_key, sad3, {h1}, kRsa, kSha256)), 400,
               "array parameter hashes");
  {
    json::object b = School::authorize_body("v2", sc.teacher_key, {h1}, pin);  // v2 with v1's "PIN"
    b.erase("authData");
    b["PIN"] = pin;
    expect_error(sc.post("v2", "credentials/authorize", teacher, b), 400, "authData");
  }
  // v1 needs its hashAlgo for rsaEncryption (v2's hashAlgorithmOID is not it).
  {
    json::object b = School::sign_body("v1", sc.teacher_key, sad3, {h1}, kRsa, nullptr);
    b["hashAlgorithmOID"] = kSha256;
    expect_error(sc.post("v1", "signatures/signHash", teacher1, b), 400, "hashAlgo");
  }
  // ... and the SAD is still good after those refusals.
  auto ok = sc.sign("v1", teacher1, sc.teacher_key, sad3, {h1}, kRsa, kSha256);
  EXPECT_EQ(ok.size(), 1u);

  // numSignatures must match the hashes; hashes must be digests.
  {
    json::object b = School::authorize_body("v2", sc.teacher_key, {h1, h2}, pin);
    b["numSignatures"] = 3;
    expect_error(sc.post("v2", "credentials/authorize", teacher, b), 400, "numSignatures");
    b = School::authorize_body("v2", sc.teacher_key, {"not a digest"}, pin);
    expect_error(sc.post("v2", "credentials/authorize", teacher, b), 400, "Invalid Base64 hash");
    b = School::authorize_body("v2", sc.teacher_key, {h1}, pin);
    b["numSignatures"] = 1000;
    expect_error(sc.post("v2", "credentials/authorize", teacher, b), 400, "too high");
  }

  // The token is open now. A wrong PIN is refused by the PIN check of the open token (the token is
  // not asked: it counts nothing), and ends the SAD.
  std::string bad = sc.authorize("v2", teacher, sc.teacher_key, {h2}, "000000");
  expect_error(sign(teacher, sc.teacher_key, bad, {h2}), 400, "The PIN is invalid");
  expect_error(sign(teacher, sc.teacher_key, bad, {h2}), 400, "Invalid parameter SAD");
  // The right PIN still works, without any confirmation: no wrong PIN reached the token.
  std::string good = sc.authorize("v2", teacher, sc.teacher_key, {h2}, pin);
  EXPECT_EQ(sign(teacher, sc.teacher_key, good, {h2}).status, 200);

  // The audit log has each authorization and signing, the refusals too, never a PIN.
  auto audit = a.call("GET", "/api/v1/audit?limit=1000", sc.admin);
  ASSERT_EQ(audit.status, 200);
  EXPECT_NE(audit.body.find("\"csc.authorize\""), std::string::npos);
  EXPECT_NE(audit.body.find("\"csc.sign_hash\""), std::string::npos);
  EXPECT_NE(audit.body.find("\"result\":\"pin_incorrect\""), std::string::npos) << audit.body;
  EXPECT_NE(audit.body.find("\"result\":\"refused\""), std::string::npos);
  EXPECT_EQ(audit.body.find(pin), std::string::npos);
  EXPECT_EQ(audit.body.find(a.pin("HIEU-TRUONG")), std::string::npos);
  EXPECT_EQ(audit.body.find("000000"), std::string::npos);
  EXPECT_EQ(a.hocba("audit verify --state-dir " + a.state_dir()).status, 0);
}

TEST(Csc, AWrongPinReachesTheTokenOnceAndEndsItsSad) {
  Appliance a;
  School sc(a);
  std::string teacher = sc.login("v2", "gvcn.3a");
  std::string h = digest(EVP_sha256(), "một");
  auto sign = [&](const std::string& sad) {
    return sc.post("v2", "signatures/signHash", teacher, School::sign_body("v2", sc.teacher_key, sad, {h}, kRsa, kSha256));
  };
  // The token is not open: the wrong PIN goes to it, once, and the SAD ends.
  std::string sad = sc.authorize("v2", teacher, sc.teacher_key, {h}, "999999");
  expect_error(sign(sad), 400, "rejected the PIN");
  expect_error(sign(sad), 400, "Invalid parameter SAD");
  // A new SAD with the same wrong PIN: refused without asking the token again.
  std::string sad2 = sc.authorize("v2", teacher, sc.teacher_key, {h}, "999999");
  expect_error(sign(sad2), 400, "already rejected");
  expect_error(sign(sad2), 400, "Invalid parameter SAD");
  // Even the right PIN now needs a human's confirmation (the token saw a wrong PIN): a clear refusal.
  std::string sad3 = sc.authorize("v2", teacher, sc.teacher_key, {h}, a.pin("GVCN-3A"));
  expect_error(sign(sad3), 403, "confirmation", "access_denied");
  // The token is not locked.
  auto toks = a.json("GET", "/api/v1/tokens", sc.admin);
  bool seen = false;
  for (auto& t : toks.at("tokens").as_array())
    if (t.at("label").as_string() == "GVCN-3A") {
      seen = true;
      EXPECT_FALSE(t.at("pin_locked").as_bool());
    }
  EXPECT_TRUE(seen);
  auto audit = a.call("GET", "/api/v1/audit?limit=1000", sc.admin);
  EXPECT_NE(audit.body.find("\"result\":\"pin_incorrect\""), std::string::npos) << audit.body;
  EXPECT_NE(audit.body.find("\"result\":\"pin_rejected_before\""), std::string::npos) << audit.body;
  EXPECT_EQ(audit.body.find("999999"), std::string::npos);
}

TEST(Csc, OnlySignersUseCredentialsAndAnonymousOnlyInfoAndLogin) {
  Appliance a;
  School sc(a);
  const std::vector<std::string> signing = {"credentials/list", "credentials/info", "credentials/authorize", "signatures/signHash"};
  for (std::string ver : {"v1", "v2"}) {
    // Anonymous: info and auth/login (with Basic) only.
    EXPECT_EQ(sc.post(ver, "info", "").status, 200);
    EXPECT_EQ(sc.basic_login(ver, "xem", "password-xem").status, 200);
    for (auto& m : signing) expect_error(sc.post(ver, m, ""), 401, "log in first", "invalid_token");
    EXPECT_EQ(sc.post(ver, "auth/revoke", "").status, 401);
    EXPECT_EQ(sc.post(ver, "credentials/list", "not-a-token-but-long-enough-to-look-like-one").status, 401);
    // Admins manage keys, viewers read: neither signs.
    for (std::string user : {"admin", "xem"}) {
      std::string token = sc.login(ver, user);
      for (auto& m : signing) expect_error(sc.post(ver, m, token), 403, "may not", "access_denied");
    }
    // A subject teacher has no key: an empty list, and nobody else's credential.
    std::string toan = sc.login(ver, "gv.toan");
    auto l = sc.ok(ver, "credentials/list", toan);
    EXPECT_TRUE(l.at("credentialIDs").as_array().empty()) << json::serialize(l);
    expect_error(sc.post(ver, "credentials/info", toan, {{"credentialID", School::cred(sc.teacher_key)}}), 400, "credentialID");
    // auth/revoke ends the access token.
    std::string t = sc.login(ver, "gvcn.3a");
    EXPECT_EQ(sc.ok(ver, "credentials/list", t).at("credentialIDs").as_array().size(), 1u);
    EXPECT_EQ(sc.post(ver, "auth/revoke", t).status, 204);
    EXPECT_EQ(sc.post(ver, "credentials/list", t).status, 401);
  }
}

// The token's own view of its PIN (SoftHSM2 reports count-low after a wrong PIN).
json::object token_status(Appliance& a, const std::string& admin, const std::string& label) {
  auto tokens_json = a.json("GET", "/api/v1/tokens", admin);  // kept alive for the loop
  for (auto& t : tokens_json.at("tokens").as_array())
    if (t.at("label").as_string() == label) return t.as_object();
  throw std::runtime_error("no token " + label);
}

// A school whose seal's PIN is sealed (the test tokens' seal PIN in a file), with more in `extra`.
ApplianceOptions sealed_seal(TempDir& pins, const std::string& extra = "") {
  write_text(pins.file("seal.pin"), "333333\n");
  ApplianceOptions o;
  o.config_toml = "[seal]\npin_file = \"" + pins.file("seal.pin") + "\"\n" + extra;
  return o;
}

TEST(Csc, ATeachersOwnKeySignsButTheSealNeedsTheSchoolsConsent) {
  // The defaults (csc.allow_seal = false), and a sealed seal PIN the appliance could have used.
  TempDir pins;
  Appliance a(sealed_seal(pins));
  School sc(a);
  ASSERT_EQ(a.pin("CON-DAU"), "333333");

  // A teacher's own key: yes, as with their own token.
  std::string teacher = sc.login("v2", "gvcn.3a");
  std::string h = digest(EVP_sha256(), "học bạ 3A — em Hà");
  auto info = sc.ok("v2", "credentials/info", teacher, {{"credentialID", School::cred(sc.teacher_key)}});
  std::string sad = sc.authorize("v2", teacher, sc.teacher_key, {h}, a.pin("GVCN-3A"));
  auto sigs = sc.sign("v2", teacher, sc.teacher_key, sad, {h}, kRsa, kSha256);
  EXPECT_TRUE(verifies(s(info.at("cert").at("certificates").at(0)), Scheme::pkcs1, EVP_sha256(), h, sigs.at(0)));

  // The seal: not listed, not described, not authorized (with its PIN or without), not signed with.
  for (std::string ver : {"v1", "v2"}) {
    std::string principal = sc.login(ver, "ht");
    auto l = sc.ok(ver, "credentials/list", principal);
    auto& ids = l.at("credentialIDs").as_array();
    EXPECT_FALSE(contains(ids, School::cred(sc.seal_key))) << ver << ": " << json::serialize(l);
    EXPECT_TRUE(contains(ids, School::cred(sc.principal_key))) << ver << ": " << json::serialize(l);
    expect_error(sc.post(ver, "credentials/info", principal, {{"credentialID", School::cred(sc.seal_key)}}), 400, "csc.allow_seal");
    expect_error(sc.post(ver, "credentials/authorize", principal, School::authorize_body(ver, sc.seal_key, {h}, "")), 400, "csc.allow_seal");
    expect_error(sc.post(ver, "credentials/authorize", principal, School::authorize_body(ver, sc.seal_key, {h}, "333333")), 400,
                 "csc.allow_seal");
    expect_error(sc.post(ver, "signatures/signHash", principal, School::sign_body(ver, sc.seal_key, "bm90LWEtc2Fk", {h}, kEcdsaSha256, kSha256)),
                 400, "csc.allow_seal");
  }
  auto lv2 = sc.ok("v2", "credentials/list", sc.login("v2", "ht"), {{"credentialInfo", true}});
  EXPECT_EQ(lv2.at("credentialInfos").as_array().size(), 1u) << json::serialize(lv2);
  // The seal's token was never asked anything, and the refusals are in the audit log.
  EXPECT_FALSE(token_status(a, sc.admin, "CON-DAU").at("pin_count_low").as_bool());
  int refused_seal = 0;
  auto entries_json = a.json("GET", "/api/v1/audit?limit=1000", sc.admin);  // kept alive for the loop
  for (auto& e : entries_json.at("entries").as_array()) {
    auto& d = e.at("detail");
    if (e.at("action").as_string() == "csc.authorize" && d.is_object() && d.as_object().contains("result") &&
        d.at("result").as_string() == "refused" && d.at("credential").as_string() == School::cred(sc.seal_key))
      ++refused_seal;
  }
  EXPECT_EQ(refused_seal, 4);
}

TEST(Csc, TheSealThroughCscTakesItsPinFromTheRequestNeverTheSealedOne) {
  TempDir pins;
  Appliance a(sealed_seal(pins, "[csc]\nallow_seal = true\n"));
  School sc(a);
  std::string principal = sc.login("v2", "ht"), principal1 = sc.login("v1", "ht");
  std::string h = digest(EVP_sha256(), "đóng dấu 3A");

  // Listed, and its PIN is required (not "optional" because the appliance holds one).
  EXPECT_TRUE(contains(sc.ok("v2", "credentials/list", principal).at("credentialIDs").as_array(), School::cred(sc.seal_key)));
  auto info1 = sc.ok("v1", "credentials/info", principal1, {{"credentialID", School::cred(sc.seal_key)}});
  EXPECT_EQ(info1.at("PIN").at("presence").as_string(), "true") << json::serialize(info1);
  std::string seal_cert = s(info1.at("cert").at("certificates").at(0));

  // No PIN in the request: refused, in both versions (the sealed PIN is not used in its place).
  expect_error(sc.post("v2", "credentials/authorize", principal, School::authorize_body("v2", sc.seal_key, {h}, "")), 400, "seal's PIN is required");
  {
    json::object b = School::authorize_body("v1", sc.seal_key, {h}, "");
    b.erase("PIN");
    expect_error(sc.post("v1", "credentials/authorize", principal1, b), 400, "Missing");
  }
  // A wrong PIN: refused at once, checked against the sealed one; the seal's token is not asked.
  expect_error(sc.post("v2", "credentials/authorize", principal, School::authorize_body("v2", sc.seal_key, {h}, "000000")), 400,
               "The PIN is invalid");
  EXPECT_FALSE(token_status(a, sc.admin, "CON-DAU").at("pin_count_low").as_bool());

  // The right PIN: the seal signs, and the signature verifies.
  std::string sad = sc.authorize("v2", principal, sc.seal_key, {h}, "333333");
  auto sig = sc.sign("v2", principal, sc.seal_key, sad, {h}, kEcdsaSha256, kSha256);
  EXPECT_TRUE(verifies(seal_cert, Scheme::ecdsa, EVP_sha256(), h, sig.at(0)));

  // Guesses are limited: after three wrong PINs in a row, even the right one is refused (until restart).
  for (std::string guess : {"000001", "000002", "000003"})
    expect_error(sc.post("v1", "credentials/authorize", principal1, School::authorize_body("v1", sc.seal_key, {h}, guess)), 400,
                 "The PIN is invalid");
  expect_error(sc.post("v2", "credentials/authorize", principal, School::authorize_body("v2", sc.seal_key, {h}, "333333")), 403,
               "until hocbad restarts", "access_denied");
  auto tok = token_status(a, sc.admin, "CON-DAU");
  EXPECT_FALSE(tok.at("pin_count_low").as_bool());
  EXPECT_FALSE(tok.at("pin_locked").as_bool());
  // The principal's own key is not affected.
  std::string p = sc.authorize("v2", principal, sc.principal_key, {h}, a.pin("HIEU-TRUONG"));
  EXPECT_EQ(sc.sign("v2", principal, sc.principal_key, p, {h}, kRsa, kSha256).size(), 1u);
  auto audit = a.call("GET", "/api/v1/audit?limit=1000", sc.admin).body;
  EXPECT_EQ(audit.find("333333"), std::string::npos);
  EXPECT_EQ(audit.find("000002"), std::string::npos);
}

TEST(Csc, TurnedOffItAnswersNotFoundToEveryone) {
  ApplianceOptions o;
  o.config_toml = "[csc]\nenabled = false\n";
  Appliance a(o);
  School sc(a);
  std::string h = digest(EVP_sha256(), "một");
  // Web sessions work as Bearer tokens on CSC routes too: they get no further.
  std::string teacher = a.login("gvcn.3a"), principal = a.login("ht");
  for (std::string ver : {"v1", "v2"}) {
    expect_error(sc.post(ver, "info", ""), 404, "turned off");
    expect_error(sc.basic_login(ver, "gvcn.3a", "password-gvcn.3a"), 404, "turned off");
    for (auto& token : {teacher, principal}) {
      expect_error(sc.post(ver, "credentials/list", token), 404, "turned off");
      expect_error(sc.post(ver, "credentials/info", token, {{"credentialID", School::cred(sc.teacher_key)}}), 404, "turned off");
      expect_error(sc.post(ver, "credentials/authorize", token, School::authorize_body(ver, sc.teacher_key, {h}, a.pin("GVCN-3A"))), 404,
                   "turned off");
      expect_error(sc.post(ver, "signatures/signHash", token, School::sign_body(ver, sc.teacher_key, "bm90LWEtc2Fk", {h}, kRsa, kSha256)), 404,
                   "turned off");
    }
    expect_error(sc.post(ver, "auth/revoke", teacher), 404, "turned off");
  }
  EXPECT_EQ(a.call("GET", "/api/v1/me", teacher).status, 200);  // the session was not revoked
}

// The CSC routes of an App built in-process with `cfg` (method + pattern -> roles).
std::map<std::string, std::vector<std::string>> csc_routes(config::Config cfg) {
  std::map<std::string, std::vector<std::string>> out;
  for (auto& r : served_routes(std::move(cfg)))
    if (r.pattern.starts_with("/csc/")) out[r.method + " " + r.pattern] = r.roles;
  return out;
}

TEST(Csc, TheRoutesStayInTheTableWhatEverTheSchoolChooses) {
  auto defaults = csc_routes(config::default_config());
  std::string keys;
  for (auto& [k, r] : defaults) keys += k + "\n";
  ASSERT_EQ(defaults.size(), 14u) << keys;  // 7 methods, 2 versions
  EXPECT_EQ(defaults.at("POST /csc/v2/signatures/signHash"), (std::vector<std::string>{"homeroom_teacher", "subject_teacher", "principal"}));
  config::Config off = config::default_config();
  off.csc.enabled = false;
  off.csc.roles = {"principal"};
  auto changed = csc_routes(off);
  ASSERT_EQ(changed.size(), defaults.size());  // CSC off: still served (as 404s), so docs/openapi.yaml holds
  for (auto& [key, roles] : defaults) {
    ASSERT_TRUE(changed.count(key)) << key;
    bool signing = key.find("/credentials/") != std::string::npos || key.find("/signatures/") != std::string::npos;
    EXPECT_EQ(changed.at(key), signing ? std::vector<std::string>{"principal"} : roles) << key;
  }
}

// A deputy principal named in csc.roles uses CSC as the principal does: the seal too where the school
// allows it, since the chain lets them sign the seal step in the principal's place; a chain where
// they may not sign it gives them no seal.
TEST(Csc, ADeputyPrincipalSignsThroughCscWhereTheSchoolAndTheChainSaySo) {
  auto deputy_signs = [](bool named) {
    config::Config cfg = config::default_config();
    if (named) cfg.csc.roles = {"principal", "deputy_principal"};
    auto roles = csc_routes(cfg).at("POST /csc/v2/signatures/signHash");
    return std::find(roles.begin(), roles.end(), "deputy_principal") != roles.end();
  };
  EXPECT_FALSE(deputy_signs(false));  // not in the default csc.roles
  EXPECT_TRUE(deputy_signs(true));

  const std::string csc = "[csc]\nroles = [\"principal\", \"deputy_principal\"]\nallow_seal = true\n";
  std::string h = digest(EVP_sha256(), "KT. HIỆU TRƯỞNG — đóng dấu 3A");
  {
    ApplianceOptions o;
    o.config_toml = csc;
    Appliance a(o);
    School sc(a);
    a.add_user("pht", "deputy_principal");
    for (std::string ver : {"v1", "v2"}) {
      std::string deputy = sc.login(ver, "pht");
      auto ids = sc.ok(ver, "credentials/list", deputy).at("credentialIDs").as_array();
      EXPECT_EQ(ids.size(), 1u) << json::serialize(ids);  // the seal, and nobody else's key
      EXPECT_TRUE(contains(ids, School::cred(sc.seal_key))) << json::serialize(ids);
      expect_error(sc.post(ver, "credentials/info", deputy, {{"credentialID", School::cred(sc.principal_key)}}), 400,
                   "not one of your credentials");
    }
    std::string deputy = sc.login("v2", "pht");
    auto info = sc.ok("v2", "credentials/info", deputy, {{"credentialID", School::cred(sc.seal_key)}});
    std::string sad = sc.authorize("v2", deputy, sc.seal_key, {h}, a.pin("CON-DAU"));
    auto sig = sc.sign("v2", deputy, sc.seal_key, sad, {h}, kEcdsaSha256, kSha256);
    EXPECT_TRUE(verifies(s(info.at("cert").at("certificates").at(0)), Scheme::ecdsa, EVP_sha256(), h, sig.at(0)));
  }
  {
    // The school's chain: only the principal applies the seal.
    ApplianceOptions o;
    o.config_toml = csc + "\n[workflow.steps.con_dau]\nsubstitutes = []\n";
    Appliance a(o);
    School sc(a);
    a.add_user("pht", "deputy_principal");
    std::string deputy = sc.login("v2", "pht");
    EXPECT_TRUE(sc.ok("v2", "credentials/list", deputy).at("credentialIDs").as_array().empty());
    expect_error(sc.post("v2", "credentials/authorize", deputy, School::authorize_body("v2", sc.seal_key, {h}, a.pin("CON-DAU"))), 400,
                 "not one of your credentials");
    EXPECT_TRUE(contains(sc.ok("v2", "credentials/list", sc.login("v2", "ht")).at("credentialIDs").as_array(), School::cred(sc.seal_key)));
  }
}

TEST(Csc, OnlyTheRolesTheSchoolNamesSignThroughCsc) {
  ApplianceOptions o;
  o.config_toml = "[csc]\nroles = [\"principal\"]\n";
  Appliance a(o);
  School sc(a);
  std::string h = digest(EVP_sha256(), "một");
  for (std::string ver : {"v1", "v2"}) {
    for (std::string user : {"gvcn.3a", "gv.toan"}) {
      std::string token = sc.login(ver, user);  // logging in is not signing
      expect_error(sc.post(ver, "credentials/list", token), 403, "may not", "access_denied");
      expect_error(sc.post(ver, "credentials/authorize", token, School::authorize_body(ver, sc.teacher_key, {h}, a.pin("GVCN-3A"))), 403,
                   "may not", "access_denied");
      expect_error(sc.post(ver, "signatures/signHash", token, School::sign_body(ver, sc.teacher_key, "bm90LWEtc2Fk", {h}, kRsa, kSha256)), 403,
                   "may not", "access_denied");
    }
    std::string principal = sc.login(ver, "ht");
    EXPECT_EQ(sc.ok(ver, "credentials/list", principal).at("credentialIDs").as_array().size(), 1u);
    std::string sad = sc.authorize(ver, principal, sc.principal_key, {h}, a.pin("HIEU-TRUONG"));
    EXPECT_EQ(sc.sign(ver, principal, sc.principal_key, sad, {h}, kRsa, kSha256).size(), 1u);
  }
}

TEST(Csc, TheAuditLogKeepsEveryHashInFull) {
  Appliance a;
  School sc(a);
  std::string teacher = sc.login("v2", "gvcn.3a");
  std::string h1 = digest(EVP_sha256(), "em Hà"), h2 = digest(EVP_sha512(), "em Lan"), h3 = digest(EVP_sha256(), "em Minh");
  auto hex = [](const std::string& raw) {
    static const char* d = "0123456789abcdef";
    std::string out;
    for (unsigned char c : raw) out += d[c >> 4], out += d[c & 15];
    return out;
  };
  std::string sad = sc.authorize("v2", teacher, sc.teacher_key, {h1}, a.pin("GVCN-3A"));
  sc.sign("v2", teacher, sc.teacher_key, sad, {h1}, kRsa, kSha256);
  std::string sad2 = sc.authorize("v2", teacher, sc.teacher_key, {h2}, a.pin("GVCN-3A"), kSha512);
  // Refusals: a hash the SAD does not cover; numSignatures that does not match.
  expect_error(sc.post("v2", "signatures/signHash", teacher, School::sign_body("v2", sc.teacher_key, sad2, {h3}, kRsa, kSha256)), 400,
               "not authorized by the SAD");
  json::object b = School::authorize_body("v2", sc.teacher_key, {h3}, a.pin("GVCN-3A"));
  b["numSignatures"] = 2;
  expect_error(sc.post("v2", "credentials/authorize", teacher, b), 400, "numSignatures");

  // (action, result, the one hash) of each CSC entry.
  std::vector<std::tuple<std::string, std::string, std::string>> seen;
  auto entries_json = a.json("GET", "/api/v1/audit?limit=1000", sc.admin);  // kept alive for the loop
  for (auto& e : entries_json.at("entries").as_array()) {
    std::string action(e.at("action").as_string());
    if (!action.starts_with("csc.")) continue;
    auto& d = e.at("detail").as_object();
    ASSERT_EQ(d.at("hashes").as_array().size(), 1u) << json::serialize(d);
    seen.emplace_back(action, std::string(d.at("result").as_string()), std::string(d.at("hashes").at(0).as_string()));
  }
  std::vector<std::tuple<std::string, std::string, std::string>> want = {
      {"csc.authorize", "ok", hex(h1)},          {"csc.sign_hash", "ok", hex(h1)},          {"csc.authorize", "ok", hex(h2)},
      {"csc.sign_hash", "refused", hex(h3)},     {"csc.authorize", "refused", hex(h3)}};
  EXPECT_EQ(seen, want);
  EXPECT_EQ(hex(h2).size(), 128u);  // SHA-512: all 64 bytes
}

TEST(Csc, SixteenOpenAuthorizationsPerUserEvenWhenAskedForAtOnce) {
  ApplianceOptions o;
  o.config_toml = "[server]\nthreads = 16\n";  // as many requests at once as the server takes
  Appliance a(o);
  School sc(a);
  std::string teacher = sc.login("v2", "gvcn.3a");
  constexpr int kRequests = 48;
  std::vector<int> status(kRequests);
  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  for (int i = 0; i < kRequests; ++i)
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      json::object b = School::authorize_body("v2", sc.teacher_key, {digest(EVP_sha256(), "record " + std::to_string(i))}, a.pin("GVCN-3A"));
      status[i] = sc.post("v2", "credentials/authorize", teacher, b).status;
    });
  go = true;
  for (auto& t : threads) t.join();
  int ok = 0, refused = 0;
  for (int st : status) {
    ok += st == 200;
    refused += st == 400;
  }
  EXPECT_EQ(ok, 16);
  EXPECT_EQ(refused, kRequests - 16);
  // The 17th, asked for alone, says why.
  expect_error(sc.post("v2", "credentials/authorize", teacher, School::authorize_body("v2", sc.teacher_key, {digest(EVP_sha256(), "x")}, a.pin("GVCN-3A"))),
               400, "Too many open authorizations");
}

}  // namespace
}  // namespace hocba::test
