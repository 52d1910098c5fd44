"""Crowds against the real server (Glimmer only; bounded in count and time, loopback only).

While 1,000 idle keep-alive connections, 200 clients trickling request bodies (half on the
unauthenticated identity endpoint, half as uploads), 100 slow readers of a 256 MiB image and
chunk-extension bombs all hit one server at once, a well-behaved client's GET /v2/images/{id}
keeps a p99 under 50 ms with no error, the server's memory stays bounded, and afterwards the same
server serves normally and every trickled upload is back to `queued`. Connection attempts beyond
the cap are refused without the server spinning; kill -9 during 100 concurrent uploads leaves no
active image whose bytes differ from what was sent, and nothing behind after the restart."""
import hashlib
import http.client
import json
import os
import pathlib
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest

import glimmer_testlib as lib
import test_crash_safety as crash
from conftest import make_principal

pytestmark = [pytest.mark.glimmer_only, pytest.mark.slow, pytest.mark.exclusive]

MiB = 1 << 20
HERE = pathlib.Path(__file__).parent


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid, key="VmRSS"):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def start_clients(port, seconds, **cfg):
    cfg.update(port=port, seconds=seconds)
    proc = subprocess.Popen([sys.executable, str(HERE / "load_clients.py"), json.dumps(cfg)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "started"
    return proc


def finish_clients(proc):
    out, _ = proc.communicate(timeout=120)
    return json.loads(out.strip().splitlines()[-1])


class Probe(threading.Thread):
    """GET /v2/images/{id} every 10 ms on one keep-alive connection; latencies in ms."""

    def __init__(self, base_url, token, image_id, stop):
        super().__init__(daemon=True)
        u = urllib.parse.urlsplit(base_url)
        self.host, self.port, self.prefix = u.hostname, u.port, u.path.rstrip("/")
        self.token, self.image_id, self.stop = token, image_id, stop
        self.latencies, self.errors = [], []
        self.health = []  # /healthcheck latencies in ms, on a connection of its own

    def run(self):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        health = http.client.HTTPConnection(self.host, self.port, timeout=10)
        while not self.stop.is_set():
            t0 = time.perf_counter()
            try:
                health.request("GET", "/healthcheck")
                r = health.getresponse()
                if r.status != 200 or r.read() != b"OK":
                    self.errors.append(f"healthcheck {r.status}")
            except Exception as e:  # noqa: BLE001
                self.errors.append(repr(e))
                health = http.client.HTTPConnection(self.host, self.port, timeout=10)
            self.health.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            try:
                conn.request("GET", f"{self.prefix}/v2/images/{self.image_id}",
                             headers={"X-Auth-Token": self.token})
                r = conn.getresponse()
                body = r.read()
                if r.status != 200 or json.loads(body)["id"] != self.image_id:
                    self.errors.append(r.status)
            except Exception as e:  # noqa: BLE001 (any failure counts)
                self.errors.append(repr(e))
                conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
            self.latencies.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.01)


def p99(values):
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * 0.99))]


