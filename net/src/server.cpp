// hocbad's HTTPS listener (server.h), after Boost.Beast's advanced server examples: one session per
// connection on its own strand, a timeout on every handshake, read and write, handlers run on a
// separate pool.
#include "hocba/net/server.h"

#include <openssl/crypto.h>

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <list>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "beast_request.h"
#include "hocba/common/secret.h"

namespace hocba::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

// Memory that held request bytes (a PIN, a password, a session token) is wiped before it is freed.
template <class T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() = default;
  template <class U>
  WipingAllocator(const WipingAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept {
    OPENSSL_cleanse(p, n * sizeof(T));
    std::allocator<T>().deallocate(p, n);
  }
  template <class U>
  bool operator==(const WipingAllocator<U>&) const noexcept {
    return true;
  }
  template <class U>
  bool operator!=(const WipingAllocator<U>&) const noexcept {
    return false;
  }
};
using WipedBuffer = beast::basic_flat_buffer<WipingAllocator<char>>;
using WipedBody = http::basic_string_body<char, std::char_traits<char>, WipingAllocator<char>>;
using WipedParser = http::request_parser<WipedBody, WipingAllocator<char>>;

// At most one log line per interval for an event that a client can repeat at will.
class RateLimitedLog {
 public:
  // True when this occurrence should be logged; `suppressed` is how many were not since the last one.
  bool allow(std::chrono::seconds interval, std::size_t& suppressed) {
    std::lock_guard lk(mu_);
    auto now = std::chrono::steady_clock::now();
    if (logged_once_ && now - last_ < interval) {
      ++suppressed_;
      return false;
    }
    logged_once_ = true;
    last_ = now;
    suppressed = std::exchange(suppressed_, 0);
    return true;
  }

 private:
  std::mutex mu_;
  bool logged_once_ = false;
  std::chrono::steady_clock::time_point last_{};
  std::size_t suppressed_ = 0;
};

class Session;

constexpr std::chrono::seconds kStopWriteTimeout{10};

// The listener and sessions share this: the handler, the options, the pool and the connection counts.
struct Shared {
  ServerOptions opts;
  Handler handler;
  asio::thread_pool* handlers = nullptr;
  std::atomic<bool> stopping{false};

  // Guards the fields below. Recursive: a session whose last owner lets go under it (a weak_ptr locked
  // while scanning) gives its slot back from its destructor on the same thread.
  std::recursive_mutex conn_mu;
  std::size_t active = 0;
  std::map<std::string, std::size_t> per_address;  // at most `active` entries
  std::list<std::weak_ptr<Session>> sessions;       // oldest first
  std::function<void()> resume_accept;              // set by the listener; called when a slot frees
  bool accept_paused = false;
  std::atomic<std::size_t> refused_per_address{0}, evicted_idle{0}, accept_errors{0};
  RateLimitedLog refused_log, accept_log;
};

// A listener that stopped accepting at the cap accepts again (a connection ended or went idle).
void resume_listener_if_paused(Shared& sh) {
  std::function<void()> resume;
  {
    std::lock_guard lk(sh.conn_mu);
    if (!sh.accept_paused) return;
    sh.accept_paused = false;
    resume = sh.resume_accept;
  }
  if (resume) resume();
}

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

