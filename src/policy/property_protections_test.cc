#include "policy/property_protections.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace glimmer::policy {
namespace {

using ::testing::HasSubstr;
using domain::RequestContext;
using Op = PropertyProtections::Operation;

RequestContext Ctx(std::vector<std::string> roles) {
  RequestContext c;
  c.project_id = "p";
  c.roles = std::move(roles);
  return c;
}

// Modelled on Glance's etc/property-protections-roles.conf.sample.
constexpr const char* kRolesFile = R"(# property protections
[^x_billing_.*]
create = admin,Billing
read = admin, billing, member
update = admin
delete = admin

[x_all_permitted]
create = @
read = @
update = @
delete = @

[x_none]
create = !
read = !
update = !
delete = !

[x_.*]
create = admin
read = admin
update = admin
delete =

[.*]
create = member
read = reader
update = member
delete = member
)";

std::unique_ptr<PropertyProtections> Load(std::string_view text, PropertyRuleFormat format,
                                          const RulePolicy* policy = nullptr) {
  auto pp = PropertyProtections::Parse(text, format, policy);
  EXPECT_TRUE(pp.ok()) << pp.status().ToString();
  return pp.ok() ? std::move(*pp) : nullptr;
}

TEST(PropertyProtections, RolesFirstMatchingSectionWins) {
  auto pp = Load(kRolesFile, PropertyRuleFormat::kRoles);
  ASSERT_NE(pp, nullptr);
  auto billing = Ctx({"billing"});
  auto member = Ctx({"member", "reader"});
  auto admin = Ctx({"admin"});
  // x_billing_code matches [^x_billing_.*] before [x_.*] and [.*].
  EXPECT_TRUE(pp->Allowed(Op::kCreate, "x_billing_code", billing));  // role list is lowercased
  EXPECT_TRUE(pp->Allowed(Op::kRead, "x_billing_code", member));
  EXPECT_FALSE(pp->Allowed(Op::kUpdate, "x_billing_code", billing));
  EXPECT_TRUE(pp->Allowed(Op::kUpdate, "x_billing_code", admin));
  // @ and !.
  EXPECT_TRUE(pp->Allowed(Op::kDelete, "x_all_permitted", Ctx({})));
  EXPECT_FALSE(pp->Allowed(Op::kRead, "x_none", admin));
  // Regexes are searched, not anchored: "x_none_extra" still matches [x_none] (first).
  EXPECT_FALSE(pp->Allowed(Op::kCreate, "x_none_extra", admin));
  // [x_.*] (not [.*]) decides x_other: member may not create although [.*] would allow it.
  EXPECT_FALSE(pp->Allowed(Op::kCreate, "x_other", member));
  EXPECT_TRUE(pp->Allowed(Op::kCreate, "x_other", admin));
  // Empty permission list = nobody.
  EXPECT_FALSE(pp->Allowed(Op::kDelete, "x_other", admin));
  // Everything else falls to [.*].
  EXPECT_TRUE(pp->Allowed(Op::kCreate, "os_distro", member));
  EXPECT_TRUE(pp->Allowed(Op::kRead, "os_distro", Ctx({"reader"})));
  EXPECT_FALSE(pp->Allowed(Op::kUpdate, "os_distro", Ctx({"reader"})));
  // os_glance* is always allowed here (reserved properties are guarded elsewhere).
  EXPECT_TRUE(pp->Allowed(Op::kCreate, "os_glance_import_task", Ctx({})));
}

TEST(PropertyProtections, UnmatchedPropertiesAreDenied) {
  auto pp = Load("[^foo$]\ncreate = @\nread = @\nupdate = @\ndelete = @\n",
                 PropertyRuleFormat::kRoles);
  ASSERT_NE(pp, nullptr);
  EXPECT_TRUE(pp->Allowed(Op::kRead, "foo", Ctx({})));
  for (Op op : {Op::kCreate, Op::kRead, Op::kUpdate, Op::kDelete}) {
    EXPECT_FALSE(pp->Allowed(op, "bar", Ctx({"admin"})));
  }
  // Even an empty file protects everything (except os_glance*).
  auto empty = Load("# nothing\n", PropertyRuleFormat::kRoles);
  ASSERT_NE(empty, nullptr);
  EXPECT_FALSE(empty->Allowed(Op::kRead, "anything", Ctx({"admin"})));
}

