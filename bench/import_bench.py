#!/usr/bin/python3
"""Import benchmark: a SIZE MiB image (random data) through
  - a plain upload            PUT /v2/images/{id}/file                 (curl -T)
  - glance-direct             PUT /v2/images/{id}/stage + POST /import (until active)
  - web-download              POST /import from a local HTTP server    (until active)
each repeated REPEAT times on a fresh image; MiB/s of the whole operation, medians.

The source server answers with socket.sendfile (it is not the bottleneck). Glimmer is started
here with fsync on (its default) and web-download allowed to reach 127.0.0.1 on the source port.

    bench/import_bench.py [--size-mb 1024] [--repeat 3]
"""
import argparse
import http.server
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "integration"))
import glimmer_testlib as lib  # noqa: E402


class SendfileHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    path_on_disk = None

    def log_message(self, *a):
        pass

    def do_GET(self):
        size = os.path.getsize(self.path_on_disk)
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        with open(self.path_on_disk, "rb") as f:
            self.connection.sendfile(f)


def curl(*args):
    p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", *args],
                       capture_output=True, text=True)
    return p.stdout.strip()


def wait_active(api, image_id, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = api.image(image_id)["status"]
        if st == "active":
            return
        if st == "queued":
            raise RuntimeError(f"import failed: {api.get(f'/v2/images/{image_id}/tasks').text}")
        time.sleep(0.02)
    raise RuntimeError("import did not finish")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="glimmer-import-bench-"))
    src = tmp / "image.raw"
    with open(src, "wb") as f:
        for _ in range(args.size_mb):
            f.write(os.urandom(1 << 20))
    SendfileHandler.path_on_disk = str(src)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SendfileHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port = httpd.server_address[1]
    conf = tmp / "glimmer.conf"
    conf.write_text(f"[import_filtering_opts]\nallowed_ports = 80,443,{port}\n"
                    f"allowed_cidrs = 127.0.0.1/32\n")
    srv = lib.GlimmerServer(tmp / "data", tmp / "server.log", extra_args=["--config", str(conf)])
    srv.start()
    try:
        token, body = lib.token_and_body(srv.admin_env())
        api = lib.Api(srv.base_url, token)
        results = {"upload": [], "glance-direct": [], "web-download": []}
        mib = args.size_mb
        for _ in range(args.repeat):
            iid = api.create_image(name="up", disk_format="raw", container_format="bare")["id"]
            t0 = time.monotonic()
            code = curl("-T", str(src), "-H", f"X-Auth-Token: {token}", "-H",
                        "Content-Type: application/octet-stream",
                        f"{srv.base_url}/v2/images/{iid}/file")
            assert code == "204", code
            results["upload"].append(mib / (time.monotonic() - t0))
            api.delete_image(iid)

            iid = api.create_image(name="gd", disk_format="raw", container_format="bare")["id"]
            t0 = time.monotonic()
            code = curl("-T", str(src), "-H", f"X-Auth-Token: {token}", "-H",
                        "Content-Type: application/octet-stream",
                        f"{srv.base_url}/v2/images/{iid}/stage")
            assert code == "204", code
            r = api.post(f"/v2/images/{iid}/import", json={"method": {"name": "glance-direct"}})
            assert r.status_code == 202, r.text
            wait_active(api, iid)
            results["glance-direct"].append(mib / (time.monotonic() - t0))
            api.delete_image(iid)

            iid = api.create_image(name="wd", disk_format="raw", container_format="bare")["id"]
            t0 = time.monotonic()
            r = api.post(f"/v2/images/{iid}/import",
                         json={"method": {"name": "web-download",
                                          "uri": f"http://127.0.0.1:{port}/image.raw"}})
            assert r.status_code == 202, r.text
            wait_active(api, iid)
            results["web-download"].append(mib / (time.monotonic() - t0))
            api.delete_image(iid)
        print(f"\n{args.size_mb} MiB image, {args.repeat} runs, MiB/s of the whole operation "
              f"(fsync on):\n")
        print("| path | median MiB/s | runs |")
        print("|---|---|---|")
        for k, v in results.items():
            print(f"| {k} | {statistics.median(v):.0f} | {', '.join(f'{x:.0f}' for x in v)} |")
    finally:
        srv.stop()
        httpd.shutdown()
        subprocess.run(["rm", "-rf", str(tmp)])


if __name__ == "__main__":
    main()