std::string kib_or_mib(std::size_t bytes) {
  if (bytes >= (std::size_t(1) << 20) && bytes % (std::size_t(1) << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= 1024) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, ssl::context& ctx, std::shared_ptr<Shared> sh, std::string remote, std::string group)
      : stream_(std::move(socket), ctx), sh_(std::move(sh)), remote_(std::move(remote)), group_(std::move(group)) {}

  // Gives the connection's slot back (counted by the listener when it accepted the connection).
  ~Session() {
    {
      std::lock_guard lk(sh_->conn_mu);
      --sh_->active;
      if (auto it = sh_->per_address.find(group_); it != sh_->per_address.end() && --it->second == 0) sh_->per_address.erase(it);
    }
    resume_listener_if_paused(*sh_);
  }

  void run() { asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::on_run, shared_from_this())); }

  // Not reading, handling or writing a request: in the handshake or waiting for a header.
  bool idle() const { return !busy_; }

  // Called from the server's thread at stop: an idle connection is closed at once; an answer being
  // written gets at most kStopWriteTimeout more.
  void shutdown_if_idle() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_) self->close();
      else if (self->writing_) beast::get_lowest_layer(self->stream_).expires_after(kStopWriteTimeout);
    });
  }
  // Closes the connection if it is still idle (to make room for a new one).
  void evict_if_idle() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_) self->close();
    });
  }

 private:
  void on_run() {
    beast::get_lowest_layer(stream_).expires_after(sh_->opts.handshake_timeout);
    stream_.async_handshake(ssl::stream_base::server, beast::bind_front_handler(&Session::on_handshake, shared_from_this()));
  }

  void on_handshake(beast::error_code ec) {
    if (ec) {
      spdlog::debug("TLS_HANDSHAKE_FAILED remote={} error={}", remote_, ec.message());
      return close();
    }
    read(sh_->opts.header_timeout);
  }

  void read(std::chrono::seconds wait) {
    if (sh_->stopping) return do_shutdown();
    busy_ = false;
    // Idle now: it can be evicted to make room, so a paused listener may accept again.
    resume_listener_if_paused(*sh_);
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(sh_->opts.max_header_bytes));
    // No limit while the header is read (Beast would hold a Content-Length against it before we know
    // the route): on_header checks the route's limit, and sets it for chunked bodies.
    parser_->body_limit(boost::none);
    // The whole header within `wait` (a new connection: the header timeout; keep-alive: the idle one).
    beast::get_lowest_layer(stream_).expires_after(wait);
    http::async_read_header(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    busy_ = true;
    // The route's own body limit, known before a byte of the body is read.
    body_limit_ = sh_->opts.max_body_bytes;
    if (sh_->opts.on_header) {
      HttpRequest head;
      request_head_from(parser_->get(), remote_, head);
      HeadDecision d;
      d.body_limit = body_limit_;
      try {
        d = sh_->opts.on_header(head);
      } catch (...) {
      }
      for (auto& [name, value] : head.headers) wipe(value);
      body_limit_ = d.body_limit;
      if (d.answer) return respond_now(std::move(*d.answer));
    }
    // Beast checks a Content-Length against the limit only while parsing the header: do it here.
    if (auto len = parser_->content_length(); len && *len > body_limit_) return on_read_error(http::error::body_limit);
    parser_->body_limit(body_limit_);
    beast::get_lowest_layer(stream_).expires_after(sh_->opts.read_timeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return respond_now(HttpResponse::error(413, "too_large", "the request body is larger than this request accepts (" +
                                                                 kib_or_mib(body_limit_) + ")"));
    }
    if (ec == http::error::header_limit) return respond_now(HttpResponse::error(431, "header_too_large", "request headers too large"));
    if (ec == http::error::end_of_stream || ec == asio::ssl::error::stream_truncated || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::eof)
      return do_shutdown();
    if (std::string_view(ec.category().name()) == "beast.http")
      return respond_now(HttpResponse::error(400, "bad_request", "malformed HTTP request: " + ec.message()));
    return close();
  }

  // An answer before the request was read whole (413, 431, 400): written, then what the client
  // still sends is read and dropped for a while, so that the client reads the answer instead of
  // failing on a reset connection (a "lingering close").
  void respond_now(HttpResponse r) {
    keep_alive_ = false;
    linger_ = true;
    forget_request();
    write(std::move(r), 11);
  }

  void linger() {
    busy_ = true;
    linger_buf_.resize(16 * 1024);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
    linger_more();
  }
  void linger_more() {
    stream_.async_read_some(asio::buffer(linger_buf_), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->lingered_ += n;
      if (ec || self->lingered_ > (std::size_t(64) << 20)) return self->ec_is_timeout(ec) ? self->close() : self->do_shutdown();
      self->linger_more();
    });
  }
  static bool ec_is_timeout(beast::error_code ec) { return ec == beast::error::timeout; }

  // The parser's copy of the request and the read buffer are wiped (their allocator does it).
  void forget_request() {
    parser_.reset();
    buffer_.shrink_to_fit();
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    auto& msg = parser_->get();
    auto req = std::make_shared<HttpRequest>();
    request_head_from(msg, remote_, *req);
    req->body.assign(msg.body().data(), msg.body().size());  // one exact allocation, wiped after the handler
    keep_alive_ = msg.keep_alive() && !sh_->stopping;
    unsigned version = msg.version();
    forget_request();
    if (sh_->stopping) {  // the handlers' pool may be joined already: answer here
      wipe(req->body);
      for (auto& [name, value] : req->headers) wipe(value);
      keep_alive_ = false;
      return write(HttpResponse::error(503, "unavailable", "the server is stopping; try again in a moment"), version);
    }
    beast::get_lowest_layer(stream_).expires_never();
    // The handler runs on the handlers' pool; its answer comes back to this session's strand.
    asio::post(*sh_->handlers, [self = shared_from_this(), req, version] {
      HttpResponse r = call_handler(*self->sh_, *req);
      wipe(req->body);
      for (auto& [name, value] : req->headers) wipe(value);
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
    // Stopping: a client that does not read its answer holds the stop for 10 s at most.
    beast::get_lowest_layer(stream_).expires_after(sh_->stopping ? std::min(sh_->opts.write_timeout, kStopWriteTimeout)
                                                                 : sh_->opts.write_timeout);
    writing_ = true;
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      if (ec) return self->close();
      if (!res->keep_alive()) return self->linger_ ? self->linger() : self->do_shutdown();
      self->read(self->sh_->opts.idle_timeout);
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
  std::string remote_, group_;  // the address, and the client it counts for (client_group)
  WipedBuffer buffer_;
  std::optional<WipedParser> parser_;
  std::size_t body_limit_ = 0;
  bool keep_alive_ = true;
  bool linger_ = false;
  bool writing_ = false;  // on the session's strand only
  std::vector<char> linger_buf_;
  std::size_t lingered_ = 0;
  std::atomic<bool> busy_{false};  // reading a request (once its header started), handling it or writing its answer
};

}  // namespace

struct Server::Impl {
  std::shared_ptr<Shared> sh = std::make_shared<Shared>();
  asio::io_context ioc;
  ssl::context ctx{ssl::context::tls_server};
  std::optional<tcp::acceptor> acceptor;  // on a strand of ioc
  std::optional<asio::steady_timer> backoff;
  std::chrono::milliseconds backoff_delay{0};
  std::unique_ptr<asio::thread_pool> handlers;
  // Keeps the io threads running while a handler works (a session then has no operation pending).
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  int port = 0;
  bool started = false, stopped = false;

  // Accept errors (EMFILE, ENFILE, ENOBUFS, ...) back off, 50 ms doubling to 1 s, logged once per interval.
  void on_accept_error(beast::error_code ec) {
    ++sh->accept_errors;
    std::size_t suppressed = 0;
    if (sh->accept_log.allow(sh->opts.log_interval, suppressed))
      spdlog::warn("HTTP_ACCEPT_FAILED error={} suppressed={}", ec.message(), suppressed);
    backoff_delay = std::clamp(backoff_delay * 2, std::chrono::milliseconds(50), std::chrono::milliseconds(1000));
    backoff->expires_after(backoff_delay);
    backoff->async_wait([this](beast::error_code wec) {
      if (!wec && !sh->stopping) accept();
    });
  }

  // Admits a new connection: refuses it over the per-address cap; at the total cap, closes the oldest
  // idle connection to make room, or (none idle) stops accepting until a connection ends. Returns the
  // session, or null when the connection was refused.
  std::shared_ptr<Session> admit(tcp::socket& socket, bool& pause) {
    boost::system::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (ec) return nullptr;  // already gone
    std::string remote = ep.address().to_string(), group = client_group(remote);
    auto& o = sh->opts;
    std::shared_ptr<Session> victim;
    {
      std::lock_guard lk(sh->conn_mu);
      std::size_t& mine = sh->per_address[group];
      if (mine >= o.max_connections_per_address) {
        ++sh->refused_per_address;
        std::size_t suppressed = 0;
        if (sh->refused_log.allow(o.log_interval, suppressed))
          spdlog::warn("HTTP_CONNECTION_REFUSED remote={} reason=per_address_cap cap={} suppressed={}", remote,
                       o.max_connections_per_address, suppressed);
        if (mine == 0) sh->per_address.erase(group);
        socket.close(ec);
        return nullptr;
      }
      ++mine;
      ++sh->active;
      std::erase_if(sh->sessions, [](auto& w) { return w.expired(); });
      bool idle_left = false;
      for (auto& w : sh->sessions) {
        auto s = w.lock();
        if (!s || !s->idle()) continue;
        if (sh->active > o.max_connections && !victim) victim = std::move(s);
        else idle_left = true;
        if (victim && idle_left) break;
      }
      // Full, and nobody idle to make room for the next one: wait until a connection ends.
      if (sh->active >= o.max_connections && !idle_left) {
        pause = true;
        sh->accept_paused = true;
      }
    }
    std::shared_ptr<Session> s;
    try {
      s = std::make_shared<Session>(std::move(socket), ctx, sh, remote, group);
    } catch (const std::exception& e) {  // SSL_new failed: give the slot back
      spdlog::error("HTTP_SESSION_FAILED remote={} what={}", remote, e.what());
      std::lock_guard lk(sh->conn_mu);
      --sh->active;
      if (auto it = sh->per_address.find(group); it != sh->per_address.end() && --it->second == 0) sh->per_address.erase(it);
      if (pause) sh->accept_paused = false, pause = false;
      return nullptr;
    }
    {
      std::lock_guard lk(sh->conn_mu);
      sh->sessions.push_back(s);
    }
    if (victim) {
      ++sh->evicted_idle;
      std::size_t suppressed = 0;
      if (sh->refused_log.allow(o.log_interval, suppressed))
        spdlog::warn("HTTP_CONNECTION_EVICTED reason=total_cap cap={} suppressed={}", o.max_connections, suppressed);
      victim->evict_if_idle();
    }
    return s;
  }

  void accept() {
    acceptor->async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor->is_open() || sh->stopping) return;
        return on_accept_error(ec);
      }
      backoff_delay = std::chrono::milliseconds(0);
      if (sh->stopping) return;
      bool pause = false;
      if (auto s = admit(socket, pause)) s->run();
      if (pause) return;  // resumed by the session that ends next (Shared::resume_accept)
      accept();
    });
  }
};

