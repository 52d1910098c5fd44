"""The issue's CLI checks, with the unmodified `openstack` and `glance` CLIs and openstacksdk.

Each CLI call costs 1-2 s of Python start-up on this machine, so every call here checks as much
as it can and the state is verified over raw HTTP instead of more CLI calls."""
import hashlib
import json
import os
import pathlib
import re
import subprocess
import uuid

import openstack
import pytest

import glimmer_testlib as lib
from conftest import EXTERNAL
from glimmer_testlib import run_cli

skip_identity_external = pytest.mark.skipif(
    EXTERNAL and not os.environ.get("GLIMMER_TEST_EXTERNAL_IDENTITY"),
    reason="identity management test (set GLIMMER_TEST_EXTERNAL_IDENTITY=1 to run it externally)")


def sha(path, algo):
    h = hashlib.new(algo)
    h.update(pathlib.Path(path).read_bytes())
    return h.hexdigest()


def coreutils_sum(tool, path):
    return subprocess.run([f"/usr/bin/{tool}", str(path)], capture_output=True, text=True,
                          check=True).stdout.split()[0]


def glance_table(out):
    """Parses glance's `| Property | Value |` table into a dict."""
    rows = {}
    for line in out.splitlines():
        m = re.match(r"^\|\s*(\S+)\s*\|\s?(.*?)\s*\|$", line)
        if m and m.group(1) != "Property":
            rows[m.group(1)] = m.group(2)
    return rows


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    raw = d / "disk.raw"
    raw.write_bytes(os.urandom((1 << 20) + 4321))
    qcow = d / "disk.qcow2"
    subprocess.run(["/usr/bin/qemu-img", "create", "-q", "-f", "qcow2", str(qcow), "64M"],
                   check=True)
    return {"dir": d, "raw": raw, "qcow2": qcow}


# ----------------------------------------------------------------------------- openrc / config
@pytest.mark.glimmer_only
def test_bootstrap_writes_openrc_admin(server, admin):
    rc = server.openrc()
    for key in ("OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME", "OS_PROJECT_ID",
                "OS_USER_DOMAIN_NAME", "OS_PROJECT_DOMAIN_NAME", "OS_IDENTITY_API_VERSION",
                "OS_IMAGE_API_VERSION", "OS_REGION_NAME", "OS_INTERFACE"):
        assert rc.get(key), key
    assert rc["OS_AUTH_URL"].rstrip("/") == f"{server.base_url}/identity/v3"
    assert (rc["OS_USERNAME"], rc["OS_PROJECT_NAME"]) == ("admin", "admin")
    assert rc["OS_PASSWORD"] == server.admin_password
    assert rc["OS_PROJECT_ID"] == admin.project_id
    assert {"admin", "member", "reader"} <= set(admin.roles)
    assert admin.base_url == server.base_url  # catalog image endpoint points at Glimmer itself


def test_configuration_show_project_id_from_sourced_openrc(server, admin_env, admin, tmp_path):
    """`. openrc-admin && openstack configuration show -c auth.project_id -f value`, then a CLI
    call that really authenticates from the same sourced file."""
    if EXTERNAL:  # the reference openrc has no OS_PROJECT_ID; add it
        rc = tmp_path / "openrc"
        rc.write_text("".join(f"export {k}={v}\n" for k, v in admin_env.items())
                      + f"export OS_PROJECT_ID={admin.project_id}\n")
    else:
        rc = server.data_dir / "openrc-admin"
    script = (f". {rc} && openstack configuration show -c auth.project_id -f value && "
              "openstack token issue -f value -c project_id")
    out = run_cli({}, "/bin/bash", "-c", script).split()
    assert out == [admin.project_id, admin.project_id]


# ----------------------------------------------------------------------------- images via CLIs
@pytest.fixture(scope="module")
def osc_image(member1, files):
    name = f"osc-{uuid.uuid4().hex[:8]}"
    out = run_cli(member1.env, "openstack", "image", "create", "--disk-format", "raw",
                  "--container-format", "bare", "--file", files["raw"], "--private", name,
                  "-f", "json")
    return json.loads(out)


@pytest.fixture(scope="module")
def glance_image(member1, files):
    name = f"gl-{uuid.uuid4().hex[:8]}"
    out = run_cli(member1.env, "glance", "image-create", "--disk-format", "qcow2",
                  "--container-format", "bare", "--file", files["qcow2"], "--name", name,
                  "--visibility", "private", "--progress")
    return glance_table(out)


