// HTTP requests and responses as the appliance's handlers see them: plain structs, no Boost type, so
// that handlers are functions from request to response, testable without sockets (STYLE.md: listener /
// session / pure handler).
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hocba::net {

struct HttpRequest {
  std::string method;                 // "GET", "POST", ...
  std::string target;                 // as received: "/api/v1/records/12?x=1"
  std::string path;                   // percent-decoded, without the query: "/api/v1/records/12"
  std::map<std::string, std::string> query;                 // decoded query parameters
  std::vector<std::pair<std::string, std::string>> headers; // names in lower case
  std::string body;
  std::string remote_address;         // the client's IP address
  std::map<std::string, std::string> params;                // path parameters, filled by the router

  // The first header of that name (case-insensitive), "" if none.
  std::string header(std::string_view name) const;
  // A cookie's value from the Cookie header, "" if none.
  std::string cookie(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type and Content-Length

  static HttpResponse json(int status, std::string body);
  static HttpResponse text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  // {"error": {"code": CODE, "message": MESSAGE}}: CODE is stable (for programs), MESSAGE one line.
  static HttpResponse error(int status, std::string_view code, std::string_view message);
};

using Handler = std::function<HttpResponse(HttpRequest&)>;

// What the listener does with a request once its header is read, before any of its body: read a
// body of at most `body_limit` bytes (over it: 413), or answer `answer` at once (the body unread).
struct HeadDecision {
  std::size_t body_limit = 0;
  std::optional<HttpResponse> answer;
};
using HeadHandler = std::function<HeadDecision(const HttpRequest& head)>;

// "%41b+c" -> "Ab c" (plus as space only when `form`); invalid escapes are kept as they are.
std::string percent_decode(std::string_view s, bool form = false);
// Splits "path?query" and decodes both into `req` (path, query).
void split_target(HttpRequest& req);
// The client a remote address stands for, as the connection caps and the login throttling count
// clients: an IPv4 address as it is (also when IPv4-mapped: "::ffff:192.0.2.1" -> "192.0.2.1"); an
// IPv6 address by its /64 ("2001:db8:1:2::/64"), which one host can fill with addresses at will.
std::string client_group(const std::string& address);

}  // namespace hocba::net
