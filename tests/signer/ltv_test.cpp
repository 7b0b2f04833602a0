// PAdES B-LT and B-LTA without a network: the DSS as an incremental update (merging, no duplicates,
// qpdf --check), OCSP responses and CRLs from the openssl command checked (delegated responder,
// revoked, unauthorised responder, nonce, tampered, stale), the revocation checker (OCSP, then
// the CRL, the CRL cache, offline files), and sign -> extend B-LT -> B-LTA -> B-LTA again with the
// verifier naming each level. A fake Fetcher answers OCSP with `openssl ocsp -reqin`, CRLs from
// files, and timestamps from an in-process TSA.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ts.h>

#include <map>
#include <memory>
#include <set>
#include <string>

#include "hocba/common/fileio.h"
#include "hocba/pdf/dss.h"
#include "hocba/pdf/signing.h"
#include "hocba/signer/key.h"
#include "hocba/signer/ltv.h"
#include "hocba/signer/pades.h"
#include "hocba/signer/revocation.h"
#include "hocba/signer/timestamp.h"
#include "hocba/signer/verify.h"
#include "test_env.h"

using namespace hocba;
using namespace hocba::signer;
using namespace std::chrono_literals;

namespace {

Bytes must_read(const std::string& path) {
  auto b = read_file(path);
  if (!b) throw std::runtime_error(b.error().message);
  return *b;
}

Bytes der_cert(const std::string& pem_path) { return (*load_certificates(must_read(pem_path), pem_path))[0]; }

Bytes to_bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

int count(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (auto at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + needle.size())) ++n;
  return n;
}

// An in-process TSA on the real clock (EC key).
class Tsa {
 public:
  Tsa(const std::string& key_pem, const std::string& cert_pem, const std::string& chain_pem) {
    ctx_ = TS_RESP_CTX_new();
    BIO* kb = BIO_new_file(key_pem.c_str(), "r");
    BIO* cb = BIO_new_file(cert_pem.c_str(), "r");
    BIO* chb = BIO_new_file(chain_pem.c_str(), "r");
    EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    STACK_OF(X509)* chain = sk_X509_new_null();
    sk_X509_push(chain, PEM_read_bio_X509(chb, nullptr, nullptr, nullptr));
    ok_ = key && cert && TS_RESP_CTX_set_signer_cert(ctx_, cert) == 1 && TS_RESP_CTX_set_signer_key(ctx_, key) == 1 &&
          TS_RESP_CTX_set_certs(ctx_, chain) == 1;
    ASN1_OBJECT* policy = OBJ_txt2obj("1.3.6.1.4.1.55555.1.1", 1);
    TS_RESP_CTX_set_def_policy(ctx_, policy);
    ASN1_OBJECT_free(policy);
    for (const EVP_MD* md : {EVP_sha256(), EVP_sha384(), EVP_sha512()}) TS_RESP_CTX_add_md(ctx_, md);
    TS_RESP_CTX_set_ess_cert_id_digest(ctx_, EVP_sha256());
    EVP_PKEY_free(key);
    X509_free(cert);
    sk_X509_pop_free(chain, X509_free);
    BIO_free(kb);
    BIO_free(cb);
    BIO_free(chb);
  }
  ~Tsa() { TS_RESP_CTX_free(ctx_); }
  bool ok() const { return ok_; }
  Bytes respond(std::span<const std::uint8_t> query) {
    BIO* in = BIO_new_mem_buf(query.data(), static_cast<int>(query.size()));
    TS_RESP* resp = TS_RESP_create_response(ctx_, in);
    BIO_free(in);
    Bytes out;
    int n = resp ? i2d_TS_RESP(resp, nullptr) : 0;
    if (n > 0) {
      out.resize(static_cast<std::size_t>(n));
      unsigned char* p = out.data();
      i2d_TS_RESP(resp, &p);
    }
    TS_RESP_free(resp);
    ERR_clear_error();
    return out;
  }

 private:
  TS_RESP_CTX* ctx_ = nullptr;
  bool ok_ = false;
};

// http://ocsp.test/ (openssl ocsp on the issuing CA's index), http://crl.test/NAME (files),
// http://tsa.test/ (the TSA). URLs in `down` cannot be reached.
class FakeNet final : public Fetcher {
 public:
  FakeNet(std::string dir, Tsa& tsa) : dir_(std::move(dir)), tsa_(tsa) {}
  std::set<std::string> down;
  std::map<std::string, int> calls;
  std::string responder = "ocsp";  // the responder certificate and key that sign OCSP answers

