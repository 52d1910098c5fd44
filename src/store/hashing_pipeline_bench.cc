// Micro-benchmark: streams N GiB (default 2) of in-memory data through
//   baseline  - one thread: copy into a buffer, MD5, SHA-512, sink Append, in sequence;
//   pipeline  - HashingPipeline (MD5, SHA-512 and the write overlapping on the pool);
// into (a) a null sink and (b) a FilesystemStore on /tmp (page cache, no fsync), and prints
// MiB/s and CPU seconds. The copy into the buffer stands in for reading the HTTP body.
//
// Usage: store_bench [GiB=2] [pool_threads=2] [buffer_KiB=1024] [buffers=3] [dir=/tmp]

#include <openssl/evp.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "platform/executor.h"
#include "store/filesystem/filesystem_store.h"
#include "store/hashing_pipeline.h"
#include "store/testing/fault_injection_writer.h"

namespace glimmer::store {
namespace {

constexpr size_t kBuffer = size_t{1} << 20;  // baseline's buffer
constexpr size_t kSourceSize = size_t{64} << 20;

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// Returns an error message or "".
std::string Baseline(const std::vector<std::byte>& source, int64_t total, Writer& sink) {
  EVP_MD_CTX* md5 = EVP_MD_CTX_new();
  EVP_MD_CTX* sha = EVP_MD_CTX_new();
  EVP_DigestInit_ex(md5, EVP_md5(), nullptr);
  EVP_DigestInit_ex(sha, EVP_sha512(), nullptr);
  std::vector<std::byte> buf(kBuffer);
  std::string error;
  for (int64_t done = 0; done < total && error.empty();) {
    const size_t n = static_cast<size_t>(std::min<int64_t>(kBuffer, total - done));
    std::memcpy(buf.data(), source.data() + done % kSourceSize, n);
    EVP_DigestUpdate(md5, buf.data(), n);
    EVP_DigestUpdate(sha, buf.data(), n);
    Status status = sink.Append(std::span(buf).first(n));
    if (!status.ok()) error = status.ToString();
    done += static_cast<int64_t>(n);
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len;
  EVP_DigestFinal_ex(md5, out, &len);
  EVP_DigestFinal_ex(sha, out, &len);
  EVP_MD_CTX_free(md5);
  EVP_MD_CTX_free(sha);
  return error;
}

std::string WriteOnly(const std::vector<std::byte>& source, int64_t total, Writer& sink) {
  std::vector<std::byte> buf(kBuffer);
  for (int64_t done = 0; done < total;) {
    const size_t n = static_cast<size_t>(std::min<int64_t>(kBuffer, total - done));
    std::memcpy(buf.data(), source.data() + done % kSourceSize, n);
    Status status = sink.Append(std::span(buf).first(n));
    if (!status.ok()) return status.ToString();
    done += static_cast<int64_t>(n);
  }
  return "";
}

std::string Pipeline(const std::vector<std::byte>& source, int64_t total, Writer& sink,
                     platform::Executor& pool, const HashingPipeline::Options& options) {
  HashingPipeline pipeline(sink, pool, options);
  for (int64_t done = 0; done < total;) {
    std::span<std::byte> buf = pipeline.AcquireBuffer();
    const size_t n = static_cast<size_t>(std::min<int64_t>(buf.size(), total - done));
    std::memcpy(buf.data(), source.data() + done % kSourceSize, n);
    Status status = pipeline.Submit(n);
    if (!status.ok()) return status.ToString();
    done += static_cast<int64_t>(n);
  }
  StatusOr<HashingPipeline::Result> result = pipeline.Finish();
  return result.ok() ? "" : result.status().ToString();
}

void Run(const char* name, int64_t total, const std::function<std::string()>& body) {
  const double cpu0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  const std::string error = body();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = CpuSeconds() - cpu0;
  if (!error.empty()) {
    std::printf("%-38s FAILED: %s\n", name, error.c_str());
    return;
  }
  std::printf("%-38s %8.1f MiB/s  (%.2f s wall, %.2f s CPU)\n", name,
              static_cast<double>(total) / (1 << 20) / secs, secs, cpu);
  std::fflush(stdout);
}

int Main(int argc, char** argv) {
  const double gib = argc > 1 ? std::atof(argv[1]) : 2.0;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  HashingPipeline::Options options;
  if (argc > 3) options.buffer_size = static_cast<size_t>(std::atoi(argv[3])) << 10;
  if (argc > 4) options.buffers = std::atoi(argv[4]);
  const std::string base = argc > 5 ? argv[5] : "/tmp";
  const int64_t total = static_cast<int64_t>(gib * (int64_t{1} << 30));

  std::vector<std::byte> source(kSourceSize);
  std::mt19937_64 rng(42);
  for (size_t i = 0; i < source.size(); i += 8) {
    const uint64_t v = rng();
    std::memcpy(source.data() + i, &v, 8);
  }
  std::string tmpl = base + "/glimmer-bench-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  StatusOr<std::unique_ptr<filesystem::FilesystemStore>> store =
      filesystem::FilesystemStore::Create("file", tmpl, /*fsync=*/false);
  if (!store.ok()) {
    std::fprintf(stderr, "store: %s\n", store.status().ToString().c_str());
    return 1;
  }
  platform::Executor pool("bench-hash", threads);
  std::printf("%.2f GiB per case; pipeline: %d x %zu KiB buffers, pool of %d threads; store: %s\n",
              gib, options.buffers, options.buffer_size >> 10, threads, tmpl.c_str());

  auto to_store = [&](const std::function<std::string(Writer&)>& fn) -> std::string {
    StatusOr<std::unique_ptr<Writer>> writer = (*store)->NewWriter("bench", total);
    if (!writer.ok()) return writer.status().ToString();
    std::string error = fn(**writer);
    if (!error.empty()) return error;
    StatusOr<std::string> location = (*writer)->Commit();
    if (!location.ok()) return location.status().ToString();
    Status deleted = (*store)->Delete(*location);
    return deleted.ok() ? "" : deleted.ToString();
  };

  Run("baseline (1 thread) -> null", total, [&] {
    testing::NullWriter sink;
    return Baseline(source, total, sink);
  });
  Run("pipeline -> null", total, [&] {
    testing::NullWriter sink;
    return Pipeline(source, total, sink, pool, options);
  });
  Run("no hashing, write only -> filesystem", total,
      [&] { return to_store([&](Writer& w) { return WriteOnly(source, total, w); }); });
  Run("baseline (1 thread) -> filesystem", total,
      [&] { return to_store([&](Writer& w) { return Baseline(source, total, w); }); });
  Run("pipeline -> filesystem", total, [&] {
    return to_store([&](Writer& w) { return Pipeline(source, total, w, pool, options); });
  });

  rmdir((tmpl + "/.incoming").c_str());
  rmdir(tmpl.c_str());
  return 0;
}

}  // namespace
}  // namespace glimmer::store

int main(int argc, char** argv) { return glimmer::store::Main(argc, argv); }
