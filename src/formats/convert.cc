#include "formats/convert.h"

#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "formats/byte_order.h"
#include "formats/image.h"
#include "platform/executor.h"

namespace glimmer::formats {
namespace {

using internal::Extent;

constexpr int64_t kBatchBytes = int64_t{4} << 20;  // virtual bytes per decode/read task
constexpr int64_t kZeroGranule = 4096;             // hole detection granularity of raw output

// Fixed-size buffers reused across batches (avoids page-faulting fresh memory per batch).
class BufferPool {
 public:
  explicit BufferPool(size_t size) : size_(size) {}
  std::unique_ptr<std::byte[]> Get() {
    std::lock_guard lock(mu_);
    if (free_.empty()) return std::unique_ptr<std::byte[]>(new std::byte[size_]);
    auto b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  void Put(std::unique_ptr<std::byte[]> b) {
    if (!b) return;
    std::lock_guard lock(mu_);
    free_.push_back(std::move(b));
  }
  size_t size() const { return size_; }

 private:
  size_t size_;
  std::mutex mu_;
  std::vector<std::unique_ptr<std::byte[]>> free_;
};

// Per-thread codec state.
struct Codecs {
  libdeflate_decompressor* inflate = nullptr;
  ZSTD_DCtx* zstd_d = nullptr;
  ZSTD_CCtx* zstd_c = nullptr;
  z_stream deflate{};
  bool deflate_ready = false;
  std::vector<std::byte> scratch;
  std::vector<std::byte> input;
  ~Codecs() {
    if (inflate) libdeflate_free_decompressor(inflate);
    if (zstd_d) ZSTD_freeDCtx(zstd_d);
    if (zstd_c) ZSTD_freeCCtx(zstd_c);
    if (deflate_ready) deflateEnd(&deflate);
  }
};
thread_local Codecs tls_codecs;

Status BadCluster(int64_t vaddr, const std::string& why) {
  return CheckFailure("compressed_cluster",
                      "compressed data for guest offset " + std::to_string(vaddr) + " " + why);
}

// Decodes `in` into exactly `capacity` bytes at `out` (qcow2) or at least `need` (vmdk).
Status Decode(Extent::Kind kind, std::span<const std::byte> in, std::byte* out, int64_t capacity,
              int64_t need, int64_t vaddr) {
  Codecs& c = tls_codecs;
  size_t produced = 0;
  if (kind == Extent::Kind::kDeflate || kind == Extent::Kind::kZlib) {
    if (!c.inflate) c.inflate = libdeflate_alloc_decompressor();
    if (!c.inflate) return ResourceExhaustedError("out of memory for a decompressor");
    size_t used = 0;
    libdeflate_result r =
        kind == Extent::Kind::kDeflate
            ? libdeflate_deflate_decompress_ex(c.inflate, in.data(), in.size(), out,
                                               static_cast<size_t>(capacity), &used, &produced)
            : libdeflate_zlib_decompress_ex(c.inflate, in.data(), in.size(), out,
                                            static_cast<size_t>(capacity), &used, &produced);
    if (r == LIBDEFLATE_INSUFFICIENT_SPACE)
      return BadCluster(vaddr, "decodes to more than one cluster");
    if (r != LIBDEFLATE_SUCCESS) return BadCluster(vaddr, "is not a valid deflate stream");
  } else {
    if (!c.zstd_d) c.zstd_d = ZSTD_createDCtx();
    if (!c.zstd_d) return ResourceExhaustedError("out of memory for a decompressor");
    ZSTD_DCtx_reset(c.zstd_d, ZSTD_reset_session_only);
    ZSTD_inBuffer ib{in.data(), in.size(), 0};
    ZSTD_outBuffer ob{out, static_cast<size_t>(capacity), 0};
    for (;;) {
      size_t r = ZSTD_decompressStream(c.zstd_d, &ob, &ib);
      if (ZSTD_isError(r))
        return BadCluster(vaddr, std::string("is not a valid zstd frame: ") + ZSTD_getErrorName(r));
      if (r == 0) break;  // frame complete (trailing padding ignored)
      if (ob.pos == ob.size) {
        // Output full: the frame must end here, with no more data to produce.
        std::byte extra;
        ZSTD_outBuffer probe{&extra, 1, 0};
        r = ZSTD_decompressStream(c.zstd_d, &probe, &ib);
        if (ZSTD_isError(r) || probe.pos != 0)
          return BadCluster(vaddr, "decodes to more than one cluster");
        if (r == 0) break;
      }
      if (ib.pos == ib.size) return BadCluster(vaddr, "is a truncated zstd frame");
    }
    produced = ob.pos;
  }
  if (kind == Extent::Kind::kZlib ? static_cast<int64_t>(produced) < need
                                  : static_cast<int64_t>(produced) != capacity) {
    return BadCluster(vaddr, "decodes to " + std::to_string(produced) + " bytes instead of " +
                                 std::to_string(kind == Extent::Kind::kZlib ? need : capacity));
  }
  return OkStatus();
}

Status WriteSparse(Sink& out, int64_t offset, const std::byte* data, int64_t length);

// A contiguous run of non-zero virtual data, filled by a worker.
struct Batch {
  int64_t vaddr = 0;
  int64_t length = 0;
  std::vector<std::pair<int64_t, Extent>> extents;  // (offset in batch, extent)
  std::unique_ptr<std::byte[]> buf;
  Status status;
};

Status DecodeInto(Source& src, const Extent& e, std::span<const std::byte> in, std::byte* dst,
                  int64_t vaddr) {
  (void)src;
  if (e.length == e.decoded) return Decode(e.kind, in, dst, e.decoded, e.length, vaddr);
  Codecs& c = tls_codecs;
  if (c.scratch.size() < static_cast<size_t>(e.decoded))
    c.scratch.resize(static_cast<size_t>(e.decoded));
  RETURN_IF_ERROR(Decode(e.kind, in, c.scratch.data(), e.decoded, e.length, vaddr));
  std::memcpy(dst, c.scratch.data(), static_cast<size_t>(e.length));
  return OkStatus();
}

Status FillBatch(Source& src, Batch& b) {
  std::byte* base = b.buf.get();
  auto& ex = b.extents;
  for (size_t i = 0; i < ex.size();) {
    const Extent& e = ex[i].second;
    if (e.kind == Extent::Kind::kData) {
      RETURN_IF_ERROR(
          ReadExact(src, e.offset, {base + ex[i].first, static_cast<size_t>(e.length)}));
      ++i;
      continue;
    }
    // A run of compressed extents stored close together: one read, then decode each.
    size_t j = i + 1;
    int64_t start = e.offset, end = e.offset + e.stored, sum = e.stored;
    while (j < ex.size() && ex[j].second.compressed()) {
      const Extent& n = ex[j].second;
      int64_t nend = std::max(end, n.offset + n.stored);
      if (n.offset < start || nend - start > 2 * sum + 65536 + n.stored) break;
      end = nend;
      sum += n.stored;
      ++j;
    }
    Codecs& c = tls_codecs;
    if (c.input.size() < static_cast<size_t>(end - start))
      c.input.resize(static_cast<size_t>(end - start));
    RETURN_IF_ERROR(ReadExact(src, start, {c.input.data(), static_cast<size_t>(end - start)}));
    for (; i < j; ++i) {
      const Extent& x = ex[i].second;
      std::span<const std::byte> in(c.input.data() + (x.offset - start),
                                    static_cast<size_t>(x.stored));
      RETURN_IF_ERROR(DecodeInto(src, x, in, base + ex[i].first, b.vaddr + ex[i].first));
    }
  }
  return OkStatus();
}

// What the reader hands to a consumer, in virtual-address order: data == nullptr means zeros.
struct Chunk {
  int64_t vaddr;
  int64_t length;
  const std::byte* data;
};
using ChunkFn = std::function<Status(const Chunk&)>;

// Walks the image and delivers its content in order, reading/decoding on the executor.
class VirtualReader {
 public:
  // `direct`: a sink written by the workers themselves (sparse raw output) right after filling a
  // batch; the consumer then only sees (vaddr, length, nullptr-or-data) for progress.
  VirtualReader(Source& src, internal::Image& image, platform::Executor& exec, BufferPool& pool,
                Sink* direct = nullptr)
      : src_(src),
        image_(image),
        exec_(exec),
        pool_(pool),
        direct_(direct),
        max_inflight_(static_cast<size_t>(2 * exec.size() + 2)) {}

