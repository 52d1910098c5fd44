// S3Store against a live S3 endpoint (Ceph RADOS Gateway in CI): no stubs. Needs S3_ENDPOINT,
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (scripts/services/services.sh writes them to
// /tmp/glimmer-services/env.sh); every test skips without S3_ENDPOINT. Each test uses its own
// bucket (glimmer-s3-test-<random>), removed afterwards, so tests may run in parallel.

#include "store/s3/s3_store.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "platform/clock.h"
#include "platform/executor.h"
#include "platform/random.h"
#include "store/s3/s3_client.h"

namespace glimmer::store::s3 {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// Deterministic, random-access test data: byte p of stream `seed`.
uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
void Fill(uint64_t seed, int64_t offset, std::span<std::byte> out) {
  for (size_t i = 0; i < out.size();) {
    const int64_t p = offset + static_cast<int64_t>(i);
    const uint64_t word = SplitMix(seed ^ static_cast<uint64_t>(p / 8) * 0x100000001b3ULL);
    const int64_t in_word = p % 8;
    const size_t n = std::min<size_t>(8 - static_cast<size_t>(in_word), out.size() - i);
    std::memcpy(out.data() + i, reinterpret_cast<const char*>(&word) + in_word, n);
    i += n;
  }
}
std::vector<std::byte> Data(uint64_t seed, int64_t offset, size_t n) {
  std::vector<std::byte> out(n);
  Fill(seed, offset, out);
  return out;
}

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  void Update(std::span<const std::byte> d) { EVP_DigestUpdate(ctx_, d.data(), d.size()); }
  std::string Hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, md, &len);
    std::string out;
    char buf[3];
    for (unsigned int i = 0; i < len; ++i) {
      std::snprintf(buf, sizeof buf, "%02x", md[i]);
      out += buf;
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

// Writes `size` bytes of stream `seed` in appends of `chunk`; returns the sha256 written.
std::string WriteStream(Writer& w, uint64_t seed, int64_t size, size_t chunk = 1 << 20) {
  Sha256 sha;
  std::vector<std::byte> buf(chunk);
  for (int64_t off = 0; off < size;) {
    const size_t n =
        static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(chunk), size - off));
    Fill(seed, off, std::span(buf.data(), n));
    sha.Update(std::span(buf.data(), n));
    Status s = w.Append(std::span(buf.data(), n));
    if (!s.ok()) return "append failed: " + s.ToString();
    off += static_cast<int64_t>(n);
  }
  return sha.Hex();
}

// Reads everything sequentially in `chunk` reads; returns the sha256 read.
std::string ReadAll(Reader& r, size_t chunk, int64_t* total) {
  Sha256 sha;
  std::vector<std::byte> buf(chunk);
  *total = 0;
  for (;;) {
    StatusOr<size_t> n = r.ReadAt(*total, buf);
    if (!n.ok()) return "read failed: " + n.status().ToString();
    if (*n == 0) break;
    sha.Update(std::span(buf.data(), *n));
    *total += static_cast<int64_t>(*n);
  }
  return sha.Hex();
}

// A TCP proxy in front of the S3 endpoint that can cut every connection passing through it,
// to exercise retries of parts and resumption of reads. Its threads come from an Executor.
class CuttingProxy {
 public:
  explicit CuttingProxy(int upstream_port) : upstream_port_(upstream_port), pool_("s3proxy", 64) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(listen_fd_, 64);
    pool_.Post([this] { AcceptLoop(); });
  }
  ~CuttingProxy() {
    stopping_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    CutAll();
    // pool_'s destructor joins the pumps, which end once their sockets are shut down.
  }
  int port() const { return port_; }
  void CutAll() {
    std::lock_guard lock(mu_);
    for (int fd : fds_) shutdown(fd, SHUT_RDWR);
  }

 private:
  struct Conn {
    int client;
    int upstream;
    std::atomic<int> pumps{2};
  };

  void AcceptLoop() {
    while (!stopping_) {
      const int c = accept(listen_fd_, nullptr, nullptr);
      if (c < 0) {
        if (stopping_) break;
        continue;
      }
      const int u = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
      if (connect(u, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(c);
        close(u);
        continue;
      }
      auto conn = std::make_shared<Conn>();
      conn->client = c;
      conn->upstream = u;
      {
        std::lock_guard lock(mu_);
        fds_.insert(c);
        fds_.insert(u);
      }
      pool_.Post([this, conn] { Pump(*conn, conn->client, conn->upstream); });
      pool_.Post([this, conn] { Pump(*conn, conn->upstream, conn->client); });
    }
    close(listen_fd_);
  }

  void Pump(Conn& conn, int from, int to) {
    std::vector<char> buf(64 * 1024);
    for (;;) {
      const ssize_t n = read(from, buf.data(), buf.size());
      if (n <= 0) break;
      ssize_t done = 0;
      while (done < n) {
        const ssize_t w = send(to, buf.data() + done, static_cast<size_t>(n - done), MSG_NOSIGNAL);
        if (w <= 0) break;
        done += w;
      }
      if (done < n) break;
    }
    shutdown(to, SHUT_WR);
    shutdown(from, SHUT_RD);
    if (--conn.pumps == 0) {
      std::lock_guard lock(mu_);
      fds_.erase(conn.client);
      fds_.erase(conn.upstream);
      close(conn.client);
      close(conn.upstream);
    }
  }

  const int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::set<int> fds_;
  platform::Executor pool_;  // last: joined first
};

