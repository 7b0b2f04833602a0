// The web UI (web/ui/, in Vietnamese): GET / gives the page, GET /static/{name} its scripts, styles
// and icon, compiled in by web/embed.cmake. Anonymous: the page holds no data; the API it calls
// does the authentication. The default Content-Security-Policy (server.cpp) applies: the page has no
// inline script or style.
#include "hocba/web/assets.h"
#include "app_internal.h"

namespace hocba::api {
namespace {

HttpResponse asset(std::string_view name) {
  for (const web::Asset& a : web::assets())
    if (a.name == name) {
      HttpResponse res = HttpResponse::text(200, std::string(a.body), std::string(a.content_type));
      res.headers.emplace_back("Cache-Control", "no-cache");
      res.headers.emplace_back("Referrer-Policy", "no-referrer");
      return res;
    }
  return not_found("file");
}

}  // namespace

void App::Impl::add_web_routes() {
  add("GET", "/", {"anonymous"}, "open the web UI", [](Ctx&) { return asset("index.html"); });
  add("GET", "/static/{name}", {"anonymous"}, "get a file of the web UI", [](Ctx& c) { return asset(c.req.params.at("name")); });
}

}  // namespace hocba::api
