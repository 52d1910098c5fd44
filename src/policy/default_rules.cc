#include "policy/default_rules.h"

#include <string_view>

namespace glimmer::policy {
namespace {

// glance/policies/base.py's check strings, composed the same way.
constexpr std::string_view kAdmin = "rule:context_is_admin";
constexpr std::string_view kProjectMember = "role:member and project_id:%(project_id)s";
constexpr std::string_view kProjectReader = "role:reader and project_id:%(project_id)s";
constexpr std::string_view kImageMemberCheck = "project_id:%(member_id)s";
constexpr std::string_view kPublicVisibilityCheck = "'public':%(visibility)s";
constexpr std::string_view kVisibleChecks =
    "'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s";
// metadef.py uses base.py's strings with Glance's own admin check.
constexpr std::string_view kGlanceAdmin = "role:admin";
constexpr std::string_view kMetadefAdmin = "rule:metadef_admin";

std::string S(std::string_view a) { return std::string(a); }

std::vector<DefaultRule> Build() {
  const std::string admin = S(kAdmin);
  const std::string admin_or_member = admin + " or (" + S(kProjectMember) + ")";
  const std::string admin_or_reader = admin + " or (" + S(kProjectReader) + ")";
  const std::string get_image = admin + " or (role:reader and (project_id:%(project_id)s or " +
                                S(kImageMemberCheck) + " or " + S(kVisibleChecks) + "))";
  const std::string download = admin + " or (role:member and (project_id:%(project_id)s or " +
                               S(kImageMemberCheck) + " or " + S(kVisibleChecks) + "))";
  const std::string create = admin + " or (" + S(kProjectMember) + " and project_id:%(owner)s)";
  const std::string shared_member = admin + " or (role:member and " + S(kImageMemberCheck) + ")";
  const std::string reader_or_shared_member =
      admin + " or role:reader and (project_id:%(project_id)s or " + S(kImageMemberCheck) + ")";
  const std::string service = "rule:service_api";
  const std::string service_or_member =
      service + " or (" + S(kProjectMember) + " and project_id:%(owner)s)";
  // metadef.py
  const std::string metadef_admin = S(kMetadefAdmin);
  const std::string metadef_list = S(kGlanceAdmin) + " or (" + S(kProjectReader) + ")";
  const std::string metadef_read = S(kGlanceAdmin) +
                                   " or (role:reader and (project_id:%(project_id)s or " +
                                   S(kPublicVisibilityCheck) + "))";
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
      // tasks.py
      {"get_task", "rule:default"},
      {"get_tasks", "rule:default"},
      {"add_task", "rule:default"},
      {"modify_task", "rule:default"},
      {"tasks_api_access", admin},
      // metadef.py
      {"metadef_default", ""},
      {"metadef_admin", S(kGlanceAdmin)},
      {"get_metadef_namespace", metadef_read},
      {"get_metadef_namespaces", metadef_list},
      {"modify_metadef_namespace", metadef_admin},
      {"add_metadef_namespace", metadef_admin},
      {"delete_metadef_namespace", metadef_admin},
      {"get_metadef_object", metadef_read},
      {"get_metadef_objects", metadef_read},
      {"modify_metadef_object", metadef_admin},
      {"add_metadef_object", metadef_admin},
      {"delete_metadef_object", metadef_admin},
      {"list_metadef_resource_types", metadef_read},
      {"get_metadef_resource_type", metadef_read},
      {"add_metadef_resource_type_association", metadef_admin},
      {"remove_metadef_resource_type_association", metadef_admin},
      {"get_metadef_property", metadef_read},
      {"get_metadef_properties", metadef_read},
      {"modify_metadef_property", metadef_admin},
      {"add_metadef_property", metadef_admin},
      {"remove_metadef_property", metadef_admin},
      {"get_metadef_tag", metadef_read},
      {"get_metadef_tags", metadef_read},
      {"modify_metadef_tag", metadef_admin},
      {"add_metadef_tag", metadef_admin},
      {"add_metadef_tags", metadef_admin},
      {"delete_metadef_tag", metadef_admin},
      {"delete_metadef_tags", metadef_admin},
      // cache.py
      {"cache_image", admin},
      {"cache_list", admin},
      {"cache_delete", admin},
      {"cache_clean", admin},
      {"cache_prune", admin},
      // discovery.py
      {"stores_info_detail", admin + " or " + service},
  };
}

}  // namespace

const std::vector<DefaultRule>& DefaultRules() {
  static const auto* rules = new std::vector<DefaultRule>(Build());
  return *rules;
}

}  // namespace glimmer::policy