class S3StoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { executor_ = new platform::Executor("s3test", 8); }
  static void TearDownTestSuite() {
    delete executor_;
    executor_ = nullptr;
  }

  void SetUp() override {
    endpoint_ = Env("S3_ENDPOINT");
    if (endpoint_.empty()) GTEST_SKIP() << "S3_ENDPOINT is not set: no S3 service to test against";
    bucket_ = "glimmer-s3-test-" + platform::RandomHex(6);
    host_port_ = endpoint_.substr(endpoint_.find("://") + 3);
    auto store = S3Store::Create(Options(), *executor_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }

  void TearDown() override {
    if (bucket_.empty() || endpoint_.empty()) return;
    store_.reset();
    // Remove whatever is left: objects, incomplete uploads, the bucket.
    internal::Client client(ClientConfig());
    internal::Request list;
    list.query = internal::CanonicalQuery({{"list-type", "2"}});
    auto objects = client.Do("list", list);
    if (objects.ok()) {
      for (std::string_view c : internal::XmlElements(objects->body, "Contents")) {
        internal::Request del;
        del.method = "DELETE";
        del.key = internal::XmlText(c, "Key").value_or("");
        (void)client.Do("delete", del);
      }
    }
    internal::Request uploads;
    uploads.query = internal::CanonicalQuery({{"uploads", ""}});
    auto ups = client.Do("list uploads", uploads);
    if (ups.ok()) {
      for (std::string_view u : internal::XmlElements(ups->body, "Upload")) {
        internal::Request abort;
        abort.method = "DELETE";
        abort.key = internal::XmlText(u, "Key").value_or("");
        abort.query =
            internal::CanonicalQuery({{"uploadId", internal::XmlText(u, "UploadId").value_or("")}});
        (void)client.Do("abort", abort);
      }
    }
    internal::Request drop;
    drop.method = "DELETE";
    auto dropped = client.Do("delete bucket", drop);
    EXPECT_TRUE(dropped.ok()) << dropped.status().ToString();
  }

  S3StoreOptions Options() const {
    S3StoreOptions o;
    o.store_id = "s3test";
    o.host = endpoint_;
    o.access_key = Env("AWS_ACCESS_KEY_ID");
    o.secret_key = Env("AWS_SECRET_ACCESS_KEY");
    o.bucket = bucket_;
    o.create_bucket_on_put = true;
    o.region_name = "default";
    o.large_object_size_mib = 8;
    o.large_object_chunk_size_mib = 5;
    o.thread_pools = 8;
    return o;
  }

  internal::ClientConfig ClientConfig() const {
    internal::ClientConfig c;
    c.scheme = endpoint_.substr(0, endpoint_.find("://"));
    c.host_port = host_port_;
    c.bucket = bucket_;
    c.region = "default";
    c.access_key = Env("AWS_ACCESS_KEY_ID");
    c.secret_key = Env("AWS_SECRET_ACCESS_KEY");
    return c;
  }

  size_t IncompleteUploads() {
    auto ups = store_->ListIncompleteUploads();
    EXPECT_TRUE(ups.ok()) << ups.status().ToString();
    return ups.ok() ? ups->size() : 9999;
  }

  // Writes and commits `size` bytes of stream `seed`; returns the location.
  std::string Put(std::string_view id, uint64_t seed, int64_t size) {
    auto w = store_->NewWriter(id, std::nullopt);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    if (!w.ok()) return "";
    const std::string sha = WriteStream(**w, seed, size);
    EXPECT_EQ(sha.size(), 64u) << sha;
    auto loc = (*w)->Commit();
    EXPECT_TRUE(loc.ok()) << loc.status().ToString();
    return loc.ok() ? *loc : "";
  }

  static platform::Executor* executor_;
  std::string endpoint_;
  std::string host_port_;
  std::string bucket_;
  std::unique_ptr<S3Store> store_;
};