def test_crowd_does_not_stall_a_well_behaved_client(glimmer_factory):
    srv = glimmer_factory("load")
    admin = make_principal(srv.admin_env())
    api = admin.api
    big = api.create_image(name="load-big", disk_format="raw", container_format="bare")["id"]
    api.upload(big, iter(crash.Stream(256 * MiB, seed=b"glimmer-load")))
    probe_id = api.create_image(name="load-probe", disk_format="raw",
                                container_format="bare")["id"]
    trickled = [api.create_image(name=f"load-trickle-{i}", disk_format="raw",
                                 container_format="bare")["id"] for i in range(100)]

    # Baseline latency with nothing else going on.
    stop = threading.Event()
    base = Probe(admin.base_url, admin.token, probe_id, stop)
    base.start()
    time.sleep(2)
    stop.set()
    base.join()
    cpu0 = cpu_seconds(srv.pid)

    seconds = 25
    clients = start_clients(srv.port, seconds, idle=1000, trickle_identity=100,
                            trickle_uploads=[[i, admin.token] for i in trickled],
                            slow_downloads=[big, admin.token, 100], chunk_bombs=4)
    time.sleep(3)  # everyone connected
    stop = threading.Event()
    probe = Probe(admin.base_url, admin.token, probe_id, stop)
    probe.start()
    peak = 0
    open_fds = 0
    deadline = time.monotonic() + seconds - 6
    while time.monotonic() < deadline:
        peak = max(peak, rss_kib(srv.pid))
        open_fds = max(open_fds, len(os.listdir(f"/proc/{srv.pid}/fd")))
        time.sleep(0.25)
    stop.set()
    probe.join()
    stats = finish_clients(clients)
    cpu = cpu_seconds(srv.pid) - cpu0
    print(f"\nbaseline p99 {p99(base.latencies):.1f} ms; under load: {len(probe.latencies)} "
          f"requests, p50 {sorted(probe.latencies)[len(probe.latencies) // 2]:.1f} ms, "
          f"p99 {p99(probe.latencies):.1f} ms, max {max(probe.latencies):.1f} ms; peak RSS "
          f"{peak // 1024} MiB; {open_fds} fds; server CPU {cpu:.1f} s; clients {stats}")

    print(f"healthcheck under load: p99 {p99(probe.health):.1f} ms, max {max(probe.health):.1f} ms")
    assert not probe.errors, probe.errors[:5]
    # Stalling, not speed (crowd_bench measures that): a worker held by a slow client would keep
    # requests queued behind it for a trickle's pace (0.5 s) or for the crowd's 25 s. Typical
    # requests stay fast; the bounds leave room for a CPU shared with PostgreSQL, Ceph, this
    # crowd's client process and the other test pass (the tests run two passes side by side on
    # two cores): measured alone p99 2-20 ms, health max < 100 ms; side by side p99 up to ~105 ms.
    latencies = sorted(probe.latencies)
    assert latencies[len(latencies) // 2] < 50, latencies[-20:]
    assert p99(latencies) < 400, latencies[-20:]
    # /healthcheck is answered on the network thread, without waiting for a worker.
    health = sorted(probe.health)
    assert health[int(len(health) * 0.99) - 1] < 100, health[-10:]
    assert health[-1] < 1000, health[-10:]
    assert stats["idle_open"] == 1000 and stats["idle_failed"] == 0, stats
    assert open_fds > 1200  # the crowd really was connected at once
    assert stats["download_open"] == 100 and stats["download_bytes"] > 100 * MiB, stats
    # A bomb is answered 400 and cut (a client still writing may see the reset first); it is
    # never served, and the peak RSS below shows nothing was buffered for it.
    assert stats["bombs"] > 0 and stats["bomb_answers"].get("400", 0) > 0, stats
    assert set(stats["bomb_answers"]) <= {"400", "reset"}, stats
    # Same bound on both backends: ~60 MiB measured on the embedded one, 184-188 MiB on RBD
    # (librados' own ~95 MiB included; the slow readers are served by direct reads and share one
    # open RBD image: 3.2 GiB when each kept its own 4-object read-ahead window).
    assert peak < 256 * 1024, f"peak RSS {peak // 1024} MiB"

    # Afterwards: the same server serves normally, and the trickled uploads rolled back.
    data = os.urandom(3 * MiB)
    fresh = api.create_image(name="load-after", disk_format="raw", container_format="bare")["id"]
    api.upload(fresh, data)
    assert api.get(f"/v2/images/{fresh}/file").content == data
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        statuses = {api.image(i)["status"] for i in trickled}
        if statuses == {"queued"}:
            break
        time.sleep(0.5)
    assert statuses == {"queued"}, statuses
    assert api.image(big)["checksum"] == crash.Stream(256 * MiB, seed=b"glimmer-load").md5()


def test_connections_beyond_the_cap_are_refused_without_spinning(glimmer_factory):
    cap = 64
    # The held connections never send a header: keep them past the header timeout however long
    # the 20,000 attempts take on a loaded machine (else the cap frees up mid-test).
    srv = glimmer_factory("cap", extra_env={"GLIMMER_GLIMMER__MAX_CONNECTIONS": str(cap),
                                            "GLIMMER_GLIMMER__HEADER_TIMEOUT_SECONDS": "3600"})
    limits = open(f"/proc/{srv.pid}/limits").read()
    soft = int(next(l for l in limits.splitlines() if l.startswith("Max open files")).split()[3])
    assert soft >= cap + 1024, limits  # raised for the cap (the default soft limit is 1024)
    held = []
    for _ in range(cap):
        s = socket.create_connection(("127.0.0.1", srv.port))
        held.append(s)
    time.sleep(0.3)
    cpu0 = cpu_seconds(srv.pid)
    refused = answered_503 = 0
    t0 = time.monotonic()
    unanswered = 0
    for _ in range(20000):
        try:
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        except OSError:
            refused += 1
            continue
        try:
            s.settimeout(5)
            head = s.recv(64)
            if head.startswith(b"HTTP/1.1 503"):
                answered_503 += 1
            refused += 1
        except socket.timeout:
            unanswered += 1  # accepted but neither answered nor closed: the cap is not holding
            assert unanswered < 5, (refused, answered_503, unanswered)
        except OSError:
            refused += 1
        finally:
            s.close()
    elapsed = time.monotonic() - t0
    assert refused == 20000 and answered_503 > 19000, (refused, answered_503)
    # Nothing keeps running once the attempts stop: no spinning on a full backlog.
    cpu1 = cpu_seconds(srv.pid)
    time.sleep(2)
    idle_cpu = cpu_seconds(srv.pid) - cpu1
    print(f"\n20000 refused in {elapsed:.1f} s, server CPU {cpu1 - cpu0:.2f} s meanwhile, "
          f"{idle_cpu:.2f} s in the 2 s after")
    assert idle_cpu < 0.2
    assert srv.proc.poll() is None
    for s in held:
        s.close()
    time.sleep(0.3)
    r = lib.Api(srv.base_url).get("/versions")
    assert r.status_code == 200


def test_sigkill_during_100_concurrent_uploads(glimmer_factory):
    srv = glimmer_factory("crash-100")
    admin = make_principal(srv.admin_env())
    api = admin.api
    uploads = []
    for n in range(100):
        iid = crash.new_raw_image(api, f"c100-{n}")
        size = (1 + n % 7) * MiB + n  # 1-7 MiB, all different
        kind = crash.LengthStream if n % 2 else crash.Stream
        uploads.append(crash.Uploader(admin, iid, kind(size, seed=b"c100-%d" % n), hint=n % 3 == 0))
    for u in uploads:
        u.start()
    # Kill while some uploads are done and others are under way.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done = sum(1 for u in uploads if u.stream.sent == u.stream.total)
        if done >= 20:
            break
        time.sleep(0.005)
    srv.kill()
    for u in uploads:
        u.join(30)
    admin = crash.restart(srv)
    images = {i["id"]: i for i in crash.all_images(admin)}
    active = 0
    for u in uploads:
        img = images[u.image_id]
        if img["status"] == "active":
            active += 1
            assert img["checksum"] == u.stream.md5() and img["size"] == u.stream.total, img
            got = hashlib.md5(admin.api.get(f"/v2/images/{u.image_id}/file").content).hexdigest()
            assert got == u.stream.md5()
        else:
            assert img["status"] == "queued" and img["checksum"] is None, img
    print(f"\n{active} of 100 uploads active after kill -9, the others queued")
    # The restart removes interrupted writes; on RBD that runs while the server already answers.
    deadline = time.monotonic() + 60
    while True:
        try:
            crash.assert_data_dir_clean(srv.data_dir, list(images.values()))
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
