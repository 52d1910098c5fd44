-- Dashboard sessions (PostgreSQL edition of the SQLite migration of the same number).
CREATE TABLE dashboard_sessions (
  id_digest    TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  sealed_token TEXT NOT NULL,
  nonce        TEXT NOT NULL,
  csrf_digest  TEXT NOT NULL,
  user_id      TEXT COLLATE "C" NOT NULL,
  project_id   TEXT COLLATE "C" NOT NULL,
  created_at   BIGINT NOT NULL,
  expires_at   BIGINT NOT NULL
);
CREATE INDEX dashboard_sessions_expires_idx ON dashboard_sessions (expires_at);
