#!/usr/bin/python3
"""Distributed-store benchmark: a SIZE MiB image (random data) uploaded to and downloaded from
Glimmer on Ceph RBD and on S3 (RADOS Gateway), next to the engines' own clients on the same
cluster and file, so that the ratio shows Glimmer's overhead:

  RBD   Glimmer upload (curl -T, PUT /file) / download (curl GET /file)
        rbd import / rbd export of the same file (the rbd CLI, 8 MiB objects)
  S3    Glimmer upload / download with the same part size and parallelism as boto3
        boto3 upload_file / download_file (Debian python3-boto3)

Glimmer runs with PostgreSQL metadata (one node). Needs the services of
scripts/services/services.sh (their env.sh sourced). Medians of REPEAT runs, MiB/s.

    source "$(scripts/services/services.sh start)"
    bench/distributed_bench.py [--size-mb 1024] [--repeat 3]
"""
import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "integration"))
import glimmer_testlib as lib  # noqa: E402

PART_MIB = 16
THREADS = 4


def curl(*args):
    p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", *args],
                       capture_output=True, text=True)
    return p.stdout.strip()


def timed(fn):
    t0 = time.monotonic()
    fn()
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    mib = args.size_mb
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="glimmer-dist-bench-"))
    src = tmp / "image.raw"
    with open(src, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(1 << 20))
    out = tmp / "out.raw"
    conf_file = os.environ["CEPH_CONF"]
    pool = os.environ.get("CEPH_RBD_POOL", "rbd")
    bucket = "glimmer-bench-" + uuid.uuid4().hex[:8]
    conf = tmp / "glimmer.conf"
    conf.write_text(f"""
[DEFAULT]
enabled_backends = ceph:rbd, objects:s3
[glance_store]
default_backend = ceph
[ceph]
rbd_store_pool = {pool}
rbd_store_ceph_conf = {conf_file}
[objects]
s3_store_host = {os.environ["S3_ENDPOINT"]}
s3_store_access_key = {os.environ["AWS_ACCESS_KEY_ID"]}
s3_store_secret_key = {os.environ["AWS_SECRET_ACCESS_KEY"]}
s3_store_bucket = {bucket}
s3_store_create_bucket_on_put = true
s3_store_large_object_chunk_size = {PART_MIB}
s3_store_thread_pools = {THREADS}
[database]
connection = {lib.pg_database_for(tmp / "db")}
""")
    srv = lib.GlimmerServer(tmp / "data", tmp / "server.log", extra_args=["--config", str(conf)])
    srv.start()

    import boto3  # noqa: PLC0415
    from boto3.s3.transfer import TransferConfig  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415
    s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"], region_name="default",
                      aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
                      config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"))
    tc = TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=PART_MIB << 20,
                        max_concurrency=THREADS)
    rbd = ["timeout", "600", "rbd", "-c", conf_file, "-p", pool, "--no-progress"]
    results = {k: [] for k in ("glimmer rbd up", "glimmer rbd down", "rbd import", "rbd export",
                               "glimmer s3 up", "glimmer s3 down", "boto3 up", "boto3 down")}
    try:
        token, _ = lib.token_and_body(srv.admin_env())
        api = lib.Api(srv.base_url, token)
        hdr = ["-H", f"X-Auth-Token: {token}"]
        for _ in range(args.repeat):
            for store, label in (("ceph", "rbd"), ("objects", "s3")):
                iid = api.create_image(name="b", disk_format="raw", container_format="bare")["id"]
                d = timed(lambda: curl("-T", str(src), *hdr, "-H", f"X-Image-Meta-Store: {store}",
                                       "-H", "Content-Type: application/octet-stream",
                                       f"{srv.base_url}/v2/images/{iid}/file") == "204" or
                          sys.exit("upload failed"))
                results[f"glimmer {label} up"].append(mib / d)
                d = timed(lambda: curl(*hdr, "-o", str(out),
                                       f"{srv.base_url}/v2/images/{iid}/file") == "200" or
                          sys.exit("download failed"))
                results[f"glimmer {label} down"].append(mib / d)
                api.delete_image(iid)
            out.unlink(missing_ok=True)
            name = "bench-" + uuid.uuid4().hex[:8]
            results["rbd import"].append(mib / timed(lambda: subprocess.run(
                [*rbd, "import", "--object-size", "8M", str(src), name], check=True)))
            results["rbd export"].append(mib / timed(lambda: subprocess.run(
                [*rbd, "export", name, str(out)], check=True)))
            out.unlink()
            subprocess.run([*rbd, "rm", name], check=True, capture_output=True)
            results["boto3 up"].append(mib / timed(
                lambda: s3.upload_file(str(src), bucket, "boto", Config=tc)))
            results["boto3 down"].append(mib / timed(
                lambda: s3.download_file(bucket, "boto", str(out), Config=tc)))
            s3.delete_object(Bucket=bucket, Key="boto")
        print(f"\n{mib} MiB image, {args.repeat} runs, MiB/s (S3: {PART_MIB} MiB parts, "
              f"{THREADS} in flight):\n")
        print("| operation | median MiB/s | runs |")
        print("|---|---|---|")
        for k, v in results.items():
            print(f"| {k} | {statistics.median(v):.0f} | {', '.join(f'{x:.0f}' for x in v)} |")
    finally:
        srv.stop()
        try:
            s3.delete_bucket(Bucket=bucket)
        except Exception:  # noqa: BLE001 (objects of a failed run may remain)
            pass
        subprocess.run(["rm", "-rf", str(tmp)])


if __name__ == "__main__":
    main()
