// The signer with software keys: the CMS is PAdES baseline B-B to the letter (one SignerInfo,
// detached, content-type + message-digest + signing-certificate-v2 as a SEQUENCE, no signing-time,
// the chain included), the placeholder is sized from the key, and the verifier catches tampering
// and non-PAdES CMS.
#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "hocba/common/fileio.h"
#include "hocba/pdf/signing.h"
#include "hocba/signer/key.h"
#include "hocba/signer/pades.h"
#include "hocba/signer/verify.h"
#include "test_env.h"

using namespace hocba;
using namespace hocba::signer;

namespace {

Bytes must_read(const std::string& path) {
  auto b = read_file(path);
  if (!b) throw std::runtime_error(b.error().message);
  return *b;
}

// A throw-away PKI made with the openssl command: a root CA and RSA-2048 / P-256 signers.
class SoftPki : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    std::string d = dir_->path();
    std::string script =
        "set -e; cd " + d + "\n"
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 -utf8 "
        "-subj '/C=VN/O=hocba unit PKI/CN=Unit Root' -addext basicConstraints=critical,CA:TRUE "
        "-addext keyUsage=critical,keyCertSign,cRLSign\n"
        "printf 'basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature,nonRepudiation\\n' > ext\n"
        "openssl req -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.csr -utf8 -subj '/C=VN/CN=Nguyễn Văn An'\n"
        "openssl x509 -req -in rsa.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 30 -extfile ext -out rsa.pem\n"
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key\n"
        "openssl req -new -key ec.key -out ec.csr -utf8 -subj '/C=VN/CN=Con dấu'\n"
        "openssl x509 -req -in ec.csr -CA ca.pem -CAkey ca.key -set_serial 3 -days 30 -extfile ext -out ec.pem\n";
    auto r = test::run("sh -c \"$(cat <<'EOS'\n" + script + "EOS\n)\"");
    ASSERT_EQ(r.status, 0) << r.out;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string file(const std::string& n) { return dir_->file(n); }
  std::unique_ptr<SigningKey> key(const std::string& name) {
    return software_key(must_read(file(name + ".key")), must_read(file(name + ".pem")));
  }
  static Bytes ca_der() {
    auto certs = load_certificates(must_read(file("ca.pem")), "ca");
    return (*certs)[0];
  }
  static Bytes pdf() { return must_read(std::string(HOCBA_TEST_DATA) + "/pdf/cairo.pdf"); }
  static test::TempDir* dir_;
};
test::TempDir* SoftPki::dir_ = nullptr;

using CmsPtr = std::unique_ptr<CMS_ContentInfo, decltype(&CMS_ContentInfo_free)>;

CmsPtr parse_cms(const Bytes& contents) {
  const unsigned char* p = contents.data();
  return CmsPtr(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(contents.size())), CMS_ContentInfo_free);
}

