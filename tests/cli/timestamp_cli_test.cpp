// `hocba sign --level B-T` end to end against our own TSA process (hocba-test-tsa) and SoftHSM2
// tokens: three B-T signatures that pdfsig accepts and whose tokens `openssl ts -verify` accepts
// independently; a TSA that fails once; an unreachable TSA (one clear line, no OUT, an OUT.pending
// that `hocba finish` completes later); a TSA slower than the timeout.
#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "test_env.h"

using namespace hocba;
using Clock = std::chrono::steady_clock;

namespace {

std::string q(const std::string& s) { return "'" + s + "'"; }

int count(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (auto at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + needle.size())) ++n;
  return n;
}

bool exists(const std::string& p) { return std::filesystem::exists(p); }

std::string iso(std::time_t t, bool vietnam) {
  std::time_t s = t + (vietnam ? 7 * 3600 : 0);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return std::string(buf) + (vietnam ? "+07:00" : "Z");
}

// From a CMS dumped by pdfsig: the signature-time-stamp token and the signature value it covers.
bool token_of(const std::string& cms_file, std::string& token_der, std::string& signature_value) {
  std::string der = test::read_text(cms_file);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  CMS_ContentInfo* cms = d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size()));
  if (!cms) return false;
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
  int at = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1);
  bool ok = at >= 0;
  if (ok) {
    ASN1_TYPE* v = X509_ATTRIBUTE_get0_type(CMS_unsigned_get_attr(si, at), 0);
    token_der.assign(reinterpret_cast<const char*>(v->value.sequence->data), static_cast<std::size_t>(v->value.sequence->length));
    ASN1_OCTET_STRING* sig = CMS_SignerInfo_get0_signature(si);
    signature_value.assign(reinterpret_cast<const char*>(sig->data), static_cast<std::size_t>(sig->length));
  }
  CMS_ContentInfo_free(cms);
  return ok;
}

std::string sha256_hex(const std::string& d) {
  unsigned char h[32];
  unsigned n = 0;
  EVP_Digest(d.data(), d.size(), h, &n, EVP_sha256(), nullptr);
  std::string out;
  char b[3];
  for (unsigned i = 0; i < n; ++i) {
    std::snprintf(b, sizeof b, "%02x", h[i]);
    out += b;
  }
  return out;
}

class TsaCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tokens_ = new test::TempDir();
    test::provision_softhsm(tokens_->path());
    unsetenv("HOCBA_PKCS11_MODULES");
    // The TSA's certificate: RSA-2048, EKU timeStamping (critical), from the test issuing CA.
    test::make_tsa_certificate(tokens_->file("tsa"), tokens_->file("pki/sub.pem"), tokens_->file("pki/sub.key"),
                               "/C=VN/O=hocba test PKI/CN=hocba Test TSA");
  }
  static void TearDownTestSuite() {
    delete tokens_;
    tokens_ = nullptr;
  }
  static std::string pin(const std::string& token) { return tokens_->file("pins/" + token + ".pin"); }
  static std::string root() { return tokens_->file("pki/root.pem"); }
  static std::string cairo() { return std::string(HOCBA_TEST_DATA) + "/pdf/cairo.pdf"; }
  static test::CommandResult hocba(const std::string& args) { return test::run(std::string(HOCBA_CLI) + " " + args); }

  std::unique_ptr<test::ChildServer> start_tsa(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {HOCBA_TEST_TSA,        "--key",   tokens_->file("tsa.key"), "--cert",
                                     tokens_->file("tsa.pem"), "--chain", tokens_->file("pki/sub.pem"),
                                     "--chain",             root(),    "--port",                 "0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<test::ChildServer>(argv, dir_.file("tsa.log"));
  }

  static std::string teacher() {
    return " --key " + q("pkcs11:token=GVCN-3A;object=gvcn-3a?pin-source=file:" + pin("GVCN-3A"));
  }

  test::TempDir dir_;
  static test::TempDir* tokens_;
};
test::TempDir* TsaCli::tokens_ = nullptr;

}  // namespace

