// Contract tests for ImageRepository::List: visibility scope, filters, sorting and paging.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <set>
#include <variant>

#include "db/sql/image_repository.h"
#include "db/sql/testing/test_database.h"

namespace glimmer::db::sql {
namespace {

using domain::ColumnFilter;
using domain::FilterOp;
using domain::Image;
using domain::ImageColumn;
using domain::ImageStatus;
using domain::ListQuery;
using domain::MemberStatus;
using domain::SortKey;
using domain::Visibility;
using testing::MakeImage;
using Ids = std::set<std::string>;

class ImageListTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    GLIMMER_SKIP_UNLESS_AVAILABLE(test_db_);
    db_ = test_db_.Open();
    ASSERT_NE(db_, nullptr);
    repo_ = NewImageRepository(*db_);
  }

  void Create(const Image& image) { ASSERT_TRUE(repo_->Create(image).ok()) << image.id; }

  static ListQuery Query(std::string project, bool admin = false) {
    ListQuery q;
    q.scope.project_id = std::move(project);
    q.scope.is_admin = admin;
    q.sort = {{ImageColumn::kCreatedAt, false}, {ImageColumn::kId, false}};
    q.limit = 1000;
    return q;
  }

  Ids ListIds(const ListQuery& q) {
    auto got = repo_->List(q);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    Ids ids;
    if (got.ok()) {
      for (const Image& image : *got) ids.insert(image.id);
    }
    return ids;
  }

  testing::TestDatabase test_db_{GetParam()};
  std::unique_ptr<Database> db_;
  std::unique_ptr<ImageRepository> repo_;
};

// ---- Visibility scope (glance-api.md §4.4) ----

class ScopeTest : public ImageListTest {
 protected:
  void SetUp() override {
    ImageListTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    int t = 0;
    auto add = [&](const std::string& id, const char* owner, Visibility v) {
      Image image = MakeImage(id, owner == nullptr ? "" : owner, v, ++t);
      if (owner == nullptr) image.owner = std::nullopt;
      return image;
    };
    Create(add("p_private", "P", Visibility::kPrivate));
    Create(add("p_shared", "P", Visibility::kShared));
    Create(add("p_public", "P", Visibility::kPublic));
    Create(add("p_community", "P", Visibility::kCommunity));
    Create(add("q_private", "Q", Visibility::kPrivate));
    Create(add("q_public", "Q", Visibility::kPublic));
    Create(add("q_community", "Q", Visibility::kCommunity));
    Create(add("q_shared_none", "Q", Visibility::kShared));
    Create(add("q_shared_pending", "Q", Visibility::kShared));
    Create(add("q_shared_accepted", "Q", Visibility::kShared));
    Create(add("q_shared_rejected", "Q", Visibility::kShared));
    Create(add("q_private_member", "Q", Visibility::kPrivate));
    Create(add("r_shared_with_q", "R", Visibility::kShared));
    Create(add("null_public", nullptr, Visibility::kPublic));
    Image hidden = add("q_hidden_public", "Q", Visibility::kPublic);
    hidden.os_hidden = true;
    Create(hidden);
    Image killed = add("q_killed_public", "Q", Visibility::kPublic);
    killed.status = ImageStatus::kKilled;
    Create(killed);
    Image queued = add("q_queued_public", "Q", Visibility::kPublic);
    queued.status = ImageStatus::kQueued;
    Create(queued);
    Create(add("q_deleted_public", "Q", Visibility::kPublic));
    ASSERT_TRUE(repo_->Delete("q_deleted_public").ok());
    Create(add("p_deleted_private", "P", Visibility::kPrivate));
    ASSERT_TRUE(repo_->Delete("p_deleted_private").ok());

    auto member = [&](const char* image, const char* project, MemberStatus s) {
      ASSERT_TRUE(repo_->AddMember({image, project, s, 1, 1}).ok());
    };
    member("q_shared_pending", "P", MemberStatus::kPending);
    member("q_shared_accepted", "P", MemberStatus::kAccepted);
    member("q_shared_rejected", "P", MemberStatus::kRejected);
    member("q_private_member", "P", MemberStatus::kAccepted);
    member("r_shared_with_q", "Q", MemberStatus::kAccepted);
    member("q_shared_none", "R", MemberStatus::kAccepted);
  }

  const Ids kOwnedByP = {"p_private", "p_shared", "p_public", "p_community"};
  const Ids kPublic = {"p_public", "q_public", "null_public", "q_queued_public"};
};

