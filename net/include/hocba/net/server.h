// hocbad's HTTPS listener: Boost.Beast over OpenSSL (TLS 1.2 and 1.3 only), HTTP/1.1 keep-alive,
// a timeout on every handshake and read, a body size limit, and a graceful stop. Handlers run on a
// pool of their own, so a handler that waits for a token does not hold up reading other requests.
// No Boost type appears here (Beast and Asio are compiled once, in beast_impl.cpp).
#pragma once
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "hocba/net/http.h"
#include "hocba/common/error.h"

namespace hocba::net {

struct ServerOptions {
  std::string listen = "127.0.0.1:8443";  // "ADDR:PORT"; port 0: any free port
  std::string cert_path, key_path;        // PEM
  std::size_t io_threads = 2;             // reading and writing
  std::size_t handler_threads = 16;       // running handlers (they may wait for a token)
  std::size_t max_body_bytes = std::size_t(32) << 20;  // when body_limit is not set
  // Asked once a request's header is read (`head` has the method, target, path, query, headers and
  // remote address, no body): its body limit, or an answer at once. Unset: max_body_bytes.
  HeadHandler on_header;
  std::size_t max_header_bytes = 16 * 1024;
  // Connections at once. At the cap, the oldest connection that has not started a request yet is
  // closed to make room; when every one is busy, new ones wait in the kernel's queue.
  std::size_t max_connections = 512;
  std::size_t max_connections_per_address = 64;  // more from one client (client_group) are closed at once
  std::chrono::seconds handshake_timeout{5};
  std::chrono::seconds header_timeout{10};  // a new connection's first request header
  std::chrono::seconds read_timeout{30};    // the rest of a request, once its header came
  std::chrono::seconds idle_timeout{30};    // keep-alive: between requests
  std::chrono::seconds write_timeout{120};
  std::chrono::seconds log_interval{10};    // refused connections and accept errors: one log line per interval
};

// What the listener counts (for tests and /metrics).
struct ServerStats {
  std::size_t connections = 0;               // open now
  std::size_t refused_per_address = 0;       // closed at once: over the per-address cap
  std::size_t evicted_idle = 0;              // closed to make room at the total cap
  std::size_t accept_errors = 0;
};

class Server {
 public:
  Server(ServerOptions opts, Handler handler);
  ~Server();  // stop()s
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the certificate and key, binds and listens; returns the port. Errors: Errc::invalid_argument
  // (a bad address, unusable certificate or key), Errc::io (cannot bind).
  Result<int> start();
  // Stops accepting, lets the requests being handled finish (their answers are written, with
  // "Connection: close"), closes idle connections, and joins every thread. Idempotent.
  void stop();
  int port() const;
  ServerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hocba::net
