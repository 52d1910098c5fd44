"""`glimmer catalog load` (issue 3, item 2): the provider catalog, loaded in-process into the
data dir of a running Glimmer and checked with the real `glance` / `openstack` CLIs.

Fresh load, idempotent reload (no write at all), changed reload (metadata change updates in
place; changed bytes register a new image under the name and retire the old one, renamed with
its date and os_hidden, still downloadable), and invalid catalogs. Sources are local files (raw
and qcow2) and an http:// URL served by a Python http.server on 127.0.0.1."""
import functools
import hashlib
import http.server
import json
import os
import pathlib
import re
import subprocess
import threading

import pytest

import glimmer_testlib as lib
from glimmer_testlib import run_cli

pytestmark = pytest.mark.glimmer_only


def run_catalog(data_dir, *args, ok=True):
    """Runs `glimmer catalog load` with a clean environment; returns (rc, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "GLIMMER_"))}
    env.update(lib.backend_env(data_dir))  # the server's database and store
    argv = [lib.glimmer_bin(), "catalog", "load", "--data-dir", str(data_dir), *map(str, args)]
    p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL)
    if ok is True:
        assert p.returncode == 0, f"{argv} exited {p.returncode}\n{p.stdout}\n{p.stderr}"
    elif ok is False:
        assert p.returncode != 0, f"{argv} unexpectedly succeeded\n{p.stdout}"
    return p.returncode, p.stdout, p.stderr


def result_lines(out):
    """{name: (kind, rest)} from the per-entry lines `kind: NAME (...)`."""
    rows = {}
    for line in out.splitlines():
        m = re.match(r"^(created|updated|unchanged|replaced|failed): (.+?)(?: \((.*)\)|: (.*))?$",
                     line)
        if m:
            rows[m.group(2)] = (m.group(1), m.group(3) or m.group(4) or "")
    return rows


def glance_ids_and_names(out):
    rows = {}
    for line in out.splitlines():
        m = re.match(r"^\|\s*([0-9a-f-]{36})\s*\|\s*(.*?)\s*\|$", line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def env(glimmer_factory, tmp_path_factory):
    """A Glimmer of its own (the catalog adds public images), a folder of sources and an HTTP
    server publishing its `web/` subfolder."""
    srv = glimmer_factory("catalog")
    root = tmp_path_factory.mktemp("catalog-src")
    (root / "images").mkdir()
    (root / "web").mkdir()
    (root / "images" / "centos.raw").write_bytes(os.urandom(300 * 1024 + 17))
    subprocess.run(["/usr/bin/qemu-img", "create", "-q", "-f", "qcow2",
                    str(root / "images" / "debian.qcow2"), "32M"], check=True)
    (root / "web" / "ubuntu.img").write_bytes(os.urandom(200 * 1024 + 3))
    handler = functools.partial(_Quiet, directory=str(root / "web"))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    admin = srv.admin_env()
    token, body = lib.token_and_body(admin)
    api = lib.Api(lib.image_endpoint(body, admin), token)
    state = {"srv": srv, "root": root, "url": f"http://127.0.0.1:{httpd.server_port}",
             "admin": admin, "api": api}
    yield state
    httpd.shutdown()
    httpd.server_close()


# The CentOS metadata after test_changed_reload.
CHANGED = dict(centos_ram=1024, centos_description="CentOS Linux 7 (2009)")


def catalog_yaml(url, centos_ram=512, centos_description="CentOS Linux 7 (Core)"):
    return f"""# Test catalog
images:
  - name: CentOS 7
    os_distro: centos
    os_version: "7"
    login_user: centos
    description: {centos_description}
    disk_format: raw
    min_disk: 1
    min_ram: {centos_ram}
    tags: [linux]
    source: {{file: images/centos.raw}}
  - name: Debian 12
    os_distro: debian
    os_version: "12"
    login_user: debian
    disk_format: qcow2
    properties: {{hw_rng_model: virtio}}
    source: {{file: images/debian.qcow2}}
  - name: Ubuntu 22.04
    os_distro: ubuntu
    os_version: "22.04"
    login_user: ubuntu
    disk_format: raw
    source: {{url: "{url}/ubuntu.img"}}
