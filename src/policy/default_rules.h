#pragma once
// Glance's default policy: the one table of rule names and their default check strings, in the
// oslo.policy language (rules.h). RulePolicy starts from it; an operator policy file
// (policy_file.h) replaces entries by name.
//
// Sources, at the Glance release Glimmer follows (25 "Zed", glance/policies/*.py):
//   base.py (default, context_is_admin), image.py, tasks.py, metadef.py, cache.py, discovery.py.
// Glimmer's deliberate differences, kept from before this table existed:
//   - image, task, discovery and cache rules name the admin check `rule:context_is_admin` where
//     Glance writes `role:admin` (same decision with the defaults; an operator's context_is_admin
//     then governs them all);
//   - service_api, add_image_location, fetch_image_location (service or owner) and the cache
//     rules cache_clean, cache_prune, list_cached_nodes come from later Glance releases;
//     stores_info_detail also admits rule:service_api.
// The metadef rules are Glance 25's text unchanged (no Glimmer API uses them yet).
//
// Thread-safety: the table is built once, immutable, safe to read from any thread.

#include <string>
#include <vector>

namespace glimmer::policy {

struct DefaultRule {
  std::string name;
  std::string check_str;
};

// Every default rule, each name once, in Glance's order (glance/policies/__init__.py: base, image,
// tasks, metadef, cache, discovery).
const std::vector<DefaultRule>& DefaultRules();

}  // namespace glimmer::policy