Server::Server(ServerOptions opts, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->sh->opts = std::move(opts);
  impl_->sh->handler = std::move(handler);
}

Server::~Server() { stop(); }

int Server::port() const { return impl_->port; }

ServerStats Server::stats() const {
  ServerStats st;
  {
    std::lock_guard lk(impl_->sh->conn_mu);
    st.connections = impl_->sh->active;
  }
  st.refused_per_address = impl_->sh->refused_per_address;
  st.evicted_idle = impl_->sh->evicted_idle;
  st.accept_errors = impl_->sh->accept_errors;
  return st;
}

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
  // SSL_OP_CLEANSE_PLAINTEXT: decrypted request bytes (PINs, passwords) are wiped from OpenSSL's buffers.
  SSL_CTX_set_options(raw, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_CLEANSE_PLAINTEXT);
  SSL_CTX_set_mode(raw, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_cipher_list(raw, "ECDHE+AESGCM:ECDHE+CHACHA20");
  ctx.use_certificate_chain_file(o.cert_path, ec);
  if (ec) return make_error(Errc::invalid_argument, "cannot use the TLS certificate " + o.cert_path + ": " + ec.message());
  ctx.use_private_key_file(o.key_path, ssl::context::pem, ec);
  if (ec) return make_error(Errc::invalid_argument, "cannot use the TLS key " + o.key_path + ": " + ec.message());
  if (SSL_CTX_check_private_key(raw) != 1)
    return make_error(Errc::invalid_argument, "the TLS key " + o.key_path + " does not match the certificate " + o.cert_path);

  tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  // The acceptor, its back-off timer and the stop all work on one strand.
  auto& acc = impl_->acceptor.emplace(asio::make_strand(impl_->ioc));
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error(Errc::io, "cannot listen on " + o.listen + ": " + ec.message());
  impl_->port = acc.local_endpoint().port();

  impl_->handlers = std::make_unique<asio::thread_pool>(std::max<std::size_t>(1, o.handler_threads));
  impl_->sh->handlers = impl_->handlers.get();
  impl_->work.emplace(impl_->ioc.get_executor());
  impl_->backoff.emplace(impl_->acceptor->get_executor());
  impl_->sh->resume_accept = [this] {
    asio::post(impl_->acceptor->get_executor(), [this] {
      if (!impl_->sh->stopping && impl_->acceptor->is_open()) impl_->accept();
    });
  };
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
  asio::post(impl_->acceptor->get_executor(), [this] {
    boost::system::error_code ec;
    impl_->acceptor->close(ec);
    impl_->backoff->cancel();
  });
  {
    std::lock_guard lk(impl_->sh->conn_mu);
    impl_->sh->resume_accept = nullptr;  // sessions ending from now on must not touch the acceptor
    impl_->sh->accept_paused = false;
    for (auto& w : impl_->sh->sessions)
      if (auto s = w.lock()) s->shutdown_if_idle();
  }
  // Requests being handled finish; their answers are written with Connection: close.
  impl_->handlers->join();
  impl_->work.reset();
  // Then the io threads end when every session has closed (each has a write/shutdown timeout).
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace hocba::net
