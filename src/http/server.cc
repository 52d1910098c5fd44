#include "http/server.h"

#include <sys/sendfile.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "platform/fiber.h"
#include "platform/host.h"
#include "platform/random.h"

namespace glimmer::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;
using namespace net::experimental::awaitable_operators;
constexpr auto kAwait = net::as_tuple(net::use_awaitable);

// How much of an unread request body we read and discard to keep a connection alive after the
// handler answered without consuming it. Beyond this, the connection is closed instead.
constexpr uint64_t kMaxDrainBytes = 1 << 20;
// Store reads per hop to the pool for responses that are not file-backed (RBD, S3).
constexpr size_t kStreamChunk = 256 << 10;
// Bytes per sendfile(2) call: one huge call holds the socket lock while the receiver's ACKs
// queue up behind it; 256 KiB calls measured 1.8-2.2 GiB/s against 1.3-1.5 GiB/s for 1 GiB calls.
constexpr int64_t kSendfileChunk = 256 << 10;
// Bytes sent per pool hop before the download yields its worker to others.
constexpr int64_t kSendfileHop = 16 << 20;
// Socket read size for parsed (chunked) bodies; Beast reads at most 64 KiB per call anyway.
constexpr size_t kReadBufferBytes = 64 * 1024;
// Identity bodies up to this size are read before their handler runs (fits kReadBufferBytes).
constexpr uint64_t kPrefetchBytes = 64 * 1024;
// Accept errors (EMFILE...) back off between these bounds, doubling.
constexpr auto kAcceptBackoffMin = std::chrono::milliseconds(10);
constexpr auto kAcceptBackoffMax = std::chrono::milliseconds(1000);
// Descriptors kept for everything but client connections (files, database, stores).
constexpr uint64_t kReservedDescriptors = 1024;

// Runs `fn` by handing it to `post` (a pool or a fiber) and completes on the awaiting
// coroutine's executor with its result. (A plain function returning the awaitable: wrapping this
// in a coroutine of its own trips a GCC 12 coroutine bug that double-destroys the executor.)
template <typename R>
auto RunVia(std::function<void(std::function<void()>)> post, std::function<R()> fn) {
  return net::async_initiate<decltype(net::use_awaitable), void(R)>(
      [](auto handler, std::function<void(std::function<void()>)> post, std::function<R()> fn) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        auto work = std::make_shared<net::executor_work_guard<net::any_io_executor>>(
            net::get_associated_executor(*shared));
        post([shared, work, fn = std::move(fn)] {
          auto result = std::make_shared<R>(fn());
          net::dispatch(work->get_executor(), [shared, work, result]() mutable {
            (*shared)(std::move(*result));
            work->reset();
          });
        });
      },
      net::use_awaitable, std::move(post), std::move(fn));
}

// Responses with an in-memory body up to this size are written in one piece (header and body
// together), from the handler's fiber when possible.
constexpr size_t kSmallResponseBytes = 64 * 1024;

bool HasBody(int status) {
  return !(status == 204 || status == 304 || (status >= 100 && status < 200));
}

// The status line and header fields of `response` as sent.
bhttp::response<bhttp::empty_body> HeaderOf(const Response& response, bool keep_alive) {
  bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(response.status), 11};
  for (const auto& [k, v] : response.headers.fields()) res.insert(k, v);
  res.keep_alive(keep_alive);
  if (response.stream) {
    if (response.stream_length) {
      res.content_length(*response.stream_length);
    } else {
      res.chunked(true);
    }
  } else if (HasBody(response.status)) {
    res.content_length(response.body.size());
  }
  return res;
}

// Header and body of a small in-memory response as one buffer; nullopt for other responses.
std::optional<std::string> SmallWire(const Response& response, bool head, bool keep_alive) {
  if (response.stream || response.body.size() > kSmallResponseBytes) return std::nullopt;
  auto res = HeaderOf(response, keep_alive);
  bhttp::response_serializer<bhttp::empty_body> sr(res);
  std::string wire;
  error_code ec;
  while (!ec && !sr.is_header_done()) {
    sr.next(ec, [&](error_code&, const auto& buffers) {
      for (auto b : beast::buffers_range_ref(buffers)) {
        wire.append(static_cast<const char*>(b.data()), b.size());
      }
      sr.consume(beast::buffer_bytes(buffers));
    });
  }
  if (ec) return std::nullopt;
  if (!head && HasBody(response.status)) wire += response.body;
  return wire;
}

std::string_view Reason(int status) {
  return bhttp::obsolete_reason(static_cast<bhttp::status>(status));
}

// Glance reuses an inbound X-Openstack-Request-ID (prefixed with "req-").
std::string RequestIdFor(const bhttp::request_parser<bhttp::buffer_body>::value_type& req) {
  auto it = req.find("x-openstack-request-id");
  if (it != req.end()) {
    std::string v(it->value());
    bool printable = !v.empty() && v.size() <= 64 &&
                     std::all_of(v.begin(), v.end(), [](char c) { return c > 32 && c < 127; });
    if (printable) return v.rfind("req-", 0) == 0 ? v : "req-" + v;
  }
  return "req-" + platform::NewUuid4();
}

// errno read through a call the compiler cannot fold: __errno_location() is declared const, so
// in a function that suspends its fiber (and may resume on another thread) a direct read could
// reuse the address of the previous thread's errno.
[[gnu::noinline]] int LastErrno() { return errno; }