"""


def write_catalog(env, text, name="catalog.yaml"):
    path = env["root"] / name
    path.write_text(text)
    return path


def provider_images(env, hidden=False):
    r = env["api"].get("/v2/images", params={"owner": env["provider_id"], "limit": 100,
                                             "os_hidden": str(hidden).lower()})
    assert r.status_code == 200, r.text
    return {img["name"]: img for img in r.json()["images"]}


def test_fresh_load(env):
    path = write_catalog(env, catalog_yaml(env["url"]))
    _, out, _ = run_catalog(env["srv"].data_dir, path)
    rows = result_lines(out)
    assert {n: k for n, (k, _) in rows.items()} == {
        "CentOS 7": "created", "Debian 12": "created", "Ubuntu 22.04": "created"}, out
    assert "3 created, 0 updated, 0 unchanged, 0 replaced, 0 failed" in out

    # The provider project exists (created by the command), seen through the CLI.
    proj = json.loads(run_cli(env["admin"], "openstack", "project", "show", "-f", "json",
                              "provider"))
    env["provider_id"] = proj["id"]
    assert proj["id"] in out

    listed = glance_ids_and_names(run_cli(env["admin"], "glance", "image-list", "--owner",
                                          proj["id"]))
    assert sorted(listed.values()) == ["CentOS 7", "Debian 12", "Ubuntu 22.04"]

    props = json.loads(run_cli(env["admin"], "openstack", "image", "show", "-c", "properties",
                               "-f", "json", "Debian 12"))["properties"]
    assert props["os_admin_user"] == "debian"
    assert props["os_distro"] == "debian" and props["os_version"] == "12"
    assert props["hw_rng_model"] == "virtio"

    images = provider_images(env)
    assert set(images) == {"CentOS 7", "Debian 12", "Ubuntu 22.04"}
    sources = {"CentOS 7": env["root"] / "images" / "centos.raw",
               "Debian 12": env["root"] / "images" / "debian.qcow2",
               "Ubuntu 22.04": env["root"] / "web" / "ubuntu.img"}
    for name, img in images.items():
        data = sources[name].read_bytes()
        assert img["id"] in listed
        assert img["visibility"] == "public" and img["owner"] == env["provider_id"]
        assert img["status"] == "active" and img["size"] == len(data)
        assert img["checksum"] == lib.md5_hex(data)
        assert img["os_hash_algo"] == "sha512" and img["os_hash_value"] == lib.sha512_hex(data)
        assert rows[name][1] == img["id"]
    centos = images["CentOS 7"]
    assert centos["os_admin_user"] == "centos" and centos["description"] == "CentOS Linux 7 (Core)"
    assert centos["min_ram"] == 512 and centos["min_disk"] == 1 and centos["tags"] == ["linux"]
    assert images["Debian 12"]["disk_format"] == "qcow2"
    assert images["Debian 12"]["virtual_size"] == 32 * 1024 * 1024  # the normal data path
    assert images["Ubuntu 22.04"]["os_admin_user"] == "ubuntu"
    r = env["api"].get(f"/v2/images/{images['Ubuntu 22.04']['id']}/file")
    assert r.status_code == 200 and r.content == sources["Ubuntu 22.04"].read_bytes()
    env["first"] = images


def test_unchanged_reload_writes_nothing(env):
    path = write_catalog(env, catalog_yaml(env["url"]))
    _, out, _ = run_catalog(env["srv"].data_dir, path)
    rows = result_lines(out)
    assert {k for k, _ in rows.values()} == {"unchanged"}, out
    assert "0 created, 0 updated, 3 unchanged, 0 replaced, 0 failed" in out
    after = provider_images(env)
    for name, img in env["first"].items():
        assert after[name]["id"] == img["id"]
        assert after[name]["updated_at"] == img["updated_at"]
        assert after[name] == img
    assert provider_images(env, hidden=True) == {}


def test_changed_reload(env):
    old_ubuntu = env["first"]["Ubuntu 22.04"]
    old_bytes = (env["root"] / "web" / "ubuntu.img").read_bytes()
    new_bytes = os.urandom(150 * 1024 + 9)
    (env["root"] / "web" / "ubuntu.img").write_bytes(new_bytes)
    path = write_catalog(env, catalog_yaml(env["url"], **CHANGED))
    _, out, _ = run_catalog(env["srv"].data_dir, path)
    rows = result_lines(out)
    assert rows["CentOS 7"][0] == "updated", out
    assert "min_ram" in rows["CentOS 7"][1] and "description" in rows["CentOS 7"][1]
    assert rows["Debian 12"][0] == "unchanged"
    assert rows["Ubuntu 22.04"][0] == "replaced"
    assert "0 created, 1 updated, 1 unchanged, 1 replaced, 0 failed" in out

    images = provider_images(env)
    centos = images["CentOS 7"]
    assert centos["id"] == env["first"]["CentOS 7"]["id"]  # updated in place
    assert centos["min_ram"] == 1024 and centos["description"] == "CentOS Linux 7 (2009)"
    assert centos["updated_at"] >= env["first"]["CentOS 7"]["updated_at"]
    assert images["Debian 12"] == env["first"]["Debian 12"]

    new_ubuntu = images["Ubuntu 22.04"]
    assert new_ubuntu["id"] != old_ubuntu["id"]
    assert f"{old_ubuntu['id']} -> {new_ubuntu['id']}" in rows["Ubuntu 22.04"][1]
    assert new_ubuntu["os_hash_value"] == lib.sha512_hex(new_bytes)
    assert new_ubuntu["visibility"] == "public" and new_ubuntu["os_hidden"] is False
    assert new_ubuntu["os_admin_user"] == "ubuntu"

    old = env["api"].image(old_ubuntu["id"])
    retired = f"Ubuntu 22.04 ({old_ubuntu['created_at'][:10]})"
    assert old["name"] == retired and old["os_hidden"] is True
    assert old["status"] == "active" and old["visibility"] == "public"
    assert set(provider_images(env, hidden=True)) == {retired}
    r = env["api"].get(f"/v2/images/{old_ubuntu['id']}/file")
    assert r.status_code == 200 and r.content == old_bytes  # the old id keeps working

    # The CLI lists exactly the catalog: the retired image is hidden.
    listed = glance_ids_and_names(run_cli(env["admin"], "glance", "image-list", "--owner",
                                          env["provider_id"]))
    assert listed == {img["id"]: name for name, img in images.items()}

    # Re-running the changed file changes nothing.
    _, out, _ = run_catalog(env["srv"].data_dir, path)
    assert {k for k, _ in result_lines(out).values()} == {"unchanged"}, out
    assert provider_images(env) == images


def test_dry_run_reports_without_writing(env):
    path = write_catalog(env, catalog_yaml(env["url"], centos_ram=2048), "dry.yaml")
    before = provider_images(env)
    _, out, _ = run_catalog(env["srv"].data_dir, "--dry-run", path)
    assert "(dry run) updated: CentOS 7" in out, out
    assert provider_images(env) == before


@pytest.mark.parametrize("body,message", [
    ("images:\n  - {name: A, disk_format: raw, login: x, source: {file: a}}\n",
     "images[0] 'A' (line 2): unknown key 'login'"),
    ("images:\n  - {name: A, disk_format: raw}\n",
     "images[0] 'A' (line 2): missing required key 'source'"),
    ("images:\n  - {name: A, disk_format: raw, source: {file: a}}\n"
     "  - {name: A, disk_format: raw, source: {file: b}}\n",
     "images[1] 'A' (line 3): duplicate name (also images[0])"),
    ("images:\n  - {name: A, disk_format: qcow3, source: {file: a}}\n",
     "'disk_format' is 'qcow3', expected one of"),
    ("images:\n  - {name: A, disk_format: raw, source: {url: 'ftp://x/a'}}\n",
     "'url' must start with http:// or https://"),
    ("images:\n  - {name: A, disk_format: raw, min_ram: lots, source: {file: a}}\n",
     "'min_ram' must be a non-negative integer, got 'lots'"),
    ("{\"images\": [\n", "not valid YAML/JSON"),
])
def test_invalid_catalog_is_rejected(env, body, message):
    path = write_catalog(env, body, "bad.yaml")
    rc, out, err = run_catalog(env["srv"].data_dir, path, ok=False)
    assert rc == 2
    assert f"glimmer: catalog error: {path}" in err and message in err, err
    assert out == ""


def test_failing_entry_leaves_no_image(env):
    before = provider_images(env)
    text = f"""images:
  - name: Missing
    disk_format: raw
    source: {{url: "{env['url']}/no-such.img"}}
  - name: Wrong digest
    disk_format: raw
    source: {{file: images/centos.raw, sha256: "{'0' * 64}"}}