TEST_F(TsaCli, ThreeBTSignaturesAgreeWithPdfsigOpensslAndVerify) {
  ASSERT_TRUE(test::have_tool("pdfsig")) << "install poppler-utils";
  std::time_t fixed = std::time(nullptr) + 60;  // inside every certificate's validity
  auto tsa = start_tsa({"--fixed-time", std::to_string(fixed)});
  std::string url = tsa->url();
  std::string s1 = dir_.file("s1.pdf"), s2 = dir_.file("s2.pdf"), s3 = dir_.file("s3.pdf");
  auto r1 = hocba("sign --level B-T --tsa " + url + " --in " + q(cairo()) + " --out " + q(s1) + teacher());
  ASSERT_EQ(r1.status, 0) << r1.out;
  EXPECT_NE(r1.out.find("PAdES B-T, timestamp " + iso(fixed, true) + " by CN=hocba Test TSA"), std::string::npos) << r1.out;
  auto r2 = hocba("sign --level B-T --tsa " + url + " --in " + q(s1) + " --out " + q(s2) +
                  " --pss --key 'pkcs11:token=HIEU-TRUONG;object=hieu-truong' --pin-file " + q(pin("HIEU-TRUONG")) +
                  " --field HieuTruong");
  ASSERT_EQ(r2.status, 0) << r2.out;
  auto r3 = hocba("sign --level B-T --tsa " + url + " --in " + q(s2) + " --out " + q(s3) +
                  " --key 'pkcs11:token=CON-DAU;id=%03' --pin-file " + q(pin("CON-DAU")) + " --field ConDau");
  ASSERT_EQ(r3.status, 0) << r3.out;

  // poppler 22.12's pdfsig checks the signatures but shows nothing of their timestamps.
  auto ps = test::run("pdfsig " + q(s3));
  EXPECT_EQ(count(ps.out, "Signature is Valid."), 3) << ps.out;
  EXPECT_EQ(count(ps.out, "Signature Type: ETSI.CAdES.detached"), 3) << ps.out;

  // Each token, taken out of the CMS that pdfsig dumps, verifies with `openssl ts` against the
  // root, for the SHA-256 of its signature value.
  auto dump = test::run("cd " + q(dir_.path()) + " && pdfsig -dump " + q(s3));
  for (int i = 0; i < 3; ++i) {
    std::string token, sig;
    ASSERT_TRUE(token_of(dir_.file("s3.pdf.sig" + std::to_string(i)), token, sig)) << dump.out;
    test::write_text(dir_.file("token.der"), token);
    auto v = test::run("openssl ts -verify -token_in -in " + q(dir_.file("token.der")) + " -digest " + sha256_hex(sig) +
                       " -CAfile " + q(root()));
    EXPECT_EQ(v.status, 0) << v.out;
    EXPECT_NE(v.out.find("Verification: OK"), std::string::npos) << v.out;
  }

  auto v = hocba("verify " + q(s3) + " --trust " + q(root()) + " --json");
  ASSERT_EQ(v.status, 0) << v.out;
  auto j = boost::json::parse(v.out).as_object();
  EXPECT_TRUE(j["all_valid"].as_bool());
  auto& sigs = j["signatures"].as_array();
  ASSERT_EQ(sigs.size(), 3u);
  for (auto& sv : sigs) {
    auto& s = sv.as_object();
    EXPECT_EQ(s["level"].as_string(), "B-T") << boost::json::serialize(s);
    auto& ts = s["timestamp"].as_object();
    EXPECT_TRUE(ts["present"].as_bool());
    EXPECT_TRUE(ts["imprint_matches"].as_bool());
    EXPECT_TRUE(ts["verifies"].as_bool()) << boost::json::serialize(ts);
    EXPECT_EQ(ts["time"].as_string(), iso(fixed, true));
    EXPECT_EQ(ts["time_utc"].as_string(), iso(fixed, false));
    EXPECT_EQ(ts["tsa"].as_string(), "CN=hocba Test TSA,O=hocba test PKI,C=VN");
  }
  auto text = hocba("verify " + q(s3) + " --trust " + q(root()));
  EXPECT_EQ(count(text.out, "level:     PAdES B-T"), 3) << text.out;
  EXPECT_EQ(count(text.out, "the token covers this signature and verifies"), 3) << text.out;
}

