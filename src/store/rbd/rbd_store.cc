#include "store/rbd/rbd_store.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <exception>
#include <list>
#include <map>
#include <mutex>
#include <rados/librados.hpp>
#include <rbd/librbd.hpp>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "platform/random.h"
#include "store/rbd/rbd_errors.h"
#include "store/rbd/rbd_location.h"

namespace glimmer::store::rbd {

namespace internal {

// A read-only handle of one image at one snapshot, shared by the Readers of that snapshot (an
// open librbd image costs ~0.4 MiB and several round trips; librbd takes reads from several
// threads at once). Closed when the last Reader goes.
struct OpenImage {
  librbd::Image image;
  std::string id;  // the RBD image id: a name removed and created again gets a new one
  int64_t size = 0;
  uint64_t object_size = 0;

  ~OpenImage() { image.close(); }
};

// The connection to the cluster, shared by the store and its Writers/Readers. librados::IoCtx
// may be used for I/O from several threads at once; its settings are never changed after
// Create().
struct Cluster {
  librados::Rados rados;
  librados::IoCtx io;
  std::string fsid;  // lowercase
  std::string pool;
  std::string intents;  // the intent object of this node: glimmer_incomplete.<node id>
  // Bytes of read-ahead the Readers may still take (read_ahead_budget_mib in all).
  std::atomic<int64_t> read_ahead_left{0};
  std::mutex open_images_mutex;
  std::map<std::string, std::weak_ptr<OpenImage>> open_images;  // by "<image>@<snapshot>"

  ~Cluster() {
    io.close();
    rados.shutdown();
  }
};

}  // namespace internal

namespace {

using internal::Cluster;
using internal::OpenImage;

constexpr const char* kSnapshotName = "snap";
constexpr const char* kIncompleteKey = "glimmer.incomplete";
constexpr const char* kIntentObjectPrefix = "glimmer_incomplete.";
// How librbd keeps image metadata in the image header object (cls_rbd, format 2). Only used to
// find candidates quickly in CleanupIncomplete(); the decision is made through librbd.
constexpr const char* kHeaderPrefix = "rbd_header.";
constexpr const char* kHeaderMetadataPrefix = "metadata_";
constexpr size_t kMaxImageIdLength = 80;
constexpr uint64_t kMaxGrowStep = uint64_t{1} << 30;
constexpr int kRemoveAttempts = 5;
// Read-ahead unit (at most one object): small enough that a download that just started, or a
// store with many downloads, holds little; large enough that librbd reads at full speed.
constexpr uint64_t kMaxReadUnit = uint64_t{2} << 20;
// A consumer that comes back for more only after this long reads slower than ~5 MiB/s in the
// server's 256 KiB hops: direct reads keep up with it, and read-ahead would sit idle in memory.
constexpr auto kSlowConsumerGap = std::chrono::milliseconds(50);
// Read-ahead starts once a consumer read this much sequentially while keeping up: a download
// whose client is slow also reads quickly at first, until the socket's buffers are full.
constexpr uint64_t kReadAheadAfter = uint64_t{4} << 20;

// Runs fn(), turning any exception thrown by librados/librbd (or bad_alloc) into Internal.
template <typename Fn>
auto Guarded(std::string_view operation, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return InternalError(std::string(operation) + ": " + e.what());
  } catch (...) {
    return InternalError(std::string(operation) + ": unknown exception");
  }
}

// True when all n bytes are zero; exits at the first non-zero 64-byte block.
bool IsAllZero(const char* p, size_t n) {
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    uint64_t w[8];
    std::memcpy(w, p + i, sizeof w);
    if ((w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7]) != 0) return false;
  }
  for (; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

// An AioCompletion that is released (after its operation finished) when it goes away.
class Completion {
 public:
  Completion() : c_(new librbd::RBD::AioCompletion(nullptr, nullptr)) {}
  ~Completion() {
    if (submitted_) c_->wait_for_complete();
    c_->release();
  }
  Completion(const Completion&) = delete;
  Completion& operator=(const Completion&) = delete;

  librbd::RBD::AioCompletion* get() { return c_; }
  // Call once the operation was accepted (the aio_* call returned 0).
  void set_submitted() { submitted_ = true; }
  bool IsComplete() { return c_->is_complete(); }
  // Waits for the operation; its result (bytes or negative errno).
  ssize_t Wait() {
    c_->wait_for_complete();
    submitted_ = false;
    return c_->get_return_value();
  }

 private:
  librbd::RBD::AioCompletion* c_;
  bool submitted_ = false;
};

// rbd.remove(), retried briefly while the image is still watched (opened) by someone: a client
// that just closed it, or a watch that has not timed out yet.
int RemoveImage(librados::IoCtx& io, const std::string& name) {
  librbd::RBD rbd;
  int r = 0;
  for (int attempt = 0; attempt < kRemoveAttempts; ++attempt) {
    r = rbd.remove(io, name.c_str());
    if (r != -EBUSY) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50 << attempt));
  }
  return r;
}

