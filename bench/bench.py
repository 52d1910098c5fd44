#!/usr/bin/python3
"""Glimmer benchmark (not a test): the workload of ../shared/glance-reference/bench.sh, run
against a Glimmer started here and, optionally, side by side against any other Glance endpoint
(e.g. the real Glance from /work/shared/glance-reference), printing ratios.

Measures: upload of a SIZE MiB image (curl -T, MiB/s; for a Glimmer started here both with fsync
before activation and with GLIMMER_GLIMMER__FSYNC_UPLOADS=false), download (MiB/s), image
creation rate with 4 clients (wrk POST), GET /v2/images?limit=1000 and ?limit=20 latency with
1,000 and (optionally) 100,000 images, GET /v2/images/{id} requests/s (wrk -t2 -c4), the
server's peak RSS (VmHWM), and with --big the peak RSS during a 10 GiB streamed upload.

It builds nothing: it runs $GLIMMER_BIN (default build/glimmer). See bench/run.sh and
bench/README.md."""
import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "integration"))
import glimmer_testlib as lib  # noqa: E402

MiB = 1 << 20
WORK = pathlib.Path(os.environ.get("BENCH_WORK", "/tmp/glimmer-bench"))


def log(*a):
    print(*a, flush=True)


# ----------------------------------------------------------------------------- targets
class Target:
    """An endpoint under test: token, image URL and the pids whose memory we report."""

    def __init__(self, label, env, pids_fn, restart_fn=None):
        self.label = label
        self.env = env
        self.pids_fn = pids_fn
        self.restart_fn = restart_fn
        self.results = {}
        self.login()

    def login(self):
        tok, body = lib.token_and_body(self.env)
        self.token = tok
        self.url = lib.image_endpoint(body, self.env)
        self.api = lib.Api(self.url, tok)

    def peak_rss_mib(self):
        total = 0
        for pid in self.pids_fn():
            try:
                for line in open(f"/proc/{pid}/status"):
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024

    def rss_mib(self):
        total = 0
        for pid in self.pids_fn():
            try:
                for line in open(f"/proc/{pid}/status"):
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024


def children(pid):
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        return [int(x) for x in out.split()]
    except OSError:
        return []


def glimmer_target(args, tmp):
    data = tmp / "data"
    srv = lib.GlimmerServer(data, tmp / "server.log")
    srv.start()
    admin_env = srv.admin_env()
    # A member of its own project, as bench.sh uses `demo` on the reference (3 CLI calls).
    pw = "BenchPw-1"
    lib.run_cli(admin_env, "openstack", "project", "create", "bench")
    lib.run_cli(admin_env, "openstack", "user", "create", "--password", pw, "bench")
    lib.run_cli(admin_env, "openstack", "role", "add", "--project", "bench", "--user", "bench",
                "member")
    env = {k: v for k, v in admin_env.items() if k != "OS_PROJECT_ID"}
    env.update(OS_USERNAME="bench", OS_PASSWORD=pw, OS_PROJECT_NAME="bench")

    def restart(extra_env):
        srv.stop()
        srv.extra_env = dict(extra_env)
        srv.start()
        env["OS_AUTH_URL"] = srv.admin_env()["OS_AUTH_URL"]

    t = Target("glimmer", env, lambda: [srv.pid], restart)
    t.server = srv
    return t


def external_target(label, openrc, pids):
    env = lib.parse_openrc(openrc)

    def pids_fn():
        if pids:
            return [int(p) for p in pids.split()]
        pf = pathlib.Path("/tmp/glance-reference/run/glance-api.pid")
        if pf.exists():
            p = int(pf.read_text().split()[0])
            return [p] + children(p)
        return []
    return Target(label, env, pids_fn)


# ----------------------------------------------------------------------------- helpers
def curl(args):
    p = subprocess.run(["curl", "-s", *args], capture_output=True, text=True)
    return p.stdout


