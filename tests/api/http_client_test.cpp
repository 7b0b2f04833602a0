// The Beast HTTP client against our test TSA process: answers, HTTP errors, timeouts that hold,
// refused connections, TLS to a plain server, body limits; and the TimestampClient over it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "hocba/net/http_client.h"
#include "hocba/signer/timestamp.h"
#include "test_env.h"

using namespace hocba;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

class Http : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    auto r = test::run("(cd " + dir_->path() +
                       " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem"
                       " -days 30 -subj /CN=Http-Test-CA -addext basicConstraints=critical,CA:TRUE"
                       " -addext keyUsage=critical,keyCertSign,cRLSign)");
    ASSERT_EQ(r.status, 0) << r.out;
    test::make_tsa_certificate(dir_->file("tsa"), dir_->file("ca.pem"), dir_->file("ca.key"), "/CN=Http Test TSA", "ec");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  std::unique_ptr<test::ChildServer> start_tsa(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {HOCBA_TEST_TSA, "--key", dir_->file("tsa.key"), "--cert", dir_->file("tsa.pem"),
                                     "--chain", dir_->file("ca.pem"), "--port", "0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<test::ChildServer>(argv, log_.file("tsa.log"));
  }
  static Bytes query() { return signer::make_timestamp_request(Bytes{1, 2, 3})->der; }

  static test::TempDir* dir_;
  test::TempDir log_;
};
test::TempDir* Http::dir_ = nullptr;

}  // namespace

TEST(Url, Parts) {
  auto a = net::parse_url("http://127.0.0.1:8080/tsa?x=1#frag");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->tls);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, "8080");
  EXPECT_EQ(a->target, "/tsa?x=1");
  auto b = net::parse_url("HTTPS://tsa.example.vn");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->tls);
  EXPECT_EQ(b->port, "443");
  EXPECT_EQ(b->target, "/");
  auto c = net::parse_url("http://[::1]:99/x");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->port, "99");
  for (const char* bad : {"ftp://x/", "tsa.example.vn", "http://", "http://h:0/", "http://h:70000/", "http://u@h/",
                          "http://[::1/", "http://h:8a/"})
    EXPECT_FALSE(net::parse_url(bad).ok()) << bad;
}

TEST_F(Http, PostGetsTheTsaAnswer) {
  auto tsa = start_tsa();
  net::HttpClient http;
  auto req = signer::make_timestamp_request(Bytes{1, 2, 3});
  auto body = http.post(tsa->url("/tsa"), "application/timestamp-query", req->der, 5s);
  ASSERT_TRUE(body.ok()) << body.error().message;
  auto tok = signer::check_timestamp_response(*body, *req, {});
  EXPECT_TRUE(tok.ok()) << tok.error().message;
}

TEST_F(Http, ErrorStatusIsUnavailable) {
  auto tsa = start_tsa({"--fail", "1"});
  net::HttpClient http;
  auto r = http.post(tsa->url(), "application/timestamp-query", query(), 5s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::unavailable);
  EXPECT_EQ(r.error().message, tsa->url() + " answered HTTP 503 Service Unavailable");
  auto g = http.get(tsa->url(), 5s);  // the TSA takes POSTs only
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().message.find("HTTP 405"), std::string::npos) << g.error().message;
}

TEST_F(Http, SlowServerTimesOutOnTime) {
  auto tsa = start_tsa({"--delay-ms", "3000"});
  net::HttpClient http;
  auto t0 = Clock::now();
  auto r = http.post(tsa->url(), "application/timestamp-query", query(), 500ms);
  auto took = Clock::now() - t0;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::timeout);
  EXPECT_EQ(r.error().message, tsa->url() + " did not answer within 0.5 s");
  EXPECT_GE(took, 450ms);
  EXPECT_LT(took, 1500ms);
}

