#include "policy/rule_policy.h"

#include <utility>

#include "policy/policy_file.h"

namespace glimmer::policy {
namespace {

using domain::ImageAction;
using domain::Visibility;

// Glance's rule strings (glance/policies/base.py), composed the same way.
constexpr std::string_view kAdmin = "rule:context_is_admin";
constexpr std::string_view kProjectMember = "role:member and project_id:%(project_id)s";
constexpr std::string_view kProjectReader = "role:reader and project_id:%(project_id)s";
constexpr std::string_view kImageMemberCheck = "project_id:%(member_id)s";
constexpr std::string_view kVisibleChecks =
    "'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s";

std::string S(std::string_view a) { return std::string(a); }

std::map<std::string, std::string> BuildDefaults() {
  const std::string admin = S(kAdmin);
  const std::string admin_or_member = admin + " or (" + S(kProjectMember) + ")";
  const std::string admin_or_reader = admin + " or (" + S(kProjectReader) + ")";
  const std::string get_image = admin + " or (role:reader and (project_id:%(project_id)s or " +
                                S(kImageMemberCheck) + " or " + S(kVisibleChecks) + "))";
  const std::string download = admin + " or (role:member and (project_id:%(project_id)s or " +
                               S(kImageMemberCheck) + " or " + S(kVisibleChecks) + "))";
  const std::string create =
      admin + " or (" + S(kProjectMember) + " and project_id:%(owner)s)";
  const std::string shared_member = admin + " or (role:member and " + S(kImageMemberCheck) + ")";
  const std::string reader_or_shared_member =
      admin + " or role:reader and (project_id:%(project_id)s or " + S(kImageMemberCheck) + ")";
  const std::string get_namespace =
      admin + " or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))";
  const std::string service = "rule:service_api";
  const std::string service_or_member =
      service + " or (" + S(kProjectMember) + " and project_id:%(owner)s)";
  return {
      // base.py
      {"default", ""},
      {"context_is_admin", "role:admin"},
      {"service_api", "role:service or role:admin"},
      // image.py
      {"add_image", create},
      {"delete_image", admin_or_member},
      {"get_image", get_image},
      {"get_images", admin_or_reader},
      {"modify_image", admin_or_member},
      {"publicize_image", admin},
      {"communitize_image", admin_or_member},
      {"download_image", download},
      {"download_from_store", download},
      {"upload_image", admin_or_member},
      {"delete_image_location", admin},
      {"get_image_location", admin_or_reader},
      {"set_image_location", admin_or_member},
      {"add_image_location", service_or_member},
      {"fetch_image_location", service},
      {"add_member", admin_or_member},
      {"delete_member", admin_or_member},
      {"get_member", reader_or_shared_member},
      {"get_members", reader_or_shared_member},
      {"modify_member", shared_member},
      {"manage_image_cache", admin},
      {"deactivate", admin_or_member},
      {"reactivate", admin_or_member},
      {"copy_image", admin},
      {"list_cached_nodes", admin},
      // tasks.py, discovery.py, cache.py
      {"get_task", "rule:default"},
      {"get_tasks", "rule:default"},
      {"add_task", "rule:default"},
      {"modify_task", "rule:default"},
      {"tasks_api_access", admin},
      {"stores_info_detail", admin + " or " + service},
      {"cache_image", admin},
      {"cache_list", admin},
      {"cache_delete", admin},
      {"cache_clean", admin},
      {"cache_prune", admin},
      // metadef.py (Glance 25): reads as the namespace (its owner's readers, or anyone's reader
      // when it is public), writes admin-only.
      {"metadef_default", ""},
      {"metadef_admin", "role:admin"},
      {"get_metadef_namespace", get_namespace},
      {"get_metadef_namespaces", admin_or_reader},
      {"modify_metadef_namespace", "rule:metadef_admin"},
      {"add_metadef_namespace", "rule:metadef_admin"},
      {"delete_metadef_namespace", "rule:metadef_admin"},
      {"get_metadef_object", get_namespace},
      {"get_metadef_objects", get_namespace},
      {"modify_metadef_object", "rule:metadef_admin"},
      {"add_metadef_object", "rule:metadef_admin"},
      {"delete_metadef_object", "rule:metadef_admin"},
      {"list_metadef_resource_types", get_namespace},
      {"get_metadef_resource_type", get_namespace},
      {"add_metadef_resource_type_association", "rule:metadef_admin"},
      {"remove_metadef_resource_type_association", "rule:metadef_admin"},
      {"get_metadef_property", get_namespace},
      {"get_metadef_properties", get_namespace},
      {"modify_metadef_property", "rule:metadef_admin"},
      {"add_metadef_property", "rule:metadef_admin"},
      {"remove_metadef_property", "rule:metadef_admin"},
      {"get_metadef_tag", get_namespace},
      {"get_metadef_tags", get_namespace},
      {"modify_metadef_tag", "rule:metadef_admin"},
      {"add_metadef_tag", "rule:metadef_admin"},
      {"add_metadef_tags", "rule:metadef_admin"},
      {"delete_metadef_tag", "rule:metadef_admin"},
      {"delete_metadef_tags", "rule:metadef_admin"},
  };
}

const char* Bool(bool b) { return b ? "True" : "False"; }

}  // namespace

const std::map<std::string, std::string>& RulePolicy::DefaultRules() {
  static const auto* rules = new std::map<std::string, std::string>(BuildDefaults());
  return *rules;
}

StatusOr<std::unique_ptr<RulePolicy>> RulePolicy::Create(
    const std::map<std::string, std::string>& overrides) {
  std::map<std::string, std::string> rules = DefaultRules();
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
