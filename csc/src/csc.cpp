// The CSC API's routes (csc.h, docs/csc.md).
//
// One handler per method serves both versions; what differs (field names, response shapes) is in
// `Version` and in the few `v.major == 1` branches. Credentials are the caller's bound keys
// ("key-<id>"; whoever signs the chain's seal step also sees the seal, where the school allows it).
// credentials/authorize cannot test the PIN without signing, so it keeps the PIN (a locked, wiped
// Secret) in the SAD, bound to the exact hashes, for at most kSadLifetime; signatures/signHash sends
// it to the token with check_pin_when_logged_in, and a PIN the token (or the PIN check of an open
// token) refuses ends the SAD.
#include "hocba/csc/csc.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>

#include "algorithms.h"
#include "certificates.h"
#include "hocba/api/app.h"
#include "hocba/api/json_body.h"
#include "hocba/common/bytes.h"
#include "hocba/hsm/hsm.h"
#include "hocba/net/basic_auth.h"
#include "hocba/store/keys.h"
#include "hocba/store/roles.h"
#include "hocba/store/sessions.h"
#include "sad_store.h"

namespace hocba::csc {
namespace {

namespace json = boost::json;
using api::Caller;
using api::Ctx;
using api::int_field;
using api::ok_json;
using api::parse_object;
using api::str_field;
using net::HttpRequest;
using net::HttpResponse;
using workflow::BoundKey;

// How long a SAD (and the PIN it holds) lives, at most.
constexpr std::chrono::seconds kSadLifetime{300};
// The most signatures one authorization allows (credentials/info "multisign").
constexpr std::int64_t kMaxSignaturesPerSad = 100;
// The most SADs one user may hold at once (each holds a PIN in locked memory).
constexpr std::size_t kMaxSadsPerUser = 16;
// Wrong seal PINs given through CSC (checked against the sealed PIN, never sent to the token) before
// the seal is refused through CSC until hocbad restarts.
constexpr int kMaxSealPinMismatches = 3;
// The longest credentialID an audit entry repeats (the rest is cut off).
constexpr std::size_t kMaxAuditedCredentialId = 64;

// --- the two versions --------------------------------------------------------------------------------

struct Version {
  int major;
  const char* prefix;           // "/csc/v2/"
  const char* specs;            // info "specs"
  const char* hashes;           // credentials/authorize, signatures/signHash: the hashes' field
  const char* other_hashes;     // ... and its name in the other version (for a clear error)
  const char* hash_algo;        // signatures/signHash: the hash algorithm's field
  const char* other_hash_algo;
};
const Version kV1{1, "/csc/v1/", "1.0.4.0", "hash", "hashes", "hashAlgo", "hashAlgorithmOID"};
const Version kV2{2, "/csc/v2/", "2.0.0.2", "hashes", "hash", "hashAlgorithmOID", "hashAlgo"};

// --- CSC errors: {"error": CODE, "error_description": TEXT} ------------------------------------------

HttpResponse csc_error(int status, std::string_view code, std::string_view description) {
  return ok_json(json::object{{"error", code}, {"error_description", description}}, status);
}
HttpResponse invalid_request(std::string_view description) { return csc_error(400, "invalid_request", description); }

HttpResponse csc_from_error(const Error& e) {
  switch (e.code) {
    case Errc::invalid_argument:
    case Errc::not_found:
    case Errc::pin_required: return invalid_request(e.message);
    case Errc::pin_incorrect:
    case Errc::pin_rejected_before: return invalid_request("The PIN is invalid: " + e.message);
    case Errc::pin_locked: return invalid_request("PIN locked: " + e.message);
    case Errc::pin_needs_confirm:
      return csc_error(403, "access_denied",
                       e.message + " (confirm by signing once in the hocba web UI with the right PIN, then authorize again)");
    case Errc::token_not_present:
    case Errc::unavailable:
    case Errc::timeout: return csc_error(503, "temporarily_unavailable", e.message);
    default: return csc_error(500, "server_error", e.message);
  }
}

// An error response of the REST API's shape ({"error": {"code", "message"}}, e.g. from login()) in
// CSC's shape, keeping the status and headers (Retry-After).
HttpResponse csc_from_response(HttpResponse r) {
  std::string message = "request refused";
  if (auto o = parse_object(r.body))
    if (auto it = o->find("error"); it != o->end() && it->value().is_object()) message = str_field(it->value().as_object(), "message");
  const char* code = "invalid_request";
  if (r.status == 401) code = "invalid_grant";  // wrong username, password or one-time code
  else if (r.status == 403 || r.status == 429) code = "access_denied";
  else if (r.status >= 500) code = "server_error";
  HttpResponse out = csc_error(r.status, code, message);
  out.headers = std::move(r.headers);
  return out;
}

// The error_description of a CSC error response (for the audit log).
std::string error_description(const HttpResponse& r) {
  if (auto o = parse_object(r.body)) return str_field(*o, "error_description");
  return "";
}

// --- small helpers -----------------------------------------------------------------------------------

// The request body as an object; an empty body is an empty object (info takes no parameters).
std::optional<json::object> body_object(const HttpRequest& req) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object{};
  return parse_object(req.body);
}

bool bool_field(const json::object& o, std::string_view key, bool def = false) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_bool() ? it->value().as_bool() : def;
}

