#include "store/hashing_pipeline.h"

#include "platform/fiber.h"

#include <openssl/evp.h>

#include <array>
#include <condition_variable>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>
#include <utility>
#include <vector>

namespace glimmer::store {
namespace {

enum StageId { kMd5 = 0, kSha512 = 1, kWrite = 2, kNumStages = 3 };

// The order in which a blocked caller picks stage work to run itself: the sink write first (it is
// usually the cheapest and frees buffers soonest), then the digests.
constexpr std::array<int, kNumStages> kHelpOrder = {kWrite, kSha512, kMd5};

struct Stage {
  std::deque<int> queue;  // buffer indices in submission order
  bool running = false;   // someone (a pool job or the caller) is draining `queue`
  int posted = 0;         // jobs posted to the Executor that have not started yet
};

struct Chunk {
  size_t size = 0;
  int pending = 0;  // stages that have not finished with this buffer
};

std::string ToHex(const unsigned char* data, unsigned int len) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(size_t{len} * 2, '\0');
  for (unsigned int i = 0; i < len; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xf];
  }
  return out;
}

}  // namespace

struct HashingPipeline::State : std::enable_shared_from_this<HashingPipeline::State> {
  State(Writer& sink_in, platform::Executor& pool_in, Options options_in)
      : sink(sink_in), pool(pool_in), options(options_in) {
    if (options.buffer_size == 0) options.buffer_size = 1;
    if (options.buffers < 1) options.buffers = 1;
    buffers.reserve(options.buffers);
    chunks.resize(options.buffers);
    const EVP_MD* types[2] = {EVP_md5(), EVP_sha512()};
    for (int i = 0; i < 2; ++i) {
      digests[i] = EVP_MD_CTX_new();
      if (digests[i] == nullptr || EVP_DigestInit_ex(digests[i], types[i], nullptr) != 1) {
        error = InternalError("cannot initialise the image digests");
      }
    }
  }
  ~State() {
    for (EVP_MD_CTX* ctx : digests) EVP_MD_CTX_free(ctx);
    if (options.budget != nullptr && !buffers.empty()) {
      options.budget->Release(buffers.size() * options.buffer_size);
    }
  }

  // Everything below is guarded by `mu`, except the digest contexts and the sink, which belong
  // to whoever has the corresponding stage `running`, and buffer contents, which belong to the
  // caller between AcquireBuffer() and Submit() and to the stages afterwards.
  Writer& sink;
  platform::Executor& pool;
  Options options;
  EVP_MD_CTX* digests[2] = {nullptr, nullptr};

  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::unique_ptr<std::byte[]>> buffers;  // allocated lazily, up to options.buffers
  std::vector<Chunk> chunks;                          // indexed like buffers
  std::vector<int> free_buffers;
  std::array<Stage, kNumStages> stages;
  int acquired = -1;  // buffer held by the caller
  int64_t total = 0;
  Status error;
  bool cancelled = false;
  bool finished = false;

  // Fibers waiting for a change (see Wait); each is resumed once, on the next change.
  std::vector<std::function<void()>> fiber_waiters;

  // Wakes every waiter, threads and fibers. Called with `mu` held.
  void Notify() {
    cv.notify_all();
    std::vector<std::function<void()>> waiters;
    waiters.swap(fiber_waiters);
    for (auto& resume : waiters) resume();
  }

  void FreeBuffer(int b) {
    free_buffers.push_back(b);
    Notify();
  }

  void ReleaseChunk(int b) {
    if (--chunks[b].pending == 0) FreeBuffer(b);
  }

  void SetError(Status status) {
    if (error.ok()) error = std::move(status);
    Notify();
  }

  bool Idle() const {
    for (const Stage& s : stages) {
      if (s.running || !s.queue.empty()) return false;
    }
    return true;
  }