Bytes sha256(const std::uint8_t* d, std::size_t n) {
  Bytes out(32);
  unsigned len = 0;
  EVP_Digest(d, n, out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

}  // namespace

TEST_F(SoftPki, CmsIsPadesBaselineB) {
  auto k = key("rsa");
  PadesOptions opts;
  opts.extra_certs = {ca_der()};
  opts.reason = "Ký học bạ";
  auto out = sign_pdf(pdf(), *k, opts);
  ASSERT_TRUE(out.ok()) << out.error().message;

  auto ins = pdf::inspect(out->pdf);
  ASSERT_TRUE(ins.ok());
  ASSERT_EQ(ins->signatures.size(), 1u);
  const auto& s = ins->signatures[0];
  EXPECT_EQ(s.sub_filter, "ETSI.CAdES.detached");
  EXPECT_FALSE(s.pdf_date.empty());
  auto cms = parse_cms(s.contents);
  ASSERT_TRUE(cms);
  EXPECT_EQ(OBJ_obj2nid(CMS_get0_type(cms.get())), NID_pkcs7_signed);
  ASSERT_NE(CMS_get0_content(cms.get()), nullptr);
  EXPECT_EQ(*CMS_get0_content(cms.get()), nullptr) << "must be detached";
  auto* sis = CMS_get0_SignerInfos(cms.get());
  ASSERT_EQ(sk_CMS_SignerInfo_num(sis), 1) << "exactly one SignerInfo";
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(sis, 0);

  EXPECT_EQ(CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1), -1) << "no signing-time in PAdES";
  EXPECT_GE(CMS_signed_get_attr_by_NID(si, NID_pkcs9_contentType, -1), 0);
  int md_at = CMS_signed_get_attr_by_NID(si, NID_pkcs9_messageDigest, -1);
  ASSERT_GE(md_at, 0);
  EXPECT_EQ(CMS_signed_get_attr_count(si), 3);

  // message-digest is the SHA-256 of the two byte ranges.
  const auto& br = s.byte_range;
  Bytes covered(out->pdf.begin(), out->pdf.begin() + br[1]);
  covered.insert(covered.end(), out->pdf.begin() + br[2], out->pdf.begin() + br[2] + br[3]);
  auto* md = static_cast<ASN1_OCTET_STRING*>(
      X509_ATTRIBUTE_get0_data(CMS_signed_get_attr(si, md_at), 0, V_ASN1_OCTET_STRING, nullptr));
  ASSERT_NE(md, nullptr);
  EXPECT_EQ(Bytes(md->data, md->data + md->length), sha256(covered.data(), covered.size()));

  // signing-certificate-v2: a SEQUENCE (not an OCTET STRING) holding the signer certificate's hash.
  int sc_at = CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2, -1);
  ASSERT_GE(sc_at, 0);
  ASN1_TYPE* v = X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, sc_at), 0);
  ASSERT_NE(v, nullptr);
  ASSERT_EQ(v->type, V_ASN1_SEQUENCE);
  Bytes attr(v->value.sequence->data, v->value.sequence->data + v->value.sequence->length);
  Bytes cert_hash = sha256(k->certificate().data(), k->certificate().size());
  EXPECT_NE(std::search(attr.begin(), attr.end(), cert_hash.begin(), cert_hash.end()), attr.end());

  // The chain: signer and CA.
  STACK_OF(X509)* certs = CMS_get1_certs(cms.get());
  EXPECT_EQ(sk_X509_num(certs), 2);
  sk_X509_pop_free(certs, X509_free);

  // Placeholder sized from the key and chain: little slack.
  EXPECT_GE(out->reserved_size, out->cms_size);
  EXPECT_LE(out->reserved_size - out->cms_size, 32u);

  auto rep = verify_pdf(out->pdf, {ca_der()});
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  ASSERT_EQ(rep->signatures.size(), 1u);
  EXPECT_TRUE(rep->signatures[0].valid) << rep->signatures[0].integrity_detail << rep->signatures[0].chain_detail;
  EXPECT_TRUE(rep->signatures[0].pades_problems.empty());
  EXPECT_EQ(rep->signatures[0].chain, SignatureReport::Chain::trusted);
  EXPECT_TRUE(rep->all_valid);
}

TEST_F(SoftPki, PssAndEcdsaSignaturesVerify) {
  Bytes doc = pdf();
  {
    auto k = key("rsa");
    PadesOptions o;
    o.scheme = Scheme::rsa_pss;
    o.extra_certs = {ca_der()};
    auto out = sign_pdf(doc, *k, o);
    ASSERT_TRUE(out.ok()) << out.error().message;
    doc = out->pdf;
  }
  {
    auto k = key("ec");
    PadesOptions o;
    o.hash = Hash::sha384;
    o.extra_certs = {ca_der()};
    auto out = sign_pdf(doc, *k, o);
    ASSERT_TRUE(out.ok()) << out.error().message;
    doc = out->pdf;
  }
  auto rep = verify_pdf(doc, {ca_der()});
  ASSERT_TRUE(rep.ok());
  ASSERT_EQ(rep->signatures.size(), 2u);
  EXPECT_EQ(rep->signatures[0].signature_algorithm, "rsassaPss");
  EXPECT_EQ(rep->signatures[1].digest_algorithm, "sha384");
  for (const auto& s : rep->signatures)
    EXPECT_TRUE(s.valid) << s.field_name << ": " << s.integrity_detail << s.chain_detail << (s.pades_problems.empty() ? "" : s.pades_problems[0]);
  EXPECT_FALSE(rep->signatures[0].covers_whole_document);
  EXPECT_EQ(rep->signatures[0].later_revisions, 1u);
  EXPECT_TRUE(rep->signatures[1].covers_whole_document);
}