platform::Executor* S3StoreTest::executor_ = nullptr;

TEST_F(S3StoreTest, InfoAndLocationForm) {
  EXPECT_EQ(store_->info().id, "s3test");
  EXPECT_EQ(store_->info().type, "s3");
  EXPECT_TRUE(store_->info().description.empty());  // none configured: none shown
  EXPECT_EQ(store_->LocationForKey("abc"), "s3://" + host_port_ + "/" + bucket_ + "/abc");
}

TEST_F(S3StoreTest, SmallObjectSinglePutRoundTrip) {
  const int64_t size = 3 * kMiB + 12345;  // below the 8 MiB threshold: one PUT
  auto w = store_->NewWriter("img-small", size);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  const std::string expected_location = "s3://" + host_port_ + "/" + bucket_ + "/img-small";
  EXPECT_EQ((*w)->location(), expected_location);
  const std::string written = WriteStream(**w, 1, size);
  EXPECT_EQ(IncompleteUploads(), 0u);  // nothing started before Commit
  auto loc = (*w)->Commit();
  ASSERT_TRUE(loc.ok()) << loc.status().ToString();
  EXPECT_EQ(*loc, expected_location);
  EXPECT_TRUE(store_->Owns(*loc));
  EXPECT_FALSE((*w)->Append(Data(1, 0, 10)).ok());  // finished

  auto info = store_->Stat(*loc);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, size);
  EXPECT_EQ(info->etag.find('-'), std::string::npos) << info->etag;  // not multipart

  auto r = store_->Open(*loc);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->size(), size);
  EXPECT_FALSE((*r)->file_descriptor().has_value());
  int64_t total = 0;
  EXPECT_EQ(ReadAll(**r, 256 * 1024, &total), written);
  EXPECT_EQ(total, size);
  // Past the end.
  std::vector<std::byte> buf(100);
  auto n = (*r)->ReadAt(size, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  n = (*r)->ReadAt(size - 10, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 10u);
  EXPECT_FALSE((*r)->ReadAt(-1, buf).ok());
}

TEST_F(S3StoreTest, EmptyObject) {
  auto w = store_->NewWriter("img-empty", std::nullopt);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  auto loc = (*w)->Commit();
  ASSERT_TRUE(loc.ok()) << loc.status().ToString();
  auto r = store_->Open(*loc);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->size(), 0);
  std::vector<std::byte> buf(1024);
  auto n = (*r)->ReadAt(0, buf);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 0u);
}

TEST_F(S3StoreTest, ExactlyThresholdIsOnePutAndOneMoreByteIsMultipart) {
  const std::string single = Put("img-at", 2, 8 * kMiB);
  const std::string multi = Put("img-over", 3, 8 * kMiB + 1);
  auto a = store_->Stat(single);
  auto b = store_->Stat(multi);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->etag.find('-'), std::string::npos) << a->etag;
  EXPECT_TRUE(b->etag.ends_with("-2")) << b->etag;  // 5 MiB + 3 MiB+1
  EXPECT_EQ(b->size, 8 * kMiB + 1);
  auto r = store_->Open(multi);
  ASSERT_TRUE(r.ok());
  std::vector<std::byte> buf(8 * kMiB + 1);
  auto n = (*r)->ReadAt(0, buf);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  ASSERT_EQ(*n, buf.size());
  EXPECT_TRUE(buf == Data(3, 0, buf.size()));
}

