#include "http/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "platform/fiber.h"

namespace glimmer::http {
namespace {

// A raw TCP client, so the tests see exactly the bytes on the wire.
class Client {
 public:
  explicit Client(uint16_t port, int rcvbuf = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Client() { ::close(fd_); }
  void Send(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }
  // Reads one response: headers, then Content-Length bytes or a chunked body.
  std::string ReadResponse(std::string* body_out = nullptr) {
    while (buf_.find("\r\n\r\n") == std::string::npos) {
      if (!Fill()) return buf_;
    }
    size_t hend = buf_.find("\r\n\r\n") + 4;
    std::string head = buf_.substr(0, hend);
    buf_.erase(0, hend);
    std::string lower = head;
    for (auto& c : lower) c = static_cast<char>(std::tolower(c));
    std::string body;
    auto cl = lower.find("content-length: ");
    if (lower.find("transfer-encoding: chunked") != std::string::npos) {
      for (;;) {
        while (buf_.find("\r\n") == std::string::npos) Fill();
        size_t eol = buf_.find("\r\n");
        size_t len = std::stoul(buf_.substr(0, eol), nullptr, 16);
        buf_.erase(0, eol + 2);
        while (buf_.size() < len + 2) Fill();
        body += buf_.substr(0, len);
        buf_.erase(0, len + 2);
        if (len == 0) break;
      }
    } else if (cl != std::string::npos && head.rfind("HTTP/1.1 204", 0) != 0 &&
               head.find("HEAD-REQUEST") == std::string::npos) {
      size_t len = std::stoul(lower.substr(cl + 16));
      while (buf_.size() < len) {
        if (!Fill()) break;
      }
      body = buf_.substr(0, len);
      buf_.erase(0, std::min(len, buf_.size()));
    }
    if (body_out) *body_out = body;
    return head;
  }
  bool Closed() {
    char c;
    ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0;
  }

 private:
  bool Fill() {
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
  int fd_;
  std::string buf_;
};

class StringSource final : public BodySource {
 public:
  explicit StringSource(std::string s) : s_(std::move(s)) {}
  StatusOr<size_t> Read(std::span<std::byte> out) override {
    size_t n = std::min(out.size(), std::min<size_t>(s_.size() - pos_, 3));  // tiny reads
    std::memcpy(out.data(), s_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string s_;
  size_t pos_ = 0;
};

class FileSource final : public BodySource {
 public:
  FileSource(int fd, int64_t off, int64_t len) : fd_(fd), off_(off), len_(len) {}
  ~FileSource() override { ::close(fd_); }
  std::optional<FileRange> file() const override { return FileRange{fd_, off_, len_}; }
  StatusOr<size_t> Read(std::span<std::byte>) override { return InternalError("unused"); }

 private:
  int fd_;
  int64_t off_, len_;
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.port = 0;
    o.max_header_bytes = 4096;
    o.access_log = false;
    server_ = std::make_unique<Server>(o, [this](Request& r) { return Handle(r); }, pool_);
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override { server_->Shutdown(std::chrono::milliseconds(1000)); }

  Response Handle(Request& r) {
    Response res;
    if (r.path == "/echo") {
      auto body = ReadAll(*r.body, 100 << 20);
      if (!body.ok()) {
        res.status = 400;
        res.body = body.status().ToString();
        return res;
      }
      res.body = "len=" + std::to_string(body->size()) + ";first=" + body->substr(0, 5);
      return res;
    }
    if (r.path == "/stream") {
      res.stream = std::make_unique<StringSource>("hello streamed world");
      if (r.QueryValue("len")) res.stream_length = 20;
      return res;
    }
    if (r.path == "/file") {
      char path[] = "/tmp/glimmer-http-test-XXXXXX";
      int fd = mkstemp(path);
      std::string data = "0123456789abcdefghij";
      EXPECT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
      ::unlink(path);
      res.stream = std::make_unique<FileSource>(fd, 5, 10);
      res.stream_length = 10;
      return res;
    }
    if (r.path == "/ignore-body") {
      res.status = 415;
      res.body = "no thanks";
      return res;
    }
    res.body = "path=" + r.path + ";segs=" + std::to_string(r.segments.size()) +
               ";q=" + std::string(r.QueryValue("a").value_or("-")) + ";id=" + r.request_id;
    return res;
  }

  platform::Executor pool_{"test-handlers", 4};
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, KeepAliveAndQueryDecoding) {
  Client c(server_->port());
  c.Send("GET /x/a%2Fb?a=1%202&a=3 HTTP/1.1\r\nHost: h\r\n\r\n");
  std::string body;
  std::string head = c.ReadResponse(&body);
  EXPECT_NE(head.find("HTTP/1.1 200"), std::string::npos) << head;
  EXPECT_NE(body.find("segs=2;q=1 2"), std::string::npos) << body;
  EXPECT_NE(head.find("x-openstack-request-id: req-"), std::string::npos) << head;
  c.Send("GET /again HTTP/1.1\r\nHost: h\r\nX-Openstack-Request-ID: abc\r\n\r\n");
  head = c.ReadResponse(&body);
  EXPECT_NE(body.find("id=req-abc"), std::string::npos) << body;
  EXPECT_NE(head.find("x-openstack-request-id: req-abc"), std::string::npos) << head;
}

TEST_F(ServerTest, ContentLengthAndChunkedBodies) {
  Client c(server_->port());
  std::string big(3 << 20, 'z');
  big.replace(0, 5, "HELLO");
  c.Send("PUT /echo HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(big.size()) +
         "\r\n\r\n" + big);
  std::string body;
  c.ReadResponse(&body);
  EXPECT_EQ(body, "len=3145728;first=HELLO");
  c.Send("PUT /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
         "5\r\nABCDE\r\n3\r\nfgh\r\n0\r\n\r\n");
  c.ReadResponse(&body);
  EXPECT_EQ(body, "len=8;first=ABCDE");
}

TEST_F(ServerTest, ExpectContinue) {
  Client c(server_->port());
  c.Send("PUT /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  std::string head = c.ReadResponse();
  EXPECT_NE(head.find("100 Continue"), std::string::npos) << head;
  c.Send("wxyz");
  std::string body;
  c.ReadResponse(&body);
  EXPECT_EQ(body, "len=4;first=wxyz");
}

TEST_F(ServerTest, UnreadSmallBodyIsDrainedAndConnectionKept) {
  Client c(server_->port());
  c.Send("PUT /ignore-body HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789");
  std::string head = c.ReadResponse();
  EXPECT_NE(head.find("415"), std::string::npos);
  EXPECT_EQ(head.find("Connection: close"), std::string::npos) << head;
  c.Send("GET /ok HTTP/1.1\r\nHost: h\r\n\r\n");
  head = c.ReadResponse();
  EXPECT_NE(head.find("200"), std::string::npos);
}

TEST_F(ServerTest, UnreadLargeBodyClosesConnection) {
  Client c(server_->port());
  c.Send("PUT /ignore-body HTTP/1.1\r\nHost: h\r\nContent-Length: 100000000\r\n\r\nabc");
  std::string head = c.ReadResponse();
  EXPECT_NE(head.find("415"), std::string::npos);
  EXPECT_NE(head.find("Connection: close"), std::string::npos) << head;
}

TEST_F(ServerTest, StreamedResponses) {
  Client c(server_->port());
  std::string body;
  c.Send("GET /stream HTTP/1.1\r\nHost: h\r\n\r\n");
  std::string head = c.ReadResponse(&body);
  EXPECT_NE(head.find("chunked"), std::string::npos) << head;
  EXPECT_EQ(body, "hello streamed world");
  c.Send("GET /stream?len=1 HTTP/1.1\r\nHost: h\r\n\r\n");
  head = c.ReadResponse(&body);
  EXPECT_NE(head.find("Content-Length: 20"), std::string::npos) << head;
  EXPECT_EQ(body, "hello streamed world");
  c.Send("GET /file HTTP/1.1\r\nHost: h\r\n\r\n");
  head = c.ReadResponse(&body);
  EXPECT_EQ(body, "56789abcde");
}

TEST_F(ServerTest, HeaderLimit) {
  Client c(server_->port());
  c.Send("GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n");
  std::string head = c.ReadResponse();
  EXPECT_NE(head.find("431"), std::string::npos) << head;
}

TEST_F(ServerTest, MalformedRequest) {
  Client c(server_->port());
  c.Send("GARBAGE\r\n\r\n");
  std::string head = c.ReadResponse();
  EXPECT_NE(head.find("400"), std::string::npos) << head;
}

TEST_F(ServerTest, TruncatedBodyFailsRead) {
  {
    Client c(server_->port());
    c.Send("PUT /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\nabc");
  }  // closes mid-body; the handler must see an error, and the server must survive
  Client c2(server_->port());
  c2.Send("GET /ok HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_NE(c2.ReadResponse().find("200"), std::string::npos);
}


// The limits and the thread model, on a server with ONE worker thread: whatever clients do while
// waiting, that thread must stay free for others.
class LimitsTest : public ::testing::Test {
 protected:
  void Start(ServerOptions o) {
    o.port = 0;
    o.access_log = false;
    o.inline_handler = [](const Request& r) -> std::optional<Response> {
      if (r.path != "/health") return std::nullopt;
      Response res;
      res.body = "OK";
      return res;
    };
    server_ = std::make_unique<Server>(o, [this](Request& r) { return Handle(r); }, pool_);
    ASSERT_TRUE(server_->Start().ok());
  }
  void Release() { std::call_once(released_once_, [this] { release_.set_value(); }); }
  void TearDown() override {
    Release();
    if (server_) server_->Shutdown(std::chrono::milliseconds(1000));
  }
  Response Handle(Request& r) {
    Response res;
    if (r.path == "/echo") {
      auto body = ReadAll(*r.body, 100 << 20);
      if (!body.ok()) {
        last_error_ = body.status().code();
        res.status = body.status().code() == StatusCode::kDeadlineExceeded ? 408 : 400;
        res.body = body.status().ToString();
        return res;
      }
      res.body = "len=" + std::to_string(body->size());
      return res;
    }
    if (r.path == "/big") {
      char path[] = "/tmp/glimmer-http-test-XXXXXX";
      int fd = mkstemp(path);
      ::unlink(path);
      EXPECT_EQ(::ftruncate(fd, 64 << 20), 0);  // sparse 64 MiB
      res.stream = std::make_unique<FileSource>(fd, 0, 64 << 20);
      res.stream_length = 64 << 20;
      return res;
    }
    if (r.path == "/block") {
      released_.wait();  // holds the only worker (a handler doing real work)
      return res;
    }
    res.body = "ok";
    return res;
  }
  // A fresh client's GET /ok, answered within `within`.
  bool Responsive(std::chrono::milliseconds within = std::chrono::milliseconds(3000)) {
    auto f = std::async(std::launch::async, [this] {
      Client c(server_->port());
      c.Send("GET /ok HTTP/1.1\r\nHost: h\r\n\r\n");
      return c.ReadResponse();
    });
    if (f.wait_for(within) != std::future_status::ready) return false;
    return f.get().find("200") != std::string::npos;
  }

  platform::Executor pool_{"test-one-worker", 1};
  std::unique_ptr<Server> server_;
  std::promise<void> release_;
  std::once_flag released_once_;
  std::shared_future<void> released_ = release_.get_future().share();
  std::atomic<StatusCode> last_error_{StatusCode::kOk};
};

TEST_F(LimitsTest, SlowRequestBodiesHoldNoWorker) {
  Start({});
  std::vector<std::unique_ptr<Client>> slow;
  for (int i = 0; i < 40; ++i) {
    slow.push_back(std::make_unique<Client>(server_->port()));
    slow.back()->Send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n{");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(Responsive());
  // The slow ones are still being served: finishing their bodies completes them.
  slow[0]->Send(std::string(99, ' '));
  std::string body;
  slow[0]->ReadResponse(&body);
  EXPECT_EQ(body, "len=100");
}

TEST_F(LimitsTest, SmallBodiesAreReadBeforeTheirHandlerRuns) {
  Start({});
  std::vector<std::unique_ptr<Client>> slow;
  for (int i = 0; i < 40; ++i) {
    slow.push_back(std::make_unique<Client>(server_->port()));
    slow.back()->Send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n{");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Trickled JSON-sized bodies wait on the network side: no handler (fiber) exists for them.
  EXPECT_EQ(platform::LiveFibers(), 0u);
  EXPECT_TRUE(Responsive());
  // A body too large to be read ahead goes to its handler, which waits for it on a fiber.
  Client big(server_->port());
  big.Send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\nx");
  for (int i = 0; i < 50 && platform::LiveFibers() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(platform::LiveFibers(), 1u);
  // The read-ahead bodies reach their handler whole once they are complete.
  slow[0]->Send(std::string(99, ' '));
  std::string body;
  slow[0]->ReadResponse(&body);
  EXPECT_EQ(body, "len=100");
}

TEST_F(LimitsTest, SmallBodyBelowMinimumRateIsCutBeforeItsHandler) {
  ServerOptions o;
  o.min_body_rate = 1000;
  o.min_body_rate_window = std::chrono::seconds(1);
  Start(o);
  Client c(server_->port());
  c.Send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\nx");
  auto started = std::chrono::steady_clock::now();
  std::string head = c.ReadResponse();
  EXPECT_NE(head.find("408"), std::string::npos) << head;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(last_error_.load(), StatusCode::kOk);  // the handler never ran
  EXPECT_TRUE(Responsive());
}

TEST_F(LimitsTest, ChunkedSlowBodiesHoldNoWorker) {
  Start({});
  std::vector<std::unique_ptr<Client>> slow;
  for (int i = 0; i < 20; ++i) {
    slow.push_back(std::make_unique<Client>(server_->port()));
    slow.back()->Send("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(Responsive());
}

TEST_F(LimitsTest, ClientsThatDoNotReadDownloadsHoldNoWorker) {
  Start({});
  std::vector<std::unique_ptr<Client>> stuck;
  for (int i = 0; i < 8; ++i) {
    stuck.push_back(std::make_unique<Client>(server_->port(), 4096));
    stuck.back()->Send("GET /big HTTP/1.1\r\nHost: h\r\n\r\n");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(Responsive());
}

TEST_F(LimitsTest, InlineHandlerAnswersWhileEveryWorkerIsBusy) {
  Start({});
  Client busy(server_->port());
  busy.Send("GET /block HTTP/1.1\r\nHost: h\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto queued = std::async(std::launch::async, [this] { return Responsive(); });
  // The only worker is taken: an ordinary request waits...
  EXPECT_EQ(queued.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  // ...while the health check is answered at once.
  Client c(server_->port());
  c.Send("GET /health HTTP/1.1\r\nHost: h\r\n\r\n");
  std::string body;
  EXPECT_NE(c.ReadResponse(&body).find("200"), std::string::npos);
  EXPECT_EQ(body, "OK");
  Release();
  EXPECT_TRUE(queued.get());
}

TEST_F(LimitsTest, BodyBelowMinimumRateIsCut) {
  ServerOptions o;
  o.min_body_rate = 1000;
  o.min_body_rate_window = std::chrono::seconds(1);
  Start(o);
  Client c(server_->port());
  c.Send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n");
  auto started = std::chrono::steady_clock::now();
  std::string head;
  auto reader = std::async(std::launch::async, [&] { return c.ReadResponse(); });
  while (reader.wait_for(std::chrono::milliseconds(200)) != std::future_status::ready) {
    c.Send("x");  // 5 bytes/s, far below 1000
    ASSERT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(8));
  }
  head = reader.get();
  EXPECT_NE(head.find("408"), std::string::npos) << head;
  EXPECT_EQ(last_error_.load(), StatusCode::kDeadlineExceeded);
  // A client at the rate is not cut.
  Client ok(server_->port());
  ok.Send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 6000\r\n\r\n");
  for (int i = 0; i < 6; ++i) {
    ok.Send(std::string(1000, 'y'));
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
  }
  std::string body;
  ok.ReadResponse(&body);
  EXPECT_EQ(body, "len=6000");
}

TEST_F(LimitsTest, RequestLineHeaderLineAndHeaderCount) {
  ServerOptions o;
  o.max_request_line = 1024;
  o.max_header_line = 1024;
  o.max_header_count = 20;
  Start(o);
  {
    Client c(server_->port());
    c.Send("GET /" + std::string(2000, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n");
    std::string head = c.ReadResponse();
    EXPECT_NE(head.find("414"), std::string::npos) << head;
    EXPECT_TRUE(c.Closed());
  }
  {
    Client c(server_->port());
    c.Send("GET / HTTP/1.1\r\nHost: h\r\nX-A: " + std::string(2000, 'a') + "\r\n\r\n");
    EXPECT_NE(c.ReadResponse().find("431"), std::string::npos);
  }
  {
    Client c(server_->port());
    std::string fields;
    for (int i = 0; i < 30; ++i) fields += "X-" + std::to_string(i) + ": v\r\n";
    c.Send("GET / HTTP/1.1\r\nHost: h\r\n" + fields + "\r\n");
    EXPECT_NE(c.ReadResponse().find("431"), std::string::npos);
  }
  EXPECT_TRUE(Responsive());
}

TEST_F(LimitsTest, TransferCodings) {
  Start({});
  {
    Client c(server_->port());
    c.Send("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n"
           "GET /ok HTTP/1.1\r\nHost: h\r\n\r\n");
    std::string head = c.ReadResponse();
    EXPECT_NE(head.find("501"), std::string::npos) << head;
    EXPECT_TRUE(c.Closed());  // the smuggled request is never answered
  }
  {
    Client c(server_->port());
    c.Send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
           "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    std::string head = c.ReadResponse();
    EXPECT_NE(head.find("400"), std::string::npos) << head;
  }
}

TEST_F(LimitsTest, ChunkExtensionAndTrailerBombs) {
  Start({});
  for (const std::string& start :
       {std::string("1;"), std::string("1\r\na\r\n0\r\nX-Trailer: ")}) {
    Client c(server_->port());
    c.Send("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + start);
    std::string blob(64 << 10, 'a');
    // Far more than any limit; the server stops reading and answers well before the end.
    auto reader = std::async(std::launch::async, [&] { return c.ReadResponse(); });
    for (int i = 0; i < 64 && reader.wait_for(std::chrono::milliseconds(0)) !=
                                  std::future_status::ready; ++i) {
      c.Send(blob);
    }
    std::string head = reader.get();
    EXPECT_NE(head.find("400"), std::string::npos) << head;
  }
  EXPECT_TRUE(Responsive());
}

TEST_F(LimitsTest, IncompleteHeaderTimesOut) {
  ServerOptions o;
  o.header_timeout = std::chrono::seconds(1);
  Start(o);
  Client c(server_->port());
  c.Send("GET / HTTP/1.1\r\nHost: h\r\n");
  std::string head = c.ReadResponse();
  EXPECT_NE(head.find("408"), std::string::npos) << head;
}

TEST_F(LimitsTest, ConnectionCap) {
  ServerOptions o;
  o.max_connections = 16;
  Start(o);
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 16; ++i) idle.push_back(std::make_unique<Client>(server_->port()));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  Client extra(server_->port());
  std::string head = extra.ReadResponse();
  EXPECT_NE(head.find("503"), std::string::npos) << head;
  EXPECT_GE(server_->stats().refused_connections, 1u);
  idle.clear();  // room again
  for (int i = 0; i < 50 && server_->stats().open_connections > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(Responsive());
}

}  // namespace
}  // namespace glimmer::http