TEST_F(SoftPki, WrongKeyTypeForSchemeIsRefused) {
  auto k = key("ec");
  PadesOptions o;
  o.scheme = Scheme::rsa_pss;
  auto out = sign_pdf(pdf(), *k, o);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, Errc::invalid_argument);
}

TEST_F(SoftPki, AnyChangedByteInASignedRangeFailsVerification) {
  auto k = key("rsa");
  PadesOptions o;
  o.extra_certs = {ca_der()};
  auto out = sign_pdf(pdf(), *k, o);
  ASSERT_TRUE(out.ok());
  auto ins = pdf::inspect(out->pdf);
  const auto& br = ins->signatures[0].byte_range;
  // One byte in the first range (inside the original document) and one in the second (after /Contents).
  for (std::size_t at : {std::size_t(10), static_cast<std::size_t>(br[2] + 5)}) {
    Bytes t = out->pdf;
    t[at] ^= 0x01;
    auto rep = verify_pdf(t, {ca_der()});
    if (!rep.ok()) continue;  // unreadable is a failure too
    ASSERT_EQ(rep->signatures.size(), 1u) << at;
    EXPECT_FALSE(rep->signatures[0].intact) << at;
    EXPECT_FALSE(rep->all_valid) << at;
  }
}

TEST_F(SoftPki, UntrustedChainIsReported) {
  auto k = key("rsa");
  auto out = sign_pdf(pdf(), *k, PadesOptions{});
  ASSERT_TRUE(out.ok());
  // Some other root as the only anchor.
  auto other = test::run("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + file("o.key") + " -out " +
                         file("o.pem") + " -days 1 -subj /CN=Other");
  ASSERT_EQ(other.status, 0) << other.out;
  auto anchors = load_certificates(must_read(file("o.pem")), "o");
  auto rep = verify_pdf(out->pdf, *anchors);
  ASSERT_TRUE(rep.ok());
  EXPECT_TRUE(rep->signatures[0].intact);
  EXPECT_EQ(rep->signatures[0].chain, SignatureReport::Chain::untrusted);
  EXPECT_FALSE(rep->all_valid);
}

// The rsa certificate again (same key and name), re-issued by the unit CA with notBefore and
// notAfter `from` and `until` seconds from now.
std::string reissued_pem(const std::string& dir, long from, long until) {
  auto read_pem = [](const std::string& path, auto reader) {
    std::unique_ptr<BIO, decltype(&BIO_free)> b(BIO_new_file(path.c_str(), "r"), BIO_free);
    return reader(b.get(), nullptr, nullptr, nullptr);
  };
  std::unique_ptr<X509, decltype(&X509_free)> cert(read_pem(dir + "/rsa.pem", PEM_read_bio_X509), X509_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ca_key(read_pem(dir + "/ca.key", PEM_read_bio_PrivateKey), EVP_PKEY_free);
  if (!cert || !ca_key) return {};
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), from);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), until);
  if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) <= 0) return {};
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(out.get(), cert.get());
  char* p = nullptr;
  long n = BIO_get_mem_data(out.get(), &p);
  return std::string(p, static_cast<std::size_t>(n));
}

// Counts the signatures it is asked for: the token must never be asked for one.
class CountingKey final : public SigningKey {
 public:
  explicit CountingKey(std::unique_ptr<SigningKey> k) : k_(std::move(k)) {}
  const Bytes& certificate() const override { return k_->certificate(); }
  std::vector<Bytes> ca_certificates() const override { return k_->ca_certificates(); }
  bool is_rsa() const override { return k_->is_rsa(); }
  std::size_t max_signature_size() const override { return k_->max_signature_size(); }
  Result<Bytes> sign_digest(Hash h, Scheme s, std::span<const std::uint8_t> d) override {
    ++signatures;
    return k_->sign_digest(h, s, d);
  }
  int signatures = 0;

 private:
  std::unique_ptr<SigningKey> k_;
};