def create_image(t, name):
    r = t.api.post("/v2/images", json={"name": name, "disk_format": "raw",
                                       "container_format": "bare"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def random_file(size_mb):
    WORK.mkdir(parents=True, exist_ok=True)
    f = WORK / f"random-{size_mb}m.bin"
    if not f.exists() or f.stat().st_size != size_mb * MiB:
        log(f"  writing {f} ...")
        with open(f, "wb") as out:
            for _ in range(size_mb):
                out.write(os.urandom(MiB))
    return f


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def wrk(url, token, seconds, lua=None, conns=4, threads=2):
    argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency",
            "-H", f"X-Auth-Token: {token}"]
    if lua:
        argv += ["-s", str(lua)]
    out = subprocess.run(argv + [url], capture_output=True, text=True).stdout
    res = {"raw": out}
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            res["rps"] = float(parts[1])
        elif parts[:1] == ["50%"]:
            res["p50"] = parts[1]
        elif parts[:1] == ["99%"]:
            res["p99"] = parts[1]
        elif "Non-2xx" in line:
            res["non2xx"] = int(parts[-1])
        elif "requests in" in line:
            res["requests"] = int(parts[0])
        elif line.strip().startswith("Socket errors:"):
            # Socket errors: connect 0, read 0, write 0, timeout 12
            nums = [int(p.strip(",")) for p in parts if p.strip(",").isdigit()]
            res["socket_errors"] = sum(nums)
            res["timeouts"] = nums[-1] if nums else 0
    return res


def ensure_wrk():
    if shutil.which("wrk"):
        return True
    log("wrk missing: installing the Debian package")
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"],
                   env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    return bool(shutil.which("wrk"))


CREATE_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil,
    '{"name":"bench-rec-' .. counter .. '","disk_format":"raw","container_format":"bare"}')
