// Throughput of RbdStore as the API uses it: an upload in 1 MiB Append() calls (as the hashing
// pipeline hands them over), then a download in 256 KiB ReadAt() calls. Compare with
//   rbd -c $CEPH_CONF import FILE POOL/NAME   and   rbd -c $CEPH_CONF export POOL/NAME FILE
//
//   cmake --build BUILD --target store_rbd_bench
//   BUILD/src/store/rbd/store_rbd_bench [--mib N] [--file PATH] [--chunk-mib 8] [--conf C]
//                                       [--pool P] [--append-kib 1024] [--read-kib 256]
//                                       [--in-flight 4] [--read-ahead 3]
// Defaults: --conf $CEPH_CONF, --pool $CEPH_RBD_POOL (or rbd), 1024 MiB of random data.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "platform/random.h"
#include "store/rbd/rbd_store.h"

namespace {

using glimmer::Status;
using glimmer::StatusOr;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Position-dependent 64-bit checksum, fast enough not to matter next to the I/O.
struct Checksum {
  uint64_t value = 0;
  uint64_t position = 0;
  // Chunks other than the last must be multiples of 8 bytes.
  void Add(const std::byte* p, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      value += (w + 1) * (((position + i) >> 3) | 1);
    }
    for (; i < n; ++i) value += (static_cast<uint64_t>(p[i]) + 1) * (position + i + 7);
    position += n;
  }
};

int Fail(const std::string& what, const Status& status) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  glimmer::store::rbd::RbdStoreOptions options;
  options.conf_file = std::getenv("CEPH_CONF") != nullptr ? std::getenv("CEPH_CONF") : "";
  options.pool = std::getenv("CEPH_RBD_POOL") != nullptr ? std::getenv("CEPH_RBD_POOL") : "rbd";
  options.node_id = "bench-" + glimmer::platform::RandomHex(4);
  int64_t mib = 1024;
  std::string file;
  size_t append_size = 1 << 20;
  size_t read_size = 256 << 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--mib") {
      mib = std::stoll(value);
    } else if (flag == "--file") {
      file = value;
    } else if (flag == "--chunk-mib") {
      options.chunk_size_mib = std::stoi(value);
    } else if (flag == "--conf") {
      options.conf_file = value;
    } else if (flag == "--pool") {
      options.pool = value;
    } else if (flag == "--in-flight") {
      options.write_in_flight = std::stoi(value);
    } else if (flag == "--read-ahead") {
      options.read_ahead_objects = std::stoi(value);
    } else if (flag == "--append-kib") {
      append_size = std::stoul(value) << 10;
    } else if (flag == "--read-kib") {
      read_size = std::stoul(value) << 10;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (options.conf_file.empty()) {
    std::fprintf(stderr, "set CEPH_CONF or pass --conf\n");
    return 2;
  }

  StatusOr<std::unique_ptr<glimmer::store::rbd::RbdStore>> store =
      glimmer::store::rbd::RbdStore::Create(options);
  if (!store.ok()) return Fail("connect", store.status());

  std::ifstream in;
  int64_t total = mib << 20;
  if (!file.empty()) {
    in.open(file, std::ios::binary | std::ios::ate);
    if (!in) {
      std::fprintf(stderr, "cannot open %s\n", file.c_str());
      return 1;
    }
    total = static_cast<int64_t>(in.tellg());
    in.seekg(0);
  }
  // Generated data: a 16 MiB random pool, each chunk stamped with its index.
  std::vector<std::byte> pool(16 << 20);
  {
    std::mt19937_64 rng(1);
    for (size_t i = 0; i + 8 <= pool.size(); i += 8) {
      const uint64_t v = rng();
      std::memcpy(pool.data() + i, &v, 8);
    }
  }

  const std::string id = "glimmer-bench-" + glimmer::platform::RandomHex(4);
  Checksum written;
  std::vector<std::byte> chunk(append_size);
  const auto write_start = Clock::now();
  StatusOr<std::unique_ptr<glimmer::store::Writer>> writer = (*store)->NewWriter(id, total);
  if (!writer.ok()) return Fail("new writer", writer.status());
  for (int64_t done = 0, index = 0; done < total; ++index) {
    const size_t n = static_cast<size_t>(std::min<int64_t>(append_size, total - done));
    if (in.is_open()) {
      in.read(reinterpret_cast<char*>(chunk.data()), static_cast<std::streamsize>(n));
      if (static_cast<size_t>(in.gcount()) != n) {
        std::fprintf(stderr, "short read from %s\n", file.c_str());
        return 1;
      }
    } else {
      const size_t from = static_cast<size_t>(done) % (pool.size() - n + 1);
      std::memcpy(chunk.data(), pool.data() + from, n);
      std::memcpy(chunk.data(), &index, std::min<size_t>(n, sizeof index));
    }
    written.Add(chunk.data(), n);
    Status appended = (*writer)->Append(std::span(chunk).first(n));
    if (!appended.ok()) return Fail("append", appended);
    done += static_cast<int64_t>(n);
  }
  StatusOr<std::string> location = (*writer)->Commit();
  if (!location.ok()) return Fail("commit", location.status());
  const double write_seconds = Seconds(Clock::now() - write_start);
  writer->reset();

  Checksum read;
  std::vector<std::byte> buf(read_size);
  const auto read_start = Clock::now();
  StatusOr<std::unique_ptr<glimmer::store::Reader>> reader = (*store)->Open(*location);
  if (!reader.ok()) return Fail("open", reader.status());
  int64_t offset = 0;
  while (true) {
    StatusOr<size_t> n = (*reader)->ReadAt(offset, buf);
    if (!n.ok()) return Fail("read", n.status());
    if (*n == 0) break;
    read.Add(buf.data(), *n);
    offset += static_cast<int64_t>(*n);
  }
  const double read_seconds = Seconds(Clock::now() - read_start);
  reader->reset();

  const double total_mib = static_cast<double>(total) / (1 << 20);
  std::printf(
      "image %s: %.0f MiB, objects %d MiB, appends %zu KiB, reads %zu KiB, "
      "%d writes in flight, %d objects read ahead\n",
      location->c_str(), total_mib, options.chunk_size_mib, append_size >> 10, read_size >> 10,
      options.write_in_flight, options.read_ahead_objects);
  std::printf("write+commit: %.2f s  %.0f MiB/s\n", write_seconds, total_mib / write_seconds);
  std::printf("read:         %.2f s  %.0f MiB/s\n", read_seconds, total_mib / read_seconds);
  const bool same = offset == total && read.value == written.value;
  std::printf("read back %s\n", same ? "identical" : "DIFFERENT");
  Status deleted = (*store)->Delete(*location);
  if (!deleted.ok()) return Fail("delete", deleted);
  return same ? 0 : 1;
}
