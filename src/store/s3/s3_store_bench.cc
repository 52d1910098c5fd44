// Throughput of S3Store against a live S3 endpoint: writes N MiB of random data in 1 MiB
// Append() calls, then reads it back in 256 KiB ReadAt() calls, and prints MiB/s.
//
//   source /tmp/glimmer-services/env.sh
//   build/store_s3_bench [--mib N] [--chunk-mib M] [--threads T] [--keep]
//
// Uses S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; bucket glimmer-s3-bench (created).

#include <openssl/evp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "platform/executor.h"
#include "platform/random.h"
#include "store/s3/s3_store.h"

namespace {

using glimmer::store::s3::S3Store;
using glimmer::store::s3::S3StoreOptions;

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string Hex(const unsigned char* md, unsigned int len) {
  std::string out;
  char b[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(b, sizeof b, "%02x", md[i]);
    out += b;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t mib = 1024;
  int64_t chunk_mib = 64;
  int threads = 10;
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--mib" && i + 1 < argc) {
      mib = std::atoll(argv[++i]);
    } else if (a == "--chunk-mib" && i + 1 < argc) {
      chunk_mib = std::atoll(argv[++i]);
    } else if (a == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (a == "--keep") {
      keep = true;
    } else {
      std::fprintf(stderr, "usage: %s [--mib N] [--chunk-mib M] [--threads T] [--keep]\n", argv[0]);
      return 2;
    }
  }
  const char* endpoint = std::getenv("S3_ENDPOINT");
  if (endpoint == nullptr) {
    std::fprintf(stderr, "S3_ENDPOINT is not set (source /tmp/glimmer-services/env.sh)\n");
    return 2;
  }
  S3StoreOptions o;
  o.store_id = "bench";
  o.host = endpoint;
  o.access_key = std::getenv("AWS_ACCESS_KEY_ID") ? std::getenv("AWS_ACCESS_KEY_ID") : "";
  o.secret_key = std::getenv("AWS_SECRET_ACCESS_KEY") ? std::getenv("AWS_SECRET_ACCESS_KEY") : "";
  o.bucket = "glimmer-s3-bench";
  o.create_bucket_on_put = true;
  o.region_name = "default";
  o.large_object_chunk_size_mib = chunk_mib;
  o.thread_pools = threads;
  glimmer::platform::Executor executor("s3bench", threads);
  auto store = S3Store::Create(o, executor);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }

  // Random data generated once (64 MiB pool), so generation does not dominate the timing.
  const size_t kPool = size_t{64} << 20;
  const std::string pool = glimmer::platform::RandomBytes(kPool);
  const auto* bytes = reinterpret_cast<const std::byte*>(pool.data());
  const int64_t total = mib << 20;

  EVP_MD_CTX* wsha = EVP_MD_CTX_new();
  EVP_DigestInit_ex(wsha, EVP_md5(), nullptr);
  const std::string id = "bench-" + glimmer::platform::RandomHex(4);
  auto writer = (*store)->NewWriter(id, std::nullopt);
  if (!writer.ok()) {
    std::fprintf(stderr, "%s\n", writer.status().ToString().c_str());
    return 1;
  }
  auto t0 = std::chrono::steady_clock::now();
  constexpr size_t kAppend = size_t{1} << 20;
  for (int64_t off = 0; off < total; off += kAppend) {
    const std::span<const std::byte> chunk(bytes + (off % kPool), kAppend);
    EVP_DigestUpdate(wsha, chunk.data(), chunk.size());
    glimmer::Status s = (*writer)->Append(chunk);
    if (!s.ok()) {
      std::fprintf(stderr, "append: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  auto location = (*writer)->Commit();
  if (!location.ok()) {
    std::fprintf(stderr, "commit: %s\n", location.status().ToString().c_str());
    return 1;
  }
  const double up = Seconds(t0);

  auto reader = (*store)->Open(*location);
  if (!reader.ok()) {
    std::fprintf(stderr, "open: %s\n", reader.status().ToString().c_str());
    return 1;
  }
  EVP_MD_CTX* rsha = EVP_MD_CTX_new();
  EVP_DigestInit_ex(rsha, EVP_md5(), nullptr);
  std::vector<std::byte> buf(256 * 1024);
  int64_t got = 0;
  t0 = std::chrono::steady_clock::now();
  for (;;) {
    auto n = (*reader)->ReadAt(got, buf);
    if (!n.ok()) {
      std::fprintf(stderr, "read: %s\n", n.status().ToString().c_str());
      return 1;
    }
    if (*n == 0) break;
    EVP_DigestUpdate(rsha, buf.data(), *n);
    got += static_cast<int64_t>(*n);
  }
  const double down = Seconds(t0);
  unsigned char md1[EVP_MAX_MD_SIZE], md2[EVP_MAX_MD_SIZE];
  unsigned int l1 = 0, l2 = 0;
  EVP_DigestFinal_ex(wsha, md1, &l1);
  EVP_DigestFinal_ex(rsha, md2, &l2);
  EVP_MD_CTX_free(wsha);
  EVP_MD_CTX_free(rsha);
  const bool same = got == total && Hex(md1, l1) == Hex(md2, l2);
  auto info = (*store)->Stat(*location);
  std::printf(
      "S3Store %lld MiB (parts %lld MiB, %d in flight): upload %.2f s = %.0f MiB/s, "
      "download (256 KiB reads) %.2f s = %.0f MiB/s, etag %s, data %s\n",
      static_cast<long long>(mib), static_cast<long long>(chunk_mib), threads, up,
      static_cast<double>(mib) / up, down, static_cast<double>(mib) / down,
      info.ok() ? info->etag.c_str() : "?", same ? "identical" : "DIFFERENT");
  if (!keep) (void)(*store)->Delete(*location);
  return same ? 0 : 1;
}
