#!/usr/bin/python3
"""Crowd benchmark (not a test: it prints figures and never fails on them).

Side by side in one run, on the same machine and data disk:
  - this Glimmer ($GLIMMER_BIN, default build/glimmer),
  - a reference Glimmer binary (--ref-bin, e.g. the previous release built elsewhere), and
  - the ceiling receiver (build/ceiling_receiver: read, md5+sha512 on two threads, write).
For each server: upload of a --size-mb random file (curl -T, median of --repeat), GET
/v2/images/{id} with wrk at 4 and 64 connections, the peak RSS (VmHWM) over all of that, then
the RSS with 1,000 idle keep-alive connections open (each made one request), the GET rate
with wrk -c64 while they stay open, and the GET rate with wrk -c4 while 200 clients trickle
request bodies (100 token requests, 100 uploads: one byte each, then nothing).

  bench/crowd_bench.py [--ref-bin /tmp/glimmer-old/build/glimmer] [--size-mb 1024] [--repeat 3]
"""
import argparse
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "integration"))
sys.path.insert(0, str(HERE))
import glimmer_testlib as lib  # noqa: E402
from bench import MiB, curl, median, random_file, wrk, ensure_wrk, log  # noqa: E402


def status_kib(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def upload(url, token, f, repeat, api=None):
    speeds = []
    for i in range(repeat):
        target = url
        if api is not None:
            iid = api.create_image(name=f"crowd-{i}", disk_format="raw",
                                   container_format="bare")["id"]
            target = f"{url}/v2/images/{iid}/file"
        out = curl(["-o", "/dev/null", "-w", "%{http_code} %{speed_upload}", "-H",
                    f"X-Auth-Token: {token}", "-H", "Content-Type: application/octet-stream",
                    "-T", str(f), target])
        code, speed = out.split()
        assert code in ("204", "200"), out
        speeds.append(float(speed) / MiB)
    return median(speeds), speeds


def idle_connections(port, n):
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /versions HTTP/1.1\r\nHost: x\r\n\r\n")
        socks.append(s)
    for s in socks:  # read each response (the connection then idles, kept alive)
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(65536)
        head, _, rest = data.partition(b"\r\n\r\n")
        length = int([l.split(b":")[1] for l in head.split(b"\r\n")
                      if l.lower().startswith(b"content-length")][0])
        while len(rest) < length:
            rest += s.recv(65536)
    return socks


def tricklers(port, token, iid, n):
    """n clients that send a request's headers and one byte of its body, then wait: half the
    unauthenticated token request of issue 11's reproduction, half image uploads."""
    socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        if i % 2 == 0:
            s.sendall(b"POST /identity/v3/auth/tokens HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        else:
            s.sendall(f"PUT /v2/images/{iid}/file HTTP/1.1\r\nHost: x\r\n"
                      f"X-Auth-Token: {token}\r\nContent-Type: application/octet-stream\r\n"
                      f"Content-Length: 1073741824\r\n\r\nx".encode())
        socks.append(s)
    return socks


def bench_glimmer(label, binary, args, f, results):
    os.environ["GLIMMER_BIN"] = binary
    root = pathlib.Path(tempfile.mkdtemp(prefix=f"crowd-{label}-", dir=args.work))
    srv = lib.GlimmerServer(root / "data", root / "server.log",
                            extra_env={"GLIMMER_GLIMMER__ACCESS_LOG": "false"}).start()
    try:
        env = srv.admin_env()
        token, body = lib.token_and_body(env)
        url = lib.image_endpoint(body, env)
        api = lib.Api(url, token)
        r = {}
        r["upload_mib_s"], all_speeds = upload(url, token, f, args.repeat, api)
        log(f"  {label}: upload {all_speeds}")
        iid = api.create_image(name="crowd-get", disk_format="raw", container_format="bare")["id"]
        for conns in (4, 64):
            res = wrk(f"{url}/v2/images/{iid}", token, args.wrk_seconds, conns=conns)
            r[f"get_rps_c{conns}"] = res.get("rps", float("nan"))
            r[f"get_p99_c{conns}"] = res.get("p99")
            log(f"  {label}: GET wrk -c{conns}: {r[f'get_rps_c{conns}']:.0f} req/s, "
                f"p99 {res.get('p99')}")
        r["peak_rss_mib"] = status_kib(srv.pid, "VmHWM") / 1024
        socks = idle_connections(srv.port, 1000)
        time.sleep(1)
        r["rss_1000_idle_mib"] = status_kib(srv.pid, "VmRSS") / 1024
        res = wrk(f"{url}/v2/images/{iid}", token, args.wrk_seconds, conns=64)
        r["get_rps_c64_1000_idle"] = res.get("rps", float("nan"))
        r["peak_rss_with_idle_mib"] = status_kib(srv.pid, "VmHWM") / 1024
        for s in socks:
            s.close()
        # A crowd of slow clients: 200 requests whose bodies trickle (one byte, then nothing),
        # while a well-behaved client GETs an image record (wrk's 2 s timeout counts as an error).
        upload_ids = [api.create_image(name=f"trickle-{i}", disk_format="raw",
                                       container_format="bare")["id"] for i in range(100)]
        socks = []
        for i, uid in enumerate(upload_ids):
            socks += tricklers(srv.port, token, uid, 2)
        time.sleep(1)
        res = wrk(f"{url}/v2/images/{iid}", token, args.wrk_seconds, conns=4)
        r["get_rps_c4_200_trickling"] = res.get("rps", float("nan"))
        r["get_p99_c4_200_trickling"] = res.get("p99")
        r["get_done_200_trickling"] = res.get("requests", 0)  # 0: every GET stalled
        log(f"  {label}: GET with 200 trickling bodies: {res.get('rps')} req/s, "
            f"p99 {res.get('p99')}, {res.get('requests', 0)} requests answered")
        for s in socks:
            s.close()
        results[label] = r
        log(f"  {label}: {r}")
    finally:
        srv.stop()


def bench_ceiling(args, f, results):
    ceiling = HERE.parent / "build" / "ceiling_receiver"
    if not ceiling.exists():
        subprocess.run(["cmake", "--build", str(HERE.parent / "build"), "--target",
                        "ceiling_receiver"], check=True)
    port = lib.free_port()
    out = pathlib.Path(args.work) / "ceiling.out"
    proc = subprocess.Popen([str(ceiling), str(port), str(out)])
    time.sleep(0.5)
    try:
        speed, all_speeds = upload(f"http://127.0.0.1:{port}/", "x", f, args.repeat)
        results["ceiling"] = {"upload_mib_s": speed}
        log(f"  ceiling: upload {all_speeds}")
    finally:
        proc.kill()
        proc.wait()
        out.unlink(missing_ok=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ref-bin", help="reference Glimmer binary (e.g. the previous release)")
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--wrk-seconds", type=int, default=10)
    ap.add_argument("--work", default="/tmp/glimmer-bench")
    args = ap.parse_args()
    pathlib.Path(args.work).mkdir(parents=True, exist_ok=True)
    ensure_wrk()
    f = random_file(args.size_mb)
    results = {}
    log(f"load average: {open('/proc/loadavg').read().split()[:3]}")
    bench_ceiling(args, f, results)
    bench_glimmer("glimmer", os.environ.get("GLIMMER_BIN", str(HERE.parent / "build" / "glimmer")),
                  args, f, results)
    if args.ref_bin:
        bench_glimmer("reference", args.ref_bin, args, f, results)
    keys = []
    for r in results.values():
        keys += [k for k in r if k not in keys]
    labels = list(results)
    log("\n" + f"{'metric':26}" + "".join(f"{l:>14}" for l in labels))
    for k in keys:
        row = f"{k:26}"
        for l in labels:
            v = results[l].get(k)
            row += f"{v:>14.1f}" if isinstance(v, float) else f"{str(v or '-'):>14}"
        log(row)
    g = results["glimmer"]
    log(f"\nupload / ceiling: {g['upload_mib_s'] / results['ceiling']['upload_mib_s']:.2f}")


if __name__ == "__main__":
    main()
