// hocbad's HTTPS listener (server.h), after Boost.Beast's advanced server examples: one session per
// connection on its own strand, a timeout on every handshake, read and write, handlers run on a
// separate pool.
#include "hocba/api/server.h"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace hocba::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

// The listener and sessions share this: the handler, the options and the pool.
struct Shared {
  ServerOptions opts;
  Handler handler;
  asio::thread_pool* handlers = nullptr;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::set<std::shared_ptr<void>> sessions;  // weakly: removed by the sessions themselves
};

HttpResponse call_handler(Shared& sh, HttpRequest& req) {
  try {
    return sh.handler(req);
  } catch (const std::exception& e) {
    spdlog::error("HTTP_HANDLER_EXCEPTION path={} what={}", req.path, e.what());
  } catch (...) {
    spdlog::error("HTTP_HANDLER_EXCEPTION path={}", req.path);
  }
  return HttpResponse::error(500, "internal", "internal error; the server's log says more");
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, ssl::context& ctx, std::shared_ptr<Shared> sh)
      : stream_(std::move(socket), ctx), sh_(std::move(sh)) {}

  void run() { asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::on_run, shared_from_this())); }

  // Called from the server's thread at stop: an idle connection is closed at once.
  void shutdown_if_idle() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_) beast::get_lowest_layer(self->stream_).close();
    });
  }

 private:
  void on_run() {
    boost::system::error_code ec;
    auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string();
    beast::get_lowest_layer(stream_).expires_after(sh_->opts.handshake_timeout);
    stream_.async_handshake(ssl::stream_base::server, beast::bind_front_handler(&Session::on_handshake, shared_from_this()));
  }

  void on_handshake(beast::error_code ec) {
    if (ec) {
      spdlog::debug("TLS_HANDSHAKE_FAILED remote={} error={}", remote_, ec.message());
      return close();
    }
    read();
  }

  void read() {
    if (sh_->stopping) return do_shutdown();
    busy_ = false;
    parser_.emplace();
    parser_->body_limit(sh_->opts.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(sh_->opts.max_header_bytes));
    beast::get_lowest_layer(stream_).expires_after(sh_->opts.idle_timeout);
    // The idle timeout covers the wait for the first byte; once the header starts, the read timeout.
    http::async_read_header(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    busy_ = true;
    beast::get_lowest_layer(stream_).expires_after(sh_->opts.read_timeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return respond_now(HttpResponse::error(413, "too_large", "the request body is larger than the server accepts (" +
                                                                 std::to_string(sh_->opts.max_body_bytes >> 20) + " MiB)"));
    }
    if (ec == http::error::header_limit) return respond_now(HttpResponse::error(431, "header_too_large", "request headers too large"));
    if (ec == http::error::end_of_stream || ec == asio::ssl::error::stream_truncated || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::eof)
      return do_shutdown();
    if (std::string_view(ec.category().name()) == "beast.http")
      return respond_now(HttpResponse::error(400, "bad_request", "malformed HTTP request: " + ec.message()));
    return close();
  }

  void respond_now(HttpResponse r) {
    keep_alive_ = false;
    write(std::move(r), 11);
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    auto& msg = parser_->get();
    auto req = std::make_shared<HttpRequest>();
    req->method = std::string(msg.method_string());
    req->target = std::string(msg.target());
    for (auto const& f : msg) {
      std::string name(f.name_string());
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      req->headers.emplace_back(std::move(name), std::string(f.value()));
    }
    req->body = std::move(msg.body());
    req->remote_address = remote_;
    split_target(*req);
    keep_alive_ = msg.keep_alive() && !sh_->stopping;
    unsigned version = msg.version();
    beast::get_lowest_layer(stream_).expires_never();
    // The handler runs on the handlers' pool; its answer comes back to this session's strand.
    asio::post(*sh_->handlers, [self = shared_from_this(), req, version] {
      HttpResponse r = call_handler(*self->sh_, *req);
      asio::post(self->stream_.get_executor(), [self, r = std::move(r), version]() mutable { self->write(std::move(r), version); });
    });
  }

  void write(HttpResponse r, unsigned version) {
    busy_ = true;
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), version);
    res->set(http::field::server, "hocbad");
    res->set(http::field::content_type, r.content_type);
    res->set("Strict-Transport-Security", "max-age=31536000");
    res->set("X-Content-Type-Options", "nosniff");
    res->set("X-Frame-Options", "DENY");
    res->set("Referrer-Policy", "no-referrer");
    bool has_cache = false, has_csp = false;
    for (auto& [k, v] : r.headers) {
      res->insert(k, v);
      has_cache = has_cache || beast::iequals(k, "Cache-Control");
      has_csp = has_csp || beast::iequals(k, "Content-Security-Policy");
    }
    if (!has_cache) res->set(http::field::cache_control, "no-store");
    if (!has_csp) res->set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'");
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive_ && !sh_->stopping);
    res->prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(sh_->opts.write_timeout);
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      if (!res->keep_alive()) return self->do_shutdown();
      self->read();
    });
  }

  void do_shutdown() {
    busy_ = true;
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) { self->close(); });
  }

  void close() {
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(stream_).close();
  }

  beast::ssl_stream<beast::tcp_stream> stream_;
  std::shared_ptr<Shared> sh_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string remote_;
  bool keep_alive_ = true;
  bool busy_ = false;  // reading a request (once its header started), handling it or writing its answer
};

}  // namespace