TEST_F(S3StoreTest, MultipartOneGibInParallelAndRangedReads) {
  S3StoreOptions o = Options();
  o.large_object_size_mib = 16;
  o.large_object_chunk_size_mib = 16;
  auto big = S3Store::Create(o, *executor_);
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  constexpr int64_t kSize = 1024 * kMiB;
  constexpr int64_t kPart = 16 * kMiB;
  constexpr uint64_t kSeed = 42;

  auto w = (*big)->NewWriter("img-1g", std::nullopt);  // size unknown: buffers, then switches
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  auto t0 = std::chrono::steady_clock::now();
  const std::string written = WriteStream(**w, kSeed, kSize);
  ASSERT_EQ(written.size(), 64u) << written;
  auto loc = (*w)->Commit();
  ASSERT_TRUE(loc.ok()) << loc.status().ToString();
  const double up_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(IncompleteUploads(), 0u);

  auto info = (*big)->Stat(*loc);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, kSize);
  EXPECT_TRUE(info->etag.ends_with("-64")) << info->etag;

  auto r = (*big)->Open(*loc);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  t0 = std::chrono::steady_clock::now();
  int64_t total = 0;
  EXPECT_EQ(ReadAll(**r, 256 * 1024, &total), written);
  EXPECT_EQ(total, kSize);
  const double down_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("1 GiB: upload %.1f MiB/s, download %.1f MiB/s\n", 1024 / up_s, 1024 / down_s);

  // Reads straddling part boundaries, and continuing sequentially from them.
  for (int64_t boundary : {kPart, 7 * kPart, 63 * kPart}) {
    std::vector<std::byte> buf(300);
    auto n = (*r)->ReadAt(boundary - 150, buf);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    ASSERT_EQ(*n, 300u);
    EXPECT_TRUE(buf == Data(kSeed, boundary - 150, 300)) << boundary;
    std::vector<std::byte> next(1 << 20);
    n = (*r)->ReadAt(boundary + 150, next);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    ASSERT_EQ(*n, next.size());
    EXPECT_TRUE(next == Data(kSeed, boundary + 150, next.size())) << boundary;
  }
  // Random ranges, in random order (each a new ranged GET), some read in two halves.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 40; ++i) {
    const int64_t len = 1 + static_cast<int64_t>(rng() % (2 * kMiB));
    const int64_t off = static_cast<int64_t>(rng() % static_cast<uint64_t>(kSize - len + 1));
    std::vector<std::byte> buf(static_cast<size_t>(len));
    const size_t half = buf.size() / 2;
    auto n = (*r)->ReadAt(off, std::span(buf.data(), half));
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    ASSERT_EQ(*n, half);
    n = (*r)->ReadAt(off + static_cast<int64_t>(half),
                     std::span(buf.data() + half, buf.size() - half));
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    ASSERT_EQ(*n, buf.size() - half);
    EXPECT_TRUE(buf == Data(kSeed, off, buf.size())) << "offset " << off << " length " << len;
  }
  // The last bytes, and a read running past the end.
  std::vector<std::byte> tail(4096);
  auto n = (*r)->ReadAt(kSize - 1000, tail);
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(*n, 1000u);
  EXPECT_TRUE(std::vector<std::byte>(tail.begin(), tail.begin() + 1000) ==
              Data(kSeed, kSize - 1000, 1000));

  EXPECT_TRUE((*big)->Delete(*loc).ok());
}

TEST_F(S3StoreTest, ProgressDoesNotDependOnTheExecutor) {
  platform::Executor busy("s3busy", 1);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  busy.Post([gate] { gate.wait(); });  // the pool's only thread is blocked
  auto store = S3Store::Create(Options(), busy);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto w = (*store)->NewWriter("img-blocked-pool", std::nullopt);
  ASSERT_TRUE(w.ok());
  const std::string written = WriteStream(**w, 19, 30 * kMiB + 5);  // parts run by the writer
  auto loc = (*w)->Commit();
  release.set_value();
  ASSERT_TRUE(loc.ok()) << loc.status().ToString();
  auto info = (*store)->Stat(*loc);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->etag.ends_with("-7")) << info->etag;
  auto r = (*store)->Open(*loc);
  ASSERT_TRUE(r.ok());
  int64_t total = 0;
  EXPECT_EQ(ReadAll(**r, 1 << 20, &total), written);
}

TEST_F(S3StoreTest, ConcurrentWritersAndReadersOnASmallSharedPool) {
  // The uploads themselves run on the pool whose threads their parts need.
  platform::Executor pool("s3pool", 2);
  auto store = S3Store::Create(Options(), pool);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::vector<std::future<std::string>> results;
  for (int i = 0; i < 4; ++i) {
    results.push_back(pool.Submit([&store, i]() -> std::string {
      const int64_t size = (i + 1) * 7 * kMiB + i;
      auto w = (*store)->NewWriter("img-concurrent-" + std::to_string(i), std::nullopt);
      if (!w.ok()) return w.status().ToString();
      const std::string written = WriteStream(**w, 200 + i, size);
      auto loc = (*w)->Commit();
      if (!loc.ok()) return loc.status().ToString();
      auto r = (*store)->Open(*loc);
      if (!r.ok()) return r.status().ToString();
      int64_t total = 0;
      const std::string read = ReadAll(**r, 256 * 1024, &total);
      if (read != written || total != size) return "data differs for writer " + std::to_string(i);
      return "";
    }));
  }
  for (auto& f : results) EXPECT_EQ(f.get(), "");
  EXPECT_EQ(IncompleteUploads(), 0u);
}

TEST_F(S3StoreTest, SizeHintAboveThresholdStartsMultipartAtOnce) {
  auto w = store_->NewWriter("img-hinted", 12 * kMiB);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append(Data(5, 0, 1 << 20)).ok());
  EXPECT_EQ(IncompleteUploads(), 1u);  // initiated with the first byte
  ASSERT_EQ(WriteStream(**w, 6, 11 * kMiB).size(), 64u);
  auto loc = (*w)->Commit();
  ASSERT_TRUE(loc.ok()) << loc.status().ToString();
  auto info = store_->Stat(*loc);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 12 * kMiB);
  EXPECT_TRUE(info->etag.ends_with("-3")) << info->etag;
  EXPECT_EQ(IncompleteUploads(), 0u);
}

