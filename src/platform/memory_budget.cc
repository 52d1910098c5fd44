#include "platform/memory_budget.h"

#include <algorithm>

#include "platform/fiber.h"

namespace glimmer::platform {

void MemoryBudget::Acquire(size_t bytes) {
  bytes = std::min(bytes, total_);
  {
    std::lock_guard lock(mu_);
    if (waiters_.empty() && available_ >= bytes) {
      available_ -= bytes;
      return;
    }
  }
  // Registered under the lock after re-checking, so a Release in between is not missed; the
  // waker reserves the bytes for us before waking us.
  SuspendUntil([this, bytes](std::function<void()> resume) {
    std::lock_guard lock(mu_);
    if (waiters_.empty() && available_ >= bytes) {
      available_ -= bytes;
      resume();
      return;
    }
    waiters_.push_back(Waiter{bytes, std::move(resume)});
  });
}

bool MemoryBudget::TryAcquire(size_t bytes) {
  std::lock_guard lock(mu_);
  if (!waiters_.empty() || available_ < bytes) return false;
  available_ -= bytes;
  return true;
}

void MemoryBudget::Release(size_t bytes) {
  std::lock_guard lock(mu_);
  available_ = std::min(total_, available_ + bytes);
  WakeLocked();
}

size_t MemoryBudget::available() const {
  std::lock_guard lock(mu_);
  return available_;
}

void MemoryBudget::WakeLocked() {
  while (!waiters_.empty() && waiters_.front().bytes <= available_) {
    available_ -= waiters_.front().bytes;
    std::function<void()> wake = std::move(waiters_.front().wake);
    waiters_.pop_front();
    wake();
  }
}

}  // namespace glimmer::platform