bool ClientGone(const error_code& ec) {
  return ec == bhttp::error::partial_message || ec == bhttp::error::end_of_stream ||
         ec == net::error::eof || ec == net::error::connection_reset ||
         ec == net::error::operation_aborted || ec == net::error::bad_descriptor ||
         ec == net::error::broken_pipe;
}

// The minimum body rate: a client is cut once a whole window passes in which it sent less than
// the minimum. Also bounds a single stall by `stall` (the body timeout).
class RateGuard {
 public:
  RateGuard(uint64_t min_bytes_per_window, Clock::duration window, Clock::duration stall)
      : min_(min_bytes_per_window), window_(window), stall_(stall) {
    window_start_ = last_progress_ = Clock::now();
  }
  void Add(uint64_t n) {
    if (n == 0) return;
    window_bytes_ += n;
    last_progress_ = Clock::now();
  }
  // The latest time until which waiting for more bytes is allowed, or nullopt when the client
  // is already below the rate (or stalled).
  std::optional<Clock::time_point> Deadline() {
    const auto now = Clock::now();
    Clock::time_point deadline = last_progress_ + stall_;
    if (min_ > 0) {
      while (now >= window_start_ + window_) {
        if (window_bytes_ < min_) return std::nullopt;
        window_start_ += window_;
        window_bytes_ = 0;
      }
      deadline = std::min(deadline, window_start_ + (window_bytes_ >= min_ ? 2 : 1) * window_);
    }
    if (now >= deadline) return std::nullopt;
    return deadline;
  }

 private:
  uint64_t min_;
  Clock::duration window_;
  Clock::duration stall_;
  Clock::time_point window_start_;
  Clock::time_point last_progress_;
  uint64_t window_bytes_ = 0;
};

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions options, Handler handler, platform::Executor& handlers,
       platform::Executor* streams)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        pool_(handlers),
        stream_pool_(streams ? *streams : handlers),
        acceptor_(ioc_) {}

  ~Impl() { Shutdown(std::chrono::milliseconds(0)); }

  Status Start();
  uint16_t port() const { return port_; }
  ServerStats stats() const {
    ServerStats s;
    s.open_connections = open_.load();
    s.refused_connections = refused_.load();
    s.accept_errors = accept_errors_.load();
    return s;
  }
  void Shutdown(std::chrono::milliseconds grace);

 private:
  class Session;
  friend class Session;

  net::awaitable<void> Accept();
  void Refuse(tcp::socket& socket);
  void Register(Session* s) {
    std::lock_guard lock(mu_);
    sessions_.insert(s);
  }
  void Unregister(Session* s) {
    std::lock_guard lock(mu_);
    sessions_.erase(s);
    open_.fetch_sub(1);
    cv_.notify_all();
  }
  void PostToStreamPool(std::function<void()> fn) { stream_pool_.Post(std::move(fn)); }
  void SpawnOnFiber(std::function<void()> fn) { platform::SpawnFiber(pool_, std::move(fn)); }

  ServerOptions options_;
  Handler handler_;
  platform::Executor& pool_;
  platform::Executor& stream_pool_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::vector<std::thread> io_threads_;
  std::atomic<bool> draining_{false};
  std::atomic<uint64_t> open_{0};
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> accept_errors_{0};
  bool stopped_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<Session*> sessions_;  // guarded by mu_
};

// One connection. Lives in a coroutine on its own strand.
class Server::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Impl& server, tcp::socket socket)
      : server_(server),
        stream_(std::move(socket)),
        strand_(stream_.get_executor()),
        buffer_(server.options_.max_header_bytes + kReadBufferBytes) {
    error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  }

  net::awaitable<void> Run();

  // Called from Shutdown (any thread): closes the connection if it is idle; otherwise it closes
  // after the current response. With force, closes regardless.
  void Close(bool force) {
    net::post(strand_, [self = shared_from_this(), force] {
      error_code ec;
      if (self->idle_) {
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        self->stream_.socket().close(ec);
      } else if (force) {
        // A handler's fiber may be reading this socket on another thread: shut it down (which
        // wakes that read with an error) but leave closing the descriptor to the session.
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      }
    });
  }

 private:
  class Body;
  using Parser = bhttp::request_parser<bhttp::buffer_body>;

  net::awaitable<error_code> ReadHeader(Parser& parser, bool& got_bytes);
  std::optional<std::pair<int, std::string>> CheckHeader(const Parser& parser) const;
  net::awaitable<bool> HandleOne(Parser& parser);
  net::awaitable<error_code> WriteResponse(Response& response, bool head, bool keep_alive,
                                           uint64_t& bytes_sent);
  // What a handler's fiber hands back: the response, and for a small in-memory one its bytes
  // on the wire and how many of them the fiber already wrote to the socket.
  struct Handled {
    Response response;
    std::optional<std::string> wire;
    size_t wire_sent = 0;
    int send_errno = 0;
    bool keep_alive = false;
  };
  // On the handler's fiber, right after the handler: a small in-memory response to a request
  // whose body is fully read is serialized and written with non-blocking send(2) from here, so
  // the client has its answer without waiting for the io thread to wake up. What the socket
  // does not take at once is written by the io side.
  void WriteFromFiber(Handled& h, const Request& req, bool head, bool keep_alive);
  net::awaitable<error_code> SendFile(const BodySource::FileRange& range, uint64_t& bytes_sent);
  net::awaitable<void> WriteSimple(int status, std::string body, const std::string& request_id);
  // Waits until the socket is readable (or writable) or `deadline`; false on timeout.
  net::awaitable<bool> WaitFor(tcp::socket::wait_type what, Clock::time_point deadline);

  // From a handler's fiber: runs the coroutine made by `make` on this session's strand and
  // suspends the fiber (not its thread) until it completes.
  template <typename T>
  T OnStrand(std::function<net::awaitable<T>()> make) {
    std::optional<T> result;
    platform::SuspendUntil([&](std::function<void()> resume) {
      net::co_spawn(
          strand_,
          [&result, make = std::move(make), resume]() -> net::awaitable<void> {
            result.emplace(co_await make());
            resume();
          },
          net::detached);
    });
    return std::move(*result);
  }

  Impl& server_;
  beast::tcp_stream stream_;
  net::any_io_executor strand_;
  beast::flat_buffer buffer_;  // bounded: header limit + one read
  std::string remote_;
  bool idle_ = true;
};

