// The Cloud Signature Consortium API (docs/csc.md): v2 (2.0.0.2) under /csc/v2/ and v1 (1.0.4.0)
// under /csc/v1/, so that existing CSC clients sign hashes with the school's own tokens. A route
// module of the App (api/router.h): hocbad hands one to its App, which adds the routes. With
// csc.enabled = false the routes stay in the table and answer 404.
#pragma once
#include <memory>

#include "hocba/api/router.h"

namespace hocba::csc {

class CscModule final : public api::RouteModule {
 public:
  CscModule();
  ~CscModule() override;  // wipes the PINs of the SADs still open
  CscModule(const CscModule&) = delete;
  CscModule& operator=(const CscModule&) = delete;

  void add_routes(api::AppServices& app) override;

 private:
  class Routes;
  std::unique_ptr<Routes> routes_;
};

}  // namespace hocba::csc
