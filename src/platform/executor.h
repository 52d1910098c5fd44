#pragma once
// Threads come from here and nowhere else. An Executor owns a fixed pool of worker threads that
// run posted closures; it joins them on destruction after the queue drains.
//
// Thread-safety: Post() may be called from any thread.

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace glimmer::platform {

class Executor {
 public:
  // `name` is used for thread names (visible in top/gdb) and logs.
  Executor(std::string name, int threads);
  ~Executor();  // Stops accepting work, runs what is queued, joins.
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  void Post(std::function<void()> fn);

  // Runs fn on the pool and returns a future for its result.
  template <typename F>
  auto Submit(F&& fn) -> std::future<decltype(fn())> {
    using R = decltype(fn());
    auto task = std::make_shared<std::packaged_task<R()>>(std::forward<F>(fn));
    auto fut = task->get_future();
    Post([task] { (*task)(); });
    return fut;
  }

  int size() const { return static_cast<int>(threads_.size()); }

 private:
  void Run();
  std::string name_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  std::vector<std::thread> threads_;
};

// Starts a named thread owned by the caller (for event loops that must run on their own thread).
std::thread StartThread(std::string name, std::function<void()> fn);

}  // namespace glimmer::platform
