"""A node that dies in the middle of an upload or a stage and never comes back: another node
sharing the database returns the image to queued once the dead node has been silent for two
task leases (it records a heartbeat with its task runner), as it already gives up import tasks
pinned to such a node. Without this the image stayed `saving` / `uploading` until the dead
node restarted.

Two processes share one data directory: on the default backend one SQLite database (and one
filesystem store, standing in for each node's own disk), in the distributed pass one PostgreSQL
database and Ceph RBD, whose partial data the surviving node can remove."""
import socket
import time
import uuid

import pytest

import glimmer_testlib as lib
from conftest import make_principal

pytestmark = pytest.mark.glimmer_only

MiB = 1 << 20
LEASE = 3  # seconds: a node silent for 2 leases is dead to the others


def _env(node):
    return {"GLIMMER_GLIMMER__NODE_ID": node, "GLIMMER_GLIMMER__TASK_LEASE_SECONDS": str(LEASE)}


def _open_body(srv, token, method_path, total):
    """Starts a request with a Content-Length of `total` and sends the first MiB."""
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall((f"PUT {method_path} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {token}\r\n"
               f"Content-Type: application/octet-stream\r\nContent-Length: {total}\r\n\r\n"
               ).encode() + b"d" * MiB)
    return s


def _wait_status(api, iid, status, timeout):
    deadline = time.monotonic() + timeout
    while True:
        img = api.image(iid)
        if img["status"] == status:
            return img
        assert time.monotonic() < deadline, f"image {iid} still {img['status']}, not {status}"
        time.sleep(0.1)


def test_upload_and_stage_of_a_dead_node_return_to_queued(glimmer_factory, tmp_path_factory):
    a = glimmer_factory("dead-node-a", extra_env=_env("node-a"))
    root = tmp_path_factory.mktemp("dead-node-b")
    b = lib.GlimmerServer(a.data_dir, root / "server.log", extra_env=_env("node-b"))
    b.start()
    try:
        on_a = make_principal(a.admin_env())
        on_b = make_principal(b.admin_env())
        upload = on_b.api.create_image(name="up-" + uuid.uuid4().hex[:6], disk_format="raw",
                                       container_format="bare")["id"]
        stage = on_b.api.create_image(name="st-" + uuid.uuid4().hex[:6], disk_format="raw",
                                      container_format="bare")["id"]
        up_sock = _open_body(a, on_a.token, f"/v2/images/{upload}/file", 8 * MiB)
        st_sock = _open_body(a, on_a.token, f"/v2/images/{stage}/stage", 8 * MiB)
        _wait_status(on_b.api, upload, "saving", 20)
        _wait_status(on_b.api, stage, "uploading", 20)
        # While node-a lives, node-b leaves its slow transfers alone, however long they take.
        until = time.monotonic() + 3 * LEASE
        while time.monotonic() < until:
            up_sock.sendall(b"d" * 65536)
            st_sock.sendall(b"d" * 65536)
            time.sleep(0.5)
        assert on_b.api.image(upload)["status"] == "saving"
        assert on_b.api.image(stage)["status"] == "uploading"
        incoming = a.data_dir / "images" / ".incoming"
        parts = [] if lib.distributed() else sorted(p.name for p in incoming.iterdir())
        if lib.distributed():
            partial = lib.rbd_images([upload])
            assert [v["incomplete"] for v in partial.values()] == ["node-a"], partial
        else:
            assert any(n.startswith(upload) for n in parts), parts

        a.kill()  # never to return (until the end of the test)
        killed = time.monotonic()
        up_sock.close()
        st_sock.close()
        img = _wait_status(on_b.api, upload, "queued", 20 * LEASE)
        assert time.monotonic() - killed >= 2 * LEASE - 0.5  # not before two leases of silence
        assert (img["size"], img["checksum"]) == (None, None)
        img = _wait_status(on_b.api, stage, "queued", 20 * LEASE)
        assert img["size"] is None
        log = b.log_path.read_text(errors="replace")
        assert "node-a" in log and "silent for two" in log
        if lib.distributed():
            # RBD is shared: node-b removed the dead node's partial image.
            assert lib.rbd_images([upload]) == {}
        else:
            # The dead node's own disk: its partial file is left for its start-up clean-up, and
            # the staged bytes stay for a resumption on it.
            assert sorted(p.name for p in incoming.iterdir()) == parts
            assert (a.data_dir / "staging" / stage).stat().st_size >= MiB
        # The images are usable again at once, on the surviving node.
        on_b.api.upload(upload, b"u" * 1000)
        assert on_b.api.image(upload)["status"] == "active"
        r = on_b.api.put(f"/v2/images/{stage}/stage", data=b"s" * 1000,
                         headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 204, r.text
        # When the dead node returns, its start-up removes what it left.
        a.start()
        if not lib.distributed():
            assert not any(p.name.startswith(upload) for p in incoming.iterdir())
    finally:
        b.stop()
