#include "db/sql/metadef_repository.h"

#include <string>
#include <utility>

#include "db/sql/queries.h"

namespace glimmer::db::sql {
namespace {

using domain::MetadefAssociation;
using domain::MetadefNamespace;
using domain::MetadefObject;
using domain::MetadefProperty;
using domain::MetadefResourceType;
using domain::MetadefTag;

std::string S(std::string_view s) { return std::string(s); }

Status NamespaceNotFound(std::string_view ns) {
  return NotFoundError("Metadata definition namespace=" + S(ns) + " was not found.");
}

const char* KindName(MetadefElement kind) {
  switch (kind) {
    case MetadefElement::kProperty: return "property";
    case MetadefElement::kObject: return "object";
    case MetadefElement::kTag: return "tag";
  }
  return "";
}

Status ElementNotFound(MetadefElement kind, std::string_view ns, std::string_view name) {
  return NotFoundError(std::string("The metadata definition ") + KindName(kind) +
                       " with name=" + S(name) + " was not found in namespace=" + S(ns) + ".");
}

Status ElementExists(MetadefElement kind, std::string_view ns, std::string_view name) {
  if (kind == MetadefElement::kTag) {
    return AlreadyExistsError("A metadata tag with name=" + S(name) +
                              " already exists in namespace=" + S(ns) +
                              ". (Please note that metadata tag names are case insensitive).");
  }
  return AlreadyExistsError(std::string("A metadata definition ") + KindName(kind) +
                            " with name=" + S(name) + " already exists in namespace=" + S(ns) +
                            ".");
}

// A unique-constraint violation reported as `duplicate`; other errors unchanged.
Status OnDuplicate(Status st, const Status& duplicate) {
  if (st.code() == StatusCode::kAlreadyExists) return duplicate;
  return st;
}

MetadefNamespace ReadNamespace(const Statement& st) {
  MetadefNamespace ns;
  ns.name = st.Text(0);
  ns.display_name = st.OptText(1);
  ns.description = st.OptText(2);
  ns.visibility = st.OptText(3);
  ns.is_protected = st.Int(4) != 0;
  ns.owner = st.Text(5);
  ns.created_at = st.Int(6);
  ns.updated_at = st.Int(7);
  return ns;
}

StatusOr<int64_t> NamespaceId(Connection& conn, std::string_view ns) {
  ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kSelectMetadefNamespaceId));
  st.Bind(1, ns);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return NamespaceNotFound(ns);
  return st.Int(0);
}

// The id of resource type `name`, created (with `is_protected`) when it does not exist.
StatusOr<int64_t> EnsureResourceType(Connection& conn, std::string_view name, bool is_protected,
                                     UnixMicros now) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    {
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kSelectMetadefResourceTypeId));
      st.Bind(1, name);
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (row) return st.Int(0);
    }
    if (attempt == 0) {
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kInsertMetadefResourceType));
      RETURN_IF_ERROR(
          st.Bind(1, name).Bind(2, int64_t{is_protected ? 1 : 0}).Bind(3, now).Bind(4, now).Run());
    }
  }
  return InternalError("resource type " + S(name) + " vanished after insert");
}

Status InsertAssociation(Connection& conn, int64_t ns_id, std::string_view ns,
                         const MetadefAssociation& a, bool protect_new) {
  ASSIGN_OR_RETURN(int64_t rt_id, EnsureResourceType(conn, a.name, protect_new, a.created_at));
  ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kInsertMetadefAssociation));
  st.Bind(1, rt_id).Bind(2, ns_id).Bind(3, a.prefix).Bind(4, a.properties_target);
  return OnDuplicate(st.Bind(5, a.created_at).Bind(6, a.updated_at).Run(),
                     AlreadyExistsError("The metadata definition resource-type association of "
                                        "resource-type=" + a.name + " to namespace=" + S(ns) +
                                        " already exists."));
}

