// `hocba sign --level B-LT|B-LTA` and `hocba extend` end to end: SoftHSM2 tokens whose signer
// certificates are re-issued by a test PKI with authorityInfoAccess (OCSP) and cRLDistributionPoints,
// `openssl ocsp` as the OCSP responder, our test TSA as the timestamp authority and (--serve-dir) as
// the CRL server. Three signers (GVCN RSA-2048, HT RSA-3072 PSS, seal P-256) reach B-LT and B-LTA,
// checked by pdfsig, qpdf --check and `hocba verify --json`; a revoked certificate is refused;
// unreachable revocation servers under require and prefer; offline mode with no server running;
// two archive timestamps in a row; CRLs served as PEM and as DER, garbage refused; a certificate
// that is expired or not yet valid is refused before the token signs.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "test_env.h"

using namespace hocba;

namespace {

std::string q(const std::string& s) { return "'" + s + "'"; }

int count(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (auto at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + needle.size())) ++n;
  return n;
}

bool exists(const std::string& p) { return std::filesystem::exists(p); }

// The LTV test PKI (root -> issuing CA -> signers, OCSP responder, TSA). $HTTP is the CRL server's
// port, $OCSP the responder's. The token keys get new certificates (their public keys, the subjects
// of the provisioned CSRs); CON-DAU's P-384 key's certificate is revoked.
const char* kPki = R"(set -e
T=$1
mkdir -p root-db sub-db crl
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
crlDistributionPoints = URI:http://127.0.0.1:$HTTP/root.crl
[responder]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, OCSPSigning
noCheck = ignored
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
authorityInfoAccess = OCSP;URI:http://127.0.0.1:$OCSP/
crlDistributionPoints = URI:http://127.0.0.1:$HTTP/sub.crl
CNF
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out root.key 2>/dev/null
openssl req -x509 -new -key root.key -out root.pem -days 30 -subj "/C=VN/O=hocba LTV test PKI/CN=LTV Test Root CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sub.key 2>/dev/null
openssl req -new -key sub.key -subj "/C=VN/O=hocba LTV test PKI/CN=LTV Test Issuing CA" -out sub.csr
openssl x509 -req -in sub.csr -CA root.pem -CAkey root.key -set_serial 0x$(openssl rand -hex 8) -days 30 -extfile ca.cnf \
  -extensions sub_ca -out sub.pem 2>/dev/null
openssl ca -config ca.cnf -name root -valid sub.pem -keyfile root.key -cert root.pem 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ocsp.key 2>/dev/null
openssl req -new -key ocsp.key -subj "/C=VN/O=hocba LTV test PKI/CN=LTV Test OCSP Responder" -out ocsp.csr
openssl x509 -req -in ocsp.csr -CA sub.pem -CAkey sub.key -set_serial 0x$(openssl rand -hex 8) -days 30 -extfile ca.cnf \
  -extensions responder -out ocsp.pem 2>/dev/null
openssl ca -config ca.cnf -name sub -valid ocsp.pem -keyfile sub.key -cert sub.pem 2>/dev/null
for label in gvcn-3a hieu-truong con-dau con-dau-p384; do
  openssl x509 -req -in $T/pki/$label.csr -force_pubkey $T/pki/$label.pub.pem -CA sub.pem -CAkey sub.key \
    -set_serial 0x$(openssl rand -hex 8) -days 30 -extfile ca.cnf -extensions leaf -out $label.pem 2>/dev/null
  openssl x509 -in $label.pem -outform DER -out $label.der
  openssl ca -config ca.cnf -name sub -valid $label.pem -keyfile sub.key -cert sub.pem 2>/dev/null
done
openssl ca -config ca.cnf -name sub -revoke con-dau-p384.pem -keyfile sub.key -cert sub.pem -crl_reason keyCompromise 2>/dev/null
)";

const char* kCrls = R"(set -e
openssl ca -config ca.cnf -name root -gencrl -keyfile root.key -cert root.pem -out crl/root.crl 2>/dev/null
openssl ca -config ca.cnf -name sub -gencrl -keyfile sub.key -cert sub.pem -out crl/sub.crl 2>/dev/null
)";

class LtvCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tokens_ = new test::TempDir();
    pki_ = new test::TempDir();
    test::provision_softhsm(tokens_->path());
    unsetenv("HOCBA_PKCS11_MODULES");
    std::string P = pki_->path();
    std::filesystem::create_directories(P + "/crl");
    // The CRL server first (its port goes into the certificates), then a port for the responder.
    start_files("0");
    files_port_ = files_->port();
    ocsp_port_ = test::closed_port();
    test::write_text(P + "/pki.sh", kPki);
    test::write_text(P + "/crls.sh", kCrls);
    auto r = test::run("cd " + q(P) + " && HTTP=" + std::to_string(files_port_) + " OCSP=" + std::to_string(ocsp_port_) +
                       " bash pki.sh " + q(tokens_->path()) + " && bash crls.sh");
    ASSERT_EQ(r.status, 0) << r.out;
    std::string aia = "authorityInfoAccess=OCSP;URI:http://127.0.0.1:" + std::to_string(ocsp_port_) +
                      "/\ncrlDistributionPoints=URI:http://127.0.0.1:" + std::to_string(files_port_) + "/sub.crl\n";
    test::make_tsa_certificate(P + "/tsa", P + "/sub.pem", P + "/sub.key", "/C=VN/O=hocba LTV test PKI/CN=LTV Test TSA", "rsa:2048",
                               "critical,timeStamping", aia);
    r = test::run("cd " + q(P) + " && openssl ca -config ca.cnf -name sub -valid tsa.pem -keyfile sub.key -cert sub.pem");
    ASSERT_EQ(r.status, 0) << r.out;
    // The tokens' certificates are replaced by the ones with AIA and CDP (same CKA_ID).
    struct Tok {
      const char* token;
      const char* pin;
      const char* id;
      const char* label;
    } toks[] = {{"GVCN-3A", "111111", "01", "gvcn-3a"},
                {"HIEU-TRUONG", "222222", "02", "hieu-truong"},
                {"CON-DAU", "333333", "03", "con-dau"},
                {"CON-DAU", "333333", "04", "con-dau-p384"}};
    for (const auto& t : toks) {
      std::string p11 = std::string("pkcs11-tool --module ") + test::kSoftHsm + " --token-label " + t.token + " --login --pin " + t.pin;
      r = test::run(p11 + " --delete-object --type cert --id " + t.id + " && " + p11 + " --write-object " + q(P + "/" + t.label + ".der") +
                    " --type cert --id " + t.id + " --label " + t.label);
      ASSERT_EQ(r.status, 0) << r.out;
    }
  }
  static void TearDownTestSuite() {
    stop_servers();
    delete pki_;
    delete tokens_;
    pki_ = tokens_ = nullptr;
  }
  static void stop_servers() {
    delete tsa_;
    delete ocsp_;
    delete files_;
    tsa_ = ocsp_ = files_ = nullptr;
  }

  // Every server a test stopped is started again (on the same port: it is in the certificates).
  void SetUp() override {
    if (!files_) start_files(std::to_string(files_port_));
    if (!ocsp_) start_ocsp();
    if (!tsa_)
      tsa_ = new test::ChildServer({HOCBA_TEST_TSA, "--key", pki("tsa.key"), "--cert", pki("tsa.pem"), "--chain", pki("sub.pem"), "--chain",
                                    pki("root.pem"), "--port", "0"},
                                   pki("tsa.log"));
  }
  static void start_files(const std::string& port) {
    files_ = new test::ChildServer({HOCBA_TEST_TSA, "--serve-dir", pki("crl"), "--port", port}, pki("files.log"));
  }
  static void start_ocsp() {
    std::string openssl = test::run("command -v openssl").out;
    while (!openssl.empty() && (openssl.back() == '\n' || openssl.back() == '\r')) openssl.pop_back();
    ocsp_ = new test::ChildServer({openssl, "ocsp", "-index", pki("sub-db/index.txt"), "-port", std::to_string(ocsp_port_),
                                   "-rsigner", pki("ocsp.pem"), "-rkey", pki("ocsp.key"), "-CA", pki("sub.pem"), "-nmin", "60",
                                   "-ignore_err"},
                                  pki("ocsp.log"));
  }

  static std::string pki(const std::string& f) { return pki_->file(f); }
  static std::string pin(const std::string& token) { return tokens_->file("pins/" + token + ".pin"); }
  static std::string cairo() { return std::string(HOCBA_TEST_DATA) + "/pdf/cairo.pdf"; }
  static test::CommandResult hocba(const std::string& args) { return test::run(std::string(HOCBA_CLI) + " " + args); }
  static std::string trust() { return " --trust " + q(pki("root.pem")) + " --chain " + q(pki("sub.pem")); }
  std::string tsa() const { return " --tsa " + tsa_->url(); }

  static std::string gvcn() { return " --key " + q("pkcs11:token=GVCN-3A;object=gvcn-3a?pin-source=file:" + pin("GVCN-3A")); }
  static std::string ht() {
    return " --pss --key 'pkcs11:token=HIEU-TRUONG;object=hieu-truong' --pin-file " + q(pin("HIEU-TRUONG")) + " --field HieuTruong";
  }
  static std::string seal() { return " --key 'pkcs11:token=CON-DAU;id=%03' --pin-file " + q(pin("CON-DAU")) + " --field ConDau"; }

  // `hocba verify --json` with the LTV root.
  boost::json::object verify(const std::string& file, int want_status = 0) {
    auto v = hocba("verify " + q(file) + " --trust " + q(pki("root.pem")) + " --json");
    EXPECT_EQ(v.status, want_status) << v.out;
    try {
      return boost::json::parse(v.out).as_object();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not JSON: " << v.out;
      return {};
    }
  }
  static std::vector<std::string> levels(boost::json::object& j) {
    std::vector<std::string> out;
    for (auto& s : j["signatures"].as_array()) out.emplace_back(s.as_object()["level"].as_string());
    return out;
  }

  void check_with_pdfsig_and_qpdf(const std::string& file, int signatures) {
    ASSERT_TRUE(test::have_tool("pdfsig") && test::have_tool("qpdf")) << "install poppler-utils and qpdf";
    auto ps = test::run("pdfsig " + q(file));
    EXPECT_EQ(count(ps.out, "Signature Type: ETSI.CAdES.detached"), signatures) << ps.out;
    EXPECT_EQ(count(ps.out, "Signature is Valid."), signatures) << ps.out;
    auto qc = test::run("qpdf --check " + q(file));
    EXPECT_EQ(qc.status, 0) << qc.out;
    EXPECT_NE(qc.out.find("No syntax or stream encoding errors found"), std::string::npos) << qc.out;
    // Independent strict reading of every CMS and timestamp token (asn1crypto).
    auto strict = test::run("/usr/bin/python3 " + std::string(HOCBA_SOURCE_DIR) + "/tests/tools/check_pades_cms.py " + q(file));
    EXPECT_EQ(strict.status, 0) << strict.out;
  }

  // The last signature dictionary's /ByteRange and /Contents (the archive timestamp), checked with
  // `openssl ts -verify -data`.
  void verify_archive_timestamp_with_openssl(const std::string& file) {
    std::string pdf = test::read_text(file);
    auto at = pdf.rfind("/ByteRange [");
    ASSERT_NE(at, std::string::npos);
    long long a = 0, b = 0, c = 0, d = 0;
    ASSERT_EQ(std::sscanf(pdf.c_str() + at, "/ByteRange [%lld %lld %lld %lld", &a, &b, &c, &d), 4);
    std::string data = pdf.substr(static_cast<std::size_t>(a), static_cast<std::size_t>(b)) +
                       pdf.substr(static_cast<std::size_t>(c), static_cast<std::size_t>(d));
    std::string hex = pdf.substr(static_cast<std::size_t>(b) + 1, static_cast<std::size_t>(c - b - 2));
    std::string token;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) token += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    test::write_text(dir_.file("covered.bin"), data);
    test::write_text(dir_.file("archive.tst"), token);
    auto v = test::run("openssl ts -verify -data " + q(dir_.file("covered.bin")) + " -in " + q(dir_.file("archive.tst")) +
                       " -token_in -CAfile " + q(pki("root.pem")) + " -untrusted " + q(pki("sub.pem")));
    EXPECT_EQ(v.status, 0) << v.out;
    EXPECT_NE(v.out.find("Verification: OK"), std::string::npos) << v.out;
  }

  test::TempDir dir_;
  static test::TempDir *tokens_, *pki_;
  static test::ChildServer *files_, *ocsp_, *tsa_;
  static int ocsp_port_, files_port_;
};
test::TempDir* LtvCli::tokens_ = nullptr;
test::TempDir* LtvCli::pki_ = nullptr;
test::ChildServer* LtvCli::files_ = nullptr;
test::ChildServer* LtvCli::ocsp_ = nullptr;
test::ChildServer* LtvCli::tsa_ = nullptr;
int LtvCli::ocsp_port_ = 0;
int LtvCli::files_port_ = 0;

}  // namespace

