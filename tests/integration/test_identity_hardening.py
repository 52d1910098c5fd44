"""Hardening of the embedded identity service, over HTTP against the real binary (Glimmer only):
- a revocation racing validations of the same token never leaves it usable (the token cache is
  written after the database and cannot re-insert a revoked token);
- a password change (self-service POST /v3/users/{id}/password, or an admin's PATCH with a
  password) revokes the user's tokens, also on another node sharing the database (there within
  token_cache_seconds, as for an explicit revocation);
- repeated failed logins of one user, or from one address, are answered 429 with Retry-After for a
  doubling, capped delay ([glimmer] login_throttle_*), and the password-change endpoint takes as
  long for an unknown user id as for a wrong password;
- a restart with GLIMMER_ADMIN_PASSWORD set gives that password to an enabled admin user (and
  revokes its tokens) but never re-enables a disabled one or re-grants a removed admin role."""
import http.client
import json
import statistics
import threading
import time
import uuid

import pytest
import requests

import glimmer_testlib as lib
from conftest import make_principal

pytestmark = pytest.mark.glimmer_only


TOKEN_CACHE = 2  # seconds: [glimmer] token_cache_seconds of both nodes


@pytest.fixture(scope="module")
def node(glimmer_factory):
    return glimmer_factory("identity-hardening", extra_env={
        "GLIMMER_GLIMMER__TOKEN_CACHE_SECONDS": str(TOKEN_CACHE)})


@pytest.fixture(scope="module")
def admin(node):
    return make_principal(node.admin_env())


def _token(env, password=None):
    r = lib.issue_token(env, password=password)
    assert r.status_code == 201, f"{r.status_code} {r.text[:300]}"
    return r.headers["X-Subject-Token"]


def _user_env(node, name, password, project):
    return {"OS_AUTH_URL": f"{node.base_url}/identity/v3", "OS_USERNAME": name,
            "OS_PASSWORD": password, "OS_PROJECT_NAME": project,
            "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default"}


def _make_user(node, admin, role="member", project=None):
    """A new user (random name and password) with `role` on `project` (a new one by default);
    returns (env, user id)."""
    sfx = uuid.uuid4().hex[:8]
    if project is None:
        project = f"ih-p-{sfx}"
        r = admin.api.post("/identity/v3/projects", json={"project": {"name": project}})
        assert r.status_code == 201, r.text
        project_id = r.json()["project"]["id"]
    else:
        project_id = admin.api.get("/identity/v3/projects", params={"name": project}).json()[
            "projects"][0]["id"]
    name, password = f"ih-u-{sfx}", "Pw-" + uuid.uuid4().hex
    r = admin.api.post("/identity/v3/users", json={"user": {"name": name, "password": password}})
    assert r.status_code == 201, r.text
    user_id = r.json()["user"]["id"]
    role_id = admin.api.get("/identity/v3/roles", params={"name": role}).json()["roles"][0]["id"]
    r = admin.api.put(f"/identity/v3/projects/{project_id}/users/{user_id}/roles/{role_id}")
    assert r.status_code == 204, r.text
    return _user_env(node, name, password, project), user_id


def _images_status(session, base_url, token):
    r = session.get(base_url + "/v2/images", params={"limit": 1},
                    headers={"X-Auth-Token": token}, timeout=30)
    return r.status_code


# ----------------------------------------------------------------------------- F12
def test_revocation_racing_validations_never_leaves_the_token_usable(node, admin):
    """Several threads validate token T in a loop (GET /v2/images) while it is revoked: every
    request sent after the DELETE answered must be refused, on every round."""
    env = node.admin_env()
    for _ in range(5):
        token = _token(env)
        results = []  # (sent at, status)
        stop = threading.Event()

        def hammer():
            with requests.Session() as session:  # keep-alive: one connection per thread
                while not stop.is_set():
                    sent = time.monotonic()
                    results.append((sent, _images_status(session, node.base_url, token)))

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        r = admin.api.delete("/identity/v3/auth/tokens", headers={"X-Subject-Token": token})
        revoked_at = time.monotonic()
        assert r.status_code == 204, r.text
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join()
        before = [s for sent, s in results if sent < revoked_at]
        after = [s for sent, s in results if sent > revoked_at]
        assert before and 200 in before
        assert after and set(after) == {401}, f"{after.count(200)} of {len(after)} accepted"


