#pragma once
// MemoryBudget: a process-wide bound on memory that many requests draw from (upload buffers), so
// that a thousand fast uploads to a slow disk wait for memory instead of growing it.
//
// Acquire() waits until the bytes are available: a fiber is suspended (its thread serves others),
// a plain thread blocks. Waiters are served in arrival order, so a large request is not starved
// by small ones.
//
// Thread-safety: all methods may be called from any thread.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

namespace glimmer::platform {

class MemoryBudget {
 public:
  explicit MemoryBudget(size_t bytes) : available_(bytes), total_(bytes) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // Takes `bytes` (at most total()), waiting for them.
  void Acquire(size_t bytes);
  // Takes `bytes` only if available now and nobody is waiting.
  bool TryAcquire(size_t bytes);
  // Gives back bytes taken before.
  void Release(size_t bytes);

  size_t available() const;
  size_t total() const { return total_; }

 private:
  struct Waiter {
    size_t bytes;
    std::function<void()> wake;  // resumes a fiber, or notifies a blocked thread
  };
  void WakeLocked();

  mutable std::mutex mu_;
  size_t available_;  // guarded by mu_
  const size_t total_;
  std::deque<Waiter> waiters_;  // guarded by mu_; served in order
};

}  // namespace glimmer::platform
