// ImportCoordinator: staging and import bookkeeping: task visibility and URL redaction, stage
// size checks and quotas, silent nodes' stages. The import flow itself runs in the integration
// tests (tests/integration/test_import.py); no task runner runs here, so created tasks stay
// pending.
#include "images/import_coordinator.h"

#include <cstring>
#include <filesystem>
#include <future>
#include <latch>

#include <gtest/gtest.h>

#include "db/sql/image_repository.h"
#include "db/sql/task_repository.h"
#include "db/sqlite/database.h"
#include "images/testing/components.h"
#include "platform/executor.h"
#include "policy/testing/default_rule_policy.h"
#include "store/filesystem/filesystem_store.h"

namespace glimmer::images {
namespace {

namespace fs = std::filesystem;
using domain::ImageStatus;
using domain::RequestContext;

RequestContext Ctx(std::string project, std::vector<std::string> roles) {
  RequestContext c;
  c.project_id = std::move(project);
  c.roles = std::move(roles);
  c.authenticated = true;
  c.user_id = "u-" + c.project_id;
  return c;
}

// A body of `size` bytes handed out in reads of at most `chunk`.
ReadFn Body(int64_t size, size_t chunk = 1 << 20) {
  auto left = std::make_shared<int64_t>(size);
  return [left, chunk](std::span<std::byte> out) -> StatusOr<size_t> {
    size_t n = static_cast<size_t>(std::min<int64_t>(*left, std::min(out.size(), chunk)));
    std::memset(out.data(), 'x', n);
    *left -= static_cast<int64_t>(n);
    return n;
  };
}

class ImportCoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("glimmer-import-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = std::move(*db::sqlite::SqliteDatabase::Open((dir_ / "db.sqlite").string()));
    repo_ = db::sql::NewImageRepository(*db_);
    tasks_ = db::sql::NewTaskRepository(*db_);
    store_ = std::move(
        *store::filesystem::FilesystemStore::Create("file", (dir_ / "images").string(), false));
    staging_ = std::move(*staging::StagingArea::Open((dir_ / "staging").string()));
    Make();
  }
  void Make(domain::QuotaLimits quotas = {}, int64_t cap = int64_t{1} << 30) {
    ServiceOptions o;
    o.image_size_cap = cap;
    o.quotas = quotas;
    o.upload_buffer_size = 4096;
    o.node_id = "node-a";
    StoreSet stores{{store_.get()}};
    for (auto* extra : extra_stores_) stores.stores.push_back(extra);
    service_ = std::make_unique<testkit::Components>(
        ImageEnv{*repo_, std::move(stores), policy_, pool_, platform::Clock::Real(), o},
        staging_.get(), tasks_.get());
  }
  void TearDown() override {
    service_.reset();
    tasks_.reset();
    repo_.reset();
    db_.reset();
    fs::remove_all(dir_);
  }
  std::string CreateRaw(const RequestContext& ctx, std::string visibility = "shared") {
    auto img = service_->records.Create(ctx, {.visibility = domain::ParseVisibility(visibility),
                                              .container_format = "bare",
                                              .disk_format = "raw"});
    EXPECT_TRUE(img.ok()) << img.status().ToString();
    return img.ok() ? img->id : "";
  }
  domain::ProjectUsage Usage(const std::string& project) {
    return *repo_->GetProjectUsage(project);
  }
  // ImportHandler::NodesSilent: the uploads, then the stages, of the silent nodes.
  void Reclaim(const std::vector<std::string>& nodes) {
    EXPECT_TRUE(service_->data.ReclaimUploadsOf(nodes).ok());
    EXPECT_TRUE(service_->imports->ReclaimStagesOf(nodes).ok());
  }

