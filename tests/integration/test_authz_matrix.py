"""Authorization matrix: every image endpoint x every persona x every visibility, against the
status codes of Glance's defaults (secure-RBAC "new defaults", glance-api.md §9 policy table,
§3.3 visibility, §5 members, §2 endpoint errors).

Rules the tables follow:
  * anonymous (no token)                              -> 401
  * the caller cannot see the image                   -> 404 (never 403)
  * the caller sees it but the policy forbids the call -> 403
  * members API on an image that is not `shared`       -> 403 "Only shared images have members"
    (404 for GET of one member: every denial there is 404)
  * readers cannot download (download_image needs role member)
  * a member of an image (any status) reads and downloads it while it is `shared`; its status
    only decides whether the image is in its default list; only the member's own project
    (or admin) sets that status; the owner adds/removes members, a member cannot remove itself
  * members keep their rows when the image leaves `shared` but lose access (private -> 404)

Every cell gets a fresh image (owned by the "owner" project, 10 bytes, tag `t1`, the
image-member project added while `shared` with the persona's member status, then switched to
the visibility under test), so a successful write in one cell cannot influence another. After
each call the test also checks the effect: a success changed what it should, a denial changed
nothing."""
import json
import uuid

import pytest
import requests

import glimmer_testlib as lib
from conftest import make_principal

PATCH21 = "application/openstack-images-v2.1-json-patch"
DATA = b"0123456789"
PERSONAS = ("admin", "owner_member", "owner_reader", "other_member",
            "member_pending", "member_accepted", "member_rejected", "anonymous")

# list: whether the image is in the caller's default `GET /v2/images` (filtered by id).
# Columns: admin  owner  owner  other    image member:                anon
#                 member reader project  pending accepted rejected
EXPECTED = {
    "public": {
        "GET image":        (200, 200, 200, 200, 200, 200, 200, 401),
        "PATCH image":      (200, 200, 403, 403, 403, 403, 403, 401),
        "DELETE image":     (204, 204, 403, 403, 403, 403, 403, 401),
        "GET file":         (200, 200, 403, 200, 200, 200, 200, 401),
        "PUT file":         (204, 204, 403, 403, 403, 403, 403, 401),
        "PUT tag":          (204, 204, 403, 403, 403, 403, 403, 401),
        "DELETE tag":       (204, 204, 403, 403, 403, 403, 403, 401),
        "deactivate":       (204, 204, 403, 403, 403, 403, 403, 401),
        "reactivate":       (204, 204, 403, 403, 403, 403, 403, 401),
        "GET members":      (403, 403, 403, 403, 403, 403, 403, 401),
        "POST members":     (403, 403, 403, 403, 403, 403, 403, 401),
        "GET member":       (404, 404, 404, 404, 404, 404, 404, 401),
        "PUT member":       (403, 403, 403, 403, 403, 403, 403, 401),
        "DELETE member":    (403, 403, 403, 403, 403, 403, 403, 401),
        "list":             ("in", "in", "in", "in", "in", "in", "in", 401),
    },
    "community": {
        "GET image":        (200, 200, 200, 200, 200, 200, 200, 401),
        "PATCH image":      (200, 200, 403, 403, 403, 403, 403, 401),
        "DELETE image":     (204, 204, 403, 403, 403, 403, 403, 401),
        "GET file":         (200, 200, 403, 200, 200, 200, 200, 401),
        "PUT file":         (204, 204, 403, 403, 403, 403, 403, 401),
        "PUT tag":          (204, 204, 403, 403, 403, 403, 403, 401),
        "DELETE tag":       (204, 204, 403, 403, 403, 403, 403, 401),
        "deactivate":       (204, 204, 403, 403, 403, 403, 403, 401),
        "reactivate":       (204, 204, 403, 403, 403, 403, 403, 401),
        "GET members":      (403, 403, 403, 403, 403, 403, 403, 401),
        "POST members":     (403, 403, 403, 403, 403, 403, 403, 401),
        "GET member":       (404, 404, 404, 404, 404, 404, 404, 401),
        "PUT member":       (403, 403, 403, 403, 403, 403, 403, 401),
        "DELETE member":    (403, 403, 403, 403, 403, 403, 403, 401),
        # community images are listed by default for their owner only (admin included)
        "list":             ("out", "in", "in", "out", "out", "out", "out", 401),
    },
    "shared": {
        "GET image":        (200, 200, 200, 404, 200, 200, 200, 401),
        "PATCH image":      (200, 200, 403, 404, 403, 403, 403, 401),
        "DELETE image":     (204, 204, 403, 404, 403, 403, 403, 401),
        "GET file":         (200, 200, 403, 404, 200, 200, 200, 401),
        "PUT file":         (204, 204, 403, 404, 403, 403, 403, 401),
        "PUT tag":          (204, 204, 403, 404, 403, 403, 403, 401),
        "DELETE tag":       (204, 204, 403, 404, 403, 403, 403, 401),
        "deactivate":       (204, 204, 403, 404, 403, 403, 403, 401),
        "reactivate":       (204, 204, 403, 404, 403, 403, 403, 401),
        "GET members":      (200, 200, 200, 404, 200, 200, 200, 401),
        "POST members":     (200, 200, 403, 404, 403, 403, 403, 401),
        "GET member":       (200, 200, 200, 404, 200, 200, 200, 401),
        "PUT member":       (200, 403, 403, 404, 200, 200, 200, 401),
        "DELETE member":    (204, 204, 403, 404, 403, 403, 403, 401),
        "list":             ("in", "in", "in", "out", "out", "in", "out", 401),
    },
    "private": {
        "GET image":        (200, 200, 200, 404, 404, 404, 404, 401),
        "PATCH image":      (200, 200, 403, 404, 404, 404, 404, 401),
        "DELETE image":     (204, 204, 403, 404, 404, 404, 404, 401),
        "GET file":         (200, 200, 403, 404, 404, 404, 404, 401),
        "PUT file":         (204, 204, 403, 404, 404, 404, 404, 401),
        "PUT tag":          (204, 204, 403, 404, 404, 404, 404, 401),
        "DELETE tag":       (204, 204, 403, 404, 404, 404, 404, 401),
        "deactivate":       (204, 204, 403, 404, 404, 404, 404, 401),
        "reactivate":       (204, 204, 403, 404, 404, 404, 404, 401),
        "GET members":      (403, 403, 403, 404, 404, 404, 404, 401),
        "POST members":     (403, 403, 403, 404, 404, 404, 404, 401),
        "GET member":       (404, 404, 404, 404, 404, 404, 404, 401),
        "PUT member":       (403, 403, 403, 404, 404, 404, 404, 401),
        "DELETE member":    (403, 403, 403, 404, 404, 404, 404, 401),
        "list":             ("in", "in", "in", "out", "out", "out", "out", 401),
    },
}
VISIBILITIES = tuple(EXPECTED)
ENDPOINTS = tuple(EXPECTED["public"])
assert all(tuple(EXPECTED[v]) == ENDPOINTS for v in VISIBILITIES)
assert all(len(row) == len(PERSONAS) for v in EXPECTED.values() for row in v.values())

