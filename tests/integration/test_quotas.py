"""Quotas (glance-api.md §10, §2.6): per-image tags, properties and members (Glance's legacy
image_*_quota options) and per-project limits with Glance's unified-limit names
(image_count_total, image_size_total in MiB, image_count_uploading), GET /v2/info/usage, and
concurrent uploads that together exceed the size limit. Over quota is 413 and changes nothing.

Each group runs on a dedicated Glimmer started with GLIMMER_<SECTION>__<OPTION> variables; a
group whose options the binary does not know yet is skipped (detected by trying to start it)."""
import concurrent.futures
import json
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
    return make_principal(srv.admin_env())


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
