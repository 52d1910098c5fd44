"""Operator policy file ([oslo_policy] policy_file, oslo.policy YAML rules) and property
protections ([DEFAULT] property_protection_file) on the real binary, over real HTTP."""
import uuid

import pytest

from conftest import make_principal

pytestmark = pytest.mark.glimmer_only

POLICY = """# Operator overrides of Glance's defaults
"publicize_image": "role:member"
"download_image": "!"
"""

PROTECTIONS = """[^x_secret_.*]
create = admin
read = admin
update = admin
delete = admin

[.*]
create = @
read = @
update = @
delete = @
"""


@pytest.fixture(scope="module")
def policed(glimmer_factory, tmp_path_factory):
    d = tmp_path_factory.mktemp("policy")
    (d / "policy.yaml").write_text(POLICY)
    (d / "protections.conf").write_text(PROTECTIONS)
    (d / "glimmer.conf").write_text(
        f"[DEFAULT]\nproperty_protection_file = {d / 'protections.conf'}\n"
        f"property_protection_rule_format = roles\n"
        f"[oslo_policy]\npolicy_file = {d / 'policy.yaml'}\n")
    srv = glimmer_factory("policed", extra_args=["--config", str(d / "glimmer.conf")])
    admin = make_principal(srv.admin_env())
    # A project with a plain member, created through the identity API as admin.
    ident = admin.api.base_url + "/identity/v3"
    h = {"X-Auth-Token": admin.token}
    sfx = uuid.uuid4().hex[:6]
    project = admin.api.post(f"{ident}/projects", headers=h,
                             json={"project": {"name": f"pp-{sfx}", "domain_id": "default"}})
    assert project.status_code == 201, project.text
    pid = project.json()["project"]["id"]
    user = admin.api.post(f"{ident}/users", headers=h, json={"user": {
        "name": f"pu-{sfx}", "password": "pw-" + sfx, "domain_id": "default"}})
    assert user.status_code == 201, user.text
    uid = user.json()["user"]["id"]
    roles = admin.api.get(f"{ident}/roles", headers=h, params={"name": "member"}).json()["roles"]
    r = admin.api.put(f"{ident}/projects/{pid}/users/{uid}/roles/{roles[0]['id']}", headers=h)
    assert r.status_code == 204, r.text
    env = dict(srv.admin_env(), OS_USERNAME=f"pu-{sfx}", OS_PASSWORD="pw-" + sfx,
               OS_PROJECT_NAME=f"pp-{sfx}", OS_PROJECT_ID=pid)
    return admin, make_principal(env)


def test_operator_rules_override_defaults(policed):
    admin, member = policed
    # publicize_image: "role:member" lets a member make an image public (default: admin only).
    img = member.api.create_image(name="pub", visibility="public", disk_format="raw",
                                  container_format="bare")
    assert img["visibility"] == "public"
    member.api.upload(img["id"], b"0123456789")
    # download_image: "!" forbids downloads for everybody, admin included.
    assert member.api.get(f"/v2/images/{img['id']}/file").status_code == 403
    assert admin.api.get(f"/v2/images/{img['id']}/file").status_code == 403
    # Rules not overridden keep Glance's defaults.
    assert member.api.get(f"/v2/images/{img['id']}").status_code == 200


def test_property_protections(policed):
    admin, member = policed
    # A member may not create a protected property; an admin may.
    r = member.api.post("/v2/images", json={"name": "p1", "x_secret_key": "v"})
    assert r.status_code == 403, r.text
    img = member.api.create_image(name="p2", plain="ok")
    patch = [{"op": "add", "path": "/x_secret_key", "value": "hidden"}]
    h = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
    assert member.api.patch(f"/v2/images/{img['id']}", json=patch, headers=h).status_code == 403
    assert admin.api.patch(f"/v2/images/{img['id']}", json=patch, headers=h).status_code == 200
    # The member does not see it; the admin does.
    assert "x_secret_key" not in member.api.image(img["id"])
    assert admin.api.image(img["id"])["x_secret_key"] == "hidden"
    listed = member.api.get("/v2/images", params={"id": img["id"]}).json()["images"]
    assert listed and "x_secret_key" not in listed[0]
    # For the member the property does not exist: removing it is a conflict, not a leak.
    rm = [{"op": "remove", "path": "/x_secret_key"}]
    assert member.api.patch(f"/v2/images/{img['id']}", json=rm, headers=h).status_code == 409
    assert admin.api.image(img["id"])["x_secret_key"] == "hidden"
    # Unprotected properties behave as usual.
    ok = [{"op": "replace", "path": "/plain", "value": "changed"}]
    assert member.api.patch(f"/v2/images/{img['id']}", json=ok, headers=h).status_code == 200
