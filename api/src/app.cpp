// Routing, authentication, sessions and throttling, accounts, keys, audit, health and metrics.
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <sstream>

#include "hocba/common/fileio.h"

#include "app_internal.h"
#include "hocba/api/totp.h"
#include "hocba/hsm/uri.h"
#include "hocba/store/keys.h"
#include "hocba/store/sessions.h"
#include "hocba/store/users.h"

namespace hocba::api {

// --- small helpers -----------------------------------------------------------------------------------

std::optional<json::object> parse_object(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());  // no copy of a PIN or password left unwiped
}

bool bad_int_field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return false;
  return !((it->value().is_int64() && it->value().as_int64() > 0) || (it->value().is_uint64() && it->value().as_uint64() < (1ull << 62)));
}

std::string str_field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return "";
  return std::string(it->value().as_string());
}

Secret take_secret(json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return Secret();
  json::string& s = it->value().as_string();
  Secret out(std::string_view(s.data(), s.size()));
  sodium_memzero(s.data(), s.size());
  return out;
}

std::int64_t int_field(const json::object& o, std::string_view key, std::int64_t def) {
  auto it = o.find(key);
  if (it == o.end()) return def;
  if (it->value().is_int64()) return it->value().as_int64();
  if (it->value().is_uint64()) return static_cast<std::int64_t>(it->value().as_uint64());
  return def;
}

HttpResponse ok_json(const json::value& v, int status) { return HttpResponse::json(status, json::serialize(v)); }
HttpResponse bad_request(std::string_view m) { return HttpResponse::error(400, "bad_request", m); }
HttpResponse forbidden(std::string_view m) { return HttpResponse::error(403, "forbidden", m); }
HttpResponse not_found(std::string_view what) { return HttpResponse::error(404, "not_found", std::string(what) + " not found"); }
HttpResponse conflict(std::string_view m) { return HttpResponse::error(409, "conflict", m); }

HttpResponse from_error(const Error& e) {
  int status = 500;
  switch (e.code) {
    case Errc::invalid_argument:
    case Errc::bad_pdf: status = 422; break;
    case Errc::not_found: status = 404; break;
    case Errc::pin_incorrect:
    case Errc::pin_rejected_before:
    case Errc::pin_required:
    case Errc::pin_needs_confirm:
    case Errc::pin_locked:
    case Errc::forbidden: status = 403; break;
    case Errc::token_not_present:
    case Errc::unavailable:
    case Errc::timeout: status = 503; break;
    case Errc::too_large: status = 413; break;
    default: status = 500;
  }
  return HttpResponse::error(status, errc_name(e.code), e.message);
}

// A display name the store would refuse (store::display_name_problem), answered with its own code for the
// UI; nullopt when it is fine.
std::optional<HttpResponse> bad_display_name(const std::string& name) {
  std::string problem = store::display_name_problem(name);
  if (problem.empty()) return std::nullopt;
  return HttpResponse::error(422, "invalid_display_name", "invalid display name: " + problem);
}

std::int64_t param_id(const Ctx& c, const std::string& name) {
  auto it = c.req.params.find(name);
  if (it == c.req.params.end() || it->second.empty() || it->second.size() > 18) return -1;
  std::int64_t v = 0;
  for (char ch : it->second) {
    if (ch < '0' || ch > '9') return -1;
    v = v * 10 + (ch - '0');
  }
  return v;
}

namespace {

std::vector<std::string> split_path(const std::string& p) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < p.size()) {
    std::size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    if (j > i) out.push_back(p.substr(i, j - i));
    i = j + 1;
  }
  return out;
}


json::object user_json(const store::User& u) {
  return json::object{{"id", u.id},           {"username", u.username}, {"display_name", u.display_name},
                      {"role", role_name(u.role)}, {"disabled", u.disabled}, {"totp", u.totp}};
}

}  // namespace

// --- routing -----------------------------------------------------------------------------------------

void App::Impl::add(std::string method, std::string pattern, std::vector<std::string> roles, std::string summary, RouteFn fn) {
  add(RouteInfo{std::move(method), std::move(pattern), std::move(roles), std::move(summary)}, std::move(fn));
}

void App::Impl::add(RouteInfo info, RouteFn fn) {
  Route r;
  r.parts = split_path(info.pattern);
  r.info = std::move(info);
  r.fn = std::move(fn);
  routes.push_back(std::move(r));
}

