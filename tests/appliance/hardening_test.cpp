// hocbad under the abuse a client on the school network can send: floods of idle connections, and
// bodies larger than a route takes. The daemon runs with 1024 file descriptors, as a default system
// gives it, so that running out of them shows.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "appliance.h"

namespace hocba::test {
namespace {

std::size_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::size_t>(st.st_size) : 0;
}

// 127.0.0.2 is another client to the daemon (Linux answers on all of 127/8).
bool have_second_loopback_address() {
  return run("/usr/bin/python3 -c \"import socket; s=socket.socket(); s.bind(('127.0.0.2', 0))\" 2>&1").status == 0;
}

TEST(Hardening, IdleConnectionsFromOneClientLeaveOthersServed) {
  if (access("/usr/bin/prlimit", X_OK) != 0) GTEST_SKIP() << "prlimit (util-linux) is needed";
  if (!have_second_loopback_address()) GTEST_SKIP() << "cannot bind 127.0.0.2";
  ApplianceOptions o;
  o.wrapper = {"/usr/bin/prlimit", "--nofile=1024:1024", "--"};
  Appliance a(o);
  ASSERT_EQ(a.call("GET", "/healthz").status, 200);
  std::size_t log_before = file_size(a.log_path());
  // One client opens 1,100 connections that never start TLS, and reopens each one the server closes,
  // for 12 seconds.
  TempDir tmp;
  std::string out = tmp.file("flood.out");
  std::string cmd = "/usr/bin/python3 " + std::string(HOCBA_SOURCE_DIR) + "/tests/tools/hold_connections.py 127.0.0.1 " +
                    std::to_string(a.port()) + " 127.0.0.2 1100 12 > " + out + " 2>&1 &";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::this_thread::sleep_for(std::chrono::seconds(4));  // the flood is on
  // Another client is served within a second, again and again, while it lasts.
  double worst = 0;
  for (int i = 0; i < 5; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = a.call("GET", "/healthz");
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    worst = std::max(worst, secs);
    EXPECT_EQ(r.status, 200) << r.body;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_LT(worst, 1.0) << "/healthz took " << worst << " s during the flood";
  // Wait for the flood to end.
  for (int i = 0; i < 200 && read_text(out).find("opened=") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::string flood = read_text(out);
  EXPECT_NE(flood.find("opened="), std::string::npos) << flood;
  std::size_t grown = file_size(a.log_path()) - log_before;
  EXPECT_LT(grown, std::size_t(100) << 10) << "the log grew by " << grown << " bytes during the flood (" << flood << ")";
  // The metrics say what was refused.
  EXPECT_EQ(a.call("GET", "/healthz").status, 200);
  EXPECT_EQ(a.stop(), 0);
}

TEST(Hardening, BodiesOverARoutesLimitAreRefusedBeforeTheHandler) {
  if (!have_tool("curl")) GTEST_SKIP() << "curl is needed";
  Appliance a;
  a.add_user("admin", "admin");
  std::string tok = a.login("admin");
  TempDir tmp;
  auto post = [&](const std::string& path, const std::string& body, const std::string& token) {
    write_text(tmp.file("body"), body);
    return run("curl -sS -o /dev/null -w '%{http_code}' --cacert " + a.state_dir() + "/tls/cert.pem -H 'Content-Type: application/json' " +
               (token.empty() ? "" : "-H 'Authorization: Bearer " + token + "' ") + "--data-binary @" + tmp.file("body") + " " +
               a.url(path) + " 2>&1")
        .out;
  };
  // A login body of 1 MiB: the listener answers 413 (the login route takes at most server.max_json_kb).
  std::string big_login = "{\"username\":\"" + std::string(1 << 20, 'a') + "\",\"password\":\"x\"}";
  EXPECT_EQ(post("/api/v1/auth/login", big_login, ""), "413");
  // So does any other JSON route (here a correction request, which needs a login).
  EXPECT_EQ(post("/api/v1/users", "{\"username\":\"" + std::string(100 << 10, 'u') + "\"}", tok), "413");
  // The class import takes a large body only from the admin: anyone else gets 401 (or 403) from the
  // header, before the body is read.
  std::string class_anon = "{\"format\":\"hocba.class/v1\",\"padding\":\"" + std::string(200 << 10, ' ') + "\"}";
  EXPECT_EQ(post("/api/v1/classes", class_anon, ""), "401");
  // From the admin it is refused for what it is, not for its size.
  std::string class_body = "{\"format\":\"hocba.class/v1\",\"padding\":\"" + std::string(200 << 10, ' ') + "\"}";
  std::string code = post("/api/v1/classes", class_body, tok);
  EXPECT_NE(code, "413");
  EXPECT_EQ(code.substr(0, 1), "4") << code;
  EXPECT_EQ(a.stop(), 0);
}

}  // namespace
}  // namespace hocba::test
