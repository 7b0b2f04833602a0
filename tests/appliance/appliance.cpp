#include "appliance.h"

#include <algorithm>

#include "hocba/csc/csc.h"
#include "hocba/hsm/hsm.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace hocba::test {

std::vector<api::RouteInfo> served_routes(config::Config cfg) {
  TempDir tmp;
  std::string state = tmp.file("state");
  auto store = store::Store::open(state);
  if (!store) throw std::runtime_error("Store::open: " + store.error().message);
  hsm::Hsm hsm;
  Metrics metrics;
  api::AppOptions o;
  o.cfg = std::move(cfg);
  o.state_dir = state;
  o.level = "B-B";
  std::vector<std::unique_ptr<api::RouteModule>> modules;
  modules.push_back(std::make_unique<csc::CscModule>());
  api::App app(std::move(o), *store, hsm, nullptr, metrics, std::move(modules));
  return app.routes();
}

Appliance::Appliance(ApplianceOptions opts) : opts_(std::move(opts)) {
  state_ = tmp_.file("state");
  softhsm_ = tmp_.file("softhsm");
  if (!opts_.own_demo_tokens) {
    run("mkdir -p " + softhsm_);
    provision_softhsm(softhsm_);  // sets SOFTHSM2_CONF for this process and hocbad
  }
  if (!opts_.config_toml.empty()) write_text(tmp_.file("hocbad.toml"), opts_.config_toml);
  start();
}

Appliance::~Appliance() {
  if (server_) server_->terminate(60);
}

std::string Appliance::pin_file(const std::string& token) const {
  return (opts_.own_demo_tokens ? state_ + "/softhsm" : softhsm_) + "/pins/" + token + ".pin";
}

std::string Appliance::pin(const std::string& token) const {
  std::string p = read_text(pin_file(token));
  while (!p.empty() && (p.back() == '\n' || p.back() == '\r')) p.pop_back();
  return p;
}

std::string Appliance::url(const std::string& path) const { return "https://127.0.0.1:" + std::to_string(port()) + path; }

void Appliance::start() {
  std::vector<std::string> argv = opts_.wrapper;
  if (opts_.own_demo_tokens || !opts_.extra_env.empty()) {
    argv.push_back("/usr/bin/env");
    if (opts_.own_demo_tokens) argv.push_back("-u"), argv.push_back("SOFTHSM2_CONF");
    for (auto& e : opts_.extra_env) argv.push_back(e);
  }
  for (std::string a : {std::string(HOCBAD_BIN), std::string("--state-dir"), state_, std::string("--listen"), std::string("127.0.0.1:0")})
    argv.push_back(a);
  if (!opts_.config_toml.empty()) argv.push_back("--config"), argv.push_back(tmp_.file("hocbad.toml"));
  // A first start with its own demo tokens runs softhsm-provision.sh (RSA-3072 key generation): slow
  // on a loaded machine.
  server_ = std::make_unique<ChildServer>(argv, tmp_.file("hocbad.log"), opts_.own_demo_tokens ? 180 : 30);
  // A new certificate on first start: trust it (and nothing else).
  net::HttpClientOptions ho;
  ho.extra_ca_file = state_ + "/tls/cert.pem";
  http_ = std::make_unique<net::HttpClient>(ho);
}

int Appliance::stop(int timeout_s) {
  int st = server_ ? server_->terminate(timeout_s) : -1;
  server_.reset();
  return st;
}

void Appliance::kill9() {
  if (server_) server_->kill_hard();
  server_.reset();
}

CommandResult Appliance::hocba(const std::string& args) const { return run(std::string(HOCBA_BIN) + " " + args); }

void Appliance::add_user(const std::string& username, const std::string& role) {
  std::string pw = tmp_.file("pw-" + username);
  write_text(pw, "password-" + username + "\n");
  auto r = hocba("user add --state-dir " + state_ + " --username " + username + " --role " + role + " --password-file " + pw);
  if (r.status != 0) throw std::runtime_error("hocba user add " + username + ": " + r.out);
}

net::HttpExchange Appliance::call(const std::string& method, const std::string& path, const std::string& token, const std::string& body,
                                  std::vector<std::pair<std::string, std::string>> headers) {
  if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
  bool typed = std::any_of(headers.begin(), headers.end(), [](const auto& h) { return h.first == "Content-Type"; });
  if (!body.empty() && !typed) headers.emplace_back("Content-Type", "application/json");  // unless the caller says otherwise
  auto r = http_->exchange(method, url(path), headers, body, std::chrono::seconds(120));
  if (!r) throw std::runtime_error(method + " " + path + ": " + r.error().message);
  return *r;
}

boost::json::value Appliance::json(const std::string& method, const std::string& path, const std::string& token, const std::string& body,
                                   int expect_status) {
  auto r = call(method, path, token, body);
  if (r.status != expect_status)
    throw std::runtime_error(method + " " + path + ": HTTP " + std::to_string(r.status) + " (expected " + std::to_string(expect_status) +
                             "): " + r.body);
  return boost::json::parse(r.body);
}

std::string Appliance::login(const std::string& username) {
  boost::json::object b{{"username", username}, {"password", "password-" + username}};
  auto v = json("POST", "/api/v1/auth/login", "", boost::json::serialize(b));
  return std::string(v.at("token").as_string());
}

std::int64_t Appliance::bind_key(const std::string& admin_token, const std::string& uri, const std::string& username) {
  boost::json::object b{{"uri", uri}};
  if (username.empty()) b["seal"] = true;
  else b["username"] = username;
  return json("POST", "/api/v1/keys", admin_token, boost::json::serialize(b), 201).at("id").as_int64();
}

boost::json::object Appliance::wait_job(const std::string& token, std::int64_t id, int timeout_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (;;) {
    auto v = json("GET", "/api/v1/jobs/" + std::to_string(id), token).as_object();
    if (v.at("state").as_string() != "running" || std::chrono::steady_clock::now() > deadline) return v;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace hocba::test
