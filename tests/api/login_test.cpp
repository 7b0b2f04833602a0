// Logins and the account routes as an attacker on the school network tries them, in-process (an App
// over a real store, no TLS, no daemon): long names, lock-outs of the owner, TOTP, cross-site forms,
// logout, re-checked passwords, and the throttling state's bound.
#include <gtest/gtest.h>
#include <sodium.h>

#include <atomic>
#include <boost/json.hpp>
#include <thread>

#include "hocba/api/totp.h"
#include "hocba/hsm/hsm.h"
#include "in_process.h"
#include "throttle.h"

namespace hocba::test {
namespace {

namespace json = boost::json;

std::string error_code(const net::HttpResponse& r) {
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec || !v.is_object() || !v.as_object().contains("error")) return "";
  return std::string(v.at("error").at("code").as_string());
}

TEST(Login, NamesOverSixtyFourBytesAreRefusedBeforeAnythingIsKept) {
  InProcess p;
  auto r = p.login(std::string(65, 'a'), "whatever-password");
  EXPECT_EQ(r.status, 400) << r.body;
  // A 1 MiB name (the old attack: 30 of them grew the daemon by 51 MiB) is not even read as JSON
  // by the listener (the body limit of every route but the class import is small; server_test), and
  // the handler refuses it too.
  r = p.login(std::string(1 << 20, 'b'), "whatever-password");
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 200);
  auto head = [&](const std::string& method, const std::string& path, const std::string& token) {
    net::HttpRequest h;
    h.method = method;
    h.target = path;
    if (!token.empty()) h.headers.emplace_back("authorization", "Bearer " + token);
    net::split_target(h);
    return p.app->on_header(h);
  };
  EXPECT_LE(head("POST", "/api/v1/auth/login", "").body_limit, std::size_t(64) << 10);
  // The class import takes a large body, but only from someone who may import (the admin); anyone
  // else is refused from the header.
  EXPECT_EQ(head("POST", "/api/v1/classes", "").answer.value_or(net::HttpResponse{}).status, 401);
  EXPECT_EQ(head("POST", "/api/v1/classes", p.token("teacher")).answer.value_or(net::HttpResponse{}).status, 403);
  auto admin = head("POST", "/api/v1/classes", p.token("admin"));
  EXPECT_FALSE(admin.answer.has_value());
  EXPECT_GE(admin.body_limit, std::size_t(1) << 20);
  // Nothing about those names reached the audit log.
  EXPECT_EQ(p.audit_text().find("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), std::string::npos);
}

TEST(Login, NamesWithControlCharactersAreNotAccounts) {
  InProcess p;
  // "admin\0…": a new throttling key each time, while the store once compared only up to the NUL.
  std::string name = std::string("admin") + '\0' + "x1";
  auto r = p.login(name, "password-admin");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(p.login("admin\nfake", "password-admin").status, 400);
}

TEST(Login, FailuresFromAnotherAddressNeverLockTheOwnerOut) {
  InProcess p;
  const std::string attacker = "192.0.2.66", owner = "192.0.2.5";
  for (int i = 0; i < 5; ++i) EXPECT_EQ(p.login("admin", "guess-" + std::to_string(i), attacker).status, 401);
  // The attacker's address is locked out of the account...
  auto r = p.login("admin", "password-admin", attacker);
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(error_code(r), "locked_out");
  // ...the owner at their own address is not, even with the attacker still trying.
  r = p.login("admin", "password-admin", owner);
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST(Login, ManyAddressesOnlySlowAnAccountDownForSeconds) {
  InProcess p([](config::Config& c) { c.auth.account_delay_max_s = 1; });
  // Failures from many addresses: past max_failures, the account is slowed down, not locked.
  int slowed = 0;
  for (int i = 0; i < 12; ++i) {
    auto r = p.login("admin", "guess", "198.51.100." + std::to_string(i + 1));
    if (r.status == 429) {
      ++slowed;
      EXPECT_EQ(error_code(r), "slow_down") << r.body;
      bool has_retry = false;
      for (auto& [k, v] : r.headers)
        if (k == "Retry-After") {
          has_retry = true;
          EXPECT_LE(std::stoi(v), 1);
        }
      EXPECT_TRUE(has_retry);
    }
  }
  EXPECT_GT(slowed, 0) << "the account was never slowed down";
  // The owner waits at most account_delay_max_s, then gets in.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto r = p.login("admin", "password-admin", "192.0.2.5");
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST(Login, AKnownDeviceIsNotSlowedDownByFailuresElsewhere) {
  InProcess p([](config::Config& c) { c.auth.account_delay_max_s = 600; });
  // The owner logged in once from this browser: it got a device cookie.
  auto first = p.login("admin", "password-admin", "192.0.2.5");
  ASSERT_EQ(first.status, 200);
  std::string device;
  for (auto& [k, v] : first.headers)
    if (k == "Set-Cookie" && v.rfind("hocba_device=", 0) == 0) device = v.substr(13, v.find(';') - 13);
  ASSERT_FALSE(device.empty()) << "no device cookie";
  EXPECT_EQ(std::string(json::parse(first.body).at("device_token").as_string()), device);
  // Failures from many addresses slow the account down...
  for (int i = 0; i < 14; ++i) (void)p.login("admin", "guess", "198.51.100." + std::to_string(i + 1));
  auto slowed = p.login("admin", "password-admin", "192.0.2.99");
  EXPECT_EQ(slowed.status, 429) << slowed.body;
  EXPECT_EQ(error_code(slowed), "slow_down");
  // A device cookie cannot be forged...
  json::object body{{"username", "admin"}, {"password", "password-admin"}};
  std::string forged = device.substr(0, device.size() - 1) + (device.back() == '0' ? "1" : "0");
  auto r = p.call("POST", "/api/v1/auth/login", json::serialize(body), "192.0.2.78", {{"cookie", "hocba_device=" + forged}});
  EXPECT_EQ(r.status, 429) << r.body;
  // ...nor used for another account...
  json::object teacher{{"username", "teacher"}, {"password", "password-teacher"}};
  for (int i = 0; i < 14; ++i) (void)p.login("teacher", "guess", "203.0.113." + std::to_string(i + 1));
  r = p.call("POST", "/api/v1/auth/login", json::serialize(teacher), "192.0.2.79", {{"cookie", "hocba_device=" + device}});
  EXPECT_EQ(r.status, 429) << r.body;
  // ...but the owner's known browser is not slowed down, even at another address.
  r = p.call("POST", "/api/v1/auth/login", json::serialize(body), "192.0.2.77", {{"cookie", "hocba_device=" + device}});
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST(Login, PasswordChecksAtOnceAreCappedPerAddress) {
  api::LoginThrottle::Limits l;
  api::LoginThrottle t(l);
  auto now = api::LoginThrottle::Clock::now();
  // Sixteen unknown names at once from one address (each a 64 MiB Argon2id check): two go ahead.
  int started = 0;
  for (int i = 0; i < 16; ++i)
    if (!t.begin({"name" + std::to_string(i), "192.0.2.1", "", false}, now)) ++started;
  EXPECT_EQ(started, l.max_checks_per_address);
  // And at most max_checks in all, from any number of addresses.
  for (int i = 0; i < 16; ++i)
    if (!t.begin({"other" + std::to_string(i), "198.51.100." + std::to_string(i), "", false}, now)) ++started;
  EXPECT_EQ(started, l.max_checks);
}

TEST(Login, ThrottlingStateIsBounded) {
  api::LoginThrottle::Limits l;
  l.max_entries = 100;
  l.address_max_failures = 1000000;
  api::LoginThrottle t(l);
  auto now = api::LoginThrottle::Clock::now();
  for (int i = 0; i < 5000; ++i) {
    std::string name = "unknown-" + std::to_string(i), addr = "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250);
    ASSERT_FALSE(t.begin({name, addr, "", false}, now).has_value());
    t.end({name, addr, "", false}, false, now);
  }
  EXPECT_LE(t.entries(), 300u);  // three maps of at most 100
}

TEST(Login, ThrottlingCountsNeverGoNegative) {
  api::LoginThrottle::Limits l;
  l.max_failures = 2;
  api::LoginThrottle t(l);
  auto now = api::LoginThrottle::Clock::now();
  // A success ends while a second check is under way (the old code erased the entry, and the second
  // check's end made its count -1: one more guess than allowed ever after).
  api::LoginThrottle::Who u{"u", "a", "", false};
  ASSERT_FALSE(t.begin(u, now));
  ASSERT_FALSE(t.begin(u, now));
  t.end(u, true, now);
  t.end(u, false, now);
  // One failure is on the books: one more attempt, and the pair is at its limit.
  ASSERT_FALSE(t.begin(u, now));
  t.end(u, false, now);
  EXPECT_TRUE(t.begin(u, now).has_value());
}

TEST(Login, TheAnswerSaysNothingAboutThePasswordBeforeTheCodeIsChecked) {
  InProcess p;
  std::string tok = p.token("teacher");
  std::vector<std::pair<std::string, std::string>> auth{{"authorization", "Bearer " + tok}};
  auto first = p.call("POST", "/api/v1/me/totp", R"({"password":"password-teacher"})", "192.0.2.10", auth);
  ASSERT_EQ(first.status, 200) << first.body;
  std::string secret(json::parse(first.body).at("secret").as_string());
  std::string code = api::totp_code(secret, std::time(nullptr));
  json::object confirm{{"password", "password-teacher"}, {"secret", secret}, {"code", code}};
  ASSERT_EQ(p.call("POST", "/api/v1/me/totp", json::serialize(confirm), "192.0.2.10", auth).status, 200);
  // A right password without the code and a wrong one get the same answer.
  auto right = p.login("teacher", "password-teacher", "192.0.2.11");
  auto wrong = p.login("teacher", "not-the-password", "192.0.2.12");
  EXPECT_EQ(right.status, wrong.status);
  EXPECT_EQ(right.body, wrong.body);
  EXPECT_EQ(right.status, 401);
}

TEST(Login, OneTotpCodeLogsInOnceEvenWhenRaced) {
  InProcess p;
  std::string tok = p.token("teacher");
  std::vector<std::pair<std::string, std::string>> auth{{"authorization", "Bearer " + tok}};
  auto first = p.call("POST", "/api/v1/me/totp", R"({"password":"password-teacher"})", "192.0.2.10", auth);
  ASSERT_EQ(first.status, 200) << first.body;
  std::string secret(json::parse(first.body).at("secret").as_string());
  // Enrol with the previous step's code, so that the current step is still unused.
  std::int64_t now = std::time(nullptr);
  json::object confirm{{"password", "password-teacher"}, {"secret", secret}, {"code", api::totp_code(secret, now - 30)}};
  ASSERT_EQ(p.call("POST", "/api/v1/me/totp", json::serialize(confirm), "192.0.2.10", auth).status, 200);
  std::string code = api::totp_code(secret, now);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      if (p.login("teacher", "password-teacher", "192.0.2." + std::to_string(20 + i), code).status == 200) ++ok;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1) << "one code must log in once";
}

TEST(Login, UnknownNamesLeaveNothingDerivedFromThemInTheAudit) {
  InProcess p;
  const std::string typed = "MyS3cretPassw0rd!";  // a password typed into the username box
  EXPECT_EQ(p.login(typed, "x-password").status, 401);
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(typed.data()), typed.size());
  char hex[sizeof h * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, h, sizeof h);
  std::string audit = p.audit_text();
  EXPECT_NE(audit.find("login.fail"), std::string::npos) << audit;
  EXPECT_EQ(audit.find(typed), std::string::npos) << audit;
  EXPECT_EQ(audit.find(std::string(hex).substr(0, 8)), std::string::npos) << audit;
}

TEST(Login, ACrossSiteFormCannotLogABrowserIn) {
  InProcess p;
  // What an HTML form on another site can send without the browser asking first.
  for (const char* type : {"application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"}) {
    auto r = p.call("POST", "/api/v1/auth/login", R"({"username":"admin","password":"password-admin"})", "192.0.2.10",
                    {{"content-type", type}, {"origin", "https://evil.example"}}, false);
    EXPECT_NE(r.status, 200) << type;
    for (auto& [k, v] : r.headers) EXPECT_NE(k, "Set-Cookie") << type;
  }
  // Even JSON, from a foreign page.
  auto r = p.call("POST", "/api/v1/auth/login", R"({"username":"admin","password":"password-admin"})", "192.0.2.10",
                  {{"origin", "https://evil.example"}});
  EXPECT_EQ(r.status, 403) << r.body;
  // From our own page it works.
  r = p.call("POST", "/api/v1/auth/login", R"({"username":"admin","password":"password-admin"})", "192.0.2.10",
             {{"origin", "https://school.example"}});
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST(Login, LogoutEndsTheSessionItWasAuthenticatedWith) {
  InProcess p;
  std::string tok = p.token("teacher");
  // A cookie session, with an Authorization header of another scheme: logout must never answer
  // "ok" while the cookie's session lives on.
  auto r = p.call("POST", "/api/v1/auth/logout", "", "192.0.2.10",
                  {{"cookie", "hocba_session=" + tok}, {"authorization", "Basic " + std::string(tok.size(), 'A')}});
  auto me = p.call("GET", "/api/v1/me", "", "192.0.2.10", {{"cookie", "hocba_session=" + tok}});
  if (r.status == 200) {
    EXPECT_EQ(me.status, 401) << "logout said ok, but the session still works";
  }
  // A Bearer logout ends that session.
  r = p.call("POST", "/api/v1/auth/logout", "", "192.0.2.10", {{"authorization", "Bearer " + tok}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(p.call("GET", "/api/v1/me", "", "192.0.2.10", {{"authorization", "Bearer " + tok}}).status, 401);
}

TEST(Login, TotpIsSetOnlyWithThePassword) {
  InProcess p;
  std::string tok = p.token("teacher");
  std::vector<std::pair<std::string, std::string>> auth{{"authorization", "Bearer " + tok}};
  std::string secret = api::totp_new_secret();
  json::object o{{"secret", secret}, {"code", api::totp_code(secret, std::time(nullptr))}};
  auto r = p.call("POST", "/api/v1/me/totp", json::serialize(o), "192.0.2.10", auth);
  EXPECT_EQ(r.status, 403) << "a stolen session replaced two-factor login: " << r.body;
  o["password"] = "wrong-password";
  EXPECT_EQ(p.call("POST", "/api/v1/me/totp", json::serialize(o), "192.0.2.10", auth).status, 403);
  o["password"] = "password-teacher";
  EXPECT_EQ(p.call("POST", "/api/v1/me/totp", json::serialize(o), "192.0.2.10", auth).status, 200);
}

TEST(Login, PasswordChangesAreThrottledLikeLogins) {
  InProcess p;
  std::string tok = p.token("teacher");
  std::vector<std::pair<std::string, std::string>> auth{{"authorization", "Bearer " + tok}};
  int refused = 0;
  for (int i = 0; i < 8; ++i) {
    json::object o{{"old_password", "guess-" + std::to_string(i)}, {"new_password", "new-password-1"}};
    auto r = p.call("POST", "/api/v1/me/password", json::serialize(o), "192.0.2.10", auth);
    if (r.status == 429) ++refused;
    else EXPECT_EQ(r.status, 403) << r.body;
  }
  EXPECT_GE(refused, 3) << "a stolen session could guess the password at full speed";
}

// Display names (shown in the UI, written into signed records and their XML) are refused on input when
// they hold what no name holds: bytes that are not UTF-8, C0 and C1 control characters (tab and line
// feed too), DEL, U+FFFE, U+FFFF, or more than 128 characters; the answer says so (invalid_display_name)
// and nothing changes. Vietnamese names pass, on creation and on rename.
TEST(Users, DisplayNamesWithControlCharactersOrNoncharactersAreRefused) {
  InProcess p;
  std::string tok = p.token("admin");
  std::vector<std::pair<std::string, std::string>> auth{{"authorization", "Bearer " + tok}};
  auto add = [&](const std::string& username, const std::string& display) {
    // Serialised by hand: boost::json would escape what is not UTF-8 (the listener hands the body over as bytes).
    std::string body = "{\"username\":\"" + username + "\",\"display_name\":\"" + display +
                       "\",\"role\":\"homeroom_teacher\",\"password\":\"mat-khau-dai-4711\"}";
    return p.call("POST", "/api/v1/users", body, "192.0.2.10", auth);
  };
  auto r = add("gvcn-3a", "Nguyễn Thị Hoa");
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = std::to_string(json::parse(r.body).at("id").as_int64());
  auto rename = [&](const std::string& display) {
    return p.call("PATCH", "/api/v1/users/" + id, "{\"display_name\":\"" + display + "\"}", "192.0.2.10", auth);
  };
  const std::vector<std::string> bad = {
      "Nguyễn\\tThị Hoa",                  // tab
      "Nguyễn\\nThị Hoa",                  // line feed
      "Nguyễn\\u000bThị Hoa",              // vertical tab
      "Nguyễn\\u0000",                     // NUL
      "Nguyễn\x7f",                        // DEL
      "Nguyễn\xc2\x85",                    // U+0085 (C1)
      "Nguyễn \xef\xbf\xbe",               // U+FFFE
      "Nguyễn \\uffff",                    // U+FFFF
      std::string(129, 'a'),               // too long
  };
  for (const std::string& b : bad) {
    SCOPED_TRACE(b);
    r = add("gvcn-bad", b);
    EXPECT_EQ(r.status, 422) << r.body;
    EXPECT_EQ(error_code(r), "invalid_display_name") << r.body;
    EXPECT_NE(r.body.find("display name"), std::string::npos) << r.body;
    r = rename(b);
    EXPECT_EQ(r.status, 422) << r.body;
    EXPECT_EQ(error_code(r), "invalid_display_name") << r.body;
  }
  // Bytes that are not UTF-8 do not get past the JSON parser (400); the store refuses them too (store tests).
  for (const std::string& b : {std::string("Nguy\xe1\xbb"), std::string("Nguy\xc0\xaf"), std::string("Nguy\xed\xa0\x80")}) {
    EXPECT_GE(add("gvcn-bad", b).status, 400);
    EXPECT_GE(rename(b).status, 400);
  }
  EXPECT_FALSE(*store::Users(*p.store).by_username("gvcn-bad"));
  EXPECT_EQ((*store::Users(*p.store).by_username("gvcn-3a"))->display_name, "Nguyễn Thị Hoa");

  // What a name holds passes: Vietnamese in NFC or NFD, spaces, 128 characters.
  std::string longest;
  for (int i = 0; i < 128; ++i) longest += "ễ";
  for (const std::string& good : {std::string("Trần Văn Bình"), std::string("Nguye\xcc\x82\xcc\x83n Hoa"), longest}) {
    r = rename(good);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ((*store::Users(*p.store).by_username("gvcn-3a"))->display_name, good);
  }
}

}  // namespace
}  // namespace hocba::test