// The request body as seen by the handler's fiber. Identity-encoded bodies are read straight from
// the socket into the caller's buffer with non-blocking recv(2); when nothing is there the fiber
// waits for the socket on the strand. Chunked bodies are parsed on the strand. The session
// coroutine is suspended while the handler runs, so nothing else touches the socket.
class Server::Impl::Session::Body final : public BodyReader {
 public:
  Body(Session& s, Parser& parser, bool expect_continue)
      : s_(s),
        parser_(parser),
        expect_continue_(expect_continue),
        rate_(s.server_.options_.min_body_rate *
                  static_cast<uint64_t>(s.server_.options_.min_body_rate_window.count()),
              s.server_.options_.min_body_rate_window, s.server_.options_.body_timeout) {
    chunked_ = parser_.chunked();
    if (auto len = parser_.content_length()) content_length_ = *len;
    remaining_ = content_length_.value_or(0);
    if (parser_.is_done()) done_ = true;
  }

  StatusOr<size_t> Read(std::span<std::byte> out) override {
    if (done_ || out.empty()) return size_t{0};
    if (expect_continue_) {
      expect_continue_ = false;
      error_code ec = s_.OnStrand<error_code>([this]() -> net::awaitable<error_code> {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        s_.stream_.expires_after(s_.server_.options_.body_timeout);
        auto [ec, n] = co_await net::async_write(s_.stream_, net::buffer(kContinue), kAwait);
        co_return ec;
      });
      if (ec) return Fail(CancelledError("Client closed the connection"));
    }
    return chunked_ ? ReadChunkedFromFiber(out) : ReadIdentity(out);
  }

  // Reads and discards the rest of the body on the strand (the coroutine is already there).
  // Returns false if it could not be drained within `max_bytes` or failed.
  net::awaitable<bool> Drain(uint64_t max_bytes) {
    if (expect_continue_) co_return false;  // the client is still waiting for our go-ahead
    std::vector<std::byte> sink(65536);
    uint64_t total = 0;
    while (!done_) {
      error_code ec;
      size_t n = 0;
      if (chunked_) {
        std::tie(ec, n) = co_await ReadChunked(sink);
      } else {
        std::tie(ec, n) = co_await ReadIdentityOnStrand(sink);
      }
      if (ec) co_return false;
      total += n;
      if (total > max_bytes) co_return false;
    }
    co_return true;
  }

  // Whether the whole body is small enough to be read by the network side before the handler
  // runs (JSON documents): a client trickling one then holds no fiber, only its read buffer.
  bool Prefetchable() const {
    return !chunked_ && !expect_continue_ && !done_ && remaining_ <= kPrefetchBytes;
  }
  // On the strand: reads the rest of a Prefetchable body into the session buffer, under the
  // same minimum rate as any body. The handler's reads then find it there.
  net::awaitable<error_code> Prefetch() {
    while (s_.buffer_.size() < remaining_) {
      auto deadline = rate_.Deadline();
      if (!deadline) co_return beast::error::timeout;
      // Wait without the stream's own timer, whose expiry would close the socket before the 408.
      if (!co_await s_.WaitFor(tcp::socket::wait_read, *deadline)) continue;
      s_.stream_.expires_never();
      auto [ec, got] = co_await s_.stream_.async_read_some(
          s_.buffer_.prepare(static_cast<size_t>(remaining_) - s_.buffer_.size()), kAwait);
      s_.buffer_.commit(got);
      rate_.Add(got);
      if (ec) {
        failed_ = true;
        done_ = true;
        co_return ec;
      }
    }
    co_return error_code{};
  }

  std::optional<uint64_t> content_length() const override { return content_length_; }
  bool chunked() const override { return chunked_; }
  bool done() const { return done_; }
  bool failed() const { return failed_; }
  uint64_t remaining() const { return chunked_ ? UINT64_MAX : remaining_; }

 private:
  StatusOr<size_t> Fail(Status st) {
    failed_ = true;
    done_ = true;
    return st;
  }
  Status TooSlow() const {
    const auto& o = s_.server_.options_;
    return DeadlineExceededError(
        "The request body arrived too slowly (less than " + std::to_string(o.min_body_rate) +
        " bytes/s over " + std::to_string(o.min_body_rate_window.count()) +
        " s, or nothing for " + std::to_string(o.body_timeout.count()) + " s)");
  }

