// The HTTP/1.1 client: one io_context per call, run on the calling thread until the exchange ends.
// Every asynchronous step is bounded by the call's deadline (beast::tcp_stream::expires_at; a timer
// for name resolution), so a silent server costs at most the timeout.
#include "hocba/net/http_client.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>
#include <mutex>
#include <optional>

namespace hocba::net {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

Result<Url> parse_url(const std::string& s) {
  Url u;
  std::string rest;
  auto lower = [](std::string x) {
    for (auto& c : x) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return x;
  };
  auto colon = s.find("://");
  std::string scheme = colon == std::string::npos ? "" : lower(s.substr(0, colon));
  if (scheme == "http") {
    u.port = "80";
  } else if (scheme == "https") {
    u.tls = true;
    u.port = "443";
  } else {
    return make_error(Errc::invalid_argument, "\"" + s + "\" is not an http:// or https:// URL");
  }
  rest = s.substr(colon + 3);
  if (auto hash = rest.find('#'); hash != std::string::npos) rest.resize(hash);
  auto path_at = rest.find_first_of("/?");
  std::string authority = rest.substr(0, path_at);
  if (path_at != std::string::npos) u.target = rest.substr(path_at);
  if (!u.target.empty() && u.target[0] == '?') u.target = "/" + u.target;
  if (authority.find('@') != std::string::npos)
    return make_error(Errc::invalid_argument, "\"" + s + "\": user names in URLs are not supported");
  std::string port;
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) return make_error(Errc::invalid_argument, "\"" + s + "\": unclosed [ in the host");
    u.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return make_error(Errc::invalid_argument, "\"" + s + "\": bad host");
      port = authority.substr(close + 2);
    }
  } else {
    auto c = authority.rfind(':');
    u.host = authority.substr(0, c);
    if (c != std::string::npos) port = authority.substr(c + 1);
  }
  if (u.host.empty()) return make_error(Errc::invalid_argument, "\"" + s + "\" has no host");
  if (!port.empty()) {
    bool digits = port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || std::stoul(port) == 0 || std::stoul(port) > 65535)
      return make_error(Errc::invalid_argument, "\"" + s + "\" has a bad port");
    u.port = port;
  }
  return u;
}

namespace {

using Request = http::request<http::vector_body<std::uint8_t>>;
using Parser = http::response_parser<http::vector_body<std::uint8_t>>;

std::string seconds_text(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0) return std::to_string(ms.count() / 1000) + " s";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms.count()) / 1000.0);
  return buf;
}

// One exchange over Stream (beast::tcp_stream, or beast::ssl_stream over one). Handlers run on the
// caller's thread inside ioc.run(); they never throw (error codes only).
template <class Stream>
class Exchange {
 public:
  Exchange(asio::io_context& ioc, Stream& stream, const Url& url, Request& req, Clock::time_point deadline,
           std::size_t max_body)
      : stream_(stream), resolver_(ioc), timer_(ioc), url_(url), req_(req), deadline_(deadline) {
    parser_.body_limit(max_body);
    parser_.header_limit(64 * 1024);
  }

  void start() {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(url_.host, ec);
    if (!ec) {  // an address literal: no resolution
      endpoints_.emplace_back(addr, static_cast<unsigned short>(std::stoul(url_.port)));
      connect();
      return;
    }
    timer_.expires_at(deadline_);
    timer_.async_wait([this](boost::system::error_code e) {
      if (!e && !resolved_) {
        resolve_timed_out_ = true;
        resolver_.cancel();
      }
    });
    resolver_.async_resolve(url_.host, url_.port, [this](boost::system::error_code e, tcp::resolver::results_type r) {
      resolved_ = true;
      timer_.cancel();
      if (resolve_timed_out_) return fail(beast::error::timeout, "resolve");
      if (e) return fail(e, "resolve");
      for (const auto& entry : r) endpoints_.push_back(entry.endpoint());
      connect();
    });
  }

  beast::error_code error() const { return ec_; }
  const char* stage() const { return stage_; }
  Parser& parser() { return parser_; }