Status InsertProperty(Connection& conn, int64_t ns_id, std::string_view ns,
                      const MetadefProperty& p) {
  ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kInsertMetadefProperty));
  st.Bind(1, ns_id).Bind(2, p.name).Bind(3, p.schema_json).Bind(4, p.created_at);
  return OnDuplicate(st.Bind(5, p.updated_at).Run(),
                     ElementExists(MetadefElement::kProperty, ns, p.name));
}

Status InsertObject(Connection& conn, int64_t ns_id, std::string_view ns, const MetadefObject& o) {
  ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kInsertMetadefObject));
  st.Bind(1, ns_id).Bind(2, o.name).Bind(3, o.description).Bind(4, o.required_json);
  st.Bind(5, o.properties_json).Bind(6, o.created_at).Bind(7, o.updated_at);
  return OnDuplicate(st.Run(), ElementExists(MetadefElement::kObject, ns, o.name));
}

Status InsertTag(Connection& conn, int64_t ns_id, std::string_view ns, const MetadefTag& t) {
  ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kInsertMetadefTag));
  st.Bind(1, ns_id).Bind(2, t.name).Bind(3, t.created_at).Bind(4, t.updated_at);
  return OnDuplicate(st.Run(), ElementExists(MetadefElement::kTag, ns, t.name));
}

const char* DeleteSql(MetadefElement kind) {
  switch (kind) {
    case MetadefElement::kProperty: return queries::kDeleteMetadefProperties;
    case MetadefElement::kObject: return queries::kDeleteMetadefObjects;
    case MetadefElement::kTag: return queries::kDeleteMetadefTags;
  }
  return "";
}

// Namespace sort column for a validated key (never user text in SQL). Nullable text columns
// sort as '' so that keyset paging compares them.
const char* SortExpr(const std::string& key) {
  if (key == "updated_at") return "n.updated_at";
  if (key == "namespace") return "n.namespace";
  if (key == "display_name") return "COALESCE(n.display_name, '')";
  if (key == "visibility") return "COALESCE(n.visibility, '')";
  if (key == "protected") return "n.protected";
  if (key == "owner") return "n.owner";
  if (key == "id") return "n.id";
  return "n.created_at";
}

class SqlMetadefRepository final : public MetadefRepository {
 public:
  explicit SqlMetadefRepository(Database& db) : db_(db) {}

