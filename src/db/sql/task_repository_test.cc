#include "db/sql/task_repository.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "db/sql/testing/test_database.h"

namespace glimmer::db::sql {
namespace {

using domain::Task;
using domain::TaskStatus;

Task MakeTask(const std::string& id, UnixMicros created, const std::string& owner = "p1") {
  Task t;
  t.id = id;
  t.type = "api_image_import";
  t.owner = owner;
  t.input_json = R"({"image_id":"i"})";
  t.image_id = "img-" + id;
  t.created_at = t.updated_at = created;
  return t;
}

class TaskRepositoryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    GLIMMER_SKIP_UNLESS_AVAILABLE(test_db_);
    db_ = test_db_.Open();
    ASSERT_NE(db_, nullptr);
    repo_ = NewTaskRepository(*db_);
  }
  testing::TestDatabase test_db_{GetParam()};
  std::unique_ptr<Database> db_;
  std::unique_ptr<TaskRepository> repo_;
};

TEST_P(TaskRepositoryTest, CreateGetRoundTrip) {
  Task t = MakeTask("t1", 100);
  t.request_id = "req-1";
  t.user_id = "u1";
  ASSERT_TRUE(repo_->Create(t).ok());
  EXPECT_EQ(repo_->Create(t).code(), StatusCode::kAlreadyExists);
  auto got = repo_->Get("t1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->type, "api_image_import");
  EXPECT_EQ(got->status, TaskStatus::kPending);
  EXPECT_EQ(got->input_json, t.input_json);
  EXPECT_EQ(got->image_id, "img-t1");
  EXPECT_EQ(got->request_id, "req-1");
  EXPECT_FALSE(got->result_json.has_value());
  EXPECT_EQ(repo_->Get("nope").status().code(), StatusCode::kNotFound);
}

TEST_P(TaskRepositoryTest, ClaimTakesOldestPendingOnceAndHeartbeatsOnlyForHolder) {
  ASSERT_TRUE(repo_->Create(MakeTask("b", 200)).ok());
  ASSERT_TRUE(repo_->Create(MakeTask("a", 100)).ok());
  auto c1 = repo_->Claim("node1", 1000, 50);
  ASSERT_TRUE(c1.ok());
  ASSERT_TRUE(c1->has_value());
  EXPECT_EQ((*c1)->id, "a");
  EXPECT_EQ((*c1)->status, TaskStatus::kProcessing);
  EXPECT_EQ((*c1)->claimed_by, "node1");
  EXPECT_EQ((*c1)->attempts, 1);
  auto c2 = repo_->Claim("node2", 1000, 50);
  ASSERT_TRUE(c2.ok() && c2->has_value());
  EXPECT_EQ((*c2)->id, "b");
  auto c3 = repo_->Claim("node2", 1000, 50);
  ASSERT_TRUE(c3.ok());
  EXPECT_FALSE(c3->has_value());

  EXPECT_TRUE(repo_->Heartbeat("a", "node1", 1020, 50, std::string("Copied 1 MiB")).ok());
  EXPECT_EQ(repo_->Heartbeat("a", "node2", 1020, 50, std::nullopt).code(), StatusCode::kAborted);
  EXPECT_EQ(repo_->Get("a")->message, "Copied 1 MiB");
}

TEST_P(TaskRepositoryTest, ExpiredLeaseIsReclaimedAndOldHolderLosesIt) {
  ASSERT_TRUE(repo_->Create(MakeTask("a", 100)).ok());
  ASSERT_TRUE(repo_->Claim("dead", 1000, 50).ok());
  auto none = repo_->Claim("alive", 1049, 50);  // lease still valid
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto taken = repo_->Claim("alive", 1051, 50);
  ASSERT_TRUE(taken.ok() && taken->has_value());
  EXPECT_EQ((*taken)->attempts, 2);
  EXPECT_EQ(repo_->Finish("a", "dead", TaskStatus::kSuccess, std::nullopt, "", 1060, 10).code(),
            StatusCode::kAborted);
  ASSERT_TRUE(
      repo_->Finish("a", "alive", TaskStatus::kSuccess, std::string(R"({"image_id":"x"})"), "",
                    1060, 10)
          .ok());
  auto done = repo_->Get("a");
  EXPECT_EQ(done->status, TaskStatus::kSuccess);
  EXPECT_EQ(done->result_json, R"({"image_id":"x"})");
  EXPECT_EQ(done->expires_at, 1070);
  EXPECT_FALSE(done->claimed_by.has_value());
  auto again = repo_->Claim("alive", 5000, 50);  // ended tasks are never claimed
  EXPECT_FALSE(again->has_value());
  EXPECT_EQ(*repo_->PurgeExpired(1069), 0);
  EXPECT_EQ(*repo_->PurgeExpired(1071), 1);
  EXPECT_EQ(repo_->Get("a").status().code(), StatusCode::kNotFound);
}

TEST_P(TaskRepositoryTest, PendingTaskWithAffinityIsClaimedOnlyByItsNode) {
  Task t = MakeTask("pinned", 100);
  t.affinity = "n1";
  ASSERT_TRUE(repo_->Create(t).ok());
  EXPECT_FALSE(repo_->Claim("n2", 1000, 50)->has_value());
  auto mine = repo_->Claim("n1", 1000, 50);
  ASSERT_TRUE(mine.ok() && mine->has_value());
  EXPECT_EQ((*mine)->affinity, "n1");
  // Its node died: another node takes it over once the lease expires (to fail it cleanly).
  auto taken = repo_->Claim("n2", 1100, 50);
  ASSERT_TRUE(taken.ok() && taken->has_value());
  EXPECT_EQ((*taken)->claimed_by, "n2");
}

TEST_P(TaskRepositoryTest, PendingTaskPinnedToASilentNodeIsClaimedAsAnOrphanOnce) {
  Task pinned = MakeTask("pinned", 1);
  pinned.affinity = "n-stage";
  ASSERT_TRUE(repo_->Create(pinned).ok());
  Task free_task = MakeTask("free", 2);  // not pinned: never an orphan
  ASSERT_TRUE(repo_->Create(free_task).ok());
  // n-stage was seen at t=100: at t=150 with a silence limit of 100 it is alive.
  ASSERT_TRUE(repo_->NodeAlive("n-stage", 100).ok());
  auto none = repo_->ClaimOrphan("n-other", 150, 1000, 50);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());
  // A node never claims its own pinned task as an orphan.
  auto own = repo_->ClaimOrphan("n-stage", 500, 1000, 400);
  ASSERT_TRUE(own.ok());
  EXPECT_FALSE(own->has_value());
  // Silent since 100, asked at 500 with a limit of 300: orphan, claimed once.
  auto got = repo_->ClaimOrphan("n-other", 500, 1000, 200);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->id, "pinned");
  EXPECT_EQ((*got)->claimed_by, "n-other");
  EXPECT_EQ((*got)->status, TaskStatus::kProcessing);
  auto again = repo_->ClaimOrphan("n-third", 500, 1000, 200);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
  // A node that never showed a sign of life is silent too; heartbeats move forward.
  Task ghost = MakeTask("ghost", 3);
  ghost.affinity = "n-never";
  ASSERT_TRUE(repo_->Create(ghost).ok());
  ASSERT_TRUE(repo_->NodeAlive("n-stage", 900).ok());
  auto g = repo_->ClaimOrphan("n-other", 950, 1000, 800);
  ASSERT_TRUE(g.ok() && g->has_value());
  EXPECT_EQ((*g)->id, "ghost");
}