 private:
  auto& lowest() { return beast::get_lowest_layer(stream_); }

  void fail(beast::error_code ec, const char* stage) {
    ec_ = ec;
    stage_ = stage;
    boost::system::error_code ignored;
    lowest().socket().close(ignored);
  }

  void connect() {
    lowest().expires_at(deadline_);
    lowest().async_connect(endpoints_, [this](beast::error_code e, const tcp::endpoint&) {
      if (e) return fail(e, "connect");
      if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
        write();
      } else {
        // SNI and host name verification (the chain is verified against the context's store).
        if (!SSL_set_tlsext_host_name(stream_.native_handle(), url_.host.c_str()))
          return fail(beast::error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()), "tls");
        stream_.set_verify_callback(ssl::host_name_verification(url_.host));
        lowest().expires_at(deadline_);
        stream_.async_handshake(ssl::stream_base::client, [this](beast::error_code he) {
          if (he) return fail(he, "tls");
          write();
        });
      }
    });
  }

  void write() {
    lowest().expires_at(deadline_);
    http::async_write(stream_, req_, [this](beast::error_code e, std::size_t) {
      if (e) return fail(e, "write");
      read();
    });
  }

  void read() {
    lowest().expires_at(deadline_);
    http::async_read(stream_, buffer_, parser_, [this](beast::error_code e, std::size_t) {
      if (e) return fail(e, "read");
      boost::system::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
      lowest().socket().close(ignored);
    });
  }

  Stream& stream_;
  tcp::resolver resolver_;
  asio::steady_timer timer_;
  const Url& url_;
  Request& req_;
  Clock::time_point deadline_;
  std::vector<tcp::endpoint> endpoints_;
  beast::flat_buffer buffer_;
  Parser parser_;
  bool resolved_ = false, resolve_timed_out_ = false;
  beast::error_code ec_;
  const char* stage_ = "";
};

}  // namespace

struct HttpClient::Impl {
  HttpClientOptions opts;
  std::once_flag tls_once;
  std::optional<ssl::context> tls;
  std::string tls_error;

  ssl::context* tls_context() {
    std::call_once(tls_once, [this] {
      tls.emplace(ssl::context::tls_client);
      boost::system::error_code ec;
      tls->set_verify_mode(ssl::verify_peer, ec);
      if (!ec) tls->set_default_verify_paths(ec);
      if (!ec && !opts.extra_ca_file.empty()) tls->load_verify_file(opts.extra_ca_file, ec);
      if (ec) {
        tls_error = ec.message();
        tls.reset();
      }
    });
    return tls ? &*tls : nullptr;
  }