  Status Run(const ChunkFn& consume) {
    consume_ = &consume;
    Status st = image_.Walk([this](int64_t vaddr, const Extent& e) { return OnExtent(vaddr, e); });
    if (st.ok()) st = FlushBatch();
    while (st.ok() && !queue_.empty()) st = PopFront();
    // Never leave a task running that references our buffers or the source.
    for (auto& item : queue_) {
      if (item.done.valid()) item.done.wait();
      if (item.batch) pool_.Put(std::move(item.batch->buf));
    }
    queue_.clear();
    return st;
  }

 private:
  struct Item {
    int64_t vaddr, length;
    std::shared_ptr<Batch> batch;  // null: zeros
    std::future<void> done;
  };

  Status OnExtent(int64_t vaddr, const Extent& e) {
    if (e.kind == Extent::Kind::kZero) {
      RETURN_IF_ERROR(FlushBatch());
      queue_.push_back({vaddr, e.length, nullptr, {}});
      return Drain();
    }
    if (e.kind == Extent::Kind::kData) {
      int64_t done = 0;
      while (done < e.length) {
        if (!cur_) Start(vaddr + done);
        int64_t take = std::min(e.length - done, kBatchBytes - cur_->length);
        Extent piece = e;
        piece.offset = e.offset + done;
        piece.length = take;
        cur_->extents.push_back({cur_->length, piece});
        cur_->length += take;
        done += take;
        if (cur_->length == kBatchBytes) RETURN_IF_ERROR(FlushBatch());
      }
      return OkStatus();
    }
    if (cur_ && cur_->length + e.length > kBatchBytes) RETURN_IF_ERROR(FlushBatch());
    if (!cur_) Start(vaddr);
    cur_->extents.push_back({cur_->length, e});
    cur_->length += e.length;
    return OkStatus();
  }

