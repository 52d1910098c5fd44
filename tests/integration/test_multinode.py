"""Two Glimmer nodes sharing PostgreSQL and Ceph (RBD and S3 through the RADOS Gateway), as
several identical nodes behind a load balancer: any node serves any request, tokens of one
node are valid on the other, tasks are claimed by either node exactly once, and a node that
dies in the middle of an import loses the task to the survivor.

Runs in the distributed pass of the suite (GLIMMER_TEST_BACKEND=distributed, services from
scripts/services/services.sh)."""
import hashlib
import http.server
import os
import socket
import subprocess
import threading
import time
import uuid

import pytest

import glimmer_testlib as lib
from conftest import make_principal

pytestmark = [
    pytest.mark.glimmer_only,
    pytest.mark.skipif(not lib.distributed(),
                       reason="needs PostgreSQL and Ceph (GLIMMER_TEST_BACKEND=distributed)"),
]

MiB = 1 << 20
LEASE = 6  # seconds: a dead node's tasks move to the survivor after this
TOKEN_CACHE = 2  # seconds: a revocation on one node reaches the other within this


class SlowSource:
    """Loopback HTTP server: /fast/<name> at full speed, /slow/<name> at ~4 MiB/s."""

    def __init__(self):
        self.files = {}
        src = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                kind, _, name = self.path.strip("/").partition("/")
                body = src.files.get(name)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                step = MiB // 4
                try:
                    for i in range(0, len(body), step):
                        self.wfile.write(body[i:i + step])
                        if kind == "slow":
                            time.sleep(0.06)
                except OSError:
                    pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def add(self, data, speed="fast"):
        name = uuid.uuid4().hex
        self.files[name] = data
        return f"http://127.0.0.1:{self.port}/{speed}/{name}"

    def stop(self):
        self.httpd.shutdown()


def node_config(root, db_url, bucket, source_port, node_id):
    conf = root / f"{node_id}.conf"
    conf.write_text(f"""
[DEFAULT]
enabled_backends = ceph:rbd, objects:s3

[glance_store]
default_backend = ceph

[ceph]
rbd_store_pool = {os.environ.get("CEPH_RBD_POOL", "rbd")}
rbd_store_ceph_conf = {os.environ["CEPH_CONF"]}
rbd_store_chunk_size = 4

[objects]
s3_store_host = {os.environ["S3_ENDPOINT"]}
s3_store_access_key = {os.environ["AWS_ACCESS_KEY_ID"]}
s3_store_secret_key = {os.environ["AWS_SECRET_ACCESS_KEY"]}
s3_store_bucket = {bucket}
s3_store_create_bucket_on_put = true
s3_store_large_object_size = 8
s3_store_large_object_chunk_size = 5

[database]
connection = {db_url}

[import_filtering_opts]
allowed_ports = 80,443,{source_port}
allowed_cidrs = 127.0.0.1/32

[glimmer]
node_id = {node_id}
task_lease_seconds = {LEASE}
token_cache_seconds = {TOKEN_CACHE}
""")
    return conf


@pytest.fixture(scope="module")
def source():
    s = SlowSource()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def cluster(glimmer_factory, tmp_path_factory, source):
    root = tmp_path_factory.mktemp("multinode")
    db_url = lib.pg_database_for(root / "shared-metadata")
    bucket = "glimmer-mn-" + uuid.uuid4().hex[:10]
    nodes = {}
    for node_id in ("node-a", "node-b"):
        conf = node_config(root, db_url, bucket, source.port, node_id)
        # The same database for both: overrides the suite's per-data-dir database.
        nodes[node_id] = glimmer_factory(node_id, extra_args=["--config", str(conf)],
                                         extra_env={"GLIMMER_DATABASE__CONNECTION": db_url})
    nodes["db_url"] = db_url
    nodes["bucket"] = bucket
    return nodes


def node_bucket(cluster):
    return cluster["bucket"]


