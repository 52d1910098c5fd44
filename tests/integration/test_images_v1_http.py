"""Images API v1 at the HTTP level: error cases, header encodings, purge-props, size and
checksum claims, is_public for admins and users, and enable_v1_api=false. Every result is
cross-checked through v2."""
import hashlib
import os
import urllib.parse
import uuid

import pytest

import glimmer_testlib as lib
from conftest import make_principal

pytestmark = pytest.mark.glimmer_only

OCTET = {"Content-Type": "application/octet-stream"}


def q(value):
    """What glanceclient 4.1 does to every header value."""
    return urllib.parse.quote(value, safe="/:")


def create(p, headers, data=None, expect=201):
    h = dict(headers)
    if data is not None:
        h.update(OCTET)
    r = p.api.post("/v1/images", headers=h, data=data)
    assert r.status_code == expect, f"{r.status_code} {r.text[:400]}"
    return r.json()["image"] if expect == 201 else r


def by_name(p, name):
    """The image named `name`, through v2 (None when absent)."""
    r = p.api.get("/v2/images", params={"name": name})
    assert r.status_code == 200
    images = r.json()["images"]
    return images[0] if images else None


def raw_meta(name, **extra):
    h = {"x-image-meta-name": q(name), "x-image-meta-disk_format": "raw",
         "x-image-meta-container_format": "bare"}
    h.update(extra)
    return h


def test_versions_list_v1(server, admin):
    r = admin.api.get("/")
    assert r.status_code == 300
    ids = {v["id"]: v for v in r.json()["versions"]}
    assert ids["v1.1"]["status"] == ids["v1.0"]["status"] == "SUPPORTED"
    assert ids["v1.0"]["links"][0]["href"].endswith("/v1/")
    assert "v2.18" in ids


def test_unauthenticated_is_401(admin):
    assert admin.new_api(token=False).get("/v1/images").status_code == 401


def test_bad_headers_are_400(member1, uname):
    name = uname("bad")
    cases = [({"x-image-meta-colour": "red"}, "Bad header: x-image-meta-colour"),
             ({"x-image-meta-size": "-1"}, "Cannot be a negative value"),
             ({"x-image-meta-size": "1e3"}, "to an integer"),
             ({"x-image-meta-size": "99999999999999999999999999"}, "to an integer"),
             ({"x-image-meta-min_ram": "-5"}, "negative"),
             ({"x-image-meta-disk_format": "floppy"}, "Invalid disk format"),
             ({"x-image-meta-name": "bad%zzencoding"}, "percent"),
             ({"x-image-meta-name": "%FF%FEbad"}, "UTF-8"),
             ({"x-image-meta-id": "not-a-uuid"}, "Invalid image id format"),
             ({"x-image-meta-location": "http://example.com/x.img"}, "not supported"),
             ({"x-glance-api-copy-from": "http://example.com/x.img"}, "not supported")]
    for headers, text in cases:
        h = {"x-image-meta-name": name}
        h.update(headers)
        r = member1.api.post("/v1/images", headers=h)
        assert r.status_code == 400, (headers, r.status_code, r.text)
        assert text in r.text, (headers, r.text)
    assert by_name(member1, name) is None  # nothing was created


def test_duplicate_and_huge_headers(server, member1, uname):
    name = uname("dup")
    head = (f"POST /v1/images HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {member1.token}\r\n"
            f"x-image-meta-name: {name}\r\nx-image-meta-name: other\r\n"
            "Content-Length: 0\r\nConnection: close\r\n\r\n").encode()
    status, _, body = lib.raw_http(server.base_url, head)
    assert status == 400 and b"more than once" in body, body
    assert by_name(member1, name) is None
    r = member1.api.post("/v1/images", headers={"x-image-meta-name": "n" * 20000})
    assert r.status_code == 431
    r = member1.api.post("/v1/images", headers={"x-image-meta-name": "n" * 300})
    assert r.status_code == 400 and "Image name too long: 300" in r.text