Status RemoveImageStatus(librados::IoCtx& io, const std::string& name) {
  const int r = RemoveImage(io, name);
  if (r == 0) return OkStatus();
  if (r == -ENOENT) return NotFoundError("image data not found in the rbd store");
  if (r == -ENOTEMPTY) {
    return FailedPreconditionError("rbd image " + name + " has snapshots left");
  }
  if (r == -EBUSY) {
    return UnavailableError("rbd image " + name + " is in use (open by another client)");
  }
  if (r == -EMLINK) {
    return FailedPreconditionError("rbd image " + name + " is a member of a group");
  }
  return RbdErrorToStatus(r, "remove rbd image");
}

// NotFound, or Unavailable if `name` stays open read-write (watched) by some client over a few
// brief retries. Read-only opens, such as this store's Readers, do not count.
Status WaitUntilClosedByOthers(librados::IoCtx& io, const std::string& name) {
  librbd::RBD rbd;
  size_t watchers = 0;
  for (int attempt = 0; attempt < kRemoveAttempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50 << attempt));
    librbd::Image image;
    int r = rbd.open_read_only(io, image, name.c_str(), nullptr);
    if (r == -ENOENT) return NotFoundError("image data not found in the rbd store");
    if (r < 0) return RbdErrorToStatus(r, "open rbd image");
    std::list<librbd::image_watcher_t> list;
    r = image.list_watchers(list);
    image.close();
    if (r < 0) return RbdErrorToStatus(r, "list watchers of rbd image");
    watchers = list.size();
    if (watchers == 0) return OkStatus();
  }
  return UnavailableError("rbd image " + name + " is in use (open by " + std::to_string(watchers) +
                          " client(s))");
}

// The intent log (see rbd_store.h): names of the RBD images this node is creating, as omap keys
// of its intent object, so that an image is known before it exists.
int AddIntent(librados::IoCtx& io, const std::string& object, const std::string& name) {
  std::map<std::string, ceph::bufferlist> keys;
  keys[name];  // the key is the record; no value
  return io.omap_set(object, keys);
}

int RemoveIntent(librados::IoCtx& io, const std::string& object, const std::string& name) {
  const int r = io.omap_rm_keys(object, std::set<std::string>{name});
  return r == -ENOENT ? 0 : r;
}

class RbdWriter final : public Writer {
 public:
  RbdWriter(std::shared_ptr<Cluster> cluster, std::string name,
            std::unique_ptr<librbd::Image> image, uint64_t size, uint64_t object_size,
            const RbdStoreOptions& options)
      : cluster_(std::move(cluster)),
        name_(std::move(name)),
        location_(FormatRbdLocation(cluster_->fsid, cluster_->pool, name_, kSnapshotName)),
        image_(std::move(image)),
        size_(size),
        object_size_(object_size),
        thin_(options.thin_provisioning),
        max_in_flight_(static_cast<size_t>(options.write_in_flight)) {}
  ~RbdWriter() override { Abort(); }

  Status Append(std::span<const std::byte> data) override {
    if (finished_) return FailedPreconditionError("image writer is finished");
    if (!error_.ok()) return error_;
    Status status = Guarded("write image data", [&]() -> Status {
      const char* p = reinterpret_cast<const char*>(data.data());
      size_t left = data.size();
      while (left > 0) {
        if (fill_ == 0 && buffer_.length() == 0) NewBuffer();
        const size_t take = std::min<uint64_t>(left, object_size_ - fill_);
        // copy_in() also drops the CRCs the messenger caches in a buffer it has sent: a reused
        // buffer with stale ones would be refused by the OSD and resent forever.
        buffer_.copy_in(static_cast<unsigned>(fill_), static_cast<unsigned>(take), p);
        fill_ += take;
        p += take;
        left -= take;
        if (fill_ == object_size_) RETURN_IF_ERROR(WriteBuffer());
      }
      return OkStatus();
    });
    if (!status.ok()) error_ = status;
    return status;
  }

  StatusOr<std::string> Commit() override {
    if (finished_) return FailedPreconditionError("image writer is finished");
    Status status = Guarded("commit image data", [&]() { return Finish(); });
    if (!status.ok()) {
      Abort();
      return status;
    }
    finished_ = true;
    return location_;
  }

  void Abort() override {
    if (finished_) return;
    finished_ = true;
    (void)Guarded("abort image upload", [&]() -> Status {
      in_flight_.clear();  // waits for each write
      if (image_ != nullptr) {
        if (snapshot_created_) {
          image_->snap_unprotect(kSnapshotName);  // fails harmlessly if it was not protected
          image_->snap_remove(kSnapshotName);
        }
        image_->close();
        image_.reset();
      }
      // On failure the image keeps its glimmer.incomplete mark and intent: CleanupIncomplete()
      // removes it at the next start of this node.
      const int r = RemoveImage(cluster_->io, name_);
      if (r == 0 || r == -ENOENT) RemoveIntent(cluster_->io, cluster_->intents, name_);
      return OkStatus();
    });
  }

  std::string location() const override { return location_; }

 private:
  struct PendingWrite {
    ceph::bufferptr buffer;  // declared before `completion`: outlive the operation
    ceph::bufferlist data;
    Completion completion;
  };

  // buffer_ = an object-sized buffer: a spare one when there is one (page faults on fresh
  // 8 MiB buffers cost as much CPU as copying the data into them), else a new one.
  void NewBuffer() {
    if (!spare_.empty()) {
      buffer_ = std::move(spare_.back());
      spare_.pop_back();
      return;
    }
    buffer_ = ceph::bufferptr(ceph::buffer::create_page_aligned(object_size_));
  }

