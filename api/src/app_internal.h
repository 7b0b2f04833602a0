// App's insides, shared by app.cpp (routing, accounts, sessions), workflow.cpp (classes, records,
// signing, corrections), jobs.cpp (batch jobs) and web.cpp (the web UI). Route modules above api/
// (csc/) see only router.h.
#pragma once
#include <array>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "hocba/api/app.h"
#include "hocba/api/json_body.h"
#include "hocba/api/router.h"
#include "hocba/common/clock.h"
#include "hocba/hsm/hsm.h"
#include "hocba/pdf/render.h"
#include "hocba/store/images.h"
#include "hocba/signer/key.h"
#include "hocba/workflow/chain.h"
#include "hocba/workflow/jobs.h"
#include "hocba/workflow/workflow.h"
#include "throttle.h"

namespace hocba::api {

using store::as_int;
using store::as_text;
using store::AuditEntry;
using store::DbRow;
using store::DbValue;
using store::is_null;
using store::parse_role;
using store::Role;
using store::role_name;
using store::Tx;

struct Route {
  RouteInfo info;
  std::vector<std::string> parts;  // the pattern split at '/'
  RouteFn fn;
};

using workflow::BoundKey;

struct App::Impl {
  AppOptions opts;
  Store& store;
  hsm::Hsm& hsm;
  signer::TimestampClient* tsa;
  Metrics& metrics;
  workflow::Workflow wf;  // the signing chain and signing one record
  std::vector<Route> routes;
  // The route modules (csc/) and what they see of the App (app.cpp): alive as long as the routes.
  class Services;
  std::unique_ptr<AppServices> services;
  std::vector<std::unique_ptr<RouteModule>> modules;

  // Login throttling (in memory, bounded): per (account, address), per account and per address.
  LoginThrottle throttle;

  // --- jobs.cpp: the batch job engine (workflow/jobs.h); after wf, which it uses.
  workflow::JobEngine jobs{wf, store, metrics};

  // --- sheets.cpp: the sweep that refreshes the classes whose score sheets are marked dirty
  // (Workflow::refresh_dirty_sheets), at start and every kSheetSweepInterval, on its own thread.
  static constexpr std::chrono::seconds kSheetSweepInterval{30};
  std::thread sheet_sweeper;
  std::mutex sheet_sweep_mu;
  std::condition_variable sheet_sweep_cv;
  std::atomic<bool> sheet_sweep_stop{false};
  void start_sheet_sweep();
  void stop_sheet_sweep();  // returns once the sweep in progress has ended (between two classes)

  Impl(AppOptions o, Store& s, hsm::Hsm& h, signer::TimestampClient* t, Metrics& m)
      : opts(std::move(o)), store(s), hsm(h), tsa(t), metrics(m), wf(workflow_options(opts), s, h, t, m), throttle(throttle_limits(opts.cfg)) {}
  static LoginThrottle::Limits throttle_limits(const config::Config& cfg);
  static workflow::WorkflowOptions workflow_options(const AppOptions& o) {
    workflow::WorkflowOptions w{o.cfg, o.state_dir, o.level, std::nullopt};
    if (o.seal_pin) w.seal_pin.emplace(o.seal_pin->view());  // its own copy, wiped with the workflow
    return w;
  }

