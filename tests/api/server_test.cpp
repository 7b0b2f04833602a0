// The HTTPS listener on its own (no App): TLS versions, keep-alive, body and header limits, timeouts,
// graceful stop. Checked with independent clients (curl, openssl s_client).
#include "hocba/net/server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "hocba/net/tls_files.h"
#include "test_env.h"

namespace hocba::test {
namespace {

struct Fixture {
  TempDir dir;
  std::unique_ptr<net::Server> server;
  std::atomic<int> handled{0};
  std::string base;

  explicit Fixture(net::ServerOptions o = {}, std::function<net::HttpResponse(net::HttpRequest&)> h = {}) {
    auto tls = net::ensure_tls_files(dir.file("cert.pem"), dir.file("key.pem"), {});
    if (!tls) throw std::runtime_error(tls.error().message);
    o.listen = "127.0.0.1:0";
    o.cert_path = tls->cert_path;
    o.key_path = tls->key_path;
    if (!h)
      h = [this](net::HttpRequest& r) {
        ++handled;
        return net::HttpResponse::text(200, r.method + " " + r.path + " " + std::to_string(r.body.size()));
      };
    server = std::make_unique<net::Server>(o, h);
    auto p = server->start();
    if (!p) throw std::runtime_error(p.error().message);
    base = "https://127.0.0.1:" + std::to_string(*p);
  }
  std::string curl(const std::string& args) const {
    return run("curl -sS --cacert " + dir.file("cert.pem") + " " + args + " 2>&1").out;
  }
};

TEST(Server, SpeaksTls12And13Only) {
  if (!have_tool("curl") || !have_tool("openssl")) GTEST_SKIP() << "curl and openssl are needed";
  Fixture f;
  EXPECT_EQ(f.curl("--tlsv1.3 " + f.base + "/x"), "GET /x 0");
  EXPECT_EQ(f.curl("--tlsv1.2 --tls-max 1.2 " + f.base + "/x"), "GET /x 0");
  std::string port = f.base.substr(f.base.rfind(':') + 1);
  auto old = run("echo | openssl s_client -connect 127.0.0.1:" + port + " -tls1_1 2>&1");
  EXPECT_EQ(old.out.find("BEGIN CERTIFICATE"), std::string::npos) << old.out;  // no handshake
  EXPECT_NE(old.out.find("alert"), std::string::npos) << old.out;
}

TEST(Server, KeepsTheConnectionAliveAcrossRequests) {
  if (!have_tool("curl")) GTEST_SKIP() << "curl is needed";
  Fixture f;
  std::string out = f.curl("-v " + f.base + "/a " + f.base + "/b");
  for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  EXPECT_NE(out.find("get /a 0"), std::string::npos) << out;
  EXPECT_NE(out.find("get /b 0"), std::string::npos) << out;
  EXPECT_NE(out.find("re-using existing connection"), std::string::npos) << out;
  EXPECT_NE(out.find("strict-transport-security"), std::string::npos) << out;
  EXPECT_NE(out.find("content-security-policy"), std::string::npos) << out;
}

TEST(Server, RefusesBodiesOverTheLimitWithoutCallingTheHandler) {
  if (!have_tool("curl")) GTEST_SKIP() << "curl is needed";
  net::ServerOptions o;
  o.max_body_bytes = 1000;
  Fixture f(o);
  write_text(f.dir.file("small"), std::string(1000, 'x'));
  write_text(f.dir.file("big"), std::string(5000, 'x'));
  EXPECT_EQ(f.curl("--data-binary @" + f.dir.file("small") + " " + f.base + "/up"), "POST /up 1000");
  std::string out = f.curl("-w ' %{http_code}' --data-binary @" + f.dir.file("big") + " " + f.base + "/up");
  EXPECT_NE(out.find("too_large"), std::string::npos) << out;
  EXPECT_NE(out.find(" 413"), std::string::npos) << out;
  EXPECT_EQ(f.handled.load(), 1);
}

TEST(Server, ClosesAClientThatStopsSendingAfterTheReadTimeout) {
  net::ServerOptions o;
  o.read_timeout = std::chrono::seconds(1);
  o.idle_timeout = std::chrono::seconds(1);
  o.header_timeout = std::chrono::seconds(1);
  o.handshake_timeout = std::chrono::seconds(1);
  Fixture f(o);
  // A client that connects and never says anything (not even a TLS hello).
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::stoi(f.base.substr(f.base.rfind(':') + 1))));
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  auto t0 = std::chrono::steady_clock::now();
  char buf[16];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);  // 0: closed by the server
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::close(fd);
  EXPECT_LE(n, 0);
  EXPECT_LT(secs, 4.0) << "the server kept a silent client for " << secs << " s";
  // A client that sends half a request header after the handshake.
  auto half = run("(printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\n'; sleep 4) | timeout 8 openssl s_client -quiet -connect 127.0.0.1:" +
                  f.base.substr(f.base.rfind(':') + 1) + " 2>&1; echo EXIT=$?");
  EXPECT_EQ(half.out.find("EXIT=124"), std::string::npos) << half.out;  // closed by us, not by `timeout`
}

