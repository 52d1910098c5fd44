#pragma once
// For tests: the production policy with Glance's defaults and no operator file (what a server
// without [oslo_policy] policy_file runs), shared by the fixtures of the image components.

#include <cstdlib>

#include "policy/rule_policy.h"

namespace glimmer::policy::testing {

// Immutable and thread-safe; built on first use, never destroyed.
inline const RulePolicy& DefaultRulePolicy() {
  static const RulePolicy* const policy = [] {
    auto created = RulePolicy::Create();
    if (!created.ok()) std::abort();  // the defaults always parse (default_rules_test.cc)
    return std::move(*created).release();
  }();
  return *policy;
}

}  // namespace glimmer::policy::testing
