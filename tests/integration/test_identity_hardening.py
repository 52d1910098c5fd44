"""Hardening of the embedded identity service, over HTTP against the real binary (Glimmer only):
a revocation racing validations of the same token never leaves it usable (the token cache is
written after the database and cannot re-insert a revoked token)."""
import threading
import time
import uuid

import pytest
import requests

import glimmer_testlib as lib
from conftest import make_principal

pytestmark = pytest.mark.glimmer_only


@pytest.fixture(scope="module")
def node(glimmer_factory):
    return glimmer_factory("identity-hardening")


@pytest.fixture(scope="module")
def admin(node):
    return make_principal(node.admin_env())


def _token(env, password=None):
    r = lib.issue_token(env, password=password)
    assert r.status_code == 201, f"{r.status_code} {r.text[:300]}"
    return r.headers["X-Subject-Token"]


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
