-- Embedded Keystone-compatible identity: domains, projects, users, roles, assignments, tokens.
CREATE TABLE identity_domains (
  id          TEXT    NOT NULL PRIMARY KEY,
  name        TEXT    NOT NULL UNIQUE,
  description TEXT    NOT NULL DEFAULT '',
  enabled     INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE projects (
  id          TEXT    NOT NULL PRIMARY KEY,
  name        TEXT    NOT NULL,
  domain_id   TEXT    NOT NULL REFERENCES identity_domains (id),
  description TEXT    NOT NULL DEFAULT '',
  enabled     INTEGER NOT NULL DEFAULT 1,
  is_domain   INTEGER NOT NULL DEFAULT 0,
  UNIQUE (domain_id, name)
);

CREATE TABLE users (
  id                 TEXT    NOT NULL PRIMARY KEY,
  name               TEXT    NOT NULL,
  domain_id          TEXT    NOT NULL REFERENCES identity_domains (id),
  default_project_id TEXT,
  email              TEXT,
  description        TEXT    NOT NULL DEFAULT '',
  password_hash      TEXT    NOT NULL DEFAULT '',
  enabled            INTEGER NOT NULL DEFAULT 1,
  UNIQUE (domain_id, name)
);

CREATE TABLE roles (
  id          TEXT NOT NULL PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  domain_id   TEXT,
  description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE role_assignments (
  project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role_id    TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
  PRIMARY KEY (project_id, user_id, role_id)
) WITHOUT ROWID;
CREATE INDEX role_assignments_user_idx ON role_assignments (user_id, project_id);
CREATE INDEX role_assignments_role_idx ON role_assignments (role_id);

-- Only the SHA-256 digest of a bearer token is stored. project_id NULL = unscoped.
CREATE TABLE tokens (
  digest     TEXT    NOT NULL PRIMARY KEY,
  user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  project_id TEXT    REFERENCES projects (id) ON DELETE CASCADE,
  audit_id   TEXT    NOT NULL DEFAULT '',
  issued_at  INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX tokens_expires_idx ON tokens (expires_at);
CREATE INDEX tokens_user_idx ON tokens (user_id);
CREATE INDEX tokens_project_idx ON tokens (project_id);