  void Start(int64_t vaddr) {
    cur_ = std::make_shared<Batch>();
    cur_->vaddr = vaddr;
  }

  Status FlushBatch() {
    if (!cur_) return OkStatus();
    auto b = std::move(cur_);
    cur_.reset();
    b->buf = pool_.Get();
    Source* src = &src_;
    Sink* direct = direct_;
    auto fut = exec_.Submit([src, b, direct] {
      b->status = FillBatch(*src, *b);
      if (b->status.ok() && direct)
        b->status = WriteSparse(*direct, b->vaddr, b->buf.get(), b->length);
    });
    queue_.push_back({b->vaddr, b->length, b, std::move(fut)});
    return Drain();
  }

  Status Drain() {
    while (queue_.size() > max_inflight_) RETURN_IF_ERROR(PopFront());
    return OkStatus();
  }

  Status PopFront() {
    Item item = std::move(queue_.front());
    queue_.pop_front();
    Status st;
    if (item.batch) {
      item.done.wait();
      st = item.batch->status;
      if (st.ok()) st = (*consume_)({item.vaddr, item.length, item.batch->buf.get()});
      pool_.Put(std::move(item.batch->buf));
    } else {
      st = (*consume_)({item.vaddr, item.length, nullptr});
    }
    return st;
  }