def test_openstack_image_create(member1, osc_image, files):
    # OSC 6.0 prints the record as created, before the upload: check the result over HTTP.
    assert osc_image["name"].startswith("osc-")
    img = member1.api.image(osc_image["id"])
    assert img["status"] == "active" and img["visibility"] == "private"
    assert img["checksum"] == sha(files["raw"], "md5")
    assert img["size"] == files["raw"].stat().st_size
    assert img["owner"] == member1.project_id
    assert (img["disk_format"], img["container_format"]) == ("raw", "bare")
    assert img["os_hash_value"] == sha(files["raw"], "sha512")


def test_glance_image_create_qcow2_with_progress(member1, glance_image, files):
    assert glance_image["status"] == "active"
    img = member1.api.image(glance_image["id"])
    assert img["status"] == "active" and img["visibility"] == "private"
    assert img["disk_format"] == "qcow2"
    assert img["size"] == files["qcow2"].stat().st_size
    assert img["virtual_size"] == 64 << 20
    assert img["checksum"] == sha(files["qcow2"], "md5")
    assert img["os_hash_value"] == sha(files["qcow2"], "sha512")


def test_image_show_id_by_name(member1, osc_image):
    out = run_cli(member1.env, "openstack", "image", "show", "-c", "id", "-f", "value",
                  osc_image["name"])
    assert out.strip() == osc_image["id"]


def test_image_lists(member1, osc_image, glance_image):
    rows = json.loads(run_cli(member1.env, "openstack", "image", "list", "-f", "json"))
    by_id = {r["ID"]: r for r in rows}
    assert by_id[osc_image["id"]]["Name"] == osc_image["name"]
    assert by_id[osc_image["id"]]["Status"] == "active"
    assert by_id[glance_image["id"]]["Name"] == glance_image["name"]
    out = run_cli(member1.env, "glance", "image-list", "--owner", member1.project_id)
    assert osc_image["id"] in out and glance_image["id"] in out
    assert osc_image["name"] in out and glance_image["name"] in out


def test_other_projects_cli_sees_nothing(member2, osc_image):
    out = run_cli(member2.env, "openstack", "image", "show", osc_image["id"], ok=False)
    assert "No Image found" in out or "404" in out or "Not Found" in out.title()
    out = run_cli(member2.env, "glance", "image-list", "--owner", osc_image["owner"])
    assert osc_image["id"] not in out


def test_reader_cli_cannot_create(reader1, files):
    out = run_cli(reader1.env, "openstack", "image", "create", "--disk-format", "raw",
                  "--container-format", "bare", "--file", files["raw"], "rdr-nope", ok=False)
    assert "403" in out or "Forbidden" in out


def test_image_set_property_and_tag(member1, osc_image):
    run_cli(member1.env, "openstack", "image", "set", "--property", "glimmer_k=v1",
            "--property", "os_distro=debian", "--tag", "t1", "--min-ram", "256",
            osc_image["name"])
    shown = json.loads(run_cli(member1.env, "openstack", "image", "show", "-f", "json",
                               osc_image["name"]))
    props = shown["properties"]
    if isinstance(props, str):  # older OSC renders properties as k='v' text
        assert "glimmer_k='v1'" in props and "os_distro='debian'" in props
    else:
        assert props["glimmer_k"] == "v1" and props["os_distro"] == "debian"
    assert "t1" in shown["tags"]
    assert int(shown["min_ram"]) == 256
    img = member1.api.image(osc_image["id"])
    assert img["glimmer_k"] == "v1" and img["tags"] == ["t1"] and img["min_ram"] == 256


def test_glance_image_update_uses_schema_is_base(member1, glance_image):
    """glanceclient computes its PATCH from /v2/schemas/image: a new non-base property (is_base
    false) must become an `add`, a base one a `replace`."""
    run_cli(member1.env, "glance", "image-update", "--name", glance_image["name"] + "-2",
            "--property", "os_version=12", "--property", "glimmer_x=y", "--min-disk", "1",
            glance_image["id"])
    img = member1.api.image(glance_image["id"])
    assert img["name"] == glance_image["name"] + "-2"
    assert (img["os_version"], img["glimmer_x"], img["min_disk"]) == ("12", "y", 1)
    run_cli(member1.env, "glance", "image-tag-update", glance_image["id"], "gtag")
    assert member1.api.image(glance_image["id"])["tags"] == ["gtag"]


