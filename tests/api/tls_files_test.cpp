// hocbad's TLS files: first-start generation, reuse, and what is refused; checked against the
// openssl command where it is installed.
#include "hocba/net/tls_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <regex>
#include <string>

#include "test_env.h"

using namespace hocba;
using net::ensure_tls_files;
using net::TlsFiles;
using test::run;
using test::TempDir;

namespace {

bool exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

unsigned mode_of(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

unsigned current_umask() {
  mode_t m = ::umask(0);
  ::umask(m);
  return m;
}

TlsFiles ensure_ok(const std::string& cert, const std::string& key, const std::vector<std::string>& hosts = {}) {
  auto r = ensure_tls_files(cert, key, hosts);
  if (!r) throw std::runtime_error(r.error().message);
  return r.value();
}

// "sha256 Fingerprint=AB:CD:..." (OpenSSL 3) or "SHA256 Fingerprint=..." (1.1): the part after '='.
std::string openssl_fingerprint(const std::string& cert) {
  auto r = run("openssl x509 -in '" + cert + "' -noout -fingerprint -sha256");
  EXPECT_EQ(r.status, 0) << r.out;
  auto eq = r.out.find('=');
  if (eq == std::string::npos) return "";
  std::string fp = r.out.substr(eq + 1);
  while (!fp.empty() && (fp.back() == '\n' || fp.back() == '\r')) fp.pop_back();
  return fp;
}

}  // namespace

TEST(TlsFiles, FingerprintFormat) {
  // SHA-256("abc"), FIPS 180-2 appendix B.1.
  EXPECT_EQ(net::certificate_fingerprint_sha256(Bytes{'a', 'b', 'c'}),
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD");
}

TEST(TlsFiles, GeneratesThenReuses) {
  TempDir d;
  std::string cert = d.file("etc/tls/cert.pem"), key = d.file("private/tls/key.pem");
  TlsFiles first = ensure_ok(cert, key, {"signer.thpt-abc.edu.vn", "192.168.1.10"});
  EXPECT_TRUE(first.generated);
  EXPECT_EQ(first.cert_path, cert);
  EXPECT_EQ(first.key_path, key);
  EXPECT_TRUE(std::regex_match(first.fingerprint_sha256, std::regex("([0-9A-F]{2}:){31}[0-9A-F]{2}")))
      << first.fingerprint_sha256;

  unsigned mask = current_umask();
  EXPECT_EQ(mode_of(key), 0600u);
  EXPECT_EQ(mode_of(cert), 0644u & ~mask);
  EXPECT_EQ(mode_of(d.file("private/tls")), 0700u);
  EXPECT_EQ(mode_of(d.file("private")), 0700u);
  EXPECT_EQ(mode_of(d.file("etc/tls")), 0755u & ~mask);
  // Nothing else beside them (no temporary files).
  auto entries = [](const std::string& dir) { return run("ls -A '" + dir + "'").out; };
  EXPECT_EQ(entries(d.file("etc/tls")), "cert.pem\n");
  EXPECT_EQ(entries(d.file("private/tls")), "key.pem\n");

  auto cert_bytes = read_file(cert);
  auto key_bytes = read_file(key);
  ASSERT_TRUE(cert_bytes && key_bytes);
  TlsFiles again = ensure_ok(cert, key, {"other.example"});
  EXPECT_FALSE(again.generated);
  EXPECT_EQ(again.fingerprint_sha256, first.fingerprint_sha256);
  EXPECT_EQ(*read_file(cert), *cert_bytes);  // untouched
  EXPECT_EQ(*read_file(key), *key_bytes);

  // Two generations give two different keys and serials.
  TempDir d2;
  TlsFiles other = ensure_ok(d2.file("c.pem"), d2.file("k.pem"), {"signer.thpt-abc.edu.vn", "192.168.1.10"});
  EXPECT_NE(other.fingerprint_sha256, first.fingerprint_sha256);
}

TEST(TlsFiles, CertificateAsOpensslSeesIt) {
  if (!test::have_tool("openssl")) GTEST_SKIP() << "openssl not installed";
  TempDir d;
  std::string cert = d.file("cert.pem"), key = d.file("key.pem");
  TlsFiles f = ensure_ok(cert, key, {"signer.thpt-abc.edu.vn", "192.168.1.10", "fd00::5", "1.2.3.4.example"});
  EXPECT_EQ(openssl_fingerprint(cert), f.fingerprint_sha256);

  auto text = run("openssl x509 -in '" + cert + "' -noout -text");
  ASSERT_EQ(text.status, 0) << text.out;
  const std::string& t = text.out;
  for (const char* want : {"Version: 3 (0x2)", "Subject: CN = signer.thpt-abc.edu.vn, O = hocba-signer",
                           "Issuer: CN = signer.thpt-abc.edu.vn, O = hocba-signer", "ASN1 OID: prime256v1",
                           "Signature Algorithm: ecdsa-with-SHA256", "X509v3 Basic Constraints: critical",
                           "CA:FALSE", "X509v3 Key Usage: critical", "Digital Signature",
                           "TLS Web Server Authentication", "DNS:signer.thpt-abc.edu.vn", "IP Address:192.168.1.10",
                           "IP Address:FD00:0:0:0:0:0:0:5", "DNS:1.2.3.4.example", "DNS:localhost",
                           "IP Address:127.0.0.1"}) {
    EXPECT_NE(t.find(want), std::string::npos) << "missing '" << want << "' in:\n" << t;
  }
  EXPECT_EQ(t.find("Certificate Sign"), std::string::npos);

  // The serial: 16 bytes, positive.
  auto serial = run("openssl x509 -in '" + cert + "' -noout -serial");
  EXPECT_TRUE(std::regex_match(serial.out, std::regex("serial=[0-7][0-9A-F]{31}\n"))) << serial.out;

  // Valid now, not after 826 days, still after 824.
  EXPECT_EQ(run("openssl x509 -in '" + cert + "' -noout -checkend 0").status, 0);
  EXPECT_EQ(run("openssl x509 -in '" + cert + "' -noout -checkend " + std::to_string(824 * 86400)).status, 0);
  EXPECT_NE(run("openssl x509 -in '" + cert + "' -noout -checkend " + std::to_string(826 * 86400)).status, 0);

  // The key is the certificate's key, as openssl sees it.
  auto pub_cert = run("openssl x509 -in '" + cert + "' -noout -pubkey");
  auto pub_key = run("openssl pkey -in '" + key + "' -pubout");
  EXPECT_EQ(pub_cert.out, pub_key.out);
  EXPECT_NE(run("head -1 '" + key + "'").out.find("BEGIN PRIVATE KEY"), std::string::npos);
}

TEST(TlsFiles, DefaultNameAndNoDuplicates) {
  if (!test::have_tool("openssl")) GTEST_SKIP() << "openssl not installed";
  TempDir d;
  ensure_ok(d.file("cert.pem"), d.file("key.pem"), {"LOCALHOST", "127.0.0.1"});
  auto t = run("openssl x509 -in '" + d.file("cert.pem") + "' -noout -subject -ext subjectAltName").out;
  EXPECT_NE(t.find("subject=CN = LOCALHOST, O = hocba-signer"), std::string::npos) << t;
  EXPECT_NE(t.find("DNS:LOCALHOST, IP Address:127.0.0.1\n"), std::string::npos) << t;

  TempDir d2;
  ensure_ok(d2.file("cert.pem"), d2.file("key.pem"));
  t = run("openssl x509 -in '" + d2.file("cert.pem") + "' -noout -subject -ext subjectAltName").out;
  EXPECT_NE(t.find("subject=CN = hocba-signer, O = hocba-signer"), std::string::npos) << t;
  EXPECT_NE(t.find("DNS:localhost, IP Address:127.0.0.1\n"), std::string::npos) << t;
}

TEST(TlsFiles, AcceptsAPairMadeByOpenssl) {
  if (!test::have_tool("openssl")) GTEST_SKIP() << "openssl not installed";
  TempDir d;
  std::string cert = d.file("cert.pem"), key = d.file("key.pem");
  auto r = run("openssl req -x509 -newkey rsa:2048 -nodes -keyout '" + key + "' -out '" + cert +
               "' -subj /CN=school -days 30");
  ASSERT_EQ(r.status, 0) << r.out;
  TlsFiles f = ensure_ok(cert, key);
  EXPECT_FALSE(f.generated);
  EXPECT_EQ(f.fingerprint_sha256, openssl_fingerprint(cert));
}

TEST(TlsFiles, RefusesAMismatchedKey) {
  TempDir a, b;
  ensure_ok(a.file("cert.pem"), a.file("key.pem"));
  ensure_ok(b.file("cert.pem"), b.file("key.pem"));
  auto r = ensure_tls_files(a.file("cert.pem"), b.file("key.pem"), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::crypto);
  EXPECT_NE(r.error().message.find(b.file("key.pem")), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
}

TEST(TlsFiles, RefusesOnlyOneFile) {
  TempDir d;
  std::string cert = d.file("cert.pem"), key = d.file("key.pem");
  ensure_ok(cert, key);
  auto key_bytes = read_file(key);
  ASSERT_TRUE(key_bytes);
  ASSERT_EQ(::unlink(cert.c_str()), 0);

  auto r = ensure_tls_files(cert, key, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_NE(r.error().message.find(cert), std::string::npos) << r.error().message;
  EXPECT_FALSE(exists(cert));
  EXPECT_EQ(*read_file(key), *key_bytes);

  // The other way round.
  ASSERT_EQ(::unlink(key.c_str()), 0);
  test::write_text(cert, "whatever\n");
  r = ensure_tls_files(cert, key, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_FALSE(exists(key));
  EXPECT_EQ(test::read_text(cert), "whatever\n");
}

TEST(TlsFiles, RefusesGarbageNamingTheFile) {
  TempDir d;
  std::string cert = d.file("cert.pem"), key = d.file("key.pem");
  ensure_ok(cert, key);
  std::string good_cert = test::read_text(cert), good_key = test::read_text(key);

  test::write_text(cert, "not a certificate\n");
  auto r = ensure_tls_files(cert, key, {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find(cert), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos);

  test::write_text(cert, good_cert);
  test::write_text(key, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  r = ensure_tls_files(cert, key, {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find(key), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos);

  // A key in the certificate's place (and the other way round) is refused too.
  test::write_text(cert, good_key);
  test::write_text(key, good_cert);
  r = ensure_tls_files(cert, key, {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find(cert), std::string::npos) << r.error().message;
}

TEST(TlsFiles, RefusesAnEncryptedKeyWithoutPrompting) {
  if (!test::have_tool("openssl")) GTEST_SKIP() << "openssl not installed";
  TempDir d;
  std::string cert = d.file("cert.pem"), key = d.file("key.pem");
  ensure_ok(cert, key);
  auto r = run("openssl pkey -in '" + key + "' -aes256 -passout pass:secret -out '" + key + ".enc' && mv '" + key +
               ".enc' '" + key + "'");
  ASSERT_EQ(r.status, 0) << r.out;
  auto e = ensure_tls_files(cert, key, {});
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find(key), std::string::npos) << e.error().message;
}

TEST(TlsFiles, RefusesABadHostNameAndWritesNothing) {
  TempDir d;
  std::string cert = d.file("cert.pem"), key = d.file("key.pem");
  for (const char* bad : {"a,IP:10.0.0.1", "has space", "", "trường.vn"}) {
    auto r = ensure_tls_files(cert, key, {"good.example", bad});
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::invalid_argument) << bad;
    EXPECT_FALSE(exists(cert));
    EXPECT_FALSE(exists(key));
  }
}

TEST(TlsFiles, RemovesTheNewKeyWhenTheCertificateCannotBeWritten) {
  TempDir d;
  // A name that fits (255 bytes) but whose temporary file name beside it does not.
  std::string cert = d.file(std::string(240, 'c') + ".pem"), key = d.file("key.pem");
  auto r = ensure_tls_files(cert, key, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::io);
  EXPECT_FALSE(exists(key));
  EXPECT_EQ(run("ls -A '" + d.path() + "'").out, "");
}

TEST(TlsFiles, ReportsAnUnwritableFolder) {
  if (::geteuid() == 0) GTEST_SKIP() << "root can write anywhere";
  TempDir d;
  ASSERT_EQ(::mkdir(d.file("ro").c_str(), 0500), 0);
  auto r = ensure_tls_files(d.file("ro/cert.pem"), d.file("ro/key.pem"), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::io);
  EXPECT_FALSE(exists(d.file("ro/key.pem")));
  // The key can be written but the certificate cannot: the new key is removed again, so the next
  // start does not find a key without its certificate.
  r = ensure_tls_files(d.file("ro/cert.pem"), d.file("private/key.pem"), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::io);
  EXPECT_NE(r.error().message.find(d.file("ro/cert.pem")), std::string::npos) << r.error().message;
  EXPECT_FALSE(exists(d.file("private/key.pem")));
  ::chmod(d.file("ro").c_str(), 0700);
}
