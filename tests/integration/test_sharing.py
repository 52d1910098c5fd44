"""Image sharing between two projects with the real CLIs, as cloud providers document it for their
users (glance-api.md §5, §14 "Sharing"): the source project (member1) shares an image with the
target project (member2), which accepts it, later rejects it, and the source finally removes it.

Each step runs the exact command a user types; the HTTP side of the members API is checked in
test_images_api.py and test_authz_matrix.py."""
import json
import uuid

import pytest

from conftest import run_cli

DATA = b"shared image bytes " * 100
GLANCE = ("glance", "--os-image-api-version", "2")


def _image_list_ids(env, *extra):
    out = run_cli(env, "openstack", "image", "list", "-f", "json", *extra)
    return {row["ID"] for row in json.loads(out)}


def _glance_list_ids(env, *extra):
    """Ids in the table printed by `glance image-list` (| ID | Name |)."""
    out = run_cli(env, *GLANCE, "image-list", *extra)
    ids = set()
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and len(cells[0]) == 36 and cells[0].count("-") == 4:
            ids.add(cells[0])
    return ids


def _table_value(out, field):
    """`| Field | Value |` tables printed by openstack/glance: the value of one field."""
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] == field:
            return cells[1]
    raise AssertionError(f"no field {field!r} in:\n{out}")


def _member_rows(out):
    """Rows of the `| Image ID | Member ID | Status |` table printed by the member commands."""
    rows = []
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and len(cells[0]) == 36 and cells[0].count("-") == 4:
            rows.append(tuple(cells[:3]))
    return rows


@pytest.fixture
def target_env(member2):
    """The target project's credentials as a Horizon-downloaded openrc has them (with
    OS_PROJECT_ID, which `openstack configuration show` reports as auth.project_id)."""
    env = dict(member2.env)
    env["OS_PROJECT_ID"] = member2.project_id
    return env


@pytest.fixture
def source_image(member1, uname, tmp_path):
    """A private image with data owned by the source project, made shareable the way users do
    it: `openstack image set --shared`."""
    name = uname("src")
    img = member1.api.create_image(name=name, disk_format="raw", container_format="bare",
                                   visibility="private")
    member1.api.upload(img["id"], DATA)
    run_cli(member1.env, "openstack", "image", "set", "--shared", name)
    assert member1.api.image(img["id"])["visibility"] == "shared"
    return name, img["id"]


def test_share_accept_reject_remove_with_the_clis(member1, member2, target_env, source_image):
    src, dst = member1.env, target_env
    name, image_id = source_image

    # 1. The source looks up the image id, the target its project id.
    assert run_cli(src, "openstack", "image", "show", "-c", "id", "-f", "value", name).strip() \
        == image_id
    project = run_cli(dst, "openstack", "configuration", "show", "-c", "auth.project_id",
                      "-f", "value").strip()
    assert project == member2.project_id

    # Before sharing the target cannot see the image at all.
    assert image_id not in _glance_list_ids(dst, "--member-status", "all",
                                            "--visibility", "shared")
    out = run_cli(dst, "openstack", "image", "show", image_id, ok=False)
    assert "No Image found" in out or "404" in out or "Could not find" in out, out

    # 2. The source shares it: the new member is pending.
    out = run_cli(src, "openstack", "image", "add", "project", image_id, project)
    assert _table_value(out, "status") == "pending"
    assert _table_value(out, "member_id") == project
    assert _table_value(out, "image_id") == image_id
    rows = _member_rows(run_cli(src, "openstack", "image", "member", "list", image_id))
    assert rows == [(image_id, project, "pending")]
    # Sharing twice is refused (409) and leaves one member.
    run_cli(src, "openstack", "image", "add", "project", image_id, project, ok=False)

    # 3. The target sees the pending share, but not yet in its plain image list.
    assert image_id in _glance_list_ids(dst, "--member-status", "pending",
                                        "--visibility", "shared")
    assert image_id not in _image_list_ids(dst)
    # A pending member may already read the image (Glance: access regardless of status).
    shown = json.loads(run_cli(dst, "openstack", "image", "show", "-f", "json", image_id))
    assert shown["id"] == image_id and shown["owner"] == member1.project_id

    # 4. The target accepts: the image is now in its plain list, and downloadable.
    out = run_cli(dst, *GLANCE, "member-update", image_id, project, "accepted")
    assert _member_rows(out) == [(image_id, project, "accepted")]
    assert image_id in _image_list_ids(dst)
    assert image_id not in _glance_list_ids(dst, "--member-status", "pending",
                                            "--visibility", "shared")
    assert member2.api.get(f"/v2/images/{image_id}/file").content == DATA
    rows = _member_rows(run_cli(src, "openstack", "image", "member", "list", image_id))
    assert rows == [(image_id, project, "accepted")]
    # The member cannot change the image nor remove itself.
    run_cli(dst, "openstack", "image", "set", "--name", "hijacked", image_id, ok=False)
    run_cli(dst, "openstack", "image", "remove", "project", image_id, project, ok=False)
    assert member1.api.image(image_id)["name"] == name

    # 5. The target rejects it: gone from its list, still readable (as in Glance).
    out = run_cli(dst, *GLANCE, "member-update", image_id, project, "rejected")
    assert _member_rows(out) == [(image_id, project, "rejected")]
    assert image_id not in _image_list_ids(dst)
    assert image_id in _glance_list_ids(dst, "--member-status", "rejected",
                                        "--visibility", "shared")
    assert member2.api.get(f"/v2/images/{image_id}").status_code == 200
    rows = _member_rows(run_cli(src, "openstack", "image", "member", "list", image_id))
    assert rows == [(image_id, project, "rejected")]

    # 6. The source removes the member: the target loses all access.
    run_cli(src, "openstack", "image", "remove", "project", image_id, project)
    assert _member_rows(run_cli(src, "openstack", "image", "member", "list", image_id)) == []
    assert image_id not in _glance_list_ids(dst, "--member-status", "all",
                                            "--visibility", "shared")
    assert member2.api.get(f"/v2/images/{image_id}").status_code == 404
    assert member2.api.get(f"/v2/images/{image_id}/file").status_code == 404
    # The owner's image is untouched.
    img = member1.api.image(image_id)
    assert (img["status"], img["visibility"], img["size"]) == ("active", "shared", len(DATA))