  // Writes the buffered bytes (an object, or the tail) at offset written_, unless thin
  // provisioning finds them all zero.
  Status WriteBuffer() {
    const uint64_t length = fill_;
    if (length == 0) return OkStatus();
    const uint64_t offset = written_;
    if (!(thin_ && IsAllZero(buffer_.c_str(), length))) {
      RETURN_IF_ERROR(EnsureSize(offset + length));
      while (in_flight_.size() >= max_in_flight_) RETURN_IF_ERROR(WaitOldest());
      auto pending = std::make_unique<PendingWrite>();
      pending->data.append(buffer_, 0, static_cast<unsigned>(length));
      pending->buffer = std::move(buffer_);
      buffer_ = ceph::bufferptr();
      const int r = image_->aio_write(offset, length, pending->data, pending->completion.get());
      if (r < 0) return RbdErrorToStatus(r, "write image data");
      pending->completion.set_submitted();
      in_flight_.push_back(std::move(pending));
    }  // else: the image reads as zeros there already; reuse the buffer
    written_ += length;
    fill_ = 0;
    return OkStatus();
  }

  Status WaitOldest() {
    std::unique_ptr<PendingWrite> oldest = std::move(in_flight_.front());
    in_flight_.pop_front();
    const ssize_t r = oldest->completion.Wait();
    if (r < 0) return RbdErrorToStatus(static_cast<int>(r), "write image data");
    // librbd may keep referencing the data after completing the write (its writeback and
    // writearound caches): reuse the buffer only when nobody else holds it.
    oldest->data.clear();
    if (oldest->buffer.raw_nref() == 1 && spare_.size() < 2) {
      spare_.push_back(std::move(oldest->buffer));
    }
    return OkStatus();
  }

  // Grows the image so that `end` fits, in steps that double up to 1 GiB.
  Status EnsureSize(uint64_t end) {
    if (end <= size_) return OkStatus();
    const uint64_t step = std::clamp(size_, object_size_, kMaxGrowStep);
    const uint64_t new_size = std::max(end, size_ + step);
    const int r = image_->resize(new_size);
    if (r < 0) return RbdErrorToStatus(r, "grow rbd image");
    size_ = new_size;
    return OkStatus();
  }

  Status Finish() {
    RETURN_IF_ERROR(error_);
    RETURN_IF_ERROR(WriteBuffer());
    while (!in_flight_.empty()) RETURN_IF_ERROR(WaitOldest());
    if (size_ != written_) {
      const int r = image_->resize(written_);
      if (r < 0) return RbdErrorToStatus(r, "resize rbd image");
      size_ = written_;
    }
    int r = image_->flush();
    if (r < 0) return RbdErrorToStatus(r, "flush rbd image");
    r = image_->snap_create(kSnapshotName);
    if (r < 0) return RbdErrorToStatus(r, "create rbd snapshot");
    snapshot_created_ = true;
    r = image_->snap_protect(kSnapshotName);
    if (r < 0) return RbdErrorToStatus(r, "protect rbd snapshot");
    r = image_->metadata_remove(kIncompleteKey);
    if (r < 0) return RbdErrorToStatus(r, "unmark rbd image");
    // Committed: a failing close() cannot lose anything (the data is flushed and snapshotted),
    // and an intent left behind is dropped by CleanupIncomplete(), which keeps the image for its
    // protected snapshot.
    image_->close();
    image_.reset();
    RemoveIntent(cluster_->io, cluster_->intents, name_);
    return OkStatus();
  }

  std::shared_ptr<Cluster> cluster_;
  std::string name_;
  std::string location_;
  std::unique_ptr<librbd::Image> image_;
  uint64_t size_;  // current size of the RBD image
  uint64_t object_size_;
  bool thin_;
  size_t max_in_flight_;
  ceph::bufferptr buffer_;              // object_size_ bytes, of which fill_ are data
  std::vector<ceph::bufferptr> spare_;  // finished buffers nobody else references
  uint64_t fill_ = 0;
  uint64_t written_ = 0;  // bytes handed over before buffer_ (always a multiple of object size)
  std::deque<std::unique_ptr<PendingWrite>> in_flight_;
  Status error_;
  bool snapshot_created_ = false;
  bool finished_ = false;
};

// Read-ahead data a Reader holds, taken from the store-wide budget and given back when the
// chunk goes.
class BudgetShare {
 public:
  BudgetShare() = default;
  BudgetShare(const BudgetShare&) = delete;
  BudgetShare& operator=(const BudgetShare&) = delete;
  ~BudgetShare() {
    if (cluster_ != nullptr) cluster_->read_ahead_left.fetch_add(bytes_);
  }

  // Takes `bytes` if that much is left.
  bool Take(Cluster& cluster, int64_t bytes) {
    int64_t left = cluster.read_ahead_left.load();
    do {
      if (left < bytes) return false;
    } while (!cluster.read_ahead_left.compare_exchange_weak(left, left - bytes));
    cluster_ = &cluster;
    bytes_ = bytes;
    return true;
  }

 private:
  Cluster* cluster_ = nullptr;
  int64_t bytes_ = 0;
};