Ids Union(Ids a, const Ids& b) {
  a.insert(b.begin(), b.end());
  return a;
}

TEST_P(ScopeTest, NonAdminDefault) {
  EXPECT_EQ(ListIds(Query("P")), Union(Union(kOwnedByP, kPublic), {"q_shared_accepted"}));
}

TEST_P(ScopeTest, NonAdminMemberStatusFilters) {
  const Ids base = Union(kOwnedByP, kPublic);
  ListQuery q = Query("P");
  q.scope.member_status = MemberStatus::kPending;
  EXPECT_EQ(ListIds(q), Union(base, {"q_shared_pending"}));
  q.scope.member_status = MemberStatus::kRejected;
  EXPECT_EQ(ListIds(q), Union(base, {"q_shared_rejected"}));
  q.scope.member_status = MemberStatus::kAccepted;
  EXPECT_EQ(ListIds(q), Union(base, {"q_shared_accepted"}));
  q.scope.member_status = std::nullopt;
  EXPECT_EQ(ListIds(q),
            Union(base, {"q_shared_pending", "q_shared_accepted", "q_shared_rejected"}));
}

TEST_P(ScopeTest, NonAdminVisibilityFilter) {
  ListQuery q = Query("P");
  q.scope.visibility = Visibility::kCommunity;
  EXPECT_EQ(ListIds(q), (Ids{"p_community", "q_community"}));
  q.scope.visibility = Visibility::kShared;
  EXPECT_EQ(ListIds(q), (Ids{"p_shared", "q_shared_accepted"}));
  q.scope.member_status = std::nullopt;
  EXPECT_EQ(ListIds(q),
            (Ids{"p_shared", "q_shared_accepted", "q_shared_pending", "q_shared_rejected"}));
  q.scope.member_status = MemberStatus::kAccepted;
  q.scope.visibility = Visibility::kPrivate;
  EXPECT_EQ(ListIds(q), (Ids{"p_private"}));
  q.scope.visibility = Visibility::kPublic;
  EXPECT_EQ(ListIds(q), kPublic);
}

TEST_P(ScopeTest, NonAdminVisibilityAll) {
  ListQuery q = Query("P");
  q.scope.visibility_all = true;
  EXPECT_EQ(ListIds(q),
            Union(Union(kOwnedByP, kPublic), {"q_shared_accepted", "q_community"}));
}

TEST_P(ScopeTest, OtherProjectSeesOnlyItsOwnAndItsShares) {
  EXPECT_EQ(ListIds(Query("Q")),
            Union(kPublic, {"q_private", "q_community", "q_shared_none", "q_shared_pending",
                            "q_shared_accepted", "q_shared_rejected", "q_private_member",
                            "r_shared_with_q"}));
}

TEST_P(ScopeTest, CallerWithoutProjectSeesPublicOnly) {
  EXPECT_EQ(ListIds(Query("")), kPublic);
  ListQuery q = Query("");
  q.scope.visibility = Visibility::kCommunity;
  EXPECT_EQ(ListIds(q), (Ids{"p_community", "q_community"}));
}

TEST_P(ScopeTest, AdminSeesEverythingButOthersCommunity) {
  const Ids all_live = {"p_private",         "p_shared",          "p_public",
                        "p_community",       "q_private",         "q_public",
                        "q_shared_none",     "q_shared_pending",  "q_shared_accepted",
                        "q_shared_rejected", "q_private_member",  "r_shared_with_q",
                        "null_public",       "q_queued_public"};
  EXPECT_EQ(ListIds(Query("P", true)), all_live);
  ListQuery q = Query("P", true);
  q.scope.visibility_all = true;
  EXPECT_EQ(ListIds(q), Union(all_live, {"q_community"}));
  q.scope.visibility_all = false;
  q.scope.visibility = Visibility::kCommunity;
  EXPECT_EQ(ListIds(q), (Ids{"p_community", "q_community"}));
  q.scope.visibility = Visibility::kShared;
  q.scope.member_status = MemberStatus::kPending;  // irrelevant for admins
  EXPECT_EQ(ListIds(q), (Ids{"p_shared", "q_shared_none", "q_shared_pending",
                             "q_shared_accepted", "q_shared_rejected", "r_shared_with_q"}));
}