end
"""


def lua_file():
    WORK.mkdir(parents=True, exist_ok=True)
    f = WORK / "create.lua"
    f.write_text(CREATE_LUA)
    return f


def count_images(t):
    n, url = 0, "/v2/images?limit=1000"
    while url:
        body = t.api.get(url).json()
        n += len(body["images"])
        url = body.get("next")
    return n


# ----------------------------------------------------------------------------- phases
def phase_upload_download(t, args, label_suffix=""):
    f = random_file(args.size_mb)
    speeds, ids = [], []
    for i in range(args.repeat):
        iid = create_image(t, f"bench-upload-{i}")
        ids.append(iid)
        out = curl(["-o", "/dev/null", "-w", "%{http_code} %{time_total} %{speed_upload}",
                    "-H", f"X-Auth-Token: {t.token}", "-H", "Content-Type: application/octet-stream",
                    "-T", str(f), f"{t.url}/v2/images/{iid}/file"])
        code, secs, speed = out.split()
        assert code == "204", out
        speeds.append(float(speed) / MiB)
        log(f"  upload{label_suffix} {i + 1}: {float(secs):.2f} s {speeds[-1]:.1f} MiB/s")
    img = t.api.image(ids[0])
    assert img["status"] == "active" and img["size"] == args.size_mb * MiB
    t.results[f"upload{label_suffix}_mib_s"] = median(speeds)
    dl = []
    for iid in ids:
        out = curl(["-o", "/dev/null", "-w", "%{http_code} %{speed_download} %{size_download}",
                    "-H", f"X-Auth-Token: {t.token}", f"{t.url}/v2/images/{iid}/file"])
        code, speed, size = out.split()
        assert code == "200" and int(size) == args.size_mb * MiB, out
        dl.append(float(speed) / MiB)
        log(f"  download{label_suffix}: {dl[-1]:.1f} MiB/s")
    t.results[f"download{label_suffix}_mib_s"] = median(dl)
    for iid in ids:
        t.api.delete(f"/v2/images/{iid}")


def phase_create_rate(t, args):
    res = wrk(f"{t.url}/v2/images", t.token, args.create_seconds, lua=lua_file(), conns=4)
    t.results["create_per_s"] = res.get("rps", float("nan"))
    log(f"  creates (wrk -c4, {args.create_seconds}s): {t.results['create_per_s']:.0f}/s "
        f"non-2xx {res.get('non2xx', 0)}")


def _seed_worker(url, token, count, prefix):
    """One keep-alive connection POSTing `count` image records."""
    import http.client
    import urllib.parse
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    headers = {"X-Auth-Token": token, "Content-Type": "application/json"}
    bad = 0
    for i in range(count):
        body = json.dumps({"name": f"bench-rec-{prefix}-{i}", "disk_format": "raw",
                           "container_format": "bare"})
        conn.request("POST", u.path.rstrip("/") + "/v2/images", body=body, headers=headers)
        r = conn.getresponse()
        r.read()
        bad += r.status != 201
    return bad


def seed_to(t, n, procs=6):
    """Creates records until the caller sees >= n images: `procs` processes, one keep-alive
    connection each (far faster than curl per request; wrk cannot stop at a count)."""
    import multiprocessing
    have = count_images(t)
    missing = n - have
    if missing <= 0:
        return have
    log(f"  seeding {missing} images ({have} present) with {procs} keep-alive clients ...")
    t0 = time.monotonic()
    share = [missing // procs + (1 if i < missing % procs else 0) for i in range(procs)]
    with multiprocessing.get_context("fork").Pool(procs) as pool:
        bad = sum(pool.starmap(_seed_worker, [(t.url, t.token, c, f"{os.getpid()}-{i}")
                                              for i, c in enumerate(share)]))
    secs = time.monotonic() - t0
    have = count_images(t)
    log(f"  seeded to {have} in {secs:.1f} s ({missing / secs:.0f}/s, {bad} failures)")
    return have


def phase_list(t, args, n):
    have = seed_to(t, n)
    for lim in (1000, 20):
        times = []
        for _ in range(10):
            out = curl(["-o", "/dev/null", "-w", "%{http_code} %{time_total}",
                        "-H", f"X-Auth-Token: {t.token}", f"{t.url}/v2/images?limit={lim}"])
            code, secs = out.split()
            assert code == "200", out
            times.append(float(secs) * 1000)
        key = f"list{lim}_at_{n // 1000}k_ms"
        t.results[key] = median(times)
        log(f"  GET /v2/images?limit={lim} with {have} images: median {median(times):.2f} ms "
            f"(min {min(times):.2f}, max {max(times):.2f})")


def phase_get(t, args):
    iid = t.api.get("/v2/images", params={"limit": 1}).json()["images"][0]["id"]
    res = wrk(f"{t.url}/v2/images/{iid}", t.token, args.wrk_seconds)
    t.results["get_rps"] = res.get("rps", float("nan"))
    log(f"  GET /v2/images/{{id}} wrk -t2 -c4: {t.results['get_rps']:.0f} req/s "
        f"p50 {res.get('p50')} p99 {res.get('p99')} non-2xx {res.get('non2xx', 0)}")


def phase_big_upload(t, args):
    """10 GiB from a sparse file (curl -T, Content-Length; --big-chunked: from a pipe, chunked);
    samples the server's RSS every 100 ms."""
    size = args.big_gib << 30
    iid = create_image(t, "bench-big")
    peak = [0.0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], t.rss_mib())
            time.sleep(0.1)
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t0 = time.monotonic()
    curl_argv = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                 f"X-Auth-Token: {t.token}", "-H", "Content-Type: application/octet-stream"]
    if args.big_chunked:
        head = subprocess.Popen(["head", "-c", str(size), "/dev/zero"], stdout=subprocess.PIPE)
        p = subprocess.run(curl_argv + ["-T", "-", f"{t.url}/v2/images/{iid}/file"],
                           stdin=head.stdout, capture_output=True, text=True)
        head.wait()
    else:
        sparse = WORK / f"sparse-{args.big_gib}g.bin"
        WORK.mkdir(parents=True, exist_ok=True)
        with open(sparse, "wb") as f:
            f.truncate(size)
        p = subprocess.run(curl_argv + ["-T", str(sparse), f"{t.url}/v2/images/{iid}/file"],
                           capture_output=True, text=True)
    done.set()
    th.join()
    secs = time.monotonic() - t0
    log(f"  {args.big_gib} GiB {'chunked' if args.big_chunked else 'Content-Length'} upload: http {p.stdout} in {secs:.1f} s "
        f"({size / MiB / secs:.0f} MiB/s); peak RSS sampled {peak[0]:.1f} MiB")
    t.results["big_upload_peak_rss_mib"] = peak[0]
    t.api.delete(f"/v2/images/{iid}")


def run(t, args):
    log(f"\n## {t.label}: {t.url}")
    log(f"load average: {open('/proc/loadavg').read().split()[:3]}")
    if t.restart_fn and not args.no_fsync_off:
        phase_upload_download(t, args, "_fsync")
        t.restart_fn({"GLIMMER_GLIMMER__FSYNC_UPLOADS": "false"})
        t.login()
        phase_upload_download(t, args, "_nofsync")
    else:
        phase_upload_download(t, args)
    if args.big:
        phase_big_upload(t, args)
    phase_list(t, args, args.records)
    phase_get(t, args)
    phase_create_rate(t, args)
    if args.records_large and (t.restart_fn or args.compare_large):
        phase_list(t, args, args.records_large)
    t.results["peak_rss_mib"] = t.peak_rss_mib()
    log(f"  peak RSS (VmHWM, sum over {len(t.pids_fn())} process(es)): "
        f"{t.results['peak_rss_mib']:.1f} MiB")
    if not t.restart_fn:
        cleanup(t)


