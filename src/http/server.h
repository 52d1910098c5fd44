#pragma once
// The HTTP/1.1 server: asynchronous network I/O (Boost.Beast on Asio, C++20 coroutines) with
// keep-alive, chunked bodies both ways, streaming request and response bodies, sendfile(2) for
// file-backed responses, limits on everything a client controls, an access log line per request,
// and graceful shutdown.
//
// Threads. The io threads only run the network side. Each request's handler runs on a fiber
// (platform/fiber.h) whose steps run on the handler Executor: handler code is plain blocking code
// (database calls, store writes, hashing), but when it reads a request body and the client has
// not sent the bytes yet, the fiber is suspended and its thread goes back to the pool until the
// socket is readable. Writing responses (sendfile included) waits for the socket on the io side.
// So no client, however slow or numerous, holds a worker thread: a slow client slows only itself.
//
// Limits (each answered clearly and the connection closed): a connection cap (beyond it a new
// connection gets a 503 and is closed), request line (414), header line, header count and header
// block size (431), chunk extensions and trailers (400), a Transfer-Encoding other than chunked
// (501), Content-Length together with Transfer-Encoding (400), the time to send a request header
// (408 then close), and a minimum body rate: a client sending less than min_body_rate bytes per
// min_body_rate_window is cut (its upload fails and rolls back). Memory per connection is bounded
// (header limit + one read buffer), whatever the client sends.
//
// Thread-safety: Start/Shutdown from one controlling thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "http/message.h"
#include "platform/executor.h"

namespace glimmer::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 9292;  // 0 = pick a free port
  int backlog = 4096;
  // Open connections at most; beyond, new connections are answered 503 and closed. Start()
  // raises RLIMIT_NOFILE to what this needs (and lowers the cap, with a warning, if it cannot).
  size_t max_connections = 10000;
  size_t max_request_line = 16384;  // method + target + version (414 beyond)
  size_t max_header_line = 16384;   // one header field line (Glance's max_header_line; 431)
  size_t max_header_count = 100;    // header fields (431 beyond)
  size_t max_header_bytes = 65536;  // the whole header block (431 beyond)
  size_t max_chunk_extension = 1024;  // chunk extensions of one chunk (400 beyond)
  // A keep-alive connection with no new request within this time is closed (Glance's
  // client_socket_timeout).
  std::chrono::seconds idle_timeout{60};
  // A request header must be complete within this time from its first byte (408 beyond).
  std::chrono::seconds header_timeout{30};
  // A body read or response write that makes no progress for this long fails the request.
  std::chrono::seconds body_timeout{300};
  // A request body arriving slower than min_body_rate bytes per min_body_rate_window fails
  // (0 = no minimum). The client is cut once a whole window passes below the rate.
  uint64_t min_body_rate = 1024;
  std::chrono::seconds min_body_rate_window{30};
  bool keep_alive = true;  // Glance's http_keepalive
  int io_threads = 2;
  bool access_log = true;
  // Requests answered on the io thread without a fiber (must be cheap and never block): return
  // a response to answer, nullopt to go to the handler. Used for /healthcheck, so health stays
  // visible when every worker is busy.
  std::function<std::optional<Response>(const Request&)> inline_handler;
};

// Counters for tests, metrics and the load suite.
struct ServerStats {
  uint64_t open_connections = 0;
  uint64_t refused_connections = 0;  // over max_connections
  uint64_t accept_errors = 0;
};

class Server {
 public:
  // `handlers` runs the handlers' fibers; `streams` (if given, else `handlers`) runs the blocking
  // steps of streamed responses: sendfile(2) calls and store reads, so that a slow disk or store
  // slows downloads, not API calls. Both must outlive the server.
  Server(ServerOptions options, Handler handler, platform::Executor& handlers,
         platform::Executor* streams = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting on the io threads. Errors: Unavailable (address in use, etc.).
  Status Start();
  // The bound port (useful with port 0).
  uint16_t port() const;
  ServerStats stats() const;

  // Stops accepting, closes idle connections, lets in-flight requests finish for up to `grace`,
  // then closes whatever is left (their body reads fail, so uploads roll back) and joins the io
  // threads. Idempotent.
  void Shutdown(std::chrono::milliseconds grace);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace glimmer::http
