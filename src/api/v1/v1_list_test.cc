#include "api/v1/v1_list.h"

#include <gtest/gtest.h>

namespace glimmer::api::v1 {
namespace {

using domain::FilterOp;
using domain::ImageColumn;

StatusOr<domain::ListQuery> Parse(images::QueryParams p, bool admin = false) {
  return ParseV1ListQuery(p, images::ListLimits{25, 1000}, admin);
}

TEST(V1ListQueryTest, DefaultsAndWhatGlanceclientSends) {
  auto q = Parse({});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->limit, 25);
  EXPECT_FALSE(q->scope.member_status.has_value());  // every shared image, any member status
  ASSERT_EQ(q->sort.size(), 2u);
  EXPECT_EQ(q->sort[0].column, ImageColumn::kCreatedAt);
  EXPECT_FALSE(q->sort[0].ascending);
  EXPECT_EQ(q->sort[1].column, ImageColumn::kId);

  q = Parse({{"is_public", "None"}, {"limit", "20"}, {"sort_key", "name"}, {"sort_dir", "asc"}});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->limit, 20);
  EXPECT_EQ(q->sort[0].column, ImageColumn::kName);
  EXPECT_TRUE(q->sort[0].ascending);
  EXPECT_EQ(q->sort.size(), 3u);
  EXPECT_TRUE(q->filters.empty());
  EXPECT_FALSE(q->scope.admin_as_user);
}

TEST(V1ListQueryTest, IsPublicForAdmins) {
  EXPECT_TRUE(Parse({}, true)->scope.admin_as_user);
  EXPECT_TRUE(Parse({{"is_public", "True"}}, true)->scope.admin_as_user);
  auto none = Parse({{"is_public", "none"}}, true);
  EXPECT_FALSE(none->scope.admin_as_user);
  EXPECT_TRUE(none->filters.empty());
  auto f = Parse({{"is_public", "False"}}, true);
  EXPECT_FALSE(f->scope.admin_as_user);
  ASSERT_EQ(f->filters.size(), 1u);
  EXPECT_EQ(f->filters[0].column, ImageColumn::kVisibility);
  EXPECT_EQ(f->filters[0].op, FilterOp::kNeq);
  // Users: ignored.
  EXPECT_TRUE(Parse({{"is_public", "False"}}, false)->filters.empty());
}

TEST(V1ListQueryTest, Filters) {
  auto q = Parse({{"name", "a b"}, {"size_min", "10"}, {"size_max", "20"}, {"protected", "true"},
                  {"property-os_distro", "debian"}, {"changes-since", "2020-01-01T00:00:00"},
                  {"whatever", "ignored"}});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_EQ(q->filters.size(), 5u);
  EXPECT_EQ(q->filters[1].column, ImageColumn::kSize);
  EXPECT_EQ(q->filters[1].op, FilterOp::kGte);
  EXPECT_EQ(q->filters[2].op, FilterOp::kLte);
  ASSERT_EQ(q->properties.size(), 1u);
  EXPECT_EQ(q->properties[0].first, "os_distro");
}

TEST(V1ListQueryTest, BadValuesAre400) {
  for (images::QueryParams p : std::vector<images::QueryParams>{
           {{"limit", "x"}},          {{"limit", "-1"}},          {{"marker", "nope"}},
           {{"sort_key", "owner"}},   {{"sort_dir", "up"}},       {{"size_min", "-3"}},
           {{"min_ram", "a"}},        {{"is_public", "maybe"}},   {{"protected", "2"}},
           {{"changes-since", "yesterday"}}}) {
    auto q = Parse(p);
    ASSERT_FALSE(q.ok()) << p[0].first << "=" << p[0].second;
    EXPECT_EQ(q.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(Parse({{"limit", "5000"}})->limit, 1000);
}

}  // namespace
}  // namespace glimmer::api::v1