TEST_F(TsaCli, TsaFailingOnceSucceedsOnRetry) {
  auto tsa = start_tsa({"--fail", "1"});
  std::string out = dir_.file("o.pdf");
  auto r = hocba("sign --tsa " + tsa->url() + " --in " + q(cairo()) + " --out " + q(out) + teacher());
  ASSERT_EQ(r.status, 0) << r.out;
  std::string log = test::read_text(dir_.file("tsa.log"));
  EXPECT_NE(log.find("request 1: HTTP 503"), std::string::npos) << log;
  EXPECT_NE(log.find("request 2: HTTP 200"), std::string::npos) << log;
  auto v = hocba("verify " + q(out) + " --trust " + q(root()) + " --json");
  EXPECT_EQ(v.status, 0) << v.out;
  EXPECT_NE(v.out.find("\"level\":\"B-T\""), std::string::npos) << v.out;
  EXPECT_FALSE(exists(out + ".pending"));
}

TEST_F(TsaCli, UnreachableTsaKeepsThePendingSignatureAndFinishCompletesIt) {
  std::string down = "http://127.0.0.1:" + std::to_string(test::closed_port()) + "/";
  std::string out = dir_.file("o.pdf"), pending = out + ".pending";
  auto t0 = Clock::now();
  auto r = hocba("sign --level B-T --tsa " + down + " --tsa-timeout 5 --in " + q(cairo()) + " --out " + q(out) + teacher());
  auto took = Clock::now() - t0;
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_EQ(count(r.out, "\n"), 1) << "one line: " << r.out;
  EXPECT_EQ(r.out.rfind("hocba: the timestamp authority at " + down + " gave no timestamp (3 tries): cannot connect", 0), 0u)
      << r.out;
  EXPECT_NE(r.out.find("the signature is kept in " + pending + ": complete it with `hocba finish " + pending + " --out " + out + "`"),
            std::string::npos)
      << r.out;
  EXPECT_LT(took, std::chrono::seconds(5)) << "a refused connection is not waited for";
  EXPECT_FALSE(exists(out));
  ASSERT_TRUE(exists(pending));
  EXPECT_EQ(std::filesystem::status(pending).permissions() & std::filesystem::perms::others_read, std::filesystem::perms::none);

  // Still down: finishing fails and keeps the file.
  auto again = hocba("finish " + q(pending) + " --out " + q(out) + " --tsa-retries 0");
  EXPECT_EQ(again.status, 1) << again.out;
  EXPECT_NE(again.out.find(pending + " is kept: try again later"), std::string::npos) << again.out;
  EXPECT_TRUE(exists(pending));
  EXPECT_FALSE(exists(out));

  // A TSA is up: finishing completes the signature.
  auto tsa = start_tsa();
  auto f = hocba("finish " + q(pending) + " --out " + q(out) + " --tsa " + tsa->url());
  ASSERT_EQ(f.status, 0) << f.out;
  EXPECT_NE(f.out.find("hocba: finished " + pending + " -> " + out), std::string::npos) << f.out;
  EXPECT_FALSE(exists(pending));
  auto v = hocba("verify " + q(out) + " --trust " + q(root()) + " --json");
  EXPECT_EQ(v.status, 0) << v.out;
  EXPECT_NE(v.out.find("\"level\":\"B-T\""), std::string::npos) << v.out;
  if (test::have_tool("pdfsig")) {
    auto ps = test::run("pdfsig " + q(out));
    EXPECT_EQ(count(ps.out, "Signature is Valid."), 1) << ps.out;
  }
}