def sql(cluster, query):
    out = subprocess.run(["/usr/bin/psql", cluster["db_url"], "-qAtX", "-c", query],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    return [line.split("|") for line in out.splitlines() if line]


@pytest.fixture(scope="module")
def people(cluster):
    """On node A: an owner in one project and a member of another (real openstack CLI)."""
    env = cluster["node-a"].admin_env()
    sfx = uuid.uuid4().hex[:6]
    made = {}
    for key in ("owner", "other"):
        proj, user = f"mn-{key}-{sfx}", f"mn-{key}-u-{sfx}"
        lib.run_cli(env, "openstack", "project", "create", proj)
        lib.run_cli(env, "openstack", "user", "create", "--password", "Pw-mn-1", user)
        lib.run_cli(env, "openstack", "role", "add", "--project", proj, "--user", user, "member")
        penv = {k: v for k, v in env.items() if k != "OS_PROJECT_ID"}
        penv.update(OS_USERNAME=user, OS_PASSWORD="Pw-mn-1", OS_PROJECT_NAME=proj,
                    OS_USER_DOMAIN_NAME="Default", OS_PROJECT_DOMAIN_NAME="Default")
        made[key] = make_principal(penv)
    return made


def on(cluster, node, principal):
    """`principal`'s API client pointed at `node` (same token)."""
    return lib.Api(cluster[node].base_url, principal.token)


def wait_status(api, image_id, want, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        img = api.image(image_id)
        if img["status"] in want:
            return img
        time.sleep(0.2)
    raise AssertionError(f"image {image_id} still {img['status']} after {timeout}s: {img}")


def rbd_image_state(image_id):
    """{RBD image name: [(snapshot, protected)]} of the images named after image_id."""
    return {name: [list(s) for s in info["snaps"]]
            for name, info in lib.rbd_images([image_id]).items()}


# ============================================================================= tests
def test_token_of_one_node_is_valid_on_the_other(cluster, people):
    owner = people["owner"]
    for node in ("node-a", "node-b"):
        r = on(cluster, node, owner).get("/v2/images")
        assert r.status_code == 200, (node, r.status_code, r.text[:200])
    # Revoked on B: refused on A.
    env = people["owner"].env
    token, _ = lib.token_and_body(env)
    b = lib.Api(cluster["node-b"].base_url, token)
    assert lib.Api(cluster["node-a"].base_url, token).get("/v2/images").status_code == 200
    r = b.delete("/identity/v3/auth/tokens", headers={"X-Subject-Token": token})
    assert r.status_code == 204, r.text[:200]
    assert b.get("/v2/images").status_code == 401  # at once where it was revoked
    deadline = time.monotonic() + TOKEN_CACHE + 5
    while time.monotonic() < deadline:  # and on A once its cache entry is older than that
        code = lib.Api(cluster["node-a"].base_url, token).get("/v2/images").status_code
        if code == 401:
            break
        time.sleep(0.2)
    assert code == 401


def test_create_on_a_upload_on_b_download_on_a(cluster, people):
    owner = people["owner"]
    a, b = on(cluster, "node-a", owner), on(cluster, "node-b", owner)
    data = os.urandom(9 * MiB + 4321)
    img = a.create_image(name="mn-upload", disk_format="raw", container_format="bare")
    b.upload(img["id"], data)
    got = a.image(img["id"])
    assert got["status"] == "active" and got["size"] == len(data)
    assert got["checksum"] == hashlib.md5(data).hexdigest()
    assert got["stores"] == "ceph"
    r = a.get(f"/v2/images/{img['id']}/file")
    assert r.status_code == 200 and r.content == data
    # Stored as Glance lays it out: an RBD image with a protected snapshot named snap.
    state = rbd_image_state(img["id"])
    assert list(state.values()) == [[["snap", True]]], state


def test_share_on_b_accept_on_a(cluster, people):
    owner, other = people["owner"], people["other"]
    a_owner = on(cluster, "node-a", owner)
    img = a_owner.create_image(name="mn-shared", visibility="shared", disk_format="raw",
                               container_format="bare")
    r = on(cluster, "node-b", owner).post(f"/v2/images/{img['id']}/members",
                                          json={"member": other.project_id})
    assert r.status_code == 200 and r.json()["status"] == "pending", r.text[:300]
    r = on(cluster, "node-a", other).put(f"/v2/images/{img['id']}/members/{other.project_id}",
                                         json={"status": "accepted"})
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text[:300]
    listed = on(cluster, "node-b", other).get("/v2/images").json()["images"]
    assert img["id"] in [i["id"] for i in listed]


def test_web_download_runs_once_on_either_node(cluster, people, source):
    owner = people["owner"]
    ids = {}
    for entry in ("node-a", "node-b", "node-a", "node-b"):
        data = os.urandom(3 * MiB + 17)
        api = on(cluster, entry, owner)
        img = api.create_image(name="mn-web", disk_format="raw", container_format="bare")
        r = api.post(f"/v2/images/{img['id']}/import",
                     json={"method": {"name": "web-download", "uri": source.add(data)}})
        assert r.status_code == 202, r.text[:300]
        ids[img["id"]] = data
    for image_id, data in ids.items():
        got = wait_status(on(cluster, "node-b", owner), image_id, {"active", "queued"})
        assert got["status"] == "active", got
        assert got["checksum"] == hashlib.md5(data).hexdigest()
    rows = sql(cluster, "SELECT image_id, status, attempts FROM tasks WHERE image_id IN (" +
               ", ".join(f"'{i}'" for i in ids) + ")")
    assert sorted(r[0] for r in rows) == sorted(ids)  # one task per import
    assert all(r[1] == "success" and r[2] == "1" for r in rows), rows  # each run exactly once


def test_glance_direct_stage_on_a_import_on_b_runs_where_the_data_is(cluster, people):
    owner = people["owner"]
    a, b = on(cluster, "node-a", owner), on(cluster, "node-b", owner)
    data = os.urandom(2 * MiB + 5)
    img = a.create_image(name="mn-direct", disk_format="raw", container_format="bare")
    r = a.put(f"/v2/images/{img['id']}/stage", data=data,
              headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 204, r.text[:300]
    assert "os_glance_stage_host" not in a.image(img["id"])  # bookkeeping, not shown
    [[host]] = sql(cluster, "SELECT value FROM image_properties WHERE image_id = "
                            f"'{img['id']}' AND name = 'os_glance_stage_host'")
    assert host == "node-a"
    r = b.post(f"/v2/images/{img['id']}/import", json={"method": {"name": "glance-direct"}})
    assert r.status_code == 202, r.text[:300]
    got = wait_status(b, img["id"], {"active", "queued"})
    assert got["status"] == "active" and got["checksum"] == hashlib.md5(data).hexdigest()
    [[affinity]] = sql(cluster, f"SELECT affinity FROM tasks WHERE image_id = '{img['id']}'")
    assert affinity == "node-a"


def test_copy_image_from_rbd_to_s3_on_the_other_node(cluster, people):
    owner = people["owner"]
    admin = make_principal(cluster["node-a"].admin_env())
    data = os.urandom(11 * MiB + 3)  # multipart in S3 (8 MiB single-PUT limit, 5 MiB parts)
    img = on(cluster, "node-a", owner).create_image(name="mn-copy", disk_format="raw",
                                                    container_format="bare")
    on(cluster, "node-a", owner).upload(img["id"], data)
    r = lib.Api(cluster["node-b"].base_url, admin.token).post(
        f"/v2/images/{img['id']}/import",
        json={"method": {"name": "copy-image"}, "stores": ["objects"]})
    assert r.status_code == 202, r.text[:300]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        got = on(cluster, "node-b", owner).image(img["id"])
        if set(got.get("stores", "").split(",")) == {"ceph", "objects"}:
            break
        time.sleep(0.3)
    assert set(got["stores"].split(",")) == {"ceph", "objects"}, got
    r = on(cluster, "node-a", owner).get(f"/v2/images/{img['id']}/file?prefer=objects")
    assert r.status_code == 200 and r.content == data


def test_node_killed_during_import_loses_the_task_to_the_survivor(cluster, people, source):
    owner = people["owner"]
    data = os.urandom(24 * MiB)  # ~6 s at the slow source's speed
    api = on(cluster, "node-a", owner)
    img = api.create_image(name="mn-kill", disk_format="raw", container_format="bare")
    r = api.post(f"/v2/images/{img['id']}/import",
                 json={"method": {"name": "web-download", "uri": source.add(data, "slow")}})
    assert r.status_code == 202, r.text[:300]
    deadline = time.monotonic() + 30
    holder = None
    while time.monotonic() < deadline and not holder:
        rows = sql(cluster, f"SELECT claimed_by FROM tasks WHERE image_id = '{img['id']}' "
                            "AND status = 'processing'")
        holder = rows[0][0] if rows and rows[0][0] else None
        time.sleep(0.1)
    assert holder in ("node-a", "node-b"), rows
    time.sleep(1.0)  # the download is under way
    cluster[holder].kill()  # SIGKILL: no clean-up of any kind
    survivor = "node-b" if holder == "node-a" else "node-a"
    got = wait_status(on(cluster, survivor, owner), img["id"], {"active", "queued"},
                      timeout=LEASE + 90)
    assert got["status"] == "active", got
    assert got["checksum"] == hashlib.md5(data).hexdigest()
    [[status, attempts]] = sql(cluster, "SELECT status, attempts FROM tasks WHERE image_id = "
                                        f"'{img['id']}'")
    assert status == "success" and attempts == "2"
    # The dead node's partial RBD write is cleaned when it comes back; only the committed
    # copy (with its protected snapshot) remains.
    cluster[holder].start()
    state = rbd_image_state(img["id"])
    assert sorted(state.values()) == [[["snap", True]]], state
    r = on(cluster, holder, owner).get(f"/v2/images/{img['id']}/file")
    assert r.status_code == 200 and r.content == data


def test_rbd_clone_of_an_image_blocks_its_deletion(cluster, people):
    """What Nova/Cinder on Ceph do: a copy-on-write clone of the image's protected snapshot.
    While it exists the image cannot be deleted (409, as Glance's InUseByStore), and nothing
    is lost; once it is gone, the delete goes through and the RBD image with it."""
    import rados  # noqa: PLC0415
    import rbd  # noqa: PLC0415
    owner = people["owner"]
    api = on(cluster, "node-b", owner)
    data = os.urandom(6 * MiB + 99)
    img = api.create_image(name="mn-clone", disk_format="raw", container_format="bare")
    api.upload(img["id"], data)
    (name,) = lib.rbd_images([img["id"]])
    pool = os.environ.get("CEPH_RBD_POOL", "rbd")
    clone = f"clone-of-{img['id']}"
    with rados.Rados(conffile=os.environ["CEPH_CONF"]) as c, c.open_ioctx(pool) as io:
        rbd.RBD().clone(io, name, "snap", io, clone, features=rbd.RBD_FEATURE_LAYERING)
        with rbd.Image(io, clone, read_only=True) as im:
            assert im.read(0, len(data)) == data  # the clone reads the image's bytes
        try:
            r = on(cluster, "node-a", owner).delete(f"/v2/images/{img['id']}")
            assert r.status_code == 409, r.text[:300]
            assert "in use" in r.text
            assert api.image(img["id"])["status"] == "active"
            assert api.get(f"/v2/images/{img['id']}/file").content == data
        finally:
            rbd.RBD().remove(io, clone)
    assert on(cluster, "node-a", owner).delete(f"/v2/images/{img['id']}").status_code == 204
    assert lib.rbd_images([img["id"]]) == {}


def s3_client():
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415
    return boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"], region_name="default",
                        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
                        config=Config(s3={"addressing_style": "path"},
                                      signature_version="s3v4"))


def test_s3_multipart_upload_ranged_download_and_no_garbage_after_a_failed_upload(cluster,
                                                                                   people):
    owner = people["owner"]
    api = on(cluster, "node-a", owner)
    bucket = node_bucket(cluster)
    s3 = s3_client()
    data = os.urandom(23 * MiB + 7)  # 5 parts of 5 MiB
    img = api.create_image(name="mn-s3", disk_format="raw", container_format="bare")
    api.upload(img["id"], data, headers={"X-Image-Meta-Store": "objects"})
    got = api.image(img["id"])
    assert got["stores"] == "objects" and got["checksum"] == hashlib.md5(data).hexdigest()
    head = s3.head_object(Bucket=bucket, Key=img["id"])
    assert head["ContentLength"] == len(data) and head["ETag"].strip('"').endswith("-5")
    b = on(cluster, "node-b", owner)
    for lo, hi in ((0, 99), (5 * MiB - 3, 5 * MiB + 3), (len(data) - 10, len(data) - 1)):
        r = b.get(f"/v2/images/{img['id']}/file", headers={"Range": f"bytes={lo}-{hi}"})
        assert r.status_code == 206 and r.content == data[lo:hi + 1], (lo, hi, r.status_code)
    # A client that goes away after 12 MiB of a 23 MiB upload: the image is back to queued and
    # the bucket holds no incomplete multipart upload.
    img2 = api.create_image(name="mn-s3-cut", disk_format="raw", container_format="bare")
    port = cluster["node-a"].port
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall((f"PUT /v2/images/{img2['id']}/file HTTP/1.1\r\nHost: x\r\n"
                      f"X-Auth-Token: {owner.token}\r\nX-Image-Meta-Store: objects\r\n"
                      "Content-Type: application/octet-stream\r\n"
                      f"Content-Length: {len(data)}\r\n\r\n").encode())
        sock.sendall(data[:12 * MiB])
        time.sleep(1.0)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and api.image(img2["id"])["status"] != "queued":
        time.sleep(0.2)
    assert api.image(img2["id"])["status"] == "queued"
    uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert [u for u in uploads if u["Key"].startswith(img2["id"])] == []
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix=img2["id"])


def test_import_pinned_to_a_dead_staging_node_is_given_up_by_the_other(cluster, people):
    """glance-direct data staged on A, A killed, the import asked of B: the task can only run on
    A; once A has been silent for two leases, B gives it up and the image returns to queued."""
    owner = people["owner"]
    a, b = on(cluster, "node-a", owner), on(cluster, "node-b", owner)
    img = a.create_image(name="mn-orphan", disk_format="raw", container_format="bare")
    r = a.put(f"/v2/images/{img['id']}/stage", data=os.urandom(MiB + 1),
              headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 204, r.text[:300]
    cluster["node-a"].kill()
    try:
        r = b.post(f"/v2/images/{img['id']}/import", json={"method": {"name": "glance-direct"}})
        assert r.status_code == 202, r.text[:300]
        got = wait_status(b, img["id"], {"queued", "active"}, timeout=2 * LEASE + 30)
        assert got["status"] == "queued", got
        tasks = b.get(f"/v2/images/{img['id']}/tasks").json()["tasks"]
        assert [t["status"] for t in tasks] == ["failure"], tasks
        assert "node node-a" in tasks[0]["message"], tasks[0]["message"]
        assert "os_glance_import_task" not in got
    finally:
        cluster["node-a"].start()