  // Bytes that arrived together with the header (or a previous read) sit in the session buffer.
  size_t TakeBuffered(std::span<std::byte> out) {
    size_t n = std::min(out.size(), s_.buffer_.size());
    if (n > 0) {
      std::memcpy(out.data(), s_.buffer_.data().data(), n);
      s_.buffer_.consume(n);
    }
    return n;
  }

  StatusOr<size_t> ReadIdentity(std::span<std::byte> out) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(out.size(), remaining_));
    size_t n = TakeBuffered(out.first(want));
    // Return once half the buffer is filled (or the body ends), so the caller is not woken per
    // TCP segment yet never waits long for a full buffer.
    const size_t at_least = std::min(want, std::max<size_t>(1, out.size() / 2));
    const int fd = s_.stream_.socket().native_handle();
    while (n < at_least) {
      ssize_t r = ::recv(fd, out.data() + n, want - n, MSG_DONTWAIT);
      if (r > 0) {
        n += static_cast<size_t>(r);
        rate_.Add(static_cast<uint64_t>(r));
        continue;
      }
      if (r == 0) return Fail(CancelledError("Client closed the connection before sending "
                                             "the whole body"));
      const int err = LastErrno();
      if (err == EINTR) continue;
      if (err != EAGAIN && err != EWOULDBLOCK) {
        return Fail(CancelledError(std::string("Error reading request body: ") +
                                   std::strerror(err)));
      }
      if (n > 0 && n >= want / 8) break;  // some progress: hand it over
      auto deadline = rate_.Deadline();
      if (!deadline) return Fail(TooSlow());
      bool readable = s_.OnStrand<bool>([this, d = *deadline]() {
        return s_.WaitFor(tcp::socket::wait_read, d);
      });
      if (!readable && !rate_.Deadline()) return Fail(TooSlow());
    }
    remaining_ -= n;
    if (remaining_ == 0) done_ = true;
    return n;
  }

  StatusOr<size_t> ReadChunkedFromFiber(std::span<std::byte> out) {
    auto [ec, n] = s_.OnStrand<std::pair<error_code, size_t>>(
        [this, out]() { return ReadChunked(out); });
    if (ec) {
      if (ec == beast::error::timeout) return Fail(TooSlow());
      if (ClientGone(ec)) {
        return Fail(CancelledError("Client closed the connection before sending the whole body"));
      }
      if (ec == bhttp::error::buffer_overflow) {
        return Fail(InvalidArgumentError("Chunk extension or trailer too large"));
      }
      return Fail(InvalidArgumentError("Malformed request body: " + ec.message()));
    }
    return n;
  }

  // On the strand (draining after the handler answered).
  net::awaitable<std::pair<error_code, size_t>> ReadIdentityOnStrand(std::span<std::byte> out) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(out.size(), remaining_));
    size_t n = TakeBuffered(out.first(want));
    if (n < want) {
      auto deadline = rate_.Deadline();
      if (!deadline) co_return std::pair{error_code(beast::error::timeout), n};
      s_.stream_.expires_at(*deadline);
      auto [ec, got] = co_await s_.stream_.async_read_some(
          net::buffer(out.data() + n, want - n), kAwait);
      n += got;
      rate_.Add(got);
      if (ec) {
        remaining_ -= n;
        co_return std::pair{ec, n};
      }
    }
    remaining_ -= n;
    if (remaining_ == 0) done_ = true;
    co_return std::pair{error_code{}, n};
  }

  net::awaitable<std::pair<error_code, size_t>> ReadChunked(std::span<std::byte> out) {
    auto& body = parser_.get().body();
    size_t n = 0;
    // Fill at least half the caller's buffer per hand-off (chunk framing would otherwise make
    // every TCP read a separate wake-up of the handler).
    const size_t min_fill = std::max<size_t>(1, out.size() / 2);
    while (n < min_fill && !parser_.is_done()) {
      body.data = out.data() + n;
      body.size = out.size() - n;
      auto deadline = rate_.Deadline();
      if (!deadline) co_return std::pair{error_code(beast::error::timeout), n};
      s_.stream_.expires_at(*deadline);
      auto [ec, read] = co_await bhttp::async_read_some(s_.stream_, s_.buffer_, parser_, kAwait);
      rate_.Add(read);
      n = out.size() - body.size;
      if (ec == bhttp::error::need_buffer) ec = {};
      if (n == out.size()) break;
      if (ec) {
        failed_ = true;
        done_ = true;
        co_return std::pair{ec, n};
      }
    }
    if (parser_.is_done()) done_ = true;
    co_return std::pair{error_code{}, n};
  }

  Session& s_;
  Parser& parser_;
  bool expect_continue_;
  RateGuard rate_;
  bool chunked_ = false;
  std::optional<uint64_t> content_length_;
  uint64_t remaining_ = 0;
  bool done_ = false;
  bool failed_ = false;
};

net::awaitable<bool> Server::Impl::Session::WaitFor(tcp::socket::wait_type what,
                                                    Clock::time_point deadline) {
  net::steady_timer timer(strand_);
  timer.expires_at(deadline);
  auto result = co_await (stream_.socket().async_wait(what, kAwait) || timer.async_wait(kAwait));
  co_return result.index() == 0;
}

