// The web UI's files (web/ui/), compiled into hocba_web by web/embed.cmake so that hocbad needs
// no web root on disk. api/src/web.cpp serves them.
#pragma once
#include <span>
#include <string_view>

namespace hocba::web {

struct Asset {
  std::string_view name;          // "app.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view body;
};

// Every embedded file, in the order embed.cmake lists them.
std::span<const Asset> assets();

}  // namespace hocba::web
