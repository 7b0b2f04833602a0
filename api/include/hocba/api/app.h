// The appliance's request handling (docs/appliance.md): accounts and sessions, keys, classes and
// records, the signing workflow, batch jobs, corrections, audit, the REST API under /api/v1/, /healthz,
// /metrics and the web UI, and the routes of the modules its creator gives it (router.h; hocbad gives
// the CSC API, csc/). A function from request to response: the HTTPS listener (server.h) is apart, so
// all of this is testable without sockets.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hocba/api/router.h"
#include "hocba/net/http.h"
#include "hocba/common/metrics.h"
#include "hocba/store/store.h"
#include "hocba/common/error.h"
#include "hocba/common/secret.h"
#include "hocba/config/config.h"

namespace hocba::hsm {
class Hsm;
}
namespace hocba::signer {
class TimestampClient;
}

namespace hocba::api {

using net::HeadDecision;
using store::Store;

struct AppOptions {
  config::Config cfg;              // effective configuration
  std::string state_dir;           // cfg.server.state_dir after overrides
  std::string level;               // effective PAdES level ("B-B" when no TSA is configured)
  std::optional<Secret> seal_pin;  // the sealed PIN of the seal's token, when the school configured one
  std::vector<std::string> modules;  // loaded PKCS#11 modules (for the key list)
};

class App {
 public:
  // `store`, `hsm`, `tsa` (may be null: B-B) and `metrics` are not owned and must outlive the App.
  // `modules` add their routes after the App's own (e.g. csc::CscModule); the App owns them.
  App(AppOptions opts, Store& store, hsm::Hsm& hsm, signer::TimestampClient* tsa, Metrics& metrics,
      std::vector<std::unique_ptr<RouteModule>> modules = {});
  ~App();  // stop()s
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // At start: jobs left running by a crash or a stop are paused (their PIN is gone) with the reason;
  // jobs that use the seal with a sealed PIN resume at once.
  Status start();
  HttpResponse handle(HttpRequest& req);
  // Graceful stop: every running job finishes the record on the token and pauses (resumable); returns
  // when they have.
  void stop();

  std::vector<RouteInfo> routes() const;
  // For the listener, once a request's header is read (no body yet): the largest body accepted, the
  // route's own limit (the class import: server.max_body_mb) or server.max_json_kb; a caller who may
  // not use a route with a large limit gets its 401 or 403 at once, before any of the body is read.
  HeadDecision on_header(const HttpRequest& head) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hocba::api
