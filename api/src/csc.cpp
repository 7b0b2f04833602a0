// The Cloud Signature Consortium API (v2 under /csc/v2/, v1.0.4.0 under /csc/v1/): being written.
#include "app_internal.h"

namespace hocba::api {
void App::Impl::add_csc_routes() {}
}  // namespace hocba::api