# The image state each endpoint is exercised on (the success case must be reachable).
STATE = {"PUT file": "queued", "reactivate": "deactivated"}


def _expected(visibility, endpoint, persona):
    return EXPECTED[visibility][endpoint][PERSONAS.index(persona)]


# ----------------------------------------------------------------------------- principals
def _identity(admin, method, path, **kw):
    url = admin.env["OS_AUTH_URL"].rstrip("/") + path
    r = requests.request(method, url, headers={"X-Auth-Token": admin.token,
                                               "Accept": "application/json"}, timeout=60, **kw)
    assert r.status_code < 300, f"{method} {path}: {r.status_code} {r.text[:300]}"
    return r.json() if r.content else None


@pytest.fixture(scope="module")
def image_member(admin):
    """A third project with a `member` user, made through the identity API as admin (raw HTTP:
    no CLI start-up cost). It is the project added as image member."""
    sfx = uuid.uuid4().hex[:6]
    pw = "Pw-" + uuid.uuid4().hex[:10]
    proj = _identity(admin, "POST", "/projects", json={"project": {
        "name": f"gt-authz-{sfx}", "domain_id": "default", "description": "authz matrix"}})
    user = _identity(admin, "POST", "/users", json={"user": {
        "name": f"gt-authz-m-{sfx}", "password": pw, "domain_id": "default"}})
    roles = _identity(admin, "GET", "/roles", params={"name": "member"})["roles"]
    assert len(roles) == 1
    _identity(admin, "PUT", f"/projects/{proj['project']['id']}/users/{user['user']['id']}"
                            f"/roles/{roles[0]['id']}")
    env = {k: v for k, v in admin.env.items() if k != "OS_PROJECT_ID"}
    env.update(OS_USERNAME=user["user"]["name"], OS_PASSWORD=pw,
               OS_PROJECT_NAME=proj["project"]["name"], OS_USER_DOMAIN_NAME="Default",
               OS_PROJECT_DOMAIN_NAME="Default")
    p = make_principal(env)
    assert p.project_id == proj["project"]["id"]
    assert "member" in p.roles and "admin" not in p.roles
    return p