TEST_P(ScopeTest, HiddenImagesOnlyWithOsHidden) {
  ListQuery q = Query("P");
  q.os_hidden = true;
  EXPECT_EQ(ListIds(q), (Ids{"q_hidden_public"}));
  q = Query("P", true);
  q.os_hidden = true;
  EXPECT_EQ(ListIds(q), (Ids{"q_hidden_public"}));
}

TEST_P(ScopeTest, MarkerMustBeVisible) {
  ListQuery q = Query("P");
  q.marker = "no-such-image";
  EXPECT_EQ(repo_->List(q).status().code(), StatusCode::kNotFound);
  for (const char* invisible : {"q_private", "q_shared_none", "q_shared_pending",
                                "q_deleted_public", "q_killed_public", "q_community"}) {
    q.marker = invisible;
    EXPECT_EQ(repo_->List(q).status().code(), StatusCode::kNotFound) << invisible;
  }
  q.marker = "q_shared_accepted";
  EXPECT_TRUE(repo_->List(q).ok());
  q.scope.member_status = MemberStatus::kPending;
  q.marker = "q_shared_pending";
  EXPECT_TRUE(repo_->List(q).ok());
  ListQuery admin = Query("P", true);
  admin.marker = "q_private";
  EXPECT_TRUE(repo_->List(admin).ok());
  admin.marker = "q_deleted_public";
  EXPECT_EQ(repo_->List(admin).status().code(), StatusCode::kNotFound);
}

// ---- Filters ----

class FilterTest : public ImageListTest {
 protected:
  void SetUp() override {
    ImageListTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    Image a = MakeImage("a", "P", Visibility::kPublic, 100);
    a.name = "alpha";
    a.size = 9;
    a.virtual_size = 90;
    a.min_disk = 1;
    a.min_ram = 64;
    a.container_format = "bare";
    a.disk_format = "raw";
    a.checksum = "c-a";
    a.os_hash_value = "h-a";
    a.updated_at = 1000;
    a.tags = {"x", "y"};
    a.properties = {{"os_distro", "ubuntu"}, {"os_version", "22.04"}};
    Image b = MakeImage("b", "Q", Visibility::kPublic, 200);
    b.name = "beta";
    b.size = 10;
    b.virtual_size = 100;
    b.min_disk = 2;
    b.min_ram = 128;
    b.is_protected = true;
    b.container_format = "bare";
    b.disk_format = "qcow2";
    b.checksum = "c-b";
    b.os_hash_value = "h-b";
    b.status = ImageStatus::kQueued;
    b.updated_at = 2000;
    b.tags = {"x"};
    b.properties = {{"os_distro", "ubuntu"}, {"os_version", "24.04"}};
    Image c = MakeImage("c", "P", Visibility::kPrivate, 300);
    c.name = std::nullopt;
    c.size = std::nullopt;
    c.min_ram = 1024;
    c.updated_at = 3000;
    c.tags = {"y"};
    c.properties = {{"os_distro", "debian"}};
    Create(a);
    Create(b);
    Create(c);
  }

  void CheckTags();
  void CheckProperties();

  // Runs `body` against the default repository (selective tags/properties drive the query) and
  // against one that always probes them per row, so both SQL shapes are covered.
  void ForBothPlans(const std::function<void()>& body) {
    {
      SCOPED_TRACE("driving");
      body();
    }
    std::unique_ptr<ImageRepository> probing =
        std::make_unique<SqlImageRepository>(*db_, /*driving_threshold=*/0);
    std::swap(repo_, probing);
    {
      SCOPED_TRACE("probing");
      body();
    }
    std::swap(repo_, probing);
  }

  Ids Filtered(ImageColumn col, FilterOp op, std::vector<std::string> values) {
    ListQuery q = Query("P");
    q.filters.push_back({col, op, std::move(values)});
    return ListIds(q);
  }
};

