#include "tasks/task_runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "db/sqlite/database.h"
#include "db/sql/task_repository.h"

namespace glimmer::tasks {
namespace {

using namespace std::chrono_literals;
using domain::Task;
using domain::TaskStatus;

class TempDb {
 public:
  TempDb() {
    std::string templ = ::testing::TempDir() + "glimmer_tasks_XXXXXX";
    path_ = mkdtemp(templ.data());
  }
  ~TempDb() { std::filesystem::remove_all(path_); }
  std::string file() const { return path_ + "/meta.db"; }

 private:
  std::string path_;
};

// A handler driven by the test: counts runs per task, can block until cancelled.
class FakeHandler : public Handler {
 public:
  Outcome Run(TaskContext& ctx) override {
    {
      std::lock_guard lock(mu);
      runs[ctx.task().id]++;
    }
    ctx.Progress("working");
    if (block) {
      while (ctx.Cancelled().ok()) std::this_thread::sleep_for(5ms);
      last_cancel = ctx.Cancelled();
      return {false, std::nullopt, ctx.Cancelled().message()};
    }
    if (ctx.task().input_json == "fail") return {false, std::nullopt, "it broke"};
    return {true, R"({"image_id":"x"})", ""};
  }
  void Abandon(const Task& task, std::string_view reason) override {
    std::lock_guard lock(mu);
    abandoned[task.id] = std::string(reason);
  }
  Status StillWanted(const Task& task) override {
    std::lock_guard lock(mu);
    return unwanted.count(task.id) ? AbortedError("its image was deleted") : OkStatus();
  }
  void NodesSilent(const std::vector<std::string>& nodes) override {
    std::lock_guard lock(mu);
    silent_calls.push_back(nodes);
  }
  void Unwant(const std::string& id) {
    std::lock_guard lock(mu);
    unwanted.insert(id);
  }
  int Runs(const std::string& id) {
    std::lock_guard lock(mu);
    return runs[id];
  }
  std::atomic<bool> block{false};
  Status last_cancel;
  std::mutex mu;
  std::map<std::string, int> runs;
  std::map<std::string, std::string> abandoned;
  std::set<std::string> unwanted;
  std::vector<std::vector<std::string>> silent_calls;
};

Task NewTask(const std::string& id, std::string input = "{}") {
  Task t;
  t.id = id;
  t.type = "fake";
  t.owner = "p";
  t.input_json = std::move(input);
  t.created_at = t.updated_at = platform::Clock::Real().Now();
  return t;
}

RunnerOptions FastOptions(std::string node) {
  RunnerOptions o;
  o.node_id = std::move(node);
  o.poll_interval = 10ms;
  o.heartbeat = 10ms;
  o.lease = 200ms;
  return o;
}

StatusOr<Task> WaitEnded(db::TaskRepository& repo, const std::string& id) {
  for (int i = 0; i < 500; ++i) {
    auto t = repo.Get(id);
    if (!t.ok()) return t;
    if (t->status == TaskStatus::kSuccess || t->status == TaskStatus::kFailure) return t;
    std::this_thread::sleep_for(10ms);
  }
  return DeadlineExceededError("task did not end");
}

class TaskRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = db::sqlite::SqliteDatabase::Open(tmp_.file());
    ASSERT_TRUE(db.ok());
    db_ = std::move(*db);
    repo_ = db::sql::NewTaskRepository(*db_);
  }
  TempDb tmp_;
  std::unique_ptr<db::sqlite::SqliteDatabase> db_;
  std::unique_ptr<db::TaskRepository> repo_;
  FakeHandler handler_;
};

// A running task whose work is no longer wanted (the handler says so at a lease renewal) is
// cancelled with the handler's reason and recorded as a failure, not left for resumption.
TEST_F(TaskRunnerTest, UnwantedRunningTaskIsCancelledAndFailed) {
  handler_.block = true;
  TaskRunner runner(*repo_, platform::Clock::Real(), FastOptions("n1"));
  runner.Register("fake", &handler_);
  runner.Start();
  ASSERT_TRUE(repo_->Create(NewTask("doomed")).ok());
  runner.Wake();
  for (int i = 0; i < 500 && handler_.Runs("doomed") == 0; ++i) std::this_thread::sleep_for(2ms);
  ASSERT_EQ(handler_.Runs("doomed"), 1);
  std::this_thread::sleep_for(50ms);  // several renewals while wanted: keeps running
  EXPECT_EQ(repo_->Get("doomed")->status, TaskStatus::kProcessing);
  handler_.Unwant("doomed");
  auto t = WaitEnded(*repo_, "doomed");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->status, TaskStatus::kFailure);
  EXPECT_EQ(t->message, "its image was deleted");
  EXPECT_EQ(handler_.last_cancel.code(), StatusCode::kAborted);
  EXPECT_EQ(handler_.Runs("doomed"), 1);
}

