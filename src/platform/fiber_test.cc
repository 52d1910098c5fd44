#include "platform/fiber.h"

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include <gtest/gtest.h>

namespace glimmer::platform {
namespace {

TEST(FiberTest, SuspendedFibersHoldNoThread) {
  // One worker thread, many fibers each waiting for an outside event: they all get to wait
  // (the single thread is not held by any of them), then all finish once resumed.
  Executor pool("fiber-test", 1);
  constexpr int kFibers = 200;
  std::mutex mu;
  std::vector<std::function<void()>> resumes;
  std::atomic<int> waiting{0}, finished{0};
  for (int i = 0; i < kFibers; ++i) {
    SpawnFiber(pool, [&] {
      EXPECT_TRUE(InFiber());
      waiting.fetch_add(1);
      SuspendUntil([&](std::function<void()> resume) {
        std::lock_guard lock(mu);
        resumes.push_back(std::move(resume));
      });
      finished.fetch_add(1);
    });
  }
  for (int i = 0; i < 500 && waiting.load() < kFibers; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(waiting.load(), kFibers);
  EXPECT_EQ(finished.load(), 0);
  EXPECT_EQ(LiveFibers(), static_cast<size_t>(kFibers));
  // Resume from another thread.
  std::thread t([&] {
    std::lock_guard lock(mu);
    for (auto& r : resumes) r();
  });
  t.join();
  for (int i = 0; i < 500 && finished.load() < kFibers; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(finished.load(), kFibers);
  for (int i = 0; i < 100 && LiveFibers() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(LiveFibers(), 0u);
}

TEST(FiberTest, ResumeFromInsideStartAndStateSurvivesMigration) {
  Executor pool("fiber-test", 3);
  std::promise<long> result;
  SpawnFiber(pool, [&] {
    long sum = 0;
    for (int i = 0; i < 1000; ++i) {
      int local = i;
      SuspendUntil([](std::function<void()> resume) { resume(); });
      sum += local;
    }
    result.set_value(sum);
  });
  EXPECT_EQ(result.get_future().get(), 999L * 1000 / 2);
}

TEST(FiberTest, OutsideAFiberSuspendBlocksUntilResumed) {
  EXPECT_FALSE(InFiber());
  std::thread other;
  SuspendUntil([&](std::function<void()> resume) {
    other = std::thread([resume] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      resume();
    });
  });
  other.join();
}

TEST(FiberTest, RunOnAnotherPoolFreesTheFibersThread) {
  // One handler thread; a fiber doing slow work on another pool must not hold it.
  Executor handlers("fiber-test", 1);
  Executor slow("fiber-slow", 1);
  std::promise<void> gate;
  std::shared_future<void> opened = gate.get_future().share();
  std::promise<int> slow_result;
  SpawnFiber(handlers, [&] {
    slow_result.set_value(RunOn(slow, [&] {
      opened.wait();
      return 42;
    }));
  });
  std::promise<void> other_ran;
  SpawnFiber(handlers, [&] { other_ran.set_value(); });
  EXPECT_EQ(other_ran.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  gate.set_value();
  EXPECT_EQ(slow_result.get_future().get(), 42);
  EXPECT_EQ(RunOn(slow, [] { return std::string("outside a fiber"); }), "outside a fiber");
}

}  // namespace
}  // namespace glimmer::platform
