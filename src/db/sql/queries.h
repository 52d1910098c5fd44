#pragma once
// Every SQL text of the repositories, in SQL that SQLite and PostgreSQL both accept (placeholders
// in SQLite's `?N` / `?` syntax; the PostgreSQL backend rewrites them). The few fragments that
// differ between the engines are in sql::Dialect. Statements are prepared once per connection
// and cached by text, so the constants double as cache keys. List queries are assembled from
// the fragments at the end of this file (see image_list_sql.cc).

namespace glimmer::db::sql::queries {

// ---- Images ----
// Column order of every image SELECT; image_repository.cc reads rows by these positions.
#define GLIMMER_IMAGE_COLUMNS                                                                    \
  "i.id, i.name, i.status, i.visibility, i.protected, i.os_hidden, i.checksum, i.os_hash_algo, " \
  "i.os_hash_value, i.owner, i.size, i.virtual_size, i.container_format, i.disk_format, "        \
  "i.min_disk, i.min_ram, i.created_at, i.updated_at"

inline constexpr char kImageColumns[] = GLIMMER_IMAGE_COLUMNS;

inline constexpr char kSelectImage[] =
    "SELECT " GLIMMER_IMAGE_COLUMNS " FROM images i WHERE i.id = ?1 AND i.deleted = 0";

#undef GLIMMER_IMAGE_COLUMNS

inline constexpr char kInsertImage[] =
    "INSERT INTO images (id, name, status, visibility, protected, os_hidden, checksum, "
    "os_hash_algo, os_hash_value, owner, size, virtual_size, container_format, disk_format, "
    "min_disk, min_ram, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)";

inline constexpr char kSelectImageProperty[] =
    "SELECT value FROM image_properties WHERE image_id = ?1 AND name = ?2";

// ?19: expected status, NULL for an unconditional update. (A parameter tested with IS NULL is
// cast, so that PostgreSQL knows its type before it sees the comparison.)
inline constexpr char kUpdateImage[] =
    "UPDATE images SET name = ?2, status = ?3, visibility = ?4, protected = ?5, os_hidden = ?6, "
    "checksum = ?7, os_hash_algo = ?8, os_hash_value = ?9, owner = ?10, size = ?11, "
    "virtual_size = ?12, container_format = ?13, disk_format = ?14, min_disk = ?15, "
    "min_ram = ?16, created_at = ?17, updated_at = ?18 "
    "WHERE id = ?1 AND deleted = 0 AND (CAST(?19 AS TEXT) IS NULL OR status = ?19)";

inline constexpr char kImageLiveExists[] =
    "SELECT 1 FROM images WHERE id = ?1 AND deleted = 0";

// Usage of one owner's images, leaving out one image (?2) whose new state the caller adds.
inline constexpr char kProjectUsage[] =
    "SELECT COUNT(*),"
    " CAST(COALESCE(SUM(CASE WHEN status IN ('active','deactivated','pending_delete')"
    " THEN COALESCE(size, 0) ELSE 0 END), 0) AS BIGINT),"
    " CAST(COALESCE(SUM(CASE WHEN status IN ('saving','uploading','importing') THEN 1 ELSE 0 END),"
    " 0) AS BIGINT),"
    " CAST(COALESCE(SUM(CASE WHEN status IN ('uploading','importing') THEN COALESCE(size, 0)"
    " ELSE 0 END), 0) AS BIGINT)"
    " FROM images WHERE owner = ?1 AND deleted = 0 AND id <> ?2";

inline constexpr char kSoftDeleteImage[] =
    "UPDATE images SET deleted = 1, deleted_at = ?2, updated_at = ?2, status = 'deleted' "
    "WHERE id = ?1 AND deleted = 0";

inline constexpr char kSelectTags[] =
    "SELECT value FROM image_tags WHERE image_id = ?1 ORDER BY value";
inline constexpr char kSelectProperties[] =
    "SELECT name, value FROM image_properties WHERE image_id = ?1 ORDER BY name";
inline constexpr char kSelectLocations[] =
    "SELECT store_id, url, metadata_json FROM image_locations WHERE image_id = ?1 "
    "ORDER BY position";

inline constexpr char kInsertTag[] =
    "INSERT INTO image_tags (image_id, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING";
inline constexpr char kInsertProperty[] =
    "INSERT INTO image_properties (image_id, name, value) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (image_id, name) DO UPDATE SET value = excluded.value";
inline constexpr char kInsertLocation[] =
    "INSERT INTO image_locations (image_id, position, store_id, url, metadata_json) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
inline constexpr char kDeleteTags[] = "DELETE FROM image_tags WHERE image_id = ?1";
inline constexpr char kDeleteProperties[] = "DELETE FROM image_properties WHERE image_id = ?1";
inline constexpr char kDeleteLocations[] = "DELETE FROM image_locations WHERE image_id = ?1";
// RemoveLocation: the live image's status; its number of locations and of those at url ?2; the
// removal of that one location; the new updated_at (?2).
inline constexpr char kSelectLiveImageStatus[] =
    "SELECT status FROM images WHERE id = ?1 AND deleted = 0";
inline constexpr char kCountLocations[] =
    "SELECT COUNT(*), COALESCE(SUM(CASE WHEN url = ?2 THEN 1 ELSE 0 END), 0) "
    "FROM image_locations WHERE image_id = ?1";
inline constexpr char kDeleteLocation[] =
    "DELETE FROM image_locations WHERE image_id = ?1 AND url = ?2";
inline constexpr char kTouchImage[] = "UPDATE images SET updated_at = ?2 WHERE id = ?1";

// Batch loads for a page of images: the prefix is followed by "?, ?, ...)" and the suffix.
inline constexpr char kBatchTagsPrefix[] =
    "SELECT image_id, value FROM image_tags WHERE image_id IN (";
inline constexpr char kBatchTagsSuffix[] = " ORDER BY image_id, value";
inline constexpr char kBatchPropertiesPrefix[] =
    "SELECT image_id, name, value FROM image_properties WHERE image_id IN (";
inline constexpr char kBatchPropertiesSuffix[] = " ORDER BY image_id, name";
inline constexpr char kBatchLocationsPrefix[] =
    "SELECT image_id, store_id, url, metadata_json FROM image_locations WHERE image_id IN (";
inline constexpr char kBatchLocationsSuffix[] = " ORDER BY image_id, position";

// ListByStatus: prefix + "?, ?, ...)" + suffix.
inline constexpr char kImagesByStatusSuffix[] = " ORDER BY i.created_at, i.id";
inline constexpr char kImagesByStatusWhere[] = " FROM images i WHERE i.deleted = 0 AND i.status IN (";

// ---- Members ----
// One row when the image is live; member columns NULL when ?2 is not a member.
inline constexpr char kSelectMember[] =
    "SELECT m.member, m.status, m.created_at, m.updated_at FROM images i "
    "LEFT JOIN image_members m ON m.image_id = i.id AND m.member = ?2 "
    "WHERE i.id = ?1 AND i.deleted = 0";
inline constexpr char kListMembers[] =
    "SELECT member, status, created_at, updated_at FROM image_members WHERE image_id = ?1 "
    "ORDER BY created_at, member";
inline constexpr char kInsertMember[] =
    "INSERT INTO image_members (image_id, member, status, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
inline constexpr char kUpdateMember[] =
    "UPDATE image_members SET status = ?3, updated_at = ?4 WHERE image_id = ?1 AND member = ?2";
inline constexpr char kDeleteMember[] =
    "DELETE FROM image_members WHERE image_id = ?1 AND member = ?2";

// ---- Image list fragments (assembled by image_list_sql.cc; `?` placeholders bound in order) --
inline constexpr char kListSelect[] = "SELECT ";
inline constexpr char kListFrom[] = " FROM images i WHERE i.deleted = 0 AND i.status != 'killed'";
inline constexpr char kListHidden[] = " AND i.os_hidden = ?";
// Scope for a non-admin caller with a project: own, public, community, or shared with a member
// row for the caller (optionally with a given member status). The opening fragment is the
// dialect's (Dialect::scope_project_open), then these:
inline constexpr char kScopeMemberStatus[] = " AND m.status = ?";
inline constexpr char kScopeProjectClose[] = ")))";
// Scope without a project, and community-image hiding: Dialect::scope_no_project,
// hide_others_community, hide_all_community.
inline constexpr char kVisibilityEquals[] = " AND i.visibility = ?";
// Shared images with a given member, whatever its status (Images v1's shared-images).
inline constexpr char kSharedWithMember[] =
    " AND i.visibility = 'shared' AND EXISTS (SELECT 1 FROM image_members mo "
    "WHERE mo.image_id = i.id AND mo.member = ?)";
// Tag/property conditions come in two shapes: a per-row probe (cheap while walking the sort
// index when many images match) and a driving IN list (when few images match; rows are then
// fetched by id and sorted). image_list_sql.cc picks one with the bounded counts below.
inline constexpr char kHasTagProbe[] =
    " AND EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id AND t.value = ?)";
inline constexpr char kHasTagDriver[] =
    " AND i.id IN (SELECT image_id FROM image_tags WHERE value = ?)";
inline constexpr char kHasPropertyProbe[] =
    " AND EXISTS (SELECT 1 FROM image_properties p WHERE p.image_id = i.id AND p.name = ? "
    "AND p.value = ?)";
inline constexpr char kHasPropertyDriver[] =
    " AND i.id IN (SELECT image_id FROM image_properties WHERE name = ? AND value = ?)";
inline constexpr char kCountTagBounded[] =
    "SELECT count(*) FROM (SELECT 1 FROM image_tags WHERE value = ?1 LIMIT ?2) AS matches";
inline constexpr char kCountPropertyBounded[] =
    "SELECT count(*) FROM (SELECT 1 FROM image_properties WHERE name = ?1 AND value = ?2 "
    "LIMIT ?3) AS matches";
inline constexpr char kMarkerById[] = " AND i.id = ?";
inline constexpr char kOrderBy[] = " ORDER BY ";
inline constexpr char kLimit[] = " LIMIT ?";

// Column expressions for filters (raw) and sorting/marker arithmetic (NULL as '' or 0, as
// Glance's paginate_query does). Indexed by domain::ImageColumn.
struct ColumnSql {
  const char* raw;
  const char* sort;
};
inline constexpr ColumnSql kColumnSql[] = {
    {"i.id", "i.id"},                                                  // kId
    {"i.name", "COALESCE(i.name, '')"},                                // kName
    {"i.status", "i.status"},                                          // kStatus
    {"i.visibility", "i.visibility"},                                  // kVisibility
    {"i.container_format", "COALESCE(i.container_format, '')"},        // kContainerFormat
    {"i.disk_format", "COALESCE(i.disk_format, '')"},                  // kDiskFormat
    {"i.owner", "COALESCE(i.owner, '')"},                              // kOwner
    {"i.checksum", "COALESCE(i.checksum, '')"},                        // kChecksum
    {"i.os_hash_value", "COALESCE(i.os_hash_value, '')"},              // kOsHashValue
    {"i.size", "COALESCE(i.size, 0)"},                                 // kSize
    {"i.virtual_size", "COALESCE(i.virtual_size, 0)"},                 // kVirtualSize
    {"i.min_disk", "i.min_disk"},                                      // kMinDisk
    {"i.min_ram", "i.min_ram"},                                        // kMinRam
    {"i.protected", "i.protected"},                                    // kProtected
    {"i.created_at", "i.created_at"},                                  // kCreatedAt
    {"i.updated_at", "i.updated_at"},                                  // kUpdatedAt
};

// ---- Identity ----
inline constexpr char kInsertDomain[] =
    "INSERT INTO identity_domains (id, name, description, enabled) VALUES (?1, ?2, ?3, ?4)";
inline constexpr char kSelectDomainById[] =
    "SELECT id, name, description, enabled FROM identity_domains WHERE id = ?1";
inline constexpr char kSelectDomainByName[] =
    "SELECT id, name, description, enabled FROM identity_domains WHERE name = ?1";
inline constexpr char kListDomains[] =
    "SELECT id, name, description, enabled FROM identity_domains ORDER BY name, id";

#define GLIMMER_PROJECT_COLUMNS "id, name, domain_id, description, enabled, is_domain"
inline constexpr char kInsertProject[] =
    "INSERT INTO projects (" GLIMMER_PROJECT_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
inline constexpr char kSelectProjectById[] =
    "SELECT " GLIMMER_PROJECT_COLUMNS " FROM projects WHERE id = ?1";
inline constexpr char kSelectProjectByName[] =
    "SELECT " GLIMMER_PROJECT_COLUMNS " FROM projects WHERE domain_id = ?1 AND name = ?2";
inline constexpr char kListProjects[] =
    "SELECT " GLIMMER_PROJECT_COLUMNS " FROM projects ORDER BY name, id";
#undef GLIMMER_PROJECT_COLUMNS
inline constexpr char kUpdateProject[] =
    "UPDATE projects SET name = ?2, domain_id = ?3, description = ?4, enabled = ?5, "
    "is_domain = ?6 WHERE id = ?1";
inline constexpr char kDeleteProject[] = "DELETE FROM projects WHERE id = ?1";

#define GLIMMER_USER_COLUMNS \
  "id, name, domain_id, default_project_id, email, description, password_hash, enabled"
inline constexpr char kInsertUser[] =
    "INSERT INTO users (" GLIMMER_USER_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
inline constexpr char kSelectUserById[] =
    "SELECT " GLIMMER_USER_COLUMNS " FROM users WHERE id = ?1";
inline constexpr char kSelectUserByName[] =
    "SELECT " GLIMMER_USER_COLUMNS " FROM users WHERE domain_id = ?1 AND name = ?2";
inline constexpr char kListUsers[] = "SELECT " GLIMMER_USER_COLUMNS " FROM users ORDER BY name, id";
#undef GLIMMER_USER_COLUMNS
inline constexpr char kUpdateUser[] =
    "UPDATE users SET name = ?2, domain_id = ?3, default_project_id = ?4, email = ?5, "
    "description = ?6, password_hash = ?7, enabled = ?8 WHERE id = ?1";
inline constexpr char kDeleteUser[] = "DELETE FROM users WHERE id = ?1";

inline constexpr char kInsertRole[] =
    "INSERT INTO roles (id, name, domain_id, description) VALUES (?1, ?2, ?3, ?4)";
inline constexpr char kSelectRoleById[] =
    "SELECT id, name, domain_id, description FROM roles WHERE id = ?1";
inline constexpr char kSelectRoleByName[] =
    "SELECT id, name, domain_id, description FROM roles WHERE name = ?1";
inline constexpr char kListRoles[] =
    "SELECT id, name, domain_id, description FROM roles ORDER BY name, id";
inline constexpr char kDeleteRole[] = "DELETE FROM roles WHERE id = ?1";

inline constexpr char kInsertAssignment[] =
    "INSERT INTO role_assignments (project_id, user_id, role_id) VALUES (?1, ?2, ?3) "
    "ON CONFLICT DO NOTHING";
inline constexpr char kDeleteAssignment[] =
    "DELETE FROM role_assignments WHERE project_id = ?1 AND user_id = ?2 AND role_id = ?3";
// Empty parameters match everything.
inline constexpr char kListAssignments[] =
    "SELECT project_id, user_id, role_id FROM role_assignments "
    "WHERE (?1 = '' OR project_id = ?1) AND (?2 = '' OR user_id = ?2) "
    "AND (?3 = '' OR role_id = ?3) ORDER BY project_id, user_id, role_id";

#define GLIMMER_GROUP_COLUMNS "id, name, domain_id, description"
inline constexpr char kInsertGroup[] =
    "INSERT INTO identity_groups (" GLIMMER_GROUP_COLUMNS ") VALUES (?1, ?2, ?3, ?4)";
inline constexpr char kSelectGroupById[] =
    "SELECT " GLIMMER_GROUP_COLUMNS " FROM identity_groups WHERE id = ?1";
inline constexpr char kSelectGroupByName[] =
    "SELECT " GLIMMER_GROUP_COLUMNS " FROM identity_groups WHERE domain_id = ?1 AND name = ?2";
inline constexpr char kListGroups[] =
    "SELECT " GLIMMER_GROUP_COLUMNS " FROM identity_groups ORDER BY name, id";
#undef GLIMMER_GROUP_COLUMNS
inline constexpr char kUpdateGroup[] =
    "UPDATE identity_groups SET name = ?2, domain_id = ?3, description = ?4 WHERE id = ?1";
inline constexpr char kDeleteGroup[] = "DELETE FROM identity_groups WHERE id = ?1";

inline constexpr char kInsertGroupMember[] =
    "INSERT INTO group_members (group_id, user_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING";
inline constexpr char kDeleteGroupMember[] =
    "DELETE FROM group_members WHERE group_id = ?1 AND user_id = ?2";
// Empty parameters match everything.
inline constexpr char kListGroupMembers[] =
    "SELECT group_id, user_id FROM group_members "
    "WHERE (?1 = '' OR group_id = ?1) AND (?2 = '' OR user_id = ?2) ORDER BY group_id, user_id";

inline constexpr char kInsertGroupAssignment[] =
    "INSERT INTO group_role_assignments (project_id, group_id, role_id) VALUES (?1, ?2, ?3) "
    "ON CONFLICT DO NOTHING";
inline constexpr char kDeleteGroupAssignment[] =
    "DELETE FROM group_role_assignments WHERE project_id = ?1 AND group_id = ?2 AND role_id = ?3";
// Empty parameters match everything.
inline constexpr char kListGroupAssignments[] =
    "SELECT project_id, group_id, role_id FROM group_role_assignments "
    "WHERE (?1 = '' OR project_id = ?1) AND (?2 = '' OR group_id = ?2) "
    "AND (?3 = '' OR role_id = ?3) ORDER BY project_id, group_id, role_id";

#define GLIMMER_APP_CRED_COLUMNS \
  "id, user_id, project_id, name, description, secret_hash, expires_at, unrestricted, created_at"
inline constexpr char kInsertAppCred[] =
    "INSERT INTO application_credentials (" GLIMMER_APP_CRED_COLUMNS ") "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
inline constexpr char kInsertAppCredRole[] =
    "INSERT INTO application_credential_roles (application_credential_id, role_id) "
    "VALUES (?1, ?2) ON CONFLICT DO NOTHING";
inline constexpr char kSelectAppCredById[] =
    "SELECT " GLIMMER_APP_CRED_COLUMNS " FROM application_credentials WHERE id = ?1";
inline constexpr char kSelectAppCredByName[] =
    "SELECT " GLIMMER_APP_CRED_COLUMNS " FROM application_credentials "
    "WHERE user_id = ?1 AND name = ?2";
inline constexpr char kListAppCreds[] =
    "SELECT " GLIMMER_APP_CRED_COLUMNS " FROM application_credentials WHERE user_id = ?1 "
    "ORDER BY name, id";
#undef GLIMMER_APP_CRED_COLUMNS
inline constexpr char kListAppCredRoles[] =
    "SELECT role_id FROM application_credential_roles WHERE application_credential_id = ?1 "
    "ORDER BY role_id";
inline constexpr char kDeleteAppCred[] = "DELETE FROM application_credentials WHERE id = ?1";

inline constexpr char kInsertToken[] =
    "INSERT INTO tokens (digest, user_id, project_id, audit_id, issued_at, expires_at, revoked, "
    "application_credential_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
inline constexpr char kSelectToken[] =
    "SELECT digest, user_id, project_id, audit_id, issued_at, expires_at, revoked, "
    "application_credential_id FROM tokens WHERE digest = ?1";
inline constexpr char kRevokeToken[] = "UPDATE tokens SET revoked = 1 WHERE digest = ?1";
inline constexpr char kRevokeUserTokens[] =
    "UPDATE tokens SET revoked = 1 WHERE user_id = ?1 AND revoked = 0";
inline constexpr char kPurgeExpiredTokens[] = "DELETE FROM tokens WHERE expires_at <= ?1";

// ---- Tasks ----
#define GLIMMER_TASK_COLUMNS                                                                 \
  "id, type, status, owner, input, result, message, image_id, request_id, user_id, "         \
  "created_at, updated_at, expires_at, claimed_by, lease_expires_at, attempts, affinity"
inline constexpr char kTaskColumns[] = GLIMMER_TASK_COLUMNS;
inline constexpr char kInsertTask[] =
    "INSERT INTO tasks (" GLIMMER_TASK_COLUMNS ") "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";
inline constexpr char kSelectTask[] = "SELECT " GLIMMER_TASK_COLUMNS " FROM tasks WHERE id = ?1";
inline constexpr char kSelectTasksForImage[] =
    "SELECT " GLIMMER_TASK_COLUMNS " FROM tasks WHERE image_id = ?1 ORDER BY created_at, id";
// The oldest pending task, or processing task whose lease expired before ?1.
inline constexpr char kSelectRunnableTask[] =
    "SELECT id FROM tasks WHERE (status = 'pending' AND (affinity IS NULL OR affinity = ?2)) OR "
    "(status = 'processing' AND lease_expires_at < ?1) ORDER BY created_at, id LIMIT 1";
inline constexpr char kClaimTask[] =
    "UPDATE tasks SET status = 'processing', claimed_by = ?2, lease_expires_at = ?3, "
    "attempts = attempts + 1, updated_at = ?4 WHERE id = ?1";
inline constexpr char kHeartbeatTask[] =
    "UPDATE tasks SET lease_expires_at = ?3, updated_at = ?4, message = COALESCE(?5, message) "
    "WHERE id = ?1 AND claimed_by = ?2 AND status = 'processing'";
inline constexpr char kFinishTask[] =
    "UPDATE tasks SET status = ?3, result = ?4, message = ?5, updated_at = ?6, expires_at = ?7, "
    "claimed_by = NULL, lease_expires_at = NULL "
    "WHERE id = ?1 AND claimed_by = ?2 AND status = 'processing'";
inline constexpr char kFailTask[] =
    "UPDATE tasks SET status = 'failure', message = ?2, updated_at = ?3, expires_at = ?4, "
    "claimed_by = NULL, lease_expires_at = NULL "
    "WHERE id = ?1 AND status IN ('pending', 'processing')";
inline constexpr char kReleaseNodeTasks[] =
    "UPDATE tasks SET lease_expires_at = ?2 - 1 WHERE claimed_by = ?1 AND status = 'processing'";
inline constexpr char kNodeAlive[] =
    "INSERT INTO nodes (id, heartbeat_at) VALUES (?1, ?2) "
    "ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at";
// The oldest pending task pinned to a node other than ?2 that is silent since ?1.
inline constexpr char kSelectOrphanTask[] =
    "SELECT id FROM tasks WHERE status = 'pending' AND affinity IS NOT NULL AND affinity <> ?2 "
    "AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = tasks.affinity AND n.heartbeat_at >= ?1) "
    "ORDER BY created_at, id LIMIT 1";
inline constexpr char kSelectSilentNodes[] =
    "SELECT id FROM nodes WHERE heartbeat_at < ?1 ORDER BY id";
inline constexpr char kPurgeExpiredTasks[] =
    "DELETE FROM tasks WHERE expires_at IS NOT NULL AND expires_at < ?1";
#undef GLIMMER_TASK_COLUMNS

// ---- Dashboard sessions ----
inline constexpr char kInsertDashboardSession[] =
    "INSERT INTO dashboard_sessions (id_digest, sealed_token, nonce, csrf_digest, user_id, "
    "project_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
inline constexpr char kSelectDashboardSession[] =
    "SELECT id_digest, sealed_token, nonce, csrf_digest, user_id, project_id, created_at, "
    "expires_at FROM dashboard_sessions WHERE id_digest = ?1";
inline constexpr char kDeleteDashboardSession[] =
    "DELETE FROM dashboard_sessions WHERE id_digest = ?1";
inline constexpr char kPurgeExpiredDashboardSessions[] =
    "DELETE FROM dashboard_sessions WHERE expires_at <= ?1";

// ---- Metadata definitions (metadef_repository.cc) ----
// Namespaces are addressed by name; ?1 is always the namespace name where one is needed.
#define GLIMMER_NS_COLUMNS \
  "n.namespace, n.display_name, n.description, n.visibility, n.protected, n.owner, " \
  "n.created_at, n.updated_at"
inline constexpr char kMetadefNamespaceColumns[] = GLIMMER_NS_COLUMNS;
inline constexpr char kSelectMetadefNamespace[] =
    "SELECT " GLIMMER_NS_COLUMNS " FROM metadef_namespaces n WHERE n.namespace = ?1";
#undef GLIMMER_NS_COLUMNS
inline constexpr char kSelectMetadefNamespaceId[] =
    "SELECT id FROM metadef_namespaces WHERE namespace = ?1";
inline constexpr char kInsertMetadefNamespace[] =
    "INSERT INTO metadef_namespaces (namespace, display_name, description, visibility, "
    "protected, owner, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
inline constexpr char kUpdateMetadefNamespace[] =
    "UPDATE metadef_namespaces SET namespace = ?2, display_name = ?3, description = ?4, "
    "visibility = ?5, protected = ?6, owner = ?7, updated_at = ?8 WHERE namespace = ?1";
inline constexpr char kDeleteMetadefNamespace[] =
    "DELETE FROM metadef_namespaces WHERE namespace = ?1";

// Properties, objects and tags: ?1 = namespace id.
inline constexpr char kSelectMetadefProperties[] =
    "SELECT name, json_schema, created_at, updated_at FROM metadef_properties "
    "WHERE namespace_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR name = ?2) ORDER BY name";
inline constexpr char kInsertMetadefProperty[] =
    "INSERT INTO metadef_properties (namespace_id, name, json_schema, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
inline constexpr char kUpdateMetadefProperty[] =
    "UPDATE metadef_properties SET name = ?3, json_schema = ?4, updated_at = ?5 "
    "WHERE namespace_id = ?1 AND name = ?2";
inline constexpr char kSelectMetadefObjects[] =
    "SELECT name, description, required, json_schema, created_at, updated_at "
    "FROM metadef_objects WHERE namespace_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR name = ?2) "
    "ORDER BY name";
inline constexpr char kInsertMetadefObject[] =
    "INSERT INTO metadef_objects (namespace_id, name, description, required, json_schema, "
    "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
inline constexpr char kUpdateMetadefObject[] =
    "UPDATE metadef_objects SET name = ?3, description = ?4, required = ?5, json_schema = ?6, "
    "updated_at = ?7 WHERE namespace_id = ?1 AND name = ?2";
inline constexpr char kSelectMetadefTags[] =
    "SELECT name, created_at, updated_at FROM metadef_tags "
    "WHERE namespace_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR name = ?2) ORDER BY name";
inline constexpr char kInsertMetadefTag[] =
    "INSERT INTO metadef_tags (namespace_id, name, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4)";
inline constexpr char kUpdateMetadefTag[] =
    "UPDATE metadef_tags SET name = ?3, updated_at = ?4 WHERE namespace_id = ?1 AND name = ?2";
inline constexpr char kDeleteMetadefProperties[] =
    "DELETE FROM metadef_properties WHERE namespace_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR "
    "name = ?2)";
inline constexpr char kDeleteMetadefObjects[] =
    "DELETE FROM metadef_objects WHERE namespace_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR "
    "name = ?2)";
inline constexpr char kDeleteMetadefTags[] =
    "DELETE FROM metadef_tags WHERE namespace_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR "
    "name = ?2)";

// Resource types and associations.
inline constexpr char kSelectMetadefResourceTypes[] =
    "SELECT name, protected, created_at, updated_at FROM metadef_resource_types ORDER BY name";
inline constexpr char kSelectMetadefResourceTypeId[] =
    "SELECT id FROM metadef_resource_types WHERE name = ?1";
inline constexpr char kInsertMetadefResourceType[] =
    "INSERT INTO metadef_resource_types (name, protected, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4)";
inline constexpr char kSelectMetadefAssociations[] =
    "SELECT r.name, a.prefix, a.properties_target, a.created_at, a.updated_at "
    "FROM metadef_namespace_resource_types a JOIN metadef_resource_types r "
    "ON r.id = a.resource_type_id WHERE a.namespace_id = ?1 ORDER BY r.name";
inline constexpr char kInsertMetadefAssociation[] =
    "INSERT INTO metadef_namespace_resource_types (resource_type_id, namespace_id, prefix, "
    "properties_target, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
inline constexpr char kDeleteMetadefAssociation[] =
    "DELETE FROM metadef_namespace_resource_types WHERE namespace_id = ?1 AND "
    "resource_type_id = (SELECT id FROM metadef_resource_types WHERE name = ?2)";

}  // namespace glimmer::db::sql::queries
