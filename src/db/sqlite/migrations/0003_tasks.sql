-- Asynchronous tasks (Glance /v2/tasks) and the runner's claim/lease columns.
-- Timestamps are integer microseconds since the epoch.
CREATE TABLE tasks (
  id               TEXT    NOT NULL PRIMARY KEY,
  type             TEXT    NOT NULL,
  status           TEXT    NOT NULL,
  owner            TEXT    NOT NULL,
  input            TEXT    NOT NULL,
  result           TEXT,
  message          TEXT    NOT NULL DEFAULT '',
  image_id         TEXT,
  request_id       TEXT,
  user_id          TEXT,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  expires_at       INTEGER,
  claimed_by       TEXT,
  lease_expires_at INTEGER,
  attempts         INTEGER NOT NULL DEFAULT 0,
  affinity         TEXT
);
CREATE INDEX tasks_runnable_idx ON tasks (status, created_at);
CREATE INDEX tasks_image_idx ON tasks (image_id, created_at);
CREATE INDEX tasks_owner_idx ON tasks (owner, created_at);
CREATE INDEX tasks_expires_idx ON tasks (expires_at);
