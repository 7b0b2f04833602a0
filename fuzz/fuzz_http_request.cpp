// Fuzz target: the HTTP request path of hocbad, from raw bytes to the handler's answer. Beast's
// request parser (with the server's header and body limits) reads the bytes; the request is turned
// into our HttpRequest as api/src/server.cpp does it (Session::on_read); then split_target (path and
// query decoding), header(), cookie(), the JSON body helpers the handlers use (parse_object,
// str_field, int_field, bad_int_field, take_secret), HTTP Basic credentials (parse_basic_authorization)
// and the router with every handler behind it (App::handle on an in-process App with the CSC module,
// as hocbad builds it: a throw-away store, no PKCS#11 module, B-B). Inputs reach the handlers behind
// the login too: "SESSION_TOKEN" in the input is replaced by the session token of an admin logged in
// at start (and again when an input logged it out).
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "beast_request.h"
#include "app_internal.h"
#include "hocba/api/app.h"
#include "hocba/csc/csc.h"
#include "hocba/net/basic_auth.h"
#include "hocba/net/http.h"
#include "hocba/common/metrics.h"
#include "hocba/store/store.h"
#include "hocba/store/users.h"
#include "hocba/hsm/hsm.h"

namespace {
using namespace hocba;
namespace http = boost::beast::http;

// One App for the whole run, as in tests/appliance's served_routes().
struct InProcessApp {
  std::string dir;
  std::optional<store::Store> store;
  hsm::Hsm hsm;
  Metrics metrics;
  std::unique_ptr<api::App> app;
  InProcessApp() {
    char tmpl[] = "/tmp/hocba-fuzz-http-XXXXXX";
    if (!mkdtemp(tmpl)) std::abort();
    dir = tmpl;
    auto s = store::Store::open(dir + "/state");
    if (!s) {
      std::fprintf(stderr, "Store::open: %s\n", s.error().message.c_str());
      std::abort();
    }
    store.emplace(std::move(*s));
    api::AppOptions o;
    o.cfg = config::default_config();
    o.state_dir = dir + "/state";
    o.level = "B-B";
    std::vector<std::unique_ptr<api::RouteModule>> modules;
    modules.push_back(std::make_unique<csc::CscModule>());  // the CSC routes too, as hocbad serves them
    app = std::make_unique<api::App>(std::move(o), *store, hsm, nullptr, metrics, std::move(modules));
    if (!store::Users(*store).add("system", "fuzzadmin", "Fuzz Admin", store::Role::admin, Secret(kPassword))) std::abort();
    log_in();
  }
  static constexpr const char* kPassword = "fuzz-admin-password-not-in-any-seed";
  std::string token;
  // Logs the admin in from an address of its own (the inputs' throttling does not touch it).
  void log_in() {
    net::HttpRequest r;
    r.method = "POST";
    r.target = "/api/v1/auth/login";
    r.headers = {{"content-type", "application/json"}};
    r.body = std::string(R"({"username":"fuzzadmin","password":")") + kPassword + "\"}";
    r.remote_address = "198.51.100.1";
    net::split_target(r);
    net::HttpResponse res = app->handle(r);
    auto o = api::parse_object(res.body);
    token = o ? api::str_field(*o, "token") : "";
    if (token.empty()) std::fprintf(stderr, "fuzz_http_request: admin login failed (%d %s)\n", res.status, res.body.c_str());
  }
  // After an input that may have ended the session: log in again if it did.
  void keep_session() {
    net::HttpRequest r;
    r.method = "GET";
    r.target = "/api/v1/me";
    r.headers = {{"cookie", "hocba_session=" + token}};
    r.remote_address = "198.51.100.1";
    net::split_target(r);
    if (app->handle(r).status == 401) log_in();
  }
  ~InProcessApp() {
    app.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};
InProcessApp& in_process() {
  static InProcessApp a;
  return a;
}

// What the handlers do with a JSON body.
void body_helpers(const std::string& body) {
  auto o = api::parse_object(body);
  if (!o) return;
  for (std::string_view k : {"username", "password", "totp", "role", "uri", "reason", "pin"}) {
    (void)api::str_field(*o, k);
    (void)api::int_field(*o, k, 0);
    (void)api::bad_int_field(*o, k);
  }
  Secret s = api::take_secret(*o, "password");
  Secret p = api::take_secret(*o, "pin");
  (void)(s.size() + p.size());
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::warn);  // no line per failed login; warnings and errors still show
  in_process();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  InProcessApp& a = in_process();
  std::string raw(reinterpret_cast<const char*>(data), size);
  static const std::string kMarker = "SESSION_TOKEN";
  for (auto pos = raw.find(kMarker); pos != std::string::npos; pos = raw.find(kMarker, pos + a.token.size()))
    raw.replace(pos, kMarker.size(), a.token);

  http::request_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(1 << 20);
  parser.header_limit(16 << 10);
  boost::beast::error_code ec;
  std::size_t used = parser.put(boost::asio::buffer(raw.data(), raw.size()), ec);
  (void)used;
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return 0;

  // As Session::on_read in api/src/server.cpp.
  auto& msg = parser.get();
  net::HttpRequest req;
  net::request_head_from(msg, "192.0.2.7", req);
  req.body = std::move(msg.body());

  (void)req.header("authorization");
  (void)req.header("content-type");
  (void)req.cookie("hocba_session");
  (void)req.cookie("");
  if (auto b = net::parse_basic_authorization(req.header("authorization"))) (void)b->password.size();
  body_helpers(req.body);

  net::HttpResponse r = a.app->handle(req);
  if (r.status < 100 || r.status > 599) std::abort();
  if (req.path.find("/auth/") != std::string::npos || req.path.find("/me") != std::string::npos ||
      req.path.find("/users") != std::string::npos)
    a.keep_session();
  return 0;
}