  Result<Bytes> post(const std::string& url, const std::string& content_type, std::span<const std::uint8_t> body,
                     std::chrono::milliseconds) override {
    ++calls[url];
    if (down.count(url)) return make_error(Errc::unavailable, "cannot connect to " + url + ": Connection refused");
    if (content_type == "application/timestamp-query") return tsa_.respond(body);
    if (content_type != "application/ocsp-request") return make_error(Errc::unavailable, "HTTP 415");
    test::write_text(dir_ + "/req.der", std::string(body.begin(), body.end()));
    auto r = test::run("cd " + dir_ + " && openssl ocsp -index sub-db/index.txt -rsigner " + responder + ".pem -rkey " + responder +
                       ".key -CA sub.pem -reqin req.der -respout resp.der -nmin 60");
    if (r.status != 0) return make_error(Errc::unavailable, "responder failed: " + r.out);
    return must_read(dir_ + "/resp.der");
  }
  Result<Bytes> get(const std::string& url, std::chrono::milliseconds) override {
    ++calls[url];
    if (down.count(url)) return make_error(Errc::unavailable, "cannot connect to " + url + ": Connection refused");
    const std::string prefix = "http://crl.test/";
    if (url.rfind(prefix, 0) != 0) return make_error(Errc::unavailable, "HTTP 404");
    auto b = read_file(dir_ + "/" + url.substr(prefix.size()));
    if (!b) return make_error(Errc::unavailable, url + " answered HTTP 404");
    return *b;
  }

 private:
  std::string dir_;
  Tsa& tsa_;
};

const char* kPki = R"(set -e
mkdir -p root-db sub-db
: > root-db/index.txt; : > sub-db/index.txt; echo 01 > root-db/crlnumber; echo 01 > sub-db/crlnumber
cat > ca.cnf <<CNF
[root]
database = $PWD/root-db/index.txt
crlnumber = $PWD/root-db/crlnumber
default_md = sha256
default_crl_days = 7
[sub]
database = $PWD/sub-db/index.txt
crlnumber = $PWD/sub-db/crlnumber
default_md = sha256
default_crl_days = 7
[sub_ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:http://crl.test/root.crl
[responder]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, OCSPSigning
noCheck = ignored
[rogue]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
authorityInfoAccess = OCSP;URI:http://ocsp.test/
crlDistributionPoints = URI:http://crl.test/sub.crl
CNF
ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $1.key 2>/dev/null; }
ec root
openssl req -x509 -new -key root.key -out root.pem -days 30 -subj "/C=VN/O=hocba unit LTV PKI/CN=Unit LTV Root" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
# issue NAME ISSUER SECTION SUBJECT
issue() {
  ec $1
  openssl req -new -utf8 -key $1.key -subj "$4" -out $1.csr
  openssl x509 -req -in $1.csr -CA $2.pem -CAkey $2.key -set_serial 0x$(openssl rand -hex 8) -days 30 -extfile ca.cnf \
    -extensions $3 -out $1.pem 2>/dev/null
  openssl ca -config ca.cnf -name $2 -valid $1.pem -keyfile $2.key -cert $2.pem 2>/dev/null
}
issue sub root sub_ca "/C=VN/O=hocba unit LTV PKI/CN=Unit LTV Issuing CA"
issue ocsp sub responder "/C=VN/O=hocba unit LTV PKI/CN=Unit OCSP Responder"
issue rogue sub rogue "/C=VN/O=hocba unit LTV PKI/CN=Not A Responder"
issue good sub leaf "/C=VN/O=Trường Tiểu học/CN=Võ Tuấn Cường"
issue revoked sub leaf "/C=VN/O=Trường Tiểu học/CN=Bị Thu Hồi"
issue nodata sub leaf "/C=VN/O=Trường Tiểu học/CN=Không Có Dữ Liệu"
openssl ca -config ca.cnf -name sub -revoke revoked.pem -keyfile sub.key -cert sub.pem -crl_reason keyCompromise 2>/dev/null
openssl ca -config ca.cnf -name root -gencrl -keyfile root.key -cert root.pem -out root.crl 2>/dev/null
openssl ca -config ca.cnf -name sub -gencrl -keyfile sub.key -cert sub.pem -out sub.crl 2>/dev/null
openssl crl -in sub.crl -outform DER -out sub.crl.der
)";

