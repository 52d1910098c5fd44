"""The dashboard's server side (docs/design/dashboard.md §3, issue 12) against the real binary on
loopback, over real HTTP: the redirect of browsers from /, the embedded assets and their caching,
the session cookie and document, the CSRF defences, the proxy edge (with a streamed 200 MiB
upload), the refusal of /auth/tokens, and that no token ever reaches a dashboard response.

Runs on both backends (GLIMMER_TEST_BACKEND=distributed puts the server on PostgreSQL and RBD
through glimmer_factory)."""
import gzip
import hashlib
import json
import re
import sqlite3
import subprocess
import uuid

import pytest
import requests

import glimmer_testlib as lib

pytestmark = pytest.mark.glimmer_only

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")
TOKEN_SHAPE = re.compile(rb"(?=(gl[A-Za-z0-9_-]{43}))")  # Glimmer's bearer tokens
PASSWORD = "Dash-" + uuid.uuid4().hex[:10]


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def srv(glimmer_factory):
    # 127.0.0.1 is a trusted proxy here, so X-Forwarded-Proto: https from the test counts.
    return glimmer_factory("dashboard", extra_env={
        "GLIMMER_DASHBOARD__TRUSTED_PROXIES": "127.0.0.1",
    })


@pytest.fixture(scope="module")
def admin_api(srv):
    env = srv.admin_env()
    token, body = lib.token_and_body(env)
    return lib.Api(srv.base_url, token)


@pytest.fixture(scope="module")
def people(srv, admin_api):
    """Two projects; `alice` is a member of both, `bob` of the first only."""
    sfx = uuid.uuid4().hex[:6]
    ident = lib.Api(srv.base_url + "/identity/v3", admin_api.headers["X-Auth-Token"])
    roles = {r["name"]: r["id"] for r in ident.get("/roles").json()["roles"]}
    projects = {}
    for name in (f"dash-a-{sfx}", f"dash-b-{sfx}"):
        r = ident.post("/projects", json={"project": {"name": name, "domain_id": "default"}})
        assert r.status_code == 201, r.text
        projects[name] = r.json()["project"]["id"]
    users = {}
    for key, name, grants in (("alice", f"alice-{sfx}", list(projects)),
                              ("bob", f"bob-{sfx}", list(projects)[:1]),
                              ("mallory", f"mallory-{sfx}", list(projects)[:1])):
        r = ident.post("/users", json={"user": {"name": name, "password": PASSWORD,
                                                "domain_id": "default"}})
        assert r.status_code == 201, r.text
        uid = r.json()["user"]["id"]
        for p in grants:
            r = ident.put(f"/projects/{projects[p]}/users/{uid}/roles/{roles['member']}")
            assert r.status_code in (200, 204), r.text
        users[key] = {"name": name, "id": uid}
    names = list(projects)
    return {"users": users, "projects": projects, "a": names[0], "b": names[1], "ident": ident}


class Browser(requests.Session):
    """A signed-in page: the cookie jar holds the session cookie, csrf the page's token, and
    every response is kept for the no-token check."""

    def __init__(self, base):
        super().__init__()
        self.base = base
        self.csrf = None
        self.seen = []
        self.hooks["response"].append(lambda r, *a, **k: self.seen.append(r))

    def request(self, method, url, *args, **kwargs):
        if url.startswith("/"):
            url = self.base + url
        kwargs.setdefault("timeout", 300)
        kwargs.setdefault("allow_redirects", False)
        headers = dict(kwargs.pop("headers", None) or {})
        if method.upper() not in ("GET", "HEAD") and self.csrf and "X-Glimmer-CSRF" not in headers:
            headers["X-Glimmer-CSRF"] = self.csrf
        headers.setdefault("Origin", self.base)
        headers.setdefault("Sec-Fetch-Site", "same-origin")
        return super().request(method, url, *args, headers=headers, **kwargs)

    def sign_in(self, user, password=PASSWORD, project="", expect=201, headers=None):
        r = self.post("/dashboard/api/session", headers=headers,
                      json={"domain": "Default", "project": project, "user": user,
                            "password": password})
        assert expect is None or r.status_code == expect, r.text
        if r.status_code == 201:
            self.csrf = r.json()["csrf_token"]
        return r

    def cookie(self):
        return self.cookies.get("glimmer_session", path="/dashboard/")


