"""The dashboard end to end (issue 12, "How it is checked"): dashboard/e2e/harness.mjs drives
Debian's headless Chromium (playwright-core, no browser download) through every page of the
dashboard served by a real Glimmer started here, and this test fails if any of its checks fails
or is skipped.

The data the harness expects is made here through the public API: projects `demo` and
`o'brien lab`, alice (member of both) and bob; 2,500 images in `demo` (created concurrently),
two active qcow2 images of 100 MiB and more, public images of the provider catalog with their OS
fields (by the admin); quotas for the usage page; web-download allowed to the harness's local
HTTP server. The harness itself uploads a 300 MiB raw file and a qcow2 through the dialog,
cancels an upload, imports from a URL, pages through every image, shares and answers across
projects, edits, deactivates, deletes, downloads the openrc and runs `openstack image list` with
it. Screenshots of each page land in <build>/dashboard-artifacts/<backend>/.

Runs on both backends (glimmer_factory puts the server on PostgreSQL and RBD with
GLIMMER_TEST_BACKEND=distributed)."""
import concurrent.futures
import os
import pathlib
import re
import shutil
import subprocess
import threading
import time
import uuid

import pytest
import requests

import glimmer_testlib as lib

pytestmark = pytest.mark.glimmer_only

DASHBOARD = lib.REPO / "dashboard"
CHROMIUM = "/usr/bin/chromium"
BULK = 2500
PASSWORD = "E2e-" + uuid.uuid4().hex[:10]
PROJECT, OTHER = "demo", "o'brien lab"
MiB = 1024 ** 2