"""
    path = write_catalog(env, text, "failing.yaml")
    rc, out, err = run_catalog(env["srv"].data_dir, path, ok=False)
    assert rc == 1
    rows = result_lines(out)
    assert rows["Missing"][0] == "failed" and "404" in rows["Missing"][1], out
    assert rows["Wrong digest"][0] == "failed" and "sha256 mismatch" in rows["Wrong digest"][1]
    assert "2 failed" in out and "2 catalog entries failed" in err
    after = provider_images(env)
    assert set(after) == set(before)  # nothing half-created
    for name in ("Missing", "Wrong digest"):
        r = env["api"].get("/v2/images", params={"name": name})
        assert r.json()["images"] == []


def test_images_not_in_catalog_are_reported_and_kept(env):
    path = write_catalog(env, catalog_yaml(env["url"], **CHANGED).split("  - name: Debian 12")[0],
                         "partial.yaml")
    before = provider_images(env)
    _, out, _ = run_catalog(env["srv"].data_dir, path)
    debian = before["Debian 12"]
    assert f"not in catalog (left as is): Debian 12 ({debian['id']})" in out, out
    assert f"not in catalog (left as is): Ubuntu 22.04 (" in out
    assert provider_images(env) == before


def test_refuses_a_data_dir_without_database(env, tmp_path):
    path = write_catalog(env, catalog_yaml(env["url"]))
    rc, _, err = run_catalog(tmp_path / "empty", path, ok=False)
    assert rc == 2 and "no Glimmer database in" in err
    assert not (tmp_path / "empty" / "glimmer.db").exists()
