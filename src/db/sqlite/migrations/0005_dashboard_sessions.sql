-- Dashboard sessions (docs/design/dashboard.md §3.2). The browser holds a random secret in its
-- session cookie; only its SHA-256 is the key here, and the Keystone token is stored sealed
-- (AES-256-GCM under a key derived from the secret), so nothing in this table is usable without
-- the cookie. A row expires with its token; expired rows are purged with expired tokens.
CREATE TABLE dashboard_sessions (
  id_digest    TEXT    NOT NULL PRIMARY KEY,
  sealed_token TEXT    NOT NULL,
  nonce        TEXT    NOT NULL,
  csrf_digest  TEXT    NOT NULL,
  user_id      TEXT    NOT NULL,
  project_id   TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX dashboard_sessions_expires_idx ON dashboard_sessions (expires_at);