net::awaitable<error_code> Server::Impl::Session::ReadHeader(Parser& parser, bool& got_bytes) {
  const auto& o = server_.options_;
  got_bytes = buffer_.size() > 0;
  if (!got_bytes) {
    // Idle keep-alive (or a new connection): wait for the first byte with the idle timeout,
    // holding no buffer beyond what this read needs.
    buffer_.shrink_to_fit();
    stream_.expires_after(o.idle_timeout);
    auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(1024), kAwait);
    buffer_.commit(n);
    if (ec) co_return ec;
    got_bytes = true;
  }
  // The rest of the header within header_timeout. Not through the stream's own expiry, which
  // closes the socket: the client gets a 408 first.
  struct Watch {
    bool done = false;
    bool fired = false;
  };
  auto watch = std::make_shared<Watch>();
  net::steady_timer timer(strand_);
  timer.expires_after(o.header_timeout);
  timer.async_wait([weak = weak_from_this(), watch](error_code e) {
    auto self = weak.lock();
    if (e || watch->done || !self) return;
    watch->fired = true;
    error_code ignored;
    self->stream_.socket().cancel(ignored);
  });
  stream_.expires_never();
  auto [ec, n] = co_await bhttp::async_read_header(stream_, buffer_, parser, kAwait);
  watch->done = true;
  timer.cancel();
  if (watch->fired) co_return error_code(beast::error::timeout);
  co_return ec;
}

// Limits Beast does not apply itself: request line, one header line, number of fields, and the
// transfer codings we accept. Returns the status and message to answer with, if any.
std::optional<std::pair<int, std::string>> Server::Impl::Session::CheckHeader(
    const Parser& parser) const {
  const auto& o = server_.options_;
  const auto& msg = parser.get();
  if (msg.method_string().size() + msg.target().size() + 10 > o.max_request_line) {
    return std::pair{414, std::string("Request line too long")};
  }
  size_t count = 0;
  for (const auto& f : msg) {
    if (++count > o.max_header_count) {
      return std::pair{431, "More than " + std::to_string(o.max_header_count) + " header fields"};
    }
    if (f.name_string().size() + f.value().size() + 4 > o.max_header_line) {
      return std::pair{431, "Header line too long"};
    }
  }
  if (msg.find(bhttp::field::transfer_encoding) != msg.end()) {
    if (msg.find(bhttp::field::content_length) != msg.end()) {
      return std::pair{400, std::string("Content-Length with Transfer-Encoding")};
    }
    if (!parser.chunked()) {
      return std::pair{501, std::string("Only the chunked transfer coding is supported")};
    }
  }
  return std::nullopt;
}

net::awaitable<void> Server::Impl::Session::Run() {
  auto self = shared_from_this();
  server_.Register(this);
  const auto& o = server_.options_;
  // Chunk extensions are never used by image clients; a long one is an attack on memory.
  auto on_chunk = [limit = o.max_chunk_extension](std::uint64_t, beast::string_view ext,
                                                  error_code& ec) {
    if (ext.size() > limit) ec = bhttp::error::bad_chunk_extension;
  };
  for (;;) {
    if (server_.draining_) break;
    Parser parser;
    parser.header_limit(static_cast<std::uint32_t>(o.max_header_bytes));
    parser.body_limit(boost::none);  // the handlers enforce their own limits while streaming
    parser.on_chunk_header(on_chunk);
    idle_ = true;
    bool got_bytes = false;
    error_code ec = co_await ReadHeader(parser, got_bytes);
    idle_ = false;
    if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
      // A request line alone over the limit is a 414, as eventlet answers.
      auto data = buffer_.data();
      std::string_view seen(static_cast<const char*>(data.data()), data.size());
      // (Beast consumes the request line once it has parsed it.)
      bool line_too_long = parser.get().target().empty() &&
                           (seen.find("\r\n") == std::string_view::npos ||
                            seen.find("\r\n") > o.max_request_line);
      co_await WriteSimple(line_too_long ? 414 : 431,
                           line_too_long ? "Request line too long"
                                         : "Request header fields too large",
                           "req-" + platform::NewUuid4());
      break;
    }
    if (ec == beast::error::timeout && got_bytes) {
      co_await WriteSimple(408, "The request header was not received in time",
                           "req-" + platform::NewUuid4());
      break;
    }
    if (ec == beast::error::timeout || ClientGone(ec)) break;
    if (ec) {
      co_await WriteSimple(400, "Malformed HTTP request: " + ec.message(),
                           "req-" + platform::NewUuid4());
      break;
    }
    if (auto refused = CheckHeader(parser)) {
      co_await WriteSimple(refused->first, refused->second, RequestIdFor(parser.get()));
      break;
    }
    bool keep = co_await HandleOne(parser);
    if (!keep) break;
  }
  error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.socket().close(ignored);
  server_.Unregister(this);
}

net::awaitable<void> Server::Impl::Session::WriteSimple(int status, std::string body,
                                                        const std::string& request_id) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), 11};
  res.set(bhttp::field::content_type, "text/plain; charset=UTF-8");
  res.set("x-openstack-request-id", request_id);
  res.set(bhttp::field::connection, "close");
  res.body() = std::to_string(status) + " " + std::string(Reason(status)) + "\n\n" + body + "\n";
  res.prepare_payload();
  stream_.expires_after(server_.options_.body_timeout);
  co_await bhttp::async_write(stream_, res, kAwait);
  if (server_.options_.access_log) {
    spdlog::info("{} \"- -\" {} 0 0.0ms {}", remote_, status, request_id);
  }
}

