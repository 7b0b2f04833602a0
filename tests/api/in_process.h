// An App over a real store, in-process (no TLS, no daemon), for the API's tests: requests as the
// listener hands them over, logins, the audit log as text. Two users: "admin" and "teacher" (a
// homeroom teacher), each with the password "password-" + their name; the App is not started.
#pragma once
#include <boost/json.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "hocba/api/app.h"
#include "hocba/hsm/hsm.h"
#include "hocba/store/users.h"
#include "test_env.h"

namespace hocba::test {

struct InProcess {
  TempDir tmp;
  std::optional<store::Store> store;
  hsm::Hsm hsm;
  Metrics metrics;
  std::unique_ptr<api::App> app;

  explicit InProcess(std::function<void(config::Config&)> tweak = {}) {
    std::string state = tmp.file("state");
    auto s = store::Store::open(state);
    if (!s) throw std::runtime_error(s.error().message);
    store.emplace(std::move(*s));
    api::AppOptions o;
    o.cfg = config::default_config();
    if (tweak) tweak(o.cfg);
    o.state_dir = state;
    o.level = "B-B";
    app = std::make_unique<api::App>(std::move(o), *store, hsm, nullptr, metrics);
    for (const char* u : {"admin", "teacher"}) {
      auto id = store::Users(*store).add("test", u, u, std::string(u) == "admin" ? store::Role::admin : store::Role::homeroom_teacher,
                                         Secret(std::string("password-") + u));
      if (!id) throw std::runtime_error(id.error().message);
    }
  }

  net::HttpResponse call(const std::string& method, const std::string& path, const std::string& body = "",
                         const std::string& address = "192.0.2.10", std::vector<std::pair<std::string, std::string>> headers = {},
                         bool json_type = true) {
    net::HttpRequest r;
    r.method = method;
    r.target = path;
    r.body = body;
    r.remote_address = address;
    r.headers.emplace_back("host", "school.example");
    if (json_type && !body.empty()) r.headers.emplace_back("content-type", "application/json");
    for (auto& h : headers) r.headers.push_back(h);
    net::split_target(r);
    return app->handle(r);
  }
  net::HttpResponse login(const std::string& user, const std::string& password, const std::string& address = "192.0.2.10",
                          const std::string& totp = "") {
    boost::json::object o{{"username", user}, {"password", password}};
    if (!totp.empty()) o["totp"] = totp;
    return call("POST", "/api/v1/auth/login", boost::json::serialize(o), address);
  }
  std::string token(const std::string& user, const std::string& address = "192.0.2.10") {
    auto r = login(user, "password-" + user, address);
    if (r.status != 200) throw std::runtime_error("login failed: " + r.body);
    return std::string(boost::json::parse(r.body).at("token").as_string());
  }
  std::string audit_text() {
    auto rows = store->query("SELECT actor, action, detail_json FROM audit ORDER BY seq");
    std::string out;
    for (auto& r : *rows) out += store::as_text(r[0]) + " " + store::as_text(r[1]) + " " + store::as_text(r[2]) + "\n";
    return out;
  }
};

}  // namespace hocba::test