TEST_F(S3StoreTest, DestroyedWriterLeavesNoIncompleteUpload) {
  {
    auto w = store_->NewWriter("img-destroyed", std::nullopt);
    ASSERT_TRUE(w.ok());
    ASSERT_EQ(WriteStream(**w, 8, 40 * kMiB).size(), 64u);  // multipart, parts in flight
    EXPECT_EQ(IncompleteUploads(), 1u);
  }  // destroyed without Commit
  EXPECT_EQ(IncompleteUploads(), 0u);
  EXPECT_EQ(store_->Stat(store_->LocationForKey("img-destroyed")).status().code(),
            StatusCode::kNotFound);
  // Abort() is explicit and idempotent too.
  auto w = store_->NewWriter("img-aborted", std::nullopt);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(WriteStream(**w, 9, 20 * kMiB).size(), 64u);
  (*w)->Abort();
  (*w)->Abort();
  EXPECT_FALSE((*w)->Commit().ok());
  EXPECT_EQ(IncompleteUploads(), 0u);
}

TEST_F(S3StoreTest, FailedPartFailsTheUploadAndLeavesNothing) {
  auto w = store_->NewWriter("img-failing", std::nullopt);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(WriteStream(**w, 10, 12 * kMiB).size(), 64u);
  // Someone aborts the upload under the writer: every further part fails (NoSuchUpload).
  auto ups = store_->ListIncompleteUploads();
  ASSERT_TRUE(ups.ok());
  ASSERT_EQ(ups->size(), 1u);
  internal::Client client(ClientConfig());
  internal::Request abort;
  abort.method = "DELETE";
  abort.key = (*ups)[0].key;
  abort.query = internal::CanonicalQuery({{"uploadId", (*ups)[0].upload_id}});
  ASSERT_TRUE(client.Do("abort", abort).ok());

  Status failed;
  std::vector<std::byte> chunk = Data(11, 0, 1 << 20);
  for (int i = 0; i < 200 && failed.ok(); ++i) failed = (*w)->Append(chunk);
  StatusOr<std::string> committed = failed.ok() ? (*w)->Commit() : StatusOr<std::string>(failed);
  ASSERT_FALSE(committed.ok());
  EXPECT_EQ(committed.status().code(), StatusCode::kUnavailable) << committed.status().ToString();
  EXPECT_NE(committed.status().message().find("NoSuchUpload"), std::string::npos)
      << committed.status().ToString();
  EXPECT_NE(committed.status().message().find(bucket_), std::string::npos);
  w->reset();
  EXPECT_EQ(IncompleteUploads(), 0u);
  EXPECT_EQ(store_->Stat(store_->LocationForKey("img-failing")).status().code(),
            StatusCode::kNotFound);
}

TEST_F(S3StoreTest, CleanupIncompleteAbortsOnlyOldUploads) {
  auto w = store_->NewWriter("img-left", std::nullopt);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(WriteStream(**w, 12, 10 * kMiB).size(), 64u);
  ASSERT_EQ(IncompleteUploads(), 1u);

  // Default TTL (24 h): a fresh upload, maybe another node's, is left alone.
  ASSERT_TRUE(store_->CleanupIncomplete().ok());
  EXPECT_EQ(IncompleteUploads(), 1u);

  // The same upload seen 25 h later is abandoned.
  platform::FakeClock later(platform::Clock::Real().Now() + int64_t{25} * 3600 * 1000000);
  auto future_store = S3Store::Create(Options(), *executor_, later);
  ASSERT_TRUE(future_store.ok());
  ASSERT_TRUE((*future_store)->CleanupIncomplete().ok());
  EXPECT_EQ(IncompleteUploads(), 0u);

  // TTL 0: anything incomplete goes.
  auto w2 = store_->NewWriter("img-left2", std::nullopt);
  ASSERT_TRUE(w2.ok());
  ASSERT_EQ(WriteStream(**w2, 13, 10 * kMiB).size(), 64u);
  ASSERT_EQ(IncompleteUploads(), 1u);
  S3StoreOptions o = Options();
  o.incomplete_upload_ttl_seconds = 0;
  auto eager = S3Store::Create(o, *executor_);
  ASSERT_TRUE(eager.ok());
  ASSERT_TRUE((*eager)->CleanupIncomplete().ok());
  EXPECT_EQ(IncompleteUploads(), 0u);
  // The writers whose uploads were removed fail cleanly.
  EXPECT_FALSE((*w)->Commit().ok());
  EXPECT_FALSE((*w2)->Commit().ok());
  EXPECT_EQ(IncompleteUploads(), 0u);
}