class RbdReader final : public Reader {
 public:
  RbdReader(std::shared_ptr<Cluster> cluster, std::shared_ptr<OpenImage> open, uint64_t unit,
            size_t max_ahead)
      : cluster_(std::move(cluster)),
        open_(std::move(open)),
        image_(&open_->image),
        size_(open_->size),
        unit_(unit),
        max_ahead_(max_ahead) {}
  ~RbdReader() override {
    (void)Guarded("close rbd image", [&]() -> Status {
      window_.clear();  // waits for each read
      open_.reset();
      return OkStatus();
    });
  }

  int64_t size() const override { return size_; }

  StatusOr<size_t> ReadAt(int64_t offset, std::span<std::byte> out) override {
    if (offset < 0) return OutOfRangeError("negative read offset");
    if (offset >= size_ || out.empty()) return size_t{0};
    const size_t n = static_cast<size_t>(std::min<uint64_t>(out.size(), size_ - offset));
    const uint64_t pos = static_cast<uint64_t>(offset);
    return Guarded("read image data", [&]() -> StatusOr<size_t> {
      // Read-ahead only pays for a consumer that keeps up with it (see rbd_store.h).
      const bool keeps_up = Clock::now() - last_return_ < kSlowConsumerGap;
      const bool sequential = pos == next_sequential_ || InWindow(pos);
      next_sequential_ = pos + n;
      keeping_up_bytes_ = keeps_up && sequential ? keeping_up_bytes_ + n : 0;
      StatusOr<size_t> done = size_t{0};
      if (max_ahead_ > 0 && keeping_up_bytes_ > kReadAheadAfter) {
        done = ReadThroughWindow(pos, out.first(n));
        if (!done.ok()) DropWindow();
      } else {
        DropWindow();
        done = ReadDirect(pos, out.first(n));
      }
      last_return_ = Clock::now();
      return done;
    });
  }

 private:
  using Clock = std::chrono::steady_clock;

  struct Chunk {
    BudgetShare share;  // declared first: given back once the data below is gone
    uint64_t index = 0;
    uint64_t offset = 0;
    uint64_t length = 0;
    ceph::bufferlist data;  // declared before `completion`: outlives the operation
    Completion completion;
    bool done = false;
    ceph::bufferlist::const_iterator cursor;  // where the last copy ended (once done)
  };

  bool InWindow(uint64_t pos) const {
    return !window_.empty() && pos >= window_.front()->offset &&
           pos < window_.back()->offset + window_.back()->length;
  }

  // Gives the window's memory back; the next read-ahead starts again one unit deep.
  void DropWindow() {
    window_.clear();  // waits for each read
    ahead_ = 1;
  }

  StatusOr<size_t> ReadDirect(uint64_t pos, std::span<std::byte> out) {
    ceph::bufferlist bl;
    const ssize_t r = image_->read(pos, out.size(), bl);
    if (r < 0) return RbdErrorToStatus(static_cast<int>(r), "read image data");
    const size_t got = std::min<size_t>(static_cast<size_t>(r), bl.length());
    bl.begin().copy(static_cast<unsigned>(got), reinterpret_cast<char*>(out.data()));
    return got;
  }

  // Starts reading chunk `index`; false (nothing started) when the budget has no room for it.
  StatusOr<bool> Issue(uint64_t index) {
    auto chunk = std::make_unique<Chunk>();
    chunk->index = index;
    chunk->offset = index * unit_;
    chunk->length = std::min<uint64_t>(unit_, size_ - chunk->offset);
    if (!chunk->share.Take(*cluster_, static_cast<int64_t>(chunk->length))) return false;
    const int r =
        image_->aio_read(chunk->offset, chunk->length, chunk->data, chunk->completion.get());
    if (r < 0) return RbdErrorToStatus(r, "read image data");
    chunk->completion.set_submitted();
    window_.push_back(std::move(chunk));
    return true;
  }

  // Serves [pos, pos + out.size()) from unit-sized chunks read ahead with aio_read; the window
  // holds the chunk at the read position and up to ahead_ chunks after it, as far as the budget
  // allows. Without room for the chunk at the read position, the rest is read directly.
  StatusOr<size_t> ReadThroughWindow(uint64_t pos, std::span<std::byte> out) {
    size_t done = 0;
    while (done < out.size()) {
      const uint64_t at = pos + done;
      const uint64_t index = at / unit_;
      while (!window_.empty() && window_.front()->index < index) window_.pop_front();
      if (!window_.empty() && window_.front()->index != index) window_.clear();
      if (window_.empty()) {
        ASSIGN_OR_RETURN(const bool issued, Issue(index));
        if (!issued) {
          ASSIGN_OR_RETURN(const size_t got, ReadDirect(at, out.subspan(done)));
          return done + got;
        }
      }
      while (window_.size() <= ahead_) {
        const uint64_t next = window_.back()->index + 1;
        if (next * unit_ >= static_cast<uint64_t>(size_)) break;
        ASSIGN_OR_RETURN(const bool issued, Issue(next));
        if (!issued) break;
      }
      Chunk& chunk = *window_.front();
      if (!chunk.done) {
        // The consumer caught up with the reads: one more chunk ahead from now on.
        if (!chunk.completion.IsComplete()) ahead_ = std::min(ahead_ + 1, max_ahead_);
        const ssize_t r = chunk.completion.Wait();
        if (r < 0) return RbdErrorToStatus(static_cast<int>(r), "read image data");
        if (chunk.data.length() < chunk.length) return InternalError("short rbd read");
        chunk.done = true;
        chunk.cursor = std::as_const(chunk.data).begin();
      }
      const uint64_t in_chunk = at - chunk.offset;
      const size_t take =
          static_cast<size_t>(std::min<uint64_t>(out.size() - done, chunk.length - in_chunk));
      // Sequential reads continue where the last one ended (seeking walks the buffer list).
      if (chunk.cursor.get_off() != in_chunk)
        chunk.cursor = std::as_const(chunk.data).begin(in_chunk);
      chunk.cursor.copy(static_cast<unsigned>(take), reinterpret_cast<char*>(out.data() + done));
      done += take;
      if (in_chunk + take == chunk.length) window_.pop_front();
    }
    return done;
  }