  fs::path dir_;
  std::unique_ptr<db::sqlite::SqliteDatabase> db_;
  std::unique_ptr<db::ImageRepository> repo_;
  std::unique_ptr<db::TaskRepository> tasks_;
  std::unique_ptr<store::filesystem::FilesystemStore> store_;
  std::unique_ptr<staging::StagingArea> staging_;
  const domain::Policy& policy_ = policy::testing::DefaultRulePolicy();
  platform::Executor pool_{"hash-test", 2};
  std::vector<store::Store*> extra_stores_;  // after store_, in Make()
  std::unique_ptr<testkit::Components> service_;
  RequestContext alice_ = Ctx("p-alice", {"member", "reader"});
  RequestContext bob_ = Ctx("p-bob", {"member", "reader"});
  RequestContext admin_ = Ctx("p-admin", {"admin", "member", "reader"});
};

// ---------------------------------------------------------------------------- URL redaction
TEST(RedactUrlTest, DropsUserinfoQueryAndFragment) {
  EXPECT_EQ(RedactUrl("https://example.com/disk.raw?X-Amz-Signature=SECRET&a=b#frag"),
            "https://example.com/disk.raw");
  EXPECT_EQ(RedactUrl("http://user:pw@example.com:8080/a/b"), "http://example.com:8080/a/b");
  EXPECT_EQ(RedactUrl("HTTPS://h?temp_url_sig=x"), "HTTPS://h");
  EXPECT_EQ(RedactUrl("https://h/p@q"), "https://h/p@q");  // '@' in the path is not userinfo
  EXPECT_EQ(RedactUrl("ftp://h/x?y"), "ftp://h/x?y");      // not http(s): unchanged
}

TEST(RedactUrlTest, RedactsEveryUrlInAText) {
  EXPECT_EQ(RedactUrlsIn("web-download of https://h/x?sig=1 failed: redirect to "
                         "http://a:b@i/y?k=v#f refused"),
            "web-download of https://h/x failed: redirect to http://i/y refused");
  EXPECT_EQ(RedactUrlsIn("no url here"), "no url here");
  EXPECT_EQ(RedactUrlsIn("'https://h/?s=1'"), "'https://h/'");
}

TEST(RedactUrlTest, RedactsTheUriOfATaskInput) {
  ImportRequest req;
  req.method = "web-download";
  req.uri = "https://h/disk?sig=SECRET";
  std::string input = EncodeImportInput("img", req, {"file"});
  std::string redacted = RedactImportInput(input);
  EXPECT_EQ(redacted.find("SECRET"), std::string::npos) << redacted;
  auto decoded = DecodeImportInput(redacted);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->request.uri, "https://h/disk");
  EXPECT_EQ(decoded->backends, std::vector<std::string>{"file"});
  EXPECT_EQ(RedactImportInput("not json"), "{}");
}

// ---------------------------------------------------------------------------- F4: task visibility
TEST_F(ImportCoordinatorTest, ImageTasksShowOnlyTheCallersProjectsTasksAndRedactForOthers) {
  const std::string secret_uri = "https://example.invalid/disk.raw?X-Amz-Signature=SECRET123";
  std::string id = CreateRaw(alice_, "community");
  ImportRequest req;
  req.method = "web-download";
  req.uri = secret_uri;
  auto task = service_->imports->StartImport(alice_, id, req);
  ASSERT_TRUE(task.ok()) << task.status().ToString();

  // The owner's project sees its task, with the URL as given.
  auto mine = service_->imports->ImageTasks(alice_, id);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_NE(mine->front().input_json.find("SECRET123"), std::string::npos);

  // Another project can see the community image, but not its tasks (Glance: empty list).
  ASSERT_TRUE(service_->records.Get(bob_, id).ok());
  auto others = service_->imports->ImageTasks(bob_, id);
  ASSERT_TRUE(others.ok());
  EXPECT_TRUE(others->empty());

  // An admin of another project sees the task, without the URL's query.
  auto admins = service_->imports->ImageTasks(admin_, id);
  ASSERT_TRUE(admins.ok());
  ASSERT_EQ(admins->size(), 1u);
  EXPECT_EQ(admins->front().input_json.find("SECRET123"), std::string::npos);
  EXPECT_NE(admins->front().input_json.find("https://example.invalid/disk.raw"), std::string::npos);
  auto one = service_->imports->GetTask(admin_, task->id);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->input_json.find("SECRET123"), std::string::npos);

  // Messages are redacted for other projects too (the flow already strips queries it writes;
  // this covers messages written before that).
  ASSERT_TRUE(tasks_
                  ->FailUnclaimed(task->id, "web-download of " + secret_uri + " failed",
                                  platform::Clock::Real().Now(), 1'000'000'000)
                  .ok());
  auto failed = service_->imports->ImageTasks(admin_, id);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->front().message, "web-download of https://example.invalid/disk.raw failed");
  EXPECT_NE(service_->imports->ImageTasks(alice_, id)->front().message.find("SECRET123"),
            std::string::npos);
}

