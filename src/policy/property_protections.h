#pragma once
// Glance's property protections ([DEFAULT] property_protection_file): which roles (or policy
// rules) may create, read, update and delete which custom image properties.
//
// File format (INI, as Python's configparser reads it): each section name is a regular
// expression searched (not anchored) in the property name; each section must set all of
// create, read, update, delete to a comma-separated list of roles ("roles" format) or one policy
// rule name ("policies" format, evaluated with RulePolicy::Check against an empty target).
// "@" = anyone, "!" = nobody (they may not be combined); an empty value = nobody. Sections are
// tried in file order and the FIRST whose regex matches decides; a property that matches no
// section is fully denied. [DEFAULT] options are inherited by every section. As in Glance, an
// "os_glance.*" section allowing everything is placed first (the operator's os_glance* sections
// are dropped): those properties are reserved and guarded elsewhere.
// Regexes use ECMAScript syntax (std::regex); Python-only constructs such as (?P<name>...) or
// inline flags are rejected at load.
//
// Thread-safety: immutable after load; Allowed() may be called concurrently.

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "domain/context.h"
#include "policy/rule_policy.h"

namespace glimmer::policy {

enum class PropertyRuleFormat { kRoles, kPolicies };

class PropertyProtections {
 public:
  enum class Operation { kCreate, kRead, kUpdate, kDelete };

  // Parses `text` (the file's contents). `policy` is required for kPolicies and must outlive the
  // result. Errors: InvalidArgument (naming the line / section) for syntax errors, a section
  // missing one of the four operations, an invalid regex, '@' combined with '!', several policy
  // names for one operation, or kPolicies without a policy.
  static StatusOr<std::unique_ptr<PropertyProtections>> Parse(std::string_view text,
                                                              PropertyRuleFormat format,
                                                              const RulePolicy* policy);

  // Whether the caller may perform `op` on the custom property `property`.
  bool Allowed(Operation op, std::string_view property, const domain::RequestContext& ctx) const;

  // Load-time notes (empty permission lists, undefined policy names, ignored options).
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  struct Section {
    std::string expression;
    std::regex regex;
    // Per operation: the role names (lowercase) or the single policy name; "@" / "!" kept as is.
    std::vector<std::string> permissions[4];
  };
  PropertyProtections() = default;

  PropertyRuleFormat format_ = PropertyRuleFormat::kRoles;
  const RulePolicy* policy_ = nullptr;
  std::vector<Section> sections_;
  std::vector<std::string> warnings_;
};

// Reads `path` and Parse()s it. Errors: NotFound if it cannot be opened; InvalidArgument (naming
// the file) for bad contents.
StatusOr<std::unique_ptr<PropertyProtections>> LoadPropertyProtections(
    const std::string& path, PropertyRuleFormat format, const RulePolicy* policy);

// "roles" / "policies" (case-insensitive) -> format; InvalidArgument otherwise.
StatusOr<PropertyRuleFormat> ParsePropertyRuleFormat(std::string_view text);

}  // namespace glimmer::policy