// What the audit log says about a hash: all of it, in hex (hashes are not secret, and the audit log
// is the legal record of what was signed: a prefix would not prove which document it was).
std::string hash_hex(const Bytes& h) { return to_hex(h); }

void wipe_json_string(json::object& o, std::string_view key) {
  if (auto it = o.find(key); it != o.end() && it->value().is_string()) {
    auto& s = it->value().as_string();
    sodium_memzero(s.data(), s.size());
  }
}

std::string credential_id(std::int64_t key_id) { return "key-" + std::to_string(key_id); }

// An audit detail's key: its id, and whether it is the seal.
void describe_key(json::object& d, const BoundKey& bk) {
  d["key_id"] = bk.id;
  if (bk.seal) d["seal"] = true;
}

// "key-12" -> 12; -1 if it is not one of ours.
std::int64_t parse_credential_id(const std::string& s) {
  if (s.size() < 5 || s.size() > 22 || s.compare(0, 4, "key-") != 0) return -1;
  std::int64_t v = 0;
  for (std::size_t i = 4; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

struct HashIn {
  Bytes bytes;
  std::string b64;  // canonical (padded) base64: the SAD's key for it
};

// The hashes of a request under this version's field name. The message names the field, and the
// other version's name when the client used that one.
Result<std::vector<HashIn>> read_hashes(const json::object& o, const Version& v) {
  auto it = o.find(v.hashes);
  if (it == o.end() || !it->value().is_array() || it->value().as_array().empty()) {
    std::string m = std::string("Missing (or invalid type) array parameter ") + v.hashes;
    if (o.contains(v.other_hashes))
      m += std::string(" (\"") + v.other_hashes + "\" is the CSC v" + (v.major == 1 ? "2" : "1") + " name; " + v.prefix + " takes \"" +
           v.hashes + "\")";
    return make_error(Errc::invalid_argument, m);
  }
  std::vector<HashIn> out;
  std::set<std::string> seen;
  for (auto& h : it->value().as_array()) {
    std::optional<Bytes> b;
    if (h.is_string()) b = b64_decode(h.as_string(), 64);
    if (!b || !hash_by_size(b->size()))
      return make_error(Errc::invalid_argument, "Invalid Base64 hash string parameter (each hash is the base64 of a SHA-256, -384 or -512 digest)");
    std::string canon = b64_encode(*b);
    if (!seen.insert(canon).second) return make_error(Errc::invalid_argument, "Invalid parameter " + std::string(v.hashes) + ": a hash is given twice");
    out.push_back(HashIn{std::move(*b), std::move(canon)});
  }
  return out;
}

// The PIN's JSON string in a credentials/authorize request (to read, then wipe): v1 "PIN", v2
// authData [{"id": "PIN", "value": ...}]. Null if absent.
json::string* find_pin(json::object& o, const Version& v) {
  if (v.major == 1) {
    auto it = o.find("PIN");
    return it != o.end() && it->value().is_string() ? &it->value().as_string() : nullptr;
  }
  auto it = o.find("authData");
  if (it == o.end() || !it->value().is_array()) return nullptr;
  for (auto& e : it->value().as_array())
    if (e.is_object() && str_field(e.as_object(), "id") == "PIN")
      if (auto val = e.as_object().find("value"); val != e.as_object().end() && val->value().is_string()) return &val->value().as_string();
  return nullptr;
}

void wipe_pins(json::object& o) {
  wipe_json_string(o, "PIN");
  if (auto it = o.find("authData"); it != o.end() && it->value().is_array())
    for (auto& e : it->value().as_array())
      if (e.is_object()) wipe_json_string(e.as_object(), "value");
}

bool pin_error(Errc e) {
  return e == Errc::pin_incorrect || e == Errc::pin_rejected_before || e == Errc::pin_locked || e == Errc::pin_required ||
         e == Errc::pin_needs_confirm;
}

}  // namespace

// --- the routes --------------------------------------------------------------------------------------

class CscModule::Routes {
 public:
  explicit Routes(api::AppServices& app) : app_(app), opts_(app.options()), seal_guard_(kMaxSealPinMismatches) {}

  void add();

 private:
  using Handler = HttpResponse (Routes::*)(Ctx&, const Version&);
  void route(const Version& v, const std::string& method, std::vector<std::string> roles, const std::string& summary, Handler h);

  HttpResponse info(Ctx& c, const Version& v);
  HttpResponse login(Ctx& c, const Version& v);
  HttpResponse revoke(Ctx& c, const Version& v);
  HttpResponse list(Ctx& c, const Version& v);
  HttpResponse credential_info(Ctx& c, const Version& v);
  HttpResponse authorize(Ctx& c, const Version& v);
  HttpResponse sign_hash(Ctx& c, const Version& v);

  bool signs_seal_step(const Caller& caller) const;
  bool seal_for(const Caller& caller) const;
  Result<BoundKey> credential(const Caller& caller, const std::string& id);
  json::object credential_json(const BoundKey& bk, const hsm::KeyRef& ref, const Version& v, const std::string& certificates,
                               bool cert_info) const;
  Status audit(const Caller& c, const char* action, const json::object& d);
  // A refusal of `action` (csc.authorize, csc.sign_hash): audited, its detail `d` given the result
  // and the reason, and logged as `event`.
  HttpResponse refused(const Caller& c, const char* action, const char* event, json::object& d, HttpResponse r, const char* result);

  api::AppServices& app_;
  const api::AppOptions& opts_;
  SadStore sads_;
  SealPinGuard seal_guard_;
};

CscModule::CscModule() = default;
CscModule::~CscModule() = default;

void CscModule::add_routes(api::AppServices& app) {
  routes_ = std::make_unique<Routes>(app);
  routes_->add();
}

// Every CSC route: POST, answered in CSC's (OAuth 2.0) error shape, not found when the school turned
// CSC off (csc.enabled = false), expired SADs purged first (their PINs wiped); the handler is told its
// version. The routes stay in the table either way (App::routes(), docs/openapi.yaml), so the answer,
// not the table, says CSC is off.
void CscModule::Routes::route(const Version& v, const std::string& method, std::vector<std::string> roles, const std::string& summary,
                              Handler h) {
  api::RouteInfo info{"POST", v.prefix + method, std::move(roles), summary + " (CSC v" + std::to_string(v.major) + ")"};
  info.errors = api::ErrorShape::oauth;
  const bool enabled = opts_.cfg.csc.enabled;
  app_.add(std::move(info), [this, h, &v, enabled](Ctx& c) {
    if (!enabled) return csc_error(404, "invalid_request", "The CSC API is turned off on this appliance (csc.enabled = false)");
    sads_.purge(Clock::now());
    return (this->*h)(c, v);
  });
}

void CscModule::Routes::add() {
  // Who may sign through CSC: the school's csc.roles, of the roles that sign at all. The routes carry
  // them, so the router answers everyone else with CSC's 403 before any CSC code runs.
  std::vector<std::string> signers;
  const auto& signing = config::signing_roles();
  for (auto& r : opts_.cfg.csc.roles)
    if (std::find(signing.begin(), signing.end(), r) != signing.end() && std::find(signers.begin(), signers.end(), r) == signers.end())
      signers.push_back(r);

  for (const Version* v : {&kV2, &kV1}) {
    route(*v, "info", {"anonymous"}, "describe the CSC service", &Routes::info);
    route(*v, "auth/login", {"anonymous"}, "log in with HTTP Basic authentication", &Routes::login);
    route(*v, "auth/revoke", api::kAllRoles, "revoke a CSC access token", &Routes::revoke);
    route(*v, "credentials/list", signers, "list one's signing credentials", &Routes::list);
    route(*v, "credentials/info", signers, "describe a signing credential", &Routes::credential_info);
    route(*v, "credentials/authorize", signers, "authorize signing given hashes", &Routes::authorize);
    route(*v, "signatures/signHash", signers, "sign authorized hashes", &Routes::sign_hash);
  }
}

// --- credentials -------------------------------------------------------------------------------------

// Does `caller`'s role sign the chain's seal step (the principal, and whoever may sign in the
// principal's place)?
bool CscModule::Routes::signs_seal_step(const Caller& caller) const {
  const workflow::Chain& chain = app_.workflow().chain();
  const char* role = store::role_name(caller.role);
  return std::any_of(chain.record_fields().begin(), chain.record_fields().end(),
                     [&](const std::string& step) { return chain.is_seal(step) && chain.may_sign(role, step); });
}

// May `caller` use the seal through CSC? Only one who signs the seal step, and only where the school
// allows it (csc.allow_seal); even then only with the seal's PIN in the request (credentials/authorize).
bool CscModule::Routes::seal_for(const Caller& caller) const { return opts_.cfg.csc.allow_seal && signs_seal_step(caller); }

// The caller's credential: one of their keys, or the seal where seal_for allows it. Someone else's
// key and an unknown one get the same answer.
Result<BoundKey> CscModule::Routes::credential(const Caller& caller, const std::string& id) {
  if (id.empty()) return make_error(Errc::invalid_argument, "Missing (or invalid type) string parameter credentialID");
  std::int64_t key_id = parse_credential_id(id);
  auto bk = key_id < 0 ? Result<BoundKey>(make_error(Errc::not_found, "")) : app_.workflow().key_by_id(key_id);
  if (!bk) {
    if (bk.error().code != Errc::not_found) return bk.error();
  } else if (!bk->seal && bk->owner_user_id == caller.user_id) {
    return bk;
  } else if (bk->seal && seal_for(caller)) {
    return bk;
  } else if (bk->seal && signs_seal_step(caller)) {
    // One who signs the seal step knows the seal's key: say why it is refused.
    return make_error(Errc::invalid_argument, "Invalid parameter credentialID: " + id +
                                                  " is the school seal, which this school does not allow through the CSC API "
                                                  "(csc.allow_seal = false); apply it in the hocba web UI or API");
  }
  std::string shown = id.size() > kMaxAuditedCredentialId ? id.substr(0, kMaxAuditedCredentialId) + "..." : id;
  return make_error(Errc::invalid_argument, "Invalid parameter credentialID: " + shown + " is not one of your credentials");
}

// credentials/info (and v2 credentials/list's credentialInfos) for one key.
json::object CscModule::Routes::credential_json(const BoundKey& bk, const hsm::KeyRef& ref, const Version& v,
                                                const std::string& certificates, bool cert_info) const {
  CertDescription cd = describe_certificate(ref.certificate);
  json::array algos;
  for (auto& a : key_algos(ref.algorithm)) algos.push_back(json::string(a));
  json::object key{{"status", cd.status == "expired" ? "disabled" : "enabled"}, {"algo", algos}, {"len", ref.bits}};
  if (ref.algorithm == hsm::KeyAlgorithm::ec) key["curve"] = curve_oid(ref.curve);
  json::object cert;
  if (!cd.status.empty()) cert["status"] = cd.status;
  if (certificates != "none") {
    json::array a;
    for (auto& der : certificates == "chain" ? chain_of(ref) : std::vector<Bytes>{ref.certificate}) a.push_back(json::string(b64_encode(der)));
    cert["certificates"] = std::move(a);
  }
  if (cert_info && cd.parsed) {
    cert["issuerDN"] = cd.issuer_dn;
    cert["serialNumber"] = cd.serial_hex;
    cert["subjectDN"] = cd.subject_dn;
    cert["validFrom"] = cd.valid_from;
    cert["validTo"] = cd.valid_to;
  }
  // The PIN is always required, the seal's too: a sealed seal PIN is never used through CSC.
  const char* presence = "true";
  const char* pin_label = "Token PIN";
  const char* pin_text = "The user PIN of the USB token that holds this key";
  json::object o{{"description", (bk.seal ? "School seal: " : "Signing key: ") + bk.label + " on token " + ref.token_label},
                 {"key", key},
                 {"cert", cert},
                 {"SCAL", "2"},
                 {"multisign", kMaxSignaturesPerSad},
                 {"lang", "en"}};
  if (v.major == 1) {
    o["authMode"] = "explicit";
    o["PIN"] = json::object{{"presence", presence}, {"format", "N"}, {"label", pin_label}, {"description", pin_text}};
    o["OTP"] = json::object{{"presence", "false"}};
  } else {
    o["auth"] = json::object{
        {"mode", "explicit"},
        {"expression", "PIN"},
        {"objects", json::array{json::object{{"type", "Password"}, {"id", "PIN"}, {"format", "N"}, {"label", pin_label}, {"description", pin_text}}}}};
  }
  return o;
}

Status CscModule::Routes::audit(const Caller& c, const char* action, const json::object& d) {
  auto r = app_.store().append_audit(c.actor(), action, json::serialize(d));
  if (!r) return r.error();
  return {};
}

HttpResponse CscModule::Routes::refused(const Caller& c, const char* action, const char* event, json::object& d, HttpResponse r,
                                        const char* result) {
  d["result"] = result;
  d["reason"] = error_description(r);
  (void)audit(c, action, d);
  spdlog::info("{} user={} credential={} result={}", event, c.username, str_field(d, "credential"), result);
  return r;
}

// --- the methods -------------------------------------------------------------------------------------

HttpResponse CscModule::Routes::info(Ctx&, const Version& v) {
  json::array methods;
  for (auto m : {"auth/login", "auth/revoke", "credentials/list", "credentials/info", "credentials/authorize", "signatures/signHash"})
    methods.push_back(json::string(m));
  std::string name = "hocba-signer";
  if (opts_.cfg.school.name) name += " (" + *opts_.cfg.school.name + ")";
  json::object o{{"specs", v.specs},
                 {"name", name},
                 {"region", "VN"},
                 {"lang", "en"},
                 {"description", "Remote signing of school records with the school's own tokens (hocba appliance)"},
                 {"authType", json::array{"basic"}},
                 {"methods", methods}};
  if (v.major == 2) {
    json::array algos;
    for (auto k : {hsm::KeyAlgorithm::rsa, hsm::KeyAlgorithm::ec})
      for (auto& a : key_algos(k)) algos.push_back(json::string(a));
    o["signAlgorithms"] = json::object{{"algos", algos}};
    o["signature_formats"] = json::object{{"formats", json::array{}}};  // no signatures/signDoc
    o["asynchronousOperationMode"] = false;
    o["validationInfo"] = false;
  }
  return ok_json(o);
}

HttpResponse CscModule::Routes::login(Ctx& c, const Version&) {
  auto o = body_object(c.req);
  if (!o) return invalid_request("The request body is not a JSON object");
  if (o->contains("refresh_token")) return csc_error(400, "invalid_grant", "This service issues no refresh tokens: log in again");
  std::string auth;
  for (auto& [k, val] : c.req.headers)
    if (k == "authorization") {
      auth = val;
      sodium_memzero(val.data(), val.size());
    }
  auto basic = net::parse_basic_authorization(auth);
  wipe(auth);
  if (!basic) {
    HttpResponse r = csc_error(401, "invalid_request", "HTTP Basic authentication (Authorization: Basic base64(username:password)) is required");
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"hocba CSC\", charset=\"UTF-8\"");
    return r;
  }
  // A hocba extension: accounts with two-factor login send their one-time code as "totp".
  auto r = app_.login(basic->username, basic->password, str_field(*o, "totp"), c.req.remote_address, "csc");
  if (auto* res = std::get_if<HttpResponse>(&r)) return csc_from_response(std::move(*res));
  auto token = app_.new_session(std::get<Caller>(r), c.req.remote_address);
  if (!token) return csc_from_error(token.error());
  return ok_json(json::object{{"access_token", *token}, {"expires_in", opts_.cfg.server.session_hours * 3600}});
}