// ---------------------------------------------------------------------------- F16
TEST_F(ImportCoordinatorTest, StageSizeHintNearInt64MaxIsRefusedWithoutOverflow) {
  std::string id = CreateRaw(alice_);
  // One byte staged, then a resumed stage declaring INT64_MAX more.
  ASSERT_TRUE(service_->imports->Stage(alice_, id, Body(1), 1, std::nullopt).ok());
  auto img = *repo_->Get(id);
  img.status = ImageStatus::kQueued;  // as after an interrupted stage
  ASSERT_TRUE(repo_->Update(img, ImageStatus::kUploading).ok());
  Status st = service_->imports->Stage(alice_, id, Body(0), std::numeric_limits<int64_t>::max(), 1);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_EQ(repo_->Get(id)->status, ImageStatus::kQueued);
  EXPECT_EQ(*staging_->Size(id), 1);
}

// ---------------------------------------------------------------------------- F5: stage quotas
constexpr int64_t kMiB = 1 << 20;

TEST_F(ImportCoordinatorTest, StageTotalIsCheckedWhenTheStageStarts) {
  domain::QuotaLimits q;
  q.image_stage_total = 2 * kMiB;
  Make(q);
  std::string a = CreateRaw(alice_), b = CreateRaw(alice_), c = CreateRaw(alice_);
  ASSERT_TRUE(service_->imports->Stage(alice_, a, Body(kMiB), kMiB, std::nullopt).ok());
  ASSERT_TRUE(service_->imports->Stage(alice_, b, Body(kMiB), kMiB, std::nullopt).ok());
  EXPECT_EQ(Usage("p-alice").image_stage_total, 2 * kMiB);
  Status st = service_->imports->Stage(alice_, c, Body(kMiB), kMiB, std::nullopt);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_NE(st.message().find("image_stage_total"), std::string::npos) << st.ToString();
  auto img = *repo_->Get(c);
  EXPECT_EQ(img.status, ImageStatus::kQueued);
  EXPECT_FALSE(img.size);
  EXPECT_EQ(*staging_->Size(c), 0);  // refused before any byte was written
  EXPECT_EQ(Usage("p-alice").image_stage_total, 2 * kMiB);
  // The quota is per project, and creating images is not what it limits.
  EXPECT_TRUE(service_->imports->Stage(bob_, CreateRaw(bob_), Body(kMiB), kMiB, std::nullopt).ok());
  EXPECT_TRUE(service_->records.Create(alice_, {}).ok());
}

TEST_F(ImportCoordinatorTest, StageWithoutDeclaredSizeStopsAtTheStageTotal) {
  domain::QuotaLimits q;
  q.image_stage_total = 2 * kMiB;
  Make(q);
  std::string a = CreateRaw(alice_), b = CreateRaw(alice_);
  ASSERT_TRUE(
      service_->imports->Stage(alice_, a, Body(kMiB + kMiB / 2, 65536), std::nullopt, std::nullopt)
          .ok());
  EXPECT_EQ(repo_->Get(a)->size, kMiB + kMiB / 2);  // the reservation was given back
  EXPECT_EQ(Usage("p-alice").image_stage_total, kMiB + kMiB / 2);
  Status st = service_->imports->Stage(alice_, b, Body(kMiB, 65536), std::nullopt, std::nullopt);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  auto img = *repo_->Get(b);
  EXPECT_EQ(img.status, ImageStatus::kQueued);
  EXPECT_FALSE(img.size);
  // It stopped at the quota: what was staged fits next to the other image.
  EXPECT_LE(*staging_->Size(b), kMiB / 2);
  EXPECT_EQ(Usage("p-alice").image_stage_total, kMiB + kMiB / 2);
}

