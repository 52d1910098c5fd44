#pragma once
// Metadata-definition repository (Glance's metadef tables). Storage only: who may see or change
// what is decided by metadefs::MetadefService, except the list's visibility scope, which is part
// of the query so that paging stays exact.
//
// Thread-safety: all methods may be called concurrently from any thread.
// Errors: NotFound (the namespace, or the element in it, does not exist), AlreadyExists (a
// name that must be unique is taken), Unavailable/Internal (database errors). Messages are
// Glance's.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "domain/metadef.h"

namespace glimmer::db {

struct MetadefNamespaceQuery {
  // nullopt: every namespace (admin). Otherwise those owned by this project or public.
  std::optional<std::string> visible_to;
  std::optional<std::string> visibility;    // "public" / "private" filter
  std::vector<std::string> resource_types;  // non-empty: associated with any of them
  std::optional<std::string> marker;        // a namespace name; NotFound if it does not exist
  int limit = 25;
  // created_at | updated_at | namespace | display_name | visibility | protected | owner | id;
  // ties broken by created_at then id, in the same direction.
  std::string sort_key = "created_at";
  bool ascending = false;
};

// The three kinds of element a namespace holds by name.
enum class MetadefElement { kProperty, kObject, kTag };

class MetadefRepository {
 public:
  virtual ~MetadefRepository() = default;
  MetadefRepository(const MetadefRepository&) = delete;
  MetadefRepository& operator=(const MetadefRepository&) = delete;

  // Namespaces. CreateNamespace inserts the namespace and everything in `tree` in one
  // transaction (nothing is written on error); unknown resource types are created, protected
  // when `protect_new_resource_types` (the loader's seeded types).
  virtual Status CreateNamespace(const domain::MetadefNamespaceTree& tree,
                                 bool protect_new_resource_types) = 0;
  virtual StatusOr<domain::MetadefNamespace> GetNamespace(std::string_view name) = 0;
  virtual StatusOr<std::vector<domain::MetadefNamespace>> ListNamespaces(
      const MetadefNamespaceQuery& query) = 0;
  // Replaces the stored columns of namespace `name` (which may be renamed to ns.name).
  virtual Status UpdateNamespace(std::string_view name, const domain::MetadefNamespace& ns) = 0;
  // Deletes the namespace and everything in it.
  virtual Status DeleteNamespace(std::string_view name) = 0;
  // Deletes every element of one kind from a namespace.
  virtual Status DeleteAll(std::string_view ns, MetadefElement kind) = 0;

  virtual StatusOr<std::vector<domain::MetadefProperty>> ListProperties(std::string_view ns) = 0;
  virtual StatusOr<domain::MetadefProperty> GetProperty(std::string_view ns,
                                                        std::string_view name) = 0;
  virtual Status CreateProperty(std::string_view ns, const domain::MetadefProperty& p) = 0;
  // Replaces property `name` (renamed to p.name when it differs).
  virtual Status UpdateProperty(std::string_view ns, std::string_view name,
                                const domain::MetadefProperty& p) = 0;

  virtual StatusOr<std::vector<domain::MetadefObject>> ListObjects(std::string_view ns) = 0;
  virtual StatusOr<domain::MetadefObject> GetObject(std::string_view ns,
                                                    std::string_view name) = 0;
  virtual Status CreateObject(std::string_view ns, const domain::MetadefObject& o) = 0;
  virtual Status UpdateObject(std::string_view ns, std::string_view name,
                              const domain::MetadefObject& o) = 0;

  virtual StatusOr<std::vector<domain::MetadefTag>> ListTags(std::string_view ns) = 0;
  virtual StatusOr<domain::MetadefTag> GetTag(std::string_view ns, std::string_view name) = 0;
  virtual Status CreateTag(std::string_view ns, const domain::MetadefTag& t) = 0;
  // Adds `tags` in one transaction, after deleting the existing ones unless `append`.
  virtual Status CreateTags(std::string_view ns, const std::vector<domain::MetadefTag>& tags,
                            bool append) = 0;
  virtual Status UpdateTag(std::string_view ns, std::string_view name,
                           const domain::MetadefTag& t) = 0;

  // Deletes one property, object or tag.
  virtual Status DeleteElement(std::string_view ns, MetadefElement kind,
                               std::string_view name) = 0;

  // Resource types and associations.
  virtual StatusOr<std::vector<domain::MetadefResourceType>> ListResourceTypes() = 0;
  virtual StatusOr<std::vector<domain::MetadefAssociation>> ListAssociations(
      std::string_view ns) = 0;
  // Associates namespace `ns` with resource type a.name (created, unprotected, if unknown).
  virtual Status CreateAssociation(std::string_view ns, const domain::MetadefAssociation& a) = 0;
  virtual Status DeleteAssociation(std::string_view ns, std::string_view resource_type) = 0;

 protected:
  MetadefRepository() = default;
};

}  // namespace glimmer::db