  Source& src_;
  internal::Image& image_;
  platform::Executor& exec_;
  BufferPool& pool_;
  Sink* direct_;
  size_t max_inflight_;
  const ChunkFn* consume_ = nullptr;
  std::shared_ptr<Batch> cur_;
  std::deque<Item> queue_;
};

struct Prepared {
  internal::Opened opened;
  std::unique_ptr<platform::Executor> own_executor;
  platform::Executor* exec = nullptr;
};

StatusOr<Prepared> Prepare(Source& in, const ConvertOptions& options) {
  Limits limits = options.limits;
  limits.deep = true;
  Prepared p;
  ASSIGN_OR_RETURN(p.opened, internal::OpenImage(in, limits, options.format));
  const Inspection& info = p.opened.info;
  if (!info.verdict.ok()) return CheckFailure(info.verdict.check, info.verdict.message);
  if (!p.opened.image) return UnimplementedError("cannot convert " + info.format + " images");
  p.exec = options.executor;
  if (!p.exec) {
    int n = options.threads > 0
                ? options.threads
                : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    p.own_executor = std::make_unique<platform::Executor>("img-convert", n);
    p.exec = p.own_executor.get();
  }
  return p;
}

// Writes the non-zero 4 KiB runs of `data` at `offset`.
Status WriteSparse(Sink& out, int64_t offset, const std::byte* data, int64_t length) {
  int64_t i = 0;
  while (i < length) {
    int64_t g = std::min(kZeroGranule, length - i);
    if (internal::IsZero(data + i, static_cast<size_t>(g))) {
      i += g;
      continue;
    }
    int64_t j = i + g;
    while (j < length) {
      int64_t h = std::min(kZeroGranule, length - j);
      if (internal::IsZero(data + j, static_cast<size_t>(h))) break;
      j += h;
    }
    RETURN_IF_ERROR(out.WriteAt(offset + i, {data + i, static_cast<size_t>(j - i)}));
    i = j;
  }
  return OkStatus();
}

}  // namespace

Status ConvertToRaw(Source& in, Sink& out, const ConvertOptions& options) {
  ASSIGN_OR_RETURN(Prepared p, Prepare(in, options));
  const int64_t total = p.opened.size();
  RETURN_IF_ERROR(out.SetSize(total));
  BufferPool pool(static_cast<size_t>(kBatchBytes));
  Sink* direct = out.SupportsConcurrentWrites() ? &out : nullptr;
  VirtualReader reader(in, *p.opened.image, *p.exec, pool, direct);
  RETURN_IF_ERROR(reader.Run([&](const Chunk& c) -> Status {
    if (c.data && !direct) RETURN_IF_ERROR(WriteSparse(out, c.vaddr, c.data, c.length));
    if (options.progress) options.progress(c.vaddr + c.length, total);
    return OkStatus();
  }));
  return out.Finish();
}

// ---------------------------------------------------------------------------------------------
// qcow2 writer

namespace {

constexpr uint64_t kCopiedFlag = 1ull << 63;
constexpr uint64_t kCompressedFlag = 1ull << 62;

// Output of compressing one batch of clusters (worker side).
struct CBatch {
  int64_t vaddr = 0;  // cluster aligned
  int64_t clusters = 0;
  std::unique_ptr<std::byte[]> in;   // clusters * cluster bytes of input
  std::unique_ptr<std::byte[]> out;  // compressed bytes, concatenated
  std::vector<int32_t> sizes;        // per cluster: 0 zero, -1 store uncompressed, >0 compressed
  Status status;
};

Status CompressBatch(CBatch& b, int64_t cluster, Qcow2WriteOptions::Compression comp) {
  Codecs& c = tls_codecs;
  b.sizes.assign(static_cast<size_t>(b.clusters), 0);
  size_t pos = 0;
  for (int64_t i = 0; i < b.clusters; ++i) {
    const std::byte* src = b.in.get() + i * cluster;
    if (internal::IsZero(src, static_cast<size_t>(cluster))) continue;
    if (comp == Qcow2WriteOptions::Compression::kNone) {
      b.sizes[i] = -1;
      continue;
    }
    std::byte* dst = b.out.get() + pos;
    size_t limit = static_cast<size_t>(cluster - 1);
    size_t n = 0;
    bool fits = false;
    if (comp == Qcow2WriteOptions::Compression::kZlib) {
      if (!c.deflate_ready) {
        if (deflateInit2(&c.deflate, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9,
                         Z_DEFAULT_STRATEGY) != Z_OK) {
          return ResourceExhaustedError("deflateInit2 failed");
        }
        c.deflate_ready = true;
      } else {
        deflateReset(&c.deflate);
      }
      c.deflate.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(src));
      c.deflate.avail_in = static_cast<uInt>(cluster);
      c.deflate.next_out = reinterpret_cast<Bytef*>(dst);
      c.deflate.avail_out = static_cast<uInt>(limit);
      int r = deflate(&c.deflate, Z_FINISH);
      if (r == Z_STREAM_END) {
        fits = true;
        n = limit - c.deflate.avail_out;
      }
    } else {
      if (!c.zstd_c) c.zstd_c = ZSTD_createCCtx();
      if (!c.zstd_c) return ResourceExhaustedError("out of memory for a compressor");
      size_t r = ZSTD_compressCCtx(c.zstd_c, dst, limit, src, static_cast<size_t>(cluster),
                                   ZSTD_CLEVEL_DEFAULT);
      if (!ZSTD_isError(r)) {
        fits = true;
        n = r;
      }
    }
    if (fits) {
      b.sizes[i] = static_cast<int32_t>(n);
      pos += n;
    } else {
      b.sizes[i] = -1;
    }
  }
  return OkStatus();
}

class Qcow2Writer {
 public:
  Qcow2Writer(Sink& out, int64_t vsize, const Qcow2WriteOptions& q, platform::Executor& exec)
      : out_(out),
        vsize_(vsize),
        q_(q),
        exec_(exec),
        bits_(q.cluster_bits),
        cluster_(int64_t{1} << q.cluster_bits),
        l2_entries_(cluster_ / 8),
        batch_clusters_(std::max<int64_t>(1, kBatchBytes / cluster_)),
        pool_(static_cast<size_t>(batch_clusters_ * cluster_)),
        max_inflight_(static_cast<size_t>(2 * exec.size() + 2)) {}

