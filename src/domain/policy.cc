#include "domain/policy.h"

namespace glimmer::domain {
namespace {

bool IsOwner(const RequestContext& ctx, const Image& image) {
  return !ctx.project_id.empty() && image.owner && *image.owner == ctx.project_id;
}

}  // namespace

std::string_view ToString(ImageAction a) {
  switch (a) {
    case ImageAction::kGetImages: return "get_images";
    case ImageAction::kGetImage: return "get_image";
    case ImageAction::kAddImage: return "add_image";
    case ImageAction::kModifyImage: return "modify_image";
    case ImageAction::kDeleteImage: return "delete_image";
    case ImageAction::kUploadImage: return "upload_image";
    case ImageAction::kDownloadImage: return "download_image";
    case ImageAction::kPublicizeImage: return "publicize_image";
    case ImageAction::kCommunitizeImage: return "communitize_image";
    case ImageAction::kDeactivate: return "deactivate";
    case ImageAction::kReactivate: return "reactivate";
    case ImageAction::kAddMember: return "add_member";
    case ImageAction::kDeleteMember: return "delete_member";
    case ImageAction::kGetMember: return "get_member";
    case ImageAction::kGetMembers: return "get_members";
    case ImageAction::kModifyMember: return "modify_member";
    case ImageAction::kCopyImage: return "copy_image";
    case ImageAction::kTasksApiAccess: return "tasks_api_access";
    case ImageAction::kGetImageLocation: return "get_image_location";
    case ImageAction::kDeleteImageLocation: return "delete_image_location";
    case ImageAction::kDownloadFromStore: return "download_from_store";
    case ImageAction::kStoresInfoDetail: return "stores_info_detail";
  }
  return "unknown";
}

std::string_view ToString(MetadefAction a) {
  switch (a) {
    case MetadefAction::kGetNamespace: return "get_metadef_namespace";
    case MetadefAction::kGetNamespaces: return "get_metadef_namespaces";
    case MetadefAction::kModifyNamespace: return "modify_metadef_namespace";
    case MetadefAction::kAddNamespace: return "add_metadef_namespace";
    case MetadefAction::kDeleteNamespace: return "delete_metadef_namespace";
    case MetadefAction::kGetObject: return "get_metadef_object";
    case MetadefAction::kGetObjects: return "get_metadef_objects";
    case MetadefAction::kModifyObject: return "modify_metadef_object";
    case MetadefAction::kAddObject: return "add_metadef_object";
    case MetadefAction::kDeleteObject: return "delete_metadef_object";
    case MetadefAction::kListResourceTypes: return "list_metadef_resource_types";
    case MetadefAction::kGetResourceType: return "get_metadef_resource_type";
    case MetadefAction::kAddResourceTypeAssociation: return "add_metadef_resource_type_association";
    case MetadefAction::kRemoveResourceTypeAssociation: return "remove_metadef_resource_type_association";
    case MetadefAction::kGetProperty: return "get_metadef_property";
    case MetadefAction::kGetProperties: return "get_metadef_properties";
    case MetadefAction::kModifyProperty: return "modify_metadef_property";
    case MetadefAction::kAddProperty: return "add_metadef_property";
    case MetadefAction::kRemoveProperty: return "remove_metadef_property";
    case MetadefAction::kGetTag: return "get_metadef_tag";
    case MetadefAction::kGetTags: return "get_metadef_tags";
    case MetadefAction::kModifyTag: return "modify_metadef_tag";
    case MetadefAction::kAddTag: return "add_metadef_tag";
    case MetadefAction::kAddTags: return "add_metadef_tags";
    case MetadefAction::kDeleteTag: return "delete_metadef_tag";
    case MetadefAction::kDeleteTags: return "delete_metadef_tags";
  }
  return "unknown";
}

bool CanSee(const RequestContext& ctx, const Image& image, bool caller_is_member) {
  if (ctx.IsAdmin()) return true;
  if (!ctx.IsReader()) return false;
  if (!image.owner || IsOwner(ctx, image)) return true;
  switch (image.visibility) {
    case Visibility::kPublic:
    case Visibility::kCommunity:
      return true;
    case Visibility::kShared:
      return caller_is_member;
    case Visibility::kPrivate:
      return false;
  }
  return false;
}

}  // namespace glimmer::domain
