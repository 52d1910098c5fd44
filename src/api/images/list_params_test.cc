#include "api/images/list_params.h"

#include <gtest/gtest.h>

namespace glimmer::api::images {
namespace {

using domain::FilterOp;
using domain::ImageColumn;

StatusOr<domain::ListQuery> Parse(QueryParams p) { return ParseListQuery(p, ListLimits{}); }

TEST(ListParams, DefaultsAndTieBreakers) {
  auto q = Parse({});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->limit, 25);
  ASSERT_EQ(q->sort.size(), 2u);
  EXPECT_EQ(q->sort[0].column, ImageColumn::kCreatedAt);
  EXPECT_FALSE(q->sort[0].ascending);
  EXPECT_EQ(q->sort[1].column, ImageColumn::kId);
  EXPECT_FALSE(q->os_hidden);
  EXPECT_EQ(q->scope.member_status, domain::MemberStatus::kAccepted);
}

TEST(ListParams, LimitRules) {
  EXPECT_EQ(Parse({{"limit", "5000"}})->limit, 1000);
  EXPECT_EQ(Parse({{"limit", "abc"}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Parse({{"limit", "-1"}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Parse({{"limit", "0"}})->limit, 0);
}

TEST(ListParams, SortSyntaxes) {
  auto q = Parse({{"sort", "name:asc,size"}});
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->sort.size(), 4u);
  EXPECT_EQ(q->sort[0].column, ImageColumn::kName);
  EXPECT_TRUE(q->sort[0].ascending);
  EXPECT_EQ(q->sort[1].column, ImageColumn::kSize);
  EXPECT_FALSE(q->sort[1].ascending);  // missing direction means desc
  EXPECT_TRUE(q->sort[2].ascending);   // tie-breakers follow the first direction
  EXPECT_FALSE(Parse({{"sort", "name"}, {"sort_key", "name"}}).ok());
  EXPECT_FALSE(Parse({{"sort_key", "foo"}}).ok());
  EXPECT_FALSE(Parse({{"sort_dir", "up"}}).ok());
  EXPECT_FALSE(Parse({{"sort_key", "name"}, {"sort_key", "size"}, {"sort_dir", "asc"},
                      {"sort_dir", "asc"}, {"sort_dir", "desc"}})
                   .ok());
  auto classic = Parse({{"sort_key", "name"}, {"sort_key", "size"}, {"sort_dir", "asc"}});
  ASSERT_TRUE(classic.ok());
  EXPECT_TRUE(classic->sort[1].ascending);  // one direction applies to every key
}

TEST(ListParams, FilterValidation) {
  for (const auto& bad : std::vector<std::pair<std::string, std::string>>{
           {"visibility", "bogus"}, {"member_status", "bogus"}, {"os_hidden", "yes"},
           {"protected", "True"}, {"changes-since", "2020-01-01"}, {"size_min", "abc"},
           {"created_at", "gt:notadate"}, {"name", "a:b"}, {"name", "in:\"a,b"}}) {
    EXPECT_EQ(Parse({bad}).status().code(), StatusCode::kInvalidArgument)
        << bad.first << "=" << bad.second;
  }
  auto q = Parse({{"name", "eq:a:b"}, {"status", "in:queued,active"}, {"os_distro", "ubuntu"},
                  {"tag", "x"}, {"tag", "y"}, {"size_min", "10"},
                  {"created_at", "2026-01-01T00:00:00Z"}});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_EQ(q->filters.size(), 4u);
  EXPECT_EQ(q->filters[0].values, std::vector<std::string>{"a:b"});
  EXPECT_EQ(q->filters[1].op, FilterOp::kIn);
  EXPECT_EQ(q->filters[1].values, (std::vector<std::string>{"queued", "active"}));
  EXPECT_EQ(q->filters[2].op, FilterOp::kGte);
  EXPECT_EQ(q->filters[3].op, FilterOp::kEq);  // a bare timestamp means eq
  EXPECT_EQ(q->tags, (std::vector<std::string>{"x", "y"}));
  ASSERT_EQ(q->properties.size(), 1u);
  EXPECT_EQ(q->properties[0].first, "os_distro");
}

TEST(ListParams, InValuesWithQuotes) {
  auto v = SplitInValues("a,\"b,c\",d");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, (std::vector<std::string>{"a", "b,c", "d"}));
  EXPECT_FALSE(SplitInValues("a\"b").ok());
  EXPECT_FALSE(SplitInValues("\"ab\"c").ok());
}

TEST(ListParams, Links) {
  QueryParams p{{"limit", "2"}, {"tag", "a b"}, {"tag", "c"}, {"marker", "old"}};
  EXPECT_EQ(FirstLink(p), "/v2/images?limit=2&tag=a+b&tag=c");
  EXPECT_EQ(NextLink(p, "m1"), "/v2/images?limit=2&tag=a+b&tag=c&marker=m1");
  EXPECT_EQ(FirstLink({}), "/v2/images");
}

}  // namespace
}  // namespace glimmer::api::images