  Status Begin() {
    l1_size_ = internal::DivRoundUp(vsize_, cluster_ * l2_entries_);
    if (l1_size_ * 8 > (int64_t{32} << 20))
      return InvalidArgumentError("virtual size too large for qcow2 L1");
    l1_.assign(static_cast<size_t>(l1_size_), 0);
    int64_t l1_clusters = std::max<int64_t>(1, internal::DivRoundUp(l1_size_ * 8, cluster_));
    end_ = 0;
    AllocCluster();  // header
    for (int64_t i = 0; i < l1_clusters; ++i) AllocCluster();
    RETURN_IF_ERROR(out_.SetSize(0));
    return OkStatus();
  }

  // Consumes the virtual disk in order.
  Status Add(const Chunk& c) {
    int64_t done = 0;
    if (q_.compression == Qcow2WriteOptions::Compression::kNone && c.data && !pending_ &&
        c.vaddr % cluster_ == 0 && queue_.empty()) {
      // Uncompressed fast path: whole clusters go straight from the reader's buffer to the sink.
      int64_t whole = c.length / cluster_;
      for (int64_t i = 0; i < whole; ++i) {
        const std::byte* src = c.data + i * cluster_;
        if (internal::IsZero(src, static_cast<size_t>(cluster_))) continue;
        RETURN_IF_ERROR(PlaceUncompressed(c.vaddr / cluster_ + i, src));
      }
      RETURN_IF_ERROR(FlushRun());
      done = whole * cluster_;
    }
    while (done < c.length) {
      int64_t vaddr = c.vaddr + done;
      if (!pending_) {
        if (!c.data && vaddr % cluster_ == 0) {
          // Whole zero clusters are skipped without touching memory.
          int64_t skip = (c.length - done) / cluster_ * cluster_;
          if (skip > 0) {
            done += skip;
            continue;
          }
        }
        StartPending(vaddr - vaddr % cluster_);
      }
      int64_t filled = vaddr - pending_->vaddr;
      int64_t room = pending_->clusters * cluster_ - filled;
      int64_t take = std::min(room, c.length - done);
      if (c.data) {
        std::memcpy(pending_->in.get() + filled, c.data + done, static_cast<size_t>(take));
      } else {
        std::memset(pending_->in.get() + filled, 0, static_cast<size_t>(take));
      }
      done += take;
      if (take == room) RETURN_IF_ERROR(FlushPending(pending_->clusters));
    }
    return OkStatus();
  }

