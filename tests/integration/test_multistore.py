"""Multi-store API (Glance 2.10+): DELETE /v2/stores/{store}/{image}, ?prefer= on download,
store weights, X-Image-Meta-Store on upload and import, /v2/info/stores[/detail], and the
deletion of every copy of an image, driven through raw HTTP and the real `glance` CLI.

Servers:
  ms       three filesystem stores in this order: fast (default, described), cheap, slow.
  weighted fast (default) and cheap with `weight = 10`, and a policy file that refuses
           download_from_store to everyone.
  server   the shared single-store Glimmer (multi-store calls are 404/400 there).

An image gets copies in several stores by a glance-direct import with `stores`. To tell which
copy a download read, the test overwrites one store's file with other bytes of the same size."""
import html
import os
import pathlib
import subprocess
import time
import uuid

import pytest

import glimmer_testlib as lib
from conftest import make_principal

pytestmark = pytest.mark.glimmer_only

STORES = ("fast", "cheap", "slow")


def write_config(root, text):
    root = pathlib.Path(root)
    conf = root / "glimmer.conf"
    conf.write_text(text.format(root=root))
    return conf


@pytest.fixture(scope="module")
def ms(glimmer_factory, tmp_path_factory):
    root = tmp_path_factory.mktemp("ms-conf")
    conf = write_config(root, """
[DEFAULT]
enabled_backends = fast:file, cheap:file, slow:file

[glance_store]
default_backend = fast

[fast]
filesystem_store_datadir = {root}/fast
store_description = Fast disks

[cheap]
filesystem_store_datadir = {root}/cheap

[slow]
filesystem_store_datadir = {root}/slow
""")
    srv = glimmer_factory("ms", extra_args=["--config", str(conf)])
    srv.conf_root = root
    return srv


@pytest.fixture(scope="module")
def ms_admin(ms):
    return make_principal(ms.admin_env())


@pytest.fixture(scope="module")
def ms_users(ms):
    """A member and a reader of a second project on the ms server."""
    env = ms.admin_env()
    sfx = uuid.uuid4().hex[:6]
    proj = f"ms-{sfx}"
    lib.run_cli(env, "openstack", "project", "create", proj)
    users = {}
    for role in ("member", "reader"):
        name = f"ms{role[0]}-{sfx}"
        lib.run_cli(env, "openstack", "user", "create", "--password", "Pw-ms-1", name)
        lib.run_cli(env, "openstack", "role", "add", "--project", proj, "--user", name, role)
        uenv = {k: v for k, v in env.items() if k != "OS_PROJECT_ID"}
        uenv.update(OS_USERNAME=name, OS_PASSWORD="Pw-ms-1", OS_PROJECT_NAME=proj,
                    OS_USER_DOMAIN_NAME="Default", OS_PROJECT_DOMAIN_NAME="Default")
        users[role] = make_principal(uenv)
    return users


# ----------------------------------------------------------------------------- helpers
def wait_for(api, image_id, done, timeout=60):
    deadline = time.monotonic() + timeout
    img = None
    while time.monotonic() < deadline:
        img = api.image(image_id)
        if done(img):
            return img
        time.sleep(0.05)
    raise AssertionError(f"image {image_id} not done after {timeout}s: {img}")


