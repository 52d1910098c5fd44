"""Keystone v3 groups on the embedded identity, through the real `openstack` CLI: a group's role
on a project reaches its members (their tokens, `openstack image list`), leaving the group takes
it away, and the calls Horizon's Groups panel makes answer as Keystone does."""
import json
import uuid

import pytest

from glimmer_testlib import run_cli

pytestmark = pytest.mark.glimmer_only


def _json(out):
    return json.loads(out)


@pytest.fixture
def team(admin_env):
    """A project, a user without any role of its own, and the user's openrc-style env."""
    sfx = uuid.uuid4().hex[:6]
    pw = "Pw-" + uuid.uuid4().hex[:10]
    project = _json(run_cli(admin_env, "openstack", "project", "create", "-f", "json",
                            f"team-{sfx}"))
    user = _json(run_cli(admin_env, "openstack", "user", "create", "-f", "json", "--password",
                         pw, f"gina-{sfx}"))
    env = {k: v for k, v in admin_env.items() if k != "OS_PROJECT_ID"}
    env.update(OS_USERNAME=user["name"], OS_PASSWORD=pw, OS_PROJECT_NAME=project["name"],
               OS_USER_DOMAIN_NAME="Default", OS_PROJECT_DOMAIN_NAME="Default")
    yield {"project": project, "user": user, "env": env, "sfx": sfx}
    run_cli(admin_env, "openstack", "user", "delete", user["id"])
    run_cli(admin_env, "openstack", "project", "delete", project["id"])


def test_a_groups_role_reaches_its_members_and_leaves_with_them(admin_env, team):
    project, user, env = team["project"], team["user"], team["env"]
    group_name = f"devs-{team['sfx']}"
    # No role of its own: no project-scoped token.
    out = run_cli(env, "openstack", "image", "list", ok=False)
    assert "401" in out or "authoriz" in out.lower(), out

    group = _json(run_cli(admin_env, "openstack", "group", "create", "-f", "json",
                          "--description", "the developers", group_name))
    assert group["name"] == group_name and group["domain_id"] == "default"
    assert group["description"] == "the developers"
    run_cli(admin_env, "openstack", "group", "add", "user", group_name, user["name"])
    out = run_cli(admin_env, "openstack", "group", "contains", "user", group_name, user["name"])
    assert out.strip() == f"{user['name']} in group {group_name}", out
    run_cli(admin_env, "openstack", "role", "add", "--group", group_name, "--project",
            project["name"], "member")

    # Through the group the user works in the project.
    rows = _json(run_cli(env, "openstack", "image", "list", "-f", "json"))
    assert isinstance(rows, list)
    token = _json(run_cli(env, "openstack", "token", "issue", "-f", "json"))
    assert token["project_id"] == project["id"]

    # Assignments: the group's row; expanded to the user with --effective.
    rows = _json(run_cli(admin_env, "openstack", "role", "assignment", "list", "-f", "json",
                         "--group", group_name, "--names"))
    assert [(r["Role"], r["Group"], r["Project"]) for r in rows] == [
        ("member", f"{group_name}@Default", f"{project['name']}@Default")]
    rows = _json(run_cli(admin_env, "openstack", "role", "assignment", "list", "-f", "json",
                         "--user", user["name"], "--effective", "--names"))
    assert sorted(r["Role"] for r in rows) == ["member", "reader"]
    assert {r["Group"] for r in rows} == {""}
    groups = _json(run_cli(admin_env, "openstack", "group", "list", "-f", "json",
                           "--user", user["name"]))
    assert [g["Name"] for g in groups] == [group_name]

    # Leaving the group takes the role away at once.
    run_cli(admin_env, "openstack", "group", "remove", "user", group_name, user["name"])
    # (The CLI says so on stderr and exits 0.)
    out = run_cli(admin_env, "/bin/sh", "-c",
                  f"/usr/bin/openstack group contains user {group_name} {user['name']} 2>&1")
    assert out.strip() == f"{user['name']} not in group {group_name}", out
    out = run_cli(env, "openstack", "image", "list", ok=False)
    assert "401" in out or "authoriz" in out.lower(), out

    run_cli(admin_env, "openstack", "group", "set", "--name", group_name + "-x", group_name)
    shown = _json(run_cli(admin_env, "openstack", "group", "show", "-f", "json",
                          group_name + "-x"))
    assert shown["id"] == group["id"]
    run_cli(admin_env, "openstack", "group", "delete", group_name + "-x")
    out = run_cli(admin_env, "openstack", "group", "show", group["id"], ok=False)
    assert "No group with a name or ID" in out or "404" in out, out