@pytest.fixture(scope="module")
def apis(admin, member1, reader1, member2, image_member):
    return {
        "admin": admin.new_api(),
        "owner_member": member1.new_api(),
        "owner_reader": reader1.new_api(),
        "other_member": member2.new_api(),
        "member_pending": image_member.new_api(),
        "member_accepted": image_member.new_api(),
        "member_rejected": image_member.new_api(),
        "anonymous": lib.Api(member1.base_url, None),
    }


# ----------------------------------------------------------------------------- fixtures
def _ok(r, *codes):
    assert r.status_code in codes, f"{r.request.method} {r.request.url}: {r.status_code} " \
                                   f"{r.text[:300]}"
    return r


def make_image(owner, admin, member_project, member_api, visibility, member_status, state):
    """Fresh image owned by `owner`: formats set, tag t1, data (unless queued), the member
    project added while shared and set to member_status, then the visibility under test."""
    body = {"name": f"authz-{visibility}-{uuid.uuid4().hex[:8]}", "disk_format": "raw",
            "container_format": "bare", "visibility": "shared", "tags": ["t1"]}
    iid = owner.create_image(**body)["id"]
    if state != "queued":
        owner.upload(iid, DATA)
    _ok(owner.post(f"/v2/images/{iid}/members", json={"member": member_project}), 200)
    if member_status != "pending":
        _ok(member_api.put(f"/v2/images/{iid}/members/{member_project}",
                           json={"status": member_status}), 200)
    if visibility != "shared":
        who = admin if visibility == "public" else owner
        who.patch_image(iid, [{"op": "replace", "path": "/visibility", "value": visibility}])
    if state == "deactivated":
        _ok(owner.post(f"/v2/images/{iid}/actions/deactivate"), 204)
    return iid


def snapshot(admin, iid):
    """What an observer (admin) sees of the image and, while shared, its members."""
    r = admin.get(f"/v2/images/{iid}")
    if r.status_code == 404:
        return None
    img = _ok(r, 200).json()
    img.pop("updated_at")
    members = None
    if img["visibility"] == "shared":
        members = sorted((m["member_id"], m["status"]) for m in
                         _ok(admin.get(f"/v2/images/{iid}/members"), 200).json()["members"])
    return img, members


def call(api, endpoint, iid, member_project, new_member):
    p = f"/v2/images/{iid}"
    m = f"{p}/members/{member_project}"
    if endpoint == "GET image":
        return api.get(p)
    if endpoint == "PATCH image":
        return api.patch(p, headers={"Content-Type": PATCH21},
                         data=json.dumps([{"op": "add", "path": "/authz", "value": "x"}]))
    if endpoint == "DELETE image":
        return api.delete(p)
    if endpoint == "GET file":
        return api.get(f"{p}/file")
    if endpoint == "PUT file":
        return api.put(f"{p}/file", data=DATA,
                       headers={"Content-Type": "application/octet-stream"})
    if endpoint == "PUT tag":
        return api.put(f"{p}/tags/t2")
    if endpoint == "DELETE tag":
        return api.delete(f"{p}/tags/t1")
    if endpoint == "deactivate":
        return api.post(f"{p}/actions/deactivate")
    if endpoint == "reactivate":
        return api.post(f"{p}/actions/reactivate")
    if endpoint == "GET members":
        return api.get(f"{p}/members")
    if endpoint == "POST members":
        return api.post(f"{p}/members", json={"member": new_member})
    if endpoint == "GET member":
        return api.get(m)
    if endpoint == "PUT member":
        return api.put(m, json={"status": "rejected"})
    if endpoint == "DELETE member":
        return api.delete(m)
    if endpoint == "list":
        return api.get("/v2/images", params={"id": iid, "limit": 1000})
    raise AssertionError(endpoint)