struct Server::Impl {
  std::shared_ptr<Shared> sh = std::make_shared<Shared>();
  asio::io_context ioc;
  ssl::context ctx{ssl::context::tls_server};
  std::optional<tcp::acceptor> acceptor;
  std::unique_ptr<asio::thread_pool> handlers;
  // Keeps the io threads running while a handler works (a session then has no operation pending).
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::vector<std::weak_ptr<Session>> sessions;
  std::mutex mu;
  int port = 0;
  bool started = false, stopped = false;

  void accept() {
    acceptor->async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
        spdlog::warn("HTTP_ACCEPT_FAILED error={}", ec.message());
      } else if (!sh->stopping) {
        auto s = std::make_shared<Session>(std::move(socket), ctx, sh);
        {
          std::lock_guard lk(mu);
          std::erase_if(sessions, [](auto& w) { return w.expired(); });
          sessions.push_back(s);
        }
        s->run();
      }
      if (!sh->stopping) accept();
    });
  }
};

Server::Server(ServerOptions opts, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->sh->opts = std::move(opts);
  impl_->sh->handler = std::move(handler);
}

Server::~Server() { stop(); }

int Server::port() const { return impl_->port; }

Result<int> Server::start() {
  auto& o = impl_->sh->opts;
  auto colon = o.listen.rfind(':');
  if (colon == std::string::npos) return make_error(Errc::invalid_argument, "listen address \"" + o.listen + "\" is not ADDR:PORT");
  std::string host = o.listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    std::size_t used = 0;
    port = std::stoi(o.listen.substr(colon + 1), &used);
    if (used != o.listen.size() - colon - 1) port = -1;
  } catch (...) {
  }
  if (port < 0 || port > 65535) return make_error(Errc::invalid_argument, "listen address \"" + o.listen + "\" has no valid port");
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return make_error(Errc::invalid_argument, "listen address \"" + host + "\" is not an IP address");

  // TLS 1.2 and 1.3 only; for 1.2, forward-secret AEAD suites only.
  auto& ctx = impl_->ctx;
  SSL_CTX* raw = ctx.native_handle();
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(raw, TLS1_3_VERSION);
  SSL_CTX_set_options(raw, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_cipher_list(raw, "ECDHE+AESGCM:ECDHE+CHACHA20");
  ctx.use_certificate_chain_file(o.cert_path, ec);
  if (ec) return make_error(Errc::invalid_argument, "cannot use the TLS certificate " + o.cert_path + ": " + ec.message());
  ctx.use_private_key_file(o.key_path, ssl::context::pem, ec);
  if (ec) return make_error(Errc::invalid_argument, "cannot use the TLS key " + o.key_path + ": " + ec.message());
  if (SSL_CTX_check_private_key(raw) != 1)
    return make_error(Errc::invalid_argument, "the TLS key " + o.key_path + " does not match the certificate " + o.cert_path);

  tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  auto& acc = impl_->acceptor.emplace(impl_->ioc);
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error(Errc::io, "cannot listen on " + o.listen + ": " + ec.message());
  impl_->port = acc.local_endpoint().port();

  impl_->handlers = std::make_unique<asio::thread_pool>(std::max<std::size_t>(1, o.handler_threads));
  impl_->sh->handlers = impl_->handlers.get();
  impl_->work.emplace(impl_->ioc.get_executor());
  impl_->accept();
  for (std::size_t i = 0; i < std::max<std::size_t>(1, o.io_threads); ++i)
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  impl_->started = true;
  return impl_->port;
}

void Server::stop() {
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  impl_->sh->stopping = true;
  asio::post(impl_->ioc, [this] {
    boost::system::error_code ec;
    impl_->acceptor->close(ec);
  });
  {
    std::lock_guard lk(impl_->mu);
    for (auto& w : impl_->sessions)
      if (auto s = w.lock()) s->shutdown_if_idle();
  }
  // Requests being handled finish; their answers are written with Connection: close.
  impl_->handlers->join();
  impl_->work.reset();
  // Then the io threads end when every session has closed (each has a write/shutdown timeout).
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace hocba::api