// The nodes another node may take over from: those whose last heartbeat is older than the
// silence limit. A node never seen is not listed (uploads marked with its id may come from a
// process that runs no task runner, e.g. the catalog loader).
TEST_P(TaskRepositoryTest, SilentNodesAreTheNodesLastSeenBeforeTheLimit) {
  ASSERT_TRUE(repo_->NodeAlive("n-a", 100).ok());
  ASSERT_TRUE(repo_->NodeAlive("n-b", 300).ok());
  ASSERT_TRUE(repo_->NodeAlive("n-c", 50).ok());
  auto silent = repo_->SilentNodes(200);
  ASSERT_TRUE(silent.ok()) << silent.status().ToString();
  EXPECT_EQ(*silent, (std::vector<std::string>{"n-a", "n-c"}));
  ASSERT_TRUE(repo_->NodeAlive("n-a", 400).ok());  // back: no longer silent
  EXPECT_EQ(*repo_->SilentNodes(200), std::vector<std::string>{"n-c"});
  EXPECT_TRUE(repo_->SilentNodes(0)->empty());
}

TEST_P(TaskRepositoryTest, FailUnclaimedEndsPendingOrProcessingOnly) {
  ASSERT_TRUE(repo_->Create(MakeTask("a", 100)).ok());
  ASSERT_TRUE(repo_->FailUnclaimed("a", "image was deleted", 200, 10).ok());
  auto t = repo_->Get("a");
  EXPECT_EQ(t->status, TaskStatus::kFailure);
  EXPECT_EQ(t->message, "image was deleted");
  EXPECT_TRUE(repo_->FailUnclaimed("a", "again", 300, 10).ok());  // no-op on an ended task
  EXPECT_EQ(repo_->Get("a")->message, "image was deleted");
  EXPECT_EQ(repo_->FailUnclaimed("zz", "x", 1, 1).code(), StatusCode::kNotFound);
}