def test_accept_with_openstack_image_set(member1, member2, source_image):
    """The OSC spelling of the same workflow: `openstack image set --accept/--reject/--pending`
    (the member's own project), and `openstack image list --member-status`."""
    name, image_id = source_image
    dst = member2.env
    run_cli(member1.env, "openstack", "image", "add", "project", name, member2.project_id)
    assert image_id in _image_list_ids(dst, "--shared", "--member-status", "pending")
    run_cli(dst, "openstack", "image", "set", "--accept", image_id)
    assert image_id in _image_list_ids(dst)
    run_cli(dst, "openstack", "image", "set", "--reject", image_id)
    assert image_id not in _image_list_ids(dst)
    assert image_id in _image_list_ids(dst, "--shared", "--member-status", "rejected")
    r = member1.api.get(f"/v2/images/{image_id}/members/{member2.project_id}")
    assert r.status_code == 200 and r.json()["status"] == "rejected"


def test_only_the_target_may_answer_a_share(member1, member2, source_image):
    """The source cannot accept (nor reject) on the target's behalf (policy modify_member)."""
    _, image_id = source_image
    project = member2.project_id
    run_cli(member1.env, "openstack", "image", "add", "project", image_id, project)
    out = run_cli(member1.env, *GLANCE, "member-update", image_id, project, "accepted", ok=False)
    assert "403" in out or "Forbidden" in out, out
    r = member1.api.get(f"/v2/images/{image_id}/members/{project}")
    assert r.status_code == 200 and r.json()["status"] == "pending"
    assert image_id not in _image_list_ids(member2.env)


def test_only_shared_images_can_be_shared_with_the_cli(member1, member2, uname):
    name = uname("priv")
    img = member1.api.create_image(name=name, disk_format="raw", container_format="bare",
                                   visibility="private")
    out = run_cli(member1.env, "openstack", "image", "add", "project", name, member2.project_id,
                  ok=False)
    assert "403" in out or "Forbidden" in out or "shared" in out.lower(), out
    r = member1.api.get(f"/v2/images/{img['id']}")
    assert r.json()["visibility"] == "private"
    assert member2.api.get(f"/v2/images/{img['id']}").status_code == 404


def test_sharing_with_a_project_that_does_not_exist_yet(member1, source_image):
    """Glance does not check member ids against Keystone: any project id string is accepted."""
    _, image_id = source_image
    ghost = uuid.uuid4().hex
    r = member1.api.post(f"/v2/images/{image_id}/members", json={"member": ghost})
    assert r.status_code == 200 and r.json()["status"] == "pending"
    rows = _member_rows(run_cli(member1.env, "openstack", "image", "member", "list", image_id))
    assert rows == [(image_id, ghost, "pending")]
