"""Quotas (glance-api.md §10, §2.6): per-image tags, properties and members (Glance's legacy
image_*_quota options) and per-project limits with Glance's unified-limit names
(image_count_total, image_size_total in MiB, image_count_uploading), GET /v2/info/usage, and
concurrent uploads that together exceed the size limit. Over quota is 413 and changes nothing.

Each group runs on a dedicated Glimmer started with GLIMMER_<SECTION>__<OPTION> variables; a
group whose options the binary does not know yet is skipped (detected by trying to start it)."""
import concurrent.futures
import gzip
import http.server
import json
import os
import subprocess
import threading
import time
import uuid

import pytest

import glimmer_testlib as lib
from conftest import make_principal

pytestmark = pytest.mark.glimmer_only

MIB = 1 << 20
PATCH21 = "application/openstack-images-v2.1-json-patch"


def _start_or_skip(glimmer_factory, name, env):
    srv = glimmer_factory(name, extra_env=env, start=False)
    try:
        srv.start()
    except AssertionError as e:
        if "configuration error" in str(e):
            pytest.skip(f"this glimmer does not accept {sorted(env)} yet: "
                        + str(e).splitlines()[-1][:200])
        raise
    admin = make_principal(srv.admin_env())
    admin.server = srv
    return admin


def _new(api, **fields):
    body = {"name": f"q-{uuid.uuid4().hex[:8]}", "disk_format": "raw",
            "container_format": "bare"}
    body.update(fields)
    return api.create_image(**body)


def _queued_without_data(api, iid):
    img = api.image(iid)
    assert (img["status"], img["size"], img["checksum"], img["os_hash_value"]) == \
        ("queued", None, None, None), img
    assert api.get(f"/v2/images/{iid}/file").status_code == 204


def _all_images(api):
    r = api.get("/v2/images", params={"limit": 1000, "visibility": "all"})
    assert r.status_code == 200
    return r.json()["images"]


def _usage(api):
    r = api.get("/v2/info/usage")
    assert r.status_code == 200, r.text
    return r.json()["usage"]


# =============================================================================== per image
@pytest.fixture(scope="module")
def per_image(glimmer_factory):
    return _start_or_skip(glimmer_factory, "quota-per-image", {
        "GLIMMER_DEFAULT__IMAGE_TAG_QUOTA": "3",
        "GLIMMER_DEFAULT__IMAGE_PROPERTY_QUOTA": "3",
        "GLIMMER_DEFAULT__IMAGE_MEMBER_QUOTA": "2"})


def test_tag_quota(per_image):
    api = per_image.api
    name = f"tags-{uuid.uuid4().hex[:6]}"
    r = api.post("/v2/images", json={"name": name, "tags": ["a", "b", "c", "d"]})
    assert r.status_code == 413, r.text
    assert api.get("/v2/images", params={"name": name}).json()["images"] == []
    iid = api.create_image(name=name, tags=["a", "b", "c"])["id"]
    assert api.put(f"/v2/images/{iid}/tags/d").status_code == 413
    assert api.put(f"/v2/images/{iid}/tags/a").status_code == 204  # already there: no growth
    api.patch_image(iid, [{"op": "replace", "path": "/tags", "value": ["a", "b", "c", "d"]}],
                    expect=413)
    assert sorted(api.image(iid)["tags"]) == ["a", "b", "c"]
    # replacing within the quota still works, and so does adding after a removal
    api.patch_image(iid, [{"op": "replace", "path": "/tags", "value": ["x", "y"]}])
    assert api.put(f"/v2/images/{iid}/tags/z").status_code == 204
    assert sorted(api.image(iid)["tags"]) == ["x", "y", "z"]


