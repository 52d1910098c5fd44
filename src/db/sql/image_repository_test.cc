#include "db/sql/image_repository.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <latch>

#include "db/sql/testing/test_database.h"
#include "platform/executor.h"

namespace glimmer::db::sql {
namespace {

using domain::Image;
using domain::ImageStatus;
using domain::Member;
using domain::MemberStatus;
using domain::Visibility;
using testing::MakeImage;

class ImageRepositoryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    GLIMMER_SKIP_UNLESS_AVAILABLE(test_db_);
    db_ = test_db_.Open();
    ASSERT_NE(db_, nullptr);
    repo_ = NewImageRepository(*db_);
  }

  static Image FullImage(const std::string& id) {
    Image image = MakeImage(id, "proj-a", Visibility::kPrivate, 1'700'000'000'123'456);
    image.status = ImageStatus::kActive;
    image.is_protected = true;
    image.os_hidden = true;
    image.checksum = "d41d8cd98f00b204e9800998ecf8427e";
    image.os_hash_algo = "sha512";
    image.os_hash_value = std::string(128, 'a');
    image.size = 5'000'000'000;
    image.virtual_size = 10'000'000'000;
    image.container_format = "bare";
    image.disk_format = "qcow2";
    image.min_disk = 3;
    image.min_ram = 512;
    image.tags = {"alpha", "beta"};
    image.properties = {{"os_distro", "ubuntu"}, {"hw_firmware_type", "uefi"}};
    image.locations = {{"file", "file:///var/lib/glimmer/images/" + id, "{}"},
                       {"backup", "file:///backup/" + id, "{\"k\": 1}"}};
    image.updated_at = image.created_at + 7;
    return image;
  }

  testing::TestDatabase test_db_{GetParam()};
  std::unique_ptr<Database> db_;
  std::unique_ptr<ImageRepository> repo_;
};

void ExpectSameImage(const Image& a, const Image& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.visibility, b.visibility);
  EXPECT_EQ(a.is_protected, b.is_protected);
  EXPECT_EQ(a.os_hidden, b.os_hidden);
  EXPECT_EQ(a.checksum, b.checksum);
  EXPECT_EQ(a.os_hash_algo, b.os_hash_algo);
  EXPECT_EQ(a.os_hash_value, b.os_hash_value);
  EXPECT_EQ(a.owner, b.owner);
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.virtual_size, b.virtual_size);
  EXPECT_EQ(a.container_format, b.container_format);
  EXPECT_EQ(a.disk_format, b.disk_format);
  EXPECT_EQ(a.min_disk, b.min_disk);
  EXPECT_EQ(a.min_ram, b.min_ram);
  EXPECT_EQ(a.tags, b.tags);
  EXPECT_EQ(a.properties, b.properties);
  ASSERT_EQ(a.locations.size(), b.locations.size());
  for (size_t i = 0; i < a.locations.size(); ++i) {
    EXPECT_EQ(a.locations[i].store_id, b.locations[i].store_id);
    EXPECT_EQ(a.locations[i].url, b.locations[i].url);
    EXPECT_EQ(a.locations[i].metadata_json, b.locations[i].metadata_json);
  }
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
}

