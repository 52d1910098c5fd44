#pragma once
// Fibers: stackful coroutines whose steps run on an Executor's threads.
//
// A request handler is ordinary blocking code (database calls, store writes, hashing). What it
// must never do is hold a thread while it waits for a *client*: a client may send one byte a
// minute. Code running on a fiber waits for such events with SuspendUntil(): the fiber's stack is
// put aside, the thread goes back to its pool, and when the event happens the fiber is posted to
// the pool again and continues where it stopped, possibly on another thread of the pool. This is
// the model of userver's task processors, with Boost.Context for the stacks.
//
// Rules for code that may run on a fiber:
//  - never hold a mutex (or anything thread-affine: a thread-local's address, an OpenSSL error
//    queue entry) across a call that may suspend;
//  - waiting on other threads (a condition variable, a future) is allowed and holds the thread:
//    use it for work that needs a thread anyway (disk, CPU), never for clients.
//
// Memory: each live fiber has its own stack of `kFiberStackBytes` of address space with a guard
// page; only the pages it touches are resident. Stacks of finished fibers are kept for reuse (up
// to a small bound) so a request does not pay an mmap.
//
// Thread-safety: SpawnFiber and the resume callable may be called from any thread.

#include <cstddef>
#include <functional>
#include <optional>
#include <type_traits>

#include "platform/executor.h"

namespace glimmer::platform {

inline constexpr size_t kFiberStackBytes = size_t{1} << 20;

// Runs fn on a new fiber whose steps run on `executor` (which must outlive the fiber). Returns at
// once. fn must not throw (an escaping exception is logged and swallowed).
void SpawnFiber(Executor& executor, std::function<void()> fn);

// Whether the calling code runs on a fiber.
bool InFiber();

// Suspends the calling fiber until `resume` is called. `start` is called exactly once with the
// `resume` callable, after the fiber's stack is no longer in use, on the thread that was running
// it; `resume` must then be called exactly once, from any thread (possibly from inside `start`).
// Called outside a fiber, it runs `start` and blocks the calling thread until `resume` is called
// (for tests and tools that drive handlers directly).
void SuspendUntil(const std::function<void(std::function<void()> resume)>& start);

// Runs fn on `pool` (a pool for work that would monopolise the caller's: password hashing, say)
// and returns its result. A fiber is suspended meanwhile, so its own pool keeps serving others;
// outside a fiber the calling thread waits.
template <typename F>
auto RunOn(Executor& pool, F&& fn) -> std::invoke_result_t<F&> {
  using R = std::invoke_result_t<F&>;
  if constexpr (std::is_void_v<R>) {
    SuspendUntil([&](std::function<void()> resume) {
      pool.Post([&fn, resume] {
        fn();
        resume();
      });
    });
  } else {
    std::optional<R> result;
    SuspendUntil([&](std::function<void()> resume) {
      pool.Post([&fn, &result, resume] {
        result.emplace(fn());
        resume();
      });
    });
    return std::move(*result);
  }
}

// Number of fibers alive (started and not finished), for metrics and tests.
size_t LiveFibers();

}  // namespace glimmer::platform
