#pragma once
// Test fixture of the image components: a SQLite repository and one filesystem store in a
// temporary directory, the components over them (Make), and four callers.

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "db/sql/image_repository.h"
#include "db/sqlite/database.h"
#include "domain/policy.h"
#include "images/testing/components.h"
#include "platform/executor.h"
#include "policy/testing/default_rule_policy.h"
#include "store/filesystem/filesystem_store.h"

namespace glimmer::images::testkit {

inline domain::RequestContext Ctx(std::string project, std::vector<std::string> roles) {
  domain::RequestContext c;
  c.project_id = std::move(project);
  c.roles = std::move(roles);
  c.authenticated = true;
  return c;
}

class ImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("glimmer-images-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = std::move(*db::sqlite::SqliteDatabase::Open((dir_ / "db.sqlite").string()));
    repo_ = db::sql::NewImageRepository(*db_);
    store_ = std::move(
        *store::filesystem::FilesystemStore::Create("file", (dir_ / "images").string(), false));
    Make();
  }
  void Make(int64_t cap = 1 << 30) {
    ServiceOptions o;
    o.image_size_cap = cap;
    o.upload_buffer_size = 4096;
    service_ = std::make_unique<testkit::Components>(
        ImageEnv{*repo_, StoreSet{{store_.get()}}, policy_, pool_, platform::Clock::Real(), o});
  }
  void TearDown() override {
    service_.reset();
    repo_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string CreateRaw(const domain::RequestContext& ctx, std::string name = "img") {
    auto img = service_->records.Create(
        ctx, {.name = name, .container_format = "bare", .disk_format = "raw"});
    EXPECT_TRUE(img.ok()) << img.status().ToString();
    return img->id;
  }
  static ReadFn Reader(const std::string& data) {
    auto pos = std::make_shared<size_t>(0);
    return [&data, pos](std::span<std::byte> out) -> StatusOr<size_t> {
      size_t n = std::min(out.size(), data.size() - *pos);
      std::memcpy(out.data(), data.data() + *pos, n);
      *pos += n;
      return n;
    };
  }

  std::filesystem::path dir_;
  std::unique_ptr<db::sqlite::SqliteDatabase> db_;
  std::unique_ptr<db::ImageRepository> repo_;
  std::unique_ptr<store::filesystem::FilesystemStore> store_;
  const domain::Policy& policy_ = policy::testing::DefaultRulePolicy();
  platform::Executor pool_{"hash-test", 2};
  std::unique_ptr<testkit::Components> service_;
  domain::RequestContext alice_ = Ctx("p-alice", {"member", "reader"});
  domain::RequestContext bob_ = Ctx("p-bob", {"member", "reader"});
  domain::RequestContext reader_ = Ctx("p-alice", {"reader"});
  domain::RequestContext admin_ = Ctx("p-admin", {"admin", "member", "reader"});
};

}  // namespace glimmer::images::testkit