class Ltv : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    test::write_text(dir_->file("pki.sh"), kPki);
    auto r = test::run("cd " + dir_->path() + " && bash pki.sh");
    ASSERT_EQ(r.status, 0) << r.out;
    test::make_tsa_certificate(dir_->file("tsa"), dir_->file("sub.pem"), dir_->file("sub.key"), "/C=VN/O=hocba unit LTV PKI/CN=Unit LTV TSA",
                               "ec", "critical,timeStamping",
                               "authorityInfoAccess=OCSP;URI:http://ocsp.test/\ncrlDistributionPoints=URI:http://crl.test/sub.crl\n");
    r = test::run("cd " + dir_->path() + " && openssl ca -config ca.cnf -name sub -valid tsa.pem -keyfile sub.key -cert sub.pem");
    ASSERT_EQ(r.status, 0) << r.out;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string file(const std::string& n) { return dir_->file(n); }
  static Bytes cert(const std::string& name) { return der_cert(file(name + ".pem")); }
  static Bytes pdf() { return must_read(std::string(HOCBA_TEST_DATA) + "/pdf/cairo.pdf"); }
  std::unique_ptr<SigningKey> key(const std::string& name) {
    return software_key(must_read(file(name + ".key")), must_read(file(name + ".pem")), {cert("sub")});
  }
  // The OCSP response `openssl ocsp` gives for our request about `name`.
  Bytes ocsp_for(const std::string& name, Bytes* request = nullptr, const std::string& responder = "ocsp") {
    auto req = make_ocsp_request(cert(name), cert("sub"));
    EXPECT_TRUE(req.ok());
    if (request) *request = *req;
    net_.responder = responder;
    auto resp = net_.post("http://ocsp.test/", "application/ocsp-request", *req, 1s);
    net_.responder = "ocsp";
    EXPECT_TRUE(resp.ok()) << resp.error().message;
    return resp.ok() ? *resp : Bytes{};
  }
  TimestampClient tsa_client() {
    TimestampClientOptions o;
    o.urls = {"http://tsa.test/"};
    o.retries = 0;
    o.backoff = 1ms;
    return TimestampClient(net_, o);
  }
  RevocationOptions rev_opts(const std::string& offline = "") {
    RevocationOptions o;
    o.retries = 0;
    o.backoff = 1ms;
    o.offline_dir = offline;
    return o;
  }

  static test::TempDir* dir_;
  Tsa tsa_{file("tsa.key"), file("tsa.pem"), file("sub.pem")};
  FakeNet net_{dir_->path(), tsa_};
};
test::TempDir* Ltv::dir_ = nullptr;

}  // namespace

