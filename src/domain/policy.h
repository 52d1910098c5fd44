#pragma once
// Authorization decisions for image operations (glance-api.md §9). Every image operation asks
// here and nowhere else. The implementation is policy::RulePolicy: Glance's default ("secure
// RBAC") rules (policy/default_rules.h), which an operator policy file can override.
//
// Convention (Glance's): what the caller cannot see is reported as 404 by the caller of this
// class; what it can see but may not do is 403.

#include <string_view>

#include "domain/context.h"
#include "domain/image.h"
#include "domain/metadef.h"

namespace glimmer::domain {

enum class ImageAction {
  kGetImages,
  kGetImage,
  kAddImage,
  kModifyImage,
  kDeleteImage,
  kUploadImage,
  kDownloadImage,
  kPublicizeImage,
  kCommunitizeImage,
  kDeactivate,
  kReactivate,
  kAddMember,
  kDeleteMember,
  kGetMember,
  kGetMembers,  // list an image's members (Glance: get_members)
  kModifyMember,
  kCopyImage,        // import method copy-image (Glance: copy_image; admin by default)
  kTasksApiAccess,   // the /v2/tasks API (Glance: tasks_api_access; admin by default)
  // Multi-store (Glance's image.py / discovery.py rules):
  kGetImageLocation,     // read the image's locations (get_image_location; admin or owner reader)
  kDeleteImageLocation,  // DELETE /v2/stores/{store}/{image} (delete_image_location; admin)
  kDownloadFromStore,    // ?prefer= on download (download_from_store; as download_image)
  kStoresInfoDetail,     // GET /v2/info/stores/detail (stores_info_detail; admin or service);
                         // a collection action: no image in the target
  kLastImageAction = kStoresInfoDetail,
};

std::string_view ToString(ImageAction a);

// Facts about the target that the rules need.
struct ImageTarget {
  const Image* image = nullptr;  // null for actions on the collection (list, create)
  bool caller_is_member = false;  // a member row exists for the caller's project (any status)
  std::string_view owner;         // for kAddImage: the owner the new image will have
  std::string_view member_id;     // for kModifyMember: the member row being changed
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual bool Allowed(ImageAction action, const RequestContext& ctx,
                       const ImageTarget& target) const = 0;
};

// Metadata-definition actions (Glance's glance/policies/metadef.py, one per rule name).
enum class MetadefAction {
  kGetNamespace,
  kGetNamespaces,
  kModifyNamespace,
  kAddNamespace,
  kDeleteNamespace,
  kGetObject,
  kGetObjects,
  kModifyObject,
  kAddObject,
  kDeleteObject,
  kListResourceTypes,
  kGetResourceType,
  kAddResourceTypeAssociation,
  kRemoveResourceTypeAssociation,
  kGetProperty,
  kGetProperties,
  kModifyProperty,
  kAddProperty,
  kRemoveProperty,
  kGetTag,
  kGetTags,
  kModifyTag,
  kAddTag,
  kAddTags,
  kDeleteTag,
  kDeleteTags,
  kLastMetadefAction = kDeleteTags,
};

std::string_view ToString(MetadefAction a);

// The namespace an action is on (null for the collection: list, create, resource types).
// Glance's target: project_id = the namespace's owner (the caller's project without one),
// visibility = the namespace's.
struct MetadefTarget {
  const MetadefNamespace* ns = nullptr;
};

// Decides metadef actions. Namespace visibility (admin, owner or public) is checked by the
// metadef service before it asks; this only evaluates the rule.
class MetadefPolicy {
 public:
  virtual ~MetadefPolicy() = default;
  virtual bool Allowed(MetadefAction action, const RequestContext& ctx,
                       const MetadefTarget& target) const = 0;
};

// Whether the caller can see the image at all (Glance's DB-level visibility plus get_image).
bool CanSee(const RequestContext& ctx, const Image& image, bool caller_is_member);

}  // namespace glimmer::domain