def browser(srv, user=None, project=""):
    b = Browser(srv.base_url)
    if user:
        b.sign_in(user, project=project)
    return b


def set_cookie_attrs(r):
    raw = r.headers["Set-Cookie"]
    parts = [p.strip() for p in raw.split(";")]
    name, _, value = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        attrs[k.lower()] = v
    return name, value, attrs


def assert_security_headers(r):
    assert r.headers.get("Content-Security-Policy") == CSP, (r.url, r.status_code)
    assert r.headers.get("X-Content-Type-Options") == "nosniff", r.url
    assert r.headers.get("Referrer-Policy") == "no-referrer", r.url
    assert r.headers.get("Cross-Origin-Opener-Policy") == "same-origin", r.url


def live_token_digests(srv):
    """SHA-256 digests of every token the server has stored (tokens keep only digests)."""
    if lib.distributed():
        dsn = lib.pg_database_for(srv.data_dir)
        out = subprocess.run(["/usr/bin/psql", dsn, "-qAtX", "-c", "SELECT digest FROM tokens"],
                             check=True, capture_output=True, text=True, timeout=60).stdout
        return set(out.split())
    with sqlite3.connect(f"file:{srv.data_dir / 'glimmer.db'}?mode=ro", uri=True) as db:
        return {row[0] for row in db.execute("SELECT digest FROM tokens")}


def session_rows(srv):
    if lib.distributed():
        dsn = lib.pg_database_for(srv.data_dir)
        out = subprocess.run(["/usr/bin/psql", dsn, "-qAtX", "-c",
                              "SELECT count(*) FROM dashboard_sessions"],
                             check=True, capture_output=True, text=True, timeout=60).stdout
        return int(out.strip())
    with sqlite3.connect(f"file:{srv.data_dir / 'glimmer.db'}?mode=ro", uri=True) as db:
        return db.execute("SELECT count(*) FROM dashboard_sessions").fetchone()[0]