TEST_F(Ltv, DssIsAnAppendOnlyUpdateThatMergesWithoutDuplicates) {
  ASSERT_TRUE(test::have_tool("qpdf")) << "install qpdf";
  const std::string key1(40, 'A'), key2 = std::string(39, '0') + "F";
  for (const char* fixture : {"cairo.pdf", "qpdf-classic.pdf", "qpdf-xrefstream.pdf", "qpdf-linearized.pdf", "form-empty-field.pdf"}) {
    SCOPED_TRACE(fixture);
    Bytes in = must_read(std::string(HOCBA_TEST_DATA) + "/pdf/" + fixture);
    pdf::DssData d1;
    d1.certs = {cert("root"), cert("sub")};
    d1.ocsps = {to_bytes("first OCSP response")};
    d1.vri = {{key1, {cert("sub")}, {}, {must_read(file("sub.crl.der"))}, "D:20261122093000+07'00'"}};
    auto a = pdf::add_dss(in, d1);
    ASSERT_TRUE(a.ok()) << a.error().message;
    ASSERT_GT(a->size(), in.size());
    EXPECT_TRUE(std::equal(in.begin(), in.end(), a->begin())) << "append-only";
    std::string added(a->begin() + static_cast<std::ptrdiff_t>(in.size()), a->end());
    EXPECT_NE(added.find("/ESIC"), std::string::npos);
    EXPECT_NE(added.find("/FlateDecode"), std::string::npos);
    test::write_text(dir_->file("dss1.pdf"), std::string(a->begin(), a->end()));
    auto q = test::run("qpdf --check " + dir_->file("dss1.pdf"));
    EXPECT_EQ(q.status, 0) << q.out;

    auto r1 = pdf::read_dss(*a);
    ASSERT_TRUE(r1.ok());
    EXPECT_TRUE(r1->present);
    EXPECT_EQ(r1->certs.size(), 2u);
    EXPECT_EQ(r1->ocsps, std::vector<Bytes>{to_bytes("first OCSP response")});
    EXPECT_EQ(r1->crls, std::vector<Bytes>{must_read(file("sub.crl.der"))}) << "VRI blobs join the DSS arrays";
    ASSERT_EQ(r1->vri.count(key1), 1u);
    EXPECT_EQ(r1->vri[key1].certs, std::vector<Bytes>{cert("sub")});
    EXPECT_EQ(r1->vri[key1].tu, "D:20261122093000+07'00'");

    // A second extension: what is there is kept and referenced, not added again.
    pdf::DssData d2;
    d2.compress = false;
    d2.certs = {cert("sub"), cert("good")};
    d2.vri = {{key1, {cert("sub"), cert("good")}, {to_bytes("second OCSP response")}, {}, ""},
              {key2, {cert("root")}, {to_bytes("first OCSP response")}, {}, ""}};
    auto b = pdf::add_dss(*a, d2);
    ASSERT_TRUE(b.ok()) << b.error().message;
    EXPECT_TRUE(std::equal(a->begin(), a->end(), b->begin()));
    test::write_text(dir_->file("dss2.pdf"), std::string(b->begin(), b->end()));
    q = test::run("qpdf --check " + dir_->file("dss2.pdf"));
    EXPECT_EQ(q.status, 0) << q.out;
    auto r2 = pdf::read_dss(*b);
    ASSERT_TRUE(r2.ok());
    EXPECT_EQ(r2->certs.size(), 3u);
    EXPECT_EQ(r2->ocsps.size(), 2u);
    EXPECT_EQ(r2->crls.size(), 1u);
    ASSERT_EQ(r2->vri.size(), 2u);
    EXPECT_EQ(r2->vri[key1].certs.size(), 2u);
    EXPECT_EQ(r2->vri[key1].crls.size(), 1u) << "the first extension's entry is kept";
    EXPECT_EQ(r2->vri[key1].ocsps, std::vector<Bytes>{to_bytes("second OCSP response")});
    EXPECT_EQ(r2->vri[key2].ocsps, std::vector<Bytes>{to_bytes("first OCSP response")});

    // Nothing new: the file is returned unchanged.
    auto c = pdf::add_dss(*b, d2);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(*c, *b);
    // The document as a whole still reads (the /ByteRange-free part of PoDoFo's view).
    EXPECT_TRUE(pdf::inspect(*b).ok());
  }
  EXPECT_FALSE(pdf::add_dss(pdf(), {{}, {}, {}, {{"not-hex", {}, {}, {}, ""}}}).ok());
}

TEST_F(Ltv, VriKeyIsTheUppercaseSha1OfContents) {
  Bytes abc = to_bytes("abc");
  EXPECT_EQ(pdf::vri_key(abc), "A9993E364706816ABA3E25717850C26C9CD0D89D");
}