TEST_F(ImportCoordinatorTest, CountUploadingCoversStagesAndImports) {
  domain::QuotaLimits q;
  q.image_count_uploading = 1;
  Make(q);
  std::string staged = CreateRaw(alice_), other = CreateRaw(alice_);
  ASSERT_TRUE(service_->imports->Stage(alice_, staged, Body(1000), 1000, std::nullopt).ok());
  // The staged image waits in `uploading` and counts until it is imported.
  EXPECT_EQ(service_->imports->Stage(alice_, other, Body(1000), 1000, std::nullopt).code(),
            StatusCode::kResourceExhausted);
  ImportRequest web;
  web.method = "web-download";
  web.uri = "https://example.invalid/disk.raw";
  EXPECT_EQ(service_->imports->StartImport(alice_, other, web).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(repo_->Get(other)->status, ImageStatus::kQueued);
  EXPECT_FALSE(repo_->Get(other)->properties.count(std::string(kImportTaskProperty)));
  // glance-direct of the staged image: uploading -> importing, no more images in flight.
  ImportRequest direct;
  direct.method = "glance-direct";
  auto task = service_->imports->StartImport(alice_, staged, direct);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(repo_->Get(staged)->status, ImageStatus::kImporting);
}

// Six stages of one project at once with room for two: exactly two are admitted (the check and
// the move to `uploading` are one transaction), and the usage never exceeds the limit.
TEST_F(ImportCoordinatorTest, ConcurrentStagesNeverOvershootTheStageTotal) {
  constexpr int kStages = 6;
  domain::QuotaLimits q;
  q.image_stage_total = 2 * kMiB;
  Make(q);
  std::vector<std::string> ids;
  for (int i = 0; i < kStages; ++i) ids.push_back(CreateRaw(alice_));
  platform::Executor executor("stage-race", kStages);
  std::latch start(kStages);
  std::vector<std::future<Status>> runs;
  for (const auto& id : ids) {
    runs.push_back(executor.Submit([&, id] {
      start.arrive_and_wait();
      return service_->imports->Stage(alice_, id, Body(kMiB, 65536), kMiB, std::nullopt);
    }));
  }
  int admitted = 0;
  for (auto& r : runs) {
    Status st = r.get();
    if (st.ok()) {
      ++admitted;
    } else {
      EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
    }
  }
  EXPECT_EQ(admitted, 2);
  EXPECT_EQ(Usage("p-alice").image_stage_total, 2 * kMiB);
  EXPECT_EQ(Usage("p-alice").image_count_uploading, 2);
}

// The same without declared sizes: reservations are made as the data arrives; whatever the
// interleaving, the staged images fit in the quota. (Which ones succeed depends on it: stages
// that together hold the whole quota before any has finished all fail; nothing overshoots.)
TEST_F(ImportCoordinatorTest, ConcurrentStagesWithoutSizesNeverOvershootTheStageTotal) {
  constexpr int kStages = 6;
  domain::QuotaLimits q;
  q.image_stage_total = 2 * kMiB;
  Make(q);
  std::vector<std::string> ids;
  for (int i = 0; i < kStages; ++i) ids.push_back(CreateRaw(alice_));
  platform::Executor executor("stage-race", kStages);
  std::latch start(kStages);
  std::vector<std::future<Status>> runs;
  for (const auto& id : ids) {
    runs.push_back(executor.Submit([&, id] {
      start.arrive_and_wait();
      return service_->imports->Stage(alice_, id, Body(kMiB / 2, 16384), std::nullopt,
                                      std::nullopt);
    }));
  }
  int admitted = 0;
  for (auto& r : runs) admitted += r.get().ok();
  EXPECT_LE(admitted, 4);
  EXPECT_EQ(Usage("p-alice").image_stage_total, admitted * (kMiB / 2));
  for (const auto& id : ids) {
    auto img = *repo_->Get(id);
    if (img.status == ImageStatus::kUploading) {
      EXPECT_EQ(img.size, kMiB / 2);
    } else {
      EXPECT_EQ(img.status, ImageStatus::kQueued);
      EXPECT_FALSE(img.size);
    }
  }
}

TEST_F(ImportCoordinatorTest, DeletingTheImageStopsALongStage) {
  std::string id = CreateRaw(alice_);
  int64_t sent = 0;
  bool deleted = false;
  // An endless body; the image is deleted once 8 MiB have gone through.
  auto body = [&](std::span<std::byte> out) -> StatusOr<size_t> {
    if (sent >= 8 * kMiB && !deleted) {
      deleted = true;
      EXPECT_TRUE(service_->records.Delete(alice_, id).ok());
    }
    std::memset(out.data(), 'e', out.size());
    sent += static_cast<int64_t>(out.size());
    return out.size();
  };
  Status st = service_->imports->Stage(alice_, id, body, std::nullopt, std::nullopt);
  EXPECT_EQ(st.code(), StatusCode::kGone) << st.ToString();
  EXPECT_LE(sent, 128 * kMiB);
  EXPECT_FALSE(staging_->Exists(id));
}

// ---------------------------------------------------------------------------- dead nodes
// A store shared by the nodes (as RBD or S3 are): a filesystem store that says so.
class SharedStore final : public store::Store {
 public:
  explicit SharedStore(store::Store& base) : base_(base), info_(base.info()) {
    info_.id = "shared";
    info_.node_local = false;
  }
  const store::StoreInfo& info() const override { return info_; }
  StatusOr<std::unique_ptr<store::Writer>> NewWriter(std::string_view image_id,
                                                     std::optional<int64_t> size_hint) override {
    return base_.NewWriter(image_id, size_hint);
  }
  StatusOr<std::unique_ptr<store::Reader>> Open(std::string_view location) override {
    return base_.Open(location);
  }
  Status Delete(std::string_view location) override { return base_.Delete(location); }
  bool Owns(std::string_view location) const override { return base_.Owns(location); }
  Status CleanupIncomplete() override { return base_.CleanupIncomplete(); }

 private:
  store::Store& base_;
  store::StoreInfo info_;
};

TEST_F(ImportCoordinatorTest, UploadsAndStagesOfSilentNodesGoBackToQueued) {
  auto shared_fs = std::move(
      *store::filesystem::FilesystemStore::Create("shared-fs", (dir_ / "shared").string(), false));
  SharedStore shared(*shared_fs);
  extra_stores_ = {&shared};
  Make();
  // A committed-but-unrecorded write of each store (the worst moment for a node to die).
  auto committed = [&](store::Store& s, const std::string& id) {
    auto w = s.NewWriter(id, std::nullopt);
    EXPECT_TRUE(w.ok());
    std::string bytes = "data of a dead node";
    EXPECT_TRUE((*w)->Append(std::as_bytes(std::span(bytes))).ok());
    return *(*w)->Commit();
  };
  auto saving = [&](const std::string& node, const std::string& location) {
    std::string id = CreateRaw(alice_);
    auto img = *repo_->Get(id);
    img.status = ImageStatus::kSaving;
    img.properties["os_glance_upload_node"] = node;
    if (!location.empty()) img.properties["os_glance_upload_location"] = location;
    EXPECT_TRUE(repo_->Update(img, ImageStatus::kQueued).ok());
    return id;
  };
  const std::string on_shared = CreateRaw(alice_);
  const std::string shared_loc = committed(shared, on_shared);
  ASSERT_TRUE(repo_->Delete(on_shared).ok());  // only its id was needed
  const std::string dead_shared = saving("node-b", shared_loc);
  const std::string local_loc = committed(*store_, "local-data");
  const std::string dead_local = saving("node-b", local_loc);
  const std::string alive = saving("node-c", "");
  const std::string mine = saving("node-a", "");
  // A stage of the dead node, partly staged (staging is node-local: the file stays).
  const std::string stage = CreateRaw(alice_);
  ASSERT_TRUE(service_->imports->Stage(alice_, stage, Body(1000), 1000, std::nullopt).ok());
  {
    auto img = *repo_->Get(stage);
    img.properties["os_glance_stage_host"] = "node-b";
    ASSERT_TRUE(repo_->Update(img, ImageStatus::kUploading).ok());
  }

  Reclaim({"node-b", "node-a"});

  auto shared_img = *repo_->Get(dead_shared);
  EXPECT_EQ(shared_img.status, ImageStatus::kQueued);
  EXPECT_FALSE(shared_img.properties.count("os_glance_upload_location"));
  EXPECT_FALSE(shared_img.properties.count("os_glance_upload_node"));
  EXPECT_EQ(shared.Open(shared_loc).status().code(), StatusCode::kNotFound);  // cleaned
  EXPECT_EQ(repo_->Get(dead_local)->status, ImageStatus::kQueued);
  EXPECT_TRUE(store_->Open(local_loc).ok());  // on node-b's own disk: left for node-b
  EXPECT_EQ(repo_->Get(alive)->status, ImageStatus::kSaving);  // node-c is not silent
  EXPECT_EQ(repo_->Get(mine)->status, ImageStatus::kSaving);   // this node's own upload
  auto staged = *repo_->Get(stage);
  EXPECT_EQ(staged.status, ImageStatus::kQueued);
  EXPECT_FALSE(staged.size);
  EXPECT_EQ(staged.properties.at("os_glance_stage_host"), "node-b");  // resumable there
  EXPECT_EQ(*staging_->Size(stage), 1000);
  // A second pass changes nothing more.
  Reclaim({"node-b"});
  EXPECT_EQ(repo_->Get(alive)->status, ImageStatus::kSaving);
}

}  // namespace
}  // namespace glimmer::images
