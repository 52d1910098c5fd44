#include "platform/memory_budget.h"

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "platform/executor.h"
#include "platform/fiber.h"

namespace glimmer::platform {
namespace {

TEST(MemoryBudgetTest, TakesAndGivesBack) {
  MemoryBudget b(100);
  EXPECT_TRUE(b.TryAcquire(60));
  EXPECT_FALSE(b.TryAcquire(50));
  b.Acquire(40);
  EXPECT_EQ(b.available(), 0u);
  b.Release(100);
  EXPECT_EQ(b.available(), 100u);
}

TEST(MemoryBudgetTest, WaitingFibersHoldNoThreadAndAreServedInOrder) {
  MemoryBudget b(100);
  b.Acquire(100);
  Executor pool("budget-test", 1);
  std::mutex mu;
  std::vector<int> order;
  std::atomic<int> done{0};
  for (int i = 0; i < 3; ++i) {
    SpawnFiber(pool, [&, i] {
      b.Acquire(50);
      {
        std::lock_guard lock(mu);
        order.push_back(i);
      }
      ++done;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // arrive in order
  }
  // All three wait, yet the single thread is free.
  std::promise<void> ran;
  SpawnFiber(pool, [&] { ran.set_value(); });
  EXPECT_EQ(ran.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(done.load(), 0);
  EXPECT_FALSE(b.TryAcquire(1));  // waiters come first
  b.Release(100);                 // room for two
  for (int i = 0; i < 200 && done.load() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(done.load(), 2);
  b.Release(50);
  for (int i = 0; i < 200 && done.load() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::lock_guard lock(mu);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
}

TEST(MemoryBudgetTest, PlainThreadsBlock) {
  MemoryBudget b(10);
  b.Acquire(10);
  auto f = std::async(std::launch::async, [&] { b.Acquire(5); });
  EXPECT_EQ(f.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  b.Release(5);
  f.get();
  EXPECT_EQ(b.available(), 0u);
}

}  // namespace
}  // namespace glimmer::platform
