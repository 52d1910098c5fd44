"""Interoperable import (issue 4): staging, glance-direct, web-download with SSRF defence,
copy-image between two stores, import plugins, tasks, and crash recovery, driven through the real
`glance` CLI, openstacksdk and raw HTTP against real Glimmer processes.

Servers:
  imp      two filesystem stores (fast = default, cheap), a 16 MiB image_size_cap, web-download
           allowed to reach 127.0.0.1 on the source server's port, a 2 s stall limit, and the
           image_decompression + inject_image_metadata plugins.
  server   the shared default Glimmer: Glance's default URL filter (http/https on 80/443) and
           Glimmer's default address policy (loopback, private, link-local, metadata refused).
The source is a local HTTP server started here (threads, stopped at module end)."""
import gzip
import hashlib
import http.server
import json
import os
import pathlib
import pty
import socket
import subprocess
import threading
import time
import urllib.parse
import uuid

import pytest

import glimmer_testlib as lib
from conftest import make_principal

pytestmark = pytest.mark.glimmer_only

MiB = 1 << 20
CAP = 16 * MiB


# ----------------------------------------------------------------------------- source server
class Source:
    """A loopback HTTP server whose paths are registered by the tests."""

    def __init__(self):
        self.files = {}            # path -> bytes
        self.release = threading.Event()  # set at teardown: stalled responses end
        src = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                if path in src.files:
                    body = src.files[path]
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    for i in range(0, len(body), MiB):
                        self.wfile.write(body[i:i + MiB])
                elif path.startswith("/status/"):
                    code = int(path.rsplit("/", 1)[1])
                    self.send_response(code)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif path == "/redirect":
                    target = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)["to"][0]
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif path == "/stall":
                    self.send_response(200)
                    self.send_header("Content-Length", str(10 * MiB))
                    self.end_headers()
                    self.wfile.write(b"x" * 65536)
                    self.wfile.flush()
                    src.release.wait(120)
                elif path == "/endless":
                    self.send_response(200)
                    self.end_headers()  # no length: read until close
                    block = b"\0" * MiB
                    try:
                        for _ in range(64):
                            self.wfile.write(block)
                    except OSError:
                        pass
                    self.close_connection = True
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, data, suffix=""):
        path = f"/img/{uuid.uuid4().hex}{suffix}"
        self.files[path] = data
        return self.url(path)

    def stop(self):
        self.release.set()
        self.httpd.shutdown()


@pytest.fixture(scope="module")
def source():
    s = Source()
    yield s
    s.stop()


def import_config(root, source_port, extra=""):
    root = pathlib.Path(root)
    conf = root / "glimmer.conf"
    conf.write_text(f"""
[DEFAULT]
enabled_backends = fast:file, cheap:file
image_size_cap = {CAP}

[glance_store]
default_backend = fast

[fast]
filesystem_store_datadir = {root}/fast

[cheap]
filesystem_store_datadir = {root}/cheap

[import_filtering_opts]
allowed_ports = 80,443,{source_port}
allowed_cidrs = 127.0.0.1/32
stall_timeout_seconds = 2

[image_import_opts]
image_import_plugins = ['image_decompression', 'inject_image_metadata', 'image_conversion']

[inject_metadata_properties]
inject = glimmer_injected:yes
ignore_user_roles = admin
{extra}
""")
    return conf


@pytest.fixture(scope="module")
def imp(glimmer_factory, source, tmp_path_factory):
    root = tmp_path_factory.mktemp("import-conf")
    srv = glimmer_factory("import", extra_args=["--config", str(import_config(root,
                                                                               source.port))])
    srv.conf_root = root
    return srv


@pytest.fixture(scope="module")
def imp_admin(imp):
    return make_principal(imp.admin_env())


@pytest.fixture(scope="module")
def imp_member(imp, imp_admin):
    """A member of a second project on the import server (for policy and injection)."""
    env = imp.admin_env()
    sfx = uuid.uuid4().hex[:6]
    lib.run_cli(env, "openstack", "project", "create", f"imp-{sfx}")
    lib.run_cli(env, "openstack", "user", "create", "--password", "Pw-imp-1", f"impu-{sfx}")
    lib.run_cli(env, "openstack", "role", "add", "--project", f"imp-{sfx}", "--user",
                f"impu-{sfx}", "member")
    menv = {k: v for k, v in env.items() if k != "OS_PROJECT_ID"}
    menv.update(OS_USERNAME=f"impu-{sfx}", OS_PASSWORD="Pw-imp-1", OS_PROJECT_NAME=f"imp-{sfx}",
                OS_USER_DOMAIN_NAME="Default", OS_PROJECT_DOMAIN_NAME="Default")
    return make_principal(menv)