def test_percent_encoded_utf8_round_trip(member1, uname):
    name = uname("utf8") + " café ✓"
    img = create(member1, {"x-image-meta-name": q(name),
                           "x-image-meta-property-note": q("déjà vu / 100%"),
                           "x-image-meta-property-Mixed-Case": "v"})
    assert img["name"] == name
    assert img["properties"]["note"] == "déjà vu / 100%"
    assert img["properties"]["mixed_case"] == "v"
    v2 = member1.api.image(img["id"])
    assert v2["name"] == name and v2["note"] == "déjà vu / 100%"
    r = member1.api.head(f"/v1/images/{img['id']}")
    assert r.status_code == 200
    assert urllib.parse.unquote(r.headers["x-image-meta-name"]) == name
    assert r.headers["x-image-meta-name"].isascii()
    assert urllib.parse.unquote(r.headers["x-image-meta-property-note"]) == "déjà vu / 100%"
    assert r.headers["x-image-meta-is_public"] == "False"
    assert r.headers["x-image-meta-status"] == "queued"
    assert "x-image-meta-location" not in r.headers
    member1.api.delete(f"/v1/images/{img['id']}")


def test_purge_props(member1, uname):
    img = create(member1, {"x-image-meta-name": uname("purge"), "x-image-meta-property-a": "1",
                           "x-image-meta-property-b": "2"})
    url = f"/v1/images/{img['id']}"

    def props():
        v2 = member1.api.image(img["id"])
        return {k: v2[k] for k in ("a", "b", "c", "d", "e") if k in v2}

    r = member1.api.put(url, headers={"x-glance-registry-purge-props": "false",
                                      "x-image-meta-property-c": "3"})
    assert r.status_code == 200, r.text
    assert props() == {"a": "1", "b": "2", "c": "3"}
    r = member1.api.put(url, headers={"x-image-meta-property-d": "4"})  # absent: purge
    assert r.status_code == 200
    assert props() == {"d": "4"}
    assert r.json()["image"]["properties"] == {"d": "4"}
    r = member1.api.put(url, headers={"x-glance-registry-purge-props": "true",
                                      "x-image-meta-property-e": "5"})
    assert r.status_code == 200
    assert props() == {"e": "5"}
    member1.api.delete(url)


def test_size_mismatch_leaves_nothing_active(member1, uname):
    data = os.urandom(4096)
    for claimed in (len(data) - 1, len(data) + 100):
        name = uname("size")
        r = create(member1, raw_meta(name, **{"x-image-meta-size": str(claimed)}), data=data,
                   expect=400)
        assert "Size mismatch" in r.text or "size" in r.text.lower(), r.text
        v2 = by_name(member1, name)
        assert v2["status"] == "queued" and v2["size"] is None and v2["checksum"] is None
        assert member1.api.get(f"/v1/images/{v2['id']}").status_code == 404
        member1.api.delete_image(v2["id"])


def test_checksum_claim(member1, uname):
    data = os.urandom(5000)
    name = uname("sum")
    r = create(member1, raw_meta(name, **{"x-image-meta-checksum": "0" * 32}), data=data,
               expect=400)
    assert "did not match" in r.text
    v2 = by_name(member1, name)
    assert v2["status"] == "queued" and v2["checksum"] is None
    # The same image takes the right data afterwards (PUT to a queued image).
    md5 = hashlib.md5(data).hexdigest()
    r = member1.api.put(f"/v1/images/{v2['id']}", data=data,
                        headers={**OCTET, "x-image-meta-checksum": md5.upper()})
    assert r.status_code == 200, r.text
    assert r.json()["image"]["status"] == "active"
    assert r.headers["ETag"] == md5
    # Data to an active image: 409; and the size or checksum of an active image: 403.
    r = member1.api.put(f"/v1/images/{v2['id']}", data=b"more", headers=OCTET)
    assert r.status_code == 409 and "unqueued" in r.text
    r = member1.api.put(f"/v1/images/{v2['id']}", headers={"x-image-meta-size": "1"})
    assert r.status_code == 403
    r = member1.api.put(f"/v1/images/{v2['id']}", headers={"x-image-meta-status": "queued"})
    assert r.status_code == 403 and "status" in r.text
    # Download: data with every meta header.
    r = member1.api.get(f"/v1/images/{v2['id']}")
    assert r.status_code == 200 and r.content == data
    assert r.headers["x-image-meta-checksum"] == md5
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert member1.api.delete(f"/v1/images/{v2['id']}").status_code == 200