HttpResponse CscModule::Routes::revoke(Ctx& c, const Version&) {
  auto o = body_object(c.req);
  if (!o) return invalid_request("The request body is not a JSON object");
  std::string token = str_field(*o, "token");
  if (token.empty()) {
    std::string auth = c.req.header("authorization");
    if (auth.size() > 7) token = auth.substr(7);
  }
  if (str_field(*o, "token_type_hint") == "refresh_token") return invalid_request("Invalid parameter token_type_hint: no refresh tokens are issued");
  // Only one's own tokens; anything else is silently ignored (RFC 7009).
  auto ended = store::Sessions(app_.store()).end(c.caller->actor(), token, c.caller->user_id, json::serialize(json::object{{"via", "csc"}}));
  if (!ended) return csc_from_error(ended.error());
  HttpResponse r;
  r.status = 204;
  return r;
}

HttpResponse CscModule::Routes::list(Ctx& c, const Version& v) {
  auto o = body_object(c.req);
  if (!o) return invalid_request("The request body is not a JSON object");
  if (o->contains("userID")) return invalid_request("Invalid parameter userID: the access token already names the user");
  bool with_seal = seal_for(*c.caller);  // the seal is listed only where it may be used
  auto keys = store::Keys(app_.store()).bound_to(c.caller->user_id, with_seal);
  if (!keys) return csc_from_error(keys.error());
  bool infos = v.major == 2 && bool_field(*o, "credentialInfo");
  bool only_valid = v.major == 2 && bool_field(*o, "onlyValid");
  std::string certificates = o->contains("certificates") ? str_field(*o, "certificates") : "single";
  if (certificates != "none" && certificates != "single" && certificates != "chain") return invalid_request("Invalid parameter certificates");
  json::array ids, info_list;
  for (const BoundKey& bk : *keys) {
    if (infos || only_valid) {
      auto ref = app_.workflow().key_ref(bk);
      if (!ref) {
        if (only_valid) continue;  // a token that is not there cannot sign now
        return csc_from_error(ref.error());
      }
      json::object ci = credential_json(bk, *ref, v, certificates, bool_field(*o, "certInfo"));
      if (only_valid && str_field(ci["key"].as_object(), "status") != "enabled") continue;
      ci["credentialID"] = credential_id(bk.id);
      if (infos) info_list.push_back(std::move(ci));
    }
    ids.push_back(json::string(credential_id(bk.id)));
  }
  json::object out{{"credentialIDs", ids}};
  if (infos) out["credentialInfos"] = std::move(info_list);
  if (only_valid) out["onlyValid"] = true;
  return ok_json(out);
}