# ----------------------------------------------------------------------------- F13
def _status(node, token):
    return _images_status(requests, node.base_url, token)


def test_password_change_revokes_the_users_tokens(node, admin):
    env, uid = _make_user(node, admin)
    bystander_env, _ = _make_user(node, admin)
    t1, t2 = _token(env), _token(env)
    other = _token(bystander_env)
    assert _status(node, t1) == 200 and _status(node, t2) == 200  # validated and cached
    new = "New-" + uuid.uuid4().hex
    r = requests.post(f"{node.base_url}/identity/v3/users/{uid}/password", timeout=30,
                      json={"user": {"original_password": env["OS_PASSWORD"], "password": new}})
    assert r.status_code == 204, r.text
    assert _status(node, t1) == 401 and _status(node, t2) == 401
    r = admin.api.get("/identity/v3/auth/tokens", headers={"X-Subject-Token": t1})
    assert r.status_code == 404
    assert _status(node, other) == 200  # other users keep theirs
    assert lib.issue_token(env).status_code == 401  # the old password is gone
    t3 = _token(env, password=new)  # the new one works, and so do its tokens
    assert _status(node, t3) == 200


def test_admin_setting_a_password_revokes_that_users_tokens(node, admin):
    env, uid = _make_user(node, admin)
    t1 = _token(env)
    assert _status(node, t1) == 200
    # An update without a password leaves the tokens alone...
    r = admin.api.patch(f"/identity/v3/users/{uid}", json={"user": {"description": "x"}})
    assert r.status_code == 200, r.text
    assert _status(node, t1) == 200
    # ...one with a password revokes them.
    new = "New-" + uuid.uuid4().hex
    r = admin.api.patch(f"/identity/v3/users/{uid}", json={"user": {"password": new}})
    assert r.status_code == 200, r.text
    assert _status(node, t1) == 401
    assert _status(node, _token(env, password=new)) == 200


def test_admin_changing_its_own_password_gets_new_tokens(node, admin):
    """The caller's own token goes too (as in Keystone); its new tokens work."""
    env, uid = _make_user(node, admin, role="admin", project="admin")
    mine = _token(env)
    new = "New-" + uuid.uuid4().hex
    r = requests.patch(f"{node.base_url}/identity/v3/users/{uid}", timeout=30,
                       headers={"X-Auth-Token": mine}, json={"user": {"password": new}})
    assert r.status_code == 200, r.text
    assert _status(node, mine) == 401
    fresh = _token(env, password=new)
    assert _status(node, fresh) == 200
    r = requests.get(f"{node.base_url}/identity/v3/users/{uid}", timeout=30,
                     headers={"X-Auth-Token": fresh})
    assert r.status_code == 200


@pytest.fixture(scope="module")
def node_b(node, glimmer_factory):
    """A second node on the first one's database."""
    if lib.distributed():
        connection = lib.pg_database_for(node.data_dir)
    else:
        connection = f"sqlite:///{node.data_dir / 'glimmer.db'}"
    return glimmer_factory("identity-hardening-b", extra_env={
        "GLIMMER_DATABASE__CONNECTION": connection,
        "GLIMMER_GLIMMER__TOKEN_CACHE_SECONDS": str(TOKEN_CACHE)})


def test_password_change_on_one_node_revokes_on_the_other(node, node_b, admin):
    env, uid = _make_user(node, admin)
    token = _token(env)
    assert _status(node_b, token) == 200  # now in node B's cache
    new = "New-" + uuid.uuid4().hex
    r = requests.post(f"{node.base_url}/identity/v3/users/{uid}/password", timeout=30,
                      json={"user": {"original_password": env["OS_PASSWORD"], "password": new}})
    assert r.status_code == 204, r.text
    changed = time.monotonic()
    assert _status(node, token) == 401
    # Node B may trust its cache for token_cache_seconds, as for an explicit revocation; then no
    # longer.
    while _status(node_b, token) == 200:
        assert time.monotonic() - changed < TOKEN_CACHE + 1, "still accepted on node B"
        time.sleep(0.1)
    fresh = _token(env, password=new)
    assert _status(node_b, fresh) == 200
    # And the other way round: a change through node B.
    env_b = dict(env, OS_AUTH_URL=f"{node_b.base_url}/identity/v3", OS_PASSWORD=new)
    token = _token(env_b)
    assert _status(node, token) == 200
    r = requests.post(f"{node_b.base_url}/identity/v3/users/{uid}/password", timeout=30,
                      json={"user": {"original_password": new, "password": "Third-" + new}})
    assert r.status_code == 204, r.text
    changed = time.monotonic()
    while _status(node, token) == 200:
        assert time.monotonic() - changed < TOKEN_CACHE + 1, "still accepted on node A"
        time.sleep(0.1)


