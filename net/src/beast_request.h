// The request a handler sees (http.h), made from a parsed Beast message: one definition for the
// listener (server.cpp) and the HTTP fuzz target (fuzz/fuzz_http_request.cpp), so that what is
// fuzzed is what is served. Beast stays out of public headers (this one is private to api/).
#pragma once
#include <cctype>
#include <string>

#include "hocba/net/http.h"

namespace hocba::net {

// Method, target, headers (names in lower case), remote address, and the decoded path and query;
// not the body (the caller copies or moves it).
template <class Message>
void request_head_from(const Message& msg, const std::string& remote_address, HttpRequest& req) {
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  for (auto const& f : msg) {
    std::string name(f.name_string());
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    req.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  req.remote_address = remote_address;
  split_target(req);
}

}  // namespace hocba::net