// What a route module sees of the App (router.h).
class App::Impl::Services final : public AppServices {
 public:
  explicit Services(Impl& impl) : impl_(impl) {}
  void add(RouteInfo route, RouteFn fn) override { impl_.add(std::move(route), std::move(fn)); }
  const AppOptions& options() const override { return impl_.opts; }
  store::Store& store() override { return impl_.store; }
  hsm::Hsm& hsm() override { return impl_.hsm; }
  workflow::Workflow& workflow() override { return impl_.wf; }
  Metrics& metrics() override { return impl_.metrics; }
  std::variant<Caller, HttpResponse> login(const std::string& username, const Secret& password, const std::string& totp,
                                           const std::string& address, const std::string& via) override {
    return impl_.login(username, password, totp, address, via);
  }
  Result<std::string> new_session(const Caller& caller, const std::string& address) override { return impl_.new_session(caller, address); }

 private:
  Impl& impl_;
};

void App::Impl::add_routes() {
  add_account_routes();
  add_workflow_routes();
  add_job_routes();
  add_sheet_routes();
  add_image_routes();
  add_web_routes();
  services = std::make_unique<Services>(*this);
  for (auto& m : modules) m->add_routes(*services);
}

const Route* App::Impl::match(const std::string& method, const std::string& path, std::map<std::string, std::string>* params,
                              bool* path_matched, std::string* pattern) const {
  auto parts = split_path(path);
  for (auto& r : routes) {
    if (r.parts.size() != parts.size()) continue;
    std::map<std::string, std::string> found;
    bool ok = true;
    for (std::size_t i = 0; i < parts.size() && ok; ++i) {
      const std::string& p = r.parts[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') found[p.substr(1, p.size() - 2)] = parts[i];
      else ok = p == parts[i];
    }
    if (!ok) continue;
    if (pattern && !*path_matched) *pattern = r.info.pattern;
    if (path_matched) *path_matched = true;
    if (r.info.method != method && !(r.info.method == "GET" && method == "HEAD")) continue;
    if (params) *params = std::move(found);
    return &r;
  }
  return nullptr;
}

HeadDecision App::Impl::on_header(const HttpRequest& head) {
  HeadDecision d;
  d.body_limit = static_cast<std::size_t>(opts.cfg.server.max_json_kb) << 10;
  bool any = false;
  const Route* r = match(head.method, head.path, nullptr, &any, nullptr);
  if (!r || r->info.max_body <= d.body_limit) return d;
  // A large body only for someone the route is for: anyone else gets the route's refusal (401 or
  // 403) before a byte of it is read, so that nobody can make the appliance hold 32 MiB uninvited.
  auto caller = authenticate(head);
  if (!caller || std::find(r->info.roles.begin(), r->info.roles.end(), role_name(caller->role)) == r->info.roles.end()) {
    HttpRequest probe = head;
    std::string route;
    d.answer = dispatch(probe, route);  // refuses before any handler runs
    for (auto& [name, value] : probe.headers) wipe(value);
    return d;
  }
  d.body_limit = r->info.max_body;
  return d;
}

namespace {

// A Content-Type's media type, lower case, without parameters: "Image/PNG; x=y" -> "image/png".
std::string media_type(std::string ct) {
  for (auto& ch : ct) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto semi = ct.find(';');
  std::string type = ct.substr(0, semi);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.erase(type.begin());
  return type;
}

// "application/json", "application/json; charset=utf-8" (case-insensitive): yes.
bool is_json_media_type(const std::string& ct) { return media_type(ct) == "application/json"; }

}  // namespace

HttpResponse App::Impl::dispatch(HttpRequest& req, std::string& route) {
  bool path_matched = false;
  std::map<std::string, std::string> params;
  const Route* r = match(req.method, req.path, &params, &path_matched, &route);
  if (!r) {
    if (path_matched) return HttpResponse::error(405, "method_not_allowed", req.method + " is not allowed on " + req.path);
    return not_found("page " + req.path);
  }
  req.params = std::move(params);
  Ctx ctx{req, std::nullopt};
  bool anonymous = std::find(r->info.roles.begin(), r->info.roles.end(), "anonymous") != r->info.roles.end();
  // Each route's refusals in its own shape (the CSC API answers as OAuth 2.0 does).
  auto refuse = [&](int status, const char* code, const char* oauth_code, const std::string& message) {
    if (r->info.errors == ErrorShape::rest) return HttpResponse::error(status, code, message);
    return ok_json(json::object{{"error", oauth_code}, {"error_description", message}}, status);
  };
  bool changes = req.method != "GET" && req.method != "HEAD";
  if (changes) {
    // Bodies are JSON, said so: a cross-site HTML form (urlencoded, multipart, text/plain) cannot
    // send that without the browser asking first, which we never allow.
    if (!req.body.empty() && r->info.body_type.empty() && !is_json_media_type(req.header("content-type")))
      return refuse(415, "unsupported_media_type", "invalid_request", "the request body must be JSON (Content-Type: application/json)");
    // A route that takes another type (an image) takes only that one; neither can a cross-site form
    // send it without the browser asking first.
    if (!req.body.empty() && !r->info.body_type.empty() && media_type(req.header("content-type")) != r->info.body_type)
      return refuse(415, "unsupported_media_type", "invalid_request", "the request body must be " + r->info.body_type + " (Content-Type: " + r->info.body_type + ")");
    // State changes through a browser (a session cookie, or logging in) must come from our own pages
    // (SameSite=Strict cookies already stop most cross-site requests; this stops the rest).
    if (req.header("authorization").empty()) {
      std::string origin = req.header("origin");
      if (!origin.empty() && origin != "https://" + req.header("host"))
        return refuse(403, "forbidden", "access_denied", "cross-site request refused");
    }
  }
  if (!anonymous) {
    ctx.caller = authenticate(req);
    if (!ctx.caller) {
      HttpResponse res = refuse(401, "unauthenticated", "invalid_token", "log in first (session expired or missing)");
      res.headers.emplace_back("WWW-Authenticate", "Bearer");
      return res;
    }
    if (std::find(r->info.roles.begin(), r->info.roles.end(), role_name(ctx.caller->role)) == r->info.roles.end())
      return refuse(403, "forbidden", "access_denied", std::string("a ") + role_name(ctx.caller->role) + " may not " + r->info.summary);
  } else {
    ctx.caller = authenticate(req);  // optional
  }
  return r->fn(ctx);
}

// --- sessions ------------------------------------------------------------------------------------------

std::optional<Caller> App::Impl::caller_by_id(std::int64_t user_id) {
  auto u = store::Users(store).by_id(user_id);
  if (!u || !*u || (*u)->disabled) return std::nullopt;
  return Caller{(*u)->id, (*u)->username, (*u)->display_name, (*u)->role};
}

std::string session_token(const HttpRequest& req) {
  std::string auth = req.header("authorization");
  std::string token;
  if (auth.size() > 7 && (auth.compare(0, 7, "Bearer ") == 0 || auth.compare(0, 7, "bearer ") == 0)) token = auth.substr(7);
  else if (auth.empty()) token = req.cookie("hocba_session");
  wipe(auth);  // it may be HTTP Basic, with a password (the CSC login)
  return token;
}

std::optional<Caller> App::Impl::authenticate(const HttpRequest& req) {
  std::string token = session_token(req);
  if (token.size() < 20 || token.size() > 200) return std::nullopt;
  auto user_id = store::Sessions(store).user_of(token);
  if (!user_id || !*user_id) return std::nullopt;
  return caller_by_id(**user_id);
}

Result<std::string> App::Impl::new_session(const Caller& c, const std::string& address) {
  std::int64_t expires = static_cast<std::int64_t>(std::time(nullptr)) + opts.cfg.server.session_hours * 3600;
  return store::Sessions(store).create(c.user_id, expires, address);
}

LoginThrottle::Limits App::Impl::throttle_limits(const config::Config& cfg) {
  LoginThrottle::Limits l;
  l.max_failures = static_cast<int>(cfg.auth.max_failures);
  l.lockout = std::chrono::seconds(cfg.auth.lockout_s);
  l.address_max_failures = static_cast<int>(cfg.auth.address_max_failures);
  l.account_delay_max = std::chrono::seconds(cfg.auth.account_delay_max_s);
  return l;
}

namespace {

HttpResponse throttle_refusal(const LoginThrottle::Refusal& r, Metrics& metrics) {
  std::string secs = std::to_string(r.retry_after.count());
  HttpResponse res;
  switch (r.kind) {
    case LoginThrottle::Refusal::Kind::address:
      metrics.counter_add("hocba_logins_total", {{"result", "throttled"}});
      res = HttpResponse::error(429, "too_many_attempts", "too many failed logins from this address; try again in " + secs + " s");
      break;
    case LoginThrottle::Refusal::Kind::locked_out:
      metrics.counter_add("hocba_logins_total", {{"result", "locked_out"}});
      res = HttpResponse::error(429, "locked_out", "too many wrong passwords for this account from this address; try again in " +
                                                       secs + " s");
      break;
    case LoginThrottle::Refusal::Kind::slow_down:
      metrics.counter_add("hocba_logins_total", {{"result", "slowed_down"}});
      res = HttpResponse::error(429, "slow_down", "many failed logins for this account; try again in " + secs + " s");
      break;
    case LoginThrottle::Refusal::Kind::busy:
      metrics.counter_add("hocba_logins_total", {{"result", "busy"}});
      res = HttpResponse::error(429, "busy", "too many logins at once; try again in " + secs + " s");
      break;
  }
  res.headers.emplace_back("Retry-After", secs);
  return res;
}

// A username as users are made (1 to 64 bytes, no control characters): anything else cannot be an
// account, and is refused before the throttling keeps anything for it.
bool plausible_username(const std::string& u) {
  if (u.empty() || u.size() > kMaxUsernameBytes) return false;
  return std::none_of(u.begin(), u.end(), [](unsigned char ch) { return ch < 0x20 || ch == 0x7f; });
}

constexpr std::int64_t kDeviceDays = 180;

}  // namespace

// --- device cookies ------------------------------------------------------------------------------------
// "1.EXPIRY.MAC": MAC = HMAC-SHA-256(device key, "hocba-device-1" NUL username NUL EXPIRY), hex. Given
// at each successful login; a login that brings one for its username is from a known device.

void App::Impl::load_device_key() {
  std::string path = opts.state_dir + "/device.key";
  auto bytes = read_file(path);
  if (bytes && bytes->size() == device_key.size()) {
    std::copy(bytes->begin(), bytes->end(), device_key.begin());
    sodium_memzero(bytes->data(), bytes->size());
    return;
  }
  crypto_auth_hmacsha256_keygen(device_key.data());
  if (opts.state_dir.empty()) return;
  Bytes out(device_key.begin(), device_key.end());
  if (auto st = write_file_atomic(path, out, 0600); !st)
    spdlog::warn("DEVICE_KEY_NOT_SAVED path={} error={} effect=device_cookies_end_at_restart", path, st.error().message);
  sodium_memzero(out.data(), out.size());
}

std::string App::Impl::device_mac(const std::string& username, std::int64_t expiry) const {
  std::string msg = std::string("hocba-device-1") + '\0' + username + '\0' + std::to_string(expiry);
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256(mac, reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), device_key.data());
  char hex[sizeof mac * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return hex;
}

std::string App::Impl::new_device_token(const std::string& username) const {
  std::int64_t expiry = static_cast<std::int64_t>(std::time(nullptr)) + kDeviceDays * 86400;
  return "1." + std::to_string(expiry) + "." + device_mac(username, expiry);
}

std::string App::Impl::device_id(const std::string& username, const std::string& token) const {
  if (token.size() > 120 || token.rfind("1.", 0) != 0) return "";
  auto dot = token.find('.', 2);
  if (dot == std::string::npos || dot == 2 || dot > 22) return "";
  std::int64_t expiry = 0;
  for (std::size_t i = 2; i < dot; ++i) {
    if (token[i] < '0' || token[i] > '9') return "";
    expiry = expiry * 10 + (token[i] - '0');
  }
  if (expiry <= static_cast<std::int64_t>(std::time(nullptr))) return "";
  std::string want = device_mac(username, expiry), got = token.substr(dot + 1);
  if (got.size() != want.size() || sodium_memcmp(got.data(), want.data(), want.size()) != 0) return "";
  return want.substr(0, 16);
}

std::variant<Caller, HttpResponse> App::Impl::login(const std::string& username, const Secret& password, const std::string& totp,
                                                    const std::string& address, const std::string& via,
                                                    const std::string& device_token) {
  // Refused before any state is kept for it (the throttling maps are keyed by name).
  if (!plausible_username(username)) return bad_request("a username has 1 to 64 bytes and no control characters");
  if (password.size() > kMaxPasswordBytes) return bad_request("a password has at most 1024 bytes");
  LoginThrottle::Who who{username, net::client_group(address), device_id(username, device_token), false};
  if (auto refusal = throttle.begin(who)) return throttle_refusal(*refusal, metrics);
  LoginThrottle::Attempt attempt(throttle, who);
  store::Users users(store);
  bool ok = users.check_password(username, password);
  std::optional<Caller> c;
  if (ok) {
    auto u = users.by_username(username);
    if (u && *u) {
      c = caller_by_id((*u)->id);
      if (c && (*u)->totp) {
        // Each time step is used once: of two logins with the same code, one wins.
        auto secret = users.totp_secret((*u)->id);
        auto step = secret && *secret ? totp_check(**secret, totp, std::time(nullptr)) : std::nullopt;
        auto consumed = step ? users.consume_totp_step((*u)->id, *step) : Result<bool>(false);
        if (!consumed || !*consumed) c.reset();
      }
    }
  }
  attempt.finish(c.has_value());
  if (!c) {
    // One answer for a wrong name, a wrong password and a wrong or missing one-time code: nothing is
    // told about the password before the code is checked. An unknown name may be a password typed
    // into the wrong box: neither the audit nor the log keeps anything derived from it.
    auto known = users.by_username(username);
    std::string who_name = known && *known ? username : "(unknown user)";
    json::object d{{"username", who_name}, {"address", address}, {"via", via}};
    (void)store.append_audit("anonymous", "login.fail", json::serialize(d));
    metrics.counter_add("hocba_logins_total", {{"result", "failed"}});
    spdlog::info("LOGIN_FAILED user={} address={} via={}", who_name, address, via);
    return HttpResponse::error(401, "login_failed", "wrong username, password or one-time code (TOTP)");
  }
  json::object d{{"address", address}, {"via", via}};
  (void)store.append_audit(c->actor(), "login", json::serialize(d));
  metrics.counter_add("hocba_logins_total", {{"result", "ok"}});
  return *c;
}

std::optional<HttpResponse> App::Impl::recheck_password(const Caller& caller, const Secret& password, const std::string& address) {
  if (password.empty() || password.size() > kMaxPasswordBytes) return forbidden("the password is wrong");
  // The account's own session: not slowed down by failures elsewhere; locked out per address.
  LoginThrottle::Who who{caller.username, net::client_group(address), "", true};
  if (auto refusal = throttle.begin(who)) return throttle_refusal(*refusal, metrics);
  LoginThrottle::Attempt attempt(throttle, who);
  bool ok = store::Users(store).check_password(caller.username, password);
  attempt.finish(ok);
  if (ok) return std::nullopt;
  (void)store.append_audit(caller.actor(), "password.recheck_fail", json::serialize(json::object{{"address", address}}));
  spdlog::info("PASSWORD_RECHECK_FAILED user={} address={}", caller.username, address);
  return forbidden("the password is wrong");
}

// --- accounts, keys, audit, health -------------------------------------------------------------------

void App::Impl::add_account_routes() {
  add("GET", "/healthz", {"anonymous"}, "check the appliance is up", [this](Ctx&) {
    json::object o{{"status", "ok"}, {"level", opts.level}};
    auto v = store.schema_version();
    o["schema_version"] = v ? *v : -1;
    if (!v) return ok_json(json::object{{"status", "error"}, {"error", v.error().message}}, 503);
    return ok_json(o);
  });

  add("GET", "/metrics", {"admin"}, "read the Prometheus metrics", [this](Ctx&) {
    return HttpResponse::text(200, jobs.metrics_text(), "text/plain; version=0.0.4; charset=utf-8");
  });

  add("POST", "/api/v1/auth/login", {"anonymous"}, "log in", [this](Ctx& c) {
    auto o = parse_object(c.req.body);
    if (!o) return bad_request("expected a JSON object {\"username\", \"password\"[, \"totp\"]}");
    std::string user = str_field(*o, "username");
    Secret password = take_secret(*o, "password");
    if (user.empty() || password.empty()) return bad_request("username and password are required");
    std::string device = c.req.cookie("hocba_device");
    if (device.empty()) device = str_field(*o, "device_token");
    auto r = login(user, password, str_field(*o, "totp"), c.req.remote_address, "api", device);
    if (auto* res = std::get_if<HttpResponse>(&r)) return *res;
    const Caller& who = std::get<Caller>(r);
    auto token = new_session(who, c.req.remote_address);
    if (!token) return from_error(token.error());
    json::object out{{"token", *token},
                     {"expires_in", opts.cfg.server.session_hours * 3600},
                     {"user", json::object{{"id", who.user_id}, {"username", who.username}, {"display_name", who.display_name},
                                           {"role", role_name(who.role)}}}};
    // A device cookie: next time this browser (or a client sending "device_token") is not slowed
    // down by failed logins of the account elsewhere.
    std::string device_token = new_device_token(who.username);
    out["device_token"] = device_token;
    HttpResponse res = ok_json(out);
    res.headers.emplace_back("Set-Cookie", "hocba_session=" + *token + "; Path=/; Max-Age=" +
                                               std::to_string(opts.cfg.server.session_hours * 3600) +
                                               "; HttpOnly; Secure; SameSite=Strict");
    res.headers.emplace_back("Set-Cookie", "hocba_device=" + device_token + "; Path=/api/v1/auth; Max-Age=" +
                                               std::to_string(kDeviceDays * 86400) + "; HttpOnly; Secure; SameSite=Strict");
    return res;
  });

  add("POST", "/api/v1/auth/logout", kAllRoles, "log out", [this](Ctx& c) {
    std::string token = session_token(c.req);
    (void)store::Sessions(store).end(c.caller->actor(), token, c.caller->user_id);
    HttpResponse res = ok_json(json::object{{"ok", true}});
    res.headers.emplace_back("Set-Cookie", "hocba_session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict");
    return res;
  });

  add("GET", "/api/v1/me", kAllRoles, "see who is logged in", [this](Ctx& c) {
    auto u = store::Users(store).by_id(c.caller->user_id);
    if (!u) return from_error(u.error());
    if (!*u) return not_found("user");
    json::object o = user_json(**u);
    auto keys = store::Keys(store).bound_to(c.caller->user_id);
    json::array ka;
    if (keys)
      for (auto& k : *keys) ka.push_back(json::object{{"id", k.id}, {"uri", k.uri}, {"label", k.label}});
    o["keys"] = std::move(ka);
    o["chain"] = chain_json(wf.chain(), role_name(c.caller->role));
    o["seal_pin_sealed"] = opts.seal_pin.has_value();
    // The images drawn in one's signatures (the web UI shows a preview only when there is one).
    store::Images images(store);
    auto sig = images.info(store::ImageSlot::signature_of(c.caller->user_id));
    o["signature_image"] = sig && *sig ? json::value(json::object{{"width", (*sig)->width}, {"height", (*sig)->height}, {"updated_at", (*sig)->updated_at}})
                                       : json::value(nullptr);
    if (c.caller->role == Role::admin || signs_seal(wf.chain(), role_name(c.caller->role))) {
      auto seal = images.info(store::ImageSlot::seal());
      o["seal_image"] = seal && *seal;
    }
    return ok_json(o);
  });

  add("POST", "/api/v1/me/password", kAllRoles, "change one's own password", [this](Ctx& c) {
    auto o = parse_object(c.req.body);
    if (!o) return bad_request("expected {\"old_password\", \"new_password\"}");
    Secret old_s = take_secret(*o, "old_password"), new_s = take_secret(*o, "new_password");
    if (new_s.size() < 8) return bad_request("the new password needs at least 8 characters");
    if (new_s.size() > kMaxPasswordBytes) return bad_request("a password has at most 1024 bytes");
    if (auto refused = recheck_password(*c.caller, old_s, c.req.remote_address)) return *refused;
    auto hash = store::hash_password(new_s);
    if (!hash) return HttpResponse::error(500, "internal", "cannot hash the password");
    if (auto st = store::Users(store).change_own_password(c.caller->actor(), c.caller->user_id, *hash); !st) return from_error(st.error());
    return ok_json(json::object{{"ok", true}});
  });

  add("POST", "/api/v1/me/totp", kAllRoles, "turn on two-factor login (TOTP)", [this](Ctx& c) {
    auto o = parse_object(c.req.body);
    if (!o) return bad_request("expected {\"password\"} to get a secret, or {\"password\", \"secret\", \"code\"} to confirm it");
    // Two-factor login is set (or replaced) only by whoever knows the password, not by a stolen session.
    Secret password = take_secret(*o, "password");
    if (auto refused = recheck_password(*c.caller, password, c.req.remote_address)) return *refused;
    std::string secret = str_field(*o, "secret"), code = str_field(*o, "code");
    if (secret.empty()) {
      std::string s = totp_new_secret();
      return ok_json(json::object{{"secret", s}, {"uri", totp_uri(s, c.caller->username)}});
    }
    auto step = totp_check(secret, code, std::time(nullptr));
    if (!step) return bad_request("the code does not match the secret; check the phone's clock");
    std::int64_t used = *step;
    if (auto st = store::Users(store).enable_totp(c.caller->actor(), c.caller->user_id, secret, used); !st) return from_error(st.error());
    return ok_json(json::object{{"ok", true}});
  });

  add("GET", "/api/v1/users", {"admin", "principal"}, "list users", [this](Ctx&) {
    auto users = store::Users(store).list();
    if (!users) return from_error(users.error());
    auto with_image = store::Images(store).users_with_signature();
    if (!with_image) return from_error(with_image.error());
    json::array a;
    for (auto& u : *users) {
      json::object o = user_json(u);
      o["signature_image"] = with_image->count(u.id) > 0;
      a.push_back(std::move(o));
    }
    return ok_json(json::object{{"users", a}});
  });

  add("POST", "/api/v1/users", {"admin"}, "add a user", [this](Ctx& c) {
    auto o = parse_object(c.req.body);
    if (!o) return bad_request("expected {\"username\", \"display_name\", \"role\", \"password\"}");
    auto role = parse_role(str_field(*o, "role"));
    if (!role) return bad_request("role must be one of " + store::role_names());
    Secret password = take_secret(*o, "password");
    if (password.size() < 8) return bad_request("the password needs at least 8 characters");
    if (auto bad = bad_display_name(str_field(*o, "display_name"))) return *bad;
    auto id = store::Users(store).add(c.caller->actor(), str_field(*o, "username"), str_field(*o, "display_name"), *role, password);
    if (!id) return from_error(id.error());
    return ok_json(json::object{{"id", *id}}, 201);
  });

  add("PATCH", "/api/v1/users/{id}", {"admin"}, "change a user (role, name, disabled, password)", [this](Ctx& c) {
    auto o = parse_object(c.req.body);
    std::int64_t id = param_id(c);
    if (!o || id < 0) return bad_request("expected a JSON object");
    store::UserChange change;
    if (o->contains("role") && !(change.role = parse_role(str_field(*o, "role")))) return bad_request("unknown role");
    if (o->contains("display_name")) change.display_name = str_field(*o, "display_name");
    if (change.display_name)
      if (auto bad = bad_display_name(*change.display_name)) return *bad;
    if (auto it = o->find("disabled"); it != o->end() && it->value().is_bool()) change.disabled = it->value().as_bool();
    if (auto it = o->find("totp"); it != o->end() && it->value().is_bool() && !it->value().as_bool()) change.totp_off = true;
    Secret password = take_secret(*o, "password");
    if (!password.empty()) {
      if (password.size() < 8) return bad_request("the password needs at least 8 characters");
      auto hash = store::hash_password(password);
      if (!hash) return HttpResponse::error(500, "internal", "cannot hash the password");
      change.password_hash = std::move(*hash);
    }
    if (auto st = store::Users(store).change(c.caller->actor(), id, change); !st)
      return st.error().code == Errc::not_found ? not_found("user") : from_error(st.error());
    return ok_json(json::object{{"ok", true}});
  });

  add("GET", "/api/v1/keys", kAllRoles, "list signing keys (one's own; the admin sees all)", [this](Ctx& c) {
    store::Keys keys(store);
    auto bound = c.caller->role == Role::admin ? keys.bound() : keys.bound_to(c.caller->user_id, signs_seal(wf.chain(), role_name(c.caller->role)));
    if (!bound) return from_error(bound.error());
    json::array a;
    for (auto& k : *bound)
      a.push_back(json::object{{"id", k.id}, {"uri", k.uri}, {"label", k.label}, {"seal", k.seal},
                               {"owner", k.seal ? json::value(nullptr) : json::value(k.owner_username)}});
    return ok_json(json::object{{"keys", a}});
  });

  add("POST", "/api/v1/keys", {"admin"}, "bind a key to a user or to the school seal", [this](Ctx& c) {
    auto o = parse_object(c.req.body);
    if (!o) return bad_request("expected {\"uri\", \"username\"} or {\"uri\", \"seal\": true}");
    std::string uri = str_field(*o, "uri"), username = str_field(*o, "username");
    bool seal = false;
    if (auto it = o->find("seal"); it != o->end() && it->value().is_bool()) seal = it->value().as_bool();
    if (seal == !username.empty()) return bad_request("give either a username or \"seal\": true");
    auto parsed = hsm::Pkcs11Uri::parse(uri);
    if (!parsed) return bad_request(parsed.error().message);
    if (parsed->pin_source || parsed->has_pin_value) return bad_request("a key URI must not carry a PIN (pin-source or pin-value)");
    auto key = hsm.find_key(*parsed);
    if (!key) return from_error(key.error());
    if (key->certificate.empty()) return bad_request("the key has no certificate on its token");
    // The key's canonical URI (token serial, CKA_ID): two spellings of one key are one binding.
    auto id = store::Keys(store).bind(c.caller->actor(), key->uri, key->label, seal ? std::nullopt : std::optional<std::string>(username));
    if (!id) return from_error(id.error());
    return ok_json(json::object{{"id", *id}}, 201);
  });

  add("DELETE", "/api/v1/keys/{id}", {"admin"}, "unbind a key", [this](Ctx& c) {
    if (auto st = store::Keys(store).unbind(c.caller->actor(), param_id(c)); !st) return from_error(st.error());
    return ok_json(json::object{{"ok", true}});
  });

  add("GET", "/api/v1/tokens", {"admin"}, "list PKCS#11 tokens and their keys", [this](Ctx&) {
    auto toks = hsm.tokens();
    if (!toks) return from_error(toks.error());
    json::array a;
    for (auto& t : *toks)
      a.push_back(json::object{{"label", t.label}, {"serial", t.serial}, {"present", t.present}, {"uri", t.uri},
                               {"pin_locked", t.pin_locked}, {"pin_count_low", t.pin_count_low}, {"pin_final_try", t.pin_final_try}});
    json::array ka;
    if (auto objs = hsm.objects())
      for (auto& ob : *objs)
        if (ob.kind == hsm::ObjectInfo::Kind::private_key)
          ka.push_back(json::object{{"uri", ob.uri}, {"label", ob.label}, {"token", ob.token_label}, {"subject", ob.subject},
                                    {"has_certificate", ob.has_certificate}});
    return ok_json(json::object{{"tokens", a}, {"keys", ka}});
  });

  add("GET", "/api/v1/audit", {"admin"}, "read the audit log", [this](Ctx& c) {
    std::int64_t after = 0, limit = 200;
    if (auto it = c.req.query.find("after"); it != c.req.query.end()) after = std::atoll(it->second.c_str());
    if (auto it = c.req.query.find("limit"); it != c.req.query.end()) limit = std::clamp<std::int64_t>(std::atoll(it->second.c_str()), 1, 1000);
    auto entries = store.audit_entries(after, limit);
    if (!entries) return from_error(entries.error());
    json::array a;
    for (auto& e : *entries) {
      boost::system::error_code ec;
      json::value detail = json::parse(e.detail_json, ec);
      a.push_back(json::object{{"seq", e.seq}, {"at", e.at}, {"actor", e.actor}, {"action", e.action},
                               {"detail", ec ? json::value(e.detail_json) : detail}, {"hash", e.hash}});
    }
    return ok_json(json::object{{"entries", a}});
  });

  add("GET", "/api/v1/audit/verify", {"admin"}, "check the audit chain", [this](Ctx&) {
    auto v = store.verify_audit();
    if (!v) return from_error(v.error());
    return ok_json(json::object{{"ok", v->ok}, {"checked", v->checked}, {"problem_seq", v->problem_seq}, {"message", v->message}});
  });

  add("GET", "/api/v1/config", {"admin"}, "read the effective configuration", [this](Ctx&) {
    return HttpResponse::text(200, config::dump_config(opts.cfg), "application/toml; charset=utf-8");
  });
}

// --- App ---------------------------------------------------------------------------------------------

App::App(AppOptions opts, Store& store, hsm::Hsm& hsm, signer::TimestampClient* tsa, Metrics& metrics,
         std::vector<std::unique_ptr<RouteModule>> modules)
    : impl_(std::make_unique<Impl>(std::move(opts), store, hsm, tsa, metrics)) {
  impl_->modules = std::move(modules);
  impl_->load_device_key();
  impl_->add_routes();
  metrics.describe("hocba_http_requests_total", "counter", "HTTP requests by route and status");
  metrics.describe("hocba_http_request_seconds", "histogram", "HTTP request latency by route");
  metrics.describe("hocba_logins_total", "counter", "Logins by result");
  metrics.describe("hocba_signatures_total", "counter", "Signatures by key and result");
  metrics.describe("hocba_token_busy_seconds_total", "counter", "Seconds spent signing on each key's token");
  metrics.describe("hocba_queue_depth", "gauge", "Records waiting in running batch jobs");
  metrics.describe("hocba_sheets_rendered_total", "counter", "Score sheets rendered (a sheet whose data changed, or a new one)");
}

App::~App() { stop(); }

Status App::start() {
  impl_->remove_stale_temp_files();
  if (auto st = impl_->pause_interrupted_jobs(); !st) return st;
  impl_->start_sheet_sweep();
  return {};
}

void App::stop() {
  impl_->stop_sheet_sweep();
  impl_->stop_jobs();
}

HttpResponse App::handle(HttpRequest& req) {
  auto t0 = std::chrono::steady_clock::now();
  // The route pattern (not the path) labels the metrics, so that ids do not make new series.
  std::string route = "other";
  HttpResponse res = impl_->dispatch(req, route);
  wipe(req.body);  // it may hold a PIN or a password
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  impl_->metrics.counter_add("hocba_http_requests_total", {{"route", route}, {"status", std::to_string(res.status)}});
  impl_->metrics.observe("hocba_http_request_seconds", {{"route", route}}, secs);
  spdlog::debug("HTTP_REQUEST method={} path={} status={} ms={:.1f}", req.method, req.path, res.status, secs * 1000);
  return res;
}

HeadDecision App::on_header(const HttpRequest& head) const { return impl_->on_header(head); }

std::vector<RouteInfo> App::routes() const {
  std::vector<RouteInfo> out;
  for (auto& r : impl_->routes) out.push_back(r.info);
  return out;
}

}  // namespace hocba::api
