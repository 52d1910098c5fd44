-- Metadata definitions (Glance's /v2/metadefs API, docs/design/api-surface.md §3.3). Names are
-- the keys the API uses; the integer ids only link the tables. Deleting a namespace deletes its
-- properties, objects, tags and resource-type associations (ON DELETE CASCADE); resource types
-- outlive their associations, as in Glance.
CREATE TABLE metadef_namespaces (
  id           INTEGER NOT NULL PRIMARY KEY,
  namespace    TEXT    NOT NULL UNIQUE,
  display_name TEXT,
  description  TEXT,
  visibility   TEXT,
  protected    INTEGER NOT NULL DEFAULT 0,
  owner        TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
);
CREATE INDEX metadef_namespaces_owner_idx ON metadef_namespaces (owner);
CREATE INDEX metadef_namespaces_created_idx ON metadef_namespaces (created_at, id);

CREATE TABLE metadef_resource_types (
  id         INTEGER NOT NULL PRIMARY KEY,
  name       TEXT    NOT NULL UNIQUE,
  protected  INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE metadef_namespace_resource_types (
  resource_type_id  INTEGER NOT NULL REFERENCES metadef_resource_types (id),
  namespace_id      INTEGER NOT NULL REFERENCES metadef_namespaces (id) ON DELETE CASCADE,
  prefix            TEXT,
  properties_target TEXT,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  PRIMARY KEY (resource_type_id, namespace_id)
);
CREATE INDEX metadef_ns_res_types_namespace_idx ON metadef_namespace_resource_types (namespace_id);

CREATE TABLE metadef_properties (
  id           INTEGER NOT NULL PRIMARY KEY,
  namespace_id INTEGER NOT NULL REFERENCES metadef_namespaces (id) ON DELETE CASCADE,
  name         TEXT    NOT NULL,
  json_schema  TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  UNIQUE (namespace_id, name)
);

CREATE TABLE metadef_objects (
  id           INTEGER NOT NULL PRIMARY KEY,
  namespace_id INTEGER NOT NULL REFERENCES metadef_namespaces (id) ON DELETE CASCADE,
  name         TEXT    NOT NULL,
  description  TEXT,
  required     TEXT,
  json_schema  TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  UNIQUE (namespace_id, name)
);

CREATE TABLE metadef_tags (
  id           INTEGER NOT NULL PRIMARY KEY,
  namespace_id INTEGER NOT NULL REFERENCES metadef_namespaces (id) ON DELETE CASCADE,
  name         TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  UNIQUE (namespace_id, name)
);