def test_image_save_is_byte_identical(member1, osc_image, glance_image, files):
    out = files["dir"] / "saved.raw"
    run_cli(member1.env, "openstack", "image", "save", "--file", out, osc_image["name"])
    assert out.read_bytes() == files["raw"].read_bytes()
    img = member1.api.image(osc_image["id"])
    assert coreutils_sum("md5sum", out) == img["checksum"]
    assert coreutils_sum("sha512sum", out) == img["os_hash_value"]
    out2 = files["dir"] / "saved.qcow2"
    run_cli(member1.env, "glance", "image-download", "--file", out2, glance_image["id"])
    assert out2.read_bytes() == files["qcow2"].read_bytes()


def test_deactivate_activate_delete(member1, files):
    name = f"osc-life-{uuid.uuid4().hex[:8]}"
    img = json.loads(run_cli(member1.env, "openstack", "image", "create", "--disk-format", "raw",
                             "--container-format", "bare", "--file", files["raw"], name,
                             "-f", "json"))
    run_cli(member1.env, "openstack", "image", "set", "--deactivate", name)
    assert member1.api.image(img["id"])["status"] == "deactivated"
    assert member1.api.get(f"/v2/images/{img['id']}/file").status_code == 403
    run_cli(member1.env, "openstack", "image", "set", "--activate", name)
    assert member1.api.image(img["id"])["status"] == "active"
    run_cli(member1.env, "openstack", "image", "delete", name)
    assert member1.api.get(f"/v2/images/{img['id']}").status_code == 404


def test_glance_image_delete(member1, files):
    # Without --file, glanceclient uploads its (non-tty, empty) stdin: a 0-byte chunked upload.
    out = run_cli(member1.env, "glance", "image-create", "--disk-format", "raw",
                  "--container-format", "bare", "--name", f"gl-del-{uuid.uuid4().hex[:6]}")
    iid = glance_table(out)["id"]
    img = member1.api.image(iid)
    assert (img["status"], img["size"]) in (("active", 0), ("queued", None))
    run_cli(member1.env, "glance", "image-delete", iid)
    assert member1.api.get(f"/v2/images/{iid}").status_code == 404


# ----------------------------------------------------------------------------- openstacksdk
def sdk(p):
    e = p.env
    return openstack.connect(
        auth_url=e["OS_AUTH_URL"], username=e["OS_USERNAME"], password=e["OS_PASSWORD"],
        project_name=e["OS_PROJECT_NAME"], user_domain_name=e.get("OS_USER_DOMAIN_NAME"),
        project_domain_name=e.get("OS_PROJECT_DOMAIN_NAME"), region_name=e.get("OS_REGION_NAME"),
        interface=e.get("OS_INTERFACE", "public"), identity_api_version="3",
        load_envvars=False, load_yaml_config=False)


def test_openstacksdk_create_upload_find_download(member1, files, tmp_path):
    conn = sdk(member1)
    name = f"sdk-{uuid.uuid4().hex[:8]}"
    img = conn.image.create_image(name=name, filename=str(files["raw"]), disk_format="raw",
                                  container_format="bare", visibility="private", wait=True)
    found = conn.image.find_image(name)
    assert found is not None and found.id == img.id
    assert conn.image.find_image(img.id).name == name
    assert found.status == "active"
    assert found.checksum == sha(files["raw"], "md5")
    assert found.hash_algo == "sha512" and found.hash_value == sha(files["raw"], "sha512")
    out = tmp_path / "sdk.out"
    conn.image.download_image(found, output=str(out))
    assert out.read_bytes() == files["raw"].read_bytes()
    got = conn.image.download_image(found)
    assert getattr(got, "content", got) == files["raw"].read_bytes()
    assert conn.image.find_image(f"no-such-{uuid.uuid4().hex}") is None

    data = os.urandom(70_000)
    up = conn.image.upload_image(container_format="bare", disk_format="raw", data=data,
                                 name=name + "-up")
    got = member1.api.image(up.id)
    assert got["status"] == "active" and got["checksum"] == hashlib.md5(data).hexdigest()
    conn.image.delete_image(up.id)
    conn.image.delete_image(img.id)
    assert conn.image.find_image(name) is None


def test_openstacksdk_pages_through_next_links(member1):
    conn = sdk(member1)
    scope = uuid.uuid4().hex[:8]
    made = {member1.api.create_image(name=f"sdkpage-{scope}-{i}")["id"] for i in range(5)}
    sdk_ids = {i.id for i in conn.image.images(owner=member1.project_id, limit=2)}
    http_ids = {i["id"] for i in member1.api.get(
        "/v2/images", params={"owner": member1.project_id, "limit": 1000}).json()["images"]}
    assert made <= sdk_ids
    assert sdk_ids == http_ids