def test_create_with_data_and_format_check(member1, uname):
    data = os.urandom(3000)
    img = create(member1, raw_meta(uname("data"), **{"x-image-meta-size": str(len(data))}),
                 data=data)
    assert img["status"] == "active" and img["size"] == len(data)
    assert img["checksum"] == hashlib.md5(data).hexdigest()
    v2 = member1.api.image(img["id"])
    assert v2["os_hash_value"] == hashlib.sha512(data).hexdigest()
    member1.api.delete(f"/v1/images/{img['id']}")
    # Declared qcow2, random bytes: v2's 415 is a 400 in v1; the image is not active.
    name = uname("fmt")
    h = raw_meta(name)
    h["x-image-meta-disk_format"] = "qcow2"
    r = create(member1, h, data=data, expect=400)
    assert by_name(member1, name)["status"] == "queued"
    # A body that is not octet-stream.
    r = member1.api.post("/v1/images", headers={**raw_meta(uname("ct")),
                                                "Content-Type": "text/plain"}, data=b"x")
    assert r.status_code == 400 and "application/octet-stream" in r.text


def test_protected_delete_is_403_and_delete_is_200(member1, uname):
    img = create(member1, {"x-image-meta-name": uname("prot"), "x-image-meta-protected": "True"})
    url = f"/v1/images/{img['id']}"
    assert member1.api.delete(url).status_code == 403
    assert member1.api.image(img["id"])["protected"] is True
    assert member1.api.put(url, headers={"x-image-meta-protected": "False"}).status_code == 200
    r = member1.api.delete(url)
    assert r.status_code == 200 and r.content == b""
    assert member1.api.head(url).status_code == 404
    assert member1.api.get(f"/v2/images/{img['id']}").status_code == 404


def test_routes_and_methods(member1, uname):
    assert member1.api.head("/v1/images/detail").status_code == 405
    assert member1.api.patch("/v1/images").status_code == 405
    img = create(member1, {"x-image-meta-name": uname("routes")})
    assert member1.api.get(f"/v1/images/{img['id']}").status_code == 404  # no data
    r = member1.api.get("/v1/images", params={"name": img["name"]})
    assert r.status_code == 200
    assert r.json()["images"] == [{"id": img["id"], "name": img["name"], "disk_format": None,
                                   "container_format": None, "checksum": None, "size": None}]
    for bad in ({"limit": "x"}, {"marker": "nope"}, {"sort_key": "owner"}, {"size_min": "-1"},
                {"marker": str(uuid.uuid4())}):
        assert member1.api.get("/v1/images/detail", params=bad).status_code == 400, bad
    member1.api.delete(f"/v1/images/{img['id']}")


