#include "platform/executor.h"

#include <pthread.h>

namespace glimmer::platform {

std::thread StartThread(std::string name, std::function<void()> fn) {
  return std::thread([name = std::move(name), fn = std::move(fn)] {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    fn();
  });
}

Executor::Executor(std::string name, int threads) : name_(std::move(name)) {
  for (int i = 0; i < threads; ++i) {
    threads_.push_back(StartThread(name_ + "-" + std::to_string(i), [this] { Run(); }));
  }
}

Executor::~Executor() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void Executor::Post(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(fn));
  }
  cv_.notify_one();
}

void Executor::Run() {
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      fn = std::move(queue_.front());
      queue_.pop_front();
    }
    fn();
  }
}

}  // namespace glimmer::platform
