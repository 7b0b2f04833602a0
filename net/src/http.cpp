// Request and response helpers (http.h).
#include "hocba/net/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include <boost/json.hpp>
#include <cctype>

namespace hocba::net {

namespace {
bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}
int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string HttpRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequal(k, name)) return v;
  return "";
}

std::string HttpRequest::cookie(std::string_view name) const {
  std::string all = header("cookie");
  std::size_t pos = 0;
  while (pos < all.size()) {
    std::size_t end = all.find(';', pos);
    if (end == std::string::npos) end = all.size();
    std::string_view part(all.data() + pos, end - pos);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    auto eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) return std::string(part.substr(eq + 1));
    pos = end + 1;
  }
  return "";
}

HttpResponse HttpResponse::json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::text(int status, std::string body, std::string content_type) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

HttpResponse HttpResponse::error(int status, std::string_view code, std::string_view message) {
  boost::json::object e;
  e["code"] = code;
  e["message"] = message;
  boost::json::object o;
  o["error"] = std::move(e);
  return json(status, boost::json::serialize(o));
}

std::string percent_decode(std::string_view s, bool form) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
      out += static_cast<char>(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    } else if (form && s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

void split_target(HttpRequest& req) {
  std::string_view t = req.target;
  auto q = t.find('?');
  req.path = percent_decode(t.substr(0, q));
  req.query.clear();
  if (q == std::string_view::npos) return;
  std::string_view rest = t.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view part = rest.substr(0, amp);
    auto eq = part.find('=');
    std::string k = percent_decode(part.substr(0, eq), true);
    std::string v = eq == std::string_view::npos ? "" : percent_decode(part.substr(eq + 1), true);
    if (!k.empty()) req.query.emplace(std::move(k), std::move(v));
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
}

std::string client_group(const std::string& address) {
  in6_addr a6{};
  if (inet_pton(AF_INET6, address.c_str(), &a6) != 1) return address;  // IPv4 (or not an address)
  char buf[INET6_ADDRSTRLEN];
  if (IN6_IS_ADDR_V4MAPPED(&a6)) {
    in_addr a4{};
    std::memcpy(&a4, a6.s6_addr + 12, 4);
    return inet_ntop(AF_INET, &a4, buf, sizeof buf) ? std::string(buf) : address;
  }
  std::memset(a6.s6_addr + 8, 0, 8);
  return inet_ntop(AF_INET6, &a6, buf, sizeof buf) ? std::string(buf) + "/64" : address;
}

}  // namespace hocba::net
