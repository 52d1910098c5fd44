#pragma once
// domain::Policy backed by oslo.policy-style rules: Glance's default rules (default_rules.h,
// under the names Glance uses), optionally overridden or extended by an operator policy file
// ([oslo_policy] policy_file, see policy_file.h for the accepted formats).
//
// How a decision is made for Allowed(action, ctx, target):
//  1. For actions on an existing image (except modify_member, which is decided by the member row
//     alone), the image must be visible to the caller as Glance's
//     database layer decides before any policy runs (is_image_visible): caller is admin (the
//     context_is_admin rule), or the image has no owner, is public or community, is owned by the
//     caller's project, or is shared with a member row for the caller's project. This step is
//     not configurable in Glance either.
//  2. The rule named ToString(action) is evaluated with:
//     credentials: roles (plus Keystone's default implications admin => member => reader);
//                  project_id (= tenant); user_id; user_name; project_name;
//                  is_admin ("True"/"False", from the context_is_admin rule)
//     target, image actions: id (= image_id), name, status, visibility, protected, os_hidden,
//                  disk_format, container_format, every custom property, owner (= project_id,
//                  absent when the image has no owner), member_id (= member): the member row being
//                  changed for modify_member; otherwise the caller's project when it has a member
//                  row on a shared image or the image has no owner (Glance's DB shows ownerless
//                  images to everyone); absent otherwise.
//     target, collection actions: project_id (= owner) = ImageTarget::owner for add_image, the
//                  caller's project for get_images.
// With no operator file this gives Glance's published decisions; rule_policy_test.cc states them
// as a persona x action table.
//
// Thread-safety: immutable after construction; all methods may be called concurrently.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "domain/policy.h"
#include "policy/rules.h"

namespace glimmer::policy {

class RulePolicy final : public domain::Policy, public domain::MetadefPolicy {
 public:
  // The defaults (default_rules.h) with `overrides` applied (same name replaces, new names are
  // added).
  // Errors: InvalidArgument for a rule that does not parse or a cycle of rule: references.
  static StatusOr<std::unique_ptr<RulePolicy>> Create(
      const std::map<std::string, std::string>& overrides = {});

  // Create() with the rules of `policy_file`; an empty path means the defaults only.
  // Errors: NotFound if the file cannot be opened; InvalidArgument for bad contents (see
  // policy_file.h) or bad rules; messages name the file.
  static StatusOr<std::unique_ptr<RulePolicy>> FromFile(const std::string& policy_file);

  bool Allowed(domain::ImageAction action, const domain::RequestContext& ctx,
               const domain::ImageTarget& target) const override;

  // Metadef actions: the rule named ToString(action) with target project_id (the namespace's
  // owner, or the caller's project for collection actions) and visibility (when the namespace
  // has one). Namespace visibility is the metadef service's to check first.
  bool Allowed(domain::MetadefAction action, const domain::RequestContext& ctx,
               const domain::MetadefTarget& target) const override;

  // Evaluates the named rule (any name, e.g. "copy_image" or a property-protection policy) for
  // `ctx` against `target`. An undefined name is false.
  bool Check(std::string_view rule_name, const domain::RequestContext& ctx,
             const Attributes& target) const;

  bool HasRule(std::string_view name) const { return rules_.Contains(name); }

  // The oslo-style credentials and target used for a decision (exposed for tests and logging).
  Credentials CredentialsFor(const domain::RequestContext& ctx) const;
  static Attributes TargetFor(domain::ImageAction action, const domain::RequestContext& ctx,
                              const domain::ImageTarget& target);

  // Load-time notes (undefined rule references, operator rules that override defaults); the
  // caller logs them at startup.
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  explicit RulePolicy(RuleSet rules) : rules_(std::move(rules)) {}
  bool IsAdmin(const Credentials& creds) const;

  RuleSet rules_;
  std::vector<std::string> warnings_;
};

}  // namespace glimmer::policy
