#include "platform/fiber.h"

#include <atomic>
#include <boost/context/fiber.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include <spdlog/spdlog.h>

namespace glimmer::platform {
namespace {

namespace ctx = boost::context;

// Stacks of finished fibers, reused by the next ones (an mmap plus a guard page per request is
// measurable on small requests). Bounded: beyond kMaxCachedStacks they are unmapped.
class StackCache {
 public:
  static constexpr size_t kMaxCachedStacks = 64;

  ctx::stack_context Allocate() {
    {
      std::lock_guard lock(mu_);
      if (!free_.empty()) {
        ctx::stack_context sc = free_.back();
        free_.pop_back();
        return sc;
      }
    }
    return ctx::protected_fixedsize_stack(kFiberStackBytes).allocate();
  }
  void Deallocate(ctx::stack_context& sc) {
    {
      std::lock_guard lock(mu_);
      if (free_.size() < kMaxCachedStacks) {
        free_.push_back(sc);
        return;
      }
    }
    ctx::protected_fixedsize_stack(kFiberStackBytes).deallocate(sc);
  }

 private:
  std::mutex mu_;
  std::vector<ctx::stack_context> free_;  // guarded by mu_
};

StackCache& Stacks() {
  static auto* cache = new StackCache();  // never destroyed: fibers may end during exit
  return *cache;
}

// Boost.Context's StackAllocator concept over the cache.
struct CachedStack {
  ctx::stack_context allocate() { return Stacks().Allocate(); }
  void deallocate(ctx::stack_context& sc) noexcept { Stacks().Deallocate(sc); }
};

using StartFn = std::function<void(std::function<void()>)>;

struct FiberState {
  Executor* executor = nullptr;
  std::function<void()> fn;
  ctx::fiber self;    // the suspended fiber (empty while it runs)
  ctx::fiber caller;  // while it runs: the thread context to switch back to
  StartFn* pending = nullptr;  // set by SuspendUntil just before switching out
  bool done = false;
};

thread_local FiberState* tls_current = nullptr;
std::atomic<size_t> live_fibers{0};

void Step(const std::shared_ptr<FiberState>& st) {
  tls_current = st.get();
  st->self = std::move(st->self).resume();
  tls_current = nullptr;
  if (st->done) {
    live_fibers.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  // Moved out before calling: once `resume` runs, the fiber may continue on another thread and
  // destroy the original.
  StartFn start = std::move(*st->pending);
  st->pending = nullptr;
  start([st] { st->executor->Post([st] { Step(st); }); });
}

}  // namespace

void SpawnFiber(Executor& executor, std::function<void()> fn) {
  auto st = std::make_shared<FiberState>();
  st->executor = &executor;
  st->fn = std::move(fn);
  FiberState* raw = st.get();  // the fiber must not own its own state (cycle)
  st->self = ctx::fiber(std::allocator_arg, CachedStack(), [raw](ctx::fiber&& caller) {
    raw->caller = std::move(caller);
    try {
      raw->fn();
    } catch (const std::exception& e) {
      spdlog::error("fiber: uncaught exception: {}", e.what());
    }
    raw->fn = nullptr;
    raw->done = true;
    return std::move(raw->caller);
  });
  live_fibers.fetch_add(1, std::memory_order_relaxed);
  executor.Post([st] { Step(st); });
}

bool InFiber() { return tls_current != nullptr; }

void SuspendUntil(const std::function<void(std::function<void()> resume)>& start) {
  FiberState* st = tls_current;
  if (st == nullptr) {
    struct Waiter {
      std::mutex mu;
      std::condition_variable cv;
      bool resumed = false;
    };
    auto w = std::make_shared<Waiter>();
    start([w] {
      std::lock_guard lock(w->mu);
      w->resumed = true;
      w->cv.notify_all();
    });
    std::unique_lock lock(w->mu);
    w->cv.wait(lock, [&] { return w->resumed; });
    return;
  }
  StartFn copy = start;
  st->pending = &copy;
  st->caller = std::move(st->caller).resume();
  // Resumed, possibly on another thread of the executor.
}

size_t LiveFibers() { return live_fibers.load(std::memory_order_relaxed); }

}  // namespace glimmer::platform