  // Posts a job for stage `s` if it has work and nobody is (about to be) draining it.
  void MaybeSchedule(int s) {
    Stage& stage = stages[s];
    if (stage.running || stage.posted > 0 || stage.queue.empty() || cancelled) return;
    ++stage.posted;
    pool.Post([self = shared_from_this(), s] { self->RunPosted(s); });
  }

  void RunPosted(int s) {
    std::unique_lock lock(mu);
    --stages[s].posted;
    if (!stages[s].running) Drain(s, lock, std::numeric_limits<int>::max());
  }

  // Processes up to `max_chunks` queued chunks of stage `s`, releasing `mu` while working.
  // Precondition: `lock` holds `mu` and stage `s` is not running.
  void Drain(int s, std::unique_lock<std::mutex>& lock, int max_chunks) {
    Stage& stage = stages[s];
    stage.running = true;
    for (int done = 0; done < max_chunks && !stage.queue.empty(); ++done) {
      const int b = stage.queue.front();
      stage.queue.pop_front();
      if (!cancelled && error.ok()) {
        const std::span<const std::byte> data(buffers[b].get(), chunks[b].size);
        lock.unlock();
        Status status = Process(s, data);
        lock.lock();
        if (!status.ok()) SetError(std::move(status));
      }
      ReleaseChunk(b);
    }
    stage.running = false;
    Notify();
    MaybeSchedule(s);
  }

  Status Process(int s, std::span<const std::byte> data) {
    if (s == kWrite) {
      try {
        return sink.Append(data);
      } catch (const std::exception& e) {
        return InternalError(std::string("image store write failed: ") + e.what());
      } catch (...) {
        return InternalError("image store write failed");
      }
    }
    if (EVP_DigestUpdate(digests[s], data.data(), data.size()) != 1) {
      return InternalError("image digest update failed");
    }
    return OkStatus();
  }

  // Waits until `done()` holds. A caller on a fiber (an upload handler) is suspended, so its
  // worker serves other requests while the Executor hashes and writes. A plain thread runs
  // pending stage work itself meanwhile, so that progress never depends on the Executor having a
  // free thread (the import flow, tests). Precondition: `lock` holds `mu`.
  template <typename Pred>
  void Wait(std::unique_lock<std::mutex>& lock, Pred done, bool help) {
    while (!done()) {
      if (platform::InFiber()) {
        // Never hold `mu` across the suspension (the fiber may resume on another thread); the
        // waiter is registered under `mu` after re-checking, so no wake-up is lost.
        lock.unlock();
        platform::SuspendUntil([this, &done](std::function<void()> resume) {
          std::lock_guard relock(mu);
          if (done()) {
            resume();
          } else {
            fiber_waiters.push_back(std::move(resume));
          }
        });
        lock.lock();
        continue;
      }
      int pick = -1;
      for (int s : kHelpOrder) {
        if (help && !stages[s].running && !stages[s].queue.empty()) {
          pick = s;
          break;
        }
      }
      if (pick >= 0) {
        Drain(pick, lock, 1);
      } else {
        cv.wait(lock);
      }
    }
  }
};

HashingPipeline::HashingPipeline(Writer& sink, platform::Executor& pool, Options options)
    : state_(std::make_shared<State>(sink, pool, options)) {}

HashingPipeline::~HashingPipeline() { Cancel(); }

