"""Imports that write the data once: web-download streams straight into the store when no
configured import plugin needs the file (no staged file ever exists), with the same limits and
the same clean failures as the staging path.
"""
import hashlib
import http.server
import os
import pathlib
import threading
import time
import uuid

import pytest

import glimmer_testlib as lib
import test_import as ti
from conftest import make_principal

pytestmark = pytest.mark.glimmer_only

MiB = 1 << 20
CAP = 16 * MiB


class SlowSource:
    """Serves /slow/<n>: n MiB of a known pattern, 256 KiB every 50 ms (about 5 MiB/s);
    /nolength/<n>: n MiB without Content-Length."""

    def __init__(self):
        src = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                parts = self.path.strip("/").split("/")
                if len(parts) != 2 or parts[0] not in ("slow", "nolength"):
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                kind, n = parts
                body = src.pattern(int(n))
                self.send_response(200)
                if kind == "slow":
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    step = 256 << 10
                    for i in range(0, len(body), step):
                        self.wfile.write(body[i:i + step])
                        if kind == "slow":
                            self.wfile.flush()
                            time.sleep(0.05)
                except OSError:
                    pass
                self.close_connection = True

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @staticmethod
    def pattern(mib):
        block = bytes(range(256)) * 4096  # 1 MiB
        return b"".join(block[i:] + block[:i] for i in range(mib))

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture(scope="module")
def slow():
    s = SlowSource()
    yield s
    s.httpd.shutdown()


@pytest.fixture(scope="module")
def streaming(glimmer_factory, slow, tmp_path_factory):
    """Two file stores, only inject_image_metadata configured: nothing needs a staged file."""
    root = tmp_path_factory.mktemp("stream-conf")
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
allowed_ports = 80,443,{slow.port}
allowed_cidrs = 127.0.0.1/32
stall_timeout_seconds = 2

[image_import_opts]
image_import_plugins = ['inject_image_metadata']

[inject_metadata_properties]
inject = glimmer_injected:yes
ignore_user_roles = nobody
""")
    srv = glimmer_factory("stream", extra_args=["--config", str(conf)])
    srv.conf_root = root
    return srv


@pytest.fixture(scope="module")
def admin(streaming):
    return make_principal(streaming.admin_env())


def incoming(srv, store):
    d = pathlib.Path(srv.conf_root) / store / ".incoming"
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def test_web_download_streams_into_the_store_without_staging(streaming, admin, slow):
    api = admin.api
    image_id = ti.new_image(api)
    ti.start_import(api, image_id, {"method": {"name": "web-download",
                                               "uri": slow.url("/slow/8")}})
    seen_part = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert ti.staging_entries(streaming) == [], "a staged file exists during web-download"
        seen_part = seen_part or any(n.startswith(image_id) for n in incoming(streaming, "fast"))
        if api.image(image_id)["status"] != "importing":
            break
        time.sleep(0.05)
    img = ti.wait_status(api, image_id, ("active",))
    assert seen_part, "the data never went to the store's .incoming while downloading"
    data = slow.pattern(8)
    assert img["checksum"] == lib.md5_hex(data)
    assert img["size"] == len(data) and img["virtual_size"] == len(data)
    assert img["glimmer_injected"] == "yes"  # metadata plugins still run
    r = api.get(f"/v2/images/{image_id}/file")
    assert r.status_code == 200 and r.content == data
    assert incoming(streaming, "fast") == [] and ti.staging_entries(streaming) == []


def test_web_download_into_two_stores_copies_from_the_first(streaming, admin, slow):
    api = admin.api
    image_id = ti.new_image(api)
    ti.start_import(api, image_id, {"method": {"name": "web-download",
                                               "uri": slow.url("/nolength/3")},
                                    "stores": ["fast", "cheap"]})
    img = ti.wait_status(api, image_id, ("active",))
    ti.wait_task_end(api, image_id)
    img = api.image(image_id)
    assert sorted(img["stores"].split(",")) == ["cheap", "fast"], img
    assert img["checksum"] == lib.md5_hex(slow.pattern(3))
    for store in ("fast", "cheap"):
        assert (pathlib.Path(streaming.conf_root) / store / image_id).read_bytes() == \
            slow.pattern(3)


def test_size_cap_exceeded_mid_stream_fails_cleanly(streaming, admin, slow):
    api = admin.api
    image_id = ti.new_image(api)
    # No Content-Length: the cap is only found out while the data is written to the store.
    ti.start_import(api, image_id, {"method": {"name": "web-download",
                                               "uri": slow.url("/nolength/20")}})
    ti.assert_failed_cleanly(api, streaming, image_id, "exceeds", "image size cap")
    assert incoming(streaming, "fast") == []
    assert not (pathlib.Path(streaming.conf_root) / "fast" / image_id).exists()


def test_stalled_stream_and_deleted_image_leave_nothing(streaming, admin, slow):
    api = admin.api
    image_id = ti.new_image(api)
    ti.start_import(api, image_id, {"method": {"name": "web-download",
                                               "uri": slow.url("/slow/15")}})
    ti.wait_status(api, image_id, ("importing",))
    time.sleep(0.5)
    task_id = ti.tasks_of(api, image_id)[0]["id"]
    api.delete_image(image_id)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        t = api.get(f"/v2/tasks/{task_id}").json()
        if t["status"] == "failure":
            break
        time.sleep(0.1)
    assert t["status"] == "failure", t
    assert incoming(streaming, "fast") == []
    assert not (pathlib.Path(streaming.conf_root) / "fast" / image_id).exists()


def test_failed_source_ends_cleanly(streaming, admin, slow):
    api = admin.api
    image_id = ti.new_image(api)
    ti.start_import(api, image_id, {"method": {"name": "web-download",
                                               "uri": f"http://127.0.0.1:{slow.port + 0}/x"}})
    ti.assert_failed_cleanly(api, streaming, image_id, "web-download", "404")
    assert incoming(streaming, "fast") == []


def test_glance_direct_adopts_the_staged_file(streaming, admin):
    """A stage written in one go is hashed while it is received; the import links the staged
    file into the store (same inode, no second copy) and uses those digests."""
    api = admin.api
    image_id = ti.new_image(api)
    data = os.urandom(5 * MiB + 123)
    r = api.put(f"/v2/images/{image_id}/stage", data=data,
                headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 204, r.text
    assert "os_glance_stage_digest" not in api.image(image_id)  # hidden bookkeeping
    staged = streaming.data_dir / "staging" / image_id
    inode = staged.stat().st_ino
    ti.start_import(api, image_id, {"method": {"name": "glance-direct"}})
    img = ti.wait_status(api, image_id, ("active",))
    assert img["checksum"] == lib.md5_hex(data)
    assert img["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert img["size"] == len(data) and img["virtual_size"] == len(data)
    stored = pathlib.Path(streaming.conf_root) / "fast" / image_id
    assert stored.stat().st_ino == inode and stored.stat().st_nlink == 1
    assert ti.staging_entries(streaming) == [] and incoming(streaming, "fast") == []
    r = api.get(f"/v2/images/{image_id}/file")
    assert r.status_code == 200 and r.content == data