TEST(Server, StopLetsTheRequestBeingHandledFinish) {
  if (!have_tool("curl")) GTEST_SKIP() << "curl is needed";
  std::atomic<bool> entered{false};
  Fixture f({}, [&](net::HttpRequest&) {
    entered = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    return net::HttpResponse::text(200, "finished");
  });
  std::string out;
  std::thread client([&] { out = f.curl(f.base + "/slow"); });
  while (!entered) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  f.server->stop();
  client.join();
  EXPECT_EQ(out, "finished");
  // Nothing listens any more.
  EXPECT_NE(f.curl(f.base + "/x").find("Failed to connect"), std::string::npos);
}

// A TCP connection from `source` that never says anything (not even a TLS hello); -1 on failure.
int idle_connection(int port, const char* source = "127.0.0.1") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  inet_pton(AF_INET, source, &src.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
    ::close(fd);
    return -1;
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int port_of(const Fixture& f) { return std::stoi(f.base.substr(f.base.rfind(':') + 1)); }

TEST(Server, EachRouteHasItsOwnBodyLimitKnownBeforeTheBody) {
  if (!have_tool("curl")) GTEST_SKIP() << "curl is needed";
  net::ServerOptions o;
  o.on_header = [](const net::HttpRequest& head) {
    net::HeadDecision d;
    d.body_limit = head.path == "/import" ? 100000 : 100;
    if (head.path == "/refuse") d.answer = net::HttpResponse::error(403, "forbidden", "not for you");
    return d;
  };
  Fixture f(o);
  write_text(f.dir.file("body"), std::string(5000, 'x'));
  auto post = [&](const std::string& path, const std::string& more = "") {
    return f.curl("-o /dev/null -w '%{http_code}' " + more + " --data-binary @" + f.dir.file("body") + " " + f.base + path);
  };
  EXPECT_EQ(post("/small"), "413");
  EXPECT_EQ(post("/small", "-H 'Transfer-Encoding: chunked'"), "413");
  EXPECT_EQ(post("/small?x=/import"), "413");  // the path decides, not the query
  EXPECT_EQ(post("/import"), "200");
  EXPECT_EQ(post("/import", "-H 'Transfer-Encoding: chunked'"), "200");
  EXPECT_EQ(post("/refuse"), "403");  // answered from the header, the body unread
  EXPECT_EQ(f.handled.load(), 2);
}

TEST(Server, ConnectionsFromOneAddressAreCappedAndOthersServed) {
  if (!have_tool("curl")) GTEST_SKIP() << "curl is needed";
  net::ServerOptions o;
  o.max_connections_per_address = 4;
  Fixture f(o);
  std::vector<int> fds;
  for (int i = 0; i < 12; ++i) fds.push_back(idle_connection(port_of(f), "127.0.0.2"));
  if (std::count(fds.begin(), fds.end(), -1) > 0) {
    for (int fd : fds) ::close(fd);
    GTEST_SKIP() << "cannot connect from 127.0.0.2";
  }
  for (int i = 0; i < 50 && f.server->stats().refused_per_address < 8; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(f.server->stats().refused_per_address, 8u);
  EXPECT_EQ(f.server->stats().connections, 4u);
  // Another address is served at once.
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(f.curl(f.base + "/x"), "GET /x 0");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 2.0);
  for (int fd : fds) ::close(fd);
}

TEST(Server, AtTheTotalCapTheOldestIdleConnectionMakesRoom) {
  if (!have_tool("curl")) GTEST_SKIP() << "curl is needed";
  net::ServerOptions o;
  o.max_connections = 8;
  o.handshake_timeout = std::chrono::seconds(30);  // they would hold their slots for 30 s
  Fixture f(o);
  std::vector<int> fds;
  for (int i = 0; i < 8; ++i) fds.push_back(idle_connection(port_of(f)));
  for (int i = 0; i < 50 && f.server->stats().connections < 8; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(f.curl(f.base + "/x"), "GET /x 0");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 2.0);
  EXPECT_GE(f.server->stats().evicted_idle, 1u);
  EXPECT_LE(f.server->stats().connections, 8u);
  for (int fd : fds) ::close(fd);
}

}  // namespace
}  // namespace hocba::test