TEST_F(Http, ClosedPortIsRefusedAtOnce) {
  net::HttpClient http;
  int port = test::closed_port();
  auto t0 = Clock::now();
  auto r = http.post("http://127.0.0.1:" + std::to_string(port) + "/", "application/timestamp-query", query(), 10s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::unavailable);
  EXPECT_EQ(r.error().message, "cannot connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
  EXPECT_LT(Clock::now() - t0, 2s);
}

TEST_F(Http, TlsToAPlainServerFailsCleanly) {
  auto tsa = start_tsa();
  net::HttpClient http;
  auto t0 = Clock::now();
  auto r = http.post("https://127.0.0.1:" + std::to_string(tsa->port()) + "/", "application/timestamp-query", query(), 3s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::unavailable) << r.error().message;
  EXPECT_NE(r.error().message.find("TLS with 127.0.0.1"), std::string::npos) << r.error().message;
  EXPECT_LT(Clock::now() - t0, 3500ms);
}

TEST_F(Http, BodyLimitHolds) {
  auto tsa = start_tsa();
  net::HttpClientOptions o;
  o.max_response_bytes = 100;
  net::HttpClient http(o);
  auto r = http.post(tsa->url(), "application/timestamp-query", query(), 5s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::too_large) << r.error().message;
}

TEST_F(Http, TimestampClientOverHttpRetriesAndLearnsTheTokenSize) {
  auto tsa = start_tsa({"--fail", "1"});
  net::HttpClient http;
  signer::TimestampClientOptions o;
  o.urls = {tsa->url()};
  o.timeout = 5s;
  o.backoff = 10ms;
  signer::TimestampClient client(http, o);
  auto t = client.timestamp(Bytes{4, 5, 6});
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(client.estimated_token_size(), t->der.size());
  EXPECT_EQ(t->tsa_name, "CN=Http Test TSA");
}

// The TSA cap (signing.tsa_max_concurrent): 16 threads ask one slow TSA (300 ms per answer) at once;
// the TSA itself counts the requests it holds at once (--max-seen-file). Never more than the cap, all
// 16 answered (the others waited, none failed), and the cap is reached (the client does not ask one
// at a time). A second TSA has a cap of its own.
TEST_F(Http, NeverMoreThanTheCapInFlightAtOneTsa) {
  EXPECT_EQ(signer::TimestampClientOptions{}.max_concurrent, 4);  // the default
  for (int cap : {4, 2}) {
    SCOPED_TRACE("max_concurrent " + std::to_string(cap));
    std::string seen = log_.file("max-seen-" + std::to_string(cap));
    std::string seen2 = log_.file("max-seen-other-" + std::to_string(cap));
    auto tsa = start_tsa({"--delay-ms", "300", "--max-seen-file", seen});
    auto other = start_tsa({"--delay-ms", "300", "--max-seen-file", seen2});
    net::HttpClient http;
    signer::TimestampClientOptions o;
    o.urls = {tsa->url()};
    o.timeout = 30s;
    o.max_concurrent = cap;
    signer::TimestampClient client(http, o);
    o.urls = {other->url()};
    signer::TimestampClient other_client(http, o);
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 16; ++i)
      threads.emplace_back([&, i] {
        auto t = (i % 4 == 3 ? other_client : client).timestamp(Bytes{static_cast<std::uint8_t>(i), 7});
        if (t) ++ok;
        else ADD_FAILURE() << t.error().message;
      });
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok, 16);
    EXPECT_EQ(client.in_flight(tsa->url()), 0);
    EXPECT_EQ(std::stoi(test::read_text(seen)), cap) << "12 requests, at most " << cap << " at once at the TSA";
    EXPECT_EQ(std::stoi(test::read_text(seen2)), std::min(cap, 4)) << "4 requests to the other TSA";
  }
}

// https:// against `openssl s_server -www` with a certificate for 127.0.0.1 from our test CA: accepted
// with that CA, refused with the system store alone, refused under another host name.
TEST_F(Http, HttpsVerifiesTheServerCertificate) {
  std::string d = log_.path();
  auto r = test::run("(cd " + d + " && printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > srv.ext &&"
                     " openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key -out srv.csr"
                     " -subj /CN=127.0.0.1 && openssl x509 -req -in srv.csr -CA " + dir_->file("ca.pem") + " -CAkey " +
                     dir_->file("ca.key") + " -set_serial 5 -days 2 -extfile srv.ext -out srv.pem)");
  ASSERT_EQ(r.status, 0) << r.out;
  int port = test::closed_port();
  std::string p = std::to_string(port);
  test::ChildServer srv({"/bin/sh", "-c", "echo " + p + "; exec openssl s_server -quiet -www -accept 127.0.0.1:" + p +
                                              " -cert " + d + "/srv.pem -key " + d + "/srv.key >/dev/null"});
  net::HttpClientOptions o;
  o.extra_ca_file = dir_->file("ca.pem");
  net::HttpClient trusting(o);
  Result<Bytes> page = make_error(Errc::unavailable, "not tried");
  for (int i = 0; i < 50; ++i) {  // until s_server listens
    page = trusting.get("https://127.0.0.1:" + p + "/", 3s);
    if (page.ok() || page.error().message.find("Connection refused") == std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_NE(std::string(page->begin(), page->end()).find("<HTML>"), std::string::npos);

  net::HttpClient system_only;
  auto untrusted = system_only.get("https://127.0.0.1:" + p + "/", 3s);
  ASSERT_FALSE(untrusted.ok());
  EXPECT_NE(untrusted.error().message.find("certificate verify failed"), std::string::npos) << untrusted.error().message;
  auto wrong_name = trusting.get("https://localhost:" + p + "/", 3s);
  ASSERT_FALSE(wrong_name.ok());
  EXPECT_NE(wrong_name.error().message.find("TLS with localhost"), std::string::npos) << wrong_name.error().message;
}
