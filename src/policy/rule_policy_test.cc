#include "policy/rule_policy.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace glimmer::policy {
namespace {

using domain::Image;
using domain::ImageAction;
using domain::ImageTarget;
using domain::RequestContext;
using domain::Visibility;

RequestContext Ctx(std::string project, std::vector<std::string> roles) {
  RequestContext c;
  c.project_id = std::move(project);
  c.user_id = "u-" + c.project_id;
  c.roles = std::move(roles);
  c.authenticated = true;
  return c;
}

std::vector<ImageAction> AllActions() {
  std::vector<ImageAction> out;
  for (int a = static_cast<int>(ImageAction::kGetImages);
       a <= static_cast<int>(ImageAction::kLastImageAction); ++a) {
    out.push_back(static_cast<ImageAction>(a));
  }
  return out;
}

struct Persona {
  const char* name;
  RequestContext ctx;
};

std::vector<Persona> Personas() {
  return {
      {"admin", Ctx("adminproj", {"admin", "member", "reader"})},
      {"admin-of-owner", Ctx("own", {"admin"})},
      {"owner member", Ctx("own", {"member", "reader"})},
      {"owner member (member role only)", Ctx("own", {"member"})},
      {"owner reader", Ctx("own", {"reader"})},
      {"owner no roles", Ctx("own", {})},
      {"other member", Ctx("other", {"member", "reader"})},
      {"other reader", Ctx("other", {"reader"})},
      {"other no roles", Ctx("other", {})},
      {"service", Ctx("svc", {"service"})},
      {"anonymous", Ctx("", {})},
      {"project-less member", Ctx("", {"member", "reader"})},
  };
}

// With no policy file, RulePolicy must decide exactly as DefaultPolicy for every action, persona,
// owner (a project, another project, none), visibility, and membership the image service can
// produce (it only looks up a member row for a shared image it does not own; Glance's database
// layer likewise only records the caller as member of a shared image).
TEST(RulePolicy, DefaultsEqualDefaultPolicy) {
  auto rule_policy = RulePolicy::Create();
  ASSERT_TRUE(rule_policy.ok()) << rule_policy.status().ToString();
  domain::DefaultPolicy default_policy;
  int compared = 0;
  std::vector<std::optional<std::string>> owners = {"own", "elsewhere", std::nullopt};
  for (ImageAction action : AllActions()) {
    for (const Persona& p : Personas()) {
      for (const auto& owner : owners) {
        for (Visibility vis : {Visibility::kPublic, Visibility::kPrivate, Visibility::kShared,
                               Visibility::kCommunity}) {
          for (bool member : {false, true}) {
            if (member && vis != Visibility::kShared) continue;
            for (const char* member_id : {"", "other", "own"}) {
              Image img;
              img.id = "11111111-2222-3333-4444-555555555555";
              img.owner = owner;
              img.visibility = vis;
              ImageTarget t;
              t.image = &img;
              t.caller_is_member = member;
              t.member_id = member_id;
              // Collection actions carry no image but the owner of the image to create.
              if (action == ImageAction::kGetImages || action == ImageAction::kAddImage ||
                  action == ImageAction::kStoresInfoDetail) {
                t.image = nullptr;
                t.owner = owner ? std::string_view(*owner) : std::string_view();
              }
              bool want = default_policy.Allowed(action, p.ctx, t);
              bool got = (*rule_policy)->Allowed(action, p.ctx, t);
              EXPECT_EQ(got, want) << domain::ToString(action) << " persona=" << p.name
                                   << " owner=" << owner.value_or("<none>")
                                   << " visibility=" << domain::ToString(vis)
                                   << " caller_is_member=" << member
                                   << " member_id=" << member_id;
              ++compared;
            }
          }
        }
      }
    }
  }
  EXPECT_GT(compared, 1000);
}

}  // namespace
}  // namespace glimmer::policy
