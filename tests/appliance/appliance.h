// A throw-away appliance for tests: hocbad started in a temporary state folder on a free port of
// 127.0.0.1, with a SoftHSM2 token set (the test PKI of scripts/softhsm-provision.sh), and an HTTPS
// client that trusts its self-signed certificate.
#pragma once
#include <boost/json.hpp>
#include <memory>
#include <string>
#include <vector>

#include "hocba/api/app.h"
#include "hocba/net/http_client.h"
#include "test_env.h"

namespace hocba::test {

struct ApplianceOptions {
  std::string config_toml;          // written to STATE/../hocbad.toml and passed with --config when not empty
  bool own_demo_tokens = false;     // true: hocbad provisions its demo tokens itself (SOFTHSM2_CONF unset)
  std::vector<std::string> extra_env;  // NAME=VALUE for hocbad
  std::vector<std::string> wrapper;    // put before hocbad's command line, e.g. {"prlimit", "--nofile=1024", "--"}
};

// The routes of an App built in-process as hocbad builds it (with the CSC module; no token module),
// with configuration `cfg`: the same table hocbad serves.
std::vector<api::RouteInfo> served_routes(config::Config cfg = config::default_config());

class Appliance {
 public:
  explicit Appliance(ApplianceOptions opts = {});
  ~Appliance();

  const std::string& state_dir() const { return state_; }
  const std::string& dir() const { return tmp_.path(); }
  std::string pin_file(const std::string& token) const;  // e.g. "GVCN-3A"
  std::string pin(const std::string& token) const;       // its content
  int port() const { return server_ ? server_->port() : 0; }
  std::string url(const std::string& path) const;
  std::string log_path() const { return tmp_.file("hocbad.log"); }  // hocbad's stdout and stderr

  void start();               // (again, after stop/kill)
  int stop(int timeout_s = 60);  // SIGTERM; the exit status
  void kill9();

  // hocba admin commands against the state folder. Passwords are "password-" + username.
  void add_user(const std::string& username, const std::string& role);
  CommandResult hocba(const std::string& args) const;

  // HTTPS calls. token: a Bearer token (empty: anonymous).
  net::HttpExchange call(const std::string& method, const std::string& path, const std::string& token = "",
                         const std::string& body = "", std::vector<std::pair<std::string, std::string>> headers = {});
  boost::json::value json(const std::string& method, const std::string& path, const std::string& token = "",
                          const std::string& body = "", int expect_status = 200);
  std::string login(const std::string& username);  // the session token
  // Binds a key (URI) to a user, or to the seal when username is empty; as the given admin token.
  std::int64_t bind_key(const std::string& admin_token, const std::string& uri, const std::string& username);
  // Waits until job `id` is no longer running; its final JSON.
  boost::json::object wait_job(const std::string& token, std::int64_t id, int timeout_s = 300);

 private:
  ApplianceOptions opts_;
  TempDir tmp_;
  std::string state_;
  std::string softhsm_;
  std::unique_ptr<ChildServer> server_;
  std::unique_ptr<net::HttpClient> http_;
};

}  // namespace hocba::test