TEST_F(S3StoreTest, DeleteThenOpenIsNotFound) {
  const std::string loc = Put("img-del", 14, 1000);
  ASSERT_FALSE(loc.empty());
  ASSERT_TRUE(store_->Open(loc).ok());
  Status deleted = store_->Delete(loc);
  ASSERT_TRUE(deleted.ok()) << deleted.ToString();
  auto r = store_->Open(loc);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << r.status().ToString();
  Status again = store_->Delete(loc);
  EXPECT_EQ(again.code(), StatusCode::kNotFound) << again.ToString();
  Status absent = store_->Delete(store_->LocationForKey("never-written"));
  EXPECT_EQ(absent.code(), StatusCode::kNotFound) << absent.ToString();
  EXPECT_NE(absent.message().find("never-written"), std::string::npos) << absent.ToString();
}

TEST_F(S3StoreTest, ExistingKeyIsNeverOverwritten) {
  const std::string first = Put("img-dup", 15, 2000);
  const std::string second = Put("img-dup", 16, 3000);
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());
  EXPECT_NE(first, second);
  EXPECT_TRUE(second.starts_with(first + ".")) << second;
  EXPECT_TRUE(store_->Owns(second));
  auto a = store_->Stat(first);
  auto b = store_->Stat(second);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size, 2000);
  EXPECT_EQ(b->size, 3000);
}

TEST_F(S3StoreTest, SequentialSmallReadsAndJumps) {
  const int64_t size = 20 * kMiB + 77;
  const std::string loc = Put("img-seq", 17, size);
  auto r = store_->Open(loc);
  ASSERT_TRUE(r.ok());
  // Odd-sized reads (not aligned with curl's buffers), a backwards jump, a forward jump.
  std::vector<std::pair<int64_t, size_t>> reads = {{0, 1},
                                                   {1, 4095},
                                                   {4096, 300001},
                                                   {304097, 262144},
                                                   {100, 50},
                                                   {150, 262144},
                                                   {10 * kMiB, 1 << 20},
                                                   {11 * kMiB, 1 << 20},
                                                   {size - 5, 1 << 20}};
  for (auto [off, len] : reads) {
    std::vector<std::byte> buf(len);
    auto n = (*r)->ReadAt(off, buf);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    const size_t expect =
        static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(len), size - off));
    ASSERT_EQ(*n, expect) << off;
    buf.resize(*n);
    EXPECT_TRUE(buf == Data(17, off, *n)) << off;
  }
}

TEST_F(S3StoreTest, ObjectChangedOrDeletedUnderAReader) {
  const std::string loc = Put("img-changing", 22, 2 * kMiB);
  auto r = store_->Open(loc);
  ASSERT_TRUE(r.ok());
  std::vector<std::byte> buf(1024);
  ASSERT_TRUE((*r)->ReadAt(0, buf).ok());
  // Replaced behind the store's back: a new ranged GET must not mix the two objects.
  internal::Client client(ClientConfig());
  internal::Request put;
  put.method = "PUT";
  put.key = "img-changing";
  const std::vector<std::byte> other = Data(23, 0, 2 * kMiB);
  put.body.emplace_back(other.data(), other.size());
  ASSERT_TRUE(client.Do("overwrite", put).ok());
  auto n = (*r)->ReadAt(kMiB, buf);
  EXPECT_EQ(n.status().code(), StatusCode::kAborted) << n.status().ToString();
  // Deleted: NotFound.
  auto r2 = store_->Open(loc);
  ASSERT_TRUE(r2.ok());
  ASSERT_TRUE(store_->Delete(loc).ok());
  n = (*r2)->ReadAt(0, buf);
  EXPECT_EQ(n.status().code(), StatusCode::kNotFound) << n.status().ToString();
}