def image_with_copies(api, data, stores=("fast", "cheap"), **fields):
    """An active image whose data is in each of `stores` (glance-direct import)."""
    body = {"name": "ms-" + uuid.uuid4().hex[:8], "disk_format": "raw",
            "container_format": "bare"}
    body.update(fields)
    image_id = api.create_image(**body)["id"]
    r = api.put(f"/v2/images/{image_id}/stage", data=data,
                headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 204, r.text
    r = api.post(f"/v2/images/{image_id}/import",
                 json={"method": {"name": "glance-direct"}, "stores": list(stores)})
    assert r.status_code == 202, r.text
    img = wait_for(api, image_id, lambda i: i["status"] == "active" and
                   "os_glance_import_task" not in i and
                   sorted(i.get("stores", "").split(",")) == sorted(stores))
    return image_id, img


def copy_path(srv, store, image_id):
    files = [p for p in (srv.conf_root / store).glob(f"{image_id}*") if p.is_file()]
    assert len(files) <= 1, files
    return files[0] if files else None


def mark_copy(srv, store, image_id, data):
    """Overwrites the copy in `store` with other bytes of the same size; returns them."""
    other = bytes(b ^ 0xFF for b in data)
    copy_path(srv, store, image_id).write_bytes(other)
    return other


def download(api, image_id, prefer=None, expect=200):
    url = f"/v2/images/{image_id}/file" + (f"?prefer={prefer}" if prefer is not None else "")
    r = api.get(url)
    assert r.status_code == expect, f"GET {url}: {r.status_code} {r.text[:300]}"
    return r


def delete_from(api, store, image_id, expect=204):
    r = api.delete(f"/v2/stores/{store}/{image_id}")
    assert r.status_code == expect, f"DELETE {store}/{image_id}: {r.status_code} {r.text[:400]}"
    return r


def field(table, name):
    for line in table.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 2 and cells[1] == name:
            return cells[2]
    raise AssertionError(f"no field {name} in:\n{table}")


def glance(env, *args, ok=True):
    p = subprocess.run(["glance", *args], env=lib.cli_env(env), capture_output=True, text=True,
                       timeout=120, stdin=subprocess.DEVNULL)
    if ok:
        assert p.returncode == 0, f"glance {' '.join(args)}:\n{p.stdout}\n{p.stderr}"
    return p


# ----------------------------------------------------------------------------- discovery
def test_info_stores_and_store_ids_header(ms_admin, ms_users):
    stores = ms_admin.api.get("/v2/info/stores").json()["stores"]
    # Glance's shape: configuration order, description only when configured, "true" strings.
    assert stores == [{"id": "fast", "description": "Fast disks", "default": "true"},
                      {"id": "cheap"}, {"id": "slow"}]
    detail = ms_admin.api.get("/v2/info/stores/detail")
    assert detail.status_code == 200, detail.text
    fast, cheap, _ = detail.json()["stores"]
    assert fast["type"] == "file" and fast["weight"] == 0 and fast["default"] == "true"
    assert fast["properties"]["chunk_size"] == 65536
    assert fast["properties"]["thin_provisioning"] is False
    assert pathlib.Path(cheap["properties"]["data_dir"]).name == "cheap"
    assert ms_users["member"].api.get("/v2/info/stores/detail").status_code == 403
    assert ms_users["member"].api.get("/v2/info/stores").status_code == 200
    r = ms_admin.api.post("/v2/images", json={"name": "hdr"})
    assert r.headers["OpenStack-image-store-ids"] == "fast,cheap,slow"


# ----------------------------------------------------------------------------- delete from store
def test_glance_cli_stores_delete_keeps_the_other_copy(ms, ms_admin):
    data = os.urandom(70_001)
    image_id, img = image_with_copies(ms_admin.api, data)
    cheap_file = copy_path(ms, "cheap", image_id)
    assert cheap_file.read_bytes() == data
    glance(ms.admin_env(), "stores-delete", "--store", "cheap", image_id)
    img = ms_admin.api.image(image_id)
    assert img["status"] == "active" and img["stores"] == "fast"
    assert img["checksum"] == lib.md5_hex(data)
    assert not cheap_file.exists()
    assert copy_path(ms, "fast", image_id).read_bytes() == data
    r = download(ms_admin.api, image_id)
    assert r.content == data and r.headers["Content-MD5"] == lib.md5_hex(data)
    # What is left is the only copy: 403, and the CLI says it could not.
    r = delete_from(ms_admin.api, "fast", image_id, expect=403)
    assert "Cannot delete image data from the only store containing it" in r.text
    p = glance(ms.admin_env(), "stores-delete", "--store", "fast", image_id, ok=False)
    assert p.returncode != 0 and "Unable to delete image" in p.stderr + p.stdout
    assert ms_admin.api.image(image_id)["stores"] == "fast"
    assert download(ms_admin.api, image_id).content == data


def test_delete_from_store_errors(ms, ms_admin, ms_users):
    data = os.urandom(4096)
    image_id, _ = image_with_copies(ms_admin.api, data)
    # A store not configured (checked first, Glance answers 409), an image not in that store,
    # an unknown image.
    r = delete_from(ms_admin.api, "nowhere", image_id, expect=409)
    assert "The selected store nowhere is not available on this node." in r.text
    r = delete_from(ms_admin.api, "slow", image_id, expect=404)
    assert f"Image {image_id} is not stored in store slow." in r.text
    r = delete_from(ms_admin.api, "cheap", str(uuid.uuid4()), expect=404)
    assert "Failed to find image" in r.text
    # The CLI reports a 404 as "not found".
    p = glance(ms.admin_env(), "stores-delete", "--store", "slow", image_id, ok=False)
    assert "Image/store not found" in p.stderr + p.stdout
    # Only DELETE; no body.
    r = ms_admin.api.get(f"/v2/stores/cheap/{image_id}")
    assert r.status_code == 405 and r.headers["Allow"] == "DELETE"
    r = ms_admin.api.delete(f"/v2/stores/cheap/{image_id}", data=b"{}",
                            headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert ms_admin.api.delete("/v2/stores/cheap").status_code == 404
    # Not active: 409 (before the locations are looked at).
    r = ms_admin.api.post(f"/v2/images/{image_id}/actions/deactivate")
    assert r.status_code == 204
    r = delete_from(ms_admin.api, "cheap", image_id, expect=409)
    assert "if image status is not 'active'" in html.unescape(r.text)
    queued = ms_admin.api.create_image(name="q")["id"]
    delete_from(ms_admin.api, "cheap", queued, expect=409)
    assert ms_admin.api.post(f"/v2/images/{image_id}/actions/reactivate").status_code == 204
    assert sorted(ms_admin.api.image(image_id)["stores"].split(",")) == ["cheap", "fast"]
    # delete_image_location is admin-only: the owner's own member gets 403, as does its reader;
    # another project's private image stays invisible (404).
    member, reader = ms_users["member"], ms_users["reader"]
    own, _ = image_with_copies(member.api, data)
    delete_from(member.api, "cheap", own, expect=403)
    delete_from(reader.api, "cheap", own, expect=403)
    delete_from(member.api, "cheap", image_id, expect=404)
    assert sorted(member.api.image(own)["stores"].split(",")) == ["cheap", "fast"]
    assert copy_path(ms, "cheap", own).read_bytes() == data
    delete_from(ms_admin.api, "cheap", own)
    assert member.api.image(own)["stores"] == "fast"
    assert download(member.api, own).content == data


def test_delete_from_store_when_the_data_is_already_gone(ms, ms_admin):
    data = os.urandom(3000)
    image_id, _ = image_with_copies(ms_admin.api, data, stores=("fast", "cheap", "slow"))
    copy_path(ms, "slow", image_id).unlink()
    delete_from(ms_admin.api, "slow", image_id)
    assert sorted(ms_admin.api.image(image_id)["stores"].split(",")) == ["cheap", "fast"]


def test_delete_from_store_with_a_single_store_is_404(admin):
    image_id = admin.api.create_image(name="single", disk_format="raw",
                                      container_format="bare")["id"]
    admin.api.upload(image_id, b"single store data")
    delete_from(admin.api, "file", image_id, expect=404)
    assert admin.api.image(image_id)["status"] == "active"
    admin.api.delete_image(image_id)


def test_deleting_an_image_deletes_every_copy(ms, ms_admin):
    data = os.urandom(5000)
    image_id, _ = image_with_copies(ms_admin.api, data, stores=STORES)
    files = [copy_path(ms, s, image_id) for s in STORES]
    assert all(f is not None and f.read_bytes() == data for f in files)
    glance(ms.admin_env(), "image-delete", image_id)
    assert ms_admin.api.get(f"/v2/images/{image_id}").status_code == 404
    assert [copy_path(ms, s, image_id) for s in STORES] == [None, None, None]


# ----------------------------------------------------------------------------- prefer
def test_prefer_reads_the_named_store(ms, ms_admin, ms_users):
    data = os.urandom(10_000)
    image_id, _ = image_with_copies(ms_admin.api, data, visibility="public")
    cheap = mark_copy(ms, "cheap", image_id, data)
    member = ms_users["member"]
    assert download(member.api, image_id).content == data  # first location: the default store
    assert download(member.api, image_id, "cheap").content == cheap
    assert download(member.api, image_id, "fast").content == data
    assert download(member.api, image_id, " cheap , ").content == cheap
    assert download(member.api, image_id, "slow,cheap").content == cheap  # no copy in slow
    assert download(member.api, image_id, "cheap,fast").content == cheap
    assert download(member.api, image_id, "fast,cheap").content == data
    assert download(member.api, image_id, "slow").content == data  # default order
    assert download(member.api, image_id, "").content == data      # no preference
    r = member.api.get(f"/v2/images/{image_id}/file?prefer=cheap", headers={"Range": "bytes=0-9"})
    assert r.status_code == 206 and r.content == cheap[:10]
    # Unknown store: 400, as Glance (the store list is site-specific: ask /v2/info/stores).
    r = download(member.api, image_id, "cheap,nowhere", expect=400)
    assert "Store 'nowhere' is not configured." in html.unescape(r.text)
    # A reader may not download at all.
    download(ms_users["reader"].api, image_id, "cheap", expect=403)
    # The preferred copy vanished from its store: the next location serves the download.
    copy_path(ms, "cheap", image_id).unlink()
    assert download(member.api, image_id, "cheap").content == data


def test_prefer_with_a_single_store_is_400(admin):
    image_id = admin.api.create_image(name="single-prefer", disk_format="raw",
                                      container_format="bare")["id"]
    admin.api.upload(image_id, b"0123456789")
    r = download(admin.api, image_id, "file", expect=400)
    assert "Store selection for download is not available" in r.text
    assert download(admin.api, image_id, "").content == b"0123456789"
    admin.api.delete_image(image_id)


# ----------------------------------------------------------------------------- upload / import
def test_upload_to_a_named_store(ms, ms_admin, tmp_path):
    image_id = ms_admin.api.create_image(name="to-slow", disk_format="raw",
                                         container_format="bare")["id"]
    r = ms_admin.api.upload(image_id, b"x" * 100, expect=400,
                            headers={"X-Image-Meta-Store": "nowhere"})
    assert "Store for identifier nowhere not found" in r.text
    assert ms_admin.api.image(image_id)["status"] == "queued"
    ms_admin.api.upload(image_id, b"x" * 100, headers={"X-Image-Meta-Store": "slow"})
    assert ms_admin.api.image(image_id)["stores"] == "slow"
    assert copy_path(ms, "slow", image_id).read_bytes() == b"x" * 100
    # The glance CLI's --store sends the same header.
    f = tmp_path / "cli.raw"
    data = os.urandom(2048)
    f.write_bytes(data)
    out = glance(ms.admin_env(), "image-create", "--name", "cli-store", "--disk-format", "raw",
                 "--container-format", "bare", "--store", "cheap", "--file", str(f)).stdout
    cli_id = field(out, "id")
    assert ms_admin.api.image(cli_id)["stores"] == "cheap"
    assert copy_path(ms, "cheap", cli_id).read_bytes() == data


def test_import_store_header_conflicts(ms_admin):
    image_id = ms_admin.api.create_image(name="hdr-conflict", disk_format="raw",
                                         container_format="bare")["id"]
    h = {"X-Image-Meta-Store": "cheap"}
    r = ms_admin.api.post(f"/v2/images/{image_id}/import", headers=h,
                          json={"method": {"name": "glance-direct"}, "stores": ["slow"]})
    assert r.status_code == 400 and "can't be both specified" in html.unescape(r.text)
    r = ms_admin.api.post(f"/v2/images/{image_id}/import", headers=h,
                          json={"method": {"name": "glance-direct"}, "all_stores": True})
    assert r.status_code == 400 and "All_stores parameter can't be used" in html.unescape(r.text)


# ----------------------------------------------------------------------------- weights
@pytest.fixture(scope="module")
def weighted(glimmer_factory, tmp_path_factory):
    root = tmp_path_factory.mktemp("weighted-conf")
    (root / "policy.yaml").write_text('"download_from_store": "!"\n')
    conf = write_config(root, """
[DEFAULT]
enabled_backends = fast:file, cheap:file

[glance_store]
default_backend = fast

[fast]
filesystem_store_datadir = {root}/fast

[cheap]
filesystem_store_datadir = {root}/cheap
weight = 10

[oslo_policy]
policy_file = {root}/policy.yaml
""")
    srv = glimmer_factory("weighted", extra_args=["--config", str(conf)])
    srv.conf_root = root
    return srv


def test_store_weight_orders_locations_and_policy_guards_prefer(weighted):
    admin = make_principal(weighted.admin_env())
    data = os.urandom(6000)
    image_id, img = image_with_copies(admin.api, data)
    assert img["stores"] == "cheap,fast"  # heavier store first
    cheap = mark_copy(weighted, "cheap", image_id, data)
    assert download(admin.api, image_id).content == cheap
    detail = admin.api.get("/v2/info/stores/detail").json()["stores"]
    assert [(s["id"], s["weight"]) for s in detail] == [("fast", 0), ("cheap", 10)]
    # download_from_store refused by the policy file: ?prefer= is 403, plain download works.
    r = download(admin.api, image_id, "fast", expect=403)
    assert "download_from_store" in r.text
    assert download(admin.api, image_id, "").content == cheap