HttpResponse CscModule::Routes::credential_info(Ctx& c, const Version& v) {
  auto o = body_object(c.req);
  if (!o) return invalid_request("The request body is not a JSON object");
  auto bk = credential(*c.caller, str_field(*o, "credentialID"));
  if (!bk) return csc_from_error(bk.error());
  std::string certificates = o->contains("certificates") ? str_field(*o, "certificates") : "single";
  if (certificates != "none" && certificates != "single" && certificates != "chain")
    return invalid_request("Invalid parameter certificates: none, single or chain");
  auto ref = app_.workflow().key_ref(*bk);
  if (!ref) return csc_from_error(ref.error());
  return ok_json(credential_json(*bk, *ref, v, certificates, bool_field(*o, "certInfo")));
}

HttpResponse CscModule::Routes::authorize(Ctx& c, const Version& v) {
  auto o = body_object(c.req);
  // The body holds the PIN: wiped once read (the parsed copy below too).
  sodium_memzero(c.req.body.data(), c.req.body.size());
  if (!o) return invalid_request("The request body is not a JSON object");
  struct WipeOnExit {
    json::object& o;
    ~WipeOnExit() { wipe_pins(o); }
  } wipe_on_exit{*o};
  // Every answer from here on is audited, refusals too ("result": "refused" and the reason).
  std::string cred = str_field(*o, "credentialID");
  json::object d{{"credential", cred.substr(0, kMaxAuditedCredentialId)}, {"api", "csc/v" + std::to_string(v.major)}};
  auto refuse = [&](HttpResponse r, const char* result = "refused") {
    return refused(*c.caller, "csc.authorize", "CSC_AUTHORIZE_REFUSED", d, std::move(r), result);
  };
  auto bk = credential(*c.caller, cred);
  if (!bk) return refuse(csc_from_error(bk.error()));
  describe_key(d, *bk);
  auto n_it = o->find("numSignatures");
  if (n_it == o->end() || !(n_it->value().is_int64() || n_it->value().is_uint64()))
    return refuse(invalid_request("Missing (or invalid type) integer parameter numSignatures"));
  std::int64_t n = int_field(*o, "numSignatures");
  if (n < 1) return refuse(invalid_request("Invalid value for parameter numSignatures"));
  if (n > kMaxSignaturesPerSad)
    return refuse(invalid_request("Numbers of signatures is too high (at most " + std::to_string(kMaxSignaturesPerSad) + " per authorization)"));
  d["num_signatures"] = n;
  // SCAL 2: the SAD is bound to the hashes, so they are required.
  auto hashes = read_hashes(*o, v);
  if (!hashes) return refuse(csc_from_error(hashes.error()));
  json::array full;
  for (auto& h : *hashes) full.push_back(json::string(hash_hex(h.bytes)));
  d["hashes"] = std::move(full);
  if (static_cast<std::int64_t>(hashes->size()) != n)
    return refuse(invalid_request(std::string("numSignatures (") + std::to_string(n) + ") differs from the number of hashes in " + v.hashes +
                                  " (" + std::to_string(hashes->size()) + ")"));
  if (v.major == 2)
    if (std::string oid = str_field(*o, "hashAlgorithmOID"); !oid.empty()) {
      auto h = hash_by_oid(oid);
      if (!h) return refuse(invalid_request("Invalid parameter hashAlgorithmOID: " + oid.substr(0, 64)));
      for (auto& hi : *hashes)
        if (hi.bytes.size() != hsm::hash_size(*h))
          return refuse(invalid_request("Invalid digest value length for " + std::string(hsm::hash_name(*h))));
    }
  {
    auto ref = app_.workflow().key_ref(*bk);
    if (!ref) return refuse(csc_from_error(ref.error()), errc_name(ref.error().code));
    if (!certificate_current(ref->certificate))
      return refuse(invalid_request("The credential is disabled: its certificate is expired or not yet valid"));
  }
  // The PIN is always the request's: a sealed seal PIN is never used through CSC.
  json::string* given = find_pin(*o, v);
  if (!given || given->empty()) {
    std::string m = v.major == 1 ? "Missing (or invalid type) string parameter PIN"
                                 : "Missing PIN: authData must hold {\"id\": \"PIN\", \"value\": ...}";
    if (v.major == 1 && o->contains("authData")) m += " (authData is the CSC v2 form; /csc/v1/ takes \"PIN\")";
    if (v.major == 2 && o->contains("PIN")) m += " (\"PIN\" is the CSC v1 form)";
    if (bk->seal) m += "; the seal's PIN is required through CSC, even where the appliance holds a sealed one";
    return refuse(invalid_request(m));
  }
  if (bk->seal && opts_.seal_pin) {
    // The seal's PIN is sealed: the PIN given is checked against it here and never sent to the
    // token, so no guess reaches (or locks) the seal's token. Guesses are limited here instead.
    auto checked = seal_guard_.check(std::string_view(*given), *opts_.seal_pin);
    if (checked.kind == SealPinGuard::Outcome::Kind::refused)
      return refuse(csc_error(403, "access_denied",
                              "The seal's PIN was given wrong " + std::to_string(checked.mismatches) +
                                  " times through CSC: the seal is refused through CSC until hocbad restarts"));
    if (checked.kind == SealPinGuard::Outcome::Kind::wrong) {
      spdlog::warn("CSC_SEAL_PIN_MISMATCH user={} mismatches={}", c.caller->username, checked.mismatches);
      return refuse(invalid_request("The PIN is invalid: it is not the seal's PIN (" + std::to_string(checked.mismatches) + " of " +
                                    std::to_string(seal_guard_.max()) + " wrong PINs before the seal is refused through CSC)"),
                    "pin_incorrect");
    }
  }
  std::string sad = new_sad();
  std::string key = sad_key(sad);
  d["sad"] = key.substr(0, 16);
  d["expires_in"] = kSadLifetime.count();
  SadStore::Sad entry;
  entry.user_id = c.caller->user_id;
  entry.key_id = bk->id;
  for (auto& h : *hashes) entry.hashes.insert(h.b64);
  entry.expires = Clock::now() + kSadLifetime;
  entry.pin = std::make_shared<Secret>(std::string_view(*given));
  std::size_t mine = sads_.add(key, std::move(entry), kMaxSadsPerUser);  // the cap checked and the SAD stored at once
  if (mine >= kMaxSadsPerUser) {
    d.erase("sad");
    d.erase("expires_in");
    return refuse(invalid_request("Too many open authorizations (" + std::to_string(mine) + "): use or let them expire first"));
  }
  d["result"] = "ok";
  if (auto a = audit(*c.caller, "csc.authorize", d); !a) {
    sads_.erase(key);  // not in the legal trail: not usable either
    return csc_from_error(a.error());
  }
  spdlog::info("CSC_AUTHORIZE user={} credential={} hashes={} sad={}", c.caller->username, credential_id(bk->id), n, key.substr(0, 16));
  return ok_json(json::object{{"SAD", sad}, {"expiresIn", kSadLifetime.count()}});
}