# ----------------------------------------------------------------------------- F8
def _login(node, name, password, source=None):
    """POST /v3/auth/tokens from `source` (a local address to connect from, e.g. 127.0.0.2);
    returns (status, headers, body)."""
    body = json.dumps({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": name, "domain": {"id": "default"}, "password": password}}}}})
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=30,
                                      source_address=(source, 0) if source else None)
    try:
        conn.request("POST", "/identity/v3/auth/tokens", body=body,
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


def _throttled_node(glimmer_factory, name, **options):
    env = {f"GLIMMER_GLIMMER__LOGIN_THROTTLE_{k.upper()}": str(v) for k, v in options.items()}
    return glimmer_factory(name, extra_env=env)


@pytest.fixture(scope="module")
def user_throttled(glimmer_factory):
    return _throttled_node(glimmer_factory, "login-throttle-user", user_failures=3,
                           address_failures=0, max_delay_seconds=4)


def test_failed_logins_of_one_user_are_slowed_down(user_throttled):
    node = user_throttled
    admin = make_principal(node.admin_env())
    env, uid = _make_user(node, admin)
    bystander, _ = _make_user(node, admin)
    name, pw = env["OS_USERNAME"], env["OS_PASSWORD"]
    for _ in range(3):
        assert _login(node, name, "wrong")[0] == 401
    # Now even the right password waits (nothing is checked, nothing counted) ...
    status, headers, body = _login(node, name, pw)
    assert status == 429, body
    assert headers["retry-after"] == "1"
    err = json.loads(body)["error"]
    assert err["code"] == 429 and err["title"] == "Too Many Requests" and err["message"]
    assert headers["content-type"] == "application/json"
    # ... while other users are not affected.
    assert _login(node, bystander["OS_USERNAME"], bystander["OS_PASSWORD"])[0] == 201
    # The wait doubles with each further failure, up to the maximum (4 s here).
    for expected in ("2", "4", "4"):
        time.sleep(int(headers["retry-after"]))
        assert _login(node, name, "wrong")[0] == 401
        status, headers, _ = _login(node, name, pw)
        assert (status, headers.get("retry-after")) == (429, expected)
    time.sleep(int(headers["retry-after"]))
    assert _login(node, name, pw)[0] == 201  # a success clears the count
    assert _login(node, name, "wrong")[0] == 401
    assert _login(node, name, pw)[0] == 201
    # Unknown users are throttled alike: the answers do not tell whether a user exists.
    for _ in range(3):
        assert _login(node, "no-such-user-" + uid, "x")[0] == 401
    assert _login(node, "no-such-user-" + uid, "x")[0] == 429


def test_password_change_endpoint_shares_the_count(user_throttled):
    node = user_throttled
    admin = make_principal(node.admin_env())
    env, uid = _make_user(node, admin)
    url = f"{node.base_url}/identity/v3/users/{uid}/password"
    for _ in range(2):
        assert _login(node, env["OS_USERNAME"], "wrong")[0] == 401
    r = requests.post(url, json={"user": {"original_password": "wrong", "password": "x"}},
                      timeout=30)
    assert r.status_code == 401
    r = requests.post(url, timeout=30, json={
        "user": {"original_password": env["OS_PASSWORD"], "password": "x"}})
    assert r.status_code == 429 and r.headers["Retry-After"] == "1", r.text
    assert r.json()["error"]["code"] == 429
    assert _login(node, env["OS_USERNAME"], env["OS_PASSWORD"])[0] == 429


def test_failed_logins_from_one_address_are_slowed_down(glimmer_factory):
    node = _throttled_node(glimmer_factory, "login-throttle-address", user_failures=0,
                           address_failures=3, max_delay_seconds=4)
    admin = make_principal(node.admin_env())
    env, _ = _make_user(node, admin)
    # Guesses at several users from 127.0.0.2 ...
    for i in range(3):
        assert _login(node, f"someone-{i}", "guess", source="127.0.0.2")[0] == 401
    status, headers, _ = _login(node, env["OS_USERNAME"], env["OS_PASSWORD"], source="127.0.0.2")
    assert (status, headers.get("retry-after")) == (429, "1")
    # ... do not stop another address, and a success does not clear the guesser's count.
    assert _login(node, env["OS_USERNAME"], env["OS_PASSWORD"], source="127.0.0.3")[0] == 201
    time.sleep(1)
    assert _login(node, env["OS_USERNAME"], env["OS_PASSWORD"], source="127.0.0.2")[0] == 201
    assert _login(node, "someone-9", "guess", source="127.0.0.2")[0] == 401
    assert _login(node, env["OS_USERNAME"], env["OS_PASSWORD"], source="127.0.0.2")[0] == 429


def test_password_change_takes_as_long_for_an_unknown_user(node, admin):
    """No timing oracle for user ids: an unknown id costs the same password hashing as a wrong
    original password (both answer 401)."""
    env, uid = _make_user(node, admin)

    def timed(user_id):
        start = time.monotonic()
        r = requests.post(f"{node.base_url}/identity/v3/users/{user_id}/password", timeout=30,
                          json={"user": {"original_password": "wrong", "password": "x"}})
        assert r.status_code == 401, r.text
        return time.monotonic() - start

    known, unknown = [], []
    for i in range(4):  # below the user's failure threshold (5)
        known.append(timed(uid))
        unknown.append(timed(uuid.uuid4().hex))
    assert statistics.median(unknown) > 0.5 * statistics.median(known), (known, unknown)
    assert statistics.median(known) > 0.005  # the hashing is really there (100k PBKDF2)


# ----------------------------------------------------------------------------- F14
def test_restart_does_not_undo_an_operators_lock_down(glimmer_factory):
    srv = glimmer_factory("bootstrap-lock-down")
    admin = make_principal(srv.admin_env())
    ops_env, _ = _make_user(srv, admin, role="admin", project="admin")  # a second admin
    ops = lib.Api(srv.base_url, _token(ops_env))
    role_id = ops.get("/identity/v3/roles", params={"name": "admin"}).json()["roles"][0]["id"]
    grant = f"/identity/v3/projects/{admin.project_id}/users/{admin.user_id}/roles/{role_id}"

    # Documented: a new configured password is given to the (enabled) admin user at the next
    # start, and its old tokens go.
    srv.stop()
    srv.admin_password = "Changed-" + uuid.uuid4().hex[:8]
    srv.start()
    assert srv.openrc()["OS_PASSWORD"] == srv.admin_password
    assert _status(srv, admin.token) == 401
    assert lib.issue_token(srv.admin_env()).status_code == 201

    # The operator takes the admin role away and disables the user...
    assert ops.delete(grant).status_code == 204
    r = ops.patch(f"/identity/v3/users/{admin.user_id}", json={"user": {"enabled": False}})
    assert r.status_code == 200, r.text
    kept_password = srv.admin_password
    # ...and restarts, with the same password and then with another: both stay.
    for password in (kept_password, "Other-" + uuid.uuid4().hex[:8]):
        srv.stop()
        srv.admin_password = password
        srv.start()
        assert "the admin user is disabled" in srv.log_tail(40)
        user = ops.get(f"/identity/v3/users/{admin.user_id}").json()["user"]
        assert user["enabled"] is False
        assert ops.get(grant).status_code == 404
        assert lib.issue_token(srv.admin_env()).status_code == 401
    # Enabled again by the operator: the password is the one it had, and no role came back.
    r = ops.patch(f"/identity/v3/users/{admin.user_id}", json={"user": {"enabled": True}})
    assert r.status_code == 200, r.text
    env = srv.admin_env()
    assert lib.issue_token(env, password=kept_password).status_code == 401  # no role: unscopable
    assert ops.get(grant).status_code == 404
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "id": admin.user_id, "password": kept_password}}}}}
    r = requests.post(f"{srv.base_url}/identity/v3/auth/tokens", json=body, timeout=30)
    assert r.status_code == 201, r.text  # unscoped: the kept password works
