#include "webdownload/fetcher.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "platform/executor.h"

namespace glimmer::webdownload {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Body(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7 + 3) % 251);
  return s;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// A tiny HTTP/1.0-style server on 127.0.0.1 (ephemeral port), one connection at a time on one
// thread. Routes are fixed below; every response closes the connection.
class TestServer {
 public:
  TestServer() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(listen_fd_, 16), 0);
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = platform::StartThread("test-http", [this] { Loop(); });
  }
  ~TestServer() {
    stop_ = true;
    thread_.join();
    close(listen_fd_);
  }

  int port() const { return port_; }
  int connections() const { return connections_.load(); }
  std::string Url(std::string_view path, std::string_view host = "127.0.0.1") const {
    return "http://" + std::string(host) + ":" + std::to_string(port_) + std::string(path);
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      ++connections_;
      Handle(fd);
      close(fd);
    }
  }

  // Waits up to 5 s (or until stop / peer close) without sending anything.
  void Stall(int fd) {
    for (int i = 0; i < 100 && !stop_; ++i) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 50) > 0) {
        char c;
        if (recv(fd, &c, 1, 0) <= 0) return;
      }
    }
  }

  void Handle(int fd) {
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos && req.size() < 65536) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 2000) <= 0) return;
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      req.append(buf, static_cast<size_t>(n));
      if (static_cast<unsigned char>(req[0]) == 0x16) {  // a TLS ClientHello
        SendAll(fd, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
        return;
      }
    }
    size_t sp1 = req.find(' ');
    size_t sp2 = req.find(' ', sp1 + 1);
    std::string path = req.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string p = std::to_string(port_);
    auto redirect = [&](const std::string& location) {
      SendAll(fd, "HTTP/1.1 302 Found\r\nLocation: " + location +
                      "\r\nContent-Length: 5\r\nConnection: close\r\n\r\nmoved");
    };
    if (path == "/ok") {
      std::string body = Body(300000);
      SendAll(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    } else if (path == "/missing") {
      SendAll(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found");
    } else if (path == "/broken") {
      SendAll(fd, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n"
                  "Connection: close\r\n\r\noops");
    } else if (path == "/redirect") {
      redirect("/ok");
    } else if (path == "/redirect-twice") {
      redirect("http://127.0.0.1:" + p + "/redirect");
    } else if (path == "/redirect-metadata") {
      redirect("http://169.254.169.254:" + p + "/latest/meta-data/");
    } else if (path == "/redirect-loopback2") {
      redirect("http://127.0.0.2:" + p + "/ok");
    } else if (path == "/redirect-ftp") {
      redirect("ftp://127.0.0.1:" + p + "/ok");
    } else if (path == "/loop") {
      redirect("/loop");
    } else if (path == "/big-unannounced") {
      // No Content-Length: the body ends when the connection closes.
      SendAll(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
      std::string chunk = Body(65536);
      for (int i = 0; i < 64 && SendAll(fd, chunk); ++i) {
      }
    } else if (path == "/big-announced") {
      SendAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\nConnection: close\r\n\r\n" +
                      Body(1000));
      Stall(fd);
    } else if (path == "/stall") {
      SendAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n" +
                      Body(10));
      Stall(fd);
    } else {
      SendAll(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

class FetcherTest : public ::testing::Test {
 protected:
  FetcherTest() {
    options_.url_filter.allowed_ports = {server_.port()};
    options_.address_policy.allow_private_addresses = true;  // the server is on 127.0.0.1
    options_.connect_timeout_ms = 2000;
    options_.low_speed_bytes_per_second = 1000;
    options_.low_speed_time_s = 1;
    options_.total_timeout_ms = 10000;
  }

  StatusOr<FetchResult> Fetch(const std::string& url) {
    body_.clear();
    chunks_ = 0;
    return fetcher_.Fetch(url, options_, [this](std::span<const std::byte> data) {
      body_.append(reinterpret_cast<const char*>(data.data()), data.size());
      ++chunks_;
      return OkStatus();
    });
  }

  TestServer server_;
  HttpFetcher fetcher_;
  FetchOptions options_;
  std::string body_;
  int chunks_ = 0;
};

TEST_F(FetcherTest, DownloadsBodyInChunks) {
  auto r = Fetch(server_.Url("/ok"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(body_, Body(300000));
  EXPECT_EQ(r->bytes, 300000);
  EXPECT_EQ(r->content_length, 300000);
  EXPECT_EQ(r->http_status, 200);
  EXPECT_EQ(r->content_type, "application/octet-stream");
  EXPECT_EQ(r->redirects, 0);
  EXPECT_EQ(r->final_url, server_.Url("/ok"));
  EXPECT_GE(chunks_, 2);
}

TEST_F(FetcherTest, HttpErrorStatusIsReported) {
  auto r = Fetch(server_.Url("/missing"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), StartsWith("server answered 404 Not Found for http://"));
  EXPECT_TRUE(body_.empty());

  r = Fetch(server_.Url("/broken"));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("server answered 500 Internal Server Error"));
  EXPECT_TRUE(body_.empty());
}

TEST_F(FetcherTest, FollowsRedirectsToAllowedUrls) {
  auto r = Fetch(server_.Url("/redirect-twice"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(body_, Body(300000));  // redirect bodies never reach the sink
  EXPECT_EQ(r->redirects, 2);
  EXPECT_EQ(r->final_url, server_.Url("/ok"));
}

TEST_F(FetcherTest, RedirectToMetadataAddressIsRefused) {
  auto r = Fetch(server_.Url("/redirect-metadata"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("redirect to http://169.254.169.254:"));
  EXPECT_THAT(r.status().message(), HasSubstr("is not allowed (cloud metadata)"));
  EXPECT_TRUE(body_.empty());
}

TEST_F(FetcherTest, RedirectToLoopbackOutsideAllowedCidrIsRefused) {
  options_.address_policy.allow_private_addresses = false;
  options_.address_policy.allowed_cidrs = {"127.0.0.1/32"};
  auto r = Fetch(server_.Url("/redirect-loopback2"));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("address 127.0.0.2 of host 127.0.0.2 is not allowed (loopback)"));
  EXPECT_EQ(server_.connections(), 1);  // 127.0.0.2 was never connected to
}

TEST_F(FetcherTest, RedirectToDisallowedSchemeIsRefused) {
  auto r = Fetch(server_.Url("/redirect-ftp"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("scheme 'ftp' is not allowed"));
}

TEST_F(FetcherTest, RedirectLoopStopsAtLimit) {
  options_.max_redirects = 3;
  auto r = Fetch(server_.Url("/loop"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("too many redirects (more than 3)"));
  EXPECT_EQ(server_.connections(), 4);
}

TEST_F(FetcherTest, BodyLargerThanCapIsAborted) {
  options_.max_bytes = 1 << 20;
  auto r = Fetch(server_.Url("/big-unannounced"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(r.status().message(), HasSubstr("exceeds the maximum size of 1048576 bytes"));
  EXPECT_LE(body_.size(), 1u << 20);
}

TEST_F(FetcherTest, AnnouncedContentLengthAboveCapIsRefusedBeforeReading) {
  options_.max_bytes = 1 << 20;
  auto r = Fetch(server_.Url("/big-announced"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(body_.empty());
}

TEST_F(FetcherTest, StalledServerFails) {
  auto r = Fetch(server_.Url("/stall"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("stalled"));
}

TEST_F(FetcherTest, LoopbackRefusedWithoutOperatorOptIn) {
  options_.address_policy.allow_private_addresses = false;
  auto r = Fetch(server_.Url("/ok"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "address 127.0.0.1 of host 127.0.0.1 is not allowed (loopback)");
  EXPECT_EQ(server_.connections(), 0);
}

TEST_F(FetcherTest, HostnameResolvingToLoopbackIsRefused) {
  options_.address_policy.allow_private_addresses = false;
  auto r = Fetch(server_.Url("/ok", "localhost"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("of host localhost is not allowed (loopback)"));
  EXPECT_EQ(server_.connections(), 0);
}

TEST_F(FetcherTest, HostnameIsPinnedToCheckedAddress) {
  // With the opt-in, "localhost" is resolved once, checked, and curl connects to that address.
  auto r = Fetch(server_.Url("/ok", "localhost"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(body_, Body(300000));
}

TEST_F(FetcherTest, UrlFilterAppliesBeforeAnyConnection) {
  options_.url_filter.allowed_ports = {80, 443};  // the defaults
  auto r = Fetch(server_.Url("/ok"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("port " + std::to_string(server_.port())));
  // [::1] passes the filter and is refused by the address policy, still before connecting.
  options_.address_policy.allow_private_addresses = false;
  for (const char* url : {"http://127.1/", "http://2130706433/", "http://[::1]/",
                          "file:///etc/passwd", "ftp://example.com/"}) {
    EXPECT_EQ(Fetch(url).status().code(), StatusCode::kInvalidArgument)
        << url << ": " << Fetch(url).status().message();
  }
  EXPECT_EQ(server_.connections(), 0);
}

TEST_F(FetcherTest, DnsFailureIsReported) {
  auto r = Fetch("http://no-such-host.invalid:" + std::to_string(server_.port()) + "/x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), StartsWith("could not resolve host no-such-host.invalid"));
}

TEST_F(FetcherTest, TlsFailureIsReported) {
  auto r = Fetch("https://127.0.0.1:" + std::to_string(server_.port()) + "/ok");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), StartsWith("TLS failure with host 127.0.0.1"));
}

TEST_F(FetcherTest, ConnectionRefusedIsReported) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int closed_port = ntohs(addr.sin_port);
  close(fd);  // bound, never listened: connections are refused
  options_.url_filter.allowed_ports = {closed_port};
  auto r = Fetch("http://127.0.0.1:" + std::to_string(closed_port) + "/x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), StartsWith("could not connect to host 127.0.0.1"));
}

TEST_F(FetcherTest, SinkErrorAbortsAndIsReturned) {
  int calls = 0;
  auto r = fetcher_.Fetch(server_.Url("/ok"), options_, [&](std::span<const std::byte>) {
    ++calls;
    return DataLossError("disk full");
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(r.status().message(), "disk full");
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace glimmer::webdownload