  Status CreateNamespace(const domain::MetadefNamespaceTree& tree, bool protect_new) override {
    const MetadefNamespace& ns = tree.ns;
    return db_.Write([&](Connection& conn) -> Status {
      {
        ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kInsertMetadefNamespace));
        st.Bind(1, ns.name).Bind(2, ns.display_name).Bind(3, ns.description);
        st.Bind(4, ns.visibility).Bind(5, int64_t{ns.is_protected ? 1 : 0}).Bind(6, ns.owner);
        RETURN_IF_ERROR(OnDuplicate(
            st.Bind(7, ns.created_at).Bind(8, ns.updated_at).Run(),
            AlreadyExistsError("The metadata definition namespace=" + ns.name +
                               " already exists.")));
      }
      ASSIGN_OR_RETURN(int64_t id, NamespaceId(conn, ns.name));
      for (const auto& a : tree.associations) {
        RETURN_IF_ERROR(InsertAssociation(conn, id, ns.name, a, protect_new));
      }
      for (const auto& p : tree.properties) RETURN_IF_ERROR(InsertProperty(conn, id, ns.name, p));
      for (const auto& o : tree.objects) RETURN_IF_ERROR(InsertObject(conn, id, ns.name, o));
      for (const auto& t : tree.tags) RETURN_IF_ERROR(InsertTag(conn, id, ns.name, t));
      return OkStatus();
    });
  }

  StatusOr<MetadefNamespace> GetNamespace(std::string_view name) override {
    std::optional<MetadefNamespace> out;
    RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kSelectMetadefNamespace));
      st.Bind(1, name);
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return NamespaceNotFound(name);
      out = ReadNamespace(st);
      return OkStatus();
    }));
    return std::move(*out);
  }

  StatusOr<std::vector<MetadefNamespace>> ListNamespaces(const MetadefNamespaceQuery& q) override {
    const std::string col = SortExpr(q.sort_key);
    const char* cmp = q.ascending ? ">" : "<";
    const char* dir = q.ascending ? " ASC" : " DESC";
    std::string sql = std::string("SELECT ") + queries::kMetadefNamespaceColumns +
                      " FROM metadef_namespaces n WHERE 1 = 1";
    if (q.visible_to) sql += " AND (n.owner = ?1 OR n.visibility = 'public')";
    if (q.visibility) sql += " AND n.visibility = ?2";
    if (!q.resource_types.empty()) {
      sql += " AND n.id IN (SELECT a.namespace_id FROM metadef_namespace_resource_types a JOIN "
             "metadef_resource_types r ON r.id = a.resource_type_id WHERE r.name IN (";
      for (size_t i = 0; i < q.resource_types.size(); ++i) {
        sql += (i ? ", ?" : "?") + std::to_string(10 + i);
      }
      sql += "))";
    }
    if (q.marker) {
      sql += " AND (" + col + ", n.created_at, n.id) " + cmp + " (SELECT " + col +
             ", n.created_at, n.id FROM metadef_namespaces n WHERE n.namespace = ?3)";
    }
    sql += " ORDER BY " + col + dir + ", n.created_at" + dir + ", n.id" + dir + " LIMIT ?4";
    std::vector<MetadefNamespace> out;
    RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> Status {
      out.clear();
      if (q.marker) RETURN_IF_ERROR(NamespaceId(conn, *q.marker).status());
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(sql));
      if (q.visible_to) st.Bind(1, *q.visible_to);
      if (q.visibility) st.Bind(2, *q.visibility);
      if (q.marker) st.Bind(3, *q.marker);
      st.Bind(4, static_cast<int64_t>(q.limit));
      for (size_t i = 0; i < q.resource_types.size(); ++i) {
        st.Bind(static_cast<int>(10 + i), q.resource_types[i]);
      }
      for (;;) {
        ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) return OkStatus();
        out.push_back(ReadNamespace(st));
      }
    }));
    return out;
  }

  Status UpdateNamespace(std::string_view name, const MetadefNamespace& ns) override {
    return db_.Write([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kUpdateMetadefNamespace));
      st.Bind(1, name).Bind(2, ns.name).Bind(3, ns.display_name).Bind(4, ns.description);
      st.Bind(5, ns.visibility).Bind(6, int64_t{ns.is_protected ? 1 : 0}).Bind(7, ns.owner);
      RETURN_IF_ERROR(OnDuplicate(
          st.Bind(8, ns.updated_at).Run(),
          AlreadyExistsError("Invalid update. It would result in a duplicate metadata definition "
                             "namespace with the same name of " + ns.name)));
      if (conn.Changes() == 0) return NamespaceNotFound(name);
      return OkStatus();
    });
  }

  Status DeleteNamespace(std::string_view name) override {
    return db_.Write([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kDeleteMetadefNamespace));
      RETURN_IF_ERROR(st.Bind(1, name).Run());
      if (conn.Changes() == 0) return NamespaceNotFound(name);
      return OkStatus();
    });
  }

  Status DeleteAll(std::string_view ns, MetadefElement kind) override {
    return db_.Write([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(int64_t id, NamespaceId(conn, ns));
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(DeleteSql(kind)));
      return st.Bind(1, id).BindNull(2).Run();
    });
  }

  Status DeleteElement(std::string_view ns, MetadefElement kind, std::string_view name) override {
    return db_.Write([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(int64_t id, NamespaceId(conn, ns));
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(DeleteSql(kind)));
      RETURN_IF_ERROR(st.Bind(1, id).Bind(2, name).Run());
      if (conn.Changes() == 0) return ElementNotFound(kind, ns, name);
      return OkStatus();
    });
  }

  // ---- properties ----
  StatusOr<std::vector<MetadefProperty>> ListProperties(std::string_view ns) override {
    return SelectIn<MetadefProperty>(ns, queries::kSelectMetadefProperties, std::nullopt,
                                     [](const Statement& st) {
                                       return MetadefProperty{st.Text(0), st.Text(1), st.Int(2),
                                                              st.Int(3)};
                                     });
  }
  StatusOr<MetadefProperty> GetProperty(std::string_view ns, std::string_view name) override {
    ASSIGN_OR_RETURN(auto all, SelectIn<MetadefProperty>(
                                   ns, queries::kSelectMetadefProperties, S(name),
                                   [](const Statement& st) {
                                     return MetadefProperty{st.Text(0), st.Text(1), st.Int(2),
                                                            st.Int(3)};
                                   }));
    if (all.empty()) return ElementNotFound(MetadefElement::kProperty, ns, name);
    return std::move(all.front());
  }
  Status CreateProperty(std::string_view ns, const MetadefProperty& p) override {
    return db_.Write([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(int64_t id, NamespaceId(conn, ns));
      return InsertProperty(conn, id, ns, p);
    });
  }
  Status UpdateProperty(std::string_view ns, std::string_view name,
                        const MetadefProperty& p) override {
    return UpdateIn(ns, MetadefElement::kProperty, name, p.name, queries::kUpdateMetadefProperty,
                    [&](Statement& st) { st.Bind(4, p.schema_json).Bind(5, p.updated_at); });
  }

  // ---- objects ----
  static MetadefObject ReadObject(const Statement& st) {
    MetadefObject o;
    o.name = st.Text(0);
    o.description = st.OptText(1);
    o.required_json = st.OptText(2).value_or("[]");
    o.properties_json = st.Text(3);
    o.created_at = st.Int(4);
    o.updated_at = st.Int(5);
    return o;
  }
  StatusOr<std::vector<MetadefObject>> ListObjects(std::string_view ns) override {
    return SelectIn<MetadefObject>(ns, queries::kSelectMetadefObjects, std::nullopt, ReadObject);
  }
  StatusOr<MetadefObject> GetObject(std::string_view ns, std::string_view name) override {
    ASSIGN_OR_RETURN(auto all,
                     SelectIn<MetadefObject>(ns, queries::kSelectMetadefObjects, S(name),
                                             ReadObject));
    if (all.empty()) return ElementNotFound(MetadefElement::kObject, ns, name);
    return std::move(all.front());
  }
  Status CreateObject(std::string_view ns, const MetadefObject& o) override {
    return db_.Write([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(int64_t id, NamespaceId(conn, ns));
      return InsertObject(conn, id, ns, o);
    });
  }
  Status UpdateObject(std::string_view ns, std::string_view name,
                      const MetadefObject& o) override {
    return UpdateIn(ns, MetadefElement::kObject, name, o.name, queries::kUpdateMetadefObject,
                    [&](Statement& st) {
                      st.Bind(4, o.description).Bind(5, o.required_json);
                      st.Bind(6, o.properties_json).Bind(7, o.updated_at);
                    });
  }

  // ---- tags ----
  static MetadefTag ReadTag(const Statement& st) {
    return MetadefTag{st.Text(0), st.Int(1), st.Int(2)};
  }
  StatusOr<std::vector<MetadefTag>> ListTags(std::string_view ns) override {
    return SelectIn<MetadefTag>(ns, queries::kSelectMetadefTags, std::nullopt, ReadTag);
  }
  StatusOr<MetadefTag> GetTag(std::string_view ns, std::string_view name) override {
    ASSIGN_OR_RETURN(auto all,
                     SelectIn<MetadefTag>(ns, queries::kSelectMetadefTags, S(name), ReadTag));
    if (all.empty()) return ElementNotFound(MetadefElement::kTag, ns, name);
    return std::move(all.front());
  }
  Status CreateTag(std::string_view ns, const MetadefTag& t) override {
    return CreateTags(ns, {t}, true);
  }
  Status CreateTags(std::string_view ns, const std::vector<MetadefTag>& tags,
                    bool append) override {
    return db_.Write([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(int64_t id, NamespaceId(conn, ns));
      if (!append) {
        ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kDeleteMetadefTags));
        RETURN_IF_ERROR(st.Bind(1, id).BindNull(2).Run());
      }
      for (const auto& t : tags) RETURN_IF_ERROR(InsertTag(conn, id, ns, t));
      return OkStatus();
    });
  }
  Status UpdateTag(std::string_view ns, std::string_view name, const MetadefTag& t) override {
    return UpdateIn(ns, MetadefElement::kTag, name, t.name, queries::kUpdateMetadefTag,
                    [&](Statement& st) { st.Bind(4, t.updated_at); });
  }

  // ---- resource types ----
  StatusOr<std::vector<MetadefResourceType>> ListResourceTypes() override {
    std::vector<MetadefResourceType> out;
    RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> Status {
      out.clear();
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kSelectMetadefResourceTypes));
      for (;;) {
        ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) return OkStatus();
        out.push_back({st.Text(0), st.Int(1) != 0, st.Int(2), st.Int(3)});
      }
    }));
    return out;
  }

  StatusOr<std::vector<MetadefAssociation>> ListAssociations(std::string_view ns) override {
    std::vector<MetadefAssociation> out;
    RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> Status {
      out.clear();
      ASSIGN_OR_RETURN(int64_t id, NamespaceId(conn, ns));
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kSelectMetadefAssociations));
      st.Bind(1, id);
      for (;;) {
        ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) return OkStatus();
        out.push_back({st.Text(0), st.OptText(1), st.OptText(2), st.Int(3), st.Int(4)});
      }
    }));
    return out;
  }

  Status CreateAssociation(std::string_view ns, const MetadefAssociation& a) override {
    return db_.Write([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(int64_t id, NamespaceId(conn, ns));
      return InsertAssociation(conn, id, ns, a, false);
    });
  }

  Status DeleteAssociation(std::string_view ns, std::string_view resource_type) override {
    return db_.Write([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(int64_t id, NamespaceId(conn, ns));
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kDeleteMetadefAssociation));
      RETURN_IF_ERROR(st.Bind(1, id).Bind(2, resource_type).Run());
      if (conn.Changes() == 0) {
        return NotFoundError("The metadata definition resource-type association of "
                             "resource-type=" + S(resource_type) + " to namespace=" + S(ns) +
                             ", was not found.");
      }
      return OkStatus();
    });
  }

 private:
  // Rows of `sql` (?1 = namespace id, ?2 = name or NULL for all) read by `read`.
  template <typename T, typename Read>
  StatusOr<std::vector<T>> SelectIn(std::string_view ns, const char* sql,
                                    const std::optional<std::string>& name, Read read) {
    std::vector<T> out;
    RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> Status {
      out.clear();
      ASSIGN_OR_RETURN(int64_t id, NamespaceId(conn, ns));
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(sql));
      st.Bind(1, id).Bind(2, name);
      for (;;) {
        ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) return OkStatus();
        out.push_back(read(st));
      }
    }));
    return out;
  }

  // Runs an element UPDATE (?1 = namespace id, ?2 = current name, ?3 = new name, the rest bound
  // by `bind`).
  template <typename Bind>
  Status UpdateIn(std::string_view ns, MetadefElement kind, std::string_view name,
                  const std::string& new_name, const char* sql, Bind bind) {
    return db_.Write([&](Connection& conn) -> Status {
      ASSIGN_OR_RETURN(int64_t id, NamespaceId(conn, ns));
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(sql));
      st.Bind(1, id).Bind(2, name).Bind(3, new_name);
      bind(st);
      Status dup = AlreadyExistsError("Invalid update. It would result in a duplicate metadata "
                                      "definition " + std::string(KindName(kind)) +
                                      " with the same name=" + new_name + " in namespace=" +
                                      S(ns) + ".");
      if (kind == MetadefElement::kTag) dup = ElementExists(kind, ns, new_name);
      RETURN_IF_ERROR(OnDuplicate(st.Run(), dup));
      if (conn.Changes() == 0) return ElementNotFound(kind, ns, name);
      return OkStatus();
    });
  }

  Database& db_;
};

}  // namespace

std::unique_ptr<MetadefRepository> NewMetadefRepository(Database& db) {
  return std::make_unique<SqlMetadefRepository>(db);
}

}  // namespace glimmer::db::sql
