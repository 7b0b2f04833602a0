// hsm against real SoftHSM2 tokens, directly and through our PKCS#11 test module (p11test), which
// makes SoftHSM2 act like a slow, removable USB token that locks after wrong PINs.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <thread>

#include "hocba/hsm/hsm.h"
#include "test_env.h"

using namespace hocba;
using namespace hocba::hsm;

namespace {

Bytes sha256(const std::string& s) {
  Bytes d(32);
  unsigned n = 0;
  EVP_Digest(s.data(), s.size(), d.data(), &n, EVP_sha256(), nullptr);
  return d;
}

// Verifies `sig` over `digest` with the public key of `cert_der`.
bool verify_with_cert(const Bytes& cert_der, Mechanism mech, HashAlg h, const Bytes& digest, const Bytes& sig) {
  const unsigned char* p = cert_der.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(cert_der.size()));
  if (!x) return false;
  EVP_PKEY* pub = X509_get0_pubkey(x);
  EVP_PKEY_CTX* c = EVP_PKEY_CTX_new(pub, nullptr);
  const EVP_MD* md = h == HashAlg::sha256 ? EVP_sha256() : h == HashAlg::sha384 ? EVP_sha384() : EVP_sha512();
  bool ok = EVP_PKEY_verify_init(c) == 1 && EVP_PKEY_CTX_set_signature_md(c, md) == 1;
  if (ok && mech == Mechanism::rsa_pss)
    ok = EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PSS_PADDING) == 1 && EVP_PKEY_CTX_set_rsa_pss_saltlen(c, -2) == 1;
  ok = ok && EVP_PKEY_verify(c, sig.data(), sig.size(), digest.data(), digest.size()) == 1;
  EVP_PKEY_CTX_free(c);
  X509_free(x);
  return ok;
}

std::map<std::string, long> read_state(const std::string& path) {
  std::map<std::string, long> m;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) {
    auto eq = line.find('=');
    if (eq != std::string::npos) m[line.substr(0, eq)] = std::atol(line.c_str() + eq + 1);
  }
  return m;
}

class SoftHsmTest : public ::testing::Test {
 protected:
  void SetUp() override { test::provision_softhsm(dir_.path()); }
  KeyRef key(Hsm& h, const std::string& uri) {
    auto u = Pkcs11Uri::parse(uri);
    EXPECT_TRUE(u.ok());
    auto k = h.find_key(*u);
    EXPECT_TRUE(k.ok()) << k.error().message;
    return k.ok() ? *k : KeyRef{};
  }
  test::TempDir dir_;
};

// Same tokens, reached through the p11test module configured by a file the test rewrites.
class P11TestModule : public SoftHsmTest {
 protected:
  void SetUp() override {
    SoftHsmTest::SetUp();
    conf_ = dir_.file("p11test.conf");
    state_ = dir_.file("p11test.state");
    configure("");
    setenv("HOCBA_P11TEST_CONF", conf_.c_str(), 1);
  }
  void configure(const std::string& extra) {
    // A fresh mtime is not guaranteed within one second: the module also compares size and content.
    test::write_text(conf_, "module=" + std::string(test::kSoftHsm) + "\nstate_file=" + state_ + "\n" + extra);
  }
  std::map<std::string, long> state() { return read_state(state_); }
  std::string conf_, state_;
};

}  // namespace

TEST_F(SoftHsmTest, ListsTokensWithTheirFlags) {
  Hsm h;
  ASSERT_TRUE(h.load_module(test::kSoftHsm).ok());
  auto toks = h.tokens();
  ASSERT_TRUE(toks.ok());
  std::map<std::string, TokenInfo> by_label;
  for (auto& t : *toks)
    if (t.present && t.initialized) by_label[t.label] = t;
  ASSERT_EQ(by_label.size(), 3u);
  EXPECT_TRUE(by_label["GVCN-3A"].login_required);
  EXPECT_FALSE(by_label["GVCN-3A"].pin_locked);
  EXPECT_FALSE(by_label["CON-DAU"].serial.empty());
  EXPECT_NE(by_label["HIEU-TRUONG"].uri.find("token=HIEU-TRUONG"), std::string::npos);
}