TEST_F(S3StoreTest, PartsAreRetriedWhenConnectionsAreCut) {
  CuttingProxy proxy(std::stoi(host_port_.substr(host_port_.rfind(':') + 1)));
  S3StoreOptions o = Options();
  o.host = "http://127.0.0.1:" + std::to_string(proxy.port());
  auto via_proxy = S3Store::Create(o, *executor_);
  ASSERT_TRUE(via_proxy.ok()) << via_proxy.status().ToString();
  auto w = (*via_proxy)->NewWriter("img-cut", std::nullopt);
  ASSERT_TRUE(w.ok());
  Sha256 sha;
  const int64_t size = 60 * kMiB + 3;
  std::vector<std::byte> buf(1 << 20);
  for (int64_t off = 0; off < size;) {
    const size_t n = static_cast<size_t>(std::min<int64_t>(1 << 20, size - off));
    Fill(24, off, std::span(buf.data(), n));
    sha.Update(std::span(buf.data(), n));
    ASSERT_TRUE((*w)->Append(std::span(buf.data(), n)).ok());
    off += static_cast<int64_t>(n);
    // Parts in flight fail and are retried; two cuts cost a part at most two of its 3 attempts.
    if (off == 15 * kMiB || off == 40 * kMiB) proxy.CutAll();
  }
  auto loc = (*w)->Commit();
  ASSERT_TRUE(loc.ok()) << loc.status().ToString();
  EXPECT_EQ(IncompleteUploads(), 0u);
  // Read back directly (the location names the proxy's port: this store does not own it).
  EXPECT_FALSE(store_->Owns(*loc));
  auto r = store_->Open(store_->LocationForKey("img-cut"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  int64_t total = 0;
  EXPECT_EQ(ReadAll(**r, 1 << 20, &total), sha.Hex());
  EXPECT_EQ(total, size);
}

TEST_F(S3StoreTest, SequentialReadResumesAfterACutStream) {
  const int64_t size = 24 * kMiB;
  ASSERT_FALSE(Put("img-resume", 25, size).empty());
  CuttingProxy proxy(std::stoi(host_port_.substr(host_port_.rfind(':') + 1)));
  S3StoreOptions o = Options();
  o.host = "http://127.0.0.1:" + std::to_string(proxy.port());
  auto via_proxy = S3Store::Create(o, *executor_);
  ASSERT_TRUE(via_proxy.ok()) << via_proxy.status().ToString();
  auto r = (*via_proxy)->Open((*via_proxy)->LocationForKey("img-resume"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::byte> buf(256 * 1024);
  Sha256 got;
  for (int64_t off = 0; off < size;) {
    if (off == 5 * kMiB || off == 13 * kMiB) proxy.CutAll();
    auto n = (*r)->ReadAt(off, buf);
    ASSERT_TRUE(n.ok()) << n.status().ToString() << " at " << off;
    ASSERT_EQ(*n, buf.size());
    got.Update(std::span(buf.data(), *n));
    off += static_cast<int64_t>(*n);
  }
  Sha256 want;
  want.Update(Data(25, 0, static_cast<size_t>(size)));
  EXPECT_EQ(got.Hex(), want.Hex());
}

TEST_F(S3StoreTest, MissingBucketWithoutCreateIsNotFound) {
  S3StoreOptions o = Options();
  o.bucket = "glimmer-s3-test-absent-" + platform::RandomHex(4);
  o.create_bucket_on_put = false;
  auto s = S3Store::Create(o, *executor_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound) << s.status().ToString();
  EXPECT_NE(s.status().message().find(o.bucket), std::string::npos);
}

TEST_F(S3StoreTest, WrongSecretIsPermissionDenied) {
  S3StoreOptions o = Options();
  o.secret_key = "wrong-secret-key-0000000000000000000000";
  auto s = S3Store::Create(o, *executor_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kPermissionDenied) << s.status().ToString();
  EXPECT_EQ(s.status().message().find(o.secret_key), std::string::npos);
  // Also on data operations of a store whose credentials are refused later.
  o.access_key = "NOSUCHACCESSKEY";
  s = S3Store::Create(o, *executor_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kPermissionDenied) << s.status().ToString();
}

TEST_F(S3StoreTest, EndpointDownIsUnavailableQuickly) {
  // A port nobody listens on: bind an ephemeral port, then close it.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  close(fd);
  S3StoreOptions o = Options();
  o.host = "http://127.0.0.1:" + std::to_string(port);
  const auto t0 = std::chrono::steady_clock::now();
  auto s = S3Store::Create(o, *executor_);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable) << s.status().ToString();
  EXPECT_LT(secs, 3.0);
}

TEST_F(S3StoreTest, InvalidOptionsAreRejected) {
  auto bad = [&](auto mutate) {
    S3StoreOptions o = Options();
    mutate(o);
    auto s = S3Store::Create(o, *executor_);
    return !s.ok() && s.status().code() == StatusCode::kInvalidArgument;
  };
  EXPECT_TRUE(bad([](S3StoreOptions& o) { o.host = "ftp://127.0.0.1"; }));
  EXPECT_TRUE(bad([](S3StoreOptions& o) { o.host = "http://user:pw@127.0.0.1:1"; }));
  EXPECT_TRUE(bad([](S3StoreOptions& o) { o.host = "http://127.0.0.1:1/path"; }));
  EXPECT_TRUE(bad([](S3StoreOptions& o) { o.host = "http://127.0.0.1:99999"; }));
  EXPECT_TRUE(bad([](S3StoreOptions& o) { o.bucket = "a/b"; }));
  EXPECT_TRUE(bad([](S3StoreOptions& o) { o.bucket = "ab"; }));
  EXPECT_TRUE(bad([](S3StoreOptions& o) { o.large_object_chunk_size_mib = 4; }));
  EXPECT_TRUE(bad([](S3StoreOptions& o) { o.thread_pools = 0; }));
  EXPECT_TRUE(bad([](S3StoreOptions& o) { o.bucket_url_format = "weird"; }));
  EXPECT_TRUE(bad([](S3StoreOptions& o) { o.secret_key = ""; }));
  EXPECT_TRUE(bad([](S3StoreOptions& o) { o.region_name = "us east"; }));

  auto parsed = S3StoreOptions::FromConfig("cheap", {{"s3_store_host", "http://h:1"},
                                                     {"s3_store_bucket", "bkt"},
                                                     {"s3_store_create_bucket_on_put", "True"},
                                                     {"s3_store_large_object_size", "50"},
                                                     {"s3_store_large_object_chunk_size", "10"},
                                                     {"s3_store_thread_pools", "4"},
                                                     {"s3_store_incomplete_upload_ttl", "60"}});
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->store_id, "cheap");
  EXPECT_TRUE(parsed->create_bucket_on_put);
  EXPECT_EQ(parsed->large_object_size_mib, 50);
  EXPECT_EQ(parsed->large_object_chunk_size_mib, 10);
  EXPECT_EQ(parsed->thread_pools, 4);
  EXPECT_EQ(parsed->incomplete_upload_ttl_seconds, 60);
  EXPECT_FALSE(S3StoreOptions::FromConfig("x", {{"s3_store_thread_pools", "-1"}}).ok());
  EXPECT_FALSE(S3StoreOptions::FromConfig("x", {{"s3_store_create_bucket_on_put", "maybe"}}).ok());
}

TEST_F(S3StoreTest, HostileLocationsAreInvalidArgument) {
  const std::string loc = Put("img-ok", 18, 100);
  ASSERT_TRUE(store_->Owns(loc));
  const std::string prefix = "s3://" + host_port_ + "/" + bucket_ + "/";
  const std::vector<std::string> hostile = {
      "",
      "s3://",
      prefix,              // no key
      prefix + "img-ok/",  // trailing slash
      prefix + "a/b",      // two components
      prefix + "..",
      prefix + "../" + bucket_ + "/img-ok",
      prefix + ".hidden",
      prefix + "%2e%2e",
      prefix + "img%2Dok",
      prefix + "img-ok?versionId=1",
      prefix + "img-ok#frag",
      prefix + "img ok",
      prefix + "img-ok\n",
      prefix + std::string("img\0ok", 6),
      prefix + "\xc3\xa9",
      prefix + std::string(300, 'a'),
      "S3://" + host_port_ + "/" + bucket_ + "/img-ok",
      "s3+http://" + host_port_ + "/" + bucket_ + "/img-ok",
      "file:///etc/passwd",
      "s3://other.example:47480/" + bucket_ + "/img-ok",
      "s3://127.0.0.1:1/" + bucket_ + "/img-ok",
      "s3://key:secret@" + host_port_ + "/" + bucket_ + "/img-ok",
      "s3://" + host_port_ + "/other-bucket/img-ok",
      "s3://" + host_port_ + "/" + bucket_ + "x/img-ok",
      "s3://" + host_port_ + "//" + bucket_ + "/img-ok",
      "s3://" + host_port_ + "/" + bucket_ + "//img-ok",
      " " + prefix + "img-ok",
  };
  for (const std::string& h : hostile) {
    EXPECT_FALSE(store_->Owns(h)) << h;
    EXPECT_EQ(store_->Open(h).status().code(), StatusCode::kInvalidArgument) << h;
    EXPECT_EQ(store_->Delete(h).code(), StatusCode::kInvalidArgument) << h;
    EXPECT_EQ(store_->Stat(h).status().code(), StatusCode::kInvalidArgument) << h;
  }
  // Image ids that are not safe keys.
  for (const std::string& id :
       std::vector<std::string>{"", "../x", "a/b", ".x", "a b", std::string(201, 'a')}) {
    EXPECT_EQ(store_->NewWriter(id, std::nullopt).status().code(), StatusCode::kInvalidArgument)
        << id;
  }
  EXPECT_TRUE(store_->Open(loc).ok());  // the real one still works
}

}  // namespace
}  // namespace glimmer::store::s3