def test_is_public_matrix(admin, member1, member2, uname):
    a = create(admin, {"x-image-meta-name": uname("A"), "x-image-meta-is_public": "True"})
    b = create(member1, {"x-image-meta-name": uname("B"), "x-image-meta-is_public": "False"})
    c = create(member2, {"x-image-meta-name": uname("C"), "x-image-meta-is_public": "None"})
    d = create(admin, {"x-image-meta-name": uname("D")})
    assert member1.api.image(b["id"])["visibility"] == "shared"
    assert admin.api.image(a["id"])["visibility"] == "public"
    # A user may not publicize.
    r = member1.api.post("/v1/images", headers={"x-image-meta-name": uname("pub"),
                                                "x-image-meta-is_public": "True"})
    assert r.status_code == 403
    mine = {a["id"]: "A", b["id"]: "B", c["id"]: "C", d["id"]: "D"}

    def seen(p, **params):
        r = p.api.get("/v1/images/detail", params={"limit": 1000, **params})
        assert r.status_code == 200, r.text
        return sorted(mine[i["id"]] for i in r.json()["images"] if i["id"] in mine)

    for params in ({}, {"is_public": "True"}, {"is_public": "False"}, {"is_public": "None"}):
        assert seen(member1, **params) == ["A", "B"], params  # users: ignored
        assert seen(member2, **params) == ["A", "C"], params
    assert seen(admin) == ["A", "D"]                          # an admin as a user
    assert seen(admin, is_public="True") == ["A", "D"]
    assert seen(admin, is_public="None") == ["A", "B", "C", "D"]
    assert seen(admin, is_public="False") == ["B", "C", "D"]
    # Paging as glanceclient does it.
    r = admin.api.get("/v1/images/detail", params={"is_public": "None", "limit": 2,
                                                    "sort_key": "name", "sort_dir": "asc"})
    first = r.json()["images"]
    assert len(first) == 2
    r = admin.api.get("/v1/images/detail", params={"is_public": "None", "limit": 2,
                                                    "sort_key": "name", "sort_dir": "asc",
                                                    "marker": first[-1]["id"]})
    assert r.status_code == 200
    assert not {i["id"] for i in first} & {i["id"] for i in r.json()["images"]}
    for img, p in ((a, admin), (b, member1), (c, member2), (d, admin)):
        assert p.api.delete(f"/v1/images/{img['id']}").status_code == 200


def test_members_and_shared_images(member1, member2, uname):
    img = create(member1, {"x-image-meta-name": uname("mem")})
    base = f"/v1/images/{img['id']}/members"
    assert member1.api.get(base).json() == {"members": []}
    r = member1.api.put(f"{base}/{member2.project_id}", json={"member": {"can_share": False}})
    assert r.status_code == 204, r.text
    assert member1.api.get(base).json() == {
        "members": [{"member_id": member2.project_id, "can_share": False}]}
    r = member1.api.get(f"{base}/{member2.project_id}")
    assert r.status_code == 200 and r.json()["member"]["member_id"] == member2.project_id
    v2 = member1.api.get(f"/v2/images/{img['id']}/members").json()["members"]
    assert [(m["member_id"], m["status"]) for m in v2] == [(member2.project_id, "accepted")]
    r = member2.api.get(f"/v1/shared-images/{member2.project_id}")
    assert {"image_id": img["id"], "can_share": False} in r.json()["shared_images"]
    # The member may not add members; bad bodies are 400.
    assert member2.api.put(f"{base}/{member1.project_id}").status_code in (403, 404)
    assert member1.api.put(base, data="{not json").status_code == 400
    assert member1.api.put(base, json={"memberships": [{"can_share": True}]}).status_code == 400
    # Replace all: none left.
    assert member1.api.put(base, json={"memberships": []}).status_code == 204
    assert member1.api.get(base).json() == {"members": []}
    r = member2.api.get(f"/v1/shared-images/{member2.project_id}")
    assert img["id"] not in [s["image_id"] for s in r.json()["shared_images"]]
    assert member1.api.put(base, json={"memberships": [
        {"member_id": member2.project_id}]}).status_code == 204
    assert member1.api.delete(f"{base}/{member2.project_id}").status_code == 204
    assert member1.api.delete(f"/v1/images/{img['id']}").status_code == 200


def test_enable_v1_api_false(glimmer_factory):
    srv = glimmer_factory("no-v1", extra_env={"GLIMMER_DEFAULT__ENABLE_V1_API": "false"})
    p = make_principal(srv.admin_env())
    r = p.api.get("/v1/images")
    assert r.status_code == 300
    ids = [v["id"] for v in r.json()["versions"]]
    assert "v1.0" not in ids and "v1.1" not in ids and "v2.18" in ids
    assert p.api.get("/v2/images").status_code == 200