TEST(PropertyProtections, DefaultSectionAndContinuations) {
  auto pp = Load("[DEFAULT]\nread = @\ndelete = !\n\n[^a]\ncreate = admin,\n  member\n"
                 "update = admin\n",
                 PropertyRuleFormat::kRoles);
  ASSERT_NE(pp, nullptr);
  EXPECT_TRUE(pp->Allowed(Op::kRead, "abc", Ctx({})));
  EXPECT_FALSE(pp->Allowed(Op::kDelete, "abc", Ctx({"admin"})));
  EXPECT_TRUE(pp->Allowed(Op::kCreate, "abc", Ctx({"member"})));
}

TEST(PropertyProtections, PoliciesFormat) {
  auto policy = RulePolicy::Create({{"glance_creator", "role:admin or role:glance_create_user"},
                                    {"glance_reader", "role:reader"}});
  ASSERT_TRUE(policy.ok());
  auto pp = Load(
      "[^x_.*]\ncreate = glance_creator\nread = glance_reader\nupdate = !\ndelete = undefined_one\n"
      "[.*]\ncreate = @\nread = @\nupdate = @\ndelete = context_is_admin\n",
      PropertyRuleFormat::kPolicies, policy->get());
  ASSERT_NE(pp, nullptr);
  EXPECT_TRUE(pp->Allowed(Op::kCreate, "x_a", Ctx({"glance_create_user"})));
  EXPECT_FALSE(pp->Allowed(Op::kCreate, "x_a", Ctx({"member"})));
  EXPECT_TRUE(pp->Allowed(Op::kRead, "x_a", Ctx({"reader"})));
  EXPECT_FALSE(pp->Allowed(Op::kUpdate, "x_a", Ctx({"admin"})));
  EXPECT_FALSE(pp->Allowed(Op::kDelete, "x_a", Ctx({"admin"})));  // undefined policy denies
  EXPECT_TRUE(pp->Allowed(Op::kDelete, "y", Ctx({"admin"})));
  EXPECT_FALSE(pp->Allowed(Op::kDelete, "y", Ctx({"member"})));
  ASSERT_EQ(pp->warnings().size(), 1u);
  EXPECT_THAT(pp->warnings()[0], HasSubstr("undefined_one"));
}

TEST(PropertyProtections, LoadErrors) {
  auto error = [](std::string_view text, PropertyRuleFormat format = PropertyRuleFormat::kRoles,
                  const RulePolicy* policy = nullptr) -> std::string {
    auto pp = PropertyProtections::Parse(text, format, policy);
    EXPECT_FALSE(pp.ok()) << text;
    if (pp.ok()) return "";
    EXPECT_EQ(pp.status().code(), StatusCode::kInvalidArgument);
    return pp.status().message();
  };
  EXPECT_THAT(error("[a(]\ncreate=@\nread=@\nupdate=@\ndelete=@\n"),
              HasSubstr("invalid regular expression"));
  EXPECT_THAT(error("[a]\ncreate=@\nread=@\nupdate=@\n"), HasSubstr("missing option 'delete'"));
  EXPECT_THAT(error("[a]\ncreate=@,!\nread=@\nupdate=@\ndelete=@\n"),
              HasSubstr("mutually exclusive"));
  EXPECT_THAT(error("create=@\n"), HasSubstr("line 1"));
  EXPECT_THAT(error("[a]\ncreate=@\n[a]\n"), HasSubstr("line 3: duplicate section"));
  EXPECT_THAT(error("[a]\ncreate=@\ncreate=!\n"), HasSubstr("duplicate option"));
  EXPECT_THAT(error("[a]\njust words\n"), HasSubstr("line 2"));
  EXPECT_THAT(error("[a]\ncreate=@\nread=@\nupdate=@\ndelete=@\n", PropertyRuleFormat::kPolicies),
              HasSubstr("policy engine"));
  auto policy = RulePolicy::Create();
  ASSERT_TRUE(policy.ok());
  EXPECT_THAT(error("[a]\ncreate=x,y\nread=@\nupdate=@\ndelete=@\n", PropertyRuleFormat::kPolicies,
                    policy->get()),
              HasSubstr("only one policy"));
  auto missing = LoadPropertyProtections("/nonexistent/pp.conf", PropertyRuleFormat::kRoles,
                                         nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST(PropertyProtections, RuleFormatNames) {
  EXPECT_EQ(*ParsePropertyRuleFormat("roles"), PropertyRuleFormat::kRoles);
  EXPECT_EQ(*ParsePropertyRuleFormat("Policies"), PropertyRuleFormat::kPolicies);
  EXPECT_FALSE(ParsePropertyRuleFormat("acl").ok());
}

}  // namespace
}  // namespace glimmer::policy
