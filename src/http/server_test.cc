#include "http/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

namespace glimmer::http {
namespace {

// A raw TCP client, so the tests see exactly the bytes on the wire.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
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

}  // namespace
}  // namespace glimmer::http