TEST_F(TsaCli, PendingSignatureCanBeFinishedWithoutATimestamp) {
  std::string down = "http://127.0.0.1:" + std::to_string(test::closed_port()) + "/";
  std::string out = dir_.file("o.pdf"), pending = out + ".pending";
  auto r = hocba("sign --tsa " + down + " --tsa-retries 0 --in " + q(cairo()) + " --out " + q(out) + teacher());
  ASSERT_EQ(r.status, 1) << r.out;
  auto f = hocba("finish " + q(pending) + " --out " + q(out) + " --level B-B");
  ASSERT_EQ(f.status, 0) << f.out;
  EXPECT_NE(f.out.find("PAdES B-B"), std::string::npos) << f.out;
  auto v = hocba("verify " + q(out) + " --trust " + q(root()) + " --json");
  EXPECT_EQ(v.status, 0) << v.out;
  EXPECT_NE(v.out.find("\"level\":\"B-B\""), std::string::npos) << v.out;

  // A damaged pending file is one clear line.
  test::write_text(dir_.file("bad.pending"), "HOCBA-PENDING-SIGNATURE\nnot really");
  auto b = hocba("finish " + q(dir_.file("bad.pending")) + " --out " + q(dir_.file("b.pdf")));
  EXPECT_EQ(b.status, 1) << b.out;
  EXPECT_NE(b.out.find("not a usable pending signature file"), std::string::npos) << b.out;
  EXPECT_EQ(count(b.out, "\n"), 1) << b.out;
}

TEST_F(TsaCli, SlowTsaTimesOutClearly) {
  auto tsa = start_tsa({"--delay-ms", "5000"});
  std::string out = dir_.file("o.pdf");
  auto t0 = Clock::now();
  auto r = hocba("sign --tsa " + tsa->url() + " --tsa-timeout 2 --in " + q(cairo()) + " --out " + q(out) + teacher());
  auto took = Clock::now() - t0;
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("hocba: the timestamp authority at " + tsa->url() + " did not answer within 2 s (3 tries)"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(count(r.out, "\n"), 1) << r.out;
  EXPECT_LT(took, std::chrono::seconds(12)) << "3 tries of 2 s, and 1.5 s of backoff";
  EXPECT_FALSE(exists(out));
  EXPECT_TRUE(exists(out + ".pending"));
}

TEST_F(TsaCli, LevelOptionsAreChecked) {
  std::string out = dir_.file("o.pdf");
  std::string base = " --in " + q(cairo()) + " --out " + q(out) + teacher();
  auto a = hocba("sign --level B-T" + base);
  EXPECT_EQ(a.status, 2);
  EXPECT_NE(a.out.find("--level B-T needs --tsa URL"), std::string::npos) << a.out;
  auto b = hocba("sign --level B-LX --tsa http://127.0.0.1:1/" + base);
  EXPECT_EQ(b.status, 2);
  EXPECT_NE(b.out.find("--level must be B-B, B-T, B-LT or B-LTA"), std::string::npos) << b.out;
  auto c = hocba("sign --level B-B --tsa http://127.0.0.1:1/" + base);
  EXPECT_EQ(c.status, 2);
  auto d = hocba("sign --tsa http://127.0.0.1:1/ --tsa-timeout zero" + base);
  EXPECT_EQ(d.status, 2);
  auto e = hocba("sign --tsa ftp://tsa.example/" + base);
  EXPECT_EQ(e.status, 2);
  EXPECT_NE(e.out.find("is not an http:// or https:// URL"), std::string::npos) << e.out;
  EXPECT_FALSE(exists(out));
}

// --config FILE: signing.tsa_urls, tsa_timeout_s and tsa_retries for sign (default level B-T), and
// finish asks the file's timestamp authority before those recorded in the pending file.
TEST_F(TsaCli, ConfigFileGivesTheTsaAndItsTimeouts) {
  auto slow = start_tsa({"--delay-ms", "5000"});
  std::string cfg = dir_.file("school.toml");
  std::ofstream(cfg) << "[signing]\ntsa_urls = [\"" << slow->url() << "\"]\ntsa_timeout_s = 1\ntsa_retries = 0\n";
  std::string out = dir_.file("o.pdf");
  auto t0 = Clock::now();
  auto r = hocba("sign --config " + q(cfg) + " --in " + q(cairo()) + " --out " + q(out) + teacher());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("did not answer within 1 s"), std::string::npos) << r.out;
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(4)) << "one try of 1 s";
  ASSERT_TRUE(exists(out + ".pending"));

  auto good = start_tsa();
  std::string cfg2 = dir_.file("school2.toml");
  std::ofstream(cfg2) << "[signing]\ntsa_urls = [\"" << good->url() << "\"]\n";
  auto f = hocba("finish " + q(out + ".pending") + " --out " + q(out) + " --config " + q(cfg2));
  ASSERT_EQ(f.status, 0) << f.out;
  EXPECT_NE(f.out.find("PAdES B-T"), std::string::npos) << f.out;
  EXPECT_FALSE(exists(out + ".pending"));
}

