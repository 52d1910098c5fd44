-- Asynchronous tasks (Glance /v2/tasks) and the runner's claim/lease columns (PostgreSQL
-- edition of the SQLite migration of the same number). Timestamps are integer microseconds.
CREATE TABLE tasks (
  id               TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  type             TEXT COLLATE "C" NOT NULL,
  status           TEXT COLLATE "C" NOT NULL,
  owner            TEXT COLLATE "C" NOT NULL,
  input            TEXT NOT NULL,
  result           TEXT,
  message          TEXT NOT NULL DEFAULT '',
  image_id         TEXT COLLATE "C",
  request_id       TEXT,
  user_id          TEXT,
  created_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL,
  expires_at       BIGINT,
  claimed_by       TEXT COLLATE "C",
  lease_expires_at BIGINT,
  attempts         BIGINT NOT NULL DEFAULT 0,
  affinity         TEXT COLLATE "C"
);
CREATE INDEX tasks_runnable_idx ON tasks (status, created_at);
CREATE INDEX tasks_image_idx ON tasks (image_id, created_at);
CREATE INDEX tasks_owner_idx ON tasks (owner, created_at);
CREATE INDEX tasks_expires_idx ON tasks (expires_at);