  Status Finish() {
    if (pending_) {
      int64_t filled = vsize_ - pending_->vaddr;
      int64_t clusters = internal::DivRoundUp(filled, cluster_);
      std::memset(pending_->in.get() + filled, 0,
                  static_cast<size_t>(clusters * cluster_ - filled));
      RETURN_IF_ERROR(FlushPending(clusters));
    }
    while (!queue_.empty()) RETURN_IF_ERROR(PopFront());
    RETURN_IF_ERROR(FlushL2());
    RETURN_IF_ERROR(FlushWrites());
    // L1 table at cluster 1.
    std::vector<std::byte> l1(static_cast<size_t>(l1_size_ * 8));
    for (int64_t i = 0; i < l1_size_; ++i) internal::StoreBE(l1.data() + i * 8, l1_[i], 8);
    if (!l1.empty()) RETURN_IF_ERROR(out_.WriteAt(cluster_, l1));
    // Refcount blocks and table at the end; they must count themselves.
    const int64_t per_block = cluster_ / 2;  // 16-bit refcounts
    int64_t data_clusters = internal::DivRoundUp(end_, cluster_);
    int64_t blocks = 0, table = 0;
    for (;;) {
      int64_t total = data_clusters + blocks + table;
      int64_t nb = internal::DivRoundUp(total, per_block);
      int64_t nt = std::max<int64_t>(1, internal::DivRoundUp(nb * 8, cluster_));
      if (nb == blocks && nt == table) break;
      blocks = nb;
      table = nt;
    }
    int64_t table_off = AllocCluster();
    for (int64_t i = 1; i < table; ++i) AllocCluster();
    std::vector<int64_t> block_offs;
    for (int64_t i = 0; i < blocks; ++i) block_offs.push_back(AllocCluster());
    std::vector<std::byte> tbl(static_cast<size_t>(table * cluster_));
    for (int64_t i = 0; i < blocks; ++i)
      internal::StoreBE(tbl.data() + i * 8, static_cast<uint64_t>(block_offs[i]), 8);
    std::vector<std::byte> blk(static_cast<size_t>(cluster_));
    for (int64_t b = 0; b < blocks; ++b) {
      std::fill(blk.begin(), blk.end(), std::byte{0});
      for (int64_t k = 0; k < per_block; ++k) {
        int64_t idx = b * per_block + k;
        if (idx >= static_cast<int64_t>(refcount_.size())) break;
        if (refcount_[idx] > 0xffff) return InternalError("refcount overflow");
        internal::StoreBE(blk.data() + k * 2, refcount_[idx], 2);
      }
      RETURN_IF_ERROR(out_.WriteAt(block_offs[b], blk));
    }
    RETURN_IF_ERROR(out_.WriteAt(table_off, tbl));
    // Header.
    std::vector<std::byte> h(static_cast<size_t>(cluster_));
    std::memcpy(h.data(), "QFI\xfb", 4);
    internal::StoreBE(&h[4], 3, 4);
    internal::StoreBE(&h[20], static_cast<uint64_t>(bits_), 4);
    internal::StoreBE(&h[24], static_cast<uint64_t>(vsize_), 8);
    internal::StoreBE(&h[36], static_cast<uint64_t>(l1_size_), 4);
    internal::StoreBE(&h[40], static_cast<uint64_t>(cluster_), 8);
    internal::StoreBE(&h[48], static_cast<uint64_t>(table_off), 8);
    internal::StoreBE(&h[56], static_cast<uint64_t>(table), 4);
    bool zstd = q_.compression == Qcow2WriteOptions::Compression::kZstd;
    internal::StoreBE(&h[72], zstd ? 8 : 0, 8);
    internal::StoreBE(&h[96], 4, 4);
    internal::StoreBE(&h[100], 112, 4);
    h[104] = std::byte{static_cast<uint8_t>(zstd ? 1 : 0)};
    RETURN_IF_ERROR(out_.WriteAt(0, h));
    RETURN_IF_ERROR(out_.SetSize(RoundUp(end_)));
    return out_.Finish();
  }