TEST_F(LtvCli, ThreeBTSignaturesExtendedToBLtThenBLtaTwice) {
  std::string s1 = dir_.file("s1.pdf"), s2 = dir_.file("s2.pdf"), s3 = dir_.file("s3.pdf");
  auto r1 = hocba("sign --level B-T" + tsa() + " --in " + q(cairo()) + " --out " + q(s1) + gvcn() + trust());
  ASSERT_EQ(r1.status, 0) << r1.out;
  auto r2 = hocba("sign --level B-T" + tsa() + " --in " + q(s1) + " --out " + q(s2) + ht() + trust());
  ASSERT_EQ(r2.status, 0) << r2.out;
  auto r3 = hocba("sign --level B-T" + tsa() + " --in " + q(s2) + " --out " + q(s3) + seal() + trust());
  ASSERT_EQ(r3.status, 0) << r3.out;
  auto j = verify(s3);
  EXPECT_EQ(levels(j), (std::vector<std::string>{"B-T", "B-T", "B-T"})) << boost::json::serialize(j);
  EXPECT_EQ(j["signatures"].as_array()[0].as_object()["revocation"].as_object()["status"].as_string(), "not_checked");

  // B-LT: validation data for all three signatures and their timestamps.
  std::string lt = dir_.file("lt.pdf");
  auto e1 = hocba("extend " + q(s3) + " --out " + q(lt) + " --level B-LT" + trust());
  ASSERT_EQ(e1.status, 0) << e1.out;
  EXPECT_NE(e1.out.find("hocba: extended " + s3 + " -> " + lt + " (PAdES B-LT; 3 signature(s)"), std::string::npos) << e1.out;
  EXPECT_EQ(count(e1.out, "\n"), 1) << e1.out;
  j = verify(lt);
  EXPECT_EQ(levels(j), (std::vector<std::string>{"B-LT", "B-LT", "B-LT"})) << boost::json::serialize(j);
  for (auto& sv : j["signatures"].as_array()) {
    auto& rv = sv.as_object()["revocation"].as_object();
    EXPECT_EQ(rv["status"].as_string(), "good") << boost::json::serialize(sv);
    EXPECT_EQ(rv["source"].as_string(), "DSS OCSP") << boost::json::serialize(sv);
  }
  EXPECT_TRUE(j["dss"].as_object()["present"].as_bool());
  EXPECT_EQ(j["dss"].as_object()["vri"].as_int64(), 3);
  check_with_pdfsig_and_qpdf(lt, 3);

  // B-LTA: an archive timestamp over it.
  std::string lta = dir_.file("lta.pdf");
  auto e2 = hocba("extend " + q(lt) + " --out " + q(lta) + " --level B-LTA" + tsa() + trust());
  ASSERT_EQ(e2.status, 0) << e2.out;
  EXPECT_NE(e2.out.find("(PAdES B-LTA; "), std::string::npos) << e2.out;
  EXPECT_NE(e2.out.find("archive timestamp "), std::string::npos) << e2.out;
  EXPECT_NE(e2.out.find("in field \"ArchiveTimestamp1\""), std::string::npos) << e2.out;
  j = verify(lta);
  EXPECT_TRUE(j["all_valid"].as_bool()) << boost::json::serialize(j);
  EXPECT_EQ(levels(j), (std::vector<std::string>{"B-LTA", "B-LTA", "B-LTA"})) << boost::json::serialize(j);
  auto& dts = j["document_timestamps"].as_array();
  ASSERT_EQ(dts.size(), 1u);
  EXPECT_TRUE(dts[0].as_object()["valid"].as_bool()) << boost::json::serialize(dts[0]);
  EXPECT_EQ(dts[0].as_object()["tsa"].as_string(), "CN=LTV Test TSA,O=hocba LTV test PKI,C=VN");
  std::string summary(j["summary"].as_string());
  EXPECT_EQ(summary.rfind("Valid: 3 signatures (", 0), 0u) << summary;
  EXPECT_NE(summary.find("the record is PAdES B-LTA, long-term verifiable until the archive timestamp's certificate expires on"),
            std::string::npos)
      << summary;
  check_with_pdfsig_and_qpdf(lta, 3);
  // pdfsig (poppler 22.12) lists the document timestamp as a fourth signature that it cannot check
  // ("Signature Type: unknown"); `openssl ts -verify` checks it independently: the token over the
  // bytes its /ByteRange covers, chained to the root.
  auto ps = test::run("pdfsig " + q(lta));
  EXPECT_NE(ps.out.find("Signature #4:\n  - Signature Field Name: ArchiveTimestamp1\n  - Signer Certificate Common Name: LTV Test TSA"),
            std::string::npos)
      << ps.out;
  EXPECT_EQ(count(ps.out, "Total document signed"), 1) << ps.out;
  EXPECT_GT(ps.out.find("Total document signed"), ps.out.find("Signature #4")) << ps.out;
  verify_archive_timestamp_with_openssl(lta);

  // The archive timestamp renewed: the first one's TSA gets its data, then a second timestamp.
  std::string lta2 = dir_.file("lta2.pdf");
  auto e3 = hocba("extend " + q(lta) + " --out " + q(lta2) + " --level B-LTA" + tsa() + trust());
  ASSERT_EQ(e3.status, 0) << e3.out;
  EXPECT_NE(e3.out.find("in field \"ArchiveTimestamp2\""), std::string::npos) << e3.out;
  EXPECT_NE(e3.out.find("4 signature(s)"), std::string::npos) << "three signatures and the first archive timestamp: " << e3.out;
  j = verify(lta2);
  EXPECT_TRUE(j["all_valid"].as_bool()) << boost::json::serialize(j);
  EXPECT_EQ(levels(j), (std::vector<std::string>{"B-LTA", "B-LTA", "B-LTA"}));
  auto& dts2 = j["document_timestamps"].as_array();
  ASSERT_EQ(dts2.size(), 2u);
  for (auto& d : dts2) EXPECT_TRUE(d.as_object()["valid"].as_bool()) << boost::json::serialize(d);
  EXPECT_FALSE(dts2[0].as_object()["covers_whole_document"].as_bool());
  EXPECT_TRUE(dts2[1].as_object()["covers_whole_document"].as_bool());
  EXPECT_EQ(j["dss"].as_object()["vri"].as_int64(), 4);
  check_with_pdfsig_and_qpdf(lta2, 3);
  verify_archive_timestamp_with_openssl(lta2);

  // Trust anchors from a folder; the text report names the level and the revocation source.
  std::filesystem::create_directories(dir_.file("anchors"));
  std::filesystem::copy_file(pki("root.pem"), dir_.file("anchors/root.crt"));
  auto text = hocba("verify " + q(lta2) + " --trust-dir " + q(dir_.file("anchors")));
  EXPECT_EQ(text.status, 0) << text.out;
  EXPECT_EQ(count(text.out, "level:     PAdES B-LTA"), 3) << text.out;
  EXPECT_EQ(count(text.out, "revocation: good (DSS OCSP, "), 3) << text.out;
  EXPECT_EQ(count(text.out, "chain:     trusted:"), 3) << text.out;
  EXPECT_EQ(count(text.out, "Document timestamp "), 2) << text.out;
}