TEST_F(Ltv, OcspAnswersAreCheckedBeforeUse) {
  Bytes req;
  Bytes good = ocsp_for("good", &req);
  auto g = check_ocsp_response(good, cert("good"), cert("sub"), {}, std::chrono::system_clock::now(), req);
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(g->status, CertStatus::good);
  EXPECT_EQ(g->source, RevocationStatus::Source::ocsp);
  ASSERT_EQ(g->certs.size(), 1u);
  EXPECT_EQ(g->certs[0], cert("ocsp")) << "the delegated responder's certificate comes with it";
  EXPECT_NE(g->next_update, std::chrono::system_clock::time_point{});
  EXPECT_NE(g->subject.find("CN=Võ Tuấn Cường"), std::string::npos) << g->subject;

  auto rv = check_ocsp_response(ocsp_for("revoked"), cert("revoked"), cert("sub"), {}, std::chrono::system_clock::now());
  ASSERT_TRUE(rv.ok()) << rv.error().message;
  EXPECT_EQ(rv->status, CertStatus::revoked);
  EXPECT_EQ(rv->reason, "keyCompromise");
  EXPECT_LE(rv->revoked_at, std::chrono::system_clock::now());

  struct Case {
    Bytes response;
    Bytes cert;
    Bytes request;
    const char* says;
  } cases[] = {
      {ocsp_for("good", nullptr, "rogue"), cert("good"), {}, "not signed by the certificate's issuer or a responder it authorised"},
      {ocsp_for("good"), cert("good"), req, "nonce does not match"},
      {good, cert("revoked"), {}, "does not cover this certificate"},
      {to_bytes("<html>oops</html>"), cert("good"), {}, "not an OCSP response"},
  };
  for (const auto& c : cases) {
    auto r = check_ocsp_response(c.response, c.cert, cert("sub"), {}, std::chrono::system_clock::now(), c.request);
    ASSERT_FALSE(r.ok()) << c.says;
    EXPECT_NE(r.error().message.find(c.says), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  }
  // Stale: checked as of a day after its nextUpdate.
  auto stale = check_ocsp_response(good, cert("good"), cert("sub"), {}, std::chrono::system_clock::now() + 24h);
  ASSERT_FALSE(stale.ok());
  EXPECT_NE(stale.error().message.find("out of date"), std::string::npos) << stale.error().message;
  // Later verification (no freshness): still good.
  EXPECT_TRUE(check_ocsp_response(good, cert("good"), cert("sub"), {}, std::nullopt).ok());
}

TEST_F(Ltv, CrlsAreCheckedBeforeUse) {
  Bytes crl = must_read(file("sub.crl.der"));
  auto now = std::chrono::system_clock::now();
  auto g = check_crl(crl, cert("good"), cert("sub"), now);
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(g->status, CertStatus::good);
  EXPECT_EQ(g->evidence, crl);
  auto r = check_crl(must_read(file("sub.crl")), cert("revoked"), cert("sub"), now);  // PEM too
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, CertStatus::revoked);
  EXPECT_EQ(r->reason, "keyCompromise");
  EXPECT_EQ(r->evidence, crl) << "kept as DER";
  // PEM as CAs serve it (the Vietnam National Root CA's CRL has been seen so): CRLF line ends,
  // a blank line first.
  std::string pem = "\r\n";
  for (char ch : test::read_text(file("sub.crl"))) pem += ch == '\n' ? std::string("\r\n") : std::string(1, ch);
  auto p = check_crl(Bytes(pem.begin(), pem.end()), cert("revoked"), cert("sub"), now);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->status, CertStatus::revoked);
  EXPECT_EQ(p->evidence, crl);
  // Not a CRL: garbage, a page that quotes a PEM CRL, a DER CRL with bytes after it.
  std::string page = "<html><body><pre>\n" + test::read_text(file("sub.crl")) + "</pre></body></html>\n";
  Bytes trailing = crl;
  trailing.push_back(0);
  for (const Bytes& junk : {Bytes{'n', 'o', 't', ' ', 'a', ' ', 'C', 'R', 'L'}, Bytes(page.begin(), page.end()), trailing,
                            Bytes(pem.begin(), pem.begin() + static_cast<std::ptrdiff_t>(pem.size() / 2))}) {
    auto j = check_crl(junk, cert("good"), cert("sub"), now);
    ASSERT_FALSE(j.ok());
    EXPECT_EQ(j.error().code, Errc::verify_failed);
    EXPECT_EQ(j.error().message, "the answer is not a CRL (DER or PEM)");
  }

  auto wrong = check_crl(must_read(file("root.crl")), cert("good"), cert("sub"), now);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("is issued by"), std::string::npos) << wrong.error().message;
  Bytes tampered = crl;
  tampered[tampered.size() - 5] ^= 0x01;
  auto t = check_crl(tampered, cert("good"), cert("sub"), now);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("does not verify"), std::string::npos) << t.error().message;
  auto stale = check_crl(crl, cert("good"), cert("sub"), now + 24h * 30);
  ASSERT_FALSE(stale.ok());
  EXPECT_NE(stale.error().message.find("out of date"), std::string::npos) << stale.error().message;

  EXPECT_EQ(ocsp_urls(cert("good")), std::vector<std::string>{"http://ocsp.test/"});
  EXPECT_EQ(crl_urls(cert("good")), std::vector<std::string>{"http://crl.test/sub.crl"});
  EXPECT_EQ(crl_urls(cert("sub")), std::vector<std::string>{"http://crl.test/root.crl"});
  EXPECT_TRUE(has_ocsp_nocheck(cert("ocsp")));
  EXPECT_FALSE(has_ocsp_nocheck(cert("good")));
}

