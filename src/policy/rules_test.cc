#include "policy/rules.h"

#include <gtest/gtest.h>

namespace glimmer::policy {
namespace {

Credentials Creds(std::vector<std::string> roles, std::string project = "p1") {
  Credentials c;
  c.roles = std::move(roles);
  c.values["project_id"] = std::move(project);
  c.values["user_id"] = "u1";
  c.values["is_admin"] = "False";
  return c;
}

// Evaluates a single ad-hoc rule (plus `others`) for the given credentials and target.
bool Eval(const std::string& text, const Credentials& creds, const Attributes& target = {},
          std::map<std::string, std::string> others = {}) {
  others["under_test"] = text;
  auto set = RuleSet::Create(others);
  EXPECT_TRUE(set.ok()) << set.status().ToString();
  return set.ok() && set->Evaluate("under_test", creds, target);
}

TEST(Rules, AlwaysNeverAndEmpty) {
  EXPECT_TRUE(Eval("@", Creds({})));
  EXPECT_FALSE(Eval("!", Creds({"admin"})));
  EXPECT_TRUE(Eval("", Creds({})));
  EXPECT_TRUE(Eval("   ", Creds({})));
}

TEST(Rules, RoleIsCaseInsensitive) {
  EXPECT_TRUE(Eval("role:Admin", Creds({"admin"})));
  EXPECT_TRUE(Eval("role:admin", Creds({"ADMIN"})));
  EXPECT_FALSE(Eval("role:admin", Creds({"member"})));
}

TEST(Rules, PrecedenceNotOverAndOverOr) {
  // "@ or ! and !" is "@ or (! and !)" = true; if 'or' bound tighter it would be false.
  EXPECT_TRUE(Eval("@ or ! and !", Creds({})));
  // "! and ! or @" is "(! and !) or @" = true.
  EXPECT_TRUE(Eval("! and ! or @", Creds({})));
  // "not @ and @" is "(not @) and @" = false; "not (@ and !)" = true.
  EXPECT_FALSE(Eval("not @ and @", Creds({})));
  EXPECT_TRUE(Eval("not (@ and !)", Creds({})));
  EXPECT_TRUE(Eval("not not @", Creds({})));
  // Parentheses override: "(@ or !) and !" = false.
  EXPECT_FALSE(Eval("(@ or !) and !", Creds({})));
  EXPECT_TRUE(Eval("((role:a))", Creds({"a"})));
  // Keywords are case-insensitive.
  EXPECT_TRUE(Eval("role:x OR role:a AND NOT role:b", Creds({"a"})));
}

TEST(Rules, GenericChecks) {
  Attributes target = {{"project_id", "p1"}, {"visibility", "public"}, {"owner", "p2"}};
  EXPECT_TRUE(Eval("project_id:%(project_id)s", Creds({}), target));
  EXPECT_FALSE(Eval("project_id:%(owner)s", Creds({}), target));
  // A missing target attribute or credential makes the check false.
  EXPECT_FALSE(Eval("project_id:%(member_id)s", Creds({}), target));
  EXPECT_FALSE(Eval("domain_id:%(project_id)s", Creds({}), target));
  // Quoted literal kind compared with the target attribute.
  EXPECT_TRUE(Eval("'public':%(visibility)s", Creds({}), target));
  EXPECT_TRUE(Eval("\"public\":%(visibility)s", Creds({}), target));
  EXPECT_FALSE(Eval("'shared':%(visibility)s", Creds({}), target));
  // Plain literal compared with the credential.
  EXPECT_FALSE(Eval("is_admin:True", Creds({}), target));
  Credentials admin = Creds({});
  admin.values["is_admin"] = "True";
  EXPECT_TRUE(Eval("is_admin:True", admin, target));
  EXPECT_TRUE(Eval("user_id:u1", Creds({})));
  // Literal kinds True/numbers compare with the substituted match.
  EXPECT_TRUE(Eval("True:%(flag)s", Creds({}), {{"flag", "True"}}));
  EXPECT_TRUE(Eval("42:%(n)s", Creds({}), {{"n", "42"}}));
  // Substitution inside a longer match and in role checks.
  EXPECT_TRUE(Eval("user_id:u%(n)s", Creds({}), {{"n", "1"}}));
  EXPECT_TRUE(Eval("role:%(r)s", Creds({"x"}), {{"r", "X"}}));
}

TEST(Rules, RuleReferences) {
  std::map<std::string, std::string> others = {{"is_admin_rule", "role:admin"},
                                               {"chain", "rule:is_admin_rule or role:z"}};
  EXPECT_TRUE(Eval("rule:chain", Creds({"admin"}), {}, others));
  EXPECT_TRUE(Eval("rule:chain", Creds({"z"}), {}, others));
  EXPECT_FALSE(Eval("rule:chain", Creds({"member"}), {}, others));
}

TEST(Rules, UndefinedRuleIsFalseWithWarning) {
  auto set = RuleSet::Create({{"a", "rule:nope or role:x"}});
  ASSERT_TRUE(set.ok());
  EXPECT_FALSE(set->Evaluate("a", Creds({"admin"}), {}));
  EXPECT_TRUE(set->Evaluate("a", Creds({"x"}), {}));
  ASSERT_EQ(set->warnings().size(), 1u);
  EXPECT_NE(set->warnings()[0].find("'nope'"), std::string::npos);
  EXPECT_FALSE(set->Evaluate("not_defined_at_all", Creds({"admin"}), {}));
}

TEST(Rules, CyclesAreRejected) {
  auto self = RuleSet::Create({{"a", "rule:a"}});
  ASSERT_FALSE(self.ok());
  EXPECT_EQ(self.status().code(), StatusCode::kInvalidArgument);
  auto loop = RuleSet::Create({{"a", "role:x or rule:b"}, {"b", "rule:c"}, {"c", "not rule:a"}});
  ASSERT_FALSE(loop.ok());
  EXPECT_NE(loop.status().message().find("cycle"), std::string::npos);
  EXPECT_NE(loop.status().message().find("'b'"), std::string::npos);
  // A diamond is not a cycle.
  EXPECT_TRUE(RuleSet::Create({{"a", "rule:b and rule:c"}, {"b", "rule:d"}, {"c", "rule:d"},
                               {"d", "@"}})
                  .ok());
}

TEST(Rules, ParseErrorsNameRuleAndPosition) {
  struct Case {
    const char* text;
    const char* position;
  };
  for (const Case& c : std::vector<Case>{
           {"role:a and", "position 11"},       // dangling operator
           {"role:a or or role:b", "position 11"},
           {"(role:a", "position 8"},            // missing ')'
           {"role:a)", "position 7"},            // stray ')'
           {"admin", "position 1"},              // not a check
           {"role:a role:b", "position 8"},      // missing operator
           {"not", "position 4"},
           {"role:", "position 1"},              // empty value
           {"project_id:%(x", "position 1"},     // malformed reference
       }) {
    auto expr = Expression::Parse("my_rule", c.text);
    ASSERT_FALSE(expr.ok()) << c.text;
    EXPECT_EQ(expr.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(expr.status().message().find("'my_rule'"), std::string::npos) << c.text;
    EXPECT_NE(expr.status().message().find(c.position), std::string::npos)
        << c.text << " -> " << expr.status().message();
  }
}

TEST(Rules, NestingIsBounded) {
  std::string deep(100, '(');
  deep += "@";
  deep += std::string(100, ')');
  EXPECT_FALSE(Expression::Parse("deep", deep).ok());
  std::string ok(30, '(');
  ok += "@";
  ok += std::string(30, ')');
  EXPECT_TRUE(Expression::Parse("ok", ok).ok());
}

}  // namespace
}  // namespace glimmer::policy
