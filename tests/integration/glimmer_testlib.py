"""Helpers shared by the integration tests and bench/: server process control,
openrc parsing, Keystone-v3 password tokens, an authenticated requests session,
and a runner for the real `openstack` / `glance` CLIs.

Only the Python standard library and Debian's python3-requests are used, so that
bench/ can import this module with /usr/bin/python3 and nothing else.
"""
import hashlib
import json
import os
import pathlib
import re
import shlex
import signal
import socket
import subprocess
import time

import requests

REPO = pathlib.Path(__file__).resolve().parents[2]
CLI_TIMEOUT = 180


def glimmer_bin():
    return os.environ.get("GLIMMER_BIN", str(REPO / "build" / "glimmer"))


# ----------------------------------------------------------------------------- backends
# GLIMMER_TEST_BACKEND=distributed runs every server of the suite on PostgreSQL (a database of
# its own per data directory, so a restarted server finds its data) and the Ceph RBD store, from
# the services of scripts/services/services.sh (GLIMMER_TEST_PG_DSN, CEPH_CONF, CEPH_RBD_POOL).
# The default is the embedded one: SQLite and the filesystem store.
def distributed():
    return os.environ.get("GLIMMER_TEST_BACKEND", "embedded") == "distributed"


def pg_admin_dsn():
    return os.environ["GLIMMER_TEST_PG_DSN"]


def psql(sql, dsn=None):
    """Runs one SQL statement with Debian's psql against the test PostgreSQL."""
    subprocess.run(["/usr/bin/psql", dsn or pg_admin_dsn(), "-qAtX", "-v", "ON_ERROR_STOP=1",
                    "-c", sql], check=True, capture_output=True, timeout=60)