TEST_P(FilterTest, TextColumns) {
  EXPECT_EQ(Filtered(ImageColumn::kName, FilterOp::kEq, {"alpha"}), (Ids{"a"}));
  EXPECT_EQ(Filtered(ImageColumn::kName, FilterOp::kNeq, {"alpha"}), (Ids{"b"}));  // NULL ≠ match
  EXPECT_EQ(Filtered(ImageColumn::kName, FilterOp::kIn, {"alpha", "beta", "zeta"}),
            (Ids{"a", "b"}));
  EXPECT_EQ(Filtered(ImageColumn::kId, FilterOp::kIn, {"a", "c"}), (Ids{"a", "c"}));
  EXPECT_EQ(Filtered(ImageColumn::kStatus, FilterOp::kEq, {"queued"}), (Ids{"b"}));
  EXPECT_EQ(Filtered(ImageColumn::kVisibility, FilterOp::kEq, {"private"}), (Ids{"c"}));
  EXPECT_EQ(Filtered(ImageColumn::kContainerFormat, FilterOp::kEq, {"bare"}), (Ids{"a", "b"}));
  EXPECT_EQ(Filtered(ImageColumn::kDiskFormat, FilterOp::kIn, {"qcow2", "iso"}), (Ids{"b"}));
  EXPECT_EQ(Filtered(ImageColumn::kOwner, FilterOp::kEq, {"P"}), (Ids{"a", "c"}));
  EXPECT_EQ(Filtered(ImageColumn::kChecksum, FilterOp::kEq, {"c-b"}), (Ids{"b"}));
  EXPECT_EQ(Filtered(ImageColumn::kOsHashValue, FilterOp::kEq, {"h-a"}), (Ids{"a"}));
}

TEST_P(FilterTest, IntegerColumnsCompareAsIntegers) {
  // "9" > "10" as text; as integers 9 < 10.
  EXPECT_EQ(Filtered(ImageColumn::kSize, FilterOp::kGte, {"10"}), (Ids{"b"}));
  EXPECT_EQ(Filtered(ImageColumn::kSize, FilterOp::kLt, {"10"}), (Ids{"a"}));
  EXPECT_EQ(Filtered(ImageColumn::kSize, FilterOp::kLte, {"10"}), (Ids{"a", "b"}));
  EXPECT_EQ(Filtered(ImageColumn::kSize, FilterOp::kGt, {"9"}), (Ids{"b"}));
  EXPECT_EQ(Filtered(ImageColumn::kVirtualSize, FilterOp::kEq, {"100"}), (Ids{"b"}));
  EXPECT_EQ(Filtered(ImageColumn::kMinDisk, FilterOp::kNeq, {"1"}), (Ids{"b", "c"}));
  EXPECT_EQ(Filtered(ImageColumn::kMinRam, FilterOp::kIn, {"64", "1024"}), (Ids{"a", "c"}));
  EXPECT_EQ(Filtered(ImageColumn::kMinRam, FilterOp::kGt, {"100"}), (Ids{"b", "c"}));
  EXPECT_EQ(Filtered(ImageColumn::kCreatedAt, FilterOp::kGt, {"100"}), (Ids{"b", "c"}));
  EXPECT_EQ(Filtered(ImageColumn::kCreatedAt, FilterOp::kLte, {"200"}), (Ids{"a", "b"}));
  EXPECT_EQ(Filtered(ImageColumn::kCreatedAt, FilterOp::kEq, {"300"}), (Ids{"c"}));
  EXPECT_EQ(Filtered(ImageColumn::kUpdatedAt, FilterOp::kGte, {"2000"}), (Ids{"b", "c"}));
  EXPECT_EQ(Filtered(ImageColumn::kUpdatedAt, FilterOp::kNeq, {"2000"}), (Ids{"a", "c"}));
  EXPECT_EQ(Filtered(ImageColumn::kProtected, FilterOp::kEq, {"true"}), (Ids{"b"}));
  EXPECT_EQ(Filtered(ImageColumn::kProtected, FilterOp::kEq, {"false"}), (Ids{"a", "c"}));
}

TEST_P(FilterTest, SeveralFiltersAreAnded) {
  ListQuery q = Query("P");
  q.filters.push_back({ImageColumn::kContainerFormat, FilterOp::kEq, {"bare"}});
  q.filters.push_back({ImageColumn::kSize, FilterOp::kLt, {"10"}});
  EXPECT_EQ(ListIds(q), (Ids{"a"}));
}

