#include "metadefs/metadef_service.h"

#include <utility>

namespace glimmer::metadefs {
namespace {

using domain::MetadefAction;
using domain::MetadefAssociation;
using domain::MetadefNamespace;
using domain::MetadefNamespaceTree;
using domain::MetadefObject;
using domain::MetadefProperty;
using domain::MetadefTag;
using db::MetadefElement;

std::string S(std::string_view s) { return std::string(s); }

bool CanSee(const domain::RequestContext& ctx, const MetadefNamespace& ns) {
  if (ctx.IsAdmin()) return true;
  if (ns.visibility && *ns.visibility == "public") return true;
  return !ctx.project_id.empty() && ns.owner == ctx.project_id;
}

MetadefAction DeleteAction(MetadefElement kind) {
  switch (kind) {
    case MetadefElement::kProperty: return MetadefAction::kRemoveProperty;
    case MetadefElement::kObject: return MetadefAction::kDeleteObject;
    case MetadefElement::kTag: return MetadefAction::kDeleteTag;
  }
  return MetadefAction::kDeleteNamespace;
}

// Glance's refusal to delete anything from a protected namespace.
Status Protected(MetadefElement kind, std::string_view name) {
  switch (kind) {
    case MetadefElement::kProperty:
      return PermissionDeniedError("Metadata definition property " + S(name) +
                                   " is protected and cannot be deleted.");
    case MetadefElement::kObject:
      return PermissionDeniedError("Metadata definition object " + S(name) +
                                   " is protected and cannot be deleted.");
    case MetadefElement::kTag:
      return PermissionDeniedError("Metadata definition tag " + S(name) +
                                   " is protected and cannot be deleted.");
  }
  return OkStatus();
}

Status NamespaceProtected(std::string_view name) {
  return PermissionDeniedError("Metadata definition namespace " + S(name) +
                               " is protected and cannot be deleted.");
}

}  // namespace

MetadefService::MetadefService(db::MetadefRepository& repo, const domain::MetadefPolicy& policy,
                               const platform::Clock& clock)
    : repo_(repo), policy_(policy), clock_(clock) {}

Status MetadefService::Check(const domain::RequestContext& ctx, MetadefAction action,
                             const MetadefNamespace* ns) const {
  if (policy_.Allowed(action, ctx, domain::MetadefTarget{ns})) return OkStatus();
  return PermissionDeniedError("You are not authorized to complete " +
                               std::string(domain::ToString(action)) + " action.");
}

StatusOr<MetadefNamespace> MetadefService::Visible(const domain::RequestContext& ctx,
                                                   std::string_view name,
                                                   bool glance_short_message) {
  auto ns = repo_.GetNamespace(name);
  if (ns.ok() && CanSee(ctx, *ns)) return ns;
  if (!ns.ok() && ns.status().code() != StatusCode::kNotFound) return ns.status();
  // Glance answers "Namespace X not found" for most calls and its database message for a
  // show; both the same whether the namespace is absent or only invisible.
  if (glance_short_message) return NotFoundError("Namespace " + S(name) + " not found");
  return NotFoundError("Metadata definition namespace=" + S(name) + " was not found.");
}

StatusOr<MetadefNamespace> MetadefService::Authorized(const domain::RequestContext& ctx,
                                                      std::string_view name,
                                                      MetadefAction action) {
  ASSIGN_OR_RETURN(MetadefNamespace ns, Visible(ctx, name, true));
  RETURN_IF_ERROR(Check(ctx, action, &ns));
  return ns;
}

// ---- namespaces ----

StatusOr<std::vector<ListedNamespace>> MetadefService::ListNamespaces(
    const domain::RequestContext& ctx, const NamespaceListRequest& request) {
  RETURN_IF_ERROR(Check(ctx, MetadefAction::kGetNamespaces, nullptr));
  RETURN_IF_ERROR(Check(ctx, MetadefAction::kListResourceTypes, nullptr));
  db::MetadefNamespaceQuery q;
  if (!ctx.IsAdmin()) q.visible_to = ctx.project_id;
  q.visibility = request.visibility;
  q.resource_types = request.resource_types;
  q.limit = request.limit;
  q.sort_key = request.sort_key;
  q.ascending = request.ascending;
  if (request.marker) {
    RETURN_IF_ERROR(Visible(ctx, *request.marker, false).status());
    q.marker = request.marker;
  }
  ASSIGN_OR_RETURN(auto page, repo_.ListNamespaces(q));
  std::vector<ListedNamespace> out;
  for (auto& ns : page) {
    // Glance filters each listed namespace through get_metadef_namespace.
    if (!policy_.Allowed(MetadefAction::kGetNamespace, ctx, domain::MetadefTarget{&ns})) continue;
    auto assoc = repo_.ListAssociations(ns.name);
    if (!assoc.ok() && assoc.status().code() != StatusCode::kNotFound) return assoc.status();
    out.push_back({std::move(ns), assoc.ok() ? std::move(*assoc)
                                             : std::vector<MetadefAssociation>{}});
  }
  return out;
}

StatusOr<MetadefNamespaceTree> MetadefService::GetNamespace(const domain::RequestContext& ctx,
                                                            std::string_view name) {
  ASSIGN_OR_RETURN(MetadefNamespace ns, Visible(ctx, name, false));
  if (!policy_.Allowed(MetadefAction::kGetNamespace, ctx, domain::MetadefTarget{&ns})) {
    return NotFoundError("");  // Glance: a bare 404 (webob's default text)
  }
  for (auto a : {MetadefAction::kListResourceTypes, MetadefAction::kGetObjects,
                 MetadefAction::kGetProperties, MetadefAction::kGetTags}) {
    RETURN_IF_ERROR(Check(ctx, a, &ns));
  }
  MetadefNamespaceTree tree;
  ASSIGN_OR_RETURN(tree.associations, repo_.ListAssociations(name));
  ASSIGN_OR_RETURN(tree.properties, repo_.ListProperties(name));
  ASSIGN_OR_RETURN(tree.objects, repo_.ListObjects(name));
  ASSIGN_OR_RETURN(tree.tags, repo_.ListTags(name));
  tree.ns = std::move(ns);
  return tree;
}

StatusOr<MetadefNamespaceTree> MetadefService::CreateNamespace(const domain::RequestContext& ctx,
                                                               const NamespaceFields& fields,
                                                               MetadefNamespaceTree contents) {
  RETURN_IF_ERROR(Check(ctx, MetadefAction::kAddNamespace, nullptr));
  if (!contents.associations.empty()) {
    RETURN_IF_ERROR(Check(ctx, MetadefAction::kAddResourceTypeAssociation, nullptr));
  }
  if (!contents.objects.empty()) RETURN_IF_ERROR(Check(ctx, MetadefAction::kAddObject, nullptr));
  if (!contents.tags.empty()) RETURN_IF_ERROR(Check(ctx, MetadefAction::kAddTag, nullptr));
  if (!contents.properties.empty()) {
    RETURN_IF_ERROR(Check(ctx, MetadefAction::kAddProperty, nullptr));
  }
  const UnixMicros now = clock_.Now();
  MetadefNamespace& ns = contents.ns;
  ns.name = fields.name;
  ns.display_name = fields.display_name;
  ns.description = fields.description;
  ns.visibility = fields.visibility.value_or("private");
  ns.is_protected = fields.is_protected.value_or(false);
  ns.owner = fields.owner.value_or(ctx.project_id);
  ns.created_at = ns.updated_at = now;
  for (auto& a : contents.associations) a.created_at = a.updated_at = now;
  for (auto& p : contents.properties) p.created_at = p.updated_at = now;
  for (auto& o : contents.objects) o.created_at = o.updated_at = now;
  for (auto& t : contents.tags) t.created_at = t.updated_at = now;
  RETURN_IF_ERROR(repo_.CreateNamespace(contents, false));
  return contents;
}

StatusOr<MetadefNamespace> MetadefService::UpdateNamespace(const domain::RequestContext& ctx,
                                                           std::string_view name,
                                                           const NamespaceFields& fields) {
  ASSIGN_OR_RETURN(MetadefNamespace ns,
                   Authorized(ctx, name, MetadefAction::kModifyNamespace));
  // PUT replaces: absent optional fields return to their create-time defaults (Glance).
  ns.name = fields.name;
  ns.display_name = fields.display_name;
  ns.description = fields.description;
  ns.visibility = fields.visibility.value_or("private");
  ns.is_protected = fields.is_protected.value_or(false);
  ns.owner = fields.owner.value_or(ctx.project_id);
  ns.updated_at = clock_.Now();
  RETURN_IF_ERROR(repo_.UpdateNamespace(name, ns));
  return ns;
}

Status MetadefService::DeleteNamespace(const domain::RequestContext& ctx, std::string_view name) {
  ASSIGN_OR_RETURN(MetadefNamespace ns,
                   Authorized(ctx, name, MetadefAction::kDeleteNamespace));
  if (ns.is_protected) return NamespaceProtected(ns.name);
  return repo_.DeleteNamespace(name);
}

Status MetadefService::DeleteContents(const domain::RequestContext& ctx, std::string_view name,
                                      MetadefElement kind) {
  ASSIGN_OR_RETURN(MetadefNamespace ns,
                   Authorized(ctx, name, MetadefAction::kDeleteNamespace));
  if (kind == MetadefElement::kTag) RETURN_IF_ERROR(Check(ctx, MetadefAction::kDeleteTags, &ns));
  // Glance checks the namespace's own protection here (namespace_obj.delete()).
  if (ns.is_protected) return NamespaceProtected(ns.name);
  return repo_.DeleteAll(name, kind);
}

// ---- properties ----

StatusOr<std::vector<MetadefProperty>> MetadefService::ListProperties(
    const domain::RequestContext& ctx, std::string_view ns) {
  RETURN_IF_ERROR(Authorized(ctx, ns, MetadefAction::kGetProperties).status());
  return repo_.ListProperties(ns);
}

StatusOr<MetadefProperty> MetadefService::GetProperty(
    const domain::RequestContext& ctx, std::string_view ns, std::string_view name,
    const std::optional<std::string>& resource_type) {
  ASSIGN_OR_RETURN(MetadefNamespace n, Authorized(ctx, ns, MetadefAction::kGetProperty));
  std::string property_name(name);
  if (resource_type && !resource_type->empty()) {
    RETURN_IF_ERROR(Check(ctx, MetadefAction::kGetResourceType, &n));
    ASSIGN_OR_RETURN(auto assocs, repo_.ListAssociations(ns));
    const MetadefAssociation* found = nullptr;
    for (const auto& a : assocs) {
      if (a.name == *resource_type) found = &a;
    }
    if (!found) {
      return NotFoundError("The metadata definition resource-type association of "
                           "resource-type=" + *resource_type + " to namespace=" + S(ns) +
                           ", was not found.");
    }
    const std::string prefix = found->prefix.value_or("");
    if (!prefix.empty()) {
      if (!property_name.starts_with(prefix)) {
        return NotFoundError("Property " + property_name +
                             " does not start with the expected resource type association "
                             "prefix of '" + prefix + "'.");
      }
      property_name.erase(0, prefix.size());
    }
  }
  return repo_.GetProperty(ns, property_name);
}

StatusOr<MetadefProperty> MetadefService::CreateProperty(const domain::RequestContext& ctx,
                                                         std::string_view ns,
                                                         MetadefProperty property) {
  RETURN_IF_ERROR(Authorized(ctx, ns, MetadefAction::kAddProperty).status());
  property.created_at = property.updated_at = clock_.Now();
  RETURN_IF_ERROR(repo_.CreateProperty(ns, property));
  return property;
}

StatusOr<MetadefProperty> MetadefService::UpdateProperty(const domain::RequestContext& ctx,
                                                         std::string_view ns,
                                                         std::string_view name,
                                                         MetadefProperty property) {
  RETURN_IF_ERROR(Authorized(ctx, ns, MetadefAction::kModifyProperty).status());
  ASSIGN_OR_RETURN(MetadefProperty old, repo_.GetProperty(ns, name));
  property.created_at = old.created_at;
  property.updated_at = clock_.Now();
  RETURN_IF_ERROR(repo_.UpdateProperty(ns, name, property));
  return property;
}

// ---- objects ----

StatusOr<std::vector<MetadefObject>> MetadefService::ListObjects(const domain::RequestContext& ctx,
                                                                 std::string_view ns) {
  RETURN_IF_ERROR(Authorized(ctx, ns, MetadefAction::kGetObjects).status());
  return repo_.ListObjects(ns);
}

StatusOr<MetadefObject> MetadefService::GetObject(const domain::RequestContext& ctx,
                                                  std::string_view ns, std::string_view name) {
  RETURN_IF_ERROR(Authorized(ctx, ns, MetadefAction::kGetObject).status());
  return repo_.GetObject(ns, name);
}

StatusOr<MetadefObject> MetadefService::CreateObject(const domain::RequestContext& ctx,
                                                     std::string_view ns, MetadefObject object) {
  RETURN_IF_ERROR(Authorized(ctx, ns, MetadefAction::kAddObject).status());
  object.created_at = object.updated_at = clock_.Now();
  RETURN_IF_ERROR(repo_.CreateObject(ns, object));
  return object;
}

StatusOr<MetadefObject> MetadefService::UpdateObject(const domain::RequestContext& ctx,
                                                     std::string_view ns, std::string_view name,
                                                     MetadefObject object) {
  RETURN_IF_ERROR(Authorized(ctx, ns, MetadefAction::kModifyObject).status());
  ASSIGN_OR_RETURN(MetadefObject old, repo_.GetObject(ns, name));
  object.created_at = old.created_at;
  object.updated_at = clock_.Now();
  RETURN_IF_ERROR(repo_.UpdateObject(ns, name, object));
  return object;
}

// ---- tags ----

StatusOr<std::vector<MetadefTag>> MetadefService::ListTags(const domain::RequestContext& ctx,
                                                           std::string_view ns) {
  RETURN_IF_ERROR(Authorized(ctx, ns, MetadefAction::kGetTags).status());
  return repo_.ListTags(ns);
}

StatusOr<MetadefTag> MetadefService::GetTag(const domain::RequestContext& ctx,
                                            std::string_view ns, std::string_view name) {
  RETURN_IF_ERROR(Authorized(ctx, ns, MetadefAction::kGetTag).status());
  return repo_.GetTag(ns, name);
}

StatusOr<MetadefTag> MetadefService::CreateTag(const domain::RequestContext& ctx,
                                               std::string_view ns, std::string_view name) {
  RETURN_IF_ERROR(Authorized(ctx, ns, MetadefAction::kAddTag).status());
  const UnixMicros now = clock_.Now();
  MetadefTag tag{S(name), now, now};
  RETURN_IF_ERROR(repo_.CreateTag(ns, tag));
  return tag;
}

StatusOr<std::vector<MetadefTag>> MetadefService::CreateTags(const domain::RequestContext& ctx,
                                                             std::string_view ns,
                                                             const std::vector<std::string>& names,
                                                             bool append) {
  RETURN_IF_ERROR(Authorized(ctx, ns, MetadefAction::kAddTags).status());
  const UnixMicros now = clock_.Now();
  std::vector<MetadefTag> tags;
  for (const auto& n : names) tags.push_back({n, now, now});
  // Glance writes nothing (and keeps the old tags) for an empty list.
  if (!tags.empty()) RETURN_IF_ERROR(repo_.CreateTags(ns, tags, append));
  return tags;
}

StatusOr<MetadefTag> MetadefService::UpdateTag(const domain::RequestContext& ctx,
                                               std::string_view ns, std::string_view name,
                                               std::string_view new_name) {
  RETURN_IF_ERROR(Authorized(ctx, ns, MetadefAction::kModifyTag).status());
  ASSIGN_OR_RETURN(MetadefTag tag, repo_.GetTag(ns, name));
  tag.name = S(new_name);
  tag.updated_at = clock_.Now();
  RETURN_IF_ERROR(repo_.UpdateTag(ns, name, tag));
  return tag;
}

Status MetadefService::DeleteElement(const domain::RequestContext& ctx, std::string_view ns,
                                     MetadefElement kind, std::string_view name) {
  ASSIGN_OR_RETURN(MetadefNamespace n, Authorized(ctx, ns, DeleteAction(kind)));
  // Glance looks the element up before it checks the namespace's protection.
  switch (kind) {
    case MetadefElement::kProperty: RETURN_IF_ERROR(repo_.GetProperty(ns, name).status()); break;
    case MetadefElement::kObject: RETURN_IF_ERROR(repo_.GetObject(ns, name).status()); break;
    case MetadefElement::kTag: RETURN_IF_ERROR(repo_.GetTag(ns, name).status()); break;
  }
  if (n.is_protected) return Protected(kind, name);
  return repo_.DeleteElement(ns, kind, name);
}

// ---- resource types ----

StatusOr<std::vector<domain::MetadefResourceType>> MetadefService::ListResourceTypes(
    const domain::RequestContext& ctx) {
  RETURN_IF_ERROR(Check(ctx, MetadefAction::kListResourceTypes, nullptr));
  return repo_.ListResourceTypes();
}

StatusOr<std::vector<MetadefAssociation>> MetadefService::ListAssociations(
    const domain::RequestContext& ctx, std::string_view ns) {
  RETURN_IF_ERROR(Authorized(ctx, ns, MetadefAction::kListResourceTypes).status());
  return repo_.ListAssociations(ns);
}

StatusOr<MetadefAssociation> MetadefService::CreateAssociation(const domain::RequestContext& ctx,
                                                               std::string_view ns,
                                                               MetadefAssociation association) {
  RETURN_IF_ERROR(Authorized(ctx, ns, MetadefAction::kAddResourceTypeAssociation).status());
  association.created_at = association.updated_at = clock_.Now();
  RETURN_IF_ERROR(repo_.CreateAssociation(ns, association));
  return association;
}

Status MetadefService::DeleteAssociation(const domain::RequestContext& ctx, std::string_view ns,
                                         std::string_view resource_type) {
  ASSIGN_OR_RETURN(MetadefNamespace n,
                   Authorized(ctx, ns, MetadefAction::kRemoveResourceTypeAssociation));
  ASSIGN_OR_RETURN(auto assocs, repo_.ListAssociations(ns));
  bool found = false;
  for (const auto& a : assocs) found = found || a.name == resource_type;
  if (!found) {
    return NotFoundError("Failed to find resource type " + S(resource_type) + " to delete");
  }
  if (n.is_protected) {
    return PermissionDeniedError("Metadata definition resource-type-association " +
                                 S(resource_type) + " is protected and cannot be deleted.");
  }
  return repo_.DeleteAssociation(ns, resource_type);
}

}  // namespace glimmer::metadefs
