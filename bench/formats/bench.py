#!/usr/bin/env python3
"""glimmer-img convert vs qemu-img convert, same machine, same run.

Builds a raw disk of --size bytes (default 2 GiB), half allocated with real-world data (bytes of
the system's own libraries and binaries, in 2 MiB extents every other 2 MiB) and half holes,
converts it with qemu-img into each input format, then times `X -> raw` for both tools
(page cache warm, median of --runs), checks that both outputs are byte-identical, and prints a
table with MB/s of virtual size, the time ratio and peak RSS of each tool.
"""
import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import time

FORMATS = [
    ("qcow2-zlib", "qcow2", ["-O", "qcow2", "-c"]),
    ("qcow2", "qcow2", ["-O", "qcow2"]),
    ("vmdk-stream", "vmdk", ["-O", "vmdk", "-o", "subformat=streamOptimized"]),
    ("vhdx", "vhdx", ["-O", "vhdx"]),
]
EXTRA = [
    ("qcow2-zstd", "qcow2", ["-O", "qcow2", "-c", "-o", "compression_type=zstd"]),
    ("qcow2-v2-zlib", "qcow2", ["-O", "qcow2", "-c", "-o", "compat=0.10"]),
    ("vmdk-sparse", "vmdk", ["-O", "vmdk"]),
    ("vhd", "vpc", ["-O", "vpc"]),
    ("vdi", "vdi", ["-O", "vdi"]),
]


def make_base(path, size):
    extent = 2 << 20
    files = [f for pat in ("/usr/lib/x86_64-linux-gnu/*.so*", "/usr/bin/*", "/usr/lib/gcc/x86_64-linux-gnu/*/*")
             for f in glob.glob(pat) if os.path.isfile(f) and not os.path.islink(f)]
    files.sort()

    def data():
        while True:
            for f in files:
                try:
                    with open(f, "rb") as fh:
                        while True:
                            b = fh.read(1 << 20)
                            if not b:
                                break
                            yield b
                except OSError:
                    pass

    gen = data()
    buf = b""
    with open(path, "wb") as out:
        out.truncate(size)
        for off in range(0, size, 2 * extent):
            while len(buf) < extent:
                buf += next(gen)
            out.seek(off)
            out.write(buf[:extent])
            buf = buf[extent:]


def run(cmd):
    """Runs cmd; returns (seconds, peak RSS in MiB)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}: {p.stderr.read().decode()}")
    return dt, ru.ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--glimmer-img", default=os.path.join(os.environ.get("GLIMMER_BUILD_DIR", "/work/main/build"), "glimmer-img"))
    # tmpfs by default: the comparison is of CPU work on page-cached data (as in formats.md),
    # not of the disk's write-back speed, which would dominate both tools on a real disk.
    ap.add_argument("--dir", default="/dev/shm/glimmer-formats-bench" if os.path.isdir("/dev/shm") else "/tmp/glimmer-formats-bench")
    ap.add_argument("--size", type=int, default=2 << 30)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--all", action="store_true", help="also zstd, qcow2 v2, vmdk sparse, vhd, vdi")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    base = os.path.join(args.dir, "base.raw")
    if not os.path.exists(base) or os.path.getsize(base) != args.size:
        print(f"building {base} ({args.size >> 20} MiB, half allocated)...", flush=True)
        make_base(base, args.size)
    print(f"{'input':<14} {'qemu-img s':>10} {'glimmer s':>10} {'ratio':>6} {'qemu MB/s':>10} {'glim MB/s':>10} {'qemu RSS':>9} {'glim RSS':>9} same")
    rows = FORMATS + (EXTRA if args.all else [])
    worst = 0.0
    for name, qfmt, opts in rows:
        img = os.path.join(args.dir, f"in-{name}")
        if not os.path.exists(img):
            subprocess.run(["qemu-img", "convert", "-f", "raw"] + opts + [base, img], check=True)
        q_out, g_out = os.path.join(args.dir, "out-qemu.raw"), os.path.join(args.dir, "out-glimmer.raw")
        qt, gt, qr, gr = [], [], 0, 0
        for _ in range(args.runs):
            for p in (q_out, g_out):
                if os.path.exists(p):
                    os.unlink(p)
            t, r = run(["qemu-img", "convert", "-f", qfmt, "-O", "raw", img, q_out])
            qt.append(t); qr = max(qr, r)
            t, r = run([args.glimmer_img, "convert", "-O", "raw", img, g_out])
            gt.append(t); gr = max(gr, r)
        same = subprocess.run(["cmp", "-s", q_out, g_out]).returncode == 0
        q, g = statistics.median(qt), statistics.median(gt)
        mbs = lambda s: args.size / s / 1e6
        print(f"{name:<14} {q:>10.3f} {g:>10.3f} {g / q:>6.2f} {mbs(q):>10.0f} {mbs(g):>10.0f} {qr:>7.0f}Mi {gr:>7.0f}Mi {'yes' if same else 'NO'}", flush=True)
        worst = max(worst, g / q)
        for p in (q_out, g_out):
            os.unlink(p)
    print(f"worst ratio glimmer/qemu: {worst:.2f}")
    if args.all:
        # raw -> qcow2 (plain, zlib -c, zstd -c): the writer side.
        for name, opts in (("raw->qcow2", []), ("raw->qcow2 -c", ["-c"]),
                           ("raw->qcow2 zstd", ["-c", "-o", "compression_type=zstd"])):
            q_out, g_out = os.path.join(args.dir, "w-qemu.qcow2"), os.path.join(args.dir, "w-glimmer.qcow2")
            q, qr = run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2"] + opts + [base, q_out])
            g, gr = run([args.glimmer_img, "convert", "-O", "qcow2"] + opts + [base, g_out])
            same = subprocess.run(["qemu-img", "compare", "-q", "-f", "qcow2", "-F", "qcow2", q_out, g_out]).returncode == 0
            print(f"{name:<14} {q:>10.3f} {g:>10.3f} {g / q:>6.2f} {args.size / q / 1e6:>10.0f} {args.size / g / 1e6:>10.0f} {qr:>7.0f}Mi {gr:>7.0f}Mi {'yes' if same else 'NO'}"
                  f"  sizes {os.path.getsize(q_out) >> 20}/{os.path.getsize(g_out) >> 20} MiB", flush=True)
            os.unlink(q_out)
            os.unlink(g_out)


if __name__ == "__main__":
    main()
