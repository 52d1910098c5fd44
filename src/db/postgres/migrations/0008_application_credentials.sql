-- Application credentials (Keystone v3) (PostgreSQL edition of the SQLite migration of the same
-- number).
CREATE TABLE application_credentials (
  id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  project_id   TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name         TEXT COLLATE "C" NOT NULL,
  description  TEXT NOT NULL DEFAULT '',
  secret_hash  TEXT NOT NULL,
  expires_at   BIGINT,
  unrestricted BIGINT NOT NULL DEFAULT 0,
  created_at   BIGINT NOT NULL,
  UNIQUE (user_id, name)
);

CREATE TABLE application_credential_roles (
  application_credential_id TEXT COLLATE "C" NOT NULL
      REFERENCES application_credentials (id) ON DELETE CASCADE,
  role_id TEXT COLLATE "C" NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
  PRIMARY KEY (application_credential_id, role_id)
);

ALTER TABLE tokens ADD COLUMN application_credential_id TEXT COLLATE "C"
    REFERENCES application_credentials (id) ON DELETE CASCADE;
CREATE INDEX tokens_application_credential_idx ON tokens (application_credential_id);