// Every lease, the handlers hear of the other nodes silent for two leases (never this one, and
// nothing when no node is silent).
TEST_F(TaskRunnerTest, HandlersAreToldWhichNodesAreSilent) {
  const UnixMicros now = platform::Clock::Real().Now();
  ASSERT_TRUE(repo_->NodeAlive("dead", now - 10'000'000).ok());
  ASSERT_TRUE(repo_->NodeAlive("n1", now - 10'000'000).ok());  // this node's stale mark
  TaskRunner runner(*repo_, platform::Clock::Real(), FastOptions("n1"));
  runner.Register("fake", &handler_);
  runner.Start();
  for (int i = 0; i < 300; ++i) {
    {
      std::lock_guard lock(handler_.mu);
      if (!handler_.silent_calls.empty()) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  runner.Stop();
  std::lock_guard lock(handler_.mu);
  ASSERT_FALSE(handler_.silent_calls.empty());
  for (const auto& call : handler_.silent_calls) {
    EXPECT_EQ(call, std::vector<std::string>{"dead"});
  }
}

TEST_F(TaskRunnerTest, RunsPendingTasksAndRecordsOutcomes) {
  TaskRunner runner(*repo_, platform::Clock::Real(), FastOptions("n1"));
  runner.Register("fake", &handler_);
  runner.Start();
  ASSERT_TRUE(repo_->Create(NewTask("ok")).ok());
  ASSERT_TRUE(repo_->Create(NewTask("bad", "fail")).ok());
  runner.Wake();
  auto ok = WaitEnded(*repo_, "ok");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->status, TaskStatus::kSuccess);
  EXPECT_EQ(ok->result_json, R"({"image_id":"x"})");
  EXPECT_TRUE(ok->expires_at.has_value());
  auto bad = WaitEnded(*repo_, "bad");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, TaskStatus::kFailure);
  EXPECT_EQ(bad->message, "it broke");
}

TEST_F(TaskRunnerTest, TaskOfADeadNodeIsResumedAfterItsLeaseExpires) {
  ASSERT_TRUE(repo_->Create(NewTask("orphan")).ok());
  auto claimed = repo_->Claim("dead-node", platform::Clock::Real().Now(), 100'000);  // 100 ms
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  TaskRunner runner(*repo_, platform::Clock::Real(), FastOptions("n1"));
  runner.Register("fake", &handler_);
  runner.Start();
  auto t = WaitEnded(*repo_, "orphan");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->status, TaskStatus::kSuccess);
  EXPECT_EQ(t->attempts, 2);
  EXPECT_EQ(handler_.Runs("orphan"), 1);
}

TEST_F(TaskRunnerTest, RestartedNodeResumesItsOwnTasksWithoutWaitingForTheLease) {
  ASSERT_TRUE(repo_->Create(NewTask("mine")).ok());
  auto claimed = repo_->Claim("n1", platform::Clock::Real().Now(), 3'600'000'000);  // 1 h
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  TaskRunner runner(*repo_, platform::Clock::Real(), FastOptions("n1"));
  runner.Register("fake", &handler_);
  runner.Start();
  auto t = WaitEnded(*repo_, "mine");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->status, TaskStatus::kSuccess);
}

TEST_F(TaskRunnerTest, TaskInterruptedTooOftenIsAbandonedAndFailed) {
  ASSERT_TRUE(repo_->Create(NewTask("flaky")).ok());
  for (int i = 0; i < 3; ++i) {
    auto c = repo_->Claim("crashy", platform::Clock::Real().Now(), -1);  // expired at once
    ASSERT_TRUE(c.ok() && c->has_value());
  }
  TaskRunner runner(*repo_, platform::Clock::Real(), FastOptions("n1"));
  runner.Register("fake", &handler_);
  runner.Start();
  auto t = WaitEnded(*repo_, "flaky");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->status, TaskStatus::kFailure);
  EXPECT_NE(t->message.find("interrupted 3 times"), std::string::npos) << t->message;
  EXPECT_EQ(handler_.Runs("flaky"), 0);
  std::lock_guard lock(handler_.mu);
  EXPECT_EQ(handler_.abandoned.count("flaky"), 1u);
}