TEST_P(FilterTest, MalformedValuesAreInvalidArgument) {
  ListQuery q = Query("P");
  q.filters.push_back({ImageColumn::kSize, FilterOp::kEq, {"ten"}});
  EXPECT_EQ(repo_->List(q).status().code(), StatusCode::kInvalidArgument);
  q.filters = {{ImageColumn::kProtected, FilterOp::kEq, {"yes"}}};
  EXPECT_EQ(repo_->List(q).status().code(), StatusCode::kInvalidArgument);
  q.filters = {{ImageColumn::kName, FilterOp::kIn, {}}};
  EXPECT_EQ(repo_->List(q).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(FilterTest, TagsHaveAndSemantics) {
  ForBothPlans([&] { CheckTags(); });
}
TEST_P(FilterTest, PropertyEquality) {
  ForBothPlans([&] { CheckProperties(); });
}

void FilterTest::CheckTags() {
  ListQuery q = Query("P");
  q.tags = {"x"};
  EXPECT_EQ(ListIds(q), (Ids{"a", "b"}));
  q.tags = {"x", "y"};
  EXPECT_EQ(ListIds(q), (Ids{"a"}));
  q.tags = {"y"};
  EXPECT_EQ(ListIds(q), (Ids{"a", "c"}));
  q.tags = {"x", "nope"};
  EXPECT_EQ(ListIds(q), Ids{});
}

void FilterTest::CheckProperties() {
  ListQuery q = Query("P");
  q.properties = {{"os_distro", "ubuntu"}};
  EXPECT_EQ(ListIds(q), (Ids{"a", "b"}));
  q.properties = {{"os_distro", "ubuntu"}, {"os_version", "24.04"}};
  EXPECT_EQ(ListIds(q), (Ids{"b"}));
  q.properties = {{"os_distro", "Ubuntu"}};
  EXPECT_EQ(ListIds(q), Ids{});
  q.properties = {{"os_version", "22.04"}};
  q.tags = {"y"};
  EXPECT_EQ(ListIds(q), (Ids{"a"}));
}

TEST_P(FilterTest, PageCarriesChildren) {
  ListQuery q = Query("P");
  auto got = repo_->List(q);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[2].id, "a");
  EXPECT_EQ((*got)[2].tags, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ((*got)[2].properties.at("os_version"), "22.04");
  EXPECT_EQ((*got)[0].id, "c");
  EXPECT_EQ((*got)[0].tags, (std::vector<std::string>{"y"}));
}

TEST_P(FilterTest, LimitZeroAndSmallLimits) {
  ListQuery q = Query("P");
  q.limit = 0;
  auto got = repo_->List(q);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty());
  q.limit = 2;
  got = repo_->List(q);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].id, "c");
  EXPECT_EQ((*got)[1].id, "b");
}

// ---- Sorting and keyset paging ----

using SortValue = std::variant<int64_t, std::string>;

SortValue SortValueOf(const Image& image, ImageColumn column) {
  auto text = [](const std::optional<std::string>& s) { return SortValue(s.value_or("")); };
  switch (column) {
    case ImageColumn::kName:
      return text(image.name);
    case ImageColumn::kStatus:
      return std::string(domain::ToString(image.status));
    case ImageColumn::kContainerFormat:
      return text(image.container_format);
    case ImageColumn::kDiskFormat:
      return text(image.disk_format);
    case ImageColumn::kSize:
      return image.size.value_or(0);
    case ImageColumn::kId:
      return image.id;
    case ImageColumn::kCreatedAt:
      return image.created_at;
    case ImageColumn::kUpdatedAt:
      return image.updated_at;
    default:
      ADD_FAILURE() << "unexpected sort column";
      return int64_t{0};
  }
}

class SortTest : public ImageListTest {
 protected:
  void SetUp() override {
    ImageListTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    const std::vector<std::optional<std::string>> names = {std::nullopt, "", "b", "a", "B",
                                                           "a", std::nullopt, "zz", "m"};
    const std::vector<std::optional<std::string>> formats = {std::nullopt, "bare", "ovf", ""};
    const ImageStatus statuses[] = {ImageStatus::kActive, ImageStatus::kQueued,
                                    ImageStatus::kSaving, ImageStatus::kDeactivated};
    for (int i = 0; i < 47; ++i) {
      // Duplicate created_at values make the id tie-breaker matter.
      Image image = MakeImage("img-" + std::to_string((i * 37) % 101), "P",
                              Visibility::kPrivate, 1000 + (i % 13));
      image.name = names[i % names.size()];
      image.status = statuses[i % 4];
      image.container_format = formats[i % formats.size()];
      image.disk_format = formats[(i + 1) % formats.size()];
      if (i % 5 != 0) image.size = (i * 7919) % 23;  // NULL sizes and ties with 0
      image.updated_at = 5000 - (i % 7);
      images_.push_back(image);
      Create(image);
    }
  }