TEST_F(LtvCli, ThreeSignersSignAtBLtAndTheSealAtBLta) {
  std::string s1 = dir_.file("s1.pdf"), s2 = dir_.file("s2.pdf"), s3 = dir_.file("s3.pdf");
  auto r1 = hocba("sign --level B-LT" + tsa() + " --in " + q(cairo()) + " --out " + q(s1) + gvcn() + trust());
  ASSERT_EQ(r1.status, 0) << r1.out;
  EXPECT_NE(r1.out.find("PAdES B-LT, timestamp "), std::string::npos) << r1.out;
  EXPECT_EQ(count(r1.out, "\n"), 1) << r1.out;
  auto j = verify(s1);
  EXPECT_EQ(levels(j), std::vector<std::string>{"B-LT"}) << boost::json::serialize(j);
  auto r2 = hocba("sign --level B-LT" + tsa() + " --in " + q(s1) + " --out " + q(s2) + ht() + trust());
  ASSERT_EQ(r2.status, 0) << r2.out;
  j = verify(s2);
  EXPECT_EQ(levels(j), (std::vector<std::string>{"B-LT", "B-LT"})) << boost::json::serialize(j);
  auto r3 = hocba("sign --level B-LTA" + tsa() + " --in " + q(s2) + " --out " + q(s3) + seal() + trust());
  ASSERT_EQ(r3.status, 0) << r3.out;
  EXPECT_NE(r3.out.find("PAdES B-LTA, timestamp "), std::string::npos) << r3.out;
  j = verify(s3);
  EXPECT_TRUE(j["all_valid"].as_bool()) << boost::json::serialize(j);
  EXPECT_EQ(levels(j), (std::vector<std::string>{"B-LTA", "B-LTA", "B-LTA"})) << boost::json::serialize(j);
  EXPECT_EQ(j["document_timestamps"].as_array().size(), 1u);
  for (auto& sv : j["signatures"].as_array()) {
    auto& s = sv.as_object();
    EXPECT_EQ(s["revocation"].as_object()["status"].as_string(), "good");
    std::string sum(s["summary"].as_string());
    EXPECT_EQ(sum.rfind("Valid: signed by ", 0), 0u) << sum;
    EXPECT_NE(sum.find("long-term verifiable (B-LTA) until the archive timestamp's certificate expires on "), std::string::npos) << sum;
  }
  EXPECT_NE(std::string(j["signatures"].as_array()[0].as_object()["summary"].as_string()).find("signed by Võ Tuấn Cường on "),
            std::string::npos);
  check_with_pdfsig_and_qpdf(s3, 3);
}