@pytest.fixture(scope="module")
def source_port():
    """Checked first: without the browser or node nothing is started or seeded."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (scripts/install-deps.sh --test installs Debian's chromium)")
    if not shutil.which("node"):
        pytest.skip("node is missing (scripts/install-deps.sh installs it)")
    return lib.free_port()


@pytest.fixture(scope="module")
def srv(glimmer_factory, source_port):
    return glimmer_factory("dashboard-e2e", extra_env={
        # The usage page: two limited quotas (meters), the other two unlimited.
        "GLIMMER_QUOTA__IMAGE_SIZE_TOTAL": "8192",
        "GLIMMER_QUOTA__IMAGE_COUNT_TOTAL": "5000",
        # Web-download from the harness's HTTP server on loopback.
        "GLIMMER_IMPORT_FILTERING_OPTS__ALLOW_PRIVATE_ADDRESSES": "true",
        "GLIMMER_IMPORT_FILTERING_OPTS__ALLOWED_PORTS": str(source_port),
    })


def _token(srv, user, password, project):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "password": password, "domain": {"id": "default"}}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    r = requests.post(srv.base_url + "/identity/v3/auth/tokens", json=body, timeout=30)
    assert r.status_code == 201, r.text
    return r.headers["X-Subject-Token"]


def _qcow2(path, size):
    """A qcow2 whose file holds `size` bytes of allocated clusters (qemu-img, preallocated)."""
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o", "preallocation=full",
                    str(path), str(size)], check=True)
    return path.read_bytes()


def _upload(api, image_id, data):
    r = api.put(f"/v2/images/{image_id}/file", data=data,
                headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 204, r.text


@pytest.fixture(scope="module")
def seeded(srv, tmp_path_factory):
    t0 = time.monotonic()
    admin = lib.Api(srv.base_url, _token(srv, "admin", srv.admin_password, "admin"))
    ident = lib.Api(srv.base_url + "/identity/v3", admin.headers["X-Auth-Token"])
    roles = {r["name"]: r["id"] for r in ident.get("/roles").json()["roles"]}
    pids = {}
    for name in (PROJECT, OTHER):
        r = ident.post("/projects", json={"project": {"name": name, "domain_id": "default"}})
        assert r.status_code == 201, r.text
        pids[name] = r.json()["project"]["id"]
    for user, projects in (("alice", [PROJECT, OTHER]), ("bob", [OTHER])):
        r = ident.post("/users", json={"user": {"name": user, "password": PASSWORD,
                                                "domain_id": "default"}})
        assert r.status_code == 201, r.text
        uid = r.json()["user"]["id"]
        for p in projects:
            r = ident.put(f"/projects/{pids[p]}/users/{uid}/roles/{roles['member']}")
            assert r.status_code in (200, 204), r.text

    # 2,500 images in demo, created concurrently (one HTTP session per thread).
    token = _token(srv, "alice", PASSWORD, PROJECT)
    local = threading.local()

    def create(i):
        api = getattr(local, "api", None)
        if api is None:
            api = local.api = lib.Api(srv.base_url, token)
        fmt = ("raw", "qcow2", "iso", "vmdk")[i % 4]
        r = api.post("/v2/images", json={
            "name": f"bulk-{i:04d}", "disk_format": fmt, "container_format": "bare",
            "visibility": "private", "tags": [f"batch-{i // 500}"], "min_disk": i % 20})
        assert r.status_code == 201, r.text

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(BULK)))
    bulk_seconds = time.monotonic() - t0

    # Active images with data, the newest of the project (first on the panel): two qcow2 of
    # 100 MiB and more for the size filter, and small raw ones.
    alice = lib.Api(srv.base_url, token)
    work = tmp_path_factory.mktemp("e2e-seed")
    for name, size in (("fedora-40-cloud", 100 * MiB), ("rocky-9-genericcloud", 120 * MiB)):
        image = alice.create_image(name=name, disk_format="qcow2", container_format="bare",
                                   visibility="private", min_disk=1, os_distro=name.split("-")[0])
        _upload(alice, image["id"], _qcow2(work / f"{name}.qcow2", size))
    for name in ("cirros-0.6.2", "alpine-3.20-virt"):
        image = alice.create_image(name=name, disk_format="raw", container_format="bare",
                                   visibility="private", min_disk=1)
        _upload(alice, image["id"], b"\0" * (2 * MiB))

    # The provider catalog: public images with their OS fields (only the admin may publicize).
    for name, distro, version, login in (("ubuntu-24.04-server", "ubuntu", "24.04", "ubuntu"),
                                         ("debian-12-genericcloud", "debian", "12", "debian"),
                                         ("windows-server-2022", "windows", "2022", "Admin")):
        image = admin.create_image(name=name, disk_format="raw", container_format="bare",
                                   visibility="public", os_distro=distro, os_version=version,
                                   os_admin_user=login, min_disk=1)
        _upload(admin, image["id"], b"\0" * MiB)
    return {"bulk_seconds": bulk_seconds, "seed_seconds": time.monotonic() - t0}


def test_every_page_in_headless_chromium(srv, seeded, source_port):
    backend = "distributed" if lib.distributed() else "embedded"
    artifacts = pathlib.Path(lib.glimmer_bin()).resolve().parent / "dashboard-artifacts" / backend
    shutil.rmtree(artifacts, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "GLIMMER_", "E2E_"))}
    env.update(GLIMMER_URL=srv.base_url, E2E_ARTIFACTS=str(artifacts), E2E_USER="alice",
               E2E_PASSWORD=PASSWORD, E2E_PROJECT=PROJECT, E2E_OTHER_PROJECT=OTHER,
               E2E_ADMIN_USER="admin", E2E_ADMIN_PASSWORD=srv.admin_password,
               E2E_MIN_IMAGES=str(BULK), E2E_SOURCE_PORT=str(source_port))
    t0 = time.monotonic()
    p = subprocess.run(["node", "e2e/harness.mjs"], cwd=DASHBOARD, env=env, capture_output=True,
                       text=True, timeout=900)
    seconds = time.monotonic() - t0
    out = p.stdout + p.stderr
    report = (f"seeding {seeded['seed_seconds']:.1f} s ({BULK} images in "
              f"{seeded['bulk_seconds']:.1f} s), harness {seconds:.1f} s, exit {p.returncode}\n{out}")
    print(report)
    summary = re.search(r"^(\d+) passed, (\d+) failed, (\d+) skipped", out, re.M)
    assert summary, "the harness did not finish:\n" + report + "\n" + srv.log_tail()
    passed, failed, skipped = map(int, summary.groups())
    assert (failed, skipped) == (0, 0) and p.returncode == 0, report
    assert passed >= 35, report
    shots = sorted(f.name for f in artifacts.glob("*.png"))
    for page in ("sign-in", "images-panel", "images-public", "create-dialog", "image-detail",
                 "image-shared", "usage", "api-access", "images-all-admin"):
        assert f"{page}.png" in shots, f"no screenshot of {page}: {shots}"
