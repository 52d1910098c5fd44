// The practical ceiling for an upload on this machine: a minimal HTTP receiver that does nothing
// but read one request body, hash it with md5 and sha512 on two threads, and write it to a file
// (page cache), then answer 204. Compare Glimmer's upload MiB/s with this one's, same client:
//   build/ceiling_receiver 9599 /tmp/ceiling.out &
//   curl -T /tmp/1g.bin http://127.0.0.1:9599/
// Not part of Glimmer; a benchmark tool (std::thread is fine here).

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  int port = argc > 1 ? std::atoi(argv[1]) : 9599;
  const char* out_path = argc > 2 ? argv[2] : "/tmp/ceiling.out";
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(ls, 16) != 0) {
    std::perror("listen");
    return 1;
  }
  constexpr size_t kChunk = 1 << 20;
  std::vector<char> buf(kChunk);
  for (;;) {
    int c = accept(ls, nullptr, nullptr);
    if (c < 0) continue;
    std::string head;
    char ch;
    while (head.find("\r\n\r\n") == std::string::npos && recv(c, &ch, 1, 0) == 1) head += ch;
    long long len = 0;
    for (const char* key : {"Content-Length: ", "content-length: "}) {
      auto p = head.find(key);
      if (p != std::string::npos) len = std::atoll(head.c_str() + p + std::strlen(key));
    }
    if (head.find("100-continue") != std::string::npos) {
      send(c, "HTTP/1.1 100 Continue\r\n\r\n", 25, 0);
    }
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    EVP_MD_CTX* md5 = EVP_MD_CTX_new();
    EVP_MD_CTX* sha = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md5, EVP_md5(), nullptr);
    EVP_DigestInit_ex(sha, EVP_sha512(), nullptr);
    auto t0 = std::chrono::steady_clock::now();
    long long got = 0;
    while (got < len) {
      size_t want = static_cast<size_t>(std::min<long long>(kChunk, len - got));
      size_t n = 0;
      while (n < want) {
        ssize_t r = recv(c, buf.data() + n, want - n, 0);
        if (r <= 0) break;
        n += static_cast<size_t>(r);
      }
      if (n == 0) break;
      std::thread h1([&] { EVP_DigestUpdate(md5, buf.data(), n); });
      std::thread h2([&] { EVP_DigestUpdate(sha, buf.data(), n); });
      if (write(fd, buf.data(), n) != static_cast<ssize_t>(n)) std::perror("write");
      h1.join();
      h2.join();
      got += static_cast<long long>(n);
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "received %lld bytes in %.2f s: %.1f MiB/s\n", got, s,
                 got / s / 1048576.0);
    close(fd);
    EVP_MD_CTX_free(md5);
    EVP_MD_CTX_free(sha);
    const char* resp = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
    send(c, resp, std::strlen(resp), 0);
    close(c);
  }
}