TEST_F(TaskRunnerTest, TaskPinnedToASilentNodeIsAbandoned) {
  Task pinned = NewTask("pinned-to-gone");
  pinned.affinity = "gone";  // e.g. the node that holds the staged data; it never comes back
  ASSERT_TRUE(repo_->Create(pinned).ok());
  ASSERT_TRUE(repo_->NodeAlive("gone", platform::Clock::Real().Now()).ok());
  TaskRunner runner(*repo_, platform::Clock::Real(), FastOptions("n1"));
  runner.Register("fake", &handler_);
  runner.Start();
  auto t = WaitEnded(*repo_, "pinned-to-gone");  // after two leases (400 ms) of silence
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->status, TaskStatus::kFailure);
  EXPECT_NE(t->message.find("node gone"), std::string::npos) << t->message;
  EXPECT_EQ(handler_.Runs("pinned-to-gone"), 0);
  std::lock_guard lock(handler_.mu);
  EXPECT_EQ(handler_.abandoned.count("pinned-to-gone"), 1u);
}

TEST_F(TaskRunnerTest, TimeLimitCancelsTheRunAndFailsTheTask) {
  handler_.block = true;
  RunnerOptions o = FastOptions("n1");
  o.time_limit = 0s;
  TaskRunner runner(*repo_, platform::Clock::Real(), o);
  runner.Register("fake", &handler_);
  runner.Start();
  ASSERT_TRUE(repo_->Create(NewTask("slow")).ok());
  auto t = WaitEnded(*repo_, "slow");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->status, TaskStatus::kFailure);
  EXPECT_NE(t->message.find("time limit"), std::string::npos) << t->message;
  EXPECT_EQ(handler_.last_cancel.code(), StatusCode::kDeadlineExceeded);
}

TEST_F(TaskRunnerTest, StopInterruptsAndTheNextRunnerResumesAtOnce) {
  handler_.block = true;
  {
    TaskRunner runner(*repo_, platform::Clock::Real(), FastOptions("n1"));
    runner.Register("fake", &handler_);
    runner.Start();
    ASSERT_TRUE(repo_->Create(NewTask("long")).ok());
    for (int i = 0; i < 200 && handler_.Runs("long") == 0; ++i) std::this_thread::sleep_for(5ms);
    ASSERT_EQ(handler_.Runs("long"), 1);
    runner.Stop();
  }
  EXPECT_EQ(handler_.last_cancel.code(), StatusCode::kCancelled);
  auto t = repo_->Get("long");
  EXPECT_EQ(t->status, TaskStatus::kProcessing);  // not failed: left for resumption
  handler_.block = false;
  RunnerOptions o = FastOptions("n2");
  o.lease = 60s;  // resumption must not wait for a lease to run out
  TaskRunner next(*repo_, platform::Clock::Real(), o);
  next.Register("fake", &handler_);
  next.Start();
  auto done = WaitEnded(*repo_, "long");
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->status, TaskStatus::kSuccess);
  EXPECT_EQ(handler_.Runs("long"), 2);
}

TEST_F(TaskRunnerTest, TwoNodesRunEveryTaskExactlyOnce) {
  auto db2 = db::sqlite::SqliteDatabase::Open(tmp_.file());
  ASSERT_TRUE(db2.ok());
  auto repo2 = db::sql::NewTaskRepository(**db2);
  TaskRunner a(*repo_, platform::Clock::Real(), FastOptions("a"));
  TaskRunner b(*repo2, platform::Clock::Real(), FastOptions("b"));
  a.Register("fake", &handler_);
  b.Register("fake", &handler_);
  a.Start();
  b.Start();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(repo_->Create(NewTask("t" + std::to_string(i))).ok());
  for (int i = 0; i < 20; ++i) {
    auto t = WaitEnded(*repo_, "t" + std::to_string(i));
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->status, TaskStatus::kSuccess);
  }
  for (int i = 0; i < 20; ++i) EXPECT_EQ(handler_.Runs("t" + std::to_string(i)), 1);
}

}  // namespace
}  // namespace glimmer::tasks
