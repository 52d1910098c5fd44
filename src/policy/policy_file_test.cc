#include "policy/policy_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

#include "policy/rule_policy.h"

namespace glimmer::policy {
namespace {

using ::testing::HasSubstr;
using domain::Image;
using domain::ImageAction;
using domain::ImageTarget;
using domain::RequestContext;
using domain::Visibility;

using Map = std::map<std::string, std::string>;

class TempFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/glimmer_policy_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const std::string& f : files_) unlink(f.c_str());
    rmdir(dir_.c_str());
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    files_.push_back(path);
    return path;
  }
  std::string dir_;
  std::vector<std::string> files_;
};

std::string ParseError(std::string_view text) {
  auto doc = ParsePolicyDocument(text);
  EXPECT_FALSE(doc.ok()) << text;
  if (doc.ok()) return "";
  EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument);
  return doc.status().message();
}

TEST(PolicyDocument, YamlAsOsloSamplesWriteIt) {
  auto doc = ParsePolicyDocument(
      "---\n"
      "# Glance policy overrides\n"
      "#\"get_images\": \"role:reader\"\n"
      "\"publicize_image\": \"role:member\"\n"
      "'download_image': '!'\n"
      "modify_image: rule:context_is_admin or role:member  # trailing comment\n"
      "\n"
      "long_one: role:a or\n"
      "  role:b\n"
      "quoted_long: \"role:c or\n"
      "   role:d\"\n"
      "folded: >-\n"
      "  role:e\n"
      "  or role:f\n"
      "default: \"\"\n"
      "it's: 'it''s \"x\"'\n"
      "escaped: \"a\\\"b\\u00e9\"\n");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(*doc, (Map{{"publicize_image", "role:member"},
                       {"download_image", "!"},
                       {"modify_image", "rule:context_is_admin or role:member"},
                       {"long_one", "role:a or role:b"},
                       {"quoted_long", "role:c or role:d"},
                       {"folded", "role:e or role:f"},
                       {"default", ""},
                       {"it's", "it's \"x\""},
                       {"escaped", "a\"b\xc3\xa9"}}));
}

TEST(PolicyDocument, EmptyDocumentsAreEmptyMappings) {
  EXPECT_TRUE(ParsePolicyDocument("")->empty());
  EXPECT_TRUE(ParsePolicyDocument("# all commented out\n#\"a\": \"@\"\n")->empty());
  EXPECT_TRUE(ParsePolicyDocument("{}")->empty());
}

TEST(PolicyDocument, Json) {
  auto doc = ParsePolicyDocument(
      "{\n  \"get_image\": \"role:reader\",\n  \"default\": \"\",\n  \"x\": \"a\\u00e9\"\n}\n");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(*doc, (Map{{"get_image", "role:reader"}, {"default", ""}, {"x", "a\xc3\xa9"}}));
  EXPECT_THAT(ParseError("{\"a\": 1}"), HasSubstr("'a'"));
  EXPECT_THAT(ParseError("{\"a\": {\"b\": \"c\"}}"), HasSubstr("must be a string"));
  EXPECT_THAT(ParseError("{\"a\": \"b\""), HasSubstr("invalid JSON"));
}

TEST(PolicyDocument, RejectsWhatIsNotAFlatStringMapping) {
  EXPECT_THAT(ParseError("a:\n  b: role:x\n"), HasSubstr("line 2"));
  EXPECT_THAT(ParseError("- role:x\n"), HasSubstr("line 1"));
  EXPECT_THAT(ParseError("a:\n  - role:x\n"), HasSubstr("sequences"));
  EXPECT_THAT(ParseError("a: [role:x]\n"), HasSubstr("quote"));
  EXPECT_THAT(ParseError("a: !\n"), HasSubstr("quote"));
  EXPECT_THAT(ParseError("a: @\n"), HasSubstr("quote"));
  EXPECT_THAT(ParseError("a: &anchor role:x\n"), HasSubstr("quote"));
  EXPECT_THAT(ParseError("a:\n"), HasSubstr("empty/null"));
  EXPECT_THAT(ParseError("a: ~\n"), HasSubstr("empty/null"));
  EXPECT_THAT(ParseError("a: true\n"), HasSubstr("boolean"));
  EXPECT_THAT(ParseError("a: 12\n"), HasSubstr("number"));
  EXPECT_THAT(ParseError("a: role:x\na: role:y\n"), HasSubstr("line 2: duplicate"));
  EXPECT_THAT(ParseError("a: \"unterminated\n"), HasSubstr("unterminated"));
  EXPECT_THAT(ParseError("  a: role:x\n"), HasSubstr("indentation"));
  EXPECT_THAT(ParseError("just a scalar\n"), HasSubstr("line 1"));
  EXPECT_THAT(ParseError("a: role:x\n---\nb: role:y\n"), HasSubstr("one YAML document"));
}

