#include "policy/default_rules.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <string_view>

#include "policy/rules.h"

namespace glimmer::policy {
namespace {

// Each name once, and every rule parses with no reference to an undefined rule. (What the rules
// decide is stated in rule_policy_test.cc.)
TEST(DefaultRules, UniqueNamesAndValidRules) {
  std::map<std::string, std::string> rules;
  for (const DefaultRule& rule : DefaultRules()) {
    EXPECT_TRUE(rules.emplace(rule.name, rule.check_str).second) << rule.name << " twice";
  }
  auto set = RuleSet::Create(rules);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_TRUE(set->warnings().empty()) << set->warnings().front();
}

std::string_view CheckStr(std::string_view name) {
  for (const DefaultRule& rule : DefaultRules()) {
    if (rule.name == name) return rule.check_str;
  }
  return "<undefined>";
}

// A few texts pinned, as an operator reading `oslopolicy-sample-generator` output would see them.
TEST(DefaultRules, GlanceTexts) {
  EXPECT_EQ(CheckStr("context_is_admin"), "role:admin");
  EXPECT_EQ(CheckStr("publicize_image"), "rule:context_is_admin");
  EXPECT_EQ(CheckStr("modify_image"),
            "rule:context_is_admin or (role:member and project_id:%(project_id)s)");
  EXPECT_EQ(CheckStr("modify_member"),
            "rule:context_is_admin or (role:member and project_id:%(member_id)s)");
  // metadef.py at Glance 25.x, unchanged.
  EXPECT_EQ(CheckStr("metadef_admin"), "role:admin");
  EXPECT_EQ(CheckStr("add_metadef_namespace"), "rule:metadef_admin");
  EXPECT_EQ(CheckStr("get_metadef_namespaces"),
            "role:admin or (role:reader and project_id:%(project_id)s)");
  EXPECT_EQ(CheckStr("get_metadef_namespace"),
            "role:admin or (role:reader and (project_id:%(project_id)s or "
            "'public':%(visibility)s))");
}

}  // namespace
}  // namespace glimmer::policy
