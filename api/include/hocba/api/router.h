// The router's public side, for the route modules built above api/ (csc/: the CSC API): who is
// calling, a route's handler and its entry in the table, what the App offers a module (its table of
// routes, logins and sessions, and the layers below it), and the module interface the App calls once,
// while it is built, to add the module's routes. api/ knows no module; the App's creator (hocbad,
// the tests) hands it the modules it wants.
#pragma once
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/metrics.h"
#include "hocba/common/secret.h"
#include "hocba/net/http.h"
#include "hocba/store/store.h"
#include "hocba/workflow/workflow.h"

namespace hocba::hsm {
class Hsm;
}

namespace hocba::api {

using net::HttpRequest;
using net::HttpResponse;

struct AppOptions;  // app.h

// Who is calling (after authentication).
using Caller = workflow::Actor;

// A request on its route. The caller is set for every route but anonymous ones (and for those too
// when the request brings a valid session).
struct Ctx {
  HttpRequest& req;
  std::optional<Caller> caller;
};
using RouteFn = std::function<HttpResponse(Ctx&)>;

// The shape of the router's own refusals on a route (415 not JSON, 403 cross-site, 401 no login, 403
// a role the route does not list), given before its handler runs.
enum class ErrorShape {
  rest,   // {"error": {"code": CODE, "message": TEXT}}: the REST API
  oauth,  // {"error": CODE, "error_description": TEXT}: OAuth 2.0's, as the CSC API answers
};

// One route of the table: for the router, the role x endpoint test and docs/openapi.yaml.
struct RouteInfo {
  std::string method;   // "GET"
  std::string pattern;  // "/api/v1/records/{id}/sign"
  std::vector<std::string> roles;  // roles allowed; "anonymous" when no login is needed
  std::string summary;
  std::size_t max_body = 0;  // largest body in bytes; 0: server.max_json_kb
  std::string body_type{};    // the media type of the body ("image/png"); empty: JSON
  ErrorShape errors = ErrorShape::rest;
};

// Every role, for routes any logged-in user may call.
inline const std::vector<std::string> kAllRoles = {"admin", "principal", "deputy_principal", "homeroom_teacher", "subject_teacher", "viewer"};

// What the App offers its route modules. Valid for as long as the App (which owns the modules).
class AppServices {
 public:
  virtual ~AppServices() = default;
  // Adds a route to the table (after those added before it: the first route that matches serves).
  virtual void add(RouteInfo route, RouteFn fn) = 0;

  virtual const AppOptions& options() const = 0;
  virtual store::Store& store() = 0;
  virtual hsm::Hsm& hsm() = 0;
  virtual workflow::Workflow& workflow() = 0;
  virtual Metrics& metrics() = 0;

  // Checks a password (and the one-time code of an account with two-factor login) under the login
  // throttling, audited as "login" / "login.fail" with `via`: the caller, or the refusal in the REST
  // API's shape (400 malformed, 401 wrong, 429 throttled or locked out, with Retry-After).
  virtual std::variant<Caller, HttpResponse> login(const std::string& username, const Secret& password, const std::string& totp,
                                                   const std::string& address, const std::string& via) = 0;
  // A new session of `caller` for server.session_hours: its opaque token (a Bearer token).
  virtual Result<std::string> new_session(const Caller& caller, const std::string& address) = 0;
};

// A set of routes built above api/. The App calls add_routes once, while it is built, after its own
// routes; the App owns the module, so `app` outlives every route the module adds.
class RouteModule {
 public:
  virtual ~RouteModule() = default;
  virtual void add_routes(AppServices& app) = 0;
};

}  // namespace hocba::api
