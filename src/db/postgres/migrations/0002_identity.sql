-- Embedded Keystone-compatible identity: domains, projects, users, roles, assignments, tokens
-- (PostgreSQL edition of the SQLite migration of the same number).
CREATE TABLE identity_domains (
  id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  name        TEXT COLLATE "C" NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  enabled     BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE projects (
  id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  name        TEXT COLLATE "C" NOT NULL,
  domain_id   TEXT COLLATE "C" NOT NULL REFERENCES identity_domains (id),
  description TEXT NOT NULL DEFAULT '',
  enabled     BIGINT NOT NULL DEFAULT 1,
  is_domain   BIGINT NOT NULL DEFAULT 0,
  UNIQUE (domain_id, name)
);

CREATE TABLE users (
  id                 TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  name               TEXT COLLATE "C" NOT NULL,
  domain_id          TEXT COLLATE "C" NOT NULL REFERENCES identity_domains (id),
  default_project_id TEXT COLLATE "C",
  email              TEXT,
  description        TEXT NOT NULL DEFAULT '',
  password_hash      TEXT NOT NULL DEFAULT '',
  enabled            BIGINT NOT NULL DEFAULT 1,
  UNIQUE (domain_id, name)
);

CREATE TABLE roles (
  id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  name        TEXT COLLATE "C" NOT NULL UNIQUE,
  domain_id   TEXT COLLATE "C",
  description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE role_assignments (
  project_id TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role_id    TEXT COLLATE "C" NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
  PRIMARY KEY (project_id, user_id, role_id)
);
CREATE INDEX role_assignments_user_idx ON role_assignments (user_id, project_id);
CREATE INDEX role_assignments_role_idx ON role_assignments (role_id);

-- Only the SHA-256 digest of a bearer token is stored. project_id NULL = unscoped.
CREATE TABLE tokens (
  digest     TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  project_id TEXT COLLATE "C" REFERENCES projects (id) ON DELETE CASCADE,
  audit_id   TEXT NOT NULL DEFAULT '',
  issued_at  BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX tokens_expires_idx ON tokens (expires_at);
CREATE INDEX tokens_user_idx ON tokens (user_id);
CREATE INDEX tokens_project_idx ON tokens (project_id);
