-- Image metadata (Glance Images API v2), PostgreSQL edition of the SQLite migration of the same
-- number. Timestamps are integer microseconds since the epoch; booleans are 0/1 integers, as in
-- SQLite, so both engines return the same rows. Text sorts bytewise (COLLATE "C"), as SQLite's
-- BINARY collation does, so that paging markers mean the same thing on both.
-- Images are soft-deleted (deleted = 1) so that their ids stay reserved forever.
CREATE TABLE images (
  id               TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  name             TEXT COLLATE "C",
  status           TEXT COLLATE "C" NOT NULL,
  visibility       TEXT COLLATE "C" NOT NULL,
  protected        BIGINT NOT NULL DEFAULT 0,
  os_hidden        BIGINT NOT NULL DEFAULT 0,
  checksum         TEXT COLLATE "C",
  os_hash_algo     TEXT COLLATE "C",
  os_hash_value    TEXT COLLATE "C",
  owner            TEXT COLLATE "C",
  size             BIGINT,
  virtual_size     BIGINT,
  container_format TEXT COLLATE "C",
  disk_format      TEXT COLLATE "C",
  min_disk         BIGINT NOT NULL DEFAULT 0,
  min_ram          BIGINT NOT NULL DEFAULT 0,
  created_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL,
  deleted          BIGINT NOT NULL DEFAULT 0,
  deleted_at       BIGINT
);

-- Listing: keyset pagination on the default and common sort keys, and filter columns.
CREATE INDEX images_created_idx ON images (created_at, id);
CREATE INDEX images_updated_idx ON images (updated_at, id);
CREATE INDEX images_name_sort_idx ON images ((COALESCE(name, '')), created_at, id);
CREATE INDEX images_name_idx ON images (name);
CREATE INDEX images_owner_idx ON images (owner, created_at, id);
CREATE INDEX images_visibility_idx ON images (visibility, created_at, id);
CREATE INDEX images_size_sort_idx ON images ((COALESCE(size, 0)), created_at, id);
CREATE INDEX images_status_idx ON images (status, created_at, id);
CREATE INDEX images_checksum_idx ON images (checksum);
CREATE INDEX images_os_hash_value_idx ON images (os_hash_value);

CREATE TABLE image_tags (
  image_id TEXT COLLATE "C" NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  value    TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (image_id, value)
);
CREATE INDEX image_tags_value_idx ON image_tags (value, image_id);

CREATE TABLE image_properties (
  image_id TEXT COLLATE "C" NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  name     TEXT COLLATE "C" NOT NULL,
  value    TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (image_id, name)
);
CREATE INDEX image_properties_name_value_idx ON image_properties (name, value, image_id);

-- One row per store holding a copy; position keeps the client-visible order.
CREATE TABLE image_locations (
  image_id      TEXT COLLATE "C" NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  position      BIGINT NOT NULL,
  store_id      TEXT COLLATE "C" NOT NULL,
  url           TEXT COLLATE "C" NOT NULL,
  metadata_json TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (image_id, position)
);

CREATE TABLE image_members (
  image_id   TEXT COLLATE "C" NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  member     TEXT COLLATE "C" NOT NULL,
  status     TEXT COLLATE "C" NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (image_id, member)
);
CREATE INDEX image_members_member_idx ON image_members (member, status, image_id);
