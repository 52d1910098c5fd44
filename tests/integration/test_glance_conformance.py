"""Places where Glimmer used to differ from Glance (issue 13, item 4) and the clearer message for
the guides' v2 sharing command (item 2), against the real binary over HTTP and the real CLI."""
import hashlib
import os
import urllib.parse
import uuid

import pytest
import requests

import glimmer_testlib as lib
from conftest import make_principal
from test_import import Source, assert_failed_cleanly, new_image, start_import, wait_status

pytestmark = pytest.mark.glimmer_only


# ----------------------------------------------------------------------------- trailing slash
@pytest.mark.parametrize("method,path", [("GET", "/v2/images/"), ("DELETE", "/v2/images/"),
                                         ("GET", "/v2/schemas/image/"),
                                         ("PATCH", "/v2/images/")])
def test_a_trailing_slash_below_the_version_is_404(admin, method, path):
    r = admin.api.request(method, path)
    assert r.status_code == 404, r.text
    assert "could not be found" in r.text


def test_without_the_slash_the_same_paths_work(admin):
    assert admin.api.get("/v2/images").status_code == 200
    assert admin.api.get("/v2/schemas/image").status_code == 200


def test_a_trailing_slash_still_needs_a_token(admin):
    r = requests.get(admin.base_url + "/v2/images/", timeout=30)
    assert r.status_code == 401


# ----------------------------------------------------------------------------- all_stores
def test_all_stores_on_a_single_store_imports_into_it(admin):
    """Tempest's client sends all_stores=true by default; with one store Glance ignores it."""
    data = os.urandom(300_000)
    image_id = new_image(admin.api)
    r = admin.api.put(f"/v2/images/{image_id}/stage", data=data,
                      headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 204, r.text
    start_import(admin.api, image_id, {"method": {"name": "glance-direct"}, "all_stores": True})
    img = wait_status(admin.api, image_id, ("active",))
    assert img["checksum"] == hashlib.md5(data).hexdigest()
    assert admin.api.get(f"/v2/images/{image_id}/file").content == data


def test_naming_a_store_on_a_single_store_is_still_refused(admin):
    image_id = new_image(admin.api)
    r = start_import(admin.api, image_id, {"method": {"name": "glance-direct"},
                                          "stores": ["a", "b"]}, expect=400)
    assert "several stores" in r.text


# ----------------------------------------------------------------------------- members
def test_sharing_a_private_image_says_how_to_fix_it(admin):
    image_id = new_image(admin.api, visibility="private")
    r = admin.api.post(f"/v2/images/{image_id}/members", json={"member": uuid.uuid4().hex})
    assert r.status_code == 403, r.text
    assert "Only shared images have members" in r.text
    assert f"openstack image set --shared {image_id}" in r.text
    # The guides' command, verbatim, shows the same advice.
    out = lib.run_cli(admin.env, "openstack", "image", "add", "project", image_id,
                      admin.project_id, ok=False)
    assert "openstack image set --shared" in out, out
    # After following it, the same command works.
    lib.run_cli(admin.env, "openstack", "image", "set", "--shared", image_id)
    lib.run_cli(admin.env, "openstack", "image", "add", "project", image_id, admin.project_id)


# ----------------------------------------------------------------------------- allowed_hosts
@pytest.fixture(scope="module")
def source():
    s = Source()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def listed(glimmer_factory, source, tmp_path_factory):
    """A server whose operator lists 127.0.0.1 in allowed_hosts, and nothing else (no
    allowed_cidrs, no allow_private_addresses)."""
    root = tmp_path_factory.mktemp("listed-conf")
    conf = root / "glimmer.conf"
    conf.write_text(f"""
[import_filtering_opts]
allowed_hosts = 127.0.0.1
allowed_ports = {source.port}
stall_timeout_seconds = 2
""")
    srv = glimmer_factory("listed", extra_args=["--config", str(conf)])
    return srv, make_principal(srv.admin_env())


def test_a_host_listed_in_allowed_hosts_may_be_private(listed, source):
    srv, admin = listed
    data = os.urandom(200_000)
    image_id = new_image(admin.api)
    start_import(admin.api, image_id, {"method": {"name": "web-download",
                                                  "uri": source.add(data)}})
    img = wait_status(admin.api, image_id, ("active",))
    assert img["checksum"] == hashlib.md5(data).hexdigest()


def test_hosts_not_listed_are_refused(listed, source):
    srv, admin = listed
    image_id = new_image(admin.api)
    uri = f"http://localhost:{source.port}/img/x"
    r = start_import(admin.api, image_id, {"method": {"name": "web-download", "uri": uri}},
                     expect=400)
    assert "allowed_hosts" in r.text


def test_a_redirect_to_a_private_address_is_refused_even_to_a_listed_host(listed, source):
    srv, admin = listed
    target = source.add(b"x" * 1000)
    uri = source.url("/redirect?to=" + urllib.parse.quote(target, safe=""))
    image_id = new_image(admin.api)
    start_import(admin.api, image_id, {"method": {"name": "web-download", "uri": uri}})
    assert_failed_cleanly(admin.api, srv, image_id, "redirect", "not allowed", "loopback")
