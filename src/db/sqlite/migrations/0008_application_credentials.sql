-- Application credentials (Keystone v3): a user's named secret for one project, holding a subset
-- of the user's roles there. Only a hash of the secret is stored. A token issued for one
-- remembers it, and goes with it.
CREATE TABLE application_credentials (
  id           TEXT    NOT NULL PRIMARY KEY,
  user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  project_id   TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name         TEXT    NOT NULL,
  description  TEXT    NOT NULL DEFAULT '',
  secret_hash  TEXT    NOT NULL,
  expires_at   INTEGER,  -- NULL: never
  unrestricted INTEGER NOT NULL DEFAULT 0,
  created_at   INTEGER NOT NULL,
  UNIQUE (user_id, name)
);

CREATE TABLE application_credential_roles (
  application_credential_id TEXT NOT NULL
      REFERENCES application_credentials (id) ON DELETE CASCADE,
  role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
  PRIMARY KEY (application_credential_id, role_id)
) WITHOUT ROWID;

ALTER TABLE tokens ADD COLUMN application_credential_id TEXT
    REFERENCES application_credentials (id) ON DELETE CASCADE;
CREATE INDEX tokens_application_credential_idx ON tokens (application_credential_id);