TEST_F(TempFiles, LoadPolicyFileErrorsNameTheFile) {
  auto missing = LoadPolicyFile(dir_ + "/absent.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  auto bad = LoadPolicyFile(Write("bad.yaml", "a:\n  b: c\n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("bad.yaml"));
  EXPECT_THAT(bad.status().message(), HasSubstr("line 2"));
}

RequestContext Ctx(std::string project, std::vector<std::string> roles) {
  RequestContext c;
  c.project_id = std::move(project);
  c.roles = std::move(roles);
  return c;
}

TEST_F(TempFiles, OperatorFileChangesDecisions) {
  Image img;
  img.owner = "own";
  img.visibility = Visibility::kPrivate;
  ImageTarget t;
  t.image = &img;
  RequestContext owner_member = Ctx("own", {"member", "reader"});
  RequestContext admin = Ctx("x", {"admin"});

  auto defaults = RulePolicy::FromFile("");
  ASSERT_TRUE(defaults.ok());
  EXPECT_FALSE((*defaults)->Allowed(ImageAction::kPublicizeImage, owner_member, t));
  EXPECT_TRUE((*defaults)->Allowed(ImageAction::kDownloadImage, owner_member, t));
  EXPECT_TRUE((*defaults)->Allowed(ImageAction::kDownloadImage, admin, t));

  std::string path = Write("policy.yaml",
                           "\"publicize_image\": \"role:member\"\n"
                           "\"download_image\": \"!\"\n"
                           "\"delete_image\": \"rule:only_deleters\"\n"
                           "\"only_deleters\": \"role:deleter and project_id:%(project_id)s\"\n");
  auto custom = RulePolicy::FromFile(path);
  ASSERT_TRUE(custom.ok()) << custom.status().ToString();
  EXPECT_TRUE((*custom)->Allowed(ImageAction::kPublicizeImage, owner_member, t));
  EXPECT_FALSE((*custom)->Allowed(ImageAction::kDownloadImage, owner_member, t));
  EXPECT_FALSE((*custom)->Allowed(ImageAction::kDownloadImage, admin, t));  // "!" = nobody
  EXPECT_FALSE((*custom)->Allowed(ImageAction::kDeleteImage, owner_member, t));
  EXPECT_TRUE((*custom)->Allowed(ImageAction::kDeleteImage, Ctx("own", {"deleter"}), t));
  EXPECT_FALSE((*custom)->Allowed(ImageAction::kDeleteImage, Ctx("other", {"deleter"}), t));
  // Rules not in the file keep Glance's defaults.
  EXPECT_TRUE((*custom)->Allowed(ImageAction::kModifyImage, owner_member, t));
  EXPECT_FALSE((*custom)->Allowed(ImageAction::kModifyImage, Ctx("other", {"member"}), t));
  // Invisible images stay invisible whatever the rule says (Glance's DB layer).
  Image foreign;
  foreign.owner = "someone";
  foreign.visibility = Visibility::kPrivate;
  ImageTarget ft;
  ft.image = &foreign;
  EXPECT_FALSE((*custom)->Allowed(ImageAction::kPublicizeImage, owner_member, ft));

  // The admin rule itself can be redefined, and everything using it follows.
  auto json = RulePolicy::FromFile(
      Write("policy.json", "{\"context_is_admin\": \"role:cloud_admin\"}"));
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_FALSE((*json)->Allowed(ImageAction::kPublicizeImage, admin, t));
  EXPECT_TRUE((*json)->Allowed(ImageAction::kPublicizeImage, Ctx("x", {"cloud_admin"}), t));
  EXPECT_TRUE((*json)->Allowed(ImageAction::kGetImage, Ctx("x", {"cloud_admin"}), ft));
}

TEST_F(TempFiles, BadOperatorRulesFailAtLoad) {
  auto parse = RulePolicy::FromFile(Write("p1.yaml", "get_image: \"role:a and or role:b\"\n"));
  ASSERT_FALSE(parse.ok());
  EXPECT_EQ(parse.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(parse.status().message(), HasSubstr("p1.yaml"));
  EXPECT_THAT(parse.status().message(), HasSubstr("'get_image'"));
  auto cycle = RulePolicy::FromFile(Write("p2.yaml", "context_is_admin: rule:get_image\n"));
  ASSERT_FALSE(cycle.ok());
  EXPECT_THAT(cycle.status().message(), HasSubstr("cycle"));
  auto undefined = RulePolicy::FromFile(Write("p3.yaml", "get_image: rule:typo_rule\n"));
  ASSERT_TRUE(undefined.ok());
  ASSERT_EQ((*undefined)->warnings().size(), 1u);
  EXPECT_THAT((*undefined)->warnings()[0], HasSubstr("typo_rule"));
}

}  // namespace
}  // namespace glimmer::policy