  // --- app.cpp -------------------------------------------------------------------------------------
  void add(std::string method, std::string pattern, std::vector<std::string> roles, std::string summary, RouteFn fn);
  void add(RouteInfo info, RouteFn fn);
  void add_routes();           // every route (calls the add_*_routes below, then the modules')
  void add_account_routes();   // app.cpp
  void add_workflow_routes();  // workflow.cpp
  void add_job_routes();       // jobs.cpp
  void add_sheet_routes();     // sheets.cpp
  void add_web_routes();       // web.cpp
  void add_image_routes();     // images.cpp: signature and seal images
  // Uploaded images being decoded now: at most kMaxImageChecks at once (each may take 16 MiB).
  static constexpr int kMaxImageChecks = 4;
  std::atomic<int> image_checks{0};
  HttpResponse get_image(const store::ImageSlot& slot);
  HttpResponse put_image(const Caller& caller, const store::ImageSlot& slot, const std::string& body);
  HttpResponse delete_image(const Caller& caller, const store::ImageSlot& slot);
  // Sets `route` to the matched route's pattern (left as it is when no path matches).
  HttpResponse dispatch(HttpRequest& req, std::string& route);
  // The route for `method` on `path` (null if none); `params` gets its path parameters, `path_matched`
  // whether any route has this path, `pattern` the first such route's pattern. Each may be null.
  const Route* match(const std::string& method, const std::string& path, std::map<std::string, std::string>* params,
                     bool* path_matched, std::string* pattern) const;
  HeadDecision on_header(const HttpRequest& head);
  std::optional<Caller> authenticate(const HttpRequest& req);
  std::optional<Caller> caller_by_id(std::int64_t user_id);
  // Checks a password (and TOTP code when the account has one) with throttling. On success returns
  // the caller; on failure an error response (401 or 429) and the failure is audited.
  // `device_token`: the device cookie the client brought, if any (see new_device_token).
  std::variant<Caller, HttpResponse> login(const std::string& username, const Secret& password, const std::string& totp,
                                           const std::string& address, const std::string& via,
                                           const std::string& device_token = "");
  // Device cookies (app.cpp): a key kept in state_dir/device.key; a token names the username and its
  // expiry, MACed; device_id() is "" unless `token` is valid for `username`.
  std::array<unsigned char, 32> device_key{};
  void load_device_key();
  std::string device_mac(const std::string& username, std::int64_t expiry) const;
  std::string new_device_token(const std::string& username) const;
  std::string device_id(const std::string& username, const std::string& token) const;
  // Checks `caller`'s own password again (changing it, turning TOTP on) under the login throttling;
  // an empty optional when it is right, else the refusal (403 or 429).
  std::optional<HttpResponse> recheck_password(const Caller& caller, const Secret& password, const std::string& address);
  Result<std::string> new_session(const Caller& c, const std::string& address);  // the opaque token

  // --- workflow.cpp --------------------------------------------------------------------------------
  // The roles that sign some record step of the chain (the signing routes' roles).
  std::vector<std::string> chain_signer_roles() const;
  // A seal request (a seal step) that gives a PIN or confirm_pin_risk while the seal's PIN is sealed:
  // why it is refused; "" if fine.
  std::string sealed_seal_refusal(const std::string& field, const Secret& pin, const json::object* body) const {
    bool confirm = false;
    if (body)
      if (auto it = body->find("confirm_pin_risk"); it != body->end() && it->value().is_bool()) confirm = it->value().as_bool();
    return wf.sealed_seal_refusal(field, !pin.empty(), confirm);
  }
  using Reservation = workflow::Workflow::Reservation;

  // --- jobs.cpp ------------------------------------------------------------------------------------
  // The routes parse, call the engine (jobs) and serialise; App::start and App::stop call these.
  Status pause_interrupted_jobs() { return jobs.pause_interrupted_jobs(); }
  void remove_stale_temp_files() { jobs.remove_stale_temp_files(); }
  void stop_jobs() { jobs.stop(); }
  json::object job_json(std::int64_t job_id);  // {} when there is no such job
  // The PINs of a job's steps from a request body (moved out of it and wiped there): "pin" (and
  // "confirm_pin_risk") for a one-step job's token or the caller's own token, "seal_pin" (and
  // "seal_confirm_pin_risk") for the seal's token in a job of several steps; none for a seal whose PIN
  // is sealed. The refusal (400) when they do not fit.
  std::variant<std::vector<workflow::StepPin>, HttpResponse> step_pins(json::object* body, const std::vector<std::string>& steps);
};

// `roles` and "admin".
std::vector<std::string> with_admin(std::vector<std::string> roles);
// The chain as the UI needs it (GET /api/v1/me "chain"): each level's record and sheet steps, each
// step's labels, and the steps a user of `role` signs.
json::object chain_json(const workflow::Chain& chain, std::string_view role);

// Does a user of `role` sign some seal step of the chain (and so sees the seal's key)?
inline bool signs_seal(const workflow::Chain& chain, std::string_view role) {
  for (const std::string& f : chain.record_fields())
    if (chain.is_seal(f) && chain.may_sign(role, f)) return true;
  return false;
}

constexpr std::size_t kMaxUsernameBytes = 64;
constexpr std::size_t kMaxPasswordBytes = 1024;

// Helpers shared by the route files (and json_body.h's).
// The session token of a request: "Authorization: Bearer …", else (no Authorization header at all)
// the hocba_session cookie; "" if none.
std::string session_token(const HttpRequest& req);
HttpResponse bad_request(std::string_view message);
HttpResponse forbidden(std::string_view message);
HttpResponse not_found(std::string_view what);
HttpResponse conflict(std::string_view message);
HttpResponse from_error(const Error& e);  // an Error -> the fitting status and code
std::int64_t param_id(const Ctx& c, const std::string& name = "id");  // -1 when not a number

}  // namespace hocba::api