TEST_F(Ltv, CheckerAsksOcspThenTheCrlAndCachesTheCrl) {
  RevocationChecker rc(&net_, rev_opts());
  auto g = rc.check(cert("good"), cert("sub"));
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(g->source, RevocationStatus::Source::ocsp);
  EXPECT_EQ(g->origin, "http://ocsp.test/");
  // Asked again: the OCSP answer is reused until its nextUpdate.
  ASSERT_TRUE(rc.check(cert("good"), cert("sub")).ok());
  EXPECT_EQ(net_.calls["http://ocsp.test/"], 1);

  net_.down = {"http://ocsp.test/"};
  auto r = rc.check(cert("revoked"), cert("sub"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->source, RevocationStatus::Source::crl);
  EXPECT_EQ(r->status, CertStatus::revoked);
  auto t = rc.check(cert("tsa"), cert("sub"));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->status, CertStatus::good);
  EXPECT_EQ(net_.calls["http://crl.test/sub.crl"], 1) << "one CRL serves every certificate of the issuer";
  auto s = rc.check(cert("sub"), cert("root"));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->origin, "http://crl.test/root.crl");

  net_.down = {"http://ocsp.test/", "http://crl.test/sub.crl"};
  RevocationChecker fresh(&net_, rev_opts());
  auto none = fresh.check(cert("nodata"), cert("sub"));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, Errc::unavailable);
  const std::string& m = none.error().message;
  EXPECT_EQ(m.rfind("cannot get the revocation status of CN=Không Có Dữ Liệu", 0), 0u) << m;
  EXPECT_NE(m.find("OCSP http://ocsp.test/: cannot connect"), std::string::npos) << m;
  EXPECT_NE(m.find("CRL http://crl.test/sub.crl: cannot connect"), std::string::npos) << m;
  // A URL that could not be reached is not asked again at once (a batch does not wait on it per record).
  int asked = net_.calls["http://ocsp.test/"];
  EXPECT_FALSE(fresh.check(cert("good"), cert("sub")).ok());
  EXPECT_EQ(net_.calls["http://ocsp.test/"], asked);
}

TEST_F(Ltv, OfflineFolderIsUsedWithoutANetwork) {
  test::TempDir off;
  auto r = test::run("cp " + file("sub.crl") + " " + off.file("issuing.crl"));
  ASSERT_EQ(r.status, 0) << r.out;
  Bytes good = ocsp_for("good");
  test::write_text(off.file("good.ocsp"), std::string(good.begin(), good.end()));
  test::write_text(off.file("README.txt"), "not revocation data");
  RevocationChecker rc(nullptr, rev_opts(off.path()));
  ASSERT_TRUE(rc.load_offline().ok());
  auto g = rc.check(cert("good"), cert("sub"));
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(g->source, RevocationStatus::Source::ocsp);
  EXPECT_EQ(g->origin, off.file("good.ocsp"));
  auto rv = rc.check(cert("revoked"), cert("sub"));
  ASSERT_TRUE(rv.ok()) << rv.error().message;
  EXPECT_EQ(rv->status, CertStatus::revoked);
  EXPECT_EQ(rv->origin, off.file("issuing.crl"));
  auto other = rc.check(cert("sub"), cert("root"));  // the root's CRL is not there
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("no file in " + off.path() + " covers it"), std::string::npos) << other.error().message;
  EXPECT_EQ(net_.calls.size(), 1u) << "only the OCSP response made above";
  test::run("cp " + file("root.crl") + " " + off.file("root.der"));
  RevocationChecker with_root(nullptr, rev_opts(off.path()));
  EXPECT_TRUE(with_root.check(cert("sub"), cert("root")).ok());

  RevocationChecker missing(nullptr, rev_opts(off.file("nope")));
  EXPECT_FALSE(missing.load_offline().ok());
}