  std::shared_ptr<Cluster> cluster_;  // keeps the connection up while the image is open
  std::shared_ptr<OpenImage> open_;
  librbd::Image* image_;  // open_->image
  int64_t size_;
  uint64_t unit_;     // read-ahead unit: kMaxReadUnit, or the object size if smaller
  size_t max_ahead_;  // the deepest read-ahead, in units (0: none)
  size_t ahead_ = 1;  // chunks read ahead of the current one, now
  uint64_t next_sequential_ = 0;
  uint64_t keeping_up_bytes_ = 0;  // read sequentially by this consumer while it kept up
  Clock::time_point last_return_{};  // when the last ReadAt returned (never: long ago)
  std::deque<std::unique_ptr<Chunk>> window_;  // consecutive chunks
};

bool IsPowerOfTwo(int v) { return v > 0 && (v & (v - 1)) == 0; }

Status ValidateOptions(const RbdStoreOptions& o) {
  if (o.store_id.empty()) return InvalidArgumentError("rbd store: empty store id");
  if (o.pool.empty() || o.pool.find_first_of("/@") != std::string::npos) {
    return InvalidArgumentError("rbd store: bad pool name '" + o.pool + "'");
  }
  if (!IsPowerOfTwo(o.chunk_size_mib) || o.chunk_size_mib > 32) {
    return InvalidArgumentError("rbd store: rbd_store_chunk_size must be a power of 2 in 1..32");
  }
  if (o.user.empty()) return InvalidArgumentError("rbd store: empty rados user");
  if (o.node_id.empty()) return InvalidArgumentError("rbd store: empty node id");
  if (o.connect_timeout_seconds < 0 || o.osd_op_timeout_seconds < 0) {
    return InvalidArgumentError("rbd store: negative timeout");
  }
  if (o.write_in_flight < 1 || o.write_in_flight > 64 || o.read_ahead_objects < 0 ||
      o.read_ahead_objects > 64) {
    return InvalidArgumentError("rbd store: write_in_flight must be 1..64, read_ahead 0..64");
  }
  if (o.read_ahead_budget_mib < 0 || o.read_ahead_budget_mib > 4096) {
    return InvalidArgumentError("rbd store: read_ahead_budget_mib must be 0..4096");
  }
  return OkStatus();
}

}  // namespace

RbdStore::RbdStore(RbdStoreOptions options, std::shared_ptr<internal::Cluster> cluster)
    : options_(std::move(options)), cluster_(std::move(cluster)) {
  info_.id = options_.store_id;
  info_.type = "rbd";
  info_.description = options_.description;
}

RbdStore::~RbdStore() = default;

const std::string& RbdStore::fsid() const { return cluster_->fsid; }
const std::string& RbdStore::pool() const { return cluster_->pool; }

StatusOr<std::unique_ptr<RbdStore>> RbdStore::Create(RbdStoreOptions options) {
  RETURN_IF_ERROR(ValidateOptions(options));
  return Guarded("connect to ceph", [&]() -> StatusOr<std::unique_ptr<RbdStore>> {
    auto cluster = std::make_shared<Cluster>();
    // Glance's rbd_store_user is a rados id ("glance"); librados wants the entity name.
    const std::string name =
        options.user.find('.') == std::string::npos ? "client." + options.user : options.user;
    int r = cluster->rados.init2(name.c_str(), "ceph", 0);
    if (r < 0) return RbdErrorToStatus(r, "initialise rados client " + name);
    r = cluster->rados.conf_read_file(options.conf_file.c_str());
    if (r < 0) {
      return InvalidArgumentError("cannot read ceph configuration " + options.conf_file + ": " +
                                  std::strerror(-r));
    }
    if (options.connect_timeout_seconds > 0) {
      const std::string t = std::to_string(options.connect_timeout_seconds);
      for (const char* key : {"client_mount_timeout", "rados_mon_op_timeout"}) {
        r = cluster->rados.conf_set(key, t.c_str());
        if (r < 0) return RbdErrorToStatus(r, std::string("set ") + key);
      }
    }
    if (options.osd_op_timeout_seconds > 0) {
      r = cluster->rados.conf_set("rados_osd_op_timeout",
                                  std::to_string(options.osd_op_timeout_seconds).c_str());
      if (r < 0) return RbdErrorToStatus(r, "set rados_osd_op_timeout");
    }
    r = cluster->rados.connect();
    if (r < 0) {
      return UnavailableError("cannot connect to the ceph cluster (" + options.conf_file + ", " +
                              name + "): " + std::strerror(-r));
    }
    r = cluster->rados.ioctx_create(options.pool.c_str(), cluster->io);
    if (r == -ENOENT) {
      return NotFoundError("ceph pool '" + options.pool + "' does not exist");
    }
    if (r < 0) return RbdErrorToStatus(r, "open ceph pool '" + options.pool + "'");
    // Like `rbd rm`: when the pool or cluster is full, writes fail with ENOSPC/EDQUOT
    // (ResourceExhausted) instead of waiting for space forever, and deletes still go through.
    cluster->io.set_pool_full_try();
    r = cluster->rados.cluster_fsid(&cluster->fsid);
    if (r < 0) return RbdErrorToStatus(r, "read ceph cluster fsid");
    std::transform(cluster->fsid.begin(), cluster->fsid.end(), cluster->fsid.begin(),
                   [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; });
    cluster->pool = options.pool;
    cluster->intents = kIntentObjectPrefix + options.node_id;
    cluster->read_ahead_left = int64_t{options.read_ahead_budget_mib} << 20;
    return std::unique_ptr<RbdStore>(new RbdStore(std::move(options), std::move(cluster)));
  });
}