TEST_F(SoftHsmTest, ListsKeysAndCertificates) {
  Hsm h;
  ASSERT_TRUE(h.load_module(test::kSoftHsm).ok());
  auto objs = h.objects();
  ASSERT_TRUE(objs.ok());
  int keys = 0, certs = 0;
  for (auto& o : *objs) {
    if (o.kind == ObjectInfo::Kind::private_key) {
      ++keys;
      if (o.label == "hieu-truong") {
        EXPECT_EQ(o.algorithm, KeyAlgorithm::rsa);
        EXPECT_EQ(o.bits, 3072);
        EXPECT_TRUE(o.has_certificate);
        EXPECT_NE(o.subject.find("Nguyễn Thị Giẽ"), std::string::npos) << o.subject;
      }
      if (o.label == "con-dau") {
        EXPECT_EQ(o.curve, "P-256");
      }
    } else {
      ++certs;
    }
  }
  EXPECT_EQ(keys, 4);       // the P-384 key has no public-key object, but its certificate stands for it
  EXPECT_EQ(certs, 4 + 6);  // 4 signer certificates, 2 CA certificates on each of 3 tokens
}

TEST_F(SoftHsmTest, FindsKeyByUriWithItsCertificateAndChain) {
  Hsm h;
  ASSERT_TRUE(h.load_module(test::kSoftHsm).ok());
  auto k = key(h, "pkcs11:token=GVCN-3A;object=gvcn-3a");
  EXPECT_EQ(k.algorithm, KeyAlgorithm::rsa);
  EXPECT_EQ(k.bits, 2048);
  EXPECT_EQ(k.id, Bytes{1});
  EXPECT_FALSE(k.certificate.empty());
  EXPECT_EQ(k.ca_certs.size(), 2u);
  auto missing = h.find_key(*Pkcs11Uri::parse("pkcs11:token=GVCN-3A;object=nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
  auto absent = h.find_key(*Pkcs11Uri::parse("pkcs11:token=NO-SUCH-TOKEN;object=x"));
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.error().code, Errc::token_not_present);
}

TEST_F(SoftHsmTest, ModulePathInUriLoadsTheModule) {
  Hsm h;
  auto k = key(h, std::string("pkcs11:token=CON-DAU;id=%03?module-path=") + test::kSoftHsm);
  EXPECT_EQ(k.curve, "P-256");
  EXPECT_EQ(h.modules().size(), 1u);
}

TEST_F(SoftHsmTest, SignsWithRsaPkcs1RsaPssAndEcdsa) {
  Hsm h;
  ASSERT_TRUE(h.load_module(test::kSoftHsm).ok());
  struct Case {
    const char* uri;
    const char* pin;
    Mechanism mech;
    HashAlg hash;
  } cases[] = {
      {"pkcs11:token=GVCN-3A;object=gvcn-3a", "111111", Mechanism::rsa_pkcs1, HashAlg::sha256},
      {"pkcs11:token=HIEU-TRUONG;object=hieu-truong", "222222", Mechanism::rsa_pss, HashAlg::sha256},
      {"pkcs11:token=CON-DAU;object=con-dau", "333333", Mechanism::ecdsa, HashAlg::sha256},
      {"pkcs11:token=CON-DAU;object=con-dau-p384", "333333", Mechanism::ecdsa, HashAlg::sha384},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.uri);
    auto k = key(h, c.uri);
    Secret pin(c.pin);
    SignRequest req;
    req.mechanism = c.mech;
    req.hash = c.hash;
    Bytes d = sha256("học bạ");
    if (c.hash == HashAlg::sha384) d.resize(48, 7);
    req.digest = d;
    req.pin = &pin;
    auto sig = h.sign(k, req);
    ASSERT_TRUE(sig.ok()) << sig.error().message;
    EXPECT_TRUE(verify_with_cert(k.certificate, c.mech, c.hash, d, *sig));
    // A wrong digest must not verify (the check above can fail).
    Bytes other = d;
    other[0] ^= 1;
    EXPECT_FALSE(verify_with_cert(k.certificate, c.mech, c.hash, other, *sig));
  }
}