def test_property_quota(per_image):
    api = per_image.api
    name = f"props-{uuid.uuid4().hex[:6]}"
    r = api.post("/v2/images", json={"name": name, "p1": "1", "p2": "2", "p3": "3", "p4": "4"})
    assert r.status_code == 413, r.text
    assert api.get("/v2/images", params={"name": name}).json()["images"] == []
    iid = api.create_image(name=name, p1="1", p2="2", p3="3")["id"]
    api.patch_image(iid, [{"op": "add", "path": "/p4", "value": "4"}], expect=413)
    api.patch_image(iid, [{"op": "add", "path": "/p1", "value": "one"},   # overwrite: same count
                          {"op": "add", "path": "/p4", "value": "4"}], expect=413)
    img = api.image(iid)
    assert (img["p1"], img["p2"], img["p3"]) == ("1", "2", "3") and "p4" not in img
    # base fields do not count
    got = api.patch_image(iid, [{"op": "replace", "path": "/p1", "value": "one"},
                                {"op": "replace", "path": "/min_ram", "value": 512}])
    assert got["p1"] == "one" and got["min_ram"] == 512
    got = api.patch_image(iid, [{"op": "remove", "path": "/p3"},
                                {"op": "add", "path": "/p4", "value": "4"}])
    assert "p3" not in got and got["p4"] == "4"


def test_member_quota(per_image):
    api = per_image.api
    iid = _new(api, visibility="shared")["id"]
    first = [uuid.uuid4().hex, uuid.uuid4().hex]
    for m in first:
        assert api.post(f"/v2/images/{iid}/members", json={"member": m}).status_code == 200
    r = api.post(f"/v2/images/{iid}/members", json={"member": uuid.uuid4().hex})
    assert r.status_code == 413, r.text
    got = api.get(f"/v2/images/{iid}/members").json()["members"]
    assert sorted(m["member_id"] for m in got) == sorted(first)
    assert api.delete(f"/v2/images/{iid}/members/{first[0]}").status_code == 204
    assert api.post(f"/v2/images/{iid}/members",
                    json={"member": uuid.uuid4().hex}).status_code == 200


# =============================================================================== per project
def test_image_count_total(glimmer_factory):
    admin = _start_or_skip(glimmer_factory, "quota-count",
                           {"GLIMMER_QUOTA__IMAGE_COUNT_TOTAL": "3"})
    api = admin.api
    made = [_new(api)["id"] for _ in range(3)]
    r = api.post("/v2/images", json={"name": "one-too-many"})
    assert r.status_code == 413, r.text
    assert sorted(i["id"] for i in _all_images(api)) == sorted(made)
    u = _usage(api)["image_count_total"]
    assert u == {"limit": 3, "usage": 3}
    api.delete_image(made[0])
    assert _usage(api)["image_count_total"] == {"limit": 3, "usage": 2}
    _new(api)
    assert api.post("/v2/images", json={"name": "again-too-many"}).status_code == 413


def test_image_size_total(glimmer_factory):
    admin = _start_or_skip(glimmer_factory, "quota-size", {"GLIMMER_QUOTA__IMAGE_SIZE_TOTAL": "2"})
    api = admin.api
    a = _new(api)["id"]
    api.upload(a, b"a" * MIB)
    b = _new(api)["id"]
    api.upload(b, b"b" * (MIB + 1), expect=413)                                  # content-length
    _queued_without_data(api, b)
    api.upload(b, iter([b"b" * MIB, b"b"]), expect=413)                          # chunked
    _queued_without_data(api, b)
    api.upload(b, b"b", expect=413, headers={"x-openstack-image-size": str(MIB + 1)})  # hint
    _queued_without_data(api, b)
    assert _usage(api)["image_size_total"] == {"limit": 2, "usage": 1}
    api.upload(b, b"b" * MIB)                        # exactly up to the limit is allowed
    assert api.image(b)["size"] == MIB
    assert _usage(api)["image_size_total"] == {"limit": 2, "usage": 2}
    c = _new(api)["id"]
    api.upload(c, b"c", expect=413)
    _queued_without_data(api, c)
    api.delete_image(a)                               # deleting frees the space
    api.upload(c, b"c" * 1000)
    assert api.get(f"/v2/images/{c}/file").content == b"c" * 1000


