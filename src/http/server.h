#pragma once
// The HTTP/1.1 server: asynchronous network I/O (Boost.Beast on Asio, C++20 coroutines) with
// keep-alive, chunked bodies both ways, streaming request and response bodies, sendfile(2) for
// file-backed responses, limits on header size and on idle or stalled clients, an access log line
// per request, and graceful shutdown.
//
// Handlers are synchronous and run on the handler Executor passed in; reading the request body
// from a handler blocks that worker until bytes arrive, while the io threads stay free. Memory per
// connection is bounded (header limit + the handler's own buffers), whatever the body size.
//
// Thread-safety: Start/Shutdown from one controlling thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "http/message.h"
#include "platform/executor.h"

namespace glimmer::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 9292;  // 0 = pick a free port
  size_t max_header_bytes = 16384;
  // A connection with no complete request header within this time is closed.
  std::chrono::seconds idle_timeout{60};
  // A single read or write of a body that makes no progress for this long fails the request.
  std::chrono::seconds body_timeout{300};
  int io_threads = 2;
  bool access_log = true;
};

class Server {
 public:
  // `handlers` runs the handler; it must outlive the server.
  Server(ServerOptions options, Handler handler, platform::Executor& handlers);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting on the io threads. Errors: Unavailable (address in use, etc.).
  Status Start();
  // The bound port (useful with port 0).
  uint16_t port() const;

  // Stops accepting, closes idle connections, lets in-flight requests finish for up to `grace`,
  // then closes whatever is left (their body reads fail, so uploads roll back) and joins the io
  // threads. Idempotent.
  void Shutdown(std::chrono::milliseconds grace);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace glimmer::http
