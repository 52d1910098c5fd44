#include "store/hashing_pipeline.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <future>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "platform/executor.h"
#include "platform/fiber.h"
#include "store/testing/fault_injection_writer.h"

namespace glimmer::store {
namespace {

using testing::FaultInjectionWriter;
using testing::MemoryWriter;

std::vector<std::byte> RandomData(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> out(n);
  for (auto& b : out) b = static_cast<std::byte>(rng() & 0xff);
  return out;
}

std::string OneShotHex(const EVP_MD* md, const std::vector<std::byte>& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), out, &len, md, nullptr), 1);
  std::string hex;
  char buf[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", out[i]);
    hex += buf;
  }
  return hex;
}

// Feeds `data` through the pipeline in pieces of random length (1..buffer_size), as an HTTP body
// reader would. Returns the first Submit() error.
Status Feed(HashingPipeline& pipeline, const std::vector<std::byte>& data, uint32_t seed) {
  std::mt19937 rng(seed);
  size_t pos = 0;
  while (pos < data.size()) {
    std::span<std::byte> buf = pipeline.AcquireBuffer();
    size_t n = std::min(buf.size(), data.size() - pos);
    if (rng() % 2 == 0) n = 1 + rng() % n;  // short reads happen
    std::memcpy(buf.data(), data.data() + pos, n);
    pos += n;
    RETURN_IF_ERROR(pipeline.Submit(n));
  }
  return OkStatus();
}

HashingPipeline::Options Opts(size_t buffer_size, int buffers,
                              std::optional<int64_t> max_bytes = std::nullopt) {
  HashingPipeline::Options options;
  options.buffer_size = buffer_size;
  options.buffers = buffers;
  options.max_bytes = max_bytes;
  return options;
}

struct DigestCase {
  size_t buffer_size;
  int buffers;
  int pool_threads;
};

class HashingPipelineDigestTest : public ::testing::TestWithParam<DigestCase> {};

TEST_P(HashingPipelineDigestTest, MatchesOneShotDigestsAndSinkGetsExactBytes) {
  const DigestCase c = GetParam();
  platform::Executor pool("hash-test", c.pool_threads);
  std::mt19937 rng(c.buffer_size * 31 + c.buffers);
  const size_t b = c.buffer_size;
  std::vector<size_t> sizes = {0, 1, b - 1, b, b + 1, 2 * b, 3 * b + 7, 7 * b - 1};
  for (int i = 0; i < 6; ++i) sizes.push_back(rng() % (10 * b));
  for (size_t size : sizes) {
    SCOPED_TRACE("size=" + std::to_string(size));
    const std::vector<std::byte> data = RandomData(size, static_cast<uint32_t>(size));
    MemoryWriter sink;
    HashingPipeline pipeline(sink, pool, Opts(b, c.buffers));
    ASSERT_TRUE(Feed(pipeline, data, static_cast<uint32_t>(size) + 1).ok());
    StatusOr<HashingPipeline::Result> result = pipeline.Finish();
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->size, static_cast<int64_t>(size));
    EXPECT_EQ(result->md5_hex, OneShotHex(EVP_md5(), data));
    EXPECT_EQ(result->sha512_hex, OneShotHex(EVP_sha512(), data));
    EXPECT_TRUE(sink.bytes() == data);
    EXPECT_FALSE(sink.committed());  // committing is the caller's job
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, HashingPipelineDigestTest,
                         ::testing::Values(DigestCase{4096, 3, 2}, DigestCase{4096, 1, 1},
                                           DigestCase{1000, 2, 3}, DigestCase{64, 4, 2},
                                           DigestCase{4096, 3, 0}));