net::awaitable<bool> Server::Impl::Session::HandleOne(Parser& parser) {
  auto start = Clock::now();
  auto& msg = parser.get();
  Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  req.remote_address = remote_;
  req.request_id = RequestIdFor(msg);
  for (const auto& f : msg) {
    req.headers.Add(std::string(f.name_string()), std::string(f.value()));
  }
  req.host = std::string(msg[bhttp::field::host]);
  if (req.host.empty()) {
    req.host = server_.options_.host + ":" + std::to_string(server_.port_);
  }
  bool bad_target = false;
  auto parsed = boost::urls::parse_origin_form(req.target);
  if (!parsed) {
    bad_target = true;
  } else {
    const auto& u = *parsed;
    req.path = std::string(u.path());
    for (auto seg : u.segments()) req.segments.emplace_back(seg);
    req.raw_query = std::string(u.encoded_query());
    for (auto p : u.params()) req.query.emplace_back(std::string(p.key), std::string(p.value));
  }
  bool head = msg.method() == bhttp::verb::head;
  bool expect_continue = beast::iequals(msg[bhttp::field::expect], "100-continue");
  Body body(*this, parser, expect_continue);
  req.body = &body;

  Response response;
  std::optional<Response> inline_response;
  error_code ec;
  if (!bad_target && server_.options_.inline_handler && !body.MayHaveBody()) {
    inline_response = server_.options_.inline_handler(req);
  }
  if (bad_target) {
    response.status = 400;
    response.headers.Set("Content-Type", "text/plain; charset=UTF-8");
    response.body = "400 Bad Request\n\nInvalid request target\n";
  } else if (inline_response) {
    response = std::move(*inline_response);
  } else {
    if (body.Prefetchable()) {
      ec = co_await body.Prefetch();
      if (ec == beast::error::timeout) {
        co_await WriteSimple(408, "The request body arrived too slowly", req.request_id);
      }
      if (ec) co_return false;  // client gone, too slow or failed: the connection ends
    }
    Handler& handler = server_.handler_;
    const bool keep_alive_wanted = msg.keep_alive() && server_.options_.keep_alive;
    auto handled = co_await RunVia<std::shared_ptr<Handled>>(
        [this](std::function<void()> job) { server_.SpawnOnFiber(std::move(job)); },
        [this, &handler, &req, &body, head, keep_alive_wanted]() {
          auto h = std::make_shared<Handled>();
          try {
            h->response = handler(req);
          } catch (const std::exception& e) {
            spdlog::error("handler threw: {}", e.what());
            h->response = Response{};
            h->response.status = 500;
            h->response.body = "Internal Server Error";
          }
          if (body.done() && !body.failed()) {
            WriteFromFiber(*h, req, head, keep_alive_wanted && !server_.draining_);
          }
          return h;
        });
    if (handled->wire) {
      // Already (at least partly) on the wire: finish it here.
      response = std::move(handled->response);
      uint64_t body_bytes = head || !HasBody(response.status) ? 0 : response.body.size();
      if (handled->send_errno != 0) {
        ec = error_code(handled->send_errno, boost::system::system_category());
      } else if (handled->wire_sent < handled->wire->size()) {
        stream_.expires_after(server_.options_.body_timeout);
        auto [wec, wn] = co_await net::async_write(
            stream_, net::buffer(handled->wire->data() + handled->wire_sent,
                                 handled->wire->size() - handled->wire_sent),
            kAwait);
        ec = wec;
      }
      uint64_t bytes_sent = ec ? 0 : body_bytes;
      if (response.on_complete) response.on_complete(!ec);
      if (server_.options_.access_log) {
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        spdlog::info("{} \"{} {}\" {} {} {:.1f}ms {}", remote_, req.method, req.target,
                     response.status, bytes_sent, ms, req.request_id);
      }
      co_return !ec && handled->keep_alive;
    }
    response = std::move(handled->response);
  }

  // Decide whether the connection can carry another request.
  bool keep_alive = msg.keep_alive() && server_.options_.keep_alive && !server_.draining_;
  if (!body.done()) {
    if (body.failed() || body.remaining() > kMaxDrainBytes) {
      keep_alive = false;
    } else if (!co_await body.Drain(kMaxDrainBytes)) {
      keep_alive = false;
    }
  } else if (body.failed()) {
    keep_alive = false;
  }
  if (!response.headers.Has("x-openstack-request-id")) {
    response.headers.Set("x-openstack-request-id", req.request_id);
  }
  uint64_t bytes_sent = 0;
  ec = co_await WriteResponse(response, head, keep_alive, bytes_sent);
  if (response.on_complete) response.on_complete(!ec);
  if (server_.options_.access_log) {
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    spdlog::info("{} \"{} {}\" {} {} {:.1f}ms {}", remote_, req.method, req.target,
                 response.status, bytes_sent, ms, req.request_id);
  }
  if (ec) co_return false;
  if (!keep_alive && !body.done()) {
    // Let the client read the response before we close on its unsent body: half-close and
    // discard what is still in flight for a short while, so it does not see a reset.
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    char sink[16384];
    stream_.expires_after(std::chrono::seconds(2));
    for (;;) {
      auto [rec, rn] = co_await stream_.async_read_some(net::buffer(sink), kAwait);
      if (rec) break;
    }
  }
  co_return keep_alive;
}