# ----------------------------------------------------------------------------- identity management
@skip_identity_external
def test_identity_management_commands(admin_env, admin):
    env = admin_env
    sfx = uuid.uuid4().hex[:6]
    proj, user, pw1, pw2 = f"idm-p-{sfx}", f"idm-u-{sfx}", "First-pw-1", "Second-pw-2"
    p = json.loads(run_cli(env, "openstack", "project", "create", "--description", "d1", proj,
                           "-f", "json"))
    assert p["name"] == proj and p["description"] == "d1" and p["enabled"] in (True, "True")
    run_cli(env, "openstack", "project", "create", proj, ok=False)  # duplicate → 409
    run_cli(env, "openstack", "project", "set", "--description", "d2", proj)
    shown = json.loads(run_cli(env, "openstack", "project", "show", proj, "-f", "json"))
    assert (shown["id"], shown["description"], shown["domain_id"]) == (p["id"], "d2", "default")
    u = json.loads(run_cli(env, "openstack", "user", "create", "--password", pw1, user,
                           "-f", "json"))
    assert u["name"] == user and u["domain_id"] == "default"
    shown = json.loads(run_cli(env, "openstack", "user", "show", user, "-f", "json"))
    assert shown["id"] == u["id"] and "password" not in json.dumps(shown).lower().replace(
        "password_expires_at", "")
    roles = json.loads(run_cli(env, "openstack", "role", "list", "-f", "json"))
    assert {"admin", "member", "reader"} <= {r["Name"] for r in roles}

    uenv = {k: v for k, v in env.items() if k != "OS_PROJECT_ID"}
    uenv.update(OS_USERNAME=user, OS_PASSWORD=pw1, OS_PROJECT_NAME=proj)
    assert lib.issue_token(uenv).status_code == 401  # no role on the project yet
    run_cli(env, "openstack", "role", "add", "--project", proj, "--user", user, "member")
    r = lib.issue_token(uenv)
    assert r.status_code == 201
    tok = r.json()["token"]
    assert tok["project"]["id"] == p["id"] and tok["user"]["id"] == u["id"]
    assert {"member", "reader"} <= {x["name"] for x in tok["roles"]}
    assert "admin" not in {x["name"] for x in tok["roles"]}
    # the new member can use the image API through the CLI
    out = run_cli(uenv, "openstack", "image", "create", f"idm-img-{sfx}", "-f", "value", "-c", "owner")
    assert out.strip() == p["id"]

    run_cli(env, "openstack", "user", "set", "--password", pw2, user)
    assert lib.issue_token(uenv).status_code == 401
    assert lib.issue_token(uenv, password=pw2).status_code == 201

    run_cli(env, "openstack", "role", "remove", "--project", proj, "--user", user, "member")
    assert lib.issue_token(uenv, password=pw2).status_code == 401

    run_cli(env, "openstack", "user", "delete", user)
    assert lib.issue_token(uenv, password=pw2).status_code == 401
    # the project's image must go before the project (Keystone does not cascade to Glance)
    for img in admin.api.get("/v2/images", params={"owner": p["id"]}).json()["images"]:
        admin.api.delete_image(img["id"])
    run_cli(env, "openstack", "project", "delete", proj)
    users = run_cli(env, "openstack", "user", "list", "-f", "value", "-c", "Name").split()
    projects = run_cli(env, "openstack", "project", "list", "-f", "value", "-c", "Name").split()
    assert user not in users and proj not in projects
    assert "admin" in users and "admin" in projects


@pytest.mark.glimmer_only
def test_token_revocation_and_validation(admin_env):
    """A token is refused once revoked (DELETE /v3/auth/tokens, what `openstack token revoke`
    does). Glimmer-only: real Glance caches validated tokens in-process and keeps accepting a
    revoked one until it expires."""
    r = lib.issue_token(admin_env)
    tok = r.headers["X-Subject-Token"]
    base = lib.image_endpoint(r.json()["token"], admin_env)
    assert lib.Api(base, tok).get("/v2/images", params={"limit": 1}).status_code == 200
    run_cli(admin_env, "openstack", "token", "revoke", tok)
    assert lib.Api(base, tok).get("/v2/images", params={"limit": 1}).status_code == 401