TEST_F(Ltv, SignExtendToLtAndLtaAndRenewTheArchiveTimestamp) {
  ASSERT_TRUE(tsa_.ok());
  auto k = key("good");
  auto tsa = tsa_client();
  RevocationChecker rc(&net_, rev_opts());
  LtvOptions lo;
  lo.revocation = &rc;
  lo.trust_anchors = {cert("root")};
  std::vector<Bytes> anchors = {cert("root")};

  PadesOptions o;
  o.level = Level::B_T;
  o.timestamps = &tsa;
  auto bt = sign_pdf(pdf(), *k, o);
  ASSERT_TRUE(bt.ok()) << bt.error().message;
  auto v0 = verify_pdf(bt->pdf, anchors);
  ASSERT_TRUE(v0.ok());
  ASSERT_EQ(v0->signatures.size(), 1u);
  EXPECT_EQ(v0->signatures[0].level, "B-T");
  EXPECT_EQ(v0->signatures[0].revocation.status, "not_checked");
  EXPECT_NE(v0->signatures[0].summary.find("timestamped (B-T)"), std::string::npos) << v0->signatures[0].summary;

  auto lt = extend(bt->pdf, Level::B_LT, lo);
  ASSERT_TRUE(lt.ok()) << lt.error().message;
  EXPECT_TRUE(lt->complete) << (lt->warnings.empty() ? "" : lt->warnings[0]);
  EXPECT_EQ(lt->level, Level::B_LT);
  EXPECT_TRUE(std::equal(bt->pdf.begin(), bt->pdf.end(), lt->pdf.begin()));
  auto v1 = verify_pdf(lt->pdf, anchors);
  ASSERT_TRUE(v1.ok());
  const auto& s1 = v1->signatures[0];
  EXPECT_TRUE(s1.valid) << to_text(*v1);
  EXPECT_EQ(s1.level, "B-LT") << s1.long_term.missing;
  EXPECT_EQ(s1.revocation.status, "good");
  EXPECT_EQ(s1.revocation.source, "DSS OCSP");
  EXPECT_TRUE(v1->dss_present);
  // The VRI key is the SHA-1 of the signature's /Contents.
  auto ins = pdf::inspect(lt->pdf);
  auto dss = pdf::read_dss(lt->pdf);
  ASSERT_TRUE(ins.ok() && dss.ok());
  EXPECT_EQ(dss->vri.count(pdf::vri_key(ins->signatures[0].contents)), 1u);
  EXPECT_GE(dss->crls.size(), 1u) << "the issuing CA's status comes from the root's CRL";

  auto lta = extend(lt->pdf, Level::B_LTA, [&] {
    LtvOptions x = lo;
    x.timestamps = &tsa;
    return x;
  }());
  ASSERT_TRUE(lta.ok()) << lta.error().message;
  EXPECT_EQ(lta->level, Level::B_LTA);
  EXPECT_EQ(lta->archive_field, "ArchiveTimestamp1");
  auto v2 = verify_pdf(lta->pdf, anchors);
  ASSERT_TRUE(v2.ok());
  EXPECT_TRUE(v2->all_valid) << to_text(*v2);
  EXPECT_EQ(v2->signatures[0].level, "B-LTA") << to_text(*v2);
  EXPECT_EQ(v2->signatures[0].long_term.archive_timestamp, "ArchiveTimestamp1");
  ASSERT_EQ(v2->document_timestamps.size(), 1u);
  EXPECT_TRUE(v2->document_timestamps[0].valid) << v2->document_timestamps[0].detail;
  EXPECT_TRUE(v2->document_timestamps[0].covers_whole_document);
  EXPECT_NE(v2->summary.find("long-term verifiable until the archive timestamp's certificate expires on"), std::string::npos)
      << v2->summary;

  // Renewal: the previous archive timestamp's TSA gets its validation data, then a new one.
  LtvOptions x = lo;
  x.timestamps = &tsa;
  auto again = extend(lta->pdf, Level::B_LTA, x);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->archive_field, "ArchiveTimestamp2");
  EXPECT_EQ(again->signatures, 2u) << "the signature and the previous archive timestamp";
  auto v3 = verify_pdf(again->pdf, anchors);
  ASSERT_TRUE(v3.ok());
  EXPECT_TRUE(v3->all_valid) << to_text(*v3);
  EXPECT_EQ(v3->signatures[0].level, "B-LTA");
  ASSERT_EQ(v3->document_timestamps.size(), 2u);
  EXPECT_FALSE(v3->document_timestamps[0].covers_whole_document);
  EXPECT_TRUE(v3->document_timestamps[1].covers_whole_document);
  auto dss3 = pdf::read_dss(again->pdf);
  auto ins3 = pdf::inspect(again->pdf);
  ASSERT_TRUE(dss3.ok() && ins3.ok());
  EXPECT_EQ(dss3->vri.size(), 2u);
  for (const auto& s : ins3->signatures) {
    if (s.field_name == "ArchiveTimestamp1") {
      EXPECT_EQ(dss3->vri.count(pdf::vri_key(s.contents)), 1u);
    }
  }
  std::string json = to_json(*v3);
  EXPECT_NE(json.find("\"document_timestamps\":["), std::string::npos);
  EXPECT_NE(json.find("\"source\":\"DSS OCSP\""), std::string::npos) << json;

  // Changing one byte of the covered DSS breaks the archive timestamp.
  Bytes broken = again->pdf;
  auto where = std::string(broken.begin(), broken.end()).find("/ESIC");
  ASSERT_NE(where, std::string::npos);
  broken[where + 1] = 'Z';
  auto vb = verify_pdf(broken, anchors);
  ASSERT_TRUE(vb.ok());
  EXPECT_FALSE(vb->all_valid);
}