// Circular 15/2025: the certificate is checked before signing. Expired or not yet valid: refused
// with the reason and the dates, and the key is never asked to sign; a valid one signs once.
TEST_F(SoftPki, ExpiredOrNotYetValidCertificateIsRefusedBeforeTheKeySigns) {
  struct Case {
    const char* name;
    long from, until;
    const char* reason;  // "" : signs
  } cases[] = {{"expired yesterday", -30L * 86400, -86400, " expired on "},
               {"valid from tomorrow", 86400, 30L * 86400, " is not valid until "},
               {"valid now", -60, 86400, ""}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::string pem = reissued_pem(dir_->path(), c.from, c.until);
    ASSERT_FALSE(pem.empty());
    CountingKey k(software_key(must_read(file("rsa.key")), Bytes(pem.begin(), pem.end())));
    PadesOptions o;
    o.extra_certs = {ca_der()};
    auto out = sign_pdf(pdf(), k, o);
    if (!*c.reason) {
      ASSERT_TRUE(out.ok()) << out.error().message;
      EXPECT_EQ(k.signatures, 1);
      continue;
    }
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(k.signatures, 0) << "the key was asked to sign";
    EXPECT_EQ(out.error().code, Errc::verify_failed);
    const std::string& m = out.error().message;
    EXPECT_EQ(m.rfind("the signer's certificate CN=Nguyễn Văn An,C=VN (serial 02)", 0), 0u) << m;
    EXPECT_NE(m.find(c.reason), std::string::npos) << m;
    EXPECT_NE(m.find("+07:00 (valid from "), std::string::npos) << m;
    EXPECT_NE(m.find("; signing refused"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    // prepare_and_sign (the CLI's and the batch's way) refuses it the same.
    auto pending = prepare_and_sign(pdf(), k, o);
    ASSERT_FALSE(pending.ok());
    EXPECT_EQ(pending.error().message, m);
    EXPECT_EQ(k.signatures, 0);
  }
}

// A CMS that is not PAdES (OpenSSL's defaults, as podofosign makes: signing-time, no
// signing-certificate-v2) is intact but reported as not conformant and not valid.
TEST_F(SoftPki, NonPadesCmsIsNotValid) {
  pdf::SignatureRequest req;
  req.contents_size = 8192;
  auto p = pdf::prepare_signature(pdf(), req);
  ASSERT_TRUE(p.ok());
  Bytes data = pdf::signed_bytes(*p);
  BIO* in = BIO_new_mem_buf(data.data(), static_cast<int>(data.size()));
  BIO* kb = BIO_new_file(file("rsa.key").c_str(), "r");
  BIO* cb = BIO_new_file(file("rsa.pem").c_str(), "r");
  EVP_PKEY* pk = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  X509* x = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  CMS_ContentInfo* cms = CMS_sign(x, pk, nullptr, in, CMS_DETACHED | CMS_BINARY);
  ASSERT_NE(cms, nullptr);
  unsigned char* der = nullptr;
  int len = i2d_CMS_ContentInfo(cms, &der);
  ASSERT_GT(len, 0);
  ASSERT_TRUE(pdf::embed_signature(*p, Bytes(der, der + len)).ok());
  OPENSSL_free(der);
  CMS_ContentInfo_free(cms);
  EVP_PKEY_free(pk);
  X509_free(x);
  BIO_free(in);
  BIO_free(kb);
  BIO_free(cb);

  auto rep = verify_pdf(p->file, {ca_der()});
  ASSERT_TRUE(rep.ok());
  ASSERT_EQ(rep->signatures.size(), 1u);
  EXPECT_TRUE(rep->signatures[0].intact);
  EXPECT_FALSE(rep->signatures[0].pades_problems.empty());
  EXPECT_FALSE(rep->signatures[0].valid);
}

TEST(PdfDate, VietnamTime) {
  auto t = std::chrono::system_clock::from_time_t(1795305600);  // 2026-11-22T00:00:00Z
  EXPECT_EQ(pdf_date(t, 7 * 60), "D:20261122070000+07'00'");
  EXPECT_EQ(pdf_date(t, 0), "D:20261122000000+00'00'");
}