  std::vector<std::string> Expected(const std::vector<SortKey>& sort) const {
    std::vector<Image> sorted = images_;
    std::sort(sorted.begin(), sorted.end(), [&](const Image& x, const Image& y) {
      for (const SortKey& key : sort) {
        SortValue vx = SortValueOf(x, key.column), vy = SortValueOf(y, key.column);
        if (vx == vy) continue;
        return key.ascending ? vx < vy : vy < vx;
      }
      return false;
    });
    std::vector<std::string> ids;
    for (const Image& image : sorted) ids.push_back(image.id);
    return ids;
  }

  // Pages through everything with `page` rows per call; returns the concatenation.
  std::vector<std::string> PageThrough(ListQuery q, int page) {
    std::vector<std::string> ids;
    q.limit = page;
    for (int guard = 0; guard < 1000; ++guard) {
      auto got = repo_->List(q);
      EXPECT_TRUE(got.ok()) << got.status().ToString();
      if (!got.ok()) break;
      for (const Image& image : *got) ids.push_back(image.id);
      if (static_cast<int>(got->size()) < page) break;
      q.marker = got->back().id;
    }
    return ids;
  }

  std::vector<Image> images_;
};

TEST_P(SortTest, EveryKeyBothDirectionsPagesConsistently) {
  const ImageColumn keys[] = {ImageColumn::kName,       ImageColumn::kStatus,
                              ImageColumn::kContainerFormat, ImageColumn::kDiskFormat,
                              ImageColumn::kSize,       ImageColumn::kId,
                              ImageColumn::kCreatedAt,  ImageColumn::kUpdatedAt};
  for (ImageColumn key : keys) {
    for (bool asc : {true, false}) {
      ListQuery q = Query("P");
      q.sort = {{key, asc}};
      if (key != ImageColumn::kCreatedAt) q.sort.push_back({ImageColumn::kCreatedAt, asc});
      if (key != ImageColumn::kId) q.sort.push_back({ImageColumn::kId, asc});
      const std::vector<std::string> expected = Expected(q.sort);
      auto full = repo_->List(q);
      ASSERT_TRUE(full.ok());
      std::vector<std::string> full_ids;
      for (const Image& image : *full) full_ids.push_back(image.id);
      SCOPED_TRACE(::testing::Message() << "key " << static_cast<int>(key) << " asc " << asc);
      EXPECT_EQ(full_ids, expected);
      EXPECT_EQ(PageThrough(q, 5), expected);
      EXPECT_EQ(PageThrough(q, 1), expected);
      EXPECT_EQ(PageThrough(q, 47), expected);
    }
  }
}

TEST_P(SortTest, MixedDirectionsAndMultipleKeys) {
  ListQuery q = Query("P");
  q.sort = {{ImageColumn::kName, true},
            {ImageColumn::kSize, false},
            {ImageColumn::kCreatedAt, true},
            {ImageColumn::kId, false}};
  const std::vector<std::string> expected = Expected(q.sort);
  EXPECT_EQ(PageThrough(q, 4), expected);
  q.sort = {{ImageColumn::kStatus, false},
            {ImageColumn::kDiskFormat, true},
            {ImageColumn::kCreatedAt, false},
            {ImageColumn::kId, true}};
  EXPECT_EQ(PageThrough(q, 6), Expected(q.sort));
}

TEST_P(SortTest, PagingWithFilters) {
  ListQuery q = Query("P");
  q.sort = {{ImageColumn::kName, false}, {ImageColumn::kCreatedAt, false},
            {ImageColumn::kId, false}};
  q.filters.push_back({ImageColumn::kStatus, FilterOp::kIn, {"active", "queued"}});
  std::vector<std::string> expected;
  for (const std::string& id : Expected(q.sort)) {
    auto it = std::find_if(images_.begin(), images_.end(),
                           [&](const Image& image) { return image.id == id; });
    if (it->status == ImageStatus::kActive || it->status == ImageStatus::kQueued) {
      expected.push_back(id);
    }
  }
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(PageThrough(q, 3), expected);
}

INSTANTIATE_TEST_SUITE_P(Engines, ScopeTest, ::testing::ValuesIn(testing::Engines()),
                         testing::EngineName);
INSTANTIATE_TEST_SUITE_P(Engines, FilterTest, ::testing::ValuesIn(testing::Engines()),
                         testing::EngineName);
INSTANTIATE_TEST_SUITE_P(Engines, SortTest, ::testing::ValuesIn(testing::Engines()),
                         testing::EngineName);

}  // namespace
}  // namespace glimmer::db::sql
