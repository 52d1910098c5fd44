#include "policy/rule_policy.h"

#include <utility>

#include "policy/default_rules.h"
#include "policy/policy_file.h"

namespace glimmer::policy {
namespace {

using domain::ImageAction;
using domain::Visibility;

const char* Bool(bool b) { return b ? "True" : "False"; }

}  // namespace

StatusOr<std::unique_ptr<RulePolicy>> RulePolicy::Create(
    const std::map<std::string, std::string>& overrides) {
  std::map<std::string, std::string> rules;
  for (const DefaultRule& rule : DefaultRules()) rules[rule.name] = rule.check_str;
  for (const auto& [name, text] : overrides) rules[name] = text;
  ASSIGN_OR_RETURN(RuleSet set, RuleSet::Create(rules));
  std::unique_ptr<RulePolicy> policy(new RulePolicy(std::move(set)));
  policy->warnings_ = policy->rules_.warnings();
  return policy;
}

StatusOr<std::unique_ptr<RulePolicy>> RulePolicy::FromFile(const std::string& policy_file) {
  if (policy_file.empty()) return Create();
  ASSIGN_OR_RETURN(auto overrides, LoadPolicyFile(policy_file));
  auto policy = Create(overrides);
  if (!policy.ok()) {
    return InvalidArgumentError("policy file '" + policy_file + "': " +
                                policy.status().message());
  }
  return policy;
}

bool RulePolicy::IsAdmin(const Credentials& creds) const {
  return rules_.Evaluate("context_is_admin", creds, Attributes{});
}

Credentials RulePolicy::CredentialsFor(const domain::RequestContext& ctx) const {
  Credentials creds;
  creds.roles = ctx.roles;
  // Keystone's default implied roles (admin => member => reader), as RequestContext::IsMember()
  // and IsReader() assume; contexts from the identity service already carry them.
  auto add = [&](const char* role) {
    if (!ctx.HasRole(role)) creds.roles.emplace_back(role);
  };
  if (ctx.HasRole("admin")) add("member");
  if (ctx.HasRole("admin") || ctx.HasRole("member")) add("reader");
  creds.values["project_id"] = ctx.project_id;
  creds.values["tenant"] = ctx.project_id;
  creds.values["user_id"] = ctx.user_id;
  creds.values["user_name"] = ctx.user_name;
  creds.values["project_name"] = ctx.project_name;
  // context_is_admin is evaluated without is_admin (a rule on is_admin there is simply false).
  creds.values["is_admin"] = Bool(IsAdmin(creds));
  return creds;
}

Attributes RulePolicy::TargetFor(ImageAction action, const domain::RequestContext& ctx,
                                 const domain::ImageTarget& t) {
  Attributes target;
  const domain::Image* img = t.image;
  if (!img) {
    std::string project =
        action == ImageAction::kAddImage ? std::string(t.owner) : ctx.project_id;
    target["project_id"] = project;
    target["owner"] = project;
    return target;
  }
  for (const auto& [key, value] : img->properties) target[key] = value;
  target["id"] = img->id;
  target["image_id"] = img->id;
  if (img->name) target["name"] = *img->name;
  target["status"] = std::string(domain::ToString(img->status));
  target["visibility"] = std::string(domain::ToString(img->visibility));
  target["protected"] = Bool(img->is_protected);
  target["os_hidden"] = Bool(img->os_hidden);
  if (img->disk_format) target["disk_format"] = *img->disk_format;
  if (img->container_format) target["container_format"] = *img->container_format;
  target.erase("owner");
  target.erase("project_id");
  target.erase("member_id");
  target.erase("member");
  if (img->owner && !img->owner->empty()) {
    target["owner"] = *img->owner;
    target["project_id"] = *img->owner;
  }
  std::optional<std::string> member;
  if (action == ImageAction::kModifyMember) {
    member = std::string(t.member_id);
  } else if (!img->owner || (t.caller_is_member && img->visibility == Visibility::kShared)) {
    member = ctx.project_id;
  }
  if (member) {
    target["member_id"] = *member;
    target["member"] = *member;
  }
  return target;
}

bool RulePolicy::Allowed(ImageAction action, const domain::RequestContext& ctx,
                         const domain::ImageTarget& t) const {
  Credentials creds = CredentialsFor(ctx);
  const domain::Image* img = t.image;
  if (img && action != ImageAction::kModifyMember) {
    // Glance's database-level visibility, which precedes every policy check on an image.
    bool visible = creds.values["is_admin"] == "True" || !img->owner ||
                   img->visibility == Visibility::kPublic ||
                   img->visibility == Visibility::kCommunity ||
                   (!ctx.project_id.empty() && *img->owner == ctx.project_id) ||
                   (img->visibility == Visibility::kShared && t.caller_is_member);
    if (!visible) return false;
  }
  return rules_.Evaluate(domain::ToString(action), creds, TargetFor(action, ctx, t));
}

bool RulePolicy::Allowed(domain::MetadefAction action, const domain::RequestContext& ctx,
                         const domain::MetadefTarget& t) const {
  Attributes target;
  target["project_id"] = t.ns ? t.ns->owner : ctx.project_id;
  if (t.ns && t.ns->visibility) target["visibility"] = *t.ns->visibility;
  return rules_.Evaluate(domain::ToString(action), CredentialsFor(ctx), target);
}

bool RulePolicy::Check(std::string_view rule_name, const domain::RequestContext& ctx,
                       const Attributes& target) const {
  return rules_.Evaluate(rule_name, CredentialsFor(ctx), target);
}

}  // namespace glimmer::policy