TEST_F(SoftHsmTest, WrongPinIsNeverResentAndFurtherTriesNeedConfirmation) {
  Hsm h;
  ASSERT_TRUE(h.load_module(test::kSoftHsm).ok());
  auto k = key(h, "pkcs11:token=GVCN-3A;object=gvcn-3a");
  SignRequest req;
  req.digest = sha256("x");
  Secret wrong("999999"), right("111111");
  req.pin = &wrong;
  auto r1 = h.sign(k, req);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code, Errc::pin_incorrect);
  EXPECT_NE(r1.error().message.find("GVCN-3A"), std::string::npos);
  auto r2 = h.sign(k, req);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, Errc::pin_rejected_before);
  req.pin = &right;
  auto r3 = h.sign(k, req);
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error().code, Errc::pin_needs_confirm);
  req.confirm_pin_risk = true;
  auto r4 = h.sign(k, req);
  EXPECT_TRUE(r4.ok()) << r4.error().message;
}

TEST_F(SoftHsmTest, MissingPinIsAClearError) {
  Hsm h;
  ASSERT_TRUE(h.load_module(test::kSoftHsm).ok());
  auto k = key(h, "pkcs11:token=GVCN-3A;object=gvcn-3a");
  SignRequest req;
  req.digest = sha256("x");
  auto r = h.sign(k, req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::pin_required);
}

TEST_F(P11TestModule, WrongPinReachesTheTokenExactlyOnce) {
  configure("max_pin_tries=3\n");
  Hsm h;
  ASSERT_TRUE(h.load_module(HOCBA_P11TEST_MODULE).ok());
  auto k = key(h, "pkcs11:token=GVCN-3A;object=gvcn-3a");
  SignRequest req;
  req.digest = sha256("x");
  Secret wrong("000000");
  req.pin = &wrong;
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(h.sign(k, req).ok());
  EXPECT_EQ(state()["login_calls"], 1);
  // Another PIN is refused without confirmation: the token now reports count-low.
  Secret other("123123");
  req.pin = &other;
  auto r = h.sign(k, req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::pin_needs_confirm);
  EXPECT_EQ(state()["login_calls"], 1);
}

TEST_F(P11TestModule, TokenAtFinalTryIsNotTouchedWithoutConfirmation) {
  configure("max_pin_tries=3\n");
  {  // Two wrong PINs from another program (fresh process state for hsm afterwards).
    for (const char* bad : {"000001", "000002"})
      test::run(std::string("pkcs11-tool --module ") + HOCBA_P11TEST_MODULE + " --token-label GVCN-3A --login --pin " + bad +
                " --list-objects");
  }
  ASSERT_EQ(state()["login_calls"], 2);
  Hsm h;
  ASSERT_TRUE(h.load_module(HOCBA_P11TEST_MODULE).ok());
  auto toks = h.tokens();
  ASSERT_TRUE(toks.ok());
  bool final_try = false;
  for (auto& t : *toks) final_try = final_try || (t.label == "GVCN-3A" && t.pin_final_try);
  EXPECT_TRUE(final_try);
  auto k = key(h, "pkcs11:token=GVCN-3A;object=gvcn-3a");
  SignRequest req;
  req.digest = sha256("x");
  Secret right("111111");
  req.pin = &right;
  auto r = h.sign(k, req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::pin_needs_confirm);
  EXPECT_NE(r.error().message.find("one PIN try"), std::string::npos) << r.error().message;
  EXPECT_EQ(state()["login_calls"], 2);
  req.confirm_pin_risk = true;
  auto ok = h.sign(k, req);
  EXPECT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(state()["login_calls"], 3);
}

