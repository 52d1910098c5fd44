"""Images API v1 with the real `glance` client (python-glanceclient 4.1, v1 mode): the guides'
commands verbatim, each result cross-checked through v2 with the `openstack` client.

CLI calls cost 1-2 s each, so one workflow carries most checks; state is also read over HTTP."""
import hashlib
import json
import os
import re

import pty
import shlex
import subprocess

import pytest

import glimmer_testlib as lib
from glimmer_testlib import run_cli

V1 = ("--os-image-api-version", "1")


def glance(env, *args, ok=True):
    """/usr/bin/glance with a terminal as stdin, as the guides run it: glanceclient reads image
    data from stdin whenever stdin is not a terminal (and then refuses `image-update` of an
    active image), and fails outright with stdin closed."""
    argv = ["/usr/bin/glance", *map(str, args)]
    leader, follower = pty.openpty()
    try:
        p = subprocess.run(argv, env=lib.cli_env(env), capture_output=True, text=True,
                           timeout=lib.CLI_TIMEOUT, stdin=follower)
    finally:
        os.close(leader)
        os.close(follower)
    shown = " ".join(shlex.quote(a) for a in argv)
    if ok:
        assert p.returncode == 0, f"`{shown}` exited {p.returncode}\n{p.stdout}\n{p.stderr}"
        return p.stdout
    assert p.returncode != 0, f"`{shown}` unexpectedly succeeded\n{p.stdout}"
    return p.stdout + p.stderr


def table(out):
    """glance's `| Property | Value |` table as a dict (property rows keep their quotes)."""
    rows = {}
    for line in out.splitlines():
        m = re.match(r"^\|\s*(.+?)\s*\|\s?(.*?)\s*\|$", line)
        if m and m.group(1) not in ("Property", "ID"):
            rows[m.group(1)] = m.group(2)
    return rows


def os_json(principal, *args, ok=True):
    out = run_cli(principal.env, "openstack", *args, "-f", "json", ok=ok)
    return json.loads(out) if ok else out


@pytest.fixture(scope="module")
def disk(tmp_path_factory):
    p = tmp_path_factory.mktemp("v1cli") / "raw-image.raw"
    p.write_bytes(os.urandom((1 << 20) + 777))
    return p


def test_guides_workflow(member1, member2, disk, tmp_path, uname):
    name = uname("guide")
    # The guides' image-create, verbatim.
    out = glance(member1.env, *V1, "image-create", "--disk-format", "raw", "--container-format",
                  "bare", "--file", disk, "--name", name, "--is-public=False", "--progress")
    created = table(out)
    md5 = hashlib.md5(disk.read_bytes()).hexdigest()
    assert created["status"] == "active", out
    assert created["is_public"] == "False"
    assert created["checksum"] == md5
    assert created["size"] == str(disk.stat().st_size)
    assert created["owner"] == member1.project_id
    image_id = created["id"]
    # v2 agrees: is_public=False is Glance's 'shared'.
    v2 = os_json(member1, "image", "show", image_id)
    assert (v2["status"], v2["visibility"], v2["checksum"], v2["size"], v2["name"]) == \
        ("active", "shared", md5, disk.stat().st_size, name)

    # image-list --owner (client-side owner filter over is_public=None pages).
    out = glance(member1.env, *V1, "image-list", "--owner", member1.project_id)
    assert image_id in out and name in out
    v2_ids = [i["ID"] for i in os_json(member1, "image", "list", "--project", member1.project_id)]
    assert image_id in v2_ids

    # image-update (HEAD to resolve, PUT with purge-props false), then image-show.
    out = glance(member1.env, *V1, "image-update", image_id, "--name", name + "-2",
                  "--min-disk", "1", "--property", "os_distro=debian")
    assert table(out)["name"] == name + "-2"
    shown = table(glance(member1.env, *V1, "image-show", image_id))
    assert shown["name"] == name + "-2"
    assert shown["min_disk"] == "1"
    assert shown["Property 'os_distro'"] == "debian"
    v2 = os_json(member1, "image", "show", image_id)
    assert v2["name"] == name + "-2" and v2["min_disk"] == 1
    assert v2["properties"]["os_distro"] == "debian"

    # member-create: the member is accepted at once (v1 had no member status).
    glance(member1.env, *V1, "member-create", image_id, member2.project_id)
    members = os_json(member1, "image", "member", "list", image_id)
    assert [(m["Member ID"], m["Status"]) for m in members] == [(member2.project_id, "accepted")]
    out = glance(member1.env, *V1, "member-list", "--image-id", image_id)
    assert member2.project_id in out
    out = glance(member2.env, *V1, "member-list", "--tenant-id", member2.project_id)
    assert image_id in out
    assert image_id in [i["ID"] for i in os_json(member2, "image", "list")]

    # image-download by the member: glanceclient checks the md5 against x-image-meta-checksum.
    target = tmp_path / "down.raw"
    glance(member2.env, *V1, "image-download", image_id, "--file", target)
    assert hashlib.md5(target.read_bytes()).hexdigest() == md5

    # image-delete, then v2 no longer knows the image.
    glance(member1.env, *V1, "image-delete", image_id)
    out = os_json(member1, "image", "show", image_id, ok=False)
    assert "No Image found" in out or "404" in out or "Could not find" in out, out


def test_member_create_makes_a_private_image_shared(member1, member2, disk, uname):
    name = uname("priv")
    img = os_json(member1, "image", "create", "--disk-format", "raw", "--container-format",
                  "bare", "--file", disk, "--private", name)
    glance(member1.env, *V1, "member-create", img["id"], member2.project_id)
    v2 = os_json(member1, "image", "show", img["id"])
    assert v2["visibility"] == "shared"
    shown = table(glance(member2.env, *V1, "image-show", img["id"]))
    assert shown["name"] == name and shown["is_public"] == "False"
    glance(member1.env, *V1, "image-delete", img["id"])


def test_admin_creates_a_public_image(admin, member2, uname):
    name = uname("pub")
    out = glance(admin.env, *V1, "image-create", "--disk-format", "raw", "--container-format",
                  "bare", "--name", name, "--is-public=True", "--property", "note=from v1")
    created = table(out)
    assert created["is_public"] == "True" and created["status"] == "queued", out
    v2 = os_json(member2, "image", "show", created["id"])
    assert v2["visibility"] == "public"
    assert v2["properties"]["note"] == "from v1"
    glance(admin.env, *V1, "image-delete", created["id"])