 private:
  int64_t RoundUp(int64_t v) const { return (v + cluster_ - 1) / cluster_ * cluster_; }

  void Ref(int64_t from, int64_t to_inclusive) {
    int64_t a = from >> bits_, b = to_inclusive >> bits_;
    if (static_cast<int64_t>(refcount_.size()) <= b)
      refcount_.resize(static_cast<size_t>(b + 1), 0);
    for (int64_t i = a; i <= b; ++i) ++refcount_[i];
  }

  int64_t AllocCluster() {
    int64_t off = RoundUp(end_);
    end_ = off + cluster_;
    Ref(off, off);
    return off;
  }

  void StartPending(int64_t vaddr) {
    pending_ = std::make_shared<CBatch>();
    pending_->vaddr = vaddr;
    pending_->clusters = std::min(batch_clusters_, internal::DivRoundUp(vsize_ - vaddr, cluster_));
    pending_->in = pool_.Get();
  }

  Status FlushPending(int64_t clusters) {
    auto b = std::move(pending_);
    pending_.reset();
    b->clusters = clusters;
    auto comp = q_.compression;
    int64_t cluster = cluster_;
    std::future<void> fut;
    if (comp != Qcow2WriteOptions::Compression::kNone) {
      b->out = pool_.Get();
    }
    fut = exec_.Submit([b, cluster, comp] { b->status = CompressBatch(*b, cluster, comp); });
    queue_.push_back({b, std::move(fut)});
    while (queue_.size() > max_inflight_) RETURN_IF_ERROR(PopFront());
    return OkStatus();
  }

  Status PopFront() {
    auto [b, fut] = std::move(queue_.front());
    queue_.pop_front();
    fut.wait();
    Status st = b->status.ok() ? Commit(*b) : b->status;
    pool_.Put(std::move(b->in));
    pool_.Put(std::move(b->out));
    return st;
  }

  // Sets the L2 entry for guest cluster `vc`, switching (and allocating) L2 tables as needed.
  Status SetL2(int64_t vc, uint64_t entry) {
    int64_t l1i = vc / l2_entries_;
    if (l1i != cur_l1_) {
      RETURN_IF_ERROR(FlushL2());
      cur_l1_ = l1i;
      l2_.assign(static_cast<size_t>(l2_entries_), 0);
      RETURN_IF_ERROR(FlushRun());
      RETURN_IF_ERROR(FlushWrites());
      l2_off_ = AllocCluster();
      l1_[l1i] = static_cast<uint64_t>(l2_off_) | kCopiedFlag;
    }
    l2_[vc % l2_entries_] = entry;
    return OkStatus();
  }

  Status FlushL2() {
    if (cur_l1_ < 0) return OkStatus();
    std::vector<std::byte> t(static_cast<size_t>(cluster_));
    for (int64_t i = 0; i < l2_entries_; ++i) internal::StoreBE(t.data() + i * 8, l2_[i], 8);
    cur_l1_ = -1;
    return out_.WriteAt(l2_off_, t);
  }

  // Uncompressed clusters are written straight from the batch input, in runs.
  Status FlushRun() {
    if (run_len_ == 0) return OkStatus();
    Status st = out_.WriteAt(run_off_, {run_src_, static_cast<size_t>(run_len_)});
    run_len_ = 0;
    return st;
  }

  // Compressed bytes are appended at the end of the file through a write-combining buffer.
  Status AppendBytes(int64_t off, const std::byte* p, size_t n) {
    if (wb_.empty()) wb_off_ = off;
    if (wb_off_ + static_cast<int64_t>(wb_.size()) != off ||
        wb_.size() + n > static_cast<size_t>(kBatchBytes)) {
      RETURN_IF_ERROR(FlushWrites());
      wb_off_ = off;
    }
    wb_.insert(wb_.end(), p, p + n);
    return OkStatus();
  }

  Status FlushWrites() {
    if (wb_.empty()) return OkStatus();
    Status st = out_.WriteAt(wb_off_, wb_);
    wb_.clear();
    return st;
  }