// sendfile(2) of a file-backed response. The calls run on the pool (a file not in the page cache
// blocks on the disk) until the socket is full; waiting for the client to read happens here on
// the io side, so a reader that does not read holds no thread.
net::awaitable<error_code> Server::Impl::Session::SendFile(const BodySource::FileRange& range,
                                                           uint64_t& bytes_sent) {
  struct Hop {
    int64_t sent = 0;
    int err = 0;
    bool would_block = false;
  };
  const int sock = stream_.socket().native_handle();
  off_t offset = range.offset;
  int64_t left = range.length;
  while (left > 0) {
    Hop hop = co_await RunVia<Hop>(
        [this](std::function<void()> job) { server_.PostToStreamPool(std::move(job)); },
        [sock, fd = range.fd, &offset, left]() {
          Hop h;
          while (h.sent < left && h.sent < kSendfileHop) {
            ssize_t n = ::sendfile(sock, fd, &offset,
                                   static_cast<size_t>(std::min<int64_t>(left - h.sent,
                                                                         kSendfileChunk)));
            if (n > 0) {
              h.sent += n;
              continue;
            }
            if (n == 0) {
              h.err = EIO;  // the file shrank
              break;
            }
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
              h.would_block = true;
            } else {
              h.err = errno;
            }
            break;
          }
          return h;
        });
    left -= hop.sent;
    bytes_sent += static_cast<uint64_t>(hop.sent);
    if (hop.err != 0) co_return error_code(hop.err, boost::system::system_category());
    if (hop.would_block &&
        !co_await WaitFor(tcp::socket::wait_write, Clock::now() + server_.options_.body_timeout)) {
      co_return error_code(beast::error::timeout);
    }
  }
  co_return error_code{};
}

void Server::Impl::Session::WriteFromFiber(Handled& h, const Request& req, bool head,
                                           bool keep_alive) {
  if (!h.response.headers.Has("x-openstack-request-id")) {
    h.response.headers.Set("x-openstack-request-id", req.request_id);
  }
  h.wire = SmallWire(h.response, head, keep_alive);
  if (!h.wire) return;
  h.keep_alive = keep_alive;
  const int sock = stream_.socket().native_handle();
  while (h.wire_sent < h.wire->size()) {
    ssize_t n = ::send(sock, h.wire->data() + h.wire_sent, h.wire->size() - h.wire_sent,
                       MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      h.wire_sent += static_cast<size_t>(n);
      continue;
    }
    const int err = LastErrno();
    if (n < 0 && err == EINTR) continue;
    if (n < 0 && err != EAGAIN && err != EWOULDBLOCK) h.send_errno = err;
    break;  // the rest (if any) is written by the io side
  }
}

net::awaitable<error_code> Server::Impl::Session::WriteResponse(Response& response, bool head,
                                                                bool keep_alive,
                                                                uint64_t& bytes_sent) {
  if (auto wire = SmallWire(response, head, keep_alive)) {
    stream_.expires_after(server_.options_.body_timeout);
    auto [wec, wn] = co_await net::async_write(stream_, net::buffer(*wire), kAwait);
    if (!wec && !head && HasBody(response.status)) bytes_sent += response.body.size();
    co_return wec;
  }
  auto res = HeaderOf(response, keep_alive);
  const bool has_body = HasBody(response.status);
  const bool chunked = response.stream && !response.stream_length;
  stream_.expires_after(server_.options_.body_timeout);
  bhttp::response_serializer<bhttp::empty_body> sr(res);
  auto [ec, n] = co_await bhttp::async_write_header(stream_, sr, kAwait);
  if (ec) co_return ec;
  if (head || !has_body) co_return error_code{};

  if (!response.stream) {
    if (response.body.empty()) co_return error_code{};
    stream_.expires_after(server_.options_.body_timeout);
    auto [wec, wn] = co_await net::async_write(stream_, net::buffer(response.body), kAwait);
    bytes_sent += wn;
    co_return wec;
  }
  if (auto range = response.stream->file(); range && !chunked) {
    co_return co_await SendFile(*range, bytes_sent);
  }
  // Generic streamed body: reads run on the pool (a store read may block on the network or the
  // disk), writes wait for the client here.
  std::vector<std::byte> buf(kStreamChunk);
  uint64_t limit = response.stream_length.value_or(UINT64_MAX);
  BodySource& source = *response.stream;
  for (;;) {
    auto read = co_await RunVia<StatusOr<size_t>>(
        [this](std::function<void()> job) { server_.PostToStreamPool(std::move(job)); },
        [&source, &buf]() { return source.Read(std::span(buf.data(), buf.size())); });
    if (!read.ok()) {
      spdlog::warn("response stream failed: {}", read.status().ToString());
      co_return net::error::make_error_code(net::error::connection_aborted);
    }
    size_t got = *read;
    if (got > limit - bytes_sent) got = static_cast<size_t>(limit - bytes_sent);
    stream_.expires_after(server_.options_.body_timeout);
    if (got == 0) {
      if (chunked) {
        auto [cec, cn] = co_await net::async_write(stream_, bhttp::make_chunk_last(), kAwait);
        co_return cec;
      }
      if (bytes_sent != limit) {
        co_return net::error::make_error_code(net::error::connection_aborted);
      }
      co_return error_code{};
    }
    error_code wec;
    if (chunked) {
      auto [e, wn] = co_await net::async_write(
          stream_, bhttp::make_chunk(net::buffer(buf.data(), got)), kAwait);
      wec = e;
    } else {
      auto [e, wn] = co_await net::async_write(stream_, net::buffer(buf.data(), got), kAwait);
      wec = e;
    }
    if (wec) co_return wec;
    bytes_sent += got;
  }
}

