-- Image metadata (Glance Images API v2). Timestamps are integer microseconds since the epoch.
-- Images are soft-deleted (deleted = 1) so that their ids stay reserved forever.
CREATE TABLE images (
  id               TEXT    NOT NULL PRIMARY KEY,
  name             TEXT,
  status           TEXT    NOT NULL,
  visibility       TEXT    NOT NULL,
  protected        INTEGER NOT NULL DEFAULT 0,
  os_hidden        INTEGER NOT NULL DEFAULT 0,
  checksum         TEXT,
  os_hash_algo     TEXT,
  os_hash_value    TEXT,
  owner            TEXT,
  size             INTEGER,
  virtual_size     INTEGER,
  container_format TEXT,
  disk_format      TEXT,
  min_disk         INTEGER NOT NULL DEFAULT 0,
  min_ram          INTEGER NOT NULL DEFAULT 0,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  deleted          INTEGER NOT NULL DEFAULT 0,
  deleted_at       INTEGER
);

-- Listing: keyset pagination on the default and common sort keys, and filter columns.
CREATE INDEX images_created_idx ON images (created_at, id);
CREATE INDEX images_updated_idx ON images (updated_at, id);
CREATE INDEX images_name_sort_idx ON images (COALESCE(name, ''), created_at, id);
CREATE INDEX images_name_idx ON images (name);
CREATE INDEX images_owner_idx ON images (owner, created_at, id);
CREATE INDEX images_visibility_idx ON images (visibility, created_at, id);
CREATE INDEX images_size_sort_idx ON images (COALESCE(size, 0), created_at, id);
CREATE INDEX images_status_idx ON images (status, created_at, id);
CREATE INDEX images_checksum_idx ON images (checksum);
CREATE INDEX images_os_hash_value_idx ON images (os_hash_value);

CREATE TABLE image_tags (
  image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  value    TEXT NOT NULL,
  PRIMARY KEY (image_id, value)
) WITHOUT ROWID;
CREATE INDEX image_tags_value_idx ON image_tags (value, image_id);

CREATE TABLE image_properties (
  image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  name     TEXT NOT NULL,
  value    TEXT NOT NULL,
  PRIMARY KEY (image_id, name)
) WITHOUT ROWID;
CREATE INDEX image_properties_name_value_idx ON image_properties (name, value, image_id);

-- One row per store holding a copy; position keeps the client-visible order.
CREATE TABLE image_locations (
  image_id      TEXT    NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  position      INTEGER NOT NULL,
  store_id      TEXT    NOT NULL,
  url           TEXT    NOT NULL,
  metadata_json TEXT    NOT NULL DEFAULT '{}',
  PRIMARY KEY (image_id, position)
) WITHOUT ROWID;

CREATE TABLE image_members (
  image_id   TEXT    NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  member     TEXT    NOT NULL,
  status     TEXT    NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (image_id, member)
) WITHOUT ROWID;
CREATE INDEX image_members_member_idx ON image_members (member, status, image_id);