TEST_F(LtvCli, RevokedCertificateIsRefusedWithOneLine) {
  std::string out = dir_.file("o.pdf");
  auto r = hocba("sign --level B-LT" + tsa() + " --in " + q(cairo()) + " --out " + q(out) + trust() +
                 " --key 'pkcs11:token=CON-DAU;id=%04' --pin-file " + q(pin("CON-DAU")));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_EQ(count(r.out, "\n"), 1) << r.out;
  EXPECT_EQ(r.out.rfind("hocba: the certificate CN=Trường Tiểu học Ngô Sỹ Kiện,OU=P-384", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(" was revoked on "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(keyCompromise)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("signing refused"), std::string::npos) << r.out;
  EXPECT_FALSE(exists(out));
  EXPECT_FALSE(exists(out + ".pending"));
  // Even at B-T, asking for a check refuses it.
  auto bt = hocba("sign --level B-T --revocation prefer" + tsa() + " --in " + q(cairo()) + " --out " + q(out) + trust() +
                  " --key 'pkcs11:token=CON-DAU;id=%04' --pin-file " + q(pin("CON-DAU")));
  EXPECT_EQ(bt.status, 1) << bt.out;
  EXPECT_NE(bt.out.find("revoked"), std::string::npos) << bt.out;
  EXPECT_FALSE(exists(out));
}

// The CRL distribution point serves PEM (what `openssl ca -gencrl` writes, and how the Vietnam
// National Root CA's CRL has been seen served), then DER: both are used; then a page that is no CRL:
// require refuses before signing and names it.
TEST_F(LtvCli, CrlServedAsPemOrDerIsUsedAndGarbageIsRefused) {
  delete ocsp_;
  ocsp_ = nullptr;  // the CRL must answer
  std::string served = pki("crl/sub.crl"), kept = dir_.file("sub.crl.pem");
  ASSERT_EQ(test::read_text(served).rfind("-----BEGIN X509 CRL-----", 0), 0u) << "the server is meant to serve PEM here";
  ASSERT_EQ(test::run("cp " + q(served) + " " + q(kept)).status, 0);
  struct Restore {
    std::string from, to;
    ~Restore() { std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing); }
  } restore{kept, served};
  for (const char* form : {"PEM", "DER"}) {
    SCOPED_TRACE(form);
    if (std::string(form) == "DER")
      ASSERT_EQ(test::run("openssl crl -in " + q(kept) + " -outform DER -out " + q(served)).status, 0);
    std::string out = dir_.file(std::string(form) + ".pdf");
    auto c = hocba("sign --level B-LT" + tsa() + " --in " + q(cairo()) + " --out " + q(out) + gvcn() + trust());
    ASSERT_EQ(c.status, 0) << c.out;
    auto j = verify(out);
    EXPECT_EQ(levels(j), std::vector<std::string>{"B-LT"});
    EXPECT_EQ(j["signatures"].as_array()[0].as_object()["revocation"].as_object()["source"].as_string(), "DSS CRL");
  }
  test::write_text(served, "<!doctype html><html><body><pre>\n" + test::read_text(kept) + "</pre></body></html>\n");
  std::string out = dir_.file("o.pdf");
  auto r = hocba("sign --level B-LT" + tsa() + " --in " + q(cairo()) + " --out " + q(out) + gvcn() + trust());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_EQ(count(r.out, "\n"), 1) << r.out;
  EXPECT_NE(r.out.find("/sub.crl: the answer is not a CRL (DER or PEM)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("signing refused"), std::string::npos) << r.out;
  EXPECT_FALSE(exists(out));
}

// Circular 15/2025: the signer's certificate is checked before signing. The GVCN token's certificate
// is re-issued (same key, same name) expired, then not yet valid: `hocba sign` refuses in one line
// that says why, at any level and revocation policy, before the token or the TSA is asked.
TEST_F(LtvCli, ExpiredOrNotYetValidCertificateIsRefusedBeforeSigning) {
  auto reissue = [&](long from, long until, const std::string& der_out) {
    std::unique_ptr<BIO, decltype(&BIO_free)> cb(BIO_new_file(pki("gvcn-3a.pem").c_str(), "r"), BIO_free),
        kb(BIO_new_file(pki("sub.key").c_str(), "r"), BIO_free), ob(BIO_new_file(der_out.c_str(), "wb"), BIO_free);
    std::unique_ptr<X509, decltype(&X509_free)> x(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr), X509_free);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> k(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
    return x && k && X509_gmtime_adj(X509_getm_notBefore(x.get()), from) && X509_gmtime_adj(X509_getm_notAfter(x.get()), until) &&
           X509_sign(x.get(), k.get(), EVP_sha256()) > 0 && i2d_X509_bio(ob.get(), x.get()) == 1;
  };
  auto put = [&](const std::string& der) {
    std::string p11 = std::string("pkcs11-tool --module ") + test::kSoftHsm + " --token-label GVCN-3A --login --pin 111111";
    return test::run(p11 + " --delete-object --type cert --id 01 && " + p11 + " --write-object " + q(der) +
                     " --type cert --id 01 --label gvcn-3a");
  };
  struct Restore {
    std::function<void()> f;
    ~Restore() { f(); }
  } restore{[&] { EXPECT_EQ(put(pki("gvcn-3a.der")).status, 0) << "the token's own certificate is back"; }};
  std::size_t tsa_log_before = test::read_text(pki("tsa.log")).size();
  struct Case {
    const char* name;
    long from, until;
    const char* says;
  } cases[] = {{"expired", -30L * 86400, -3600, " expired on "}, {"not yet valid", 3 * 86400, 30L * 86400, " is not valid until "}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::string der = dir_.file(std::string(c.name) + ".der");
    ASSERT_TRUE(reissue(c.from, c.until, der));
    auto w = put(der);
    ASSERT_EQ(w.status, 0) << w.out;
    for (const std::string& how : {std::string(" --level B-LT"), std::string(" --level B-T --revocation skip")}) {
      std::string out = dir_.file("o.pdf");
      auto r = hocba("sign" + how + tsa() + " --in " + q(cairo()) + " --out " + q(out) + gvcn() + trust());
      EXPECT_EQ(r.status, 1) << how << ": " << r.out;
      EXPECT_EQ(count(r.out, "\n"), 1) << r.out;
      EXPECT_EQ(r.out.rfind("hocba: the signer's certificate CN=Võ Tuấn Cường", 0), 0u) << r.out;
      EXPECT_NE(r.out.find(c.says), std::string::npos) << r.out;
      EXPECT_NE(r.out.find("+07:00 (valid from "), std::string::npos) << r.out;
      EXPECT_NE(r.out.find("; signing refused"), std::string::npos) << r.out;
      EXPECT_FALSE(exists(out));
      EXPECT_FALSE(exists(out + ".pending"));
    }
  }
  EXPECT_EQ(test::read_text(pki("tsa.log")).substr(tsa_log_before).find("HTTP 200"), std::string::npos) << "no timestamp was asked for";
}

TEST_F(LtvCli, UnreachableRevocationServersRequireRefusesPreferWarns) {
  // OCSP down, the CRL still served: the CRL is used.
  delete ocsp_;
  ocsp_ = nullptr;
  std::string viacrl = dir_.file("crl.pdf");
  auto c = hocba("sign --level B-LT" + tsa() + " --in " + q(cairo()) + " --out " + q(viacrl) + gvcn() + trust());
  ASSERT_EQ(c.status, 0) << c.out;
  auto j = verify(viacrl);
  EXPECT_EQ(levels(j), std::vector<std::string>{"B-LT"});
  EXPECT_EQ(j["signatures"].as_array()[0].as_object()["revocation"].as_object()["source"].as_string(), "DSS CRL");

  // Nothing answers: require (the default for B-LT) refuses before signing.
  delete files_;
  files_ = nullptr;
  std::string out = dir_.file("o.pdf");
  auto r = hocba("sign --level B-LT" + tsa() + " --in " + q(cairo()) + " --out " + q(out) + gvcn() + trust());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_EQ(count(r.out, "\n"), 1) << r.out;
  EXPECT_EQ(r.out.rfind("hocba: cannot get the revocation status of CN=Võ Tuấn Cường", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("OCSP http://127.0.0.1:" + std::to_string(ocsp_port_) + "/: cannot connect"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/sub.crl: cannot connect"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("signing refused (revocation policy require"), std::string::npos) << r.out;
  EXPECT_FALSE(exists(out));
  EXPECT_FALSE(exists(out + ".pending"));

  // prefer: signs, warns, and says B-LT was not reached.
  auto p = hocba("sign --level B-LT --revocation prefer" + tsa() + " --in " + q(cairo()) + " --out " + q(out) + gvcn() + trust());
  ASSERT_EQ(p.status, 0) << p.out;
  EXPECT_GE(count(p.out, "hocba: warning: cannot get the revocation status of "), 1) << p.out;
  EXPECT_NE(p.out.find("B-LT not reached: validation data incomplete"), std::string::npos) << p.out;
  j = verify(out);
  EXPECT_EQ(levels(j), std::vector<std::string>{"B-T"}) << boost::json::serialize(j);

  // extend under require: nothing written.
  std::string ext = dir_.file("e.pdf");
  auto e = hocba("extend " + q(out) + " --out " + q(ext) + " --level B-LT" + trust());
  EXPECT_EQ(e.status, 1) << e.out;
  EXPECT_EQ(count(e.out, "\n"), 1) << e.out;
  EXPECT_NE(e.out.find("cannot get the revocation status"), std::string::npos) << e.out;
  EXPECT_NE(e.out.find(ext + " not written"), std::string::npos) << e.out;
  EXPECT_FALSE(exists(ext));
}

TEST_F(LtvCli, OfflineFolderWithNoServerRunning) {
  std::string s1 = dir_.file("s1.pdf"), s2 = dir_.file("s2.pdf");
  ASSERT_EQ(hocba("sign --level B-T" + tsa() + " --in " + q(cairo()) + " --out " + q(s1) + gvcn() + trust()).status, 0);
  ASSERT_EQ(hocba("sign --level B-T" + tsa() + " --in " + q(s1) + " --out " + q(s2) + ht() + trust()).status, 0);
  // Pre-fetched: an OCSP response for the teacher (openssl's client), both CRLs for the rest.
  std::string off = dir_.file("offline");
  std::filesystem::create_directories(off);
  auto f = test::run("openssl ocsp -issuer " + q(pki("sub.pem")) + " -cert " + q(pki("gvcn-3a.pem")) + " -url http://127.0.0.1:" +
                     std::to_string(ocsp_port_) + "/ -no_nonce -respout " + q(off + "/gvcn.ocsp") + " -CAfile " + q(pki("root.pem")) +
                     " && cp " + q(pki("crl/sub.crl")) + " " + q(off + "/issuing-ca.crl") + " && openssl crl -in " + q(pki("crl/root.crl")) +
                     " -outform DER -out " + q(off + "/root.der"));
  ASSERT_EQ(f.status, 0) << f.out;
  stop_servers();

  std::string lt = dir_.file("lt.pdf");
  auto e = hocba("extend " + q(s2) + " --out " + q(lt) + " --level B-LT --offline-dir " + q(off) + trust());
  ASSERT_EQ(e.status, 0) << e.out;
  EXPECT_NE(e.out.find("(PAdES B-LT; 2 signature(s)"), std::string::npos) << e.out;
  auto j = verify(lt);
  EXPECT_EQ(levels(j), (std::vector<std::string>{"B-LT", "B-LT"})) << boost::json::serialize(j);
  auto& sigs = j["signatures"].as_array();
  EXPECT_EQ(sigs[0].as_object()["revocation"].as_object()["source"].as_string(), "DSS OCSP");
  EXPECT_EQ(sigs[1].as_object()["revocation"].as_object()["source"].as_string(), "DSS CRL");
  EXPECT_EQ(sigs[1].as_object()["revocation"].as_object()["status"].as_string(), "good");

  // A folder that misses the root's CRL: the issuing CA's status is unknown, so require refuses.
  std::filesystem::remove(off + "/root.der");
  auto m = hocba("extend " + q(s2) + " --out " + q(dir_.file("m.pdf")) + " --level B-LT --offline-dir " + q(off) + trust());
  EXPECT_EQ(m.status, 1) << m.out;
  EXPECT_NE(m.out.find("cannot get the revocation status of CN=LTV Test Issuing CA"), std::string::npos) << m.out;
  EXPECT_NE(m.out.find("no file in " + off + " covers it"), std::string::npos) << m.out;
}

TEST_F(LtvCli, PendingBLtSignatureIsFinishedToBLtLater) {
  std::string down = " --tsa http://127.0.0.1:" + std::to_string(test::closed_port()) + "/ --tsa-retries 0";
  std::string out = dir_.file("o.pdf"), pending = out + ".pending";
  auto r = hocba("sign --level B-LT" + down + " --in " + q(cairo()) + " --out " + q(out) + gvcn() + trust());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("the signature is kept in " + pending), std::string::npos) << r.out;
  ASSERT_TRUE(exists(pending));
  EXPECT_FALSE(exists(out));
  auto f = hocba("finish " + q(pending) + " --out " + q(out) + tsa() + trust());
  ASSERT_EQ(f.status, 0) << f.out;
  EXPECT_NE(f.out.find("PAdES B-LT, timestamp "), std::string::npos) << f.out;
  EXPECT_FALSE(exists(pending));
  auto j = verify(out);
  EXPECT_EQ(levels(j), std::vector<std::string>{"B-LT"}) << boost::json::serialize(j);
}

TEST_F(LtvCli, UsageIsChecked) {
  std::string out = dir_.file("o.pdf");
  auto a = hocba("extend " + q(cairo()) + " --out " + q(out));
  EXPECT_EQ(a.status, 2);
  EXPECT_NE(a.out.find("extend needs --level B-LT or B-LTA"), std::string::npos) << a.out;
  auto b = hocba("extend " + q(cairo()) + " --out " + q(out) + " --level B-LTA");
  EXPECT_EQ(b.status, 2);
  EXPECT_NE(b.out.find("--level B-LTA needs --tsa URL"), std::string::npos) << b.out;
  auto c = hocba("extend " + q(cairo()) + " --out " + q(out) + " --level B-T");
  EXPECT_EQ(c.status, 2);
  auto d = hocba("sign --level B-LT --revocation maybe" + tsa() + " --in " + q(cairo()) + " --out " + q(out) + gvcn());
  EXPECT_EQ(d.status, 2);
  EXPECT_NE(d.out.find("--revocation must be require, prefer or skip"), std::string::npos) << d.out;
  auto e = hocba("extend " + q(cairo()) + " --out " + q(out) + " --level B-LT" + trust());
  EXPECT_EQ(e.status, 1);
  EXPECT_NE(e.out.find("the document has no signature"), std::string::npos) << e.out;
  EXPECT_FALSE(exists(out));
  auto f = hocba("verify " + q(cairo()) + " --trust-dir " + q(dir_.path()));
  EXPECT_EQ(f.status, 1);
  EXPECT_NE(f.out.find("holds no certificate file"), std::string::npos) << f.out;
}

// An OCSP responder that hangs or answers garbage (our test TSA's --hang / --garbage on the
// responder's port): with the CRL server up, the CRL is used instead and the signature reaches
// B-LT; with it down too, `require` refuses before signing, in one line that names what the
// responder did, within the configured revocation timeout, and nothing is written.
TEST_F(LtvCli, AnOcspResponderThatHangsOrAnswersGarbageFallsBackToTheCrlOrRefuses) {
  delete ocsp_;
  ocsp_ = nullptr;  // SetUp of the next test starts the real one again
  std::string cfg = dir_.file("school.toml");
  test::write_text(cfg, "[signing]\nrevocation_timeout_s = 2\n");
  std::string port = std::to_string(ocsp_port_);
  std::string responder = "OCSP http://127.0.0.1:" + port + "/";
  struct Case {
    std::vector<std::string> mode;
    std::string says;  // after "OCSP http://…/: "
  } cases[] = {{{"--hang"}, "http://127.0.0.1:" + port + "/ did not answer within 2 s"},
               {{"--garbage", "random"}, "127.0.0.1:" + port + " answered something that is not HTTP/1.x ("},
               {{"--garbage", "html"}, "the answer is not an OCSP response"},
               {{"--garbage", "truncated"}, "the answer is not an OCSP response"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.mode.back());
    std::vector<std::string> argv = {HOCBA_TEST_TSA, "--port", std::to_string(ocsp_port_)};
    argv.insert(argv.end(), c.mode.begin(), c.mode.end());
    test::ChildServer bad(argv, dir_.file("bad-ocsp.log"));
    if (!files_) start_files(std::to_string(files_port_));

    // The CRL server answers: the signature is made with the CRL.
    std::string viacrl = dir_.file("crl.pdf");
    std::filesystem::remove(viacrl);
    auto t0 = std::chrono::steady_clock::now();
    auto s = hocba("sign --config " + q(cfg) + " --level B-LT" + tsa() + " --in " + q(cairo()) + " --out " + q(viacrl) + gvcn() + trust());
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
    ASSERT_EQ(s.status, 0) << s.out;
    auto j = verify(viacrl);
    EXPECT_EQ(levels(j), std::vector<std::string>{"B-LT"}) << boost::json::serialize(j);
    EXPECT_EQ(j["signatures"].as_array()[0].as_object()["revocation"].as_object()["source"].as_string(), "DSS CRL");

    // Nothing usable answers: refused, in one line, before signing.
    delete files_;
    files_ = nullptr;
    std::string out = dir_.file("o.pdf");
    t0 = std::chrono::steady_clock::now();
    auto r = hocba("sign --config " + q(cfg) + " --level B-LT" + tsa() + " --in " + q(cairo()) + " --out " + q(out) + gvcn() + trust());
    auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_EQ(count(r.out, "\n"), 1) << r.out;
    EXPECT_EQ(r.out.rfind("hocba: cannot get the revocation status of CN=Võ Tuấn Cường", 0), 0u) << r.out;
    EXPECT_NE(r.out.find(responder + ": " + c.says), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("signing refused (revocation policy require"), std::string::npos) << r.out;
    EXPECT_LT(took, std::chrono::seconds(20)) << "bounded by the 2 s revocation timeout per request";
    EXPECT_FALSE(exists(out));
    EXPECT_FALSE(exists(out + ".pending"));
  }
}
