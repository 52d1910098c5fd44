"""Crash safety and graceful shutdown of the real server process (Glimmer only).

kill -9 in the middle of several large concurrent uploads must never leave an active image whose
bytes differ from its checksum; after a restart interrupted uploads are `queued` again, nothing
but committed images, the database and openrc-admin remains in the data directory, and the
uploads can be retried. SIGTERM lets in-flight uploads finish (or rolls them back) and exits 0."""
import hashlib
import os
import pathlib
import socket
import threading
import time
import urllib.parse
import uuid

import pytest

import glimmer_testlib as lib
from conftest import make_principal

pytestmark = [pytest.mark.glimmer_only, pytest.mark.slow]

MiB = 1 << 20


class Stream:
    """A generator body of `total` bytes built from one random 1 MiB block (so the test uses
    little memory); `sent` counts bytes handed to requests."""

    def __init__(self, total, seed=None):
        self.total = total
        self.block = os.urandom(MiB) if seed is None else (seed * (MiB // len(seed) + 1))[:MiB]
        self.sent = 0

    def __iter__(self):
        view = memoryview(self.block)
        while self.sent < self.total:
            n = min(MiB, self.total - self.sent)
            yield view[:n].tobytes() if n < MiB else self.block
            self.sent += n

    def md5(self):
        h = hashlib.md5()
        full, rest = divmod(self.total, MiB)
        for _ in range(full):
            h.update(self.block)
        h.update(self.block[:rest])
        return h.hexdigest()


class LengthStream(Stream):
    """The same bytes as a file-like body with a length: requests sends Content-Length."""

    def __len__(self):
        return self.total

    def read(self, n=-1):
        off = self.sent % MiB
        n = MiB if n is None or n < 0 else n
        n = min(n, self.total - self.sent, MiB - off)
        if n <= 0:
            return b""
        self.sent += n
        return self.block[off:off + n]


class Uploader(threading.Thread):
    def __init__(self, principal, image_id, stream, hint):
        super().__init__(daemon=True)
        self.api = principal.new_api()
        self.image_id, self.stream, self.hint = image_id, stream, hint
        self.status = None
        self.error = None

    def run(self):
        headers = {"Content-Type": "application/octet-stream"}
        if self.hint:
            headers["x-openstack-image-size"] = str(self.stream.total)
        try:
            body = self.stream if isinstance(self.stream, LengthStream) else iter(self.stream)
            r = self.api.put(f"/v2/images/{self.image_id}/file", data=body,
                             headers=headers, timeout=600)
            self.status = r.status_code
        except Exception as e:  # connection reset by the kill
            self.error = e


def new_raw_image(api, name):
    return api.create_image(name=name, disk_format="raw", container_format="bare")["id"]


def restart(srv):
    """Starts the server again on the same data dir (same port if the OS lets us)."""
    try:
        srv.start()
    except AssertionError:
        srv.port = lib.free_port()
        srv.start()
    return make_principal(srv.admin_env())


def all_images(admin):
    out, url = [], "/v2/images?limit=1000&visibility=all"
    while url:
        body = admin.api.get(url).json()
        out += body["images"]
        url = body.get("next")
    hidden = admin.api.get("/v2/images", params={"limit": 1000, "os_hidden": "true",
                                                  "visibility": "all"}).json()["images"]
    return out + hidden


def is_sqlite_family(path):
    """The database file or one of its -wal/-shm/-journal companions."""
    p = pathlib.Path(path)
    for suffix in ("-wal", "-shm", "-journal"):
        if p.name.endswith(suffix):
            p = p.with_name(p.name[: -len(suffix)])
            break
    try:
        with open(p, "rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def assert_data_dir_clean(data_dir, images):
    """Only committed image files, the database and openrc-admin may remain: every other file
    must be the data of exactly one active image (its id in the path, its size)."""
    active = {i["id"]: i for i in images if i["status"] in ("active", "deactivated")}
    found = {}
    stray = []
    for root, _dirs, names in os.walk(data_dir):
        for n in names:
            path = pathlib.Path(root) / n
            rel = path.relative_to(data_dir)
            if str(rel).startswith("openrc") or is_sqlite_family(path):
                continue
            owners = [i for i in active if i in str(rel)]
            if len(owners) != 1 or owners[0] in found:
                stray.append(f"{rel} ({path.stat().st_size} bytes)")
                continue
            found[owners[0]] = path.stat().st_size
    assert not stray, f"leftover files in {data_dir}: {stray}"
    for iid, img in active.items():
        if img["size"] and not lib.distributed():
            assert found.get(iid) == img["size"], (iid, img["size"], found.get(iid))
    incoming = pathlib.Path(data_dir) / "images" / ".incoming"
    if incoming.exists():
        assert list(incoming.iterdir()) == []
    if lib.distributed():
        # The data is in RBD: one image with its protected snapshot per active image, of its
        # size; nothing left of interrupted writes (the restart removed this node's leftovers).
        rbd_state = lib.rbd_images([i["id"] for i in images])
        for iid, img in active.items():
            mine = {n: v for n, v in rbd_state.items() if n.startswith(iid)}
            assert len(mine) == 1, (iid, mine)
            (info,) = mine.values()
            assert info["snaps"] == [("snap", True)] and info["incomplete"] is None, info
            assert info["size"] == img["size"], (iid, info, img["size"])
        stray = {n: v for n, v in rbd_state.items() if not n.startswith(tuple(active))}
        assert not stray, f"RBD images of images that are not active: {stray}"


@pytest.mark.parametrize("kill_at", ["midway", "last-byte"])
def test_sigkill_during_concurrent_uploads(glimmer_factory, kill_at):
    """midway: the big upload is 40% through; last-byte: the big upload's last byte has just
    been handed to the socket, i.e. the server is hashing/fsyncing/renaming/committing."""
    srv = glimmer_factory("crash-" + kill_at)
    admin = make_principal(srv.admin_env())
    api = admin.api

    # A finished upload before the crash must survive it intact.
    small = Stream(5 * MiB + 17)
    done_id = new_raw_image(api, "crash-done")
    api.upload(done_id, iter(small))
    assert api.image(done_id)["checksum"] == small.md5()
    queued_id = new_raw_image(api, "crash-never-uploaded")

    # Two Content-Length uploads and two chunked ones (with and without a size hint).
    kinds = [(LengthStream, 128 * MiB, False), (Stream, 200 * MiB, True),
             (LengthStream, 400 * MiB, False), (Stream, 300 * MiB, False)]
    uploads = []
    for n, (kind, size, hint) in enumerate(kinds):
        iid = new_raw_image(api, f"crash-{n}")
        uploads.append(Uploader(admin, iid, kind(size), hint=hint))
    for u in uploads:
        u.start()
    # Kill once the small upload has finished (or nearly) and the big one is under way.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(u.is_alive() for u in uploads):
        big = uploads[2].stream
        if kill_at == "last-byte" and big.sent == big.total:
            break
        if kill_at == "midway" and uploads[0].stream.sent == uploads[0].stream.total and \
                big.sent >= 0.4 * big.total:
            break
        time.sleep(0.01)
    srv.kill()
    for u in uploads:
        u.join(60)  # the client notices the reset quickly after kill -9
        assert not u.is_alive()
    print("at kill:", [(u.stream.sent >> 20, u.stream.total >> 20, u.status) for u in uploads])
    interrupted = [u for u in uploads if u.status != 204]
    assert interrupted, "all uploads finished before the kill; make them larger"

    admin = restart(srv)
    api = admin.api
    images = {i["id"]: i for i in all_images(admin)}
    print("after restart:", [(images[u.image_id]["status"], images[u.image_id]["size"])
                             for u in uploads])
    for iid, img in images.items():
        assert img["status"] not in ("saving", "killed", "uploading", "importing"), img
        if img["status"] == "active":
            h = hashlib.md5()
            with api.get(f"/v2/images/{iid}/file", stream=True) as r:
                assert r.status_code == 200
                for chunk in r.iter_content(MiB):
                    h.update(chunk)
            assert h.hexdigest() == img["checksum"], f"active image {iid} has wrong data"
    assert images[done_id]["status"] == "active" and images[done_id]["size"] == small.total
    assert images[queued_id]["status"] == "queued"
    for u in uploads:
        img = images[u.image_id]
        if u.status == 204:  # acknowledged before the kill: must be durable
            assert img["status"] == "active" and img["checksum"] == u.stream.md5()
        elif img["status"] == "active":  # committed but the 204 got lost: must be complete
            assert img["size"] == u.stream.total and img["checksum"] == u.stream.md5()
        else:
            assert img["status"] == "queued", img
            for k in ("size", "checksum", "os_hash_value", "virtual_size"):
                assert img[k] is None, (k, img)
    assert_data_dir_clean(srv.data_dir, list(images.values()))

    # Interrupted uploads can be retried.
    for u in uploads:
        if images[u.image_id]["status"] == "queued":
            retry = Stream(3 * MiB + 5)
            api.upload(u.image_id, iter(retry), headers={"x-openstack-image-size": str(retry.total)})
            img = api.image(u.image_id)
            assert img["status"] == "active" and img["checksum"] == retry.md5()
            assert img["size"] == retry.total
    assert_data_dir_clean(srv.data_dir, all_images(admin))
    assert srv.stop() == 0


def test_sigterm_lets_inflight_upload_finish_or_roll_back(glimmer_factory):
    srv = glimmer_factory("graceful")
    admin = make_principal(srv.admin_env())
    iid = new_raw_image(admin.api, "graceful")
    up = Uploader(admin, iid, LengthStream(256 * MiB), hint=True)
    up.start()
    while up.stream.sent < 64 * MiB and up.is_alive():
        time.sleep(0.01)
    assert up.is_alive(), f"upload finished too early ({up.status}, {up.error})"
    srv.proc.send_signal(15)
    rc = srv.proc.wait(120)
    assert rc == 0, srv.log_tail()
    up.join(30)

    admin = restart(srv)
    img = admin.api.image(iid)
    if up.status == 204:
        assert img["status"] == "active"
    if img["status"] == "active":
        assert img["size"] == up.stream.total and img["checksum"] == up.stream.md5()
    else:
        assert img["status"] == "queued" and img["size"] is None and img["checksum"] is None
    assert_data_dir_clean(srv.data_dir, all_images(admin))
    assert srv.stop() == 0


def test_sigterm_with_stalled_upload_rolls_back_and_exits_0(glimmer_factory):
    """A client that stops sending mid-upload cannot finish: shutdown must abort that upload
    (image back to queued, no data kept) within the drain timeout and still exit 0."""
    srv = glimmer_factory("stalled")
    admin = make_principal(srv.admin_env())
    iid = new_raw_image(admin.api, "stalled")
    u = urllib.parse.urlsplit(srv.base_url)
    sock = socket.create_connection((u.hostname, u.port))
    try:
        sock.sendall((f"PUT /v2/images/{iid}/file HTTP/1.1\r\nHost: {u.netloc}\r\n"
                      f"X-Auth-Token: {admin.token}\r\nContent-Type: application/octet-stream\r\n"
                      f"Content-Length: {100 * MiB}\r\n\r\n").encode())
        sock.sendall(os.urandom(MiB))
        deadline = time.monotonic() + 20
        while admin.api.image(iid)["status"] != "saving" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert admin.api.image(iid)["status"] == "saving"
        srv.proc.send_signal(15)
        rc = srv.proc.wait(120)
        assert rc == 0, srv.log_tail()
    finally:
        sock.close()
    admin = restart(srv)
    img = admin.api.image(iid)
    assert img["status"] == "queued" and img["size"] is None, img
    assert_data_dir_clean(srv.data_dir, all_images(admin))
    assert srv.stop() == 0


def test_restart_keeps_images_and_identity(glimmer_factory, tmp_path):
    """A clean restart keeps image records, data and identity objects; the admin password from
    the environment is only used for bootstrapping."""
    srv = glimmer_factory("restart")
    admin = make_principal(srv.admin_env())
    data = os.urandom(123_456)
    iid = new_raw_image(admin.api, "keep-me")
    admin.api.upload(iid, data)
    rc_before = srv.openrc()
    assert srv.stop() == 0
    admin = restart(srv)
    assert srv.openrc()["OS_PROJECT_ID"] == rc_before["OS_PROJECT_ID"]
    assert admin.project_id == rc_before["OS_PROJECT_ID"]
    assert admin.api.get(f"/v2/images/{iid}/file").content == data
    assert uuid.UUID(admin.api.image(iid)["id"])