# ----------------------------------------------------------------------------- / and assets
def test_root_redirects_browsers_and_keeps_the_versions_document_for_clients(srv):
    plain = requests.get(srv.base_url + "/", timeout=30, allow_redirects=False)
    assert plain.status_code == 300
    for accept in ("application/json", "*/*"):
        r = requests.get(srv.base_url + "/", headers={"Accept": accept}, timeout=30,
                         allow_redirects=False)
        assert r.status_code == 300, accept
        assert r.content == plain.content
        assert "Set-Cookie" not in r.headers
    html = requests.get(srv.base_url + "/", allow_redirects=False, timeout=30, headers={
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    assert html.status_code == 302
    assert html.headers["Location"] == "/dashboard/"
    bare = requests.get(srv.base_url + "/dashboard", allow_redirects=False, timeout=30)
    assert bare.status_code == 301
    assert bare.headers["Location"] == "/dashboard/"


def asset_urls(srv):
    index = requests.get(srv.base_url + "/dashboard/", timeout=30).text
    urls = re.findall(r'(?:src|href)="(/dashboard/assets/[^"]+)"', index)
    assert any(u.endswith(".js") for u in urls) and any(u.endswith(".css") for u in urls), index
    return urls


def test_index_is_revalidated_with_etag(srv):
    r = requests.get(srv.base_url + "/dashboard/", timeout=30,
                     headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.headers["Cache-Control"] == "no-cache"
    assert r.headers["ETag"].startswith('"')
    assert_security_headers(r)
    assert "<script" in r.text and "glimmer_session" not in r.text
    again = requests.get(srv.base_url + "/dashboard/", timeout=30, headers={
        "Accept-Encoding": "identity", "If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert_security_headers(again)


def test_assets_are_immutable_and_gzipped_when_accepted(srv):
    for url in asset_urls(srv):
        plain = requests.get(srv.base_url + url, timeout=30,
                             headers={"Accept-Encoding": "identity"})
        assert plain.status_code == 200, url
        assert plain.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert "Content-Encoding" not in plain.headers
        assert_security_headers(plain)
        expected_type = "text/javascript" if url.endswith(".js") else "text/css"
        assert plain.headers["Content-Type"].startswith(expected_type)
        gz = requests.get(srv.base_url + url, timeout=30, stream=True,
                          headers={"Accept-Encoding": "gzip, deflate"})
        raw = gz.raw.read(decode_content=False)
        if "Vary" in gz.headers:  # the file has a gzip twin
            assert gz.headers["Vary"] == "Accept-Encoding"
            assert gz.headers["Content-Encoding"] == "gzip"
            assert gzip.decompress(raw) == plain.content
            assert gz.headers["ETag"] != plain.headers["ETag"]
        else:
            assert raw == plain.content


def test_unknown_assets_are_404_and_client_routes_get_the_page(srv):
    index = requests.get(srv.base_url + "/dashboard/", timeout=30).content
    for path in ("/dashboard/assets/app-DOESNOTEXIST.js", "/dashboard/favicon.ico",
                 "/dashboard/assets/"):
        r = requests.get(srv.base_url + path, timeout=30)
        assert r.status_code == 404, path
        assert_security_headers(r)
    route = requests.get(srv.base_url + "/dashboard/images/some-id", timeout=30)
    assert route.status_code == 200
    assert route.content == index


# ----------------------------------------------------------------------------- sessions
def test_cookie_flags(srv, people):
    b = Browser(srv.base_url)
    r = b.sign_in(people["users"]["bob"]["name"])
    name, value, attrs = set_cookie_attrs(r)
    assert name == "glimmer_session"
    assert len(value) == 43 and re.fullmatch(r"[A-Za-z0-9_-]+", value)
    assert attrs["path"] == "/dashboard/"
    assert "httponly" in attrs
    assert attrs["samesite"] == "Strict"
    assert 3500 <= int(attrs["max-age"]) <= 3600
    assert "secure" not in attrs  # plain http on loopback
    assert r.headers["Cache-Control"] == "no-store"
    # Behind a trusted proxy that terminated TLS the cookie is Secure.
    b2 = Browser(srv.base_url)
    r2 = b2.sign_in(people["users"]["bob"]["name"], headers={"X-Forwarded-Proto": "https",
                                                             "Origin": "https://" + srv.base_url[7:]})
    assert "secure" in set_cookie_attrs(r2)[2]


def test_sign_in_refusals(srv, people):
    b = Browser(srv.base_url)
    r = b.post("/dashboard/api/session", data=json.dumps(
        {"user": people["users"]["bob"]["name"], "password": PASSWORD}),
        headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    r = b.post("/dashboard/api/session", headers={"Origin": "http://evil.example"},
               json={"user": people["users"]["bob"]["name"], "password": PASSWORD})
    assert r.status_code == 403
    r = b.post("/dashboard/api/session", headers={"Sec-Fetch-Site": "cross-site"},
               json={"user": people["users"]["bob"]["name"], "password": PASSWORD})
    assert r.status_code == 403
    assert "Set-Cookie" not in r.headers
    r = b.sign_in(people["users"]["bob"]["name"], password="wrong", expect=401)
    assert "Set-Cookie" not in r.headers
    assert r.json()["code"] == "401 Unauthorized"


def test_session_document(srv, people):
    alice = people["users"]["alice"]
    b = browser(srv, alice["name"], project=people["a"])
    r = b.get("/dashboard/api/session")
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-store"
    assert_security_headers(r)
    doc = r.json()
    assert doc["user"]["id"] == alice["id"] and doc["user"]["name"] == alice["name"]
    assert doc["user"]["domain"] == {"id": "default", "name": "Default"}
    assert doc["project"]["id"] == people["projects"][people["a"]]
    assert doc["project"]["name"] == people["a"]
    assert {p["id"] for p in doc["projects"]} == set(people["projects"].values())
    assert "member" in doc["roles"] and "reader" in doc["roles"] and "admin" not in doc["roles"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["expires_at"])
    assert doc["csrf_token"] == b.csrf
    caps = doc["capabilities"]
    assert caps["add_image"] and caps["upload_image"] and caps["delete_image"]
    assert caps["publicize_image"] is False  # admin only by Glance's defaults
    assert doc["endpoints"] == {"identity": srv.base_url + "/identity/v3",
                                "image": srv.base_url, "region": "RegionOne",
                                "interface": "public"}
    # No project given: the user's first project.
    first = browser(srv, people["users"]["bob"]["name"]).get("/dashboard/api/session").json()
    assert first["project"]["name"] == people["a"]


def test_unauthenticated_api_calls_get_401_and_a_cleared_cookie(srv):
    b = Browser(srv.base_url)
    for cookie in (None, "garbage", "A" * 43):
        if cookie:
            b.cookies.set("glimmer_session", cookie, path="/dashboard/")
        r = b.get("/dashboard/api/v2/images")
        assert r.status_code == 401
        assert r.json()["title"] == "Unauthorized"
        assert r.headers["Cache-Control"] == "no-store"
        assert_security_headers(r)
        _, value, attrs = set_cookie_attrs(r)
        assert value == "" and attrs["max-age"] == "0"


# ----------------------------------------------------------------------------- CSRF
def test_csrf_refusals_change_nothing(srv, people, admin_api):
    bob = browser(srv, people["users"]["bob"]["name"])
    name = "csrf-" + uuid.uuid4().hex[:8]
    ok = bob.post("/dashboard/api/v2/images", json={"name": name + "-ok",
                                                    "disk_format": "raw",
                                                    "container_format": "bare"})
    assert ok.status_code == 201, ok.text
    image_id = ok.json()["id"]
    refusals = [
        {"X-Glimmer-CSRF": ""},                                   # missing
        {"X-Glimmer-CSRF": "x" * 43},                             # wrong
        {"Origin": "http://localhost:1"},                         # foreign origin
        {"Sec-Fetch-Site": "cross-site"},                         # cross-site
        {"Sec-Fetch-Site": "same-site"},
    ]
    for headers in refusals:
        r = bob.post("/dashboard/api/v2/images", headers=headers,
                     json={"name": name, "disk_format": "raw", "container_format": "bare"})
        assert r.status_code == 403, (headers, r.text)
        assert_security_headers(r)
        r = bob.delete(f"/dashboard/api/v2/images/{image_id}", headers=headers)
        assert r.status_code == 403, headers
        r = bob.delete("/dashboard/api/session", headers=headers)
        assert r.status_code == 403, headers
    # Nothing happened: no image of that name, the first image and the session are still there.
    listed = admin_api.get("/v2/images", params={"name": name}).json()["images"]
    assert listed == []
    assert admin_api.get(f"/v2/images/{image_id}").status_code == 200
    assert bob.get("/dashboard/api/session").status_code == 200
    # GETs need no CSRF token (downloads by link).
    assert bob.get(f"/dashboard/api/v2/images/{image_id}",
                   headers={"Sec-Fetch-Site": "none", "Origin": None}).status_code == 200
    assert bob.delete(f"/dashboard/api/v2/images/{image_id}").status_code == 204


def test_auth_tokens_is_refused_through_the_edge(srv, people):
    bob = browser(srv, people["users"]["bob"]["name"])
    for method in ("GET", "HEAD", "POST", "DELETE"):
        for path in ("/dashboard/api/identity/v3/auth/tokens",
                     "/dashboard/api/identity/v3/auth/tokens/",
                     "/dashboard/api/identity//v3/auth/tokens"):
            r = bob.request(method, path, json={} if method == "POST" else None)
            assert r.status_code == 404, (method, path)
            assert "X-Subject-Token" not in r.headers
    projects = bob.get("/dashboard/api/identity/v3/auth/projects")
    assert projects.status_code == 200
    assert projects.json()["projects"]


def test_client_credentials_are_not_forwarded(srv, people, admin_api):
    # An X-Auth-Token sent by the page (here: the admin's) is dropped; the session's is used.
    bob = browser(srv, people["users"]["bob"]["name"])
    r = bob.get("/dashboard/api/identity/v3/auth/projects",
                headers={"X-Auth-Token": admin_api.headers["X-Auth-Token"]})
    assert r.status_code == 200
    names = {p["name"] for p in r.json()["projects"]}
    assert names == {people["a"]}


# ----------------------------------------------------------------------------- session ends
def test_sign_out_ends_the_session(srv, people):
    b = browser(srv, people["users"]["bob"]["name"])
    old = b.cookie()
    before = session_rows(srv)
    r = b.delete("/dashboard/api/session")
    assert r.status_code == 204
    _, value, attrs = set_cookie_attrs(r)
    assert value == "" and attrs["max-age"] == "0"
    assert session_rows(srv) == before - 1
    replay = Browser(srv.base_url)
    replay.cookies.set("glimmer_session", old, path="/dashboard/")
    assert replay.get("/dashboard/api/session").status_code == 401
    assert replay.get("/dashboard/api/v2/images").status_code == 401


def test_token_revocation_ends_the_session(srv, people):
    mallory = people["users"]["mallory"]
    b = browser(srv, mallory["name"])
    assert b.get("/dashboard/api/v2/images").status_code == 200
    # A password change revokes every token of the user (as Keystone does).
    ident = people["ident"]
    r = ident.patch(f"/users/{mallory['id']}", json={"user": {"password": PASSWORD + "x"}})
    assert r.status_code == 200, r.text
    try:
        r = b.get("/dashboard/api/v2/images")
        assert r.status_code == 401
        assert set_cookie_attrs(r)[2]["max-age"] == "0"
    finally:
        ident.patch(f"/users/{mallory['id']}", json={"user": {"password": PASSWORD}})


def test_rescope_rotates_the_cookie(srv, people):
    alice = people["users"]["alice"]
    b = browser(srv, alice["name"], project=people["a"])
    old_cookie, old_csrf = b.cookie(), b.csrf
    target = people["projects"][people["b"]]
    r = b.put("/dashboard/api/session/project", json={"project_id": target})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["project"]["id"] == target
    assert doc["csrf_token"] != old_csrf
    _, new_cookie, attrs = set_cookie_attrs(r)
    assert new_cookie != old_cookie and "httponly" in attrs
    b.csrf = doc["csrf_token"]
    assert b.get("/dashboard/api/session").json()["project"]["id"] == target
    replay = Browser(srv.base_url)
    replay.cookies.set("glimmer_session", old_cookie, path="/dashboard/")
    assert replay.get("/dashboard/api/session").status_code == 401
    # A project without a role is refused and the session stays.
    bob_only = browser(srv, people["users"]["bob"]["name"])
    r = bob_only.put("/dashboard/api/session/project", json={"project_id": target})
    assert r.status_code == 403
    assert bob_only.get("/dashboard/api/session").status_code == 200


def test_sign_in_is_throttled(srv, people):
    b = Browser(srv.base_url)
    user = people["users"]["mallory"]["name"]
    statuses = []
    for _ in range(8):
        r = b.sign_in(user, password="not-it", expect=None)
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) >= 1
            assert_security_headers(r)
            break
    assert statuses[-1] == 429, statuses
    assert set(statuses[:-1]) == {401}


# ----------------------------------------------------------------------------- uploads
def test_upload_streams_through_the_edge(srv, people, admin_api):
    bob = browser(srv, people["users"]["bob"]["name"])
    r = bob.post("/dashboard/api/v2/images", json={"name": "edge-upload", "disk_format": "raw",
                                                   "container_format": "bare"})
    assert r.status_code == 201, r.text
    image_id = r.json()["id"]
    size = 200 << 20
    block = hashlib.sha256(b"glimmer").digest() * (1 << 15)  # 1 MiB of fixed bytes
    md5 = hashlib.md5()
    for _ in range(size // len(block)):
        md5.update(block)

    def body():
        for _ in range(size // len(block)):
            yield block

    rss_before = srv.peak_rss_kib()
    r = bob.put(f"/dashboard/api/v2/images/{image_id}/file", data=body(),
                headers={"Content-Type": "application/octet-stream",
                         "x-openstack-image-size": str(size)})
    assert r.status_code == 204, r.text
    assert r.headers["Cache-Control"] == "no-store"
    image = bob.get(f"/dashboard/api/v2/images/{image_id}").json()
    assert image["status"] == "active"
    assert image["size"] == size
    assert image["checksum"] == md5.hexdigest()
    # Streamed: the server did not hold the body (200 MiB) in memory.
    if rss_before is not None:
        assert srv.peak_rss_kib() - rss_before < 96 << 10
    # The download by link (GET, no CSRF header) streams the same bytes back.
    down = bob.get(f"/dashboard/api/v2/images/{image_id}/file", stream=True,
                   headers={"Sec-Fetch-Site": "same-origin"})
    assert down.status_code == 200
    got = hashlib.md5()
    for chunk in down.iter_content(1 << 20):
        got.update(chunk)
    assert got.hexdigest() == md5.hexdigest()
    assert_security_headers(down)
    admin_api.delete_image(image_id)


# ----------------------------------------------------------------------------- no tokens, headers
def test_no_token_in_any_dashboard_response_and_headers_everywhere(srv, people):
    alice = people["users"]["alice"]
    b = browser(srv, alice["name"], project=people["a"])
    b.get("/dashboard/")
    for url in asset_urls(srv):
        b.get(url)
    b.get("/dashboard/api/session")
    b.get("/dashboard/api/v2/images")
    b.get("/dashboard/api/v2/info/usage")
    b.get("/dashboard/api/identity/v3/auth/projects")
    b.get("/dashboard/api/identity/v3/auth/catalog")
    b.get("/dashboard/api/identity/v3")
    b.get("/dashboard/api/identity/v3/auth/tokens")
    b.get("/dashboard/api/v2/images/00000000-0000-4000-8000-000000000000")
    b.get("/dashboard/api/unknown")
    b.post("/dashboard/index.html")
    b.put("/dashboard/api/session/project",
          json={"project_id": people["projects"][people["b"]]})
    b.csrf = b.seen[-1].json()["csrf_token"]
    b.get("/dashboard/api/session")
    b.delete("/dashboard/api/session")
    b.get("/dashboard/api/session")
    digests = live_token_digests(srv)
    assert digests
    checked = 0
    for r in b.seen:
        if r.url.startswith(srv.base_url + "/dashboard"):
            assert_security_headers(r)
        blob = r.content + "\n".join(f"{k}: {v}" for k, v in r.headers.items()).encode()
        assert b"X-Subject-Token" not in blob
        for m in TOKEN_SHAPE.finditer(blob):
            assert hashlib.sha256(m.group(1)).hexdigest() not in digests, r.url
        checked += 1
    assert checked >= 15


def test_upload_started_before_the_session_expires_finishes(glimmer_factory):
    """Authentication is checked when a request starts (as Glance with keystonemiddleware): an
    upload through the edge that outlives its token still completes; the next call is 401."""
    import time

    srv = glimmer_factory("dashboard-expiry",
                          extra_env={"GLIMMER_GLIMMER__TOKEN_EXPIRATION": "10",
                                     "GLIMMER_GLIMMER__TOKEN_CACHE_SECONDS": "0"})
    b = Browser(srv.base_url)
    b.sign_in("admin", password=srv.admin_password, project="admin")
    r = b.post("/dashboard/api/v2/images", json={"name": "slow", "disk_format": "raw",
                                                 "container_format": "bare"})
    assert r.status_code == 201, r.text
    image_id = r.json()["id"]
    expires = time.monotonic() + 10
    chunk = b"\x5a" * (256 << 10)
    sent = 0

    def body():
        nonlocal sent
        while time.monotonic() < expires + 5:  # keep sending past the token's expiry
            yield chunk
            sent += len(chunk)
            time.sleep(0.25)

    r = b.put(f"/dashboard/api/v2/images/{image_id}/file", data=body(),
              headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 204, r.text
    assert b.get("/dashboard/api/session").status_code == 401
    admin = lib.Api(srv.base_url, lib.token_and_body(srv.admin_env())[0])
    image = admin.image(image_id)
    assert image["status"] == "active" and image["size"] == sent
