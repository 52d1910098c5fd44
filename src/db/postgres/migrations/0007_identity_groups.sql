-- Groups of users (Keystone v3 groups) and the roles groups hold on projects (PostgreSQL
-- edition of the SQLite migration of the same number).
CREATE TABLE identity_groups (
  id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  name        TEXT COLLATE "C" NOT NULL,
  domain_id   TEXT COLLATE "C" NOT NULL REFERENCES identity_domains (id),
  description TEXT NOT NULL DEFAULT '',
  UNIQUE (domain_id, name)
);

CREATE TABLE group_members (
  group_id TEXT COLLATE "C" NOT NULL REFERENCES identity_groups (id) ON DELETE CASCADE,
  user_id  TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user_idx ON group_members (user_id);

CREATE TABLE group_role_assignments (
  project_id TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  group_id   TEXT COLLATE "C" NOT NULL REFERENCES identity_groups (id) ON DELETE CASCADE,
  role_id    TEXT COLLATE "C" NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
  PRIMARY KEY (project_id, group_id, role_id)
);
CREATE INDEX group_role_assignments_group_idx ON group_role_assignments (group_id, project_id);
CREATE INDEX group_role_assignments_role_idx ON group_role_assignments (role_id);