def cleanup(t):
    """Deletes the bench-* images this run created on an external target (like bench.sh)."""
    ids, url = [], "/v2/images?limit=1000"
    while url:
        body = t.api.get(url).json()
        ids += [i["id"] for i in body["images"] if (i.get("name") or "").startswith("bench-")]
        url = body.get("next")
    log(f"  deleting {len(ids)} bench images ...")

    def worker(chunk):
        api = lib.Api(t.url, t.token)
        for iid in chunk:
            api.delete(f"/v2/images/{iid}")
    ths = [threading.Thread(target=worker, args=(ids[i::4],)) for i in range(4)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()


def table(targets):
    keys = []
    for t in targets:
        for k in t.results:
            if k not in keys:
                keys.append(k)
    higher_better = ("mib_s", "per_s", "rps")
    hdr = f"{'metric':32}" + "".join(f"{t.label:>14}" for t in targets)
    if len(targets) == 2:
        hdr += f"{'ratio':>10}"
    log("\n" + hdr)
    log("-" * len(hdr))
    for k in keys:
        vals = [t.results.get(k) for t in targets]
        row = f"{k:32}" + "".join(f"{v:14.2f}" if v is not None else f"{'-':>14}" for v in vals)
        if len(targets) == 2:
            a, b = vals
            base_key = k.replace("_fsync", "").replace("_nofsync", "")
            if b is None:
                b = targets[1].results.get(base_key)
            if a is not None and b:
                ratio = a / b if k.endswith(higher_better) else b / a if a else float("inf")
                row += f"{ratio:9.1f}x"
        log(row)
    if len(targets) == 2:
        log("(ratio: how many times better the first target is; latency and RSS inverted)")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--openrc", help="benchmark this endpoint instead of starting Glimmer")
    ap.add_argument("--pids", help="server pids for RSS (with --openrc)")
    ap.add_argument("--label", default=None)
    ap.add_argument("--compare-openrc", help="second target, e.g. /tmp/glance-reference/openrc-demo")
    ap.add_argument("--compare-pids", help="its pids (default: reference glance-api + children)")
    ap.add_argument("--compare-large", action="store_true",
                    help="also seed the second target to --records-large (slow on real Glance)")
    ap.add_argument("--size-mb", type=int, default=int(os.environ.get("SIZE_MB", 1024)))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument("--records-large", type=int, default=100_000,
                    help="0 to skip the 100k listing")
    ap.add_argument("--create-seconds", type=int, default=10)
    ap.add_argument("--wrk-seconds", type=int, default=10)
    ap.add_argument("--no-fsync-off", action="store_true", help="skip the fsync=false run")
    ap.add_argument("--big", action="store_true", help="also stream a 10 GiB upload")
    ap.add_argument("--big-gib", type=int, default=10)
    ap.add_argument("--big-chunked", action="store_true",
                    help="stream the big upload chunked from a pipe instead of a sparse file")
    ap.add_argument("--json", help="write results here")
    args = ap.parse_args()
    if not ensure_wrk():
        sys.exit("wrk is required")
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="glimmer-bench-"))
    targets = []
    try:
        if args.openrc:
            targets.append(external_target(args.label or "target", args.openrc, args.pids))
        else:
            targets.append(glimmer_target(args, tmp))
        log(f"# bench {time.strftime('%FT%TZ', time.gmtime())}  {os.cpu_count()} cores")
        run(targets[0], args)
        if args.compare_openrc:
            ref = external_target("glance", args.compare_openrc, args.compare_pids)
            targets.append(ref)
            args.big = args.big and args.compare_large
            run(ref, args)
        table(targets)
        if args.json:
            pathlib.Path(args.json).write_text(json.dumps(
                {t.label: t.results for t in targets}, indent=2))
    finally:
        for t in targets:
            if getattr(t, "server", None):
                t.server.stop()
                if os.environ.get("BENCH_KEEP") != "1":
                    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