TEST_F(Ltv, SignPdfAtBLtaInOneCall) {
  auto k = key("good");
  auto tsa = tsa_client();
  RevocationChecker rc(&net_, rev_opts());
  LtvOptions lo;
  lo.revocation = &rc;
  lo.trust_anchors = {cert("root")};
  PadesOptions o;
  o.level = Level::B_LTA;
  o.timestamps = &tsa;
  o.ltv = &lo;
  auto out = sign_pdf(pdf(), *k, o);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->level, Level::B_LTA);
  auto v = verify_pdf(out->pdf, {cert("root")});
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->all_valid) << to_text(*v);
  EXPECT_EQ(v->signatures[0].level, "B-LTA");
  // Without LtvOptions, B-LT is refused up front.
  o.ltv = nullptr;
  o.level = Level::B_LT;
  auto refused = sign_pdf(pdf(), *k, o);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::invalid_argument);
}

TEST_F(Ltv, RevokedSignerCertificateIsRefusedUnlessPolicySkip) {
  auto k = key("revoked");
  auto tsa = tsa_client();
  RevocationChecker rc(&net_, rev_opts());
  LtvOptions lo;
  lo.revocation = &rc;
  lo.policy = RevocationPolicy::prefer;
  lo.trust_anchors = {cert("root")};
  PadesOptions o;
  o.level = Level::B_T;
  o.timestamps = &tsa;
  o.ltv = &lo;
  auto out = sign_pdf(pdf(), *k, o);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, Errc::verify_failed);
  const std::string& m = out.error().message;
  EXPECT_NE(m.find("the certificate CN=Bị Thu Hồi"), std::string::npos) << m;
  EXPECT_NE(m.find("was revoked on "), std::string::npos) << m;
  EXPECT_NE(m.find("(keyCompromise)"), std::string::npos) << m;
  EXPECT_NE(m.find("signing refused"), std::string::npos) << m;
  lo.policy = RevocationPolicy::skip;
  EXPECT_TRUE(sign_pdf(pdf(), *k, o).ok());
}

TEST_F(Ltv, UnreachableRevocationRefusesUnderRequireAndWarnsUnderPrefer) {
  net_.down = {"http://ocsp.test/", "http://crl.test/sub.crl", "http://crl.test/root.crl"};
  auto k = key("good");
  auto tsa = tsa_client();
  RevocationChecker rc(&net_, rev_opts());
  LtvOptions lo;
  lo.revocation = &rc;
  lo.trust_anchors = {cert("root")};
  PadesOptions o;
  o.level = Level::B_LT;
  o.timestamps = &tsa;
  o.ltv = &lo;
  auto refused = sign_pdf(pdf(), *k, o);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::unavailable);
  EXPECT_NE(refused.error().message.find("signing refused (revocation policy require"), std::string::npos) << refused.error().message;

  lo.policy = RevocationPolicy::prefer;
  auto out = sign_pdf(pdf(), *k, o);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->level, Level::B_T) << "validation data incomplete";
  EXPECT_FALSE(out->warnings.empty());
  auto v = verify_pdf(out->pdf, {cert("root")});
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->all_valid) << to_text(*v);
  EXPECT_EQ(v->signatures[0].level, "B-T");
  EXPECT_NE(v->signatures[0].long_term.missing.find("the DSS has no verified revocation data for"), std::string::npos)
      << v->signatures[0].long_term.missing;
  EXPECT_EQ(count(to_text(*v), "long-term: "), 1);
}
