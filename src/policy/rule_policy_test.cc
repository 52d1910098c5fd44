#include "policy/rule_policy.h"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "policy/default_rules.h"

namespace glimmer::policy {
namespace {

using A = domain::ImageAction;
using domain::Image;
using domain::ImageTarget;
using domain::RequestContext;
using domain::Visibility;

// RulePolicy with the defaults (no operator file) gives Glance's published decisions. Each table
// cell below is a string with one character per persona, 'y' allowed and '.' denied, in this
// order (spaces only group them):
//   admins:        admin of another project (admin, member, reader); admin role alone, owner's
//                  project ("own") — Keystone's implied roles make it member and reader too
//   owner project: member + reader; member alone (reader implied); reader; no role
//   other project: member + reader; reader; no role
//   no project:    service role (project "svc"); anonymous (no project, no role); member +
//                  reader without a project
RequestContext Ctx(std::string project, std::vector<std::string> roles) {
  RequestContext c;
  c.project_id = std::move(project);
  c.user_id = "u-" + c.project_id;
  c.roles = std::move(roles);
  c.authenticated = true;
  return c;
}

const std::vector<RequestContext>& Personas() {
  static const auto* personas = new std::vector<RequestContext>{
      Ctx("adminproj", {"admin", "member", "reader"}),
      Ctx("own", {"admin"}),
      Ctx("own", {"member", "reader"}),
      Ctx("own", {"member"}),
      Ctx("own", {"reader"}),
      Ctx("own", {}),
      Ctx("other", {"member", "reader"}),
      Ctx("other", {"reader"}),
      Ctx("other", {}),
      Ctx("svc", {"service"}),
      Ctx("", {}),
      Ctx("", {"member", "reader"}),
  };
  return *personas;
}

// The persona columns of a cell ("yy yyy. ... ..." -> allowed per persona).
std::vector<bool> Decisions(std::string_view cell) {
  std::vector<bool> out;
  for (char c : cell) {
    if (c != ' ') out.push_back(c == 'y');
  }
  return out;
}

std::string Describe(size_t persona) {
  const RequestContext& c = Personas()[persona];
  std::string roles;
  for (const auto& r : c.roles) roles += (roles.empty() ? "" : ",") + r;
  return "persona #" + std::to_string(persona) + " (project '" + c.project_id + "', roles '" +
         roles + "')";
}

// Actions on one image, owned by project "own" except in the last column. Columns:
//   private | shared, the caller's project has a member row (and modify_member changes that
//   row) | shared, no member row for the caller | public | community | no owner (private)
struct Scenario {
  const char* name;
  std::optional<std::string> owner;
  Visibility visibility;
  bool caller_has_member_row;
};
constexpr size_t kScenarios = 6;
const std::array<Scenario, kScenarios> kImageScenarios = {{
    {"private", "own", Visibility::kPrivate, false},
    {"shared, caller is a member", "own", Visibility::kShared, true},
    {"shared, caller is not a member", "own", Visibility::kShared, false},
    {"public", "own", Visibility::kPublic, false},
    {"community", "own", Visibility::kCommunity, false},
    {"no owner", std::nullopt, Visibility::kPrivate, false},
}};

struct ImageRow {
  A action;
  std::array<const char*, kScenarios> cells;
};
const ImageRow kImageRows[] = {
    {A::kGetImage,
     {"yy yyy. ... ...", "yy yyy. yy. ...", "yy yyy. ... ...",
      "yy yyy. yy. ..y", "yy yyy. yy. ..y", "yy yyy. yy. ..y"}},
    {A::kModifyImage,
     {"yy yy.. ... ...", "yy yy.. ... ...", "yy yy.. ... ...",
      "yy yy.. ... ...", "yy yy.. ... ...", "yy .... ... ..."}},
    {A::kDeleteImage,
     {"yy yy.. ... ...", "yy yy.. ... ...", "yy yy.. ... ...",
      "yy yy.. ... ...", "yy yy.. ... ...", "yy .... ... ..."}},
    {A::kUploadImage,
     {"yy yy.. ... ...", "yy yy.. ... ...", "yy yy.. ... ...",
      "yy yy.. ... ...", "yy yy.. ... ...", "yy .... ... ..."}},
    {A::kDownloadImage,
     {"yy yy.. ... ...", "yy yy.. y.. ...", "yy yy.. ... ...",
      "yy yy.. y.. ..y", "yy yy.. y.. ..y", "yy yy.. y.. ..y"}},
    {A::kPublicizeImage,
     {"yy .... ... ...", "yy .... ... ...", "yy .... ... ...",
      "yy .... ... ...", "yy .... ... ...", "yy .... ... ..."}},
    {A::kCommunitizeImage,
     {"yy yy.. ... ...", "yy yy.. ... ...", "yy yy.. ... ...",
      "yy yy.. ... ...", "yy yy.. ... ...", "yy .... ... ..."}},
    {A::kDeactivate,
     {"yy yy.. ... ...", "yy yy.. ... ...", "yy yy.. ... ...",
      "yy yy.. ... ...", "yy yy.. ... ...", "yy .... ... ..."}},
    {A::kReactivate,
     {"yy yy.. ... ...", "yy yy.. ... ...", "yy yy.. ... ...",
      "yy yy.. ... ...", "yy yy.. ... ...", "yy .... ... ..."}},
    {A::kAddMember,
     {"yy yy.. ... ...", "yy yy.. ... ...", "yy yy.. ... ...",
      "yy yy.. ... ...", "yy yy.. ... ...", "yy .... ... ..."}},
    {A::kDeleteMember,
     {"yy yy.. ... ...", "yy yy.. ... ...", "yy yy.. ... ...",
      "yy yy.. ... ...", "yy yy.. ... ...", "yy .... ... ..."}},
    {A::kGetMember,
     {"yy yyy. ... ...", "yy yyy. yy. ...", "yy yyy. ... ...",
      "yy yyy. ... ...", "yy yyy. ... ...", "yy yyy. yy. ..y"}},
    {A::kGetMembers,
     {"yy yyy. ... ...", "yy yyy. yy. ...", "yy yyy. ... ...",
      "yy yyy. ... ...", "yy yyy. ... ...", "yy yyy. yy. ..y"}},
    {A::kModifyMember,
     {"yy .... ... ...", "yy yy.. y.. ...", "yy .... ... ...",
      "yy .... ... ...", "yy .... ... ...", "yy .... ... ..."}},
    {A::kCopyImage,
     {"yy .... ... ...", "yy .... ... ...", "yy .... ... ...",
      "yy .... ... ...", "yy .... ... ...", "yy .... ... ..."}},
    {A::kTasksApiAccess,
     {"yy .... ... ...", "yy .... ... ...", "yy .... ... ...",
      "yy .... ... ...", "yy .... ... ...", "yy .... ... ..."}},
    {A::kGetImageLocation,
     {"yy yyy. ... ...", "yy yyy. ... ...", "yy yyy. ... ...",
      "yy yyy. ... ...", "yy yyy. ... ...", "yy .... ... ..."}},
    {A::kDeleteImageLocation,
     {"yy .... ... ...", "yy .... ... ...", "yy .... ... ...",
      "yy .... ... ...", "yy .... ... ...", "yy .... ... ..."}},
    {A::kDownloadFromStore,
     {"yy yy.. ... ...", "yy yy.. y.. ...", "yy yy.. ... ...",
      "yy yy.. y.. ..y", "yy yy.. y.. ..y", "yy yy.. y.. ..y"}},
};

// Actions on the collection. Columns: the target project (the new image's owner for add_image)
// is the caller's own | is another project.
struct CollectionRow {
  A action;
  std::array<const char*, 2> cells;
};
const CollectionRow kCollectionRows[] = {
    {A::kGetImages, {"yy yyy. yy. ..y", "yy yyy. yy. ..y"}},
    {A::kAddImage, {"yy yy.. y.. ..y", "yy .... ... ..."}},
    {A::kStoresInfoDetail, {"yy .... ... y..", "yy .... ... y.."}},
};

// The other default rules, decided by Check() against a target owned by project "own".
// Columns: private | public (the visibility attribute, as metadef namespaces carry it).
struct RuleRow {
  const char* rule;
  std::array<const char*, 2> cells;
};
const RuleRow kRuleRows[] = {
    {"default", {"yy yyyy yyy yyy", "yy yyyy yyy yyy"}},
    {"context_is_admin", {"yy .... ... ...", "yy .... ... ..."}},
    {"service_api", {"yy .... ... y..", "yy .... ... y.."}},
    {"set_image_location", {"yy yy.. ... ...", "yy yy.. ... ..."}},
    {"add_image_location", {"yy yy.. ... y..", "yy yy.. ... y.."}},
    {"fetch_image_location", {"yy .... ... y..", "yy .... ... y.."}},
    {"manage_image_cache", {"yy .... ... ...", "yy .... ... ..."}},
    {"list_cached_nodes", {"yy .... ... ...", "yy .... ... ..."}},
    {"get_task", {"yy yyyy yyy yyy", "yy yyyy yyy yyy"}},
    {"get_tasks", {"yy yyyy yyy yyy", "yy yyyy yyy yyy"}},
    {"add_task", {"yy yyyy yyy yyy", "yy yyyy yyy yyy"}},
    {"modify_task", {"yy yyyy yyy yyy", "yy yyyy yyy yyy"}},
    // metadef.py
    {"metadef_default", {"yy yyyy yyy yyy", "yy yyyy yyy yyy"}},
    {"metadef_admin", {"yy .... ... ...", "yy .... ... ..."}},
    {"get_metadef_namespace", {"yy yyy. ... ...", "yy yyy. yy. ..y"}},
    {"get_metadef_namespaces", {"yy yyy. ... ...", "yy yyy. ... ..."}},
    {"modify_metadef_namespace", {"yy .... ... ...", "yy .... ... ..."}},
    {"add_metadef_namespace", {"yy .... ... ...", "yy .... ... ..."}},
    {"delete_metadef_namespace", {"yy .... ... ...", "yy .... ... ..."}},
    {"get_metadef_object", {"yy yyy. ... ...", "yy yyy. yy. ..y"}},
    {"get_metadef_objects", {"yy yyy. ... ...", "yy yyy. yy. ..y"}},
    {"modify_metadef_object", {"yy .... ... ...", "yy .... ... ..."}},
    {"add_metadef_object", {"yy .... ... ...", "yy .... ... ..."}},
    {"delete_metadef_object", {"yy .... ... ...", "yy .... ... ..."}},
    {"list_metadef_resource_types", {"yy yyy. ... ...", "yy yyy. yy. ..y"}},
    {"get_metadef_resource_type", {"yy yyy. ... ...", "yy yyy. yy. ..y"}},
    {"add_metadef_resource_type_association", {"yy .... ... ...", "yy .... ... ..."}},
    {"remove_metadef_resource_type_association", {"yy .... ... ...", "yy .... ... ..."}},
    {"get_metadef_property", {"yy yyy. ... ...", "yy yyy. yy. ..y"}},
    {"get_metadef_properties", {"yy yyy. ... ...", "yy yyy. yy. ..y"}},
    {"modify_metadef_property", {"yy .... ... ...", "yy .... ... ..."}},
    {"add_metadef_property", {"yy .... ... ...", "yy .... ... ..."}},
    {"remove_metadef_property", {"yy .... ... ...", "yy .... ... ..."}},
    {"get_metadef_tag", {"yy yyy. ... ...", "yy yyy. yy. ..y"}},
    {"get_metadef_tags", {"yy yyy. ... ...", "yy yyy. yy. ..y"}},
    {"modify_metadef_tag", {"yy .... ... ...", "yy .... ... ..."}},
    {"add_metadef_tag", {"yy .... ... ...", "yy .... ... ..."}},
    {"add_metadef_tags", {"yy .... ... ...", "yy .... ... ..."}},
    {"delete_metadef_tag", {"yy .... ... ...", "yy .... ... ..."}},
    {"delete_metadef_tags", {"yy .... ... ...", "yy .... ... ..."}},
    // cache.py
    {"cache_image", {"yy .... ... ...", "yy .... ... ..."}},
    {"cache_list", {"yy .... ... ...", "yy .... ... ..."}},
    {"cache_delete", {"yy .... ... ...", "yy .... ... ..."}},
    {"cache_clean", {"yy .... ... ...", "yy .... ... ..."}},
    {"cache_prune", {"yy .... ... ...", "yy .... ... ..."}},
};

bool IsCollectionAction(A action) {
  for (const auto& row : kCollectionRows) {
    if (row.action == action) return true;
  }
  return false;
}

std::unique_ptr<RulePolicy> Defaults() {
  auto policy = RulePolicy::Create();
  EXPECT_TRUE(policy.ok()) << policy.status().ToString();
  return policy.ok() ? std::move(*policy) : nullptr;
}

TEST(RulePolicyDefaults, ImageActions) {
  auto policy = Defaults();
  ASSERT_NE(policy, nullptr);
  for (const ImageRow& row : kImageRows) {
    for (size_t s = 0; s < kScenarios; ++s) {
      const Scenario& sc = kImageScenarios[s];
      const std::vector<bool> want = Decisions(row.cells[s]);
      ASSERT_EQ(want.size(), Personas().size()) << domain::ToString(row.action);
      for (size_t p = 0; p < want.size(); ++p) {
        const RequestContext& ctx = Personas()[p];
        Image img;
        img.id = "11111111-2222-3333-4444-555555555555";
        img.owner = sc.owner;
        img.visibility = sc.visibility;
        ImageTarget t;
        t.image = &img;
        // A member row names a project: callers without one have none.
        const bool member_row = sc.caller_has_member_row && !ctx.project_id.empty();
        t.caller_is_member = member_row;
        t.member_id = member_row ? std::string_view(ctx.project_id) : "someone-else";
        EXPECT_EQ(policy->Allowed(row.action, ctx, t), want[p])
            << domain::ToString(row.action) << ", " << sc.name << ", " << Describe(p);
      }
    }
  }
}

TEST(RulePolicyDefaults, CollectionActions) {
  auto policy = Defaults();
  ASSERT_NE(policy, nullptr);
  for (const CollectionRow& row : kCollectionRows) {
    for (size_t s = 0; s < row.cells.size(); ++s) {
      const std::vector<bool> want = Decisions(row.cells[s]);
      ASSERT_EQ(want.size(), Personas().size()) << domain::ToString(row.action);
      for (size_t p = 0; p < want.size(); ++p) {
        const RequestContext& ctx = Personas()[p];
        ImageTarget t;
        t.owner = s == 0 ? std::string_view(ctx.project_id) : "elsewhere";
        EXPECT_EQ(policy->Allowed(row.action, ctx, t), want[p])
            << domain::ToString(row.action) << (s == 0 ? ", own project, " : ", other project, ")
            << Describe(p);
      }
    }
  }
}

TEST(RulePolicyDefaults, OtherRules) {
  auto policy = Defaults();
  ASSERT_NE(policy, nullptr);
  for (const RuleRow& row : kRuleRows) {
    ASSERT_TRUE(policy->HasRule(row.rule)) << row.rule;
    for (size_t s = 0; s < row.cells.size(); ++s) {
      const std::vector<bool> want = Decisions(row.cells[s]);
      ASSERT_EQ(want.size(), Personas().size()) << row.rule;
      const Attributes target = {{"project_id", "own"},
                                 {"owner", "own"},
                                 {"visibility", s == 0 ? "private" : "public"}};
      for (size_t p = 0; p < want.size(); ++p) {
        EXPECT_EQ(policy->Check(row.rule, Personas()[p], target), want[p])
            << row.rule << (s == 0 ? ", private, " : ", public, ") << Describe(p);
      }
    }
  }
}

// The tables above cover every image action once and every default rule.
TEST(RulePolicyDefaults, TablesCoverEveryActionAndRule) {
  std::set<std::string> covered;
  for (int a = 0; a <= static_cast<int>(A::kLastImageAction); ++a) {
    const auto action = static_cast<A>(a);
    int rows = IsCollectionAction(action) ? 1 : 0;
    for (const auto& row : kImageRows) rows += row.action == action ? 1 : 0;
    EXPECT_EQ(rows, 1) << domain::ToString(action);
    covered.insert(std::string(domain::ToString(action)));
  }
  for (const auto& row : kRuleRows) {
    EXPECT_TRUE(covered.insert(row.rule).second) << row.rule << " is in two tables";
  }
  for (const DefaultRule& rule : DefaultRules()) {
    EXPECT_TRUE(covered.count(rule.name)) << rule.name << " has no row";
  }
  EXPECT_EQ(covered.size(), DefaultRules().size());
}

}  // namespace
}  // namespace glimmer::policy