namespace {

// A location of this store: fsid and pool are ours; the short form resolves to our pool and the
// image head.
StatusOr<RbdLocation> Resolve(const Cluster& cluster, std::string_view uri) {
  ASSIGN_OR_RETURN(RbdLocation location, ParseRbdLocation(uri));
  if (location.short_form()) {
    location.pool = cluster.pool;
    return location;
  }
  if (location.fsid != cluster.fsid) {
    return InvalidArgumentError("rbd location is in another ceph cluster");
  }
  if (location.pool != cluster.pool) {
    return InvalidArgumentError("rbd location is in another pool than this store's");
  }
  return location;
}

}  // namespace

bool RbdStore::Owns(std::string_view location) const { return Resolve(*cluster_, location).ok(); }

StatusOr<std::unique_ptr<Writer>> RbdStore::NewWriter(std::string_view image_id,
                                                      std::optional<int64_t> size_hint) {
  if (image_id.size() > kMaxImageIdLength || !IsValidRbdName(image_id)) {
    return InvalidArgumentError("image id is not usable as an rbd image name");
  }
  if (size_hint.has_value() && *size_hint < 0) return InvalidArgumentError("negative size");
  const uint64_t size = size_hint.value_or(0);
  const int order = 20 + std::countr_zero(static_cast<unsigned>(options_.chunk_size_mib));
  return Guarded("create rbd image", [&]() -> StatusOr<std::unique_ptr<Writer>> {
    librados::IoCtx& io = cluster_->io;
    librbd::RBD rbd;
    librbd::ImageOptions image_options;
    image_options.set(RBD_IMAGE_OPTION_FORMAT, uint64_t{2});
    image_options.set(RBD_IMAGE_OPTION_ORDER, static_cast<uint64_t>(order));
    // The cluster's rbd_default_features, and layering in any case (clones need it).
    image_options.set(RBD_IMAGE_OPTION_FEATURES_SET, uint64_t{RBD_FEATURE_LAYERING});
    // The intent goes first: a crash at any point after it leaves a name that
    // CleanupIncomplete() follows, whether or not the image got its mark.
    std::string name(image_id);
    int r = AddIntent(io, cluster_->intents, name);
    if (r < 0) return RbdErrorToStatus(r, "record rbd image creation");
    r = rbd.create4(io, name.c_str(), size, image_options);
    if (r == -EEXIST) {
      // Committed data (or another upload) holds the name: never touch it. (A crash before the
      // intent is gone leaves it naming that image; CleanupIncomplete() keeps committed or
      // other nodes' images.)
      r = RemoveIntent(io, cluster_->intents, name);
      if (r < 0) return RbdErrorToStatus(r, "record rbd image creation");
      name += "." + platform::RandomHex(6);
      r = AddIntent(io, cluster_->intents, name);
      if (r < 0) return RbdErrorToStatus(r, "record rbd image creation");
      r = rbd.create4(io, name.c_str(), size, image_options);
    }
    if (r < 0) {
      RemoveIntent(io, cluster_->intents, name);
      return RbdErrorToStatus(r, "create rbd image");
    }
    if (options_.test_hook) options_.test_hook("created");
    auto image = std::make_unique<librbd::Image>();
    r = rbd.open(io, *image, name.c_str());
    if (r >= 0) {
      r = image->metadata_set(kIncompleteKey, options_.node_id);
      if (r < 0) image->close();
    }
    if (r < 0) {
      // Left for CleanupIncomplete() (by the intent) if it cannot be removed now.
      const int removed = RemoveImage(io, name);
      if (removed == 0 || removed == -ENOENT) RemoveIntent(io, cluster_->intents, name);
      return RbdErrorToStatus(r, "prepare rbd image");
    }
    return std::unique_ptr<Writer>(std::make_unique<RbdWriter>(
        cluster_, std::move(name), std::move(image), size, uint64_t{1} << order, options_));
  });
}