TEST_F(P11TestModule, TokenLockedAfterThreeWrongPinsIsReportedLocked) {
  configure("max_pin_tries=3\n");
  for (const char* bad : {"000001", "000002", "000003"})
    test::run(std::string("pkcs11-tool --module ") + HOCBA_P11TEST_MODULE + " --token-label GVCN-3A --login --pin " + bad +
              " --list-objects");
  Hsm h;
  ASSERT_TRUE(h.load_module(HOCBA_P11TEST_MODULE).ok());
  auto k = key(h, "pkcs11:token=GVCN-3A;object=gvcn-3a");
  SignRequest req;
  req.digest = sha256("x");
  Secret right("111111");
  req.pin = &right;
  req.confirm_pin_risk = true;  // even a confirmed request must not touch a locked token
  long before = state()["login_calls"];
  auto r = h.sign(k, req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::pin_locked);
  EXPECT_NE(r.error().message.find("token \"GVCN-3A\" reports its PIN is locked"), std::string::npos);
  EXPECT_EQ(state()["login_calls"], before);
}

TEST_F(P11TestModule, RemovalGivesTokenNotPresentAndReinsertionWorksWithoutRestart) {
  Hsm h;
  ASSERT_TRUE(h.load_module(HOCBA_P11TEST_MODULE).ok());
  auto k = key(h, "pkcs11:token=HIEU-TRUONG;object=hieu-truong");
  SignRequest req;
  req.digest = sha256("x");
  Secret pin("222222");
  req.pin = &pin;
  ASSERT_TRUE(h.sign(k, req).ok());
  configure("present=0\ntoken_label=HIEU-TRUONG\n");
  auto r = h.sign(k, req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::token_not_present) << r.error().message;
  auto r2 = h.sign(k, req);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, Errc::token_not_present);
  configure("present=1\ntoken_label=HIEU-TRUONG\n");
  auto r3 = h.sign(k, req);
  EXPECT_TRUE(r3.ok()) << r3.error().message;
  EXPECT_TRUE(verify_with_cert(k.certificate, Mechanism::rsa_pkcs1, HashAlg::sha256, req.digest, *r3));
}

TEST_F(P11TestModule, EightThreadsSignOnOneTokenOneAtATime) {
  configure("sign_delay_ms=20\n");
  Hsm h;
  ASSERT_TRUE(h.load_module(HOCBA_P11TEST_MODULE).ok());
  auto k = key(h, "pkcs11:token=CON-DAU;object=con-dau");
  Secret pin("333333");
  std::atomic<int> ok{0};
  std::vector<std::thread> ts;
  auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < 8; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        SignRequest req;
        req.mechanism = Mechanism::ecdsa;
        req.digest = sha256("record " + std::to_string(t) + "/" + std::to_string(i));
        req.pin = &pin;
        req.priority = t % 2 ? Priority::batch : Priority::interactive;
        auto r = h.sign(k, req);
        if (r.ok() && verify_with_cert(k.certificate, Mechanism::ecdsa, HashAlg::sha256, req.digest, *r)) ++ok;
      }
    });
  for (auto& t : ts) t.join();
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(ok.load(), 40);
  EXPECT_EQ(state()["sign_calls"], 40);
  // One queue per token: 40 signatures of 20 ms cannot overlap.
  EXPECT_GE(elapsed, std::chrono::milliseconds(40 * 20));
}

