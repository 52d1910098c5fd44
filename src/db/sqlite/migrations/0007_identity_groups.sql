-- Groups of users (Keystone v3 groups) and the roles groups hold on projects. A user's roles on
-- a project are its own assignments plus those of its groups.
CREATE TABLE identity_groups (
  id          TEXT NOT NULL PRIMARY KEY,
  name        TEXT NOT NULL,
  domain_id   TEXT NOT NULL REFERENCES identity_domains (id),
  description TEXT NOT NULL DEFAULT '',
  UNIQUE (domain_id, name)
);

CREATE TABLE group_members (
  group_id TEXT NOT NULL REFERENCES identity_groups (id) ON DELETE CASCADE,
  user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX group_members_user_idx ON group_members (user_id);

CREATE TABLE group_role_assignments (
  project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  group_id   TEXT NOT NULL REFERENCES identity_groups (id) ON DELETE CASCADE,
  role_id    TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
  PRIMARY KEY (project_id, group_id, role_id)
) WITHOUT ROWID;
CREATE INDEX group_role_assignments_group_idx ON group_role_assignments (group_id, project_id);
CREATE INDEX group_role_assignments_role_idx ON group_role_assignments (role_id);