def pg_database_for(data_dir):
    """The PostgreSQL URL of the database that belongs to `data_dir` (created on first use)."""
    name = "it_" + hashlib.sha1(str(pathlib.Path(data_dir).resolve()).encode()).hexdigest()[:16]
    admin = pg_admin_dsn()
    exists = subprocess.run(["/usr/bin/psql", admin, "-qAtX", "-c",
                             f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
                            check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    if exists != "1":
        psql(f"CREATE DATABASE {name}")
    return admin.rsplit("/", 1)[0] + "/" + name


def rbd_images(prefixes):
    """{RBD image name: {"size", "snaps": [(name, protected)], "incomplete": node or None}} of
    the test pool's images whose name starts with one of `prefixes` (Glance image ids), read
    with Debian's python3-rados/python3-rbd."""
    import rados  # noqa: PLC0415 (only the distributed pass has Ceph)
    import rbd  # noqa: PLC0415
    prefixes = tuple(prefixes)
    out = {}
    with rados.Rados(conffile=os.environ["CEPH_CONF"]) as cluster:
        with cluster.open_ioctx(os.environ.get("CEPH_RBD_POOL", "rbd")) as io:
            for name in rbd.RBD().list(io):
                if not name.startswith(prefixes):
                    continue
                try:
                    with rbd.Image(io, name, read_only=True) as im:
                        meta = dict(im.metadata_list())
                        out[name] = {"size": im.size(),
                                     "snaps": [(s["name"], im.is_protected_snap(s["name"]))
                                               for s in im.list_snaps()],
                                     "incomplete": meta.get("glimmer.incomplete")}
                except rbd.ImageNotFound:
                    continue  # removed since the listing (a clean-up running meanwhile)
    return out


def backend_env(data_dir):
    """GLIMMER_* settings that put a server on the suite's backend (none for embedded)."""
    if not distributed():
        return {}
    return {
        "GLIMMER_DATABASE__CONNECTION": pg_database_for(data_dir),
        "GLIMMER_GLANCE_STORE__DEFAULT_STORE": "rbd",
        "GLIMMER_GLANCE_STORE__RBD_STORE_POOL": os.environ.get("CEPH_RBD_POOL", "rbd"),
        "GLIMMER_GLANCE_STORE__RBD_STORE_CEPH_CONF": os.environ["CEPH_CONF"],
    }


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_openrc(path):
    """Parses `export OS_X=value` lines (values may be shell-quoted)."""
    env = {}
    for line in pathlib.Path(path).read_text().splitlines():
        m = re.match(r"\s*(?:export\s+)?(OS_[A-Z0-9_]+)=(.*)$", line)
        if m:
            parts = shlex.split(m.group(2)) or [""]
            env[m.group(1)] = parts[0]
    return env


def cli_env(os_vars):
    """A clean process environment for the CLIs: no OS_* leaking from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.pop("OS_CLOUD", None)
    env["PATH"] = "/usr/bin:/bin:/usr/sbin:/sbin"
    env.setdefault("HOME", "/root")
    env["LANG"] = env["LC_ALL"] = "C.UTF-8"
    env.update(os_vars)
    return env


def run_cli(env, *args, ok=True, timeout=CLI_TIMEOUT):
    """Runs /usr/bin/<args[0]> with env. ok=True: asserts exit 0 and returns stdout.
    ok=False: asserts a non-zero exit and returns stdout + stderr."""
    argv = [args[0] if args[0].startswith("/") else "/usr/bin/" + args[0], *map(str, args[1:])]
    p = subprocess.run(argv, env=cli_env(env), capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    shown = " ".join(shlex.quote(a) for a in argv)
    if ok:
        assert p.returncode == 0, f"`{shown}` exited {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
        return p.stdout
    assert p.returncode != 0, f"`{shown}` unexpectedly succeeded\nstdout:\n{p.stdout}"
    return p.stdout + p.stderr


# ----------------------------------------------------------------------------- identity
def auth_body(env, password=None):
    user = {"name": env["OS_USERNAME"], "password": password or env["OS_PASSWORD"],
            "domain": {"name": env.get("OS_USER_DOMAIN_NAME", "Default")}}
    if env.get("OS_PROJECT_ID"):
        project = {"id": env["OS_PROJECT_ID"]}
    else:
        project = {"name": env["OS_PROJECT_NAME"],
                   "domain": {"name": env.get("OS_PROJECT_DOMAIN_NAME", "Default")}}
    return {"auth": {"identity": {"methods": ["password"], "password": {"user": user}},
                     "scope": {"project": project}}}


def issue_token(env, password=None, by_name=False):
    """POST /v3/auth/tokens; returns the raw response (caller checks the status)."""
    body = auth_body(env, password)
    if by_name:
        body["auth"]["scope"]["project"] = {
            "name": env["OS_PROJECT_NAME"],
            "domain": {"name": env.get("OS_PROJECT_DOMAIN_NAME", "Default")}}
    return requests.post(env["OS_AUTH_URL"].rstrip("/") + "/auth/tokens", json=body,
                         headers={"Accept": "application/json"}, timeout=60)


def token_and_body(env):
    r = issue_token(env)
    assert r.status_code == 201, f"token for {env.get('OS_USERNAME')}: {r.status_code} {r.text[:500]}"
    return r.headers["X-Subject-Token"], r.json()["token"]


def image_endpoint(token_body, env):
    """The public image endpoint from the catalog, unversioned, without trailing slash."""
    region = env.get("OS_REGION_NAME")
    iface = env.get("OS_INTERFACE", "public")
    for svc in token_body.get("catalog", []):
        if svc.get("type") != "image":
            continue
        for ep in svc.get("endpoints", []):
            if ep.get("interface") == iface and (not region or ep.get("region_id", ep.get("region")) == region):
                url = ep["url"].rstrip("/")
                return re.sub(r"/v2(\.\d+)?$", "", url)
    raise AssertionError(f"no image endpoint in catalog: {json.dumps(token_body.get('catalog'))[:800]}")


class Api(requests.Session):
    """requests.Session whose relative URLs ('/v2/...') resolve against the image endpoint
    and which sends X-Auth-Token (pass token=None for anonymous calls)."""

    def __init__(self, base_url, token=None):
        super().__init__()
        self.base_url = base_url.rstrip("/")
        if token:
            self.headers["X-Auth-Token"] = token

    def request(self, method, url, *args, **kwargs):
        if url.startswith("/"):
            url = self.base_url + url
        kwargs.setdefault("timeout", 300)
        return super().request(method, url, *args, **kwargs)

    # Convenience wrappers used all over the tests.
    def create_image(self, expect=201, **fields):
        r = self.post("/v2/images", json=fields)
        assert r.status_code == expect, f"create {fields}: {r.status_code} {r.text[:400]}"
        return r.json() if expect == 201 else r

    def image(self, image_id):
        r = self.get(f"/v2/images/{image_id}")
        assert r.status_code == 200, f"show {image_id}: {r.status_code} {r.text[:300]}"
        return r.json()

    def upload(self, image_id, data, expect=204, headers=None):
        h = {"Content-Type": "application/octet-stream"}
        h.update(headers or {})
        r = self.put(f"/v2/images/{image_id}/file", data=data, headers=h)
        assert r.status_code == expect, f"upload {image_id}: {r.status_code} {r.text[:300]}"
        return r

    def patch_image(self, image_id, ops, expect=200,
                    media="application/openstack-images-v2.1-json-patch"):
        r = self.patch(f"/v2/images/{image_id}", data=json.dumps(ops),
                       headers={"Content-Type": media})
        assert r.status_code == expect, f"patch {ops}: {r.status_code} {r.text[:300]}"
        return r.json() if expect == 200 else r

    def delete_image(self, image_id, expect=204):
        r = self.delete(f"/v2/images/{image_id}")
        assert r.status_code == expect, f"delete {image_id}: {r.status_code} {r.text[:300]}"
        return r


def md5_hex(data):
    return hashlib.md5(data).hexdigest()


def sha512_hex(data):
    return hashlib.sha512(data).hexdigest()


# ----------------------------------------------------------------------------- server
class GlimmerServer:
    """One `glimmer serve` process on a free loopback port."""

    def __init__(self, data_dir, log_path, port=None, extra_args=(), extra_env=None,
                 admin_password="GlimmerAdmin-1"):
        self.data_dir = pathlib.Path(data_dir)
        self.log_path = pathlib.Path(log_path)
        self.port = port or free_port()
        self.extra_args = list(extra_args)
        self.extra_env = dict(extra_env or {})
        self.admin_password = admin_password
        self.proc = None
        self.returncode = None

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self):
        return self.proc.pid

    def start(self, timeout=60):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "GLIMMER_"))}
        env["GLIMMER_ADMIN_PASSWORD"] = self.admin_password
        env.update(backend_env(self.data_dir))
        env.update(self.extra_env)
        argv = [glimmer_bin(), "serve", "--listen", f"127.0.0.1:{self.port}",
                "--data-dir", str(self.data_dir), *self.extra_args]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        log.write(f"\n==== {' '.join(argv)}  (pid follows)\n".encode())
        log.flush()
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                     stdin=subprocess.DEVNULL)
        log.close()
        self.returncode = None
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"glimmer exited with {self.proc.returncode} during start-up:\n"
                                     + self.log_tail())
            try:
                r = requests.get(self.base_url + "/", timeout=2)
                if r.status_code == 300:
                    return self
                last = r.status_code
            except requests.RequestException as e:
                last = e
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"glimmer did not answer GET / with 300 within {timeout}s "
                             f"(last: {last}):\n{self.log_tail()}")

    def stop(self, timeout=30):
        """SIGTERM, then SIGKILL after timeout. Returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.returncode = self.proc.wait()
        return self.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.returncode = self.proc.wait()
        return self.returncode

    def openrc(self):
        return parse_openrc(self.data_dir / "openrc-admin")

    def admin_env(self):
        """openrc-admin with OS_AUTH_URL pointed at this process (port may change on restart)."""
        env = self.openrc()
        env["OS_AUTH_URL"] = f"{self.base_url}/identity/v3"
        return env

    def peak_rss_kib(self):
        try:
            for line in open(f"/proc/{self.proc.pid}/status"):
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        except OSError:
            return None
        return None

    def log_tail(self, lines=80):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


# ----------------------------------------------------------------------------- raw HTTP
def raw_http(base_url, head, body_chunks=(), half_close=False, timeout=60):
    """Sends `head` (request line + headers, bytes) and then body chunks over a plain socket,
    stopping early if the server answers (or closes) before the body is complete; with
    half_close the write side is shut down afterwards. Returns (status, headers, body), or
    (None, {}, b"") when the server closed the connection without a response."""
    import http.client
    import select
    import urllib.parse
    u = urllib.parse.urlsplit(base_url)
    s = socket.create_connection((u.hostname, u.port or 80), timeout=timeout)
    try:
        s.sendall(head)
        for chunk in body_chunks:
            readable, _, _ = select.select([s], [], [], 0)
            if readable:
                break
            try:
                s.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        if half_close:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        resp = http.client.HTTPResponse(s)
        try:
            resp.begin()
        except (http.client.HTTPException, ConnectionResetError, socket.timeout):
            return None, {}, b""
        try:
            body = resp.read()
        except (http.client.HTTPException, ConnectionResetError, socket.timeout):
            body = b""
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        s.close()