namespace {

// The id of the image named `name` (format 2: the `rbd_id.<name>` object holds it as a
// length-prefixed string); NotFound if there is none.
StatusOr<std::string> ImageId(librados::IoCtx& io, const std::string& name) {
  ceph::bufferlist bl;
  const int r = io.read("rbd_id." + name, bl, 0, 0);
  if (r < 0) return RbdErrorToStatus(r, "look up rbd image id");
  std::string raw = bl.to_str();
  if (raw.size() < 4) return InternalError("bad rbd image id object");
  uint32_t length = 0;
  std::memcpy(&length, raw.data(), 4);  // little-endian (ceph's encoding), as every host here
  if (length != raw.size() - 4) return InternalError("bad rbd image id object");
  return raw.substr(4);
}

// A read-only handle at the location's snapshot: the one already open for it, if that is still
// the image now named so, else a new one (the short form, at the head, is never shared).
StatusOr<std::shared_ptr<OpenImage>> OpenShared(Cluster& cluster, const RbdLocation& loc) {
  const bool shareable = !loc.snapshot.empty();
  const std::string key = loc.image + "@" + loc.snapshot;
  if (shareable) {
    std::shared_ptr<OpenImage> open;
    {
      std::lock_guard lock(cluster.open_images_mutex);
      auto it = cluster.open_images.find(key);
      if (it != cluster.open_images.end()) open = it->second.lock();
    }
    if (open != nullptr) {
      StatusOr<std::string> id = ImageId(cluster.io, loc.image);
      if (id.ok() && *id == open->id) return open;
      if (id.status().code() == StatusCode::kNotFound) {
        return NotFoundError("image data not found in the rbd store");
      }
    }
  }
  auto open = std::make_shared<OpenImage>();
  int r = librbd::RBD().open_read_only(cluster.io, open->image, loc.image.c_str(),
                                       shareable ? loc.snapshot.c_str() : nullptr);
  if (r == -ENOENT) return NotFoundError("image data not found in the rbd store");
  if (r < 0) return RbdErrorToStatus(r, "open rbd image");
  librbd::image_info_t info{};
  r = open->image.stat(info, sizeof info);
  if (r < 0) return RbdErrorToStatus(r, "stat rbd image");
  r = open->image.get_id(&open->id);
  if (r < 0) return RbdErrorToStatus(r, "read rbd image id");
  open->size = static_cast<int64_t>(info.size);
  open->object_size = std::max<uint64_t>(info.obj_size, 4096);
  if (shareable) {
    std::lock_guard lock(cluster.open_images_mutex);
    std::erase_if(cluster.open_images, [](const auto& entry) { return entry.second.expired(); });
    cluster.open_images[key] = open;
  }
  return open;
}

}  // namespace

StatusOr<std::unique_ptr<Reader>> RbdStore::Open(std::string_view location) {
  ASSIGN_OR_RETURN(const RbdLocation loc, Resolve(*cluster_, location));
  return Guarded("open rbd image", [&]() -> StatusOr<std::unique_ptr<Reader>> {
    ASSIGN_OR_RETURN(std::shared_ptr<OpenImage> open, OpenShared(*cluster_, loc));
    const uint64_t object = open->object_size;
    const uint64_t unit = std::min(object, kMaxReadUnit);
    const size_t max_ahead = static_cast<size_t>(options_.read_ahead_objects) * (object / unit);
    return std::unique_ptr<Reader>(
        std::make_unique<RbdReader>(cluster_, std::move(open), unit, max_ahead));
  });
}

Status RbdStore::Delete(std::string_view location) {
  ASSIGN_OR_RETURN(const RbdLocation loc, Resolve(*cluster_, location));
  return Guarded("delete rbd image", [&]() -> Status {
    librados::IoCtx& io = cluster_->io;
    librbd::RBD rbd;
    const std::string snapshot = loc.snapshot.empty() ? kSnapshotName : loc.snapshot;
    // Nothing is changed while another client has the image open (rbd.remove() would refuse
    // it only after the snapshot is gone).
    RETURN_IF_ERROR(WaitUntilClosedByOthers(io, loc.image));
    {
      librbd::Image image;
      int r = rbd.open(io, image, loc.image.c_str());
      if (r == -ENOENT) return NotFoundError("image data not found in the rbd store");
      if (r < 0) return RbdErrorToStatus(r, "open rbd image");
      bool exists = false;
      r = image.snap_exists2(snapshot.c_str(), &exists);
      if (r < 0) return RbdErrorToStatus(r, "look up rbd snapshot");
      if (exists) {
        {
          librbd::Image at_snapshot;
          r = rbd.open_read_only(io, at_snapshot, loc.image.c_str(), snapshot.c_str());
          if (r < 0 && r != -ENOENT) return RbdErrorToStatus(r, "open rbd snapshot");
          if (r == 0) {
            std::vector<librbd::linked_image_spec_t> children;
            r = at_snapshot.list_children3(&children);
            at_snapshot.close();
            if (r < 0) return RbdErrorToStatus(r, "list clones of rbd snapshot");
            if (!children.empty()) {
              return FailedPreconditionError("image is in use by " +
                                             std::to_string(children.size()) + " clone(s)");
            }
          }
        }
        bool is_protected = false;
        r = image.snap_is_protected(snapshot.c_str(), &is_protected);
        if (r < 0 && r != -ENOENT) return RbdErrorToStatus(r, "look up rbd snapshot");
        if (r == 0 && is_protected) {
          r = image.snap_unprotect(snapshot.c_str());
          if (r == -EBUSY) return FailedPreconditionError("image is in use by clone(s)");
          if (r < 0 && r != -EINVAL && r != -ENOENT) {
            return RbdErrorToStatus(r, "unprotect rbd snapshot");
          }
        }
        r = image.snap_remove(snapshot.c_str());
        if (r < 0 && r != -ENOENT) return RbdErrorToStatus(r, "remove rbd snapshot");
      }
      image.close();
    }
    return RemoveImageStatus(io, loc.image);
  });
}