HttpResponse CscModule::Routes::sign_hash(Ctx& c, const Version& v) {
  auto o = body_object(c.req);
  if (!o) return invalid_request("The request body is not a JSON object");
  // Every answer from here on is audited, refusals too ("result": "refused" and the reason), with
  // every hash in full.
  std::string cred = str_field(*o, "credentialID");
  std::string sad = str_field(*o, "SAD");
  std::string key = sad_key(sad);
  json::object d{{"credential", cred.substr(0, kMaxAuditedCredentialId)}, {"api", "csc/v" + std::to_string(v.major)}};
  if (!sad.empty()) d["sad"] = key.substr(0, 16);
  auto refuse = [&](HttpResponse r, const char* result = "refused") {
    return refused(*c.caller, "csc.sign_hash", "CSC_SIGN_HASH_REFUSED", d, std::move(r), result);
  };
  auto bk = credential(*c.caller, cred);
  if (!bk) return refuse(csc_from_error(bk.error()));
  describe_key(d, *bk);
  auto hashes = read_hashes(*o, v);
  if (!hashes) return refuse(csc_from_error(hashes.error()));
  json::array full;
  for (auto& h : *hashes) full.push_back(json::string(hash_hex(h.bytes)));
  d["hashes"] = std::move(full);
  if (sad.empty()) return refuse(invalid_request("Missing (or invalid type) string parameter SAD"));
  std::string hash_oid = str_field(*o, v.hash_algo);
  if (hash_oid.empty() && o->contains(v.other_hash_algo))
    return refuse(invalid_request(std::string("Invalid parameter ") + v.other_hash_algo + ": " + v.prefix + " takes \"" + v.hash_algo + "\""));
  d["sign_algo"] = str_field(*o, "signAlgo").substr(0, 64);
  auto spec = sign_spec(str_field(*o, "signAlgo"), hash_oid, str_field(*o, "signAlgoParams"), v.hash_algo);
  if (!spec) return refuse(csc_from_error(spec.error()));
  d["hash"] = hsm::hash_name(spec->hash);
  if (v.major == 2 && o->contains("operationMode") && str_field(*o, "operationMode") != "S")
    return refuse(invalid_request("Invalid parameter operationMode: only synchronous signing (\"S\") is supported"));
  for (auto& h : *hashes)
    if (h.bytes.size() != hsm::hash_size(spec->hash))
      return refuse(invalid_request("Invalid digest value length: " + std::string(hsm::hash_name(spec->hash)) + " digests have " +
                                    std::to_string(hsm::hash_size(spec->hash)) + " bytes"));
  auto ref = app_.workflow().key_ref(*bk);
  if (!ref) return refuse(csc_from_error(ref.error()), errc_name(ref.error().code));
  if (!certificate_current(ref->certificate))
    return refuse(invalid_request("The credential is disabled: its certificate is expired or not yet valid"));
  if (ref->algorithm != spec->key) return refuse(invalid_request("Invalid parameter signAlgo: the credential's key is not of that type"));

  // The SAD: the caller's, for this credential, not expired, and every hash in it (each once). The
  // hashes are taken out now (so that two requests cannot sign one hash), given back below if the
  // token fails for a reason other than the PIN.
  std::vector<std::string> wanted;
  for (auto& h : *hashes) wanted.push_back(h.b64);
  auto taken = sads_.take(key, c.caller->user_id, bk->id, wanted, Clock::now());
  if (auto* why = std::get_if<std::string>(&taken)) return refuse(invalid_request(*why));
  std::shared_ptr<Secret> pin = std::get<std::shared_ptr<Secret>>(std::move(taken));

  hsm::SignRequest req;
  req.mechanism = spec->mechanism;
  req.hash = spec->hash;
  req.pin = pin.get();
  req.priority = hsm::Priority::interactive;
  req.check_pin_when_logged_in = true;
  std::string key_label = bk->label.empty() ? std::to_string(bk->id) : bk->label;
  json::array sigs;
  std::optional<Error> failed;
  auto t0 = Clock::now();
  for (auto& h : *hashes) {
    req.digest = h.bytes;
    auto sig = app_.hsm().sign(*ref, req);
    if (!sig) {
      app_.metrics().counter_add("hocba_signatures_total", {{"key", key_label}, {"result", errc_name(sig.error().code)}});
      failed = sig.error();
      if (failed->code == Errc::token_not_present) app_.workflow().forget_key_ref(bk->id);  // resolve it afresh next time
      break;  // a wrong PIN is never tried again, and nothing after a failure is signed
    }
    app_.metrics().counter_add("hocba_signatures_total", {{"key", key_label}, {"result", "ok"}});
    sigs.push_back(json::string(b64_encode(*sig)));
  }
  app_.metrics().counter_add("hocba_token_busy_seconds_total", {{"key", key_label}},
                             std::chrono::duration<double>(Clock::now() - t0).count());
  std::vector<std::string> not_signed;
  for (std::size_t i = sigs.size(); failed && i < hashes->size(); ++i) not_signed.push_back((*hashes)[i].b64);
  sads_.settle(key, failed && pin_error(failed->code), not_signed);
  pin.reset();
  d["signed"] = sigs.size();
  d["result"] = failed ? errc_name(failed->code) : "ok";
  Status a = audit(*c.caller, "csc.sign_hash", d);
  spdlog::info("CSC_SIGN_HASH user={} credential={} hashes={} result={}", c.caller->username, credential_id(bk->id), hashes->size(),
               failed ? errc_name(failed->code) : "ok");
  if (failed) return csc_from_error(*failed);
  if (!a) return csc_from_error(a.error());  // signed, but the legal trail lacks it: no signature leaves
  return ok_json(json::object{{"signatures", sigs}});
}

}  // namespace hocba::csc
