#pragma once
// Image conversion: any supported format -> raw (sparse), any supported format -> qcow2 v3.
//
// Both converters first run the complete inspection (OpenImage with Limits::deep) and refuse an
// image whose verdict is not ok (Status kUnsupportedMedia "<check>: <message>", see
// FailedCheck()). Compressed clusters/grains are decoded on the executor's threads in batches;
// output is written in virtual-address order by the calling thread. Memory is bounded by the
// number of batches in flight (about 2 x threads + 2 batches of 4 MiB), never by the image.
//
// On error the sink holds partial output; the caller discards it.

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "formats/inspect.h"
#include "formats/source.h"

namespace glimmer::platform {
class Executor;
}

namespace glimmer::formats {

struct ConvertOptions {
  Limits limits;
  // Input format (Glance or qemu-img name); empty = detect. See Inspect().
  std::string format;
  // Worker threads for decoding/compressing. nullptr: a private pool of `threads` threads.
  platform::Executor* executor = nullptr;
  int threads = 0;  // 0: one per core
  // Called from the calling thread after each written batch with (virtual bytes done, total).
  std::function<void(int64_t done, int64_t total)> progress;
};

// Writes the virtual disk as raw bytes: sink size = virtual size; zero ranges (unallocated,
// zero clusters, and all-zero 4 KiB blocks of data) are left as holes, not written.
// Internal snapshots of qcow2 are ignored (the active state is converted).
// Errors: check failures (kUnsupportedMedia), kUnimplemented for luks/qed, I/O errors.
Status ConvertToRaw(Source& in, Sink& out, const ConvertOptions& options);

struct Qcow2WriteOptions {
  enum class Compression { kNone, kZlib, kZstd };
  Compression compression = Compression::kNone;
  int cluster_bits = 16;  // 64 KiB clusters (9..21)
};

// Writes a qcow2 v3 image (16-bit refcounts, no snapshots, no extensions) of the input's
// virtual disk. All-zero clusters are not allocated. With compression, each cluster is stored
// compressed unless that does not save space (then it is stored as is), as qemu-img -c does.
Status ConvertToQcow2(Source& in, Sink& out, const ConvertOptions& options,
                      const Qcow2WriteOptions& qcow2);

}  // namespace glimmer::formats