namespace {

// Removes `name` if it has no protected snapshot and carries node_id's incomplete mark, or no
// mark at all when `intended` (named by node_id's intent: created, then killed before marking).
// With `intended`, an image that cannot be opened is removed too (librbd removes what a killed
// creation left of it).
Status RemoveIfIncomplete(librados::IoCtx& io, const std::string& name, const std::string& node_id,
                          bool intended) {
  librbd::RBD rbd;
  {
    librbd::Image image;
    int r = rbd.open(io, image, name.c_str());
    if (r == -ENOENT && !intended) return OkStatus();
    if (r == -ENOENT) {
      r = RemoveImage(io, name);
      return r == 0 || r == -ENOENT ? OkStatus() : RbdErrorToStatus(r, "remove rbd image " + name);
    }
    if (r < 0) return RbdErrorToStatus(r, "open rbd image " + name);
    std::string mark;
    r = image.metadata_get(kIncompleteKey, &mark);
    if ((r == -ENOENT && !intended) || (r == 0 && mark != node_id)) return OkStatus();
    if (r < 0 && r != -ENOENT) return RbdErrorToStatus(r, "read metadata of rbd image " + name);
    std::vector<librbd::snap_info_t> snapshots;
    r = image.snap_list(snapshots);
    if (r < 0) return RbdErrorToStatus(r, "list snapshots of rbd image " + name);
    for (const librbd::snap_info_t& s : snapshots) {
      bool is_protected = false;
      r = image.snap_is_protected(s.name.c_str(), &is_protected);
      if (r < 0) return RbdErrorToStatus(r, "look up snapshot of rbd image " + name);
      if (is_protected) return OkStatus();  // committed (crash before unmarking): keep
    }
    for (const librbd::snap_info_t& s : snapshots) {
      r = image.snap_remove(s.name.c_str());
      if (r < 0 && r != -ENOENT) return RbdErrorToStatus(r, "remove snapshot of " + name);
    }
    image.close();
  }
  Status removed = RemoveImageStatus(io, name);
  if (removed.code() == StatusCode::kNotFound) return OkStatus();
  return removed;
}

}  // namespace

Status RbdStore::CleanupIncomplete() {
  return Guarded("clean up incomplete rbd images", [&]() -> Status {
    librados::IoCtx& io = cluster_->io;
    Status first_error;
    // The images this node was creating (marked or not); each intent dealt with is forgotten.
    std::string after;
    for (bool more = true; more;) {
      std::set<std::string> names;
      int r = io.omap_get_keys2(cluster_->intents, after, 1000, &names, &more);
      if (r == -ENOENT) break;  // this node never created an image
      if (r < 0) return RbdErrorToStatus(r, "read the rbd creation intents");
      if (names.empty()) break;
      after = *names.rbegin();
      for (const std::string& name : names) {
        Status status = RemoveIfIncomplete(io, name, options_.node_id, /*intended=*/true);
        if (status.ok()) {
          const int forgot = RemoveIntent(io, cluster_->intents, name);
          if (forgot < 0) status = RbdErrorToStatus(forgot, "forget an rbd creation intent");
        }
        if (!status.ok() && first_error.ok()) first_error = status;
      }
    }
    // Marked images without an intent (written before intents were recorded).
    librbd::RBD rbd;
    std::vector<librbd::image_spec_t> images;
    int r = rbd.list2(io, &images);
    if (r < 0) return RbdErrorToStatus(r, "list rbd images");
    const std::string key = std::string(kHeaderMetadataPrefix) + kIncompleteKey;
    const std::set<std::string> keys = {key};
    for (const librbd::image_spec_t& spec : images) {
      // Opening every image of a large pool is slow: read the mark straight from the header
      // object first; an unreadable header falls back to librbd.
      bool candidate = true;
      if (!spec.id.empty()) {
        std::map<std::string, ceph::bufferlist> values;
        r = io.omap_get_vals_by_keys(kHeaderPrefix + spec.id, keys, &values);
        if (r == -ENOENT) continue;  // removed meanwhile
        if (r == 0) {
          auto it = values.find(key);
          candidate = it != values.end() && it->second.to_str() == options_.node_id;
        }
      }
      if (!candidate) continue;
      Status status = RemoveIfIncomplete(io, spec.name, options_.node_id, /*intended=*/false);
      if (!status.ok() && first_error.ok()) first_error = status;
    }
    return first_error;
  });
}

}  // namespace glimmer::store::rbd