  Result<Bytes> request(http::verb verb, const std::string& url_text, const std::string& content_type,
                        std::span<const std::uint8_t> body, std::chrono::milliseconds timeout) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (verb == http::verb::post) headers.emplace_back("Content-Type", content_type);
    auto r = exchange(std::string(http::to_string(verb)), url_text, headers, body, timeout);
    if (!r) return r.error();
    if (r->status < 200 || r->status > 299)
      return make_error(Errc::unavailable, url_text + " answered HTTP " + std::to_string(r->status) + (r->reason.empty() ? "" : " " + r->reason));
    return Bytes(r->body.begin(), r->body.end());
  }

  Result<HttpExchange> exchange(const std::string& method, const std::string& url_text,
                                const std::vector<std::pair<std::string, std::string>>& headers, std::span<const std::uint8_t> body,
                                std::chrono::milliseconds timeout) {
    auto url = parse_url(url_text);
    if (!url) return url.error();
    http::verb verb = http::string_to_verb(method);
    if (verb == http::verb::unknown) return make_error(Errc::invalid_argument, "unknown HTTP method " + method);
    Request req{verb, url->target, 11};
    bool default_port = url->port == (url->tls ? "443" : "80");
    std::string host = url->host.find(':') != std::string::npos ? "[" + url->host + "]" : url->host;
    req.set(http::field::host, default_port ? host : host + ":" + url->port);
    req.set(http::field::user_agent, opts.user_agent);
    req.set(http::field::connection, "close");
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() || verb == http::verb::post || verb == http::verb::put || verb == http::verb::patch)
      req.body().assign(body.begin(), body.end());
    req.prepare_payload();

    auto deadline = Clock::now() + timeout;
    asio::io_context ioc{1};
    beast::error_code ec;
    const char* stage = "";
    std::optional<http::response<http::vector_body<std::uint8_t>>> res;
    if (url->tls) {
      ssl::context* ctx = tls_context();
      if (!ctx) return make_error(Errc::unavailable, "cannot set up TLS for " + url_text + ": " + tls_error);
      beast::ssl_stream<beast::tcp_stream> stream(ioc, *ctx);
      Exchange<beast::ssl_stream<beast::tcp_stream>> x(ioc, stream, *url, req, deadline, opts.max_response_bytes);
      x.start();
      ioc.run();
      ec = x.error();
      stage = x.stage();
      if (!ec) res = x.parser().release();
    } else {
      beast::tcp_stream stream(ioc);
      Exchange<beast::tcp_stream> x(ioc, stream, *url, req, deadline, opts.max_response_bytes);
      x.start();
      ioc.run();
      ec = x.error();
      stage = x.stage();
      if (!ec) res = x.parser().release();
    }

    if (ec) {
      std::string where = url->host + ":" + url->port;
      if (ec == beast::error::timeout)
        return make_error(Errc::timeout, url_text + " did not answer within " + seconds_text(timeout));
      if (ec == http::error::body_limit)
        return make_error(Errc::too_large, url_text + " answered with more than " + std::to_string(opts.max_response_bytes) + " bytes");
      std::string s = stage;
      if (s == "resolve") return make_error(Errc::unavailable, "cannot resolve " + url->host + ": " + ec.message());
      if (s == "connect") return make_error(Errc::unavailable, "cannot connect to " + where + ": " + ec.message());
      if (s == "tls") return make_error(Errc::unavailable, "TLS with " + where + " failed: " + ec.message());
      if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset)
        return make_error(Errc::unavailable, where + " closed the connection without an answer");
      if (s == "read" && &ec.category() == &http::make_error_code(http::error::bad_version).category())
        return make_error(Errc::unavailable, where + " answered something that is not HTTP/1.x (" + ec.message() + ")");
      return make_error(Errc::unavailable, "HTTP exchange with " + where + " failed (" + s + "): " + ec.message());
    }
    HttpExchange out;
    out.status = static_cast<int>(res->result_int());
    out.reason = std::string(res->reason());
    for (auto const& f : *res) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    out.body.assign(res->body().begin(), res->body().end());
    return out;
  }
};

HttpClient::HttpClient(HttpClientOptions opts) : impl_(std::make_unique<Impl>()) { impl_->opts = std::move(opts); }
HttpClient::~HttpClient() = default;

Result<Bytes> HttpClient::post(const std::string& url, const std::string& content_type, std::span<const std::uint8_t> body,
                               std::chrono::milliseconds timeout) {
  try {
    return impl_->request(http::verb::post, url, content_type, body, timeout);
  } catch (const std::exception& e) {  // allocation failures and the like: an error, not a crash
    return make_error(Errc::unavailable, "HTTP request to " + url + " failed: " + e.what());
  }
}

Result<HttpExchange> HttpClient::exchange(const std::string& method, const std::string& url,
                                          const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
                                          std::chrono::milliseconds timeout) {
  try {
    return impl_->exchange(method, url, headers,
                           std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(body.data()), body.size()), timeout);
  } catch (const std::exception& e) {
    return make_error(Errc::unavailable, "HTTP request to " + url + " failed: " + e.what());
  }
}

std::string HttpExchange::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (beast::iequals(k, name)) return v;
  return "";
}

Result<Bytes> HttpClient::get(const std::string& url, std::chrono::milliseconds timeout) {
  try {
    return impl_->request(http::verb::get, url, "", {}, timeout);
  } catch (const std::exception& e) {
    return make_error(Errc::unavailable, "HTTP request to " + url + " failed: " + e.what());
  }
}

}  // namespace hocba::net