# ----------------------------------------------------------------------------- helpers
def glance_with_tty(env, *args, timeout=120):
    """The glance CLI refuses web-download/copy when stdin is not a terminal: give it a pty."""
    master, slave = pty.openpty()
    try:
        p = subprocess.run(["glance", *args], env=lib.cli_env(env), stdin=slave,
                           capture_output=True, text=True, timeout=timeout)
    finally:
        os.close(master)
        os.close(slave)
    assert p.returncode == 0, f"glance {' '.join(args)} failed:\n{p.stdout}\n{p.stderr}"
    return p.stdout


def glance_stdin_file(env, path, *args, timeout=120):
    with open(path, "rb") as f:
        p = subprocess.run(["glance", *args], env=lib.cli_env(env), stdin=f,
                           capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"glance {' '.join(args)} failed:\n{p.stdout}\n{p.stderr}"
    return p.stdout


def field(table, name):
    for line in table.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 2 and cells[1] == name:
            return cells[2]
    raise AssertionError(f"no field {name} in:\n{table}")


def wait_status(api, image_id, statuses, timeout=60):
    deadline = time.monotonic() + timeout
    img = None
    while time.monotonic() < deadline:
        img = api.image(image_id)
        if img["status"] in statuses:
            return img
        time.sleep(0.1)
    raise AssertionError(f"image {image_id} still {img and img['status']} after {timeout}s: {img}")


def tasks_of(api, image_id):
    r = api.get(f"/v2/images/{image_id}/tasks")
    assert r.status_code == 200, r.text
    return r.json()["tasks"]


def wait_task_end(api, image_id, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tasks = tasks_of(api, image_id)
        if tasks and tasks[-1]["status"] in ("success", "failure"):
            return tasks[-1]
        time.sleep(0.1)
    raise AssertionError(f"task of {image_id} did not end: {tasks_of(api, image_id)}")


def new_image(api, **extra):
    fields = {"name": "imp-" + uuid.uuid4().hex[:8], "disk_format": "raw",
              "container_format": "bare"}
    fields.update(extra)
    return api.create_image(**fields)["id"]


def start_import(api, image_id, body, expect=202):
    r = api.post(f"/v2/images/{image_id}/import", json=body)
    assert r.status_code == expect, r.text
    return r


def staging_entries(srv):
    d = srv.data_dir / "staging"
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def assert_failed_cleanly(api, srv, image_id, *message_parts):
    task = wait_task_end(api, image_id)
    assert task["status"] == "failure", task
    for part in message_parts:
        assert part in task["message"], task["message"]
    img = wait_status(api, image_id, ("queued",))
    assert img["checksum"] is None and img["size"] is None, img
    assert "os_glance_import_task" not in img, img
    assert image_id not in staging_entries(srv)
    return task


# ----------------------------------------------------------------------------- discovery
def test_info_import_and_create_header_advertise_methods(imp_admin):
    r = imp_admin.api.get("/v2/info/import")
    assert r.json()["import-methods"]["value"] == ["glance-direct", "web-download", "copy-image"]
    r = imp_admin.api.post("/v2/images", json={"name": "hdr"})
    assert r.status_code == 201
    assert r.headers["OpenStack-image-import-methods"] == "glance-direct,web-download,copy-image"
    assert r.headers["OpenStack-image-store-ids"] == "fast,cheap"
    stores = imp_admin.api.get("/v2/info/stores").json()["stores"]
    assert [s["id"] for s in stores] == ["fast", "cheap"]
    assert stores[0]["default"] == "true" and "default" not in stores[1]


def test_info_stores_is_404_with_one_store(admin):
    assert admin.api.get("/v2/info/stores").status_code == 404


# ----------------------------------------------------------------------------- real clients
def test_glance_cli_glance_direct(imp, imp_admin, tmp_path):
    data = os.urandom(3 * MiB + 17)
    f = tmp_path / "disk.raw"
    f.write_bytes(data)
    out = glance_stdin_file(imp.admin_env(), f, "image-create-via-import", "--disk-format", "raw",
                            "--container-format", "bare", "--import-method", "glance-direct",
                            "--name", "cli-gd")
    image_id = field(out, "id")
    img = wait_status(imp_admin.api, image_id, ("active",))
    assert img["checksum"] == lib.md5_hex(data)
    assert img["os_hash_value"] == lib.sha512_hex(data)
    assert img["size"] == len(data)
    assert img["stores"] == "fast"
    assert "os_glance_import_task" not in img
    task = wait_task_end(imp_admin.api, image_id)
    assert task["status"] == "success" and task["type"] == "api_image_import"
    assert task["result"] == {"image_id": image_id}
    assert task["input"]["import_req"]["method"]["name"] == "glance-direct"
    r = imp_admin.api.get(f"/v2/images/{image_id}/file")
    assert r.content == data
    assert image_id not in staging_entries(imp)


def test_glance_cli_web_download(imp, imp_admin, source):
    data = os.urandom(2 * MiB + 5)
    url = source.add(data)
    out = glance_with_tty(imp.admin_env(), "image-create-via-import", "--disk-format", "raw",
                          "--container-format", "bare", "--import-method", "web-download",
                          "--uri", url, "--name", "cli-wd")
    image_id = field(out, "id")
    img = wait_status(imp_admin.api, image_id, ("active",))
    assert img["checksum"] == lib.md5_hex(data) and img["size"] == len(data)
    assert wait_task_end(imp_admin.api, image_id)["input"]["import_req"]["method"]["uri"] == url


def test_openstacksdk_create_image_use_import(imp, tmp_path):
    import openstack  # Debian's python3-openstacksdk
    env = imp.admin_env()
    conn = openstack.connect(auth_url=env["OS_AUTH_URL"], username=env["OS_USERNAME"],
                             password=env["OS_PASSWORD"], project_name=env["OS_PROJECT_NAME"],
                             user_domain_name="Default", project_domain_name="Default")
    data = os.urandom(MiB + 3)
    f = tmp_path / "sdk.raw"
    f.write_bytes(data)
    img = conn.create_image("sdk-import", filename=str(f), disk_format="raw",
                            container_format="bare", use_import=True, wait=True, timeout=120)
    deadline = time.monotonic() + 30
    got = conn.image.get_image(img.id)
    while got.status != "active" and time.monotonic() < deadline:
        time.sleep(0.1)
        got = conn.image.get_image(img.id)
    assert got.status == "active"
    assert got.checksum == lib.md5_hex(data)
    conn.close()


def test_copy_image_between_stores_as_admin(imp, imp_admin, imp_member, source):
    data = os.urandom(MiB + 11)
    image_id = new_image(imp_admin.api)
    imp_admin.api.upload(image_id, data)
    assert imp_admin.api.image(image_id)["stores"] == "fast"
    # Non-admins may not copy (copy_image policy).
    start_import(imp_member.api, new_image(imp_member.api), {"method": {"name": "copy-image"},
                                                             "stores": ["cheap"]}, expect=403)
    glance_with_tty(imp.admin_env(), "image-import", "--import-method", "copy-image",
                    "--stores", "cheap", image_id)
    task = wait_task_end(imp_admin.api, image_id)
    assert task["status"] == "success", task
    img = imp_admin.api.image(image_id)
    assert img["status"] == "active"
    assert sorted(img["stores"].split(",")) == ["cheap", "fast"]
    assert "os_glance_importing_to_stores" not in img
    # The copy is a real second copy of the same bytes, in the other store's directory.
    copies = [p for p in (imp.conf_root / "cheap").rglob(f"*{image_id}*") if p.is_file()]
    assert len(copies) == 1 and copies[0].read_bytes() == data, copies
    r = imp_admin.api.get(f"/v2/images/{image_id}/file")
    assert r.content == data
    # Copying into a store that already has it is a 400; all_stores with nothing left is a no-op.
    start_import(imp_admin.api, image_id, {"method": {"name": "copy-image"}, "stores": ["cheap"]},
                 expect=400)
    start_import(imp_admin.api, image_id, {"method": {"name": "copy-image"}, "all_stores": True})


def test_import_into_all_stores(imp_admin, source):
    data = os.urandom(MiB)
    image_id = new_image(imp_admin.api)
    start_import(imp_admin.api, image_id, {"method": {"name": "web-download",
                                                      "uri": source.add(data)},
                                           "all_stores": True})
    img = wait_status(imp_admin.api, image_id, ("active",))
    wait_task_end(imp_admin.api, image_id)
    img = imp_admin.api.image(image_id)
    assert sorted(img["stores"].split(",")) == ["cheap", "fast"]
    assert img["checksum"] == lib.md5_hex(data)


# ----------------------------------------------------------------------------- staging
def test_resumable_stage(imp, imp_admin):
    data = os.urandom(4 * MiB + 123)
    image_id = new_image(imp_admin.api)
    api = imp_admin.api
    # A stage cut after ~1.5 MiB (client disconnects): the image goes back to queued and the
    # received bytes stay staged.
    cut = 3 * MiB // 2
    head = (f"PUT /v2/images/{image_id}/stage HTTP/1.1\r\nHost: x\r\n"
            f"X-Auth-Token: {imp_admin.token}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {len(data)}\r\n\r\n").encode()
    s = socket.create_connection(("127.0.0.1", imp.port))
    s.sendall(head + data[:cut])
    time.sleep(0.5)
    s.close()
    deadline = time.monotonic() + 10
    while api.image(image_id)["status"] != "queued" and time.monotonic() < deadline:
        time.sleep(0.05)
    r = api.head(f"/v2/images/{image_id}/stage")
    assert r.status_code == 200
    offset = int(r.headers["Upload-Offset"])
    assert 0 < offset <= cut
    assert api.image(image_id)["status"] == "queued"
    # A wrong offset is refused with the right one.
    r = api.put(f"/v2/images/{image_id}/stage", data=data[offset + 1:],
                headers={"Content-Type": "application/octet-stream",
                         "Upload-Offset": str(offset + 1)})
    assert r.status_code == 409, r.text
    assert r.headers["Upload-Offset"] == str(offset)
    # Resume from the offset.
    r = api.put(f"/v2/images/{image_id}/stage", data=data[offset:],
                headers={"Content-Type": "application/octet-stream",
                         "Upload-Offset": str(offset)})
    assert r.status_code == 204, r.text
    assert r.headers["Upload-Offset"] == str(len(data))
    img = api.image(image_id)
    assert img["status"] == "uploading" and img["size"] == len(data)
    start_import(api, image_id, {"method": {"name": "glance-direct"}})
    img = wait_status(api, image_id, ("active",))
    assert img["checksum"] == lib.md5_hex(data)


def test_plain_stage_restarts_from_zero_and_delete_removes_staging(imp, imp_admin):
    api = imp_admin.api
    image_id = new_image(api)
    hdr = {"Content-Type": "application/octet-stream"}
    r = api.put(f"/v2/images/{image_id}/stage", data=b"a" * 1000, headers=hdr)
    assert r.status_code == 204
    assert api.image(image_id)["status"] == "uploading"
    assert api.put(f"/v2/images/{image_id}/stage", data=b"b", headers=hdr).status_code == 409
    assert image_id in staging_entries(imp)
    api.delete_image(image_id)
    assert image_id not in staging_entries(imp)


def test_stage_errors(imp_admin, imp_member):
    api = imp_admin.api
    image_id = new_image(api)
    r = api.put(f"/v2/images/{image_id}/stage", data=b"x",
                headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    r = imp_member.api.put(f"/v2/images/{image_id}/stage", data=b"x",
                           headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 404  # not visible to another project
    r = api.put(f"/v2/images/{image_id}/stage", data=b"x" * 10,
                headers={"Content-Type": "application/octet-stream",
                         "x-openstack-image-size": "11"})
    assert r.status_code == 400 and "Size mismatch" in r.text
    assert api.image(image_id)["status"] == "queued"


# ----------------------------------------------------------------------------- plugins
def test_decompression_plugin_gzip_and_zstd(imp_admin, source, tmp_path):
    api = imp_admin.api
    data = os.urandom(MiB) + b"\0" * (2 * MiB)
    image_id = new_image(api)
    start_import(api, image_id, {"method": {"name": "web-download",
                                            "uri": source.add(gzip.compress(data), ".gz")}})
    img = wait_status(api, image_id, ("active", "queued"))
    assert img["status"] == "active", wait_task_end(api, image_id)
    assert img["size"] == len(data) and img["checksum"] == lib.md5_hex(data)
    raw = tmp_path / "d.raw"
    raw.write_bytes(data)
    subprocess.run(["zstd", "-q", "-f", str(raw), "-o", str(tmp_path / "d.zst")], check=True)
    image_id = new_image(api)
    start_import(api, image_id, {"method": {"name": "web-download",
                                            "uri": source.add((tmp_path / "d.zst").read_bytes())}})
    img = wait_status(api, image_id, ("active", "queued"))
    assert img["status"] == "active" and img["checksum"] == lib.md5_hex(data)


def test_decompression_refuses_a_zip_with_two_members(imp, imp_admin, source, tmp_path):
    import zipfile
    z = tmp_path / "two.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("a.raw", b"a" * 1000)
        zf.writestr("b.raw", b"b" * 1000)
    image_id = new_image(imp_admin.api)
    start_import(imp_admin.api, image_id, {"method": {"name": "web-download",
                                                      "uri": source.add(z.read_bytes())}})
    assert_failed_cleanly(imp_admin.api, imp, image_id, "image_decompression", "2 members")


def test_inject_metadata_for_members_not_admins(imp_admin, imp_member, source):
    data = os.urandom(4096)
    mine = new_image(imp_member.api)
    start_import(imp_member.api, mine, {"method": {"name": "web-download",
                                                   "uri": source.add(data)}})
    img = wait_status(imp_member.api, mine, ("active",))
    assert img.get("glimmer_injected") == "yes"
    theirs = new_image(imp_admin.api)
    start_import(imp_admin.api, theirs, {"method": {"name": "web-download",
                                                    "uri": source.add(data)}})
    img = wait_status(imp_admin.api, theirs, ("active",))
    assert "glimmer_injected" not in img


def test_conversion_plugin_makes_raw_identical_to_qemu_img(imp, imp_admin, tmp_path):
    raw = tmp_path / "src.raw"
    with open(raw, "wb") as f:
        f.truncate(12 * MiB)
        f.seek(3 * MiB)
        f.write(os.urandom(2 * MiB))
    qcow = tmp_path / "src.qcow2"
    subprocess.run(["qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2", str(raw), str(qcow)],
                   check=True)
    expected = tmp_path / "expected.raw"
    subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", str(qcow), str(expected)],
                   check=True)
    out = glance_stdin_file(imp.admin_env(), qcow, "image-create-via-import", "--disk-format",
                            "qcow2", "--container-format", "bare", "--import-method",
                            "glance-direct", "--name", "converted")
    image_id = field(out, "id")
    img = wait_status(imp_admin.api, image_id, ("active", "queued"))
    assert img["status"] == "active", wait_task_end(imp_admin.api, image_id)
    assert img["disk_format"] == "raw" and img["container_format"] == "bare"
    data = expected.read_bytes()
    assert img["size"] == len(data) == img["virtual_size"]
    assert img["checksum"] == lib.md5_hex(data)
    assert imp_admin.api.get(f"/v2/images/{image_id}/file").content == data


def test_conversion_plugin_refuses_a_backing_file(imp, imp_admin, tmp_path):
    base = tmp_path / "base.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(base), "16M"], check=True)
    top = tmp_path / "top.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(base), "-F", "qcow2",
                    str(top)], check=True)
    image_id = new_image(imp_admin.api, disk_format="qcow2")
    r = imp_admin.api.put(f"/v2/images/{image_id}/stage", data=top.read_bytes(),
                          headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 204
    start_import(imp_admin.api, image_id, {"method": {"name": "glance-direct"}})
    assert_failed_cleanly(imp_admin.api, imp, image_id, "image_conversion", "backing_file")


# ----------------------------------------------------------------------------- failures
@pytest.mark.parametrize("path,parts", [
    ("/status/404", ["404"]),
    ("/status/500", ["500"]),
    ("/stall", ["stalled"]),
    ("/endless", ["exceeds"]),
    ("/redirect?to=http%3A%2F%2F169.254.169.254%2Flatest", ["169.254.169.254", "not allowed"]),
    ("/redirect?to=http%3A%2F%2F%5B%3A%3A1%5D%2Fx", ["::1", "not allowed"]),
    ("/redirect?to=file%3A%2F%2F%2Fetc%2Fpasswd", ["file", "not allowed"]),
])
def test_web_download_failures_end_cleanly(imp, imp_admin, source, path, parts):
    image_id = new_image(imp_admin.api)
    start_import(imp_admin.api, image_id, {"method": {"name": "web-download",
                                                      "uri": source.url(path)}})
    assert_failed_cleanly(imp_admin.api, imp, image_id, *parts)


@pytest.mark.parametrize("uri", ["file:///etc/passwd", "ftp://127.0.0.1/x",
                                 "http://127.1/x", "http://2130706433/x",
                                 "http://127.0.0.1:8080/x", "http:///x", "gopher://a/b"])
def test_ssrf_urls_rejected_before_any_task(admin, uri):
    image_id = new_image(admin.api)
    r = start_import(admin.api, image_id, {"method": {"name": "web-download", "uri": uri}},
                     expect=400)
    assert "filtering" in r.text
    assert admin.api.image(image_id)["status"] == "queued"
    assert tasks_of(admin.api, image_id) == []


@pytest.mark.parametrize("uri,why", [
    ("http://127.0.0.1/x", "loopback"),
    ("http://localhost/x", "loopback"),
    ("http://[::1]/x", "loopback"),
    ("http://169.254.169.254/latest/meta-data", "metadata"),
    ("http://10.0.0.1/x", "private"),
])
def test_ssrf_addresses_refused_at_download(server, admin, uri, why):
    image_id = new_image(admin.api)
    start_import(admin.api, image_id, {"method": {"name": "web-download", "uri": uri}})
    assert_failed_cleanly(admin.api, server, image_id, "not allowed", why)


def test_import_request_errors(imp_admin, imp_member, source):
    api = imp_admin.api
    image_id = new_image(api)
    start_import(api, image_id, {"method": {"name": "glance-direct"}}, expect=409)  # not staged
    start_import(api, image_id, {"method": {"name": "teleport"}}, expect=400)
    start_import(api, image_id, {"method": {"name": "web-download"}}, expect=400)  # no uri
    start_import(api, image_id, {}, expect=400)
    start_import(api, image_id, {"method": {"name": "web-download", "uri": source.add(b"x")},
                                 "all_stores": "yes"}, expect=400)
    start_import(api, image_id, {"method": {"name": "web-download", "uri": source.add(b"x")},
                                 "stores": ["nowhere"]}, expect=409)
    r = api.post(f"/v2/images/{image_id}/import", data="{not json",
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    bare = api.create_image(name="noformats")["id"]
    start_import(api, bare, {"method": {"name": "web-download", "uri": source.add(b"x")}},
                 expect=409)
    # Another project's private image is not found; a member may not import into it.
    start_import(imp_member.api, image_id, {"method": {"name": "web-download",
                                                       "uri": source.add(b"x")}}, expect=404)
    assert api.get(f"/v2/images/{image_id}/import").status_code == 405


def test_import_lock_blocks_a_second_import(imp, imp_admin, source):
    api = imp_admin.api
    image_id = new_image(api)
    start_import(api, image_id, {"method": {"name": "web-download", "uri": source.url("/stall")}})
    img = api.image(image_id)
    assert img["status"] == "importing"
    assert img["os_glance_import_task"] == tasks_of(api, image_id)[0]["id"]
    start_import(api, image_id, {"method": {"name": "web-download", "uri": source.add(b"x")}},
                 expect=409)
    assert_failed_cleanly(api, imp, image_id, "stalled")
    # Once the first task has failed, the image can be imported again.
    data = os.urandom(1000)
    start_import(api, image_id, {"method": {"name": "web-download", "uri": source.add(data)}})
    assert wait_status(api, image_id, ("active",))["checksum"] == lib.md5_hex(data)


def test_deleting_an_importing_image_fails_its_task(imp, imp_admin, source):
    api = imp_admin.api
    image_id = new_image(api)
    start_import(api, image_id, {"method": {"name": "web-download", "uri": source.url("/stall")}})
    task_id = tasks_of(api, image_id)[0]["id"]
    api.delete_image(image_id)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        t = api.get(f"/v2/tasks/{task_id}").json()
        if t["status"] == "failure":
            break
        time.sleep(0.1)
    assert t["status"] == "failure", t
    assert image_id not in staging_entries(imp)


# ----------------------------------------------------------------------------- tasks API
def test_tasks_api_is_admin_only(imp_admin, imp_member, source):
    image_id = new_image(imp_member.api)
    start_import(imp_member.api, image_id, {"method": {"name": "web-download",
                                                       "uri": source.add(b"y" * 100)}})
    task = wait_task_end(imp_member.api, image_id)  # the owner sees its image's tasks
    assert task["owner"] == imp_member.project_id
    assert imp_member.api.get("/v2/tasks").status_code == 403
    assert imp_member.api.get(f"/v2/tasks/{task['id']}").status_code == 403
    r = imp_admin.api.get("/v2/tasks", params={"limit": 1000})
    assert r.status_code == 200
    listed = {t["id"]: t for t in r.json()["tasks"]}
    assert task["id"] in listed and "input" not in listed[task["id"]]
    full = imp_admin.api.get(f"/v2/tasks/{task['id']}").json()
    assert full["input"]["image_id"] == image_id and full["self"] == f"/v2/tasks/{task['id']}"
    r = imp_admin.api.delete(f"/v2/tasks/{task['id']}")
    assert r.status_code == 405 and r.headers["Allow"] == "GET"
    assert imp_admin.api.get("/v2/tasks", params={"status": "bogus"}).status_code == 400
    assert imp_admin.api.get("/v2/tasks/" + str(uuid.uuid4())).status_code == 404
    page = imp_admin.api.get("/v2/tasks", params={"limit": 1}).json()
    assert len(page["tasks"]) == 1 and "next" in page


def test_image_tasks_show_only_own_projects_tasks_and_hide_url_secrets(imp, imp_admin,
                                                                       imp_member, source):
    """Glance's _is_task_visible: GET /v2/images/{id}/tasks lists, for a non-admin, only its own
    project's tasks, even on an image it can see. The web-download URL's query (presigned-URL
    signatures) is shown to the task's project only, and never in task messages or logs."""
    secret = "SECRET" + uuid.uuid4().hex[:8]
    # A member imports into its community image from a presigned-looking URL.
    mine = new_image(imp_member.api, visibility="community")
    uri = source.add(b"m" * 1000) + f"?X-Amz-Signature={secret}&X-Amz-Credential=AKIA"
    start_import(imp_member.api, mine, {"method": {"name": "web-download", "uri": uri}})
    task = wait_task_end(imp_member.api, mine)
    assert task["status"] == "success", task
    assert task["input"]["import_req"]["method"]["uri"] == uri       # its own project: as given
    seen = tasks_of(imp_admin.api, mine)                              # an admin of another project
    assert [t["id"] for t in seen] == [task["id"]]
    assert seen[0]["input"]["import_req"]["method"]["uri"] == uri.split("?")[0]
    assert secret not in json.dumps(seen)
    assert secret not in json.dumps(imp_admin.api.get(f"/v2/tasks/{task['id']}").json())
    # The admin's import into a community image: the member sees the image, not the task.
    theirs = new_image(imp_admin.api, visibility="community")
    start_import(imp_admin.api, theirs, {"method": {"name": "web-download",
                                                    "uri": source.add(b"a" * 1000)}})
    wait_task_end(imp_admin.api, theirs)
    assert imp_member.api.image(theirs)["status"] == "active"
    assert tasks_of(imp_member.api, theirs) == []
    # A failure message names the URL without its query, for the owner too.
    failing = new_image(imp_member.api)
    start_import(imp_member.api, failing, {"method": {"name": "web-download",
                                                      "uri": source.url(f"/status/404?sig={secret}")}})
    task = assert_failed_cleanly(imp_member.api, imp, failing, "404", "/status/404")
    assert secret not in task["message"]
    assert secret not in imp.log_path.read_text(errors="replace")


# ----------------------------------------------------------------------------- crashes
@pytest.mark.slow
def test_kill_during_import_then_restart_ends_cleanly(glimmer_factory, source, tmp_path_factory):
    """kill -9 while a web-download hangs: at the next start the task is resumed (second
    attempt), stalls again and fails cleanly; an interrupted stage is back in queued with its
    bytes kept for resumption."""
    root = tmp_path_factory.mktemp("crash-conf")
    srv = glimmer_factory("import-crash", extra_args=["--config",
                                                      str(import_config(root, source.port))])
    admin = make_principal(srv.admin_env())
    api = admin.api
    image_id = new_image(api)
    start_import(api, image_id, {"method": {"name": "web-download", "uri": source.url("/stall")}})
    deadline = time.monotonic() + 10
    while tasks_of(api, image_id)[0]["status"] != "processing" and time.monotonic() < deadline:
        time.sleep(0.05)
    staged_id = new_image(api)
    head = (f"PUT /v2/images/{staged_id}/stage HTTP/1.1\r\nHost: x\r\n"
            f"X-Auth-Token: {admin.token}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {4 * MiB}\r\n\r\n").encode()
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(head + b"z" * MiB)
    time.sleep(0.5)
    srv.kill()
    s.close()
    srv.start()
    admin = make_principal(srv.admin_env())
    api = admin.api
    task = assert_failed_cleanly(api, srv, image_id, "stalled")
    full = api.get(f"/v2/tasks/{task['id']}").json()
    assert full["status"] == "failure"
    img = api.image(staged_id)
    assert img["status"] == "queued"
    offset = int(api.head(f"/v2/images/{staged_id}/stage").headers["Upload-Offset"])
    assert 0 < offset <= MiB
    # Nothing but committed data, staging of the resumable image, the DB and openrc remain.
    leftovers = [p for p in (root / "fast").rglob("*") if p.is_file()]
    assert leftovers == [], leftovers
    assert staging_entries(srv) == [staged_id]


# ----------------------------------------------------------------------------- glance-download
@pytest.mark.slow
def test_glance_download_from_another_region(glimmer_factory, tmp_path_factory):
    """Two Glimmer processes sharing one database (so one identity, as regions share Keystone):
    region B imports an image of region A through A's HTTP API with the user's token."""
    region_a = glimmer_factory("region-a")
    root = tmp_path_factory.mktemp("region-b")
    conf = root / "glimmer.conf"
    conf.write_text(f"""
[DEFAULT]
enabled_import_methods = glance-direct, web-download, copy-image, glance-download

[glance_download_properties]
regions = RegionOne=http://127.0.0.1:{region_a.port}
""")
    region_b = lib.GlimmerServer(region_a.data_dir, root / "server.log",
                                 extra_args=["--config", str(conf)])
    region_b.start()
    try:
        a = make_principal(region_a.admin_env())
        b = make_principal(region_b.admin_env())
        qcow = root / "remote.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(qcow), "64M"], check=True)
        data = qcow.read_bytes()
        remote_id = a.api.create_image(name="remote", disk_format="qcow2",
                                       container_format="bare", os_distro="debian",
                                       hw_disk_bus="scsi", unrelated="x")["id"]
        a.api.upload(remote_id, data)
        local_id = b.api.create_image(name="local")["id"]  # formats come from the remote image
        r = b.api.post(f"/v2/images/{local_id}/import",
                       json={"method": {"name": "glance-download", "glance_image_id": remote_id,
                                        "glance_region": "RegionOne"}})
        assert r.status_code == 202, r.text
        task = wait_task_end(b.api, local_id)
        assert task["status"] == "success", task
        img = b.api.image(local_id)
        assert img["status"] == "active" and img["checksum"] == lib.md5_hex(data)
        assert img["disk_format"] == "qcow2" and img["container_format"] == "bare"
        assert img["virtual_size"] == 64 * MiB
        assert img["os_distro"] == "debian" and img["hw_disk_bus"] == "scsi"
        assert "unrelated" not in img
        # Errors: unknown region (400), a remote image that is not active (task failure).
        r = b.api.post(f"/v2/images/{b.api.create_image(name='x')['id']}/import",
                       json={"method": {"name": "glance-download", "glance_image_id": remote_id,
                                        "glance_region": "Atlantis"}})
        assert r.status_code == 400 and "Atlantis" in r.text
        queued_remote = a.api.create_image(name="empty", disk_format="raw",
                                           container_format="bare")["id"]
        other = b.api.create_image(name="other")["id"]
        r = b.api.post(f"/v2/images/{other}/import",
                       json={"method": {"name": "glance-download",
                                        "glance_image_id": queued_remote,
                                        "glance_region": "RegionOne"}})
        assert r.status_code == 202
        task = wait_task_end(b.api, other)
        assert task["status"] == "failure" and "not active" in task["message"], task
        assert b.api.image(other)["status"] == "queued"
    finally:
        region_b.stop()