def test_horizon_group_calls_at_the_http_level(admin, member1, team):
    """What Horizon 23's Identity > Groups panel and Create Project send."""
    api = admin.api
    sfx = team["sfx"]
    r = api.post("/identity/v3/groups", json={"group": {"name": f"ops-{sfx}",
                                                        "description": "",
                                                        "domain_id": "default"}})
    assert r.status_code == 201, r.text
    group = r.json()["group"]
    assert group["links"]["self"].endswith("/identity/v3/groups/" + group["id"])
    r = api.post("/identity/v3/groups", json={"group": {"name": f"ops-{sfx}"}})
    assert r.status_code == 409 and r.json()["error"]["code"] == 409
    assert api.post("/identity/v3/groups", json={"group": {}}).status_code == 400

    listed = api.get("/identity/v3/groups", params={"domain_id": "default"}).json()["groups"]
    assert group["id"] in [g["id"] for g in listed]
    assert api.get("/identity/v3/groups", params={"name": f"ops-{sfx}"}).json()["groups"] == [group]

    user_id, project_id = team["user"]["id"], team["project"]["id"]
    assert api.put(f"/identity/v3/groups/{group['id']}/users/{user_id}").status_code == 204
    assert api.head(f"/identity/v3/groups/{group['id']}/users/{user_id}").status_code == 204
    assert api.get(f"/identity/v3/groups/{group['id']}/users/{user_id}").status_code == 405
    members = api.get(f"/identity/v3/groups/{group['id']}/users").json()["users"]
    assert [u["id"] for u in members] == [user_id]
    assert not any(k in u for u in members for k in ("password", "password_hash"))
    mine = api.get(f"/identity/v3/users/{user_id}/groups").json()["groups"]
    assert [g["id"] for g in mine] == [group["id"]]

    roles = {r["name"]: r["id"] for r in api.get("/identity/v3/roles").json()["roles"]}
    base = f"/identity/v3/projects/{project_id}/groups/{group['id']}/roles"
    assert api.get(base).json()["roles"] == []
    assert api.put(f"{base}/{roles['reader']}").status_code == 204
    assert api.head(f"{base}/{roles['reader']}").status_code == 204
    assert api.head(f"{base}/{roles['member']}").status_code == 404
    assert [r["name"] for r in api.get(base).json()["roles"]] == ["reader"]
    rows = api.get("/identity/v3/role_assignments",
                   params={"group.id": group["id"], "include_names": "1"}).json()
    assert rows["role_assignments"] == [{
        "role": {"id": roles["reader"], "name": "reader"},
        "group": {"id": group["id"], "name": f"ops-{sfx}",
                  "domain": {"id": "default", "name": "Default"}},
        "scope": {"project": {"id": project_id, "name": team["project"]["name"],
                              "domain": {"id": "default", "name": "Default"}}},
        "links": {"assignment": api.base_url + f"/identity/v3/projects/{project_id}/groups/"
                                               f"{group['id']}/roles/{roles['reader']}"}}]

    # Not for members: every management call is refused, a user's own groups are not.
    m = member1.api
    assert m.get("/identity/v3/groups").status_code == 403
    assert m.post("/identity/v3/groups", json={"group": {"name": "x"}}).status_code == 403
    assert m.put(f"/identity/v3/groups/{group['id']}/users/{member1.user_id}").status_code == 403
    assert m.get(f"/identity/v3/users/{member1.user_id}/groups").json()["groups"] == []
    assert m.get(f"/identity/v3/users/{user_id}/groups").status_code == 403

    r = api.patch(f"/identity/v3/groups/{group['id']}",
                  json={"group": {"description": "on call"}})
    assert r.status_code == 200 and r.json()["group"]["description"] == "on call"
    assert api.delete(f"{base}/{roles['reader']}").status_code == 204
    assert api.delete(f"{base}/{roles['reader']}").status_code == 404
    assert api.delete(f"/identity/v3/groups/{group['id']}/users/{user_id}").status_code == 204
    assert api.delete(f"/identity/v3/groups/{group['id']}").status_code == 204
    assert api.get(f"/identity/v3/groups/{group['id']}").status_code == 404
