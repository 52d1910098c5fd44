#pragma once
// Glance's metadata-definition rules over the metadef repository: who sees which namespace, who
// may change it, protection, and the defaults Glance fills in. No JSON here: property and object
// definitions arrive as JSON text already validated by the API edge (or the loader).
//
// Rules (Glance 25, glance/api/v2/metadef_*.py and glance/db/sqlalchemy/metadef_api):
//  - visibility: an admin sees every namespace; anyone else sees those their project owns and
//    the public ones. A namespace the caller cannot see is NotFound, as one that does not exist;
//  - policy: every action asks domain::MetadefPolicy (rule names of glance/policies/metadef.py;
//    writes are admin-only by default); a visible namespace's refused action is PermissionDenied;
//  - protection: a protected namespace cannot be deleted, nor can anything in it
//    (PermissionDenied with Glance's message);
//  - uniqueness: namespace names, and element names within a namespace (AlreadyExists);
//  - defaults on create and update: visibility "private", protected false, owner the caller's
//    project.
//
// Thread-safety: all methods may be called concurrently. Ownership: borrows its collaborators.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "db/metadef_repository.h"
#include "domain/context.h"
#include "domain/metadef.h"
#include "domain/policy.h"
#include "platform/clock.h"

namespace glimmer::metadefs {

struct NamespaceListRequest {
  std::optional<std::string> visibility;    // "public" / "private"
  std::vector<std::string> resource_types;  // any of them
  std::optional<std::string> marker;        // a namespace name
  int limit = 25;
  std::string sort_key = "created_at";
  bool ascending = false;
};

// A namespace as listed: with its resource-type associations.
struct ListedNamespace {
  domain::MetadefNamespace ns;
  std::vector<domain::MetadefAssociation> associations;
};

// The writable fields of a namespace (create and PUT); absent = Glance's default.
struct NamespaceFields {
  std::string name;
  std::optional<std::string> display_name;
  std::optional<std::string> description;
  std::optional<std::string> visibility;
  std::optional<bool> is_protected;
  std::optional<std::string> owner;
};

class MetadefService {
 public:
  MetadefService(db::MetadefRepository& repo, const domain::MetadefPolicy& policy,
                 const platform::Clock& clock);

  // Namespaces.
  StatusOr<std::vector<ListedNamespace>> ListNamespaces(const domain::RequestContext& ctx,
                                                        const NamespaceListRequest& request);
  StatusOr<domain::MetadefNamespaceTree> GetNamespace(const domain::RequestContext& ctx,
                                                      std::string_view name);
  // Creates the namespace with the associations, properties, objects and tags in `contents`
  // (its `ns` is ignored; timestamps are set here). Returns what was stored.
  StatusOr<domain::MetadefNamespaceTree> CreateNamespace(const domain::RequestContext& ctx,
                                                         const NamespaceFields& fields,
                                                         domain::MetadefNamespaceTree contents);
  StatusOr<domain::MetadefNamespace> UpdateNamespace(const domain::RequestContext& ctx,
                                                     std::string_view name,
                                                     const NamespaceFields& fields);
  Status DeleteNamespace(const domain::RequestContext& ctx, std::string_view name);
  // DELETE /v2/metadefs/namespaces/{ns}/{properties,objects,tags}.
  Status DeleteContents(const domain::RequestContext& ctx, std::string_view name,
                        db::MetadefElement kind);

  // Properties. `resource_type` (GET with ?resource_type=): the name may carry that
  // association's prefix, which is stripped; NotFound when it does not.
  StatusOr<std::vector<domain::MetadefProperty>> ListProperties(const domain::RequestContext& ctx,
                                                                std::string_view ns);
  StatusOr<domain::MetadefProperty> GetProperty(const domain::RequestContext& ctx,
                                                std::string_view ns, std::string_view name,
                                                const std::optional<std::string>& resource_type);
  StatusOr<domain::MetadefProperty> CreateProperty(const domain::RequestContext& ctx,
                                                   std::string_view ns,
                                                   domain::MetadefProperty property);
  StatusOr<domain::MetadefProperty> UpdateProperty(const domain::RequestContext& ctx,
                                                   std::string_view ns, std::string_view name,
                                                   domain::MetadefProperty property);

  // Objects.
  StatusOr<std::vector<domain::MetadefObject>> ListObjects(const domain::RequestContext& ctx,
                                                           std::string_view ns);
  StatusOr<domain::MetadefObject> GetObject(const domain::RequestContext& ctx,
                                            std::string_view ns, std::string_view name);
  StatusOr<domain::MetadefObject> CreateObject(const domain::RequestContext& ctx,
                                               std::string_view ns, domain::MetadefObject object);
  StatusOr<domain::MetadefObject> UpdateObject(const domain::RequestContext& ctx,
                                               std::string_view ns, std::string_view name,
                                               domain::MetadefObject object);

  // Tags.
  StatusOr<std::vector<domain::MetadefTag>> ListTags(const domain::RequestContext& ctx,
                                                     std::string_view ns);
  StatusOr<domain::MetadefTag> GetTag(const domain::RequestContext& ctx, std::string_view ns,
                                      std::string_view name);
  StatusOr<domain::MetadefTag> CreateTag(const domain::RequestContext& ctx, std::string_view ns,
                                         std::string_view name);
  // Replaces the namespace's tags with `names` (or adds them when `append`).
  StatusOr<std::vector<domain::MetadefTag>> CreateTags(const domain::RequestContext& ctx,
                                                       std::string_view ns,
                                                       const std::vector<std::string>& names,
                                                       bool append);
  StatusOr<domain::MetadefTag> UpdateTag(const domain::RequestContext& ctx, std::string_view ns,
                                         std::string_view name, std::string_view new_name);

  // Deletes one property, object or tag.
  Status DeleteElement(const domain::RequestContext& ctx, std::string_view ns,
                       db::MetadefElement kind, std::string_view name);

  // Resource types and associations.
  StatusOr<std::vector<domain::MetadefResourceType>> ListResourceTypes(
      const domain::RequestContext& ctx);
  StatusOr<std::vector<domain::MetadefAssociation>> ListAssociations(
      const domain::RequestContext& ctx, std::string_view ns);
  StatusOr<domain::MetadefAssociation> CreateAssociation(const domain::RequestContext& ctx,
                                                         std::string_view ns,
                                                         domain::MetadefAssociation association);
  Status DeleteAssociation(const domain::RequestContext& ctx, std::string_view ns,
                           std::string_view resource_type);

 private:
  // The namespace if the caller can see it; NotFound (`not_found` message, or the repository's
  // when empty) otherwise.
  StatusOr<domain::MetadefNamespace> Visible(const domain::RequestContext& ctx,
                                             std::string_view name, bool glance_short_message);
  // Visible + the policy check of `action` on it.
  StatusOr<domain::MetadefNamespace> Authorized(const domain::RequestContext& ctx,
                                                std::string_view name,
                                                domain::MetadefAction action);
  Status Check(const domain::RequestContext& ctx, domain::MetadefAction action,
               const domain::MetadefNamespace* ns) const;

  db::MetadefRepository& repo_;
  const domain::MetadefPolicy& policy_;
  const platform::Clock& clock_;
};

}  // namespace glimmer::metadefs
