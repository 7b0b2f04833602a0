// The web UI (Vietnamese): being written.
#include "app_internal.h"

namespace hocba::api {
void App::Impl::add_web_routes() {}
}  // namespace hocba::api