TEST_P(ImageRepositoryTest, CreateThenGetRoundTripsEveryField) {
  const Image image = FullImage("11111111-1111-4111-8111-111111111111");
  ASSERT_TRUE(repo_->Create(image).ok());
  auto got = repo_->Get(image.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectSameImage(*got, image);
}

TEST_P(ImageRepositoryTest, MinimalImageKeepsNulls) {
  Image image;
  image.id = "22222222-2222-4222-8222-222222222222";
  image.created_at = image.updated_at = 5;
  ASSERT_TRUE(repo_->Create(image).ok());
  auto got = repo_->Get(image.id);
  ASSERT_TRUE(got.ok());
  ExpectSameImage(*got, image);
  EXPECT_FALSE(got->name.has_value());
  EXPECT_FALSE(got->size.has_value());
  EXPECT_FALSE(got->owner.has_value());
  EXPECT_EQ(got->status, ImageStatus::kQueued);
  EXPECT_EQ(got->visibility, Visibility::kShared);
}

TEST_P(ImageRepositoryTest, UpdateIfPropertyIsACompareAndSet) {
  Image img = MakeImage("11111111-1111-1111-1111-111111111111", "p", Visibility::kPrivate, 1);
  ASSERT_TRUE(repo_->Create(img).ok());
  Image locked = img;
  locked.properties["os_glance_import_task"] = "t1";
  ASSERT_TRUE(repo_->UpdateIfProperty(locked, ImageStatus::kActive, "os_glance_import_task",
                                      std::nullopt)
                  .ok());
  Image other = img;
  other.properties["os_glance_import_task"] = "t2";
  EXPECT_EQ(repo_->UpdateIfProperty(other, std::nullopt, "os_glance_import_task", std::nullopt)
                .code(),
            StatusCode::kAborted);
  EXPECT_EQ(repo_->Get(img.id)->properties.at("os_glance_import_task"), "t1");
  EXPECT_TRUE(repo_->UpdateIfProperty(img, std::nullopt, "os_glance_import_task",
                                      std::string("t1"))
                  .ok());
  EXPECT_EQ(repo_->Get(img.id)->properties.count("os_glance_import_task"), 0u);
  EXPECT_EQ(repo_->UpdateIfProperty(img, ImageStatus::kQueued, "os_glance_import_task",
                                    std::nullopt)
                .code(),
            StatusCode::kAborted);  // status differs
  ASSERT_TRUE(repo_->Delete(img.id).ok());
  EXPECT_EQ(repo_->UpdateIfProperty(img, std::nullopt, "x", std::nullopt).code(),
            StatusCode::kNotFound);
}

TEST_P(ImageRepositoryTest, GetUnknownIsNotFound) {
  EXPECT_EQ(repo_->Get("nope").status().code(), StatusCode::kNotFound);
}

TEST_P(ImageRepositoryTest, DuplicateIdIsAlreadyExistsEvenAfterDelete) {
  const Image image = FullImage("33333333-3333-4333-8333-333333333333");
  ASSERT_TRUE(repo_->Create(image).ok());
  EXPECT_EQ(repo_->Create(image).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(repo_->Delete(image.id).ok());
  EXPECT_EQ(repo_->Get(image.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->Delete(image.id).code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->Create(image).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(repo_->Update(image, std::nullopt).code(), StatusCode::kNotFound);
}

TEST_P(ImageRepositoryTest, FailedCreateLeavesNothingBehind) {
  Image first = FullImage("44444444-4444-4444-8444-444444444444");
  ASSERT_TRUE(repo_->Create(first).ok());
  Image dup = first;
  dup.tags = {"gamma"};
  EXPECT_EQ(repo_->Create(dup).code(), StatusCode::kAlreadyExists);
  auto got = repo_->Get(first.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->tags, first.tags);
}

TEST_P(ImageRepositoryTest, UpdateReplacesColumnsAndChildren) {
  Image image = FullImage("55555555-5555-4555-8555-555555555555");
  ASSERT_TRUE(repo_->Create(image).ok());
  image.name = std::nullopt;
  image.status = ImageStatus::kDeactivated;
  image.visibility = Visibility::kCommunity;
  image.size = std::nullopt;
  image.min_ram = 1024;
  image.tags = {"gamma"};
  image.properties = {{"os_distro", "debian"}};
  image.locations = {{"file", "file:///other", "{}"}};
  image.updated_at += 1000;
  ASSERT_TRUE(repo_->Update(image, ImageStatus::kActive).ok());
  auto got = repo_->Get(image.id);
  ASSERT_TRUE(got.ok());
  ExpectSameImage(*got, image);

  image.tags.clear();
  image.properties.clear();
  image.locations.clear();
  ASSERT_TRUE(repo_->Update(image, std::nullopt).ok());
  got = repo_->Get(image.id);
  ASSERT_TRUE(got.ok());
  ExpectSameImage(*got, image);
}

TEST_P(ImageRepositoryTest, UpdateWithWrongExpectedStatusIsAbortedAndChangesNothing) {
  Image image = FullImage("66666666-6666-4666-8666-666666666666");
  ASSERT_TRUE(repo_->Create(image).ok());
  Image changed = image;
  changed.status = ImageStatus::kSaving;
  changed.tags = {"x"};
  EXPECT_EQ(repo_->Update(changed, ImageStatus::kQueued).code(), StatusCode::kAborted);
  auto got = repo_->Get(image.id);
  ASSERT_TRUE(got.ok());
  ExpectSameImage(*got, image);
  EXPECT_EQ(repo_->Update(MakeImage("unknown", "p", Visibility::kPublic), ImageStatus::kQueued)
                .code(),
            StatusCode::kNotFound);
}

TEST_P(ImageRepositoryTest, CompareAndSetRaceHasExactlyOneWinner) {
  constexpr int kRounds = 25;
  platform::Executor executor("cas-test", 2);
  for (int round = 0; round < kRounds; ++round) {
    Image image = MakeImage("race-" + std::to_string(round), "p", Visibility::kPrivate);
    image.status = ImageStatus::kQueued;
    ASSERT_TRUE(repo_->Create(image).ok());
    std::latch start(2);
    auto attempt = [&](std::string tag) {
      Image mine = image;
      mine.status = ImageStatus::kSaving;
      mine.tags = {tag};
      start.arrive_and_wait();
      return repo_->Update(mine, ImageStatus::kQueued);
    };
    auto a = executor.Submit([&] { return attempt("a"); });
    auto b = executor.Submit([&] { return attempt("b"); });
    Status sa = a.get();
    Status sb = b.get();
    ASSERT_TRUE(sa.ok() != sb.ok()) << sa.ToString() << " / " << sb.ToString();
    const Status& loser = sa.ok() ? sb : sa;
    EXPECT_EQ(loser.code(), StatusCode::kAborted);
    auto got = repo_->Get(image.id);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->status, ImageStatus::kSaving);
    EXPECT_EQ(got->tags, std::vector<std::string>{sa.ok() ? "a" : "b"});
  }
}

// Two nodes (two database handles, each with its own connections) create images of one project
// at once with room for exactly `kLimit`: never more are admitted, whatever the interleaving.
TEST_P(ImageRepositoryTest, TwoNodesNeverOvershootAProjectQuota) {
  constexpr int kLimit = 7;
  constexpr int kPerNode = 12;
  auto db2 = test_db_.Open();
  ASSERT_NE(db2, nullptr);
  auto repo2 = NewImageRepository(*db2);
  domain::QuotaLimits limits;
  limits.image_count_total = kLimit;
  platform::Executor executor("quota-test", 4);
  std::atomic<int> admitted{0}, refused{0};
  std::latch start(4);
  std::vector<std::future<void>> runs;
  for (int worker = 0; worker < 4; ++worker) {
    ImageRepository* repo = worker % 2 == 0 ? repo_.get() : repo2.get();
    runs.push_back(executor.Submit([&, repo, worker] {
      start.arrive_and_wait();
      for (int i = 0; i < kPerNode / 2; ++i) {
        Image image = MakeImage("q-" + std::to_string(worker) + "-" + std::to_string(i), "proj",
                                Visibility::kPrivate);
        Status st = repo->CreateWithinQuota(image, limits);
        if (st.ok()) {
          ++admitted;
        } else {
          EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
          ++refused;
        }
      }
    }));
  }
  for (auto& r : runs) r.get();
  EXPECT_EQ(admitted.load(), kLimit);
  EXPECT_EQ(refused.load(), 2 * kPerNode - kLimit);
  auto usage = repo_->GetProjectUsage("proj");
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->image_count_total, kLimit);
}

// The import lock (os_glance_import_task) taken from two nodes at once: one wins.
TEST_P(ImageRepositoryTest, TwoNodesRaceForTheImportLock) {
  auto db2 = test_db_.Open();
  ASSERT_NE(db2, nullptr);
  auto repo2 = NewImageRepository(*db2);
  platform::Executor executor("lock-test", 2);
  for (int round = 0; round < 20; ++round) {
    Image image = MakeImage("lock-" + std::to_string(round), "p", Visibility::kPrivate);
    image.status = ImageStatus::kQueued;
    ASSERT_TRUE(repo_->Create(image).ok());
    std::latch start(2);
    auto take = [&](ImageRepository* repo, std::string task) {
      Image mine = image;
      mine.properties["os_glance_import_task"] = task;
      start.arrive_and_wait();
      return repo->UpdateIfProperty(mine, std::nullopt, "os_glance_import_task", std::nullopt);
    };
    auto a = executor.Submit([&] { return take(repo_.get(), "task-a"); });
    auto b = executor.Submit([&] { return take(repo2.get(), "task-b"); });
    Status sa = a.get();
    Status sb = b.get();
    ASSERT_TRUE(sa.ok() != sb.ok()) << sa.ToString() << " / " << sb.ToString();
    EXPECT_EQ((sa.ok() ? sb : sa).code(), StatusCode::kAborted);
    auto got = repo_->Get(image.id);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->properties.at("os_glance_import_task"), sa.ok() ? "task-a" : "task-b");
  }
}

TEST_P(ImageRepositoryTest, RemoveLocationKeepsTheLastCopyAndChecksStatus) {
  Image image = FullImage("77777777-7777-4777-8777-777777777777");
  image.locations.push_back({"third", "file:///third/" + image.id, "{}"});
  ASSERT_TRUE(repo_->Create(image).ok());
  const std::string first = image.locations[0].url, second = image.locations[1].url,
                    third = image.locations[2].url;
  // Wrong status, unknown location, unknown image: nothing changes.
  EXPECT_EQ(repo_->RemoveLocation(image.id, second, ImageStatus::kQueued, 1).code(),
            StatusCode::kAborted);
  EXPECT_EQ(repo_->RemoveLocation(image.id, "file:///nowhere", ImageStatus::kActive, 1).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(repo_->RemoveLocation("unknown", second, ImageStatus::kActive, 1).code(),
            StatusCode::kNotFound);
  ExpectSameImage(*repo_->Get(image.id), image);

  ASSERT_TRUE(repo_->RemoveLocation(image.id, second, ImageStatus::kActive, image.updated_at + 5)
                  .ok());
  auto got = repo_->Get(image.id);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->locations.size(), 2u);
  EXPECT_EQ(got->locations[0].url, first);  // the others keep their order
  EXPECT_EQ(got->locations[1].url, third);
  EXPECT_EQ(got->updated_at, image.updated_at + 5);
  EXPECT_EQ(got->tags, image.tags);
  EXPECT_EQ(got->properties, image.properties);
  EXPECT_EQ(repo_->RemoveLocation(image.id, second, ImageStatus::kActive, 1).code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(repo_->RemoveLocation(image.id, first, ImageStatus::kActive, 1).ok());
  EXPECT_EQ(repo_->RemoveLocation(image.id, third, ImageStatus::kActive, 1).code(),
            StatusCode::kAborted);
  EXPECT_EQ(repo_->Get(image.id)->locations.size(), 1u);
  ASSERT_TRUE(repo_->Delete(image.id).ok());
  EXPECT_EQ(repo_->RemoveLocation(image.id, third, ImageStatus::kActive, 1).code(),
            StatusCode::kNotFound);
}

TEST_P(ImageRepositoryTest, ConcurrentRemovalsOfTwoCopiesLeaveOne) {
  constexpr int kRounds = 25;
  platform::Executor executor("remove-location-test", 2);
  for (int round = 0; round < kRounds; ++round) {
    Image image = MakeImage("two-copies-" + std::to_string(round), "p", Visibility::kPrivate);
    image.status = ImageStatus::kActive;
    image.locations = {{"a", "file:///a/" + image.id, "{}"}, {"b", "file:///b/" + image.id, "{}"}};
    ASSERT_TRUE(repo_->Create(image).ok());
    std::latch start(2);
    auto attempt = [&](const std::string& url) {
      start.arrive_and_wait();
      return repo_->RemoveLocation(image.id, url, ImageStatus::kActive, 1);
    };
    auto a = executor.Submit([&] { return attempt(image.locations[0].url); });
    auto b = executor.Submit([&] { return attempt(image.locations[1].url); });
    Status sa = a.get();
    Status sb = b.get();
    ASSERT_TRUE(sa.ok() != sb.ok()) << sa.ToString() << " / " << sb.ToString();
    EXPECT_EQ((sa.ok() ? sb : sa).code(), StatusCode::kAborted);
    auto got = repo_->Get(image.id);
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->locations.size(), 1u);
    EXPECT_EQ(got->locations[0].store_id, sa.ok() ? "b" : "a");
  }
}

TEST_P(ImageRepositoryTest, ConcurrentReadersAndWriters) {
  constexpr int kImages = 50;
  for (int i = 0; i < kImages; ++i) {
    ASSERT_TRUE(repo_->Create(FullImage("img-" + std::to_string(i))).ok());
  }
  std::atomic<int> failures{0};
  {
    platform::Executor executor("rw-test", 2);
    for (int t = 0; t < 8; ++t) {
      executor.Post([&, t] {
        for (int i = 0; i < kImages; ++i) {
          const std::string id = "img-" + std::to_string(i);
          if (t % 2 == 0) {
            auto got = repo_->Get(id);
            if (!got.ok() || got->tags.size() != 2) ++failures;
          } else {
            Image image = FullImage(id);
            image.min_ram = t;
            if (!repo_->Update(image, std::nullopt).ok()) ++failures;
          }
        }
      });
    }
  }
  EXPECT_EQ(failures.load(), 0);
}

TEST_P(ImageRepositoryTest, ListByStatus) {
  Image a = MakeImage("a", "p", Visibility::kPrivate, 1);
  a.status = ImageStatus::kSaving;
  Image b = MakeImage("b", "p", Visibility::kPrivate, 2);
  b.status = ImageStatus::kImporting;
  b.tags = {"t"};
  Image c = MakeImage("c", "p", Visibility::kPrivate, 3);
  c.status = ImageStatus::kActive;
  Image d = MakeImage("d", "p", Visibility::kPrivate, 4);
  d.status = ImageStatus::kSaving;
  for (const Image& image : {a, b, c, d}) ASSERT_TRUE(repo_->Create(image).ok());
  ASSERT_TRUE(repo_->Delete("d").ok());
  auto got = repo_->ListByStatus({ImageStatus::kSaving, ImageStatus::kImporting});
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].id, "a");
  EXPECT_EQ((*got)[1].id, "b");
  EXPECT_EQ((*got)[1].tags, std::vector<std::string>{"t"});
  auto none = repo_->ListByStatus({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_P(ImageRepositoryTest, Members) {
  ASSERT_TRUE(repo_->Create(MakeImage("img", "owner", Visibility::kShared)).ok());
  Member m{"img", "proj-b", MemberStatus::kPending, 10, 10};
  auto absent = repo_->GetMember("img", "proj-b");
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value());

  ASSERT_TRUE(repo_->AddMember(m).ok());
  EXPECT_EQ(repo_->AddMember(m).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(repo_->AddMember({"img", "proj-a", MemberStatus::kPending, 20, 20}).ok());

  auto got = repo_->GetMember("img", "proj-b");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->status, MemberStatus::kPending);
  EXPECT_EQ((*got)->created_at, 10);

  m.status = MemberStatus::kAccepted;
  m.updated_at = 30;
  ASSERT_TRUE(repo_->UpdateMember(m).ok());
  got = repo_->GetMember("img", "proj-b");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->status, MemberStatus::kAccepted);
  EXPECT_EQ((*got)->updated_at, 30);
  EXPECT_EQ((*got)->created_at, 10);

  auto list = repo_->ListMembers("img");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].member_id, "proj-b");  // ordered by created_at
  EXPECT_EQ((*list)[1].member_id, "proj-a");

  EXPECT_EQ(repo_->UpdateMember({"img", "nobody", MemberStatus::kAccepted, 0, 0}).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(repo_->RemoveMember("img", "nobody").code(), StatusCode::kNotFound);
  ASSERT_TRUE(repo_->RemoveMember("img", "proj-a").ok());
  list = repo_->ListMembers("img");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);

  EXPECT_EQ(repo_->AddMember({"missing", "x", MemberStatus::kPending, 0, 0}).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(repo_->ListMembers("missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->GetMember("missing", "x").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(repo_->Delete("img").ok());
  EXPECT_EQ(repo_->GetMember("img", "proj-b").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->AddMember({"img", "late", MemberStatus::kPending, 0, 0}).code(),
            StatusCode::kNotFound);
}

// Staged bytes are the sizes of images being staged, staged or importing; an importing image
// that becomes active moves its size from image_stage_total to image_size_total.
TEST_P(ImageRepositoryTest, StageUsageCountsUploadingAndImportingImages) {
  Image staged = MakeImage("stage-1", "proj", Visibility::kPrivate);
  staged.status = ImageStatus::kUploading;
  staged.size = 100;
  Image importing = MakeImage("stage-2", "proj", Visibility::kPrivate);
  importing.status = ImageStatus::kImporting;
  importing.size = 20;
  Image queued = MakeImage("stage-3", "proj", Visibility::kPrivate);
  queued.status = ImageStatus::kQueued;
  queued.size = 1000;  // no data counted while queued
  for (const Image* i : {&staged, &importing, &queued}) ASSERT_TRUE(repo_->Create(*i).ok());
  auto u = repo_->GetProjectUsage("proj");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->image_stage_total, 120);
  EXPECT_EQ(u->image_count_uploading, 2);
  EXPECT_EQ(u->image_size_total, 0);

  domain::QuotaLimits limits;
  limits.image_stage_total = 150;
  Image grown = staged;
  grown.size = 131;  // 131 + 20 > 150
  EXPECT_EQ(repo_->UpdateWithinQuota(grown, ImageStatus::kUploading, limits).code(),
            StatusCode::kResourceExhausted);
  grown.size = 130;
  EXPECT_TRUE(repo_->UpdateWithinQuota(grown, ImageStatus::kUploading, limits).ok());

  limits = {};
  limits.image_size_total = 19;
  Image active = importing;
  active.status = ImageStatus::kActive;
  active.properties["os_glance_import_task"] = "t";
  Image locked = importing;
  locked.properties["os_glance_import_task"] = "t";
  ASSERT_TRUE(repo_->Update(locked, ImageStatus::kImporting).ok());
  EXPECT_EQ(repo_->UpdateIfPropertyWithinQuota(active, ImageStatus::kImporting,
                                               "os_glance_import_task", std::string("t"), limits)
                .code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(repo_->Get(importing.id)->status, ImageStatus::kImporting);
  limits.image_size_total = 20;
  EXPECT_EQ(repo_->UpdateIfPropertyWithinQuota(active, ImageStatus::kImporting,
                                               "os_glance_import_task", std::string("other"),
                                               limits)
                .code(),
            StatusCode::kAborted);  // the compare-and-set still applies
  EXPECT_TRUE(repo_->UpdateIfPropertyWithinQuota(active, ImageStatus::kImporting,
                                                 "os_glance_import_task", std::string("t"),
                                                 limits)
                  .ok());
  u = repo_->GetProjectUsage("proj");
  EXPECT_EQ(u->image_stage_total, 130);
  EXPECT_EQ(u->image_size_total, 20);
  EXPECT_EQ(u->image_count_uploading, 1);
}

// Imports of one project activated from two nodes at once, each holding its own image's import
// lock, with room for `kRoom` of them: never more become active.
TEST_P(ImageRepositoryTest, TwoNodesNeverOvershootWhenActivatingImports) {
  constexpr int kImages = 12;
  constexpr int kRoom = 5;
  auto db2 = test_db_.Open();
  ASSERT_NE(db2, nullptr);
  auto repo2 = NewImageRepository(*db2);
  domain::QuotaLimits limits;
  limits.image_size_total = kRoom * 1000;
  std::vector<Image> images;
  for (int i = 0; i < kImages; ++i) {
    Image image = MakeImage("act-" + std::to_string(i), "proj", Visibility::kPrivate);
    image.status = ImageStatus::kImporting;
    image.size = 1000;
    image.properties["os_glance_import_task"] = "task-" + std::to_string(i);
    ASSERT_TRUE(repo_->Create(image).ok());
    images.push_back(image);
  }
  platform::Executor executor("activate-test", 4);
  std::latch start(kImages);
  std::vector<std::future<Status>> runs;
  for (int i = 0; i < kImages; ++i) {
    ImageRepository* repo = i % 2 == 0 ? repo_.get() : repo2.get();
    runs.push_back(executor.Submit([&, repo, i] {
      Image active = images[i];
      active.status = ImageStatus::kActive;
      start.count_down();
      return repo->UpdateIfPropertyWithinQuota(active, ImageStatus::kImporting,
                                               "os_glance_import_task",
                                               "task-" + std::to_string(i), limits);
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
  EXPECT_EQ(admitted, kRoom);
  auto usage = repo_->GetProjectUsage("proj");
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->image_size_total, kRoom * 1000);
}

TEST_P(ImageRepositoryTest, DataSurvivesReopen) {
  const Image image = FullImage("77777777-7777-4777-8777-777777777777");
  ASSERT_TRUE(repo_->Create(image).ok());
  repo_.reset();
  db_.reset();
  db_ = test_db_.Open();
  ASSERT_NE(db_, nullptr);
  repo_ = NewImageRepository(*db_);
  auto got = repo_->Get(image.id);
  ASSERT_TRUE(got.ok());
  ExpectSameImage(*got, image);
}

INSTANTIATE_TEST_SUITE_P(Engines, ImageRepositoryTest, ::testing::ValuesIn(testing::Engines()),
                         testing::EngineName);

}  // namespace
}  // namespace glimmer::db::sql
