// Regression tests for what the fuzz targets found (docs/fuzzing.md), at the signer's layer.
//
// OpenSSL's allocations are counted (CRYPTO_set_mem_functions, installed before OpenSSL allocates
// anything: this test is a program of its own), so that a leak fails the test even without a sanitizer.
#include <gtest/gtest.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "hocba/common/fileio.h"
#include "hocba/signer/key.h"
#include "hocba/signer/pades.h"
#include "hocba/signer/revocation.h"
#include "hocba/signer/verify.h"
#include "ltv_internal.h"
#include "test_env.h"

namespace {

std::atomic<long> g_live{0};

void* count_malloc(std::size_t n, const char*, int) {
  void* p = std::malloc(n);
  if (p) ++g_live;
  return p;
}
void* count_realloc(void* p, std::size_t n, const char*, int) {
  if (!p) return count_malloc(n, nullptr, 0);
  if (n == 0) {
    std::free(p);
    --g_live;
    return nullptr;
  }
  return std::realloc(p, n);
}
void count_free(void* p, const char*, int) {
  if (!p) return;
  std::free(p);
  --g_live;
}
// Before main, before OpenSSL's first allocation.
const bool g_hooked = CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free) == 1;

using namespace hocba;

Bytes corpus_file(const std::string& target, const std::string& name) {
  auto b = read_file(std::string(HOCBA_SOURCE_DIR) + "/fuzz/corpus/" + target + "/" + name);
  if (!b) throw std::runtime_error(b.error().message);
  return *b;
}

// OpenSSL allocations still live after `n` more runs of `f` than after a few first ones.
template <class F>
long growth(F f, int n = 40) {
  for (int i = 0; i < 10; ++i) f();  // caches that fill up once: decoders, lazily fetched algorithms
  long before = g_live.load();
  for (int i = 0; i < n; ++i) f();
  return g_live.load() - before;
}

}  // namespace

// fuzz_pdf_verify: a CMS whose SignedData names a digest algorithm OpenSSL does not know made
// CMS_verify leak the copy it makes of a memory BIO (5 allocations per verification).
TEST(FuzzRegressions, VerifyingACmsWithAnUnknownDigestLeaksNothing) {
  ASSERT_TRUE(g_hooked) << "OpenSSL allocated before the counting hooks were installed";
  Bytes pdf = corpus_file("fuzz_pdf_verify", "regress-unknown-digest-leak.pdf");
  auto first = signer::verify_pdf(pdf, {});
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_EQ(first->signatures.size(), 1u);
  EXPECT_FALSE(first->signatures[0].intact);
  EXPECT_FALSE(first->all_valid);
  EXPECT_LT(growth([&] { (void)signer::verify_pdf(pdf, {}); }), 10);
}

// The same CMS in a pending signature file (`hocba finish`, the jobs' waiting-for-timestamp state):
// PendingSignature::parse checks it with CMS_verify too.
TEST(FuzzRegressions, APendingFileWithAnUnknownDigestIsRefusedAndLeaksNothing) {
  ASSERT_TRUE(g_hooked);
  test::TempDir tmp;
  auto made = test::run("cd " + tmp.path() +
                        " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout k.pem -out c.pem"
                        " -days 30 -subj '/CN=Fuzz regression' 2>&1");
  ASSERT_EQ(made.status, 0) << made.out;
  auto key_pem = read_file(tmp.file("k.pem")), cert_pem = read_file(tmp.file("c.pem"));
  ASSERT_TRUE(key_pem && cert_pem);
  auto key = signer::software_key(*key_pem, *cert_pem);
  Bytes pdf = corpus_file("fuzz_pdf_verify", "qpdf-classic.pdf");
  auto pending = signer::prepare_and_sign(pdf, *key, signer::PadesOptions{});
  ASSERT_TRUE(pending) << pending.error().message;
  ASSERT_TRUE(signer::PendingSignature::parse(pending->serialize()));
  // sha256 (2.16.840.1.101.3.4.2.1) -> 2.16.840.1.101.3.4.2.127 in the SignedData's digestAlgorithms.
  const Bytes sha256 = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
  auto it = std::search(pending->cms.begin(), pending->cms.end(), sha256.begin(), sha256.end());
  ASSERT_NE(it, pending->cms.end());
  it[10] = 0x7f;
  Bytes file = pending->serialize();
  EXPECT_FALSE(signer::PendingSignature::parse(file));
  EXPECT_LT(growth([&] { (void)signer::PendingSignature::parse(file); }), 10);
}

// fuzz_revocation: an OCSP response whose producedAt is in the year 2726 overflowed the conversion to
// system_clock (nanoseconds reach 2262): signed overflow, caught by UBSan. The same conversion read
// certificates' notAfter, where RFC 5280 itself gives 99991231235959Z ("no well-defined expiration").
TEST(FuzzRegressions, TimesBeyond2262AreClampedNotOverflowed) {
  test::TempDir tmp;
  auto made = test::run("cd " + tmp.path() +
                        " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout k.pem -out c.pem"
                        " -days 2900000 -subj '/CN=No well-defined expiration' -outform DER 2>&1");
  ASSERT_EQ(made.status, 0) << made.out;
  auto der = read_file(tmp.file("c.pem"));
  ASSERT_TRUE(der);
  // About the year 9966: later than system_clock can hold, so the latest time it can.
  EXPECT_EQ(signer::detail::not_after(*der), std::chrono::system_clock::time_point::max());
  EXPECT_GT(signer::detail::not_after(*der), std::chrono::system_clock::now());

  // The fuzzer's input: the signature no longer matches, so an error (not a crash under UBSan).
  Bytes ocsp = corpus_file("fuzz_revocation", "regress-produced-at-2726.ocsp");
  Bytes signer_cert = read_file(std::string(HOCBA_SOURCE_DIR) + "/fuzz/data/signer.der").value();
  Bytes root = read_file(std::string(HOCBA_SOURCE_DIR) + "/fuzz/data/root.der").value();
  EXPECT_FALSE(signer::check_ocsp_response(ocsp, signer_cert, root, {}, std::nullopt));
}

// fuzz_revocation's seeds hold the same CRL as DER and as PEM (as make-seeds.sh writes it, and with
// CRLF line ends after a blank line, as some CAs serve it): all three get past parsing to the checks
// (the fuzzer mutates from there), and give the same DER.
TEST(FuzzRegressions, RevocationSeedsReachTheCrlChecksAsDerAndPem) {
  Bytes signer_cert = read_file(std::string(HOCBA_SOURCE_DIR) + "/fuzz/data/signer.der").value();
  Bytes root = read_file(std::string(HOCBA_SOURCE_DIR) + "/fuzz/data/root.der").value();
  auto der = signer::check_crl(corpus_file("fuzz_revocation", "root.crl"), signer_cert, root, std::nullopt);
  ASSERT_TRUE(der) << der.error().message;
  for (const char* name : {"root-crl.pem", "root-crl-crlf.pem"}) {
    auto pem = signer::check_crl(corpus_file("fuzz_revocation", name), signer_cert, root, std::nullopt);
    ASSERT_TRUE(pem) << name << ": " << pem.error().message;
    EXPECT_EQ(pem->evidence, der->evidence) << name;
  }
}