// Two tokens of one module sign at the same time, and the first login to the second one does not
// wait for the first one's signature: the p11test module holds every signature on the token (after
// making it) while a file exists, and the second token logs in and reaches its own signature while
// the first one is still held. Nothing here is timed: the deadline only ends a run that hangs.
TEST_F(P11TestModule, LoginToOneTokenDoesNotWaitForASignatureOnAnother) {
  const std::string hold = dir_.file("hold");
  test::write_text(hold, "");
  configure("sign_hold_file=" + hold + "\n");
  Hsm h;
  ASSERT_TRUE(h.load_module(HOCBA_P11TEST_MODULE).ok());
  auto principal = key(h, "pkcs11:token=HIEU-TRUONG;object=hieu-truong");
  auto seal = key(h, "pkcs11:token=CON-DAU;object=con-dau");
  auto wait_for = [&](const char* counter, long n) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (state()[counter] < n && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return state()[counter] >= n;
  };
  auto sign_async = [&](const KeyRef& k, const char* pin, Mechanism mech) {
    return std::async(std::launch::async, [&h, k, pin, mech] {
      Secret p(pin);
      SignRequest req;
      req.mechanism = mech;
      req.digest = sha256(k.label);
      req.pin = &p;
      return h.sign(k, req);
    });
  };
  auto first = sign_async(principal, "222222", Mechanism::rsa_pkcs1);
  bool first_held = wait_for("signs_held", 1);
  std::future<Result<Bytes>> second;
  bool both_held = false;
  long logins_while_held = 0;
  if (first_held) {
    EXPECT_EQ(state()["login_calls"], 1);
    second = sign_async(seal, "333333", Mechanism::ecdsa);
    both_held = wait_for("signs_held", 2);
    logins_while_held = state()["login_calls"];
  }
  std::filesystem::remove(hold);  // lets the signatures return, whatever happened above
  ASSERT_TRUE(first_held) << "the first signature never reached the token";
  EXPECT_TRUE(both_held) << "the second token's login or signature waited for the first token's signature";
  EXPECT_EQ(logins_while_held, 2);
  auto r1 = first.get(), r2 = second.get();
  ASSERT_TRUE(r1.ok()) << r1.error().message;
  ASSERT_TRUE(r2.ok()) << r2.error().message;
  EXPECT_TRUE(verify_with_cert(principal.certificate, Mechanism::rsa_pkcs1, HashAlg::sha256, sha256(principal.label), *r1));
  EXPECT_TRUE(verify_with_cert(seal.certificate, Mechanism::ecdsa, HashAlg::sha256, sha256(seal.label), *r2));
  EXPECT_EQ(state()["sign_calls"], 2);
}

TEST_F(P11TestModule, AlwaysAuthenticateKeySignsRepeatedly) {
  configure("always_authenticate=1\n");
  Hsm h;
  ASSERT_TRUE(h.load_module(HOCBA_P11TEST_MODULE).ok());
  auto k = key(h, "pkcs11:token=GVCN-3A;object=gvcn-3a");
  Secret pin("111111");
  for (int i = 0; i < 3; ++i) {
    SignRequest req;
    req.digest = sha256("n" + std::to_string(i));
    req.pin = &pin;
    auto r = h.sign(k, req);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(verify_with_cert(k.certificate, Mechanism::rsa_pkcs1, HashAlg::sha256, req.digest, *r));
  }
  EXPECT_EQ(state()["sign_calls"], 3);
}

// libp11's RSA method is scoped to token keys: other RSA keys in the process keep working (a test TSA
// or OCSP responder signing in software, certificate issuance).
TEST(HsmIsolation, SoftwareRsaSigningStillWorksWhileAnHsmExists) {
  Hsm h;
  EVP_PKEY* k = EVP_RSA_gen(2048);
  ASSERT_NE(k, nullptr);
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("t"), -1, -1, 0);
  X509_set_issuer_name(x, X509_get_subject_name(x));
  X509_set_pubkey(x, k);
  EXPECT_GT(X509_sign(x, k, EVP_sha256()), 0);
  EXPECT_EQ(X509_verify(x, k), 1);
  X509_free(x);
  EVP_PKEY_free(k);
}