TEST_P(TaskRepositoryTest, ListFiltersSortsAndPages) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(repo_->Create(MakeTask("t" + std::to_string(i), 100 + i, i % 2 ? "p2" : "p1")).ok());
  }
  TaskListQuery q;
  auto all = repo_->List(q);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ((*all)[0].id, "t4");  // newest first by default
  q.owner = "p1";
  EXPECT_EQ(repo_->List(q)->size(), 3u);
  q.owner.reset();
  q.limit = 2;
  auto page1 = repo_->List(q);
  ASSERT_EQ(page1->size(), 2u);
  q.marker = page1->back().id;
  auto page2 = repo_->List(q);
  ASSERT_EQ(page2->size(), 2u);
  EXPECT_EQ((*page2)[0].id, "t2");
  q.marker = "nope";
  EXPECT_EQ(repo_->List(q).status().code(), StatusCode::kNotFound);
  q.marker.reset();
  q.status = TaskStatus::kSuccess;
  EXPECT_EQ(repo_->List(q)->size(), 0u);
  auto for_image = repo_->ListForImage("img-t3");
  ASSERT_EQ(for_image->size(), 1u);
}

TEST_P(TaskRepositoryTest, ConcurrentClaimersNeverShareATask) {
  constexpr int kTasks = 60;
  for (int i = 0; i < kTasks; ++i) {
    ASSERT_TRUE(repo_->Create(MakeTask("t" + std::to_string(i), i)).ok());
  }
  // A second Database on the same file stands for a second node.
  auto db2 = test_db_.Open();
  auto repo2 = NewTaskRepository(*db2);
  std::mutex mu;
  std::multiset<std::string> seen;
  auto claim_all = [&](TaskRepository* repo, std::string node) {
    for (;;) {
      auto c = repo->Claim(node, 1'000'000, 1'000'000);
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      if (!c->has_value()) return;
      std::lock_guard lock(mu);
      seen.insert((*c)->id);
    }
  };
  std::thread a(claim_all, repo_.get(), "n1"), b(claim_all, repo2.get(), "n2"),
      c(claim_all, repo_.get(), "n3");
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(seen.size(), static_cast<size_t>(kTasks));
  for (const auto& id : seen) EXPECT_EQ(seen.count(id), 1u) << id;
}

INSTANTIATE_TEST_SUITE_P(Engines, TaskRepositoryTest, ::testing::ValuesIn(testing::Engines()),
                         testing::EngineName);

}  // namespace
}  // namespace glimmer::db::sql