Status Server::Impl::Start() {
  // Every connection is a descriptor: make sure the cap can be reached before files run out.
  const uint64_t wanted = options_.max_connections + kReservedDescriptors;
  const uint64_t limit = platform::RaiseOpenFilesLimit(wanted);
  if (limit < wanted) {
    size_t cap = limit > kReservedDescriptors + 64 ? limit - kReservedDescriptors : 64;
    spdlog::warn("open-files limit is {} (needed {} for max_connections = {}): accepting at "
                 "most {} connections",
                 limit, wanted, options_.max_connections, cap);
    options_.max_connections = cap;
  }
  error_code ec;
  auto address = net::ip::make_address(options_.host, ec);
  if (ec) return InvalidArgumentError("Invalid listen address '" + options_.host + "'");
  tcp::endpoint ep(address, options_.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(std::max(1, options_.backlog), ec);
  if (ec) {
    return UnavailableError("Cannot listen on " + options_.host + ":" +
                            std::to_string(options_.port) + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  net::co_spawn(ioc_, Accept(), net::detached);
  for (int i = 0; i < std::max(1, options_.io_threads); ++i) {
    io_threads_.push_back(platform::StartThread("http-io-" + std::to_string(i), [this] {
      ioc_.run();
    }));
  }
  return OkStatus();
}

// Over the connection cap: a short, clear answer written without waiting (a client that does not
// read it loses it), then close.
void Server::Impl::Refuse(tcp::socket& socket) {
  refused_.fetch_add(1);
  static constexpr std::string_view kBusy =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=UTF-8\r\n"
      "Content-Length: 52\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
      "503 Service Unavailable\n\nToo many open connections\n";
  (void)::send(socket.native_handle(), kBusy.data(), kBusy.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

net::awaitable<void> Server::Impl::Accept() {
  auto backoff = kAcceptBackoffMin;
  auto last_log = Clock::time_point{};
  uint64_t unlogged = 0;
  net::steady_timer pause(ioc_);
  for (;;) {
    auto strand = net::make_strand(ioc_);
    tcp::socket socket(strand);
    auto [ec] = co_await acceptor_.async_accept(socket, kAwait);
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) co_return;
      // EMFILE, ENFILE, ENOBUFS...: the pending connection stays in the backlog, so retrying at
      // once would spin. Back off, and log at most every 10 s.
      accept_errors_.fetch_add(1);
      ++unlogged;
      if (Clock::now() - last_log > std::chrono::seconds(10)) {
        spdlog::warn("accept failed: {} ({} times since the last report); backing off",
                     ec.message(), unlogged);
        last_log = Clock::now();
        unlogged = 0;
      }
      pause.expires_after(backoff);
      co_await pause.async_wait(kAwait);
      backoff = std::min(backoff * 2, kAcceptBackoffMax);
      continue;
    }
    backoff = kAcceptBackoffMin;
    if (open_.load() >= options_.max_connections || draining_) {
      Refuse(socket);
      continue;
    }
    open_.fetch_add(1);
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto session = std::make_shared<Session>(*this, std::move(socket));
    net::co_spawn(strand, session->Run(), net::detached);
  }
}

void Server::Impl::Shutdown(std::chrono::milliseconds grace) {
  if (stopped_) return;
  stopped_ = true;
  draining_ = true;
  if (acceptor_.is_open()) {
    std::promise<void> closed;
    net::post(ioc_, [this, &closed] {
      error_code ignored;
      acceptor_.close(ignored);
      closed.set_value();
    });
    if (!io_threads_.empty()) closed.get_future().wait();
  }
  auto close_all = [this](bool force) {
    std::lock_guard lock(mu_);
    for (auto* s : sessions_) s->Close(force);
  };
  close_all(false);
  {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, grace, [this] { return sessions_.empty(); });
  }
  close_all(true);
  {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [this] { return sessions_.empty(); });
  }
  // Let what is still queued (cancelled timers of the last sessions) run out, so no handler that
  // holds a strand is destroyed with the io_context; then stop whatever is left.
  for (int i = 0; i < 200 && !ioc_.stopped() && !io_threads_.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ioc_.stop();
  for (auto& t : io_threads_) t.join();
  io_threads_.clear();
}

Server::Server(ServerOptions options, Handler handler, platform::Executor& handlers,
               platform::Executor* streams)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), handlers, streams)) {}
Server::~Server() = default;
Status Server::Start() { return impl_->Start(); }
uint16_t Server::port() const { return impl_->port(); }
ServerStats Server::stats() const { return impl_->stats(); }
void Server::Shutdown(std::chrono::milliseconds grace) { impl_->Shutdown(grace); }

}  // namespace glimmer::http