std::span<std::byte> HashingPipeline::AcquireBuffer() {
  State& st = *state_;
  std::unique_lock lock(st.mu);
  if (st.acquired < 0) {
    platform::MemoryBudget* budget = st.options.budget;
    const size_t size = st.options.buffer_size;
    bool reserved = false;  // budget taken for a new buffer (the predicate may run twice)
    if (budget != nullptr && st.buffers.empty()) {
      // The first buffer: wait for the budget, holding nothing meanwhile (so waiting is safe).
      lock.unlock();
      budget->Acquire(size);
      lock.lock();
      reserved = true;
    } else {
      st.Wait(
          lock,
          [&st, budget, size, &reserved] {
            if (reserved || !st.free_buffers.empty()) return true;
            if (st.buffers.size() >= static_cast<size_t>(st.options.buffers)) return false;
            if (budget == nullptr) return true;
            reserved = budget->TryAcquire(size);
            return reserved;
          },
          /*help=*/true);
    }
    if (reserved && !st.free_buffers.empty()) {
      budget->Release(size);  // a buffer came back meanwhile: no need to grow
      reserved = false;
    }
    if (!st.free_buffers.empty()) {
      st.acquired = st.free_buffers.back();
      st.free_buffers.pop_back();
    } else {
      st.buffers.push_back(std::make_unique_for_overwrite<std::byte[]>(st.options.buffer_size));
      st.acquired = static_cast<int>(st.buffers.size()) - 1;
    }
  }
  return {st.buffers[st.acquired].get(), st.options.buffer_size};
}

Status HashingPipeline::Submit(size_t n) {
  State& st = *state_;
  std::unique_lock lock(st.mu);
  if (st.acquired < 0) return FailedPreconditionError("Submit() without AcquireBuffer()");
  const int b = st.acquired;
  st.acquired = -1;
  if (st.cancelled) {
    st.FreeBuffer(b);
    return AbortedError("upload cancelled");
  }
  if (st.finished) {
    st.FreeBuffer(b);
    return FailedPreconditionError("upload already finished");
  }
  if (n > st.options.buffer_size) {
    st.FreeBuffer(b);
    st.SetError(InvalidArgumentError("chunk larger than the pipeline buffer"));
    return st.error;
  }
  if (!st.error.ok() || n == 0) {
    st.FreeBuffer(b);
    return st.error;
  }
  if (st.options.max_bytes.has_value() &&
      st.total + static_cast<int64_t>(n) > *st.options.max_bytes) {
    st.FreeBuffer(b);
    st.SetError(ResourceExhaustedError("Image exceeds the size limit of " +
                                       std::to_string(*st.options.max_bytes) + " bytes"));
    return st.error;
  }
  st.total += static_cast<int64_t>(n);
  st.chunks[b] = Chunk{n, kNumStages};
  for (int s = 0; s < kNumStages; ++s) {
    st.stages[s].queue.push_back(b);
    st.MaybeSchedule(s);
  }
  return st.error;
}

StatusOr<HashingPipeline::Result> HashingPipeline::Finish() {
  State& st = *state_;
  std::unique_lock lock(st.mu);
  if (st.cancelled) return AbortedError("upload cancelled");
  if (st.finished) return FailedPreconditionError("upload already finished");
  if (st.acquired >= 0) {
    st.FreeBuffer(st.acquired);
    st.acquired = -1;
  }
  st.Wait(lock, [&st] { return st.Idle(); }, /*help=*/true);
  st.finished = true;
  if (!st.error.ok()) return st.error;

  Result result;
  result.size = st.total;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(st.digests[kMd5], md, &len) != 1) {
    return InternalError("image digest finalisation failed");
  }
  result.md5_hex = ToHex(md, len);
  if (EVP_DigestFinal_ex(st.digests[kSha512], md, &len) != 1) {
    return InternalError("image digest finalisation failed");
  }
  result.sha512_hex = ToHex(md, len);
  return result;
}

void HashingPipeline::Cancel() {
  State& st = *state_;
  std::unique_lock lock(st.mu);
  if (!st.finished) st.cancelled = true;
  for (Stage& stage : st.stages) {
    for (int b : stage.queue) st.ReleaseChunk(b);
    stage.queue.clear();
  }
  if (st.acquired >= 0) {
    st.FreeBuffer(st.acquired);
    st.acquired = -1;
  }
  st.Wait(lock, [&st] { return st.Idle(); }, /*help=*/false);
}

int64_t HashingPipeline::submitted_bytes() const {
  std::lock_guard lock(state_->mu);
  return state_->total;
}

}  // namespace glimmer::store