def test_image_size_total_applies_to_imports(glimmer_factory):
    admin = _start_or_skip(glimmer_factory, "quota-import",
                           {"GLIMMER_QUOTA__IMAGE_SIZE_TOTAL": "2"})
    api = admin.api
    a = _new(api)["id"]
    api.upload(a, b"a" * MIB)
    b = _new(api)["id"]
    r = api.put(f"/v2/images/{b}/stage", data=b"b" * (MIB + 1),
                headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 204
    r = api.post(f"/v2/images/{b}/import", json={"method": {"name": "glance-direct"}})
    assert r.status_code == 202
    deadline = time.monotonic() + 30
    while api.image(b)["status"] != "queued" and time.monotonic() < deadline:
        time.sleep(0.1)
    task = api.get(f"/v2/images/{b}/tasks").json()["tasks"][-1]
    for _ in range(100):
        if task["status"] == "failure":
            break
        time.sleep(0.1)
        task = api.get(f"/v2/images/{b}/tasks").json()["tasks"][-1]
    assert task["status"] == "failure" and "image_size_total quota" in task["message"], task
    _queued_without_data(api, b)
    assert _usage(api)["image_size_total"] == {"limit": 2, "usage": 1}


def test_legacy_user_storage_quota(glimmer_factory):
    """Glance's legacy [DEFAULT] user_storage_quota (bytes per project, B/KB/MB/GB/TB suffixes):
    an upload that would take the project beyond it is 413 and leaves the image queued."""
    admin = _start_or_skip(glimmer_factory, "quota-user-storage",
                           {"GLIMMER_DEFAULT__USER_STORAGE_QUOTA": "1MB"})
    api = admin.api
    a, b = _new(api)["id"], _new(api)["id"]
    api.upload(a, b"a" * (MIB - 10))
    api.upload(b, b"b" * 11, expect=413)
    _queued_without_data(api, b)
    api.upload(b, b"b" * 10)
    assert api.image(b)["size"] == 10


def test_image_count_uploading(glimmer_factory):
    admin = _start_or_skip(glimmer_factory, "quota-uploading",
                           {"GLIMMER_QUOTA__IMAGE_COUNT_UPLOADING": "1"})
    api = admin.api
    slow, other = _new(api)["id"], _new(api)["id"]
    release = threading.Event()

    def body():
        yield b"s" * 65536
        release.wait(60)
        yield b"s" * 65536

    result = {}

    def upload():
        a = lib.Api(admin.base_url, admin.token)
        result["r"] = a.put(f"/v2/images/{slow}/file", data=body(),
                            headers={"Content-Type": "application/octet-stream"})

    t = threading.Thread(target=upload)
    t.start()
    try:
        deadline = time.monotonic() + 30
        while api.image(slow)["status"] != "saving":
            assert time.monotonic() < deadline, "the slow upload never reached saving"
            time.sleep(0.05)
        assert _usage(api)["image_count_uploading"] == {"limit": 1, "usage": 1}
        api.upload(other, b"o" * 100, expect=413)
        _queued_without_data(api, other)
    finally:
        release.set()
        t.join(60)
    assert result["r"].status_code == 204, result["r"].text
    assert api.image(slow)["size"] == 131072
    assert _usage(api)["image_count_uploading"] == {"limit": 1, "usage": 0}
    api.upload(other, b"o" * 100)
    assert api.image(other)["status"] == "active"


def test_usage_document(glimmer_factory):
    admin = _start_or_skip(glimmer_factory, "quota-usage", {
        "GLIMMER_QUOTA__IMAGE_COUNT_TOTAL": "10", "GLIMMER_QUOTA__IMAGE_SIZE_TOTAL": "5",
        "GLIMMER_QUOTA__IMAGE_COUNT_UPLOADING": "2"})
    api = admin.api
    u = _usage(api)
    assert set(u) == {"image_size_total", "image_stage_total", "image_count_total",
                      "image_count_uploading"}
    assert all(set(v) == {"limit", "usage"} for v in u.values())
    assert u["image_size_total"] == {"limit": 5, "usage": 0}
    assert u["image_count_total"] == {"limit": 10, "usage": 0}
    assert u["image_count_uploading"] == {"limit": 2, "usage": 0}
    a, _ = _new(api)["id"], _new(api)["id"]
    api.upload(a, b"x" * (3 * MIB))
    u = _usage(api)
    assert u["image_size_total"] == {"limit": 5, "usage": 3}
    assert u["image_count_total"] == {"limit": 10, "usage": 2}
    assert u["image_count_uploading"] == {"limit": 2, "usage": 0}
    # usage is per project: another project sees its own (empty) usage with the same limits
    proj = _other_project_member(admin)
    u2 = _usage(proj.api)
    assert u2["image_size_total"] == {"limit": 5, "usage": 0}
    assert u2["image_count_total"] == {"limit": 10, "usage": 0}


def _other_project_member(admin):
    """A project with a member user, made through the identity API (raw HTTP)."""
    def call(method, path, **kw):
        r = lib.requests.request(method, admin.env["OS_AUTH_URL"].rstrip("/") + path,
                                 headers={"X-Auth-Token": admin.token}, timeout=60, **kw)
        assert r.status_code < 300, r.text
        return r.json() if r.content else None
    sfx, pw = uuid.uuid4().hex[:6], "Pw-" + uuid.uuid4().hex[:10]
    p = call("POST", "/projects", json={"project": {"name": f"q-{sfx}", "domain_id": "default"}})
    u = call("POST", "/users", json={"user": {"name": f"q-{sfx}", "password": pw,
                                              "domain_id": "default"}})
    role = call("GET", "/roles", params={"name": "member"})["roles"][0]
    call("PUT", f"/projects/{p['project']['id']}/users/{u['user']['id']}/roles/{role['id']}")
    env = {k: v for k, v in admin.env.items() if k != "OS_PROJECT_ID"}
    env.update(OS_USERNAME=f"q-{sfx}", OS_PASSWORD=pw, OS_PROJECT_NAME=f"q-{sfx}")
    return make_principal(env)


# =============================================================================== concurrency
@pytest.mark.parametrize("transfer", ["content-length", "chunked"])
def test_concurrent_uploads_never_overshoot_image_size_total(glimmer_factory, transfer):
    """8 uploads of 1.5 MiB start together against a 4 MiB limit: at most two can be stored
    (4.5 MiB would be an overshoot); every refused one is 413 and back to queued, no data."""
    limit_mib, size, n = 4, 3 * MIB // 2, 8
    admin = _start_or_skip(glimmer_factory, f"quota-concurrent-{transfer}",
                           {"GLIMMER_QUOTA__IMAGE_SIZE_TOTAL": str(limit_mib)})
    api = admin.api
    ids = [_new(api)["id"] for _ in range(n)]
    start = threading.Barrier(n)

    def upload(iid):
        a = lib.Api(admin.base_url, admin.token)
        data = iid.encode()[:8] * (size // 8)
        body = data if transfer == "content-length" else \
            (data[off:off + 65536] for off in range(0, size, 65536))
        start.wait(30)
        r = a.put(f"/v2/images/{iid}/file", data=body,
                  headers={"Content-Type": "application/octet-stream"})
        return iid, r.status_code, r.text[:200]

    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        results = list(pool.map(upload, ids))
    codes = {code for _, code, _ in results}
    assert codes <= {204, 413}, results
    stored = [iid for iid, code, _ in results if code == 204]
    assert stored, results
    images = {i["id"]: i for i in _all_images(api)}
    active = [i for i in images.values() if i["status"] == "active"]
    assert sorted(i["id"] for i in active) == sorted(stored)
    assert sum(i["size"] for i in active) <= limit_mib * MIB
    assert all(i["size"] == size for i in active)
    for iid, code, _ in results:
        if code == 413:
            _queued_without_data(api, iid)
        else:
            body = api.get(f"/v2/images/{iid}/file").content
            assert body == iid.encode()[:8] * (size // 8)
    u = _usage(api)
    assert u["image_size_total"]["usage"] == -(-len(stored) * size // MIB)
    assert u["image_count_uploading"]["usage"] == 0


# =============================================================================== staging and import
class _Source:
    """Loopback HTTP source for web-download: /file/<name> serves registered bytes with a
    Content-Length; /endless streams zeros without a length until the client goes away."""

    def __init__(self):
        self.files = {}
        self.endless_bytes = 0
        src = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                if path == "/endless":
                    self.send_response(200)
                    self.end_headers()
                    self.close_connection = True
                    block = b"\0" * 65536
                    try:
                        while True:
                            self.wfile.write(block)
                            src.endless_bytes += len(block)
                            time.sleep(0.002)  # ~30 MiB/s: a fast source, bounded for the test
                    except OSError:
                        return
                body = src.files.get(path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def add(self, data):
        path = f"/file/{uuid.uuid4().hex}"
        self.files[path] = data
        return f"http://127.0.0.1:{self.port}{path}"

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.httpd.shutdown()


@pytest.fixture(scope="module")
def source():
    s = _Source()
    yield s
    s.stop()


def _import_env(source, **quotas):
    env = {"GLIMMER_IMPORT_FILTERING_OPTS__ALLOW_PRIVATE_ADDRESSES": "true",
           "GLIMMER_IMPORT_FILTERING_OPTS__ALLOWED_PORTS": f"80,443,{source.port}",
           "GLIMMER_GLIMMER__TASK_LEASE_SECONDS": "6"}  # lease renewals (and checks) every 1 s
    env.update({f"GLIMMER_QUOTA__{k.upper()}": str(v) for k, v in quotas.items()})
    return env


def _stage(api, iid, data, chunked=False):
    body = data if not chunked else (data[i:i + 65536] for i in range(0, len(data), 65536))
    return api.put(f"/v2/images/{iid}/stage", data=body,
                   headers={"Content-Type": "application/octet-stream"})


def _last_task(api, iid, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        tasks = api.get(f"/v2/images/{iid}/tasks").json()["tasks"]
        if tasks and tasks[-1]["status"] in ("success", "failure"):
            return tasks[-1]
        assert time.monotonic() < deadline, tasks
        time.sleep(0.1)


def _dir_bytes(d):
    return sum(p.stat().st_size for p in d.iterdir() if p.is_file()) if d.exists() else 0


def _staging_bytes(srv):
    return _dir_bytes(srv.data_dir / "staging")


def test_image_stage_total_and_uploading_count_apply_to_staging(glimmer_factory):
    """Security review F5: PUT /stage is counted in image_stage_total and
    image_count_uploading when it starts (413, image still queued, nothing staged), the
    project's unrelated image creation is not what gets refused, and an import moves the bytes
    from the stage total to the size total."""
    admin = _start_or_skip(glimmer_factory, "quota-stage", {
        "GLIMMER_QUOTA__IMAGE_STAGE_TOTAL": "2", "GLIMMER_QUOTA__IMAGE_COUNT_UPLOADING": "2"})
    api = admin.api
    a, b, c = (_new(api)["id"] for _ in range(3))
    assert _stage(api, a, b"a" * MIB).status_code == 204
    assert _stage(api, b, b"b" * MIB, chunked=True).status_code == 204
    u = _usage(api)
    assert u["image_stage_total"] == {"limit": 2, "usage": 2}
    assert u["image_count_uploading"] == {"limit": 2, "usage": 2}
    r = _stage(api, c, b"c" * 1000)
    assert r.status_code == 413, r.text
    assert "image_stage_total" in r.text or "image_count_uploading" in r.text, r.text
    _queued_without_data(api, c)
    assert api.head(f"/v2/images/{c}/stage").headers["Upload-Offset"] == "0"
    assert api.post("/v2/images", json={"name": "still-fine"}).status_code == 201
    # glance-direct: the staged bytes count until the image is active, then as stored data.
    r = api.post(f"/v2/images/{a}/import", json={"method": {"name": "glance-direct"}})
    assert r.status_code == 202, r.text
    assert _last_task(api, a)["status"] == "success"
    u = _usage(api)
    assert u["image_stage_total"]["usage"] == 1 and u["image_size_total"]["usage"] == 1
    assert u["image_count_uploading"]["usage"] == 1
    assert _stage(api, c, b"c" * 1000).status_code == 204


def test_concurrent_stages_never_overshoot_image_stage_total(glimmer_factory):
    """6 stages of 1 MiB start together with room for 2: exactly 2 are staged, the others are
    413 and queued without data, and the usage never goes above the limit meanwhile."""
    n = 6
    admin = _start_or_skip(glimmer_factory, "quota-stage-race",
                           {"GLIMMER_QUOTA__IMAGE_STAGE_TOTAL": "2"})
    api = admin.api
    ids = [_new(api)["id"] for _ in range(n)]
    start = threading.Barrier(n)
    peak = {"stage": 0}
    done = threading.Event()

    def watch():
        w = lib.Api(admin.base_url, admin.token)
        while not done.is_set():
            peak["stage"] = max(peak["stage"], _usage(w)["image_stage_total"]["usage"])
            time.sleep(0.01)

    def stage(iid):
        a = lib.Api(admin.base_url, admin.token)
        data = iid.encode()[:8] * (MIB // 8)
        start.wait(30)
        r = _stage(a, iid, data)
        return iid, r.status_code, r.text[:200]

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(n) as pool:
            results = list(pool.map(stage, ids))
    finally:
        done.set()
        watcher.join(30)
    codes = sorted(code for _, code, _ in results)
    assert codes == [204, 204] + [413] * (n - 2), results
    assert peak["stage"] <= 2
    for iid, code, _ in results:
        img = api.image(iid)
        if code == 204:
            assert img["status"] == "uploading" and img["size"] == MIB
        else:
            _queued_without_data(api, iid)
    assert _usage(api)["image_stage_total"] == {"limit": 2, "usage": 2}


def test_web_download_is_capped_at_the_quota_left(glimmer_factory, source):
    """An endless web-download source with 3 MiB of image_size_total and image_stage_total:
    the download stops at the quota (not at the 1 TiB size cap), the task fails naming the
    quota, and the image is back in queued with nothing staged."""
    admin = _start_or_skip(glimmer_factory, "quota-web",
                           _import_env(source, image_size_total=3, image_stage_total=3))
    srv = admin.server
    api = admin.api
    iid = _new(api)["id"]
    before = source.endless_bytes
    r = api.post(f"/v2/images/{iid}/import",
                 json={"method": {"name": "web-download", "uri": source.url("/endless")}})
    assert r.status_code == 202, r.text
    peak = 0
    deadline = time.monotonic() + 60
    while True:
        peak = max(peak, _staging_bytes(srv))
        tasks = api.get(f"/v2/images/{iid}/tasks").json()["tasks"]
        if tasks and tasks[-1]["status"] in ("success", "failure"):
            break
        assert time.monotonic() < deadline, tasks
        time.sleep(0.02)
    task = tasks[-1]
    assert task["status"] == "failure" and "quota" in task["message"], task
    assert peak <= 3 * MIB
    assert source.endless_bytes - before < 64 * MIB
    _queued_without_data(api, iid)
    assert _staging_bytes(srv) == 0
    u = _usage(api)
    assert u["image_stage_total"]["usage"] == 0 and u["image_count_uploading"]["usage"] == 0


def test_concurrent_imports_never_overshoot_image_size_total(glimmer_factory, source):
    """Security review F5: 6 web-download imports of 1.5 MiB run at once (6 task workers) with
    2 MiB of image_size_total: each sees room for itself when it starts, but the activation
    re-checks the quota in its transaction, so exactly one becomes active."""
    n, size = 6, 3 * MIB // 2
    env = _import_env(source, image_size_total=2)
    env["GLIMMER_GLIMMER__TASK_WORKERS"] = str(n)
    admin = _start_or_skip(glimmer_factory, "quota-import-race", env)
    api = admin.api
    ids = [_new(api)["id"] for _ in range(n)]
    for iid in ids:
        uri = source.add(iid.encode()[:8] * (size // 8))
        r = api.post(f"/v2/images/{iid}/import",
                     json={"method": {"name": "web-download", "uri": uri}})
        assert r.status_code == 202, r.text
    tasks = {iid: _last_task(api, iid) for iid in ids}
    active = [iid for iid in ids if api.image(iid)["status"] == "active"]
    assert len(active) == 1, tasks
    assert all(tasks[iid]["status"] == "success" for iid in active)
    for iid in set(ids) - set(active):
        assert tasks[iid]["status"] == "failure", tasks[iid]
        assert "image_size_total" in tasks[iid]["message"], tasks[iid]
        _queued_without_data(api, iid)
    assert _usage(api)["image_size_total"]["usage"] == 2  # 1.5 MiB, rounded up


def test_uploading_count_applies_to_import_start(glimmer_factory, source):
    admin = _start_or_skip(glimmer_factory, "quota-import-count",
                           _import_env(source, image_count_uploading=1))
    api = admin.api
    staged, other = _new(api)["id"], _new(api)["id"]
    assert _stage(api, staged, b"s" * 1000).status_code == 204
    r = api.post(f"/v2/images/{other}/import",
                 json={"method": {"name": "web-download", "uri": source.add(b"o" * 1000)}})
    assert r.status_code == 413, r.text
    _queued_without_data(api, other)
    assert api.get(f"/v2/images/{other}/tasks").json()["tasks"] == []


def test_deleting_an_image_stops_its_running_download(glimmer_factory, source):
    """Deleting the image cancels its import task within a lease renewal (1 s here): the
    download stops writing (no open descriptor on the deleted staging file) and the task
    fails naming the deletion."""
    admin = _start_or_skip(glimmer_factory, "quota-delete-cancels", _import_env(source))
    srv = admin.server
    api = admin.api
    iid = _new(api)["id"]
    sent_before = source.endless_bytes
    r = api.post(f"/v2/images/{iid}/import",
                 json={"method": {"name": "web-download", "uri": source.url("/endless")}})
    assert r.status_code == 202, r.text
    task_id = api.get(f"/v2/images/{iid}/tasks").json()["tasks"][0]["id"]
    deadline = time.monotonic() + 30
    # web-download writes into staging, or (no plugin needing the file) straight into the
    # store: the filesystem store's .incoming, or RBD in the distributed pass, where only the
    # source's count shows it.
    incoming = srv.data_dir / "images" / ".incoming"
    while _staging_bytes(srv) + _dir_bytes(incoming) < 4 * MIB and \
            source.endless_bytes - sent_before < 8 * MIB:
        assert time.monotonic() < deadline, "the download did not start"
        time.sleep(0.05)
    api.delete_image(iid)
    deleted_at = time.monotonic()
    staging = (str(srv.data_dir / "staging"), str(incoming))

    def open_staged_files():
        out = []
        for fd in os.listdir(f"/proc/{srv.pid}/fd"):
            try:
                target = os.readlink(f"/proc/{srv.pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith(staging):
                out.append(target)
        return out

    while open_staged_files() or admin.api.get(f"/v2/tasks/{task_id}").json()["status"] != \
            "failure":
        assert time.monotonic() - deleted_at < 15, open_staged_files()
        time.sleep(0.1)
    task = admin.api.get(f"/v2/tasks/{task_id}").json()
    assert "deleted" in task["message"], task
    written = source.endless_bytes
    time.sleep(1.5)
    assert source.endless_bytes - written < MIB  # the source is no longer read


def test_import_plugins_output_is_capped_at_the_quota_left(glimmer_factory, tmp_path):
    """Security review F7: a small compressed or qcow2 file expands (decompression, conversion
    to raw) to at most what the project may still store, not to the size cap: the plugin stops
    and the task fails naming the quota; the image is back in queued, nothing left staged."""
    admin = _start_or_skip(glimmer_factory, "quota-plugins", {
        "GLIMMER_QUOTA__IMAGE_SIZE_TOTAL": "2",
        "GLIMMER_IMAGE_IMPORT_OPTS__IMAGE_IMPORT_PLUGINS": "image_decompression,image_conversion"})
    srv, api = admin.server, admin.api

    def staged_import(data, disk_format="raw"):
        iid = _new(api, disk_format=disk_format)["id"]
        assert _stage(api, iid, data).status_code == 204
        r = api.post(f"/v2/images/{iid}/import", json={"method": {"name": "glance-direct"}})
        assert r.status_code == 202, r.text
        return iid, _last_task(api, iid)

    bomb = gzip.compress(b"\0" * (16 * MIB))  # 16 KiB that decompress to 16 MiB
    iid, task = staged_import(bomb)
    assert task["status"] == "failure", task
    assert "image_size_total" in task["message"] and "limit" in task["message"], task
    _queued_without_data(api, iid)
    qcow = tmp_path / "big.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(qcow), "64M"], check=True)
    iid, task = staged_import(qcow.read_bytes(), disk_format="qcow2")
    assert task["status"] == "failure", task
    assert str(64 * MIB) in task["message"] and "image_size_total" in task["message"], task
    _queued_without_data(api, iid)
    assert not [p for p in (srv.data_dir / "staging").iterdir()], "staging not cleaned"
    # Within the quota the plugins work as before.
    iid, task = staged_import(gzip.compress(b"\0" * MIB))
    assert task["status"] == "success", task
    assert api.image(iid)["size"] == MIB