// ---- Faults: a full disk, a TSA that hangs or answers garbage. Each is one clear line, and nothing
// is lost: IN is unchanged, OUT is either complete or absent (no temporary file), and a signature
// made before the failure is kept in OUT.pending until `hocba finish` completes it.

namespace {

// The entries of a folder (names), but the tmpfs filler.
std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> out;
  for (auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename() != ".filler") out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_F(TsaCli, ASignedPdfThatDoesNotFitOnTheDiskIsOneLineAndLeavesNothing) {
  std::string why;
  auto fs = test::TmpFs::mount(dir_.file("disk"), 512, &why);
  if (!fs) GTEST_SKIP() << why;
  std::string in = fs->file("in.pdf"), out = fs->file("o.pdf");
  std::filesystem::copy_file(cairo(), in);
  std::string before = sha256_hex(test::read_text(in));
  fs->fill(4096);  // the signed PDF (the input, ~20 KiB of signature room) cannot fit
  auto r = hocba("sign --in " + q(in) + " --out " + q(out) + teacher());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_EQ(count(r.out, "\n"), 1) << "one line: " << r.out;
  EXPECT_EQ(r.out.rfind("hocba: cannot write " + out + ": No space left on device", 0), 0u) << r.out;
  EXPECT_EQ(listing(fs->path()), std::vector<std::string>{"in.pdf"}) << "no OUT, no temporary file";
  EXPECT_EQ(sha256_hex(test::read_text(in)), before);

  // With room again the same command signs.
  fs->unfill();
  auto ok = hocba("sign --in " + q(in) + " --out " + q(out) + teacher());
  ASSERT_EQ(ok.status, 0) << ok.out;
  EXPECT_EQ(hocba("verify " + q(out) + " --trust " + q(root())).status, 0);
  EXPECT_EQ(sha256_hex(test::read_text(in)), before);
}

TEST_F(TsaCli, FinishingOntoAFullDiskKeepsThePendingSignature) {
  std::string why;
  auto fs = test::TmpFs::mount(dir_.file("disk"), 512, &why);
  if (!fs) GTEST_SKIP() << why;
  std::string down = "http://127.0.0.1:" + std::to_string(test::closed_port()) + "/";
  std::string out = dir_.file("o.pdf"), pending = out + ".pending";
  ASSERT_EQ(hocba("sign --tsa " + down + " --tsa-retries 0 --in " + q(cairo()) + " --out " + q(out) + teacher()).status, 1);
  ASSERT_TRUE(exists(pending));
  std::string kept = test::read_text(pending);

  auto tsa = start_tsa();
  std::string full_out = fs->file("o.pdf");
  fs->fill(4096);
  auto f = hocba("finish " + q(pending) + " --out " + q(full_out) + " --tsa " + tsa->url());
  EXPECT_EQ(f.status, 1) << f.out;
  EXPECT_EQ(count(f.out, "\n"), 1) << f.out;
  EXPECT_NE(f.out.find("cannot write " + full_out + ": No space left on device"), std::string::npos) << f.out;
  EXPECT_TRUE(listing(fs->path()).empty());
  ASSERT_TRUE(exists(pending)) << "the signature is not lost";
  EXPECT_EQ(test::read_text(pending), kept);

  fs->unfill();
  auto g = hocba("finish " + q(pending) + " --out " + q(full_out) + " --tsa " + tsa->url());
  ASSERT_EQ(g.status, 0) << g.out;
  EXPECT_FALSE(exists(pending));
  auto v = hocba("verify " + q(full_out) + " --trust " + q(root()) + " --json");
  EXPECT_EQ(v.status, 0) << v.out;
  EXPECT_NE(v.out.find("\"level\":\"B-T\""), std::string::npos) << v.out;
}

TEST_F(TsaCli, AHangingTsaTimesOutAndTheSignatureIsKept) {
  auto hung = start_tsa({"--hang"});
  std::string out = dir_.file("o.pdf"), pending = out + ".pending";
  auto t0 = Clock::now();
  auto r = hocba("sign --tsa " + hung->url() + " --tsa-timeout 2 --tsa-retries 1 --in " + q(cairo()) + " --out " + q(out) + teacher());
  auto took = Clock::now() - t0;
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_EQ(count(r.out, "\n"), 1) << r.out;
  EXPECT_EQ(r.out.rfind("hocba: the timestamp authority at " + hung->url() + " did not answer within 2 s (2 tries)", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("the signature is kept in " + pending), std::string::npos) << r.out;
  EXPECT_GE(took, std::chrono::seconds(4)) << "each try waited its 2 s";
  EXPECT_LT(took, std::chrono::seconds(9)) << "2 tries of 2 s and 0.5 s of backoff, not a wait for ever";
  EXPECT_FALSE(exists(out));
  ASSERT_TRUE(exists(pending));
  std::string log = test::read_text(dir_.file("tsa.log"));
  EXPECT_EQ(count(log, ": hanging"), 2) << log;

  auto tsa = start_tsa();
  auto f = hocba("finish " + q(pending) + " --out " + q(out) + " --tsa " + tsa->url());
  ASSERT_EQ(f.status, 0) << f.out;
  auto v = hocba("verify " + q(out) + " --trust " + q(root()) + " --json");
  EXPECT_EQ(v.status, 0) << v.out;
  EXPECT_NE(v.out.find("\"level\":\"B-T\""), std::string::npos) << v.out;
}

TEST_F(TsaCli, ATsaAnsweringGarbageIsAClearErrorAndTheSignatureIsKept) {
  struct Case {
    const char* mode;
    const char* says;  // in the one line, after the URL
  } cases[] = {{"random", "gave no timestamp (1 try): 127.0.0.1:"},
               {"html", "gave no usable timestamp (1 try): the answer is not an RFC 3161 TimeStampResp"},
               {"truncated", "gave no usable timestamp (1 try): the answer is not an RFC 3161 TimeStampResp"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.mode);
    auto bad = start_tsa({"--garbage", c.mode});
    std::string out = dir_.file(std::string(c.mode) + ".pdf"), pending = out + ".pending";
    auto t0 = Clock::now();
    auto r = hocba("sign --tsa " + bad->url() + " --tsa-timeout 5 --tsa-retries 0 --in " + q(cairo()) + " --out " + q(out) + teacher());
    EXPECT_LT(Clock::now() - t0, std::chrono::seconds(5)) << "garbage is refused at once, not waited on";
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_EQ(count(r.out, "\n"), 1) << r.out;
    EXPECT_EQ(r.out.rfind("hocba: the timestamp authority at " + bad->url() + " " + c.says, 0), 0u) << r.out;
    EXPECT_NE(r.out.find("the signature is kept in " + pending), std::string::npos) << r.out;
    if (std::string(c.mode) == "random") EXPECT_NE(r.out.find(" answered something that is not HTTP/1.x ("), std::string::npos) << r.out;
    EXPECT_FALSE(exists(out));
    EXPECT_TRUE(exists(pending));
  }
  // Each kept signature is finished with a working TSA.
  auto tsa = start_tsa();
  for (const auto& c : cases) {
    std::string out = dir_.file(std::string(c.mode) + ".pdf");
    auto f = hocba("finish " + q(out + ".pending") + " --out " + q(out) + " --tsa " + tsa->url());
    EXPECT_EQ(f.status, 0) << c.mode << ": " << f.out;
    EXPECT_EQ(hocba("verify " + q(out) + " --trust " + q(root())).status, 0) << c.mode;
  }
}