TEST(HashingPipelineTest, MultiMebibyteWithDefaultOptions) {
  platform::Executor pool("hash-test", 2);
  const std::vector<std::byte> data = RandomData((size_t{9} << 20) + 12345, 7);
  MemoryWriter sink;
  HashingPipeline pipeline(sink, pool);
  ASSERT_TRUE(Feed(pipeline, data, 8).ok());
  StatusOr<HashingPipeline::Result> result = pipeline.Finish();
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->size, static_cast<int64_t>(data.size()));
  EXPECT_EQ(result->md5_hex, OneShotHex(EVP_md5(), data));
  EXPECT_EQ(result->sha512_hex, OneShotHex(EVP_sha512(), data));
  EXPECT_TRUE(sink.bytes() == data);
}

TEST(HashingPipelineTest, EmptyUploadHasWellKnownDigests) {
  platform::Executor pool("hash-test", 1);
  MemoryWriter sink;
  HashingPipeline pipeline(sink, pool);
  StatusOr<HashingPipeline::Result> result = pipeline.Finish();
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->size, 0);
  EXPECT_EQ(result->md5_hex, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(result->sha512_hex.substr(0, 16), "cf83e1357eefb8bd");
  EXPECT_EQ(sink.appends(), 0);
}

TEST(HashingPipelineTest, ManyPipelinesShareOneSmallPool) {
  platform::Executor pool("hash-test", 2);
  platform::Executor callers("callers", 4);
  std::vector<std::future<bool>> done;
  for (int i = 0; i < 6; ++i) {
    done.push_back(callers.Submit([&pool, i] {
      const std::vector<std::byte> data = RandomData(300'000 + i * 1111, 100 + i);
      MemoryWriter sink;
      HashingPipeline pipeline(sink, pool, Opts(8192, 3));
      if (!Feed(pipeline, data, i).ok()) return false;
      StatusOr<HashingPipeline::Result> result = pipeline.Finish();
      return result.ok() && result->md5_hex == OneShotHex(EVP_md5(), data) &&
             result->sha512_hex == OneShotHex(EVP_sha512(), data) && sink.bytes() == data;
    }));
  }
  for (auto& f : done) EXPECT_TRUE(f.get());
}

TEST(HashingPipelineTest, MaxBytesIsInclusive) {
  platform::Executor pool("hash-test", 2);
  const std::vector<std::byte> data = RandomData(10'000, 1);
  MemoryWriter sink;
  HashingPipeline pipeline(sink, pool, Opts(1024, 3, 10'000));
  ASSERT_TRUE(Feed(pipeline, data, 2).ok());
  StatusOr<HashingPipeline::Result> result = pipeline.Finish();
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->size, 10'000);
}

TEST(HashingPipelineTest, MaxBytesExceededIsResourceExhausted) {
  platform::Executor pool("hash-test", 2);
  const std::vector<std::byte> data = RandomData(10'001, 1);
  MemoryWriter sink;
  HashingPipeline pipeline(sink, pool, Opts(1024, 3, 10'000));
  Status fed = Feed(pipeline, data, 3);
  EXPECT_EQ(fed.code(), StatusCode::kResourceExhausted);
  StatusOr<HashingPipeline::Result> result = pipeline.Finish();
  EXPECT_EQ(result.status().code(), StatusCode::kResourceExhausted);
  EXPECT_LE(sink.bytes().size(), 10'000u);
  // Once over the limit every later Submit reports it too.
  std::span<std::byte> buf = pipeline.AcquireBuffer();
  EXPECT_EQ(buf.size(), 1024u);
  EXPECT_FALSE(pipeline.Submit(1).ok());
}

TEST(HashingPipelineTest, SinkFailurePropagatesAndStopsWriting) {
  platform::Executor pool("hash-test", 2);
  const std::vector<std::byte> data = RandomData(1 << 20, 5);
  MemoryWriter base;
  FaultInjectionWriter sink(&base, 10'000, UnavailableError("disk went away"));
  HashingPipeline pipeline(sink, pool, Opts(4096, 3));
  Status fed = Feed(pipeline, data, 6);
  // The failure is seen by a later Submit or, at the latest, by Finish.
  EXPECT_TRUE(fed.ok() || fed.code() == StatusCode::kUnavailable) << fed.ToString();
  StatusOr<HashingPipeline::Result> result = pipeline.Finish();
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(result.status().message(), "disk went away");
  ASSERT_EQ(base.bytes().size(), 10'000u);
  EXPECT_TRUE(std::equal(base.bytes().begin(), base.bytes().end(), data.begin()));
  pipeline.Cancel();  // harmless after Finish
}

TEST(HashingPipelineTest, SinkFailureOnFirstByte) {
  platform::Executor pool("hash-test", 1);
  MemoryWriter base;
  FaultInjectionWriter sink(&base, 0, ResourceExhaustedError("Image storage media is full"));
  HashingPipeline pipeline(sink, pool, Opts(16, 2));
  const std::vector<std::byte> data = RandomData(1000, 9);
  Status fed = Feed(pipeline, data, 1);
  StatusOr<HashingPipeline::Result> result = pipeline.Finish();
  EXPECT_EQ(result.status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(base.bytes().empty());
  EXPECT_TRUE(fed.ok() || fed.code() == StatusCode::kResourceExhausted);
}

TEST(HashingPipelineTest, ApiMisuseIsReported) {
  platform::Executor pool("hash-test", 1);
  MemoryWriter sink;
  HashingPipeline pipeline(sink, pool, Opts(16, 2));
  EXPECT_EQ(pipeline.Submit(1).code(), StatusCode::kFailedPrecondition);
  std::span<std::byte> a = pipeline.AcquireBuffer();
  std::span<std::byte> again = pipeline.AcquireBuffer();  // same buffer until submitted
  EXPECT_EQ(a.data(), again.data());
  EXPECT_EQ(pipeline.Submit(17).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(pipeline.Finish().status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(pipeline.Finish().status().code(), StatusCode::kFailedPrecondition);
}

// With an Executor that never runs anything, the caller does all the work itself: a busy or
// exhausted pool slows uploads down but cannot deadlock them.
TEST(HashingPipelineTest, ProgressesWithoutAnyPoolThread) {
  platform::Executor pool("never-runs", 0);
  const std::vector<std::byte> data = RandomData(100'000, 11);
  MemoryWriter sink;
  HashingPipeline pipeline(sink, pool, Opts(1000, 3));
  ASSERT_TRUE(Feed(pipeline, data, 12).ok());
  StatusOr<HashingPipeline::Result> result = pipeline.Finish();
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->md5_hex, OneShotHex(EVP_md5(), data));
  EXPECT_TRUE(sink.bytes() == data);
}

TEST(HashingPipelineTest, CancelDropsQueuedChunks) {
  platform::Executor pool("never-runs", 0);
  MemoryWriter sink;
  {
    HashingPipeline pipeline(sink, pool, Opts(100, 3));
    for (int i = 0; i < 3; ++i) {
      std::span<std::byte> buf = pipeline.AcquireBuffer();
      std::memset(buf.data(), i, buf.size());
      ASSERT_TRUE(pipeline.Submit(buf.size()).ok());
    }
    pipeline.Cancel();
    EXPECT_EQ(pipeline.Finish().status().code(), StatusCode::kAborted);
    // After Cancel buffers are free again, so this does not block.
    pipeline.AcquireBuffer();
    EXPECT_EQ(pipeline.Submit(10).code(), StatusCode::kAborted);
  }
  EXPECT_EQ(sink.appends(), 0);
}

TEST(HashingPipelineTest, DestroyWithoutFinishIsSafeWhileJobsAreQueued) {
  MemoryWriter sink;
  platform::Executor pool("hash-test", 1);
  // Keep the only pool thread busy so that posted stage jobs outlive the pipeline.
  std::promise<void> release;
  pool.Post([f = release.get_future().share()] { f.wait(); });
  {
    HashingPipeline pipeline(sink, pool, Opts(100, 2));
    std::span<std::byte> buf = pipeline.AcquireBuffer();
    std::memset(buf.data(), 1, buf.size());
    ASSERT_TRUE(pipeline.Submit(buf.size()).ok());
  }
  release.set_value();
  // ~Executor runs the stale jobs; they must not touch the sink.
}

// A sink whose first Append blocks until released, to cancel while a write is in progress.
class GateWriter final : public Writer {
 public:
  Status Append(std::span<const std::byte> data) override {
    std::unique_lock lock(mu_);
    ++appends_;
    in_append_ = true;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
    in_append_ = false;
    return OkStatus();
  }
  StatusOr<std::string> Commit() override { return std::string("gate://"); }
  void Abort() override {}

  void WaitUntilInAppend() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return in_append_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool in_append() {
    std::lock_guard lock(mu_);
    return in_append_;
  }
  int appends() {
    std::lock_guard lock(mu_);
    return appends_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  bool in_append_ = false;
  int appends_ = 0;
};

TEST(HashingPipelineTest, CancelWaitsForRunningWrite) {
  GateWriter sink;
  platform::Executor opener("opener", 1);
  int appends_after_cancel = -1;
  {
    platform::Executor pool("hash-test", 3);
    HashingPipeline pipeline(sink, pool, Opts(100, 3));
    for (int i = 0; i < 3; ++i) {
      pipeline.AcquireBuffer();
      ASSERT_TRUE(pipeline.Submit(100).ok());
    }
    sink.WaitUntilInAppend();
    opener.Post([&sink] { sink.Open(); });
    pipeline.Cancel();
    EXPECT_FALSE(sink.in_append());
    appends_after_cancel = sink.appends();
  }  // pipeline and pool gone: nothing may have appended since Cancel returned
  EXPECT_GE(appends_after_cancel, 1);
  EXPECT_EQ(sink.appends(), appends_after_cancel);
}

// An upload driven from a fiber waits for a slow sink without holding its worker: other fibers
// on the same one-thread pool keep running, and the digests come out right.
TEST(HashingPipelineTest, FiberWaitingForTheSinkFreesItsWorker) {
  GateWriter sink;
  platform::Executor handlers("handlers", 1);
  platform::Executor pool("hash-test", 2);
  const std::vector<std::byte> data = RandomData(10 * 100, 7);
  std::promise<StatusOr<HashingPipeline::Result>> result;
  platform::SpawnFiber(handlers, [&] {
    HashingPipeline pipeline(sink, pool, Opts(100, 2));
    Status fed = Feed(pipeline, data, 3);  // blocks on the gated sink after two buffers
    if (!fed.ok()) {
      result.set_value(fed);
      return;
    }
    result.set_value(pipeline.Finish());
  });
  sink.WaitUntilInAppend();
  std::promise<void> other;
  platform::SpawnFiber(handlers, [&] { other.set_value(); });
  EXPECT_EQ(other.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  sink.Open();
  auto r = result.get_future().get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->md5_hex, OneShotHex(EVP_md5(), data));
  EXPECT_EQ(r->sha512_hex, OneShotHex(EVP_sha512(), data));
}

// Many uploads share a budget of two buffers: they all complete, correct, and give it all back.
TEST(HashingPipelineTest, ManyPipelinesShareABudget) {
  platform::MemoryBudget budget(2 * 100);
  platform::Executor pool("hash-test", 2);
  std::vector<std::thread> uploads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    uploads.emplace_back([&, i] {
      const std::vector<std::byte> data = RandomData(1000 + i, i);
      MemoryWriter sink;
      HashingPipeline::Options o = Opts(100, 3);
      o.budget = &budget;
      {
        HashingPipeline pipeline(sink, pool, o);
        if (!Feed(pipeline, data, i).ok()) return;
        auto r = pipeline.Finish();
        if (r.ok() && r->md5_hex == OneShotHex(EVP_md5(), data) && sink.bytes() == data) ++ok;
      }
    });
  }
  for (auto& t : uploads) t.join();
  EXPECT_EQ(ok.load(), 8);
  for (int i = 0; i < 200 && budget.available() != budget.total(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the last jobs let go
  }
  EXPECT_EQ(budget.available(), budget.total());
}

}  // namespace
}  // namespace glimmer::store
