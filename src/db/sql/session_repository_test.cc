// Contract tests of db::SessionRepository, on every engine (SQLite always, PostgreSQL with
// GLIMMER_TEST_PG_DSN).
#include "db/sql/session_repository.h"

#include <gtest/gtest.h>

#include "db/sql/testing/test_database.h"

namespace glimmer::db::sql {
namespace {

DashboardSessionRecord MakeRecord(const std::string& digest, UnixMicros expires) {
  DashboardSessionRecord r;
  r.id_digest = digest;
  r.sealed_token = "c2VhbGVk";
  r.nonce = "bm9uY2U";
  r.csrf_digest = std::string(64, 'c');
  r.user_id = "u1";
  r.project_id = "p1";
  r.created_at = 100;
  r.expires_at = expires;
  return r;
}

class SessionRepositoryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    GLIMMER_SKIP_UNLESS_AVAILABLE(test_db_);
    db_ = test_db_.Open();
    ASSERT_NE(db_, nullptr);
    repo_ = NewSessionRepository(*db_);
  }
  testing::TestDatabase test_db_{GetParam()};
  std::unique_ptr<Database> db_;
  std::unique_ptr<SessionRepository> repo_;
};

TEST_P(SessionRepositoryTest, CreateGetRoundTripAndDuplicate) {
  const DashboardSessionRecord r = MakeRecord(std::string(64, 'a'), 5'000);
  ASSERT_TRUE(repo_->Create(r).ok());
  EXPECT_EQ(repo_->Create(r).code(), StatusCode::kAlreadyExists);
  auto got = repo_->Get(r.id_digest);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->sealed_token, r.sealed_token);
  EXPECT_EQ(got->nonce, r.nonce);
  EXPECT_EQ(got->csrf_digest, r.csrf_digest);
  EXPECT_EQ(got->user_id, "u1");
  EXPECT_EQ(got->project_id, "p1");
  EXPECT_EQ(got->created_at, 100);
  EXPECT_EQ(got->expires_at, 5'000);
  EXPECT_EQ(repo_->Get(std::string(64, 'b')).status().code(), StatusCode::kNotFound);
}

TEST_P(SessionRepositoryTest, DeleteIsIdempotent) {
  const DashboardSessionRecord r = MakeRecord(std::string(64, 'a'), 5'000);
  ASSERT_TRUE(repo_->Create(r).ok());
  ASSERT_TRUE(repo_->Delete(r.id_digest).ok());
  EXPECT_EQ(repo_->Get(r.id_digest).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(repo_->Delete(r.id_digest).ok());
}

TEST_P(SessionRepositoryTest, PurgeRemovesOnlyExpired) {
  ASSERT_TRUE(repo_->Create(MakeRecord("old", 1'000)).ok());
  ASSERT_TRUE(repo_->Create(MakeRecord("edge", 2'000)).ok());
  ASSERT_TRUE(repo_->Create(MakeRecord("new", 3'000)).ok());
  auto purged = repo_->PurgeExpired(2'000);
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  EXPECT_EQ(*purged, 2);
  EXPECT_EQ(repo_->Get("old").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->Get("edge").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(repo_->Get("new").ok());
}

TEST_P(SessionRepositoryTest, SecondHandleSeesSessions) {
  // Two nodes on one database: a session made on one is found and deleted on the other.
  std::unique_ptr<Database> other_db = test_db_.Open();
  ASSERT_NE(other_db, nullptr);
  auto other = NewSessionRepository(*other_db);
  ASSERT_TRUE(repo_->Create(MakeRecord("shared", 9'000)).ok());
  ASSERT_TRUE(other->Get("shared").ok());
  ASSERT_TRUE(other->Delete("shared").ok());
  EXPECT_EQ(repo_->Get("shared").status().code(), StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Engines, SessionRepositoryTest, ::testing::ValuesIn(testing::Engines()),
                         testing::EngineName);

}  // namespace
}  // namespace glimmer::db::sql