  // Allocates guest cluster `vc` uncompressed with its data at `src` (written in runs; the caller
  // calls FlushRun() before `src` goes away).
  Status PlaceUncompressed(int64_t vc, const std::byte* src) {
    // Allocate the L2 table first so the data cluster address is known.
    RETURN_IF_ERROR(SetL2(vc, 0));
    int64_t off = AllocCluster();
    if (run_len_ > 0 && run_off_ + run_len_ == off && run_src_ + run_len_ == src &&
        run_len_ < kBatchBytes) {
      run_len_ += cluster_;
    } else {
      RETURN_IF_ERROR(FlushRun());
      run_off_ = off;
      run_src_ = src;
      run_len_ = cluster_;
    }
    return SetL2(vc, static_cast<uint64_t>(off) | kCopiedFlag);
  }

  Status Commit(CBatch& b) {
    size_t pos = 0;
    const uint32_t x = 62 - (bits_ - 8);
    for (int64_t i = 0; i < b.clusters; ++i) {
      int32_t s = b.sizes[i];
      if (s == 0) continue;
      int64_t vc = b.vaddr / cluster_ + i;
      if (s < 0) {
        RETURN_IF_ERROR(PlaceUncompressed(vc, b.in.get() + i * cluster_));
      } else {
        RETURN_IF_ERROR(SetL2(vc, 0));
        int64_t off = end_;
        int64_t extra = ((off + s - 1) >> 9) - (off >> 9);
        end_ = off + s;
        Ref(off, (off & ~int64_t{511}) + (extra + 1) * 512 - 1);
        RETURN_IF_ERROR(AppendBytes(off, b.out.get() + pos, static_cast<size_t>(s)));
        pos += static_cast<size_t>(s);
        RETURN_IF_ERROR(SetL2(vc, kCompressedFlag | (static_cast<uint64_t>(extra) << x) |
                                      static_cast<uint64_t>(off)));
      }
    }
    return FlushRun();
  }

  Sink& out_;
  int64_t vsize_;
  Qcow2WriteOptions q_;
  platform::Executor& exec_;
  int bits_;
  int64_t cluster_, l2_entries_, batch_clusters_;
  BufferPool pool_;
  size_t max_inflight_;
  int64_t l1_size_ = 0;
  std::vector<uint64_t> l1_;
  int64_t cur_l1_ = -1, l2_off_ = 0;
  std::vector<uint64_t> l2_;
  int64_t end_ = 0;
  std::vector<uint32_t> refcount_;
  std::shared_ptr<CBatch> pending_;
  std::deque<std::pair<std::shared_ptr<CBatch>, std::future<void>>> queue_;
  int64_t run_off_ = 0, run_len_ = 0;
  const std::byte* run_src_ = nullptr;
  std::vector<std::byte> wb_;
  int64_t wb_off_ = 0;

 public:
  ~Qcow2Writer() {
    for (auto& [b, f] : queue_) {
      if (f.valid()) f.wait();
    }
  }
};

}  // namespace

Status ConvertToQcow2(Source& in, Sink& out, const ConvertOptions& options,
                      const Qcow2WriteOptions& qcow2) {
  if (qcow2.cluster_bits < 9 || qcow2.cluster_bits > 21)
    return InvalidArgumentError("cluster_bits must be 9..21");
  ASSIGN_OR_RETURN(Prepared p, Prepare(in, options));
  const int64_t total = p.opened.size();
  Qcow2Writer writer(out, total, qcow2, *p.exec);
  RETURN_IF_ERROR(writer.Begin());
  BufferPool pool(static_cast<size_t>(kBatchBytes));
  VirtualReader reader(in, *p.opened.image, *p.exec, pool);
  RETURN_IF_ERROR(reader.Run([&](const Chunk& c) -> Status {
    RETURN_IF_ERROR(writer.Add(c));
    if (options.progress) options.progress(c.vaddr + c.length, total);
    return OkStatus();
  }));
  return writer.Finish();
}

}  // namespace glimmer::formats