def check_effect(endpoint, before, after, persona, member_project, new_member, resp):
    """A 2xx changed exactly what the endpoint promises; anything else changed nothing."""
    if resp.status_code >= 300 or endpoint in ("GET image", "GET file", "GET members",
                                               "GET member", "list"):
        assert after == before, f"{endpoint} as {persona} answered {resp.status_code} " \
                                f"but changed the image:\n{before}\n{after}"
        return
    img_b, mem_b = before
    if endpoint == "DELETE image":
        assert after is None
        return
    img_a, mem_a = after
    if endpoint == "PATCH image":
        assert img_a.get("authz") == "x"
    elif endpoint == "PUT file":
        assert (img_a["status"], img_a["size"]) == ("active", len(DATA))
    elif endpoint == "PUT tag":
        assert sorted(img_a["tags"]) == ["t1", "t2"]
    elif endpoint == "DELETE tag":
        assert img_a["tags"] == []
    elif endpoint == "deactivate":
        assert img_a["status"] == "deactivated"
    elif endpoint == "reactivate":
        assert img_a["status"] == "active"
    elif endpoint == "POST members":
        assert (new_member, "pending") in mem_a and len(mem_a) == len(mem_b) + 1
    elif endpoint == "PUT member":
        assert dict(mem_a)[member_project] == "rejected"
    elif endpoint == "DELETE member":
        assert member_project not in dict(mem_a)


# ----------------------------------------------------------------------------- the matrix
CELLS = [(v, e, p) for v in VISIBILITIES for e in ENDPOINTS for p in PERSONAS]


@pytest.mark.parametrize("visibility,endpoint,persona", CELLS,
                         ids=[f"{v}|{e.replace(' ', '_')}|{p}" for v, e, p in CELLS])
def test_cell(apis, image_member, visibility, endpoint, persona):
    owner, admin = apis["owner_member"], apis["admin"]
    status = persona[len("member_"):] if persona.startswith("member_") else "pending"
    member_project = image_member.project_id
    iid = make_image(owner, admin, member_project, apis["member_" + status], visibility, status,
                     STATE.get(endpoint, "active"))
    new_member = uuid.uuid4().hex
    before = snapshot(admin, iid)
    resp = call(apis[persona], endpoint, iid, member_project, new_member)
    want = _expected(visibility, endpoint, persona)
    if endpoint == "list" and want in ("in", "out"):
        assert resp.status_code == 200, resp.text[:300]
        got = "in" if iid in [i["id"] for i in resp.json()["images"]] else "out"
    else:
        got = resp.status_code
    assert got == want, (f"{visibility} image, {endpoint} as {persona}: got {got}, Glance "
                         f"answers {want}; body: {resp.text[:300]}")
    check_effect(endpoint, before, snapshot(admin, iid), persona, member_project, new_member, resp)
    if got == 200 and endpoint == "GET file":
        assert resp.content == DATA
    if got == 200 and endpoint == "GET members":
        ids = [m["member_id"] for m in resp.json()["members"]]
        # a member sees only its own row; owner/admin see all of them
        assert ids == [member_project]
    if got == 200 and endpoint == "GET member":
        assert resp.json()["status"] == status and resp.json()["member_id"] == member_project


def test_member_sees_only_its_own_row(apis, image_member, member2):
    """With two members, each member lists only itself; the owner and its reader list both."""
    owner = apis["owner_member"]
    iid = make_image(owner, apis["admin"], image_member.project_id, apis["member_pending"],
                     "shared", "pending", "active")
    _ok(owner.post(f"/v2/images/{iid}/members", json={"member": member2.project_id}), 200)
    both = sorted([image_member.project_id, member2.project_id])
    for persona, want in (("owner_member", both), ("owner_reader", both), ("admin", both),
                          ("member_pending", [image_member.project_id]),
                          ("other_member", [member2.project_id])):
        r = _ok(apis[persona].get(f"/v2/images/{iid}/members"), 200)
        assert sorted(m["member_id"] for m in r.json()["members"]) == want, persona
    # ... and cannot read the other member's row (404, like any denial on show)
    assert apis["other_member"].get(
        f"/v2/images/{iid}/members/{image_member.project_id}").status_code == 404
    assert apis["member_pending"].get(
        f"/v2/images/{iid}/members/{member2.project_id}").status_code == 404
    # ... nor change it
    r = apis["other_member"].put(f"/v2/images/{iid}/members/{image_member.project_id}",
                                 json={"status": "accepted"})
    assert r.status_code in (403, 404)
    r = _ok(owner.get(f"/v2/images/{iid}/members/{image_member.project_id}"), 200)
    assert r.json()["status"] == "pending"
